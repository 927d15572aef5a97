//! Observations: exactly what a probe saw, failures included, as plain data.
//!
//! Observations carry no verdicts. They are stored as JSON so a scan can be judged again
//! when a check improves, which is why every type here round-trips through serde. The
//! parts live in their own modules ([`crate::dns`], [`crate::tls`], [`crate::http`],
//! [`crate::dnssec`]); this one gathers them per asset.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::dns::{DnsLookup, DnsOutcome};

/// Everything probed for one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetObservation {
    /// The domain probed.
    pub domain: String,
    /// When the probe started. Checks read time from here, never from a clock.
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
    /// Every DNS question asked, in the order asked.
    pub dns: Vec<DnsLookup>,
    /// TLS scans of the asset's HTTPS and SMTP endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<crate::tls::TlsScan>,
    /// The MTA-STS policy fetch (`https://mta-sts.<domain>/.well-known/mta-sts.txt`),
    /// made when the domain publishes an `_mta-sts` record; `None` when not attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts_policy: Option<crate::http::HttpFetch>,
    /// The web probe's fetches (role `web` only); `None` when not attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<crate::http::WebObservation>,
    /// DNSSEC chain walks: the domain's own zone (its SOA) and, for mail domains, the
    /// DANE TLSA records of its MX hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnssec: Vec<crate::dnssec::DnssecChain>,
    /// When `tls` and `web` were seen, if not in this probe: a monitoring round that
    /// asks only DNS and mail questions carries the servers' part of the last full
    /// probe forward ([`AssetObservation::carry_servers_from`]). `None`: seen now.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub servers_seen_at: Option<OffsetDateTime>,
    /// When `dns` was seen, if not in this probe: an organisation whose schedule looks
    /// at its records less often than rounds come has the whole of its last observation
    /// carried into the rounds between ([`AssetObservation::carried_whole`]). `None`:
    /// seen now.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub dns_seen_at: Option<OffsetDateTime>,
}

impl AssetObservation {
    /// An observation of `domain` with nothing seen yet.
    pub fn new(domain: impl Into<String>, scanned_at: OffsetDateTime) -> Self {
        AssetObservation {
            domain: domain.into(),
            scanned_at,
            dns: Vec::new(),
            tls: Vec::new(),
            mta_sts_policy: None,
            web: None,
            dnssec: Vec::new(),
            servers_seen_at: None,
            dns_seen_at: None,
        }
    }

    /// This observation, taken as a whole into a round at `scanned_at` that asked
    /// nothing: the checks judge it as of `scanned_at` (so a certificate is a day nearer
    /// its expiry), and it records when its parts were seen.
    pub fn carried_whole(mut self, scanned_at: OffsetDateTime) -> AssetObservation {
        self.dns_seen_at = Some(self.dns_seen_at.unwrap_or(self.scanned_at));
        self.servers_seen_at = Some(self.servers_seen_at.unwrap_or(self.scanned_at));
        self.scanned_at = scanned_at;
        self
    }

    /// Takes the servers' part (`tls`, `web`) of `earlier` into this observation, with
    /// the DNS answers `earlier` holds for names this one did not ask about (the
    /// addresses of the hosts those servers were reached on), and records when that
    /// part was seen. `earlier` may itself have carried it from further back.
    pub fn carry_servers_from(&mut self, earlier: AssetObservation) {
        self.servers_seen_at = Some(earlier.servers_seen_at.unwrap_or(earlier.scanned_at));
        self.tls = earlier.tls;
        self.web = earlier.web;
        for lookup in earlier.dns {
            let asked = self.dns.iter().any(|l| {
                l.server == lookup.server && l.name == lookup.name && l.rtype == lookup.rtype
            });
            if !asked {
                self.dns.push(lookup);
            }
        }
    }

    /// The earliest `not_after` of any certificate in the servers' part, if any.
    pub fn earliest_certificate_expiry(&self) -> Option<OffsetDateTime> {
        self.tls
            .iter()
            .filter_map(|t| t.chain.as_ref())
            .flat_map(|c| c.certs.iter().map(|cert| cert.not_after))
            .min()
    }

    /// The outcome of asking the resolver for `name`/`rtype`, if that was asked.
    pub fn resolved(&self, name: &str, rtype: &str) -> Option<&DnsOutcome> {
        self.dns
            .iter()
            .find(|l| l.server.is_none() && l.name == name && l.rtype == rtype)
            .map(|l| &l.outcome)
    }

    /// The DNSSEC chain walked for `name`/`rtype`, if one was.
    pub fn chain(&self, name: &str, rtype: &str) -> Option<&crate::dnssec::DnssecChain> {
        self.dnssec
            .iter()
            .find(|c| c.name == name && c.rtype == rtype)
    }

    /// Every question asked of a nameserver directly.
    pub fn direct(&self) -> impl Iterator<Item = &DnsLookup> {
        self.dns.iter().filter(|l| l.server.is_some())
    }
}
