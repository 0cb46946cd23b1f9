//! The dashboard's HTML pages and form handlers.

use super::data::{self, TipFilter};
use super::{Officer, PageError, accounts, no_store};
use crate::AppState;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use sotay_domain::inspection::{ChecklistTemplate, HOUSEHOLD_TEMPLATE_ID};
use sotay_domain::tip::{Informant, Source, TipCategory, Urgency};
use sotay_domain::wire::{DeviceId, WardStatus};
use sotay_domain::{Labelled, Lang, ReportId};
use std::collections::HashMap;

/// Picks the text of the officer's language.
pub(super) fn t(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A time as officers read it: Vietnam time, day first.
pub fn fmt_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&sotay_domain::vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0} %", s * 100.0))
}

fn status_label(lang: Lang, s: Option<WardStatus>) -> &'static str {
    s.map_or(t(lang, "Mới", "New"), |s| s.label().get(lang))
}

pub(super) fn layout(o: &Officer, title: &str, body: Markup) -> Response {
    let l = o.lang;
    let admin = o.role == accounts::Role::Admin;
    let page = html! {
        (DOCTYPE)
        html lang=(if l == Lang::Vi { "vi" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Sổ tay" }
                link rel="stylesheet" href="/dashboard/static/app.css";
            }
            body {
                header.top {
                    strong { "Sổ tay" }
                    nav {
                        a href="/dashboard/tips" { (t(l, "Tin báo", "Tips")) }
                        a href="/dashboard/fire" { (t(l, "PCCC", "Fire safety")) }
                        a href="/dashboard/id06" { "Đề án 06" }
                        @if admin {
                            a href="/dashboard/devices" { (t(l, "Thiết bị", "Devices")) }
                            a href="/dashboard/officers" { (t(l, "Cán bộ", "Officers")) }
                            a href="/dashboard/groups" { (t(l, "Tổ", "Groups")) }
                            a href="/dashboard/audit" { (t(l, "Nhật ký", "Audit log")) }
                        }
                    }
                    span.who {
                        @if l == Lang::Vi { a #lang-switch href="/dashboard/lang/en" { "English" } }
                        @else { a #lang-switch href="/dashboard/lang/vi" { "Tiếng Việt" } }
                        " " a #account href="/dashboard/account" { (o.username) } " "
                        form.inline method="post" action="/dashboard/logout" {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (t(l, "Đăng xuất", "Log out")) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    (no_store(), Html(page.into_string())).into_response()
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("app.css"),
    )
}

pub async fn switch_lang(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(lang): Path<String>,
) -> Response {
    let lang: Lang = lang.parse().unwrap_or_default();
    let code = if lang == Lang::En { "en" } else { "vi" };
    let mut res = Redirect::to("/dashboard/tips").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        super::set_cookie(
            super::LANG_COOKIE,
            code,
            365 * 86_400,
            super::secure(&state, &headers),
        ),
    );
    res
}

fn login_page(lang: Lang, csrf: &str, message: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t(lang, "Đăng nhập", "Log in")) " · Sổ tay" }
                link rel="stylesheet" href="/dashboard/static/app.css";
            }
            body.login {
                main {
                    h1 { "Sổ tay · " (t(lang, "Công an phường", "Ward police")) }
                    @if let Some(m) = message { p.error role="alert" { (m) } }
                    form method="post" action="/dashboard/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        label { (t(lang, "Tên đăng nhập", "Username")) input name="username" autocomplete="username" required; }
                        label { (t(lang, "Mật khẩu", "Password")) input name="password" type="password" autocomplete="current-password" required; }
                        button #login type="submit" { (t(lang, "Đăng nhập", "Log in")) }
                    }
                    p { a href=(if lang == Lang::Vi { "/dashboard/lang/en" } else { "/dashboard/lang/vi" }) { (t(lang, "English", "Tiếng Việt")) } }
                }
            }
        }
    }
}

