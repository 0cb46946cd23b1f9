//! The background sync loop the app runs: a sync on start, when the server
//! becomes reachable again, every few minutes, and on demand ("Đồng bộ
//! ngay"). Progress and outcomes are broadcast as events.
//!
//! The "only on Wi-Fi" setting is enforced here, not in the shell: before
//! each sync the loop reads the setting from the store and the network kind
//! from its [`NetworkMonitor`], and holds the sync back while
//! [`sync_allowed`] says no.

use super::network::{NetworkKind, NetworkMonitor, sync_allowed};
use super::{Progress, SyncClient, SyncReport};
use crate::store::Store;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
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
    Failed {
        code: super::Code,
        message: String,
    },
    /// A sync is held back by the "only on Wi-Fi" setting: sent on
    /// entering the wait and in answer to [`SyncLoop::sync_now`], not on
    /// every recheck.
    WaitingForNetwork {
        network: NetworkKind,
    },
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
    /// On mobile data with "only on Wi-Fi" set; rechecking every
    /// `probe_every` and syncing as soon as the policy allows.
    WaitingForWifi,
    Stopped,
}

/// Where the loop is and on which network, for a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoopStatus {
    pub state: LoopState,
    pub network: NetworkKind,
}

/// A running loop. Dropping it does not stop it; call [`SyncLoop::stop`].
pub struct SyncLoop {
    trigger: Arc<Notify>,
    /// Set by [`SyncLoop::sync_now_any_network`], taken by the next sync.
    any_network: Arc<AtomicBool>,
    network: Arc<dyn NetworkMonitor>,
    stop: watch::Sender<bool>,
    state: watch::Receiver<LoopState>,
    events: broadcast::Sender<SyncEvent>,
    /// Subscribed before the task started; handed to the first subscriber.
    first: Mutex<Option<broadcast::Receiver<SyncEvent>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncLoop {
    /// Starts the loop on the current tokio runtime: it syncs at once, then
    /// every `every`; while the server is unreachable it checks every
    /// `probe_every` and syncs as soon as it answers. Before each sync it
    /// asks `network` and the store's [`AppSettings::wifi_only`]; while
    /// [`sync_allowed`] says no, it waits ([`LoopState::WaitingForWifi`]),
    /// rechecks every `probe_every` and syncs as soon as it may.
    ///
    /// [`AppSettings::wifi_only`]: crate::AppSettings::wifi_only
    pub fn start(
        store: Arc<Mutex<Store>>,
        client: SyncClient,
        network: Arc<dyn NetworkMonitor>,
        every: Duration,
        probe_every: Duration,
    ) -> Self {
        let trigger = Arc::new(Notify::new());
        let any_network = Arc::new(AtomicBool::new(false));
        let (stop, mut stop_rx) = watch::channel(false);
        let (state_tx, state) = watch::channel(LoopState::Idle);
        let (events, first) = broadcast::channel(256);
        let task = {
            let trigger = trigger.clone();
            let any_network = any_network.clone();
            let network = network.clone();
            let events = events.clone();
            tokio::spawn(async move {
                let mut wait = Duration::ZERO;
                let mut offline = false;
                let mut waiting = false;
                let hold = |network: NetworkKind| {
                    let _ = state_tx.send(LoopState::WaitingForWifi);
                    let _ = events.send(SyncEvent::WaitingForNetwork { network });
                };
                loop {
                    let mut asked = false;
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = trigger.notified() => { offline = false; asked = true; }
                        _ = stop_rx.changed() => break,
                    }
                    // Taken only with the wake-up that carries it, so its
                    // wake-up is not left over for a second round.
                    let forced = asked && any_network.swap(false, Ordering::AcqRel);
                    if !forced && let Some(net) = held_back(&store, network.as_ref()) {
                        // Said on entering the wait and to whoever asked
                        // for a sync, never per recheck.
                        if !waiting || asked {
                            hold(net);
                        }
                        waiting = true;
                        wait = probe_every;
                        continue;
                    }
                    waiting = false;
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
                    let photos = photos_now(&store, network.as_ref());
                    match client
                        .sync_with(&store, &mut on_progress, super::SyncScope { photos })
                        .await
                    {
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
                            // In the leader's language, as every message
                            // that reaches a person.
                            let lang = super::lock(&store)
                                .ok()
                                .and_then(|s| s.settings().ok())
                                .map(|s| s.lang)
                                .unwrap_or_default();
                            let _ = events.send(SyncEvent::Failed {
                                code: e.code(),
                                message: e.message(lang),
                            });
                        }
                    }
                    // One sync past the policy, then back under it.
                    if forced && let Some(net) = held_back(&store, network.as_ref()) {
                        hold(net);
                        waiting = true;
                        wait = probe_every;
                    }
                }
                let _ = state_tx.send(LoopState::Stopped);
            })
        };
        Self {
            trigger,
            any_network,
            network,
            stop,
            state,
            events,
            first: Mutex::new(Some(first)),
            task,
        }
    }

    /// Asks for a sync now ("Đồng bộ ngay"). It still follows the Wi-Fi
    /// policy: on mobile data with `wifi_only` set, the answer is a
    /// [`SyncEvent::WaitingForNetwork`] and no sync.
    pub fn sync_now(&self) {
        self.trigger.notify_one();
    }

    /// Asks for exactly one sync now on whatever network the device is on
    /// ("gửi bằng dữ liệu di động lần này"); afterwards the policy holds
    /// again.
    pub fn sync_now_any_network(&self) {
        self.any_network.store(true, Ordering::Release);
        self.trigger.notify_one();
    }

    /// The network the device is on now, as the loop's monitor sees it.
    pub fn network(&self) -> NetworkKind {
        self.network.current()
    }

    /// Events from now on; the first subscriber gets them from the start,
    /// so it cannot miss what the loop said before it subscribed (the
    /// first sync's start, or the wait for Wi-Fi).
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| self.events.subscribe())
    }

    pub fn state(&self) -> LoopState {
        *self.state.borrow()
    }

    /// The loop's state and the network it sees now.
    pub fn status(&self) -> LoopStatus {
        LoopStatus {
            state: self.state(),
            network: self.network(),
        }
    }

    /// Stops the loop after the sync in progress, if any, ends.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Whether this sync sends photos too, by the leader's setting and the
/// network now.
fn photos_now(store: &Mutex<Store>, network: &dyn NetworkMonitor) -> bool {
    let on_mobile = super::lock(store)
        .ok()
        .and_then(|s| s.settings().ok())
        .is_some_and(|s| s.photos_on_mobile_data);
    super::network::photos_allowed(on_mobile, network.current())
}

/// The network kind holding a sync back now, if the policy does. The store
/// is locked only to read the setting; a setting that cannot be read counts
/// as its default (any network) rather than stopping sync for good.
fn held_back(store: &Mutex<Store>, network: &dyn NetworkMonitor) -> Option<NetworkKind> {
    let wifi_only = super::lock(store)
        .ok()
        .and_then(|s| s.settings().ok())
        .is_some_and(|s| s.wifi_only);
    let net = network.current();
    (!sync_allowed(wifi_only, net)).then_some(net)
}
