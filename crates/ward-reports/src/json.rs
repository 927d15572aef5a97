//! JSON reports, told apart by content: an SMTP TLS report (RFC 8460) or a
//! DMARC aggregate report exported as JSON.
//!
//! Aggregate reports arrive as JSON from receivers' dashboards and from tools
//! such as parsedmarc. Two shapes are read:
//!
//! * the XML mirrored one to one (`{"feedback": {"report_metadata": …,
//!   "record": [{"row": {"source_ip": …}}]}}`, with or without the
//!   `feedback` wrapper), as XML-to-JSON converters write it;
//! * parsedmarc's (`records`, `source.ip_address`, `begin_date` as
//!   `YYYY-MM-DD HH:MM:SS` UTC, `policy_override_reasons`), one report or a
//!   list of them.
//!
//! Either is rewritten into the XML it stands for and read by the XML reader,
//! so one set of rules (required elements, keywords, limits) judges both.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::Report;
use crate::aggregate::{AggregateReport, parse_aggregate_bytes};
use crate::error::Reason;
use crate::limits::Limits;
use crate::tlsrpt::{json_reason, parse_tls_report, rfc3339_to_epoch};

/// What a JSON document holds.
enum Shape {
    Tls,
    /// Aggregate reports, one per element (a lone report is a list of one).
    Aggregate(Vec<Value>),
}

/// Read every report in a JSON document: one TLS report, or one or more
/// aggregate reports. Each result stands alone, so one bad report in a list
/// does not cost the others.
pub fn parse_json_reports(bytes: &[u8], limits: &Limits) -> Vec<Result<Report, Reason>> {
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return vec![Err(json_reason(e))],
    };
    match shape(value) {
        Ok(Shape::Tls) => vec![parse_tls_report(body).map(Report::Tls)],
        Ok(Shape::Aggregate(reports)) => reports
            .into_iter()
            .map(|r| aggregate_from_json(r, limits).map(|a| Report::Aggregate(Box::new(a))))
            .collect(),
        Err(reason) => vec![Err(reason)],
    }
}

/// Tell the report kind from the keys, and say what the document looked like
/// when it is neither.
fn shape(value: Value) -> Result<Shape, Reason> {
    match value {
        Value::Object(map) if is_tls(&map) => Ok(Shape::Tls),
        Value::Object(map) if is_aggregate(&map) => Ok(Shape::Aggregate(vec![Value::Object(map)])),
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_object().is_some_and(is_aggregate)) =>
        {
            Ok(Shape::Aggregate(items))
        }
        other => Err(Reason::UnknownJson {
            looked_like: describe(&other),
        }),
    }
}

fn is_tls(map: &Map<String, Value>) -> bool {
    ["organization-name", "policies", "report-id", "date-range"]
        .iter()
        .any(|k| map.contains_key(*k))
}

fn is_aggregate(map: &Map<String, Value>) -> bool {
    match map.get("feedback") {
        Some(Value::Object(inner)) => is_aggregate(inner),
        _ => ["report_metadata", "policy_published"]
            .iter()
            .any(|k| map.contains_key(*k)),
    }
}

/// A short description of JSON that is no report: its type and first keys.
fn describe(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "an empty object".to_owned(),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
            let more = if map.len() > keys.len() { ", …" } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        }
        Value::Array(items) if items.is_empty() => "an empty list".to_owned(),
        Value::Array(items) => match items
            .iter()
            .position(|i| !i.as_object().is_some_and(|m| is_aggregate(m) || is_tls(m)))
        {
            Some(i) => format!(
                "a list of {} items, item {} being {}",
                items.len(),
                i + 1,
                describe(&items[i])
            ),
            None => format!("a list of {} reports of mixed kinds", items.len()),
        },
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Null => "null".to_owned(),
    }
}

