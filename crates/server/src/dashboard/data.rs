//! The figures behind each page, computed from what the store holds.
//! Everything here is plain data (no HTML), so the pages and the exports
//! show the same numbers and tests can check them without a browser.

use crate::store::{DynStore, ExportRow, Scope, StoreError, TipQuery};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use sotay_domain::inspection::{Answer, ChecklistTemplate, Inspection, InspectionResult};
use sotay_domain::tip::{Tip, TipCategory, Urgency};
use sotay_domain::wire::{DeviceId, WardStatus};
use sotay_domain::{IdCount, ReportId};
use std::collections::{BTreeMap, HashMap};

pub use crate::places::Groups;

pub async fn groups(store: &DynStore, scope: &Scope) -> Result<Groups, StoreError> {
    Ok(Groups::new(store.groups(scope).await?, scope))
}

/// One tip as the inbox lists it.
#[derive(Debug, Clone)]
pub struct TipRow {
    pub id: ReportId,
    pub group: String,
    pub block: String,
    pub rev: u32,
    pub received_at: DateTime<Utc>,
    /// `None` when the payload no longer parses as a tip (shown raw).
    pub tip: Option<Tip>,
    /// The ward's latest decision; `None` = new, not yet looked at.
    pub status: Option<WardStatus>,
    pub note: Option<String>,
}

impl TipRow {
    pub fn category(&self) -> Option<TipCategory> {
        self.tip.as_ref().map(|t| t.category)
    }
    pub fn urgency(&self) -> Urgency {
        self.tip.as_ref().map_or(Urgency::Normal, |t| t.urgency)
    }
}

/// The inbox's filters, from the query string; empty means "any".
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TipFilter {
    #[serde(default)]
    pub category: String,
    /// A ward status code, or `new` for tips without a decision.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub block: String,
    #[serde(default)]
    pub group: String,
    /// Received on or after this day (Vietnam), `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The inbox page, from 1.
    #[serde(default)]
    pub page: String,
}

