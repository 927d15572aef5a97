//! DMARC failure reports: ARF (RFC 5965) authentication failure reports
//! (RFC 6591, updated by RFC 9991).
//!
//! A report is a `multipart/report` message whose `message/feedback-report`
//! part holds header-style fields, followed by the original message or its
//! headers (`message/rfc822` or `text/rfc822-headers`). Field names are read
//! without regard to case; folded lines are unfolded; fields ward has no name
//! for are kept in [`FailureReport::other_fields`].

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::enums::{AuthFailure, DeliveryResult, FeedbackType};
use crate::error::{Pos, Reason, truncate};

/// One DMARC failure (ARF authentication-failure) report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// `From` of the report message.
    pub report_from: Option<String>,
    /// `Subject` of the report message.
    pub report_subject: Option<String>,
    /// `Message-ID` of the report message, without angle brackets.
    pub report_message_id: Option<String>,
    /// `Date` of the report message, seconds since the epoch.
    pub report_date: Option<i64>,
    /// `Feedback-Type` (required by RFC 5965, missing in the wild).
    pub feedback_type: Option<FeedbackType>,
    /// `Version`.
    pub version: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Arrival-Date` as written.
    pub arrival_date: Option<String>,
    /// `Arrival-Date` in seconds since the epoch, when it parses.
    pub arrival_timestamp: Option<i64>,
    /// `Source-IP`.
    pub source_ip: Option<IpAddr>,
    /// `Incidents`.
    pub incidents: Option<u64>,
    /// `Original-Envelope-Id`.
    pub original_envelope_id: Option<String>,
    /// `Original-Mail-From`.
    pub original_mail_from: Option<String>,
    /// `Original-Rcpt-To` (may repeat).
    pub original_rcpt_to: Vec<String>,
    /// `Reporting-MTA`, the name only (`dns; mx.example` gives `mx.example`).
    pub reporting_mta: Option<String>,
    /// `Reported-Domain` (may repeat).
    pub reported_domain: Vec<String>,
    /// `Reported-URI` (may repeat).
    pub reported_uri: Vec<String>,
    /// `Authentication-Results` (may repeat).
    pub authentication_results: Vec<String>,
    /// `Auth-Failure`, split on commas (RFC 9991).
    pub auth_failure: Vec<AuthFailure>,
    /// `Identity-Alignment`, split on commas (RFC 9991), lower case.
    pub identity_alignment: Vec<String>,
    /// `Delivery-Result`.
    pub delivery_result: Option<DeliveryResult>,
    /// `DKIM-Domain`.
    pub dkim_domain: Option<String>,
    /// `DKIM-Identity`.
    pub dkim_identity: Option<String>,
    /// `DKIM-Selector`.
    pub dkim_selector: Option<String>,
    /// `DKIM-Canonicalized-Header` (base64, whitespace removed).
    pub dkim_canonicalized_header: Option<String>,
    /// `DKIM-Canonicalized-Body` (base64, whitespace removed).
    pub dkim_canonicalized_body: Option<String>,
    /// `DKIM-Selector-DNS`.
    pub dkim_selector_dns: Option<String>,
    /// `DKIM-ADSP-DNS`.
    pub dkim_adsp_dns: Option<String>,
    /// `SPF-DNS` (may repeat).
    pub spf_dns: Vec<String>,
    /// Fields ward has no name for, in order.
    pub other_fields: Vec<HeaderField>,
    /// The original message's header block, LF line endings, as sent.
    pub original_headers: Option<String>,
}

/// A header field kept as written (value unfolded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    /// Name as written.
    pub name: String,
    /// Unfolded value, trimmed.
    pub value: String,
}

/// Split a header block (RFC 5322 §2.2) into unfolded fields. Lines that are
/// neither a field nor a continuation are skipped. Stops at the first empty
/// line.
pub fn header_fields(block: &str) -> Vec<HeaderField> {
    numbered_fields(block).into_iter().map(|(_, f)| f).collect()
}

/// [`header_fields`] with the 1-based line each field starts on.
fn numbered_fields(block: &str) -> Vec<(u64, HeaderField)> {
    let mut out: Vec<(u64, HeaderField)> = Vec::new();
    for (n, line) in block.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, last)) = out.last_mut() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && name.bytes().all(|c| (33..=126).contains(&c) && c != b':') {
                out.push((
                    n as u64 + 1,
                    HeaderField {
                        name: name.to_owned(),
                        value: value.trim().to_owned(),
                    },
                ));
            }
        }
    }
    out
}

fn split_commas(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(strip_comments).filter(|s| !s.is_empty())
}

/// Drop RFC 5322 comments `( ... )` and surrounding whitespace.
fn strip_comments(s: &str) -> &str {
    let s = s.trim();
    match s.find('(') {
        Some(i) => s.get(..i).unwrap_or(s).trim(),
        None => s,
    }
}

fn strip_angles(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(t)
        .trim()
        .to_owned()
}

/// Read the fields of a `message/feedback-report` part into a report.
/// `original_headers` is the original message's header block, if any.
pub fn parse_feedback_fields(
    part: &str,
    original_headers: Option<String>,
) -> Result<FailureReport, Reason> {
    let fields = numbered_fields(part);
    if fields.is_empty() {
        return Err(Reason::MissingField {
            field: "Feedback-Type",
        });
    }
    let mut r = FailureReport {
        original_headers,
        ..FailureReport::default()
    };
    for (line, f) in fields {
        let at = Pos { line, byte: 0 };
        let v = f.value.as_str();
        let some = || (!v.is_empty()).then(|| v.to_owned());
        match f.name.to_ascii_lowercase().as_str() {
            "feedback-type" => r.feedback_type = (!v.is_empty()).then(|| FeedbackType::parse(v)),
            "version" => r.version = some(),
            "user-agent" => r.user_agent = some(),
            "arrival-date" | "received-date" => {
                r.arrival_timestamp =
                    mail_parser::DateTime::parse_rfc822(v).map(|d| d.to_timestamp());
                r.arrival_date = some();
            }
            "source-ip" => {
                let ip = strip_angles(strip_comments(v));
                let ip = ip.strip_prefix("IPv6:").unwrap_or(&ip);
                if !ip.is_empty() {
                    r.source_ip = Some(ip.parse().map_err(|_| Reason::InvalidValue {
                        path: "Source-IP".into(),
                        value: truncate(v),
                        at,
                    })?);
                }
            }
            "incidents" => {
                r.incidents =
                    Some(
                        strip_comments(v)
                            .parse()
                            .map_err(|_| Reason::InvalidValue {
                                path: "Incidents".into(),
                                value: truncate(v),
                                at,
                            })?,
                    );
            }
            "original-envelope-id" => r.original_envelope_id = some(),
            "original-mail-from" => {
                r.original_mail_from = Some(strip_angles(v)).filter(|s| !s.is_empty())
            }
            "original-rcpt-to" => r.original_rcpt_to.push(strip_angles(v)),
            "reporting-mta" => {
                // RFC 5965 §3.2: mta-name-type ";" mta-name.
                let name = v.split_once(';').map_or(v, |(_, n)| n).trim();
                r.reporting_mta = (!name.is_empty()).then(|| name.to_owned());
            }
            "reported-domain" => r.reported_domain.push(v.to_owned()),
            "reported-uri" => r.reported_uri.push(strip_angles(v)),
            "authentication-results" => r.authentication_results.push(v.to_owned()),
            "auth-failure" => r
                .auth_failure
                .extend(split_commas(v).map(AuthFailure::parse)),
            "identity-alignment" => r
                .identity_alignment
                .extend(split_commas(v).map(|s| s.to_ascii_lowercase())),
            "delivery-result" => r.delivery_result = Some(DeliveryResult::parse(strip_comments(v))),
            "dkim-domain" => r.dkim_domain = some(),
            "dkim-identity" => r.dkim_identity = some(),
            "dkim-selector" => r.dkim_selector = some(),
            "dkim-canonicalized-header" => {
                r.dkim_canonicalized_header = Some(v.split_whitespace().collect())
            }
            "dkim-canonicalized-body" => {
                r.dkim_canonicalized_body = Some(v.split_whitespace().collect())
            }
            "dkim-selector-dns" => r.dkim_selector_dns = some(),
            "dkim-adsp-dns" => r.dkim_adsp_dns = some(),
            "spf-dns" => r.spf_dns.push(v.to_owned()),
            _ => r.other_fields.push(f),
        }
    }
    Ok(r)
}

/// Fill the report-message fields from the report's own headers.
pub(crate) fn set_envelope(r: &mut FailureReport, msg: &mail_parser::Message<'_>) {
    r.report_from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_owned)
        .or_else(|| msg.header_raw("From").map(|v| v.trim().to_owned()));
    r.report_subject = msg.subject().map(str::to_owned);
    r.report_message_id = msg.message_id().map(str::to_owned);
    r.report_date = msg.date().map(|d| d.to_timestamp());
}
