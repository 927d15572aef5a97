//! One store test suite, run on both backends: every test below is a function of a
//! fresh store, and `on_both!` runs it once on a SQLite file in a temporary folder and
//! once on a fresh database of a real PostgreSQL server (`ward_store::testing`). Without
//! a PostgreSQL server the PostgreSQL half fails, saying how to get one.

use time::OffsetDateTime;
use time::macros::datetime;
use ward_model::observe::AssetObservation;
use ward_model::report_rows::{Col, ReportRows};
use ward_model::{
    AssetReport, CheckId, DmarcPhase, Finding, OrgKind, Organisation, Role, Severity, SizeClass,
    Status,
};
use ward_store::testing::TestPg;
use ward_store::{
    DeadLetter, Delivery, NewAlertEvent, NewJob, Outcome, ReportFilter, Saved, ScanId, Store,
    StoredAssessment,
};

/// A store under test, and what keeps its database alive.
struct Db {
    store: Store,
    _keep: Keep,
}

enum Keep {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] TestPg),
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    Db {
        store,
        _keep: Keep::Dir(dir),
    }
}

async fn postgres() -> Db {
    let pg = TestPg::new().await;
    let store = Store::open(pg.url()).await.unwrap();
    Db {
        store,
        _keep: Keep::Pg(pg),
    }
}

/// Generates `sqlite::NAME` and `postgres::NAME` for each test function `NAME(Db)`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::postgres().await).await })*
        }
    };
}

on_both!(
    workers_take_disjoint_jobs_and_a_lost_job_is_stored_once,
    one_round_is_open_at_a_time,
    each_part_of_an_observation_keeps_when_it_was_seen,
    accounts_sessions_and_tokens_hold_on_both,
    a_claim_waits_is_verified_and_is_lost_when_its_proof_goes,
    an_invitation_works_once_and_not_after_it_expires,
    a_domain_history_is_its_complete_scans_newest_first,
    reopening_applies_no_migration,
    organisations_keep_their_order_and_are_replaced,
    a_scan_round_trips,
    the_latest_report_is_the_newest_complete_scan,
    an_asset_with_a_duplicate_finding_is_stored_not_at_all,
    reports_are_stored_once_and_summed,
    a_longer_copy_replaces_a_shorter_one,
    a_batch_stores_each_report_or_names_the_failing_one,
    a_report_in_parts_is_kept_only_when_finished,
    a_file_seen_before_is_known,
    the_newest_assessment_wins,
    the_copy_covers_every_table_and_column,
    an_alert_is_due_once_per_contact_and_regression,
);

const T0: OffsetDateTime = datetime!(2026-11-26 01:00 UTC);

fn org(id: &str, kind: OrgKind, parent: Option<&str>) -> Organisation {
    Organisation {
        id: id.into(),
        name: format!("Org {id}"),
        kind,
        size: SizeClass::Small,
        parent: parent.map(Into::into),
        assets: Vec::new(),
    }
}

fn finding(check: CheckId, status: Status, summary: &str) -> Finding {
    Finding {
        check,
        status,
        severity: Severity::Medium,
        summary: summary.into(),
        evidence: serde_json::json!({ "seen": summary, "n": [1, 2] }).into(),
    }
}

fn asset(domain: &str, org: &str, findings: Vec<Finding>) -> AssetReport {
    AssetReport {
        domain: domain.into(),
        organisation: format!("Org {org}"),
        organisation_id: org.into(),
        roles: vec![Role::Mail, Role::Web],
        findings,
        dmarc_phase: Some(DmarcPhase::Deploy),
    }
}

async fn reopening_applies_no_migration(db: Db) {
    let (again, applied) = Store::open_migrating(db.store.location()).await.unwrap();
    assert_eq!(applied, vec![]);
    assert_eq!(again.backend(), db.store.backend());
    // The first open applied every migration; a fresh store has no scans.
    assert_eq!(again.scans().await.unwrap(), vec![]);
}

async fn organisations_keep_their_order_and_are_replaced(db: Db) {
    let s = &db.store;
    // Not in name order: the order given is kept.
    let tree = vec![
        org("hq", OrgKind::Party, None),
        org("zeta", OrgKind::Region, Some("hq")),
        org("alpha", OrgKind::Branch, Some("zeta")),
    ];
    s.save_organisations(&tree).await.unwrap();
    assert_eq!(s.organisations().await.unwrap(), tree);
    let smaller = vec![org("hq", OrgKind::Party, None)];
    s.save_organisations(&smaller).await.unwrap();
    assert_eq!(s.organisations().await.unwrap(), smaller);
}

async fn a_scan_round_trips(db: Db) {
    let s = &db.store;
    let scan = s.begin_scan(T0, "0.1.0-test").await.unwrap();
    let a = asset(
        "b.example",
        "hq",
        vec![
            finding(CheckId::ALL[1], Status::Fail, "second"),
            finding(CheckId::ALL[0], Status::Pass, "first, with ünïcode"),
        ],
    );
    let b = AssetReport {
        dmarc_phase: None,
        roles: vec![Role::Parked],
        ..asset("a.example", "north", vec![])
    };
    let mut obs = AssetObservation::new("b.example", T0);
    obs.dns.clear();
    s.save_asset(scan, 0, &a, &obs).await.unwrap();
    s.save_asset(scan, 1, &b, &AssetObservation::new("a.example", T0))
        .await
        .unwrap();

    // Running: listed as incomplete, not yet the latest report.
    let listed = s.scans().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id, listed[0].complete, listed[0].assets),
        (scan, false, 2)
    );
    assert_eq!(listed[0].started_at, T0);
    assert_eq!(s.latest_report().await.unwrap(), None);

    s.finish_scan(scan, T0 + time::Duration::minutes(3))
        .await
        .unwrap();
    let report = s.report(scan).await.unwrap();
    assert_eq!(report.scanned_at, T0);
    assert_eq!(report.ward_version, "0.1.0-test");
    // In the order stored (position), findings in the order given.
    assert_eq!(report.assets, vec![a, b]);
    assert_eq!(s.latest_report().await.unwrap(), Some(report));
    assert_eq!(s.observation(scan, "b.example").await.unwrap(), Some(obs));
    assert_eq!(s.observation(scan, "c.example").await.unwrap(), None);
    assert!(s.scans().await.unwrap()[0].complete);
}

