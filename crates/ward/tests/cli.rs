//! The command line's promises: errors name the input and position, exit codes mean
//! what `ward --help` says, every format prints what docs/output.md says.

mod common;
use common::*;
use ward_lab::{DnsBehaviour, Lab};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn inventory_mistakes_name_file_line_and_column_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("party.toml"),
        "[[organisation]]\nid = \"hq\"\nname = \"HQ\"\nkind = \"party\"\nsize = \"huge\"\n",
    )
    .unwrap();
    let out = run(
        ward(dir.path()).args([
            "scan",
            "--resolver",
            "127.0.0.1:9",
            "--inventory",
            "party.toml",
        ]),
        2,
    );
    let err = stderr(&out);
    assert!(
        err.contains("party.toml:5:8: unknown variant `huge`"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2_with_a_way_forward() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        ward(dir.path()).args(["scan", "--resolver", "127.0.0.1:9"]),
        2,
    );
    assert!(
        stderr(&out).contains("nothing to scan: name domains, or give --inventory FILE"),
        "{}",
        stderr(&out)
    );
    let out = run(
        ward(dir.path()).args([
            "scan",
            "--resolver",
            "127.0.0.1:9",
            "--lab-ports",
            "53:99",
            "a.example",
        ]),
        2,
    );
    assert!(
        stderr(&out).contains("--lab-ports: `53:99` should look like 53=40053"),
        "{}",
        stderr(&out)
    );
    let out = run(
        ward(dir.path()).args(["scan", "--resolver", "127.0.0.1:9", "not a domain"]),
        2,
    );
    assert!(
        stderr(&out).contains("`not a domain` is not a domain name"),
        "{}",
        stderr(&out)
    );
    let out = run(
        ward(dir.path()).args([
            "scan",
            "--resolver",
            "127.0.0.1:9",
            "--dns-timeout",
            "99",
            "a.example",
        ]),
        2,
    );
    assert!(
        stderr(&out).contains("--dns-timeout must be between 0.05 and 30 seconds"),
        "{}",
        stderr(&out)
    );
}

fn one_ns_fixture() -> ward_lab::Fixture {
    fixture(
        vec![zone(
            "single.test",
            &[("ns.single.test", "127.0.70.1")],
            // Locked down as a parked domain should be, so that the lone nameserver is the
            // only failure of a parked scan and its severity decides the exit code.
            "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n@ IN MX 0 .\n",
        )],
        DnsBehaviour::default(),
    )
}

/// An inventory holding single.test as a parked domain of an organisation of `size`.
fn parked_inventory(dir: &std::path::Path, size: &str) -> String {
    let path = dir.join(format!("{size}.toml"));
    let text = format!(
        "[[organisation]]\nid = \"p\"\nname = \"P\"\nkind = \"party\"\nsize = \"{size}\"\n\n\
         [[organisation.domain]]\nname = \"single.test\"\nroles = [\"parked\"]\n"
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_sets_exit_1_only_at_or_above_the_threshold() {
    let lab = Lab::start(&one_ns_fixture()).await.unwrap();
    tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        let scan = |size: &str, fail_on: &str, expect: i32| {
            let mut cmd = ward(dir.path());
            cmd.arg("scan").args(lab_args(&lab));
            cmd.args([
                "--inventory",
                &parked_inventory(dir.path(), size),
                "--fail-on",
                fail_on,
            ]);
            let out = run(&mut cmd, expect);
            String::from_utf8(out.stdout).unwrap()
        };
        // dns.ns fails with medium severity for a small organisation, and is its only failure.
        let table = scan("small", "medium", 1);
        assert!(table.contains("medium   fail   dns.ns"), "{table}");
        assert_eq!(table.matches(" fail ").count(), 1, "{table}");
        scan("small", "high", 0);
        // Medium organisations rate the same gap higher.
        scan("medium", "high", 1);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_has_a_header_and_one_row_per_finding_and_db_keeps_the_scan() {
    let lab = Lab::start(&one_ns_fixture()).await.unwrap();
    tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = ward(dir.path());
        cmd.arg("scan").args(lab_args(&lab)).args([
            "--format",
            "csv",
            "--db",
            "s.db",
            "single.test",
        ]);
        let out = run(&mut cmd, 0);
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("scanned_at,organisation_id,organisation,domain,check,status,severity,summary")
        );
        let rows: Vec<&str> = lines.collect();
        assert!(
            rows.iter()
                .any(|r| r.contains(",single.test,dns.ns,fail,medium,")),
            "{text}"
        );
        // One row per check: no check repeated, and the DNS and SPF families all present.
        let checks: Vec<&str> = rows.iter().filter_map(|r| r.split(',').nth(4)).collect();
        let unique: std::collections::BTreeSet<&str> = checks.iter().copied().collect();
        assert_eq!(unique.len(), checks.len(), "{text}");
        for id in [
            "dns.resolves",
            "dns.ns",
            "dns.caa",
            "spf.present",
            "spf.all",
        ] {
            assert!(unique.contains(id), "{id} missing: {text}");
        }
        assert!(dir.path().join("s.db").exists());
    });
}

