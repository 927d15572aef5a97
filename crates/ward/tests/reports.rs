//! `ward reports ingest` and `ward reports summary` through the real binary.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One `<record>`: source, count, aligned DKIM, aligned SPF, DKIM selector.
type Rec<'a> = (&'a str, u64, &'a str, &'a str, &'a str);

/// A DMARC aggregate report (RFC 7489) for `domain` with policy `p`.
fn aggregate(id: &str, domain: &str, p: &str, end: u64, records: &[Rec<'_>]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><version>1.0</version>\
         <report_metadata><org_name>rx.example</org_name><email>dmarc@rx.example</email>\
         <report_id>{id}</report_id><date_range><begin>{}</begin><end>{end}</end></date_range>\
         </report_metadata><policy_published><domain>{domain}</domain><adkim>r</adkim>\
         <aspf>r</aspf><p>{p}</p><pct>100</pct></policy_published>\n",
        end - 86_400
    );
    for (ip, count, dkim, spf, sel) in records {
        xml.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf>\
             </policy_evaluated></row><identifiers><header_from>{domain}</header_from>\
             </identifiers><auth_results><dkim><domain>{domain}</domain><selector>{sel}</selector>\
             <result>{dkim}</result></dkim><spf><domain>{domain}</domain><result>{spf}</result>\
             </spf></auth_results></record>\n"
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

fn simple(id: &str) -> String {
    aggregate(
        id,
        "party.example",
        "none",
        1_767_225_600,
        &[("192.0.2.1", 3, "pass", "pass", "s1")],
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A report message with `attachment` (named `name`, of type `ctype`) base64-encoded.
fn message(id: &str, name: &str, ctype: &str, attachment: &[u8]) -> String {
    format!(
        "From: dmarc@rx.example\r\nTo: rua@party.example\r\nSubject: Report-ID: {id}\r\n\
         Message-ID: <{id}@rx.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nA report.\r\n\
         --b1\r\nContent-Type: {ctype}; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        base64(attachment)
    )
}

const TLS: &str = r#"{"organization-name":"rx.example","date-range":{"start-datetime":"2026-01-01T00:00:00Z",
"end-datetime":"2026-01-01T23:59:59Z"},"contact-info":"tls@rx.example","report-id":"t-1",
"policies":[{"policy":{"policy-type":"sts","policy-domain":"party.example","mx-host":["mx1.party.example"]},
"summary":{"total-successful-session-count":90,"total-failure-session-count":10},
"failure-details":[{"result-type":"certificate-expired","receiving-mx-hostname":"mx1.party.example","failed-session-count":7},
{"result-type":"starttls-not-supported","receiving-mx-hostname":"mx2.party.example","failed-session-count":3}]}]}"#;

/// Nine distinct reports (eight aggregate or TLS, one failure) in every kind of container, one of them twice, and one
/// broken file.
fn mixed_corpus(dir: &Path) {
    let w = |p: &str, data: &[u8]| {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    w("a.xml", simple("r-a").as_bytes());
    w("b.xml.gz", &gzip(simple("r-b").as_bytes()));
    w("c.zip", &zip("c.xml", simple("r-c").as_bytes()));
    w(
        "d.eml",
        message(
            "r-d",
            "d.xml.gz",
            "application/gzip",
            &gzip(simple("r-d").as_bytes()),
        )
        .as_bytes(),
    );
    let mbox = format!(
        "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n{}\nFrom MAILER-DAEMON Thu Jan  1 00:00:00 2026\n{}\n",
        message(
            "r-e1",
            "e1.zip",
            "application/zip",
            &zip("e1.xml", simple("r-e1").as_bytes())
        )
        .replace("\r\n", "\n"),
        message("r-e2", "e2.xml", "text/xml", simple("r-e2").as_bytes()).replace("\r\n", "\n"),
    );
    w("e.mbox", mbox.as_bytes());
    w(
        "maildir/cur/1.host:2,S",
        message("r-f", "f.xml", "application/xml", simple("r-f").as_bytes()).as_bytes(),
    );
    w(
        "maildir/new/2.host",
        message(
            "t-1",
            "t.json.gz",
            "application/tlsrpt+gzip",
            &gzip(TLS.as_bytes()),
        )
        .as_bytes(),
    );
    w("maildir/tmp/ignored", b"half-delivered");
    // A DMARC failure report (ARF).
    w(
        "f.eml",
        b"From: abuse@rx.example\r\nTo: ruf@party.example\r\nSubject: auth failure\r\n\
Message-ID: <fail-1@rx.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"\r\n\r\n\
--b2\r\nContent-Type: text/plain\r\n\r\nAn authentication failure report.\r\n\
--b2\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\n\
User-Agent: rx/1.0\r\nVersion: 1\r\nSource-IP: 192.0.2.9\r\nReported-Domain: party.example\r\n\
Auth-Failure: dmarc\r\n\r\n--b2\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: ceo@party.example\r\nSubject: invoice\r\n\r\n--b2--\r\n",
    );
    // r-a again, gzipped, deeper down: a duplicate within one run.
    w("sub/deeper/a-again.xml.gz", &gzip(simple("r-a").as_bytes()));
    w(
        "broken.xml",
        b"<feedback><report_metadata><org_name>x</org_name>",
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn stored(db: &Path) -> Vec<(String, i64)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = ward_store::Store::open_sqlite(db).await.unwrap();
        let v = store
            .stored_reports()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.report_id, r.rows))
            .collect();
        store.close().await;
        v
    })
}

