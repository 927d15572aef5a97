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
use ward_reports::aggregate::{
    DkimAuthResult, Extension, PolicyPublished, ReportMetadata, SpfAuthResult,
};
use ward_reports::analysis::{
    PolicySeen, ReportData, SelectorVolume, SourceVolume, TlsFailureVolume, TlsPolicyVolume,
};
use ward_reports::{Report, ReportKind, Unpacked};

use std::ffi::CStr;

use crate::raw::{Db, SqliteError, Stmt, Value as RawValue};
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

/// The domain a report is about, as written (the encoder lower-cases it).
fn report_domain_raw(report: &Report) -> &str {
    match report {
        Report::Aggregate(a) => a.policy_published.domain.as_str(),
        Report::Tls(t) => t
            .policies
            .iter()
            .find_map(|p| p.policy.policy_domain.as_deref())
            .unwrap_or(""),
        Report::Failure(f) => f.reported_domain.first().map_or("", String::as_str),
    }
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
const SAVEPOINT: &CStr = c"SAVEPOINT report";
const RELEASE: &CStr = c"RELEASE report";

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

/// A value that could not be encoded: which, and why.
struct EncodeError(&'static str, String);

/// One column value of an [`EncodedReport`].
#[derive(Debug, Clone, Copy)]
enum Col {
    Int(i64),
    Null,
    /// A byte range of the report's text buffer.
    Text(usize, usize),
    Static(&'static str),
    /// The id the report row gets when inserted (the first column of its rows).
    ReportId,
    /// The ingestion time given to [`Store::save_reports`].
    IngestedAt,
}

/// Widths of the rows of each table, as the INSERT statements bind them.
const REPORT_COLS: usize = 14;
const RECORD_COLS: usize = 13;
const TLS_POLICY_COLS: usize = 7;
const TLS_FAILURE_COLS: usize = 11;

/// A report turned into the column values the store writes: every text the report's
/// rows need (JSON included) in one buffer, and the rows as ranges of it.
///
/// Why: the store writes reports one after another on one connection, so whatever it
/// does per report limits ingestion however many threads parse. Encoding is done where
/// the report was parsed ([`EncodedReport::new`] on a parsing thread), and the parsed
/// report, with its thousands of small strings, is freed there too; the writer only
/// binds values and steps statements.
#[derive(Debug)]
pub struct EncodedReport {
    text: String,
    report: Vec<Col>,
    records: Vec<Col>,
    tls_policies: Vec<Col>,
    tls_failures: Vec<Col>,
}

/// Builds the text buffer of an [`EncodedReport`].
#[derive(Default)]
struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    fn text(&mut self, s: &str) -> Col {
        let start = self.buf.len();
        self.buf.extend_from_slice(s.as_bytes());
        Col::Text(start, self.buf.len())
    }

    fn opt(&mut self, s: Option<&str>) -> Col {
        s.map_or(Col::Null, |s| self.text(s))
    }

    fn domain(&mut self, d: &str) -> Col {
        let start = self.buf.len();
        let d = d.trim().trim_end_matches('.');
        self.buf.extend(d.bytes().map(|c| c.to_ascii_lowercase()));
        Col::Text(start, self.buf.len())
    }

    fn json<T: Serialize + ?Sized>(
        &mut self,
        what: &'static str,
        v: &T,
    ) -> Result<Col, EncodeError> {
        let start = self.buf.len();
        serde_json::to_writer(&mut self.buf, v).map_err(|e| EncodeError(what, e.to_string()))?;
        Ok(Col::Text(start, self.buf.len()))
    }

    /// A record's DKIM results as the JSON serde derives for them (`domain`, `selector`,
    /// `result`, `human_result`; absent values as `null`), written directly: through
    /// serde, the two auth-result arrays were most of the time spent encoding a report.
    fn dkim_results(&mut self, results: &[DkimAuthResult]) -> Col {
        self.objects(results, |r| {
            [
                ("domain", r.domain.as_deref()),
                ("selector", r.selector.as_deref()),
                ("result", Some(r.result.as_str())),
                ("human_result", r.human_result.as_deref()),
            ]
        })
    }

    /// [`Encoder::dkim_results`] for SPF (`domain`, `scope`, `result`, `human_result`).
    fn spf_results(&mut self, results: &[SpfAuthResult]) -> Col {
        self.objects(results, |r| {
            [
                ("domain", r.domain.as_deref()),
                ("scope", r.scope.as_ref().map(|s| s.as_str())),
                ("result", Some(r.result.as_str())),
                ("human_result", r.human_result.as_deref()),
            ]
        })
    }

    /// A JSON array with one object per item, its fields in the order given (names are
    /// plain identifiers, written as they are; values are strings or `null`).
    fn objects<'a, T, const N: usize>(
        &mut self,
        items: &'a [T],
        fields: impl Fn(&'a T) -> [(&'static str, Option<&'a str>); N],
    ) -> Col {
        let start = self.buf.len();
        self.buf.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.push(b'{');
            for (k, (name, value)) in fields(item).into_iter().enumerate() {
                if k > 0 {
                    self.buf.push(b',');
                }
                self.field(name, value);
            }
            self.buf.push(b'}');
        }
        self.buf.push(b']');
        Col::Text(start, self.buf.len())
    }

    /// `"name":` then the value as a JSON string, or `null`.
    fn field(&mut self, name: &str, value: Option<&str>) {
        self.buf.push(b'"');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"\":");
        match value {
            None => self.buf.extend_from_slice(b"null"),
            // The characters JSON requires escaped; serde_json escapes nothing else.
            Some(v) if !v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) => {
                self.buf.push(b'"');
                self.buf.extend_from_slice(v.as_bytes());
                self.buf.push(b'"');
            }
            // Writing a string to a Vec cannot fail.
            Some(v) => {
                let _ = serde_json::to_writer(&mut self.buf, v);
            }
        }
    }

    fn display(&mut self, v: impl std::fmt::Display) -> Col {
        use std::io::Write as _;
        let start = self.buf.len();
        let _ = write!(self.buf, "{v}");
        Col::Text(start, self.buf.len())
    }
}

