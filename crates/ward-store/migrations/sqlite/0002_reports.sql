-- Mail reports: DMARC aggregate, DMARC failure and SMTP TLS reports.
--
-- One row per report, keyed by what makes a report the same report when it arrives
-- twice (ward_reports::ReportKey): kind, reporter, report id and covered range. Each
-- report and its rows are written in one transaction, so a killed ingester leaves whole
-- reports or nothing, and a re-run skips what is already here.
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('aggregate', 'failure', 'tls')),
    reporter_org    TEXT NOT NULL,
    reporter_email  TEXT NOT NULL,   -- '' when the report gives none, so the key is total
    report_id       TEXT NOT NULL,
    begin_ts        INTEGER NOT NULL, -- seconds since the epoch, UTC
    end_ts          INTEGER NOT NULL,
    domain          TEXT NOT NULL,   -- lower case; '' when the report names none
    source          TEXT NOT NULL,   -- the file or message it came from
    ingested_at     TEXT NOT NULL,   -- RFC 3339
    -- The policy the receiver saw (aggregate reports only).
    policy_p        TEXT,
    policy_sp       TEXT,
    policy_pct      INTEGER,
    policy_testing  INTEGER,         -- RFC 9990 t=y: 1
    document        TEXT NOT NULL,   -- JSON; for aggregate reports without the records
    UNIQUE (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts)
);

CREATE INDEX reports_by_domain ON reports (domain, end_ts);

-- One <record> of an aggregate report.
CREATE TABLE aggregate_records (
    report         INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    source_ip      TEXT NOT NULL,
    count          INTEGER NOT NULL,
    disposition    TEXT,
    dkim           TEXT,              -- policy_evaluated: DMARC-aligned DKIM result
    spf            TEXT,              -- policy_evaluated: DMARC-aligned SPF result
    header_from    TEXT,
    envelope_from  TEXT,
    envelope_to    TEXT,
    reasons        TEXT NOT NULL,     -- JSON array of {kind, comment}
    -- <auth_results>, as JSON arrays: one row per record, not per result, halves the
    -- rows written (see docs/performance.md).
    dkim_results   TEXT NOT NULL,     -- [{domain, selector, result, human_result}]
    spf_results    TEXT NOT NULL,     -- [{domain, scope, result, human_result}]
    PRIMARY KEY (report, position)
) WITHOUT ROWID;                      -- rows live in the key's b-tree: one insert, not two

-- One policy of an SMTP TLS report.
CREATE TABLE tls_policies (
    report         INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    policy_type    TEXT NOT NULL,
    policy_domain  TEXT NOT NULL,     -- lower case; '' when missing
    mx_hosts       TEXT NOT NULL,     -- JSON array
    successful     INTEGER NOT NULL,
    failed         INTEGER NOT NULL,
    PRIMARY KEY (report, position)
);

-- One failure-details entry of a TLS policy.
CREATE TABLE tls_failures (
    report                  INTEGER NOT NULL,
    policy                  INTEGER NOT NULL,
    position                INTEGER NOT NULL,
    result_type             TEXT NOT NULL,
    sending_mta_ip          TEXT,
    receiving_mx_hostname   TEXT,
    receiving_mx_helo       TEXT,
    receiving_ip            TEXT,
    failed_count            INTEGER NOT NULL,
    failure_reason_code     TEXT,
    additional_information  TEXT,
    PRIMARY KEY (report, policy, position),
    FOREIGN KEY (report, policy) REFERENCES tls_policies(report, position) ON DELETE CASCADE
);
