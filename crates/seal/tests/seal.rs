//! Sealing a tip's source: round trips for any text, and a block that does
//! not open anywhere but where it was sealed.

use proptest::prelude::*;
use sotay_domain::ReportId;
use sotay_domain::tip::SourceSecret;
use sotay_seal::{SealError, SourceContext, generate, open_source, seal_source};

fn ctx(report_id: ReportId, rev: u32) -> SourceContext<'static> {
    SourceContext {
        ward: "hht",
        report_id,
        rev,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn seal_then_open_gives_back_any_unicode_name_phone_and_note(
        name in proptest::option::of("\\PC{0,120}"),
        phone in proptest::option::of("\\PC{0,20}"),
        note in proptest::option::of("\\PC{0,400}"),
        rev in 1u32..1000,
    ) {
        let (sk, pk) = generate();
        let id = ReportId::new_v7();
        let secret = SourceSecret { name, phone, note };
        let sealed = seal_source(&pk, ctx(id, rev), &secret).expect("seal");
        prop_assert_eq!(&sealed.key_id, &pk.key_id());
        prop_assert_eq!(sealed.rev, rev);
        prop_assert_eq!(open_source(&sk, id, &sealed).expect("open"), secret);
    }
}

fn named() -> SourceSecret {
    SourceSecret {
        name: Some("Nguyễn Thị Hoà".into()),
        phone: Some("0912345678".into()),
        note: Some("Nhà đối diện, hay về muộn".into()),
    }
}

#[test]
fn a_block_moved_to_another_report_revision_or_ward_does_not_open() {
    let (sk, pk) = generate();
    let id = ReportId::new_v7();
    let sealed = seal_source(&pk, ctx(id, 2), &named()).expect("seal");
    assert!(open_source(&sk, id, &sealed).is_ok());
    assert_eq!(
        open_source(&sk, ReportId::new_v7(), &sealed),
        Err(SealError::DoesNotOpen)
    );
    let mut other_rev = sealed.clone();
    other_rev.rev = 3;
    assert_eq!(
        open_source(&sk, id, &other_rev),
        Err(SealError::DoesNotOpen)
    );
    let mut other_ward = sealed.clone();
    other_ward.ward = "k99".into();
    assert_eq!(
        open_source(&sk, id, &other_ward),
        Err(SealError::DoesNotOpen)
    );
    let (other_sk, _) = generate();
    assert_eq!(
        open_source(&other_sk, id, &sealed),
        Err(SealError::DoesNotOpen)
    );
}

#[test]
fn the_ciphertext_neither_contains_the_name_nor_tells_its_length() {
    let (_, pk) = generate();
    let id = ReportId::new_v7();
    let short = seal_source(
        &pk,
        ctx(id, 1),
        &SourceSecret {
            name: Some("An".into()),
            ..SourceSecret::default()
        },
    )
    .expect("seal");
    let long = seal_source(&pk, ctx(id, 1), &named()).expect("seal");
    assert_eq!(short.ciphertext.len(), long.ciphertext.len());
    let json = serde_json::to_string(&long).expect("json");
    assert!(!json.contains("Hoà") && !json.contains("0912345678"));
}
