//! Small helpers about names and addresses shared by the evaluator and the tree walk.

use std::net::IpAddr;

/// Lower case, without one trailing dot: the form [`ward_model::DnsSource`] expects.
pub(crate) fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// RFC 7208 §4.3: a domain that is not a multi-label name with labels of 1 to 63 bytes
/// (and 253 in all) cannot have a policy; check_host() returns none for it.
pub(crate) fn is_valid_domain(domain: &str) -> bool {
    let d = domain.strip_suffix('.').unwrap_or(domain);
    if d.is_empty() || d.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    for label in d.split('.') {
        labels += 1;
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    labels >= 2
}

/// Whether a name expanded from a domain-spec can be asked about at all: labels of 1 to
/// 63 bytes. (Length over 253 has already been cut from the left, §7.3.)
pub(crate) fn is_queryable(name: &str) -> bool {
    let d = name.strip_suffix('.').unwrap_or(name);
    !d.is_empty() && d.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}

/// §7.3: an expanded domain name over 253 bytes loses labels from the left until it fits.
pub(crate) fn truncate_left(name: String) -> String {
    let mut rest = name.as_str();
    while rest.len() > 253 {
        match rest.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => return String::new(),
        }
    }
    rest.to_owned()
}

/// The reverse-lookup name for an address (`in-addr.arpa` / `ip6.arpa`).
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(_) => {
            let mut parts = nibbles(ip);
            parts.reverse();
            format!("{}.ip6.arpa", parts.join("."))
        }
    }
}

/// The 32 hex nibbles of an IPv6 address, most significant first (lower case); for
/// IPv4, the four octets.
pub(crate) fn nibbles(ip: IpAddr) -> Vec<String> {
    match ip {
        IpAddr::V4(v4) => v4.octets().iter().map(|o| o.to_string()).collect(),
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0f])
            .map(|n| format!("{n:x}"))
            .collect(),
    }
}

/// Whether `addr` is inside `net/prefix` (addresses of different families never match).
pub(crate) fn in_network(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let p = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let p = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - p).unwrap_or(0);
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

/// The data of an MX record (`preference exchange`) as the exchange's name.
pub(crate) fn mx_exchange(data: &str) -> Option<String> {
    let host = data.split_whitespace().nth(1)?;
    Some(normalise(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(in_network(ip("192.0.2.77"), ip("192.0.2.0"), 24));
        assert!(!in_network(ip("192.0.3.1"), ip("192.0.2.0"), 24));
        assert!(in_network(ip("203.0.113.9"), ip("0.0.0.0"), 0));
        assert!(in_network(ip("2001:db8::1"), ip("2001:db8::"), 32));
        assert!(!in_network(ip("2001:db9::1"), ip("2001:db8::"), 32));
        assert!(!in_network(ip("192.0.2.1"), ip("::"), 0));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.3".parse().expect("ip")),
            "3.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().expect("ip")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn domains() {
        assert!(is_valid_domain("example.com."));
        assert!(!is_valid_domain("A2345678"));
        assert!(!is_valid_domain("[1.2.3.5]"));
        assert!(!is_valid_domain("a..example.com"));
        assert_eq!(
            truncate_left(format!("{}example.com", "a.".repeat(200))).len(),
            253
        );
    }
}
