//! The roll-up ranks actions in the order a person would choose, on a fixture where that
//! order is worked out by hand.

use ward_advice::score::{asset_score, org_score, roll_up};
use ward_checks::mail::dmarc::phase as dmarc_phase;
use ward_model::DmarcPhase;
use ward_model::{
    AssetReport, CheckId, Finding, OrgKind, Organisation, Role, ScanReport, Severity, SizeClass,
    Status,
};

fn org(id: &str, kind: OrgKind, parent: Option<&str>) -> Organisation {
    Organisation {
        id: id.into(),
        name: format!("Org {id}"),
        kind,
        size: if kind == OrgKind::Party {
            SizeClass::Medium
        } else {
            SizeClass::Small
        },
        parent: parent.map(Into::into),
        assets: Vec::new(),
    }
}

fn f(check: &str, status: Status, severity: Severity) -> Finding {
    Finding {
        check: CheckId::parse(check).unwrap_or_else(|| panic!("unknown check {}", check)),
        status,
        severity,
        summary: format!("{check} {}", status.as_str()),
        evidence: serde_json::Value::Null.into(),
    }
}

fn asset(org: &str, findings: Vec<Finding>) -> AssetReport {
    AssetReport {
        dmarc_phase: dmarc_phase(&findings),
        domain: format!("{org}.example"),
        organisation: format!("Org {org}"),
        organisation_id: org.into(),
        roles: vec![Role::Mail, Role::Web],
        findings,
    }
}

/// Party `p` with regions north (n1, n2, n3) and south (s1, s2).
fn fixture() -> (ScanReport, Vec<Organisation>) {
    let orgs = vec![
        org("p", OrgKind::Party, None),
        org("north", OrgKind::Region, Some("p")),
        org("south", OrgKind::Region, Some("p")),
        org("n1", OrgKind::Branch, Some("north")),
        org("n2", OrgKind::Branch, Some("north")),
        org("n3", OrgKind::Branch, Some("north")),
        org("s1", OrgKind::Branch, Some("south")),
        org("s2", OrgKind::Branch, Some("south")),
    ];
    let assets = assets();
    let report = ScanReport {
        scanned_at: time::macros::datetime!(2026-11-01 10:00 UTC),
        ward_version: "test".into(),
        assets,
        warnings: Vec::new(),
    };
    (report, orgs)
}

fn assets() -> Vec<AssetReport> {
    use Severity::*;
    use Status::*;
    vec![
        // The party's own critical finding is not a branch action.
        asset("p", vec![f("dmarc.policy", Fail, Critical)]),
        asset(
            "n1",
            vec![
                f("dmarc.policy", Fail, High),
                f("web.https", Fail, High),
                f("dns.caa", Warn, Low),
            ],
        ),
        asset(
            "n2",
            vec![f("dmarc.policy", Fail, High), f("spf.all", Fail, High)],
        ),
        asset(
            "n3",
            vec![f("dmarc.policy", Fail, High), f("web.hsts", Warn, Medium)],
        ),
        asset(
            "s1",
            vec![
                f("web.https", Fail, High),
                f("dns.caa", Warn, Low),
                f("dmarc.policy", Pass, None),
            ],
        ),
        // Could-not-tell is no exposure and costs no points.
        asset(
            "s2",
            vec![f("dns.caa", Warn, Low), f("web.cert", Error, High)],
        ),
    ]
}

#[test]
fn party_ranking_puts_the_widest_severe_fix_first() {
    let (report, orgs) = fixture();
    let r = roll_up(&report, &orgs, "p");
    let order: Vec<(&str, Severity, usize)> = r
        .ranking
        .actions
        .iter()
        .map(|a| (a.check.as_str(), a.severity, a.branches.len()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("dmarc.policy", Severity::High, 3),
            ("web.https", Severity::High, 2),
            ("spf.all", Severity::High, 1),
            ("web.hsts", Severity::Medium, 1),
            ("dns.caa", Severity::Low, 3),
        ]
    );
    assert_eq!(r.ranking.actions[0].branches, vec!["n1", "n2", "n3"]);
    assert_eq!(
        r.ranking.actions[0].action,
        "Move the DMARC policy to reject"
    );
    assert_eq!(r.ranking.branches_total, 5);
    assert_eq!(r.ranking.protected_now, 1);
    let protected: Vec<usize> = (0..=4).map(|k| r.ranking.protected_after(k)).collect();
    assert_eq!(protected, vec![1, 2, 4, 5, 5]);
    assert_eq!(
        r.ranking.headline(3),
        "These 3 changes would protect 5 of 5 branches from every high or critical exposure found (today: 1)."
    );
}

