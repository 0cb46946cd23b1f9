//! Administration: the use cases behind `sotay-server admin …`, as library
//! functions so tests (here and in the device's sync tests) can call them
//! without a shell.

use crate::store::{DynStore, ExportRow, GroupSeed, NewAudit, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use sotay_domain::inspection::ChecklistTemplate;
use sotay_domain::wire::{DeviceId, PullItem, WardStatus};
use sotay_domain::{DevicePlace, ReportId, ReportKind};
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no group {0:?}; run `sotay-server admin seed-demo` or check the code")]
    UnknownGroup(String),
    #[error("no report {0}")]
    UnknownReport(ReportId),
    #[error("report {0} is a {1}, not a tip")]
    NotATip(ReportId, ReportKind),
    #[error("no device {0}")]
    UnknownDevice(DeviceId),
    #[error("the note is longer than {0} characters")]
    NoteTooLong(usize),
    #[error("bad duration {0:?}: use a number and a unit, e.g. 30m, 72h, 7d")]
    BadDuration(String),
    #[error("bad place: {0}")]
    BadPlace(String),
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The register file has problems; nothing was imported. Each line
    /// of the message is one problem with its line number.
    #[error("nothing imported: {}", .0.0.iter().map(|e| e.message(sotay_domain::Lang::En)).collect::<Vec<_>>().join("; "))]
    Register(sotay_domain::household::CsvErrors),
    #[error("nothing imported: household {0:?} is listed twice")]
    DuplicateHousehold(String),
    #[error(transparent)]
    Source(#[from] crate::sources::SourceError),
    #[error("the TLS certificate: {0}")]
    BadCertificate(String),
    #[error("making the QR code: {0}")]
    Qr(String),
    #[error("--expires may be at most {0} days")]
    ExpiryTooLong(i64),
    #[error(
        "report {0} is a Đề án 06 count: its id is its group's and day's, so it cannot move; delete it and let the right group send its own"
    )]
    CountCannotMove(ReportId),
    #[error("no block {0:?}")]
    UnknownBlock(String),
    #[error("group code {0:?} exists already")]
    GroupExists(String),
    #[error("group code {code:?} must start with its block's code ({block}-…)")]
    GroupOutsideBlock { code: String, block: String },
    #[error("a group needs a name")]
    NameRequired,
    #[error("no ward {0:?}; `sotay-server admin ward add` makes one")]
    UnknownWard(String),
    #[error(
        "this server has no ward yet: `sotay-server admin ward add CODE --name NAME` makes one"
    )]
    NoWard,
    #[error("this server has {0} wards: say which with --ward CODE")]
    WardRequired(usize),
    #[error("ward {0:?} exists already")]
    WardExists(String),
    #[error("block code {0:?} exists already")]
    BlockExists(String),
    #[error("no group or block {0:?} in this ward")]
    UnknownPlace(String),
    #[error("someone changed these places at the same time; nothing was changed, try again")]
    Conflict,
    #[error("the households file: {0}; nothing was changed")]
    SplitFile(String),
    #[error("ward {ward:?} merged into {into:?}; use --ward {into}")]
    WardMerged { ward: String, into: String },
    #[error(
        "these codes are in use in the ward merged into: {}; rename them first, or merge with --prefix (WARD-CODE); nothing was changed",
        .0.join(", ")
    )]
    WardMergeClash(Vec<String>),
    #[error(
        "ward {0}'s recovery passphrase is needed to hand over its source keys; nothing was changed"
    )]
    PassphraseNeeded(String),
    #[error("the announcement is not valid; nothing sent: {}", .0.messages(sotay_domain::Lang::En).join("; "))]
    InvalidAnnouncement(sotay_domain::validation::ValidationErrors),
    #[error("the campaign is not valid; nothing set: {}", .0.messages(sotay_domain::Lang::En).join("; "))]
    InvalidCampaign(sotay_domain::validation::ValidationErrors),
    #[error("the photo: {0}; nothing sent")]
    BadPhoto(String),
    #[error("no campaign {0} running or planned in this ward")]
    UnknownCampaign(String),
    #[error("a province officer reads every ward but changes none")]
    ProvinceReadOnly,
    #[error("the checklist template is not valid; nothing published: {}", .0.messages(sotay_domain::Lang::En).join("; "))]
    InvalidTemplate(sotay_domain::validation::ValidationErrors),
    #[error(
        "checklist {id} version {version} is not newer than version {newest}, already published; a published version never changes"
    )]
    TemplateNotNewer {
        id: String,
        version: u32,
        newest: u32,
    },
    #[error(
        "report {report} is of ward {from}, not {to}: a report never moves between wards (its sealed source opens only with its own ward's key)"
    )]
    OtherWard {
        report: ReportId,
        from: String,
        to: String,
    },
    #[error("household {household} of report {report} is in the register of group {group}")]
    RegisteredElsewhere {
        report: ReportId,
        household: String,
        group: String,
    },
}

