//! The mail checks judged from observation fixtures: the rules that the lab tests do not
//! reach one by one (t=y, np, inherited np, obsolete tags, null MX mixed with real MX,
//! key sizes at the boundaries), the questions the checks ask the probe for, and the
//! observation's JSON round trip (a stored scan judges the same as a live one).

use ward_checks::{Context, judge, needed_lookups};
use ward_model::http::{HttpFetch, HttpOutcome};
use ward_model::observe::AssetObservation;
use ward_model::{Asset, DnsLookup, DnsOutcome, DnsRecord, Role, SizeClass, Status};

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

fn nodata(name: &str, rtype: &str) -> DnsLookup {
    DnsLookup {
        name: name.into(),
        rtype: rtype.into(),
        server: None,
        outcome: DnsOutcome::NoData {
            authoritative: false,
        },
    }
}

fn asset(domain: &str, roles: &[Role], selectors: &[&str]) -> Asset {
    Asset {
        domain: domain.into(),
        roles: roles.to_vec(),
        dkim_selectors: selectors.iter().map(|s| (*s).to_owned()).collect(),
        reported_dkim_selectors: Vec::new(),
    }
}

/// Judges `asset` over `dns` after answering every other question the checks ask with
/// NXDOMAIN, the way the probe loop would against an empty zone.
fn run(asset: &Asset, dns: Vec<DnsLookup>) -> (AssetObservation, Vec<(String, Status, String)>) {
    let mut o = AssetObservation::new(asset.domain.clone(), time::OffsetDateTime::UNIX_EPOCH);
    o.dns = dns;
    for _ in 0..16 {
        let wanted: Vec<(String, String)> = needed_lookups(asset, &o)
            .into_iter()
            .filter(|(n, t)| o.resolved(n, t).is_none())
            .collect();
        if wanted.is_empty() {
            break;
        }
        o.dns.extend(wanted.iter().map(|(n, t)| nx(n, t)));
    }
    let ctx = Context {
        asset,
        size: SizeClass::Small,
        obs: &o,
    };
    let out = judge(&ctx)
        .into_iter()
        .map(|f| (f.check.as_str().to_owned(), f.status, f.summary))
        .collect();
    (o, out)
}

fn status(findings: &[(String, Status, String)], check: &str) -> Status {
    findings
        .iter()
        .find(|(c, _, _)| c == check)
        .map(|(_, s, _)| *s)
        .unwrap_or_else(|| panic!("no {check} in {findings:?}"))
}

fn summary<'a>(findings: &'a [(String, Status, String)], check: &str) -> &'a str {
    findings
        .iter()
        .find(|(c, _, _)| c == check)
        .map(|(_, _, s)| s.as_str())
        .unwrap_or_else(|| panic!("no {check}"))
}

fn mail() -> Asset {
    asset(D, &[Role::Mail], &[])
}

fn dmarc(rec: &str) -> Vec<(String, Status, String)> {
    run(&mail(), vec![answer(&format!("_dmarc.{D}"), "TXT", &[rec])]).1
}

#[test]
fn testing_mode_counts_one_step_weaker() {
    let f = dmarc("v=DMARC1; p=quarantine; t=y; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.policy"), Status::Fail);
    assert_eq!(
        summary(&f, "dmarc.policy"),
        "the DMARC policy of party.example asks receivers to quarantine but is in testing mode (t=y), so receivers apply none: remove t=y once legitimate mail passes"
    );
    let f = dmarc("v=DMARC1; p=reject; t=n; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.policy"), Status::Pass);
    let f = dmarc("v=DMARC1; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.policy"), Status::Fail);
    assert!(summary(&f, "dmarc.policy").contains("has no p= tag"));
}

#[test]
fn subdomain_policies_weaker_than_p() {
    let f = dmarc("v=DMARC1; p=reject; np=none; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.subdomains"), Status::Fail);
    assert!(summary(&f, "dmarc.subdomains").starts_with("np=none is weaker than p=reject"));
    let f = dmarc("v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.subdomains"), Status::Warn);
    let f = dmarc("v=DMARC1; p=quarantine; sp=reject; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.subdomains"), Status::Pass);
}

