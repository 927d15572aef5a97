//! The rules of `ward_advice::changes`, one scan pair per rule: what is worse, better,
//! new, gone, and that "could not tell" twice (or could not tell, then a verdict) is
//! never counted as fixed.

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;
use ward_advice::changes::{
    Change, ChangeKind, MailSince, Reason, changes, lines, needs_earlier, new_failing_sources,
    within,
};
use ward_model::report_rows::{ReportData, SourceVolume};
use ward_model::{
    AssetReport, CheckId, Finding, OrgKind, Organisation, Role, ScanReport, Severity, SizeClass,
    Status,
};

const T1: OffsetDateTime = datetime!(2026-11-01 09:00 UTC);
const T2: OffsetDateTime = datetime!(2026-11-08 09:00 UTC);
const T0: OffsetDateTime = datetime!(2026-10-25 09:00 UTC);

fn f(check: CheckId, status: Status, severity: Severity) -> Finding {
    Finding {
        check,
        status,
        severity,
        summary: format!("{} is {}", check.as_str(), status.as_str()),
        evidence: serde_json::Value::Null.into(),
    }
}

fn asset(domain: &str, org: &str, findings: Vec<Finding>) -> AssetReport {
    AssetReport {
        domain: domain.into(),
        organisation: format!("{org} name"),
        organisation_id: org.into(),
        roles: vec![Role::Mail],
        findings,
        dmarc_phase: None,
    }
}

fn scan(at: OffsetDateTime, assets: Vec<AssetReport>) -> ScanReport {
    ScanReport {
        scanned_at: at,
        ward_version: "test".into(),
        assets,
        warnings: Vec::new(),
    }
}

fn one(check: CheckId, before: Status, after: Status) -> Vec<Change> {
    let b = scan(
        T1,
        vec![asset("a.test", "o", vec![f(check, before, Severity::High)])],
    );
    let a = scan(
        T2,
        vec![asset("a.test", "o", vec![f(check, after, Severity::High)])],
    );
    changes(&b, &a, &[], None)
}

fn kinds(cs: &[Change]) -> Vec<(String, Option<CheckId>, ChangeKind, Reason)> {
    cs.iter()
        .map(|c| (c.domain.clone(), c.check, c.kind, c.reason))
        .collect()
}

#[test]
fn verdicts_rank_pass_below_warn_below_fail() {
    use Status::*;
    let k = |b, a| one(CheckId::DmarcPolicy, b, a).first().map(|c| c.kind);
    assert_eq!(k(Pass, Fail), Some(ChangeKind::Worse));
    assert_eq!(k(Pass, Warn), Some(ChangeKind::Worse));
    assert_eq!(k(Warn, Fail), Some(ChangeKind::Worse));
    assert_eq!(k(Info, Warn), Some(ChangeKind::Worse));
    assert_eq!(k(Fail, Warn), Some(ChangeKind::Better));
    assert_eq!(k(Fail, Pass), Some(ChangeKind::Better));
    assert_eq!(k(Warn, Info), Some(ChangeKind::Better));
    // No change is no entry.
    assert_eq!(k(Pass, Pass), None);
    assert_eq!(k(Pass, Info), None);
    assert_eq!(k(Fail, Fail), None);
}

#[test]
fn a_higher_severity_of_the_same_failure_is_worse() {
    let b = scan(
        T1,
        vec![asset(
            "a.test",
            "o",
            vec![f(CheckId::SpfAll, Status::Fail, Severity::Medium)],
        )],
    );
    let a = scan(
        T2,
        vec![asset(
            "a.test",
            "o",
            vec![f(CheckId::SpfAll, Status::Fail, Severity::High)],
        )],
    );
    let cs = changes(&b, &a, &[], None);
    assert_eq!(kinds(&cs)[0].2, ChangeKind::Worse);
    assert_eq!(cs[0].before.as_ref().unwrap().severity, Severity::Medium);
    assert_eq!(cs[0].after.as_ref().unwrap().severity, Severity::High);
    // The way back is better.
    assert_eq!(changes(&a, &b, &[], None)[0].kind, ChangeKind::Better);
}

