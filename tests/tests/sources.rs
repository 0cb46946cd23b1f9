//! Sealed sources end to end: the real device store seals a named
//! informant before anything leaves it, the real server on SQLite and
//! PostgreSQL stores only the sealed block, nothing of the name is in the
//! server's files or exports, a source withdrawn later is erased on both
//! sides, keys rotate, and a ward recovers its keys with the passphrase.

use sotay_device::Save;
use sotay_domain::report::{ReportBody, ReportStatus};
use sotay_domain::tip::{Informant, Location, Source, Tip, TipCategory, Urgency};
use sotay_e2e::{Device, client, workspace_binary};
use sotay_server::sources;
use sotay_server::store::now_micros;
use sotay_server::testing::{Backend, TestDb, TestServer};
use std::io::Write;
use std::process::{Command, Stdio};

const NAME: &str = "Trần Văn Báo";
const PHONE: &str = "0987123456";
const NOTE: &str = "Người báo sống đối diện, đừng gọi giờ hành chính";

fn named_tip(text: &str) -> Tip {
    Tip {
        photos: Vec::new(),
        category: TipCategory::Drugs,
        description: text.to_owned(),
        location: Location {
            text: Some("Hẻm 12 đường Phong Định Cảng".into()),
            ..Location::default()
        },
        occurred_at: None,
        urgency: Urgency::Urgent,
        source: Source::Resident {
            informant: Informant::Named {
                name: Some(NAME.into()),
                phone: Some(PHONE.into()),
            },
        },
        suspects: vec![],
        confidential_note: Some(NOTE.into()),
        sealed: None,
    }
}

fn holds_no_source(what: &str, bytes: &[u8]) {
    for secret in [NAME, PHONE, NOTE] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret:?} found in {what}"
        );
    }
}

/// Every file of the server's SQLite folder, raw.
fn server_files(server: &TestServer) -> Vec<(String, Vec<u8>)> {
    let TestDb::Sqlite(dir) = server.db() else {
        return vec![];
    };
    files_under(&dir.0)
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect()
}

fn tip_of(body: &ReportBody) -> &Tip {
    match body {
        ReportBody::Tip(t) => t,
        other => panic!("not a tip: {other:?}"),
    }
}

