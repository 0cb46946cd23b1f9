//! The store's side of sync: the enrollment, which changes are pending,
//! what the server answered, the pull cursor and what the ward sent back.
//!
//! Every update here is one transaction: a receipt and the report's status
//! move together; pulled data and the cursor that covers it move together.

use super::reports::{Outbox, OutboxEntry, outbox_entries};
use super::{Store, parse_ts, ts};
use crate::error::{DeviceError, Result};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sotay_domain::inspection::ChecklistTemplate;
use sotay_domain::labels::Lang;
use sotay_domain::place::DevicePlace;
use sotay_domain::wire::{ChangeOutcome, ChangeResult, DeviceId, PullEntry, PullItem};

/// How this device reaches its server. `Debug` never shows the token.
#[derive(Clone)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: DeviceId,
    pub token: String,
    /// The server's id from `server-info` (absent for enrollments made
    /// before servers had one).
    pub server_id: Option<String>,
    /// The pinned SHA-256 of the server's TLS key, if the link had one.
    pub pin: Option<String>,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("server_id", &self.server_id)
            .field("pin", &self.pin)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What the leader sees of sync: counts and the last outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub enrolled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Reports waiting to reach the server.
    pub pending: u64,
    /// Reports the server holds (with a receipt).
    pub sent: u64,
    /// Reports the server refused, waiting for the leader.
    pub quarantined: u64,
    pub drafts: u64,
    /// Changes (revisions) waiting in the outbox.
    pub pending_changes: u64,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_error: Option<LastError>,
    /// Where the data key is kept: the OS keystore, or a private file.
    pub key_storage: super::key::KeyPlace,
    /// The device's ward and group codes (after any merge, split or
    /// rename the ward made), once it has a place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The one line about the last change of the device's group, in the
    /// leader's language, if the ward made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_notice: Option<String>,
}

/// What the device keeps of the last change of its group (`device.place_notice`),
/// so the notice is written in whichever language the leader reads it in.
#[derive(Debug, Serialize, serde::Deserialize)]
struct StoredNotice {
    change: sotay_domain::place::PlaceChange,
    before: Vec<sotay_domain::place::Place>,
    day: chrono::NaiveDate,
}

/// The last sync's failure, if it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LastError {
    pub code: crate::sync::Code,
    pub message: String,
}

impl Store {
    /// Records an enrollment: the server, the device's credentials and the
    /// group the server assigned, in one transaction.
    pub fn enroll(&mut self, server_url: &str, e: &Enrollment, place: &DevicePlace) -> Result<()> {
        if let Some(current) = &self.place
            && (current.group.code != place.group.code || current.ward.code != place.ward.code)
        {
            return Err(DeviceError::AlreadyInitialized {
                current: current.group.code.to_string(),
            });
        }
        let tx = self.conn.transaction()?;
        super::write_place(&tx, place)?;
        tx.execute(
            "INSERT INTO sync_state (id, server_url, device_id, token, enrolled_at, server_id, server_pin)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, device_id = excluded.device_id,
                 token = excluded.token, enrolled_at = excluded.enrolled_at, pull_cursor = 0,
                 server_id = excluded.server_id, server_pin = excluded.server_pin",
            params![server_url, e.device_id.to_string(), e.token, ts(Utc::now()), e.server_id, e.pin],
        )?;
        tx.commit()?;
        self.place = Some(place.clone());
        Ok(())
    }

