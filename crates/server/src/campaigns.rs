//! The ward's campaigns (đợt cao điểm, issue 16): a target for a period,
//! set with `admin campaign add` or on the dashboard for the whole ward or
//! chosen blocks and groups; devices fetch their group's campaigns with
//! what the server counts for the group (`GET /v1/campaigns`), and the
//! dashboard ranks blocks and groups, draws the daily progress, lists the
//! groups that stalled and writes the weekly report.
//!
//! What counts is decided once, by `sotay_domain::campaign`; this module
//! reads what the store holds for it. A campaign's groups are resolved when
//! it is set and follow merges and splits (`places`), so its figures are
//! always those of today's units.

use crate::admin::AdminError;
use crate::places::{Audience, Groups};
use crate::store::steps::{Step, Val};
use crate::store::{CampaignRow, DeviceAuth, DynStore, NewAudit, Scope, StoreError, WardRow};
use chrono::{NaiveDate, TimeDelta};
use sotay_domain::campaign::{
    Campaign, CampaignKind, Goal, Progress, STALLED_DAYS, Standing, Tally,
};
use sotay_domain::household::Household;
use sotay_domain::inspection::Inspection;
use sotay_domain::tip::Tip;
use sotay_domain::wire::{CampaignsResponse, GroupCampaign, InspectedHousehold};
use sotay_domain::{CampaignId, HouseholdId, IdCount, ReportId, ReportKind, vietnam_date};
use std::collections::{BTreeMap, HashMap};

const INSERT_CAMPAIGN: &str = "INSERT INTO campaigns
     (id, ward_code, body, kind, starts_on, ends_on, audience, created_at, created_by)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const INSERT_GROUP: &str = "INSERT INTO campaign_groups (campaign_id, group_id) VALUES (?1, ?2)";
const CANCEL: &str = "UPDATE campaigns SET cancelled_at = ?2, cancelled_by = ?3
     WHERE id = ?1 AND ward_code = ?4 AND cancelled_at IS NULL AND ends_on >= ?5";
const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, username, action, target, detail, ward_code)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Devices keep showing a campaign this many days after it ended (its
/// final figures), then drop it.
pub const SHOWN_AFTER_END_DAYS: i64 = 7;

sotay_domain::code_enum! {
    /// Where a campaign stands on a day.
    pub enum CampaignState {
        Planned => "planned",
        Running => "running",
        Ended => "ended",
        Cancelled => "cancelled",
    }
}

/// Where campaign `row` stands on `today` (Vietnam).
pub fn state(row: &CampaignRow, today: NaiveDate) -> CampaignState {
    let c = &row.campaign;
    if row.cancelled_at.is_some() {
        CampaignState::Cancelled
    } else if today < c.starts_on {
        CampaignState::Planned
    } else if today > c.ends_on {
        CampaignState::Ended
    } else {
        CampaignState::Running
    }
}

/// A campaign to set.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub title: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub goal: Goal,
    /// Empty: the whole ward.
    pub to: &'a [Audience],
}

/// What setting a campaign did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub id: CampaignId,
    /// The groups it covers.
    pub groups: usize,
}

/// Sets a campaign of `ward` for the groups `new.to` names (all or
/// nothing), with `audit` in the same transaction. The rules are the
/// domain's ([`Campaign::validate`], on the audit's day in Vietnam).
pub async fn add(
    store: &DynStore,
    ward: &WardRow,
    new: NewCampaign<'_>,
    audit: NewAudit,
) -> Result<Added, AdminError> {
    let at = audit.at;
    let campaign = Campaign {
        id: CampaignId::new_v7(),
        title: new.title.trim().to_owned(),
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        goal: new.goal,
    };
    campaign
        .validate(vietnam_date(at))
        .map_err(AdminError::InvalidCampaign)?;
    let kind = campaign
        .kind()
        .ok_or_else(|| AdminError::BadPlace("unknown kind".into()))?;
    let groups = store.groups(&Scope::Ward(ward.code.clone())).await?;
    let (targets, audience) = crate::places::resolve_audience(&groups, new.to)?;
    let id = campaign.id.to_string();
    let mut steps = vec![Step::one(
        INSERT_CAMPAIGN,
        vec![
            (&id).into(),
            (&ward.code).into(),
            serde_json::to_string(&campaign)?.into(),
            kind.code().into(),
            campaign.starts_on.to_string().into(),
            campaign.ends_on.to_string().into(),
            (&audience).into(),
            at.into(),
            (&audit.username).into(),
        ],
    )];
    for g in &targets {
        steps.push(Step::one(INSERT_GROUP, vec![(&id).into(), g.into()]));
    }
    steps.push(audit_step(
        &audit,
        "add-campaign",
        &id,
        format!(
            "{} · {} · {}–{} · {audience}",
            campaign.title,
            kind.code(),
            campaign.starts_on,
            campaign.ends_on
        ),
        &ward.code,
    ));
    store
        .run_steps(&steps)
        .await?
        .map_err(|_| AdminError::Conflict)?;
    Ok(Added {
        id: campaign.id,
        groups: targets.len(),
    })
}

