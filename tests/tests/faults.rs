//! Fault tests: the real device code against the real server, with faults
//! injected at random moments. After each run the device syncs cleanly and
//! the server must hold exactly the device's reports (same ids, newest
//! revisions), none twice, none missing, each `sent` with its receipt.
//!
//! Every fault runs against both backends: the server's embedded SQLite
//! file, and PostgreSQL (a schema of its own per test; backups with
//! `pg_dump`/`pg_restore`, as an operator takes them).
//!
//! Seeded and reproducible: `SOTAY_SEED` replays a run, `SOTAY_TRIALS`
//! sets the number of trials.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sotay_device::Save;
use sotay_domain::report::ReportBody;
use sotay_e2e::proxy::{Fault, Proxy};
use sotay_e2e::{Device, assert_converged, client, impatient_client, workspace_binary};
use sotay_server::store::DynStore;
use sotay_server::testing::{Backend, PgSchema};
use sotay_server::{AppState, Config, ServerHandle};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn seed_and_trials(default_trials: u64) -> (u64, u64) {
    let get = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
    let seed = get("SOTAY_SEED").unwrap_or(20261126);
    let trials = get("SOTAY_TRIALS").unwrap_or(default_trials);
    eprintln!("seed {seed}, {trials} trials");
    (seed, trials)
}

/// Adds a few tips and, sometimes, edits one already queued or sent.
fn write_some(
    d: &Device,
    rng: &mut StdRng,
    next: &mut usize,
    ids: &mut Vec<sotay_domain::ReportId>,
) {
    for _ in 0..rng.random_range(1..=3) {
        ids.push(d.tip(*next));
        *next += 1;
    }
    if rng.random_bool(0.3) {
        let id = ids[rng.random_range(0..ids.len())];
        let mut body = d.store().report(id).expect("report").body;
        if let ReportBody::Tip(t) = &mut body {
            t.description.push_str(" — sửa");
        }
        d.store()
            .save_report(Some(id), body, Save::Send)
            .expect("edit");
    }
}

/// The server's database for one test, on either backend.
enum Db {
    /// The file, in a folder of the test's.
    Sqlite(PathBuf),
    /// A schema of its own on the test PostgreSQL, dropped at the end.
    Postgres(PgSchema),
}

