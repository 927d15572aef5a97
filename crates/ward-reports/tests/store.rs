//! Reports in the store: stored once per key, whole, and summed back exactly.

//!
//! Parsed by this crate and written by ward-store, which sees only the rows.

use ward_model::report_rows::ReportRows;
use ward_reports::analysis::{PolicySeen, SourceVolume, TlsFailureVolume, TlsPolicyVolume};
use ward_reports::{Limits, ReportKind, rows, unpack::unpack_all};
use ward_store::{ReportFilter, Saved, Store};

fn aggregate(id: &str, end: u64, rows: &[(&str, u64, &str, &str, &str)]) -> ReportRows {
    let mut xml = format!(
        "<feedback><report_metadata><org_name>rx.example</org_name><email>dmarc@rx.example</email>\
         <report_id>{id}</report_id><date_range><begin>{}</begin><end>{end}</end></date_range>\
         </report_metadata><policy_published><domain>Party.Example</domain><p>quarantine</p>\
         <pct>50</pct></policy_published>",
        end - 86400
    );
    for (ip, count, dkim, spf, sel) in rows {
        xml.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>\
             <identifiers><header_from>party.example</header_from></identifiers><auth_results>\
             <dkim><domain>party.example</domain><selector>{sel}</selector><result>{dkim}</result></dkim>\
             <spf><domain>party.example</domain><result>{spf}</result></spf></auth_results></record>"
        ));
    }
    xml.push_str("</feedback>");
    let mut got = unpack_all(&format!("{id}.xml"), xml.as_bytes(), &Limits::default());
    assert_eq!(got.len(), 1);
    rows::encode(&got.remove(0).expect("generated report parses")).unwrap()
}

/// Six sources, each with one message passing DKIM and SPF, as `aggregate` takes them.
fn six_sources() -> Vec<(String, u64)> {
    (0..6).map(|i| (format!("192.0.2.{i}"), 1)).collect()
}

fn passing(sources: &[(String, u64)]) -> Vec<(&str, u64, &str, &str, &str)> {
    sources
        .iter()
        .map(|(ip, n)| (ip.as_str(), *n, "pass", "pass", "s1"))
        .collect()
}

/// Makes SQLite refuse the fourth record of any report, through another connection (a
/// trigger), and returns that connection.
async fn refuse_fourth_record(path: &std::path::Path) -> sqlx::SqlitePool {
    let other = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON aggregate_records WHEN NEW.position = 3 \
         BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
    )
    .execute(&other)
    .await
    .unwrap();
    other
}

/// The stored reports' ids with their row counts, in the order stored.
async fn ids_and_rows(store: &Store) -> Vec<(String, i64)> {
    store
        .stored_reports()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.report_id, r.rows))
        .collect()
}

fn assert_refused(error: Option<ward_store::StoreError>) {
    match error {
        Some(ward_store::StoreError::Sqlite { message, .. }) => {
            assert_eq!(message, "refused by test")
        }
        other => panic!("expected SQLite's refusal, got {other:?}"),
    }
}

const TLS: &str = r#"{"organization-name":"rx.example","date-range":{"start-datetime":"2026-01-01T00:00:00Z",
"end-datetime":"2026-01-01T23:59:59Z"},"contact-info":"tls@rx.example","report-id":"t1",
"policies":[{"policy":{"policy-type":"sts","policy-domain":"party.example","mx-host":["mx1.party.example"]},
"summary":{"total-successful-session-count":90,"total-failure-session-count":10},
"failure-details":[{"result-type":"certificate-expired","receiving-mx-hostname":"MX1.party.example.","failed-session-count":7},
{"result-type":"starttls-not-supported","receiving-mx-hostname":"mx1.party.example","failed-session-count":3}]}]}"#;

