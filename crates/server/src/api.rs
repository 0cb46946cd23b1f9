//! The `/v1` HTTP handlers, their extractors, and the OpenAPI document
//! generated from them.
//!
//! Handlers are thin: parse, authenticate, call [`crate::ingest`] and one
//! [`crate::store::Store`] method, answer. Every body is read as bytes and
//! parsed here, so each way a body can be wrong maps to one stable
//! `{code, message}` (see [`ApiError`]).

use crate::AppState;
use crate::error::ApiError;
use crate::store::{
    CheckedChange, DeviceAuth, EnrollRefusal, NewDevice, Outcome, Rejection, TokenLookup,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sotay_domain::wire::{
    CampaignsResponse, Change, ChangeOutcome, ChangeResult, DeviceId, EnrollRequest,
    EnrollResponse, ErrorBody, GroupCampaign, InspectedHousehold, PROTOCOL_VERSION, PullResponse,
    PushRequest, PushResponse, ReadReceiptsRequest, ReadReceiptsResponse, ServerInfo, SourceKey,
};
use sotay_domain::{ReportId, report::Receipt};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use utoipa::OpenApi;

/// A JSON body, parsed by us so that malformed, truncated, mistyped and
/// oversized bodies each get their own code.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(limit)
            } else {
                ApiError::BadBody
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The body limit in force, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub usize);

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidRequest(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })
}

/// The authenticated device. Checked before the body is read, so a revoked
/// or unknown token is refused at once.
pub struct Device(pub DeviceAuth);

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        match state
            .store
            .authenticate(&crate::auth::hash_secret(token))
            .await?
        {
            TokenLookup::Active(d) => Ok(Device(d)),
            TokenLookup::Revoked => Err(ApiError::Revoked),
            TokenLookup::Unknown => Err(ApiError::Unauthorized),
        }
    }
}

/// The client's address: the socket's peer, or, when that peer is one of
/// the trusted proxies (`Config::trusted_proxies`, `serve --trusted-proxy`),
/// the nearest address in its `X-Forwarded-For` that is not itself a
/// trusted proxy. An untrusted peer's `X-Forwarded-For` is ignored (anyone
/// can write one). Absent when the router is called without a socket, as in
/// handler tests; those share one bucket.
pub(crate) fn client_ip(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    status: &'static str,
}

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Protocol versions and limits, so a device can size its batches.
#[utoipa::path(get, path = "/v1/server-info", tag = "server",
    responses((status = 200, description = "Versions, limits and each ward's source key", body = ServerInfo),
        (status = 500, description = "`internal`", body = ErrorBody)))]
pub async fn server_info(State(state): State<AppState>) -> Result<Json<ServerInfo>, ApiError> {
    let source_keys = state
        .source_keys
        .keys(&state.store)
        .await?
        .into_iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| SourceKey {
            ward: k.ward,
            key_id: k.key_id,
            public_key: k.public_key,
        })
        .collect();
    Ok(Json(ServerInfo {
        protocol_versions: vec![PROTOCOL_VERSION],
        max_batch_items: state.config.max_batch_items,
        max_batch_bytes: state.config.max_body_bytes,
        server_time: crate::store::now_micros(),
        source_keys,
        photo_max_bytes: Some(photo_limit(&state)),
        server_id: Some(
            state
                .server_id
                .get_or_try_init(|| state.store.server_id())
                .await?
                .clone(),
        ),
    }))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "server",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Redeems a one-time enrollment code for a device id and a bearer token.
/// Failed attempts are counted per client address and limited.
#[utoipa::path(post, path = "/v1/enroll", tag = "sync", request_body = EnrollRequest,
    responses(
        (status = 200, description = "Enrolled; the token is shown only this once", body = EnrollResponse),
        (status = 400, description = "`malformed-json`, `bad-body` or `enroll-code-invalid`", body = ErrorBody),
        (status = 409, description = "`enroll-code-used`: codes work once", body = ErrorBody),
        (status = 410, description = "`enroll-code-expired`", body = ErrorBody),
        (status = 413, description = "`too-large`", body = ErrorBody),
        (status = 422, description = "`invalid-request`: wrong shape or types, or a bad device name", body = ErrorBody),
        (status = 429, description = "`rate-limited`: too many failed attempts from this address", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
    ))]
