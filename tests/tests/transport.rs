//! How the device reaches its server, tried as an attacker would: plain
//! HTTP to another machine (in a network namespace with no network, so
//! nothing leaves this machine), a server with another TLS key than the
//! pinned one, a redirect, an oversized answer, and a leader talked into
//! enrolling with "the ward's new address".

use sotay_device::sync::{EnrollLink, SyncClient, SyncConfig, SyncError};
use sotay_e2e::{Device, client, workspace_binary};
use sotay_server::testing::{Backend, TestServer, fresh_store};
use sotay_server::{AppState, Config};
use std::process::Command;
use std::time::{Duration, Instant};

struct TlsServer {
    url: String,
    state: AppState,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    _db: sotay_server::testing::TestDb,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn certificate() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    (c.cert.pem(), c.signing_key.serialize_pem())
}

/// A real server serving HTTPS with a self-signed certificate, the demo
/// ward seeded.
async fn tls_server(cert_pem: &str, key_pem: &str) -> TlsServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, cert_pem).expect("cert");
    std::fs::write(&key, key_pem).expect("key");
    let (store, db) = fresh_store(Backend::Sqlite)
        .await
        .expect("store")
        .expect("sqlite");
    sotay_server::admin::seed_demo(&store, sotay_server::store::now_micros())
        .await
        .expect("seed");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let state = AppState::new(store, Config::default());
    let serving = state.clone();
    let task = tokio::spawn(async move {
        let _ = sotay_server::serve_tls(addr, serving, &cert, &key).await;
    });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    TlsServer {
        url: format!("https://127.0.0.1:{port}"),
        state,
        task,
        _dir: dir,
        _db: db,
    }
}

