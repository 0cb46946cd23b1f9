//! Helpers shared by the test files: a small HTTP client for the protocol
//! and builders of valid reports.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sotay_domain::wire::{Change, EnrollResponse, PullResponse, PushResponse};
use sotay_domain::{HouseholdId, ReportBody, ReportId, ReportKind};
use sotay_server::testing::{Backend, TestServer};

pub mod web;

/// The suite's limits are smaller than production's so that oversized
/// bodies are cheap to send.
pub async fn start(backend: Backend) -> Option<TestServer> {
    start_with(
        backend,
        sotay_server::Config {
            max_body_bytes: 64 * 1024,
            max_batch_items: 50,
            ..Default::default()
        },
    )
    .await
}

pub async fn start_with(backend: Backend, config: sotay_server::Config) -> Option<TestServer> {
    match TestServer::start(backend, config).await {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            eprintln!("skipped: SOTAY_SKIP_PG=1");
            None
        }
        Err(e) => panic!("starting the test server: {e}"),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

pub async fn enroll(s: &TestServer, group: &str) -> EnrollResponse {
    let code = s.enroll_code(group).await.unwrap();
    enroll_with(s, &code).await
}

/// Enrolls a device with `code` through the API.
pub async fn enroll_with(s: &TestServer, code: &str) -> EnrollResponse {
    let (status, body) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": code, "device_name": "Điện thoại tổ trưởng"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

pub async fn post(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    post_raw(s, path, token, serde_json::to_vec(body).unwrap(), &[]).await
}

pub async fn post_raw(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = client()
        .post(format!("{}{path}", s.url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

pub async fn get(s: &TestServer, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = client().get(format!("{}{path}", s.url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

pub async fn push(s: &TestServer, token: &str, changes: &[Change]) -> PushResponse {
    let (status, body) = post(
        s,
        "/v1/sync/push",
        Some(token),
        &json!({ "changes": changes }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

pub async fn pull(s: &TestServer, token: &str, since: i64, limit: u32) -> PullResponse {
    let (status, body) = get(
        s,
        &format!("/v1/sync/pull?since={since}&limit={limit}"),
        Some(token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

pub fn tip_payload(description: &str) -> Value {
    json!({
        "category": "theft",
        "description": description,
        "location": {"text": "Ngõ 3, đường Hà Huy Tập"},
        "source": {"kind": "resident", "informant": {"kind": "anonymous"}},
        "urgency": "normal"
    })
}

pub fn raw_change(id: ReportId, seq: i64, rev: u32, kind: &str, payload: Value) -> Value {
    json!({"report_id": id, "device_seq": seq, "rev": rev, "kind": kind, "payload": payload})
}

pub fn tip(seq: i64) -> Change {
    tip_with(ReportId::new_v7(), seq, 1)
}

pub fn tip_with(id: ReportId, seq: i64, rev: u32) -> Change {
    Change {
        report_id: id,
        device_seq: seq,
        rev,
        kind: ReportKind::Tip,
        payload: tip_payload("Mất trộm xe máy trước nhà số 5 lúc 22 giờ"),
    }
}

/// A Đề án 06 count of `group` (ward hht) for 2025-06-01, under the id
/// the server expects: derived from ward, group and day.
pub fn id_count(group: &str, seq: i64) -> Change {
    id_count_on(group, "2025-06-01", seq)
}

/// [`id_count`] for another day.
pub fn id_count_on(group: &str, date: &str, seq: i64) -> Change {
    let day: chrono::NaiveDate = date.parse().expect("date");
    Change {
        report_id: ReportId::for_id_count("hht", group, day),
        device_seq: seq,
        rev: 1,
        kind: ReportKind::IdCount,
        payload: json!({"date": date, "residents": 110, "collected": 80, "activated": 40, "helped": 2}),
    }
}

/// An inspection answering every item of the built-in template with pass.
pub fn inspection(seq: i64) -> Change {
    inspection_of(HouseholdId::new_v7(), Utc::now() - TimeDelta::hours(1), seq)
}

/// [`inspection`] of one household at a given time.
pub fn inspection_of(
    household_id: HouseholdId,
    inspected_at: chrono::DateTime<Utc>,
    seq: i64,
) -> Change {
    let i = sotay_server::testing::passing_inspection(household_id, inspected_at);
    Change::new(ReportId::new_v7(), seq, 1, &ReportBody::Inspection(i))
}
