//! Storage: three narrow traits by job ([`SyncStore`], [`WardStore`],
//! [`AccountStore`]; [`Store`] is all three), and their two
//! implementations, embedded SQLite ([`sqlite`]) and PostgreSQL
//! ([`postgres`]). The push is decided once for both, in `push`.
//!
//! Architecture invariant: everything that must be atomic happens inside
//! one call of these traits, in one database transaction. In particular
//! [`SyncStore::push`] writes a batch's revisions, its rejections and the
//! device's checkpoint together, so the checkpoint can never run ahead of
//! the data (pouchdb #1240) and a retried change finds its first receipt.
//!
//! Each backend keeps its own append-only migrations under
//! `migrations/<backend>/`; a shipped migration is never edited.

pub mod pg_connect;
pub mod photos;
pub mod postgres;
mod push;
mod rows;
pub mod sqlite;
pub mod steps;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sotay_domain::inspection::ChecklistTemplate;
use sotay_domain::report::Receipt;
use sotay_domain::wire::{Change, DeviceId, PullItem, PullResponse, RejectionCode, WardStatus};
use sotay_domain::{DevicePlace, ReportId, ReportKind};
use std::sync::Arc;

/// Why a storage call failed. Never shown to a client as is: the HTTP layer
/// turns it into a 500 with a generic message and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("unsupported database URL {0:?}: expected a file path, sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("PostgreSQL TLS: {0}")]
    PgTls(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Migration(#[from] sotay_domain::migrations::MigrationError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One group of a ward to create, with its block.
#[derive(Debug, Clone)]
pub struct GroupSeed {
    pub place: DevicePlace,
}

/// Which wards a reader sees: one ward (its officers, its admin commands)
/// or every ward, read-only (the province). Every listing the dashboard
/// and the admin commands read takes one, and filters by it in SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Province,
    Ward(String),
}

impl Scope {
    /// The ward to filter by; `None` for every ward (bound as SQL NULL).
    pub fn ward(&self) -> Option<&str> {
        match self {
            Scope::Province => None,
            Scope::Ward(w) => Some(w),
        }
    }

    /// Whether something of `ward` is visible in this scope.
    pub fn sees(&self, ward: &str) -> bool {
        self.ward().is_none_or(|w| w == ward)
    }
}

/// A ward: a tenant of the server. Its code is the official one (stable
/// for the unit's life, never reused); `block_level` and `group_level` are
/// what its levels are called there (khối or khu phố, tổ or tổ dân phố).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardRow {
    pub code: String,
    pub name: String,
    pub block_level: String,
    pub group_level: String,
    /// Set once the ward merged into another (`admin ward merge`): it is
    /// kept for history, and no command acts on it any more.
    pub merged_into: Option<String>,
}

/// A block of a ward as it is today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRow {
    /// Stable internal id: survives renames.
    pub id: String,
    pub ward_code: String,
    pub code: String,
    pub name: String,
}

/// An announcement as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementRow {
    pub id: String,
    pub ward_code: String,
    pub title: String,
    pub text: String,
    pub urgent: bool,
    /// What it was sent to, as the sender said it (`ward`, `block:k01`, …).
    pub audience: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Its photo, if it has one.
    pub photo: Option<sotay_domain::photo::PhotoRef>,
    /// Active devices of its groups.
    pub devices: i64,
    /// Of those, the ones whose leader read it.
    pub read: i64,
}

/// A campaign as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    pub campaign: sotay_domain::campaign::Campaign,
    pub ward_code: String,
    /// What it was set for, as the officer said it (`ward`, `block:k01`, …).
    pub audience: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Set when an officer called it off; devices drop it at their next sync.
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    /// Its current groups (internal ids): those it was set for, or the
    /// groups they were merged or split into since.
    pub groups: Vec<String>,
}

/// A device an announcement reached, and when its leader read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementReader {
    pub device_id: uuid::Uuid,
    pub device_name: String,
    pub group_id: String,
    pub read_at: Option<DateTime<Utc>>,
}

/// A merge, split or rename of a ward's groups or blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceEventRow {
    pub id: String,
    pub at: DateTime<Utc>,
    pub ward_code: String,
    /// `merge`, `split` or `rename`.
    pub kind: String,
    /// `group` or `block`.
    pub level: String,
    pub username: String,
    /// What it was, in words: "k01-t01, k01-t02 → k01-t02".
    pub detail: String,
}

/// An enrollment code as an admin sees it: never the code itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollCodeRow {
    /// The first 12 hex digits of the code's hash.
    pub id: String,
    pub group: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The id of an enrollment code's row: its hash's first 12 hex digits.
pub(crate) const ENROLL_CODE_ID_LEN: usize = 12;

/// What a bearer token resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLookup {
    Active(DeviceAuth),
    Revoked,
    Unknown,
}

