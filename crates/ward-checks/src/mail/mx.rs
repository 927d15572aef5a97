//! `mx.present` (null MX, RFC 7505, understood), `mta_sts.record`, `mta_sts.policy`
//! (RFC 8461) and `tls_rpt.record` (RFC 8460).
//!
//! | check | pass | warn | fail | error |
//! |---|---|---|---|---|
//! | `mx.present` | mail domain: MX hosts, each a name with its own address; parked: null MX | parked: real MX hosts, or no MX (mail falls back to the A record) | mail domain: no MX; an exchange that is an alias (CNAME: RFC 2181 §10.3, RFC 5321 §5.1), does not exist or has no address; null MX mixed with other MX records (RFC 7505 §3) | MX lookup failed |
//! | `mta_sts.record` | one valid `v=STSv1` record | none (small organisation) | none (medium); several; refused (no valid record: a TXT at `_mta-sts` not starting `v=STSv1`, or without `id`, says so) | lookup failed |
//! | `mta_sts.policy` | `enforce`, `max_age` ≥ 1,209,600, every MX matched | `testing`; `enforce` with a shorter `max_age` | `none`; policy not served (404, redirect, wrong type, refused policy); an MX not matched | fetch failed for a reason that is not the server's answer (timeout, DNS failure) |
//! | `tls_rpt.record` | one valid `v=TLSRPTv1` record | none (a TXT at `_smtp._tls` not starting `v=TLSRPTv1` is named: no valid record) | several; refused | lookup failed |
//!
//! `mta_sts.policy` is `info` when there is no valid record (nothing to fetch).
//! A certificate that does not validate is a `fail`: senders then ignore the policy.

use super::{Txt, domain_unreachable};
use crate::{Context, Stakes, finding};
use serde_json::{Value, json};
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::HttpOutcome;
use ward_model::observe::AssetObservation;
use ward_model::{DnsOutcome, Finding, Role, Severity, SizeClass, Status};
use ward_records::{mta_sts, tls_rpt};

const MX: Stakes = Stakes::flat(Severity::Medium);
const STS_RECORD: Stakes = Stakes::sized(Severity::Low, Severity::Medium);
const STS_POLICY: Stakes = Stakes::sized(Severity::Low, Severity::Medium);
const TLS_RPT: Stakes = Stakes::sized(Severity::Low, Severity::Medium);
/// RFC 8461 guidance and Mail Check: an enforce policy should be cached at least two weeks.
pub const MIN_ENFORCE_MAX_AGE: u32 = 1_209_600;

/// A record as quoted in a summary: escaped, and cut at 120 characters.
fn quoted(record: &str) -> String {
    let shown: String = record.chars().take(120).collect();
    let more = if shown.len() < record.len() {
        "…"
    } else {
        ""
    };
    format!("\"{}{more}\"", shown.escape_debug())
}

