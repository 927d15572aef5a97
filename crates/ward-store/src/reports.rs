//! Mail reports in the store: DMARC aggregate, DMARC failure and SMTP TLS reports.
//!
//! A report is stored once per key (kind, reporter, report id and covered range): [`Store::save_report`] writes
//! the report and all its rows in one transaction, or, when a report with the same key is
//! already there, nothing at all. So ingesting the same sources twice stores nothing new,
//! and an ingester killed part-way leaves only whole reports behind: the next run stores
//! the rest.

use time::OffsetDateTime;
use ward_model::report_rows::{
    Col, DayVolume, PolicySeen, RECORD_COLS, ReportData, ReportKind, ReportRows, SelectorVolume,
    SourceVolume, TLS_FAILURE_COLS, TLS_POLICY_COLS, TlsFailureVolume, TlsPolicyVolume,
};

use std::ffi::CStr;

use crate::raw::{Db, SqliteError, Stmt, Value as RawValue};
use crate::{Backend, Saved, Store, StoreError, ts, uint};

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

/// The filter of report queries: `$1` the domain (or NULL), `$2` the earliest end time.
macro_rules! report_where {
    () => {
        "($1 IS NULL OR r.domain = $1) AND ($2 IS NULL OR r.end_ts >= $2)"
    };
}

/// As [`report_where`], for TLS policies (`t`), whose own domain counts.
macro_rules! tls_where {
    () => {
        "($1 IS NULL OR t.policy_domain = $1) AND ($2 IS NULL OR r.end_ts >= $2)"
    };
}

pub(crate) const BEGIN: &CStr = c"BEGIN IMMEDIATE";
pub(crate) const COMMIT: &CStr = c"COMMIT";
pub(crate) const ROLLBACK: &CStr = c"ROLLBACK";
const SAVEPOINT: &CStr = c"SAVEPOINT report";
const RELEASE: &CStr = c"RELEASE report";

pub(crate) const INSERT_REPORT: &str = "INSERT INTO reports (kind, reporter_org, reporter_email, report_id, \
     begin_ts, end_ts, domain, source, ingested_at, policy_p, policy_sp, policy_pct, \
     policy_testing, document, digest, file_digest) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts) DO NOTHING \
     RETURNING id";

/// The key of a report, as bound from the first six columns of its own row.
macro_rules! report_key {
    () => {
        "kind = ? AND reporter_org = ? AND reporter_email = ? AND report_id = ? \
         AND begin_ts = ? AND end_ts = ?"
    };
}

/// The stored report with this key and content (the digest is the seventh value).
pub(crate) const SAME_CONTENT: &str = concat!(
    "SELECT id FROM reports WHERE ",
    report_key!(),
    " AND digest IS ?"
);

/// Rows (aggregate records or TLS policies) of the stored report with this key.
pub(crate) const STORED_ROWS: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM aggregate_records a WHERE a.report = r.id) + \
     (SELECT COUNT(*) FROM tls_policies t WHERE t.report = r.id) FROM reports r WHERE ",
    report_key!()
);

/// Whether the stored report with this key has a digest (reports stored before digests
/// were kept have none, and a copy of equal length cannot be told from them).
pub(crate) const HAS_DIGEST: &str = concat!(
    "SELECT digest IS NOT NULL FROM reports WHERE ",
    report_key!()
);

/// Removes the stored report with this key, and its rows (by cascade).
pub(crate) const DELETE_REPORT: &str = concat!("DELETE FROM reports WHERE ", report_key!());

pub(crate) const INSERT_RECORD: &str = "INSERT INTO aggregate_records (report, position, source_ip, count, \
     disposition, dkim, spf, header_from, envelope_from, envelope_to, reasons, dkim_results, \
     spf_results) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

const INSERT_TLS_POLICY: &str = "INSERT INTO tls_policies (report, position, policy_type, \
     policy_domain, mx_hosts, successful, failed) VALUES (?, ?, ?, ?, ?, ?, ?)";

