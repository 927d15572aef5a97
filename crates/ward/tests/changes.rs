//! `ward changes` and the report's "Since last time" through the real binary: two scans
//! of the lab into one database, the second against a changed lab (DMARC p=reject →
//! p=none, an MX removed, SPF fixed, a nameserver that stays silent, one that goes
//! silent, one that comes back, a domain added and one dropped), with a mail report
//! between them that shows a new sender failing DMARC.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use ward_lab::signing::Signed;
use ward_lab::{DnsBehaviour, Lab};

/// Domains in tree order: (domain, organisation).
const DOMAINS: &[(&str, &str)] = &[
    ("policy.test", "hq"),
    ("old.test", "hq"),
    ("new.test", "hq"),
    ("mx.test", "york"),
    ("spf.test", "york"),
    ("silent.test", "leeds"),
    ("flaky.test", "leeds"),
    ("fading.test", "leeds"),
];

/// A healthy mail domain's records, minus MX.
fn healthy(name: &str) -> String {
    format!("@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@{name}\"\n")
}

/// The lab before (`second == false`) and after the changes.
fn lab_fixture(second: bool) -> ward_lab::Fixture {
    let mut zones = vec![zone("test", &[("ns.test", "127.0.90.1")], "")];
    for (i, (name, _)) in DOMAINS.iter().enumerate() {
        if (second && *name == "old.test") || (!second && *name == "new.test") {
            continue;
        }
        let body = match (*name, second) {
            ("policy.test", false) => healthy(name),
            ("policy.test", true) => healthy(name).replace("p=reject", "p=none"),
            ("mx.test", false) => format!(
                "{}@ IN MX 10 mx.mx.test.\nmx IN A 127.0.90.50\n",
                healthy(name)
            ),
            ("mx.test", true) => healthy(name),
            ("spf.test", false) => healthy(name).replace("-all", "+all"),
            _ => healthy(name),
        };
        zones.push(zone(
            name,
            &[(&format!("ns.{name}"), &format!("127.0.90.{}", i + 2))],
            &body,
        ));
    }
    let silent: Vec<String> = ["silent.test"]
        .into_iter()
        .chain((!second).then_some("flaky.test"))
        .chain(second.then_some("fading.test"))
        .map(Into::into)
        .collect();
    fixture(
        zones,
        DnsBehaviour {
            silent,
            signed: vec![Signed::new("test")],
            ..Default::default()
        },
    )
}

