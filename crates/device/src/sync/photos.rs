//! Fetching the photo of an announcement ([`fetch`]): one `GET`, the
//! bytes capped at the photo's length and checked against its name by
//! the store.
//!
//! Sending one photo: `HEAD` to learn how much of it the server holds,
//! then `PUT` of the rest from there (`Upload-Offset`), so a photo the
//! server has is not sent again and a cut upload continues where it broke
//! instead of starting over. The server checks the bytes against the
//! photo's SHA-256 before it keeps it.

use super::{SyncClient, SyncError, transport};
use reqwest::StatusCode;
use sotay_domain::wire::{ErrorBody, photo_upload};
use std::time::Duration;

/// Rounds of `PUT` one attempt makes (each continues from the server's
/// copy) before the photo waits for the next sync.
const ROUNDS: usize = 4;

/// How long a photo waits after its `attempts`-th failure: `base`,
/// doubled each time, at most an hour.
pub(super) fn retry_after(base: Duration, attempts: u32) -> Duration {
    base.saturating_mul(1u32 << attempts.min(7))
        .min(Duration::from_secs(3600))
}

/// Sends `bytes` as photo `sha256`; `Ok` once the server holds it whole.
pub(super) async fn send(
    client: &SyncClient,
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    sha256: &str,
    bytes: &[u8],
) -> Result<(), SyncError> {
    let url = format!("{base}/v1/photos/{sha256}");
    let total = bytes.len() as u64;
    let head = request(client, http, reqwest::Method::HEAD, &url, token)
        .send()
        .await
        .map_err(transport::network_error)?;
    let mut held = match head.status() {
        StatusCode::OK => return Ok(()),
        StatusCode::NOT_FOUND => offset_of(&head),
        _ => return Err(refusal(head).await),
    };
    for _ in 0..ROUNDS {
        let from = usize::try_from(held.min(total)).unwrap_or(0);
        let resp = request(client, http, reqwest::Method::PUT, &url, token)
            .header(
                reqwest::header::CONTENT_TYPE,
                sotay_domain::photo::PHOTO_MIME,
            )
            .header(photo_upload::LENGTH, total.to_string())
            .header(photo_upload::OFFSET, held.to_string())
            .body(bytes[from..].to_vec())
            .send()
            .await
            .map_err(transport::network_error)?;
        match resp.status() {
            StatusCode::OK => return Ok(()),
            // A part is held (or the server's copy ends elsewhere than we
            // thought): continue from where it ends.
            StatusCode::ACCEPTED | StatusCode::CONFLICT => held = offset_of(&resp),
            _ => return Err(refusal(resp).await),
        }
    }
    Err(SyncError::Network(format!(
        "photo {sha256}: not whole after {ROUNDS} rounds"
    )))
}

/// Fetches the photo `photo` names, whole, its length capped at the one
/// the announcement gave.
pub(super) async fn fetch(
    client: &SyncClient,
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    photo: &sotay_domain::photo::PhotoRef,
) -> Result<Vec<u8>, SyncError> {
    let url = format!("{base}/v1/photos/{}", photo.sha256);
    let resp = request(client, http, reqwest::Method::GET, &url, token)
        .send()
        .await
        .map_err(transport::network_error)?;
    if resp.status() != StatusCode::OK {
        return Err(refusal(resp).await);
    }
    let cap = usize::try_from(photo.bytes.min(sotay_domain::photo::PHOTO_BYTES_MAX)).unwrap_or(0);
    transport::read_capped(resp, cap).await
}

fn request(
    client: &SyncClient,
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut req = http.request(method, url).timeout(client.config.timeout);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req
}

/// The server's `Upload-Offset`: how many bytes of the photo it holds.
fn offset_of(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get(photo_upload::OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A refusal as the sync's error, with the server's code.
async fn refusal(resp: reqwest::Response) -> SyncError {
    let status = resp.status();
    let body = transport::read_capped(resp, 64 * 1024)
        .await
        .unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => SyncError::Server {
            status: status.as_u16(),
            code: b.code,
            message: b.message,
        },
        Err(_) => SyncError::Server {
            status: status.as_u16(),
            // No readable code: the status is all there is.
            code: sotay_domain::wire::ServerCode::Unknown,
            message: format!("HTTP {status}"),
        },
    }
}
