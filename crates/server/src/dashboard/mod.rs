//! The ward officers' dashboard (issue 6), served under `/dashboard` by the
//! same server: HTML rendered on the server with maud (which escapes every
//! value, so text from devices is always shown as text), one stylesheet
//! served from here, no script and nothing loaded from elsewhere.
//!
//! Modules: [`accounts`] (passwords, login, sessions), [`account`] (an
//! officer's own password), [`data`] (the
//! figures of each page), [`pages`] (HTML), [`export`] (CSV and XLSX),
//! [`sources`] (revealing a sealed source, granting the permission),
//! [`enroll`] (a one-time enrollment code as a QR code), [`photos`] (a
//! report's evidence photos).
//!
//! Invariants:
//! - Every page but the login page needs a live session; an anonymous
//!   request is redirected to the login page.
//! - Every POST carries the session's CSRF token (the login form a
//!   double-submit cookie), checked before anything happens.
//! - Every officer action is written to the audit log.

pub mod account;
pub mod accounts;
pub mod data;
pub mod enroll;
pub mod export;
pub mod pages;
pub mod photos;
pub mod refusal;
pub mod sources;
pub mod text;

use crate::AppState;
use accounts::Role;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
pub use refusal::{PageCode, PageError};
use sotay_domain::Lang;

pub const SESSION_COOKIE: &str = "sotay_session";
pub const LOGIN_CSRF_COOKIE: &str = "sotay_login_csrf";
pub const LANG_COOKIE: &str = "sotay_lang";

/// The dashboard's routes, merged into the server's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::to("/dashboard/tips") }),
        )
        .route(
            "/dashboard/",
            get(|| async { Redirect::to("/dashboard/tips") }),
        )
        .route("/dashboard/static/app.css", get(pages::stylesheet))
        .route("/dashboard/lang/{lang}", get(pages::switch_lang))
        .route(
            "/dashboard/login",
            get(pages::login_form).post(pages::login),
        )
        .route("/dashboard/logout", post(pages::logout))
        .route("/dashboard/account", get(account::show))
        .route(
            "/dashboard/account/password",
            post(account::change_password),
        )
        .route("/dashboard/tips", get(pages::tips))
        .route("/dashboard/tips/{id}", get(pages::tip_detail))
        .route("/dashboard/tips/{id}/status", post(pages::set_status))
        .route("/dashboard/tips/{id}/source", post(sources::reveal))
        .route(
            "/dashboard/officers/{name}/sources",
            post(sources::set_access),
        )
        .route("/dashboard/fire", get(pages::fire))
        .route(
            "/dashboard/fire/household/{group}/{id}",
            get(pages::household),
        )
        .route("/dashboard/id06", get(pages::id06))
        .route("/dashboard/devices", get(pages::devices))
        .route("/dashboard/devices/{id}/revoke", post(pages::revoke))
        .route("/dashboard/devices/enroll", post(enroll::issue))
        .route("/dashboard/audit", get(pages::audit))
        .route(
            "/dashboard/officers",
            get(pages::officers).post(pages::add_officer),
        )
        .route(
            "/dashboard/officers/{name}/deactivate",
            post(pages::deactivate_officer),
        )
        .route(
            "/dashboard/groups",
            get(pages::groups).post(pages::add_group),
        )
        .route("/dashboard/groups/{code}/rename", post(pages::rename_group))
        .route("/dashboard/groups/merge", post(pages::merge_groups))
        .route(
            "/dashboard/groups/{code}/split",
            get(pages::split_form).post(pages::split_group),
        )
        .route("/dashboard/blocks", post(pages::add_block))
        .route(
            "/dashboard/announcements",
            get(pages::announcements).post(pages::announce),
        )
        .route("/dashboard/announcements/{id}", get(pages::announcement))
        .route(
            "/dashboard/announcements/{id}/photo",
            get(pages::announcement_photo),
        )
        .route(
            "/dashboard/campaigns",
            get(pages::campaigns).post(pages::add_campaign),
        )
        .route("/dashboard/campaigns/weekly.xlsx", get(pages::weekly))
        .route("/dashboard/campaigns/{id}", get(pages::campaign))
        .route(
            "/dashboard/campaigns/{id}/cancel",
            post(pages::cancel_campaign),
        )
        .route("/dashboard/officers/{name}/unlock", post(pages::unlock))
        .route("/dashboard/export/{file}", get(export::download))
        .route("/dashboard/photos/{report}/{sha256}", get(photos::show))
        .layer(axum::middleware::from_fn(refusal::localize))
}

/// Pages show personal data: never cache them.
pub fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// The value of cookie `name` in the request, if sent: its `__Host-` form
/// (set over HTTPS) first, then the plain one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let pairs = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
    };
    let host = format!("__Host-{name}");
    pairs()
        .find(|(k, _)| *k == host)
        .or_else(|| pairs().find(|(k, _)| *k == name))
        .map(|(_, v)| v)
}

