//! Campaigns (đợt cao điểm): a target the ward sets for a period, checked
//! daily and judged weekly, group by group: a fire-safety drive over every
//! home with a business before Tết, a push to activate level-2 VNeID
//! accounts, a month of tips on drugs.
//!
//! This module holds the one definition of what counts, used by the
//! server (the dashboard's figures, the weekly report) and by the device
//! (the leader's card, which works offline):
//! - **fire safety**: a household of the group's register in scope
//!   ([`HouseholdScope`]) counts once it has an inspection on a day of the
//!   period (a Vietnamese date); `target` is the share of them, in percent;
//! - **Đề án 06**: the group's latest count on or before a day gives its
//!   residents and its activated accounts; `target` is the share of
//!   residents activated by the end, in percent. A group that has not
//!   counted yet is measured against its register's residents;
//! - **tips**: a tip of the chosen categories counts on the day it was
//!   written (its id's UUID v7 time, which the device and the server both
//!   see); `target` is a number of tips **per group**, so a block's target
//!   is the target times its groups.
//!
//! A unit's figures over the period are a [`Progress`] (where it stood when
//! the period began, and from each day something changed); units add up
//! into a [`Tally`]; [`Campaign::standing`] says how far a tally is from
//! the target.

use crate::count::IdCount;
use crate::household::{Household, HouseholdInput, address_order};
use crate::ids::{CampaignId, HouseholdId, ReportId};
use crate::tip::TipCategory;
use crate::validation::{Checker, Rule, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// At most this many characters in a title.
pub const TITLE_MAX: usize = 120;
/// The longest period, in days (a campaign is a drive, not a standing rule).
pub const PERIOD_MAX_DAYS: i64 = 366;
/// The most tips per group a tip campaign may ask for.
pub const TIPS_TARGET_MAX: u32 = 1000;
/// Groups with no progress for this many days (today included) are
/// listed for the commander.
pub const STALLED_DAYS: i64 = 3;

code_enum! {
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    /// What a campaign measures.
    pub enum CampaignKind {
        FireSafety => "fire-safety",
        Id06 => "id06",
        Tips => "tips",
    }
}

code_enum! {
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    /// Which households of the register a fire-safety campaign covers.
    #[derive(Default)]
    pub enum HouseholdScope {
        /// Every household.
        #[default]
        All => "all",
        /// Homes with a business (Nghị định 136/2020).
        Business => "business",
        /// Homes that rent out rooms (nhà trọ).
        RentsRooms => "rents-rooms",
    }
}

impl HouseholdScope {
    /// Whether `h` is one of the households this scope covers.
    pub fn covers(self, h: &HouseholdInput) -> bool {
        match self {
            HouseholdScope::All => true,
            HouseholdScope::Business => h.has_business,
            HouseholdScope::RentsRooms => h.rents_rooms,
        }
    }
}

/// What a campaign aims at. The tag is the [`CampaignKind`]'s code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Goal {
    /// `target` percent of the households in scope inspected within the period.
    FireSafety {
        target: u32,
        #[serde(default)]
        households: HouseholdScope,
    },
    /// `target` percent of the residents with an activated (level 2)
    /// account by the end.
    Id06 { target: u32 },
    /// `target` tips per group within the period, of `categories` (every
    /// category when empty).
    Tips {
        target: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<TipCategory>,
    },
    /// A kind from a newer server: the device skips it.
    #[serde(other)]
    Unknown,
}

impl Goal {
    /// The kind; `None` for a kind this build does not know.
    pub fn kind(&self) -> Option<CampaignKind> {
        match self {
            Goal::FireSafety { .. } => Some(CampaignKind::FireSafety),
            Goal::Id06 { .. } => Some(CampaignKind::Id06),
            Goal::Tips { .. } => Some(CampaignKind::Tips),
            Goal::Unknown => None,
        }
    }

    /// A goal from the parts a form or a command line gives: `households`
    /// counts for fire safety only, `categories` for tips only.
    pub fn of(
        kind: CampaignKind,
        target: u32,
        households: HouseholdScope,
        categories: Vec<TipCategory>,
    ) -> Goal {
        match kind {
            CampaignKind::FireSafety => Goal::FireSafety { target, households },
            CampaignKind::Id06 => Goal::Id06 { target },
            CampaignKind::Tips => Goal::Tips { target, categories },
        }
    }

