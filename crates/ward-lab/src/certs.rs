//! The lab's certificates: a throw-away CA made fresh at each start, and leaf certificates
//! that are good or bad on purpose (expired, wrong name, self-signed, weak key, ...), so the
//! scanner has something real to judge.
//!
//! Time always comes in as a parameter; nothing here reads the clock.
//!
//! RSA keys are slow to make, so each size is generated once per process and reused by
//! every host that asks for it. aws-lc-rs (rustls' and rcgen's backend here) refuses RSA
//! keys under 2048 bits, both to generate and to sign with, so `rsa-1024` keys are made,
//! and used for signing, by the pure-Rust `rsa` crate (see [`weak_rsa`]).

mod ocsp;
mod weak_rsa;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
    PKCS_RSA_SHA256, RsaKeySize, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::hosts::{CertSpec, CertStatus, ChainShape, KeyType};

/// The name a `wrong-name` certificate is issued for (it covers no lab host).
pub const WRONG_NAME: &str = "wrong-name.ward-lab.invalid";

/// Something went wrong making or loading a certificate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// A certificate needs at least one name.
    #[error("a certificate needs at least one name")]
    NoNames,
    /// Key generation failed.
    #[error("could not generate a {key:?} key: {reason}")]
    KeyGeneration {
        /// The key asked for.
        key: KeyType,
        /// What the generator said.
        reason: String,
    },
    /// rcgen refused the parameters (e.g. a name that is not a DNS name).
    #[error("could not build the certificate for {names:?}: {source}")]
    Build {
        /// The names asked for.
        names: Vec<String>,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
    /// rustls refused a key or a configuration.
    #[error("rustls refused the TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    /// A TLS server was asked for, but none of its hosts has a certificate.
    #[error("none of the hosts on this address has a certificate")]
    NoCertificates,
}

/// A test CA made fresh at each lab start. Trust [`LabCa::ca_cert_der`] in clients that
/// talk to the lab; nothing else trusts it.
pub struct LabCa {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_der: CertificateDer<'static>,
}

/// The subject CN of the lab's intermediate CA.
pub const INTERMEDIATE_CN: &str = "ward-lab intermediate CA";

/// ecdsa-with-SHA256, the AlgorithmIdentifier of the lab CAs' signatures (whole DER).
const ECDSA_SHA256_ALG: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// An ECDSA P-256 CA certificate for `cn`, signed by `signer` (or by itself).
fn ca_cert(
    cn: &str,
    path_len: u8,
    now: OffsetDateTime,
    signer: Option<&Issuer<'static, KeyPair>>,
) -> Result<(Issuer<'static, KeyPair>, rcgen::Certificate), CertError> {
    let build = |source| CertError::Build {
        names: vec![],
        source,
    };
    let key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| CertError::KeyGeneration {
            key: KeyType::EcdsaP256,
            reason: e.to_string(),
        })?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(build)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "ward-lab");
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(3650);
    let cert = match signer {
        None => params.self_signed(&key),
        Some(s) => {
            params.use_authority_key_identifier_extension = true;
            params.signed_by(&key, s)
        }
    }
    .map_err(build)?;
    Ok((Issuer::new(params, key), cert))
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabCa").finish_non_exhaustive()
    }
}

impl LabCa {
    /// Makes a new CA (ECDSA P-256), valid from a year before `now` to ten years after,
    /// and an intermediate CA under it ([`INTERMEDIATE_CN`]) for chain-shaped hosts.
    pub fn new(now: OffsetDateTime) -> Result<Self, CertError> {
        let (issuer, cert) = ca_cert("ward-lab test CA (trusted by nothing)", 1, now, None)?;
        let (intermediate, int_cert) = ca_cert(INTERMEDIATE_CN, 0, now, Some(&issuer))?;
        Ok(LabCa {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer,
            intermediate_der: int_cert.der().clone(),
            intermediate,
        })
    }

