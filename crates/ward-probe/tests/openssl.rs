//! The must-hold test for the TLS engine (issue 4): real Debian `openssl s_server`
//! processes with known protocol and cipher sets, and ward must report exactly those
//! sets — no more, no fewer.
//!
//! Each server is started on a free loopback port, with `-www` so it keeps accepting,
//! and the test waits for its `ACCEPT` line against a deadline (no sleeps). The process
//! is killed on drop. ward reaches it through a lab-mode `Net` that maps port 443 to the
//! server's port, so the code path is the one used on the internet.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use ward_model::tls::{
    AlertDescription, HelloOutcome, NamedGroup, ProtocolVersion, TlsScan, VersionScan,
    VersionStatus,
};
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::tls::{TlsTarget, Transport, scan_with};

mod common;
use common::{Server, free_port};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A certificate for `localhost` (RSA 2048), made once per test binary.
fn credentials() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static CREDS: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    CREDS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ])
            // A leaf, not a CA: what a self-signed server certificate looks like.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed (apt-get install openssl)");
        assert!(status.success(), "openssl req failed");
        (dir, key, cert)
    })
}

/// `openssl s_server` with the `localhost` certificate and `args`.
fn start_server(args: &[&str]) -> Server {
    let (_, key, cert) = credentials();
    common::start(|| {
        let mut cmd = Command::new("openssl");
        cmd.arg("s_server")
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .arg("-www")
            .args(args);
        cmd
    })
}

fn net_for(port: u16) -> Net {
    let mut map = BTreeMap::new();
    map.insert(443, port);
    let cfg = NetConfig::builder(SocketAddr::from(([127, 0, 0, 1], 53)))
        .dangerous_lab_mode(PortMap(map))
        .build();
    Net::new(cfg).expect("net")
}

async fn scan_port(port: u16) -> TlsScan {
    let net = net_for(port);
    let target = TlsTarget {
        transport: Transport::Direct,
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 443,
        hostname: "localhost".into(),
    };
    let now = time::OffsetDateTime::now_utc();
    scan_with(&net, &target, now, HANDSHAKE_TIMEOUT).await
}

fn version(scan: &TlsScan, v: ProtocolVersion) -> &VersionScan {
    scan.versions
        .iter()
        .find(|s| s.version == v)
        .expect("every version is reported")
}

fn suites(scan: &TlsScan, v: ProtocolVersion) -> Vec<u16> {
    version(scan, v).suites.iter().map(|s| s.id.0).collect()
}

fn statuses(scan: &TlsScan) -> Vec<(ProtocolVersion, VersionStatus)> {
    scan.versions
        .iter()
        .map(|v| (v.version, v.status.clone()))
        .collect()
}

fn supported_only(on: &[ProtocolVersion]) -> Vec<(ProtocolVersion, VersionStatus)> {
    ward_probe::tls::VERSIONS
        .iter()
        .map(|v| {
            let s = if on.contains(v) {
                VersionStatus::Supported
            } else {
                VersionStatus::NotSupported
            };
            (*v, s)
        })
        .collect()
}

