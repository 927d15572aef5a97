//! The MTA-STS policy fetch (RFC 8461 §3.3): when the domain publishes an `_mta-sts` TXT
//! record, GET `https://mta-sts.<domain>/.well-known/mta-sts.txt`, validating the
//! certificate for that name, following no redirect, keeping at most 64 KiB.
//!
//! The record and the policy host's address are asked through the checks' needs loop
//! (they are DNS questions the checks list); this step only does the HTTPS part, and only
//! when the record is there and the name has an address. Otherwise it records nothing,
//! and the check says why from the DNS answers.

use std::net::IpAddr;
use ward_model::DnsOutcome;
use ward_model::observe::AssetObservation;
use ward_net::Net;
use ward_net::http::{HttpClient, HttpRequest};

/// Where the policy lives (RFC 8461 §3.2).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

fn has_record(obs: &AssetObservation, domain: &str) -> bool {
    let name = format!("_mta-sts.{domain}");
    obs.resolved(&name, "TXT").is_some_and(|o| {
        o.records_of("TXT").any(|r| {
            let first = r.data.split(';').next().unwrap_or_default();
            first
                .split_once('=')
                .is_some_and(|(k, v)| k.trim() == "v" && v.trim() == "STSv1")
        })
    })
}

/// Fetches the policy if the record exists and the policy host has an address.
pub async fn fetch_policy(
    net: &Net,
    client: &HttpClient,
    domain: &str,
    obs: &mut AssetObservation,
) {
    if !has_record(obs, domain) {
        return;
    }
    let host = format!("mta-sts.{domain}");
    if obs.resolved(&host, "A").is_none() {
        let lookup = net.resolve(&host, "A").await;
        obs.dns.push(lookup);
    }
    let first = |obs: &AssetObservation, rtype: &str| match obs.resolved(&host, rtype) {
        Some(o @ DnsOutcome::Answer { .. }) => o
            .records_of(rtype)
            .find_map(|r| r.data.parse::<IpAddr>().ok()),
        _ => None,
    };
    let mut ip = first(obs, "A");
    // An IPv6-only policy host: ask for AAAA too.
    if ip.is_none() && matches!(obs.resolved(&host, "A"), Some(DnsOutcome::NoData { .. })) {
        let lookup = net.resolve(&host, "AAAA").await;
        obs.dns.push(lookup);
        ip = first(obs, "AAAA");
    }
    let Some(ip) = ip else { return };
    let fetch = client
        .fetch(net, ip, &HttpRequest::https_get(&host, POLICY_PATH))
        .await;
    obs.mta_sts_policy = Some(fetch);
}
