//! The mail-authentication checks: SPF, DMARC, DKIM, MX, MTA-STS, TLS-RPT, BIMI,
//! parked-domain lockdown and bulk-sender readiness.
//!
//! One room per subject: [`spf`] (the evaluator, the include/redirect tree and the `spf.*`
//! checks), [`dmarc`] (RFC 9989 discovery in [`dmarc::discover`], and the `dmarc.*`
//! judgement), `dkim`, `mx` (MX, MTA-STS, TLS-RPT) and `posture` (BIMI, parked-domain
//! lockdown, bulk-sender readiness, which build on the others). SPF keeps its own entry
//! points ([`spf::CHECKS`], [`spf::judge`], [`spf::needed_lookups`]): it is judged for the
//! same assets but asks its questions even when the domain's nameservers failed, and the
//! catalogue in `lib.rs` runs it just before this family, so [`CHECKS`] and [`judge`] here
//! are the mail checks beyond SPF.
//!
//! Every check here reads DNS through the observation (a [`ward_model::DnsSource`]) and
//! keeps the three states apart: a question that was not asked, or whose lookup failed,
//! gives `error` ("could not tell"), never "missing". [`needed_lookups`] lists the
//! questions still unanswered so the probe can ask them and judge again.
//!
//! Which assets are judged: role `mail` gets every check; role `parked` gets the DMARC
//! family, `mx.present` and `parked.lockdown` (a parked domain signs nothing and serves no
//! MTA-STS policy, so DKIM, MTA-STS, TLS-RPT, BIMI and bulk-sender readiness do not apply).

mod dkim;
pub mod dmarc;
mod mx;
mod posture;
pub mod spf;

use crate::Context;
use ward_model::CheckId;
use ward_model::dns::DnsFailure;
use ward_model::observe::AssetObservation;
use ward_model::{Asset, DnsOutcome, DnsSource, Finding, Lookup, Role};

pub use dkim::BUILTIN_SELECTORS;

/// The check ids of this family beyond SPF ([`spf::CHECKS`]), in catalogue order.
pub const CHECKS: &[CheckId] = &[
    CheckId::DmarcPresent,
    CheckId::DmarcSyntax,
    CheckId::DmarcPolicy,
    CheckId::DmarcSubdomains,
    CheckId::DmarcReporting,
    CheckId::DmarcInherited,
    CheckId::DkimPresent,
    CheckId::DkimStrength,
    CheckId::DkimSyntax,
    CheckId::MxPresent,
    CheckId::MtaStsRecord,
    CheckId::MtaStsPolicy,
    CheckId::TlsRptRecord,
    CheckId::BimiRecord,
    CheckId::ParkedLockdown,
    CheckId::MailBulkSender,
];

/// Whether the asset sends or receives mail (role `mail`).
fn is_mail(asset: &Asset) -> bool {
    asset.has(Role::Mail)
}

/// Whether what was seen shows a domain that neither takes nor sends mail, whatever its
/// roles say: a null MX (RFC 7505), or no MX and no address (so nothing can be delivered
/// to it), and an SPF policy that authorises no sender (none, or only `-all`, `~all` or
/// `?all`), and nothing published for handling mail ([`configured_for_mail`]). Such a
/// domain is judged by the parked rules.
pub fn takes_no_mail(obs: &AssetObservation, domain: &str) -> bool {
    if domain_unreachable(obs, domain).is_some() {
        return false;
    }
    let receives_none = match mx::mx_state(obs, domain) {
        mx::MxState::Null => true,
        mx::MxState::None => ["A", "AAAA"].iter().all(|t| {
            matches!(
                obs.resolved(domain, t),
                Some(DnsOutcome::NoData { .. } | DnsOutcome::NxDomain { .. })
            )
        }),
        _ => false,
    };
    if !receives_none || configured_for_mail(obs, domain) {
        return false;
    }
    let records = match Txt::get(obs, domain) {
        Txt::Records(r) => r,
        Txt::Absent => Vec::new(),
        Txt::NotFetched | Txt::Failed(_) => return false,
    };
    // SPF's version is a word of its own (`v=spf1 ...`), not a tag list.
    records
        .iter()
        .map(|r| r.split_whitespace().collect::<Vec<_>>())
        .filter(|terms| {
            terms
                .first()
                .is_some_and(|v| v.eq_ignore_ascii_case("v=spf1"))
        })
        .all(|terms| {
            terms[1..]
                .iter()
                .all(|t| matches!(t.to_ascii_lowercase().as_str(), "-all" | "~all" | "?all"))
        })
}

/// Whether the domain publishes what only a domain that handles mail needs: an MTA-STS
/// or TLS-RPT record, or a DKIM key (an empty, revoked `p=` does not count). Such a
/// domain is misconfigured for mail, not parked, and is judged as a mail domain.
fn configured_for_mail(obs: &AssetObservation, domain: &str) -> bool {
    let has = |name: String, version: &str| !Txt::get(obs, &name).versioned(version).is_empty();
    if has(format!("_mta-sts.{domain}"), "STSv1") || has(format!("_smtp._tls.{domain}"), "TLSRPTv1")
    {
        return true;
    }
    let keys = format!("._domainkey.{domain}");
    obs.dns
        .iter()
        .filter(|l| l.rtype == "TXT" && l.name.ends_with(&keys))
        .flat_map(|l| l.outcome.records_of("TXT"))
        .any(|r| {
            r.data.split(';').any(|tag| {
                tag.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("p") && !v.trim().is_empty()
                })
            })
        })
}