impl Db {
    /// `None` when PostgreSQL is deliberately skipped.
    async fn new(backend: Backend, dir: &Path) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Db::Sqlite(dir.join("server.sqlite3"))),
            Backend::Postgres => {
                let url = sotay_server::testing::pg_test_url().expect("SOTAY_TEST_PG_URL")?;
                Some(Db::Postgres(PgSchema::create(&url).await.expect("schema")))
            }
        }
    }

    /// What `sotay-server --db` takes.
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => path.display().to_string(),
            Db::Postgres(s) => {
                let sep = if s.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}options=-c%20search_path%3D{}", s.url, s.name)
            }
        }
    }

    async fn open(&self) -> DynStore {
        sotay_server::store::open(&self.url())
            .await
            .expect("server store")
    }

    /// Takes a backup into `to`, as an operator would: `sotay-server admin
    /// backup` on SQLite (database and photos), `pg_dump` on PostgreSQL.
    fn backup(&self, to: &Path) {
        match self {
            Db::Sqlite(_) => {
                let _ = std::fs::remove_file(to);
                let _ = std::fs::remove_dir_all(format!("{}.photos", to.display()));
                let out = admin_output(self, &[OsStr::new("backup"), to.as_os_str()]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Db::Postgres(s) => run(Command::new("pg_dump")
                .args(["-Fc", "-n", &s.name, "-f"])
                .arg(to)
                .arg(&s.url)),
        }
    }

    /// Replaces the database (and, on SQLite, its photo folder) with the
    /// backup in `from`; the server must be stopped.
    fn restore(&self, from: &Path) {
        match self {
            Db::Sqlite(_) => {
                let out = admin_output(self, &[OsStr::new("restore"), from.as_os_str()]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Db::Postgres(s) => {
                run(Command::new("psql").args([
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    &s.url,
                    "-c",
                    &format!("DROP SCHEMA {} CASCADE", s.name),
                ]));
                run(Command::new("pg_restore")
                    .args(["--no-owner", "-d", &s.url])
                    .arg(from));
            }
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A long fault run pushes far more than a phone would in an hour.
fn fault_config() -> Config {
    Config {
        changes_per_device_per_hour: usize::MAX,
        ..Config::default()
    }
}

async fn serve(db: &Db) -> (ServerHandle, DynStore) {
    let store = db.open().await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let handle = sotay_server::spawn_on(listener, AppState::new(store.clone(), fault_config()))
        .expect("serve");
    (handle, store)
}

async fn enroll_via(proxy: &Proxy, store: &DynStore) -> Device {
    let code = sotay_server::admin::issue_enroll_code(
        store,
        "k01-t03",
        chrono::TimeDelta::hours(1),
        chrono::Utc::now(),
    )
    .await
    .expect("code");
    let d = Device::new();
    client()
        .enroll(&d.store, &proxy.url, &code, "fault test")
        .await
        .expect("enroll");
    d
}

/// A seeded server on `db`, a proxy in front of it and a device enrolled
/// through the proxy.
async fn seeded_behind_proxy(db: &Db) -> (ServerHandle, DynStore, Proxy, Device) {
    let (server, store) = serve(db).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let d = enroll_via(&proxy, &store).await;
    (server, store, proxy, d)
}

/// Cuts connections at random byte offsets and holds responses past the
/// client's timeout after the server committed.
async fn cut_connections_and_held_responses_converge(backend: Backend) {
    let (seed, trials) = seed_and_trials(40);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let (_server, store, proxy, d) = seeded_behind_proxy(&db).await;
    let (mut next, mut ids) = (0, Vec::new());
    let timeout = Duration::from_millis(300);
    let (mut cut, mut held) = (0, 0);
    for _ in 0..trials {
        write_some(&d, &mut rng, &mut next, &mut ids);
        let fault = if rng.random_bool(0.7) {
            cut += 1;
            Fault::CutAfter(rng.random_range(0..6000))
        } else {
            held += 1;
            Fault::HoldResponse(timeout * 2)
        };
        proxy.set(fault);
        let _ = impatient_client(timeout).sync(&d.store, &mut |_| {}).await;
    }
    eprintln!("{cut} cut, {held} held, {} reports", ids.len());
    proxy.set(Fault::None);
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    assert_converged(&d, &store).await;
}

/// A photo of `w`×`h` random pixels (it compresses badly, so it is big),
/// taken in by the device's store.
fn noisy_photo(d: &Device, rng: &mut StdRng, w: u32, h: u32) -> sotay_domain::photo::PhotoRef {
    let img = image::RgbImage::from_fn(w, h, |_, _| image::Rgb(rng.random::<[u8; 3]>()));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    d.store().add_photo(&png).expect("photo taken in")
}

/// A tip listing `photos`, queued.
fn tip_with_photos(d: &Device, n: usize, photos: Vec<sotay_domain::photo::PhotoRef>) {
    let tip = sotay_domain::Tip {
        photos,
        ..sotay_e2e::tip_body(&format!("Ảnh hiện trường số {n}, gửi sau báo cáo"))
    };
    d.store()
        .save_report(None, ReportBody::Tip(tip), Save::Send)
        .expect("tip");
}

/// Photos over a connection cut at random byte offsets, mid-photo more
/// often than not: every report gets its receipt, and in the end every
/// photo is on the server exactly once, byte for byte. A photo cut half
/// way is continued, not sent again from the start.
async fn photos_cut_mid_upload_arrive_once_and_whole(backend: Backend) {
    let (seed, trials) = seed_and_trials(25);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let (_server, store, proxy, d) = seeded_behind_proxy(&db).await;

    // Resumed, not restarted: one big photo, its tip already received.
    let big = noisy_photo(&d, &mut rng, 900, 700);
    assert!(big.bytes > 200_000, "{}", big.bytes);
    tip_with_photos(&d, 0, vec![big.clone()]);
    client()
        .sync_with(
            &d.store,
            &mut |_| {},
            sotay_device::sync::SyncScope { photos: false },
        )
        .await
        .expect("reports only");
    proxy.set(Fault::CutAfter(big.bytes as usize / 2));
    let r = impatient_client(Duration::from_secs(5))
        .sync(&d.store, &mut |_| {})
        .await;
    assert!(
        r.is_ok(),
        "a photo's failure fails the photo, not the sync: {r:?}"
    );
    // The server writes what arrived after the connection is gone: wait
    // until its copy stops growing.
    let mut held = store.photos().state(&big.sha256).await.expect("state");
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = store.photos().state(&big.sha256).await.expect("state");
        if now == held {
            break;
        }
        held = now;
    }
    assert!(
        matches!(held, sotay_server::store::photos::PhotoState::Partial(n) if n > big.bytes / 4),
        "the first half stayed: {held:?}"
    );
    proxy.set(Fault::None);
    let before = proxy.traffic().0;
    client().sync(&d.store, &mut |_| {}).await.expect("clean");
    let sent = proxy.traffic().0 - before;
    assert!(
        sent < big.bytes * 3 / 4,
        "the rest only: {sent} bytes sent for a {}-byte photo",
        big.bytes
    );

    // Then many photos, some shared by two tips, under random cuts.
    let mut photos = vec![big];
    for n in 1..=trials as usize {
        let fresh = noisy_photo(&d, &mut rng, 300 + 10 * (n as u32 % 7), 240);
        let shared = photos[rng.random_range(0..photos.len())].clone();
        photos.push(fresh.clone());
        let listed = if rng.random_bool(0.3) {
            vec![fresh, shared]
        } else {
            vec![fresh]
        };
        tip_with_photos(&d, n, listed);
        proxy.set(Fault::CutAfter(rng.random_range(0..400_000)));
        let _ = impatient_client(Duration::from_secs(5))
            .sync(&d.store, &mut |_| {})
            .await;
    }
    proxy.set(Fault::None);
    let report = client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    assert_eq!(report.photos_pending, 0, "{report:?}");
    assert_converged(&d, &store).await;
    let listed = store.photos().list().await.expect("list");
    assert_eq!(listed.len(), photos.len(), "each photo once");
    for p in &photos {
        let bytes = store
            .photos()
            .read(&p.sha256)
            .await
            .expect("read")
            .expect("held");
        assert_eq!(
            bytes,
            d.store().photo(&p.sha256).expect("device copy"),
            "byte for byte"
        );
    }
}

/// The server's database is replaced by an older copy of itself; the
/// device notices the checkpoint went back and sends the lost changes again.
async fn a_server_restored_from_backup_gets_the_lost_changes_again(backend: Backend) {
    let (seed, trials) = seed_and_trials(6);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let backup = dir.path().join("backup");
    let (mut server, mut store) = serve(&db).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let d = enroll_via(&proxy, &store).await;
    let (mut next, mut ids) = (0, Vec::new());
    let mut resent = 0;
    for _ in 0..trials {
        write_some(&d, &mut rng, &mut next, &mut ids);
        client().sync(&d.store, &mut |_| {}).await.expect("sync");
        // A backup now…
        db.backup(&backup);
        // …more work reaches the server…
        write_some(&d, &mut rng, &mut next, &mut ids);
        client().sync(&d.store, &mut |_| {}).await.expect("sync");
        // …then the server is restored from the backup.
        server.shutdown().await.expect("stop");
        drop(store);
        db.restore(&backup);
        (server, store) = serve(&db).await;
        proxy.set_upstream(server.addr.to_string());
        let report = client()
            .sync(&d.store, &mut |_| {})
            .await
            .expect("sync after restore");
        assert!(report.resent > 0, "the device noticed: {report:?}");
        resent += report.resent;
        assert_converged(&d, &store).await;
    }
    eprintln!("{resent} changes sent again after {trials} restores");
}

/// The server is restored from a backup taken before a tip and its photo
/// arrived (database and photo folder both): the device sends the tip
/// again and offers its photo again, and the restored server ends with
/// both.
async fn a_server_restored_from_backup_gets_the_lost_photos_again(backend: Backend) {
    let mut rng = StdRng::seed_from_u64(11);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let backup = dir.path().join("backup");
    let (server, store) = serve(&db).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let d = enroll_via(&proxy, &store).await;
    d.tip(0);
    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    db.backup(&backup);
    let photo = noisy_photo(&d, &mut rng, 400, 300);
    tip_with_photos(&d, 1, vec![photo.clone()]);
    let r = client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_eq!(r.photos_sent, 1);
    // Restored: the database from the backup, and the photo folder as it
    // was then, without the photo (PostgreSQL holds photos in the
    // database, restored with it).
    server.shutdown().await.expect("stop");
    drop(store);
    db.restore(&backup);
    let (server, store) = serve(&db).await;
    proxy.set_upstream(server.addr.to_string());
    let r = client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("sync after restore");
    assert!(r.resent > 0, "{r:?}");
    assert_eq!(r.photos_sent, 1, "the photo was offered again: {r:?}");
    assert_converged(&d, &store).await;
    let held = store
        .photos()
        .read(&photo.sha256)
        .await
        .expect("read")
        .expect("held again");
    assert_eq!(held, d.store().photo(&photo.sha256).expect("device copy"));
    drop(server);
}

/// Backups taken by `sotay-server admin backup` while three devices push
/// at once are each a consistent snapshot (every device's checkpoint is a
/// gap-free run of what the backup holds, every report has its newest
/// revision), and the oldest one, restored, converges with every device.
/// SQLite only: PostgreSQL is backed up with `pg_dump` (the command says
/// so, and the restore faults above drill it).
async fn a_backup_taken_while_devices_push_is_consistent_and_restores(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let Db::Sqlite(file) = &db else {
        let out = admin_output(
            &db,
            &[OsStr::new("backup"), dir.path().join("b").as_os_str()],
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    };
    let (mut server, mut store) = serve(&db).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(Arc::new(enroll_via(&proxy, &store).await));
    }
    // Each device writes five tips and syncs, thirty times over, so
    // pushes keep arriving while the backups run.
    let pushing: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let d = d.clone();
            tokio::spawn(async move {
                for round in 0..30 {
                    for n in 0..5 {
                        d.tip(k * 1000 + round * 5 + n);
                    }
                    client().sync(&d.store, &mut |_| {}).await.expect("sync");
                }
            })
        })
        .collect();
    let mut backups = Vec::new();
    for i in 0..3 {
        let b = dir.path().join(format!("backup-{i}.sqlite3"));
        db.backup(&b);
        backups.push(b);
    }
    for p in pushing {
        p.await.expect("pushes");
    }
    for b in &backups {
        let c = rusqlite::Connection::open(b).expect("backup opens");
        let checkpoints: Vec<(String, i64)> = c
            .prepare("SELECT id, checkpoint FROM devices")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect("devices");
        assert_eq!(checkpoints.len(), 3);
        for (id, cp) in checkpoints {
            let held: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM device_seqs WHERE device_id = ?1 AND device_seq <= ?2",
                    rusqlite::params![id, cp],
                    |r| r.get(0),
                )
                .expect("seqs");
            assert_eq!(held, cp, "device {id}: its checkpoint is a gap-free run");
        }
        let orphans: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM report_revisions v
                 WHERE v.report_id = r.id AND v.rev = r.latest_rev)",
                [],
                |r| r.get(0),
            )
            .expect("reports");
        assert_eq!(orphans, 0, "every report has its newest revision");
    }
    let first: i64 = rusqlite::Connection::open(&backups[0])
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0)))
        .expect("count");
    assert!(
        first < 450,
        "the first backup was taken mid-pushes ({first} reports)"
    );
    // A backup never overwrites anything.
    let again = admin_output(&db, &[OsStr::new("backup"), backups[0].as_os_str()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    // Backups are as private as the database.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backups[0])
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // Not while the server runs: it holds the file open.
    let running = admin_output(&db, &[OsStr::new("restore"), backups[0].as_os_str()]);
    assert!(!running.status.success());
    assert!(
        String::from_utf8_lossy(&running.stderr).contains("is the server running"),
        "{}",
        String::from_utf8_lossy(&running.stderr)
    );
    assert_eq!(
        store
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .expect("export")
            .len(),
        450,
        "nothing changed"
    );
    // The oldest restored: the devices send again what it lacks.
    server.shutdown().await.expect("stop");
    drop(store);
    // A file that is not a backup is refused, and nothing is moved.
    let junk = dir.path().join("not-a-backup");
    std::fs::write(&junk, "không phải cơ sở dữ liệu").expect("write");
    let refused = admin_output(&db, &[OsStr::new("restore"), junk.as_os_str()]);
    assert!(!refused.status.success());
    assert!(file.exists(), "the database stays in place");
    db.restore(&backups[0]);
    let aside = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".before-restore-"))
        .count();
    assert!(aside >= 1, "the replaced database was kept");
    (server, store) = serve(&db).await;
    proxy.set_upstream(server.addr.to_string());
    for d in &devices {
        client()
            .sync(&d.store, &mut |_| {})
            .await
            .expect("sync after restore");
    }
    // Each device's reports are on the server once, with the receipt the
    // device holds, and nothing else is.
    let exported = store
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .expect("export");
    assert_eq!(exported.len(), 450);
    for d in &devices {
        assert_eq!(d.store().pending_count().expect("pending"), 0);
        for r in d.store().export_reports().expect("reports") {
            let row = exported
                .iter()
                .find(|x| x.id == r.id)
                .expect("on the server");
            let receipt = r.receipt.expect("a receipt");
            assert_eq!(row.receipt.server_seq, receipt.server_seq);
        }
    }
    drop(server);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

