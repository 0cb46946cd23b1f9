-- 0006: this server's id, made once with its database and published in
-- server-info; a device records it at enrollment and refuses to enroll
-- with another server until its data is erased. A single row.
-- Append-only: never edit once shipped.
CREATE TABLE server_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    server_id  TEXT NOT NULL
);
INSERT INTO server_meta (id, server_id) VALUES (1, replace(gen_random_uuid()::text, '-', ''));

-- How many changes a device still had waiting at its last contact (it
-- says so when it pulls): the revoke form shows what revoking would lose.
ALTER TABLE devices ADD COLUMN pending_at_last_seen BIGINT;