/// The login form sets a double-submit cookie for its CSRF token: there
/// is no session yet to keep one in.
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = crate::auth::new_token();
    let mut res = (
        no_store(),
        Html(login_page(super::lang(&headers), &csrf, None).into_string()),
    )
        .into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        super::set_cookie(
            super::LOGIN_CSRF_COOKIE,
            &csrf,
            3600,
            super::secure(&state, &headers),
        ),
    );
    res
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let lang = super::lang(&headers);
    let expected = super::cookie(&headers, super::LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !accounts::same_secret(&form.csrf, expected) {
        return Err(PageError::Forbidden("CSRF token missing or wrong"));
    }
    // Each attempt costs an argon2 run: bounded per address and overall,
    // checked and counted in one step.
    let ip = crate::api::client_ip(&extensions, &headers, &state.config.trusted_proxies);
    if state.logins.hit(ip).is_err() || state.logins_overall.hit(crate::EVERYONE).is_err() {
        let message = t(
            lang,
            "Quá nhiều lần đăng nhập. Hãy chờ một phút rồi thử lại.",
            "Too many login attempts. Wait a minute and try again.",
        );
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            no_store(),
            Html(login_page(lang, &form.csrf, Some(message)).into_string()),
        )
            .into_response());
    }
    let now = crate::store::now_micros();
    match accounts::login(
        &state.store,
        &state.config,
        &form.username,
        &form.password,
        now,
    )
    .await?
    {
        Ok(accounts::LoggedIn {
            token,
            session,
            secret,
        }) => {
            if let Some(secret) = secret {
                state.session_keys.insert(
                    &crate::auth::hash_secret(&token),
                    secret,
                    state.config.session_ttl.to_std().unwrap_or_default(),
                );
            }
            let mut res = Redirect::to("/dashboard/tips").into_response();
            let max_age = (session.expires_at - now).num_seconds();
            res.headers_mut().append(
                header::SET_COOKIE,
                super::set_cookie(
                    super::SESSION_COOKIE,
                    &token,
                    max_age,
                    super::secure(&state, &headers),
                ),
            );
            Ok(res)
        }
        Err(refusal) => {
            let message = match refusal {
                accounts::LoginRefusal::BadCredentials => t(
                    lang,
                    "Sai tên đăng nhập hoặc mật khẩu.",
                    "Wrong username or password.",
                )
                .to_owned(),
                accounts::LoginRefusal::Locked(until) => format!(
                    "{} {}",
                    t(
                        lang,
                        "Tài khoản tạm khóa do đăng nhập sai nhiều lần, đến",
                        "Account locked after repeated failed logins, until"
                    ),
                    fmt_time(until)
                ),
            };
            let status = match refusal {
                accounts::LoginRefusal::BadCredentials => axum::http::StatusCode::UNAUTHORIZED,
                accounts::LoginRefusal::Locked(_) => axum::http::StatusCode::TOO_MANY_REQUESTS,
            };
            Ok((
                status,
                no_store(),
                Html(login_page(lang, &form.csrf, Some(&message)).into_string()),
            )
                .into_response())
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    o: Officer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    state.store.delete_session(&o.token_hash).await?;
    state.session_keys.remove(&o.token_hash);
    o.audit(&state, "logout", "", "").await?;
    let mut res = Redirect::to("/dashboard/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        super::set_cookie(
            super::SESSION_COOKIE,
            "",
            0,
            super::secure(&state, &headers),
        ),
    );
    Ok(res)
}

fn select(name: &str, label: &str, current: &str, options: &[(String, String)]) -> Markup {
    html! {
        label {
            (label)
            select name=(name) id=(format!("f-{name}")) {
                option value="" { "—" }
                @for (code, text) in options {
                    option value=(code) selected[current == code] { (text) }
                }
            }
        }
    }
}

