//! Sealing on the device's real store file: what the outbox holds, what a
//! receipt leaves, what a withdrawn source erases, and a store written
//! before sealing existed.

mod common;

use chrono::Utc;
use common::{place, store, tip};
use sotay_device::store::migrate_to_version;
use sotay_device::{Save, Store};
use sotay_domain::ReportId;
use sotay_domain::report::{Receipt, ReportBody, ReportStatus};
use sotay_domain::tip::{Informant, Source, Tip, TipCategory};
use sotay_domain::wire::{ChangeOutcome, ChangeResult, SourceKey};

const NAME: &str = "Lê Thị Mận";
const PHONE: &str = "0912000111";
const NOTE: &str = "Chỉ gọi sau 20 giờ";

fn named() -> Tip {
    let mut t = tip(
        TipCategory::LoanSharking,
        "Cho vay nặng lãi, đòi nợ bằng sơn bẩn cửa",
    );
    t.source = Source::Resident {
        informant: Informant::Named {
            name: Some(NAME.into()),
            phone: Some(PHONE.into()),
        },
    };
    t.confidential_note = Some(NOTE.into());
    t
}

fn ward_key() -> (sotay_seal::SecretKey, SourceKey) {
    let (sk, pk) = sotay_seal::generate();
    let key = SourceKey {
        ward: "hht".into(),
        key_id: pk.key_id(),
        public_key: pk.to_base64(),
    };
    (sk, key)
}

fn as_tip(body: &ReportBody) -> &Tip {
    match body {
        ReportBody::Tip(t) => t,
        other => panic!("not a tip: {other:?}"),
    }
}

fn receipt(s: &mut Store, id: ReportId, seq: i64, rev: u32) {
    s.apply_push_results(&[ChangeResult {
        report_id: id,
        device_seq: seq,
        rev,
        outcome: ChangeOutcome::Accepted {
            receipt: Receipt {
                server_seq: seq + 100,
                received_at: Utc::now(),
            },
        },
    }])
    .expect("receipt");
}

/// A store with the ward's key and one named tip the server has received:
/// the store, the tip's id and the seq of its first revision.
fn a_sent_named_tip() -> (tempfile::TempDir, Store, ReportId, i64) {
    let (dir, mut s) = store();
    let (_sk, key) = ward_key();
    s.set_source_key(&key).expect("key");
    let r = s
        .save_report(None, ReportBody::Tip(named()), Save::Send)
        .expect("send");
    let seq = s.outbox().expect("outbox")[0].seq;
    receipt(&mut s, r.id, seq, 1);
    (dir, s, r.id, seq)
}

#[test]
fn the_outbox_holds_only_the_sealed_form_and_a_receipt_leaves_only_it() {
    let (_dir, mut s) = store();
    let (sk, key) = ward_key();
    s.set_source_key(&key).expect("key");
    let r = s
        .save_report(None, ReportBody::Tip(named()), Save::Send)
        .expect("send");
    // The leader still reads the source while the tip waits.
    assert_eq!(
        as_tip(&s.report(r.id).expect("report").body)
            .clear_secret()
            .and_then(|x| x.name),
        Some(NAME.into())
    );
    let outbox = s.outbox().expect("outbox");
    let sent = as_tip(&outbox[0].body);
    assert!(!sent.has_clear_secret());
    assert_eq!(
        sent.source,
        Source::Resident {
            informant: Informant::Sealed
        }
    );
    let sealed = sent.sealed.as_ref().expect("sealed");
    let opened = sotay_seal::open_source(&sk, r.id, sealed).expect("opens with the ward key");
    assert_eq!(
        (
            opened.name.as_deref(),
            opened.phone.as_deref(),
            opened.note.as_deref()
        ),
        (Some(NAME), Some(PHONE), Some(NOTE))
    );
    assert_eq!(s.pending_clear_secrets().expect("count"), 0);

    receipt(&mut s, r.id, outbox[0].seq, 1);
    let after = s.report(r.id).expect("report");
    assert_eq!(after.status, ReportStatus::Sent);
    assert!(!as_tip(&after.body).has_clear_secret());
    assert_eq!(as_tip(&after.body).sealed.as_ref(), Some(sealed));

    // A search never finds the informant or the note.
    assert!(s.search("Mận", 10).expect("search").reports.is_empty());
    assert!(s.search("20 giờ", 10).expect("search").reports.is_empty());
}

#[test]
fn without_a_key_nothing_with_a_clear_source_may_leave_until_one_comes() {
    let (_dir, mut s) = store();
    let r = s
        .save_report(None, ReportBody::Tip(named()), Save::Send)
        .expect("send");
    assert_eq!(s.pending_clear_secrets().expect("count"), 1);
    let (sk, key) = ward_key();
    assert_eq!(s.set_source_key(&key).expect("key"), 1);
    assert_eq!(s.pending_clear_secrets().expect("count"), 0);
    let outbox = s.outbox().expect("outbox");
    let sealed = as_tip(&outbox[0].body).sealed.clone().expect("sealed");
    assert!(sotay_seal::open_source(&sk, r.id, &sealed).is_ok());

    // A key of another ward, or one whose id does not match, is refused.
    let mut other = key.clone();
    other.ward = "k99".into();
    assert!(s.set_source_key(&other).is_err());
    let mut wrong = key;
    wrong.key_id = "0000000000000000".into();
    assert!(s.set_source_key(&wrong).is_err());
}

