//! The `reports` and `outbox` tables: saving reports through their
//! lifecycle, listing, searching, and the queue of changes for the server.

use super::households::{like_pattern, load_household};
use super::{Store, parse_ts, ts};
use crate::error::{DeviceError, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use sotay_domain::household::Household;
use sotay_domain::ids::ReportId;
use sotay_domain::inspection::{ChecklistTemplate, InspectionResult};
use sotay_domain::labels::Labelled;
use sotay_domain::labels::Lang;
use sotay_domain::report::{
    Receipt, Rejection, Report, ReportBody, ReportKind, ReportStatus, WardDecision,
};
use sotay_domain::text::{fold, terms};
use sotay_domain::tip::TipCategory;
use sotay_domain::validation::{FieldError, Rule, ValidationErrors};
use sotay_domain::wire::{RejectionCode, WardStatus};

/// What the leader asked for when saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    /// Keep as a draft (autosave). Drafts keep whatever was typed; only
    /// references to other records and a size bound are checked.
    Draft,
    /// "Gửi": validate fully and queue for the server.
    Send,
}

/// The largest stored body of a draft: far above any real report, it only
/// stops a runaway autosave from filling the phone.
const DRAFT_MAX_BYTES: usize = 256 * 1024;

/// A filter for [`Store::list`]. Empty filter: every report, newest first.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct ListFilter {
    pub kind: Option<ReportKind>,
    pub status: Option<ReportStatus>,
    pub category: Option<TipCategory>,
    /// The report's day (count date, inspection day, day it happened) from…
    pub from: Option<NaiveDate>,
    /// …to, inclusive.
    pub to: Option<NaiveDate>,
    /// Page size; 0 means the default of 50. At most 500.
    pub limit: u32,
    pub offset: u32,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many match the filter in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A report as a line in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportSummary {
    pub id: ReportId,
    pub kind: ReportKind,
    pub status: ReportStatus,
    pub rev: u32,
    pub day: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<TipCategory>,
    /// A one-line title in Vietnamese.
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The ward's decision on a tip, once pulled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_status: Option<WardStatus>,
    /// Why the server refused it, when quarantined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

/// One change in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub report_id: ReportId,
    pub rev: u32,
    pub kind: ReportKind,
    pub body: ReportBody,
    pub queued_at: DateTime<Utc>,
    pub attempted: bool,
    /// The size of its stored JSON, for progress.
    pub bytes: u64,
}

/// What a search found: reports (newest first) and households.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchResults {
    pub reports: Vec<ReportSummary>,
    pub households: Vec<Household>,
}

/// The stored state of a report, before the save that changes it.
struct Existing {
    created_at: DateTime<Utc>,
    ward: Option<WardDecision>,
    kind: ReportKind,
    status: ReportStatus,
    rev: u32,
    attempted: bool,
}

pub(super) const SUMMARY_SQL: &str =
    "SELECT r.id, r.kind, r.status, r.rev, r.day, r.category, r.body, r.created_at, r.updated_at,
        r.receipt_seq, r.receipt_at, h.address, r.ward_status, r.rejected_code, r.rejected_message,
        r.rejected_fields
     FROM reports r LEFT JOIN households h ON h.id = r.household_id";

/// The engine's verdict on a report being written ([`Store::check_report`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportCheck {
    /// Every rule the report still breaks; empty when it may be sent.
    pub problems: Vec<FieldError>,
    /// An inspection's derived result ([`sotay_domain::inspection::Inspection::result`]).
    pub result: Option<InspectionResult>,
    /// When an inspection's household falls due again
    /// ([`sotay_domain::inspection::Inspection::reinspection_due`]).
    pub reinspection_due: Option<NaiveDate>,
    /// The report as the engine checked it (trimmed, and an inspection
    /// completed): the value the problems' indexed fields refer to.
    pub body: ReportBody,
}

