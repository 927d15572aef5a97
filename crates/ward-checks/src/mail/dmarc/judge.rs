//! The `dmarc.*` checks, judged from the RFC 9989 tree walk ([`super::discover::discover`]).
//!
//! | check | pass | warn | fail | error |
//! |---|---|---|---|---|
//! | `dmarc.present` | the domain publishes one record (or has none but inherits a policy: `info`) | | no record and nothing inherited; several records | the walk could not be completed |
//! | `dmarc.syntax` | the record parses | obsolete `pct`/`rf`/`ri` (RFC 9989 receivers ignore them) | the record is refused; a broken optional tag (discarded, the rest kept: RFC 7489 §6.3) | |
//! | `dmarc.policy` | `p=reject` | `p=quarantine` | `p=none` or no `p`; `t=y` counts one step weaker | |
//! | `dmarc.subdomains` | `sp`/`np` no weaker than `p` | weaker, but enforcing | `none` while `p` enforces | |
//! | `dmarc.reporting` | `rua` set, every external destination authorised (a destination in the same organisational domain, by the walk or by the Public Suffix List, needs none) | no `rua` | an external destination has not authorised reports | an authorisation lookup failed |
//! | `dmarc.inherited` | inherited policy `reject` | `quarantine` | `none` (monitoring only); nothing found is `info` (dmarc.present fails instead) | the walk could not be completed |
//!
//! An inherited policy is read both ways: by RFC 9989's tree walk (the nearest record
//! above) and by RFC 7489 §6.6.3 (the record at the organisational domain from the Public
//! Suffix List, its `sp`, else `p`). The summary says when they agree and shows both when
//! they differ; the weaker is graded, since receivers of either reading exist.
//!
//! When the domain has its own record, `dmarc.inherited` is `info` (not applicable); when
//! it has none, `dmarc.syntax`, `dmarc.policy`, `dmarc.subdomains` and `dmarc.reporting`
//! are `info` and the inherited policy is judged by `dmarc.inherited`.

use super::discover::{Discovery, Found, OrgDomain, PolicySource, WalkEnd, classify, discover};
use crate::mail::{Txt, domain_unreachable};
use crate::{Context, Stakes, finding, registrable};
use serde_json::{Value, json};
use ward_model::Evidence;
use ward_model::observe::AssetObservation;
use ward_model::{CheckId, Family};
use ward_model::{DnsOutcome, Finding, Severity, Status};
use ward_records::dmarc::{Dmarc, DmarcWarning, Policy};

const PRESENT: Stakes = Stakes::flat(Severity::High);
const SYNTAX: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const POLICY: Stakes = Stakes::sized(Severity::High, Severity::Critical);
const SUBDOMAINS: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const REPORTING: Stakes = Stakes::sized(Severity::Low, Severity::Medium);
const INHERITED: Stakes = Stakes::sized(Severity::High, Severity::Critical);

/// What the other mail checks need from DMARC.
#[derive(Debug, Clone)]
pub(crate) struct DmarcOutcome {
    /// The findings.
    pub findings: Vec<Finding>,
    /// The disposition receivers apply to mail from the domain (after `t=y`), if known.
    pub applied: Option<Policy>,
    /// Whether the walk finished (or found the domain's own record) so `applied` is final.
    pub known: bool,
    /// Whether some DMARC record (own or a parent's) applies to the domain.
    pub has_record: bool,
}

/// The TXT questions DMARC still needs: the next walk step, then report authorisations.
pub(crate) fn needed(obs: &AssetObservation, domain: &str) -> Vec<(String, String)> {
    let d = discover(obs, domain);
    let mut out = Vec::new();
    if let WalkEnd::Needed { name, rtype } = &d.end {
        out.push((name.clone(), (*rtype).to_owned()));
    }
    if let Some(own) = own_record(&d) {
        for (name, _) in authorisations(&d, own) {
            out.push((name, "TXT".to_owned()));
        }
    } else if let Some(org) = registrable(domain).filter(|org| *org != d.author_domain) {
        // RFC 7489's reading asks the organisational domain straight away; the walk has
        // usually asked it already.
        out.push((format!("_dmarc.{org}"), "TXT".to_owned()));
    }
    out
}

