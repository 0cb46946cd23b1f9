//! The sync client: enrollment, push of the outbox, pull of the ward's
//! decisions, with retries, progress and one sync at a time per device.
//!
//! Invariants (see ARCHITECTURE.md and ../../shared lessons):
//! - A change is marked attempted before it is sent; its payload is then
//!   frozen, so a retry after a lost response sends identical content and the
//!   server answers with the first receipt.
//! - Every sync first asks the server for this device's checkpoint; answers
//!   the server no longer holds (a restore from backup) are forgotten and
//!   those changes go out again.
//! - A refused change is quarantined on its own; the rest keep flowing.
//! - Pulled data and the cursor that covers it are stored in one transaction.
//! - The store lock is never held across a network call.

mod background;
pub mod network;
mod photos;
mod transport;

pub use background::{LoopState, LoopStatus, SyncEvent, SyncLoop};
pub use network::{
    NetworkKind, NetworkMonitor, ReportedOr, SharedNetwork, SysfsNetwork, sync_allowed,
};

use crate::error::DeviceError;
use crate::store::{Enrollment, Store};
use rand::Rng;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sotay_domain::wire::{
    CampaignsResponse, Change, ChangeOutcome, EnrollRequest, EnrollResponse, ErrorBody,
    PullResponse, PushRequest, PushResponse, ReadReceiptsRequest, ReadReceiptsResponse, ServerCode,
    ServerInfo,
};
use std::sync::Mutex;
use std::time::Duration;

/// Tunables of the client. The defaults suit a phone on a poor network.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per request before the sync gives up (transient failures only).
    pub max_attempts: u32,
    /// First backoff; doubled per attempt, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Entries asked for per pull page.
    pub pull_page: u32,
    /// Gzip request bodies larger than this many bytes.
    pub gzip_above: usize,
    /// Largest answer read from the server, after decompression.
    pub max_response_bytes: usize,
    /// A photo that failed waits this long before its next try, doubled
    /// per failure, at most an hour.
    pub photo_retry: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            pull_page: 500,
            gzip_above: 1024,
            max_response_bytes: 16 * 1024 * 1024,
            photo_retry: Duration::from_secs(30),
        }
    }
}

sotay_domain::code_enum! {
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// The codes of [`SyncError`]s that are the sync's own (not the
    /// device's nor the server's).
    pub enum SyncCode {
        NotEnrolled => "not-enrolled",
        Busy => "sync-busy",
        Unauthorized => "unauthorized",
        Network => "network",
        BadAddress => "bad-address",
        Protocol => "protocol",
        NoSourceKey => "no-source-key",
        InsecureAddress => "insecure-address",
        ServerKeyMismatch => "server-key-mismatch",
        OtherServer => "other-server",
        DeviceRevoked => "device-revoked",
    }
}

