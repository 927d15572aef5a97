//! OCSP responses for the lab's servers to staple (RFC 6960 §4.2.1), made by the leaf's
//! issuer at lab start: `good`, `revoked` or stale, so the scanner's stapling verdicts can
//! be shown on real handshakes.
//!
//! Written by hand in DER: a `BasicOCSPResponse` with the responder named by the issuer's
//! subject, one `SingleResponse` whose `CertID` hashes with SHA-256 (RFC 6960 allows any
//! hash), signed with the issuer's key through rcgen's `SigningKey`. The certificates'
//! fields are read back with a small TLV walker over the DER rcgen produced.

use rcgen::SigningKey;
use rsa::sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::hosts::OcspSpec;

/// One DER element: tag and contents, the rest of the input after it.
fn next(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *bytes.first()?;
    let first = *bytes.get(1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        let len = bytes
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let body = bytes.get(head..head.checked_add(len)?)?;
    Some((tag, body, bytes.get(head + len..)?))
}

/// The whole encoding (tag and length included) of the first element.
fn whole(bytes: &[u8]) -> Option<&[u8]> {
    let (_, _, rest) = next(bytes)?;
    bytes.get(..bytes.len() - rest.len())
}

/// A certificate's serial number (INTEGER contents), subject Name (whole DER) and public
/// key bits.
pub struct CertFields<'a> {
    /// serialNumber contents.
    pub serial: &'a [u8],
    /// subject, whole DER.
    pub subject: &'a [u8],
    /// subjectPublicKey bits (BIT STRING contents after the unused-bits byte).
    pub key_bits: &'a [u8],
}

/// Reads [`CertFields`] from a DER certificate.
pub fn fields(cert: &[u8]) -> Option<CertFields<'_>> {
    let (_, cert, _) = next(cert)?;
    let (_, tbs, _) = next(cert)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = next(rest)?.2; // version
    }
    let (_, serial, rest) = next(rest)?;
    let rest = next(rest)?.2; // signature algorithm
    let rest = next(rest)?.2; // issuer
    let rest = next(rest)?.2; // validity
    let subject = whole(rest)?;
    let (_, _, rest) = next(rest)?;
    let (_, spki, _) = next(rest)?;
    let (_, _, spki_rest) = next(spki)?; // algorithm
    let (_, bits, _) = next(spki_rest)?;
    Some(CertFields {
        serial,
        subject,
        key_bits: bits.get(1..)?,
    })
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(body);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn gen_time(t: OffsetDateTime) -> Vec<u8> {
    let s = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    tlv(0x18, s.as_bytes())
}

/// id-pkix-ocsp-basic.
const OID_OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
/// id-sha256.
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// A DER OCSPResponse about `leaf`, signed by `issuer_key` (whose certificate is
/// `issuer`), with `signature_alg` the AlgorithmIdentifier (whole DER) of its signatures;
/// `None` for [`OcspSpec::None`] or when a certificate cannot be read.
pub fn response(
    spec: OcspSpec,
    leaf: &[u8],
    issuer: &[u8],
    issuer_key: &impl SigningKey,
    signature_alg: &[u8],
    now: OffsetDateTime,
) -> Option<Vec<u8>> {
    let (this_update, next_update) = match spec {
        OcspSpec::None => return None,
        OcspSpec::Good | OcspSpec::Revoked => (now - Duration::hours(1), now + Duration::days(7)),
        OcspSpec::Stale => (now - Duration::days(9), now - Duration::days(2)),
    };
    let leaf = fields(leaf)?;
    let issuer = fields(issuer)?;
    let cert_id = seq(&[
        &seq(&[&tlv(0x06, OID_SHA256), &[0x05, 0x00]]),
        &tlv(0x04, &Sha256::digest(issuer.subject)),
        &tlv(0x04, &Sha256::digest(issuer.key_bits)),
        &tlv(0x02, leaf.serial),
    ]);
    let status = match spec {
        OcspSpec::Revoked => tlv(
            0xa1,
            &[
                gen_time(now - Duration::days(10)),
                tlv(0xa0, &tlv(0x0a, &[1])), // keyCompromise
            ]
            .concat(),
        ),
        _ => vec![0x80, 0x00],
    };
    let single = seq(&[
        &cert_id,
        &status,
        &gen_time(this_update),
        &tlv(0xa0, &gen_time(next_update)),
    ]);
    let tbs = seq(&[
        &tlv(0xa1, issuer.subject),
        &gen_time(this_update),
        &seq(&[&single]),
    ]);
    let signature = issuer_key.sign(&tbs).ok()?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let basic = seq(&[&tbs, signature_alg, &tlv(0x03, &bits)]);
    let bytes = seq(&[&tlv(0x06, OID_OCSP_BASIC), &tlv(0x04, &basic)]);
    Some(seq(&[&[0x0a, 0x01, 0x00], &tlv(0xa0, &bytes)]))
}