/// Whether cookies must be `Secure`: the server serves TLS itself, or a
/// proxy says the browser used HTTPS.
pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict. Over HTTPS it is a
/// `__Host-` cookie (Secure, `Path=/`, no Domain: the browser keeps it
/// from being set or read by any other host or over plain HTTP); over
/// plain HTTP (on this machine only) it is scoped to `/dashboard`.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let s = if secure {
        format!(
            "__Host-{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}; Secure"
        )
    } else {
        format!(
            "{name}={value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}"
        )
    };
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The display language: the `sotay_lang` cookie, Vietnamese by default.
pub fn lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// A logged-in officer, from the session cookie. Extracting it is what
/// makes a page require login.
#[derive(Debug, Clone)]
pub struct Officer {
    pub username: String,
    pub role: Role,
    pub csrf: String,
    /// Holds the "see sources" (nguồn tin) permission.
    pub sees_sources: bool,
    /// Must choose their own password before anything else.
    pub must_change_password: bool,
    pub token_hash: String,
    pub lang: Lang,
    /// The officer's ward; `None`: the province (read-only, every ward).
    pub ward: Option<String>,
    /// What the ward calls its blocks and groups (`admin ward levels`);
    /// `None`: the province, which says "Khối" and "Tổ".
    pub levels: Option<(String, String)>,
}

impl Officer {
    /// What this officer may read: their ward, or every ward.
    pub fn scope(&self) -> crate::store::Scope {
        self.ward
            .clone()
            .map_or(crate::store::Scope::Province, crate::store::Scope::Ward)
    }

    /// The word for a block on this officer's pages: their ward's own
    /// ("Khu phố") in Vietnamese.
    pub fn block_word(&self) -> String {
        match (&self.levels, self.lang) {
            (Some((block, _)), Lang::Vi) => block.clone(),
            _ => text::BLOCK.get(self.lang).to_owned(),
        }
    }

    /// The word for a group ("Tổ dân phố"), as [`Officer::block_word`].
    pub fn group_word(&self) -> String {
        match (&self.levels, self.lang) {
            (Some((_, group)), Lang::Vi) => group.clone(),
            _ => text::GROUP.get(self.lang).to_owned(),
        }
    }

    /// "Theo khu phố": a heading of figures by block.
    pub fn by_block(&self) -> String {
        match self.lang {
            Lang::Vi => format!("Theo {}", self.block_word().to_lowercase()),
            Lang::En => text::BY_BLOCK.get(self.lang).to_owned(),
        }
    }

    /// "Theo tổ dân phố": a heading of figures by group.
    pub fn by_group(&self) -> String {
        match self.lang {
            Lang::Vi => format!("Theo {}", self.group_word().to_lowercase()),
            Lang::En => text::BY_GROUP.get(self.lang).to_owned(),
        }
    }

    /// Refuses officers who are not admins of a ward.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.role == Role::Admin && self.ward.is_some() {
            Ok(())
        } else {
            Err(PageError::Forbidden(PageCode::AdminsOnly))
        }
    }

    /// The officer's ward, for an action that changes something: a
    /// province officer changes nothing.
    pub fn acting_ward(&self) -> Result<&str, PageError> {
        self.ward
            .as_deref()
            .ok_or(PageError::Forbidden(PageCode::ProvinceReadOnly))
    }

    /// Who owns report `id`, if this officer's scope holds it: a report
    /// never stored, or stored in a ward this officer does not see, is
    /// "not found" alike, so another ward's ids reveal nothing. Every page
    /// and action on one report starts here.
    pub async fn report(
        &self,
        state: &AppState,
        id: sotay_domain::ReportId,
    ) -> Result<crate::store::ReportOwner, PageError> {
        state
            .store
            .report_owner(id)
            .await?
            .filter(|owner| self.scope().sees(&owner.ward))
            .ok_or(PageError::NotFound)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if accounts::same_secret(token, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::Forbidden(PageCode::Csrf))
        }
    }

    /// An audit entry for an action of this officer, now, to be written in
    /// the same transaction as the action.
    pub fn entry(&self, action: &str, target: &str, detail: &str) -> crate::store::NewAudit {
        crate::store::NewAudit {
            at: crate::store::now_micros(),
            username: self.username.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            ward: self.ward.clone(),
        }
    }

    /// Records an action of this officer in the audit log (for what reads
    /// or ends a session; changes write [`Officer::entry`] with the change).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), PageError> {
        state
            .store
            .audit(&self.entry(action, target, detail))
            .await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError::Login)?;
        let token_hash = crate::auth::hash_secret(token);
        let Some(session) = state
            .store
            .session(
                &token_hash,
                crate::store::now_micros(),
                state.config.session_idle,
            )
            .await?
        else {
            // An ended session's key leaves memory with it.
            state.session_keys.remove(&token_hash);
            return Err(PageError::Login);
        };
        // Until an officer with an assigned password chooses their own,
        // only the account page, the language switch and logout open.
        let path = parts.uri.path();
        let allowed = path == "/dashboard/account"
            || path == "/dashboard/account/password"
            || path == "/dashboard/logout"
            || path.starts_with("/dashboard/lang/");
        if session.must_change_password && !allowed {
            return Err(PageError::PasswordChange);
        }
        Ok(Officer {
            must_change_password: session.must_change_password,
            username: session.username,
            role: session
                .role
                .parse()
                .map_err(|e: accounts::AccountError| PageError::Internal(e.to_string()))?,
            csrf: session.csrf,
            sees_sources: session.sees_sources,
            token_hash,
            lang: lang(&parts.headers),
            ward: session.ward,
            levels: session.levels,
        })
    }
}
