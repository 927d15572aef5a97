//! Hostile servers through the real binary and the lab: a port that answers in no protocol
//! is "could not tell" with the bytes it sent, never "no HTTPS" or "does not redirect".

mod common;
use common::*;
use std::time::{Duration, Instant};
use ward_lab::Lab;
use ward_lab::fixture::{DnsBehaviour, ZoneSource};

/// The checks that talk to a web or mail server (the rest only read DNS).
fn talks_to_a_server(check: &str) -> bool {
    check.starts_with("web.")
        || matches!(
            check,
            "mx.starttls" | "mx.tls_versions" | "mx.ciphers" | "mx.cert" | "mta_sts.policy"
        )
}

/// A zone whose web site (also `www.` and `mta-sts.`) lives on `web_ip` and whose one MX
/// host `mx.<origin>` lives on `mx_ip`, with SPF, DMARC and an MTA-STS record.
fn served_zone(origin: &str, ns_ip: &str, web_ip: &str, mx_ip: &str) -> ZoneSource {
    zone(
        origin,
        &[(&format!("ns1.{origin}"), ns_ip)],
        &format!(
            "@ IN A {web_ip}\nwww IN A {web_ip}\nmta-sts IN A {web_ip}\n\
             @ IN MX 10 mx.{origin}.\nmx IN A {mx_ip}\n\
             @ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n\
             _mta-sts IN TXT \"v=STSv1; id=1\"\n"
        ),
    )
}

/// `[[web]]` and `[[smtp]]` entries for a zone made by [`served_zone`].
fn served_hosts(origin: &str, web_ip: &str, mx_ip: &str, web: &str, mail: &str) -> String {
    format!(
        "[[web]]\nnames = [\"{origin}\", \"www.{origin}\", \"mta-sts.{origin}\"]\n\
         ip = \"{web_ip}\"\n{web}\n\n[[smtp]]\nname = \"mx.{origin}\"\nip = \"{mx_ip}\"\n{mail}\n\n"
    )
}

fn scan(lab: &Lab, domains: &[String], extra: &[&str]) -> (std::process::Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan")
        .args(lab_args(lab))
        .args([
            "--lab-ca",
            "ca.pem",
            "--format",
            "json",
            "--fail-on-unknown",
            "0",
        ])
        .args(extra)
        .args(domains);
    let started = Instant::now();
    let out = run(&mut cmd, 0);
    (out, started.elapsed())
}

fn finding_text(doc: &serde_json::Value, domain: &str, check: &str) -> (String, String, String) {
    let f = finding(doc, domain, check);
    (
        f["status"].as_str().unwrap_or_default().to_owned(),
        f["severity"].as_str().unwrap_or_default().to_owned(),
        f.to_string(),
    )
}

/// Port 443 and port 80 answering bytes of no protocol, at once or one byte a second,
/// and a mail server that sends them instead of a banner: each check that talks to them
/// cannot tell, names the port and what it expected, and shows the first bytes escaped;
/// none says HTTPS is missing or HTTP does not redirect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_could_not_tell_with_the_bytes_seen() {
    let mut hosts = served_hosts(
        "garbage.test",
        "127.0.81.10",
        "127.0.81.11",
        "tls = \"garbage\"\nhttp = \"garbage\"",
        "starttls = true\nbehaviour = \"garbage\"",
    );
    hosts.push_str(&served_hosts(
        "drip.test",
        "127.0.81.20",
        "127.0.81.21",
        "tls = \"garbage-slow\"\nhttp = \"garbage-slow\"",
        "starttls = true\nbehaviour = \"garbage\"",
    ));
    let mut f = fixture(
        vec![
            served_zone("garbage.test", "127.0.81.1", "127.0.81.10", "127.0.81.11"),
            served_zone("drip.test", "127.0.81.2", "127.0.81.20", "127.0.81.21"),
        ],
        DnsBehaviour::default(),
    );
    f.hosts_toml = Some(hosts);
    let lab = Lab::start(&f).await.unwrap();
    let domains = ["garbage.test".to_owned(), "drip.test".to_owned()];
    let (out, _) = tokio::task::block_in_place(|| scan(&lab, &domains, &[]));
    let doc = json(&out);
    // How the report shows the lab's garbage: escaped, at most a few bytes. A byte a
    // second is told from its first byte, so that is all there is to show.
    let all_at_once = r#"first bytes \"\\x00\\x01\\xfe garbage"#;
    let first_only = r#"first bytes \"\\x00\""#;
    for domain in &domains {
        for (check, status) in statuses(&doc, domain) {
            if talks_to_a_server(&check) {
                assert_eq!(status, "error", "{domain} {check}: {doc:#}");
            }
        }
        for (check, seen) in [
            (
                "web.https",
                "port 443 answered, but not with TLS: first bytes",
            ),
            (
                "web.redirect",
                "port 80 answered, but not with HTTP: first bytes",
            ),
            (
                "mx.starttls",
                "port 25 answered, but not with SMTP: first bytes",
            ),
        ] {
            let (status, severity, text) = finding_text(&doc, domain, check);
            assert_eq!(
                (status.as_str(), severity.as_str()),
                ("error", "none"),
                "{text}"
            );
            assert!(
                text.contains(seen),
                "{domain} {check} should say {seen:?}: {text}"
            );
            let shown = if *domain == "drip.test" && check != "mx.starttls" {
                first_only
            } else {
                all_at_once
            };
            assert!(
                text.contains(shown),
                "{domain} {check} should show {shown}: {text}"
            );
        }
    }
}