/// An authenticated device and the group it may read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    pub device_id: DeviceId,
    /// The group's internal id.
    pub group: String,
    /// The group's official code today (a count's id is derived from it).
    pub group_code: String,
    /// The `(ward, code)` pairs the group (or a group merged into it) held
    /// before a rename, merge or ward merge, filled in by the push handler
    /// when a batch needs them (a count, or a source sealed under another
    /// ward); a count under an id derived from one of them, or a source
    /// sealed to a ward the group belonged to, is accepted from a device
    /// that has not yet heard of the change.
    pub former_places: Vec<(String, String)>,
    /// The ward of the device's group: its tips are sealed to this ward's key.
    pub ward: String,
}

/// Why an enrollment code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollRefusal {
    /// No such code (mistyped, guessed, or never issued).
    Unknown,
    /// The code was used already: codes work once.
    Used,
    Expired,
}

/// A device to create when its code is redeemed.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub name: String,
    pub token_hash: String,
}

/// One change of a push with the verdict of the domain rules on it, made
/// before storage (see [`crate::ingest`]). A change whose JSON did not even
/// parse keeps its identity (report id, sequence number, rev) so that its
/// rejection is recorded and the checkpoint can move past it. The store
/// still decides ownership and idempotency: a change already stored is
/// accepted with its first receipt even if the rules have since become
/// stricter.
#[derive(Debug, Clone)]
pub struct CheckedChange {
    pub report_id: ReportId,
    pub device_seq: i64,
    pub rev: u32,
    pub verdict: Result<Change, Rejection>,
}

/// A refusal with a stable code, sent back as `{code, message}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub code: RejectionCode,
    pub message: String,
    /// The rules broken, for `invalid`.
    pub fields: Vec<sotay_domain::validation::FieldError>,
}

impl Rejection {
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

/// What the store made of one change.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted(Receipt),
    Rejected(Rejection),
}

/// The result of a push, in request order, and the device's checkpoint
/// after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub outcomes: Vec<Outcome>,
    pub checkpoint: i64,
}

/// An enrolled device, for `admin devices`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub name: String,
    pub group: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub checkpoint: i64,
    /// Changes the device said were still waiting on it at its last pull.
    pub pending_at_last_seen: Option<i64>,
}

/// A report at its newest revision, for `admin export`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportRow {
    pub id: ReportId,
    pub kind: ReportKind,
    pub rev: u32,
    pub group: String,
    pub device_id: DeviceId,
    pub receipt: Receipt,
    pub payload: serde_json::Value,
}

/// Which tips the dashboard's inbox lists: every field narrows, `None`
/// means "any". Applied in SQL ([`WardStore::tip_inbox`]), so the inbox never
/// reads more than one page of tips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TipQuery {
    /// The ward whose tips are listed; `None`: every ward (the province).
    pub ward: Option<String>,
    pub category: Option<sotay_domain::tip::TipCategory>,
    /// `Some(None)`: tips the ward has not decided on yet ("new").
    pub status: Option<Option<WardStatus>>,
    pub urgency: Option<sotay_domain::tip::Urgency>,
    /// A block's internal id.
    pub block: Option<String>,
    /// A group's internal id.
    pub group: Option<String>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received strictly before.
    pub received_before: Option<DateTime<Utc>>,
}

impl TipQuery {
    /// The status filter as the one text parameter both backends bind:
    /// `None` = any, `new` = undecided, else a ward status code.
    pub(crate) fn status_param(&self) -> Option<&'static str> {
        self.status.map(|s| s.map_or("new", |s| s.code()))
    }
}

/// One tip in the inbox: its newest revision and the ward's latest decision.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub report: ExportRow,
    pub status: Option<WardStatus>,
    pub note: Option<String>,
}

/// One page of the inbox, newest first, and what the whole query holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    /// Tips matching the whole query.
    pub total: u64,
    /// Tips matching every filter but the status, per status (`None` =
    /// new): how the filtered tips divide.
    pub by_status: Vec<(Option<WardStatus>, u64)>,
}

/// A report's owner, for decisions made about it centrally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOwner {
    /// The group it counts in today (internal id).
    pub group: String,
    /// The group it was recorded under (internal id), which never changes:
    /// the same as `group` unless a merge, split or `admin report move`
    /// took it elsewhere.
    pub recorded_group: String,
    /// That group's ward.
    pub ward: String,
    pub kind: ReportKind,
}

/// A group with its block, for the dashboard's per-group and per-block
/// figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// Stable internal id: survives renames; what every other table names.
    pub id: String,
    /// The official code today, unique among the ward's current groups.
    pub code: String,
    /// The ward the group is in.
    pub ward_code: String,
    pub name: String,
    pub block_id: String,
    pub block_code: String,
    pub block_name: String,
}