/// RFC 7489 §6.6.3's reading for a domain with no record of its own: the record at its
/// organisational domain (by the Public Suffix List), whose `sp` (else `p`) applies.
enum Rfc7489 {
    /// The domain is its own organisational domain (or a public suffix): nothing above.
    NotApplicable,
    /// The organisational domain's answer, and the policy it gives (`None`: no record).
    Known { org: String, policy: Option<Policy> },
    /// The organisational domain's record could not be had.
    Unknown,
}

fn rfc7489_reading(obs: &AssetObservation, d: &Discovery) -> Rfc7489 {
    let Some(org) = registrable(&d.author_domain).filter(|org| *org != d.author_domain) else {
        return Rfc7489::NotApplicable;
    };
    let found = d
        .steps
        .iter()
        .find(|s| s.domain == org)
        .map(|s| s.found.clone())
        .or_else(|| match obs.resolved(&format!("_dmarc.{org}"), "TXT") {
            Some(
                o @ (DnsOutcome::Answer { .. }
                | DnsOutcome::NoData { .. }
                | DnsOutcome::NxDomain { .. }),
            ) => Some(classify(o)),
            _ => None,
        });
    match found {
        None => Rfc7489::Unknown,
        Some(Found::Record(rec)) => Rfc7489::Known {
            org: org.to_owned(),
            policy: Some(rec.effective_sp()),
        },
        Some(_) => Rfc7489::Known {
            org: org.to_owned(),
            policy: None,
        },
    }
}

fn own_record(d: &Discovery) -> Option<&Dmarc> {
    d.steps.first().and_then(|s| match &s.found {
        Found::Record(r) if s.domain == d.author_domain => Some(&**r),
        _ => None,
    })
}

/// The organisational domain the walk found, else the author domain.
fn org_of(d: &Discovery) -> &str {
    match &d.org_domain {
        OrgDomain::MarkedPsdN { domain }
        | OrgDomain::BelowPsd { domain, .. }
        | OrgDomain::Shortest { domain } => domain,
        OrgDomain::NoRecord | OrgDomain::Unknown => &d.author_domain,
    }
}

fn within(host: &str, org: &str) -> bool {
    host == org
        || host
            .strip_suffix(org)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Whether two names have the same RFC 7489 organisational domain. A report address at
/// another host of the same organisation needs no authorisation record (RFC 7489 §7.1,
/// RFC 9990 §3), even where RFC 9989's walk stopped at a subdomain's own record.
fn same_registrable(a: &str, b: &str) -> bool {
    match (registrable(a), registrable(b)) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

/// For each `rua` mailto destination outside the organisational domain, the name that must
/// hold its authorisation (RFC 7489 §7.1, RFC 9989 §3.3): `<domain>._report._dmarc.<dest>`.
fn authorisations(d: &Discovery, rec: &Dmarc) -> Vec<(String, String)> {
    let org = org_of(d);
    let mut out: Vec<(String, String)> = Vec::new();
    for uri in &rec.rua {
        let Some(addr) = &uri.address else { continue };
        let Some((_, host)) = addr.rsplit_once('@') else {
            continue;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || within(&host, org) || same_registrable(&host, &d.author_domain) {
            continue;
        }
        let name = format!("{}._report._dmarc.{host}", d.author_domain);
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, host));
        }
    }
    out
}

fn word_of(p: Policy) -> &'static str {
    rank(p).1
}

fn rank(p: Policy) -> (Status, &'static str) {
    match p {
        Policy::Reject => (Status::Pass, "reject"),
        Policy::Quarantine => (Status::Warn, "quarantine"),
        Policy::None => (Status::Fail, "none"),
    }
}

