-- 0003: the app's settings (language, sync on Wi-Fi only), one JSON row.
-- JSON so that later settings are added with serde defaults, no migration.
CREATE TABLE app_settings (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    body  TEXT NOT NULL
) STRICT;
