//! A bare Tauri 2 app: one window, one static page, no commands, no
//! engine. The app's start-up benchmark (`tests/bench.rs`) starts it with
//! the same harness as `sotay`, in the same run, so the app's start-up and
//! size are read against what Tauri itself costs on this machine. Build:
//! `cargo build --release -p sotay-app --example hello`.

fn main() {
    if let Err(e) =
        tauri::Builder::default().run(tauri::generate_context!("examples/hello/tauri.conf.json"))
    {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}
