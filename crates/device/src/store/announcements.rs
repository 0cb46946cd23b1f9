//! The `announcements` table: what the ward told its leaders, whether the
//! leader read each, and whether the server has the read receipt.

use super::{Store, parse_ts, ts};
use crate::error::{DeviceError, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use sotay_domain::AnnouncementId;
use sotay_domain::announcement::{Announcement, ReadReceipt};
use sotay_domain::photo::PhotoRef;

/// Announcements older than this raise no notification (they are on the
/// home screen).
pub const NOTIFY_WITHIN_DAYS: i64 = 3;

/// A local notification to raise: a new announcement of the ward, or a
/// new ward decision on one of this device's tips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalNotice {
    pub title: String,
    pub body: String,
    /// An urgent announcement: raised to ask for attention.
    pub urgent: bool,
}

/// An announcement as the device holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredAnnouncement {
    #[serde(flatten)]
    pub announcement: Announcement,
    /// The leader marked it read.
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    /// Its photo is on the phone (fetched after the pull; until then the
    /// card shows none).
    pub photo_saved: bool,
}

/// Writes an announcement pulled from the server (again: its text may
/// have been corrected); whether it was read stays.
pub(super) fn upsert(conn: &Connection, a: &Announcement) -> Result<()> {
    let photo = a
        .photo
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| DeviceError::Corrupt(format!("announcement photo: {e}")))?;
    conn.execute(
        "INSERT INTO announcements (id, title, text, urgent, sent_at, photo, photo_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, text = excluded.text,
             urgent = excluded.urgent, sent_at = excluded.sent_at, photo = excluded.photo,
             photo_sha256 = excluded.photo_sha256",
        params![
            a.id.to_string(),
            a.title,
            a.text,
            a.urgent,
            ts(a.sent_at),
            photo,
            a.photo.as_ref().map(|p| p.sha256.clone())
        ],
    )?;
    Ok(())
}

fn photo_of(raw: Option<String>) -> Result<Option<PhotoRef>> {
    raw.map(|p| {
        serde_json::from_str(&p)
            .map_err(|e| DeviceError::Corrupt(format!("announcement photo {p:?}: {e}")))
    })
    .transpose()
}

fn id_of(raw: &str) -> Result<AnnouncementId> {
    raw.parse()
        .map_err(|_| DeviceError::Corrupt(format!("bad announcement id {raw:?}")))
}