async fn the_latest_report_is_the_newest_complete_scan(db: Db) {
    let s = &db.store;
    let mut ids = Vec::new();
    for (i, finish) in [true, true, false].into_iter().enumerate() {
        let scan = s
            .begin_scan(T0 + time::Duration::days(i as i64), "v")
            .await
            .unwrap();
        s.save_asset(
            scan,
            0,
            &asset(&format!("d{i}.example"), "hq", vec![]),
            &AssetObservation::new("x", T0),
        )
        .await
        .unwrap();
        if finish {
            s.finish_scan(scan, T0).await.unwrap();
        }
        ids.push(scan);
    }
    let listed: Vec<ScanId> = s.scans().await.unwrap().iter().map(|i| i.id).collect();
    assert_eq!(listed, vec![ids[2], ids[1], ids[0]]);
    let latest = s.latest_report().await.unwrap().unwrap();
    assert_eq!(latest.assets[0].domain, "d1.example");
}

async fn an_asset_with_a_duplicate_finding_is_stored_not_at_all(db: Db) {
    let s = &db.store;
    let scan = s.begin_scan(T0, "v").await.unwrap();
    let check = CheckId::ALL[0];
    let bad = asset(
        "a.example",
        "hq",
        vec![
            finding(check, Status::Pass, "once"),
            finding(check, Status::Fail, "twice"),
        ],
    );
    let err = s
        .save_asset(scan, 0, &bad, &AssetObservation::new("a.example", T0))
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("database "), "{shown}");
    assert_eq!(s.scans().await.unwrap()[0].assets, 0, "no half asset");
}

fn text(r: &mut ReportRows, s: &str) -> Col {
    let a = r.text.len();
    r.text.push_str(s);
    Col::Text(a, r.text.len())
}

/// An aggregate report with one record per `(source, count, dkim, spf, selector)`.
fn aggregate(
    id: &str,
    domain: &str,
    begin: i64,
    records: &[(&str, i64, &str, &str, &str)],
) -> ReportRows {
    let mut r = ReportRows {
        source: format!("{id}.xml"),
        ..ReportRows::default()
    };
    let cols = [
        Col::Static("aggregate"),
        text(&mut r, "Receiver Inc."),
        text(&mut r, "dmarc@receiver.example"),
        text(&mut r, id),
        Col::Int(begin),
        Col::Int(begin + 86_400),
        text(&mut r, domain),
        text(&mut r, &format!("{id}.xml")),
        Col::IngestedAt,
        Col::Static("none"),
        Col::Null,
        Col::Int(100),
        Col::Null,
        text(&mut r, "{\"report\":\"doc\"}"),
    ];
    r.report = cols.to_vec();
    for (i, (ip, count, dkim, spf, selector)) in records.iter().enumerate() {
        let results = format!(
            "[{{\"domain\":\"{domain}.\",\"selector\":\"{selector}\",\"result\":\"{dkim}\"}}]"
        );
        let row = [
            Col::ReportId,
            Col::Int(i as i64),
            text(&mut r, ip),
            Col::Int(*count),
            Col::Static("none"),
            text(&mut r, dkim),
            text(&mut r, spf),
            text(&mut r, domain),
            Col::Null,
            Col::Null,
            Col::Static("[]"),
            text(&mut r, &results),
            Col::Static("[]"),
        ];
        r.records.extend(row);
    }
    r
}

/// A TLS report with one policy and these failures.
fn tls(id: &str, domain: &str, begin: i64, ok: i64, failures: &[(&str, &str, i64)]) -> ReportRows {
    let mut r = ReportRows {
        source: format!("{id}.json"),
        ..ReportRows::default()
    };
    r.report = vec![
        Col::Static("tls"),
        text(&mut r, "Sender Ltd"),
        Col::Static(""),
        text(&mut r, id),
        Col::Int(begin),
        Col::Int(begin + 86_400),
        text(&mut r, domain),
        text(&mut r, &format!("{id}.json")),
        Col::IngestedAt,
        Col::Null,
        Col::Null,
        Col::Null,
        Col::Null,
        Col::Static("{}"),
    ];
    let failed: i64 = failures.iter().map(|f| f.2).sum();
    r.tls_policies = vec![
        Col::ReportId,
        Col::Int(0),
        Col::Static("sts"),
        text(&mut r, domain),
        Col::Static("[\"mx.example\"]"),
        Col::Int(ok),
        Col::Int(failed),
    ];
    for (i, (result, mx, n)) in failures.iter().enumerate() {
        let row = [
            Col::ReportId,
            Col::Int(0),
            Col::Int(i as i64),
            text(&mut r, result),
            Col::Null,
            text(&mut r, mx),
            Col::Null,
            Col::Null,
            Col::Int(*n),
            Col::Null,
            Col::Null,
        ];
        r.tls_failures.extend(row);
    }
    r
}

const DAY: i64 = 1_764_115_200; // 2025-11-26 00:00 UTC

