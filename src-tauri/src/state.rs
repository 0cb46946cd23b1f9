//! What the app keeps while it runs: the store, the sync client, the
//! background sync loop and the display language.

use crate::error::AppError;
use sotay_device::Store;
use sotay_device::sync::{
    LoopStatus, NetworkKind, NetworkMonitor, ReportedOr, SharedNetwork, SyncClient, SyncConfig,
    SyncEvent, SyncLoop,
};
use sotay_domain::labels::Lang;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::Emitter;

/// How often the loop syncs while all is well.
const SYNC_EVERY: Duration = Duration::from_secs(5 * 60);
/// How often it checks an unreachable server.
const PROBE_EVERY: Duration = Duration::from_secs(15);

pub struct AppState {
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) client: SyncClient,
    sync: Arc<Mutex<Option<SyncLoop>>>,
    lang: Mutex<Lang>,
    /// The network type the UI reports (an Android WebView knows it); the
    /// loop prefers it to the platform's own source.
    reported_network: SharedNetwork,
    /// Locked: no command reaches the store until the PIN is given. Set at
    /// start when a PIN exists, and after the app stayed in the background
    /// for [`sotay_device::store::LOCK_AFTER_BACKGROUND`].
    locked: AtomicBool,
    /// When the window went to the background, if it is there.
    hidden_at: Mutex<Option<Instant>>,
    /// Where the notices of each sync go (none until the app sets one).
    notifier: Mutex<Option<Arc<dyn crate::notify::Notifier>>>,
}

