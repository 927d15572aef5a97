//! HTTP security-header vectors from `$WARD_CORPUS/http-headers/`: internet.nl's CSP and
//! Referrer-Policy judgements, the (legacy) Mozilla HTTP Observatory's CSP parser and its
//! Referrer-Policy and HSTS judgements.
//!
//! The verdicts compared are ward's `web.csp`, `web.referrer` and `web.hsts` rules, built
//! here from the same parser methods the checks use:
//! - CSP passes when the policy parses and [`csp::Policy::weaknesses`] is empty;
//! - Referrer-Policy passes when absent (browsers then use `strict-origin-when-cross-origin`)
//!   or when the last known token does not leak ([`ReferrerPolicy::leaks`]); a header with no
//!   known token fails;
//! - HSTS passes when it arrives over HTTPS with a valid certificate, parses, and has
//!   `max-age` ≥ [`hsts::ONE_YEAR`].
//!
//! Why each named disagreement is ward's answer: docs/conformance.md, "HTTP headers".

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use ward_records::referrer_policy::ReferrerPolicy;
use ward_records::{csp, hsts, referrer_policy};

const INL: &str = "internet.nl/http_headers.json";
const OBS_CSP: &str = "http-observatory/csp_parser.json";
const OBS_HDR: &str = "http-observatory/headers.json";

const HANDLED: &[&str] = &[INL, OBS_CSP, OBS_HDR];

const HTML: &str = "an HTML page for <meta http-equiv> and SRI tests: ward reads response headers, not page markup";
const FIXTURE: &str = "a captured whole-site scan (mdn-http-observatory fixture): input for a scanner run, not header vectors";

const THIRD_PARTY: &str = "internet.nl's own rule that sources be its own domain; ward does not judge which hosts a party trusts (CDNs, payment providers)";
const SYNTAX: &str = "valid CSP3 syntax that internet.nl's grammar rejects";
const NOT_WEAK: &str =
    "internet.nl policy requirement ward does not make: no XSS or framing exposure follows";

const DISAGREE: &[(&str, &str)] = &[
    // internet.nl
    ("internet.nl#2 test_none_with_others_invalid_url", NOT_WEAK),
    (
        "internet.nl#9 test_unsafe_eval",
        "'unsafe-eval' in style-src has no effect: eval governs scripts only",
    ),
    ("internet.nl#10 test_unsafe_hashes", NOT_WEAK),
    ("internet.nl#11 test_default_src_1", THIRD_PARTY),
    ("internet.nl#17 test_default_src_7", THIRD_PARTY),
    ("internet.nl#20 test_default_src_10", THIRD_PARTY),
    ("internet.nl#24 test_default_src_14", THIRD_PARTY),
    ("internet.nl#43 test_127001_host_1", THIRD_PARTY),
    ("internet.nl#44 test_127001_host_2", THIRD_PARTY),
    ("internet.nl#45 test_127001_host_3", THIRD_PARTY),
    ("internet.nl#46 test_127001_host_4", THIRD_PARTY),
    ("internet.nl#47 test_127001_host_5", THIRD_PARTY),
    ("internet.nl#50 test_uri_base_uri", NOT_WEAK),
    ("internet.nl#51 test_missing_form_action", NOT_WEAK),
    ("internet.nl#66 test_syntax_trusted_types_8", SYNTAX),
    ("internet.nl#74 test_scheme_source_3", SYNTAX),
    ("internet.nl#75 test_scheme_source_4", THIRD_PARTY),
    // Observatory CSP parser
    (
        "http-observatory/csp#15 test_csp_parser",
        "CSP3 2.2.1: a repeated directive is ignored, not an invalid policy",
    ),
    (
        "http-observatory/csp#16 test_csp_parser",
        "CSP3 2.2.1: a repeated directive is ignored, not an invalid policy",
    ),
    (
        "http-observatory/csp#17 test_csp_parser",
        "CSP3 2.2.1: a directive with no value is valid syntax (an unknown one is ignored)",
    ),
    // Observatory headers
    (
        "http-observatory/headers#6 TestReferrerPolicy.test_header_private",
        "the page's <meta> overrides the header; ward reads headers only and reports unsafe-url",
    ),
    (
        "http-observatory/headers#7 TestReferrerPolicy.test_header_no_referrer_when_downgrade",
        "no-referrer-when-downgrade sends the full URL to every HTTPS site; internet.nl and ward fail it",
    ),
    (
        "http-observatory/headers#23 TestStrictTransportSecurity.test_implemented",
        "ward requires a year (internet.nl, preload list); the Observatory six months",
    ),
    (
        "http-observatory/headers#24 TestStrictTransportSecurity.test_preloaded",
        "the Observatory consults Chromium's preload list; ward judges the header served",
    ),
    (
        "http-observatory/headers#25 TestStrictTransportSecurity.test_preloaded",
        "the Observatory consults Chromium's preload list; ward judges the header served",
    ),
];

fn out_of_scope(dir: &std::path::Path) -> Vec<(String, &'static str)> {
    common::files_under(dir)
        .into_iter()
        .filter(|f| !HANDLED.contains(&f.as_str()))
        .map(|f| {
            let why = if f.ends_with(".html") { HTML } else { FIXTURE };
            (f, why)
        })
        .collect()
}