async fn sealed_on_the_device_kept_sealed_on_the_server(backend: Backend) {
    let Some(server) = TestServer::start(backend, Default::default())
        .await
        .expect("server")
    else {
        return;
    };
    let d = Device::enrolled(&server, &server.url(), "k02-t01").await;
    let key = d
        .store()
        .source_key()
        .expect("key")
        .expect("enrollment fetched the key");
    assert_eq!(key.ward, "hht");

    // Draft and queued: the leader still reads the source; the outbox
    // already holds only the sealed form.
    let id = d
        .store()
        .save_report(
            None,
            ReportBody::Tip(named_tip("Có người bán ma tuý ở hẻm 12 mỗi tối")),
            Save::Draft,
        )
        .expect("draft")
        .id;
    assert!(tip_of(&d.store().report(id).expect("draft").body).has_clear_secret());
    d.store().send(id).expect("send");
    assert!(tip_of(&d.store().report(id).expect("queued").body).has_clear_secret());
    let outbox = d.store().outbox().expect("outbox");
    let payload = tip_of(&outbox[0].body);
    assert!(!payload.has_clear_secret());
    assert_eq!(
        payload.sealed.as_ref().map(|s| s.key_id.as_str()),
        Some(key.key_id.as_str())
    );
    holds_no_source(
        "the outbox",
        serde_json::to_string(&outbox).expect("json").as_bytes(),
    );

    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    let sent = d.store().report(id).expect("sent");
    assert_eq!(sent.status, ReportStatus::Sent);
    let sent_tip = tip_of(&sent.body);
    assert!(
        !sent_tip.has_clear_secret(),
        "after the receipt only the sealed copy stays"
    );
    assert_eq!(
        sent_tip.source,
        Source::Resident {
            informant: Informant::Sealed
        }
    );

    // The server holds the sealed block; its files, exports and backups
    // hold nothing of the source.
    let revisions = server
        .store()
        .report_revisions(id)
        .await
        .expect("revisions");
    holds_no_source(
        "the stored revision",
        revisions[0].payload.to_string().as_bytes(),
    );
    for (path, bytes) in server_files(&server) {
        holds_no_source(&path, &bytes);
    }
    for format in [
        sotay_server::admin::ExportFormat::Json,
        sotay_server::admin::ExportFormat::Csv,
    ] {
        let mut out = Vec::new();
        sotay_server::admin::export(
            server.store(),
            &sotay_server::store::Scope::Province,
            format,
            None,
            &mut out,
        )
        .await
        .expect("export");
        holds_no_source("admin export", &out);
        assert!(!String::from_utf8_lossy(&out).contains("ciphertext"));
    }

    // Only the ward's key opens it: here through the recovery passphrase.
    let keys = sources::recovered_keys(server.store(), "hht", &server.recovery_passphrase)
        .await
        .expect("recover");
    let sealed = serde_json::from_value::<Tip>(revisions[0].payload.clone())
        .expect("tip")
        .sealed
        .expect("sealed");
    let secret = sources::reveal(&keys, id, &sealed).expect("opens");
    assert_eq!(
        (
            secret.name.as_deref(),
            secret.phone.as_deref(),
            secret.note.as_deref()
        ),
        (Some(NAME), Some(PHONE), Some(NOTE))
    );

    // A new revision that keeps the source carries the block as it was.
    let mut edited = sent_tip.clone();
    edited.description.push_str(" (bổ sung: có xe máy đỏ)");
    d.store()
        .save_report(Some(id), ReportBody::Tip(edited.clone()), Save::Send)
        .expect("rev 2");
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("sync rev 2");
    let revisions = server
        .store()
        .report_revisions(id)
        .await
        .expect("revisions");
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        revisions[1].payload["sealed"],
        revisions[0].payload["sealed"]
    );

    // The leader makes the tip anonymous: every older revision's source is
    // erased, on the device and on the server.
    edited.source = Source::Resident {
        informant: Informant::Anonymous,
    };
    edited.sealed = None;
    d.store()
        .save_report(Some(id), ReportBody::Tip(edited), Save::Send)
        .expect("rev 3");
    for entry in d.store().outbox().expect("outbox") {
        assert!(
            tip_of(&entry.body).sealed.is_none(),
            "rev {} keeps a source",
            entry.rev
        );
    }
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("sync rev 3");
    let revisions = server
        .store()
        .report_revisions(id)
        .await
        .expect("revisions");
    assert_eq!(revisions.len(), 3);
    for r in &revisions {
        assert!(
            r.payload.get("sealed").is_none(),
            "rev {} keeps a source",
            r.rev
        );
    }
    assert_eq!(
        revisions[0].payload["source"]["informant"]["kind"],
        "erased"
    );
    assert_eq!(
        revisions[2].payload["source"]["informant"]["kind"],
        "anonymous"
    );

    // Rotation: new tips use the new key, old ones still open.
    let old_key = key.key_id.clone();
    let new_key = sources::rotate_ward_key(server.store(), "hht", now_micros(), None)
        .await
        .expect("rotate");
    server.state.source_keys.invalidate().await;
    let id2 = d
        .store()
        .save_report(
            None,
            ReportBody::Tip(named_tip("Người lạ thuê phòng trọ không khai báo")),
            Save::Send,
        )
        .expect("tip 2")
        .id;
    // Saved before the device heard of the new key: sealed to the old one,
    // which stays valid. The sync brings the new key for the next tips.
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("sync after rotation");
    assert_eq!(
        d.store().source_key().expect("key").expect("key").key_id,
        new_key
    );
    let id3 = d
        .store()
        .save_report(
            None,
            ReportBody::Tip(named_tip("Tụ tập đánh bạc sau chợ")),
            Save::Send,
        )
        .expect("tip 3")
        .id;
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("sync tip 3");
    let keys = sources::recovered_keys(server.store(), "hht", &server.recovery_passphrase)
        .await
        .expect("recover both keys");
    assert_eq!(keys.len(), 2);
    for (tip, expected_key) in [(id2, &old_key), (id3, &new_key)] {
        let rev = &server.store().report_revisions(tip).await.expect("revs")[0];
        let sealed = serde_json::from_value::<Tip>(rev.payload.clone())
            .expect("tip")
            .sealed
            .expect("sealed");
        assert_eq!(&sealed.key_id, expected_key);
        assert_eq!(
            sources::reveal(&keys, tip, &sealed)
                .expect("opens")
                .name
                .as_deref(),
            Some(NAME)
        );
    }
    assert_ne!(old_key, new_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_on_the_device_kept_sealed_on_the_server_sqlite() {
    sealed_on_the_device_kept_sealed_on_the_server(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_on_the_device_kept_sealed_on_the_server_postgres() {
    sealed_on_the_device_kept_sealed_on_the_server(Backend::Postgres).await;
}

fn server_cmd(db: &std::path::Path) -> Command {
    let mut c = Command::new(workspace_binary("sotay-server"));
    c.arg("--db").arg(db).env("RUST_LOG", "warn");
    c
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Through the real binary: `seed-demo` prints the recovery passphrase as
/// its last line and writes it nowhere; after the only officer with the
/// permission is deactivated, a new one gets it with the passphrase; a
/// wrong passphrase creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ward_recovers_its_keys_with_the_passphrase() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("data").join("ward.sqlite3");
    let out = server_cmd(&db)
        .args(["admin", "seed-demo"])
        .output()
        .expect("seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let passphrase = stdout.lines().last().expect("a last line").to_owned();
    assert_eq!(passphrase.len(), 29, "{stdout}");
    assert_eq!(passphrase, sotay_seal::normalize_passphrase(&passphrase));
    // Never written down: not in any file of the data folder.
    for path in files_under(db.parent().expect("parent")) {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !bytes
                .windows(passphrase.len())
                .any(|w| w == passphrase.as_bytes())
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600,
            "{}",
            path.display()
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.parent().expect("parent"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let again = server_cmd(&db)
        .args(["admin", "seed-demo"])
        .output()
        .expect("seed again");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already has its source key"));

    let password = "mật-khẩu-đủ-dài";
    let mut add = server_cmd(&db);
    add.args(["admin", "officer", "add", "lan", "--sources"]);
    let out = run_with_stdin(add, &format!("{password}\n{passphrase}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut wrong = server_cmd(&db);
    wrong.args(["admin", "officer", "add", "minh", "--sources"]);
    let out = run_with_stdin(
        wrong,
        &format!("{password}\nAAAA-BBBB-CCCC-DDDD-EEEE-FFFF\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("recovery passphrase is wrong"));

    let store = sotay_server::store::open(db.to_str().expect("path"))
        .await
        .expect("open");
    assert!(
        store.officer("minh").await.expect("officer").is_none(),
        "nothing half made"
    );
    let lan = store.officer("lan").await.expect("officer").expect("lan");
    assert!(lan.sees_sources);
    assert!(
        lan.must_change_password,
        "the admin typed it: lan chooses her own at the first login"
    );
    store
        .deactivate_officer("lan", now_micros(), None)
        .await
        .expect("deactivate");
    drop(store);

    let mut add = server_cmd(&db);
    add.args(["admin", "officer", "add", "hung", "--role", "admin"]);
    let out = run_with_stdin(add, &format!("{password}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut grant = server_cmd(&db);
    grant.args(["admin", "officer", "grant-sources", "hung"]);
    let out = run_with_stdin(
        grant,
        &format!("{}\n", passphrase.to_lowercase().replace('-', " ")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = sotay_server::store::open(db.to_str().expect("path"))
        .await
        .expect("open");
    let hung = store.officer("hung").await.expect("officer").expect("hung");
    assert!(hung.sees_sources);
    let secret = sotay_seal::unwrap_with_passphrase(
        password,
        "officer-key|hung",
        hung.key_wrapped.as_deref().expect("a key"),
    )
    .expect("hung's key opens with his password");
    let keys = sources::held_keys(&store, "officer:hung", &secret)
        .await
        .expect("held");
    assert_eq!(keys.len(), 1);
}

/// A database made before sealing (schema 4, a named source in clear, as
/// the earlier code stored it) is refused by `serve` until the ward has a
/// key; `admin ward init-key` then seals the stored source, and the name
/// is gone from every byte of the files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_server_seals_the_sources_it_already_holds() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("old.sqlite3");
    let report = sotay_domain::ReportId::new_v7();
    let payload = serde_json::json!({
        "category": "drugs", "description": "Có người bán ma tuý ở hẻm 12 mỗi tối",
        "location": {"text": "Hẻm 12"}, "urgency": "normal",
        "source": {"kind": "resident", "informant": {"kind": "named", "name": NAME, "phone": PHONE}}
    });
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
             INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z'), (2, '2026-01-01T00:00:00Z'),
                 (3, '2026-01-01T00:00:00Z'), (4, '2026-01-01T00:00:00Z');",
        )
        .expect("migrations table");
        for sql in [
            include_str!("../../crates/server/migrations/sqlite/0001_init.sql"),
            include_str!("../../crates/server/migrations/sqlite/0002_dashboard.sql"),
            include_str!("../../crates/server/migrations/sqlite/0003_dashboard_admin.sql"),
            include_str!("../../crates/server/migrations/sqlite/0004_device_last_seen.sql"),
        ] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.execute_batch(&format!(
            "INSERT INTO groups VALUES ('k01-t01', 'Tổ 1', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập');
             INSERT INTO devices (id, name, group_code, token_hash, enrolled_at, checkpoint)
                 VALUES ('0190f5a0-0000-7000-8000-00000000000d', 'old phone', 'k01-t01', 'h', '2026-01-01T00:00:00Z', 1);
             INSERT INTO reports VALUES ('{report}', 'k01-t01', 'tip', 1);
             INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
                 VALUES ('{report}', 1, 'tip', '0190f5a0-0000-7000-8000-00000000000d', 1, '{}', '2026-01-01T00:00:00Z');",
            payload
        ))
        .expect("old data");
    }
    let out = server_cmd(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin ward init-key"));

    let out = server_cmd(&db)
        .args(["admin", "ward", "init-key", "--ward", "hht"])
        .output()
        .expect("init-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(stdout.contains("sealed 1 stored sources"), "{stdout}");
    let passphrase = stdout.lines().last().expect("passphrase").to_owned();

    let store = sotay_server::store::open(db.to_str().expect("path"))
        .await
        .expect("open");
    let rev = &store.report_revisions(report).await.expect("revs")[0];
    assert_eq!(rev.payload["source"]["informant"]["kind"], "sealed");
    assert_eq!(
        rev.payload["description"], payload["description"],
        "the rest is kept"
    );
    let keys = sources::recovered_keys(&store, "hht", &passphrase)
        .await
        .expect("keys");
    let sealed = serde_json::from_value::<Tip>(rev.payload.clone())
        .expect("tip")
        .sealed
        .expect("sealed");
    assert_eq!(
        sources::reveal(&keys, report, &sealed)
            .expect("opens")
            .name
            .as_deref(),
        Some(NAME)
    );
    drop(store);
    for path in files_under(dir.path()) {
        holds_no_source(
            &path.display().to_string(),
            &std::fs::read(&path).expect("read"),
        );
    }
}

/// Every file below `dir`, in its subfolders too (the server's photo
/// folder sits beside its database).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
