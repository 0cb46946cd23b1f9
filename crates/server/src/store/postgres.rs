//! The PostgreSQL backend, for a city or province running several stateless
//! copies of the server in front of one database.
//!
//! Concurrency: a push locks its device's row (`FOR UPDATE`), so two
//! batches of one device never interleave; reports and revisions are
//! inserted with `ON CONFLICT DO NOTHING` and read back, so two devices
//! racing on one report id still end with one owner and one receipt per
//! (id, rev). Pull items are inserted under an exclusive table lock so that
//! their sequence numbers become visible in order and a pulling device
//! never skips one that commits late.

use super::rows::{self, Cols, EXPORT_SELECT, FromRow, StoredEnrollCode, parse_kind, rev_of};
use super::steps::{Step, Val, postgres_sql};
use super::{
    AccountStore, AnnouncementReader, AnnouncementRow, AuditRow, BlockRow, CampaignRow,
    CheckedChange, DeviceAuth, DeviceRow, EnrollCodeRow, EnrollRefusal, ExportRow, GroupRow,
    KeyCopy, NewAudit, NewDevice, OfficerRow, PasswordChange, PlaceEventRow, PushOutcome,
    RecoveryRow, RegisterChange, ReportOwner, Result, RevisionRow, Scope, SessionRow, StoreError,
    SyncStore, TipDecision, TokenLookup, WardKeyRow, WardRow, WardStore, push, register_diff,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use sotay_domain::inspection::ChecklistTemplate;
use sotay_domain::report::Receipt;
use sotay_domain::wire::{DeviceId, PullItem, PullResponse};
use sotay_domain::{DevicePlace, ReportId, ReportKind};
use std::collections::HashMap;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The migrations, in order. Append only.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_dashboard.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_dashboard_admin.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_device_last_seen.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_sealed_sources.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_server_id.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_tip_decisions.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_password_change.sql"),
    ),
    (9, include_str!("../../migrations/postgres/0009_photos.sql")),
    (
        10,
        include_str!("../../migrations/postgres/0010_revisions_by_device.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_wards_and_places.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_ward_merges.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_announcements.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_campaigns.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_announcement_photos.sql"),
    ),
];

/// Serialises migrations of several servers starting at once.
const MIGRATION_LOCK: i64 = 0x5074_4159_0001;

pub struct PgStore {
    pool: Pool,
    photos: PgPhotos,
}

/// Photos in the database (`photos`, and `photo_parts` for those still
/// arriving), so every server copy in front of it reaches them.
pub struct PgPhotos {
    pool: Pool,
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        // The whole chain: "db error" alone does not tell an operator that
        // pg_hba.conf refused them or that the certificate did not verify.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        StoreError::Pool(text)
    }
}

/// Writes `audit`, if any, on `client` (inside the caller's transaction).
async fn write_audit(
    client: &impl GenericClient,
    audit: Option<&NewAudit>,
) -> std::result::Result<(), tokio_postgres::Error> {
    if let Some(a) = audit {
        client
            .execute(
                "INSERT INTO audit_log (at, username, action, target, detail, ward_code)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&a.at, &a.username, &a.action, &a.target, &a.detail, &a.ward],
            )
            .await?;
    }
    Ok(())
}

