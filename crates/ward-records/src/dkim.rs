//! DKIM key records (`selector._domainkey.example.org` TXT), RFC 6376 §3.6.1 and RFC 8463.
//!
//! The grammar this module follows (RFC 6376 §3.6.1, trimmed to the tags a key record has):
//!
//! ```text
//! key-v-tag    = %x76 [FWS] "=" [FWS] %x44.4B.49.4D.31          ; "DKIM1"
//! key-h-tag    = %x68 [FWS] "=" [FWS] key-h-tag-alg *( [FWS] ":" [FWS] key-h-tag-alg )
//! key-h-tag-alg = "sha1" / "sha256" / x-key-h-tag-alg
//! key-k-tag    = %x6b [FWS] "=" [FWS] key-k-tag-type           ; "rsa" / "ed25519" (RFC 8463)
//! key-n-tag    = %x6e [FWS] "=" [FWS] qp-section
//! key-p-tag    = %x70 [FWS] "=" [ [FWS] base64string ]
//! key-s-tag    = %x73 [FWS] "=" [FWS] key-s-tag-type *( [FWS] ":" [FWS] key-s-tag-type )
//! key-s-tag-type = "email" / "*" / x-key-s-tag-type
//! key-t-tag    = %x74 [FWS] "=" [FWS] key-t-tag-flag *( [FWS] ":" [FWS] key-t-tag-flag )
//! key-t-tag-flag = "y" / "s" / x-key-t-tag-flag
//! ```
//!
//! and the tag-list syntax of RFC 6376 §3.2 (`tag-list = tag-spec *( ";" tag-spec ) [ ";" ]`,
//! `tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]`), which DMARC, MTA-STS,
//! TLS-RPT and BIMI borrow; the splitter for it lives in [`crate::tag_list`].
//!
//! `v`, when present, MUST be first (§3.6.1). An empty `p=` means the key was revoked: that is
//! a state, not an error, and is what a domain that sends no mail should publish. For RSA the
//! key is decoded to its modulus size with a small bounded DER reader that accepts both
//! SubjectPublicKeyInfo (what RFC 6376 specifies) and a bare PKCS#1 `RSAPublicKey` (which
//! several verifiers accept). Ed25519 keys (RFC 8463 §4) are the raw 32 bytes.
#![deny(missing_docs)]

use base64::Engine as _;
use serde::Serialize;

use crate::tag_list::{self, Blanks, Bounds, Case, Grammar, TagListError, Words};

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest record accepted, in bytes. Default 8192 (a 4096-bit RSA key is ~740 bytes).
    pub max_bytes: usize,
    /// Most `;`-separated terms accepted. Default 32.
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8192,
            max_terms: 32,
        }
    }
}

/// The key type (`k=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KeyType {
    /// `rsa` (the default when `k=` is absent).
    Rsa,
    /// `ed25519` (RFC 8463).
    Ed25519,
}

/// A hash algorithm named in `h=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HashAlg {
    /// `sha1` (RFC 8301: MUST NOT be used for signing).
    Sha1,
    /// `sha256`.
    Sha256,
    /// Anything else, kept as written (ignored by verifiers).
    Unknown(String),
}

/// A flag in `t=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Flag {
    /// `y`: the domain is testing DKIM.
    Testing,
    /// `s`: `i=` must not be a subdomain of `d=`.
    SameDomain,
    /// Anything else, kept as written (verifiers ignore unknown flags).
    Unknown(String),
}

/// A service type in `s=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Service {
    /// `*`: all services.
    All,
    /// `email`.
    Email,
    /// Anything else, kept as written.
    Unknown(String),
}

/// How an RSA key was encoded in `p=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RsaEncoding {
    /// SubjectPublicKeyInfo, as RFC 6376 §3.6.1 specifies.
    Spki,
    /// A bare PKCS#1 `RSAPublicKey` (not what the RFC says; many verifiers accept it).
    Pkcs1,
}

/// The public key (`p=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PublicKey {
    /// `p=` is empty: the key has been revoked (RFC 6376 §3.6.1).
    Revoked,
    /// An RSA key.
    Rsa {
        /// Bit length of the modulus.
        bits: u32,
        /// The public exponent, when it fits in 64 bits.
        exponent: Option<u64>,
        /// How it was encoded.
        encoding: RsaEncoding,
    },
    /// An Ed25519 key (RFC 8463 §4: the raw 32-byte public key).
    Ed25519 {
        /// The key bytes.
        key: [u8; 32],
    },
}

