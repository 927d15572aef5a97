//! check_host() edge cases with exact results, reasons and counts.

mod common;

use common::Zone;
use std::net::IpAddr;
use ward_checks::mail::spf::{
    SpfDecision, SpfEvalLimits, SpfReason, SpfResult, SpfVerdict, check_host,
};

fn run(z: &Zone, ip: &str, domain: &str) -> SpfDecision {
    run_with(z, ip, domain, &SpfEvalLimits::default())
}

fn run_with(z: &Zone, ip: &str, domain: &str, limits: &SpfEvalLimits) -> SpfDecision {
    let ip: IpAddr = ip.parse().expect("ip");
    match check_host(
        ip,
        domain,
        &format!("jo.bloggs@{domain}"),
        "mta.example.net",
        z,
        limits,
    ) {
        SpfVerdict::Decided(d) => d,
        other => panic!("{other:?}"),
    }
}

#[test]
fn eleventh_lookup_is_permerror() {
    let mut z = Zone::default();
    let incs: Vec<String> = (0..11).map(|i| format!("include:i{i}.example")).collect();
    z.add(
        "d.example",
        "TXT",
        &format!("v=spf1 {} +all", incs.join(" ")),
    );
    for i in 0..11 {
        z.add(&format!("i{i}.example"), "TXT", "v=spf1 -all");
    }
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::PermError);
    assert_eq!(d.reason, SpfReason::TooManyLookups { limit: 10 });
    assert_eq!(d.dns_terms, 11);
    // Ten are fine.
    let mut z = Zone::default();
    z.add(
        "d.example",
        "TXT",
        &format!("v=spf1 {} +all", incs[..10].join(" ")),
    );
    for i in 0..10 {
        z.add(&format!("i{i}.example"), "TXT", "v=spf1 -all");
    }
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!((d.result, d.dns_terms), (SpfResult::Pass, 10));
}

#[test]
fn third_void_lookup_is_permerror() {
    let mut z = Zone::default();
    z.add(
        "d.example",
        "TXT",
        "v=spf1 a:g1.example mx:g2.example exists:g3.example +all",
    );
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::PermError);
    assert_eq!(d.reason, SpfReason::TooManyVoidLookups { limit: 2 });
    assert_eq!((d.dns_terms, d.void_lookups), (3, 3));
}

#[test]
fn mx_with_eleven_hosts_is_permerror() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 mx -all");
    for i in 0..11 {
        z.add("d.example", "MX", &format!("{i} mx{i}.d.example."));
    }
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::PermError);
    assert_eq!(
        d.reason,
        SpfReason::TooManyMxNames {
            domain: "d.example".into(),
            count: 11
        }
    );
}

#[test]
fn only_ten_ptr_names_are_tried() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 ptr -all");
    for i in 0..11 {
        z.add("1.2.0.192.in-addr.arpa", "PTR", &format!("h{i}.d.example."));
    }
    z.add("h10.d.example", "A", "192.0.2.1");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::Fail, "the 11th name is ignored");
    z.add("h9.d.example", "A", "192.0.2.1");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::Pass);
}

#[test]
fn include_loop_is_named() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 include:e.example -all");
    z.add("e.example", "TXT", "v=spf1 include:d.example -all");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::PermError);
    assert_eq!(
        d.reason,
        SpfReason::Loop {
            domain: "d.example".into()
        }
    );
}

#[test]
fn explanation_expands_exp_letters() {
    let mut z = Zone::default();
    z.add(
        "d.example",
        "TXT",
        "v=spf1 ip4:198.51.100.0/24 -all exp=why.%{d}",
    );
    z.add(
        "why.d.example",
        "TXT",
        "%{c} may not send for %{o} (%{L}); checked by %{r} at %{t}%%",
    );
    let limits = SpfEvalLimits {
        receiver: "mx.receiver.example".into(),
        timestamp: 1_700_000_000,
        ..SpfEvalLimits::default()
    };
    let d = run_with(&z, "192.0.2.1", "d.example", &limits);
    assert_eq!(d.result, SpfResult::Fail);
    assert_eq!(
        d.explanation.as_deref(),
        Some(
            "192.0.2.1 may not send for d.example (jo.bloggs); checked by mx.receiver.example at 1700000000%"
        )
    );
}

#[test]
fn include_keeps_its_exp_to_itself_and_redirect_passes_it_on() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 include:inc.example -all");
    z.add("inc.example", "TXT", "v=spf1 -all exp=x.inc.example");
    z.add("x.inc.example", "TXT", "from the include");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!((d.result, d.explanation), (SpfResult::Fail, None));

    let mut z = Zone::default();
    z.add(
        "d.example",
        "TXT",
        "v=spf1 redirect=r.example exp=x.d.example",
    );
    z.add("x.d.example", "TXT", "from the original");
    z.add("r.example", "TXT", "v=spf1 -all exp=x.r.example");
    z.add("x.r.example", "TXT", "from the redirect target %{d}");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(
        (d.result, d.explanation.as_deref()),
        (SpfResult::Fail, Some("from the redirect target r.example"))
    );
}

#[test]
fn p_macro_uses_a_validated_name() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 exists:%{p}.ok.d.example -all");
    z.add("1.2.0.192.in-addr.arpa", "PTR", "liar.example.");
    z.add("1.2.0.192.in-addr.arpa", "PTR", "mail.d.example.");
    z.add("mail.d.example", "A", "192.0.2.1");
    z.add("mail.d.example.ok.d.example", "A", "127.0.0.2");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::Pass);
    // Not validated (its A record does not point back): "unknown".
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 exists:%{p}.ok.d.example -all");
    z.add("1.2.0.192.in-addr.arpa", "PTR", "mail.d.example.");
    z.add("unknown.ok.d.example", "A", "127.0.0.2");
    let d = run(&z, "192.0.2.1", "d.example");
    assert_eq!(d.result, SpfResult::Pass);
}

#[test]
fn ipv4_mapped_client_is_treated_as_ipv4() {
    let mut z = Zone::default();
    z.add("d.example", "TXT", "v=spf1 ip4:192.0.2.0/24 -all");
    let d = run(&z, "::ffff:192.0.2.9", "d.example");
    assert_eq!(d.result, SpfResult::Pass);
}

#[test]
fn mx_host_address_not_fetched_is_reported() {
    use ward_model::observe::AssetObservation;
    use ward_model::{DnsLookup, DnsOutcome, DnsRecord};
    let rec = |name: &str, rtype: &str, data: &str| DnsLookup {
        name: name.into(),
        rtype: rtype.into(),
        server: None,
        outcome: DnsOutcome::Answer {
            records: vec![DnsRecord {
                name: name.into(),
                rtype: rtype.into(),
                ttl: 60,
                data: data.into(),
            }],
            authoritative: false,
        },
    };
    let obs = AssetObservation {
        domain: "d.example".into(),
        scanned_at: time::OffsetDateTime::UNIX_EPOCH,
        dns: vec![
            rec("d.example", "TXT", "v=spf1 mx -all"),
            rec("d.example", "MX", "10 mail.d.example."),
        ],
        tls: Vec::new(),
        mta_sts_policy: None,
        web: None,
        dnssec: Vec::new(),
        servers_seen_at: None,
        dns_seen_at: None,
    };
    let v = check_host(
        "2001:db8::5".parse().expect("ip"),
        "d.example",
        "a@d.example",
        "h.example",
        &obs,
        &SpfEvalLimits::default(),
    );
    assert_eq!(
        v,
        SpfVerdict::NotFetched {
            name: "mail.d.example".into(),
            rtype: "AAAA".into()
        }
    );
}