impl TipFilter {
    /// The filter as a store query. `None` when a value names nothing
    /// this server knows (a category, status or urgency code that does
    /// not exist, or a date that is not one): such a filter lists nothing.
    /// An empty value means "any".
    pub fn query(&self, groups: &Groups, scope: &Scope) -> Option<TipQuery> {
        fn code<T: std::str::FromStr>(s: &str) -> Option<Option<T>> {
            let s = s.trim();
            if s.is_empty() {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        }
        let day = |s: &str| code::<NaiveDate>(s);
        let text = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let status = match self.status.trim() {
            "" => None,
            "new" => Some(None),
            s => Some(Some(s.parse::<WardStatus>().ok()?)),
        };
        // A block or group this officer does not see lists nothing.
        let block = match text(&self.block) {
            Some(b) => Some(groups.block_id_of(&b)?.to_owned()),
            None => None,
        };
        let group = match text(&self.group) {
            Some(g) => Some(groups.id_of(&g)?.to_owned()),
            None => None,
        };
        Some(TipQuery {
            ward: scope.ward().map(str::to_owned),
            category: code(&self.category)?,
            status,
            urgency: code(&self.urgency)?,
            block,
            group,
            received_from: day(&self.from)?.map(sotay_domain::vietnam_day_start),
            received_before: day(&self.to)?
                .and_then(|d| d.succ_opt())
                .map(sotay_domain::vietnam_day_start),
        })
    }

    /// The page asked for, from 1; anything else is the first.
    pub fn page(&self) -> u64 {
        self.page
            .trim()
            .parse()
            .ok()
            .filter(|&p| p >= 1)
            .unwrap_or(1)
    }
}

/// Tips per inbox page.
pub const INBOX_PAGE: u32 = 50;

/// One page of the inbox, and what the filter holds in all.
#[derive(Debug, Clone, Default)]
pub struct TipPage {
    /// Newest received first.
    pub rows: Vec<TipRow>,
    /// Tips matching the whole filter.
    pub total: u64,
    /// Tips matching every filter but the status, per status code, `new`
    /// first: how the filtered tips divide (and what choosing another
    /// status would list).
    pub counts: Vec<(String, u64)>,
}

/// One page (`page` from 1, `per_page` tips) of the tips matching
/// `filter`, filtered, counted and paged by the store.
pub async fn tip_page(
    store: &DynStore,
    groups: &Groups,
    filter: &TipFilter,
    page: u64,
    per_page: u32,
) -> Result<TipPage, StoreError> {
    let scope = groups.scope();
    let Some(query) = filter.query(groups, scope) else {
        return Ok(TipPage {
            counts: status_counts(&[]),
            ..Default::default()
        });
    };
    let offset = page.saturating_sub(1).saturating_mul(u64::from(per_page));
    let found = store.tip_inbox(&query, offset, per_page).await?;
    Ok(TipPage {
        rows: found
            .rows
            .into_iter()
            .map(|r| TipRow {
                id: r.report.id,
                block: block_of(groups, &r.report.group),
                group: groups.label(&r.report.group),
                rev: r.report.rev,
                received_at: r.report.receipt.received_at,
                tip: serde_json::from_value(r.report.payload).ok(),
                status: r.status,
                note: r.note,
            })
            .collect(),
        total: found.total,
        counts: status_counts(&found.by_status),
    })
}

/// Every tip matching `filter`, newest first, read a page at a time (for
/// the exports, which are whole by nature).
pub async fn all_tips(
    store: &DynStore,
    groups: &Groups,
    filter: &TipFilter,
) -> Result<Vec<TipRow>, StoreError> {
    const CHUNK: u32 = 1000;
    let mut out = Vec::new();
    for page in 1.. {
        let got = tip_page(store, groups, filter, page, CHUNK).await?;
        let done = got.rows.len() < CHUNK as usize;
        out.extend(got.rows);
        if done {
            break;
        }
    }
    Ok(out)
}

/// Counts per ward status code, `new` first, every status present.
fn status_counts(found: &[(Option<WardStatus>, u64)]) -> Vec<(String, u64)> {
    std::iter::once(None)
        .chain(WardStatus::ALL.iter().copied().map(Some))
        .map(|s| {
            let n = found.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
            (s.map_or("new", |s| s.code()).to_owned(), n)
        })
        .collect()
}

/// The block label of a group, by the group's id.
fn block_of(groups: &Groups, group_id: &str) -> String {
    groups
        .get(&groups.label(group_id))
        .map_or_else(String::new, |g| groups.block_label(g))
}

/// The block label of a group, by the group's label.
fn block_of_label(groups: &Groups, label: &str) -> String {
    groups
        .get(label)
        .map_or_else(String::new, |g| groups.block_label(g))
}

/// The ward code of the group labelled `label`.
fn ward_of_label(groups: &Groups, label: &str) -> String {
    groups
        .get(label)
        .map_or_else(String::new, |g| g.ward_code.clone())
}

/// One inspection report at its newest revision.
#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub id: ReportId,
    pub group: String,
    pub block: String,
    pub inspection: Inspection,
    pub result: InspectionResult,
}

/// Inspections, parsed and scored against the template each names
/// (published or built in); those whose payload does not parse, or whose
/// template is unknown, are skipped (ingest checked both, so this only
/// happens with corrupt data).
pub fn inspections(
    rows: Vec<ExportRow>,
    groups: &Groups,
    templates: &[ChecklistTemplate],
) -> Vec<InspectionRow> {
    rows.into_iter()
        .filter_map(|r| {
            let inspection: Inspection = serde_json::from_value(r.payload).ok()?;
            let template = ChecklistTemplate::resolve(
                templates,
                &inspection.template.id,
                inspection.template.version,
            )?;
            Some(InspectionRow {
                id: r.id,
                block: block_of(groups, &r.group),
                group: groups.label(&r.group),
                result: inspection.result(&template),
                inspection,
            })
        })
        .collect()
}

/// Fire-safety figures of one group (or a block, or the ward).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FireFigures {
    pub inspected: usize,
    /// Households in the registers loaded centrally (`admin households
    /// import`); `None` when the group has no register, or for a block or
    /// the ward when any of its groups has none: a partial sum would pass
    /// for a total.
    pub registered: Option<usize>,
    pub passing: usize,
    pub overdue_violations: usize,
    pub reinspect_due: usize,
}

impl FireFigures {
    fn add(&mut self, o: &FireFigures) {
        self.inspected += o.inspected;
        self.registered = match (self.registered, o.registered) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.passing += o.passing;
        self.overdue_violations += o.overdue_violations;
        self.reinspect_due += o.reinspect_due;
    }

