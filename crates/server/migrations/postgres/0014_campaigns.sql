-- 0014: the ward's campaigns (issue 16): a target for a period, set by an
-- officer for the whole ward or chosen blocks and groups. `body` is the
-- campaign as devices receive it (sotay_domain::campaign::Campaign, JSON);
-- the columns beside it are what queries filter on. Days are Vietnamese
-- dates as YYYY-MM-DD text, which sorts as the dates do.
--
-- A campaign's groups are resolved when it is set (`campaign_groups`,
-- a block or the whole ward means its groups of that day) and follow
-- merges and splits, so its figures roll up to today's units.
-- Append-only: never edit once shipped.
CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY,
    ward_code     TEXT NOT NULL REFERENCES wards(code),
    body          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    audience      TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL,
    cancelled_at  TIMESTAMPTZ,
    cancelled_by  TEXT
);
CREATE INDEX campaigns_ward ON campaigns (ward_code, ends_on);
CREATE TABLE campaign_groups (
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
    group_id     TEXT NOT NULL REFERENCES groups(id),
    PRIMARY KEY (campaign_id, group_id)
);
CREATE INDEX campaign_groups_group ON campaign_groups (group_id);
