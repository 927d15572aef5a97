//! Reports through the real binary and a real browser: the demo's HTML renders in headless
//! Chromium without console errors and with its main sections, and the PDF holds the
//! organisation's name and its top actions.
//!
//! Needs Debian's `chromium` and `poppler-utils` (`.ci/run` installs both); without them
//! these tests fail and say what to install, rather than passing without looking.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` not found: install the Debian package `{package}` (.ci/run does)")
        })
}

/// Runs headless Chromium on `page` with extra flags; returns (stdout, stderr).
fn chromium(dir: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let profile = dir.join(format!("profile-{}", extra.len()));
    let out = Command::new(tool("chromium", "chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--log-level=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages Chromium logged for the page.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

fn demo(dir: &Path) {
    run(ward(dir).args(["demo", "--format", "json"]), 0);
}

#[test]
fn demo_report_renders_in_chromium_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    for name in [
        "ward-demo-report.html",
        "ward-demo-branch-report.html",
        "ward-demo-brochure.html",
    ] {
        assert!(dir.path().join(name).is_file(), "demo did not write {name}");
    }
    // The detector works: a page that logs an error is caught.
    let noisy = dir.path().join("noisy.html");
    std::fs::write(
        &noisy,
        "<!DOCTYPE html><title>x</title><script>console.error('boom')</script>",
    )
    .unwrap();
    let (_, stderr) = chromium(dir.path(), &noisy, &["--dump-dom".into()]);
    assert_eq!(
        console_lines(&stderr).len(),
        1,
        "console detector missed: {stderr}"
    );

    let page = dir.path().join("ward-demo-report.html");
    let shot = dir.path().join("report.png");
    let (_, stderr) = chromium(
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,3000".into(),
        ],
    );
    assert_eq!(console_lines(&stderr), Vec::<&str>::new());
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "screenshot is suspiciously small: {} bytes",
        png.len()
    );

    let (dom, stderr) = chromium(dir.path(), &page, &["--dump-dom".into()]);
    assert_eq!(console_lines(&stderr), Vec::<&str>::new());
    for id in [
        "summary",
        "actions",
        "scores",
        "regions",
        "dmarc",
        "assessment",
        "details",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "section {id} missing from the rendered page"
        );
    }
    assert!(dom.contains("Example Party HQ"));
    for other in ["ward-demo-branch-report.html", "ward-demo-brochure.html"] {
        let (dom, stderr) = chromium(dir.path(), &dir.path().join(other), &["--dump-dom".into()]);
        assert_eq!(console_lines(&stderr), Vec::<&str>::new(), "{other}");
        assert!(dom.contains("<main>"), "{other} did not render");
    }
    assert!(dom.contains("branches from every high or critical exposure found"));
}

#[test]
fn pdf_report_holds_the_name_and_top_actions() {
    tool("chromium", "chromium");
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let db = ["--db", "ward-demo.db"];
    let out = run(
        ward(dir.path())
            .args(["report", "--org", "hq", "--format", "json"])
            .args(db),
        0,
    );
    let doc = json(&out);
    let actions: Vec<String> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|a| a["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions.len(),
        3,
        "the demo party should have at least 3 actions"
    );
    run(
        ward(dir.path())
            .args([
                "report",
                "--org",
                "hq",
                "--format",
                "pdf",
                "-o",
                "party.pdf",
            ])
            .args(db),
        0,
    );
    let text = Command::new(tool("pdftotext", "poppler-utils"))
        .args(["party.pdf", "-"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Example Party HQ: security posture"),
        "{text}"
    );
    for a in &actions {
        assert!(
            text.contains(a.as_str()),
            "top action `{a}` missing from the PDF"
        );
    }
    // The committee's PDF is a summary of a few pages; --detail full adds each domain's
    // problems and advice, but still no passing rows.
    let pages = |pdf: &str| {
        let info = Command::new(tool("pdfinfo", "poppler-utils"))
            .arg(pdf)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        info.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no page count in {info}"))
    };
    // A lapsed domain is a risk, not a middling 50: it scores 0.
    let kendal = doc["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["assets"].as_array().unwrap())
        .find(|a| a["domain"] == "kendal-exampleparty.example")
        .expect("the demo's lapsed domain");
    assert_eq!(kendal["score"], 0, "{}", kendal["score"]);
    let summary = pages("party.pdf");
    assert!(summary < 20, "the party's summary PDF has {summary} pages");
    assert!(
        !text.contains("What to do:"),
        "the summary holds per-domain advice"
    );
    let out = run(
        ward(dir.path())
            .args(["report", "--org", "hq", "--detail", "full"])
            .args(db),
        0,
    );
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("What to do:"));
    assert!(html.contains("passing or informational check(s) not listed"));
    assert!(
        !html.contains("<td class=\"pass\">"),
        "a pass row is listed"
    );
}

#[test]
fn report_refuses_pdf_to_a_terminal_and_unknown_organisations() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let out = run(
        ward(dir.path()).args([
            "report",
            "--org",
            "hq",
            "--db",
            "ward-demo.db",
            "--format",
            "pdf",
        ]),
        2,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ward: --format pdf needs -o FILE: a PDF is not written to a terminal\n"
    );
    let out = run(
        ward(dir.path()).args(["report", "--org", "atlantis", "--db", "ward-demo.db"]),
        2,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("ward: no organisation `atlantis` in ward-demo.db (known: hq, north,")
    );
}