fn csp_good(h: &str) -> bool {
    csp::parse(h, &csp::Limits::default()).is_ok_and(|p| p.weaknesses().is_empty())
}

fn csp_parsed(h: &str, directive: &str) -> bool {
    csp::parse(h, &csp::Limits::default())
        .ok()
        .and_then(|p| p.get(directive).map(csp::Directive::well_formed))
        .unwrap_or(false)
}

/// ward's `web.referrer` verdict on a header value (`None` = header absent).
fn referrer_good(h: Option<&str>) -> bool {
    let Some(h) = h else { return true };
    referrer_policy::parse(h, &referrer_policy::Limits::default())
        .ok()
        .and_then(|r| r.policy)
        .is_some_and(|p| !ReferrerPolicy::leaks(p))
}

/// ward's `web.hsts` verdict on a header received over HTTPS with a valid certificate.
fn hsts_good(h: &str) -> bool {
    hsts::parse(h, &hsts::Limits::default()).is_ok_and(|h| h.max_age >= hsts::ONE_YEAR)
}

#[test]
fn http_header_vectors() {
    let Some(dir) = common::corpus("http-headers") else {
        return;
    };
    let oos = out_of_scope(&dir);
    let oos_ref: Vec<(&str, &str)> = oos.iter().map(|(f, w)| (f.as_str(), *w)).collect();
    common::assert_inventory(&dir, HANDLED, &oos_ref);
    let mut tally = common::Tally::new("http-headers", DISAGREE);

    // internet.nl
    let doc = common::json(&dir.join(INL));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let test = v["test"].as_str().unwrap_or_default();
        let name = test.rsplit('.').next().unwrap_or_default();
        let case = format!("internet.nl#{i} {name}");
        let helper = v["helper"].as_str().unwrap_or_default();
        let header = v["args"][0].as_str();
        let is_csp = test.contains("ContentSecurityPolicy");
        let good = if is_csp {
            csp_good(header.unwrap_or_default())
        } else {
            referrer_good(header)
        };
        let dir_arg = v["args"][1].as_str().unwrap_or_default();
        let want = match helper {
            "_is_good" | "_has_recommendations" => good,
            "_is_bad" => !good,
            "_is_good_and_parsed" => good && csp_parsed(header.unwrap_or_default(), dir_arg),
            "_is_good_and_not_parsed" => good && !csp_parsed(header.unwrap_or_default(), dir_arg),
            "_is_bad_and_parsed" => !good && csp_parsed(header.unwrap_or_default(), dir_arg),
            "check" => match v["expected"].as_str() {
                Some("referrer_policy_enabled == True") => good,
                Some("referrer_policy_enabled == False") => !good,
                other => panic!("{case}: unknown expectation {other:?}"),
            },
            other => panic!("{case}: unknown helper {other}"),
        };
        tally.record(&case, want, (helper, header, good));
    }

    // Observatory CSP parser: single policies compared directive by directive; several
    // policies intersected as the Observatory does (an empty intersection is 'none').
    let doc = common::json(&dir.join(OBS_CSP));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("http-observatory/csp#{i} test_csp_parser");
        let policies: Vec<&str> = v["args"][0]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let parsed: Result<Vec<csp::Policy>, csp::CspError> = policies
            .iter()
            .map(|p| csp::parse(p, &csp::Limits::default()))
            .collect();
        let raises = v["expect"]
            .as_str()
            .is_some_and(|e| e.starts_with("raises"));
        let agree = if raises {
            parsed.is_err()
        } else {
            let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (n, p) in parsed.iter().flatten().enumerate() {
                for d in &p.directives {
                    let set: BTreeSet<String> = d.values.iter().cloned().collect();
                    let entry = got.entry(d.name.clone()).or_insert_with(|| set.clone());
                    if n > 0 {
                        *entry = entry.intersection(&set).cloned().collect();
                        if entry.is_empty() {
                            entry.insert("'none'".into());
                        }
                    }
                }
            }
            let want: BTreeMap<String, BTreeSet<String>> = v["value"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        s.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect(),
                    )
                })
                .collect();
            parsed.is_ok() && got == want
        };
        tally.record(&case, agree, (&policies, parsed.map(|p| p.len())));
    }

    // Observatory header analysis: Referrer-Policy and HSTS.
    let doc = common::json(&dir.join(OBS_HDR));
    let mut run = 0;
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let test = v["test"].as_str().unwrap_or_default();
        let referrer = test.starts_with("TestReferrerPolicy.");
        let hsts_test = test.starts_with("TestStrictTransportSecurity.");
        if !referrer && !hsts_test {
            continue;
        }
        let case = format!("http-observatory/headers#{run} {test}");
        run += 1;
        let pass = v["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["path"] == serde_json::json!(["pass"]))
            .map(|c| c["assertion"] == "assertTrue");
        let Some(pass) = pass else {
            panic!("vector {i} ({test}) has no pass/fail assertion");
        };
        let state = &v["request_state"];
        let good = if referrer {
            referrer_good(state["auto"]["headers"]["Referrer-Policy"].as_str())
        } else {
            let https = &state["https"];
            let verified = https["verified"].as_bool().unwrap_or(true);
            let header = https["headers"]["Strict-Transport-Security"].as_str();
            verified && header.is_some_and(hsts_good)
        };
        tally.record(&case, good == pass, (state, good));
    }
    tally.finish();
}
