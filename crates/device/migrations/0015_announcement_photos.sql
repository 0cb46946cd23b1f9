-- 0015: an announcement's photo (issue 16): `photo` its manifest entry
-- (sotay_domain::photo::PhotoRef, JSON), `photo_sha256` its name. The
-- picture itself is fetched after the pull and kept in `photos` like the
-- leader's own, but never queued for upload (it has no `photo_uploads` row).
-- Append-only: never edit once shipped.
ALTER TABLE announcements ADD COLUMN photo TEXT;
ALTER TABLE announcements ADD COLUMN photo_sha256 TEXT;