    pub fn target(&self) -> u32 {
        match self {
            Goal::FireSafety { target, .. } | Goal::Id06 { target } | Goal::Tips { target, .. } => {
                *target
            }
            Goal::Unknown => 0,
        }
    }
}

/// A campaign as the ward set it and as devices receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Campaign {
    pub id: CampaignId,
    pub title: String,
    /// The first day (Vietnam), inclusive.
    pub starts_on: NaiveDate,
    /// The last day (Vietnam), inclusive.
    pub ends_on: NaiveDate,
    #[serde(flatten)]
    pub goal: Goal,
}

/// Figures of one unit on one day: households inspected of those in scope,
/// residents activated of the residents, or tips written of those needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Counts {
    pub done: u64,
    pub total: u64,
}

/// A unit's figures over a period: where it stood before the period (or
/// `None` when that is unknown: a group with no register, say) and from
/// each day something changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    start: Option<Counts>,
    /// One entry per day, in day order.
    changes: Vec<(NaiveDate, Counts)>,
}

impl Progress {
    /// Figures that never change.
    pub fn fixed(counts: Option<Counts>) -> Self {
        Progress {
            start: counts,
            changes: Vec::new(),
        }
    }

    /// The figures at the end of `day`.
    pub fn on(&self, day: NaiveDate) -> Option<Counts> {
        self.changes
            .iter()
            .rev()
            .find(|(d, _)| *d <= day)
            .map(|(_, c)| *c)
            .or(self.start)
    }

    /// The last day on or before `day` on which `done` grew.
    pub fn last_gain(&self, day: NaiveDate) -> Option<NaiveDate> {
        let mut before = self.start.map_or(0, |c| c.done);
        let mut last = None;
        for (d, c) in self.changes.iter().filter(|(d, _)| *d <= day) {
            if c.done > before {
                last = Some(*d);
            }
            before = c.done;
        }
        last
    }

    /// Every day something changed.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.changes.iter().map(|(d, _)| *d)
    }

    /// From cumulative figures: `start`, and `total` fixed while each of
    /// `days` adds one to `done`.
    fn counting(start: Counts, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for d in days {
            *per_day.entry(d).or_default() += 1;
        }
        let mut done = start.done;
        let changes = per_day
            .into_iter()
            .map(|(d, n)| {
                done += n;
                (
                    d,
                    Counts {
                        done,
                        total: start.total,
                    },
                )
            })
            .collect();
        Progress {
            start: Some(start),
            changes,
        }
    }
}

/// Figures added over several units, with how many units could not be
/// counted (their baseline unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tally {
    pub done: u64,
    pub total: u64,
    /// Units whose figures are unknown (no register, no count).
    pub unknown: u32,
}

impl Tally {
    pub fn add(&mut self, counts: Option<Counts>) {
        match counts {
            Some(c) => {
                self.done += c.done;
                self.total += c.total;
            }
            None => self.unknown += 1,
        }
    }

    /// The sum of `units` on `day`.
    pub fn on<'a>(units: impl IntoIterator<Item = &'a Progress>, day: NaiveDate) -> Tally {
        let mut t = Tally::default();
        for p in units {
            t.add(p.on(day));
        }
        t
    }
}

/// How far a tally is from the campaign's target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Standing {
    /// Households inspected, residents activated, or tips written.
    pub count: u64,
    /// Households in scope, residents, or tips needed (the target times
    /// the groups).
    pub of: u64,
    /// Progress in the target's unit: a percentage (rounded down to a
    /// tenth) for fire safety and Đề án 06, a number of tips for tips.
    pub done: f64,
    /// The target is reached.
    pub reached: bool,
    /// How many more households, residents or tips reach the target.
    pub left: u64,
    /// Progress against the target: 1.0 is the target, more beats it.
    /// What units are ranked by.
    pub ratio: f64,
    /// Units whose figures are unknown (no register, no count).
    pub unknown: u32,
    /// `count` of `of` in percent, rounded down to a tenth (0 when `of`
    /// is 0): what bars, charts and reports show, whatever the kind.
    pub share: f64,
    /// Nothing to do: no household in scope (a fire-safety campaign over
    /// homes with a business, in a group that has none) or no resident,
    /// and no unit unknown. Counts as reached.
    pub nothing_to_do: bool,
}

