-- 0007: the latest ward decision on each tip, one row per tip, written in
-- the same transaction as the pull item that sends it to the devices. The
-- dashboard's inbox filters, counts and pages tips in SQL by joining it,
-- instead of reading every decision ever made (issue 11).
-- Append-only: never edit once shipped.
CREATE TABLE tip_decisions (
    report_id   UUID PRIMARY KEY REFERENCES reports(id),
    status      TEXT NOT NULL,
    note        TEXT,
    seq         BIGINT NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX tip_decisions_status ON tip_decisions (status);

-- Decisions made before this migration: the latest pull item of each tip.
INSERT INTO tip_decisions (report_id, status, note, seq, decided_at)
SELECT DISTINCT ON ((item::jsonb ->> 'report_id'))
       (item::jsonb ->> 'report_id')::uuid, item::jsonb ->> 'status',
       item::jsonb ->> 'note', seq, (item::jsonb ->> 'decided_at')::timestamptz
FROM pull_items
WHERE item LIKE '{"type":"tip-status"%'
ORDER BY (item::jsonb ->> 'report_id'), seq DESC;

-- The inbox lists newest first.
CREATE INDEX report_revisions_received ON report_revisions (received_at);
