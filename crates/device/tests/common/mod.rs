//! Helpers shared by the device's integration tests.
#![allow(dead_code)]

use sotay_device::Store;
use sotay_domain::household::HouseholdInput;
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