/// A tag this parser does not know, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownTag {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Byte position of the name.
    pub at: usize,
}

/// Things worth telling the owner that do not make the record unusable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DkimWarning {
    /// A tag this parser does not know (verifiers ignore it).
    UnknownTag {
        /// Its name.
        tag: String,
        /// Byte position.
        at: usize,
    },
    /// `h=` names no algorithm a verifier knows, so no signature can verify.
    NoKnownHash {
        /// Byte position of the value.
        at: usize,
    },
    /// An unknown entry in `h=` or `t=` (ignored by verifiers).
    UnknownListEntry {
        /// The tag.
        tag: String,
        /// The entry as written.
        entry: String,
        /// Byte position of the entry.
        at: usize,
    },
    /// `s=` does not include `email` or `*`: the key cannot be used for mail.
    NotForEmail {
        /// Byte position of the value.
        at: usize,
    },
    /// An RSA key in PKCS#1 form rather than SubjectPublicKeyInfo.
    Pkcs1Key,
    /// `;` with nothing after it, or empty terms (allowed, noted).
    EmptyTerm {
        /// Byte position.
        at: usize,
    },
}

/// Why a key record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum DkimError {
    /// `v=` present but not first.
    #[error("v= must come first, found at byte {at}")]
    VersionNotFirst {
        /// Position.
        at: usize,
    },
    /// `v=` is not `DKIM1`.
    #[error("v={value:?} at byte {at}, expected DKIM1")]
    BadVersion {
        /// As written.
        value: String,
        /// Position of the value.
        at: usize,
    },
    /// No `p=` tag at all (it is required; an empty one means revoked).
    #[error("no p= tag")]
    MissingKey,
    /// `k=` names a key type verifiers do not know.
    #[error("unknown key type {value:?} at byte {at}")]
    UnknownKeyType {
        /// As written.
        value: String,
        /// Position.
        at: usize,
    },
    /// `p=` is not base64.
    #[error("p= at byte {at} is not valid base64")]
    BadBase64 {
        /// Position of the value.
        at: usize,
    },
    /// The RSA key could not be decoded.
    #[error("RSA key at byte {at}: {problem}")]
    BadRsaKey {
        /// What was wrong.
        problem: DerProblem,
        /// Position of the value.
        at: usize,
    },
    /// An Ed25519 key that is not 32 bytes.
    #[error("Ed25519 key at byte {at} is {len} bytes, not 32")]
    BadEd25519Length {
        /// Decoded length.
        len: usize,
        /// Position of the value.
        at: usize,
    },
    /// `k=rsa` (or none) but `p=` holds a SubjectPublicKeyInfo for another algorithm.
    #[error("p= at byte {at} holds a non-RSA key")]
    KeyTypeMismatch {
        /// Position of the value.
        at: usize,
    },
    /// The tag list could not be split (limits and syntax: RFC 6376 §3.2). A repeated tag
    /// makes the whole list invalid.
    #[error("{}", .0.worded(WORDS))]
    // Untagged, so the JSON in findings reads as before the variant moved here (serde
    // wants untagged variants last).
    #[serde(untagged)]
    TagList(TagListError),
}

/// DKIM's messages say "record has more than N terms"; the rest is RFC 6376's words.
const WORDS: Words = Words {
    more_than: "record has more than",
    ..Words::TAGS
};

/// What was wrong with a DER-encoded RSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum DerProblem {
    /// Ran out of bytes at this offset into the key.
    #[error("truncated at key byte {0}")]
    Truncated(usize),
    /// A tag other than the one the structure needs, at this offset.
    #[error("unexpected DER tag at key byte {0}")]
    UnexpectedTag(usize),
    /// A length form DER forbids (indefinite, or more than 4 length bytes).
    #[error("bad DER length at key byte {0}")]
    BadLength(usize),
    /// Bytes left after the structure ended.
    #[error("trailing bytes at key byte {0}")]
    Trailing(usize),
    /// The modulus is zero or negative.
    #[error("modulus is not a positive integer")]
    BadModulus,
}

