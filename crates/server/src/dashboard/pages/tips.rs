//! The tip inbox, a tip's page and the ward's decision on it.

use super::*;
use crate::AppState;
use crate::dashboard::data::{self, TipFilter};
use crate::dashboard::{Officer, PageCode, PageError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sotay_domain::tip::{Informant, Source, TipCategory, Urgency};
use sotay_domain::wire::WardStatus;
use sotay_domain::{Labelled, Lang, ReportId};

pub async fn tips(
    State(state): State<AppState>,
    o: Officer,
    Query(filter): Query<TipFilter>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let groups = data::groups(&state.store, &o.scope()).await?;
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
    let mut blocks: Vec<String> = groups.values().map(|g| groups.block_label(g)).collect();
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
            (select("category", text::CATEGORY.get(l), &filter.category, &cats))
            (select("status", text::STATUS.get(l), &filter.status, &statuses))
            (select("urgency", text::URGENCY.get(l), &filter.urgency, &urgencies))
            (select("block", &o.block_word(), &filter.block, &as_opts(&blocks)))
            (select("group", &o.group_word(), &filter.group, &as_opts(&group_codes)))
            label { (text::FROM.get(l)) input type="date" name="from" value=(filter.from); }
            label { (text::TO.get(l)) input type="date" name="to" value=(filter.to); }
            button #apply type="submit" { (text::FILTER.get(l)) }
            a href="/dashboard/tips" { (text::CLEAR.get(l)) }
        }
        p.exports {
            (text::EXPORT.get(l)) ": "
            a #export-csv href=(format!("/dashboard/export/tips.csv{export_q}")) { "CSV" } " · "
            a #export-xlsx href=(format!("/dashboard/export/tips.xlsx{export_q}")) { "XLSX" }
        }
        p #tip-total { (found.total) " " (text::TIPS_COUNTED.get(l)) }
        div.scroll {
            table #tips {
                thead { tr {
                    th { (text::RECEIVED.get(l)) } th { (o.group_word()) } th { (text::CATEGORY.get(l)) }
                    th { (text::URGENCY.get(l)) } th { (text::DESCRIPTION.get(l)) } th { (text::STATUS.get(l)) }
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
                @if page > 1 { a #prev-page href=(page_link(page - 1)) { "← " (text::PREVIOUS.get(l)) } " " }
                span { (text::PAGE.get(l)) " " (page) " / " (pages) }
                @if page < pages { " " a #next-page href=(page_link(page + 1)) { (text::NEXT.get(l)) " →" } }
            }
        }
    };
    Ok(layout(&o, text::TIPS.get(l), body))
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

fn tip_body(l: Lang, payload: &serde_json::Value) -> Markup {
    let Ok(tip) = serde_json::from_value::<sotay_domain::Tip>(payload.clone()) else {
        return html! { pre { (payload.to_string()) } };
    };
    html! {
        dl {
            dt { (text::CATEGORY.get(l)) } dd { (tip.category.label().get(l)) }
            dt { (text::URGENCY.get(l)) } dd { (tip.urgency.label().get(l)) }
            dt { (text::DESCRIPTION.get(l)) } dd.description { (tip.description) }
            dt { (text::LOCATION.get(l)) }
            dd {
                @if tip.location.not_remembered { (text::LOCATION_NOT_REMEMBERED.get(l)) }
                @if let Some(text) = &tip.location.text { (text) " " }
                @if let Some(g) = &tip.location.gps { "GPS " (format!("{:.5}, {:.5}", g.lat, g.lon)) }
            }
            @if let Some(at) = tip.occurred_at { dt { (text::OCCURRED.get(l)) } dd { (fmt_time(at)) } }
            dt { (text::SOURCE.get(l)) }
            dd {
                // A source is never shown here: only its kind. An officer
                // with the permission opens it with "Xem nguồn tin".
                @match &tip.source {
                    Source::Observed => { (text::SEEN_BY_LEADER.get(l)) }
                    Source::Resident { informant: Informant::Anonymous } => { (text::RESIDENT_ANONYMOUS.get(l)) }
                    Source::Resident { informant: Informant::Named { .. } | Informant::Sealed } => {
                        span.sealed { (text::RESIDENT_NAMED_SEALED.get(l)) }
                    }
                    Source::Resident { informant: Informant::Erased } => {
                        (text::RESIDENT_SOURCE_ERASED.get(l))
                    }
                }
                @if tip.sealed.is_some() && !matches!(tip.source, Source::Resident { informant: Informant::Sealed }) {
                    " · " (text::WITH_CONFIDENTIAL_NOTE.get(l))
                }
            }
            @if !tip.suspects.is_empty() {
                dt { (text::SUSPECTS.get(l)) }
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
    let owner = o.report(&state, id).await?;
    if owner.kind != sotay_domain::ReportKind::Tip {
        return Err(PageError::NotFound);
    }
    let groups = data::groups(&state.store, &o.scope()).await?;
    let revisions = state.store.report_revisions(id).await?;
    let decisions = state.store.tip_decisions(id).await?;
    o.audit(&state, "view-tip", &id.to_string(), "").await?;
    let latest = revisions.last();
    let photos = latest
        .and_then(|r| serde_json::from_value::<sotay_domain::Tip>(r.payload.clone()).ok())
        .map(|t| t.photos)
        .unwrap_or_default();
    let gallery =
        crate::dashboard::photos::gallery(&state, &o, id, &photos.iter().collect::<Vec<_>>())
            .await?;
    // Where it was recorded, when a merge, split or move took it since.
    let recorded = if owner.recorded_group == owner.group {
        None
    } else {
        state.store.group_place(&owner.recorded_group).await?
    };
    let body = html! {
        p { (o.group_word()) ": " strong { (groups.label(&owner.group)) } " · id " code { (id) } }
        @if let Some(p) = &recorded {
            p.note #recorded-under { (text::RECORDED_UNDER.get(l)) " " (p.group.name) " (" (p.group.code) "), " (p.block.name) }
        }
        @if let Some(r) = latest {
            h2 { (text::LATEST_REVISION.get(l)) " (rev " (r.rev) ", " (fmt_time(r.receipt.received_at)) ")" }
            (tip_body(l, &r.payload))
            @if !photos.is_empty() {
                h3 { (text::PHOTOS.get(l)) " (" (photos.len()) ")" }
                (gallery)
            }
            (crate::dashboard::sources::reveal_form(&o, id, &r.payload))
        }
        h2 { (text::WARD_DECISION.get(l)) }
        @if decisions.is_empty() { p #current-status { (status_label(l, None)) } }
        ol #decisions {
            @for d in &decisions {
                li { (fmt_time(d.decided_at)) ": " strong { (d.status.label().get(l)) } @if let Some(n) = &d.note { " — " (n) } }
            }
        }
        form #status-form method="post" action=(format!("/dashboard/tips/{id}/status")) {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (text::STATUS.get(l))
                select name="status" id="status" {
                    @for s in WardStatus::ALL { option value=(s.code()) { (s.label().get(l)) } }
                }
            }
            label { (text::NOTE.get(l)) textarea name="note" id="note" rows="3" maxlength="2000" {} }
            button #set-status type="submit" { (text::UPDATE.get(l)) }
        }
        @if revisions.len() > 1 {
            h2 { (text::EARLIER_REVISIONS.get(l)) }
            @for r in revisions.iter().rev().skip(1) {
                details { summary { "rev " (r.rev) " · " (fmt_time(r.receipt.received_at)) } (tip_body(l, &r.payload)) }
            }
        }
    };
    Ok(layout(&o, text::TIP.get(l), body))
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
    o.acting_ward()?;
    let id: ReportId = id.parse().map_err(|_| PageError::NotFound)?;
    o.report(&state, id).await?;
    let status: WardStatus = form
        .status
        .parse()
        .map_err(|_| PageError::bad(PageCode::UnknownStatus))?;
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
        Err(
            e @ (crate::admin::AdminError::NoteTooLong(_)
            | crate::admin::AdminError::UnknownReport(_)
            | crate::admin::AdminError::NotATip(..)),
        ) => return Err(e.into()),
        Err(e) => return Err(PageError::Internal(e.to_string())),
    }
    Ok(Redirect::to(&format!("/dashboard/tips/{id}")).into_response())
}
