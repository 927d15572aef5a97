//! The DNSSEC chain walk against the lab: zones signed when the lab starts, under a lab
//! parent zone (`test.`) that is the trust anchor, one valid chain and each deliberate
//! break. Every case asserts the exact outcome, so a validator that passes everything or
//! fails everything is caught.

use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;
use ward_lab::Lab;
use ward_lab::fixture::{DnsBehaviour, Fixture, ZoneSource};
use ward_lab::signing::{Fault, Signed};
use ward_model::dnssec::{BrokenLink, ChainOutcome};
use ward_net::{Net, NetConfig, NetConfigBuilder, PortMap};
use ward_probe::dnssec::{TrustAnchor, walk, walk_remembering};

fn zone(origin: &str, extra: &str) -> ZoneSource {
    ZoneSource {
        origin: origin.into(),
        text: format!(
            "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1.test. hostmaster.test. ( 1 7200 3600 1209600 300 )\n@ IN NS ns1.test.\n{extra}"
        ),
        path: PathBuf::from(format!("test/{origin}.zone")),
    }
}

fn signed(zone: &str, algorithm: u8, ds_digest: u8, fault: Option<Fault>) -> Signed {
    Signed {
        zone: zone.into(),
        algorithm,
        ds_digest,
        fault,
        stale_key: None,
        extra_keys: 0,
    }
}

