//! `sotay-domain`: what Sổ tay is about, with no I/O.
//!
//! This crate owns the shapes of every report (tips, fire-safety inspections,
//! Đề án 06 counts), the household register, places, the validation rules
//! that decide what may be saved, the fire-safety checklist templates, the
//! diacritics-insensitive text folding used by search, and every user-facing
//! label in Vietnamese and English ([`labels`]).
//!
//! Invariant: nothing here touches a file, a socket or the clock. Functions
//! that need "now" take it as an argument, so every rule is testable with
//! fixed inputs.

#[macro_use]
mod code_enum;

pub mod announcement;
pub mod campaign;
pub mod count;
pub mod household;
pub mod ids;
pub mod inspection;
pub mod labels;
pub mod migrations;
pub mod photo;
pub mod place;
pub mod report;
pub mod text;
pub mod tip;
pub mod validation;
pub mod wire;

pub use count::IdCount;
pub use household::{Household, HouseholdInput};
pub use ids::{AnnouncementId, CampaignId, HouseholdId, ReportId};
pub use inspection::{Answer, ChecklistTemplate, Inspection, InspectionResult};
pub use labels::{Label, Labelled, Lang};
pub use place::{DevicePlace, PlaceCode};
pub use report::{ReportBody, ReportKind, ReportStatus};
pub use tip::{Tip, TipCategory};
pub use validation::{FieldError, Rule, ValidationErrors};

/// How far ahead of "now" a device clock may be before a time counts as "in
/// the future". Cheap phones drift; a few minutes is forgiven.
pub const CLOCK_SKEW_ALLOWANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Vietnam's offset from UTC (UTC+7, no daylight saving). Calendar dates
/// such as a count's day are Vietnamese dates.
pub fn vietnam_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The instant a Vietnamese day begins (midnight in Vietnam), in UTC.
pub fn vietnam_day_start(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    vietnam_offset()
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .expect("a fixed offset maps every local time once")
        .to_utc()
}

/// Today's date in Vietnam at the instant `now`.
pub fn vietnam_date(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    now.with_timezone(&vietnam_offset()).date_naive()
}
