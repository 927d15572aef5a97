//! Conformance over the shared third-party corpus (`$WARD_CORPUS`, default
//! `../shared/corpus` beside the repository).
//!
//! Every file under `dmarc-aggregate/`, `dmarc-failure/` and `smtp-tls-rpt/`
//! is unpacked. It must either yield reports and no error, or be listed in
//! [`REFUSED`] with the reason ward must give. Where the corpus ships an
//! expected JSON (stalwartlabs/mail-auth `NNN.json`), every field is compared
//! through a mapping from mail-auth's names to ours; the disagreements ward
//! stands by are listed in [`DISAGREEMENTS`] (and must still occur).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use ward_reports::aggregate::AggregateReport;
use ward_reports::failure::FailureReport;
use ward_reports::tlsrpt::TlsReport;
use ward_reports::unpack::unpack_all;
use ward_reports::{Limits, Reason, Report};

type Check = fn(&Reason) -> bool;

/// Files refused on purpose: path under the corpus, the reason ward must
/// give, and why. Mirrored in `docs/conformance.md` § Mail reports.
const REFUSED: &[(&str, Check, &str)] = &[
    (
        "dmarc-aggregate/parsedmarc/empty.xml",
        |r| matches!(r, Reason::Empty),
        "zero bytes",
    ),
    (
        "dmarc-aggregate/parsedmarc/aggregate/invalid_xml.xml",
        |r| matches!(r, Reason::Xml { at, .. } if at.line == 5 && at.byte == 133),
        "`<email><bad-xml@bad-xml.net></email>` is not well-formed XML",
    ),
    (
        "dmarc-aggregate/parsedmarc/aggregate/invalid_utf_8.xml",
        |r| matches!(r, Reason::InvalidUtf8 { .. }),
        "declared UTF-8, holds byte 0x91 (a Windows-1252 quote) in header_from",
    ),
    (
        "dmarc-aggregate/dmarc-report-converter/test_empty.xml",
        |r| matches!(r, Reason::MissingElement { path } if path == "record[1]/auth_results/spf/result"),
        "its only record is empty: no source_ip, no result",
    ),
    (
        "dmarc-aggregate/mail-dmarc/rua-schema.xsd",
        |r| matches!(r, Reason::NotFeedback { .. }),
        "the RUA XML Schema, not a report",
    ),
    (
        "dmarc-failure/parsedmarc/exim_plain_text_only_no_arf_part.eml",
        |r| matches!(r, Reason::NoReportInMessage { .. }),
        "prose only, no message/feedback-report part: not ARF (RFC 6591 §3)",
    ),
    (
        "smtp-tls-rpt/record-vectors/checkdmarc_tlsrpt_record.json",
        |r| matches!(r, Reason::UnknownJson { .. }),
        "TXT-record test vectors, not a report",
    ),
    (
        "smtp-tls-rpt/record-vectors/mail-auth_tlsrpt_record.json",
        |r| matches!(r, Reason::UnknownJson { .. }),
        "TXT-record test vectors, not a report",
    ),
];

/// mail-auth's own expected-output files for failure reports (`NNN.json`
/// beside `NNN.eml`) are JSON but no report ward reads; they are compared,
/// not ingested, and must be refused as `UnknownJson` when ingested. (Its
/// aggregate ones are JSON aggregate reports, which ward reads: see
/// [`json_aggregate_reports_read_as_their_xml_twins`].)
fn is_expected_json(rel: &str) -> bool {
    rel.starts_with("dmarc-failure/mail-auth/") && rel.ends_with(".json")
}

/// Fields where ward and an expected JSON disagree on purpose:
/// (file, field path, why ward is right).
const DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "dmarc-aggregate/mail-auth/005.json",
        "record[0].row.policy_evaluated.reason[0].type_",
        "`sampled_out` is an RFC 7489 override type; mail-auth folds it into `Other`, ward keeps it",
    ),
    (
        "dmarc-failure/mail-auth/001.json",
        "headers",
        "ward takes the original headers from a message/rfc822 part too (RFC 6591 §3.1 allows either)",
    ),
    (
        "dmarc-failure/mail-auth/002.json",
        "headers",
        "ward takes the original headers from a message/rfc822 part too (RFC 6591 §3.1 allows either)",
    ),
    (
        "dmarc-failure/mail-auth/003.json",
        "headers",
        "ward takes the original headers from a message/rfc822 part too (RFC 6591 §3.1 allows either)",
    ),
];