/// A parsed DKIM key record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimKey {
    /// The record as received.
    pub raw: String,
    /// Whether `v=DKIM1` was present.
    pub has_version: bool,
    /// `k=` (RSA when absent).
    pub key_type: KeyType,
    /// `h=`, when present.
    pub hashes: Option<Vec<HashAlg>>,
    /// `t=` flags (empty when absent).
    pub flags: Vec<Flag>,
    /// `s=`, when present (absent means `*`).
    pub services: Option<Vec<Service>>,
    /// `n=` as written.
    pub notes: Option<String>,
    /// `p=`.
    pub key: PublicKey,
    /// Tags not defined for key records.
    pub unknown: Vec<UnknownTag>,
    /// Non-fatal observations.
    pub warnings: Vec<DkimWarning>,
}

impl DkimKey {
    /// Whether `t=y` is set.
    pub fn testing(&self) -> bool {
        self.flags.contains(&Flag::Testing)
    }
    /// Whether the key may sign with `hash` (true when `h=` is absent).
    pub fn allows(&self, hash: &HashAlg) -> bool {
        self.hashes.as_ref().is_none_or(|h| h.contains(hash))
    }
}

/// Splits a `:`-separated value into its non-empty entries, each with its byte position
/// in the record (`base` is the value's position).
fn split_list(value: &str, base: usize) -> impl Iterator<Item = (&str, usize)> {
    let mut offset = base;
    value.split(':').filter_map(move |piece| {
        let lead = piece.len()
            - piece
                .trim_start_matches(|c| Blanks::Fws.is_blank_char(c))
                .len();
        let at = offset + lead;
        offset += piece.len() + 1;
        let entry = piece.trim_matches(|c| Blanks::Fws.is_blank_char(c));
        (!entry.is_empty()).then_some((entry, at))
    })
}

/// Parses a DKIM key record.
///
/// ```
/// use ward_records::dkim::{parse, Limits, PublicKey};
/// let k = parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
///               &Limits::default()).unwrap();
/// assert!(matches!(k.key, PublicKey::Ed25519 { .. }));
/// ```
pub fn parse(text: &str, limits: &Limits) -> Result<DkimKey, DkimError> {
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_terms: limits.max_terms,
    };
    let list = tag_list::split(text, &Grammar::TAGS, bounds).map_err(DkimError::TagList)?;
    let mut warnings: Vec<DkimWarning> = list
        .empty_terms
        .iter()
        .map(|&at| DkimWarning::EmptyTerm { at })
        .collect();
    list.refuse_repeats(Case::Sensitive)
        .map_err(DkimError::TagList)?;
    let terms = &list.terms;
    let mut out = DkimKey {
        raw: text.into(),
        has_version: false,
        key_type: KeyType::Rsa,
        hashes: None,
        flags: Vec::new(),
        services: None,
        notes: None,
        key: PublicKey::Revoked,
        unknown: Vec::new(),
        warnings: Vec::new(),
    };
    let mut p: Option<(&str, usize)> = None;
    for (i, t) in terms.iter().enumerate() {
        match t.name {
            "v" => {
                if i != 0 {
                    return Err(DkimError::VersionNotFirst { at: t.name_at });
                }
                if t.value != "DKIM1" {
                    return Err(DkimError::BadVersion {
                        value: t.value.into(),
                        at: t.value_at,
                    });
                }
                out.has_version = true;
            }
            "k" => {
                out.key_type = match t.value {
                    "rsa" => KeyType::Rsa,
                    "ed25519" => KeyType::Ed25519,
                    other => {
                        return Err(DkimError::UnknownKeyType {
                            value: other.into(),
                            at: t.value_at,
                        });
                    }
                }
            }
            "h" => {
                let mut list = Vec::new();
                for (h, at) in split_list(t.value, t.value_at) {
                    list.push(match h {
                        "sha1" => HashAlg::Sha1,
                        "sha256" => HashAlg::Sha256,
                        other => {
                            warnings.push(DkimWarning::UnknownListEntry {
                                tag: "h".into(),
                                entry: other.into(),
                                at,
                            });
                            HashAlg::Unknown(other.into())
                        }
                    });
                }
                if !list.iter().any(|h| !matches!(h, HashAlg::Unknown(_))) {
                    warnings.push(DkimWarning::NoKnownHash { at: t.value_at });
                }
                out.hashes = Some(list);
            }
            "t" => {
                for (f, at) in split_list(t.value, t.value_at) {
                    out.flags.push(match f {
                        "y" => Flag::Testing,
                        "s" => Flag::SameDomain,
                        other => {
                            warnings.push(DkimWarning::UnknownListEntry {
                                tag: "t".into(),
                                entry: other.into(),
                                at,
                            });
                            Flag::Unknown(other.into())
                        }
                    });
                }
            }
            "s" => {
                let list: Vec<Service> = split_list(t.value, t.value_at)
                    .map(|(s, _)| match s {
                        "*" => Service::All,
                        "email" => Service::Email,
                        other => Service::Unknown(other.into()),
                    })
                    .collect();
                if !list
                    .iter()
                    .any(|s| matches!(s, Service::All | Service::Email))
                {
                    warnings.push(DkimWarning::NotForEmail { at: t.value_at });
                }
                out.services = Some(list);
            }
            "n" => out.notes = Some(t.value.into()),
            "p" => p = Some((t.value, t.value_at)),
            other => {
                warnings.push(DkimWarning::UnknownTag {
                    tag: other.into(),
                    at: t.name_at,
                });
                out.unknown.push(UnknownTag {
                    name: other.into(),
                    value: t.value.into(),
                    at: t.name_at,
                });
            }
        }
    }
    let (pv, pat) = p.ok_or(DkimError::MissingKey)?;
    out.key = decode_key(pv, pat, &out.key_type, &mut warnings)?;
    out.warnings = warnings;
    Ok(out)
}

