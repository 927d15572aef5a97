//! DNSSEC and DANE: `dnssec.signed`, `dnssec.valid`, `dnssec.algorithms`, `mx.dane`.
//!
//! The probe walked the chain of trust from the configured anchor to the domain's SOA and
//! to each MX host's `_25._tcp` TLSA records ([`ward_model::dnssec`]); these checks judge
//! what it saw.
//!
//! | check | pass | warn | fail | error |
//! |---|---|---|---|---|
//! | `dnssec.signed` | DS at the parent and DNSKEY at the apex | not signed; signed but no DS at the parent | DS at the parent but no DNSKEY | walk failed, or broke above the zone |
//! | `dnssec.valid` | chain validates from the anchor | chain uses only algorithms ward cannot check | bogus: the evidence names the broken link | walk failed, or hit a work limit |
//! | `dnssec.algorithms` | 8, 13, 14, 15, 16 and SHA-256/384 DS | 5, 7, 10 (not for signing, RFC 8624/9905); SHA-1 DS; unknown numbers | 1, 3, 6, 12 (MUST NOT); GOST DS | walk failed before reaching the zone |
//! | `mx.dane` | a usable TLSA record matches the certificate the MX presented | TLSA in an unsigned zone (not usable); only usages 0/1 | no usable TLSA matches; TLSA not validatable (bogus) | TLSA lookup failed; no certificate seen |
//!
//! `dnssec.valid` and `dnssec.algorithms` are `info` for an unsigned zone; `mx.dane` is
//! `info` when no MX host has TLSA records.

use crate::{Context, Stakes, finding};
use serde_json::{Value, json};
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::dnssec::{BrokenLink, ChainOutcome, DnssecChain, ZoneSeen};
use ward_model::tls::{CertSeen, TlsScan};
use ward_model::{DnsOutcome, Finding, Role, Severity, Status};

/// The check ids of this family, in catalogue order.
pub const CHECKS: &[CheckId] = &[
    CheckId::DnssecSigned,
    CheckId::DnssecValid,
    CheckId::DnssecAlgorithms,
    CheckId::MxDane,
];

const SIGNED: Stakes = Stakes::sized(Severity::Low, Severity::Medium);
/// A bogus zone is an outage for every validating resolver's users.
const VALID: Stakes = Stakes::flat(Severity::High);
const ALGORITHMS: Stakes = Stakes::flat(Severity::Medium);
/// TLSA that matches nothing makes DANE senders defer the organisation's mail.
const DANE: Stakes = Stakes::sized(Severity::Medium, Severity::High);

/// Judges the family.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    let domain = ctx.asset.domain.as_str();
    let chain = ctx.obs.chain(domain, "SOA");
    // The three findings about the domain's own chain show the same walk.
    let ev = chain.map(evidence).unwrap_or_default();
    let mut out = vec![
        signed(ctx, chain, ev.clone()),
        valid(ctx, chain, ev.clone()),
        algorithms(ctx, chain, ev),
    ];
    if ctx.asset.has(Role::Mail) {
        out.push(dane(ctx));
    }
    out
}

fn not_asked(ctx: &Context<'_>, id: CheckId) -> Finding {
    finding(
        ctx,
        id,
        Status::Error,
        Stakes::flat(Severity::Low),
        "could not tell: the DNSSEC chain was not walked",
        json!({}),
    )
}

/// The zone that holds the domain, if the walk reached it: the last zone walked, when it
/// is the domain or one of its ancestors below the anchor.
fn own_zone<'a>(chain: &'a DnssecChain, domain: &str) -> Option<&'a ZoneSeen> {
    let z = chain.last_zone()?;
    let reached = match &chain.outcome {
        ChainOutcome::Bogus { zone, .. } | ChainOutcome::Insecure { zone, .. } => *zone == z.zone,
        ChainOutcome::Secure { .. } | ChainOutcome::Absent { .. } => true,
        ChainOutcome::Failed { .. } | ChainOutcome::NoAnchor { .. } => false,
    };
    let covers = z.zone == "." || domain == z.zone || domain.ends_with(&format!(".{}", z.zone));
    (reached && covers).then_some(z)
}

fn evidence(chain: &DnssecChain) -> Evidence {
    Evidence::from(json!({ "chain": chain }))
}

fn tags(z: &ZoneSeen) -> String {
    let t: Vec<String> = z.dnskeys.iter().map(|k| k.key_tag.to_string()).collect();
    t.join(", ")
}

