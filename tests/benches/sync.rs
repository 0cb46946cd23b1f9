//! Sync benchmark: one device pushing 10,000 queued reports to a real
//! server on loopback (SQLite and PostgreSQL), then a sync with nothing
//! new, then an incremental sync of 100 new reports.
//!
//! Run: `cargo bench -p sotay-e2e --bench sync` (PostgreSQL needs
//! `SOTAY_TEST_PG_URL`, see scripts/postgres-for-tests.sh; without it only
//! SQLite runs). Prints a Markdown table for docs/BENCHMARKS.md.

use sotay_e2e::proxy::Proxy;
use sotay_e2e::{Device, client};
use sotay_server::testing::{Backend, TestServer};
use std::time::Instant;

async fn run(backend: Backend, name: &str, n: usize) -> anyhow::Result<()> {
    let Some(server) = TestServer::start(backend, Default::default()).await? else {
        return Ok(());
    };
    // Through a counting proxy: bytes on the wire, headers and gzip included.
    let proxy = Proxy::start(server.handle.addr.to_string()).await;
    let code = server.enroll_code("k01-t03").await?;
    let d = Device::new();
    let c = client();
    c.enroll(&d.store, &proxy.url, &code, "bench").await?;
    let t = Instant::now();
    for i in 0..n {
        d.tip(i);
    }
    let fill = t.elapsed();

    let mut last = proxy.traffic();
    let mut row = |label: &str, secs: f64, r: &sotay_device::sync::SyncReport| {
        let now = proxy.traffic();
        println!(
            "| {name} | {label} | {:.3} | {} | {} | {} | {} |",
            secs,
            r.accepted,
            r.requests,
            now.0 - last.0,
            now.1 - last.1
        );
        last = now;
    };
    let t = Instant::now();
    let full = c.sync(&d.store, &mut |_| {}).await?;
    row(
        &format!("push {n} queued"),
        t.elapsed().as_secs_f64(),
        &full,
    );
    anyhow::ensure!(
        full.accepted as usize == n && full.pending == 0,
        "not all sent: {full:?}"
    );

    let t = Instant::now();
    let idle = c.sync(&d.store, &mut |_| {}).await?;
    row("nothing new", t.elapsed().as_secs_f64(), &idle);

    for i in n..n + 100 {
        d.tip(i);
    }
    let t = Instant::now();
    let inc = c.sync(&d.store, &mut |_| {}).await?;
    row("100 new", t.elapsed().as_secs_f64(), &inc);
    eprintln!(
        "({name}: queueing {n} reports on the device took {:.1} s)",
        fill.as_secs_f64()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("SOTAY_BENCH_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "| backend | sync | seconds | changes accepted | HTTP requests | bytes up (wire) | bytes down (wire) |"
    );
    println!("|---|---|---|---|---|---|---|");
    rt.block_on(run(Backend::Sqlite, "SQLite", n))?;
    if std::env::var("SOTAY_TEST_PG_URL").is_ok() {
        rt.block_on(run(Backend::Postgres, "PostgreSQL", n))?;
    }
    Ok(())
}