/// Rewrite one aggregate report in JSON into its XML and read that.
fn aggregate_from_json(value: Value, limits: &Limits) -> Result<AggregateReport, Reason> {
    let mut report = match value {
        Value::Object(mut map) => match map.remove("feedback") {
            Some(Value::Object(inner)) => inner,
            Some(_) | None => map,
        },
        _ => Map::new(),
    };
    let namespace = match report.remove("xml_namespace") {
        Some(Value::String(ns)) if !ns.is_empty() => Some(ns),
        _ => None,
    };
    normalise_report(&mut report);
    let mut xml = String::from("<feedback");
    if let Some(ns) = namespace {
        let _ = write!(xml, " xmlns=\"{}\"", escape(&ns));
    }
    xml.push('>');
    write_children(&mut xml, &report, 1, limits.max_xml_depth);
    xml.push_str("</feedback>");
    parse_aggregate_bytes(xml.as_bytes(), limits)
}

/// Map parsedmarc's field names onto the XML's; the mirrored shape passes
/// through unchanged.
fn normalise_report(report: &mut Map<String, Value>) {
    if let Some(Value::Object(meta)) = report.get_mut("report_metadata") {
        rename(meta, "org_email", "email");
        rename(meta, "org_extra_contact_info", "extra_contact_info");
        rename(meta, "errors", "error");
        if !meta.contains_key("date_range") {
            let begin = meta.remove("begin_date").map(epoch);
            let end = meta.remove("end_date").map(epoch);
            let mut range = Map::new();
            range.extend(begin.map(|b| ("begin".to_owned(), b)));
            range.extend(end.map(|e| ("end".to_owned(), e)));
            meta.insert("date_range".to_owned(), Value::Object(range));
        }
    }
    rename(report, "records", "record");
    if let Some(records) = report.get_mut("record") {
        match records {
            Value::Array(items) => items.iter_mut().for_each(normalise_record),
            one => normalise_record(one),
        }
    }
}

fn normalise_record(record: &mut Value) {
    let Value::Object(record) = record else {
        return;
    };
    if let Some(row) = record.get_mut("row") {
        if let Some(evaluated) = row.get_mut("policy_evaluated") {
            rename_reason_types(evaluated);
        }
        return;
    }
    let mut row = Map::new();
    if let Some(source) = record.remove("source") {
        let ip = match source {
            Value::Object(mut s) => s.remove("ip_address").unwrap_or(Value::Null),
            other => other,
        };
        row.insert("source_ip".to_owned(), ip);
    }
    if let Some(ip) = record.remove("source_ip") {
        row.insert("source_ip".to_owned(), ip);
    }
    if let Some(count) = record.remove("count") {
        row.insert("count".to_owned(), count);
    }
    if let Some(mut evaluated) = record.remove("policy_evaluated") {
        if let Value::Object(e) = &mut evaluated {
            rename(e, "policy_override_reasons", "reason");
        }
        rename_reason_types(&mut evaluated);
        row.insert("policy_evaluated".to_owned(), evaluated);
    }
    record.insert("row".to_owned(), Value::Object(row));
}

/// `type_` (a programming-language spelling of the reserved word) is `type`.
fn rename_reason_types(evaluated: &mut Value) {
    if let Some(Value::Array(reasons)) = evaluated.get_mut("reason") {
        for r in reasons {
            if let Value::Object(r) = r {
                rename(r, "type_", "type");
            }
        }
    }
}

fn rename(map: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = map.remove(from) {
        map.insert(to.to_owned(), v);
    }
}

/// A date written as parsedmarc writes it (`2026-06-16 00:00:00`, UTC) or as
/// RFC 3339, turned into epoch seconds; numbers and anything unreadable pass
/// through for the XML reader to accept or refuse.
fn epoch(v: Value) -> Value {
    match &v {
        Value::String(s) => {
            let s = s.trim();
            let with_zone = if s.len() == 19 {
                format!("{s}Z")
            } else {
                s.to_owned()
            };
            rfc3339_to_epoch(&with_zone).map_or(v, Value::from)
        }
        _ => v,
    }
}

