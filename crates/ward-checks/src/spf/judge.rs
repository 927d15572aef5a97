//! The `spf.*` checks.
use crate::Context;
use ward_model::Finding;

/// Judges SPF posture.
pub fn judge(_ctx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