#[test]
fn ingesting_the_same_sources_twice_stores_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    mixed_corpus(&src);
    let db = dir.path().join("r.db");
    let args = ["reports", "ingest", "--db", "r.db", "src"];

    let first = run(ward(dir.path()).args(args), 2);
    assert_eq!(
        text(&first.stdout),
        "9 reports stored, 1 duplicate skipped, 1 failure\n"
    );
    let err = text(&first.stderr);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        vec![
            "ward: refused src/broken.xml: cut off: the document ends at line 1 (byte 49) with 2 element(s) still open; a complete report ends with </feedback>"
        ],
        "stderr:\n{err}"
    );
    let mut ids = stored(&db);
    ids.sort();
    let expect: Vec<(String, i64)> = [
        ("fail-1@rx.example", 0),
        ("r-a", 1),
        ("r-b", 1),
        ("r-c", 1),
        ("r-d", 1),
        ("r-e1", 1),
        ("r-e2", 1),
        ("r-f", 1),
        ("t-1", 1),
    ]
    .iter()
    .map(|(i, n)| ((*i).to_owned(), *n))
    .collect();
    assert_eq!(ids, expect);

    let second = run(ward(dir.path()).args(args), 2);
    assert_eq!(
        text(&second.stdout),
        "0 reports stored, 10 duplicates skipped, 1 failure\n"
    );
    let mut again = stored(&db);
    again.sort();
    assert_eq!(again, expect);

    // Without the broken file the run is clean: exit 0.
    let clean = run(
        ward(dir.path()).args([
            "reports",
            "ingest",
            "--db",
            "r.db",
            "src/a.xml",
            "src/e.mbox",
        ]),
        0,
    );
    assert_eq!(
        text(&clean.stdout),
        "0 reports stored, 3 duplicates skipped, 0 failures\n"
    );
}

#[test]
fn a_missing_source_is_named_and_the_rest_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.xml"), simple("r-a")).unwrap();
    let out = run(
        ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "nope", "a.xml"]),
        2,
    );
    assert_eq!(
        text(&out.stdout),
        "1 report stored, 0 duplicates skipped, 1 failure\n"
    );
    assert_eq!(
        text(&out.stderr),
        "ward: refused nope: I/O error: No such file or directory (os error 2)\n"
    );
}

/// Parsing runs on several threads, but reports are stored in the order the sources name
/// them (sorted within folders), so two runs over the same sources store alike. Sizes and
/// containers differ from file to file, so the threads finish out of step.
#[test]
fn reports_are_stored_in_source_order_whichever_thread_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("m")).unwrap();
    let mut expect = Vec::new();
    for i in 0..30 {
        let id = format!("r-{i:02}");
        let recs: Vec<String> = (0..(if i % 4 == 0 { 3_000 } else { 1 }))
            .map(|k| format!("10.0.{}.{}", k / 250, k % 250 + 1))
            .collect();
        let rows: Vec<Rec<'_>> = recs
            .iter()
            .map(|ip| (ip.as_str(), 1, "pass", "pass", "s1"))
            .collect();
        let xml = aggregate(&id, "party.example", "none", 1_767_225_600, &rows);
        let bytes = if i % 3 == 0 {
            gzip(xml.as_bytes())
        } else {
            xml.into_bytes()
        };
        // Folder "m" sorts after every "NN.xml" file, so its reports come last.
        let name = if i >= 25 {
            format!("m/{i:02}.xml")
        } else {
            format!("{i:02}.xml")
        };
        std::fs::write(src.join(name), bytes).unwrap();
        expect.push(id);
    }
    let out = run(
        ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "src"]),
        0,
    );
    assert_eq!(
        text(&out.stdout),
        "30 reports stored, 0 duplicates skipped, 0 failures\n"
    );
    let ids: Vec<String> = stored(&dir.path().join("r.db"))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, expect);
}

