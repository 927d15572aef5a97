//! Reverse names (PTR) of addresses: which service sends mail from an address in a
//! mail report's sources.

use std::collections::BTreeMap;
use std::net::IpAddr;

use futures::StreamExt;
use ward_model::dns::DnsOutcome;

use crate::Net;

/// Most reverse lookups one call makes (the first addresses given, busiest first).
pub const MAX_REVERSE_LOOKUPS: usize = 200;
/// Reverse lookups in flight at once.
const IN_FLIGHT: usize = 32;

impl Net {
    /// The reverse names of `ips` (at most [`MAX_REVERSE_LOOKUPS`] of them), looked up
    /// concurrently. An address without a name, or whose lookup failed, is left out.
    pub async fn reverse_names(&self, ips: Vec<IpAddr>) -> BTreeMap<IpAddr, String> {
        futures::stream::iter(ips.into_iter().take(MAX_REVERSE_LOOKUPS))
            .map(|ip| async move {
                let lookup = self.resolve(&reverse_name(ip), "PTR").await;
                let name = match lookup.outcome {
                    DnsOutcome::Answer { records, .. } => records
                        .into_iter()
                        .find(|r| r.rtype.eq_ignore_ascii_case("PTR"))
                        .map(|r| r.data.trim_end_matches('.').to_ascii_lowercase()),
                    _ => None,
                };
                (ip, name)
            })
            .buffer_unordered(IN_FLIGHT)
            .filter_map(|(ip, name)| async move { name.map(|n| (ip, n)) })
            .collect()
            .await
    }
}

/// The `in-addr.arpa` / `ip6.arpa` name of an address.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_of_both_families() {
        assert_eq!(
            reverse_name("192.0.2.10".parse().unwrap()),
            "10.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }
}
