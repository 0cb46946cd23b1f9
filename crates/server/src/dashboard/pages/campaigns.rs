//! Campaigns (đợt cao điểm): the list with each one's figures and the
//! form to set one; each campaign's page ranks its blocks and groups by
//! progress against the target, draws the daily progress, lists the
//! groups short of the target that made no progress in the last three
//! days, and calls it off; the weekly report (XLSX, a sheet per campaign)
//! is [`weekly`]. Every officer of a ward sets and calls off campaigns;
//! the province reads. The figures are `crate::campaigns`'.

use super::*;
use crate::AppState;
use crate::campaigns::{self, CampaignReport, CampaignState, NewCampaign, UnitLine};
use crate::dashboard::export;
use crate::dashboard::{Officer, PageCode, PageError, no_store};
use crate::places::Audience;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use sotay_domain::campaign::{
    Campaign, CampaignKind, Goal, HouseholdScope, STALLED_DAYS, Standing,
};
use sotay_domain::labels::{Label, campaign_goal, campaign_units};
use sotay_domain::tip::TipCategory;
use sotay_domain::validation::{FieldError, Rule, ValidationErrors};
use sotay_domain::{CampaignId, Labelled, Lang};

fn today() -> NaiveDate {
    sotay_domain::vietnam_date(crate::store::now_micros())
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn state_label(s: CampaignState) -> Label {
    match s {
        CampaignState::Planned => text::PLANNED,
        CampaignState::Running => text::RUNNING,
        CampaignState::Ended => text::ENDED,
        CampaignState::Cancelled => text::CANCELLED,
    }
}

/// A unit's progress in the target's terms: "18 / 25 (72 %)", or "5 / 6
/// tin", or that its figures are unknown.
fn progress_text(l: Lang, s: &Standing) -> String {
    if s.nothing_to_do {
        return text::NOTHING_IN_SCOPE.get(l).to_owned();
    }
    if s.of == 0 && s.unknown > 0 {
        return text::UNKNOWN_FIGURES.get(l).to_owned();
    }
    let mut out = format!("{} / {} ({:.0} %)", s.count, s.of, s.share.floor());
    if s.unknown > 0 {
        out.push_str(&format!(
            " · {} {}",
            s.unknown,
            text::WITHOUT_FIGURES.get(l)
        ));
    }
    out
}

/// A bar of progress against the target (full at the target).
fn bar(s: &Standing) -> Markup {
    let width = (s.ratio * 100.0).clamp(0.0, 100.0);
    html! {
        span.bar title=(format!("{:.0} %", s.ratio * 100.0)) {
            span.fill.(if s.reached { "reached" } else { "short" }) style=(format!("width:{width:.0}%")) {}
        }
    }
}

pub async fn campaigns(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    let l = o.lang;
    let scope = o.scope();
    let groups = crate::dashboard::data::groups(&state.store, &scope).await?;
    let today = today();
    let rows = state.store.campaigns(&scope).await?;
    let mut reports = campaigns::reports(&state.store, &groups, rows, today).await?;
    // Running first, then planned, then the rest; newest period first within.
    let rank = |r: &CampaignReport| match campaigns::state(&r.row, today) {
        CampaignState::Running => 0,
        CampaignState::Planned => 1,
        CampaignState::Ended => 2,
        CampaignState::Cancelled => 3,
    };
    reports.sort_by_key(rank);
    let body = html! {
        @if o.ward.is_some() { (form(l, &o)) }
        p.exports { a #weekly href="/dashboard/campaigns/weekly.xlsx" { (text::WEEKLY_REPORT.get(l)) } }
        @if reports.is_empty() { p.note { (text::NO_CAMPAIGN_YET.get(l)) } }
        div.scroll { table #campaigns {
            thead { tr {
                th { (text::TITLE.get(l)) } th { (text::KIND.get(l)) } th { (text::PERIOD.get(l)) }
                th { (text::CAMPAIGN_TARGET.get(l)) } th { (text::PROGRESS.get(l)) } th { (text::STATUS.get(l)) }
            } }
            tbody { @for r in &reports {
                @let c = r.campaign();
                @let st = campaigns::state(&r.row, today);
                tr data-id=(c.id) data-state=(st.code()) {
                    td { a href=(format!("/dashboard/campaigns/{}", c.id)) { (c.title) } }
                    td { (c.kind().map_or("?", |k| k.label().get(l))) }
                    td { (day(c.starts_on)) " – " (day(c.ends_on)) }
                    td { (campaign_goal(&c.goal, l)) }
                    td { (bar(&r.total)) " " span.progress { (progress_text(l, &r.total)) } }
                    td { (state_label(st).get(l)) }
                }
            } }
        } }
    };
    Ok(layout(&o, text::CAMPAIGNS.get(l), body))
}

fn form(l: Lang, o: &Officer) -> Markup {
    html! {
        form #new-campaign method="post" action="/dashboard/campaigns" {
            input type="hidden" name="csrf" value=(o.csrf);
            h2 { (text::NEW_CAMPAIGN.get(l)) }
            div.fields {
                label { (text::TITLE.get(l)) input name="title" required maxlength="120" size="50"; }
                label { (text::KIND.get(l)) select name="kind" {
                    @for k in CampaignKind::ALL { option value=(k.code()) { (k.label().get(l)) } }
                } }
                label { (text::FROM.get(l)) input type="date" name="starts_on" required; }
                label { (text::TO.get(l)) input type="date" name="ends_on" required; }
                label { (text::CAMPAIGN_TARGET.get(l)) input type="number" name="target" required min="1" max="1000"; }
                label { (text::HOUSEHOLDS_IN_SCOPE.get(l)) select name="households" {
                    @for h in HouseholdScope::ALL { option value=(h.code()) { (h.label().get(l)) } }
                } }
                label { (text::APPLIES_TO.get(l)) input name="to" size="30" placeholder="block:k01 group:k02-t03"; }
            }
            p.note { (text::TARGET_HELP.get(l)) }
            fieldset { legend { (text::TIP_CATEGORIES.get(l)) }
                @for c in TipCategory::ALL {
                    label.check { input type="checkbox" name="category" value=(c.code()); " " (c.label().get(l)) }
                }
            }
            button type="submit" { (text::SET_CAMPAIGN.get(l)) }
        }
    }
}

