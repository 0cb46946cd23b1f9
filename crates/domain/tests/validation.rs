//! Table-driven tests of every validation rule of the domain.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rstest::rstest;
use sotay_domain::household::{HouseholdInput, parse_csv};
use sotay_domain::ids::HouseholdId;
use sotay_domain::inspection::{
    Answer, ChecklistTemplate, Inspection, InspectionResult, ItemAnswer, TemplateRef, Violation,
};
use sotay_domain::tip::{Gps, Informant, Location, Source, Suspect, Tip, TipCategory, Urgency};
use sotay_domain::{Household, IdCount, Lang};

fn now() -> DateTime<Utc> {
    "2026-11-26T03:00:00Z".parse().expect("time")
}

fn tip() -> Tip {
    Tip {
        photos: Vec::new(),
        category: TipCategory::Drugs,
        description: "Nghi vấn mua bán ma túy ở hẻm 5".into(),
        location: Location {
            text: Some("hẻm 5 Lê Lợi".into()),
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

type TipEdit = fn(&mut Tip);

#[rstest]
#[case::valid(|_: &mut Tip| {}, None)]
#[case::description_blank(|t: &mut Tip| t.description = "   ".into(), Some(("description", "required")))]
#[case::description_9_chars(|t: &mut Tip| t.description = "123456789".into(), Some(("description", "too-short")))]
#[case::description_10_chars(|t: &mut Tip| t.description = "1234567890".into(), None)]
#[case::description_10_chars_with_diacritics(|t: &mut Tip| t.description = "đường ống1".into(), None)]
#[case::description_4000(|t: &mut Tip| t.description = "a".repeat(4000), None)]
#[case::description_4001(|t: &mut Tip| t.description = "a".repeat(4001), Some(("description", "too-long")))]
#[case::no_location(|t: &mut Tip| t.location = Location::default(), Some(("location", "location-required")))]
#[case::blank_location_text(|t: &mut Tip| t.location.text = Some("  ".into()), Some(("location", "location-required")))]
#[case::not_remembered(|t: &mut Tip| t.location = Location::not_remembered(), None)]
#[case::not_remembered_with_text(|t: &mut Tip| t.location.not_remembered = true, Some(("location", "location-conflict")))]
#[case::household_only(|t: &mut Tip| t.location = Location { household_id: Some(HouseholdId::new_v7()), ..Location::default() }, None)]
#[case::gps_only(|t: &mut Tip| t.location = Location { gps: Some(Gps { lat: 18.67, lon: 105.69, accuracy_m: Some(8.0) }), ..Location::default() }, None)]
#[case::lat_out_of_range(|t: &mut Tip| t.location.gps = Some(Gps { lat: 91.0, lon: 105.0, accuracy_m: None }), Some(("location.gps.lat", "out-of-range")))]
#[case::lon_out_of_range(|t: &mut Tip| t.location.gps = Some(Gps { lat: 18.0, lon: -180.5, accuracy_m: None }), Some(("location.gps.lon", "out-of-range")))]
#[case::lat_nan(|t: &mut Tip| t.location.gps = Some(Gps { lat: f64::NAN, lon: 105.0, accuracy_m: None }), Some(("location.gps.lat", "out-of-range")))]
#[case::accuracy_negative(|t: &mut Tip| t.location.gps = Some(Gps { lat: 18.0, lon: 105.0, accuracy_m: Some(-1.0) }), Some(("location.gps.accuracy_m", "out-of-range")))]
#[case::occurred_within_skew(|t: &mut Tip| t.occurred_at = Some(now() + TimeDelta::minutes(5)), None)]
#[case::occurred_in_future(|t: &mut Tip| t.occurred_at = Some(now() + TimeDelta::hours(1)), Some(("occurred_at", "in-future")))]
#[case::occurred_too_old(|t: &mut Tip| t.occurred_at = Some("1999-12-31T00:00:00Z".parse().expect("t")), Some(("occurred_at", "too-old")))]
#[case::anonymous(|t: &mut Tip| t.source = Source::Resident { informant: Informant::Anonymous }, None)]
#[case::named_resident(|t: &mut Tip| t.source = Source::Resident { informant: Informant::Named { name: Some("Bà Hoa".into()), phone: Some("0912 345 678".into()) } }, None)]
#[case::resident_phone_plus84(|t: &mut Tip| t.source = Source::Resident { informant: Informant::Named { name: None, phone: Some("+84 912 345 678".into()) } }, None)]
#[case::resident_bad_phone(|t: &mut Tip| t.source = Source::Resident { informant: Informant::Named { name: None, phone: Some("12345".into()) } }, Some(("source.phone", "bad-format")))]
#[case::suspect_named(|t: &mut Tip| t.suspects = vec![Suspect { name_or_alias: Some("Tý".into()), description: None }], None)]
#[case::suspect_empty(|t: &mut Tip| t.suspects = vec![Suspect { name_or_alias: Some(" ".into()), description: None }], Some(("suspects[0]", "required")))]
#[case::too_many_suspects(|t: &mut Tip| t.suspects = vec![Suspect { name_or_alias: Some("x".into()), description: None }; 21], Some(("suspects", "too-many")))]
fn tip_rules(#[case] edit: TipEdit, #[case] expected: Option<(&str, &str)>) {
    let mut t = tip();
    edit(&mut t);
    let result = t.validate(now());
    match expected {
        None => assert!(result.is_ok(), "expected valid, got {result:?}"),
        Some((field, code)) => {
            let err = result.expect_err("expected an error");
            assert!(err.has(field, code), "expected {field}/{code}, got {err:?}");
        }
    }
}

#[test]
fn every_tip_category_parses_from_its_code() {
    for c in TipCategory::ALL {
        assert_eq!(c.code().parse::<TipCategory>(), Ok(*c));
    }
    assert_eq!(TipCategory::ALL.len(), 12);
    let err = "drug".parse::<TipCategory>().expect_err("unknown");
    assert!(err.allowed.contains(&"loan-sharking"));
}

#[test]
fn anonymous_informant_has_no_fields_on_the_wire() {
    let mut t = tip();
    t.source = Source::Resident {
        informant: Informant::Anonymous,
    };
    let json = serde_json::to_value(&t).expect("json");
    assert_eq!(
        json["source"],
        serde_json::json!({"kind": "resident", "informant": {"kind": "anonymous"}})
    );
    // A payload that smuggles a name into an anonymous informant loses it.
    let smuggled: Tip = serde_json::from_value(serde_json::json!({
        "category": "drugs", "description": "Nghi vấn mua bán ma túy",
        "location": {"not_remembered": true},
        "source": {"kind": "resident", "informant": {"kind": "anonymous", "name": "Bà Hoa", "phone": "0912345678"}}
    }))
    .expect("parses");
    let back = serde_json::to_string(&smuggled).expect("json");
    assert!(
        !back.contains("Hoa") && !back.contains("0912345678"),
        "{back}"
    );
}

#[test]
fn messages_are_vietnamese_first() {
    let mut t = tip();
    t.description = "ngắn".into();
    let err = t.validate(now()).expect_err("too short");
    assert_eq!(
        err.messages(Lang::Vi),
        vec!["Nội dung: cần ít nhất 10 ký tự"]
    );
    assert_eq!(
        err.messages(Lang::En),
        vec!["Description: needs at least 10 characters"]
    );
}

fn household(has_business: bool) -> Household {
    Household {
        id: HouseholdId::new_v7(),
        data: HouseholdInput {
            address: "12 Lê Lợi".into(),
            head: "Nguyễn Văn An".into(),
            residents: 4,
            phone: None,
            has_business,
            rents_rooms: false,
            notes: None,
        },
    }
}

fn inspection(h: &Household, fail: &[&str]) -> Inspection {
    let template = ChecklistTemplate::household_v1();
    Inspection {
        household_id: h.id,
        inspected_at: now(),
        inspector: "Tổ trưởng".into(),
        template: TemplateRef {
            id: template.id.clone(),
            version: template.version,
        },
        answers: template
            .items
            .iter()
            .map(|i| ItemAnswer {
                photos: Vec::new(),
                item: i.code.clone(),
                answer: if !ChecklistTemplate::applies_to(i, h) {
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
                deadline: sotay_domain::vietnam_date(now()) + TimeDelta::days(7),
            })
            .collect(),
        reinspect_on: None,
        acknowledged_by: Some("Chị Lan".into()),
        notes: None,
    }
}

#[test]
fn checklist_v1_has_the_twelve_items() {
    let t = ChecklistTemplate::household_v1();
    assert_eq!(t.items.len(), 12);
    let recommended: Vec<u32> = t
        .items
        .iter()
        .filter(|i| !i.required)
        .map(|i| i.number)
        .collect();
    assert_eq!(recommended, vec![9, 10]);
    assert_eq!(
        t.item("11").map(|i| i.applies),
        Some(sotay_domain::inspection::Applies::HasBusiness)
    );
    assert!(t.items[7].label.vi.starts_with("Chuồng cọp"));
}

#[rstest]
#[case::all_pass(&[], InspectionResult::Pass)]
#[case::recommended_fails(&["smoke-alarm", "rescue-tools"], InspectionResult::Pass)]
#[case::required_fails(&["escape-routes"], InspectionResult::Fail)]
#[case::required_and_recommended(&["electrical", "smoke-alarm"], InspectionResult::Fail)]
fn inspection_result_is_derived(#[case] fail: &[&str], #[case] expected: InspectionResult) {
    let h = household(false);
    let i = inspection(&h, fail);
    let t = ChecklistTemplate::household_v1();
    assert_eq!(i.validate(&t, &h, now()), Ok(()));
    assert_eq!(i.result(&t), expected);
}

type InspectionEdit = fn(&mut Inspection);

#[rstest]
#[case::missing_answer(|i: &mut Inspection| { i.answers.remove(0); }, "answers.electrical", "missing-answer")]
#[case::duplicate(|i: &mut Inspection| { let a = i.answers[0].clone(); i.answers.push(a); }, "answers[12]", "duplicate")]
#[case::unknown_item(|i: &mut Inspection| i.answers[0].item = "no-such".into(), "answers[0]", "unknown-item")]
#[case::business_item_on_home(|i: &mut Inspection| i.answers[10].answer = Answer::Pass, "answers[10]", "not-applicable")]
#[case::violation_of_passed_item(|i: &mut Inspection| i.violations.push(Violation { item: "electrical".into(), fix: "Sửa".into(), deadline: NaiveDate::from_ymd_opt(2026, 12, 1).expect("d") }), "violations[0].item", "item-not-failed")]
#[case::deadline_before(|i: &mut Inspection| { i.answers[5].answer = Answer::Fail; i.violations.push(Violation { item: "extinguisher".into(), fix: "Mua bình mới".into(), deadline: NaiveDate::from_ymd_opt(2026, 11, 1).expect("d") }) }, "violations[0].deadline", "before-inspection")]
#[case::fix_blank(|i: &mut Inspection| { i.answers[5].answer = Answer::Fail; i.violations.push(Violation { item: "extinguisher".into(), fix: " ".into(), deadline: NaiveDate::from_ymd_opt(2026, 12, 1).expect("d") }) }, "violations[0].fix", "required")]
#[case::fail_without_fix(|i: &mut Inspection| i.answers[5].answer = Answer::Fail, "answers.extinguisher.fix", "fix-required")]
#[case::reinspect_before(|i: &mut Inspection| i.reinspect_on = NaiveDate::from_ymd_opt(2026, 1, 1), "reinspect_on", "before-inspection")]
#[case::no_inspector(|i: &mut Inspection| i.inspector = "".into(), "inspector", "required")]
#[case::future(|i: &mut Inspection| i.inspected_at = now() + TimeDelta::days(2), "inspected_at", "in-future")]
#[case::other_template(|i: &mut Inspection| i.template.version = 9, "template", "not-found")]
fn inspection_rules(#[case] edit: InspectionEdit, #[case] field: &str, #[case] code: &str) {
    let h = household(false);
    let mut i = inspection(&h, &[]);
    edit(&mut i);
    let err = i
        .validate(&ChecklistTemplate::household_v1(), &h, now())
        .expect_err("invalid");
    assert!(err.has(field, code), "expected {field}/{code}, got {err:?}");
}

#[test]
fn reinspection_is_due_on_the_day_set_or_else_the_first_deadline() {
    let h = household(false);
    let mut i = inspection(&h, &["electrical", "escape-routes"]);
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
    i.violations[0].deadline = day(20);
    i.violations[1].deadline = day(9);
    assert_eq!(i.reinspection_due(), Some(day(9)), "the earliest deadline");
    i.reinspect_on = Some(day(15));
    assert_eq!(
        i.reinspection_due(),
        Some(day(15)),
        "the day the leader set"
    );
    let passing = inspection(&h, &[]);
    assert_eq!(passing.reinspection_due(), None);
}

#[test]
fn completing_answers_what_does_not_apply_and_orders_by_the_template() {
    let t = ChecklistTemplate::household_v1();
    let h = household(false);
    let mut i = inspection(&h, &[]);
    i.answers.retain(|a| a.answer != Answer::NotApplicable);
    i.answers.reverse();
    assert!(
        i.validate(&t, &h, now()).is_ok(),
        "what does not apply may be left out"
    );
    i.complete(&t, &h);
    assert_eq!(i, inspection(&h, &[]));
    // A home with a business is asked every item: nothing is filled in.
    let b = household(true);
    let mut j = inspection(&b, &[]);
    j.answers.retain(|a| a.item != "business-separation");
    j.complete(&t, &b);
    assert!(
        j.validate(&t, &b, now())
            .expect_err("unanswered")
            .has("answers.business-separation", "missing-answer")
    );
}

#[test]
fn a_published_checklist_is_checked_before_devices_get_it() {
    let t = ChecklistTemplate::household_v1();
    assert_eq!(t.validate(), Ok(()));
    type Edit = fn(&mut ChecklistTemplate);
    let cases: [(Edit, &str, &str); 7] = [
        (|t| t.id = "other".into(), "id", "unknown-code"),
        (|t| t.version = 0, "version", "out-of-range"),
        (|t| t.title.en = " ".into(), "title.en", "required"),
        (|t| t.items.clear(), "items", "required"),
        (
            |t| t.items[3].code = "Lối thoát".into(),
            "items[3].code",
            "bad-format",
        ),
        (
            |t| t.items[3].code = t.items[2].code.clone(),
            "items[3].code",
            "duplicate",
        ),
        (|t| t.items[5].number = 9, "items[5].number", "bad-format"),
    ];
    for (edit, field, code) in cases {
        let mut bad = t.clone();
        edit(&mut bad);
        let err = bad.validate().expect_err(field);
        assert!(err.has(field, code), "{field}/{code}: {err:?}");
    }
}

#[test]
fn business_item_applies_to_homes_with_a_business() {
    let h = household(true);
    let mut i = inspection(&h, &["business-separation"]);
    let t = ChecklistTemplate::household_v1();
    assert_eq!(i.validate(&t, &h, now()), Ok(()));
    assert_eq!(i.result(&t), InspectionResult::Fail);
    i.answers.retain(|a| a.item != "business-separation");
    assert!(
        i.validate(&t, &h, now())
            .expect_err("missing")
            .has("answers.business-separation", "missing-answer")
    );
}

fn count(residents: u32, collected: u32, activated: u32) -> IdCount {
    IdCount {
        date: NaiveDate::from_ymd_opt(2026, 11, 26).expect("date"),
        residents,
        collected,
        activated,
        helped: 0,
    }
}

#[rstest]
#[case(110, 80, 40, None)]
#[case(110, 110, 110, None)]
#[case(0, 0, 0, None)]
#[case(110, 80, 81, Some(("activated", "exceeds-collected")))]
#[case(110, 111, 0, Some(("collected", "exceeds-residents")))]
#[case(100_001, 0, 0, Some(("residents", "out-of-range")))]
fn count_rules(
    #[case] residents: u32,
    #[case] collected: u32,
    #[case] activated: u32,
    #[case] expected: Option<(&str, &str)>,
) {
    let r = count(residents, collected, activated).validate(now());
    match expected {
        None => assert_eq!(r, Ok(())),
        Some((f, c)) => assert!(r.expect_err("invalid").has(f, c)),
    }
}

#[rstest]
// 03:00 UTC on the 26th is 10:00 on the 26th in Vietnam.
#[case("2026-11-26", true)]
#[case("2026-11-27", false)]
#[case("1999-12-31", false)]
fn count_day_is_a_vietnamese_date(#[case] date: &str, #[case] ok: bool) {
    let mut c = count(10, 5, 1);
    c.date = date.parse().expect("date");
    assert_eq!(c.validate(now()).is_ok(), ok, "{date}");
}

#[test]
fn count_day_rolls_over_at_vietnamese_midnight() {
    // 17:30 UTC on the 26th is 00:30 on the 27th in Vietnam.
    let late: DateTime<Utc> = "2026-11-26T17:30:00Z".parse().expect("t");
    let mut c = count(10, 5, 1);
    c.date = "2026-11-27".parse().expect("date");
    assert_eq!(c.validate(late), Ok(()));
}

type HouseholdEdit = fn(&mut HouseholdInput);

#[rstest]
#[case::valid(|_: &mut HouseholdInput| {}, None)]
#[case::no_address(|h: &mut HouseholdInput| h.address = " ".into(), Some(("address", "required")))]
#[case::no_head(|h: &mut HouseholdInput| h.head = "".into(), Some(("head", "required")))]
#[case::residents_too_many(|h: &mut HouseholdInput| h.residents = 1001, Some(("residents", "out-of-range")))]
#[case::phone_ok(|h: &mut HouseholdInput| h.phone = Some("0238.3844.123".into()), None)]
#[case::phone_bad(|h: &mut HouseholdInput| h.phone = Some("abc".into()), Some(("phone", "bad-format")))]
#[case::notes_too_long(|h: &mut HouseholdInput| h.notes = Some("x".repeat(2001)), Some(("notes", "too-long")))]
fn household_rules(#[case] edit: HouseholdEdit, #[case] expected: Option<(&str, &str)>) {
    let mut h = household(false).data;
    edit(&mut h);
    match expected {
        None => assert_eq!(h.validate(), Ok(())),
        Some((f, c)) => assert!(h.validate().expect_err("invalid").has(f, c)),
    }
}

#[test]
fn csv_with_vietnamese_headers_bom_and_semicolons() {
    let csv = "\u{feff}Địa chỉ;Chủ hộ;Số nhân khẩu;Số điện thoại;Kinh doanh;Cho thuê trọ;Ghi chú\n\
               12 Lê Lợi;Nguyễn Văn An;4;0912 345 678;x;;\n\
               5 Hẻm 3;Trần Thị Bình;2;;không;có;nhà trọ 6 phòng\n";
    let rows = parse_csv(csv.as_bytes()).expect("valid");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].phone.as_deref(), Some("0912345678"));
    assert!(rows[0].has_business && !rows[0].rents_rooms);
    assert!(!rows[1].has_business && rows[1].rents_rooms);
    assert_eq!(rows[1].notes.as_deref(), Some("nhà trọ 6 phòng"));
}

#[test]
fn csv_errors_name_every_bad_line() {
    let csv = "dia chi,chu ho,so nhan khau,kinh doanh\n\
               12 Lê Lợi,Nguyễn Văn An,4,x\n\
               ,Trần Thị Bình,2,\n\
               7 Phan Đình Phùng,Lê Văn C,-1,\n\
               9 Nguyễn Du,Hồ Thị D,3,maybe\n";
    let err = parse_csv(csv.as_bytes()).expect_err("bad rows");
    let lines: Vec<(u64, &str, &str)> = err
        .0
        .iter()
        .map(|e| (e.line, e.error.field.as_str(), e.error.rule.code()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, "address", "required"),
            (4, "residents", "out-of-range"),
            (5, "has_business", "bad-format"),
        ]
    );
    assert_eq!(
        err.0[0].message(Lang::Vi),
        "Dòng 3: Địa chỉ: không được để trống"
    );
}

#[rstest]
#[case::missing_required_header("dia chi,chu ho\n1,2\n", "residents")]
#[case::duplicate_header("dia chi,address,chu ho,so nhan khau\n", "address")]
fn csv_header_problems(#[case] csv: &str, #[case] field: &str) {
    let err = parse_csv(csv.as_bytes()).expect_err("bad header");
    assert!(
        err.0.iter().any(|e| e.line == 1 && e.error.field == field),
        "{err:?}"
    );
}

#[test]
fn csv_that_is_not_utf8_is_refused() {
    let mut bytes = b"dia chi,chu ho,so nhan khau\n12 L".to_vec();
    bytes.push(0xea); // Latin-1 "ê"
    bytes.extend_from_slice(b" Loi,An,3\n");
    let err = parse_csv(&bytes).expect_err("not utf-8");
    assert_eq!(err.0[0].line, 2);
    assert_eq!(err.0[0].error.rule.code(), "bad-format");
}
