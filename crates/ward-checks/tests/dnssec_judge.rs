//! `dnssec.*` and `mx.dane` on observation fixtures built here, each judged twice:
//! straight from the observation and again after a JSON round trip, as a stored scan is.
//! The algorithm judgement is tested here for every number, including those the lab
//! cannot sign with (1, 3, 6, 7, 10, 12).

use time::OffsetDateTime;
use time::macros::datetime;
use ward_checks::Context;
use ward_checks::dnssec::judge;
use ward_model::dnssec::{
    BrokenLink, ChainOutcome, DnskeySeen, DnssecChain, DsSeen, SigSeen, ZoneSeen,
};
use ward_model::observe::AssetObservation;
use ward_model::tls::{CertChainSeen, CertSeen, DaneData, TlsScan};
use ward_model::{
    Asset, DnsFailure, DnsLookup, DnsOutcome, DnsRecord, Finding, Role, SizeClass, Status,
};

const NOW: OffsetDateTime = datetime!(2026-11-26 00:00 UTC);
const DOMAIN: &str = "example.org";
const MX: &str = "mx.example.org";

fn sig(name: &str, covers: &str, alg: u8) -> SigSeen {
    SigSeen {
        name: name.into(),
        covers: covers.into(),
        key_tag: 4242,
        algorithm: alg,
        signer: name.into(),
        inception: NOW.unix_timestamp() - 3600,
        expiration: NOW.unix_timestamp() + 86_400,
    }
}

fn zone(name: &str, alg: u8, digest: u8, keys: bool, ds: bool) -> ZoneSeen {
    ZoneSeen {
        zone: name.into(),
        ds: if ds {
            vec![DsSeen {
                key_tag: 4242,
                algorithm: alg,
                digest_type: digest,
            }]
        } else {
            vec![]
        },
        dnskeys: if keys {
            vec![DnskeySeen {
                key_tag: 4242,
                algorithm: alg,
                flags: 257,
            }]
        } else {
            vec![]
        },
        signatures: if keys {
            vec![sig(name, "DNSKEY", alg)]
        } else {
            vec![]
        },
    }
}

fn soa(name: &str) -> DnsRecord {
    DnsRecord {
        name: name.into(),
        rtype: "SOA".into(),
        ttl: 300,
        data: "ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300".into(),
    }
}

fn chain(name: &str, rtype: &str, zones: Vec<ZoneSeen>, outcome: ChainOutcome) -> DnssecChain {
    DnssecChain {
        name: name.into(),
        rtype: rtype.into(),
        anchor: "the root zone's keys".into(),
        zones,
        outcome,
    }
}

fn secure_domain(alg: u8, digest: u8) -> DnssecChain {
    chain(
        DOMAIN,
        "SOA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, alg, digest, true, true),
        ],
        ChainOutcome::Secure {
            records: vec![soa(DOMAIN)],
            signature: sig(DOMAIN, "SOA", alg),
        },
    )
}

fn judged(chains: Vec<DnssecChain>, extra: impl FnOnce(&mut AssetObservation)) -> Vec<Finding> {
    let asset = Asset {
        domain: DOMAIN.into(),
        roles: vec![Role::Mail, Role::Web],
        dkim_selectors: vec![],
        reported_dkim_selectors: vec![],
    };
    let mut obs = AssetObservation::new(DOMAIN, NOW);
    obs.dnssec = chains;
    extra(&mut obs);
    let once = |obs: &AssetObservation| -> Vec<Finding> {
        let ctx = Context {
            asset: &asset,
            size: SizeClass::Medium,
            obs,
        };
        judge(&ctx)
    };
    let direct = once(&obs);
    let json = serde_json::to_string(&obs).expect("serialises");
    let back: AssetObservation = serde_json::from_str(&json).expect("parses");
    assert_eq!(
        once(&back),
        direct,
        "judged differently after a JSON round trip"
    );
    direct
}

fn get<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter()
        .find(|x| x.check.as_str() == id)
        .unwrap_or_else(|| panic!("no {id} in {f:#?}"))
}

fn status(f: &[Finding], id: &str) -> Status {
    get(f, id).status
}

