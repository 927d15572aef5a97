//! What a TLS scan of one endpoint saw: protocol versions, cipher suites, key exchange,
//! certificates — every failure kept as data.
//!
//! The TLS engine in `ward-probe` fills these in; the checks in `ward-checks` judge them.
//! Protocol numbers are newtypes over the wire integer (STYLE T4): a value ward has no
//! name for survives as its number, so a server that picks an odd suite is recorded, not
//! rejected.
//!
//! The three states apply per version: [`VersionStatus::Supported`] is proven by a
//! ServerHello, [`VersionStatus::NotSupported`] by an alert (or the server answering with a
//! different version), and everything else — refused, reset, timed out, garbage — is
//! [`VersionStatus::CouldNotTell`].

use crate::net_failure::NetFailure;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

macro_rules! wire_u16 {
    ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $c:ident = $v:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u16);
        impl $name {
            $($(#[$cm])* pub const $c: Self = Self($v);)*
            /// The name ward knows for this value, if any.
            pub fn known_name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(stringify!($c)),)*
                    _ => None,
                }
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.known_name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#06x}", self.0),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    };
}

wire_u16!(
    /// A protocol version as it appears on the wire (`0x0303` is TLS 1.2).
    ProtocolVersion {
        /// SSL 3.0 (RFC 6101), prohibited by RFC 7568.
        SSLV3 = 0x0300,
        /// TLS 1.0, deprecated by RFC 8996.
        TLS10 = 0x0301,
        /// TLS 1.1, deprecated by RFC 8996.
        TLS11 = 0x0302,
        /// TLS 1.2 (RFC 5246).
        TLS12 = 0x0303,
        /// TLS 1.3 (RFC 8446).
        TLS13 = 0x0304,
    }
);

wire_u16!(
    /// A key-exchange group (IANA "TLS Supported Groups").
    NamedGroup {
        /// secp256r1 (P-256).
        SECP256R1 = 0x0017,
        /// secp384r1 (P-384).
        SECP384R1 = 0x0018,
        /// secp521r1 (P-521).
        SECP521R1 = 0x0019,
        /// X25519.
        X25519 = 0x001d,
        /// X448.
        X448 = 0x001e,
        /// RFC 7919 2048-bit group.
        FFDHE2048 = 0x0100,
        /// RFC 7919 3072-bit group.
        FFDHE3072 = 0x0101,
        /// RFC 7919 4096-bit group.
        FFDHE4096 = 0x0102,
        /// RFC 7919 6144-bit group.
        FFDHE6144 = 0x0103,
        /// RFC 7919 8192-bit group.
        FFDHE8192 = 0x0104,
        /// X25519 + ML-KEM-768 hybrid.
        X25519MLKEM768 = 0x11ec,
    }
);

/// A cipher suite code point; the name is recorded next to it by the probe because the
/// registry is long (see [`SuiteSeen`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CipherSuite(pub u16);

impl std::fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// An alert description (RFC 8446 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// handshake_failure (40): no common parameters.
    pub const HANDSHAKE_FAILURE: Self = Self(40);
    /// protocol_version (70): the version is not supported.
    pub const PROTOCOL_VERSION: Self = Self(70);
    /// insufficient_security (71).
    pub const INSUFFICIENT_SECURITY: Self = Self(71);
    /// illegal_parameter (47).
    pub const ILLEGAL_PARAMETER: Self = Self(47);
    /// decode_error (50).
    pub const DECODE_ERROR: Self = Self(50);
    /// internal_error (80).
    pub const INTERNAL_ERROR: Self = Self(80);

    /// Whether this alert, in answer to a ClientHello, means "I don't do what you
    /// offered" (as opposed to "your message was broken" or "I am broken").
    pub fn means_not_supported(self) -> bool {
        matches!(self.0, 40 | 70 | 71)
    }
}

/// A cipher suite with the name ward knows for it (IANA spelling), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSeen {
    /// The code point.
    pub id: CipherSuite,
    /// The IANA name, `None` for a code point ward has no name for.
    pub name: Option<String>,
}

/// How the server answered one ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HelloOutcome {
    /// A ServerHello (or HelloRetryRequest) that accepted what we offered.
    Accepted {
        /// The version it chose.
        version: ProtocolVersion,
        /// The suite it chose.
        suite: CipherSuite,
        /// The key-exchange group, where the first flight names it.
        group: Option<NamedGroup>,
        /// It was a HelloRetryRequest (TLS 1.3: none of our key shares suited it).
        retry_request: bool,
    },
    /// A ServerHello with a version other than the one we asked for.
    OtherVersion {
        /// What it chose instead.
        version: ProtocolVersion,
    },
    /// A fatal alert.
    Alert {
        /// The alert level byte (2 = fatal).
        level: u8,
        /// Which alert.
        description: AlertDescription,
    },
    /// The connection could not be made, or it broke before a whole reply arrived.
    Network {
        /// What happened.
        failure: NetFailure,
    },
    /// The reply could not be decoded.
    Malformed {
        /// What was being read.
        what: String,
        /// Byte offset into the server's stream.
        at: usize,
        /// What was wrong.
        reason: String,
    },
    /// The reply was well formed but broke the protocol (a suite or version we never
    /// offered, an unexpected message).
    Misbehaved {
        /// What it did.
        detail: String,
    },
}

