-- sotay-server, SQLite, migration 2: the ward dashboard (issue 6):
-- officer accounts, their sessions and the audit log of their actions.
-- Append-only: never edit once shipped; add 0003_… instead.

CREATE TABLE officers (
    username       TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,            -- argon2id PHC string
    role           TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
    created_at     TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT
) STRICT;

-- Only the SHA-256 of a session cookie is stored.
CREATE TABLE officer_sessions (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES officers(username),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
) STRICT;
