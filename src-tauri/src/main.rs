//! The `sotay` binary: the app. Everything is in the library (`lib.rs`),
//! shared with the mobile entry point.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    sotay_app::run();
}