/// Report `i` of the kill test has this many records, so a half-stored one shows. Large
/// enough that the store spends a while inside each report's transaction (one INSERT per
/// record), so that a kill lands inside one report's writes often.
fn records_of(i: usize) -> usize {
    600 + i % 7
}

#[test]
fn a_killed_ingester_leaves_whole_reports_and_a_rerun_stores_the_rest() {
    const REPORTS: usize = 80;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..REPORTS {
        let recs: Vec<(String, u64)> = (0..records_of(i))
            .map(|k| {
                (
                    format!("10.{}.{}.{}", i % 200, k / 250, k % 250 + 1),
                    k as u64 + 1,
                )
            })
            .collect();
        let rows: Vec<Rec<'_>> = recs
            .iter()
            .map(|(ip, n)| (ip.as_str(), *n, "pass", "fail", "s1"))
            .collect();
        let xml = aggregate(
            &format!("k-{i:04}"),
            "party.example",
            "reject",
            1_767_225_600,
            &rows,
        );
        std::fs::write(src.join(format!("k-{i:04}.xml.gz")), gzip(xml.as_bytes())).unwrap();
    }
    let db = dir.path().join("k.db");
    // Kill -9 three times, each time a little later after the ingester began to store a
    // report, so that the cut lands at different points of writing it.
    let mut after_kill = Vec::new();
    for (round, delay_ms) in [0u64, 2, 5].into_iter().enumerate() {
        let mut child = ward(dir.path())
            .args(["-v", "reports", "ingest", "--db", "k.db", "big"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the ingester says it stored a few reports and has begun the next
        // one (it says both at -v), then cut it there.
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(Instant::now() < deadline, "no reports stored in time");
            match lines.next() {
                Some(Ok(l)) if l.contains("stored report") => seen += 1,
                Some(Ok(l)) if seen >= 3 && l.contains("storing report") => break,
                Some(Ok(_)) => {}
                _ => panic!("the ingester ended before it was killed (round {round})"),
            }
        }
        // Not a wait for an event: this picks where in that report's writes the cut falls.
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let now = stored(&db);
        assert!(
            now.len() >= after_kill.len() + 3 && now.len() < REPORTS,
            "round {round}: killed part-way, {} of {REPORTS} stored",
            now.len()
        );
        for (id, rows) in &now {
            let i: usize = id.trim_start_matches("k-").parse().unwrap();
            assert_eq!(*rows as usize, records_of(i), "report {id} is half-stored");
        }
        after_kill = now;
    }

    let rerun = run(
        ward(dir.path()).args(["reports", "ingest", "--db", "k.db", "big"]),
        0,
    );
    assert_eq!(
        text(&rerun.stdout),
        format!(
            "{} reports stored, {} duplicates skipped, 0 failures\n",
            REPORTS - after_kill.len(),
            after_kill.len()
        )
    );
    let all = stored(&db);
    assert_eq!(all.len(), REPORTS);
    let mut ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), REPORTS);
    for (id, rows) in &all {
        let i: usize = id.trim_start_matches("k-").parse().unwrap();
        assert_eq!(*rows as usize, records_of(i), "report {id}");
    }
}

