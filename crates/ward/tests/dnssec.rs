//! DNSSEC and DANE through the real binary against the real lab: zones signed when the lab
//! starts, under the lab's own parent zone (`test.`), whose DS record is passed to ward as
//! `--trust-anchor`. Each of `dnssec.signed`, `dnssec.valid`, `dnssec.algorithms` and
//! `mx.dane` is shown in pass, fail and error, and the broken chains name their link.

mod common;
use common::*;
use ward_lab::signing::{Fault, Signed};
use ward_lab::{DnsBehaviour, Lab};

const HOSTS: &str = r#"
[[smtp]]
name = "mx.good.test"
ip = "127.0.81.1"
starttls = true
cert = { status = "valid" }
dane = "match"

[[smtp]]
name = "mx.badmx.test"
ip = "127.0.81.2"
starttls = true
cert = { status = "valid" }
dane = "mismatch"

[[smtp]]
name = "mx.plain.test"
ip = "127.0.81.3"
starttls = true
cert = { status = "valid" }
dane = "match"

[[smtp]]
name = "mx.nocert.test"
ip = "127.0.81.4"
starttls = false
"#;

fn spec(zone: &str, algorithm: u8, ds_digest: u8, fault: Option<Fault>) -> Signed {
    Signed {
        zone: zone.into(),
        algorithm,
        ds_digest,
        fault,
        stale_key: None,
        extra_keys: 0,
    }
}

fn lab_fixture() -> ward_lab::Fixture {
    let mut zones = vec![zone("test", &[("ns.test", "127.0.80.1")], "")];
    let names = [
        "good.test",
        "badmx.test",
        "plain.test",
        "nocert.test",
        "mismatch.test",
        "expired.test",
        "gone.test",
        "island.test",
        "sha1.test",
        "legacy.test",
        "silent.test",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut extra = format!("@ IN MX 10 mx.{name}.\n");
        // The first four have mail servers (see HOSTS).
        if i < 4 {
            extra.push_str(&format!("mx IN A 127.0.81.{}\n", i + 1));
        }
        if *name == "nocert.test" {
            // A TLSA record, signed, for a server that never offers STARTTLS.
            extra.push_str(&format!("_25._tcp.mx IN TLSA 3 1 1 {}\n", "ab".repeat(32)));
        }
        zones.push(zone(
            name,
            &[(&format!("ns.{name}"), &format!("127.0.80.{}", i + 2))],
            &extra,
        ));
    }
    let mut f = fixture(
        zones,
        DnsBehaviour {
            lossy: Vec::new(),
            silent: vec!["silent.test".into()],
            signed: vec![
                Signed::new("test"),
                Signed::new("good.test"),
                Signed::new("badmx.test"),
                Signed::new("nocert.test"),
                spec("mismatch.test", 13, 2, Some(Fault::DsMismatch)),
                spec("expired.test", 13, 2, Some(Fault::Expired)),
                spec("gone.test", 13, 2, Some(Fault::NoDnskey)),
                spec("island.test", 15, 2, Some(Fault::NoDs)),
                spec("sha1.test", 5, 1, None),
                Signed {
                    stale_key: Some(12),
                    ..Signed::new("legacy.test")
                },
                Signed::new("silent.test"),
            ],
            ..Default::default()
        },
    );
    f.hosts_toml = Some(HOSTS.into());
    f
}

fn scan(lab: &Lab, dir: &std::path::Path, domains: &[&str]) -> serde_json::Value {
    let anchor = dir.join("anchor.txt");
    std::fs::write(&anchor, lab.trust_anchor().expect("the lab has an anchor")).unwrap();
    let mut cmd = ward(dir);
    cmd.arg("scan")
        .args(lab_args(lab))
        .args([
            "--dns-timeout",
            "0.3",
            "--dns-attempts",
            "1",
            "--format",
            "json",
        ])
        .arg("--trust-anchor")
        .arg(&anchor)
        .args(domains);
    json(&run(&mut cmd, 0))
}

