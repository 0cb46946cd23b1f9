//! The engine functions behind the app's screens, on a real store file:
//! settings, the household list with fire-safety marks, the next household
//! to inspect, Đề án 06 progress and the home screen.

mod common;

use chrono::{NaiveDate, TimeDelta, Utc};
use common::{household, store, tip};
use sotay_device::{AppSettings, DeviceError, InspectionMark, Save, Store};
use sotay_domain::count::IdCount;
use sotay_domain::ids::HouseholdId;
use sotay_domain::inspection::{Answer, ChecklistTemplate, Inspection, InspectionResult};
use sotay_domain::labels::Lang;
use sotay_domain::report::{ReportBody, ReportStatus};
use sotay_domain::tip::TipCategory;
use sotay_domain::vietnam_date;
use sotay_domain::wire::{PullEntry, PullItem};

/// The common inspection, each failed item's fix due on `deadline` when
/// it is given.
fn inspection(household_id: HouseholdId, fail: &[&str], deadline: Option<NaiveDate>) -> Inspection {
    let mut i = common::inspection(household_id, fail);
    if let Some(d) = deadline {
        for v in &mut i.violations {
            v.deadline = d;
        }
    }
    i.acknowledged_by = Some("Chị Lan".into());
    i.notes = None;
    i
}

#[test]
fn settings_default_to_vietnamese_and_survive_reopening() {
    let (dir, mut s) = store();
    assert_eq!(s.settings().expect("read"), AppSettings::default());
    assert_eq!(s.settings().expect("read").lang, Lang::Vi);
    let wanted = AppSettings {
        lang: Lang::En,
        wifi_only: true,
        photos_on_mobile_data: true,
    };
    s.save_settings(&wanted).expect("save");
    drop(s);
    let s = Store::open_dir(dir.path()).expect("reopen");
    assert_eq!(s.settings().expect("read"), wanted);
}

#[test]
fn household_rows_mark_inspected_failed_and_due() {
    let (_d, mut s) = store();
    let a = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("a");
    let b = s
        .add_household(household("2 Lê Lợi", "Bình", false))
        .expect("b");
    let c = s
        .add_household(household("3 Lê Lợi", "Cường", false))
        .expect("c");
    let d = s
        .add_household(household("4 Lê Lợi", "Dũng", false))
        .expect("d");
    let today = vietnam_date(Utc::now());
    let later = today + TimeDelta::days(30);

    s.save_report(
        None,
        ReportBody::Inspection(inspection(a.id, &[], None)),
        Save::Send,
    )
    .expect("a passes");
    s.save_report(
        None,
        ReportBody::Inspection(inspection(b.id, &["extinguisher"], Some(later))),
        Save::Send,
    )
    .expect("b fails");
    s.save_report(
        None,
        ReportBody::Inspection(inspection(c.id, &["extinguisher"], Some(today))),
        Save::Send,
    )
    .expect("c fails, due today");
    // A draft is not an inspection done.
    s.save_report(
        None,
        ReportBody::Inspection(inspection(d.id, &[], None)),
        Save::Draft,
    )
    .expect("d draft");

    let rows = s.household_rows(None, today).expect("rows");
    let marks: Vec<_> = rows
        .iter()
        .map(|r| (r.household.head.as_str(), r.mark))
        .collect();
    assert_eq!(
        marks,
        vec![
            ("An", InspectionMark::Passed),
            ("Bình", InspectionMark::Failed),
            ("Cường", InspectionMark::ReinspectionDue),
            ("Dũng", InspectionMark::NotInspected),
        ]
    );
    let b_last = rows[1].last.as_ref().expect("b inspected");
    assert_eq!(b_last.result, InspectionResult::Fail);
    assert_eq!(b_last.due, Some(later));
    assert_eq!(b_last.status, ReportStatus::Queued);
    // Thirty days on, Bình is due too.
    let rows = s.household_rows(None, later).expect("rows");
    assert_eq!(rows[1].mark, InspectionMark::ReinspectionDue);
    // Search folds diacritics and keeps the marks.
    let found = s.household_rows(Some("cuong"), today).expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].mark, InspectionMark::ReinspectionDue);

    assert_eq!(
        s.next_uninspected().expect("next").map(|h| h.id),
        Some(d.id),
        "the draft-only household is next"
    );
}

