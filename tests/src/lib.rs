//! Helpers for the end-to-end tests: devices on real store files, a
//! fault-injecting TCP proxy, and the check that a server holds exactly
//! what a device holds.

pub mod proxy;

use sotay_device::Store;
use sotay_device::sync::{SyncClient, SyncConfig};
use sotay_domain::report::{ReportBody, ReportStatus};
use sotay_domain::tip::{Location, Source, Tip, TipCategory, Urgency};
use sotay_server::store::DynStore;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A device: its data folder and its store.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Mutex<Store>,
}

impl Device {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Mutex::new(Store::open_dir(dir.path()).expect("store"));
        Self { dir, store }
    }

    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new device enrolled in `group` through `url` (the server's own
    /// address, or a proxy in front of it).
    pub async fn enrolled(
        server: &sotay_server::testing::TestServer,
        url: &str,
        group: &str,
    ) -> Self {
        let d = Self::new();
        let code = server.enroll_code(group).await.expect("code");
        client()
            .enroll(&d.store, url, &code, "test phone")
            .await
            .expect("enroll");
        d
    }

    /// A second handle on the store file, shared as the app shares it with
    /// its background sync loop.
    pub fn shared_store(&self) -> std::sync::Arc<Mutex<Store>> {
        std::sync::Arc::new(Mutex::new(Store::open_dir(self.dir.path()).expect("store")))
    }

    /// Reopens the store file, as after the app was killed and restarted.
    pub fn reopen(&self) {
        *self.store() = Store::open_dir(self.dir.path()).expect("reopen");
    }

    /// Queues a tip numbered `n`.
    pub fn tip(&self, n: usize) -> sotay_domain::ReportId {
        let tip = Tip {
            category: TipCategory::ALL[n % TipCategory::ALL.len()],
            location: Location {
                text: Some(format!("Số {n} đường Lê Lợi")),
                ..Location::default()
            },
            ..tip_body(&format!("Tin báo thử nghiệm số {n}, có dấu tiếng Việt"))
        };
        self.store()
            .save_report(None, ReportBody::Tip(tip), sotay_device::Save::Send)
            .expect("tip")
            .id
    }
}

/// A valid tip (fraud, observed, with a place) saying `description`.
pub fn tip_body(description: &str) -> Tip {
    Tip {
        photos: Vec::new(),
        category: TipCategory::Fraud,
        description: description.to_owned(),
        location: Location {
            text: Some("Ngõ 7 đường Lê Lợi".into()),
            ..Location::default()
        },
        occurred_at: None,
        urgency: Urgency::Normal,
        source: Source::Observed,
        suspects: vec![],
        confidential_note: None,
        sealed: None,
    }
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

/// A client with short timeouts and no retries: faults surface at once.
pub fn impatient_client(timeout: Duration) -> SyncClient {
    SyncClient::new(SyncConfig {
        timeout,
        max_attempts: 1,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        // A failed photo may be tried again at the next sync at once.
        photo_retry: Duration::ZERO,
        ..SyncConfig::default()
    })
    .expect("client")
}

/// A patient client for the final, clean sync.
pub fn client() -> SyncClient {
    SyncClient::new(SyncConfig {
        timeout: Duration::from_secs(10),
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        photo_retry: Duration::ZERO,
        ..SyncConfig::default()
    })
    .expect("client")
}

/// Asserts the server holds exactly the device's non-draft reports (same
/// ids, newest revisions), once each, and that every one of them is `sent`
/// on the device with the server's receipt.
pub async fn assert_converged(device: &Device, server: &DynStore) {
    // This device's reports (other devices may share the server). A report
    // id is the server's key, so a doubled report would show as a receipt
    // (server_seq) or a revision that differs from the device's.
    let mine = device
        .store()
        .enrollment()
        .expect("enrollment")
        .map(|e| e.device_id);
    let exported: Vec<_> = server
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .expect("export")
        .into_iter()
        .filter(|row| mine.is_none_or(|id| row.device_id == id))
        .collect();
    let on_server: BTreeMap<String, u32> = exported
        .iter()
        .map(|row| (row.id.to_string(), row.rev))
        .collect();
    let store = device.store();
    let reports = store.export_reports().expect("device reports");
    let mut on_device: BTreeMap<String, u32> = BTreeMap::new();
    for r in &reports {
        if r.status == ReportStatus::Draft {
            continue;
        }
        assert_eq!(
            r.status,
            ReportStatus::Sent,
            "report {} is {:?}",
            r.id,
            r.status
        );
        let receipt = r.receipt.as_ref().expect("a sent report has a receipt");
        let row = exported
            .iter()
            .find(|x| x.id == r.id)
            .expect("the server holds every sent report");
        assert_eq!(
            row.receipt.server_seq, receipt.server_seq,
            "same receipt on both sides"
        );
        on_device.insert(r.id.to_string(), r.rev);
    }
    assert_eq!(
        on_server, on_device,
        "server and device hold the same reports and revisions"
    );
    assert_eq!(store.pending_count().expect("pending"), 0);
}

/// A binary of the workspace (`sotay-cli`, `sotay-server`), built by
/// `cargo test --workspace` beside the test executables.
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}

/// An officer's browser session on the real dashboard, for tests that
/// drive its forms over HTTP: logs in through the login form (with its
/// CSRF cookie) and keeps the session cookie and token.
pub struct Dashboard {
    base: String,
    http: reqwest::Client,
    cookie: String,
    pub csrf: String,
}

impl Dashboard {
    pub async fn login(base: &str, user: &str, password: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let res = http
            .get(format!("{base}/dashboard/login"))
            .send()
            .await
            .expect("login page");
        let pre = cookie_of(&res, "sotay_login_csrf");
        let token = csrf_of(&res.text().await.expect("page"));
        let res = http
            .post(format!("{base}/dashboard/login"))
            .header("cookie", &pre)
            .form(&[
                ("csrf", token.as_str()),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(
            res.status(),
            reqwest::StatusCode::SEE_OTHER,
            "login of {user}"
        );
        let cookie = cookie_of(&res, "sotay_session");
        let page = http
            .get(format!("{base}/dashboard/tips"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("tips")
            .text()
            .await
            .expect("tips page");
        Self {
            base: base.to_owned(),
            http,
            cookie,
            csrf: csrf_of(&page),
        }
    }

    /// A page's status and HTML.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("get");
        (res.status(), res.text().await.expect("body"))
    }

    /// Submits a form with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (reqwest::StatusCode, String) {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&all)
            .send()
            .await
            .expect("post");
        (res.status(), res.text().await.expect("body"))
    }
}

fn cookie_of(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_owned()
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

/// A camera-like photo written to `dir`: 12 megapixels lying on their side
/// with EXIF orientation 6 and GPS (`scripts/lib/camera-photo.sh`, with
/// ImageMagick and exiftool).
pub fn camera_photo(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("camera.jpg");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/camera-photo.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "camera-photo.sh (needs imagemagick and libimage-exiftool-perl): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}
