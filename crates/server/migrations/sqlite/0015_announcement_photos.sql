-- 0015: a photo on an announcement (issue 16): the officer's picture taken
-- in by the server as devices take theirs in (sotay-photo: upright, at most
-- 1600 px, no metadata), kept with the other photos by its SHA-256.
-- `photo` is its manifest entry (sotay_domain::photo::PhotoRef, JSON);
-- `photo_sha256` what a device's download is checked against: a device
-- fetches only the photo of an announcement its group received.
-- Append-only: never edit once shipped.
ALTER TABLE announcements ADD COLUMN photo TEXT;
ALTER TABLE announcements ADD COLUMN photo_sha256 TEXT;
CREATE INDEX announcements_photo ON announcements (photo_sha256);
