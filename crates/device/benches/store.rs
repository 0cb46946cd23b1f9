//! Store benchmarks: durable save latency against a bare rusqlite insert and
//! commit with the same pragmas on the same disk in the same run, then list
//! and search over 10,000 stored reports.
//!
//! Run: `cargo bench -p sotay-device --bench store` (SOTAY_BENCH_DIR picks the
//! disk; default the system temp folder; SOTAY_BENCH_SAVES the save count).
//! Prints a Markdown table for docs/BENCHMARKS.md. The figure that matters
//! is the ratio, measured in one run on one disk.

use chrono::Utc;
use rusqlite::Connection;
use sotay_device::{ListFilter, Save, Store};
use sotay_domain::place::DevicePlace;
use sotay_domain::report::{ReportBody, ReportKind};
use sotay_domain::tip::{Location, Source, Tip, TipCategory, Urgency};
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "ma túy",
    "trộm cắp",
    "xe máy",
    "đường Lê Lợi",
    "hẻm",
    "đối tượng",
    "tín dụng đen",
    "cờ bạc",
    "nhà trọ",
    "người lạ",
    "ban đêm",
    "Nguyễn Văn",
    "khối 7",
    "chợ Vinh",
    "lừa đảo",
    "điện thoại",
];

fn tip(i: usize) -> Tip {
    let mut text = format!("Tin báo số {i}: ");
    for k in 0..12 {
        text.push_str(WORDS[(i * 7 + k * 3) % WORDS.len()]);
        text.push(' ');
    }
    Tip {
        photos: Vec::new(),
        category: TipCategory::ALL[i % TipCategory::ALL.len()],
        description: text,
        location: Location {
            text: Some(format!("Số {} đường Lê Lợi", i % 300)),
            ..Location::default()
        },
        occurred_at: None,
        urgency: if i.is_multiple_of(5) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        source: Source::Observed,
        suspects: vec![],
        confidential_note: None,
        sealed: None,
    }
}

/// A timed query returning how many rows it found.
type Query<'a> = Box<dyn FnMut() -> anyhow::Result<usize> + 'a>;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing to parse.
    let base = std::env::var_os("SOTAY_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let saves: usize = std::env::var("SOTAY_BENCH_SAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir_in(&base)?;
    println!("store benchmark in {} ({saves} saves)\n", base.display());

    // 1. Durable saves: the store vs a bare insert + commit, interleaved so
    // that both see the same disk weather.
    let mut store = Store::open_dir(dir.path().join("device"))?;
    store.init(&DevicePlace::from_codes(
        "hht",
        "k01",
        "k01-t03",
        [None, None, None],
    )?)?;
    let bare = Connection::open(dir.path().join("bare.sqlite3"))?;
    sotay_device::store::apply_store_pragmas(&bare)?;
    bare.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL) STRICT",
    )?;
    let mut store_lat = Vec::with_capacity(saves);
    let mut bare_lat = Vec::with_capacity(saves);
    for i in 0..saves {
        let body = ReportBody::Tip(tip(i));
        let json = serde_json::to_string(&body)?;
        let t = Instant::now();
        store.save_report(None, body, Save::Send)?;
        store_lat.push(t.elapsed());

        let t = Instant::now();
        bare.execute(
            "INSERT INTO t (id, body, created_at) VALUES (?1, ?2, ?3)",
            (
                uuid::Uuid::now_v7().to_string(),
                json,
                Utc::now().to_rfc3339(),
            ),
        )?;
        bare_lat.push(t.elapsed());
    }
    let (s50, s99) = (
        percentile(&mut store_lat, 0.5),
        percentile(&mut store_lat, 0.99),
    );
    let (b50, b99) = (
        percentile(&mut bare_lat, 0.5),
        percentile(&mut bare_lat, 0.99),
    );
    println!("| durable save ({saves} each, interleaved) | p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!(
        "| Store::save_report (validate, report row, outbox row, one transaction) | {} | {} |",
        ms(s50),
        ms(s99)
    );
    println!(
        "| bare rusqlite INSERT + autocommit, same pragmas and disk | {} | {} |",
        ms(b50),
        ms(b99)
    );
    println!(
        "| **ratio store / bare** | **{:.2}** | **{:.2}** |\n",
        s50.as_secs_f64() / b50.as_secs_f64(),
        s99.as_secs_f64() / b99.as_secs_f64()
    );

    // 2. List and search over 10,000 reports.
    let target = 10_000;
    let t = Instant::now();
    for i in saves..target {
        store.save_report(None, ReportBody::Tip(tip(i)), Save::Send)?;
    }
    println!(
        "filled to {target} reports in {:.1} s\n",
        t.elapsed().as_secs_f64()
    );
    let runs = 100;
    let cases: Vec<(&str, Query<'_>)> = vec![
        (
            "list, first page of 50, no filter",
            Box::new(|| Ok(store.list(&ListFilter::default())?.items.len())),
        ),
        (
            "list, page 100 (offset 4,950)",
            Box::new(|| {
                Ok(store
                    .list(&ListFilter {
                        offset: 4950,
                        ..ListFilter::default()
                    })?
                    .items
                    .len())
            }),
        ),
        (
            "list, kind=tip category=drugs, first page",
            Box::new(|| {
                Ok(store
                    .list(&ListFilter {
                        kind: Some(ReportKind::Tip),
                        category: Some(TipCategory::Drugs),
                        ..ListFilter::default()
                    })?
                    .items
                    .len())
            }),
        ),
        (
            "search \"ma tuy\" (common, 50 hits)",
            Box::new(|| Ok(store.search("ma tuy", 50)?.reports.len())),
        ),
        (
            "search \"tin bao so 9999\" (one hit)",
            Box::new(|| Ok(store.search("tin bao so 9999", 50)?.reports.len())),
        ),
        (
            "search \"xyzzy\" (no hit, full scan)",
            Box::new(|| Ok(store.search("xyzzy", 50)?.reports.len())),
        ),
    ];
    println!("| over {target} reports ({runs} runs each) | p50 ms | p99 ms | rows |");
    println!("|---|---|---|---|");
    for (name, mut f) in cases {
        let rows = f()?;
        let mut lat = time(runs, &mut f);
        println!(
            "| {name} | {} | {} | {rows} |",
            ms(percentile(&mut lat, 0.5)),
            ms(percentile(&mut lat, 0.99))
        );
    }
    Ok(())
}