/// Calls off campaign `id` of `ward`, running or planned: it stays on the
/// dashboard, marked, and devices drop it at their next sync. A campaign
/// that is not the ward's, already called off or ended (its weekly
/// reports stand) is [`AdminError::UnknownCampaign`].
pub async fn cancel(
    store: &DynStore,
    ward: &WardRow,
    id: CampaignId,
    audit: NewAudit,
) -> Result<(), AdminError> {
    let steps = [
        Step::one(
            CANCEL,
            vec![
                id.to_string().into(),
                audit.at.into(),
                (&audit.username).into(),
                (&ward.code).into(),
                vietnam_date(audit.at).to_string().into(),
            ],
        ),
        audit_step(
            &audit,
            "cancel-campaign",
            &id.to_string(),
            String::new(),
            &ward.code,
        ),
    ];
    store
        .run_steps(&steps)
        .await?
        .map_err(|_| AdminError::UnknownCampaign(id.to_string()))
}

fn audit_step(a: &NewAudit, action: &str, target: &str, detail: String, ward: &str) -> Step {
    Step::one(
        INSERT_AUDIT,
        vec![
            a.at.into(),
            (&a.username).into(),
            action.into(),
            target.into(),
            detail.into(),
            Val::OptText(Some(ward.to_owned())),
        ],
    )
}

/// The campaign `id` as `scope` sees it.
pub async fn find(
    store: &DynStore,
    scope: &Scope,
    id: &str,
) -> Result<Option<CampaignRow>, StoreError> {
    Ok(store
        .campaigns(scope)
        .await?
        .into_iter()
        .find(|c| c.campaign.id.to_string() == id))
}

/// What the store holds of some groups for campaigns, read once however
/// many campaigns look at it: registers, and reports by kind.
#[derive(Default)]
struct Evidence {
    /// Group → register; a group with none is absent.
    registers: HashMap<String, Vec<Household>>,
    /// Group → (household, day inspected).
    inspections: HashMap<String, Vec<(HouseholdId, NaiveDate)>>,
    /// Group → (tip id, tip).
    tips: HashMap<String, Vec<(ReportId, Tip)>>,
    /// Tips the ward judged unfounded: they count toward nothing.
    unfounded: std::collections::HashSet<ReportId>,
    /// Group → counts, in receipt order.
    counts: HashMap<String, Vec<IdCount>>,
}

impl Evidence {
    /// Reads what `campaigns` need of `groups`. Reports received before
    /// the earliest period began (less a day for a clock's error) cannot
    /// count and are not read; counts are, since a count before the period
    /// is where a group started from.
    async fn read(
        store: &DynStore,
        groups: &[String],
        campaigns: &[&Campaign],
    ) -> Result<Self, StoreError> {
        let kinds: Vec<CampaignKind> = campaigns.iter().filter_map(|c| c.kind()).collect();
        let earliest = campaigns
            .iter()
            .map(|c| c.starts_on)
            .min()
            .map(|d| sotay_domain::vietnam_day_start(d) - TimeDelta::days(1));
        let mut e = Evidence::default();
        if groups.is_empty() || kinds.is_empty() {
            return Ok(e);
        }
        let has = |k| kinds.contains(&k);
        if has(CampaignKind::FireSafety) || has(CampaignKind::Id06) {
            for (g, id, data) in store.registers(groups).await? {
                let h: Household = serde_json::from_str(&data)
                    .map_err(|err| StoreError::Corrupt(format!("household {id}: {err}")))?;
                e.registers.entry(g).or_default().push(h);
            }
        }
        let read = |kind, from| store.group_reports(groups, kind, from);
        if has(CampaignKind::FireSafety) {
            for r in read(ReportKind::Inspection, earliest).await? {
                if let Ok(i) = serde_json::from_value::<Inspection>(r.payload) {
                    e.inspections
                        .entry(r.group)
                        .or_default()
                        .push((i.household_id, vietnam_date(i.inspected_at)));
                }
            }
        }
        if has(CampaignKind::Tips) {
            e.unfounded = store.unfounded_tips(groups).await?.into_iter().collect();
            for r in read(ReportKind::Tip, earliest).await? {
                if let Ok(t) = serde_json::from_value::<Tip>(r.payload) {
                    e.tips.entry(r.group).or_default().push((r.id, t));
                }
            }
        }
        if has(CampaignKind::Id06) {
            for r in read(ReportKind::IdCount, None).await? {
                if let Ok(c) = serde_json::from_value::<IdCount>(r.payload) {
                    e.counts.entry(r.group).or_default().push(c);
                }
            }
        }
        Ok(e)
    }

