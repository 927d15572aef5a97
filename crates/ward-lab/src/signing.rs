//! DNSSEC for lab zones: keys made at start, zones signed before they are served.
//!
//! A fixture marks a zone for signing in `dns.toml` (`[[signed]]`, see [`Signed`]). At
//! start every such zone gets one fresh key (a combined key-signing and zone-signing key,
//! flags 257); nothing secret is written anywhere, and the keys die with the lab. Its
//! DNSKEY goes in the zone, a DS record for it goes in the closest enclosing lab zone,
//! and every RRset is signed. A signed zone with no signed lab zone above it is a *trust
//! anchor*: [`crate::Lab::trust_anchor`] gives its DS records for `ward --trust-anchor`.
//!
//! Algorithms: 13 (ECDSA P-256/SHA-256) and 15 (Ed25519) through hickory-proto, and 5
//! (RSA/SHA-1, deprecated for signing by RFC 9905) through the pure-Rust `rsa` crate,
//! since hickory refuses to sign with it. Faults ([`Fault`]) break one link on purpose.

use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey};
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG, SigInput};
use hickory_proto::dnssec::{
    Algorithm, DigestType, DnsSecError, DnsSecResult, PublicKeyBuf, SigningKey, TBS, Verifier,
};
use hickory_proto::rr::SerialNumber;
use hickory_proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How a signed zone is broken on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The DS record at the parent carries a wrong digest (a key rollover gone wrong).
    DsMismatch,
    /// Every signature expired yesterday (the signer stopped running).
    Expired,
    /// The SOA and address records carry no RRSIG.
    MissingRrsig,
    /// No DS record at the parent: signed, but not linked into the chain.
    NoDs,
    /// A DS record at the parent, but the zone serves no DNSKEY and no signatures (the
    /// DNS host was changed and the new one does not sign).
    NoDnskey,
    /// The DNSKEY is published but nothing is signed, not even the DNSKEY set: what a
    /// resolver that strips signatures hands over.
    NoSignatures,
}

/// A zone the lab signs: `[[signed]]` in `dns.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The zone's origin.
    pub zone: String,
    /// DNSSEC algorithm number: 13 (the default), 15 or 5.
    #[serde(default = "default_algorithm")]
    pub algorithm: u8,
    /// DS digest type at the parent: 2 SHA-256 (the default), 1 SHA-1 or 4 SHA-384.
    #[serde(default = "default_digest")]
    pub ds_digest: u8,
    /// A deliberate break, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// An extra zone key (flags 256) with this algorithm number and random key bytes,
    /// never used to sign: what a rollover that forgot to remove the old key leaves
    /// behind. It lets the lab show algorithms it cannot sign with (1, 3, 6, 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_key: Option<u8>,
    /// This many more unused zone keys (algorithm 13, random bytes): a hostile DNSKEY set
    /// for testing ward's work limits. Default 0, at most 1,000.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_keys: u16,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// Most extra keys a fixture may ask for.
const MAX_EXTRA_KEYS: u16 = 1000;

fn default_algorithm() -> u8 {
    13
}
fn default_digest() -> u8 {
    2
}

impl Signed {
    /// A zone signed with the defaults and no fault.
    pub fn new(zone: &str) -> Signed {
        Signed {
            zone: zone.to_owned(),
            algorithm: default_algorithm(),
            ds_digest: default_digest(),
            fault: None,
            stale_key: None,
            extra_keys: 0,
        }
    }
}

/// How long signatures last (from an hour before the lab starts).
const VALIDITY: time::Duration = time::Duration::days(14);
/// TTL of the records the lab adds (DNSKEY, DS).
const KEY_TTL: u32 = 3600;

/// A zone's key, made at lab start.
pub(crate) struct ZoneKey {
    pub origin: Name,
    pub spec: Signed,
    key: Box<dyn SigningKey>,
    pub dnskey: DNSKEY,
    pub tag: u16,
}

