//! `/metrics` (issue 15): the counters and the per-ward device figure, on
//! their own address, on both backends; the public address does not
//! serve them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sotay_domain::ReportId;
use sotay_server::testing::{Backend, TestServer};

/// Serves the metrics router of `s`'s state on a port of its own.
async fn metrics_address(s: &TestServer) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = sotay_server::metrics::router(s.state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/metrics")
}

/// The value of the sample whose line starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn counts_what_the_server_did(s: &TestServer) {
    let url = metrics_address(s).await;
    let dev = enroll(s, "k01-t03").await;
    let changes = vec![
        serde_json::to_value(tip(1)).unwrap(),
        serde_json::to_value(tip(2)).unwrap(),
        raw_change(
            ReportId::new_v7(),
            3,
            1,
            "tip",
            json!({"category": "không-có"}),
        ),
    ];
    let (status, _) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": changes}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(s, "/v1/sync/pull?since=0", Some(&dev.token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(s, "/v1/sync/pull", Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Answers made outside any route are counted too: no route, and a body
    // refused by its length before routing.
    let (status, _) = get(s, "/v1/no-such-thing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post_raw(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        vec![b' '; 65 * 1024],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text().await.unwrap();
    assert_eq!(sample(&text, "sotay_pushes_total"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, r#"sotay_changes_total{outcome="accepted",code=""}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"sotay_changes_total{outcome="refused",code="bad-payload"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "sotay_push_duration_seconds_count"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"sotay_http_requests_total{route="/v1/sync/push",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"sotay_http_requests_total{route="/v1/sync/pull",status="401"}"#
        ),
        Some(1.0),
        "{text}"
    );
    for status in ["404", "413"] {
        assert_eq!(
            sample(
                &text,
                &format!(r#"sotay_http_requests_total{{route="unmatched",status="{status}"}}"#)
            ),
            Some(1.0),
            "{text}"
        );
    }
    assert_eq!(
        sample(&text, r#"sotay_devices_seen_last_day{ward="hht"}"#),
        Some(1.0),
        "{text}"
    );
    // Route patterns only: no token, id or query string is a label.
    assert!(
        !text.contains(&dev.token) && !text.contains("since="),
        "{text}"
    );

    // A revoked device is not counted.
    s.store()
        .revoke(dev.device_id, sotay_server::store::now_micros(), None)
        .await
        .unwrap();
    let text = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&text, r#"sotay_devices_seen_last_day{ward="hht"}"#),
        Some(0.0)
    );

    // The public address does not serve them.
    let public = client()
        .get(format!("{}/metrics", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_what_the_server_did() {
        let Some(s) = super::start(super::Backend::Sqlite).await else {
            return;
        };
        super::counts_what_the_server_did(&s).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_what_the_server_did() {
        let Some(s) = super::start(super::Backend::Postgres).await else {
            return;
        };
        super::counts_what_the_server_did(&s).await;
    }
}