pub async fn enroll(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<EnrollResponse>, ApiError> {
    let ip = client_ip(
        req.extensions(),
        req.headers(),
        &state.config.trusted_proxies,
    );
    // Counted now, in one step with the check, so parallel guesses all
    // count; a valid code takes its hit back below.
    let hit = state.limiter.hit(ip)?;
    // A request that never gets to try a code is not a guess.
    let body = match JsonBody::<EnrollRequest>::from_request(req, &state).await {
        Ok(JsonBody(body)) => body,
        Err(e) => {
            state.limiter.forgive(ip, hit);
            return Err(e);
        }
    };
    let name = body.device_name.trim();
    let name_len = name.chars().count();
    if name_len == 0 || name_len > sotay_domain::wire::DEVICE_NAME_MAX {
        state.limiter.forgive(ip, hit);
        return Err(ApiError::InvalidRequest(format!(
            "device_name must be 1 to {} characters",
            sotay_domain::wire::DEVICE_NAME_MAX
        )));
    }
    let Some(code) = crate::auth::normalize_code(&body.code) else {
        return Err(ApiError::EnrollCodeInvalid);
    };
    let token = crate::auth::new_token();
    let device = NewDevice {
        id: DeviceId(uuid::Uuid::now_v7()),
        name: name.to_owned(),
        token_hash: crate::auth::hash_secret(&token),
    };
    let device_id = device.id;
    let outcome = state
        .store
        .enroll(
            &crate::auth::hash_secret(&code),
            device,
            crate::store::now_micros(),
        )
        .await?;
    match outcome {
        Ok(place) => {
            state.limiter.forgive(ip, hit);
            tracing::info!(device = %device_id, group = %place.group.code, "device enrolled");
            Ok(Json(EnrollResponse {
                device_id,
                token,
                place,
            }))
        }
        Err(refusal) => Err(match refusal {
            EnrollRefusal::Unknown => ApiError::EnrollCodeInvalid,
            EnrollRefusal::Used => ApiError::EnrollCodeUsed,
            EnrollRefusal::Expired => ApiError::EnrollCodeExpired,
        }),
    }
}

/// The push body as first parsed: each change stays raw until it is
/// parsed on its own, so one change of an unknown kind or with a broken
/// payload is rejected alone instead of failing its whole batch.
#[derive(Deserialize)]
pub struct RawPush {
    changes: Vec<serde_json::Value>,
}

/// The identity of a change, enough to answer it even if the rest does not
/// parse.
#[derive(Deserialize)]
struct ChangeKey {
    report_id: ReportId,
    device_seq: i64,
    rev: u32,
}

/// Stores a batch of changes. Each is validated and stored on its own; a
/// change already stored (same report id and rev) is answered with its
/// first receipt.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", request_body = PushRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One result per change, in request order, and the device's checkpoint. \
            Rejection codes: `bad-payload`, `invalid`, `unknown-template`, `out-of-range`, `seq-reused`, \
            `forbidden` (the report belongs to another group; logged), `kind-mismatch`, \
            `source-key-unknown`, `source-misplaced`, `count-id-mismatch` (a count's id is derived from the \
            device's ward, group and the count's day). What is stored is the typed body accepted: \
            unknown fields are dropped, and a clear informant is sealed to the ward's key.", body = PushResponse),
        (status = 400, description = "`malformed-json` or `bad-body`", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token-revoked`", body = ErrorBody),
        (status = 413, description = "`too-large` or `batch-too-large`", body = ErrorBody),
        (status = 415, description = "`unsupported-media-type`: an encoding other than gzip", body = ErrorBody),
        (status = 422, description = "`invalid-request`: not a batch, or a change without report_id, device_seq and rev", body = ErrorBody),
        (status = 429, description = "`rate-limited`: this device pushed too many changes this hour; back off", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
    ))]
pub async fn push(
    State(state): State<AppState>,
    Device(device): Device,
    JsonBody(raw): JsonBody<RawPush>,
) -> Result<Json<PushResponse>, ApiError> {
    let arrived = std::time::Instant::now();
    if raw.changes.len() > state.config.max_batch_items {
        return Err(ApiError::BatchTooLarge(state.config.max_batch_items));
    }
    // A phone in the wrong hands cannot fill the database: so many changes
    // an hour per device, then 429, which the device backs off from.
    state
        .pushes
        .hit_weighing(device.device_id, raw.changes.len().max(1))?;
    let now = crate::store::now_micros();
    let keys = state.source_keys.keys(&state.store).await?;
    let wanted: Vec<(String, u32)> = raw
        .changes
        .iter()
        .filter_map(crate::ingest::template_named)
        .collect();
    let templates = state.templates.covering(&state.store, &wanted).await?;
    // A count's id is derived from its ward and group codes, and a sealed
    // source names its ward: the places the group held before a rename,
    // merge or ward merge count too, for a device that has not yet pulled
    // the change (read only when the batch holds a count, or a source
    // sealed under another ward).
    let mut device = device;
    if raw.changes.iter().any(|c| {
        c.get("kind").and_then(|k| k.as_str()) == Some("id-count")
            || c.pointer("/payload/sealed/ward")
                .and_then(|w| w.as_str())
                .is_some_and(|w| w != device.ward)
    }) {
        device.former_places = state.store.group_codes(&device.group).await?;
    }
    let mut checked = Vec::with_capacity(raw.changes.len());
    for (i, value) in raw.changes.into_iter().enumerate() {
        // The identity first: without it a change cannot even be answered.
        let key: ChangeKey = ChangeKey::deserialize(&value)
            .map_err(|k| ApiError::InvalidRequest(format!("changes[{i}]: {k}")))?;
        let verdict = match serde_json::from_value::<Change>(value) {
            Ok(change) => crate::ingest::check(change, now, &device, &keys, &templates),
            Err(e) => Err(Rejection::new(
                sotay_domain::wire::RejectionCode::BadPayload,
                format!("changes[{i}]: {e}"),
            )),
        };
        checked.push(CheckedChange {
            report_id: key.report_id,
            device_seq: key.device_seq,
            rev: key.rev,
            verdict,
        });
    }
    let keys: Vec<(ReportId, i64, u32)> = checked
        .iter()
        .map(|c| (c.report_id, c.device_seq, c.rev))
        .collect();
    let stored = state.store.push(&device, checked, now).await?;
    state.metrics.push(
        arrived.elapsed(),
        stored.outcomes.iter().map(|o| match o {
            Outcome::Accepted(_) => None,
            Outcome::Rejected(r) => Some(r.code),
        }),
    );
    let results = keys
        .into_iter()
        .zip(stored.outcomes)
        .map(|((report_id, device_seq, rev), outcome)| ChangeResult {
            report_id,
            device_seq,
            rev,
            outcome: match outcome {
                Outcome::Accepted(receipt) => ChangeOutcome::Accepted { receipt },
                Outcome::Rejected(r) => ChangeOutcome::Rejected {
                    code: r.code,
                    message: r.message,
                    fields: r.fields,
                },
            },
        })
        .collect();
    Ok(Json(PushResponse {
        results,
        checkpoint: stored.checkpoint,
    }))
}

/// `since` and `limit` of a pull.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The `next_cursor` of the previous page; 0 or absent for the start.
    #[param(minimum = 0)]
    since: Option<i64>,
    /// Entries per page, 1 to the server's maximum (1000); default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// How many changes still wait on the device: shown when an admin
    /// revokes it (what revoking would lose).
    #[param(minimum = 0)]
    pending: Option<i64>,
}

/// The leader read these announcements: stored once each, and only for
/// announcements the device's group received.
#[utoipa::path(post, path = "/v1/announcements/read", tag = "sync",
    request_body = ReadReceiptsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many receipts were taken", body = ReadReceiptsResponse),
        (status = 400, description = "`malformed-json` or `bad-body`", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token-revoked`", body = ErrorBody),
        (status = 413, description = "`batch-too-large`: more receipts than the server takes at once", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
    ))]
pub async fn read_receipts(
    State(state): State<AppState>,
    Device(device): Device,
    JsonBody(body): JsonBody<ReadReceiptsRequest>,
) -> Result<Json<ReadReceiptsResponse>, ApiError> {
    if body.reads.len() > crate::announcements::MAX_RECEIPTS {
        return Err(ApiError::BatchTooLarge(crate::announcements::MAX_RECEIPTS));
    }
    let recorded = crate::announcements::record_reads(
        &state.store,
        &device,
        &body.reads,
        crate::store::now_micros(),
    )
    .await?;
    Ok(Json(ReadReceiptsResponse { recorded }))
}

/// The campaigns of the device's group that have not ended (or ended in
/// the last week), each with what the server counts for the group so far.
#[utoipa::path(get, path = "/v1/campaigns", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The group's campaigns and the server's figures for the group", body = CampaignsResponse),
        (status = 401, description = "`unauthorized` or `token-revoked`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
    ))]