impl Store {
    /// Saves a report: creates it, or updates the one with `id`, following
    /// the lifecycle (see [`sotay_domain::report`]). A count's id is derived
    /// from its day, so a second count of a day is a new revision of the
    /// first. Returns the report as stored.
    pub fn save_report(
        &mut self,
        id: Option<ReportId>,
        body: ReportBody,
        save: Save,
    ) -> Result<Report> {
        let place = self.place()?.clone();
        let now = Utc::now();
        let body = normalized(body);
        let id = match &body {
            ReportBody::IdCount(c) => {
                ReportId::for_id_count(place.ward.code.as_str(), place.group.code.as_str(), c.date)
            }
            _ => id.unwrap_or_else(ReportId::new_v7),
        };

        let tx = self.conn.transaction()?;
        let existing = load_existing(&tx, id)?;
        if let Some(e) = &existing
            && e.kind != body.kind()
        {
            return Err(DeviceError::KindMismatch {
                id: id.to_string(),
                existing: e.kind.code(),
                given: body.kind().code(),
            });
        }

        // (status, rev, what happens to the outbox)
        enum Outbox {
            Nothing,
            Insert,
            Replace,
        }
        let (status, rev, outbox) = match (existing.as_ref(), save) {
            (None, Save::Draft) => (ReportStatus::Draft, 1, Outbox::Nothing),
            (None, Save::Send) => (ReportStatus::Queued, 1, Outbox::Insert),
            (Some(e), Save::Draft) if e.status == ReportStatus::Draft => {
                (ReportStatus::Draft, e.rev, Outbox::Nothing)
            }
            (Some(e), Save::Send) if e.status == ReportStatus::Draft => {
                (ReportStatus::Queued, e.rev, Outbox::Insert)
            }
            // A queued report stays queued; its change is replaced in place
            // unless a push of it began, in which case the server may hold
            // that content already and the edit becomes a new revision.
            (Some(e), _) if e.status == ReportStatus::Queued && !e.attempted => {
                (ReportStatus::Queued, e.rev, Outbox::Replace)
            }
            (Some(e), _) if e.status == ReportStatus::Queued => {
                (ReportStatus::Queued, e.rev + 1, Outbox::Insert)
            }
            (Some(e), Save::Draft) => (ReportStatus::Draft, e.rev + 1, Outbox::Nothing),
            (Some(e), Save::Send) => (ReportStatus::Queued, e.rev + 1, Outbox::Insert),
        };

        let household = check_references(&tx, &body)?;
        super::photos::check_photos(&tx, &body)?;
        let (body, template) = completed(&tx, body, household.as_ref())?;
        if status == ReportStatus::Queued {
            validate(&body, household.as_ref(), template.as_ref(), now)?;
        }
        let body_json = serde_json::to_string(&body)
            .map_err(|e| DeviceError::Corrupt(format!("report does not serialise: {e}")))?;
        if body_json.len() > DRAFT_MAX_BYTES {
            return Err(ValidationErrors(vec![FieldError::new(
                "description",
                Rule::TooLong {
                    max: DRAFT_MAX_BYTES,
                },
            )])
            .into());
        }

        let mut search = body.search_text();
        if let ReportBody::Tip(t) = &body {
            let label = t.category.label();
            search = format!("{search} {} {}", label.vi, label.en);
        }
        if let Some(h) = &household {
            search = format!("{search} {} {}", h.address, h.head);
        }
        let category = match &body {
            ReportBody::Tip(t) => Some(t.category.code()),
            _ => None,
        };
        let now_s = ts(now);
        tx.execute(
            "INSERT INTO reports (id, kind, status, rev, category, household_id, day, body, search, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, rev = excluded.rev,
                 category = excluded.category, household_id = excluded.household_id, day = excluded.day,
                 body = excluded.body, search = excluded.search, updated_at = excluded.updated_at,
                 receipt_seq = NULL, receipt_at = NULL, rejected_code = NULL, rejected_message = NULL,
                 rejected_fields = NULL",
            params![
                id.to_string(),
                body.kind().code(),
                status.code(),
                rev,
                category,
                household.as_ref().map(|h| h.id.to_string()),
                day_of(&body, now).to_string(),
                body_json,
                fold(&search),
                now_s,
            ],
        )?;
        if !matches!(outbox, Outbox::Nothing) {
            // What leaves the device: a tip's secret sealed to the ward.
            let payload = super::sealing::outbox_json(
                &tx,
                place.ward.code.as_str(),
                id,
                rev,
                &body,
                &body_json,
            )?;
            if matches!(outbox, Outbox::Insert) {
                tx.execute(
                    "INSERT INTO outbox (report_id, rev, kind, payload, queued_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id.to_string(), rev, body.kind().code(), payload, now_s],
                )?;
            } else {
                tx.execute(
                    "UPDATE outbox SET payload = ?3, queued_at = ?4 WHERE report_id = ?1 AND rev = ?2",
                    params![id.to_string(), rev, payload, now_s],
                )?;
            }
            if let ReportBody::Tip(t) = &body
                && !t.keeps_source()
            {
                super::sealing::erase_older_sources(&tx, id, rev)?;
            }
            super::photos::queue_photos(&tx, &body, &now_s)?;
        }
        tx.commit()?;
        let (created_at, ward) = existing.map_or((now, None), |e| (e.created_at, e.ward));
        Ok(Report {
            id,
            status,
            rev,
            created_at,
            updated_at: now,
            receipt: None,
            ward,
            rejection: None,
            body,
        })
    }

