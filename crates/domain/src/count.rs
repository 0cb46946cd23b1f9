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
