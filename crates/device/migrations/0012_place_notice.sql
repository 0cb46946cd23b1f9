-- 0012: the one line a leader reads when the ward merged, split or renamed
-- their group (the server's `place` pull item), shown until dismissed.
-- Append-only: never edit once shipped.
ALTER TABLE device ADD COLUMN place_notice TEXT;