fn opt_int(v: Option<i64>) -> Col {
    v.map_or(Col::Null, Col::Int)
}

impl EncodedReport {
    /// Encodes a report for [`Store::save_reports`].
    pub fn new(found: &Unpacked) -> Result<EncodedReport, StoreError> {
        Self::encode(found).map_err(|EncodeError(what, detail)| StoreError::Corrupt {
            location: found.source.clone(),
            what,
            detail,
        })
    }

    fn encode(found: &Unpacked) -> Result<EncodedReport, EncodeError> {
        let report = &found.report;
        let key = report.key();
        let policy = match report {
            Report::Aggregate(a) => Some(&a.policy_published),
            _ => None,
        };
        let mut e = Encoder::default();
        let mut head = Vec::with_capacity(REPORT_COLS);
        head.push(Col::Static(kind_str(key.kind)));
        head.push(e.text(&key.reporter_org));
        head.push(e.text(key.reporter_email.as_deref().unwrap_or("")));
        head.push(e.text(&key.report_id));
        head.push(Col::Int(key.begin));
        head.push(Col::Int(key.end));
        head.push(e.domain(report_domain_raw(report)));
        head.push(e.text(&found.source));
        head.push(Col::IngestedAt);
        head.push(
            policy
                .and_then(|p| p.p.as_ref())
                .map_or(Col::Null, |p| e.text(p.as_str())),
        );
        head.push(
            policy
                .and_then(|p| p.sp.as_ref())
                .map_or(Col::Null, |p| e.text(p.as_str())),
        );
        head.push(opt_int(policy.and_then(|p| p.pct).map(i64::from)));
        head.push(opt_int(policy.and_then(|p| p.testing).map(i64::from)));
        head.push(match report {
            Report::Aggregate(a) => e.json(
                "report document",
                &AggregateHead {
                    namespace: &a.namespace,
                    version: &a.version,
                    report_metadata: &a.report_metadata,
                    policy_published: &a.policy_published,
                    extensions: &a.extensions,
                },
            )?,
            Report::Failure(f) => e.json("report document", f)?,
            Report::Tls(t) => e.json("report document", t)?,
        });
        let mut out = EncodedReport {
            text: String::new(),
            report: head,
            records: Vec::new(),
            tls_policies: Vec::new(),
            tls_failures: Vec::new(),
        };
        match report {
            Report::Aggregate(a) => {
                out.records.reserve(a.records.len() * RECORD_COLS);
                for (i, r) in a.records.iter().enumerate() {
                    let pe = &r.row.policy_evaluated;
                    let row = [
                        Col::ReportId,
                        Col::Int(i as i64),
                        e.display(r.row.source_ip),
                        Col::Int(int(r.row.count)),
                        pe.disposition
                            .as_ref()
                            .map_or(Col::Null, |d| e.text(d.as_str())),
                        pe.dkim.as_ref().map_or(Col::Null, |d| e.text(d.as_str())),
                        pe.spf.as_ref().map_or(Col::Null, |d| e.text(d.as_str())),
                        r.identifiers
                            .header_from
                            .as_deref()
                            .map_or(Col::Null, |d| e.domain(d)),
                        e.opt(r.identifiers.envelope_from.as_deref()),
                        e.opt(r.identifiers.envelope_to.as_deref()),
                        e.json("aggregate record", &pe.reasons)?,
                        e.dkim_results(&r.auth_results.dkim),
                        e.spf_results(&r.auth_results.spf),
                    ];
                    out.records.extend_from_slice(&row);
                }
            }
            Report::Tls(t) => {
                for (i, p) in t.policies.iter().enumerate() {
                    let row = [
                        Col::ReportId,
                        Col::Int(i as i64),
                        e.text(p.policy.policy_type.as_str()),
                        e.domain(p.policy.policy_domain.as_deref().unwrap_or("")),
                        e.json("mx hosts", &p.policy.mx_host)?,
                        Col::Int(int(p.summary.total_successful_session_count)),
                        Col::Int(int(p.summary.total_failure_session_count)),
                    ];
                    out.tls_policies.extend_from_slice(&row);
                    for (j, f) in p.failure_details.iter().enumerate() {
                        let row = [
                            Col::ReportId,
                            Col::Int(i as i64),
                            Col::Int(j as i64),
                            e.text(f.result_type.as_str()),
                            e.opt(f.sending_mta_ip.as_deref()),
                            f.receiving_mx_hostname
                                .as_deref()
                                .map_or(Col::Null, |d| e.domain(d)),
                            e.opt(f.receiving_mx_helo.as_deref()),
                            e.opt(f.receiving_ip.as_deref()),
                            Col::Int(int(f.failed_session_count)),
                            e.opt(f.failure_reason_code.as_deref()),
                            e.opt(f.additional_information.as_deref()),
                        ];
                        out.tls_failures.extend_from_slice(&row);
                    }
                }
            }
            Report::Failure(_) => {}
        }
        // Every piece came from a `&str` or from serde_json, so this never fails; it is
        // checked once here rather than per value when binding.
        out.text =
            String::from_utf8(e.buf).map_err(|err| EncodeError("report text", err.to_string()))?;
        Ok(out)
    }

