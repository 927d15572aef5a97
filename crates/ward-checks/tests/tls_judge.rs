//! The transport-security checks on observation fixtures built here, each judged twice:
//! straight from the observation and again after a JSON round trip, as a stored scan is.

use time::OffsetDateTime;
use time::macros::datetime;
use ward_checks::Context;
use ward_checks::tls::judge;
use ward_model::observe::AssetObservation;
use ward_model::tls::{
    AlertDescription, CertChainSeen, CertSeen, CipherSuite, HelloOutcome, NamedGroup,
    OcspCertStatus, OcspSeen, OcspSignature, OcspStaple, ProtocolVersion, StartTlsOutcome,
    StartTlsSeen, SuiteSeen, TlsScan, VersionScan, VersionStatus,
};
use ward_model::{Asset, NetFailure, Role, SizeClass, Status};

const NOW: OffsetDateTime = datetime!(2026-11-26 00:00 UTC);

fn suite(id: u16, name: &str) -> SuiteSeen {
    SuiteSeen {
        id: CipherSuite(id),
        name: Some(name.into()),
    }
}

fn no() -> HelloOutcome {
    HelloOutcome::Alert {
        level: 2,
        description: AlertDescription::PROTOCOL_VERSION,
    }
}

fn version(v: ProtocolVersion, suites: Vec<SuiteSeen>) -> VersionScan {
    let status = if suites.is_empty() {
        VersionStatus::NotSupported
    } else {
        VersionStatus::Supported
    };
    VersionScan {
        version: v,
        first_answer: match suites.first() {
            Some(s) => HelloOutcome::Accepted {
                version: v,
                suite: s.id,
                group: None,
                retry_request: false,
            },
            None => no(),
        },
        status,
        suites,
        server_order: None,
        groups: vec![],
        dh_bits: None,
        incomplete: None,
    }
}

fn cert(days_left: i64) -> CertSeen {
    CertSeen {
        subject: "CN=example.org".into(),
        issuer: "CN=Lab CA".into(),
        dns_names: vec!["example.org".into()],
        not_before: NOW - time::Duration::days(10),
        not_after: NOW + time::Duration::days(days_left),
        key_type: "ec".into(),
        key_bits: Some(256),
        signature_algorithm: "ecdsa-with-SHA256".into(),
        weak_signature: false,
        parse_error: None,
        dane: None,
    }
}

fn chain(certs: Vec<CertSeen>, kind: Option<&str>) -> CertChainSeen {
    CertChainSeen {
        source: "rustls".into(),
        certs,
        validation_error: kind.map(|k| format!("{k} (detail)")),
        validation_kind: kind.map(str::to_string),
        hostname: "example.org".into(),
        order_problem: None,
        missing_issuer: None,
        extra_certs: vec![],
        ocsp: None,
    }
}

