//! Handler tests through `router()` without a socket
//! (`tower::ServiceExt::oneshot`), on a fresh SQLite store.
#![allow(clippy::unwrap_used)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sotay_server::testing::{Backend, TestDb, fresh_store};
use sotay_server::{AppState, Config, router};
use tower::ServiceExt;

async fn state() -> (AppState, TestDb) {
    let (store, db) = fresh_store(Backend::Sqlite).await.unwrap().unwrap();
    sotay_server::admin::seed_demo(&store, sotay_server::store::now_micros())
        .await
        .unwrap();
    let config = Config {
        max_body_bytes: 1024,
        ..Default::default()
    };
    (AppState::new(store, config), db)
}

async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let res = router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

fn post(path: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(body.into()).unwrap()
}

#[tokio::test]
async fn healthz_and_server_info() {
    let (s, _db) = state().await;
    let (status, body) = call(&s, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = call(
        &s,
        Request::get("/v1/server-info").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["max_batch_bytes"], json!(1024));
    assert_eq!(body["max_batch_items"], json!(500));
}

#[tokio::test]
async fn openapi_describes_every_endpoint_and_its_errors() {
    let (s, _db) = state().await;
    let (status, doc) = call(
        &s,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method, errors) in [
        ("/healthz", "get", &[][..]),
        ("/v1/server-info", "get", &[][..]),
        ("/openapi.json", "get", &[][..]),
        (
            "/v1/enroll",
            "post",
            &["400", "409", "410", "413", "422", "429", "500"][..],
        ),
        (
            "/v1/sync/push",
            "post",
            &["400", "401", "413", "415", "422", "429", "500"][..],
        ),
        ("/v1/sync/pull", "get", &["400", "401", "500"][..]),
    ] {
        let responses = &paths[path][method]["responses"];
        assert!(responses["200"].is_object(), "{path} 200");
        for e in errors {
            assert!(responses[*e].is_object(), "{path} {e}");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "PushRequest",
        "PushResponse",
        "Change",
        "ChangeResult",
        "PullResponse",
        "ErrorBody",
        "EnrollResponse",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // The bounds the server checks are the ones the document declares.
    let name = &schemas["EnrollRequest"]["properties"]["device_name"];
    assert_eq!(
        name["maxLength"].as_u64(),
        Some(sotay_domain::wire::DEVICE_NAME_MAX as u64)
    );
    assert_eq!(name["minLength"].as_u64(), Some(1));
    let rev = &schemas["Change"]["properties"]["rev"];
    assert_eq!(rev["maximum"].as_u64(), Some(u64::from(u32::MAX)), "{rev}");
}

#[tokio::test]
async fn bad_bodies_are_4xx_with_code_and_message() {
    let (s, _db) = state().await;
    let cases: Vec<(&str, Body, StatusCode, &str)> = vec![
        (
            "/v1/enroll",
            Body::from("{\"code\": \"abc\""),
            StatusCode::BAD_REQUEST,
            "malformed-json",
        ),
        (
            "/v1/enroll",
            Body::from("{\"code\": 1, \"device_name\": 2}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "/v1/enroll",
            Body::from(vec![b'{'; 2048]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
        ),
        (
            "/v1/enroll",
            Body::from("{\"code\": \"abc\", \"device_name\": \"  \"}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "/v1/sync/push",
            Body::from("{}"),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    for (path, body, want_status, want_code) in cases {
        let (status, resp) = call(&s, post(path, None, body)).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (want_status, Some(want_code)),
            "{path}: {resp}"
        );
        assert!(resp["message"].is_string());
    }
}

#[tokio::test]
async fn enroll_push_pull_through_the_router() {
    let (s, _db) = state().await;
    let code = sotay_server::admin::issue_enroll_code(
        &s.store,
        "k20-t12",
        chrono::TimeDelta::hours(1),
        sotay_server::store::now_micros(),
    )
    .await
    .unwrap();
    let (status, dev) = call(
        &s,
        post(
            "/v1/enroll",
            None,
            json!({"code": code, "device_name": "A"}).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dev}");
    let token = dev["token"].as_str().unwrap();
    // A count's id is derived from its ward, group and day.
    let id = sotay_domain::ReportId::for_id_count(
        "hht",
        "k20-t12",
        chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    );
    let change = json!({"changes": [{
        "report_id": id, "device_seq": 1, "rev": 1, "kind": "id-count",
        "payload": {"date": "2025-06-01", "residents": 5, "collected": 4, "activated": 1}}]});
    let (status, res) = call(&s, post("/v1/sync/push", Some(token), change.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["results"][0]["outcome"], "accepted");
    assert_eq!(res["checkpoint"], 1);
    let (status, page) = call(
        &s,
        Request::get("/v1/sync/pull?limit=10")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["entries"][0]["type"], "template");
    assert_eq!(page["more"], false);
}