fn sorted(mut v: Vec<u16>) -> Vec<u16> {
    v.sort_unstable();
    v
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

macro_rules! need_openssl {
    () => {
        assert!(
            openssl_available(),
            "these tests need Debian's openssl binary: apt-get install openssl"
        );
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_only_with_three_suites_in_server_order() {
    need_openssl!();
    let server = start_server(&[
        "-tls1_2",
        "-serverpref",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA:DHE-RSA-AES128-SHA",
    ]);
    let scan = scan_port(server.port).await;
    assert_eq!(statuses(&scan), supported_only(&[ProtocolVersion::TLS12]));
    // The server's order, because it enforces one.
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS12),
        [0xc02f, 0x0035, 0x0033]
    );
    let v12 = version(&scan, ProtocolVersion::TLS12);
    assert_eq!(v12.server_order, Some(true));
    assert_eq!(v12.groups, [NamedGroup::X25519]);
    // OpenSSL's automatic DH parameters match the 2048-bit RSA key.
    assert_eq!(v12.dh_bits, Some(2048));
    assert_eq!(v12.incomplete, None);
    // Versions it does not speak are refused with protocol_version, not dropped.
    for v in [
        ProtocolVersion::TLS10,
        ProtocolVersion::TLS11,
        ProtocolVersion::TLS13,
    ] {
        assert_eq!(
            version(&scan, v).first_answer,
            HelloOutcome::Alert {
                level: 2,
                description: AlertDescription::PROTOCOL_VERSION
            },
            "{v}"
        );
    }
    // Politeness: one per accepted suite plus one refusal, plus the order check, per
    // supported version; one per unsupported version; one full handshake.
    assert_eq!(scan.connections, (3 + 1 + 1) + 4 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_order_server_is_reported_as_such() {
    need_openssl!();
    let server = start_server(&[
        "-tls1_2",
        "-cipher",
        "AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA256",
    ]);
    let scan = scan_port(server.port).await;
    assert_eq!(statuses(&scan), supported_only(&[ProtocolVersion::TLS12]));
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS12),
        [0x003c, 0x009d, 0xcca8]
    );
    assert_eq!(
        version(&scan, ProtocolVersion::TLS12).server_order,
        Some(false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_protocols_at_seclevel_0() {
    need_openssl!();
    let server = start_server(&[
        "-min_protocol",
        "TLSv1",
        "-no_tls1_3",
        "-cipher",
        "AES128-SHA:ECDHE-RSA-AES256-SHA:CAMELLIA256-SHA:AES128-GCM-SHA256:@SECLEVEL=0",
    ]);
    let scan = scan_port(server.port).await;
    assert_eq!(
        statuses(&scan),
        supported_only(&[
            ProtocolVersion::TLS10,
            ProtocolVersion::TLS11,
            ProtocolVersion::TLS12
        ])
    );
    // GCM exists only from TLS 1.2 on.
    let old = vec![0x002f, 0x0084, 0xc014];
    assert_eq!(suites(&scan, ProtocolVersion::TLS10), old);
    assert_eq!(suites(&scan, ProtocolVersion::TLS11), old);
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS12),
        [0x002f, 0x0084, 0x009c, 0xc014]
    );
    // rustls speaks none of these suites (CBC, Camellia, RSA key exchange), so the chain
    // comes from the TLS 1.2 Certificate message; it is self-signed.
    let chain = scan.chain.as_ref().expect("chain");
    assert_eq!(chain.source, "certificate_message");
    assert!(
        scan.chain_failure
            .as_deref()
            .is_some_and(|f| f.contains("HandshakeFailure")),
        "{:?}",
        scan.chain_failure
    );
    assert_eq!(chain.validation_kind.as_deref(), Some("unknown_issuer"));
    assert_eq!(chain.certs.len(), 1);
    assert_eq!(chain.certs[0].dns_names, ["localhost"]);
    assert_eq!(chain.certs[0].key_type, "rsa");
    assert_eq!(chain.certs[0].key_bits, Some(2048));
    assert!(!chain.certs[0].weak_signature);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls10_only_chain_comes_from_the_certificate_message() {
    need_openssl!();
    let server = start_server(&["-tls1", "-cipher", "AES256-SHA:@SECLEVEL=0"]);
    let scan = scan_port(server.port).await;
    assert_eq!(statuses(&scan), supported_only(&[ProtocolVersion::TLS10]));
    assert_eq!(suites(&scan, ProtocolVersion::TLS10), [0x0035]);
    let chain = scan.chain.as_ref().expect("chain");
    assert_eq!(chain.source, "certificate_message");
    assert_eq!(chain.certs[0].dns_names, ["localhost"]);
    assert_eq!(chain.validation_kind.as_deref(), Some("unknown_issuer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_suites_and_hello_retry_request() {
    need_openssl!();
    // Only P-384: neither of ward's key shares fits, so the server must ask again.
    let server = start_server(&[
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256",
        "-groups",
        "P-384",
    ]);
    let scan = scan_port(server.port).await;
    assert_eq!(statuses(&scan), supported_only(&[ProtocolVersion::TLS13]));
    assert_eq!(
        sorted(suites(&scan, ProtocolVersion::TLS13)),
        [0x1302, 0x1303, 0x1304]
    );
    let v13 = version(&scan, ProtocolVersion::TLS13);
    assert_eq!(v13.groups, [NamedGroup::SECP384R1]);
    assert!(matches!(
        v13.first_answer,
        HelloOutcome::Accepted {
            retry_request: true,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_and_13_together_with_x25519() {
    need_openssl!();
    let server = start_server(&[
        "-min_protocol",
        "TLSv1.2",
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "-groups",
        "X25519:P-256",
    ]);
    let scan = scan_port(server.port).await;
    assert_eq!(
        statuses(&scan),
        supported_only(&[ProtocolVersion::TLS12, ProtocolVersion::TLS13])
    );
    assert_eq!(suites(&scan, ProtocolVersion::TLS12), [0xc030]);
    assert_eq!(suites(&scan, ProtocolVersion::TLS13), [0x1301]);
    let v13 = version(&scan, ProtocolVersion::TLS13);
    assert_eq!(v13.groups, [NamedGroup::X25519]);
    assert_eq!(v13.server_order, None);
    let chain = scan.chain.as_ref().expect("chain");
    assert_eq!(chain.source, "rustls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p256_key_share_is_accepted() {
    need_openssl!();
    let server = start_server(&[
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
        "-groups",
        "P-256",
    ]);
    let scan = scan_port(server.port).await;
    let v13 = version(&scan, ProtocolVersion::TLS13);
    assert_eq!(v13.status, VersionStatus::Supported);
    assert!(matches!(
        v13.first_answer,
        HelloOutcome::Accepted {
            retry_request: false,
            ..
        }
    ));
    assert_eq!(v13.groups, [NamedGroup::SECP256R1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_port_is_could_not_tell_not_unsupported() {
    // Nothing listens there.
    let port = free_port();
    let scan = scan_port(port).await;
    for v in &scan.versions {
        assert_eq!(v.status, VersionStatus::CouldNotTell, "{}", v.version);
        assert_eq!(
            v.first_answer,
            HelloOutcome::Network {
                failure: ward_model::NetFailure::Refused
            }
        );
    }
    assert_eq!(scan.chain, None);
    assert_eq!(scan.connections, 6);
}

/// The suites `openssl ciphers` says a TLS 1.2 server configured with `spec` and an RSA
/// certificate can choose: RSA-authenticated and anonymous ones.
fn openssl_rsa_suites(spec: &str) -> Vec<u16> {
    let out = Command::new("openssl")
        .args(["ciphers", "-V", "-s", "-tls1_2", spec])
        .output()
        .expect("openssl ciphers");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("ASCII");
    let mut ids: Vec<u16> = text
        .lines()
        .filter(|l| l.contains("Au=RSA") || l.contains("Au=None"))
        .filter(|l| !l.contains(" TLS_")) // the TLS 1.3 suites are listed too
        .filter_map(|l| {
            let code = l.split_whitespace().next()?;
            let (hi, lo) = code.split_once(',')?;
            let hi = u8::from_str_radix(hi.trim_start_matches("0x"), 16).ok()?;
            let lo = u8::from_str_radix(lo.trim_start_matches("0x"), 16).ok()?;
            Some(u16::from_be_bytes([hi, lo]))
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_suite_openssl_offers_at_seclevel_0_and_no_other() {
    need_openssl!();
    let spec = "ALL:@SECLEVEL=0";
    let expected = openssl_rsa_suites(spec);
    // Debian's OpenSSL 3: ECDHE, DHE, RSA and anonymous suites with AES, ChaCha20,
    // Camellia and ARIA; no 3DES, RC4 or SEED. The filter must not be vacuous.
    assert!(expected.len() >= 50, "{expected:x?}");
    let server = start_server(&["-tls1_2", "-cipher", spec]);
    let scan = scan_port(server.port).await;
    assert_eq!(statuses(&scan), supported_only(&[ProtocolVersion::TLS12]));
    assert_eq!(suites(&scan, ProtocolVersion::TLS12), expected);
    let v12 = version(&scan, ProtocolVersion::TLS12);
    assert_eq!(v12.incomplete, None);
    // One connection per accepted suite, one refusal, one order check, four other
    // versions, one full handshake: far below sslyze's several hundred.
    assert_eq!(scan.connections as usize, expected.len() + 1 + 1 + 4 + 1);
}

/// RFC 2409 §6.2 (second Oakley group, 1024-bit MODP), as `openssl dhparam` writes it.
const OAKLEY_GROUP_2: &str = "-----BEGIN DH PARAMETERS-----
MIGHAoGBAP//////////yQ/aoiFowjTExmKLgNwc0SkCTgiKZ8x0Agu+pjsTmyJR
Sgh5jjQE3e+VGbPNOkMbMCsKbfJfFDdP4TVtbVHCReSFtXZiXn7G9ExC6aY37WsL
/1y29Aa37e44a/taiZ+lrp8kEXxLH+ZJKGZR7OZTgf//////////AgEC
-----END DH PARAMETERS-----
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_dh_group_and_named_groups_are_reported() {
    need_openssl!();
    // RFC 2409's 1024-bit MODP group (Oakley group 2), g = 2: the classic weak group.
    let dir = tempfile::tempdir().expect("temp dir");
    let dh = dir.path().join("dh1024.pem");
    std::fs::write(&dh, OAKLEY_GROUP_2).expect("write dh params");
    let dh = dh.to_str().expect("utf-8 path");
    let server = start_server(&[
        "-tls1_2",
        "-serverpref",
        "-dhparam",
        dh,
        "-groups",
        "P-384",
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:@SECLEVEL=0",
    ]);
    let scan = scan_port(server.port).await;
    let v12 = version(&scan, ProtocolVersion::TLS12);
    // Server order, as configured.
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS12),
        [0xc030, 0x009e, 0x009c]
    );
    assert_eq!(v12.server_order, Some(true));
    // The ECDHE suite used P-384 (the only group allowed), the DHE suite 1024-bit DH.
    assert_eq!(v12.groups, [NamedGroup::SECP384R1]);
    assert_eq!(v12.dh_bits, Some(1024));
    // Forward secrecy per suite, as the checks read it.
    let fs: Vec<bool> = v12
        .suites
        .iter()
        .map(|s| ward_model::tls::forward_secret(ProtocolVersion::TLS12, s.name.as_deref()))
        .collect();
    assert_eq!(fs, [true, true, false]);
}
