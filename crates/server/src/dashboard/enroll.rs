//! Enrolling a phone from the dashboard: an admin picks a group and gets a
//! one-time code with its `sotay://enroll` link drawn as a QR code (SVG made
//! on the server, no script), with the server's TLS key pinned when the
//! server serves TLS itself. The leader scans it with the app.

use super::data::Groups;
use super::pages::{fmt_time, layout, t};
use super::{Officer, PageError};
use crate::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::TimeDelta;
use maud::{Markup, PreEscaped, html};

/// How long a code made on the dashboard may stay valid, in hours.
const EXPIRY_CHOICES: &[(i64, &str, &str)] = &[
    (24, "1 ngày", "1 day"),
    (72, "3 ngày", "3 days"),
    (168, "7 ngày", "7 days"),
];

/// The form on the devices page.
pub fn form(o: &Officer, groups: &Groups) -> Markup {
    let l = o.lang;
    let mut codes: Vec<&String> = groups.keys().collect();
    codes.sort();
    html! {
        h2 { (t(l, "Đăng ký điện thoại mới", "Enroll a new phone")) }
        form #enroll-form method="post" action="/dashboard/devices/enroll" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (t(l, "Tổ", "Group")) " " select #enroll-group name="group" {
                @for c in codes { option value=(c) { (c) " — " (groups[c].name) } }
            } }
            label { (t(l, "Hiệu lực", "Valid for")) " " select name="hours" {
                @for (h, vi, en) in EXPIRY_CHOICES { option value=(h) selected[*h == 72] { (t(l, vi, en)) } }
            } }
            button #enroll-issue type="submit" { (t(l, "Tạo mã QR", "Make the QR code")) }
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
        return Err(PageError::BadRequest("unknown validity".into()));
    }
    let now = crate::store::now_micros();
    let ttl = TimeDelta::hours(form.hours);
    let code = match crate::admin::issue_enroll_code(&state.store, &form.group, ttl, now).await {
        Ok(code) => code,
        Err(crate::admin::AdminError::UnknownGroup(g)) => {
            return Err(PageError::BadRequest(format!("no group {g}")));
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
        p { (t(l, "Tổ", "Group")) ": " strong #enroll-for { (form.group) } }
        // The SVG is made here from the link; nothing in it came from a device.
        div #enroll-qr { (PreEscaped(svg)) }
        p { (t(l, "Mã", "Code")) ": " code #enroll-code { (code) } }
        p { (t(l, "Hết hạn", "Expires")) ": " span #enroll-expires { (fmt_time(now + ttl)) } }
        p { small { (t(l, "Đường dẫn", "Link")) ": " code #enroll-link { (link) } } }
        p { (t(l, "Mã chỉ dùng được một lần. Đưa cho tổ trưởng quét bằng ứng dụng Sổ tay; đừng chụp lại hay gửi qua mạng xã hội.",
            "The code works once. Let the group leader scan it with the Sổ tay app; do not photograph it or send it over social networks.")) }
        p { a href="/dashboard/devices" { "← " (t(l, "Thiết bị", "Devices")) } }
    };
    Ok(layout(&o, t(l, "Mã đăng ký", "Enrollment code"), body))
}
