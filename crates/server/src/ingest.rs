//! The domain's rules applied to incoming changes, before storage.
//!
//! Owns the stable rejection codes a device may receive for one change.
//!
//! Inspections name a household from the device's own register, which the
//! server does not hold. The server therefore checks everything it can
//! without the register (the template exists, every answer names a known
//! item, no duplicates, violations only for failed items, dates, text
//! lengths) and is lenient about the one household-dependent rule, which
//! items apply to homes with a business: the inspection is accepted when it
//! is valid for *some* household (with or without a business). Anything
//! stricter would reject correct work because of data the server cannot
//! see; the device enforces that rule with its register before sending.

use crate::store::{DeviceAuth, Rejection, WardKeyRow};
use chrono::{DateTime, Utc};
use sotay_domain::household::{Household, HouseholdInput};
use sotay_domain::inspection::{ChecklistTemplate, Inspection};
use sotay_domain::labels::Lang;
use sotay_domain::wire::{Change, RejectionCode};
use sotay_domain::{ReportBody, ReportId, ValidationErrors};

// The rejection codes a device may receive for one change are
// `sotay_domain::wire::RejectionCode`, shared with the device.

/// How far ahead of the server's clock a device's clock may be. The device
/// already holds its reports to the domain's few minutes of skew against
/// its own clock; the server judges "in the future" against a day ahead, so
/// a phone whose clock is wrong by hours does not see its reports refused
/// (order on the server never depends on device clocks anyway).
pub const DEVICE_CLOCK_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Applies the domain's rules to one change of a device of `ward` received
/// at the instant `now`, and returns the change as it is stored: the typed
/// body the rules accepted, re-serialised (so fields it does not know,
/// such as a name smuggled beside an anonymous informant, are dropped), and
/// a tip's clear source (sent by an app older than sealing) sealed with the
/// ward's current key, so no clear source is ever written.
pub fn check(
    change: Change,
    now: DateTime<Utc>,
    device: &DeviceAuth,
    keys: &[WardKeyRow],
    templates: &[ChecklistTemplate],
) -> Result<Change, Rejection> {
    let ward = device.ward.as_str();
    let now = now + DEVICE_CLOCK_TOLERANCE;
    if change.rev < 1 {
        return Err(Rejection::new(
            RejectionCode::OutOfRange,
            "rev must be at least 1",
        ));
    }
    let body = change.body().map_err(|e| {
        Rejection::new(
            RejectionCode::BadPayload,
            format!("payload is not a valid {}: {e}", change.kind),
        )
    })?;
    let body = match body {
        ReportBody::Tip(t) => {
            t.validate(now).map_err(invalid)?;
            let former_wards: Vec<&str> = device
                .former_places
                .iter()
                .map(|(w, _)| w.as_str())
                .collect();
            ReportBody::Tip(seal_source(t, &change, ward, &former_wards, keys)?)
        }
        ReportBody::IdCount(c) => {
            c.validate(now).map_err(invalid)?;
            // A count's id is derived from its ward, group and day: under
            // any other id it would take another group's day (which could
            // then never send its own), or move a count to another day.
            let derived = |ward: &str, code: &str| {
                change.report_id == ReportId::for_id_count(ward, code, c.date)
            };
            if !derived(ward, &device.group_code)
                && !device
                    .former_places
                    .iter()
                    .any(|(w, code)| derived(w, code))
            {
                return Err(Rejection::new(
                    RejectionCode::CountIdMismatch,
                    "Mã của số liệu Đề án 06 không khớp với tổ và ngày của nó",
                ));
            }
            ReportBody::IdCount(c)
        }
        ReportBody::Inspection(i) => {
            check_inspection(&i, now, templates)?;
            ReportBody::Inspection(i)
        }
    };
    Ok(Change::new(
        change.report_id,
        change.device_seq,
        change.rev,
        &body,
    ))
}