#[test]
fn summary_shows_rates_sources_selectors_tls_failures_phase_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    // party.example: p=none; 900 of 1000 messages pass; one source (198.51.100.7)
    // sends 100 failing messages: over the threshold.
    std::fs::write(
        src.join("p1.xml"),
        aggregate(
            "p1",
            "party.example",
            "none",
            1_767_225_600,
            &[
                ("192.0.2.1", 600, "pass", "pass", "s1"),
                ("192.0.2.2", 300, "fail", "pass", "s2"),
                ("198.51.100.7", 100, "fail", "fail", "x"),
            ],
        ),
    )
    .unwrap();
    // branch.example: p=reject, everything passes but 5 messages (under the threshold).
    std::fs::write(
        src.join("b1.xml"),
        aggregate(
            "b1",
            "branch.example",
            "reject",
            1_767_225_600,
            &[
                ("192.0.2.1", 995, "pass", "fail", "s1"),
                ("203.0.113.9", 5, "fail", "fail", "s9"),
            ],
        ),
    )
    .unwrap();
    std::fs::write(src.join("t.json"), TLS).unwrap();
    run(
        ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "src"]),
        0,
    );
    let doc = json(&run(
        ward(dir.path()).args([
            "reports",
            "summary",
            "--db",
            "r.db",
            "--offline",
            "--format",
            "json",
        ]),
        0,
    ));
    assert_eq!(doc["aggregate_reports"], 2);
    assert_eq!(doc["tls_reports"], 1);
    let domains = doc["domains"].as_array().unwrap();
    let names: Vec<&str> = domains
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["branch.example", "party.example"]);
    let party = &domains[1];
    assert_eq!(party["messages"], 1000);
    assert_eq!(party["dmarc_pass"], 900);
    assert_eq!(party["spf_aligned"], 900);
    assert_eq!(party["dkim_aligned"], 600);
    assert_eq!(party["dmarc_pass_rate"], 0.9);
    assert_eq!(party["spf_alignment_rate"], 0.9);
    assert_eq!(party["dkim_alignment_rate"], 0.6);
    assert_eq!(party["phase"], "assess");
    let sources: Vec<(&str, u64)> = party["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["ip"].as_str().unwrap(), s["messages"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("192.0.2.1", 600),
            ("192.0.2.2", 300),
            ("198.51.100.7", 100)
        ]
    );
    let sels: Vec<(&str, u64, u64)> = party["selectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["selector"].as_str().unwrap(),
                s["messages"].as_u64().unwrap(),
                s["pass"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sels, [("s1", 600, 600), ("s2", 300, 0), ("x", 100, 0)]);
    assert_eq!(domains[0]["phase"], "maintain");
    let tls = &doc["tls"][0];
    assert_eq!(tls["domain"], "party.example");
    assert_eq!(
        (tls["successful"].as_u64(), tls["failed"].as_u64()),
        (Some(90), Some(10))
    );
    assert_eq!(
        tls["failures"],
        serde_json::json!([
            {"mx": "mx1.party.example", "result_type": "certificate-expired", "sessions": 7},
            {"mx": "mx2.party.example", "result_type": "starttls-not-supported", "sessions": 3},
        ])
    );
    let findings: Vec<(&str, &str, &str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["domain"].as_str().unwrap(),
                f["finding"]["check"].as_str().unwrap(),
                f["finding"]["status"].as_str().unwrap(),
                f["finding"]["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (
                "branch.example",
                "reports.unauthenticated_sources",
                "pass",
                "none"
            ),
            (
                "party.example",
                "reports.unauthenticated_sources",
                "fail",
                "medium"
            ),
            ("party.example", "reports.tls_failures", "fail", "medium"),
        ]
    );
    assert_eq!(
        doc["findings"][1]["finding"]["evidence"]["sources"],
        serde_json::json!([{"ip": "198.51.100.7", "reverse_name": null, "service": null,
            "messages": 100, "failing": 100}])
    );

    // --domain narrows it; the table says the same things for people.
    let table = text(
        &run(
            ward(dir.path()).args([
                "reports",
                "summary",
                "--db",
                "r.db",
                "--offline",
                "--domain",
                "Party.Example",
            ]),
            0,
        )
        .stdout,
    );
    assert!(!table.contains("branch.example"), "{table}");
    for want in [
        "Reports: 1 aggregate, 0 failure, 1 TLS",
        "  phase assess   policy p=none pct=100",
        "  messages 1000   DMARC pass 90.0%   SPF aligned 90.0%   DKIM aligned 60.0%",
        "    198.51.100.7 100 of 100 messages fail DMARC",
        "  DKIM selectors: s1._domainkey.party.example, s2._domainkey.party.example, x._domainkey.party.example",
        "party.example (TLS): 90 sessions succeeded, 10 failed",
    ] {
        assert!(
            table.lines().any(|l| l == want),
            "missing {want:?} in:\n{table}"
        );
    }

    // --since leaves out reports that ended before the window.
    let recent = json(&run(
        ward(dir.path()).args([
            "reports",
            "summary",
            "--db",
            "r.db",
            "--offline",
            "--format",
            "json",
            "--since",
            "1d",
        ]),
        0,
    ));
    assert_eq!(recent["aggregate_reports"], 0);
    // A bad age is a usage error that says how to write one.
    let bad = run(
        ward(dir.path()).args([
            "reports",
            "summary",
            "--db",
            "r.db",
            "--offline",
            "--since",
            "30",
        ]),
        2,
    );
    assert_eq!(
        text(&bad.stderr),
        "ward: --since \"30\": give a number and a unit, e.g. 30d, 12h or 2w\n"
    );
}

