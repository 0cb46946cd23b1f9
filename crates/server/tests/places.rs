//! Wards as tenants and places with a history (issue 15), through a real
//! server on a loopback port, on SQLite and on PostgreSQL: two wards with
//! the same group codes kept apart; a merge and a rename with a device
//! syncing across them; a split with its households file.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use sotay_domain::ReportId;
use sotay_domain::place::PlaceChange;
use sotay_domain::wire::{PullItem, PullResponse};
use sotay_server::admin::{self, AdminError};
use sotay_server::places;
use sotay_server::store::{Scope, now_micros};
use sotay_server::testing::{Backend, TestServer};

fn audit(action: &str) -> sotay_server::store::NewAudit {
    admin::command_audit(action, "", "")
}

/// A second ward `hnx` with a block `k01` and a group `k01-t01`: the same
/// codes as the demo ward's.
async fn second_ward(s: &TestServer) -> sotay_server::store::WardRow {
    let w = places::add_ward(s.store(), "hnx", "Hưng Nguyên Xá", audit("add-ward"))
        .await
        .unwrap();
    places::add_block(s.store(), &w, "k01", "Khối Một", audit("add-block"))
        .await
        .unwrap();
    places::add_group(
        s.store(),
        &w,
        places::NewGroup {
            block: "k01",
            code: "k01-t01",
            name: "Tổ Một",
        },
        audit("add-group"),
    )
    .await
    .unwrap();
    w
}

async fn pull_all(s: &TestServer, token: &str) -> Vec<PullItem> {
    let (status, body) = get(s, "/v1/sync/pull?since=0&limit=1000", Some(token)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let r: PullResponse = serde_json::from_value(body).unwrap();
    r.entries.into_iter().map(|e| e.item).collect()
}

async fn two_wards_with_the_same_codes_are_kept_apart(s: &TestServer) {
    let store = s.store();
    let hnx = second_ward(s).await;
    // Once a second ward exists, a command must say which.
    assert!(matches!(
        places::resolve_ward(store, None).await,
        Err(AdminError::WardRequired(2))
    ));
    let hht_group = places::find_group(store, "hht", "k01-t01").await.unwrap();
    let hnx_group = places::find_group(store, &hnx.code, "k01-t01")
        .await
        .unwrap();
    assert_ne!(hht_group.id, hnx_group.id, "one code, two groups");
    // A device of each ward pushes a tip; each ward sees only its own.
    let a = enroll(s, &hht_group.id).await;
    let b = enroll(s, &hnx_group.id).await;
    assert_eq!(b.place.ward.code.as_str(), "hnx");
    assert_eq!(b.place.group.code.as_str(), "k01-t01");
    push(s, &a.token, &[tip(1)]).await;
    push(s, &b.token, &[tip(1)]).await;
    let of = |w: &str| Scope::Ward(w.to_owned());
    let hht_rows = store.export(&of("hht"), None).await.unwrap();
    let hnx_rows = store.export(&of("hnx"), None).await.unwrap();
    assert_eq!(hnx_rows.len(), 1);
    assert!(hnx_rows.iter().all(|r| r.group == hnx_group.id));
    assert!(hht_rows.iter().all(|r| r.group != hnx_group.id));
    assert_eq!(
        store.export(&Scope::Province, None).await.unwrap().len(),
        hht_rows.len() + hnx_rows.len()
    );
    let devices = store.devices(&of("hnx")).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].id, b.device_id);
    let inbox = store
        .tip_inbox(
            &sotay_server::store::TipQuery {
                ward: Some("hnx".into()),
                ..Default::default()
            },
            0,
            50,
        )
        .await
        .unwrap();
    assert_eq!(inbox.total, 1);
    // The owner of the other ward's tip is reported with its ward, which is
    // what every dashboard page checks before showing it.
    let owner = store.report_owner(hnx_rows[0].id).await.unwrap().unwrap();
    assert_eq!(owner.ward, "hnx");
    assert!(!Scope::Ward("hht".into()).sees(&owner.ward));
    // `admin report move` never takes a report into another ward, even to
    // a group with its own group's code.
    let err = admin::move_report(store, hnx_rows[0].id, &hht_group.id, audit("move-report"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdminError::OtherWard { from, to, .. } if from == "hnx" && to == "hht"),
        "{err}"
    );
    let owner = store.report_owner(hnx_rows[0].id).await.unwrap().unwrap();
    assert_eq!(owner.group, hnx_group.id);
}

