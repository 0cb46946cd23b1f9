//! Enrolling a phone from the dashboard: an admin picks a group and gets a
//! one-time code with its `sotay://enroll` link drawn as a QR code (SVG made
//! on the server, no script), with the server's TLS key pinned when the
//! server serves TLS itself. The leader scans it with the app.

use super::data::Groups;
use super::pages::{fmt_time, layout};
use super::text;
use super::{Officer, PageCode, PageError};
use crate::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::TimeDelta;
use maud::{Markup, PreEscaped, html};
use sotay_domain::labels::Label;

/// How long a code made on the dashboard may stay valid, in hours.
const EXPIRY_CHOICES: &[(i64, Label)] = &[
    (24, text::VALID_ONE_DAY),
    (72, text::VALID_THREE_DAYS),
    (168, text::VALID_SEVEN_DAYS),
];

/// The form on the devices page.
pub fn form(o: &Officer, groups: &Groups) -> Markup {
    let l = o.lang;
    let mut codes: Vec<&String> = groups.keys().collect();
    codes.sort();
    html! {
        h2 { (text::ENROLL_NEW_PHONE.get(l)) }
        form #enroll-form method="post" action="/dashboard/devices/enroll" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (o.group_word()) " " select #enroll-group name="group" {
                @for c in codes { option value=(c) { (c) " — " (groups[c].name) } }
            } }
            label { (text::VALID_FOR.get(l)) " " select name="hours" {
                @for (h, label) in EXPIRY_CHOICES { option value=(h) selected[*h == 72] { (label.get(l)) } }
            } }
            button #enroll-issue type="submit" { (text::MAKE_QR_CODE.get(l)) }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct EnrollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    hours: i64,
}

/// The address devices should use: the configured public URL, or this
/// request's own.
fn server_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8787");
    let scheme = if super::secure(state, headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// `POST /dashboard/devices/enroll`: a one-time code for the group, shown
/// once as a QR code, its link and its expiry; audited.
pub async fn issue(
    State(state): State<AppState>,
    o: Officer,
    headers: HeaderMap,
    Form(form): Form<EnrollForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let l = o.lang;
    if !EXPIRY_CHOICES.iter().any(|(h, ..)| *h == form.hours) {
        return Err(PageError::bad(PageCode::UnknownValidity));
    }
    let now = crate::store::now_micros();
    let ttl = TimeDelta::hours(form.hours);
    // The group is named by its code in the admin's ward.
    let group = match crate::places::find_group(&state.store, o.acting_ward()?, &form.group).await {
        Ok(g) => g,
        Err(crate::admin::AdminError::UnknownGroup(g)) => {
            return Err(PageError::BadRequest(PageCode::UnknownGroup, Some(g)));
        }
        Err(e) => return Err(e.into()),
    };
    let code = match crate::admin::issue_enroll_code(&state.store, &group.id, ttl, now).await {
        Ok(code) => code,
        Err(crate::admin::AdminError::UnknownGroup(g)) => {
            return Err(PageError::BadRequest(PageCode::UnknownGroup, Some(g)));
        }
        Err(e) => return Err(PageError::Internal(e.to_string())),
    };
    o.audit(
        &state,
        "issue-enroll-code",
        &form.group,
        &format!("{} h", form.hours),
    )
    .await?;
    let link = crate::admin::pinned_enroll_link(
        &server_url(&state, &headers),
        &code,
        state.config.tls_pin.as_deref(),
    );
    let svg = crate::admin::enroll_qr_svg(&link).map_err(|e| PageError::Internal(e.to_string()))?;
    let body = html! {
        p { (o.group_word()) ": " strong #enroll-for { (form.group) } }
        // The SVG is made here from the link; nothing in it came from a device.
        div #enroll-qr { (PreEscaped(svg)) }
        p { (text::CODE.get(l)) ": " code #enroll-code { (code) } }
        p { (text::EXPIRES.get(l)) ": " span #enroll-expires { (fmt_time(now + ttl)) } }
        p { small { (text::LINK.get(l)) ": " code #enroll-link { (link) } } }
        p { (text::CODE_WORKS_ONCE_LET.get(l)) }
        p { a href="/dashboard/devices" { "← " (text::DEVICES.get(l)) } }
    };
    Ok(layout(&o, text::ENROLLMENT_CODE.get(l), body))
}
