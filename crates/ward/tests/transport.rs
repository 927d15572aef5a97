//! Transport security through the real binary against the real lab: HTTPS hosts with a
//! valid, an expired and a mis-named certificate; mail servers with STARTTLS, without
//! it, one that greylists, and two old ones whose TLS after STARTTLS is Debian's
//! `openssl s_server` (TLS 1.0-1.2, and TLS 1.0-1.1 with an anonymous suite). Each check shows pass, fail and error where it can.

mod common;
use common::*;
use ward_lab::{DnsBehaviour, Lab};

const HOSTS: &str = r#"
[[web]]
names = ["good.test", "twin.test"]
ip = "127.0.70.1"
cert = { status = "valid" }

[[web]]
names = ["expired.test"]
ip = "127.0.70.2"
cert = { status = "expired", key = "rsa-2048" }

[[web]]
names = ["greylist.test"]
ip = "127.0.70.3"
cert = { status = "wrong-name" }

[[web]]
names = ["legacy.test"]
ip = "127.0.70.4"
cert = { status = "valid", key = "rsa-2048" }
tls = "openssl-legacy"

[[smtp]]
name = "mx.good.test"
ip = "127.0.71.1"
starttls = true
cert = { status = "valid" }

[[smtp]]
name = "mx.expired.test"
ip = "127.0.71.2"
starttls = false

[[smtp]]
name = "mx.greylist.test"
ip = "127.0.71.3"
behaviour = "greylist"

# An old mail server: after STARTTLS, Debian's openssl s_server with TLS 1.0-1.2 and
# RSA/CBC suites answers (through the lab's relay).
[[smtp]]
name = "mx.legacy.test"
ip = "127.0.71.4"
starttls = true
cert = { status = "valid", key = "rsa-2048" }
tls = "openssl-legacy"

# Older still: TLS 1.0 and 1.1 only.
[[smtp]]
name = "mx.ancient.test"
ip = "127.0.71.5"
starttls = true
cert = { status = "valid", key = "rsa-2048" }
tls = "openssl-ancient"
"#;

fn lab_fixture() -> ward_lab::Fixture {
    let z = |name: &str, n: u8| {
        zone(
            name,
            &[
                (&format!("ns1.{name}"), &format!("127.0.60.{}", 2 * n + 20)),
                (&format!("ns2.{name}"), &format!("127.0.60.{}", 2 * n + 21)),
            ],
            &format!("@ IN A 127.0.70.{n}\n@ IN MX 10 mx.{name}.\nmx IN A 127.0.71.{n}\n"),
        )
    };
    let mut f = fixture(
        vec![
            z("good.test", 1),
            z("expired.test", 2),
            z("greylist.test", 3),
            zone(
                "twin.test",
                &[
                    ("ns1.twin.test", "127.0.60.42"),
                    ("ns2.twin.test", "127.0.60.43"),
                ],
                "@ IN A 127.0.70.1\n",
            ),
            zone(
                "ancient.test",
                &[
                    ("ns1.ancient.test", "127.0.60.44"),
                    ("ns2.ancient.test", "127.0.60.45"),
                ],
                "@ IN MX 10 mx.ancient.test.\nmx IN A 127.0.71.5\n",
            ),
            zone(
                "legacy.test",
                &[
                    ("ns1.legacy.test", "127.0.60.40"),
                    ("ns2.legacy.test", "127.0.60.41"),
                ],
                "@ IN A 127.0.70.4\n@ IN MX 10 mx.legacy.test.\nmx IN A 127.0.71.4\n",
            ),
        ],
        DnsBehaviour::default(),
    );
    f.hosts_toml = Some(HOSTS.into());
    f
}

