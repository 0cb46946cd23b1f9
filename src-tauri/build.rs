//! Tauri's build step. The app's commands are listed here so that Tauri
//! generates an `allow-<command>` permission for each; the window gets only
//! those its capability names (capabilities/default.json).

/// Every command of the app; `src/lib.rs` tests that this list, the
/// handler and the capability agree.
const COMMANDS: &[&str] = &[
    "home",
    "enroll",
    "sync_now",
    "save_report",
    "send_report",
    "report",
    "list_reports",
    "search",
    "households",
    "add_household",
    "update_household",
    "import_households",
    "next_uninspected",
    "checklist",
    "count_progress",
    "settings",
    "save_settings",
];

fn main() {
    println!("cargo:rustc-env=SOTAY_COMMANDS={}", COMMANDS.join(","));
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
