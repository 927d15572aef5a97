//! The mail checks (DMARC, DKIM, MX, MTA-STS, TLS-RPT, BIMI, parked lockdown, bulk-sender
//! readiness) through the real binary against the real lab: every check is seen to pass,
//! to fail and to say "could not tell" (`error`), and the table below is checked to cover
//! all three for every check, so dropping a case makes this test fail.

mod common;
use common::*;
use std::collections::BTreeSet;
use ward_lab::{DnsBehaviour, Lab};

const RSA_2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzdZMYiMI16qUwo47bXFuSDmvlZw7q6N2piQ9ir74uftrzMVcmGpHpdCfjtyamJ+K4rXLauuKERoiWLMVWOYuYlcEtoV99gc+NYEzxLK5zakTUdNcsZqwUEibN8y3FHrr/Rdg1gri6BfUkxvCGxVUN86QQ2lK3QilyS9JdGRuS5mTG+o8VmGVypmX3vQl3H6sh6NF8ssMTNolTgZ8jAYmF/FAYxZkcTD5/cOmx4NJNUtjg1rvgvoko5XkhroxWO3oQh7tgWFJY6xxzQGGzjIWGxKnwUL5EcsVo5BdA/68iNhaL+C1aRYfUL3CLlLCNuEPY+r4dN1KFum0Ysh7Y6LBZQIDAQAB";
const RSA_512: &str = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALvXBsTt4HLE9f88HJVA4C4/7w+zIii5NqODSZU1h6RfVH4E0axFLU+1WyEGUUrMCY7FSywKdTwUDr8dn2G+8/MCAwEAAQ==";

/// Splits a TXT value into 255-byte character-strings.
fn txt(owner: &str, text: &str) -> String {
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!("{owner} IN TXT {}\n", parts.join(" "))
}

fn sts(mode: &str, mx: &str) -> String {
    format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 1209600\r\n")
}

/// Each test domain has its own two nameservers on 127.0.61.x.
fn z(origin: &str, n: u8, body: String) -> ward_lab::fixture::ZoneSource {
    let ns1 = format!("ns1.{origin}");
    let ns2 = format!("ns2.{origin}");
    let a1 = format!("127.0.61.{}", 2 * n);
    let a2 = format!("127.0.61.{}", 2 * n + 1);
    zone(origin, &[(&ns1, &a1), (&ns2, &a2)], &body)
}

