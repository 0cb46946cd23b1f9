//! Why a dashboard request failed, as the officer reads it.
//!
//! A failure is a [`PageError`] with a typed [`PageCode`]; its text comes
//! from the label table ([`text::refusal`]), in the officer's language.
//! A handler does not know that language when it fails (errors come from
//! `?`), so the response carries the failure as an extension, and
//! [`localize`], a layer over every dashboard route, writes the page in
//! the language of the request's cookie.

use super::text;
use super::{lang, no_store};
use crate::admin::AdminError;
use crate::sources::SourceError;
use crate::store::StoreError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use sotay_domain::Lang;

sotay_domain::code_enum! {
    /// Why a dashboard request was refused: the stable code under the
    /// page's text (`data-code` on the error page).
    pub enum PageCode {
        AdminsOnly => "admins-only",
        Csrf => "csrf",
        NotFound => "not-found",
        Internal => "internal",
        UnknownRole => "unknown-role",
        BadUsername => "bad-username",
        WeakPassword => "weak-password",
        OfficerExists => "officer-exists",
        WrongPassword => "wrong-password",
        SamePassword => "same-password",
        PasswordMismatch => "password-mismatch",
        SelfDeactivation => "self-deactivation",
        UnknownBlock => "unknown-block",
        UnknownGroup => "unknown-group",
        GroupExists => "group-exists",
        GroupOutsideBlock => "group-outside-block",
        NameRequired => "name-required",
        BadPlace => "bad-place",
        NoteTooLong => "note-too-long",
        UnknownStatus => "unknown-status",
        UnknownValidity => "unknown-validity",
        UnknownAction => "unknown-action",
        SourcesHolderOnly => "sources-holder-only",
        OwnSourcesPermission => "own-sources-permission",
        NoSessionKey => "no-session-key",
        NoOfficerKey => "no-officer-key",
        ProvinceReadOnly => "province-read-only",
        PlaceConflict => "place-conflict",
        SplitFile => "split-file",
        NoWard => "no-ward",
        BadAnnouncement => "bad-announcement",
        BadCampaign => "bad-campaign",
        BadPhoto => "bad-photo",
    }
}

/// A failure on a dashboard page, answered as a small HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 303 to the login page: no session, or it expired.
    #[error("login required")]
    Login,
    /// 303 to the account page: the officer's password was set by someone
    /// else, and nothing else opens until they choose their own.
    #[error("choose your own password first")]
    PasswordChange,
    /// 403: an officer asked for an admin page, or the CSRF token is wrong.
    #[error("forbidden: {0}")]
    Forbidden(PageCode),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 400: why, and the value at fault as the officer typed it (a group
    /// code…), if there is one.
    #[error("bad request: {0}")]
    BadRequest(PageCode, Option<String>),
    /// 400: a form broke the domain's rules; each is listed in the
    /// officer's language, its field named.
    #[error("invalid: {0}: {1}")]
    Invalid(PageCode, sotay_domain::validation::ValidationErrors),
    /// 500, detail logged only.
    #[error("internal error")]
    Internal(String),
}

