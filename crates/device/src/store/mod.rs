//! The local store: one SQLCipher file per device, encrypted as a whole
//! with a 256-bit key the device made ([`key`]), in a folder only its owner
//! can read ([`private`]).
//!
//! Opening applies the key, then the pragmas that make a returned save
//! durable (WAL, `synchronous=FULL`, foreign keys, `secure_delete`) and the
//! embedded, append-only migrations. A store written before encryption
//! (plain SQLite) is encrypted on first open, nothing lost. Queries are
//! grouped one module per table.

mod announcements;
mod app;
mod campaigns;
mod households;
pub mod key;
mod lock;
mod photos;
pub(crate) mod private;
mod reports;
mod sealing;
mod sync;

pub use announcements::{LocalNotice, StoredAnnouncement};
pub use app::{
    AppSettings, CountProgress, Home, HouseholdRow, InspectionMark, InspectionPlan, LastInspection,
};
pub use campaigns::{CampaignCard, RemainingHousehold};
pub use lock::{
    LOCK_AFTER_BACKGROUND, LockStatus, PinStatus, UnlockOutcome, check_pin, wait_after,
};
pub use photos::{DuePhoto, PhotoQueue};
pub use reports::{ListFilter, OutboxEntry, Page, ReportCheck, ReportSummary, Save, SearchResults};
pub use sync::{Enrollment, LastError, SyncStatus};

