-- sotay-server, SQLite, migration 1: places, devices, reports, pull items.
-- Append-only: never edit once shipped; add 0002_… instead.

CREATE TABLE groups (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    block_code  TEXT NOT NULL,
    block_name  TEXT NOT NULL,
    ward_code   TEXT NOT NULL,
    ward_name   TEXT NOT NULL
) STRICT;

CREATE TABLE enroll_codes (
    code_hash   TEXT PRIMARY KEY,
    group_code  TEXT NOT NULL REFERENCES groups(code),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) STRICT;

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    group_code   TEXT NOT NULL REFERENCES groups(code),
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TEXT NOT NULL,
    revoked_at   TEXT,
    -- highest device_seq up to which every change was processed
    checkpoint   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per report id: who owns it and what kind it is.
CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    group_code  TEXT NOT NULL REFERENCES groups(code),
    kind        TEXT NOT NULL,
    latest_rev  INTEGER NOT NULL
) STRICT;

-- Every stored revision; server_seq is the receipt's sequence number.
CREATE TABLE report_revisions (
    server_seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id    TEXT NOT NULL REFERENCES reports(id),
    rev          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    device_id    TEXT NOT NULL REFERENCES devices(id),
    device_seq   INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (report_id, rev)
) STRICT;

-- Every device sequence number the server has processed, stored or not.
CREATE TABLE device_seqs (
    device_id   TEXT NOT NULL REFERENCES devices(id),
    device_seq  INTEGER NOT NULL,
    report_id   TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    code        TEXT,
    message     TEXT,
    PRIMARY KEY (device_id, device_seq)
) STRICT, WITHOUT ROWID;

-- What devices pull: for one group, or for all (group_code NULL).
CREATE TABLE pull_items (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_code  TEXT REFERENCES groups(code),
    item        TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX pull_items_group ON pull_items (group_code, seq);
