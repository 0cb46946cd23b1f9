//! The local store: one SQLite file per device.
//!
//! Opening applies the pragmas that make a returned save durable (WAL,
//! `synchronous=FULL`, foreign keys) and the embedded, append-only
//! migrations. Queries are grouped one module per table.

mod app;
mod households;
mod reports;
mod sealing;
mod sync;

pub use app::{AppSettings, CountProgress, Home, HouseholdRow, InspectionMark, LastInspection};
pub use reports::{ListFilter, OutboxEntry, Page, ReportSummary, Save, SearchHit, SearchResults};
pub use sync::{Enrollment, LastError, SyncStatus};

use crate::error::{DeviceError, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use sotay_domain::place::{DevicePlace, Place, PlaceCode};
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
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in the data folder `dir`.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        Self::open(dir.as_ref().join(DB_FILE))
    }

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        apply_pragmas(&conn)?;
        migrations().to_latest(&mut conn)?;
        let place = read_place(&conn)?;
        Ok(Self { conn, path, place })
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

fn read_place(conn: &Connection) -> Result<Option<DevicePlace>> {
    let row = conn
            .query_row(
                "SELECT ward_code, ward_name, block_code, block_name, group_code, group_name FROM device WHERE id = 1",
                [],
                |r| {
                    Ok([
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
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
    migrations().to_version(conn, version)?;
    Ok(())
}

/// The pragmas a bare benchmark baseline should share with the store.
#[doc(hidden)]
pub fn apply_store_pragmas(conn: &Connection) -> Result<()> {
    apply_pragmas(conn)
}