/// A good modern HTTPS endpoint.
fn good_web() -> TlsScan {
    TlsScan {
        ip: "192.0.2.1".into(),
        port: 443,
        hostname: "example.org".into(),
        transport: "direct".into(),
        versions: vec![
            version(ProtocolVersion::SSLV3, vec![]),
            version(ProtocolVersion::TLS10, vec![]),
            version(ProtocolVersion::TLS11, vec![]),
            version(
                ProtocolVersion::TLS12,
                vec![suite(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")],
            ),
            version(
                ProtocolVersion::TLS13,
                vec![suite(0x1301, "TLS13_AES_128_GCM_SHA256")],
            ),
        ],
        chain: Some(chain(vec![cert(80)], None)),
        chain_failure: None,
        starttls: None,
        connections: 7,
        shared_from: None,
    }
}

fn mx(scan: TlsScan, outcome: StartTlsOutcome) -> TlsScan {
    TlsScan {
        port: 25,
        transport: "starttls_smtp".into(),
        starttls: Some(StartTlsSeen {
            banner: vec!["mx ESMTP".into()],
            ehlo_keywords: vec!["STARTTLS".into()],
            outcome,
        }),
        ..scan
    }
}

/// Judges `scans` for an asset with `role`, twice; returns (check, status) pairs.
fn run(role: Role, scans: Vec<TlsScan>) -> Vec<(String, Status)> {
    let asset = Asset {
        domain: "example.org".into(),
        roles: vec![role],
        dkim_selectors: vec![],
        reported_dkim_selectors: Vec::new(),
    };
    let obs = AssetObservation {
        tls: scans,
        ..AssetObservation::new("example.org", NOW)
    };
    let once = |obs: &AssetObservation| -> Vec<(String, Status)> {
        let ctx = Context {
            asset: &asset,
            size: SizeClass::Small,
            obs,
        };
        judge(&ctx)
            .into_iter()
            .filter(|f| f.check.as_str().starts_with("web.") || f.check.as_str().starts_with("mx."))
            .map(|f| (f.check.as_str().to_string(), f.status))
            .collect()
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

fn status_of(results: &[(String, Status)], check: &str) -> Status {
    results
        .iter()
        .find(|(c, _)| c == check)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no {check} in {results:?}"))
}

#[test]
fn good_https_passes_all_three() {
    assert_eq!(
        run(Role::Web, vec![good_web()]),
        [
            ("web.tls_versions".to_string(), Status::Pass),
            ("web.ciphers".to_string(), Status::Pass),
            ("web.cert".to_string(), Status::Pass),
        ]
    );
}

#[test]
fn tls10_fails_on_the_web_and_warns_on_mail() {
    let mut scan = good_web();
    scan.versions[1] = version(
        ProtocolVersion::TLS10,
        vec![suite(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")],
    );
    let web = run(Role::Web, vec![scan.clone()]);
    assert_eq!(status_of(&web, "web.tls_versions"), Status::Fail);
    // CBC with SHA-1 is "phase out".
    assert_eq!(status_of(&web, "web.ciphers"), Status::Warn);
    let mail = run(Role::Mail, vec![mx(scan, StartTlsOutcome::Ready)]);
    assert_eq!(status_of(&mail, "mx.tls_versions"), Status::Warn);
    assert_eq!(status_of(&mail, "mx.starttls"), Status::Pass);
}

#[test]
fn sslv3_fails_everywhere() {
    let mut scan = good_web();
    scan.versions[0] = version(
        ProtocolVersion::SSLV3,
        vec![suite(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA")],
    );
    let mail = run(Role::Mail, vec![mx(scan, StartTlsOutcome::Ready)]);
    assert_eq!(status_of(&mail, "mx.tls_versions"), Status::Fail);
}

#[test]
fn untestable_version_is_error_not_pass() {
    let mut scan = good_web();
    scan.versions[1].status = VersionStatus::CouldNotTell;
    scan.versions[1].first_answer = HelloOutcome::Network {
        failure: NetFailure::Reset,
    };
    let web = run(Role::Web, vec![scan]);
    assert_eq!(status_of(&web, "web.tls_versions"), Status::Error);
}

#[test]
fn weak_suites_and_dh() {
    let mut scan = good_web();
    scan.versions[3] = version(
        ProtocolVersion::TLS12,
        vec![
            suite(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            suite(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        ],
    );
    assert_eq!(
        status_of(&run(Role::Web, vec![scan.clone()]), "web.ciphers"),
        Status::Fail
    );

    scan.versions[3] = version(
        ProtocolVersion::TLS12,
        vec![suite(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256")],
    );
    assert_eq!(
        status_of(&run(Role::Web, vec![scan.clone()]), "web.ciphers"),
        Status::Warn
    );

    scan.versions[3] = version(
        ProtocolVersion::TLS12,
        vec![suite(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")],
    );
    scan.versions[3].dh_bits = Some(1024);
    assert_eq!(
        status_of(&run(Role::Web, vec![scan.clone()]), "web.ciphers"),
        Status::Fail
    );
    scan.versions[3].dh_bits = Some(2048);
    assert_eq!(
        status_of(&run(Role::Web, vec![scan]), "web.ciphers"),
        Status::Pass
    );
}

#[test]
fn certificate_states() {
    let with = |c: CertChainSeen| {
        let mut s = good_web();
        s.chain = Some(c);
        status_of(&run(Role::Web, vec![s]), "web.cert")
    };
    assert_eq!(with(chain(vec![cert(-3)], Some("expired"))), Status::Fail);
    assert_eq!(
        with(chain(vec![cert(80)], Some("name_mismatch"))),
        Status::Fail
    );
    assert_eq!(
        with(chain(vec![cert(80)], Some("unknown_issuer"))),
        Status::Fail
    );
    assert_eq!(with(chain(vec![cert(10)], None)), Status::Warn);
    assert_eq!(with(chain(vec![cert(30)], None)), Status::Pass);
    let mut small = cert(80);
    small.key_type = "rsa".into();
    small.key_bits = Some(1024);
    assert_eq!(with(chain(vec![small], None)), Status::Fail);
    let mut sha1 = cert(400);
    sha1.subject = "CN=Intermediate".into();
    sha1.weak_signature = true;
    sha1.signature_algorithm = "sha1WithRSAEncryption".into();
    assert_eq!(with(chain(vec![cert(80), sha1], None)), Status::Fail);

    let mut disordered = chain(vec![cert(80)], None);
    disordered.order_problem = Some("certificate 0 is issued by X, but is followed by Y".into());
    assert_eq!(with(disordered), Status::Warn);

    let mut none = good_web();
    none.chain = None;
    none.chain_failure = Some("timed out".into());
    assert_eq!(
        status_of(&run(Role::Web, vec![none]), "web.cert"),
        Status::Error
    );
}

#[test]
fn starttls_states() {
    let only = |outcome: StartTlsOutcome| {
        let mut s = mx(good_web(), outcome.clone());
        if outcome != StartTlsOutcome::Ready {
            s.versions.clear();
            s.chain = None;
        }
        run(Role::Mail, vec![s])
    };
    // Not offered: fail, and no verdict on TLS that was never reached.
    assert_eq!(
        only(StartTlsOutcome::NotOffered),
        [("mx.starttls".to_string(), Status::Fail)]
    );
    assert_eq!(
        only(StartTlsOutcome::Refused {
            stage: "banner".into(),
            code: 421,
            text: "greylisted".into()
        }),
        [("mx.starttls".to_string(), Status::Error)]
    );
    assert_eq!(
        only(StartTlsOutcome::Network {
            stage: "connect".into(),
            failure: NetFailure::Refused
        }),
        [("mx.starttls".to_string(), Status::Error)]
    );
    assert_eq!(
        only(StartTlsOutcome::Refused {
            stage: "starttls".into(),
            code: 554,
            text: "no".into()
        }),
        [("mx.starttls".to_string(), Status::Fail)]
    );
    assert_eq!(
        only(StartTlsOutcome::Ready),
        [
            ("mx.starttls".to_string(), Status::Pass),
            ("mx.tls_versions".to_string(), Status::Pass),
            ("mx.ciphers".to_string(), Status::Pass),
            ("mx.cert".to_string(), Status::Pass),
        ]
    );
}

#[test]
fn worst_endpoint_speaks() {
    let mut bad = mx(good_web(), StartTlsOutcome::NotOffered);
    bad.hostname = "mx2.example.org".into();
    bad.versions.clear();
    let good = mx(good_web(), StartTlsOutcome::Ready);
    let results = run(Role::Mail, vec![good, bad]);
    assert_eq!(status_of(&results, "mx.starttls"), Status::Fail);
    assert_eq!(status_of(&results, "mx.tls_versions"), Status::Pass);
}

#[test]
fn check_ids_list_the_family() {
    let ids = ward_checks::judged_checks();
    for id in ward_checks::tls::CHECKS {
        assert!(ids.contains(id), "{id}");
    }
}

/// The `web.cert` finding for one endpoint with `c` as its chain: (status, summary).
fn cert_finding(c: CertChainSeen) -> (Status, String, serde_json::Value) {
    let mut s = good_web();
    s.chain = Some(c);
    let asset = Asset {
        domain: "example.org".into(),
        roles: vec![Role::Web],
        dkim_selectors: vec![],
        reported_dkim_selectors: vec![],
    };
    let obs = AssetObservation {
        tls: vec![s],
        ..AssetObservation::new("example.org", NOW)
    };
    let ctx = Context {
        asset: &asset,
        size: SizeClass::Small,
        obs: &obs,
    };
    let f = judge(&ctx)
        .into_iter()
        .find(|f| f.check.as_str() == "web.cert")
        .expect("web.cert");
    // Judged the same after a JSON round trip.
    let back: AssetObservation =
        serde_json::from_str(&serde_json::to_string(&obs).unwrap()).unwrap();
    let again = judge(&Context { obs: &back, ..ctx })
        .into_iter()
        .find(|f| f.check.as_str() == "web.cert")
        .expect("web.cert");
    assert_eq!((again.status, &again.summary), (f.status, &f.summary));
    (f.status, f.summary, f.evidence.into_value())
}

#[test]
fn incomplete_chain_names_the_missing_intermediate() {
    let mut c = chain(vec![cert(80)], Some("unknown_issuer"));
    c.missing_issuer = Some("CN=Lab Intermediate".into());
    let (status, summary, ev) = cert_finding(c);
    assert_eq!(status, Status::Fail);
    assert!(
        summary.ends_with(
            "chain incomplete: the issuer CN=Lab Intermediate is neither sent by the server nor a trusted root"
        ),
        "{summary}"
    );
    assert_eq!(
        ev["endpoints"][0]["detail"]["missing_issuer"],
        "CN=Lab Intermediate"
    );
    // A self-signed leaf is not "incomplete": nothing is missing, nobody trusts it.
    let mut own = cert(80);
    own.issuer = own.subject.clone();
    let mut c = chain(vec![own], Some("unknown_issuer"));
    c.missing_issuer = None;
    let (status, summary, _) = cert_finding(c);
    assert_eq!(status, Status::Fail);
    assert!(
        summary.contains("self-signed or unknown issuer"),
        "{summary}"
    );
}

#[test]
fn extra_certificates_are_info() {
    let mut c = chain(vec![cert(80)], None);
    c.extra_certs = vec!["CN=unrelated.example".into()];
    let (status, summary, _) = cert_finding(c);
    assert_eq!(status, Status::Info);
    assert!(
        summary.ends_with("not part of its chain: CN=unrelated.example"),
        "{summary}"
    );
}

fn staple(status: Option<OcspCertStatus>, next_in_days: i64, sig: OcspSignature) -> OcspStaple {
    OcspStaple::Stapled(OcspSeen {
        response_status: "successful".into(),
        for_other_certificate: status.is_none(),
        cert_status: status,
        this_update: Some(NOW - time::Duration::days(1)),
        next_update: Some(NOW + time::Duration::days(next_in_days)),
        signature: sig,
    })
}

#[test]
fn stapled_ocsp_states() {
    let with = |o: Option<OcspStaple>| {
        let mut c = chain(vec![cert(80)], None);
        c.ocsp = o;
        let (status, summary, ev) = cert_finding(c);
        (
            status,
            summary,
            ev["endpoints"][0]["detail"]["ocsp"].clone(),
        )
    };
    let good = staple(Some(OcspCertStatus::Good), 6, OcspSignature::Verified);
    let (status, summary, ev) = with(Some(good));
    assert_eq!(status, Status::Pass);
    assert!(summary.ends_with("OCSP response stapled"), "{summary}");
    assert_eq!(ev["cert_status"]["kind"], "good");
    // Not stapled, or not asked: no effect on the verdict.
    assert_eq!(with(Some(OcspStaple::NotStapled)).0, Status::Pass);
    assert_eq!(with(None).0, Status::Pass);

    let revoked = staple(
        Some(OcspCertStatus::Revoked {
            at: datetime!(2026-11-01 00:00 UTC),
            reason: Some(1),
        }),
        6,
        OcspSignature::Verified,
    );
    let (status, summary, _) = with(Some(revoked));
    assert_eq!(status, Status::Fail);
    assert!(summary.contains("revoked on 2026-11-01"), "{summary}");

    let stale = staple(Some(OcspCertStatus::Good), -2, OcspSignature::Verified);
    let (status, summary, _) = with(Some(stale));
    assert_eq!(status, Status::Warn);
    assert!(summary.contains("went stale on 2026-11-24"), "{summary}");

    let forged = staple(Some(OcspCertStatus::Good), 6, OcspSignature::Bad);
    assert_eq!(with(Some(forged)).0, Status::Warn);
    let other = staple(None, 6, OcspSignature::Verified);
    assert_eq!(with(Some(other)).0, Status::Warn);
    let unknown = staple(Some(OcspCertStatus::Unknown), 6, OcspSignature::Verified);
    assert_eq!(with(Some(unknown)).0, Status::Warn);
    let broken = OcspStaple::Malformed {
        reason: "OCSPResponse: truncated at byte 0".into(),
    };
    assert_eq!(with(Some(broken)).0, Status::Warn);
    // A delegated responder's signature that could not be checked is not a problem.
    let delegated = staple(
        Some(OcspCertStatus::Good),
        6,
        OcspSignature::Unchecked {
            why: "signed by a delegated responder certificate".into(),
        },
    );
    assert_eq!(with(Some(delegated)).0, Status::Pass);
}

#[test]
fn cipher_evidence_shows_order_groups_dh_and_forward_secrecy() {
    let mut scan = good_web();
    scan.versions[3] = version(
        ProtocolVersion::TLS12,
        vec![
            suite(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            suite(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
            suite(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        ],
    );
    scan.versions[3].server_order = Some(true);
    scan.versions[3].groups = vec![NamedGroup::SECP384R1];
    scan.versions[3].dh_bits = Some(1024);
    let asset = Asset {
        domain: "example.org".into(),
        roles: vec![Role::Web],
        dkim_selectors: vec![],
        reported_dkim_selectors: vec![],
    };
    let obs = AssetObservation {
        tls: vec![scan],
        ..AssetObservation::new("example.org", NOW)
    };
    let f = judge(&Context {
        asset: &asset,
        size: SizeClass::Small,
        obs: &obs,
    })
    .into_iter()
    .find(|f| f.check.as_str() == "web.ciphers")
    .expect("web.ciphers");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.contains("1024-bit DH group with TLS 1.2"),
        "{}",
        f.summary
    );
    let v12 = &f.evidence["endpoints"][0]["detail"]["by_version"][0];
    assert_eq!(v12["version"], "TLS 1.2");
    assert_eq!(
        v12["suites"],
        serde_json::json!([
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_128_GCM_SHA256"
        ])
    );
    assert_eq!(v12["server_order"], true);
    assert_eq!(v12["groups"], serde_json::json!(["SECP384R1"]));
    assert_eq!(v12["dh_bits"], 1024);
    assert_eq!(v12["forward_secrecy"], "some");
}