#[test]
fn assess_stores_answers_that_join_the_report() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    std::fs::write(
        dir.path().join("answers.toml"),
        "answered_at = \"2026-11-20\"\n[answers]\nbackups = \"yes\"\nalerts = \"no\"\n",
    )
    .unwrap();
    let out = run(
        ward(dir.path()).args([
            "assess",
            "--org",
            "york",
            "--answers",
            "answers.toml",
            "--db",
            "ward-demo.db",
        ]),
        0,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // backups weighs 3 of 47: 6 of 94 halves is 6.4, rounded 6.
    assert!(
        stdout.starts_with(
            "2 answers stored for york (answered 2026-11-20): self-assessment score 6 out of 100."
        ),
        "{stdout}"
    );
    let out = run(
        ward(dir.path()).args([
            "report",
            "--org",
            "york",
            "--format",
            "json",
            "--db",
            "ward-demo.db",
        ]),
        0,
    );
    let doc = json(&out);
    let york = &doc["organisations"][0];
    assert_eq!(
        york["assessment"],
        serde_json::json!({ "answered_at": "2026-11-20", "score": 6 })
    );
    let scan = york["scan_score"].as_u64().unwrap();
    assert_eq!(york["score"].as_u64().unwrap(), (7 * scan + 3 * 6 + 5) / 10);
    // A typo in the answers file is refused by name.
    std::fs::write(dir.path().join("bad.toml"), "[answers]\nbakups = \"yes\"\n").unwrap();
    let out = run(
        ward(dir.path()).args([
            "assess",
            "--org",
            "york",
            "--answers",
            "bad.toml",
            "--db",
            "ward-demo.db",
        ]),
        2,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("ward: bad.toml: unknown question `bakups`")
    );
}

/// Without a browser on the PATH a PDF is the user's to fix (exit 2, what to install),
/// and no file is left behind.
#[test]
fn pdf_without_chromium_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let out = run(
        ward(dir.path()).env("PATH", &empty).args([
            "brochure",
            "--format",
            "pdf",
            "-o",
            "brochure.pdf",
        ]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ward: PDF output needs Chromium and none was found on the PATH"),
        "{err}"
    );
    assert!(err.contains("apt-get install chromium"), "{err}");
    assert!(!dir.path().join("brochure.pdf").exists());
}