    /// Queues a draft for the server ("Gửi"), validating it fully; a
    /// quarantined report is sent again as a new revision.
    pub fn send(&mut self, id: ReportId) -> Result<Report> {
        let report = self.report(id)?;
        if !matches!(
            report.status,
            ReportStatus::Draft | ReportStatus::Quarantined
        ) {
            return Ok(report);
        }
        self.save_report(Some(id), report.body, Save::Send)
    }

    /// One report by id, at its current revision.
    pub fn report(&self, id: ReportId) -> Result<Report> {
        /// The row, read by column name.
        struct Row {
            status: String,
            rev: u32,
            body: String,
            created_at: String,
            updated_at: String,
            receipt_seq: Option<i64>,
            receipt_at: Option<String>,
            ward_status: Option<String>,
            ward_note: Option<String>,
            ward_decided_at: Option<String>,
            refusal: StoredRefusal,
        }
        let lang = self.settings()?.lang;
        let row = self
            .conn
            .query_row(
                "SELECT status, rev, body, created_at, updated_at, receipt_seq, receipt_at,
                        ward_status, ward_note, ward_decided_at, rejected_code, rejected_message,
                        rejected_fields
                 FROM reports WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(Row {
                        status: r.get("status")?,
                        rev: r.get("rev")?,
                        body: r.get("body")?,
                        created_at: r.get("created_at")?,
                        updated_at: r.get("updated_at")?,
                        receipt_seq: r.get("receipt_seq")?,
                        receipt_at: r.get("receipt_at")?,
                        ward_status: r.get("ward_status")?,
                        ward_note: r.get("ward_note")?,
                        ward_decided_at: r.get("ward_decided_at")?,
                        refusal: StoredRefusal::read(r)?,
                    })
                },
            )
            .optional()?;
        let Some(row) = row else {
            return Err(DeviceError::NotFound {
                what: "report",
                id: id.to_string(),
            });
        };
        Ok(Report {
            id,
            status: parse_code(&row.status)?,
            rev: row.rev,
            created_at: parse_ts(&row.created_at)?,
            updated_at: parse_ts(&row.updated_at)?,
            receipt: receipt(row.receipt_seq, row.receipt_at)?,
            ward: ward(row.ward_status, row.ward_note, row.ward_decided_at)?,
            rejection: row.refusal.rejection(lang)?,
            body: parse_body(&row.body)?,
        })
    }

    /// Reports matching `filter`, newest first, one page.
    pub fn list(&self, filter: &ListFilter) -> Result<Page<ReportSummary>> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(k) = filter.kind {
            clauses.push("r.kind = ?");
            args.push(k.code().to_owned());
        }
        if let Some(s) = filter.status {
            clauses.push("r.status = ?");
            args.push(s.code().to_owned());
        }
        if let Some(c) = filter.category {
            clauses.push("r.category = ?");
            args.push(c.code().to_owned());
        }
        if let Some(d) = filter.from {
            clauses.push("r.day >= ?");
            args.push(d.to_string());
        }
        if let Some(d) = filter.to {
            clauses.push("r.day <= ?");
            args.push(d.to_string());
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let limit = match filter.limit {
            0 => 50,
            n => n.min(500),
        };
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM reports r{where_sql}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let sql = format!(
            "{SUMMARY_SQL}{where_sql} ORDER BY r.created_at DESC, r.id DESC LIMIT {limit} OFFSET {}",
            filter.offset
        );
        let items = self.summaries(&sql, &args)?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
            limit,
            offset: filter.offset,
        })
    }

    /// Reports and households containing every word of `text`, ignoring
    /// diacritics and case ("ma tuy" finds "ma túy", "duong" finds "đường").
    pub fn search(&self, text: &str, limit: u32) -> Result<SearchResults> {
        let terms = terms(text);
        if terms.is_empty() {
            return Ok(SearchResults {
                reports: Vec::new(),
                households: Vec::new(),
            });
        }
        let limit = limit.clamp(1, 500) as usize;
        let where_sql: Vec<&str> = terms
            .iter()
            .map(|_| "r.search LIKE ? ESCAPE '\\'")
            .collect();
        let args: Vec<String> = terms.iter().map(|t| like_pattern(t)).collect();
        let sql = format!(
            "{SUMMARY_SQL} WHERE {} ORDER BY r.created_at DESC, r.id DESC LIMIT {limit}",
            where_sql.join(" AND ")
        );
        let reports = self.summaries(&sql, &args)?;
        let mut households = self.households(Some(text))?;
        households.truncate(limit);
        Ok(SearchResults {
            reports,
            households,
        })
    }

    /// Every change in the outbox, in sequence order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        outbox_entries(&self.conn, Outbox::All, 0, i64::MAX)
    }

    /// Records that a push carrying these changes has begun. From then on
    /// their payloads are frozen: the server may already hold them, so an
    /// edit of the report becomes a new revision instead.
    pub fn mark_attempted(&mut self, seqs: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE outbox SET attempted = 1 WHERE seq = ?1")?;
            for seq in seqs {
                stmt.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What the engine says of a report while it is being written: every
    /// rule it still breaks (as sending it would find them) and, for an
    /// inspection, the result its answers give and when the household falls
    /// due again. Nothing is saved; the forms call this as the leader types.
    pub fn check_report(&self, body: ReportBody) -> Result<ReportCheck> {
        let body = normalized(body);
        let now = Utc::now();
        let household = match check_references(&self.conn, &body) {
            Ok(h) => h,
            Err(DeviceError::Invalid(v)) => {
                return Ok(ReportCheck {
                    problems: v.0,
                    result: None,
                    reinspection_due: None,
                    body,
                });
            }
            Err(e) => return Err(e),
        };
        let (body, template) = completed(&self.conn, body, household.as_ref())?;
        let problems = match validate(&body, household.as_ref(), template.as_ref(), now) {
            Ok(()) => Vec::new(),
            Err(DeviceError::Invalid(v)) => v.0,
            Err(e) => return Err(e),
        };
        let (result, reinspection_due) = match (&body, &template) {
            (ReportBody::Inspection(i), Some(t)) => (Some(i.result(t)), i.reinspection_due()),
            _ => (None, None),
        };
        Ok(ReportCheck {
            problems,
            result,
            reinspection_due,
            body,
        })
    }

    /// Every report in full, oldest first (for export).
    pub fn export_reports(&self) -> Result<Vec<Report>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM reports ORDER BY created_at, id")?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| self.report(parse_id(id)?)).collect()
    }

    pub(super) fn summaries(&self, sql: &str, args: &[String]) -> Result<Vec<ReportSummary>> {
        /// A row of [`SUMMARY_SQL`], read by column name.
        struct Row {
            id: String,
            kind: String,
            status: String,
            rev: u32,
            day: String,
            category: Option<String>,
            body: String,
            created_at: String,
            updated_at: String,
            receipt_seq: Option<i64>,
            receipt_at: Option<String>,
            address: Option<String>,
            ward_status: Option<String>,
            refusal: StoredRefusal,
        }
        let lang = self.settings()?.lang;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok(Row {
                id: r.get("id")?,
                kind: r.get("kind")?,
                status: r.get("status")?,
                rev: r.get("rev")?,
                day: r.get("day")?,
                category: r.get("category")?,
                body: r.get("body")?,
                created_at: r.get("created_at")?,
                updated_at: r.get("updated_at")?,
                receipt_seq: r.get("receipt_seq")?,
                receipt_at: r.get("receipt_at")?,
                address: r.get("address")?,
                ward_status: r.get("ward_status")?,
                refusal: StoredRefusal::read(r)?,
            })
        })?;
        rows.map(|row| {
            let row = row?;
            let body = parse_body(&row.body)?;
            Ok(ReportSummary {
                id: parse_id(&row.id)?,
                kind: parse_code(&row.kind)?,
                status: parse_code(&row.status)?,
                rev: row.rev,
                day: row
                    .day
                    .parse()
                    .map_err(|_| DeviceError::Corrupt(format!("bad day {:?}", row.day)))?,
                category: row.category.as_deref().map(parse_code).transpose()?,
                title: title(&self.conn, &body, row.address.as_deref())?,
                created_at: parse_ts(&row.created_at)?,
                updated_at: parse_ts(&row.updated_at)?,
                receipt: receipt(row.receipt_seq, row.receipt_at)?,
                ward_status: row.ward_status.as_deref().map(parse_code).transpose()?,
                rejection: row.refusal.rejection(lang)?,
            })
        })
        .collect()
    }
}