async fn reports_are_stored_once_and_summed(db: Db) {
    let s = &db.store;
    let a = aggregate(
        "r1",
        "example.org",
        DAY,
        &[
            ("192.0.2.1", 10, "pass", "fail", "s1"),
            ("192.0.2.1", 5, "pass", "fail", "s1"),
            ("2001:db8::1", 3, "fail", "fail", "s2"),
        ],
    );
    let b = aggregate(
        "r2",
        "other.example",
        DAY + 86_400,
        &[("192.0.2.9", 7, "fail", "pass", "s1")],
    );
    let t = tls(
        "t1",
        "example.org",
        DAY,
        90,
        &[
            ("certificate-expired", "mx.example", 4),
            ("starttls-not-supported", "mx2.example", 1),
        ],
    );
    let Saved::Stored(_) = s.save_report(&a, T0).await.unwrap() else {
        panic!("stored")
    };
    assert!(matches!(
        s.save_report(&b, T0).await.unwrap(),
        Saved::Stored(_)
    ));
    assert!(matches!(
        s.save_report(&t, T0).await.unwrap(),
        Saved::Stored(_)
    ));
    assert_eq!(s.save_report(&a, T0).await.unwrap(), Saved::Duplicate);

    let stored = s.stored_reports().await.unwrap();
    let summary: Vec<(&str, &str, i64)> = stored
        .iter()
        .map(|r| (r.report_id.as_str(), r.domain.as_str(), r.rows))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("r1", "example.org", 3),
            ("r2", "other.example", 1),
            ("t1", "example.org", 1)
        ]
    );

    let all = s.report_data(&ReportFilter::default()).await.unwrap();
    assert_eq!(
        (all.aggregate_reports, all.failure_reports, all.tls_reports),
        (2, 0, 1)
    );
    let sources: Vec<(String, String, bool, bool, u64)> = all
        .sources
        .iter()
        .map(|v| {
            (
                v.domain.clone(),
                v.source_ip.to_string(),
                v.dkim_aligned,
                v.spf_aligned,
                v.count,
            )
        })
        .collect();
    assert_eq!(
        sources,
        vec![
            ("example.org".into(), "192.0.2.1".into(), true, false, 15),
            ("example.org".into(), "2001:db8::1".into(), false, false, 3),
            ("other.example".into(), "192.0.2.9".into(), false, true, 7),
        ]
    );
    let days: Vec<(String, i64, u64, u64)> = all
        .days
        .iter()
        .map(|d| (d.domain.clone(), d.day, d.messages, d.passing))
        .collect();
    assert_eq!(
        days,
        vec![
            ("example.org".into(), DAY / 86_400, 18, 15),
            ("other.example".into(), DAY / 86_400 + 1, 7, 7),
        ]
    );
    let selectors: Vec<(String, String, String, String, u64)> = all
        .selectors
        .iter()
        .map(|v| {
            (
                v.domain.clone(),
                v.dkim_domain.clone(),
                v.selector.clone(),
                v.result.clone(),
                v.count,
            )
        })
        .collect();
    assert_eq!(
        selectors,
        vec![
            (
                "example.org".into(),
                "example.org".into(),
                "s1".into(),
                "pass".into(),
                15
            ),
            (
                "example.org".into(),
                "example.org".into(),
                "s2".into(),
                "fail".into(),
                3
            ),
            (
                "other.example".into(),
                "other.example".into(),
                "s1".into(),
                "fail".into(),
                7
            ),
        ]
    );
    let tls_policies: Vec<(String, u64, u64)> = all
        .tls_policies
        .iter()
        .map(|p| (p.policy_domain.clone(), p.successful, p.failed))
        .collect();
    assert_eq!(tls_policies, vec![("example.org".into(), 90, 5)]);
    let tls_failures: Vec<(String, String, String, u64)> = all
        .tls_failures
        .iter()
        .map(|f| {
            (
                f.policy_domain.clone(),
                f.mx.clone(),
                f.result_type.clone(),
                f.count,
            )
        })
        .collect();
    assert_eq!(
        tls_failures,
        vec![
            (
                "example.org".into(),
                "mx.example".into(),
                "certificate-expired".into(),
                4
            ),
            (
                "example.org".into(),
                "mx2.example".into(),
                "starttls-not-supported".into(),
                1
            ),
        ]
    );
    type Policy = (String, Option<String>, Option<u8>, bool, i64);
    let policies: Vec<Policy> = all
        .policies
        .iter()
        .map(|p| (p.domain.clone(), p.p.clone(), p.pct, p.testing, p.end))
        .collect();
    assert_eq!(
        policies,
        vec![
            (
                "example.org".into(),
                Some("none".into()),
                Some(100),
                false,
                DAY + 86_400
            ),
            (
                "other.example".into(),
                Some("none".into()),
                Some(100),
                false,
                DAY + 2 * 86_400
            ),
        ]
    );

    // Filters: by domain, and by the end of the covered range.
    let one = s
        .report_data(&ReportFilter {
            domain: Some("other.example".into()),
            since: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (one.aggregate_reports, one.tls_reports, one.sources.len()),
        (1, 0, 1)
    );
    let late = s
        .report_data(&ReportFilter {
            domain: None,
            since: Some(DAY + 2 * 86_400),
        })
        .await
        .unwrap();
    assert_eq!((late.aggregate_reports, late.tls_reports), (1, 0));
    assert_eq!(late.sources[0].domain, "other.example");
}

async fn a_longer_copy_replaces_a_shorter_one(db: Db) {
    let s = &db.store;
    let short = aggregate(
        "r",
        "example.org",
        DAY,
        &[("192.0.2.1", 1, "pass", "pass", "s")],
    );
    let long = aggregate(
        "r",
        "example.org",
        DAY,
        &[
            ("192.0.2.1", 1, "pass", "pass", "s"),
            ("192.0.2.2", 2, "pass", "pass", "s"),
        ],
    );
    let other = aggregate(
        "r",
        "example.org",
        DAY,
        &[("192.0.2.3", 1, "pass", "pass", "s")],
    );
    let Saved::Stored(first) = s.save_report(&short, T0).await.unwrap() else {
        panic!("stored")
    };
    let Saved::Replaced {
        id,
        old_rows,
        new_rows,
    } = s.save_report(&long, T0).await.unwrap()
    else {
        panic!("replaced")
    };
    assert_ne!(id, first);
    assert_eq!((old_rows, new_rows), (1, 2));
    assert_eq!(
        s.save_report(&other, T0).await.unwrap(),
        Saved::Differs {
            stored_rows: 2,
            new_rows: 1
        }
    );
    assert_eq!(s.save_report(&long, T0).await.unwrap(), Saved::Duplicate);
    let stored = s.stored_reports().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].rows, 2);
}