/// A merged group's register, imported again under the group it became,
/// keeps its households' ids (and so their inspections); a household new
/// to the file gets a new one, one left out is removed.
async fn a_merged_groups_register_keeps_its_households(s: &TestServer) {
    let store = s.store();
    let hht = places::resolve_ward(store, None).await.unwrap();
    let register = |rows: &str| format!("Địa chỉ,Chủ hộ,Số nhân khẩu\n{rows}");
    admin::import_households(
        store,
        "k04-t01",
        register("1 Hồng Bàng,Ngô Văn Một,3\n2 Hồng Bàng,Đỗ Thị Hai,5\n").as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    admin::import_households(
        store,
        "k04-t02",
        register("7 Trần Phú,Vũ Văn Bảy,2\n").as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let ids = |rows: Vec<(String, String)>| -> Vec<String> {
        let mut ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids
    };
    let before = [
        ids(store.household_rows("k04-t01").await.unwrap()),
        ids(store.household_rows("k04-t02").await.unwrap()),
    ]
    .concat();
    places::merge(store, &hht, "k04-t02", &["k04-t01".into()], audit("merge"))
        .await
        .unwrap();
    // The merged group's new register: every old household (spelt with
    // other spaces and case), one new, none left out.
    let change = admin::import_households(
        store,
        "k04-t02",
        register(
            "1 hồng bàng ,NGÔ VĂN MỘT,3\n2 Hồng Bàng,Đỗ Thị Hai,6\n7 Trần Phú,Vũ Văn Bảy,2\n9 Trần Phú,Lý Thị Chín,1\n",
        )
        .as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    assert_eq!(change.removed, 0, "no household was replaced by a copy");
    let after = ids(store.household_rows("k04-t02").await.unwrap());
    assert_eq!(after.len(), 4);
    for id in &before {
        assert!(after.contains(id), "{id} kept");
    }
}

async fn a_merge_and_a_rename_reach_the_device(s: &TestServer) {
    let store = s.store();
    let hht = places::resolve_ward(store, None).await.unwrap();
    let dev = enroll(s, "k02-t01").await;
    push(s, &dev.token, &[tip(1)]).await;
    let kept = places::find_group(store, "hht", "k02-t02").await.unwrap();
    let gone = places::find_group(store, "hht", "k02-t01").await.unwrap();
    // An announcement the device received before the merge.
    let to = [sotay_server::announcements::Audience::Group(
        "k02-t01".into(),
    )];
    let sent = sotay_server::announcements::announce(
        store,
        &hht,
        sotay_server::announcements::NewAnnouncement {
            title: "Họp tổ",
            text: "Tối thứ Bảy.",
            urgent: false,
            to: &to,
            photo: None,
        },
        audit("announce"),
    )
    .await
    .unwrap();
    assert_eq!(dev.place.group.code.as_str(), gone.code);
    places::merge(store, &hht, "k02-t02", &["k02-t01".into()], audit("merge"))
        .await
        .unwrap();
    // The merged group is gone from today's units; its code is free.
    assert!(places::find_group(store, "hht", "k02-t01").await.is_err());
    // The device now belongs to the group it merged into, and is told.
    let items = pull_all(s, &dev.token).await;
    let notice = items
        .iter()
        .find_map(|i| match i {
            PullItem::Place {
                place,
                change,
                before,
                ..
            } => Some((place.clone(), *change, before.clone())),
            _ => None,
        })
        .expect("a place item");
    assert_eq!(notice.0.group.code.as_str(), "k02-t02");
    assert_eq!(notice.1, PlaceChange::Merged);
    assert_eq!(notice.2[0].code.as_str(), "k02-t01");
    // Its report counts in the group it became, and the device may still
    // revise it.
    let rows = store.export(&Scope::Province, None).await.unwrap();
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.device_id == dev.device_id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].group, kept.id);
    // It keeps the group it was recorded under.
    let owner = store.report_owner(mine[0].id).await.unwrap().unwrap();
    assert_eq!(
        (owner.group, owner.recorded_group),
        (kept.id.clone(), gone.id.clone())
    );
    push(s, &dev.token, &[tip_with(mine[0].id, 2, 2)]).await;
    let after = store.export(&Scope::Province, None).await.unwrap();
    let revised = after.iter().find(|r| r.id == mine[0].id).unwrap();
    assert_eq!(
        revised.rev, 2,
        "the merged device may still revise its report"
    );
    // Its read receipt, sent after the merge, still counts.
    let receipt =
        serde_json::json!({"reads": [{"announcement_id": sent.id, "read_at": chrono::Utc::now()}]});
    let (status, body) = post(s, "/v1/announcements/read", Some(&dev.token), &receipt).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let readers = store
        .announcement_readers(&sent.id.to_string())
        .await
        .unwrap();
    assert!(
        readers
            .iter()
            .any(|r| r.device_id == dev.device_id.0 && r.read_at.is_some()),
        "{readers:?}"
    );
    // A rename keeps the unit; the device learns the new code and the old
    // codes still derive a count's id.
    places::rename(
        store,
        &hht,
        "k02-t02",
        Some("k02-t22"),
        Some("Tổ 22"),
        audit("rename"),
    )
    .await
    .unwrap();
    let codes = store.group_codes(&kept.id).await.unwrap();
    for c in ["k02-t01", "k02-t02", "k02-t22"] {
        assert!(
            codes.iter().any(|(w, x)| w == "hht" && x == c),
            "{c} in {codes:?}"
        );
    }
    let items = pull_all(s, &dev.token).await;
    assert!(items.iter().any(|i| matches!(
        i,
        PullItem::Place { place, change: PlaceChange::Renamed, .. } if place.group.code.as_str() == "k02-t22"
    )));
    let events = store
        .place_events(&Scope::Ward("hht".into()))
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().any(|e| e.kind == "merge"));
    assert!(
        store
            .audit_log(&Scope::Ward("hht".into()), 100)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "merge-group")
    );
}

