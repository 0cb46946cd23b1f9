-- 0009: evidence photos, in the database so that every server copy in
-- front of it reaches them: whole photos by their SHA-256, photos still
-- arriving (a cut upload resumes where its part ends), and which report
-- lists which photo (written with the report's revision: a device may
-- only send a photo a report of its group lists).
-- Append-only: never edit once shipped.
CREATE TABLE photos (
    sha256     TEXT PRIMARY KEY,
    data       BYTEA NOT NULL,
    -- the dashboard's small copy (NULL when the bytes do not decode)
    thumb      BYTEA,
    stored_at  TIMESTAMPTZ NOT NULL
);
-- A photo still arriving, as the pieces that came (each appended as a
-- row: the part is never rewritten), put together once it is whole.
CREATE TABLE photo_parts (
    sha256      TEXT NOT NULL,
    start       BIGINT NOT NULL,
    data        BYTEA NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sha256, start)
);
CREATE TABLE photo_refs (
    sha256      TEXT NOT NULL,
    report_id   UUID NOT NULL REFERENCES reports(id),
    group_code  TEXT NOT NULL,
    PRIMARY KEY (sha256, report_id)
);
CREATE INDEX photo_refs_report ON photo_refs (report_id);