    /// The enrollment, if this device has one.
    pub fn enrollment(&self) -> Result<Option<Enrollment>> {
        let row = self
            .conn
            .query_row(
                "SELECT server_url, device_id, token, server_id, server_pin FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>("server_url")?,
                        r.get::<_, String>("device_id")?,
                        r.get::<_, String>("token")?,
                        r.get::<_, Option<String>>("server_id")?,
                        r.get::<_, Option<String>>("server_pin")?,
                    ))
                },
            )
            .optional()?;
        row.map(|(server_url, device_id, token, server_id, pin)| {
            Ok(Enrollment {
                server_url,
                device_id: DeviceId(
                    device_id
                        .parse()
                        .map_err(|_| DeviceError::Corrupt("bad device id".into()))?,
                ),
                token,
                server_id,
                pin,
            })
        })
        .transpose()
    }

    /// Changes the server has not answered yet, oldest first.
    pub fn pending_changes(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.pending_changes_after(0, limit)
    }

    /// [`Store::pending_changes`] with a sequence number above `after`:
    /// the batch after the one in flight.
    pub fn pending_changes_after(&self, after: i64, limit: usize) -> Result<Vec<OutboxEntry>> {
        outbox_entries(
            &self.conn,
            Outbox::Unanswered,
            after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
    }

    /// How many changes wait for the server and roughly how many bytes
    /// they make on the wire (their stored JSON), for progress.
    pub fn pending_totals(&self) -> Result<(u64, u64)> {
        let (n, bytes): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS bytes FROM outbox
                 WHERE receipt_seq IS NULL AND rejected_code IS NULL",
            )?
            .query_row([], |r| Ok((r.get("n")?, r.get("bytes")?)))?;
        Ok((
            u64::try_from(n).unwrap_or_default(),
            u64::try_from(bytes).unwrap_or_default(),
        ))
    }

    /// How many changes wait for the server.
    pub fn pending_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM outbox WHERE receipt_seq IS NULL AND rejected_code IS NULL",
            )?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Stores the server's answers: receipts make reports `sent`, refusals
    /// make them `quarantined` with the reason. A report whose newer
    /// revision is still waiting stays `queued`.
    pub fn apply_push_results(&mut self, results: &[ChangeResult]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut receipt_outbox = tx.prepare_cached(
                "UPDATE outbox SET receipt_seq = ?3, receipt_at = ?4, rejected_code = NULL, rejected_message = NULL
                 WHERE report_id = ?1 AND rev = ?2 AND seq = ?5",
            )?;
            let mut receipt_report = tx.prepare_cached(
                "UPDATE reports SET status = 'sent', receipt_seq = ?3, receipt_at = ?4,
                     rejected_code = NULL, rejected_message = NULL, rejected_fields = NULL
                 WHERE id = ?1 AND rev = ?2 AND status = 'queued'",
            )?;
            // What sync no longer needs: older revisions the server holds,
            // now that a newer one is there too.
            let mut prune = tx.prepare_cached(
                "UPDATE outbox SET payload = '', pruned = 1
                 WHERE report_id = ?1 AND rev < ?2 AND receipt_seq IS NOT NULL AND pruned = 0",
            )?;
            let mut refused_outbox = tx.prepare_cached(
                "UPDATE outbox SET rejected_code = ?3, rejected_message = ?4
                 WHERE report_id = ?1 AND rev = ?2 AND seq = ?5",
            )?;
            let mut refused_report = tx.prepare_cached(
                "UPDATE reports SET status = 'quarantined', rejected_code = ?3, rejected_message = ?4,
                     rejected_fields = ?5
                 WHERE id = ?1 AND rev = ?2 AND status = 'queued'",
            )?;
            for r in results {
                let id = r.report_id.to_string();
                match &r.outcome {
                    ChangeOutcome::Accepted { receipt } => {
                        let at = ts(receipt.received_at);
                        receipt_outbox.execute(params![
                            id,
                            r.rev,
                            receipt.server_seq,
                            at,
                            r.device_seq
                        ])?;
                        receipt_report.execute(params![id, r.rev, receipt.server_seq, at])?;
                        super::sealing::keep_only_sealed(&tx, &id, r.rev, r.device_seq)?;
                        if r.rev > 1 {
                            prune.execute(params![id, r.rev])?;
                        }
                    }
                    ChangeOutcome::Rejected {
                        code,
                        message,
                        fields,
                    } => {
                        let code = code.code();
                        let fields = if fields.is_empty() {
                            None
                        } else {
                            Some(serde_json::to_string(fields).map_err(|e| {
                                DeviceError::Corrupt(format!("rejected fields: {e}"))
                            })?)
                        };
                        refused_outbox.execute(params![id, r.rev, code, message, r.device_seq])?;
                        refused_report.execute(params![id, r.rev, code, message, fields])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Compares the server's checkpoint with what this device believes was
    /// delivered. Answers above the checkpoint were lost by the server (say,
    /// restored from a backup): they are forgotten here, so those changes
    /// go out again. Returns how many.
    pub fn reconcile_checkpoint(&mut self, checkpoint: i64) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let lost: Vec<(String, u32)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT report_id, rev FROM outbox WHERE seq > ?1 AND pruned = 0
                 AND (receipt_seq IS NOT NULL OR rejected_code IS NOT NULL)",
            )?;
            stmt.query_map([checkpoint], |r| Ok((r.get("report_id")?, r.get("rev")?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        tx.execute(
            "UPDATE outbox SET receipt_seq = NULL, receipt_at = NULL, rejected_code = NULL, rejected_message = NULL
             WHERE seq > ?1 AND pruned = 0 AND (receipt_seq IS NOT NULL OR rejected_code IS NOT NULL)",
            [checkpoint],
        )?;
        for (id, rev) in &lost {
            tx.execute(
                "UPDATE reports SET status = 'queued', receipt_seq = NULL, receipt_at = NULL,
                     rejected_code = NULL, rejected_message = NULL, rejected_fields = NULL
                 WHERE id = ?1 AND rev = ?2 AND status IN ('sent', 'quarantined')",
                params![id, rev],
            )?;
            // A server that lost the report may have lost its photos too:
            // they are offered again (`HEAD` skips those it still has).
            super::photos::requeue_photos_of(&tx, id)?;
        }
        tx.commit()?;
        Ok(lost.len())
    }

    /// Where the next pull starts.
    pub fn pull_cursor(&self) -> Result<i64> {
        let c: Option<i64> = self
            .conn
            .query_row("SELECT pull_cursor FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(c.unwrap_or(0))
    }

    /// Applies pulled entries and moves the cursor, in one transaction.
    pub fn apply_pull(&mut self, entries: &[PullEntry], next_cursor: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut moved = None;
        for e in entries {
            match &e.item {
                PullItem::TipStatus {
                    report_id,
                    status,
                    note,
                    decided_at,
                } => {
                    tx.execute(
                        "UPDATE reports SET ward_status = ?2, ward_note = ?3, ward_decided_at = ?4
                         WHERE id = ?1 AND kind = 'tip'",
                        params![report_id.to_string(), status.code(), note, ts(*decided_at)],
                    )?;
                }
                PullItem::Template { template } => {
                    let body = serde_json::to_string(template)
                        .map_err(|e| DeviceError::Corrupt(format!("template: {e}")))?;
                    tx.execute(
                        "INSERT INTO checklist_templates (id, version, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (id, version) DO UPDATE SET body = excluded.body",
                        params![template.id, template.version, body],
                    )?;
                }
                PullItem::Household { household } => super::households::upsert(&tx, household)?,
                PullItem::Announcement { announcement } => {
                    super::announcements::upsert(&tx, announcement)?;
                }
                PullItem::HouseholdRemoved { household_id } => {
                    super::households::mark_removed(&tx, *household_id)?;
                }
                // The ward merged, split or renamed the group: the device
                // belongs where the item says; its reports and register
                // stay (the server moved them with it).
                PullItem::Place {
                    place,
                    change,
                    before,
                    at,
                } => {
                    let notice = StoredNotice {
                        change: *change,
                        before: before.clone(),
                        day: sotay_domain::vietnam_date(*at),
                    };
                    let notice = serde_json::to_string(&notice)
                        .map_err(|e| DeviceError::Corrupt(format!("place notice: {e}")))?;
                    super::move_place(&tx, place, &notice)?;
                    moved = Some(place.clone());
                }
                // From a newer server: skipped, the cursor still moves on.
                PullItem::Unknown => {}
            }
        }
        tx.execute(
            "UPDATE sync_state SET pull_cursor = MAX(pull_cursor, ?1) WHERE id = 1",
            [next_cursor],
        )?;
        tx.commit()?;
        if let Some(place) = moved {
            self.place = Some(place);
        }
        Ok(())
    }

    /// Records how the last sync ended: a failure keeps its code and its
    /// message in both languages, so the home screen says it in the
    /// language the leader reads when they look.
    pub fn record_sync(&mut self, error: Option<&crate::sync::SyncError>) -> Result<()> {
        match error {
            None => self.conn.execute(
                "UPDATE sync_state SET last_sync_at = ?1, last_error_code = NULL,
                     last_error_message = NULL, last_error_message_en = NULL WHERE id = 1",
                [ts(Utc::now())],
            )?,
            Some(e) => self.conn.execute(
                "UPDATE sync_state SET last_error_code = ?1, last_error_message = ?2,
                     last_error_message_en = ?3 WHERE id = 1",
                [
                    e.code().as_str(),
                    &e.message(Lang::Vi),
                    &e.message(Lang::En),
                ],
            )?,
        };
        Ok(())
    }

    /// What the leader sees of sync.
    /// The notice of the last change of the device's group, written in
    /// `lang` from what the server sent.
    pub fn place_notice(&self, lang: Lang) -> Result<Option<String>> {
        let raw: Option<String> = self
            .conn
            .query_row("SELECT place_notice FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        let (Some(raw), Some(place)) = (raw, self.place.as_ref()) else {
            return Ok(None);
        };
        let s: StoredNotice = serde_json::from_str(&raw)
            .map_err(|e| DeviceError::Corrupt(format!("place notice: {e}")))?;
        Ok(Some(sotay_domain::place::place_notice(
            lang, s.change, &s.before, place, s.day,
        )))
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let counts = self.conn.query_row(
            "SELECT COALESCE(SUM(status = 'queued'), 0) AS pending, COALESCE(SUM(status = 'sent'), 0) AS sent,
                    COALESCE(SUM(status = 'quarantined'), 0) AS quarantined,
                    COALESCE(SUM(status = 'draft'), 0) AS drafts FROM reports",
            [],
            |r| {
                Ok([
                    r.get::<_, i64>("pending")?,
                    r.get("sent")?,
                    r.get("quarantined")?,
                    r.get("drafts")?,
                ])
            },
        )?;
        let [pending, sent, quarantined, drafts] =
            counts.map(|n| u64::try_from(n).unwrap_or_default());
        struct State {
            url: String,
            at: Option<String>,
            code: Option<String>,
            vi: Option<String>,
            en: Option<String>,
        }
        let state = self
            .conn
            .query_row(
                "SELECT server_url, last_sync_at, last_error_code, last_error_message, last_error_message_en
                 FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok(State {
                        url: r.get("server_url")?,
                        at: r.get("last_sync_at")?,
                        code: r.get("last_error_code")?,
                        vi: r.get("last_error_message")?,
                        en: r.get("last_error_message_en")?,
                    })
                },
            )
            .optional()?;
        let lang = self.settings()?.lang;
        let (server_url, last_sync, last_error) = match state {
            None => (None, None, None),
            Some(s) => {
                // In the leader's language now; an error recorded before
                // both were kept has only the one it was recorded in.
                let message = match lang {
                    Lang::En => s.en.or(s.vi),
                    Lang::Vi => s.vi,
                };
                (
                    Some(s.url),
                    s.at.as_deref().map(parse_ts).transpose()?,
                    s.code.map(|code| LastError {
                        code: crate::sync::Code::parse(&code),
                        message: message.unwrap_or_default(),
                    }),
                )
            }
        };
        Ok(SyncStatus {
            enrolled: server_url.is_some(),
            server_url,
            pending,
            sent,
            quarantined,
            drafts,
            pending_changes: self.pending_count()?,
            last_sync,
            last_error,
            key_storage: self.key_place,
            ward: self.place.as_ref().map(|p| p.ward.code.to_string()),
            group: self.place.as_ref().map(|p| p.group.code.to_string()),
            place_notice: self.place_notice(lang)?,
        })
    }

    /// The template new inspections of `id` use (see [`current_template`]).
    pub fn current_template(&self, id: &str) -> Result<Option<ChecklistTemplate>> {
        current_template(&self.conn, id)
    }

    /// A checklist template version: one the ward sent, or a built-in one.
    pub fn template(&self, id: &str, version: u32) -> Result<Option<ChecklistTemplate>> {
        load_template(&self.conn, id, version)
    }
}

/// The template a new inspection is made against: the newest version of
/// `id` the ward published, or the newest built in if that is newer.
pub(super) fn current_template(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Option<ChecklistTemplate>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM checklist_templates WHERE id = ?1 ORDER BY version DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let published = body
        .map(|b| {
            serde_json::from_str::<ChecklistTemplate>(&b)
                .map_err(|e| DeviceError::Corrupt(format!("template: {e}")))
        })
        .transpose()?;
    Ok(ChecklistTemplate::newest(published.as_slice(), id))
}

pub(super) fn load_template(
    conn: &rusqlite::Connection,
    id: &str,
    version: u32,
) -> Result<Option<ChecklistTemplate>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM checklist_templates WHERE id = ?1 AND version = ?2",
            params![id, version],
            |r| r.get(0),
        )
        .optional()?;
    match body {
        Some(b) => serde_json::from_str(&b)
            .map(Some)
            .map_err(|e| DeviceError::Corrupt(format!("template: {e}"))),
        None => Ok(ChecklistTemplate::builtin(id, version)),
    }
}