async fn a_split_moves_households_by_the_file(s: &TestServer) {
    let store = s.store();
    let hht = places::resolve_ward(store, None).await.unwrap();
    let g = places::find_group(store, "hht", "k03-t01").await.unwrap();
    admin::import_households(
        store,
        &g.id,
        "address,head,residents\n1 Lê Lợi,Nguyễn Văn A,4\n2 Lê Lợi,Trần Thị B,3\n".as_bytes(),
        now_micros(),
    )
    .await
    .unwrap();
    let register = store.household_rows(&g.id).await.unwrap();
    assert_eq!(register.len(), 2);
    let (h1, h2) = (&register[0].0, &register[1].0);
    let dev = enroll(s, &g.id).await;
    let cursor = pull(s, &dev.token, 0, 1000).await.next_cursor;
    let into = [
        ("k03-t41".to_owned(), "Tổ 41".to_owned()),
        ("k03-t42".to_owned(), "Tổ 42".to_owned()),
    ];
    // A file that leaves a household out changes nothing.
    let partial = format!("household,group\n{h1},k03-t41\n");
    assert!(matches!(
        places::split(
            store,
            &hht,
            "k03-t01",
            &into,
            &places::read_assignments(partial.as_bytes()).unwrap(),
            audit("split")
        )
        .await,
        Err(AdminError::SplitFile(_))
    ));
    assert!(places::find_group(store, "hht", "k03-t01").await.is_ok());
    let file = format!("household,group\n{h1},k03-t41\n{h2},k03-t42\n");
    places::split(
        store,
        &hht,
        "k03-t01",
        &into,
        &places::read_assignments(file.as_bytes()).unwrap(),
        audit("split"),
    )
    .await
    .unwrap();
    let t41 = places::find_group(store, "hht", "k03-t41").await.unwrap();
    let t42 = places::find_group(store, "hht", "k03-t42").await.unwrap();
    assert_eq!(store.household_rows(&t41.id).await.unwrap().len(), 1);
    assert_eq!(store.household_rows(&t42.id).await.unwrap()[0].0, *h2);
    // The group's device goes to the first new group, is told, no longer
    // lists the household that went to the other, and goes on sending.
    let after: Vec<PullItem> = pull(s, &dev.token, cursor, 1000)
        .await
        .entries
        .into_iter()
        .map(|e| e.item)
        .collect();
    assert!(
        after.iter().any(|i| matches!(
            i,
            PullItem::Place { place, change: PlaceChange::Split, .. } if place.group.code.as_str() == "k03-t41"
        )),
        "{after:?}"
    );
    assert!(
        after.iter().any(|i| matches!(
            i,
            PullItem::HouseholdRemoved { household_id } if household_id.to_string() == *h2
        )),
        "{after:?}"
    );
    let r = push(s, &dev.token, &[tip(1)]).await;
    assert!(matches!(
        r.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));
    let rows = store
        .export(&Scope::Ward("hht".into()), None)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|row| row.device_id == dev.device_id && row.group == t41.id)
    );
}

