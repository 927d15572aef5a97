//! The tables of the schema as data: each table's columns, in order, with the kind of
//! value each holds. `ward db copy` copies by this list, and the PostgreSQL report writer
//! types its arrays by it. A test compares it with what both databases say they have,
//! so a migration that adds a column without adding it here fails.

/// The kind of value a column holds. Every integer is 64-bit on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Text,
}

use Ty::{Int, Text};

/// One table.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub cols: &'static [(&'static str, Ty)],
    /// The primary key (or, for organisations, the stored order): rows are copied in
    /// this order.
    pub order: &'static str,
}

impl Table {
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.cols.iter().map(|(n, _)| *n)
    }

    pub fn types(&self) -> impl Iterator<Item = Ty> + '_ {
        self.cols.iter().map(|(_, t)| *t)
    }
}

pub(crate) const ORGANISATIONS: Table = Table {
    name: "organisations",
    cols: &[
        ("id", Text),
        ("name", Text),
        ("kind", Text),
        ("size", Text),
        ("parent", Text),
        ("position", Int),
    ],
    order: "position, id",
};

pub(crate) const SCANS: Table = Table {
    name: "scans",
    cols: &[
        ("id", Int),
        ("started_at", Text),
        ("finished_at", Text),
        ("ward_version", Text),
        ("state", Text),
    ],
    order: "id",
};

pub(crate) const SCAN_ASSETS: Table = Table {
    name: "scan_assets",
    cols: &[
        ("scan_id", Int),
        ("domain", Text),
        ("position", Int),
        ("organisation_id", Text),
        ("organisation", Text),
        ("roles", Text),
        ("observation", Text),
        ("dmarc_phase", Text),
    ],
    order: "scan_id, domain",
};

pub(crate) const FINDINGS: Table = Table {
    name: "findings",
    cols: &[
        ("scan_id", Int),
        ("domain", Text),
        ("position", Int),
        ("check_id", Text),
        ("status", Text),
        ("severity", Text),
        ("summary", Text),
        ("evidence", Text),
    ],
    order: "scan_id, domain, check_id",
};

/// The report's own row: its id, then the [`ward_model::report_rows::REPORT_COLS`]
/// columns of `ReportRows::report`, then the two digests.
pub(crate) const REPORTS: Table = Table {
    name: "reports",
    cols: &[
        ("id", Int),
        ("kind", Text),
        ("reporter_org", Text),
        ("reporter_email", Text),
        ("report_id", Text),
        ("begin_ts", Int),
        ("end_ts", Int),
        ("domain", Text),
        ("source", Text),
        ("ingested_at", Text),
        ("policy_p", Text),
        ("policy_sp", Text),
        ("policy_pct", Int),
        ("policy_testing", Int),
        ("document", Text),
        ("digest", Text),
        ("file_digest", Text),
    ],
    order: "id",
};

/// In the order of `ReportRows::records`.
pub(crate) const AGGREGATE_RECORDS: Table = Table {
    name: "aggregate_records",
    cols: &[
        ("report", Int),
        ("position", Int),
        ("source_ip", Text),
        ("count", Int),
        ("disposition", Text),
        ("dkim", Text),
        ("spf", Text),
        ("header_from", Text),
        ("envelope_from", Text),
        ("envelope_to", Text),
        ("reasons", Text),
        ("dkim_results", Text),
        ("spf_results", Text),
    ],
    order: "report, position",
};

/// In the order of `ReportRows::tls_policies`.
pub(crate) const TLS_POLICIES: Table = Table {
    name: "tls_policies",
    cols: &[
        ("report", Int),
        ("position", Int),
        ("policy_type", Text),
        ("policy_domain", Text),
        ("mx_hosts", Text),
        ("successful", Int),
        ("failed", Int),
    ],
    order: "report, position",
};

/// In the order of `ReportRows::tls_failures`.
pub(crate) const TLS_FAILURES: Table = Table {
    name: "tls_failures",
    cols: &[
        ("report", Int),
        ("policy", Int),
        ("position", Int),
        ("result_type", Text),
        ("sending_mta_ip", Text),
        ("receiving_mx_hostname", Text),
        ("receiving_mx_helo", Text),
        ("receiving_ip", Text),
        ("failed_count", Int),
        ("failure_reason_code", Text),
        ("additional_information", Text),
    ],
    order: "report, policy, position",
};

