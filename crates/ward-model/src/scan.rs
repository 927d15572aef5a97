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
}
