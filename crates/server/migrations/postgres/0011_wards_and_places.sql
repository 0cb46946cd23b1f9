-- 0011: wards as tenants, and places with a history (issue 15).
--
-- Before: a group's official code was its primary key everywhere, and a
-- ward was two text columns of each group. Now:
-- - `wards` holds each ward (its official code is its key: since 2025 a
--   unit's code is stable for its life and never reused), with the names
--   its levels go by (khối / khu phố, tổ / tổ dân phố / khóm).
-- - `blocks` and `groups` have a stable internal id; their official code
--   and name are attributes, unique among the ward's current units, with
--   their history in `place_names` (valid_from, valid_to).
-- - Every table that named a group by code now names it by id
--   (`group_id`). A group made before this migration keeps its old code as
--   its id, so nothing already stored had to be rewritten.
-- - A merge, split or rename is a `place_events` row with its
--   predecessors and successors in `place_event_links`; a merged or split
--   unit stays, `ended_at` set, so history still names it.
-- - `reports.recorded_group_id` is the group a report was recorded under
--   and never changes; `reports.group_id` is the unit it counts in today.
-- - Officers belong to a ward (`ward_code`), or to the province (NULL:
--   read-only over every ward). Existing officers join the first ward.
-- - The audit log and ward-wide pull items name their ward.
-- Append-only: never edit once shipped.

CREATE TABLE wards (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    block_level  TEXT NOT NULL DEFAULT 'Khối',
    group_level  TEXT NOT NULL DEFAULT 'Tổ',
    created_at   TIMESTAMPTZ NOT NULL
);
INSERT INTO wards (code, name, created_at)
SELECT ward_code, MIN(ward_name), now()
FROM groups GROUP BY ward_code;

CREATE TABLE blocks (
    id          TEXT PRIMARY KEY,
    ward_code   TEXT NOT NULL REFERENCES wards(code),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX blocks_current_code ON blocks (ward_code, code) WHERE ended_at IS NULL;
INSERT INTO blocks (id, ward_code, code, name, created_at)
SELECT replace(gen_random_uuid()::text, '-', ''), ward_code, block_code, MIN(block_name),
       now()
FROM groups GROUP BY ward_code, block_code;

ALTER TABLE groups RENAME COLUMN code TO id;
ALTER TABLE groups ADD COLUMN code TEXT;
ALTER TABLE groups ADD COLUMN block_id TEXT REFERENCES blocks(id);
ALTER TABLE groups ADD COLUMN created_at TIMESTAMPTZ;
ALTER TABLE groups ADD COLUMN ended_at TIMESTAMPTZ;
UPDATE groups SET code = id,
    block_id = (SELECT b.id FROM blocks b
                WHERE b.ward_code = groups.ward_code AND b.code = groups.block_code),
    created_at = now();
ALTER TABLE groups ALTER COLUMN code SET NOT NULL;
ALTER TABLE groups ALTER COLUMN block_id SET NOT NULL;
ALTER TABLE groups ALTER COLUMN created_at SET NOT NULL;
ALTER TABLE groups DROP COLUMN block_code;
ALTER TABLE groups DROP COLUMN block_name;
ALTER TABLE groups DROP COLUMN ward_name;
CREATE UNIQUE INDEX groups_current_code ON groups (ward_code, code) WHERE ended_at IS NULL;
CREATE INDEX groups_block ON groups (block_id);

ALTER TABLE enroll_codes RENAME COLUMN group_code TO group_id;
ALTER TABLE devices RENAME COLUMN group_code TO group_id;
ALTER TABLE reports RENAME COLUMN group_code TO group_id;
ALTER TABLE pull_items RENAME COLUMN group_code TO group_id;
ALTER TABLE households RENAME COLUMN group_code TO group_id;
ALTER TABLE photo_refs RENAME COLUMN group_code TO group_id;
ALTER TABLE reports ADD COLUMN recorded_group_id TEXT;
UPDATE reports SET recorded_group_id = group_id;
CREATE INDEX reports_group ON reports (group_id, kind);
CREATE INDEX devices_group ON devices (group_id);
-- A ward-wide item (group_id NULL) names its ward; NULL there too means
-- every ward (a checklist published for the whole server).
ALTER TABLE pull_items ADD COLUMN ward_code TEXT;

CREATE TABLE place_names (
    place_id    TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('ward', 'block', 'group')),
    ward_code   TEXT NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ,
    PRIMARY KEY (place_id, valid_from)
);
CREATE INDEX place_names_code ON place_names (ward_code, level, code);
INSERT INTO place_names (place_id, level, ward_code, code, name, valid_from)
SELECT code, 'ward', code, code, name, created_at FROM wards;
INSERT INTO place_names (place_id, level, ward_code, code, name, valid_from)
SELECT id, 'block', ward_code, code, name, created_at FROM blocks;
INSERT INTO place_names (place_id, level, ward_code, code, name, valid_from)
SELECT id, 'group', ward_code, code, name, created_at FROM groups;

CREATE TABLE place_events (
    id        TEXT PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    ward_code TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('merge', 'split', 'rename')),
    level     TEXT NOT NULL CHECK (level IN ('block', 'group')),
    username  TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX place_events_ward ON place_events (ward_code, at);
CREATE TABLE place_event_links (
    event_id  TEXT NOT NULL REFERENCES place_events(id),
    place_id  TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('before', 'after')),
    PRIMARY KEY (event_id, role, place_id)
);
CREATE INDEX place_event_links_place ON place_event_links (place_id);

ALTER TABLE officers ADD COLUMN ward_code TEXT REFERENCES wards(code);
UPDATE officers SET ward_code = (SELECT MIN(code) FROM wards);
ALTER TABLE audit_log ADD COLUMN ward_code TEXT;
UPDATE audit_log SET ward_code = (SELECT MIN(code) FROM wards);
