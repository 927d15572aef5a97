//! How long a scan takes when servers misbehave, through the real binary and the lab:
//! a silent zone is bounded by the domain's time budget, a lossy one is got over by
//! resending soon (the wait follows the measured round trip, not the longest timeout),
//! and off a terminal a long scan prints progress.

mod common;
use common::*;
use ward_lab::Lab;
use ward_lab::fixture::DnsBehaviour;

fn lab_fixture() -> ward_lab::fixture::Fixture {
    let txt = "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n@ IN MX 0 .\n";
    fixture(
        vec![
            zone("silent.test", &[("ns1.silent.test", "127.0.61.1")], txt),
            zone("lossy.test", &[("ns1.lossy.test", "127.0.61.2")], txt),
            zone("healthy.test", &[("ns1.healthy.test", "127.0.61.3")], txt),
        ],
        DnsBehaviour {
            silent: vec!["silent.test".into()],
            lossy: vec!["lossy.test".into()],
            ..Default::default()
        },
    )
}

fn scan(lab: &Lab, domains: &[&str], extra: &[&str], code: i32) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ward(dir.path());
    cmd.arg("scan")
        .args(lab_args(lab))
        .args(["--format", "json"])
        .args(extra)
        .args(domains);
    run(&mut cmd, code)
}

fn summaries(doc: &serde_json::Value, domain: &str) -> Vec<String> {
    doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == domain)
        .unwrap_or_else(|| panic!("{domain} not in {doc}"))["findings"]
        .as_array()
        .unwrap()
        .iter()
        // These zones publish no web host and are unsigned with no trust anchor given, so
        // the web and DNSSEC checks cannot tell anywhere; the rest is what is compared.
        .filter(|f| {
            let check = f["check"].as_str().unwrap_or_default();
            !check.starts_with("web.") && !check.starts_with("dnssec.")
        })
        .map(|f| format!("{} {}: {}", f["check"], f["status"], f["summary"]))
        .collect()
}

/// With every wait allowed up to 30 s, a zone that never answers would hold its domain
/// for minutes. The budget stops it: the questions still open when it runs out are
/// "could not tell" naming the budget, the healthy domain beside it is judged in full,
/// and the progress lines (stderr is not a terminal here) report the scan as it goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_zone_is_bounded_by_the_domain_budget() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let out = tokio::task::block_in_place(|| {
        scan(
            &lab,
            &["silent.test", "healthy.test"],
            &[
                "--dns-timeout",
                "30",
                "--domain-budget",
                "3",
                "--progress-every",
                "1",
                "--fail-on-unknown",
                "0",
            ],
            0,
        )
    });
    let doc = json(&out);
    let silent = summaries(&doc, "silent.test");
    assert!(
        silent
            .iter()
            .any(|s| s.contains("time budget (3 s, --domain-budget)")),
        "{silent:#?}"
    );
    assert!(
        silent.iter().all(|s| s.contains("\"error\"")),
        "{silent:#?}"
    );
    let healthy = summaries(&doc, "healthy.test");
    assert!(
        healthy.iter().all(|s| !s.contains("\"error\"")),
        "{healthy:#?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ward: scanned "))
        .collect();
    assert!(!progress.is_empty(), "no progress line in:\n{stderr}");
    assert!(
        progress
            .iter()
            .all(|l| l.contains(" of 2 domains in ") && l.contains("could not tell so far: ")),
        "{progress:?}"
    );
    // The healthy domain is done long before the silent one: some line says 1 of 2.
    assert!(
        progress.iter().any(|l| l.contains("scanned 1 of 2")),
        "{progress:?}"
    );
}

/// A zone that loses the first copy of every question costs one short wait per
/// question, not the longest one: with each wait allowed up to 30 s and 20 s for the
/// domain, a stub that always waited the full timeout would get no answer at all, and
/// every check would be "could not tell".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_packets_are_resent_after_the_measured_round_trip() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let out = tokio::task::block_in_place(|| {
        scan(
            &lab,
            &["healthy.test", "lossy.test"],
            &["--dns-timeout", "30", "--domain-budget", "20"],
            0,
        )
    });
    let doc = json(&out);
    let lossy = summaries(&doc, "lossy.test");
    let unknown: Vec<&String> = lossy.iter().filter(|s| s.contains("\"error\"")).collect();
    assert!(unknown.is_empty(), "{unknown:#?}");
    // The same findings as the identical zone that loses nothing.
    let strip = |v: Vec<String>, d: &str| -> Vec<String> {
        v.into_iter().map(|s| s.replace(d, "D")).collect()
    };
    assert_eq!(
        strip(lossy, "lossy.test"),
        strip(summaries(&doc, "healthy.test"), "healthy.test")
    );
}

/// A zone whose four of five nameservers listen but never answer. Each of them costs a
/// full run of resends (about 5 s with `--dns-timeout 2` and three attempts); asked one
/// after another they would need some 20 s, past the 12 s budget, and the last ones
/// would be cut off by it. Asked together they all time out on their own within the
/// budget, and each is reported as not answering, none as out of time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nameservers_of_a_zone_are_asked_together() {
    let mut ns = vec![("ns1.mostlymute.test", "127.0.62.1")];
    let mute = [
        ("ns2.mostlymute.test", "127.0.62.2"),
        ("ns3.mostlymute.test", "127.0.62.3"),
        ("ns4.mostlymute.test", "127.0.62.4"),
        ("ns5.mostlymute.test", "127.0.62.5"),
    ];
    ns.extend(mute);
    let txt = "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n@ IN MX 0 .\n";
    let fixture = fixture(
        vec![zone("mostlymute.test", &ns, txt)],
        DnsBehaviour {
            mute: mute.iter().map(|(_, ip)| ip.parse().unwrap()).collect(),
            ..Default::default()
        },
    );
    let lab = Lab::start(&fixture).await.unwrap();
    let out = tokio::task::block_in_place(|| {
        scan(
            &lab,
            &["mostlymute.test"],
            &[
                "--dns-timeout",
                "2",
                "--dns-attempts",
                "3",
                "--domain-budget",
                "12",
                "--fail-on-unknown",
                "0",
            ],
            0,
        )
    });
    let doc = json(&out);
    let nameservers = finding(&doc, "mostlymute.test", "dns.ns");
    let text = nameservers.to_string();
    assert!(!text.contains("budget"), "{nameservers:#}");
    for (_, ip) in mute {
        assert!(text.contains(ip), "{ip} not named in {nameservers:#}");
    }
}
