//! The lab's certificates, checked by the verifier a real client uses (rustls + webpki on
//! aws-lc-rs, trusting only the lab CA) and parsed with x509-parser.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{CertificateError, Error as TlsError, RootCertStore};
use rustls_pki_types::{ServerName, UnixTime};
use time::OffsetDateTime;
use ward_lab::certs::{LabCa, WRONG_NAME, lab_crypto_provider};
use ward_lab::hosts::{CertSpec, CertStatus, KeyType};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-26 01:00 UTC)
}

fn unix(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(t.unix_timestamp()).expect("after 1970"),
    ))
}

fn names() -> Vec<String> {
    vec![
        "www.example-party.org.uk".to_owned(),
        "example-party.org.uk".to_owned(),
    ]
}

fn verifier(ca: &LabCa) -> Arc<WebPkiServerVerifier> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca.ca_cert_der().clone())
        .expect("lab CA is a valid root");
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), lab_crypto_provider())
        .build()
        .expect("verifier")
}

/// Verifies the issued certificate for `name` at `at`, as a TLS client would.
fn verify(ca: &LabCa, status: CertStatus, key: KeyType, name: &str) -> Result<(), TlsError> {
    let issued = ca
        .issue(
            &names(),
            &CertSpec {
                status,
                key,
                ..CertSpec::default()
            },
            now(),
        )
        .expect("issue");
    let server_name = ServerName::try_from(name.to_owned()).expect("server name");
    verifier(ca)
        .verify_server_cert(
            &issued.chain[0],
            &issued.chain[1..],
            &server_name,
            &[],
            unix(now()),
        )
        .map(|_| ())
}

