//! The private-address guard.
//!
//! A scanner that follows DNS answers can be pointed anywhere by whoever writes those
//! answers: an MX of `10.0.0.5` or a nameserver at `169.254.169.254` would turn ward
//! into a probe of the network it runs on. So every target address passes through
//! [`check`] before a socket is opened, and only a [`CheckedAddr`] — which nothing else
//! can construct — can be dialled.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which targets may be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPolicy {
    /// Only globally reachable addresses (the default).
    PublicOnly,
    /// Public addresses and loopback (lab mode).
    LabLoopback,
    /// Anything but unspecified, multicast and broadcast addresses (`--allow-private`).
    AllowPrivate,
}

/// An address the guard allowed. Only [`check`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedAddr(SocketAddr);

impl CheckedAddr {
    /// The address to dial.
    pub fn addr(self) -> SocketAddr {
        self.0
    }
}

/// Why a target was refused. Nothing was sent to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused to contact {addr}: {class} address (pass --allow-private to scan private networks)"
)]
pub struct Blocked {
    /// The address refused.
    pub addr: SocketAddr,
    /// What kind of address it is.
    pub class: AddrClass,
}

/// The kinds of address the guard tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    /// Globally reachable.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918, RFC 6598 shared space, IPv6 unique local.
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// Multicast and broadcast.
    Multicast,
    /// Documentation, benchmarking, reserved and other special-purpose ranges.
    Reserved,
}

impl std::fmt::Display for AddrClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddrClass::Public => "public",
            AddrClass::Loopback => "loopback",
            AddrClass::Private => "private",
            AddrClass::LinkLocal => "link-local",
            AddrClass::Unspecified => "unspecified",
            AddrClass::Multicast => "multicast",
            AddrClass::Reserved => "reserved",
        })
    }
}

/// Classifies an address.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                AddrClass::Loopback
            } else if v6.is_unspecified() {
                AddrClass::Unspecified
            } else if v6.is_multicast() {
                AddrClass::Multicast
            } else if s[0] & 0xffc0 == 0xfe80 {
                AddrClass::LinkLocal
            } else if s[0] & 0xfe00 == 0xfc00 {
                AddrClass::Private
            } else if (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0x0100 && s[1..4] == [0, 0, 0]
                || s[0] & 0xe000 != 0x2000
            {
                // Documentation, discard-only, and everything outside global unicast 2000::/3.
                AddrClass::Reserved
            } else {
                AddrClass::Public
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let o = ip.octets();
    if ip.is_loopback() {
        AddrClass::Loopback
    } else if o[0] == 0 {
        AddrClass::Unspecified
    } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        AddrClass::Private
    } else if ip.is_link_local() {
        AddrClass::LinkLocal
    } else if ip.is_multicast() || ip.is_broadcast() {
        AddrClass::Multicast
    } else if (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 198 && o[1] == 51 && o[2] == 100)
        || (o[0] == 203 && o[1] == 0 && o[2] == 113)
        || o[0] >= 240
    {
        AddrClass::Reserved
    } else {
        AddrClass::Public
    }
}

/// Allows or refuses a target under `policy`.
pub fn check(policy: TargetPolicy, addr: SocketAddr) -> Result<CheckedAddr, Blocked> {
    let class = classify(addr.ip());
    let allowed = match (policy, class) {
        (_, AddrClass::Public) => true,
        (TargetPolicy::LabLoopback, AddrClass::Loopback) => true,
        (TargetPolicy::AllowPrivate, AddrClass::Unspecified | AddrClass::Multicast) => false,
        (TargetPolicy::AllowPrivate, _) => true,
        _ => false,
    };
    if allowed {
        Ok(CheckedAddr(addr))
    } else {
        Err(Blocked { addr, class })
    }
}

/// Unused addresses of each family, for tests and docs.
#[doc(hidden)]
pub const EXAMPLES: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classifies_special_ranges() {
        assert_eq!(c("127.0.0.1"), AddrClass::Loopback);
        assert_eq!(c("10.1.2.3"), AddrClass::Private);
        assert_eq!(c("172.31.255.1"), AddrClass::Private);
        assert_eq!(c("172.32.0.1"), AddrClass::Public);
        assert_eq!(c("192.168.0.1"), AddrClass::Private);
        assert_eq!(c("100.64.0.1"), AddrClass::Private);
        assert_eq!(c("169.254.169.254"), AddrClass::LinkLocal);
        assert_eq!(c("0.0.0.0"), AddrClass::Unspecified);
        assert_eq!(c("224.0.0.1"), AddrClass::Multicast);
        assert_eq!(c("192.0.2.1"), AddrClass::Reserved);
        assert_eq!(c("8.8.8.8"), AddrClass::Public);
        assert_eq!(c("::1"), AddrClass::Loopback);
        assert_eq!(c("fe80::1"), AddrClass::LinkLocal);
        assert_eq!(c("fd00::1"), AddrClass::Private);
        assert_eq!(c("::ffff:10.0.0.1"), AddrClass::Private);
        assert_eq!(c("2001:db8::1"), AddrClass::Reserved);
        assert_eq!(c("2a00:1450::1"), AddrClass::Public);
    }

    #[test]
    fn policies_decide() {
        let lo: SocketAddr = "127.0.0.9:53".parse().unwrap();
        let private: SocketAddr = "10.0.0.1:53".parse().unwrap();
        let public: SocketAddr = "8.8.8.8:53".parse().unwrap();
        assert_eq!(
            check(TargetPolicy::PublicOnly, lo),
            Err(Blocked {
                addr: lo,
                class: AddrClass::Loopback
            })
        );
        assert!(check(TargetPolicy::PublicOnly, public).is_ok());
        assert_eq!(
            check(TargetPolicy::LabLoopback, lo).map(CheckedAddr::addr),
            Ok(lo)
        );
        assert_eq!(
            check(TargetPolicy::LabLoopback, private),
            Err(Blocked {
                addr: private,
                class: AddrClass::Private
            })
        );
        assert_eq!(
            check(TargetPolicy::AllowPrivate, private).map(CheckedAddr::addr),
            Ok(private)
        );
        let any: SocketAddr = "0.0.0.0:53".parse().unwrap();
        assert!(check(TargetPolicy::AllowPrivate, any).is_err());
    }
}
