-- 0013: the ward's announcements to its leaders (issue 16). Each is sent
-- to the groups it names (`announcement_groups`, resolved when sent: a
-- block or the whole ward means its groups of that day) and reaches their
-- devices as a pull item; a device's read receipt is one row of
-- `announcement_reads`. Append-only: never edit once shipped.
CREATE TABLE announcements (
    id          TEXT PRIMARY KEY,
    ward_code   TEXT NOT NULL REFERENCES wards(code),
    title       TEXT NOT NULL,
    text        TEXT NOT NULL,
    urgent      BOOLEAN NOT NULL DEFAULT FALSE,
    audience    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX announcements_ward ON announcements (ward_code, created_at);
CREATE TABLE announcement_groups (
    announcement_id  TEXT NOT NULL REFERENCES announcements(id),
    group_id         TEXT NOT NULL REFERENCES groups(id),
    PRIMARY KEY (announcement_id, group_id)
);
CREATE TABLE announcement_reads (
    announcement_id  TEXT NOT NULL REFERENCES announcements(id),
    device_id        UUID NOT NULL REFERENCES devices(id),
    read_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (announcement_id, device_id)
);
