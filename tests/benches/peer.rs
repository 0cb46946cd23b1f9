//! Peer benchmark (issue 13), everything in one run so the ratios hold on a
//! noisy machine:
//! - the disk's fsync cost, measured first;
//! - a push of N queued reports (default 10,000 tips of varied Vietnamese
//!   text, about 400 bytes each): PouchDB 9 (`pouchdb-node`, LevelDB)
//!   replicating to `pouchdb-server`, against the real device engine
//!   syncing to the real server on SQLite and on PostgreSQL, alternating,
//!   several rounds;
//! - the ward evening: 250 devices, 40 reports each, all syncing at once,
//!   on both backends, each against the same rows bulk-inserted by the
//!   backend's own fastest means (SQLite: one transaction of prepared
//!   inserts, foreign keys on; PostgreSQL: binary `COPY`).
//!
//! Run: `bash scripts/bench.sh peer` (installs pouchdb-server and starts
//! PostgreSQL first). `SOTAY_BENCH_REPORTS`, `SOTAY_BENCH_ROUNDS`,
//! `SOTAY_BENCH_DEVICES` and `SOTAY_BENCH_PER_DEVICE` change the sizes.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sotay_device::Save;
use sotay_domain::report::ReportBody;
use sotay_domain::tip::{Location, Tip, TipCategory, Urgency};
use sotay_domain::wire::Change;
use sotay_e2e::{Device, client, tip_body};
use sotay_server::testing::{Backend, TestDb, TestServer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const PLACES: &[&str] = &[
    "Ngõ 7 đường Lê Lợi",
    "Số 12 đường Hà Huy Tập",
    "Chợ Vinh, cổng phía đông",
    "Khu tập thể Quang Trung, nhà B3",
    "Bờ hồ Goong, gần trạm biến áp",
    "Hẻm 45 đường Nguyễn Du",
    "Quán nước đầu ngõ 3, khối 12",
];
const OPENINGS: &[&str] = &[
    "Khoảng 22 giờ tối qua",
    "Sáng nay lúc 6 giờ",
    "Nhiều đêm liền",
    "Chiều chủ nhật vừa rồi",
    "Từ đầu tuần đến nay",
];
const WHAT: &[&str] = &[
    "có hai thanh niên lạ mặt đi xe máy không biển số đi lại nhiều lần, dừng trước các nhà có xe để ngoài sân",
    "một nhóm người tụ tập đánh bạc ăn tiền trong nhà kho cũ, có người canh ở đầu ngõ",
    "có người dán quảng cáo cho vay tiền lãi cao trên cột điện và gọi điện đe dọa một hộ trong tổ",
    "một người tự xưng là công an phường gọi điện yêu cầu chuyển tiền để xác minh tài khoản",
    "nhà số 5 cho nhiều người thuê trọ nhưng chưa khai báo tạm trú, có người ra vào lúc nửa đêm",
    "bình ga để sát bếp than trong quán ăn, dây điện nối tạm chạy qua mái tôn",
    "xe tải đỗ chắn lối đi chung, người dân phải đi vòng ra đường lớn rất nguy hiểm",
];
const DETAILS: &[&str] = &[
    "Người dân trong tổ rất lo lắng và đề nghị công an phường kiểm tra.",
    "Đã nhắc nhở nhưng tình trạng vẫn tiếp diễn.",
    "Một người đàn ông khoảng 30 tuổi, mặc áo khoác đen, đội mũ lưỡi trai.",
    "Có thể liên hệ tổ trưởng để biết thêm chi tiết.",
    "Sự việc đã kéo dài khoảng hai tuần.",
];

/// The `i`-th of the benchmark's tips: varied text, about 400 bytes of
/// JSON.
fn tip(rng: &mut StdRng, i: usize) -> Tip {
    let pick = |rng: &mut StdRng, xs: &[&'static str]| xs[rng.random_range(0..xs.len())];
    let description = format!(
        "{}, {}. {} (tin số {i})",
        pick(rng, OPENINGS),
        pick(rng, WHAT),
        pick(rng, DETAILS)
    );
    Tip {
        category: TipCategory::ALL[rng.random_range(0..TipCategory::ALL.len())],
        location: Location {
            text: Some(pick(rng, PLACES).to_owned()),
            ..Location::default()
        },
        urgency: if rng.random_bool(0.1) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        ..tip_body(&description)
    }
}

fn tips(seed: u64, n: usize) -> Vec<Tip> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|i| tip(&mut rng, i)).collect()
}