/// Each example in a command's help stands on its own line, as it would be typed.
#[test]
fn help_examples_are_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    for (command, example) in [
        (
            "scan",
            "ward scan --inventory party.toml --db ward.db --format json",
        ),
        (
            "assess",
            "ward assess --org hq --answers hq-answers.toml --db ward.db",
        ),
        (
            "report",
            "ward report --org leeds-central --format pdf -o leeds.pdf",
        ),
    ] {
        let help =
            String::from_utf8(run(ward(dir.path()).args([command, "--help"]), 0).stdout).unwrap();
        assert!(
            help.lines().any(|l| l.trim() == example),
            "`{example}` is not a line of `ward {command} --help`:\n{help}"
        );
    }
}

/// Log colour follows --color and NO_COLOR: none into a pipe by default, none with
/// NO_COLOR or --color never even when asked for on a terminal, and --color always wins.
#[test]
fn log_colour_follows_color_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "not a report\n").unwrap();
    let stderr = |color: Option<&str>, no_color: Option<&str>| {
        let mut cmd = ward(dir.path());
        cmd.arg("-vv");
        if let Some(c) = color {
            cmd.args(["--color", c]);
        }
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        cmd.args(["reports", "ingest", "--db", "r.db", "note.txt"]);
        let out = cmd.output().expect("ward runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(text.contains("DEBUG"), "no log lines to judge: {text}");
        text.contains('\u{1b}')
    };
    assert!(!stderr(None, None), "coloured into a pipe");
    assert!(!stderr(Some("auto"), Some("1")));
    assert!(!stderr(Some("never"), None));
    assert!(stderr(Some("always"), None));
    assert!(
        stderr(Some("always"), Some("1")),
        "the flag is the user's explicit choice"
    );
}

/// A resolver that refuses everything: ward says so first, the JSON carries the same
/// warning, "could not tell" carries no severity, and the exit status is 4, not a green 0,
/// even though no finding failed. --fail-on-unknown 0 turns the rule off.
#[test]
fn a_scan_that_could_check_nothing_says_so_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback has no listener here: every question is refused.
    let dead = [
        "scan",
        "--resolver",
        "127.0.0.1:9",
        "--dns-timeout",
        "0.2",
        "--dns-attempts",
        "1",
        "example.org",
    ];
    let out = run(ward(dir.path()).args(dead).args(["--fail-on", "low"]), 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("ward: warning: no domain could be looked up"),
        "{stderr}"
    );
    let out = run(ward(dir.path()).args(dead).args(["--format", "json"]), 4);
    let doc = json(&out);
    let warnings = doc["warnings"].as_array().expect("warnings in the JSON");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("no domain could be looked up")
    );
    for f in doc["assets"][0]["findings"].as_array().unwrap() {
        assert_eq!(f["status"], "error", "{f}");
        assert_eq!(
            f["severity"], "none",
            "could not tell is not a finding: {f}"
        );
    }
    run(
        ward(dir.path())
            .args(dead)
            .args(["--fail-on-unknown", "0", "--fail-on", "low"]),
        0,
    );
}