/// Seeding again under other names renames: a block once, however many
/// of its groups the seed lists, and a group; their codes stay.
async fn seeding_again_renames_a_block_once(s: &TestServer) {
    let store = s.store();
    let seeds: Vec<_> = admin::demo_groups()
        .unwrap()
        .into_iter()
        .filter(|g| g.place.block.code.as_str() == "k05")
        .map(|mut g| {
            g.place.block.name = "Khối Năm (mới)".into();
            if g.place.group.code.as_str() == "k05-t01" {
                g.place.group.name = "Tổ Một (mới)".into();
            }
            g
        })
        .collect();
    assert!(seeds.len() > 1, "several groups of one block");
    store.seed_groups(&seeds, None).await.unwrap();
    let groups = store.groups(&Scope::Ward("hht".into())).await.unwrap();
    let k05: Vec<_> = groups.iter().filter(|g| g.block_code == "k05").collect();
    assert_eq!(k05.len(), seeds.len());
    assert!(k05.iter().all(|g| g.block_name == "Khối Năm (mới)"));
    let t01 = places::find_group(store, "hht", "k05-t01").await.unwrap();
    assert_eq!(t01.name, "Tổ Một (mới)");
    assert_eq!(
        store.group_codes(&t01.id).await.unwrap(),
        vec![("hht".to_owned(), "k05-t01".to_owned())]
    );
}

/// Rows a version-10 server wrote (the schema before wards and place
/// history): three groups in two blocks keyed by their codes, two devices
/// with a tip each, a household and its pull item, an unused enrollment
/// code, an officer and an audit entry. The SQL is the same for both
/// backends.
struct Version10 {
    sql: String,
    token: String,
    enroll_code: String,
    tip: ReportId,
    household: sotay_domain::HouseholdId,
}

