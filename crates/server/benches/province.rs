//! Province benchmark (issue 15): one evening of a province on one
//! PostgreSQL. 50 wards × 250 devices × 40 reports (500,000 reports),
//! pushed by devices that pick one of the server processes at random for
//! each push; through two `sotay-server` processes in front of the one
//! database, then through one, in the same run, for the ratio. Reports
//! throughput, p50/p99 push latency and the database's size, and checks
//! that every report is stored exactly once.
//!
//! ```sh
//! export SOTAY_TEST_PG_URL="$(bash scripts/postgres-for-tests.sh)"
//! cargo bench -p sotay-server --bench province
//! ```
//! Env: `SOTAY_BENCH_WARDS` (50), `SOTAY_BENCH_DEVICES` (per ward, 250),
//! `SOTAY_BENCH_REPORTS` (per device, 40), `SOTAY_BENCH_BATCH` (changes
//! per push, 10), `SOTAY_BENCH_AT_ONCE` (devices syncing at the same
//! moment, 64), `SOTAY_BENCH_PROCESSES` (the runs, "2,1").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use serde_json::json;
use sotay_domain::place::DevicePlace;
use sotay_domain::wire::{Change, PushResponse};
use sotay_server::store::{DynStore, GroupSeed, NewDevice};
use sotay_server::testing::PgSchema;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Shape {
    wards: usize,
    devices: usize,
    reports: usize,
    batch: usize,
    at_once: usize,
}

