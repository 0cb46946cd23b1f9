-- 0004: when each device last pulled (every sync ends with a pull), so the
-- dashboard's "last sync" also counts syncs that had nothing to send.
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
