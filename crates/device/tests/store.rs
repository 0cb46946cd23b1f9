//! The store through its public API, on a real SQLite file.

mod common;

use chrono::NaiveDate;
use common::{household, inspection, store, tip};
use rstest::rstest;
use sotay_device::{DeviceError, ErrorCode, ListFilter, Save, Store};
use sotay_domain::IdCount;
use sotay_domain::ids::{HouseholdId, ReportId};
use sotay_domain::report::{ReportBody, ReportKind, ReportStatus};
use sotay_domain::tip::{Informant, Location, Source, TipCategory};

fn count(date: &str, residents: u32, collected: u32, activated: u32) -> ReportBody {
    ReportBody::IdCount(IdCount {
        date: date.parse().expect("date"),
        residents,
        collected,
        activated,
        helped: 0,
    })
}

#[test]
fn a_store_without_a_group_refuses_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open_dir(dir.path()).expect("open");
    let err = s
        .save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Theft, "Mất trộm xe máy")),
            Save::Send,
        )
        .expect_err("no group");
    assert_eq!(err.code(), ErrorCode::NotInitialized);
}

#[test]
fn init_is_idempotent_but_does_not_move_a_device() {
    let (_d, mut s) = store();
    s.init(&common::place()).expect("same group again");
    let other = sotay_domain::DevicePlace::from_codes("hht", "k02", "k02-t01", [None, None, None])
        .expect("place");
    assert_eq!(
        s.init(&other).expect_err("moved").code(),
        ErrorCode::AlreadyInitialized
    );
    assert_eq!(s.place().expect("place").group.code.as_str(), "k01-t03");
}

#[test]
fn draft_then_send_then_edit_follows_the_lifecycle() {
    let (_d, mut s) = store();
    // Autosave keeps even an incomplete draft.
    let draft = s
        .save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Drugs, "ma")),
            Save::Draft,
        )
        .expect("draft");
    assert_eq!((draft.status, draft.rev), (ReportStatus::Draft, 1));
    assert!(s.outbox().expect("outbox").is_empty());

    // Sending validates: the short text is refused and the draft survives.
    let err = s.send(draft.id).expect_err("too short");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(
        s.report(draft.id).expect("still there").status,
        ReportStatus::Draft
    );

    let full = ReportBody::Tip(tip(TipCategory::Drugs, "Nghi vấn mua bán ma túy ở hẻm 5"));
    let queued = s
        .save_report(Some(draft.id), full, Save::Send)
        .expect("queued");
    assert_eq!((queued.status, queued.rev), (ReportStatus::Queued, 1));
    let outbox = s.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!((outbox[0].report_id, outbox[0].rev), (draft.id, 1));

    // Editing a queued report that was not pushed yet updates it in place.
    let edited = ReportBody::Tip(tip(
        TipCategory::Drugs,
        "Nghi vấn mua bán ma túy ở hẻm 5, tối",
    ));
    let r = s
        .save_report(Some(draft.id), edited.clone(), Save::Send)
        .expect("edit");
    assert_eq!(r.rev, 1);
    let outbox = s.outbox().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].body, edited);

    // Once a push of it began, an edit is a new revision with a new number.
    s.mark_attempted(&[outbox[0].seq]).expect("attempted");
    let again = ReportBody::Tip(tip(
        TipCategory::Drugs,
        "Nghi vấn mua bán ma túy ở hẻm 5, tối qua",
    ));
    let r = s
        .save_report(Some(draft.id), again, Save::Send)
        .expect("edit");
    assert_eq!((r.status, r.rev), (ReportStatus::Queued, 2));
    let outbox = s.outbox().expect("outbox");
    assert_eq!(outbox.iter().map(|e| e.rev).collect::<Vec<_>>(), vec![1, 2]);
    assert!(outbox[1].seq > outbox[0].seq);
    assert_eq!(outbox[0].body, edited, "a frozen payload never changes");
}