async fn code(state: &AppState) -> String {
    sotay_server::admin::issue_enroll_code(
        &state.store,
        "k01-t01",
        chrono::TimeDelta::hours(1),
        sotay_server::store::now_micros(),
    )
    .await
    .expect("code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_self_signed_server_is_accepted_and_any_other_key_refused() {
    let (cert, key) = certificate();
    let (other_cert, _) = certificate();
    let server = tls_server(&cert, &key).await;
    let pin = sotay_seal::pin::spki_pin_of_pem(cert.as_bytes()).expect("pin");
    let other_pin = sotay_seal::pin::spki_pin_of_pem(other_cert.as_bytes()).expect("pin");
    assert_ne!(pin, other_pin);

    // Pinned to the server's own key: enrolls and syncs over HTTPS.
    let d = Device::new();
    let link = EnrollLink::parse(&sotay_server::admin::pinned_enroll_link(
        &server.url,
        &code(&server.state).await,
        Some(&pin),
    ))
    .expect("link");
    assert_eq!(link.pin.as_deref(), Some(pin.as_str()));
    client()
        .enroll_with(&d.store, &link, "pinned")
        .await
        .expect("enroll");
    d.tip(1);
    let report = client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_eq!(report.accepted, 1);

    // Pinned to another key (a server in the middle with its own
    // certificate): refused during the handshake, nothing sent, not retried.
    let e = Device::new();
    let wrong = EnrollLink {
        server: server.url.clone(),
        code: code(&server.state).await,
        pin: Some(other_pin),
    };
    let err = client()
        .enroll_with(&e.store, &wrong, "wrong pin")
        .await
        .expect_err("refused");
    assert!(matches!(err, SyncError::PinMismatch), "{err:?}");
    assert_eq!(err.code().as_str(), "server-key-mismatch");
    assert!(!err.is_transient());

    // No pin: the system's roots, which do not know a self-signed key.
    let err = client()
        .enroll(&e.store, &server.url, &code(&server.state).await, "no pin")
        .await
        .expect_err("untrusted");
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");
    let devices = server
        .state
        .store
        .devices(&sotay_server::store::Scope::Province)
        .await
        .expect("devices");
    assert_eq!(devices.len(), 1, "only the pinned device enrolled");
}

/// The real `sotay-cli` in a network namespace with no network at all:
/// `http://` to another machine is refused at once with the HTTPS message,
/// while `https://` to the same address fails only when it tries to
/// connect, which shows the first refusal came before any connection.
#[test]
fn plain_http_to_another_machine_is_refused_before_any_connection() {
    let cli = workspace_binary("sotay-cli");
    let data = tempfile::tempdir().expect("data");
    let run = |server: &str| {
        let started = Instant::now();
        let out = Command::new("unshare")
            .arg("-n")
            .arg(&cli)
            .arg("--data")
            .arg(data.path())
            .args([
                "--json",
                "enroll",
                "--server",
                server,
                "--code",
                "AAAA-BBBB-CCCC-DDDD-EEEE",
            ])
            .output()
            .expect("unshare -n (util-linux, as root) runs sotay-cli");
        (out, started.elapsed())
    };
    let (out, took) = run("http://192.0.2.10:8787");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    // The last line: the first command in a fresh folder also says where
    // the data key is kept.
    let last = stderr.lines().last().unwrap_or_default();
    let err: serde_json::Value = serde_json::from_str(last).expect("a JSON error");
    assert_eq!(err["error"]["code"], "insecure-address", "{stderr}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("HTTPS"),
        "{stderr}"
    );
    assert!(
        took < Duration::from_secs(5),
        "refused at once, not after a timeout"
    );

    let (out, _) = run("https://192.0.2.10:8787");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let err: serde_json::Value = serde_json::from_str(last).expect("a JSON error");
    assert_eq!(err["error"]["code"], "network", "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolling_with_a_second_server_is_refused_and_sends_it_nothing() {
    let Some(a) = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server a")
    else {
        return;
    };
    let Some(b) = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server b")
    else {
        return;
    };
    let d = Device::enrolled(&a, &a.url(), "k01-t01").await;
    let tip = d.tip(1);
    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    d.tip(2);

    let code_b = b.enroll_code("k01-t01").await.expect("code");
    let err = client()
        .enroll(&d.store, &b.url(), &code_b, "lured")
        .await
        .expect_err("refused");
    assert!(matches!(err, SyncError::OtherServer(_)), "{err:?}");
    assert_eq!(err.code().as_str(), "other-server");
    assert!(
        b.store()
            .devices(&sotay_server::store::Scope::Province)
            .await
            .expect("devices")
            .is_empty()
    );
    assert!(
        b.store()
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .expect("export")
            .is_empty()
    );
    // The code was not spent: the ward's real device can still use it.
    let fresh = Device::new();
    client()
        .enroll(&fresh.store, &b.url(), &code_b, "real")
        .await
        .expect("code unspent");

    // Enrolling again with the same server keeps everything.
    let again = a.enroll_code("k01-t01").await.expect("code");
    client()
        .enroll(&d.store, &a.url(), &again, "again")
        .await
        .expect("same server");
    assert!(d.store().report(tip).is_ok());
    let r = client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_eq!(r.pending, 0);
}

/// A server (or something in its place) that answers with a redirect: not
/// followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_and_an_oversized_answer_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let redirector = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/v1/server-info\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    let d = Device::new();
    let err = client()
        .enroll(
            &d.store,
            &format!("http://{addr}"),
            "AAAA-BBBB-CCCC-DDDD-EEEE",
            "x",
        )
        .await
        .expect_err("redirect");
    assert!(
        matches!(&err, SyncError::Protocol(m) if m.contains("redirect")),
        "{err:?}"
    );
    redirector.abort();

    let Some(server) = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
    else {
        return;
    };
    let small = SyncClient::new(SyncConfig {
        max_response_bytes: 64,
        max_attempts: 1,
        ..SyncConfig::default()
    })
    .expect("client");
    let code = server.enroll_code("k01-t01").await.expect("code");
    let err = small
        .enroll(&d.store, &server.url(), &code, "x")
        .await
        .expect_err("too large");
    assert!(
        matches!(&err, SyncError::Protocol(m) if m.contains("larger than 64")),
        "{err:?}"
    );
}

/// `admin enroll --tls-cert` (the certificate `serve --tls-cert` serves)
/// puts its pin in the link and prints it; the code stays the last line;
/// an expiry above the bound is refused.
#[test]
fn admin_enroll_pins_the_served_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ward.sqlite3");
    let (cert, _) = certificate();
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&cert_path, &cert).expect("cert");
    let server = workspace_binary("sotay-server");
    let seed = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args(["admin", "seed-demo"])
        .output()
        .expect("seed");
    assert!(seed.status.success());
    let out = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args([
            "admin",
            "enroll",
            "--group",
            "k01-t01",
            "--server",
            "https://sotay.example.vn",
        ])
        .arg("--tls-cert")
        .arg(&cert_path)
        .output()
        .expect("enroll");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    let pin = sotay_seal::pin::spki_pin_of_pem(cert.as_bytes()).expect("pin");
    let link = EnrollLink::parse(lines[0]).expect("link");
    assert_eq!(link.pin.as_deref(), Some(pin.as_str()));
    assert_eq!(lines[1], format!("pin: {pin}"));
    assert_eq!(*lines.last().expect("code"), link.code);
    // The QR code is drawn on stderr with Unicode half blocks.
    assert!(String::from_utf8_lossy(&out.stderr).contains('▀'));

    let out = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args(["admin", "enroll", "--group", "k01-t01", "--expires", "90d"])
        .output()
        .expect("enroll");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 30 days"));
}