impl AppState {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let store = Store::open_dir(dir)?;
        let lang = store.settings()?.lang;
        let locked = store.pin_status(chrono::Utc::now())?.pin_set;
        Ok(Self {
            store: Arc::new(Mutex::new(store)),
            client: SyncClient::new(SyncConfig::default())?,
            sync: Arc::new(Mutex::new(None)),
            lang: Mutex::new(lang),
            reported_network: SharedNetwork::new(NetworkKind::Unknown),
            locked: AtomicBool::new(locked),
            hidden_at: Mutex::new(None),
            notifier: Mutex::new(None),
        })
    }

    /// Where the local notifications go: the plugin in the app, a record
    /// in tests.
    pub fn set_notifier(&self, n: Arc<dyn crate::notify::Notifier>) {
        if let Ok(mut slot) = self.notifier.lock() {
            *slot = Some(n);
        }
    }

    /// Raises what the last sync brought (new announcements, new ward
    /// decisions), each once. Nothing while the app is locked: the notices
    /// wait for the next sync after unlocking.
    pub(crate) fn raise_notices(&self) {
        if self.is_locked() {
            return;
        }
        let Some(n) = self.notifier.lock().ok().and_then(|n| n.clone()) else {
            return;
        };
        let lang = self.lang();
        let notices = match self.store.lock() {
            Ok(mut s) => s.take_notices(lang),
            Err(_) => return,
        };
        match notices {
            Ok(list) => list.iter().for_each(|x| n.raise(x)),
            Err(e) => tracing::warn!("notices: {e}"),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang.lock().map(|l| *l).unwrap_or_default()
    }

    pub(crate) fn set_lang(&self, lang: Lang) {
        if let Ok(mut l) = self.lang.lock() {
            *l = lang;
        }
    }

    /// Runs `f` on the store, its error localised for the UI. Never held
    /// across an `await`: `f` is synchronous. Refused while the app is
    /// locked (`app-locked`).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> sotay_device::error::Result<T>,
    ) -> Result<T, AppError> {
        if self.is_locked() {
            return Err(AppError::locked(self.lang()));
        }
        self.with_even_locked(f)
    }

    /// [`AppState::with`] for what the lock screen itself needs.
    pub fn with_even_locked<T>(
        &self,
        f: impl FnOnce(&mut Store) -> sotay_device::error::Result<T>,
    ) -> Result<T, AppError> {
        let lang = self.lang();
        let mut store = self.store.lock().map_err(|_| AppError::poisoned(lang))?;
        f(&mut store).map_err(|e| AppError::device(&e, lang))
    }

    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Acquire)
    }

    pub(crate) fn set_locked(&self, locked: bool) {
        self.locked.store(locked, Ordering::Release);
    }

    /// The window went to the background.
    pub fn hidden(&self) {
        if let Ok(mut h) = self.hidden_at.lock() {
            h.get_or_insert_with(Instant::now);
        }
    }

    /// The window came back: locked if it stayed away long enough and a
    /// PIN is set. Returns whether the app is locked now.
    pub fn visible(&self) -> bool {
        let away = self
            .hidden_at
            .lock()
            .ok()
            .and_then(|mut h| h.take())
            .map(|at| at.elapsed());
        if away.is_some_and(|d| d >= sotay_device::store::LOCK_AFTER_BACKGROUND)
            && self
                .with_even_locked(|s| s.pin_status(chrono::Utc::now()))
                .is_ok_and(|p| p.pin_set)
        {
            self.set_locked(true);
        }
        self.is_locked()
    }

    /// Pretends the window left `ago`: how tests reach the five minutes.
    #[doc(hidden)]
    pub fn hidden_since(&self, ago: Duration) {
        if let Ok(mut h) = self.hidden_at.lock() {
            *h = Instant::now().checked_sub(ago);
        }
    }

    /// Starts the background sync loop once the device is enrolled (at
    /// launch, or right after enrolling); its events go to the window as
    /// [`crate::SYNC_EVENT`]. Does nothing if it runs already.
    pub fn start_sync<R: tauri::Runtime>(&self, app: tauri::AppHandle<R>) {
        let enrolled = self
            .store
            .lock()
            .ok()
            .and_then(|s| s.enrollment().ok().flatten())
            .is_some();
        if !enrolled {
            return;
        }
        let (store, client, slot) = (self.store.clone(), self.client.clone(), self.sync.clone());
        let network = Arc::new(ReportedOr {
            reported: self.reported_network.clone(),
            fallback: sotay_device::sync::network::default_monitor(),
        });
        tauri::async_runtime::spawn(async move {
            let mut events = {
                let Ok(mut slot) = slot.lock() else { return };
                if slot.is_some() {
                    return;
                }
                let l = SyncLoop::start(store, client, network, SYNC_EVERY, PROBE_EVERY);
                let events = l.subscribe();
                *slot = Some(l);
                events
            };
            loop {
                match events.recv().await {
                    Ok(ev) => {
                        if matches!(ev, SyncEvent::Finished(_)) {
                            use tauri::Manager;
                            app.state::<AppState>().raise_notices();
                        }
                        if let Err(e) = app.emit(crate::SYNC_EVENT, &ev) {
                            tracing::warn!("sync event not delivered: {e}");
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!("{n} sync events skipped");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }

    /// Runs `f` on the sync loop; `None` when there is none (not enrolled).
    fn on_loop<T>(&self, f: impl FnOnce(&SyncLoop) -> T) -> Option<T> {
        self.sync.lock().ok()?.as_ref().map(f)
    }

    /// "Đồng bộ ngay", following the Wi-Fi-only setting. `false` when
    /// there is no loop (not enrolled).
    pub fn sync_now(&self) -> bool {
        self.on_loop(SyncLoop::sync_now).is_some()
    }

    /// One sync now on any network ("gửi bằng dữ liệu di động lần này").
    pub fn sync_now_any_network(&self) -> bool {
        self.on_loop(SyncLoop::sync_now_any_network).is_some()
    }

    /// The network type as the UI sees it (`unknown` when it cannot tell).
    /// A change asks the loop to look again at once (it syncs if the
    /// policy now allows), rather than at its next recheck.
    pub fn report_network(&self, kind: NetworkKind) {
        if self.reported_network.current() != kind {
            self.reported_network.set(kind);
            self.sync_now();
        }
    }

    /// The loop's state and network; `None` when not enrolled.
    pub fn loop_status(&self) -> Option<LoopStatus> {
        self.on_loop(SyncLoop::status)
    }
}