#[test]
fn could_not_tell_twice_is_its_own_kind_never_fixed() {
    use Status::*;
    let cs = one(CheckId::DnsNs, Error, Error);
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].kind, ChangeKind::StillCouldNotTell);
    assert_eq!(
        one(CheckId::DnsNs, Pass, Error)[0].kind,
        ChangeKind::NowCouldNotTell
    );
    assert_eq!(
        one(CheckId::DnsNs, Fail, Error)[0].kind,
        ChangeKind::NowCouldNotTell
    );
    // Could not tell, then a pass, with nothing known before: ward can tell again, and
    // that is not a fix.
    assert_eq!(
        one(CheckId::DnsNs, Error, Pass)[0].kind,
        ChangeKind::Answered
    );
    assert_eq!(
        one(CheckId::DnsNs, Error, Fail)[0].kind,
        ChangeKind::Answered
    );
    for b in [Error, Pass, Warn, Fail, Info] {
        for a in [Error, Pass, Warn, Fail, Info] {
            let got = one(CheckId::DnsNs, b, a);
            if b == Error || a == Error {
                assert!(
                    got.iter().all(|c| c.kind != ChangeKind::Better),
                    "{b:?} → {a:?} was called better: {got:?}"
                );
            }
        }
    }
}

#[test]
fn after_could_not_tell_a_verdict_is_compared_with_the_last_real_one() {
    let at = |t, s| {
        scan(
            t,
            vec![asset(
                "a.test",
                "o",
                vec![f(CheckId::SpfAll, s, Severity::High)],
            )],
        )
    };
    // fail (T0), could not tell (T1), pass (T2): better than the last real verdict.
    let earlier = [at(T0, Status::Fail)];
    let cs = changes(
        &at(T1, Status::Error),
        &at(T2, Status::Pass),
        &earlier,
        None,
    );
    assert_eq!(cs[0].kind, ChangeKind::Better);
    let before = cs[0].before.as_ref().unwrap();
    assert_eq!((before.status, before.scanned_at), (Status::Fail, T0));
    // pass, could not tell, fail: worse.
    let earlier = [at(T0, Status::Pass)];
    let cs = changes(
        &at(T1, Status::Error),
        &at(T2, Status::Fail),
        &earlier,
        None,
    );
    assert_eq!(cs[0].kind, ChangeKind::Worse);
    // pass, could not tell, pass: can tell again, nothing else changed.
    let cs = changes(
        &at(T1, Status::Error),
        &at(T2, Status::Pass),
        &earlier,
        None,
    );
    assert_eq!(cs[0].kind, ChangeKind::Answered);
    assert_eq!(cs[0].before.as_ref().unwrap().status, Status::Error);
    // could not tell three times: never looked up as a verdict.
    let earlier = [at(T0, Status::Error)];
    let cs = changes(
        &at(T1, Status::Error),
        &at(T2, Status::Pass),
        &earlier,
        None,
    );
    assert_eq!(cs[0].kind, ChangeKind::Answered);
    assert!(needs_earlier(&at(T1, Status::Error), &at(T2, Status::Pass)));
    assert!(!needs_earlier(
        &at(T1, Status::Error),
        &at(T2, Status::Error)
    ));
    assert!(!needs_earlier(&at(T1, Status::Fail), &at(T2, Status::Pass)));
}

#[test]
fn a_passing_record_check_that_fails_is_a_removed_record() {
    let cs = one(CheckId::MxPresent, Status::Pass, Status::Fail);
    assert_eq!(
        (cs[0].kind, cs[0].reason),
        (ChangeKind::Worse, Reason::RecordRemoved)
    );
    // A policy getting weaker is a worse verdict, not a removal.
    let cs = one(CheckId::DmarcPolicy, Status::Pass, Status::Fail);
    assert_eq!(cs[0].reason, Reason::Verdict);
    // Warn to fail on a record check: it was not a passing record.
    let cs = one(CheckId::SpfPresent, Status::Warn, Status::Fail);
    assert_eq!(cs[0].reason, Reason::Verdict);
}

fn cert(check: CheckId, status: Status, not_after: &str) -> Finding {
    Finding {
        evidence: json!({"endpoints": [
            {"endpoint": "192.0.2.1:443", "detail": {"certs": [{"not_after": "2099-01-01"}]}},
            {"endpoint": "192.0.2.2:443", "detail": {"certs": [{"not_after": not_after}, {"not_after": "2000-01-01"}]}},
        ]})
        .into(),
        ..f(check, status, Severity::High)
    }
}

