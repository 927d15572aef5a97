-- Alerts (ward alert). A regression worth telling is an event, kept once per
-- organisation, domain, check and the scan that showed it: running `ward alert` again
-- finds it already there, and the same check regressing again later (after it got
-- better) is a new event, from a new scan.
CREATE TABLE alert_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  TEXT NOT NULL,
    domain           TEXT NOT NULL,
    check_id         TEXT NOT NULL,   -- '' for a change of the whole domain
    scan_id          INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,   -- ward_advice::changes::ChangeKind, as in JSON
    status           TEXT NOT NULL,
    severity         TEXT NOT NULL,
    summary          TEXT NOT NULL,
    created_at       TEXT NOT NULL,   -- RFC 3339
    UNIQUE (organisation_id, domain, check_id, scan_id)
);

-- What became of each event for each contact and channel: sent, or given up on (its
-- message is then in alert_dead_letters). An event with no row here for a contact is
-- still due to that contact (held by quiet hours, or not sent yet).
CREATE TABLE alert_deliveries (
    event_id   INTEGER NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    contact    TEXT NOT NULL,         -- the address or the webhook URL
    at         TEXT NOT NULL,         -- RFC 3339
    outcome    TEXT NOT NULL CHECK (outcome IN ('sent', 'dead')),
    attempts   INTEGER NOT NULL,
    error      TEXT,                  -- the last failure, if any
    PRIMARY KEY (event_id, channel, contact)
);

-- Digests that could not be delivered after every attempt, with the message itself, so
-- someone can read what was missed (`ward alert --dead-letters`).
CREATE TABLE alert_dead_letters (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  TEXT NOT NULL,
    channel          TEXT NOT NULL,
    contact          TEXT NOT NULL,
    at               TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    error            TEXT NOT NULL,
    payload          TEXT NOT NULL    -- the mail text or the webhook's JSON body
);
