//! The rule every store's migrations keep, shared by the device's store and
//! both server backends: a shipped migration is never edited.
//!
//! Each store records the SHA-256 of every migration it applied (as sqlx
//! does). At each open, [`verify`] compares those records with the
//! migrations the binary ships: a migration whose text changed, or a
//! database newer than the binary, makes the store refuse to open with a
//! clear message, before anything is written. A migration applied by a
//! version that kept no checksum is recorded with today's on first sight.
//! This module decides; each store reads and writes its own records.

use sha2::{Digest, Sha256};

/// A migration's checksum: the SHA-256 (hex) of its text, line endings
/// normalised, so a checkout with CRLF line endings does not count as an
/// edit.
pub fn checksum(sql: &str) -> String {
    let normalised = sql.replace("\r\n", "\n");
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a store refused its database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "migration {version} differs from the one this database applied (checksum {stored}, this \
         binary ships {shipped}): a shipped migration was edited. Refusing to open; run the \
         version that applied it, or restore its migration file"
    )]
    Changed {
        version: i64,
        stored: String,
        shipped: String,
    },
    #[error(
        "the database is at schema version {stored}, newer than this binary's {known}: run a \
         newer version (a backup restored onto an older binary?)"
    )]
    Newer { stored: i64, known: i64 },
}

/// What a store must do once [`verify`] passed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified<'a> {
    /// Applied migrations without a recorded checksum: record these.
    pub backfill: Vec<(i64, String)>,
    /// Migrations not applied yet, in order: version, text and checksum.
    pub pending: Vec<(i64, &'a str, String)>,
}

/// Checks the migrations a database applied (`applied`: version and
/// recorded checksum, if any) against those the binary ships (`shipped`:
/// version and text, ascending).
pub fn verify<'a>(
    applied: &[(i64, Option<String>)],
    shipped: &[(i64, &'a str)],
) -> Result<Verified<'a>, MigrationError> {
    let known = shipped.last().map_or(0, |(v, _)| *v);
    let newest = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    if newest > known {
        return Err(MigrationError::Newer {
            stored: newest,
            known,
        });
    }
    let mut out = Verified::default();
    for (version, sql) in shipped {
        let sum = checksum(sql);
        match applied.iter().find(|(v, _)| v == version) {
            Some((_, Some(stored))) if *stored != sum => {
                return Err(MigrationError::Changed {
                    version: *version,
                    stored: stored.clone(),
                    shipped: sum,
                });
            }
            Some((_, Some(_))) => {}
            Some((_, None)) => out.backfill.push((*version, sum)),
            // Below the newest applied: skipped once, never to be run out
            // of order now.
            None if *version < newest => {}
            None => out.pending.push((*version, *sql, sum)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &[(i64, &str)] = &[(1, "CREATE TABLE a (x);"), (2, "CREATE TABLE b (y);")];

    #[test]
    fn a_fresh_database_applies_everything() {
        let v = verify(&[], SHIPPED).expect("fresh");
        assert!(v.backfill.is_empty());
        assert_eq!(
            v.pending,
            [
                (1, SHIPPED[0].1, checksum(SHIPPED[0].1)),
                (2, SHIPPED[1].1, checksum(SHIPPED[1].1))
            ]
        );
    }

    #[test]
    fn unrecorded_checksums_are_recorded_and_the_rest_applied() {
        let v = verify(&[(1, None)], SHIPPED).expect("older store");
        assert_eq!(v.backfill, [(1, checksum(SHIPPED[0].1))]);
        assert_eq!(v.pending, [(2, SHIPPED[1].1, checksum(SHIPPED[1].1))]);
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let e =
            verify(&[(1, Some(checksum("CREATE TABLE a (z);")))], SHIPPED).expect_err("refused");
        assert!(matches!(e, MigrationError::Changed { version: 1, .. }));
        assert!(e.to_string().contains("migration 1 differs"));
    }

    #[test]
    fn a_newer_database_is_refused() {
        let e = verify(&[(1, None), (2, None), (3, None)], SHIPPED).expect_err("refused");
        assert_eq!(
            e,
            MigrationError::Newer {
                stored: 3,
                known: 2
            }
        );
    }

    #[test]
    fn line_endings_do_not_count() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;\n"), checksum("b;\n"));
    }
}