fn decode_key(
    value: &str,
    at: usize,
    kind: &KeyType,
    warnings: &mut Vec<DkimWarning>,
) -> Result<PublicKey, DkimError> {
    // base64string = ALPHADIGITPS *([FWS] ALPHADIGITPS) [ [FWS] "=" [ [FWS] "=" ] ]
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Ok(PublicKey::Revoked);
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let der = engine
        .decode(compact.as_bytes())
        .map_err(|_| DkimError::BadBase64 { at })?;
    match kind {
        KeyType::Ed25519 => {
            let key: [u8; 32] = der
                .as_slice()
                .try_into()
                .map_err(|_| DkimError::BadEd25519Length { len: der.len(), at })?;
            Ok(PublicKey::Ed25519 { key })
        }
        KeyType::Rsa => {
            let (rsa, encoding) = match der::rsa_key(&der) {
                Ok(x) => x,
                Err(der::KeyError::NotRsa) => return Err(DkimError::KeyTypeMismatch { at }),
                Err(der::KeyError::Der(problem)) => {
                    return Err(DkimError::BadRsaKey { problem, at });
                }
            };
            if encoding == RsaEncoding::Pkcs1 {
                warnings.push(DkimWarning::Pkcs1Key);
            }
            Ok(PublicKey::Rsa {
                bits: rsa.bits,
                exponent: rsa.exponent,
                encoding,
            })
        }
    }
}

/// A small, bounded DER reader: just enough for RSA public keys.
pub(crate) mod der {
    use super::{DerProblem, RsaEncoding};

    /// rsaEncryption, 1.2.840.113549.1.1.1.
    const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

    pub(crate) struct Rsa {
        pub bits: u32,
        pub exponent: Option<u64>,
    }

    pub(crate) enum KeyError {
        NotRsa,
        Der(DerProblem),
    }

    impl From<DerProblem> for KeyError {
        fn from(p: DerProblem) -> Self {
            KeyError::Der(p)
        }
    }