fn fixture() -> Fixture {
    let names = [
        "good.test",
        "ed.test",
        "mismatch.test",
        "expired.test",
        "nosig.test",
        "sha1.test",
        "island.test",
        "plain.test",
        "hostile.test",
    ];
    let mut zones = vec![zone("test", "ns1 IN A 127.0.90.1\n")];
    for n in names {
        zones.push(zone(
            n,
            "@ IN A 127.0.90.2\n_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        ));
    }
    Fixture {
        name: "dnssec".into(),
        zones,
        hosts_toml: None,
        dns: DnsBehaviour {
            signed: vec![
                Signed::new("test"),
                Signed::new("good.test"),
                signed("ed.test", 15, 2, None),
                signed("mismatch.test", 13, 2, Some(Fault::DsMismatch)),
                signed("expired.test", 13, 2, Some(Fault::Expired)),
                signed("nosig.test", 13, 2, Some(Fault::MissingRrsig)),
                signed("sha1.test", 5, 1, None),
                signed("island.test", 13, 2, Some(Fault::NoDs)),
                Signed {
                    extra_keys: 40,
                    ..Signed::new("hostile.test")
                },
            ],
            ..DnsBehaviour::default()
        },
        inventory_toml: None,
    }
}

/// The lab answers at once, so a short wait and one attempt keep failures quick.
fn quick(resolver: std::net::SocketAddr) -> NetConfigBuilder {
    NetConfig::builder(resolver)
        .dns_timeout(Duration::from_millis(500))
        .and_then(|b| b.dns_attempts(1))
        .expect("within the limits")
}

async fn setup() -> (Lab, Net, TrustAnchor) {
    let lab = Lab::start(&fixture()).await.expect("lab starts");
    let net = Net::new(
        quick(lab.resolver())
            .dangerous_lab_mode(PortMap(lab.ports().clone()))
            .build(),
    )
    .expect("net");
    let anchor = TrustAnchor::parse(lab.trust_anchor().expect("the lab has an anchor"))
        .expect("anchor parses");
    (lab, net, anchor)
}

#[tokio::test]
async fn the_lab_anchor_is_the_parent_zone() {
    let (lab, _, anchor) = setup().await;
    assert_eq!(anchor.zone(), "test");
    let line = lab.trust_anchor().expect("anchor");
    assert!(line.starts_with("test. 3600 IN DS "), "{line}");
}

#[tokio::test]
async fn a_good_chain_validates_down_to_the_records() {
    let (_lab, net, anchor) = setup().await;
    let now = OffsetDateTime::now_utc();
    for domain in ["good.test", "ed.test", "sha1.test"] {
        let chain = walk(&net, &anchor, domain, "SOA", now).await;
        let ChainOutcome::Secure { records, signature } = &chain.outcome else {
            panic!("{domain}: {:?}", chain.outcome);
        };
        assert_eq!(records.len(), 1);
        assert_eq!(signature.signer, domain);
        let zones: Vec<&str> = chain.zones.iter().map(|z| z.zone.as_str()).collect();
        assert_eq!(zones, ["test", domain]);
        // The DS set at the parent and the DNSKEY set were both checked.
        assert_eq!(chain.zones[1].signatures.len(), 2, "{:?}", chain.zones[1]);
        assert_eq!(chain.zones[1].ds.len(), 1);
    }
    let chain = walk(&net, &anchor, "sha1.test", "SOA", now).await;
    assert_eq!(chain.zones[1].dnskeys[0].algorithm, 5);
    assert_eq!(chain.zones[1].ds[0].digest_type, 1);
    let chain = walk(&net, &anchor, "ed.test", "SOA", now).await;
    assert_eq!(chain.zones[1].dnskeys[0].algorithm, 15);
}

#[tokio::test]
async fn tlsa_in_a_signed_zone_is_secure() {
    let (_lab, net, anchor) = setup().await;
    let chain = walk(
        &net,
        &anchor,
        "_25._tcp.mx.good.test",
        "TLSA",
        OffsetDateTime::now_utc(),
    )
    .await;
    let ChainOutcome::Secure { records, .. } = &chain.outcome else {
        panic!("{:?}", chain.outcome);
    };
    assert_eq!(records[0].rtype, "TLSA");
    let absent = walk(
        &net,
        &anchor,
        "_25._tcp.nothing.good.test",
        "TLSA",
        OffsetDateTime::now_utc(),
    )
    .await;
    assert_eq!(
        absent.outcome,
        ChainOutcome::Absent {
            nxdomain: true,
            signed_zone: true
        }
    );
}

async fn broken(domain: &str) -> (BrokenLink, String, String) {
    let (_lab, net, anchor) = setup().await;
    let chain = walk(&net, &anchor, domain, "SOA", OffsetDateTime::now_utc()).await;
    match chain.outcome {
        ChainOutcome::Bogus { zone, link, detail } => (link, zone, detail),
        other => panic!("{domain}: expected bogus, got {other:?}"),
    }
}

#[tokio::test]
async fn each_deliberate_break_is_named() {
    let (link, zone, detail) = broken("mismatch.test").await;
    assert_eq!(
        (link, zone.as_str()),
        (BrokenLink::DsMismatch, "mismatch.test"),
        "{detail}"
    );
    let (link, _, detail) = broken("expired.test").await;
    assert_eq!(link, BrokenLink::ExpiredRrsig, "{detail}");
    assert!(detail.contains("expired at"), "{detail}");
    let (link, _, detail) = broken("nosig.test").await;
    assert_eq!(link, BrokenLink::MissingRrsig, "{detail}");
    assert!(detail.contains("nosig.test SOA"), "{detail}");
}

#[tokio::test]
async fn unsigned_and_unlinked_zones_are_insecure_not_bogus() {
    let (_lab, net, anchor) = setup().await;
    let now = OffsetDateTime::now_utc();
    let chain = walk(&net, &anchor, "plain.test", "SOA", now).await;
    let ChainOutcome::Insecure { zone, records, .. } = &chain.outcome else {
        panic!("{:?}", chain.outcome);
    };
    assert_eq!(zone, "plain.test");
    assert_eq!(records.len(), 1);
    assert!(chain.zones.last().is_some_and(|z| z.dnskeys.is_empty()));
    // Signed, but the parent has no DS: an island. Its keys are still reported.
    let chain = walk(&net, &anchor, "island.test", "SOA", now).await;
    assert!(
        matches!(chain.outcome, ChainOutcome::Insecure { .. }),
        "{:?}",
        chain.outcome
    );
    let last = chain.zones.last().expect("zone");
    assert_eq!(last.zone, "island.test");
    assert_eq!(last.dnskeys.len(), 1);
    assert!(last.ds.is_empty());
}

#[tokio::test]
async fn a_wrong_anchor_is_could_not_tell_not_bogus() {
    let (_lab, net, _) = setup().await;
    // The root anchor does not reach the lab at all: the lab serves no root zone, so the
    // first question (the root's DNSKEY set) gets NXDOMAIN.
    let chain = walk(
        &net,
        &TrustAnchor::root(),
        "good.test",
        "SOA",
        OffsetDateTime::now_utc(),
    )
    .await;
    assert_eq!(chain.outcome, ChainOutcome::NoAnchor { zone: ".".into() });
}

#[tokio::test]
async fn a_key_that_is_not_the_anchor_is_bogus() {
    let (lab, net, _) = setup().await;
    // An anchor for test. whose digest names no key of the zone.
    let line = lab.trust_anchor().expect("anchor");
    let (head, digest) = line.rsplit_once(' ').expect("digest");
    let wrong = format!("{head} {}", "0".repeat(digest.len()));
    let anchor = TrustAnchor::parse(&wrong).expect("parses");
    let chain = walk(&net, &anchor, "good.test", "SOA", OffsetDateTime::now_utc()).await;
    assert!(
        matches!(
            chain.outcome,
            ChainOutcome::Bogus {
                link: BrokenLink::DsMismatch,
                ..
            }
        ),
        "{:?}",
        chain.outcome
    );
}

#[tokio::test]
async fn a_silent_resolver_is_could_not_tell() {
    let (lab, _, anchor) = setup().await;
    // Nothing listens on the lab's resolver address at port 9.
    let cfg = NetConfig::builder(std::net::SocketAddr::new(lab.resolver().ip(), 9))
        .dns_timeout(Duration::from_millis(200))
        .and_then(|b| b.dns_attempts(1))
        .expect("within the limits")
        .build();
    let net = Net::new(cfg).expect("net");
    let chain = walk(&net, &anchor, "good.test", "SOA", OffsetDateTime::now_utc()).await;
    assert!(
        matches!(chain.outcome, ChainOutcome::Failed { .. }),
        "{:?}",
        chain.outcome
    );
}

#[tokio::test]
async fn a_huge_dnskey_set_is_bounded_and_could_not_tell() {
    let (_lab, net, anchor) = setup().await;
    let started = std::time::Instant::now();
    let chain = walk(
        &net,
        &anchor,
        "hostile.test",
        "SOA",
        OffsetDateTime::now_utc(),
    )
    .await;
    // 41 keys: the answer is over the UDP limit, so this also goes over TCP.
    let ChainOutcome::Bogus { link, detail, .. } = &chain.outcome else {
        panic!("{:?}", chain.outcome);
    };
    assert_eq!(*link, BrokenLink::TooMuchWork, "{detail}");
    assert!(detail.contains("more than 16 DNSKEY"), "{detail}");
    // Only the first 16 keys are kept in the observation.
    assert_eq!(chain.zones.last().map(|z| z.dnskeys.len()), Some(16));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn names_far_below_the_anchor_are_refused_before_any_walk() {
    let (_lab, net, anchor) = setup().await;
    let deep = format!("{}good.test", "a.".repeat(30));
    let chain = walk(&net, &anchor, &deep, "TLSA", OffsetDateTime::now_utc()).await;
    assert!(
        matches!(
            chain.outcome,
            ChainOutcome::Bogus {
                link: BrokenLink::TooMuchWork,
                ..
            }
        ),
        "{:?}",
        chain.outcome
    );
}

#[tokio::test]
async fn an_anchor_given_as_dnskey_works_like_the_root_anchor() {
    let (lab, net, _) = setup().await;
    // The root anchor is a key, not a DS: take the lab parent's DNSKEY as the anchor.
    let keys = net.resolve("test", "DNSKEY").await;
    let key = keys
        .outcome
        .records_of("DNSKEY")
        .next()
        .expect("a key")
        .data
        .clone();
    let anchor = TrustAnchor::parse(&format!("test. 3600 IN DNSKEY {key}\n")).expect("parses");
    assert_eq!(anchor.zone(), "test");
    let chain = walk(&net, &anchor, "good.test", "SOA", OffsetDateTime::now_utc()).await;
    assert!(
        matches!(chain.outcome, ChainOutcome::Secure { .. }),
        "{:?}",
        chain.outcome
    );
    // And the DS form of the same anchor, together with it, is one zone.
    let both = format!(
        "{}\ntest. 3600 IN DNSKEY {key}\n",
        lab.trust_anchor().expect("ds")
    );
    assert!(TrustAnchor::parse(&both).is_ok());
    // Records for two zones are refused.
    let two = format!(
        "{}\nother. 3600 IN DNSKEY {key}\n",
        lab.trust_anchor().expect("ds")
    );
    assert!(matches!(
        TrustAnchor::parse(&two),
        Err(ward_probe::dnssec::AnchorError::SeveralZones(..))
    ));
    assert!(matches!(
        TrustAnchor::parse("; nothing here\n"),
        Err(ward_probe::dnssec::AnchorError::Empty)
    ));
}

#[tokio::test]
async fn walking_again_costs_no_questions() {
    let (lab, net, anchor) = setup().await;
    let now = OffsetDateTime::now_utc();
    let before = lab.queries_at(ward_lab::RESOLVER_IP);
    walk(&net, &anchor, "good.test", "SOA", now).await;
    let first = lab.queries_at(ward_lab::RESOLVER_IP) - before;
    // DNSKEY test, DS good.test, DNSKEY good.test, SOA good.test.
    assert_eq!(first, 4);
    walk(&net, &anchor, "good.test", "SOA", now).await;
    walk(&net, &anchor, "ed.test", "SOA", now).await;
    // The anchor zone's keys are remembered: ed.test costs three more, good.test none.
    assert_eq!(lab.queries_at(ward_lab::RESOLVER_IP) - before, 7);
}

#[tokio::test]
async fn a_resolver_that_strips_signatures_is_could_not_tell() {
    // The anchor zone publishes its key but no signature at all: what a resolver that
    // drops RRSIGs hands over. Every domain would otherwise be "bogus".
    let mut f = fixture();
    f.dns.signed[0].fault = Some(Fault::NoSignatures);
    let lab = Lab::start(&f).await.expect("lab starts");
    let net = Net::new(
        quick(lab.resolver())
            .dangerous_lab_mode(PortMap(lab.ports().clone()))
            .build(),
    )
    .expect("net");
    let anchor = TrustAnchor::parse(lab.trust_anchor().expect("anchor")).expect("anchor");
    let chain = walk(&net, &anchor, "good.test", "SOA", OffsetDateTime::now_utc()).await;
    assert_eq!(
        chain.outcome,
        ChainOutcome::NoAnchor {
            zone: "test".into()
        }
    );
    // Below the anchor, a zone with keys and no signatures is bogus, not "could not tell".
    let mut f = fixture();
    f.dns.signed[1].fault = Some(Fault::NoSignatures);
    let lab = Lab::start(&f).await.expect("lab starts");
    let cfg = NetConfig::builder(lab.resolver())
        .dns_timeout(Duration::from_millis(500))
        .expect("within the limits")
        .dangerous_lab_mode(PortMap(lab.ports().clone()))
        .build();
    let net = Net::new(cfg).expect("net");
    let anchor = TrustAnchor::parse(lab.trust_anchor().expect("anchor")).expect("anchor");
    let chain = walk(&net, &anchor, "good.test", "SOA", OffsetDateTime::now_utc()).await;
    assert!(
        matches!(
            chain.outcome,
            ChainOutcome::Bogus {
                link: BrokenLink::MissingRrsig,
                ..
            }
        ),
        "{:?}",
        chain.outcome
    );
}

#[tokio::test]
async fn remembered_signatures_are_still_checked_for_time() {
    let (_lab, net, anchor) = setup().await;
    let verified = ward_probe::dnssec::Verified::default();
    let now = OffsetDateTime::now_utc();
    let chain = walk_remembering(&net, &anchor, &verified, "good.test", "SOA", now).await;
    assert!(
        matches!(chain.outcome, ChainOutcome::Secure { .. }),
        "{:?}",
        chain.outcome
    );
    // The same signatures, remembered as verified, seen from a year later: the skipped
    // check is the cryptography, never the validity period.
    let later = now + time::Duration::days(400);
    let chain = walk_remembering(&net, &anchor, &verified, "good.test", "SOA", later).await;
    let ChainOutcome::Bogus { link, .. } = &chain.outcome else {
        panic!("{:?}", chain.outcome);
    };
    assert_eq!(*link, BrokenLink::ExpiredRrsig);
    // And the outcome is the one a walk that remembers nothing reaches.
    let fresh = walk(&net, &anchor, "good.test", "SOA", later).await;
    assert_eq!(fresh.outcome, chain.outcome);
}
