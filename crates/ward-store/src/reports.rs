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

/// Aggregate records written by one INSERT (13 values each; SQLite allows 32766).
const RECORDS_PER_STATEMENT: usize = 500;

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

impl Store {
    /// Stores one report and its rows in one transaction; or, if a report with the same
    /// key ([`Report::key`]) is already stored, writes nothing and says so.
    pub async fn save_report(
        &self,
        found: &Unpacked,
        ingested_at: OffsetDateTime,
    ) -> Result<Saved, StoreError> {
        let report = &found.report;
        let key = report.key();
        let document = match report {
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
        .map_err(|e| self.corrupt("report document")(e.to_string()))?;
        let policy = match report {
            Report::Aggregate(a) => Some(&a.policy_published),
            _ => None,
        };
        let mut tx = self.pool.begin().await.map_err(self.db())?;
        let row = sqlx::query(
            "INSERT INTO reports (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts, \
             domain, source, ingested_at, policy_p, policy_sp, policy_pct, policy_testing, document) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts) DO NOTHING \
             RETURNING id",
        )
        .bind(kind_str(key.kind))
        .bind(&key.reporter_org)
        .bind(key.reporter_email.as_deref().unwrap_or(""))
        .bind(&key.report_id)
        .bind(key.begin)
        .bind(key.end)
        .bind(report_domain(report))
        .bind(&found.source)
        .bind(ts(ingested_at))
        .bind(policy.and_then(|p| p.p.as_ref()).map(|p| p.as_str().to_owned()))
        .bind(policy.and_then(|p| p.sp.as_ref()).map(|p| p.as_str().to_owned()))
        .bind(policy.and_then(|p| p.pct).map(i64::from))
        .bind(policy.and_then(|p| p.testing).map(i64::from))
        .bind(document)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db())?;
        let Some(row) = row else {
            tx.rollback().await.map_err(self.db())?;
            return Ok(Saved::Duplicate);
        };
        let id: i64 = row.get(0);
        match report {
            Report::Aggregate(a) => self.save_records(&mut tx, id, a).await?,
            Report::Tls(t) => self.save_tls(&mut tx, id, t).await?,
            Report::Failure(_) => {}
        }
        tx.commit().await.map_err(self.db())?;
        Ok(Saved::Stored(id))
    }

