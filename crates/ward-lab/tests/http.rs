//! The lab's HTTP and HTTPS servers on loopback, driven by a real client written here:
//! tokio sockets, tokio-rustls trusting only the lab CA.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ward_lab::certs::{LabCa, lab_crypto_provider};
use ward_lab::hosts::{WebHost, parse_hosts};
use ward_lab::http::{serve_http, serve_https, tls_config_for};

/// Longest any single wait in these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);
/// Most bytes a test reads from one response.
const READ_LIMIT: usize = 256 * 1024;

const SITE: &str = r#"
[[web]]
names = ["www.example-party.org.uk", "example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "valid", key = "ecdsa-p256" }
http = "redirect-https"
[web.headers]
"Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
"X-Frame-Options" = "DENY"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@example-party.org.uk\n"

[[web]]
names = ["old.example-party.org.uk"]
ip = "127.0.0.1"
http = "redirect-to:https://www.example-party.org.uk/"

[[web]]
names = ["plain.example-party.org.uk"]
ip = "127.0.0.1"
http = "serve"
[web.headers]
"X-Lab" = "plain"
[web.files]
"/robots.txt" = "User-agent: *\n"

[[web]]
names = ["expired.example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "expired" }

[[web]]
names = ["wrong.example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "wrong-name" }

[[web]]
names = ["selfie.example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "self-signed" }

[[web]]
names = ["future.example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "not-yet-valid" }

[[web]]
names = ["weak.example-party.org.uk"]
ip = "127.0.0.1"
cert = { status = "valid", key = "rsa-1024" }

[[web]]
names = ["slow.example-party.org.uk"]
ip = "127.0.0.1"
http = "serve"
behaviour = "slow"

[[web]]
names = ["endless.example-party.org.uk"]
ip = "127.0.0.1"
http = "serve"
behaviour = "endless-headers"

[[web]]
names = ["hang.example-party.org.uk"]
ip = "127.0.0.1"
http = "serve"
behaviour = "hang"
"#;

fn hosts() -> Arc<[WebHost]> {
    parse_hosts("SITE", SITE)
        .expect("fixture parses")
        .web
        .into()
}

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

async fn start_http() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_http(listener, hosts(), shutdown.clone()));
    Server {
        addr,
        shutdown,
        task,
    }
}

async fn start_https() -> (Server, LabCa) {
    let ca = LabCa::new(OffsetDateTime::now_utc()).expect("ca");
    let hosts = hosts();
    let tls = tls_config_for(&hosts, &ca, OffsetDateTime::now_utc()).expect("tls config");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_https(listener, hosts, tls, shutdown.clone()));
    (
        Server {
            addr,
            shutdown,
            task,
        },
        ca,
    )
}

fn trusting(ca: &LabCa) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.ca_cert_der().clone()).expect("root");
    Arc::new(
        ClientConfig::builder_with_provider(lab_crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn tls_connect(
    addr: SocketAddr,
    name: &str,
    config: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    tokio::time::timeout(
        DEADLINE,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .expect("handshake within the deadline")
}

/// The rustls error a failed handshake carries.
fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// Reads until EOF (or the limit), within the deadline.
async fn read_all<S: AsyncRead + Unpin>(io: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    let mut limited = io.take(READ_LIMIT as u64);
    match tokio::time::timeout(DEADLINE, limited.read_to_end(&mut out)).await {
        Ok(Ok(_)) => out,
        // A peer that closes TCP without close_notify still sent us its response.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => out,
        Ok(Err(e)) => panic!("read failed: {e}"),
        Err(_) => panic!(
            "no EOF within {DEADLINE:?}; got {:?}",
            String::from_utf8_lossy(&out)
        ),
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

fn parse_reply(bytes: &[u8]) -> Reply {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8 reply");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("head ends with a blank line");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").expect("header line");
            (k.to_ascii_lowercase(), v.to_owned())
        })
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, request: &str) -> Reply {
    io.write_all(request.as_bytes()).await.expect("send");
    parse_reply(&read_all(&mut io).await)
}

async fn get(addr: SocketAddr, host: &str, target: &str) -> Reply {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    exchange(
        tcp,
        &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    )
    .await
}

#[tokio::test]
async fn http_redirects_to_https_keeping_the_path() {
    let server = start_http().await;
    let r = get(server.addr, "WWW.example-party.org.uk:80", "/a/b?c=d").await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.headers.get("location").map(String::as_str),
        Some("https://www.example-party.org.uk/a/b?c=d")
    );
    assert_eq!(
        r.headers.get("strict-transport-security"),
        None,
        "no extra headers on a redirect"
    );
}

#[tokio::test]
async fn http_redirect_to_url_keeps_the_path() {
    let server = start_http().await;
    let r = get(server.addr, "old.example-party.org.uk", "/news").await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.headers.get("location").map(String::as_str),
        Some("https://www.example-party.org.uk/news")
    );
}

#[tokio::test]
async fn http_serve_mode_serves_files_pages_headers_and_404() {
    let server = start_http().await;
    let host = "plain.example-party.org.uk";

    let r = get(server.addr, host, "/robots.txt?x=1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "User-agent: *\n");
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(r.headers.get("x-lab").map(String::as_str), Some("plain"));
    assert_eq!(
        r.headers.get("connection").map(String::as_str),
        Some("close")
    );

    let r = get(server.addr, host, "/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<h1>plain.example-party.org.uk</h1>"),
        "{}",
        r.body
    );

    let r = get(server.addr, host, "/missing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers.get("x-lab").map(String::as_str), Some("plain"));

    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let r = exchange(
        tcp,
        &format!("HEAD /robots.txt HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "", "HEAD has no body");
    assert_eq!(
        r.headers.get("content-length").map(String::as_str),
        Some("14")
    );
}

#[tokio::test]
async fn http_refuses_unknown_host_missing_host_and_huge_heads() {
    let server = start_http().await;
    assert_eq!(get(server.addr, "nobody.example", "/").await.status, 421);

    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    assert_eq!(exchange(tcp, "GET / HTTP/1.1\r\n\r\n").await.status, 400);

    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: plain.example-party.org.uk\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    assert_eq!(exchange(tcp, &huge).await.status, 431);
}

#[tokio::test]
async fn https_valid_cert_verifies_for_each_name_and_headers_appear() {
    let (server, ca) = start_https().await;
    for name in ["www.example-party.org.uk", "example-party.org.uk"] {
        let tls = tls_connect(server.addr, name, trusting(&ca))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = exchange(
            tls,
            &format!("GET /.well-known/security.txt HTTP/1.1\r\nHost: {name}\r\n\r\n"),
        )
        .await;
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.body, "Contact: mailto:security@example-party.org.uk\n");
        assert_eq!(
            r.headers
                .get("strict-transport-security")
                .map(String::as_str),
            Some("max-age=31536000; includeSubDomains")
        );
        assert_eq!(
            r.headers.get("x-frame-options").map(String::as_str),
            Some("DENY")
        );
    }
}

#[tokio::test]
async fn https_speaks_tls12_and_tls13() {
    let (server, ca) = start_https().await;
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let mut roots = RootCertStore::empty();
        roots.add(ca.ca_cert_der().clone()).expect("root");
        let config = ClientConfig::builder_with_provider(lab_crypto_provider())
            .with_protocol_versions(&[version])
            .expect("version")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = tls_connect(server.addr, "www.example-party.org.uk", Arc::new(config))
            .await
            .expect("handshake");
        assert_eq!(tls.get_ref().1.protocol_version(), Some(version.version));
    }
}

async fn handshake_error(server: &Server, ca: &LabCa, name: &str) -> CertificateError {
    match tls_connect(server.addr, name, trusting(ca)).await {
        Ok(_) => panic!("{name}: handshake succeeded"),
        Err(e) => match tls_error(&e) {
            Some(rustls::Error::InvalidCertificate(c)) => c.clone(),
            _ => panic!("{name}: not a certificate error: {e:?}"),
        },
    }
}

#[tokio::test]
async fn https_bad_certs_fail_with_their_own_errors() {
    let (server, ca) = start_https().await;
    let e = handshake_error(&server, &ca, "expired.example-party.org.uk").await;
    assert!(
        matches!(
            e,
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        ),
        "{e:?}"
    );
    let e = handshake_error(&server, &ca, "wrong.example-party.org.uk").await;
    assert!(
        matches!(
            e,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        "{e:?}"
    );
    let e = handshake_error(&server, &ca, "selfie.example-party.org.uk").await;
    assert_eq!(e, CertificateError::UnknownIssuer);
    let e = handshake_error(&server, &ca, "future.example-party.org.uk").await;
    assert!(
        matches!(
            e,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
        ),
        "{e:?}"
    );
}

/// Accepts any certificate but records it, and checks TLS 1.3 RSA-PSS signatures itself
/// (rustls' own verifier refuses RSA keys under 2048 bits).
#[derive(Debug, Default)]
struct RecordingVerifier {
    seen: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.seen
            .lock()
            .expect("lock")
            .push(end_entity.clone().into_owned());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "this test speaks TLS 1.3 only".into(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier;
        use x509_parser::prelude::{FromDer, X509Certificate};
        let bad = |what: &str| rustls::Error::General(what.to_owned());
        let (_, parsed) = X509Certificate::from_der(cert).map_err(|_| bad("cert parse"))?;
        let public = rsa::RsaPublicKey::from_public_key_der(parsed.public_key().raw)
            .map_err(|_| bad("not an RSA key"))?;
        if dss.scheme != SignatureScheme::RSA_PSS_SHA256 {
            return Err(bad("unexpected scheme"));
        }
        let signature =
            rsa::pss::Signature::try_from(dss.signature()).map_err(|_| bad("signature"))?;
        rsa::pss::VerifyingKey::<rsa::sha2::Sha256>::new(public)
            .verify(message, &signature)
            .map_err(|_| bad("bad RSA-PSS signature"))?;
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::RSA_PSS_SHA256]
    }
}

#[tokio::test]
async fn https_serves_a_genuine_rsa_1024_certificate() {
    let (server, _ca) = start_https().await;
    let verifier = Arc::new(RecordingVerifier::default());
    let config = ClientConfig::builder_with_provider(lab_crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let tls = tls_connect(server.addr, "weak.example-party.org.uk", Arc::new(config))
        .await
        .expect("handshake signed by the 1024-bit key");
    let r = exchange(
        tls,
        "GET / HTTP/1.1\r\nHost: weak.example-party.org.uk\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);

    let seen = verifier.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    use x509_parser::prelude::{FromDer, X509Certificate};
    use x509_parser::public_key::PublicKey;
    let (_, cert) = X509Certificate::from_der(&seen[0]).expect("parse");
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => assert_eq!(rsa.key_size(), 1024),
        other => panic!("not RSA: {other:?}"),
    }
}

#[tokio::test]
async fn slow_host_sends_about_one_byte_a_second() {
    let server = start_http().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: slow.example-party.org.uk\r\n\r\n")
        .await
        .expect("send");
    let mut got = Vec::new();
    let mut first_at = None;
    while got.len() < 3 {
        let mut byte = [0u8; 8];
        let n = tokio::time::timeout(DEADLINE, tcp.read(&mut byte))
            .await
            .expect("a byte within the deadline")
            .expect("read");
        assert!(n > 0, "closed early after {got:?}");
        got.extend_from_slice(&byte[..n]);
        first_at.get_or_insert_with(Instant::now);
    }
    let elapsed = first_at.map(|t| t.elapsed()).unwrap_or_default();
    assert_eq!(&got[..], b"HTT", "one byte per read");
    assert!(
        elapsed >= Duration::from_millis(1800),
        "three bytes came within {elapsed:?}"
    );
}

#[tokio::test]
async fn endless_headers_never_end() {
    let server = start_http().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: endless.example-party.org.uk\r\n\r\n")
        .await
        .expect("send");
    let mut got = vec![0u8; READ_LIMIT];
    tokio::time::timeout(DEADLINE, tcp.read_exact(&mut got))
        .await
        .expect("256 KiB of headers within the deadline")
        .expect("read");
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\nX-Ward-Lab-Endless-1: 1\r\n"));
    assert_eq!(
        got.windows(4).position(|w| w == b"\r\n\r\n"),
        None,
        "the head never ends"
    );
}

#[tokio::test]
async fn hang_never_answers_and_shutdown_closes_it() {
    let server = start_http().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: hang.example-party.org.uk\r\n\r\n")
        .await
        .expect("send");
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), tcp.read(&mut byte))
            .await
            .is_err(),
        "a hanging host must not answer"
    );
    server.shutdown.cancel();
    tokio::time::timeout(DEADLINE, server.task)
        .await
        .expect("server stops within the deadline")
        .expect("server task did not panic");
    let closed = tokio::time::timeout(DEADLINE, tcp.read(&mut byte))
        .await
        .expect("connection closed at shutdown");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "listener closed at shutdown"
    );
}
