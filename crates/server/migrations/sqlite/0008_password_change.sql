-- 0008: an officer whose password was set by someone else (at creation or
-- by a reset) must choose their own at the next login before anything
-- else: the admin who typed it does not keep knowing it (issue 11).
-- Officers created before this migration keep their password as it is.
-- Append-only: never edit once shipped.
ALTER TABLE officers ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
