//! Upgrade: a database made by the first migration set, with data in it,
//! opens with the current code and every record reads back intact.
//!
//! The fixture is frozen SQL written by schema version 1. When a migration
//! is added, this test keeps proving that version-1 data survives it.

use sotay_device::store::{migrate_to_version, schema_version};
use sotay_device::{ListFilter, Store};
use sotay_domain::ReportStatus;
use sotay_domain::report::ReportBody;
use sotay_domain::tip::{Informant, Source};

#[test]
fn version_1_data_survives_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sotay.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        migrate_to_version(&mut conn, 1).expect("schema v1");
        conn.execute_batch(include_str!("fixtures/v1-data.sql"))
            .expect("v1 data");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1);
    }

    let mut store = Store::open(&path).expect("upgrade");
    store.integrity_check().expect("integrity");
    // The plain version-1 file was encrypted on first open, nothing lost.
    let header = std::fs::read(&path).expect("read");
    assert!(!header.starts_with(b"SQLite format 3"), "still plain");
    assert!(
        !header
            .windows("Hà Huy Tập".len())
            .any(|w| w == "Hà Huy Tập".as_bytes()),
        "clear text left in the file"
    );
    let v: i64 = {
        let conn = sotay_device::store::open_raw_for_tests(&path).expect("open");
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };
    assert_eq!(usize::try_from(v).ok(), Some(schema_version()));

    assert_eq!(store.place().expect("place").ward.name, "Hà Huy Tập");
    let households = store.households(None).expect("households");
    assert_eq!(households.len(), 2);
    assert_eq!(households[0].phone.as_deref(), Some("0912345678"));

    let all = store.list(&ListFilter::default()).expect("list");
    assert_eq!(all.total, 4);
    let mut by_status: Vec<_> = all.items.iter().map(|r| r.status.code()).collect();
    by_status.sort_unstable();
    assert_eq!(by_status, vec!["draft", "queued", "queued", "sent"]);
    for summary in &all.items {
        let report = store.report(summary.id).expect("full report reads");
        if report.status == ReportStatus::Sent {
            assert_eq!(report.receipt.as_ref().map(|r| r.server_seq), Some(4711));
        }
        if let ReportBody::Tip(t) = &report.body
            && t.category.code() == "drugs"
        {
            assert_eq!(
                t.source,
                Source::Resident {
                    informant: Informant::Anonymous
                }
            );
        }
    }
    assert_eq!(store.search("ma tuy", 10).expect("search").reports.len(), 1);
    assert_eq!(store.outbox().expect("outbox").len(), 3);

    // The upgraded store keeps working: the draft can be sent, and the next
    // outbox number follows the old ones.
    let draft = all
        .items
        .iter()
        .find(|r| r.status == ReportStatus::Draft)
        .expect("draft");
    let sent = store.send(draft.id).expect("send");
    assert_eq!(sent.status, ReportStatus::Queued);
    assert_eq!(
        store.outbox().expect("outbox").last().map(|e| e.seq),
        Some(4)
    );
}