#[test]
fn a_secure_zone_passes_all_three() {
    let f = judged(vec![secure_domain(13, 2)], |_| {});
    assert_eq!(status(&f, "dnssec.signed"), Status::Pass);
    assert_eq!(status(&f, "dnssec.valid"), Status::Pass);
    assert_eq!(status(&f, "dnssec.algorithms"), Status::Pass);
    assert!(get(&f, "dnssec.signed").summary.contains("DNSKEY 4242"));
}

#[test]
fn an_unsigned_zone_warns_and_the_rest_is_not_applicable() {
    let c = chain(
        DOMAIN,
        "SOA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, 0, 0, false, false),
        ],
        ChainOutcome::Insecure {
            zone: DOMAIN.into(),
            detail: "delegated without a DS record".into(),
            records: vec![soa(DOMAIN)],
        },
    );
    let f = judged(vec![c], |_| {});
    assert_eq!(status(&f, "dnssec.signed"), Status::Warn);
    assert!(get(&f, "dnssec.signed").summary.contains("not signed"));
    assert_eq!(status(&f, "dnssec.valid"), Status::Info);
    assert_eq!(status(&f, "dnssec.algorithms"), Status::Info);
}

#[test]
fn keys_without_ds_are_an_island() {
    let c = chain(
        DOMAIN,
        "SOA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, 13, 2, true, false),
        ],
        ChainOutcome::Insecure {
            zone: DOMAIN.into(),
            detail: "delegated without a DS record".into(),
            records: vec![],
        },
    );
    let f = judged(vec![c], |_| {});
    assert_eq!(status(&f, "dnssec.signed"), Status::Warn);
    assert!(get(&f, "dnssec.signed").summary.contains("no DS record"));
    // The algorithm in use is still judged.
    assert_eq!(status(&f, "dnssec.algorithms"), Status::Pass);
}

#[test]
fn each_broken_link_fails_valid_and_names_itself() {
    for (link, words) in [
        (BrokenLink::DsMismatch, "matches no DNSKEY"),
        (BrokenLink::ExpiredRrsig, "expired"),
        (BrokenLink::MissingRrsig, "missing"),
        (BrokenLink::BadSignature, "does not verify"),
    ] {
        let c = chain(
            DOMAIN,
            "SOA",
            vec![
                zone(".", 8, 2, true, false),
                zone(DOMAIN, 13, 2, true, true),
            ],
            ChainOutcome::Bogus {
                zone: DOMAIN.into(),
                link,
                detail: "key 4242".into(),
            },
        );
        let f = judged(vec![c], |_| {});
        let v = get(&f, "dnssec.valid");
        assert_eq!(v.status, Status::Fail, "{link:?}");
        assert!(v.summary.contains(words), "{link:?}: {}", v.summary);
        assert_eq!(v.severity, ward_model::Severity::High);
        // Bogus is not "unsigned": the zone has DS and DNSKEY.
        assert_eq!(status(&f, "dnssec.signed"), Status::Pass, "{link:?}");
    }
}

#[test]
fn ds_without_dnskey_fails_signed() {
    let c = chain(
        DOMAIN,
        "SOA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, 13, 2, false, true),
        ],
        ChainOutcome::Bogus {
            zone: DOMAIN.into(),
            link: BrokenLink::NoDnskey,
            detail: "no DNSKEY".into(),
        },
    );
    let f = judged(vec![c], |_| {});
    assert_eq!(status(&f, "dnssec.signed"), Status::Fail);
    assert_eq!(status(&f, "dnssec.valid"), Status::Fail);
}

#[test]
fn a_timeout_is_error_never_fail() {
    let c = chain(
        DOMAIN,
        "SOA",
        vec![zone(".", 8, 2, true, false)],
        ChainOutcome::Failed {
            name: DOMAIN.into(),
            rtype: "DS".into(),
            failure: DnsFailure::Timeout { attempts: 3 },
        },
    );
    let f = judged(vec![c], |_| {});
    for id in ["dnssec.signed", "dnssec.valid", "dnssec.algorithms"] {
        assert_eq!(status(&f, id), Status::Error, "{id}");
        assert!(get(&f, id).summary.contains("timed out"), "{id}");
    }
}