fn fill(d: &Device, tips: &[Tip]) {
    for t in tips {
        d.store()
            .save_report(None, ReportBody::Tip(t.clone()), Save::Send)
            .expect("save");
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(xs: &[f64], p: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The disk's cost of one durable write: 4 KiB appended then `fdatasync`,
/// in the folder the benchmark's files go to.
fn fsync_cost() -> (f64, f64) {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::File::create(dir.path().join("fsync")).expect("file");
    let block = [7u8; 4096];
    let mut ms = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        f.write_all(&block).expect("write");
        f.sync_data().expect("fdatasync");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

/// One push of `tips` from a fresh device to a fresh server: seconds, HTTP
/// requests, and the requests of the sync with nothing new after it.
async fn sotay_push(backend: Backend, tips: &[Tip]) -> anyhow::Result<Option<(f64, u64, u64)>> {
    let Some(server) = TestServer::start(backend, Default::default()).await? else {
        return Ok(None);
    };
    let code = server.enroll_code("k01-t03").await?;
    let d = Device::new();
    let c = client();
    c.enroll(&d.store, &server.url(), &code, "bench").await?;
    fill(&d, tips);
    let t = Instant::now();
    let r = c.sync(&d.store, &mut |_| {}).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        r.accepted as usize == tips.len() && r.pending == 0,
        "not all sent: {r:?}"
    );
    let idle = c.sync(&d.store, &mut |_| {}).await?;
    Ok(Some((secs, r.requests, idle.requests)))
}

struct PouchServer {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl PouchServer {
    fn start(root: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(root.join("node_modules/.bin/pouchdb-server"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(["--config"])
            .arg(dir.path().join("config.json"))
            .arg("--no-stdout-logs")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "pouchdb-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        })
    }
}

impl Drop for PouchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PouchDB pushing `data` (a JSON file of documents) to a new database.
fn pouch_push(
    root: &Path,
    server: &PouchServer,
    db: &str,
    data: &Path,
    n: usize,
) -> anyhow::Result<f64> {
    let out = Command::new("node")
        .arg(root.join("push.js"))
        .arg(format!("{}/{db}", server.url))
        .arg(data)
        .arg("500")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "push.js: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    anyhow::ensure!(
        v["docs"].as_u64() == Some(n as u64),
        "PouchDB holds {} of {n}",
        v["docs"]
    );
    v["seconds"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("no seconds in {v}"))
}

/// The demo ward's group codes, in order.
async fn group_codes(server: &TestServer) -> anyhow::Result<Vec<String>> {
    Ok(server
        .store()
        .groups(&sotay_server::store::Scope::Province)
        .await?
        .into_iter()
        .map(|g| g.code)
        .collect())
}

/// The ward evening: `devices` devices of the demo ward, `per` reports
/// each, all syncing at once. Seconds from the first request to the last
/// answer, and each device's sync time.
async fn ward_evening(
    backend: Backend,
    devices: usize,
    per: usize,
) -> anyhow::Result<Option<(f64, Vec<f64>)>> {
    let Some(server) = TestServer::start(backend, Default::default()).await? else {
        return Ok(None);
    };
    let groups = group_codes(&server).await?;
    let c = client();
    let mut all = Vec::with_capacity(devices);
    for i in 0..devices {
        let code = server.enroll_code(&groups[i % groups.len()]).await?;
        let d = Device::new();
        c.enroll(&d.store, &server.url(), &code, &format!("máy {i}"))
            .await?;
        fill(&d, &tips(i as u64, per));
        all.push(std::sync::Arc::new(d));
    }
    let start = Instant::now();
    let tasks: Vec<_> = all
        .iter()
        .map(|d| {
            let d = d.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let r = client().sync(&d.store, &mut |_| {}).await;
                (t.elapsed().as_secs_f64(), r)
            })
        })
        .collect();
    let mut each = Vec::with_capacity(devices);
    for t in tasks {
        let (secs, r) = t.await?;
        let r = r?;
        anyhow::ensure!(r.accepted as usize == per, "{r:?}");
        each.push(secs);
    }
    let total = start.elapsed().as_secs_f64();
    let stored = server
        .store()
        .export(&sotay_server::store::Scope::Province, None)
        .await?
        .len();
    anyhow::ensure!(stored == devices * per, "{stored} stored");
    Ok(Some((total, each)))
}

/// The ward evening's rows (reports, revisions, device sequence numbers)
/// bulk-inserted by the backend's own fastest means into a fresh store:
/// the seconds of the insert and its commit.
async fn bulk_baseline(
    backend: Backend,
    devices: usize,
    per: usize,
) -> anyhow::Result<Option<f64>> {
    let Some(server) = TestServer::start(backend, Default::default()).await? else {
        return Ok(None);
    };
    let groups = group_codes(&server).await?;
    struct Row {
        report: uuid::Uuid,
        group: String,
        device: uuid::Uuid,
        seq: i64,
        payload: String,
    }
    let mut rows = Vec::with_capacity(devices * per);
    for i in 0..devices {
        let group = groups[i % groups.len()].clone();
        let (device, _) = server.enroll_device(&group).await?;
        for (j, t) in tips(i as u64, per).into_iter().enumerate() {
            let id = sotay_domain::ReportId::new_v7();
            let change = Change::new(id, j as i64 + 1, 1, &ReportBody::Tip(t));
            rows.push(Row {
                report: id.0,
                group: group.clone(),
                device: device.0,
                seq: change.device_seq,
                payload: change.payload.to_string(),
            });
        }
    }
    let now = chrono::Utc::now();
    match server.db() {
        TestDb::Sqlite(dir) => {
            let path = dir.0.join("server.sqlite3");
            let secs = tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
                let mut conn = rusqlite::Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.pragma_update(None, "foreign_keys", "ON")?;
                let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let t = Instant::now();
                let tx = conn.transaction()?;
                {
                    let mut report = tx.prepare(
                        "INSERT INTO reports (id, group_code, kind, latest_rev) VALUES (?1, ?2, 'tip', 1)",
                    )?;
                    let mut revision = tx.prepare(
                        "INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
                         VALUES (?1, 1, 'tip', ?2, ?3, ?4, ?5)",
                    )?;
                    let mut seq = tx.prepare(
                        "INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome)
                         VALUES (?1, ?2, ?3, 1, 'accepted')",
                    )?;
                    for r in &rows {
                        let (id, dev) = (r.report.hyphenated().to_string(), r.device.hyphenated().to_string());
                        report.execute(rusqlite::params![id, r.group])?;
                        revision.execute(rusqlite::params![id, dev, r.seq, r.payload, at])?;
                        seq.execute(rusqlite::params![dev, r.seq, id])?;
                    }
                }
                tx.commit()?;
                Ok(t.elapsed().as_secs_f64())
            })
            .await??;
            Ok(Some(secs))
        }
        TestDb::Postgres(schema) => {
            use tokio_postgres::binary_copy::BinaryCopyInWriter;
            use tokio_postgres::types::Type;
            let mut cfg: tokio_postgres::Config = schema.url.parse()?;
            cfg.options(format!("-c search_path={}", schema.name));
            let (mut pg, conn) = cfg.connect(tokio_postgres::NoTls).await?;
            let conn = tokio::spawn(conn);
            let t = Instant::now();
            let tx = pg.transaction().await?;
            let sink = tx
                .copy_in(
                    "COPY reports (id, group_code, kind, latest_rev) FROM STDIN (FORMAT binary)",
                )
                .await?;
            let w =
                BinaryCopyInWriter::new(sink, &[Type::UUID, Type::TEXT, Type::TEXT, Type::INT8]);
            let mut w = std::pin::pin!(w);
            for r in &rows {
                w.as_mut()
                    .write(&[&r.report, &r.group, &"tip", &1i64])
                    .await?;
            }
            w.finish().await?;
            let sink = tx
                .copy_in(
                    "COPY report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
                     FROM STDIN (FORMAT binary)",
                )
                .await?;
            let w = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::UUID,
                    Type::INT8,
                    Type::TEXT,
                    Type::UUID,
                    Type::INT8,
                    Type::TEXT,
                    Type::TIMESTAMPTZ,
                ],
            );
            let mut w = std::pin::pin!(w);
            for r in &rows {
                w.as_mut()
                    .write(&[
                        &r.report, &1i64, &"tip", &r.device, &r.seq, &r.payload, &now,
                    ])
                    .await?;
            }
            w.finish().await?;
            let sink = tx
                .copy_in(
                    "COPY device_seqs (device_id, device_seq, report_id, rev, outcome) FROM STDIN (FORMAT binary)",
                )
                .await?;
            let w = BinaryCopyInWriter::new(
                sink,
                &[Type::UUID, Type::INT8, Type::UUID, Type::INT8, Type::TEXT],
            );
            let mut w = std::pin::pin!(w);
            for r in &rows {
                w.as_mut()
                    .write(&[&r.device, &r.seq, &r.report, &1i64, &"accepted"])
                    .await?;
            }
            w.finish().await?;
            tx.commit().await?;
            let secs = t.elapsed().as_secs_f64();
            drop(pg);
            let _ = conn.await;
            Ok(Some(secs))
        }
    }
}