#[test]
fn next_uninspected_is_none_when_all_are_done_or_register_empty() {
    let (_d, mut s) = store();
    assert_eq!(s.next_uninspected().expect("empty"), None);
    let a = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("a");
    assert_eq!(
        s.next_uninspected().expect("next").map(|h| h.id),
        Some(a.id)
    );
    s.save_report(
        None,
        ReportBody::Inspection(inspection(a.id, &[], None)),
        Save::Send,
    )
    .expect("pass");
    assert_eq!(s.next_uninspected().expect("none left"), None);
}

#[test]
fn count_progress_uses_the_latest_sent_count_or_the_register() {
    let (_d, mut s) = store();
    s.add_household(household("1 Lê Lợi", "An", false))
        .expect("a");
    s.add_household(household("2 Lê Lợi", "Bình", false))
        .expect("b");
    let p = s.count_progress().expect("empty");
    assert_eq!((p.residents, p.collected, p.activated), (8, 0, 0));
    assert_eq!(p.register_residents, 8);
    assert!(p.latest.is_none());

    let day = |d: &str| d.parse::<NaiveDate>().expect("date");
    let count = |date: &str, residents, collected, activated| {
        ReportBody::IdCount(IdCount {
            date: day(date),
            residents,
            collected,
            activated,
            helped: 0,
        })
    };
    s.save_report(None, count("2026-11-20", 110, 70, 30), Save::Send)
        .expect("older");
    s.save_report(None, count("2026-11-21", 110, 80, 41), Save::Send)
        .expect("newer");
    // A draft of a later day does not count yet.
    s.save_report(None, count("2026-11-22", 110, 90, 99), Save::Draft)
        .expect("draft");
    let p = s.count_progress().expect("progress");
    assert_eq!((p.residents, p.collected, p.activated), (110, 80, 41));
    assert_eq!(p.latest.map(|c| c.date), Some(day("2026-11-21")));
}

#[test]
fn home_shows_place_waiting_counts_and_no_decisions_before_sync() {
    let (_d, mut s) = store();
    s.save_report(
        None,
        ReportBody::Tip(tip(TipCategory::Drugs, "Nghi vấn mua bán ma túy ở hẻm 5")),
        Save::Send,
    )
    .expect("tip");
    s.save_report(
        None,
        ReportBody::Tip(tip(TipCategory::Theft, "Mất trộm xe máy")),
        Save::Draft,
    )
    .expect("draft");
    let home = s.home().expect("home");
    assert_eq!(
        home.place.as_ref().map(|p| p.group.code.as_str()),
        Some("k01-t03")
    );
    assert_eq!(home.sync.pending, 1);
    assert_eq!(home.sync.drafts, 1);
    assert!(!home.sync.enrolled);
    assert!(home.decisions.is_empty());
    assert!(s.ward_decisions(5).expect("decisions").is_empty());
}

#[test]
fn home_works_before_the_device_has_a_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open_dir(dir.path()).expect("open");
    let home = s.home().expect("home");
    assert!(home.place.is_none());
    assert_eq!(home.sync.pending, 0);
}

