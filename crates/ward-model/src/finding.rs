//! Findings: what a check concluded about an asset, with the evidence for it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, dotted, lower-case check identifier such as `dns.ns` or `dmarc.policy`.
///
/// Check ids are the keys of the advice catalogue, the store and the JSON output: once
/// published, an id never changes meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckId(pub String);

impl CheckId {
    /// Wraps a static id.
    pub fn new(id: &str) -> Self {
        CheckId(id.to_owned())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Meets the standard.
    Pass,
    /// Works, but falls short of good practice.
    Warn,
    /// Falls short in a way that exposes the organisation.
    Fail,
    /// Worth knowing; no judgement.
    Info,
    /// Could not tell: the evidence needed was not obtainable (timeout, refusal, ...).
    /// Never a claim that something is missing.
    Error,
}

impl Status {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Info => "info",
            Status::Error => "error",
        }
    }
}

/// How much a finding matters to the organisation that owns the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing to do.
    None,
    /// Tidy up when convenient.
    Low,
    /// Plan a fix.
    Medium,
    /// Fix soon: an attacker can use this.
    High,
    /// Fix now.
    Critical,
}

impl Severity {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step more severe, saturating at critical.
    pub fn raised(self) -> Severity {
        match self {
            Severity::None => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "none" => Severity::None,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            other => {
                return Err(format!(
                    "unknown severity `{other}` (none, low, medium, high, critical)"
                ));
            }
        })
    }
}

/// What one check concluded about one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which check.
    pub check: CheckId,
    /// The verdict.
    pub status: Status,
    /// How much it matters to this organisation.
    pub severity: Severity,
    /// One line a person can read.
    pub summary: String,
    /// What was seen, as data, so a reader can see why without re-running anything.
    pub evidence: serde_json::Value,
}