impl PgStore {
    /// Connects and migrates. With `schema`, every connection uses it as
    /// its `search_path` (tests isolate themselves in a schema of their own).
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let super::pg_connect::PgTarget {
            config: mut cfg,
            tls,
        } = super::pg_connect::parse(url)?;
        if let Some(schema) = schema {
            cfg.options(format!("-c search_path={schema}"));
        }
        let manager = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let mgr = match tls {
            Some(tls) => Manager::from_config(
                cfg,
                tokio_postgres_rustls::MakeRustlsConnect::new(tls),
                manager,
            ),
            None => Manager::from_config(cfg, NoTls, manager),
        };
        let pool = Pool::builder(mgr)
            .max_size(16)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = Self {
            photos: PgPhotos { pool: pool.clone() },
            pool,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the pending migrations, after checking those applied
    /// ([`sotay_domain::migrations::verify`]): an edited migration or a
    /// newer database is refused before anything is written.
    async fn migrate(&self) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL);
             ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum TEXT",
        )
        .await?;
        let applied: Vec<(i64, Option<String>)> = tx
            .query("SELECT version, checksum FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|r| Ok((r.int("version")?, r.opt_text("checksum")?)))
            .collect::<Result<_>>()?;
        let verified = sotay_domain::migrations::verify(&applied, MIGRATIONS)?;
        for (version, sum) in &verified.backfill {
            tx.execute(
                "UPDATE schema_migrations SET checksum = $2 WHERE version = $1",
                &[version, sum],
            )
            .await?;
        }
        for (version, sql, sum) in &verified.pending {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)",
                &[version, sum],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn group_place<C: GenericClient>(c: &C, group: &str) -> Result<Option<DevicePlace>> {
    let row = c
        .query_opt(&postgres_sql(rows::GROUP_PLACE_SQL), &[&group])
        .await?;
    row.as_ref().map(DevicePlace::from_row).transpose()
}

/// Reads what a batch's decisions depend on ([`push::BatchState`]) in one
/// pipeline of set-based statements, after locking the device's row so
/// two pushes of one device never interleave.
async fn batch_state(
    tx: &deadpool_postgres::Transaction<'_>,
    dev: Uuid,
    keys: &push::BatchKeys,
) -> Result<push::BatchState> {
    let lock = tx
        .prepare_cached("SELECT checkpoint FROM devices WHERE id = $1 FOR UPDATE")
        .await?;
    let after = tx
        .prepare_cached(
            "SELECT s.device_seq FROM device_seqs s JOIN devices d ON d.id = s.device_id
             WHERE s.device_id = $1 AND s.device_seq > d.checkpoint",
        )
        .await?;
    let seqs_stmt = tx
        .prepare_cached(
            "SELECT device_seq, report_id, rev FROM device_seqs
             WHERE device_id = $1 AND device_seq = ANY($2::BIGINT[])",
        )
        .await?;
    let reports_stmt = tx
        .prepare_cached("SELECT id, group_id, kind FROM reports WHERE id = ANY($1::UUID[])")
        .await?;
    let receipts_stmt = tx
        .prepare_cached(
            "SELECT v.report_id, v.rev, v.server_seq, v.received_at
             FROM unnest($1::UUID[], $2::BIGINT[]) AS k(report_id, rev)
             JOIN report_revisions v ON v.report_id = k.report_id AND v.rev = k.rev",
        )
        .await?;
    let households_stmt = tx
        .prepare_cached("SELECT id, group_id FROM households WHERE id = ANY($1::TEXT[])")
        .await?;
    let report_ids: Vec<Uuid> = keys.reports.iter().map(|r| r.0).collect();
    let (rev_ids, revs): (Vec<Uuid>, Vec<i64>) = keys
        .revisions
        .iter()
        .map(|(id, rev)| (id.0, i64::from(*rev)))
        .unzip();
    // Sent together: tokio-postgres pipelines queries polled at once, and
    // the server runs them in order, the row lock first.
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let (p_dev, p_seqs): ([P; 1], [P; 2]) = ([&dev], [&dev, &keys.seqs]);
    let (p_reports, p_revs, p_households): ([P; 1], [P; 2], [P; 1]) =
        ([&report_ids], [&rev_ids, &revs], [&keys.households]);
    let (checkpoint, after, seqs, reports, receipts, households) = tokio::try_join!(
        tx.query_one(&lock, &p_dev),
        tx.query(&after, &p_dev),
        tx.query(&seqs_stmt, &p_seqs),
        tx.query(&reports_stmt, &p_reports),
        tx.query(&receipts_stmt, &p_revs),
        tx.query(&households_stmt, &p_households),
    )?;
    let mut state = push::BatchState {
        checkpoint: checkpoint.int("checkpoint")?,
        recorded_after: after
            .iter()
            .map(|r| r.int("device_seq"))
            .collect::<Result<_>>()?,
        ..Default::default()
    };
    for r in &seqs {
        let target = (ReportId(r.uuid("report_id")?), rev_of(r.int("rev")?)?);
        state.seqs.insert(r.int("device_seq")?, target);
    }
    for r in &reports {
        let owner = (r.text("group_id")?, r.text("kind")?);
        state.reports.insert(ReportId(r.uuid("id")?), owner);
    }
    for r in &receipts {
        let key = (ReportId(r.uuid("report_id")?), rev_of(r.int("rev")?)?);
        state.receipts.insert(key, Receipt::from_row(r)?);
    }
    for r in &households {
        state.households.insert(r.text("id")?, r.text("group_id")?);
    }
    Ok(state)
}

/// Creates the batch's new reports; false when another transaction
/// created one of them first (the batch must then be decided again).
async fn create_reports(
    tx: &deadpool_postgres::Transaction<'_>,
    group: &str,
    plan: &push::Plan,
) -> Result<bool> {
    if plan.new_reports.is_empty() {
        return Ok(true);
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO reports (id, group_id, recorded_group_id, kind, latest_rev)
             SELECT id, $1::TEXT, $1::TEXT, kind, rev FROM unnest($2::UUID[], $3::TEXT[], $4::BIGINT[]) AS t(id, kind, rev)
             ON CONFLICT (id) DO NOTHING",
        )
        .await?;
    let ids: Vec<Uuid> = plan.new_reports.iter().map(|r| r.id.0).collect();
    let kinds: Vec<&str> = plan.new_reports.iter().map(|r| r.kind).collect();
    let revs: Vec<i64> = plan.new_reports.iter().map(|r| i64::from(r.rev)).collect();
    let created = tx.execute(&stmt, &[&group, &ids, &kinds, &revs]).await?;
    Ok(created == plan.new_reports.len() as u64)
}

/// Writes the rest of a batch's [`push::Plan`] in a fixed handful of
/// round trips; the receipts of its new revisions, in order.
async fn write_plan(
    tx: &deadpool_postgres::Transaction<'_>,
    dev: Uuid,
    group: &str,
    plan: &push::Plan,
    now: DateTime<Utc>,
) -> Result<Vec<Receipt>> {
    let revisions = tx
        .prepare_cached(
            "INSERT INTO report_revisions (report_id, rev, kind, device_id, device_seq, payload, received_at)
             SELECT report_id, rev, kind, $1::UUID, device_seq, payload, $2::TIMESTAMPTZ
             FROM unnest($3::UUID[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[], $7::TEXT[])
                  WITH ORDINALITY AS t(report_id, rev, kind, device_seq, payload, n)
             ORDER BY n
             ON CONFLICT (report_id, rev) DO NOTHING
             RETURNING report_id, rev, server_seq",
        )
        .await?;
    let v = &plan.revisions;
    let ids: Vec<Uuid> = v.iter().map(|r| r.report.0).collect();
    let revs: Vec<i64> = v.iter().map(|r| i64::from(r.rev)).collect();
    let kinds: Vec<&str> = v.iter().map(|r| r.kind).collect();
    let seqs: Vec<i64> = v.iter().map(|r| r.device_seq).collect();
    let payloads: Vec<&str> = v.iter().map(|r| r.payload.as_str()).collect();
    let mut stored: HashMap<(Uuid, i64), i64> = HashMap::new();
    if !v.is_empty() {
        for r in tx
            .query(
                &revisions,
                &[&dev, &now, &ids, &revs, &kinds, &seqs, &payloads],
            )
            .await?
        {
            stored.insert((r.uuid("report_id")?, r.int("rev")?), r.int("server_seq")?);
        }
    }
    // A revision another device of the group stored first (between our
    // read and our insert) keeps that first receipt, and what follows from
    // storing it (photos, erasing older sources) was done by its writer.
    let mut receipts = Vec::with_capacity(v.len());
    let mut ours = Vec::with_capacity(v.len());
    for r in v {
        match stored.get(&(r.report.0, i64::from(r.rev))) {
            Some(&server_seq) => {
                receipts.push(Receipt {
                    server_seq,
                    received_at: now,
                });
                ours.push(r);
            }
            None => {
                let row = tx
                    .query_one(
                        "SELECT server_seq, received_at FROM report_revisions
                         WHERE report_id = $1 AND rev = $2",
                        &[&r.report.0, &i64::from(r.rev)],
                    )
                    .await?;
                receipts.push(Receipt::from_row(&row)?);
            }
        }
    }
    let latest = tx
        .prepare_cached(
            "UPDATE reports SET latest_rev = GREATEST(latest_rev, t.rev)
             FROM unnest($1::UUID[], $2::BIGINT[]) AS t(id, rev) WHERE reports.id = t.id",
        )
        .await?;
    let photos = tx
        .prepare_cached(
            "INSERT INTO photo_refs (sha256, report_id, group_id)
             SELECT sha256, report_id, $1::TEXT FROM unnest($2::TEXT[], $3::UUID[]) AS t(sha256, report_id)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let seq_rows = tx
        .prepare_cached(
            "INSERT INTO device_seqs (device_id, device_seq, report_id, rev, outcome, code, message)
             SELECT $1::UUID, device_seq, report_id, rev, outcome, code, message
             FROM unnest($2::BIGINT[], $3::UUID[], $4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])
                  AS t(device_seq, report_id, rev, outcome, code, message)
             ON CONFLICT (device_id, device_seq) DO UPDATE
             SET outcome = excluded.outcome, code = excluded.code, message = excluded.message",
        )
        .await?;
    let checkpoint = tx
        .prepare_cached("UPDATE devices SET checkpoint = $1 WHERE id = $2")
        .await?;
    let (latest_ids, latest_revs): (Vec<Uuid>, Vec<i64>) = plan
        .latest
        .iter()
        .map(|(id, rev)| (id.0, i64::from(*rev)))
        .unzip();
    let (photo_shas, photo_reports): (Vec<&str>, Vec<Uuid>) = ours
        .iter()
        .flat_map(|r| r.photos.iter().map(|sha| (sha.as_str(), r.report.0)))
        .unzip();
    let s = &plan.seq_rows;
    let seq_no: Vec<i64> = s.iter().map(|r| r.seq).collect();
    let seq_report: Vec<Uuid> = s.iter().map(|r| r.report.0).collect();
    let seq_rev: Vec<i64> = s.iter().map(|r| i64::from(r.rev)).collect();
    let seq_outcome: Vec<&str> = s.iter().map(|r| r.outcome()).collect();
    let seq_code: Vec<Option<&str>> = s
        .iter()
        .map(|r| r.rejection.as_ref().map(|r| r.code.code()))
        .collect();
    let seq_message: Vec<Option<&str>> = s
        .iter()
        .map(|r| r.rejection.as_ref().map(|r| r.message.as_str()))
        .collect();
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let p_latest: [P; 2] = [&latest_ids, &latest_revs];
    let p_photos: [P; 3] = [&group, &photo_shas, &photo_reports];
    let p_seqs: [P; 7] = [
        &dev,
        &seq_no,
        &seq_report,
        &seq_rev,
        &seq_outcome,
        &seq_code,
        &seq_message,
    ];
    let p_checkpoint: [P; 2] = [&plan.checkpoint, &dev];
    // One pipeline.
    tokio::try_join!(
        tx.execute(&latest, &p_latest),
        tx.execute(&photos, &p_photos),
        tx.execute(&seq_rows, &p_seqs),
        tx.execute(&checkpoint, &p_checkpoint),
    )?;
    for r in ours.iter().filter(|r| r.withdraws_source) {
        erase_older_sources(tx, r.report.0, i64::from(r.rev)).await?;
    }
    Ok(receipts)
}

/// A newer revision withdrew the source: the older ones lose theirs.
async fn erase_older_sources(tx: &impl GenericClient, report: Uuid, rev: i64) -> Result<()> {
    let rows = tx
        .query(
            "SELECT server_seq, payload FROM report_revisions
             WHERE report_id = $1 AND rev < $2 AND payload LIKE '%\"sealed\":%'",
            &[&report, &rev],
        )
        .await?;
    for r in rows {
        let payload = r.text("payload")?;
        if let Some(erased) = super::erased_payload(&payload)? {
            let seq = r.int("server_seq")?;
            tx.execute(
                "UPDATE report_revisions SET payload = $2 WHERE server_seq = $1",
                &[&seq, &erased],
            )
            .await?;
        }
    }
    Ok(())
}

async fn ward_key_rows(client: &impl GenericClient) -> Result<Vec<WardKeyRow>> {
    let rows = client
        .query(
            "SELECT key_id, ward_code, public_key, created_at, retired_at FROM ward_keys
             ORDER BY created_at, key_id",
            &[],
        )
        .await?;
    rows::all(&rows)
}

#[async_trait]
impl SyncStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn enroll(
        &self,
        code_hash: &str,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Result<DevicePlace, EnrollRefusal>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT group_id, expires_at, used_at FROM enroll_codes
                 WHERE code_hash = $1 FOR UPDATE",
                &[&code_hash],
            )
            .await?;
        let code = row.as_ref().map(StoredEnrollCode::from_row).transpose()?;
        let group = match StoredEnrollCode::redeem(code, now) {
            Ok(group) => group,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.execute(
            "UPDATE enroll_codes SET used_at = $1 WHERE code_hash = $2",
            &[&now, &code_hash],
        )
        .await?;
        tx.execute(
            "INSERT INTO devices (id, name, group_id, token_hash, enrolled_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&device.id.0, &device.name, &group, &device.token_hash, &now],
        )
        .await?;
        let place = group_place(&tx, &group)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("group {group} vanished")))?;
        tx.commit().await?;
        Ok(Ok(place))
    }

    async fn authenticate(&self, token_hash: &str) -> Result<TokenLookup> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT d.id, d.group_id, g.code AS group_code, d.revoked_at, g.ward_code FROM devices d
                 JOIN groups g ON g.id = d.group_id WHERE d.token_hash = $1",
            )
            .await?;
        let row = client.query_opt(&stmt, &[&token_hash]).await?;
        Ok(match row {
            None => TokenLookup::Unknown,
            Some(r) => TokenLookup::from_row(&r)?,
        })
    }

    async fn push(
        &self,
        device: &DeviceAuth,
        changes: Vec<CheckedChange>,
        now: DateTime<Utc>,
    ) -> Result<PushOutcome> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let dev = device.device_id.0;
        let keys = push::BatchKeys::of(&changes);
        // Two devices may race to create one report id: the loser decides
        // its batch again against the winner's row (forbidden, a kind
        // mismatch, or simply stored under it). Bounded: each round sees
        // at least one more report that exists.
        let mut rounds = keys.reports.len() + 1;
        let plan = loop {
            let state = batch_state(&tx, dev, &keys).await?;
            let plan = push::decide(&device.group, &changes, state);
            if create_reports(&tx, &device.group, &plan).await? {
                break plan;
            }
            rounds -= 1;
            if rounds == 0 {
                return Err(StoreError::Corrupt("reports keep appearing".into()));
            }
        };
        plan.log_forbidden(device);
        let receipts = write_plan(&tx, dev, &device.group, &plan, now).await?;
        tx.commit().await?;
        let checkpoint = plan.checkpoint;
        Ok(PushOutcome {
            outcomes: plan.outcomes(&receipts)?,
            checkpoint,
        })
    }

    async fn pull(&self, group: &str, since: i64, limit: u32) -> Result<PullResponse> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT seq, item FROM pull_items
                 WHERE seq > $1 AND (group_id = $2 OR (group_id IS NULL AND (ward_code IS NULL
                   OR ward_code = (SELECT g.ward_code FROM groups g WHERE g.id = $2))))
                 ORDER BY seq LIMIT $3",
                &[&since, &group, &(i64::from(limit) + 1)],
            )
            .await?;
        let rows = rows
            .iter()
            .map(|r| Ok((r.int("seq")?, r.text("item")?)))
            .collect::<Result<_>>()?;
        super::sqlite::entries_page(rows, since, limit)
    }

    fn photos(&self) -> &dyn super::photos::PhotoStore {
        &self.photos
    }

    async fn photo_reports(&self, sha256: &str) -> Result<Vec<(ReportId, String)>> {
        let client = self.pool.get().await?;
        Ok(client
            .query(
                "SELECT report_id, group_id FROM photo_refs WHERE sha256 = $1 ORDER BY report_id",
                &[&sha256],
            )
            .await?
            .iter()
            .map(|r| Ok((ReportId(r.uuid("report_id")?), r.text("group_id")?)))
            .collect::<Result<_>>()?)
    }

    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        pending: Option<i64>,
    ) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE devices SET last_seen_at = $1,
                     pending_at_last_seen = COALESCE($3, pending_at_last_seen) WHERE id = $2",
                &[&now, &id.0, &pending],
            )
            .await?;
        Ok(())
    }

    async fn server_id(&self) -> Result<String> {
        let client = self.pool.get().await?;
        client
            .query_one("SELECT server_id FROM server_meta WHERE id = 1", &[])
            .await?
            .text("server_id")
    }
}