/// One stored revision of a report, for the dashboard's detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionRow {
    pub rev: u32,
    pub device_id: DeviceId,
    pub receipt: Receipt,
    pub payload: serde_json::Value,
}

/// A decision on a tip, read back from the pull items devices receive, so
/// the dashboard shows exactly what the leaders' devices were sent.
#[derive(Debug, Clone, PartialEq)]
pub struct TipDecision {
    pub seq: i64,
    pub report_id: ReportId,
    pub status: sotay_domain::wire::WardStatus,
    pub note: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// An officer account of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerRow {
    pub username: String,
    /// Argon2id PHC string; never leaves the server.
    pub password_hash: String,
    /// `officer` or `admin`.
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    /// Set when an admin deactivated the account: it can no longer log in
    /// and its sessions are gone; kept so the audit log still names it.
    pub deactivated_at: Option<DateTime<Utc>>,
    /// The officer's X25519 public key (base64), once they have one.
    pub key_public: Option<String>,
    /// The officer's secret key wrapped under their password.
    pub key_wrapped: Option<String>,
    /// The "see sources" (nguồn tin) permission.
    pub sees_sources: bool,
    /// The password was set by someone else (at creation or by a reset):
    /// the officer must choose their own before using the dashboard.
    pub must_change_password: bool,
    /// The officer's ward; `None`: the province (read-only, every ward).
    pub ward: Option<String>,
}

/// A ward's source key: its public half and id. The secret half is only
/// ever stored sealed to its holders ([`KeyCopy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardKeyRow {
    pub key_id: String,
    pub ward: String,
    /// X25519, base64.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    /// When a newer key replaced it for new tips; `None` for the current one.
    pub retired_at: Option<DateTime<Utc>>,
}

/// The ward's recovery identity: a key pair whose secret half is wrapped
/// under the recovery passphrase printed once at the ward's creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRow {
    pub ward: String,
    pub public_key: String,
    pub wrapped: String,
    pub created_at: DateTime<Utc>,
}

/// A new password for an officer, with their key wrapped under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChange {
    pub username: String,
    pub password_hash: String,
    pub key_public: String,
    pub key_wrapped: String,
    /// The session that made the change stays; every other one ends.
    pub keep_session: Option<String>,
    /// An admin's reset (a new key pair) rather than the officer's change;
    /// it also makes the officer choose their own password at the next
    /// login, which the officer's own change clears.
    pub reset: bool,
}

/// One ward key's secret sealed to one holder (`officer:USERNAME` or
/// `recovery:WARD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCopy {
    pub key_id: String,
    pub holder: String,
    pub sealed: String,
}

/// A live dashboard session, joined with its officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub role: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    /// The officer holds the "see sources" permission.
    pub sees_sources: bool,
    /// The officer must choose their own password before anything else.
    pub must_change_password: bool,
    /// The officer's ward; `None`: the province.
    pub ward: Option<String>,
    /// What the officer's ward calls its blocks and groups ("Khu phố",
    /// "Tổ dân phố"); `None` for the province.
    pub levels: Option<(String, String)>,
}

/// Whether a session is still live at `now`: before its end and used
/// less than `idle` ago. Both backends decide by this, in the transaction
/// that then marks it used or deletes it.
pub(crate) fn session_live(
    expires_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    now: DateTime<Utc>,
    idle: chrono::TimeDelta,
) -> bool {
    now < expires_at && now < last_seen + idle
}

/// An audit entry to write together with another change (see
/// [`WardStore::add_pull_item`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub username: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    /// The ward the action concerns (its audit log lists it); `None` for
    /// what concerns the whole server.
    pub ward: Option<String>,
}

/// One officer action, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub ward: Option<String>,
    pub id: i64,
    pub at: DateTime<Utc>,
    pub username: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The storage of the sync server, as three narrow traits by job. Each
/// method is one use case and one transaction, so the two backends cannot
/// drift in what they promise, and the shared test suite can pin it.
/// [`Store`] is all three, for the one handle the server holds.
/// The published templates among pull items: what both backends select
/// with [`TEMPLATES_SQL`].
pub(crate) const TEMPLATES_SQL: &str =
    "SELECT item FROM pull_items WHERE dedupe_key LIKE 'template/%' ORDER BY seq";

pub(crate) fn templates_of(items: Vec<String>) -> Result<Vec<ChecklistTemplate>> {
    items
        .iter()
        .map(|json| match serde_json::from_str(json) {
            Ok(PullItem::Template { template }) => Ok(template),
            Ok(_) => Err(StoreError::Corrupt("a template key on another item".into())),
            Err(e) => Err(StoreError::Corrupt(format!("template: {e}"))),
        })
        .collect()
}

pub trait Store: SyncStore + WardStore + AccountStore {}

impl<T: SyncStore + WardStore + AccountStore> Store for T {}

