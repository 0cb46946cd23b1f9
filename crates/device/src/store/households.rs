//! The `households` table: the group's register.

use super::{Store, ts};
use crate::error::{DeviceError, Result};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sotay_domain::household::{self, Household, HouseholdInput};
use sotay_domain::ids::HouseholdId;
use sotay_domain::text::{fold, terms};

const COLUMNS: &str = "id, address, head, residents, phone, has_business, rents_rooms, notes";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(String, HouseholdInput)> {
    Ok((
        r.get("id")?,
        HouseholdInput {
            address: r.get("address")?,
            head: r.get("head")?,
            residents: r.get("residents")?,
            phone: r.get("phone")?,
            has_business: r.get("has_business")?,
            rents_rooms: r.get("rents_rooms")?,
            notes: r.get("notes")?,
        },
    ))
}

fn to_household((id, data): (String, HouseholdInput)) -> Result<Household> {
    let id = id
        .parse()
        .map_err(|_| DeviceError::Corrupt(format!("bad household id {id:?}")))?;
    Ok(Household { id, data })
}

/// Marks a household as no longer in the register (kept for the reports
/// that name it). Returns whether a listed household was marked.
pub(super) fn mark_removed(conn: &Connection, id: HouseholdId) -> Result<bool> {
    let n = conn.execute(
        "UPDATE households SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL",
        params![id.to_string(), ts(Utc::now())],
    )?;
    Ok(n == 1)
}

/// Writes a household: a new one, or one the ward edited (or added back) centrally.
pub(super) fn upsert(conn: &Connection, h: &Household) -> Result<()> {
    let now = ts(Utc::now());
    conn.execute(
        "INSERT INTO households (id, address, head, residents, phone, has_business, rents_rooms, notes, search, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, head = excluded.head,
             residents = excluded.residents, phone = excluded.phone,
             has_business = excluded.has_business, rents_rooms = excluded.rents_rooms,
             notes = excluded.notes, search = excluded.search, updated_at = excluded.updated_at,
             removed_at = NULL",
        params![
            h.id.to_string(),
            h.address,
            h.head,
            h.residents,
            h.phone,
            h.has_business,
            h.rents_rooms,
            h.notes,
            fold(&h.search_text()),
            now,
        ],
    )?;
    Ok(())
}

impl Store {
    /// Adds a household to the register.
    pub fn add_household(&mut self, input: HouseholdInput) -> Result<Household> {
        input.validate()?;
        let h = Household {
            id: HouseholdId::new_v7(),
            data: input.normalized(),
        };
        let tx = self.conn.transaction()?;
        upsert(&tx, &h)?;
        tx.commit()?;
        Ok(h)
    }

    /// Replaces a household's details.
    pub fn update_household(
        &mut self,
        id: HouseholdId,
        input: HouseholdInput,
    ) -> Result<Household> {
        input.validate()?;
        let data = input.normalized();
        let n = self.conn.execute(
            "UPDATE households SET address = ?2, head = ?3, residents = ?4, phone = ?5, has_business = ?6,
                 rents_rooms = ?7, notes = ?8, search = ?9, updated_at = ?10 WHERE id = ?1",
            params![
                id.to_string(),
                data.address,
                data.head,
                data.residents,
                data.phone,
                data.has_business,
                data.rents_rooms,
                data.notes,
                fold(&data.search_text()),
                ts(Utc::now()),
            ],
        )?;
        if n == 0 {
            return Err(DeviceError::NotFound {
                what: "household",
                id: id.to_string(),
            });
        }
        Ok(Household { id, data })
    }

    /// Takes a household off the register (moved away): it is no longer
    /// listed, searched or counted, and reports that name it keep it.
    pub fn remove_household(&mut self, id: HouseholdId) -> Result<()> {
        if mark_removed(&self.conn, id)? {
            return Ok(());
        }
        Err(DeviceError::NotFound {
            what: "household",
            id: id.to_string(),
        })
    }

    /// One household by id (also one taken off the register).
    pub fn household(&self, id: HouseholdId) -> Result<Household> {
        load_household(&self.conn, id)
    }

    /// The register (without households taken off it), by address; with
    /// `query`, only households whose address, head, phone or notes contain
    /// every word of it, ignoring diacritics and case.
    pub fn households(&self, query: Option<&str>) -> Result<Vec<Household>> {
        let terms = query.map(terms).unwrap_or_default();
        let mut sql = format!("SELECT {COLUMNS} FROM households WHERE removed_at IS NULL");
        for (i, _) in terms.iter().enumerate() {
            sql.push_str(&format!(" AND search LIKE ?{} ESCAPE '\\'", i + 1));
        }
        sql.push_str(" ORDER BY address COLLATE NOCASE, id");
        let patterns: Vec<String> = terms.iter().map(|t| like_pattern(t)).collect();
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(patterns.iter()), from_row)?;
        rows.map(|r| to_household(r?)).collect()
    }

    /// Imports a register CSV: every row or, on any problem, none, with the
    /// problems listed by line.
    pub fn import_households(&mut self, csv: &[u8]) -> Result<Vec<Household>> {
        let rows = household::parse_csv(csv)?;
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(rows.len());
        for data in rows {
            let h = Household {
                id: HouseholdId::new_v7(),
                data,
            };
            upsert(&tx, &h)?;
            out.push(h);
        }
        tx.commit()?;
        Ok(out)
    }
}

pub(crate) fn load_household(conn: &Connection, id: HouseholdId) -> Result<Household> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM households WHERE id = ?1"),
            [id.to_string()],
            from_row,
        )
        .optional()?;
    match row {
        Some(r) => to_household(r),
        None => Err(DeviceError::NotFound {
            what: "household",
            id: id.to_string(),
        }),
    }
}

/// `%term%` with LIKE's wildcards escaped.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
