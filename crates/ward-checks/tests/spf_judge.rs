//! The `spf.*` checks judged from observation fixtures, and the probe's fetch loop.

use serde_json::Value;
use std::net::IpAddr;
use ward_checks::mail::spf::{
    self, SpfEvalLimits, SpfResult, SpfVerdict, check_host, needed_lookups,
};
use ward_checks::{Context, judge};
use ward_model::observe::AssetObservation;
use ward_model::{
    Asset, DnsFailure, DnsLookup, DnsOutcome, DnsRecord, Finding, Role, Severity, SizeClass, Status,
};

const D: &str = "party.example";

fn answer(name: &str, rtype: &str, data: &[&str]) -> DnsLookup {
    DnsLookup {
        name: name.into(),
        rtype: rtype.into(),
        server: None,
        outcome: DnsOutcome::Answer {
            records: data
                .iter()
                .map(|d| DnsRecord {
                    name: name.into(),
                    rtype: rtype.into(),
                    ttl: 300,
                    data: (*d).into(),
                })
                .collect(),
            authoritative: false,
        },
    }
}

fn txt(name: &str, data: &[&str]) -> DnsLookup {
    answer(name, "TXT", data)
}

fn nx(name: &str, rtype: &str) -> DnsLookup {
    DnsLookup {
        name: name.into(),
        rtype: rtype.into(),
        server: None,
        outcome: DnsOutcome::NxDomain {
            authoritative: false,
        },
    }
}

fn timeout(name: &str, rtype: &str) -> DnsLookup {
    DnsLookup {
        name: name.into(),
        rtype: rtype.into(),
        server: None,
        outcome: DnsOutcome::Failed {
            failure: DnsFailure::Timeout { attempts: 3 },
        },
    }
}

fn obs(dns: Vec<DnsLookup>) -> AssetObservation {
    AssetObservation {
        domain: D.into(),
        scanned_at: time::OffsetDateTime::UNIX_EPOCH,
        dns,
        tls: Vec::new(),
        mta_sts_policy: None,
        web: None,
        dnssec: Vec::new(),
        servers_seen_at: None,
        dns_seen_at: None,
    }
}

fn asset(role: Role) -> Asset {
    Asset {
        domain: D.into(),
        roles: vec![role],
        dkim_selectors: Vec::new(),
        reported_dkim_selectors: Vec::new(),
    }
}

/// Judges twice, directly and after a JSON round trip of the observation (the way a
/// stored scan is judged again), and requires the same findings.
fn spf_findings(o: &AssetObservation, role: Role) -> Vec<Finding> {
    let a = asset(role);
    let ctx = Context {
        asset: &a,
        size: SizeClass::Medium,
        obs: o,
    };
    let direct = spf::judge(&ctx);
    let json = serde_json::to_string(o).expect("serialises");
    let back: AssetObservation = serde_json::from_str(&json).expect("round trip");
    let ctx2 = Context {
        asset: &a,
        size: SizeClass::Medium,
        obs: &back,
    };
    assert_eq!(direct, spf::judge(&ctx2));
    // The family is wired into the catalogue.
    let all: Vec<Finding> = judge(&ctx)
        .into_iter()
        .filter(|f| f.check.as_str().starts_with("spf."))
        .collect();
    assert_eq!(direct, all);
    direct
}

fn status_of(fs: &[Finding], id: &str) -> Status {
    fs.iter()
        .find(|f| f.check.as_str() == id)
        .unwrap_or_else(|| panic!("no {id} in {fs:#?}"))
        .status
}

fn statuses(fs: &[Finding]) -> Vec<(&str, Status)> {
    fs.iter().map(|f| (f.check.as_str(), f.status)).collect()
}

const ALL_IDS: [&str; 7] = [
    "spf.present",
    "spf.syntax",
    "spf.all",
    "spf.lookups",
    "spf.void_lookups",
    "spf.hygiene",
    "spf.loops",
];

