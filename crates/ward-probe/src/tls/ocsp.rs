//! Stapled OCSP responses (RFC 6960 §4.2.1): what the response says about the leaf, and
//! whether its signature checks against the leaf's issuer.
//!
//! ```text
//! OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
//!     responseType OBJECT IDENTIFIER, response OCTET STRING } OPTIONAL }
//! BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData,
//!     signatureAlgorithm AlgorithmIdentifier, signature BIT STRING,
//!     certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//! ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
//!     responderID ResponderID, producedAt GeneralizedTime,
//!     responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT Extensions OPTIONAL }
//! SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus,
//!     thisUpdate GeneralizedTime, nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL,
//!     singleExtensions [1] EXPLICIT Extensions OPTIONAL }
//! CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
//!     issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
//! CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo,
//!     unknown [2] IMPLICIT UnknownInfo }
//! RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
//!     revocationReason [0] EXPLICIT CRLReason OPTIONAL }
//! ```
//!
//! The reader is a small bounded DER walker: every length is checked against what is left
//! before anything is taken, nothing allocates per declared length, and every failure
//! names what was being read and the byte offset. The response is matched to the leaf by
//! serial number (the issuer hashes would need SHA-1, which the crypto provider does not
//! offer; the signature check below ties the response to the issuer instead). The
//! signature is checked with the issuer's key, found among the certificates the server
//! sent or the trust anchors; a response signed by a delegated responder certificate is
//! reported as unchecked, never as good or bad.

use rustls::pki_types::SignatureVerificationAlgorithm;
use time::OffsetDateTime;
use ward_model::tls::{OcspCertStatus, OcspSeen, OcspSignature, OcspStaple};

/// Largest stapled response read (a response with a few responder certificates fits).
pub const MAX_RESPONSE: usize = 64 * 1024;

/// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1, DER contents.
const OID_OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];

/// A DER element: tag, contents, and the whole encoding (tag and length included).
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
    whole: &'a [u8],
    /// Offset of `body` in the response.
    at: usize,
}

/// Reads DER elements one after another from a slice.
struct Der<'a> {
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the response.
    base: usize,
}

type Res<T> = Result<T, String>;

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Self {
        Der { bytes, base }
    }

    fn of(t: Tlv<'a>) -> Self {
        Der::new(t.body, t.at)
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// The next element, whatever its tag.
    fn any(&mut self, what: &str) -> Res<Tlv<'a>> {
        let at = self.base;
        let short = || format!("{what}: truncated at byte {at}");
        let tag = *self.bytes.first().ok_or_else(short)?;
        if tag & 0x1f == 0x1f {
            return Err(format!("{what}: multi-byte tag at byte {at}"));
        }
        let first = *self.bytes.get(1).ok_or_else(short)?;
        let (len, head) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 3 {
                return Err(format!("{what}: bad length form at byte {}", at + 1));
            }
            let bytes = self.bytes.get(2..2 + n).ok_or_else(short)?;
            let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
            (len, 2 + n)
        };
        let end = head
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "{what}: declares {len} bytes at byte {at}, only {} left",
                    self.bytes.len().saturating_sub(head)
                )
            })?;
        let whole = self.bytes.get(..end).ok_or_else(short)?;
        let body = whole.get(head..).ok_or_else(short)?;
        self.bytes = self.bytes.get(end..).unwrap_or_default();
        self.base += end;
        Ok(Tlv {
            tag,
            body,
            whole,
            at: at + head,
        })
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8, what: &str) -> Res<Tlv<'a>> {
        let at = self.base;
        let t = self.any(what)?;
        if t.tag != tag {
            return Err(format!(
                "{what}: expected tag {tag:#04x}, got {:#04x} at byte {at}",
                t.tag
            ));
        }
        Ok(t)
    }

    /// The next element if it has `tag`.
    fn optional(&mut self, tag: u8, what: &str) -> Res<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.any(what).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// `YYYYMMDDHHMMSS[.fff]Z` (RFC 5280 §4.1.2.5.2 allows no fraction; responders add one).
