//! RSA keys too weak for aws-lc-rs (under 2048 bits), made and used with the pure-Rust
//! `rsa` crate: generation, certificate signing (an rcgen `SigningKey`) and TLS handshake
//! signing (a rustls `SigningKey`).
//!
//! Lab only. The `rsa` crate's signing is not constant-time (RUSTSEC-2023-0071), which does
//! not matter for throw-away keys on loopback.

use std::sync::Arc;

use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::rand_core::OsRng;
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer as _};
use rsa::{RsaPrivateKey, pkcs1v15, pss};
use rustls::SignatureScheme;
use rustls_pki_types::SubjectPublicKeyInfoDer;

/// What went wrong with a weak RSA key.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WeakRsaError {
    #[error("rsa: {0}")]
    Rsa(#[from] rsa::Error),
    #[error("pkcs8: {0}")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    #[error("pkcs1: {0}")]
    Pkcs1(#[from] rsa::pkcs1::Error),
    #[error("spki: {0}")]
    Spki(#[from] rsa::pkcs8::spki::Error),
}

/// Generates an RSA key of `bits` bits; PKCS#8 DER.
pub(crate) fn generate_pkcs8(bits: usize) -> Result<Vec<u8>, WeakRsaError> {
    let key = RsaPrivateKey::new(&mut OsRng, bits)?;
    Ok(key.to_pkcs8_der()?.as_bytes().to_vec())
}

/// A weak RSA key that rcgen can put in, and sign, certificates with (PKCS#1 v1.5, SHA-256).
pub(crate) struct WeakRsaKey {
    key: RsaPrivateKey,
    pkcs8: Vec<u8>,
    public_pkcs1: Vec<u8>,
}

impl WeakRsaKey {
    pub(crate) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, WeakRsaError> {
        let key = RsaPrivateKey::from_pkcs8_der(pkcs8)?;
        let public_pkcs1 = key.to_public_key().to_pkcs1_der()?.as_bytes().to_vec();
        Ok(WeakRsaKey {
            key,
            pkcs8: pkcs8.to_vec(),
            public_pkcs1,
        })
    }

    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl rcgen::PublicKeyData for WeakRsaKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_pkcs1
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for WeakRsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        pkcs1v15::SigningKey::<Sha256>::new(self.key.clone())
            .try_sign(msg)
            .map(|s| s.to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// A rustls signing key for a weak RSA key (PKCS#8 DER).
pub(crate) fn tls_signing_key(
    pkcs8: &[u8],
) -> Result<Arc<dyn rustls::sign::SigningKey>, WeakRsaError> {
    let key = RsaPrivateKey::from_pkcs8_der(pkcs8)?;
    let spki = key.to_public_key().to_public_key_der()?.as_bytes().to_vec();
    Ok(Arc::new(TlsKey {
        key: Arc::new(key),
        spki,
    }))
}

/// Schemes in order of preference; TLS 1.3 offers only the PSS ones.
const SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

struct TlsKey {
    key: Arc<RsaPrivateKey>,
    spki: Vec<u8>,
}

impl std::fmt::Debug for TlsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakRsaTlsKey").finish_non_exhaustive()
    }
}

impl rustls::sign::SigningKey for TlsKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        let scheme = SCHEMES.into_iter().find(|s| offered.contains(s))?;
        Some(Box::new(TlsSigner {
            key: Arc::clone(&self.key),
            scheme,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::RSA
    }
}

struct TlsSigner {
    key: Arc<RsaPrivateKey>,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for TlsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakRsaTlsSigner")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl rustls::sign::Signer for TlsSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let key = RsaPrivateKey::clone(&self.key);
        let signed: Result<Vec<u8>, rsa::signature::Error> = match self.scheme {
            SignatureScheme::RSA_PSS_SHA256 => pss::BlindedSigningKey::<Sha256>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map(|s| s.to_vec()),
            SignatureScheme::RSA_PSS_SHA384 => pss::BlindedSigningKey::<Sha384>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map(|s| s.to_vec()),
            SignatureScheme::RSA_PSS_SHA512 => pss::BlindedSigningKey::<Sha512>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map(|s| s.to_vec()),
            SignatureScheme::RSA_PKCS1_SHA256 => pkcs1v15::SigningKey::<Sha256>::new(key)
                .try_sign(message)
                .map(|s| s.to_vec()),
            SignatureScheme::RSA_PKCS1_SHA384 => pkcs1v15::SigningKey::<Sha384>::new(key)
                .try_sign(message)
                .map(|s| s.to_vec()),
            SignatureScheme::RSA_PKCS1_SHA512 => pkcs1v15::SigningKey::<Sha512>::new(key)
                .try_sign(message)
                .map(|s| s.to_vec()),
            other => {
                return Err(rustls::Error::General(format!(
                    "weak RSA signer cannot do {other:?}"
                )));
            }
        };
        signed.map_err(|e| rustls::Error::General(format!("weak RSA signing failed: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}
