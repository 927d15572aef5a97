-- An organisation's schedule may look at its DNS and mail records less often than
-- rounds come: a job then carries the whole last observation (dns = 0), and the
-- scheduler needs to know when the records were last asked for.
ALTER TABLE monitor_jobs ADD COLUMN dns BIGINT NOT NULL DEFAULT 1;
ALTER TABLE monitor_targets ADD COLUMN dns_seen_ms BIGINT;
