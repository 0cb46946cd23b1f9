//! Fire-safety inspections of a household (kiểm tra PCCC hộ gia đình).
//!
//! An inspection answers every item of one checklist template version. The
//! overall result is never stored or sent as a free value: it is derived
//! from the answers and the template ([`Inspection::result`]), so it cannot
//! disagree with them.

use crate::household::Household;
use crate::ids::HouseholdId;
use crate::labels::{self, Text};
use crate::tip::non_blank;
use crate::validation::{Checker, Rule, ValidationErrors};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// An answer to one checklist item.
    pub enum Answer {
        Pass => "pass",
        Fail => "fail",
        NotApplicable => "not-applicable",
    }
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// The derived overall result of an inspection.
    pub enum InspectionResult {
        /// No required item failed (recommended ones may have).
        Pass => "pass",
        /// At least one required item failed.
        Fail => "fail",
    }
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// Which households a checklist item applies to.
    pub enum Applies {
        All => "all",
        /// Only homes with a business (nhà ở kết hợp kinh doanh, Nghị định 136/2020).
        HasBusiness => "has-business",
    }
}

/// One item of a checklist template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistItem {
    /// Stable kebab-case code, e.g. `escape-routes`.
    pub code: String,
    /// 1-based position shown to the leader.
    pub number: u32,
    pub label: Text,
    /// Required items decide the result; recommended ones do not.
    pub required: bool,
    pub applies: Applies,
}

/// A versioned checklist. A new version is a new value; answers always name
/// the version they were given against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistTemplate {
    pub id: String,
    pub version: u32,
    pub title: Text,
    pub items: Vec<ChecklistItem>,
}

/// The id of the household fire-safety checklist.
pub const HOUSEHOLD_TEMPLATE_ID: &str = "pccc-household";

/// The most items a published checklist may have.
pub const TEMPLATE_ITEMS_MAX: usize = 100;

impl ChecklistTemplate {
    /// The household checklist as a ward might publish it next, for tests:
    /// version 2, with one more item (13, `lightning-rod`) for every home.
    #[cfg(feature = "fixtures")]
    pub fn household_v2_example() -> Self {
        let mut t = Self::household_v1();
        t.version = 2;
        let mut extra = t.items[0].clone();
        extra.code = "lightning-rod".into();
        extra.number = 13;
        extra.label.vi = "Chống sét cho nhà cao tầng".into();
        extra.label.en = "Lightning protection for tall buildings".into();
        t.items.push(extra);
        t
    }

    /// Version 1 of the household checklist (Luật PCCC và CNCH 2024, Điều 20;
    /// Nghị định 136/2020 for homes with a business).
    pub fn household_v1() -> Self {
        let items = labels::CHECKLIST_V1
            .iter()
            .zip(1u32..)
            .map(
                |(&(code, label, required, applies), number)| ChecklistItem {
                    code: code.to_owned(),
                    number,
                    label: label.into(),
                    required,
                    applies,
                },
            )
            .collect();
        Self {
            id: HOUSEHOLD_TEMPLATE_ID.to_owned(),
            version: 1,
            title: labels::CHECKLIST_V1_TITLE.into(),
            items,
        }
    }

    /// The built-in template with this id and version, if any.
    pub fn builtin(id: &str, version: u32) -> Option<Self> {
        (id == HOUSEHOLD_TEMPLATE_ID && version == 1).then(Self::household_v1)
    }

    /// The newest built-in version of the template `id`, if any: what a
    /// device or server uses until the ward publishes a newer one.
    pub fn builtin_newest(id: &str) -> Option<Self> {
        (id == HOUSEHOLD_TEMPLATE_ID).then(Self::household_v1)
    }

    /// The version `id`/`version` among `published`, or else the built-in
    /// one: the template an inspection is checked and scored against.
    pub fn resolve(published: &[Self], id: &str, version: u32) -> Option<Self> {
        published
            .iter()
            .find(|t| t.id == id && t.version == version)
            .cloned()
            .or_else(|| Self::builtin(id, version))
    }

    /// The newest version of `id` among `published` and the built-in ones:
    /// the template new inspections are made against, on every device.
    pub fn newest(published: &[Self], id: &str) -> Option<Self> {
        published
            .iter()
            .filter(|t| t.id == id)
            .cloned()
            .chain(Self::builtin_newest(id))
            .max_by_key(|t| t.version)
    }

