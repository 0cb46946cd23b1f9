//! Campaigns (issue 16), through a real server on a loopback port, on
//! SQLite and on PostgreSQL: a fire-safety campaign's progress as two
//! devices of a group inspect (inside and outside the period, in scope and
//! not), a household added to a register and a group merged mid-campaign;
//! what each device is told (`GET /v1/campaigns`); the dashboard's ranking,
//! chart and stalled groups; the weekly XLSX read back cell by cell; the
//! form's refusals; calling a campaign off; Đề án 06 and tip campaigns;
//! another ward and the province.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{NaiveDate, TimeDelta, Utc};
use common::web::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sotay_domain::campaign::{Goal, HouseholdScope};
use sotay_domain::wire::{CampaignsResponse, Change};
use sotay_domain::{HouseholdId, ReportId, ReportKind, vietnam_date};
use sotay_server::admin::{self, AdminError};
use sotay_server::campaigns::{self, NewCampaign};
use sotay_server::places::{self, Audience};
use sotay_server::store::{Scope, now_micros};
use sotay_server::testing::TestServer;

fn today() -> NaiveDate {
    vietnam_date(Utc::now())
}

fn d(n: i64) -> NaiveDate {
    today() + TimeDelta::days(n)
}

fn audit(action: &str) -> sotay_server::store::NewAudit {
    admin::command_audit(action, "", "")
}