/// The household a report refers to, which must be in the register.
/// Checked for drafts too: a draft must not point at nothing.
fn check_references(conn: &Connection, body: &ReportBody) -> Result<Option<Household>> {
    let (field, id) = match body {
        ReportBody::Tip(t) => ("location.household_id", t.location.household_id),
        ReportBody::Inspection(i) => ("household_id", Some(i.household_id)),
        ReportBody::IdCount(_) => return Ok(None),
    };
    let Some(id) = id else { return Ok(None) };
    match load_household(conn, id) {
        Ok(h) => Ok(Some(h)),
        Err(DeviceError::NotFound { .. }) => {
            Err(ValidationErrors(vec![FieldError::new(field, Rule::NotFound)]).into())
        }
        Err(e) => Err(e),
    }
}

fn load_existing(tx: &Transaction<'_>, id: ReportId) -> Result<Option<Existing>> {
    let row = tx
        .query_row(
            "SELECT r.created_at, r.ward_status, r.ward_note, r.ward_decided_at, r.kind, r.status, r.rev,
                    COALESCE((SELECT attempted FROM outbox o WHERE o.report_id = r.id AND o.rev = r.rev), 0)
                      AS attempted
             FROM reports r WHERE r.id = ?1",
            [id.to_string()],
            |r| {
                Ok((
                    (
                        r.get::<_, String>("created_at")?,
                        r.get::<_, Option<String>>("ward_status")?,
                        r.get::<_, Option<String>>("ward_note")?,
                        r.get::<_, Option<String>>("ward_decided_at")?,
                    ),
                    r.get::<_, String>("kind")?,
                    r.get::<_, String>("status")?,
                    r.get::<_, u32>("rev")?,
                    r.get::<_, bool>("attempted")?,
                ))
            },
        )
        .optional()?;
    row.map(
        |((created_at, ws, wn, wat), kind, status, rev, attempted)| {
            Ok(Existing {
                created_at: parse_ts(&created_at)?,
                ward: ward(ws, wn, wat)?,
                kind: parse_code(&kind)?,
                status: parse_code(&status)?,
                rev,
                attempted,
            })
        },
    )
    .transpose()
}

