//! DNSSEC observations: what a chain-of-trust walk saw, link by link.
//!
//! The probe walks from the configured trust anchor (the root's key-signing keys, or the
//! lab's own anchor) down to one RRset, checking each link with the scan's time. What it
//! records here is the material (keys, DS records, signature validity windows) and how
//! the walk ended; the checks judge from that. A validation failure is its own outcome
//! ([`ChainOutcome::Bogus`], naming the broken link), never "no record", and a lookup
//! that failed is [`ChainOutcome::Failed`], never "bogus".

use crate::dns::{DnsFailure, DnsRecord};
use serde::{Deserialize, Serialize};

/// A DS record as seen at a parent zone (or in the trust anchor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsSeen {
    /// The key tag of the DNSKEY it names.
    pub key_tag: u16,
    /// The DNSSEC algorithm number (RFC 8624 / IANA registry).
    pub algorithm: u8,
    /// The digest type: 1 SHA-1, 2 SHA-256, 4 SHA-384.
    pub digest_type: u8,
}

/// A DNSKEY record at a zone apex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnskeySeen {
    /// Its key tag (RFC 4034 Appendix B).
    pub key_tag: u16,
    /// The DNSSEC algorithm number.
    pub algorithm: u8,
    /// The flags field: 256 a zone key, 257 a zone key that is a secure entry point.
    pub flags: u16,
}

/// One RRSIG that was checked, with its validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigSeen {
    /// The owner name of the signed RRset.
    pub name: String,
    /// The type it covers.
    pub covers: String,
    /// The key tag of the signing key.
    pub key_tag: u16,
    /// The algorithm number.
    pub algorithm: u8,
    /// The signer's name (the zone).
    pub signer: String,
    /// Start of validity, seconds since 1970.
    pub inception: i64,
    /// End of validity, seconds since 1970.
    pub expiration: i64,
}

/// One zone on the way down: its DS set at the parent and its DNSKEY set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSeen {
    /// The zone's name, lower case, no trailing dot (`""` is not used; the root is `.`).
    pub zone: String,
    /// DS records for it at its parent (for the anchor zone: the anchor's DS records).
    pub ds: Vec<DsSeen>,
    /// Its DNSKEY records (at most [`MAX_KEYS`] are kept).
    pub dnskeys: Vec<DnskeySeen>,
    /// The signatures checked on the way: over the DS set at the parent and over the
    /// DNSKEY set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SigSeen>,
}

/// Most DNSKEY records of one zone kept in an observation.
pub const MAX_KEYS: usize = 16;

/// Which link of the chain broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenLink {
    /// The parent publishes DS records, but no DNSKEY at the apex matches any of them.
    DsMismatch,
    /// The parent publishes DS records, but the zone serves no DNSKEY set.
    NoDnskey,
    /// An RRset that must be signed came without a usable RRSIG.
    MissingRrsig,
    /// The RRSIG names a key that is not in the zone's DNSKEY set.
    UnknownKey,
    /// The RRSIG's validity window ended before the scan.
    ExpiredRrsig,
    /// The RRSIG's validity window starts after the scan.
    FutureRrsig,
    /// The signature does not verify with the key it names.
    BadSignature,
    /// The walk hit one of ward's work limits (too many keys or signatures to try).
    TooMuchWork,
}

impl BrokenLink {
    /// Plain words for evidence and summaries.
    pub fn describe(self) -> &'static str {
        match self {
            BrokenLink::DsMismatch => "the DS record at the parent matches no DNSKEY",
            BrokenLink::NoDnskey => "the parent has a DS record but the zone serves no DNSKEY",
            BrokenLink::MissingRrsig => "a signature (RRSIG) is missing",
            BrokenLink::UnknownKey => "a signature names a key the zone does not publish",
            BrokenLink::ExpiredRrsig => "a signature (RRSIG) has expired",
            BrokenLink::FutureRrsig => "a signature (RRSIG) is not valid yet",
            BrokenLink::BadSignature => "a signature does not verify",
            BrokenLink::TooMuchWork => "the answer needed more work than ward allows",
        }
    }
}

/// How a chain walk ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChainOutcome {
    /// The RRset was validated from the trust anchor down (present, secure).
    Secure {
        /// The validated records.
        records: Vec<DnsRecord>,
        /// The signature that validated them.
        signature: SigSeen,
    },
    /// The name or type does not exist (absent). Denial of existence (NSEC/NSEC3) is
    /// not validated, so this is not a proof.
    Absent {
        /// NXDOMAIN rather than NODATA.
        nxdomain: bool,
        /// Whether the zone holding the name is signed (its chain validated).
        signed_zone: bool,
    },
    /// The chain stops: `zone` is delegated without a DS record, or is outside the trust
    /// anchor, or uses only algorithms ward cannot verify. Its answers are not signed
    /// data anyone can validate.
    Insecure {
        /// The first zone that is not covered.
        zone: String,
        /// Why.
        detail: String,
        /// The records (unvalidated), when the final question was asked.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        records: Vec<DnsRecord>,
    },
    /// Validation failed: a validating resolver would answer SERVFAIL.
    Bogus {
        /// The zone where the chain broke.
        zone: String,
        /// Which link.
        link: BrokenLink,
        /// Details (key tags, times).
        detail: String,
    },
    /// The resolver gave no DNSKEY records for the trust anchor's zone, or gave them
    /// without signatures: it does not pass DNSSEC data on, or the anchor is for another
    /// namespace (a lab scanned with the root's keys). Nothing can be validated (could
    /// not tell).
    NoAnchor {
        /// The anchor's zone.
        zone: String,
    },
    /// A question on the way could not be answered (could not tell).
    Failed {
        /// The name asked.
        name: String,
        /// The type asked.
        rtype: String,
        /// Why.
        failure: DnsFailure,
    },
}

/// One chain-of-trust walk, for one RRset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnssecChain {
    /// The owner name validated.
    pub name: String,
    /// The type validated.
    pub rtype: String,
    /// The trust anchor used, in words (e.g. "root KSK-2017, KSK-2024").
    pub anchor: String,
    /// The zones walked, from the anchor down.
    pub zones: Vec<ZoneSeen>,
    /// How it ended.
    pub outcome: ChainOutcome,
}

impl DnssecChain {
    /// The last zone walked, if any.
    pub fn last_zone(&self) -> Option<&ZoneSeen> {
        self.zones.last()
    }
}