fn failed_text(chain: &DnssecChain) -> Option<String> {
    match &chain.outcome {
        ChainOutcome::Failed {
            name,
            rtype,
            failure,
        } => Some(format!(
            "could not tell: the {rtype} lookup of {name} failed ({failure})"
        )),
        ChainOutcome::Bogus {
            link: BrokenLink::TooMuchWork,
            detail,
            zone,
        } => Some(format!(
            "could not tell: the DNSSEC answers for {zone} needed more work than ward allows ({detail})"
        )),
        ChainOutcome::NoAnchor { zone } => Some(format!(
            "could not tell: the resolver gives no DNSKEY records for the trust anchor's zone ({zone}), so it does not pass DNSSEC data on or the anchor belongs to another namespace (in lab mode, pass --trust-anchor)"
        )),
        _ => None,
    }
}

fn signed(ctx: &Context<'_>, chain: Option<&DnssecChain>, ev: Evidence) -> Finding {
    const ID: CheckId = CheckId::DnssecSigned;
    let Some(chain) = chain else {
        return not_asked(ctx, ID);
    };
    let domain = ctx.asset.domain.as_str();
    if let Some(why) = failed_text(chain) {
        return finding(ctx, ID, Status::Error, SIGNED, why, ev);
    }
    if let ChainOutcome::Insecure { zone, detail, .. } = &chain.outcome
        && chain.zones.is_empty()
    {
        return finding(
            ctx,
            ID,
            Status::Info,
            SIGNED,
            format!("not judged: {zone} is not under the trust anchor ({detail})"),
            ev,
        );
    }
    let Some(z) = own_zone(chain, domain) else {
        let why = match &chain.outcome {
            ChainOutcome::Bogus { zone, link, .. } => format!(
                "could not tell: the chain of trust breaks above {domain}, at {zone} ({})",
                link.describe()
            ),
            _ => format!("could not tell whether the zone of {domain} is signed"),
        };
        return finding(ctx, ID, Status::Error, SIGNED, why, ev);
    };
    let zone = &z.zone;
    let (status, summary) = match (z.ds.is_empty(), z.dnskeys.is_empty()) {
        (false, false) => (
            Status::Pass,
            format!(
                "{zone} is signed: DS at its parent, DNSKEY {} at the apex",
                tags(z)
            ),
        ),
        (false, true) => (
            Status::Fail,
            format!(
                "the parent of {zone} publishes a DS record, but {zone} serves no DNSKEY: validating resolvers cannot reach it"
            ),
        ),
        (true, false) => (
            Status::Warn,
            format!(
                "{zone} has DNSKEY {} but no DS record at its parent: the signatures protect nobody until the DS is published at the registrar",
                tags(z)
            ),
        ),
        (true, true) => (
            Status::Warn,
            format!("{zone} is not signed with DNSSEC: forged answers for it cannot be detected"),
        ),
    };
    finding(ctx, ID, status, SIGNED, summary, ev)
}

fn valid(ctx: &Context<'_>, chain: Option<&DnssecChain>, ev: Evidence) -> Finding {
    const ID: CheckId = CheckId::DnssecValid;
    let Some(chain) = chain else {
        return not_asked(ctx, ID);
    };
    let domain = ctx.asset.domain.as_str();
    if let Some(why) = failed_text(chain) {
        return finding(ctx, ID, Status::Error, VALID, why, ev);
    }
    let (status, summary) = match &chain.outcome {
        ChainOutcome::Secure { signature, .. } => (
            Status::Pass,
            format!(
                "the chain of trust validates from {} to {domain} (SOA signed by key {}, valid until {})",
                chain.anchor,
                signature.key_tag,
                stamp(signature.expiration)
            ),
        ),
        ChainOutcome::Absent { nxdomain: true, .. } => {
            (Status::Info, format!("not judged: {domain} does not exist"))
        }
        ChainOutcome::Absent { .. } => (
            Status::Pass,
            format!(
                "the chain of trust validates from {} to the zone holding {domain}",
                chain.anchor
            ),
        ),
        ChainOutcome::Bogus { zone, link, detail } => (
            Status::Fail,
            format!(
                "DNSSEC validation fails at {zone}: {} ({detail}); validating resolvers answer SERVFAIL for {domain}",
                link.describe()
            ),
        ),
        ChainOutcome::Insecure { zone, detail, .. } => {
            if chain.last_zone().is_some_and(|z| !z.ds.is_empty()) {
                (
                    Status::Warn,
                    format!("{zone} cannot be validated: {detail}"),
                )
            } else {
                (
                    Status::Info,
                    format!(
                        "not applicable: {zone} is not signed, so there is no chain to validate ({detail})"
                    ),
                )
            }
        }
        ChainOutcome::Failed { .. } | ChainOutcome::NoAnchor { .. } => (
            Status::Error,
            "could not tell: a DNSSEC lookup failed".to_owned(),
        ),
    };
    finding(ctx, ID, status, VALID, summary, ev)
}