/// Every code an engine error carries across a boundary: the device's own,
/// the sync's, or the server's answer passed on. Serialises as the bare
/// code string (`"network"`, `"invalid-input"`, `"token-revoked"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum Code {
    Device(crate::ErrorCode),
    Sync(SyncCode),
    Server(ServerCode),
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Device(c) => c.code(),
            Code::Sync(c) => c.code(),
            Code::Server(c) => c.code(),
        }
    }

    /// A code read back from storage; one this build does not know is the
    /// server's `unknown`.
    pub fn parse(s: &str) -> Self {
        s.parse()
            .map(Code::Device)
            .or_else(|_| s.parse().map(Code::Sync))
            .or_else(|_| s.parse().map(Code::Server))
            .unwrap_or(Code::Server(ServerCode::Unknown))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sync or an enrollment did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this device is not enrolled with a server")]
    NotEnrolled,
    #[error("another sync of this device is running")]
    Busy,
    #[error("the server refused this device's credentials (revoked or unknown)")]
    Unauthorized,
    #[error("the server answered {status}: {message} ({code})")]
    Server {
        status: u16,
        code: ServerCode,
        message: String,
    },
    #[error("the server cannot be reached: {0}")]
    Network(String),
    #[error("bad enrollment link or server address: {0}")]
    BadAddress(String),
    #[error("the server's answer was not understood: {0}")]
    Protocol(String),
    /// Tips with a named source wait, and the server published no source
    /// key for this device's ward to seal them with: nothing is sent.
    #[error(
        "the server published no source key for ward {0}; tips with a named source cannot be sealed"
    )]
    NoSourceKey(String),
    /// Plain `http://` to a machine other than this one: refused before
    /// any connection is made.
    #[error("{0} is plain http:// to another machine; only https:// is allowed")]
    Insecure(String),
    /// The server's TLS key is not the one the enrollment link pinned.
    #[error("the server's TLS key is not the pinned one")]
    PinMismatch,
    /// The ward revoked this device: its data, key and token were erased.
    #[error("the ward revoked this device; its data was erased")]
    Revoked,
    /// This device is enrolled with another server; enrolling elsewhere
    /// first needs its data erased.
    #[error("this device is enrolled with another server ({0}); erase its data first")]
    OtherServer(String),
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl SyncError {
    /// The stable code shown with the message.
    pub fn code(&self) -> Code {
        let sync = Code::Sync;
        match self {
            SyncError::NotEnrolled => sync(SyncCode::NotEnrolled),
            SyncError::Busy => sync(SyncCode::Busy),
            SyncError::Unauthorized => sync(SyncCode::Unauthorized),
            SyncError::Server { code, .. } => Code::Server(*code),
            SyncError::Network(_) => sync(SyncCode::Network),
            SyncError::BadAddress(_) => sync(SyncCode::BadAddress),
            SyncError::Protocol(_) => sync(SyncCode::Protocol),
            SyncError::NoSourceKey(_) => sync(SyncCode::NoSourceKey),
            SyncError::Insecure(_) => sync(SyncCode::InsecureAddress),
            SyncError::PinMismatch => sync(SyncCode::ServerKeyMismatch),
            SyncError::OtherServer(_) => sync(SyncCode::OtherServer),
            SyncError::Revoked => sync(SyncCode::DeviceRevoked),
            SyncError::Device(d) => Code::Device(d.code()),
        }
    }

    /// Whether the server said this device was revoked.
    pub fn is_revoked_token(&self) -> bool {
        matches!(
            self,
            SyncError::Server {
                code: ServerCode::TokenRevoked,
                ..
            }
        )
    }

    /// A message for the leader in `lang`, by code: the enrollment refusals
    /// (wrong, used or expired code) and an unreachable server are told
    /// apart; other server refusals keep the server's own words.
    pub fn message(&self, lang: sotay_domain::labels::Lang) -> String {
        let vi = lang == sotay_domain::labels::Lang::Vi;
        let pick = |v: &str, e: &str| if vi { v.to_owned() } else { e.to_owned() };
        match self {
            SyncError::Device(d) => d.message(lang),
            SyncError::NotEnrolled => pick(
                "Máy chưa đăng ký với máy chủ của phường.",
                "This device is not enrolled with the ward's server.",
            ),
            SyncError::Busy => pick("Đang đồng bộ, xin chờ.", "A sync is already running."),
            SyncError::Unauthorized => pick(
                "Máy chủ không nhận máy này nữa (đã bị thu hồi). Hãy xin mã đăng ký mới.",
                "The server no longer accepts this device (revoked). Ask for a new code.",
            ),
            SyncError::Network(_) => pick(
                "Không kết nối được máy chủ. Dữ liệu vẫn an toàn trên máy và sẽ được gửi khi có mạng.",
                "The server cannot be reached. Your data is safe here and will be sent when online.",
            ),
            SyncError::BadAddress(_) => pick(
                "Địa chỉ máy chủ hoặc đường dẫn đăng ký không đúng.",
                "The server address or enrollment link is not valid.",
            ),
            SyncError::Protocol(_) => pick(
                "Máy chủ trả lời không đúng định dạng. Hãy báo cán bộ phường.",
                "The server's answer was not understood. Tell the ward's staff.",
            ),
            SyncError::Insecure(_) => pick(
                "Địa chỉ máy chủ phải dùng HTTPS (https://…): với http:// mọi tin báo đi trên mạng không được mã hoá. Chỉ máy chủ thử trên chính máy này mới dùng http://.",
                "The server address must use HTTPS (https://…): over http:// every tip would cross the network unencrypted. Only a test server on this very device may use http://.",
            ),
            SyncError::PinMismatch => pick(
                "Máy chủ này không phải máy chủ của phường (khoá bảo mật không khớp với mã đăng ký). Không gửi gì cả. Hãy báo cán bộ phường.",
                "This is not the ward's server (its security key does not match the enrollment code). Nothing was sent. Tell the ward's staff.",
            ),
            SyncError::Revoked => pick(
                "Phường đã thu hồi máy này: mọi dữ liệu trên máy đã được xoá. Muốn dùng lại, hãy xin mã đăng ký mới.",
                "The ward revoked this device: all data on it was erased. To use it again, ask for a new enrollment code.",
            ),
            SyncError::OtherServer(_) => pick(
                "Máy đang đăng ký với máy chủ khác. Muốn chuyển máy chủ, trước hết phải xoá dữ liệu trên máy.",
                "This device is enrolled with another server. To move to a new server, first erase the data on this device.",
            ),
            SyncError::NoSourceKey(_) => pick(
                "Máy chủ chưa có khoá niêm phong nguồn tin của phường: tin báo có tên người báo chưa được gửi. Hãy báo cán bộ phường.",
                "The server has no key to seal sources for this ward: tips naming an informant were not sent. Tell the ward's staff.",
            ),
            SyncError::Server { code, message, .. } => match code {
                ServerCode::EnrollCodeInvalid => pick(
                    "Mã đăng ký không đúng. Kiểm tra lại từng ký tự.",
                    "The enrollment code is wrong. Check each character.",
                ),
                ServerCode::EnrollCodeUsed => pick(
                    "Mã đăng ký này đã được dùng. Hãy xin mã mới.",
                    "This enrollment code was already used. Ask for a new one.",
                ),
                ServerCode::EnrollCodeExpired => pick(
                    "Mã đăng ký đã hết hạn. Hãy xin mã mới.",
                    "This enrollment code has expired. Ask for a new one.",
                ),
                ServerCode::TokenRevoked => pick(
                    "Máy này đã bị thu hồi quyền gửi. Hãy xin mã đăng ký mới.",
                    "This device was revoked. Ask for a new enrollment code.",
                ),
                ServerCode::RateLimited => pick(
                    "Thử quá nhiều lần. Chờ một lát rồi thử lại.",
                    "Too many attempts. Wait a moment and try again.",
                ),
                _ => message.clone(),
            },
        }
    }

    /// Whether trying again later may succeed without anyone acting.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Network(_) | SyncError::Busy)
            || matches!(self, SyncError::Server { status, .. } if *status >= 500 || *status == 429)
    }
}

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Push,
    Pull,
    /// Photos, after the reports: `changes_*` count photos.
    Photos,
}

