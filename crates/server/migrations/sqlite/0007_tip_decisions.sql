-- 0007: the latest ward decision on each tip, one row per tip, written in
-- the same transaction as the pull item that sends it to the devices. The
-- dashboard's inbox filters, counts and pages tips in SQL by joining it,
-- instead of reading every decision ever made (issue 11).
-- Append-only: never edit once shipped.
CREATE TABLE tip_decisions (
    report_id   TEXT PRIMARY KEY REFERENCES reports(id),
    status      TEXT NOT NULL,
    note        TEXT,
    seq         INTEGER NOT NULL,
    decided_at  TEXT NOT NULL
) STRICT;
CREATE INDEX tip_decisions_status ON tip_decisions (status);

-- Decisions made before this migration: the latest pull item of each tip.
INSERT INTO tip_decisions (report_id, status, note, seq, decided_at)
SELECT json_extract(p.item, '$.report_id'), json_extract(p.item, '$.status'),
       json_extract(p.item, '$.note'), p.seq, json_extract(p.item, '$.decided_at')
FROM pull_items p
WHERE p.item LIKE '{"type":"tip-status"%'
  AND p.seq = (SELECT MAX(q.seq) FROM pull_items q
               WHERE q.item LIKE '{"type":"tip-status"%'
                 AND json_extract(q.item, '$.report_id') = json_extract(p.item, '$.report_id'));

-- The inbox lists newest first.
CREATE INDEX report_revisions_received ON report_revisions (received_at);
