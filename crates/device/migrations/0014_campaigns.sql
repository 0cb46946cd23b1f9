-- 0014: the ward's campaigns for this device's group (the server's
-- `GET /v1/campaigns`), replaced at each sync with what the server says:
-- `body` is the campaign (sotay_domain::campaign::Campaign, JSON), `facts`
-- what the server counted for the group from every device's sent reports
-- (sotay_domain::wire::GroupCampaign without the campaign), `fetched_at`
-- when; `notified` once the phone raised its local notification.
-- Append-only: never edit once shipped.
CREATE TABLE campaigns (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    facts       TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    notified    INTEGER NOT NULL DEFAULT 0
) STRICT;