/// Whether a protocol version is supported, with the answer that proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// A ServerHello with this version.
    Supported,
    /// An alert meaning "not supported", or a ServerHello with another version.
    NotSupported,
    /// Anything else: refused, reset, timed out, malformed.
    CouldNotTell,
}

/// Everything learnt about one protocol version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionScan {
    /// The version.
    pub version: ProtocolVersion,
    /// Supported or not, or could not tell.
    pub status: VersionStatus,
    /// The answer to the first ClientHello offering everything ward knows for this version.
    pub first_answer: HelloOutcome,
    /// Accepted suites, in the order the server chose them when [`Self::server_order`]
    /// is true, otherwise in the order they were found.
    pub suites: Vec<SuiteSeen>,
    /// The server picks by its own preference (checked by offering the accepted suites
    /// in two opposite orders). `None` with fewer than two suites.
    pub server_order: Option<bool>,
    /// Key-exchange groups seen with this version.
    pub groups: Vec<NamedGroup>,
    /// Size of the finite-field DH prime, in bits, for DHE suites.
    pub dh_bits: Option<u32>,
    /// Why suite enumeration stopped early, if it did (the list may be incomplete).
    pub incomplete: Option<HelloOutcome>,
}

/// A certificate chain as presented, with what ward made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertChainSeen {
    /// How it was obtained: `"rustls"` (a full TLS 1.2/1.3 handshake) or
    /// `"certificate_message"` (read from a pre-1.3 first flight).
    pub source: String,
    /// The certificates, leaf first, as the server sent them.
    pub certs: Vec<CertSeen>,
    /// Validation against the trust anchors for the host name; `None` if it validated.
    pub validation_error: Option<String>,
    /// Machine-readable kind of [`Self::validation_error`]: `expired`, `not_yet_valid`,
    /// `name_mismatch`, `unknown_issuer`, `bad_signature`, `other`.
    pub validation_kind: Option<String>,
    /// The host name it was checked against.
    pub hostname: String,
    /// When the chain is out of order (a certificate not followed by its issuer) or
    /// carries a certificate nobody in it was issued by, which one, as text. Browsers
    /// often cope; other clients (mail servers, older devices) fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_problem: Option<String>,
    /// The chain is incomplete: the last certificate on the path from the leaf is issued
    /// by this name (a DN), which the server did not send and no trust anchor has.
    /// Clients that do not fetch missing intermediates (most non-browsers) fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_issuer: Option<String>,
    /// Certificates sent that are not on the path from the leaf (subjects): unrelated
    /// extras, which cost bytes in every handshake but break nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_certs: Vec<String>,
    /// The stapled OCSP response (from rustls, or from the CertificateStatus message of a
    /// pre-1.3 first flight). `None` when stapling was not asked about (SSL 3.0 has no
    /// extensions) or the scan was stored before ward recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp: Option<OcspStaple>,
}

/// What the server stapled in answer to `status_request` (RFC 6066 §8; RFC 8446 §4.4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OcspStaple {
    /// Asked for, and nothing was stapled.
    NotStapled,
    /// A response was stapled; what it says.
    Stapled(OcspSeen),
    /// Something was stapled that is not a readable OCSP response.
    Malformed {
        /// What was wrong, with the byte offset.
        reason: String,
    },
}

/// A stapled OCSP response (RFC 6960 §4.2), as read. Judging its freshness against the
/// scan time is the checks' job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcspSeen {
    /// `responseStatus`: `successful`, `malformed_request`, `internal_error`,
    /// `try_later`, `sig_required`, `unauthorized`, or the number.
    pub response_status: String,
    /// The answer about the leaf certificate; `None` when the response is not
    /// `successful` or has no entry for the leaf's serial number.
    pub cert_status: Option<OcspCertStatus>,
    /// The response has entries, but none for the leaf's serial number.
    pub for_other_certificate: bool,
    /// `thisUpdate` of the leaf's entry.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub this_update: Option<OffsetDateTime>,
    /// `nextUpdate` of the leaf's entry: after it, the response is stale.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// Whether the response's signature checks against the leaf's issuer.
    pub signature: OcspSignature,
}

/// `certStatus` of a SingleResponse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OcspCertStatus {
    /// `good`.
    Good,
    /// `revoked`, with when (and the CRL reason code, if given).
    Revoked {
        /// `revocationTime`.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// `revocationReason` (RFC 5280 §5.3.1), if given.
        reason: Option<u8>,
    },
    /// `unknown`: the responder does not know the certificate.
    Unknown,
}

/// Whether a stapled response's signature was checked (STYLE T3: unchecked is said, never
/// counted as good or bad).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OcspSignature {
    /// Signed by the leaf's issuer.
    Verified,
    /// The signature does not verify with the issuer's key.
    Bad,
    /// Not checked, and why (issuer not available, delegated responder, algorithm).
    Unchecked {
        /// Why not.
        why: String,
    },
}

