//! The app's benchmark (docs/BENCHMARKS.md): cold start to the first
//! interactive screen against a bare Tauri 2 app (`examples/hello`) started
//! the same way in the same run, both binaries' sizes, memory at rest, and
//! the history screen's first page with 10,000 reports stored. Runs only
//! with `SOTAY_APP_BENCH=1`, under `xvfb-run`, through tauri-driver like
//! the end-to-end test; the app binary is `SOTAY_APP_BIN` (the release
//! build) or the test build, the bare one `SOTAY_HELLO_BIN` or the example
//! built beside it.

#[allow(dead_code)] // the end-to-end test uses the rest of the client
mod support;

use anyhow::{Context, Result};
use sotay_device::store::Enrollment;
use sotay_device::{Save, Store};
use sotay_domain::place::DevicePlace;
use sotay_domain::report::ReportBody;
use sotay_domain::tip::{Location, Source, Tip, TipCategory, Urgency};
use sotay_domain::wire::DeviceId;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::webdriver::Session;

const REPORTS: usize = 10_000;
const PIN: &str = "246813";

fn seed(dir: &Path) -> Result<()> {
    let mut s = Store::open_dir(dir)?;
    let place = DevicePlace::from_codes("hht", "k01", "k01-t03", [Some("Hà Huy Tập"), None, None])?;
    // Enrolled to a server that is not there: the loop goes offline and
    // probes now and then, as a phone without signal would.
    let e = Enrollment {
        server_url: "http://127.0.0.1:9".into(),
        device_id: DeviceId(uuid::Uuid::now_v7()),
        token: "bench".into(),
        server_id: None,
        pin: None,
    };
    s.enroll("http://127.0.0.1:9", &e, &place)?;
    // As every leader's phone: a PIN, so the app opens on the lock screen.
    s.set_pin(PIN)?;
    for i in 0..REPORTS {
        let tip = Tip {
            photos: Vec::new(),
            category: TipCategory::ALL[i % TipCategory::ALL.len()],
            description: format!("Tin báo số {i}: nghi vấn tụ tập đánh bạc ở hẻm {}", i % 40),
            location: Location {
                text: Some(format!("hẻm {} đường Lê Lợi", i % 40)),
                ..Location::default()
            },
            occurred_at: None,
            urgency: Urgency::Normal,
            source: Source::Observed,
            suspects: vec![],
            confidential_note: None,
            sealed: None,
        };
        s.save_report(None, ReportBody::Tip(tip), Save::Send)?;
    }
    Ok(())
}

/// Resident memory (kB) of the process whose executable is `exe`, plus its
/// WebKit helper processes (the web and network processes).
fn rss_kb(exe: &Path) -> Result<(u64, u64)> {
    let mut app = 0;
    let mut webkit = 0;
    for entry in std::fs::read_dir("/proc")? {
        let p = entry?.path();
        let Ok(target) = std::fs::read_link(p.join("exe")) else {
            continue;
        };
        let status = std::fs::read_to_string(p.join("status")).unwrap_or_default();
        let rss: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        if target == exe {
            app += rss;
        } else if target.to_string_lossy().contains("WebKit")
            && !target.ends_with("WebKitWebDriver")
        {
            webkit += rss;
        }
    }
    Ok((app, webkit))
}

