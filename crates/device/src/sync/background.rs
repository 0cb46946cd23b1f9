//! The background sync loop the app runs: a sync on start, when the server
//! becomes reachable again, every few minutes, and on demand ("Đồng bộ
//! ngay"). Progress and outcomes are broadcast as events.

use super::{Progress, SyncClient, SyncReport};
use crate::store::Store;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, watch};

/// What the loop tells its listeners.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SyncEvent {
    Started,
    Progress(Progress),
    Finished(SyncReport),
    Failed { code: String, message: String },
}

/// Where the loop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum LoopState {
    /// Waiting for the next sync.
    Idle,
    Syncing,
    /// The server was unreachable; probing until it answers.
    Offline,
    Stopped,
}

/// A running loop. Dropping it does not stop it; call [`SyncLoop::stop`].
pub struct SyncLoop {
    trigger: Arc<Notify>,
    stop: watch::Sender<bool>,
    state: watch::Receiver<LoopState>,
    events: broadcast::Sender<SyncEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncLoop {
    /// Starts the loop on the current tokio runtime: it syncs at once, then
    /// every `every`; while the server is unreachable it checks every
    /// `probe_every` and syncs as soon as it answers.
    pub fn start(
        store: Arc<Mutex<Store>>,
        client: SyncClient,
        every: Duration,
        probe_every: Duration,
    ) -> Self {
        let trigger = Arc::new(Notify::new());
        let (stop, mut stop_rx) = watch::channel(false);
        let (state_tx, state) = watch::channel(LoopState::Idle);
        let (events, _) = broadcast::channel(256);
        let task = {
            let trigger = trigger.clone();
            let events = events.clone();
            tokio::spawn(async move {
                let mut wait = Duration::ZERO;
                let mut offline = false;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = trigger.notified() => { offline = false; }
                        _ = stop_rx.changed() => break,
                    }
                    if offline {
                        let url = match super::lock(&store).and_then(|s| Ok(s.enrollment()?)) {
                            Ok(Some(e)) => e.server_url,
                            _ => String::new(),
                        };
                        if !client.reachable(&url).await {
                            wait = probe_every;
                            continue;
                        }
                    }
                    let _ = state_tx.send(LoopState::Syncing);
                    let _ = events.send(SyncEvent::Started);
                    let ev = events.clone();
                    let mut on_progress = move |p: Progress| {
                        let _ = ev.send(SyncEvent::Progress(p));
                    };
                    match client.sync(&store, &mut on_progress).await {
                        Ok(report) => {
                            offline = false;
                            wait = every;
                            // State first: a listener woken by the event sees it.
                            let _ = state_tx.send(LoopState::Idle);
                            let _ = events.send(SyncEvent::Finished(report));
                        }
                        Err(e) => {
                            offline = e.is_transient();
                            wait = if offline { probe_every } else { every };
                            let _ = state_tx.send(if offline {
                                LoopState::Offline
                            } else {
                                LoopState::Idle
                            });
                            let _ = events.send(SyncEvent::Failed {
                                code: e.code(),
                                message: e.to_string(),
                            });
                        }
                    }
                }
                let _ = state_tx.send(LoopState::Stopped);
            })
        };
        Self {
            trigger,
            stop,
            state,
            events,
            task,
        }
    }

    /// Asks for a sync now ("Đồng bộ ngay").
    pub fn sync_now(&self) {
        self.trigger.notify_one();
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    pub fn state(&self) -> LoopState {
        *self.state.borrow()
    }

    /// Stops the loop after the sync in progress, if any, ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
