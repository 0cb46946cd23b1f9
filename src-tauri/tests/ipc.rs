//! The commands through Tauri's real IPC, headless (`tauri::test`'s mock
//! runtime, origin `tauri://localhost`) on a real store file: results
//! arrive as the generated types say, errors as `{code, message, fields}`.

use serde_json::{Value, json};
use sotay_app::AppState;
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

fn app(dir: &std::path::Path) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    let state = AppState::open(dir).expect("store");
    let app = sotay_app::build(mock_builder())
        .manage(state)
        .build(mock_context(noop_assets()))
        .expect("app");
    tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window")
}

fn invoke(
    w: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("json"))
}

#[test]
fn commands_answer_and_errors_cross_as_code_and_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let w = app(dir.path());

    let home = invoke(&w, "home", json!({})).expect("home");
    assert_eq!(home["sync"]["enrolled"], false);
    assert_eq!(home["place"], Value::Null);

    // Not enrolled: a report cannot be saved, and the UI learns why by code.
    let tip = json!({"kind": "tip", "body": {
        "category": "drugs", "description": "Nghi vấn mua bán ma túy",
        "location": {"not_remembered": true}, "urgency": "normal", "source": {"kind": "observed"}}});
    let err = invoke(
        &w,
        "save_report",
        json!({"id": null, "body": tip, "send": true}),
    )
    .expect_err("no group yet");
    assert_eq!(err["code"], "not-initialized", "{err}");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("đăng ký")),
        "{err}"
    );

    // A household with a blank address is refused field by field.
    let err = invoke(&w, "add_household", json!({"input": {
        "address": " ", "head": "An", "residents": 3, "has_business": false, "rents_rooms": false}}))
    .expect_err("blank address");
    assert_eq!(err["code"], "invalid-input");
    assert_eq!(err["fields"][0]["field"], "address", "{err}");

    // A bad enrollment link is a bad address, said in Vietnamese.
    let err = invoke(
        &w,
        "enroll",
        json!({"server": null, "code": null, "link": "https://x"}),
    )
    .expect_err("not a sotay link");
    assert_eq!(err["code"], "bad-address");

    // Settings round-trip and switch the language of errors.
    let saved = invoke(
        &w,
        "save_settings",
        json!({"settings": {"lang": "en", "wifi_only": true}}),
    )
    .expect("settings");
    assert_eq!(saved["lang"], "en");
    let err = invoke(
        &w,
        "send_report",
        json!({"id": "0191e9c4-3b1a-7000-8000-000000000000"}),
    )
    .expect_err("no such report");
    assert_eq!(err["code"], "not-found");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no report")),
        "{err}"
    );
    assert_eq!(invoke(&w, "sync_now", json!({})).expect("sync_now"), false);
}

/// The Wi-Fi-only setting through the real IPC against a real server: the
/// network type the window reports (as an Android WebView does) holds the
/// background loop back on mobile data, the one-off "send over mobile
/// data" goes through, and Wi-Fi lets it run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_network_drives_the_wifi_only_setting() {
    use sotay_server::testing::{Backend, TestServer};
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let code = server.enroll_code("k01-t02").await.expect("code");
    let dir = tempfile::tempdir().expect("tmp");
    let w = app(dir.path());
    let call = |cmd: &str, args: Value| tokio::task::block_in_place(|| invoke(&w, cmd, args));
    let state = |w: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let s = call("sync_state", json!({})).expect("sync_state");
            if s["state"] == w {
                return s;
            }
            assert!(std::time::Instant::now() < deadline, "never {w}: {s}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let on_server = || async {
        server
            .store()
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .expect("export")
            .len()
    };

    call("report_network", json!({"kind": "cellular"})).expect("reported");
    call(
        "save_settings",
        json!({"settings": {"lang": "vi", "wifi_only": true}}),
    )
    .expect("settings");
    call(
        "enroll",
        json!({"server": server.url(), "code": code, "link": null}),
    )
    .expect("enrolled");
    let s = state("waiting-for-wifi");
    assert_eq!(s["network"], "cellular");

    let tip = json!({"kind": "tip", "body": {
        "category": "theft", "description": "Mất trộm xe máy trước cổng chợ",
        "location": {"not_remembered": true}, "urgency": "normal", "source": {"kind": "observed"}}});
    call(
        "save_report",
        json!({"id": null, "body": tip, "send": true}),
    )
    .expect("queued");
    assert_eq!(call("sync_now", json!({})).expect("asked"), true);
    state("waiting-for-wifi");
    assert_eq!(on_server().await, 0, "nothing over mobile data");

    call("sync_now_any_network", json!({})).expect("once");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while on_server().await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the one-off send never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // On Wi-Fi the loop runs by itself.
    call("report_network", json!({"kind": "wifi"})).expect("reported");
    let s = state("idle");
    assert_eq!(s["network"], "wifi");

    // A kind the engine does not know is refused (by Tauri's argument
    // check), not guessed.
    let err = call("report_network", json!({"kind": "5g"})).expect_err("unknown kind");
    assert!(err.to_string().contains("5g"), "{err}");
}

