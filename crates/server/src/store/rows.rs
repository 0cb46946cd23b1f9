//! A stored row, read by column name, the same way on both backends.
//!
//! Each type a store method returns is built from a row once, here
//! ([`FromRow`]); the backends differ only in how a column holds a value
//! (SQLite keeps times as RFC 3339 text and ids as hyphenated text,
//! PostgreSQL as `timestamptz` and `uuid`), which [`Cols`] hides. A column
//! that is missing or of the wrong type is an error, never a panic.

use super::{
    AnnouncementReader, AnnouncementRow, AuditRow, BlockRow, CampaignRow, DeviceRow, EnrollCodeRow,
    ExportRow, GroupRow, KeyCopy, OfficerRow, PlaceEventRow, RecoveryRow, Result, RevisionRow,
    SessionRow, StoreError, WardKeyRow, WardRow,
};
use chrono::{DateTime, Utc};
use sotay_domain::report::Receipt;
use sotay_domain::wire::DeviceId;
use sotay_domain::{DevicePlace, ReportId, ReportKind};
use tokio_postgres::types::Type;
use uuid::Uuid;

/// One row of a query, its columns read by name.
pub(crate) trait Cols {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn time(&self, col: &str) -> Result<DateTime<Utc>>;
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>>;
    fn uuid(&self, col: &str) -> Result<Uuid>;
    fn flag(&self, col: &str) -> Result<bool>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>>;
}

/// A type read from one row: the one mapping both backends use.
pub(crate) trait FromRow: Sized {
    fn from_row(r: &impl Cols) -> Result<Self>;
}

/// A report at its newest revision, as `export` and the dashboard read
/// it on both backends ([`ExportRow`]); callers add the `WHERE`.
pub(crate) const EXPORT_SELECT: &str =
    "SELECT r.id, r.kind, v.rev, r.group_id, v.device_id, v.server_seq,
        v.received_at, v.payload
 FROM reports r
 JOIN report_revisions v ON v.report_id = r.id AND v.rev = r.latest_rev";

// The place queries, the same text on both backends: `?N` parameters
// (PostgreSQL's `$N` by [`super::steps::postgres_sql`]), and a scope's ward
// as `CAST(?1 AS TEXT)` so that PostgreSQL knows a NULL's type.

/// The current groups of a scope ([`GroupRow`]).
pub(crate) const GROUPS_SQL: &str =
    "SELECT g.id, g.code, g.ward_code, g.name, g.block_id, b.code AS block_code, b.name AS block_name
 FROM groups g JOIN blocks b ON b.id = g.block_id
 WHERE g.ended_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR g.ward_code = ?1)
 ORDER BY g.ward_code, g.code";

/// The current blocks of a scope ([`BlockRow`]).
pub(crate) const BLOCKS_SQL: &str = "SELECT id, ward_code, code, name FROM blocks
 WHERE ended_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR ward_code = ?1) ORDER BY ward_code, code";

/// The announcements of a scope ([`AnnouncementRow`]), newest first.
pub(crate) const ANNOUNCEMENTS_SQL: &str = "SELECT a.id, a.ward_code, a.title, a.text, a.urgent,
        a.audience, a.created_at, a.created_by, a.photo,
        (SELECT COUNT(*) FROM announcement_groups ag JOIN devices d ON d.group_id = ag.group_id
          WHERE ag.announcement_id = a.id AND d.revoked_at IS NULL) AS devices,
        (SELECT COUNT(*) FROM announcement_reads r JOIN devices d ON d.id = r.device_id
          WHERE r.announcement_id = a.id AND d.revoked_at IS NULL) AS read
 FROM announcements a
 WHERE CAST(?1 AS TEXT) IS NULL OR a.ward_code = ?1
 ORDER BY a.created_at DESC, a.id DESC";

/// The campaigns of a scope, newest period first ([`CampaignRow`] but its
/// groups, which [`CAMPAIGN_GROUPS_SQL`] reads).
pub(crate) const CAMPAIGNS_SQL: &str = "SELECT id, ward_code, body, audience, created_at,
        created_by, cancelled_at, cancelled_by
 FROM campaigns WHERE CAST(?1 AS TEXT) IS NULL OR ward_code = ?1
 ORDER BY starts_on DESC, created_at DESC, id";

