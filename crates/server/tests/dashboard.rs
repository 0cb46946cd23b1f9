//! The ward dashboard (issue 6), server side: every page's data and every
//! permission, against a real server on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::TimeDelta;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sotay_domain::wire::{Change, PullItem, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::dashboard::accounts::{Role, add_officer};
use sotay_server::store::now_micros;
use sotay_server::testing::TestServer;

pub const PASSWORD: &str = "mật-khẩu-đủ-dài";

/// An HTTP client that does not follow redirects, so tests see them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Logs in; returns the session cookie (`name=value`) and its CSRF token.
async fn login(s: &TestServer, user: &str, password: &str) -> Result<(String, String), StatusCode> {
    let c = browser();
    let res = c
        .get(format!("{}/dashboard/login", s.url()))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&res, "sotay_login_csrf").unwrap();
    let token = csrf_in(&res.text().await.unwrap());
    let res = c
        .post(format!("{}/dashboard/login", s.url()))
        .header("cookie", &pre)
        .form(&[
            ("csrf", token.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if res.status() != StatusCode::SEE_OTHER {
        return Err(res.status());
    }
    let session = set_cookie(&res, "sotay_session").unwrap();
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let page = c
        .get(format!("{}/dashboard/tips", s.url()))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    Ok((session, csrf_in(&page.text().await.unwrap())))
}

async fn page(s: &TestServer, cookie: &str, path: &str) -> (StatusCode, String) {
    let res = browser()
        .get(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn form(s: &TestServer, cookie: &str, path: &str, fields: &[(&str, &str)]) -> StatusCode {
    browser()
        .post(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

async fn officers(s: &TestServer) {
    add_officer(s.store(), "can-bo", PASSWORD, Role::Officer, now_micros())
        .await
        .unwrap();
    add_officer(s.store(), "quan-tri", PASSWORD, Role::Admin, now_micros())
        .await
        .unwrap();
}

fn tip_change(seq: i64, category: &str, urgency: &str, text: &str) -> Change {
    let mut payload = tip_payload(text);
    payload["category"] = json!(category);
    payload["urgency"] = json!(urgency);
    Change {
        report_id: ReportId::new_v7(),
        device_seq: seq,
        rev: 1,
        kind: ReportKind::Tip,
        payload,
    }
}

async fn anonymous_is_sent_to_login(s: &TestServer) {
    for path in [
        "/dashboard/tips",
        "/dashboard/fire",
        "/dashboard/id06",
        "/dashboard/devices",
        "/dashboard/audit",
        "/dashboard/export/tips.csv",
        "/dashboard/tips/0190a4a0-0000-7000-8000-000000000000",
    ] {
        let (status, _) = page(s, "sotay_session=forged", path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
    }
    let res = browser()
        .get(format!("{}/dashboard/tips", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/dashboard/login");
    // A POST without a session does nothing either.
    let st = form(
        s,
        "",
        "/dashboard/devices/0190a4a0-0000-7000-8000-000000000000/revoke",
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
}

async fn roles_csrf_and_audit(s: &TestServer) {
    officers(s).await;
    // The login form itself needs its CSRF token.
    let res = browser()
        .post(format!("{}/dashboard/login", s.url()))
        .form(&[("username", "can-bo"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        login(s, "can-bo", "sai mật khẩu").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        login(s, "không-có", PASSWORD).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let (officer, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (admin, admin_csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    for path in [
        "/dashboard/devices",
        "/dashboard/audit",
        "/dashboard/export/devices.csv",
        "/dashboard/export/audit.csv",
    ] {
        assert_eq!(
            page(s, &officer, path).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(page(s, &admin, path).await.0, StatusCode::OK, "{path}");
    }
    for path in [
        "/dashboard/tips",
        "/dashboard/fire",
        "/dashboard/id06",
        "/dashboard/export/tips.xlsx",
    ] {
        assert_eq!(page(s, &officer, path).await.0, StatusCode::OK, "{path}");
    }
    // Revoking: admin only, and only with the CSRF token.
    let (device, token) = s.enroll_device("k02-t01").await.unwrap();
    let path = format!("/dashboard/devices/{}/revoke", device.0);
    assert_eq!(
        form(s, &officer, &path, &[("csrf", &admin_csrf)]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(form(s, &admin, &path, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(
        form(s, &admin, &path, &[("csrf", "wrong")]).await,
        StatusCode::FORBIDDEN
    );
    let (status, _) = get(s, "/v1/sync/pull?since=0", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "not revoked by refused forms");
    assert_eq!(
        form(s, &admin, &path, &[("csrf", &admin_csrf)]).await,
        StatusCode::SEE_OTHER
    );
    let (status, _) = get(s, "/v1/sync/pull?since=0", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Every action is in the audit log, which admins read.
    let (_, audit) = page(s, &admin, "/dashboard/audit").await;
    assert!(
        audit.contains("revoke-device") && audit.contains(&device.0.to_string()),
        "{audit}"
    );
    assert!(
        audit.contains("can-bo") && audit.contains("export"),
        "{audit}"
    );
    // Logging out ends the session.
    assert_eq!(
        form(s, &admin, "/dashboard/logout", &[("csrf", &admin_csrf)]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page(s, &admin, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER
    );
}

async fn lock_out_after_failures(s: &TestServer) {
    officers(s).await;
    for _ in 0..4 {
        assert_eq!(
            login(s, "can-bo", "sai mật khẩu").await,
            Err(StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        login(s, "can-bo", "sai mật khẩu").await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    // Locked: even the right password is refused now.
    assert_eq!(
        login(s, "can-bo", PASSWORD).await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    // Another account is unaffected.
    assert!(login(s, "quan-tri", PASSWORD).await.is_ok());
    let rows = s.store().audit_log(10).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "login-locked" && r.username == "can-bo")
    );
    // An admin lifts the lock from the officers page, with the CSRF token.
    let (admin, csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let (status, html) = page(s, &admin, "/dashboard/officers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("can-bo"), "{html}");
    let path = "/dashboard/officers/can-bo/unlock";
    assert_eq!(form(s, &admin, path, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(
        form(s, &admin, path, &[("csrf", &csrf)]).await,
        StatusCode::SEE_OTHER
    );
    let (officer, officer_csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    assert_eq!(
        page(s, &officer, "/dashboard/officers").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        form(s, &officer, path, &[("csrf", &officer_csrf)]).await,
        StatusCode::FORBIDDEN
    );
}

async fn cookies_are_secure_behind_https(s: &TestServer) {
    let res = browser()
        .get(format!("{}/dashboard/login", s.url()))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly"),
        "{set}"
    );
    let res = browser()
        .get(format!("{}/dashboard/login", s.url()))
        .send()
        .await
        .unwrap();
    assert!(
        !res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

async fn tips_inbox_and_decision_reach_the_device(s: &TestServer) {
    officers(s).await;
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let leader = enroll(s, "k03-t02").await;
    let other = enroll(s, "k05-t01").await;
    let script = tip_change(
        1,
        "fraud",
        "urgent",
        "<script>alert('x')</script> lừa đảo qua điện thoại",
    );
    push(
        s,
        &leader.token,
        &[
            script.clone(),
            tip_change(2, "theft", "normal", "Mất trộm xe đạp ở ngõ 5"),
        ],
    )
    .await;
    push(
        s,
        &other.token,
        &[tip_change(
            1,
            "drugs",
            "normal",
            "Nghi tụ tập sử dụng ma túy",
        )],
    )
    .await;

    let (_, html) = page(s, &cookie, "/dashboard/tips").await;
    assert!(html.contains("&lt;script&gt;alert"), "escaped");
    assert!(!html.contains("<script>alert"), "never raw");
    assert!(html.contains("id=\"count-new\">3<"), "{html}");
    let (_, html) = page(s, &cookie, "/dashboard/tips?category=fraud").await;
    assert!(
        html.contains("lừa đảo") && !html.contains("xe đạp"),
        "{html}"
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips?block=k05").await;
    assert!(html.contains("ma túy") && !html.contains("xe đạp"));
    let (_, html) = page(s, &cookie, "/dashboard/tips?urgency=urgent&group=k03-t02").await;
    assert!(html.contains("lừa đảo") && !html.contains("xe đạp"));
    let tomorrow = (chrono::Utc::now() + TimeDelta::days(2)).format("%Y-%m-%d");
    let (_, html) = page(s, &cookie, &format!("/dashboard/tips?from={tomorrow}")).await;
    assert!(!html.contains("lừa đảo"));

    // Detail with the full content; a wrong CSRF token changes nothing.
    let path = format!("/dashboard/tips/{}", script.report_id);
    let (status, html) = page(s, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("&lt;script&gt;") && html.contains("ẩn danh"),
        "{html}"
    );
    let status_path = format!("{path}/status");
    let fields = [
        ("status", "verifying"),
        ("note", "Đang xác minh <b>ngay</b>"),
    ];
    assert_eq!(
        form(s, &cookie, &status_path, &fields).await,
        StatusCode::FORBIDDEN
    );
    assert!(s.store().tip_decisions().await.unwrap().is_empty());
    let with_csrf = [fields[0], fields[1], ("csrf", csrf.as_str())];
    assert_eq!(
        form(s, &cookie, &status_path, &with_csrf).await,
        StatusCode::SEE_OTHER
    );
    let bad = [("status", "done"), ("csrf", csrf.as_str())];
    assert_eq!(
        form(s, &cookie, &status_path, &bad).await,
        StatusCode::BAD_REQUEST
    );

    // The leader's device pulls the decision; the other group's does not.
    let pulled = pull(s, &leader.token, 0, 100).await;
    let decision = pulled.entries.iter().find_map(|e| match &e.item {
        PullItem::TipStatus {
            report_id,
            status,
            note,
            ..
        } if *report_id == script.report_id => Some((*status, note.clone())),
        _ => None,
    });
    assert_eq!(
        decision,
        Some((
            WardStatus::Verifying,
            Some("Đang xác minh <b>ngay</b>".into())
        ))
    );
    let theirs = pull(s, &other.token, 0, 100).await;
    assert!(
        !theirs
            .entries
            .iter()
            .any(|e| matches!(e.item, PullItem::TipStatus { .. }))
    );

    let (_, html) = page(s, &cookie, &path).await;
    assert!(html.contains("&lt;b&gt;ngay"), "note escaped: {html}");
    let (_, html) = page(s, &cookie, "/dashboard/tips?status=verifying").await;
    assert!(html.contains("lừa đảo") && !html.contains("ma túy"));
    assert!(html.contains("id=\"count-verifying\">1<"));

    // A new revision shows in the detail with the earlier one kept.
    let mut rev2 = script.clone();
    rev2.rev = 2;
    rev2.device_seq = 3;
    rev2.payload["description"] = json!("Bản sửa: lừa đảo chiếm đoạt 20 triệu");
    push(s, &leader.token, &[rev2]).await;
    let (_, html) = page(s, &cookie, &path).await;
    assert!(html.contains("rev 2") && html.contains("Bản sửa") && html.contains("rev 1"));

    // Export: CSV with BOM, Vietnamese headers, filters applied.
    let res = browser()
        .get(format!(
            "{}/dashboard/export/tips.csv?category=fraud",
            s.url()
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&r.headers().unwrap()[0], "Mã tin");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][8], "Đang xác minh");
    assert!(rows[0][6].contains("Bản sửa"));
    let (status, xlsx) = page(s, &cookie, "/dashboard/export/tips.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.as_bytes().starts_with(b"PK"));
    assert_eq!(
        page(s, &cookie, "/dashboard/export/nothing.csv").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(s, &cookie, "/dashboard/tips/not-an-id").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn fire_id06_and_devices_pages(s: &TestServer) {
    officers(s).await;
    let (cookie, _) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let leader = enroll(s, "k07-t04").await;
    let insp = inspection(1);
    let household = serde_json::from_value::<sotay_domain::Inspection>(insp.payload.clone())
        .unwrap()
        .household_id;
    push(s, &leader.token, &[insp, id_count(2)]).await;
    let (status, html) = page(s, &cookie, "/dashboard/fire").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"fire-inspected\">1<"), "{html}");
    // 110 residents ≈ 26 households; the one inspected passes.
    assert!(
        html.contains("k07-t04") && html.contains("1 / ≈26") && html.contains("100 %"),
        "{html}"
    );
    let (status, html) = page(
        s,
        &cookie,
        &format!("/dashboard/fire/household/{}", household.0),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nguyễn Văn An"));
    let (_, html) = page(s, &cookie, "/dashboard/id06").await;
    assert!(
        html.contains("<svg")
            && html.contains("id=\"id-residents\">110<")
            && html.contains("id=\"id-activated\">40<"),
        "{html}"
    );
    let (_, csv) = page(s, &cookie, "/dashboard/export/id06.csv").await;
    assert!(
        csv.contains("Dân số") && csv.contains("k07-t04,2025-06-01,110,80,40"),
        "{csv}"
    );
    let (_, csv) = page(s, &cookie, "/dashboard/export/fire.csv").await;
    assert!(csv.contains("k07,k07-t04,1,26,1,0,0"), "{csv}");
    let (_, html) = page(s, &cookie, "/dashboard/devices?days=3").await;
    assert!(html.contains("Điện thoại tổ trưởng") && html.contains("k07-t04"));
    // The group pushed just now: not stale.
    let stale = html
        .split("id=\"stale\"")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap();
    assert!(!stale.contains("k07-t04"), "{stale}");
    // English switch.
    let (_, html) = page(s, &format!("{cookie}; sotay_lang=en"), "/dashboard/fire").await;
    assert!(html.contains("Households inspected"));
}

async fn sessions_expire(s: &TestServer) {
    officers(s).await;
    let (cookie, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        page(s, &cookie, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER
    );
}

async fn start_short_sessions(backend: sotay_server::testing::Backend) -> Option<TestServer> {
    start_with(
        backend,
        sotay_server::Config {
            session_ttl: TimeDelta::seconds(1),
            ..Default::default()
        },
    )
    .await
}

macro_rules! dashboard_tests {
    ($backend:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sessions_expire() {
            let Some(s) = super::start_short_sessions($backend).await else { return };
            super::sessions_expire(&s).await;
        }
        dashboard_tests!(@each $backend; anonymous_is_sent_to_login, roles_csrf_and_audit,
            lock_out_after_failures, tips_inbox_and_decision_reach_the_device,
            cookies_are_secure_behind_https,
            fire_id06_and_devices_pages);
    };
    (@each $backend:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(s) = super::start($backend).await else { return };
                super::$case(&s).await;
            }
        )+
    };
}

mod sqlite {
    use sotay_server::testing::Backend;
    dashboard_tests!(Backend::Sqlite);
}

mod postgres {
    use sotay_server::testing::Backend;
    dashboard_tests!(Backend::Postgres);
}

/// A database made by the sync server before the dashboard (migration 1
/// only) opens with the current code: migration 2 is applied and the old
/// data is still there.
#[tokio::test]
async fn version_1_sqlite_database_upgrades() {
    let dir = sotay_server::testing::TempDir::new().unwrap();
    let path = dir.0.join("v1.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
             INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO groups VALUES ('k01-t01', 'Tổ 1, khối 1', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập');",
        )
        .unwrap();
    }
    let store: sotay_server::store::DynStore = std::sync::Arc::new(
        sotay_server::store::sqlite::SqliteStore::open(&path)
            .await
            .unwrap(),
    );
    assert_eq!(store.groups().await.unwrap().len(), 1);
    add_officer(&store, "can-bo", PASSWORD, Role::Officer, now_micros())
        .await
        .unwrap();
    assert_eq!(store.officers().await.unwrap().len(), 1);
}

#[tokio::test]
async fn version_1_postgres_database_upgrades() {
    let Some(url) = sotay_server::testing::pg_test_url().unwrap() else {
        return;
    };
    let schema = sotay_server::testing::PgSchema::create(&url).await.unwrap();
    let mut cfg: tokio_postgres::Config = url.parse().unwrap();
    cfg.options(format!("-c search_path={}", schema.name));
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
    let conn = tokio::spawn(conn);
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL);
             INSERT INTO schema_migrations VALUES (1, now());",
        )
        .await
        .unwrap();
    client
        .batch_execute(include_str!("../migrations/postgres/0001_init.sql"))
        .await
        .unwrap();
    client
        .batch_execute(
            "INSERT INTO groups VALUES ('k01-t01', 'Tổ 1', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập')",
        )
        .await
        .unwrap();
    drop(client);
    let _ = conn.await;
    let store: sotay_server::store::DynStore = std::sync::Arc::new(
        sotay_server::store::postgres::PgStore::connect(&url, Some(&schema.name))
            .await
            .unwrap(),
    );
    assert_eq!(store.groups().await.unwrap().len(), 1);
    add_officer(&store, "can-bo", PASSWORD, Role::Officer, now_micros())
        .await
        .unwrap();
    assert_eq!(store.officers().await.unwrap().len(), 1);
}