    pub fn pass_share(&self) -> Option<f64> {
        (self.inspected > 0).then(|| self.passing as f64 / self.inspected as f64)
    }
}

/// One open violation past its deadline.
#[derive(Debug, Clone)]
pub struct OverdueViolation {
    pub group: String,
    pub household: String,
    pub item: String,
    pub fix: String,
    pub deadline: NaiveDate,
}

/// The whole fire-safety page.
#[derive(Debug, Clone, Default)]
pub struct FireReport {
    /// Per group, in code order; with the block of each.
    pub groups: Vec<(String, String, FireFigures)>,
    pub blocks: Vec<(String, FireFigures)>,
    /// Per ward, in code order: the province's roll-up.
    pub wards: Vec<(String, FireFigures)>,
    pub ward: FireFigures,
    /// (item code, failures), most failed first.
    pub failing_items: Vec<(String, usize)>,
    pub overdue: Vec<OverdueViolation>,
    /// (group, household, re-inspection day), soonest first.
    pub reinspections: Vec<(String, String, NaiveDate)>,
}

/// The ward's fire-safety figures on `today` (a Vietnamese date). A
/// household's state is its latest inspection: a later passing inspection
/// closes the violations of an earlier one. "Due this week" means falling
/// due ([`sotay_domain::inspection::Inspection::reinspection_due`], the
/// definition the phone uses too) by this Sunday, overdue ones included.
pub fn fire_report(
    inspections: &[InspectionRow],
    registered: &HashMap<String, usize>,
    groups: &Groups,
    today: NaiveDate,
) -> FireReport {
    // A household is known by its group and its id: a household id is
    // chosen by the device, so two groups' unregistered households could
    // share one, and neither may stand for the other.
    let mut latest: HashMap<(String, String), &InspectionRow> = HashMap::new();
    for i in inspections {
        let key = (i.group.clone(), i.inspection.household_id.0.to_string());
        match latest.get(&key) {
            Some(prev) if prev.inspection.inspected_at >= i.inspection.inspected_at => {}
            _ => {
                latest.insert(key, i);
            }
        }
    }
    let week_end = today + TimeDelta::days(6 - i64::from(today.weekday().num_days_from_monday()));
    let mut per_group: BTreeMap<String, FireFigures> = BTreeMap::new();
    for g in groups.keys() {
        per_group.insert(
            g.clone(),
            FireFigures {
                registered: registered.get(g).copied(),
                ..Default::default()
            },
        );
    }
    let mut report = FireReport::default();
    let mut fails: HashMap<String, usize> = HashMap::new();
    let mut households: Vec<(&(String, String), &&InspectionRow)> = latest.iter().collect();
    households.sort_by(|a, b| a.0.cmp(b.0));
    for ((_, hh), i) in households {
        let f = per_group.entry(i.group.clone()).or_default();
        f.inspected += 1;
        if i.result == InspectionResult::Pass {
            f.passing += 1;
        }
        for a in &i.inspection.answers {
            if a.answer == Answer::Fail {
                *fails.entry(a.item.clone()).or_default() += 1;
            }
        }
        for v in &i.inspection.violations {
            if v.deadline < today {
                f.overdue_violations += 1;
                report.overdue.push(OverdueViolation {
                    group: i.group.clone(),
                    household: hh.clone(),
                    item: v.item.clone(),
                    fix: v.fix.clone(),
                    deadline: v.deadline,
                });
            }
        }
        if let Some(d) = i.inspection.reinspection_due()
            && d <= week_end
        {
            f.reinspect_due += 1;
            report.reinspections.push((i.group.clone(), hh.clone(), d));
        }
    }
    let mut blocks: BTreeMap<String, FireFigures> = BTreeMap::new();
    // Sums start from a known zero so that `add` can tell "no register"
    // apart from "nothing added yet".
    let zero = FireFigures {
        registered: Some(0),
        ..Default::default()
    };
    report.ward = zero.clone();
    let mut wards: BTreeMap<String, FireFigures> = BTreeMap::new();
    for (g, f) in &per_group {
        blocks
            .entry(block_of_label(groups, g))
            .or_insert_with(|| zero.clone())
            .add(f);
        wards
            .entry(ward_of_label(groups, g))
            .or_insert_with(|| zero.clone())
            .add(f);
        report.ward.add(f);
    }
    report.wards = wards.into_iter().collect();
    report.groups = per_group
        .into_iter()
        .map(|(g, f)| (block_of_label(groups, &g), g, f))
        .collect();
    report.blocks = blocks.into_iter().collect();
    report.failing_items = fails.into_iter().collect();
    report
        .failing_items
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    report.overdue.sort_by_key(|v| v.deadline);
    report.reinspections.sort_by_key(|r| r.2);
    report
}