/// Judges the DMARC family.
pub(crate) fn judge(ctx: &Context<'_>) -> DmarcOutcome {
    let domain = ctx.asset.domain.as_str();
    let d = discover(ctx.obs, domain);
    let walk = serde_json::to_value(&d).unwrap_or(Value::Null);
    let f = |check: CheckId, status, stakes, summary: String, evidence: Value| {
        finding(ctx, check, status, stakes, summary, evidence)
    };
    let all_error = |why: String| -> DmarcOutcome {
        let findings = CheckId::of_family(Family::Dmarc)
            .map(|c| {
                f(
                    c,
                    Status::Error,
                    PRESENT,
                    format!("could not tell: {why}"),
                    json!({ "walk": walk }),
                )
            })
            .collect();
        DmarcOutcome {
            findings,
            applied: None,
            known: false,
            has_record: false,
        }
    };
    if let Some(failure) = domain_unreachable(ctx.obs, domain) {
        return all_error(format!(
            "{domain}'s nameservers did not answer ({failure}), so DMARC was not looked up"
        ));
    }
    let first = d.steps.first().filter(|s| s.domain == d.author_domain);
    let Some(first) = first else {
        let why = match &d.end {
            WalkEnd::Needed { name, .. } => format!("the TXT records of {name} were not fetched"),
            WalkEnd::CouldNotTell { name, failure } => {
                format!("the TXT lookup of {name} failed ({failure})")
            }
            WalkEnd::Top | WalkEnd::Psd { .. } => "the DMARC walk did not start".into(),
        };
        return all_error(why);
    };
    match &first.found {
        Found::Record(rec) => own(ctx, &d, rec, walk),
        Found::Nothing | Found::Multiple { .. } | Found::Invalid { .. } => {
            inherited(ctx, &d, &first.found, walk)
        }
    }
}

fn own(ctx: &Context<'_>, d: &Discovery, rec: &Dmarc, walk: Value) -> DmarcOutcome {
    let domain = d.author_domain.as_str();
    let record = json!({ "record": rec.raw, "parsed": rec, "org_domain": d.org_domain });
    let mut out = vec![finding(
        ctx,
        CheckId::DmarcPresent,
        Status::Pass,
        PRESENT,
        format!("{domain} publishes one DMARC record"),
        json!({ "record": rec.raw, "walk": walk }),
    )];
    // Syntax: refusals never reach here (they are `Found::Invalid`); obsolete tags warn.
    let obsolete: Vec<&str> = rec.obsolete.iter().map(|t| t.name.as_str()).collect();
    let unknown: Vec<&str> = rec.unknown.iter().map(|t| t.name.as_str()).collect();
    let syntax_ev = json!({ "record": rec.raw, "warnings": rec.warnings, "obsolete": obsolete, "unknown": unknown });
    let broken: Vec<String> = rec
        .warnings
        .iter()
        .filter_map(|w| match w {
            DmarcWarning::BrokenTag { problem, .. } => Some(problem.clone()),
            _ => None,
        })
        .collect();
    out.push(if !broken.is_empty() {
        // Receivers discard a broken tag and keep the rest (RFC 7489 §6.3): the policy
        // stands, but what the tag was for (reports, alignment, subdomains) is lost.
        finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Fail,
            SYNTAX,
            format!(
                "the DMARC record of {domain} has {} that receivers discard, keeping the rest of the record: {}",
                if broken.len() == 1 { "a broken tag" } else { "broken tags" },
                broken.join("; ")
            ),
            syntax_ev,
        )
    } else if obsolete.is_empty() {
        let note = if unknown.is_empty() {
            String::new()
        } else {
            format!(" (unknown tags ignored by receivers: {})", unknown.join(", "))
        };
        finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Pass,
            SYNTAX,
            format!("the DMARC record of {domain} is valid{note}"),
            syntax_ev,
        )
    } else {
        finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Warn,
            SYNTAX,
            format!(
                "the DMARC record of {domain} uses obsolete tags ({}): RFC 9989 removed them and receivers ignore them",
                obsolete.join(", ")
            ),
            syntax_ev,
        )
    });
    // Policy, after t=y.
    let applied = rec.applied_policy(false);
    let (status, word) = rank(applied);
    let missing_p = rec
        .warnings
        .iter()
        .any(|w| matches!(w, DmarcWarning::MissingPolicy { .. }));
    let how = if missing_p {
        "has no p= tag, which receivers treat as p=none".to_owned()
    } else if rec.effective_p() == Policy::None {
        "is p=none: receivers are asked only to report, not to act".to_owned()
    } else {
        format!("asks receivers to {}", rec.effective_p().as_str())
    };
    let testing = if rec.is_testing() {
        format!(" but is in testing mode (t=y), so receivers apply {word}")
    } else {
        String::new()
    };
    let advice = match status {
        Status::Pass => "",
        _ if rec.is_testing() && rec.effective_p() > Policy::None => {
            ": remove t=y once legitimate mail passes"
        }
        Status::Warn => ": move to p=reject once legitimate mail passes",
        _ => ", so anyone can still send mail as this domain; move to quarantine, then reject",
    };
    out.push(finding(
        ctx,
        CheckId::DmarcPolicy,
        status,
        POLICY,
        format!("the DMARC policy of {domain} {how}{testing}{advice}"),
        json!({ "record": rec.raw, "p": rec.p, "t": rec.testing, "applied": applied }),
    ));
    // Subdomains: sp and np against p.
    let p = rec.effective_p();
    let (sp, np) = (rec.effective_sp(), rec.effective_np());
    let weakest = sp.min(np);
    let which = if sp <= np { "sp" } else { "np" };
    let sub_ev = json!({ "record": rec.raw, "p": p, "sp": sp, "np": np });
    out.push(if weakest >= p {
        finding(
            ctx,
            CheckId::DmarcSubdomains,
            Status::Pass,
            SUBDOMAINS,
            format!(
                "subdomains of {domain} get a policy as strict as p={} (sp={}, np={})",
                p.as_str(),
                sp.as_str(),
                np.as_str()
            ),
            sub_ev,
        )
    } else {
        let status = if weakest == Policy::None {
            Status::Fail
        } else {
            Status::Warn
        };
        finding(
            ctx,
            CheckId::DmarcSubdomains,
            status,
            SUBDOMAINS,
            format!(
                "{which}={} is weaker than p={}: spoofed mail from made-up subdomains of {domain} gets through more easily",
                weakest.as_str(),
                p.as_str()
            ),
            sub_ev,
        )
    });
    out.push(reporting(ctx, d, rec));
    out.push(finding(
        ctx,
        CheckId::DmarcInherited,
        Status::Info,
        INHERITED,
        format!("{domain} has its own DMARC record, so no inherited policy applies"),
        record,
    ));
    DmarcOutcome {
        findings: out,
        applied: Some(applied),
        known: true,
        has_record: true,
    }
}