/// What devices reach: enrollment, their token, push, pull and photos.
/// Used by [`crate::api`]; pinned by `tests/suite.rs` on both backends.
#[async_trait]
pub trait SyncStore: Send + Sync + 'static {
    /// Which backend this is, for logs and `server-info`.
    fn backend(&self) -> &'static str;

    /// Redeems a code and creates the device, atomically: two devices can
    /// never redeem one code.
    async fn enroll(
        &self,
        code_hash: &str,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Result<DevicePlace, EnrollRefusal>>;

    /// Resolves a bearer token's hash.
    async fn authenticate(&self, token_hash: &str) -> Result<TokenLookup>;

    /// Stores a batch: each change atomically on its own, in order, and the
    /// device's checkpoint with them. `now` is the receipt time.
    async fn push(
        &self,
        device: &DeviceAuth,
        changes: Vec<CheckedChange>,
        now: DateTime<Utc>,
    ) -> Result<PushOutcome>;

    /// What changed centrally for `group` after `since`, in server order.
    async fn pull(&self, group: &str, since: i64, limit: u32) -> Result<PullResponse>;

    /// Where this store keeps photos.
    fn photos(&self) -> &dyn photos::PhotoStore;

    /// The reports that list a photo, with their groups: a device may send
    /// a photo only when a report of its group lists it.
    async fn photo_reports(&self, sha256: &str) -> Result<Vec<(ReportId, String)>>;

    /// Records that a device was in touch (it pulled: every sync ends so),
    /// and how many changes it said were still waiting on it.
    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        pending: Option<i64>,
    ) -> Result<()>;

    /// This server's id (made once with its database).
    async fn server_id(&self) -> Result<String>;
}