/// The current groups of a scope's campaigns: `(campaign_id, group_id)`.
pub(crate) const CAMPAIGN_GROUPS_SQL: &str = "SELECT cg.campaign_id, cg.group_id
 FROM campaign_groups cg
 JOIN campaigns c ON c.id = cg.campaign_id
 JOIN groups g ON g.id = cg.group_id AND g.ended_at IS NULL
 WHERE CAST(?1 AS TEXT) IS NULL OR c.ward_code = ?1
 ORDER BY cg.campaign_id, g.code";

/// One group's campaigns not called off, ending on or after a day.
pub(crate) const GROUP_CAMPAIGNS_SQL: &str = "SELECT c.body FROM campaigns c
 JOIN campaign_groups cg ON cg.campaign_id = c.id
 WHERE cg.group_id = ?1 AND c.cancelled_at IS NULL AND c.ends_on >= ?2
 ORDER BY c.starts_on, c.id";

/// How many announcements `?1` (a group) received that list photo `?2`.
pub(crate) const GROUP_ANNOUNCEMENT_PHOTO_SQL: &str = "SELECT COUNT(*) AS n FROM announcements a
 JOIN announcement_groups ag ON ag.announcement_id = a.id
 WHERE ag.group_id = ?1 AND a.photo_sha256 = ?2";

/// The devices an announcement reached ([`AnnouncementReader`]).
pub(crate) const ANNOUNCEMENT_READERS_SQL: &str = "SELECT d.id AS device_id, d.name AS device_name,
        ag.group_id, r.read_at
 FROM announcement_groups ag
 JOIN devices d ON d.group_id = ag.group_id AND d.revoked_at IS NULL
 LEFT JOIN announcement_reads r ON r.announcement_id = ag.announcement_id AND r.device_id = d.id
 WHERE ag.announcement_id = ?1
 ORDER BY r.read_at IS NOT NULL, ag.group_id, d.name";

/// Every ward ([`WardRow`]).
pub(crate) const WARDS_SQL: &str =
    "SELECT code, name, block_level, group_level, merged_into FROM wards ORDER BY code";

/// A group's place by its id ([`DevicePlace`]).
pub(crate) const GROUP_PLACE_SQL: &str =
    "SELECT g.ward_code, w.name AS ward_name, b.code AS block_code, b.name AS block_name, g.code, g.name
 FROM groups g JOIN blocks b ON b.id = g.block_id JOIN wards w ON w.code = g.ward_code
 WHERE g.id = ?1";

/// A scope's place changes, newest first ([`PlaceEventRow`]).
pub(crate) const PLACE_EVENTS_SQL: &str =
    "SELECT id, at, ward_code, kind, level, username, detail FROM place_events
 WHERE CAST(?1 AS TEXT) IS NULL OR ward_code = ?1 ORDER BY at DESC, id DESC";

/// Every code a group held, and those of the groups merged or split into it.
pub(crate) const GROUP_CODES_SQL: &str = "SELECT DISTINCT ward_code, code FROM place_names
 WHERE level = 'group' AND (place_id = ?1 OR place_id IN (
   SELECT b.place_id FROM place_event_links b
   JOIN place_event_links a ON a.event_id = b.event_id AND a.role = 'after' AND a.place_id = ?1
   WHERE b.role = 'before'))
 ORDER BY ward_code, code";

/// Whether a block or group ever had this id (every one has a name row).
pub(crate) const PLACE_ID_TAKEN_SQL: &str =
    "SELECT COUNT(*) AS n FROM place_names WHERE place_id = ?1 AND level <> 'ward'";

/// A group's register as stored.
pub(crate) const HOUSEHOLD_ROWS_SQL: &str =
    "SELECT id, data FROM households WHERE group_id = ?1 ORDER BY id";

/// A stored time, as the SQLite backend writes it.
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

pub(crate) fn parse_kind(s: &str) -> Result<ReportKind> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("report kind: {e}")))
}