/// `ward assess` with nothing to read stores nothing (the last assessment still counts in
/// the report), and a wrong organisation or database is refused before the first question.
#[test]
fn assess_without_answers_changes_nothing_and_checks_the_org_first() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let assessment = || {
        let out = run(
            ward(dir.path()).args([
                "report",
                "--org",
                "hq",
                "--format",
                "json",
                "--db",
                "ward-demo.db",
            ]),
            0,
        );
        json(&out)["organisations"][0]["assessment"].clone()
    };
    let before = assessment();
    assert!(before["score"].as_u64().unwrap() > 0, "{before}");
    // Standard input is empty (Command::output closes it).
    let out = run(
        ward(dir.path()).args(["assess", "--org", "hq", "--db", "ward-demo.db"]),
        0,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ward: no answers given; the stored self-assessment of hq is unchanged\n"
    );
    assert_eq!(assessment(), before);

    let out = run(
        ward(dir.path()).args(["assess", "--org", "atlantis", "--db", "ward-demo.db"]),
        2,
    );
    assert!(
        out.stdout.is_empty(),
        "asked before refusing: {:?}",
        out.stdout
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("ward: no organisation `atlantis` in ward-demo.db (known: hq,")
    );
    let out = run(
        ward(dir.path()).args(["assess", "--org", "hq", "--db", "typo.db"]),
        2,
    );
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ward: no database at typo.db"));
    assert!(!dir.path().join("typo.db").exists());
}

/// The numbers inside `<title>` and text of the report's SVG, found by a marker.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} missing from the report"));
    let rest = &s[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The charts say what they show: the score chart has an axis and a heading per
/// region, names the organisations it leaves out and why, and the party's figure is
/// labelled as the party's overall one, apart from HQ's own domains. The mail charts
/// draw each day's DMARC pass rate and each sending source from the stored reports, and
/// the score trend appears once the database holds a second scan.
#[test]
fn report_charts_label_scores_by_region_and_draw_mail_and_the_trend() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let html = std::fs::read_to_string(dir.path().join("ward-demo-report.html")).unwrap();

    let scores = between(&html, "<h2 id=\"scores\">", "</section>");
    for want in [
        "score out of 100",
        ">0</text>",
        ">50</text>",
        ">100</text>",
        "Region: North Region</text>",
        "Region: Midlands Region</text>",
        "Region: South Region</text>",
        "Example Party HQ (own domains)</text>",
        "Halifax Branch: no check of its domains got an answer",
    ] {
        assert!(scores.contains(want), "{want:?} missing from:\n{scores}");
    }
    // Halifax could not be judged, so it has no bar.
    assert!(!scores.contains("Halifax Branch</text>"), "{scores}");
    // Every branch of a region is drawn below that region's heading.
    let north = between(scores, "Region: North Region", "Region: Midlands Region");
    assert!(north.contains("York Branch</text>"), "{north}");
    assert!(!north.contains("Oxford Branch</text>"), "{north}");

    let summary = between(&html, "<h2 id=\"summary\">", "</section>");
    assert!(
        summary.contains("Example Party HQ overall, the mean of its"),
        "{summary}"
    );
    assert!(
        summary.contains("Example Party HQ's own domains (not its branches) score"),
        "{summary}"
    );

    // Mail: one bar per day of generated reports, and the table's days add up to the
    // total the text gives.
    let mail = between(&html, "<h2 id=\"mail\">", "</section>");
    let day_titles = mail.matches("% of ").count();
    assert_eq!(day_titles, ward_lab::demo::reports::DAYS as usize, "{mail}");
    let total: u64 = between(mail, "counted ", " message")["counted ".len()..]
        .parse()
        .unwrap();
    let table = between(mail, "<caption>DMARC pass rate per day", "</table>");
    let summed: u64 = table
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let cell = row.split("</td><td>").nth(1).unwrap();
            cell.parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(summed, total, "{table}");
    // The spoofing source fails everything it sends.
    assert!(
        mail.contains("203.0.113.200</text>") && mail.contains("· 0% pass"),
        "{mail}"
    );

    let trend = between(&html, "<h2 id=\"trend\">", "</section>");
    assert!(trend.contains("One scan so far"), "{trend}");
    run(
        ward(dir.path()).args(["demo", "--db", "ward-demo.db", "--report", "again.html"]),
        0,
    );
    let again = std::fs::read_to_string(dir.path().join("again.html")).unwrap();
    let trend = between(&again, "<h2 id=\"trend\">", "</section>");
    assert!(trend.contains("over the last 2 scans"), "{trend}");
    assert_eq!(trend.matches("<circle").count(), 2, "{trend}");
}
