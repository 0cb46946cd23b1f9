-- sotay-server, SQLite, migration 3: idle timeout of dashboard
-- sessions, deactivated officers, and the households registers loaded
-- centrally.
-- A session also ends after a stretch without requests, beside its
-- absolute lifetime; NULL (sessions made before this migration) counts
-- from the session's creation.
-- Append-only: never edit once shipped; add 0004_… instead.

ALTER TABLE officer_sessions ADD COLUMN last_seen_at TEXT;

-- An officer who left is deactivated, never deleted: the audit log keeps
-- naming them. NULL = active.
ALTER TABLE officers ADD COLUMN deactivated_at TEXT;

-- Households registers loaded centrally (`admin households import`), one
-- row per household; `data` is the household as devices receive it (JSON
-- of sotay_domain::household::Household). The fire-safety page counts
-- registered households from here.
CREATE TABLE households (
    id           TEXT PRIMARY KEY,
    group_code   TEXT NOT NULL REFERENCES groups(code),
    data         TEXT NOT NULL,
    imported_at  TEXT NOT NULL
) STRICT;
CREATE INDEX households_group ON households (group_code);
