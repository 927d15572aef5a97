//! DNS basics: `dns.resolves`, `dns.ns`, `dns.caa`.
//!
//! These come first because every other check rests on them: a domain that does not
//! resolve cannot receive mail or serve a site, and a domain served by one nameserver,
//! or by nameservers that do not answer for it, goes dark when one machine does.

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::dns::Tri;
use ward_model::{DnsFailure, DnsOutcome, Finding, Severity, Status};
use ward_records::caa::{self, Property};

/// The check ids of this family, in catalogue order.
pub const CHECKS: &[CheckId] = &[CheckId::DnsResolves, CheckId::DnsNs, CheckId::DnsCaa];

/// Judges the DNS basics.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    let domain = ctx.asset.domain.as_str();
    let soa = ctx.obs.resolved(domain, "SOA");
    let mut out = vec![resolves(ctx, soa)];
    if let Some(DnsOutcome::NxDomain { .. }) = soa {
        // Nothing more can be said about a domain that does not exist; say so once.
        for id in [CheckId::DnsNs, CheckId::DnsCaa] {
            out.push(finding(
                ctx,
                id,
                Status::Info,
                Stakes::flat(Severity::None),
                crate::not_judged(&ctx.asset.domain),
                json!({ "reason": "nxdomain" }),
            ));
        }
        return out;
    }
    out.push(nameservers(ctx));
    out.push(caa_check(ctx));
    out
}

fn not_asked(ctx: &Context<'_>, id: CheckId, what: &str) -> Finding {
    finding(
        ctx,
        id,
        Status::Error,
        Stakes::flat(Severity::Low),
        format!("could not tell: {what} was not asked"),
        json!({}),
    )
}

fn could_not_tell(ctx: &Context<'_>, id: CheckId, what: &str, failure: &DnsFailure) -> Finding {
    finding(
        ctx,
        id,
        Status::Error,
        Stakes::flat(Severity::Low),
        format!("could not tell: the {what} lookup failed ({failure})"),
        json!({ "lookup": what, "failure": failure }),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Good,
    Bad,
    Unknown,
}

fn resolves(ctx: &Context<'_>, soa: Option<&DnsOutcome>) -> Finding {
    const ID: CheckId = CheckId::DnsResolves;
    let stakes = Stakes::flat(Severity::High);
    match soa {
        None => not_asked(ctx, ID, "SOA"),
        Some(DnsOutcome::Answer { records, .. }) => finding(
            ctx,
            ID,
            Status::Pass,
            stakes,
            "the domain exists and has a zone of its own",
            json!({ "soa": records.iter().find(|r| r.rtype == "SOA").map(|r| &r.data) }),
        ),
        Some(DnsOutcome::NxDomain { .. }) => finding(
            ctx,
            ID,
            Status::Fail,
            stakes,
            crate::does_not_exist(&ctx.asset.domain),
            json!({ "soa": "nxdomain" }),
        ),
        Some(DnsOutcome::NoData { .. }) => finding(
            ctx,
            ID,
            Status::Warn,
            stakes,
            "the name exists but is not a zone of its own (no SOA at this name)",
            json!({ "soa": "nodata" }),
        ),
        Some(DnsOutcome::Failed { failure }) => could_not_tell(ctx, ID, "SOA", failure),
    }
}

fn nameservers(ctx: &Context<'_>) -> Finding {
    const ID: CheckId = CheckId::DnsNs;
    let stakes = Stakes::sized(Severity::Medium, Severity::High);
    let domain = ctx.asset.domain.as_str();
    let ns = match ctx.obs.resolved(domain, "NS") {
        None => return not_asked(ctx, ID, "NS"),
        Some(DnsOutcome::Failed { failure }) => return could_not_tell(ctx, ID, "NS", failure),
        Some(o) => o,
    };
    let names: Vec<String> = ns
        .records_of("NS")
        .map(|r| r.data.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Fail,
            stakes,
            "no nameservers are listed for the domain",
            json!({ "nameservers": [] }),
        );
    }

    // For each nameserver: its addresses and what each address said when asked directly.
    let mut servers = Vec::new();
    let (mut good, mut bad, mut unknown) = (0usize, Vec::new(), 0usize);
    for name in &names {
        let mut addresses = Vec::new();
        let mut address_lookup_failed = None;
        for rtype in ["A", "AAAA"] {
            match ctx.obs.resolved(name, rtype) {
                Some(DnsOutcome::Answer { records, .. }) => addresses.extend(
                    records
                        .iter()
                        .filter(|r| r.rtype == rtype)
                        .map(|r| r.data.clone()),
                ),
                Some(DnsOutcome::Failed { failure }) => {
                    address_lookup_failed = Some(failure.clone())
                }
                _ => {}
            }
        }
        // Each address: good (answers with authority), bad (answers, but not for this
        // domain), or unknown (no answer, or not asked) — a silent server is "could not
        // tell", because the path to it may be what failed.
        let mut answers = Vec::new();
        let (mut any_good, mut any_bad) = (false, false);
        for ip in &addresses {
            let direct = ctx
                .obs
                .direct()
                .find(|l| l.server.as_deref() == Some(ip.as_str()) && l.name == domain);
            let (verdict, class) = match direct.map(|l| &l.outcome) {
                None => ("not asked", Class::Unknown),
                Some(DnsOutcome::Answer {
                    authoritative: true,
                    ..
                }) => ("authoritative", Class::Good),
                Some(o) if o.tri() == Tri::Absent && o.authoritative() => {
                    ("authoritative", Class::Good)
                }
                Some(DnsOutcome::Failed {
                    failure: DnsFailure::Refused,
                }) => ("refused: does not serve the domain (lame)", Class::Bad),
                Some(DnsOutcome::Failed {
                    failure: DnsFailure::Blocked { .. },
                }) => ("not asked: private address", Class::Unknown),
                Some(DnsOutcome::Failed {
                    failure: DnsFailure::Timeout { .. },
                }) => ("no answer (timeout)", Class::Unknown),
                Some(DnsOutcome::Failed { .. }) => ("failed", Class::Unknown),
                Some(_) => ("answered without authority (lame)", Class::Bad),
            };
            any_good |= class == Class::Good;
            any_bad |= class == Class::Bad;
            answers.push(
                json!({ "address": ip, "result": verdict, "outcome": direct.map(|l| &l.outcome) }),
            );
        }
        let state = if any_good {
            good += 1;
            "ok"
        } else if any_bad {
            bad.push(name.clone());
            "does not answer for the domain"
        } else if addresses.is_empty() && address_lookup_failed.is_none() {
            bad.push(name.clone());
            "has no address"
        } else {
            unknown += 1;
            "could not tell"
        };
        servers.push(
            json!({ "name": name, "addresses": addresses, "answers": answers, "state": state }),
        );
    }
    let evidence = Evidence::from(json!({ "nameservers": servers }));
    if !bad.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Fail,
            stakes,
            format!(
                "{} of {} nameservers do not answer for the domain: {}",
                bad.len(),
                names.len(),
                bad.join(", ")
            ),
            evidence,
        );
    }
    if names.len() < 2 {
        return finding(
            ctx,
            ID,
            Status::Fail,
            stakes,
            "only one nameserver: when it fails, the domain's web site and mail stop",
            evidence,
        );
    }
    if unknown > 0 {
        return finding(
            ctx,
            ID,
            Status::Error,
            Stakes::flat(Severity::Low),
            format!(
                "could not tell whether {unknown} of {} nameservers answer for the domain ({good} do)",
                names.len()
            ),
            evidence,
        );
    }
    finding(
        ctx,
        ID,
        Status::Pass,
        stakes,
        format!("{} nameservers, each answering with authority", names.len()),
        evidence,
    )
}

