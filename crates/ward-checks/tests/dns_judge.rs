//! The DNS checks judged from observation fixtures, each judged twice: straight from the
//! observation, and again after a JSON round trip, the way a stored scan is judged again.

use serde_json::json;
use ward_checks::{Context, dns};
use ward_model::observe::AssetObservation;
use ward_model::{Asset, Finding, Role, Severity, SizeClass, Status};

/// Judges `obs` for a mail+web domain of `size`, twice, and insists both agree.
fn judge(obs: serde_json::Value, size: SizeClass) -> Vec<Finding> {
    let obs: AssetObservation = serde_json::from_value(obs).expect("fixture is an observation");
    let asset = Asset {
        domain: obs.domain.clone(),
        roles: vec![Role::Mail, Role::Web],
        dkim_selectors: vec![],
        reported_dkim_selectors: Vec::new(),
    };
    let direct = dns::judge(&Context {
        asset: &asset,
        size,
        obs: &obs,
    });
    let stored: AssetObservation =
        serde_json::from_str(&serde_json::to_string(&obs).unwrap()).unwrap();
    let again = dns::judge(&Context {
        asset: &asset,
        size,
        obs: &stored,
    });
    assert_eq!(
        direct, again,
        "judging a stored observation must give the same findings"
    );
    direct
}

fn get<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.check.as_str() == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

fn answer(name: &str, rtype: &str, data: &[&str]) -> serde_json::Value {
    json!({ "name": name, "rtype": rtype, "outcome": { "state": "answer", "authoritative": false,
        "records": data.iter().map(|d| json!({ "name": name, "rtype": rtype, "ttl": 300, "data": d })).collect::<Vec<_>>() } })
}

fn direct_soa(ip: &str, domain: &str, outcome: serde_json::Value) -> serde_json::Value {
    json!({ "name": domain, "rtype": "SOA", "server": ip, "outcome": outcome })
}

fn healthy(extra: Vec<serde_json::Value>) -> serde_json::Value {
    let mut dns = vec![
        answer(
            "a.example",
            "SOA",
            &["ns1.a.example. h.a.example. 1 7200 3600 1209600 300"],
        ),
        answer("a.example", "NS", &["ns1.a.example.", "ns2.a.example."]),
        answer("ns1.a.example", "A", &["192.0.2.1"]),
        json!({ "name": "ns1.a.example", "rtype": "AAAA", "outcome": { "state": "no_data", "authoritative": false } }),
        answer("ns2.a.example", "A", &["198.51.100.1"]),
        json!({ "name": "ns2.a.example", "rtype": "AAAA", "outcome": { "state": "no_data", "authoritative": false } }),
        direct_soa(
            "192.0.2.1",
            "a.example",
            json!({ "state": "answer", "authoritative": true, "records": [] }),
        ),
    ];
    dns.extend(extra);
    json!({ "domain": "a.example", "scanned_at": "2026-11-25T12:00:00Z", "dns": dns })
}

#[test]
fn two_authoritative_nameservers_and_caa_pass() {
    let obs = healthy(vec![
        direct_soa(
            "198.51.100.1",
            "a.example",
            json!({ "state": "answer", "authoritative": true, "records": [] }),
        ),
        answer("a.example", "CAA", &["0 issue \"letsencrypt.org\""]),
    ]);
    let f = judge(obs, SizeClass::Small);
    assert_eq!(
        f.iter().map(|f| f.status).collect::<Vec<_>>(),
        vec![Status::Pass; 3]
    );
}