/// What one sync sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncScope {
    /// Photos too (after the reports), or reports only (photos wait for
    /// Wi-Fi, say).
    pub photos: bool,
}

/// Progress of a sync: changes and bytes done out of total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    pub phase: Phase,
    pub changes_done: u64,
    pub changes_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    pub accepted: u64,
    pub rejected: u64,
    /// Changes sent again because the server had lost them.
    pub resent: u64,
    pub pulled: u64,
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Changes still waiting (0 when everything queued reached the server).
    pub pending: u64,
    /// Photos the server now holds whole (sent now, or found there).
    pub photos_sent: u64,
    /// Photos still waiting (for Wi-Fi, for a retry, for their report).
    pub photos_pending: u64,
    /// Announcement photos fetched now.
    pub photos_received: u64,
    /// Announcement photos still to fetch (a failed fetch, or photos not
    /// allowed on this network): the next sync tries again.
    pub photos_to_fetch: u64,
}

/// The parts of a `sotay://enroll?server=…&code=…[&pin=…]` link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrollLink {
    pub server: String,
    pub code: String,
    /// The SHA-256 of the server's TLS public key, when the link pins it.
    pub pin: Option<String>,
}

impl EnrollLink {
    /// What the leader gave: a link, or a server address and a code typed
    /// apart. The one place both forms are read, for the app and the CLI.
    pub fn from_input(
        link: Option<&str>,
        server: Option<&str>,
        code: Option<&str>,
    ) -> Result<Self, SyncError> {
        match link.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => Self::parse(l),
            None => Ok(Self {
                server: server.unwrap_or_default().trim().to_owned(),
                code: code.unwrap_or_default().trim().to_owned(),
                pin: None,
            }),
        }
    }

    pub fn parse(link: &str) -> Result<Self, SyncError> {
        let url =
            reqwest::Url::parse(link.trim()).map_err(|e| SyncError::BadAddress(e.to_string()))?;
        if url.scheme() != "sotay" {
            return Err(SyncError::BadAddress("not a sotay:// link".into()));
        }
        let get = |k: &str| {
            url.query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
                .filter(|v| !v.is_empty())
        };
        let pin = get("pin");
        if let Some(p) = &pin
            && !sotay_seal::pin::is_pin(p)
        {
            return Err(SyncError::BadAddress("the link's pin is malformed".into()));
        }
        match (get("server"), get("code")) {
            (Some(server), Some(code)) => Ok(Self { server, code, pin }),
            _ => Err(SyncError::BadAddress(
                "the link lacks server or code".into(),
            )),
        }
    }
}

