//! DNSSEC: walks the chain of trust from the trust anchor down to one RRset.
//!
//! Every question goes to the configured resolver through [`Net::resolve_signed`] with
//! DO and CD set, so a validating resolver hands over the records of a broken zone and
//! ward can name the broken link instead of seeing only SERVFAIL. The walk goes one label
//! at a time: a DS answer at a name is a signed delegation (its RRSIG checked with the
//! parent's keys, then the child's DNSKEY set matched against it and checked with the
//! matching key); no DS at a name that has its own SOA is an unsigned delegation, where
//! the walk stops as *insecure*. The time used is the scan's (`scanned_at`), never the
//! clock.
//!
//! Bounds: at most [`MAX_ZONES`] zones, [`MAX_KEYS`] DNSKEYs per zone,
//! [`MAX_SIGS_PER_SET`] RRSIGs tried per RRset and [`MAX_VERIFICATIONS`] signature or
//! digest computations per walk (the KeyTrap attack, CVE-2023-50387, hands a validator
//! many colliding keys and signatures). Past a bound the walk ends as
//! [`BrokenLink::TooMuchWork`], which the checks report as "could not tell".
//!
//! Not done: denial of existence (NSEC/NSEC3) is not validated, so "no DS" and "no such
//! record" are taken as the resolver said them.

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::dnssec::{PublicKey, PublicKeyBuf, TrustAnchors, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;
use std::collections::HashMap;
use std::str::FromStr;
use time::OffsetDateTime;
use ward_model::DnsFailure;
use ward_model::dnssec::{
    BrokenLink, ChainOutcome, DnskeySeen, DnssecChain, DsSeen, MAX_KEYS, SigSeen, ZoneSeen,
};
use ward_net::Net;
use ward_net::dns::{SignedReply, name_text, normalise, to_record};

/// Most zones walked for one RRset (root, top level, and ten more).
pub const MAX_ZONES: usize = 12;
/// Most labels walked below the anchor (each costs up to two questions).
pub const MAX_LABELS: usize = 24;
/// Most RRSIGs tried over one RRset.
pub const MAX_SIGS_PER_SET: usize = 8;
/// Most signature verifications and DS digest computations in one walk.
pub const MAX_VERIFICATIONS: usize = 64;

/// Where trust starts: the keys of one zone, given as DS records, DNSKEY records or both.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    zone: Name,
    ds: Vec<DS>,
    keys: Vec<PublicKeyBuf>,
    label: String,
}

/// A trust anchor file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// Not master-file syntax.
    #[error("trust anchor: {0}")]
    Syntax(String),
    /// No DS or DNSKEY record in it.
    #[error("trust anchor: no DS or DNSKEY record")]
    Empty,
    /// Records for more than one zone.
    #[error("trust anchor: records for more than one zone ({0} and {1})")]
    SeveralZones(String, String),
}

impl TrustAnchor {
    /// The root zone's key-signing keys (KSK-2017, tag 20326, and KSK-2024, tag 38696),
    /// as shipped by hickory-proto.
    pub fn root() -> TrustAnchor {
        let anchors = TrustAnchors::default();
        let keys = (0..anchors.len())
            .filter_map(|i| anchors.get(i).cloned())
            .collect();
        TrustAnchor {
            zone: Name::root(),
            ds: Vec::new(),
            keys,
            label: "the root zone's keys (KSK-2017, KSK-2024)".into(),
        }
    }

