//! MTA-STS record and policy vectors from `$WARD_CORPUS/mta-sts/` (checkdmarc, mail-auth,
//! postfix-mta-sts-resolver). Why ward disagrees where it does: docs/conformance.md,
//! "MTA-STS".

mod common;

use serde_json::Value;
use ward_records::mta_sts::{self, Limits, Mode, PolicyLimits};

const DISAGREE: &[(&str, &str)] = &[
    (
        "checkdmarc/mta_sts.json#16",
        "unknown policy key `badkey`: RFC 8461 §3.2 extension keys are ignored, not errors",
    ),
    (
        "postfix-mta-sts-resolver/refdata.tsv#bad-cert1.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
    (
        "postfix-mta-sts-resolver/refdata.tsv#bad-cert2.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
    (
        "postfix-mta-sts-resolver/refdata_strict.tsv#bad-cert1.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
    (
        "postfix-mta-sts-resolver/refdata_strict.tsv#bad-cert2.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
    (
        "postfix-mta-sts-resolver/refdata_nosni.tsv#bad-cert1.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
    (
        "postfix-mta-sts-resolver/refdata_nosni.tsv#bad-cert2.loc",
        "certificate failure of the policy host: the TLS probe's verdict, not the parser's",
    ),
];

const HANDLED: &[&str] = &[
    "checkdmarc/mta_sts.json",
    "mail-auth/mta_sts_record.json",
    "postfix-mta-sts-resolver/utils.json",
    "postfix-mta-sts-resolver/scenarios.json",
    "postfix-mta-sts-resolver/refdata.tsv",
    "postfix-mta-sts-resolver/refdata_strict.tsv",
    "postfix-mta-sts-resolver/refdata_nosni.tsv",
];

fn record(s: &str) -> Result<mta_sts::StsRecord, mta_sts::RecordError> {
    mta_sts::parse_record(s, &Limits::default())
}

fn policy(s: &[u8]) -> Result<mta_sts::Policy, mta_sts::PolicyError> {
    mta_sts::parse_policy(s, &PolicyLimits::default())
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Enforce => "enforce",
        Mode::Testing => "testing",
        Mode::None => "none",
    }
}

fn path_of(c: &Value) -> Vec<&str> {
    c["path"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn checkdmarc(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "checkdmarc/mta_sts.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("{file}#{i}");
        let expect_ok = v["expect"] == "returns";
        let arg = v["args"][0].as_str().unwrap_or_default();
        let checks = v["checks"].as_array().cloned().unwrap_or_default();
        match v["function"].as_str() {
            Some("parse_mta_sts_record") => {
                let r = record(arg);
                let mut agree = r.is_ok() == expect_ok;
                if let Ok(rec) = &r {
                    for c in &checks {
                        agree &= match path_of(c).as_slice() {
                            ["tags", "v"] => c["value"] == "STSv1",
                            ["tags", "id"] => c["value"] == rec.id.as_str(),
                            other => panic!("{case}: unhandled check {other:?}"),
                        };
                    }
                }
                tally.record(&case, agree, &r);
            }
            Some("parse_mta_sts_policy") => {
                let r = policy(arg.as_bytes());
                let mut agree = r.is_ok() == expect_ok;
                if let Ok(p) = &r {
                    for c in &checks {
                        agree &= match path_of(c).as_slice() {
                            ["policy", "mode"] => c["value"] == mode_name(p.mode),
                            ["policy", "max_age"] => c["value"] == p.max_age,
                            ["policy", "mx"] => {
                                let mx: Vec<&str> =
                                    p.mx.iter().map(|m| m.pattern.as_str()).collect();
                                c["value"] == serde_json::json!(mx)
                            }
                            other => panic!("{case}: unhandled check {other:?}"),
                        };
                    }
                }
                tally.record(&case, agree, &r);
            }
            Some("mx_in_mta_sts_patterns") => {
                let patterns: Vec<&str> = v["args"][1]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let got = mta_sts::mx_matches_any(patterns, arg);
                let want = v["assertion"] == "assertTrue";
                tally.record(&case, got == want, got);
            }
            other => panic!("{case}: unhandled function {other:?}"),
        }
    }
}

fn mail_auth(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "mail-auth/mta_sts_record.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("{file}#{i}");
        let r = record(v[0].as_str().unwrap_or_default());
        let agree = r.as_ref().is_ok_and(|rec| v[1]["id"] == rec.id.as_str());
        tally.record(&case, agree, &r);
    }
}

fn postfix_utils(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "postfix-mta-sts-resolver/utils.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("{file}#{i}");
        let arg = v["args"][0].as_str().unwrap_or_default();
        match v["function"].as_str() {
            Some("parse_mta_sts_record") => {
                // The resolver returns the tag map and checks `v` later; an empty map is
                // "no MTA-STS record", which ward says as NotSts.
                let r = record(arg);
                let want = &v["value"];
                let agree = match &r {
                    Ok(rec) => want["v"] == "STSv1" && want["id"] == rec.id.as_str(),
                    Err(mta_sts::RecordError::NotSts) => {
                        want.as_object().is_some_and(|m| m.is_empty())
                    }
                    Err(_) => false,
                };
                tally.record(&case, agree, &r);
            }
            Some("is_plaintext") => {
                let got = mta_sts::is_policy_media_type(arg);
                tally.record(&case, v["value"] == got, got);
            }
            other => panic!("{case}: unhandled function {other:?}"),
        }
    }
}

/// What the resolver answers for a domain, from ward's parsers: `Some(mode)` when both the
/// record and the served policy are usable, else `None` (the resolver's NOTFOUND).
fn resolve(s: &Value) -> Option<Mode> {
    let txt = s["mta_sts_txt"].as_str()?;
    record(txt).ok()?;
    if s["policy_http_status"].as_u64().unwrap_or(200) != 200 {
        return None;
    }
    let ctype = s["policy_content_type"].as_str().unwrap_or("text/plain");
    if !mta_sts::is_policy_media_type(ctype) {
        return None;
    }
    let body: Vec<u8> = match (s["policy_body"].as_str(), s["policy_body_prefix"].as_str()) {
        (Some(b), _) => b.as_bytes().to_vec(),
        (None, Some(prefix)) => {
            // Served with more than 128 KiB of padding after the policy lines.
            let mut b = prefix.as_bytes().to_vec();
            b.resize(131_193, b'#');
            b
        }
        (None, None) => return None,
    };
    policy(&body).ok().map(|p| p.mode)
}

fn postfix_scenarios(dir: &std::path::Path, tally: &mut common::Tally) {
    let doc = common::json(&dir.join("postfix-mta-sts-resolver/scenarios.json"));
    let scenarios = doc["vectors"].as_object().cloned().unwrap_or_default();
    let mut covered = std::collections::BTreeSet::new();
    let mut query_syntax_rows = 0;
    for (tsv, strict) in [
        ("refdata.tsv", false),
        ("refdata_strict.tsv", true),
        ("refdata_nosni.tsv", false),
    ] {
        let text = std::fs::read_to_string(dir.join("postfix-mta-sts-resolver").join(tsv))
            .unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (head, expected) = line.split_once('\t').unwrap_or((line, ""));
            let query = head.split_whitespace().nth(1).unwrap_or_default();
            let Some(s) = scenarios.get(query) else {
                // `[good.loc]:123`, `.good.loc`, `[1.2.3.4]`: Postfix socketmap query
                // syntax, which is the resolver's business, not a record or policy.
                query_syntax_rows += 1;
                continue;
            };
            covered.insert(query.to_string());
            let case = format!("postfix-mta-sts-resolver/{tsv}#{query}");
            let mode = resolve(s);
            let secure = match mode {
                Some(Mode::Enforce) => true,
                Some(Mode::Testing) => strict,
                _ => false,
            };
            let agree = secure == expected.starts_with("OK secure");
            tally.record(&case, agree, mode);
        }
    }
    // Scenarios no reference table asks about: the expected answer is in their name.
    for (name, s) in &scenarios {
        if covered.contains(name) {
            continue;
        }
        let case = format!("postfix-mta-sts-resolver/scenarios.json#{name}");
        let mode = resolve(s);
        let want_found = s.get("mta_sts_txt").is_some()
            && !(name.starts_with("bad-") || name.contains("overlength"));
        tally.record(&case, mode.is_some() == want_found, mode);
    }
    println!("mta-sts: {query_syntax_rows} reference rows test Postfix query syntax, not run");
}

#[test]
fn mta_sts_vectors() {
    let Some(dir) = common::corpus("mta-sts") else {
        return;
    };
    common::assert_inventory(&dir, HANDLED, &[]);
    let mut tally = common::Tally::new("mta-sts", DISAGREE);
    checkdmarc(&dir, &mut tally);
    mail_auth(&dir, &mut tally);
    postfix_utils(&dir, &mut tally);
    postfix_scenarios(&dir, &mut tally);
    tally.finish();
}
