//! The shared integration suite: every case runs against a real server on
//! port 0, once on SQLite and once on PostgreSQL (see `backend_tests!`).
#![allow(clippy::unwrap_used)]

mod common;

use chrono::TimeDelta;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sotay_domain::wire::{ChangeOutcome, PullItem, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::admin;
use sotay_server::store::now_micros;
use sotay_server::testing::TestServer;
use std::io::Write;

fn receipt(o: &ChangeOutcome) -> sotay_domain::report::Receipt {
    match o {
        ChangeOutcome::Accepted { receipt } => receipt.clone(),
        ChangeOutcome::Rejected { code, message, .. } => panic!("rejected: {code}: {message}"),
    }
}

fn rejection(o: &ChangeOutcome) -> String {
    match o {
        ChangeOutcome::Rejected { code, .. } => code.code().to_owned(),
        ChangeOutcome::Accepted { .. } => panic!("accepted, expected a rejection"),
    }
}

async fn export_len(s: &TestServer) -> usize {
    s.store()
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .unwrap()
        .len()
}

async fn enroll_works_once(s: &TestServer) {
    let code = s.enroll_code("k01-t03").await.unwrap();
    let req = json!({"code": code.to_lowercase(), "device_name": "Máy tổ 3"});
    let (status, body) = post(s, "/v1/enroll", None, &req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["place"]["group"]["code"], "k01-t03");
    assert_eq!(body["place"]["ward"]["name"], "Hà Huy Tập");
    assert_eq!(body["token"].as_str().unwrap().len(), 64);
    let (status, body) = post(s, "/v1/enroll", None, &req).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("enroll-code-used"))
    );
    let (status, body) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "device_name": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("enroll-code-invalid"))
    );
    // Only the hash of the token is stored: the devices list has no token.
    let mut out = Vec::new();
    admin::write_devices(s.store(), &sotay_server::store::Scope::Province, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("k01-t03\tactive\t0\t"), "{out}");
    assert!(!out.contains(body["token"].as_str().unwrap_or("no token")));
}

async fn expired_code_is_refused(s: &TestServer) {
    let past = now_micros() - TimeDelta::hours(2);
    let code = admin::issue_enroll_code(s.store(), "k01-t01", TimeDelta::hours(1), past)
        .await
        .unwrap();
    let (status, body) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": code, "device_name": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("enroll-code-expired"))
    );
}

