//! The dashboard in a real browser: Debian's Chromium driven over the W3C
//! WebDriver protocol by chromedriver. Logs in, filters the inbox, changes
//! a tip's status, checks that the device's pull then carries it, downloads
//! an export and reads it back, and saves a screenshot of each page under
//! `artifacts/screenshots/dashboard/`.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver
//! (`bash crates/server/tests/browser-deps.sh`); fails when they are
//! missing unless `SOTAY_SKIP_BROWSER=1`, so CI cannot skip it silently.
//! The WebDriver client is the handful of endpoints used, over reqwest.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::*;
use serde_json::{Value, json};
use sotay_domain::wire::{Change, PullItem, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::dashboard::accounts::{NewOfficer, Role, add_officer};
use sotay_server::store::now_micros;
use sotay_server::testing::Backend;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver, killed on drop.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One WebDriver session, with a profile directory of its own.
struct Session {
    http: reqwest::Client,
    base: String,
    _profile: sotay_server::testing::TempDir,
}

impl Session {
    async fn start(driver_url: &str) -> Self {
        let http = reqwest::Client::new();
        let profile = sotay_server::testing::TempDir::new().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1366,768",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.0.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
        }}});
        let res: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_owned();
        Self {
            http,
            base: format!("{driver_url}/session/{id}"),
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if res["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The element's text, read in the page so that a navigation still
    /// in flight after a click is waited for rather than racing it.
    async fn text(&self, css: &str) -> String {
        self.wait_text(css, "").await
    }

    /// Waits (up to 10 s) until the element exists and its text contains
    /// `needle`; returns the text.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        let mut last = Value::Null;
        for _ in 0..100 {
            let res: Value = self
                .http
                .post(format!("{}/execute/sync", self.base))
                .json(&json!({"script": script, "args": [css]}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            last = res["value"].clone();
            if let Some(t) = last.as_str()
                && t.contains(needle)
            {
                return t.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never contained {needle:?}; last: {last}");
    }

    /// Waits until the page's address contains `part`: after a click that
    /// submits a form, the old page stays readable until the new one loads.
    async fn wait_url(&self, part: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.url().await;
            if last.contains(part) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the address never contained {part:?}; last: {last}");
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots/dashboard");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Runs `script` in the page; it calls its last argument with the result.
    async fn run_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs `script` in the page and returns its value.
    async fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn window(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// The page fits its width: nothing to scroll sideways but inside
    /// the tables' own scroll boxes.
    async fn assert_fits(&self, what: &str) {
        let fits = self
            .run("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
            .await;
        assert_eq!(fits, Value::Bool(true), "{what} overflows sideways");
    }

    async fn end(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// Starts chromedriver, or says why the test cannot run.
async fn driver() -> Option<(Driver, String)> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        if std::env::var("SOTAY_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("skipped: SOTAY_SKIP_BROWSER=1 and {missing:?} missing");
            return None;
        }
        panic!(
            "{missing:?} missing: the dashboard's browser tests need Debian's chromium and chromium-driver.\n\
             Install them with `bash crates/server/tests/browser-deps.sh`, or set SOTAY_SKIP_BROWSER=1 to skip deliberately."
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{url}/status")).await
            && r.status().is_success()
        {
            return Some((driver, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on {url}");
}

/// A later Đề án 06 count of the same group, so the chart has a line.
fn later_count(seq: i64, date: &str, collected: u32, activated: u32) -> Change {
    let mut c = id_count_on("k04-t02", date, seq);
    c.payload["collected"] = json!(collected);
    c.payload["activated"] = json!(activated);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_works_the_inbox_in_chromium() {
    let Some((_driver, driver_url)) = driver().await else {
        return;
    };
    let s = start(Backend::Sqlite).await.unwrap();
    add_officer(
        s.store(),
        NewOfficer::own("quan-tri", "mật-khẩu-đủ-dài", Role::Admin),
        now_micros(),
        None,
    )
    .await
    .unwrap();
    let leader = enroll(&s, "k04-t02").await;
    let mk = |seq: i64, category: &str, text: &str| {
        let mut payload = tip_payload(text);
        payload["category"] = json!(category);
        Change {
            report_id: ReportId::new_v7(),
            device_seq: seq,
            rev: 1,
            kind: ReportKind::Tip,
            payload,
        }
    };
    let fraud = mk(
        1,
        "fraud",
        "<script>document.title='pwned'</script> gọi điện giả danh công an",
    );
    push(
        &s,
        &leader.token,
        &[
            fraud.clone(),
            mk(2, "theft", "Mất trộm xe đạp ở ngõ 5"),
            inspection(3),
            id_count("k04-t02", 4),
            later_count(5, "2025-06-08", 95, 60),
            later_count(6, "2025-06-15", 104, 81),
        ],
    )
    .await;

    // A register for k04-t02, one of its homes inspected today.
    sotay_server::admin::import_households(
        s.store(),
        "k04-t02",
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n3 Lê Lợi,Hồ Văn Ba,3\n5 Lê Lợi,Lê Thị Năm,4\n".as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let (home, _) = s.store().household_rows("k04-t02").await.unwrap().remove(0);
    push(
        &s,
        &leader.token,
        &[inspection_of(
            home.parse().unwrap(),
            chrono::Utc::now() - chrono::TimeDelta::hours(1),
            20,
        )],
    )
    .await;

    let b = Session::start(&driver_url).await;
    let base = s.url();
    b.goto(&format!("{base}/dashboard/tips")).await;
    assert!(
        b.url().await.ends_with("/dashboard/login"),
        "anonymous → login"
    );
    b.screenshot("01-login").await;
    b.type_into("input[name=username]", "quan-tri").await;
    b.type_into("input[name=password]", "mật-khẩu-đủ-dài").await;
    b.click("#login").await;
    assert_eq!(b.text("#count-new").await, "2");
    assert!(b.url().await.ends_with("/dashboard/tips"));
    b.screenshot("02-tips").await;

    // Filter by category through the form.
    b.click("#f-category option[value=fraud]").await;
    b.click("#apply").await;
    b.wait_url("category=fraud").await;
    let table = b.wait_text("#tips", "giả danh").await;
    assert!(
        table.contains("<script>document.title") && !table.contains("xe đạp"),
        "{table}"
    );
    let title = b.run_async("arguments[0](document.title)").await;
    assert_ne!(title, "pwned", "the tip's script never ran");
    b.screenshot("03-tips-filtered").await;

    // Open it and set its status.
    b.click("#tips tbody a").await;
    b.text("#status-form").await;
    assert!(b.url().await.contains(&fraud.report_id.to_string()));
    b.screenshot("04-tip-detail").await;
    b.click("#status option[value=resolved]").await;
    b.type_into("#note", "Đã xác minh, đã xử lý").await;
    b.click("#set-status").await;
    b.wait_text("#decisions", "Đã xác minh, đã xử lý").await;
    b.screenshot("05-tip-decided").await;

    // The leader's device pulls the decision over the real sync API.
    let pulled = pull(&s, &leader.token, 0, 100).await;
    assert!(pulled.entries.iter().any(|e| matches!(&e.item,
        PullItem::TipStatus { report_id, status: WardStatus::Resolved, note: Some(n), .. }
            if *report_id == fraud.report_id && n == "Đã xác minh, đã xử lý")));

    // A named source: the page says it is sealed; an officer with the
    // permission opens it with "Xem nguồn tin", and that is audited.
    let keys = sotay_server::sources::recovered_keys(s.store(), "hht", &s.recovery_passphrase)
        .await
        .unwrap();
    sotay_server::sources::grant(s.store(), "quan-tri", &keys, None)
        .await
        .unwrap();
    let mut named = mk(7, "drugs", "Có người lạ bán ma tuý ở hẻm 5 mỗi tối");
    named.payload["source"] = json!({"kind": "resident", "informant":
        {"kind": "named", "name": "Nguyễn Thị Tư", "phone": "0912345678"}});
    push(&s, &leader.token, &[named.clone()]).await;
    b.goto(&format!("{base}/dashboard/tips/{}", named.report_id))
        .await;
    let detail = b.wait_text("main", "có tên, đã niêm phong").await;
    assert!(!detail.contains("Nguyễn Thị Tư"), "{detail}");
    b.click("#reveal").await;
    b.wait_text("#source-name", "Nguyễn Thị Tư").await;
    assert_eq!(b.text("#source-phone").await, "0912345678");
    b.screenshot("06-source-revealed").await;
    assert!(
        s.store()
            .audit_log(&sotay_server::store::Scope::Province, 20)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "source-reveal" && a.target == named.report_id.to_string())
    );

    // A tip with a photo: Chromium shows it (decoded, 1200 px wide) on the
    // tip's page, and the view is audited.
    let jpeg = portrait_jpeg();
    let sha = sotay_server::store::photos::sha256_hex(&jpeg);
    let mut pictured = mk(
        8,
        "fire-hazard",
        "Xe điện sạc ngay lối thoát duy nhất của nhà trọ",
    );
    pictured.payload["photos"] = json!([{"sha256": sha, "bytes": jpeg.len(), "width": 1200,
        "height": 1600, "mime": "image/jpeg"}]);
    push(&s, &leader.token, &[pictured.clone()]).await;
    let put = reqwest::Client::new()
        .put(format!("{base}/v1/photos/{sha}"))
        .bearer_auth(&leader.token)
        .header(
            sotay_domain::wire::photo_upload::LENGTH,
            jpeg.len().to_string(),
        )
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    b.goto(&format!("{base}/dashboard/tips/{}", pictured.report_id))
        .await;
    b.find("ul.photos img").await;
    let width = b
        .run_async(
            "const done = arguments[0]; const img = document.querySelector('ul.photos img');
             const check = () => img.complete ? done(img.naturalWidth) : setTimeout(check, 50); check();",
        )
        .await;
    assert_eq!(
        width,
        json!(240),
        "the small copy loaded and decoded in Chromium"
    );
    b.screenshot("06b-tip-photo").await;
    // Its link (a new tab on click) is the whole photo.
    let link = b
        .run("return document.querySelector('ul.photos a').href;")
        .await;
    b.goto(link.as_str().unwrap()).await;
    let whole = b
        .run_async(
            "const done = arguments[0];
             const look = () => { const img = document.images[0];
               img && img.complete ? done(img.naturalWidth) : setTimeout(look, 50); };
             look();",
        )
        .await;
    assert_eq!(whole, json!(1200), "the whole photo");
    assert!(
        s.store()
            .audit_log(&sotay_server::store::Scope::Province, 20)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "view-photo" && a.detail == sha)
    );

    // Download the export with the browser's session and read it back.
    b.goto(&format!("{base}/dashboard/tips")).await;
    let csv = b
        .run_async(
            "const done = arguments[0];
         fetch(document.querySelector('#export-csv').href)
           .then(r => r.arrayBuffer())
           .then(b => done(Array.from(new Uint8Array(b))));",
        )
        .await;
    let bytes: Vec<u8> = csv
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("Mã tin,"), "{text}");
    assert!(
        text.contains("Đã xử lý") && text.contains("Đã xác minh, đã xử lý"),
        "{text}"
    );

    let xlsx_magic = b
        .run_async(
            "const done = arguments[0];
             fetch(document.querySelector('#export-xlsx').href)
               .then(r => r.arrayBuffer())
               .then(b => done(Array.from(new Uint8Array(b).slice(0, 2))));",
        )
        .await;
    assert_eq!(xlsx_magic, json!([0x50, 0x4B]), "an XLSX is a zip");

    let pages = [
        ("/dashboard/tips", "02-tips"),
        ("/dashboard/fire", "06-fire"),
        ("/dashboard/id06", "07-id06"),
        ("/dashboard/devices", "08-devices"),
        ("/dashboard/audit", "09-audit"),
        ("/dashboard/officers", "11-officers"),
    ];
    for (path, name) in pages {
        b.goto(&format!("{base}{path}")).await;
        b.assert_fits(path).await;
        b.screenshot(name).await;
    }
    // A campaign set with the dashboard's form: its page ranks the groups
    // (k04-t02 has inspected one of its two homes) and draws the chart.
    let day = |n: i64| {
        (sotay_domain::vietnam_date(chrono::Utc::now()) + chrono::TimeDelta::days(n)).to_string()
    };
    b.goto(&format!("{base}/dashboard/campaigns")).await;
    b.type_into("#new-campaign input[name=title]", "Kiểm tra PCCC trước Tết")
        .await;
    b.run(&format!(
        "document.querySelector('#new-campaign input[name=starts_on]').value = '{}';
         document.querySelector('#new-campaign input[name=ends_on]').value = '{}';",
        day(-2),
        day(12)
    ))
    .await;
    b.type_into("#new-campaign input[name=target]", "100").await;
    b.type_into("#new-campaign input[name=to]", "block:k04")
        .await;
    b.click("#new-campaign button[type=submit]").await;
    b.wait_text("#campaign-goal", "100 % số hộ được kiểm tra")
        .await;
    let ranked = b.text("#by-group tbody tr:first-child").await;
    assert!(
        ranked.contains("k04-t02") && ranked.contains("1 / 2 (50 %)"),
        "{ranked}"
    );
    b.find("#campaign-chart circle").await;
    b.assert_fits("campaign").await;
    b.screenshot("13-campaign").await;
    b.goto(&format!("{base}/dashboard/campaigns")).await;
    b.wait_text("#campaigns", "Đang diễn ra").await;
    b.screenshot("13b-campaigns").await;

    // A tablet held upright.
    b.window(800, 1280).await;
    for (path, name) in pages {
        b.goto(&format!("{base}{path}")).await;
        b.assert_fits(path).await;
        b.screenshot(&format!("tablet-{name}")).await;
    }
    b.window(1366, 768).await;

    // The admin's forms: add an officer, deactivate them; add a group, rename it.
    b.goto(&format!("{base}/dashboard/officers")).await;
    b.type_into("#add-officer input[name=username]", "can-bo-moi")
        .await;
    b.type_into("#add-officer input[name=password]", "mật-khẩu-đủ-dài-2")
        .await;
    b.click("#add-officer button[type=submit]").await;
    b.wait_text("#officers", "can-bo-moi").await;
    b.screenshot("12-officer-added").await;
    b.click("#officers form[action='/dashboard/officers/can-bo-moi/deactivate'] button")
        .await;
    b.wait_text("#officers", "Đã vô hiệu hóa").await;
    b.goto(&format!("{base}/dashboard/groups")).await;
    b.click("#add-group select[name=block] option[value=k04]")
        .await;
    b.type_into("#add-group input[name=code]", "k04-t30").await;
    b.type_into("#add-group input[name=name]", "Tổ 30 (mới)")
        .await;
    b.click("#add-group button[type=submit]").await;
    b.wait_text("#groups", "k04-t30").await;
    let rename = "#groups form[action='/dashboard/groups/k04-t30/rename']";
    b.run(&format!(
        "document.querySelector(\"{rename} input[name=name]\").value = 'Tổ 30 Hà Huy Tập';"
    ))
    .await;
    b.click(&format!("{rename} button")).await;
    b.wait_text("#groups", "k04-t30").await;
    b.screenshot("13-groups").await;
    let place = s.store().group_place("k04-t30").await.unwrap().unwrap();
    assert_eq!(place.group.name, "Tổ 30 Hà Huy Tập");
    assert_eq!(place.block.code.as_str(), "k04");
    let officer = s.store().officer("can-bo-moi").await.unwrap().unwrap();
    assert!(officer.deactivated_at.is_some());

    b.goto(&format!("{base}/dashboard/audit")).await;
    for action in [
        "add-officer",
        "deactivate-officer",
        "add-group",
        "rename-group",
    ] {
        b.wait_text("#audit", action).await;
    }
    b.wait_text("#audit", "tip-status").await;
    b.click("#lang-switch").await;
    b.wait_text("nav", "Fire safety").await;
    b.screenshot("10-tips-english").await;
    b.end().await;
}

/// A real 1200×1600 JPEG made by ImageMagick (Debian's imagemagick).
fn portrait_jpeg() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portrait.jpg");
    let convert = if std::path::Path::new("/usr/bin/convert").exists() {
        "/usr/bin/convert"
    } else {
        "convert"
    };
    let out = std::process::Command::new(convert)
        .args([
            "-size",
            "1200x1600",
            "xc:white",
            "-fill",
            "red",
            "-draw",
            "rectangle 600,0 1199,799",
        ])
        .arg(&path)
        .output()
        .expect("ImageMagick's convert");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&path).unwrap()
}
