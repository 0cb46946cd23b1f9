//! Helpers shared by the device's integration tests.
#![allow(dead_code)]

use chrono::Utc;
use sotay_device::Store;
use sotay_domain::household::HouseholdInput;
use sotay_domain::ids::HouseholdId;
use sotay_domain::inspection::{
    Answer, ChecklistTemplate, Inspection, ItemAnswer, TemplateRef, Violation,
};
use sotay_domain::place::DevicePlace;
use sotay_domain::tip::{Location, Source, Tip, TipCategory, Urgency};
use tempfile::TempDir;

/// A store in a fresh folder, set up for group k01-t03 of ward hht.
pub fn store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open_dir(dir.path()).expect("open");
    store.init(&place()).expect("init");
    (dir, store)
}

pub fn place() -> DevicePlace {
    DevicePlace::from_codes("hht", "k01", "k01-t03", [Some("Hà Huy Tập"), None, None])
        .expect("place")
}

pub fn tip(category: TipCategory, description: &str) -> Tip {
    Tip {
        photos: Vec::new(),
        category,
        description: description.into(),
        location: Location {
            text: Some("Ngõ 5 đường Lê Lợi".into()),
            ..Location::default()
        },
        occurred_at: None,
        urgency: Urgency::Normal,
        source: Source::Observed,
        suspects: vec![],
        confidential_note: None,
        sealed: None,
    }
}

pub fn household(address: &str, head: &str, has_business: bool) -> HouseholdInput {
    HouseholdInput {
        address: address.into(),
        head: head.into(),
        residents: 4,
        phone: None,
        has_business,
        rents_rooms: false,
        notes: None,
    }
}

/// An inspection of `household_id` against checklist v1: every item passes
/// but those in `fail`, each with its violation (fix within a week); the
/// business item does not apply.
pub fn inspection(household_id: HouseholdId, fail: &[&str]) -> Inspection {
    let t = ChecklistTemplate::household_v1();
    Inspection {
        household_id,
        inspected_at: Utc::now(),
        inspector: "Tổ trưởng".into(),
        template: TemplateRef {
            id: t.id.clone(),
            version: t.version,
        },
        answers: t
            .items
            .iter()
            .map(|i| ItemAnswer {
                photos: Vec::new(),
                item: i.code.clone(),
                answer: if i.code == "business-separation" {
                    Answer::NotApplicable
                } else if fail.contains(&i.code.as_str()) {
                    Answer::Fail
                } else {
                    Answer::Pass
                },
                note: None,
            })
            .collect(),
        violations: fail
            .iter()
            .map(|&item| Violation {
                item: item.into(),
                fix: "Khắc phục theo hướng dẫn".into(),
                deadline: sotay_domain::vietnam_date(Utc::now()) + chrono::Days::new(7),
            })
            .collect(),
        reinspect_on: None,
        acknowledged_by: None,
        notes: Some("Cầu thang chất nhiều đồ".into()),
    }
}