#[test]
fn a_kind_cannot_change_under_an_id() {
    let (_d, mut s) = store();
    let r = s
        .save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Fraud, "Lừa đảo qua điện thoại")),
            Save::Send,
        )
        .expect("tip");
    let err = s
        .save_report(Some(r.id), count("2026-11-20", 10, 5, 1), Save::Send)
        .map(|_| ());
    // A count's id is derived from its day, so it cannot hit the tip's id:
    // it becomes its own report.
    assert!(err.is_ok());
    let h = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("h");
    let i = inspection(h.id, &[]);
    let err = s
        .save_report(Some(r.id), ReportBody::Inspection(i), Save::Send)
        .expect_err("kind");
    assert_eq!(err.code(), ErrorCode::KindMismatch);
}

#[test]
fn one_count_per_group_per_day() {
    let (_d, mut s) = store();
    let a = s
        .save_report(None, count("2026-11-20", 110, 80, 40), Save::Send)
        .expect("count");
    let b = s
        .save_report(None, count("2026-11-20", 110, 82, 41), Save::Send)
        .expect("again");
    assert_eq!(a.id, b.id);
    assert_eq!(
        a.id,
        ReportId::for_id_count(
            "hht",
            "k01-t03",
            NaiveDate::from_ymd_opt(2026, 11, 20).expect("d")
        )
    );
    let page = s
        .list(&ListFilter {
            kind: Some(ReportKind::IdCount),
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(page.total, 1);
    let outbox = s.outbox().expect("outbox");
    s.mark_attempted(&[outbox[0].seq]).expect("attempted");
    let c = s
        .save_report(None, count("2026-11-20", 110, 85, 41), Save::Send)
        .expect("rev 2");
    assert_eq!((c.id, c.rev), (a.id, 2));
    assert_eq!(s.list(&ListFilter::default()).expect("list").total, 1);
    let other_day = s
        .save_report(None, count("2026-11-21", 110, 85, 41), Save::Send)
        .expect("d2");
    assert_ne!(other_day.id, a.id);
}

#[test]
fn a_refused_count_keeps_the_saved_one() {
    let (_d, mut s) = store();
    let a = s
        .save_report(None, count("2026-11-20", 110, 80, 40), Save::Send)
        .expect("count");
    let err = s
        .save_report(None, count("2026-11-20", 110, 80, 90), Save::Send)
        .expect_err("activated > collected");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let kept = s.report(a.id).expect("kept");
    assert_eq!(kept.body, count("2026-11-20", 110, 80, 40));
}

#[test]
fn an_inspection_needs_a_household_of_the_register() {
    let (_d, mut s) = store();
    let err = s
        .save_report(
            None,
            ReportBody::Inspection(inspection(HouseholdId::new_v7(), &[])),
            Save::Draft,
        )
        .expect_err("unknown household");
    match err {
        DeviceError::Invalid(v) => assert!(v.has("household_id", "not-found"), "{v:?}"),
        other => panic!("unexpected {other:?}"),
    }
    let h = s
        .add_household(household("12 Lê Lợi", "Nguyễn Văn An", false))
        .expect("h");
    let r = s
        .save_report(
            None,
            ReportBody::Inspection(inspection(h.id, &["escape-routes"])),
            Save::Send,
        )
        .expect("saved");
    let page = s.list(&ListFilter::default()).expect("list");
    assert_eq!(page.items[0].id, r.id);
    assert_eq!(page.items[0].title, "PCCC 12 Lê Lợi: Không đạt");
}

#[test]
fn anonymous_tips_keep_nothing_about_the_informant() {
    let (d, mut s) = store();
    let mut t = tip(
        TipCategory::LoanSharking,
        "Cho vay nặng lãi, đòi nợ kiểu xã hội đen",
    );
    t.source = Source::Resident {
        informant: Informant::Anonymous,
    };
    s.save_report(None, ReportBody::Tip(t), Save::Send)
        .expect("saved");
    drop(s);
    let raw = std::fs::read(d.path().join(sotay_device::store::DB_FILE)).expect("db");
    let wal = std::fs::read(d.path().join("sotay.sqlite3-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("\"name\""),
            "no informant name field is stored"
        );
        assert!(
            !text.contains("\"phone\""),
            "no informant phone field is stored"
        );
    }
}

#[rstest]
#[case("ma tuy", 1)]
#[case("MA TÚY", 1)]
#[case("duong", 2)]
#[case("Đường Lê Lợi", 1)]
#[case("nguyen van", 1)]
#[case("tin dung den", 1)]
#[case("chuong cop", 1)]
#[case("100%", 0)]
#[case("_", 0)]
fn search_ignores_diacritics_and_case(#[case] query: &str, #[case] expected_reports: usize) {
    let (_d, mut s) = store();
    let mut a = tip(TipCategory::Drugs, "Nghi vấn mua bán ma túy ở hẻm 5");
    a.location.text = Some("Đường Lê Lợi".into());
    s.save_report(None, ReportBody::Tip(a), Save::Send)
        .expect("a");
    let mut b = tip(TipCategory::LoanSharking, "Đối tượng Nguyễn Văn Tý đòi nợ");
    b.location.text = Some("đường Phan Đình Phùng".into());
    s.save_report(None, ReportBody::Tip(b), Save::Draft)
        .expect("b");
    let mut c = tip(
        TipCategory::FireHazard,
        "Chuồng cọp không có lối thoát hiểm",
    );
    c.location = Location::not_remembered();
    s.save_report(None, ReportBody::Tip(c), Save::Send)
        .expect("c");
    let found = s.search(query, 50).expect("search");
    assert_eq!(
        found.reports.len(),
        expected_reports,
        "{query}: {:?}",
        found.reports
    );
}

#[test]
fn search_finds_households_and_inspection_notes() {
    let (_d, mut s) = store();
    let mut h = household("5 Hẻm 3 Nguyễn Du", "Trần Thị Bình", false);
    h.notes = Some("Nhà trọ 6 phòng".into());
    let h = s.add_household(h).expect("h");
    s.save_report(
        None,
        ReportBody::Inspection(inspection(h.id, &[])),
        Save::Send,
    )
    .expect("i");
    let found = s.search("tran thi", 10).expect("search");
    assert_eq!(found.households.len(), 1);
    assert_eq!(found.reports.len(), 1, "the inspection of her household");
    assert_eq!(s.search("nha tro", 10).expect("s").households.len(), 1);
    assert_eq!(s.search("cau thang", 10).expect("s").reports.len(), 1);
    assert_eq!(s.households(Some("BINH")).expect("h").len(), 1);
}

#[test]
fn lists_filter_and_page_newest_first() {
    let (_d, mut s) = store();
    let mut ids = Vec::new();
    for i in 0..30 {
        let cat = if i % 3 == 0 {
            TipCategory::Theft
        } else {
            TipCategory::Gambling
        };
        let save = if i % 2 == 0 { Save::Send } else { Save::Draft };
        let r = s
            .save_report(
                None,
                ReportBody::Tip(tip(cat, &format!("Tin báo số {i:02} trong tổ"))),
                save,
            )
            .expect("tip");
        ids.push(r.id);
    }
    s.save_report(None, count("2026-01-15", 100, 50, 10), Save::Send)
        .expect("count");

    let all = s
        .list(&ListFilter {
            limit: 10,
            ..ListFilter::default()
        })
        .expect("list");
    assert_eq!(all.total, 31);
    assert_eq!(all.items.len(), 10);
    assert_eq!(all.items[0].kind, ReportKind::IdCount, "newest first");
    assert_eq!(all.items[1].id, ids[29]);
    let page2 = s
        .list(&ListFilter {
            limit: 10,
            offset: 10,
            ..ListFilter::default()
        })
        .expect("page 2");
    assert_eq!(page2.items[0].id, ids[20]);

    let theft = s
        .list(&ListFilter {
            category: Some(TipCategory::Theft),
            ..ListFilter::default()
        })
        .expect("theft");
    assert_eq!(theft.total, 10);
    let drafts = s
        .list(&ListFilter {
            status: Some(ReportStatus::Draft),
            ..ListFilter::default()
        })
        .expect("drafts");
    assert_eq!(drafts.total, 15);
    let queued_theft = s
        .list(&ListFilter {
            kind: Some(ReportKind::Tip),
            status: Some(ReportStatus::Queued),
            category: Some(TipCategory::Theft),
            ..ListFilter::default()
        })
        .expect("queued theft");
    assert_eq!(queued_theft.total, 5);
    let january = s
        .list(&ListFilter {
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            to: NaiveDate::from_ymd_opt(2026, 1, 31),
            ..ListFilter::default()
        })
        .expect("january");
    assert_eq!(january.total, 1);
    assert_eq!(january.items[0].kind, ReportKind::IdCount);
}

#[test]
fn csv_import_is_all_or_nothing() {
    let (_d, mut s) = store();
    let bad = "Địa chỉ,Chủ hộ,Số nhân khẩu\n1 Lê Lợi,An,3\n2 Lê Lợi,,4\n";
    let err = s.import_households(bad.as_bytes()).expect_err("bad row");
    assert_eq!(err.code(), ErrorCode::CsvInvalid);
    assert!(err.message(sotay_domain::Lang::Vi).contains("Dòng 3"));
    assert!(
        s.households(None).expect("list").is_empty(),
        "nothing half-imported"
    );

    let good = "Địa chỉ,Chủ hộ,Số nhân khẩu,Kinh doanh\n1 Lê Lợi,An,3,x\n2 Lê Lợi,Bình,4,\n";
    assert_eq!(s.import_households(good.as_bytes()).expect("ok").len(), 2);
    let list = s.households(None).expect("list");
    assert_eq!(list.len(), 2);
    assert!(list[0].has_business);
}

#[test]
fn outbox_numbers_only_grow() {
    let (d, mut s) = store();
    for i in 0..5 {
        s.save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Other, &format!("Tin báo thứ {i} ở tổ"))),
            Save::Send,
        )
        .expect("tip");
    }
    let seqs: Vec<i64> = s.outbox().expect("o").iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    drop(s);
    let mut s = Store::open_dir(d.path()).expect("reopen");
    s.save_report(
        None,
        ReportBody::Tip(tip(TipCategory::Other, "Tin báo sau khi mở lại")),
        Save::Send,
    )
    .expect("tip");
    assert_eq!(s.outbox().expect("o").last().map(|e| e.seq), Some(6));
}

