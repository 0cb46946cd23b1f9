-- 0013: the ward's announcements to its leaders (the server's
-- `announcement` pull item): kept until the ward's data is erased; `read_at`
-- when the leader marked one read, `receipt_sent` once the server has the
-- read receipt; `notified` once the phone raised its local notification.
-- Append-only: never edit once shipped.
CREATE TABLE announcements (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    text          TEXT NOT NULL,
    urgent        INTEGER NOT NULL DEFAULT 0,
    sent_at       TEXT NOT NULL,
    read_at       TEXT,
    receipt_sent  INTEGER NOT NULL DEFAULT 0,
    -- the local notification was raised for it
    notified      INTEGER NOT NULL DEFAULT 0
) STRICT;
-- The ward decision a local notification was last raised for (its time).
ALTER TABLE reports ADD COLUMN ward_notified_at TEXT;
-- Decisions the leader already saw before this version raise nothing.
UPDATE reports SET ward_notified_at = ward_decided_at WHERE ward_decided_at IS NOT NULL;
