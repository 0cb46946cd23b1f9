-- sotay-server, PostgreSQL, migration 1: places, devices, reports, pull items.
-- Append-only: never edit once shipped; add 0002_… instead.

CREATE TABLE groups (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    block_code  TEXT NOT NULL,
    block_name  TEXT NOT NULL,
    ward_code   TEXT NOT NULL,
    ward_name   TEXT NOT NULL
);

CREATE TABLE enroll_codes (
    code_hash   TEXT PRIMARY KEY,
    group_code  TEXT NOT NULL REFERENCES groups(code),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE TABLE devices (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    group_code   TEXT NOT NULL REFERENCES groups(code),
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    checkpoint   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE reports (
    id          UUID PRIMARY KEY,
    group_code  TEXT NOT NULL REFERENCES groups(code),
    kind        TEXT NOT NULL,
    latest_rev  BIGINT NOT NULL
);

CREATE TABLE report_revisions (
    server_seq   BIGSERIAL PRIMARY KEY,
    report_id    UUID NOT NULL REFERENCES reports(id),
    rev          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    device_id    UUID NOT NULL REFERENCES devices(id),
    device_seq   BIGINT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (report_id, rev)
);

CREATE TABLE device_seqs (
    device_id   UUID NOT NULL REFERENCES devices(id),
    device_seq  BIGINT NOT NULL,
    report_id   UUID NOT NULL,
    rev         BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    code        TEXT,
    message     TEXT,
    PRIMARY KEY (device_id, device_seq)
);

CREATE TABLE pull_items (
    seq         BIGSERIAL PRIMARY KEY,
    group_code  TEXT REFERENCES groups(code),
    item        TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX pull_items_group ON pull_items (group_code, seq);
