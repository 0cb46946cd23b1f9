//! Slow and greedy clients: how a connection is accepted and how long it
//! may dawdle. Both serve paths (plain and TLS) go through
//! [`configure`]: a cap on connections open at once ([`CapAcceptor`]: past
//! it, a new connection is closed at once), a timeout on the first request
//! and on every request head (a client that opens a socket and never
//! finishes its head is dropped). The same timer bounds an idle
//! keep-alive: hyper times the wait for the next head from the end of the
//! last answer, so a kept-alive connection that sends nothing is closed
//! after `header_read_timeout` and gives its place under the cap back
//! (tested: `an_idle_keep_alive_connection_is_closed`).

use axum_server::accept::Accept;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Applies the limits of `config` to a server (plain or TLS).
pub fn configure<A: axum_server::Address, Acc>(
    mut server: axum_server::Server<A, Acc>,
    config: &crate::Config,
) -> axum_server::Server<A, Acc> {
    server
        .http_builder()
        .http1()
        .header_read_timeout(Some(config.header_read_timeout));
    server.first_request_timeout(config.header_read_timeout)
}

/// Accepts at most `max` connections at once: past it, a new connection
/// is refused (closed at once) instead of waiting with the others.
#[derive(Clone)]
pub struct CapAcceptor<A> {
    inner: A,
    permits: Arc<Semaphore>,
}

impl<A> CapAcceptor<A> {
    pub fn new(inner: A, max: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max)),
        }
    }
}

impl<A, I, S> Accept<I, S> for CapAcceptor<A>
where
    A: Accept<Held<I>, S> + Clone + Send + 'static,
    A::Future: Send,
    I: Send + 'static,
    S: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(A::Stream, A::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let permit = self.permits.clone().try_acquire_owned();
        let inner = self.inner.clone();
        Box::pin(async move {
            let Ok(permit) = permit else {
                tracing::warn!("connection refused: too many open connections");
                return Err(io::Error::other("too many open connections"));
            };
            inner
                .accept(
                    Held {
                        inner: stream,
                        _permit: permit,
                    },
                    service,
                )
                .await
        })
    }
}

/// A connection holding its place under the cap until it closes.
pub struct Held<I> {
    inner: I,
    _permit: OwnedSemaphorePermit,
}

impl<I: AsyncRead + Unpin> AsyncRead for Held<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Held<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