/// Talks to one server for one device.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    config: SyncConfig,
}

/// Stores the device's ward's source key from `server-info` (sealing what
/// waits with it), and refuses to go on while a clear secret waits with no
/// key to seal it: a named informant never leaves the device in clear.
fn refresh_source_key(store: &Mutex<Store>, info: &ServerInfo) -> Result<(), SyncError> {
    let mut s = lock(store)?;
    let ward = s.place()?.ward.code.to_string();
    if let Some(key) = info.source_keys.iter().find(|k| k.ward == ward) {
        s.set_source_key(key)?;
    }
    if s.pending_clear_secrets()? > 0 {
        return Err(SyncError::NoSourceKey(ward));
    }
    Ok(())
}

/// An HTTP exchange's outcome, before it becomes a `SyncError`.
struct Exchange<T> {
    value: T,
    bytes_sent: u64,
    bytes_received: u64,
}

impl SyncClient {
    pub fn new(config: SyncConfig) -> Result<Self, SyncError> {
        let http = transport::http_client(&config, None)?;
        Ok(Self { http, config })
    }

    /// The HTTP client for a server: the shared one, or one that accepts
    /// only the pinned TLS key.
    fn http_for(&self, pin: Option<&str>) -> Result<reqwest::Client, SyncError> {
        match pin {
            None => Ok(self.http.clone()),
            Some(pin) => transport::http_client(&self.config, Some(pin)),
        }
    }

    /// Enrolls this device with a one-time code; the server assigns its
    /// ward, block and group. The token is stored, never printed.
    pub async fn enroll(
        &self,
        store: &Mutex<Store>,
        server: &str,
        code: &str,
        device_name: &str,
    ) -> Result<Enrollment, SyncError> {
        let link = EnrollLink {
            server: server.to_owned(),
            code: code.to_owned(),
            pin: None,
        };
        self.enroll_with(store, &link, device_name).await
    }

    /// Enrolls with a link's server, code and pin. Before the code is
    /// spent, the server's id is compared with the one this device is
    /// enrolled with: enrolling with another server is refused (nothing is
    /// sent to it) until the device's data is erased; enrolling again with
    /// the same server keeps everything.
    pub async fn enroll_with(
        &self,
        store: &Mutex<Store>,
        link: &EnrollLink,
        device_name: &str,
    ) -> Result<Enrollment, SyncError> {
        let base = normalize_server(&link.server)?;
        let http = self.http_for(link.pin.as_deref())?;
        let info: Exchange<ServerInfo> = self
            .request::<(), ServerInfo>(
                &http,
                reqwest::Method::GET,
                &format!("{base}/v1/server-info"),
                None,
                None,
            )
            .await?;
        let server_id = info.value.server_id.clone();
        if let Some(current) = lock(store)?.enrollment()? {
            let same = match (&current.server_id, &server_id) {
                (Some(a), Some(b)) => a == b,
                _ => current.server_url == base,
            };
            if !same {
                return Err(SyncError::OtherServer(current.server_url));
            }
        }
        let body = EnrollRequest {
            code: link.code.trim().to_owned(),
            device_name: device_name.to_owned(),
        };
        // Enrollment is not retried on a 4xx: a used or expired code stays so.
        let resp: Exchange<EnrollResponse> = self
            .request(
                &http,
                reqwest::Method::POST,
                &format!("{base}/v1/enroll"),
                None,
                Some(&body),
            )
            .await?;
        let e = Enrollment {
            server_url: base.clone(),
            device_id: resp.value.device_id,
            token: resp.value.token,
            server_id,
            pin: link.pin.clone(),
        };
        lock(store)?.enroll(&base, &e, &resp.value.place)?;
        // The ward's source key, so tips are sealed from the first save.
        // Every sync fetches it again.
        if let Err(err) = refresh_source_key(store, &info.value)
            && !matches!(err, SyncError::NoSourceKey(_))
        {
            return Err(err);
        }
        Ok(e)
    }

    /// Whether the server answers its health check now.
    pub async fn reachable(&self, server_url: &str) -> bool {
        let url = format!("{}/healthz", server_url.trim_end_matches('/'));
        if reqwest::Url::parse(&url)
            .map_err(|e| SyncError::BadAddress(e.to_string()))
            .and_then(|u| transport::check_address(&u))
            .is_err()
        {
            return false;
        }
        matches!(self.http.get(url).timeout(Duration::from_secs(5)).send().await, Ok(r) if r.status().is_success())
    }