/// The form's fields, every rule broken at once: a kind, dates and a
/// target that parse (the domain's rules are checked after).
struct Parsed {
    title: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    goal: Goal,
    to: Vec<Audience>,
}

fn parse(fields: &[(String, String)]) -> Result<Parsed, PageError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let mut problems = Vec::new();
    let mut problem = |field: &str, rule| problems.push(FieldError::new(field, rule));
    let kind = get("kind").parse::<CampaignKind>().map_err(|e| {
        problem("kind", e.into_field_error("kind").rule);
    });
    let mut date = |name: &str| {
        let raw = get(name);
        if raw.is_empty() {
            problem(name, Rule::Required);
            None
        } else {
            raw.parse::<NaiveDate>()
                .map_err(|_| problem(name, Rule::BadFormat))
                .ok()
        }
    };
    let starts_on = date("starts_on");
    let ends_on = date("ends_on");
    let target = get("target")
        .parse::<u32>()
        .map_err(|_| {
            problem(
                "target",
                Rule::OutOfRange {
                    min: 1.0,
                    max: 1000.0,
                },
            )
        })
        .ok();
    let households = match get("households") {
        "" => HouseholdScope::All,
        h => h.parse::<HouseholdScope>().unwrap_or_else(|e| {
            problems.push(e.into_field_error("households"));
            HouseholdScope::All
        }),
    };
    let mut categories = Vec::new();
    for (k, v) in fields.iter().filter(|(k, _)| k == "category") {
        match v.parse::<TipCategory>() {
            Ok(c) => categories.push(c),
            Err(e) => problems.push(e.into_field_error(k)),
        }
    }
    let to = get("to")
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<Vec<Audience>, _>>()?;
    let parsed = Parsed {
        title: get("title").to_owned(),
        starts_on: starts_on.unwrap_or(today()),
        ends_on: ends_on.unwrap_or(today()),
        goal: Goal::of(
            kind.unwrap_or(CampaignKind::FireSafety),
            target.unwrap_or(1),
            households,
            categories,
        ),
        to,
    };
    if problems.is_empty() {
        return Ok(parsed);
    }
    // Every rule at once: the domain's too, for the fields that could be
    // read (a stand-in for one that could not is left out).
    let unread: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
    let stand_in = Campaign {
        id: CampaignId::new_v7(),
        title: parsed.title.trim().to_owned(),
        starts_on: parsed.starts_on,
        ends_on: parsed.ends_on,
        goal: parsed.goal,
    };
    if let Err(e) = stand_in.validate(today()) {
        problems.extend(e.0.into_iter().filter(|p| {
            let stood_in = unread.contains(&p.field)
                || (p.field == "ends_on" && unread.iter().any(|f| f == "starts_on"));
            !stood_in
        }));
    }
    Err(PageError::Invalid(
        PageCode::BadCampaign,
        ValidationErrors(problems),
    ))
}

