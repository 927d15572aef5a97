//! Certificates: describe each one (x509-parser) and validate the chain against the
//! trust anchors ([`ward_net::Net::roots`]) for the host name, at the scan's time.
//!
//! The full handshake uses rustls with [`Recorder`], a verifier that keeps the chain and
//! accepts it, so the handshake runs to completion even for an expired or mis-named
//! certificate, and the validation verdict is computed separately by [`validate`] — the
//! same function used for a chain read from a pre-1.3 Certificate message. Handshake
//! signatures are still checked (by webpki's algorithms): proof the server holds the key.

use ::time::OffsetDateTime;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::sync::{Arc, Mutex};
use ward_model::tls::CertSeen;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The crypto provider used for certificate work and the full handshake.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Facts about one DER certificate. Never fails: an unparsable certificate is described
/// by its parse error.
pub fn describe(der: &[u8]) -> CertSeen {
    let blank = |e: String| CertSeen {
        subject: String::new(),
        issuer: String::new(),
        dns_names: Vec::new(),
        not_before: OffsetDateTime::UNIX_EPOCH,
        not_after: OffsetDateTime::UNIX_EPOCH,
        key_type: String::new(),
        key_bits: None,
        signature_algorithm: String::new(),
        weak_signature: false,
        parse_error: Some(e),
        dane: None,
    };
    let cert = match X509Certificate::from_der(der) {
        Ok((_, c)) => c,
        Err(e) => return blank(e.to_string()),
    };
    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let key_type = match key_oid.as_str() {
        "1.2.840.113549.1.1.1" => "rsa".to_string(),
        "1.2.840.10045.2.1" => "ec".to_string(),
        "1.3.101.112" => "ed25519".to_string(),
        "1.3.101.113" => "ed448".to_string(),
        "1.2.840.10040.4.1" => "dsa".to_string(),
        other => other.to_string(),
    };
    let key_bits = match key_type.as_str() {
        "ed25519" => Some(256),
        "ed448" => Some(456),
        _ => spki
            .parsed()
            .ok()
            .map(|k| k.key_size() as u32)
            .filter(|&b| b > 0),
    };
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let (signature_algorithm, weak_signature) = match sig_oid.as_str() {
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", true),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", true),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", true),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", true),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", false),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", false),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", false),
        "1.2.840.113549.1.1.10" => ("rsassa-pss", false),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", false),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", false),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", false),
        "1.3.101.112" => ("ed25519", false),
        "1.3.101.113" => ("ed448", false),
        _ => ("", false),
    };
    let signature_algorithm = if signature_algorithm.is_empty() {
        sig_oid
    } else {
        signature_algorithm.to_string()
    };
    CertSeen {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        dns_names,
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        key_type,
        key_bits,
        signature_algorithm,
        weak_signature,
        parse_error: None,
        dane: Some(dane_data(der, spki.raw)),
    }
}

/// The certificate's DANE association data (RFC 6698 §2.1.2, §2.1.3).
fn dane_data(cert: &[u8], spki: &[u8]) -> ward_model::tls::DaneData {
    use aws_lc_rs::digest::{SHA256, SHA512, digest};
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    ward_model::tls::DaneData {
        cert: hex(cert),
        cert_sha256: hex(digest(&SHA256, cert).as_ref()),
        cert_sha512: hex(digest(&SHA512, cert).as_ref()),
        spki: hex(spki),
        spki_sha256: hex(digest(&SHA256, spki).as_ref()),
        spki_sha512: hex(digest(&SHA512, spki).as_ref()),
    }
}

/// How a presented chain is put together: whether each certificate is followed by its
/// issuer (RFC 8446 §4.4.2: "each following certificate SHOULD directly certify the one
/// immediately preceding it"), whether the path from the leaf reaches a certificate the
/// client has (sent, or a trust anchor), and which certificates are not on that path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// The path is there but not in order, as text.
    pub order_problem: Option<String>,
    /// The issuer (DN) the path stops at: neither sent nor a trust anchor.
    pub missing_issuer: Option<String>,
    /// Subjects of certificates that are not on the path from the leaf.
    pub extra_certs: Vec<String>,
    /// The leaf issuer's key, from the chain or the trust anchors (for OCSP).
    pub issuer_key: Option<super::ocsp::IssuerKey>,
    /// The leaf's serial number (INTEGER contents).
    pub leaf_serial: Vec<u8>,
}

/// The contents of a DER SEQUENCE (what webpki keeps of a trust anchor's subject).
fn contents(der: &[u8]) -> &[u8] {
    let Some(&first) = der.get(1) else {
        return der;
    };
    let head = if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    };
    der.get(head..).unwrap_or_default()
}