fn reporting(ctx: &Context<'_>, d: &Discovery, rec: &Dmarc) -> Finding {
    let domain = d.author_domain.as_str();
    let rua: Vec<&str> = rec.rua.iter().map(|u| u.uri.as_str()).collect();
    if rec.rua.is_empty() {
        return finding(
            ctx,
            CheckId::DmarcReporting,
            Status::Warn,
            REPORTING,
            format!(
                "the DMARC record of {domain} asks for no aggregate reports (no rua=): you cannot see who sends mail as you"
            ),
            json!({ "record": rec.raw, "rua": rua }),
        );
    }
    let mut checked = Vec::new();
    let (mut refused, mut unknown) = (Vec::new(), Vec::new());
    for (name, host) in authorisations(d, rec) {
        let txt = Txt::get(ctx.obs, &name);
        let state = match &txt {
            Txt::NotFetched | Txt::Failed(_) => {
                unknown.push(txt.unknown(&name).unwrap_or_default());
                "could_not_tell"
            }
            _ if !txt.versioned("DMARC1").is_empty() => "authorised",
            _ => {
                refused.push(host.clone());
                "not_authorised"
            }
        };
        checked.push(json!({ "destination": host, "name": name, "state": state }));
    }
    let ev = Evidence::from(
        json!({ "record": rec.raw, "rua": rua, "org_domain": org_of(d), "external": checked }),
    );
    if !refused.is_empty() {
        finding(
            ctx,
            CheckId::DmarcReporting,
            Status::Fail,
            REPORTING,
            format!(
                "reports for {domain} go to {} which has not authorised them ({}._report._dmarc.<destination> has no v=DMARC1 record): receivers will not send them",
                refused.join(", "),
                domain
            ),
            ev,
        )
    } else if let Some(first) = unknown.first() {
        finding(
            ctx,
            CheckId::DmarcReporting,
            Status::Error,
            REPORTING,
            format!("could not tell whether every report destination accepts reports: {first}"),
            ev,
        )
    } else {
        finding(
            ctx,
            CheckId::DmarcReporting,
            Status::Pass,
            REPORTING,
            format!(
                "aggregate reports for {domain} go to {}{}",
                rua.join(", "),
                if checked.is_empty() {
                    String::new()
                } else {
                    " (external destinations authorised)".into()
                }
            ),
            ev,
        )
    }
}

