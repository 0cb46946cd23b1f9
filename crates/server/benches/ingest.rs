//! Ingest benchmark: a ward's evening on Wi-Fi. 250 devices, each pushing
//! 40 tips, all at once, to a real server on loopback; reports per second
//! and p50/p99 push latency, on SQLite and on PostgreSQL, beside the same
//! rows inserted straight into a fresh database of the same backend in one
//! transaction. The ratio says what the protocol costs (HTTP, JSON,
//! validation, per-change idempotency checks, one commit per push).
//!
//! `cargo bench -p sotay-server --bench ingest`
//! Env: `SOTAY_BENCH_BATCH` (changes per push, default 10),
//! `SOTAY_TEST_PG_URL` (PostgreSQL; skipped with a note when unset).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use serde_json::json;
use sotay_domain::wire::{Change, DeviceId, PushResponse};
use sotay_server::testing::{Backend, TestDb, TestServer};
use std::time::{Duration, Instant};

const DEVICES: usize = 250;
const REPORTS_PER_DEVICE: usize = 40;

fn tip(seq: i64) -> Change {
    let text = format!("Có người lạ mặt đi lại nhiều lần trước nhà số {seq}, đường Hà Huy Tập");
    sotay_server::testing::tip_change(seq, "suspicious-person", &text)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Measured {
    reports: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    pushes: usize,
}

/// The devices' groups: one per demo group, then round again.
fn device_groups() -> Vec<String> {
    sotay_server::admin::demo_groups()
        .unwrap()
        .into_iter()
        .map(|g| g.place.group.code.to_string())
        .cycle()
        .take(DEVICES)
        .collect()
}

async fn over_http(backend: Backend, batch: usize) -> Measured {
    let server = TestServer::start(backend, Default::default())
        .await
        .expect("start")
        .expect("not skipped");
    let mut devices = Vec::new();
    for g in device_groups() {
        devices.push(server.enroll_device(&g).await.expect("enroll"));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(DEVICES)
        .build()
        .unwrap();
    let url = format!("{}/v1/sync/push", server.url());
    let start = Instant::now();
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|(_, token)| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let changes: Vec<Change> = (1..=REPORTS_PER_DEVICE as i64).map(tip).collect();
                let mut latencies = Vec::new();
                for chunk in changes.chunks(batch) {
                    let t = Instant::now();
                    let res = client
                        .post(&url)
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
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    let stored = server
        .store()
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .unwrap()
        .len();
    assert_eq!(
        stored,
        DEVICES * REPORTS_PER_DEVICE,
        "every report stored once"
    );
    latencies.sort();
    Measured {
        reports: stored,
        elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        pushes: latencies.len(),
    }
}

/// The same rows (reports, revisions, processed sequence numbers, device
/// checkpoints) written straight into a fresh database in one transaction.
async fn direct(backend: Backend) -> Duration {
    let server = TestServer::start(backend, Default::default())
        .await
        .expect("start")
        .expect("not skipped");
    let mut devices: Vec<(DeviceId, String)> = Vec::new();
    for g in device_groups() {
        let (id, _) = server.enroll_device(&g).await.expect("enroll");
        devices.push((id, g));
    }
    let rows: Vec<(DeviceId, String, Change, String)> = devices
        .iter()
        .flat_map(|(id, g)| {
            (1..=REPORTS_PER_DEVICE as i64).map(move |seq| {
                let c = tip(seq);
                let payload = serde_json::to_string(&c.payload).unwrap();
                (*id, g.clone(), c, payload)
            })
        })
        .collect();
    let now = Utc::now();
    match server.db() {
        TestDb::Sqlite(dir) => {
            let path = dir.0.join("server.sqlite3");
            tokio::task::spawn_blocking(move || {
                let mut conn = rusqlite::Connection::open(path).unwrap();
                conn.pragma_update(None, "synchronous", "FULL").unwrap();
                let start = Instant::now();
                let tx = conn.transaction().unwrap();
                let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                {
                    let mut r = tx.prepare("INSERT INTO reports (id, group_code, kind, latest_rev) VALUES (?1, ?2, 'tip', 1)").unwrap();
                    let mut v = tx.prepare("INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at) VALUES (?1, 1, 'tip', ?2, ?3, ?4, ?5)").unwrap();
                    let mut s = tx.prepare("INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome) VALUES (?1, ?2, ?3, 1, 'accepted')").unwrap();
                    for (dev, group, c, payload) in &rows {
                        let id = c.report_id.to_string();
                        let dev = dev.to_string();
                        r.execute(rusqlite::params![id, group]).unwrap();
                        v.execute(rusqlite::params![id, dev, c.device_seq, payload, at]).unwrap();
                        s.execute(rusqlite::params![dev, c.device_seq, id]).unwrap();
                    }
                    tx.execute("UPDATE devices SET checkpoint = ?1", [REPORTS_PER_DEVICE as i64]).unwrap();
                }
                tx.commit().unwrap();
                start.elapsed()
            })
            .await
            .unwrap()
        }
        TestDb::Postgres(schema) => {
            let mut cfg: tokio_postgres::Config = schema.url.parse().unwrap();
            cfg.options(format!("-c search_path={}", schema.name));
            let (mut client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let start = Instant::now();
            let tx = client.transaction().await.unwrap();
            let r = tx.prepare("INSERT INTO reports (id, group_code, kind, latest_rev) VALUES ($1, $2, 'tip', 1)").await.unwrap();
            let v = tx.prepare("INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at) VALUES ($1, 1, 'tip', $2, $3, $4, $5)").await.unwrap();
            let s = tx.prepare("INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome) VALUES ($1, $2, $3, 1, 'accepted')").await.unwrap();
            for (dev, group, c, payload) in &rows {
                tx.execute(&r, &[&c.report_id.0, group]).await.unwrap();
                tx.execute(&v, &[&c.report_id.0, &dev.0, &c.device_seq, payload, &now])
                    .await
                    .unwrap();
                tx.execute(&s, &[&dev.0, &c.device_seq, &c.report_id.0])
                    .await
                    .unwrap();
            }
            tx.execute(
                "UPDATE devices SET checkpoint = $1",
                &[&(REPORTS_PER_DEVICE as i64)],
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            start.elapsed()
        }
    }
}

fn main() {
    let batch: usize = std::env::var("SOTAY_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|b| (1..=REPORTS_PER_DEVICE).contains(b))
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "ingest: {DEVICES} devices x {REPORTS_PER_DEVICE} tips, {batch} per push; {}",
        sotay_server::testing::machine()
    );
    println!(
        "| backend | reports | pushes | wall time | reports/s | p50 push | p99 push | direct 1-tx insert | direct rows/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for backend in sotay_server::testing::bench_backends() {
        let m = rt.block_on(over_http(backend, batch));
        let d = rt.block_on(direct(backend));
        let http_rate = m.reports as f64 / m.elapsed.as_secs_f64();
        let direct_rate = m.reports as f64 / d.as_secs_f64();
        println!(
            "| {backend:?} | {} | {} | {:.2} s | {:.0} | {:.1} ms | {:.1} ms | {:.3} s | {:.0} | {:.1}x |",
            m.reports,
            m.pushes,
            m.elapsed.as_secs_f64(),
            http_rate,
            m.p50.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3,
            d.as_secs_f64(),
            direct_rate,
            direct_rate / http_rate,
        );
    }
}