    async fn save_records(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        id: i64,
        a: &AggregateReport,
    ) -> Result<(), StoreError> {
        // Many rows per statement: one round trip to SQLite's worker per batch, not per
        // row, which is most of the cost of a large report. The statements are not kept
        // prepared: each row count is a different statement, and a cache full of large
        // ones made memory grow with the variety of report sizes.
        for (n, chunk) in a.records.chunks(RECORDS_PER_STATEMENT).enumerate() {
            let first = n * RECORDS_PER_STATEMENT;
            let mut json = Vec::with_capacity(chunk.len());
            for r in chunk {
                let enc = |v: Result<String, serde_json::Error>| {
                    v.map_err(|e| self.corrupt("aggregate record")(e.to_string()))
                };
                json.push((
                    enc(serde_json::to_string(&r.row.policy_evaluated.reasons))?,
                    enc(serde_json::to_string(&r.auth_results.dkim))?,
                    enc(serde_json::to_string(&r.auth_results.spf))?,
                ));
            }
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO aggregate_records (report, position, source_ip, count, disposition, \
                 dkim, spf, header_from, envelope_from, envelope_to, reasons, dkim_results, \
                 spf_results) ",
            );
            q.push_values(
                chunk.iter().zip(json).enumerate(),
                |mut b, (i, (r, (reasons, dkim, spf)))| {
                    let pe = &r.row.policy_evaluated;
                    b.push_bind(id)
                        .push_bind((first + i) as i64)
                        .push_bind(r.row.source_ip.to_string())
                        .push_bind(int(r.row.count))
                        .push_bind(pe.disposition.as_ref().map(|d| d.as_str().to_owned()))
                        .push_bind(pe.dkim.as_ref().map(|d| d.as_str().to_owned()))
                        .push_bind(pe.spf.as_ref().map(|d| d.as_str().to_owned()))
                        .push_bind(r.identifiers.header_from.as_deref().map(normal_domain))
                        .push_bind(r.identifiers.envelope_from.clone())
                        .push_bind(r.identifiers.envelope_to.clone())
                        .push_bind(reasons)
                        .push_bind(dkim)
                        .push_bind(spf);
                },
            );
            q.build()
                .persistent(false)
                .execute(&mut **tx)
                .await
                .map_err(self.db())?;
        }
        Ok(())
    }

    async fn save_tls(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        id: i64,
        t: &TlsReport,
    ) -> Result<(), StoreError> {
        for (i, p) in t.policies.iter().enumerate() {
            let mx = serde_json::to_string(&p.policy.mx_host)
                .map_err(|e| self.corrupt("mx hosts")(e.to_string()))?;
            sqlx::query(
                "INSERT INTO tls_policies (report, position, policy_type, policy_domain, mx_hosts, \
                 successful, failed) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(i as i64)
            .bind(p.policy.policy_type.as_str())
            .bind(normal_domain(
                p.policy.policy_domain.as_deref().unwrap_or(""),
            ))
            .bind(mx)
            .bind(int(p.summary.total_successful_session_count))
            .bind(int(p.summary.total_failure_session_count))
            .execute(&mut **tx)
            .await
            .map_err(self.db())?;
            for (j, f) in p.failure_details.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO tls_failures (report, policy, position, result_type, sending_mta_ip, \
                     receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_count, \
                     failure_reason_code, additional_information) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(i as i64)
                .bind(j as i64)
                .bind(f.result_type.as_str())
                .bind(f.sending_mta_ip.as_deref())
                .bind(f.receiving_mx_hostname.as_deref().map(normal_domain))
                .bind(f.receiving_mx_helo.as_deref())
                .bind(f.receiving_ip.as_deref())
                .bind(int(f.failed_session_count))
                .bind(f.failure_reason_code.as_deref())
                .bind(f.additional_information.as_deref())
                .execute(&mut **tx)
                .await
                .map_err(self.db())?;
            }
        }
        Ok(())
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

    /// The stored report data `filter` selects, summed in the database so that the result
    /// grows with the number of distinct sources, not with the number of reports.
    pub async fn report_data(&self, filter: &ReportFilter) -> Result<ReportData, StoreError> {
        let domain = filter.domain.as_deref();
        let since = filter.since;
        let mut data = ReportData::default();

        let counts = sqlx::query(concat!(
            "SELECT r.kind, COUNT(*) FROM reports r WHERE ",
            report_where!(),
            " GROUP BY r.kind"
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
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

        let rows = sqlx::query(concat!(
            "SELECT r.domain, a.source_ip, a.dkim, a.spf, SUM(a.count) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report WHERE ",
            report_where!(),
            " \
             GROUP BY r.domain, a.source_ip, a.dkim, a.spf \
             ORDER BY r.domain, a.source_ip, a.dkim, a.spf"
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
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

        let rows = sqlx::query(concat!(
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
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        for r in &rows {
            data.selectors.push(SelectorVolume {
                domain: r.get(0),
                dkim_domain: r.get(1),
                selector: r.get(2),
                result: r.get(3),
                count: uint(r.get(4)),
            });
        }

        let rows = sqlx::query(concat!(
            "SELECT t.policy_domain, SUM(t.successful), SUM(t.failed) \
             FROM tls_policies t JOIN reports r ON r.id = t.report WHERE ",
            tls_where!(),
            " \
             GROUP BY 1 ORDER BY 1"
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        for r in &rows {
            data.tls_policies.push(TlsPolicyVolume {
                policy_domain: r.get(0),
                successful: uint(r.get(1)),
                failed: uint(r.get(2)),
            });
        }

        let rows = sqlx::query(concat!(
            "SELECT t.policy_domain, COALESCE(f.receiving_mx_hostname, f.receiving_ip, ''), \
             f.result_type, SUM(f.failed_count) \
             FROM tls_failures f \
             JOIN tls_policies t ON t.report = f.report AND t.position = f.policy \
             JOIN reports r ON r.id = f.report WHERE ",
            tls_where!(),
            " \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        for r in &rows {
            data.tls_failures.push(TlsFailureVolume {
                policy_domain: r.get(0),
                mx: r.get(1),
                result_type: r.get(2),
                count: uint(r.get(3)),
            });
        }

        // The newest policy each domain's reports show.
        let rows = sqlx::query(concat!(
            "SELECT r.domain, r.policy_p, r.policy_pct, r.policy_testing, r.end_ts FROM reports r \
             WHERE r.kind = 'aggregate' AND ", report_where!(), " AND r.id = (SELECT r2.id FROM reports r2 \
             WHERE r2.kind = 'aggregate' AND r2.domain = r.domain ORDER BY r2.end_ts DESC, r2.id DESC LIMIT 1) \
             ORDER BY r.domain"
        ))
        .bind(domain)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
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
