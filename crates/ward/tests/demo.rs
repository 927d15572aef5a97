//! `ward demo` and `ward lab` through the real binary.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn demo_prints_every_organisation_and_leaves_database_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        ward(dir.path()).args(["demo", "--db", "d.db", "--report", "r.html"]),
        0,
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let fixture = ward_lab::demo::fixture();
    let orgs =
        ward_model::inventory::parse("demo", fixture.inventory_toml.as_deref().unwrap()).unwrap();
    assert!(
        orgs.len() >= 24,
        "the demo party has an HQ, 3 regions and at least 20 branches"
    );
    for org in &orgs {
        assert!(
            stdout.contains(&org.name),
            "{} missing from:\n{stdout}",
            org.name
        );
    }
    // Each organisation's block shows at most three findings and says how many it left
    // out: shown plus "N more" is its WARN + FAIL + ERROR count.
    let table = stdout
        .split("Mail reports received in the last 7 days")
        .next()
        .unwrap();
    let mut blocks = 0;
    let mut cut = 0;
    let mut lines = table
        .lines()
        .skip_while(|l| !l.starts_with("ORGANISATION"))
        .skip(1)
        .peekable();
    while let Some(header) = lines.next() {
        if header.trim().is_empty() {
            break;
        }
        let cols: Vec<&str> = header.split_whitespace().collect();
        let n = cols.len();
        let open: usize = cols[n - 3..]
            .iter()
            .map(|c| c.parse::<usize>().unwrap())
            .sum();
        let mut shown = 0;
        let mut more = 0;
        while let Some(l) = lines.next_if(|l| l.starts_with("    ")) {
            match l.trim().split_once(" more ") {
                Some((k, rest)) if rest.contains("see --format json or the report") => {
                    more = k.parse().unwrap()
                }
                _ => shown += 1,
            }
        }
        assert!(shown <= 3, "{header}: {shown} rows");
        assert_eq!(shown + more, open, "{header}");
        blocks += 1;
        cut += usize::from(more > 0);
    }
    assert_eq!(
        blocks,
        orgs.len(),
        "one block per organisation in:\n{table}"
    );
    assert!(cut > 0, "no block was cut, so the test shows nothing");
    // The mail-report side: the generated reports were stored and summarised, with each
    // domain's DMARC phase, the services behind the sources (named through the lab's
    // reverse zones), the spoofing source, the forwarder and the TLS failures.
    let reports = stdout
        .split_once("Mail reports received in the last 7 days")
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no mail report section in:\n{stdout}"));
    for want in [
        "Reports: 147 aggregate, 3 failure, 14 TLS",
        "phase maintain   policy p=reject",
        "phase assess   policy p=none",
        "phase deploy   policy p=reject t=y",
        "Microsoft 365 (mail-am6eur05on2025.outbound.protection.outlook.com)",
        "Mailchimp (mail140.atl221.mcsv.net)",
        "relay.alumni-forward.example",
        "203.0.113.200 658 of 658 messages fail DMARC",
        "news2026._domainkey.exampleparty.example",
        "mx.hostingco.example                     certificate-expired",
        "fail  medium   reports.unauthenticated_sources  barnsley-exampleparty.example",
        "warn  low      reports.unauthenticated_sources  exampleparty-north.example",
        "fail  medium   reports.tls_failures             bradford-exampleparty.example",
    ] {
        assert!(reports.contains(want), "{want:?} missing from:\n{reports}");
    }
    // The findings also join the scan's own table, under their organisation.
    let table = stdout.split_once("Mail reports received").unwrap().0;
    assert!(
        table.contains("reports.tls_failures bradford-exampleparty.example"),
        "{table}"
    );
    // ...and the full report's per-domain tables (the party's demo report is the summary).
    let full = run(
        ward(dir.path()).args(["report", "--org", "hq", "--db", "d.db", "--detail", "full"]),
        0,
    );
    assert!(String::from_utf8_lossy(&full.stdout).contains("reports.unauthenticated_sources"));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    for org in &orgs {
        assert!(
            html.contains(&org.name),
            "{} missing from the report",
            org.name
        );
    }
    // The database holds one complete scan with every domain.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = ward_store::Store::open_sqlite(&dir.path().join("d.db"))
            .await
            .unwrap();
        let scans = store.scans().await.unwrap();
        assert_eq!(scans.len(), 1);
        assert!(scans[0].complete);
        let domains: usize = orgs.iter().map(|o| o.assets.len()).sum();
        assert_eq!(scans[0].assets as usize, domains);
        let report = store.latest_report().await.unwrap().unwrap();
        assert!(report.assets.iter().all(|a| !a.findings.is_empty()));
        assert_eq!(store.organisations().await.unwrap().len(), orgs.len());
        // Every generated report was stored, one row each, by kind.
        let stored = store.stored_reports().await.unwrap();
        let of = |k| stored.iter().filter(|r| r.kind == k).count();
        assert_eq!(of(ward_reports::ReportKind::Aggregate), 147);
        assert_eq!(of(ward_reports::ReportKind::Failure), 3);
        assert_eq!(of(ward_reports::ReportKind::Tls), 14);
        // The stored scan carries the report findings too.
        let barnsley = report
            .assets
            .iter()
            .find(|a| a.domain == "barnsley-exampleparty.example")
            .unwrap();
        assert!(
            barnsley
                .findings
                .iter()
                .any(|f| f.check.as_str() == "reports.unauthenticated_sources"
                    && f.status == ward_model::Status::Fail)
        );
    });
}