    /// Reads DS and DNSKEY records in master-file form (owner names fully qualified),
    /// all for one zone. hickory's zone parser refuses DNSKEY records, so those lines go
    /// through its trust-anchor parser and the rest through the zone parser.
    pub fn parse(text: &str) -> Result<TrustAnchor, AnchorError> {
        let is_dnskey = |line: &str| {
            line.split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("DNSKEY"))
        };
        let dnskey_text: String = text
            .lines()
            .filter(|l| is_dnskey(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let other_text: String = text
            .lines()
            .filter(|l| !is_dnskey(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut zone: Option<Name> = None;
        let mut note = |name: &Name| -> Result<(), AnchorError> {
            match &zone {
                Some(z) if z != name => {
                    Err(AnchorError::SeveralZones(z.to_string(), name.to_string()))
                }
                _ => {
                    zone = Some(name.clone());
                    Ok(())
                }
            }
        };
        let mut ds = Vec::new();
        let mut keys = Vec::new();
        if !dnskey_text.trim().is_empty() {
            let entries = hickory_proto::serialize::txt::trust_anchor::Parser::new(dnskey_text)
                .parse()
                .map_err(|e| AnchorError::Syntax(e.to_string()))?;
            for entry in entries {
                let hickory_proto::serialize::txt::trust_anchor::Entry::DNSKEY(r) = entry else {
                    continue;
                };
                note(r.name())?;
                keys.push(r.data().public_key().clone());
            }
        }
        if !other_text.trim().is_empty() {
            let (_, records) = Parser::new(other_text.as_str(), None, Some(Name::root()))
                .parse()
                .map_err(|e| AnchorError::Syntax(e.to_string()))?;
            for set in records.values() {
                for r in set.records_without_rrsigs() {
                    if let RData::DNSSEC(DNSSECRData::DS(d)) = &r.data {
                        note(&r.name)?;
                        ds.push(d.clone());
                    }
                }
            }
        }
        let zone = zone.ok_or(AnchorError::Empty)?;
        let label = format!("the configured anchor for {}", name_text(&zone));
        Ok(TrustAnchor {
            zone,
            ds,
            keys,
            label,
        })
    }

    /// The anchor's zone, in observation form (`.` for the root).
    pub fn zone(&self) -> String {
        name_text(&self.zone)
    }
}

/// Why a walk stopped early.
enum Stop {
    Outcome(ChainOutcome),
}

impl From<ChainOutcome> for Stop {
    fn from(o: ChainOutcome) -> Self {
        Stop::Outcome(o)
    }
}

struct Walk<'a> {
    net: &'a Net,
    verified: &'a Verified,
    now: u32,
    work: usize,
    zones: Vec<ZoneSeen>,
}

/// An owner name and the RRset a remembered signature was verified over.
type SignedSet = (Name, Vec<Record>);

/// Most signatures [`Verified`] remembers.
const MAX_VERIFIED: usize = 4096;

/// Signatures already checked in this scan: which RRSIG by which key verified over which
/// RRset. Every domain of a scan walks down through the same root, top-level and parent
/// zones, and a signature check is the costly step of a walk (an ECDSA or RSA
/// verification); the replies themselves are already remembered by ward-net, so the same
/// signature over the same records comes back again and again.
///
/// Only successes are kept, keyed by the signature and key and compared on the whole
/// RRset, so a different RRset under the same signature is checked afresh. Times are not
/// part of it: inception and expiry are checked against the scan time on every use.
#[derive(Debug, Default)]
pub struct Verified {
    map: std::sync::Mutex<HashMap<(RRSIG, DNSKEY), Vec<SignedSet>>>,
}

impl Verified {
    fn knows(&self, sig: &RRSIG, key: &DNSKEY, owner: &Name, rrset: &[&Record]) -> bool {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(sig.clone(), key.clone())).is_some_and(|seen| {
            seen.iter().any(|(o, set)| {
                o == owner
                    && set.len() == rrset.len()
                    && set.iter().zip(rrset).all(|(a, b)| a == *b)
            })
        })
    }

    fn remember(&self, sig: &RRSIG, key: &DNSKEY, owner: &Name, rrset: &[&Record]) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() < MAX_VERIFIED {
            map.entry((sig.clone(), key.clone()))
                .or_default()
                .push((owner.clone(), rrset.iter().map(|r| (*r).clone()).collect()));
        }
    }
}

/// Walks the chain of trust from `anchor` to `name`/`rtype` at time `at`.
pub async fn walk(
    net: &Net,
    anchor: &TrustAnchor,
    name: &str,
    rtype: &str,
    at: OffsetDateTime,
) -> DnssecChain {
    walk_remembering(net, anchor, &Verified::default(), name, rtype, at).await
}