/// Writes every stored photo as `sha256\tbytes\treports` under a header.
pub async fn write_photos(store: &DynStore, out: &mut impl Write) -> Result<(), AdminError> {
    writeln!(out, "sha256\tbytes\treports")?;
    for (sha, bytes) in store.photos().list().await? {
        let reports: Vec<String> = store
            .photo_reports(&sha)
            .await?
            .into_iter()
            .map(|(id, _)| id.to_string())
            .collect();
        writeln!(out, "{sha}\t{bytes}\t{}", reports.join(","))?;
    }
    Ok(())
}

/// Moves a report stored under the wrong group (written before ingest
/// checked ownership, or by a device enrolled in the wrong group) to
/// `group`: from then on that group's devices may revise it and the old
/// group's may not. A Đề án 06 count cannot move (its id is derived from
/// its group and day: [`delete_report`] it instead), nor an inspection
/// to a group other than the one whose register holds its household.
/// `audit` is written in the same transaction, its detail filled in here.
/// Returns the group it was under.
pub async fn move_report(
    store: &DynStore,
    id: ReportId,
    group: &str,
    mut audit: crate::store::NewAudit,
) -> Result<String, AdminError> {
    let owner = store
        .report_owner(id)
        .await?
        .ok_or(AdminError::UnknownReport(id))?;
    if owner.kind == ReportKind::IdCount {
        return Err(AdminError::CountCannotMove(id));
    }
    let place = store
        .group_place(group)
        .await?
        .ok_or_else(|| AdminError::UnknownGroup(group.to_owned()))?;
    if place.ward.code.as_str() != owner.ward {
        return Err(AdminError::OtherWard {
            report: id,
            from: owner.ward,
            to: place.ward.code.to_string(),
        });
    }
    if owner.kind == ReportKind::Inspection {
        let revisions = store.report_revisions(id).await?;
        let household = revisions
            .last()
            .and_then(|r| r.payload.get("household_id"))
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<sotay_domain::HouseholdId>().ok());
        if let Some(household) = household
            && let Some(registered) = store.household_group(household).await?
            && registered != group
        {
            return Err(AdminError::RegisteredElsewhere {
                report: id,
                household: household.0.to_string(),
                group: registered,
            });
        }
    }
    audit.detail = format!("{} {} → {group}", owner.kind.code(), owner.group);
    if !store.move_report(id, group, &audit).await? {
        return Err(AdminError::UnknownReport(id));
    }
    Ok(owner.group)
}

/// Deletes a report (every revision and its ward decision), for one that
/// should never have been stored: a count or inspection written under
/// another group's name before ingest checked ownership, test data on a
/// live server. The devices that hold it keep their copy. `audit` is
/// written in the same transaction, its detail filled in here.
pub async fn delete_report(
    store: &DynStore,
    id: ReportId,
    mut audit: crate::store::NewAudit,
) -> Result<crate::store::ReportOwner, AdminError> {
    let owner = store
        .report_owner(id)
        .await?
        .ok_or(AdminError::UnknownReport(id))?;
    let revisions = store.report_revisions(id).await?.len();
    audit.detail = format!(
        "{} of {}, {revisions} revision(s)",
        owner.kind.code(),
        owner.group
    );
    if !store.delete_report(id, &audit).await? {
        return Err(AdminError::UnknownReport(id));
    }
    Ok(owner)
}

/// Namespace of the ids of households imported centrally (UUID v5).
const HOUSEHOLD_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5e7a_9c1d_0b4e_4f6a_9d2c_7a11_c0de_0106);