async fn a_batch_stores_each_report_or_names_the_failing_one(db: Db) {
    let s = &db.store;
    let a = aggregate(
        "a",
        "example.org",
        DAY,
        &[("192.0.2.1", 1, "pass", "pass", "s")],
    );
    let b = aggregate(
        "b",
        "example.org",
        DAY,
        &[("192.0.2.2", 1, "pass", "pass", "s")],
    );
    let (saved, err) = s.save_reports(&[&a, &b, &a], T0).await;
    assert!(err.is_none(), "{err:?}");
    assert!(matches!(
        saved[..],
        [Saved::Stored(_), Saved::Stored(_), Saved::Duplicate]
    ));

    // A record with the same position twice breaks the primary key: the report before
    // it is stored, the failing one not at all, the one after it not tried.
    let c = aggregate(
        "c",
        "example.org",
        DAY,
        &[("192.0.2.3", 1, "pass", "pass", "s")],
    );
    let mut bad = aggregate(
        "bad",
        "example.org",
        DAY,
        &[
            ("192.0.2.4", 1, "pass", "pass", "s"),
            ("192.0.2.5", 1, "pass", "pass", "s"),
        ],
    );
    bad.records[13 + 1] = Col::Int(0);
    let d = aggregate(
        "d",
        "example.org",
        DAY,
        &[("192.0.2.6", 1, "pass", "pass", "s")],
    );
    let (saved, err) = s.save_reports(&[&c, &bad, &d], T0).await;
    assert!(matches!(saved[..], [Saved::Stored(_)]), "{saved:?}");
    let err = err.expect("the bad report's error").to_string();
    assert!(
        err.starts_with(&format!("database {}", s.location())),
        "{err}"
    );
    let ids: Vec<String> = s
        .stored_reports()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.report_id)
        .collect();
    assert_eq!(ids, vec!["a", "b", "c"]);

    // Rows of the wrong shape are refused before anything is written.
    let mut short = aggregate("e", "example.org", DAY, &[]);
    short.report.pop();
    let (saved, err) = s.save_reports(&[&short], T0).await;
    assert_eq!(saved, vec![]);
    assert!(matches!(
        err,
        Some(ward_store::StoreError::Corrupt {
            what: "report rows",
            ..
        })
    ));
}

async fn a_report_in_parts_is_kept_only_when_finished(db: Db) {
    let s = &db.store;
    let full = aggregate(
        "big",
        "example.org",
        DAY,
        &[
            ("192.0.2.1", 1, "pass", "pass", "s"),
            ("192.0.2.2", 2, "pass", "pass", "s"),
            ("192.0.2.3", 3, "pass", "pass", "s"),
        ],
    );
    // The parser's parts: own row and the first record, then the rest, then the end.
    let split = |from: usize, to: usize| {
        let mut part = full.clone();
        part.records = full.records[from * 13..to * 13].to_vec();
        part
    };
    let head = split(0, 1);
    let mut more = split(1, 3);
    more.report.clear();
    let mut end = split(0, 0);
    end.records.clear();

    // Abandoned: nothing is left.
    let mut stream = s.begin_report(&head, T0).await.unwrap();
    stream.add(&more).await.unwrap();
    stream.abort().await.unwrap();
    // Dropped unfinished: nothing is left either.
    let stream = s.begin_report(&head, T0).await.unwrap();
    drop(stream);
    assert_eq!(s.stored_reports().await.unwrap(), vec![]);

    let mut stream = s.begin_report(&head, T0).await.unwrap();
    stream.add(&more).await.unwrap();
    let Saved::Stored(_) = stream.finish(&end).await.unwrap() else {
        panic!("stored")
    };
    let stored = s.stored_reports().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].report_id.as_str(), stored[0].rows), ("big", 3));
    // The same report in parts again is a duplicate of the stored whole.
    let mut stream = s.begin_report(&head, T0).await.unwrap();
    stream.add(&more).await.unwrap();
    assert_eq!(stream.finish(&end).await.unwrap(), Saved::Duplicate);
    // As is the same report stored whole.
    assert_eq!(s.save_report(&full, T0).await.unwrap(), Saved::Duplicate);
    assert_eq!(s.stored_reports().await.unwrap().len(), 1);
}

async fn a_file_seen_before_is_known(db: Db) {
    let s = &db.store;
    let mut r = aggregate(
        "f",
        "example.org",
        DAY,
        &[("192.0.2.1", 1, "pass", "pass", "s")],
    );
    r.file_digest = Some("crc:1234:99".into());
    s.save_report(&r, T0).await.unwrap();
    let known = |digest: &'static str| {
        s.has_report_from_file(
            "aggregate",
            "Receiver Inc.",
            "dmarc@receiver.example",
            "f",
            DAY,
            DAY + 86_400,
            digest,
        )
    };
    assert!(known("crc:1234:99").await.unwrap());
    assert!(!known("crc:1234:98").await.unwrap());
}

async fn the_newest_assessment_wins(db: Db) {
    let s = &db.store;
    let save = |org: &str, day: &str, answer: &str| StoredAssessment {
        organisation_id: org.into(),
        answered_at: day.into(),
        answers: [(
            "backups".to_owned(),
            serde_json::Value::String(answer.into()),
        )]
        .into_iter()
        .collect(),
    };
    let old = save("b1", "2026-10-01", "no");
    let new = save("b1", "2026-11-01", "yes");
    let other = save("a2", "2026-09-01", "partly");
    for a in [&new, &old, &other] {
        s.save_assessment(a, T0).await.unwrap();
    }
    assert_eq!(s.latest_assessments().await.unwrap(), vec![other, new]);
}

async fn the_copy_covers_every_table_and_column(db: Db) {
    let mut schema = db.store.schema_tables().await.unwrap();
    schema.sort();
    let mut copied: Vec<(String, Vec<String>)> = Store::copied_tables()
        .into_iter()
        .map(|(t, cols)| (t.to_owned(), cols.into_iter().map(str::to_owned).collect()))
        .collect();
    copied.sort();
    assert_eq!(schema, copied);
}