impl PageError {
    pub fn bad(code: PageCode) -> Self {
        PageError::BadRequest(code, None)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<super::accounts::AccountError> for PageError {
    fn from(e: super::accounts::AccountError) -> Self {
        use super::accounts::AccountError as E;
        match e {
            E::BadRole(role) => PageError::BadRequest(PageCode::UnknownRole, Some(role)),
            E::BadUsername => PageError::bad(PageCode::BadUsername),
            E::WeakPassword(_) => PageError::bad(PageCode::WeakPassword),
            E::Exists(name) => PageError::BadRequest(PageCode::OfficerExists, Some(name)),
            E::WrongPassword => PageError::bad(PageCode::WrongPassword),
            E::SamePassword => PageError::bad(PageCode::SamePassword),
            E::Mismatch => PageError::bad(PageCode::PasswordMismatch),
            E::SelfDeactivation => PageError::bad(PageCode::SelfDeactivation),
            E::Unknown(_) | E::UnknownWard(_) => PageError::NotFound,
            E::ProvinceAdmin => PageError::Forbidden(PageCode::ProvinceReadOnly),
            E::WardRequired(_) => PageError::bad(PageCode::NoWard),
            e @ (E::Store(_) | E::Hash) => PageError::Internal(e.to_string()),
        }
    }
}

impl From<AdminError> for PageError {
    fn from(e: AdminError) -> Self {
        use AdminError as E;
        match e {
            E::UnknownGroup(_)
            | E::UnknownPlace(_)
            | E::UnknownReport(_)
            | E::NotATip(..)
            | E::UnknownDevice(_) => PageError::NotFound,
            E::UnknownBlock(b) => PageError::BadRequest(PageCode::UnknownBlock, Some(b)),
            E::GroupExists(g) => PageError::BadRequest(PageCode::GroupExists, Some(g)),
            E::GroupOutsideBlock { code, .. } => {
                PageError::BadRequest(PageCode::GroupOutsideBlock, Some(code))
            }
            E::NameRequired => PageError::bad(PageCode::NameRequired),
            E::BadPlace(p) => PageError::BadRequest(PageCode::BadPlace, Some(p)),
            E::NoteTooLong(_) => PageError::bad(PageCode::NoteTooLong),
            E::BlockExists(b) => PageError::BadRequest(PageCode::GroupExists, Some(b)),
            E::Conflict => PageError::bad(PageCode::PlaceConflict),
            E::SplitFile(why) => PageError::BadRequest(PageCode::SplitFile, Some(why)),
            E::ProvinceReadOnly => PageError::Forbidden(PageCode::ProvinceReadOnly),
            E::InvalidAnnouncement(_) => PageError::bad(PageCode::BadAnnouncement),
            E::InvalidCampaign(errors) => PageError::Invalid(PageCode::BadCampaign, errors),
            E::UnknownCampaign(_) => PageError::NotFound,
            E::BadPhoto(_) => PageError::bad(PageCode::BadPhoto),
            E::Source(e) => e.into(),
            e => PageError::Internal(e.to_string()),
        }
    }
}

impl From<SourceError> for PageError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Store(e) => e.into(),
            SourceError::UnknownOfficer(_) => PageError::NotFound,
            SourceError::NoOfficerKey(name) => {
                PageError::BadRequest(PageCode::NoOfficerKey, Some(name))
            }
            SourceError::NotHeld => PageError::bad(PageCode::NoSessionKey),
            e => PageError::Internal(e.to_string()),
        }
    }
}

/// A failure page to write: carried by the response until [`localize`]
/// knows the language.
#[derive(Debug, Clone)]
struct Failure {
    status: StatusCode,
    code: PageCode,
    value: Option<String>,
    /// The rules a form broke, said in the page's language.
    problems: Vec<sotay_domain::validation::FieldError>,
}

impl Failure {
    fn page(&self, l: Lang) -> Response {
        let text = text::refusal(self.code).get(l);
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang=(if l == Lang::Vi { "vi" } else { "en" }) {
                head { meta charset="utf-8"; title { (self.status.as_u16()) } link rel="stylesheet" href="/dashboard/static/app.css"; }
                body { main {
                    h1 { (self.status.as_u16()) }
                    p #refusal data-code=(self.code.code()) {
                        (text)
                        @if let Some(v) = &self.value { ": " code { (v) } }
                    }
                    @if !self.problems.is_empty() {
                        ul #problems { @for p in &self.problems { li data-field=(p.field) data-rule=(p.rule.code()) { (p.message(l)) } } }
                    }
                    p { a href="/dashboard/tips" { "← " (text::BACK_TO_DASHBOARD.get(l)) } }
                } }
            }
        };
        let mut res = (self.status, no_store(), Html(page.into_string())).into_response();
        res.extensions_mut().insert(self.clone());
        res
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut problems = Vec::new();
        let (status, code, value) = match self {
            PageError::Login => return Redirect::to("/dashboard/login").into_response(),
            PageError::PasswordChange => {
                return Redirect::to("/dashboard/account").into_response();
            }
            PageError::Forbidden(code) => (StatusCode::FORBIDDEN, code, None),
            PageError::NotFound => (StatusCode::NOT_FOUND, PageCode::NotFound, None),
            PageError::BadRequest(code, value) => (StatusCode::BAD_REQUEST, code, value),
            PageError::Invalid(code, errors) => {
                problems = errors.0;
                (StatusCode::BAD_REQUEST, code, None)
            }
            PageError::Internal(e) => {
                tracing::error!(error = %e, "dashboard error");
                (StatusCode::INTERNAL_SERVER_ERROR, PageCode::Internal, None)
            }
        };
        // Vietnamese first; [`localize`] writes it again for English.
        Failure {
            status,
            code,
            value,
            problems,
        }
        .page(Lang::Vi)
    }
}

/// Writes a failure page in the language of the request's cookie.
pub async fn localize(req: Request, next: Next) -> Response {
    let l = lang(req.headers());
    let res = next.run(req).await;
    match res.extensions().get::<Failure>() {
        Some(f) if l != Lang::Vi => f.page(l),
        _ => res,
    }
}
