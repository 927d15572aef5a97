//! Mail reports in the store: DMARC aggregate, DMARC failure and SMTP TLS reports.
//!
//! A report is stored once per [`ward_reports::ReportKey`]: [`Store::save_report`] writes
//! the report and all its rows in one transaction, or, when a report with the same key is
//! already there, nothing at all. So ingesting the same sources twice stores nothing new,
//! and an ingester killed part-way leaves only whole reports behind: the next run stores
//! the rest.

use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use ward_reports::aggregate::{Extension, PolicyPublished, ReportMetadata};
use ward_reports::analysis::{
    PolicySeen, ReportData, SelectorVolume, SourceVolume, TlsFailureVolume, TlsPolicyVolume,
};
use ward_reports::{AggregateReport, Report, ReportKind, TlsReport, Unpacked};

use std::ffi::CStr;

use crate::raw::{Db, SqliteError, Value as RawValue};
use crate::{Store, StoreError, ts};

/// What [`Store::save_report`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The report was new and is now stored, under this row id.
    Stored(i64),
    /// A report with the same key was already stored; nothing was written.
    Duplicate,
}

/// One stored report, as [`Store::stored_reports`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// Kind of report.
    pub kind: ReportKind,
    /// Reporting organisation.
    pub reporter_org: String,
    /// Report id.
    pub report_id: String,
    /// Start of the covered range, seconds since the epoch.
    pub begin: i64,
    /// End of the covered range, seconds since the epoch.
    pub end: i64,
    /// The domain the report is about (lower case; empty when it names none).
    pub domain: String,
    /// Rows stored with it: aggregate records, or TLS policies.
    pub rows: i64,
}

/// Which reports a query looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only reports about this domain (lower case). `None`: every domain.
    pub domain: Option<String>,
    /// Only reports whose covered range ends at or after this time (seconds since the
    /// epoch). `None`: all time.
    pub since: Option<i64>,
}

fn kind_str(k: ReportKind) -> &'static str {
    match k {
        ReportKind::Aggregate => "aggregate",
        ReportKind::Failure => "failure",
        ReportKind::Tls => "tls",
    }
}

fn kind_from(s: &str) -> Option<ReportKind> {
    match s {
        "aggregate" => Some(ReportKind::Aggregate),
        "failure" => Some(ReportKind::Failure),
        "tls" => Some(ReportKind::Tls),
        _ => None,
    }
}

/// SQLite integers are signed 64-bit; counts beyond that saturate.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// An aggregate report without its records (those are rows of their own).
#[derive(Serialize)]
struct AggregateHead<'a> {
    namespace: &'a Option<String>,
    version: &'a Option<String>,
    report_metadata: &'a ReportMetadata,
    policy_published: &'a PolicyPublished,
    extensions: &'a [Extension],
}

/// The domain a report is about.
fn report_domain(report: &Report) -> String {
    let d = match report {
        Report::Aggregate(a) => a.policy_published.domain.as_str(),
        Report::Tls(t) => t
            .policies
            .iter()
            .find_map(|p| p.policy.policy_domain.as_deref())
            .unwrap_or(""),
        Report::Failure(f) => f.reported_domain.first().map_or("", String::as_str),
    };
    normal_domain(d)
}