#[test]
fn regions_rank_their_own_branches_and_break_ties_by_check_id() {
    let (report, orgs) = fixture();
    let r = roll_up(&report, &orgs, "p");
    let regions: Vec<(&str, Option<u8>, Vec<&str>)> = r
        .regions
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.score,
                g.ranking.actions.iter().map(|a| a.check.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        regions,
        vec![
            (
                "north",
                Some(56),
                vec![
                    "dmarc.policy",
                    "spf.all",
                    "web.https",
                    "web.hsts",
                    "dns.caa"
                ]
            ),
            ("south", Some(86), vec!["web.https", "dns.caa"]),
        ]
    );
}

#[test]
fn scores_follow_the_published_penalties() {
    let (report, orgs) = fixture();
    let scores: Vec<u8> = report.assets.iter().map(|a| asset_score(a).score).collect();
    assert_eq!(scores, vec![60, 48, 50, 70, 73, 98]);
    assert_eq!(asset_score(&report.assets[5]).could_not_tell, 1);
    let r = roll_up(&report, &orgs, "p");
    assert_eq!(r.own_score, Some(60));
    assert_eq!(r.branch_score, Some(68));
    assert_eq!(org_score(&report, "north"), None);
    // A branch rolled up on its own is its own single branch.
    let b = roll_up(&report, &orgs, "n2");
    assert_eq!(b.ranking.branches_total, 1);
    assert_eq!(b.ranking.actions.len(), 2);
    assert!(b.regions.is_empty());
}

#[test]
fn dmarc_phases_from_findings() {
    use Severity::*;
    use Status::*;
    let phase = |fs: Vec<Finding>| dmarc_phase(&fs);
    assert_eq!(phase(vec![f("spf.all", Pass, None)]), Option::None);
    assert_eq!(phase(vec![f("dmarc.present", Error, Medium)]), Option::None);
    assert_eq!(
        phase(vec![f("dmarc.present", Fail, High)]),
        Some(DmarcPhase::Assess)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.syntax", Fail, High)
        ]),
        Some(DmarcPhase::Assess)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.policy", Fail, High)
        ]),
        Some(DmarcPhase::Deploy)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.policy", Warn, Medium)
        ]),
        Some(DmarcPhase::Enforce)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.policy", Pass, None),
            f("dmarc.subdomains", Fail, Medium)
        ]),
        Some(DmarcPhase::Enforce)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.policy", Pass, None),
            f("dmarc.reporting", Warn, Low)
        ]),
        Some(DmarcPhase::Enforce)
    );
    assert_eq!(
        phase(vec![
            f("dmarc.present", Pass, None),
            f("dmarc.policy", Pass, None),
            f("dmarc.subdomains", Pass, None),
            f("dmarc.reporting", Pass, None)
        ]),
        Some(DmarcPhase::Maintain)
    );
    // No record of its own, but a parent's policy applies.
    assert_eq!(
        phase(vec![
            f("dmarc.present", Fail, High),
            f("dmarc.inherited", Pass, None),
            f("dmarc.policy", Pass, None)
        ]),
        Some(DmarcPhase::Maintain)
    );
    // No record of its own and none inherited: the other dmarc.* rows are `info` ("see
    // dmarc.inherited"), which must not read as a passing policy.
    let no_record = vec![
        f("dmarc.present", Fail, High),
        f("dmarc.syntax", Info, None),
        f("dmarc.policy", Info, None),
        f("dmarc.subdomains", Info, None),
        f("dmarc.reporting", Info, None),
        f("dmarc.inherited", Info, None),
    ];
    assert_eq!(phase(no_record.clone()), Some(DmarcPhase::Assess));
    // A domain that does not exist has no phase.
    let mut gone = no_record;
    gone.push(Finding {
        evidence: serde_json::json!({ "soa": "nxdomain" }).into(),
        ..f("dns.resolves", Fail, High)
    });
    assert_eq!(phase(gone), Option::None);
}

#[test]
fn a_domain_nobody_could_see_is_not_scored() {
    let (mut report, _) = fixture();
    let silent = asset(
        "nowhere",
        vec![
            f("dns.resolves", Status::Error, Severity::Low),
            f("dns.ns", Status::Error, Severity::Low),
        ],
    );
    report.assets.push(silent);
    assert_eq!(
        org_score(&report, "nowhere"),
        None,
        "all could-not-tell: no score, not 100"
    );
    // One judged finding is enough to score.
    report.assets.push(asset(
        "partly",
        vec![
            f("dns.resolves", Status::Pass, Severity::None),
            f("dns.ns", Status::Error, Severity::Low),
        ],
    ));
    assert_eq!(org_score(&report, "partly"), Some(100));
}