pub(crate) const ASSESSMENTS: Table = Table {
    name: "assessments",
    cols: &[
        ("id", Int),
        ("organisation_id", Text),
        ("answered_at", Text),
        ("saved_at", Text),
        ("answers", Text),
    ],
    order: "id",
};

pub(crate) const ALERT_EVENTS: Table = Table {
    name: "alert_events",
    cols: &[
        ("id", Int),
        ("organisation_id", Text),
        ("domain", Text),
        ("check_id", Text),
        ("scan_id", Int),
        ("kind", Text),
        ("status", Text),
        ("severity", Text),
        ("summary", Text),
        ("created_at", Text),
    ],
    order: "id",
};

pub(crate) const ALERT_DELIVERIES: Table = Table {
    name: "alert_deliveries",
    cols: &[
        ("event_id", Int),
        ("channel", Text),
        ("contact", Text),
        ("at", Text),
        ("outcome", Text),
        ("attempts", Int),
        ("error", Text),
    ],
    order: "event_id, channel, contact",
};

pub(crate) const ALERT_DEAD_LETTERS: Table = Table {
    name: "alert_dead_letters",
    cols: &[
        ("id", Int),
        ("organisation_id", Text),
        ("channel", Text),
        ("contact", Text),
        ("at", Text),
        ("attempts", Int),
        ("error", Text),
        ("payload", Text),
    ],
    order: "id",
};

pub(crate) const MONITOR_ROUNDS: Table = Table {
    name: "monitor_rounds",
    cols: &[
        ("id", Int),
        ("scan_id", Int),
        ("started_ms", Int),
        ("finished_ms", Int),
        ("jobs", Int),
    ],
    order: "id",
};

pub(crate) const MONITOR_JOBS: Table = Table {
    name: "monitor_jobs",
    cols: &[
        ("id", Int),
        ("round_id", Int),
        ("position", Int),
        ("domain", Text),
        ("organisation_id", Text),
        ("target", Text),
        ("servers", Int),
        ("due_ms", Int),
        ("state", Text),
        ("attempts", Int),
        ("worker", Text),
        ("lease_until_ms", Int),
        ("finished_ms", Int),
        ("error", Text),
        ("dns", Int),
    ],
    order: "id",
};

pub(crate) const MONITOR_TARGETS: Table = Table {
    name: "monitor_targets",
    cols: &[
        ("domain", Text),
        ("servers_seen_ms", Int),
        ("cert_expires_ms", Int),
        ("last_scan_id", Int),
        ("dns_seen_ms", Int),
    ],
    order: "domain",
};

pub(crate) const MONITOR_WORKERS: Table = Table {
    name: "monitor_workers",
    cols: &[
        ("name", Text),
        ("host", Text),
        ("pid", Int),
        ("started_ms", Int),
        ("heartbeat_ms", Int),
        ("jobs_done", Int),
        ("stopped_ms", Int),
    ],
    order: "name",
};

pub(crate) const USERS: Table = Table {
    name: "users",
    cols: &[
        ("id", Int),
        ("email", Text),
        ("password_hash", Text),
        ("created_ms", Int),
    ],
    order: "id",
};

pub(crate) const MEMBERSHIPS: Table = Table {
    name: "memberships",
    cols: &[("user_id", Int), ("organisation_id", Text), ("role", Text)],
    order: "user_id, organisation_id",
};

pub(crate) const SESSIONS: Table = Table {
    name: "sessions",
    cols: &[
        ("token_hash", Text),
        ("user_id", Int),
        ("csrf", Text),
        ("created_ms", Int),
        ("expires_ms", Int),
    ],
    order: "token_hash",
};

pub(crate) const API_TOKENS: Table = Table {
    name: "api_tokens",
    cols: &[
        ("token_hash", Text),
        ("user_id", Int),
        ("label", Text),
        ("created_ms", Int),
    ],
    order: "token_hash",
};

