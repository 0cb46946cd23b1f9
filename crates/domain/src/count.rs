//! Đề án 06 / VNeID counts: one per group per day.

use crate::validation::{Checker, Rule, ValidationErrors};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The largest count accepted for any figure: far above a group's ~110
/// residents, low enough to catch a typed extra zero or two.
pub const COUNT_MAX: u32 = 100_000;

/// Anything earlier is a mistyped year.
const EARLIEST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");

/// A group's electronic-ID figures for one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdCount {
    pub date: NaiveDate,
    /// Residents in scope.
    pub residents: u32,
    /// Accounts collected (thu nhận hồ sơ).
    pub collected: u32,
    /// Accounts activated at level 2 (kích hoạt mức 2).
    pub activated: u32,
    /// People helped to install the app.
    #[serde(default)]
    pub helped: u32,
}

impl IdCount {
    /// Rules: every figure in `0..=COUNT_MAX`, activated ≤ collected ≤
    /// residents, and the day not after today in Vietnam.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        let max = f64::from(COUNT_MAX);
        for (field, v) in [
            ("residents", self.residents),
            ("collected", self.collected),
            ("activated", self.activated),
            ("helped", self.helped),
        ] {
            c.range(field, f64::from(v), 0.0, max);
        }
        if self.activated > self.collected {
            c.push("activated", Rule::ExceedsCollected);
        }
        if self.collected > self.residents {
            c.push("collected", Rule::ExceedsResidents);
        }
        if self.date > crate::vietnam_date(now + crate::CLOCK_SKEW_ALLOWANCE) {
            c.push("date", Rule::InFuture);
        } else if self.date < EARLIEST_DATE {
            c.push("date", Rule::TooOld);
        }
        c.finish()
    }
}

/// A group's figures per day, from its counts at their newest revision:
/// the counts of one day made under different reports (a group merged
/// into this one kept counting under its own id until it heard of the
/// merge) are added up, as the ward's Đề án 06 page adds them. In day
/// order.
pub fn daily_totals(counts: impl IntoIterator<Item = IdCount>) -> Vec<IdCount> {
    let mut by_day: std::collections::BTreeMap<NaiveDate, IdCount> =
        std::collections::BTreeMap::new();
    for c in counts {
        by_day
            .entry(c.date)
            .and_modify(|t| {
                t.residents = t.residents.saturating_add(c.residents);
                t.collected = t.collected.saturating_add(c.collected);
                t.activated = t.activated.saturating_add(c.activated);
                t.helped = t.helped.saturating_add(c.helped);
            })
            .or_insert(c);
    }
    by_day.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_day_under_two_reports_add_up() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
        let c = |d, residents, activated| IdCount {
            date: day(d),
            residents,
            collected: activated,
            activated,
            helped: 0,
        };
        let totals = daily_totals([c(2, 100, 40), c(1, 90, 30), c(2, 50, 10)]);
        assert_eq!(totals, vec![c(1, 90, 30), c(2, 150, 50)]);
    }
}
