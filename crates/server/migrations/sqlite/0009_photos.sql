-- 0009: evidence photos. The photos themselves live in a folder beside
-- this file (FILE.photos/, by their SHA-256); this table says which
-- report lists which photo, written with the report's revision, so a
-- device may only send a photo a report of its group lists, and the
-- dashboard knows which photos a report still waits for.
-- Append-only: never edit once shipped.
CREATE TABLE photo_refs (
    sha256      TEXT NOT NULL,
    report_id   TEXT NOT NULL REFERENCES reports(id),
    group_code  TEXT NOT NULL,
    PRIMARY KEY (sha256, report_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX photo_refs_report ON photo_refs (report_id);