/// A household the ward takes off the register (a `household-removed` pull
/// item) or the leader marks moved away leaves the lists, the search, the
/// next-to-inspect and the resident total, while its reports keep naming
/// it; the ward adding it back brings it back. A pull item this build does
/// not know is skipped.
#[test]
fn households_taken_off_the_register_leave_the_lists_not_the_reports() {
    use sotay_domain::household::Household;
    use sotay_domain::wire::{PullEntry, PullItem};
    let (_d, mut s) = store();
    let a = Household {
        id: HouseholdId::new_v7(),
        data: household("1 Lê Lợi", "An", false),
    };
    let b = s
        .add_household(household("2 Lê Lợi", "Bình", false))
        .expect("b");
    let entry = |seq, item| PullEntry {
        server_seq: seq,
        item,
    };
    s.apply_pull(
        &[entry(
            1,
            PullItem::Household {
                household: a.clone(),
            },
        )],
        1,
    )
    .expect("pulled");
    let inspected = s
        .save_report(
            None,
            ReportBody::Inspection(inspection(a.id, &[], None)),
            Save::Send,
        )
        .expect("inspection");
    assert_eq!(s.households(None).expect("list").len(), 2);
    assert_eq!(s.count_progress().expect("count").register_residents, 8);

    s.apply_pull(
        &[
            entry(2, PullItem::HouseholdRemoved { household_id: a.id }),
            entry(3, PullItem::Unknown),
        ],
        3,
    )
    .expect("pulled");
    let listed: Vec<_> = s
        .household_rows(None, Utc::now().date_naive())
        .expect("rows")
        .into_iter()
        .map(|r| r.household.id)
        .collect();
    assert_eq!(listed, [b.id]);
    assert!(s.households(Some("an")).expect("search").is_empty());
    assert_eq!(s.count_progress().expect("count").register_residents, 4);
    assert_eq!(
        s.next_uninspected().expect("next").map(|h| h.id),
        Some(b.id)
    );
    // Its report and the household itself are still there.
    assert_eq!(s.household(a.id).expect("kept").head, "An");
    assert_eq!(
        s.report(inspected.id).expect("report").status,
        ReportStatus::Queued
    );
    let listed = s.list(&sotay_device::ListFilter::default()).expect("list");
    assert!(
        listed
            .items
            .iter()
            .any(|r| r.id == inspected.id && r.title.contains("1 Lê Lợi")),
        "{listed:?}"
    );

    // The leader marks the other one moved away; twice is an error.
    s.remove_household(b.id).expect("moved away");
    assert!(s.households(None).expect("list").is_empty());
    assert!(s.remove_household(b.id).is_err());

    // The ward puts the first one back.
    s.apply_pull(
        &[entry(
            4,
            PullItem::Household {
                household: a.clone(),
            },
        )],
        4,
    )
    .expect("pulled");
    assert_eq!(
        s.households(None)
            .expect("list")
            .iter()
            .map(|h| h.id)
            .collect::<Vec<_>>(),
        [a.id]
    );
}

/// The household checklist as the ward might publish it next.
fn template_v2() -> ChecklistTemplate {
    ChecklistTemplate::household_v2_example()
}

#[test]
fn the_wizard_asks_what_applies_from_the_newest_published_checklist() {
    let (_d, mut s) = store();
    let home = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("home");
    let shop = s
        .add_household(household("2 Lê Lợi", "Bình", true))
        .expect("shop");
    let plan = s.inspection_plan(home.id).expect("plan");
    assert_eq!(
        plan.template.version, 1,
        "the built-in one before any is published"
    );
    assert_eq!(plan.items.len(), 11, "the business item does not apply");
    assert!(plan.items.iter().all(|i| i.code != "business-separation"));
    assert_eq!(s.inspection_plan(shop.id).expect("plan").items.len(), 12);

    s.apply_pull(
        &[PullEntry {
            server_seq: 1,
            item: PullItem::Template {
                template: template_v2(),
            },
        }],
        1,
    )
    .expect("pull");
    let plan = s.inspection_plan(home.id).expect("plan");
    assert_eq!(plan.template.version, 2, "the ward's newest");
    assert_eq!(
        plan.items.last().map(|i| i.code.as_str()),
        Some("lightning-rod")
    );
    // An older version arriving later does not take its place.
    let mut v1 = ChecklistTemplate::household_v1();
    v1.title.vi = "cũ".into();
    s.apply_pull(
        &[PullEntry {
            server_seq: 2,
            item: PullItem::Template { template: v1 },
        }],
        2,
    )
    .expect("pull");
    assert_eq!(
        s.inspection_plan(home.id).expect("plan").template.version,
        2
    );
    assert!(matches!(
        s.inspection_plan(HouseholdId::new_v7()),
        Err(DeviceError::NotFound { .. })
    ));
}