fn summary(doc: &serde_json::Value, domain: &str, check: &str) -> String {
    doc["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["domain"] == domain))
        .and_then(|a| a["findings"].as_array())
        .and_then(|f| f.iter().find(|f| f["check"] == check))
        .and_then(|f| f["summary"].as_str())
        .unwrap_or_default()
        .to_owned()
}

const EXPECT: &[(&str, &str, &str)] = &[
    ("good.test", "dnssec.signed", "pass"),
    ("good.test", "dnssec.valid", "pass"),
    ("good.test", "dnssec.algorithms", "pass"),
    ("good.test", "mx.dane", "pass"),
    ("badmx.test", "dnssec.valid", "pass"),
    ("badmx.test", "mx.dane", "fail"),
    // TLSA published in a zone that is not signed: not usable.
    ("plain.test", "dnssec.signed", "warn"),
    ("plain.test", "dnssec.valid", "info"),
    ("plain.test", "dnssec.algorithms", "info"),
    ("plain.test", "mx.dane", "warn"),
    // Signed TLSA, but no certificate to check it against.
    ("nocert.test", "mx.dane", "error"),
    ("mismatch.test", "dnssec.signed", "pass"),
    ("mismatch.test", "dnssec.valid", "fail"),
    ("mismatch.test", "mx.dane", "fail"),
    ("expired.test", "dnssec.valid", "fail"),
    ("gone.test", "dnssec.signed", "fail"),
    ("gone.test", "dnssec.valid", "fail"),
    ("island.test", "dnssec.signed", "warn"),
    ("island.test", "dnssec.algorithms", "pass"),
    ("sha1.test", "dnssec.valid", "pass"),
    ("sha1.test", "dnssec.algorithms", "warn"),
    ("legacy.test", "dnssec.valid", "pass"),
    ("legacy.test", "dnssec.algorithms", "fail"),
    ("silent.test", "dnssec.signed", "error"),
    ("silent.test", "dnssec.valid", "error"),
    ("silent.test", "dnssec.algorithms", "error"),
    ("silent.test", "mx.dane", "error"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dnssec_check_in_three_states() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut domains: Vec<&str> = EXPECT.iter().map(|(d, ..)| *d).collect();
    domains.dedup();
    let doc = tokio::task::block_in_place(|| scan(&lab, dir.path(), &domains));
    let mut wrong = Vec::new();
    for (domain, check, want) in EXPECT {
        let got = status_of(&doc, domain, check);
        if got != *want {
            wrong.push(format!(
                "{domain} {check}: want {want}, got {got} ({})",
                summary(&doc, domain, check)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for check in ward_checks::dnssec::CHECKS {
        for state in ["pass", "fail", "error"] {
            assert!(
                EXPECT
                    .iter()
                    .any(|(_, c, s)| *c == check.as_str() && *s == state),
                "{check} has no {state} case"
            );
        }
    }
    // The broken links are named, with their evidence.
    let s = summary(&doc, "mismatch.test", "dnssec.valid");
    assert!(
        s.contains("DS record at the parent matches no DNSKEY"),
        "{s}"
    );
    let s = summary(&doc, "expired.test", "dnssec.valid");
    assert!(s.contains("has expired") && s.contains("expired at"), "{s}");
    let s = summary(&doc, "gone.test", "dnssec.valid");
    assert!(s.contains("serves no DNSKEY"), "{s}");
    let s = summary(&doc, "silent.test", "dnssec.valid");
    assert!(s.contains("timed out"), "{s}");
    let s = summary(&doc, "legacy.test", "dnssec.algorithms");
    assert!(s.contains("algorithm 12"), "{s}");
    let s = summary(&doc, "sha1.test", "dnssec.algorithms");
    assert!(
        s.contains("algorithm 5") && s.contains("digest type 1"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lab_anchor_ward_cannot_tell() {
    // Scanning the lab with the root's keys: the lab has no root zone, so nothing can be
    // validated. That is "could not tell", never "bogus" or "unsigned".
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let doc = tokio::task::block_in_place(|| {
        let mut cmd = ward(dir.path());
        cmd.arg("scan")
            .args(lab_args(&lab))
            .args([
                "--dns-timeout",
                "0.3",
                "--dns-attempts",
                "1",
                "--format",
                "json",
            ])
            .arg("good.test");
        json(&run(&mut cmd, 0))
    });
    for check in [
        "dnssec.signed",
        "dnssec.valid",
        "dnssec.algorithms",
        "mx.dane",
    ] {
        assert_eq!(status_of(&doc, "good.test", check), "error", "{check}");
    }
    let s = summary(&doc, "good.test", "dnssec.valid");
    assert!(s.contains("--trust-anchor"), "{s}");
}

#[test]
fn a_bad_trust_anchor_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("anchor.txt"), "this is not a record\n").unwrap();
    let out = run(
        ward(dir.path()).args([
            "scan",
            "--resolver",
            "127.0.0.1:9",
            "--trust-anchor",
            "anchor.txt",
            "example.org",
        ]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--trust-anchor anchor.txt"), "{err}");
}