/// Loads a group's register and returns its households' ids by address.
async fn register(
    s: &TestServer,
    group: &str,
    rows: &[(&str, bool)],
) -> Vec<(String, HouseholdId)> {
    let mut csv = String::from("Địa chỉ,Chủ hộ,Số nhân khẩu,Kinh doanh\n");
    for (address, business) in rows {
        csv.push_str(&format!(
            "{address},Chủ hộ {address},4,{}\n",
            if *business { "có" } else { "không" }
        ));
    }
    admin::import_households(s.store(), group, csv.as_bytes(), now_micros())
        .await
        .unwrap();
    let mut out: Vec<(String, HouseholdId)> = s
        .store()
        .household_rows(group)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, data)| {
            let v: Value = serde_json::from_str(&data).unwrap();
            (
                v["address"].as_str().unwrap().to_owned(),
                id.parse().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The figures of ward hht's newest campaign today.
async fn latest_report(s: &TestServer) -> campaigns::CampaignReport {
    let scope = Scope::Ward("hht".into());
    let groups = sotay_server::dashboard::data::groups(s.store(), &scope)
        .await
        .unwrap();
    let rows = s.store().campaigns(&scope).await.unwrap();
    let mut all = campaigns::reports(s.store(), &groups, rows, today())
        .await
        .unwrap();
    all.remove(0)
}

fn id_of(households: &[(String, HouseholdId)], address: &str) -> HouseholdId {
    households
        .iter()
        .find(|(a, _)| a == address)
        .map(|(_, id)| *id)
        .unwrap()
}

async fn campaigns_of(s: &TestServer, token: &str) -> CampaignsResponse {
    let (status, body) = get(s, "/v1/campaigns", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn hht(s: &TestServer) -> sotay_server::store::WardRow {
    places::resolve_ward(s.store(), None).await.unwrap()
}

/// The workbook's sheets, each row without the empty cells that end it
/// (a sheet reads back as a rectangle).
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    read_sheets(bytes)
        .into_iter()
        .map(|(name, rows)| {
            let rows = rows
                .into_iter()
                .map(|mut r| {
                    while r.last().is_some_and(String::is_empty) {
                        r.pop();
                    }
                    r
                })
                .collect();
            (name, rows)
        })
        .collect()
}

fn at_day(n: i64, hour: u32) -> chrono::DateTime<Utc> {
    sotay_domain::vietnam_day_start(d(n)) + TimeDelta::hours(i64::from(hour))
}

/// The line of `unit` in a ranking table of the campaign page: its count
/// and its "of".
fn row_of(html: &str, table: &str, unit: &str) -> (String, String) {
    let at = html.find(&format!("id=\"{table}\"")).unwrap();
    let rest = &html[at..];
    let row = rest
        .find(&format!("data-unit=\"{unit}\""))
        .unwrap_or_else(|| panic!("{unit} in {table}: {rest}"));
    let row = &rest[row..];
    let cell = |class: &str| {
        let i = row.find(&format!("class=\"{class}\">")).unwrap() + class.len() + 9;
        row[i..].split('<').next().unwrap().to_owned()
    };
    (cell("count"), cell("of"))
}

async fn a_fire_safety_campaign_follows_inspections_registers_and_merges(s: &TestServer) {
    let ward = hht(s).await;
    // k01-t01: three homes with a business and one without; k01-t02: two.
    let t01 = register(
        s,
        "k01-t01",
        &[
            ("2 Lê Lợi", true),
            ("12 Lê Lợi", true),
            ("5 Lê Lợi", true),
            ("7 Lê Lợi", false),
        ],
    )
    .await;
    let t02 = register(s, "k01-t02", &[("3 Trần Phú", true), ("9 Trần Phú", true)]).await;
    // k01-t04: one home with a business, never inspected; k01-t05 none.
    register(s, "k01-t04", &[("1 Hà Huy Tập", true)]).await;
    register(s, "k01-t05", &[("4 Hà Huy Tập", false)]).await;
    let a = enroll(s, "k01-t01").await;
    let b = enroll(s, "k01-t01").await;
    let c = enroll(s, "k01-t02").await;
    let other_block = enroll(s, "k02-t01").await;

    // Refused, nothing set: an end before the start, a target of 0.
    let bad = campaigns::add(
        s.store(),
        &ward,
        NewCampaign {
            title: "Sai",
            starts_on: d(2),
            ends_on: d(1),
            goal: Goal::FireSafety {
                target: 0,
                households: HouseholdScope::Business,
            },
            to: &[],
        },
        audit("add-campaign"),
    )
    .await;
    let Err(AdminError::InvalidCampaign(e)) = bad else {
        panic!("refused: {bad:?}")
    };
    assert!(
        e.has("ends_on", "before-start") && e.has("target", "out-of-range"),
        "{e:?}"
    );
    let unknown = campaigns::add(
        s.store(),
        &ward,
        NewCampaign {
            title: "Khối không có",
            starts_on: d(0),
            ends_on: d(1),
            goal: Goal::Id06 { target: 50 },
            to: &[Audience::Block("k99".into())],
        },
        audit("add-campaign"),
    )
    .await;
    assert!(
        matches!(unknown, Err(AdminError::UnknownBlock(_))),
        "{unknown:?}"
    );
    assert!(
        s.store()
            .campaigns(&Scope::Province)
            .await
            .unwrap()
            .is_empty()
    );

    let title = "Kiểm tra PCCC 100% hộ kinh doanh trước Tết";
    let added = campaigns::add(
        s.store(),
        &ward,
        NewCampaign {
            title,
            starts_on: d(-3),
            ends_on: d(10),
            goal: Goal::FireSafety {
                target: 100,
                households: HouseholdScope::Business,
            },
            to: &[Audience::Block("k01".into())],
        },
        audit("add-campaign"),
    )
    .await
    .unwrap();
    assert_eq!(added.groups, 13, "every group of block k01");

    // Device A inspects "2 Lê Lợi" within the period, "12 Lê Lợi" before
    // it began, and the home without a business; device B inspects
    // "5 Lê Lợi" yesterday.
    let (h2, h12, h5, h7) = (
        id_of(&t01, "2 Lê Lợi"),
        id_of(&t01, "12 Lê Lợi"),
        id_of(&t01, "5 Lê Lợi"),
        id_of(&t01, "7 Lê Lợi"),
    );
    push(
        s,
        &a.token,
        &[
            inspection_of(h2, Utc::now() - TimeDelta::minutes(30), 1),
            inspection_of(h12, at_day(-5, 3), 2),
            inspection_of(h7, Utc::now() - TimeDelta::minutes(20), 3),
        ],
    )
    .await;
    push(s, &b.token, &[inspection_of(h5, at_day(-1, 4), 1)]).await;

    // What each device is told: B learns A's inspections of the period
    // (the one before it is not listed), k02 learns nothing of it.
    let seen = campaigns_of(s, &b.token).await;
    assert_eq!(seen.campaigns.len(), 1);
    let g = &seen.campaigns[0];
    assert_eq!(g.campaign.id, added.id);
    assert_eq!(g.campaign.title, title);
    let mut inspected: Vec<(HouseholdId, NaiveDate)> = g
        .inspected
        .iter()
        .map(|i| (i.household_id, i.day))
        .collect();
    inspected.sort();
    let mut want = vec![(h2, today()), (h5, d(-1)), (h7, today())];
    want.sort();
    assert_eq!(inspected, want);
    assert!(
        campaigns_of(s, &other_block.token)
            .await
            .campaigns
            .is_empty()
    );

    // The ward's figures: k01-t01 has 2 of its 3 business homes, k01-t02
    // 0 of 2, k01-t04 0 of 1, k01-t05 has nothing to do; the block's other
    // 9 groups have no register.
    let r = latest_report(s).await;
    assert_eq!((r.total.count, r.total.of, r.total.unknown), (2, 6, 9));
    assert!(!r.total.reached);
    assert_eq!(r.total.left, 4);
    let t05 = r.groups.iter().find(|g| g.label == "k01-t05").unwrap();
    assert!(
        t05.standing.nothing_to_do && t05.standing.reached,
        "{t05:?}"
    );
    let ranked: Vec<&str> = r.groups.iter().take(4).map(|g| g.label.as_str()).collect();
    assert_eq!(
        ranked,
        ["k01-t01", "k01-t02", "k01-t04", "k01-t05"],
        "best first; nothing to do after those with something, unknown last"
    );
    assert_eq!(
        (r.groups[0].standing.count, r.groups[0].standing.of),
        (2, 3)
    );
    assert_eq!(r.groups[0].last_gain, Some(today()));
    assert_eq!(r.daily.len(), 4, "from the start to today");
    assert_eq!(r.daily[2].1.count, 1, "yesterday: B's inspection");
    let stalled: Vec<&str> = r.stalled.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(
        stalled,
        ["k01-t02", "k01-t04"],
        "not k01-t01 (progress today), k01-t03 (no register), k01-t05 (nothing to do)"
    );

    // A household added to k01-t02's register mid-campaign counts from
    // then on; C inspects one of k01-t02's homes.
    register(
        s,
        "k01-t02",
        &[
            ("3 Trần Phú", true),
            ("9 Trần Phú", true),
            ("11 Trần Phú", true),
        ],
    )
    .await;
    push(
        s,
        &c.token,
        &[inspection_of(
            id_of(&t02, "3 Trần Phú"),
            Utc::now() - TimeDelta::minutes(5),
            1,
        )],
    )
    .await;
    let r = latest_report(s).await;
    assert_eq!((r.total.count, r.total.of), (3, 7));

    // k01-t02 merges into k01-t01 mid-campaign: its homes, inspections and
    // devices count under k01-t01, and C now hears of all of it.
    places::merge(
        s.store(),
        &ward,
        "k01-t01",
        &["k01-t02".to_owned()],
        audit("merge"),
    )
    .await
    .unwrap();
    let r = latest_report(s).await;
    assert_eq!(
        (r.total.count, r.total.of),
        (3, 7),
        "the same homes, rolled up"
    );
    let t01_line = r.groups.iter().find(|g| g.label == "k01-t01").unwrap();
    assert_eq!((t01_line.standing.count, t01_line.standing.of), (3, 6));
    assert!(
        r.groups.iter().all(|g| g.label != "k01-t02"),
        "an ended group is not listed"
    );
    let told = campaigns_of(s, &c.token).await;
    assert_eq!(told.campaigns[0].inspected.len(), 4, "A's, B's and C's");

    // The dashboard: the list, the page with its ranking, chart and
    // stalled groups, and the weekly report.
    officers(s).await;
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, "/dashboard/campaigns").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(title)
            && html.contains("3 / 7 (42 %) · 9 tổ chưa có số liệu")
            && html.contains("Đang diễn ra"),
        "{html}"
    );
    let path = format!("/dashboard/campaigns/{}", added.id);
    let (status, html) = page(s, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        row_of(&html, "by-group", "k01-t01"),
        ("3".into(), "6".into())
    );
    assert_eq!(row_of(&html, "by-block", "k01"), ("3".into(), "7".into()));
    assert!(
        html.contains("id=\"campaign-chart\"") && html.contains("data-days=\"4\""),
        "{html}"
    );
    assert!(html.contains("100 % hộ kinh doanh được kiểm tra"), "{html}");
    let stalled_at = html.find("id=\"stalled\"").unwrap();
    assert!(
        html[stalled_at..].contains("data-unit=\"k01-t04\""),
        "a group without progress"
    );

    let bytes = download(
        s,
        &cookie,
        &format!("/dashboard/campaigns/weekly.xlsx?week={}", today()),
    )
    .await;
    let book = sheets(&bytes);
    assert_eq!(book.len(), 1);
    let (name, rows) = &book[0];
    assert_eq!(
        name, "1. Kiểm tra PCCC 100% hộ kinh d",
        "31 characters at most"
    );

    let day = |n: i64| d(n).format("%d/%m/%Y").to_string();
    assert_eq!(rows[0], ["Đợt", title]);
    assert_eq!(rows[1], ["Loại", "Kiểm tra PCCC"]);
    assert_eq!(
        rows[2],
        ["Thời gian".to_owned(), format!("{} – {}", day(-3), day(10))]
    );
    assert_eq!(rows[3], ["Chỉ tiêu", "100 % hộ kinh doanh được kiểm tra"]);
    assert_eq!(rows[4], ["Áp dụng cho", "block:k01"]);
    assert_eq!(
        rows[5],
        ["Tuần".to_owned(), format!("{} – {}", day(-6), day(0))]
    );
    assert_eq!(rows[6], ["Số liệu đến hết ngày".to_owned(), day(0)]);
    // Count, of, share, gained this week, still needed, reached.
    assert_eq!(
        rows[7],
        ["Toàn đợt", "3", "7", "42.8", "3", "4", "Chưa đạt"]
    );
    assert_eq!(
        rows[9],
        [
            "Hạng",
            "Khối",
            "Tổ",
            "Số hộ đã kiểm tra",
            "Số hộ trong diện",
            "Tỉ lệ (%)",
            "Tăng trong tuần",
            "Còn thiếu",
            "Đạt chỉ tiêu",
            "Tiến triển gần nhất"
        ]
    );
    assert_eq!(
        rows[10],
        [
            "1",
            "k01",
            "k01-t01",
            "3",
            "6",
            "50",
            "3",
            "3",
            "Chưa đạt",
            &day(0)
        ]
    );
    // Then k01-t04, short of it; k01-t05 with nothing to do (reached);
    // the nine groups without a register; then the blocks.
    assert_eq!(
        rows[11][2..],
        ["k01-t04", "0", "1", "0", "0", "1", "Chưa đạt", "chưa có"]
    );
    assert_eq!(
        rows[12][2..],
        ["k01-t05", "0", "0", "0", "0", "0", "Đạt", "chưa có"]
    );
    assert_eq!(rows[13][2], "k01-t03");
    assert_eq!(rows[13][4], "0");
    let blocks = rows
        .iter()
        .position(|r| {
            r.first().is_some_and(|c| c == "Hạng")
                && r.get(2).is_some_and(|c| c == "Số hộ đã kiểm tra")
        })
        .unwrap();
    assert_eq!(
        rows[blocks + 1],
        ["1", "k01", "3", "7", "42.8", "3", "4", "Chưa đạt"]
    );
    assert_eq!(rows.len(), blocks + 2);
    // A week with no campaign says so.
    let none = sheets(
        &download(
            s,
            &cookie,
            "/dashboard/campaigns/weekly.xlsx?week=2020-01-05",
        )
        .await,
    );
    assert_eq!(
        none[0].1[1],
        ["Không có đợt cao điểm nào diễn ra trong tuần."]
    );

    // Called off from the dashboard: audited, marked, and devices drop it.
    let (status, _) = form_page(s, &cookie, &format!("{path}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(campaigns_of(s, &a.token).await.campaigns.is_empty());
    let (_, html) = page(s, &cookie, &path).await;
    assert!(html.contains("data-state=\"cancelled\""), "{html}");
    let (status, _) = form_page(s, &cookie, &format!("{path}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "called off once");
    let log = s
        .store()
        .audit_log(&Scope::Ward("hht".into()), 50)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|r| r.action == "cancel-campaign" && r.username == "can-bo")
    );
    assert!(log.iter().any(|r| r.action == "add-campaign"));
}

/// The dashboard's form: a bad campaign is refused with every broken rule
/// in the officer's language and nothing set; a good one is set and its
/// page shown. Another ward's officer finds nothing of it; the province
/// reads it and cannot set one.
async fn the_dashboard_form_sets_campaigns_and_other_wards_see_nothing(s: &TestServer) {
    use sotay_server::dashboard::accounts::{NewOfficer, OfficerWard, Role, add_officer};
    officers(s).await;
    let (cookie, csrf) = login(s, "can-bo", PASSWORD).await.unwrap();
    let (status, html) = page(s, &cookie, "/dashboard/campaigns").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"new-campaign\"") && html.contains("Chưa có đợt cao điểm nào"),
        "{html}"
    );
    let (status, html) = form_page(
        s,
        &cookie,
        "/dashboard/campaigns",
        &[
            ("csrf", &csrf),
            ("title", " "),
            ("kind", "tips"),
            ("starts_on", &d(5).to_string()),
            ("ends_on", &d(1).to_string()),
            ("target", "0"),
            ("category", "drugs"),
            ("category", "drugs"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-code=\"bad-campaign\""), "{html}");
    for (field, text) in [
        ("title", "Tiêu đề: không được để trống"),
        ("ends_on", "Ngày kết thúc: không được trước ngày bắt đầu"),
        ("target", "Chỉ tiêu: phải từ 1 đến 1000"),
        ("categories", "Loại tin: bị trùng"),
    ] {
        assert!(
            html.contains(&format!("data-field=\"{field}\"")) && html.contains(text),
            "{field}: {html}"
        );
    }
    let (status, html) = form_page(
        s,
        &cookie,
        "/dashboard/campaigns",
        &[
            ("csrf", &csrf),
            ("title", " "),
            ("kind", "parade"),
            ("starts_on", "mai"),
            ("ends_on", ""),
            ("target", "x"),
            ("households", "nhà trọ"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "kind",
        "starts_on",
        "ends_on",
        "target",
        "households",
        "title",
    ] {
        assert!(
            html.contains(&format!("data-field=\"{field}\"")),
            "{field}: {html}"
        );
    }
    assert!(
        s.store()
            .campaigns(&Scope::Province)
            .await
            .unwrap()
            .is_empty(),
        "nothing set"
    );

    let res = browser()
        .post(format!("{}/dashboard/campaigns", s.url()))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Tháng cao điểm phòng chống ma túy"),
            ("kind", "tips"),
            ("starts_on", &d(0).to_string()),
            ("ends_on", &d(30).to_string()),
            ("target", "2"),
            ("households", "all"),
            ("to", "group:k03-t01 group:k03-t02"),
            ("category", "drugs"),
            ("category", "gambling"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = page(s, &cookie, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2 tin mỗi tổ (Ma túy, Cờ bạc)"), "{html}");
    assert!(
        html.contains("Danh sách này có từ ngày thứ 3 của đợt"),
        "no group stalls on day 1: {html}"
    );
    assert_eq!(
        row_of(&html, "by-group", "k03-t01"),
        ("0".into(), "2".into())
    );

    // A tip of a counted category from k03-t01 counts; a theft does not.
    let dev = enroll(s, "k03-t01").await;
    let tip = |seq: i64, category: &str| {
        let mut payload = tip_payload("Có người bán ma túy ở cuối hẻm 7 buổi tối");
        payload["category"] = json!(category);
        Change {
            report_id: ReportId::new_v7(),
            device_seq: seq,
            rev: 1,
            kind: ReportKind::Tip,
            payload,
        }
    };
    let drugs = tip(1, "drugs");
    push(
        s,
        &dev.token,
        &[drugs.clone(), tip(2, "theft"), tip(3, "gambling")],
    )
    .await;
    // The ward judges the gambling tip unfounded: it counts no more.
    let counted = campaigns_of(s, &dev.token).await.campaigns[0].tips.clone();
    assert_eq!(counted.len(), 2, "drugs and gambling");
    let gambling = *counted.iter().find(|id| **id != drugs.report_id).unwrap();
    admin::set_tip_status(
        s.store(),
        gambling,
        sotay_domain::wire::WardStatus::Unfounded,
        None,
        now_micros(),
        &audit("tip-status"),
    )
    .await
    .unwrap();
    let (_, html) = page(s, &cookie, &location).await;
    assert_eq!(
        row_of(&html, "by-group", "k03-t01"),
        ("1".into(), "2".into())
    );
    assert_eq!(campaigns_of(s, &dev.token).await.campaigns[0].tips.len(), 1);

    // Another ward's officer: the list shows nothing, the page is not found.
    let hnx = places::add_ward(s.store(), "hnx", "Hưng Nguyên Xá", audit("add-ward"))
        .await
        .unwrap();
    assert_eq!(hnx.code, "hnx");
    for (user, ward) in [
        ("hnx-can-bo", OfficerWard::Ward("hnx")),
        ("tinh", OfficerWard::Province),
    ] {
        let mut o = NewOfficer::own(user, PASSWORD, Role::Officer);
        o.ward = ward;
        add_officer(s.store(), o, now_micros(), None).await.unwrap();
    }
    let (other, other_csrf) = login(s, "hnx-can-bo", PASSWORD).await.unwrap();
    let (_, html) = page(s, &other, "/dashboard/campaigns").await;
    assert!(!html.contains("Tháng cao điểm"), "{html}");
    assert_eq!(page(s, &other, &location).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        form_page(
            s,
            &other,
            &format!("{location}/cancel"),
            &[("csrf", &other_csrf)]
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    for week in ["0001-01-03", "2020-13-01", "9999-12-31"] {
        let (status, html) = page(
            s,
            &other,
            &format!("/dashboard/campaigns/weekly.xlsx?week={week}"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{week}");
        assert!(html.contains("data-field=\"week\""), "{html}");
    }
    let week = sheets(&download(s, &other, "/dashboard/campaigns/weekly.xlsx").await);
    assert_eq!(week[0].0, "Báo cáo tuần", "nothing of the other ward");
    // The province reads it, and may not set one.
    let (province, province_csrf) = login(s, "tinh", PASSWORD).await.unwrap();
    let (status, html) = page(s, &province, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("id=\"cancel-campaign\""), "{html}");
    let (_, html) = page(s, &province, "/dashboard/campaigns").await;
    assert!(
        html.contains("Tháng cao điểm") && !html.contains("id=\"new-campaign\""),
        "{html}"
    );
    let (status, _) = form_page(
        s,
        &province,
        "/dashboard/campaigns",
        &[
            ("csrf", &province_csrf),
            ("title", "x"),
            ("kind", "id06"),
            ("starts_on", &d(0).to_string()),
            ("ends_on", &d(1).to_string()),
            ("target", "5"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.store().campaigns(&Scope::Province).await.unwrap().len(),
        1
    );
}

/// A Đề án 06 campaign measures each group's latest count against its
/// residents (the register's before its first count), by the end date.
async fn an_id06_campaign_measures_the_latest_count(s: &TestServer) {
    let ward = hht(s).await;
    register(
        s,
        "k04-t01",
        &[("1 Nguyễn Du", false), ("3 Nguyễn Du", false)],
    )
    .await;
    let added = campaigns::add(
        s.store(),
        &ward,
        NewCampaign {
            title: "Kích hoạt định danh mức 2",
            starts_on: d(-2),
            ends_on: d(5),
            goal: Goal::Id06 { target: 60 },
            to: &[
                Audience::Group("k04-t01".into()),
                Audience::Group("k04-t02".into()),
            ],
        },
        audit("add-campaign"),
    )
    .await
    .unwrap();
    assert_eq!(added.groups, 2);
    let dev = enroll(s, "k04-t02").await;
    let count = |day: NaiveDate, residents: u32, activated: u32, seq: i64| Change {
        report_id: ReportId::for_id_count("hht", "k04-t02", day),
        device_seq: seq,
        rev: 1,
        kind: ReportKind::IdCount,
        payload: json!({"date": day, "residents": residents, "collected": residents, "activated": activated}),
    };
    push(
        s,
        &dev.token,
        &[
            count(d(-10), 100, 40, 1),
            count(d(-1), 100, 55, 2),
            count(d(0), 100, 61, 3),
        ],
    )
    .await;
    let r = latest_report(s).await;
    let line = |g: &str| r.groups.iter().find(|l| l.label == g).unwrap().standing;
    assert_eq!((line("k04-t02").count, line("k04-t02").of), (61, 100));
    assert!(line("k04-t02").reached);
    // k04-t01 has not counted: its register's 8 residents, none activated.
    assert_eq!(
        (
            line("k04-t01").count,
            line("k04-t01").of,
            line("k04-t01").left
        ),
        (0, 8, 5)
    );
    assert_eq!(r.daily[0].1.count, 40, "the count before the start");
    assert_eq!(r.daily[1].1.count, 55);
    let told = campaigns_of(s, &dev.token).await;
    assert_eq!(
        told.campaigns[0].count.as_ref().map(|c| c.activated),
        Some(61)
    );

    // k04-t01 counts today too, then merges into k04-t02: the two counts
    // of the day add up, as the Đề án 06 page adds them.
    let other = enroll(s, "k04-t01").await;
    let mut theirs = count(d(0), 8, 5, 1);
    theirs.report_id = ReportId::for_id_count("hht", "k04-t01", d(0));
    push(s, &other.token, &[theirs]).await;
    places::merge(
        s.store(),
        &ward,
        "k04-t02",
        &["k04-t01".to_owned()],
        audit("merge"),
    )
    .await
    .unwrap();
    let r = latest_report(s).await;
    assert_eq!((r.total.count, r.total.of), (66, 108));
    let told = campaigns_of(s, &dev.token).await;
    assert_eq!(
        told.campaigns[0]
            .count
            .as_ref()
            .map(|c| (c.activated, c.residents)),
        Some((66, 108))
    );

    // Ended yesterday (as if the days had passed): it cannot be called off,
    // its weekly reports stand.
    s.store()
        .run_steps(&[sotay_server::store::steps::Step::any(
            "UPDATE campaigns SET starts_on = ?1, ends_on = ?2",
            vec![d(-9).to_string().into(), d(-1).to_string().into()],
        )])
        .await
        .unwrap()
        .unwrap();
    let refused = campaigns::cancel(s.store(), &ward, added.id, audit("cancel-campaign")).await;
    assert!(
        matches!(refused, Err(AdminError::UnknownCampaign(_))),
        "{refused:?}"
    );
}

macro_rules! campaign_tests {
    ($backend:expr) => {
        campaign_tests!(@each $backend;
            a_fire_safety_campaign_follows_inspections_registers_and_merges,
            the_dashboard_form_sets_campaigns_and_other_wards_see_nothing,
            an_id06_campaign_measures_the_latest_count);
    };
    (@each $backend:expr; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(s) = super::start($backend).await else { return };
            super::$name(&s).await;
        }
    )*};
}

mod sqlite {
    campaign_tests!(sotay_server::testing::Backend::Sqlite);
}

mod postgres {
    campaign_tests!(sotay_server::testing::Backend::Postgres);
}