const INSERT_TLS_FAILURE: &str = "INSERT INTO tls_failures (report, policy, position, \
     result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, \
     failed_count, failure_reason_code, additional_information) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

pub(crate) fn value<'a>(
    rows: &'a ReportRows,
    c: Col,
    id: i64,
    ingested_at: &'a str,
) -> RawValue<'a> {
    match c {
        Col::Int(n) => RawValue::Int(n),
        Col::Null => RawValue::Text(None),
        // Spans end on character boundaries (each is a whole `&str`); `get` cannot
        // fail, and would bind NULL rather than panic if it did.
        Col::Text(a, b) => RawValue::Text(rows.text.get(a..b)),
        Col::Static(s) => RawValue::Text(Some(s)),
        Col::ReportId => RawValue::Int(id),
        Col::IngestedAt => RawValue::Text(Some(ingested_at)),
    }
}

/// Binds and runs `stmt` once per row of `cols`.
pub(crate) fn insert_rows(
    rows: &ReportRows,
    stmt: &mut Stmt<'_, '_>,
    cols: &[Col],
    width: usize,
    id: i64,
    ingested_at: &str,
) -> Result<(), SqliteError> {
    for row in cols.chunks_exact(width) {
        stmt.run_with(row.iter().map(|c| value(rows, *c, id, ingested_at)))?;
    }
    Ok(())
}

/// One report in one transaction on the borrowed connection.
fn save_one(
    db: &Db<'_>,
    stmts: &mut Statements<'_, '_>,
    encoded: &ReportRows,
    ingested_at: &str,
) -> Result<Saved, SqliteError> {
    db.exec(BEGIN)?;
    let outcome = match write_report(stmts, encoded, ingested_at) {
        Ok(saved @ (Saved::Stored(_) | Saved::Replaced { .. })) => db.exec(COMMIT).map(|()| saved),
        Ok(other) => db.exec(ROLLBACK).map(|()| other),
        // Nothing of the report stays; the first error is the one to report.
        Err(e) => Err(e),
    };
    outcome.inspect_err(|_| {
        let _ = db.exec(ROLLBACK);
    })
}

/// Stores a batch of reports in one transaction, each report inside a savepoint of its
/// own, so a report is still stored whole or not at all while the batch pays for one
/// commit. A commit appends every page the transaction touched to the WAL, and
/// consecutive reports touch the same last pages of the same tables and indexes: one
/// transaction per report wrote those pages once per report.
///
/// Any error leaves the transaction for the caller to roll back; then nothing of the
/// batch is stored.
fn save_together(
    db: &Db<'_>,
    stmts: &mut Statements<'_, '_>,
    batch: &[&ReportRows],
    ingested_at: &str,
) -> Result<Vec<Saved>, SqliteError> {
    let mut saved = Vec::with_capacity(batch.len());
    db.exec(BEGIN)?;
    for encoded in batch {
        db.exec(SAVEPOINT)?;
        // A duplicate wrote nothing (the report's own row is the first insert), so
        // releasing its savepoint keeps nothing of it either.
        saved.push(write_report(stmts, encoded, ingested_at)?);
        db.exec(RELEASE)?;
    }
    db.exec(COMMIT)?;
    Ok(saved)
}

/// The four insert statements, prepared once for a whole batch of reports: preparing is
/// SQL parsing, and a batch of small reports would otherwise pay it per report.
struct Statements<'db, 'lock> {
    report: Stmt<'db, 'lock>,
    record: Stmt<'db, 'lock>,
    tls_policy: Stmt<'db, 'lock>,
    tls_failure: Stmt<'db, 'lock>,
    same_content: Stmt<'db, 'lock>,
    stored_rows: Stmt<'db, 'lock>,
    has_digest: Stmt<'db, 'lock>,
    delete: Stmt<'db, 'lock>,
}

