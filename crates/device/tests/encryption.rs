//! A lost phone reveals nothing: the store file is encrypted (SQLCipher)
//! with a key kept apart from it, the data folder is private, and erasing
//! leaves nothing behind. Checked on the raw bytes of every file.

mod common;

use common::{household, place, tip};
use sotay_device::store::key::KeyPlace;
use sotay_device::{Save, Store};
use sotay_domain::report::ReportBody;
use sotay_domain::tip::{Informant, Source, TipCategory};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const SECRETS: [&str; 4] = [
    "Nguyễn Văn Hàng Xóm",
    "0987001122",
    "buôn bán ma tuý ở hẻm bảy",
    "12 đường Lê Lợi",
];

fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every regular file of the folder, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

fn fill(store: &mut Store) {
    store
        .add_household(household(SECRETS[3], "Trần Thị Bình", false))
        .expect("household");
    let mut t = tip(TipCategory::Drugs, SECRETS[2]);
    t.source = Source::Resident {
        informant: Informant::Named {
            name: Some(SECRETS[0].into()),
            phone: Some(SECRETS[1].into()),
        },
    };
    store
        .save_report(None, ReportBody::Tip(t.clone()), Save::Draft)
        .expect("draft");
    store
        .save_report(None, ReportBody::Tip(t), Save::Send)
        .expect("queued");
}

#[test]
fn no_file_of_the_data_folder_reads_as_sqlite_or_holds_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    {
        let mut s = Store::open_dir(&data).expect("open");
        s.init(&place()).expect("init");
        assert_eq!(s.key_place(), KeyPlace::File, "no keystore in this test");
        fill(&mut s);
        // Files as they are while the app runs (WAL not checkpointed).
        for (name, bytes) in files(&data) {
            for secret in SECRETS {
                assert!(!contains(&bytes, secret), "{secret:?} in {name} while open");
            }
        }
    }
    let listing = files(&data);
    assert!(listing.iter().any(|(n, _)| n == "sotay.sqlite3"));
    for (name, bytes) in &listing {
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "{name} reads as SQLite"
        );
        for secret in SECRETS {
            assert!(!contains(bytes, secret), "{secret:?} in {name}");
        }
    }
    // Without the key, SQLite sees no database at all.
    let plain = rusqlite::Connection::open(data.join("sotay.sqlite3")).expect("open");
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
    // With it, everything is there.
    let s = Store::open_dir(&data).expect("reopen");
    assert_eq!(s.households(None).expect("households").len(), 1);
    assert!(!s.key_created());
}

#[test]
fn the_folder_is_0700_and_every_file_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Store::open_dir(&data).expect("open");
    s.init(&place()).expect("init");
    fill(&mut s);
    // The sync lock is made by a sync: make it the way the client does.
    drop(sotay_device::store::open_raw_for_tests(s.path()).expect("raw"));
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let listing = files(&data);
    for name in [
        "sotay.sqlite3",
        "sotay.sqlite3-wal",
        "sotay.sqlite3-shm",
        "sotay.key",
    ] {
        assert!(listing.iter().any(|(n, _)| n == name), "{name} exists");
    }
    for (name, _) in listing {
        assert_eq!(mode(&data.join(&name)), 0o600, "{name}");
    }
    // An existing folder and files made 0755/0644 by an older version are
    // tightened at the next open.
    drop(s);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        data.join("sotay.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    std::fs::set_permissions(
        data.join("sotay.sqlite3"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let _s = Store::open_dir(&data).expect("reopen");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("sotay.key")), 0o600);
    assert_eq!(mode(&data.join("sotay.sqlite3")), 0o600);
}

#[test]
fn a_store_whose_key_is_gone_does_not_open_and_erasing_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Store::open_dir(&data).expect("open");
    s.init(&place()).expect("init");
    fill(&mut s);
    let old_key = std::fs::read(data.join("sotay.key")).expect("key");
    drop(s);
    let moved = dir.path().join("key.bak");
    std::fs::rename(data.join("sotay.key"), &moved).expect("hide the key");
    let err = Store::open_dir(&data).expect_err("no key");
    assert_eq!(err.code().code(), "storage-key-missing");
    std::fs::rename(&moved, data.join("sotay.key")).expect("key back");

    let mut s = Store::open_dir(&data).expect("open");
    assert_eq!(s.list(&Default::default()).expect("list").total, 2);
    s.erase_all().expect("erase");
    assert!(s.place().is_err(), "a fresh store has no group");
    assert_eq!(s.list(&Default::default()).expect("list").total, 0);
    assert_ne!(
        std::fs::read(data.join("sotay.key")).expect("new key"),
        old_key
    );
    for (name, bytes) in files(&data) {
        for secret in SECRETS {
            assert!(
                !contains(&bytes, secret),
                "{secret:?} in {name} after erasing"
            );
        }
    }
}

/// Against a real Secret Service (gnome-keyring inside dbus-run-session,
/// as `scripts/test.sh` runs it): the key lives there, not in a file, and
/// erasing deletes it there too.
#[test]
#[ignore = "needs a Secret Service: run by scripts/test.sh under dbus-run-session"]
fn the_key_lives_in_the_os_keystore() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run under dbus-run-session with gnome-keyring-daemon"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut s = Store::open_dir(&data).expect("open");
    assert_eq!(s.key_place(), KeyPlace::Keystore);
    assert!(!data.join("sotay.key").exists());
    s.init(&place()).expect("init");
    fill(&mut s);
    drop(s);
    let s = Store::open_dir(&data).expect("reopen with the keystore's key");
    assert_eq!(s.key_place(), KeyPlace::Keystore);
    assert_eq!(s.households(None).expect("households").len(), 1);
    let mut s = s;
    s.erase_all().expect("erase");
    drop(s);
    // The old key is gone from the keystore: a fresh one was made.
    let s = Store::open_dir(&data).expect("fresh");
    assert!(s.place().is_err());
}
