//! Mail reports as the store keeps them: plain rows, and the sums read back.
//!
//! The report parser (ward-reports) turns each report into a [`ReportRows`]; the store
//! (ward-store) binds those values into its tables without knowing what a report is; and
//! a query hands back a [`ReportData`] that the analysis turns into a summary. Neither
//! side depends on the other: this module is the contract between them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Which kind of report a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// DMARC aggregate.
    Aggregate,
    /// DMARC failure.
    Failure,
    /// SMTP TLS.
    Tls,
}

impl ReportKind {
    /// The name the store writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Aggregate => "aggregate",
            ReportKind::Failure => "failure",
            ReportKind::Tls => "tls",
        }
    }

    /// The kind [`ReportKind::as_str`] names.
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "aggregate" => Some(ReportKind::Aggregate),
            "failure" => Some(ReportKind::Failure),
            "tls" => Some(ReportKind::Tls),
            _ => None,
        }
    }
}

/// A running digest of a report's rows: FNV-1a, 64 bits, as hex. It tells copies of one
/// report apart; it does not defend against a forger (whoever can send a report can send
/// another under the same key anyway). Taken in this order: the report's own row (but
/// where it was found and its document), then its records or TLS rows, then the
/// document, so that a report stored in parts (the document is final only at the end)
/// gets the digest of the same report stored whole.
#[derive(Debug, Clone, Copy)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

/// Columns of the report's own row the digest leaves out of [`Digest::own_row`]: where
/// it was found, and the document (taken last).
const SOURCE_COL: usize = 7;
const DOCUMENT_COL: usize = REPORT_COLS - 1;

impl Digest {
    fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn col(&mut self, rows: &ReportRows, c: Col) {
        match c {
            Col::Int(n) => {
                self.eat(b"i");
                self.eat(&n.to_le_bytes());
            }
            Col::Null => self.eat(b"n"),
            Col::Text(..) | Col::Static(_) => {
                let text = rows.text_of(c).unwrap_or_default();
                self.eat(b"t");
                self.eat(&(text.len() as u64).to_le_bytes());
                self.eat(text.as_bytes());
            }
            Col::ReportId => self.eat(b"r"),
            Col::IngestedAt => self.eat(b"a"),
        }
    }

    /// The report's own row, without its source and document.
    pub fn own_row(&mut self, rows: &ReportRows) {
        for (i, c) in rows.report.iter().enumerate() {
            if i != SOURCE_COL && i != DOCUMENT_COL {
                self.col(rows, *c);
            }
        }
    }

    /// Its records, TLS policies and TLS failures.
    pub fn rows(&mut self, rows: &ReportRows) {
        let all = rows
            .records
            .iter()
            .chain(&rows.tls_policies)
            .chain(&rows.tls_failures);
        for c in all {
            self.col(rows, *c);
        }
    }

    /// Its document.
    pub fn document(&mut self, rows: &ReportRows) {
        if let Some(c) = rows.report.get(DOCUMENT_COL) {
            self.col(rows, *c);
        }
    }

    /// The digest as 16 hex digits.
    pub fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// One column value of a [`ReportRows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// An integer.
    Int(i64),
    /// SQL NULL.
    Null,
    /// A byte range of [`ReportRows::text`] (always on character boundaries).
    Text(usize, usize),
    /// A fixed text.
    Static(&'static str),
    /// The id the report's own row gets when inserted (the first column of its rows).
    ReportId,
    /// The time of ingestion, which the store supplies.
    IngestedAt,
}

/// Columns of the report's own row, in this order: kind, reporter organisation, reporter
/// e-mail (empty when none), report id, range begin, range end, domain (lower case),
/// source, ingestion time, policy `p`, `sp`, `pct`, `t`, and the report document (JSON,
/// without aggregate records).
pub const REPORT_COLS: usize = 14;
/// Columns of an aggregate record: report, position, source IP, count, disposition,
/// DKIM and SPF verdicts, header from, envelope from, envelope to, reasons, DKIM results,
/// SPF results (the last three as JSON).
pub const RECORD_COLS: usize = 13;
/// Columns of a TLS policy: report, position, policy type, policy domain, MX hosts
/// (JSON), successful and failed sessions.
pub const TLS_POLICY_COLS: usize = 7;
/// Columns of a TLS failure: report, policy position, position, result type, sending
/// MTA IP, receiving MX host name, receiving MX HELO, receiving IP, failed sessions,
/// failure reason code, additional information.
pub const TLS_FAILURE_COLS: usize = 11;

/// A report as rows of column values: every text the rows need in one buffer, and each
/// table's rows as ranges of it, [`REPORT_COLS`] (and so on) values per row.
///
/// Why one buffer: the store writes reports one after another on one connection, so
/// whatever it does per report limits ingestion however many threads parse. The rows are
/// made where the report was parsed, and the parsed report, with its thousands of small
/// strings, is freed there; the writer only binds values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRows {
    /// Where the report was found (the input and the container steps).
    pub source: String,
    /// The texts [`Col::Text`] points into.
    pub text: String,
    /// The report's own row.
    pub report: Vec<Col>,
    /// Aggregate records, [`RECORD_COLS`] values each.
    pub records: Vec<Col>,
    /// TLS policies, [`TLS_POLICY_COLS`] values each.
    pub tls_policies: Vec<Col>,
    /// TLS failures, [`TLS_FAILURE_COLS`] values each.
    pub tls_failures: Vec<Col>,
    /// When the report is the whole of one large file: that file's digest, so that the
    /// same file met again is skipped unread (see the store's `file_digest` column).
    pub file_digest: Option<String>,
}