async fn failed_enrollments_are_rate_limited(s: &TestServer) {
    for _ in 0..10 {
        let (status, _) = post(
            s,
            "/v1/enroll",
            None,
            &json!({"code": "nope", "device_name": "x"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let code = s.enroll_code("k01-t01").await.unwrap();
    let (status, body) = post(
        s,
        "/v1/enroll",
        None,
        &json!({"code": code, "device_name": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate-limited"))
    );
}

/// Thirty garbage codes at once from one address: exactly ten are tried
/// (checked and counted in one step), the rest turned away; another
/// address still enrolls with a real code.
async fn parallel_guesses_all_count_and_only_the_guesser_is_refused(s: &TestServer) {
    let guesses = futures_util::future::join_all((0..30).map(|_| async {
        post(
            s,
            "/v1/enroll",
            None,
            &json!({"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "device_name": "x"}),
        )
        .await
        .0
    }))
    .await;
    let tried = guesses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    let limited = guesses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((tried, limited), (10, 20), "{guesses:?}");
    let code = s.enroll_code("k01-t01").await.unwrap();
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = other
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({"code": code, "device_name": "máy thật"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another address is not refused"
    );
}

/// Codes are listed without themselves, and an unused one can be ended.
async fn enroll_codes_are_listed_and_revoked(s: &TestServer) {
    let used = s.enroll_code("k01-t01").await.unwrap();
    enroll_with(s, &used).await;
    let _unused = s.enroll_code("k01-t02").await.unwrap();
    let codes = s
        .store()
        .enroll_codes(&sotay_server::store::Scope::Province)
        .await
        .unwrap();
    assert_eq!(codes.len(), 2);
    let unused = codes.iter().find(|c| c.group == "k01-t02").unwrap();
    let spent = codes.iter().find(|c| c.group == "k01-t01").unwrap();
    assert!(spent.used_at.is_some() && unused.used_at.is_none());
    assert_eq!(unused.id.len(), 12);
    let now = sotay_server::store::now_micros();
    assert!(
        !s.store()
            .revoke_enroll_code(&spent.id, now, None)
            .await
            .unwrap(),
        "a used code"
    );
    assert!(
        s.store()
            .revoke_enroll_code(&unused.id, now, None)
            .await
            .unwrap()
    );
    assert!(
        !s.store()
            .revoke_enroll_code(&unused.id, now, None)
            .await
            .unwrap(),
        "once"
    );
    let after = s
        .store()
        .enroll_codes(&sotay_server::store::Scope::Province)
        .await
        .unwrap();
    assert!(
        after
            .iter()
            .find(|c| c.group == "k01-t02")
            .unwrap()
            .expires_at
            <= now
    );
}

async fn push_then_same_push_again(s: &TestServer) {
    let dev = enroll(s, "k01-t01").await;
    let changes = vec![tip(1), id_count("k01-t01", 2), inspection(3)];
    let first = push(s, &dev.token, &changes).await;
    assert_eq!(first.checkpoint, 3);
    assert_eq!(first.results.len(), 3);
    let receipts: Vec<_> = first.results.iter().map(|r| receipt(&r.outcome)).collect();
    assert!(
        receipts
            .windows(2)
            .all(|w| w[0].server_seq < w[1].server_seq)
    );
    for (r, c) in first.results.iter().zip(&changes) {
        assert_eq!(
            (r.report_id, r.device_seq, r.rev),
            (c.report_id, c.device_seq, c.rev)
        );
    }
    // The response was lost; the device sends the very same batch again.
    let again = push(s, &dev.token, &changes).await;
    assert_eq!(again, first, "a retry gets the first receipts");
    assert_eq!(export_len(s).await, 3, "no duplicate");
    // A new revision is a new receipt; the export shows the newest.
    let rev2 = tip_with(changes[0].report_id, 4, 2);
    let third = push(s, &dev.token, std::slice::from_ref(&rev2)).await;
    assert!(receipt(&third.results[0].outcome).server_seq > receipts[2].server_seq);
    assert_eq!(third.checkpoint, 4);
    let rows = s
        .store()
        .export(&sotay_server::store::Scope::Province, Some(ReportKind::Tip))
        .await
        .unwrap();
    assert_eq!(
        (rows.len(), rows[0].rev, rows[0].group.as_str()),
        (1, 2, "k01-t01")
    );
}

async fn one_bad_change_does_not_stop_the_batch(s: &TestServer) {
    let dev = enroll(s, "k02-t01").await;
    let good1 = tip(1);
    let changes = vec![
        serde_json::to_value(&good1).unwrap(),
        raw_change(ReportId::new_v7(), 2, 1, "tip", tip_payload("ngắn")),
        raw_change(
            ReportId::new_v7(),
            3,
            1,
            "tip",
            json!({"category": "alien-invasion", "description": "Có người lạ mặt đi lại", "location": {"not_remembered": true}, "source": {"kind": "observed"}}),
        ),
        raw_change(ReportId::new_v7(), 4, 1, "gossip", json!({})),
        raw_change(
            ReportId::new_v7(),
            5,
            1,
            "id-count",
            json!({"date": "2025-06-01", "residents": 10, "collected": 20, "activated": 1}),
        ),
        raw_change(
            ReportId::new_v7(),
            6,
            1,
            "id-count",
            json!({"date": "2025-06-01", "residents": -1, "collected": 0, "activated": 0}),
        ),
        raw_change(
            ReportId::new_v7(),
            7,
            0,
            "tip",
            tip_payload("Mất trộm xe máy trước nhà số 5"),
        ),
        serde_json::to_value(id_count("k02-t01", 8)).unwrap(),
    ];
    let (status, body) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": changes}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // On the wire: the code, the server's words, and for `invalid` every
    // rule broken with its field, so the device can say it in the
    // leader's language and mark the field.
    assert_eq!(body["results"][1]["outcome"], "rejected");
    assert_eq!(body["results"][1]["code"], "invalid");
    let fields = body["results"][1]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !fields.is_empty()
            && fields
                .iter()
                .all(|f| f["field"].is_string() && f["code"].is_string()),
        "{body}"
    );
    assert!(
        body["results"][2].get("fields").is_none(),
        "only `invalid` lists fields"
    );
    let res: sotay_domain::wire::PushResponse = serde_json::from_value(body).unwrap();
    let codes: Vec<&str> = res
        .results
        .iter()
        .map(|r| match &r.outcome {
            ChangeOutcome::Accepted { .. } => "ok",
            ChangeOutcome::Rejected { code, message, .. } => {
                assert!(!message.is_empty());
                code.code()
            }
        })
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "invalid",
            "bad-payload",
            "bad-payload",
            "invalid",
            "bad-payload",
            "out-of-range",
            "ok"
        ]
    );
    let seqs: Vec<i64> = res.results.iter().map(|r| r.device_seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(res.checkpoint, 8, "rejected changes count as processed");
    assert_eq!(export_len(s).await, 2);
}

/// One push is decided change by change in request order, as if each were
/// pushed alone: the cases where a later change of a batch depends on an
/// earlier one of the same batch.
async fn a_batch_is_decided_in_request_order(s: &TestServer) {
    let dev = enroll(s, "k04-t01").await;
    let (a, b, c, d, e, f) = (
        ReportId::new_v7(),
        ReportId::new_v7(),
        ReportId::new_v7(),
        ReportId::new_v7(),
        ReportId::new_v7(),
        ReportId::new_v7(),
    );
    let mut d_as_inspection = inspection(5);
    d_as_inspection.report_id = d;
    d_as_inspection.rev = 2;
    let changes = vec![
        // Two revisions of one report.
        tip_with(a, 1, 1),
        tip_with(a, 2, 2),
        // A sequence number used twice within the push.
        tip_with(b, 3, 1),
        tip_with(c, 3, 1),
        // A kind mismatch against a report created earlier in the push.
        tip_with(d, 4, 1),
        d_as_inspection,
        // One revision sent twice under two sequence numbers.
        tip_with(e, 6, 1),
        tip_with(e, 7, 1),
        // The very same change twice.
        tip_with(f, 8, 1),
        tip_with(f, 8, 1),
    ];
    let first = push(s, &dev.token, &changes).await;
    let codes: Vec<String> = first
        .results
        .iter()
        .map(|r| match &r.outcome {
            ChangeOutcome::Accepted { .. } => "ok".to_owned(),
            ChangeOutcome::Rejected { code, .. } => code.code().to_owned(),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "ok",
            "ok",
            "seq-reused",
            "ok",
            "kind-mismatch",
            "ok",
            "ok",
            "ok",
            "ok"
        ]
    );
    let r = |i: usize| receipt(&first.results[i].outcome);
    assert!(r(0).server_seq < r(1).server_seq, "rev 2 after rev 1");
    assert_eq!(r(6), r(7), "one revision, one receipt");
    assert_eq!(r(8), r(9), "one change, one receipt");
    assert_eq!(first.checkpoint, 8);
    let rows = s
        .store()
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .unwrap();
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [a, b, d, e, f].into_iter().collect());
    assert_eq!(rows.len(), 5);
    let newest = |id| rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(newest(a).rev, 2);
    assert_eq!(newest(d).kind, ReportKind::Tip);
    assert_eq!(s.store().report_revisions(a).await.unwrap().len(), 2);
    // The whole push again (its answer was lost): the same answer.
    let again = push(s, &dev.token, &changes).await;
    assert_eq!(again, first);
    assert_eq!(
        s.store()
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .unwrap()
            .len(),
        5
    );
}

async fn checkpoint_stops_at_a_gap(s: &TestServer) {
    let dev = enroll(s, "k02-t02").await;
    assert_eq!(push(s, &dev.token, &[tip(1), tip(3)]).await.checkpoint, 1);
    assert_eq!(push(s, &dev.token, &[tip(2)]).await.checkpoint, 3);
    // A sequence number reused for another report is refused, not stored.
    let res = push(s, &dev.token, &[tip(2)]).await;
    assert_eq!(rejection(&res.results[0].outcome), "seq-reused");
    assert_eq!(export_len(s).await, 3);
    // An empty push just reports the checkpoint.
    assert_eq!(push(s, &dev.token, &[]).await.checkpoint, 3);
}

async fn pull_pages_in_server_order(s: &TestServer) {
    let dev = enroll(s, "k03-t01").await;
    let other = enroll(s, "k03-t02").await;
    let tips: Vec<_> = (1..=5).map(tip).collect();
    push(s, &dev.token, &tips).await;
    for (i, t) in tips.iter().enumerate() {
        let status = if i % 2 == 0 {
            WardStatus::Verifying
        } else {
            WardStatus::Resolved
        };
        let (group, _) = admin::set_tip_status(
            s.store(),
            t.report_id,
            status,
            Some(format!("ghi chú {i}")),
            now_micros(),
            &admin::command_audit("tip-status", "test", ""),
        )
        .await
        .unwrap();
        assert_eq!(group, "k03-t01");
    }
    let mut since = 0;
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = pull(s, &dev.token, since, 2).await;
        pages += 1;
        assert!(page.entries.len() <= 2);
        all.extend(page.entries);
        since = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 6, "the template and five decisions");
    assert!(all.windows(2).all(|w| w[0].server_seq < w[1].server_seq));
    assert!(matches!(all[0].item, PullItem::Template { .. }));
    match &all[1].item {
        PullItem::TipStatus {
            report_id,
            status,
            note,
            ..
        } => {
            assert_eq!(
                (*report_id, *status),
                (tips[0].report_id, WardStatus::Verifying)
            );
            assert_eq!(note.as_deref(), Some("ghi chú 0"));
        }
        other => panic!("expected a tip status, got {other:?}"),
    }
    // Nothing new past the cursor.
    let last = pull(s, &dev.token, since, 100).await;
    assert!(last.entries.is_empty() && !last.more && last.next_cursor == since);
    // Another group sees only the template.
    let theirs = pull(s, &other.token, 0, 100).await;
    assert_eq!(theirs.entries.len(), 1);
    // Out-of-range and mistyped parameters are 400s.
    for q in [
        "limit=0",
        "limit=100000",
        "since=-1",
        "since=abc",
        "limit=-5",
    ] {
        let (status, body) = get(s, &format!("/v1/sync/pull?{q}"), Some(&dev.token)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad-query")),
            "{q}"
        );
    }
}

async fn another_groups_report_is_forbidden(s: &TestServer) {
    let a = enroll(s, "k04-t01").await;
    let b = enroll(s, "k05-t01").await;
    let mine = tip(1);
    push(s, &a.token, std::slice::from_ref(&mine)).await;
    // B tries to overwrite A's report, and to read its receipt by replay.
    let res = push(
        s,
        &b.token,
        &[
            tip_with(mine.report_id, 1, 2),
            tip_with(mine.report_id, 2, 1),
            tip(3),
        ],
    )
    .await;
    assert_eq!(rejection(&res.results[0].outcome), "forbidden");
    assert_eq!(rejection(&res.results[1].outcome), "forbidden");
    receipt(&res.results[2].outcome);
    let rows = s
        .store()
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.id == mine.report_id).unwrap();
    assert_eq!((row.rev, row.group.as_str()), (1, "k04-t01"));
    // A's decisions never reach B.
    admin::set_tip_status(
        s.store(),
        mine.report_id,
        WardStatus::Resolved,
        None,
        now_micros(),
        &admin::command_audit("tip-status", "test", ""),
    )
    .await
    .unwrap();
    let page = pull(s, &b.token, 0, 100).await;
    assert!(
        page.entries
            .iter()
            .all(|e| !matches!(e.item, PullItem::TipStatus { .. }))
    );
    assert_eq!(pull(s, &a.token, 0, 100).await.entries.len(), 2);
}

async fn revoked_and_unknown_tokens_get_401(s: &TestServer) {
    let dev = enroll(s, "k06-t01").await;
    push(s, &dev.token, &[tip(1)]).await;
    admin::revoke(
        s.store(),
        dev.device_id,
        now_micros(),
        &admin::command_audit("revoke-device", "test", ""),
    )
    .await
    .unwrap();
    let (status, body) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": [tip(2)]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token-revoked"))
    );
    let (status, _) = get(s, "/v1/sync/pull", Some(&dev.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = get(s, "/v1/sync/pull", Some("0123")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = get(s, "/v1/sync/pull", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // 401 comes before the body is looked at.
    let (status, _) = post_raw(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        b"{not json".to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(export_len(s).await, 1);
}

async fn oversized_bodies_get_413(s: &TestServer) {
    let dev = enroll(s, "k07-t01").await;
    let limit = s.state.config.max_body_bytes;
    let big = json!({"changes": [raw_change(ReportId::new_v7(), 1, 1, "tip", tip_payload(&"x".repeat(limit)))]});
    let (status, body) = post(s, "/v1/sync/push", Some(&dev.token), &big).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too-large"))
    );
    // The same, gzip-compressed to a few kilobytes: the limit is on the
    // decompressed size.
    let gz = gzip(&serde_json::to_vec(&big).unwrap());
    assert!(gz.len() < limit / 10);
    let (status, body) = post_raw(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        gz,
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too-large"))
    );
    let many: Vec<_> = (1..=s.state.config.max_batch_items as i64 + 1)
        .map(tip)
        .collect();
    let (status, body) = post(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        &json!({"changes": many}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("batch-too-large"))
    );
    assert_eq!(export_len(s).await, 0);
}

async fn malformed_and_truncated_json_get_4xx(s: &TestServer) {
    let dev = enroll(s, "k08-t01").await;
    let full = serde_json::to_vec(&json!({"changes": [tip(1)]})).unwrap();
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (full[..full.len() / 2].to_vec(), StatusCode::BAD_REQUEST, "malformed-json"),
        (b"".to_vec(), StatusCode::BAD_REQUEST, "malformed-json"),
        (b"{changes: []}".to_vec(), StatusCode::BAD_REQUEST, "malformed-json"),
        (vec![0xff, 0xfe, 0x00], StatusCode::BAD_REQUEST, "malformed-json"),
        (b"{\"changes\": 5}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        (b"[]".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        (b"{\"changes\": [{\"report_id\": \"nope\"}]}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        (b"{\"changes\": [{\"report_id\": \"0190f5a0-0000-7000-8000-000000000001\", \"device_seq\": \"1\", \"rev\": 1}]}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        (b"{\"changes\": [{\"report_id\": \"0190f5a0-0000-7000-8000-000000000001\", \"device_seq\": 1, \"rev\": 99999999999}]}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
    ];
    for (body, want_status, want_code) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (status, resp) = post_raw(s, "/v1/sync/push", Some(&dev.token), body, &[]).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (want_status, Some(want_code)),
            "{shown}: {resp}"
        );
        let message = resp["message"].as_str().unwrap();
        assert!(
            !message.to_lowercase().contains("sql") && !message.contains('/'),
            "{message}"
        );
    }
    // A truncated gzip body.
    let gz = gzip(&full);
    let (status, resp) = post_raw(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        gz[..gz.len() / 2].to_vec(),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert!(status.is_client_error(), "{status} {resp}");
    assert!(resp["code"].is_string());
    // An encoding the server does not speak.
    let (status, resp) = post_raw(
        s,
        "/v1/sync/push",
        Some(&dev.token),
        full.clone(),
        &[("content-encoding", "br")],
    )
    .await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported-media-type")
        )
    );
    let (status, resp) = post_raw(s, "/v1/enroll", None, b"{\"code\": 12}".to_vec(), &[]).await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-request"))
    );
    let (status, resp) = get(s, "/v1/nothing-here", None).await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not-found"))
    );
    let (status, resp) = get(s, "/v1/sync/push", Some(&dev.token)).await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed"))
    );
    assert_eq!(export_len(s).await, 0, "no partial write");
}

async fn older_client_payload_is_accepted(s: &TestServer) {
    let dev = enroll(s, "k09-t01").await;
    // Version-1 shapes: no `helped`, no `urgency`, plus a field from the future.
    let changes = json!({"changes": [
        {"report_id": id_count("k09-t01", 1).report_id, "device_seq": 1, "rev": 1, "kind": "id-count",
         "payload": {"date": "2025-06-01", "residents": 5, "collected": 4, "activated": 1}},
        {"report_id": ReportId::new_v7(), "device_seq": 2, "rev": 1, "kind": "tip",
         "payload": {"category": "drugs", "description": "Nghi có người sử dụng ma túy ở ngõ 7",
                     "location": {"not_remembered": true}, "source": {"kind": "observed"}},
         "attachments_from_the_future": []}
    ], "client_hint": "v9"});
    let (status, body) = post(s, "/v1/sync/push", Some(&dev.token), &changes).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res: sotay_domain::wire::PushResponse = serde_json::from_value(body).unwrap();
    res.results.iter().for_each(|r| {
        receipt(&r.outcome);
    });
    assert_eq!(res.checkpoint, 2);
}

async fn gzip_both_ways(s: &TestServer) {
    let dev = enroll(s, "k10-t01").await;
    let body = serde_json::to_vec(&json!({"changes": [tip(1), inspection(2)]})).unwrap();
    let res = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .post(format!("{}/v1/sync/push", s.url()))
        .bearer_auth(&dev.token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let res: sotay_domain::wire::PushResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(res.checkpoint, 2);
}

async fn info_health_and_export(s: &TestServer) {
    let (status, body) = get(s, "/healthz", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, info) = get(s, "/v1/server-info", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["protocol_versions"], json!([1]));
    assert_eq!(
        info["max_batch_items"],
        json!(s.state.config.max_batch_items)
    );
    let dev = enroll(s, "k11-t01").await;
    push(s, &dev.token, &[tip(1), id_count("k11-t01", 2)]).await;
    let mut out = Vec::new();
    admin::export(
        s.store(),
        &sotay_server::store::Scope::Province,
        admin::ExportFormat::Json,
        None,
        &mut out,
    )
    .await
    .unwrap();
    let rows: Value = serde_json::from_slice(&out).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for key in [
        "id",
        "kind",
        "rev",
        "group",
        "receipt",
        "payload",
        "device_id",
    ] {
        assert!(rows[0].get(key).is_some(), "{key}");
    }
    assert!(rows[0]["receipt"]["server_seq"].is_i64());
    let mut out = Vec::new();
    admin::export(
        s.store(),
        &sotay_server::store::Scope::Province,
        admin::ExportFormat::Csv,
        Some(ReportKind::IdCount),
        &mut out,
    )
    .await
    .unwrap();
    let csv = String::from_utf8(out).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.starts_with("id,kind,rev,group,device_id,server_seq,received_at,payload"));
}

async fn concurrent_devices_of_one_group(s: &TestServer) {
    // Two devices of one group racing on the same report and revision end
    // with one stored revision and one receipt.
    let a = enroll(s, "k12-t01").await;
    let b = enroll(s, "k12-t01").await;
    let shared = tip(1);
    let (ra, rb) = tokio::join!(
        push(s, &a.token, std::slice::from_ref(&shared)),
        push(s, &b.token, std::slice::from_ref(&shared))
    );
    assert_eq!(
        receipt(&ra.results[0].outcome),
        receipt(&rb.results[0].outcome)
    );
    assert_eq!(export_len(s).await, 1);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The household checklist as a ward might publish it next.
fn checklist_v2() -> sotay_domain::ChecklistTemplate {
    sotay_domain::ChecklistTemplate::household_v2_example()
}

async fn a_published_checklist_reaches_devices_and_checks_their_pushes(s: &TestServer) {
    let store = s.store();
    let now = now_micros();
    let v2 = checklist_v2();
    // Refused, and nothing published, unless valid and newer.
    let mut dup = v2.clone();
    dup.items[12].code = "electrical".into();
    assert!(matches!(
        admin::publish_template(store, dup, now).await,
        Err(admin::AdminError::InvalidTemplate(_))
    ));
    let mut edited_v1 = sotay_domain::ChecklistTemplate::household_v1();
    edited_v1.items[0].label.vi = "Sửa sau khi đã dùng".into();
    assert!(matches!(
        admin::publish_template(store, edited_v1, now).await,
        Err(admin::AdminError::TemplateNotNewer { newest: 1, .. })
    ));
    assert!(
        admin::publish_template(store, v2.clone(), now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        admin::publish_template(store, v2.clone(), now)
            .await
            .unwrap(),
        None,
        "the same version again changes nothing"
    );
    let mut edited_v2 = v2.clone();
    edited_v2.title.vi = "Khác".into();
    assert!(matches!(
        admin::publish_template(store, edited_v2, now).await,
        Err(admin::AdminError::TemplateNotNewer { newest: 2, .. })
    ));
    let versions: Vec<u32> = store
        .templates()
        .await
        .unwrap()
        .iter()
        .map(|t| t.version)
        .collect();
    assert_eq!(versions, vec![1, 2]);

    // Devices get it with their next pull.
    let dev = enroll(s, "k01-t01").await;
    let pulled = pull(s, &dev.token, 0, 500).await;
    assert!(
        pulled
            .entries
            .iter()
            .any(|e| matches!(&e.item, PullItem::Template { template } if *template == v2))
    );

    // Pushes are checked against the version they name.
    let against_v2 = |seq: i64, answer_new_item: bool| {
        let mut c = inspection(seq);
        let mut i: sotay_domain::Inspection = serde_json::from_value(c.payload.clone()).unwrap();
        i.template.version = 2;
        if answer_new_item {
            let mut a = i.answers[0].clone();
            a.item = "lightning-rod".into();
            i.answers.push(a);
        }
        c.payload = serde_json::to_value(&i).unwrap();
        c
    };
    let mut v3 = against_v2(3, true);
    v3.payload["template"]["version"] = json!(3);
    let r = push(
        s,
        &dev.token,
        &[against_v2(1, true), against_v2(2, false), v3],
    )
    .await;
    receipt(&r.results[0].outcome);
    assert_eq!(
        rejection(&r.results[1].outcome),
        "invalid",
        "the new item is unanswered"
    );
    assert_eq!(rejection(&r.results[2].outcome), "unknown-template");
}

/// Instantiates every case of the suite for one backend.
macro_rules! backend_tests {
    ($backend:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(server) = super::start($backend).await else { return };
                super::$case(&server).await;
            }
        )+
    };
}

macro_rules! suite {
    ($backend:expr) => {
        backend_tests!($backend;
            enroll_works_once,
            expired_code_is_refused,
            failed_enrollments_are_rate_limited,
            push_then_same_push_again,
            one_bad_change_does_not_stop_the_batch,
            checkpoint_stops_at_a_gap,
            a_batch_is_decided_in_request_order,
            pull_pages_in_server_order,
            another_groups_report_is_forbidden,
            revoked_and_unknown_tokens_get_401,
            oversized_bodies_get_413,
            malformed_and_truncated_json_get_4xx,
            older_client_payload_is_accepted,
            gzip_both_ways,
            info_health_and_export,
            concurrent_devices_of_one_group,
            parallel_guesses_all_count_and_only_the_guesser_is_refused,
            enroll_codes_are_listed_and_revoked,
            a_published_checklist_reaches_devices_and_checks_their_pushes,
        );
    };
}

mod sqlite {
    use sotay_server::testing::Backend;
    suite!(Backend::Sqlite);
}

mod postgres {
    use sotay_server::testing::Backend;
    suite!(Backend::Postgres);
}

/// Behind a trusted reverse proxy the limits count the real client from
/// `X-Forwarded-For`: the guessing client is refused, another one is not.
/// Without the setting, anyone's `X-Forwarded-For` is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enrollment_limit_counts_the_client_behind_a_trusted_proxy() {
    let guess = |s: &TestServer, forwarded: &'static str| {
        let url = format!("{}/v1/enroll", s.url());
        async move {
            client()
                .post(url)
                .header("x-forwarded-for", forwarded)
                .json(&json!({"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "device_name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let behind = start_with(
        sotay_server::testing::Backend::Sqlite,
        sotay_server::Config {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..10 {
        assert_eq!(
            guess(&behind, "198.51.100.7").await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        guess(&behind, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not refused.
    assert_eq!(
        guess(&behind, "10.9.8.7, 198.51.100.8").await,
        StatusCode::BAD_REQUEST
    );

    // No trusted proxy: a forged header changes nothing, the peer is counted.
    let direct = start(sotay_server::testing::Backend::Sqlite).await.unwrap();
    for i in 0..10 {
        let forged: &'static str = ["203.0.113.1", "203.0.113.2"][i % 2];
        assert_eq!(guess(&direct, forged).await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        guess(&direct, "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A device may push so many changes an hour; past it, 429 `rate-limited`
/// (which the device backs off from), and other devices are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pushing_without_limit_is_stopped() {
    let s = start_with(
        sotay_server::testing::Backend::Sqlite,
        sotay_server::Config {
            changes_per_device_per_hour: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let greedy = enroll(&s, "k01-t01").await;
    let other = enroll(&s, "k01-t02").await;
    push(&s, &greedy.token, &[tip(1), tip(2), tip(3)]).await;
    let (status, body) = post(
        &s,
        "/v1/sync/push",
        Some(&greedy.token),
        &json!({"changes": [tip(4), tip(5), tip(6)]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate-limited"))
    );
    assert_eq!(
        push(&s, &other.token, &[tip(1), tip(2)]).await.checkpoint,
        2
    );
}

/// A client that opens a socket and never finishes its request head is
/// dropped after the head timeout, on a real server; a complete request on
/// another connection is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_head_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start_with(
        sotay_server::testing::Backend::Sqlite,
        sotay_server::Config {
            header_read_timeout: std::time::Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut slow = tokio::net::TcpStream::connect(s.handle.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (status, _) = get(&s, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "others are served meanwhile");
    let mut buf = [0u8; 512];
    // Bounded so a regression fails instead of hanging.
    let read = tokio::time::timeout(std::time::Duration::from_secs(15), slow.read(&mut buf))
        .await
        .expect("the server closed the half-sent connection");
    match read {
        Ok(n) => assert!(
            n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
}

/// A kept-alive connection that sends nothing after its answer is closed
/// after the head timeout too (the wait for the next head is timed from
/// the end of the last answer), so idle keep-alives do not hold places
/// under the connection cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start_with(
        sotay_server::testing::Backend::Sqlite,
        sotay_server::Config {
            header_read_timeout: std::time::Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut idle = tokio::net::TcpStream::connect(s.handle.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    // The answer, read until its body ("ok" or JSON) has arrived.
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let n = idle.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {} // the rest of the answer's body
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the idle connection was never closed");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

/// Past the cap on open connections a new one is closed at once; when one
/// closes, the next is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start_with(
        sotay_server::testing::Backend::Sqlite,
        sotay_server::Config {
            max_connections: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(s.handle.addr).await.unwrap());
    }
    // Let the server accept them.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let ask = || async {
        let mut c = tokio::net::TcpStream::connect(s.handle.addr).await.unwrap();
        let _ = c
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), c.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    let refused = ask().await;
    assert!(
        !refused.contains("200 OK"),
        "the fourth connection is refused: {refused}"
    );
    drop(idle.pop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let served = ask().await;
    assert!(served.contains("200 OK"), "a place freed: {served}");
}

/// SQLite's group commit: pushes that arrive while the writer is busy wait,
/// then commit together in one transaction, each in its own savepoint. One
/// that fails (its device is gone) fails alone; the others are stored, and
/// answered only after the commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Holding the writer across awaits is the point: the pushes queue behind it.
#[allow(clippy::await_holding_lock)]
async fn sqlite_pushes_commit_together_and_fail_alone() {
    use sotay_server::store::sqlite::SqliteStore;
    use sotay_server::store::{CheckedChange, DeviceAuth, DynStore, NewDevice};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let sq = Arc::new(
        SqliteStore::open(dir.path().join("s.sqlite3"))
            .await
            .unwrap(),
    );
    let store: DynStore = sq.clone();
    admin::seed_demo(&store, now_micros()).await.unwrap();
    let now = now_micros();
    let mut devices = Vec::new();
    for (i, group) in ["k01-t01", "k01-t02"].into_iter().enumerate() {
        let code_hash = format!("code-{i}");
        store
            .create_enroll_code(&code_hash, group, now + TimeDelta::hours(1), now)
            .await
            .unwrap();
        let id = sotay_domain::wire::DeviceId(uuid::Uuid::now_v7());
        store
            .enroll(
                &code_hash,
                NewDevice {
                    id,
                    name: format!("máy {i}"),
                    token_hash: format!("token-{i}"),
                },
                now,
            )
            .await
            .unwrap()
            .unwrap();
        devices.push(DeviceAuth {
            device_id: id,
            group: group.to_owned(),
            group_code: group.to_owned(),
            former_places: Vec::new(),
            ward: "hht".to_owned(),
        });
    }
    let ghost = DeviceAuth {
        device_id: sotay_domain::wire::DeviceId(uuid::Uuid::now_v7()),
        group: "k01-t01".to_owned(),
        group_code: "k01-t01".to_owned(),
        former_places: Vec::new(),
        ward: "hht".to_owned(),
    };
    let checked = |c: sotay_domain::wire::Change| CheckedChange {
        report_id: c.report_id,
        device_seq: c.device_seq,
        rev: c.rev,
        verdict: Ok(c),
    };
    let writer = sq.hold_writer();
    let tasks: Vec<_> = [devices[0].clone(), ghost, devices[1].clone()]
        .into_iter()
        .map(|d| {
            let store = store.clone();
            let change = checked(tip(1));
            tokio::spawn(async move { store.push(&d, vec![change], now_micros()).await })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sq.pushes_waiting() < 3 {
        assert!(std::time::Instant::now() < deadline, "pushes did not queue");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        store
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .unwrap()
            .len(),
        0,
        "nothing before the commit"
    );
    drop(writer);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(results[0].as_ref().unwrap().checkpoint, 1);
    assert!(results[1].is_err(), "the gone device's push fails");
    assert_eq!(results[2].as_ref().unwrap().checkpoint, 1);
    assert_eq!(sq.group_commits(), (1, 2), "one commit stored both pushes");
    assert_eq!(
        store
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// A shipped migration whose text changed (seen as a recorded checksum that
/// differs), or a database newer than the binary, is refused at open on
/// both backends, and `sotay-server` exits saying which migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_migration_or_a_newer_database_is_refused() {
    use sotay_server::testing::{Backend, TestDb, fresh_store};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((store, db)) = fresh_store(backend).await.unwrap() else {
            continue;
        };
        drop(store);
        let tamper = |sql: &'static str| {
            let db = &db;
            async move {
                match db {
                    TestDb::Sqlite(dir) => {
                        rusqlite::Connection::open(dir.0.join("server.sqlite3"))
                            .unwrap()
                            .execute_batch(sql)
                            .unwrap();
                    }
                    TestDb::Postgres(schema) => {
                        let mut cfg: tokio_postgres::Config = schema.url.parse().unwrap();
                        cfg.options(format!("-c search_path={}", schema.name));
                        let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
                        let conn = tokio::spawn(conn);
                        client.batch_execute(sql).await.unwrap();
                        drop(client);
                        let _ = conn.await;
                    }
                }
            }
        };
        let reopen = || async {
            match &db {
                TestDb::Sqlite(dir) => {
                    sotay_server::store::open(dir.0.join("server.sqlite3").to_str().unwrap())
                        .await
                        .map(|_| ())
                }
                TestDb::Postgres(schema) => {
                    sotay_server::store::postgres::PgStore::connect(&schema.url, Some(&schema.name))
                        .await
                        .map(|_| ())
                }
            }
        };
        // An older server kept no checksums: they are recorded, and it opens.
        tamper("UPDATE schema_migrations SET checksum = NULL").await;
        reopen().await.unwrap();
        tamper("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3").await;
        let e = reopen().await.map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("migration 3 differs"), "{backend:?}: {e}");
        if let TestDb::Sqlite(dir) = &db {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_sotay-server"))
                .arg("--db")
                .arg(dir.0.join("server.sqlite3"))
                .args(["admin", "devices"])
                .env_remove("SOTAY_DB")
                .output()
                .unwrap();
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("migration 3 differs"), "{err}");
        }
        tamper("UPDATE schema_migrations SET checksum = NULL WHERE version = 3").await;
        reopen().await.unwrap();
        tamper("INSERT INTO schema_migrations (version, applied_at) SELECT 99, applied_at FROM schema_migrations WHERE version = 1").await;
        let e = reopen().await.map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("version 99, newer"), "{backend:?}: {e}");
    }
}