/// RFC 8624 §3.1 (levels now in the IANA registry, RFC 9904) and RFC 9905.
fn algorithm_verdict(alg: u8) -> (Status, &'static str) {
    match alg {
        8 | 13 | 14 | 15 | 16 => (Status::Pass, "current"),
        5 | 7 => (Status::Warn, "RSA/SHA-1, deprecated for signing (RFC 9905)"),
        10 => (
            Status::Warn,
            "RSA/SHA-512, NOT RECOMMENDED for signing (RFC 8624)",
        ),
        1 => (Status::Fail, "RSA/MD5, MUST NOT be used (RFC 8624)"),
        3 => (Status::Fail, "DSA/SHA-1, MUST NOT be used (RFC 8624)"),
        6 => (Status::Fail, "DSA-NSEC3-SHA1, MUST NOT be used (RFC 8624)"),
        12 => (
            Status::Fail,
            "ECC-GOST, MUST NOT be used for signing (RFC 8624)",
        ),
        _ => (Status::Warn, "not a standard signing algorithm"),
    }
}

fn digest_verdict(digest: u8) -> (Status, &'static str) {
    match digest {
        2 | 4 => (Status::Pass, "current"),
        1 => (
            Status::Warn,
            "SHA-1, which RFC 8624 says MUST NOT be used to create DS records",
        ),
        3 => (Status::Fail, "GOST R 34.11-94, MUST NOT be used (RFC 8624)"),
        _ => (Status::Warn, "not a standard DS digest type"),
    }
}

fn worst(a: Status, b: Status) -> Status {
    let rank = |s| match s {
        Status::Fail => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn algorithms(ctx: &Context<'_>, chain: Option<&DnssecChain>, ev: Evidence) -> Finding {
    const ID: CheckId = CheckId::DnssecAlgorithms;
    let Some(chain) = chain else {
        return not_asked(ctx, ID);
    };
    let domain = ctx.asset.domain.as_str();
    let Some(z) = own_zone(chain, domain) else {
        let why = failed_text(chain).unwrap_or_else(|| {
            format!("could not tell: the DNSSEC walk did not reach the zone of {domain}")
        });
        let status =
            if chain.zones.is_empty() && matches!(chain.outcome, ChainOutcome::Insecure { .. }) {
                Status::Info
            } else {
                Status::Error
            };
        return finding(ctx, ID, status, ALGORITHMS, why, ev);
    };
    if z.dnskeys.is_empty() && z.ds.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Info,
            ALGORITHMS,
            format!("not applicable: {} is not signed", z.zone),
            ev,
        );
    }
    let mut status = Status::Pass;
    let mut notes = Vec::new();
    let mut seen_algs: Vec<u8> = z
        .dnskeys
        .iter()
        .map(|k| k.algorithm)
        .chain(z.ds.iter().map(|d| d.algorithm))
        .chain(z.signatures.iter().map(|s| s.algorithm))
        .collect();
    seen_algs.sort_unstable();
    seen_algs.dedup();
    for alg in &seen_algs {
        let (s, why) = algorithm_verdict(*alg);
        status = worst(status, s);
        if s != Status::Pass {
            notes.push(format!("algorithm {alg}: {why}"));
        }
    }
    let mut digests: Vec<u8> = z.ds.iter().map(|d| d.digest_type).collect();
    digests.sort_unstable();
    digests.dedup();
    for d in &digests {
        let (s, why) = digest_verdict(*d);
        status = worst(status, s);
        if s != Status::Pass {
            notes.push(format!("DS digest type {d}: {why}"));
        }
    }
    let list = |v: &[u8]| v.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
    let summary = if notes.is_empty() {
        format!(
            "{} uses algorithm {} with DS digest type {}",
            z.zone,
            list(&seen_algs),
            list(&digests)
        )
    } else {
        format!("{}: {}", z.zone, notes.join("; "))
    };
    let ev = Evidence::from(json!({
        "zone": z.zone,
        "algorithms": seen_algs,
        "ds_digest_types": digests,
        "dnskeys": z.dnskeys,
        "ds": z.ds,
    }));
    finding(ctx, ID, status, ALGORITHMS, summary, ev)
}