/// Fills a store with one of everything.
async fn fill(s: &Store) {
    s.save_organisations(&[
        org("hq", OrgKind::Party, None),
        org("b", OrgKind::Branch, Some("hq")),
    ])
    .await
    .unwrap();
    for day in 0..2 {
        let scan = s
            .begin_scan(T0 + time::Duration::days(day), "v")
            .await
            .unwrap();
        let a = asset(
            "a.example",
            "b",
            vec![finding(
                CheckId::ALL[0],
                Status::Warn,
                &format!("scan {day}"),
            )],
        );
        s.save_asset(scan, 0, &a, &AssetObservation::new("a.example", T0))
            .await
            .unwrap();
        s.finish_scan(scan, T0).await.unwrap();
    }
    s.save_report(
        &aggregate(
            "r1",
            "a.example",
            DAY,
            &[("192.0.2.1", 4, "pass", "fail", "s1")],
        ),
        T0,
    )
    .await
    .unwrap();
    s.save_report(
        &tls(
            "t1",
            "a.example",
            DAY,
            9,
            &[("sts-policy-invalid", "mx.a.example", 2)],
        ),
        T0,
    )
    .await
    .unwrap();
    s.save_assessment(
        &StoredAssessment {
            organisation_id: "b".into(),
            answered_at: "2026-11-01".into(),
            answers: serde_json::Map::new(),
        },
        T0,
    )
    .await
    .unwrap();
    let scan = s.scans().await.unwrap()[0].id;
    s.record_alert_events(&[event("a.example", scan)], T0)
        .await
        .unwrap();
    let due = s
        .due_alert_events("b", "webhook", "http://h/")
        .await
        .unwrap();
    s.record_delivery(
        &[due[0].id],
        &delivery(Outcome::Dead),
        Some(&dead_letter("b")),
    )
    .await
    .unwrap();
    // A monitoring round, its one job done by a worker.
    let (_, round_scan) = s.begin_round(T0, "v", &[job("a.example")]).await.unwrap();
    s.register_worker("w1", "host", 7).await.unwrap();
    let taken = s.claim_jobs("w1", 4, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].scan, round_scan);
    let a = asset(
        "a.example",
        "b",
        vec![finding(CheckId::ALL[1], Status::Pass, "round")],
    );
    let obs = AssetObservation::new("a.example", T0);
    assert!(s.complete_job("w1", &taken[0], &a, &obs).await.unwrap());
    assert_eq!(s.finish_rounds().await.unwrap().len(), 1);
    // A user with a role, a session and a token, and a line of audit.
    let u = s.create_user("u@x.test", "hash", 1).await.unwrap().unwrap();
    s.grant(u, "b", ward_store::AccessRole::Viewer)
        .await
        .unwrap();
    s.create_session("s", u, "c", 1, i64::MAX).await.unwrap();
    s.create_api_token("t", u, "l", 1).await.unwrap();
    s.audit(1, "cli", "role", "u b").await.unwrap();
    // A domain claimed and proved.
    s.claim_domain("b", "a.example", "mail,web", "tok", 1)
        .await
        .unwrap();
    s.record_proof("a.example", Some("dns"), "seen", 2)
        .await
        .unwrap();
    // An invitation waiting to be used.
    s.create_invitation("inv", &invitation(), 1).await.unwrap();
}

fn invitation() -> ward_store::Invitation {
    ward_store::Invitation {
        email: "new@x.test".into(),
        organisation_id: "b".into(),
        role: ward_store::AccessRole::Editor,
        invited_by: "u@x.test".into(),
        expires_ms: i64::MAX,
    }
}

const LEASE: std::time::Duration = std::time::Duration::from_secs(60);

fn job(domain: &str) -> NewJob {
    NewJob {
        domain: domain.into(),
        organisation_id: "b".into(),
        target: "{}".into(),
        servers: true,
        dns: true,
        delay_ms: 0,
    }
}

/// Two workers take disjoint jobs; a job whose lease ran out is taken again; the first
/// worker's late completion is refused and stores nothing, so the round holds each
/// domain once; the round ends when every job is done, and its scan is complete.
async fn workers_take_disjoint_jobs_and_a_lost_job_is_stored_once(db: Db) {
    let s = &db.store;
    s.save_organisations(&[org("b", OrgKind::Branch, None)])
        .await
        .unwrap();
    let jobs: Vec<NewJob> = (0..6).map(|i| job(&format!("d{i}.example"))).collect();
    let (round, scan) = s.begin_round(T0, "v", &jobs).await.unwrap();
    for w in ["w1", "w2"] {
        s.register_worker(w, "host", 1).await.unwrap();
    }
    let short = std::time::Duration::from_millis(300);
    let a = s.claim_jobs("w1", 2, short).await.unwrap();
    let b = s.claim_jobs("w2", 10, LEASE).await.unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 4, "w2 gets what w1 did not take");
    let ids = |v: &[ward_store::Claimed]| v.iter().map(|j| j.id).collect::<Vec<_>>();
    assert!(ids(&a).iter().all(|i| !ids(&b).contains(i)));
    assert!(s.claim_jobs("w2", 10, LEASE).await.unwrap().is_empty());
    let obs = |d: &str| AssetObservation::new(d, T0);
    let report = |d: &str| asset(d, "b", vec![finding(CheckId::ALL[0], Status::Pass, "ok")]);
    for j in &b {
        assert!(
            s.complete_job("w2", j, &report(&j.domain), &obs(&j.domain))
                .await
                .unwrap()
        );
    }
    // w1 goes silent; after its lease, w2 takes its two jobs again.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let again = s.claim_jobs("w2", 10, LEASE).await.unwrap();
    assert_eq!(ids(&again), ids(&a));
    assert!(again.iter().all(|j| j.attempts == 2));
    // w1 wakes up and tries to store its first job: refused, nothing written.
    let late = s
        .complete_job("w1", &a[0], &report(&a[0].domain), &obs(&a[0].domain))
        .await
        .unwrap();
    assert!(
        !late,
        "a job taken by another worker is not stored by the first"
    );
    assert!(
        s.finish_rounds().await.unwrap().is_empty(),
        "two jobs still running"
    );
    for j in &again {
        assert!(
            s.complete_job("w2", j, &report(&j.domain), &obs(&j.domain))
                .await
                .unwrap()
        );
    }
    assert_eq!(s.finish_rounds().await.unwrap(), vec![(round, scan)]);
    let info = s.scans().await.unwrap();
    let this = info.iter().find(|i| i.id == scan).unwrap();
    assert!(this.complete);
    assert_eq!(this.assets, 6, "each domain once");
    let st = s.monitor_status(5).await.unwrap();
    assert_eq!(st.states.get("done"), Some(&6));
    assert_eq!(st.queue_depth, 0);
    let w2 = st.workers.iter().find(|w| w.name == "w2").unwrap();
    assert_eq!(w2.jobs_done, 6);
    assert_eq!(s.monitor_targets().await.unwrap().len(), 6);
}