fn lab_fixture() -> ward_lab::Fixture {
    let spf = "@ IN TXT \"v=spf1 mx -all\"\n";
    let zones = vec![
        // Everything right.
        z(
            "good.test",
            1,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\nmx IN A 127.0.62.1\nmta-sts IN A 127.0.62.10\n\
                 sub IN MX 10 mx.good.test.\n{}{}{}{}{}",
                txt(
                    "_dmarc",
                    "v=DMARC1; p=reject; rua=mailto:d@good.test,mailto:agg@reports.test"
                ),
                txt(
                    "selector1._domainkey",
                    &format!("v=DKIM1; k=rsa; p={RSA_2048}")
                ),
                txt("_mta-sts", "v=STSv1; id=20261126"),
                txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tls@good.test"),
                txt("default._bimi", "v=BIMI1; l=https://good.test/logo.svg"),
            ),
        ),
        // A report processor that authorises good.test, and nobody else.
        z(
            "reports.test",
            2,
            txt("good.test._report._dmarc", "v=DMARC1"),
        ),
        // Monitoring only; reports to a processor that did not agree; revoked DKIM key; no
        // MX; TLS-RPT without rua; BIMI without enforcement; MTA-STS host with an expired
        // certificate.
        z(
            "bad.test",
            3,
            format!(
                "@ IN TXT \"v=spf1 -all\"\nmta-sts IN A 127.0.62.11\n{}{}{}{}{}",
                txt(
                    "_dmarc",
                    "v=DMARC1; p=none; sp=none; rua=mailto:agg@reports.test"
                ),
                txt("default._domainkey", "v=DKIM1; p="),
                txt("_smtp._tls", "v=TLSRPTv1;"),
                txt("default._bimi", "v=BIMI1; l=https://bad.test/logo.svg"),
                txt("_mta-sts", "v=STSv1; id=1"),
            ),
        ),
        // Reject with sp=none (and a subdomain that inherits it); a broken MTA-STS id.
        z(
            "subs.test",
            4,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\nchild IN MX 10 mx.good.test.\n{}{}",
                txt(
                    "_dmarc",
                    "v=DMARC1; p=reject; sp=none; rua=mailto:d@subs.test"
                ),
                txt("_mta-sts", "v=STSv1; id=not valid"),
            ),
        ),
        // Quarantine; a 512-bit key and a broken key record; MTA-STS in testing mode.
        z(
            "weak.test",
            5,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\nmta-sts IN A 127.0.62.12\n{}{}{}{}",
                txt("_dmarc", "v=DMARC1; p=quarantine; rua=mailto:d@weak.test"),
                txt("k1._domainkey", &format!("v=DKIM1; p={RSA_512}")),
                txt("selector1._domainkey", "v=DKIM1; k=rsa; p=not*base64"),
                txt("_mta-sts", "v=STSv1; id=7"),
            ),
        ),
        // No DMARC at all.
        z(
            "nodmarc.test",
            6,
            format!("{spf}@ IN MX 10 mx.good.test.\n"),
        ),
        // A typo in the policy.
        z(
            "typo.test",
            7,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\n{}",
                txt("_dmarc", "v=DMARC1; p=rejectt")
            ),
        ),
        // Parked and locked down / parked and open.
        z(
            "parked-ok.test",
            8,
            format!(
                "@ IN TXT \"v=spf1 -all\"\n@ IN MX 0 .\n{}",
                txt("_dmarc", "v=DMARC1; p=reject")
            ),
        ),
        z(
            "parked-open.test",
            9,
            "@ IN TXT \"v=spf1 -all\"\n@ IN MX 10 mx.good.test.\n".to_owned(),
        ),
        // The inventory names a selector that has no key.
        z(
            "named.test",
            10,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\n{}",
                txt("_dmarc", "v=DMARC1; p=reject; rua=mailto:d@named.test")
            ),
        ),
        // Every mail name below the domain sits in a zone that never answers.
        z(
            "flaky.test",
            11,
            format!("{spf}@ IN MX 10 mx.good.test.\nchild IN MX 10 mx.good.test.\n"),
        ),
        z("_dmarc.flaky.test", 12, String::new()),
        z("_domainkey.flaky.test", 13, String::new()),
        z("_mta-sts.flaky.test", 14, String::new()),
        z("_smtp._tls.flaky.test", 15, String::new()),
        z("_bimi.flaky.test", 16, String::new()),
        // Reports to a processor whose DNS never answers; MTA-STS host that is offline.
        z(
            "offline.test",
            17,
            format!(
                "{spf}@ IN MX 10 mx.good.test.\nmta-sts IN A 127.0.62.200\n{}{}",
                txt("_dmarc", "v=DMARC1; p=reject; rua=mailto:a@silentrep.test"),
                txt("_mta-sts", "v=STSv1; id=3"),
            ),
        ),
        z("silentrep.test", 18, String::new()),
        // The whole domain is silent.
        z("silent.test", 19, String::new()),
        // Parked, with a DMARC zone that never answers.
        z(
            "parked-flaky.test",
            20,
            "@ IN TXT \"v=spf1 -all\"\n@ IN MX 0 .\n".to_owned(),
        ),
        z("_dmarc.parked-flaky.test", 21, String::new()),
    ];
    let silent = [
        "_dmarc.flaky.test",
        "_domainkey.flaky.test",
        "_mta-sts.flaky.test",
        "_smtp._tls.flaky.test",
        "_bimi.flaky.test",
        "silentrep.test",
        "silent.test",
        "_dmarc.parked-flaky.test",
    ];
    let mut f = fixture(
        zones,
        DnsBehaviour {
            silent: silent.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        },
    );
    f.hosts_toml = Some(format!(
        r#"[[web]]
names = ["mta-sts.good.test"]
ip = "127.0.62.10"
cert = {{ status = "valid" }}
[web.files]
"/.well-known/mta-sts.txt" = {good:?}

[[web]]
names = ["mta-sts.bad.test"]
ip = "127.0.62.11"
cert = {{ status = "expired" }}
[web.files]
"/.well-known/mta-sts.txt" = {good:?}

[[web]]
names = ["mta-sts.weak.test"]
ip = "127.0.62.12"
cert = {{ status = "valid" }}
[web.files]
"/.well-known/mta-sts.txt" = {testing:?}
"#,
        good = sts("enforce", "mx.good.test"),
        testing = sts("testing", "*.good.test"),
    ));
    f
}