impl Campaign {
    /// The kind; `None` for a kind this build does not know.
    pub fn kind(&self) -> Option<CampaignKind> {
        self.goal.kind()
    }

    pub fn target(&self) -> u32 {
        self.goal.target()
    }

    /// The rules of a new campaign on `today` (Vietnam): a title, a period
    /// of at most [`PERIOD_MAX_DAYS`] days that has not ended and begins
    /// within [`PERIOD_MAX_DAYS`] days, a target in
    /// range (a percentage from 1 to 100, or 1 to [`TIPS_TARGET_MAX`] tips
    /// per group), each category once.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        c.text("title", &self.title, 1, TITLE_MAX);
        if self.ends_on < self.starts_on {
            c.push("ends_on", Rule::BeforeStart);
        } else if (self.ends_on - self.starts_on).num_days() + 1 > PERIOD_MAX_DAYS {
            c.push(
                "ends_on",
                Rule::PeriodTooLong {
                    max: PERIOD_MAX_DAYS as usize,
                },
            );
        }
        if self.ends_on < today {
            c.push("ends_on", Rule::InPast);
        }
        if (self.starts_on - today).num_days() > PERIOD_MAX_DAYS {
            c.push(
                "starts_on",
                Rule::TooFarAhead {
                    max: PERIOD_MAX_DAYS as usize,
                },
            );
        }
        match &self.goal {
            Goal::FireSafety { target, .. } | Goal::Id06 { target } => {
                c.range("target", f64::from(*target), 1.0, 100.0);
            }
            Goal::Tips { target, categories } => {
                c.range(
                    "target",
                    f64::from(*target),
                    1.0,
                    f64::from(TIPS_TARGET_MAX),
                );
                let mut seen = HashSet::new();
                if categories.iter().any(|x| !seen.insert(*x)) {
                    c.push("categories", Rule::Duplicate);
                }
            }
            Goal::Unknown => c.push(
                "kind",
                Rule::UnknownCode {
                    allowed: CampaignKind::ALL.iter().map(|k| k.code().into()).collect(),
                },
            ),
        }
        c.finish()
    }

    /// Whether `day` is in the period.
    pub fn in_period(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }

    /// Running on `today`: the period has begun and not ended.
    pub fn running_on(&self, today: NaiveDate) -> bool {
        self.in_period(today)
    }

    /// Days after `today` until the end: 0 on the last day, negative once
    /// it ended.
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.ends_on - today).num_days()
    }

    /// The last day the figures can change by `today`: today, or the end
    /// once the campaign ended.
    pub fn as_of(&self, today: NaiveDate) -> NaiveDate {
        today.min(self.ends_on)
    }

    /// Whether a fire-safety campaign covers household `h` (every other
    /// kind covers none).
    pub fn covers(&self, h: &HouseholdInput) -> bool {
        match &self.goal {
            Goal::FireSafety { households, .. } => households.covers(h),
            _ => false,
        }
    }

    /// The day a tip counts on, if it counts: a tip campaign, one of its
    /// categories, written within the period.
    pub fn tip_day(&self, id: ReportId, category: TipCategory) -> Option<NaiveDate> {
        let Goal::Tips { categories, .. } = &self.goal else {
            return None;
        };
        if !categories.is_empty() && !categories.contains(&category) {
            return None;
        }
        self.written_in_period(id)
    }

    /// The day (Vietnam) report `id` was written, if within the period.
    fn written_in_period(&self, id: ReportId) -> Option<NaiveDate> {
        let day = crate::vietnam_date(id.written_at()?);
        self.in_period(day).then_some(day)
    }

    /// A group's fire-safety progress: its register (`None` when unknown),
    /// and the days its households were inspected (any days: those outside
    /// the period are left out here). A household counts from the first
    /// day of the period it was inspected.
    pub fn fire_progress(
        &self,
        register: Option<&[Household]>,
        inspected: impl IntoIterator<Item = (HouseholdId, NaiveDate)>,
    ) -> Progress {
        let Some(register) = register else {
            return Progress::fixed(None);
        };
        let in_scope: HashSet<HouseholdId> = register
            .iter()
            .filter(|h| self.covers(h))
            .map(|h| h.id)
            .collect();
        let first = self.first_inspections(inspected);
        Progress::counting(
            Counts {
                done: 0,
                total: in_scope.len() as u64,
            },
            first
                .into_iter()
                .filter(|(h, _)| in_scope.contains(h))
                .map(|(_, day)| day),
        )
    }

    /// Each household inspected within the period, with the first day of
    /// the period it was (inspections on other days are left out).
    pub fn first_inspections(
        &self,
        inspected: impl IntoIterator<Item = (HouseholdId, NaiveDate)>,
    ) -> BTreeMap<HouseholdId, NaiveDate> {
        let mut first: BTreeMap<HouseholdId, NaiveDate> = BTreeMap::new();
        for (h, day) in inspected {
            if self.in_period(day) {
                let e = first.entry(h).or_insert(day);
                *e = (*e).min(day);
            }
        }
        first
    }

    /// A group's tip progress from the ids of its tips that count (see
    /// [`Campaign::tip_day`]; each once).
    pub fn tip_progress(&self, counted: impl IntoIterator<Item = ReportId>) -> Progress {
        let ids: HashSet<ReportId> = counted.into_iter().collect();
        Progress::counting(
            Counts {
                done: 0,
                total: u64::from(self.target()),
            },
            ids.into_iter().filter_map(|id| self.written_in_period(id)),
        )
    }

    /// A group's Đề án 06 progress from its counts (a later one of the same
    /// day replaces an earlier one) and its register's residents, the
    /// baseline before its first count (`None`: no register).
    pub fn id06_progress(
        &self,
        counts: impl IntoIterator<Item = IdCount>,
        register_residents: Option<u64>,
    ) -> Progress {
        let mut by_day: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        for c in counts {
            if c.date <= self.ends_on {
                by_day.insert(
                    c.date,
                    Counts {
                        done: u64::from(c.activated),
                        total: u64::from(c.residents),
                    },
                );
            }
        }
        let before = by_day
            .range(..self.starts_on)
            .next_back()
            .map(|(_, c)| *c)
            .or(register_residents.map(|total| Counts { done: 0, total }));
        Progress {
            start: before,
            changes: by_day
                .range(self.starts_on..)
                .map(|(d, c)| (*d, *c))
                .collect(),
        }
    }

    /// How far `t` is from the target over `groups` groups (tips need the
    /// target from each).
    pub fn standing(&self, t: Tally) -> Standing {
        let target = u64::from(self.target());
        let (count, of) = (t.done, t.total);
        let nothing_to_do = of == 0 && t.unknown == 0;
        let share = (count * 1000).checked_div(of).unwrap_or(0) as f64 / 10.0;
        let (done, reached, left, ratio) = match self.goal {
            Goal::Tips { .. } => (
                count as f64,
                count >= of,
                of.saturating_sub(count),
                if of == 0 {
                    1.0
                } else {
                    count as f64 / of as f64
                },
            ),
            _ => {
                // Whole numbers: done / of ≥ target / 100.
                let needed = (target * of).div_ceil(100);
                (
                    share,
                    nothing_to_do || (of > 0 && count * 100 >= target * of),
                    needed.saturating_sub(count),
                    if nothing_to_do {
                        1.0
                    } else if of == 0 || target == 0 {
                        0.0
                    } else {
                        count as f64 * 100.0 / (of as f64 * target as f64)
                    },
                )
            }
        };
        Standing {
            count,
            of,
            done,
            reached,
            left,
            ratio,
            unknown: t.unknown,
            share,
            nothing_to_do,
        }
    }

    /// The households of `register` in scope that no inspection of the
    /// period covers yet (`inspected`), in walking order
    /// ([`address_order`]): where the leader goes next.
    pub fn remaining<'a>(
        &self,
        register: &'a [Household],
        inspected: &HashSet<HouseholdId>,
    ) -> Vec<&'a Household> {
        let mut out: Vec<&Household> = register
            .iter()
            .filter(|h| self.covers(h) && !inspected.contains(&h.id))
            .collect();
        out.sort_by(|a, b| address_order(&a.address, &b.address).then(a.id.cmp(&b.id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("day")
    }

    fn campaign(goal: Goal) -> Campaign {
        Campaign {
            id: CampaignId::new_v7(),
            title: "Kiểm tra PCCC hộ kinh doanh trước Tết".into(),
            starts_on: day(7),
            ends_on: day(20),
            goal,
        }
    }

    fn household(address: &str, business: bool) -> Household {
        Household {
            id: HouseholdId::new_v7(),
            data: HouseholdInput {
                address: address.into(),
                head: "Nguyễn Văn An".into(),
                residents: 4,
                phone: None,
                has_business: business,
                rents_rooms: false,
                notes: None,
            },
        }
    }

    #[test]
    fn the_goals_tags_are_the_kinds_codes() {
        for (goal, kind) in [
            (
                Goal::FireSafety {
                    target: 1,
                    households: HouseholdScope::All,
                },
                CampaignKind::FireSafety,
            ),
            (Goal::Id06 { target: 1 }, CampaignKind::Id06),
            (
                Goal::Tips {
                    target: 1,
                    categories: vec![],
                },
                CampaignKind::Tips,
            ),
        ] {
            let json = serde_json::to_value(&goal).expect("json");
            assert_eq!(json["kind"], kind.code());
            assert_eq!(goal.kind(), Some(kind));
        }
        let newer: Campaign = serde_json::from_value(serde_json::json!({
            "id": CampaignId::new_v7(), "title": "x", "starts_on": "2026-12-01",
            "ends_on": "2026-12-02", "kind": "water-safety", "target": 3
        }))
        .expect("a newer kind still reads");
        assert_eq!(newer.kind(), None);
    }

    #[test]
    fn a_new_campaign_needs_a_title_a_period_and_a_target_in_range() {
        let ok = campaign(Goal::FireSafety {
            target: 100,
            households: HouseholdScope::Business,
        });
        assert!(ok.validate(day(7)).is_ok());
        let mut bad = campaign(Goal::Id06 { target: 0 });
        bad.title = " ".into();
        bad.ends_on = day(1);
        let e = bad.validate(day(7)).expect_err("refused");
        assert!(e.has("title", "required"), "{e:?}");
        assert!(e.has("ends_on", "before-start"), "{e:?}");
        assert!(e.has("ends_on", "in-past"), "{e:?}");
        assert!(e.has("target", "out-of-range"), "{e:?}");
        let mut long = campaign(Goal::Tips {
            target: 1001,
            categories: vec![TipCategory::Drugs, TipCategory::Drugs],
        });
        long.ends_on = long.starts_on + chrono::TimeDelta::days(PERIOD_MAX_DAYS);
        let e = long.validate(day(7)).expect_err("refused");
        assert!(e.has("ends_on", "period-too-long"), "{e:?}");
        assert!(e.has("target", "out-of-range"), "{e:?}");
        assert!(e.has("categories", "duplicate"), "{e:?}");
        long.ends_on -= chrono::TimeDelta::days(1);
        assert!(
            !long
                .validate(day(7))
                .expect_err("x")
                .has("ends_on", "period-too-long")
        );
        // A six-digit year typed by mistake: refused, not set for ever.
        let mut far = campaign(Goal::Id06 { target: 50 });
        far.starts_on = NaiveDate::from_ymd_opt(20261, 12, 7).expect("day");
        far.ends_on = far.starts_on;
        assert!(
            far.validate(day(7))
                .expect_err("far")
                .has("starts_on", "too-far-ahead")
        );
    }

    #[test]
    fn fire_safety_counts_households_in_scope_inspected_within_the_period() {
        let c = campaign(Goal::FireSafety {
            target: 80,
            households: HouseholdScope::Business,
        });
        let shop = household("12 Lê Lợi", true);
        let cafe = household("2 Lê Lợi", true);
        let home = household("5 Lê Lợi", false);
        let register = vec![shop.clone(), cafe.clone(), home.clone()];
        let p = c.fire_progress(
            Some(&register),
            [
                (shop.id, day(6)),  // before the period
                (home.id, day(8)),  // not in scope
                (shop.id, day(9)),  // counts from the 9th
                (shop.id, day(10)), // once
                (cafe.id, day(21)), // after the period
            ],
        );
        assert_eq!(p.on(day(8)), Some(Counts { done: 0, total: 2 }));
        assert_eq!(p.on(day(9)), Some(Counts { done: 1, total: 2 }));
        assert_eq!(p.on(day(30)), Some(Counts { done: 1, total: 2 }));
        assert_eq!(p.last_gain(day(30)), Some(day(9)));
        let s = c.standing(Tally::on([&p], day(30)));
        assert_eq!(
            (s.count, s.of, s.done, s.reached, s.left),
            (1, 2, 50.0, false, 1)
        );
        assert_eq!(s.share, 50.0);
        // A group with no home in scope has nothing to do: reached.
        let none = c.fire_progress(Some(std::slice::from_ref(&home)), []);
        let s = c.standing(Tally::on([&none], day(30)));
        assert!(s.nothing_to_do && s.reached && s.of == 0, "{s:?}");
        // Unknown is not "nothing to do".
        let s = c.standing(Tally::on([&c.fire_progress(None, [])], day(30)));
        assert!(!s.nothing_to_do && !s.reached, "{s:?}");
        let inspected: HashSet<HouseholdId> = [shop.id].into();
        let left: Vec<&str> = c
            .remaining(&register, &inspected)
            .iter()
            .map(|h| h.address.as_str())
            .collect();
        assert_eq!(left, vec!["2 Lê Lợi"]);
        assert_eq!(c.fire_progress(None, []).on(day(9)), None);
    }

    #[test]
    fn id06_measures_the_latest_count_against_its_residents() {
        let c = campaign(Goal::Id06 { target: 60 });
        let count = |d: u32, residents, activated| IdCount {
            date: day(d),
            residents,
            collected: residents,
            activated,
            helped: 0,
        };
        let p = c.id06_progress(
            [
                count(1, 100, 40),
                count(10, 100, 55),
                count(12, 110, 66),
                count(25, 110, 100),
            ],
            Some(90),
        );
        assert_eq!(
            p.on(day(7)),
            Some(Counts {
                done: 40,
                total: 100
            })
        );
        assert_eq!(
            p.on(day(11)),
            Some(Counts {
                done: 55,
                total: 100
            })
        );
        let s = c.standing(Tally::on([&p], day(20)));
        assert_eq!((s.done, s.reached, s.left), (60.0, true, 0));
        // Before any count: the register's residents, nothing activated.
        let none = c.id06_progress([], Some(90));
        let s = c.standing(Tally::on([&none], day(20)));
        assert_eq!((s.count, s.of, s.left), (0, 90, 54));
        assert_eq!(c.id06_progress([], None).on(day(20)), None);
    }

    #[test]
    fn tips_count_by_the_day_they_were_written() {
        let c = campaign(Goal::Tips {
            target: 2,
            categories: vec![TipCategory::Drugs],
        });
        let at = |d: u32, h: u32| {
            let t = Utc
                .with_ymd_and_hms(2026, 12, d, h, 0, 0)
                .single()
                .expect("time");
            ReportId(uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                u64::try_from(t.timestamp()).expect("after 1970"),
                0,
            )))
        };
        // 6 Dec 18:00 UTC is 7 Dec 01:00 in Vietnam: within the period.
        let early = at(6, 18);
        assert_eq!(c.tip_day(early, TipCategory::Drugs), Some(day(7)));
        assert_eq!(c.tip_day(at(6, 16), TipCategory::Drugs), None);
        assert_eq!(c.tip_day(early, TipCategory::Theft), None);
        let p = c.tip_progress([early, early, at(9, 3)]);
        let mut t = Tally::on([&p, &c.tip_progress([])], day(20));
        assert_eq!((t.done, t.total), (2, 4), "the target is per group");
        let s = c.standing(t);
        assert_eq!((s.reached, s.left, s.ratio), (false, 2, 0.5));
        t.add(None);
        assert_eq!(c.standing(t).unknown, 1);
        // A count's id is derived (UUID v5): it carries no time.
        let count_id = ReportId::for_id_count("hht", "k01-t01", day(8));
        assert_eq!(count_id.written_at(), None);
    }
}
