-- 0002: sync with the ward's server.

-- The enrollment and sync bookkeeping (a single row once enrolled).
CREATE TABLE sync_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    server_url          TEXT NOT NULL,
    device_id           TEXT NOT NULL,
    token               TEXT NOT NULL,  -- never printed or logged
    pull_cursor         INTEGER NOT NULL DEFAULT 0,
    last_sync_at        TEXT,
    last_error_code     TEXT,
    last_error_message  TEXT,
    enrolled_at         TEXT NOT NULL
) STRICT;

-- What the server answered for each change.
ALTER TABLE outbox ADD COLUMN receipt_seq INTEGER;    -- accepted: the server's receipt
ALTER TABLE outbox ADD COLUMN receipt_at TEXT;
ALTER TABLE outbox ADD COLUMN rejected_code TEXT;     -- rejected: quarantined with the reason
ALTER TABLE outbox ADD COLUMN rejected_message TEXT;
CREATE INDEX outbox_pending ON outbox (seq) WHERE receipt_seq IS NULL AND rejected_code IS NULL;

-- The ward's decision on a tip, pulled from the server.
ALTER TABLE reports ADD COLUMN ward_status TEXT;
ALTER TABLE reports ADD COLUMN ward_note TEXT;
ALTER TABLE reports ADD COLUMN ward_decided_at TEXT;
ALTER TABLE reports ADD COLUMN rejected_code TEXT;
ALTER TABLE reports ADD COLUMN rejected_message TEXT;

-- Checklist template versions sent by the ward.
CREATE TABLE checklist_templates (
    id       TEXT NOT NULL,
    version  INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (id, version)
) STRICT;