pub(crate) fn rev_of(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("rev {v}")))
}

impl Cols for rusqlite::Row<'_> {
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.get(col)?)
    }
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.get(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.get(col)?)
    }
    fn time(&self, col: &str) -> Result<DateTime<Utc>> {
        parse_ts(&self.text(col)?)
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        self.opt_text(col)?.as_deref().map(parse_ts).transpose()
    }
    fn uuid(&self, col: &str) -> Result<Uuid> {
        parse_uuid(&self.text(col)?)
    }
    fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.get(col)?)
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.get(col)?)
    }
}

/// The PostgreSQL type of a column, by name.
fn pg_type<'a>(row: &'a tokio_postgres::Row, col: &str) -> Result<&'a Type> {
    row.columns()
        .iter()
        .find(|c| c.name() == col)
        .map(|c| c.type_())
        .ok_or_else(|| StoreError::Corrupt(format!("no column {col:?}")))
}

impl Cols for tokio_postgres::Row {
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is NULL")))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(match *pg_type(self, col)? {
            Type::INT2 => self.try_get::<_, Option<i16>>(col)?.map(i64::from),
            Type::INT4 => self.try_get::<_, Option<i32>>(col)?.map(i64::from),
            _ => self.try_get(col)?,
        })
    }
    fn time(&self, col: &str) -> Result<DateTime<Utc>> {
        Ok(self.try_get(col)?)
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(col)?)
    }
    fn uuid(&self, col: &str) -> Result<Uuid> {
        match *pg_type(self, col)? {
            Type::UUID => Ok(self.try_get(col)?),
            _ => parse_uuid(&self.text(col)?),
        }
    }
    fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.try_get(col)?)
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.try_get(col)?)
    }
}

/// Every row of a PostgreSQL answer as `T`.
pub(crate) fn all<T: FromRow>(rows: &[tokio_postgres::Row]) -> Result<Vec<T>> {
    rows.iter().map(T::from_row).collect()
}

/// Every row an SQLite statement answers, as `T`.
pub(crate) fn query_all<T: FromRow>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(T::from_row(r)?);
    }
    Ok(out)
}

/// The first row an SQLite statement answers, as `T`, if there is one.
pub(crate) fn query_opt<T: FromRow>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Option<T>> {
    let mut rows = stmt.query(params)?;
    rows.next()?.map(T::from_row).transpose()
}

/// A report at its newest revision: the columns of the export query both
/// backends run (`id, kind, rev, group_id, device_id, server_seq,
/// received_at, payload`).
impl FromRow for ExportRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(ExportRow {
            id: ReportId(r.uuid("id")?),
            kind: parse_kind(&r.text("kind")?)?,
            rev: rev_of(r.int("rev")?)?,
            group: r.text("group_id")?,
            device_id: DeviceId(r.uuid("device_id")?),
            receipt: Receipt::from_row(r)?,
            payload: super::parse_payload(&r.text("payload")?)?,
        })
    }
}

/// A revision's receipt: `server_seq, received_at`.
impl FromRow for Receipt {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(Receipt {
            server_seq: r.int("server_seq")?,
            received_at: r.time("received_at")?,
        })
    }
}

impl FromRow for RevisionRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(RevisionRow {
            rev: rev_of(r.int("rev")?)?,
            device_id: DeviceId(r.uuid("device_id")?),
            receipt: Receipt::from_row(r)?,
            payload: super::parse_payload(&r.text("payload")?)?,
        })
    }
}

/// A group's place, from `ward_code, ward_name, block_code, block_name,
/// code, name` of `groups`.
impl FromRow for DevicePlace {
    fn from_row(r: &impl Cols) -> Result<Self> {
        let names = [r.text("ward_name")?, r.text("block_name")?, r.text("name")?];
        DevicePlace::from_codes(
            &r.text("ward_code")?,
            &r.text("block_code")?,
            &r.text("code")?,
            names.each_ref().map(|n| Some(n.as_str())),
        )
        .map_err(|e| StoreError::Corrupt(format!("stored place: {e}")))
    }
}

