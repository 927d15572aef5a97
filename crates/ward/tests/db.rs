//! `ward db` and the PostgreSQL backend through the binary: a party's SQLite history
//! copied into PostgreSQL reads back the same, and processes started at once on a fresh
//! PostgreSQL database all get a schema. The PostgreSQL server is a real one
//! (`ward_store::testing`: WARD_TEST_PG, or the private one `.ci/pg-start` starts).

mod common;

use common::{json, run, ward};
use std::process::Stdio;
use ward_store::Location;
use ward_store::testing::TestPg;

fn fresh_pg() -> TestPg {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestPg::new())
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_sqlite_history_copied_to_postgres_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    run(
        ward(dir.path()).args(["demo", "--db", "d.db", "--format", "json"]),
        0,
    );
    let pg = fresh_pg();
    let url = pg.url();

    let copied = json(&run(
        ward(dir.path()).args([
            "db", "copy", "--from", "d.db", "--to", url, "--format", "json",
        ]),
        0,
    ));
    assert_eq!(copied["to"], Location::parse(url).to_string());
    let rows = |table: &str| {
        copied["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .map(|t| t["rows"].as_u64().unwrap())
    };
    assert_eq!(rows("scans"), Some(1));
    // The demo's mail reports: 147 aggregate, 3 failure, 14 TLS.
    assert_eq!(rows("reports"), Some(164));
    assert!(rows("findings").unwrap() > 100, "{copied}");

    // The same report, summary and listing from either store; WARD_DB names the store
    // when --db is not given.
    for args in [
        &["report", "--org", "hq", "--format", "json"][..],
        &[
            "report", "--org", "bradford", "--format", "json", "--detail", "full",
        ],
        &["reports", "summary", "--offline", "--format", "json"],
    ] {
        let from_sqlite = run(ward(dir.path()).args(args).args(["--db", "d.db"]), 0);
        let from_pg = run(ward(dir.path()).args(args).env("WARD_DB", url), 0);
        assert_eq!(stdout(&from_pg), stdout(&from_sqlite), "ward {args:?}");
        assert!(
            from_sqlite.stdout.len() > 100,
            "ward {args:?} printed little"
        );
    }

    // A second copy into the same database is refused, naming it and the way out.
    let again = run(
        ward(dir.path()).args(["db", "copy", "--from", "d.db", "--to", url]),
        2,
    );
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains(&format!("database {} is not empty", Location::parse(url))),
        "{err}"
    );
    assert!(err.contains("--replace"), "{err}");
    // With --replace, and back out into a new SQLite file, it is still the same history.
    run(
        ward(dir.path()).args(["db", "copy", "--from", "d.db", "--to", url, "--replace"]),
        0,
    );
    run(
        ward(dir.path()).args(["db", "copy", "--from", url, "--to", "back.db"]),
        0,
    );
    let args = ["report", "--org", "hq", "--format", "json", "--db"];
    assert_eq!(
        stdout(&run(ward(dir.path()).args(args).arg("back.db"), 0)),
        stdout(&run(ward(dir.path()).args(args).arg("d.db"), 0)),
    );
}

/// Issue 15: ward processes started at once on a fresh PostgreSQL database. One applies
/// the migrations under the advisory lock; the others wait and find them applied.
#[test]
fn four_processes_migrating_a_fresh_database_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let pg = fresh_pg();
    let children: Vec<_> = (0..4)
        .map(|_| {
            ward(dir.path())
                .args(["db", "migrate", "--format", "json", "--db", pg.url()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied.push(json(&out)["applied"].as_array().unwrap().len());
    }
    applied.sort();
    assert_eq!(
        applied,
        vec![0, 0, 0, ward_store::Store::schema_version() as usize]
    );
    // And a scan's worth of work goes in afterwards.
    let out = run(
        ward(dir.path()).args(["db", "migrate", "--db", pg.url()]),
        0,
    );
    assert!(
        stdout(&out).contains(&format!(
            "up to date (version {})",
            ward_store::Store::schema_version()
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn copy_refuses_a_missing_source_and_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        ward(dir.path()).args(["db", "copy", "--from", "none.db", "--to", "t.db"]),
        2,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ward: no database at none.db to copy from; name an existing store with --from\n"
    );
    assert!(!dir.path().join("t.db").exists());
    run(ward(dir.path()).args(["db", "migrate", "--db", "a.db"]), 0);
    let out = run(
        ward(dir.path()).args(["db", "copy", "--from", "a.db", "--to", "./a.db"]),
        2,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ward: --from and --to are the same store (a.db); copy into another one\n"
    );
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        ward(dir.path())
            .args(["reports", "summary", "--offline"])
            .env("WARD_DB", "postgres://ward:hunter2@127.0.0.1:1/ward"),
        3,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ward: database postgres://ward:***@127.0.0.1:1/ward: "),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // --help never shows WARD_DB's value either.
    let help = run(
        ward(dir.path())
            .args(["reports", "summary", "--help"])
            .env("WARD_DB", "postgres://ward:hunter2@db/ward"),
        0,
    );
    let help = stdout(&help);
    assert!(help.contains("[env: WARD_DB]"), "{help}");
    assert!(!help.contains("hunter2"), "{help}");
}
