//! Wipe on revoke: an admin revokes a lost phone on the real dashboard,
//! seeing how many of its changes had not reached the server; at its next
//! sync the phone erases its store, key and token, and says why. The same
//! through the real `sotay-cli`.

use sotay_device::sync::SyncError;
use sotay_e2e::{Dashboard, Device, client, workspace_binary};
use sotay_server::dashboard::accounts::{NewOfficer, Role, add_officer};
use sotay_server::store::now_micros;
use sotay_server::testing::{Backend, TestServer};

async fn revoked_on_the_dashboard_and_wiped(backend: Backend) {
    let Some(server) = TestServer::start(backend, Default::default())
        .await
        .expect("server")
    else {
        return;
    };
    add_officer(
        server.store(),
        NewOfficer::own("quan-tri", "mật-khẩu-đủ-dài", Role::Admin),
        now_micros(),
        None,
    )
    .await
    .expect("admin");
    let d = Device::enrolled(&server, &server.url(), "k03-t02").await;
    d.tip(1);
    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    // Two more tips, then a sync that only reaches the pull (as a phone
    // losing signal mid-sync would); the ward sees them waiting.
    let (a, b) = (d.tip(2), d.tip(3));
    let token = d
        .store()
        .enrollment()
        .expect("enrollment")
        .expect("enrolled")
        .token;
    let since = d.store().pull_cursor().expect("cursor");
    let res = reqwest::Client::new()
        .get(format!(
            "{}/v1/sync/pull?since={since}&pending=2",
            server.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("pull");
    assert!(res.status().is_success());

    let admin = Dashboard::login(&server.url(), "quan-tri", "mật-khẩu-đủ-dài").await;
    let (_, page) = admin.get("/dashboard/devices").await;
    assert!(
        page.contains("<strong>2</strong>"),
        "the revoke form says 2 unsent: {page}"
    );
    let device_id = d.store().enrollment().expect("e").expect("e").device_id;
    let (status, _) = admin
        .post(&format!("/dashboard/devices/{device_id}/revoke"), &[])
        .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);

    let key_before = std::fs::read(d.dir.path().join("sotay.key")).expect("key");
    let err = client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect_err("revoked");
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    assert_eq!(err.code().as_str(), "device-revoked");
    assert!(err.message(sotay_domain::Lang::Vi).contains("đã được xoá"));
    let s = d.store();
    assert!(
        s.enrollment().expect("enrollment").is_none(),
        "the token is gone"
    );
    assert!(s.place().is_err());
    assert!(
        s.report(a).is_err() && s.report(b).is_err(),
        "the reports are gone"
    );
    assert_eq!(s.list(&Default::default()).expect("list").total, 0);
    assert_ne!(
        std::fs::read(d.dir.path().join("sotay.key")).expect("new key"),
        key_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_on_the_dashboard_and_wiped_sqlite() {
    revoked_on_the_dashboard_and_wiped(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_on_the_dashboard_and_wiped_postgres() {
    revoked_on_the_dashboard_and_wiped(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sotay_cli_sync_says_the_device_was_revoked_and_erased() {
    let Some(server) = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
    else {
        return;
    };
    let data = tempfile::tempdir().expect("data");
    let cli = workspace_binary("sotay-cli");
    let code = server.enroll_code("k01-t01").await.expect("code");
    let run = |args: &[&str]| {
        std::process::Command::new(&cli)
            .arg("--data")
            .arg(data.path())
            .args(args)
            .output()
            .expect("sotay-cli")
    };
    let out = run(&["enroll", "--server", &server.url(), "--code", &code]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "tip",
        "add",
        "--category",
        "theft",
        "--text",
        "Mất trộm xe đạp trước nhà số 9",
        "--no-location",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in server
        .store()
        .devices(&sotay_server::store::Scope::Province)
        .await
        .expect("devices")
    {
        server
            .store()
            .revoke(d.id, now_micros(), None)
            .await
            .expect("revoke");
    }
    let out = run(&["--json", "sync"]);
    assert_eq!(out.status.code(), Some(3));
    let err: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).expect("JSON error");
    assert_eq!(err["error"]["code"], "device-revoked");
    let out = run(&["--json", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list");
    assert_eq!(list, serde_json::json!([]), "nothing is left");
    let out = run(&["--json", "status"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status");
    assert_eq!(status["enrolled"], false);
    assert_eq!(status["key_storage"], "file");
}

/// `sotay-cli erase` says what would be lost and does nothing without
/// `--yes`; with it, everything goes. Where no keystore exists, the first
/// command says (once) that the key is kept in a private file.
#[test]
fn sotay_cli_erases_only_when_told_and_names_where_the_key_is() {
    let data = tempfile::tempdir().expect("data");
    let cli = workspace_binary("sotay-cli");
    let run = |args: &[&str]| {
        std::process::Command::new(&cli)
            .arg("--data")
            .arg(data.path())
            .args(args)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .expect("sotay-cli")
    };
    let out = run(&[
        "init", "--ward", "hht", "--block", "k01", "--group", "k01-t01",
    ]);
    assert!(out.status.success());
    let first = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        first.contains("sotay.key") && first.contains("khoá"),
        "{first}"
    );
    let out = run(&[
        "tip",
        "add",
        "--category",
        "theft",
        "--text",
        "Mất trộm xe đạp trước nhà số 9",
        "--no-location",
    ]);
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("sotay.key"),
        "said once"
    );

    let out = run(&["--json", "erase"]);
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).expect("JSON");
    assert_eq!(err["error"]["code"], "confirm-required");
    assert!(
        err["error"]["message"].as_str().unwrap_or("").contains('1'),
        "{err}"
    );
    let out = run(&["--json", "list"]);
    assert_ne!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "[]",
        "nothing erased yet"
    );

    let out = run(&["--json", "erase", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(done["lost_unsent"], 1);
    let out = run(&["--json", "list"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}
