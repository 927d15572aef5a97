//! The HTTP client against the lab's real web servers: a redirect is an answer, not
//! followed; the body cap holds; a certificate for the wrong name is a certificate
//! failure; a server that never answers is a timeout; a guarded address is refused
//! before anything is sent.

use std::time::Duration;
use ward_lab::Lab;
use ward_lab::fixture::Fixture;
use ward_model::NetFailure;
use ward_model::http::HttpOutcome;
use ward_net::http::{HttpClient, HttpRequest};
use ward_net::{Net, NetConfig, PortMap};

const HOSTS: &str = r#"
[[web]]
names = ["ok.test"]
ip = "127.0.63.1"
cert = { status = "valid" }
http = "redirect-https"
[web.files]
"/big.txt" = "0123456789abcdefghij"

[[web]]
names = ["wrong.test"]
ip = "127.0.63.2"
cert = { status = "wrong-name" }

[[web]]
names = ["hang.test"]
ip = "127.0.63.3"
cert = { status = "valid" }
behaviour = "hang"
"#;

async fn setup() -> (Lab, Net) {
    let fixture = Fixture {
        hosts_toml: Some(HOSTS.into()),
        ..Default::default()
    };
    let lab = Lab::start(&fixture).await.unwrap();
    let cfg = NetConfig::builder(lab.resolver())
        .dangerous_lab_mode(PortMap(lab.ports().clone()))
        .extra_ca_pem(lab.ca_pem().as_bytes().to_vec())
        .build();
    let net = Net::new(cfg).unwrap();
    (lab, net)
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn redirects_are_answers_and_bodies_are_capped() {
    let (_lab, net) = setup().await;
    let client = HttpClient::default();
    let f = client
        .fetch(
            &net,
            ip("127.0.63.1"),
            &HttpRequest::http_get("ok.test", "/x"),
        )
        .await;
    assert_eq!(f.url, "http://ok.test/x");
    match &f.outcome {
        HttpOutcome::Response { status, .. } => assert_eq!(*status, 301),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.header("location"), Some("https://ok.test/x"));

    let small = HttpClient::builder().body_limit(8).build().unwrap();
    let f = small
        .fetch(
            &net,
            ip("127.0.63.1"),
            &HttpRequest::https_get("ok.test", "/big.txt"),
        )
        .await;
    match &f.outcome {
        HttpOutcome::Response {
            status,
            body,
            body_truncated,
            ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(body, "01234567");
            assert!(*body_truncated);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn certificate_timeout_and_refusal_stay_apart() {
    let (_lab, net) = setup().await;
    let client = HttpClient::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let f = client
        .fetch(
            &net,
            ip("127.0.63.2"),
            &HttpRequest::https_get("wrong.test", "/"),
        )
        .await;
    assert!(
        matches!(&f.outcome, HttpOutcome::Tls { certificate: true, detail } if detail.contains("NotValidForName")),
        "{:?}",
        f.outcome
    );
    let f = client
        .fetch(
            &net,
            ip("127.0.63.3"),
            &HttpRequest::https_get("hang.test", "/"),
        )
        .await;
    assert_eq!(f.outcome, HttpOutcome::TimedOut);
    let f = client
        .fetch(
            &net,
            ip("127.0.63.9"),
            &HttpRequest::https_get("none.test", "/"),
        )
        .await;
    assert_eq!(
        f.outcome,
        HttpOutcome::Network {
            failure: NetFailure::Refused
        }
    );
    // Outside lab mode a loopback address is refused before anything is sent.
    let plain = Net::new(NetConfig::builder("127.0.0.1:53".parse().unwrap()).build()).unwrap();
    let f = client
        .fetch(
            &plain,
            ip("127.0.63.1"),
            &HttpRequest::https_get("ok.test", "/"),
        )
        .await;
    assert_eq!(
        f.outcome,
        HttpOutcome::Network {
            failure: NetFailure::Blocked {
                addr: "127.0.63.1".into()
            }
        }
    );
}

#[test]
fn limits_are_checked_when_built() {
    let e = HttpClient::builder()
        .body_limit(2 << 20)
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "HTTP body limit (bytes) must be between 0 and 1048576, not 2097152"
    );
}