/// Đề án 06 figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdFigures {
    pub residents: u32,
    pub collected: u32,
    pub activated: u32,
}

impl IdFigures {
    fn add(&mut self, o: &IdFigures) {
        self.residents += o.residents;
        self.collected += o.collected;
        self.activated += o.activated;
    }
}

/// The whole Đề án 06 page.
#[derive(Debug, Clone, Default)]
pub struct IdReport {
    /// (block, group, latest count's day, figures), groups that reported.
    pub groups: Vec<(String, String, NaiveDate, IdFigures)>,
    pub blocks: Vec<(String, IdFigures)>,
    /// Per ward, in code order: the province's roll-up.
    pub wards: Vec<(String, IdFigures)>,
    pub ward: IdFigures,
    /// The ward's totals per reporting day, each group's latest count on
    /// or before that day carried forward.
    pub over_time: Vec<(NaiveDate, IdFigures)>,
}

pub fn id_report(rows: Vec<ExportRow>, groups: &Groups) -> IdReport {
    // group → day → figures (one count per group per day; newest revision).
    let mut by_group: BTreeMap<String, BTreeMap<NaiveDate, IdFigures>> = BTreeMap::new();
    for r in rows {
        let Ok(c) = serde_json::from_value::<IdCount>(r.payload) else {
            continue;
        };
        // A group merged into another counts in it: its day adds to the
        // day of the group it became.
        by_group
            .entry(groups.label(&r.group))
            .or_default()
            .entry(c.date)
            .or_default()
            .add(&IdFigures {
                residents: c.residents,
                collected: c.collected,
                activated: c.activated,
            });
    }
    let mut report = IdReport::default();
    let mut blocks: BTreeMap<String, IdFigures> = BTreeMap::new();
    let mut wards: BTreeMap<String, IdFigures> = BTreeMap::new();
    let mut days: Vec<NaiveDate> = by_group.values().flat_map(|d| d.keys().copied()).collect();
    days.sort();
    days.dedup();
    for (g, counts) in &by_group {
        if let Some((day, f)) = counts.iter().next_back() {
            let block = block_of_label(groups, g);
            blocks.entry(block.clone()).or_default().add(f);
            wards.entry(ward_of_label(groups, g)).or_default().add(f);
            report.ward.add(f);
            report.groups.push((block, g.clone(), *day, *f));
        }
    }
    for day in days {
        let mut total = IdFigures::default();
        for counts in by_group.values() {
            if let Some((_, f)) = counts.range(..=day).next_back() {
                total.add(f);
            }
        }
        report.over_time.push((day, total));
    }
    report.blocks = blocks.into_iter().collect();
    report.wards = wards.into_iter().collect();
    report
}

/// Registered households per group, for groups with a register.
pub async fn registered_by_group(
    store: &DynStore,
    groups: &Groups,
    scope: &Scope,
) -> Result<HashMap<String, usize>, StoreError> {
    Ok(store
        .household_counts(scope)
        .await?
        .into_iter()
        .map(|(g, n)| (groups.label(&g), usize::try_from(n).unwrap_or(usize::MAX)))
        .collect())
}

/// One device for the devices page.
#[derive(Debug, Clone)]
pub struct DeviceView {
    pub id: DeviceId,
    pub name: String,
    pub group: String,
    pub block: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked: bool,
    pub last_push: Option<DateTime<Utc>>,
    /// Changes still waiting on the device at its last contact: what a
    /// revocation (which wipes the phone) would lose.
    pub pending_at_last_seen: Option<i64>,
}