#[test]
fn the_work_limit_is_error_not_bogus() {
    let c = chain(
        DOMAIN,
        "SOA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, 13, 2, true, true),
        ],
        ChainOutcome::Bogus {
            zone: DOMAIN.into(),
            link: BrokenLink::TooMuchWork,
            detail: "more than 16 DNSKEY records".into(),
        },
    );
    let f = judged(vec![c], |_| {});
    assert_eq!(status(&f, "dnssec.valid"), Status::Error);
}

#[test]
fn no_chain_walked_is_error() {
    let f = judged(vec![], |_| {});
    for id in [
        "dnssec.signed",
        "dnssec.valid",
        "dnssec.algorithms",
        "mx.dane",
    ] {
        assert_eq!(status(&f, id), Status::Error, "{id}");
    }
}

#[test]
fn algorithms_follow_rfc_8624_and_9905() {
    let cases = [
        (8, 2, Status::Pass),
        (13, 2, Status::Pass),
        (14, 4, Status::Pass),
        (15, 2, Status::Pass),
        (16, 2, Status::Pass),
        (5, 2, Status::Warn),
        (7, 2, Status::Warn),
        (10, 2, Status::Warn),
        (1, 2, Status::Fail),
        (3, 2, Status::Fail),
        (6, 2, Status::Fail),
        (12, 2, Status::Fail),
        // SHA-1 DS digests are flagged; GOST digests fail.
        (13, 1, Status::Warn),
        (13, 3, Status::Fail),
        (5, 1, Status::Warn),
    ];
    for (alg, digest, want) in cases {
        let f = judged(vec![secure_domain(alg, digest)], |_| {});
        let a = get(&f, "dnssec.algorithms");
        assert_eq!(
            a.status, want,
            "algorithm {alg}, digest {digest}: {}",
            a.summary
        );
        if want != Status::Pass {
            assert!(
                a.summary.contains(&format!("algorithm {alg}"))
                    || a.summary.contains("digest type"),
                "{}",
                a.summary
            );
        }
    }
}

fn dane(cert_spki: &str) -> CertSeen {
    CertSeen {
        subject: format!("CN={MX}"),
        issuer: "CN=Lab CA".into(),
        dns_names: vec![MX.into()],
        not_before: NOW,
        not_after: NOW,
        key_type: "ecdsa".into(),
        key_bits: Some(256),
        signature_algorithm: "ecdsa-with-SHA256".into(),
        weak_signature: false,
        parse_error: None,
        dane: Some(DaneData {
            cert: "3082aa".into(),
            cert_sha256: "c0".repeat(32),
            cert_sha512: "c1".repeat(64),
            spki: "3059bb".into(),
            spki_sha256: cert_spki.into(),
            spki_sha512: "51".repeat(64),
        }),
    }
}

fn ca_cert() -> CertSeen {
    let mut c = dane(&"ca".repeat(32));
    c.subject = "CN=Lab CA".into();
    c.dns_names = vec![];
    c
}

fn mx_obs(obs: &mut AssetObservation, with_chain: bool) {
    obs.dns.push(DnsLookup {
        name: DOMAIN.into(),
        rtype: "MX".into(),
        server: None,
        outcome: DnsOutcome::Answer {
            records: vec![DnsRecord {
                name: DOMAIN.into(),
                rtype: "MX".into(),
                ttl: 300,
                data: format!("10 {MX}."),
            }],
            authoritative: false,
        },
    });
    obs.tls.push(TlsScan {
        ip: "192.0.2.25".into(),
        port: 25,
        hostname: MX.into(),
        transport: "starttls_smtp".into(),
        versions: vec![],
        chain: with_chain.then(|| CertChainSeen {
            source: "rustls".into(),
            certs: vec![dane(&"ab".repeat(32)), ca_cert()],
            validation_error: None,
            validation_kind: None,
            hostname: MX.into(),
            order_problem: None,
            missing_issuer: None,
            extra_certs: vec![],
            ocsp: None,
        }),
        chain_failure: None,
        starttls: None,
        connections: 1,
        shared_from: None,
    });
}