#[async_trait]
impl WardStore for PgStore {
    async fn group_place(&self, group: &str) -> Result<Option<DevicePlace>> {
        let client = self.pool.get().await?;
        group_place(&client, group).await
    }

    async fn create_enroll_code(
        &self,
        code_hash: &str,
        group: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO enroll_codes (code_hash, group_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &[&code_hash, &group, &now, &expires_at],
            )
            .await?;
        Ok(())
    }

    async fn enroll_codes(&self, scope: &Scope) -> Result<Vec<EnrollCodeRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT e.code_hash, e.group_id, e.created_at, e.expires_at, e.used_at
                 FROM enroll_codes e JOIN groups g ON g.id = e.group_id
                 WHERE $1::TEXT IS NULL OR g.ward_code = $1
                 ORDER BY e.created_at DESC, e.code_hash",
                &[&scope.ward()],
            )
            .await?;
        rows::all(&rows)
    }

    async fn revoke_enroll_code(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let len = i32::try_from(super::ENROLL_CODE_ID_LEN).unwrap_or(12);
        let n = tx
            .execute(
                "UPDATE enroll_codes SET expires_at = $2
                 WHERE substr(code_hash, 1, $3) = $1 AND used_at IS NULL AND expires_at > $2",
                &[&id, &now, &len],
            )
            .await?;
        if n == 1 {
            write_audit(&tx, audit).await?;
            tx.commit().await?;
        }
        Ok(n == 1)
    }

    async fn add_pull_item(
        &self,
        group: Option<&str>,
        item: &PullItem,
        dedupe_key: Option<&str>,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<Option<i64>> {
        let json =
            serde_json::to_string(item).map_err(|e| StoreError::Corrupt(format!("item: {e}")))?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("LOCK TABLE pull_items IN EXCLUSIVE MODE")
            .await?;
        // Audit entry first, item second: any failure of the item (an
        // unknown group, a used dedupe key) rolls the entry back with it;
        // dropping `tx` without commit is the rollback.
        write_audit(&tx, audit).await?;
        let row = tx
            .query_opt(
                "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq",
                &[&group, &json, &dedupe_key, &now],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let seq = row.int("seq")?;
        if let Some((report, status, note, decided_at)) = super::decision_of(item) {
            tx.execute(
                "INSERT INTO tip_decisions (report_id, status, note, seq, decided_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (report_id) DO UPDATE SET status = excluded.status,
                   note = excluded.note, seq = excluded.seq, decided_at = excluded.decided_at",
                &[&report.0, &status.code(), &note, &seq, &decided_at],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(seq))
    }

    async fn report_owner(&self, id: ReportId) -> Result<Option<ReportOwner>> {
        let client = self.pool.get().await?;
        client
            .query_opt(
                "SELECT r.group_id, COALESCE(r.recorded_group_id, r.group_id) AS recorded,
                        g.ward_code, r.kind FROM reports r
                 JOIN groups g ON g.id = r.group_id WHERE r.id = $1",
                &[&id.0],
            )
            .await?
            .map(|r| {
                let kind = r.text("kind")?;
                Ok(ReportOwner {
                    group: r.text("group_id")?,
                    recorded_group: r.text("recorded")?,
                    ward: r.text("ward_code")?,
                    kind: parse_kind(&kind)?,
                })
            })
            .transpose()
    }

    async fn move_report(&self, id: ReportId, group: &str, audit: &NewAudit) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE reports SET group_id = $2 WHERE id = $1",
                &[&id.0, &group],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE photo_refs SET group_id = $2 WHERE report_id = $1",
            &[&id.0, &group],
        )
        .await?;
        write_audit(&tx, Some(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_report(&self, id: ReportId, audit: &NewAudit) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM tip_decisions WHERE report_id = $1", &[&id.0])
            .await?;
        tx.execute("DELETE FROM photo_refs WHERE report_id = $1", &[&id.0])
            .await?;
        tx.execute(
            "DELETE FROM report_revisions WHERE report_id = $1",
            &[&id.0],
        )
        .await?;
        let n = tx
            .execute("DELETE FROM reports WHERE id = $1", &[&id.0])
            .await?;
        if n == 0 {
            return Ok(false);
        }
        write_audit(&tx, Some(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn household_group(
        &self,
        household: sotay_domain::HouseholdId,
    ) -> Result<Option<String>> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt(
                "SELECT group_id FROM households WHERE id = $1",
                &[&household.0.hyphenated().to_string()],
            )
            .await?
            .map(|r| r.text("group_id"))
            .transpose()?)
    }

    async fn devices(&self, scope: &Scope) -> Result<Vec<DeviceRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT d.id, d.name, d.group_id, d.enrolled_at, d.revoked_at, d.checkpoint,
                        d.pending_at_last_seen
                 FROM devices d JOIN groups g ON g.id = d.group_id
                 WHERE $1::TEXT IS NULL OR g.ward_code = $1 ORDER BY d.enrolled_at, d.id",
                &[&scope.ward()],
            )
            .await?;
        rows::all(&rows)
    }

    async fn revoke(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
                &[&now, &id.0],
            )
            .await?;
        if n == 1 {
            write_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn export(&self, scope: &Scope, kind: Option<ReportKind>) -> Result<Vec<ExportRow>> {
        let client = self.pool.get().await?;
        let kind = kind.map(|k| k.code());
        let sql = format!(
            "{EXPORT_SELECT} WHERE ($1::TEXT IS NULL OR r.kind = $1)
               AND ($2::TEXT IS NULL OR r.group_id IN (SELECT id FROM groups WHERE ward_code = $2))
             ORDER BY v.server_seq"
        );
        let rows = client.query(&sql, &[&kind, &scope.ward()]).await?;
        rows::all(&rows)
    }

    async fn tip_inbox(
        &self,
        q: &super::TipQuery,
        offset: u64,
        limit: u32,
    ) -> Result<super::InboxPage> {
        let client = self.pool.get().await?;
        // One statement, its filters fixed in place (a NULL parameter
        // means "any"), so the pool's statement cache reuses it.
        let filters = "r.kind = 'tip'
            AND ($1::TEXT IS NULL OR (v.payload::jsonb ->> 'category') = $1)
            AND ($2::TEXT IS NULL OR COALESCE(v.payload::jsonb ->> 'urgency', 'normal') = $2)
            AND ($3::TEXT IS NULL OR g.block_id = $3)
            AND ($4::TEXT IS NULL OR r.group_id = $4)
            AND ($5::TIMESTAMPTZ IS NULL OR v.received_at >= $5)
            AND ($6::TIMESTAMPTZ IS NULL OR v.received_at < $6)
            AND ($7::TEXT IS NULL OR g.ward_code = $7)";
        let from = "FROM reports r
            JOIN report_revisions v ON v.report_id = r.id AND v.rev = r.latest_rev
            JOIN groups g ON g.id = r.group_id
            LEFT JOIN tip_decisions d ON d.report_id = r.id";
        let status = "($8::TEXT IS NULL OR ($8 = 'new' AND d.status IS NULL) OR d.status = $8)";
        let category = q.category.map(|c| c.code());
        let urgency = q.urgency.map(|u| u.code());
        let status_param = q.status_param();
        let limit = i64::from(limit);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let page_sql = format!(
            "SELECT r.id, r.kind, v.rev, r.group_id, v.device_id, v.server_seq,
                    v.received_at, v.payload, d.status, d.note
             {from} WHERE {filters} AND {status}
             ORDER BY v.received_at DESC, r.id DESC LIMIT $9 OFFSET $10"
        );
        let page_stmt = client.prepare_cached(&page_sql).await?;
        let rows = client
            .query(
                &page_stmt,
                &[
                    &category,
                    &urgency,
                    &q.block,
                    &q.group,
                    &q.received_from,
                    &q.received_before,
                    &q.ward,
                    &status_param,
                    &limit,
                    &offset,
                ],
            )
            .await?;
        let rows = rows::all(&rows)?;
        let count_sql = format!(
            "SELECT d.status AS status, COUNT(*) AS n {from} WHERE {filters} GROUP BY d.status"
        );
        let count_stmt = client.prepare_cached(&count_sql).await?;
        let counts = client
            .query(
                &count_stmt,
                &[
                    &category,
                    &urgency,
                    &q.block,
                    &q.group,
                    &q.received_from,
                    &q.received_before,
                    &q.ward,
                ],
            )
            .await?
            .iter()
            .map(|r| Ok((r.opt_text("status")?, r.int("n")?)))
            .collect::<Result<Vec<_>>>()?;
        super::inbox_page(rows, &counts, q.status)
    }

    async fn household_inspections(
        &self,
        group: &str,
        household: sotay_domain::HouseholdId,
    ) -> Result<Vec<ExportRow>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "{EXPORT_SELECT} WHERE r.kind = 'inspection' AND r.group_id = $1
               AND (v.payload::jsonb ->> 'household_id') = $2"
        );
        let rows = client
            .query(&sql, &[&group, &household.0.hyphenated().to_string()])
            .await?;
        rows::all(&rows)
    }

    async fn groups(&self, scope: &Scope) -> Result<Vec<GroupRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&postgres_sql(rows::GROUPS_SQL), &[&scope.ward()])
            .await?;
        rows::all(&rows)
    }

    async fn wards(&self) -> Result<Vec<WardRow>> {
        let client = self.pool.get().await?;
        rows::all(&client.query(rows::WARDS_SQL, &[]).await?)
    }

    async fn blocks(&self, scope: &Scope) -> Result<Vec<BlockRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&postgres_sql(rows::BLOCKS_SQL), &[&scope.ward()])
            .await?;
        rows::all(&rows)
    }

    async fn announcements(&self, scope: &Scope) -> Result<Vec<AnnouncementRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&postgres_sql(rows::ANNOUNCEMENTS_SQL), &[&scope.ward()])
            .await?;
        rows::all(&rows)
    }

    async fn group_announcement_photo(&self, group: &str, sha256: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                &postgres_sql(rows::GROUP_ANNOUNCEMENT_PHOTO_SQL),
                &[&group, &sha256],
            )
            .await?;
        Ok(row.int("n")? > 0)
    }

    async fn announcement_readers(&self, id: &str) -> Result<Vec<AnnouncementReader>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&postgres_sql(rows::ANNOUNCEMENT_READERS_SQL), &[&id])
            .await?;
        rows::all(&rows)
    }

    async fn run_steps(&self, steps: &[Step]) -> Result<std::result::Result<(), usize>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Pull items become visible in `seq` order, as every other writer
        // of them ensures: a later seq committed first would let a pull's
        // cursor pass an earlier one for good.
        if steps.iter().any(|s| s.sql.contains("pull_items")) {
            tx.batch_execute("LOCK TABLE pull_items IN EXCLUSIVE MODE")
                .await?;
        }
        for (i, step) in steps.iter().enumerate() {
            let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = step
                .params
                .iter()
                .map(|v| -> &(dyn tokio_postgres::types::ToSql + Sync) {
                    match v {
                        Val::Text(s) => s,
                        Val::OptText(s) => s,
                        Val::Time(t) => t,
                        Val::Uuid(u) => u,
                        Val::Bool(b) => b,
                    }
                })
                .collect();
            let stmt = tx.prepare_cached(&postgres_sql(step.sql)).await?;
            let n = tx.execute(&stmt, &refs).await?;
            if !step.holds(n) {
                // Dropping the transaction rolls it back.
                return Ok(Err(i));
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn place_events(&self, scope: &Scope) -> Result<Vec<PlaceEventRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&postgres_sql(rows::PLACE_EVENTS_SQL), &[&scope.ward()])
            .await?;
        rows::all(&rows)
    }

    async fn group_codes(&self, group: &str) -> Result<Vec<(String, String)>> {
        let client = self.pool.get().await?;
        client
            .query(&postgres_sql(rows::GROUP_CODES_SQL), &[&group])
            .await?
            .iter()
            .map(|r| Ok((r.text("ward_code")?, r.text("code")?)))
            .collect()
    }

    async fn place_id_taken(&self, id: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(&postgres_sql(rows::PLACE_ID_TAKEN_SQL), &[&id])
            .await?;
        Ok(row.int("n")? > 0)
    }

    async fn campaigns(&self, scope: &Scope) -> Result<Vec<CampaignRow>> {
        let client = self.pool.get().await?;
        let campaigns = client
            .query(&postgres_sql(rows::CAMPAIGNS_SQL), &[&scope.ward()])
            .await?;
        let links = client
            .query(&postgres_sql(rows::CAMPAIGN_GROUPS_SQL), &[&scope.ward()])
            .await?
            .iter()
            .map(|r| Ok((r.text("campaign_id")?, r.text("group_id")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(rows::with_groups(rows::all(&campaigns)?, links))
    }

    async fn group_campaigns(
        &self,
        group: &str,
        ending_from: chrono::NaiveDate,
    ) -> Result<Vec<sotay_domain::campaign::Campaign>> {
        let client = self.pool.get().await?;
        client
            .query(
                &postgres_sql(rows::GROUP_CAMPAIGNS_SQL),
                &[&group, &ending_from.to_string()],
            )
            .await?
            .iter()
            .map(|r| rows::campaign_of(&r.text("body")?))
            .collect()
    }

    async fn registers(&self, groups: &[String]) -> Result<Vec<(String, String, String)>> {
        let client = self.pool.get().await?;
        client
            .query(
                "SELECT group_id, id, data FROM households
                 WHERE group_id = ANY($1) ORDER BY group_id, id",
                &[&groups],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text("group_id")?, r.text("id")?, r.text("data")?)))
            .collect()
    }

    async fn unfounded_tips(&self, groups: &[String]) -> Result<Vec<ReportId>> {
        let client = self.pool.get().await?;
        client
            .query(
                "SELECT d.report_id FROM tip_decisions d JOIN reports r ON r.id = d.report_id
                 WHERE d.status = 'unfounded' AND r.group_id = ANY($1)",
                &[&groups],
            )
            .await?
            .iter()
            .map(|r| Ok(ReportId(r.uuid("report_id")?)))
            .collect()
    }

    async fn group_reports(
        &self,
        groups: &[String],
        kind: ReportKind,
        received_from: Option<DateTime<Utc>>,
    ) -> Result<Vec<ExportRow>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "{EXPORT_SELECT} WHERE r.kind = $1 AND r.group_id = ANY($2)
               AND ($3::TIMESTAMPTZ IS NULL OR v.received_at >= $3)
             ORDER BY v.server_seq"
        );
        let rows = client
            .query(&sql, &[&kind.code(), &groups, &received_from])
            .await?;
        rows::all(&rows)
    }

    async fn household_rows(&self, group: &str) -> Result<Vec<(String, String)>> {
        let client = self.pool.get().await?;
        client
            .query(&postgres_sql(rows::HOUSEHOLD_ROWS_SQL), &[&group])
            .await?
            .iter()
            .map(|r| Ok((r.text("id")?, r.text("data")?)))
            .collect()
    }

    async fn report_revisions(&self, id: ReportId) -> Result<Vec<RevisionRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT rev, device_id, server_seq, received_at, payload
                 FROM report_revisions WHERE report_id = $1 ORDER BY rev",
                &[&id.0],
            )
            .await?;
        rows::all(&rows)
    }

    async fn tip_decisions(&self, report: ReportId) -> Result<Vec<TipDecision>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT seq, item FROM pull_items
                 WHERE item LIKE $1 AND (item::jsonb ->> 'report_id') = $2 ORDER BY seq",
                &[
                    &super::TIP_STATUS_PREFIX,
                    &report.0.hyphenated().to_string(),
                ],
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            out.extend(super::tip_decision(r.int("seq")?, &r.text("item")?)?);
        }
        Ok(out)
    }

    async fn import_households(
        &self,
        group: &str,
        households: &[sotay_domain::household::Household],
        now: DateTime<Utc>,
    ) -> Result<RegisterChange> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The same lock as add_pull_item: items become visible in seq order.
        tx.batch_execute("LOCK TABLE pull_items IN EXCLUSIVE MODE")
            .await?;
        let stored: HashMap<String, String> = tx
            .query(
                "SELECT id, data FROM households WHERE group_id = $1 FOR UPDATE",
                &[&group],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text("id")?, r.text("data")?)))
            .collect::<Result<_>>()?;
        let diff = register_diff(&stored, households)?;
        for (id, data) in &diff.upserts {
            tx.execute(
                "INSERT INTO households (id, group_id, data, imported_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id,
                   data = excluded.data, imported_at = excluded.imported_at",
                &[id, &group, data, &now],
            )
            .await?;
        }
        for id in &diff.removed {
            tx.execute("DELETE FROM households WHERE id = $1", &[id])
                .await?;
        }
        for item in &diff.items {
            tx.execute(
                "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
                 VALUES ($1, $2, NULL, $3)",
                &[&group, item, &now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(diff.change())
    }

    async fn household_counts(&self, scope: &Scope) -> Result<Vec<(String, u64)>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT h.group_id, COUNT(*) AS n FROM households h JOIN groups g ON g.id = h.group_id
                 WHERE $1::TEXT IS NULL OR g.ward_code = $1 GROUP BY h.group_id ORDER BY h.group_id",
                &[&scope.ward()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let n = u64::try_from(r.int("n")?).unwrap_or(0);
                Ok((r.text("group_id")?, n))
            })
            .collect()
    }

    async fn audit(&self, entry: &NewAudit) -> Result<()> {
        let client = self.pool.get().await?;
        write_audit(&client, Some(entry)).await?;
        Ok(())
    }

    async fn audit_log(&self, scope: &Scope, limit: u32) -> Result<Vec<AuditRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, at, username, action, target, detail, ward_code FROM audit_log
                 WHERE $2::TEXT IS NULL OR ward_code = $2 ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit), &scope.ward()],
            )
            .await?;
        rows::all(&rows)
    }

    async fn last_push_per_device(&self) -> Result<Vec<(DeviceId, DateTime<Utc>)>> {
        let client = self.pool.get().await?;
        // The later of the last stored change and the last call of any
        // kind: a sync with nothing to send is still a sync.
        let rows = client
            .query(
                "SELECT d.id, GREATEST(d.last_seen_at,
                                       (SELECT MAX(r.received_at) FROM report_revisions r
                                        WHERE r.device_id = d.id)) AS at
                 FROM devices d",
                &[],
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(at) = r.opt_time("at")? {
                out.push((DeviceId(r.uuid("id")?), at));
            }
        }
        Ok(out)
    }

    async fn ward_keys(&self) -> Result<Vec<WardKeyRow>> {
        let client = self.pool.get().await?;
        ward_key_rows(&client).await
    }

    async fn templates(&self) -> Result<Vec<ChecklistTemplate>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(super::TEMPLATES_SQL).await?;
        let rows = client.query(&stmt, &[]).await?;
        super::templates_of(rows.iter().map(|r| r.text("item")).collect::<Result<_>>()?)
    }

    async fn wards_without_key(&self) -> Result<Vec<String>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT code AS ward_code FROM wards
                 WHERE ended_at IS NULL AND code NOT IN (SELECT ward_code FROM ward_keys) ORDER BY code",
                &[],
            )
            .await?;
        rows.iter().map(|r| r.text("ward_code")).collect()
    }

    async fn add_ward_key(
        &self,
        key: &WardKeyRow,
        copies: &[KeyCopy],
        recovery: Option<&RecoveryRow>,
        audit: Option<&NewAudit>,
    ) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        if let Some(r) = recovery {
            tx.execute(
                "INSERT INTO ward_recovery (ward_code, public_key, wrapped, created_at)
                 VALUES ($1, $2, $3, $4)",
                &[&r.ward, &r.public_key, &r.wrapped, &r.created_at],
            )
            .await?;
        }
        tx.execute(
            "UPDATE ward_keys SET retired_at = $2 WHERE ward_code = $1 AND retired_at IS NULL",
            &[&key.ward, &key.created_at],
        )
        .await?;
        tx.execute(
            "INSERT INTO ward_keys (key_id, ward_code, public_key, created_at) VALUES ($1, $2, $3, $4)",
            &[&key.key_id, &key.ward, &key.public_key, &key.created_at],
        )
        .await?;
        for c in copies {
            tx.execute(
                "INSERT INTO ward_key_copies (key_id, holder, sealed) VALUES ($1, $2, $3)
                 ON CONFLICT (key_id, holder) DO UPDATE SET sealed = excluded.sealed",
                &[&c.key_id, &c.holder, &c.sealed],
            )
            .await?;
        }
        write_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn ward_recovery(&self, ward: &str) -> Result<Option<RecoveryRow>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT ward_code, public_key, wrapped, created_at FROM ward_recovery WHERE ward_code = $1",
                &[&ward],
            )
            .await?;
        row.as_ref().map(RecoveryRow::from_row).transpose()
    }

    async fn key_copies(&self, holder: &str) -> Result<Vec<KeyCopy>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT key_id, holder, sealed FROM ward_key_copies WHERE holder = $1 ORDER BY key_id",
                &[&holder],
            )
            .await?;
        rows::all(&rows)
    }

    async fn seal_clear_sources(&self) -> Result<usize> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let keys = super::current_keys(&ward_key_rows(&tx).await?)?;
        let rows = tx
            .query(
                &format!(
                    "SELECT v.server_seq, v.report_id, v.rev, v.payload, g.ward_code
                     FROM report_revisions v JOIN reports r ON r.id = v.report_id
                     JOIN groups g ON g.id = r.group_id
                     WHERE v.kind = 'tip' AND {}",
                    super::CLEAR_SOURCE_FILTER.replace("payload", "v.payload")
                ),
                &[],
            )
            .await?;
        let mut n = 0;
        for r in rows {
            let ward = r.text("ward_code")?;
            let Some(key) = keys.get(&ward) else { continue };
            let payload = r.text("payload")?;
            let rev = rev_of(r.int("rev")?)?;
            if let Some(sealed) =
                super::sealed_payload(&payload, &ward, ReportId(r.uuid("report_id")?), rev, key)?
            {
                let seq = r.int("server_seq")?;
                tx.execute(
                    "UPDATE report_revisions SET payload = $2 WHERE server_seq = $1",
                    &[&seq, &sealed],
                )
                .await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn add_officer(&self, o: &OfficerRow, audit: Option<&NewAudit>) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "INSERT INTO officers (username, password_hash, role, created_at, key_public, key_wrapped,
                                       must_change_password, ward_code)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
                &[&o.username, &o.password_hash, &o.role, &o.created_at, &o.key_public, &o.key_wrapped,
                  &o.must_change_password, &o.ward],
            )
            .await?;
        if n == 1 {
            write_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn officer(&self, username: &str) -> Result<Option<OfficerRow>> {
        Ok(self
            .officer_rows(Some(username), None)
            .await?
            .into_iter()
            .next())
    }

    async fn officers(&self, scope: &Scope) -> Result<Vec<OfficerRow>> {
        self.officer_rows(None, scope.ward()).await
    }

    async fn set_login_state(
        &self,
        username: &str,
        failed_logins: i64,
        locked_until: Option<DateTime<Utc>>,
        audit: Option<&NewAudit>,
    ) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE officers SET failed_logins = $1, locked_until = $2 WHERE username = $3",
                &[&failed_logins, &locked_until, &username],
            )
            .await?;
        if n == 1 {
            write_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_failed(
        &self,
        username: &str,
        allowed: i64,
        lock_until: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The UPDATE takes the row's lock: parallel failures queue here and
        // each sees the count the one before left.
        let failed: Option<i64> = tx
            .query_opt(
                "UPDATE officers SET failed_logins = failed_logins + 1 WHERE username = $1
                 RETURNING failed_logins",
                &[&username],
            )
            .await?
            .map(|r| r.int("failed_logins"))
            .transpose()?;
        let locked = failed.is_some_and(|n| n >= allowed);
        if locked {
            tx.execute(
                "UPDATE officers SET failed_logins = 0, locked_until = $2 WHERE username = $1",
                &[&username, &lock_until],
            )
            .await?;
            write_audit(&tx, Some(audit)).await?;
        }
        tx.commit().await?;
        Ok(locked.then_some(lock_until))
    }

    async fn deactivate_officer(
        &self,
        username: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE officers SET deactivated_at = COALESCE(deactivated_at, $1)
                 WHERE username = $2",
                &[&now, &username],
            )
            .await?;
        tx.execute(
            "DELETE FROM officer_sessions WHERE username = $1",
            &[&username],
        )
        .await?;
        // Gone with the account: the keys sealed to it.
        tx.execute(
            "UPDATE officers SET sees_sources = FALSE WHERE username = $1",
            &[&username],
        )
        .await?;
        tx.execute(
            "DELETE FROM ward_key_copies WHERE holder = $1",
            &[&crate::sources::officer_holder(username)],
        )
        .await?;
        if n == 1 {
            write_audit(&tx, audit).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "DELETE FROM officer_sessions WHERE expires_at < $1",
            &[&now],
        )
        .await?;
        tx.execute(
            "INSERT INTO officer_sessions (token_hash, username, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&token_hash, &username, &csrf, &now, &expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::TimeDelta,
    ) -> Result<Option<SessionRow>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The row lock: a parallel request waits for this one's mark.
        let row = tx
            .query_opt(
                "SELECT s.username, o.role, s.csrf, s.expires_at,
                        COALESCE(s.last_seen_at, s.created_at) AS last_seen, o.sees_sources,
                        o.must_change_password, o.ward_code, w.block_level, w.group_level
                 FROM officer_sessions s JOIN officers o ON o.username = s.username
                 LEFT JOIN wards w ON w.code = o.ward_code
                 WHERE s.token_hash = $1 AND o.deactivated_at IS NULL
                 FOR UPDATE OF s",
                &[&token_hash],
            )
            .await?;
        let found = row
            .as_ref()
            .map(|r| Ok::<_, StoreError>((SessionRow::from_row(r)?, r.time("last_seen")?)))
            .transpose()?;
        let live = found.filter(|(s, seen)| super::session_live(s.expires_at, *seen, now, idle));
        if live.is_some() {
            tx.execute(
                "UPDATE officer_sessions SET last_seen_at = $2 WHERE token_hash = $1",
                &[&token_hash, &now],
            )
            .await?;
        } else {
            // Ended for good: a later request with an earlier clock
            // reading must not revive it.
            tx.execute(
                "DELETE FROM officer_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(live.map(|(s, _)| s))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM officer_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        Ok(())
    }

    async fn set_officer_key(&self, username: &str, public_key: &str, wrapped: &str) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE officers SET key_public = $2, key_wrapped = $3 WHERE username = $1",
                &[&username, &public_key, &wrapped],
            )
            .await?;
        Ok(())
    }

    async fn set_source_access(
        &self,
        username: &str,
        grant: Option<&[KeyCopy]>,
        audit: Option<&NewAudit>,
    ) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE officers SET sees_sources = $2 WHERE username = $1",
                &[&username, &grant.is_some()],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        let holder = crate::sources::officer_holder(username);
        tx.execute("DELETE FROM ward_key_copies WHERE holder = $1", &[&holder])
            .await?;
        for c in grant.into_iter().flatten() {
            tx.execute(
                "INSERT INTO ward_key_copies (key_id, holder, sealed) VALUES ($1, $2, $3)",
                &[&c.key_id, &c.holder, &c.sealed],
            )
            .await?;
        }
        write_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_password(&self, c: &PasswordChange, audit: Option<&NewAudit>) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE officers SET password_hash = $2, key_public = $3, key_wrapped = $4,
                     failed_logins = 0, locked_until = NULL, must_change_password = $5
                 WHERE username = $1",
                &[
                    &c.username,
                    &c.password_hash,
                    &c.key_public,
                    &c.key_wrapped,
                    &c.reset,
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "DELETE FROM officer_sessions WHERE username = $1 AND token_hash IS DISTINCT FROM $2",
            &[&c.username, &c.keep_session],
        )
        .await?;
        if c.reset {
            tx.execute(
                "UPDATE officers SET sees_sources = FALSE WHERE username = $1",
                &[&c.username],
            )
            .await?;
            tx.execute(
                "DELETE FROM ward_key_copies WHERE holder = $1",
                &[&crate::sources::officer_holder(&c.username)],
            )
            .await?;
        }
        write_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl PgStore {
    async fn officer_rows(
        &self,
        username: Option<&str>,
        ward: Option<&str>,
    ) -> Result<Vec<OfficerRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT username, password_hash, role, created_at, failed_logins, locked_until,
                        deactivated_at, key_public, key_wrapped, sees_sources, must_change_password,
                        ward_code
                 FROM officers WHERE ($1::TEXT IS NULL OR username = $1)
                   AND ($2::TEXT IS NULL OR ward_code = $2)
                 ORDER BY username",
                &[&username, &ward],
            )
            .await?;
        rows::all(&rows)
    }
}

