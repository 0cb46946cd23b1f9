//! Evidence photos in the store: taken in once by their hash
//! ([`Store::add_photo`]), listed by the reports that show them, and queued
//! for upload when such a report is queued ([`queue_photos`]); the sync
//! client sends them after the reports ([`Store::due_photos`],
//! [`Store::photo_sent`], [`Store::photo_failed`]).

use super::{Store, ts};
use crate::error::{DeviceError, Result};
use crate::photo::{Normalized, PhotoError};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sotay_domain::ReportBody;
use sotay_domain::photo::PhotoRef;
use sotay_domain::validation::{FieldError, Rule, ValidationErrors};

/// A photo waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePhoto {
    pub sha256: String,
    pub bytes: u64,
    pub attempts: u32,
}

/// How far the photo queue is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PhotoQueue {
    /// Photos still to send, and their bytes.
    pub pending: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pending_bytes: u64,
    /// Photos the server holds.
    pub sent: u64,
}

impl Store {
    /// Takes a photo in ([`crate::photo::normalize`]) and stores it once
    /// by its hash; returns what a report lists of it. Nothing else
    /// changes: the photo belongs to a report only once the report is
    /// saved listing it.
    pub fn add_photo(&mut self, file: &[u8]) -> Result<PhotoRef> {
        let Normalized { jpeg, photo } = crate::photo::normalize(file).map_err(photo_error)?;
        keep(&self.conn, &photo, &jpeg)?;
        Ok(photo)
    }

    /// The JPEG of a stored photo.
    pub fn photo(&self, sha256: &str) -> Result<Vec<u8>> {
        self.conn
            .query_row("SELECT data FROM photos WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| DeviceError::NotFound {
                what: "photo",
                id: sha256.to_owned(),
            })
    }

    /// Photos to send now, oldest queued first: not yet sent, not
    /// waiting out a backoff.
    pub fn due_photos(&self, now: DateTime<Utc>) -> Result<Vec<DuePhoto>> {
        let mut stmt = self.conn.prepare_cached(DUE_SQL)?;
        let rows = stmt
            .query_map([ts(now)], |r| {
                Ok(DuePhoto {
                    sha256: r.get("sha256")?,
                    bytes: r.get::<_, i64>("bytes")?.max(0) as u64,
                    attempts: r.get("attempts")?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The server holds the photo whole.
    pub fn photo_sent(&mut self, sha256: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE photo_uploads SET sent_at = ?2, last_error = NULL WHERE sha256 = ?1",
            params![sha256, ts(Utc::now())],
        )?;
        Ok(())
    }

    /// An attempt failed: tried again from `retry_at`, the others go on.
    pub fn photo_failed(
        &mut self,
        sha256: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE photo_uploads SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
             WHERE sha256 = ?1",
            params![sha256, error, ts(retry_at)],
        )?;
        Ok(())
    }

    /// How far the photo queue is.
    pub fn photo_queue(&self) -> Result<PhotoQueue> {
        Ok(self.conn.query_row(QUEUE_SQL, [], |r| {
            Ok(PhotoQueue {
                pending: r.get::<_, i64>("pending")?.max(0) as u64,
                pending_bytes: r.get::<_, i64>("pending_bytes")?.max(0) as u64,
                sent: r.get::<_, i64>("sent")?.max(0) as u64,
            })
        })?)
    }
}

// The queue's queries take a photo's size from the covering index of
// migration 0011, never from the photo's own row: its size is stored after
// its bytes, so reading it there would read (and decrypt) the whole picture.
const DUE_SQL: &str = "SELECT u.sha256, p.bytes, u.attempts FROM photo_uploads u
     JOIN photos p INDEXED BY photos_size ON p.sha256 = u.sha256
     WHERE u.sent_at IS NULL AND (u.next_attempt_at IS NULL OR u.next_attempt_at <= ?1)
     ORDER BY u.queued_at, u.sha256";
const QUEUE_SQL: &str = "SELECT COALESCE(SUM(u.sent_at IS NULL), 0) AS pending,
        COALESCE(SUM(CASE WHEN u.sent_at IS NULL THEN p.bytes END), 0) AS pending_bytes,
        COALESCE(SUM(u.sent_at IS NOT NULL), 0) AS sent
     FROM photo_uploads u JOIN photos p INDEXED BY photos_size ON p.sha256 = u.sha256";

/// Stores `jpeg` as the photo `photo` names, once (a photo already held
/// is left as it is); nothing queues it for upload.
pub(super) fn keep(conn: &Connection, photo: &PhotoRef, jpeg: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO photos (sha256, data, bytes, width, height, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sha256) DO NOTHING",
        params![
            photo.sha256,
            jpeg,
            i64::try_from(photo.bytes).unwrap_or(i64::MAX),
            photo.width,
            photo.height,
            ts(Utc::now())
        ],
    )?;
    Ok(())
}

/// Every photo `body` lists must be in the store (taken in with
/// [`Store::add_photo`]): a report never names a photo the device cannot
/// send.
pub(super) fn check_photos(conn: &Connection, body: &ReportBody) -> Result<()> {
    let mut missing = Vec::new();
    for (i, (item, p)) in body.photos().into_iter().enumerate() {
        let held: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM photos WHERE sha256 = ?1)")?
            .query_row([&p.sha256], |r| r.get(0))?;
        if !held {
            let field = match item {
                None => format!("photos[{i}]"),
                Some(item) => format!("answers.{item}.photos"),
            };
            missing.push(FieldError::new(field, Rule::NotFound));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(missing).into())
    }
}

/// Queues the photos a queued report lists (once each, whatever the number
/// of reports or revisions that list them).
pub(super) fn queue_photos(conn: &Connection, body: &ReportBody, now: &str) -> Result<()> {
    for (_, p) in body.photos() {
        conn.prepare_cached(
            "INSERT INTO photo_uploads (sha256, queued_at) VALUES (?1, ?2)
             ON CONFLICT (sha256) DO NOTHING",
        )?
        .execute(params![p.sha256, now])?;
    }
    Ok(())
}

/// Offers the photos of report `id` again: the server lost the report
/// (it went back to an older checkpoint), so it may have lost them too.
pub(super) fn requeue_photos_of(conn: &Connection, id: &str) -> Result<()> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM reports WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    let Some(body) = body else { return Ok(()) };
    let body: ReportBody = serde_json::from_str(&body)
        .map_err(|e| DeviceError::Corrupt(format!("report {id}: {e}")))?;
    for (_, p) in body.photos() {
        conn.prepare_cached(
            "UPDATE photo_uploads SET sent_at = NULL, attempts = 0, next_attempt_at = NULL
             WHERE sha256 = ?1",
        )?
        .execute([&p.sha256])?;
    }
    Ok(())
}

fn photo_error(e: PhotoError) -> DeviceError {
    DeviceError::Photo(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_reads_photo_sizes_from_the_index_never_the_pictures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_dir(dir.path()).expect("store");
        for (sql, args) in [(DUE_SQL, vec![ts(Utc::now())]), (QUEUE_SQL, vec![])] {
            let mut stmt = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get("detail"))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            // Every step that touches the photos reads only the index.
            let photo_steps: Vec<&String> = plan
                .iter()
                .filter(|d| d.starts_with("SCAN p") || d.starts_with("SEARCH p"))
                .collect();
            assert!(
                !photo_steps.is_empty()
                    && photo_steps
                        .iter()
                        .all(|d| d.contains("COVERING INDEX photos_size")),
                "{sql}: {plan:?}"
            );
        }
    }
}