/// The ward's administration and its dashboard: places, enrollment codes,
/// devices, the register, the ward's decisions, exports, the audit log and
/// the source keys. Used by [`crate::admin`] and [`crate::dashboard`];
/// pinned by `tests/dashboard.rs` and `tests/suite.rs` on both backends.
#[async_trait]
pub trait WardStore: Send + Sync + 'static {
    /// Creates (or renames) groups with their blocks and ward; idempotent.
    /// A group is found by its ward and its current code.
    async fn seed_groups(&self, groups: &[GroupSeed], audit: Option<&NewAudit>) -> Result<usize> {
        crate::places::seed(self, groups, audit).await
    }

    /// Every ward, by code.
    async fn wards(&self) -> Result<Vec<WardRow>>;

    /// The current blocks in `scope`, by ward and code.
    async fn blocks(&self, scope: &Scope) -> Result<Vec<BlockRow>>;

    /// Runs `steps` in one transaction, in order; if a step changes a
    /// number of rows other than it expects, nothing is kept and the
    /// step's index is returned (someone changed the same places first).
    async fn run_steps(&self, steps: &[steps::Step]) -> Result<std::result::Result<(), usize>>;

    /// The merges, splits and renames in `scope`, newest first.
    async fn place_events(&self, scope: &Scope) -> Result<Vec<PlaceEventRow>>;

    /// The announcements sent in `scope`, newest first, with how many
    /// devices they reached and how many of those read them.
    async fn announcements(&self, scope: &Scope) -> Result<Vec<AnnouncementRow>>;

    /// The devices of an announcement's groups (revoked ones aside), each
    /// with when it was read there, unread ones first.
    async fn announcement_readers(&self, id: &str) -> Result<Vec<AnnouncementReader>>;

    /// The campaigns of `scope`, newest period first, each with its
    /// current groups.
    async fn campaigns(&self, scope: &Scope) -> Result<Vec<CampaignRow>>;

    /// The campaigns of one group not called off that end on or after
    /// `ending_from`, by start.
    async fn group_campaigns(
        &self,
        group: &str,
        ending_from: chrono::NaiveDate,
    ) -> Result<Vec<sotay_domain::campaign::Campaign>>;

    /// The registers of `groups`: `(group id, household id, JSON)`.
    async fn registers(&self, groups: &[String]) -> Result<Vec<(String, String, String)>>;

    /// The tips of `groups` the ward judged unfounded (their latest
    /// decision): they count toward no campaign.
    async fn unfounded_tips(&self, groups: &[String]) -> Result<Vec<ReportId>>;

    /// The reports of one kind of `groups` at their newest revision,
    /// received at or after `received_from` when given, in receipt order.
    async fn group_reports(
        &self,
        groups: &[String],
        kind: ReportKind,
        received_from: Option<DateTime<Utc>>,
    ) -> Result<Vec<ExportRow>>;

    /// Whether an announcement that `group` received lists photo
    /// `sha256`: the one photo a device may fetch.
    async fn group_announcement_photo(&self, group: &str, sha256: &str) -> Result<bool>;

    /// Every code a group held, and every code of the groups merged or
    /// split into it (a device that has not yet heard of a change still
    /// derives a count's id from the old code).
    async fn group_codes(&self, group: &str) -> Result<Vec<(String, String)>>;

    /// Whether any block or group, current or ended, has `id` as its id.
    async fn place_id_taken(&self, id: &str) -> Result<bool>;

    /// A group's register as stored: `(household id, JSON)`.
    async fn household_rows(&self, group: &str) -> Result<Vec<(String, String)>>;

    /// The place of a group, if it exists.
    async fn group_place(&self, group: &str) -> Result<Option<DevicePlace>>;

    /// Records a new one-time enrollment code (its hash only).
    async fn create_enroll_code(
        &self,
        code_hash: &str,
        group: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Every enrollment code issued, newest first (only its hash is kept:
    /// the row's id is the hash's first 12 hex digits).
    async fn enroll_codes(&self, scope: &Scope) -> Result<Vec<EnrollCodeRow>>;

    /// Ends an unused code now (it can no longer enroll anyone), with
    /// `audit` in the same transaction; `false` when no unused code has
    /// this id.
    async fn revoke_enroll_code(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool>;

    /// Adds something for devices to pull: for one group, or for every
    /// group when `group` is `None`. With a `dedupe_key` already used,
    /// nothing is added and `None` is returned. With `audit`, the audit
    /// entry is written in the same transaction, so an officer's decision
    /// is never sent to devices without its trace in the log (nor logged
    /// without being sent); when nothing is added, nothing is logged.
    async fn add_pull_item(
        &self,
        group: Option<&str>,
        item: &PullItem,
        dedupe_key: Option<&str>,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<Option<i64>>;

    /// Every checklist template version published
    /// ([`crate::admin::publish_template`]), oldest first.
    async fn templates(&self) -> Result<Vec<ChecklistTemplate>>;

    /// Who owns a report, if it was ever stored.
    async fn report_owner(&self, id: ReportId) -> Result<Option<ReportOwner>>;

    /// Moves a report stored under the wrong group to `group`, with
    /// `audit`, in one transaction; `false` when there is no such report.
    /// The group's devices may then revise it, the old group's may not.
    async fn move_report(&self, id: ReportId, group: &str, audit: &NewAudit) -> Result<bool>;

    /// Deletes a report with every revision and its ward decision, with
    /// `audit`, in one transaction; `false` when there is no such report.
    async fn delete_report(&self, id: ReportId, audit: &NewAudit) -> Result<bool>;

    /// The group whose register (loaded centrally) holds a household.
    async fn household_group(&self, household: sotay_domain::HouseholdId)
    -> Result<Option<String>>;

    async fn devices(&self, scope: &Scope) -> Result<Vec<DeviceRow>>;

    /// Revokes a device; `false` when there is no such device.
    /// With `audit`, the entry is written in the same transaction (as for
    /// every administrative change below): never a change without its
    /// trace, nor a trace of a change that did not happen.
    async fn revoke(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool>;

    /// Every report at its newest revision, optionally of one kind, in
    /// receipt order.
    async fn export(&self, scope: &Scope, kind: Option<ReportKind>) -> Result<Vec<ExportRow>>;

    /// The current groups in `scope` with their blocks, by ward and code.
    async fn groups(&self, scope: &Scope) -> Result<Vec<GroupRow>>;

    /// Every stored revision of one report, oldest first.
    async fn report_revisions(&self, id: ReportId) -> Result<Vec<RevisionRow>>;

    /// Every decision on one tip ever sent to devices, in server order.
    async fn tip_decisions(&self, report: ReportId) -> Result<Vec<TipDecision>>;

    /// One page of the inbox: the tips matching `query`, newest received
    /// first (ties by id), `limit` of them from `offset`, with the
    /// query's total and its split by status.
    async fn tip_inbox(&self, query: &TipQuery, offset: u64, limit: u32) -> Result<InboxPage>;

    /// The inspections (newest revision) of one household of one group,
    /// newest first.
    async fn household_inspections(
        &self,
        group: &str,
        household: sotay_domain::HouseholdId,
    ) -> Result<Vec<ExportRow>>;

    /// Appends to the audit log.
    async fn audit(&self, entry: &NewAudit) -> Result<()>;

    /// The newest `limit` audit entries, newest first.
    async fn audit_log(&self, scope: &Scope, limit: u32) -> Result<Vec<AuditRow>>;

    /// Replaces a group's register with `households`, in one transaction:
    /// new and changed households are stored and published to the group's
    /// devices ([`PullItem::Household`]), households absent from the new
    /// register are deleted and their removal published
    /// ([`PullItem::HouseholdRemoved`]). Unchanged households publish
    /// nothing, so loading the same file twice sends nothing new.
    async fn import_households(
        &self,
        group: &str,
        households: &[sotay_domain::household::Household],
        now: DateTime<Utc>,
    ) -> Result<RegisterChange>;

    /// Registered households per group, for groups with a register.
    async fn household_counts(&self, scope: &Scope) -> Result<Vec<(String, u64)>>;

    /// When each device last pushed a stored revision (devices that never
    /// pushed are absent). Pulls leave no trace, so this is the last sync
    /// that carried data.
    async fn last_push_per_device(&self) -> Result<Vec<(DeviceId, DateTime<Utc>)>>;

    /// Every source key of every ward, oldest first.
    async fn ward_keys(&self) -> Result<Vec<WardKeyRow>>;

    /// Wards (of the groups table) that have no source key yet.
    async fn wards_without_key(&self) -> Result<Vec<String>>;

    /// Adds a ward's new current source key with its sealed copies (and,
    /// for a new ward, its recovery identity), retiring the ward's previous
    /// key, in one transaction with `audit`.
    async fn add_ward_key(
        &self,
        key: &WardKeyRow,
        copies: &[KeyCopy],
        recovery: Option<&RecoveryRow>,
        audit: Option<&NewAudit>,
    ) -> Result<()>;

    async fn ward_recovery(&self, ward: &str) -> Result<Option<RecoveryRow>>;

    /// Every ward key sealed to `holder`.
    async fn key_copies(&self, holder: &str) -> Result<Vec<KeyCopy>>;

    /// Seals every clear source still stored in a revision (written by a
    /// version before sealing) with its ward's current key, and returns how
    /// many revisions changed. Revisions of a ward without a key stay as
    /// they are (the server refuses to serve while one exists).
    async fn seal_clear_sources(&self) -> Result<usize>;
}

/// Officer accounts and their sessions: logins, lock-outs, passwords and
/// the officers' keys. Used by [`crate::auth`]; pinned by
/// `tests/dashboard.rs` on both backends.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an officer; `false` when the username is taken.
    async fn add_officer(&self, officer: &OfficerRow, audit: Option<&NewAudit>) -> Result<bool>;

    async fn officer(&self, username: &str) -> Result<Option<OfficerRow>>;

    async fn officers(&self, scope: &Scope) -> Result<Vec<OfficerRow>>;

    /// Deactivates an officer and ends their sessions, in one transaction;
    /// `false` when there is no such officer. Deactivating twice keeps the
    /// first time.
    async fn deactivate_officer(
        &self,
        username: &str,
        now: DateTime<Utc>,
        audit: Option<&NewAudit>,
    ) -> Result<bool>;

    /// Records the outcome of a login attempt: the failure count and any
    /// lock-out, both reset by a successful login.
    async fn set_login_state(
        &self,
        username: &str,
        failed_logins: i64,
        locked_until: Option<DateTime<Utc>>,
        audit: Option<&NewAudit>,
    ) -> Result<()>;

    /// Counts one failed login, atomically: parallel wrong guesses are all
    /// counted. At `allowed` failures the account is locked until
    /// `lock_until` (the count starts again) and `audit` is written with
    /// the lock; returns the lock's end when this failure locked it.
    async fn login_failed(
        &self,
        username: &str,
        allowed: i64,
        lock_until: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<Option<DateTime<Utc>>>;

    /// Stores a session by the hash of its cookie; also forgets sessions
    /// that expired before `now`, so the table never grows without bound.
    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// The session behind a cookie's hash, if its officer is active and at
    /// `now` it has neither
    /// expired nor been idle for `idle` or longer; a live session is
    /// marked as used at `now` (so each request restarts the idle clock),
    /// an ended one is deleted (so it cannot come back).
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::TimeDelta,
    ) -> Result<Option<SessionRow>>;

    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    /// Stores an officer's key pair (the secret wrapped under their password).
    async fn set_officer_key(&self, username: &str, public_key: &str, wrapped: &str) -> Result<()>;

    /// Grants the "see sources" permission with the ward keys sealed to the
    /// officer (`Some`), or withdraws it and deletes every copy (`None`), in
    /// one transaction with `audit`; `false` when there is no such officer.
    async fn set_source_access(
        &self,
        username: &str,
        grant: Option<&[KeyCopy]>,
        audit: Option<&NewAudit>,
    ) -> Result<bool>;

    /// Replaces an officer's password hash and key (the same key rewrapped
    /// under a changed password, or a new pair after a reset) and ends
    /// their sessions but `keep_session`, in one transaction with `audit`.
    /// A reset (`reset`) also withdraws the "see sources" permission: the
    /// ward keys were sealed to the old key, and an officer who holds them
    /// grants it again. `false` when there is no such officer.
    async fn set_password(&self, change: &PasswordChange, audit: Option<&NewAudit>)
    -> Result<bool>;
}

/// A shared handle to whichever backend is configured.
pub type DynStore = Arc<dyn Store>;

/// Opens the store named by `url` and applies its migrations: a file path
/// or `sqlite://PATH` for SQLite, `postgres://…` or `postgresql://…` for
/// PostgreSQL.
pub async fn open(url: &str) -> Result<DynStore> {
    match sqlite_path(url)? {
        None => Ok(Arc::new(postgres::PgStore::connect(url, None).await?)),
        Some(path) => Ok(Arc::new(sqlite::SqliteStore::open(path).await?)),
    }
}

/// The SQLite file a database URL names (a path or `sqlite://PATH`), or
/// `None` for a PostgreSQL URL.
pub fn sqlite_path(url: &str) -> Result<Option<&str>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(None);
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::BadUrl(url.to_owned()));
    }
    Ok(Some(path))
}

