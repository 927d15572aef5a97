//! Findings: what a check concluded about an asset, with the evidence for it.

use serde::{Deserialize, Serialize};

use crate::CheckId;

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
    pub evidence: Evidence,
}

/// A finding's evidence: JSON data, shared instead of copied. One check often hands the
/// same evidence to several findings (the three DKIM checks share the list of every
/// selector tried), and a scan makes tens of findings per domain, so a deep copy each
/// time was a large part of judging. Reads go through [`Deref`](std::ops::Deref) to the
/// [`serde_json::Value`]; it serialises exactly as the value does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence(std::sync::Arc<serde_json::Value>);

impl Evidence {
    /// The value itself, copied only if another finding still shares it.
    pub fn into_value(self) -> serde_json::Value {
        std::sync::Arc::unwrap_or_clone(self.0)
    }
}

impl std::ops::Deref for Evidence {
    type Target = serde_json::Value;
    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

impl From<serde_json::Value> for Evidence {
    fn from(v: serde_json::Value) -> Self {
        Evidence(std::sync::Arc::new(v))
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Evidence::from)
    }
}
