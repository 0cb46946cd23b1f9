//! Sealing on the device: the ward's source key, the sealed form of every
//! tip that leaves the device, and erasing a source a newer revision
//! withdrew.
//!
//! Invariants:
//! - A tip's clear secret (a named informant, the confidential note) is
//!   kept only in `reports.body` while the tip is a draft, queued or
//!   returned; the outbox holds the sealed form as soon as the ward's key
//!   is known, and the sync client never sends a clear secret
//!   ([`Store::pending_clear_secrets`]).
//! - When the server's receipt arrives the report's body becomes the
//!   outbox's sealed copy, so a sent tip holds no clear secret.
//! - A queued revision without a source erases the sources of the
//!   report's older revisions in the outbox.

use super::reports::{parse_body, parse_id};
use super::{Store, ts};
use crate::error::{DeviceError, Result};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use sotay_domain::ReportId;
use sotay_domain::report::ReportBody;
use sotay_domain::wire::SourceKey;
use sotay_seal::{PublicKey, SourceContext};

/// Stored bodies that may hold a clear secret (a cheap pre-filter; each
/// match is parsed and checked).
const MAY_HOLD_CLEAR: &str =
    "(%1 LIKE '%\"informant\":{\"kind\":\"named\"%' OR %1 LIKE '%\"confidential_note\":%')";

fn may_hold_clear(column: &str) -> String {
    MAY_HOLD_CLEAR.replace("%1", column)
}

impl Store {
    /// Records the ward's current source key (from the server's
    /// `server-info`) and seals, with it, every clear secret that must not
    /// stay in clear: outbox payloads, and bodies of tips the server holds
    /// (left by an older version of the app). Returns how many were sealed.
    pub fn set_source_key(&mut self, key: &SourceKey) -> Result<usize> {
        let public = parse_key(key)?;
        let ward = self.place()?.ward.code.to_string();
        if key.ward != ward {
            return Err(DeviceError::Corrupt(format!(
                "source key of ward {} offered to a device of ward {ward}",
                key.ward
            )));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO source_key (id, ward_code, key_id, public_key, updated_at) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET ward_code = excluded.ward_code, key_id = excluded.key_id,
                 public_key = excluded.public_key, updated_at = excluded.updated_at",
            params![key.ward, key.key_id, key.public_key, ts(Utc::now())],
        )?;
        let sealed = seal_stored(&tx, &ward, &public)?;
        tx.commit()?;
        Ok(sealed)
    }

    /// The ward's source key this device knows, if any.
    pub fn source_key(&self) -> Result<Option<SourceKey>> {
        source_key(&self.conn)
    }

    /// How many changes waiting for the server still hold a clear secret
    /// (no source key was known when they were saved). The sync client
    /// sends none of them.
    pub fn pending_clear_secrets(&self) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT payload FROM outbox WHERE kind = 'tip' AND receipt_seq IS NULL
             AND rejected_code IS NULL AND {}",
            may_hold_clear("payload")
        ))?;
        let payloads: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut n = 0;
        for p in payloads {
            if let ReportBody::Tip(t) = parse_body(&p)?
                && t.has_clear_secret()
            {
                n += 1;
            }
        }
        Ok(n)
    }
}

fn parse_key(key: &SourceKey) -> Result<PublicKey> {
    let public = PublicKey::from_base64(&key.public_key)
        .map_err(|_| DeviceError::Corrupt("the ward's source key is not a key".into()))?;
    if public.key_id() != key.key_id {
        return Err(DeviceError::Corrupt(
            "the ward's source key does not match its id".into(),
        ));
    }
    Ok(public)
}

pub(super) fn source_key(conn: &Connection) -> Result<Option<SourceKey>> {
    Ok(conn
        .query_row(
            "SELECT ward_code, key_id, public_key FROM source_key WHERE id = 1",
            [],
            |r| {
                Ok(SourceKey {
                    ward: r.get("ward_code")?,
                    key_id: r.get("key_id")?,
                    public_key: r.get("public_key")?,
                })
            },
        )
        .optional()?)
}