/// Starts `bin` through tauri-driver (a new WebDriver session) and polls
/// every 10 ms for `testid`: the time from the session request to the
/// element existing, which is the first screen painted and ready.
async fn start_until(driver: &str, bin: &Path, testid: &str) -> Result<(Session, Duration)> {
    let t = Instant::now();
    let s = Session::start(driver, &bin.to_string_lossy()).await?;
    let css = format!("[data-testid=\"{testid}\"]");
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.all(&css).await?.is_empty() {
        anyhow::ensure!(Instant::now() < deadline, "{testid} never appeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((s, t.elapsed()))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The bare Tauri app (`examples/hello`) built beside the app binary.
fn hello_bin(app: &Path) -> Result<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("SOTAY_HELLO_BIN") {
        return Ok(std::fs::canonicalize(p)?);
    }
    let dir = app.parent().context("app folder")?;
    let p = dir.join("examples").join("hello");
    anyhow::ensure!(
        p.exists(),
        "{} is missing: cargo build -p sotay-app --example hello (with --release for the release app)",
        p.display()
    );
    Ok(p)
}

const ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_benchmark() -> Result<()> {
    if std::env::var_os("SOTAY_APP_BENCH").is_none() {
        eprintln!("skipped: set SOTAY_APP_BENCH=1 and run under xvfb-run");
        return Ok(());
    }
    let bin = std::env::var("SOTAY_APP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sotay").into());
    let bin = std::fs::canonicalize(&bin).context("app binary")?;
    let hello = hello_bin(&bin)?;
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("app");
    let t = Instant::now();
    seed(&data)?;
    eprintln!("seeded {REPORTS} reports in {:.1?}", t.elapsed());

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut driver = Command::new("tauri-driver")
        .args(["--port", &port.to_string()])
        .env("SOTAY_DATA_DIR", &data)
        .stdout(Stdio::null())
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = async {
        // Alternating rounds, so both see the same machine.
        let (mut ours, mut bare, mut unlocked) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let (s, d) = start_until(&url, &hello, "hello").await?;
            s.close().await?;
            bare.push(d);
            // The app's first screen on a phone with a PIN: the lock screen.
            let (s, d) = start_until(&url, &bin, "pin").await?;
            ours.push(d);
            // Then the PIN, to the home screen with 10,000 reports stored.
            s.fill("pin", PIN).await?;
            let t = Instant::now();
            s.click("pin-submit").await?;
            while s.all("[data-testid=\"quick-tip\"]").await?.is_empty() {
                anyhow::ensure!(t.elapsed() < Duration::from_secs(60), "home never appeared");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            unlocked.push(t.elapsed());
            s.close().await?;
        }
        let (ours_m, bare_m) = (median(ours.clone()), median(bare.clone()));
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let (ours_b, bare_b) = (size(&bin), size(&hello));
        println!("rounds: {ROUNDS}, alternating; polled every 10 ms from the session request");
        println!(
            "bare Tauri app, first paint: {bare:?}, median {} ms",
            bare_m.as_millis()
        );
        println!(
            "app, first interactive screen (the lock screen): {ours:?}, median {} ms",
            ours_m.as_millis()
        );
        println!(
            "app, PIN submitted to home: {unlocked:?}, median {} ms",
            median(unlocked.clone()).as_millis()
        );
        println!(
            "start-up ratio app / bare: {:.2} (target at most 1.2)",
            ours_m.as_secs_f64() / bare_m.as_secs_f64()
        );
        println!(
            "binary: app {:.1} MB, bare {:.1} MB, ratio {:.2} (target at most 1.5)",
            ours_b as f64 / 1e6,
            bare_b as f64 / 1e6,
            ours_b as f64 / bare_b.max(1) as f64
        );

        let (s, _) = start_until(&url, &bin, "pin").await?;
        s.fill("pin", PIN).await?;
        s.click("pin-submit").await?;
        s.tid("quick-tip").await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (app, webkit) = rss_kb(&bin)?;
        let t = Instant::now();
        s.click("nav-history").await?;
        s.tid("hist-item").await?;
        let history = t.elapsed();
        let shown = s.all("[data-testid=\"hist-item\"]").await?.len();
        println!(
            "memory at rest: app {} MiB RSS, WebKit processes {} MiB RSS",
            app / 1024,
            webkit / 1024
        );
        println!(
            "history first page ({shown} of {REPORTS} reports): {} ms",
            history.as_millis()
        );
        s.close().await
    }
    .await;
    let _ = Command::new("kill")
        .args(["-TERM", &driver.id().to_string()])
        .status();
    let _ = driver.wait();
    result
}