struct ServerProcess {
    child: Child,
}

impl ServerProcess {
    fn start(db: &Db, port: u16) -> Self {
        let child = Command::new(workspace_binary("sotay-server"))
            .args(["--db", &db.url(), "serve", "--changes-per-device-per-hour"])
            .arg(usize::MAX.to_string())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sotay-server");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds the demo ward through the binary and issues one enrollment code
/// for group k01-t03.
fn seeded_enroll_code(db: &Db) -> String {
    admin(db, &["seed-demo"]);
    let out = admin(db, &["enroll", "--group", "k01-t03"]);
    out.lines().last().unwrap_or_default().trim().to_owned()
}

/// `sotay-server --db DB admin ARGS…`, as it ended.
fn admin_output<S: AsRef<std::ffi::OsStr>>(db: &Db, args: &[S]) -> std::process::Output {
    Command::new(workspace_binary("sotay-server"))
        .args(["--db", &db.url(), "admin"])
        .args(args)
        .output()
        .expect("admin")
}

fn admin(db: &Db, args: &[&str]) -> String {
    let out = admin_output(db, args);
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `sotay-server` process is killed with SIGKILL at random moments
/// while the device pushes, then restarted on the same database.
async fn a_server_killed_during_push_loses_nothing(backend: Backend) {
    let (seed, trials) = seed_and_trials(12);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let code = seeded_enroll_code(&db);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = ServerProcess::start(&db, port);
    let d = Device::new();
    client()
        .enroll(&d.store, &url, &code, "kill test")
        .await
        .expect("enroll");
    let d = Arc::new(d);
    let (mut next, mut ids) = (0, Vec::new());
    for _ in 0..trials {
        for _ in 0..rng.random_range(20..60) {
            write_some(&d, &mut rng, &mut next, &mut ids);
        }
        let dev = d.clone();
        let sync = tokio::spawn(async move {
            let _ = impatient_client(Duration::from_secs(2))
                .sync(&dev.store, &mut |_| {})
                .await;
        });
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..80))).await;
        server.kill();
        let _ = sync.await;
        server = ServerProcess::start(&db, port);
    }
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    let store = db.open().await;
    assert_converged(&d, &store).await;
    drop(server);
}