impl ReportRows {
    /// Aggregate records (or TLS policies) the report holds.
    pub fn rows(&self) -> usize {
        self.records.len() / RECORD_COLS + self.tls_policies.len() / TLS_POLICY_COLS
    }

    /// The text a [`Col::Text`] names (`None` for any other column, or a range outside
    /// the buffer).
    pub fn text_of(&self, c: Col) -> Option<&str> {
        match c {
            Col::Text(a, b) => self.text.get(a..b),
            Col::Static(s) => Some(s),
            _ => None,
        }
    }

    /// A digest of the report's content (see [`Digest`]): two copies of one report from
    /// different containers agree, a copy that differs in anything it says does not.
    pub fn digest(&self) -> String {
        let mut d = Digest::default();
        d.own_row(self);
        d.rows(self);
        d.document(self);
        d.finish()
    }

    /// True when every table has whole rows and the report's own row is complete: the
    /// store refuses anything else rather than bind a shifted row.
    pub fn is_well_formed(&self) -> bool {
        self.report.len() == REPORT_COLS
            && self.records.len().is_multiple_of(RECORD_COLS)
            && self.tls_policies.len().is_multiple_of(TLS_POLICY_COLS)
            && self.tls_failures.len().is_multiple_of(TLS_FAILURE_COLS)
    }
}

/// Messages from one source for one domain with one pair of aligned results,
/// summed over the selected reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceVolume {
    /// The domain whose policy was applied (`policy_published/domain`).
    pub domain: String,
    /// The sending address.
    pub source_ip: IpAddr,
    /// DKIM passed and aligned (`policy_evaluated/dkim` is `pass`).
    pub dkim_aligned: bool,
    /// SPF passed and aligned (`policy_evaluated/spf` is `pass`).
    pub spf_aligned: bool,
    /// Messages.
    pub count: u64,
}

/// Messages carrying one DKIM selector, with one verification result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorVolume {
    /// The domain whose policy was applied.
    pub domain: String,
    /// The signature's `d=`.
    pub dkim_domain: String,
    /// The signature's `s=`.
    pub selector: String,
    /// Verification result.
    pub result: String,
    /// Messages.
    pub count: u64,
}

/// Sessions of one TLS-RPT policy domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsPolicyVolume {
    /// Policy domain.
    pub policy_domain: String,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
}

/// Failed TLS sessions of one kind at one MX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFailureVolume {
    /// Policy domain.
    pub policy_domain: String,
    /// Receiving MX host name (or address when no name was reported).
    pub mx: String,
    /// RFC 8460 result type.
    pub result_type: String,
    /// Failed sessions.
    pub count: u64,
}

/// The newest DMARC policy reports show for a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySeen {
    /// Domain.
    pub domain: String,
    /// `p`, as a keyword.
    pub p: Option<String>,
    /// `pct` (RFC 7489).
    pub pct: Option<u8>,
    /// RFC 9990 `t=y`.
    pub testing: bool,
    /// End of the newest report's range, seconds since the epoch.
    pub end: i64,
}

/// Sums of the stored reports a summary is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportData {
    /// Aggregate reports selected.
    pub aggregate_reports: u64,
    /// Failure reports selected.
    pub failure_reports: u64,
    /// TLS reports selected.
    pub tls_reports: u64,
    /// Messages by domain, source and aligned results.
    pub sources: Vec<SourceVolume>,
    /// DKIM selectors seen.
    pub selectors: Vec<SelectorVolume>,
    /// TLS sessions by policy domain.
    pub tls_policies: Vec<TlsPolicyVolume>,
    /// TLS failures by policy domain, MX and type.
    pub tls_failures: Vec<TlsFailureVolume>,
    /// Newest policy per domain.
    pub policies: Vec<PolicySeen>,
    /// Messages per domain and day, for trends.
    #[serde(default)]
    pub days: Vec<DayVolume>,
}

/// The messages aggregate reports counted for one domain on one day (the UTC day the
/// report's range begins), and how many of them passed DMARC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolume {
    /// The domain whose policy was applied.
    pub domain: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Messages.
    pub messages: u64,
    /// Messages with aligned DKIM or aligned SPF passing.
    pub passing: u64,
}
