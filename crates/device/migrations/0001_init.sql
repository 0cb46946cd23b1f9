-- 0001: the first schema. Shipped migrations are never edited; change the
-- schema by adding a new file and listing it in store/mod.rs.

-- The one group this device belongs to (a single row).
CREATE TABLE device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ward_code   TEXT NOT NULL,
    ward_name   TEXT NOT NULL,
    block_code  TEXT NOT NULL,
    block_name  TEXT NOT NULL,
    group_code  TEXT NOT NULL,
    group_name  TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- The group's household register.
CREATE TABLE households (
    id            TEXT PRIMARY KEY,
    address       TEXT NOT NULL,
    head          TEXT NOT NULL,
    residents     INTEGER NOT NULL CHECK (residents >= 0),
    phone         TEXT,
    has_business  INTEGER NOT NULL DEFAULT 0 CHECK (has_business IN (0, 1)),
    rents_rooms   INTEGER NOT NULL DEFAULT 0 CHECK (rents_rooms IN (0, 1)),
    notes         TEXT,
    search        TEXT NOT NULL,  -- folded text (no diacritics, lower case)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

-- Every report, at its current revision. `body` is the JSON of the report's
-- content; the other columns exist to filter, sort and search.
CREATE TABLE reports (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    rev           INTEGER NOT NULL CHECK (rev >= 1),
    category      TEXT,           -- tips only
    household_id  TEXT REFERENCES households (id),
    day           TEXT NOT NULL,  -- the Vietnamese date the report is about
    body          TEXT NOT NULL,
    search        TEXT NOT NULL,  -- folded text
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    receipt_seq   INTEGER,        -- the server's receipt, once sent
    receipt_at    TEXT
) STRICT;
CREATE INDEX reports_newest ON reports (created_at DESC, id DESC);
CREATE INDEX reports_kind ON reports (kind, created_at DESC);
CREATE INDEX reports_status ON reports (status, created_at DESC);
CREATE INDEX reports_category ON reports (category, created_at DESC);
CREATE INDEX reports_household ON reports (household_id);

-- Changes waiting for (or done with) the server. `seq` is the device's
-- sequence number: AUTOINCREMENT, so a number is never handed out twice.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  TEXT NOT NULL REFERENCES reports (id),
    rev        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    queued_at  TEXT NOT NULL,
    attempted  INTEGER NOT NULL DEFAULT 0,  -- a push of it began: payload frozen
    UNIQUE (report_id, rev)
) STRICT;