fn scan(lab: &Lab, domains: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan")
        .args(lab_args(lab))
        .args(["--lab-ca", "ca.pem", "--format", "json"])
        .args(domains);
    json(&run(&mut cmd, 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_checks_pass_fail_and_error_through_the_binary() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let doc = tokio::task::block_in_place(|| {
        scan(
            &lab,
            &[
                "good.test",
                "expired.test",
                "greylist.test",
                "legacy.test",
                "ancient.test",
                "twin.test",
            ],
        )
    });
    let tls = |domain: &str| -> Vec<(String, String)> {
        statuses(&doc, domain)
            .into_iter()
            .filter(|(c, _)| {
                ward_checks::tls::CHECKS
                    .iter()
                    .any(|k| k.as_str() == c.as_str())
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        tls("good.test"),
        pairs(&[
            ("web.tls_versions", "pass"),
            ("web.ciphers", "pass"),
            ("web.cert", "pass"),
            ("mx.starttls", "pass"),
            ("mx.tls_versions", "pass"),
            ("mx.ciphers", "pass"),
            ("mx.cert", "pass"),
        ])
    );
    // No STARTTLS: mx.starttls fails and nothing is said about TLS never reached.
    assert_eq!(
        tls("expired.test"),
        pairs(&[
            ("web.tls_versions", "pass"),
            ("web.ciphers", "pass"),
            ("web.cert", "fail"),
            ("mx.starttls", "fail"),
        ])
    );
    // Greylisting is could-not-tell, never "no STARTTLS".
    assert_eq!(
        tls("greylist.test"),
        pairs(&[
            ("web.tls_versions", "pass"),
            ("web.ciphers", "pass"),
            ("web.cert", "fail"),
            ("mx.starttls", "error"),
        ])
    );
    // Debian's openssl s_server with TLS 1.0-1.2 and RSA/CBC suites, on the web and
    // after STARTTLS on the mail server alike.
    assert_eq!(
        tls("legacy.test"),
        pairs(&[
            ("web.tls_versions", "fail"),
            ("web.ciphers", "warn"),
            ("web.cert", "pass"),
            ("mx.starttls", "pass"),
            ("mx.tls_versions", "warn"),
            ("mx.ciphers", "warn"),
            ("mx.cert", "pass"),
        ])
    );
    // A mail server stuck at TLS 1.1: for mail, old versions beside TLS 1.2 only warn
    // (opportunistic TLS beats plain text for old senders), nothing newer fails.
    assert_eq!(
        tls("ancient.test"),
        pairs(&[
            ("mx.starttls", "pass"),
            ("mx.tls_versions", "fail"),
            ("mx.ciphers", "fail"),
            ("mx.cert", "pass"),
        ])
    );
    let versions = |domain: &str, check: &str| -> Vec<String> {
        finding(&doc, domain, check)["evidence"]["endpoints"][0]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect()
    };
    // The mail server's versions are the s_server's, not the rustls server's.
    assert_eq!(
        versions("legacy.test", "mx.tls_versions"),
        versions("legacy.test", "web.tls_versions")
    );
    // good.test and twin.test share 127.0.70.1:443: versions and suites are enumerated
    // once (14 connections: 3 refusals, 5 for TLS 1.2, 5 for TLS 1.3, 1 handshake), and
    // the other name costs only its own certificate handshake.
    assert_eq!(
        tls("twin.test"),
        pairs(&[
            ("web.tls_versions", "pass"),
            ("web.ciphers", "pass"),
            ("web.cert", "pass"),
        ])
    );
    let connections = |domain: &str| -> u64 {
        finding(&doc, domain, "web.tls_versions")["evidence"]["endpoints"][0]["connections"]
            .as_u64()
            .unwrap()
    };
    let mut pair = [connections("good.test"), connections("twin.test")];
    pair.sort_unstable();
    assert_eq!(pair, [1, 14]);
    let summary = |domain: &str, check: &str| -> String {
        finding(&doc, domain, check)["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let why = summary("ancient.test", "mx.ciphers");
    assert!(why.contains("anonymous"), "{why}");
    let why = summary("ancient.test", "mx.tls_versions");
    assert!(why.contains("nothing newer than TLS 1.1"), "{why}");
    assert!(
        summary("expired.test", "web.cert").contains("expired on"),
        "{}",
        summary("expired.test", "web.cert")
    );
    assert!(
        summary("legacy.test", "web.tls_versions").contains("accepts TLS 1.0 and TLS 1.1"),
        "{}",
        summary("legacy.test", "web.tls_versions")
    );
    assert!(
        summary("greylist.test", "mx.starttls").contains("421"),
        "{}",
        summary("greylist.test", "mx.starttls")
    );
}

const CHAIN_HOSTS: &str = r#"
[[web]]
names = ["chain.test"]
ip = "127.0.73.1"
cert = { status = "valid", chain = "intermediate", ocsp = "good" }

[[web]]
names = ["nochain.test"]
ip = "127.0.73.2"
cert = { status = "valid", chain = "missing-intermediate" }

[[web]]
names = ["disorder.test"]
ip = "127.0.73.3"
cert = { status = "valid", chain = "out-of-order" }

[[web]]
names = ["extra.test"]
ip = "127.0.73.4"
cert = { status = "valid", chain = "extra" }

[[web]]
names = ["revoked.test"]
ip = "127.0.73.5"
cert = { status = "valid", chain = "intermediate", ocsp = "revoked" }

[[web]]
names = ["stale.test"]
ip = "127.0.73.6"
cert = { status = "valid", ocsp = "stale" }

[[web]]
names = ["plain443.test"]
ip = "127.0.73.7"
cert = { status = "valid" }
tls = "not-tls"

[[smtp]]
name = "mx.plain443.test"
ip = "127.0.74.7"
starttls = true
behaviour = "broken-tls-late"

[[smtp]]
name = "mx.nochain.test"
ip = "127.0.74.2"
starttls = true
cert = { status = "valid", chain = "missing-intermediate" }

[[smtp]]
name = "mx.revoked.test"
ip = "127.0.74.5"
starttls = true
cert = { status = "valid", chain = "intermediate", ocsp = "revoked" }
"#;

const CHAIN_DOMAINS: [&str; 7] = [
    "chain.test",
    "nochain.test",
    "disorder.test",
    "extra.test",
    "revoked.test",
    "stale.test",
    "plain443.test",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_shapes_and_stapled_ocsp_through_the_binary() {
    let zones = CHAIN_DOMAINS
        .iter()
        .zip(1u8..)
        .map(|(name, n)| {
            zone(
                name,
                &[
                    (&format!("ns1.{name}"), &format!("127.0.61.{}", 2 * n)),
                    (&format!("ns2.{name}"), &format!("127.0.61.{}", 2 * n + 1)),
                ],
                &format!("@ IN A 127.0.73.{n}\n@ IN MX 10 mx.{name}.\nmx IN A 127.0.74.{n}\n"),
            )
        })
        .collect();
    let mut f = fixture(zones, DnsBehaviour::default());
    f.hosts_toml = Some(CHAIN_HOSTS.into());
    let lab = Lab::start(&f).await.unwrap();
    let doc = tokio::task::block_in_place(|| scan(&lab, &CHAIN_DOMAINS));
    let check = |domain: &str, check: &str| -> (String, String, serde_json::Value) {
        let asset = doc["assets"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["domain"] == domain))
            .unwrap();
        let f = asset["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == check)
            .unwrap_or_else(|| panic!("no {check} for {domain}"));
        (
            f["status"].as_str().unwrap().to_string(),
            f["summary"].as_str().unwrap().to_string(),
            f["evidence"]["endpoints"][0]["detail"].clone(),
        )
    };
    let cert = |domain: &str| check(domain, "web.cert");
    let (status, summary, detail) = cert("chain.test");
    assert_eq!(status, "pass", "{summary}");
    assert!(summary.ends_with("OCSP response stapled"), "{summary}");
    assert_eq!(detail["certs"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["ocsp"]["cert_status"]["kind"], "good");
    assert_eq!(detail["ocsp"]["signature"]["kind"], "verified");

    let (status, summary, detail) = cert("nochain.test");
    assert_eq!(status, "fail");
    assert!(
        summary.ends_with(
            "chain incomplete: the issuer O=ward-lab, CN=ward-lab intermediate CA is neither sent by the server nor a trusted root"
        ),
        "{summary}"
    );
    assert_eq!(
        detail["missing_issuer"],
        "O=ward-lab, CN=ward-lab intermediate CA"
    );

    let (status, summary, _) = cert("disorder.test");
    assert_eq!(status, "warn");
    assert!(
        summary.contains("chain out of order: certificate 0"),
        "{summary}"
    );

    let (status, summary, detail) = cert("extra.test");
    assert_eq!(status, "info");
    assert!(
        summary.ends_with("not part of its chain: O=ward-lab, CN=unrelated.ward-lab.invalid"),
        "{summary}"
    );
    assert_eq!(detail["missing_issuer"], serde_json::Value::Null);

    let (status, summary, detail) = cert("revoked.test");
    assert_eq!(status, "fail");
    assert!(
        summary.contains("according to the OCSP response the server itself staples"),
        "{summary}"
    );
    assert_eq!(detail["ocsp"]["cert_status"]["reason"], 1);

    // Signed by the root (direct chain), stale two days ago.
    let (status, summary, detail) = cert("stale.test");
    assert_eq!(status, "warn");
    assert!(
        summary.contains("the stapled OCSP response went stale"),
        "{summary}"
    );
    assert_eq!(detail["ocsp"]["signature"]["kind"], "verified");

    // The same shapes on mail servers, after STARTTLS.
    let (status, summary, _) = check("nochain.test", "mx.cert");
    assert_eq!(status, "fail");
    assert!(summary.contains("chain incomplete"), "{summary}");
    let (status, summary, _) = check("revoked.test", "mx.cert");
    assert_eq!(status, "fail");
    assert!(summary.contains("revoked on"), "{summary}");
    // Where the MX host has no server at all, mx.starttls cannot tell.
    assert_eq!(check("chain.test", "mx.starttls").0, "error");

    // Plain HTTP on 443, and a mail server that answers STARTTLS with garbage: no TLS
    // version can be tested, so the transport checks cannot tell (never "pass" or "not
    // supported"); nor can web.https, since a port speaking another protocol is not
    // proof that the site lacks HTTPS: it says what came back instead.
    for id in ["web.tls_versions", "web.ciphers", "web.cert", "web.https"] {
        assert_eq!(check("plain443.test", id).0, "error", "{id}");
    }
    let (_, summary, _) = check("plain443.test", "web.https");
    assert!(
        summary.contains(r#"port 443 answered, but not with TLS: first bytes "HTTP/1.1 400 Bad""#),
        "{summary}"
    );
    for id in ["mx.starttls", "mx.tls_versions", "mx.ciphers", "mx.cert"] {
        assert_eq!(check("plain443.test", id).0, "error", "{id}");
    }
    let (_, summary, _) = check("plain443.test", "web.tls_versions");
    assert!(summary.contains("could not test"), "{summary}");
}
