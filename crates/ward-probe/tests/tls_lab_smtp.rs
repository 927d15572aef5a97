//! The TLS engine over SMTP STARTTLS against the lab's mail server: the same engine as
//! for HTTPS, behind an EHLO/STARTTLS exchange on every connection.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use ward_lab::certs::LabCa;
use ward_lab::hosts::{SmtpHost, parse_hosts};
use ward_lab::smtp::{serve_smtp, tls_config_for};
use ward_model::NetFailure;
use ward_model::tls::{ProtocolVersion, StartTlsOutcome, TlsScan, VersionStatus};
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::tls::{TlsTarget, Transport, scan_with};

const NAME: &str = "mx.exampleparty.example";

struct Server {
    port: u16,
    ca: LabCa,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(entry: &str) -> Server {
    let text = format!("[[smtp]]\nname = \"{NAME}\"\nip = \"127.0.0.1\"\n{entry}\n");
    let host: SmtpHost = parse_hosts("test", &text)
        .expect("fixture parses")
        .smtp
        .remove(0);
    let now = OffsetDateTime::now_utc();
    let ca = LabCa::new(now).expect("ca");
    let tls = tls_config_for(&host, &ca, now).expect("tls config");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_smtp(
        listener,
        Arc::new(host),
        tls.into(),
        shutdown.clone(),
    ));
    Server { port, ca, shutdown }
}

async fn scan(server: &Server) -> TlsScan {
    let mut map = BTreeMap::new();
    map.insert(25, server.port);
    let cfg = NetConfig::builder(SocketAddr::from(([127, 0, 0, 1], 53)))
        .dangerous_lab_mode(PortMap(map))
        .extra_ca_pem(server.ca.ca_cert_pem().as_bytes().to_vec())
        .build();
    let net = Net::new(cfg).expect("net");
    let target = TlsTarget {
        transport: Transport::SmtpStartTls {
            ehlo_name: "ward.invalid".into(),
        },
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 25,
        hostname: NAME.into(),
    };
    scan_with(
        &net,
        &target,
        OffsetDateTime::now_utc(),
        Duration::from_secs(5),
    )
    .await
}

fn status(scan: &TlsScan, v: ProtocolVersion) -> VersionStatus {
    scan.versions
        .iter()
        .find(|s| s.version == v)
        .map(|s| s.status.clone())
        .expect("version reported")
}

fn suites(scan: &TlsScan, v: ProtocolVersion) -> Vec<u16> {
    let mut ids: Vec<u16> = scan
        .versions
        .iter()
        .find(|s| s.version == v)
        .map(|s| s.suites.iter().map(|x| x.id.0).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_valid_certificate() {
    let server = start("starttls = true\ncert = { status = \"valid\" }").await;
    let scan = scan(&server).await;
    let seen = scan.starttls.as_ref().expect("starttls recorded");
    assert_eq!(seen.outcome, StartTlsOutcome::Ready);
    assert!(seen.ehlo_keywords.contains(&"STARTTLS".to_string()));
    assert_eq!(scan.transport, "starttls_smtp");
    for v in [
        ProtocolVersion::SSLV3,
        ProtocolVersion::TLS10,
        ProtocolVersion::TLS11,
    ] {
        assert_eq!(status(&scan, v), VersionStatus::NotSupported, "{v}");
    }
    assert_eq!(
        status(&scan, ProtocolVersion::TLS12),
        VersionStatus::Supported
    );
    assert_eq!(
        status(&scan, ProtocolVersion::TLS13),
        VersionStatus::Supported
    );
    // The lab's rustls server with an ECDSA P-256 key: rustls's default suites.
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS12),
        [0xc02b, 0xc02c, 0xcca9]
    );
    assert_eq!(
        suites(&scan, ProtocolVersion::TLS13),
        [0x1301, 0x1302, 0x1303]
    );
    let chain = scan.chain.as_ref().expect("chain");
    assert_eq!(chain.source, "rustls");
    assert_eq!(chain.validation_kind, None, "{:?}", chain.validation_error);
    assert_eq!(chain.certs[0].dns_names, [NAME]);
    assert_eq!(chain.certs[0].key_type, "ec");
    assert_eq!(chain.certs[0].key_bits, Some(256));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificate_after_starttls() {
    let server = start("starttls = true\ncert = { status = \"expired\" }").await;
    let scan = scan(&server).await;
    let chain = scan.chain.as_ref().expect("chain");
    assert_eq!(chain.validation_kind.as_deref(), Some("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_starttls_offered_means_no_tls_attempted() {
    let server = start("starttls = false").await;
    let scan = scan(&server).await;
    let seen = scan.starttls.as_ref().expect("starttls recorded");
    assert_eq!(seen.outcome, StartTlsOutcome::NotOffered);
    assert_eq!(seen.banner, [format!("{NAME} ESMTP ward-lab")]);
    assert!(scan.versions.is_empty());
    assert_eq!(scan.connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greylisting_is_a_refusal_with_its_code() {
    let server = start("behaviour = \"greylist\"").await;
    let scan = scan(&server).await;
    assert_eq!(
        scan.starttls.as_ref().map(|s| s.outcome.clone()),
        Some(StartTlsOutcome::Refused {
            stage: "banner".into(),
            code: 421,
            text: format!("4.7.0 {NAME} greylisted, try again later"),
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_is_a_network_failure() {
    let server = start("behaviour = \"refuse\"").await;
    let scan = scan(&server).await;
    assert_eq!(
        scan.starttls.as_ref().map(|s| s.outcome.clone()),
        Some(StartTlsOutcome::Network {
            stage: "banner".into(),
            failure: NetFailure::Closed,
        })
    );
}