impl Store {
    /// Every announcement: urgent ones first, then the newest first.
    pub fn announcements(&self) -> Result<Vec<StoredAnnouncement>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.title, a.text, a.urgent, a.sent_at, a.read_at, a.photo,
                    EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = a.photo_sha256) AS photo_saved
             FROM announcements a
             ORDER BY a.urgent DESC, a.sent_at DESC, a.id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                (
                    r.get::<_, String>("id")?,
                    r.get::<_, String>("title")?,
                    r.get::<_, String>("text")?,
                    r.get::<_, bool>("urgent")?,
                ),
                r.get::<_, String>("sent_at")?,
                r.get::<_, Option<String>>("read_at")?,
                r.get::<_, Option<String>>("photo")?,
                r.get::<_, bool>("photo_saved")?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, title, text, urgent), sent_at, read_at, photo, photo_saved) = row?;
            let read_at = read_at.as_deref().map(parse_ts).transpose()?;
            out.push(StoredAnnouncement {
                announcement: Announcement {
                    id: id_of(&id)?,
                    title,
                    text,
                    urgent,
                    sent_at: parse_ts(&sent_at)?,
                    photo: photo_of(photo)?,
                },
                read: read_at.is_some(),
                read_at,
                photo_saved,
            });
        }
        Ok(out)
    }

    /// The leader read announcement `id`: its receipt goes to the server
    /// at the next sync. Reading it again changes nothing.
    pub fn mark_announcement_read(&mut self, id: AnnouncementId, now: DateTime<Utc>) -> Result<()> {
        let known: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM announcements WHERE id = ?1)",
            params![id.to_string()],
            |r| r.get(0),
        )?;
        if !known {
            return Err(DeviceError::NotFound {
                what: "announcement",
                id: id.to_string(),
            });
        }
        self.conn.execute(
            "UPDATE announcements SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL",
            params![id.to_string(), ts(now)],
        )?;
        Ok(())
    }

    /// The notifications to raise now, each once: every announcement not
    /// notified yet and sent in the last [`NOTIFY_WITHIN_DAYS`] days (older
    /// ones, as a newly enrolled phone pulls them all, wait on the home
    /// screen without a burst of notifications), urgent ones first; then
    /// every campaign not notified that has not ended; then every ward
    /// decision on a tip newer than the last one notified. Marks them
    /// notified. A notice shows on a lock screen, which whoever
    /// holds the phone reads: it carries an announcement's title only, and
    /// names no tip.
    pub fn take_notices(&mut self, lang: sotay_domain::Lang) -> Result<Vec<LocalNotice>> {
        use sotay_domain::Labelled;
        let since = ts(Utc::now() - chrono::TimeDelta::days(NOTIFY_WITHIN_DAYS));
        let tx = self.conn.transaction()?;
        let mut out = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT title, urgent FROM announcements WHERE notified = 0 AND sent_at >= ?1
                 ORDER BY urgent DESC, sent_at",
            )?;
            let body = match lang {
                sotay_domain::Lang::Vi => "Thông báo của phường: mở Sổ tay để đọc.",
                sotay_domain::Lang::En => "An announcement of the ward: open Sổ tay to read it.",
            };
            let rows = stmt.query_map(params![since], |r| {
                Ok(LocalNotice {
                    title: r.get(0)?,
                    body: body.to_owned(),
                    urgent: r.get(1)?,
                })
            })?;
            for n in rows {
                out.push(n?);
            }
            // A new campaign: its title and target, which the whole ward
            // was told.
            let today = sotay_domain::vietnam_date(Utc::now());
            for c in super::campaigns::take_unnotified(&tx, today)? {
                let title = match lang {
                    sotay_domain::Lang::Vi => format!("Đợt cao điểm mới: {}", c.title),
                    sotay_domain::Lang::En => format!("A new campaign: {}", c.title),
                };
                let until = c.ends_on.format("%d/%m/%Y");
                let goal = sotay_domain::labels::campaign_goal(&c.goal, lang);
                let body = match lang {
                    sotay_domain::Lang::Vi => format!("Chỉ tiêu: {goal}, đến hết {until}."),
                    sotay_domain::Lang::En => format!("Target: {goal}, by {until}."),
                };
                out.push(LocalNotice {
                    title,
                    body,
                    urgent: false,
                });
            }
            // A decision's notice names no tip: a phone's lock screen is
            // read by whoever holds it. The home screen has the rest.
            let mut stmt = tx.prepare(
                "SELECT ward_status FROM reports
                 WHERE kind = 'tip' AND ward_decided_at IS NOT NULL
                   AND (ward_notified_at IS NULL OR ward_notified_at <> ward_decided_at)
                 ORDER BY ward_decided_at",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for row in rows {
                let status = row?;
                let status: sotay_domain::wire::WardStatus = status
                    .parse()
                    .map_err(|_| DeviceError::Corrupt(format!("ward status {status:?}")))?;
                let (heading, body) = match lang {
                    sotay_domain::Lang::Vi => (
                        "Phường đã xử lý tin báo",
                        "Mở Sổ tay để xem tin nào và ghi chú của phường.",
                    ),
                    sotay_domain::Lang::En => (
                        "The ward decided on a tip",
                        "Open Sổ tay to see which tip and the ward's note.",
                    ),
                };
                out.push(LocalNotice {
                    title: format!("{heading}: {}", status.label().get(lang)),
                    body: body.to_owned(),
                    urgent: false,
                });
            }
        }
        tx.execute(
            "UPDATE announcements SET notified = 1 WHERE notified = 0",
            [],
        )?;
        tx.execute(
            "UPDATE reports SET ward_notified_at = ward_decided_at
             WHERE ward_decided_at IS NOT NULL
               AND (ward_notified_at IS NULL OR ward_notified_at <> ward_decided_at)",
            [],
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// The photos of announcements that are not on the phone yet.
    pub fn missing_announcement_photos(&self) -> Result<Vec<PhotoRef>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT a.photo FROM announcements a
             WHERE a.photo IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = a.photo_sha256)
             ORDER BY a.photo",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(photo_of(Some(row?))?);
        }
        Ok(out)
    }

    /// Keeps an announcement's photo the server sent, once its bytes are
    /// the ones `photo` names (their SHA-256 and length); never queued for
    /// upload. Bytes that are not are refused, and nothing is kept.
    pub fn keep_announcement_photo(&mut self, photo: &PhotoRef, bytes: &[u8]) -> Result<()> {
        if crate::photo::sha256_hex(bytes) != photo.sha256 || bytes.len() as u64 != photo.bytes {
            return Err(DeviceError::Corrupt(format!(
                "the server's photo {} does not match its name",
                photo.sha256
            )));
        }
        super::photos::keep(&self.conn, photo, bytes)
    }

    /// Read receipts the server does not have yet.
    pub fn unsent_read_receipts(&self) -> Result<Vec<ReadReceipt>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, read_at FROM announcements
             WHERE read_at IS NOT NULL AND receipt_sent = 0 ORDER BY read_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at) = row?;
            out.push(ReadReceipt {
                announcement_id: id_of(&id)?,
                read_at: parse_ts(&at)?,
            });
        }
        Ok(out)
    }

    /// The server acknowledged these receipts.
    pub fn read_receipts_sent(&mut self, receipts: &[ReadReceipt]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for r in receipts {
            tx.execute(
                "UPDATE announcements SET receipt_sent = 1 WHERE id = ?1 AND read_at = ?2",
                params![r.announcement_id.to_string(), ts(r.read_at)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