impl FromRow for WardKeyRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(WardKeyRow {
            key_id: r.text("key_id")?,
            ward: r.text("ward_code")?,
            public_key: r.text("public_key")?,
            created_at: r.time("created_at")?,
            retired_at: r.opt_time("retired_at")?,
        })
    }
}

impl FromRow for EnrollCodeRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(EnrollCodeRow {
            id: r
                .text("code_hash")?
                .chars()
                .take(super::ENROLL_CODE_ID_LEN)
                .collect(),
            group: r.text("group_id")?,
            created_at: r.time("created_at")?,
            expires_at: r.time("expires_at")?,
            used_at: r.opt_time("used_at")?,
        })
    }
}

impl FromRow for DeviceRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(DeviceRow {
            id: DeviceId(r.uuid("id")?),
            name: r.text("name")?,
            group: r.text("group_id")?,
            enrolled_at: r.time("enrolled_at")?,
            revoked_at: r.opt_time("revoked_at")?,
            checkpoint: r.int("checkpoint")?,
            pending_at_last_seen: r.opt_int("pending_at_last_seen")?,
        })
    }
}

impl FromRow for GroupRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(GroupRow {
            id: r.text("id")?,
            code: r.text("code")?,
            ward_code: r.text("ward_code")?,
            name: r.text("name")?,
            block_id: r.text("block_id")?,
            block_code: r.text("block_code")?,
            block_name: r.text("block_name")?,
        })
    }
}

impl FromRow for AnnouncementRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(AnnouncementRow {
            id: r.text("id")?,
            ward_code: r.text("ward_code")?,
            title: r.text("title")?,
            text: r.text("text")?,
            urgent: r.flag("urgent")?,
            audience: r.text("audience")?,
            created_at: r.time("created_at")?,
            created_by: r.text("created_by")?,
            photo: r
                .opt_text("photo")?
                .map(|p| {
                    serde_json::from_str(&p)
                        .map_err(|e| StoreError::Corrupt(format!("announcement photo {p:?}: {e}")))
                })
                .transpose()?,
            devices: r.int("devices")?,
            read: r.int("read")?,
        })
    }
}

impl FromRow for CampaignRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(CampaignRow {
            campaign: campaign_of(&r.text("body")?)?,
            ward_code: r.text("ward_code")?,
            audience: r.text("audience")?,
            created_at: r.time("created_at")?,
            created_by: r.text("created_by")?,
            cancelled_at: r.opt_time("cancelled_at")?,
            cancelled_by: r.opt_text("cancelled_by")?,
            groups: Vec::new(),
        })
    }
}

/// Gives each campaign its groups, from `(campaign_id, group_id)` pairs.
pub(crate) fn with_groups(
    mut campaigns: Vec<CampaignRow>,
    links: Vec<(String, String)>,
) -> Vec<CampaignRow> {
    let mut by_campaign: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for (c, g) in links {
        by_campaign.entry(c).or_default().push(g);
    }
    for c in &mut campaigns {
        c.groups = by_campaign
            .remove(&c.campaign.id.to_string())
            .unwrap_or_default();
    }
    campaigns
}

/// A campaign's body as stored.
pub(crate) fn campaign_of(body: &str) -> Result<sotay_domain::campaign::Campaign> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("campaign {body:?}: {e}")))
}

impl FromRow for AnnouncementReader {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(AnnouncementReader {
            device_id: r.uuid("device_id")?,
            device_name: r.text("device_name")?,
            group_id: r.text("group_id")?,
            read_at: r.opt_time("read_at")?,
        })
    }
}

impl FromRow for BlockRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(BlockRow {
            id: r.text("id")?,
            ward_code: r.text("ward_code")?,
            code: r.text("code")?,
            name: r.text("name")?,
        })
    }
}

impl FromRow for WardRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(WardRow {
            code: r.text("code")?,
            name: r.text("name")?,
            block_level: r.text("block_level")?,
            group_level: r.text("group_level")?,
            merged_into: r.opt_text("merged_into")?,
        })
    }
}