fn normalized(body: ReportBody) -> ReportBody {
    match body {
        ReportBody::Tip(t) => ReportBody::Tip(t.normalized()),
        ReportBody::Inspection(i) => ReportBody::Inspection(i.normalized()),
        c @ ReportBody::IdCount(_) => c,
    }
}

/// An inspection with what does not apply to its household answered
/// ([`sotay_domain::inspection::Inspection::complete`]), and the template
/// it names; other reports as they are.
fn completed(
    conn: &Connection,
    body: ReportBody,
    household: Option<&Household>,
) -> Result<(ReportBody, Option<ChecklistTemplate>)> {
    let ReportBody::Inspection(mut i) = body else {
        return Ok((body, None));
    };
    let template = super::sync::load_template(conn, &i.template.id, i.template.version)?;
    if let (Some(t), Some(h)) = (&template, household) {
        i.complete(t, h);
    }
    Ok((ReportBody::Inspection(i), template))
}

/// Every rule of a report about to be queued.
fn validate(
    body: &ReportBody,
    household: Option<&Household>,
    template: Option<&ChecklistTemplate>,
    now: DateTime<Utc>,
) -> Result<()> {
    match body {
        ReportBody::Tip(t) => t.validate(now)?,
        ReportBody::IdCount(c) => c.validate(now)?,
        ReportBody::Inspection(i) => {
            let Some(template) = template else {
                return Err(
                    ValidationErrors(vec![FieldError::new("template", Rule::NotFound)]).into(),
                );
            };
            let Some(h) = household else {
                return Err(ValidationErrors(vec![FieldError::new(
                    "household_id",
                    Rule::NotFound,
                )])
                .into());
            };
            i.validate(template, h, now)?;
        }
    }
    Ok(())
}