/// One TLSA record (RFC 6698 §2.1), from its presentation form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tlsa {
    usage: u8,
    selector: u8,
    matching: u8,
    data: String,
}

impl Tlsa {
    fn parse(text: &str) -> Option<Tlsa> {
        let mut w = text.split_whitespace();
        let usage = w.next()?.parse().ok()?;
        let selector = w.next()?.parse().ok()?;
        let matching = w.next()?.parse().ok()?;
        let data: String = w.collect::<String>().to_ascii_lowercase();
        Some(Tlsa {
            usage,
            selector,
            matching,
            data,
        })
    }

    /// Usable for SMTP (RFC 7672 §3.1.3): DANE-TA(2) or DANE-EE(3), known selector and
    /// matching type.
    fn usable(&self) -> bool {
        matches!(self.usage, 2 | 3) && self.selector <= 1 && self.matching <= 2
    }

    fn matches(&self, cert: &CertSeen) -> bool {
        let Some(d) = &cert.dane else { return false };
        let want = match (self.selector, self.matching) {
            (0, 0) => &d.cert,
            (0, 1) => &d.cert_sha256,
            (0, 2) => &d.cert_sha512,
            (1, 0) => &d.spki,
            (1, 1) => &d.spki_sha256,
            (1, 2) => &d.spki_sha512,
            _ => return false,
        };
        !self.data.is_empty() && *want == self.data
    }

    fn text(&self) -> String {
        format!(
            "{} {} {} {}",
            self.usage, self.selector, self.matching, self.data
        )
    }
}

/// Whether `cert` names `host` (exact, or a wildcard for its first label).
fn names_host(cert: &CertSeen, host: &str) -> bool {
    cert.dns_names.iter().any(|n| {
        let n = n.trim_end_matches('.').to_ascii_lowercase();
        n == host
            || n.strip_prefix("*.")
                .is_some_and(|rest| host.split_once('.').is_some_and(|(_, h)| h == rest))
    })
}

fn mx_hosts(ctx: &Context<'_>) -> Result<Vec<String>, String> {
    let domain = ctx.asset.domain.as_str();
    match ctx.obs.resolved(domain, "MX") {
        None => Err(format!("the MX records of {domain} were not fetched")),
        Some(DnsOutcome::Failed { failure }) => {
            Err(format!("the MX lookup of {domain} failed ({failure})"))
        }
        Some(o) => Ok(o
            .records_of("MX")
            .filter_map(|r| r.data.split_whitespace().nth(1))
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect()),
    }
}