pub async fn campaigns(
    State(state): State<AppState>,
    Device(device): Device,
) -> Result<Json<CampaignsResponse>, ApiError> {
    let today = sotay_domain::vietnam_date(crate::store::now_micros());
    Ok(Json(
        crate::campaigns::for_device(&state.store, &device, today).await?,
    ))
}

/// What changed centrally for the device's group, in server order.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries, the next cursor and whether more remains", body = PullResponse),
        (status = 400, description = "`bad-query`: since or limit missing a number or out of range", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token-revoked`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
    ))]
pub async fn pull(
    State(state): State<AppState>,
    Device(device): Device,
    params: Result<Query<PullParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let since = params.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::BadQuery("since must be 0 or more".into()));
    }
    let max = state.config.pull_limit_max;
    let limit = params.limit.unwrap_or(state.config.pull_limit_default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit must be 1 to {max}")));
    }
    // Every sync ends with a pull, so this is when the device was last in
    // touch, even when it had nothing to send; one write per sync, not per
    // request, to keep pushes to a single commit each.
    if params.pending.is_some_and(|p| p < 0) {
        return Err(ApiError::BadQuery("pending must be 0 or more".into()));
    }
    state
        .store
        .touch_device(device.device_id, crate::store::now_micros(), params.pending)
        .await?;
    Ok(Json(state.store.pull(&device.group, since, limit).await?))
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token returned once by /v1/enroll"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, generated from the handlers above and the wire
/// types of `sotay-domain`.
#[derive(OpenApi)]
#[openapi(
    info(title = "sotay-server", description = "Sổ tay sync protocol, version 1. \
        Bodies may be gzip-compressed (Content-Encoding: gzip); responses are gzip-compressed \
        when the client accepts it. Every error is {code, message}."),
    paths(healthz, server_info, openapi_json, enroll, push, pull, read_receipts, campaigns, photo_head, photo_get, photo_put),
    components(schemas(Health, ErrorBody, EnrollRequest, EnrollResponse, PushRequest, PushResponse,
        Change, ChangeResult, ChangeOutcome, Receipt, PullResponse, ServerInfo, SourceKey,
        ReadReceiptsRequest, ReadReceiptsResponse, sotay_domain::announcement::ReadReceipt,
        CampaignsResponse, GroupCampaign, InspectedHousehold)),
    modifiers(&BearerAuth),
    tags((name = "sync", description = "Enrollment and sync"), (name = "photos", description = "Evidence photos, sent after their reports"), (name = "server", description = "Health and limits"))
)]
pub struct ApiDoc;

/// The photo limit in force: the configured one, never above the body
/// limit (which would answer a bare 413 first).
fn photo_limit(state: &AppState) -> u64 {
    state
        .config
        .photo_max_bytes
        .min(state.config.max_body_bytes as u64)
}

fn photo_name(sha256: &str) -> Result<&str, ApiError> {
    if sotay_domain::photo::is_photo_hash(sha256) {
        Ok(sha256)
    } else {
        Err(ApiError::BadPhotoName)
    }
}

/// A device may send a photo that a report of its group lists.
async fn check_listed(state: &AppState, sha256: &str, group: &str) -> Result<(), ApiError> {
    let reports = state.store.photo_reports(sha256).await?;
    if reports.iter().any(|(_, g)| g == group) {
        Ok(())
    } else {
        Err(ApiError::PhotoNotListed)
    }
}

fn offset_header(held: u64) -> [(axum::http::HeaderName, String); 1] {
    [(
        axum::http::HeaderName::from_static(sotay_domain::wire::photo_upload::OFFSET),
        held.to_string(),
    )]
}

/// Does the server hold this photo? `200` when whole, `404` when not (yet);
/// either way `Upload-Offset` says how many bytes it holds, so a cut
/// upload resumes there.
#[utoipa::path(head, path = "/v1/photos/{sha256}", tag = "photos",
    params(("sha256" = String, Path, description = "SHA-256 of the photo, lowercase hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server holds the whole photo"),
        (status = 404, description = "Not whole yet; Upload-Offset says how much is held"),
        (status = 400, description = "Not a photo name"),
        (status = 401, description = "Missing, unknown or revoked token"),
        (status = 403, description = "No report of this group lists the photo"),
    ))]
pub async fn photo_head(
    State(state): State<AppState>,
    Device(device): Device,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let sha = photo_name(&sha256)?;
    check_listed(&state, sha, &device.group).await?;
    let held = state.store.photos().state(sha).await?;
    let status = match held {
        crate::store::photos::PhotoState::Stored(_) => StatusCode::OK,
        crate::store::photos::PhotoState::Partial(_) => StatusCode::NOT_FOUND,
    };
    Ok((status, offset_header(held.held())).into_response())
}

/// A photo an announcement of the device's group lists (the ward's
/// picture of a wanted person, a scam's screenshot), whole. Any other
/// photo is `not-found`, whether it exists or not: a device reads no
/// other group's photos, nor the evidence of its own group's tips.
#[utoipa::path(get, path = "/v1/photos/{sha256}", tag = "photos",
    params(("sha256" = String, Path, description = "SHA-256 of the photo, lowercase hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The photo's JPEG bytes", content_type = "image/jpeg"),
        (status = 400, description = "`bad-photo-name`", body = ErrorBody),
        (status = 401, description = "`unauthorized` or `token-revoked`", body = ErrorBody),
        (status = 404, description = "`not-found`: no announcement of this group lists it", body = ErrorBody),
    ))]
pub async fn photo_get(
    State(state): State<AppState>,
    Device(device): Device,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let sha = photo_name(&sha256)?;
    if !state
        .store
        .group_announcement_photo(&device.group, sha)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let bytes = state
        .store
        .photos()
        .read(sha)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            sotay_domain::photo::PHOTO_MIME,
        )],
        bytes,
    )
        .into_response())
}

/// Sends a photo, whole or from `Upload-Offset` on (where the server's
/// copy ends), `Upload-Length` being its whole length. What arrives is
/// kept even when the connection is cut, so the next attempt continues.
/// Once the copy is whole its SHA-256 is checked against the name: a
/// match is stored (once, however often it is sent), a mismatch discarded.
#[utoipa::path(put, path = "/v1/photos/{sha256}", tag = "photos",
    params(("sha256" = String, Path, description = "SHA-256 of the photo, lowercase hex")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server holds the whole photo"),
        (status = 202, description = "Part held; continue from Upload-Offset"),
        (status = 400, description = "Bad name, length or offset", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "No report of this group lists the photo", body = ErrorBody),
        (status = 409, description = "The offset is not where the server's copy ends", body = ErrorBody),
        (status = 413, description = "Larger than the server's photo limit", body = ErrorBody),
        (status = 422, description = "The bytes do not match the name", body = ErrorBody),
    ))]
pub async fn photo_put(
    State(state): State<AppState>,
    Device(device): Device,
    Path(sha256): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    use sotay_domain::wire::photo_upload;
    let sha = photo_name(&sha256)?;
    let number = |name: &str, required: bool| -> Result<Option<u64>, ApiError> {
        match headers.get(name) {
            None if required => Err(ApiError::BadPhotoLength(format!("{name} is required"))),
            None => Ok(None),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(Some)
                .ok_or_else(|| ApiError::BadPhotoLength(format!("{name} must be a number"))),
        }
    };
    let total = number(photo_upload::LENGTH, true)?.unwrap_or(0);
    let offset = number(photo_upload::OFFSET, false)?.unwrap_or(0);
    let limit = photo_limit(&state);
    if total > limit {
        return Err(ApiError::PhotoTooLarge(limit));
    }
    if total == 0 || offset > total {
        return Err(ApiError::BadPhotoLength(
            "Upload-Length must be above 0 and Upload-Offset within it".into(),
        ));
    }
    check_listed(&state, sha, &device.group).await?;
    if let crate::store::photos::PhotoState::Stored(n) = state.store.photos().state(sha).await? {
        return Ok((StatusCode::OK, offset_header(n)).into_response());
    }
    // The body is read and kept by a task of its own: when the connection
    // is cut, the connection's task ends and drops this handler, but what
    // had arrived is still written, so the next attempt continues from it.
    let store = state.store.clone();
    let (sha, device_id) = (sha.to_owned(), device.device_id);
    tokio::spawn(async move { receive_photo(store, sha, device_id, offset, total, body).await })
        .await
        .map_err(|e| ApiError::Internal(crate::store::StoreError::Join(e)))?
}

/// Reads a photo upload's body from `offset` on and keeps it piece by
/// piece; once the copy is whole, checks it against its name.
async fn receive_photo(
    store: crate::store::DynStore,
    sha: String,
    device: sotay_domain::wire::DeviceId,
    offset: u64,
    total: u64,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    use futures_util::StreamExt;
    // Written in pieces of this size as they arrive, each on disk before
    // the next, so a cut upload keeps every whole piece that arrived and
    // at most one piece is sent twice.
    const PIECE: usize = 64 * 1024;
    let photos = store.photos();
    let mut held = offset;
    let mut buf: Vec<u8> = Vec::with_capacity(PIECE);
    let mut stream = body.into_data_stream();
    let mut cut = false;
    loop {
        let chunk = match stream.next().await {
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => {
                cut = true;
                None
            }
            None => None,
        };
        if let Some(c) = &chunk {
            if held + (buf.len() + c.len()) as u64 > total {
                return Err(ApiError::BadPhotoLength(
                    "more bytes than Upload-Length".into(),
                ));
            }
            buf.extend_from_slice(c);
        }
        if (chunk.is_none() || buf.len() >= PIECE) && !buf.is_empty() {
            match photos.append(&sha, held, &buf).await? {
                Ok(n) => held = n,
                Err(crate::store::photos::AppendRefusal::Offset(at)) => {
                    return Err(ApiError::PhotoOffset(at));
                }
                Err(crate::store::photos::AppendRefusal::Stored) => {
                    return Ok((StatusCode::OK, offset_header(total)).into_response());
                }
            }
            buf.clear();
        }
        if chunk.is_none() {
            break;
        }
    }
    if cut || held < total {
        // The rest comes with the next attempt.
        return Ok((StatusCode::ACCEPTED, offset_header(held)).into_response());
    }
    if photos.finish(&sha).await? {
        tracing::info!(photo = %sha, bytes = total, device = %device, "photo stored");
        Ok((StatusCode::OK, offset_header(total)).into_response())
    } else {
        Err(ApiError::PhotoHashMismatch)
    }
}