/// Without --offline, sources get their reverse names (PTR, through the resolver) and
/// the service those belong to; an address without a PTR record gets neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_names_sources_by_reverse_lookup_and_service() {
    let lab = ward_lab::Lab::start(&fixture(
        vec![zone(
            "2.0.192.in-addr.arpa",
            &[("ns1.2.0.192.in-addr.arpa", "127.0.61.1")],
            "1 IN PTR mail-sor-f41.google.com.\n2 IN PTR o1.ptr7.sendgrid.net.\n",
        )],
        ward_lab::DnsBehaviour::default(),
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.xml"),
        aggregate(
            "p1",
            "party.example",
            "none",
            1_767_225_600,
            &[
                ("192.0.2.1", 30, "pass", "pass", "s1"),
                ("192.0.2.2", 20, "pass", "fail", "s2"),
                ("192.0.2.3", 10, "fail", "fail", "x"),
            ],
        ),
    )
    .unwrap();
    let doc = tokio::task::block_in_place(|| {
        run(
            ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "p.xml"]),
            0,
        );
        json(&run(
            ward(dir.path())
                .args(["reports", "summary", "--db", "r.db", "--format", "json"])
                .args(["--resolver", &lab.resolver().to_string()]),
            0,
        ))
    });
    let named: Vec<(String, serde_json::Value, serde_json::Value)> = doc["domains"][0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["ip"].as_str().unwrap().to_owned(),
                s["reverse_name"].clone(),
                s["service"].clone(),
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![
            (
                "192.0.2.1".to_owned(),
                serde_json::json!("mail-sor-f41.google.com"),
                serde_json::json!("Google")
            ),
            (
                "192.0.2.2".to_owned(),
                serde_json::json!("o1.ptr7.sendgrid.net"),
                serde_json::json!("SendGrid")
            ),
            (
                "192.0.2.3".to_owned(),
                serde_json::Value::Null,
                serde_json::Value::Null
            ),
        ]
    );
}

/// DMARC aggregate reports exported as JSON are told from TLS reports by their
/// keys and stored like their XML form: a parsedmarc-style list of two (one gzipped, as
/// exports are mailed), and the XML mirrored one to one. JSON that is neither kind is
/// refused naming what it looked like, and the batch goes on.
#[test]
fn json_aggregate_reports_are_read_by_content_and_other_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let parsedmarc = serde_json::json!([
        {
            "xml_schema": "draft",
            "report_metadata": {
                "org_name": "Receiver One", "org_email": "dmarc@rx1.example",
                "report_id": "pj-1", "begin_date": "2026-12-01 00:00:00",
                "end_date": "2026-12-01 23:59:59", "errors": []
            },
            "policy_published": {"domain": "party.example", "adkim": "r", "aspf": "r",
                                 "p": "none", "sp": null, "pct": "100", "fo": null},
            "records": [{
                "source": {"ip_address": "192.0.2.10", "reverse_dns": null, "country": null},
                "count": 7,
                "alignment": {"spf": true, "dkim": false, "dmarc": true},
                "policy_evaluated": {"disposition": "none", "dkim": "fail", "spf": "pass",
                                     "policy_override_reasons": []},
                "identifiers": {"header_from": "party.example", "envelope_from": "party.example",
                                "envelope_to": null},
                "auth_results": {"dkim": [],
                                 "spf": [{"domain": "party.example", "scope": "mfrom", "result": "pass"}]}
            }, {
                "source": {"ip_address": "198.51.100.5"},
                "count": 2,
                "policy_evaluated": {"disposition": "none", "dkim": "fail", "spf": "fail"},
                "identifiers": {"header_from": "party.example"},
                "auth_results": {"spf": [{"domain": "spoof.example", "result": "fail"}]}
            }]
        },
        {
            "report_metadata": {
                "org_name": "Receiver One", "org_email": "dmarc@rx1.example",
                "report_id": "pj-2", "begin_date": "2026-12-02 00:00:00",
                "end_date": "2026-12-02 23:59:59"
            },
            "policy_published": {"domain": "party.example", "p": "none"},
            "records": [{
                "source": {"ip_address": "192.0.2.10"}, "count": 3,
                "policy_evaluated": {"disposition": "none", "dkim": "pass", "spf": "pass"},
                "identifiers": {"header_from": "party.example"},
                "auth_results": {"spf": [{"domain": "party.example", "result": "pass"}]}
            }]
        }
    ]);
    let mirrored = serde_json::json!({"feedback": {
        "version": "1.0",
        "report_metadata": {"org_name": "Receiver Two", "email": "r@rx2.example",
                            "report_id": "mj-1", "date_range": {"begin": 1_796_169_600u64, "end": 1_796_255_999u64}},
        "policy_published": {"domain": "party.example", "p": "quarantine"},
        "record": {"row": {"source_ip": "192.0.2.10", "count": 4,
                           "policy_evaluated": {"disposition": "none", "dkim": "pass", "spf": "pass"}},
                   "identifiers": {"header_from": "party.example"},
                   "auth_results": {"dkim": {"domain": "party.example", "selector": "s1", "result": "pass"},
                                    "spf": {"domain": "party.example", "result": "pass"}}}
    }});
    std::fs::write(
        dir.path().join("export.json.gz"),
        gzip(parsedmarc.to_string().as_bytes()),
    )
    .unwrap();
    std::fs::write(dir.path().join("mirrored.json"), mirrored.to_string()).unwrap();
    std::fs::write(
        dir.path().join("inventory.json"),
        r#"{"name": "Party", "items": [1, 2]}"#,
    )
    .unwrap();
    let out = run(
        ward(dir.path()).args([
            "reports",
            "ingest",
            "--db",
            "r.db",
            "export.json.gz",
            "mirrored.json",
            "inventory.json",
        ]),
        2,
    );
    assert_eq!(
        text(&out.stdout),
        "3 reports stored, 0 duplicates skipped, 1 failure\n"
    );
    assert_eq!(
        text(&out.stderr),
        "ward: refused inventory.json: JSON is neither a DMARC aggregate report nor an SMTP TLS \
         report: it is an object with keys items, name\n"
    );
    let mut ids = stored(&dir.path().join("r.db"));
    ids.sort();
    assert_eq!(
        ids,
        [("mj-1", 1), ("pj-1", 2), ("pj-2", 1)]
            .iter()
            .map(|(i, n)| ((*i).to_owned(), *n))
            .collect::<Vec<_>>()
    );

    // The summary counts the JSON reports' messages like any others: 7 + 2 + 3 + 4.
    let summary = run(
        ward(dir.path()).args([
            "reports",
            "summary",
            "--db",
            "r.db",
            "--domain",
            "party.example",
            "--format",
            "json",
        ]),
        0,
    );
    let v = json(&summary);
    assert_eq!(v["domains"][0]["messages"], 16, "{v:#}");
}