#[test]
fn a_certificate_now_expiring_within_14_days_is_worse_with_its_days_left() {
    let at = |t, check, not_after| {
        scan(
            t,
            vec![asset(
                "a.test",
                "o",
                vec![cert(check, Status::Warn, not_after)],
            )],
        )
    };
    // The same certificate, a week on: 17 days left at the first scan, 10 at the second.
    // Both warn (under 30 days), but now it is under 14: worse.
    let cs = changes(
        &at(T1, CheckId::MxCert, "2026-11-18"),
        &at(T2, CheckId::MxCert, "2026-11-18"),
        &[],
        None,
    );
    assert_eq!(cs.len(), 1, "{cs:?}");
    assert_eq!(
        (cs[0].kind, cs[0].reason, cs[0].days_left),
        (ChangeKind::Worse, Reason::CertificateExpiring, Some(10))
    );
    // 24 days left now: nothing to say.
    let cs = changes(
        &at(T1, CheckId::WebCert, "2026-12-02"),
        &at(T2, CheckId::WebCert, "2026-12-02"),
        &[],
        None,
    );
    assert_eq!(cs, Vec::<Change>::new());
    // Already under 14 days at the first scan: no news.
    let cs = changes(
        &at(T1, CheckId::WebCert, "2026-11-12"),
        &at(T2, CheckId::WebCert, "2026-11-12"),
        &[],
        None,
    );
    assert_eq!(cs, Vec::<Change>::new());
    // Renewed: the days left go up, the verdict improves, and the days are given.
    let mut renewed = at(T2, CheckId::WebCert, "2027-02-01");
    renewed.assets[0].findings[0].status = Status::Pass;
    let cs = changes(&at(T1, CheckId::WebCert, "2026-11-12"), &renewed, &[], None);
    assert_eq!(
        (cs[0].kind, cs[0].days_left),
        (ChangeKind::Better, Some(85))
    );
}

#[test]
fn domains_and_checks_that_appear_or_vanish_are_new_or_gone() {
    let b = scan(
        T1,
        vec![
            asset(
                "kept.test",
                "o",
                vec![
                    f(CheckId::MxPresent, Status::Pass, Severity::High),
                    f(CheckId::MxStarttls, Status::Pass, Severity::High),
                ],
            ),
            asset("old.test", "o", vec![]),
        ],
    );
    let a = scan(
        T2,
        vec![
            asset(
                "kept.test",
                "o",
                vec![
                    f(CheckId::MxPresent, Status::Pass, Severity::High),
                    f(CheckId::DnsCaa, Status::Warn, Severity::Low),
                ],
            ),
            asset(
                "fresh.test",
                "o",
                vec![f(CheckId::SpfAll, Status::Fail, Severity::High)],
            ),
        ],
    );
    let mut got = kinds(&changes(&b, &a, &[], None));
    got.sort();
    assert_eq!(
        got,
        [
            (
                "fresh.test".into(),
                None,
                ChangeKind::New,
                Reason::DomainAdded
            ),
            (
                "kept.test".into(),
                Some(CheckId::DnsCaa),
                ChangeKind::New,
                Reason::CheckAdded
            ),
            (
                "kept.test".into(),
                Some(CheckId::MxStarttls),
                ChangeKind::Gone,
                Reason::CheckRemoved
            ),
            (
                "old.test".into(),
                None,
                ChangeKind::Gone,
                Reason::DomainRemoved
            ),
        ]
    );
}

#[test]
fn changes_are_grouped_by_organisation_and_domain_worst_first() {
    let b = scan(
        T1,
        vec![
            asset(
                "calm.test",
                "a",
                vec![f(CheckId::SpfAll, Status::Fail, Severity::High)],
            ),
            asset(
                "bad.test",
                "z",
                vec![
                    f(CheckId::SpfAll, Status::Fail, Severity::High),
                    f(CheckId::DmarcPolicy, Status::Pass, Severity::High),
                    f(CheckId::DnsNs, Status::Error, Severity::High),
                ],
            ),
        ],
    );
    let a = scan(
        T2,
        vec![
            asset(
                "calm.test",
                "a",
                vec![f(CheckId::SpfAll, Status::Pass, Severity::High)],
            ),
            asset(
                "bad.test",
                "z",
                vec![
                    f(CheckId::SpfAll, Status::Pass, Severity::High),
                    f(CheckId::DmarcPolicy, Status::Fail, Severity::High),
                    f(CheckId::DnsNs, Status::Error, Severity::High),
                ],
            ),
        ],
    );
    let got: Vec<(String, ChangeKind)> = changes(&b, &a, &[], None)
        .into_iter()
        .map(|c| (c.domain, c.kind))
        .collect();
    // Organisation z has something worse, so it comes before a, whose only change is
    // better, though "a" sorts first by name.
    assert_eq!(
        got,
        [
            ("bad.test".into(), ChangeKind::Worse),
            ("bad.test".into(), ChangeKind::StillCouldNotTell),
            ("bad.test".into(), ChangeKind::Better),
            ("calm.test".into(), ChangeKind::Better),
        ]
    );
}