    /// One full sync: checkpoint, push everything pending, pull everything
    /// new. Only one runs at a time per device (a file lock beside the
    /// store); a second gets [`SyncError::Busy`].
    pub async fn sync(
        &self,
        store: &Mutex<Store>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, SyncError> {
        self.sync_with(store, progress, SyncScope { photos: true })
            .await
    }

    /// [`SyncClient::sync`], sending photos only when `scope` says so.
    pub async fn sync_with(
        &self,
        store: &Mutex<Store>,
        progress: &mut (dyn FnMut(Progress) + Send),
        scope: SyncScope,
    ) -> Result<SyncReport, SyncError> {
        let (enrollment, lock_path) = {
            let s = lock(store)?;
            (
                s.enrollment()?.ok_or(SyncError::NotEnrolled)?,
                s.path().with_extension("sync-lock"),
            )
        };
        let lock_file = crate::store::private::open_private(&lock_path)?;
        if lock_file.try_lock().is_err() {
            return Err(SyncError::Busy);
        }
        let result = self.sync_locked(store, &enrollment, progress, scope).await;
        if matches!(&result, Err(e) if e.is_revoked_token()) {
            // The ward revoked this device (a lost phone): what it holds
            // is erased, key and token included, and the leader is told.
            lock(store)?.erase_all()?;
            drop(lock_file);
            return Err(SyncError::Revoked);
        }
        let record = match &result {
            Ok(_) => lock(store)?.record_sync(None),
            Err(e) => lock(store)?.record_sync(Some(e)),
        };
        drop(lock_file);
        record?;
        result
    }

    async fn sync_locked(
        &self,
        store: &Mutex<Store>,
        e: &Enrollment,
        progress: &mut (dyn FnMut(Progress) + Send),
        scope: SyncScope,
    ) -> Result<SyncReport, SyncError> {
        let base = normalize_server(&e.server_url)?;
        let base = base.as_str();
        let token = Some(e.token.as_str());
        let http = self.http_for(e.pin.as_deref())?;
        let http = &http;
        let mut report = SyncReport::default();

        let info: Exchange<ServerInfo> = self
            .request::<(), _>(
                http,
                reqwest::Method::GET,
                &format!("{base}/v1/server-info"),
                token,
                None,
            )
            .await?;
        report.add(&info);
        refresh_source_key(store, &info.value)?;
        let max_items = info.value.max_batch_items.max(1);
        // Leave room for the envelope and the other fields of the request.
        let max_bytes = info.value.max_batch_bytes.saturating_sub(1024).max(1024);

        // 1. Does the server still hold what we think it holds? After this,
        // nothing above the server's checkpoint counts as answered here.
        let probe: Exchange<PushResponse> = self
            .post_push(http, base, token, &PushRequest { changes: vec![] })
            .await?;
        report.add(&probe);
        report.resent += with_store(store, |s| {
            Ok(s.reconcile_checkpoint(probe.value.checkpoint)?)
        })? as u64;

        // 2. Push, batch by batch, in sequence order. One push is in flight
        // at a time (so the checkpoint and exactly-once hold as ever); the
        // next batch is read and compressed while it is.
        let (mut changes_total, mut bytes_total) = with_store(store, |s| Ok(s.pending_totals()?))?;
        let (mut changes_done, mut bytes_done) = (0u64, 0u64);
        progress(Progress {
            phase: Phase::Push,
            changes_done,
            changes_total,
            bytes_done,
            bytes_total,
        });
        let limits = BatchLimits {
            items: max_items,
            bytes: max_bytes,
            gzip_above: self.config.gzip_above,
        };
        // Bounded: each pass either drains the queue or learns the server
        // lost data; a server that keeps losing data ends the sync with
        // changes still pending rather than looping forever.
        let mut passes = changes_total / max_items as u64 + 10;
        let mut next = blocking(|| Batch::after(store, 0, &limits))?;
        while let Some(batch) = next.take() {
            if passes == 0 {
                break;
            }
            passes -= 1;
            with_store(store, |s| Ok(s.mark_attempted(&batch.seqs)?))?;
            let this = self.clone();
            let (http_c, url, token_c) = (
                http.clone(),
                format!("{base}/v1/sync/push"),
                token.map(str::to_owned),
            );
            let body = batch.body.clone();
            let in_flight = tokio::spawn(async move {
                this.request_encoded::<PushResponse>(
                    &http_c,
                    reqwest::Method::POST,
                    &url,
                    token_c.as_deref(),
                    Some(body),
                )
                .await
            });
            let upcoming = blocking(|| Batch::after(store, batch.last_seq, &limits));
            let resp = in_flight
                .await
                .map_err(|e| SyncError::Protocol(format!("push task: {e}")))??;
            let mut upcoming = upcoming?;
            report.add(&resp);
            for r in &resp.value.results {
                match r.outcome {
                    ChangeOutcome::Accepted { .. } => report.accepted += 1,
                    ChangeOutcome::Rejected { .. } => report.rejected += 1,
                }
            }
            changes_done += batch.seqs.len() as u64;
            bytes_done += batch.bytes;
            let lost = blocking(|| -> Result<u64, SyncError> {
                let mut s = lock(store)?;
                s.apply_push_results(&resp.value.results)?;
                // Only a server whose checkpoint stayed below what it just
                // answered may have lost (or not recorded) something.
                if resp.value.checkpoint < batch.last_seq {
                    Ok(s.reconcile_checkpoint(resp.value.checkpoint)? as u64)
                } else {
                    Ok(0)
                }
            })?;
            report.resent += lost;
            if lost > 0 {
                // Changes re-entered the queue: count again, start over.
                (changes_total, bytes_total) = with_store(store, |s| Ok(s.pending_totals()?))?;
                (changes_done, bytes_done) = (0, 0);
                upcoming = blocking(|| Batch::after(store, 0, &limits))?;
            } else if upcoming.is_none() {
                // Saved while the last push was in flight.
                upcoming = blocking(|| Batch::after(store, batch.last_seq, &limits))?;
                if let Some(b) = &upcoming {
                    changes_total += b.seqs.len() as u64;
                    bytes_total += b.bytes;
                }
            }
            progress(Progress {
                phase: Phase::Push,
                changes_done,
                changes_total: changes_total.max(changes_done),
                bytes_done,
                bytes_total: bytes_total.max(bytes_done),
            });
            next = upcoming;
        }

        // 3. Pull what the ward decided, from the stored cursor.
        loop {
            let (since, pending) = {
                let s = lock(store)?;
                (s.pull_cursor()?, s.pending_count()?)
            };
            let url = format!(
                "{base}/v1/sync/pull?since={since}&limit={}&pending={pending}",
                self.config.pull_page
            );
            let page: Exchange<PullResponse> = self
                .request::<(), _>(http, reqwest::Method::GET, &url, token, None)
                .await?;
            report.add(&page);
            report.pulled += page.value.entries.len() as u64;
            lock(store)?.apply_pull(&page.value.entries, page.value.next_cursor)?;
            progress(Progress {
                phase: Phase::Pull,
                changes_done: report.pulled,
                changes_total: report.pulled + u64::from(page.value.more),
                bytes_done: page.bytes_received,
                bytes_total: page.bytes_received,
            });
            if !page.value.more || page.value.next_cursor <= since {
                break;
            }
        }
        report.pending = lock(store)?.pending_count()?;

        // 3b. The leader's read receipts of the ward's announcements. A
        // server older than announcements has no such route (404): they
        // wait for one that does.
        // In requests of at most 200 (the server takes 500).
        let receipts = lock(store)?.unsent_read_receipts()?;
        for chunk in receipts.chunks(200) {
            let sent: Result<Exchange<ReadReceiptsResponse>, SyncError> = self
                .request(
                    http,
                    reqwest::Method::POST,
                    &format!("{base}/v1/announcements/read"),
                    token,
                    Some(&ReadReceiptsRequest {
                        reads: chunk.to_vec(),
                    }),
                )
                .await;
            match sent {
                Ok(r) => {
                    report.add(&r);
                    lock(store)?.read_receipts_sent(chunk)?;
                }
                Err(SyncError::Server { status: 404, .. }) => break,
                Err(e) => return Err(e),
            }
        }

        // 3c. The group's campaigns with the server's figures for the
        // group. A server older than campaigns has no such route, and a
        // failure here is no reason to hold back the photos: either way
        // the phone keeps what it had until the next sync. Only a revoked
        // token stops the sync.
        let campaigns: Result<Exchange<CampaignsResponse>, SyncError> = self
            .request::<(), _>(
                http,
                reqwest::Method::GET,
                &format!("{base}/v1/campaigns"),
                token,
                None,
            )
            .await;
        match campaigns {
            Ok(c) => {
                report.add(&c);
                lock(store)?.replace_campaigns(&c.value.campaigns, chrono::Utc::now())?;
            }
            Err(e) if e.is_revoked_token() => return Err(e),
            Err(_) => {}
        }

        // 3d. The photos of the ward's announcements, where photos may go
        // on this network. One that fails waits for the next sync and
        // holds nothing up; only a revoked token stops the sync.
        let missing = lock(store)?.missing_announcement_photos()?;
        report.photos_to_fetch = missing.len() as u64;
        if scope.photos {
            for p in missing {
                match photos::fetch(self, http, base, token, &p).await {
                    // Bytes that do not match the name are not kept.
                    Ok(bytes) => {
                        if lock(store)?.keep_announcement_photo(&p, &bytes).is_ok() {
                            report.photos_received += 1;
                            report.photos_to_fetch -= 1;
                        }
                    }
                    Err(e) if e.is_revoked_token() => return Err(e),
                    Err(_) => {}
                }
            }
        }

        // 4. Photos, after the reports (which never wait for them): each
        // on its own, resumed where the server's copy ends; one that fails
        // waits out its backoff and holds up no other.
        if scope.photos && info.value.photo_max_bytes.is_some() {
            report.photos_sent = self.send_photos(store, http, base, token, progress).await?;
        }
        report.photos_pending = lock(store)?.photo_queue()?.pending;
        Ok(report)
    }

    /// Sends every photo that is due; the number the server now holds.
    /// Only a revoked device stops it (its data is then erased); any other
    /// failure is the photo's alone.
    async fn send_photos(
        &self,
        store: &Mutex<Store>,
        http: &reqwest::Client,
        base: &str,
        token: Option<&str>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<u64, SyncError> {
        let due = lock(store)?.due_photos(chrono::Utc::now())?;
        let (changes_total, bytes_total) =
            (due.len() as u64, due.iter().map(|p| p.bytes).sum::<u64>());
        let (mut sent, mut bytes_done) = (0u64, 0u64);
        progress(Progress {
            phase: Phase::Photos,
            changes_done: 0,
            changes_total,
            bytes_done,
            bytes_total,
        });
        for p in due {
            let bytes = lock(store)?.photo(&p.sha256)?;
            match photos::send(self, http, base, token, &p.sha256, &bytes).await {
                Ok(()) => {
                    lock(store)?.photo_sent(&p.sha256)?;
                    sent += 1;
                }
                Err(e) if e.is_revoked_token() => return Err(e),
                Err(e) => {
                    let wait = photos::retry_after(self.config.photo_retry, p.attempts);
                    let at = chrono::Utc::now()
                        + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1));
                    lock(store)?.photo_failed(&p.sha256, e.code().as_str(), at)?;
                }
            }
            bytes_done += p.bytes;
            progress(Progress {
                phase: Phase::Photos,
                changes_done: sent,
                changes_total,
                bytes_done,
                bytes_total,
            });
        }
        Ok(sent)
    }