fn corpus_root() -> PathBuf {
    match std::env::var_os("WARD_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn ingest(root: &Path, rel: &str) -> Vec<Result<ward_reports::Unpacked, ward_reports::Error>> {
    let bytes = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    unpack_all(rel, &bytes, &Limits::default())
}

#[test]
fn every_corpus_file_parses_or_is_refused_on_purpose() {
    let root = corpus_root();
    if !root.join("dmarc-aggregate").is_dir() {
        println!(
            "corpus not found at {} (set WARD_CORPUS); mail report conformance not run",
            root.display()
        );
        return;
    }
    let mut files = Vec::new();
    for d in ["dmarc-aggregate", "dmarc-failure", "smtp-tls-rpt"] {
        files_under(&root.join(d), &mut files);
    }
    files.sort();
    let (mut parsed, mut refused, mut companions, mut reports) = (0, 0, 0, 0);
    let mut listed_seen = BTreeSet::new();
    let mut failures = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let got = ingest(&root, &rel);
        let oks = got.iter().filter(|r| r.is_ok()).count();
        let errs: Vec<_> = got.iter().filter_map(|r| r.as_ref().err()).collect();
        if let Some((_, check, why)) = REFUSED.iter().find(|(p, ..)| *p == rel) {
            listed_seen.insert(rel.clone());
            if oks == 0 && !errs.is_empty() && errs.iter().all(|e| check(&e.reason)) {
                refused += 1;
            } else {
                failures.push(format!("{rel}: listed as refused ({why}) but got {got:?}"));
            }
        } else if is_expected_json(&rel) {
            if oks == 0
                && errs
                    .iter()
                    .all(|e| matches!(e.reason, Reason::UnknownJson { .. }))
            {
                companions += 1;
            } else {
                failures.push(format!(
                    "{rel}: expected-output JSON should be refused as UnknownJson, got {got:?}"
                ));
            }
        } else if oks > 0 && errs.is_empty() {
            parsed += 1;
            reports += oks;
        } else {
            failures.push(format!(
                "{rel}: unlisted file failed: {errs:?} ({oks} reports)"
            ));
        }
    }
    for (p, ..) in REFUSED {
        if !listed_seen.contains(*p) {
            failures.push(format!("{p}: listed in REFUSED but not in the corpus"));
        }
    }
    println!(
        "mail reports: {} files: {parsed} parsed ({reports} reports), {refused} refused on purpose, {companions} expected-output JSON files",
        files.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(parsed > 0);
}

/// mail-auth writes each aggregate report as JSON too (`NNN.json` beside
/// `NNN.xml`): read as a JSON aggregate report, each must give the same
/// report as its XML twin, field for field, but for what mail-auth's JSON
/// loses: `pct`, an absent `testing` (written false) and `sampled_out`
/// (written `Other`). Its "Unspecified" is an absent keyword.
#[test]
fn json_aggregate_reports_read_as_their_xml_twins() {
    let root = corpus_root();
    let dir = root.join("dmarc-aggregate/mail-auth");
    if !dir.is_dir() {
        println!("corpus not found at {} (set WARD_CORPUS)", root.display());
        return;
    }
    let mut compared = 0;
    for n in 1..=5 {
        let xml = format!("dmarc-aggregate/mail-auth/{n:03}.xml");
        let json = format!("dmarc-aggregate/mail-auth/{n:03}.json");
        let one = |rel: &str| -> AggregateReport {
            let got = ingest(&root, rel);
            match got.as_slice() {
                [Ok(u)] => match &u.report {
                    Report::Aggregate(a) => (**a).clone(),
                    other => panic!("{rel}: not an aggregate report: {other:?}"),
                },
                other => panic!("{rel}: expected one report, got {other:?}"),
            }
        };
        let (mut from_xml, from_json) = (one(&xml), one(&json));
        from_xml.namespace = None;
        from_xml.version = from_json.version.clone();
        // mail-auth's JSON has no `pct`, and writes an absent `testing` as false.
        from_xml.policy_published.pct = None;
        let testing = &mut from_xml.policy_published.testing;
        *testing = Some(testing.unwrap_or(false));
        if n == 5 {
            for r in &mut from_xml.records {
                for reason in &mut r.row.policy_evaluated.reasons {
                    if reason.kind == Some(ward_reports::enums::PolicyOverride::SampledOut) {
                        reason.kind = Some(ward_reports::enums::PolicyOverride::Other);
                    }
                }
            }
        }
        assert_eq!(from_json, from_xml, "{json} against {xml}");
        compared += 1;
    }
    assert_eq!(compared, 5);
}

// ---------------------------------------------------------------------------
// Expected-JSON comparisons (stalwartlabs/mail-auth).

/// mail-auth's enum spelling of one of our keywords.
fn theirs(keyword: &str) -> String {
    match keyword {
        "r" => "Relaxed".into(),
        "s" => "Strict".into(),
        "mfrom" => "MailFrom".into(),
        "temperror" => "TempError".into(),
        "permerror" => "PermError".into(),
        "softfail" => "SoftFail".into(),
        "bodyhash" => "BodyHash".into(),
        other => other
            .split(['_', '-'])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect(),
    }
}

fn kw<T: std::fmt::Display>(v: &Option<T>) -> Value {
    match v {
        Some(k) => json!(theirs(&k.to_string())),
        None => json!("Unspecified"),
    }
}

/// Our aggregate report in mail-auth's field names and spellings.
fn aggregate_as_theirs(a: &AggregateReport, expected: &Value) -> Value {
    let m = &a.report_metadata;
    let p = &a.policy_published;
    let mut metadata = json!({
        "org_name": m.org_name,
        "email": m.email.clone().unwrap_or_default(),
        "extra_contact_info": m.extra_contact_info,
        "report_id": m.report_id,
        "date_range": { "begin": m.date_range.begin, "end": m.date_range.end },
        "error": m.errors,
    });
    // mail-auth writes the RFC 9990 keys only in its newer fixtures.
    if expected["report_metadata"].get("generator").is_some() {
        metadata["generator"] = json!(m.generator);
    }
    let mut policy = json!({
        "domain": p.domain,
        "version_published": null,
        "adkim": kw(&p.adkim),
        "aspf": kw(&p.aspf),
        "p": kw(&p.p),
        "sp": kw(&p.sp),
        "testing": p.testing.unwrap_or(false),
        "fo": p.fo,
    });
    if expected["policy_published"].get("np").is_some() {
        policy["np"] = kw(&p.np);
        policy["discovery_method"] = kw(&p.discovery_method);
    }
    let records: Vec<Value> = a
        .records
        .iter()
        .map(|r| {
            let pe = &r.row.policy_evaluated;
            json!({
                "row": {
                    "source_ip": r.row.source_ip.to_string(),
                    "count": r.row.count,
                    "policy_evaluated": {
                        "disposition": kw(&pe.disposition),
                        "dkim": kw(&pe.dkim),
                        "spf": kw(&pe.spf),
                        "reason": pe.reasons.iter().map(|x| json!({
                            "type_": kw(&x.kind),
                            "comment": x.comment,
                        })).collect::<Vec<_>>(),
                    }
                },
                "identifiers": {
                    "envelope_to": r.identifiers.envelope_to,
                    "envelope_from": r.identifiers.envelope_from.clone().unwrap_or_default(),
                    "header_from": r.identifiers.header_from.clone().unwrap_or_default(),
                },
                "auth_results": {
                    "dkim": r.auth_results.dkim.iter().map(|d| json!({
                        "domain": d.domain.clone().unwrap_or_default(),
                        "selector": d.selector.clone().unwrap_or_default(),
                        "result": theirs(d.result.as_str()),
                        "human_result": d.human_result,
                    })).collect::<Vec<_>>(),
                    "spf": r.auth_results.spf.iter().map(|s| json!({
                        "domain": s.domain.clone().unwrap_or_default(),
                        "scope": kw(&s.scope),
                        "result": theirs(s.result.as_str()),
                        "human_result": s.human_result,
                    })).collect::<Vec<_>>(),
                },
                "extensions": r.extensions.iter().map(|e| json!({
                    "name": e.name.clone().unwrap_or_default(),
                    "definition": e.definition.clone().unwrap_or_default(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let version: f64 = a
        .version
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    json!({
        "version": version,
        "report_metadata": metadata,
        "policy_published": policy,
        "record": records,
        "extensions": a.extensions.iter().map(|e| json!({
            "name": e.name.clone().unwrap_or_default(),
            "definition": e.definition.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
    })
}

fn ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn addr(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(t)
        .to_owned()
}

/// Our failure report in mail-auth's field names, with their expected value
/// normalised the same way (whitespace collapsed, angle brackets dropped).
fn failure_as_theirs(f: &FailureReport) -> Value {
    let first = |v: &Vec<String>| v.first().map(|s| addr(s));
    json!({
        "feedback_type": kw(&f.feedback_type),
        "arrival_date": f.arrival_timestamp,
        "authentication_results": f.authentication_results.iter().map(|s| ws(s)).collect::<Vec<_>>(),
        "incidents": f.incidents.unwrap_or(1),
        "original_envelope_id": f.original_envelope_id,
        "original_mail_from": f.original_mail_from.as_deref().map(addr),
        "original_rcpt_to": first(&f.original_rcpt_to),
        "reported_domain": f.reported_domain,
        "reported_uri": f.reported_uri.iter().map(|s| addr(s)).collect::<Vec<_>>(),
        "reporting_mta": f.reporting_mta,
        "source_ip": f.source_ip.map(|i| i.to_string()),
        "user_agent": f.user_agent,
        "version": f.version.as_deref().and_then(|v| v.trim().parse::<u64>().ok()),
        "source_port": 0,
        "auth_failure": match f.auth_failure.first() {
            Some(a) => json!(theirs(a.as_str())),
            None => json!("Unspecified"),
        },
        "delivery_result": kw(&f.delivery_result),
        "dkim_adsp_dns": f.dkim_adsp_dns,
        "dkim_canonicalized_body": f.dkim_canonicalized_body,
        "dkim_canonicalized_header": f.dkim_canonicalized_header,
        "dkim_domain": f.dkim_domain,
        "dkim_identity": f.dkim_identity,
        "dkim_selector": f.dkim_selector,
        "dkim_selector_dns": f.dkim_selector_dns,
        "spf_dns": f.spf_dns.first(),
        "identity_alignment": if f.identity_alignment.is_empty() { json!("Unspecified") } else { json!(theirs(&f.identity_alignment.join("_"))) },
        "message": null,
        "headers": f.original_headers.as_deref().map(ws),
    })
}

fn normalise_failure_expected(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for (k, x) in o.iter_mut() {
            match (k.as_str(), &*x) {
                ("authentication_results", Value::Array(a)) => {
                    *x = json!(
                        a.iter()
                            .map(|s| ws(s.as_str().unwrap_or_default()))
                            .collect::<Vec<_>>()
                    )
                }
                ("headers", Value::String(s)) => *x = json!(ws(s)),
                ("original_mail_from" | "original_rcpt_to", Value::String(s)) => {
                    *x = json!(addr(s))
                }
                ("dkim_canonicalized_body" | "dkim_canonicalized_header", Value::String(s)) => {
                    *x = json!(s.split_whitespace().collect::<String>())
                }
                _ => {}
            }
        }
    }
    v
}

/// Every leaf where `expected` and `actual` differ, as `path: expected != actual`.
fn diff(
    path: &str,
    expected: &Value,
    actual: &Value,
    out: &mut Vec<(String, String)>,
    compared: &mut usize,
) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match a.get(k) {
                    Some(av) => diff(&p, ev, av, out, compared),
                    None => out.push((p, format!("{ev} != <no such field in ward's mapping>"))),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(&format!("{path}[{i}]"), ev, av, out, compared);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            *compared += 1;
            if e.as_f64() != a.as_f64() {
                out.push((path.to_owned(), format!("{e} != {a}")));
            }
        }
        _ => {
            *compared += 1;
            if expected != actual {
                out.push((path.to_owned(), format!("{expected} != {actual}")));
            }
        }
    }
}

fn only_report(root: &Path, rel: &str) -> Report {
    let got = ingest(root, rel);
    assert_eq!(got.len(), 1, "{rel}: {got:?}");
    match got.into_iter().next() {
        Some(Ok(u)) => u.report,
        other => panic!("{rel}: {other:?}"),
    }
}

#[test]
fn expected_json_matches_field_by_field() {
    let root = corpus_root();
    if !root.join("dmarc-aggregate").is_dir() {
        println!(
            "corpus not found at {} (set WARD_CORPUS); expected-JSON comparison not run",
            root.display()
        );
        return;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (dir, exts) in [
        ("dmarc-aggregate/mail-auth", &["xml", "eml"][..]),
        ("dmarc-failure/mail-auth", &["eml"][..]),
        ("smtp-tls-rpt/mail-auth", &["eml"][..]),
    ] {
        let mut files = Vec::new();
        files_under(&root.join(dir), &mut files);
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "json") {
                let stem = f.with_extension("");
                for ext in exts {
                    let input = stem.with_extension(ext);
                    if input.is_file() {
                        let rel = |p: &Path| {
                            p.strip_prefix(&root)
                                .unwrap_or(p)
                                .to_string_lossy()
                                .replace('\\', "/")
                        };
                        pairs.push((rel(&input), rel(&f)));
                    }
                }
            }
        }
    }
    let mut problems = Vec::new();
    let mut disagreements_seen = BTreeSet::new();
    let mut fields = 0usize;
    for (input, expected_path) in &pairs {
        let expected: Value =
            serde_json::from_slice(&std::fs::read(root.join(expected_path)).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{expected_path}: {e}"));
        let (expected, actual) = match only_report(&root, input) {
            Report::Aggregate(a) => {
                let ours = aggregate_as_theirs(&a, &expected);
                (expected, ours)
            }
            Report::Failure(f) => (normalise_failure_expected(expected), failure_as_theirs(&f)),
            Report::Tls(t) => {
                // mail-auth writes RFC 8460 JSON itself: compare as such,
                // after a round trip through ward's own type.
                let theirs: TlsReport = serde_json::from_value(expected.clone())
                    .unwrap_or_else(|e| panic!("{expected_path}: {e}"));
                (
                    serde_json::to_value(theirs).unwrap_or_default(),
                    serde_json::to_value(&t).unwrap_or_default(),
                )
            }
        };
        let mut out = Vec::new();
        diff("", &expected, &actual, &mut out, &mut fields);
        for (path, what) in out {
            if DISAGREEMENTS
                .iter()
                .any(|(f, p, _)| f == expected_path && *p == path)
            {
                disagreements_seen.insert((expected_path.clone(), path));
            } else {
                problems.push(format!("{input} vs {expected_path}: {path}: {what}"));
            }
        }
    }
    for (f, p, _) in DISAGREEMENTS {
        if !disagreements_seen.contains(&((*f).to_owned(), (*p).to_owned())) {
            problems.push(format!(
                "{f}: {p}: listed as a disagreement but ward now agrees; drop it from the list"
            ));
        }
    }
    println!(
        "mail reports: {} expected-JSON comparisons, {fields} fields compared, {} known disagreements",
        pairs.len(),
        disagreements_seen.len()
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(!pairs.is_empty());
}

/// The same report shipped plain and in containers must come out identical,
/// with one key: that is what makes storage idempotent.
#[test]
fn one_report_in_many_containers_is_one_report() {
    let root = corpus_root();
    if !root.join("dmarc-aggregate").is_dir() {
        println!(
            "corpus not found at {} (set WARD_CORPUS); container identity not checked",
            root.display()
        );
        return;
    }
    let groups: &[&[&str]] = &[
        &[
            "dmarc-aggregate/dmarc-report-converter/test.xml",
            "dmarc-aggregate/dmarc-report-converter/test.xml.gz",
            "dmarc-aggregate/dmarc-report-converter/test.xml.gz.gz",
            "dmarc-aggregate/dmarc-report-converter/test.xml.zip",
        ],
        &[
            "dmarc-aggregate/mail-dmarc/test_dmarc.xml",
            "dmarc-aggregate/mail-dmarc/test_dmarc.xml.gz",
            "dmarc-aggregate/mail-dmarc/test_dmarc.xml.zip",
        ],
        &[
            "dmarc-aggregate/parsedmarc/extract_report/nice-input.xml",
            "dmarc-aggregate/parsedmarc/extract_report/nice-input.xml.gz",
            "dmarc-aggregate/parsedmarc/extract_report/nice-input.xml.zip",
        ],
        &[
            "dmarc-aggregate/dmarcgo/aol.com!georgestarcher.com!1342497600!1342584000.zip",
            "dmarc-aggregate/dmarcgo/aol.com!georgestarcher.com!1342497600!1342584000.zlib",
        ],
        &[
            "smtp-tls-rpt/mail-auth/rpt01.eml",
            "smtp-tls-rpt/mail-auth/rpt01.json",
        ],
        &[
            "smtp-tls-rpt/mail-auth/rpt02.eml",
            "smtp-tls-rpt/mail-auth/rpt02.json",
        ],
        &[
            "dmarc-failure/parsedmarc/dmarc_ruf_report_linkedin.eml",
            "dmarc-failure/parsedmarc/dmarc_ruf_report_linkedin.crlf.eml",
        ],
    ];
    for group in groups {
        let reports: Vec<Report> = group.iter().map(|f| only_report(&root, f)).collect();
        for (f, r) in group.iter().zip(&reports).skip(1) {
            assert_eq!(r.key(), reports[0].key(), "{f} vs {}", group[0]);
            assert_eq!(r, &reports[0], "{f} vs {}", group[0]);
        }
    }
    // Different reports that share a report id (a changed org name) do not.
    let a = only_report(
        &root,
        "dmarc-aggregate/parsedmarc/extract_report/nice-input.xml",
    );
    let b = only_report(
        &root,
        "dmarc-aggregate/parsedmarc/extract_report/changed-input.xml",
    );
    assert_ne!(a.key(), b.key());
}

/// The chunked reader (used for reports too large to hold whole) reads every aggregate
/// report of the corpus as the whole-document reader does: the same header, the same
/// records in the same order once its chunks are put together, and a refusal of the
/// same kind for every file the other refuses, whatever the chunk size.
#[test]
fn the_chunked_reader_agrees_with_the_whole_document_reader_on_the_corpus() {
    use ward_reports::aggregate::{Chunk, parse_aggregate_bytes, parse_aggregate_chunked};
    let root = corpus_root();
    let mut files = Vec::new();
    files_under(&root.join("dmarc-aggregate"), &mut files);
    files.sort();
    let limits = Limits::default();
    let mut compared = 0;
    for path in &files {
        let mut bytes = std::fs::read(path).unwrap();
        if ward_reports::unpack::detect(&bytes) == ward_reports::unpack::Format::Gzip {
            let mut plain = Vec::new();
            if std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut plain)
                .is_err()
            {
                continue;
            }
            bytes = plain;
        }
        if ward_reports::unpack::detect(&bytes) != ward_reports::unpack::Format::Xml {
            continue;
        }
        let whole = parse_aggregate_bytes(&bytes, &limits);
        for size in [1, 3, 1000] {
            let mut got: Option<ward_reports::AggregateReport> = None;
            let mut ended = false;
            let chunked = parse_aggregate_chunked(&bytes[..], &limits, size, &mut |c| {
                match c {
                    Chunk::Start(r) => got = Some(r.clone()),
                    Chunk::More { records, first } => {
                        let r = got.as_mut().expect("More after Start");
                        assert_eq!(first, r.records.len(), "{}", path.display());
                        r.records.extend_from_slice(records);
                    }
                    Chunk::End(h) => {
                        let r = got.as_mut().expect("End after Start");
                        r.extensions = h.extensions.clone();
                        ended = true;
                    }
                }
                true
            });
            match (&whole, chunked) {
                (Ok(w), Ok(true)) => {
                    assert!(ended, "{}", path.display());
                    assert_eq!(Some(w), got.as_ref(), "{} chunk {size}", path.display());
                }
                (Err(a), Err(b)) => assert_eq!(
                    std::mem::discriminant(a),
                    std::mem::discriminant(&b),
                    "{}: {a} / {b}",
                    path.display()
                ),
                (w, c) => panic!(
                    "{} chunk {size}: whole {w:?}, chunked {c:?}",
                    path.display()
                ),
            }
        }
        compared += 1;
    }
    println!("chunked reader: {compared} corpus files compared");
    assert!(
        compared >= 40 || !root.join("dmarc-aggregate").is_dir(),
        "{compared}"
    );
}
