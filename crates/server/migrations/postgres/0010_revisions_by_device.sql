-- 0010: a device's last stored change, found by one index seek. The
-- devices page and every /metrics scrape ask it for each device; without
-- the index each asked read every revision.
CREATE INDEX report_revisions_device ON report_revisions (device_id, received_at);