/// What an import of a households register did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdImport {
    /// Households in the file (all stored).
    pub households: usize,
    /// Of those, how many were new or changed and so published to devices.
    pub published: usize,
    /// Households of the previous register absent from this one: deleted,
    /// and their removal published to devices.
    pub removed: usize,
}

/// `admin households import`: loads a group's households register from
/// CSV, all or nothing (see [`sotay_domain::household::parse_csv`]). The
/// file is the whole register: it replaces the group's previous one.
///
/// A household keeps its id: one already in the group's register with the
/// same address and head (letter case and spaces aside) is the same
/// household, whichever group it was first imported under (a merged or
/// split group's households came from another); a new one's id is derived
/// from its group, address and head. So importing the file again updates
/// the same households instead of duplicating them on devices, and their
/// inspections stay theirs. Only what changed is published to the
/// group's devices: new or changed households as `household` pull items,
/// households no longer in the file as `household-removed` (devices keep
/// them for past reports but list them no more). Storing and publishing
/// are one transaction.
pub async fn import_households(
    store: &DynStore,
    group: &str,
    csv: &[u8],
    now: DateTime<Utc>,
) -> Result<HouseholdImport, AdminError> {
    if store.group_place(group).await?.is_none() {
        return Err(AdminError::UnknownGroup(group.to_owned()));
    }
    let inputs = sotay_domain::household::parse_csv(csv).map_err(AdminError::Register)?;
    let same = |data: &sotay_domain::household::HouseholdInput| {
        format!(
            "{}/{}",
            data.address.trim().to_lowercase(),
            data.head.trim().to_lowercase()
        )
    };
    let mut registered = std::collections::HashMap::new();
    for (_, data) in store.household_rows(group).await? {
        let h: sotay_domain::household::Household = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("household: {e}")))?;
        registered.insert(same(&h.data), h.id);
    }
    let mut seen = std::collections::HashSet::new();
    let mut households = Vec::with_capacity(inputs.len());
    for data in inputs {
        let key = same(&data);
        let id = registered.get(&key).copied().unwrap_or_else(|| {
            let key = format!("household/{group}/{key}");
            sotay_domain::HouseholdId(uuid::Uuid::new_v5(&HOUSEHOLD_NAMESPACE, key.as_bytes()))
        });
        if !seen.insert(id) {
            return Err(AdminError::DuplicateHousehold(format!(
                "{}, {}",
                data.address, data.head
            )));
        }
        households.push(sotay_domain::household::Household { id, data });
    }
    let change = store.import_households(group, &households, now).await?;
    Ok(HouseholdImport {
        households: households.len(),
        published: change.changed,
        removed: change.removed,
    })
}

/// The demo ward: phường Hà Huy Tập, 20 blocks, 247 groups.
pub const DEMO_WARD: (&str, &str) = ("hht", "Hà Huy Tập");
pub const DEMO_BLOCKS: u32 = 20;
pub const DEMO_GROUPS: u32 = 247;

/// The demo ward's groups: `k01-t01` … spread 13 or 12 per block so that
/// they total 247 (7 blocks of 13, 13 of 12).
pub fn demo_groups() -> Result<Vec<GroupSeed>, AdminError> {
    let base = DEMO_GROUPS / DEMO_BLOCKS;
    let extra = DEMO_GROUPS % DEMO_BLOCKS;
    let mut out = Vec::new();
    for b in 1..=DEMO_BLOCKS {
        let n = base + u32::from(b <= extra);
        for g in 1..=n {
            let block = format!("k{b:02}");
            let group = format!("{block}-t{g:02}");
            let place = DevicePlace::from_codes(
                DEMO_WARD.0,
                &block,
                &group,
                [
                    Some(DEMO_WARD.1),
                    Some(&format!("Khối {b}")),
                    Some(&format!("Tổ {g}, khối {b}")),
                ],
            )
            .map_err(|e| AdminError::BadPlace(e.to_string()))?;
            out.push(GroupSeed { place });
        }
    }
    Ok(out)
}

/// What creating a ward did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub groups: usize,
    /// The ward's recovery passphrase, when its source key was made now:
    /// shown once, stored nowhere.
    pub recovery_passphrase: Option<String>,
}

