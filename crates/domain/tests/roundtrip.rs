//! Property tests: every report and wire value survives a JSON round trip.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use sotay_domain::IdCount;
use sotay_domain::ids::{HouseholdId, ReportId};
use sotay_domain::inspection::{Answer, Inspection, ItemAnswer, TemplateRef, Violation};
use sotay_domain::report::ReportBody;
use sotay_domain::text::fold;
use sotay_domain::tip::{Gps, Informant, Location, Source, Suspect, Tip, TipCategory, Urgency};
use sotay_domain::wire::Change;
use uuid::Uuid;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĐ<>&\"'\n]{0,60}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..2_000_000_000, 0u32..1_000_000)
        .prop_map(|(s, us)| Utc.timestamp_opt(s, us * 1000).single().unwrap_or_default())
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn finite() -> impl Strategy<Value = f64> {
    -1.0e6f64..1.0e6
}

fn tip() -> impl Strategy<Value = Tip> {
    let location = (
        opt_text(),
        proptest::option::of(uuid().prop_map(HouseholdId)),
        proptest::option::of(
            (finite(), finite(), proptest::option::of(finite())).prop_map(
                |(lat, lon, accuracy_m)| Gps {
                    lat,
                    lon,
                    accuracy_m,
                },
            ),
        ),
        any::<bool>(),
    )
        .prop_map(|(text, household_id, gps, not_remembered)| Location {
            text,
            household_id,
            gps,
            not_remembered,
        });
    let source = prop_oneof![
        Just(Source::Observed),
        Just(Source::Resident {
            informant: Informant::Anonymous
        }),
        (opt_text(), opt_text()).prop_map(|(name, phone)| Source::Resident {
            informant: Informant::Named { name, phone }
        }),
    ];
    (
        proptest::sample::select(TipCategory::ALL),
        text(),
        location,
        proptest::option::of(time()),
        proptest::sample::select(Urgency::ALL),
        source,
        proptest::collection::vec(
            (opt_text(), opt_text()).prop_map(|(name_or_alias, description)| Suspect {
                name_or_alias,
                description,
            }),
            0..4,
        ),
    )
        .prop_map(
            |(category, description, location, occurred_at, urgency, source, suspects)| Tip {
                photos: Vec::new(),
                category,
                description,
                location,
                occurred_at,
                urgency,
                source,
                suspects,
                confidential_note: None,
                sealed: None,
            },
        )
}

fn inspection() -> impl Strategy<Value = Inspection> {
    (
        uuid(),
        time(),
        text(),
        proptest::collection::vec(
            (text(), proptest::sample::select(Answer::ALL), opt_text()).prop_map(
                |(item, answer, note)| ItemAnswer {
                    item,
                    answer,
                    note,
                    photos: Vec::new(),
                },
            ),
            0..13,
        ),
        proptest::collection::vec(
            (text(), text(), date()).prop_map(|(item, fix, deadline)| Violation {
                item,
                fix,
                deadline,
            }),
            0..3,
        ),
        proptest::option::of(date()),
        opt_text(),
        opt_text(),
        1u32..5,
    )
        .prop_map(
            |(hid, at, inspector, answers, violations, reinspect_on, ack, notes, version)| {
                Inspection {
                    household_id: HouseholdId(hid),
                    inspected_at: at,
                    inspector,
                    template: TemplateRef {
                        id: "pccc-household".into(),
                        version,
                    },
                    answers,
                    violations,
                    reinspect_on,
                    acknowledged_by: ack,
                    notes,
                }
            },
        )
}

fn count() -> impl Strategy<Value = IdCount> {
    (
        date(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(date, residents, collected, activated, helped)| IdCount {
            date,
            residents,
            collected,
            activated,
            helped,
        })
}

fn body() -> impl Strategy<Value = ReportBody> {
    prop_oneof![
        tip().prop_map(ReportBody::Tip),
        inspection().prop_map(ReportBody::Inspection),
        count().prop_map(ReportBody::IdCount),
    ]
}

proptest! {
    #[test]
    fn report_body_round_trips(b in body()) {
        let json = serde_json::to_string(&b).expect("serialises");
        let back: ReportBody = serde_json::from_str(&json).expect("parses");
        prop_assert_eq!(back, b);
    }

    #[test]
    fn wire_change_round_trips(b in body(), seq in 1i64..i64::MAX, rev in 1u32..1000, id in uuid()) {
        let change = Change::new(ReportId(id), seq, rev, &b);
        let json = serde_json::to_vec(&change).expect("serialises");
        let back: Change = serde_json::from_slice(&json).expect("parses");
        prop_assert_eq!(back.body().expect("body"), b);
        prop_assert_eq!(back, change);
    }

    #[test]
    fn fold_is_idempotent_and_ascii_for_vietnamese(s in text()) {
        let once = fold(&s);
        prop_assert_eq!(fold(&once), once.clone());
        prop_assert!(once.is_ascii(), "{:?}", once);
    }
}
