//! The commands through Tauri's real IPC, headless (`tauri::test`'s mock
//! runtime, origin `tauri://localhost`) on a real store file: results
//! arrive as the generated types say, errors as `{code, message, fields}`.

use serde_json::{Value, json};
use sotay_app::AppState;
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
