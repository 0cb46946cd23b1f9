//! Wards as tenants and places with a history (issue 15), through a real
//! server on a loopback port, on SQLite and on PostgreSQL: two wards with
//! the same group codes kept apart; a merge and a rename with a device
//! syncing across them; a split with its households file.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
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
}

async fn a_merge_and_a_rename_reach_the_device(s: &TestServer) {
    let store = s.store();
    let hht = places::resolve_ward(store, None).await.unwrap();
    let dev = enroll(s, "k02-t01").await;
    push(s, &dev.token, &[tip(1)]).await;
    let kept = places::find_group(store, "hht", "k02-t02").await.unwrap();
    let gone = places::find_group(store, "hht", "k02-t01").await.unwrap();
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
    push(s, &dev.token, &[tip_with(mine[0].id, 2, 2)]).await;
    let after = store.export(&Scope::Province, None).await.unwrap();
    let revised = after.iter().find(|r| r.id == mine[0].id).unwrap();
    assert_eq!(
        revised.rev, 2,
        "the merged device may still revise its report"
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
        assert!(codes.iter().any(|x| x == c), "{c} in {codes:?}");
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
            partial.as_bytes(),
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
        file.as_bytes(),
        audit("split"),
    )
    .await
    .unwrap();
    let t41 = places::find_group(store, "hht", "k03-t41").await.unwrap();
    let t42 = places::find_group(store, "hht", "k03-t42").await.unwrap();
    assert_eq!(store.household_rows(&t41.id).await.unwrap().len(), 1);
    assert_eq!(store.household_rows(&t42.id).await.unwrap()[0].0, *h2);
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
    assert_eq!(store.group_codes(&t01.id).await.unwrap(), vec!["k05-t01"]);
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
    a_merge_and_a_rename_reach_the_device,
    a_split_moves_households_by_the_file,
    seeding_again_renames_a_block_once,
);