    /// A group's progress in campaign `c`.
    fn progress(&self, c: &Campaign, group: &str) -> Progress {
        let register = self.registers.get(group).map(Vec::as_slice);
        match c.goal {
            Goal::FireSafety { .. } => c.fire_progress(
                register,
                self.inspections.get(group).into_iter().flatten().copied(),
            ),
            Goal::Tips { .. } => c.tip_progress(self.counted_tips(c, group)),
            Goal::Id06 { .. } => c.id06_progress(
                self.daily_counts(group),
                register.map(|r| r.iter().map(|h| u64::from(h.residents)).sum()),
            ),
            Goal::Unknown => Progress::fixed(None),
        }
    }

    /// The group's figures per day (counts of one day under different
    /// reports, a merged group's, added up).
    fn daily_counts(&self, group: &str) -> Vec<IdCount> {
        sotay_domain::count::daily_totals(self.counts.get(group).into_iter().flatten().cloned())
    }

    fn counted_tips(&self, c: &Campaign, group: &str) -> Vec<ReportId> {
        self.tips
            .get(group)
            .into_iter()
            .flatten()
            .filter(|(id, t)| !self.unfounded.contains(id) && c.tip_day(*id, t.category).is_some())
            .map(|(id, _)| *id)
            .collect()
    }
}

/// `GET /v1/campaigns`: the campaigns of the device's group not called off
/// and not ended more than [`SHOWN_AFTER_END_DAYS`] days before `today`,
/// each with what the server counts for the group.
pub async fn for_device(
    store: &DynStore,
    device: &DeviceAuth,
    today: NaiveDate,
) -> Result<CampaignsResponse, StoreError> {
    let campaigns = store
        .group_campaigns(&device.group, today - TimeDelta::days(SHOWN_AFTER_END_DAYS))
        .await?;
    let refs: Vec<&Campaign> = campaigns.iter().collect();
    let group = [device.group.clone()];
    let e = Evidence::read(store, &group, &refs).await?;
    let g = &device.group;
    let campaigns = campaigns
        .iter()
        .map(|c| {
            let mut out = GroupCampaign {
                campaign: c.clone(),
                inspected: Vec::new(),
                tips: Vec::new(),
                count: None,
            };
            match c.goal {
                Goal::FireSafety { .. } => {
                    out.inspected = c
                        .first_inspections(e.inspections.get(g).into_iter().flatten().copied())
                        .into_iter()
                        .map(|(household_id, day)| InspectedHousehold { household_id, day })
                        .collect();
                }
                Goal::Tips { .. } => out.tips = e.counted_tips(c, g),
                Goal::Id06 { .. } => {
                    // The group's figures of its latest day by the end.
                    out.count = e.daily_counts(g).into_iter().rfind(|n| n.date <= c.ends_on);
                }
                Goal::Unknown => {}
            }
            out
        })
        .collect();
    Ok(CampaignsResponse { campaigns })
}

/// One unit's line of a campaign's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitLine {
    /// The group's label (or the block's, for a block).
    pub label: String,
    /// The block's label (for a group).
    pub block: String,
    pub standing: Standing,
    /// What `count` gained over the 7 days ending on the report's day.
    pub week_gain: i64,
    /// The last day the unit made progress, by the figures' day.
    pub last_gain: Option<NaiveDate>,
}

/// The figures of one campaign on a day, for the dashboard, the weekly
/// report and `admin campaigns`.
#[derive(Debug, Clone)]
pub struct CampaignReport {
    pub row: CampaignRow,
    /// The day the figures are of: today, or the end once it ended.
    pub as_of: NaiveDate,
    pub days_left: i64,
    pub total: Standing,
    /// What the whole campaign gained over the 7 days ending on the
    /// report's day.
    pub week_gain: i64,
    /// Best first (by progress against the target); units whose figures
    /// are unknown last.
    pub blocks: Vec<UnitLine>,
    pub groups: Vec<UnitLine>,
    /// The whole campaign on each day from its start to `as_of`.
    pub daily: Vec<(NaiveDate, Standing)>,
    /// Running campaigns that have run [`STALLED_DAYS`] days or more: the
    /// groups with known figures short of the target that made no progress
    /// on the last [`STALLED_DAYS`] days, in code order.
    pub stalled: Vec<UnitLine>,
}