    /// Aggregate records (or TLS policies) the report holds.
    pub fn rows(&self) -> usize {
        self.records.len() / RECORD_COLS + self.tls_policies.len() / TLS_POLICY_COLS
    }

    fn value<'a>(&'a self, c: Col, id: i64, ingested_at: &'a str) -> RawValue<'a> {
        match c {
            Col::Int(n) => RawValue::Int(n),
            Col::Null => RawValue::Text(None),
            // Spans end on character boundaries (each is a whole `&str`); `get` cannot
            // fail, and would bind NULL rather than panic if it did.
            Col::Text(a, b) => RawValue::Text(self.text.get(a..b)),
            Col::Static(s) => RawValue::Text(Some(s)),
            Col::ReportId => RawValue::Int(id),
            Col::IngestedAt => RawValue::Text(Some(ingested_at)),
        }
    }

    /// Binds and runs `stmt` once per row of `cols`.
    fn insert_rows(
        &self,
        stmt: &mut Stmt<'_, '_>,
        cols: &[Col],
        width: usize,
        id: i64,
        ingested_at: &str,
    ) -> Result<(), SqliteError> {
        for row in cols.chunks_exact(width) {
            stmt.run_with(row.iter().map(|c| self.value(*c, id, ingested_at)))?;
        }
        Ok(())
    }
}