fn src(domain: &str, ip: &str, count: u64, pass: bool) -> SourceVolume {
    SourceVolume {
        domain: domain.into(),
        source_ip: ip.parse().unwrap(),
        dkim_aligned: pass,
        spf_aligned: false,
        count,
    }
}

#[test]
fn a_sender_failing_dmarc_that_no_earlier_report_showed_is_worse() {
    let after = scan(T2, vec![asset("a.test", "o", vec![])]);
    let all = ReportData {
        sources: vec![
            // Seen before the earlier scan and since: not new.
            src("a.test", "192.0.2.1", 30, false),
            // Only since, failing: new.
            src("a.test", "198.51.100.7", 12, false),
            src("a.test", "198.51.100.7", 3, true),
            // Only since, passing: not a failing source.
            src("a.test", "198.51.100.8", 5, true),
            // Another domain, not in the scan.
            src("other.test", "198.51.100.9", 5, false),
        ],
        ..Default::default()
    };
    let since = ReportData {
        sources: vec![
            src("a.test", "192.0.2.1", 10, false),
            src("a.test", "198.51.100.7", 12, false),
            src("a.test", "198.51.100.7", 3, true),
            src("a.test", "198.51.100.8", 5, true),
            src("other.test", "198.51.100.9", 5, false),
        ],
        ..Default::default()
    };
    let got = new_failing_sources(&all, &since, &after);
    let got: Vec<(&str, Option<&str>, Option<u64>, Reason)> = got
        .iter()
        .map(|c| (c.domain.as_str(), c.source.as_deref(), c.messages, c.reason))
        .collect();
    assert_eq!(
        got,
        [(
            "a.test",
            Some("198.51.100.7"),
            Some(12),
            Reason::NewFailingSource
        )]
    );
    // Through `changes` they join the scan's own, worst first.
    let before = scan(T1, vec![asset("a.test", "o", vec![])]);
    let cs = changes(
        &before,
        &after,
        &[],
        Some(MailSince {
            all: &all,
            since_before: &since,
        }),
    );
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].kind, ChangeKind::Worse);
}

#[test]
fn within_keeps_an_organisations_subtree() {
    let org = |id: &str, parent: Option<&str>| Organisation {
        id: id.into(),
        name: id.into(),
        kind: OrgKind::Branch,
        size: SizeClass::Small,
        parent: parent.map(Into::into),
        assets: vec![],
    };
    let orgs = [
        org("hq", None),
        org("north", Some("hq")),
        org("york", Some("north")),
        org("south", Some("hq")),
    ];
    let b = scan(
        T1,
        ["hq", "north", "york", "south"]
            .iter()
            .map(|o| {
                asset(
                    &format!("{o}.test"),
                    o,
                    vec![f(CheckId::SpfAll, Status::Pass, Severity::High)],
                )
            })
            .collect(),
    );
    let mut a = b.clone();
    a.scanned_at = T2;
    for x in &mut a.assets {
        x.findings[0].status = Status::Fail;
    }
    let mut got: Vec<String> = within(changes(&b, &a, &[], None), &orgs, "north")
        .into_iter()
        .map(|c| c.organisation_id)
        .collect();
    got.sort();
    assert_eq!(got, ["north", "york"]);
}

