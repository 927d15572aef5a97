//! The three states through the real binary against the real lab: a nameserver that
//! never answers is "could not tell" (`error`), never `fail`; and the private-address
//! guard refuses before sending anything.

mod common;
use common::*;
use ward_lab::{DnsBehaviour, Lab};

/// RFC 8463's example Ed25519 public key.
const ED25519: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

fn lab_fixture() -> ward_lab::Fixture {
    let mut f = fixture(
        vec![
            zone(
                "silent.test",
                &[
                    ("ns1.silent.test", "127.0.60.1"),
                    ("ns2.silent.test", "127.0.60.2"),
                ],
                "",
            ),
            zone(
                "healthy.test",
                &[
                    ("ns1.healthy.test", "127.0.60.3"),
                    ("ns2.healthy.test", "127.0.60.4"),
                ],
                &format!(
                    "@ IN CAA 0 issue \"ca.example\"\n@ IN TXT \"v=spf1 -all\"\n\
                     @ IN MX 10 mx.healthy.test.\nmx IN A 127.0.60.10\n@ IN A 127.0.60.11\n\
                     _dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@healthy.test\"\n\
                     _smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:t@healthy.test\"\n\
                     selector1._domainkey IN TXT \"v=DKIM1; k=ed25519; p={ED25519}\"\n"
                ),
            ),
            zone(
                "deadns.test",
                &[
                    ("ns1.deadns.test", "127.0.60.5"),
                    ("ns2.deadns.test", "127.0.60.6"),
                ],
                "",
            ),
            zone(
                "lame.test",
                &[
                    ("ns1.lame.test", "127.0.60.7"),
                    ("ns2.lame.test", "127.0.60.8"),
                ],
                "",
            ),
            zone(
                "guarded.test",
                &[
                    ("ns1.guarded.test", "127.0.60.9"),
                    ("ns2.guarded.test", "10.255.0.1"),
                ],
                "",
            ),
        ],
        DnsBehaviour {
            lossy: Vec::new(),
            silent: vec!["silent.test".into()],
            offline: vec!["127.0.60.6".parse().unwrap()],
            lame: vec![ward_lab::fixture::Lame {
                zone: "lame.test".into(),
                nameserver: "ns2.lame.test".into(),
            }],
            // The healthy domain is DNSSEC-signed too; with no signed lab zone above it,
            // its own key is the trust anchor.
            signed: vec![ward_lab::signing::Signed::new("healthy.test")],
            ..Default::default()
        },
    );
    // healthy.test's mail and web servers, so the transport checks can pass too.
    f.hosts_toml = Some(
        "[[web]]\nnames = [\"healthy.test\"]\nip = \"127.0.60.11\"\n\
         cert = { status = \"valid\", key = \"ecdsa-p256\" }\nhttp = \"redirect-https\"\n\n\
         [[smtp]]\nname = \"mx.healthy.test\"\nip = \"127.0.60.10\"\nstarttls = true\n\
         cert = { status = \"valid\", key = \"ecdsa-p256\" }\ndane = \"match\"\n"
            .into(),
    );
    f
}

fn scan(lab: &Lab, domains: &[&str], extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
    std::fs::write(dir.path().join("anchor.txt"), lab.trust_anchor().unwrap()).unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan")
        .args(lab_args(lab))
        .args(["--lab-ca", "ca.pem", "--trust-anchor", "anchor.txt"])
        .args([
            "--dns-timeout",
            "0.3",
            "--dns-attempts",
            "2",
            "--format",
            "json",
        ]);
    cmd.args(extra).args(domains);
    json(&run(&mut cmd, 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_nameservers_give_error_never_fail() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let doc = tokio::task::block_in_place(|| scan(&lab, &["silent.test", "healthy.test"], &[]));
    let silent = statuses(&doc, "silent.test");
    assert!(silent.len() >= 4, "DNS and SPF checks all ran: {silent:?}");
    for (check, status) in &silent {
        assert_eq!(
            status, "error",
            "{check} on a silent domain must be could-not-tell"
        );
    }
    // The same scan judges a healthy domain normally, so the errors above are not a
    // broken scanner.
    for (check, status) in statuses(&doc, "healthy.test") {
        // This fixture has no web hosts, so no MTA-STS policy can be served.
        if check == "mta_sts.record" {
            assert_eq!(status, "warn");
            continue;
        }
        // Its web host sends no security headers and no security.txt: the header checks
        // judge that (tests/web_checks.rs); here only HTTPS itself must work.
        if ward_checks::web::CHECKS
            .iter()
            .any(|k| k.as_str() == check.as_str())
            && check != "web.https"
        {
            continue;
        }
        assert!(
            status == "pass" || status == "info",
            "{check} on the healthy domain is {status}"
        );
    }
    let summary = doc["assets"][0]["findings"][0]["summary"].as_str().unwrap();
    assert!(summary.contains("timed out"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nameserver_that_never_answers_is_error_but_a_lame_one_fails() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let doc = tokio::task::block_in_place(|| scan(&lab, &["deadns.test", "lame.test"], &[]));
    assert_eq!(status_of(&doc, "deadns.test", "dns.ns"), "error");
    assert_eq!(status_of(&doc, "lame.test", "dns.ns"), "fail");
    assert_eq!(status_of(&doc, "deadns.test", "dns.resolves"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_refuses_private_nameserver_without_sending() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let doc = tokio::task::block_in_place(|| scan(&lab, &["guarded.test"], &[]));
    assert_eq!(status_of(&doc, "guarded.test", "dns.ns"), "error");
    let ns = &doc["assets"][0]["findings"][1]["evidence"]["nameservers"];
    let private = ns
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "ns2.guarded.test")
        .unwrap();
    assert_eq!(
        private["answers"][0]["outcome"]["failure"]["kind"], "blocked",
        "{private}"
    );
    assert_eq!(
        private["answers"][0]["outcome"]["failure"]["addr"],
        "10.255.0.1"
    );
    // The loopback nameserver of the same domain was asked (lab mode allows loopback),
    // which shows the counting below would see a query if one were sent.
    assert!(lab.queries_at("127.0.60.9".parse().unwrap()) > 0);
}
