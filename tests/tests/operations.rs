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
    let mut child = KillOnDrop(
        Command::new(workspace_binary("sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(["--log-format", "json", "serve", "--listen"])
            .arg(format!("127.0.0.1:{public}"))
            .arg("--metrics-listen")
            .arg(format!("127.0.0.1:{metrics}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve"),
    );
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
    let _ = child.0.kill();
    let _ = child.0.wait();
    let stderr = child.0.stderr.take().expect("stderr");
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

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills a child process when dropped, so a failed assertion leaves no
/// server running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Removes what the package test installed, even when it fails.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .args(["--purge", "sotay-server"])
            .output();
        let _ = Command::new("userdel").arg("sotay").output();
        let _ = std::fs::remove_dir_all("/var/lib/sotay");
        let _ = std::fs::remove_dir_all("/etc/sotay");
    }
}

/// The Debian package (`scripts/package-deb.sh`) installs with its user,
/// its settings and its unit, and the installed binary serves with the
/// installed settings as the `sotay` user (no systemd here, so the test
/// starts it as the unit would). Needs root and dpkg, as the CI machine
/// has; it never runs where a sotay-server is installed or its data is.
#[test]
fn the_deb_installs_and_serves_with_its_settings() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root || !succeeds(Command::new("dpkg-deb").arg("--version")) {
        eprintln!("skipped: needs root and dpkg");
        return;
    }
    if std::path::Path::new("/var/lib/sotay").exists()
        || std::path::Path::new("/etc/sotay").exists()
        || succeeds(Command::new("dpkg").args(["-s", "sotay-server"]))
        || succeeds(Command::new("getent").args(["passwd", "sotay"]))
    {
        eprintln!("skipped: a sotay-server or its data is on this machine");
        return;
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let deb = output(
        Command::new("bash")
            .arg(repo.join("scripts/package-deb.sh"))
            .arg("--binary")
            .arg(workspace_binary("sotay-server"))
            .env("SOTAY_DEB_COMPRESSION", "none")
            .current_dir(&repo),
    );
    let deb = repo.join(deb.trim());
    let _installed = Installed;
    output(Command::new("dpkg").arg("-i").arg(&deb));

    // The user, the folders and their modes.
    let user = output(Command::new("getent").args(["passwd", "sotay"]));
    assert!(
        user.contains("/var/lib/sotay") && user.contains("nologin"),
        "{user}"
    );
    let stat = |p: &str| output(Command::new("stat").args(["-c", "%a %U %G", p]));
    assert_eq!(stat("/var/lib/sotay").trim(), "700 sotay sotay");
    assert_eq!(stat("/etc/sotay/sotay-server.env").trim(), "640 root sotay");
    let unit = std::fs::read_to_string("/lib/systemd/system/sotay-server.service").expect("unit");
    assert!(
        unit.contains("User=sotay") && unit.contains("EnvironmentFile=/etc/sotay/sotay-server.env")
    );
    let conffiles =
        output(Command::new("dpkg-query").args(["-W", "-f", "${Conffiles}", "sotay-server"]));
    assert!(
        conffiles.contains("/etc/sotay/sotay-server.env"),
        "{conffiles}"
    );

    // The installed settings, as the unit reads them; only the port is
    // moved off 8787 so the test cannot meet another server.
    let settings = std::fs::read_to_string("/etc/sotay/sotay-server.env").expect("settings");
    let port = free_port();
    let mut vars: Vec<(String, String)> = settings
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    for (k, v) in &mut vars {
        if k == "SOTAY_LISTEN" {
            *v = format!("127.0.0.1:{port}");
        }
    }
    let as_sotay = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "sotay",
            "--regid",
            "sotay",
            "--init-groups",
            "--",
        ])
        .arg("/usr/bin/sotay-server")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c
    };
    output(&mut as_sotay(&["admin", "seed-demo"]));
    let server = KillOnDrop(
        as_sotay(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the installed server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _) = get(port, "/healthz");
    drop(server);
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(
        stat("/var/lib/sotay/sotay-server.sqlite3").trim(),
        "600 sotay sotay"
    );
}
