-- 0005: the ward's source key, published by the server and refreshed at
-- every sync; a named informant's identity and the confidential note are
-- sealed to it before a tip leaves the device (sotay-seal). A single row.
CREATE TABLE source_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ward_code   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    public_key  TEXT NOT NULL,  -- X25519, base64
    updated_at  TEXT NOT NULL
) STRICT;