/// The Vietnamese day a report is about.
fn day_of(body: &ReportBody, now: DateTime<Utc>) -> NaiveDate {
    match body {
        ReportBody::Tip(t) => sotay_domain::vietnam_date(t.occurred_at.unwrap_or(now)),
        ReportBody::Inspection(i) => sotay_domain::vietnam_date(i.inspected_at),
        ReportBody::IdCount(c) => c.date,
    }
}

/// A one-line Vietnamese title for lists.
fn title(conn: &Connection, body: &ReportBody, household_address: Option<&str>) -> Result<String> {
    Ok(match body {
        ReportBody::Tip(t) => {
            let text: String = t.description.chars().take(80).collect();
            format!("{}: {text}", t.category.label().vi)
        }
        ReportBody::Inspection(i) => {
            let result = super::sync::load_template(conn, &i.template.id, i.template.version)?
                .map(|tpl| i.result(&tpl))
                // A template this build does not know: assume the worst.
                .unwrap_or(InspectionResult::Fail);
            format!(
                "PCCC {}: {}",
                household_address.unwrap_or("?"),
                result.label().vi
            )
        }
        ReportBody::IdCount(c) => format!(
            "Đề án 06 ngày {}: kích hoạt {}/thu nhận {}/nhân khẩu {}",
            c.date.format("%d/%m/%Y"),
            c.activated,
            c.collected,
            c.residents
        ),
    })
}

/// A report's refusal as stored: the server's code and words, and the
/// rules it listed (JSON).
struct StoredRefusal {
    code: Option<String>,
    message: Option<String>,
    fields: Option<String>,
}