    /// Reads one TLV at `pos` of `buf` (`base` is `buf`'s offset in the whole key, for
    /// error positions). Returns (tag, content, next position).
    fn tlv(buf: &[u8], pos: usize, base: usize) -> Result<(u8, &[u8], usize), DerProblem> {
        let at = base + pos;
        let tag = *buf.get(pos).ok_or(DerProblem::Truncated(at))?;
        let first = *buf.get(pos + 1).ok_or(DerProblem::Truncated(at + 1))?;
        let (len, hdr) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(DerProblem::BadLength(at + 1));
            }
            let mut len = 0usize;
            for i in 0..n {
                let b = *buf
                    .get(pos + 2 + i)
                    .ok_or(DerProblem::Truncated(at + 2 + i))?;
                len = (len << 8) | usize::from(b);
            }
            (len, 2 + n)
        };
        let start = pos + hdr;
        let end = start
            .checked_add(len)
            .ok_or(DerProblem::BadLength(at + 1))?;
        let content = buf
            .get(start..end)
            .ok_or(DerProblem::Truncated(base + buf.len()))?;
        Ok((tag, content, end))
    }

    fn expect(
        buf: &[u8],
        pos: usize,
        base: usize,
        want: u8,
    ) -> Result<(&[u8], usize, usize), DerProblem> {
        let (tag, content, next) = tlv(buf, pos, base)?;
        if tag != want {
            return Err(DerProblem::UnexpectedTag(base + pos));
        }
        // Offset of the content within the whole key.
        let content_base = base + pos + (next - pos - content.len());
        Ok((content, next, content_base))
    }

    fn rsa_public_key(buf: &[u8], base: usize) -> Result<Rsa, DerProblem> {
        let (seq, next, sb) = expect(buf, 0, base, 0x30)?;
        if next != buf.len() {
            return Err(DerProblem::Trailing(base + next));
        }
        let (n, after_n, _) = expect(seq, 0, sb, 0x02)?;
        let (e, after_e, _) = expect(seq, after_n, sb, 0x02)?;
        if after_e != seq.len() {
            return Err(DerProblem::Trailing(sb + after_e));
        }
        if n.first().is_none_or(|&b| b & 0x80 != 0) {
            return Err(DerProblem::BadModulus);
        }
        let digits: &[u8] = match n.iter().position(|&b| b != 0) {
            Some(i) => n.get(i..).unwrap_or_default(),
            None => return Err(DerProblem::BadModulus),
        };
        let top = u32::from(*digits.first().ok_or(DerProblem::BadModulus)?);
        let rest = u32::try_from(digits.len() - 1).map_err(|_| DerProblem::BadModulus)?;
        let bits = rest
            .saturating_mul(8)
            .saturating_add(32 - top.leading_zeros());
        let e_digits: Vec<u8> = e.iter().copied().skip_while(|&b| b == 0).collect();
        let exponent = if e_digits.len() <= 8 {
            Some(
                e_digits
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
            )
        } else {
            None
        };
        Ok(Rsa { bits, exponent })
    }

    /// Decodes SubjectPublicKeyInfo or PKCS#1 RSAPublicKey.
    pub(crate) fn rsa_key(key: &[u8]) -> Result<(Rsa, RsaEncoding), KeyError> {
        let (outer, next, ob) = expect(key, 0, 0, 0x30)?;
        if next != key.len() {
            return Err(DerProblem::Trailing(next).into());
        }
        match outer.first() {
            Some(0x02) => Ok((rsa_public_key(key, 0)?, RsaEncoding::Pkcs1)),
            Some(0x30) => {
                // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
                //                                      subjectPublicKey BIT STRING }
                let (alg, after_alg, ab) = expect(outer, 0, ob, 0x30)?;
                let (oid, _, _) = expect(alg, 0, ab, 0x06)?;
                if oid != RSA_OID {
                    return Err(KeyError::NotRsa);
                }
                let (bits, after_bits, bb) = expect(outer, after_alg, ob, 0x03)?;
                if after_bits != outer.len() {
                    return Err(DerProblem::Trailing(ob + after_bits).into());
                }
                // First byte of a BIT STRING counts unused bits; it must be 0 here.
                match bits.split_first() {
                    Some((0, inner)) => Ok((rsa_public_key(inner, bb + 1)?, RsaEncoding::Spki)),
                    Some(_) => Err(DerProblem::UnexpectedTag(bb).into()),
                    None => Err(DerProblem::Truncated(bb).into()),
                }
            }
            Some(_) => Err(DerProblem::UnexpectedTag(ob).into()),
            None => Err(DerProblem::Truncated(ob).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPKI_1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";

    fn p(s: &str) -> Result<DkimKey, DkimError> {
        parse(s, &Limits::default())
    }

    /// Findings carry the error as message and JSON: both read as before `TagListError`.
    #[test]
    fn tag_errors_keep_their_words() {
        let e = p("v=DKIM1; p=; p=").unwrap_err();
        assert_eq!(e.to_string(), "tag \"p\" repeated at byte 13");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"DuplicateTag": {"tag": "p", "at": 13}})
        );
        let l = Limits {
            max_bytes: 64,
            max_terms: 2,
        };
        let e = parse("p=;;", &l).unwrap_err();
        assert_eq!(e.to_string(), "record has more than 2 terms");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"TooManyTerms": {"limit": 2}})
        );
        assert_eq!(
            serde_json::to_value(DkimError::MissingKey).unwrap(),
            serde_json::json!("MissingKey")
        );
    }

    #[test]
    fn rsa_spki_bits() {
        let k = p(&format!("v=DKIM1; k=rsa; p={SPKI_1024}")).unwrap();
        assert_eq!(
            k.key,
            PublicKey::Rsa {
                bits: 1024,
                exponent: Some(65537),
                encoding: RsaEncoding::Spki
            }
        );
        assert!(k.warnings.is_empty());
    }

    #[test]
    fn revoked_is_a_state() {
        assert_eq!(p("v=DKIM1; p=").unwrap().key, PublicKey::Revoked);
        assert_eq!(p("v=DKIM1; k=rsa; p=;").unwrap().key, PublicKey::Revoked);
    }

    #[test]
    fn exact_errors() {
        assert_eq!(
            p("k=rsa; v=DKIM1; p=").unwrap_err(),
            DkimError::VersionNotFirst { at: 7 }
        );
        assert_eq!(
            p("v=DKIM2; p=").unwrap_err(),
            DkimError::BadVersion {
                value: "DKIM2".into(),
                at: 2
            }
        );
        assert_eq!(
            p("v=DKIM1; p=; p=").unwrap_err(),
            DkimError::TagList(TagListError::DuplicateTag {
                tag: "p".into(),
                at: 13
            })
        );
        assert_eq!(p("v=DKIM1; k=rsa").unwrap_err(), DkimError::MissingKey);
        assert_eq!(
            p("v=DKIM1; k=dsa; p=").unwrap_err(),
            DkimError::UnknownKeyType {
                value: "dsa".into(),
                at: 11
            }
        );
        assert_eq!(
            p("v=DKIM1; p=@@@@").unwrap_err(),
            DkimError::BadBase64 { at: 11 }
        );
        assert_eq!(
            p("v=DKIM1; k=ed25519; p=AAAA").unwrap_err(),
            DkimError::BadEd25519Length { len: 3, at: 22 }
        );
        assert_eq!(
            p("v=DKIM1; p").unwrap_err(),
            DkimError::TagList(TagListError::NoEquals { at: 9 })
        );
        assert_eq!(
            p("v=DKIM1; 1p=").unwrap_err(),
            DkimError::TagList(TagListError::BadTagName { at: 9 })
        );
    }

    #[test]
    fn list_entries_keep_positions() {
        let k = p("v=DKIM1; h=sha1 : sha 256; t=y:x; p=").unwrap();
        assert_eq!(
            k.hashes,
            Some(vec![HashAlg::Sha1, HashAlg::Unknown("sha 256".into())])
        );
        assert_eq!(
            k.warnings,
            vec![
                DkimWarning::UnknownListEntry {
                    tag: "h".into(),
                    entry: "sha 256".into(),
                    at: 18
                },
                DkimWarning::UnknownListEntry {
                    tag: "t".into(),
                    entry: "x".into(),
                    at: 31
                },
            ]
        );
        assert!(k.testing());
        assert!(!k.allows(&HashAlg::Sha256));
    }

    #[test]
    fn whitespace_inside_base64_is_folding() {
        let (a, b) = SPKI_1024.split_at(40);
        let k = p(&format!("v=DKIM1; p={a} \t {b}")).unwrap();
        assert!(matches!(k.key, PublicKey::Rsa { bits: 1024, .. }));
    }

    #[test]
    fn truncated_keys_error_at_every_length() {
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(SPKI_1024)
            .unwrap();
        for n in 0..der.len() {
            let cut = base64::engine::general_purpose::STANDARD.encode(&der[..n]);
            let r = p(&format!("p={cut}"));
            if n == 0 {
                assert_eq!(r.unwrap().key, PublicKey::Revoked);
            } else {
                assert!(
                    matches!(r, Err(DkimError::BadRsaKey { at: 2, .. })),
                    "prefix {n}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn non_rsa_spki_is_a_mismatch() {
        // SPKI for an Ed25519 key (OID 1.3.101.112) under k=rsa.
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend([7u8; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        assert_eq!(
            p(&format!("p={b64}")).unwrap_err(),
            DkimError::KeyTypeMismatch { at: 2 }
        );
    }

    #[test]
    fn limits_before_work() {
        let l = Limits {
            max_bytes: 10,
            max_terms: 2,
        };
        assert_eq!(
            parse("v=DKIM1; p=AAAA", &l).unwrap_err(),
            DkimError::TagList(TagListError::TooLong { len: 15, limit: 10 })
        );
        assert_eq!(
            parse("p=;;", &l).unwrap_err(),
            DkimError::TagList(TagListError::TooManyTerms { limit: 2 })
        );
    }
}
