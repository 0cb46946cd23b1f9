//! Campaign figures at a ward's scale: the demo ward (20 blocks, 247
//! groups) with a register of 25 homes a group (6,175 homes, a third with
//! a business), two inspections of most homes, 20 tips and 30 daily
//! Đề án 06 counts a group, all pushed through the real server, and three
//! campaigns over the whole ward (fire safety, Đề án 06, tips).
//!
//! Measured, each the median of several runs, beside a peer in the same
//! run so the ratio survives a noisy machine:
//! - the figures of the campaigns page (`campaigns::reports` over the
//!   three) and of one campaign's page, against the fire-safety page's
//!   figures (`data::fire_report` over every inspection), the heaviest
//!   page the dashboard had before;
//! - a phone's `GET /v1/campaigns` against its `GET /v1/sync/pull`
//!   (nothing new to pull), over HTTP on loopback, every group's device once.
//!
//! `cargo bench -p sotay-server --bench campaigns`
//! Env: `SOTAY_TEST_PG_URL` (PostgreSQL; skipped with a note when unset).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, Utc};
use serde_json::json;
use sotay_domain::campaign::{Goal, HouseholdScope};
use sotay_domain::wire::Change;
use sotay_domain::{HouseholdId, ReportBody, ReportId, ReportKind, vietnam_date};
use sotay_server::campaigns::{self, NewCampaign};
use sotay_server::dashboard::data;
use sotay_server::store::Scope;
use sotay_server::testing::{Backend, TestServer};
use std::time::{Duration, Instant};

const HOMES_PER_GROUP: usize = 25;
const TIPS_PER_GROUP: usize = 20;
const COUNT_DAYS: i64 = 30;
const RUNS: usize = 7;

fn inspection(household_id: HouseholdId, days_ago: i64, seq: i64) -> Change {
    let at = Utc::now() - TimeDelta::days(days_ago) - TimeDelta::hours(1);
    let i = sotay_server::testing::passing_inspection(household_id, at);
    Change::new(ReportId::new_v7(), seq, 1, &ReportBody::Inspection(i))
}

fn tip(seq: i64, n: usize) -> Change {
    let category = ["drugs", "theft", "gambling", "fraud"][n % 4];
    let text = format!("Có người lạ mặt đi lại nhiều lần trước nhà số {n}");
    sotay_server::testing::tip_change(seq, category, &text)
}