fn version_10_rows() -> Version10 {
    use sotay_server::auth::hash_secret;
    let token = sotay_server::auth::new_token();
    let other_token = sotay_server::auth::new_token();
    let enroll_code = sotay_server::auth::new_enroll_code();
    let enroll_hash = hash_secret(&sotay_server::auth::normalize_code(&enroll_code).unwrap());
    let (d1, d2) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let (tip, other_tip) = (ReportId::new_v7(), ReportId::new_v7());
    let household = sotay_domain::HouseholdId::new_v7();
    let stored: sotay_domain::household::Household = serde_json::from_value(json!({
        "id": household, "address": "12 Lý Thường Kiệt", "head": "Phạm Văn Mười",
        "residents": 4, "has_business": true,
    }))
    .unwrap();
    let data = serde_json::to_string(&stored).unwrap();
    let item = serde_json::to_string(&PullItem::Household { household: stored }).unwrap();
    let payload = |text: &str| tip_payload(text).to_string().replace('\'', "''");
    let at = "2026-11-20T01:00:00.000000Z";
    let sql = format!(
        "INSERT INTO groups VALUES ('k01-t01', 'Tổ 1', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập');
         INSERT INTO groups VALUES ('k01-t02', 'Tổ 2', 'k01', 'Khối 1', 'hht', 'Hà Huy Tập');
         INSERT INTO groups VALUES ('k02-t01', 'Tổ 1 khối 2', 'k02', 'Khối 2', 'hht', 'Hà Huy Tập');
         INSERT INTO devices (id, name, group_code, token_hash, enrolled_at, checkpoint)
           VALUES ('{d1}', 'máy 1', 'k01-t01', '{}', '{at}', 1);
         INSERT INTO devices (id, name, group_code, token_hash, enrolled_at, checkpoint)
           VALUES ('{d2}', 'máy 2', 'k02-t01', '{}', '{at}', 1);
         INSERT INTO reports VALUES ('{tip}', 'k01-t01', 'tip', 1);
         INSERT INTO reports VALUES ('{other_tip}', 'k02-t01', 'tip', 1);
         INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
           VALUES ('{tip}', 1, 'tip', '{d1}', 1, '{}', '{at}');
         INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
           VALUES ('{other_tip}', 1, 'tip', '{d2}', 1, '{}', '{at}');
         INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome)
           VALUES ('{d1}', 1, '{tip}', 1, 'accepted');
         INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome)
           VALUES ('{d2}', 1, '{other_tip}', 1, 'accepted');
         INSERT INTO households (id, group_code, data, imported_at)
           VALUES ('{household}', 'k01-t01', '{data}', '{at}');
         INSERT INTO pull_items (group_code, item, created_at) VALUES ('k01-t01', '{item}', '{at}');
         INSERT INTO enroll_codes (code_hash, group_code, created_at, expires_at)
           VALUES ('{enroll_hash}', 'k01-t02', '{at}', '2099-01-01T00:00:00.000000Z');
         INSERT INTO officers (username, password_hash, role, created_at)
           VALUES ('quan-tri', 'x', 'admin', '{at}');
         INSERT INTO audit_log (at, username, action, target) VALUES ('{at}', 'quan-tri', 'login', '');",
        hash_secret(&token),
        hash_secret(&other_token),
        payload("Tin báo trước bản 11"),
        payload("Tin báo khối 2"),
    );
    Version10 {
        sql,
        token,
        enroll_code,
        tip,
        household,
    }
}

/// A version-10 database upgrades through migration 0011 with nothing
/// lost: its ward, blocks and groups (ids = the old codes), its devices
/// (their tokens still push and pull, a code issued before enrolls),
/// reports, register, officers and audit; and the upgraded places can be
/// merged like any other.
async fn version_10_database_upgrades(backend: Backend) {
    let rows = version_10_rows();
    let Some(db) = sotay_server::testing::database_at(backend, 10, &rows.sql)
        .await
        .unwrap()
    else {
        return;
    };
    let s = TestServer::serve(db, sotay_server::Config::default())
        .await
        .unwrap();
    let store = s.store();
    let wards = store.wards().await.unwrap();
    assert_eq!(wards.len(), 1);
    assert_eq!(
        (wards[0].code.as_str(), wards[0].name.as_str()),
        ("hht", "Hà Huy Tập")
    );
    let groups = store.groups(&Scope::Province).await.unwrap();
    let mut seen: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.code.as_str(),
                g.block_code.as_str(),
                g.block_name.as_str(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("k01-t01", "k01-t01", "k01", "Khối 1"),
            ("k01-t02", "k01-t02", "k01", "Khối 1"),
            ("k02-t01", "k02-t01", "k02", "Khối 2"),
        ]
    );
    // Reports keep their groups, recorded and today's.
    let export = store
        .export(&Scope::Ward("hht".into()), None)
        .await
        .unwrap();
    assert_eq!(export.len(), 2);
    assert_eq!(
        export.iter().find(|r| r.id == rows.tip).unwrap().group,
        "k01-t01"
    );
    // The register and the officers, now of the ward.
    let register = store.household_rows("k01-t01").await.unwrap();
    assert_eq!(register.len(), 1);
    assert_eq!(register[0].0, rows.household.to_string());
    let officers = store.officers(&Scope::Ward("hht".into())).await.unwrap();
    assert_eq!(officers.len(), 1);
    assert_eq!(officers[0].ward.as_deref(), Some("hht"));
    assert!(
        store
            .audit_log(&Scope::Ward("hht".into()), 10)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "login")
    );
    // The old device's token pushes its next change and pulls what it had.
    let r = push(&s, &rows.token, &[tip_with(rows.tip, 2, 2)]).await;
    assert!(matches!(
        r.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));
    let items = pull_all(&s, &rows.token).await;
    assert!(
        items.iter().any(
            |i| matches!(i, PullItem::Household { household } if household.id == rows.household)
        )
    );
    // A code issued before the upgrade enrolls into its group.
    let enrolled = enroll_with(&s, &rows.enroll_code).await;
    assert_eq!(enrolled.place.group.code.as_str(), "k01-t02");
    assert_eq!(enrolled.place.ward.code.as_str(), "hht");
    // The upgraded places merge like new ones; the old device follows.
    let hht = places::resolve_ward(store, None).await.unwrap();
    places::merge(store, &hht, "k01-t01", &["k01-t02".into()], audit("merge"))
        .await
        .unwrap();
    let items = pull_all(&s, &enrolled.token).await;
    assert!(items.iter().any(|i| matches!(
        i,
        PullItem::Place { place, change: PlaceChange::Merged, .. } if place.group.code.as_str() == "k01-t01"
    )));
}

