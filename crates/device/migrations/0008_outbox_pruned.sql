-- 0008: receipted payloads are pruned to what sync still needs. Once a
-- newer revision of a report has its receipt too, an older revision's
-- payload is never sent again (a server restored from a backup gets the
-- newest revision), so it is emptied (zeroed in the file: secure_delete)
-- and marked here.
ALTER TABLE outbox ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0 CHECK (pruned IN (0, 1));
