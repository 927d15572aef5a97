//! Hand-built ClientHellos for SSL 3.0 through TLS 1.3.
//!
//! The engine never finishes these handshakes: a ServerHello (or an alert) is the whole
//! answer, as sslyze and testssl.sh prove support. So the TLS 1.3 key shares are
//! throwaway public values with no private key kept: 32 random bytes for X25519 (every
//! string is a valid X25519 public key) and the P-256 base point for secp256r1 (a valid
//! point the server will accept, RFC 8446 §4.2.8.2).

use super::codec::put_prefixed;
use std::hash::{BuildHasher, Hasher};
use ward_model::tls::{NamedGroup, ProtocolVersion};

const EXT_SERVER_NAME: u16 = 0;
const EXT_STATUS_REQUEST: u16 = 5;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_EC_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_KEY_SHARE: u16 = 51;

/// Groups offered in supported_groups, most preferred first.
pub const OFFERED_GROUPS: [NamedGroup; 10] = [
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
    NamedGroup::SECP521R1,
    NamedGroup::X448,
    NamedGroup::FFDHE2048,
    NamedGroup::FFDHE3072,
    NamedGroup::FFDHE4096,
    NamedGroup::FFDHE6144,
    NamedGroup::FFDHE8192,
];

/// Signature schemes offered (TLS 1.2 and 1.3), SHA-1 included so legacy servers answer.
const SIGNATURE_SCHEMES: [u16; 17] = [
    0x0403, 0x0503, 0x0603, // ecdsa_secp{256,384,521}r1_sha{256,384,512}
    0x0807, 0x0808, // ed25519, ed448
    0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha*
    0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha*
    0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha*
    0x0203, 0x0201, 0x0202, // ecdsa_sha1, rsa_pkcs1_sha1, dsa_sha1
];

/// The uncompressed P-256 base point (SEC 2 §2.4.2): a valid public key share.
const P256_BASE_POINT: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// What to put in one ClientHello.
#[derive(Debug, Clone)]
pub struct HelloSpec<'a> {
    /// The version to offer (for TLS 1.3, through supported_versions).
    pub version: ProtocolVersion,
    /// Cipher suites, in our order of preference.
    pub suites: &'a [u16],
    /// SNI host name, if it is a name (not an address literal).
    pub server_name: Option<&'a str>,
}

/// Random bytes good enough for a ClientHello random and a throwaway X25519 share:
/// nothing secret depends on them.
pub fn nonce() -> [u8; 32] {
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(chunk.as_ptr() as usize);
        let v = h.finish().to_be_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

fn ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    put_prefixed(out, 2, body);
}

fn u16_list(values: impl IntoIterator<Item = u16>) -> Vec<u8> {
    values.into_iter().flat_map(u16::to_be_bytes).collect()
}