impl ZoneKey {
    /// Makes a fresh key for `spec`.
    pub fn generate(origin: Name, spec: &Signed) -> Result<ZoneKey, String> {
        let key: Box<dyn SigningKey> = match spec.algorithm {
            13 => {
                let der = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256)
                    .map_err(|e| e.to_string())?;
                Box::new(
                    EcdsaSigningKey::from_pkcs8(&der, Algorithm::ECDSAP256SHA256)
                        .map_err(|e| e.to_string())?,
                )
            }
            15 => {
                let der = Ed25519SigningKey::generate_pkcs8().map_err(|e| e.to_string())?;
                Box::new(Ed25519SigningKey::from_pkcs8(&der).map_err(|e| e.to_string())?)
            }
            5 => Box::new(RsaSha1Key::generate()?),
            other => {
                return Err(format!(
                    "{}: the lab signs with algorithm 13, 15 or 5, not {other}",
                    spec.zone
                ));
            }
        };
        let public = key.to_public_key().map_err(|e| e.to_string())?;
        let dnskey = DNSKEY::with_flags(257, public);
        let tag = dnskey.calculate_key_tag().map_err(|e| e.to_string())?;
        Ok(ZoneKey {
            origin,
            spec: spec.clone(),
            key,
            dnskey,
            tag,
        })
    }

    /// The DS record for this key as its parent publishes it (wrong on purpose for
    /// [`Fault::DsMismatch`]).
    pub fn ds(&self) -> Result<DS, String> {
        let digest_type = DigestType::from(self.spec.ds_digest);
        let mut digest = self
            .dnskey
            .to_digest(&self.origin, digest_type)
            .map_err(|e| {
                format!(
                    "{}: DS digest type {}: {e}",
                    self.spec.zone, self.spec.ds_digest
                )
            })?
            .as_ref()
            .to_vec();
        if self.spec.fault == Some(Fault::DsMismatch)
            && let Some(b) = digest.first_mut()
        {
            *b ^= 0xff;
        }
        Ok(DS::new(
            self.tag,
            self.dnskey.algorithm(),
            digest_type,
            digest,
        ))
    }

    /// The DS record in master-file form.
    pub fn ds_line(&self) -> Result<String, String> {
        Ok(format!("{} {KEY_TTL} IN DS {}", self.origin, self.ds()?))
    }

    /// Adds the DNSKEY to `records` and signs every RRset.
    pub fn sign(
        &self,
        records: &mut BTreeMap<RrKey, RecordSet>,
        now: OffsetDateTime,
    ) -> Result<(), String> {
        if self.spec.fault == Some(Fault::NoDnskey) {
            return Ok(());
        }
        let rr = Record::from_rdata(
            self.origin.clone(),
            KEY_TTL,
            RData::DNSSEC(DNSSECRData::DNSKEY(self.dnskey.clone())),
        );
        insert(records, rr);
        let stale = self.spec.stale_key.into_iter().chain(std::iter::repeat_n(
            13,
            usize::from(self.spec.extra_keys.min(MAX_EXTRA_KEYS)),
        ));
        for alg in stale {
            let mut bytes = vec![3, 1, 0, 1];
            bytes.extend((0..64).map(|_| rand_byte()));
            let key = DNSKEY::with_flags(256, PublicKeyBuf::new(bytes, Algorithm::from_u8(alg)));
            insert(
                records,
                Record::from_rdata(
                    self.origin.clone(),
                    KEY_TTL,
                    RData::DNSSEC(DNSSECRData::DNSKEY(key)),
                ),
            );
        }
        if self.spec.fault == Some(Fault::NoSignatures) {
            return Ok(());
        }
        let (inception, expiration) = match self.spec.fault {
            Some(Fault::Expired) => (
                now - time::Duration::days(30),
                now - time::Duration::days(1),
            ),
            _ => (now - time::Duration::hours(1), now + VALIDITY),
        };
        for set in records.values_mut() {
            set.clear_rrsigs();
            let rtype = set.record_type();
            if self.spec.fault == Some(Fault::MissingRrsig)
                && matches!(rtype, RecordType::SOA | RecordType::A | RecordType::AAAA)
            {
                continue;
            }
            let name = set.name().clone();
            let input = SigInput {
                type_covered: rtype,
                algorithm: self.key.algorithm(),
                num_labels: name.num_labels(),
                original_ttl: set.ttl(),
                sig_expiration: SerialNumber::new(stamp(expiration)),
                sig_inception: SerialNumber::new(stamp(inception)),
                key_tag: self.tag,
                signer_name: self.origin.clone(),
            };
            let tbs = TBS::from_input(&name, DNSClass::IN, &input, set.records_without_rrsigs())
                .map_err(|e| format!("{}: {e}", self.spec.zone))?;
            let sig = self
                .key
                .sign(&tbs)
                .map_err(|e| format!("{}: signing: {e}", self.spec.zone))?;
            let ttl = set.ttl();
            set.insert_rrsig(Record::from_rdata(
                name,
                ttl,
                RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, sig))),
            ));
        }
        Ok(())
    }
}