pub(crate) const AUDIT_LOG: Table = Table {
    name: "audit_log",
    cols: &[
        ("id", Int),
        ("at_ms", Int),
        ("actor", Text),
        ("action", Text),
        ("detail", Text),
    ],
    order: "id",
};

pub(crate) const DOMAIN_CLAIMS: Table = Table {
    name: "domain_claims",
    cols: &[
        ("domain", Text),
        ("organisation_id", Text),
        ("token", Text),
        ("roles", Text),
        ("state", Text),
        ("method", Text),
        ("detail", Text),
        ("created_ms", Int),
        ("checked_ms", Int),
        ("verified_ms", Int),
    ],
    order: "domain",
};

pub(crate) const INVITATIONS: Table = Table {
    name: "invitations",
    cols: &[
        ("token_hash", Text),
        ("email", Text),
        ("organisation_id", Text),
        ("role", Text),
        ("invited_by", Text),
        ("created_ms", Int),
        ("expires_ms", Int),
        ("used_ms", Int),
    ],
    order: "token_hash",
};

/// Every table, parents before the tables whose rows refer to them.
pub(crate) const TABLES: [&Table; 23] = [
    &ORGANISATIONS,
    &SCANS,
    &SCAN_ASSETS,
    &FINDINGS,
    &REPORTS,
    &AGGREGATE_RECORDS,
    &TLS_POLICIES,
    &TLS_FAILURES,
    &ASSESSMENTS,
    &ALERT_EVENTS,
    &ALERT_DELIVERIES,
    &ALERT_DEAD_LETTERS,
    &MONITOR_ROUNDS,
    &MONITOR_JOBS,
    &MONITOR_TARGETS,
    &MONITOR_WORKERS,
    &USERS,
    &MEMBERSHIPS,
    &SESSIONS,
    &API_TOKENS,
    &AUDIT_LOG,
    &DOMAIN_CLAIMS,
    &INVITATIONS,
];

/// Tables whose `id` is handed out by the database, and whose counter a copy must move
/// past the ids it wrote.
pub(crate) const WITH_IDS: [&str; 9] = [
    "scans",
    "reports",
    "assessments",
    "alert_events",
    "alert_dead_letters",
    "monitor_rounds",
    "monitor_jobs",
    "users",
    "audit_log",
];

/// `INSERT INTO t (cols) SELECT * FROM UNNEST($1::int8[], $2::text[], …)`: a table's rows
/// sent to PostgreSQL as one array per column, one statement for any number of rows.
pub(crate) fn pg_unnest_insert(t: &Table, cols: std::ops::Range<usize>) -> String {
    let names: Vec<&str> = t.cols[cols.clone()].iter().map(|(n, _)| *n).collect();
    let arrays: Vec<String> = t.cols[cols]
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            let pg = match ty {
                Int => "int8",
                Text => "text",
            };
            format!("${}::{pg}[]", i + 1)
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) SELECT * FROM UNNEST({})",
        t.name,
        names.join(", "),
        arrays.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::report_rows::{RECORD_COLS, REPORT_COLS, TLS_FAILURE_COLS, TLS_POLICY_COLS};

    #[test]
    fn report_tables_have_the_widths_of_report_rows() {
        // The id and the two digests are the store's, not the rows'.
        assert_eq!(REPORTS.cols.len(), REPORT_COLS + 3);
        assert_eq!(AGGREGATE_RECORDS.cols.len(), RECORD_COLS);
        assert_eq!(TLS_POLICIES.cols.len(), TLS_POLICY_COLS);
        assert_eq!(TLS_FAILURES.cols.len(), TLS_FAILURE_COLS);
    }

    #[test]
    fn unnest_insert_types_each_array() {
        assert_eq!(
            pg_unnest_insert(&TLS_POLICIES, 0..TLS_POLICIES.cols.len()),
            "INSERT INTO tls_policies (report, position, policy_type, policy_domain, mx_hosts, \
             successful, failed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], \
             $4::text[], $5::text[], $6::int8[], $7::int8[])"
        );
    }
}