#[test]
fn the_engine_checks_an_inspection_as_it_is_written() {
    let (_d, mut s) = store();
    let h = s
        .add_household(household("1 Lê Lợi", "An", false))
        .expect("h");
    // Only what applies answered, out of order: the engine completes it.
    let mut i = inspection(h.id, &["extinguisher"], None);
    i.answers.retain(|a| a.item != "business-separation");
    i.answers.reverse();
    let check = s
        .check_report(ReportBody::Inspection(i.clone()))
        .expect("check");
    assert_eq!(check.problems, vec![]);
    assert_eq!(check.result, Some(InspectionResult::Fail));
    assert_eq!(check.reinspection_due, Some(i.violations[0].deadline));
    let ReportBody::Inspection(checked) = &check.body else {
        panic!("an inspection")
    };
    assert_eq!(checked.answers.len(), 12);
    assert_eq!(checked.answers[0].item, "electrical");
    assert_eq!(checked.answers[10].answer, Answer::NotApplicable);

    // Unanswered, and failed without its fix: problems with fields, never
    // a silent pass; sending is refused with the same fields, nothing saved.
    let mut bad = i.clone();
    bad.answers.retain(|a| a.item != "smoke-alarm");
    bad.violations.clear();
    let check = s
        .check_report(ReportBody::Inspection(bad.clone()))
        .expect("check");
    let fields: Vec<(&str, &str)> = check
        .problems
        .iter()
        .map(|p| (p.field.as_str(), p.rule.code()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("answers.smoke-alarm", "missing-answer"),
            ("answers.extinguisher.fix", "fix-required"),
        ]
    );
    let refused = s
        .save_report(None, ReportBody::Inspection(bad), Save::Send)
        .expect_err("refused");
    let DeviceError::Invalid(v) = refused else {
        panic!("invalid: {refused:?}")
    };
    assert!(v.has("answers.smoke-alarm", "missing-answer"));
    assert_eq!(s.home().expect("home").sync.pending, 0);

    // A count: the same rules the form marks as the leader types.
    let count = IdCount {
        date: vietnam_date(Utc::now()),
        residents: 110,
        collected: 80,
        activated: 90,
        helped: 0,
    };
    let check = s.check_report(ReportBody::IdCount(count)).expect("check");
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.field == "activated" && p.rule.code() == "exceeds-collected")
    );
    assert_eq!(check.result, None);
}