/// Works out the [`Shape`] of `chain` (DER, leaf first) against `roots`. Issuers are
/// matched by name, byte for byte, as path builders do first.
pub fn shape(chain: &[Vec<u8>], roots: &RootCertStore) -> Shape {
    struct Parsed {
        subject: Vec<u8>,
        issuer: Vec<u8>,
        subject_text: String,
        issuer_text: String,
        spki: Vec<u8>,
        serial: Vec<u8>,
    }
    let parsed: Vec<Option<Parsed>> = chain
        .iter()
        .map(|der| {
            X509Certificate::from_der(der).ok().map(|(_, c)| Parsed {
                subject: c.subject().as_raw().to_vec(),
                issuer: c.issuer().as_raw().to_vec(),
                subject_text: c.subject().to_string(),
                issuer_text: c.issuer().to_string(),
                spki: c.public_key().raw.to_vec(),
                serial: c.raw_serial().to_vec(),
            })
        })
        .collect();
    let mut out = Shape::default();
    let Some(Some(leaf)) = parsed.first() else {
        return out;
    };
    out.leaf_serial = leaf.serial.clone();
    let anchor = |name: &[u8]| {
        roots
            .roots
            .iter()
            .find(|a| a.subject.as_ref() == contents(name))
    };

    let mut path = vec![0usize];
    let mut current = leaf;
    while path.len() <= chain.len() {
        if current.issuer == current.subject {
            break;
        }
        let next = parsed.iter().enumerate().find(|(j, p)| {
            !path.contains(j) && p.as_ref().is_some_and(|p| p.subject == current.issuer)
        });
        match next {
            Some((j, Some(p))) => {
                path.push(j);
                current = p;
            }
            _ => {
                if anchor(&current.issuer).is_none() {
                    out.missing_issuer = Some(current.issuer_text.clone());
                }
                break;
            }
        }
    }
    // The leaf's issuer key, for the OCSP signature.
    out.issuer_key = match path
        .get(1)
        .and_then(|&j| parsed.get(j))
        .and_then(Option::as_ref)
    {
        Some(p) => super::ocsp::issuer_key(&p.spki, true),
        None => anchor(&leaf.issuer)
            .and_then(|a| super::ocsp::issuer_key(a.subject_public_key_info.as_ref(), false)),
    };
    let in_order = path.iter().enumerate().all(|(i, &j)| i == j);
    if !in_order {
        // The first place where a certificate is not followed by its issuer.
        let slot = path
            .iter()
            .enumerate()
            .find(|(i, j)| *i != **j)
            .map_or(0, |(i, _)| i);
        let child = slot.saturating_sub(1);
        let name = |k: usize| {
            parsed
                .get(k)
                .and_then(Option::as_ref)
                .map_or_else(|| format!("certificate {k}"), |p| p.subject_text.clone())
        };
        let issuer_at = path.get(slot).copied().unwrap_or(slot);
        out.order_problem = Some(format!(
            "certificate {child} ({}) is followed by {}, not by its issuer {}, which is sent as certificate {issuer_at}",
            name(child),
            name(child + 1),
            name(issuer_at),
        ));
    }
    out.extra_certs = (0..chain.len())
        .filter(|j| !path.contains(j))
        .map(|j| {
            parsed.get(j).and_then(Option::as_ref).map_or_else(
                || format!("certificate {j} (unparsable)"),
                |p| p.subject_text.clone(),
            )
        })
        .collect();
    out
}

/// Validates `chain` (leaf first) for `hostname` at `now`. `None` when it validates;
/// otherwise a machine-readable kind and rustls's description.
pub fn validate(
    chain: &[Vec<u8>],
    hostname: &str,
    roots: Arc<RootCertStore>,
    now: OffsetDateTime,
) -> Option<(String, String)> {
    let Some((leaf, rest)) = chain.split_first() else {
        return Some(("other".into(), "no certificate presented".into()));
    };
    let verifier = match WebPkiServerVerifier::builder_with_provider(roots, provider()).build() {
        Ok(v) => v,
        Err(e) => return Some(("other".into(), e.to_string())),
    };
    let name = match ServerName::try_from(hostname.to_string()) {
        Ok(n) => n,
        Err(e) => return Some(("other".into(), format!("host name {hostname:?}: {e}"))),
    };
    let leaf = CertificateDer::from(leaf.clone());
    let rest: Vec<CertificateDer<'static>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
    match verifier.verify_server_cert(&leaf, &rest, &name, &[], now) {
        Ok(_) => None,
        Err(e) => Some((kind_of(&e).to_string(), e.to_string())),
    }
}

fn kind_of(e: &Error) -> &'static str {
    match e {
        Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not_yet_valid"
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "name_mismatch"
            }
            CertificateError::UnknownIssuer => "unknown_issuer",
            CertificateError::BadSignature => "bad_signature",
            _ => "other",
        },
        _ => "other",
    }
}

/// A verifier that records the presented chain and accepts it; see the module doc.
#[derive(Debug)]
pub struct Recorder {
    schemes: Vec<SignatureScheme>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    /// The chain, leaf first, once the server has sent it.
    pub seen: Mutex<Option<Vec<Vec<u8>>>>,
    /// The stapled OCSP response (empty when none was stapled), once the chain is seen.
    pub ocsp: Mutex<Option<Vec<u8>>>,
}

impl Recorder {
    /// A recorder using ward's crypto provider for handshake signatures.
    pub fn new() -> Self {
        let provider = provider();
        Recorder {
            schemes: provider
                .signature_verification_algorithms
                .supported_schemes(),
            provider,
            seen: Mutex::new(None),
            ocsp: Mutex::new(None),
        }
    }

    /// The recorded chain.
    pub fn chain(&self) -> Option<Vec<Vec<u8>>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The stapled OCSP response, empty when the server stapled none.
    pub fn ocsp(&self) -> Option<Vec<u8>> {
        self.ocsp.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        *self.ocsp.lock().unwrap_or_else(|p| p.into_inner()) = Some(ocsp.to_vec());
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(chain);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_der_is_described_not_fatal() {
        let d = describe(&[0x30, 0x03, 0x02, 0x01]);
        assert!(d.parse_error.is_some());
        assert_eq!(d.subject, "");
    }
}