fn pouch_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/pouchdb")
}

async fn run() -> anyhow::Result<()> {
    let n = env("SOTAY_BENCH_REPORTS", 10_000);
    let rounds = env("SOTAY_BENCH_ROUNDS", 3);
    let devices = env("SOTAY_BENCH_DEVICES", 250);
    let per = env("SOTAY_BENCH_PER_DEVICE", 40);
    let root = pouch_root();
    anyhow::ensure!(
        root.join("node_modules/.bin/pouchdb-server").exists(),
        "pouchdb-server is not installed: run `bash scripts/bench.sh peer`"
    );
    let (p50, p99) = fsync_cost();
    println!("fsync (4 KiB + fdatasync, 200 times): p50 {p50:.3} ms, p99 {p99:.3} ms\n");

    let tips = tips(20261201, n);
    let data = tempfile::NamedTempFile::new()?;
    let docs: Vec<serde_json::Value> = tips
        .iter()
        .map(|t| {
            let id = sotay_domain::ReportId::new_v7();
            serde_json::json!({"_id": id.to_string(), "kind": "tip", "body": ReportBody::Tip(t.clone())})
        })
        .collect();
    std::fs::write(data.path(), serde_json::to_vec(&docs)?)?;
    let bytes = docs
        .iter()
        .map(|d| d["body"].to_string().len())
        .sum::<usize>()
        / n.max(1);
    println!(
        "push of {n} queued tips (~{bytes} bytes of JSON each), {rounds} rounds, alternating:\n"
    );
    println!("| round | system | seconds | HTTP requests | requests, nothing new |");
    println!("|---|---|---|---|---|");
    let pouch = PouchServer::start(&root)?;
    let (mut t_pouch, mut t_sqlite, mut t_pg) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        for k in 0..3 {
            match (round + k) % 3 {
                0 => {
                    let s = pouch_push(&root, &pouch, &format!("r{round}"), data.path(), n)?;
                    println!("| {round} | PouchDB → pouchdb-server | {s:.3} | | |");
                    t_pouch.push(s);
                }
                1 => {
                    if let Some((s, req, idle)) = sotay_push(Backend::Sqlite, &tips).await? {
                        println!(
                            "| {round} | Sổ tay → sotay-server, SQLite | {s:.3} | {req} | {idle} |"
                        );
                        t_sqlite.push(s);
                    }
                }
                _ => {
                    if let Some((s, req, idle)) = sotay_push(Backend::Postgres, &tips).await? {
                        println!(
                            "| {round} | Sổ tay → sotay-server, PostgreSQL | {s:.3} | {req} | {idle} |"
                        );
                        t_pg.push(s);
                    }
                }
            }
        }
    }
    drop(pouch);
    let mp = median(&t_pouch);
    println!("\n| push of {n}, median of {rounds} | seconds | PouchDB ÷ this |");
    println!("|---|---|---|");
    println!("| PouchDB → pouchdb-server | {mp:.3} | 1.0 |");
    if !t_sqlite.is_empty() {
        let m = median(&t_sqlite);
        println!(
            "| Sổ tay, SQLite | {m:.3} | **{:.1}×** (target ≥ 20×) |",
            mp / m
        );
    }
    if !t_pg.is_empty() {
        let m = median(&t_pg);
        println!(
            "| Sổ tay, PostgreSQL | {m:.3} | **{:.1}×** (target ≥ 10×) |",
            mp / m
        );
    }

    println!(
        "\nward evening: {devices} devices × {per} reports, all syncing at once, against the same rows bulk-inserted:\n"
    );
    println!(
        "| backend | evening s | device sync p50 s | p99 s | bulk insert s | evening ÷ bulk |"
    );
    println!("|---|---|---|---|---|---|");
    for (backend, name) in [
        (Backend::Sqlite, "SQLite"),
        (Backend::Postgres, "PostgreSQL"),
    ] {
        let Some((total, each)) = ward_evening(backend, devices, per).await? else {
            continue;
        };
        let Some(bulk) = bulk_baseline(backend, devices, per).await? else {
            continue;
        };
        println!(
            "| {name} | {total:.3} | {:.3} | {:.3} | {bulk:.3} | **{:.2}×** (target ≤ 3×, ≤ 1 s) |",
            percentile(&each, 0.5),
            percentile(&each, 0.99),
            total / bulk
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run())
}