    /// The intermediate CA certificate, DER.
    pub fn intermediate_der(&self) -> &CertificateDer<'static> {
        &self.intermediate_der
    }

    /// The CA certificate, PEM.
    pub fn ca_cert_pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// Issues a leaf certificate for `names` as `spec` says, judged at `now`:
    ///
    /// - `valid`: by the CA, for the names, from a day before `now` to 90 days after;
    /// - `expired`: notAfter 30 days before `now`;
    /// - `expiring-soon`: notAfter 10 days after `now`;
    /// - `not-yet-valid`: notBefore 30 days after `now`;
    /// - `wrong-name`: by the CA, valid now, but only for [`WRONG_NAME`];
    /// - `self-signed`: for the names, valid now, signed by its own key.
    ///
    /// `spec.chain` says who signs and what is sent: the root (leaf only; the root is the
    /// trust anchor, which servers do not send) or the intermediate (with the intermediate,
    /// without it, out of order, or with an unrelated certificate). `spec.ocsp` adds an
    /// OCSP response from the leaf's issuer for the server to staple.
    pub fn issue(
        &self,
        names: &[String],
        spec: &CertSpec,
        now: OffsetDateTime,
    ) -> Result<IssuedCert, CertError> {
        let first = names.first().ok_or(CertError::NoNames)?;
        let build = |source| CertError::Build {
            names: names.to_vec(),
            source,
        };
        let (not_before, not_after) = validity(spec.status, now);
        let san = match spec.status {
            CertStatus::WrongName => vec![WRONG_NAME.to_owned()],
            _ => names.to_vec(),
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(build)?;
        params.subject_alt_names = san
            .iter()
            .map(|n| san_entry(n).map_err(build))
            .collect::<Result<_, _>>()?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            match spec.status {
                CertStatus::WrongName => WRONG_NAME,
                _ => first.as_str(),
            },
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if spec.key.rsa_bits().is_some() {
            params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        params.use_authority_key_identifier_extension = spec.status != CertStatus::SelfSigned;
        params.not_before = not_before;
        params.not_after = not_after;

        let self_signed = spec.status == CertStatus::SelfSigned;
        let (signer, signer_der) = match spec.chain {
            ChainShape::Direct => (&self.issuer, &self.der),
            _ => (&self.intermediate, &self.intermediate_der),
        };
        use rcgen::PublicKeyData;
        let (cert, pkcs8, spki) = match LeafKey::generate(spec.key)? {
            LeafKey::Rcgen(key) => {
                let cert = if self_signed {
                    params.self_signed(&key)
                } else {
                    params.signed_by(&key, signer)
                };
                let spki = key.subject_public_key_info();
                (cert.map_err(build)?, key.serialize_der(), spki)
            }
            LeafKey::WeakRsa(key) => {
                let cert = if self_signed {
                    params.self_signed(key.as_ref())
                } else {
                    params.signed_by(key.as_ref(), signer)
                };
                let spki = key.as_ref().subject_public_key_info();
                (cert.map_err(build)?, key.pkcs8_der().to_vec(), spki)
            }
        };
        let leaf = cert.der().clone();
        let ocsp = ocsp::response(
            spec.ocsp,
            &leaf,
            signer_der,
            signer.key(),
            ECDSA_SHA256_ALG,
            now,
        );
        let chain = match spec.chain {
            ChainShape::Direct | ChainShape::MissingIntermediate => vec![leaf],
            ChainShape::Intermediate => vec![leaf, self.intermediate_der.clone()],
            ChainShape::OutOfOrder => {
                vec![leaf, self.der.clone(), self.intermediate_der.clone()]
            }
            ChainShape::Extra => {
                let (_, unrelated) = ca_cert(UNRELATED_CN, 0, now, None)?;
                vec![leaf, self.intermediate_der.clone(), unrelated.der().clone()]
            }
        };
        Ok(IssuedCert {
            chain,
            ocsp,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8)),
            spec: *spec,
            san,
            not_before,
            not_after,
            spki,
        })
    }
}