/// One MX host's DANE verdict.
fn dane_host(ctx: &Context<'_>, host: &str) -> (Status, String, Value) {
    let name = format!("_25._tcp.{host}");
    let Some(chain) = ctx.obs.chain(&name, "TLSA") else {
        return (
            Status::Error,
            format!("could not tell: the TLSA records of {host} were not asked"),
            json!({ "host": host }),
        );
    };
    let ev = json!({ "host": host, "chain": chain });
    if let Some(why) = failed_text(chain) {
        return (Status::Error, why, ev);
    }
    let records = match &chain.outcome {
        ChainOutcome::Absent { .. } => {
            return (Status::Info, format!("{host} has no TLSA records"), ev);
        }
        ChainOutcome::Insecure { records, zone, .. } if records.is_empty() => {
            return (
                Status::Info,
                format!("{host} has no TLSA records (and {zone} is not signed)"),
                ev,
            );
        }
        ChainOutcome::Insecure { zone, .. } => {
            return (
                Status::Warn,
                format!(
                    "{host} publishes TLSA records, but {zone} is not DNSSEC-signed, so senders cannot use them (RFC 7672 §2.2)"
                ),
                ev,
            );
        }
        ChainOutcome::Bogus { zone, link, detail } => {
            return (
                Status::Fail,
                format!(
                    "the TLSA records of {host} do not validate ({}, at {zone}: {detail}): DANE senders will hold mail back",
                    link.describe()
                ),
                ev,
            );
        }
        ChainOutcome::Failed { .. } | ChainOutcome::NoAnchor { .. } => {
            return (Status::Error, "could not tell: a lookup failed".into(), ev);
        }
        ChainOutcome::Secure { records, .. } => records,
    };
    let tlsa: Vec<Tlsa> = records
        .iter()
        .filter_map(|r| Tlsa::parse(&r.data))
        .collect();
    let usable: Vec<&Tlsa> = tlsa.iter().filter(|t| t.usable()).collect();
    if usable.is_empty() {
        return (
            Status::Warn,
            format!(
                "{host} publishes only TLSA records SMTP senders do not use (usages 0 and 1, or unknown selector or matching type)"
            ),
            ev,
        );
    }
    let scan: Option<&TlsScan> = ctx
        .obs
        .tls
        .iter()
        .find(|s| s.transport == "starttls_smtp" && s.hostname == host && s.chain.is_some());
    let Some(certs) = scan.and_then(|s| s.chain.as_ref()).map(|c| &c.certs) else {
        return (
            Status::Error,
            format!(
                "could not tell: {host} has validated TLSA records, but no certificate was seen from it over STARTTLS"
            ),
            ev,
        );
    };
    let leaf = certs.first();
    let mut matched = Vec::new();
    for t in &usable {
        let hit = match t.usage {
            3 => leaf.is_some_and(|c| t.matches(c)),
            // DANE-TA: an issuer in the chain, and the server certificate must name the
            // MX host (RFC 7672 §3.2.2).
            _ => {
                certs.iter().skip(1).any(|c| t.matches(c))
                    && leaf.is_some_and(|c| names_host(c, host))
            }
        };
        if hit {
            matched.push(t.text());
        }
    }
    let ev = json!({
        "host": host,
        "tlsa": usable.iter().map(|t| t.text()).collect::<Vec<_>>(),
        "matched": matched,
        "leaf_spki_sha256": leaf.and_then(|c| c.dane.as_ref()).map(|d| d.spki_sha256.clone()),
        "chain": chain,
    });
    if matched.is_empty() {
        (
            Status::Fail,
            format!(
                "none of the {} usable TLSA records of {host} matches the certificate it presents: DANE senders will hold mail back",
                usable.len()
            ),
            ev,
        )
    } else {
        (
            Status::Pass,
            format!(
                "{host}'s certificate matches its DNSSEC-signed TLSA record {}",
                matched[0]
            ),
            ev,
        )
    }
}

fn dane(ctx: &Context<'_>) -> Finding {
    const ID: CheckId = CheckId::MxDane;
    let hosts = match mx_hosts(ctx) {
        Ok(h) => h,
        Err(why) => {
            return finding(
                ctx,
                ID,
                Status::Error,
                DANE,
                format!("could not tell: {why}"),
                json!({}),
            );
        }
    };
    let judged: Vec<(String, (Status, String, Value))> = hosts
        .iter()
        .filter(|h| ctx.obs.chain(&format!("_25._tcp.{h}"), "TLSA").is_some())
        .map(|h| (h.clone(), dane_host(ctx, h)))
        .collect();
    if judged.is_empty() {
        return finding(
            ctx,
            ID,
            Status::Info,
            DANE,
            "no MX host to look for TLSA records at",
            json!({ "mx": hosts }),
        );
    }
    let rank = |s: Status| match s {
        Status::Fail => 5,
        Status::Error => 4,
        Status::Warn => 3,
        Status::Pass => 2,
        Status::Info => 1,
    };
    let (status, summary) = judged
        .iter()
        .map(|(_, (s, text, _))| (*s, text.clone()))
        .max_by_key(|(s, _)| rank(*s))
        .unwrap_or((Status::Info, String::new()));
    // Pass only when every host with TLSA passes; hosts without TLSA are fine beside it.
    let hosts: Vec<Value> = judged.into_iter().map(|(_, (_, _, ev))| ev).collect();
    let mut evidence = serde_json::Map::new();
    evidence.insert("hosts".to_owned(), Value::Array(hosts));
    finding(ctx, ID, status, DANE, summary, Value::Object(evidence))
}

fn stamp(secs: i64) -> String {
    time_text(secs)
}

/// A Unix time as `YYYY-MM-DD` (UTC), without a time library.
fn time_text(secs: i64) -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(time_text(0), "1970-01-01");
        assert_eq!(time_text(1_764_115_200), "2025-11-26");
        assert_eq!(time_text(951_782_400), "2000-02-29");
    }

    #[test]
    fn tlsa_parses_presentation_form() {
        assert_eq!(
            Tlsa::parse("3 1 1 ABCD ef01"),
            Some(Tlsa {
                usage: 3,
                selector: 1,
                matching: 1,
                data: "abcdef01".into()
            })
        );
        assert_eq!(Tlsa::parse("3 1"), None);
        assert!(!Tlsa::parse("1 1 1 00").is_some_and(|t| t.usable()));
    }
}