#[tokio::test]
async fn a_report_is_stored_once_with_all_its_rows_and_sums_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("r.db")).await.unwrap();
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let a = aggregate(
        "a1",
        1_767_225_600,
        &[
            ("192.0.2.1", 100, "pass", "pass", "s1"),
            ("192.0.2.2", 40, "fail", "fail", "s2"),
            ("192.0.2.1", 5, "fail", "pass", "s1"),
        ],
    );
    let b = aggregate(
        "a2",
        1_767_312_000,
        &[("192.0.2.1", 7, "pass", "fail", "s1")],
    );
    let t = rows::encode(
        &unpack_all("t.json", TLS.as_bytes(), &Limits::default())
            .remove(0)
            .unwrap(),
    )
    .unwrap();
    assert!(matches!(
        store.save_report(&a, now).await.unwrap(),
        Saved::Stored(_)
    ));
    assert!(matches!(
        store.save_report(&b, now).await.unwrap(),
        Saved::Stored(_)
    ));
    assert!(matches!(
        store.save_report(&t, now).await.unwrap(),
        Saved::Stored(_)
    ));
    // The same three again: nothing new.
    for u in [&a, &b, &t] {
        assert_eq!(store.save_report(u, now).await.unwrap(), Saved::Duplicate);
    }
    let stored = store.stored_reports().await.unwrap();
    let brief: Vec<(ReportKind, &str, &str, i64)> = stored
        .iter()
        .map(|s| (s.kind, s.report_id.as_str(), s.domain.as_str(), s.rows))
        .collect();
    assert_eq!(
        brief,
        vec![
            (ReportKind::Aggregate, "a1", "party.example", 3),
            (ReportKind::Aggregate, "a2", "party.example", 1),
            (ReportKind::Tls, "t1", "party.example", 1),
        ]
    );

    let data = store.report_data(&ReportFilter::default()).await.unwrap();
    assert_eq!(
        (
            data.aggregate_reports,
            data.failure_reports,
            data.tls_reports
        ),
        (2, 0, 1)
    );
    let ip = |s: &str| s.parse().unwrap();
    let sv = |a: &str, dkim, spf, count| SourceVolume {
        domain: "party.example".into(),
        source_ip: ip(a),
        dkim_aligned: dkim,
        spf_aligned: spf,
        count,
    };
    assert_eq!(
        data.sources,
        vec![
            sv("192.0.2.1", false, true, 5),
            sv("192.0.2.1", true, false, 7),
            sv("192.0.2.1", true, true, 100),
            sv("192.0.2.2", false, false, 40),
        ]
    );
    let sels: Vec<(&str, &str, u64)> = data
        .selectors
        .iter()
        .map(|s| (s.selector.as_str(), s.result.as_str(), s.count))
        .collect();
    assert_eq!(
        sels,
        vec![("s1", "fail", 5), ("s1", "pass", 107), ("s2", "fail", 40)]
    );
    assert_eq!(
        data.tls_policies,
        vec![TlsPolicyVolume {
            policy_domain: "party.example".into(),
            successful: 90,
            failed: 10
        }]
    );
    let tf = |t: &str, n| TlsFailureVolume {
        policy_domain: "party.example".into(),
        mx: "mx1.party.example".into(),
        result_type: t.into(),
        count: n,
    };
    assert_eq!(
        data.tls_failures,
        vec![
            tf("certificate-expired", 7),
            tf("starttls-not-supported", 3)
        ]
    );
    assert_eq!(
        data.policies,
        vec![PolicySeen {
            domain: "party.example".into(),
            p: Some("quarantine".into()),
            pct: Some(50),
            testing: false,
            end: 1_767_312_000,
        }]
    );

    // The filters: a domain with nothing, and a window that leaves out the older report.
    let none = store
        .report_data(&ReportFilter {
            domain: Some("other.example".into()),
            since: None,
        })
        .await
        .unwrap();
    assert_eq!((none.aggregate_reports, none.sources.len()), (0, 0));
    let recent = store
        .report_data(&ReportFilter {
            domain: None,
            since: Some(1_767_300_000),
        })
        .await
        .unwrap();
    assert_eq!(recent.aggregate_reports, 1);
    assert_eq!(recent.sources, vec![sv("192.0.2.1", true, false, 7)]);
}

/// A write SQLite refuses part-way through a report rolls the whole report back, names
/// SQLite's reason, and leaves the connection fit for the next report.
#[tokio::test]
async fn a_refused_write_leaves_nothing_of_the_report_and_the_store_usable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    let other = refuse_fourth_record(&path).await;
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let rows = six_sources();
    let recs = passing(&rows);
    let big = aggregate("big", 1_767_225_600, &recs);
    assert_refused(store.save_report(&big, now).await.err());
    assert_eq!(store.stored_reports().await.unwrap(), vec![]);
    // A report the trigger lets through is stored on the same store: no transaction
    // was left open.
    let small = aggregate("small", 1_767_225_600, &recs[..2]);
    assert!(matches!(
        store.save_report(&small, now).await.unwrap(),
        Saved::Stored(_)
    ));
    sqlx::query("DROP TRIGGER refuse")
        .execute(&other)
        .await
        .unwrap();
    assert!(matches!(
        store.save_report(&big, now).await.unwrap(),
        Saved::Stored(_)
    ));
    assert_eq!(
        ids_and_rows(&store).await,
        [("small".to_owned(), 2), ("big".to_owned(), 6)]
    );
    other.close().await;
    store.close().await;
}

/// A batch is stored in one transaction with a savepoint per report: duplicates inside it
/// are recognised, and when one report is refused, the reports before it are stored, the
/// refused one and those after it are not, and the error is the refused report's.
#[tokio::test]
async fn a_batch_stores_whole_reports_up_to_a_refused_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let rows = six_sources();
    let recs = passing(&rows);
    let enc = |id: &str, n: usize| aggregate(id, 1_767_225_600, &recs[..n]);
    let (a, a_again, b) = (enc("a", 2), enc("a", 2), enc("b", 6));
    let (saved, error) = store.save_reports(&[&a, &a_again, &b], now).await;
    assert!(error.is_none(), "{error:?}");
    assert!(matches!(
        saved.as_slice(),
        [Saved::Stored(_), Saved::Duplicate, Saved::Stored(_)]
    ));

    let other = refuse_fourth_record(&path).await;
    let (c, big, d) = (enc("c", 2), enc("big", 6), enc("d", 2));
    let (saved, error) = store.save_reports(&[&c, &big, &d], now).await;
    assert!(matches!(saved.as_slice(), [Saved::Stored(_)]), "{saved:?}");
    assert_refused(error);
    assert_eq!(
        ids_and_rows(&store).await,
        [
            ("a".to_owned(), 2),
            ("b".to_owned(), 6),
            ("c".to_owned(), 2)
        ]
    );
    other.close().await;
    store.close().await;
}