/// The JSON the outbox stores for one revision: the sealed form when the
/// body holds a clear secret and the ward's key is known, else the body as
/// it is (sealed later by [`Store::set_source_key`]).
pub(super) fn outbox_json(
    conn: &Connection,
    ward: &str,
    id: ReportId,
    rev: u32,
    body: &ReportBody,
    body_json: &str,
) -> Result<String> {
    let ReportBody::Tip(tip) = body else {
        return Ok(body_json.to_owned());
    };
    if !tip.has_clear_secret() {
        return Ok(body_json.to_owned());
    }
    let Some(key) = source_key(conn)? else {
        return Ok(body_json.to_owned());
    };
    let public = parse_key(&key)?;
    sealed_json(tip.clone(), ward, id, rev, &public)
}

fn sealed_json(
    tip: sotay_domain::Tip,
    ward: &str,
    report_id: ReportId,
    rev: u32,
    key: &PublicKey,
) -> Result<String> {
    let ctx = SourceContext {
        ward,
        report_id,
        rev,
    };
    let sealed = sotay_seal::seal_tip(tip, key, ctx)
        .map_err(|e| DeviceError::Corrupt(format!("sealing the source failed: {e}")))?;
    serde_json::to_string(&ReportBody::Tip(sealed))
        .map_err(|e| DeviceError::Corrupt(format!("report does not serialise: {e}")))
}

/// Seals every clear secret in the outbox and in the bodies of sent tips.
fn seal_stored(conn: &Connection, ward: &str, key: &PublicKey) -> Result<usize> {
    let mut n = 0;
    let rows: Vec<(i64, String, u32, String)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT seq, report_id, rev, payload FROM outbox WHERE kind = 'tip' AND pruned = 0 AND {}",
            may_hold_clear("payload")
        ))?;
        stmt.query_map([], |r| {
            Ok((
                r.get("seq")?,
                r.get("report_id")?,
                r.get("rev")?,
                r.get("payload")?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    for (seq, id, rev, payload) in rows {
        if let ReportBody::Tip(t) = parse_body(&payload)?
            && t.has_clear_secret()
        {
            let json = sealed_json(t, ward, parse_id(&id)?, rev, key)?;
            conn.execute(
                "UPDATE outbox SET payload = ?2 WHERE seq = ?1",
                params![seq, json],
            )?;
            n += 1;
        }
    }
    let rows: Vec<(String, u32, String)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, rev, body FROM reports WHERE kind = 'tip' AND status = 'sent' AND {}",
            may_hold_clear("body")
        ))?;
        stmt.query_map([], |r| Ok((r.get("id")?, r.get("rev")?, r.get("body")?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (id, rev, body) in rows {
        if let ReportBody::Tip(t) = parse_body(&body)?
            && t.has_clear_secret()
        {
            let json = sealed_json(t, ward, parse_id(&id)?, rev, key)?;
            conn.execute(
                "UPDATE reports SET body = ?2 WHERE id = ?1",
                params![id, json],
            )?;
            n += 1;
        }
    }
    Ok(n)
}

/// After the server's receipt for a tip's current revision: its body
/// becomes the sealed copy the server holds.
pub(super) fn keep_only_sealed(conn: &Connection, id: &str, rev: u32, seq: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE reports SET body = (SELECT payload FROM outbox WHERE seq = ?3)
         WHERE id = ?1 AND rev = ?2 AND kind = 'tip' AND status = 'sent'
           AND EXISTS (SELECT 1 FROM outbox WHERE seq = ?3)",
    )?
    .execute(params![id, rev, seq])?;
    Ok(())
}

/// Erases the sources of a tip's revisions older than `rev` in the outbox:
/// revision `rev` withdrew the source.
pub(super) fn erase_older_sources(conn: &Connection, id: ReportId, rev: u32) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, payload FROM outbox WHERE report_id = ?1 AND rev < ?2 AND kind = 'tip' AND pruned = 0",
        )?;
        stmt.query_map(params![id.to_string(), rev], |r| {
            Ok((r.get("seq")?, r.get("payload")?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    for (seq, payload) in rows {
        if let ReportBody::Tip(t) = parse_body(&payload)?
            && t.keeps_source()
        {
            let json = serde_json::to_string(&ReportBody::Tip(t.erase_source()))
                .map_err(|e| DeviceError::Corrupt(format!("report does not serialise: {e}")))?;
            conn.execute(
                "UPDATE outbox SET payload = ?2 WHERE seq = ?1",
                params![seq, json],
            )?;
        }
    }
    Ok(())
}