impl CampaignReport {
    pub fn campaign(&self) -> &Campaign {
        &self.row.campaign
    }
}

/// The figures of `rows` on `today` (Vietnam), as they stand at the end
/// of `today` (or of each campaign's last day). `groups` are the scope's
/// current groups, for their labels.
pub async fn reports(
    store: &DynStore,
    groups: &Groups,
    rows: Vec<CampaignRow>,
    today: NaiveDate,
) -> Result<Vec<CampaignReport>, StoreError> {
    let mut ids: Vec<String> = rows.iter().flat_map(|r| r.groups.clone()).collect();
    ids.sort();
    ids.dedup();
    let campaigns: Vec<&Campaign> = rows.iter().map(|r| &r.campaign).collect();
    let e = Evidence::read(store, &ids, &campaigns).await?;
    Ok(rows
        .into_iter()
        .map(|row| report_of(&e, groups, row, today))
        .collect())
}

fn report_of(e: &Evidence, groups: &Groups, row: CampaignRow, today: NaiveDate) -> CampaignReport {
    let c = &row.campaign;
    let as_of = c.as_of(today);
    // The gain of the 7 days ending `today` (for a campaign that ended
    // within them, up to its end).
    let week_start = today - TimeDelta::days(7);
    let line = |label: String, block: String, units: &[&Progress]| {
        let standing = c.standing(Tally::on(units.iter().copied(), as_of));
        let before = Tally::on(units.iter().copied(), week_start);
        UnitLine {
            label,
            block,
            week_gain: standing.count as i64 - before.done as i64,
            last_gain: units.iter().filter_map(|p| p.last_gain(as_of)).max(),
            standing,
        }
    };
    // Each current group, by label; its block's label.
    let mut per_group: Vec<(String, String, Progress)> = row
        .groups
        .iter()
        .map(|id| {
            let label = groups.label(id);
            let block = groups
                .get(&label)
                .map_or_else(String::new, |g| groups.block_label(g));
            (label, block, e.progress(c, id))
        })
        .collect();
    per_group.sort_by(|a, b| a.0.cmp(&b.0));
    let all: Vec<&Progress> = per_group.iter().map(|(_, _, p)| p).collect();
    let mut by_block: BTreeMap<&str, Vec<&Progress>> = BTreeMap::new();
    for (_, block, p) in &per_group {
        by_block.entry(block).or_default().push(p);
    }
    let group_lines: Vec<UnitLine> = per_group
        .iter()
        .map(|(g, b, p)| line(g.clone(), b.clone(), &[p]))
        .collect();
    let stall_from = as_of - TimeDelta::days(STALLED_DAYS - 1);
    // Only once the campaign has run that long: on its first days every
    // group would be "stalled".
    let stalled = if c.running_on(today) && stall_from >= c.starts_on {
        group_lines
            .iter()
            // A group whose figures are unknown (no register) cannot be
            // judged: it is listed as such in the ranking, not here.
            .filter(|l| {
                !l.standing.reached
                    && l.standing.unknown == 0
                    && l.last_gain.is_none_or(|d| d < stall_from)
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut blocks: Vec<UnitLine> = by_block
        .iter()
        .map(|(b, ps)| line((*b).to_owned(), String::new(), ps))
        .collect();
    let mut ranked = group_lines;
    for lines in [&mut blocks, &mut ranked] {
        lines.sort_by(|a, b| {
            let known = |l: &UnitLine| l.standing.unknown == 0 && l.standing.of > 0;
            known(b)
                .cmp(&known(a))
                .then(b.standing.ratio.total_cmp(&a.standing.ratio))
                .then(a.label.cmp(&b.label))
        });
    }
    let total = line(String::new(), String::new(), &all);
    let daily = c
        .starts_on
        .iter_days()
        .take_while(|d| *d <= as_of)
        .map(|d| (d, c.standing(Tally::on(all.iter().copied(), d))))
        .collect();
    CampaignReport {
        as_of,
        days_left: c.days_left(today),
        total: total.standing,
        week_gain: total.week_gain,
        blocks,
        groups: ranked,
        daily,
        stalled,
        row,
    }
}
