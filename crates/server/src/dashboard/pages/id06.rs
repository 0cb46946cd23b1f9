//! Đề án 06 figures and their chart.

use super::*;
use crate::AppState;
use crate::dashboard::data;
use crate::dashboard::{Officer, PageError};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use sotay_domain::Lang;

pub async fn id06_data(
    state: &AppState,
    scope: &crate::store::Scope,
) -> Result<data::IdReport, PageError> {
    let groups = data::groups(&state.store, scope).await?;
    Ok(data::id_report(
        state
            .store
            .export(scope, Some(sotay_domain::ReportKind::IdCount))
            .await?,
        &groups,
    ))
}

pub async fn id06(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    let l = o.lang;
    let r = id06_data(&state, &o.scope()).await?;
    let share = |a: u32, b: u32| percent((b > 0).then(|| f64::from(a) / f64::from(b)));
    let table = |rows: Vec<(String, data::IdFigures)>| {
        html! { div.scroll { table {
            thead { tr { th { "" } th { (text::RESIDENTS.get(l)) } th { (text::COLLECTED.get(l)) } th { (text::ACTIVATED.get(l)) } th { (text::ACTIVATED_COLLECTED.get(l)) } } }
            tbody { @for (name, f) in &rows { tr { td { (name) } td { (f.residents) } td { (f.collected) " (" (share(f.collected, f.residents)) ")" } td { (f.activated) " (" (share(f.activated, f.residents)) ")" } td { (share(f.activated, f.collected)) } } } }
        } } }
    };
    let rolled_up = super::rolled_up(&state, &o).await?;
    let wards = match o.ward {
        None => super::ward_names(&state).await?,
        Some(_) => Default::default(),
    };
    let body = html! {
        (rolled_up)
        ul.counts {
            li { (text::RESIDENTS.get(l)) ": " strong #id-residents { (r.ward.residents) } }
            li { (text::COLLECTED.get(l)) ": " strong #id-collected { (r.ward.collected) } }
            li { (text::ACTIVATED.get(l)) ": " strong #id-activated { (r.ward.activated) } }
        }
        p.exports { (text::EXPORT.get(l)) ": " a href="/dashboard/export/id06.csv" { "CSV" } " · " a href="/dashboard/export/id06.xlsx" { "XLSX" } }
        h2 { (text::WARD_OVER_TIME.get(l)) }
        (chart(l, &r.over_time))
        @if o.ward.is_none() {
            h2 { (text::BY_WARD.get(l)) }
            div #by-ward { (table(r.wards.iter().map(|(w, f)| (wards.get(w).cloned().unwrap_or_else(|| w.clone()), *f)).collect())) }
        }
        h2 { (o.by_block()) }
        (table(r.blocks.clone()))
        h2 { (text::BY_GROUP_LATEST_COUNT.get(l)) }
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
        (text::RESIDENTS.get(l), "#888", |f| f.residents),
        (text::COLLECTED.get(l), "#1f6fb2", |f| f.collected),
        (text::ACTIVATED.get(l), "#2a9d3a", |f| f.activated),
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
