//! The DNS basics of a domain: SOA, NS (and whether each nameserver answers for the
//! domain with authority), CAA.

use futures::future::join_all;
use std::collections::BTreeSet;
use std::net::IpAddr;
use ward_model::DnsOutcome;
use ward_model::observe::AssetObservation;
use ward_net::Net;

/// Most nameserver names followed for one domain (a referral holds at most 13 in practice).
pub const MAX_NAMESERVERS: usize = 13;
/// Most addresses tried per nameserver name.
pub const MAX_ADDRESSES_PER_NS: usize = 4;

/// Asks SOA, NS and CAA of the resolver, then each nameserver directly for the SOA.
pub async fn basics(net: &Net, domain: &str, obs: &mut AssetObservation) {
    let (soa, ns, caa) = tokio::join!(
        net.resolve(domain, "SOA"),
        net.resolve(domain, "NS"),
        net.resolve(domain, "CAA"),
    );
    let ns_names: Vec<String> = ns
        .outcome
        .records_of("NS")
        .map(|r| ward_net::dns::normalise(&r.data))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(MAX_NAMESERVERS)
        .collect();
    obs.dns.extend([soa, ns, caa]);

    let addr_lookups = join_all(
        ns_names
            .iter()
            .flat_map(|n| [net.resolve(n, "A"), net.resolve(n, "AAAA")]),
    )
    .await;
    let mut ips: BTreeSet<IpAddr> = BTreeSet::new();
    for lookup in &addr_lookups {
        if let DnsOutcome::Answer { records, .. } = &lookup.outcome {
            let mine = records
                .iter()
                .filter(|r| r.rtype == "A" || r.rtype == "AAAA");
            ips.extend(
                mine.filter_map(|r| r.data.parse::<IpAddr>().ok())
                    .take(MAX_ADDRESSES_PER_NS),
            );
        }
    }
    obs.dns.extend(addr_lookups);
    let direct = join_all(ips.iter().map(|ip| net.ask_nameserver(*ip, domain, "SOA"))).await;
    obs.dns.extend(direct);
}