#[test]
fn obsolete_tags_warn_and_unknown_tags_are_shown() {
    let f = dmarc("v=DMARC1; p=reject; pct=50; ri=3600; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.syntax"), Status::Warn);
    assert!(summary(&f, "dmarc.syntax").contains("obsolete tags (pct, ri)"));
    let f = dmarc("v=DMARC1; p=reject; foo=bar; rua=mailto:d@party.example");
    assert_eq!(status(&f, "dmarc.syntax"), Status::Pass);
    assert!(summary(&f, "dmarc.syntax").ends_with("(unknown tags ignored by receivers: foo)"));
}

#[test]
fn a_name_that_does_not_exist_inherits_np() {
    let sub = asset("ghost.party.example", &[Role::Mail], &[]);
    let parent = answer(
        "_dmarc.party.example",
        "TXT",
        &["v=DMARC1; p=reject; np=none"],
    );
    let (_, f) = run(&sub, vec![nx("ghost.party.example", "SOA"), parent.clone()]);
    assert_eq!(status(&f, "dmarc.inherited"), Status::Fail);
    // Like every other family's, `dmarc.present` of a name that does not exist is not
    // judged; the `np` it inherits is what protects it.
    assert_eq!(status(&f, "dmarc.present"), Status::Info);
    assert!(summary(&f, "dmarc.present").contains("ghost.party.example does not exist"));
    // The same name, existing, inherits sp (= p = reject) and is not reported missing.
    let (_, f) = run(&sub, vec![parent]);
    assert_eq!(status(&f, "dmarc.inherited"), Status::Pass);
    assert_eq!(status(&f, "dmarc.present"), Status::Info);
}