/// The ClientHello as a complete TLS record.
pub fn client_hello(spec: &HelloSpec<'_>) -> Vec<u8> {
    let tls13 = spec.version >= ProtocolVersion::TLS13;
    let legacy_version = if tls13 {
        ProtocolVersion::TLS12
    } else {
        spec.version
    };

    let mut body = Vec::with_capacity(1024);
    body.extend_from_slice(&legacy_version.0.to_be_bytes());
    body.extend_from_slice(&nonce());
    // A 32-byte session id in 1.3 (middlebox compatibility, RFC 8446 §D.4), empty below.
    let session_id = if tls13 { nonce().to_vec() } else { Vec::new() };
    put_prefixed(&mut body, 1, &session_id);
    put_prefixed(&mut body, 2, &u16_list(spec.suites.iter().copied()));
    put_prefixed(&mut body, 1, &[0]); // compression: null only

    // SSL 3.0 servers predate extensions; some choke on them.
    if spec.version > ProtocolVersion::SSLV3 {
        let mut exts = Vec::new();
        if let Some(name) = spec.server_name {
            let mut entry = vec![0u8]; // host_name
            put_prefixed(&mut entry, 2, name.as_bytes());
            let mut list = Vec::new();
            put_prefixed(&mut list, 2, &entry);
            ext(&mut exts, EXT_SERVER_NAME, &list);
        }
        // status_request (RFC 6066 §8): OCSP, no responder ids, no extensions. Servers
        // that staple answer with a CertificateStatus message after the Certificate.
        ext(&mut exts, EXT_STATUS_REQUEST, &[1, 0, 0, 0, 0]);
        let mut groups = Vec::new();
        put_prefixed(
            &mut groups,
            2,
            &u16_list(OFFERED_GROUPS.iter().map(|g| g.0)),
        );
        ext(&mut exts, EXT_SUPPORTED_GROUPS, &groups);
        ext(&mut exts, EXT_EC_POINT_FORMATS, &[1, 0]); // uncompressed
        if spec.version >= ProtocolVersion::TLS12 {
            let mut sigs = Vec::new();
            put_prefixed(&mut sigs, 2, &u16_list(SIGNATURE_SCHEMES));
            ext(&mut exts, EXT_SIGNATURE_ALGORITHMS, &sigs);
        }
        if tls13 {
            let mut versions = Vec::new();
            put_prefixed(&mut versions, 1, &ProtocolVersion::TLS13.0.to_be_bytes());
            ext(&mut exts, EXT_SUPPORTED_VERSIONS, &versions);
            let mut shares = Vec::new();
            shares.extend_from_slice(&NamedGroup::X25519.0.to_be_bytes());
            put_prefixed(&mut shares, 2, &nonce());
            shares.extend_from_slice(&NamedGroup::SECP256R1.0.to_be_bytes());
            put_prefixed(&mut shares, 2, &P256_BASE_POINT);
            let mut ks = Vec::new();
            put_prefixed(&mut ks, 2, &shares);
            ext(&mut exts, EXT_KEY_SHARE, &ks);
        }
        put_prefixed(&mut body, 2, &exts);
    }

    let mut handshake = vec![1u8]; // client_hello
    put_prefixed(&mut handshake, 3, &body);

    // Record version: 0x0300 for SSL 3.0, 0x0301 otherwise (what servers tolerate best).
    let record_version = if spec.version == ProtocolVersion::SSLV3 {
        ProtocolVersion::SSLV3
    } else {
        ProtocolVersion::TLS10
    };
    let mut record = vec![22u8];
    record.extend_from_slice(&record_version.0.to_be_bytes());
    put_prefixed(&mut record, 2, &handshake);
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::codec::Reader;

    #[test]
    fn tls12_hello_has_the_shape_servers_expect() {
        let rec = client_hello(&HelloSpec {
            version: ProtocolVersion::TLS12,
            suites: &[0xc02f, 0x0035],
            server_name: Some("example.org"),
        });
        let mut r = Reader::new(&rec, 0);
        assert_eq!(r.u8("type").unwrap().unverified(), 22);
        assert_eq!(r.u16("version").unwrap().unverified(), 0x0301);
        let mut hs = r.sub_u16("record").unwrap();
        r.finish("record").unwrap();
        assert_eq!(hs.u8("msg").unwrap().unverified(), 1);
        let mut body = hs.sub_u24("hello", 1 << 14).unwrap();
        hs.finish("hs").unwrap();
        assert_eq!(body.u16("v").unwrap().unverified(), 0x0303);
        body.take(32, "random").unwrap();
        assert_eq!(body.sub_u8("sid").unwrap().left(), 0);
        assert_eq!(
            body.sub_u16("suites").unwrap().rest(),
            &[0xc0, 0x2f, 0x00, 0x35]
        );
        assert_eq!(body.sub_u8("comp").unwrap().rest(), &[0]);
        let mut exts = body.sub_u16("exts").unwrap();
        body.finish("hello").unwrap();
        let mut kinds = Vec::new();
        while !exts.is_empty() {
            kinds.push(exts.u16("kind").unwrap().unverified());
            exts.sub_u16("ext").unwrap();
        }
        assert_eq!(kinds, [0, 5, 10, 11, 13]);
    }

    #[test]
    fn sslv3_hello_has_no_extensions() {
        let rec = client_hello(&HelloSpec {
            version: ProtocolVersion::SSLV3,
            suites: &[0x000a],
            server_name: Some("example.org"),
        });
        // 5 record + 4 handshake + 2 version + 32 random + 1 sid + 4 suites + 2 comp.
        assert_eq!(rec.len(), 5 + 4 + 2 + 32 + 1 + 4 + 2);
        assert_eq!(&rec[..3], &[22, 3, 0]);
    }
}
