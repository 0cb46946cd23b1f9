//! The ward dashboard (issue 6), server side: every page's data and every
//! permission, against a real server on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::TimeDelta;
use common::web::*;
use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sotay_domain::wire::{Change, PullItem, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::dashboard::accounts::{NewOfficer, Role, add_officer};
use sotay_server::store::now_micros;
use sotay_server::testing::TestServer;

/// Logs in with a password someone else set. Until the officer chooses
/// their own, every page and form but the account page (and logout) leads
/// there, and the new password may not be the assigned one. Returns the
/// session and its CSRF token once the officer chose `own`.
async fn choose_own_password(
    s: &TestServer,
    user: &str,
    assigned: &str,
    own: &str,
) -> (String, String) {
    let session = login_session(s, user, assigned).await.unwrap();
    let (status, html) = page(s, &session, "/dashboard/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"must-change\""), "{html}");
    let csrf = csrf_in(&html);
    for path in [
        "/dashboard/tips",
        "/dashboard/fire",
        "/dashboard/export/tips.csv",
        "/dashboard/officers",
    ] {
        let res = browser()
            .get(format!("{}{path}", s.url()))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/dashboard/account", "{path}");
    }
    let tip = format!("/dashboard/tips/{}/status", ReportId::new_v7());
    assert_eq!(
        form(
            s,
            &session,
            &tip,
            &[("csrf", &csrf), ("status", "received")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let same = [
        ("csrf", csrf.as_str()),
        ("current", assigned),
        ("new", assigned),
        ("again", assigned),
    ];
    let (status, html) = form_page(s, &session, "/dashboard/account/password", &same).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("phải khác mật khẩu hiện tại"), "{html}");
    let fields = [
        ("csrf", csrf.as_str()),
        ("current", assigned),
        ("new", own),
        ("again", own),
    ];
    let (status, html) = form_page(s, &session, "/dashboard/account/password", &fields).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("id=\"must-change\""));
    let (status, html) = page(s, &session, "/dashboard/tips").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !s.store()
            .officer(user)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    (session, csrf_in(&html))
}

/// Downloads `{name}.xlsx{query}` and `{name}.csv{query}` and checks the
/// workbook holds exactly the CSV's table (Vietnamese headers included);
/// returns it. The audit table gains the XLSX download's own entry
/// between the two, at the top (newest first), which is skipped.
async fn xlsx_matches_csv(
    s: &TestServer,
    cookie: &str,
    name: &str,
    query: &str,
) -> Vec<Vec<String>> {
    let xlsx = read_xlsx(
        &download(s, cookie, &format!("/dashboard/export/{name}.xlsx{query}")).await,
        name,
    );
    let mut csv =
        read_csv(&download(s, cookie, &format!("/dashboard/export/{name}.csv{query}")).await);
    if name == "audit" {
        let newest = csv.remove(1);
        assert!(newest.contains(&format!("{name}.xlsx")), "{newest:?}");
    }
    assert_eq!(xlsx, csv, "{name}");
    xlsx
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
        "/dashboard/officers",
        "/dashboard/groups",
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

/// Admins add and deactivate officers and add and rename groups from the
/// pages; officers are refused, anonymous requests sent to log in, and
/// every form needs its CSRF token. Every change is audited.
/// A refusal is one typed code, in the officer's language: a Vietnamese
/// page by default, an English one with the English cookie, the value at
/// fault shown as typed, and nothing changed either way.
async fn refusals_are_in_the_officers_language(s: &TestServer) {
    officers(s).await;
    let (admin, csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let bad = [
        ("csrf", csrf.as_str()),
        ("block", "k99"),
        ("code", "k99-t01"),
        ("name", "Tổ mới"),
    ];
    let (status, vi) = form_page(s, &admin, "/dashboard/groups", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(vi.contains("data-code=\"unknown-block\""), "{vi}");
    assert!(
        vi.contains("Không có khối này") && vi.contains("k99"),
        "{vi}"
    );
    assert!(
        !vi.contains("No such block") && !vi.contains("no block"),
        "{vi}"
    );
    let english = format!("{admin}; sotay_lang=en");
    let (status, en) = form_page(s, &english, "/dashboard/groups", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        en.contains("data-code=\"unknown-block\"") && en.contains("No such block"),
        "{en}"
    );
    assert!(!en.contains("Không có khối"), "{en}");
    let stale = [
        ("csrf", "cũ"),
        ("block", "k01"),
        ("code", "k01-t98"),
        ("name", "Tổ 98"),
    ];
    let (status, en) = form_page(s, &english, "/dashboard/groups", &stale).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        en.contains("data-code=\"csrf\"") && en.contains("Reload the page"),
        "{en}"
    );
    let (officer, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (status, vi) = page(s, &officer, "/dashboard/groups").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        vi.contains("data-code=\"admins-only\"") && vi.contains("Chỉ quản trị viên"),
        "{vi}"
    );
    let (_, groups) = page(s, &admin, "/dashboard/groups").await;
    assert!(!groups.contains("k99-t01") && !groups.contains("k01-t98"));
}

async fn admins_manage_officers_and_groups(s: &TestServer) {
    officers(s).await;
    let (officer, officer_csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (admin, csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let new_officer = [
        ("username", "moi.vao"),
        ("role", "officer"),
        ("password", PASSWORD),
    ];
    let new_group = [("block", "k01"), ("code", "k01-t99"), ("name", "Tổ 99")];
    let rename = [("name", "Tổ Hoa Sen")];
    let posts: [(&str, &[(&str, &str)]); 4] = [
        ("/dashboard/officers", &new_officer),
        ("/dashboard/officers/can-bo/deactivate", &[]),
        ("/dashboard/groups", &new_group),
        ("/dashboard/groups/k01-t01/rename", &rename),
    ];
    assert_eq!(
        page(s, "", "/dashboard/groups").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page(s, &officer, "/dashboard/groups").await.0,
        StatusCode::FORBIDDEN
    );
    for (path, fields) in posts {
        fn with<'a>(fields: &[(&'a str, &'a str)], token: &'a str) -> Vec<(&'a str, &'a str)> {
            let mut f = fields.to_vec();
            f.push(("csrf", token));
            f
        }
        assert_eq!(
            form(s, "", path, &with(fields, "x")).await,
            StatusCode::SEE_OTHER,
            "{path}"
        );
        assert_eq!(
            form(s, &officer, path, &with(fields, &officer_csrf)).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            form(s, &admin, path, fields).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            form(s, &admin, path, &with(fields, "wrong")).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Nothing changed by the refused forms.
    assert!(s.store().officer("moi.vao").await.unwrap().is_none());
    assert!(login(s, "can-bo", PASSWORD).await.is_ok());
    let groups = s
        .store()
        .groups(&sotay_server::store::Scope::Province)
        .await
        .unwrap();
    assert!(!groups.iter().any(|g| g.code == "k01-t99"));
    assert_ne!(
        s.store()
            .group_place("k01-t01")
            .await
            .unwrap()
            .unwrap()
            .group
            .name,
        "Tổ Hoa Sen"
    );

    // Officers: add, then deactivate (which ends their live session).
    let mut fields = new_officer.to_vec();
    fields.push(("csrf", &csrf));
    assert_eq!(
        form(s, &admin, "/dashboard/officers", &fields).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        form(s, &admin, "/dashboard/officers", &fields).await,
        StatusCode::BAD_REQUEST,
        "taken"
    );
    let weak = [
        ("username", "yeu"),
        ("role", "admin"),
        ("password", "ngắn"),
        ("csrf", &csrf),
    ];
    assert_eq!(
        form(s, &admin, "/dashboard/officers", &weak).await,
        StatusCode::BAD_REQUEST
    );
    let badrole = [
        ("username", "vai"),
        ("role", "boss"),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ];
    assert_eq!(
        form(s, &admin, "/dashboard/officers", &badrole).await,
        StatusCode::BAD_REQUEST
    );
    // The admin typed the password: the new officer chooses their own first.
    assert!(
        s.store()
            .officer("moi.vao")
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    let (moi, _) = choose_own_password(s, "moi.vao", PASSWORD, "mật-khẩu-của-moi-vao").await;
    assert_eq!(
        page(s, &moi, "/dashboard/officers").await.0,
        StatusCode::FORBIDDEN,
        "an officer"
    );
    let deactivate = |name: &str| format!("/dashboard/officers/{name}/deactivate");
    let only_csrf = [("csrf", csrf.as_str())];
    assert_eq!(
        form(s, &admin, &deactivate("moi.vao"), &only_csrf).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page(s, &moi, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER,
        "session ended"
    );
    assert_eq!(
        login(s, "moi.vao", PASSWORD).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        form(s, &admin, &deactivate("quan-tri"), &only_csrf).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        form(s, &admin, &deactivate("khong-co"), &only_csrf).await,
        StatusCode::NOT_FOUND
    );
    let (_, html) = page(s, &admin, "/dashboard/officers").await;
    assert!(
        html.contains("moi.vao") && html.contains("Đã vô hiệu hóa"),
        "{html}"
    );

    // Groups: add to a block, rename.
    let mut fields = new_group.to_vec();
    fields.push(("csrf", &csrf));
    assert_eq!(
        form(s, &admin, "/dashboard/groups", &fields).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        form(s, &admin, "/dashboard/groups", &fields).await,
        StatusCode::BAD_REQUEST
    );
    let place = s.store().group_place("k01-t99").await.unwrap().unwrap();
    assert_eq!(place.group.name, "Tổ 99");
    assert_eq!(place.block.code.as_str(), "k01");
    for bad in [
        [
            ("block", "k01"),
            ("code", "k02-t98"),
            ("name", "Sai khối"),
            ("csrf", &csrf),
        ],
        [
            ("block", "k99"),
            ("code", "k99-t01"),
            ("name", "Không có"),
            ("csrf", &csrf),
        ],
        [
            ("block", "k01"),
            ("code", "k01-t98"),
            ("name", " "),
            ("csrf", &csrf),
        ],
    ] {
        assert_eq!(
            form(s, &admin, "/dashboard/groups", &bad).await,
            StatusCode::BAD_REQUEST,
            "{bad:?}"
        );
    }
    let rename_path = "/dashboard/groups/k01-t01/rename";
    let fields = [("name", "Tổ <b>Hoa Sen</b>"), ("csrf", &csrf)];
    assert_eq!(
        form(s, &admin, rename_path, &fields).await,
        StatusCode::SEE_OTHER
    );
    let place = s.store().group_place("k01-t01").await.unwrap().unwrap();
    assert_eq!(place.group.name, "Tổ <b>Hoa Sen</b>");
    assert_eq!(
        form(s, &admin, "/dashboard/groups/k99-t99/rename", &fields).await,
        StatusCode::NOT_FOUND
    );
    let (status, html) = page(s, &admin, "/dashboard/groups").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tổ &lt;b&gt;Hoa Sen") && html.contains("k01-t99"));

    let log = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap();
    for (action, target) in [
        ("add-officer", "moi.vao"),
        ("deactivate-officer", "moi.vao"),
        ("add-group", "k01-t99"),
        ("rename-group", "k01-t01"),
    ] {
        assert!(
            log.iter()
                .any(|r| r.username == "quan-tri" && r.action == action && r.target == target),
            "{action}: {log:?}"
        );
    }
    assert!(
        !log.iter().any(|r| r.detail.contains(PASSWORD)),
        "never the password"
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
    let rows = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 10)
        .await
        .unwrap();
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
    officers(s).await;
    let res = browser()
        .get(format!("{}/dashboard/login", s.url()))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("__Host-sotay_login_csrf=")
            && set.contains("; Path=/;")
            && set.contains("; Secure")
            && set.contains("HttpOnly")
            && !set.contains("Domain"),
        "{set}"
    );
    // A whole login over HTTPS with the __Host- cookies.
    let pre = set.split(';').next().unwrap().to_owned();
    let token = csrf_in(&res.text().await.unwrap());
    let res = browser()
        .post(format!("{}/dashboard/login", s.url()))
        .header("x-forwarded-proto", "https")
        .header("cookie", &pre)
        .form(&[
            ("csrf", token.as_str()),
            ("username", "can-bo"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res, "__Host-sotay_session").expect("a __Host- session cookie");
    let page = browser()
        .get(format!("{}/dashboard/tips", s.url()))
        .header("x-forwarded-proto", "https")
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
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
    assert!(
        s.store()
            .tip_decisions(script.report_id)
            .await
            .unwrap()
            .is_empty()
    );
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

    // The decision and its audit entry were written together, once.
    let entries: Vec<_> = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "tip-status")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].username, "can-bo");
    assert_eq!(entries[0].target, script.report_id.to_string());
    assert!(entries[0].detail.starts_with("verifying"));

    // The per-status counts split the set the other filters select.
    let count = |html: &str, status: &str| -> String {
        let marker = format!("id=\"count-{status}\">");
        let at = html.find(&marker).expect("a count") + marker.len();
        html[at..].split('<').next().unwrap().to_owned()
    };
    let (_, html) = page(s, &cookie, "/dashboard/tips").await;
    assert_eq!(
        (count(&html, "new"), count(&html, "verifying")),
        ("2".into(), "1".into())
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips?block=k05").await;
    assert_eq!(
        (count(&html, "new"), count(&html, "verifying")),
        ("1".into(), "0".into())
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips?group=k03-t02&status=new").await;
    assert!(
        html.contains("xe đạp") && !html.contains("lừa đảo"),
        "status filters the list"
    );
    assert_eq!(
        (count(&html, "new"), count(&html, "verifying")),
        ("1".into(), "1".into()),
        "but not the counts"
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips?urgency=urgent").await;
    assert_eq!(
        (count(&html, "new"), count(&html, "verifying")),
        ("0".into(), "1".into())
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
    let xlsx = xlsx_matches_csv(s, &cookie, "tips", "?category=fraud").await;
    assert_eq!(xlsx.len(), 2, "header and the one fraud tip");
    assert_eq!(
        xlsx[0],
        [
            "Mã tin",
            "Nhận lúc",
            "Khối",
            "Tổ",
            "Loại",
            "Mức độ",
            "Nội dung",
            "Địa điểm",
            "Trạng thái",
            "Ghi chú của phường",
            "Bản",
            "Ảnh"
        ]
    );
    let row = &xlsx[1];
    assert_eq!(row[0], script.report_id.to_string());
    assert_eq!((row[2].as_str(), row[3].as_str()), ("k03", "k03-t02"));
    assert_eq!(row[6], "Bản sửa: lừa đảo chiếm đoạt 20 triệu");
    assert_eq!(row[8], "Đang xác minh");
    assert_eq!(row[9], "Đang xác minh <b>ngay</b>");
    assert_eq!(row[10], "2", "revision written as a number");
    let all = xlsx_matches_csv(s, &cookie, "tips", "").await;
    assert_eq!(all.len(), 4);
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
    push(s, &leader.token, &[insp, id_count("k07-t04", 2)]).await;
    let (status, html) = page(s, &cookie, "/dashboard/fire").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"fire-inspected\">1<"), "{html}");
    // No households register loaded: said plainly, never estimated.
    assert!(
        html.contains("k07-t04")
            && html.contains("1 (chưa có sổ hộ)")
            && html.contains("100 %")
            && !html.contains('≈'),
        "{html}"
    );
    let (status, html) = page(
        s,
        &cookie,
        &format!("/dashboard/fire/household/k07-t04/{}", household.0),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nguyễn Văn An"));
    // The same household id under another group is another household.
    let (status, _) = page(
        s,
        &cookie,
        &format!("/dashboard/fire/household/k07-t05/{}", household.0),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
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
    assert!(csv.contains("k07,k07-t04,1,,1,0,0"), "{csv}");
    // Every table's XLSX holds what its CSV holds, read back cell by cell.
    let fire = xlsx_matches_csv(s, &cookie, "fire", "").await;
    assert_eq!(fire[0][0..3], ["Khối", "Tổ", "Hộ đã kiểm tra"]);
    assert!(
        fire.contains(
            &["k07", "k07-t04", "1", "", "1", "0", "0"]
                .map(String::from)
                .to_vec()
        )
    );
    let id06 = xlsx_matches_csv(s, &cookie, "id06", "").await;
    assert_eq!(
        id06[0],
        ["Khối", "Tổ", "Ngày", "Dân số", "Thu nhận", "Kích hoạt"]
    );
    assert_eq!(id06[1], ["k07", "k07-t04", "2025-06-01", "110", "80", "40"]);
    let devices = xlsx_matches_csv(s, &cookie, "devices", "").await;
    assert_eq!(devices[0][0], "Mã thiết bị");
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[1][0], leader.device_id.0.to_string());
    assert_eq!(
        (devices[1][2].as_str(), devices[1][6].as_str()),
        ("k07-t04", "Hoạt động")
    );
    let audit = xlsx_matches_csv(s, &cookie, "audit", "").await;
    assert_eq!(
        audit[0],
        ["Lúc", "Cán bộ", "Thao tác", "Đối tượng", "Chi tiết"]
    );
    assert!(
        audit
            .iter()
            .any(|r| r[1] == "quan-tri" && r[2] == "export" && r[3] == "fire.xlsx")
    );
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

/// `admin households import` loads a group's register all or nothing,
/// devices of that group pull its households, and the fire-safety page
/// counts registered households from it.
async fn households_register_import(s: &TestServer) {
    use sotay_server::admin::{AdminError, HouseholdImport, import_households};
    officers(s).await;
    let (cookie, _) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let leader = enroll(s, "k07-t04").await;
    let other = enroll(s, "k07-t05").await;
    push(s, &leader.token, &[inspection(1)]).await;

    let bad = "Địa chỉ,Chủ hộ,Số nhân khẩu\nSố 1 ngõ 5,Nguyễn Văn A,4\n,Trần Thị B,x\n";
    let err = import_households(s.store(), "k07-t04", bad.as_bytes(), now_micros())
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Register(_)), "{err}");
    assert!(err.to_string().contains("Line 3"), "{err}");
    assert!(
        s.store()
            .household_counts(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .is_empty(),
        "all or nothing"
    );
    assert!(matches!(
        import_households(
            s.store(),
            "k99-t99",
            b"address,head,residents\n",
            now_micros()
        )
        .await,
        Err(AdminError::UnknownGroup(_))
    ));

    let good = "\u{feff}Địa chỉ,Chủ hộ,Số nhân khẩu,Kinh doanh\n\
                Số 1 ngõ 5,Nguyễn Văn A,4,\n\
                Số 3 ngõ 5,Trần Thị B,2,có\n\
                Số 7 ngõ 5,Lê Văn C,5,\n";
    let r = import_households(s.store(), "k07-t04", good.as_bytes(), now_micros())
        .await
        .unwrap();
    assert_eq!(
        r,
        HouseholdImport {
            households: 3,
            published: 3,
            removed: 0
        }
    );
    let pulled: Vec<_> = pull(s, &leader.token, 0, 100)
        .await
        .entries
        .into_iter()
        .filter_map(|e| match e.item {
            PullItem::Household { household } => Some(household),
            _ => None,
        })
        .collect();
    let mut heads: Vec<&str> = pulled.iter().map(|h| h.head.as_str()).collect();
    heads.sort();
    assert_eq!(heads, ["Lê Văn C", "Nguyễn Văn A", "Trần Thị B"]);
    assert!(
        pulled
            .iter()
            .any(|h| h.address == "Số 3 ngõ 5" && h.has_business)
    );
    assert!(
        !pull(s, &other.token, 0, 100)
            .await
            .entries
            .iter()
            .any(|e| matches!(e.item, PullItem::Household { .. })),
        "another group's devices get none"
    );
    // Importing again updates the same households; nothing new to send.
    let r = import_households(s.store(), "k07-t04", good.as_bytes(), now_micros())
        .await
        .unwrap();
    assert_eq!(
        r,
        HouseholdImport {
            households: 3,
            published: 0,
            removed: 0
        }
    );
    assert_eq!(
        s.store()
            .household_counts(&sotay_server::store::Scope::Province)
            .await
            .unwrap(),
        vec![("k07-t04".to_owned(), 3)]
    );

    let (_, html) = page(s, &cookie, "/dashboard/fire").await;
    assert!(html.contains("<td>k07-t04</td><td>1 / 3</td>"), "{html}");
    // The block has groups without a register: no partial total.
    assert!(
        html.contains("<td>k07</td><td>1 (chưa có sổ hộ)</td>"),
        "{html}"
    );
    assert!(!html.contains('≈'));
    let (_, csv) = page(s, &cookie, "/dashboard/export/fire.csv").await;
    assert!(
        csv.contains("Hộ đăng ký,")
            && csv.contains("k07,k07-t04,1,3,1,0,0")
            && csv.contains("k07,k07-t05,0,,0,0,0"),
        "{csv}"
    );
    let (_, html) = page(s, &format!("{cookie}; sotay_lang=en"), "/dashboard/fire").await;
    assert!(html.contains("no register yet"));
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

/// A pull item and its audit entry are one transaction: when the item
/// cannot be added (unknown group) or is not added (dedupe key used), no
/// audit entry remains.
async fn decision_and_audit_are_one_transaction(s: &TestServer) {
    use sotay_server::store::NewAudit;
    let store = s.store();
    let audit = NewAudit {
        at: now_micros(),
        username: "can-bo".into(),
        action: "tip-status".into(),
        target: "x".into(),
        detail: "received: ".into(),
        ward: None,
    };
    let leader = enroll(s, "k01-t01").await;
    let sent = tip(1);
    push(s, &leader.token, std::slice::from_ref(&sent)).await;
    let item = PullItem::TipStatus {
        report_id: sent.report_id,
        status: WardStatus::Received,
        note: None,
        decided_at: now_micros(),
    };
    let logged = || async {
        store
            .audit_log(&sotay_server::store::Scope::Province, 1000)
            .await
            .unwrap()
            .len()
    };
    let before = logged().await;
    // A decision on a tip the server does not hold is refused whole.
    let unknown = PullItem::TipStatus {
        report_id: ReportId::new_v7(),
        status: WardStatus::Received,
        note: None,
        decided_at: now_micros(),
    };
    assert!(
        store
            .add_pull_item(Some("k01-t01"), &unknown, None, now_micros(), Some(&audit))
            .await
            .is_err()
    );
    assert_eq!(logged().await, before, "audit rolled back with the item");
    assert!(
        pull(s, &leader.token, 0, 100)
            .await
            .entries
            .iter()
            .all(|e| !matches!(
                &e.item,
                PullItem::TipStatus { report_id, .. } if *report_id != sent.report_id
            ))
    );
    assert!(
        store
            .add_pull_item(
                Some("no-such-group"),
                &item,
                None,
                now_micros(),
                Some(&audit)
            )
            .await
            .is_err()
    );
    assert_eq!(logged().await, before, "audit rolled back with the item");
    let seq = store
        .add_pull_item(
            Some("k01-t01"),
            &item,
            Some("once"),
            now_micros(),
            Some(&audit),
        )
        .await
        .unwrap();
    assert!(seq.is_some());
    assert_eq!(logged().await, before + 1);
    let again = store
        .add_pull_item(
            Some("k01-t01"),
            &item,
            Some("once"),
            now_micros(),
            Some(&audit),
        )
        .await
        .unwrap();
    assert_eq!(again, None);
    assert_eq!(logged().await, before + 1, "nothing added, nothing logged");

    // Every administrative change writes its entry with it, and only when
    // it happened.
    let entry = |action: &str| NewAudit {
        action: action.into(),
        ..audit.clone()
    };
    let actions = || async {
        store
            .audit_log(&sotay_server::store::Scope::Province, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect::<Vec<_>>()
    };
    let officer = sotay_server::store::OfficerRow {
        username: "moi".into(),
        password_hash: "x".into(),
        role: "officer".into(),
        created_at: now_micros(),
        failed_logins: 0,
        locked_until: None,
        deactivated_at: None,
        key_public: None,
        key_wrapped: None,
        sees_sources: false,
        must_change_password: false,
        ward: Some("hht".into()),
    };
    assert!(
        store
            .add_officer(&officer, Some(&entry("add-officer")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_officer(&officer, Some(&entry("add-officer")))
            .await
            .unwrap()
    );
    store
        .set_login_state("moi", 0, None, Some(&entry("unlock-officer")))
        .await
        .unwrap();
    store
        .set_login_state("nobody", 0, None, Some(&entry("unlock-officer")))
        .await
        .unwrap();
    assert!(
        store
            .deactivate_officer("moi", now_micros(), Some(&entry("deactivate-officer")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .deactivate_officer("nobody", now_micros(), Some(&entry("deactivate-officer")))
            .await
            .unwrap()
    );
    let (device, _) = s.enroll_device("k01-t01").await.unwrap();
    assert!(
        store
            .revoke(device, now_micros(), Some(&entry("revoke-device")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke(
                sotay_domain::wire::DeviceId(uuid::Uuid::nil()),
                now_micros(),
                Some(&entry("revoke-device"))
            )
            .await
            .unwrap()
    );
    let place = store.group_place("k01-t01").await.unwrap().unwrap();
    store
        .seed_groups(
            &[sotay_server::store::GroupSeed { place }],
            Some(&entry("rename-group")),
        )
        .await
        .unwrap();
    let log = actions().await;
    let newest: Vec<&str> = log.iter().take(5).map(String::as_str).collect();
    assert_eq!(
        newest,
        [
            "rename-group",
            "revoke-device",
            "deactivate-officer",
            "unlock-officer",
            "add-officer"
        ],
        "newest first, one entry per change that happened"
    );
    assert_eq!(log.len(), before + 6);
}

/// Idle timeout, on the store's clock: each use restarts it; the absolute
/// lifetime still ends a session that is used all along.
async fn sessions_end_when_idle_store(s: &TestServer) {
    officers(s).await;
    let store = s.store();
    let idle = TimeDelta::minutes(30);
    let t0 = now_micros();
    let min = TimeDelta::minutes;
    store
        .create_session("h1", "can-bo", "c1", t0 + TimeDelta::hours(8), t0)
        .await
        .unwrap();
    assert!(
        store
            .session("h1", t0 + min(29), idle)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("h1", t0 + min(58), idle)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("h1", t0 + min(88), idle)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session("h1", t0 + min(60), idle)
            .await
            .unwrap()
            .is_none(),
        "stays ended"
    );
    store
        .create_session("h2", "can-bo", "c2", t0 + min(50), t0)
        .await
        .unwrap();
    assert!(
        store
            .session("h2", t0 + min(25), idle)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("h2", t0 + min(49), idle)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("h2", t0 + min(50), idle)
            .await
            .unwrap()
            .is_none(),
        "absolute"
    );
}

/// Idle timeout through HTTP, with a one-second idle limit.
async fn sessions_end_when_idle(s: &TestServer) {
    officers(s).await;
    let (cookie, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(
            page(s, &cookie, "/dashboard/tips").await.0,
            StatusCode::OK,
            "in use"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(
        page(s, &cookie, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER
    );
}

async fn start_idle_sessions(backend: sotay_server::testing::Backend) -> Option<TestServer> {
    start_with(
        backend,
        sotay_server::Config {
            session_idle: TimeDelta::seconds(1),
            ..Default::default()
        },
    )
    .await
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

/// A sync that only pulls (nothing to send) still counts as the device's
/// last sync on the devices page.
async fn a_pull_counts_as_a_sync(s: &TestServer) {
    let (device, token) = s.enroll_device("k03-t02").await.expect("device");
    let before = s.store().last_push_per_device().await.expect("last sync");
    assert!(
        !before.iter().any(|(id, _)| *id == device),
        "never synced yet"
    );
    pull(s, &token, 0, 10).await;
    let after = s.store().last_push_per_device().await.expect("last sync");
    let seen = after
        .iter()
        .find(|(id, _)| *id == device)
        .map(|(_, at)| *at)
        .expect("the pull counts");
    assert!(seen <= now_micros() && seen > now_micros() - TimeDelta::minutes(1));
    // A later push moves it on; an earlier time never wins.
    push(s, &token, &[tip(1)]).await;
    let last = s.store().last_push_per_device().await.expect("last sync");
    let pushed = last.iter().find(|(id, _)| *id == device).map(|(_, at)| *at);
    assert!(pushed.is_some_and(|p| p >= seen));
}

/// A register loaded again replaces the previous one: households absent
/// from the new file are deleted and their removal reaches the group's
/// devices; changed ones are published again; one that comes back is
/// published again even though its content is as before.
async fn a_new_register_replaces_the_old(s: &TestServer) {
    use sotay_server::admin::{HouseholdImport, import_households};
    let leader = enroll(s, "k07-t04").await;
    let import = |csv: &'static str| async move {
        import_households(s.store(), "k07-t04", csv.as_bytes(), now_micros())
            .await
            .unwrap()
    };
    let three = "address,head,residents
Số 1 ngõ 5,Nguyễn Văn A,4
Số 3 ngõ 5,Trần Thị B,2
Số 7 ngõ 5,Lê Văn C,5
";
    import(three).await;
    let first = pull(s, &leader.token, 0, 100).await;
    let id_of = |head: &str| {
        first
            .entries
            .iter()
            .find_map(|e| match &e.item {
                PullItem::Household { household } if household.head == head => Some(household.id),
                _ => None,
            })
            .unwrap()
    };
    let (b, c) = (id_of("Trần Thị B"), id_of("Lê Văn C"));

    // C moved away; B's household grew.
    let two = "address,head,residents
Số 1 ngõ 5,Nguyễn Văn A,4
Số 3 ngõ 5,Trần Thị B,3
";
    let r = import(two).await;
    assert_eq!(
        r,
        HouseholdImport {
            households: 2,
            published: 1,
            removed: 1
        }
    );
    let later = pull(s, &leader.token, first.next_cursor, 100).await;
    let items: Vec<&PullItem> = later.entries.iter().map(|e| &e.item).collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().any(
        |i| matches!(i, PullItem::Household { household } if household.id == b && household.residents == 3)
    ));
    assert!(items.contains(&&PullItem::HouseholdRemoved { household_id: c }));
    assert_eq!(
        s.store()
            .household_counts(&sotay_server::store::Scope::Province)
            .await
            .unwrap(),
        vec![("k07-t04".to_owned(), 2)]
    );

    // C comes back: published again, nothing removed.
    let r = import(three).await;
    assert_eq!((r.published, r.removed), (2, 0), "C back, B back to 2");
    let back = pull(s, &leader.token, later.next_cursor, 100).await;
    assert!(
        back.entries
            .iter()
            .any(|e| matches!(&e.item, PullItem::Household { household } if household.id == c))
    );
    // The same file again: nothing to send.
    assert_eq!(
        (import(three).await.published, import(three).await.removed),
        (0, 0)
    );
}

/// An officer given the "see sources" permission with the ward's recovery
/// passphrase, as `admin officer add --sources` does.
async fn officer_with_sources(s: &TestServer, username: &str, role: Role) {
    use sotay_server::sources;
    add_officer(
        s.store(),
        NewOfficer::own(username, PASSWORD, role),
        now_micros(),
        None,
    )
    .await
    .unwrap();
    let keys = sources::recovered_keys(s.store(), "hht", &s.recovery_passphrase)
        .await
        .unwrap();
    sources::grant(s.store(), username, &keys, None)
        .await
        .unwrap();
}

const INFORMANT: &str = "Nguyễn Thị Tư";
const INFORMANT_PHONE: &str = "0912345678";
const SECRET_NOTE: &str = "Nhà số 7, hay về muộn";

fn holds_no_source(text: &str) {
    for secret in [
        INFORMANT,
        INFORMANT_PHONE,
        SECRET_NOTE,
        "Ông Ba Lén",
        "0987654321",
    ] {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
}

/// A tip sent by an app older than sealing (the source in clear) and an
/// "anonymous" tip smuggling a name: the server stores neither name, seals
/// the first, shows the source only to an officer with the permission
/// after auditing it, and no export ever holds a source.
async fn sources_are_sealed_and_revealed_only_to_permitted_officers(s: &TestServer) {
    use sotay_server::sources;
    officers(s).await;
    assert!(matches!(
        sources::recovered_keys(s.store(), "hht", "0000-0000-0000-0000-0000-0000").await,
        Err(sources::SourceError::BadPassphrase)
    ));
    // Typed loosely (lower case) the passphrase still opens the keys.
    let keys = sources::recovered_keys(s.store(), "hht", &s.recovery_passphrase.to_lowercase())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    officer_with_sources(s, "nguon-tin", Role::Admin).await;

    let dev = enroll(s, "k01-t01").await;
    let named = ReportId::new_v7();
    let mut payload = tip_payload("Có người lạ bán ma tuý ở hẻm 5 mỗi tối");
    payload["source"] = json!({"kind": "resident", "informant":
        {"kind": "named", "name": INFORMANT, "phone": INFORMANT_PHONE}});
    payload["confidential_note"] = json!(SECRET_NOTE);
    let anonymous = ReportId::new_v7();
    let mut smuggled = tip_payload("Đánh bạc ở quán nước cuối ngõ 9");
    smuggled["source"] = json!({"kind": "resident", "informant":
        {"kind": "anonymous", "name": "Ông Ba Lén", "phone": "0987654321"}});
    smuggled["informant_name"] = json!("Ông Ba Lén");
    let (status, body) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": [raw_change(named, 1, 1, "tip", payload),
                            raw_change(anonymous, 2, 1, "tip", smuggled)]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "accepted"),
        "{body}"
    );

    for id in [named, anonymous] {
        for r in s.store().report_revisions(id).await.unwrap() {
            holds_no_source(&r.payload.to_string());
        }
    }
    let stored = &s.store().report_revisions(named).await.unwrap()[0].payload;
    assert_eq!(stored["source"]["informant"]["kind"], "sealed");
    assert!(stored["sealed"]["ciphertext"].is_string());
    assert!(stored.get("confidential_note").is_none());

    // No export carries a source, sealed or not.
    for format in [
        sotay_server::admin::ExportFormat::Json,
        sotay_server::admin::ExportFormat::Csv,
    ] {
        let mut out = Vec::new();
        sotay_server::admin::export(
            s.store(),
            &sotay_server::store::Scope::Province,
            format,
            None,
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        holds_no_source(&text);
        assert!(!text.contains("ciphertext"), "{text}");
    }
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    for file in ["tips.csv", "tips.xlsx"] {
        let bytes = download(s, &cookie, &format!("/dashboard/export/{file}")).await;
        let text = String::from_utf8_lossy(&bytes);
        holds_no_source(&text);
    }

    // Everyone sees that a source exists, nobody its content on the page.
    let (status, html) = page(s, &cookie, &format!("/dashboard/tips/{named}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Người dân (có tên, đã niêm phong)"), "{html}");
    holds_no_source(&html);
    assert!(
        !html.contains("id=\"reveal\""),
        "no button without the permission"
    );

    // An officer without the permission is refused, and that is audited.
    let path = format!("/dashboard/tips/{named}/source");
    let (status, html) = form_page(s, &cookie, &path, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    holds_no_source(&html);
    assert_eq!(
        form(s, &cookie, &path, &[("csrf", "wrong")]).await,
        StatusCode::FORBIDDEN
    );
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "source-reveal-refused"
        && a.username == "can-bo"
        && a.target == named.to_string()));

    // The officer with the permission sees it, after the audit entry.
    let (cookie2, csrf2) = login(s, "nguon-tin", PASSWORD).await.unwrap();
    let (_, html) = page(s, &cookie2, &format!("/dashboard/tips/{named}")).await;
    assert!(html.contains("id=\"reveal\""), "{html}");
    let (status, html) = form_page(s, &cookie2, &path, &[("csrf", &csrf2)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(INFORMANT) && html.contains(INFORMANT_PHONE) && html.contains(SECRET_NOTE),
        "{html}"
    );
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "source-reveal"
        && a.username == "nguon-tin"
        && a.target == named.to_string()));

    // An admin without the permission cannot give it; one with it can,
    // and can take it back.
    let (cookie3, csrf3) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let grant = |c: &str| [("csrf", c.to_owned()), ("action", "grant".to_owned())];
    let g = grant(&csrf3);
    let g: Vec<(&str, &str)> = g.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        form(s, &cookie3, "/dashboard/officers/can-bo/sources", &g).await,
        StatusCode::FORBIDDEN
    );
    let g = grant(&csrf2);
    let g: Vec<(&str, &str)> = g.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        form(s, &cookie2, "/dashboard/officers/can-bo/sources", &g).await,
        StatusCode::SEE_OTHER
    );
    // can-bo's session started before the grant: a new login holds the key.
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    assert_eq!(
        form(s, &cookie, &path, &[("csrf", &csrf)]).await,
        StatusCode::OK
    );
    assert_eq!(
        form(
            s,
            &cookie2,
            "/dashboard/officers/can-bo/sources",
            &[("csrf", &csrf2), ("action", "withdraw")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        form(s, &cookie, &path, &[("csrf", &csrf)]).await,
        StatusCode::FORBIDDEN
    );
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap();
    for action in ["grant-sources", "withdraw-sources"] {
        assert!(
            audit
                .iter()
                .any(|a| a.action == action && a.target == "can-bo"),
            "{action}"
        );
    }
    // Logging out drops the key from memory: the session is gone anyway.
    assert_eq!(
        form(s, &cookie2, "/dashboard/logout", &[("csrf", &csrf2)]).await,
        StatusCode::SEE_OTHER
    );
}

/// A sealed block copied into another tip does not open there (and the
/// failure is audited); one naming another ward or an unknown key is
/// refused at ingest.
async fn a_moved_or_misplaced_sealed_block_does_not_open(s: &TestServer) {
    officer_with_sources(s, "nguon-tin", Role::Officer).await;
    let dev = enroll(s, "k01-t01").await;
    let original = ReportId::new_v7();
    let mut payload = tip_payload("Có người lạ bán ma tuý ở hẻm 5 mỗi tối");
    payload["source"] =
        json!({"kind": "resident", "informant": {"kind": "named", "name": INFORMANT}});
    let r = push(
        s,
        &dev.token,
        &[serde_json::from_value(raw_change(original, 1, 1, "tip", payload)).unwrap()],
    )
    .await;
    assert!(matches!(
        r.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));
    let sealed = s.store().report_revisions(original).await.unwrap()[0].payload["sealed"].clone();

    let moved = ReportId::new_v7();
    let mut copy = tip_payload("Tin khác, mượn nguồn của tin trước");
    copy["source"] = json!({"kind": "resident", "informant": {"kind": "sealed"}});
    copy["sealed"] = sealed.clone();
    let mut other_ward = copy.clone();
    other_ward["sealed"]["ward"] = json!("k99");
    let mut unknown_key = copy.clone();
    unknown_key["sealed"]["key_id"] = json!("00000000deadbeef");
    let mut later_rev = copy.clone();
    later_rev["sealed"]["rev"] = json!(5);
    let (_, body) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": [raw_change(moved, 2, 1, "tip", copy),
            raw_change(ReportId::new_v7(), 3, 1, "tip", other_ward),
            raw_change(ReportId::new_v7(), 4, 1, "tip", unknown_key),
            raw_change(ReportId::new_v7(), 5, 1, "tip", later_rev)]}),
    )
    .await;
    let outcomes: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap_or("accepted"))
        .collect();
    assert_eq!(
        outcomes,
        [
            "accepted",
            "source-misplaced",
            "source-key-unknown",
            "source-misplaced"
        ],
        "{body}"
    );

    let (cookie, csrf) = login(s, "nguon-tin", PASSWORD).await.unwrap();
    let (status, html) = form_page(
        s,
        &cookie,
        &format!("/dashboard/tips/{moved}/source"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    holds_no_source(&html);
    assert!(
        s.store()
            .audit_log(&sotay_server::store::Scope::Province, 20)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "source-reveal-failed" && a.target == moved.to_string())
    );
    assert_eq!(
        form(
            s,
            &cookie,
            &format!("/dashboard/tips/{original}/source"),
            &[("csrf", &csrf)]
        )
        .await,
        StatusCode::OK
    );
}

/// An officer changes their own password: the old one stops working,
/// their other sessions end, and their key (rewrapped) still opens the
/// sources. An admin's reset gives a new key and withdraws the permission
/// until an officer who holds the keys grants it again.
async fn a_password_change_keeps_the_sources_and_a_reset_withdraws_them(s: &TestServer) {
    officer_with_sources(s, "nguon-tin", Role::Admin).await;
    officer_with_sources(s, "lan", Role::Officer).await;
    let dev = enroll(s, "k01-t01").await;
    let id = ReportId::new_v7();
    let mut payload = tip_payload("Có người lạ bán ma tuý ở hẻm 5 mỗi tối");
    payload["source"] =
        json!({"kind": "resident", "informant": {"kind": "named", "name": INFORMANT}});
    push(
        s,
        &dev.token,
        &[serde_json::from_value(raw_change(id, 1, 1, "tip", payload)).unwrap()],
    )
    .await;
    let reveal = format!("/dashboard/tips/{id}/source");

    let (other, _) = login(s, "lan", PASSWORD).await.unwrap();
    let (cookie, csrf) = login(s, "lan", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, "/dashboard/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"password-form\""));
    let new_password = "mật-khẩu-mới-dài-hơn";
    for (current, again) in [
        ("sai-mat-khau-roi", new_password),
        (PASSWORD, "khác-hẳn-mật-khẩu"),
    ] {
        let fields = [
            ("csrf", csrf.as_str()),
            ("current", current),
            ("new", new_password),
            ("again", again),
        ];
        assert_eq!(
            form(s, &cookie, "/dashboard/account/password", &fields).await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        form(
            s,
            &cookie,
            "/dashboard/account/password",
            &[
                ("csrf", "wrong"),
                ("current", PASSWORD),
                ("new", new_password),
                ("again", new_password)
            ]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("current", PASSWORD),
        ("new", new_password),
        ("again", new_password),
    ];
    assert_eq!(
        form(s, &cookie, "/dashboard/account/password", &fields).await,
        StatusCode::OK
    );
    // This session goes on and still holds the key; the other one ended.
    assert_eq!(
        form(s, &cookie, &reveal, &[("csrf", &csrf)]).await,
        StatusCode::OK
    );
    assert_eq!(
        page(s, &other, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(s, "lan", PASSWORD).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let (cookie, csrf) = login(s, "lan", new_password).await.unwrap();
    assert_eq!(
        form(s, &cookie, &reveal, &[("csrf", &csrf)]).await,
        StatusCode::OK
    );
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "change-password" && a.username == "lan")
    );
    assert!(
        audit
            .iter()
            .any(|a| a.action == "change-password-refused" && a.username == "lan")
    );

    // A reset: sessions end, the permission is withdrawn, a holder grants it again.
    sotay_server::dashboard::accounts::reset_password(
        s.store(),
        "lan",
        "mật-khẩu-quản-trị-đặt",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        page(s, &cookie, "/dashboard/tips").await.0,
        StatusCode::SEE_OTHER
    );
    let lan = s.store().officer("lan").await.unwrap().unwrap();
    assert!(!lan.sees_sources);
    assert!(
        s.store()
            .key_copies("officer:lan")
            .await
            .unwrap()
            .is_empty()
    );
    // The admin knows the reset password: lan chooses her own first.
    let (cookie, csrf) =
        choose_own_password(s, "lan", "mật-khẩu-quản-trị-đặt", "lan-tự-chọn-mật-khẩu").await;
    assert_eq!(
        form(s, &cookie, &reveal, &[("csrf", &csrf)]).await,
        StatusCode::FORBIDDEN
    );
    let (admin, admin_csrf) = login(s, "nguon-tin", PASSWORD).await.unwrap();
    assert_eq!(
        form(
            s,
            &admin,
            "/dashboard/officers/lan/sources",
            &[("csrf", &admin_csrf), ("action", "grant")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (cookie, csrf) = login(s, "lan", "lan-tự-chọn-mật-khẩu").await.unwrap();
    assert_eq!(
        form(s, &cookie, &reveal, &[("csrf", &csrf)]).await,
        StatusCode::OK
    );
}

/// The devices page makes a one-time code for a group and shows it as a
/// QR code (inline SVG) with its link and expiry; the code enrolls once.
async fn an_admin_enrolls_a_phone_with_a_qr_code(s: &TestServer) {
    officers(s).await;
    let (officer, officer_csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    assert_eq!(
        form(
            s,
            &officer,
            "/dashboard/devices/enroll",
            &[
                ("csrf", &officer_csrf),
                ("group", "k02-t03"),
                ("hours", "72")
            ]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    let (cookie, csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let (_, html) = page(s, &cookie, "/dashboard/devices").await;
    assert!(html.contains("id=\"enroll-form\""), "{html}");
    assert_eq!(
        form(
            s,
            &cookie,
            "/dashboard/devices/enroll",
            &[("csrf", &csrf), ("group", "k02-t03"), ("hours", "9999")]
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    let (status, html) = form_page(
        s,
        &cookie,
        "/dashboard/devices/enroll",
        &[("csrf", &csrf), ("group", "k02-t03"), ("hours", "72")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<svg") && html.contains("id=\"enroll-qr\""),
        "{html}"
    );
    let link = html
        .split("id=\"enroll-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let code = html
        .split("id=\"enroll-code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with("sotay://enroll?server=http%3A%2F%2F127.0.0.1"),
        "{link}"
    );
    assert!(link.ends_with(&format!("code={code}")), "{link}");
    let (status, body) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": code, "device_name": "quét QR"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["place"]["group"]["code"], "k02-t03");
    let (status, _) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": code, "device_name": "lần hai"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a code works once");
    assert!(
        s.store()
            .audit_log(&sotay_server::store::Scope::Province, 20)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "issue-enroll-code" && a.target == "k02-t03")
    );
}

/// A device of one group cannot take another group's Đề án 06 day (the id
/// is derived from ward, group and day, so anyone could compute it), nor
/// move its own count to another day, nor inspect a household of another
/// group's register.
async fn no_group_writes_another_groups_count_or_household(s: &TestServer) {
    use sotay_domain::wire::ChangeOutcome;
    let a = enroll(s, "k01-t01").await;
    let b = enroll(s, "k01-t02").await;
    let code = |r: &sotay_domain::wire::PushResponse| -> Vec<String> {
        r.results
            .iter()
            .map(|x| match &x.outcome {
                ChangeOutcome::Accepted { .. } => "accepted".to_owned(),
                ChangeOutcome::Rejected { code, .. } => code.code().to_owned(),
            })
            .collect()
    };
    // A pushes under B's id for the day: refused; B's own count then goes in.
    let stolen = id_count("k01-t02", 1);
    assert_eq!(
        code(&push(s, &a.token, std::slice::from_ref(&stolen)).await),
        ["count-id-mismatch"]
    );
    assert_eq!(
        code(&push(s, &b.token, &[id_count("k01-t02", 1)]).await),
        ["accepted"]
    );
    // A's own count, then a revision that moves it to another day: refused.
    let own = id_count("k01-t01", 2);
    assert_eq!(
        code(&push(s, &a.token, std::slice::from_ref(&own)).await),
        ["accepted"]
    );
    let mut moved = own.clone();
    moved.device_seq = 3;
    moved.rev = 2;
    moved.payload["date"] = json!("2025-06-02");
    assert_eq!(
        code(&push(s, &a.token, &[moved]).await),
        ["count-id-mismatch"]
    );

    // B's register holds a household; A inspecting it is refused.
    sotay_server::admin::import_households(
        s.store(),
        "k01-t02",
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n5 hẻm 3 Nguyễn Du,Trần Thị Bình,6\n".as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let household = pull(s, &b.token, 0, 100)
        .await
        .entries
        .into_iter()
        .find_map(|e| match e.item {
            PullItem::Household { household } => Some(household.id),
            _ => None,
        })
        .unwrap();
    let inspect = |seq: i64| {
        let mut c = inspection(seq);
        c.payload["household_id"] = json!(household);
        c
    };
    assert_eq!(code(&push(s, &a.token, &[inspect(4)]).await), ["forbidden"]);
    assert_eq!(code(&push(s, &b.token, &[inspect(5)]).await), ["accepted"]);
}

/// Device text that a spreadsheet would run as a formula reaches the CSV
/// exports as text (a leading apostrophe); the XLSX keeps it a string cell.
async fn exports_never_carry_a_live_formula(s: &TestServer) {
    officers(s).await;
    let dev = enroll(s, "k01-t01").await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"Bấm vào đây\")";
    let mut c = tip_change(1, "fraud", "normal", formula);
    c.payload["location"] = json!({"text": "@SUM(1+1)*cmd|' /C calc'!A0"});
    push(s, &dev.token, &[c]).await;
    let (cookie, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let csv = read_csv(&download(s, &cookie, "/dashboard/export/tips.csv").await);
    let row = &csv[1];
    assert!(row.contains(&format!("'{formula}")), "{row:?}");
    assert!(row.iter().any(|c| c.starts_with("'@SUM")), "{row:?}");
    assert!(
        !row.iter().any(|c| c.starts_with('=') || c.starts_with('@')),
        "{row:?}"
    );
    let xlsx = download(s, &cookie, "/dashboard/export/tips.xlsx").await;
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    assert!(
        book.worksheet_formula("tips")
            .unwrap()
            .used_cells()
            .next()
            .is_none(),
        "no formula cell"
    );
    let range = book.worksheet_range("tips").unwrap();
    assert!(
        range
            .rows()
            .nth(1)
            .unwrap()
            .iter()
            .any(|c| matches!(c, Data::String(t) if t == formula))
    );
}

/// Every answer says nosniff, no framing, no referrer and a strict content
/// policy; the server's address leads a browser to the dashboard.
async fn every_answer_carries_the_security_headers(s: &TestServer) {
    let http = browser();
    for path in [
        "/dashboard/login",
        "/v1/server-info",
        "/dashboard/static/app.css",
        "/nowhere",
    ] {
        let res = http.get(format!("{}{path}", s.url())).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{path}: {csp}"
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    let res = http.get(format!("{}/", s.url())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/dashboard");
}

/// Forty bogus logins at once from one address: the address's limit (20
/// a minute, counted atomically) turns the rest away with 429 before any
/// argon2 runs, and a device's sync in the middle of it completes.
async fn a_burst_of_logins_is_bounded_and_sync_goes_on(s: &TestServer) {
    let dev = enroll(s, "k01-t01").await;
    let burst =
        futures_util::future::join_all((0..40).map(|i| async move {
            login(s, &format!("khong-co-{i}"), "mật-khẩu-bất-kỳ").await
        }));
    let sync = async {
        let r = push(s, &dev.token, &[tip(1)]).await;
        pull(s, &dev.token, 0, 100).await;
        r
    };
    let (results, pushed) = tokio::join!(burst, sync);
    assert_eq!(pushed.checkpoint, 1, "the device's sync completed");
    let statuses: Vec<StatusCode> = results
        .into_iter()
        .map(|r| r.expect_err("no such officer"))
        .collect();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!((tried, limited), (20, 20), "{statuses:?}");
}

/// Twelve wrong passwords for one account at once: every one is counted
/// (atomically), the account ends locked, and then even the right
/// password is refused until the lock ends.
async fn parallel_wrong_guesses_lock_the_account(s: &TestServer) {
    officers(s).await;
    let guesses = futures_util::future::join_all(
        (0..12).map(|i| async move { login(s, "can-bo", &format!("đoán-sai-lần-{i}")).await }),
    )
    .await;
    assert!(guesses.iter().all(Result::is_err));
    let officer = s.store().officer("can-bo").await.unwrap().unwrap();
    assert!(
        officer.locked_until.is_some_and(|u| u > now_micros()),
        "locked"
    );
    assert_eq!(
        login(s, "can-bo", PASSWORD).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    assert!(
        s.store()
            .audit_log(&sotay_server::store::Scope::Province, 50)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "login-locked" && a.username == "can-bo")
    );
}

/// The inbox is filtered, counted and paged by the store: every filter
/// and every page gives exactly the tips that filtering all of them in
/// memory gives, newest first, and a page holds at most its size.
async fn the_inbox_is_filtered_and_paged_by_the_store(s: &TestServer) {
    use sotay_domain::tip::{TipCategory, Urgency};
    use sotay_server::store::TipQuery;
    officers(s).await;
    let a = enroll(s, "k02-t01").await;
    let b = enroll(s, "k09-t03").await;
    let cats = ["fraud", "theft", "drugs", "gambling"];
    let mut seq = 0;
    let mut next = |n: usize| -> Vec<Change> {
        (0..n)
            .map(|i| {
                seq += 1;
                let urgency = if i % 5 == 0 { "urgent" } else { "normal" };
                tip_change(
                    seq,
                    cats[i % cats.len()],
                    urgency,
                    &format!("Tin số {seq} ở ngõ {i}"),
                )
            })
            .collect()
    };
    // Three pushes apart, so that receipts differ in time, and ties too.
    let mut ids = Vec::new();
    for (device, n) in [(&a, 40), (&b, 35), (&a, 45)] {
        let batch = next(n);
        ids.extend(batch.iter().map(|c| c.report_id));
        push(s, &device.token, &batch).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let decided = [
        (ids[0], WardStatus::Verifying),
        (ids[7], WardStatus::Resolved),
        (ids[50], WardStatus::Verifying),
    ];
    for (id, status) in decided {
        sotay_server::admin::set_tip_status(
            s.store(),
            id,
            WardStatus::Received,
            None,
            now_micros(),
            &sotay_server::admin::command_audit("tip-status", "test", ""),
        )
        .await
        .unwrap();
        // The latest decision counts, not the first.
        sotay_server::admin::set_tip_status(
            s.store(),
            id,
            status,
            None,
            now_micros(),
            &sotay_server::admin::command_audit("tip-status", "test", ""),
        )
        .await
        .unwrap();
    }
    // The peer: every tip read whole, filtered in memory.
    let all = s
        .store()
        .export(&sotay_server::store::Scope::Province, Some(ReportKind::Tip))
        .await
        .unwrap();
    let status_of = |id: ReportId| decided.iter().find(|d| d.0 == id).map(|d| d.1);
    let expect = |q: &TipQuery| -> Vec<ReportId> {
        let mut rows: Vec<_> = all
            .iter()
            .filter(|r| {
                let tip: sotay_domain::Tip = serde_json::from_value(r.payload.clone()).unwrap();
                q.category.is_none_or(|c| c == tip.category)
                    && q.urgency.is_none_or(|u| u == tip.urgency)
                    && q.group.as_ref().is_none_or(|g| *g == r.group)
                    && q.block
                        .as_ref()
                        .is_none_or(|b| r.group.starts_with(b.as_str()))
                    && q.status.is_none_or(|st| st == status_of(r.id))
                    && q.received_from.is_none_or(|t| r.receipt.received_at >= t)
                    && q.received_before.is_none_or(|t| r.receipt.received_at < t)
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse((r.receipt.received_at, r.id.0)));
        rows.into_iter().map(|r| r.id).collect()
    };
    let today = sotay_domain::vietnam_date(now_micros());
    let queries = [
        TipQuery::default(),
        TipQuery {
            category: Some(TipCategory::Fraud),
            ..Default::default()
        },
        TipQuery {
            urgency: Some(Urgency::Urgent),
            group: Some("k02-t01".into()),
            ..Default::default()
        },
        TipQuery {
            block: Some("k09".into()),
            ..Default::default()
        },
        TipQuery {
            status: Some(None),
            ..Default::default()
        },
        TipQuery {
            status: Some(Some(WardStatus::Verifying)),
            ..Default::default()
        },
        TipQuery {
            status: Some(Some(WardStatus::Received)),
            ..Default::default()
        },
        TipQuery {
            received_from: Some(sotay_domain::vietnam_day_start(today)),
            category: Some(TipCategory::Theft),
            ..Default::default()
        },
        TipQuery {
            received_before: Some(sotay_domain::vietnam_day_start(today)),
            ..Default::default()
        },
    ];
    for q in &queries {
        let want = expect(q);
        let mut got = Vec::new();
        for page in 0..4 {
            let found = s.store().tip_inbox(q, page * 32, 32).await.unwrap();
            assert!(found.rows.len() <= 32);
            assert_eq!(found.total, want.len() as u64, "{q:?}");
            got.extend(found.rows.iter().map(|r| r.report.id));
        }
        assert_eq!(got, want, "{q:?}");
    }
    let found = s
        .store()
        .tip_inbox(&TipQuery::default(), 0, 10)
        .await
        .unwrap();
    let count = |st: Option<WardStatus>| found.by_status.iter().find(|c| c.0 == st).unwrap().1;
    assert_eq!(
        (
            count(None),
            count(Some(WardStatus::Verifying)),
            count(Some(WardStatus::Resolved))
        ),
        (117, 2, 1)
    );
    let one = s
        .store()
        .tip_inbox(&TipQuery::default(), 0, 1)
        .await
        .unwrap();
    let row = &one.rows[0];
    assert_eq!(row.report.id, expect(&TipQuery::default())[0]);

    // Through the page: 50 a page, links to the others, filters kept.
    let (cookie, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (_, html) = page(s, &cookie, "/dashboard/tips").await;
    assert!(html.contains("id=\"tip-total\">120 "), "{html}");
    assert_eq!(html.matches("<a href=\"/dashboard/tips/").count(), 50);
    assert!(
        html.contains("id=\"next-page\" href=\"/dashboard/tips?page=2\""),
        "{html}"
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips?page=3").await;
    assert_eq!(html.matches("<a href=\"/dashboard/tips/").count(), 20);
    assert!(
        html.contains("Trang 3 / 3") && !html.contains("next-page"),
        "{html}"
    );
    let fraud = expect(&TipQuery {
        category: Some(TipCategory::Fraud),
        ..Default::default()
    });
    let (_, html) = page(s, &cookie, "/dashboard/tips?category=fraud&page=1").await;
    assert!(
        html.contains(&format!("id=\"tip-total\">{} ", fraud.len())),
        "{html}"
    );
    assert!(!html.contains("id=\"pages\""), "one page only");
    // A filter that names nothing lists nothing, and says so.
    let (status, html) = page(s, &cookie, "/dashboard/tips?category=not-a-category").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"tip-total\">0 "), "{html}");
    // The export holds every matching tip, not one page.
    let csv = read_csv(&download(s, &cookie, "/dashboard/export/tips.csv?category=theft").await);
    let theft = expect(&TipQuery {
        category: Some(TipCategory::Theft),
        ..Default::default()
    });
    assert_eq!(csv.len() - 1, theft.len());
    assert!(!theft.is_empty());
}

fn admin_entry(action: &str, target: &str) -> sotay_server::store::NewAudit {
    sotay_server::store::NewAudit {
        at: now_micros(),
        username: "(admin command)".into(),
        action: action.into(),
        target: target.into(),
        detail: String::new(),
        ward: None,
    }
}

/// A report stored under the wrong group is moved to the right one (whose
/// devices may then revise it, while the old group's may not) or deleted
/// with its revisions and decision; both audited. A count cannot move (its
/// id is its group's) and an inspection only to its household's group.
async fn a_wrongly_owned_report_is_moved_or_deleted(s: &TestServer) {
    use sotay_server::admin::{AdminError, delete_report, move_report};
    use sotay_server::store::TipQuery;
    let wrong = enroll(s, "k01-t01").await;
    let right = enroll(s, "k01-t02").await;
    let tip1 = tip(1);
    let insp = inspection(2);
    let count = id_count("k01-t01", 3);
    push(
        s,
        &wrong.token,
        &[tip1.clone(), insp.clone(), count.clone()],
    )
    .await;

    let from = move_report(
        s.store(),
        tip1.report_id,
        "k01-t02",
        admin_entry("move-report", &tip1.report_id.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(from, "k01-t01");
    let revise = |seq| tip_with(tip1.report_id, seq, 2);
    let res = push(s, &wrong.token, &[revise(4)]).await;
    assert!(
        matches!(&res.results[0].outcome, sotay_domain::wire::ChangeOutcome::Rejected { code, .. } if *code == sotay_domain::wire::RejectionCode::Forbidden),
        "{res:?}"
    );
    let res = push(s, &right.token, &[revise(1)]).await;
    assert!(
        matches!(
            res.results[0].outcome,
            sotay_domain::wire::ChangeOutcome::Accepted { .. }
        ),
        "{res:?}"
    );
    let owner = s
        .store()
        .report_owner(tip1.report_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.group, "k01-t02");

    let err = move_report(
        s.store(),
        count.report_id,
        "k01-t02",
        admin_entry("move-report", "c"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::CountCannotMove(_)), "{err}");
    let err = move_report(
        s.store(),
        tip1.report_id,
        "k99-t99",
        admin_entry("move-report", "x"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::UnknownGroup(_)), "{err}");
    let err = move_report(
        s.store(),
        ReportId::new_v7(),
        "k01-t02",
        admin_entry("move-report", "x"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::UnknownReport(_)), "{err}");

    // The inspected household is in group k01-t03's register (loaded after
    // the inspection was stored): the inspection may only go there.
    let household: sotay_domain::Inspection = serde_json::from_value(insp.payload.clone()).unwrap();
    let registered = sotay_domain::Household {
        id: household.household_id,
        data: sotay_domain::HouseholdInput {
            address: "Số 9 ngõ 2".into(),
            head: "Phạm Văn D".into(),
            residents: 3,
            phone: None,
            has_business: false,
            rents_rooms: false,
            notes: None,
        },
    };
    s.store()
        .import_households("k01-t03", &[registered], now_micros())
        .await
        .unwrap();
    let err = move_report(
        s.store(),
        insp.report_id,
        "k01-t02",
        admin_entry("move-report", "i"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AdminError::RegisteredElsewhere { group, .. } if group == "k01-t03"),
        "{err}"
    );
    move_report(
        s.store(),
        insp.report_id,
        "k01-t03",
        admin_entry("move-report", "i"),
    )
    .await
    .unwrap();

    // Delete: the count and a decided tip are gone, revisions and all.
    sotay_server::admin::set_tip_status(
        s.store(),
        tip1.report_id,
        WardStatus::Received,
        None,
        now_micros(),
        &sotay_server::admin::command_audit("tip-status", "test", ""),
    )
    .await
    .unwrap();
    for id in [count.report_id, tip1.report_id] {
        let gone = delete_report(s.store(), id, admin_entry("delete-report", &id.to_string()))
            .await
            .unwrap();
        assert!(gone.group.starts_with("k01-t0"));
        assert!(s.store().report_owner(id).await.unwrap().is_none());
        assert!(s.store().report_revisions(id).await.unwrap().is_empty());
    }
    assert!(matches!(
        delete_report(s.store(), tip1.report_id, admin_entry("delete-report", "x")).await,
        Err(AdminError::UnknownReport(_))
    ));
    let inbox = s
        .store()
        .tip_inbox(&TipQuery::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(inbox.total, 0);
    // The count's day is free again for its group.
    let again = id_count("k01-t01", 5);
    assert_eq!(again.report_id, count.report_id);
    let res = push(s, &wrong.token, &[again]).await;
    assert!(matches!(
        res.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));

    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap();
    let moved = audit.iter().filter(|a| a.action == "move-report").count();
    let deleted: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "delete-report")
        .collect();
    assert_eq!(moved, 2, "refusals write nothing");
    assert_eq!(deleted.len(), 2);
    assert!(
        deleted
            .iter()
            .any(|a| a.detail == "tip of k01-t02, 2 revision(s)"),
        "{deleted:?}"
    );
}

/// A tip's photos on its page: the ones that arrived small and a link to
/// the whole, the others "waiting"; served to logged-in officers only,
/// each view audited; exports list them by id and link.
async fn photos_show_on_the_tip_page_for_officers_only(s: &TestServer) {
    use sotay_domain::wire::photo_upload::LENGTH;
    officers(s).await;
    let leader = enroll(s, "k06-t02").await;
    let here = b"\xFF\xD8\xFF\xE0 not really a JPEG, but the server only checks the hash".to_vec();
    let sha_here = sotay_server::store::photos::sha256_hex(&here);
    let sha_later = "cd".repeat(32);
    let photo = |sha: &str, bytes: u64| json!({"sha256": sha, "bytes": bytes, "width": 1200, "height": 1600, "mime": "image/jpeg"});
    let mut payload = tip_payload("Ảnh chụp tin nhắn lừa đảo và biên lai chuyển khoản");
    payload["photos"] = json!([photo(&sha_here, here.len() as u64), photo(&sha_later, 5000)]);
    let id = ReportId::new_v7();
    push(
        s,
        &leader.token,
        &[serde_json::from_value(raw_change(id, 1, 1, "tip", payload)).unwrap()],
    )
    .await;
    let put = reqwest::Client::new()
        .put(format!("{}/v1/photos/{sha_here}", s.url()))
        .bearer_auth(&leader.token)
        .header(LENGTH, here.len().to_string())
        .body(here.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);

    let (cookie, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, &format!("/dashboard/tips/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/dashboard/photos/{id}/{sha_here}");
    assert!(
        html.contains(&format!("<img src=\"{path}?size=thumb\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{path}\"")),
        "the whole photo on click: {html}"
    );
    assert!(html.contains("Ảnh đang chờ tải lên"), "{html}");
    assert!(!html.contains(&format!("/dashboard/photos/{id}/{sha_later}")));

    let res = browser()
        .get(format!("{}{path}", s.url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.bytes().await.unwrap().to_vec(), here);
    // Bytes that do not decode have no small copy: the page shows them whole.
    let small = browser()
        .get(format!("{}{path}?size=thumb", s.url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(small.bytes().await.unwrap().to_vec(), here);
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|a| a.action == "view-photo"
            && a.target == id.to_string()
            && a.detail == sha_here),
        "{audit:?}"
    );
    // Without a session: the login page. Under another report: nothing.
    let anonymous = browser()
        .get(format!("{}{path}", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let elsewhere = format!("/dashboard/photos/{}/{sha_here}", ReportId::new_v7());
    assert_eq!(page(s, &cookie, &elsewhere).await.0, StatusCode::NOT_FOUND);
    let waiting = format!("/dashboard/photos/{id}/{sha_later}");
    assert_eq!(page(s, &cookie, &waiting).await.0, StatusCode::NOT_FOUND);

    let csv = read_csv(&download(s, &cookie, "/dashboard/export/tips.csv").await);
    let header = &csv[0];
    let col = header
        .iter()
        .position(|h| h == "Ảnh")
        .expect("a photo column");
    let row = csv
        .iter()
        .find(|r| r[0] == id.to_string())
        .expect("the tip");
    assert!(row[col].contains(&format!("{sha_here} {path}")), "{row:?}");
    assert!(row[col].contains(&sha_later));
}

/// The cross-ward matrix (issue 15): with two wards on one database, both
/// holding a group `k01-t01`, an officer and an admin of the second ward
/// open every dashboard page and export and find nothing of the first;
/// every page and action that names one of the first ward's tips,
/// households, photos, devices, officers or groups answers as if it did
/// not exist and changes nothing. A province officer reads both wards and
/// changes neither.
async fn an_officer_reaches_nothing_of_another_ward(s: &TestServer) {
    use sotay_server::dashboard::accounts::OfficerWard;
    use sotay_server::places;
    use sotay_server::store::Scope;
    const HHT_TIP: &str = "Đánh bạc ở nhà văn hoá khối 2 HHT-MARK";
    const HNX_TIP: &str = "Cho vay nặng lãi ở chợ HNX-MARK";
    officers(s).await;
    let audit = |a: &str| sotay_server::admin::command_audit(a, "", "");
    // The first ward's data: a tip, an inspection of a registered
    // household, a count, in k01-t01 and k02-t01.
    sotay_server::admin::import_households(
        s.store(),
        "k02-t01",
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n9 Phan Đình Phùng HHT-ADDR,Lê Văn Chín,5\n".as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let hht = enroll(s, "k02-t01").await;
    let household = pull(s, &hht.token, 0, 100)
        .await
        .entries
        .into_iter()
        .find_map(|e| match e.item {
            PullItem::Household { household } => Some(household.id),
            _ => None,
        })
        .unwrap();
    // The tip carries a photo, uploaded: the probe below asks for a photo
    // that exists.
    let photo_bytes = b"\xFF\xD8\xFF\xE0 the first ward's photo".to_vec();
    let photo_sha = sotay_server::store::photos::sha256_hex(&photo_bytes);
    let mut hht_tip = tip_change(1, "gambling", "urgent", HHT_TIP);
    hht_tip.payload["photos"] = json!([{"sha256": photo_sha, "bytes": photo_bytes.len(),
        "width": 1200, "height": 1600, "mime": "image/jpeg"}]);
    let mut hht_inspection = inspection(2);
    hht_inspection.payload["household_id"] = json!(household);
    push(
        s,
        &hht.token,
        &[hht_tip.clone(), hht_inspection, id_count("k02-t01", 3)],
    )
    .await;
    let put = reqwest::Client::new()
        .put(format!("{}/v1/photos/{photo_sha}", s.url()))
        .bearer_auth(&hht.token)
        .header(
            sotay_domain::wire::photo_upload::LENGTH,
            photo_bytes.len().to_string(),
        )
        .body(photo_bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);

    // The second ward, with the same codes, its own officers and device.
    let hnx = places::add_ward(s.store(), "hnx", "Hưng Nguyên Xá", audit("add-ward"))
        .await
        .unwrap();
    places::add_block(s.store(), &hnx, "k01", "Khối Một", audit("add-block"))
        .await
        .unwrap();
    places::add_group(
        s.store(),
        &hnx,
        places::NewGroup {
            block: "k01",
            code: "k01-t01",
            name: "Tổ Một",
        },
        audit("add-group"),
    )
    .await
    .unwrap();
    for (user, role, ward) in [
        ("hnx-quan-tri", Role::Admin, OfficerWard::Ward("hnx")),
        ("hnx-can-bo", Role::Officer, OfficerWard::Ward("hnx")),
        ("tinh", Role::Officer, OfficerWard::Province),
    ] {
        let mut o = NewOfficer::own(user, PASSWORD, role);
        o.ward = ward;
        add_officer(s.store(), o, now_micros(), None).await.unwrap();
    }
    let hnx_group = places::find_group(s.store(), "hnx", "k01-t01")
        .await
        .unwrap();
    let hnx_dev = enroll(s, &hnx_group.id).await;
    push(
        s,
        &hnx_dev.token,
        &[tip_change(1, "loan-sharking", "normal", HNX_TIP)],
    )
    .await;
    // The first ward announces to its leaders.
    let hht_ward = places::resolve_ward(s.store(), Some("hht")).await.unwrap();
    let hht_announcement = sotay_server::announcements::announce(
        s.store(),
        &hht_ward,
        sotay_server::announcements::NewAnnouncement {
            title: "HHT-MARK thông báo",
            text: "Chỉ cho phường Hà Huy Tập.",
            urgent: false,
            to: &[],
            photo: None,
        },
        audit("announce"),
    )
    .await
    .unwrap();

    let hht_before = s
        .store()
        .export(&Scope::Ward("hht".into()), None)
        .await
        .unwrap();
    assert_eq!(hht_before.len(), 3, "the tip, the inspection and the count");
    let hht_audit_before = s
        .store()
        .audit_log(&Scope::Ward("hht".into()), 1000)
        .await
        .unwrap()
        .len();
    // What would betray the first ward: its tip, its household's address,
    // its groups beyond k01-t01, its device, its officers.
    let hht_device = hht.device_id.0.to_string();
    let betrays = |text: &str| -> Option<&'static str> {
        for mark in [
            "HHT-MARK",
            "HHT-ADDR",
            "k02-t01",
            "Lê Văn Chín",
            ">quan-tri<",
            ">can-bo<",
        ] {
            if text.contains(mark) {
                return Some(mark);
            }
        }
        text.contains(&hht_device)
            .then_some("the first ward's device")
    };

    for user in ["hnx-quan-tri", "hnx-can-bo"] {
        let (cookie, csrf) = login(s, user, PASSWORD).await.unwrap();
        let admin = user == "hnx-quan-tri";
        // Every page: the own ward's data, nothing of the other's.
        for path in [
            "/dashboard/tips",
            "/dashboard/tips?status=new",
            "/dashboard/fire",
            "/dashboard/id06",
            "/dashboard/devices",
            "/dashboard/audit",
            "/dashboard/officers",
            "/dashboard/groups",
            "/dashboard/account",
            "/dashboard/announcements",
        ] {
            let (status, html) = page(s, &cookie, path).await;
            if status == StatusCode::FORBIDDEN {
                assert!(!admin, "{user} {path}");
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{user} {path}");
            assert_eq!(betrays(&html), None, "{user} {path}: {html}");
            if path == "/dashboard/tips" {
                assert!(html.contains("HNX-MARK"), "{html}");
            }
            assert!(
                !html.contains("id=\"by-ward\""),
                "{user} {path}: a province table"
            );
        }
        // Every export, both formats.
        for name in ["tips", "fire", "id06", "devices", "audit"] {
            for ext in ["csv", "xlsx"] {
                let res = browser()
                    .get(format!("{}/dashboard/export/{name}.{ext}", s.url()))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                if res.status() == StatusCode::FORBIDDEN {
                    assert!(!admin, "{user} {name}.{ext}");
                    continue;
                }
                assert_eq!(res.status(), StatusCode::OK, "{user} {name}.{ext}");
                let bytes = res.bytes().await.unwrap();
                let cells = if ext == "csv" {
                    read_csv(&bytes).concat()
                } else {
                    read_xlsx(&bytes, name).concat()
                };
                // Cells as the page's table cells, so one rule reads both.
                let text: String = cells.iter().map(|c| format!(">{c}<")).collect();
                assert_eq!(betrays(&text), None, "{user} {name}.{ext}: {text}");
                if name == "tips" {
                    assert!(text.contains("HNX-MARK"), "{text}");
                }
            }
        }
        // Everything that names one of the first ward's things is "not
        // found" (or refused before it is looked up), and changes nothing.
        let tip = hht_tip.report_id;
        for path in [
            format!("/dashboard/tips/{tip}"),
            format!("/dashboard/fire/household/k02-t01/{}", household.0),
            format!("/dashboard/fire/household/k01-t01/{}", household.0),
            format!("/dashboard/photos/{tip}/{photo_sha}"),
            format!("/dashboard/photos/{tip}/{photo_sha}?size=thumb"),
            "/dashboard/groups/k02-t01/split".to_owned(),
            format!("/dashboard/announcements/{}", hht_announcement.id),
        ] {
            let (status, html) = page(s, &cookie, &path).await;
            // The split page is for admins: an officer is refused first.
            let expected = if !admin && path.ends_with("/split") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, expected, "{user} {path}");
            assert_eq!(betrays(&html), None, "{user} {path}: {html}");
        }
        let refused = |status: StatusCode, what: &str| {
            assert!(
                status == StatusCode::NOT_FOUND
                    || status == StatusCode::FORBIDDEN
                    || status == StatusCode::BAD_REQUEST,
                "{user} {what}: {status}"
            );
        };
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                format!("/dashboard/tips/{tip}/status"),
                vec![("status", "resolved"), ("note", "xong")],
            ),
            (format!("/dashboard/tips/{tip}/source"), vec![]),
            (format!("/dashboard/devices/{hht_device}/revoke"), vec![]),
            ("/dashboard/officers/quan-tri/deactivate".into(), vec![]),
            ("/dashboard/officers/quan-tri/unlock".into(), vec![]),
            (
                "/dashboard/officers/can-bo/sources".into(),
                vec![("action", "withdraw")],
            ),
            (
                "/dashboard/groups/k02-t01/rename".into(),
                vec![("code", "k02-t99"), ("name", "Tổ mới")],
            ),
            (
                "/dashboard/groups/merge".into(),
                vec![("into", "k01-t01"), ("from", "k02-t01")],
            ),
            (
                "/dashboard/groups".into(),
                vec![("block", "k02"), ("code", "k02-t98"), ("name", "Tổ lạ")],
            ),
            (
                "/dashboard/devices/enroll".into(),
                vec![("group", "k02-t01")],
            ),
            (
                "/dashboard/groups/k02-t01/split".into(),
                vec![("into", "k02-t41=A\nk02-t42=B"), ("h:x", "k02-t41")],
            ),
        ];
        for (path, fields) in &posts {
            let mut fields = fields.clone();
            fields.push(("csrf", &csrf));
            let (status, html) = form_page(s, &cookie, path, &fields).await;
            refused(status, path);
            assert_eq!(betrays(&html), None, "{user} {path}: {html}");
        }
    }
    // The first ward is as it was: its reports, decisions and groups
    // unchanged, its device still syncing, no entry of the second ward's
    // officers in its audit log.
    assert_eq!(
        s.store()
            .export(&Scope::Ward("hht".into()), None)
            .await
            .unwrap(),
        hht_before
    );
    let hht_audit = s
        .store()
        .audit_log(&Scope::Ward("hht".into()), 1000)
        .await
        .unwrap();
    assert_eq!(hht_audit.len(), hht_audit_before, "{hht_audit:?}");
    for g in ["k02-t01"] {
        places::find_group(s.store(), "hht", g).await.unwrap();
    }
    assert!(
        places::find_group(s.store(), "hht", "k02-t98")
            .await
            .is_err()
    );
    assert!(
        places::find_group(s.store(), "hnx", "k02-t98")
            .await
            .is_err()
    );
    assert!(
        s.store()
            .officer("quan-tri")
            .await
            .unwrap()
            .unwrap()
            .deactivated_at
            .is_none()
    );
    push(s, &hht.token, &[tip(4)]).await;

    // The province reads both wards, each group under its ward's code, and
    // changes neither.
    let (cookie, csrf) = login(s, "tinh", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, "/dashboard/tips").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("HHT-MARK")
            && html.contains("HNX-MARK")
            && html.contains("hht/k02-t01")
            && html.contains("hnx/k01-t01"),
        "{html}"
    );
    for path in [
        "/dashboard/fire",
        "/dashboard/id06",
        "/dashboard/export/tips.csv",
    ] {
        let (status, html) = page(s, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("hht/k02-t01"), "{path}: {html}");
    }
    let (status, html) = page(
        s,
        &cookie,
        &format!("/dashboard/tips/{}", hht_tip.report_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("HHT-MARK"));
    // The province's roll-up: a row per ward (a ward's officer has none).
    let (_, html) = page(s, &cookie, "/dashboard/fire").await;
    let by_ward = html
        .split("id=\"by-ward\"")
        .nth(1)
        .expect("a by-ward table")
        .split("</table>")
        .next()
        .unwrap();
    assert!(
        by_ward.contains("hht – Hà Huy Tập") && by_ward.contains("hnx – Hưng Nguyên Xá"),
        "{by_ward}"
    );
    let (_, html) = page(s, &cookie, "/dashboard/id06").await;
    assert!(
        html.contains("id=\"by-ward\"") && html.contains("hht – Hà Huy Tập"),
        "{html}"
    );
    // The photo the second ward could not reach is there (the probe above
    // asked for something that exists).
    let photo = format!("/dashboard/photos/{}/{photo_sha}", hht_tip.report_id);
    assert_eq!(page(s, &cookie, &photo).await.0, StatusCode::OK);
    // It reads the first ward's announcement and sends none.
    let (status, html) = page(
        s,
        &cookie,
        &format!("/dashboard/announcements/{}", hht_announcement.id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("HHT-MARK"), "{html}");
    let (status, _) = multipart_page(
        s,
        &cookie,
        "/dashboard/announcements",
        &[
            ("csrf", &csrf),
            ("title", "Tỉnh"),
            ("text", "Không được gửi."),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [
        "/dashboard/devices",
        "/dashboard/officers",
        "/dashboard/groups",
        "/dashboard/audit",
    ] {
        assert_eq!(
            page(s, &cookie, path).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let (status, html) = form_page(
        s,
        &cookie,
        &format!("/dashboard/tips/{}/status", hht_tip.report_id),
        &[("csrf", &csrf), ("status", "resolved"), ("note", "")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert_eq!(
        s.store()
            .export(&Scope::Ward("hht".into()), None)
            .await
            .unwrap()
            .len(),
        hht_before.len() + 1
    );
}

/// Submits a form with the session's CSRF token added.
async fn submit(
    s: &TestServer,
    (cookie, csrf): (&str, &str),
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut fields = fields.to_vec();
    fields.push(("csrf", csrf));
    form_page(s, cookie, path, &fields).await
}

/// An admin reshapes the ward's places on the dashboard: adds blocks,
/// renames one, merges blocks, and splits a group by its register on the
/// split page (an incomplete form changes nothing). The figures' pages
/// then say they count under today's units.
async fn an_admin_reshapes_places_on_the_dashboard(s: &TestServer) {
    officers(s).await;
    let (cookie, csrf) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let admin = (cookie.as_str(), csrf.as_str());
    let (officer, _) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (_, html) = page(s, &cookie, "/dashboard/fire").await;
    assert!(!html.contains("id=\"rolled-up\""), "no merge yet");
    // Blocks: add (twice is refused), rename, merge.
    let k21 = [("code", "k21"), ("name", "Khối 21")];
    assert_eq!(
        submit(s, admin, "/dashboard/blocks", &k21).await.0,
        StatusCode::SEE_OTHER
    );
    let (status, html) = submit(s, admin, "/dashboard/blocks", &k21).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    let k22 = [("code", "k22"), ("name", "Khối 22")];
    assert_eq!(
        submit(s, admin, "/dashboard/blocks", &k22).await.0,
        StatusCode::SEE_OTHER
    );
    for (block, code) in [("k21", "k21-t01"), ("k22", "k22-t01")] {
        let fields = [("block", block), ("code", code), ("name", "Tổ 1")];
        assert_eq!(
            submit(s, admin, "/dashboard/groups", &fields).await.0,
            StatusCode::SEE_OTHER
        );
    }
    let renamed = [("code", "k21"), ("name", "Khối Hai Mốt")];
    assert_eq!(
        submit(s, admin, "/dashboard/groups/k21/rename", &renamed)
            .await
            .0,
        StatusCode::SEE_OTHER
    );
    let merge = [("into", "k21"), ("from", "k22")];
    assert_eq!(
        submit(s, admin, "/dashboard/groups/merge", &merge).await.0,
        StatusCode::SEE_OTHER
    );
    let moved = s.store().group_place("k22-t01").await.unwrap().unwrap();
    assert_eq!(
        (moved.block.code.as_str(), moved.block.name.as_str()),
        ("k21", "Khối Hai Mốt")
    );
    let (_, html) = page(s, &cookie, "/dashboard/groups").await;
    assert!(
        html.contains("id=\"blocks\"") && html.contains("Khối Hai Mốt"),
        "{html}"
    );
    assert!(
        !html.contains(">k22 – "),
        "the merged block is no longer listed"
    );

    // A split, by the group's register.
    sotay_server::admin::import_households(
        s.store(),
        "k01-t05",
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n3 Hà Huy Tập,Hồ Văn Ba,3\n4 Hà Huy Tập,Lê Thị Bốn,4\n"
            .as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let leader = enroll(s, "k01-t05").await;
    let before_split = tip_change(1, "theft", "normal", "Mất xe đạp trước nhà văn hoá");
    push(s, &leader.token, std::slice::from_ref(&before_split)).await;
    let register = s.store().household_rows("k01-t05").await.unwrap();
    let (h3, h4) = (
        format!("h:{}", register[0].0),
        format!("h:{}", register[1].0),
    );
    let split = "/dashboard/groups/k01-t05/split";
    assert_eq!(page(s, &officer, split).await.0, StatusCode::FORBIDDEN);
    let (status, html) = page(s, &cookie, "/dashboard/groups/k01-t06/split").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"no-register\""), "{html}");
    let (status, html) = page(s, &cookie, split).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("name=\"{h3}\"")) && html.contains("Lê Thị Bốn"),
        "{html}"
    );
    let into = "k01-t41=Tổ 41\r\nk01-t42=Tổ 42\r\n";
    // One household without a new group: refused, in Vietnamese, and
    // nothing changed.
    let (status, html) = submit(s, admin, split, &[("into", into), (&h3, "k01-t41")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Danh sách hộ để tách tổ chưa đúng"), "{html}");
    assert!(s.store().group_place("k01-t05").await.unwrap().is_some());
    assert!(s.store().group_place("k01-t41").await.unwrap().is_none());
    let (status, html) = submit(
        s,
        admin,
        split,
        &[("into", into), (&h3, "k01-t41"), (&h4, "k01-t43")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    // The whole form: done.
    let (status, html) = submit(
        s,
        admin,
        split,
        &[("into", into), (&h3, "k01-t41"), (&h4, "k01-t42")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let t41 = places_group(s, "k01-t41").await;
    let t42 = places_group(s, "k01-t42").await;
    assert_eq!(s.store().household_rows(&t41).await.unwrap().len(), 1);
    assert_eq!(s.store().household_rows(&t42).await.unwrap().len(), 1);
    let place = pull(s, &leader.token, 0, 1000)
        .await
        .entries
        .into_iter()
        .find_map(|e| match e.item {
            PullItem::Place { place, .. } => Some(place),
            _ => None,
        })
        .expect("the leader is told");
    assert_eq!(place.group.code.as_str(), "k01-t41");
    // The tip counts under k01-t41 now and says where it was recorded.
    let (_, html) = page(
        s,
        &cookie,
        &format!("/dashboard/tips/{}", before_split.report_id),
    )
    .await;
    assert!(
        html.contains("k01-t41")
            && html.contains("id=\"recorded-under\"")
            && html.contains("(k01-t05)"),
        "{html}"
    );
    for path in ["/dashboard/fire", "/dashboard/id06"] {
        let (_, html) = page(s, &cookie, path).await;
        assert!(
            html.contains("id=\"rolled-up\"") && html.contains("được tính vào đơn vị hiện nay"),
            "{path}: {html}"
        );
    }
    let log = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 100)
        .await
        .unwrap();
    for action in ["add-block", "rename-block", "merge-block", "split"] {
        assert!(
            log.iter()
                .any(|r| r.username == "quan-tri" && r.action.starts_with(action)),
            "{action}: {log:?}"
        );
    }
}

async fn places_group(s: &TestServer, code: &str) -> String {
    sotay_server::places::find_group(s.store(), "hht", code)
        .await
        .unwrap()
        .id
}

/// A ward that calls its blocks "khu phố" and its groups "tổ dân phố"
/// (`admin ward levels`) reads those words on its pages; English stays.
async fn the_pages_use_the_wards_own_level_names(s: &TestServer) {
    officers(s).await;
    let hht = sotay_server::places::resolve_ward(s.store(), None)
        .await
        .unwrap();
    sotay_server::places::set_levels(
        s.store(),
        &hht,
        "Khu phố",
        "Tổ dân phố",
        sotay_server::admin::command_audit("set-levels", "", ""),
    )
    .await
    .unwrap();
    let (cookie, _) = login(s, "quan-tri", PASSWORD).await.unwrap();
    let (_, html) = page(s, &cookie, "/dashboard/fire").await;
    assert!(
        html.contains("Theo khu phố")
            && html.contains("Theo tổ dân phố")
            && !html.contains("Theo khối"),
        "{html}"
    );
    let (_, html) = page(s, &cookie, "/dashboard/tips").await;
    assert!(
        html.contains(">Khu phố<") && html.contains(">Tổ dân phố<"),
        "{html}"
    );
    let (_, html) = page(s, &format!("{cookie}; sotay_lang=en"), "/dashboard/fire").await;
    assert!(
        html.contains("By block") && html.contains("By group"),
        "{html}"
    );
}

/// An announcement reaches only the groups it names (a block here), as a
/// pull item; a device's read receipt is stored once, only for an
/// announcement its group received; the read list says who read it.
async fn an_announcement_reaches_its_groups_and_comes_back_read(s: &TestServer) {
    use sotay_server::announcements::{Audience, NewAnnouncement, announce};
    let hht = sotay_server::places::resolve_ward(s.store(), None)
        .await
        .unwrap();
    let k01 = enroll(s, "k01-t02").await;
    let k02 = enroll(s, "k02-t01").await;
    let audit = sotay_server::admin::command_audit("announce", "", "");
    let bad = announce(
        s.store(),
        &hht,
        NewAnnouncement {
            title: " ",
            text: "x",
            urgent: false,
            to: &[],
            photo: None,
        },
        audit.clone(),
    )
    .await;
    assert!(matches!(
        bad,
        Err(sotay_server::admin::AdminError::InvalidAnnouncement(_))
    ));
    let unknown = [Audience::Block("k99".into())];
    let bad = announce(
        s.store(),
        &hht,
        NewAnnouncement {
            title: "T",
            text: "x",
            urgent: false,
            to: &unknown,
            photo: None,
        },
        audit.clone(),
    )
    .await;
    assert!(matches!(
        bad,
        Err(sotay_server::admin::AdminError::UnknownBlock(_))
    ));
    let to = [Audience::Block("k01".into())];
    let sent = announce(
        s.store(),
        &hht,
        NewAnnouncement {
            title: "Cảnh giác lừa đảo giả danh công an",
            text: "Công an không gọi điện yêu cầu chuyển tiền.",
            urgent: true,
            to: &to,
            photo: None,
        },
        audit,
    )
    .await
    .unwrap();
    assert_eq!(sent.groups, 13, "every group of block k01");
    let got = |token: &str| {
        let token = token.to_owned();
        async move {
            pull(s, &token, 0, 1000)
                .await
                .entries
                .into_iter()
                .filter_map(|e| match e.item {
                    PullItem::Announcement { announcement } => Some(announcement),
                    _ => None,
                })
                .collect::<Vec<_>>()
        }
    };
    let mine = got(&k01.token).await;
    assert_eq!(mine.len(), 1);
    assert!(mine[0].urgent && mine[0].id == sent.id);
    assert!(got(&k02.token).await.is_empty(), "k02 is not in block k01");
    // k02 forges a receipt: ignored. k01's, sent twice: stored once.
    let receipt = json!({"reads": [{"announcement_id": sent.id, "read_at": chrono::Utc::now()}]});
    for token in [&k02.token, &k01.token, &k01.token] {
        let (status, body) = post(s, "/v1/announcements/read", Some(token), &receipt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let readers = s
        .store()
        .announcement_readers(&sent.id.to_string())
        .await
        .unwrap();
    assert_eq!(readers.len(), 1, "one device of block k01: {readers:?}");
    assert_eq!(readers[0].device_id, k01.device_id.0);
    assert!(readers[0].read_at.is_some());
    let list = s
        .store()
        .announcements(&sotay_server::store::Scope::Ward("hht".into()))
        .await
        .unwrap();
    assert_eq!((list[0].devices, list[0].read), (1, 1));
    assert_eq!(list[0].audience, "block:k01");

    // On the dashboard: the list with its read count, the read list, and
    // the form (a bad one refused in Vietnamese, nothing sent).
    officers(s).await;
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, "/dashboard/announcements").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Cảnh giác lừa đảo giả danh công an") && html.contains("1 / 1"),
        "{html}"
    );
    let (status, html) = page(s, &cookie, &format!("/dashboard/announcements/{}", sent.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"readers\"")
            && html.contains("k01-t02")
            && html.contains("class=\"read\""),
        "{html}"
    );
    let (status, html) = multipart_page(
        s,
        &cookie,
        "/dashboard/announcements",
        &[("csrf", &csrf), ("title", ""), ("text", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Thông báo cần tiêu đề"), "{html}");
    let (status, _) = multipart_page(
        s,
        &cookie,
        "/dashboard/announcements",
        &[
            ("csrf", &csrf),
            ("title", "Phòng cháy dịp Tết"),
            ("text", "Kiểm tra bình chữa cháy trước Tết."),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(got(&k02.token).await.len(), 1, "the whole ward this time");
    let (_, html) = page(s, &cookie, "/dashboard/announcements").await;
    assert!(
        html.contains("Phòng cháy dịp Tết") && html.contains("0 / 2"),
        "{html}"
    );
    let log = s
        .store()
        .audit_log(&sotay_server::store::Scope::Ward("hht".into()), 100)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|r| r.action == "announce" && r.username == "can-bo")
    );
}

/// An officer attaches a picture to an announcement on the dashboard:
/// the server takes it in as phones take theirs in (a 2000×1000 PNG
/// becomes a 1600×800 JPEG), shows it (and its small copy) on the
/// announcement's page, and lets a device fetch it only when an
/// announcement its group received lists it: not another group's device,
/// not without a token, and never a tip's evidence photo by that route.
/// A file that is no picture is refused, nothing sent.
async fn an_announcements_photo_is_taken_in_and_fetched_by_its_groups_only(s: &TestServer) {
    officers(s).await;
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let k01 = enroll(s, "k01-t02").await;
    let k02 = enroll(s, "k02-t01").await;
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        2000,
        1000,
        image::Rgb([200, 30, 30]),
    ))
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let send = |fields: Vec<(&'static str, String)>, file: Option<Vec<u8>>| {
        let cookie = cookie.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (mime, body) = multipart(&fields, file.as_deref().map(|b| ("anh.png", b)));
            let res = browser()
                .post(format!("{}/dashboard/announcements", s.url()))
                .header("cookie", &cookie)
                .header("content-type", mime)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let location = res
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, location, res.text().await.unwrap())
        }
    };
    let fields = |title: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("title", title.to_owned()),
            (
                "text",
                "Ai thấy đối tượng trong ảnh báo ngay cho công an phường.".to_owned(),
            ),
            ("to", "block:k01".to_owned()),
        ]
    };
    // Not a picture: refused in Vietnamese, nothing sent.
    let (status, _, html) = send(fields("Ảnh hỏng"), Some(b"GIF89a not really".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("data-code=\"bad-photo\"") && html.contains("Không đọc được ảnh"),
        "{html}"
    );
    // Not the page's multipart form: refused as a forged one, nothing sent.
    let (status, html) = form_page(
        s,
        &cookie,
        "/dashboard/announcements",
        &[
            ("csrf", &csrf),
            ("title", "Urlencoded"),
            ("text", "Không có ảnh"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("data-code=\"csrf\""), "{html}");
    // Without the CSRF token: refused before the photo is looked at.
    let mut forged = fields("Giả mạo");
    forged[0].1 = "sai".into();
    let (status, _, _) = send(forged, Some(png.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        s.store()
            .announcements(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .is_empty()
    );

    let (status, location, _) = send(fields("Truy tìm đối tượng"), Some(png.clone())).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let list = s
        .store()
        .announcements(&sotay_server::store::Scope::Ward("hht".into()))
        .await
        .unwrap();
    let photo = list[0].photo.clone().expect("a photo");
    assert_eq!(
        (photo.width, photo.height, photo.mime.as_str()),
        (1600, 800, "image/jpeg")
    );
    let (status, html) = page(s, &cookie, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"announcement-photo\""), "{html}");
    let full = download(s, &cookie, &format!("{location}/photo")).await;
    assert_eq!(sotay_server::store::photos::sha256_hex(&full), photo.sha256);
    let small =
        image::load_from_memory(&download(s, &cookie, &format!("{location}/photo?small")).await)
            .unwrap();
    assert_eq!((small.width(), small.height()), (320, 160));

    // The devices: k01's pulls the announcement with its photo and fetches
    // it; k02's may not, nor may anyone without a token.
    let pulled = pull(s, &k01.token, 0, 1000)
        .await
        .entries
        .into_iter()
        .find_map(|e| match e.item {
            PullItem::Announcement { announcement } => Some(announcement),
            _ => None,
        })
        .unwrap();
    assert_eq!(pulled.photo.as_ref(), Some(&photo));
    let fetch = |token: Option<String>, sha: String| async move {
        let mut req = reqwest::Client::new().get(format!("{}/v1/photos/{sha}", s.url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        (res.status(), res.bytes().await.unwrap().to_vec())
    };
    let (status, bytes) = fetch(Some(k01.token.clone()), photo.sha256.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, full);
    let (status, body) = fetch(Some(k02.token.clone()), photo.sha256.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("not-found"));
    assert_eq!(
        fetch(None, photo.sha256.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fetch(Some(k01.token.clone()), "xyz".into()).await.0,
        StatusCode::BAD_REQUEST
    );
    // A tip's evidence photo, uploaded by k01 itself: not by this route.
    let evidence = b"\xFF\xD8\xFF\xE0 evidence".to_vec();
    let evidence_sha = sotay_server::store::photos::sha256_hex(&evidence);
    let mut t = tip_change(
        1,
        "fraud",
        "normal",
        "Lừa đảo qua điện thoại giả danh công an",
    );
    t.payload["photos"] = json!([{"sha256": evidence_sha, "bytes": evidence.len(), "width": 10, "height": 10, "mime": "image/jpeg"}]);
    push(s, &k01.token, &[t]).await;
    let put = reqwest::Client::new()
        .put(format!("{}/v1/photos/{evidence_sha}", s.url()))
        .bearer_auth(&k01.token)
        .header(
            sotay_domain::wire::photo_upload::LENGTH,
            evidence.len().to_string(),
        )
        .body(evidence.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(
        fetch(Some(k01.token.clone()), evidence_sha).await.0,
        StatusCode::NOT_FOUND
    );

    // Sent without a picture: the form's empty file part is no photo.
    let (status, _, _) = send(fields("Không ảnh"), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let list = s
        .store()
        .announcements(&sotay_server::store::Scope::Ward("hht".into()))
        .await
        .unwrap();
    assert!(
        list.iter()
            .any(|a| a.title == "Không ảnh" && a.photo.is_none())
    );
}

macro_rules! dashboard_tests {
    ($backend:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sessions_expire() {
            let Some(s) = super::start_short_sessions($backend).await else { return };
            super::sessions_expire(&s).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sessions_end_when_idle() {
            let Some(s) = super::start_idle_sessions($backend).await else { return };
            super::sessions_end_when_idle(&s).await;
        }
        dashboard_tests!(@each $backend; anonymous_is_sent_to_login, roles_csrf_and_audit,
            lock_out_after_failures, tips_inbox_and_decision_reach_the_device,
            cookies_are_secure_behind_https, decision_and_audit_are_one_transaction,
            sessions_end_when_idle_store, admins_manage_officers_and_groups,
            refusals_are_in_the_officers_language,
            households_register_import, a_new_register_replaces_the_old, a_pull_counts_as_a_sync,
            fire_id06_and_devices_pages, sources_are_sealed_and_revealed_only_to_permitted_officers,
            a_moved_or_misplaced_sealed_block_does_not_open,
            a_password_change_keeps_the_sources_and_a_reset_withdraws_them,
            an_admin_enrolls_a_phone_with_a_qr_code,
            no_group_writes_another_groups_count_or_household,
            exports_never_carry_a_live_formula,
            every_answer_carries_the_security_headers,
            a_burst_of_logins_is_bounded_and_sync_goes_on,
            parallel_wrong_guesses_lock_the_account,
            the_inbox_is_filtered_and_paged_by_the_store,
            an_officer_reaches_nothing_of_another_ward,
            an_admin_reshapes_places_on_the_dashboard,
            the_pages_use_the_wards_own_level_names,
            an_announcement_reaches_its_groups_and_comes_back_read,
            an_announcements_photo_is_taken_in_and_fetched_by_its_groups_only,
            a_wrongly_owned_report_is_moved_or_deleted,
            photos_show_on_the_tip_page_for_officers_only);
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
    assert_eq!(
        store
            .groups(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        1
    );
    add_officer(
        &store,
        NewOfficer::own("can-bo", PASSWORD, Role::Officer),
        now_micros(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .officers(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        1
    );
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
    assert_eq!(
        store
            .groups(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        1
    );
    add_officer(
        &store,
        NewOfficer::own("can-bo", PASSWORD, Role::Officer),
        now_micros(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .officers(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Rows a version-6 server wrote: one group, device and tip, and two
/// decisions on the tip (the later one is its status). The SQL is the
/// same for both backends.
fn version_6_tip(report: ReportId) -> String {
    let decision = |status, at: &str| {
        serde_json::to_string(&PullItem::TipStatus {
            report_id: report,
            status,
            note: Some("ghi chú".into()),
            decided_at: at.parse().unwrap(),
        })
        .unwrap()
        .replace('\'', "''")
    };
    let device = uuid::Uuid::now_v7();
    let payload = tip_payload("Tin báo trước bản 7").to_string();
    format!(
        "INSERT INTO groups VALUES ('k01-t01', 'Tổ 1', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập');
         INSERT INTO devices (id, name, group_code, token_hash, enrolled_at)
           VALUES ('{device}', 'máy', 'k01-t01', 'h', '2026-11-30T01:00:00.000000Z');
         INSERT INTO reports VALUES ('{report}', 'k01-t01', 'tip', 1);
         INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
           VALUES ('{report}', 1, 'tip', '{device}', 1, '{payload}', '2026-11-30T01:00:00.000000Z');
         INSERT INTO pull_items (group_code, item, created_at)
           VALUES ('k01-t01', '{}', '2026-11-30T02:00:00.000000Z');
         INSERT INTO pull_items (group_code, item, created_at)
           VALUES ('k01-t01', '{}', '2026-11-30T03:00:00.000000Z');",
        decision(WardStatus::Received, "2026-11-30T02:00:00Z"),
        decision(WardStatus::Verifying, "2026-11-30T03:00:00Z"),
    )
}

/// What a version-6 database held is what the inbox shows after the
/// upgrade: the tip, its latest decision and its history.
async fn version_6_decisions_survive(store: &sotay_server::store::DynStore, report: ReportId) {
    use sotay_server::store::TipQuery;
    let found = store.tip_inbox(&TipQuery::default(), 0, 10).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.rows[0].report.id, report);
    assert_eq!(found.rows[0].status, Some(WardStatus::Verifying));
    assert_eq!(found.rows[0].note.as_deref(), Some("ghi chú"));
    let history = store.tip_decisions(report).await.unwrap();
    assert_eq!(history.len(), 2);
    let verifying = TipQuery {
        status: Some(Some(WardStatus::Verifying)),
        ..Default::default()
    };
    assert_eq!(store.tip_inbox(&verifying, 0, 10).await.unwrap().total, 1);
    // Officers made before the forced change keep their password.
    assert!(
        store
            .officers(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .iter()
            .all(|o| !o.must_change_password)
    );
}

/// A version-6 database of `backend` upgrades with its decisions.
async fn version_6_database_upgrades(backend: sotay_server::testing::Backend) {
    let report = ReportId::new_v7();
    let Some(db) = sotay_server::testing::database_at(backend, 6, &version_6_tip(report))
        .await
        .unwrap()
    else {
        return;
    };
    let s = TestServer::serve(db, Default::default()).await.unwrap();
    version_6_decisions_survive(s.store(), report).await;
}

#[tokio::test]
async fn version_6_sqlite_database_upgrades() {
    version_6_database_upgrades(sotay_server::testing::Backend::Sqlite).await;
}

#[tokio::test]
async fn version_6_postgres_database_upgrades() {
    version_6_database_upgrades(sotay_server::testing::Backend::Postgres).await;
}

/// `sotay-server admin report move|delete` through the real binary, on
/// the file of a running server: delete asks for `--yes`, and what it
/// did is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_commands() {
    let s = start(sotay_server::testing::Backend::Sqlite).await.unwrap();
    let sotay_server::testing::TestDb::Sqlite(dir) = s.db() else {
        unreachable!("a SQLite server")
    };
    let db = dir.0.join("server.sqlite3");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("SOTAY_DB")
            .output()
            .unwrap()
    };
    let leader = enroll(&s, "k02-t02").await;
    let t = tip(1);
    push(&s, &leader.token, std::slice::from_ref(&t)).await;
    let id = t.report_id.to_string();
    // A decision and a revocation from the command line are audited too,
    // and the command keeps the dashboard's note limit.
    let long = "x".repeat(sotay_server::admin::TIP_NOTE_MAX + 1);
    let out = run(&[
        "admin",
        "tip-status",
        &id,
        "--status",
        "verifying",
        "--note",
        &long,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than 2000"));
    let out = run(&[
        "admin",
        "tip-status",
        &id,
        "--status",
        "verifying",
        "--note",
        "Đã cử cán bộ",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let other = enroll(&s, "k02-t02").await;
    let device = other.device_id.0.to_string();
    let out = run(&["admin", "revoke", &device]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 10)
        .await
        .unwrap();
    let by_command = |action: &str, target: &str| {
        audit
            .iter()
            .any(|a| a.action == action && a.target == target && a.username == "(admin command)")
    };
    assert!(by_command("tip-status", &id), "{audit:?}");
    assert!(by_command("revoke-device", &device), "{audit:?}");
    assert_eq!(
        audit.iter().filter(|a| a.action == "tip-status").count(),
        1,
        "the refused decision left no trace"
    );
    let out = run(&["admin", "report", "move", &id, "--group", "k02-t03"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("moved {id} from k02-t02 to k02-t03")
    );
    let out = run(&["admin", "report", "delete", &id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(s.store().report_owner(t.report_id).await.unwrap().is_some());
    let out = run(&["admin", "report", "delete", &id, "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("deleted {id} (tip of k02-t03)")
    );
    assert!(s.store().report_owner(t.report_id).await.unwrap().is_none());
    let out = run(&["admin", "report", "delete", &id, "--yes"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no report"));
    let audit = s
        .store()
        .audit_log(&sotay_server::store::Scope::Province, 10)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "delete-report" && a.target == id)
    );
    assert!(
        audit
            .iter()
            .any(|a| a.action == "move-report" && a.detail == "tip k02-t02 → k02-t03")
    );
}

/// `sotay-server admin households import` through the real binary: prints
/// what it did; a file with a problem exits non-zero naming the line and
/// imports nothing.
#[tokio::test]
async fn households_import_command() {
    let dir = sotay_server::testing::TempDir::new().unwrap();
    let db = dir.0.join("cli.sqlite3");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("SOTAY_DB")
            .output()
            .unwrap()
    };
    assert!(run(&["admin", "seed-demo"]).status.success());
    let bad = dir.0.join("bad.csv");
    std::fs::write(
        &bad,
        "address,head,residents\nSố 1,Nguyễn Văn A,4\nSố 2,,3\n",
    )
    .unwrap();
    let out = run(&[
        "admin",
        "households",
        "import",
        "--group",
        "k01-t03",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Line 3"), "{stderr}");
    let good = dir.0.join("good.csv");
    std::fs::write(
        &good,
        "address,head,residents\nSố 1,Nguyễn Văn A,4\nSố 2,Trần Thị B,3\n",
    )
    .unwrap();
    let out = run(&[
        "admin",
        "households",
        "import",
        "--group",
        "k01-t03",
        good.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "imported 2 households into group k01-t03 (2 published to devices, 0 removed)\n"
    );
    let store = sotay_server::store::open(db.to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        store
            .household_counts(&sotay_server::store::Scope::Province)
            .await
            .unwrap(),
        vec![("k01-t03".to_owned(), 2)]
    );
    let pulled = store.pull("k01-t03", 0, 100).await.unwrap();
    assert_eq!(
        pulled
            .entries
            .iter()
            .filter(|e| matches!(e.item, PullItem::Household { .. }))
            .count(),
        2
    );
}