/// Creates the demo ward (idempotent) with its source key and recovery
/// identity, and publishes the built-in checklist template for every
/// device to pull.
pub async fn seed_demo(store: &DynStore, now: DateTime<Utc>) -> Result<Seeded, AdminError> {
    let groups = store.seed_groups(&demo_groups()?, None).await?;
    let recovery_passphrase = crate::sources::create_ward_key(store, DEMO_WARD.0, now).await?;
    publish_template(store, ChecklistTemplate::household_v1(), now).await?;
    Ok(Seeded {
        groups,
        recovery_passphrase,
    })
}

/// `admin export` never carries a source: a tip's sealed block and any
/// clear source are taken out of the payload, leaving only its kind.
fn without_sources(mut row: ExportRow) -> ExportRow {
    if row.kind == ReportKind::Tip
        && let Ok(tip) = serde_json::from_value::<sotay_domain::Tip>(row.payload.clone())
        && tip.keeps_source()
    {
        let named = tip.sealed.is_some();
        let mut tip = tip.erase_source();
        if named
            && let sotay_domain::tip::Source::Resident { informant } = &mut tip.source
            && *informant == sotay_domain::tip::Informant::Erased
        {
            *informant = sotay_domain::tip::Informant::Sealed;
        }
        if let Ok(v) = serde_json::to_value(&tip) {
            row.payload = v;
        }
    }
    row
}