impl<'db, 'lock> Statements<'db, 'lock> {
    fn prepare(db: &'db Db<'lock>) -> Result<Self, SqliteError> {
        Ok(Statements {
            report: db.prepare(INSERT_REPORT)?,
            record: db.prepare(INSERT_RECORD)?,
            tls_policy: db.prepare(INSERT_TLS_POLICY)?,
            tls_failure: db.prepare(INSERT_TLS_FAILURE)?,
            same_content: db.prepare(SAME_CONTENT)?,
            stored_rows: db.prepare(STORED_ROWS)?,
            has_digest: db.prepare(HAS_DIGEST)?,
            delete: db.prepare(DELETE_REPORT)?,
        })
    }
}

/// Writes one report in the transaction the caller opened. When a report with the same
/// key is stored already, the copy with more rows wins: a longer new copy replaces the
/// stored one, anything else writes nothing.
fn write_report(
    stmts: &mut Statements<'_, '_>,
    e: &ReportRows,
    ingested_at: &str,
) -> Result<Saved, SqliteError> {
    let digest = e.digest();
    if let Some(id) = insert_report(stmts, e, ingested_at, &digest)? {
        return Ok(Saved::Stored(id));
    }
    let key = || {
        e.report
            .iter()
            .take(6)
            .map(|c| value(e, *c, 0, ingested_at))
    };
    let same = key().chain([RawValue::Text(Some(&digest))]);
    if stmts.same_content.run_with(same)?.is_some() {
        return Ok(Saved::Duplicate);
    }
    let stored_rows = uint(stmts.stored_rows.run_with(key())?.unwrap_or(0));
    let new_rows = e.rows() as u64;
    if new_rows <= stored_rows {
        let has_digest = stmts.has_digest.run_with(key())? == Some(1);
        return Ok(if has_digest {
            Saved::Differs {
                stored_rows,
                new_rows,
            }
        } else {
            Saved::Duplicate
        });
    }
    stmts.delete.run_with(key())?;
    match insert_report(stmts, e, ingested_at, &digest)? {
        Some(id) => Ok(Saved::Replaced {
            id,
            old_rows: stored_rows,
            new_rows,
        }),
        None => Err(SqliteError {
            code: 0,
            message: "the report's key is still taken after removing the shorter copy".into(),
        }),
    }
}

/// Inserts the report's own row and then its rows; `None` when its key is taken (then
/// nothing was written).
fn insert_report(
    stmts: &mut Statements<'_, '_>,
    e: &ReportRows,
    ingested_at: &str,
    digest: &str,
) -> Result<Option<i64>, SqliteError> {
    let head = e
        .report
        .iter()
        .map(|c| value(e, *c, 0, ingested_at))
        .chain([
            RawValue::Text(Some(digest)),
            RawValue::Text(e.file_digest.as_deref()),
        ]);
    let Some(id) = stmts.report.run_with(head)? else {
        return Ok(None);
    };
    insert_rows(
        e,
        &mut stmts.record,
        &e.records,
        RECORD_COLS,
        id,
        ingested_at,
    )?;
    insert_rows(
        e,
        &mut stmts.tls_policy,
        &e.tls_policies,
        TLS_POLICY_COLS,
        id,
        ingested_at,
    )?;
    insert_rows(
        e,
        &mut stmts.tls_failure,
        &e.tls_failures,
        TLS_FAILURE_COLS,
        id,
        ingested_at,
    )?;
    Ok(Some(id))
}

impl Store {
    /// Stores one report and its rows in one transaction; or, if a report with the same
    /// key (kind, reporter, report id, range) is already stored, writes nothing and says so.
    ///
    /// The writing is done with direct SQLite calls on a connection sqlx lends us (see
    /// `raw.rs` for why): one hand-over to sqlx's worker per call, not per statement.
    pub async fn save_report(
        &self,
        rows: &ReportRows,
        ingested_at: OffsetDateTime,
    ) -> Result<Saved, StoreError> {
        let (mut saved, error) = self.save_reports(&[rows], ingested_at).await;
        match (saved.pop(), error) {
            (_, Some(e)) => Err(e),
            (Some(s), None) => Ok(s),
            (None, None) => Err(self.corrupt("report")("nothing was written".into())),
        }
    }