/// Write a JSON object's members as XML elements: arrays repeat their
/// element, `null` is left out, keys that cannot be element names are
/// skipped (the XML reader would skip them as unknown anyway). Nesting
/// beyond the XML depth limit is cut here, and the reader then refuses it.
fn write_children(xml: &mut String, map: &Map<String, Value>, depth: u32, max_depth: u32) {
    for (key, value) in map {
        if !is_element_name(key) {
            continue;
        }
        if key == "extensions" {
            write_extensions(xml, value);
            continue;
        }
        match value {
            Value::Array(items) => {
                for item in items {
                    write_element(xml, key, item, depth, max_depth);
                }
            }
            v => write_element(xml, key, v, depth, max_depth),
        }
    }
}

/// `<extensions>` carries each extension's name and definition as
/// attributes; JSON gives a list of objects (or `{"extension": [...]}`).
fn write_extensions(xml: &mut String, value: &Value) {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        Value::Object(m) => match m.get("extension") {
            Some(Value::Array(items)) => items,
            Some(one) => std::slice::from_ref(one),
            None => &[],
        },
        _ => &[],
    };
    xml.push_str("<extensions>");
    for item in items {
        xml.push_str("<extension");
        for attr in ["name", "definition"] {
            if let Some(Value::String(v)) = item.get(attr) {
                let _ = write!(xml, " {attr}=\"{}\"", escape(v));
            }
        }
        xml.push_str("/>");
    }
    xml.push_str("</extensions>");
}

fn write_element(xml: &mut String, key: &str, value: &Value, depth: u32, max_depth: u32) {
    let text = match value {
        Value::Null => return,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // mail-auth writes an absent keyword as "Unspecified".
        Value::String(s) if s == "Unspecified" => return,
        Value::String(s) if KEYWORD_KEYS.contains(&key) => escape(&keyword(s)),
        Value::String(s) => escape(s),
        Value::Array(items) => {
            // A list inside a list has no XML form; keep its first level.
            for item in items {
                write_element(xml, key, item, depth, max_depth);
            }
            return;
        }
        Value::Object(inner) => {
            let _ = write!(xml, "<{key}>");
            if depth < max_depth {
                write_children(xml, inner, depth + 1, max_depth);
            } else {
                // Past the limit: an empty child that takes the reader over it.
                xml.push_str("<deeper/>");
            }
            let _ = write!(xml, "</{key}>");
            return;
        }
    };
    let _ = write!(xml, "<{key}>{text}</{key}>");
}

/// Elements whose text is a keyword of the XML schema.
const KEYWORD_KEYS: &[&str] = &[
    "adkim",
    "aspf",
    "p",
    "sp",
    "np",
    "disposition",
    "dkim",
    "spf",
    "result",
    "scope",
    "type",
    "discovery_method",
];

/// A keyword as the XML writes it. JSON exports sometimes spell enums as
/// programming-language names (`MailFrom`, `TrustedForwarder`).
fn keyword(s: &str) -> String {
    let joined: String = s.chars().filter(|c| !matches!(c, '_' | '-')).collect();
    let known = match joined.to_ascii_lowercase().as_str() {
        "mailfrom" => "mfrom",
        "trustedforwarder" => "trusted_forwarder",
        "sampledout" => "sampled_out",
        "localpolicy" => "local_policy",
        "mailinglist" => "mailing_list",
        "policytestmode" => "policy_test_mode",
        "relaxed" => "r",
        "strict" => "s",
        _ => return s.to_owned(),
    };
    known.to_owned()
}

fn is_element_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !key.to_ascii_lowercase().starts_with("xml")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not allowed in XML 1.0 text.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_unknown_json_looked_like() {
        let r = parse_json_reports(br#"{"hello": 1, "world": 2}"#, &Limits::default());
        let msg = r[0].as_ref().unwrap_err().to_string();
        assert!(msg.contains("an object with keys hello, world"), "{msg}");
    }

    #[test]
    fn parsedmarc_dates_become_epoch_seconds() {
        assert_eq!(
            epoch(Value::from("2026-06-16 23:59:59")),
            Value::from(1_781_654_399)
        );
        assert_eq!(epoch(Value::from(5)), Value::from(5));
    }
}
