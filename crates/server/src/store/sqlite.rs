//! The embedded SQLite backend: one file, no database server to install,
//! for a ward that runs the server on one machine.
//!
//! One writer connection behind a mutex (SQLite has a single writer
//! anyway), which commits waiting pushes together (see [`SqliteStore`]),
//! and read-only connections for everything that only reads. Every call
//! runs on tokio's blocking pool. WAL with `synchronous=FULL`: a receipt is
//! only sent after the commit reached the disk.

use super::rows::{
    self, Cols, EXPORT_SELECT, FromRow, StoredEnrollCode, parse_kind, parse_ts, parse_uuid,
};
use super::steps::{Step, Val};
use super::{
    AccountStore, AnnouncementReader, AnnouncementRow, AuditRow, BlockRow, CampaignRow,
    CheckedChange, DeviceAuth, DeviceRow, EnrollCodeRow, EnrollRefusal, ExportRow, GroupRow,
    KeyCopy, NewAudit, NewDevice, OfficerRow, PasswordChange, PlaceEventRow, PushOutcome,
    RecoveryRow, RegisterChange, ReportOwner, Result, RevisionRow, Scope, SessionRow, StoreError,
    SyncStore, TipDecision, TokenLookup, WardKeyRow, WardRow, WardStore, push, register_diff,
};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sotay_domain::inspection::ChecklistTemplate;
use sotay_domain::report::Receipt;
use sotay_domain::wire::{DeviceId, PullEntry, PullItem, PullResponse};
use sotay_domain::{DevicePlace, ReportId, ReportKind};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Each device's last contact: the later of its last call and its last
/// stored change (one seek in `report_revisions_device` per device).
const LAST_PUSH_SQL: &str = "SELECT d.id, MAX(COALESCE(d.last_seen_at, ''),
                  COALESCE((SELECT MAX(r.received_at) FROM report_revisions r
                            WHERE r.device_id = d.id), '')) AS at
 FROM devices d";

/// The migrations, in order. Append only.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_dashboard.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_dashboard_admin.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_device_last_seen.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_sealed_sources.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_server_id.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_tip_decisions.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_password_change.sql"),
    ),
    (9, include_str!("../../migrations/sqlite/0009_photos.sql")),
    (
        10,
        include_str!("../../migrations/sqlite/0010_revisions_by_device.sql"),
    ),
    (
        11,
        include_str!("../../migrations/sqlite/0011_wards_and_places.sql"),
    ),
    (
        12,
        include_str!("../../migrations/sqlite/0012_ward_merges.sql"),
    ),
    (
        13,
        include_str!("../../migrations/sqlite/0013_announcements.sql"),
    ),
    (
        14,
        include_str!("../../migrations/sqlite/0014_campaigns.sql"),
    ),
    (
        15,
        include_str!("../../migrations/sqlite/0015_announcement_photos.sql"),
    ),
];

/// The embedded SQLite store: one writer connection and a few readers.
///
/// Concurrency: every write runs on the one writer connection (SQLite
/// allows one writer at a time anyway). Pushes go through a group commit:
/// each push is queued, and whoever next holds the writer takes every
/// queued push into one transaction, each in its own savepoint (a push
/// that fails rolls back to its savepoint and fails alone), commits once
/// (one fsync for the group, `synchronous=FULL`), and only then answers
/// each push. While one group commits, the next one gathers. Reads (a
/// device's token, pull, the dashboard) use their own connections, so they
/// never wait for a commit (WAL: readers see the last commit).
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<Readers>,
    pushes: Arc<PushQueue>,
    /// Photos, in a folder beside the file.
    photos: super::photos::FsPhotos,
}

/// Read-only connections, opened when needed and kept for reuse.
struct Readers {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// How many idle readers are kept.
const IDLE_READERS: usize = 8;

impl Readers {
    fn take(&self) -> Result<Connection> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// A push waiting for its group commit.
struct PushJob {
    device: DeviceAuth,
    changes: Vec<CheckedChange>,
    now: DateTime<Utc>,
    answer: tokio::sync::oneshot::Sender<Result<PushOutcome>>,
}

/// The pushes waiting for the writer, and what the group commits did.
#[derive(Default)]
struct PushQueue {
    waiting: Mutex<Vec<PushJob>>,
    commits: std::sync::atomic::AtomicU64,
    pushes: std::sync::atomic::AtomicU64,
}

impl PushQueue {
    /// On the writer: every waiting push in one transaction, each in its
    /// own savepoint; answers only after the commit.
    fn commit_waiting(&self, conn: &mut Connection) {
        use std::sync::atomic::Ordering::Relaxed;
        let jobs = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        if jobs.is_empty() {
            return;
        }
        let mut done: Vec<(PushJob, Option<PushOutcome>, Option<StoreError>)> =
            Vec::with_capacity(jobs.len());
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let text = e.to_string();
                for job in jobs {
                    let _ = job.answer.send(Err(StoreError::Corrupt(format!(
                        "could not begin the group commit: {text}"
                    ))));
                }
                return;
            }
        };
        for mut job in jobs {
            // Dropped without `commit`, the savepoint rolls back: this
            // push fails alone.
            let result = (|| -> Result<PushOutcome> {
                let sp = tx.savepoint()?;
                let out = push_batch(&sp, &job.device, std::mem::take(&mut job.changes), job.now)?;
                sp.commit()?;
                Ok(out)
            })();
            match result {
                Ok(out) => done.push((job, Some(out), None)),
                Err(e) => done.push((job, None, Some(e))),
            }
        }
        match tx.commit() {
            Ok(()) => {
                self.commits.fetch_add(1, Relaxed);
                let stored = done.iter().filter(|(_, out, _)| out.is_some()).count();
                self.pushes.fetch_add(stored as u64, Relaxed);
                for (job, out, err) in done {
                    let _ = job.answer.send(match (out, err) {
                        (Some(out), _) => Ok(out),
                        (None, Some(e)) => Err(e),
                        (None, None) => Err(StoreError::Corrupt("no outcome".into())),
                    });
                }
            }
            Err(e) => {
                let text = e.to_string();
                for (job, _, _) in done {
                    let _ = job.answer.send(Err(StoreError::Corrupt(format!(
                        "the group commit failed: {text}"
                    ))));
                }
            }
        }
    }
}