/// One random byte (key material that is never used, so any source does).
fn rand_byte() -> u8 {
    use rsa::rand_core::RngCore;
    let mut b = [0u8; 1];
    rsa::rand_core::OsRng.fill_bytes(&mut b);
    b[0]
}

fn stamp(t: OffsetDateTime) -> u32 {
    u32::try_from(t.unix_timestamp()).unwrap_or(0)
}

/// Adds `rr` to its RRset in `records`.
pub(crate) fn insert(records: &mut BTreeMap<RrKey, RecordSet>, rr: Record) {
    let key = RrKey::new(LowerName::from(&rr.name), rr.record_type());
    let set = records
        .entry(key)
        .or_insert_with(|| RecordSet::with_ttl(rr.name.clone(), rr.record_type(), rr.ttl));
    set.insert(rr, 0);
}

/// RSA/SHA-1 (algorithm 5), which hickory-proto will verify but not sign with: the lab
/// needs it to show a zone signed with a deprecated algorithm. 1024-bit keys keep start
/// quick; lab only.
struct RsaSha1Key {
    key: rsa::RsaPrivateKey,
}

/// DER DigestInfo prefix for SHA-1 (RFC 8017 §9.2, note 1).
const SHA1_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

impl RsaSha1Key {
    fn generate() -> Result<RsaSha1Key, String> {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).map_err(|e| e.to_string())?;
        Ok(RsaSha1Key { key })
    }
}

impl SigningKey for RsaSha1Key {
    fn sign(&self, tbs: &TBS) -> DnsSecResult<Vec<u8>> {
        let hash = hickory_proto::dnssec::crypto::Digest::new(tbs.as_ref(), DigestType::SHA1)
            .map_err(|e| DnsSecError::from(e.to_string()))?;
        let mut msg = SHA1_PREFIX.to_vec();
        msg.extend_from_slice(hash.as_ref());
        self.key
            .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &msg)
            .map_err(|e| DnsSecError::from(e.to_string()))
    }

    fn to_public_key(&self) -> DnsSecResult<PublicKeyBuf> {
        use rsa::traits::PublicKeyParts;
        // RFC 3110 §2: exponent length, exponent, modulus.
        let e = self.key.e().to_bytes_be();
        let n = self.key.n().to_bytes_be();
        let mut buf = Vec::with_capacity(1 + e.len() + n.len());
        buf.push(u8::try_from(e.len()).map_err(|_| DnsSecError::from("exponent too long"))?);
        buf.extend_from_slice(&e);
        buf.extend_from_slice(&n);
        Ok(PublicKeyBuf::new(buf, self.algorithm()))
    }

    fn algorithm(&self) -> Algorithm {
        #[allow(deprecated)]
        Algorithm::RSASHA1
    }
}