/// An officer of `ward` with the sources permission, granted with the
/// ward's recovery passphrase.
async fn source_officer(s: &TestServer, username: &str, ward: &str, passphrase: &str) {
    use sotay_server::dashboard::accounts::{NewOfficer, OfficerWard, Role, add_officer};
    let mut o = NewOfficer::own(username, "mật-khẩu-đủ-dài", Role::Admin);
    o.ward = OfficerWard::Ward(ward);
    add_officer(s.store(), o, now_micros(), None).await.unwrap();
    // The key pair an officer gets at their first login.
    let officer = s.store().officer(username).await.unwrap().unwrap();
    sotay_server::sources::officer_secret_at_login(s.store(), &officer, "mật-khẩu-đủ-dài")
        .await
        .unwrap();
    let keys = sotay_server::sources::recovered_keys(s.store(), ward, passphrase)
        .await
        .unwrap();
    sotay_server::sources::grant(s.store(), username, &keys, None)
        .await
        .unwrap();
}

/// A ward merges into another (`admin ward merge`): a clash of codes is
/// refused until `--prefix`; then its groups (same ids), devices, officers
/// and source keys belong to the ward it merged into; its devices are
/// told and a count or a sealed source made under the old ward is still
/// accepted; the surviving ward's passphrase and officers open the merged
/// ward's sources; the merged ward can no longer be named.
async fn a_ward_merges_with_its_devices_officers_and_sources(s: &TestServer) {
    use sotay_server::sources;
    let store = s.store();
    let hnx = second_ward(s).await;
    let hnx_pass = sources::create_ward_key(store, "hnx", now_micros())
        .await
        .unwrap()
        .unwrap();
    source_officer(s, "hht-nguon", "hht", &s.recovery_passphrase).await;
    source_officer(s, "hnx-nguon", "hnx", &hnx_pass).await;
    let group = places::find_group(store, "hnx", "k01-t01").await.unwrap();
    let dev = enroll(s, &group.id).await;
    // A tip naming its informant (sealed by the server to hnx's key) and
    // a count under hnx's id.
    let named = ReportId::new_v7();
    let mut payload = tip_payload("Có người lạ bán ma tuý ở hẻm 5 mỗi tối");
    payload["source"] = json!({"kind": "resident", "informant":
        {"kind": "named", "name": "Trần Thị Nguồn", "phone": "0911222333"}});
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let count = |seq: i64| sotay_domain::wire::Change {
        report_id: ReportId::for_id_count("hnx", "k01-t01", day),
        device_seq: seq,
        rev: 1,
        kind: sotay_domain::ReportKind::IdCount,
        payload: json!({"date": "2026-12-01", "residents": 90, "collected": 50, "activated": 20, "helped": 1}),
    };
    let r = push(
        s,
        &dev.token,
        &[serde_json::from_value(raw_change(named, 1, 1, "tip", payload)).unwrap()],
    )
    .await;
    assert!(matches!(
        r.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));
    let stored = store.report_revisions(named).await.unwrap()[0]
        .payload
        .clone();
    assert_eq!(stored["sealed"]["ward"], "hnx");

    // hnx's codes clash with hht's (k01, k01-t01): refused, nothing changed.
    let hht = places::resolve_ward(store, Some("hht")).await.unwrap();
    let passphrases: std::collections::HashMap<String, String> =
        [("hnx".to_owned(), hnx_pass.clone())].into();
    let err = places::merge_wards(
        store,
        &hht,
        &["hnx".into()],
        false,
        &passphrases,
        audit("m"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AdminError::WardMergeClash(c) if c.contains(&"k01-t01".to_owned())),
        "{err}"
    );
    // Without hnx's passphrase its keys cannot be handed over.
    let err = places::merge_wards(
        store,
        &hht,
        &["hnx".into()],
        true,
        &Default::default(),
        audit("m"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AdminError::PassphraseNeeded(_)), "{err}");
    assert!(places::resolve_ward(store, Some("hnx")).await.is_ok());

    let m = places::merge_wards(store, &hht, &["hnx".into()], true, &passphrases, audit("m"))
        .await
        .unwrap();
    assert_eq!((m.groups_moved, m.keys), (1, 1));
    // The group is the same unit, now hht's, under its prefixed code.
    let moved = places::find_group(store, "hht", "hnx-k01-t01")
        .await
        .unwrap();
    assert_eq!(moved.id, group.id);
    assert_eq!(moved.block_code, "hnx-k01");
    assert!(matches!(
        places::resolve_ward(store, Some("hnx")).await,
        Err(AdminError::WardMerged { .. })
    ));
    // One ward is left: commands need no --ward again.
    assert_eq!(places::resolve_ward(store, None).await.unwrap().code, "hht");
    let officer = store.officer("hnx-nguon").await.unwrap().unwrap();
    assert_eq!(officer.ward.as_deref(), Some("hht"));
    // The device is told, and what it made under hnx is still its own.
    let items = pull_all(s, &dev.token).await;
    let place = items
        .iter()
        .find_map(|i| match i {
            PullItem::Place {
                place,
                change: PlaceChange::WardMerged,
                before,
                ..
            } => Some((place.clone(), before.clone())),
            _ => None,
        })
        .expect("told of the ward merge");
    assert_eq!(place.0.ward.code.as_str(), "hht");
    assert_eq!(place.0.group.code.as_str(), "hnx-k01-t01");
    assert_eq!(place.1[0].code.as_str(), "hnx");
    let mut revision = serde_json::from_value::<sotay_domain::wire::Change>(raw_change(
        named,
        2,
        2,
        "tip",
        stored.clone(),
    ))
    .unwrap();
    revision.payload["description"] = json!("Có người lạ bán ma tuý ở hẻm 5, đã thấy lại");
    let r = push(s, &dev.token, &[revision, count(3)]).await;
    for res in &r.results {
        assert!(
            matches!(
                res.outcome,
                sotay_domain::wire::ChangeOutcome::Accepted { .. }
            ),
            "{res:?}"
        );
    }
    // hht's recovery passphrase and hht's officer now open hnx's source;
    // hnx's officer keeps the copy they held.
    let sealed: sotay_domain::Tip = serde_json::from_value(
        store.report_revisions(named).await.unwrap()[1]
            .payload
            .clone(),
    )
    .unwrap();
    let sealed = sealed.sealed.expect("still sealed");
    let by_recovery = sources::recovered_keys(store, "hht", &s.recovery_passphrase)
        .await
        .unwrap();
    let secret = sources::reveal(&by_recovery, named, &sealed).unwrap();
    assert_eq!(secret.name.as_deref(), Some("Trần Thị Nguồn"));
    for holder in ["hht-nguon", "hnx-nguon"] {
        let copies = store
            .key_copies(&sources::officer_holder(holder))
            .await
            .unwrap();
        assert!(
            copies.iter().any(|c| c.key_id == sealed.key_id),
            "{holder} holds hnx's key"
        );
    }
    // New tips seal to hht's current key: hnx's is retired.
    let keys = store.ward_keys().await.unwrap();
    let old = keys.iter().find(|k| k.key_id == sealed.key_id).unwrap();
    assert_eq!(old.ward, "hht");
    assert!(old.retired_at.is_some());
    assert_eq!(
        keys.iter()
            .filter(|k| k.ward == "hht" && k.retired_at.is_none())
            .count(),
        1
    );
    assert!(
        store
            .audit_log(&Scope::Ward("hht".into()), 100)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "merge-ward")
    );
    let _ = hnx;
}