/// The `sotay-server` process is killed with SIGKILL at random moments
/// while photos upload, and restarted on the same database and photo
/// folder: in the end every photo is there once, byte for byte, and no
/// half photo is ever taken for a whole one.
async fn a_server_killed_during_photo_uploads_loses_none(backend: Backend) {
    let (seed, trials) = seed_and_trials(8);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let code = seeded_enroll_code(&db);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = ServerProcess::start(&db, port);
    let d = Device::new();
    client()
        .enroll(&d.store, &url, &code, "kill test")
        .await
        .expect("enroll");
    let d = Arc::new(d);
    let mut photos = Vec::new();
    for n in 0..trials as usize {
        for _ in 0..rng.random_range(1..4) {
            let p = noisy_photo(&d, &mut rng, 700, 500);
            tip_with_photos(&d, n, vec![p.clone()]);
            photos.push(p);
        }
        let dev = d.clone();
        let sync = tokio::spawn(async move {
            let _ = impatient_client(Duration::from_secs(2))
                .sync(&dev.store, &mut |_| {})
                .await;
        });
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..150))).await;
        server.kill();
        let _ = sync.await;
        server = ServerProcess::start(&db, port);
    }
    let report = client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    assert_eq!(report.photos_pending, 0, "{report:?}");
    drop(server);
    let store = db.open().await;
    assert_converged(&d, &store).await;
    assert_eq!(
        store.photos().list().await.expect("list").len(),
        photos.len()
    );
    for p in &photos {
        let bytes = store
            .photos()
            .read(&p.sha256)
            .await
            .expect("read")
            .expect("held");
        assert_eq!(sotay_server::store::photos::sha256_hex(&bytes), p.sha256);
    }
}

