//! The dashboard's HTML pages and form handlers, a module per part of
//! the dashboard; the helpers they share are here.

mod admin;
mod announcements;
mod campaigns;
mod fire;
mod frame;
mod id06;
mod login;
mod tips;

pub use admin::*;
pub use announcements::*;
pub use campaigns::*;
pub use fire::*;
pub use frame::*;
pub use id06::*;
pub use login::*;
pub use tips::*;

use super::text;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use sotay_domain::wire::WardStatus;
use sotay_domain::{Labelled, Lang};

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
    s.map_or(text::NEW.get(lang), |s| s.label().get(lang))
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

/// The note that figures count under today's units, on the pages of
/// figures, once a merge or split happened in what this officer sees
/// (reports keep the group they were recorded under; the figures follow
/// the group it became).
async fn rolled_up(
    state: &crate::AppState,
    o: &crate::dashboard::Officer,
) -> Result<maud::Markup, crate::dashboard::PageError> {
    let changed = state
        .store
        .place_events(&o.scope())
        .await?
        .iter()
        .any(|e| e.kind != "rename");
    Ok(maud::html! {
        @if changed { p.note #rolled-up { (text::ROLLED_UP.get(o.lang)) } }
    })
}

/// Ward codes with their names ("hht – Hà Huy Tập"), for the province's
/// roll-up tables.
async fn ward_names(
    state: &crate::AppState,
) -> Result<std::collections::HashMap<String, String>, crate::dashboard::PageError> {
    Ok(state
        .store
        .wards()
        .await?
        .into_iter()
        .map(|w| (w.code.clone(), format!("{} – {}", w.code, w.name)))
        .collect())
}

/// A form that carries only its CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}