/// Walks a device's processed sequence numbers (ascending, all greater than
/// `checkpoint`) and returns the new checkpoint: the end of the gap-free run.
pub(crate) fn advance_checkpoint(checkpoint: i64, processed_after: &[i64]) -> i64 {
    let mut cp = checkpoint;
    for &seq in processed_after {
        if seq == cp + 1 {
            cp = seq;
        } else if seq > cp + 1 {
            break;
        }
    }
    cp
}

/// Reads a tip decision out of a stored pull item; other items give `None`.
pub(crate) fn tip_decision(seq: i64, item: &str) -> Result<Option<TipDecision>> {
    let item: PullItem = serde_json::from_str(item)
        .map_err(|e| StoreError::Corrupt(format!("pull item {seq}: {e}")))?;
    Ok(match item {
        PullItem::TipStatus {
            report_id,
            status,
            note,
            decided_at,
        } => Some(TipDecision {
            seq,
            report_id,
            status,
            note,
            decided_at,
        }),
        _ => None,
    })
}

/// The prefix every stored tip decision starts with (serde writes an
/// internally tagged enum's tag first), so a query can skip other items.
/// The decision a pull item carries, if it is one: (tip, status, note,
/// decided at), recorded in `tip_decisions` beside the item.
pub(crate) fn decision_of(
    item: &PullItem,
) -> Option<(ReportId, WardStatus, Option<String>, DateTime<Utc>)> {
    match item {
        PullItem::TipStatus {
            report_id,
            status,
            note,
            decided_at,
        } => Some((*report_id, *status, note.clone(), *decided_at)),
        _ => None,
    }
}

