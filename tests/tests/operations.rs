//! The server binary as an operator runs it (issue 15): `/metrics` on an
//! address of its own, and JSON log lines.

use sotay_e2e::workspace_binary;
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// One plain GET, as a scraper sends it; the status line and the body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[test]
fn metrics_are_served_on_their_own_address_and_logs_can_be_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.sqlite3");
    let seeded = Command::new(workspace_binary("sotay-server"))
        .arg("--db")
        .arg(&db)
        .args(["admin", "seed-demo"])
        .output()
        .expect("seed");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let (public, metrics) = (free_port(), free_port());
    let mut child = Command::new(workspace_binary("sotay-server"))
        .arg("--db")
        .arg(&db)
        .args(["--log-format", "json", "serve", "--listen"])
        .arg(format!("127.0.0.1:{public}"))
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{metrics}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", metrics)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", public)).is_err()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _) = get(public, "/healthz");
    assert!(status.contains(" 200 "), "{status}");
    let (status, body) = get(metrics, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("sotay_pushes_total 0"), "{body}");
    assert!(
        body.contains(r#"sotay_http_requests_total{route="/healthz",status="200"} 1"#),
        "{body}"
    );
    assert!(
        body.contains(r#"sotay_devices_seen_last_day{ward="hht"} 0"#),
        "{body}"
    );
    let (status, _) = get(public, "/metrics");
    assert!(
        status.contains(" 404 "),
        "not on the public address: {status}"
    );
    let _ = child.kill();
    let _ = child.wait();
    let stderr = child.stderr.take().expect("stderr");
    let lines: Vec<String> = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        assert!(
            v.get("level").is_some() && v.get("fields").is_some(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("serving /metrics")),
        "{lines:?}"
    );
}