fn normal_domain(d: &str) -> String {
    d.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The filter of report queries: `?1` the domain (or NULL), `?2` the earliest end time.
macro_rules! report_where {
    () => {
        "(?1 IS NULL OR r.domain = ?1) AND (?2 IS NULL OR r.end_ts >= ?2)"
    };
}

/// As [`report_where`], for TLS policies (`t`), whose own domain counts.
macro_rules! tls_where {
    () => {
        "(?1 IS NULL OR t.policy_domain = ?1) AND (?2 IS NULL OR r.end_ts >= ?2)"
    };
}

const BEGIN: &CStr = c"BEGIN";
const COMMIT: &CStr = c"COMMIT";
const ROLLBACK: &CStr = c"ROLLBACK";

const INSERT_REPORT: &str = "INSERT INTO reports (kind, reporter_org, reporter_email, report_id, \
     begin_ts, end_ts, domain, source, ingested_at, policy_p, policy_sp, policy_pct, \
     policy_testing, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts) DO NOTHING \
     RETURNING id";

const INSERT_RECORD: &str = "INSERT INTO aggregate_records (report, position, source_ip, count, \
     disposition, dkim, spf, header_from, envelope_from, envelope_to, reasons, dkim_results, \
     spf_results) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

const INSERT_TLS_POLICY: &str = "INSERT INTO tls_policies (report, position, policy_type, \
     policy_domain, mx_hosts, successful, failed) VALUES (?, ?, ?, ?, ?, ?, ?)";

const INSERT_TLS_FAILURE: &str = "INSERT INTO tls_failures (report, policy, position, \
     result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, \
     failed_count, failure_reason_code, additional_information) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Why [`write_report`] stopped: SQLite refused, or a value could not be encoded.
enum WriteError {
    Sqlite(SqliteError),
    Encode(&'static str, String),
}

impl From<SqliteError> for WriteError {
    fn from(e: SqliteError) -> Self {
        WriteError::Sqlite(e)
    }
}

/// A report's JSON document: aggregate reports without their records (those are rows).
fn document(report: &Report) -> Result<String, WriteError> {
    match report {
        Report::Aggregate(a) => serde_json::to_string(&AggregateHead {
            namespace: &a.namespace,
            version: &a.version,
            report_metadata: &a.report_metadata,
            policy_published: &a.policy_published,
            extensions: &a.extensions,
        }),
        Report::Failure(f) => serde_json::to_string(f),
        Report::Tls(t) => serde_json::to_string(t),
    }
    .map_err(|e| WriteError::Encode("report document", e.to_string()))
}

/// Writes one report in the transaction the caller opened; `None` when a report with
/// the same key is already stored (then nothing was written).
fn write_report(
    db: &Db<'_>,
    found: &Unpacked,
    document: &str,
    ingested_at: &str,
) -> Result<Option<i64>, WriteError> {
    use RawValue::{Int, Text};
    let report = &found.report;
    let key = report.key();
    let policy = match report {
        Report::Aggregate(a) => Some(&a.policy_published),
        _ => None,
    };
    let domain = report_domain(report);
    let mut insert = db.prepare(INSERT_REPORT)?;
    insert.bind(&[
        Text(Some(kind_str(key.kind))),
        Text(Some(&key.reporter_org)),
        Text(Some(key.reporter_email.as_deref().unwrap_or(""))),
        Text(Some(&key.report_id)),
        Int(key.begin),
        Int(key.end),
        Text(Some(&domain)),
        Text(Some(&found.source)),
        Text(Some(ingested_at)),
        Text(policy.and_then(|p| p.p.as_ref()).map(|p| p.as_str())),
        Text(policy.and_then(|p| p.sp.as_ref()).map(|p| p.as_str())),
        match policy.and_then(|p| p.pct) {
            Some(pct) => Int(i64::from(pct)),
            None => Text(None),
        },
        match policy.and_then(|p| p.testing) {
            Some(t) => Int(i64::from(t)),
            None => Text(None),
        },
        Text(Some(document)),
    ])?;
    let Some(id) = insert.run()? else {
        return Ok(None);
    };
    match report {
        Report::Aggregate(a) => write_records(db, id, a)?,
        Report::Tls(t) => write_tls(db, id, t)?,
        Report::Failure(_) => {}
    }
    Ok(Some(id))
}

/// The records of an aggregate report: one prepared statement, bound and run per record,
/// reusing one buffer for the JSON columns.
fn write_records(db: &Db<'_>, id: i64, a: &AggregateReport) -> Result<(), WriteError> {
    use RawValue::{Int, Text};
    let mut stmt = db.prepare(INSERT_RECORD)?;
    let mut json: Vec<u8> = Vec::new();
    let mut ip = String::new();
    for (i, r) in a.records.iter().enumerate() {
        let pe = &r.row.policy_evaluated;
        let encode = |e: serde_json::Error| WriteError::Encode("aggregate record", e.to_string());
        json.clear();
        serde_json::to_writer(&mut json, &pe.reasons).map_err(encode)?;
        let ends = json.len();
        serde_json::to_writer(&mut json, &r.auth_results.dkim).map_err(encode)?;
        let endd = json.len();
        serde_json::to_writer(&mut json, &r.auth_results.spf).map_err(encode)?;
        // serde_json writes UTF-8; checking costs a pass over a few hundred bytes.
        let text = std::str::from_utf8(&json)
            .map_err(|e| WriteError::Encode("aggregate record", e.to_string()))?;
        let (reasons, rest) = text.split_at(ends);
        let (dkim, spf) = rest.split_at(endd - ends);
        ip.clear();
        {
            use std::fmt::Write as _;
            let _ = write!(ip, "{}", r.row.source_ip);
        }
        let header_from = r.identifiers.header_from.as_deref().map(normal_domain);
        stmt.bind(&[
            Int(id),
            Int(i as i64),
            Text(Some(&ip)),
            Int(int(r.row.count)),
            Text(pe.disposition.as_ref().map(|d| d.as_str())),
            Text(pe.dkim.as_ref().map(|d| d.as_str())),
            Text(pe.spf.as_ref().map(|d| d.as_str())),
            Text(header_from.as_deref()),
            Text(r.identifiers.envelope_from.as_deref()),
            Text(r.identifiers.envelope_to.as_deref()),
            Text(Some(reasons)),
            Text(Some(dkim)),
            Text(Some(spf)),
        ])?;
        stmt.run()?;
    }
    Ok(())
}

/// The policies of a TLS report and their failure details.
fn write_tls(db: &Db<'_>, id: i64, t: &TlsReport) -> Result<(), WriteError> {
    use RawValue::{Int, Text};
    let mut policy = db.prepare(INSERT_TLS_POLICY)?;
    let mut failure = db.prepare(INSERT_TLS_FAILURE)?;
    for (i, p) in t.policies.iter().enumerate() {
        let mx = serde_json::to_string(&p.policy.mx_host)
            .map_err(|e| WriteError::Encode("mx hosts", e.to_string()))?;
        let policy_domain = normal_domain(p.policy.policy_domain.as_deref().unwrap_or(""));
        policy.bind(&[
            Int(id),
            Int(i as i64),
            Text(Some(p.policy.policy_type.as_str())),
            Text(Some(&policy_domain)),
            Text(Some(&mx)),
            Int(int(p.summary.total_successful_session_count)),
            Int(int(p.summary.total_failure_session_count)),
        ])?;
        policy.run()?;
        for (j, f) in p.failure_details.iter().enumerate() {
            let mx_name = f.receiving_mx_hostname.as_deref().map(normal_domain);
            failure.bind(&[
                Int(id),
                Int(i as i64),
                Int(j as i64),
                Text(Some(f.result_type.as_str())),
                Text(f.sending_mta_ip.as_deref()),
                Text(mx_name.as_deref()),
                Text(f.receiving_mx_helo.as_deref()),
                Text(f.receiving_ip.as_deref()),
                Int(int(f.failed_session_count)),
                Text(f.failure_reason_code.as_deref()),
                Text(f.additional_information.as_deref()),
            ])?;
            failure.run()?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores one report and its rows in one transaction; or, if a report with the same
    /// key ([`Report::key`]) is already stored, writes nothing and says so.
    ///
    /// The writing is done with direct SQLite calls on a connection sqlx lends us (see
    /// `raw.rs` for why): one hand-over to sqlx's worker per report, not per statement.
    pub async fn save_report(
        &self,
        found: &Unpacked,
        ingested_at: OffsetDateTime,
    ) -> Result<Saved, StoreError> {
        let document = document(&found.report).map_err(|e| self.write_error(e))?;
        let ingested_at = ts(ingested_at);
        let mut conn = self.pool.acquire().await.map_err(self.db())?;
        let mut lock = conn.lock_handle().await.map_err(self.db())?;
        // No await from here on: the connection is ours, synchronously, until `lock` goes.
        let db = Db::new(&mut lock);
        db.exec(BEGIN).map_err(|e| self.sqlite(e))?;
        let written = write_report(&db, found, &document, &ingested_at);
        let outcome = match written {
            Ok(Some(id)) => db.exec(COMMIT).map(|()| Saved::Stored(id)),
            Ok(None) => db.exec(ROLLBACK).map(|()| Saved::Duplicate),
            Err(e) => {
                // Nothing of the report stays; the first error is the one to report.
                let _ = db.exec(ROLLBACK);
                return Err(self.write_error(e));
            }
        };
        outcome.map_err(|e| {
            let _ = db.exec(ROLLBACK);
            self.sqlite(e)
        })
    }

    fn sqlite(&self, e: SqliteError) -> StoreError {
        StoreError::Sqlite {
            location: self.location.clone(),
            code: e.code,
            message: e.message,
        }
    }

    fn write_error(&self, e: WriteError) -> StoreError {
        match e {
            WriteError::Sqlite(e) => self.sqlite(e),
            WriteError::Encode(what, detail) => self.corrupt(what)(detail),
        }
    }

    /// Every stored report with the number of rows stored with it, in the order stored.
    pub async fn stored_reports(&self) -> Result<Vec<StoredReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.kind, r.reporter_org, r.report_id, r.begin_ts, r.end_ts, r.domain, \
             (SELECT COUNT(*) FROM aggregate_records a WHERE a.report = r.id) + \
             (SELECT COUNT(*) FROM tls_policies t WHERE t.report = r.id) \
             FROM reports r ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get(0);
                Ok(StoredReport {
                    kind: kind_from(&kind)
                        .ok_or_else(|| self.corrupt("report kind")(kind.clone()))?,
                    reporter_org: r.get(1),
                    report_id: r.get(2),
                    begin: r.get(3),
                    end: r.get(4),
                    domain: r.get(5),
                    rows: r.get(6),
                })
            })
            .collect()
    }

    /// Runs one of [`Store::report_data`]'s queries, whose two parameters are the domain
    /// filter and the start date.
    async fn filtered_rows(
        &self,
        sql: &'static str,
        domain: Option<&str>,
        since: Option<i64>,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, StoreError> {
        sqlx::query(sql)
            .bind(domain)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db())
    }

    /// The stored report data `filter` selects, summed in the database so that the result
    /// grows with the number of distinct sources, not with the number of reports.
    pub async fn report_data(&self, filter: &ReportFilter) -> Result<ReportData, StoreError> {
        let domain = filter.domain.as_deref();
        let since = filter.since;
        let mut data = ReportData::default();

        let counts = self
            .filtered_rows(
                concat!(
                    "SELECT r.kind, COUNT(*) FROM reports r WHERE ",
                    report_where!(),
                    " GROUP BY r.kind"
                ),
                domain,
                since,
            )
            .await?;
        for r in &counts {
            let kind: String = r.get(0);
            let n = uint(r.get(1));
            match kind_from(&kind) {
                Some(ReportKind::Aggregate) => data.aggregate_reports = n,
                Some(ReportKind::Failure) => data.failure_reports = n,
                Some(ReportKind::Tls) => data.tls_reports = n,
                None => return Err(self.corrupt("report kind")(kind)),
            }
        }

        let rows = self
            .filtered_rows(
                concat!(
                    "SELECT r.domain, a.source_ip, a.dkim, a.spf, SUM(a.count) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report WHERE ",
                    report_where!(),
                    " \
             GROUP BY r.domain, a.source_ip, a.dkim, a.spf \
             ORDER BY r.domain, a.source_ip, a.dkim, a.spf"
                ),
                domain,
                since,
            )
            .await?;
        for r in &rows {
            let ip: String = r.get(1);
            let dkim: Option<String> = r.get(2);
            let spf: Option<String> = r.get(3);
            data.sources.push(SourceVolume {
                domain: r.get(0),
                source_ip: ip
                    .parse()
                    .map_err(|_| self.corrupt("source address")(ip.clone()))?,
                dkim_aligned: dkim.as_deref() == Some("pass"),
                spf_aligned: spf.as_deref() == Some("pass"),
                count: uint(r.get(4)),
            });
        }

        let rows = self
            .filtered_rows(
                concat!(
                    "SELECT r.domain, \
             COALESCE(lower(rtrim(trim(json_extract(x.value, '$.domain')), '.')), ''), \
             lower(trim(json_extract(x.value, '$.selector'))), \
             json_extract(x.value, '$.result'), SUM(a.count) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report, \
             json_each(a.dkim_results) x \
             WHERE COALESCE(trim(json_extract(x.value, '$.selector')), '') != '' AND ",
                    report_where!(),
                    " \
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                ),
                domain,
                since,
            )
            .await?;
        for r in &rows {
            data.selectors.push(SelectorVolume {
                domain: r.get(0),
                dkim_domain: r.get(1),
                selector: r.get(2),
                result: r.get(3),
                count: uint(r.get(4)),
            });
        }

        let rows = self
            .filtered_rows(
                concat!(
                    "SELECT t.policy_domain, SUM(t.successful), SUM(t.failed) \
             FROM tls_policies t JOIN reports r ON r.id = t.report WHERE ",
                    tls_where!(),
                    " \
             GROUP BY 1 ORDER BY 1"
                ),
                domain,
                since,
            )
            .await?;
        for r in &rows {
            data.tls_policies.push(TlsPolicyVolume {
                policy_domain: r.get(0),
                successful: uint(r.get(1)),
                failed: uint(r.get(2)),
            });
        }

        let rows = self.filtered_rows(concat!(
            "SELECT t.policy_domain, COALESCE(f.receiving_mx_hostname, f.receiving_ip, ''), \
             f.result_type, SUM(f.failed_count) \
             FROM tls_failures f \
             JOIN tls_policies t ON t.report = f.report AND t.position = f.policy \
             JOIN reports r ON r.id = f.report WHERE ",
            tls_where!(),
            " \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ), domain, since)
        .await?;
        for r in &rows {
            data.tls_failures.push(TlsFailureVolume {
                policy_domain: r.get(0),
                mx: r.get(1),
                result_type: r.get(2),
                count: uint(r.get(3)),
            });
        }

        // The newest policy each domain's reports show.
        let rows = self.filtered_rows(concat!(
            "SELECT r.domain, r.policy_p, r.policy_pct, r.policy_testing, r.end_ts FROM reports r \
             WHERE r.kind = 'aggregate' AND ", report_where!(), " AND r.id = (SELECT r2.id FROM reports r2 \
             WHERE r2.kind = 'aggregate' AND r2.domain = r.domain ORDER BY r2.end_ts DESC, r2.id DESC LIMIT 1) \
             ORDER BY r.domain"
        ), domain, since)
        .await?;
        for r in &rows {
            let pct: Option<i64> = r.get(2);
            let testing: Option<i64> = r.get(3);
            data.policies.push(PolicySeen {
                domain: r.get(0),
                p: r.get(1),
                pct: pct.and_then(|p| u8::try_from(p).ok()),
                testing: testing == Some(1),
                end: r.get(4),
            });
        }
        Ok(data)
    }
}