/// Four ingesters started at once on a database file that does not exist yet, ten
/// times over: each must create or find the schema (not fail because another created
/// it first), and between them store every report exactly once, the one report they
/// all carry included.
#[test]
fn four_ingesters_racing_on_a_new_database_all_succeed() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        for k in 0..4 {
            let folder = dir.path().join(format!("in{k}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("own.xml"), simple(&format!("own-{k}"))).unwrap();
            std::fs::write(folder.join("shared.xml"), simple("shared")).unwrap();
        }
        let children: Vec<_> = (0..4)
            .map(|k| {
                ward(dir.path())
                    .args(["reports", "ingest", "--db", "r.db", &format!("in{k}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: stdout {}\nstderr {}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        let mut ids: Vec<String> = stored(&dir.path().join("r.db"))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            ["own-0", "own-1", "own-2", "own-3", "shared"],
            "round {round}"
        );
    }
}

/// A report cut off anywhere (inside a tag, between records, before the closing root
/// tag, inside a gzip member, inside a zip member, inside a MIME part, or cut and then
/// compressed whole) is refused, naming the file and where it ended; and the complete
/// copy that arrives later is stored with every record, not skipped as a duplicate of
/// the cut one.
#[test]
fn a_cut_off_report_is_refused_and_the_complete_copy_is_stored_later() {
    let records = [
        ("192.0.2.1", 3, "pass", "pass", "s1"),
        ("192.0.2.2", 5, "fail", "pass", "s1"),
        ("192.0.2.3", 7, "fail", "fail", "s2"),
    ];
    let full = aggregate("cut-1", "party.example", "none", 1_767_225_600, &records);
    let first_record_end = full.find("</record>\n").unwrap() + "</record>\n".len();
    let inside_tag = full[first_record_end..].find("<record>").unwrap() + first_record_end + 4;
    let before_root_close = full.rfind("</feedback>").unwrap();
    let gz = gzip(full.as_bytes());
    let zipped = zip("cut.xml", full.as_bytes());
    let mail = message("cut-1", "cut.xml.gz", "application/gzip", &gz);
    let attachment_middle = mail.find("Content-Transfer-Encoding: base64").unwrap() + 200;
    let cuts: Vec<(&str, Vec<u8>)> = vec![
        ("inside-tag.xml", full.as_bytes()[..inside_tag].to_vec()),
        (
            "between-records.xml",
            full.as_bytes()[..first_record_end].to_vec(),
        ),
        (
            "before-root-close.xml",
            full.as_bytes()[..before_root_close].to_vec(),
        ),
        ("inside-gzip.xml.gz", gz[..gz.len() / 2].to_vec()),
        ("gzip-trailer-missing.xml.gz", gz[..gz.len() - 8].to_vec()),
        (
            "cut-then-gzipped.xml.gz",
            gzip(&full.as_bytes()[..first_record_end]),
        ),
        ("inside-zip.zip", zipped[..zipped.len() * 2 / 3].to_vec()),
        (
            "inside-mime.eml",
            format!("{}\r\n", &mail[..attachment_middle]).into_bytes(),
        ),
    ];
    for (name, bytes) in cuts {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let cut = run(
            ward(dir.path()).args(["reports", "ingest", "--db", "r.db", name]),
            2,
        );
        let err = text(&cut.stderr);
        assert!(
            err.contains(&format!("refused {name}")),
            "{name}: stderr {err}"
        );
        assert_eq!(
            text(&cut.stdout),
            "0 reports stored, 0 duplicates skipped, 1 failure\n",
            "{name}: stderr {err}"
        );
        std::fs::write(dir.path().join("full.xml"), &full).unwrap();
        let later = run(
            ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "full.xml"]),
            0,
        );
        assert_eq!(
            text(&later.stdout),
            "1 report stored, 0 duplicates skipped, 0 failures\n",
            "{name}"
        );
        assert_eq!(
            stored(&dir.path().join("r.db")),
            [("cut-1".to_owned(), 3)],
            "{name}"
        );
        eprintln!("{name}: {err}");
    }
}

/// Two copies of one report (same reporter, id and range) that differ: the longer one
/// is kept whichever came first, and each time ward says what it did. An exact copy is
/// a plain duplicate.
#[test]
fn of_two_differing_copies_of_a_report_the_longer_is_kept_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let rec = |ip: &'static str| (ip, 2, "pass", "pass", "s1");
    let short = aggregate(
        "same-1",
        "party.example",
        "none",
        1_767_225_600,
        &[rec("192.0.2.1")],
    );
    let long = aggregate(
        "same-1",
        "party.example",
        "none",
        1_767_225_600,
        &[rec("192.0.2.1"), rec("192.0.2.2"), rec("192.0.2.3")],
    );
    std::fs::write(dir.path().join("short.xml"), &short).unwrap();
    std::fs::write(dir.path().join("long.xml.gz"), gzip(long.as_bytes())).unwrap();
    let ingest = |file: &str| {
        let out = run(
            ward(dir.path()).args(["reports", "ingest", "--db", "r.db", file]),
            0,
        );
        (text(&out.stdout), text(&out.stderr))
    };
    let db = dir.path().join("r.db");

    let (out, err) = ingest("short.xml");
    assert_eq!(out, "1 report stored, 0 duplicates skipped, 0 failures\n");
    assert_eq!(err, "");
    let (out, err) = ingest("long.xml.gz");
    assert_eq!(
        out,
        "1 report stored (1 replacing a shorter copy), 0 duplicates skipped, 0 failures\n"
    );
    assert_eq!(
        err,
        "ward: long.xml.gz replaced the stored copy of the same report (1 record before, 3 now)\n"
    );
    assert_eq!(stored(&db), [("same-1".to_owned(), 3)]);

    let (out, err) = ingest("short.xml");
    assert_eq!(out, "0 reports stored, 1 duplicate skipped, 0 failures\n");
    assert_eq!(
        err,
        "ward: short.xml differs from the stored copy of the same report; kept the stored one (3 records; this one has 1 record)\n"
    );
    assert_eq!(stored(&db), [("same-1".to_owned(), 3)]);

    // The long copy again, plain this time: the same content, so a quiet duplicate.
    std::fs::write(dir.path().join("long.xml"), &long).unwrap();
    let (out, err) = ingest("long.xml");
    assert_eq!(out, "0 reports stored, 1 duplicate skipped, 0 failures\n");
    assert_eq!(err, "");
}

/// An aggregate report of this many records is over the size ward reads whole, so it
/// is read and stored in parts.
const LARGE: usize = 6_000;

fn large_report(id: &str) -> String {
    let records: Vec<(String, u64)> = (0..LARGE)
        .map(|i| {
            (
                format!("198.51.{}.{}", i / 250, 1 + i % 250),
                1 + (i % 7) as u64,
            )
        })
        .collect();
    let recs: Vec<Rec<'_>> = records
        .iter()
        .map(|(ip, n)| (ip.as_str(), *n, "pass", "fail", "s1"))
        .collect();
    let xml = aggregate(id, "party.example", "reject", 1_767_225_600, &recs);
    assert!(
        xml.len() as u64 > ward_reports::unpack::WHOLE_UP_TO,
        "{} bytes",
        xml.len()
    );
    xml
}

/// A report too large to hold whole is stored in parts, inside one transaction: read to
/// its end, every record is stored once; cut off part-way (plain, or inside its gzip),
/// nothing of it is stored, and the complete copy that comes later is stored in full.
/// Met again, the same large file is a duplicate, skipped before its body is read.
#[test]
fn a_large_report_is_stored_in_parts_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let full = large_report("large-1");
    // Cut between records, as a download that stopped would be: well-formed so far.
    let cut = &full[..full[..full.len() * 3 / 4].rfind("</record>\n").unwrap() + 10];
    assert!(cut.len() as u64 > ward_reports::unpack::WHOLE_UP_TO);
    std::fs::write(dir.path().join("cut.xml"), cut).unwrap();
    std::fs::write(dir.path().join("cut.xml.gz"), gzip(cut.as_bytes())).unwrap();
    std::fs::write(dir.path().join("full.xml"), &full).unwrap();
    std::fs::write(dir.path().join("full.xml.gz"), gzip(full.as_bytes())).unwrap();
    let db = dir.path().join("r.db");
    let ingest = |file: &str, code: i32| {
        let out = run(
            ward(dir.path()).args(["reports", "ingest", "--db", "r.db", file]),
            code,
        );
        (text(&out.stdout), text(&out.stderr))
    };

    for file in ["cut.xml", "cut.xml.gz"] {
        let (out, err) = ingest(file, 2);
        assert_eq!(
            out, "0 reports stored, 0 duplicates skipped, 1 failure\n",
            "{file}"
        );
        assert!(
            err.starts_with(&format!(
                "ward: refused {file}: cut off: the document ends at byte "
            )),
            "{file}: {err}"
        );
        assert!(stored(&db).is_empty(), "{file}: {:?}", stored(&db));
    }
    let (out, err) = ingest("full.xml", 0);
    assert_eq!(
        out, "1 report stored, 0 duplicates skipped, 0 failures\n",
        "{err}"
    );
    assert_eq!(stored(&db), [("large-1".to_owned(), LARGE as i64)]);
    // The same report in another container: read, and found to be the same content.
    let (out, err) = ingest("full.xml.gz", 0);
    assert_eq!(out, "0 reports stored, 1 duplicate skipped, 0 failures\n");
    assert_eq!(err, "");
    // The same file again: skipped unread (the log says so).
    let again = run(
        ward(dir.path())
            .env("RUST_LOG", "ward_reports=info")
            .args(["reports", "ingest", "--db", "r.db", "full.xml"]),
        0,
    );
    assert_eq!(
        text(&again.stdout),
        "0 reports stored, 1 duplicate skipped, 0 failures\n"
    );
    assert!(
        text(&again.stderr).contains("file stored before; skipped unread"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(stored(&db), [("large-1".to_owned(), LARGE as i64)]);
}

/// Large reports read in parts from inside mail (an mbox, a Maildir): each is stored
/// with all its records, in source order with the small reports around it.
#[test]
fn large_reports_inside_mail_are_stored_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let large = gzip(large_report("large-m").as_bytes());
    let mbox = format!(
        "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n{}\nFrom MAILER-DAEMON Thu Jan  1 00:00:00 2026\n{}\n",
        message("large-m", "large.xml.gz", "application/gzip", &large).replace("\r\n", "\n"),
        message(
            "small-m",
            "small.xml",
            "text/xml",
            simple("small-m").as_bytes()
        )
        .replace("\r\n", "\n"),
    );
    std::fs::write(dir.path().join("box.mbox"), mbox).unwrap();
    let maildir = dir.path().join("md/cur");
    std::fs::create_dir_all(&maildir).unwrap();
    std::fs::write(
        maildir.join("1.host:2,S"),
        message(
            "large-d",
            "large.xml.gz",
            "application/gzip",
            &gzip(large_report("large-d").as_bytes()),
        ),
    )
    .unwrap();
    let out = run(
        ward(dir.path()).args(["reports", "ingest", "--db", "r.db", "box.mbox", "md"]),
        0,
    );
    assert_eq!(
        text(&out.stdout),
        "3 reports stored, 0 duplicates skipped, 0 failures\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        stored(&dir.path().join("r.db")),
        [
            ("large-m".to_owned(), LARGE as i64),
            ("small-m".to_owned(), 1),
            ("large-d".to_owned(), LARGE as i64)
        ]
    );
}
