//! Per-organisation summaries of a scan.

use std::collections::HashMap;
use ward_model::{Finding, OrgKind, Organisation, ScanReport, SizeClass, Status};

/// How many findings of each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Warnings.
    pub warn: usize,
    /// Failures.
    pub fail: usize,
    /// Informational.
    pub info: usize,
    /// Could not tell.
    pub error: usize,
}

impl Counts {
    /// Adds one finding.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Fail => self.fail += 1,
            Status::Info => self.info += 1,
            Status::Error => self.error += 1,
        }
    }
}

/// One organisation's share of a scan.
#[derive(Debug, Clone)]
pub struct OrgSummary {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Party, region or branch.
    pub kind: OrgKind,
    /// Small or medium.
    pub size: SizeClass,
    /// Its parent's id.
    pub parent: Option<String>,
    /// How many of its domains were scanned.
    pub domains: usize,
    /// Findings by status.
    pub counts: Counts,
    /// Its fail and warn findings (and could-not-tell ones), worst first.
    pub worst: Vec<(String, Finding)>,
}

/// Orders findings for "worst first": failures by severity, then warnings, then
/// could-not-tell (which is not good news either).
fn rank(f: &Finding) -> (u8, std::cmp::Reverse<ward_model::Severity>) {
    let status = match f.status {
        Status::Fail => 0,
        Status::Warn => 1,
        Status::Error => 2,
        Status::Info => 3,
        Status::Pass => 4,
    };
    (status, std::cmp::Reverse(f.severity))
}

/// Summarises `report` per organisation, in the order of `orgs` (organisations with no
/// domain in the scan are left out). Organisations named in the scan but not in `orgs`
/// come last, so nothing in the scan goes unreported.
pub fn summarise(report: &ScanReport, orgs: &[Organisation]) -> Vec<OrgSummary> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<OrgSummary> = Vec::new();
    for o in orgs {
        index.insert(o.id.as_str(), out.len());
        out.push(OrgSummary {
            id: o.id.clone(),
            name: o.name.clone(),
            kind: o.kind,
            size: o.size,
            parent: o.parent.clone(),
            domains: 0,
            counts: Counts::default(),
            worst: Vec::new(),
        });
    }
    for a in &report.assets {
        let i = match index.get(a.organisation_id.as_str()) {
            Some(i) => *i,
            None => {
                index.insert(a.organisation_id.as_str(), out.len());
                out.push(OrgSummary {
                    id: a.organisation_id.clone(),
                    name: a.organisation.clone(),
                    kind: OrgKind::Branch,
                    size: SizeClass::Small,
                    parent: None,
                    domains: 0,
                    counts: Counts::default(),
                    worst: Vec::new(),
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.domains += 1;
        for f in &a.findings {
            s.counts.add(f.status);
            if matches!(f.status, Status::Fail | Status::Warn | Status::Error) {
                s.worst.push((a.domain.clone(), f.clone()));
            }
        }
    }
    for s in &mut out {
        s.worst.sort_by_key(|(_, f)| rank(f));
    }
    out.retain(|s| s.domains > 0);
    out
}