#[test]
fn external_report_destinations_are_asked_for_and_judged() {
    let rec = answer(
        "_dmarc.party.example",
        "TXT",
        &[
            "v=DMARC1; p=reject; rua=mailto:a@party.example,mailto:b@sub.party.example,mailto:c@proc.example",
        ],
    );
    let mut o = AssetObservation::new(D, time::OffsetDateTime::UNIX_EPOCH);
    o.dns = vec![rec.clone(), nx("_dmarc.example", "TXT")];
    let asked: Vec<String> = needed_lookups(&mail(), &o)
        .into_iter()
        .filter(|(n, _)| n.contains("_report"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(asked, ["party.example._report._dmarc.proc.example"]);
    let auth = answer(
        "party.example._report._dmarc.proc.example",
        "TXT",
        &["v=DMARC1"],
    );
    let (_, f) = run(&mail(), vec![rec.clone(), auth]);
    assert_eq!(status(&f, "dmarc.reporting"), Status::Pass);
    let (_, f) = run(&mail(), vec![rec]);
    assert_eq!(status(&f, "dmarc.reporting"), Status::Fail);
}

#[test]
fn null_mx_is_understood() {
    let parked = asset(D, &[Role::Parked], &[]);
    let (_, f) = run(&parked, vec![answer(D, "MX", &["0 ."])]);
    assert_eq!(status(&f, "mx.present"), Status::Pass);
    // A mail domain with a null MX that authorises senders in SPF sends but does not
    // receive: understood, not a fault.
    let sends = answer(D, "TXT", &["v=spf1 ip4:192.0.2.1 -all"]);
    let (_, f) = run(&mail(), vec![answer(D, "MX", &["0 ."]), sends]);
    assert_eq!(status(&f, "mx.present"), Status::Info);
    // With no sender authorised either, it is a parked domain, whatever its role says.
    let (_, f) = run(&mail(), vec![answer(D, "MX", &["0 ."])]);
    assert_eq!(status(&f, "mx.present"), Status::Pass);
    assert!(f.iter().any(|(c, _, _)| c == "parked.lockdown"));
    let (_, f) = run(
        &mail(),
        vec![answer(D, "MX", &["0 .", "10 mx.party.example."])],
    );
    assert_eq!(status(&f, "mx.present"), Status::Fail);
    // Parked checks do not include DKIM, MTA-STS, TLS-RPT, BIMI or bulk sending.
    let (_, f) = run(&parked, vec![]);
    let checks: Vec<&str> = f.iter().map(|(c, _, _)| c.as_str()).collect();
    assert!(!checks.contains(&"dkim.present"));
    assert!(checks.contains(&"parked.lockdown"));
}

#[test]
fn dkim_key_sizes_at_the_boundaries() {
    // RFC 8463's example key.
    let ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    // `_domainkey.party.example` exists (an empty non-terminal: NODATA), so every
    // built-in selector is asked about.
    let (o, f) = run(
        &mail(),
        vec![
            nodata("_domainkey.party.example", "TXT"),
            answer("google._domainkey.party.example", "TXT", &[ed]),
        ],
    );
    assert_eq!(status(&f, "dkim.present"), Status::Pass);
    assert_eq!(status(&f, "dkim.strength"), Status::Pass);
    let asked = o
        .dns
        .iter()
        .filter(|l| l.name.ends_with("._domainkey.party.example"))
        .count();
    assert_eq!(asked, ward_checks::mail::BUILTIN_SELECTORS.len());
    // A selector named in the inventory is asked too, and its absence is a finding.
    let named = asset(D, &[Role::Mail], &["Custom"]);
    let wanted = needed_lookups(&named, &o);
    assert!(wanted.contains(&("custom._domainkey.party.example".into(), "TXT".into())));
    let (_, f) = run(&named, vec![]);
    assert_eq!(status(&f, "dkim.present"), Status::Fail);
    let (_, f) = run(&mail(), vec![]);
    assert_eq!(status(&f, "dkim.present"), Status::Info);
}

#[test]
fn no_domainkey_name_means_no_selector_is_asked_but_named_ones() {
    // NXDOMAIN at `_domainkey.party.example`: nothing below it exists (RFC 8020), so
    // the built-in selectors are not asked; the verdict is the same "no key found".
    let (o, f) = run(&mail(), vec![nx("_domainkey.party.example", "TXT")]);
    let asked: Vec<&str> = o
        .dns
        .iter()
        .filter(|l| l.name.ends_with("._domainkey.party.example"))
        .map(|l| l.name.as_str())
        .collect();
    assert!(asked.is_empty(), "asked {asked:?}");
    assert_eq!(status(&f, "dkim.present"), Status::Info);
    // A selector the inventory names is still asked, and still fails when absent.
    let named = asset(D, &[Role::Mail], &["Custom"]);
    let (o, f) = run(&named, vec![nx("_domainkey.party.example", "TXT")]);
    let asked: Vec<&str> = o
        .dns
        .iter()
        .filter(|l| l.name.ends_with("._domainkey.party.example"))
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(asked, ["custom._domainkey.party.example"]);
    assert_eq!(status(&f, "dkim.present"), Status::Fail);
    // ...and found when present, even though its parent was (wrongly) NXDOMAIN.
    let ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let (_, f) = run(
        &named,
        vec![
            nx("_domainkey.party.example", "TXT"),
            answer("custom._domainkey.party.example", "TXT", &[ed]),
        ],
    );
    assert_eq!(status(&f, "dkim.present"), Status::Pass);
    // A failed lookup of the parent is not NXDOMAIN: every selector is asked.
    let failed = DnsLookup {
        name: "_domainkey.party.example".into(),
        rtype: "TXT".into(),
        server: None,
        outcome: DnsOutcome::Failed {
            failure: ward_model::DnsFailure::ServFail,
        },
    };
    let (o, _) = run(&mail(), vec![failed]);
    let asked = o
        .dns
        .iter()
        .filter(|l| l.name.ends_with("._domainkey.party.example"))
        .count();
    assert_eq!(asked, ward_checks::mail::BUILTIN_SELECTORS.len());
}

#[test]
fn mta_sts_policy_is_fetched_only_when_the_record_exists() {
    let mut o = AssetObservation::new(D, time::OffsetDateTime::UNIX_EPOCH);
    let wanted = needed_lookups(&mail(), &o);
    assert!(!wanted.iter().any(|(n, _)| n == "mta-sts.party.example"));
    o.dns
        .push(answer("_mta-sts.party.example", "TXT", &["v=STSv1; id=1"]));
    let wanted = needed_lookups(&mail(), &o);
    assert!(wanted.contains(&("mta-sts.party.example".into(), "A".into())));
}

#[test]
fn a_stored_observation_judges_the_same_after_a_json_round_trip() {
    let policy = "version: STSv1\r\nmode: enforce\r\nmx: mx.party.example\r\nmax_age: 1209600\r\n";
    let (mut o, _) = run(
        &mail(),
        vec![
            answer(D, "MX", &["10 mx.party.example."]),
            answer("_mta-sts.party.example", "TXT", &["v=STSv1; id=1"]),
            answer("mta-sts.party.example", "A", &["192.0.2.1"]),
        ],
    );
    o.mta_sts_policy = Some(HttpFetch {
        url: "https://mta-sts.party.example/.well-known/mta-sts.txt".into(),
        ip: Some("192.0.2.1".into()),
        outcome: HttpOutcome::Response {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: policy.into(),
            body_truncated: false,
        },
    });
    let ctx = Context {
        asset: &mail(),
        size: SizeClass::Small,
        obs: &o,
    };
    let before = judge(&ctx);
    let policy_status = before
        .iter()
        .find(|f| f.check == ward_model::CheckId::MtaStsPolicy)
        .map(|f| f.status);
    assert_eq!(policy_status, Some(Status::Pass));
    let text = serde_json::to_string(&o).unwrap();
    let back: AssetObservation = serde_json::from_str(&text).unwrap();
    assert_eq!(back, o);
    let asset = mail();
    let ctx = Context {
        asset: &asset,
        size: SizeClass::Small,
        obs: &back,
    };
    assert_eq!(judge(&ctx), before);
    // Observations stored before the field existed still load.
    let old = r#"{"domain":"party.example","scanned_at":"1970-01-01T00:00:00Z","dns":[]}"#;
    let old: AssetObservation = serde_json::from_str(old).unwrap();
    assert_eq!(old.mta_sts_policy, None);
}

#[test]
fn wildcard_txt_is_not_a_dkim_key_and_a_wildcard_key_counts_once() {
    // `* IN TXT "v=spf1 -all"` answers at every selector: not a key, not a syntax error.
    let wild: Vec<DnsLookup> = ward_checks::mail::BUILTIN_SELECTORS
        .iter()
        .map(|s| answer(&format!("{s}._domainkey.{D}"), "TXT", &["v=spf1 -all"]))
        .collect();
    let (_, f) = run(&mail(), wild);
    assert_eq!(status(&f, "dkim.present"), Status::Info);
    assert_eq!(status(&f, "dkim.syntax"), Status::Info);
    // `*._domainkey IN TXT "v=DKIM1; p="`: one revoked key, reported once.
    let revoked: Vec<DnsLookup> = ward_checks::mail::BUILTIN_SELECTORS
        .iter()
        .map(|s| answer(&format!("{s}._domainkey.{D}"), "TXT", &["v=DKIM1; p="]))
        .collect();
    let (_, f) = run(&mail(), revoked);
    assert_eq!(status(&f, "dkim.present"), Status::Fail);
    assert_eq!(
        summary(&f, "dkim.present"),
        "every DKIM key found for party.example is revoked (selector(s) *): its mail cannot be DKIM-signed"
    );
}

#[test]
fn selectors_from_reports_are_asked_even_without_a_domainkey_name_but_never_fail() {
    // The reports showed mail verified with `news`: it is asked even though the parent
    // name is (wrongly) NXDOMAIN, like an inventory selector...
    let mut reported = asset(D, &[Role::Mail], &[]);
    reported.reported_dkim_selectors = vec!["News".into(), "bad selector".into()];
    let (o, f) = run(&reported, vec![nx("_domainkey.party.example", "TXT")]);
    let asked: Vec<&str> = o
        .dns
        .iter()
        .filter(|l| l.name.ends_with("._domainkey.party.example"))
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(asked, ["news._domainkey.party.example"]);
    // ...but, unlike one, a missing key there is not a failure: keys rotate, and the
    // reports look back.
    assert_eq!(status(&f, "dkim.present"), Status::Info);
    // Found, the summary says the reports led to it.
    let ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let (_, f) = run(
        &reported,
        vec![
            nx("_domainkey.party.example", "TXT"),
            answer("news._domainkey.party.example", "TXT", &[ed]),
        ],
    );
    assert_eq!(status(&f, "dkim.present"), Status::Pass);
    let summary = &f.iter().find(|(c, ..)| c == "dkim.present").unwrap().2;
    assert_eq!(
        summary,
        "party.example publishes DKIM keys at selector(s) news (news known from the domain's DMARC reports)"
    );
    // A built-in selector the reports also show is asked once.
    let mut both = asset(D, &[Role::Mail], &[]);
    both.reported_dkim_selectors = vec!["selector1".into()];
    let (o, _) = run(&both, vec![nodata("_domainkey.party.example", "TXT")]);
    let times = o
        .dns
        .iter()
        .filter(|l| l.name == "selector1._domainkey.party.example")
        .count();
    assert_eq!(times, 1);
}
