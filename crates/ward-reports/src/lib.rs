//! ward-reports: the parsing half of mail reports.
//!
//! Mail reports arrive as files, mbox files, Maildirs (and, elsewhere, IMAP).
//! [`unpack`] tells each input's format from its bytes, opens containers
//! (RFC 5322 messages, gzip, zlib, zip) within [`Limits`], and hands every
//! report it finds, or every refusal, to a callback one at a time:
//!
//! * DMARC aggregate reports ([`aggregate`]): RFC 7489 appendix C, the old
//!   draft shape and RFC 9990;
//! * DMARC failure reports ([`failure`]): ARF, RFC 6591 / RFC 9991;
//! * SMTP TLS reports ([`tlsrpt`]): RFC 8460.
//!
//! Each report has a [`ReportKey`] so that storing it twice is a no-op.
//!
//! This crate never opens sockets, never reads the clock, and never panics on
//! input: bad input becomes an [`Error`] naming the input and the reason.
//!
//! ```
//! use ward_reports::{Limits, Report, unpack::unpack_all};
//! let xml = br#"<feedback><report_metadata><org_name>example.net</org_name>
//!   <report_id>r1</report_id><date_range><begin>1</begin><end>2</end></date_range>
//!   </report_metadata><policy_published><domain>example.com</domain><p>none</p>
//!   </policy_published><record><row><source_ip>192.0.2.1</source_ip><count>3</count>
//!   <policy_evaluated><disposition>none</disposition><dkim>PASS</dkim><spf>fail</spf>
//!   </policy_evaluated></row><identifiers><header_from>example.com</header_from>
//!   </identifiers><auth_results><spf><domain>example.com</domain><result>fail</result>
//!   </spf></auth_results></record></feedback>"#;
//! let got = unpack_all("r1.xml", xml, &Limits::default());
//! let Ok(u) = &got[0] else { panic!("{:?}", got[0]) };
//! let Report::Aggregate(a) = &u.report else { panic!() };
//! assert_eq!(a.records[0].row.count, 3);
//! assert_eq!(u.report.key().report_id, "r1");
//! ```

#![deny(missing_docs)]

pub mod aggregate;
pub mod analysis;
pub mod enums;
pub mod error;
pub mod failure;
pub mod ingest;
pub mod json;
pub mod limits;
mod read;
pub mod rows;
pub mod tlsrpt;
pub mod unpack;

use serde::{Deserialize, Serialize};

pub use aggregate::AggregateReport;
pub use error::{Error, LimitKind, Pos, Reason};
pub use failure::FailureReport;
pub use limits::Limits;
pub use tlsrpt::TlsReport;

/// One parsed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "report", rename_all = "snake_case")]
pub enum Report {
    /// A DMARC aggregate report.
    Aggregate(Box<AggregateReport>),
    /// A DMARC failure report.
    Failure(Box<FailureReport>),
    /// An SMTP TLS report.
    Tls(TlsReport),
}

/// A report and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unpacked {
    /// The input name plus the container steps that led to the report.
    pub source: String,
    /// The report.
    pub report: Report,
}

pub use ward_model::report_rows::ReportKind;

/// What makes a report the same report when it arrives twice (the same
/// attachment in two mailboxes, a re-sent message): reporter, report id and
/// covered time range. Store reports under this key to make ingestion
/// idempotent.
///
/// For failure reports, which have no report id, the id is the report
/// message's `Message-ID`, else a fingerprint of the feedback fields; the
/// range is the arrival date (or the report date) at both ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReportKey {
    /// Kind of report.
    pub kind: ReportKind,
    /// Reporting organisation, as written, trimmed.
    pub reporter_org: String,
    /// Reporter contact e-mail, lower case, if given.
    pub reporter_email: Option<String>,
    /// Report id.
    pub report_id: String,
    /// Start of the covered range, seconds since the epoch (0 if unknown).
    pub begin: i64,
    /// End of the covered range, seconds since the epoch (0 if unknown).
    pub end: i64,
}

impl Report {
    /// The idempotency key of this report.
    pub fn key(&self) -> ReportKey {
        match self {
            Report::Aggregate(a) => a.key(),
            Report::Tls(t) => ReportKey {
                kind: ReportKind::Tls,
                reporter_org: t.organization_name.trim().to_owned(),
                reporter_email: t
                    .contact_info
                    .as_ref()
                    .map(|e| e.trim().to_ascii_lowercase()),
                report_id: t.report_id.trim().to_owned(),
                begin: tlsrpt::rfc3339_to_epoch(&t.date_range.start_datetime).unwrap_or(0),
                end: tlsrpt::rfc3339_to_epoch(&t.date_range.end_datetime).unwrap_or(0),
            },
            Report::Failure(f) => {
                let at = f.arrival_timestamp.or(f.report_date).unwrap_or(0);
                let id = match &f.report_message_id {
                    Some(id) => id.clone(),
                    None => format!("fnv1a64:{:016x}", fingerprint(f)),
                };
                ReportKey {
                    kind: ReportKind::Failure,
                    reporter_org: f
                        .reporting_mta
                        .clone()
                        .or_else(|| f.user_agent.clone())
                        .unwrap_or_default(),
                    reporter_email: f
                        .report_from
                        .as_ref()
                        .map(|e| e.trim().to_ascii_lowercase()),
                    report_id: id,
                    begin: at,
                    end: at,
                }
            }
        }
    }
}

impl AggregateReport {
    /// The idempotency key of this report (see [`ReportKey`]).
    pub fn key(&self) -> ReportKey {
        let m = &self.report_metadata;
        ReportKey {
            kind: ReportKind::Aggregate,
            reporter_org: m.org_name.trim().to_owned(),
            reporter_email: m.email.as_ref().map(|e| e.trim().to_ascii_lowercase()),
            report_id: m.report_id.trim().to_owned(),
            begin: i64::try_from(m.date_range.begin).unwrap_or(i64::MAX),
            end: i64::try_from(m.date_range.end).unwrap_or(i64::MAX),
        }
    }
}

/// FNV-1a over the report's JSON form: stable across runs and platforms.
fn fingerprint(f: &FailureReport) -> u64 {
    let bytes = serde_json::to_vec(f).unwrap_or_default();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
