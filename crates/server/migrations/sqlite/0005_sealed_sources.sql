-- 0005: sealed sources (issue 9). Append-only: never edit once shipped.
--
-- Each ward has an X25519 source key; devices seal a named informant's
-- identity to it. The server never stores a ward key's secret half in a
-- form it can use alone: only sealed to each holder (an officer allowed
-- to see sources, whose own key is wrapped under their password, or the
-- ward's recovery identity, wrapped under the recovery passphrase).

-- Every source key of every ward; retired_at NULL marks a ward's current one.
CREATE TABLE ward_keys (
    key_id      TEXT PRIMARY KEY,
    ward_code   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT
) STRICT;
CREATE INDEX ward_keys_ward ON ward_keys (ward_code);

-- The ward's recovery identity: its secret half wrapped under the recovery
-- passphrase printed once when the ward was created.
CREATE TABLE ward_recovery (
    ward_code   TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    wrapped     TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- Each ward key's secret sealed to each holder: 'recovery:WARD' or
-- 'officer:USERNAME'.
CREATE TABLE ward_key_copies (
    key_id  TEXT NOT NULL REFERENCES ward_keys (key_id),
    holder  TEXT NOT NULL,
    sealed  TEXT NOT NULL,
    PRIMARY KEY (key_id, holder)
) STRICT;

-- An officer's own key pair: the secret half wrapped under their password
-- (argon2id); NULL until their first login after this migration.
ALTER TABLE officers ADD COLUMN key_public TEXT;
ALTER TABLE officers ADD COLUMN key_wrapped TEXT;
-- The "see sources" (nguồn tin) permission.
ALTER TABLE officers ADD COLUMN sees_sources INTEGER NOT NULL DEFAULT 0;