/// A job that asks nothing keeps its domain's DNS and servers times; one that carries
/// only the servers moves the DNS time alone; the queue hands each job its choice.
async fn each_part_of_an_observation_keeps_when_it_was_seen(db: Db) {
    let s = &db.store;
    s.save_organisations(&[org("b", OrgKind::Branch, None)])
        .await
        .unwrap();
    s.register_worker("w", "host", 1).await.unwrap();
    let ms = |t: OffsetDateTime| Some(t.unix_timestamp() * 1000);
    let t1 = T0 + time::Duration::days(1);
    let t2 = T0 + time::Duration::days(2);
    let full = AssetObservation::new("a.example", T0);
    let mut dns_only = AssetObservation::new("a.example", t2);
    dns_only.servers_seen_at = Some(T0);
    let rounds = [
        (true, true, full.clone()),
        (false, false, full.carried_whole(t1)),
        (false, true, dns_only),
    ];
    let mut seen = Vec::new();
    for (servers, dns, obs) in rounds {
        let mut j = job("a.example");
        j.servers = servers;
        j.dns = dns;
        s.begin_round(obs.scanned_at, "v", &[j]).await.unwrap();
        let taken = s.claim_jobs("w", 1, LEASE).await.unwrap();
        assert_eq!((taken[0].servers, taken[0].dns), (servers, dns));
        let a = asset("a.example", "b", vec![]);
        assert!(s.complete_job("w", &taken[0], &a, &obs).await.unwrap());
        assert_eq!(s.finish_rounds().await.unwrap().len(), 1);
        let k = s.monitor_targets().await.unwrap()["a.example"];
        seen.push((k.dns_seen_ms, k.servers_seen_ms));
    }
    assert_eq!(
        seen,
        vec![(ms(T0), ms(T0)), (ms(T0), ms(T0)), (ms(t2), ms(T0))]
    );
}

/// Users are unique by email; a role is replaced, not doubled; a session lives until
/// it expires or is ended, and ending one user's sessions leaves another's; API tokens
/// resolve to their user; the audit log reads newest first.
async fn accounts_sessions_and_tokens_hold_on_both(db: Db) {
    use ward_store::AccessRole;
    let s = &db.store;
    let a = s
        .create_user("a@x.test", "hash-a", 1)
        .await
        .unwrap()
        .unwrap();
    let b = s
        .create_user("b@x.test", "hash-b", 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.create_user("a@x.test", "other", 2).await.unwrap(), None);
    assert_eq!(
        s.password_hash("a@x.test").await.unwrap().unwrap().1,
        "hash-a"
    );
    s.grant(a, "north", AccessRole::Viewer).await.unwrap();
    s.grant(a, "north", AccessRole::Admin).await.unwrap();
    s.grant(a, "leeds", AccessRole::Editor).await.unwrap();
    assert_eq!(
        s.memberships(a).await.unwrap(),
        vec![
            ("leeds".to_owned(), AccessRole::Editor),
            ("north".to_owned(), AccessRole::Admin)
        ]
    );
    assert!(s.memberships(b).await.unwrap().is_empty());
    s.create_session("sa1", a, "c1", 10, 100).await.unwrap();
    s.create_session("sa2", a, "c2", 10, 100).await.unwrap();
    s.create_session("sb", b, "c3", 10, 100).await.unwrap();
    let live = s.session("sa1", 50).await.unwrap().unwrap();
    assert_eq!((live.user.id, live.csrf.as_str()), (a, "c1"));
    assert_eq!(s.session("sa1", 100).await.unwrap(), None, "expired");
    assert_eq!(s.session("nope", 50).await.unwrap(), None);
    s.end_session("sa1").await.unwrap();
    assert_eq!(s.session("sa1", 50).await.unwrap(), None);
    assert_eq!(s.end_sessions(a).await.unwrap(), 1);
    assert_eq!(s.session("sa2", 50).await.unwrap(), None);
    assert!(s.session("sb", 50).await.unwrap().is_some());
    assert!(s.set_password("b@x.test", "hash-b2").await.unwrap());
    assert_eq!(
        s.session("sb", 50).await.unwrap(),
        None,
        "a new password ends sessions"
    );
    s.create_api_token("tok", b, "export", 5).await.unwrap();
    assert_eq!(
        s.api_token_user("tok").await.unwrap().unwrap().email,
        "b@x.test"
    );
    assert_eq!(s.api_token_user("other").await.unwrap(), None);
    s.audit(1, "cli", "role", "first").await.unwrap();
    s.audit(2, "a@x.test", "login", "second").await.unwrap();
    let log = s.audit_log(10).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(),
        ["second", "first"]
    );
}

