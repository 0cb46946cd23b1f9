-- sotay-server, PostgreSQL, migration 2: the ward dashboard (issue 6):
-- officer accounts, their sessions and the audit log of their actions.
-- Append-only: never edit once shipped; add 0003_… instead.

CREATE TABLE officers (
    username       TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
    created_at     TIMESTAMPTZ NOT NULL,
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ
);

CREATE TABLE officer_sessions (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES officers(username),
    csrf        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
);