    /// Stores several reports' rows, each whole or not at all
    /// as [`Store::save_report`] does, borrowing the connection and preparing the
    /// statements once for all of them, in one transaction with a savepoint per report
    /// (see `save_together`). An ingester that has several reports waiting hands them over
    /// together; none of them is durable before this returns.
    ///
    /// Returns what happened to each report written, in order, and the error that stopped
    /// the batch, if any: the reports before it are stored, the failing one is rolled
    /// back whole, and the ones after it were not tried.
    pub async fn save_reports(
        &self,
        batch: &[&ReportRows],
        ingested_at: OffsetDateTime,
    ) -> (Vec<Saved>, Option<StoreError>) {
        let mut saved = Vec::with_capacity(batch.len());
        if let Some(bad) = batch.iter().find(|r| !r.is_well_formed()) {
            return (
                saved,
                Some(StoreError::Corrupt {
                    location: bad.source.clone(),
                    what: "report rows",
                    detail: "a row has the wrong number of columns".into(),
                }),
            );
        }
        let ingested_at = ts(ingested_at);
        let pool = match &self.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(pool) => {
                return crate::pg::save_reports(self, pool, batch, &ingested_at).await;
            }
        };
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => return (saved, Some(self.db()(e))),
        };
        let mut lock = match conn.lock_handle().await {
            Ok(l) => l,
            Err(e) => return (saved, Some(self.db()(e))),
        };
        // No await from here on: the connection is ours, synchronously, until `lock` goes.
        let db = Db::new(&mut lock);
        let mut stmts = match Statements::prepare(&db) {
            Ok(s) => s,
            Err(e) => return (saved, Some(self.sqlite(e))),
        };
        if batch.len() > 1 {
            match save_together(&db, &mut stmts, batch, &ingested_at) {
                Ok(all) => return (all, None),
                // Nothing of the batch was kept: store it report by report below, so
                // that the reports before the failing one are stored and the error is
                // the failing report's own, as if the batch had never been tried.
                Err(_) => {
                    let _ = db.exec(ROLLBACK);
                }
            }
        }
        for encoded in batch {
            match save_one(&db, &mut stmts, encoded, &ingested_at) {
                Ok(s) => saved.push(s),
                Err(e) => return (saved, Some(self.sqlite(e))),
            }
        }
        (saved, None)
    }

    fn sqlite(&self, e: SqliteError) -> StoreError {
        StoreError::Sqlite {
            location: self.location.clone(),
            code: e.code,
            message: e.message,
        }
    }

    /// Every stored report with the number of rows stored with it, in the order stored.
    pub async fn stored_reports(&self) -> Result<Vec<StoredReport>, StoreError> {
        type Row = (String, String, String, i64, i64, String, i64);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(
            "SELECT r.kind, r.reporter_org, r.report_id, r.begin_ts, r.end_ts, r.domain, \
             (SELECT COUNT(*) FROM aggregate_records a WHERE a.report = r.id) + \
             (SELECT COUNT(*) FROM tls_policies t WHERE t.report = r.id) \
             FROM reports r ORDER BY r.id",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(
                |(kind, reporter_org, report_id, begin, end, domain, rows)| {
                    Ok(StoredReport {
                        kind: ReportKind::parse(&kind)
                            .ok_or_else(|| self.corrupt("report kind")(kind.clone()))?,
                        reporter_org,
                        report_id,
                        begin,
                        end,
                        domain,
                        rows,
                    })
                },
            )
            .collect()
    }

    /// Runs one of [`Store::report_data`]'s queries, whose two parameters are the domain
    /// filter and the start date, with the SQL text of each backend.
    async fn filtered_rows<T>(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        domain: Option<&str>,
        since: Option<i64>,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::query_as(sqlite)
                .bind(domain)
                .bind(since)
                .fetch_all(pool)
                .await
                .map_err(self.db()),
            Backend::Postgres(pool) => sqlx::query_as(postgres)
                .bind(domain)
                .bind(since)
                .fetch_all(pool)
                .await
                .map_err(self.db()),
        }
    }

    /// As `filtered_rows`, with one SQL text for both backends.
    async fn filtered<T>(
        &self,
        sql: &'static str,
        domain: Option<&str>,
        since: Option<i64>,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        self.filtered_rows(sql, sql, domain, since).await
    }

    /// The stored report data `filter` selects, summed in the database so that the result
    /// grows with the number of distinct sources, not with the number of reports.
    ///
    /// Sums are cast to BIGINT (PostgreSQL sums BIGINTs as NUMERIC) and NULLs sort
    /// first, as SQLite sorts them, so both backends give the same rows in the same order.
    pub async fn report_data(&self, filter: &ReportFilter) -> Result<ReportData, StoreError> {
        let domain = filter.domain.as_deref();
        let since = filter.since;
        let mut data = ReportData::default();

        let counts: Vec<(String, i64)> = self
            .filtered(
                concat!(
                    "SELECT r.kind, COUNT(*) FROM reports r WHERE ",
                    report_where!(),
                    " GROUP BY r.kind"
                ),
                domain,
                since,
            )
            .await?;
        for (kind, n) in counts {
            let n = uint(n);
            match ReportKind::parse(&kind) {
                Some(ReportKind::Aggregate) => data.aggregate_reports = n,
                Some(ReportKind::Failure) => data.failure_reports = n,
                Some(ReportKind::Tls) => data.tls_reports = n,
                None => return Err(self.corrupt("report kind")(kind)),
            }
        }

        type SourceRow = (String, String, Option<String>, Option<String>, i64);
        let rows: Vec<SourceRow> = self
            .filtered(
                concat!(
                    "SELECT r.domain, a.source_ip, a.dkim, a.spf, CAST(SUM(a.count) AS BIGINT) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report WHERE ",
                    report_where!(),
                    " \
             GROUP BY r.domain, a.source_ip, a.dkim, a.spf \
             ORDER BY r.domain, a.source_ip, a.dkim NULLS FIRST, a.spf NULLS FIRST"
                ),
                domain,
                since,
            )
            .await?;
        for (domain, ip, dkim, spf, count) in rows {
            data.sources.push(SourceVolume {
                domain,
                source_ip: ip
                    .parse()
                    .map_err(|_| self.corrupt("source address")(ip.clone()))?,
                dkim_aligned: dkim.as_deref() == Some("pass"),
                spf_aligned: spf.as_deref() == Some("pass"),
                count: uint(count),
            });
        }

        let rows: Vec<(String, i64, i64, i64)> = self
            .filtered(
                concat!(
                    "SELECT r.domain, r.begin_ts / 86400, CAST(SUM(a.count) AS BIGINT), \
             CAST(SUM(CASE WHEN a.dkim = 'pass' OR a.spf = 'pass' THEN a.count ELSE 0 END) AS BIGINT) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report WHERE ",
                    report_where!(),
                    " GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                domain,
                since,
            )
            .await?;
        for (domain, day, messages, passing) in rows {
            data.days.push(DayVolume {
                domain,
                day,
                messages: uint(messages),
                passing: uint(passing),
            });
        }

        // The DKIM results are a JSON array per record: SQLite's json_each, PostgreSQL's
        // jsonb_array_elements (its text collated "C", as the columns are).
        type SelectorRow = (String, String, Option<String>, Option<String>, i64);
        let rows: Vec<SelectorRow> = self
            .filtered_rows(
                concat!(
                    "SELECT r.domain, \
             COALESCE(lower(rtrim(trim(json_extract(x.value, '$.domain')), '.')), ''), \
             lower(trim(json_extract(x.value, '$.selector'))), \
             json_extract(x.value, '$.result'), CAST(SUM(a.count) AS BIGINT) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report, \
             json_each(a.dkim_results) x \
             WHERE COALESCE(trim(json_extract(x.value, '$.selector')), '') != '' AND ",
                    report_where!(),
                    " \
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST"
                ),
                concat!(
                    "SELECT r.domain, \
             COALESCE(lower(rtrim(trim(x.value->>'domain'), '.')), '') COLLATE \"C\", \
             lower(trim(x.value->>'selector')) COLLATE \"C\", \
             (x.value->>'result') COLLATE \"C\", CAST(SUM(a.count) AS BIGINT) \
             FROM aggregate_records a JOIN reports r ON r.id = a.report \
             CROSS JOIN LATERAL jsonb_array_elements(a.dkim_results::jsonb) AS x(value) \
             WHERE COALESCE(trim(x.value->>'selector'), '') <> '' AND ",
                    report_where!(),
                    " \
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST"
                ),
                domain,
                since,
            )
            .await?;
        for (domain, dkim_domain, selector, result, count) in rows {
            data.selectors.push(SelectorVolume {
                domain,
                dkim_domain,
                selector: selector.unwrap_or_default(),
                result: result.unwrap_or_default(),
                count: uint(count),
            });
        }

        let rows: Vec<(String, i64, i64)> = self
            .filtered(
                concat!(
                    "SELECT t.policy_domain, CAST(SUM(t.successful) AS BIGINT), CAST(SUM(t.failed) AS BIGINT) \
             FROM tls_policies t JOIN reports r ON r.id = t.report WHERE ",
                    tls_where!(),
                    " \
             GROUP BY 1 ORDER BY 1"
                ),
                domain,
                since,
            )
            .await?;
        for (policy_domain, successful, failed) in rows {
            data.tls_policies.push(TlsPolicyVolume {
                policy_domain,
                successful: uint(successful),
                failed: uint(failed),
            });
        }

        let rows: Vec<(String, String, String, i64)> = self.filtered(concat!(
            "SELECT t.policy_domain, COALESCE(f.receiving_mx_hostname, f.receiving_ip, ''), \
             f.result_type, CAST(SUM(f.failed_count) AS BIGINT) \
             FROM tls_failures f \
             JOIN tls_policies t ON t.report = f.report AND t.position = f.policy \
             JOIN reports r ON r.id = f.report WHERE ",
            tls_where!(),
            " \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ), domain, since)
        .await?;
        for (policy_domain, mx, result_type, count) in rows {
            data.tls_failures.push(TlsFailureVolume {
                policy_domain,
                mx,
                result_type,
                count: uint(count),
            });
        }

        // The newest policy each domain's reports show.
        type PolicyRow = (String, Option<String>, Option<i64>, Option<i64>, i64);
        let rows: Vec<PolicyRow> = self.filtered(concat!(
            "SELECT r.domain, r.policy_p, r.policy_pct, r.policy_testing, r.end_ts FROM reports r \
             WHERE r.kind = 'aggregate' AND ", report_where!(), " AND r.id = (SELECT r2.id FROM reports r2 \
             WHERE r2.kind = 'aggregate' AND r2.domain = r.domain ORDER BY r2.end_ts DESC, r2.id DESC LIMIT 1) \
             ORDER BY r.domain"
        ), domain, since)
        .await?;
        for (domain, p, pct, testing, end) in rows {
            data.policies.push(PolicySeen {
                domain,
                p,
                pct: pct.and_then(|p| u8::try_from(p).ok()),
                testing: testing == Some(1),
                end,
            });
        }
        Ok(data)
    }
}