/// A domain's history: its verdicts in its newest complete scans, newest first; an
/// unfinished scan and other domains are not in it.
async fn a_domain_history_is_its_complete_scans_newest_first(db: Db) {
    let s = &db.store;
    let mut ids = Vec::new();
    for (i, status) in [Status::Fail, Status::Warn, Status::Pass]
        .into_iter()
        .enumerate()
    {
        let t = T0 + time::Duration::hours(i as i64);
        let scan = s.begin_scan(t, "v").await.unwrap();
        for (pos, d) in ["a.example", "other.example"].iter().enumerate() {
            let a = asset(d, "b", vec![finding(CheckId::ALL[1], status, "now")]);
            s.save_asset(scan, pos, &a, &AssetObservation::new(*d, t))
                .await
                .unwrap();
        }
        if i < 2 {
            s.finish_scan(scan, t).await.unwrap();
        }
        ids.push(scan);
    }
    let h = s.domain_history("a.example", 10).await.unwrap();
    assert_eq!(
        h.iter().map(|v| v.scan).collect::<Vec<_>>(),
        [ids[1], ids[0]]
    );
    assert_eq!(h[0].verdicts[0].1, "warn");
    assert_eq!(h[1].verdicts[0].1, "fail");
    assert_eq!(h[0].verdicts.len(), 1, "only its own findings");
    assert_eq!(s.domain_history("a.example", 1).await.unwrap().len(), 1);
    assert!(
        s.domain_history("nowhere.example", 5)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An invitation link works once, before it expires, and only for the first of two
/// racing to use it.
async fn an_invitation_works_once_and_not_after_it_expires(db: Db) {
    let s = &db.store;
    let mut inv = invitation();
    inv.expires_ms = 100;
    s.create_invitation("t1", &inv, 10).await.unwrap();
    assert_eq!(
        s.open_invitation("t1", 50).await.unwrap(),
        Some(inv.clone())
    );
    assert_eq!(s.open_invitation("t1", 100).await.unwrap(), None, "expired");
    assert!(!s.use_invitation("t1", 100).await.unwrap(), "expired");
    assert!(s.use_invitation("t1", 60).await.unwrap());
    assert!(!s.use_invitation("t1", 61).await.unwrap(), "used");
    assert_eq!(s.open_invitation("t1", 61).await.unwrap(), None);
    assert_eq!(s.open_invitation("nope", 1).await.unwrap(), None);
}

/// A claim waits for proof, is verified when the proof is seen, is lost when it goes
/// (and found again when it is back), and belongs to one organisation only.
async fn a_claim_waits_is_verified_and_is_lost_when_its_proof_goes(db: Db) {
    use ward_store::ClaimState::{Lost, Verified, Waiting};
    let s = &db.store;
    let c = s
        .claim_domain("leeds", "leeds.test", "web", "t1", 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.state, c.token.as_str(), c.checked_ms),
        (Waiting, "t1", None)
    );
    // Claiming again keeps the first token; another organisation gets nothing.
    let again = s
        .claim_domain("leeds", "leeds.test", "mail", "t2", 11)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.token.as_str(), again.roles.as_str()), ("t1", "web"));
    assert_eq!(
        s.claim_domain("york", "leeds.test", "web", "t3", 12)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.claims_of("leeds").await.unwrap().len(), 1);
    assert!(s.claims_of("york").await.unwrap().is_empty());
    assert_eq!(
        s.record_proof("leeds.test", None, "no TXT", 20)
            .await
            .unwrap(),
        Some((Waiting, Waiting))
    );
    assert_eq!(
        s.record_proof("leeds.test", Some("dns"), "TXT holds it", 30)
            .await
            .unwrap(),
        Some((Waiting, Verified))
    );
    assert_eq!(
        s.record_proof("leeds.test", None, "TXT gone", 40)
            .await
            .unwrap(),
        Some((Verified, Lost))
    );
    let lost = s.claim("leeds.test").await.unwrap().unwrap();
    assert_eq!(
        (
            lost.state,
            lost.method.as_deref(),
            lost.detail.as_str(),
            lost.checked_ms,
            lost.verified_ms
        ),
        (Lost, Some("dns"), "TXT gone", Some(40), Some(30))
    );
    assert_eq!(
        s.record_proof("leeds.test", Some("well-known"), "file", 50)
            .await
            .unwrap(),
        Some((Lost, Verified))
    );
    assert_eq!(
        s.record_proof("nobody.test", None, "", 1).await.unwrap(),
        None
    );
    assert!(!s.drop_claim("york", "leeds.test").await.unwrap());
    assert!(s.drop_claim("leeds", "leeds.test").await.unwrap());
    assert!(s.claims().await.unwrap().is_empty());
}

/// A second round cannot begin while one is open, whoever asks.
async fn one_round_is_open_at_a_time(db: Db) {
    let s = &db.store;
    s.begin_round(T0, "v", &[job("a.example")]).await.unwrap();
    assert!(s.begin_round(T0, "v", &[job("b.example")]).await.is_err());
    assert!(s.open_round().await.unwrap().is_some());
}

fn event(domain: &str, scan: ScanId) -> NewAlertEvent {
    NewAlertEvent {
        organisation_id: "b".into(),
        domain: domain.into(),
        check: "dmarc.policy".into(),
        scan,
        kind: "worse".into(),
        status: "fail".into(),
        severity: "high".into(),
        summary: "p=none".into(),
    }
}

fn delivery(outcome: Outcome) -> Delivery<'static> {
    Delivery {
        channel: "webhook",
        contact: "http://h/",
        at: T0,
        outcome,
        attempts: 3,
        error: Some("HTTP 500".into()),
    }
}

fn dead_letter(org: &str) -> DeadLetter {
    DeadLetter {
        id: 0,
        organisation_id: org.into(),
        channel: "webhook".into(),
        contact: "http://h/".into(),
        at: T0,
        attempts: 3,
        error: "HTTP 500".into(),
        payload: "{}".into(),
    }
}

