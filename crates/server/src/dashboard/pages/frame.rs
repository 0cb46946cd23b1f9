//! The page frame every dashboard page shares: header, navigation, the
//! language switch and the stylesheet.

use super::*;
use crate::AppState;
use crate::dashboard::{Officer, accounts, no_store};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use sotay_domain::Lang;

pub(in crate::dashboard) fn layout(o: &Officer, title: &str, body: Markup) -> Response {
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
                        a href="/dashboard/tips" { (text::TIPS.get(l)) }
                        a href="/dashboard/fire" { (text::NAV_FIRE_SAFETY.get(l)) }
                        a href="/dashboard/id06" { "Đề án 06" }
                        a href="/dashboard/campaigns" { (text::CAMPAIGNS.get(l)) }
                        a href="/dashboard/announcements" { (text::ANNOUNCEMENTS.get(l)) }
                        @if admin {
                            a href="/dashboard/devices" { (text::DEVICES.get(l)) }
                            a href="/dashboard/officers" { (text::OFFICERS.get(l)) }
                            a href="/dashboard/groups" { (text::GROUPS.get(l)) }
                            a href="/dashboard/audit" { (text::NAV_AUDIT_LOG.get(l)) }
                        }
                    }
                    span.who {
                        @if l == Lang::Vi { a #lang-switch href="/dashboard/lang/en" { "English" } }
                        @else { a #lang-switch href="/dashboard/lang/vi" { "Tiếng Việt" } }
                        " " a #account href="/dashboard/account" { (o.username) } " "
                        form.inline method="post" action="/dashboard/logout" {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (text::LOG_OUT.get(l)) }
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
        include_str!("../app.css"),
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
        crate::dashboard::set_cookie(
            crate::dashboard::LANG_COOKIE,
            code,
            365 * 86_400,
            crate::dashboard::secure(&state, &headers),
        ),
    );
    res
}
