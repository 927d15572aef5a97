//! The DMARC phase of a domain, read from its `dmarc.*` verdicts: the checks decide it
//! once, and advice, exports and reports show it.

use ward_model::{CheckId, DmarcPhase, Finding, Status};

/// The DMARC phase shown by `findings` (one asset's), or `None` when DMARC was not
/// judged (not a mail domain) or ward could not tell.
pub fn phase(findings: &[Finding]) -> Option<DmarcPhase> {
    let find = |id: CheckId| findings.iter().find(|f| f.check == id);
    let status = |id: CheckId| find(id).map(|f| f.status);
    // A domain that does not exist has no mail of its own to protect: no phase at all.
    let nxdomain = ward_model::scan::does_not_exist(findings);
    if nxdomain {
        return None;
    }
    let present = status(CheckId::DmarcPresent);
    let inherited = status(CheckId::DmarcInherited);
    let policy = status(CheckId::DmarcPolicy);
    if present == Some(Status::Error) || policy == Some(Status::Error) {
        return None;
    }
    // `dmarc.inherited` passes or warns only when a parent's policy really applies; its
    // `info` says that none does (or that the domain's own record is what counts).
    let inherits = matches!(inherited, Some(Status::Pass | Status::Warn));
    let own_record = match present {
        None => false,
        Some(Status::Fail) => false,
        Some(_) => true,
    };
    if present.is_none() && inherited.is_none() {
        return None;
    }
    if !own_record && !inherits {
        return Some(DmarcPhase::Assess);
    }
    if own_record && status(CheckId::DmarcSyntax) == Some(Status::Fail) {
        return Some(DmarcPhase::Assess);
    }
    if !own_record && policy == Some(Status::Info) {
        // A parent's policy applies but was not judged as this domain's own.
        return Some(match inherited {
            Some(Status::Pass) => DmarcPhase::Enforce,
            _ => DmarcPhase::Deploy,
        });
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