#[test]
fn household_edits_are_validated_and_kept() {
    let (_d, mut s) = store();
    let h = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("h");
    let mut bad = household("1 Lê Lợi", "", false);
    bad.residents = 4;
    assert_eq!(
        s.update_household(h.id, bad).expect_err("no head").code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(s.household(h.id).expect("kept").head, "An");
    let edited = s
        .update_household(h.id, household("1 Lê Lợi", "Nguyễn Văn An", true))
        .expect("edit");
    assert!(edited.has_business);
    assert_eq!(
        s.update_household(HouseholdId::new_v7(), household("x", "y", false))
            .expect_err("missing")
            .code(),
        ErrorCode::NotFound
    );
}

#[test]
fn a_full_phone_says_so_and_loses_nothing() {
    let (_d, mut s) = store();
    let kept = s
        .save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Theft, "Mất trộm xe máy trước chợ")),
            Save::Send,
        )
        .expect("saved before the disk filled");
    s.cap_growth_for_tests(8).expect("cap");
    let mut err = None;
    for i in 0..200 {
        let text = format!("Tin báo số {i} khi bộ nhớ sắp đầy {}", "x".repeat(2000));
        if let Err(e) = s.save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Other, &text)),
            Save::Send,
        ) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the store fills up");
    assert_eq!(err.code(), ErrorCode::StorageFull, "{err:?}");
    assert!(
        err.message(sotay_domain::Lang::Vi)
            .contains("Bộ nhớ máy đã đầy")
    );
    assert_eq!(s.report(kept.id).expect("still there").id, kept.id);
    s.integrity_check().expect("integrity");
}