#[test]
fn valid_cert_verifies_for_each_of_its_names() {
    let ca = LabCa::new(now()).expect("ca");
    for name in names() {
        assert_eq!(
            verify(&ca, CertStatus::Valid, KeyType::EcdsaP256, &name),
            Ok(())
        );
    }
    let other = verify(
        &ca,
        CertStatus::Valid,
        KeyType::EcdsaP256,
        "other.example-party.org.uk",
    );
    assert!(
        matches!(
            other,
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "a valid certificate must still not cover names it was not issued for: {other:?}"
    );
}

#[test]
fn expiring_soon_verifies_and_has_ten_days_left() {
    let ca = LabCa::new(now()).expect("ca");
    assert_eq!(
        verify(
            &ca,
            CertStatus::ExpiringSoon,
            KeyType::EcdsaP256,
            "example-party.org.uk"
        ),
        Ok(())
    );
    let issued = ca
        .issue(
            &names(),
            &CertSpec {
                status: CertStatus::ExpiringSoon,
                key: KeyType::EcdsaP256,
                ..CertSpec::default()
            },
            now(),
        )
        .expect("issue");
    let (_, cert) = X509Certificate::from_der(&issued.chain[0]).expect("parse");
    let left = cert.validity().not_after.timestamp() - now().unix_timestamp();
    assert_eq!(left, 10 * 86_400);
}

fn verify_error(status: CertStatus) -> CertificateError {
    let ca = LabCa::new(now()).expect("ca");
    match verify(&ca, status, KeyType::EcdsaP256, "www.example-party.org.uk") {
        Err(TlsError::InvalidCertificate(e)) => e,
        other => panic!("{status:?}: expected a certificate error, got {other:?}"),
    }
}

#[test]
fn expired_cert_fails_as_expired() {
    assert!(
        matches!(
            verify_error(CertStatus::Expired),
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        ),
        "{:?}",
        verify_error(CertStatus::Expired)
    );
}

#[test]
fn not_yet_valid_cert_fails_as_not_yet_valid() {
    let e = verify_error(CertStatus::NotYetValid);
    assert!(
        matches!(
            e,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn wrong_name_cert_fails_as_not_valid_for_name() {
    let e = verify_error(CertStatus::WrongName);
    assert!(
        matches!(
            e,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        "{e:?}"
    );
    let ca = LabCa::new(now()).expect("ca");
    assert_eq!(
        verify(&ca, CertStatus::WrongName, KeyType::EcdsaP256, WRONG_NAME),
        Ok(()),
        "the wrong-name certificate is otherwise good: only its name is wrong"
    );
}

#[test]
fn self_signed_cert_fails_as_unknown_issuer() {
    assert_eq!(
        verify_error(CertStatus::SelfSigned),
        CertificateError::UnknownIssuer
    );
}

fn key_of(ca: &LabCa, key: KeyType) -> (Vec<u8>, String) {
    let issued = ca
        .issue(
            &names(),
            &CertSpec {
                status: CertStatus::Valid,
                key,
                ..CertSpec::default()
            },
            now(),
        )
        .expect("issue");
    let (_, cert) = X509Certificate::from_der(&issued.chain[0]).expect("parse");
    let spki = cert.public_key();
    let described = match spki.parsed().expect("known key type") {
        PublicKey::RSA(rsa) => format!("rsa-{}", rsa.key_size()),
        PublicKey::EC(ec) => format!("ec-{}", ec.key_size()),
        other => format!("{other:?}"),
    };
    (
        spki.algorithm.algorithm.to_id_string().into_bytes(),
        described,
    )
}

#[test]
fn rsa_key_sizes_come_out_as_asked() {
    let ca = LabCa::new(now()).expect("ca");
    for (key, want) in [
        (KeyType::Rsa1024, "rsa-1024"),
        (KeyType::Rsa2048, "rsa-2048"),
        (KeyType::Rsa3072, "rsa-3072"),
        (KeyType::Rsa4096, "rsa-4096"),
    ] {
        let (oid, got) = key_of(&ca, key);
        assert_eq!(got, want, "{key:?}");
        assert_eq!(oid, b"1.2.840.113549.1.1.1", "{key:?} is rsaEncryption");
        assert_eq!(
            verify(&ca, CertStatus::Valid, key, "www.example-party.org.uk"),
            Ok(()),
            "{key:?}: the CA signs the weak key's certificate like any other"
        );
    }
}

#[test]
fn other_key_types_come_out_as_asked() {
    let ca = LabCa::new(now()).expect("ca");
    assert_eq!(key_of(&ca, KeyType::EcdsaP256).1, "ec-256");
    assert_eq!(key_of(&ca, KeyType::EcdsaP384).1, "ec-384");
    assert_eq!(key_of(&ca, KeyType::Ed25519).0, b"1.3.101.112");
}

#[test]
fn self_signed_weak_rsa_is_signed_by_itself() {
    let ca = LabCa::new(now()).expect("ca");
    let issued = ca
        .issue(
            &names(),
            &CertSpec {
                status: CertStatus::SelfSigned,
                key: KeyType::Rsa1024,
                ..CertSpec::default()
            },
            now(),
        )
        .expect("issue");
    let (_, cert) = X509Certificate::from_der(&issued.chain[0]).expect("parse");
    assert_eq!(cert.issuer(), cert.subject());
    // x509-parser's own verifier would pull in ring; check with the rsa crate instead.
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let public =
        rsa::RsaPublicKey::from_public_key_der(cert.public_key().raw).expect("rsa public key");
    let signature =
        rsa::pkcs1v15::Signature::try_from(cert.signature_value.data.as_ref()).expect("sig");
    rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public)
        .verify(cert.tbs_certificate.as_ref(), &signature)
        .expect("signature verifies with the certificate's own 1024-bit key");
}

#[test]
fn every_issued_cert_loads_into_rustls() {
    let ca = LabCa::new(now()).expect("ca");
    let provider = lab_crypto_provider();
    for key in [
        KeyType::Rsa1024,
        KeyType::Rsa2048,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
    ] {
        let issued = ca
            .issue(
                &names(),
                &CertSpec {
                    status: CertStatus::Valid,
                    key,
                    ..CertSpec::default()
                },
                now(),
            )
            .expect("issue");
        issued
            .certified_key(&provider)
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
    }
}