fn san_entry(name: &str) -> Result<SanType, rcgen::Error> {
    match name.parse() {
        Ok(ip) => Ok(SanType::IpAddress(ip)),
        Err(_) => Ok(SanType::DnsName(name.try_into()?)),
    }
}

/// notBefore and notAfter for a status, judged at `now`.
fn validity(status: CertStatus, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let days = Duration::days;
    match status {
        CertStatus::Valid | CertStatus::WrongName | CertStatus::SelfSigned => {
            (now - days(1), now + days(90))
        }
        CertStatus::Expired => (now - days(120), now - days(30)),
        CertStatus::ExpiringSoon => (now - days(80), now + days(10)),
        CertStatus::NotYetValid => (now + days(30), now + days(120)),
    }
}

/// The subject CN of the unrelated certificate an `extra` chain carries.
pub const UNRELATED_CN: &str = "unrelated.ward-lab.invalid";

/// A leaf certificate and its key, as [`LabCa::issue`] made them.
#[derive(Debug)]
pub struct IssuedCert {
    /// The chain a server sends, leaf first, shaped as the spec's `chain` says.
    pub chain: Vec<CertificateDer<'static>>,
    /// The OCSP response to staple, if the spec asks for one.
    pub ocsp: Option<Vec<u8>>,
    /// The leaf's private key, PKCS#8.
    pub key: PrivateKeyDer<'static>,
    /// What was asked for.
    pub spec: CertSpec,
    /// The names the certificate covers.
    pub san: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The leaf's SubjectPublicKeyInfo (DER), for DANE records.
    pub spki: Vec<u8>,
}

impl IssuedCert {
    /// The certificate and a signing key for it, ready for a rustls server. RSA-1024 keys,
    /// which `provider` (aws-lc-rs) refuses, get the lab's own signer.
    pub fn certified_key(&self, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, CertError> {
        let signer = match self.spec.key {
            KeyType::Rsa1024 => weak_rsa::tls_signing_key(self.key.secret_der()).map_err(|e| {
                CertError::KeyGeneration {
                    key: KeyType::Rsa1024,
                    reason: e.to_string(),
                }
            })?,
            _ => provider
                .key_provider
                .load_private_key(self.key.clone_key())?,
        };
        let mut certified = CertifiedKey::new(self.chain.clone(), signer);
        certified.keys_match()?;
        certified.ocsp = self.ocsp.clone();
        Ok(Arc::new(certified))
    }
}

enum LeafKey {
    Rcgen(KeyPair),
    WeakRsa(Box<weak_rsa::WeakRsaKey>),
}

impl LeafKey {
    fn generate(key: KeyType) -> Result<Self, CertError> {
        let fail = |reason: String| CertError::KeyGeneration { key, reason };
        let generated = match key {
            KeyType::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
            KeyType::EcdsaP384 => KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384),
            KeyType::Ed25519 => KeyPair::generate_for(&PKCS_ED25519),
            KeyType::Rsa1024 => {
                let pkcs8 = cached_rsa_pkcs8(key, || {
                    weak_rsa::generate_pkcs8(1024).map_err(|e| fail(e.to_string()))
                })?;
                return weak_rsa::WeakRsaKey::from_pkcs8(&pkcs8)
                    .map(|k| LeafKey::WeakRsa(Box::new(k)))
                    .map_err(|e| fail(e.to_string()));
            }
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                let size = match key {
                    KeyType::Rsa2048 => RsaKeySize::_2048,
                    KeyType::Rsa3072 => RsaKeySize::_3072,
                    _ => RsaKeySize::_4096,
                };
                let pkcs8 = cached_rsa_pkcs8(key, || {
                    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, size)
                        .map(|k| k.serialize_der())
                        .map_err(|e| fail(e.to_string()))
                })?;
                KeyPair::from_pkcs8_der_and_sign_algo(
                    &PrivatePkcs8KeyDer::from(pkcs8.as_ref()),
                    &PKCS_RSA_SHA256,
                )
            }
        };
        generated
            .map(LeafKey::Rcgen)
            .map_err(|e| fail(e.to_string()))
    }
}

