//! Durability: `sotay-cli` processes are killed with SIGKILL at random
//! moments while they write. Every save a process reported done (its line
//! on stdout is printed only after the commit) must be there afterwards,
//! imports must be all or nothing, and the file must pass
//! `PRAGMA integrity_check`.
//!
//! Seeded: set `SOTAY_SEED` to replay a run; `SOTAY_TRIALS` for more trials.

use rand::{Rng, SeedableRng, rngs::StdRng};
use sotay_device::{ListFilter, Store};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cli(data: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sotay-cli"));
    c.arg("--data")
        .arg(data)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    c
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn saves_reported_done_survive_sigkill() {
    let seed = env_u64("SOTAY_SEED", 0x0050_74a1);
    let trials = env_u64("SOTAY_TRIALS", 120);
    eprintln!("durability: seed {seed}, {trials} trials");
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let status = cli(
        data,
        &[
            "init", "--ward", "hht", "--block", "k01", "--group", "k01-t03",
        ],
    )
    .status()
    .expect("init");
    assert!(status.success());

    // A 300-row register to import: big enough that a kill can land inside it.
    let mut csv = String::from("Địa chỉ,Chủ hộ,Số nhân khẩu\n");
    for i in 0..300 {
        csv.push_str(&format!("{i} đường Lê Lợi,Hộ {i},3\n"));
    }
    let csv_path = data.join("register.csv");
    std::fs::write(&csv_path, csv).expect("csv");

    // How long one save takes here, to spread kills over its whole life.
    let t = Instant::now();
    let probe = cli(
        data,
        &[
            "tip",
            "add",
            "--category",
            "theft",
            "--text",
            "Thử độ bền lần đầu",
            "--no-location",
        ],
    )
    .output()
    .expect("probe");
    assert!(probe.status.success());
    let typical = t.elapsed().max(Duration::from_millis(2));
    let mut confirmed: Vec<String> = vec![id_of(&probe.stdout).expect("probe id")];
    let mut imports_confirmed = 0usize;
    let mut killed = 0;

    for trial in 0..trials {
        let import = trial % 10 == 9;
        let text = format!("Tin báo độ bền số {trial}, thử tắt đột ngột");
        let mut child = if import {
            cli(
                data,
                &["household", "import", csv_path.to_str().expect("path")],
            )
        } else {
            cli(
                data,
                &[
                    "tip",
                    "add",
                    "--category",
                    "drugs",
                    "--text",
                    &text,
                    "--no-location",
                ],
            )
        }
        .spawn()
        .expect("spawn");
        let limit = typical.as_micros() as u64 * if import { 3 } else { 2 };
        std::thread::sleep(Duration::from_micros(rng.random_range(0..=limit)));
        if child.kill().is_ok() {
            killed += 1;
        }
        let _ = child.wait();
        let mut out = Vec::new();
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_end(&mut out);
        }
        if import {
            if String::from_utf8_lossy(&out).contains("\"imported\"") {
                imports_confirmed += 1;
            }
        } else if let Some(id) = id_of(&out) {
            confirmed.push(id);
        }
    }
    eprintln!(
        "durability: {killed} processes killed, {} saves and {imports_confirmed} imports confirmed",
        confirmed.len()
    );

    let store = Store::open_dir(data).expect("reopen after kills");
    store.integrity_check().expect("integrity_check ok");
    for id in &confirmed {
        let id = id.parse().expect("report id");
        store.report(id).expect("a confirmed save is present");
    }
    let total = store.list(&ListFilter::default()).expect("list").total;
    assert!(total as usize >= confirmed.len());
    let households = store.households(None).expect("households").len();
    assert_eq!(
        households % 300,
        0,
        "imports are all or nothing: {households}"
    );
    assert!(households / 300 >= imports_confirmed);
    let seqs: Vec<i64> = store
        .outbox()
        .expect("outbox")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "outbox order");
}

fn id_of(stdout: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    v["id"].as_str().map(str::to_owned)
}