/// The MX answer in the three states.
#[derive(Debug, Clone)]
pub(crate) enum MxState {
    /// Lookup failed or was not made.
    Unknown(String),
    /// No MX records.
    None,
    /// A single `0 .` record: the domain accepts no mail (RFC 7505).
    Null,
    /// Null MX mixed with other records (invalid, RFC 7505 §3).
    Mixed(Vec<String>),
    /// Mail exchangers, by host name (lower case, no trailing dot).
    Hosts(Vec<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct MxOutcome {
    pub finding: Finding,
    pub state: MxState,
}

pub(crate) fn mx_state(obs: &AssetObservation, domain: &str) -> MxState {
    match obs.resolved(domain, "MX") {
        None => MxState::Unknown(format!("the MX records of {domain} were not fetched")),
        Some(DnsOutcome::Failed { failure }) => {
            MxState::Unknown(format!("the MX lookup of {domain} failed ({failure})"))
        }
        Some(o @ DnsOutcome::Answer { .. }) => {
            let mut hosts = Vec::new();
            let mut null = false;
            for r in o.records_of("MX") {
                let host = r.data.split_whitespace().nth(1).unwrap_or_default();
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                if host.is_empty() {
                    null = true;
                } else if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            match (null, hosts.is_empty()) {
                (true, true) => MxState::Null,
                (true, false) => MxState::Mixed(hosts),
                (false, true) => MxState::None,
                (false, false) => MxState::Hosts(hosts),
            }
        }
        Some(_) => MxState::None,
    }
}

/// Further questions: `_mta-sts` and `_smtp._tls` TXT, and the policy host's address once
/// a record exists (the probe then fetches the policy).
pub(crate) fn needed(obs: &AssetObservation, domain: &str) -> Vec<(String, String)> {
    let record = format!("_mta-sts.{domain}");
    let mut out = vec![
        (record.clone(), "TXT".to_owned()),
        (format!("_smtp._tls.{domain}"), "TXT".to_owned()),
    ];
    // Each exchange's addresses, to tell an alias or an exchange with no address.
    if let MxState::Hosts(hosts) | MxState::Mixed(hosts) = mx_state(obs, domain) {
        for host in hosts.into_iter().take(MAX_EXCHANGES_JUDGED) {
            out.push((host.clone(), "A".to_owned()));
            out.push((host, "AAAA".to_owned()));
        }
    }
    if !Txt::get(obs, &record).versioned("STSv1").is_empty() {
        out.push((format!("mta-sts.{domain}"), "A".to_owned()));
    }
    out
}

/// At most this many MX exchanges have their addresses looked up and judged.
const MAX_EXCHANGES_JUDGED: usize = 10;

/// What is wrong with each exchange that cannot take mail as named: an alias (RFC 2181
/// §10.3, RFC 5321 §5.1: the exchange must be a name with its own address records), a
/// name that does not exist, or one with no address. An exchange whose lookups failed
/// or were not made is left out: that is not known.
fn exchange_faults(obs: &AssetObservation, hosts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for host in hosts.iter().take(MAX_EXCHANGES_JUDGED) {
        let (Some(a), Some(aaaa)) = (obs.resolved(host, "A"), obs.resolved(host, "AAAA")) else {
            continue;
        };
        let alias = [a, aaaa].into_iter().find_map(|o| {
            o.records_of("CNAME")
                .find(|r| r.name.trim_end_matches('.').eq_ignore_ascii_case(host))
        });
        if let Some(cname) = alias {
            out.push(format!(
                "{host} is an alias (CNAME to {}), and an MX exchange must be a host name with its own address (RFC 2181 §10.3, RFC 5321 §5.1): some senders refuse it",
                cname.data.trim_end_matches('.')
            ));
            continue;
        }
        match (a, aaaa) {
            (DnsOutcome::NxDomain { .. }, _) | (_, DnsOutcome::NxDomain { .. }) => out.push(
                format!("{host} does not exist, so mail sent to it cannot be delivered"),
            ),
            (
                DnsOutcome::NoData { .. } | DnsOutcome::Answer { .. },
                DnsOutcome::NoData { .. } | DnsOutcome::Answer { .. },
            ) if a.records_of("A").next().is_none() && aaaa.records_of("AAAA").next().is_none() => {
                out.push(format!(
                    "{host} has no address (no A or AAAA record), so mail sent to it cannot be delivered"
                ))
            }
            _ => {}
        }
    }
    out
}

pub(crate) fn judge_mx(ctx: &Context<'_>) -> MxOutcome {
    let domain = ctx.asset.domain.as_str();
    let parked = ctx.asset.has(Role::Parked) && !ctx.asset.has(Role::Mail);
    let state = if let Some(f) = domain_unreachable(ctx.obs, domain) {
        MxState::Unknown(format!("{domain}'s nameservers did not answer ({f})"))
    } else {
        mx_state(ctx.obs, domain)
    };
    let ev = Evidence::from(json!({ "mx": ctx.obs.resolved(domain, "MX") }));
    let (status, summary) = match (&state, parked) {
        (MxState::Unknown(why), _) => (
            Status::Error,
            format!("could not tell whether {domain} receives mail: {why}"),
        ),
        (MxState::Mixed(h), _) => (
            Status::Fail,
            format!(
                "{domain} publishes a null MX beside real ones ({}): RFC 7505 forbids that, and senders may treat the domain as unable to receive mail",
                h.join(", ")
            ),
        ),
        (MxState::Hosts(h), false) => match exchange_faults(ctx.obs, h).as_slice() {
            [] => (
                Status::Pass,
                format!("mail for {domain} goes to {}", h.join(", ")),
            ),
            faults => (
                Status::Fail,
                format!(
                    "mail for {domain} goes to {}, but {}",
                    h.join(", "),
                    faults.join("; ")
                ),
            ),
        },
        (MxState::Null, false) => (
            Status::Info,
            format!("{domain} publishes a null MX (RFC 7505): it says it receives no mail"),
        ),
        (MxState::None, false) => (
            Status::Fail,
            format!(
                "{domain} publishes no MX record: senders fall back to its address record, so mail goes astray or bounces"
            ),
        ),
        (MxState::Null, true) => (
            Status::Pass,
            format!("parked {domain} publishes a null MX (RFC 7505): it receives no mail"),
        ),
        (MxState::Hosts(h), true) => (
            Status::Warn,
            format!(
                "parked {domain} still receives mail (MX {}); publish a null MX if it is unused",
                h.join(", ")
            ),
        ),
        (MxState::None, true) => (
            Status::Warn,
            format!(
                "parked {domain} has no MX, so senders try its address record; publish a null MX (\"0 .\")"
            ),
        ),
    };
    MxOutcome {
        finding: finding(ctx, CheckId::MxPresent, status, MX, summary, ev),
        state,
    }
}

pub(crate) fn judge_mta_sts(ctx: &Context<'_>, mx: &MxOutcome) -> Vec<Finding> {
    let domain = ctx.asset.domain.as_str();
    let name = format!("_mta-sts.{domain}");
    let txt = if let Some(f) = domain_unreachable(ctx.obs, domain) {
        Txt::Failed(f.clone())
    } else {
        Txt::get(ctx.obs, &name)
    };
    let recs = txt.versioned("STSv1");
    let ev = Evidence::from(json!({ "name": name, "state": txt.state(), "records": recs }));
    let policy_na = |why: String| {
        finding(
            ctx,
            CheckId::MtaStsPolicy,
            Status::Info,
            STS_POLICY,
            why,
            Value::Null,
        )
    };
    if let Some(why) = txt.unknown(&name) {
        let why = format!("could not tell whether {domain} publishes MTA-STS: {why}");
        return vec![
            finding(
                ctx,
                CheckId::MtaStsRecord,
                Status::Error,
                STS_RECORD,
                why.clone(),
                ev.clone(),
            ),
            finding(
                ctx,
                CheckId::MtaStsPolicy,
                Status::Error,
                STS_POLICY,
                why,
                ev,
            ),
        ];
    }
    let record = match recs.as_slice() {
        [] => {
            let status = match ctx.size {
                SizeClass::Medium => Status::Fail,
                SizeClass::Small => Status::Warn,
            };
            return vec![
                finding(
                    ctx,
                    CheckId::MtaStsRecord,
                    status,
                    STS_RECORD,
                    match txt.unversioned("STSv1").first() {
                        Some(other) => format!(
                            "{domain} has no valid MTA-STS record: the TXT at {name} does not start with v=STSv1 (RFC 8461 §3.1): {}",
                            quoted(other)
                        ),
                        None => format!(
                            "{domain} publishes no MTA-STS record: senders cannot insist on TLS, so mail to it can be read or diverted in transit"
                        ),
                    },
                    ev,
                ),
                policy_na(format!(
                    "{domain} publishes no MTA-STS record, so there is no policy to fetch"
                )),
            ];
        }
        [one] => match mta_sts::parse_record(one, &mta_sts::Limits::default()) {
            Ok(r) => r,
            Err(e) => {
                return vec![
                    finding(
                        ctx,
                        CheckId::MtaStsRecord,
                        Status::Fail,
                        STS_RECORD,
                        format!(
                            "{domain} has no valid MTA-STS record: {} is refused ({e}), so senders ignore it (RFC 8461 §3.1)",
                            quoted(one)
                        ),
                        json!({ "record": one, "error": e, "message": e.to_string() }),
                    ),
                    policy_na(
                        "the MTA-STS record is refused, so senders never fetch the policy".into(),
                    ),
                ];
            }
        },
        many => {
            return vec![
                finding(
                    ctx,
                    CheckId::MtaStsRecord,
                    Status::Fail,
                    STS_RECORD,
                    format!(
                        "{domain} publishes {} MTA-STS records; senders must ignore them all (RFC 8461 §3.1)",
                        many.len()
                    ),
                    ev,
                ),
                policy_na("several MTA-STS records, so senders never fetch the policy".into()),
            ];
        }
    };
    vec![
        finding(
            ctx,
            CheckId::MtaStsRecord,
            Status::Pass,
            STS_RECORD,
            format!("{domain} publishes an MTA-STS record (id={})", record.id),
            json!({ "record": record.raw, "parsed": record }),
        ),
        policy(ctx, mx),
    ]
}

fn policy(ctx: &Context<'_>, mx: &MxOutcome) -> Finding {
    let domain = ctx.asset.domain.as_str();
    let host = format!("mta-sts.{domain}");
    let f = |status, summary: String, ev: Value| {
        finding(ctx, CheckId::MtaStsPolicy, status, STS_POLICY, summary, ev)
    };
    let addr = ctx.obs.resolved(&host, "A");
    let Some(fetch) = &ctx.obs.mta_sts_policy else {
        return match addr {
            Some(DnsOutcome::NxDomain { .. }) => f(
                Status::Fail,
                format!("{host} does not exist, so senders cannot fetch the MTA-STS policy"),
                json!({ "address": addr }),
            ),
            Some(DnsOutcome::NoData { .. }) => match ctx.obs.resolved(&host, "AAAA") {
                Some(DnsOutcome::Failed { failure }) => f(
                    Status::Error,
                    format!(
                        "could not tell: {host} has no IPv4 address and its IPv6 lookup failed ({failure})"
                    ),
                    json!({ "address": addr }),
                ),
                _ => f(
                    Status::Fail,
                    format!("{host} has no address, so senders cannot fetch the MTA-STS policy"),
                    json!({ "address": addr }),
                ),
            },
            Some(DnsOutcome::Failed { failure }) => f(
                Status::Error,
                format!("could not tell: the address lookup of {host} failed ({failure})"),
                json!({ "address": addr }),
            ),
            _ => f(
                Status::Error,
                format!("could not tell: the MTA-STS policy of {domain} was not fetched"),
                json!({ "address": addr }),
            ),
        };
    };
    let ev_fetch = serde_json::to_value(fetch).unwrap_or(Value::Null);
    let (status, body) = match &fetch.outcome {
        HttpOutcome::Response { status, body, .. } => (*status, body),
        HttpOutcome::NoAddress => {
            return f(
                Status::Fail,
                format!("{host} has no address, so senders cannot fetch the MTA-STS policy"),
                json!({ "fetch": ev_fetch, "address": addr }),
            );
        }
        HttpOutcome::Tls {
            certificate: true,
            detail,
        } => {
            return f(
                Status::Fail,
                format!(
                    "the certificate of {host} does not validate ({detail}): senders ignore the MTA-STS policy"
                ),
                json!({ "fetch": ev_fetch }),
            );
        }
        other => {
            return f(
                Status::Error,
                format!("could not fetch the MTA-STS policy of {domain}: {other}"),
                json!({ "fetch": ev_fetch }),
            );
        }
    };
    if status != 200 {
        let why = if (300..400).contains(&status) {
            " (senders do not follow redirects)"
        } else {
            ""
        };
        return f(
            Status::Fail,
            format!(
                "{} answered HTTP {status}{why}: senders get no MTA-STS policy",
                fetch.url
            ),
            json!({ "fetch": ev_fetch }),
        );
    }
    let ctype = fetch.header("content-type").unwrap_or_default();
    if !mta_sts::is_policy_media_type(ctype) {
        return f(
            Status::Fail,
            format!(
                "{} is served as `{ctype}`, not text/plain: senders refuse the policy (RFC 8461 §3.3)",
                fetch.url
            ),
            json!({ "fetch": ev_fetch }),
        );
    }
    let parsed = match mta_sts::parse_policy(body.as_bytes(), &mta_sts::PolicyLimits::default()) {
        Ok(p) => p,
        Err(e) => {
            return f(
                Status::Fail,
                format!("the MTA-STS policy of {domain} is refused: {e}"),
                json!({ "fetch": ev_fetch, "error": e, "message": e.to_string() }),
            );
        }
    };
    let unmatched: Vec<&String> = match &mx.state {
        MxState::Hosts(h) | MxState::Mixed(h) => {
            h.iter().filter(|host| !parsed.matches_mx(host)).collect()
        }
        MxState::None | MxState::Null => Vec::new(),
        MxState::Unknown(why) => {
            return f(
                Status::Error,
                format!(
                    "could not tell whether the MTA-STS policy of {domain} covers its mail servers: {why}"
                ),
                json!({ "policy": parsed }),
            );
        }
    };
    let ev = json!({ "url": fetch.url, "policy": parsed, "unmatched_mx": unmatched });
    if !unmatched.is_empty() {
        let list: Vec<&str> = unmatched.iter().map(|s| s.as_str()).collect();
        return f(
            Status::Fail,
            format!(
                "the MTA-STS policy of {domain} does not list MX host(s) {}: senders that enforce it will refuse to deliver there",
                list.join(", ")
            ),
            ev,
        );
    }
    match parsed.mode {
        mta_sts::Mode::Enforce if parsed.max_age >= MIN_ENFORCE_MAX_AGE => f(
            Status::Pass,
            format!(
                "MTA-STS for {domain} enforces TLS to every MX (max_age {} s)",
                parsed.max_age
            ),
            ev,
        ),
        mta_sts::Mode::Enforce => f(
            Status::Warn,
            format!(
                "MTA-STS for {domain} enforces, but max_age is {} s: use at least {MIN_ENFORCE_MAX_AGE} s (two weeks) so senders remember it",
                parsed.max_age
            ),
            ev,
        ),
        mta_sts::Mode::Testing => f(
            Status::Warn,
            format!(
                "MTA-STS for {domain} is in testing mode: senders report but still deliver without TLS; move to enforce"
            ),
            ev,
        ),
        mta_sts::Mode::None => f(
            Status::Fail,
            format!("MTA-STS for {domain} is switched off (mode: none)"),
            ev,
        ),
    }
}

pub(crate) fn judge_tls_rpt(ctx: &Context<'_>) -> Finding {
    let domain = ctx.asset.domain.as_str();
    let name = format!("_smtp._tls.{domain}");
    let txt = if let Some(f) = domain_unreachable(ctx.obs, domain) {
        Txt::Failed(f.clone())
    } else {
        Txt::get(ctx.obs, &name)
    };
    let f = |status, summary: String, ev: Value| {
        finding(ctx, CheckId::TlsRptRecord, status, TLS_RPT, summary, ev)
    };
    if let Some(why) = txt.unknown(&name) {
        return f(
            Status::Error,
            format!("could not tell whether {domain} publishes TLS-RPT: {why}"),
            json!({ "name": name }),
        );
    }
    let recs = txt.versioned("TLSRPTv1");
    match recs.as_slice() {
        [] => f(
            Status::Warn,
            match txt.unversioned("TLSRPTv1").first() {
                Some(other) => format!(
                    "{domain} has no valid TLS-RPT record: the TXT at {name} does not start with v=TLSRPTv1 (RFC 8460 §3): {}",
                    quoted(other)
                ),
                None => format!(
                    "{domain} publishes no TLS-RPT record ({name}): you will not hear when senders fail to reach you over TLS"
                ),
            },
            json!({ "name": name, "state": txt.state(), "other_records": txt.unversioned("TLSRPTv1") }),
        ),
        [one] => match tls_rpt::parse(one, &tls_rpt::Limits::default()) {
            Ok(r) => {
                let dest: Vec<&str> = r
                    .rua
                    .iter()
                    .map(|u| match u {
                        tls_rpt::ReportUri::Mail { uri, .. }
                        | tls_rpt::ReportUri::Https { uri, .. } => uri.as_str(),
                    })
                    .collect();
                f(
                    Status::Pass,
                    format!("TLS reports for {domain} go to {}", dest.join(", ")),
                    json!({ "record": r.raw, "parsed": r }),
                )
            }
            Err(e) => f(
                Status::Fail,
                format!(
                    "{domain} has no valid TLS-RPT record: {} is refused ({e}), so senders ignore it (RFC 8460 §3)",
                    quoted(one)
                ),
                json!({ "record": one, "error": e, "message": e.to_string() }),
            ),
        },
        many => f(
            Status::Fail,
            format!(
                "{domain} publishes {} TLS-RPT records; senders must ignore them all (RFC 8460 §3)",
                many.len()
            ),
            json!({ "records": many }),
        ),
    }
}