pub(crate) fn parse_ward_status(code: &str) -> Result<WardStatus> {
    code.parse()
        .map_err(|_| StoreError::Corrupt(format!("ward status {code:?}")))
}

/// Assembles an [`InboxPage`] from its rows and the per-status counts of
/// the query without its status filter (`None` = no decision yet).
pub(crate) fn inbox_page(
    rows: Vec<InboxRow>,
    counts: &[(Option<String>, i64)],
    status: Option<Option<WardStatus>>,
) -> Result<InboxPage> {
    let mut by_status: Vec<(Option<WardStatus>, u64)> = std::iter::once(None)
        .chain(WardStatus::ALL.iter().copied().map(Some))
        .map(|s| (s, 0))
        .collect();
    for (code, n) in counts {
        let s = code.as_deref().map(parse_ward_status).transpose()?;
        if let Some(slot) = by_status.iter_mut().find(|(k, _)| *k == s) {
            slot.1 += u64::try_from(*n).unwrap_or(0);
        }
    }
    let total = by_status
        .iter()
        .filter(|(s, _)| status.is_none_or(|want| want == *s))
        .map(|(_, n)| n)
        .sum();
    Ok(InboxPage {
        rows,
        total,
        by_status,
    })
}

pub(crate) const TIP_STATUS_PREFIX: &str = "{\"type\":\"tip-status\"%";

/// Timestamps are kept to the microsecond in both backends, so a receipt
/// read back equals the one first returned.
/// A stored report payload read back; a payload that no longer parses is
/// corruption, reported without its content.
pub(crate) fn parse_payload(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))
}

pub fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Stored tip payloads that may hold a clear source (a pre-filter; each
/// match is parsed).
pub(crate) const CLEAR_SOURCE_FILTER: &str = "(payload LIKE '%\"informant\":{\"kind\":\"named\"%' OR payload LIKE '%\"confidential_note\":%')";

/// A tip payload with its clear source sealed to `key`, or `None` when it
/// holds none.
pub(crate) fn sealed_payload(
    payload: &str,
    ward: &str,
    report_id: ReportId,
    rev: u32,
    key: &sotay_seal::PublicKey,
) -> Result<Option<String>> {
    let tip: sotay_domain::Tip = serde_json::from_str(payload)
        .map_err(|e| StoreError::Corrupt(format!("tip payload: {e}")))?;
    if !tip.has_clear_secret() {
        return Ok(None);
    }
    let ctx = sotay_seal::SourceContext {
        ward,
        report_id,
        rev,
    };
    let sealed = sotay_seal::seal_tip(tip, key, ctx)
        .map_err(|e| StoreError::Corrupt(format!("sealing: {e}")))?;
    serde_json::to_string(&sealed)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("tip payload: {e}")))
}