/// Sets a campaign ([`crate::campaigns::add`] holds the rules): every
/// officer of a ward may; the province may not.
pub async fn add_campaign(
    State(state): State<AppState>,
    o: Officer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    o.check_csrf(csrf)?;
    let ward = crate::places::resolve_ward(&state.store, Some(o.acting_ward()?)).await?;
    let p = parse(&fields)?;
    let added = campaigns::add(
        &state.store,
        &ward,
        NewCampaign {
            title: &p.title,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            goal: p.goal,
            to: &p.to,
        },
        o.entry("add-campaign", "", ""),
    )
    .await?;
    Ok(Redirect::to(&format!("/dashboard/campaigns/{}", added.id)).into_response())
}

/// One campaign: its figures, the ranking, the daily chart, the stalled
/// groups, and (while it runs) the button that calls it off.
pub async fn campaign(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let scope = o.scope();
    let row = campaigns::find(&state.store, &scope, &id)
        .await?
        .ok_or(PageError::NotFound)?;
    let groups = crate::dashboard::data::groups(&state.store, &scope).await?;
    let today = today();
    let st = campaigns::state(&row, today);
    let r = campaigns::reports(&state.store, &groups, vec![row], today)
        .await?
        .pop()
        .ok_or(PageError::NotFound)?;
    let c = r.campaign();
    let kind = c.kind();
    let (count_word, of_word) =
        kind.map_or((text::PROGRESS, text::CAMPAIGN_TARGET), campaign_units);
    let table = |id: &str, first: &str, lines: &[UnitLine], with_block: bool| {
        html! { div.scroll { table id=(id) {
            thead { tr {
                th { (text::RANK.get(l)) } @if with_block { th { (o.block_word()) } } th { (first) }
                th { (count_word.get(l)) } th { (of_word.get(l)) } th { (text::PROGRESS.get(l)) }
                th { (text::WEEK_GAIN.get(l)) } th { (text::LEFT_TO_REACH.get(l)) } th { (text::LAST_PROGRESS.get(l)) }
            } }
            tbody { @for (i, u) in lines.iter().enumerate() {
                tr.(if u.standing.reached { "reached" } else { "short" }) data-unit=(u.label) {
                    td { (i + 1) } @if with_block { td { (u.block) } } td { (u.label) }
                    td.count { (u.standing.count) } td.of { (u.standing.of) }
                    td { (bar(&u.standing)) " " (progress_text(l, &u.standing)) }
                    td.gain { (u.week_gain) } td.left { (u.standing.left) }
                    td { (u.last_gain.map_or_else(|| text::NO_PROGRESS_YET.get(l).to_owned(), day)) }
                }
            } }
        } } }
    };
    let days_left = match st {
        CampaignState::Running if r.days_left == 0 => text::LAST_DAY.get(l).to_owned(),
        CampaignState::Running | CampaignState::Planned => {
            format!("{}: {}", text::DAYS_LEFT.get(l), r.days_left)
        }
        _ => state_label(st).get(l).to_owned(),
    };
    let body = html! {
        p #campaign-state data-state=(st.code()) { strong { (state_label(st).get(l)) } " · " (day(c.starts_on)) " – " (day(c.ends_on)) " · " (days_left) }
        p { (text::CAMPAIGN_TARGET.get(l)) ": " strong #campaign-goal { (campaign_goal(&c.goal, l)) } }
        p.note { (text::APPLIES_TO_SHORT.get(l)) ": " (r.row.audience) " · " (text::SET_BY.get(l)) " " (r.row.created_by) " " (fmt_time(r.row.created_at))
            @if let (Some(at), Some(by)) = (r.row.cancelled_at, &r.row.cancelled_by) { " · " (text::CANCELLED.get(l)) " " (fmt_time(at)) " (" (by) ")" } }
        ul.counts {
            li { (text::PROGRESS.get(l)) ": " strong #campaign-progress { (progress_text(l, &r.total)) } }
            li { (text::LEFT_TO_REACH.get(l)) ": " strong #campaign-left { (r.total.left) } }
            li { (text::WEEK_GAIN.get(l)) ": " strong #campaign-week { (r.week_gain) } }
            li { strong #campaign-reached { (if r.total.reached { text::REACHED.get(l) } else { text::NOT_REACHED.get(l) }) } }
        }
        p.exports { a href=(format!("/dashboard/campaigns/weekly.xlsx?week={}", r.as_of)) { (text::WEEKLY_REPORT.get(l)) } }
        h2 { (text::DAILY_PROGRESS.get(l)) }
        (chart(c, &r.daily))
        @if st == CampaignState::Running {
            h2 { (text::STALLED_GROUPS.get(l).replace("{n}", &STALLED_DAYS.to_string())) }
            @if (r.as_of - c.starts_on).num_days() + 1 < STALLED_DAYS { p.note #no-stalled { (text::STALLED_FROM_DAY.get(l).replace("{n}", &STALLED_DAYS.to_string())) } }
            @else if r.stalled.is_empty() { p.note #no-stalled { (text::NO_STALLED_GROUP.get(l)) } }
            @else { ul #stalled { @for u in &r.stalled {
                li data-unit=(u.label) { (u.label) " (" (u.block) ") · " (progress_text(l, &u.standing)) " · "
                    (text::LAST_PROGRESS.get(l)) ": " (u.last_gain.map_or_else(|| text::NO_PROGRESS_YET.get(l).to_owned(), day)) }
            } } }
        }
        h2 { (o.by_block()) }
        (table("by-block", &o.block_word(), &r.blocks, false))
        h2 { (o.by_group()) }
        (table("by-group", &o.group_word(), &r.groups, true))
        @if o.ward.is_some() && matches!(st, CampaignState::Running | CampaignState::Planned) {
            form #cancel-campaign method="post" action=(format!("/dashboard/campaigns/{}/cancel", c.id)) {
                input type="hidden" name="csrf" value=(o.csrf);
                button.danger type="submit" { (text::CANCEL_CAMPAIGN.get(l)) }
            }
        }
    };
    Ok(layout(&o, &c.title, body))
}

/// The campaign's share of its target's measure, day by day, with the
/// target as a line: SVG drawn here, no script.
fn chart(c: &Campaign, daily: &[(NaiveDate, Standing)]) -> Markup {
    let (w, h, pad) = (640.0_f64, 220.0_f64, 36.0_f64);
    // The line the share must reach: the target for a percentage, all of
    // the tips needed for tips.
    let goal = match c.goal {
        Goal::Tips { .. } => 100.0,
        _ => f64::from(c.target()),
    };
    let top = daily
        .iter()
        .map(|(_, s)| s.share)
        .fold(goal, f64::max)
        .max(1.0);
    let n = daily.len();
    let x = |i: usize| {
        if n <= 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / top;
    let points = daily
        .iter()
        .enumerate()
        .map(|(i, (_, s))| format!("{:.1},{:.1}", x(i), y(s.share)))
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        svg #campaign-chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(c.title) data-days=(n) {
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) stroke="#333" {}
            line x1=(pad) y1=(pad) x2=(pad) y2=(h - pad) stroke="#333" {}
            line.goal x1=(pad) y1=(format!("{:.1}", y(goal))) x2=(w - pad) y2=(format!("{:.1}", y(goal))) stroke="#c0392b" stroke-dasharray="6 4" {}
            text x="2" y=(format!("{:.1}", y(goal) + 4.0)) font-size="11" { (format!("{goal:.0} %")) }
            @if let (Some(first), Some(last)) = (daily.first(), daily.last()) {
                text x=(pad) y=(h - 10.0) font-size="11" { (day(first.0)) }
                text x=(w - pad) y=(h - 10.0) font-size="11" text-anchor="end" { (day(last.0)) }
            }
            polyline fill="none" stroke="#1f6fb2" stroke-width="2" points=(points) {}
            @for (i, (d, s)) in daily.iter().enumerate() {
                circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(s.share))) r="3" fill="#1f6fb2" data-day=(d) data-share=(format!("{:.1}", s.share)) {}
            }
        }
    }
}