impl FromRow for PlaceEventRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(PlaceEventRow {
            id: r.text("id")?,
            at: r.time("at")?,
            ward_code: r.text("ward_code")?,
            kind: r.text("kind")?,
            level: r.text("level")?,
            username: r.text("username")?,
            detail: r.text("detail")?,
        })
    }
}

impl FromRow for AuditRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(AuditRow {
            ward: r.opt_text("ward_code")?,
            id: r.int("id")?,
            at: r.time("at")?,
            username: r.text("username")?,
            action: r.text("action")?,
            target: r.text("target")?,
            detail: r.text("detail")?,
        })
    }
}

impl FromRow for RecoveryRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(RecoveryRow {
            ward: r.text("ward_code")?,
            public_key: r.text("public_key")?,
            wrapped: r.text("wrapped")?,
            created_at: r.time("created_at")?,
        })
    }
}

impl FromRow for KeyCopy {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(KeyCopy {
            key_id: r.text("key_id")?,
            holder: r.text("holder")?,
            sealed: r.text("sealed")?,
        })
    }
}

impl FromRow for SessionRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(SessionRow {
            username: r.text("username")?,
            role: r.text("role")?,
            csrf: r.text("csrf")?,
            expires_at: r.time("expires_at")?,
            sees_sources: r.flag("sees_sources")?,
            must_change_password: r.flag("must_change_password")?,
            ward: r.opt_text("ward_code")?,
            levels: r.opt_text("block_level")?.zip(r.opt_text("group_level")?),
        })
    }
}

impl FromRow for OfficerRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(OfficerRow {
            username: r.text("username")?,
            password_hash: r.text("password_hash")?,
            role: r.text("role")?,
            created_at: r.time("created_at")?,
            failed_logins: r.int("failed_logins")?,
            locked_until: r.opt_time("locked_until")?,
            deactivated_at: r.opt_time("deactivated_at")?,
            key_public: r.opt_text("key_public")?,
            key_wrapped: r.opt_text("key_wrapped")?,
            sees_sources: r.flag("sees_sources")?,
            must_change_password: r.flag("must_change_password")?,
            ward: r.opt_text("ward_code")?,
        })
    }
}

/// A tip in the inbox: an export row and the ward's latest decision
/// (`status`, `note`).
impl FromRow for super::InboxRow {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(super::InboxRow {
            report: ExportRow::from_row(r)?,
            status: r
                .opt_text("status")?
                .as_deref()
                .map(super::parse_ward_status)
                .transpose()?,
            note: r.opt_text("note")?,
        })
    }
}

/// A device's token looked up: `id, group_id, group_code, revoked_at, ward_code`.
impl FromRow for super::TokenLookup {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(match r.opt_time("revoked_at")? {
            Some(_) => super::TokenLookup::Revoked,
            None => super::TokenLookup::Active(super::DeviceAuth {
                device_id: DeviceId(r.uuid("id")?),
                group: r.text("group_id")?,
                group_code: r.text("group_code")?,
                former_places: Vec::new(),
                ward: r.text("ward_code")?,
            }),
        })
    }
}

/// An enrollment code as stored: `group_id, expires_at, used_at`.
pub(crate) struct StoredEnrollCode {
    group: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

impl FromRow for StoredEnrollCode {
    fn from_row(r: &impl Cols) -> Result<Self> {
        Ok(StoredEnrollCode {
            group: r.text("group_id")?,
            expires_at: r.time("expires_at")?,
            used_at: r.opt_time("used_at")?,
        })
    }
}

impl StoredEnrollCode {
    /// The group a device enrolls into with this code at `now`, or why it
    /// cannot: a code is used once, before it expires.
    pub(crate) fn redeem(
        code: Option<Self>,
        now: DateTime<Utc>,
    ) -> std::result::Result<String, super::EnrollRefusal> {
        use super::EnrollRefusal;
        let code = code.ok_or(EnrollRefusal::Unknown)?;
        if code.used_at.is_some() {
            return Err(EnrollRefusal::Used);
        }
        if code.expires_at <= now {
            return Err(EnrollRefusal::Expired);
        }
        Ok(code.group)
    }
}
