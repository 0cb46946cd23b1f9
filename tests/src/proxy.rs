//! A TCP proxy on loopback that injects faults between device and server:
//! it cuts a connection after a chosen number of bytes, or holds the
//! server's response past the client's timeout (after the server has
//! committed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward faithfully.
    None,
    /// Close both sides once this many bytes (both directions together)
    /// have passed.
    CutAfter(usize),
    /// Forward the request, then hold the response this long before
    /// forwarding it.
    HoldResponse(Duration),
}

pub struct Proxy {
    pub url: String,
    fault: Arc<Mutex<Fault>>,
    /// Bumped by [`Proxy::set`]: open connections close, as when the
    /// network changes under a phone.
    generation: tokio::sync::watch::Sender<u64>,
    upstream: Arc<Mutex<String>>,
    /// Bytes relayed, client→server and server→client: what crossed the wire.
    traffic: Arc<[AtomicU64; 2]>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fault = Arc::new(Mutex::new(Fault::None));
        let upstream = Arc::new(Mutex::new(upstream));
        let traffic: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let (f, u, t) = (fault.clone(), upstream.clone(), traffic.clone());
        let (generation, gen_rx) = tokio::sync::watch::channel(0u64);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = *f.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let upstream = u
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let traffic = t.clone();
                let mut changed = gen_rx.clone();
                changed.mark_unchanged();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        tokio::select! {
                            _ = relay(client, server, fault, traffic) => {}
                            _ = changed.changed() => {}
                        }
                    }
                });
            }
        });
        Self {
            url,
            fault,
            generation,
            upstream,
            traffic,
            task,
        }
    }

    /// Bytes relayed so far: (client→server, server→client).
    pub fn traffic(&self) -> (u64, u64) {
        (
            self.traffic[0].load(Ordering::Relaxed),
            self.traffic[1].load(Ordering::Relaxed),
        )
    }

    /// Points new connections at another server (after a restart).
    pub fn set_upstream(&self, upstream: String) {
        *self
            .upstream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = upstream;
    }

    /// Applies `fault` to new connections and closes the open ones.
    pub fn set(&self, fault: Fault) {
        *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    fault: Fault,
    traffic: Arc<[AtomicU64; 2]>,
) -> std::io::Result<()> {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let budget = Arc::new(Mutex::new(match fault {
        Fault::CutAfter(n) => n,
        _ => usize::MAX,
    }));
    let hold = match fault {
        Fault::HoldResponse(d) => Some(d),
        _ => None,
    };
    let take = |budget: &Arc<Mutex<usize>>, n: usize| -> usize {
        let mut b = budget
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let allowed = n.min(*b);
        *b -= allowed;
        allowed
    };
    let b1 = budget.clone();
    let t1 = traffic.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = cr.read(&mut buf).await?;
            if n == 0 {
                return sw.shutdown().await;
            }
            let allowed = take(&b1, n);
            sw.write_all(&buf[..allowed]).await?;
            t1[0].fetch_add(allowed as u64, Ordering::Relaxed);
            if allowed < n {
                return Ok::<(), std::io::Error>(());
            }
        }
    };
    let b2 = budget.clone();
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut held = false;
        loop {
            let n = sr.read(&mut buf).await?;
            if n == 0 {
                return cw.shutdown().await;
            }
            if let Some(d) = hold
                && !held
            {
                held = true;
                tokio::time::sleep(d).await;
            }
            let allowed = take(&b2, n);
            cw.write_all(&buf[..allowed]).await?;
            traffic[1].fetch_add(allowed as u64, Ordering::Relaxed);
            if allowed < n {
                return Ok::<(), std::io::Error>(());
            }
        }
    };
    // Whichever side ends or is cut first ends the connection.
    tokio::select! {
        r = up => r,
        r = down => r,
    }
}