impl StoredRefusal {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            code: r.get("rejected_code")?,
            message: r.get("rejected_message")?,
            fields: r.get("rejected_fields")?,
        })
    }

    /// The refusal as the leader reads it in `lang`: when the server listed
    /// the broken rules, they are said again in that language (the
    /// server's own words are Vietnamese); a code from a newer server is
    /// `unknown`, with the server's words.
    fn rejection(self, lang: Lang) -> Result<Option<Rejection>> {
        let Some(code) = self.code else {
            return Ok(None);
        };
        let fields: Vec<FieldError> = match self.fields.as_deref() {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| DeviceError::Corrupt(format!("rejected fields: {e}")))?,
        };
        let message = if fields.is_empty() {
            self.message.unwrap_or_default()
        } else {
            ValidationErrors(fields.clone()).messages(lang).join("; ")
        };
        Ok(Some(Rejection {
            code: code.parse().unwrap_or(RejectionCode::Unknown),
            message,
            fields,
        }))
    }
}

fn ward(
    status: Option<String>,
    note: Option<String>,
    at: Option<String>,
) -> Result<Option<WardDecision>> {
    match (status, at) {
        (Some(status), Some(at)) => Ok(Some(WardDecision {
            status: parse_code(&status)?,
            note,
            decided_at: parse_ts(&at)?,
        })),
        _ => Ok(None),
    }
}

fn receipt(seq: Option<i64>, at: Option<String>) -> Result<Option<Receipt>> {
    match (seq, at) {
        (Some(server_seq), Some(at)) => Ok(Some(Receipt {
            server_seq,
            received_at: parse_ts(&at)?,
        })),
        _ => Ok(None),
    }
}

/// Outbox entries matching `filter` (an SQL condition), in sequence order.
/// Which outbox entries to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outbox {
    /// Every entry still holding its change.
    All,
    /// Those the server has not answered yet (neither receipt nor refusal).
    Unanswered,
}

pub(super) fn outbox_entries(
    conn: &Connection,
    which: Outbox,
    after: i64,
    limit: i64,
) -> Result<Vec<OutboxEntry>> {
    // Two fixed statements, not a condition spliced in: the unanswered
    // one is what the partial index `outbox_pending` serves.
    let mut stmt = conn.prepare_cached(match which {
        Outbox::All => {
            "SELECT seq, report_id, rev, kind, payload, queued_at, attempted FROM outbox
             WHERE pruned = 0 AND seq > ?2 ORDER BY seq LIMIT ?1"
        }
        Outbox::Unanswered => {
            "SELECT seq, report_id, rev, kind, payload, queued_at, attempted FROM outbox
             WHERE pruned = 0 AND seq > ?2 AND receipt_seq IS NULL AND rejected_code IS NULL
             ORDER BY seq LIMIT ?1"
        }
    })?;
    let rows = stmt.query_map(rusqlite::params![limit, after], |r| {
        Ok((
            r.get::<_, i64>("seq")?,
            r.get::<_, String>("report_id")?,
            r.get::<_, u32>("rev")?,
            r.get::<_, String>("kind")?,
            r.get::<_, String>("payload")?,
            r.get::<_, String>("queued_at")?,
            r.get::<_, bool>("attempted")?,
        ))
    })?;
    rows.map(|row| {
        let (seq, id, rev, kind, payload, queued_at, attempted) = row?;
        Ok(OutboxEntry {
            bytes: payload.len() as u64,
            seq,
            report_id: parse_id(&id)?,
            rev,
            kind: parse_code(&kind)?,
            body: parse_body(&payload)?,
            queued_at: parse_ts(&queued_at)?,
            attempted,
        })
    })
    .collect()
}

pub(super) fn parse_body(json: &str) -> Result<ReportBody> {
    serde_json::from_str(json).map_err(|e| DeviceError::Corrupt(format!("bad report body: {e}")))
}

pub(super) fn parse_id(s: &str) -> Result<ReportId> {
    s.parse()
        .map_err(|_| DeviceError::Corrupt(format!("bad report id {s:?}")))
}

pub(super) fn parse_code<T: std::str::FromStr>(s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| DeviceError::Corrupt(format!("bad code {s:?}")))
}