fn count(group: &str, days_ago: i64, seq: i64) -> Change {
    let date = vietnam_date(Utc::now()) - TimeDelta::days(days_ago);
    let activated = 40 + (COUNT_DAYS - days_ago) as u32;
    Change {
        report_id: ReportId::for_id_count("hht", group, date),
        device_seq: seq,
        rev: 1,
        kind: ReportKind::IdCount,
        payload: json!({"date": date, "residents": 110, "collected": 100, "activated": activated}),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Loads the ward: registers, one device a group, its reports; returns
/// the server, each device's token and how many reports were stored.
async fn ward(backend: Backend) -> (TestServer, Vec<String>, usize) {
    let server = TestServer::start(backend, Default::default())
        .await
        .expect("start")
        .expect("not skipped");
    let groups: Vec<String> = sotay_server::admin::demo_groups()
        .unwrap()
        .into_iter()
        .map(|g| g.place.group.code.to_string())
        .collect();
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    let mut stored = 0;
    for g in &groups {
        let mut csv = String::from("Địa chỉ,Chủ hộ,Số nhân khẩu,Kinh doanh\n");
        for h in 0..HOMES_PER_GROUP {
            csv.push_str(&format!(
                "{} Lê Lợi,Chủ hộ {h},4,{}\n",
                h + 1,
                if h % 3 == 0 { "có" } else { "không" }
            ));
        }
        sotay_server::admin::import_households(server.store(), g, csv.as_bytes(), Utc::now())
            .await
            .unwrap();
        let homes: Vec<HouseholdId> = server
            .store()
            .household_rows(g)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id.parse().unwrap())
            .collect();
        let (_, token) = server.enroll_device(g).await.unwrap();
        let mut changes = Vec::new();
        let mut seq = 0;
        let mut next = || {
            seq += 1;
            seq
        };
        for (i, h) in homes.iter().enumerate() {
            // Most homes twice: once two months ago, once this month.
            if i % 5 != 0 {
                changes.push(inspection(*h, 60, next()));
            }
            if i % 4 != 0 {
                changes.push(inspection(*h, (i % 20) as i64, next()));
            }
        }
        for n in 0..TIPS_PER_GROUP {
            changes.push(tip(next(), n));
        }
        for d in 0..COUNT_DAYS {
            changes.push(count(g, d, next()));
        }
        stored += changes.len();
        for batch in changes.chunks(200) {
            let res = client
                .post(format!("{}/v1/sync/push", server.url()))
                .bearer_auth(&token)
                .json(&json!({ "changes": batch }))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
        tokens.push(token);
    }
    (server, tokens, stored)
}

async fn measure(backend: Backend) {
    let (server, tokens, stored) = ward(backend).await;
    let store = server.store();
    let ward = sotay_server::places::resolve_ward(store, None)
        .await
        .unwrap();
    let today = vietnam_date(Utc::now());
    let audit = || sotay_server::admin::command_audit("add-campaign", "", "");
    for (title, goal) in [
        (
            "PCCC hộ kinh doanh",
            Goal::FireSafety {
                target: 100,
                households: HouseholdScope::Business,
            },
        ),
        ("Kích hoạt mức 2", Goal::Id06 { target: 60 }),
        (
            "Tin ma túy",
            Goal::Tips {
                target: 5,
                categories: vec![sotay_domain::TipCategory::Drugs],
            },
        ),
    ] {
        campaigns::add(
            store,
            &ward,
            NewCampaign {
                title,
                starts_on: today - TimeDelta::days(20),
                ends_on: today + TimeDelta::days(10),
                goal,
                to: &[],
            },
            audit(),
        )
        .await
        .unwrap();
    }
    let scope = Scope::Ward("hht".into());
    let groups = data::groups(store, &scope).await.unwrap();

    let mut all = Vec::new();
    let mut one = Vec::new();
    let mut fire = Vec::new();
    let mut checked = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let rows = store.campaigns(&scope).await.unwrap();
        let r = campaigns::reports(store, &groups, rows, today)
            .await
            .unwrap();
        all.push(t.elapsed());
        checked = Some(r);

        let t = Instant::now();
        let rows: Vec<_> = store
            .campaigns(&scope)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| matches!(r.campaign.goal, Goal::FireSafety { .. }))
            .collect();
        campaigns::reports(store, &groups, rows, today)
            .await
            .unwrap();
        one.push(t.elapsed());

        let t = Instant::now();
        let templates = store.templates().await.unwrap();
        let rows = store
            .export(&scope, Some(ReportKind::Inspection))
            .await
            .unwrap();
        let inspections = data::inspections(rows, &groups, &templates);
        let registered = data::registered_by_group(store, &groups, &scope)
            .await
            .unwrap();
        data::fire_report(&inspections, &registered, &groups, today);
        fire.push(t.elapsed());
    }
    let reports = checked.unwrap();
    // The figures are the ones built: every group known, each its 9 homes
    // with a business.
    let fire_report = reports
        .iter()
        .find(|r| matches!(r.campaign().goal, Goal::FireSafety { .. }))
        .unwrap();
    assert_eq!(fire_report.total.of, 247 * 9);
    assert_eq!(fire_report.groups.len(), 247);

    let client = reqwest::Client::new();
    let get = |path: &'static str| {
        let client = client.clone();
        let base = server.url();
        let tokens = tokens.clone();
        async move {
            let mut times = Vec::new();
            for t in &tokens {
                let start = Instant::now();
                let res = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(t)
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success());
                res.bytes().await.unwrap();
                times.push(start.elapsed());
            }
            median(times)
        }
    };
    let campaigns_p50 = get("/v1/campaigns").await;
    let pull_p50 = get("/v1/sync/pull?since=1000000&limit=100").await;

    let (all, one, fire) = (median(all), median(one), median(fire));
    println!(
        "| {backend:?} | {stored} | {} | {} | {} | {:.2}× | {} | {} | {:.2}× |",
        ms(all),
        ms(one),
        ms(fire),
        one.as_secs_f64() / fire.as_secs_f64(),
        ms(campaigns_p50),
        ms(pull_p50),
        campaigns_p50.as_secs_f64() / pull_p50.as_secs_f64(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "campaigns: 247 groups, {HOMES_PER_GROUP} homes, {TIPS_PER_GROUP} tips and {COUNT_DAYS} counts a group; median of {RUNS}; {}",
        sotay_server::testing::machine()
    );
    println!(
        "| backend | reports stored | 3 campaigns' figures | 1 fire-safety campaign | fire-safety page (peer) | campaign ÷ fire page | GET /v1/campaigns p50 | GET /v1/sync/pull p50 (peer) | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for backend in sotay_server::testing::bench_backends() {
        rt.block_on(measure(backend));
    }
}
