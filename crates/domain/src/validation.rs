//! Validation results: which field broke which rule.
//!
//! A rule has a stable kebab-case code (what programs and the UI branch on)
//! and a Vietnamese and English message (from [`crate::labels`]). Validation
//! collects every broken rule of a value, not just the first, so a form can
//! mark every wrong field at once.

use crate::labels::{self, Lang};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One rule a value can break. Serialises as `{"code": "too-short", "min": 10}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Rule {
    /// A value is required and missing or blank.
    Required,
    /// Text shorter than `min` characters.
    TooShort { min: usize },
    /// Text longer than `max` characters.
    TooLong { max: usize },
    /// A number outside `min..=max`.
    OutOfRange { min: f64, max: f64 },
    /// More than `max` entries in a list.
    TooMany { max: usize },
    /// A time or date after now (beyond the clock-skew allowance).
    InFuture,
    /// A time or date implausibly far in the past.
    TooOld,
    /// Not in the expected format (phone number, date, code…).
    BadFormat,
    /// Not one of the closed list's codes.
    UnknownCode { allowed: Vec<String> },
    /// A location is required: text, a household, GPS, or "not remembered".
    LocationRequired,
    /// "Location not remembered" was chosen together with a location.
    LocationConflict,
    /// Accounts activated exceed accounts collected.
    ExceedsCollected,
    /// Accounts collected exceed residents in scope.
    ExceedsResidents,
    /// A date earlier than the inspection it belongs to.
    BeforeInspection,
    /// A checklist item the template does not have.
    UnknownItem,
    /// A checklist item that applies and was not answered.
    MissingAnswer,
    /// A checklist item answered twice, or a value given twice.
    Duplicate,
    /// A checklist item that does not apply to this household was answered.
    NotApplicable,
    /// A violation recorded for an item that did not fail.
    ItemNotFailed,
    /// A failed checklist item without its violation: what to fix, and by when.
    FixRequired,
    /// No record with this id.
    NotFound,
    /// A sealed source was given clear text beside it: a sealed source
    /// cannot be edited, only entered again from scratch.
    SourceSealed,
    /// A PIN anyone would guess first (000000, 123456, 121212…).
    TooSimple,
    /// An end earlier than its start.
    BeforeStart,
    /// A period longer than `max` days.
    PeriodTooLong { max: usize },
    /// A day that has already passed.
    InPast,
    /// A day more than `max` days ahead.
    TooFarAhead { max: usize },
}

impl Rule {
    /// Every rule's code, in declaration order (each has a message in
    /// [`labels::rule`]; the app's generated labels carry them all).
    pub const CODES: &[&'static str] = &[
        "required",
        "too-short",
        "too-long",
        "out-of-range",
        "too-many",
        "in-future",
        "too-old",
        "bad-format",
        "unknown-code",
        "location-required",
        "location-conflict",
        "exceeds-collected",
        "exceeds-residents",
        "before-inspection",
        "unknown-item",
        "missing-answer",
        "duplicate",
        "not-applicable",
        "item-not-failed",
        "fix-required",
        "not-found",
        "source-sealed",
        "too-simple",
        "before-start",
        "period-too-long",
        "in-past",
        "too-far-ahead",
    ];

    /// The stable machine code, e.g. `too-short`.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooShort { .. } => "too-short",
            Rule::TooLong { .. } => "too-long",
            Rule::OutOfRange { .. } => "out-of-range",
            Rule::TooMany { .. } => "too-many",
            Rule::InFuture => "in-future",
            Rule::TooOld => "too-old",
            Rule::BadFormat => "bad-format",
            Rule::UnknownCode { .. } => "unknown-code",
            Rule::LocationRequired => "location-required",
            Rule::LocationConflict => "location-conflict",
            Rule::ExceedsCollected => "exceeds-collected",
            Rule::ExceedsResidents => "exceeds-residents",
            Rule::BeforeInspection => "before-inspection",
            Rule::UnknownItem => "unknown-item",
            Rule::MissingAnswer => "missing-answer",
            Rule::Duplicate => "duplicate",
            Rule::NotApplicable => "not-applicable",
            Rule::ItemNotFailed => "item-not-failed",
            Rule::FixRequired => "fix-required",
            Rule::NotFound => "not-found",
            Rule::SourceSealed => "source-sealed",
            Rule::TooSimple => "too-simple",
            Rule::BeforeStart => "before-start",
            Rule::PeriodTooLong { .. } => "period-too-long",
            Rule::InPast => "in-past",
            Rule::TooFarAhead { .. } => "too-far-ahead",
        }
    }

    /// The message in `lang`, with the rule's limits filled in.
    pub fn message(&self, lang: Lang) -> String {
        let template = labels::rule(self.code()).get(lang);
        match self {
            Rule::TooShort { min } => template.replace("{min}", &min.to_string()),
            Rule::TooLong { max }
            | Rule::TooMany { max }
            | Rule::PeriodTooLong { max }
            | Rule::TooFarAhead { max } => template.replace("{max}", &max.to_string()),
            Rule::OutOfRange { min, max } => template
                .replace("{min}", &min.to_string())
                .replace("{max}", &max.to_string()),
            Rule::UnknownCode { allowed } => template.replace("{allowed}", &allowed.join(", ")),
            _ => template.to_owned(),
        }
    }
}

/// A rule broken by one field. `field` is a path such as `description`,
/// `location.gps.lat` or `answers[3]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub rule: Rule,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }

    /// "field label: message" in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let name = labels::field(&self.field).map_or(self.field.as_str(), |l| l.get(lang));
        format!("{name}: {}", self.rule.message(lang))
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(Lang::En), self.field)
    }
}

