//! DMARC record vectors from `$WARD_CORPUS/dmarc-record/` (checkdmarc, Internet.nl,
//! mail-auth). Why ward disagrees where it does: docs/conformance.md, "DMARC records".

mod common;

use serde_json::Value;
use ward_records::dmarc::{self, Dmarc, Limits, Policy, Psd};

/// Cases where ward's verdict differs from the vector's, each with its reason.
const DISAGREE: &[(&str, &str)] = &[
    (
        "mail-auth/parse_dmarc.json#4",
        "`!10 K` and ` ! 2G`: whitespace inside a dmarc-uri size suffix is outside the RFC 7489 §6.4 grammar",
    ),
    (
        "internet.nl/dmarc.json#25",
        "regex matches `sp=reject` alone; with no p, RFC 9989 treats the domain as p=none",
    ),
    (
        "internet.nl/dmarc.json#27",
        "regex matches a record whose `other stuff with no sp` term has no '=': not a valid tag-list",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#5",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#6",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#11",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#12",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#13",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#25",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#35",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "checkdmarc/parse_dmarc_record.json#43",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "internet.nl/dmarc.json#7",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "internet.nl/dmarc.json#10",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
    (
        "internet.nl/dmarc.json#26",
        "a broken optional tag is discarded and the record keeps its policy (RFC 7489 §6.3, RFC 9989 §4.7); the peer refuses the whole record",
    ),
];

const HANDLED: &[&str] = &[
    "checkdmarc/parse_dmarc_record.json",
    "internet.nl/dmarc.json",
    "mail-auth/parse_dmarc.json",
];

fn parse(s: &str) -> Result<Dmarc, dmarc::DmarcError> {
    dmarc::parse(s, &Limits::default())
}

fn vectors(v: &Value) -> &[Value] {
    v["vectors"].as_array().map_or(&[], Vec::as_slice)
}

/// checkdmarc's `tags.<name>` view: the value in force and whether it was written.
fn checkdmarc_tag(d: &Dmarc, name: &str) -> Option<(String, bool)> {
    let yn = |b: bool| if b { "y" } else { "n" }.to_string();
    Some(match name {
        "p" => (d.effective_p().as_str().into(), d.p.is_some()),
        "sp" => (d.effective_sp().as_str().into(), d.sp.is_some()),
        "np" => (d.effective_np().as_str().into(), d.np.is_some()),
        "t" => (yn(d.is_testing()), d.testing.is_some()),
        "psd" => (
            match d.effective_psd() {
                Psd::Yes => "y",
                Psd::No => "n",
                Psd::Unspecified => "u",
            }
            .into(),
            d.psd.is_some(),
        ),
        _ => return None,
    })
}

fn checkdmarc(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "checkdmarc/parse_dmarc_record.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in vectors(&doc).iter().enumerate() {
        let case = format!("{file}#{i}");
        let arg = v["args"][0].as_str().unwrap_or_default();
        let expect_ok = v["expect"] == "returns";
        let checks = v["checks"].as_array().cloned().unwrap_or_default();
        if v["function"] == "parse_dmarc_report_uri" {
            let r = dmarc::parse_report_uri(arg);
            let mut agree = r.is_ok() == expect_ok;
            if let Ok(u) = &r {
                for c in &checks {
                    let path: Vec<&str> = c["path"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    agree &= match (path.as_slice(), c["assertion"].as_str()) {
                        (["scheme"], _) => c["value"] == u.scheme.as_str(),
                        (["address"], _) => c["value"].as_str() == u.address.as_deref(),
                        (["size_limit"], Some("assertIsNone")) => u.size_limit.is_none(),
                        (["size_limit"], Some("assertIsNotNone")) => u.size_limit.is_some(),
                        other => panic!("{case}: unhandled check {other:?}"),
                    };
                }
            }
            tally.record(&case, agree, &r);
            continue;
        }
        let r = parse(arg);
        let mut agree = r.is_ok() == expect_ok;
        if let Ok(d) = &r {
            for c in &checks {
                let path: Vec<&str> = c["path"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                agree &= match (path.as_slice(), c["assertion"].as_str()) {
                    ([], Some("assertIsInstance")) => true,
                    (["tags", tag, "value"], Some("assertEqual")) => {
                        checkdmarc_tag(d, tag).map(|t| t.0) == c["value"].as_str().map(Into::into)
                    }
                    (["tags", tag, "explicit"], Some("assertTrue")) => {
                        checkdmarc_tag(d, tag).is_some_and(|t| t.1)
                    }
                    (["tags", tag, "explicit"], Some("assertFalse")) => {
                        checkdmarc_tag(d, tag).is_some_and(|t| !t.1)
                    }
                    other => panic!("{case}: unhandled check {other:?}"),
                };
            }
        }
        tally.record(&case, agree, &r);
    }
}

/// Internet.nl's directive strings (`p=none`, `rua=...`) rebuilt from what ward parsed.
fn internet_nl_directive(d: &Dmarc, name: &str) -> Option<String> {
    let yn = |b: bool| if b { "y" } else { "n" };
    Some(match name {
        ".version" => "v=DMARC1".into(),
        ".request" => format!("p={}", d.p?.as_str()),
        ".auri" => format!(
            "rua={}",
            d.rua
                .iter()
                .map(|u| u.uri.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        ".psd" => format!(
            "psd={}",
            match d.psd? {
                Psd::Yes => "y",
                Psd::No => "n",
                Psd::Unspecified => "u",
            }
        ),
        ".testing" => format!("t={}", yn(d.testing?)),
        _ => return None,
    })
}

fn internet_nl(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "internet.nl/dmarc.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in vectors(&doc).iter().enumerate() {
        let case = format!("{file}#{i}");
        let arg = &v["args"][0];
        match (v["function"].as_str(), v["helper"].as_str()) {
            (Some("_check_dmarc_uri"), _) => {
                let uris: Vec<&str> = arg
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let ok = uris.iter().all(|u| dmarc::parse_report_uri(u).is_ok());
                tally.record(&case, ok == (v["expect"] == "returns"), ok);
            }
            (Some("parse"), _) => {
                let r = parse(arg.as_str().unwrap_or_default());
                // `parse` returns None for a record it refuses.
                let expect_ok = !(v["compare"] == "Is" && v["value"].is_null());
                let mut agree = r.is_ok() == expect_ok;
                if let Ok(d) = &r {
                    for c in v["checks"].as_array().into_iter().flatten() {
                        let path: Vec<&str> = c["path"]
                            .as_array()
                            .map(|a| a.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        agree &= match (path.as_slice(), c["compare"].as_str()) {
                            ([], Some("IsNot")) => true,
                            ([".version"], Some("Eq")) | ([".directives", _], Some("Eq")) => {
                                let key = path.last().copied().unwrap_or_default();
                                internet_nl_directive(d, key).as_deref() == c["value"].as_str()
                            }
                            other => panic!("{case}: unhandled check {other:?}"),
                        };
                    }
                }
                tally.record(&case, agree, &r);
            }
            (_, Some("_verify")) => {
                // Sufficient policy: what receivers apply (after t=y) is quarantine or
                // reject; for an organisational domain that holds for sp as well.
                let org = v["kwargs"]["is_org_domain"].as_bool().unwrap_or(false);
                let r = parse(arg.as_str().unwrap_or_default());
                let valid = r.as_ref().is_ok_and(|d| {
                    d.applied_policy(false) >= Policy::Quarantine
                        && (!org || d.applied_policy(true) >= Policy::Quarantine)
                });
                let expect_valid = v["expected"] == "DmarcPolicyStatus.valid";
                tally.record(&case, valid == expect_valid, &r);
            }
            (_, Some("DMARC_NON_SENDING_POLICY_ORG.match")) => {
                // A non-sending organisational domain rejects for itself and subdomains.
                let r = parse(arg.as_str().unwrap_or_default());
                let reject = r.as_ref().is_ok_and(|d| {
                    d.effective_p() == Policy::Reject && d.effective_sp() == Policy::Reject
                });
                tally.record(&case, reject == (v["expected"] == "match"), &r);
            }
            other => panic!("{case}: unhandled vector kind {other:?}"),
        }
    }
}

fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::None => "Policy::None",
        Policy::Quarantine => "Policy::Quarantine",
        Policy::Reject => "Policy::Reject",
    }
}

fn mail_auth(dir: &std::path::Path, tally: &mut common::Tally) {
    let file = "mail-auth/parse_dmarc.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in vectors(&doc).iter().enumerate() {
        let case = format!("{file}#{i}");
        let input = v[0].as_str().unwrap_or_default();
        let e = &v[1];
        let r = parse(input);
        let agree = r.as_ref().is_ok_and(|d| {
            let fo = match d.fo.as_deref() {
                None | Some([dmarc::FailureOption::All]) => "Report::All",
                Some([dmarc::FailureOption::Any]) => "Report::Any",
                Some([dmarc::FailureOption::Dkim]) => "Report::Dkim",
                Some([dmarc::FailureOption::Spf]) => "Report::Spf",
                Some(
                    [dmarc::FailureOption::Dkim, dmarc::FailureOption::Spf]
                    | [dmarc::FailureOption::Spf, dmarc::FailureOption::Dkim],
                ) => "Report::DkimSpf",
                Some(_) => "other",
            };
            let align = |a: Option<dmarc::Alignment>| match a {
                Some(dmarc::Alignment::Strict) => "Alignment::Strict",
                _ => "Alignment::Relaxed",
            };
            let psd = match d.psd {
                None => "Psd::Default",
                Some(Psd::Yes) => "Psd::Yes",
                Some(Psd::No) => "Psd::No",
                Some(Psd::Unspecified) => "Psd::Unspecified",
            };
            let uris = |l: &[dmarc::ReportUri]| -> Value {
                l.iter()
                    .map(|u| {
                        serde_json::json!({"$call": "URI::new",
                        "args": [u.address.clone().unwrap_or_default(), u.size_limit.unwrap_or(0)]})
                    })
                    .collect()
            };
            e["p"] == policy_name(d.effective_p())
                && e["sp"] == policy_name(d.effective_sp())
                && e["np"] == policy_name(d.effective_np())
                && e["adkim"] == align(d.adkim)
                && e["aspf"] == align(d.aspf)
                && e["fo"] == fo
                && e["psd"] == psd
                && e["t"] == d.is_testing()
                && e["rua"] == uris(&d.rua)
                && e["ruf"] == uris(&d.ruf)
        });
        tally.record(&case, agree, &r);
    }
}

#[test]
fn dmarc_record_vectors() {
    let Some(dir) = common::corpus("dmarc-record") else {
        return;
    };
    common::assert_inventory(&dir, HANDLED, &[]);
    let mut tally = common::Tally::new("dmarc-record", DISAGREE);
    checkdmarc(&dir, &mut tally);
    internet_nl(&dir, &mut tally);
    mail_auth(&dir, &mut tally);
    tally.finish();
}