/// As [`walk`], skipping the signature checks `verified` has seen succeed (and adding
/// the ones it makes): share one [`Verified`] across a scan.
pub async fn walk_remembering(
    net: &Net,
    anchor: &TrustAnchor,
    verified: &Verified,
    name: &str,
    rtype: &str,
    at: OffsetDateTime,
) -> DnssecChain {
    let name = normalise(name);
    let now = u32::try_from(at.unix_timestamp()).unwrap_or(u32::MAX);
    let mut w = Walk {
        net,
        verified,
        now,
        work: 0,
        zones: Vec::new(),
    };
    let outcome = match w.run(anchor, &name, rtype).await {
        Ok(o) | Err(Stop::Outcome(o)) => o,
    };
    DnssecChain {
        name,
        rtype: rtype.to_owned(),
        anchor: anchor.label.clone(),
        zones: w.zones,
        outcome,
    }
}

fn bogus(zone: &Name, link: BrokenLink, detail: impl Into<String>) -> Stop {
    Stop::Outcome(ChainOutcome::Bogus {
        zone: name_text(zone),
        link,
        detail: detail.into(),
    })
}

fn dnskeys(records: &[Record]) -> Vec<&DNSKEY> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
            _ => None,
        })
        .collect()
}

fn key_tag(k: &DNSKEY) -> u16 {
    k.calculate_key_tag().unwrap_or(0)
}

fn ds_seen(ds: &DS) -> DsSeen {
    DsSeen {
        key_tag: ds.key_tag(),
        algorithm: u8::from(ds.algorithm()),
        digest_type: u8::from(ds.digest_type()),
    }
}

fn key_seen(k: &DNSKEY) -> DnskeySeen {
    DnskeySeen {
        key_tag: key_tag(k),
        algorithm: u8::from(k.algorithm()),
        flags: k.flags(),
    }
}