fn tlsa_chain(outcome: ChainOutcome) -> DnssecChain {
    chain(
        &format!("_25._tcp.{MX}"),
        "TLSA",
        vec![
            zone(".", 8, 2, true, false),
            zone(DOMAIN, 13, 2, true, true),
        ],
        outcome,
    )
}

fn tlsa(data: &str) -> ChainOutcome {
    ChainOutcome::Secure {
        records: vec![DnsRecord {
            name: format!("_25._tcp.{MX}"),
            rtype: "TLSA".into(),
            ttl: 300,
            data: data.into(),
        }],
        signature: sig(DOMAIN, "TLSA", 13),
    }
}

fn dane_status(outcome: ChainOutcome, with_chain: bool) -> (Status, String) {
    let f = judged(vec![secure_domain(13, 2), tlsa_chain(outcome)], |o| {
        mx_obs(o, with_chain)
    });
    let d = get(&f, "mx.dane");
    (d.status, d.summary.clone())
}

#[test]
fn dane_matches_each_selector_and_matching_type() {
    let ab = "AB".repeat(32);
    for record in [
        format!("3 1 1 {ab}"),
        format!("3 0 1 {}", "c0".repeat(32)),
        format!("3 0 2 {}", "c1".repeat(64)),
        "3 1 0 3059BB".to_string(),
        "3 0 0 3082aa".to_string(),
        format!("3 1 2 {}", "51".repeat(64)),
        // DANE-TA: the issuing CA's key, and the leaf names the MX host.
        format!("2 1 1 {}", "ca".repeat(32)),
    ] {
        let (s, why) = dane_status(tlsa(&record), true);
        assert_eq!(s, Status::Pass, "{record}: {why}");
    }
}

#[test]
fn dane_states() {
    // A record for some other key: fail.
    let (s, why) = dane_status(tlsa(&format!("3 1 1 {}", "00".repeat(32))), true);
    assert_eq!(s, Status::Fail, "{why}");
    // DANE-EE data of the CA does not count for the leaf.
    let (s, _) = dane_status(tlsa(&format!("3 1 1 {}", "ca".repeat(32))), true);
    assert_eq!(s, Status::Fail);
    // Only PKIX usages: not usable for SMTP.
    let (s, _) = dane_status(tlsa(&format!("1 1 1 {}", "ab".repeat(32))), true);
    assert_eq!(s, Status::Warn);
    // No TLSA: info.
    let (s, _) = dane_status(
        ChainOutcome::Absent {
            nxdomain: true,
            signed_zone: true,
        },
        true,
    );
    assert_eq!(s, Status::Info);
    // TLSA in an unsigned zone: not usable.
    let (s, why) = dane_status(
        ChainOutcome::Insecure {
            zone: DOMAIN.into(),
            detail: "no DS".into(),
            records: vec![DnsRecord {
                name: format!("_25._tcp.{MX}"),
                rtype: "TLSA".into(),
                ttl: 300,
                data: format!("3 1 1 {}", "ab".repeat(32)),
            }],
        },
        true,
    );
    assert_eq!(s, Status::Warn, "{why}");
    assert!(why.contains("not DNSSEC-signed"), "{why}");
    // TLSA in a bogus zone: fail.
    let (s, _) = dane_status(
        ChainOutcome::Bogus {
            zone: DOMAIN.into(),
            link: BrokenLink::ExpiredRrsig,
            detail: "expired".into(),
        },
        true,
    );
    assert_eq!(s, Status::Fail);
    // Lookup timed out: error.
    let (s, _) = dane_status(
        ChainOutcome::Failed {
            name: format!("_25._tcp.{MX}"),
            rtype: "TLSA".into(),
            failure: DnsFailure::Timeout { attempts: 3 },
        },
        true,
    );
    assert_eq!(s, Status::Error);
    // Validated TLSA but no certificate seen (STARTTLS failed): error, not fail.
    let (s, _) = dane_status(tlsa(&format!("3 1 1 {}", "ab".repeat(32))), false);
    assert_eq!(s, Status::Error);
}