pub async fn tips(
    State(state): State<AppState>,
    o: Officer,
    Query(filter): Query<TipFilter>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let groups = data::groups(&state.store).await?;
    let page = filter.page();
    let found = data::tip_page(&state.store, &groups, &filter, page, data::INBOX_PAGE).await?;
    let counts = &found.counts;
    let rows = &found.rows;
    let pages = found.total.div_ceil(u64::from(data::INBOX_PAGE)).max(1);
    let page_link = |p: u64| {
        let q = serde_urlencoded_query(&filter);
        let sep = if q.is_empty() { '?' } else { '&' };
        format!("/dashboard/tips{q}{sep}page={p}")
    };
    let mut blocks: Vec<String> = groups.values().map(|g| g.block_code.clone()).collect();
    blocks.sort();
    blocks.dedup();
    let mut group_codes: Vec<String> = groups.keys().cloned().collect();
    group_codes.sort();
    let cats: Vec<(String, String)> = TipCategory::ALL
        .iter()
        .map(|c| (c.code().to_owned(), c.label().get(l).to_owned()))
        .collect();
    let mut statuses = vec![("new".to_owned(), status_label(l, None).to_owned())];
    statuses.extend(
        WardStatus::ALL
            .iter()
            .map(|s| (s.code().to_owned(), s.label().get(l).to_owned())),
    );
    let urgencies: Vec<(String, String)> = Urgency::ALL
        .iter()
        .map(|u| (u.code().to_owned(), u.label().get(l).to_owned()))
        .collect();
    let as_opts = |v: &[String]| v.iter().map(|c| (c.clone(), c.clone())).collect::<Vec<_>>();
    let export_q = serde_urlencoded_query(&filter);
    let body = html! {
        ul.counts {
            @for (code, n) in counts {
                li { a href=(format!("/dashboard/tips?status={code}")) { (status_label(l, code.parse().ok())) ": " strong id=(format!("count-{code}")) { (n) } } }
            }
        }
        form.filters #filters method="get" action="/dashboard/tips" {
            (select("category", t(l, "Loại", "Category"), &filter.category, &cats))
            (select("status", t(l, "Trạng thái", "Status"), &filter.status, &statuses))
            (select("urgency", t(l, "Mức độ", "Urgency"), &filter.urgency, &urgencies))
            (select("block", t(l, "Khối", "Block"), &filter.block, &as_opts(&blocks)))
            (select("group", t(l, "Tổ", "Group"), &filter.group, &as_opts(&group_codes)))
            label { (t(l, "Từ ngày", "From")) input type="date" name="from" value=(filter.from); }
            label { (t(l, "Đến ngày", "To")) input type="date" name="to" value=(filter.to); }
            button #apply type="submit" { (t(l, "Lọc", "Filter")) }
            a href="/dashboard/tips" { (t(l, "Bỏ lọc", "Clear")) }
        }
        p.exports {
            (t(l, "Xuất", "Export")) ": "
            a #export-csv href=(format!("/dashboard/export/tips.csv{export_q}")) { "CSV" } " · "
            a #export-xlsx href=(format!("/dashboard/export/tips.xlsx{export_q}")) { "XLSX" }
        }
        p #tip-total { (found.total) " " (t(l, "tin báo", "tips")) }
        div.scroll {
            table #tips {
                thead { tr {
                    th { (t(l, "Nhận lúc", "Received")) } th { (t(l, "Tổ", "Group")) } th { (t(l, "Loại", "Category")) }
                    th { (t(l, "Mức độ", "Urgency")) } th { (t(l, "Nội dung", "Description")) } th { (t(l, "Trạng thái", "Status")) }
                } }
                tbody {
                    @for r in rows {
                        tr.urgent[r.urgency() == Urgency::Urgent] {
                            td { (fmt_time(r.received_at)) }
                            td { (r.group) }
                            td { (r.category().map_or("?", |c| c.label().get(l))) }
                            td { (r.urgency().label().get(l)) }
                            td { a href=(format!("/dashboard/tips/{}", r.id)) { (excerpt(r.tip.as_ref().map_or("", |t| t.description.as_str()), 120)) } }
                            td { (status_label(l, r.status)) }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pages #pages {
                @if page > 1 { a #prev-page href=(page_link(page - 1)) { "← " (t(l, "Trang trước", "Previous")) } " " }
                span { (t(l, "Trang", "Page")) " " (page) " / " (pages) }
                @if page < pages { " " a #next-page href=(page_link(page + 1)) { (t(l, "Trang sau", "Next")) " →" } }
            }
        }
    };
    Ok(layout(&o, t(l, "Tin báo", "Tips"), body))
}

/// The current filter as a query string, for the export links.
fn serde_urlencoded_query(f: &TipFilter) -> String {
    let pairs = [
        ("category", &f.category),
        ("status", &f.status),
        ("urgency", &f.urgency),
        ("block", &f.block),
        ("group", &f.group),
        ("from", &f.from),
        ("to", &f.to),
    ];
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn excerpt(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn tip_body(l: Lang, payload: &serde_json::Value) -> Markup {
    let Ok(tip) = serde_json::from_value::<sotay_domain::Tip>(payload.clone()) else {
        return html! { pre { (payload.to_string()) } };
    };
    html! {
        dl {
            dt { (t(l, "Loại", "Category")) } dd { (tip.category.label().get(l)) }
            dt { (t(l, "Mức độ", "Urgency")) } dd { (tip.urgency.label().get(l)) }
            dt { (t(l, "Nội dung", "Description")) } dd.description { (tip.description) }
            dt { (t(l, "Địa điểm", "Location")) }
            dd {
                @if tip.location.not_remembered { (t(l, "Không nhớ địa điểm", "Location not remembered")) }
                @if let Some(text) = &tip.location.text { (text) " " }
                @if let Some(g) = &tip.location.gps { "GPS " (format!("{:.5}, {:.5}", g.lat, g.lon)) }
            }
            @if let Some(at) = tip.occurred_at { dt { (t(l, "Xảy ra lúc", "Occurred")) } dd { (fmt_time(at)) } }
            dt { (t(l, "Nguồn", "Source")) }
            dd {
                // A source is never shown here: only its kind. An officer
                // with the permission opens it with "Xem nguồn tin".
                @match &tip.source {
                    Source::Observed => { (t(l, "Tổ trưởng trực tiếp thấy", "Seen by the leader")) }
                    Source::Resident { informant: Informant::Anonymous } => { (t(l, "Người dân (ẩn danh)", "A resident (anonymous)")) }
                    Source::Resident { informant: Informant::Named { .. } | Informant::Sealed } => {
                        span.sealed { (t(l, "Người dân (có tên, đã niêm phong)", "A resident (named, sealed)")) }
                    }
                    Source::Resident { informant: Informant::Erased } => {
                        (t(l, "Người dân (nguồn tin đã xoá)", "A resident (source erased)"))
                    }
                }
                @if tip.sealed.is_some() && !matches!(tip.source, Source::Resident { informant: Informant::Sealed }) {
                    " · " (t(l, "có ghi chú mật", "with a confidential note"))
                }
            }
            @if !tip.suspects.is_empty() {
                dt { (t(l, "Đối tượng", "Suspects")) }
                dd { ul { @for s in &tip.suspects { li { (s.name_or_alias.as_deref().unwrap_or("")) " " (s.description.as_deref().unwrap_or("")) } } } }
            }
        }
    }
}

pub async fn tip_detail(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let id: ReportId = id.parse().map_err(|_| PageError::NotFound)?;
    let owner = state
        .store
        .report_owner(id)
        .await?
        .filter(|w| w.kind == sotay_domain::ReportKind::Tip)
        .ok_or(PageError::NotFound)?;
    let revisions = state.store.report_revisions(id).await?;
    let decisions = state.store.tip_decisions(id).await?;
    o.audit(&state, "view-tip", &id.to_string(), "").await?;
    let latest = revisions.last();
    let photos = latest
        .and_then(|r| serde_json::from_value::<sotay_domain::Tip>(r.payload.clone()).ok())
        .map(|t| t.photos)
        .unwrap_or_default();
    let gallery =
        super::photos::gallery(&state, &o, id, &photos.iter().collect::<Vec<_>>()).await?;
    let body = html! {
        p { (t(l, "Tổ", "Group")) ": " strong { (owner.group) } " · id " code { (id) } }
        @if let Some(r) = latest {
            h2 { (t(l, "Bản mới nhất", "Latest revision")) " (rev " (r.rev) ", " (fmt_time(r.receipt.received_at)) ")" }
            (tip_body(l, &r.payload))
            @if !photos.is_empty() {
                h3 { (t(l, "Ảnh", "Photos")) " (" (photos.len()) ")" }
                (gallery)
            }
            (super::sources::reveal_form(&o, id, &r.payload))
        }
        h2 { (t(l, "Quyết định của phường", "Ward decision")) }
        @if decisions.is_empty() { p #current-status { (status_label(l, None)) } }
        ol #decisions {
            @for d in &decisions {
                li { (fmt_time(d.decided_at)) ": " strong { (d.status.label().get(l)) } @if let Some(n) = &d.note { " — " (n) } }
            }
        }
        form #status-form method="post" action=(format!("/dashboard/tips/{id}/status")) {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (t(l, "Trạng thái", "Status"))
                select name="status" id="status" {
                    @for s in WardStatus::ALL { option value=(s.code()) { (s.label().get(l)) } }
                }
            }
            label { (t(l, "Ghi chú", "Note")) textarea name="note" id="note" rows="3" maxlength="2000" {} }
            button #set-status type="submit" { (t(l, "Cập nhật", "Update")) }
        }
        @if revisions.len() > 1 {
            h2 { (t(l, "Các bản trước", "Earlier revisions")) }
            @for r in revisions.iter().rev().skip(1) {
                details { summary { "rev " (r.rev) " · " (fmt_time(r.receipt.received_at)) } (tip_body(l, &r.payload)) }
            }
        }
    };
    Ok(layout(&o, t(l, "Tin báo", "Tip"), body))
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

/// Records the decision exactly as `sotay-server admin tip-status` does,
/// so the group's devices pull it on their next sync.
pub async fn set_status(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    let id: ReportId = id.parse().map_err(|_| PageError::NotFound)?;
    let status: WardStatus = form
        .status
        .parse()
        .map_err(|_| PageError::BadRequest("unknown status".into()))?;
    let note = Some(form.note.clone()).filter(|n| !n.trim().is_empty());
    let audit = o.entry(
        "tip-status",
        &id.to_string(),
        &format!("{status}: {}", form.note.trim()),
    );
    match crate::admin::set_tip_status(
        &state.store,
        id,
        status,
        note,
        crate::store::now_micros(),
        &audit,
    )
    .await
    {
        Ok(_) => {}
        Err(e @ crate::admin::AdminError::NoteTooLong(_)) => {
            return Err(PageError::BadRequest(e.to_string()));
        }
        Err(crate::admin::AdminError::UnknownReport(_) | crate::admin::AdminError::NotATip(..)) => {
            return Err(PageError::NotFound);
        }
        Err(e) => return Err(PageError::Internal(e.to_string())),
    }
    Ok(Redirect::to(&format!("/dashboard/tips/{id}")).into_response())
}

pub async fn fire(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    let l = o.lang;
    let report = fire_data(&state).await?;
    // Item codes are stable across versions: the newest names them.
    let template =
        ChecklistTemplate::newest(&state.store.templates().await?, HOUSEHOLD_TEMPLATE_ID)
            .ok_or_else(|| PageError::Internal("no household checklist".into()))?;
    let item_label = |code: &str| {
        template
            .items
            .iter()
            .find(|i| i.code == code)
            .map_or_else(|| code.to_owned(), |i| i.label.get(l).to_owned())
    };
    let w = &report.ward;
    let body = html! {
        p.note { (t(l, "Số hộ đăng ký lấy từ sổ hộ đã nạp lên máy chủ (sotay-server admin households import); khối hoặc phường có tổ chưa có sổ hộ thì không có tổng.", "Registered households come from the registers loaded on the server (sotay-server admin households import); a block or the ward with a group lacking one has no total.")) }
        ul.counts {
            li { (t(l, "Hộ đã kiểm tra", "Households inspected")) ": " strong #fire-inspected { (w.inspected) } " " (registered(l, w.registered)) }
            li { (t(l, "Đạt", "Passing")) ": " strong { (percent(w.pass_share())) } }
            li { (t(l, "Vi phạm quá hạn", "Overdue violations")) ": " strong { (w.overdue_violations) } }
            li { (t(l, "Cần tái kiểm tra tuần này", "Re-inspections due this week")) ": " strong { (w.reinspect_due) } }
        }
        p.exports { (t(l, "Xuất", "Export")) ": " a href="/dashboard/export/fire.csv" { "CSV" } " · " a href="/dashboard/export/fire.xlsx" { "XLSX" } }
        h2 { (t(l, "Hạng mục không đạt", "Failing items")) }
        @if report.failing_items.is_empty() { p.note { (t(l, "Không có hạng mục nào không đạt.", "No item failed.")) } }
        ol { @for (code, n) in &report.failing_items { li { (item_label(code)) ": " (n) } } }
        h2 { (t(l, "Vi phạm quá hạn khắc phục", "Violations past their deadline")) }
        table { thead { tr { th { (t(l, "Tổ", "Group")) } th { (t(l, "Hộ", "Household")) } th { (t(l, "Hạng mục", "Item")) } th { (t(l, "Biện pháp", "Fix")) } th { (t(l, "Hạn", "Deadline")) } } }
            tbody { @for v in &report.overdue { tr { td { (v.group) } td { a href=(format!("/dashboard/fire/household/{}/{}", v.group, v.household)) { (excerpt(&v.household, 8)) } } td { (item_label(&v.item)) } td { (v.fix) } td { (v.deadline.format("%d/%m/%Y")) } } } } }
        h2 { (t(l, "Tái kiểm tra đến hết tuần này", "Re-inspections due by the end of this week")) }
        p.note #reinspection-due-means { (t(l, "Đến hạn tái kiểm tra: ", "Due for re-inspection: ")) (sotay_domain::labels::REINSPECTION_DUE_MEANS.get(l)) "." }
        ul { @for (g, hh, d) in &report.reinspections { li { (d.format("%d/%m/%Y")) " · " (g) " · " a href=(format!("/dashboard/fire/household/{g}/{hh}")) { (excerpt(hh, 8)) } } } }
        h2 { (t(l, "Theo khối", "By block")) }
        (fire_table(l, report.blocks.iter().map(|(b, f)| (b.clone(), f))))
        h2 { (t(l, "Theo tổ", "By group")) }
        (fire_table(l, report.groups.iter().filter(|(_, _, f)| f.inspected > 0).map(|(_, g, f)| (g.clone(), f))))
    };
    Ok(layout(&o, t(l, "An toàn PCCC", "Fire safety"), body))
}

pub async fn fire_data(state: &AppState) -> Result<data::FireReport, PageError> {
    let groups = data::groups(&state.store).await?;
    let inspections = data::inspections(
        state
            .store
            .export(Some(sotay_domain::ReportKind::Inspection))
            .await?,
        &groups,
        &state.store.templates().await?,
    );
    Ok(data::fire_report(
        &inspections,
        &data::registered_by_group(&state.store).await?,
        &groups,
        sotay_domain::vietnam_date(Utc::now()),
    ))
}

/// "/ N" after the inspected count, or plainly that there is no register:
/// never an estimate.
fn registered(l: Lang, n: Option<usize>) -> String {
    match n {
        Some(n) => format!("/ {n}"),
        None => format!("({})", t(l, "chưa có sổ hộ", "no register yet")),
    }
}

fn fire_table<'a>(l: Lang, rows: impl Iterator<Item = (String, &'a data::FireFigures)>) -> Markup {
    html! {
        div.scroll { table {
            thead { tr { th { "" } th { (t(l, "Đã kiểm tra / đăng ký", "Inspected / registered")) } th { (t(l, "Đạt", "Passing")) } th { (t(l, "Quá hạn", "Overdue")) } th { (t(l, "Tái kiểm tra", "Re-inspect")) } } }
            tbody { @for (name, f) in rows { tr {
                td { (name) } td { (f.inspected) " " (registered(l, f.registered)) }
                td { (percent(f.pass_share())) } td { (f.overdue_violations) } td { (f.reinspect_due) }
            } } }
        } }
    }
}

pub async fn household(
    State(state): State<AppState>,
    o: Officer,
    Path((group, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let household: sotay_domain::HouseholdId = id.parse().map_err(|_| PageError::NotFound)?;
    let groups = data::groups(&state.store).await?;
    let templates = state.store.templates().await?;
    let mut rows: Vec<data::InspectionRow> = data::inspections(
        state.store.household_inspections(&group, household).await?,
        &groups,
        &templates,
    );
    if rows.is_empty() {
        return Err(PageError::NotFound);
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.inspection.inspected_at));
    // Each failed item's photos, per inspection, in answer order.
    let mut galleries = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut per_answer = Vec::with_capacity(r.inspection.answers.len());
        for a in &r.inspection.answers {
            per_answer.push(
                super::photos::gallery(&state, &o, r.id, &a.photos.iter().collect::<Vec<_>>())
                    .await?,
            );
        }
        galleries.push(per_answer);
    }
    // Each inspection's items are named by the template version it was made against.
    let item_labels: Vec<HashMap<String, String>> = rows
        .iter()
        .map(|r| {
            ChecklistTemplate::resolve(
                &templates,
                &r.inspection.template.id,
                r.inspection.template.version,
            )
            .map(|t| {
                t.items
                    .into_iter()
                    .map(|i| (i.code, i.label.get(l).to_owned()))
                    .collect()
            })
            .unwrap_or_default()
        })
        .collect();
    let body = html! {
        p { (t(l, "Hộ", "Household")) " " code { (id) } " · " (t(l, "Tổ", "Group")) " " (rows[0].group) }
        @for ((r, photos), labels) in rows.iter().zip(&galleries).zip(&item_labels) {
            section {
                h2 { (fmt_time(r.inspection.inspected_at)) " · " (r.result.label().get(l)) " · " (r.inspection.inspector) }
                table { tbody { @for (a, gallery) in r.inspection.answers.iter().zip(photos) { tr {
                    td { (labels.get(&a.item).map_or(a.item.as_str(), String::as_str)) }
                    td { (a.answer.label().get(l)) } td { (a.note.as_deref().unwrap_or("")) (gallery) }
                } } } }
                @if !r.inspection.violations.is_empty() {
                    ul { @for v in &r.inspection.violations { li { (v.item) ": " (v.fix) " — " (v.deadline.format("%d/%m/%Y")) } } }
                }
                @if let Some(d) = r.inspection.reinspection_due() { p.due { (t(l, "Đến hạn tái kiểm tra", "Re-inspection due")) ": " (d.format("%d/%m/%Y")) " (" (sotay_domain::labels::REINSPECTION_DUE_MEANS.get(l)) ")" } }
                @if let Some(n) = &r.inspection.notes { p { (n) } }
            }
        }
    };
    Ok(layout(
        &o,
        t(l, "Lịch sử kiểm tra của hộ", "Household inspections"),
        body,
    ))
}

pub async fn id06_data(state: &AppState) -> Result<data::IdReport, PageError> {
    let groups = data::groups(&state.store).await?;
    Ok(data::id_report(
        state
            .store
            .export(Some(sotay_domain::ReportKind::IdCount))
            .await?,
        &groups,
    ))
}

pub async fn id06(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    let l = o.lang;
    let r = id06_data(&state).await?;
    let share = |a: u32, b: u32| percent((b > 0).then(|| f64::from(a) / f64::from(b)));
    let table = |rows: Vec<(String, data::IdFigures)>| {
        html! { div.scroll { table {
            thead { tr { th { "" } th { (t(l, "Dân số", "Residents")) } th { (t(l, "Thu nhận", "Collected")) } th { (t(l, "Kích hoạt", "Activated")) } th { (t(l, "Kích hoạt / thu nhận", "Activated / collected")) } } }
            tbody { @for (name, f) in &rows { tr { td { (name) } td { (f.residents) } td { (f.collected) " (" (share(f.collected, f.residents)) ")" } td { (f.activated) " (" (share(f.activated, f.residents)) ")" } td { (share(f.activated, f.collected)) } } } }
        } } }
    };
    let body = html! {
        ul.counts {
            li { (t(l, "Dân số", "Residents")) ": " strong #id-residents { (r.ward.residents) } }
            li { (t(l, "Thu nhận", "Collected")) ": " strong #id-collected { (r.ward.collected) } }
            li { (t(l, "Kích hoạt", "Activated")) ": " strong #id-activated { (r.ward.activated) } }
        }
        p.exports { (t(l, "Xuất", "Export")) ": " a href="/dashboard/export/id06.csv" { "CSV" } " · " a href="/dashboard/export/id06.xlsx" { "XLSX" } }
        h2 { (t(l, "Toàn phường theo thời gian", "Ward over time")) }
        (chart(l, &r.over_time))
        h2 { (t(l, "Theo khối", "By block")) }
        (table(r.blocks.clone()))
        h2 { (t(l, "Theo tổ (số liệu mới nhất)", "By group (latest count)")) }
        (table(r.groups.iter().map(|(_, g, d, f)| (format!("{g} ({})", d.format("%d/%m")), *f)).collect()))
    };
    Ok(layout(&o, "Đề án 06", body))
}

/// A line chart of residents, collected and activated, drawn as SVG on
/// the server: no chart library, no script.
fn chart(l: Lang, points: &[(chrono::NaiveDate, data::IdFigures)]) -> Markup {
    let (w, h, pad) = (640.0_f64, 240.0_f64, 36.0_f64);
    let max = points
        .iter()
        .map(|(_, f)| f.residents.max(f.collected))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: u32| h - pad - (h - 2.0 * pad) * f64::from(v) / f64::from(max);
    let line = |get: &dyn Fn(&data::IdFigures) -> u32| {
        points
            .iter()
            .enumerate()
            .map(|(i, (_, f))| format!("{:.1},{:.1}", x(i), y(get(f))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    type Series = (&'static str, &'static str, fn(&data::IdFigures) -> u32);
    let series: [Series; 3] = [
        (t(l, "Dân số", "Residents"), "#888", |f| f.residents),
        (t(l, "Thu nhận", "Collected"), "#1f6fb2", |f| f.collected),
        (t(l, "Kích hoạt", "Activated"), "#2a9d3a", |f| {
            f.activated
        }),
    ];
    html! {
        svg #id06-chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="Đề án 06" {
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) stroke="#333" {}
            line x1=(pad) y1=(pad) x2=(pad) y2=(h - pad) stroke="#333" {}
            text x="2" y=(pad) font-size="11" { (max) }
            @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                text x=(pad) y=(h - 10.0) font-size="11" { (first.0.format("%d/%m/%Y")) }
                text x=(w - pad) y=(h - 10.0) font-size="11" text-anchor="end" { (last.0.format("%d/%m/%Y")) }
            }
            @for (i, (name, color, get)) in series.iter().enumerate() {
                polyline fill="none" stroke=(color) stroke-width="2" points=(line(get)) {}
                @for (j, (_, f)) in points.iter().enumerate() { circle cx=(format!("{:.1}", x(j))) cy=(format!("{:.1}", y(get(f)))) r="3" fill=(color) {} }
                rect x=(pad + 10.0 + 130.0 * i as f64) y="6" width="10" height="10" fill=(color) {}
                text x=(pad + 24.0 + 130.0 * i as f64) y="15" font-size="12" { (name) }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct DevicesQuery {
    days: Option<i64>,
}

pub async fn devices(
    State(state): State<AppState>,
    o: Officer,
    Query(q): Query<DevicesQuery>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let days = q.days.unwrap_or(7).clamp(1, 365);
    let groups = data::groups(&state.store).await?;
    let devices = data::devices(&state.store, &groups).await?;
    let (stale, without) = data::stale_groups(&devices, &groups, days, Utc::now());
    let body = html! {
        form method="get" action="/dashboard/devices" {
            label { (t(l, "Tổ không đồng bộ trong (ngày)", "Groups not synced for (days)")) input type="number" name="days" min="1" max="365" value=(days); }
            button type="submit" { "OK" }
        }
        p.exports { (t(l, "Xuất", "Export")) ": " a href="/dashboard/export/devices.csv" { "CSV" } " · " a href="/dashboard/export/devices.xlsx" { "XLSX" } }
        h2 { (t(l, "Tổ chưa đồng bộ", "Groups not synced")) " (" (stale.len()) ")" }
        ul #stale { @for (g, at) in &stale { li { (g) ": " (at.map_or_else(|| t(l, "chưa bao giờ", "never").to_owned(), fmt_time)) } } }
        p { (t(l, "Tổ chưa có thiết bị", "Groups without a device")) ": " (without.len()) }
        (super::enroll::form(&o, &groups))
        h2 { (t(l, "Thiết bị", "Devices")) }
        div.scroll { table #devices {
            thead { tr { th { (t(l, "Tổ", "Group")) } th { (t(l, "Tên", "Name")) } th { (t(l, "Đăng ký", "Enrolled")) } th { (t(l, "Gửi dữ liệu lần cuối", "Last sync with data")) } th { (t(l, "Trạng thái", "Status")) } th {} } }
            tbody { @for d in &devices { tr {
                td { (d.group) } td { (d.name) } td { (fmt_time(d.enrolled_at)) }
                td { (d.last_push.map_or_else(|| "–".to_owned(), fmt_time)) }
                td { @if d.revoked { (t(l, "Đã thu hồi", "Revoked")) } @else { (t(l, "Hoạt động", "Active")) } }
                td { @if !d.revoked {
                    form.inline.revoke method="post" action=(format!("/dashboard/devices/{}/revoke", d.id)) {
                        input type="hidden" name="csrf" value=(o.csrf);
                        small.pending {
                            @match d.pending_at_last_seen {
                                Some(0) => { (t(l, "Lần liên lạc cuối: không còn gì chưa gửi.", "At its last contact nothing was waiting.")) }
                                Some(n) => { (t(l, "Lần liên lạc cuối còn", "At its last contact")) " " strong { (n) } " " (t(l, "thay đổi chưa gửi: thu hồi sẽ xoá chúng trên máy.", "changes had not been sent: revoking erases them on the phone.")) }
                                None => { (t(l, "Chưa rõ máy còn gì chưa gửi.", "Unknown whether anything waits on it.")) }
                            }
                        }
                        " "
                        button.danger type="submit" { (t(l, "Thu hồi và xoá dữ liệu trên máy", "Revoke and wipe the phone")) }
                    }
                } }
            } } }
        } }
    };
    Ok(layout(&o, t(l, "Thiết bị", "Devices"), body))
}

pub async fn revoke(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let id = DeviceId(id.parse().map_err(|_| PageError::NotFound)?);
    let audit = o.entry("revoke-device", &id.0.to_string(), "");
    match crate::admin::revoke(&state.store, id, crate::store::now_micros(), &audit).await {
        Ok(()) => {}
        Err(crate::admin::AdminError::UnknownDevice(_)) => return Err(PageError::NotFound),
        Err(e) => return Err(PageError::Internal(e.to_string())),
    }
    Ok(Redirect::to("/dashboard/devices").into_response())
}

pub async fn audit(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let rows = state.store.audit_log(500).await?;
    let body = html! {
        p.exports { (t(l, "Xuất", "Export")) ": " a href="/dashboard/export/audit.csv" { "CSV" } " · " a href="/dashboard/export/audit.xlsx" { "XLSX" } }
        div.scroll { table #audit {
            thead { tr { th { (t(l, "Lúc", "At")) } th { (t(l, "Cán bộ", "Officer")) } th { (t(l, "Thao tác", "Action")) } th { (t(l, "Đối tượng", "Target")) } th { (t(l, "Chi tiết", "Detail")) } } }
            tbody { @for r in &rows { tr { td { (fmt_time(r.at)) } td { (r.username) } td { (r.action) } td { (r.target) } td { (r.detail) } } } }
        } }
    };
    Ok(layout(&o, t(l, "Nhật ký thao tác", "Audit log"), body))
}

/// Officer accounts (admin only): an admin sees them, adds one with an
/// initial password (also possible with `sotay-server admin officer add`),
/// lifts a lock-out and deactivates an officer who left.
pub async fn officers(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let now = Utc::now();
    let rows = state.store.officers().await?;
    let body = html! {
        form #add-officer method="post" action="/dashboard/officers" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (t(l, "Tên đăng nhập", "Username")) " " input name="username" required autocomplete="off"; }
            label { (t(l, "Vai trò", "Role")) " " select name="role" {
                option value="officer" { (t(l, "Cán bộ", "Officer")) }
                option value="admin" { (t(l, "Quản trị", "Admin")) }
            } }
            label { (t(l, "Mật khẩu ban đầu", "Initial password")) " " input type="password" name="password" required autocomplete="new-password" minlength=(accounts::PASSWORD_MIN); }
            button type="submit" { (t(l, "Thêm cán bộ", "Add officer")) }
        }
        div.scroll { table #officers {
            thead { tr { th { (t(l, "Tên đăng nhập", "Username")) } th { (t(l, "Vai trò", "Role")) } th { (t(l, "Tạo lúc", "Created")) } th { (t(l, "Đăng nhập sai", "Failed logins")) } th { (t(l, "Khóa đến", "Locked until")) } th { (t(l, "Trạng thái", "Status")) } th { (t(l, "Nguồn tin", "Sources")) } th {} } }
            tbody { @for r in &rows { tr {
                td { (r.username) } td { (r.role) } td { (fmt_time(r.created_at)) } td { (r.failed_logins) }
                td { @if let Some(u) = r.locked_until.filter(|u| *u > now) { (fmt_time(u)) } }
                td { @if let Some(d) = r.deactivated_at { (t(l, "Đã vô hiệu hóa ", "Deactivated ")) (fmt_time(d)) } @else { (t(l, "Hoạt động", "Active")) } }
                td.sources { (super::sources::access_cell(&o, r)) }
                td {
                    @if r.locked_until.is_some_and(|u| u > now) || r.failed_logins > 0 {
                        form.inline method="post" action=(format!("/dashboard/officers/{}/unlock", r.username)) {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (t(l, "Mở khóa", "Unlock")) }
                        }
                    }
                    @if r.deactivated_at.is_none() && r.username != o.username {
                        form.inline method="post" action=(format!("/dashboard/officers/{}/deactivate", r.username)) {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (t(l, "Vô hiệu hóa", "Deactivate")) }
                        }
                    }
                }
            } } }
        } }
    };
    Ok(layout(&o, t(l, "Cán bộ", "Officers"), body))
}

#[derive(Debug, serde::Deserialize)]
pub struct NewOfficerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// Adds an officer with the initial password the admin typed (passed on
/// in person); the audit entry names the account and role, never the
/// password.
pub async fn add_officer(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<NewOfficerForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let role: accounts::Role = form
        .role
        .parse()
        .map_err(|e: accounts::AccountError| PageError::BadRequest(e.to_string()))?;
    let username = form.username.trim();
    let officer = accounts::NewOfficer {
        username,
        password: &form.password,
        role,
        origin: accounts::PasswordOrigin::Assigned,
    };
    match accounts::add_officer(
        &state.store,
        officer,
        crate::store::now_micros(),
        Some(&o.entry("add-officer", username, role.code())),
    )
    .await
    {
        Ok(()) => {}
        Err(
            e @ (accounts::AccountError::BadUsername
            | accounts::AccountError::WeakPassword(_)
            | accounts::AccountError::Exists(_)),
        ) => return Err(PageError::BadRequest(e.to_string())),
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to("/dashboard/officers").into_response())
}

/// Deactivates an officer ([`accounts::deactivate_officer`] holds the rules).
pub async fn deactivate_officer(
    State(state): State<AppState>,
    o: Officer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    match accounts::deactivate_officer(&state.store, &o.username, &name, crate::store::now_micros())
        .await
    {
        Ok(()) => Ok(Redirect::to("/dashboard/officers").into_response()),
        Err(accounts::AccountError::Unknown(_)) => Err(PageError::NotFound),
        Err(e @ accounts::AccountError::SelfDeactivation) => {
            Err(PageError::BadRequest(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The ward's groups by block (admin only), with forms to add a group to
/// a block and to rename a group.
pub async fn groups(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let rows = state.store.groups().await?;
    let mut blocks: Vec<(String, String)> = rows
        .iter()
        .map(|g| (g.block_code.clone(), g.block_name.clone()))
        .collect();
    blocks.sort();
    blocks.dedup();
    let body = html! {
        form #add-group method="post" action="/dashboard/groups" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (t(l, "Khối", "Block")) " " select name="block" {
                @for (code, name) in &blocks { option value=(code) { (code) " – " (name) } }
            } }
            label { (t(l, "Mã tổ", "Group code")) " " input name="code" required placeholder="k01-t20"; }
            label { (t(l, "Tên tổ", "Group name")) " " input name="name" required; }
            button type="submit" { (t(l, "Thêm tổ", "Add group")) }
        }
        div.scroll { table #groups {
            thead { tr { th { (t(l, "Khối", "Block")) } th { (t(l, "Mã tổ", "Group code")) } th { (t(l, "Tên tổ", "Group name")) } } }
            tbody { @for g in &rows { tr {
                td { (g.block_code) " – " (g.block_name) } td { (g.code) }
                td { form.inline method="post" action=(format!("/dashboard/groups/{}/rename", g.code)) {
                    input type="hidden" name="csrf" value=(o.csrf);
                    input name="name" value=(g.name) required;
                    button type="submit" { (t(l, "Đổi tên", "Rename")) }
                } }
            } } }
        } }
    };
    Ok(layout(&o, t(l, "Tổ", "Groups"), body))
}

#[derive(Debug, serde::Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    block: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

/// Adds a group to an existing block ([`crate::admin::add_group`] holds
/// the rules).
pub async fn add_group(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let group = crate::admin::NewGroup {
        block: &form.block,
        code: &form.code,
        name: &form.name,
    };
    crate::admin::add_group(&state.store, group, &o.username, crate::store::now_micros())
        .await
        .map_err(group_refused)?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

/// Renames a group ([`crate::admin::rename_group`]).
pub async fn rename_group(
    State(state): State<AppState>,
    o: Officer,
    Path(code): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    crate::admin::rename_group(
        &state.store,
        &code,
        &form.name,
        &o.username,
        crate::store::now_micros(),
    )
    .await
    .map_err(group_refused)?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

fn group_refused(e: crate::admin::AdminError) -> PageError {
    use crate::admin::AdminError as E;
    match e {
        E::UnknownGroup(_) => PageError::NotFound,
        e @ (E::UnknownBlock(_)
        | E::GroupExists(_)
        | E::GroupOutsideBlock { .. }
        | E::NameRequired
        | E::BadPlace(_)) => PageError::BadRequest(e.to_string()),
        e => PageError::Internal(e.to_string()),
    }
}

pub async fn unlock(
    State(state): State<AppState>,
    o: Officer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    if state.store.officer(&name).await?.is_none() {
        return Err(PageError::NotFound);
    }
    state
        .store
        .set_login_state(&name, 0, None, Some(&o.entry("unlock-officer", &name, "")))
        .await?;
    Ok(Redirect::to("/dashboard/officers").into_response())
}