pub async fn cancel_campaign(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    let ward = crate::places::resolve_ward(&state.store, Some(o.acting_ward()?)).await?;
    let id: CampaignId = id.parse().map_err(|_| PageError::NotFound)?;
    campaigns::cancel(
        &state.store,
        &ward,
        id,
        o.entry("cancel-campaign", &id.to_string(), ""),
    )
    .await?;
    Ok(Redirect::to(&format!("/dashboard/campaigns/{id}")).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct WeekQuery {
    /// The week's last day, `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    week: String,
}

/// The weekly report a commander reads at the briefing: one sheet per
/// campaign that ran during the 7 days ending on `?week=` (today by
/// default), Vietnamese headers, groups ranked.
pub async fn weekly(
    State(state): State<AppState>,
    o: Officer,
    Query(q): Query<WeekQuery>,
) -> Result<Response, PageError> {
    let today = today();
    // A week from 2000 to a year ahead: any other day is a typing slip
    // (and one near the calendar's ends could not be counted back from).
    let week_end = match q.week.trim() {
        "" => today,
        w => w
            .parse::<NaiveDate>()
            .ok()
            .filter(|d| d.year() >= 2000 && (*d - today).num_days() <= 366)
            .ok_or_else(|| {
                PageError::Invalid(
                    PageCode::BadCampaign,
                    ValidationErrors(vec![FieldError::new("week", Rule::BadFormat)]),
                )
            })?,
    };
    let week_start = week_end - chrono::TimeDelta::days(6);
    let scope = o.scope();
    let groups = crate::dashboard::data::groups(&state.store, &scope).await?;
    let rows = state
        .store
        .campaigns(&scope)
        .await?
        .into_iter()
        .filter(|r| {
            r.cancelled_at.is_none()
                && r.campaign.starts_on <= week_end
                && r.campaign.ends_on >= week_start
        })
        .collect();
    let reports = campaigns::reports(&state.store, &groups, rows, week_end).await?;
    let body = export::weekly_workbook(&reports, week_start, week_end)?;
    o.audit(
        &state,
        "export",
        "campaigns-weekly.xlsx",
        &format!("{} campaigns, week ending {week_end}", reports.len()),
    )
    .await?;
    Ok((
        no_store(),
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"sotay-bao-cao-tuan-{}.xlsx\"",
                    week_end.format("%Y%m%d")
                ),
            ),
        ],
        body,
    )
        .into_response())
}