pub async fn devices(
    store: &DynStore,
    groups: &Groups,
    scope: &Scope,
) -> Result<Vec<DeviceView>, StoreError> {
    let last: HashMap<DeviceId, DateTime<Utc>> =
        store.last_push_per_device().await?.into_iter().collect();
    let mut out: Vec<DeviceView> = store
        .devices(scope)
        .await?
        .into_iter()
        .map(|d| DeviceView {
            last_push: last.get(&d.id).copied(),
            block: block_of(groups, &d.group),
            id: d.id,
            name: d.name,
            group: groups.label(&d.group),
            enrolled_at: d.enrolled_at,
            revoked: d.revoked_at.is_some(),
            pending_at_last_seen: d.pending_at_last_seen,
        })
        .collect();
    out.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then(a.enrolled_at.cmp(&b.enrolled_at))
    });
    Ok(out)
}

/// A group and the last time any of its active devices pushed data.
pub type GroupLastSync = (String, Option<DateTime<Utc>>);

/// Groups whose active devices have not pushed for `days` days (or never),
/// and groups with no active device at all.
pub fn stale_groups(
    devices: &[DeviceView],
    groups: &Groups,
    days: i64,
    now: DateTime<Utc>,
) -> (Vec<GroupLastSync>, Vec<String>) {
    let mut latest: BTreeMap<String, Option<DateTime<Utc>>> = BTreeMap::new();
    for d in devices.iter().filter(|d| !d.revoked) {
        let e = latest.entry(d.group.clone()).or_insert(None);
        *e = (*e).max(d.last_push);
    }
    let cutoff = now - TimeDelta::days(days);
    let stale = latest
        .iter()
        .filter(|(_, t)| t.is_none_or(|t| t < cutoff))
        .map(|(g, t)| (g.clone(), *t))
        .collect();
    let mut without: Vec<String> = groups
        .keys()
        .filter(|g| !latest.contains_key(*g))
        .cloned()
        .collect();
    without.sort();
    (stale, without)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotay_domain::ids::HouseholdId;
    use sotay_domain::inspection::{ItemAnswer, TemplateRef, Violation};

    fn row(
        group: &str,
        fail: bool,
        deadline: Option<NaiveDate>,
        reinspect_on: Option<NaiveDate>,
    ) -> InspectionRow {
        let t = ChecklistTemplate::household_v1();
        let inspection = Inspection {
            household_id: HouseholdId::new_v7(),
            inspected_at: DateTime::parse_from_rfc3339("2026-11-30T03:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            inspector: "Tổ trưởng".into(),
            template: TemplateRef {
                id: t.id.clone(),
                version: t.version,
            },
            answers: vec![ItemAnswer {
                item: "electrical".into(),
                answer: if fail { Answer::Fail } else { Answer::Pass },
                note: None,
                photos: Vec::new(),
            }],
            violations: deadline
                .map(|deadline| Violation {
                    item: "electrical".into(),
                    fix: "Đi lại dây".into(),
                    deadline,
                })
                .into_iter()
                .collect(),
            reinspect_on,
            acknowledged_by: None,
            notes: None,
        };
        InspectionRow {
            id: ReportId::new_v7(),
            group: group.into(),
            block: "k01".into(),
            result: inspection.result(&t),
            inspection,
        }
    }

    #[test]
    fn due_this_week_is_the_one_definition_the_phone_uses() {
        // Tuesday 1 December 2026: the week ends on Sunday the 6th.
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
        let rows = vec![
            // Failed, no day set: due on its fix deadline, this Friday.
            row("k01-t01", true, Some(day(4)), None),
            // Failed, fix due next month, but the leader set this Saturday.
            row("k01-t01", true, Some(day(28)), Some(day(5))),
            // Failed, fix due next week: not yet.
            row("k01-t01", true, Some(day(9)), None),
            // Passed with nothing to come back for.
            row("k01-t01", false, None, None),
        ];
        let report = fire_report(
            &rows,
            &HashMap::new(),
            &Groups::new(Vec::new(), &Scope::Province),
            day(1),
        );
        assert_eq!(report.ward.reinspect_due, 2);
        let due: Vec<NaiveDate> = report.reinspections.iter().map(|r| r.2).collect();
        assert_eq!(due, vec![day(4), day(5)]);
        for (r, d) in rows
            .iter()
            .zip([Some(day(4)), Some(day(5)), Some(day(9)), None])
        {
            assert_eq!(r.inspection.reinspection_due(), d);
        }
    }
}
