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

/// Each migration's checksum is recorded with the store; a store whose
/// recorded checksum differs from the shipped migration (a shipped file was
/// edited), or that is newer than this build, is not opened, and nothing in
/// it changes.
#[test]
fn an_edited_migration_or_a_newer_store_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sotay.sqlite3");
    drop(Store::open(&path).expect("fresh store"));
    let raw = || sotay_device::store::open_raw_for_tests(&path).expect("raw");
    let recorded: i64 = raw()
        .query_row("SELECT COUNT(*) FROM schema_checksums", [], |r| r.get(0))
        .expect("checksums");
    assert_eq!(usize::try_from(recorded).ok(), Some(schema_version()));
    // A store made before checksums were kept: recorded at its next open.
    raw()
        .execute_batch("DELETE FROM schema_checksums")
        .expect("forget");
    drop(Store::open(&path).expect("older store opens"));
    raw()
        .execute_batch("UPDATE schema_checksums SET sha256 = 'edited' WHERE version = 2")
        .expect("tamper");
    let e = Store::open(&path)
        .map(|_| ())
        .expect_err("edited migration");
    assert!(e.to_string().contains("migration 2 differs"), "{e}");
    assert_eq!(e.code(), sotay_device::ErrorCode::Storage);
    let kept: String = raw()
        .query_row(
            "SELECT sha256 FROM schema_checksums WHERE version = 2",
            [],
            |r| r.get(0),
        )
        .expect("read");
    assert_eq!(kept, "edited", "nothing was rewritten");
    raw()
        .execute_batch("DELETE FROM schema_checksums WHERE version = 2; PRAGMA user_version = 99")
        .expect("newer");
    let e = Store::open(&path).map(|_| ()).expect_err("newer store");
    assert!(e.to_string().contains("version 99, newer"), "{e}");
}
