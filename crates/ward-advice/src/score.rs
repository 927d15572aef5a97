//! Scores, DMARC phases and the roll-up from branch to region to party. Pure: findings and
//! the organisation tree in, numbers and ranked actions out.
//!
//! **Score.** Each asset starts at 100 and loses points for each failing or warning
//! finding, by severity: critical 40, high 25, medium 10, low 4 for a failure, half that
//! (rounded down) for a warning. It never goes below 0. "Could not tell" costs nothing,
//! because it is not evidence of a fault; reports show how many there were. An
//! organisation's score is the rounded mean of its assets' scores.
//!
//! **Roll-up.** An *action* is one check fixed everywhere it fails or warns. Actions are
//! ranked by the worst severity they remove, then by how many branches they help, then by
//! how many findings they clear, then by check id so the order is stable. A branch counts
//! as *protected* once none of its failing or warning findings of high or critical
//! severity is left, which gives the headline "these 3 changes would protect 41 of 60
//! branches".

use crate::advice::advice_for;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use ward_model::{
    AssetReport, CheckId, DmarcPhase, Finding, OrgKind, Organisation, ScanReport, Severity,
    SizeClass, Status,
};

/// Points a finding costs its asset.
pub fn penalty(f: &Finding) -> u32 {
    let full = match f.severity {
        Severity::Critical => 40,
        Severity::High => 25,
        Severity::Medium => 10,
        Severity::Low => 4,
        Severity::None => 0,
    };
    match f.status {
        Status::Fail => full,
        Status::Warn => full / 2,
        Status::Pass | Status::Info | Status::Error => 0,
    }
}

/// One asset's score.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssetScore {
    /// The domain.
    pub domain: String,
    /// 0 to 100.
    pub score: u8,
    /// Findings ward could not judge.
    pub could_not_tell: usize,
}

/// Scores one asset.
pub fn asset_score(a: &AssetReport) -> AssetScore {
    let lost: u32 = a.findings.iter().map(penalty).sum();
    // A domain that does not exist scores 0, not what its few remaining checks leave: whoever
    // registers it can send mail and serve pages in the organisation's name.
    let score = if ward_model::scan::does_not_exist(&a.findings) {
        0
    } else {
        100u32.saturating_sub(lost) as u8
    };
    AssetScore {
        domain: a.domain.clone(),
        score,
        could_not_tell: a
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .count(),
    }
}

/// The rounded mean of `scores`, or `None` when there are none.
pub fn mean_score(scores: impl IntoIterator<Item = u8>) -> Option<u8> {
    let (sum, n) = scores
        .into_iter()
        .fold((0u32, 0u32), |(s, n), x| (s + u32::from(x), n + 1));
    (n > 0).then(|| ((sum + n / 2) / n) as u8)
}

/// Whether anything about the asset could be judged. A domain whose nameservers never
/// answered has only "could not tell" findings: scoring it 100 would say "all is well"
/// about something nobody could see, so it is left out of scores instead.
pub fn judged(a: &AssetReport) -> bool {
    a.findings.iter().any(|f| f.status != Status::Error)
}

/// An organisation's score: the mean over the assets it owns directly that could be
/// judged; `None` when there are none.
pub fn org_score(report: &ScanReport, org_id: &str) -> Option<u8> {
    mean_score(
        report
            .assets
            .iter()
            .filter(|a| a.organisation_id == org_id && judged(a))
            .map(|a| asset_score(a).score),
    )
}

/// What to do in `phase`, in one sentence.
pub fn next_step(phase: DmarcPhase) -> &'static str {
    match phase {
        DmarcPhase::Assess => {
            "List every service that sends mail as this domain, then publish DMARC with p=none and a report address."
        }
        DmarcPhase::Deploy => {
            "Read the reports until every real sender passes, then move to p=quarantine."
        }
        DmarcPhase::Enforce => {
            "Finish the move to p=reject for the domain and its subdomains, with reports going to someone who reads them."
        }
        DmarcPhase::Maintain => {
            "Keep reading the reports and add each new sending service before it goes live."
        }
    }
}

/// One change, ranked by what it fixes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Action {
    /// The check it fixes.
    pub check: CheckId,
    /// What to do, as a short imperative (from the advice catalogue).
    pub action: String,
    /// The worst severity it removes.
    pub severity: Severity,
    /// The branches it helps, sorted by id.
    pub branches: Vec<String>,
    /// How many failing or warning findings it clears.
    pub findings: usize,
}

/// A ranked list of actions over a set of branches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ranking {
    /// How many branches are covered.
    pub branches_total: usize,
    /// Branches with no high or critical exposure today.
    pub protected_now: usize,
    /// Actions, most valuable first.
    pub actions: Vec<Action>,
    /// For each branch, the checks that leave it exposed at high or critical severity.
    #[serde(skip)]
    high_exposure: BTreeMap<String, BTreeSet<CheckId>>,
}

impl Ranking {
    /// How many branches would be protected after the first `k` actions.
    pub fn protected_after(&self, k: usize) -> usize {
        let fixed: BTreeSet<CheckId> = self.actions.iter().take(k).map(|a| a.check).collect();
        let exposed = self
            .high_exposure
            .values()
            .filter(|checks| checks.iter().any(|c| !fixed.contains(c)))
            .count();
        self.branches_total - exposed
    }