#[async_trait]
impl super::photos::PhotoStore for PgPhotos {
    async fn state(&self, sha256: &str) -> Result<super::photos::PhotoState> {
        use super::photos::PhotoState;
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT (SELECT length(data)::BIGINT FROM photos WHERE sha256 = $1) AS stored,
                        (SELECT MAX(start + length(data))::BIGINT FROM photo_parts WHERE sha256 = $1)
                          AS received",
                &[&sha256],
            )
            .await?;
        let (stored, part) = (row.opt_int("stored")?, row.opt_int("received")?);
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(match stored {
            Some(len) => PhotoState::Stored(n(len)),
            None => PhotoState::Partial(part.map_or(0, n)),
        })
    }

    async fn append(
        &self,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<std::result::Result<u64, super::photos::AppendRefusal>> {
        use super::photos::AppendRefusal;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stored = tx
            .query_opt("SELECT 1 FROM photos WHERE sha256 = $1", &[&sha256])
            .await?;
        if stored.is_some() {
            return Ok(Err(AppendRefusal::Stored));
        }
        // One upload of a photo at a time appends (a lock on its name for
        // the transaction), so a second sees where the first ended.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&sha256])
            .await?;
        let held = tx
            .query_one(
                "SELECT COALESCE(MAX(start + length(data)), 0)::BIGINT AS held
                 FROM photo_parts WHERE sha256 = $1",
                &[&sha256],
            )
            .await?
            .int("held")?;
        let held = u64::try_from(held).unwrap_or(0);
        if held != offset {
            return Ok(Err(AppendRefusal::Offset(held)));
        }
        let start = i64::try_from(held).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO photo_parts (sha256, start, data, added_at) VALUES ($1, $2, $3, now())",
            &[&sha256, &start, &bytes],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(held + bytes.len() as u64))
    }

    async fn finish(&self, sha256: &str) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&sha256])
            .await?;
        let pieces = tx
            .query(
                "SELECT data FROM photo_parts WHERE sha256 = $1 ORDER BY start",
                &[&sha256],
            )
            .await?;
        if pieces.is_empty() {
            return Ok(false);
        }
        let mut data: Vec<u8> = Vec::new();
        for p in &pieces {
            data.extend_from_slice(p.try_get::<_, &[u8]>("data")?);
        }
        tx.execute("DELETE FROM photo_parts WHERE sha256 = $1", &[&sha256])
            .await?;
        let ok = super::photos::sha256_hex(&data) == sha256;
        if ok {
            let (data, thumb) = tokio::task::spawn_blocking(move || {
                let thumb = super::photos::thumbnail(&data);
                (data, thumb)
            })
            .await?;
            tx.execute(
                "INSERT INTO photos (sha256, data, thumb, stored_at) VALUES ($1, $2, $3, now())
                 ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &data, &thumb],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ok)
    }

    async fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt("SELECT data FROM photos WHERE sha256 = $1", &[&sha256])
            .await?
            .and_then(|r| r.opt_bytes("data").transpose())
            .transpose()?)
    }

    async fn read_thumb(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt("SELECT thumb FROM photos WHERE sha256 = $1", &[&sha256])
            .await?
            .and_then(|r| r.opt_bytes("thumb").transpose())
            .transpose()?)
    }

    async fn list(&self) -> Result<Vec<(String, u64)>> {
        let client = self.pool.get().await?;
        Ok(client
            .query(
                "SELECT sha256, length(data)::BIGINT AS size FROM photos ORDER BY sha256",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.text("sha256")?,
                    u64::try_from(r.int("size")?).unwrap_or(0),
                ))
            })
            .collect::<Result<_>>()?)
    }
}