/// A block splits into two (`admin place split BLOCK --groups FILE`): its
/// groups go to the new blocks by the file (an incomplete file changes
/// nothing), keep their ids and devices, and the devices are told.
async fn a_block_splits_and_its_groups_follow(s: &TestServer) {
    let store = s.store();
    let hht = places::resolve_ward(store, None).await.unwrap();
    let scope = Scope::Ward("hht".into());
    let k06: Vec<_> = store
        .groups(&scope)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.block_code == "k06")
        .collect();
    assert!(k06.len() > 2);
    let dev = enroll(s, &k06[0].id).await;
    let cursor = pull(s, &dev.token, 0, 1000).await.next_cursor;
    let into = [
        ("k21".to_owned(), "Khối 21".to_owned()),
        ("k22".to_owned(), "Khối 22".to_owned()),
    ];
    let half = k06.len() / 2;
    let file = |rows: &[sotay_server::store::GroupRow]| {
        let mut csv = "group,block\n".to_owned();
        for (i, g) in rows.iter().enumerate() {
            csv.push_str(&format!(
                "{},{}\n",
                g.code,
                if i < half { "k21" } else { "k22" }
            ));
        }
        csv
    };
    let partial = file(&k06[1..]);
    assert!(matches!(
        places::split_block(
            store,
            &hht,
            "k06",
            &into,
            &places::read_block_assignments(partial.as_bytes()).unwrap(),
            audit("split")
        )
        .await,
        Err(AdminError::SplitFile(_))
    ));
    assert!(
        store
            .blocks(&scope)
            .await
            .unwrap()
            .iter()
            .any(|b| b.code == "k06")
    );
    let full = file(&k06);
    let c = places::split_block(
        store,
        &hht,
        "k06",
        &into,
        &places::read_block_assignments(full.as_bytes()).unwrap(),
        audit("split"),
    )
    .await
    .unwrap();
    assert_eq!(c.groups_told, k06.len());
    let blocks = store.blocks(&scope).await.unwrap();
    assert!(!blocks.iter().any(|b| b.code == "k06"));
    let groups = store.groups(&scope).await.unwrap();
    for (i, g) in k06.iter().enumerate() {
        let now = groups.iter().find(|x| x.id == g.id).expect("same group");
        assert_eq!(now.block_code, if i < half { "k21" } else { "k22" });
    }
    let items: Vec<PullItem> = pull(s, &dev.token, cursor, 1000)
        .await
        .entries
        .into_iter()
        .map(|e| e.item)
        .collect();
    assert!(
        items.iter().any(|i| matches!(
            i,
            PullItem::Place { place, change: PlaceChange::Split, before, .. }
                if place.block.code.as_str() == "k21" && before[0].code.as_str() == "k06"
        )),
        "{items:?}"
    );
    let r = push(s, &dev.token, &[tip(1)]).await;
    assert!(matches!(
        r.results[0].outcome,
        sotay_domain::wire::ChangeOutcome::Accepted { .. }
    ));
    assert!(
        store
            .place_events(&scope)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind == "split" && e.level == "block")
    );
}

#[tokio::test]
async fn version_10_sqlite_database_upgrades() {
    version_10_database_upgrades(Backend::Sqlite).await;
}

#[tokio::test]
async fn version_10_postgres_database_upgrades() {
    version_10_database_upgrades(Backend::Postgres).await;
}

macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() {
            let s = super::start(super::Backend::Sqlite).await.unwrap();
            super::$name(&s).await;
        } )+ }
        mod postgres { $( #[tokio::test] async fn $name() {
            let Some(s) = super::start(super::Backend::Postgres).await else { return };
            super::$name(&s).await;
        } )+ }
    };
}

both!(
    two_wards_with_the_same_codes_are_kept_apart,
    a_block_splits_and_its_groups_follow,
    a_ward_merges_with_its_devices_officers_and_sources,
    a_merged_groups_register_keeps_its_households,
    a_merge_and_a_rename_reach_the_device,
    a_split_moves_households_by_the_file,
    seeding_again_renames_a_block_once,
);