fn inherited(ctx: &Context<'_>, d: &Discovery, own: &Found, walk: Value) -> DmarcOutcome {
    let domain = d.author_domain.as_str();
    let mut out = Vec::new();
    // Problems with the domain's own record(s) come first.
    let (own_status, own_summary) = match own {
        Found::Multiple { count } => (
            Status::Fail,
            format!(
                "{domain} publishes {count} DMARC records; receivers discard them all (RFC 9989 §4.10)"
            ),
        ),
        Found::Invalid { error, .. } => (
            Status::Fail,
            format!("{domain} publishes a DMARC record, but receivers refuse it ({error})"),
        ),
        _ => (Status::Fail, String::new()),
    };
    let syntax = match own {
        Found::Invalid { raw, error } => finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Fail,
            SYNTAX,
            format!("the DMARC record of {domain} is refused by receivers: {error}"),
            json!({ "record": raw, "error": error, "message": error.to_string() }),
        ),
        Found::Multiple { count } => finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Info,
            SYNTAX,
            format!(
                "{domain} publishes {count} DMARC records, so none is used (see dmarc.present)"
            ),
            json!({ "walk": walk }),
        ),
        _ => finding(
            ctx,
            CheckId::DmarcSyntax,
            Status::Info,
            SYNTAX,
            format!("{domain} has no DMARC record of its own to check"),
            json!({ "walk": walk }),
        ),
    };
    // The inherited policy: the nearest parent record's sp (np for a name that does not exist).
    let nonexistent = matches!(
        ctx.obs.resolved(domain, "SOA"),
        Some(DnsOutcome::NxDomain { .. })
    );
    let parent = match &d.policy {
        PolicySource::Parent { domain } => d.policy_record().map(|r| (domain.clone(), r)),
        _ => None,
    };
    let old_reading = rfc7489_reading(ctx.obs, d);
    let old_reading_json = match &old_reading {
        Rfc7489::NotApplicable => json!(null),
        Rfc7489::Known { org, policy } => json!({ "org_domain": org, "policy": policy }),
        Rfc7489::Unknown => json!("could not tell"),
    };
    let unfinished = match &d.end {
        WalkEnd::Needed { name, .. } => Some(format!("the TXT records of {name} were not fetched")),
        WalkEnd::CouldNotTell { name, failure } => {
            Some(format!("the TXT lookup of {name} failed ({failure})"))
        }
        WalkEnd::Top | WalkEnd::Psd { .. } => None,
    };
    let (inh, applied, known) = match (&parent, &unfinished) {
        (Some((pd, rec)), _) => {
            let base = if nonexistent {
                rec.effective_np()
            } else {
                rec.effective_sp()
            };
            let applied = if rec.is_testing() {
                match base {
                    Policy::Reject => Policy::Quarantine,
                    Policy::Quarantine | Policy::None => Policy::None,
                }
            } else {
                base
            };
            let tag = match (nonexistent, rec.np.is_some(), rec.sp.is_some()) {
                (true, true, _) => "np",
                (_, _, true) => "sp",
                _ => "p, as it has no sp",
            };
            let by_9989 = format!("`{}` from {pd} ({tag})", word_of(applied));
            // Receivers of either reading exist, so the weaker of the two is what the
            // domain can count on.
            let (applied, reading) = match &old_reading {
                Rfc7489::Known {
                    org,
                    policy: Some(p),
                } if *p != applied => (
                    applied.min(*p),
                    format!(
                        "the two readings differ: RFC 9989's tree walk gives {by_9989}, RFC 7489 gives `{}` from its organisational domain {org}; receivers follow either, so the weaker counts",
                        word_of(*p)
                    ),
                ),
                Rfc7489::Known { org, policy: None } => (
                    Policy::None,
                    format!(
                        "the two readings differ: RFC 9989's tree walk gives {by_9989}, RFC 7489 finds no record at its organisational domain {org}, so receivers of that reading apply no policy"
                    ),
                ),
                Rfc7489::Known { .. } => (
                    applied,
                    format!("it inherits {by_9989}; RFC 7489 and RFC 9989 agree"),
                ),
                Rfc7489::NotApplicable | Rfc7489::Unknown => (
                    applied,
                    format!("it inherits {by_9989}, by the RFC 9989 tree walk"),
                ),
            };
            let (status, word) = rank(applied);
            let meaning = match applied {
                Policy::None => " (monitoring only: spoofed mail is still delivered)",
                _ => "",
            };
            (
                finding(
                    ctx,
                    CheckId::DmarcInherited,
                    status,
                    INHERITED,
                    format!(
                        "{domain} has no DMARC record of its own: {reading}; the policy applied is `{word}`{meaning}"
                    ),
                    json!({ "from": pd, "record": rec.raw, "applied": applied, "walk": walk, "rfc7489": old_reading_json }),
                ),
                Some(applied),
                true,
            )
        }
        (None, Some(why)) => (
            finding(
                ctx,
                CheckId::DmarcInherited,
                Status::Error,
                INHERITED,
                format!("could not tell which DMARC policy {domain} inherits: {why}"),
                json!({ "walk": walk }),
            ),
            None,
            false,
        ),
        (None, None) => (
            finding(
                ctx,
                CheckId::DmarcInherited,
                Status::Info,
                INHERITED,
                format!(
                    "{domain} inherits no DMARC policy: no parent publishes one (see dmarc.present)"
                ),
                json!({ "walk": walk }),
            ),
            Some(Policy::None),
            true,
        ),
    };
    let protected = applied.is_some_and(|p| p >= Policy::Quarantine);
    let present = match own {
        Found::Multiple { .. } | Found::Invalid { .. } => finding(
            ctx,
            CheckId::DmarcPresent,
            own_status,
            PRESENT,
            own_summary,
            json!({ "walk": walk }),
        ),
        _ if protected => finding(
            ctx,
            CheckId::DmarcPresent,
            Status::Info,
            PRESENT,
            format!(
                "{domain} has no DMARC record of its own; it is covered by an inherited policy (see dmarc.inherited)"
            ),
            json!({ "walk": walk }),
        ),
        // An inherited `none` is a weak policy, judged by dmarc.inherited: not a missing one.
        _ if parent.is_some() => finding(
            ctx,
            CheckId::DmarcPresent,
            Status::Info,
            PRESENT,
            format!(
                "{domain} has no DMARC record of its own; it inherits a policy that only monitors (see dmarc.inherited)"
            ),
            json!({ "walk": walk }),
        ),
        _ if !known => finding(
            ctx,
            CheckId::DmarcPresent,
            Status::Error,
            PRESENT,
            format!(
                "{domain} has no DMARC record of its own, and could not tell whether a parent's covers it: {}",
                unfinished.clone().unwrap_or_default()
            ),
            json!({ "walk": walk }),
        ),
        _ => finding(
            ctx,
            CheckId::DmarcPresent,
            Status::Fail,
            PRESENT,
            format!(
                "{domain} publishes no DMARC record (_dmarc.{domain} TXT v=DMARC1): receivers cannot tell spoofed mail from real"
            ),
            json!({ "walk": walk }),
        ),
    };
    out.push(present);
    out.push(syntax);
    for (check, stakes) in [
        (CheckId::DmarcPolicy, POLICY),
        (CheckId::DmarcSubdomains, SUBDOMAINS),
        (CheckId::DmarcReporting, REPORTING),
    ] {
        out.push(finding(
            ctx,
            check,
            Status::Info,
            stakes,
            format!("{domain} has no usable DMARC record of its own; see dmarc.inherited"),
            json!({ "walk": walk }),
        ));
    }
    out.push(inh);
    DmarcOutcome {
        findings: out,
        applied,
        known,
        has_record: parent.is_some(),
    }
}