/// Whether a stored change withdraws its report's source: a tip revision
/// after the first with no sealed block (ingest has sealed every clear
/// source, so none is in clear here).
/// The photos a stored change lists (its manifest), by hash.
pub(crate) fn manifest(change: &Change) -> Vec<String> {
    change
        .body()
        .map(|b| {
            b.photos()
                .into_iter()
                .map(|(_, p)| p.sha256.clone())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn withdraws_source(change: &Change) -> bool {
    change.kind == ReportKind::Tip && change.rev > 1 && change.payload.get("sealed").is_none()
}

/// The household an inspection names: checked against the central
/// register, so a device cannot overwrite another group's household's
/// fire-safety state.
pub(crate) fn inspected_household(change: &Change) -> Option<String> {
    if change.kind != ReportKind::Inspection {
        return None;
    }
    change
        .payload
        .get("household_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// An older revision's payload with its source erased, or `None` when it
/// holds none.
pub(crate) fn erased_payload(payload: &str) -> Result<Option<String>> {
    let tip: sotay_domain::Tip = serde_json::from_str(payload)
        .map_err(|e| StoreError::Corrupt(format!("tip payload: {e}")))?;
    if !tip.keeps_source() {
        return Ok(None);
    }
    serde_json::to_string(&tip.erase_source())
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("tip payload: {e}")))
}

/// The current key of each ward, parsed.
pub(crate) fn current_keys(
    keys: &[WardKeyRow],
) -> Result<std::collections::HashMap<String, sotay_seal::PublicKey>> {
    keys.iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| {
            sotay_seal::PublicKey::from_base64(&k.public_key)
                .map(|pk| (k.ward.clone(), pk))
                .map_err(|_| StoreError::Corrupt(format!("ward key {}", k.key_id)))
        })
        .collect()
}

/// What loading a register changed, as published to devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterChange {
    /// Households new to the register or whose details changed.
    pub changed: usize,
    /// Households no longer in the register.
    pub removed: usize,
}

/// The register's rows to write and the pull items to publish, from the
/// group's stored register (`id → data JSON`) and the new one.
pub(crate) fn register_diff(
    stored: &std::collections::HashMap<String, String>,
    households: &[sotay_domain::household::Household],
) -> Result<RegisterDiff> {
    let mut diff = RegisterDiff::default();
    let mut keep = std::collections::HashSet::new();
    for h in households {
        let id = h.id.to_string();
        let data =
            serde_json::to_string(h).map_err(|e| StoreError::Corrupt(format!("household: {e}")))?;
        keep.insert(id.clone());
        if stored.get(&id) != Some(&data) {
            let item = PullItem::Household {
                household: h.clone(),
            };
            diff.items.push(item_json(&item)?);
            diff.upserts.push((id, data));
        }
    }
    let mut gone: Vec<&String> = stored.keys().filter(|id| !keep.contains(*id)).collect();
    gone.sort();
    for id in gone {
        let household_id = id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad household id {id:?}")))?;
        diff.items
            .push(item_json(&PullItem::HouseholdRemoved { household_id })?);
        diff.removed.push(id.clone());
    }
    Ok(diff)
}

fn item_json(item: &PullItem) -> Result<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Corrupt(format!("item: {e}")))
}

/// See [`register_diff`].
#[derive(Debug, Default)]
pub(crate) struct RegisterDiff {
    /// `(id, data)` to insert or replace.
    pub upserts: Vec<(String, String)>,
    /// Ids to delete.
    pub removed: Vec<String>,
    /// Pull items (JSON) to publish, in order.
    pub items: Vec<String>,
}

impl RegisterDiff {
    pub fn change(&self) -> RegisterChange {
        RegisterChange {
            changed: self.upserts.len(),
            removed: self.removed.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{advance_checkpoint, session_live};
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn a_session_ends_at_its_end_and_after_an_idle_spell() {
        let t = |m: i64| Utc.timestamp_opt(1_800_000_000 + m * 60, 0).unwrap();
        let idle = TimeDelta::minutes(30);
        // Used at 0, ends at 60.
        assert!(session_live(t(60), t(0), t(29), idle));
        assert!(
            !session_live(t(60), t(0), t(30), idle),
            "idle for exactly the limit ends it"
        );
        assert!(session_live(t(60), t(40), t(59), idle));
        assert!(!session_live(t(60), t(40), t(60), idle), "its end ends it");
    }

    #[test]
    fn checkpoint_stops_at_the_first_gap() {
        assert_eq!(advance_checkpoint(0, &[1, 2, 3]), 3);
        assert_eq!(advance_checkpoint(0, &[2, 3]), 0);
        assert_eq!(advance_checkpoint(3, &[4, 6, 7]), 4);
        assert_eq!(advance_checkpoint(5, &[]), 5);
    }
}