async fn an_alert_is_due_once_per_contact_and_regression(db: Db) {
    let s = &db.store;
    let one = s.begin_scan(T0, "v").await.unwrap();
    let two = s.begin_scan(T0, "v").await.unwrap();
    // Recorded twice (two runs of `ward alert` over the same scans): one event.
    for _ in 0..2 {
        s.record_alert_events(&[event("a.example", one)], T0)
            .await
            .unwrap();
    }
    let due = s
        .due_alert_events("b", "email", "it@b.example")
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].event, event("a.example", one));
    assert_eq!(due[0].created_at, T0);
    // Sent by mail: no longer due by mail, still due to the webhook; nothing for others.
    let mail = Delivery {
        channel: "email",
        contact: "it@b.example",
        ..delivery(Outcome::Sent)
    };
    s.record_delivery(&[due[0].id], &mail, None).await.unwrap();
    assert_eq!(
        s.due_alert_events("b", "email", "it@b.example")
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        s.due_alert_events("b", "webhook", "http://h/")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.due_alert_events("hq", "email", "it@b.example")
            .await
            .unwrap(),
        vec![]
    );
    // The same check regressing again in a later scan is a new event.
    s.record_alert_events(&[event("a.example", two)], T0)
        .await
        .unwrap();
    let due = s
        .due_alert_events("b", "email", "it@b.example")
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|e| e.event.scan).collect::<Vec<_>>(),
        vec![two]
    );
    // Given up on: done for that contact, and the message kept as a dead letter.
    let hook = s
        .due_alert_events("b", "webhook", "http://h/")
        .await
        .unwrap();
    let ids: Vec<i64> = hook.iter().map(|e| e.id).collect();
    s.record_delivery(&ids, &delivery(Outcome::Dead), Some(&dead_letter("b")))
        .await
        .unwrap();
    assert_eq!(
        s.due_alert_events("b", "webhook", "http://h/")
            .await
            .unwrap(),
        vec![]
    );
    let dead = s.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        DeadLetter {
            id: 0,
            ..dead[0].clone()
        },
        dead_letter("b")
    );
}

/// What a reader sees of a store, for comparing two.
async fn seen(s: &Store) -> serde_json::Value {
    let scans = s.scans().await.unwrap();
    let mut reports = Vec::new();
    for i in &scans {
        reports.push(serde_json::to_value(s.report(i.id).await.unwrap()).unwrap());
    }
    let stored: Vec<String> = s
        .stored_reports()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    let st = s.monitor_status(10).await.unwrap();
    let monitor = format!("{:?} {:?} {:?}", st.states, st.rounds, st.workers);
    serde_json::json!({
        "organisations": serde_json::to_value(s.organisations().await.unwrap()).unwrap(),
        "scans": scans.iter().map(|i| (i.id.0, i.complete, i.assets)).collect::<Vec<_>>(),
        "reports": reports,
        "stored": stored,
        "data": format!("{:?}", s.report_data(&ReportFilter::default()).await.unwrap()),
        "assessments": format!("{:?}", s.latest_assessments().await.unwrap()),
        "dead_letters": format!("{:?}", s.dead_letters().await.unwrap()),
        "due": format!("{:?}", s.due_alert_events("b", "email", "x").await.unwrap()),
        "monitor": monitor,
        "accounts": format!(
            "{:?} {:?} {:?} {:?}",
            s.password_hash("u@x.test").await.unwrap(),
            s.session("s", 2).await.unwrap(),
            s.api_token_user("t").await.unwrap(),
            s.audit_log(10).await.unwrap()
        ),
        "claims": format!("{:?}", s.claims().await.unwrap()),
        "invitation": format!("{:?}", s.open_invitation("inv", 2).await.unwrap()),
    })
}

#[tokio::test]
async fn copies_keep_everything_between_backends_both_ways() {
    let from = sqlite().await;
    fill(&from.store).await;
    let pg = postgres().await;
    let copied = from.store.copy_into(&pg.store, false).await.unwrap();
    let counts: Vec<(&str, u64)> = copied.tables.iter().map(|t| (t.table, t.rows)).collect();
    assert_eq!(
        counts,
        vec![
            ("organisations", 2),
            ("scans", 3),
            ("scan_assets", 3),
            ("findings", 3),
            ("reports", 2),
            ("aggregate_records", 1),
            ("tls_policies", 1),
            ("tls_failures", 1),
            ("assessments", 1),
            ("alert_events", 1),
            ("alert_deliveries", 1),
            ("alert_dead_letters", 1),
            ("monitor_rounds", 1),
            ("monitor_jobs", 1),
            ("monitor_targets", 1),
            ("monitor_workers", 1),
            ("users", 1),
            ("memberships", 1),
            ("sessions", 1),
            ("api_tokens", 1),
            ("audit_log", 1),
            ("domain_claims", 1),
            ("invitations", 1),
        ]
    );
    assert_eq!(seen(&pg.store).await, seen(&from.store).await);

    // The copy's id counters moved on: new rows get new ids on both.
    let next_sqlite = from.store.begin_scan(T0, "v").await.unwrap();
    let next_pg = pg.store.begin_scan(T0, "v").await.unwrap();
    assert_eq!(next_pg, next_sqlite);

    // A non-empty target is refused and left alone; with `replace` it is replaced.
    let back = sqlite().await;
    back.store
        .save_organisations(&[org("x", OrgKind::Party, None)])
        .await
        .unwrap();
    let err = pg.store.copy_into(&back.store, false).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "database {} is not empty (1 rows in organisations): a copy goes into an empty \
             database, or replaces what it holds",
            back.store.location()
        )
    );
    assert_eq!(back.store.organisations().await.unwrap().len(), 1);
    pg.store.copy_into(&back.store, true).await.unwrap();
    assert_eq!(seen(&back.store).await, seen(&pg.store).await);
}

#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let err = Store::open("postgres://ward:hunter2@127.0.0.1:1/ward")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("database postgres://ward:***@127.0.0.1:1/ward: "),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let pg = TestPg::new().await;
    let url = pg.url().replace(pg.name(), "ward_no_such_database");
    let err = Store::open(&url).await.unwrap_err().to_string();
    assert!(err.contains("ward_no_such_database"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

/// Issue 15: several processes starting at once on a new database all find the schema
/// made once. (Tasks here, each with its own connection; the binary's test does it with
/// processes.)
#[tokio::test]
async fn migrations_started_at_once_all_succeed() {
    let pg = TestPg::new().await;
    let opens = (0..4).map(|_| Store::open_migrating(pg.url()));
    let results = futures::future::join_all(opens).await;
    let mut applied = Vec::new();
    for r in results {
        let (store, a) = r.unwrap();
        applied.push(a.len());
        store.close().await;
    }
    applied.sort();
    assert_eq!(applied, vec![0, 0, 0, Store::schema_version() as usize]);
}
