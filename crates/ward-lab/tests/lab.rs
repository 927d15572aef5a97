//! The whole lab, started from the demo fixture: DNS at the resolver and nameserver
//! addresses, HTTPS with the lab CA, SMTP with STARTTLS, all on loopback without root.

use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use ward_lab::{Lab, demo};

fn client(lab: &Lab) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = lab.ca_pem().as_bytes();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn demo_lab_serves_dns_https_and_smtp() {
    let lab = Lab::start(&demo::fixture()).await.unwrap();
    let ports = lab.ports().clone();
    for port in [25, 53, 80, 443] {
        assert!(
            ports.contains_key(&port),
            "no lab port for {port}: {ports:?}"
        );
    }
    assert!(lab.zones().iter().any(|z| z == demo::HQ_DOMAIN));

    // HTTPS on the HQ web address, verified against the lab CA for the HQ's name.
    let tcp = TcpStream::connect(("127.0.10.1", ports[&443]))
        .await
        .unwrap();
    let name = ServerName::try_from(format!("www.{}", demo::HQ_DOMAIN)).unwrap();
    let mut tls = client(&lab)
        .connect(name, tcp)
        .await
        .expect("certificate verifies with the lab CA");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: www.{}\r\nConnection: close\r\n\r\n",
        demo::HQ_DOMAIN
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("Strict-Transport-Security: max-age=31536000"),
        "{response}"
    );

    // Plain HTTP redirects to HTTPS.
    let mut plain = TcpStream::connect(("127.0.10.1", ports[&80]))
        .await
        .unwrap();
    plain
        .write_all(format!("GET /x HTTP/1.1\r\nHost: {}\r\n\r\n", demo::HQ_DOMAIN).as_bytes())
        .await
        .unwrap();
    let mut head = String::new();
    BufReader::new(&mut plain)
        .read_line(&mut head)
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 301"), "{head}");

    // SMTP on the HQ mail address offers STARTTLS.
    let smtp = TcpStream::connect(("127.0.20.1", ports[&25]))
        .await
        .unwrap();
    let mut smtp = BufReader::new(smtp);
    let mut line = String::new();
    smtp.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220 "), "{line}");
    smtp.get_mut()
        .write_all(b"EHLO ward.test\r\n")
        .await
        .unwrap();
    let mut ehlo = String::new();
    loop {
        line.clear();
        smtp.read_line(&mut line).await.unwrap();
        ehlo.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            break;
        }
    }
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
}

#[tokio::test]
async fn two_labs_run_side_by_side() {
    let a = Lab::start(&demo::fixture()).await.unwrap();
    let b = Lab::start(&demo::fixture()).await.unwrap();
    assert_ne!(a.resolver(), b.resolver());
}

#[tokio::test]
async fn a_broken_zone_file_is_named_in_the_error() {
    let mut fixture = demo::fixture();
    fixture.zones[0]
        .text
        .push_str("@ IN MX not-a-number mail.example.\n");
    let err = Lab::start(&fixture).await.err().expect("bad zone refused");
    assert!(
        err.to_string()
            .contains("demo/zones/exampleparty.example.zone"),
        "{err}"
    );
}

#[tokio::test]
async fn signing_survives_writing_the_fixture_out_and_reading_it_back() {
    let dir = std::env::temp_dir().join(format!("ward-lab-fixture-{}", std::process::id()));
    let fixture = demo::fixture();
    fixture.write(&dir).unwrap();
    let back = ward_lab::Fixture::load(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(back.dns.signed, fixture.dns.signed);
    let lab = Lab::start(&back).await.unwrap();
    // The demo's anchor is the DS record of its `example.` zone, made fresh at start.
    let anchor = lab.trust_anchor().expect("anchor");
    assert!(anchor.starts_with("example. 3600 IN DS "), "{anchor}");
    let other = Lab::start(&back).await.unwrap();
    assert_ne!(
        other.trust_anchor(),
        lab.trust_anchor(),
        "keys are made per start"
    );
}

#[tokio::test]
async fn a_signed_zone_that_is_not_in_the_fixture_is_refused() {
    let mut fixture = demo::fixture();
    fixture
        .dns
        .signed
        .push(ward_lab::signing::Signed::new("nowhere.example"));
    let err = Lab::start(&fixture).await.err().expect("refused");
    assert!(
        err.to_string()
            .contains("nowhere.example is not a zone of the fixture"),
        "{err}"
    );
}
