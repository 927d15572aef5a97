-- Monitoring (ward monitor, ward worker). A round is one scan of every domain of the
-- inventory as it stood when the round began; each domain is a job, which a worker
-- takes under a lease it renews with heartbeats. A worker that dies stops renewing,
-- and its job is taken again once the lease has run out. Times are milliseconds since
-- 1970 (UTC), on the database's clock, so that workers on several machines agree.
CREATE TABLE monitor_rounds (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id      INTEGER NOT NULL UNIQUE REFERENCES scans(id) ON DELETE CASCADE,
    started_ms   INTEGER NOT NULL,
    finished_ms  INTEGER,
    jobs         INTEGER NOT NULL
);

-- At most one round is open at a time, whatever number of schedulers run.
CREATE UNIQUE INDEX monitor_one_open_round ON monitor_rounds ((finished_ms IS NULL)) WHERE finished_ms IS NULL;

CREATE TABLE monitor_jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id         INTEGER NOT NULL REFERENCES monitor_rounds(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    domain           TEXT NOT NULL,
    organisation_id  TEXT NOT NULL,
    target           TEXT NOT NULL,   -- JSON: the asset and its organisation
    servers          INTEGER NOT NULL, -- 1: contact the web and mail servers; 0: carry them
    due_ms           INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('due', 'running', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    worker           TEXT,
    lease_until_ms   INTEGER,
    finished_ms      INTEGER,
    error            TEXT,
    UNIQUE (round_id, domain)
);
CREATE INDEX monitor_jobs_by_state ON monitor_jobs (state, due_ms);
CREATE INDEX monitor_jobs_by_round ON monitor_jobs (round_id, state);

-- What the scheduler needs to know of each domain: when its servers were last
-- contacted, and the earliest expiry of a certificate seen then.
CREATE TABLE monitor_targets (
    domain            TEXT PRIMARY KEY,
    servers_seen_ms   INTEGER,
    cert_expires_ms   INTEGER,
    last_scan_id      INTEGER
);

-- Every process that takes jobs, and when it was last heard from.
CREATE TABLE monitor_workers (
    name          TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    started_ms    INTEGER NOT NULL,
    heartbeat_ms  INTEGER NOT NULL,
    jobs_done     INTEGER NOT NULL DEFAULT 0,
    stopped_ms    INTEGER
);

-- A carried-forward probe reads the domain's latest stored observation.
CREATE INDEX scan_assets_by_domain ON scan_assets (domain, scan_id);
