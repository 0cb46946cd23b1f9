//! Writes planned in Rust and run by either backend in one transaction:
//! the place changes (a ward or place added, a merge, split or rename).
//! Each is rare, touches several tables, and must be the same on both
//! backends, so its SQL is written once here, with `?N` parameters (the
//! PostgreSQL backend turns them into `$N`), and each step states how
//! many rows it must change. A step that changes another number of rows
//! means someone changed the same places first: the whole plan is rolled
//! back and its planner can read again and retry or refuse.

use chrono::{DateTime, Utc};

/// A parameter of a step, bound the way each backend stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    /// A nullable text column.
    OptText(Option<String>),
    /// A time: RFC 3339 text in SQLite, `timestamptz` in PostgreSQL.
    Time(DateTime<Utc>),
    /// A report's id: hyphenated text in SQLite, `uuid` in PostgreSQL.
    Uuid(uuid::Uuid),
    /// A flag: 0/1 in SQLite, `boolean` in PostgreSQL.
    Bool(bool),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_owned())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}

impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Val::Text(s.clone())
    }
}

impl From<DateTime<Utc>> for Val {
    fn from(t: DateTime<Utc>) -> Self {
        Val::Time(t)
    }
}

/// How many rows a step must change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this many (a guard: the row is still as it was read).
    Rows(u64),
    /// Any number (moving whatever a group holds).
    Any,
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub sql: &'static str,
    pub params: Vec<Val>,
    pub expect: Expect,
}

impl Step {
    /// A step that must change exactly one row.
    pub fn one(sql: &'static str, params: Vec<Val>) -> Self {
        Step {
            sql,
            params,
            expect: Expect::Rows(1),
        }
    }

    /// A step that may change any number of rows.
    pub fn any(sql: &'static str, params: Vec<Val>) -> Self {
        Step {
            sql,
            params,
            expect: Expect::Any,
        }
    }

    /// Whether `changed` rows is what this step expects.
    pub fn holds(&self, changed: u64) -> bool {
        match self.expect {
            Expect::Rows(n) => n == changed,
            Expect::Any => true,
        }
    }
}

/// `sql` with its `?N` parameters as PostgreSQL's `$N`. The steps' SQL has
/// no `?` inside a string literal, so a plain scan is enough.
pub(crate) fn postgres_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_dollar_parameters() {
        assert_eq!(
            postgres_sql("UPDATE groups SET code = ?2 WHERE id = ?1"),
            "UPDATE groups SET code = $2 WHERE id = $1"
        );
    }

    #[test]
    fn a_guard_holds_only_for_its_count() {
        let one = Step::one("UPDATE x SET y = 1", vec![]);
        assert!(one.holds(1));
        assert!(!one.holds(0));
        assert!(!one.holds(2));
        assert!(Step::any("DELETE FROM x", vec![]).holds(0));
    }
}
