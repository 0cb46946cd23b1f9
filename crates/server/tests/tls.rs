//! HTTPS served by `sotay-server` itself (rustls), with a certificate made
//! for the test: the API answers over TLS and plain HTTP is not spoken there.

use sotay_server::testing::{Backend, fresh_store};
use sotay_server::{AppState, Config};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_api_over_tls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");

    let (store, _db) = fresh_store(Backend::Sqlite)
        .await
        .expect("store")
        .expect("sqlite");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let state = AppState::new(store, Config::default());
    let server =
        tokio::spawn(async move { sotay_server::serve_tls(addr, state, &cert, &key).await });

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("root"))
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let url = format!("https://localhost:{port}/v1/server-info");
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(&url).send().await {
            answer = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.expect("the server answers over HTTPS");
    assert!(answer.status().is_success());
    let info: serde_json::Value = answer.json().await.expect("json");
    assert!(info["protocol_versions"].is_array());

    // A client that does not trust the certificate is refused by TLS.
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", addr)
        .build()
        .expect("client");
    assert!(untrusting.get(&url).send().await.is_err());
    server.abort();
}
