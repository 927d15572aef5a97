//! SMTP TLS reports (RFC 8460 §4, JSON).
//!
//! Field names are the RFC's (`organization-name`, `date-range`, ...).
//! Optional fields may be missing; unknown fields are ignored; `policy-type`
//! and `result-type` keywords outside the RFC survive as `Unknown`.

use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::enums::{PolicyType, ResultType};
use crate::error::Reason;

/// One SMTP TLS report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsReport {
    /// Reporting organisation (required).
    pub organization_name: String,
    /// Covered time range (required).
    pub date_range: TlsDateRange,
    /// Reporter contact (required by the RFC, often missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    /// Report id (required).
    pub report_id: String,
    /// One entry per policy applied.
    #[serde(default)]
    pub policies: Vec<TlsPolicyResult>,
}

/// `date-range`: RFC 3339 date-times as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsDateRange {
    /// Start, e.g. `2016-04-01T00:00:00Z`.
    pub start_datetime: String,
    /// End.
    pub end_datetime: String,
}

/// One element of `policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsPolicyResult {
    /// The policy.
    pub policy: TlsPolicy,
    /// Session counts.
    pub summary: TlsSummary,
    /// Failure details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failure_details: Vec<FailureDetail>,
}

/// `policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsPolicy {
    /// `tlsa`, `sts` or `no-policy-found`.
    pub policy_type: PolicyType,
    /// The policy text, one line per element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_string: Vec<String>,
    /// Policy domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_domain: Option<String>,
    /// MX host patterns (MTA-STS). RFC 8460's own example writes one string
    /// where its schema says array; both are read.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub mx_host: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// `summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsSummary {
    /// Successful sessions.
    #[serde(default)]
    pub total_successful_session_count: u64,
    /// Failed sessions.
    #[serde(default)]
    pub total_failure_session_count: u64,
}

/// One element of `failure-details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureDetail {
    /// What failed.
    pub result_type: ResultType,
    /// Sending MTA address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_mta_ip: Option<String>,
    /// Receiving MX host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    /// Receiving MX HELO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_helo: Option<String>,
    /// Receiving address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<String>,
    /// Sessions that failed this way.
    #[serde(default)]
    pub failed_session_count: u64,
    /// URI with more information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// Implementation-specific reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

/// Parse one TLS report from a JSON stream. A leading byte-order mark is
/// skipped; nesting is bounded by serde_json's recursion limit (128).
pub fn parse_tls_report<R: BufRead>(mut reader: R) -> Result<TlsReport, Reason> {
    crate::read::skip_bom(&mut reader)?;
    serde_json::from_reader(reader).map_err(json_reason)
}

pub(crate) fn json_reason(e: serde_json::Error) -> Reason {
    use serde_json::error::Category;
    let (line, column, message) = (e.line(), e.column(), e.to_string());
    match e.classify() {
        Category::Io => crate::read::io_reason(&std::io::Error::from(e)),
        Category::Data => Reason::NotTlsReport {
            line,
            column,
            message,
        },
        Category::Syntax | Category::Eof => Reason::Json {
            line,
            column,
            message,
        },
    }
}

/// Seconds since the epoch for an RFC 3339 date-time
/// (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`), or `None`.
pub fn rfc3339_to_epoch(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_to_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_to_epoch("2016-04-01T23:59:59Z"),
            Some(1_459_555_199)
        );
        assert_eq!(
            rfc3339_to_epoch("2016-04-02T01:59:59+02:00"),
            Some(1_459_555_199)
        );
        assert_eq!(
            rfc3339_to_epoch("2016-04-01T23:59:59.123Z"),
            Some(1_459_555_199)
        );
        assert_eq!(rfc3339_to_epoch("2016-04-01"), None);
        assert_eq!(rfc3339_to_epoch("2016-13-01T00:00:00Z"), None);
    }
}