    async fn post_push(
        &self,
        http: &reqwest::Client,
        base: &str,
        token: Option<&str>,
        body: &PushRequest,
    ) -> Result<Exchange<PushResponse>, SyncError> {
        self.request(
            http,
            reqwest::Method::POST,
            &format!("{base}/v1/sync/push"),
            token,
            Some(body),
        )
        .await
    }

    /// One request with retries: transient failures (network, timeouts,
    /// 5xx, 429) are retried with exponential backoff and jitter.
    async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<Exchange<T>, SyncError> {
        let body = match body {
            Some(b) => Some(Encoded::of(b, self.config.gzip_above)?),
            None => None,
        };
        self.request_encoded(http, method, url, token, body).await
    }

    /// [`SyncClient::request`] with a body encoded already.
    async fn request_encoded<T: DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<Encoded>,
    ) -> Result<Exchange<T>, SyncError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .once(http, method.clone(), url, token, body.as_ref())
                .await
            {
                Ok(x) => return Ok(x),
                Err(e) if e.is_transient() && attempt < self.config.max_attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .config
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16).saturating_sub(1))
            .min(self.config.max_backoff);
        // "Equal jitter": half fixed, half random, so retries of many
        // devices spread out but never come back at once.
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    async fn once<T: DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        payload: Option<&Encoded>,
    ) -> Result<Exchange<T>, SyncError> {
        let mut req = http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut bytes_sent = 0;
        if let Some(p) = payload {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json");
            if p.gzipped {
                req = req.header(reqwest::header::CONTENT_ENCODING, "gzip");
            }
            bytes_sent = p.bytes.len() as u64;
            req = req.body(p.bytes.clone());
        }
        let resp = req.send().await.map_err(transport::network_error)?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(SyncError::Protocol(format!(
                "the server answered {status}, a redirect; not followed"
            )));
        }
        let bytes = transport::read_capped(resp, self.config.max_response_bytes).await?;
        let bytes_received = bytes.len() as u64;
        if status == StatusCode::UNAUTHORIZED {
            // Only an explicit "revoked" is kept apart: it erases the
            // device. An unknown token (a server restored from an old
            // backup) must not.
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) if b.code == ServerCode::TokenRevoked => SyncError::Server {
                    status: status.as_u16(),
                    code: b.code,
                    message: b.message,
                },
                _ => SyncError::Unauthorized,
            });
        }
        if !status.is_success() {
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) => (b.code, b.message),
                // No readable code: the status is all there is.
                Err(_) => (ServerCode::Unknown, format!("HTTP {status}")),
            };
            return Err(SyncError::Server {
                status: status.as_u16(),
                code,
                message,
            });
        }
        let value =
            serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(Exchange {
            value,
            bytes_sent,
            bytes_received,
        })
    }
}