#[test]
fn a_lame_nameserver_fails_and_severity_follows_size() {
    let obs = healthy(vec![
        direct_soa(
            "198.51.100.1",
            "a.example",
            json!({ "state": "failed", "failure": { "kind": "refused" } }),
        ),
        answer("a.example", "CAA", &["0 issue \"letsencrypt.org\""]),
    ]);
    let small = judge(obs.clone(), SizeClass::Small);
    let ns = get(&small, "dns.ns");
    assert_eq!((ns.status, ns.severity), (Status::Fail, Severity::Medium));
    assert_eq!(
        ns.summary,
        "1 of 2 nameservers do not answer for the domain: ns2.a.example"
    );
    let medium = judge(obs, SizeClass::Medium);
    assert_eq!(get(&medium, "dns.ns").severity, Severity::High);
}

#[test]
fn a_silent_nameserver_is_could_not_tell() {
    let obs = healthy(vec![
        direct_soa(
            "198.51.100.1",
            "a.example",
            json!({ "state": "failed", "failure": { "kind": "timeout", "attempts": 3 } }),
        ),
        answer("a.example", "CAA", &["0 issue \"letsencrypt.org\""]),
    ]);
    let f = judge(obs, SizeClass::Small);
    let ns = get(&f, "dns.ns");
    assert_eq!(ns.status, Status::Error);
    assert_eq!(
        ns.evidence["nameservers"][1]["answers"][0]["result"],
        "no answer (timeout)"
    );
}

#[test]
fn resolver_failures_are_errors_and_nxdomain_fails_once() {
    let failed = |rtype: &str| json!({ "name": "a.example", "rtype": rtype, "outcome": { "state": "failed", "failure": { "kind": "serv_fail" } } });
    let obs = json!({ "domain": "a.example", "scanned_at": "2026-11-25T12:00:00Z",
        "dns": [failed("SOA"), failed("NS"), failed("CAA")] });
    let f = judge(obs, SizeClass::Medium);
    assert!(f.iter().all(|f| f.status == Status::Error), "{f:#?}");
    assert!(get(&f, "dns.caa").summary.contains("SERVFAIL"));

    let nx = |rtype: &str| json!({ "name": "a.example", "rtype": rtype, "outcome": { "state": "nx_domain", "authoritative": false } });
    let obs = json!({ "domain": "a.example", "scanned_at": "2026-11-25T12:00:00Z", "dns": [nx("SOA"), nx("NS"), nx("CAA")] });
    let f = judge(obs, SizeClass::Small);
    assert_eq!(get(&f, "dns.resolves").status, Status::Fail);
    assert_eq!(get(&f, "dns.resolves").severity, Severity::High);
    assert_eq!(get(&f, "dns.ns").status, Status::Info);
    assert_eq!(get(&f, "dns.caa").status, Status::Info);
}

#[test]
fn caa_states() {
    let with_caa = |records: &[&str]| {
        let mut extra = vec![direct_soa(
            "198.51.100.1",
            "a.example",
            json!({ "state": "answer", "authoritative": true, "records": [] }),
        )];
        if records.is_empty() {
            extra.push(json!({ "name": "a.example", "rtype": "CAA", "outcome": { "state": "no_data", "authoritative": false } }));
        } else {
            extra.push(answer("a.example", "CAA", records));
        }
        judge(healthy(extra), SizeClass::Small)
    };
    assert_eq!(get(&with_caa(&[]), "dns.caa").status, Status::Warn);
    assert_eq!(
        get(&with_caa(&["0 iodef \"mailto:x@a.example\""]), "dns.caa").status,
        Status::Warn
    );
    let bad = with_caa(&["0 issue \"letsencrypt.org\"", "128 tbs \"x\""]);
    assert_eq!(get(&bad, "dns.caa").status, Status::Fail);
    assert!(get(&bad, "dns.caa").summary.contains("critical tag `tbs`"));
    let malformed = with_caa(&["0 issue \"bad_ca!\""]);
    assert_eq!(
        get(&malformed, "dns.caa").evidence["records"][0]["error"]["error"],
        "bad_issuer"
    );
    assert_eq!(
        get(&with_caa(&["0 issuewild \";\""]), "dns.caa").status,
        Status::Pass
    );
}