const INVENTORY: &str = r#"
[[organisation]]
id = "hq"
name = "HQ"
kind = "party"
size = "medium"

[[organisation.domain]]
name = "good.test"
roles = ["mail"]

[[organisation.domain]]
name = "sub.good.test"
roles = ["mail"]

[[organisation]]
id = "branches"
name = "Branches"
kind = "branch"
size = "small"
parent = "hq"

[[organisation.domain]]
name = "bad.test"
roles = ["mail"]

[[organisation.domain]]
name = "subs.test"
roles = ["mail"]

[[organisation.domain]]
name = "child.subs.test"
roles = ["mail"]

[[organisation.domain]]
name = "weak.test"
roles = ["mail"]

[[organisation.domain]]
name = "nodmarc.test"
roles = ["mail"]

[[organisation.domain]]
name = "typo.test"
roles = ["mail"]

[[organisation.domain]]
name = "named.test"
roles = ["mail"]
dkim_selectors = ["custom"]

[[organisation.domain]]
name = "flaky.test"
roles = ["mail"]

[[organisation.domain]]
name = "child.flaky.test"
roles = ["mail"]

[[organisation.domain]]
name = "offline.test"
roles = ["mail"]

[[organisation.domain]]
name = "silent.test"
roles = ["mail"]

[[organisation.domain]]
name = "parked-ok.test"
roles = ["parked"]

[[organisation.domain]]
name = "parked-open.test"
roles = ["parked"]

[[organisation.domain]]
name = "parked-flaky.test"
roles = ["parked"]
"#;