/// RSA keys generated so far in this process, PKCS#8, by key type.
static RSA_KEYS: Mutex<Option<HashMap<KeyType, Arc<[u8]>>>> = Mutex::new(None);

/// The process's RSA key of type `key`, generated with `generate` the first time.
///
/// The lock is held while generating, so two hosts asking for the same size at once do not
/// both pay for it.
fn cached_rsa_pkcs8(
    key: KeyType,
    generate: impl FnOnce() -> Result<Vec<u8>, CertError>,
) -> Result<Arc<[u8]>, CertError> {
    let mut guard = RSA_KEYS.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = guard.get_or_insert_with(HashMap::new);
    if let Some(found) = cache.get(&key) {
        return Ok(Arc::clone(found));
    }
    let fresh: Arc<[u8]> = generate()?.into();
    cache.insert(key, Arc::clone(&fresh));
    Ok(fresh)
}

/// The aws-lc-rs provider every lab TLS server uses, set explicitly rather than taken from
/// a process default.
pub fn lab_crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Picks a certificate by SNI among the hosts served on one address. A client that sends
/// no SNI, or a name no host has, gets the first certificate added (as a real server's
/// default virtual host would).
#[derive(Debug, Default)]
pub struct SniResolver {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    /// An empty resolver.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `key` for each of `names` (matched without regard to case).
    pub fn add(&mut self, names: &[String], key: Arc<CertifiedKey>) {
        for name in names {
            self.by_name
                .insert(name.to_ascii_lowercase(), Arc::clone(&key));
        }
        self.default.get_or_insert(key);
    }

    /// Whether no certificate was added.
    pub fn is_empty(&self) -> bool {
        self.default.is_none()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        client_hello
            .server_name()
            .and_then(|name| self.by_name.get(&name.to_ascii_lowercase()))
            .or(self.default.as_ref())
            .cloned()
    }
}

/// A TLS 1.2 + 1.3 server configuration on the aws-lc-rs provider, resolving certificates
/// with `resolver`, offering `alpn` protocols (none when empty).
pub fn server_config(
    provider: Arc<CryptoProvider>,
    resolver: SniResolver,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, CertError> {
    if resolver.is_empty() {
        return Err(CertError::NoCertificates);
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_windows_follow_status() {
        let now = time::macros::datetime!(2026-11-26 00:00 UTC);
        let (nb, na) = validity(CertStatus::Expired, now);
        assert!(nb < now && na < now);
        let (nb, na) = validity(CertStatus::ExpiringSoon, now);
        assert!(nb < now);
        assert_eq!(na - now, Duration::days(10));
        let (nb, _) = validity(CertStatus::NotYetValid, now);
        assert!(nb > now);
        for s in [
            CertStatus::Valid,
            CertStatus::WrongName,
            CertStatus::SelfSigned,
        ] {
            let (nb, na) = validity(s, now);
            assert!(nb < now && now < na, "{s:?}");
        }
    }

    #[test]
    fn rsa_keys_are_generated_once_per_size() {
        let mut calls = 0;
        let mut gen_key = || {
            calls += 1;
            Ok(vec![calls as u8])
        };
        // Ed25519 never goes through the RSA cache in real use, so it is a free slot here.
        let a = cached_rsa_pkcs8(KeyType::Ed25519, &mut gen_key).expect("first");
        let b = cached_rsa_pkcs8(KeyType::Ed25519, &mut gen_key).expect("second");
        assert_eq!(a, b);
        assert_eq!(calls, 1);
    }
}
