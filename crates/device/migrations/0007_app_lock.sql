-- 0007: the app's PIN. Only its argon2id hash is kept; wrong attempts and
-- the time before which no attempt is taken survive a restart, so killing
-- the app does not reset the growing delays. A single row.
CREATE TABLE app_lock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    pin_hash    TEXT NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    wait_until  TEXT
) STRICT;