/// One report in one transaction on the borrowed connection.
fn save_one(
    db: &Db<'_>,
    stmts: &mut Statements<'_, '_>,
    encoded: &EncodedReport,
    ingested_at: &str,
) -> Result<Saved, SqliteError> {
    db.exec(BEGIN)?;
    let outcome = match write_report(stmts, encoded, ingested_at) {
        Ok(Some(id)) => db.exec(COMMIT).map(|()| Saved::Stored(id)),
        Ok(None) => db.exec(ROLLBACK).map(|()| Saved::Duplicate),
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
    batch: &[&EncodedReport],
    ingested_at: &str,
) -> Result<Vec<Saved>, SqliteError> {
    let mut saved = Vec::with_capacity(batch.len());
    db.exec(BEGIN)?;
    for encoded in batch {
        db.exec(SAVEPOINT)?;
        // A duplicate wrote nothing (the report's own row is the first insert), so
        // releasing its savepoint keeps nothing of it either.
        saved.push(match write_report(stmts, encoded, ingested_at)? {
            Some(id) => Saved::Stored(id),
            None => Saved::Duplicate,
        });
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
}

impl<'db, 'lock> Statements<'db, 'lock> {
    fn prepare(db: &'db Db<'lock>) -> Result<Self, SqliteError> {
        Ok(Statements {
            report: db.prepare(INSERT_REPORT)?,
            record: db.prepare(INSERT_RECORD)?,
            tls_policy: db.prepare(INSERT_TLS_POLICY)?,
            tls_failure: db.prepare(INSERT_TLS_FAILURE)?,
        })
    }
}

/// Writes one report in the transaction the caller opened; `None` when a report with
/// the same key is already stored (then nothing was written).
fn write_report(
    stmts: &mut Statements<'_, '_>,
    e: &EncodedReport,
    ingested_at: &str,
) -> Result<Option<i64>, SqliteError> {
    let head = e.report.iter().map(|c| e.value(*c, 0, ingested_at));
    let Some(id) = stmts.report.run_with(head)? else {
        return Ok(None);
    };
    e.insert_rows(&mut stmts.record, &e.records, RECORD_COLS, id, ingested_at)?;
    e.insert_rows(
        &mut stmts.tls_policy,
        &e.tls_policies,
        TLS_POLICY_COLS,
        id,
        ingested_at,
    )?;
    e.insert_rows(
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
    /// key ([`Report::key`]) is already stored, writes nothing and says so.
    ///
    /// The writing is done with direct SQLite calls on a connection sqlx lends us (see
    /// `raw.rs` for why): one hand-over to sqlx's worker per call, not per statement.
    pub async fn save_report(
        &self,
        found: &Unpacked,
        ingested_at: OffsetDateTime,
    ) -> Result<Saved, StoreError> {
        let encoded = EncodedReport::new(found)?;
        let (mut saved, error) = self.save_reports(&[&encoded], ingested_at).await;
        match (saved.pop(), error) {
            (_, Some(e)) => Err(e),
            (Some(s), None) => Ok(s),
            (None, None) => Err(self.corrupt("report")("nothing was written".into())),
        }
    }

    /// Stores several encoded reports ([`EncodedReport::new`]), each whole or not at all
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
        batch: &[&EncodedReport],
        ingested_at: OffsetDateTime,
    ) -> (Vec<Saved>, Option<StoreError>) {
        let mut saved = Vec::with_capacity(batch.len());
        let ingested_at = ts(ingested_at);
        let mut conn = match self.pool.acquire().await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use ward_reports::enums::{DkimResult, SpfResult, SpfScope};

    /// The hand-written auth-result JSON is byte for byte what serde writes, for plain
    /// values, absent ones, and every character JSON must escape.
    #[test]
    fn auth_results_are_written_as_serde_writes_them() {
        let odd = [
            None,
            Some(String::new()),
            Some("example.org".to_owned()),
            Some("quote \" and back\\slash".to_owned()),
            Some("tab\tnew\nline\u{1}\u{1f} del\u{7f} é 💌 </script>".to_owned()),
        ];
        let mut dkim = Vec::new();
        let mut spf = Vec::new();
        for (i, a) in odd.iter().enumerate() {
            for b in &odd {
                dkim.push(DkimAuthResult {
                    domain: a.clone(),
                    selector: b.clone(),
                    result: if i % 2 == 0 {
                        DkimResult::Pass
                    } else {
                        DkimResult::parse("x\"y")
                    },
                    human_result: b.clone(),
                });
                spf.push(SpfAuthResult {
                    domain: b.clone(),
                    scope: [
                        None,
                        Some(SpfScope::MailFrom),
                        Some(SpfScope::parse("o\\dd")),
                    ][i % 3]
                        .clone(),
                    result: SpfResult::SoftFail,
                    human_result: a.clone(),
                });
            }
        }
        for n in [0, 1, dkim.len()] {
            let mut e = Encoder::default();
            let d = e.dkim_results(&dkim[..n]);
            let s = e.spf_results(&spf[..n]);
            let text = |c: Col| match c {
                Col::Text(a, b) => String::from_utf8(e.buf[a..b].to_vec()).unwrap(),
                _ => panic!("not text"),
            };
            assert_eq!(text(d), serde_json::to_string(&dkim[..n]).unwrap());
            assert_eq!(text(s), serde_json::to_string(&spf[..n]).unwrap());
        }
    }
}