/// A tip's source as stored: a sealed block checked against what the server
/// can see (its ward's key, its place), or a clear one sealed now.
fn seal_source(
    tip: sotay_domain::Tip,
    change: &Change,
    ward: &str,
    former_wards: &[&str],
    keys: &[WardKeyRow],
) -> Result<sotay_domain::Tip, Rejection> {
    if let Some(s) = &tip.sealed {
        // A ward this group belonged to before a ward merge is its own
        // still: its keys moved with it (and a key list read just before
        // the merge still names the old ward).
        let ours = |w: &str| w == ward || former_wards.contains(&w);
        if !keys.iter().any(|k| k.key_id == s.key_id && ours(&k.ward)) {
            return Err(Rejection::new(
                RejectionCode::SourceKeyUnknown,
                "Nguồn tin được niêm phong bằng khoá không phải của phường này",
            ));
        }
        if !ours(&s.ward) || s.rev > change.rev {
            return Err(Rejection::new(
                RejectionCode::SourceMisplaced,
                "Nguồn tin niêm phong không thuộc tin báo này",
            ));
        }
    }
    if !tip.has_clear_secret() {
        return Ok(tip);
    }
    let current = keys
        .iter()
        .find(|k| k.ward == ward && k.retired_at.is_none())
        .and_then(|k| sotay_seal::PublicKey::from_base64(&k.public_key).ok())
        .ok_or_else(|| {
            Rejection::new(
                RejectionCode::SourceKeyUnknown,
                "Máy chủ chưa có khoá niêm phong nguồn tin của phường",
            )
        })?;
    let ctx = sotay_seal::SourceContext {
        ward,
        report_id: change.report_id,
        rev: change.rev,
    };
    sotay_seal::seal_tip(tip, &current, ctx)
        .map_err(|_| Rejection::new(RejectionCode::SourceKeyUnknown, "sealing the source failed"))
}

/// The rules broken, in Vietnamese: the device shows this message to the
/// group leader as the reason the report came back, and the ward reads it
/// in the same language. Field paths stay machine-readable in the code's
/// documentation; the message names fields by their labels.
fn invalid(errors: ValidationErrors) -> Rejection {
    Rejection {
        fields: errors.0.clone(),
        ..Rejection::new(RejectionCode::Invalid, errors.messages(Lang::Vi).join("; "))
    }
}

fn check_inspection(
    i: &Inspection,
    now: DateTime<Utc>,
    templates: &[ChecklistTemplate],
) -> Result<(), Rejection> {
    let Some(template) = ChecklistTemplate::resolve(templates, &i.template.id, i.template.version)
    else {
        return Err(Rejection::new(
            RejectionCode::UnknownTemplate,
            format!(
                "unknown checklist template {} version {}",
                i.template.id, i.template.version
            ),
        ));
    };
    let household = |has_business| Household {
        id: i.household_id,
        data: HouseholdInput {
            address: String::new(),
            head: String::new(),
            residents: 0,
            phone: None,
            has_business,
            rents_rooms: false,
            notes: None,
        },
    };
    match (
        i.validate(&template, &household(false), now),
        i.validate(&template, &household(true), now),
    ) {
        (Ok(()), _) | (_, Ok(())) => Ok(()),
        (Err(a), Err(b)) => Err(invalid(if a.0.len() <= b.0.len() { a } else { b })),
    }
}

pub(crate) fn bad_seq() -> Rejection {
    Rejection::new(RejectionCode::OutOfRange, "device_seq must be at least 1")
}

pub(crate) fn seq_reused(seq: i64) -> Rejection {
    Rejection::new(
        RejectionCode::SeqReused,
        format!("device_seq {seq} was already used for another report or revision"),
    )
}

pub(crate) fn forbidden() -> Rejection {
    Rejection::new(
        RejectionCode::Forbidden,
        "this report belongs to another group",
    )
}

pub(crate) fn kind_mismatch(stored: &str) -> Rejection {
    Rejection::new(
        RejectionCode::KindMismatch,
        format!("this report is a {stored}; a revision cannot change its kind"),
    )
}

/// Cross-group attempts are logged for the ward: they mean a bug or abuse.
pub(crate) fn log_forbidden(device: &DeviceAuth, report: ReportId, owner: &str) {
    tracing::warn!(
        device = %device.device_id,
        group = %device.group,
        report = %report,
        owner_group = %owner,
        "refused: device wrote a report of another group"
    );
}