use crate::error::{DeviceError, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use sotay_domain::place::{DevicePlace, Place, PlaceCode};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The store's file name inside a device's data folder.
pub const DB_FILE: &str = "sotay.sqlite3";

/// The migrations, in order. Append only: a shipped entry is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_sync.sql"),
    include_str!("../../migrations/0003_app_settings.sql"),
    include_str!("../../migrations/0004_household_removed.sql"),
    include_str!("../../migrations/0005_source_key.sql"),
    include_str!("../../migrations/0006_server_identity.sql"),
    include_str!("../../migrations/0007_app_lock.sql"),
    include_str!("../../migrations/0008_outbox_pruned.sql"),
    include_str!("../../migrations/0009_photos.sql"),
    include_str!("../../migrations/0010_localised_refusals.sql"),
    include_str!("../../migrations/0011_photo_sizes.sql"),
    include_str!("../../migrations/0012_place_notice.sql"),
    include_str!("../../migrations/0013_announcements.sql"),
    include_str!("../../migrations/0014_campaigns.sql"),
    include_str!("../../migrations/0015_announcement_photos.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// How many migrations this build knows; the schema version after open.
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// The device's store. Not `Sync`: share it behind a mutex.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The device's group, read once: it never changes after `init`.
    place: Option<DevicePlace>,
    /// Where the store's key is kept, and whether it was made by this open.
    key_place: key::KeyPlace,
    key_created: bool,
}

/// The first bytes of a plain (unencrypted) SQLite file.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in the data folder `dir`.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self> {
        private::make_private_dir(dir.as_ref())?;
        Self::open(dir.as_ref().join(DB_FILE))
    }

    /// Opens (creating if needed) the store at `path` and brings its schema
    /// up to date. The key is found (or made) for the folder holding `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let (mut conn, key) = open_encrypted(&path)?;
        apply_pragmas(&conn)?;
        migrate_checked(&mut conn, None)?;
        let place = read_place(&conn)?;
        Ok(Self {
            conn,
            path,
            place,
            key_place: key.place(),
            key_created: key.created,
        })
    }

    /// Where this store's key is kept: the OS keystore, or (with no
    /// keystore reachable) a file readable only by its owner.
    pub fn key_place(&self) -> key::KeyPlace {
        self.key_place
    }

    /// Whether this open made the key (a new store, or one just encrypted).
    pub fn key_created(&self) -> bool {
        self.key_created
    }

    /// Erases everything this device holds: the store and its companions,
    /// its key and so its token, and leaves a fresh, empty store (with a new
    /// key) in their place. For a revoked device and for a leader who
    /// forgot the PIN or moves to another server.
    pub fn erase_all(&mut self) -> Result<()> {
        let dir = folder_of(&self.path).to_path_buf();
        // Close the file before deleting it.
        drop(std::mem::replace(
            &mut self.conn,
            Connection::open_in_memory()?,
        ));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.as_os_str().to_owned();
            p.push(suffix);
            let p = PathBuf::from(p);
            if p.exists() {
                std::fs::remove_file(&p)?;
            }
        }
        key::delete(&dir)?;
        private::sync_dir(&self.path)?;
        *self = Store::open(&self.path)?;
        Ok(())
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let out: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if out == "ok" {
            Ok(())
        } else {
            Err(DeviceError::Corrupt(out))
        }
    }

    /// Lets the store file grow by only `pages` more pages on this
    /// connection: how tests make "the phone is full" happen on demand.
    #[doc(hidden)]
    pub fn cap_growth_for_tests(&self, pages: u32) -> Result<()> {
        let now: u32 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        self.conn
            .pragma_update(None, "max_page_count", now.saturating_add(pages))?;
        Ok(())
    }

    /// Sets the group this device belongs to. Setting the same group again
    /// is harmless; moving a device that already has one is refused.
    pub fn init(&mut self, place: &DevicePlace) -> Result<()> {
        if let Some(current) = &self.place {
            if current.group.code == place.group.code && current.ward.code == place.ward.code {
                return Ok(());
            }
            return Err(DeviceError::AlreadyInitialized {
                current: current.group.code.to_string(),
            });
        }
        write_place(&self.conn, place)?;
        self.place = Some(place.clone());
        Ok(())
    }

    /// The group this device belongs to.
    pub fn place(&self) -> Result<&DevicePlace> {
        self.place.as_ref().ok_or(DeviceError::NotInitialized)
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Whether the file at `path` is a plain SQLite database (written before
/// the store was encrypted).
fn is_plain(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => Ok(f.read_exact(&mut header).is_ok() && &header == PLAIN_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Opens the store file with its key: found, or made for a new store (or
/// for a plain store, which is then encrypted in place).
fn open_encrypted(path: &Path) -> Result<(Connection, key::StoreKey)> {
    let dir = folder_of(path);
    let exists = path.metadata().is_ok_and(|m| m.len() > 0);
    let plain = is_plain(path)?;
    let key = match key::find(dir)? {
        Some(k) => k,
        None if exists && !plain => return Err(DeviceError::KeyMissing),
        None => key::create(dir)?,
    };
    if plain {
        encrypt_plain(path, &key)?;
    }
    private::touch_private(path)?;
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        private::tighten(Path::new(&p))?;
    }
    let conn = Connection::open(path)?;
    apply_key(&conn, &key)?;
    Ok((conn, key))
}

fn apply_key(conn: &Connection, key: &key::StoreKey) -> Result<()> {
    conn.execute_batch(&format!("PRAGMA key = \"{}\";", key.sql_literal().as_str()))?;
    // SQLCipher reads the first page only now: a wrong key shows here.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Err(DeviceError::KeyMissing)
        }
        Err(e) => Err(e.into()),
    }
}

/// Encrypts a plain store in place, nothing lost: the key is kept first,
/// then the whole database is exported into an encrypted copy, which
/// replaces the plain file by an atomic rename. A crash before the rename
/// leaves the plain file as it was (and a partial copy, removed next time).
fn encrypt_plain(path: &Path, key: &key::StoreKey) -> Result<()> {
    let tmp = path.with_extension("encrypting");
    if tmp.exists() {
        std::fs::remove_file(&tmp)?;
    }
    {
        let conn = Connection::open(path)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tmp_s = tmp
            .to_str()
            .ok_or_else(|| DeviceError::Corrupt("the data folder's path is not UTF-8".into()))?;
        private::touch_private(&tmp)?;
        conn.execute(
            &format!(
                "ATTACH DATABASE ?1 AS encrypted KEY \"{}\"",
                key.sql_literal().as_str()
            ),
            [tmp_s],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute_batch("DETACH DATABASE encrypted")?;
    }
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    private::sync_dir(path)
}

/// A raw connection to a store file with its key applied: how tests
/// tamper with a store as a bug of an older app would have.
#[doc(hidden)]
pub fn open_raw_for_tests(path: impl AsRef<Path>) -> Result<Connection> {
    let path = path.as_ref();
    let key = key::find(folder_of(path))?.ok_or(DeviceError::KeyMissing)?;
    let conn = Connection::open(path)?;
    apply_key(&conn, &key)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

fn read_place(conn: &Connection) -> Result<Option<DevicePlace>> {
    let row = conn
            .query_row(
                "SELECT ward_code, ward_name, block_code, block_name, group_code, group_name FROM device WHERE id = 1",
                [],
                |r| {
                    Ok([
                        r.get::<_, String>("ward_code")?,
                        r.get("ward_name")?,
                        r.get("block_code")?,
                        r.get("block_name")?,
                        r.get("group_code")?,
                        r.get("group_name")?,
                    ])
                },
            )
            .optional()?;
    let Some([wc, wn, bc, bn, gc, gn]) = row else {
        return Ok(None);
    };
    let place = |code: String, name: String| -> Result<Place> {
        let code = PlaceCode::parse(&code)
            .ok_or_else(|| DeviceError::Corrupt(format!("bad place code {code:?}")))?;
        Ok(Place { code, name })
    };
    Ok(Some(DevicePlace {
        ward: place(wc, wn)?,
        block: place(bc, bn)?,
        group: place(gc, gn)?,
    }))
}

/// Writes the device's group; an existing row keeps its codes and takes
/// the names given (the server's names win at enrollment).
pub(super) fn write_place(conn: &Connection, place: &DevicePlace) -> Result<()> {
    conn.execute(
        "INSERT INTO device (id, ward_code, ward_name, block_code, block_name, group_code, group_name, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET ward_name = excluded.ward_name, block_code = excluded.block_code,
             block_name = excluded.block_name, group_name = excluded.group_name",
        params![
            place.ward.code.as_str(),
            place.ward.name,
            place.block.code.as_str(),
            place.block.name,
            place.group.code.as_str(),
            place.group.name,
            ts(Utc::now()),
        ],
    )?;
    Ok(())
}

/// Moves the device to `place`, codes and all (the ward merged, split or
/// renamed its group), keeping `notice` for the leader.
pub(super) fn move_place(conn: &Connection, place: &DevicePlace, notice: &str) -> Result<()> {
    conn.execute(
        "UPDATE device SET ward_code = ?1, ward_name = ?2, block_code = ?3,
             block_name = ?4, group_code = ?5, group_name = ?6, place_notice = ?7
         WHERE id = 1",
        params![
            place.ward.code.as_str(),
            place.ward.name,
            place.block.code.as_str(),
            place.block.name,
            place.group.code.as_str(),
            place.group.name,
            notice
        ],
    )?;
    Ok(())
}

fn apply_pragmas(conn: &Connection) -> Result<()> {
    // WAL + FULL: a commit returns only after the WAL is fsynced, so a save
    // that returned survives power loss. busy_timeout lets the app and the
    // sync loop share the file without spurious "database is locked".
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted and overwritten content (a source replaced by its sealed
    // form, an erased source) is zeroed in the file, not left in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Timestamps are stored as RFC 3339 UTC with microseconds, so that text
/// order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DeviceError::Corrupt(format!("bad timestamp {s:?}: {e}")))
}

/// Brings `conn` to schema `version` exactly (1 = migration 0001 only):
/// how the upgrade test makes a database as an older build left it.
#[doc(hidden)]
pub fn migrate_to_version(conn: &mut Connection, version: usize) -> Result<()> {
    apply_pragmas(conn)?;
    migrate_checked(conn, Some(version))
}

/// Brings the schema to `target` (the newest when `None`) after checking
/// the migrations applied so far against their recorded checksums
/// ([`sotay_domain::migrations::verify`]): an edited migration or a newer
/// store is refused before anything is written. The checksums live in
/// `schema_checksums`, the runner's own table beside `user_version`.
fn migrate_checked(conn: &mut Connection, target: Option<usize>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_checksums (version INTEGER PRIMARY KEY, sha256 TEXT NOT NULL)",
    )?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let recorded: HashMap<i64, String> = {
        let mut stmt = conn.prepare("SELECT version, sha256 FROM schema_checksums")?;
        stmt.query_map([], |r| Ok((r.get("version")?, r.get("sha256")?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let applied: Vec<(i64, Option<String>)> = (1..=version)
        .map(|v| (v, recorded.get(&v).cloned()))
        .collect();
    let shipped: Vec<(i64, &str)> = (1..)
        .zip(MIGRATIONS.iter().copied())
        .take(target.unwrap_or(MIGRATIONS.len()))
        .collect();
    let verified = sotay_domain::migrations::verify(&applied, &shipped)?;
    match target {
        None => migrations().to_latest(conn)?,
        Some(v) => migrations().to_version(conn, v)?,
    }
    let tx = conn.transaction()?;
    let pending = verified.pending.iter().map(|(v, _, sum)| (*v, sum.clone()));
    for (v, sum) in verified.backfill.iter().cloned().chain(pending) {
        tx.execute(
            "INSERT OR REPLACE INTO schema_checksums (version, sha256) VALUES (?1, ?2)",
            params![v, sum],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The pragmas a bare benchmark baseline should share with the store.
#[doc(hidden)]
pub fn apply_store_pragmas(conn: &Connection) -> Result<()> {
    apply_pragmas(conn)
}