#[test]
fn good_policy_passes_every_check() {
    let o = obs(vec![
        txt(
            D,
            &[
                "google-site-verification=abc",
                "v=spf1 ip4:192.0.2.0/24 include:_spf.mail.example -all",
            ],
        ),
        txt("_spf.mail.example", &["v=spf1 ip6:2001:db8::/32 ~all"]),
    ]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(
        statuses(&fs),
        ALL_IDS
            .iter()
            .map(|id| (*id, Status::Pass))
            .collect::<Vec<_>>()
    );
    let lookups = fs.iter().find(|f| f.check.as_str() == "spf.lookups");
    let ev = &lookups.expect("present").evidence;
    assert_eq!(ev["total"], 1);
    assert_eq!(ev["tree"]["root"]["own_lookups"], 1);
    assert_eq!(ev["tree"]["root"]["cumulative_lookups"], 1);
    assert_eq!(
        ev["tree"]["root"]["children"][0]["domain"],
        "_spf.mail.example"
    );
    assert_eq!(ev["tree"]["root"]["children"][0]["own_lookups"], 0);
}

#[test]
fn only_mail_and_parked_assets_are_judged() {
    let o = obs(vec![txt(D, &["v=spf1 -all"])]);
    assert_eq!(spf_findings(&o, Role::Web), Vec::new());
    assert_eq!(spf_findings(&o, Role::Parked).len(), 7);
}

#[test]
fn no_record_fails_presence_only() {
    let o = obs(vec![txt(D, &["v=DMARC1; p=none", "v=spf10 -all"])]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(statuses(&fs), vec![("spf.present", Status::Fail)]);
    let o = obs(vec![nx(D, "TXT")]);
    assert_eq!(
        statuses(&spf_findings(&o, Role::Mail)),
        vec![("spf.present", Status::Fail)]
    );
}

#[test]
fn two_records_fail_presence() {
    let o = obs(vec![txt(D, &["v=spf1 -all", "v=spf1 mx -all"])]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(statuses(&fs), vec![("spf.present", Status::Fail)]);
    assert!(fs[0].summary.contains("2 SPF records"), "{}", fs[0].summary);
}

#[test]
fn timeout_is_could_not_tell_never_missing() {
    let o = obs(vec![timeout(D, "TXT")]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(statuses(&fs), vec![("spf.present", Status::Error)]);
    // Not a finding about the domain: the status says "could not tell", no severity.
    assert_eq!(fs[0].severity, Severity::None);
    assert!(fs[0].summary.contains("timed out"), "{}", fs[0].summary);
}

#[test]
fn include_timeout_makes_tree_checks_error() {
    let o = obs(vec![
        txt(D, &["v=spf1 include:_spf.slow.example -all"]),
        timeout("_spf.slow.example", "TXT"),
    ]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.present"), Status::Pass);
    assert_eq!(status_of(&fs, "spf.syntax"), Status::Error);
    assert_eq!(status_of(&fs, "spf.lookups"), Status::Error);
    assert_eq!(status_of(&fs, "spf.loops"), Status::Error);
    assert_eq!(status_of(&fs, "spf.all"), Status::Pass);
}

#[test]
fn probe_loop_fetches_what_the_walk_needs() {
    // The probe starts with nothing, asks what is needed, adds answers, and repeats.
    let world = [
        txt(
            D,
            &["v=spf1 a mx include:_spf.a.example redirect=_spf.%{d}"],
        ),
        answer(D, "A", &["192.0.2.1"]),
        answer(D, "AAAA", &["2001:db8::1"]),
        answer(D, "MX", &["10 mx.party.example."]),
        txt("_spf.a.example", &["v=spf1 include:_spf.b.example ~all"]),
        txt("_spf.b.example", &["v=spf1 ip4:198.51.100.0/24 ~all"]),
        txt("_spf.party.example", &["v=spf1 -all"]),
    ];
    let mut o = obs(Vec::new());
    let mut rounds = Vec::new();
    loop {
        let need = needed_lookups(&o, D);
        if need.is_empty() {
            break;
        }
        rounds.push(need.clone());
        for (name, rtype) in need {
            let l = world
                .iter()
                .find(|l| l.name == name && l.rtype == rtype)
                .cloned()
                .unwrap_or_else(|| panic!("walk asked for unexpected {name} {rtype}"));
            o.dns.push(l);
        }
        assert!(rounds.len() < 10, "fetch loop does not converge");
    }
    assert_eq!(
        rounds,
        vec![
            vec![(D.to_owned(), "TXT".to_owned())],
            vec![
                (D.to_owned(), "A".to_owned()),
                (D.to_owned(), "AAAA".to_owned()),
                (D.to_owned(), "MX".to_owned()),
                ("_spf.a.example".to_owned(), "TXT".to_owned()),
                ("_spf.party.example".to_owned(), "TXT".to_owned()),
            ],
            vec![("_spf.b.example".to_owned(), "TXT".to_owned())],
        ]
    );
    let tree = spf::expand(D, &o);
    assert_eq!(tree.total_lookups, 5);
    assert_eq!(tree.root.own_lookups, 4);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.lookups"), Status::Pass);
    assert_eq!(status_of(&fs, "spf.all"), Status::Pass);
    assert_eq!(status_of(&fs, "spf.hygiene"), Status::Info);
}

fn includes(n: usize) -> AssetObservation {
    let names: Vec<String> = (0..n).map(|i| format!("i{i}.example")).collect();
    let record = format!(
        "v=spf1 {} -all",
        names
            .iter()
            .map(|n| format!("include:{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut dns = vec![txt(D, &[&record])];
    for n in &names {
        dns.push(txt(n, &["v=spf1 ip4:192.0.2.1 -all"]));
    }
    obs(dns)
}

#[test]
fn lookup_limit_ten_passes_eleven_fails() {
    assert_eq!(
        status_of(&spf_findings(&includes(9), Role::Mail), "spf.lookups"),
        Status::Pass
    );
    // RFC 7208 §4.6.4 makes "more than 10" the error: exactly 10 is allowed.
    assert_eq!(
        status_of(&spf_findings(&includes(10), Role::Mail), "spf.lookups"),
        Status::Pass
    );
    let fs = spf_findings(&includes(11), Role::Mail);
    assert_eq!(status_of(&fs, "spf.lookups"), Status::Fail);
    let f = fs.iter().find(|f| f.check.as_str() == "spf.lookups");
    assert_eq!(f.expect("present").evidence["total"], 11);
}

#[test]
fn void_lookups_over_two_fail() {
    let mut o = obs(vec![
        txt(
            D,
            &["v=spf1 a:gone1.example mx:gone2.example exists:gone3.example -all"],
        ),
        nx("gone1.example", "A"),
        nx("gone1.example", "AAAA"),
        nx("gone2.example", "MX"),
    ]);
    assert_eq!(
        status_of(&spf_findings(&o, Role::Mail), "spf.void_lookups"),
        Status::Error,
        "gone3 not fetched yet and only two voids so far"
    );
    o.dns.push(nx("gone3.example", "A"));
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.void_lookups"), Status::Fail);
    let f = fs.iter().find(|f| f.check.as_str() == "spf.void_lookups");
    assert_eq!(f.expect("present").evidence["total"], 3);
}

#[test]
fn one_void_lookup_warns() {
    let o = obs(vec![
        txt(D, &["v=spf1 a:gone.example -all"]),
        nx("gone.example", "A"),
        nx("gone.example", "AAAA"),
    ]);
    assert_eq!(
        status_of(&spf_findings(&o, Role::Mail), "spf.void_lookups"),
        Status::Warn
    );
}

#[test]
fn include_loop_fails() {
    let o = obs(vec![
        txt(D, &["v=spf1 include:a.example -all"]),
        txt("a.example", &["v=spf1 include:party.example ~all"]),
    ]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.loops"), Status::Fail);
    let f = fs.iter().find(|f| f.check.as_str() == "spf.loops");
    assert_eq!(f.expect("present").evidence["loops_to"][0], D);
}

#[test]
fn all_qualifiers() {
    let judge_all = |rec: &str| {
        let fs = spf_findings(&obs(vec![txt(D, &[rec])]), Role::Mail);
        let f = fs
            .into_iter()
            .find(|f| f.check.as_str() == "spf.all")
            .expect("spf.all");
        (f.status, f.severity)
    };
    assert_eq!(judge_all("v=spf1 mx -all"), (Status::Pass, Severity::None));
    assert_eq!(judge_all("v=spf1 mx ~all"), (Status::Pass, Severity::None));
    assert_eq!(judge_all("v=spf1 mx ?all"), (Status::Fail, Severity::High));
    assert_eq!(
        judge_all("v=spf1 mx +all"),
        (Status::Fail, Severity::Critical)
    );
    assert_eq!(judge_all("v=spf1 mx"), (Status::Fail, Severity::High));
}

#[test]
fn all_follows_redirect() {
    let o = obs(vec![
        txt(D, &["v=spf1 redirect=_spf.host.example"]),
        txt("_spf.host.example", &["v=spf1 ip4:192.0.2.0/24 ?all"]),
    ]);
    assert_eq!(
        status_of(&spf_findings(&o, Role::Mail), "spf.all"),
        Status::Fail
    );
    let o = obs(vec![
        txt(D, &["v=spf1 redirect=_spf.host.example"]),
        timeout("_spf.host.example", "TXT"),
    ]);
    assert_eq!(
        status_of(&spf_findings(&o, Role::Mail), "spf.all"),
        Status::Error
    );
}

#[test]
fn syntax_error_names_the_position() {
    let o = obs(vec![txt(D, &["v=spf1 ip4:192.0.2.300 -all"])]);
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.syntax"), Status::Fail);
    let f = fs.iter().find(|f| f.check.as_str() == "spf.syntax");
    let p = &f.expect("present").evidence["problems"][0];
    assert_eq!(p["error"]["error"], "invalid_ip4");
    assert_eq!(p["error"]["at"], 11);
    assert_eq!(p["error"]["text"], "192.0.2.300");
}

#[test]
fn include_without_record_is_a_syntax_failure() {
    let o = obs(vec![
        txt(D, &["v=spf1 include:nospf.example -all"]),
        nx("nospf.example", "TXT"),
    ]);
    assert_eq!(
        status_of(&spf_findings(&o, Role::Mail), "spf.syntax"),
        Status::Fail
    );
}

#[test]
fn hygiene_notes() {
    let long = format!(
        "v=spf1 ptr {} -all",
        (0..30)
            .map(|i| format!("ip4:192.0.2.{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(long.len() > 450);
    let fs = spf_findings(&obs(vec![txt(D, &[&long])]), Role::Mail);
    let f = fs
        .iter()
        .find(|f| f.check.as_str() == "spf.hygiene")
        .expect("hygiene");
    assert_eq!(f.status, Status::Warn);
    let warnings: Vec<&str> = f.evidence["warnings"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("bytes"));
    assert!(warnings[1].contains("ptr"));

    let fs = spf_findings(
        &obs(vec![txt(
            D,
            &["v=spf1 -all redirect=x.example ip4:192.0.2.1"],
        )]),
        Role::Mail,
    );
    let f = fs
        .iter()
        .find(|f| f.check.as_str() == "spf.hygiene")
        .expect("hygiene");
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.evidence["warnings"].as_array().map(Vec::len), Some(2));

    let fs = spf_findings(
        &obs(vec![txt(
            D,
            &["v=spf1 redirect=a.example redirect=b.example"],
        )]),
        Role::Mail,
    );
    assert_eq!(status_of(&fs, "spf.hygiene"), Status::Warn);
    assert_eq!(status_of(&fs, "spf.syntax"), Status::Fail);
}

#[test]
fn check_host_stops_at_unfetched_questions() {
    let o = obs(vec![txt(D, &["v=spf1 include:_spf.mail.example -all"])]);
    let ip: IpAddr = "192.0.2.7".parse().expect("ip");
    let v = check_host(
        ip,
        D,
        &format!("news@{D}"),
        "mta.example",
        &o,
        &SpfEvalLimits::default(),
    );
    assert_eq!(
        v,
        SpfVerdict::NotFetched {
            name: "_spf.mail.example".into(),
            rtype: "TXT".into()
        }
    );
    let mut o = o;
    o.dns
        .push(txt("_spf.mail.example", &["v=spf1 ip4:192.0.2.0/24 -all"]));
    match check_host(
        ip,
        D,
        &format!("news@{D}"),
        "mta.example",
        &o,
        &SpfEvalLimits::default(),
    ) {
        SpfVerdict::Decided(d) => {
            assert_eq!(d.result, SpfResult::Pass);
            assert_eq!(d.dns_terms, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn check_host_timeout_is_temperror() {
    let o = obs(vec![timeout(D, "TXT")]);
    match check_host(
        "192.0.2.7".parse().expect("ip"),
        D,
        "a@party.example",
        "h.example",
        &o,
        &SpfEvalLimits::default(),
    ) {
        SpfVerdict::Decided(d) => assert_eq!(d.result, SpfResult::TempError),
        other => panic!("{other:?}"),
    }
}

#[test]
fn terms_after_all_are_not_counted_or_followed() {
    let o = obs(vec![
        txt(
            D,
            &["v=spf1 include:a.example -all include:never.example redirect=never2.example"],
        ),
        txt("a.example", &["v=spf1 -all"]),
    ]);
    assert_eq!(needed_lookups(&o, D), Vec::<(String, String)>::new());
    let tree = spf::expand(D, &o);
    assert_eq!((tree.root.own_lookups, tree.total_lookups), (1, 1));
    let fs = spf_findings(&o, Role::Mail);
    assert_eq!(status_of(&fs, "spf.hygiene"), Status::Warn);
    assert_eq!(status_of(&fs, "spf.lookups"), Status::Pass);
}