#[test]
fn the_json_names_kind_and_reason_in_snake_case() {
    let cs = one(CheckId::DnsNs, Status::Error, Status::Error);
    let v = serde_json::to_value(&cs[0]).unwrap();
    assert_eq!(v["kind"], "still_could_not_tell");
    assert_eq!(v["reason"], "verdict");
    assert_eq!(v["check"], "dns.ns");
    assert_eq!(v["before"]["status"], "error");
    assert!(v.get("days_left").is_none(), "{v}");
    let back: Change = serde_json::from_value(v).unwrap();
    assert_eq!(back, cs[0]);
}

/// A family that could not tell stops at its first check (no SPF record read, so no
/// `spf.all`); the checks it did not reach are could not tell too, not new or gone.
#[test]
fn checks_a_family_did_not_reach_share_its_could_not_tell() {
    let unknown = scan(
        T1,
        vec![asset(
            "a.test",
            "o",
            vec![f(CheckId::SpfPresent, Status::Error, Severity::High)],
        )],
    );
    let known = scan(
        T2,
        vec![asset(
            "a.test",
            "o",
            vec![
                f(CheckId::SpfPresent, Status::Pass, Severity::High),
                f(CheckId::SpfAll, Status::Fail, Severity::High),
            ],
        )],
    );
    let mut got = kinds(&changes(&unknown, &known, &[], None));
    got.sort();
    assert_eq!(
        got,
        [
            (
                "a.test".into(),
                Some(CheckId::SpfPresent),
                ChangeKind::Answered,
                Reason::Verdict
            ),
            (
                "a.test".into(),
                Some(CheckId::SpfAll),
                ChangeKind::Answered,
                Reason::Verdict
            ),
        ]
    );
    let mut later = unknown.clone();
    later.scanned_at = T2;
    let mut got = kinds(&changes(&known, &later, &[], None));
    got.sort();
    assert_eq!(
        got,
        [
            (
                "a.test".into(),
                Some(CheckId::SpfPresent),
                ChangeKind::NowCouldNotTell,
                Reason::Verdict
            ),
            (
                "a.test".into(),
                Some(CheckId::SpfAll),
                ChangeKind::NowCouldNotTell,
                Reason::Verdict
            ),
        ]
    );
    // A family with a verdict somewhere did get as far as it could: a check it no
    // longer makes is gone.
    let partial = scan(
        T2,
        vec![asset(
            "a.test",
            "o",
            vec![f(CheckId::SpfPresent, Status::Fail, Severity::High)],
        )],
    );
    let got = kinds(&changes(&known, &partial, &[], None));
    assert!(
        got.contains(&(
            "a.test".into(),
            Some(CheckId::SpfAll),
            ChangeKind::Gone,
            Reason::CheckRemoved
        )),
        "{got:?}"
    );
}

#[test]
fn a_silent_domain_is_one_line_and_other_changes_stay_apart() {
    use Status::*;
    let checks = [
        CheckId::DnsResolves,
        CheckId::DnsNs,
        CheckId::SpfPresent,
        CheckId::DmarcPresent,
    ];
    let side = |s: Status| {
        checks
            .iter()
            .map(|c| f(*c, s, Severity::High))
            .collect::<Vec<_>>()
    };
    let b = scan(
        T1,
        vec![
            asset("quiet.test", "o", side(Error)),
            asset(
                "busy.test",
                "o",
                vec![
                    f(CheckId::SpfAll, Pass, Severity::High),
                    f(CheckId::DnsNs, Pass, Severity::High),
                ],
            ),
        ],
    );
    let a = scan(
        T2,
        vec![
            asset("quiet.test", "o", side(Error)),
            asset(
                "busy.test",
                "o",
                vec![
                    f(CheckId::SpfAll, Fail, Severity::High),
                    f(CheckId::DnsNs, Fail, Severity::Medium),
                ],
            ),
        ],
    );
    let cs = changes(&b, &a, &[], None);
    let ls = lines(&cs);
    let got: Vec<(&str, ChangeKind, usize)> = ls
        .iter()
        .map(|l| (l.first.domain.as_str(), l.first.kind, l.all.len()))
        .collect();
    assert_eq!(
        got,
        [
            ("busy.test", ChangeKind::Worse, 1),
            ("busy.test", ChangeKind::Worse, 1),
            ("quiet.test", ChangeKind::StillCouldNotTell, 4),
        ]
    );
    assert_eq!(
        ls[2].describe(),
        "4 checks (dns.resolves, dns.ns, spf.present and 1 more): dns.resolves is error"
    );
}