    /// The rules of a template the ward publishes: a known id (only the
    /// household checklist today), a version from 1, a title and at least
    /// one item in both languages, item codes kebab-case and unique, and
    /// items numbered 1, 2, 3… in order.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if self.id != HOUSEHOLD_TEMPLATE_ID {
            c.push(
                "id",
                Rule::UnknownCode {
                    allowed: vec![HOUSEHOLD_TEMPLATE_ID.to_owned()],
                },
            );
        }
        if self.version < 1 {
            c.push(
                "version",
                Rule::OutOfRange {
                    min: 1.0,
                    max: f64::from(u32::MAX),
                },
            );
        }
        c.text("title.vi", &self.title.vi, 1, 200);
        c.text("title.en", &self.title.en, 1, 200);
        if self.items.is_empty() {
            c.push("items", Rule::Required);
        }
        if self.items.len() > TEMPLATE_ITEMS_MAX {
            c.push(
                "items",
                Rule::TooMany {
                    max: TEMPLATE_ITEMS_MAX,
                },
            );
        }
        let mut seen = HashSet::new();
        for (n, (item, number)) in self.items.iter().zip(1u32..).enumerate() {
            let field = format!("items[{n}]");
            let kebab = !item.code.is_empty()
                && item.code.len() <= 60
                && item.code.split('-').all(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            if !kebab {
                c.push(format!("{field}.code"), Rule::BadFormat);
            } else if !seen.insert(item.code.as_str()) {
                c.push(format!("{field}.code"), Rule::Duplicate);
            }
            if item.number != number {
                c.push(format!("{field}.number"), Rule::BadFormat);
            }
            c.text(&format!("{field}.label.vi"), &item.label.vi, 1, 500);
            c.text(&format!("{field}.label.en"), &item.label.en, 1, 500);
        }
        c.finish()
    }

    /// The items that apply to `household`, in the template's order.
    pub fn items_for<'a>(
        &'a self,
        household: &'a Household,
    ) -> impl Iterator<Item = &'a ChecklistItem> + 'a {
        self.items
            .iter()
            .filter(move |i| Self::applies_to(i, household))
    }

    /// Finds an item by code or by its number ("6" or "extinguisher").
    pub fn item(&self, key: &str) -> Option<&ChecklistItem> {
        let key = key.trim();
        match key.parse::<u32>() {
            Ok(n) => self.items.iter().find(|i| i.number == n),
            Err(_) => self.items.iter().find(|i| i.code == key),
        }
    }

    /// Whether `item` applies to a household with these flags.
    pub fn applies_to(item: &ChecklistItem, household: &Household) -> bool {
        match item.applies {
            Applies::All => true,
            Applies::HasBusiness => household.has_business,
        }
    }
}

/// The template an inspection was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TemplateRef {
    pub id: String,
    pub version: u32,
}

/// The answer to one item, with an optional note ("dây điện câu móc ở bếp").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ItemAnswer {
    pub item: String,
    pub answer: Answer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Photos of what failed, at most [`crate::photo::ITEM_PHOTOS_MAX`],
    /// only on a failed item; the photos travel apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<crate::photo::PhotoRef>,
}

/// A violation found, what to do about it, and by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Violation {
    pub item: String,
    pub fix: String,
    pub deadline: NaiveDate,
}

