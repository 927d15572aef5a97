//! The private-address guard against a real lab nameserver: under the default policy a
//! loopback nameserver is refused and receives nothing; in lab mode the same question
//! arrives. Counting at the server is what shows "nothing was sent".

use std::net::IpAddr;
use std::path::PathBuf;
use ward_lab::fixture::{Fixture, ZoneSource};
use ward_lab::{DnsBehaviour, Lab};
use ward_model::{DnsFailure, DnsOutcome};
use ward_net::{Net, NetConfig, PortMap};

const NS_IP: &str = "127.0.61.1";

async fn lab() -> Lab {
    let text = format!(
        "$ORIGIN guard.test.\n@ 300 IN SOA ns1.guard.test. h.guard.test. ( 1 7200 3600 1209600 300 )\n\
         @ 300 IN NS ns1.guard.test.\nns1 300 IN A {NS_IP}\n"
    );
    let zone = ZoneSource {
        origin: "guard.test".into(),
        text,
        path: PathBuf::from("guard.zone"),
    };
    let fixture = Fixture {
        zones: vec![zone],
        dns: DnsBehaviour::default(),
        ..Default::default()
    };
    Lab::start(&fixture).await.unwrap()
}

#[tokio::test]
async fn default_policy_refuses_loopback_and_sends_nothing() {
    let lab = lab().await;
    let ip: IpAddr = NS_IP.parse().unwrap();
    // Public-only policy, but pointed at the lab's port so that a packet, were one sent,
    // would reach the lab and be counted.
    let cfg = NetConfig::builder(lab.resolver())
        .ports(PortMap(lab.ports().clone()))
        .build();
    let net = Net::new(cfg).unwrap();
    let lookup = net.ask_nameserver(ip, "guard.test", "SOA").await;
    assert_eq!(
        lookup.outcome,
        DnsOutcome::Failed {
            failure: DnsFailure::Blocked { addr: NS_IP.into() }
        }
    );
    assert_eq!(
        lab.queries_at(ip),
        0,
        "a refused target must receive nothing"
    );

    let lab_net = Net::new(
        NetConfig::builder(lab.resolver())
            .dangerous_lab_mode(PortMap(lab.ports().clone()))
            .build(),
    )
    .unwrap();
    let lookup = lab_net.ask_nameserver(ip, "guard.test", "SOA").await;
    assert!(
        matches!(
            lookup.outcome,
            DnsOutcome::Answer {
                authoritative: true,
                ..
            }
        ),
        "{lookup:?}"
    );
    assert_eq!(lab.queries_at(ip), 1);
}

#[tokio::test]
async fn lab_mode_still_refuses_private_ranges() {
    let lab = lab().await;
    let net = Net::new(
        NetConfig::builder(lab.resolver())
            .dangerous_lab_mode(PortMap(lab.ports().clone()))
            .build(),
    )
    .unwrap();
    for ip in ["10.0.0.1", "192.168.1.1", "169.254.169.254", "172.16.0.1"] {
        let lookup = net
            .ask_nameserver(ip.parse().unwrap(), "guard.test", "SOA")
            .await;
        assert_eq!(
            lookup.outcome,
            DnsOutcome::Failed {
                failure: DnsFailure::Blocked { addr: ip.into() }
            }
        );
    }
}

#[tokio::test]
async fn resolver_answers_three_states() {
    let lab = lab().await;
    let net = Net::new(NetConfig::builder(lab.resolver()).build()).unwrap();
    assert!(matches!(
        net.resolve("guard.test", "SOA").await.outcome,
        DnsOutcome::Answer { .. }
    ));
    assert!(matches!(
        net.resolve("guard.test", "CAA").await.outcome,
        DnsOutcome::NoData { .. }
    ));
    assert!(matches!(
        net.resolve("nope.guard.test", "A").await.outcome,
        DnsOutcome::NxDomain { .. }
    ));
    // A name in no zone of the lab: the lab's resolver says NXDOMAIN, as a recursive would.
    assert!(matches!(
        net.resolve("elsewhere.example", "A").await.outcome,
        DnsOutcome::NxDomain { .. }
    ));
}

#[tokio::test]
async fn answers_are_remembered_for_the_scan_and_failures_are_not() {
    let text = "$ORIGIN quiet.test.\n@ 300 IN SOA ns1.guard.test. h.quiet.test. ( 1 7200 3600 1209600 300 )\n\
                @ 300 IN NS ns1.guard.test.\n";
    let mut fixture = Fixture {
        zones: vec![ZoneSource {
            origin: "quiet.test".into(),
            text: text.into(),
            path: PathBuf::from("quiet.zone"),
        }],
        dns: DnsBehaviour {
            silent: vec!["quiet.test".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let zone = format!(
        "$ORIGIN guard.test.\n@ 300 IN SOA ns1.guard.test. h.guard.test. ( 1 7200 3600 1209600 300 )\n\
         @ 300 IN NS ns1.guard.test.\nns1 300 IN A {NS_IP}\n"
    );
    fixture.zones.push(ZoneSource {
        origin: "guard.test".into(),
        text: zone,
        path: PathBuf::from("guard.zone"),
    });
    let lab = Lab::start(&fixture).await.unwrap();
    let resolver = lab.resolver().ip();
    let cfg = NetConfig::builder(lab.resolver())
        .dns_timeout(std::time::Duration::from_millis(100))
        .and_then(|b| b.dns_attempts(1))
        .expect("within the limits")
        .build();
    let net = Net::new(cfg).unwrap();

    let first = net.resolve("ns1.guard.test", "A").await;
    let again = net.resolve("NS1.guard.test.", "A").await;
    assert_eq!(first, again);
    assert_eq!(
        lab.queries_at(resolver),
        1,
        "the second question is answered from memory"
    );
    net.resolve("nope.guard.test", "A").await;
    net.resolve("nope.guard.test", "A").await;
    assert_eq!(lab.queries_at(resolver), 2, "NXDOMAIN is an answer too");

    for _ in 0..2 {
        let lookup = net.resolve("quiet.test", "SOA").await;
        assert_eq!(
            lookup.outcome,
            DnsOutcome::Failed {
                failure: DnsFailure::Timeout { attempts: 1 }
            }
        );
    }
    assert_eq!(
        lab.queries_at(resolver),
        4,
        "a timeout is asked again, never remembered"
    );
}

/// A fresh network (the monitor takes one per round) remembers nothing of the one it
/// came from: the same question is asked again, so a record removed between rounds is
/// seen to be gone.
#[tokio::test]
async fn a_fresh_net_asks_again() {
    let lab = lab().await;
    let resolver = lab.resolver().ip();
    let net = Net::new(NetConfig::builder(lab.resolver()).build()).unwrap();
    net.resolve("ns1.guard.test", "A").await;
    net.resolve("ns1.guard.test", "A").await;
    assert_eq!(lab.queries_at(resolver), 1);
    let fresh = net.fresh();
    let answer = fresh.resolve("ns1.guard.test", "A").await;
    assert_eq!(lab.queries_at(resolver), 2, "asked again");
    assert_eq!(answer.outcome.records_of("A").next().unwrap().data, NS_IP);
    assert_eq!(
        fresh.config().resolver(),
        net.config().resolver(),
        "same settings"
    );
    net.resolve("ns1.guard.test", "A").await;
    assert_eq!(
        lab.queries_at(resolver),
        2,
        "the first keeps its own memory"
    );
}
