//! Photo benchmark, in one run:
//! 1. taking a 12-megapixel camera photo in on the device
//!    (`sotay_device::photo::normalize`: decode, scale, turn, encode), its
//!    time against decoding the same file alone (the floor), and its peak
//!    memory (the process's peak RSS growth, from `/proc/self/status`)
//!    against the decoded image's own size;
//! 2. one device sending 100 photos (about 250 KB each) to a real server
//!    on loopback (SQLite and PostgreSQL), after their 100 reports, against
//!    the same bytes sent as one plain HTTP PUT each (the floor).
//!
//! Run: `cargo bench -p sotay-e2e --bench photos` (needs imagemagick and
//! libimage-exiftool-perl for the camera photo; PostgreSQL needs
//! `SOTAY_TEST_PG_URL`). Prints Markdown rows for docs/BENCHMARKS.md.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sotay_device::Save;
use sotay_domain::ReportBody;
use sotay_e2e::{Device, client};
use sotay_server::testing::{Backend, TestServer};
use std::time::Instant;

/// The process's peak resident memory so far, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A 12-megapixel JPEG with a camera photo's detail (ImageMagick's
/// plasma fractal, quality 92: megabytes, like a phone's), on its side with
/// EXIF orientation 6 and GPS, as a phone writes it.
fn camera_photo() -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("camera.jpg");
    let convert = if std::path::Path::new("/usr/bin/convert").exists() {
        "/usr/bin/convert"
    } else {
        "convert"
    };
    let out = std::process::Command::new(convert)
        .args([
            "-seed",
            "7",
            "-size",
            "4000x3000",
            "plasma:fractal",
            "-quality",
            "92",
        ])
        .arg(&path)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-n",
            "-Orientation=6",
            "-GPSLatitude=18.67",
        ])
        .arg(&path)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(std::fs::read(path)?)
}

fn ingest() -> anyhow::Result<()> {
    let file = camera_photo()?;
    let before = peak_rss_kib();
    let runs = 5;
    let t = Instant::now();
    let mut taken = None;
    for _ in 0..runs {
        taken = Some(sotay_device::photo::normalize(&file)?);
    }
    let normalize = t.elapsed().as_secs_f64() / f64::from(runs);
    let peak = peak_rss_kib().saturating_sub(before);
    let t = Instant::now();
    for _ in 0..runs {
        let img = image::load_from_memory(&file)?;
        std::hint::black_box(img);
    }
    let decode = t.elapsed().as_secs_f64() / f64::from(runs);
    let taken = taken.ok_or_else(|| anyhow::anyhow!("no run"))?;
    let raw_kib = 4000 * 3000 * 3 / 1024;
    println!(
        "| step | time (s) | ratio to decoding alone | peak RSS growth (MiB) | ratio to the decoded image |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| take a 12 MP photo in ({} KB in → {}×{}, {} KB out) | {normalize:.3} | {:.2} | {:.1} | {:.2} |",
        file.len() / 1000,
        taken.photo.width,
        taken.photo.height,
        taken.photo.bytes / 1000,
        normalize / decode,
        peak as f64 / 1024.0,
        peak as f64 / raw_kib as f64
    );
    println!("| decode the same file alone | {decode:.3} | 1.00 | | |");
    Ok(())
}

async fn upload(backend: Backend, name: &str, n: usize) -> anyhow::Result<()> {
    let Some(server) = TestServer::start(backend, Default::default()).await? else {
        return Ok(());
    };
    let code = server.enroll_code("k01-t03").await?;
    let d = Device::new();
    let c = client();
    c.enroll(&d.store, &server.url(), &code, "bench").await?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut jpegs = Vec::with_capacity(n);
    for i in 0..n {
        let img = image::RgbImage::from_fn(520, 400, |_, _| image::Rgb(rng.random::<[u8; 3]>()));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        let photo = d.store().add_photo(&png)?;
        jpegs.push(d.store().photo(&photo.sha256)?);
        let tip = sotay_domain::Tip {
            photos: vec![photo],
            ..sotay_e2e::tip_body(&format!("Ảnh hiện trường số {i} gửi sau báo cáo"))
        };
        d.store()
            .save_report(None, ReportBody::Tip(tip), Save::Send)?;
    }
    let bytes: usize = jpegs.iter().map(Vec::len).sum();
    let t = Instant::now();
    c.sync_with(
        &d.store,
        &mut |_| {},
        sotay_device::sync::SyncScope { photos: false },
    )
    .await?;
    let reports = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = c.sync(&d.store, &mut |_| {}).await?;
    let photos = t.elapsed().as_secs_f64();
    anyhow::ensure!(r.photos_sent == n as u64, "{r:?}");
    // The floor: the same bytes, one plain PUT each, to a server on
    // loopback that reads each body whole and keeps nothing.
    let sink = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let sink_addr = sink.local_addr()?;
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/sink",
            axum::routing::put(|body: axum::body::Bytes| async move { body.len().to_string() }),
        );
        let _ = axum::serve(sink, app).await;
    });
    let http = reqwest::Client::new();
    let t = Instant::now();
    for j in &jpegs {
        http.put(format!("http://{sink_addr}/sink"))
            .body(j.clone())
            .send()
            .await?
            .error_for_status()?;
    }
    let floor = t.elapsed().as_secs_f64();
    println!(
        "| {name} | {n} photos, {:.1} MB | {reports:.3} | {photos:.3} | {:.1} | {floor:.3} | {:.2} |",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / photos,
        photos / floor
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    ingest()?;
    println!();
    println!(
        "| backend | what | reports first (s) | photos after (s) | MB/s | plain PUTs of the bytes (s) | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        upload(Backend::Sqlite, "SQLite", 100).await?;
        if sotay_server::testing::pg_test_url().is_ok_and(|u| u.is_some()) {
            upload(Backend::Postgres, "PostgreSQL", 100).await?;
        }
        anyhow::Ok(())
    })
}
