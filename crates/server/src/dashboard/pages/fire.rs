//! Fire-safety figures (PCCC) and a household's inspections.

use super::*;
use crate::AppState;
use crate::dashboard::data;
use crate::dashboard::{Officer, PageError};
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use sotay_domain::inspection::{ChecklistTemplate, HOUSEHOLD_TEMPLATE_ID};
use sotay_domain::{Labelled, Lang};
use std::collections::HashMap;

pub async fn fire(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    let l = o.lang;
    let report = fire_data(&state, &o.scope()).await?;
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
    let rolled_up = super::rolled_up(&state, &o).await?;
    let wards = match o.ward {
        None => super::ward_names(&state).await?,
        Some(_) => Default::default(),
    };
    let body = html! {
        (rolled_up)
        p.note { (text::REGISTERED_HOUSEHOLDS_COME_FROM.get(l)) }
        ul.counts {
            li { (text::HOUSEHOLDS_INSPECTED.get(l)) ": " strong #fire-inspected { (w.inspected) } " " (registered(l, w.registered)) }
            li { (text::PASSING.get(l)) ": " strong { (percent(w.pass_share())) } }
            li { (text::OVERDUE_VIOLATIONS.get(l)) ": " strong { (w.overdue_violations) } }
            li { (text::RE_INSPECTIONS_DUE_THIS.get(l)) ": " strong { (w.reinspect_due) } }
        }
        p.exports { (text::EXPORT.get(l)) ": " a href="/dashboard/export/fire.csv" { "CSV" } " · " a href="/dashboard/export/fire.xlsx" { "XLSX" } }
        h2 { (text::FAILING_ITEMS.get(l)) }
        @if report.failing_items.is_empty() { p.note { (text::NO_ITEM_FAILED.get(l)) } }
        ol { @for (code, n) in &report.failing_items { li { (item_label(code)) ": " (n) } } }
        h2 { (text::VIOLATIONS_PAST_THEIR_DEADLINE.get(l)) }
        table { thead { tr { th { (o.group_word()) } th { (text::HOUSEHOLD.get(l)) } th { (text::ITEM.get(l)) } th { (text::FIX.get(l)) } th { (text::DEADLINE.get(l)) } } }
            tbody { @for v in &report.overdue { tr { td { (v.group) } td { a href=(format!("/dashboard/fire/household/{}/{}", v.group, v.household)) { (excerpt(&v.household, 8)) } } td { (item_label(&v.item)) } td { (v.fix) } td { (v.deadline.format("%d/%m/%Y")) } } } } }
        h2 { (text::RE_INSPECTIONS_DUE_BY.get(l)) }
        p.note #reinspection-due-means { (text::DUE_FOR_RE_INSPECTION.get(l)) (sotay_domain::labels::REINSPECTION_DUE_MEANS.get(l)) "." }
        ul { @for (g, hh, d) in &report.reinspections { li { (d.format("%d/%m/%Y")) " · " (g) " · " a href=(format!("/dashboard/fire/household/{g}/{hh}")) { (excerpt(hh, 8)) } } } }
        @if o.ward.is_none() {
            h2 { (text::BY_WARD.get(l)) }
            div #by-ward { (fire_table(l, report.wards.iter().map(|(w, f)| (wards.get(w).cloned().unwrap_or_else(|| w.clone()), f)))) }
        }
        h2 { (o.by_block()) }
        (fire_table(l, report.blocks.iter().map(|(b, f)| (b.clone(), f))))
        h2 { (o.by_group()) }
        (fire_table(l, report.groups.iter().filter(|(_, _, f)| f.inspected > 0).map(|(_, g, f)| (g.clone(), f))))
    };
    Ok(layout(&o, text::FIRE_SAFETY.get(l), body))
}

pub async fn fire_data(
    state: &AppState,
    scope: &crate::store::Scope,
) -> Result<data::FireReport, PageError> {
    let groups = data::groups(&state.store, scope).await?;
    let inspections = data::inspections(
        state
            .store
            .export(scope, Some(sotay_domain::ReportKind::Inspection))
            .await?,
        &groups,
        &state.store.templates().await?,
    );
    Ok(data::fire_report(
        &inspections,
        &data::registered_by_group(&state.store, &groups, scope).await?,
        &groups,
        sotay_domain::vietnam_date(Utc::now()),
    ))
}

/// "/ N" after the inspected count, or plainly that there is no register:
/// never an estimate.
fn registered(l: Lang, n: Option<usize>) -> String {
    match n {
        Some(n) => format!("/ {n}"),
        None => format!("({})", text::NO_REGISTER_YET.get(l)),
    }
}

fn fire_table<'a>(l: Lang, rows: impl Iterator<Item = (String, &'a data::FireFigures)>) -> Markup {
    html! {
        div.scroll { table {
            thead { tr { th { "" } th { (text::INSPECTED_REGISTERED.get(l)) } th { (text::PASSING.get(l)) } th { (text::OVERDUE.get(l)) } th { (text::RE_INSPECT.get(l)) } } }
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
    let groups = data::groups(&state.store, &o.scope()).await?;
    // The group is named by its label; one this officer does not see is
    // not found.
    let group_id = groups.id_of(&group).ok_or(PageError::NotFound)?.to_owned();
    let templates = state.store.templates().await?;
    let mut rows: Vec<data::InspectionRow> = data::inspections(
        state
            .store
            .household_inspections(&group_id, household)
            .await?,
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
                crate::dashboard::photos::gallery(
                    &state,
                    &o,
                    r.id,
                    &a.photos.iter().collect::<Vec<_>>(),
                )
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
        p { (text::HOUSEHOLD.get(l)) " " code { (id) } " · " (o.group_word()) " " (rows[0].group) }
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
                @if let Some(d) = r.inspection.reinspection_due() { p.due { (text::RE_INSPECTION_DUE.get(l)) ": " (d.format("%d/%m/%Y")) " (" (sotay_domain::labels::REINSPECTION_DUE_MEANS.get(l)) ")" } }
                @if let Some(n) = &r.inspection.notes { p { (n) } }
            }
        }
    };
    Ok(layout(&o, text::HOUSEHOLD_INSPECTIONS.get(l), body))
}