impl SqliteStore {
    /// Checks, without changing it, that `path` is a Sổ tay server
    /// database this version can open: its migrations are ones this
    /// binary ships, unedited (older is fine: opening migrates it).
    pub fn check_file(path: &Path) -> Result<()> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut stmt = conn.prepare("SELECT * FROM schema_migrations")?;
        let has_checksum = stmt.column_names().contains(&"checksum");
        let applied: Vec<(i64, Option<String>)> = stmt
            .query_map([], |r| {
                let sum = if has_checksum {
                    r.get("checksum")?
                } else {
                    None
                };
                Ok((r.get("version")?, sum))
            })?
            .collect::<Result<_, _>>()?;
        if applied.is_empty() {
            return Err(StoreError::Corrupt("no migrations recorded".into()));
        }
        sotay_domain::migrations::verify(&applied, MIGRATIONS)?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt(format!("quick_check: {check}")));
        }
        Ok(())
    }

    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let db = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            private_files(&path)?;
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Overwritten and deleted content (a clear source sealed, an
            // erased source) is zeroed in the file, not left in free pages.
            conn.pragma_update(None, "secure_delete", "ON")?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await??;
        // After the file: the folder it made (0700) holds the photos too.
        let photos = super::photos::FsPhotos::beside(&db)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Readers {
                path: db,
                idle: Mutex::new(Vec::new()),
            }),
            pushes: Arc::new(PushQueue::default()),
            photos,
        })
    }

    /// Runs `f` on a reader connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = readers.take()?;
            let out = f(&mut conn);
            readers.give_back(conn);
            out
        })
        .await?
    }

    /// How many group commits stored how many pushes, since open.
    pub fn group_commits(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.pushes.commits.load(Relaxed),
            self.pushes.pushes.load(Relaxed),
        )
    }

    /// Pushes waiting for the writer.
    pub fn pushes_waiting(&self) -> usize {
        self.pushes
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Holds the writer (for a test of the group commit: pushes made
    /// meanwhile wait, then commit together).
    #[doc(hidden)]
    pub fn hold_writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-done
            // transaction behind (it rolls back on drop), so a poisoned
            // lock is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }
}

/// The database holds the ward's sealed sources and every report: its
/// folder is made 0700 when this creates it, and the file and its `-wal`
/// and `-shm` companions are 0600 (SQLite gives the companions the main
/// file's mode).
fn private_files(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Writes `audit`, if any, on `conn` (inside the caller's transaction).
fn write_audit(conn: &Connection, audit: Option<&NewAudit>) -> rusqlite::Result<()> {
    if let Some(a) = audit {
        conn.execute(
            "INSERT INTO audit_log (at, username, action, target, detail, ward_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ts(a.at), a.username, a.action, a.target, a.detail, a.ward],
        )?;
    }
    Ok(())
}

/// Applies the pending migrations, after checking those applied
/// ([`sotay_domain::migrations::verify`]): an edited migration or a newer
/// database is refused before anything is written.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    // The checksum column came after the first versions: added to older
    // databases here (the runner's own table, not a numbered migration).
    let has_checksum: bool = tx.query_row(
        "SELECT COUNT(*) > 0 AS present FROM pragma_table_info('schema_migrations')
         WHERE name = 'checksum'",
        [],
        |r| r.get("present"),
    )?;
    if !has_checksum {
        tx.execute_batch("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")?;
    }
    let applied: Vec<(i64, Option<String>)> = {
        let mut stmt = tx.prepare("SELECT version, checksum FROM schema_migrations")?;
        stmt.query_map([], |r| Ok((r.get("version")?, r.get("checksum")?)))?
            .collect::<Result<_, _>>()?
    };
    let verified = sotay_domain::migrations::verify(&applied, MIGRATIONS)?;
    for (version, sum) in &verified.backfill {
        tx.execute(
            "UPDATE schema_migrations SET checksum = ?2 WHERE version = ?1",
            params![version, sum],
        )?;
    }
    for (version, sql, sum) in &verified.pending {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?1, ?2, ?3)",
            params![version, ts(super::now_micros()), sum],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Reads what a batch's decisions depend on ([`push::BatchState`]), with
/// cached statements: one indexed lookup per key, no round trips.
fn batch_state(tx: &Connection, dev: &str, keys: &push::BatchKeys) -> Result<push::BatchState> {
    let mut state = push::BatchState {
        checkpoint: tx
            .prepare_cached("SELECT checkpoint FROM devices WHERE id = ?1")?
            .query_row(params![dev], |r| r.get("checkpoint"))?,
        ..Default::default()
    };
    let mut stmt = tx.prepare_cached(
        "SELECT device_seq FROM device_seqs WHERE device_id = ?1 AND device_seq > ?2",
    )?;
    state.recorded_after = stmt
        .query_map(params![dev, state.checkpoint], |r| r.get("device_seq"))?
        .collect::<Result<_, _>>()?;
    let mut stmt = tx.prepare_cached(
        "SELECT report_id, rev FROM device_seqs WHERE device_id = ?1 AND device_seq = ?2",
    )?;
    for &seq in &keys.seqs {
        let row: Option<(String, u32)> = stmt
            .query_row(params![dev, seq], |r| {
                Ok((r.get("report_id")?, r.get("rev")?))
            })
            .optional()?;
        if let Some((report, rev)) = row {
            state
                .seqs
                .insert(seq, (ReportId(parse_uuid(&report)?), rev));
        }
    }
    let mut stmt = tx.prepare_cached("SELECT group_id, kind FROM reports WHERE id = ?1")?;
    for &id in &keys.reports {
        let row: Option<(String, String)> = stmt
            .query_row(params![id_text(id.0)], |r| {
                Ok((r.get("group_id")?, r.get("kind")?))
            })
            .optional()?;
        if let Some(owner) = row {
            state.reports.insert(id, owner);
        }
    }
    let mut stmt = tx.prepare_cached(
        "SELECT server_seq, received_at FROM report_revisions WHERE report_id = ?1 AND rev = ?2",
    )?;
    for &(id, rev) in &keys.revisions {
        if let Some(receipt) = rows::query_opt(&mut stmt, params![id_text(id.0), rev])? {
            state.receipts.insert((id, rev), receipt);
        }
    }
    let mut stmt = tx.prepare_cached("SELECT group_id FROM households WHERE id = ?1")?;
    for h in &keys.households {
        let group: Option<String> = stmt
            .query_row(params![h], |r| r.get("group_id"))
            .optional()?;
        if let Some(group) = group {
            state.households.insert(h.clone(), group);
        }
    }
    Ok(state)
}

/// Writes a batch's [`push::Plan`] inside its transaction; the receipts of
/// its new revisions, in order.
fn write_plan(
    tx: &Connection,
    dev: &str,
    group: &str,
    plan: &push::Plan,
    now: DateTime<Utc>,
) -> Result<Vec<Receipt>> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO reports (id, group_id, recorded_group_id, kind, latest_rev) VALUES (?1, ?2, ?2, ?3, ?4)",
    )?;
    for r in &plan.new_reports {
        stmt.execute(params![id_text(r.id.0), group, r.kind, r.rev])?;
    }
    let at = ts(now);
    let mut receipts = Vec::with_capacity(plan.revisions.len());
    let mut stmt = tx.prepare_cached(
        "INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for v in &plan.revisions {
        stmt.execute(params![
            id_text(v.report.0),
            v.rev,
            v.kind,
            dev,
            v.device_seq,
            v.payload,
            at
        ])?;
        receipts.push(Receipt {
            server_seq: tx.last_insert_rowid(),
            received_at: now,
        });
    }
    let mut stmt =
        tx.prepare_cached("UPDATE reports SET latest_rev = MAX(latest_rev, ?2) WHERE id = ?1")?;
    for (id, rev) in &plan.latest {
        stmt.execute(params![id_text(id.0), rev])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO photo_refs (sha256, report_id, group_id) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?;
    for v in &plan.revisions {
        for sha in &v.photos {
            stmt.execute(params![sha, id_text(v.report.0), group])?;
        }
    }
    for v in plan.revisions.iter().filter(|v| v.withdraws_source) {
        erase_older_sources(tx, &id_text(v.report.0), v.rev)?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome, code, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (device_id, device_seq) DO UPDATE
         SET outcome = excluded.outcome, code = excluded.code, message = excluded.message",
    )?;
    for r in &plan.seq_rows {
        stmt.execute(params![
            dev,
            r.seq,
            id_text(r.report.0),
            r.rev,
            r.outcome(),
            r.rejection.as_ref().map(|r| r.code.code()),
            r.rejection.as_ref().map(|r| r.message.as_str()),
        ])?;
    }
    tx.prepare_cached("UPDATE devices SET checkpoint = ?1 WHERE id = ?2")?
        .execute(params![plan.checkpoint, dev])?;
    Ok(receipts)
}

/// One push inside the caller's transaction: read, decide, write.
fn push_batch(
    tx: &Connection,
    device: &DeviceAuth,
    changes: Vec<CheckedChange>,
    now: DateTime<Utc>,
) -> Result<PushOutcome> {
    let dev = id_text(device.device_id.0);
    let keys = push::BatchKeys::of(&changes);
    let state = batch_state(tx, &dev, &keys)?;
    let plan = push::decide(&device.group, &changes, state);
    plan.log_forbidden(device);
    let receipts = write_plan(tx, &dev, &device.group, &plan, now)?;
    let checkpoint = plan.checkpoint;
    Ok(PushOutcome {
        outcomes: plan.outcomes(&receipts)?,
        checkpoint,
    })
}

#[async_trait]
impl SyncStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn enroll(
        &self,
        code_hash: &str,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Result<DevicePlace, EnrollRefusal>> {
        let code_hash = code_hash.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut stmt = tx.prepare_cached(
                "SELECT group_id, expires_at, used_at FROM enroll_codes WHERE code_hash = ?1",
            )?;
            let code = rows::query_opt(&mut stmt, params![code_hash])?;
            drop(stmt);
            let group = match StoredEnrollCode::redeem(code, now) {
                Ok(group) => group,
                Err(refusal) => return Ok(Err(refusal)),
            };
            tx.execute(
                "UPDATE enroll_codes SET used_at = ?1 WHERE code_hash = ?2",
                params![ts(now), code_hash],
            )?;
            tx.execute(
                "INSERT INTO devices (id, name, group_id, token_hash, enrolled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id_text(device.id.0),
                    device.name,
                    group,
                    device.token_hash,
                    ts(now)
                ],
            )?;
            let place = group_place(&tx, &group)?
                .ok_or_else(|| StoreError::Corrupt(format!("group {group} vanished")))?;
            tx.commit()?;
            Ok(Ok(place))
        })
        .await
    }

    async fn authenticate(&self, token_hash: &str) -> Result<TokenLookup> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.id, d.group_id, g.code AS group_code, d.revoked_at, g.ward_code FROM devices d
                 JOIN groups g ON g.id = d.group_id WHERE d.token_hash = ?1",
            )?;
            Ok(rows::query_opt(&mut stmt, params![token_hash])?.unwrap_or(TokenLookup::Unknown))
        })
        .await
    }

    async fn push(
        &self,
        device: &DeviceAuth,
        changes: Vec<CheckedChange>,
        now: DateTime<Utc>,
    ) -> Result<PushOutcome> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.pushes
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(PushJob {
                device: device.clone(),
                changes,
                now,
                answer,
            });
        let (conn, pushes) = (self.conn.clone(), self.pushes.clone());
        // Whoever holds the writer next commits every waiting push; this
        // one may already be answered by then.
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            pushes.commit_waiting(&mut guard);
        })
        .await?;
        answered
            .await
            .map_err(|_| StoreError::Corrupt("push dropped without an answer".into()))?
    }

    async fn pull(&self, group: &str, since: i64, limit: u32) -> Result<PullResponse> {
        let group = group.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, item FROM pull_items
                 WHERE seq > ?1 AND (group_id = ?2 OR (group_id IS NULL AND (ward_code IS NULL
                   OR ward_code = (SELECT g.ward_code FROM groups g WHERE g.id = ?2))))
                 ORDER BY seq LIMIT ?3",
            )?;
            let rows: Vec<(i64, String)> = stmt
                .query_map(params![since, group, i64::from(limit) + 1], |r| {
                    Ok((r.get("seq")?, r.get("item")?))
                })?
                .collect::<Result<_, _>>()?;
            entries_page(rows, since, limit)
        })
        .await
    }

    fn photos(&self) -> &dyn super::photos::PhotoStore {
        &self.photos
    }

    async fn photo_reports(&self, sha256: &str) -> Result<Vec<(ReportId, String)>> {
        let sha = sha256.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT report_id, group_id FROM photo_refs WHERE sha256 = ?1 ORDER BY report_id",
            )?;
            let rows: Vec<(String, String)> = stmt
                .query_map(params![sha], |r| {
                    Ok((r.get("report_id")?, r.get("group_id")?))
                })?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(id, g)| Ok((ReportId(parse_uuid(&id)?), g)))
                .collect()
        })
        .await
    }

    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        pending: Option<i64>,
    ) -> Result<()> {
        self.call(move |conn| {
            conn.execute(
                "UPDATE devices SET last_seen_at = ?1,
                     pending_at_last_seen = COALESCE(?3, pending_at_last_seen) WHERE id = ?2",
                params![ts(now), id_text(id.0), pending],
            )?;
            Ok(())
        })
        .await
    }

    async fn server_id(&self) -> Result<String> {
        self.read(|conn| {
            Ok(
                conn.query_row("SELECT server_id FROM server_meta WHERE id = 1", [], |r| {
                    r.get("server_id")
                })?,
            )
        })
        .await
    }
}

