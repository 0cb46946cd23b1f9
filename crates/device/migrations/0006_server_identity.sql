-- 0006: which server this device is enrolled with (its id from
-- server-info; enrolling with another server is refused until the data is
-- erased), and the SHA-256 of its TLS key when the enrollment link pinned it.
ALTER TABLE sync_state ADD COLUMN server_id TEXT;
ALTER TABLE sync_state ADD COLUMN server_pin TEXT;
