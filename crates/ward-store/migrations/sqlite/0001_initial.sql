-- The organisation tree as last imported.
CREATE TABLE organisations (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    size    TEXT NOT NULL,
    parent  TEXT
);

-- One run of `ward scan` / `ward demo`. A scan that is still 'running' when read was
-- interrupted: its completed assets are kept, and readers say it is incomplete.
CREATE TABLE scans (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    ward_version  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('running', 'complete'))
);

-- What was seen of each asset in a scan, and whose it was at the time.
CREATE TABLE scan_assets (
    scan_id          INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    domain           TEXT NOT NULL,
    position         INTEGER NOT NULL,
    organisation_id  TEXT NOT NULL,
    organisation     TEXT NOT NULL,
    roles            TEXT NOT NULL,   -- JSON array
    observation      TEXT NOT NULL,   -- JSON: ward_model::observe::AssetObservation
    PRIMARY KEY (scan_id, domain)
);

CREATE TABLE findings (
    scan_id    INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    domain     TEXT NOT NULL,
    position   INTEGER NOT NULL,
    check_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    severity   TEXT NOT NULL,
    summary    TEXT NOT NULL,
    evidence   TEXT NOT NULL,         -- JSON
    PRIMARY KEY (scan_id, domain, check_id)
);

CREATE INDEX findings_by_check ON findings (check_id, status);