/// The PIN through the real IPC: a trivial one is refused; once set, the
/// app opened again is locked and no data command answers; a wrong PIN
/// sets a wait; the right one unlocks; five minutes in the background lock
/// it again; "forgot the PIN" erases the data and unlocks.
#[test]
fn the_pin_locks_the_commands_until_it_is_given() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let w = app(dir.path());
        let status = invoke(&w, "lock_status", json!({})).expect("status");
        assert_eq!(
            (status["pin_set"].clone(), status["locked"].clone()),
            (json!(false), json!(false))
        );
        let err = invoke(&w, "set_pin", json!({"pin": "111111"})).expect_err("trivial");
        assert_eq!(err["code"], "invalid-input");
        assert_eq!(err["fields"][0]["code"], "too-simple", "{err}");
        invoke(&w, "set_pin", json!({"pin": "482915"})).expect("set");
        invoke(&w, "home", json!({})).expect("still open in this run");
    }
    let state = AppState::open(dir.path()).expect("store");
    let w = {
        let app = sotay_app::build(mock_builder())
            .manage(state)
            .build(mock_context(noop_assets()))
            .expect("app");
        tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window")
    };
    let status = invoke(&w, "lock_status", json!({})).expect("status");
    assert_eq!(status["locked"], true);
    for cmd in ["home", "households", "list_reports"] {
        let args = match cmd {
            "households" => json!({"query": null}),
            "list_reports" => json!({"filter": {}}),
            _ => json!({}),
        };
        let err = invoke(&w, cmd, args).expect_err("locked");
        assert_eq!(err["code"], "app-locked", "{cmd}: {err}");
    }
    let r = invoke(&w, "unlock", json!({"pin": "000001"})).expect("answer");
    assert_eq!(r["outcome"], "wrong");
    assert_eq!(r["wait_seconds"], 2);
    let r = invoke(&w, "unlock", json!({"pin": "482915"})).expect("answer");
    assert_eq!(r["outcome"], "wait", "too early, not even checked: {r}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = invoke(&w, "unlock", json!({"pin": "482915"})).expect("answer");
    assert_eq!(r["outcome"], "unlocked");
    invoke(&w, "home", json!({})).expect("open");

    // Away five minutes: locked again when the window comes back.
    let state = w.state::<AppState>();
    state.hidden_since(std::time::Duration::from_secs(4 * 60));
    assert_eq!(
        invoke(&w, "app_visible", json!({})).expect("visible"),
        json!(false)
    );
    state.hidden_since(std::time::Duration::from_secs(5 * 60 + 1));
    assert_eq!(
        invoke(&w, "app_visible", json!({})).expect("visible"),
        json!(true)
    );
    assert_eq!(
        invoke(&w, "home", json!({})).expect_err("locked")["code"],
        "app-locked"
    );

    // Forgot the PIN: the warning's number, then everything erased.
    let status = invoke(&w, "lock_status", json!({})).expect("status");
    assert_eq!(status["unsent"], 0);
    let status = invoke(&w, "erase_device", json!({})).expect("erase");
    assert_eq!(
        (status["pin_set"].clone(), status["locked"].clone()),
        (json!(false), json!(false))
    );
    let home = invoke(&w, "home", json!({})).expect("open, empty");
    assert_eq!(home["sync"]["enrolled"], false);
}

/// What the app raised, in place of the OS (the one part that does not
/// run here): the notifier the plugin stands behind in the real app.
#[derive(Default)]
struct Raised(std::sync::Mutex<Vec<sotay_device::store::LocalNotice>>);

impl sotay_app::notify::Notifier for Raised {
    fn raise(&self, notice: &sotay_device::store::LocalNotice) {
        self.0.lock().expect("raised").push(notice.clone());
    }
}

/// A sync that brings an urgent announcement raises one notification with
/// its title and text; the next sync raises nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_brings_an_announcement_raises_a_notification() {
    use sotay_server::announcements::{Audience, NewAnnouncement, announce};
    use sotay_server::testing::{Backend, TestServer};
    use tauri::Manager;
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let code = server.enroll_code("k01-t02").await.expect("code");
    let dir = tempfile::tempdir().expect("tmp");
    let w = app(dir.path());
    let raised = std::sync::Arc::new(Raised::default());
    w.state::<sotay_app::AppState>()
        .set_notifier(raised.clone());
    let call = |cmd: &str, args: Value| tokio::task::block_in_place(|| invoke(&w, cmd, args));
    call(
        "enroll",
        json!({"server": server.url(), "code": code, "link": null}),
    )
    .expect("enrolled");
    let ward = sotay_server::places::resolve_ward(server.store(), None)
        .await
        .expect("ward");
    let to = [Audience::Group("k01-t02".into())];
    announce(
        server.store(),
        &ward,
        NewAnnouncement {
            title: "Truy tìm đối tượng",
            text: "Báo ngay nếu thấy xe Wave đỏ.",
            urgent: true,
            to: &to,
            photo: None,
        },
        sotay_server::admin::command_audit("announce", "", ""),
    )
    .await
    .expect("announced");
    call("sync_now_any_network", json!({})).expect("sync");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if !raised.0.lock().expect("raised").is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no notification raised"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = raised.0.lock().expect("raised").clone();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].urgent);
    assert_eq!(first[0].title, "Truy tìm đối tượng");
    // The text stays in the app: a lock screen is read by whoever holds it.
    assert!(!first[0].body.contains("Wave"), "{first:?}");
    // The home screen has it too.
    let home = call("home", json!({})).expect("home");
    assert_eq!(home["announcements"][0]["title"], "Truy tìm đối tượng");
    // Another sync: nothing new to raise.
    call("sync_now_any_network", json!({})).expect("sync");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(raised.0.lock().expect("raised").len(), 1, "raised once");
}
