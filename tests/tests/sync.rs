//! The device's sync client against the real server on loopback, on
//! SQLite and on PostgreSQL.

use sotay_device::Save;
use sotay_device::sync::{SyncError, lock};
use sotay_domain::report::{ReportBody, ReportStatus};
use sotay_domain::wire::WardStatus;
use sotay_e2e::{Device, assert_converged, client};
use sotay_server::testing::{Backend, TestServer};

async fn server(backend: Backend) -> Option<TestServer> {
    TestServer::start(backend, Default::default())
        .await
        .expect("test server")
}

async fn enrolled(server: &TestServer, group: &str) -> Device {
    Device::enrolled(server, &server.url(), group).await
}

async fn round_trip(backend: Backend) {
    let Some(server) = server(backend).await else {
        return;
    };
    let d = enrolled(&server, "k01-t03").await;
    let place = d.store().place().expect("place").clone();
    assert_eq!(
        (
            place.ward.code.as_str(),
            place.block.code.as_str(),
            place.group.code.as_str()
        ),
        ("hht", "k01", "k01-t03"),
        "the server assigned the group"
    );

    let tips: Vec<_> = (0..5).map(|n| d.tip(n)).collect();
    let status = d.store().sync_status().expect("status");
    assert_eq!((status.pending, status.sent), (5, 0));

    let c = client();
    let mut events = Vec::new();
    let report = c
        .sync(&d.store, &mut |p| events.push(p))
        .await
        .expect("sync");
    assert_eq!(
        (report.accepted, report.rejected, report.pending),
        (5, 0, 0)
    );
    assert!(
        events
            .last()
            .is_some_and(|p| p.changes_done == p.changes_total)
    );
    assert_converged(&d, server.store()).await;

    // Nothing new: no duplicate, same receipts, few requests.
    let before = d.store().report(tips[0]).expect("tip").receipt;
    let again = c.sync(&d.store, &mut |_| {}).await.expect("sync again");
    assert_eq!(again.accepted, 0);
    assert!(again.requests <= 4, "{again:?}");
    assert_eq!(d.store().report(tips[0]).expect("tip").receipt, before);
    assert_converged(&d, server.store()).await;

    // Editing a sent tip makes revision 2, which reaches the server.
    let mut body = d.store().report(tips[1]).expect("tip").body;
    if let ReportBody::Tip(t) = &mut body {
        t.description.push_str(" (bổ sung)");
    }
    let r = d
        .store()
        .save_report(Some(tips[1]), body, Save::Send)
        .expect("edit");
    assert_eq!(r.rev, 2);
    c.sync(&d.store, &mut |_| {}).await.expect("sync rev 2");
    assert_converged(&d, server.store()).await;

    // The ward's decision flows back.
    sotay_server::admin::set_tip_status(
        server.store(),
        tips[2],
        WardStatus::Verifying,
        Some("Đã cử cán bộ xác minh".into()),
        chrono::Utc::now(),
        &sotay_server::admin::command_audit("tip-status", "test", ""),
    )
    .await
    .expect("decision");
    let pulled = c.sync(&d.store, &mut |_| {}).await.expect("pull");
    assert!(pulled.pulled >= 1);
    let tip = d.store().report(tips[2]).expect("tip");
    let ward = tip.ward.expect("ward decision");
    assert_eq!(ward.status, WardStatus::Verifying);
    assert_eq!(ward.note.as_deref(), Some("Đã cử cán bộ xác minh"));
    let status = d.store().sync_status().expect("status");
    assert!(status.last_sync.is_some() && status.last_error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_postgres() {
    round_trip(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_code_and_a_revoked_device_are_refused() {
    let Some(server) = server(Backend::Sqlite).await else {
        return;
    };
    let code = server.enroll_code("k02-t01").await.expect("code");
    let a = Device::new();
    client()
        .enroll(&a.store, &server.url(), &code, "a")
        .await
        .expect("first use");
    let b = Device::new();
    let err = client()
        .enroll(&b.store, &server.url(), &code, "b")
        .await
        .expect_err("second use");
    assert!(
        matches!(err, SyncError::Server { status, .. } if (400..500).contains(&status)),
        "{err:?}"
    );
    assert!(b.store().enrollment().expect("enrollment").is_none());

    // A token the server does not know (say, a server restored from an
    // old backup): refused, and nothing on the device is touched.
    a.tip(1);
    let real = a.store().enrollment().expect("e").expect("enrolled").token;
    let path = a.store().path().to_path_buf();
    let set_token = |t: &str| {
        sotay_device::store::open_raw_for_tests(&path)
            .expect("raw")
            .execute("UPDATE sync_state SET token = ?1", [t])
            .expect("token");
    };
    set_token("a-token-nobody-issued");
    let err = client()
        .sync(&a.store, &mut |_| {})
        .await
        .expect_err("unknown");
    assert!(matches!(err, SyncError::Unauthorized), "{err:?}");
    let status = a.store().sync_status().expect("status");
    assert_eq!(
        status.last_error.map(|e| e.code.as_str()),
        Some("unauthorized")
    );
    assert_eq!(status.pending, 1, "nothing is lost");

    // Revoked by the ward: the device erases what it holds (the
    // lost-phone issue) and says so.
    set_token(&real);
    let id = a
        .store()
        .enrollment()
        .expect("e")
        .expect("enrolled")
        .device_id;
    sotay_server::admin::revoke(
        server.store(),
        id,
        chrono::Utc::now(),
        &sotay_server::admin::command_audit("revoke-device", "test", ""),
    )
    .await
    .expect("revoke");
    let err = client()
        .sync(&a.store, &mut |_| {})
        .await
        .expect_err("revoked");
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    assert!(a.store().enrollment().expect("enrollment").is_none());
    assert_eq!(a.store().sync_status().expect("status").pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_is_quarantined_and_the_rest_flow() {
    let Some(server) = server(Backend::Sqlite).await else {
        return;
    };
    let d = enrolled(&server, "k01-t03").await;
    let ids: Vec<_> = (0..4).map(|n| d.tip(n)).collect();
    // An older app's bug: one stored change the server's rules refuse.
    {
        let path = d.store().path().to_path_buf();
        let conn = sotay_device::store::open_raw_for_tests(path).expect("open");
        conn.execute(
            "UPDATE outbox SET payload = json_set(payload, '$.body.description', 'ngắn') WHERE report_id = ?1",
            [ids[1].to_string()],
        )
        .expect("tamper");
    }
    let report = client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_eq!((report.accepted, report.rejected), (3, 1));
    let bad = d.store().report(ids[1]).expect("bad");
    assert_eq!(bad.status, ReportStatus::Quarantined);
    let why = bad.rejection.expect("reason");
    // The server says which rule broke, so the device names the field and
    // says it in the leader's language, whichever that is when they look.
    assert_eq!(why.code, sotay_domain::wire::RejectionCode::Invalid);
    assert_eq!(
        why.fields
            .iter()
            .map(|f| (f.field.as_str(), f.rule.code()))
            .collect::<Vec<_>>(),
        vec![("description", "too-short")]
    );
    assert_eq!(why.message, "Nội dung: cần ít nhất 10 ký tự");
    let mut settings = d.store().settings().expect("settings");
    settings.lang = sotay_domain::labels::Lang::En;
    d.store().save_settings(&settings).expect("english");
    let why = d
        .store()
        .report(ids[1])
        .expect("bad")
        .rejection
        .expect("reason");
    assert_eq!(why.message, "Description: needs at least 10 characters");
    for id in [ids[0], ids[2], ids[3]] {
        assert_eq!(d.store().report(id).expect("ok").status, ReportStatus::Sent);
    }
    let status = d.store().sync_status().expect("status");
    assert_eq!((status.quarantined, status.pending), (1, 0));

    // The leader resends it (the stored report was never bad): a new revision.
    let resent = d.store().send(ids[1]).expect("resend");
    assert_eq!((resent.status, resent.rev), (ReportStatus::Queued, 2));
    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_converged(&d, server.store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sync_at_a_time() {
    let Some(server) = server(Backend::Sqlite).await else {
        return;
    };
    let d = enrolled(&server, "k01-t03").await;
    d.tip(1);
    let path = d.store().path().with_extension("sync-lock");
    let held = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .expect("lock file");
    held.lock().expect("hold the lock");
    let err = client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect_err("busy");
    assert!(matches!(err, SyncError::Busy), "{err:?}");
    drop(held);
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("then it runs");
    assert_eq!(
        lock(&d.store).expect("store").pending_count().expect("n"),
        0
    );
}
