//! Tauri's build step. Every command of the app (declared once, in
//! src/command_list.rs) gets an `allow-<command>` permission; the window
//! gets only those its capability names (capabilities/default.json).

include!("src/command_list.rs");

macro_rules! names {
    (; $($name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty;)*) => {
        &[$(stringify!($name)),*]
    };
}

const COMMANDS: &[&str] = with_commands!(names);

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
