-- 0009: evidence photos. Each photo is stored once, by the SHA-256 of its
-- JPEG (made on the device: upright, at most 1600 px, no metadata), in
-- this encrypted file like everything else. A report lists its photos in
-- its body; the photos travel apart, after the reports, in their own
-- queue, so a report never waits for its photos.
-- Append-only: never edit once shipped.
CREATE TABLE photos (
    sha256    TEXT PRIMARY KEY,
    data      BLOB NOT NULL,
    bytes     INTEGER NOT NULL,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    added_at  TEXT NOT NULL
) STRICT;

-- The upload queue: a photo enters it when a report listing it is queued,
-- and stays until the server holds it whole (sent_at). A failed attempt
-- waits until next_attempt_at (backoff) and never holds up the others.
CREATE TABLE photo_uploads (
    sha256           TEXT PRIMARY KEY REFERENCES photos(sha256),
    queued_at        TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_error       TEXT,
    sent_at          TEXT
) STRICT;
CREATE INDEX photo_uploads_pending ON photo_uploads (sent_at, next_attempt_at);