/// The ward's announcements on the device: kept from the pull (again: an
/// edited text replaces the old), urgent first on the home screen; read
/// once, its receipt waits for the next sync until acknowledged; each
/// announcement and each new ward decision raises one local notification.
#[test]
fn announcements_are_kept_read_and_notified_once() {
    use sotay_domain::announcement::Announcement;
    use sotay_domain::wire::WardStatus;
    let (_d, mut s) = store();
    let tip_id = s
        .save_report(
            None,
            ReportBody::Tip(tip(TipCategory::Theft, "Trộm xe đạp ở chợ")),
            Save::Send,
        )
        .expect("tip")
        .id;
    let at = |m: i64| Utc::now() - TimeDelta::minutes(m);
    let normal = Announcement {
        id: sotay_domain::AnnouncementId::new_v7(),
        title: "Phòng cháy dịp Tết".into(),
        text: "Kiểm tra bình chữa cháy.".into(),
        urgent: false,
        sent_at: at(5),
        photo: None,
    };
    let urgent = Announcement {
        id: sotay_domain::AnnouncementId::new_v7(),
        title: "Cảnh giác lừa đảo".into(),
        text: "Công an không gọi điện đòi tiền.".into(),
        urgent: true,
        sent_at: at(10),
        photo: None,
    };
    let old = Announcement {
        id: sotay_domain::AnnouncementId::new_v7(),
        title: "Họp tổ tháng trước".into(),
        text: "Đã họp.".into(),
        urgent: false,
        sent_at: Utc::now() - TimeDelta::days(10),
        photo: None,
    };
    let entry = |seq, item| PullEntry {
        server_seq: seq,
        item,
    };
    s.apply_pull(
        &[
            entry(0, PullItem::Announcement { announcement: old }),
            entry(
                1,
                PullItem::Announcement {
                    announcement: normal.clone(),
                },
            ),
            entry(
                2,
                PullItem::Announcement {
                    announcement: urgent.clone(),
                },
            ),
            entry(
                3,
                PullItem::TipStatus {
                    report_id: tip_id,
                    status: WardStatus::Verifying,
                    note: Some("Đã cử người".into()),
                    decided_at: at(1),
                },
            ),
        ],
        3,
    )
    .expect("pulled");
    let home = s.home().expect("home");
    let titles: Vec<_> = home
        .announcements
        .iter()
        .map(|a| a.announcement.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Cảnh giác lừa đảo",
            "Phòng cháy dịp Tết",
            "Họp tổ tháng trước"
        ],
        "urgent first, then the newest"
    );
    assert!(home.announcements.iter().all(|a| !a.read));

    let notices = s.take_notices(Lang::Vi).expect("notices");
    // The old one (a newly enrolled phone pulls everything) raises none,
    // and no announcement's text goes to the lock screen.
    assert_eq!(notices.len(), 3, "{notices:?}");
    assert!(
        notices
            .iter()
            .all(|n| !n.body.contains("Công an không gọi")),
        "{notices:?}"
    );
    assert!(notices[0].urgent && notices[0].title == "Cảnh giác lừa đảo");
    assert!(notices[2].title.contains("Đang xác minh"), "{notices:?}");
    // A lock screen is read by whoever holds the phone: no tip, no note.
    assert!(
        !notices[2].body.contains("Trộm") && !notices[2].body.contains("Đã cử"),
        "{notices:?}"
    );
    assert!(
        s.take_notices(Lang::Vi).expect("again").is_empty(),
        "each once"
    );

    // An edited text replaces the old one; read stays unread; no new notice.
    let mut edited = normal.clone();
    edited.text = "Kiểm tra bình chữa cháy và ổ điện.".into();
    s.apply_pull(
        &[entry(
            4,
            PullItem::Announcement {
                announcement: edited,
            },
        )],
        4,
    )
    .expect("pulled");
    assert!(s.take_notices(Lang::Vi).expect("after edit").is_empty());

    let missing = sotay_domain::AnnouncementId::new_v7();
    assert!(matches!(
        s.mark_announcement_read(missing, Utc::now()),
        Err(DeviceError::NotFound { .. })
    ));
    s.mark_announcement_read(urgent.id, at(0)).expect("read");
    s.mark_announcement_read(urgent.id, Utc::now())
        .expect("read again");
    let receipts = s.unsent_read_receipts().expect("receipts");
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].announcement_id, urgent.id);
    s.read_receipts_sent(&receipts).expect("acknowledged");
    assert!(s.unsent_read_receipts().expect("none").is_empty());
    let home = s.home().expect("home");
    assert!(home.announcements[0].read && !home.announcements[1].read);
    assert!(home.announcements[1].announcement.text.contains("ổ điện"));

    // A later decision on the same tip notifies again.
    s.apply_pull(
        &[entry(
            5,
            PullItem::TipStatus {
                report_id: tip_id,
                status: WardStatus::Resolved,
                note: None,
                decided_at: Utc::now(),
            },
        )],
        5,
    )
    .expect("pulled");
    let notices = s.take_notices(Lang::Vi).expect("notices");
    assert_eq!(notices.len(), 1);
    assert!(notices[0].title.contains("Đã xử lý"), "{notices:?}");
}