/// Whether the asset is judged by this family at all.
fn in_scope(asset: &Asset) -> bool {
    asset.has(Role::Mail) || asset.has(Role::Parked)
}

/// Whether the domain's own nameservers could not be reached: its SOA lookup failed.
/// Mail questions are not asked then (each would only time out again); the checks say
/// *could not tell*, naming the failure.
fn domain_unreachable<'a>(obs: &'a AssetObservation, domain: &str) -> Option<&'a DnsFailure> {
    obs.resolved(domain, "SOA").and_then(DnsOutcome::failure)
}

/// The DNS questions the mail checks beyond SPF ([`spf::needed_lookups`]) still need for
/// `asset`.
pub fn needed_lookups(asset: &Asset, obs: &AssetObservation) -> Vec<(String, String)> {
    let domain = asset.domain.as_str();
    if !in_scope(asset) || domain_unreachable(obs, domain).is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend(dmarc::needed(obs, domain));
    out.push((domain.to_owned(), "MX".to_owned()));
    if is_mail(asset) {
        out.extend(dkim::needed(asset, obs));
        out.extend(mx::needed(obs, domain));
        out.push((format!("default._bimi.{domain}"), "TXT".to_owned()));
    }
    out
}

/// Judges every mail check beyond SPF ([`spf::judge`]) for one asset.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    if !in_scope(ctx.asset) {
        return Vec::new();
    }
    let mail = is_mail(ctx.asset);
    let dm = dmarc::judge(ctx);
    let dk = if mail { Some(dkim::judge(ctx)) } else { None };
    let mxs = mx::judge_mx(ctx);
    // The checks that build on the others come last in the output but are judged first,
    // so that the others' findings (large evidence) move into the output uncopied.
    let mut rest = Vec::new();
    if mail {
        rest.extend(mx::judge_mta_sts(ctx, &mxs));
        rest.push(mx::judge_tls_rpt(ctx));
        rest.push(posture::bimi(ctx, &dm));
    }
    if ctx.asset.has(Role::Parked) {
        rest.push(posture::parked(ctx, &dm, &mxs));
    }
    if let Some(d) = &dk {
        rest.push(posture::bulk_sender(ctx, &dm, d));
    }
    let mut out = dm.findings;
    if let Some(d) = dk {
        out.extend(d.findings);
    }
    out.push(mxs.finding);
    out.extend(rest);
    out
}

/// A TXT lookup in the three states, with the records' texts.
#[derive(Debug, Clone)]
pub(crate) enum Txt {
    /// Not asked (yet).
    NotFetched,
    /// The lookup failed.
    Failed(DnsFailure),
    /// No such name, or no TXT records.
    Absent,
    /// The TXT records' texts.
    Records(Vec<String>),
}

impl Txt {
    pub(crate) fn get(dns: &dyn DnsSource, name: &str) -> Txt {
        match dns.query(name, "TXT") {
            Lookup::NotFetched => Txt::NotFetched,
            Lookup::Done(DnsOutcome::Failed { failure }) => Txt::Failed(failure),
            Lookup::Done(o @ DnsOutcome::Answer { .. }) => {
                let texts: Vec<String> = o.records_of("TXT").map(|r| r.data.clone()).collect();
                if texts.is_empty() {
                    Txt::Absent
                } else {
                    Txt::Records(texts)
                }
            }
            Lookup::Done(_) => Txt::Absent,
        }
    }

    /// The records whose first term is `v=<version>` (case-insensitive keyword, blanks
    /// around `=` allowed).
    pub(crate) fn versioned(&self, version: &str) -> Vec<&str> {
        match self {
            Txt::Records(r) => r
                .iter()
                .map(String::as_str)
                .filter(|t| starts_with_version(t, version))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The records whose first term is not `v=<version>`: at a name kept for one kind of
    /// record (`_mta-sts`, `_smtp._tls`) each is a record that is not what it claims.
    pub(crate) fn unversioned(&self, version: &str) -> Vec<&str> {
        match self {
            Txt::Records(r) => r
                .iter()
                .map(String::as_str)
                .filter(|t| !starts_with_version(t, version))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// "could not tell" wording, when this lookup gives no answer.
    pub(crate) fn unknown(&self, name: &str) -> Option<String> {
        match self {
            Txt::NotFetched => Some(format!("the TXT records of {name} were not fetched")),
            Txt::Failed(f) => Some(format!("the TXT lookup of {name} failed ({f})")),
            Txt::Absent | Txt::Records(_) => None,
        }
    }

    pub(crate) fn state(&self) -> &'static str {
        match self {
            Txt::NotFetched => "not_fetched",
            Txt::Failed(_) => "failed",
            Txt::Absent => "absent",
            Txt::Records(_) => "present",
        }
    }
}

/// Whether `txt` begins with the term `v=<version>`.
pub(crate) fn starts_with_version(txt: &str, version: &str) -> bool {
    let first = txt.split(';').next().unwrap_or_default();
    match first.split_once('=') {
        Some((k, v)) => {
            k.trim_matches([' ', '\t']).eq_ignore_ascii_case("v")
                && v.trim_matches([' ', '\t']).eq_ignore_ascii_case(version)
        }
        None => false,
    }
}
