//! The HTTP error type: every failure a client can see, with its status
//! and stable code, always answered as `{code, message}`.
//!
//! Internal failures become a 500 with a generic message; the detail goes
//! to the log only, so no SQL, path or stack trace ever reaches a client.

use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sotay_domain::wire::{ErrorBody, ServerCode};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `malformed-json`: the body is not JSON, or is cut short.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// 422 `invalid-request`: JSON of the wrong shape or types.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// 400 `bad-body`: the body could not be read (e.g. broken gzip).
    #[error("could not read the request body")]
    BadBody,
    /// 400 `bad-query`: a query parameter is missing, mistyped or out of range.
    #[error("{0}")]
    BadQuery(String),
    /// 401 `unauthorized`: no token, or a token the server does not know.
    #[error("missing or unknown bearer token")]
    Unauthorized,
    /// 401 `token-revoked`: the device was revoked; enroll again.
    #[error("this device was revoked; enroll it again")]
    Revoked,
    /// 400 `enroll-code-invalid`: no such enrollment code.
    #[error("unknown enrollment code")]
    EnrollCodeInvalid,
    /// 409 `enroll-code-used`: enrollment codes work once.
    #[error("this enrollment code was already used")]
    EnrollCodeUsed,
    /// 410 `enroll-code-expired`.
    #[error("this enrollment code has expired")]
    EnrollCodeExpired,
    /// 413 `too-large`: the body is over the limit.
    #[error("request body is too large (limit {0} bytes)")]
    TooLarge(usize),
    /// 413 `batch-too-large`: more changes than one batch may carry.
    #[error("too many changes in one batch (limit {0})")]
    BatchTooLarge(usize),
    /// 429 `rate-limited`: too many failed enrollments from this address.
    #[error("too many attempts; try again later")]
    RateLimited,
    /// 400 `bad-photo-name`: the path is not a photo's SHA-256.
    #[error("a photo is named by the SHA-256 of its bytes, 64 lowercase hex digits")]
    BadPhotoName,
    /// 400 `bad-photo-length`: `Upload-Length` or `Upload-Offset` missing
    /// or not a number, or more bytes than it said.
    #[error("{0}")]
    BadPhotoLength(String),
    /// 403 `photo-not-listed`: no report of the device's group lists it.
    #[error("no report of this group lists this photo; send the report first")]
    PhotoNotListed,
    /// 409 `photo-offset`: the bytes do not start where the server's copy
    /// ends; the answer's `Upload-Offset` says where that is.
    #[error("the server holds {0} bytes of this photo: continue from there")]
    PhotoOffset(u64),
    /// 413 `photo-too-large`: over the server's photo limit.
    #[error("the photo is larger than this server takes ({0} bytes)")]
    PhotoTooLarge(u64),
    /// 422 `photo-hash-mismatch`: the bytes do not hash to the name; the
    /// copy was discarded, send it again whole.
    #[error("the photo's bytes do not match its SHA-256; send it again")]
    PhotoHashMismatch,
    /// 404 `not-found`: nothing this device may read by that name.
    #[error("not found")]
    NotFound,
    /// 500 `internal`.
    #[error("internal error")]
    Internal(#[from] StoreError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_)
            | ApiError::BadBody
            | ApiError::BadQuery(_)
            | ApiError::EnrollCodeInvalid
            | ApiError::BadPhotoName
            | ApiError::BadPhotoLength(_) => StatusCode::BAD_REQUEST,
            ApiError::PhotoNotListed => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PhotoOffset(_) => StatusCode::CONFLICT,
            ApiError::PhotoTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PhotoHashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::InvalidRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized | ApiError::Revoked => StatusCode::UNAUTHORIZED,
            ApiError::EnrollCodeUsed => StatusCode::CONFLICT,
            ApiError::EnrollCodeExpired => StatusCode::GONE,
            ApiError::TooLarge(_) | ApiError::BatchTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> ServerCode {
        match self {
            ApiError::MalformedJson(_) => ServerCode::MalformedJson,
            ApiError::InvalidRequest(_) => ServerCode::InvalidRequest,
            ApiError::BadBody => ServerCode::BadBody,
            ApiError::BadQuery(_) => ServerCode::BadQuery,
            ApiError::Unauthorized => ServerCode::Unauthorized,
            ApiError::Revoked => ServerCode::TokenRevoked,
            ApiError::EnrollCodeInvalid => ServerCode::EnrollCodeInvalid,
            ApiError::EnrollCodeUsed => ServerCode::EnrollCodeUsed,
            ApiError::EnrollCodeExpired => ServerCode::EnrollCodeExpired,
            ApiError::TooLarge(_) => ServerCode::TooLarge,
            ApiError::BatchTooLarge(_) => ServerCode::BatchTooLarge,
            ApiError::RateLimited => ServerCode::RateLimited,
            ApiError::BadPhotoName => ServerCode::BadPhotoName,
            ApiError::BadPhotoLength(_) => ServerCode::BadPhotoLength,
            ApiError::PhotoNotListed => ServerCode::PhotoNotListed,
            ApiError::PhotoOffset(_) => ServerCode::PhotoOffset,
            ApiError::PhotoTooLarge(_) => ServerCode::PhotoTooLarge,
            ApiError::PhotoHashMismatch => ServerCode::PhotoHashMismatch,
            ApiError::NotFound => ServerCode::NotFound,
            ApiError::Internal(_) => ServerCode::Internal,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %e, "internal error");
        }
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
        };
        let mut res = (self.status(), Json(body)).into_response();
        if let ApiError::PhotoOffset(held) = &self
            && let Ok(v) = HeaderValue::from_str(&held.to_string())
        {
            res.headers_mut()
                .insert(sotay_domain::wire::photo_upload::OFFSET, v);
        }
        if matches!(self, ApiError::Unauthorized | ApiError::Revoked) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The `{code, message}` for an error response made outside our handlers
/// (no route, wrong method, a layer's 408, 413 or 415).
pub(crate) fn body_for_status(status: StatusCode) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ServerCode::NotFound, "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (ServerCode::MethodNotAllowed, "method not allowed here"),
        StatusCode::REQUEST_TIMEOUT => (ServerCode::Timeout, "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => (ServerCode::TooLarge, "request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ServerCode::UnsupportedMediaType,
            "unsupported content type or encoding (JSON, optionally gzip)",
        ),
        s if s.is_server_error() => (ServerCode::Internal, "internal error"),
        _ => (ServerCode::BadRequest, "bad request"),
    };
    ErrorBody {
        code,
        message: message.to_owned(),
    }
}