/// The checklist templates a push is checked against: every version
/// published ([`crate::admin::publish_template`], possibly by another
/// process), read from the store at most every [`TemplateCache::new`]'s
/// `ttl`, and at once when a push names a version not yet seen (at most
/// once a second, so unknown versions cannot make every push read).
pub struct TemplateCache {
    ttl: std::time::Duration,
    cached:
        tokio::sync::Mutex<Option<(std::time::Instant, std::sync::Arc<Vec<ChecklistTemplate>>)>>,
}

impl TemplateCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        Self {
            ttl,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The published templates, fresh enough to hold each of `wanted`
    /// (`(id, version)`) if it has been published.
    pub async fn covering(
        &self,
        store: &crate::store::DynStore,
        wanted: &[(String, u32)],
    ) -> Result<std::sync::Arc<Vec<ChecklistTemplate>>, crate::store::StoreError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, templates)) = cached.as_ref() {
            let age = at.elapsed();
            let holds = |(id, v): &(String, u32)| {
                templates.iter().any(|t| &t.id == id && t.version == *v)
                    || ChecklistTemplate::builtin(id, *v).is_some()
            };
            let missing = !wanted.iter().all(holds);
            if age < self.ttl && !(missing && age >= std::time::Duration::from_secs(1)) {
                return Ok(templates.clone());
            }
        }
        let templates = std::sync::Arc::new(store.templates().await?);
        *cached = Some((std::time::Instant::now(), templates.clone()));
        Ok(templates)
    }
}

/// The `(id, version)` an inspection change names, read from its raw JSON
/// before it is parsed (for [`TemplateCache::covering`]).
pub fn template_named(change: &serde_json::Value) -> Option<(String, u32)> {
    if change.get("kind")?.as_str()? != "inspection" {
        return None;
    }
    let t = change.get("payload")?.get("template")?;
    Some((
        t.get("id")?.as_str()?.to_owned(),
        u32::try_from(t.get("version")?.as_u64()?).ok()?,
    ))
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use sotay_domain::ids::ReportId;
    use sotay_domain::tip::{Location, Source, Tip, TipCategory, Urgency};

    fn device() -> DeviceAuth {
        DeviceAuth {
            device_id: sotay_domain::wire::DeviceId(uuid::Uuid::nil()),
            group: "k01-t01".into(),
            group_code: "k01-t01".into(),
            former_places: Vec::new(),
            ward: "hht".into(),
        }
    }

    fn change_at(occurred_at: DateTime<Utc>) -> Change {
        let tip = Tip {
            photos: Vec::new(),
            category: TipCategory::Theft,
            description: "Mất trộm xe máy trước nhà số 9".into(),
            location: Location::not_remembered(),
            occurred_at: Some(occurred_at),
            urgency: Urgency::Normal,
            source: Source::Observed,
            suspects: vec![],
            confidential_note: None,
            sealed: None,
        };
        Change::new(ReportId::new_v7(), 1, 1, &ReportBody::Tip(tip))
    }

    #[test]
    fn a_device_clock_hours_ahead_is_tolerated_but_not_days() {
        let now = Utc::now();
        assert!(
            check(
                change_at(now + chrono::TimeDelta::hours(3)),
                now,
                &device(),
                &[],
                &[]
            )
            .is_ok()
        );
        let err = check(
            change_at(now + chrono::TimeDelta::days(3)),
            now,
            &device(),
            &[],
            &[],
        )
        .expect_err("future");
        assert_eq!(err.code, RejectionCode::Invalid);
    }

    #[test]
    fn a_broken_rule_comes_back_in_vietnamese_naming_the_field() {
        let now = Utc::now();
        let mut change = change_at(now);
        change.payload["description"] = "ngắn".into();
        let err = check(change, now, &device(), &[], &[]).expect_err("too short");
        assert_eq!(err.code, RejectionCode::Invalid);
        assert_eq!(err.message, "Nội dung: cần ít nhất 10 ký tự");
    }
}