fn generalized_time(t: Tlv<'_>, what: &str) -> Res<OffsetDateTime> {
    if t.tag != 0x18 {
        return Err(format!("{what}: not a GeneralizedTime at byte {}", t.at));
    }
    let bad = || format!("{what}: bad GeneralizedTime at byte {}", t.at);
    let s = std::str::from_utf8(t.body).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let s = s.split('.').next().unwrap_or_default();
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| -> Res<i32> {
        s.get(r).and_then(|d| d.parse().ok()).ok_or_else(bad)
    };
    let month =
        time::Month::try_from(u8::try_from(n(4..6)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date =
        time::Date::from_calendar_date(n(0..4)?, month, u8::try_from(n(6..8)?).map_err(|_| bad())?)
            .map_err(|_| bad())?;
    let hms = |r| u8::try_from(n(r)?).map_err(|_| bad());
    let tod = time::Time::from_hms(hms(8..10)?, hms(10..12)?, hms(12..14)?).map_err(|_| bad())?;
    Ok(date.with_time(tod).assume_utc())
}

fn status_name(code: u8) -> String {
    match code {
        0 => "successful".into(),
        1 => "malformed_request".into(),
        2 => "internal_error".into(),
        3 => "try_later".into(),
        5 => "sig_required".into(),
        6 => "unauthorized".into(),
        n => n.to_string(),
    }
}

/// A public key to check the response with: the issuer's SubjectPublicKeyInfo parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The AlgorithmIdentifier's contents (no outer SEQUENCE header), as webpki names it.
    pub algorithm: Vec<u8>,
    /// The subjectPublicKey BIT STRING's bits.
    pub key: Vec<u8>,
}

/// The issuer key from a SubjectPublicKeyInfo, with or without its outer SEQUENCE header
/// (trust anchors keep only the contents).
pub fn issuer_key(spki: &[u8], with_header: bool) -> Option<IssuerKey> {
    let body = if with_header {
        let mut d = Der::new(spki, 0);
        d.expect(0x30, "SubjectPublicKeyInfo").ok()?.body
    } else {
        spki
    };
    let mut d = Der::new(body, 0);
    let alg = d.expect(0x30, "algorithm").ok()?;
    let bits = d.expect(0x03, "subjectPublicKey").ok()?;
    let (&unused, key) = bits.body.split_first()?;
    (unused == 0).then(|| IssuerKey {
        algorithm: alg.body.to_vec(),
        key: key.to_vec(),
    })
}

/// Reads a stapled response about the certificate with serial number `leaf_serial` (the
/// INTEGER's contents), checking its signature with `issuer` when given, using the
/// crypto provider's algorithms `algs`.
pub fn read(
    der: &[u8],
    leaf_serial: &[u8],
    issuer: Option<&IssuerKey>,
    algs: &[&dyn SignatureVerificationAlgorithm],
) -> OcspStaple {
    if der.is_empty() {
        return OcspStaple::NotStapled;
    }
    if der.len() > MAX_RESPONSE {
        return OcspStaple::Malformed {
            reason: format!(
                "{} bytes, more than the {MAX_RESPONSE} ward reads",
                der.len()
            ),
        };
    }
    match parse(der, leaf_serial, issuer, algs) {
        Ok(seen) => OcspStaple::Stapled(seen),
        Err(reason) => OcspStaple::Malformed { reason },
    }
}

fn parse(
    der: &[u8],
    leaf_serial: &[u8],
    issuer: Option<&IssuerKey>,
    algs: &[&dyn SignatureVerificationAlgorithm],
) -> Res<OcspSeen> {
    let mut top = Der::new(der, 0);
    let resp = top.expect(0x30, "OCSPResponse")?;
    if !top.is_empty() {
        return Err(format!("bytes after the OCSPResponse at byte {}", top.base));
    }
    let mut resp = Der::of(resp);
    let status = resp.expect(0x0a, "responseStatus")?;
    let code = match status.body {
        [c] => *c,
        _ => return Err(format!("responseStatus: bad length at byte {}", status.at)),
    };
    let mut seen = OcspSeen {
        response_status: status_name(code),
        cert_status: None,
        for_other_certificate: false,
        this_update: None,
        next_update: None,
        signature: OcspSignature::Unchecked {
            why: "the response is not successful".into(),
        },
    };
    if code != 0 {
        return Ok(seen);
    }
    let bytes = resp.expect(0xa0, "responseBytes")?;
    let mut bytes = Der::of(bytes);
    let mut rb = Der::of(bytes.expect(0x30, "ResponseBytes")?);
    let kind = rb.expect(0x06, "responseType")?;
    if kind.body != OID_OCSP_BASIC {
        return Err(format!(
            "responseType is not id-pkix-ocsp-basic at byte {}",
            kind.at
        ));
    }
    let basic = rb.expect(0x04, "response")?;
    let mut basic = Der::of(Der::of(basic).expect(0x30, "BasicOCSPResponse")?);
    let tbs = basic.expect(0x30, "tbsResponseData")?;
    let sig_alg = basic.expect(0x30, "signatureAlgorithm")?;
    let sig = basic.expect(0x03, "signature")?;
    let delegated = basic.optional(0xa0, "certs")?.is_some();

    let mut data = Der::of(tbs);
    data.optional(0xa0, "version")?;
    let responder = data.any("responderID")?;
    if responder.tag != 0xa1 && responder.tag != 0xa2 {
        return Err(format!("responderID: bad tag at byte {}", responder.at));
    }
    generalized_time(data.any("producedAt")?, "producedAt")?;
    let mut responses = Der::of(data.expect(0x30, "responses")?);
    let mut any = false;
    while !responses.is_empty() {
        any = true;
        let mut single = Der::of(responses.expect(0x30, "SingleResponse")?);
        let mut cert_id = Der::of(single.expect(0x30, "certID")?);
        cert_id.expect(0x30, "hashAlgorithm")?;
        cert_id.expect(0x04, "issuerNameHash")?;
        cert_id.expect(0x04, "issuerKeyHash")?;
        let serial = cert_id.expect(0x02, "serialNumber")?;
        let status = single.any("certStatus")?;
        let this_update = generalized_time(single.any("thisUpdate")?, "thisUpdate")?;
        let next_update = match single.optional(0xa0, "nextUpdate")? {
            Some(t) => Some(generalized_time(
                Der::of(t).any("nextUpdate")?,
                "nextUpdate",
            )?),
            None => None,
        };
        if serial.body != leaf_serial || seen.cert_status.is_some() {
            continue;
        }
        let cert_status = match status.tag {
            0x80 => OcspCertStatus::Good,
            0x82 => OcspCertStatus::Unknown,
            0xa1 => {
                let mut info = Der::of(status);
                let at = generalized_time(info.any("revocationTime")?, "revocationTime")?;
                let reason = match info.optional(0xa0, "revocationReason")? {
                    Some(r) => {
                        let e = Der::of(r).expect(0x0a, "CRLReason")?;
                        e.body.first().copied()
                    }
                    None => None,
                };
                OcspCertStatus::Revoked { at, reason }
            }
            other => {
                return Err(format!(
                    "certStatus: unknown choice {other:#04x} at byte {}",
                    status.at
                ));
            }
        };
        seen.cert_status = Some(cert_status);
        seen.this_update = Some(this_update);
        seen.next_update = next_update;
    }
    seen.for_other_certificate = any && seen.cert_status.is_none();

    seen.signature = match issuer {
        None => OcspSignature::Unchecked {
            why: "the leaf's issuer certificate is not available".into(),
        },
        Some(key) => {
            let (&unused, signature) = sig
                .body
                .split_first()
                .ok_or_else(|| format!("signature: empty at byte {}", sig.at))?;
            if unused != 0 {
                return Err(format!("signature: unused bits at byte {}", sig.at));
            }
            let alg = algs.iter().find(|a| {
                a.signature_alg_id().as_ref() == sig_alg.body
                    && a.public_key_alg_id().as_ref() == key.algorithm.as_slice()
            });
            match alg {
                None => OcspSignature::Unchecked {
                    why: "signature algorithm not supported for this key".into(),
                },
                Some(a) => match a.verify_signature(&key.key, tbs.whole, signature) {
                    Ok(()) => OcspSignature::Verified,
                    Err(_) if delegated => OcspSignature::Unchecked {
                        why: "signed by a delegated responder certificate".into(),
                    },
                    Err(_) => OcspSignature::Bad,
                },
            }
        }
    };
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn algs() -> Vec<&'static dyn SignatureVerificationAlgorithm> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .all
            .to_vec()
    }

    #[test]
    fn empty_is_not_stapled() {
        assert_eq!(read(&[], &[1], None, &algs()), OcspStaple::NotStapled);
    }

    #[test]
    fn unsuccessful_status_is_kept() {
        // OCSPResponse { responseStatus tryLater }
        let der = [0x30, 0x03, 0x0a, 0x01, 0x03];
        let OcspStaple::Stapled(seen) = read(&der, &[1], None, &algs()) else {
            panic!("not read");
        };
        assert_eq!(seen.response_status, "try_later");
        assert_eq!(seen.cert_status, None);
    }

    #[test]
    fn lying_length_is_an_error_with_its_position() {
        let der = [0x30, 0x05, 0x0a, 0x01, 0x00, 0xa0, 0x7f];
        assert_eq!(
            read(&der, &[1], None, &algs()),
            OcspStaple::Malformed {
                reason: "responseBytes: declares 127 bytes at byte 5, only 0 left".into()
            }
        );
    }

    #[test]
    fn generalized_time_with_fraction() {
        let t = Tlv {
            tag: 0x18,
            body: b"20261126035433.5Z",
            whole: b"",
            at: 0,
        };
        assert_eq!(
            generalized_time(t, "t").unwrap(),
            time::macros::datetime!(2026-11-26 03:54:33 UTC)
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = read(&bytes, &[1], None, &algs());
        }

        #[test]
        fn mutated_responses_never_panic(i in 0usize..64, b in proptest::num::u8::ANY) {
            let mut der = vec![0x30, 0x10, 0x0a, 0x01, 0x00, 0xa0, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x04, 0x02, 0x30, 0x00];
            if let Some(x) = der.get_mut(i % 18) { *x = b; }
            let _ = read(&der, &[1], None, &algs());
        }
    }
}
