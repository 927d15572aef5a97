//! The scan document: what `ward scan --format json` prints (see docs/output.md).

use crate::{Finding, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One scan of some assets. This is the stable JSON output scripts rely on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// When the scan started (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
    /// The ward version that made it.
    pub ward_version: String,
    /// One entry per domain scanned, in inventory order.
    pub assets: Vec<AssetReport>,
    /// What a reader must know before reading the findings, e.g. that most checks could
    /// not be made because the resolver did not answer. Empty for a normal scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Whether `findings` say the domain does not exist (`dns.resolves` failed with NXDOMAIN):
/// a lapsed or mistyped registration that anyone could register.
pub fn does_not_exist(findings: &[crate::Finding]) -> bool {
    findings.iter().any(|f| {
        f.check == crate::CheckId::DnsResolves
            && f.status == crate::Status::Fail
            && f.evidence.get("soa").and_then(|v| v.as_str()) == Some("nxdomain")
    })
}

/// How many of `assets`' findings are "could not tell", and how many there are.
fn could_not_tell(assets: &[AssetReport]) -> (usize, usize) {
    let all = assets.iter().flat_map(|a| &a.findings);
    let unknown = all
        .clone()
        .filter(|f| f.status == crate::Status::Error)
        .count();
    (unknown, all.count())
}

impl ScanReport {
    /// How many findings are "could not tell" (`error`), and how many there are.
    pub fn could_not_tell(&self) -> (usize, usize) {
        could_not_tell(&self.assets)
    }

    /// The warnings a scan with these assets deserves (see [`ScanReport::warnings`]).
    pub fn warnings_for(assets: &[AssetReport]) -> Vec<String> {
        let (unknown, total) = could_not_tell(assets);
        let mut out = Vec::new();
        let resolves: Vec<_> = assets
            .iter()
            .filter_map(|a| {
                a.findings
                    .iter()
                    .find(|f| f.check == crate::CheckId::DnsResolves)
            })
            .collect();
        if !resolves.is_empty() && resolves.iter().all(|f| f.status == crate::Status::Error) {
            out.push(format!(
                "no domain could be looked up: the resolver answered no question about any of \
                 the {} scanned, so the results say nothing about them; check --resolver",
                if resolves.len() == 1 {
                    "one domain".to_owned()
                } else {
                    format!("{} domains", resolves.len())
                }
            ));
        }
        if total > 0 && unknown * 2 >= total {
            out.push(format!(
                "{unknown} of {total} checks could not be made (\"could not tell\"); \
                 a missing answer is not a pass"
            ));
        }
        out
    }
}

/// The findings for one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetReport {
    /// The domain.
    pub domain: String,
    /// The owning organisation's name.
    pub organisation: String,
    /// The owning organisation's id.
    pub organisation_id: String,
    /// What the domain is used for.
    pub roles: Vec<Role>,
    /// Every finding, in catalogue order.
    pub findings: Vec<Finding>,
    /// Where the domain is on the road to an enforced DMARC policy, as the DMARC checks
    /// judged it; absent when DMARC was not judged or could not be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc_phase: Option<DmarcPhase>,
}

/// Where a mail domain is on the road to an enforced DMARC policy. The DMARC checks set
/// it from the published record; the report analysis sets it from what receivers saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPhase {
    /// Not there yet: find out who sends mail as the domain.
    Assess,
    /// Monitoring (`p=none`), or enforcing only in part: align every sender.
    Deploy,
    /// On the way to full enforcement.
    Enforce,
    /// Enforced everywhere with reports flowing: keep watching them.
    Maintain,
}

impl DmarcPhase {
    /// Every phase, in order.
    pub const ALL: [DmarcPhase; 4] = [
        DmarcPhase::Assess,
        DmarcPhase::Deploy,
        DmarcPhase::Enforce,
        DmarcPhase::Maintain,
    ];

    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DmarcPhase::Assess => "assess",
            DmarcPhase::Deploy => "deploy",
            DmarcPhase::Enforce => "enforce",
            DmarcPhase::Maintain => "maintain",
        }
    }

    /// The phase named `s`, as [`DmarcPhase::as_str`] writes it.
    pub fn parse(s: &str) -> Option<DmarcPhase> {
        DmarcPhase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}