    /// The headline sentence for the first `k` actions.
    pub fn headline(&self, k: usize) -> String {
        let k = k.min(self.actions.len());
        let changes = match k {
            0 => "Doing nothing".to_owned(),
            1 => "This change".to_owned(),
            k => format!("These {k} changes"),
        };
        format!(
            "{changes} would protect {} of {} branches from every high or critical exposure found (today: {}).",
            self.protected_after(k),
            self.branches_total,
            self.protected_now
        )
    }
}

fn is_exposure(f: &Finding) -> bool {
    matches!(f.status, Status::Fail | Status::Warn) && f.severity > Severity::None
}

/// Ranks the actions over `branches`, each given as its id and its findings.
pub fn rank_actions<'a>(
    branches: impl IntoIterator<Item = (&'a str, Vec<&'a Finding>)>,
) -> Ranking {
    struct Acc {
        severity: Severity,
        branches: BTreeSet<String>,
        findings: usize,
    }
    let mut by_check: HashMap<CheckId, Acc> = HashMap::new();
    let mut high_exposure: BTreeMap<String, BTreeSet<CheckId>> = BTreeMap::new();
    let mut total = 0;
    for (branch, findings) in branches {
        total += 1;
        let high = high_exposure.entry(branch.to_owned()).or_default();
        for f in findings.into_iter().filter(|f| is_exposure(f)) {
            let acc = by_check.entry(f.check).or_insert_with(|| Acc {
                severity: Severity::None,
                branches: BTreeSet::new(),
                findings: 0,
            });
            acc.severity = acc.severity.max(f.severity);
            acc.branches.insert(branch.to_owned());
            acc.findings += 1;
            if f.severity >= Severity::High {
                high.insert(f.check);
            }
        }
    }
    high_exposure.retain(|_, checks| !checks.is_empty());
    let mut actions: Vec<Action> = by_check
        .into_iter()
        .map(|(check, acc)| Action {
            action: advice_for(check, SizeClass::Small)
                .map(|a| a.action.to_owned())
                .unwrap_or_else(|| format!("Fix {check}")),
            check,
            severity: acc.severity,
            branches: acc.branches.into_iter().collect(),
            findings: acc.findings,
        })
        .collect();
    actions.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.branches.len().cmp(&a.branches.len()))
            .then(b.findings.cmp(&a.findings))
            .then(a.check.as_str().cmp(b.check.as_str()))
    });
    Ranking {
        branches_total: total,
        protected_now: total - high_exposure.len(),
        actions,
        high_exposure,
    }
}

/// The ids of `root` and everything below it, in tree order of `orgs`.
pub fn subtree<'a>(orgs: &'a [Organisation], root: &str) -> Vec<&'a Organisation> {
    let mut out: Vec<&Organisation> = orgs.iter().filter(|o| o.id == root).collect();
    let mut i = 0;
    while i < out.len() {
        let id = out[i].id.as_str();
        out.extend(orgs.iter().filter(|o| o.parent.as_deref() == Some(id)));
        i += 1;
    }
    out
}

/// One region's share of a roll-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegionRollUp {
    /// The region's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its branches' mean score.
    pub score: Option<u8>,
    /// Its ranked actions.
    pub ranking: Ranking,
}

/// The roll-up of an organisation and everything below it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RollUp {
    /// The organisation at the top.
    pub root: String,
    /// The top organisation's own score (its own domains).
    pub own_score: Option<u8>,
    /// The mean of every branch's score below it.
    pub branch_score: Option<u8>,
    /// Ranked actions over every branch below it (or the organisation itself when it is a
    /// branch).
    pub ranking: Ranking,
    /// The same per region, in inventory order.
    pub regions: Vec<RegionRollUp>,
}

fn branch_findings<'a>(
    report: &'a ScanReport,
    branches: &[&'a Organisation],
) -> Vec<(&'a str, Vec<&'a Finding>)> {
    branches
        .iter()
        .map(|b| {
            let fs = report
                .assets
                .iter()
                .filter(|a| a.organisation_id == b.id)
                .flat_map(|a| a.findings.iter())
                .collect();
            (b.id.as_str(), fs)
        })
        .collect()
}

fn branches_of<'a>(orgs: &'a [Organisation], root: &str) -> Vec<&'a Organisation> {
    subtree(orgs, root)
        .into_iter()
        .filter(|o| o.kind == OrgKind::Branch)
        .collect()
}

/// Rolls `report` up from the branches to `root`.
pub fn roll_up(report: &ScanReport, orgs: &[Organisation], root: &str) -> RollUp {
    let branches = branches_of(orgs, root);
    let ranking = rank_actions(branch_findings(report, &branches));
    let branch_score = mean_score(branches.iter().filter_map(|b| org_score(report, &b.id)));
    let regions = subtree(orgs, root)
        .into_iter()
        .filter(|o| o.kind == OrgKind::Region)
        .map(|r| {
            let bs = branches_of(orgs, &r.id);
            RegionRollUp {
                id: r.id.clone(),
                name: r.name.clone(),
                score: mean_score(bs.iter().filter_map(|b| org_score(report, &b.id))),
                ranking: rank_actions(branch_findings(report, &bs)),
            }
        })
        .collect();
    RollUp {
        root: root.to_owned(),
        own_score: org_score(report, root),
        branch_score,
        ranking,
        regions,
    }
}