impl Walk<'_> {
    async fn fetch(
        &self,
        name: &Name,
        rtype: RecordType,
    ) -> Result<std::sync::Arc<SignedReply>, Stop> {
        let n = name_text(name);
        let t = rtype.to_string();
        self.net
            .resolve_signed(&n, &t)
            .await
            .map_err(|failure: DnsFailure| {
                Stop::Outcome(ChainOutcome::Failed {
                    name: n,
                    rtype: t,
                    failure,
                })
            })
    }

    fn spend(&mut self, zone: &Name) -> Result<(), Stop> {
        self.work += 1;
        if self.work > MAX_VERIFICATIONS {
            return Err(bogus(
                zone,
                BrokenLink::TooMuchWork,
                format!("more than {MAX_VERIFICATIONS} signature checks"),
            ));
        }
        Ok(())
    }

    async fn run(
        &mut self,
        anchor: &TrustAnchor,
        name: &str,
        rtype: &str,
    ) -> Result<ChainOutcome, Stop> {
        let qname = Name::from_str(&format!("{name}.")).map_err(|e| {
            Stop::Outcome(ChainOutcome::Failed {
                name: name.to_owned(),
                rtype: rtype.to_owned(),
                failure: DnsFailure::Malformed {
                    detail: format!("bad name: {e}"),
                },
            })
        })?;
        let qtype = RecordType::from_str(rtype).map_err(|_| {
            Stop::Outcome(ChainOutcome::Failed {
                name: name.to_owned(),
                rtype: rtype.to_owned(),
                failure: DnsFailure::Malformed {
                    detail: format!("unknown record type `{rtype}`"),
                },
            })
        })?;
        if !anchor.zone.zone_of(&qname) {
            let records = self.final_records(&qname, qtype).await?;
            return Ok(ChainOutcome::Insecure {
                zone: name_text(&qname),
                detail: format!("{name} is outside {}", anchor.label),
                records,
            });
        }
        let mut zone = anchor.zone.clone();
        // No keys for the anchor's zone, or keys without any signature: the resolver does
        // not pass DNSSEC data on (or the anchor is for another namespace). Could not
        // tell, never "bogus" for every domain scanned.
        let anchor_keys = self.fetch(&zone, RecordType::DNSKEY).await?;
        let signed = anchor_keys
            .records()
            .iter()
            .any(|r| matches!(&r.data, RData::DNSSEC(DNSSECRData::RRSIG(_))));
        if dnskeys(anchor_keys.records()).is_empty() || !signed {
            return Ok(ChainOutcome::NoAnchor {
                zone: name_text(&zone),
            });
        }
        let anchor_ds: Vec<&DS> = anchor.ds.iter().collect();
        let mut keys = self
            .zone_keys(&zone, &anchor_ds, &anchor.keys, None)
            .await?;
        let target = usize::from(qname.num_labels());
        let mut depth = usize::from(zone.num_labels());
        if target - depth > MAX_LABELS {
            return Err(bogus(
                &zone,
                BrokenLink::TooMuchWork,
                format!(
                    "{name} is more than {MAX_LABELS} labels below {}",
                    name_text(&zone)
                ),
            ));
        }
        while depth < target {
            depth += 1;
            let child = qname.trim_to(depth);
            let reply = self.fetch(&child, RecordType::DS).await?;
            match &*reply {
                SignedReply::Answer { records } => {
                    if self.zones.len() >= MAX_ZONES {
                        return Err(bogus(
                            &child,
                            BrokenLink::TooMuchWork,
                            format!("more than {MAX_ZONES} zones"),
                        ));
                    }
                    let sig = self.verify_rrset(&zone, &keys, &child, RecordType::DS, records)?;
                    let ds: Vec<&DS> = records
                        .iter()
                        .filter_map(|r| match &r.data {
                            RData::DNSSEC(DNSSECRData::DS(d)) => Some(d),
                            _ => None,
                        })
                        .take(MAX_KEYS)
                        .collect();
                    keys = self.zone_keys(&child, &ds, &[], Some(sig)).await?;
                    zone = child;
                }
                // NXDOMAIN for DS: either nothing is there, or (as in the lab, whose
                // parents hold no delegation NS records) the parent does not know the
                // child. The SOA question below tells the two apart.
                SignedReply::NxDomain | SignedReply::NoData => {
                    let nx = matches!(&*reply, SignedReply::NxDomain);
                    let soa = self.fetch(&child, RecordType::SOA).await?;
                    let apex = soa
                        .records()
                        .iter()
                        .any(|r| r.record_type() == RecordType::SOA);
                    if apex {
                        // An unsigned delegation: note any DNSKEYs (a zone signed but
                        // never linked to its parent) and stop.
                        let keys = match self.fetch(&child, RecordType::DNSKEY).await {
                            Ok(r) => dnskeys(r.records())
                                .into_iter()
                                .take(MAX_KEYS)
                                .map(key_seen)
                                .collect(),
                            Err(_) => Vec::new(),
                        };
                        self.zones.push(ZoneSeen {
                            zone: name_text(&child),
                            ds: Vec::new(),
                            dnskeys: keys,
                            signatures: Vec::new(),
                        });
                        let records = self.final_records(&qname, qtype).await?;
                        return Ok(ChainOutcome::Insecure {
                            zone: name_text(&child),
                            detail: format!(
                                "{} is delegated without a DS record at {}",
                                name_text(&child),
                                name_text(&zone)
                            ),
                            records,
                        });
                    }
                    if nx && matches!(&*soa, SignedReply::NxDomain) {
                        break;
                    }
                }
            }
        }
        let reply = self.fetch(&qname, qtype).await?;
        match &*reply {
            SignedReply::Answer { records } => {
                let signature = self.verify_rrset(&zone, &keys, &qname, qtype, records)?;
                Ok(ChainOutcome::Secure {
                    records: records
                        .iter()
                        .filter(|r| r.record_type() == qtype)
                        .map(to_record)
                        .collect(),
                    signature,
                })
            }
            SignedReply::NoData => Ok(ChainOutcome::Absent {
                nxdomain: false,
                signed_zone: true,
            }),
            SignedReply::NxDomain => Ok(ChainOutcome::Absent {
                nxdomain: true,
                signed_zone: true,
            }),
        }
    }

    /// The records of the final question when they cannot be validated.
    async fn final_records(
        &self,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Vec<ward_model::DnsRecord>, Stop> {
        let reply = self.fetch(qname, qtype).await?;
        Ok(reply
            .records()
            .iter()
            .filter(|r| r.record_type() == qtype)
            .map(to_record)
            .collect())
    }

    /// Fetches `zone`'s DNSKEY set, finds the keys the DS records (or anchor keys) name,
    /// and checks the set is signed by one of them. Returns the zone's keys.
    async fn zone_keys(
        &mut self,
        zone: &Name,
        ds: &[&DS],
        anchor_keys: &[PublicKeyBuf],
        ds_sig: Option<SigSeen>,
    ) -> Result<Vec<DNSKEY>, Stop> {
        let reply = self.fetch(zone, RecordType::DNSKEY).await?;
        let records = reply.records();
        let all = dnskeys(records);
        let too_many = all.len() > MAX_KEYS;
        let keys: Vec<&DNSKEY> = all.into_iter().take(MAX_KEYS).collect();
        self.zones.push(ZoneSeen {
            zone: name_text(zone),
            ds: ds.iter().map(|d| ds_seen(d)).collect(),
            dnskeys: keys.iter().map(|k| key_seen(k)).collect(),
            signatures: ds_sig.into_iter().collect(),
        });
        if too_many {
            return Err(bogus(
                zone,
                BrokenLink::TooMuchWork,
                format!("more than {MAX_KEYS} DNSKEY records"),
            ));
        }
        if keys.is_empty() {
            return Err(bogus(
                zone,
                BrokenLink::NoDnskey,
                format!("{} serves no DNSKEY records", name_text(zone)),
            ));
        }
        let usable: Vec<&&DS> = ds
            .iter()
            .filter(|d| d.algorithm().is_supported() && d.digest_type().is_supported())
            .collect();
        if !ds.is_empty() && usable.is_empty() && anchor_keys.is_empty() {
            let algs: Vec<String> = ds
                .iter()
                .map(|d| {
                    format!(
                        "algorithm {} digest {}",
                        u8::from(d.algorithm()),
                        u8::from(d.digest_type())
                    )
                })
                .collect();
            return Err(Stop::Outcome(ChainOutcome::Insecure {
                zone: name_text(zone),
                detail: format!(
                    "the DS records of {} use only algorithms ward cannot check ({})",
                    name_text(zone),
                    algs.join(", ")
                ),
                records: Vec::new(),
            }));
        }
        let mut entry = Vec::new();
        for k in &keys {
            let pk = k.public_key();
            if anchor_keys
                .iter()
                .any(|a| a.algorithm() == pk.algorithm() && a.public_bytes() == pk.public_bytes())
            {
                entry.push((*k).clone());
                continue;
            }
            for d in &usable {
                if d.key_tag() != key_tag(k) || d.algorithm() != k.algorithm() {
                    continue;
                }
                self.spend(zone)?;
                if d.covers(zone, k).unwrap_or(false) {
                    entry.push((*k).clone());
                    break;
                }
            }
        }
        if entry.is_empty() {
            let ds_text: Vec<String> = ds
                .iter()
                .map(|d| {
                    format!(
                        "{} (algorithm {}, digest type {})",
                        d.key_tag(),
                        u8::from(d.algorithm()),
                        u8::from(d.digest_type())
                    )
                })
                .collect();
            let key_text: Vec<String> = keys.iter().map(|k| key_tag(k).to_string()).collect();
            let detail = if ds.is_empty() {
                format!(
                    "no DNSKEY of {} is a trust anchor key (keys: {})",
                    name_text(zone),
                    key_text.join(", ")
                )
            } else {
                format!(
                    "DS {} at the parent of {} matches none of its DNSKEYs ({})",
                    ds_text.join(", "),
                    name_text(zone),
                    key_text.join(", ")
                )
            };
            return Err(bogus(zone, BrokenLink::DsMismatch, detail));
        }
        let sig = self.verify_rrset(zone, &entry, zone, RecordType::DNSKEY, records)?;
        if let Some(z) = self.zones.last_mut() {
            z.signatures.push(sig);
        }
        Ok(keys
            .into_iter()
            .filter(|k| k.zone_key() && !k.revoke())
            .cloned()
            .collect())
    }

    /// Checks that `owner`/`rtype` in `records` is signed by one of `keys` of `zone`.
    fn verify_rrset(
        &mut self,
        zone: &Name,
        keys: &[DNSKEY],
        owner: &Name,
        rtype: RecordType,
        records: &[Record],
    ) -> Result<SigSeen, Stop> {
        let rrset: Vec<&Record> = records
            .iter()
            .filter(|r| r.record_type() == rtype)
            .collect();
        let sigs: Vec<&RRSIG> = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s),
                _ => None,
            })
            .filter(|s| s.input().type_covered == rtype)
            .collect();
        let what = format!("{} {rtype}", name_text(owner));
        if sigs.is_empty() {
            return Err(bogus(
                zone,
                BrokenLink::MissingRrsig,
                format!("{what} came without an RRSIG"),
            ));
        }
        // The most telling failure seen, if none verifies.
        let mut worst: Option<(u8, BrokenLink, String)> = None;
        let mut note = |rank: u8, link: BrokenLink, detail: String| {
            if worst.as_ref().is_none_or(|(r, ..)| rank > *r) {
                worst = Some((rank, link, detail));
            }
        };
        for sig in sigs.iter().take(MAX_SIGS_PER_SET) {
            let input = sig.input();
            let seen = SigSeen {
                name: name_text(owner),
                covers: rtype.to_string(),
                key_tag: input.key_tag,
                algorithm: u8::from(input.algorithm),
                signer: name_text(&input.signer_name),
                inception: i64::from(input.sig_inception.get()),
                expiration: i64::from(input.sig_expiration.get()),
            };
            if input.signer_name.to_lowercase() != zone.to_lowercase() {
                note(
                    0,
                    BrokenLink::MissingRrsig,
                    format!(
                        "{what} is signed by {}, not by {}",
                        seen.signer,
                        name_text(zone)
                    ),
                );
                continue;
            }
            let candidates: Vec<&DNSKEY> = keys
                .iter()
                .filter(|k| key_tag(k) == input.key_tag && k.algorithm() == input.algorithm)
                .collect();
            if candidates.is_empty() {
                note(
                    1,
                    BrokenLink::UnknownKey,
                    format!(
                        "the RRSIG over {what} names key {} (algorithm {}), which {} does not publish",
                        input.key_tag,
                        seen.algorithm,
                        name_text(zone)
                    ),
                );
                continue;
            }
            for key in candidates {
                if !key.algorithm().is_supported() {
                    note(
                        1,
                        BrokenLink::UnknownKey,
                        format!(
                            "key {} uses algorithm {}, which ward cannot check",
                            input.key_tag, seen.algorithm
                        ),
                    );
                    continue;
                }
                self.spend(zone)?;
                let known = self.verified.knows(sig, key, owner, &rrset);
                if !known
                    && key
                        .verify_rrsig(owner, DNSClass::IN, sig, rrset.iter().copied())
                        .is_err()
                {
                    note(
                        2,
                        BrokenLink::BadSignature,
                        format!(
                            "the RRSIG over {what} by key {} does not verify",
                            input.key_tag
                        ),
                    );
                    continue;
                }
                if !known {
                    self.verified.remember(sig, key, owner, &rrset);
                }
                if self.now > input.sig_expiration.get() {
                    note(
                        3,
                        BrokenLink::ExpiredRrsig,
                        format!(
                            "the RRSIG over {what} by key {} expired at {} (scan time {})",
                            input.key_tag,
                            stamp(seen.expiration),
                            stamp(i64::from(self.now))
                        ),
                    );
                    continue;
                }
                if self.now < input.sig_inception.get() {
                    note(
                        3,
                        BrokenLink::FutureRrsig,
                        format!(
                            "the RRSIG over {what} by key {} is valid only from {}",
                            input.key_tag,
                            stamp(seen.inception)
                        ),
                    );
                    continue;
                }
                return Ok(seen);
            }
        }
        let (_, link, detail) = worst.unwrap_or((
            0,
            BrokenLink::MissingRrsig,
            format!("{what} has no usable RRSIG"),
        ));
        Err(bogus(zone, link, detail))
    }
}

fn stamp(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}
