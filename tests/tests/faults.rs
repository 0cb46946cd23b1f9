//! Fault tests: the real device code against the real server, with faults
//! injected at random moments. After each run the device syncs cleanly and
//! the server must hold exactly the device's reports (same ids, newest
//! revisions), none twice, none missing, each `sent` with its receipt.
//!
//! Seeded and reproducible: `SOTAY_SEED` replays a run, `SOTAY_TRIALS`
//! sets the number of trials.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sotay_device::Save;
use sotay_domain::report::ReportBody;
use sotay_e2e::proxy::{Fault, Proxy};
use sotay_e2e::{Device, assert_converged, client, impatient_client, workspace_binary};
use sotay_server::store::DynStore;
use sotay_server::{AppState, Config, ServerHandle};
use std::path::Path;
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

async fn sqlite_server(path: &Path) -> (ServerHandle, DynStore) {
    let store: DynStore = Arc::new(
        sotay_server::store::sqlite::SqliteStore::open(path)
            .await
            .expect("server store"),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let handle = sotay_server::spawn_on(listener, AppState::new(store.clone(), Config::default()))
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

/// A seeded SQLite server in `dir`, a proxy in front of it and a device
/// enrolled through the proxy.
async fn seeded_behind_proxy(dir: &Path) -> (ServerHandle, DynStore, Proxy, Device) {
    let (server, store) = sqlite_server(&dir.join("server.sqlite3")).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let d = enroll_via(&proxy, &store).await;
    (server, store, proxy, d)
}

/// Cuts connections at random byte offsets and holds responses past the
/// client's timeout after the server committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_and_held_responses_converge() {
    let (seed, trials) = seed_and_trials(40);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, store, proxy, d) = seeded_behind_proxy(dir.path()).await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_cut_mid_upload_arrive_once_and_whole() {
    let (seed, trials) = seed_and_trials(25);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, store, proxy, d) = seeded_behind_proxy(dir.path()).await;

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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_backup_gets_the_lost_changes_again() {
    let (seed, trials) = seed_and_trials(6);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.sqlite3");
    let backup = dir.path().join("backup.sqlite3");
    let (mut server, mut store) = sqlite_server(&db).await;
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
        let _ = std::fs::remove_file(&backup);
        rusqlite::Connection::open(&db)
            .and_then(|c| c.execute("VACUUM INTO ?1", [backup.to_str().unwrap_or_default()]))
            .expect("backup");
        // …more work reaches the server…
        write_some(&d, &mut rng, &mut next, &mut ids);
        client().sync(&d.store, &mut |_| {}).await.expect("sync");
        // …then the server is restored from the backup.
        server.shutdown().await.expect("stop");
        drop(store);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
        }
        std::fs::copy(&backup, &db).expect("restore");
        (server, store) = sqlite_server(&db).await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_backup_gets_the_lost_photos_again() {
    let mut rng = StdRng::seed_from_u64(11);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.sqlite3");
    let photos_dir = dir.path().join("server.sqlite3.photos");
    let backup = dir.path().join("backup.sqlite3");
    let (server, store) = sqlite_server(&db).await;
    sotay_server::admin::seed_demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    let proxy = Proxy::start(server.addr.to_string()).await;
    let d = enroll_via(&proxy, &store).await;
    d.tip(0);
    client().sync(&d.store, &mut |_| {}).await.expect("sync");
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute("VACUUM INTO ?1", [backup.to_str().unwrap_or_default()]))
        .expect("backup");
    let photo = noisy_photo(&d, &mut rng, 400, 300);
    tip_with_photos(&d, 1, vec![photo.clone()]);
    let r = client().sync(&d.store, &mut |_| {}).await.expect("sync");
    assert_eq!(r.photos_sent, 1);
    // Restored: the database from the backup, and the photo folder as it
    // was then (without the photo).
    server.shutdown().await.expect("stop");
    drop(store);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    std::fs::remove_dir_all(&photos_dir).expect("photos folder");
    std::fs::copy(&backup, &db).expect("restore");
    let (server, store) = sqlite_server(&db).await;
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
    fn start(db: &Path, port: u16) -> Self {
        let child = Command::new(workspace_binary("sotay-server"))
            .args(["--db", db.to_str().unwrap_or_default(), "serve", "--listen"])
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

fn admin(db: &Path, args: &[&str]) -> String {
    let out = Command::new(workspace_binary("sotay-server"))
        .args(["--db", db.to_str().unwrap_or_default(), "admin"])
        .args(args)
        .output()
        .expect("admin");
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `sotay-server` process is killed with SIGKILL at random moments
/// while the device pushes, then restarted on the same database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_push_loses_nothing() {
    let (seed, trials) = seed_and_trials(12);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.sqlite3");
    admin(&db, &["seed-demo"]);
    let code = admin(&db, &["enroll", "--group", "k01-t03"]);
    let code = code.lines().last().unwrap_or_default().trim().to_owned();
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
    let store: DynStore = Arc::new(
        sotay_server::store::sqlite::SqliteStore::open(&db)
            .await
            .expect("open server db"),
    );
    assert_converged(&d, &store).await;
    drop(server);
}

/// The `sotay-server` process is killed with SIGKILL at random moments
/// while photos upload, and restarted on the same database and photo
/// folder: in the end every photo is there once, byte for byte, and no
/// half photo is ever taken for a whole one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_photo_uploads_loses_none() {
    let (seed, trials) = seed_and_trials(8);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("server.sqlite3");
    admin(&db, &["seed-demo"]);
    let code = admin(&db, &["enroll", "--group", "k01-t03"]);
    let code = code.lines().last().unwrap_or_default().trim().to_owned();
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
    let store: DynStore = Arc::new(
        sotay_server::store::sqlite::SqliteStore::open(&db)
            .await
            .expect("open server db"),
    );
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

/// The device process (`sotay-cli sync`) is killed at random moments,
/// including between the server's commit and the local acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_during_sync_loses_nothing() {
    let (seed, trials) = seed_and_trials(12);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, store, _proxy, d) = seeded_behind_proxy(dir.path()).await;
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