#[async_trait]
impl WardStore for SqliteStore {
    async fn group_place(&self, group: &str) -> Result<Option<DevicePlace>> {
        let group = group.to_owned();
        self.call(move |conn| group_place(conn, &group)).await
    }

    async fn create_enroll_code(
        &self,
        code_hash: &str,
        group: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (code_hash, group) = (code_hash.to_owned(), group.to_owned());
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO enroll_codes (code_hash, group_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, group, ts(now), ts(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn enroll_codes(&self, scope: &Scope) -> Result<Vec<EnrollCodeRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT e.code_hash, e.group_id, e.created_at, e.expires_at, e.used_at
                 FROM enroll_codes e JOIN groups g ON g.id = e.group_id
                 WHERE ?1 IS NULL OR g.ward_code = ?1
                 ORDER BY e.created_at DESC, e.code_hash",
            )?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn revoke_enroll_code(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let (id, audit) = (id.to_owned(), audit.cloned());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE enroll_codes SET expires_at = ?2
                 WHERE substr(code_hash, 1, ?3) = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![
                    id,
                    ts(now),
                    i64::try_from(super::ENROLL_CODE_ID_LEN).unwrap_or(12)
                ],
            )?;
            if n == 1 {
                write_audit(&tx, audit.as_ref())?;
                tx.commit()?;
            }
            Ok(n == 1)
        })
        .await
    }

    async fn add_pull_item(
        &self,
        group: Option<&str>,
        item: &PullItem,
        dedupe_key: Option<&str>,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<Option<i64>> {
        let group = group.map(str::to_owned);
        let dedupe_key = dedupe_key.map(str::to_owned);
        let audit = audit.cloned();
        let json =
            serde_json::to_string(item).map_err(|e| StoreError::Corrupt(format!("item: {e}")))?;
        let decision = super::decision_of(item);
        self.call(move |conn| {
            // The audit entry goes first and the item second, so that
            // any failure of the item (an unknown group, a used dedupe
            // key) rolls the entry back with it: dropping `tx` without
            // commit is the rollback.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            write_audit(&tx, audit.as_ref())?;
            let n = tx.execute(
                "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (dedupe_key) DO NOTHING",
                params![group, json, dedupe_key, ts(now)],
            )?;
            if n != 1 {
                return Ok(None);
            }
            let seq = tx.last_insert_rowid();
            if let Some(d) = &decision {
                tx.execute(
                    "INSERT INTO tip_decisions (report_id, status, note, seq, decided_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (report_id) DO UPDATE SET status = excluded.status,
                       note = excluded.note, seq = excluded.seq, decided_at = excluded.decided_at",
                    params![id_text(d.0.0), d.1.code(), d.2, seq, ts(d.3)],
                )?;
            }
            tx.commit()?;
            Ok(Some(seq))
        })
        .await
    }

    async fn report_owner(&self, id: ReportId) -> Result<Option<ReportOwner>> {
        self.read(move |conn| {
            let row: Option<(String, String, String, String)> = conn
                .query_row(
                    "SELECT r.group_id, COALESCE(r.recorded_group_id, r.group_id) AS recorded,
                            g.ward_code, r.kind FROM reports r
                     JOIN groups g ON g.id = r.group_id WHERE r.id = ?1",
                    params![id_text(id.0)],
                    |r| {
                        Ok((
                            r.get("group_id")?,
                            r.get("recorded")?,
                            r.get("ward_code")?,
                            r.get("kind")?,
                        ))
                    },
                )
                .optional()?;
            row.map(|(group, recorded_group, ward, kind)| {
                Ok(ReportOwner {
                    group,
                    recorded_group,
                    ward,
                    kind: parse_kind(&kind)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn move_report(&self, id: ReportId, group: &str, audit: &NewAudit) -> Result<bool> {
        let (group, audit) = (group.to_owned(), audit.clone());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE reports SET group_id = ?2 WHERE id = ?1",
                params![id_text(id.0), group],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE photo_refs SET group_id = ?2 WHERE report_id = ?1",
                params![id_text(id.0), group],
            )?;
            write_audit(&tx, Some(&audit))?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn delete_report(&self, id: ReportId, audit: &NewAudit) -> Result<bool> {
        let audit = audit.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = id_text(id.0);
            tx.execute("DELETE FROM photo_refs WHERE report_id = ?1", params![id])?;
            tx.execute(
                "DELETE FROM tip_decisions WHERE report_id = ?1",
                params![id],
            )?;
            tx.execute(
                "DELETE FROM report_revisions WHERE report_id = ?1",
                params![id],
            )?;
            let n = tx.execute("DELETE FROM reports WHERE id = ?1", params![id])?;
            if n == 0 {
                return Ok(false);
            }
            write_audit(&tx, Some(&audit))?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn household_group(
        &self,
        household: sotay_domain::HouseholdId,
    ) -> Result<Option<String>> {
        self.call(move |conn| {
            Ok(conn
                .prepare_cached("SELECT group_id FROM households WHERE id = ?1")?
                .query_row(params![id_text(household.0)], |r| r.get("group_id"))
                .optional()?)
        })
        .await
    }

    async fn devices(&self, scope: &Scope) -> Result<Vec<DeviceRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.id, d.name, d.group_id, d.enrolled_at, d.revoked_at, d.checkpoint,
                        d.pending_at_last_seen
                 FROM devices d JOIN groups g ON g.id = d.group_id
                 WHERE ?1 IS NULL OR g.ward_code = ?1 ORDER BY d.enrolled_at, d.id",
            )?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn revoke(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let audit = audit.cloned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
                params![ts(now), id_text(id.0)],
            )?;
            if n == 1 {
                write_audit(&tx, audit.as_ref())?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn export(&self, scope: &Scope, kind: Option<ReportKind>) -> Result<Vec<ExportRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let sql = format!(
                "{EXPORT_SELECT} WHERE (?1 IS NULL OR r.kind = ?1)
                   AND (?2 IS NULL OR r.group_id IN (SELECT id FROM groups WHERE ward_code = ?2))
                 ORDER BY v.server_seq"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            rows::query_all(&mut stmt, params![kind.map(|k| k.code()), ward])
        })
        .await
    }

    async fn tip_inbox(
        &self,
        query: &super::TipQuery,
        offset: u64,
        limit: u32,
    ) -> Result<super::InboxPage> {
        let q = query.clone();
        self.read(move |conn| {
            // One statement, its filters fixed in place (a NULL parameter
            // means "any"), so it is prepared once and cached.
            let filters = "r.kind = 'tip'
                AND (?1 IS NULL OR json_extract(v.payload, '$.category') = ?1)
                AND (?2 IS NULL OR COALESCE(json_extract(v.payload, '$.urgency'), 'normal') = ?2)
                AND (?3 IS NULL OR g.block_id = ?3)
                AND (?4 IS NULL OR r.group_id = ?4)
                AND (?5 IS NULL OR v.received_at >= ?5)
                AND (?6 IS NULL OR v.received_at < ?6)
                AND (?8 IS NULL OR g.ward_code = ?8)";
            let from = "FROM reports r
                JOIN report_revisions v ON v.report_id = r.id AND v.rev = r.latest_rev
                JOIN groups g ON g.id = r.group_id
                LEFT JOIN tip_decisions d ON d.report_id = r.id";
            let status = "(?7 IS NULL OR (?7 = 'new' AND d.status IS NULL) OR d.status = ?7)";
            let base = params![
                q.category.map(|c| c.code()),
                q.urgency.map(|u| u.code()),
                q.block,
                q.group,
                q.received_from.map(ts),
                q.received_before.map(ts),
                q.status_param(),
                q.ward,
            ];
            let page_sql = format!(
                "SELECT r.id, r.kind, v.rev, r.group_id, v.device_id, v.server_seq,
                        v.received_at, v.payload, d.status, d.note
                 {from} WHERE {filters} AND {status}
                 ORDER BY v.received_at DESC, r.id DESC LIMIT ?9 OFFSET ?10"
            );
            let mut stmt = conn.prepare_cached(&page_sql)?;
            let offset = i64::try_from(offset).unwrap_or(i64::MAX);
            let mut with_page: Vec<&dyn rusqlite::ToSql> = base.to_vec();
            with_page.push(&limit);
            with_page.push(&offset);
            let rows = rows::query_all(&mut stmt, with_page.as_slice())?;
            let count_sql = format!(
                "SELECT d.status AS status, COUNT(*) AS n {from} WHERE {filters} GROUP BY d.status"
            );
            let mut stmt = conn.prepare_cached(&count_sql)?;
            let counts = stmt
                .query_map(base, |r| {
                    Ok((r.get::<_, Option<String>>("status")?, r.get::<_, i64>("n")?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            super::inbox_page(rows, &counts, q.status)
        })
        .await
    }

    async fn household_inspections(
        &self,
        group: &str,
        household: sotay_domain::HouseholdId,
    ) -> Result<Vec<ExportRow>> {
        let group = group.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "{EXPORT_SELECT} WHERE r.kind = 'inspection' AND r.group_id = ?1
                   AND json_extract(v.payload, '$.household_id') = ?2"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            rows::query_all(&mut stmt, params![group, id_text(household.0)])
        })
        .await
    }

    async fn groups(&self, scope: &Scope) -> Result<Vec<GroupRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::GROUPS_SQL)?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn wards(&self) -> Result<Vec<WardRow>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(rows::WARDS_SQL)?;
            rows::query_all(&mut stmt, [])
        })
        .await
    }

    async fn announcements(&self, scope: &Scope) -> Result<Vec<AnnouncementRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::ANNOUNCEMENTS_SQL)?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn group_announcement_photo(&self, group: &str, sha256: &str) -> Result<bool> {
        let (group, sha256) = (group.to_owned(), sha256.to_owned());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::GROUP_ANNOUNCEMENT_PHOTO_SQL)?;
            let n: i64 = stmt.query_row(params![group, sha256], |r| r.get(0))?;
            Ok(n > 0)
        })
        .await
    }

    async fn announcement_readers(&self, id: &str) -> Result<Vec<AnnouncementReader>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::ANNOUNCEMENT_READERS_SQL)?;
            rows::query_all(&mut stmt, params![id])
        })
        .await
    }

    async fn blocks(&self, scope: &Scope) -> Result<Vec<BlockRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::BLOCKS_SQL)?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn run_steps(&self, steps: &[Step]) -> Result<std::result::Result<(), usize>> {
        let steps = steps.to_vec();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (i, step) in steps.iter().enumerate() {
                let values: Vec<rusqlite::types::Value> = step
                    .params
                    .iter()
                    .map(|v| match v {
                        Val::Text(s) => rusqlite::types::Value::Text(s.clone()),
                        Val::OptText(s) => s
                            .clone()
                            .map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text),
                        Val::Time(t) => rusqlite::types::Value::Text(ts(*t)),
                        Val::Uuid(u) => rusqlite::types::Value::Text(id_text(*u)),
                        Val::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                    })
                    .collect();
                let n = tx
                    .prepare_cached(step.sql)?
                    .execute(rusqlite::params_from_iter(values))?;
                if !step.holds(n as u64) {
                    return Ok(Err(i));
                }
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await
    }

    async fn place_events(&self, scope: &Scope) -> Result<Vec<PlaceEventRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::PLACE_EVENTS_SQL)?;
            rows::query_all(&mut stmt, params![ward])
        })
        .await
    }

    async fn group_codes(&self, group: &str) -> Result<Vec<(String, String)>> {
        let group = group.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::GROUP_CODES_SQL)?;
            let codes = stmt
                .query_map(params![group], |r| {
                    Ok((r.get("ward_code")?, r.get("code")?))
                })?
                .collect::<Result<Vec<(String, String)>, _>>()?;
            Ok(codes)
        })
        .await
    }

    async fn place_id_taken(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.read(move |conn| {
            let n: i64 = conn
                .prepare_cached(rows::PLACE_ID_TAKEN_SQL)?
                .query_row(params![id], |r| r.get("n"))?;
            Ok(n > 0)
        })
        .await
    }

    async fn campaigns(&self, scope: &Scope) -> Result<Vec<CampaignRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::CAMPAIGNS_SQL)?;
            let campaigns = rows::query_all(&mut stmt, params![ward])?;
            let mut stmt = conn.prepare_cached(rows::CAMPAIGN_GROUPS_SQL)?;
            let links = stmt
                .query_map(params![ward], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<(String, String)>, _>>()?;
            Ok(rows::with_groups(campaigns, links))
        })
        .await
    }

    async fn group_campaigns(
        &self,
        group: &str,
        ending_from: chrono::NaiveDate,
    ) -> Result<Vec<sotay_domain::campaign::Campaign>> {
        let group = group.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::GROUP_CAMPAIGNS_SQL)?;
            let bodies = stmt
                .query_map(params![group, ending_from.to_string()], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            bodies.iter().map(|b| rows::campaign_of(b)).collect()
        })
        .await
    }

    async fn registers(&self, groups: &[String]) -> Result<Vec<(String, String, String)>> {
        let groups = serde_json::to_string(groups)
            .map_err(|e| StoreError::Corrupt(format!("group ids: {e}")))?;
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT group_id, id, data FROM households
                 WHERE group_id IN (SELECT value FROM json_each(?1)) ORDER BY group_id, id",
            )?;
            let rows = stmt
                .query_map(params![groups], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn unfounded_tips(&self, groups: &[String]) -> Result<Vec<ReportId>> {
        let groups = serde_json::to_string(groups)
            .map_err(|e| StoreError::Corrupt(format!("group ids: {e}")))?;
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.report_id FROM tip_decisions d JOIN reports r ON r.id = d.report_id
                 WHERE d.status = 'unfounded' AND r.group_id IN (SELECT value FROM json_each(?1))",
            )?;
            let ids = stmt
                .query_map(params![groups], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            ids.iter().map(|id| Ok(ReportId(parse_uuid(id)?))).collect()
        })
        .await
    }

    async fn group_reports(
        &self,
        groups: &[String],
        kind: ReportKind,
        received_from: Option<DateTime<Utc>>,
    ) -> Result<Vec<ExportRow>> {
        let groups = serde_json::to_string(groups)
            .map_err(|e| StoreError::Corrupt(format!("group ids: {e}")))?;
        self.read(move |conn| {
            let sql = format!(
                "{EXPORT_SELECT} WHERE r.kind = ?1
                   AND r.group_id IN (SELECT value FROM json_each(?2))
                   AND (?3 IS NULL OR v.received_at >= ?3)
                 ORDER BY v.server_seq"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            rows::query_all(
                &mut stmt,
                params![kind.code(), groups, received_from.map(ts)],
            )
        })
        .await
    }

    async fn household_rows(&self, group: &str) -> Result<Vec<(String, String)>> {
        let group = group.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(rows::HOUSEHOLD_ROWS_SQL)?;
            let rows = stmt
                .query_map(params![group], |r| Ok((r.get("id")?, r.get("data")?)))?
                .collect::<Result<Vec<(String, String)>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn report_revisions(&self, id: ReportId) -> Result<Vec<RevisionRow>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT rev, device_id, server_seq, received_at, payload
                 FROM report_revisions WHERE report_id = ?1 ORDER BY rev",
            )?;
            rows::query_all(&mut stmt, params![id_text(id.0)])
        })
        .await
    }

    async fn tip_decisions(&self, report: ReportId) -> Result<Vec<TipDecision>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, item FROM pull_items
                 WHERE item LIKE ?1 AND json_extract(item, '$.report_id') = ?2 ORDER BY seq",
            )?;
            let rows: Vec<(i64, String)> = stmt
                .query_map(params![super::TIP_STATUS_PREFIX, id_text(report.0)], |r| {
                    Ok((r.get("seq")?, r.get("item")?))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for (seq, item) in rows {
                out.extend(super::tip_decision(seq, &item)?);
            }
            Ok(out)
        })
        .await
    }

    async fn import_households(
        &self,
        group: &str,
        households: &[sotay_domain::household::Household],
        now: DateTime<Utc>,
    ) -> Result<RegisterChange> {
        let group = group.to_owned();
        let households = households.to_vec();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored = {
                let mut stmt = tx.prepare("SELECT id, data FROM households WHERE group_id = ?1")?;
                stmt.query_map(params![group], |r| Ok((r.get("id")?, r.get("data")?)))?
                    .collect::<Result<HashMap<String, String>, _>>()?
            };
            let diff = register_diff(&stored, &households)?;
            for (id, data) in &diff.upserts {
                tx.execute(
                    "INSERT INTO households (id, group_id, data, imported_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id,
                       data = excluded.data, imported_at = excluded.imported_at",
                    params![id, group, data, ts(now)],
                )?;
            }
            for id in &diff.removed {
                tx.execute("DELETE FROM households WHERE id = ?1", params![id])?;
            }
            for item in &diff.items {
                tx.execute(
                    "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
                     VALUES (?1, ?2, NULL, ?3)",
                    params![group, item, ts(now)],
                )?;
            }
            tx.commit()?;
            Ok(diff.change())
        })
        .await
    }

    async fn household_counts(&self, scope: &Scope) -> Result<Vec<(String, u64)>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT h.group_id, COUNT(*) AS n FROM households h JOIN groups g ON g.id = h.group_id
                 WHERE ?1 IS NULL OR g.ward_code = ?1 GROUP BY h.group_id ORDER BY h.group_id",
            )?;
            let rows = stmt
                .query_map(params![ward], |r| {
                    Ok((r.get::<_, String>("group_id")?, r.get::<_, i64>("n")?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(g, n)| (g, u64::try_from(n).unwrap_or(0)))
                .collect())
        })
        .await
    }

    async fn audit(&self, entry: &NewAudit) -> Result<()> {
        let entry = entry.clone();
        self.call(move |conn| Ok(write_audit(conn, Some(&entry))?))
            .await
    }

    async fn audit_log(&self, scope: &Scope, limit: u32) -> Result<Vec<AuditRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, at, username, action, target, detail, ward_code FROM audit_log
                 WHERE ?2 IS NULL OR ward_code = ?2 ORDER BY id DESC LIMIT ?1",
            )?;
            rows::query_all(&mut stmt, params![limit, ward])
        })
        .await
    }

    async fn last_push_per_device(&self) -> Result<Vec<(DeviceId, DateTime<Utc>)>> {
        self.read(|conn| {
            // The later of the last stored change and the last call of any
            // kind: a sync with nothing to send is still a sync.
            let mut stmt = conn.prepare_cached(LAST_PUSH_SQL)?;
            let rows: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get("id")?, r.get("at")?)))?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .filter(|(_, at)| !at.is_empty())
                .map(|(id, at)| Ok((DeviceId(parse_uuid(&id)?), parse_ts(&at)?)))
                .collect()
        })
        .await
    }

    async fn ward_keys(&self) -> Result<Vec<WardKeyRow>> {
        self.call(|conn| ward_key_rows(conn)).await
    }

    async fn templates(&self) -> Result<Vec<ChecklistTemplate>> {
        let items = self
            .read(|conn| {
                let mut stmt = conn.prepare_cached(super::TEMPLATES_SQL)?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>("item"))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        super::templates_of(items)
    }

    async fn wards_without_key(&self) -> Result<Vec<String>> {
        self.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT code AS ward_code FROM wards
                 WHERE ended_at IS NULL AND code NOT IN (SELECT ward_code FROM ward_keys) ORDER BY code",
            )?;
            let rows = stmt
                .query_map([], |r| r.get("ward_code"))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn add_ward_key(
        &self,
        key: &WardKeyRow,
        copies: &[KeyCopy],
        recovery: Option<&RecoveryRow>,
        audit: Option<&NewAudit>,
    ) -> Result<()> {
        let (key, copies, recovery, audit) = (
            key.clone(),
            copies.to_vec(),
            recovery.cloned(),
            audit.cloned(),
        );
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(r) = &recovery {
                tx.execute(
                    "INSERT INTO ward_recovery (ward_code, public_key, wrapped, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![r.ward, r.public_key, r.wrapped, ts(r.created_at)],
                )?;
            }
            tx.execute(
                "UPDATE ward_keys SET retired_at = ?2 WHERE ward_code = ?1 AND retired_at IS NULL",
                params![key.ward, ts(key.created_at)],
            )?;
            tx.execute(
                "INSERT INTO ward_keys (key_id, ward_code, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![key.key_id, key.ward, key.public_key, ts(key.created_at)],
            )?;
            for c in &copies {
                tx.execute(
                    "INSERT INTO ward_key_copies (key_id, holder, sealed) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key_id, holder) DO UPDATE SET sealed = excluded.sealed",
                    params![c.key_id, c.holder, c.sealed],
                )?;
            }
            write_audit(&tx, audit.as_ref())?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn ward_recovery(&self, ward: &str) -> Result<Option<RecoveryRow>> {
        let ward = ward.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT ward_code, public_key, wrapped, created_at FROM ward_recovery WHERE ward_code = ?1",
            )?;
            rows::query_opt(&mut stmt, params![ward])
        })
        .await
    }

    async fn key_copies(&self, holder: &str) -> Result<Vec<KeyCopy>> {
        let holder = holder.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key_id, holder, sealed FROM ward_key_copies WHERE holder = ?1 ORDER BY key_id",
            )?;
            rows::query_all(&mut stmt, params![holder])
        })
        .await
    }

    async fn seal_clear_sources(&self) -> Result<usize> {
        self.call(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let keys = super::current_keys(&ward_key_rows(&tx)?)?;
            let rows: Vec<(i64, String, u32, String, String)> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT v.server_seq, v.report_id, v.rev, v.payload, g.ward_code
                     FROM report_revisions v JOIN reports r ON r.id = v.report_id
                     JOIN groups g ON g.id = r.group_id
                     WHERE v.kind = 'tip' AND {}",
                    super::CLEAR_SOURCE_FILTER.replace("payload", "v.payload")
                ))?;
                stmt.query_map([], |r| {
                    Ok((
                        r.get("server_seq")?,
                        r.get("report_id")?,
                        r.get("rev")?,
                        r.get("payload")?,
                        r.get("ward_code")?,
                    ))
                })?
                .collect::<Result<_, _>>()?
            };
            let mut n = 0;
            for (seq, report, rev, payload, ward) in rows {
                let Some(key) = keys.get(&ward) else { continue };
                let id = ReportId(parse_uuid(&report)?);
                if let Some(sealed) = super::sealed_payload(&payload, &ward, id, rev, key)? {
                    tx.execute(
                        "UPDATE report_revisions SET payload = ?2 WHERE server_seq = ?1",
                        params![seq, sealed],
                    )?;
                    n += 1;
                }
            }
            tx.commit()?;
            if n > 0 {
                // The clear text is gone from the pages (secure_delete);
                // truncating the WAL takes it out of the log file too.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(n)
        })
        .await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn add_officer(&self, o: &OfficerRow, audit: Option<&NewAudit>) -> Result<bool> {
        let o = o.clone();
        let audit = audit.cloned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "INSERT INTO officers (username, password_hash, role, created_at, key_public, key_wrapped,
                                       must_change_password, ward_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (username) DO NOTHING",
                params![o.username, o.password_hash, o.role, ts(o.created_at), o.key_public, o.key_wrapped,
                        o.must_change_password, o.ward],
            )?;
            if n == 1 {
                write_audit(&tx, audit.as_ref())?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn officer(&self, username: &str) -> Result<Option<OfficerRow>> {
        let username = username.to_owned();
        self.read(move |conn| {
            Ok(officer_rows(conn, Some(&username), None)?
                .into_iter()
                .next())
        })
        .await
    }

    async fn officers(&self, scope: &Scope) -> Result<Vec<OfficerRow>> {
        let ward = scope.ward().map(str::to_owned);
        self.read(move |conn| officer_rows(conn, None, ward.as_deref()))
            .await
    }

    async fn set_login_state(
        &self,
        username: &str,
        failed_logins: i64,
        locked_until: Option<DateTime<Utc>>,
        audit: Option<&NewAudit>,
    ) -> Result<()> {
        let username = username.to_owned();
        let audit = audit.cloned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE officers SET failed_logins = ?1, locked_until = ?2 WHERE username = ?3",
                params![failed_logins, locked_until.map(ts), username],
            )?;
            if n == 1 {
                write_audit(&tx, audit.as_ref())?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn login_failed(
        &self,
        username: &str,
        allowed: i64,
        lock_until: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<Option<DateTime<Utc>>> {
        let (username, audit) = (username.to_owned(), audit.clone());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let failed: Option<i64> = tx
                .query_row(
                    "UPDATE officers SET failed_logins = failed_logins + 1 WHERE username = ?1
                     RETURNING failed_logins",
                    params![username],
                    |r| r.get("failed_logins"),
                )
                .optional()?;
            let locked = failed.is_some_and(|n| n >= allowed);
            if locked {
                tx.execute(
                    "UPDATE officers SET failed_logins = 0, locked_until = ?2 WHERE username = ?1",
                    params![username, ts(lock_until)],
                )?;
                write_audit(&tx, Some(&audit))?;
            }
            tx.commit()?;
            Ok(locked.then_some(lock_until))
        })
        .await
    }

    async fn deactivate_officer(
        &self,
        username: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let username = username.to_owned();
        let audit = audit.cloned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE officers SET deactivated_at = COALESCE(deactivated_at, ?1)
                 WHERE username = ?2",
                params![ts(now), username],
            )?;
            tx.execute(
                "DELETE FROM officer_sessions WHERE username = ?1",
                params![username],
            )?;
            // Gone with the account: the keys sealed to it.
            tx.execute(
                "UPDATE officers SET sees_sources = 0 WHERE username = ?1",
                params![username],
            )?;
            tx.execute(
                "DELETE FROM ward_key_copies WHERE holder = ?1",
                params![crate::sources::officer_holder(&username)],
            )?;
            if n == 1 {
                write_audit(&tx, audit.as_ref())?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (token_hash, username, csrf) =
            (token_hash.to_owned(), username.to_owned(), csrf.to_owned());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM officer_sessions WHERE expires_at < ?1",
                params![ts(now)],
            )?;
            tx.execute(
                "INSERT INTO officer_sessions (token_hash, username, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, username, csrf, ts(now), ts(expires_at)],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::TimeDelta,
    ) -> Result<Option<SessionRow>> {
        let token_hash = token_hash.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut stmt = tx.prepare_cached(
                "SELECT s.username, o.role, s.csrf, s.expires_at,
                        COALESCE(s.last_seen_at, s.created_at) AS last_seen, o.sees_sources,
                        o.must_change_password, o.ward_code, w.block_level, w.group_level
                 FROM officer_sessions s JOIN officers o ON o.username = s.username
                 LEFT JOIN wards w ON w.code = o.ward_code
                 WHERE s.token_hash = ?1 AND o.deactivated_at IS NULL",
            )?;
            let found = {
                let mut rows = stmt.query(params![token_hash])?;
                match rows.next()? {
                    Some(r) => Some((SessionRow::from_row(r)?, r.time("last_seen")?)),
                    None => None,
                }
            };
            drop(stmt);
            let live =
                found.filter(|(s, seen)| super::session_live(s.expires_at, *seen, now, idle));
            let Some((session, _)) = live else {
                // Ended for good: a later request with an earlier clock
                // reading must not revive it.
                tx.execute(
                    "DELETE FROM officer_sessions WHERE token_hash = ?1",
                    params![token_hash],
                )?;
                tx.commit()?;
                return Ok(None);
            };
            tx.execute(
                "UPDATE officer_sessions SET last_seen_at = ?1 WHERE token_hash = ?2",
                params![ts(now), token_hash],
            )?;
            tx.commit()?;
            Ok(Some(session))
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.call(move |conn| {
            conn.execute(
                "DELETE FROM officer_sessions WHERE token_hash = ?1",
                params![token_hash],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_officer_key(&self, username: &str, public_key: &str, wrapped: &str) -> Result<()> {
        let (u, p, w) = (
            username.to_owned(),
            public_key.to_owned(),
            wrapped.to_owned(),
        );
        self.call(move |conn| {
            conn.execute(
                "UPDATE officers SET key_public = ?2, key_wrapped = ?3 WHERE username = ?1",
                params![u, p, w],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_source_access(
        &self,
        username: &str,
        grant: Option<&[KeyCopy]>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let (username, grant, audit) = (
            username.to_owned(),
            grant.map(<[KeyCopy]>::to_vec),
            audit.cloned(),
        );
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let holder = crate::sources::officer_holder(&username);
            let n = tx.execute(
                "UPDATE officers SET sees_sources = ?2 WHERE username = ?1",
                params![username, grant.is_some()],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM ward_key_copies WHERE holder = ?1",
                params![holder],
            )?;
            for c in grant.iter().flatten() {
                tx.execute(
                    "INSERT INTO ward_key_copies (key_id, holder, sealed) VALUES (?1, ?2, ?3)",
                    params![c.key_id, c.holder, c.sealed],
                )?;
            }
            write_audit(&tx, audit.as_ref())?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn set_password(&self, c: &PasswordChange, audit: Option<&NewAudit>) -> Result<bool> {
        let (c, audit) = (c.clone(), audit.cloned());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE officers SET password_hash = ?2, key_public = ?3, key_wrapped = ?4,
                     failed_logins = 0, locked_until = NULL, must_change_password = ?5
                 WHERE username = ?1",
                params![
                    c.username,
                    c.password_hash,
                    c.key_public,
                    c.key_wrapped,
                    c.reset
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM officer_sessions WHERE username = ?1 AND token_hash IS NOT ?2",
                params![c.username, c.keep_session],
            )?;
            if c.reset {
                tx.execute(
                    "UPDATE officers SET sees_sources = 0 WHERE username = ?1",
                    params![c.username],
                )?;
                tx.execute(
                    "DELETE FROM ward_key_copies WHERE holder = ?1",
                    params![crate::sources::officer_holder(&c.username)],
                )?;
            }
            write_audit(&tx, audit.as_ref())?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}

/// A newer revision withdrew the source: the older ones lose theirs.
fn erase_older_sources(tx: &Connection, report: &str, rev: u32) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT server_seq, payload FROM report_revisions
             WHERE report_id = ?1 AND rev < ?2 AND payload LIKE '%\"sealed\":%'",
        )?;
        stmt.query_map(params![report, rev], |r| {
            Ok((r.get("server_seq")?, r.get("payload")?))
        })?
        .collect::<Result<_, _>>()?
    };
    for (seq, payload) in rows {
        if let Some(erased) = super::erased_payload(&payload)? {
            tx.execute(
                "UPDATE report_revisions SET payload = ?2 WHERE server_seq = ?1",
                params![seq, erased],
            )?;
        }
    }
    Ok(())
}

fn ward_key_rows(conn: &Connection) -> Result<Vec<WardKeyRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, ward_code, public_key, created_at, retired_at FROM ward_keys
         ORDER BY created_at, key_id",
    )?;
    rows::query_all(&mut stmt, [])
}

fn officer_rows(
    conn: &Connection,
    username: Option<&str>,
    ward: Option<&str>,
) -> Result<Vec<OfficerRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT username, password_hash, role, created_at, failed_logins, locked_until,
                deactivated_at, key_public, key_wrapped, sees_sources, must_change_password,
                ward_code
         FROM officers WHERE (?1 IS NULL OR username = ?1) AND (?2 IS NULL OR ward_code = ?2)
         ORDER BY username",
    )?;
    rows::query_all(&mut stmt, params![username, ward])
}

fn group_place(conn: &Connection, group: &str) -> Result<Option<DevicePlace>> {
    let mut stmt = conn.prepare_cached(rows::GROUP_PLACE_SQL)?;
    rows::query_opt(&mut stmt, params![group])
}

/// Turns up to `limit + 1` rows into a page: the extra row only says that
/// more remains.
pub(crate) fn entries_page(
    mut rows: Vec<(i64, String)>,
    since: i64,
    limit: u32,
) -> Result<PullResponse> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().map_or(since, |(seq, _)| *seq);
    let entries = rows
        .into_iter()
        .map(|(server_seq, item)| {
            let item: PullItem = serde_json::from_str(&item)
                .map_err(|e| StoreError::Corrupt(format!("pull item {server_seq}: {e}")))?;
            Ok(PullEntry { server_seq, item })
        })
        .collect::<Result<_>>()?;
    Ok(PullResponse {
        entries,
        next_cursor,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The devices page and every /metrics scrape ask each device's last
    /// change: it must be an index seek, not a scan of every revision.
    #[tokio::test]
    async fn a_devices_last_change_is_read_from_its_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        drop(SqliteStore::open(&path).await.expect("open"));
        let conn = Connection::open(&path).expect("conn");
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {LAST_PUSH_SQL}"))
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>("detail"))?
                    .collect::<Result<_, _>>()
            })
            .expect("plan");
        let revisions: Vec<&String> = plan.iter().filter(|d| d.contains(" r ")).collect();
        assert!(!revisions.is_empty(), "{plan:?}");
        for step in revisions {
            assert!(
                step.contains("USING COVERING INDEX report_revisions_device"),
                "{plan:?}"
            );
        }
    }
}