/// (domain, check, status) that must hold.
const EXPECT: &[(&str, &str, &str)] = &[
    // dmarc.present
    ("good.test", "dmarc.present", "pass"),
    ("nodmarc.test", "dmarc.present", "fail"),
    ("flaky.test", "dmarc.present", "error"),
    ("sub.good.test", "dmarc.present", "info"),
    ("child.subs.test", "dmarc.present", "info"), // inherits sp=none: monitoring only, not missing
    // dmarc.syntax
    ("good.test", "dmarc.syntax", "pass"),
    ("typo.test", "dmarc.syntax", "fail"),
    ("flaky.test", "dmarc.syntax", "error"),
    // dmarc.policy
    ("good.test", "dmarc.policy", "pass"),
    ("weak.test", "dmarc.policy", "warn"),
    ("bad.test", "dmarc.policy", "fail"),
    ("flaky.test", "dmarc.policy", "error"),
    // dmarc.subdomains
    ("good.test", "dmarc.subdomains", "pass"),
    ("subs.test", "dmarc.subdomains", "fail"),
    ("bad.test", "dmarc.subdomains", "pass"),
    ("flaky.test", "dmarc.subdomains", "error"),
    // dmarc.reporting
    ("good.test", "dmarc.reporting", "pass"),
    ("bad.test", "dmarc.reporting", "fail"),
    ("offline.test", "dmarc.reporting", "error"),
    // dmarc.inherited
    ("sub.good.test", "dmarc.inherited", "pass"),
    ("child.subs.test", "dmarc.inherited", "fail"),
    ("child.flaky.test", "dmarc.inherited", "error"),
    ("good.test", "dmarc.inherited", "info"),
    // dkim.present
    ("good.test", "dkim.present", "pass"),
    ("bad.test", "dkim.present", "fail"),
    ("named.test", "dkim.present", "fail"),
    ("nodmarc.test", "dkim.present", "info"),
    ("flaky.test", "dkim.present", "error"),
    // dkim.strength
    ("good.test", "dkim.strength", "pass"),
    ("weak.test", "dkim.strength", "fail"),
    ("bad.test", "dkim.strength", "fail"),
    ("silent.test", "dkim.strength", "error"),
    // dkim.syntax
    ("good.test", "dkim.syntax", "pass"),
    ("weak.test", "dkim.syntax", "fail"),
    ("silent.test", "dkim.syntax", "error"),
    // mx.present
    ("good.test", "mx.present", "pass"),
    ("bad.test", "mx.present", "fail"),
    ("silent.test", "mx.present", "error"),
    ("parked-ok.test", "mx.present", "pass"),
    ("parked-open.test", "mx.present", "warn"),
    // mta_sts.record
    ("good.test", "mta_sts.record", "pass"),
    ("subs.test", "mta_sts.record", "fail"),
    ("nodmarc.test", "mta_sts.record", "warn"),
    ("flaky.test", "mta_sts.record", "error"),
    // mta_sts.policy
    ("good.test", "mta_sts.policy", "pass"),
    ("bad.test", "mta_sts.policy", "fail"),
    ("weak.test", "mta_sts.policy", "warn"),
    ("offline.test", "mta_sts.policy", "error"),
    // tls_rpt.record
    ("good.test", "tls_rpt.record", "pass"),
    ("bad.test", "tls_rpt.record", "fail"),
    ("weak.test", "tls_rpt.record", "warn"),
    ("flaky.test", "tls_rpt.record", "error"),
    // bimi.record
    ("good.test", "bimi.record", "pass"),
    ("bad.test", "bimi.record", "fail"),
    ("weak.test", "bimi.record", "info"),
    ("flaky.test", "bimi.record", "error"),
    // parked.lockdown
    ("parked-ok.test", "parked.lockdown", "pass"),
    ("parked-open.test", "parked.lockdown", "fail"),
    ("parked-flaky.test", "parked.lockdown", "error"),
    // mail.bulk_sender
    ("good.test", "mail.bulk_sender", "pass"),
    ("nodmarc.test", "mail.bulk_sender", "fail"),
    ("named.test", "mail.bulk_sender", "fail"),
    ("bad.test", "mail.bulk_sender", "warn"),
    ("flaky.test", "mail.bulk_sender", "error"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mail_check_passes_fails_and_could_not_tell() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv.toml"), INVENTORY).unwrap();
    std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan").args(lab_args(&lab)).args([
        "--lab-ca",
        "ca.pem",
        "--dns-timeout",
        "0.3",
        "--dns-attempts",
        "2",
        "--inventory",
        "inv.toml",
        "--format",
        "json",
    ]);
    let doc = tokio::task::block_in_place(|| json(&run(&mut cmd, 0)));
    let mut wrong = Vec::new();
    for (domain, check, want) in EXPECT {
        let got = status_of(&doc, domain, check);
        if got != *want {
            wrong.push(format!("{domain} {check}: want {want}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Coverage: every mail check is seen in all three states.
    let mail: Vec<&str> = ward_checks::mail::CHECKS
        .iter()
        .map(|c| c.as_str())
        .collect();
    for check in &mail {
        let seen: BTreeSet<&str> = EXPECT
            .iter()
            .filter(|(_, c, _)| c == check)
            .map(|(_, _, s)| *s)
            .collect();
        for state in ["pass", "fail", "error"] {
            assert!(
                seen.contains(state),
                "{check} has no {state} case: {seen:?}"
            );
        }
    }
    // Those ids are in the catalogue, in order after spf.
    let ids: Vec<&str> = ward_checks::judged_checks()
        .iter()
        .map(|c| c.as_str())
        .collect();
    let at = ids.iter().position(|c| *c == "spf.loops").unwrap();
    assert_eq!(ids[at + 1..at + 1 + mail.len()], mail[..]);
}

/// The exact evidence a reader sees for the three MTA-STS policy failures that come from
/// the HTTPS fetch: an expired certificate is the server's fault (fail), a refused
/// connection is "could not tell" (error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mta_sts_policy_fetch_keeps_certificate_and_network_failures_apart() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan").args(lab_args(&lab)).args([
        "--lab-ca",
        "ca.pem",
        "--format",
        "json",
        "good.test",
        "bad.test",
        "offline.test",
    ]);
    let doc = tokio::task::block_in_place(|| json(&run(&mut cmd, 0)));
    let finding = |domain: &str| {
        doc["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["domain"] == domain)
            .unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "mta_sts.policy")
            .unwrap()
            .clone()
    };
    let good = finding("good.test");
    assert_eq!(good["status"], "pass");
    assert_eq!(good["evidence"]["policy"]["max_age"], 1209600);
    assert_eq!(
        good["evidence"]["url"],
        "https://mta-sts.good.test/.well-known/mta-sts.txt"
    );
    let bad = finding("bad.test");
    assert_eq!(bad["status"], "fail");
    assert_eq!(bad["evidence"]["fetch"]["outcome"]["state"], "tls");
    assert_eq!(bad["evidence"]["fetch"]["outcome"]["certificate"], true);
    let offline = finding("offline.test");
    assert_eq!(offline["status"], "error");
    assert_eq!(offline["evidence"]["fetch"]["outcome"]["state"], "network");
    assert_eq!(
        offline["evidence"]["fetch"]["outcome"]["failure"]["kind"],
        "refused"
    );
}

