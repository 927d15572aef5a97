//! Reports as the store's rows ([`ReportRows`]): the encoding is done here, on the thread
//! that parsed the report, so the store only binds values.

use serde::Serialize;
use ward_model::report_rows::{Col, RECORD_COLS, REPORT_COLS, ReportRows};

use crate::aggregate::{
    AggregateReport, DkimAuthResult, Extension, PolicyPublished, Record, ReportMetadata,
    SpfAuthResult,
};
use crate::{Error, Reason, Report, Unpacked};

/// SQLite integers are signed 64-bit; counts beyond that saturate.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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

/// A value that could not be encoded: which, and why.
struct EncodeError(&'static str, String);

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

/// A report as the store's rows, with its source; a report that cannot be encoded
/// (which the parser's output never is) is refused naming its source.
pub fn encode(found: &Unpacked) -> Result<ReportRows, Error> {
    encode_rows(found).map_err(|err| refusal(&found.source, err))
}

/// The first part of an aggregate report read in chunks: its own row and its first
/// records (numbered from 0).
pub fn encode_start(source: &str, report: &AggregateReport) -> Result<ReportRows, Error> {
    let mut e = Encoder::default();
    let mut out = rows_of(source);
    out.report = aggregate_head(&mut e, source, report).map_err(|err| refusal(source, err))?;
    aggregate_records(&mut e, &mut out, &report.records, 0).map_err(|err| refusal(source, err))?;
    finish(e, out).map_err(|err| refusal(source, err))
}

/// More records of an aggregate report read in chunks, the first of them numbered
/// `first`; no row of the report's own.
pub fn encode_more(source: &str, records: &[Record], first: usize) -> Result<ReportRows, Error> {
    let mut e = Encoder::default();
    let mut out = rows_of(source);
    aggregate_records(&mut e, &mut out, records, first).map_err(|err| refusal(source, err))?;
    finish(e, out).map_err(|err| refusal(source, err))
}

/// The end of an aggregate report read in chunks: its own row again, made from the
/// final header (report-level extensions follow the records), and no records.
pub fn encode_end(source: &str, report: &AggregateReport) -> Result<ReportRows, Error> {
    let mut e = Encoder::default();
    let mut out = rows_of(source);
    out.report = aggregate_head(&mut e, source, report).map_err(|err| refusal(source, err))?;
    finish(e, out).map_err(|err| refusal(source, err))
}

fn refusal(source: &str, EncodeError(what, detail): EncodeError) -> Error {
    Error::new(
        source.to_owned(),
        Reason::Unstorable {
            message: format!("{what}: {detail}"),
        },
    )
}

fn rows_of(source: &str) -> ReportRows {
    ReportRows {
        source: source.to_owned(),
        ..ReportRows::default()
    }
}

/// Every piece came from a `&str` or from serde_json, so this never fails; it is
/// checked once here rather than per value when binding.
fn finish(e: Encoder, mut out: ReportRows) -> Result<ReportRows, EncodeError> {
    out.text =
        String::from_utf8(e.buf).map_err(|err| EncodeError("report text", err.to_string()))?;
    Ok(out)
}

/// The columns every report's own row starts with: kind, reporter, contact, id, range,
/// domain, source and ingestion time.
fn key_cols(e: &mut Encoder, source: &str, key: &crate::ReportKey, domain: &str) -> Vec<Col> {
    let mut head = Vec::with_capacity(REPORT_COLS);
    head.push(Col::Static(key.kind.as_str()));
    head.push(e.text(&key.reporter_org));
    head.push(e.text(key.reporter_email.as_deref().unwrap_or("")));
    head.push(e.text(&key.report_id));
    head.push(Col::Int(key.begin));
    head.push(Col::Int(key.end));
    head.push(e.domain(domain));
    head.push(e.text(source));
    head.push(Col::IngestedAt);
    head
}

fn aggregate_head(
    e: &mut Encoder,
    source: &str,
    a: &AggregateReport,
) -> Result<Vec<Col>, EncodeError> {
    let policy = &a.policy_published;
    let mut head = key_cols(e, source, &a.key(), policy.domain.as_str());
    head.push(policy.p.as_ref().map_or(Col::Null, |p| e.text(p.as_str())));
    head.push(policy.sp.as_ref().map_or(Col::Null, |p| e.text(p.as_str())));
    head.push(opt_int(policy.pct.map(i64::from)));
    head.push(opt_int(policy.testing.map(i64::from)));
    head.push(e.json(
        "report document",
        &AggregateHead {
            namespace: &a.namespace,
            version: &a.version,
            report_metadata: &a.report_metadata,
            policy_published: &a.policy_published,
            extensions: &a.extensions,
        },
    )?);
    Ok(head)
}

fn aggregate_records(
    e: &mut Encoder,
    out: &mut ReportRows,
    records: &[Record],
    first: usize,
) -> Result<(), EncodeError> {
    out.records.reserve(records.len() * RECORD_COLS);
    for (i, r) in records.iter().enumerate() {
        let pe = &r.row.policy_evaluated;
        let row = [
            Col::ReportId,
            Col::Int((first + i) as i64),
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
    Ok(())
}

fn encode_rows(found: &Unpacked) -> Result<ReportRows, EncodeError> {
    let mut e = Encoder::default();
    let mut out = rows_of(&found.source);
    match &found.report {
        Report::Aggregate(a) => {
            out.report = aggregate_head(&mut e, &found.source, a)?;
            aggregate_records(&mut e, &mut out, &a.records, 0)?;
        }
        Report::Tls(t) => {
            let report = &found.report;
            let mut head = key_cols(
                &mut e,
                &found.source,
                &report.key(),
                report_domain_raw(report),
            );
            head.extend([Col::Null, Col::Null, Col::Null, Col::Null]);
            head.push(e.json("report document", t)?);
            out.report = head;
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
        Report::Failure(f) => {
            let report = &found.report;
            let mut head = key_cols(
                &mut e,
                &found.source,
                &report.key(),
                report_domain_raw(report),
            );
            head.extend([Col::Null, Col::Null, Col::Null, Col::Null]);
            head.push(e.json("report document", f)?);
            out.report = head;
        }
    }
    finish(e, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::{DkimResult, SpfResult, SpfScope};

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