/// Two `sotay-server` processes serve one database, the way a province
/// runs several copies: each trial two devices sync at once, each through
/// one of them at random (its own proxy is its balancer), and every other
/// trial one device's copy is killed (SIGKILL) within 20 ms, while a push of tens
/// of reports is in flight, and started again. Nothing is lost and
/// nothing doubled, on either device. On SQLite the two processes share
/// one file, which WAL and SQLite's locks allow; the scale path is
/// PostgreSQL.
async fn two_server_copies_lose_and_double_nothing(backend: Backend) {
    let (seed, trials) = seed_and_trials(16);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let codes = [
        seeded_enroll_code(&db),
        admin(&db, &["enroll", "--group", "k01-t04"])
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    ];
    let ports = [free_port(), free_port()];
    let mut copies = [
        Some(ServerProcess::start(&db, ports[0])),
        Some(ServerProcess::start(&db, ports[1])),
    ];
    let mut devices = Vec::new();
    for code in &codes {
        let proxy = Proxy::start(format!("127.0.0.1:{}", ports[0])).await;
        let d = Device::new();
        client()
            .enroll(&d.store, &proxy.url, code, "two copies")
            .await
            .expect("enroll");
        devices.push((Arc::new(d), proxy, 0usize, Vec::new()));
    }
    // Syncs the kill cut short, and of those the ones cut before every
    // change was acknowledged (mid-push).
    let (mut kills, mut cut, mut interrupted) = (0, 0, 0);
    for trial in 0..trials {
        let mut syncs = Vec::new();
        for (d, proxy, next, ids) in &mut devices {
            for _ in 0..rng.random_range(10..40) {
                write_some(d, &mut rng, next, ids);
            }
            let copy = rng.random_range(0..2);
            proxy.set_upstream(format!("127.0.0.1:{}", ports[copy]));
            let dev = d.clone();
            syncs.push((
                copy,
                d.clone(),
                tokio::spawn(async move {
                    impatient_client(Duration::from_secs(2))
                        .sync(&dev.store, &mut |_| {})
                        .await
                        .is_ok()
                }),
            ));
        }
        // The copy the first device is syncing through (the second may be
        // on it too, or on the other).
        let killed = (trial % 2 == 1).then(|| syncs[0].0);
        if let Some(i) = killed {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..20))).await;
            if let Some(copy) = copies[i].take() {
                copy.kill();
            }
            kills += 1;
        }
        for (copy, d, sync) in syncs {
            let finished = sync.await.unwrap_or(false);
            if killed == Some(copy) && !finished {
                cut += 1;
                if d.store().pending_count().expect("pending") > 0 {
                    interrupted += 1;
                }
            }
        }
        if let Some(i) = killed {
            copies[i] = Some(ServerProcess::start(&db, ports[i]));
        }
    }
    // The clean end: each device through each copy in turn.
    for (d, proxy, _, _) in &devices {
        for port in ports {
            proxy.set_upstream(format!("127.0.0.1:{port}"));
            client()
                .sync(&d.store, &mut |_| {})
                .await
                .expect("clean sync");
        }
    }
    drop(copies);
    let store = db.open().await;
    for (d, _, _, _) in &devices {
        assert_converged(d, &store).await;
    }
    eprintln!(
        "{trials} trials, {kills} copies killed, {cut} syncs cut short, {interrupted} of them mid-push"
    );
    assert!(
        trials < 2 || cut > 0,
        "no kill landed while a sync was in flight: the test proved nothing"
    );
}

