//! The OpenSPF conformance suites (RFC 7208 and RFC 4408) run against `check_host`.
//!
//! Each scenario's `zonedata` becomes a fixture [`Zone`]. Conventions of the suite:
//! a name not in the zone data does not exist (NXDOMAIN); `TIMEOUT` makes every question
//! about the name with no records of the asked type time out; `TXT: NONE` means the name
//! has no TXT records; type `SPF` records are served as TXT when the name lists no TXT
//! records (RFC 7208 dropped the SPF type, and the suite relies on drivers doing this).

mod common;

use common::{Zone, corpus, corpus_present, say};
use serde_yaml::Value;
use std::net::IpAddr;
use ward_checks::mail::spf::{SpfEvalLimits, SpfVerdict, check_host};

/// Cases of the RFC 4408 suite that an RFC 7208 evaluator fails, each with the rule
/// RFC 7208 changed. Empty: where RFC 7208 changed a rule (void lookups, `mx`/`ptr`
/// name limits, SPF-type records), the 2009.10 suite already accepts either result
/// (`result: [a, b]`), so ward passes every case. A case failing here is a bug, and a
/// case listed here that passes is a stale entry; either fails the test.
const RFC4408_CHANGED: &[(&str, &str)] = &[];

struct Case {
    scenario: String,
    name: String,
    host: String,
    mailfrom: String,
    helo: String,
    results: Vec<String>,
    explanation: Option<String>,
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Sequence(parts) => Some(parts.iter().filter_map(text_of).collect()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn zone(data: &Value) -> Zone {
    let mut zone = Zone::default();
    let Some(map) = data.as_mapping() else {
        return zone;
    };
    for (name, entries) in map {
        let Some(name) = name.as_str() else { continue };
        let name = name.to_ascii_lowercase();
        zone.names.entry(name.clone()).or_default();
        let mut spf = Vec::new();
        let mut txt_listed = false;
        for entry in entries.as_sequence().into_iter().flatten() {
            if entry.as_str() == Some("TIMEOUT") {
                if let Some(n) = zone.names.get_mut(&name) {
                    n.timeout = true;
                }
                continue;
            }
            let Some(m) = entry.as_mapping() else {
                continue;
            };
            for (rtype, value) in m {
                let Some(rtype) = rtype.as_str() else {
                    continue;
                };
                match rtype {
                    "TXT" | "SPF" if value.as_str() == Some("NONE") => {
                        if rtype == "TXT" {
                            txt_listed = true;
                        }
                    }
                    "TXT" => {
                        txt_listed = true;
                        zone.add(&name, "TXT", &text_of(value).unwrap_or_default());
                    }
                    "SPF" => spf.push(text_of(value).unwrap_or_default()),
                    "MX" => {
                        let parts: Vec<String> = value
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .filter_map(text_of)
                            .collect();
                        let pref = parts.first().cloned().unwrap_or_default();
                        let host = parts.get(1).cloned().unwrap_or_default();
                        zone.add(&name, "MX", &format!("{pref} {host}."));
                    }
                    other => zone.add(&name, other, &text_of(value).unwrap_or_default()),
                }
            }
        }
        for s in spf {
            zone.add(&name, "SPF", &s);
            if !txt_listed {
                zone.add(&name, "TXT", &s);
            }
        }
    }
    zone
}

fn load(path: &std::path::Path) -> Vec<(Vec<Case>, Value)> {
    let text = std::fs::read_to_string(path).expect("suite readable");
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v = <Value as serde::Deserialize>::deserialize(doc).expect("suite is YAML");
        let scenario = v
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut cases = Vec::new();
        if let Some(tests) = v.get("tests").and_then(Value::as_mapping) {
            for (name, t) in tests {
                let field = |k: &str| t.get(k).and_then(text_of).unwrap_or_default();
                let results = match t.get("result") {
                    Some(Value::Sequence(s)) => s.iter().filter_map(text_of).collect(),
                    Some(v) => text_of(v).into_iter().collect(),
                    None => Vec::new(),
                };
                cases.push(Case {
                    scenario: scenario.clone(),
                    name: name.as_str().unwrap_or("").to_owned(),
                    host: field("host"),
                    mailfrom: field("mailfrom"),
                    helo: field("helo"),
                    results,
                    explanation: t.get("explanation").and_then(text_of),
                });
            }
        }
        out.push((cases, v.get("zonedata").cloned().unwrap_or(Value::Null)));
    }
    out
}

/// Runs one case; `Err` says what went wrong.
fn run(case: &Case, zone: &Zone) -> Result<(), String> {
    let ip: IpAddr = case
        .host
        .parse()
        .map_err(|_| format!("bad host {}", case.host))?;
    let (sender, domain) = if case.mailfrom.is_empty() {
        (format!("postmaster@{}", case.helo), case.helo.clone())
    } else {
        let domain = case
            .mailfrom
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_else(|| case.mailfrom.clone());
        (case.mailfrom.clone(), domain)
    };
    let limits = SpfEvalLimits::default();
    let before = zone.queries();
    let verdict = check_host(ip, &domain, &sender, &case.helo, zone, &limits);
    let asked = zone.queries() - before;
    let SpfVerdict::Decided(d) = verdict else {
        return Err(format!("fixture zone answered everything, got {verdict:?}"));
    };
    if d.dns_terms > limits.max_dns_terms + 1 {
        return Err(format!("{} DNS terms evaluated", d.dns_terms));
    }
    if !case.results.iter().any(|r| r == d.result.as_str()) {
        return Err(format!(
            "expected {:?}, got {} ({:?}; {asked} queries)",
            case.results,
            d.result.as_str(),
            d.reason
        ));
    }
    if d.result.as_str() == "fail"
        && let Some(want) = &case.explanation
    {
        let want = (want != "DEFAULT").then_some(want.as_str());
        if d.explanation.as_deref() != want {
            return Err(format!(
                "explanation {:?}, expected {want:?}",
                d.explanation
            ));
        }
    }
    Ok(())
}

/// Runs a suite; returns (passed, failures as (case name, message)).
fn run_suite(file: &str) -> Option<(usize, Vec<(String, String)>)> {
    run_file("spf/openspf-suite", file)
}

fn run_file(dir: &str, file: &str) -> Option<(usize, Vec<(String, String)>)> {
    if !corpus_present() {
        return None;
    }
    // The corpus is there, so a missing suite is an error, not a skip.
    let path = corpus().join(dir).join(file);
    let mut passed = 0;
    let mut failed = Vec::new();
    for (cases, zonedata) in load(&path) {
        for case in cases {
            let zone = zone(&zonedata);
            match run(&case, &zone) {
                Ok(()) => passed += 1,
                Err(e) => failed.push((case.name.clone(), format!("[{}] {e}", case.scenario))),
            }
        }
    }
    Some((passed, failed))
}

#[test]
fn rfc7208_suite() {
    let Some((passed, failed)) = run_suite("rfc7208-tests.yml") else {
        return;
    };
    for (name, why) in &failed {
        println!("FAIL {name}: {why}");
    }
    say(&format!(
        "openspf rfc7208: {passed} passed, {} failed",
        failed.len()
    ));
    assert_eq!(passed + failed.len(), 203, "the suite has 203 cases");
    assert_eq!(
        (passed, failed.len()),
        (203, 0),
        "every case of the RFC 7208 suite passes; failing: {failed:?}"
    );
}

#[test]
fn rfc4408_suite_differs_only_where_rfc7208_changed_the_rule() {
    let Some((passed, failed)) = run_suite("rfc4408-tests.yml") else {
        return;
    };
    for (name, why) in &failed {
        println!("FAIL {name}: {why}");
    }
    say(&format!(
        "openspf rfc4408: {passed} passed, {} failed",
        failed.len()
    ));
    assert_eq!(passed + failed.len(), 191, "the suite has 191 cases");
    let failed_names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    let unexpected: Vec<&&str> = failed_names
        .iter()
        .filter(|n| !RFC4408_CHANGED.iter().any(|(c, _)| c == *n))
        .collect();
    let now_passing: Vec<&str> = RFC4408_CHANGED
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !failed_names.contains(c))
        .collect();
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
    assert!(
        now_passing.is_empty(),
        "listed as changed by RFC 7208 but passing: {now_passing:?}"
    );
}

/// pyspf's own extra cases that test pyspf-only modes (its `strict` setting), not
/// RFC 7208, with why ward's answer differs.
const PYSPF_MODES: &[(&str, &str)] = &[
    (
        "default-modifier",
        "pyspf's lax mode honours the pre-RFC `default=-` modifier; RFC 7208 §6 says \
         unknown modifiers are ignored, so the record ends in the default, neutral",
    ),
    (
        "default-modifier-harsh",
        "pyspf's harsh mode answers `ambiguous`, which is not an RFC 7208 result",
    ),
];

#[test]
fn pyspf_extra() {
    let Some((passed, failed)) = run_file("spf/pyspf-extra", "test.yml") else {
        return;
    };
    for (name, why) in &failed {
        println!("FAIL {name}: {why}");
    }
    say(&format!(
        "pyspf extra: {passed} passed, {} failed",
        failed.len()
    ));
    let failed: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    let modes: Vec<&str> = PYSPF_MODES.iter().map(|(n, _)| *n).collect();
    assert_eq!(failed, modes);
    assert_eq!(passed, 14);
}
