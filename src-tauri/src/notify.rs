//! Local notifications: a new announcement of the ward, a ward decision
//! on one of the leader's tips. The engine decides what to raise, each
//! once ([`sotay_device::Store::take_notices`]); this module raises them
//! after each sync, through the official notification plugin (desktop
//! now, the same call on Android). Tests give another [`Notifier`]: the
//! OS is the one part that does not run there.

use sotay_device::store::LocalNotice;

/// Where notices go: the OS, through the plugin, or a test's record.
pub trait Notifier: Send + Sync + 'static {
    fn raise(&self, notice: &LocalNotice);
}

/// The OS's notifications, through `tauri-plugin-notification`.
pub struct PluginNotifier<R: tauri::Runtime>(pub tauri::AppHandle<R>);

impl<R: tauri::Runtime> Notifier for PluginNotifier<R> {
    fn raise(&self, notice: &LocalNotice) {
        use tauri_plugin_notification::NotificationExt;
        let shown = self
            .0
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show();
        if let Err(e) = shown {
            // The notice is still on the home screen.
            tracing::warn!("notification not shown: {e}");
        }
    }
}