impl SyncReport {
    fn add<T>(&mut self, x: &Exchange<T>) {
        self.requests += 1;
        self.bytes_sent += x.bytes_sent;
        self.bytes_received += x.bytes_received;
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, SyncError> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes)
        .and_then(|_| enc.finish())
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

/// A request body, serialised and (above the configured size) gzipped
/// once, however often it is retried.
#[derive(Debug, Clone)]
struct Encoded {
    bytes: bytes::Bytes,
    gzipped: bool,
}

impl Encoded {
    fn of<B: Serialize>(body: &B, gzip_above: usize) -> Result<Self, SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(if json.len() > gzip_above {
            Self {
                bytes: gzip(&json)?.into(),
                gzipped: true,
            }
        } else {
            Self {
                bytes: json.into(),
                gzipped: false,
            }
        })
    }
}

/// What one push may carry, from the server's advertised limits.
struct BatchLimits {
    items: usize,
    bytes: usize,
    gzip_above: usize,
}

/// The next push, ready to send: its changes' sequence numbers and its
/// encoded body.
struct Batch {
    seqs: Vec<i64>,
    last_seq: i64,
    /// The changes' stored size, for progress.
    bytes: u64,
    body: Encoded,
}

impl Batch {
    /// The pending changes after `after`, oldest first, as many as the
    /// limits allow; `None` when none waits.
    fn after(
        store: &Mutex<Store>,
        after: i64,
        limits: &BatchLimits,
    ) -> Result<Option<Self>, SyncError> {
        let entries = lock(store)?.pending_changes_after(after, limits.items)?;
        let mut changes = Vec::with_capacity(entries.len());
        let (mut size, mut bytes) = (0usize, 0u64);
        for c in &entries {
            let change = Change::new(c.report_id, c.seq, c.rev, &c.body);
            let n = serde_json::to_vec(&change).map_or(0, |v| v.len()) + 1;
            if !changes.is_empty() && size + n > limits.bytes {
                break;
            }
            size += n;
            bytes += c.bytes;
            changes.push(change);
        }
        let Some(last_seq) = changes.last().map(|c| c.device_seq) else {
            return Ok(None);
        };
        let seqs = changes.iter().map(|c| c.device_seq).collect();
        Ok(Some(Self {
            seqs,
            last_seq,
            bytes,
            body: Encoded::of(&PushRequest { changes }, limits.gzip_above)?,
        }))
    }
}

/// Runs `f` on the store, off the async threads (see [`blocking`]).
fn with_store<T>(
    store: &Mutex<Store>,
    f: impl FnOnce(&mut Store) -> Result<T, SyncError>,
) -> Result<T, SyncError> {
    blocking(|| f(&mut *lock(store)?))
}

/// Runs store work (blocking: SQLite and its fsync) without stalling the
/// runtime: on a multi-thread runtime the worker hands its other tasks to
/// the others first; on a current-thread runtime it simply runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// `https://host[:port][/prefix]` (or `http://` to this machine) without a
/// trailing slash; anything else is refused before a connection is made.
fn normalize_server(server: &str) -> Result<String, SyncError> {
    let url =
        reqwest::Url::parse(server.trim()).map_err(|e| SyncError::BadAddress(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(SyncError::BadAddress(format!(
            "{server} is not an http(s) address"
        )));
    }
    transport::check_address(&url)?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Locks the store; a poisoned lock (a panic elsewhere) is still usable,
/// since every store write is its own transaction.
pub fn lock(store: &Mutex<Store>) -> Result<std::sync::MutexGuard<'_, Store>, SyncError> {
    Ok(store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
}