fn tip(seq: i64) -> Change {
    let text = format!("Có người lạ mặt đi lại nhiều lần trước nhà số {seq}, đường Hà Huy Tập");
    sotay_server::testing::tip_change(seq, "suspicious-person", &text)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The province's places: ward `10001`…, each with one group per device
/// (`k01-t01`…, 13 groups a block), the same codes in every ward.
fn province(shape: &Shape) -> Vec<GroupSeed> {
    let mut seeds = Vec::new();
    for w in 1..=shape.wards {
        let ward = format!("{}", 10_000 + w);
        let name = format!("Phường {w}");
        for g in 0..shape.devices {
            let block = format!("k{:02}", g / 13 + 1);
            let group = format!("{block}-t{:02}", g % 13 + 1);
            let place =
                DevicePlace::from_codes(&ward, &block, &group, [Some(name.as_str()), None, None])
                    .expect("a place");
            seeds.push(GroupSeed { place });
        }
    }
    seeds
}

/// One enrolled device per group, as `admin enroll` and `/v1/enroll` would
/// make it: returns the bearer tokens.
async fn enroll_all(store: &DynStore, groups: Vec<String>) -> Vec<String> {
    futures_util::stream::iter(groups)
        .map(|group| {
            let store = store.clone();
            async move {
                let now = sotay_server::store::now_micros();
                let code = sotay_server::admin::issue_enroll_code(
                    &store,
                    &group,
                    chrono::TimeDelta::hours(1),
                    now,
                )
                .await
                .expect("code");
                let token = sotay_server::auth::new_token();
                let hash = sotay_server::auth::hash_secret(
                    &sotay_server::auth::normalize_code(&code).expect("code"),
                );
                store
                    .enroll(
                        &hash,
                        NewDevice {
                            id: sotay_domain::wire::DeviceId(uuid::Uuid::now_v7()),
                            name: "điện thoại".into(),
                            token_hash: sotay_server::auth::hash_secret(&token),
                        },
                        now,
                    )
                    .await
                    .expect("store")
                    .expect("enrolled");
                token
            }
        })
        .buffer_unordered(16)
        .collect()
        .await
}

struct ServerProcess(Child);

impl ServerProcess {
    fn start(db_url: &str) -> (Self, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let child = Command::new(env!("CARGO_BIN_EXE_sotay-server"))
            .args(["--db", db_url, "serve", "--changes-per-device-per-hour"])
            .arg(usize::MAX.to_string())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sotay-server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        (Self(child), format!("http://127.0.0.1:{port}/v1/sync/push"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Measured {
    processes: usize,
    reports: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    pushes: usize,
    db_bytes: i64,
}

async fn evening(url: &str, shape: &Shape, processes: usize) -> Measured {
    let schema = PgSchema::create(url).await.expect("schema");
    let store: DynStore = Arc::new(
        sotay_server::store::postgres::PgStore::connect(url, Some(&schema.name))
            .await
            .expect("store"),
    );
    let seeds = province(shape);
    store.seed_groups(&seeds, None).await.expect("seed");
    // Each ward's source key, as `admin ward add` makes it (a server
    // refuses to start with a ward that has none).
    for w in store.wards().await.expect("wards") {
        sotay_server::sources::create_ward_key(&store, &w.code, sotay_server::store::now_micros())
            .await
            .expect("ward key");
    }
    let groups = store
        .groups(&sotay_server::store::Scope::Province)
        .await
        .expect("groups");
    assert_eq!(groups.len(), shape.wards * shape.devices);
    let tokens = enroll_all(&store, groups.into_iter().map(|g| g.id).collect()).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let db_url = format!("{url}{sep}options=-c%20search_path%3D{}", schema.name);
    let servers: Vec<(ServerProcess, String)> = (0..processes)
        .map(|_| ServerProcess::start(&db_url))
        .collect();
    let urls: Arc<Vec<String>> = Arc::new(servers.iter().map(|(_, u)| u.clone()).collect());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(shape.at_once)
        .build()
        .unwrap();
    let (reports, batch) = (shape.reports, shape.batch);
    let start = Instant::now();
    let latencies: Vec<Vec<Duration>> = futures_util::stream::iter(tokens)
        .map(|token| {
            let client = client.clone();
            let urls = urls.clone();
            tokio::spawn(async move {
                let changes: Vec<Change> = (1..=reports as i64).map(tip).collect();
                let mut latencies = Vec::new();
                for chunk in changes.chunks(batch) {
                    // Each push goes to whichever copy the balancer picks.
                    let url = &urls[rand::random_range(0..urls.len())];
                    let t = Instant::now();
                    let res = client
                        .post(url)
                        .bearer_auth(&token)
                        .json(&json!({ "changes": chunk }))
                        .send()
                        .await
                        .expect("send");
                    assert!(res.status().is_success(), "{}", res.status());
                    let body: PushResponse = res.json().await.expect("json");
                    latencies.push(t.elapsed());
                    assert_eq!(body.checkpoint, chunk.last().unwrap().device_seq);
                }
                latencies
            })
        })
        .buffer_unordered(shape.at_once)
        .map(|r| r.expect("device task"))
        .collect()
        .await;
    let elapsed = start.elapsed();
    drop(servers);
    let mut latencies: Vec<Duration> = latencies.into_iter().flatten().collect();
    latencies.sort();

    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let conn = tokio::spawn(conn);
    let n = &schema.name;
    let stored: i64 = client
        .query_one(&format!("SELECT count(*) FROM {n}.reports"), &[])
        .await
        .unwrap()
        .get(0);
    let revisions: i64 = client
        .query_one(&format!("SELECT count(*) FROM {n}.report_revisions"), &[])
        .await
        .unwrap()
        .get(0);
    let db_bytes: i64 = client
        .query_one(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
             JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE s.nspname = $1 AND c.relkind = 'r'",
            &[n],
        )
        .await
        .unwrap()
        .get(0);
    drop(client);
    let _ = conn.await;
    let expected = (shape.wards * shape.devices * shape.reports) as i64;
    assert_eq!(stored, expected, "every report stored once");
    assert_eq!(revisions, expected, "one revision each");
    Measured {
        processes,
        reports: stored as usize,
        elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        pushes: latencies.len(),
        db_bytes,
    }
}

fn main() {
    let Some(url) = std::env::var("SOTAY_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("skipped: SOTAY_TEST_PG_URL is not set (bash scripts/postgres-for-tests.sh)");
        return;
    };
    let shape = Shape {
        wards: env("SOTAY_BENCH_WARDS", 50),
        devices: env("SOTAY_BENCH_DEVICES", 250),
        reports: env("SOTAY_BENCH_REPORTS", 40),
        batch: env("SOTAY_BENCH_BATCH", 10),
        at_once: env("SOTAY_BENCH_AT_ONCE", 64),
    };
    let runs: Vec<usize> = std::env::var("SOTAY_BENCH_PROCESSES")
        .unwrap_or_else(|_| "2,1".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{} wards × {} devices × {} reports, {} changes a push, {} devices at once",
        shape.wards, shape.devices, shape.reports, shape.batch, shape.at_once
    );
    println!(
        "| server processes | reports | pushes | wall time | reports/s | p50 push | p99 push | database |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut rates = Vec::new();
    for processes in runs {
        let m = rt.block_on(evening(&url, &shape, processes));
        let rate = m.reports as f64 / m.elapsed.as_secs_f64();
        rates.push((m.processes, rate));
        println!(
            "| {} | {} | {} | {:.1} s | {:.0} | {:.1} ms | {:.1} ms | {:.0} MB |",
            m.processes,
            m.reports,
            m.pushes,
            m.elapsed.as_secs_f64(),
            rate,
            m.p50.as_secs_f64() * 1000.0,
            m.p99.as_secs_f64() * 1000.0,
            m.db_bytes as f64 / 1e6,
        );
    }
    if let (Some((a, ra)), Some((b, rb))) = (rates.first(), rates.get(1)) {
        println!("throughput {a} processes ÷ {b}: {:.2}×", ra / rb);
    }
}
