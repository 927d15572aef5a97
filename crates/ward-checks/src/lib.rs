//! The check catalogue: observations in, findings out.
//!
//! A check is a pure function of what was observed and of the asset's context (its roles
//! and its organisation's size class). No sockets, no clock, no randomness: that is what
//! lets a check be tested from a JSON fixture and a stored scan be judged again.
//!
//! Each family lives in its own module and exposes `judge(&Context) -> Vec<Finding>`.
//! [`judge`] runs every family in catalogue order. SPF lives in the mail family's room
//! ([`mail::spf`]) but keeps its own entry points, run just before the rest of the family.
#![deny(missing_docs)]

use ward_model::observe::AssetObservation;
use ward_model::{Asset, CheckId, Finding, Severity, SizeClass, Status};

pub mod dns;
pub mod dnssec;
pub mod mail;
pub mod tls;
pub mod web;

/// What a check knows about the asset it judges.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The asset.
    pub asset: &'a Asset,
    /// Its organisation's size class, which sets severities.
    pub size: SizeClass,
    /// Everything probed for it.
    pub obs: &'a AssetObservation,
}

/// Severity of a failing check for each size class: the same gap matters more to an
/// organisation that runs its own servers and is a bigger target.
#[derive(Debug, Clone, Copy)]
pub struct Stakes {
    /// For a small organisation.
    pub small: Severity,
    /// For a medium organisation.
    pub medium: Severity,
}

impl Stakes {
    /// The same for both sizes.
    pub const fn flat(s: Severity) -> Self {
        Stakes {
            small: s,
            medium: s,
        }
    }
    /// `small` for a small organisation, `medium` for a medium one.
    pub const fn sized(small: Severity, medium: Severity) -> Self {
        Stakes { small, medium }
    }
    /// The severity for `size`.
    pub fn for_size(self, size: SizeClass) -> Severity {
        match size {
            SizeClass::Small => self.small,
            SizeClass::Medium => self.medium,
        }
    }
}

/// Builds a finding. `stakes` applies to `fail`; `warn` is one step below it (at least
/// low); `pass`, `info` and `error` carry no severity: "could not tell" is not a finding
/// about the domain, and its status, not a severity, keeps it from reading as "fine".
pub fn finding(
    ctx: &Context<'_>,
    check: CheckId,
    status: Status,
    stakes: Stakes,
    summary: impl Into<String>,
    evidence: impl Into<ward_model::Evidence>,
) -> Finding {
    let fail = stakes.for_size(ctx.size);
    let severity = match status {
        Status::Fail => fail,
        Status::Warn => match fail {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            _ => Severity::Low,
        },
        Status::Pass | Status::Info | Status::Error => Severity::None,
    };
    Finding {
        check,
        status,
        severity,
        summary: summary.into(),
        evidence: evidence.into(),
    }
}

/// The checks each module judges, in catalogue order: every [`CheckId`] but the
/// [`ward_model::Family::Reports`] ones, which the report analysis emits.
pub fn judged_checks() -> Vec<CheckId> {
    let mut ids = dns::CHECKS.to_vec();
    ids.extend_from_slice(mail::spf::CHECKS);
    ids.extend_from_slice(mail::CHECKS);
    ids.extend_from_slice(tls::CHECKS);
    ids.extend_from_slice(dnssec::CHECKS);
    ids.extend_from_slice(web::CHECKS);
    ids
}

/// The DNS questions the checks still need answered for `asset`, given what has been
/// observed so far. The probe fetches these and asks again until nothing is missing,
/// so the questions on the wire are exactly the ones the checks use.
pub fn needed_lookups(asset: &Asset, obs: &AssetObservation) -> Vec<(String, String)> {
    let mut needed = Vec::new();
    if asset.has(ward_model::Role::Mail) || asset.has(ward_model::Role::Parked) {
        needed.extend(mail::spf::needed_lookups(obs, &asset.domain));
    }
    needed.extend(mail::needed_lookups(asset, obs));
    needed.sort();
    needed.dedup();
    needed
}

/// Runs every check family over one asset's observations.
///
/// A domain that does not exist (NXDOMAIN for its SOA) fails `dns.resolves`, and the
/// SPF, MX and transport findings become `info` "not judged": "no SPF record" or "no
/// STARTTLS" about a name nobody holds is noise that would bury the action that matters.
/// The DMARC findings stay, because RFC 9989's `np` tag exists precisely to protect
/// names that do not exist, and a weak `np` is a real gap.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    // A domain seen to take and send no mail is parked, listed so or not.
    let parked_asset;
    let parked_ctx;
    let ctx = if !ctx.asset.has(ward_model::Role::Parked)
        && mail::takes_no_mail(ctx.obs, &ctx.asset.domain)
    {
        let mut asset = ctx.asset.clone();
        asset.roles.retain(|r| *r != ward_model::Role::Mail);
        asset.roles.push(ward_model::Role::Parked);
        parked_asset = asset;
        parked_ctx = Context {
            asset: &parked_asset,
            ..*ctx
        };
        &parked_ctx
    } else {
        ctx
    };
    let mut out = Vec::new();
    out.extend(dns::judge(ctx));
    let mut rest = Vec::new();
    rest.extend(mail::spf::judge(ctx));
    rest.extend(mail::judge(ctx));
    rest.extend(tls::judge(ctx));
    rest.extend(dnssec::judge(ctx));
    rest.extend(web::judge(ctx));
    if let Some(ward_model::DnsOutcome::NxDomain { .. }) =
        ctx.obs.resolved(&ctx.asset.domain, "SOA")
    {
        let domain = &ctx.asset.domain;
        for f in rest.iter_mut() {
            if f.check == CheckId::DmarcInherited {
                // The one verdict that holds for a name that does not exist: the `np`
                // (else `sp`, else `p`) a parent gives it against spoofing.
                let own = format!("{domain} has no DMARC record of its own: ");
                let rest = f.summary.strip_prefix(&own).unwrap_or(&f.summary);
                f.summary = format!("{domain} does not exist; {rest}");
                continue;
            }
            f.status = Status::Info;
            f.severity = Severity::None;
            f.summary = not_judged(domain);
        }
    }
    out.extend(rest);
    out
}

/// RFC 7489's organisational domain (§3.2): the registrable domain by the Public Suffix
/// List (the `psl` crate's copy). `None` for a public suffix itself.
pub(crate) fn registrable(name: &str) -> Option<&str> {
    psl::domain_str(name.trim_end_matches('.'))
}

/// What every family says of a domain that does not exist, in one wording.
pub(crate) fn not_judged(domain: &str) -> String {
    format!("not judged: {domain} does not exist")
}

/// `dns.resolves` for a domain that does not exist. A registrable domain that does not
/// exist may have lapsed; a name below an existing one was never created, or was removed.
pub(crate) fn does_not_exist(domain: &str) -> String {
    if registrable(domain).is_some_and(|r| r.eq_ignore_ascii_case(domain)) {
        format!(
            "{domain} does not exist (NXDOMAIN): its registration may have lapsed, and anyone could register it"
        )
    } else {
        format!(
            "{domain} does not exist (NXDOMAIN): the name is not in its zone; remove it from the inventory, or publish it"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::Family;

    /// The modules' lists and the one list in ward-model cannot drift apart: every check
    /// but the reports' is judged by exactly one module, in catalogue order.
    #[test]
    fn modules_judge_every_check_once_in_catalogue_order() {
        let catalogue: Vec<CheckId> = CheckId::ALL
            .iter()
            .copied()
            .filter(|c| c.family() != Family::Reports)
            .collect();
        assert_eq!(judged_checks(), catalogue);
    }
}