#[test]
fn demo_json_shows_each_deliberate_case() {
    let dir = tempfile::tempdir().unwrap();
    let doc = json(&run(ward(dir.path()).args(["demo", "--format", "json"]), 0));
    assert!(dir.path().join("ward-demo.db").exists());
    assert!(dir.path().join("ward-demo-report.html").exists());
    // Every id the scan emits is in the catalogue and has advice for both size classes,
    // so no finding reaches a reader without words on what to do.
    for asset in doc["assets"].as_array().unwrap() {
        for f in asset["findings"].as_array().unwrap() {
            let text = f["check"].as_str().unwrap();
            let id = ward_model::CheckId::parse(text)
                .unwrap_or_else(|| panic!("{text} is emitted but not in CheckId::ALL"));
            for size in [ward_model::SizeClass::Small, ward_model::SizeClass::Medium] {
                assert!(
                    ward_advice::advice_for(id, size).is_some(),
                    "{id} has no {size:?} advice"
                );
            }
        }
    }
    // The DMARC phase: no usable record of its own and none inherited is the first phase
    // (publish one), whatever the other dmarc.* rows say; a domain that does not exist has
    // none; a record with p=reject, subdomains covered and reports is the last.
    let phase = |domain: &str| {
        doc["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["domain"] == domain)
            .unwrap_or_else(|| panic!("{domain} not in the demo"))
            .get("dmarc_phase")
            .cloned()
    };
    for no_record in [
        "examplepartyshop.example",
        "oxford-exampleparty.example",
        "lincoln-exampleparty.example",
    ] {
        assert_eq!(
            phase(no_record),
            Some(serde_json::json!("assess")),
            "{no_record}"
        );
    }
    assert_eq!(
        phase("kendal-exampleparty.example"),
        None,
        "NXDOMAIN has no phase"
    );
    assert_eq!(
        phase(ward_lab::demo::HQ_DOMAIN),
        Some(serde_json::json!("maintain"))
    );
    // `ward demo --help` names every file the demo wrote.
    let help = String::from_utf8(run(ward(dir.path()).args(["demo", "--help"]), 0).stdout).unwrap();
    let mut written = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("ward-demo") && !name.contains(".db-") {
            written += 1;
            assert!(
                help.contains(&name),
                "demo --help does not mention {name}:\n{help}"
            );
        }
    }
    assert!(written >= 4, "the demo wrote {written} files");
    let hq = ward_lab::demo::HQ_DOMAIN;
    for (check, status) in statuses(&doc, hq) {
        assert!(
            status == "pass" || status == "info",
            "HQ {check} is {status}"
        );
    }
    let expect = [
        ("ashford-exampleparty.example", "dns.ns", "fail"),
        ("carlisle-exampleparty.example", "dns.ns", "fail"),
        ("kendal-exampleparty.example", "dns.resolves", "fail"),
        // A lapsed domain: SPF, MX and transport findings do not pile on (DMARC's np
        // still speaks for names that do not exist).
        ("kendal-exampleparty.example", "spf.present", "info"),
        ("kendal-exampleparty.example", "mx.present", "info"),
        ("dover-exampleparty.example", "dns.resolves", "error"),
        ("dover-exampleparty.example", "dns.ns", "error"),
        ("halifax-exampleparty.example", "dns.resolves", "error"),
        ("lincoln-exampleparty.example", "dns.caa", "fail"),
        ("oxford-exampleparty.example", "dns.caa", "fail"),
        ("barnsley-exampleparty.example", "dns.caa", "warn"),
        ("bradford-exampleparty.example", "dns.caa", "pass"),
        ("barnsley-exampleparty.example", "spf.present", "fail"),
        ("example-party.example", "spf.all", "pass"),
        (hq, "mx.starttls", "pass"),
        (hq, "web.cert", "pass"),
        ("exeter-exampleparty.example", "web.cert", "fail"),
        ("bradford-exampleparty.example", "web.cert", "pass"),
        ("salford-exampleparty.example", "mx.starttls", "fail"),
        ("durham-exampleparty.example", "web.tls_versions", "fail"),
        ("durham-exampleparty.example", "web.ciphers", "warn"),
        ("durham-exampleparty.example", "web.cert", "pass"),
        ("bradford-exampleparty.example", "web.tls_versions", "pass"),
        ("bradford-exampleparty.example", "mx.starttls", "pass"),
        // Web checks (issue 4): HQ passes them all (above); the hosting company's
        // branches send no HSTS; Preston's own server has every weakness.
        (hq, "web.hsts", "pass"),
        (hq, "web.csp", "pass"),
        (hq, "web.security_txt", "pass"),
        ("bradford-exampleparty.example", "web.hsts", "fail"),
        ("preston-exampleparty.example", "web.https", "pass"),
        ("preston-exampleparty.example", "web.redirect", "fail"),
        ("preston-exampleparty.example", "web.csp", "fail"),
        ("preston-exampleparty.example", "web.version_leak", "fail"),
        ("preston-exampleparty.example", "web.cookies", "fail"),
        ("preston-exampleparty.example", "web.security_txt", "fail"),
        ("exeter-exampleparty.example", "web.https", "fail"),
        ("preston-exampleparty.example", "web.permissions", "fail"),
        (hq, "web.permissions", "pass"),
        // Chains and stapled OCSP (issue 4).
        ("wakefield-exampleparty.example", "web.cert", "fail"),
        ("wakefield-exampleparty.example", "web.https", "fail"),
        ("ipswich-exampleparty.example", "web.cert", "fail"),
        ("cambridge-exampleparty.example", "web.cert", "warn"),
        ("derby-exampleparty.example", "web.cert", "info"),
        ("truro-exampleparty.example", "web.cert", "warn"),
        // Mail authentication (issue 3).
        ("exampleparty-midlands.example", "dmarc.present", "fail"),
        ("exampleparty-north.example", "dmarc.policy", "warn"),
        ("exampleparty-south.example", "dmarc.subdomains", "fail"),
        ("members.exampleparty.example", "dmarc.present", "info"),
        ("members.exampleparty.example", "dmarc.inherited", "pass"),
        (
            "london.exampleparty-south.example",
            "dmarc.inherited",
            "fail",
        ),
        ("example-party.example", "parked.lockdown", "pass"),
        ("example-party.example", "mx.present", "pass"),
        ("examplepartyshop.example", "parked.lockdown", "fail"),
        ("vote-exampleparty.example", "parked.lockdown", "fail"),
        ("vote-exampleparty.example", "mx.present", "warn"),
        ("bradford-exampleparty.example", "mta_sts.policy", "pass"),
        ("bradford-exampleparty.example", "mail.bulk_sender", "pass"),
        ("cambridge-exampleparty.example", "dmarc.reporting", "fail"),
        ("derby-exampleparty.example", "dmarc.subdomains", "fail"),
        ("durham-exampleparty.example", "dkim.strength", "warn"),
        ("durham-exampleparty.example", "tls_rpt.record", "fail"),
        ("exeter-exampleparty.example", "dkim.strength", "fail"),
        ("ipswich-exampleparty.example", "dkim.present", "fail"),
        ("norwich-exampleparty.example", "mta_sts.policy", "warn"),
        ("reading-exampleparty.example", "mta_sts.policy", "fail"),
        ("salford-exampleparty.example", "mta_sts.policy", "fail"),
        ("wakefield-exampleparty.example", "dmarc.policy", "warn"),
        ("wakefield-exampleparty.example", "dmarc.syntax", "warn"),
        ("harrogate-exampleparty.example", "dkim.syntax", "fail"),
        ("bristol-exampleparty.example", "bimi.record", "fail"),
        ("bolton-exampleparty.example", "dmarc.reporting", "warn"),
        ("lincoln-exampleparty.example", "dmarc.syntax", "fail"),
        ("oxford-exampleparty.example", "dmarc.present", "fail"),
        ("truro-exampleparty.example", "dmarc.policy", "fail"),
        ("preston-exampleparty.example", "mail.bulk_sender", "fail"),
        ("dover-exampleparty.example", "dmarc.present", "error"),
        ("halifax-exampleparty.example", "mx.present", "error"),
        // DNSSEC and DANE: every check in pass, fail (or warn) and error.
        ("exampleparty.example", "dnssec.valid", "pass"),
        ("exampleparty.example", "dnssec.algorithms", "pass"),
        ("exampleparty.example", "mx.dane", "pass"),
        ("bradford-exampleparty.example", "dnssec.signed", "pass"),
        ("bradford-exampleparty.example", "dnssec.valid", "pass"),
        ("barnsley-exampleparty.example", "dnssec.signed", "warn"),
        ("barnsley-exampleparty.example", "dnssec.valid", "info"),
        ("oxford-exampleparty.example", "dnssec.signed", "fail"),
        ("oxford-exampleparty.example", "dnssec.valid", "fail"),
        ("derby-exampleparty.example", "dnssec.signed", "pass"),
        ("derby-exampleparty.example", "dnssec.valid", "fail"),
        ("wakefield-exampleparty.example", "dnssec.valid", "pass"),
        (
            "wakefield-exampleparty.example",
            "dnssec.algorithms",
            "warn",
        ),
        ("lincoln-exampleparty.example", "dnssec.algorithms", "fail"),
        ("truro-exampleparty.example", "dnssec.algorithms", "pass"),
        ("truro-exampleparty.example", "mx.dane", "fail"),
        ("bradford-exampleparty.example", "mx.dane", "info"),
        ("dover-exampleparty.example", "dnssec.signed", "error"),
        ("dover-exampleparty.example", "dnssec.valid", "error"),
        ("halifax-exampleparty.example", "dnssec.algorithms", "error"),
        ("halifax-exampleparty.example", "mx.dane", "error"),
        // Mail reports (issue 5): the demo's generated reports join the scan.
        (hq, "reports.unauthenticated_sources", "pass"),
        (hq, "reports.tls_failures", "pass"),
        (
            "barnsley-exampleparty.example",
            "reports.unauthenticated_sources",
            "fail",
        ),
        (
            "exampleparty-north.example",
            "reports.unauthenticated_sources",
            "warn",
        ),
        (
            "bradford-exampleparty.example",
            "reports.tls_failures",
            "fail",
        ),
        (
            "bradford-exampleparty.example",
            "reports.unauthenticated_sources",
            "pass",
        ),
    ];
    // Every listed case is a domain the demo scans.
    for case in ward_lab::demo::CASES {
        statuses(&doc, case.domain);
    }
    // The HQ shows every mail check, and passes the ones that judge it.
    let hq_checks: Vec<String> = statuses(&doc, hq).into_iter().map(|(c, _)| c).collect();
    for check in ward_checks::mail::CHECKS
        .iter()
        .chain(ward_checks::dnssec::CHECKS)
    {
        if *check == ward_model::CheckId::ParkedLockdown {
            continue; // the HQ is not parked
        }
        assert!(
            hq_checks.iter().any(|c| c == check.as_str()),
            "HQ lacks {check}"
        );
    }
    for (domain, check, status) in expect {
        assert_eq!(status_of(&doc, domain, check), status, "{domain} {check}");
    }
    // The HQ's newsletter provider signs with a selector no built-in list holds; the
    // reports named it, so the DKIM check found its key there.
    let hq_dkim = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == hq)
        .and_then(|a| {
            a["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["check"] == "dkim.present")
        })
        .unwrap();
    let news = ward_lab::demo::reports::REPORTED_ONLY_SELECTOR;
    assert!(!ward_checks::mail::BUILTIN_SELECTORS.contains(&news));
    let found = hq_dkim["evidence"]["found"].as_array().unwrap();
    let key = found
        .iter()
        .find(|k| k["selector"] == news)
        .unwrap_or_else(|| panic!("no key at {news} in {hq_dkim}"));
    assert_eq!(key["from"], serde_json::json!(["reports"]));
    // The DMARC phase the reports show travels with the finding.
    let phase_of = |domain: &str| {
        doc["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["domain"] == domain)
            .and_then(|a| {
                a["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["check"] == "reports.unauthenticated_sources")
            })
            .map(|f| f["evidence"]["phase"].clone())
            .unwrap()
    };
    assert_eq!(phase_of("barnsley-exampleparty.example"), "assess");
    assert_eq!(phase_of(hq), "maintain");
    assert_eq!(phase_of("wakefield-exampleparty.example"), "deploy");
    // Severity depends on size: the same failure is rated by the organisation's class.
    let f = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == "ashford-exampleparty.example")
        .unwrap();
    assert_eq!(f["findings"][1]["severity"], "medium");
}

/// A `ward lab` child that is killed when the test ends.
struct LabProcess(Child);
impl Drop for LabProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_scan_line_ward_lab_prints_works() {
    let dir = tempfile::tempdir().unwrap();
    let child = ward(dir.path())
        .args(["lab", "--state-dir", "state"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lab = LabProcess(child);
    let stdout = lab.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let scan_line = loop {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => {
                let found =
                    line.trim_start().starts_with("ward scan ") && line.contains("--format json");
                lines.push(line.clone());
                if found {
                    break line;
                }
            }
            Err(e) => panic!(
                "ward lab printed no scan line ({e}); it printed:\n{}",
                lines.join("\n")
            ),
        }
    };
    assert!(
        lines.iter().any(|l| l.contains("DNS (resolver)")),
        "{lines:?}"
    );
    let words: Vec<&str> = scan_line.split_whitespace().collect();
    assert_eq!(words[..2], ["ward", "scan"]);
    let out = run(ward(dir.path()).args(&words[1..]), 0);
    let doc = json(&out);
    // The documented shape (docs/output.md).
    assert!(doc["scanned_at"].as_str().is_some_and(|s| s.contains('T')));
    let asset = &doc["assets"][0];
    assert_eq!(asset["domain"], ward_lab::demo::HQ_DOMAIN);
    assert_eq!(asset["organisation"], "Domains named on the command line");
    let f = &asset["findings"][0];
    for key in ["check", "status", "severity", "summary", "evidence"] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert_eq!(f["check"], "dns.resolves");
    assert_eq!(f["status"], "pass");
}
