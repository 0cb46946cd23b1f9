//! Security tips (tin báo về an ninh trật tự, ANTT).
//!
//! Anonymity is a property of the type: [`Informant::Anonymous`] has no
//! fields, so an anonymous tip has nowhere to keep the informant's name or
//! phone, on the device or on the wire.
//!
//! A named informant's identity and the leader's confidential note (ghi chú
//! mật) are the tip's *secret*: in clear ([`Informant::Named`],
//! [`Tip::confidential_note`]) they exist only on the device that wrote the
//! tip, while it is a draft or queued. What leaves the device, and what the
//! server keeps, is the *sealed form*: [`Informant::Sealed`] and a
//! [`SealedSource`] that only the ward's source key opens (sealing itself is
//! `sotay-seal`'s job; this crate only says what each form may hold).

use crate::ids::HouseholdId;
use crate::validation::{Checker, Rule, ValidationErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// Ghi chú mật: a note for the officers allowed to know sources, in
    /// clear only on the device before the tip is sent (see the module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidential_note: Option<String>,
    /// The informant's identity and the confidential note, sealed to the
    /// ward's source key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedSource>,
    /// Evidence photos (screenshots of a scam, the place), at most
    /// [`crate::photo::TIP_PHOTOS_MAX`]; the photos travel apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<crate::photo::PhotoRef>,
}

/// Longest confidential note, in characters.
pub const CONFIDENTIAL_NOTE_MAX: usize = 2000;

/// A tip's secret sealed to the ward's source key: HPKE (RFC 9180) with the
/// report's identity as associated data, so a block moved to another
/// report, revision or ward does not open. The fields are public: which
/// key, and the context the block was sealed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SealedSource {
    /// The id of the ward key it is sealed to.
    pub key_id: String,
    /// The ward code it was sealed for.
    pub ward: String,
    /// The revision it was sealed at: a later revision that keeps the
    /// source unchanged carries the block as it was.
    pub rev: u32,
    /// The encapsulated key, base64.
    pub enc: String,
    /// The sealed [`SourceSecret`], base64.
    pub ciphertext: String,
}

/// Longest base64 ciphertext of a sealed block accepted: a padded secret of
/// the largest allowed fields fits well within it.
pub const SEALED_CIPHERTEXT_MAX: usize = 16 * 1024;

/// What a sealed block holds, in clear. Only the device that wrote the tip
/// and an officer with the "see sources" permission ever see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SourceSecret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SourceSecret {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.note.is_none()
    }
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
    /// Named, in clear: only on the writing device, before sending.
    Named {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    /// Named; the name and phone are in the tip's [`SealedSource`].
    Sealed,
    /// Named once, erased since: a newer revision withdrew the source.
    Erased,
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
    /// The secret this tip holds in clear (a named informant's name and
    /// phone, the confidential note), if any.
    pub fn clear_secret(&self) -> Option<SourceSecret> {
        let mut secret = SourceSecret {
            note: self.confidential_note.clone(),
            ..SourceSecret::default()
        };
        if let Source::Resident {
            informant: Informant::Named { name, phone },
        } = &self.source
        {
            secret.name = name.clone();
            secret.phone = phone.clone();
            if secret.name.is_none() && secret.phone.is_none() && secret.note.is_none() {
                // A named informant with neither name nor phone still
                // says "named": seal the empty identity so the form says so.
                return Some(secret);
            }
        }
        (!secret.is_empty()).then_some(secret)
    }

    /// Whether any secret is in clear here: such a tip never leaves the
    /// device and is never stored by the server.
    pub fn has_clear_secret(&self) -> bool {
        self.clear_secret().is_some()
    }

    /// The sealed form: the clear secret dropped, `sealed` in its place.
    pub fn into_sealed(mut self, sealed: SealedSource) -> Self {
        if let Source::Resident { informant } = &mut self.source
            && matches!(informant, Informant::Named { .. })
        {
            *informant = Informant::Sealed;
        }
        self.confidential_note = None;
        self.sealed = Some(sealed);
        self
    }

    /// Whether this tip still refers to a source (in clear or sealed); a
    /// revision without one erases its predecessors' sources.
    pub fn keeps_source(&self) -> bool {
        self.sealed.is_some() || self.has_clear_secret()
    }

    /// This tip with its source erased: the sealed block and any clear
    /// secret gone, a named informant marked as erased.
    pub fn erase_source(mut self) -> Self {
        if let Source::Resident { informant } = &mut self.source
            && matches!(informant, Informant::Named { .. } | Informant::Sealed)
        {
            *informant = Informant::Erased;
        }
        self.confidential_note = None;
        self.sealed = None;
        self
    }

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

        crate::photo::check_photos(&mut c, "photos", &self.photos, crate::photo::TIP_PHOTOS_MAX);

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
        c.optional_text(
            "confidential_note",
            self.confidential_note.as_deref(),
            CONFIDENTIAL_NOTE_MAX,
        );
        let sealed_informant = matches!(
            self.source,
            Source::Resident {
                informant: Informant::Sealed
            }
        );
        if sealed_informant && self.sealed.is_none() {
            c.push("sealed", Rule::Required);
        }
        if self.sealed.is_some() && self.has_clear_secret() {
            c.push("sealed", Rule::SourceSealed);
        }
        if let Some(s) = &self.sealed {
            if s.ciphertext.len() > SEALED_CIPHERTEXT_MAX || s.enc.len() > 256 {
                c.push(
                    "sealed",
                    Rule::TooLong {
                        max: SEALED_CIPHERTEXT_MAX,
                    },
                );
            }
            if s.key_id.is_empty() || s.key_id.len() > 64 || s.rev < 1 {
                c.push("sealed", Rule::BadFormat);
            }
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
        self.confidential_note = non_blank(self.confidential_note.take());
        for s in &mut self.suspects {
            s.name_or_alias = non_blank(s.name_or_alias.take());
            s.description = non_blank(s.description.take());
        }
        self
    }

    /// The text search looks in: description, location, suspects. Informant
    /// details and the confidential note are deliberately left out of the
    /// search index.
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