/// `serve` refuses plain HTTP on an address other machines reach (the
/// dashboard's passwords and cookies would cross the network in clear),
/// unless told a TLS proxy is in front.
#[test]
fn serve_refuses_plain_http_beyond_this_machine() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ward.sqlite3");
    let server = workspace_binary("sotay-server");
    assert!(
        Command::new(&server)
            .arg("--db")
            .arg(&db)
            .args(["admin", "seed-demo"])
            .output()
            .expect("seed")
            .status
            .success()
    );
    let out = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to serve plain HTTP"), "{stderr}");

    // Behind a TLS proxy it starts (and is stopped at once).
    let mut child = Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "0.0.0.0:0", "--behind-tls-proxy"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let mut started = false;
    for _ in 0..50 {
        line.clear();
        if std::io::BufRead::read_line(&mut stderr, &mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.contains("serving HTTP") {
            started = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "last line: {line}");
}

/// `admin enroll-codes list` shows the codes issued (never the codes), and
/// `revoke` ends an unused one: a phone can no longer enroll with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_enrollment_code_can_be_listed_and_revoked() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ward.sqlite3");
    let server = workspace_binary("sotay-server");
    let admin = |args: &[&str]| {
        Command::new(&server)
            .arg("--db")
            .arg(&db)
            .arg("admin")
            .args(args)
            .output()
            .expect("admin")
    };
    assert!(admin(&["seed-demo"]).status.success());
    let out = admin(&["enroll", "--group", "k01-t01", "--no-qr"]);
    let code = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .last()
        .expect("code")
        .to_owned();
    let list = String::from_utf8(admin(&["enroll-codes", "list"]).stdout).expect("utf-8");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines[0], "id\tgroup\tstatus\tcreated_at\texpires_at");
    assert_eq!(lines.len(), 2, "{list}");
    assert!(!list.contains(&code), "the code itself is never shown");
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!((fields[1], fields[2]), ("k01-t01", "unused"));
    let out = admin(&["enroll-codes", "revoke", fields[0]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8(admin(&["enroll-codes", "list"]).stdout).expect("utf-8");
    assert!(
        list.lines()
            .nth(1)
            .is_some_and(|l| l.contains("\texpired\t")),
        "{list}"
    );
    assert!(
        !admin(&["enroll-codes", "revoke", fields[0]])
            .status
            .success(),
        "only once"
    );

    // The revoked code enrolls nobody.
    let store = sotay_server::store::open(db.to_str().expect("path"))
        .await
        .expect("open");
    let hash =
        sotay_server::auth::hash_secret(&sotay_server::auth::normalize_code(&code).expect("code"));
    let refused = store
        .enroll(
            &hash,
            sotay_server::store::NewDevice {
                id: sotay_domain::wire::DeviceId(uuid::Uuid::now_v7()),
                name: "x".into(),
                token_hash: "t".into(),
            },
            sotay_server::store::now_micros(),
        )
        .await
        .expect("enroll");
    assert_eq!(
        refused.err(),
        Some(sotay_server::store::EnrollRefusal::Expired)
    );
}