/// One certificate's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSeen {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS names in the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// Not before.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// Not after.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `rsa`, `ec`, `ed25519`, `ed448`, or the OID.
    pub key_type: String,
    /// Key size in bits (RSA modulus, EC field size).
    pub key_bits: Option<u32>,
    /// Signature algorithm OID name (e.g. `sha256WithRSAEncryption`).
    pub signature_algorithm: String,
    /// The signature uses SHA-1 (or MD5).
    pub weak_signature: bool,
    /// The DER could not be parsed; then the other fields are empty.
    pub parse_error: Option<String>,
    /// What DANE TLSA records are matched against (RFC 6698 §2.1): the certificate and
    /// its SubjectPublicKeyInfo, in full and hashed. `None` when not computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<DaneData>,
}

/// A certificate's TLSA association data, all lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaneData {
    /// The whole certificate (selector 0, matching type 0).
    pub cert: String,
    /// SHA-256 of the certificate (selector 0, matching type 1).
    pub cert_sha256: String,
    /// SHA-512 of the certificate (selector 0, matching type 2).
    pub cert_sha512: String,
    /// The SubjectPublicKeyInfo (selector 1, matching type 0).
    pub spki: String,
    /// SHA-256 of the SubjectPublicKeyInfo (selector 1, matching type 1).
    pub spki_sha256: String,
    /// SHA-512 of the SubjectPublicKeyInfo (selector 1, matching type 2).
    pub spki_sha512: String,
}

/// Where an SMTP STARTTLS exchange stopped, and what was learnt on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTlsSeen {
    /// The banner's text lines (after the code), as sent.
    pub banner: Vec<String>,
    /// The EHLO keywords (upper case), if EHLO was answered.
    pub ehlo_keywords: Vec<String>,
    /// How it ended.
    pub outcome: StartTlsOutcome,
}

/// How an SMTP STARTTLS exchange ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartTlsOutcome {
    /// `220` to STARTTLS: the TLS handshake may begin.
    Ready,
    /// EHLO was answered without STARTTLS.
    NotOffered,
    /// The server answered with a non-success code at `stage` (`banner`, `ehlo`,
    /// `starttls`). 4xx (greylisting, "try later") is could-not-tell.
    Refused {
        /// Which step.
        stage: String,
        /// The reply code.
        code: u16,
        /// The reply text, first line.
        text: String,
    },
    /// The connection failed at `stage`.
    Network {
        /// Which step.
        stage: String,
        /// What happened.
        failure: NetFailure,
    },
    /// The port answered, but its first bytes cannot begin an SMTP reply (three digits):
    /// another protocol, or none. Says nothing about STARTTLS.
    NotSmtp {
        /// Which step (`banner`, `ehlo`, `starttls`).
        stage: String,
        /// The first bytes of the reply, escaped ([`crate::wire::printable`]).
        first_bytes: String,
    },
    /// The reply could not be read as SMTP, or broke the protocol (for example bytes
    /// after the `220` to STARTTLS, which a man in the middle could have injected).
    Misbehaved {
        /// Which step.
        stage: String,
        /// What was wrong.
        detail: String,
    },
}

/// A TLS scan of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsScan {
    /// The address scanned.
    pub ip: String,
    /// The well-known port (443, 25, ...), before lab substitution.
    pub port: u16,
    /// Server name sent in SNI and checked on the certificate.
    pub hostname: String,
    /// `"direct"` or `"starttls_smtp"`.
    pub transport: String,
    /// One entry per version tried, oldest first.
    pub versions: Vec<VersionScan>,
    /// The certificate chain, if one was obtained.
    pub chain: Option<CertChainSeen>,
    /// Why the full (rustls) handshake did not give a chain, when it did not; the chain
    /// may then still come from a Certificate message.
    pub chain_failure: Option<String>,
    /// For `starttls_smtp`: the first SMTP exchange. When it did not end in
    /// [`StartTlsOutcome::Ready`], no TLS was attempted and `versions` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<StartTlsSeen>,
    /// TCP connections made for this scan (politeness budget evidence).
    pub connections: u32,
    /// When versions and suites were learnt from an earlier scan of the same address and
    /// port in this run (hundreds of branches share a hosting server), the host name that
    /// scan was made for; `connections` then counts only this host name's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_from: Option<String>,
}

impl TlsScan {
    /// The versions with [`VersionStatus::Supported`].
    pub fn supported_versions(&self) -> Vec<ProtocolVersion> {
        self.versions
            .iter()
            .filter(|v| v.status == VersionStatus::Supported)
            .map(|v| v.version)
            .collect()
    }
}

/// Whether a suite gives forward secrecy: TLS 1.3 suites always do; below 1.3 those
/// with an ephemeral (EC)DH key exchange.
pub fn forward_secret(version: ProtocolVersion, name: Option<&str>) -> bool {
    version == ProtocolVersion::TLS13
        || name.is_some_and(|n| n.contains("_DHE_") || n.contains("_ECDHE_"))
}