/// Publishes a checklist template version to every group, once: devices
/// use the newest for new inspections, and pushes of inspections made
/// against it are checked against it. A version is refused unless it is
/// valid and newer than every version of its id already published (a
/// published version never changes: inspections name it); publishing the
/// same version again is a no-op (`None`).
pub async fn publish_template(
    store: &DynStore,
    template: ChecklistTemplate,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AdminError> {
    template.validate().map_err(AdminError::InvalidTemplate)?;
    let published = store.templates().await?;
    if let Some(same) = published
        .iter()
        .find(|t| t.id == template.id && t.version == template.version)
    {
        return if *same == template {
            Ok(None)
        } else {
            Err(AdminError::TemplateNotNewer {
                id: template.id,
                version: template.version,
                newest: same.version,
            })
        };
    }
    let newest = published
        .iter()
        .filter(|t| t.id == template.id)
        .map(|t| t.version)
        .chain(ChecklistTemplate::builtin_newest(&template.id).map(|t| t.version))
        .max();
    if let Some(newest) = newest
        && template.version <= newest
        && ChecklistTemplate::builtin(&template.id, template.version).as_ref() != Some(&template)
    {
        return Err(AdminError::TemplateNotNewer {
            id: template.id,
            version: template.version,
            newest,
        });
    }
    let key = format!("template/{}/{}", template.id, template.version);
    Ok(store
        .add_pull_item(
            None,
            &PullItem::Template { template },
            Some(&key),
            now,
            None,
        )
        .await?)
}

/// The longest an enrollment code may stay valid: a code is a key to the
/// ward's server, and a forgotten one should not open it for months.
pub const ENROLL_CODE_MAX_DAYS: i64 = 30;

/// Issues a one-time enrollment code for `group`, valid for `ttl`.
pub async fn issue_enroll_code(
    store: &DynStore,
    group: &str,
    ttl: TimeDelta,
    now: DateTime<Utc>,
) -> Result<String, AdminError> {
    if ttl > TimeDelta::days(ENROLL_CODE_MAX_DAYS) {
        return Err(AdminError::ExpiryTooLong(ENROLL_CODE_MAX_DAYS));
    }
    let group = sotay_domain::PlaceCode::parse(group)
        .ok_or_else(|| AdminError::UnknownGroup(group.to_owned()))?;
    if store.group_place(group.as_str()).await?.is_none() {
        return Err(AdminError::UnknownGroup(group.to_string()));
    }
    let code = crate::auth::new_enroll_code();
    let hash = crate::auth::hash_secret(&crate::auth::normalize_code(&code).unwrap_or_default());
    store
        .create_enroll_code(&hash, group.as_str(), now + ttl, now)
        .await?;
    Ok(code)
}

/// The link a QR code carries: `sotay://enroll?server=…&code=…`, and
/// `&pin=…` (the SHA-256 of the server's TLS key) when given.
pub fn enroll_link(server: &str, code: &str) -> String {
    pinned_enroll_link(server, code, None)
}

/// [`enroll_link`] with the server's TLS key pinned.
pub fn pinned_enroll_link(server: &str, code: &str, pin: Option<&str>) -> String {
    let mut link = format!(
        "sotay://enroll?server={}&code={}",
        percent_encode(server),
        percent_encode(code)
    );
    if let Some(pin) = pin {
        link.push_str("&pin=");
        link.push_str(&percent_encode(pin));
    }
    link
}

/// The pin of the certificate a server serves (`serve --tls-cert FILE`).
pub fn pin_of_cert_file(path: &std::path::Path) -> Result<String, AdminError> {
    let pem = std::fs::read(path)?;
    sotay_seal::pin::spki_pin_of_pem(&pem).map_err(|e| AdminError::BadCertificate(e.to_string()))
}

/// An enrollment link as a QR code: SVG for the dashboard (no script, no
/// image file), or text for a terminal.
pub fn enroll_qr_svg(link: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(|e| AdminError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// See [`enroll_qr_svg`]: the same QR code drawn with Unicode half blocks.
pub fn enroll_qr_text(link: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(|e| AdminError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Parses `90s`, `30m`, `72h`, `7d`.
pub fn parse_duration(raw: &str) -> Result<TimeDelta, AdminError> {
    let bad = || AdminError::BadDuration(raw.to_owned());
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => None,
    };
    d.filter(|d| *d > TimeDelta::zero()).ok_or_else(bad)
}

/// The longest note a ward decision on a tip may carry, in characters.
pub const TIP_NOTE_MAX: usize = 2000;

/// The audit entry of an administrative command run on the server's
/// machine (no officer is logged in there).
pub fn command_audit(action: &str, target: &str, detail: &str) -> NewAudit {
    NewAudit {
        at: crate::store::now_micros(),
        username: "(admin command)".into(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail: detail.to_owned(),
        ward: None,
    }
}

/// Records the ward's decision on a tip, which its group's devices pull,
/// with `audit` written in the same transaction: either both are stored or
/// neither, so a decision devices receive is always traceable (the
/// dashboard's and the command's path alike).
pub async fn set_tip_status(
    store: &DynStore,
    report: ReportId,
    status: WardStatus,
    note: Option<String>,
    now: DateTime<Utc>,
    audit: &NewAudit,
) -> Result<(String, i64), AdminError> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &note
        && n.chars().count() > TIP_NOTE_MAX
    {
        return Err(AdminError::NoteTooLong(TIP_NOTE_MAX));
    }
    let owner = store
        .report_owner(report)
        .await?
        .ok_or(AdminError::UnknownReport(report))?;
    if owner.kind != ReportKind::Tip {
        return Err(AdminError::NotATip(report, owner.kind));
    }
    let item = PullItem::TipStatus {
        report_id: report,
        status,
        note,
        decided_at: now,
    };
    let seq = store
        .add_pull_item(Some(&owner.group), &item, None, now, Some(audit))
        .await?
        .ok_or_else(|| StoreError::Corrupt("pull item not added".into()))?;
    Ok((owner.group, seq))
}

/// Revokes a device (its token stops working at once), with `audit` in the
/// same transaction.
pub async fn revoke(
    store: &DynStore,
    id: DeviceId,
    now: DateTime<Utc>,
    audit: &NewAudit,
) -> Result<(), AdminError> {
    if store.revoke(id, now, Some(audit)).await? {
        Ok(())
    } else {
        Err(AdminError::UnknownDevice(id))
    }
}

/// `admin devices`: one tab-separated line per device under a header.
pub async fn write_devices(
    store: &DynStore,
    scope: &crate::store::Scope,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    writeln!(out, "id\tgroup\tstatus\tcheckpoint\tenrolled_at\tname")?;
    let groups = crate::places::Groups::new(store.groups(scope).await?, scope);
    for d in store.devices(scope).await? {
        let status = if d.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            d.id,
            groups.label(&d.group),
            status,
            d.checkpoint,
            d.enrolled_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            d.name.replace(['\t', '\n'], " ")
        )?;
    }
    Ok(())
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

/// `admin export`: every report at its newest revision.
///
/// JSON: one array of `{id, kind, rev, group, device_id, receipt:
/// {server_seq, received_at}, payload}`. CSV: the same columns flattened,
/// the payload as a JSON string.
pub async fn export(
    store: &DynStore,
    scope: &crate::store::Scope,
    format: ExportFormat,
    kind: Option<ReportKind>,
    out: &mut impl Write,
) -> Result<usize, AdminError> {
    let groups = crate::places::Groups::new(store.groups(scope).await?, scope);
    // The group column is the unit the report counts in today, by its
    // official code (`ward/code` when several wards are exported).
    let rows: Vec<ExportRow> = store
        .export(scope, kind)
        .await?
        .into_iter()
        .map(without_sources)
        .map(|mut r| {
            r.group = groups.label(&r.group);
            r
        })
        .collect();
    // Which of each report's photos the server holds, and which it still
    // waits for: what a backup of the photos must contain.
    let mut photos = Vec::with_capacity(rows.len());
    for r in &rows {
        let tagged = serde_json::json!({"kind": r.kind, "body": r.payload});
        let listed: Vec<String> = serde_json::from_value::<sotay_domain::ReportBody>(tagged)
            .map(|b| {
                b.photos()
                    .into_iter()
                    .map(|(_, p)| p.sha256.clone())
                    .collect()
            })
            .unwrap_or_default();
        let (mut stored, mut waiting) = (Vec::new(), Vec::new());
        for sha in listed {
            match store.photos().state(&sha).await? {
                crate::store::photos::PhotoState::Stored(_) => stored.push(sha),
                crate::store::photos::PhotoState::Partial(_) => waiting.push(sha),
            }
        }
        photos.push((stored, waiting));
    }
    match format {
        ExportFormat::Json => {
            #[derive(serde::Serialize)]
            struct Exported<'a> {
                #[serde(flatten)]
                row: &'a ExportRow,
                photos_stored: &'a [String],
                photos_waiting: &'a [String],
            }
            let out_rows: Vec<Exported<'_>> = rows
                .iter()
                .zip(&photos)
                .map(|(row, (stored, waiting))| Exported {
                    row,
                    photos_stored: stored,
                    photos_waiting: waiting,
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &out_rows)?;
            writeln!(out)?;
        }
        ExportFormat::Csv => write_csv(&rows, &photos, out)?,
    }
    Ok(rows.len())
}

fn write_csv(
    rows: &[ExportRow],
    photos: &[(Vec<String>, Vec<String>)],
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "kind",
        "rev",
        "group",
        "device_id",
        "server_seq",
        "received_at",
        "payload",
        "photos_stored",
        "photos_waiting",
    ])?;
    for (r, (stored, waiting)) in rows.iter().zip(photos) {
        let payload = serde_json::to_string(&r.payload)?;
        w.write_record([
            r.id.to_string(),
            r.kind.code().to_owned(),
            r.rev.to_string(),
            r.group.clone(),
            r.device_id.to_string(),
            r.receipt.server_seq.to_string(),
            r.receipt
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            crate::dashboard::export::formula_safe(&payload).into_owned(),
            stored.join(" "),
            waiting.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ward_has_247_groups_in_20_blocks() {
        let groups = demo_groups().expect("valid");
        assert_eq!(groups.len(), 247);
        let blocks: std::collections::BTreeSet<_> = groups
            .iter()
            .map(|g| g.place.block.code.to_string())
            .collect();
        assert_eq!(blocks.len(), 20);
        assert_eq!(groups[0].place.group.code.as_str(), "k01-t01");
        assert_eq!(groups[246].place.group.code.as_str(), "k20-t12");
        assert_eq!(groups[0].place.ward.name, "Hà Huy Tập");
    }

    #[test]
    fn durations_and_links() {
        assert_eq!(parse_duration("72h").ok(), TimeDelta::try_hours(72));
        assert_eq!(parse_duration("7d").ok(), TimeDelta::try_days(7));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("3w").is_err());
        assert_eq!(
            enroll_link("https://sotay.example:8443", "ABCD-EFGH"),
            "sotay://enroll?server=https%3A%2F%2Fsotay.example%3A8443&code=ABCD-EFGH"
        );
    }
}
