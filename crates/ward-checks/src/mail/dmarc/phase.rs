//! The DMARC phase of a domain, read from its `dmarc.*` verdicts: the checks decide it
//! once, and advice, exports and reports show it.

use ward_model::{CheckId, DmarcPhase, Finding, Status};

/// The DMARC phase shown by `findings` (one asset's), or `None` when DMARC was not
/// judged (not a mail domain) or ward could not tell.
pub fn phase(findings: &[Finding]) -> Option<DmarcPhase> {
    let status = |id: CheckId| findings.iter().find(|f| f.check == id).map(|f| f.status);
    let present = status(CheckId::DmarcPresent);
    let inherited = status(CheckId::DmarcInherited);
    let policy = status(CheckId::DmarcPolicy);
    if present == Some(Status::Error) || policy == Some(Status::Error) {
        return None;
    }
    let has_record = match (present, inherited) {
        (None, None) => return None,
        (Some(Status::Fail), Some(Status::Pass | Status::Warn | Status::Info)) => true,
        (Some(Status::Fail), _) => false,
        (None, Some(s)) => s != Status::Fail,
        (Some(_), _) => true,
    };
    if !has_record || status(CheckId::DmarcSyntax) == Some(Status::Fail) {
        return Some(DmarcPhase::Assess);
    }
    let weak = |s: Option<Status>| matches!(s, Some(Status::Fail | Status::Warn));
    Some(match policy {
        Some(Status::Fail) | None => DmarcPhase::Deploy,
        Some(Status::Warn) => DmarcPhase::Enforce,
        Some(_)
            if weak(status(CheckId::DmarcSubdomains)) || weak(status(CheckId::DmarcReporting)) =>
        {
            DmarcPhase::Enforce
        }
        Some(_) => DmarcPhase::Maintain,
    })
}
