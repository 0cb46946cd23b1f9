-- 0012: wards that merge into another (issue 15).
--
-- A merged ward is kept, so that history still names it: `ended_at` says
-- when it ended and `merged_into` which ward took its blocks, groups,
-- officers and source keys. A merged ward's code is never used again.
-- Append-only: never edit once shipped.

ALTER TABLE wards ADD COLUMN ended_at TIMESTAMPTZ;
ALTER TABLE wards ADD COLUMN merged_into TEXT REFERENCES wards(code);