#[test]
fn a_revision_without_a_source_erases_the_older_ones() {
    let (_dir, mut s, id, _) = a_sent_named_tip();
    let r = s.report(id).expect("report");
    let mut anonymous = as_tip(&r.body).clone();
    anonymous.source = Source::Resident {
        informant: Informant::Anonymous,
    };
    anonymous.sealed = None;
    let r2 = s
        .save_report(Some(r.id), ReportBody::Tip(anonymous), Save::Send)
        .expect("rev 2");
    assert_eq!(r2.rev, 2);
    let outbox = s.outbox().expect("outbox");
    assert_eq!(outbox.len(), 2);
    for e in &outbox {
        assert!(
            !as_tip(&e.body).keeps_source(),
            "rev {} keeps its source",
            e.rev
        );
    }
    assert_eq!(
        as_tip(&outbox[0].body).source,
        Source::Resident {
            informant: Informant::Erased
        }
    );
}

#[test]
fn a_sealed_source_cannot_be_edited_beside_its_block() {
    let (_dir, mut s, id, _) = a_sent_named_tip();
    let r = s.report(id).expect("report");
    let mut t = as_tip(&r.body).clone();
    t.confidential_note = Some("thêm ghi chú".into());
    let err = s
        .save_report(Some(r.id), ReportBody::Tip(t), Save::Send)
        .expect_err("refused");
    assert_eq!(err.code().code(), "invalid-input");
    assert!(err.to_string().contains("sealed"), "{err}");
}

/// A store written by the version before sealing (schema 4): a named tip
/// sent in clear and one still queued. Once the ward's key is known, the
/// sent one and both outbox payloads hold only the sealed form; the queued
/// one keeps its clear body for the leader until its receipt.
#[test]
fn a_store_from_before_sealing_is_sealed_when_the_key_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sotay.sqlite3");
    let (sent, queued) = (ReportId::new_v7(), ReportId::new_v7());
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        migrate_to_version(&mut conn, 4).expect("schema v4");
        let p = place();
        conn.execute(
            "INSERT INTO device VALUES (1, 'hht', 'Hà Huy Tập', 'k01', 'Khối 1', 'k01-t03', 'Tổ 3', '2026-11-01T00:00:00Z')",
            [],
        )
        .expect("device");
        assert_eq!(p.group.code.as_str(), "k01-t03");
        let body = serde_json::to_string(&ReportBody::Tip(named())).expect("json");
        for (n, (id, status, receipt)) in [(sent, "sent", Some(4711)), (queued, "queued", None)]
            .into_iter()
            .enumerate()
        {
            conn.execute(
                "INSERT INTO reports (id, kind, status, rev, category, day, body, search, created_at, updated_at, receipt_seq, receipt_at)
                 VALUES (?1, 'tip', ?2, 1, 'loan-sharking', '2026-11-02', ?3, 'cho vay', '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z', ?4, ?5)",
                rusqlite::params![id.to_string(), status, body, receipt, receipt.map(|_| "2026-11-02T00:01:00Z")],
            )
            .expect("report");
            conn.execute(
                "INSERT INTO outbox (seq, report_id, rev, kind, payload, queued_at, attempted, receipt_seq, receipt_at)
                 VALUES (?1, ?2, 1, 'tip', ?3, '2026-11-02T00:00:00Z', ?4, ?5, ?6)",
                rusqlite::params![i64::try_from(n).expect("small") + 1, id.to_string(), body, receipt.is_some(), receipt, receipt.map(|_| "2026-11-02T00:01:00Z")],
            )
            .expect("outbox");
        }
    }
    let mut s = Store::open(&path).expect("upgrade");
    assert_eq!(s.pending_clear_secrets().expect("count"), 1);
    let (sk, key) = ward_key();
    assert_eq!(
        s.set_source_key(&key).expect("key"),
        3,
        "two payloads and one sent body"
    );
    let sent_tip = as_tip(&s.report(sent).expect("sent").body).clone();
    assert!(!sent_tip.has_clear_secret());
    let opened = sotay_seal::open_source(&sk, sent, sent_tip.sealed.as_ref().expect("sealed"))
        .expect("opens");
    assert_eq!(opened.name.as_deref(), Some(NAME));
    assert!(as_tip(&s.report(queued).expect("queued").body).has_clear_secret());
    for e in s.outbox().expect("outbox") {
        assert!(!as_tip(&e.body).has_clear_secret(), "seq {}", e.seq);
    }
    assert_eq!(s.pending_clear_secrets().expect("count"), 0);
}

/// Receipted payloads are pruned to what sync still needs: once a newer
/// revision has its receipt, the older one's payload is emptied and never
/// sent again, even after the server lost answers.
#[test]
fn a_payload_superseded_on_the_server_is_pruned() {
    let (_dir, mut s, id, seq1) = a_sent_named_tip();
    let r = s.report(id).expect("report");
    let mut t = as_tip(&r.body).clone();
    t.description.push_str(" (bổ sung)");
    s.save_report(Some(r.id), ReportBody::Tip(t), Save::Send)
        .expect("rev 2");
    assert_eq!(
        s.outbox().expect("outbox").len(),
        2,
        "rev 1 kept until rev 2 arrives"
    );
    let seq2 = s.outbox().expect("outbox")[1].seq;
    receipt(&mut s, r.id, seq2, 2);
    let outbox = s.outbox().expect("outbox");
    assert_eq!(outbox.iter().map(|e| e.rev).collect::<Vec<_>>(), vec![2]);
    let raw = sotay_device::store::open_raw_for_tests(s.path()).expect("raw");
    let payload: String = raw
        .query_row("SELECT payload FROM outbox WHERE seq = ?1", [seq1], |r| {
            r.get(0)
        })
        .expect("row");
    assert_eq!(payload, "", "pruned");
    drop(raw);
    // The server lost everything: only what is still needed goes again.
    assert_eq!(s.reconcile_checkpoint(0).expect("reconcile"), 1);
    let pending = s.pending_changes(10).expect("pending");
    assert_eq!(pending.iter().map(|e| e.rev).collect::<Vec<_>>(), vec![2]);
}
