//! Hostile servers through the real binary and the lab: a port that answers in no protocol
//! is "could not tell" with the bytes it sent, never "no HTTPS" or "does not redirect";
//! a domain whose every server accepts and never speaks costs a bounded, small part of a
//! scan, and does not hold up the domains scanned beside it.

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

/// Every check of `domain` that talks to a server cannot tell, and none because the
/// domain's time budget ran out: each server was waited for, and found silent.
fn assert_silent_servers_could_not_tell(doc: &serde_json::Value, domain: &str) {
    let mut server_checks = 0;
    for (check, status) in statuses(doc, domain) {
        if !talks_to_a_server(&check) {
            continue;
        }
        server_checks += 1;
        let (_, _, text) = finding_text(doc, domain, &check);
        assert_eq!(status, "error", "{check}: {text}");
        assert!(
            !text.contains("budget"),
            "{check} was cut by the budget: {text}"
        );
    }
    assert!(
        server_checks >= 15,
        "{server_checks} server checks in {doc:#}"
    );
}

/// A domain whose DNS answers but whose web, MTA-STS and mail servers accept connections
/// and never say a word. Every check that talks to them cannot tell, each because the
/// server was silent (none because the domain's 30 s budget ran out), and the whole scan
/// of it takes under 15 s with the default budget and timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_silent_domain_is_done_in_under_15_s() {
    let mut f = fixture(
        vec![served_zone(
            "tarpit.test",
            "127.0.82.1",
            "127.0.82.10",
            "127.0.82.11",
        )],
        DnsBehaviour::default(),
    );
    f.hosts_toml = Some(served_hosts(
        "tarpit.test",
        "127.0.82.10",
        "127.0.82.11",
        "tls = \"mute\"\nhttp = \"mute\"",
        "starttls = true\nbehaviour = \"mute\"",
    ));
    let lab = Lab::start(&f).await.unwrap();
    let (out, took) = tokio::task::block_in_place(|| scan(&lab, &["tarpit.test".into()], &[]));
    assert_silent_servers_could_not_tell(&json(&out), "tarpit.test");
    assert!(
        took < Duration::from_secs(15),
        "the all-silent domain took {took:?}"
    );
}

/// What a domain's findings say, with its name taken out, for comparing domains.
fn verdicts(doc: &serde_json::Value, domain: &str) -> Vec<String> {
    doc["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["domain"] == domain))
        .unwrap_or_else(|| panic!("{domain} not in the scan"))["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {}: {}", f["check"], f["status"], f["summary"]).replace(domain, "D"))
        .collect()
}

/// 99 healthy domains and one whose servers never speak, in one scan: each of the 99 is
/// judged exactly as when it is scanned alone, the progress lines show all 99 done (with
/// no more could-not-tell than they have alone) for several seconds while the silent one
/// is still being waited for, and the silent one is done, on its own, within the same
/// 15 s as when scanned alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_domain_does_not_hold_up_99_others() {
    let healthy: Vec<String> = (0..99).map(|i| format!("ok{i:02}.test")).collect();
    let mut zones: Vec<ZoneSource> = healthy
        .iter()
        .map(|d| {
            zone(
                d,
                &[(&format!("ns1.{d}"), "127.0.83.1")],
                "@ IN A 127.0.84.10\nwww IN A 127.0.84.10\nmta-sts IN A 127.0.84.10\n\
                 @ IN MX 10 mx.okmail.test.\n@ IN TXT \"v=spf1 -all\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=reject\"\n",
            )
        })
        .collect();
    zones.push(zone(
        "okmail.test",
        &[("ns1.okmail.test", "127.0.83.2")],
        "mx IN A 127.0.84.11\n",
    ));
    zones.push(served_zone(
        "tarpit.test",
        "127.0.82.1",
        "127.0.82.10",
        "127.0.82.11",
    ));
    let names: Vec<String> = healthy
        .iter()
        .flat_map(|d| [format!("\"{d}\""), format!("\"www.{d}\"")])
        .collect();
    let mut hosts = format!(
        "[[web]]\nnames = [{}]\nip = \"127.0.84.10\"\ncert = {{ status = \"valid\" }}\n\n\
         [[smtp]]\nname = \"mx.okmail.test\"\nip = \"127.0.84.11\"\nstarttls = true\n\
         cert = {{ status = \"valid\" }}\n\n",
        names.join(", ")
    );
    hosts.push_str(&served_hosts(
        "tarpit.test",
        "127.0.82.10",
        "127.0.82.11",
        "tls = \"mute\"\nhttp = \"mute\"",
        "starttls = true\nbehaviour = \"mute\"",
    ));
    let mut f = fixture(zones, DnsBehaviour::default());
    f.hosts_toml = Some(hosts);
    let lab = Lab::start(&f).await.unwrap();

    let (alone, _) = tokio::task::block_in_place(|| scan(&lab, &[healthy[0].clone()], &[]));
    let alone = verdicts(&json(&alone), &healthy[0]);
    let mut batch = healthy.clone();
    batch.insert(50, "tarpit.test".into());
    let (out, took) =
        tokio::task::block_in_place(|| scan(&lab, &batch, &["--progress-every", "1"]));
    let doc = json(&out);
    assert_silent_servers_could_not_tell(&doc, "tarpit.test");
    assert!(took < Duration::from_secs(15), "the batch took {took:?}");
    for d in &healthy {
        assert_eq!(
            verdicts(&doc, d),
            alone,
            "{d} judged otherwise beside the silent domain"
        );
    }
    let unknown_alone = alone.iter().filter(|v| v.contains("\"error\"")).count();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each line is printed a second after the one before; several saying all 99 are done
    // mean they were done seconds before the silent domain.
    let all_99_done = format!(
        "ward: scanned 99 of 100 domains in {{}} s; could not tell so far: {} check(s) on {} domain(s)",
        99 * unknown_alone,
        if unknown_alone == 0 { 0 } else { 99 }
    );
    let (head, tail) = all_99_done.split_once("{}").unwrap();
    let lines = stderr
        .lines()
        .filter(|l| l.starts_with(head) && l.ends_with(tail))
        .count();
    assert!(
        lines >= 3,
        "want 3 lines like {all_99_done:?} in:\n{stderr}"
    );
}