fn caa_check(ctx: &Context<'_>) -> Finding {
    const ID: CheckId = CheckId::DnsCaa;
    let stakes = Stakes::sized(Severity::Low, Severity::Medium);
    let domain = ctx.asset.domain.as_str();
    let records: Vec<&str> = match ctx.obs.resolved(domain, "CAA") {
        None => return not_asked(ctx, ID, "CAA"),
        Some(DnsOutcome::Failed { failure }) => return could_not_tell(ctx, ID, "CAA", failure),
        Some(o) => o.records_of("CAA").map(|r| r.data.as_str()).collect(),
    };
    if records.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Warn,
            stakes,
            "no CAA record: any certificate authority may issue certificates for this domain",
            json!({ "records": [] }),
        );
    }
    let results: Vec<(&str, Result<caa::Caa, caa::CaaError>)> =
        records.iter().map(|raw| (*raw, caa::parse(raw))).collect();
    let mut problems = Vec::new();
    for (raw, result) in &results {
        match result {
            Ok(c) if c.critical && !caa::KNOWN_TAGS.contains(&c.tag.as_str()) => {
                problems.push(format!(
                    "critical tag `{}` that no CA understands: every CA must refuse to issue",
                    c.tag
                ))
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("`{raw}`: {e}")),
        }
    }
    let restricts = results.iter().any(|(_, r)| {
        matches!(r, Ok(c) if matches!(&c.property, Property::Issue { tag, .. } if tag == "issue" || tag == "issuewild"))
    });
    let evidence = Evidence::from(json!({
        "records": results.iter().map(|(raw, r)| match r {
            Ok(c) => json!({ "raw": raw, "parsed": c }),
            Err(e) => json!({ "raw": raw, "error": e, "message": e.to_string() }),
        }).collect::<Vec<_>>(),
        "problems": problems,
    }));
    if !problems.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Fail,
            stakes,
            format!("CAA is malformed: {}", problems.join("; ")),
            evidence,
        );
    }
    if !restricts {
        return finding(
            ctx,
            ID,
            Status::Warn,
            stakes,
            "CAA records exist but none says which CAs may issue (no issue tag)",
            evidence,
        );
    }
    finding(
        ctx,
        ID,
        Status::Pass,
        stakes,
        "CAA names the certificate authorities allowed to issue",
        evidence,
    )
}