/// The device process (`sotay-cli sync`) is killed at random moments,
/// including between the server's commit and the local acknowledgement.
async fn a_device_killed_during_sync_loses_nothing(backend: Backend) {
    let (seed, trials) = seed_and_trials(12);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(db) = Db::new(backend, dir.path()).await else {
        return;
    };
    let (server, store, _proxy, d) = seeded_behind_proxy(&db).await;
    let (mut next, mut ids) = (0, Vec::new());
    let cli = workspace_binary("sotay-cli");
    for _ in 0..trials {
        for _ in 0..rng.random_range(10..40) {
            write_some(&d, &mut rng, &mut next, &mut ids);
        }
        let mut child = Command::new(&cli)
            .arg("--data")
            .arg(d.dir.path())
            .args(["--json", "sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sotay-cli sync");
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..120))).await;
        let _ = child.kill();
        let _ = child.wait();
        d.reopen();
    }
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    assert_converged(&d, &store).await;
    drop(server);
}

/// Instantiates every fault for one backend.
macro_rules! faults {
    ($backend:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case($backend).await;
            }
        )+
    };
}

macro_rules! all_faults {
    ($backend:expr) => {
        faults!($backend;
            cut_connections_and_held_responses_converge,
            photos_cut_mid_upload_arrive_once_and_whole,
            a_server_restored_from_backup_gets_the_lost_changes_again,
            a_server_restored_from_backup_gets_the_lost_photos_again,
            a_server_killed_during_push_loses_nothing,
            a_server_killed_during_photo_uploads_loses_none,
            a_device_killed_during_sync_loses_nothing,
            a_backup_taken_while_devices_push_is_consistent_and_restores,
            two_server_copies_lose_and_double_nothing,
        );
    };
}

mod sqlite {
    use sotay_server::testing::Backend;
    all_faults!(Backend::Sqlite);
}

mod postgres {
    use sotay_server::testing::Backend;
    all_faults!(Backend::Postgres);
}