/// Every rule a value broke. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl ValidationErrors {
    /// The messages in `lang`, one per broken rule.
    pub fn messages(&self, lang: Lang) -> Vec<String> {
        self.0.iter().map(|e| e.message(lang)).collect()
    }

    /// Whether `field` broke a rule with `code`. Handy in tests and UIs.
    pub fn has(&self, field: &str, code: &str) -> bool {
        self.0
            .iter()
            .any(|e| e.field == field && e.rule.code() == code)
    }
}

/// Collects field errors while a value is checked.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: impl Into<String>, rule: Rule) {
        self.errors.push(FieldError::new(field, rule));
    }

    /// Required text of `min..=max` characters after trimming.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.trim().chars().count();
        if n == 0 && min > 0 {
            self.push(field, Rule::Required);
        } else if n < min {
            self.push(field, Rule::TooShort { min });
        } else if n > max {
            self.push(field, Rule::TooLong { max });
        }
    }

    /// Optional text: absent or blank is fine, otherwise at most `max` characters.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value
            && v.trim().chars().count() > max
        {
            self.push(field, Rule::TooLong { max });
        }
    }

    /// A number in `min..=max`; NaN and infinities are out of range.
    pub fn range(&mut self, field: &str, value: f64, min: f64, max: f64) {
        if !(value.is_finite() && value >= min && value <= max) {
            self.push(field, Rule::OutOfRange { min, max });
        }
    }

    /// An optional phone number, see [`normalize_phone`].
    pub fn phone(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value
            && !v.trim().is_empty()
            && normalize_phone(v).is_none()
        {
            self.push(field, Rule::BadFormat);
        }
    }

    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}

/// A Vietnamese phone number in canonical form (`0` followed by 9 or 10
/// digits), accepting spaces, dots and dashes and a `+84`/`84` prefix.
/// Returns `None` when it is not a phone number.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = if let Some(rest) = compact.strip_prefix("+84") {
        format!("0{rest}")
    } else if compact.starts_with("84") && compact.len() == 11 {
        format!("0{}", &compact[2..])
    } else {
        compact
    };
    let ok = digits.starts_with('0')
        && (10..=11).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit());
    ok.then_some(digits)
}

/// A code that is not in a closed list, e.g. an unknown tip category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} code {value:?}; expected one of: {}", allowed.join(", "))]
pub struct UnknownCode {
    pub list: &'static str,
    pub value: String,
    pub allowed: Vec<&'static str>,
}

impl UnknownCode {
    /// The same mistake as a field error.
    pub fn into_field_error(self, field: &str) -> FieldError {
        FieldError::new(
            field,
            Rule::UnknownCode {
                allowed: self.allowed.iter().map(|s| (*s).to_owned()).collect(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every rule: the match has no wildcard, so a new rule
    /// fails to compile here until it is listed.
    fn every_rule() -> Vec<Rule> {
        let all = vec![
            Rule::Required,
            Rule::TooShort { min: 1 },
            Rule::TooLong { max: 1 },
            Rule::OutOfRange { min: 0.0, max: 1.0 },
            Rule::TooMany { max: 1 },
            Rule::InFuture,
            Rule::TooOld,
            Rule::BadFormat,
            Rule::UnknownCode { allowed: vec![] },
            Rule::LocationRequired,
            Rule::LocationConflict,
            Rule::ExceedsCollected,
            Rule::ExceedsResidents,
            Rule::BeforeInspection,
            Rule::UnknownItem,
            Rule::MissingAnswer,
            Rule::Duplicate,
            Rule::NotApplicable,
            Rule::ItemNotFailed,
            Rule::FixRequired,
            Rule::NotFound,
            Rule::SourceSealed,
            Rule::TooSimple,
            Rule::BeforeStart,
            Rule::PeriodTooLong { max: 366 },
            Rule::InPast,
            Rule::TooFarAhead { max: 366 },
        ];
        for r in &all {
            match r {
                Rule::Required
                | Rule::TooShort { .. }
                | Rule::TooLong { .. }
                | Rule::OutOfRange { .. }
                | Rule::TooMany { .. }
                | Rule::InFuture
                | Rule::TooOld
                | Rule::BadFormat
                | Rule::UnknownCode { .. }
                | Rule::LocationRequired
                | Rule::LocationConflict
                | Rule::ExceedsCollected
                | Rule::ExceedsResidents
                | Rule::BeforeInspection
                | Rule::UnknownItem
                | Rule::MissingAnswer
                | Rule::Duplicate
                | Rule::NotApplicable
                | Rule::ItemNotFailed
                | Rule::FixRequired
                | Rule::NotFound
                | Rule::SourceSealed
                | Rule::TooSimple
                | Rule::BeforeStart
                | Rule::PeriodTooLong { .. }
                | Rule::InPast
                | Rule::TooFarAhead { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_rule_is_listed_once_with_messages_in_both_languages() {
        let codes: Vec<&str> = every_rule().iter().map(Rule::code).collect();
        assert_eq!(codes, Rule::CODES);
        let fallback = labels::rule("no-such-rule");
        for code in Rule::CODES {
            let l = labels::rule(code);
            assert_ne!(l.vi, fallback.vi, "{code} has no Vietnamese message");
            assert_ne!(l.en, fallback.en, "{code} has no English message");
        }
    }

    #[test]
    fn a_rule_serialises_as_its_code_and_limits() {
        let e = FieldError::new("description", Rule::TooShort { min: 10 });
        assert_eq!(
            serde_json::to_value(&e).expect("json"),
            serde_json::json!({"field": "description", "code": "too-short", "min": 10})
        );
    }
}