/// A fire-safety inspection of one household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inspection {
    pub household_id: HouseholdId,
    pub inspected_at: DateTime<Utc>,
    pub inspector: String,
    pub template: TemplateRef,
    pub answers: Vec<ItemAnswer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reinspect_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Inspection {
    /// The overall result: `fail` when any required item failed.
    pub fn result(&self, template: &ChecklistTemplate) -> InspectionResult {
        let failed_required = self.answers.iter().any(|a| {
            a.answer == Answer::Fail
                && template
                    .items
                    .iter()
                    .any(|i| i.code == a.item && i.required)
        });
        if failed_required {
            InspectionResult::Fail
        } else {
            InspectionResult::Pass
        }
    }

    /// Checks the inspection against its template and the household it is of.
    pub fn validate(
        &self,
        template: &ChecklistTemplate,
        household: &Household,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if self.household_id != household.id {
            c.push("household_id", Rule::NotFound);
        }
        if self.template.id != template.id || self.template.version != template.version {
            c.push("template", Rule::NotFound);
        }
        c.text("inspector", &self.inspector, 1, 120);
        if self.inspected_at > now + crate::CLOCK_SKEW_ALLOWANCE {
            c.push("inspected_at", Rule::InFuture);
        }

        let mut seen = HashSet::new();
        for (i, a) in self.answers.iter().enumerate() {
            let field = format!("answers[{i}]");
            match template.items.iter().find(|t| t.code == a.item) {
                None => c.push(field.clone(), Rule::UnknownItem),
                Some(item) => {
                    if !seen.insert(item.code.as_str()) {
                        c.push(field.clone(), Rule::Duplicate);
                    }
                    if !ChecklistTemplate::applies_to(item, household)
                        && a.answer != Answer::NotApplicable
                    {
                        c.push(field.clone(), Rule::NotApplicable);
                    }
                }
            }
            c.optional_text(&format!("{field}.note"), a.note.as_deref(), 500);
            if !a.photos.is_empty() && a.answer != Answer::Fail {
                c.push(format!("{field}.photos"), Rule::ItemNotFailed);
            }
            crate::photo::check_photos(
                &mut c,
                &format!("{field}.photos"),
                &a.photos,
                crate::photo::ITEM_PHOTOS_MAX,
            );
        }
        for item in &template.items {
            if ChecklistTemplate::applies_to(item, household) && !seen.contains(item.code.as_str())
            {
                c.push(format!("answers.{}", item.code), Rule::MissingAnswer);
            }
        }

        // A failure is recorded with what the household must do and by
        // when: nothing the leader saw fail is left without its violation.
        for a in &self.answers {
            if a.answer == Answer::Fail && !self.violations.iter().any(|v| v.item == a.item) {
                c.push(format!("answers.{}.fix", a.item), Rule::FixRequired);
            }
        }

        let inspected_on = crate::vietnam_date(self.inspected_at);
        for (i, v) in self.violations.iter().enumerate() {
            let field = format!("violations[{i}]");
            let failed = self
                .answers
                .iter()
                .any(|a| a.item == v.item && a.answer == Answer::Fail);
            if !failed {
                c.push(format!("{field}.item"), Rule::ItemNotFailed);
            }
            c.text(&format!("{field}.fix"), &v.fix, 1, 500);
            if v.deadline < inspected_on {
                c.push(format!("{field}.deadline"), Rule::BeforeInspection);
            }
        }
        if let Some(d) = self.reinspect_on
            && d < inspected_on
        {
            c.push("reinspect_on", Rule::BeforeInspection);
        }
        c.optional_text("acknowledged_by", self.acknowledged_by.as_deref(), 120);
        c.optional_text("notes", self.notes.as_deref(), 2000);
        c.finish()
    }

    /// The day the household falls due for its next inspection: the
    /// re-inspection day the leader set, or else the earliest fix deadline
    /// of its violations; `None` when neither was given. The one
    /// definition the phone's household list and the ward's dashboard use.
    pub fn reinspection_due(&self) -> Option<NaiveDate> {
        self.reinspect_on
            .or_else(|| self.violations.iter().map(|v| v.deadline).min())
    }

    /// Answers every item that does not apply to `household` with "không
    /// áp dụng" (the leader is never asked about them) and puts the answers
    /// in the template's order. Answers to unknown items stay, last, for
    /// [`Inspection::validate`] to report.
    pub fn complete(&mut self, template: &ChecklistTemplate, household: &Household) {
        for item in &template.items {
            if !ChecklistTemplate::applies_to(item, household)
                && !self.answers.iter().any(|a| a.item == item.code)
            {
                self.answers.push(ItemAnswer {
                    item: item.code.clone(),
                    answer: Answer::NotApplicable,
                    note: None,
                    photos: Vec::new(),
                });
            }
        }
        self.answers.sort_by_key(|a| {
            template
                .items
                .iter()
                .find(|i| i.code == a.item)
                .map_or(u32::MAX, |i| i.number)
        });
    }

    /// Trims text and drops blank optional values.
    pub fn normalized(mut self) -> Self {
        self.inspector = self.inspector.trim().to_owned();
        for a in &mut self.answers {
            a.item = a.item.trim().to_owned();
            a.note = non_blank(a.note.take());
        }
        for v in &mut self.violations {
            v.fix = v.fix.trim().to_owned();
        }
        self.acknowledged_by = non_blank(self.acknowledged_by.take());
        self.notes = non_blank(self.notes.take());
        self
    }

    /// Text for search: notes, item notes, fixes, who acknowledged.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![self.inspector.as_str()];
        parts.extend(self.notes.as_deref());
        parts.extend(self.acknowledged_by.as_deref());
        parts.extend(self.answers.iter().filter_map(|a| a.note.as_deref()));
        parts.extend(self.violations.iter().map(|v| v.fix.as_str()));
        parts.join(" ")
    }
}