/// A campaign card adds what this phone holds to what the server counted
/// for the group: right offline, counting each household, tip or count
/// once, only within the period, drafts not yet. Only running campaigns
/// are shown; a new one is notified once; one the server no longer lists
/// is dropped.
#[test]
fn campaign_cards_add_what_the_phone_holds_to_the_servers_figures() {
    use sotay_domain::campaign::{Campaign, Goal, HouseholdScope};
    use sotay_domain::ids::{CampaignId, ReportId};
    use sotay_domain::wire::{GroupCampaign, InspectedHousehold};
    let (_d, mut s) = store();
    let today = vietnam_date(Utc::now());
    let day = |n: i64| today + TimeDelta::days(n);
    let h12 = s
        .add_household(household("12 Lê Lợi", "An", true))
        .expect("12");
    let h2 = s
        .add_household(household("2 Lê Lợi", "Bình", true))
        .expect("2");
    let h5 = s
        .add_household(household("5 Lê Lợi", "Cúc", true))
        .expect("5");
    let h7 = s
        .add_household(household("7 Lê Lợi", "Dũng", false))
        .expect("7");
    let campaign = |title: &str, from: i64, to: i64, goal: Goal| Campaign {
        id: CampaignId::new_v7(),
        title: title.into(),
        starts_on: day(from),
        ends_on: day(to),
        goal,
    };
    let fire = campaign(
        "PCCC hộ kinh doanh",
        -2,
        5,
        Goal::FireSafety {
            target: 100,
            households: HouseholdScope::Business,
        },
    );
    let tips = campaign(
        "Tháng phòng chống ma túy",
        -2,
        20,
        Goal::Tips {
            target: 3,
            categories: vec![TipCategory::Drugs],
        },
    );
    let id06 = campaign("Kích hoạt mức 2", -10, 10, Goal::Id06 { target: 60 });
    let ended = campaign("Đã xong", -20, -1, Goal::Id06 { target: 10 });
    let coming = campaign("Sắp tới", 3, 9, Goal::Id06 { target: 10 });
    let server_tip = ReportId::new_v7();
    let with = |c: &Campaign| GroupCampaign {
        campaign: c.clone(),
        inspected: Vec::new(),
        tips: Vec::new(),
        count: None,
    };
    let mut all = vec![
        with(&fire),
        with(&tips),
        with(&id06),
        with(&ended),
        with(&coming),
    ];
    // Another phone of the group inspected "12 Lê Lợi" yesterday, and a
    // household this phone does not have.
    all[0].inspected = vec![
        InspectedHousehold {
            household_id: h12.id,
            day: day(-1),
        },
        InspectedHousehold {
            household_id: HouseholdId::new_v7(),
            day: day(-1),
        },
    ];
    all[1].tips = vec![server_tip];
    all[2].count = Some(IdCount {
        date: day(-1),
        residents: 100,
        collected: 80,
        activated: 50,
        helped: 0,
    });
    s.replace_campaigns(&all, Utc::now()).expect("replace");

    let cards = s.campaigns(today, Lang::Vi).expect("cards");
    let titles: Vec<&str> = cards.iter().map(|c| c.campaign.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "PCCC hộ kinh doanh",
            "Kích hoạt mức 2",
            "Tháng phòng chống ma túy"
        ],
        "running only, ending soonest first"
    );
    let card = |s: &Store, title: &str| {
        s.campaigns(today, Lang::Vi)
            .expect("cards")
            .into_iter()
            .find(|c| c.campaign.title == title)
            .expect(title)
    };
    let f = card(&s, "PCCC hộ kinh doanh");
    assert_eq!(
        (f.standing.count, f.standing.of, f.standing.left),
        (1, 3, 2)
    );
    assert_eq!(f.goal, "100 % hộ kinh doanh được kiểm tra");
    assert_eq!(f.days_left, 5);
    let left: Vec<&str> = f.remaining.iter().map(|h| h.address.as_str()).collect();
    assert_eq!(
        left,
        ["2 Lê Lợi", "5 Lê Lợi"],
        "walking order, the home without a business left out"
    );

    // Offline: "2 Lê Lợi" inspected and queued counts at once; a draft of
    // "5 Lê Lợi" does not; an inspection of "5 Lê Lợi" before the period
    // does not either, nor one of the home without a business.
    s.save_report(
        None,
        ReportBody::Inspection(inspection(h2.id, &[], None)),
        Save::Send,
    )
    .expect("queued");
    s.save_report(
        None,
        ReportBody::Inspection(inspection(h5.id, &[], None)),
        Save::Draft,
    )
    .expect("draft");
    let mut early = inspection(h5.id, &[], None);
    early.inspected_at = Utc::now() - TimeDelta::days(4);
    s.save_report(None, ReportBody::Inspection(early), Save::Send)
        .expect("before the period");
    s.save_report(
        None,
        ReportBody::Inspection(inspection(h7.id, &[], None)),
        Save::Send,
    )
    .expect("not in scope");
    let f = card(&s, "PCCC hộ kinh doanh");
    assert_eq!((f.standing.count, f.standing.of), (2, 3));
    let left: Vec<HouseholdId> = f.remaining.iter().map(|h| h.id).collect();
    assert_eq!(left, [h5.id]);

    // Tips: the server's one and a drug tip queued here; a theft does not
    // count.
    s.save_report(
        None,
        ReportBody::Tip(tip(TipCategory::Drugs, "Có người bán ma túy ở cuối hẻm")),
        Save::Send,
    )
    .expect("drugs");
    s.save_report(
        None,
        ReportBody::Tip(tip(TipCategory::Theft, "Mất trộm xe máy trước nhà số 5")),
        Save::Send,
    )
    .expect("theft");
    let t = card(&s, "Tháng phòng chống ma túy");
    assert_eq!(
        (t.standing.count, t.standing.of, t.standing.left),
        (2, 3, 1)
    );
    assert!(t.remaining.is_empty());

    // Đề án 06: today's count queued here replaces the server's of
    // yesterday.
    let i = card(&s, "Kích hoạt mức 2");
    assert_eq!(
        (i.standing.count, i.standing.of, i.standing.reached),
        (50, 100, false)
    );
    s.save_report(
        None,
        ReportBody::IdCount(IdCount {
            date: today,
            residents: 100,
            collected: 90,
            activated: 70,
            helped: 0,
        }),
        Save::Send,
    )
    .expect("count");
    let i = card(&s, "Kích hoạt mức 2");
    assert_eq!(
        (i.standing.count, i.standing.done, i.standing.reached),
        (70, 70.0, true)
    );

    // Notified once: every campaign that has not ended, the coming one too.
    let notices = s.take_notices(Lang::Vi).expect("notices");
    let campaigns: Vec<&str> = notices
        .iter()
        .filter(|n| n.title.starts_with("Đợt cao điểm mới"))
        .map(|n| n.title.as_str())
        .collect();
    assert_eq!(campaigns.len(), 4, "{notices:?}");
    assert!(!campaigns.iter().any(|t| t.contains("Đã xong")));
    assert!(notices.iter().any(|n| n.body
        == "Chỉ tiêu: 3 tin mỗi tổ (Ma túy), đến hết ".to_owned()
            + &day(20).format("%d/%m/%Y").to_string()
            + "."));
    assert!(s.take_notices(Lang::Vi).expect("again").is_empty());

    // The server no longer lists the fire-safety campaign (called off):
    // dropped; the others stay notified. The home screen shows the rest.
    all.remove(0);
    s.replace_campaigns(&all, Utc::now()).expect("replace");
    assert!(s.take_notices(Lang::Vi).expect("again").is_empty());
    let home: Vec<String> = s
        .home()
        .expect("home")
        .campaigns
        .into_iter()
        .map(|c| c.campaign.title)
        .collect();
    assert_eq!(home, ["Kích hoạt mức 2", "Tháng phòng chống ma túy"]);
}