fn inventory(dir: &Path, second: bool) -> String {
    let text = String::from(
        "[[organisation]]\nid = \"hq\"\nname = \"Test Party HQ\"\nkind = \"party\"\nsize = \"medium\"\n\n\
         [[organisation]]\nid = \"north\"\nname = \"North Region\"\nkind = \"region\"\nsize = \"small\"\nparent = \"hq\"\n\n\
         [[organisation]]\nid = \"york\"\nname = \"York Branch\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"north\"\n\n\
         [[organisation]]\nid = \"leeds\"\nname = \"Leeds Branch\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"north\"\n\n",
    );
    let mut by_org: Vec<(&str, Vec<&str>)> = Vec::new();
    for (d, o) in DOMAINS {
        if (second && *d == "old.test") || (!second && *d == "new.test") {
            continue;
        }
        match by_org.iter_mut().find(|(id, _)| id == o) {
            Some((_, ds)) => ds.push(d),
            None => by_org.push((o, vec![d])),
        }
    }
    // Domains go right after their organisation's table, so write the tree again
    // with them.
    let mut out = String::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        out.push_str(block);
        out.push_str("\n\n");
        let id = block
            .lines()
            .find_map(|l| l.strip_prefix("id = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap();
        for (_, ds) in by_org.iter().filter(|(o, _)| *o == id) {
            for d in ds {
                out.push_str(&format!(
                    "[[organisation.domain]]\nname = \"{d}\"\nroles = [\"mail\"]\n\n"
                ));
            }
        }
    }
    let path = dir.join(format!("inventory-{}.toml", u8::from(second) + 1));
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

/// A DMARC aggregate report about policy.test: (source, messages, dkim/spf result).
fn aggregate(id: &str, begin: i64, end: i64, rows: &[(&str, u64, &str)]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><version>1.0</version>\
         <report_metadata><org_name>rx.example</org_name><email>dmarc@rx.example</email>\
         <report_id>{id}</report_id><date_range><begin>{begin}</begin><end>{end}</end></date_range>\
         </report_metadata><policy_published><domain>policy.test</domain><adkim>r</adkim>\
         <aspf>r</aspf><p>none</p><pct>100</pct></policy_published>\n"
    );
    for (ip, count, result) in rows {
        xml.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{result}</dkim><spf>{result}</spf>\
             </policy_evaluated></row><identifiers><header_from>policy.test</header_from>\
             </identifiers><auth_results><spf><domain>policy.test</domain><result>{result}</result>\
             </spf></auth_results></record>\n"
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

fn ingest(dir: &Path, name: &str, xml: &str) {
    std::fs::write(dir.join(name), xml).unwrap();
    run(
        ward(dir).args(["reports", "ingest", "--db", "ward.db", name]),
        0,
    );
}

fn scan(dir: &Path, second: bool) {
    let lab = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = lab.block_on(Lab::start(&lab_fixture(second))).unwrap();
    std::fs::write(dir.join("anchor.txt"), handle.trust_anchor().unwrap()).unwrap();
    let inv = inventory(dir, second);
    let mut cmd = ward(dir);
    cmd.arg("scan")
        .args(lab_args(&handle))
        .args(["--trust-anchor", "anchor.txt", "--dns-timeout", "0.3"])
        .args(["--dns-attempts", "1", "--fail-on-unknown", "0"])
        .args(["--format", "json", "--db", "ward.db", "--inventory", &inv]);
    run(&mut cmd, 0);
    handle.stop();
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// (domain, check or "", kind, reason) of every change.
fn rows(doc: &serde_json::Value) -> Vec<(String, String, String, String)> {
    doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_owned();
            (s("domain"), s("check"), s("kind"), s("reason"))
        })
        .collect()
}

fn of_kind(
    rows: &[(String, String, String, String)],
    kind: &str,
) -> BTreeSet<(String, String, String)> {
    rows.iter()
        .filter(|r| r.2 == kind)
        .map(|r| (r.0.clone(), r.1.clone(), r.3.clone()))
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn changes_between_two_lab_scans_and_the_reports_since_last_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let t = now();
    ingest(
        dir,
        "before.xml",
        &aggregate(
            "r-1",
            t - 2 * 86_400,
            t - 86_400,
            &[("192.0.2.1", 50, "fail")],
        ),
    );
    scan(dir, false);
    // One scan is not enough, and the error names the database.
    let out = run(ward(dir).args(["changes", "--db", "ward.db"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ward.db holds one complete scan") && err.contains("changes need two"),
        "{err}"
    );

    // Between the scans a report arrives: the known sender again, a new one that fails
    // DMARC, and a new one that passes.
    let t = now();
    ingest(
        dir,
        "after.xml",
        &aggregate(
            "r-2",
            t - 3600,
            t,
            &[
                ("192.0.2.1", 20, "fail"),
                ("198.51.100.7", 30, "fail"),
                ("198.51.100.8", 40, "pass"),
            ],
        ),
    );
    scan(dir, true);

    let out = run(
        ward(dir).args(["changes", "--db", "ward.db", "--format", "json"]),
        0,
    );
    let doc = json(&out);
    let all = rows(&doc);

    assert_eq!(
        of_kind(&all, "worse"),
        set(&[
            ("policy.test", "dmarc.policy", "verdict"),
            (
                "policy.test",
                "reports.unauthenticated_sources",
                "new_failing_source"
            ),
            ("mx.test", "mx.present", "record_removed"),
        ]),
        "{all:#?}"
    );
    let source = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reason"] == "new_failing_source")
        .unwrap();
    assert_eq!(source["source"], "198.51.100.7");
    assert_eq!(source["messages"], 30);
    assert_eq!(
        of_kind(&all, "better"),
        set(&[("spf.test", "spf.all", "verdict")]),
        "{all:#?}"
    );
    assert_eq!(
        of_kind(&all, "new"),
        set(&[("new.test", "", "domain_added")]),
        "{all:#?}"
    );

    // Could not tell: silent.test twice (every check, none of it "fixed"); fading.test
    // went silent; flaky.test came back, which is "can tell again", never better.
    let domains = |kind: &str| -> BTreeSet<String> {
        all.iter()
            .filter(|r| r.2 == kind)
            .map(|r| r.0.clone())
            .collect()
    };
    assert_eq!(
        domains("still_could_not_tell"),
        BTreeSet::from(["silent.test".to_owned()])
    );
    assert_eq!(
        domains("now_could_not_tell"),
        BTreeSet::from(["fading.test".to_owned()])
    );
    assert_eq!(
        domains("answered"),
        BTreeSet::from(["flaky.test".to_owned()])
    );
    let silent: Vec<_> = all.iter().filter(|r| r.0 == "silent.test").collect();
    assert!(silent.len() >= 4, "{silent:?}");
    assert!(
        silent.iter().all(|r| r.2 == "still_could_not_tell"),
        "{silent:?}"
    );
    let flaky: Vec<_> = all.iter().filter(|r| r.0 == "flaky.test").collect();
    assert!(flaky.len() >= 4, "{flaky:?}");
    assert!(flaky.iter().all(|r| r.2 == "answered"), "{flaky:?}");

    // Gone: the domain dropped from the inventory, and the mail-server checks that a
    // removed MX takes with it; nothing else.
    let gone = of_kind(&all, "gone");
    assert!(
        gone.contains(&("old.test".into(), "".into(), "domain_removed".into())),
        "{gone:?}"
    );
    for (d, c, r) in &gone {
        assert!(
            d == "old.test"
                || (d == "mx.test" && c.starts_with("mx.") && r == "check_removed")
                || (d == "fading.test" && r == "check_removed"),
            "unexpected gone: {d} {c} {r}"
        );
    }
    assert!(
        gone.contains(&(
            "mx.test".into(),
            "mx.starttls".into(),
            "check_removed".into()
        )),
        "{gone:?}"
    );

    // Counts agree with the list, and the two scans are named.
    assert_eq!(doc["counts"]["worse"], 3);
    assert_eq!(doc["counts"]["better"], 1);
    assert_eq!(doc["database"], "ward.db");
    assert!(doc["before"]["scan"].as_i64() < doc["after"]["scan"].as_i64());

    // Worst first: the first change of the list is a worse one.
    assert_eq!(all[0].2, "worse", "{all:#?}");

    // --org keeps a subtree: York's domains only; north has York and Leeds.
    let york = rows(&json(&run(
        ward(dir).args([
            "changes", "--db", "ward.db", "--org", "york", "--format", "json",
        ]),
        0,
    )));
    let york_domains: BTreeSet<&str> = york.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(york_domains, BTreeSet::from(["mx.test", "spf.test"]));
    let north = rows(&json(&run(
        ward(dir).args([
            "changes", "--db", "ward.db", "--org", "north", "--format", "json",
        ]),
        0,
    )));
    assert!(
        north
            .iter()
            .all(|r| r.0 != "policy.test" && r.0 != "new.test")
    );
    assert!(north.iter().any(|r| r.0 == "silent.test"));

    // An unknown organisation is a usage error naming the database and the known ids.
    let out = run(
        ward(dir).args(["changes", "--db", "ward.db", "--org", "nope"]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no organisation `nope` in ward.db (known: hq, north, york, leeds)"),
        "{err}"
    );
    // --since before the first scan finds nothing to compare with.
    let out = run(
        ward(dir).args(["changes", "--db", "ward.db", "--since", "2000-01-01"]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ward.db holds no complete scan before 2000-01-01T00:00:00Z"),
        "{err}"
    );

    // The table groups by organisation, then domain, in plain words.
    let out = run(ward(dir).args(["changes", "--db", "ward.db"]), 0);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("\nTest Party HQ (hq)\n  policy.test\n    worse"),
        "{table}"
    );
    assert!(table.contains("still could not tell  23 checks (dns.resolves, dns.ns, dns.caa and 20 more): could not tell"), "{table}");
    assert!(table.contains("spf.all: fail (high) → pass"), "{table}");
    // --fail-on-worse: exit 1, since something got worse.
    run(
        ward(dir).args(["changes", "--db", "ward.db", "--fail-on-worse"]),
        1,
    );

    // The report: "Since last time" lists the changes, worse first, with advice; and
    // each organisation's trend is drawn.
    let out = run(
        ward(dir).args(["report", "--org", "hq", "--db", "ward.db"]),
        0,
    );
    let html = String::from_utf8_lossy(&out.stdout);
    let since = section(&html, "changes");
    assert!(since.contains("dmarc.policy"), "{since}");
    assert!(since.contains("198.51.100.7"), "{since}");
    assert!(since.contains("spf.all"), "{since}");
    let worse_at = since.find("dmarc.policy").unwrap();
    let better_at = since.find("spf.all").unwrap();
    assert!(
        worse_at < better_at,
        "worse is listed after better:\n{since}"
    );
    // Leeds's domains could not tell or came back: none of that is "better".
    assert!(!since.contains(">better</td><td>Leeds Branch"), "{since}");
    assert!(
        since.contains(">still could not tell</td><td>Leeds Branch</td><td>silent.test</td>"),
        "{since}"
    );
    // One silent domain is one line, not one per check.
    assert_eq!(since.matches("<td>silent.test</td>").count(), 1, "{since}");
    let trends = section(&html, "org-trends");
    for org in ["Test Party HQ", "York Branch", "Leeds Branch"] {
        assert!(trends.contains(org), "{org} has no trend:\n{trends}");
    }
    // Two scans: each drawn organisation's score line has two points, and policy.test's
    // DMARC pass rate is drawn for HQ.
    assert!(trends.matches("<svg").count() >= 3, "{trends}");
    // policy.test's reports: 40 of 140 messages pass, all in the 30 days before both
    // scans; York's and Leeds's domains have no reports, so no rate at all.
    assert!(trends.contains("DMARC pass: 29%, 29%"), "{trends}");
    assert!(trends.contains("DMARC pass: –, –"), "{trends}");
}

/// The HTML of the section whose heading has `id`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in the report"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}
