//! Security tips (tin báo về an ninh trật tự, ANTT).
//!
//! Anonymity is a property of the type: [`Informant::Anonymous`] has no
//! fields, so an anonymous tip has nowhere to keep the informant's name or
//! phone, on the device or on the wire.

use crate::ids::HouseholdId;
use crate::validation::{Checker, Rule, ValidationErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

code_enum! {
    /// The closed list of tip categories.
    pub enum TipCategory {
        Drugs => "drugs",
        Theft => "theft",
        Gambling => "gambling",
        LoanSharking => "loan-sharking",
        Fraud => "fraud",
        SuspiciousPerson => "suspicious-person",
        UnregisteredResidence => "unregistered-residence",
        PublicDisorder => "public-disorder",
        Traffic => "traffic",
        UrbanOrder => "urban-order",
        FireHazard => "fire-hazard",
        Other => "other",
    }
}

code_enum! {
    /// How pressing a tip is.
    pub enum Urgency {
        Normal => "normal",
        Urgent => "urgent",
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by code_enum!, which derives no Default
impl Default for Urgency {
    fn default() -> Self {
        Urgency::Normal
    }
}

/// Length limits of a tip's description, in characters.
pub const DESCRIPTION_MIN: usize = 10;
pub const DESCRIPTION_MAX: usize = 4000;
/// Most suspects one tip may list.
pub const SUSPECTS_MAX: usize = 20;

/// A security tip as the leader writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tip {
    pub category: TipCategory,
    pub description: String,
    pub location: Location,
    /// When it happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub urgency: Urgency,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspects: Vec<Suspect>,
}

/// Where it happened: any of free text, a household and GPS, or explicitly
/// "not remembered" (không nhớ địa điểm) and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<HouseholdId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<Gps>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_remembered: bool,
}

impl Location {
    /// The explicit "location not remembered" answer.
    pub fn not_remembered() -> Self {
        Self {
            not_remembered: true,
            ..Self::default()
        }
    }

    fn has_place(&self) -> bool {
        self.text.as_deref().is_some_and(|t| !t.trim().is_empty())
            || self.household_id.is_some()
            || self.gps.is_some()
    }
}

/// A GPS fix: degrees and the accuracy radius in metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

/// Who saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// The leader saw it.
    Observed,
    /// A resident told the leader.
    Resident { informant: Informant },
}

/// The resident who told the leader: named (name and phone both optional)
/// or anonymous, in which case nothing about them is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Informant {
    Anonymous,
    Named {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
}

impl Source {
    pub fn is_anonymous(&self) -> bool {
        matches!(
            self,
            Source::Resident {
                informant: Informant::Anonymous
            }
        )
    }
}

/// A person the tip is about: a name or alias, a description, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Suspect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_or_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Tip {
    /// Checks every rule of a tip at the instant `now`.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        c.text(
            "description",
            &self.description,
            DESCRIPTION_MIN,
            DESCRIPTION_MAX,
        );

        let loc = &self.location;
        if loc.not_remembered && loc.has_place() {
            c.push("location", Rule::LocationConflict);
        } else if !loc.not_remembered && !loc.has_place() {
            c.push("location", Rule::LocationRequired);
        }
        c.optional_text("location.text", loc.text.as_deref(), 500);
        if let Some(gps) = loc.gps {
            c.range("location.gps.lat", gps.lat, -90.0, 90.0);
            c.range("location.gps.lon", gps.lon, -180.0, 180.0);
            if let Some(acc) = gps.accuracy_m {
                c.range("location.gps.accuracy_m", acc, 0.0, 10_000.0);
            }
        }

        if let Some(at) = self.occurred_at {
            if at > now + crate::CLOCK_SKEW_ALLOWANCE {
                c.push("occurred_at", Rule::InFuture);
            } else if at.timestamp() < EARLIEST_TIMESTAMP {
                c.push("occurred_at", Rule::TooOld);
            }
        }

        if let Source::Resident {
            informant: Informant::Named { name, phone },
        } = &self.source
        {
            c.optional_text("source.name", name.as_deref(), 120);
            c.phone("source.phone", phone.as_deref());
        }

        if self.suspects.len() > SUSPECTS_MAX {
            c.push("suspects", Rule::TooMany { max: SUSPECTS_MAX });
        }
        for (i, s) in self.suspects.iter().enumerate() {
            let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
            if blank(&s.name_or_alias) && blank(&s.description) {
                c.push(format!("suspects[{i}]"), Rule::Required);
            }
            c.optional_text(
                &format!("suspects[{i}].name_or_alias"),
                s.name_or_alias.as_deref(),
                120,
            );
            c.optional_text(
                &format!("suspects[{i}].description"),
                s.description.as_deref(),
                1000,
            );
        }
        c.finish()
    }

    /// The tip as it is stored: text trimmed, blank optional text dropped,
    /// the phone number in canonical form.
    pub fn normalized(mut self) -> Self {
        self.description = self.description.trim().to_owned();
        self.location.text = non_blank(self.location.text);
        if let Source::Resident {
            informant: Informant::Named { name, phone },
        } = &mut self.source
        {
            *name = non_blank(name.take());
            *phone = non_blank(phone.take())
                .map(|p| crate::validation::normalize_phone(&p).unwrap_or(p));
        }
        for s in &mut self.suspects {
            s.name_or_alias = non_blank(s.name_or_alias.take());
            s.description = non_blank(s.description.take());
        }
        self
    }

    /// The text search looks in: description, location, suspects. Informant
    /// details are deliberately left out of the search index.
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.description.as_str()];
        parts.extend(self.location.text.as_deref());
        for s in &self.suspects {
            parts.extend(s.name_or_alias.as_deref());
            parts.extend(s.description.as_deref());
        }
        parts.join(" ")
    }
}

/// 2000-01-01T00:00:00Z: anything earlier is a mistyped year.
const EARLIEST_TIMESTAMP: i64 = 946_684_800;

pub(crate) fn non_blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}