/// DKIM selectors seen in DMARC aggregate reports are asked about besides the built-in
/// list (issue 5): a key at a selector that no list holds is found once a stored report
/// shows mail verified with it, and not before. A selector seen only in failing
/// signatures (anyone can forge one) is not asked about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dkim_selector_named_by_a_report_is_found() {
    let zones = vec![z(
        "rep.test",
        40,
        format!(
            "@ IN TXT \"v=spf1 mx -all\"\n@ IN MX 10 mx.rep.test.\nmx IN A 127.0.62.40\n{}{}",
            txt("_dmarc", "v=DMARC1; p=none; rua=mailto:d@rep.test"),
            txt(
                "corp2026._domainkey",
                &format!("v=DKIM1; k=rsa; p={RSA_2048}")
            ),
        ),
    )];
    let lab = Lab::start(&fixture(zones, DnsBehaviour::default()))
        .await
        .unwrap();
    assert!(
        !ward_checks::mail::BUILTIN_SELECTORS.contains(&"corp2026"),
        "the selector must be one no built-in list holds"
    );
    let dir = tempfile::tempdir().unwrap();
    let scan = |dir: &std::path::Path| {
        let mut cmd = ward(dir);
        cmd.arg("scan").args(lab_args(&lab)).args([
            "--dns-timeout",
            "0.3",
            "--db",
            "r.db",
            "--format",
            "json",
            "rep.test",
        ]);
        tokio::task::block_in_place(|| json(&run(&mut cmd, 0)))
    };
    let dkim = |doc: &serde_json::Value| {
        doc["assets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "dkim.present")
            .unwrap()
            .clone()
    };

    // No reports yet: no key at any built-in selector.
    let before = dkim(&scan(dir.path()));
    assert_eq!(before["status"], "info", "{before}");
    assert!(before["evidence"]["found"].as_array().unwrap().is_empty());

    // A week-old report: mail from rep.test verified with corp2026; a forger's signature
    // with selector "forged" failed.
    let end = time::OffsetDateTime::now_utc().unix_timestamp() - 86_400;
    let record = |ip: &str, result: &str, sel: &str| {
        format!(
            "<record><row><source_ip>{ip}</source_ip><count>40</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{result}</dkim><spf>fail</spf>\
             </policy_evaluated></row><identifiers><header_from>rep.test</header_from>\
             </identifiers><auth_results><dkim><domain>rep.test</domain>\
             <selector>{sel}</selector><result>{result}</result></dkim><spf>\
             <domain>rep.test</domain><result>fail</result></spf></auth_results></record>"
        )
    };
    let xml = format!(
        "<feedback><report_metadata><org_name>rx.example</org_name>\
         <report_id>sel-1</report_id><date_range><begin>{}</begin><end>{end}</end>\
         </date_range></report_metadata><policy_published><domain>rep.test</domain>\
         <p>none</p></policy_published>{}{}</feedback>",
        end - 86_400,
        record("192.0.2.7", "pass", "corp2026"),
        record("203.0.113.9", "fail", "forged"),
    );
    std::fs::write(dir.path().join("report.xml"), xml).unwrap();
    let mut ingest = ward(dir.path());
    ingest.args(["reports", "ingest", "--db", "r.db", "report.xml"]);
    tokio::task::block_in_place(|| run(&mut ingest, 0));

    let after = dkim(&scan(dir.path()));
    assert_eq!(after["status"], "pass", "{after}");
    assert_eq!(
        after["summary"],
        "rep.test publishes DKIM keys at selector(s) corp2026 (corp2026 known from the domain's DMARC reports)"
    );
    let found = &after["evidence"]["found"];
    assert_eq!(found[0]["selector"], "corp2026");
    assert_eq!(found[0]["from"], serde_json::json!(["reports"]));
    // `tried` groups the selectors by state and origin.
    let tried = after["evidence"]["tried"].as_array().unwrap();
    let group_of = |sel: &str| {
        tried
            .iter()
            .find(|g| g["selectors"].as_array().unwrap().iter().any(|s| s == sel))
    };
    let corp = group_of("corp2026").unwrap();
    assert_eq!(corp["from"], serde_json::json!(["reports"]));
    assert_eq!(corp["state"], "present");
    let builtin = group_of("selector1").unwrap();
    assert_eq!(builtin["from"], serde_json::json!(["built-in"]));
    assert!(
        group_of("forged").is_none(),
        "a selector seen only failing was asked about: {tried:?}"
    );
}
