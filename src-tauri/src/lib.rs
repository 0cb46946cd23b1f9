//! `sotay`: the app shell (Tauri 2) over the device engine.
//!
//! The shell owns the window, the app-data folder, the background sync loop
//! and the bridge to the UI; nothing else. Every command is a one-line
//! adapter over `sotay-device` (`commands.rs`), errors cross as
//! `{code, message, fields}` (`error.rs`), and the TypeScript types of
//! every command and event are generated from the Rust ones
//! (`bindings.rs`, committed under `ui/src/generated/`).
//!
//! Invariants:
//! - No logic here that the engine could hold: the engine is tested without
//!   a window; the shell only adapts.
//! - The window may call only the commands its capability names, under a
//!   strict CSP, and loads no remote content.
//! - The store's mutex is never held across an `await`.

// The one list of commands (before the modules that expand it).
include!("command_list.rs");

pub mod bindings;
mod commands;
pub mod error;
pub mod notify;
mod state;

pub use error::AppError;
pub use state::AppState;

use std::path::PathBuf;
use tauri::Manager;

/// The event name the sync loop's [`sotay_device::sync::SyncEvent`]s arrive on.
pub const SYNC_EVENT: &str = "sync";

/// The data folder: `SOTAY_DATA_DIR` when set (tests, `scripts/run.sh`),
/// else the platform's app-data folder.
fn data_dir(app: &tauri::App) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SOTAY_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    Ok(app.path().app_data_dir()?)
}

macro_rules! handler {
    (; $($name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty;)*) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}

/// Builds the app on `builder` (the real one, or a mock in tests).
pub fn build<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(with_commands!(handler))
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let result = build(tauri::Builder::default())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let dir = data_dir(app)?;
            // The sync loop starts once the window has painted (`painted`).
            let state = AppState::open(&dir)?;
            state.set_notifier(std::sync::Arc::new(notify::PluginNotifier(
                app.handle().clone(),
            )));
            app.manage(state);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("sotay: {e}");
        std::process::exit(1);
    }
}
