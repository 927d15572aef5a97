//! Whole classes of RFC rules, each with several lab zones (the case just inside the
//! rule and just outside it), judged through `ward scan` against the lab's real
//! authoritative server. Each test names the section it holds ward to.

mod common;
use common::*;
use ward_lab::Lab;
use ward_lab::fixture::DnsBehaviour;

/// One zone per case: its own nameserver on 127.0.64.n, a null MX and `-all` so that
/// only the DMARC record differs between them.
fn dmarc_zone(origin: &str, n: u8, record: &str) -> ward_lab::fixture::ZoneSource {
    let ns = format!("ns1.{origin}");
    let ip = format!("127.0.64.{n}");
    zone(
        origin,
        &[(&ns, &ip)],
        &format!("@ IN MX 0 .\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"{record}\"\n"),
    )
}

/// RFC 7489 §6.3 (kept by RFC 9989 §4.7): a syntax error in a tag other than `p` is
/// discarded in favour of the tag's default, and the rest of the record holds. So a
/// record with a valid `p` and one broken tag still has its policy: ward reports that
/// policy, and fails `dmarc.syntax` naming the broken tag. A broken `p` spoils the
/// record (just outside the rule); a clean record passes (just inside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dmarc_record_with_one_broken_tag_keeps_its_policy() {
    let cases: &[(&str, &str, &str)] = &[
        // domain, record, the broken tag ("" for none)
        ("rua.test", "v=DMARC1; p=reject; rua=dmarc@rua.test", "rua"),
        ("sp.test", "v=DMARC1; p=reject; sp=rejekt", "sp"),
        ("fo.test", "v=DMARC1; p=quarantine; fo=2", "fo"),
        ("adkim.test", "v=DMARC1; p=reject; adkim=x", "adkim"),
        ("t.test", "v=DMARC1; p=reject; t=maybe", "t"),
        ("psd.test", "v=DMARC1; p=reject; psd=", "psd"),
        (
            "clean.test",
            "v=DMARC1; p=reject; rua=mailto:d@clean.test",
            "",
        ),
        (
            "badp.test",
            "v=DMARC1; p=rejekt; rua=mailto:d@badp.test",
            "p",
        ),
    ];
    let zones = cases
        .iter()
        .enumerate()
        .map(|(i, (d, r, _))| dmarc_zone(d, 1 + i as u8, r))
        .collect();
    let domains: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let doc = scan_zones(zones, &domains).await;
    for (domain, record, broken) in cases {
        let policy = finding(&doc, domain, "dmarc.policy");
        let syntax = finding(&doc, domain, "dmarc.syntax");
        let present = finding(&doc, domain, "dmarc.present");
        let p = record
            .split("p=")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap();
        match *broken {
            "" => {
                assert_eq!(syntax["status"], "pass", "{domain}: {syntax:#}");
                assert_eq!(policy["status"], "pass", "{domain}: {policy:#}");
            }
            "p" => {
                // Outside the rule: the record is refused; there is no policy to report.
                assert_ne!(present["status"], "pass", "{domain}: {present:#}");
                assert_ne!(policy["status"], "pass", "{domain}: {policy:#}");
            }
            tag => {
                assert_eq!(present["status"], "pass", "{domain}: {present:#}");
                assert_eq!(syntax["status"], "fail", "{domain}: {syntax:#}");
                let said = syntax["summary"].as_str().unwrap();
                assert!(
                    said.contains("a broken tag") && said.contains(tag),
                    "{domain}: {said}"
                );
                // The policy stands: p=reject passes, p=quarantine warns, as it would
                // without the broken tag.
                let want = if p == "reject" { "pass" } else { "warn" };
                assert_eq!(policy["status"], want, "{domain}: {policy:#}");
                assert!(
                    policy["summary"].as_str().unwrap().contains(p),
                    "{domain}: {policy:#}"
                );
            }
        }
    }
}

/// An RSA 2048-bit public key (a test key made for the lab).
const RSA_2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzdZMYiMI16qUwo47bXFuSDmvlZw7q6N2piQ9ir74uftrzMVcmGpHpdCfjtyamJ+K4rXLauuKERoiWLMVWOYuYlcEtoV99gc+NYEzxLK5zakTUdNcsZqwUEibN8y3FHrr/Rdg1gri6BfUkxvCGxVUN86QQ2lK3QilyS9JdGRuS5mTG+o8VmGVypmX3vQl3H6sh6NF8ssMTNolTgZ8jAYmF/FAYxZkcTD5/cOmx4NJNUtjg1rvgvoko5XkhroxWO3oQh7tgWFJY6xxzQGGzjIWGxKnwUL5EcsVo5BdA/68iNhaL+C1aRYfUL3CLlLCNuEPY+r4dN1KFum0Ysh7Y6LBZQIDAQAB";

/// RFC 8301 §3.1: verifiers must not accept SHA-1 signatures, so a DKIM key whose `h=`
/// allows only SHA-1 fails, however strong the key; one that also allows SHA-256 (just
/// inside), names only SHA-256, or has no `h=` at all passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dkim_key_that_allows_only_sha1_fails() {
    let cases: &[(&str, &str, &str)] = &[
        ("sha1only.test", "h=sha1; ", "fail"),
        ("sha1both.test", "h=sha1:sha256; ", "pass"),
        ("sha256.test", "h=sha256; ", "pass"),
        ("noh.test", "", "pass"),
    ];
    let zones = cases
        .iter()
        .enumerate()
        .map(|(i, (origin, h, _))| {
            let ns = format!("ns1.{origin}");
            let ip = format!("127.0.65.{}", 1 + i);
            // The key is longer than one TXT string: two character-strings.
            let key = format!("v=DKIM1; k=rsa; {h}p={RSA_2048}");
            let (a, b) = key.split_at(200);
            zone(
                origin,
                &[(&ns, &ip)],
                &format!(
                    "@ IN MX 10 mail\nmail IN A 127.0.65.200\n@ IN TXT \"v=spf1 mx -all\"\n\
                     _dmarc IN TXT \"v=DMARC1; p=reject\"\n\
                     selector1._domainkey IN TXT \"{a}\" \"{b}\"\n"
                ),
            )
        })
        .collect();
    let domains: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let doc = scan_zones(zones, &domains).await;
    for (domain, _, want) in cases {
        let strength = finding(&doc, domain, "dkim.strength");
        assert_eq!(strength["status"], *want, "{domain}: {strength:#}");
        if *want == "fail" {
            assert!(
                strength["summary"].as_str().unwrap().contains("RFC 8301"),
                "{strength:#}"
            );
        }
    }
}

/// Starts the lab on `zones` and scans `domains` through the binary, as JSON.
async fn scan_zones(
    zones: Vec<ward_lab::fixture::ZoneSource>,
    domains: &[&str],
) -> serde_json::Value {
    let lab = Lab::start(&fixture(zones, DnsBehaviour::default()))
        .await
        .unwrap();
    tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        json(&run(
            ward(dir.path())
                .arg("scan")
                .args(lab_args(&lab))
                .args(["--format", "json", "--fail-on-unknown", "0"])
                .args(domains),
            0,
        ))
    })
}

fn summary(f: &serde_json::Value) -> &str {
    f["summary"].as_str().unwrap_or_default()
}

/// A name in a zone that exists but sends and receives nothing: only the records given.
const QUIET: &str = "IN MX 0 .\n";

/// Inherited DMARC policy. RFC 7489 §6.6.3: with no record at the author domain, the
/// receiver asks the organisational domain (found with a public suffix list) and applies
/// its `sp`, else its `p`. RFC 9989 §4.10: the tree walk applies the nearest record above
/// (so an intermediate `_dmarc` can decide). Where the two readings agree ward says so;
/// where they differ it shows both and grades the weaker. An inherited `sp=none` is
/// monitoring only, never "no record".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inherited_dmarc_policy_is_read_both_ways() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(origin, &[(&ns, &format!("127.0.66.{n}"))], extra)
    };
    let zones = vec![
        // p=reject at the organisational domain, no sp: both readings give reject.
        z(
            "inh1.test",
            1,
            &format!("_dmarc IN TXT \"v=DMARC1; p=reject\"\na {QUIET}"),
        ),
        // sp=none: both give none, which is monitoring only.
        z(
            "inh2.test",
            2,
            &format!("_dmarc IN TXT \"v=DMARC1; p=reject; sp=none\"\na {QUIET}"),
        ),
        // An intermediate record not marked psd=n: RFC 9989's walk passes over it to the
        // Organizational Domain (the record with the fewest labels), and RFC 7489 goes
        // straight there: both give reject.
        z(
            "inh3.test",
            3,
            &format!(
                "_dmarc IN TXT \"v=DMARC1; p=reject\"\n_dmarc.mid IN TXT \"v=DMARC1; p=none\"\nmid {QUIET}x.mid {QUIET}"
            ),
        ),
        // The same, marked psd=n: for RFC 9989 mid.inh6.test is now the Organizational
        // Domain (its p=none applies below it, as it has no sp); RFC 7489's Public Suffix
        // List still says inh6.test (reject). The readings differ.
        z(
            "inh6.test",
            6,
            &format!(
                "_dmarc IN TXT \"v=DMARC1; p=reject\"\n_dmarc.mid IN TXT \"v=DMARC1; p=none; psd=n\"\nmid {QUIET}x.mid {QUIET}"
            ),
        ),
        // sp=quarantine: both give quarantine.
        z(
            "inh4.test",
            4,
            &format!("_dmarc IN TXT \"v=DMARC1; p=reject; sp=quarantine\"\na {QUIET}"),
        ),
        // Nothing anywhere: missing by both.
        z("inh5.test", 5, &format!("a {QUIET}")),
    ];
    let doc = scan_zones(
        zones,
        &[
            "a.inh1.test",
            "a.inh2.test",
            "x.mid.inh3.test",
            "a.inh4.test",
            "a.inh5.test",
            "x.mid.inh6.test",
        ],
    )
    .await;
    let inherited = |d| finding(&doc, d, "dmarc.inherited");
    let present = |d| finding(&doc, d, "dmarc.present");

    let f = inherited("a.inh1.test");
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(summary(f).contains("agree"), "{f:#}");

    let f = inherited("a.inh2.test");
    assert!(summary(f).contains("monitoring only"), "{f:#}");
    assert!(summary(f).contains("agree"), "{f:#}");
    let p = present("a.inh2.test");
    assert_ne!(p["status"], "fail", "{p:#}");
    assert!(!summary(p).contains("no record"), "{p:#}");

    let f = inherited("x.mid.inh3.test");
    assert_eq!(
        f["status"], "pass",
        "the intermediate record is passed over: {f:#}"
    );
    assert!(summary(f).contains("agree"), "{f:#}");
    assert!(summary(f).contains("from inh3.test"), "{f:#}");

    let f = inherited("x.mid.inh6.test");
    assert_eq!(f["status"], "fail", "the weaker reading counts: {f:#}");
    let s = summary(f);
    assert!(s.contains("RFC 7489") && s.contains("RFC 9989"), "{f:#}");
    assert!(s.contains("mid.inh6.test") && s.contains("reject"), "{f:#}");

    let f = inherited("a.inh4.test");
    assert_eq!(f["status"], "warn", "{f:#}");
    assert!(summary(f).contains("agree"), "{f:#}");

    let p = present("a.inh5.test");
    assert_eq!(p["status"], "fail", "{p:#}");
}

/// RFC 7489 §7.1 and RFC 9990 §3: a report destination needs an authorisation record
/// only when it lies outside the organisational domain of the domain that asks. An `rua`
/// at another host of the same organisation needs none, even when the walk of RFC 9989
/// stops at a subdomain's own record (just inside); a destination in another
/// organisation without the record fails (just outside), with it passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_address_inside_the_organisation_needs_no_authorisation() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(origin, &[(&ns, &format!("127.0.67.{n}"))], extra)
    };
    let zones = vec![
        z(
            "rua1.test",
            1,
            &format!(
                "sub {QUIET}_dmarc.sub IN TXT \"v=DMARC1; p=reject; rua=mailto:d@reports.rua1.test\"\nreports IN MX 10 mx.rua1.test.\nmx IN A 127.0.67.200\n"
            ),
        ),
        z(
            "rua2.test",
            2,
            &format!(
                "@ {QUIET}_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@reports.rua2.test\"\n"
            ),
        ),
        z(
            "rua3.test",
            3,
            &format!(
                "@ {QUIET}_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@collector.test\"\n"
            ),
        ),
        z(
            "rua4.test",
            4,
            &format!(
                "@ {QUIET}_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@collector.test\"\n"
            ),
        ),
        z(
            "collector.test",
            5,
            "@ IN MX 10 mx\nmx IN A 127.0.67.201\nrua4.test._report._dmarc IN TXT \"v=DMARC1\"\n",
        ),
    ];
    let doc = scan_zones(
        zones,
        &["sub.rua1.test", "rua2.test", "rua3.test", "rua4.test"],
    )
    .await;
    for (domain, want) in [
        ("sub.rua1.test", "pass"),
        ("rua2.test", "pass"),
        ("rua3.test", "fail"),
        ("rua4.test", "pass"),
    ] {
        let f = finding(&doc, domain, "dmarc.reporting");
        assert_eq!(f["status"], want, "{domain}: {f:#}");
    }
}

/// RFC 2181 §10.3 and RFC 5321 §5.1: an MX exchange must be a host name with its own
/// address records, not an alias; an exchange with no address (or that does not exist)
/// cannot take mail. RFC 7505 §3: a null MX must be the only MX.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_exchanges_that_are_aliases_or_have_no_address_are_faults() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(origin, &[(&ns, &format!("127.0.68.{n}"))], extra)
    };
    let spf = "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n";
    let zones = vec![
        z(
            "mxcname.test",
            1,
            &format!("{spf}@ IN MX 10 mail\nmail IN CNAME real\nreal IN A 127.0.68.200\n"),
        ),
        z(
            "mxnoaddr.test",
            2,
            &format!("{spf}@ IN MX 10 mail\nmail IN TXT \"a host with no address\"\n"),
        ),
        z(
            "mxnx.test",
            3,
            &format!("{spf}@ IN MX 10 gone.mxnx.test.\n"),
        ),
        z(
            "mxok.test",
            4,
            &format!("{spf}@ IN MX 10 mail\nmail IN A 127.0.68.201\n"),
        ),
        z(
            "mxmixed.test",
            5,
            &format!("{spf}@ IN MX 0 .\n@ IN MX 10 mail\nmail IN A 127.0.68.202\n"),
        ),
        // One good exchange beside one alias: still a fault, named.
        z(
            "mxhalf.test",
            6,
            &format!(
                "{spf}@ IN MX 10 mail\n@ IN MX 20 backup\nmail IN A 127.0.68.203\nbackup IN CNAME mail\n"
            ),
        ),
    ];
    let doc = scan_zones(
        zones,
        &[
            "mxcname.test",
            "mxnoaddr.test",
            "mxnx.test",
            "mxok.test",
            "mxmixed.test",
            "mxhalf.test",
        ],
    )
    .await;
    for (domain, want, says) in [
        ("mxcname.test", "fail", "RFC 2181"),
        ("mxnoaddr.test", "fail", "no address"),
        ("mxnx.test", "fail", "does not exist"),
        ("mxok.test", "pass", "mail.mxok.test"),
        ("mxmixed.test", "fail", "RFC 7505"),
        ("mxhalf.test", "fail", "backup.mxhalf.test"),
    ] {
        let f = finding(&doc, domain, "mx.present");
        assert_eq!(f["status"], want, "{domain}: {f:#}");
        assert!(summary(f).contains(says), "{domain}: {f:#}");
    }
}

/// RFC 7208 §4.6.4: the `mx` mechanism may look up the addresses of at most 10 MX
/// hosts; more is a permerror. And at most 10 terms that cause DNS lookups: exactly 10
/// is allowed (ward says how close it is, but it is not a fault); 11 is a permerror.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spf_mx_and_lookup_limits_hold_at_the_edge() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(
            origin,
            &[(&ns, &format!("127.0.69.{n}"))],
            &format!("_dmarc IN TXT \"v=DMARC1; p=reject\"\n{extra}"),
        )
    };
    let mxs = |n: usize| {
        (1..=n)
            .map(|i| format!("@ IN MX {i} m{i}\nm{i} IN A 127.0.69.{}\n", 100 + i))
            .collect::<String>()
    };
    let includes = |n: usize, origin: &str| {
        let terms: String = (1..=n).map(|i| format!(" include:i{i}.{origin}")).collect();
        let targets: String = (1..=n)
            .map(|i| format!("i{i} IN TXT \"v=spf1 -all\"\n"))
            .collect();
        format!("@ IN TXT \"v=spf1{terms} -all\"\n{targets}@ IN MX 0 .\n")
    };
    let zones = vec![
        z(
            "spfmx10.test",
            1,
            &format!("@ IN TXT \"v=spf1 mx -all\"\n{}", mxs(10)),
        ),
        z(
            "spfmx11.test",
            2,
            &format!("@ IN TXT \"v=spf1 mx -all\"\n{}", mxs(11)),
        ),
        z("spf10.test", 3, &includes(10, "spf10.test")),
        z("spf11.test", 4, &includes(11, "spf11.test")),
    ];
    let doc = scan_zones(
        zones,
        &["spfmx10.test", "spfmx11.test", "spf10.test", "spf11.test"],
    )
    .await;
    let f = finding(&doc, "spfmx11.test", "spf.lookups");
    assert_eq!(f["status"], "fail", "{f:#}");
    assert!(summary(f).contains("§4.6.4"), "{f:#}");
    let f = finding(&doc, "spfmx10.test", "spf.lookups");
    assert_ne!(f["status"], "fail", "{f:#}");
    let f = finding(&doc, "spf10.test", "spf.lookups");
    assert_eq!(f["status"], "pass", "exactly 10 is allowed: {f:#}");
    assert!(summary(f).contains("10"), "{f:#}");
    let f = finding(&doc, "spf11.test", "spf.lookups");
    assert_eq!(f["status"], "fail", "{f:#}");
}

/// Parked domains found on their own (RFC 7505 null MX, RFC 7208 `v=spf1 -all`, RFC 7489
/// `p=reject`): a domain with a null MX, or with no MX and no address, sends no mail,
/// whatever the inventory says; `parked.lockdown` then names what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_that_takes_no_mail_is_judged_as_parked() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(origin, &[(&ns, &format!("127.0.70.{n}"))], extra)
    };
    let zones = vec![
        z(
            "park1.test",
            1,
            "@ IN MX 0 .\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n",
        ),
        z(
            "park2.test",
            2,
            "@ IN MX 0 .\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n",
        ),
        z("park3.test", 3, "@ IN TXT \"v=spf1 -all\"\n"),
        z(
            "park4.test",
            4,
            "@ IN MX 0 .\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=quarantine\"\n",
        ),
        z(
            "sends.test",
            5,
            "@ IN MX 10 mail\nmail IN A 127.0.70.200\n@ IN TXT \"v=spf1 mx -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n",
        ),
    ];
    let doc = scan_zones(
        zones,
        &[
            "park1.test",
            "park2.test",
            "park3.test",
            "park4.test",
            "sends.test",
        ],
    )
    .await;
    for (domain, want, says) in [
        ("park1.test", "pass", ""),
        ("park2.test", "fail", "v=spf1 -all"),
        ("park3.test", "fail", "p=reject"),
        ("park4.test", "fail", "p=reject"),
    ] {
        let f = finding(&doc, domain, "parked.lockdown");
        assert_eq!(f["status"], want, "{domain}: {f:#}");
        assert!(summary(f).contains(says), "{domain}: {f:#}");
    }
    // A parked domain is not told to publish DKIM or MTA-STS.
    for (check, status) in statuses(&doc, "park1.test") {
        if check.starts_with("dkim.") || check.starts_with("mta_sts.") || check == "tls_rpt.record"
        {
            assert!(
                !matches!(status.as_str(), "fail" | "warn"),
                "{check}: {status}"
            );
        }
    }
    assert!(
        statuses(&doc, "sends.test")
            .iter()
            .all(|(c, _)| c != "parked.lockdown"),
        "a domain that takes mail is not judged as parked"
    );
}

/// One word for a name that does not exist (RFC 8020: NXDOMAIN means nothing below it
/// exists either): every family says the same thing, and none claims a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_exist_is_said_the_same_way_everywhere() {
    let zones = vec![zone(
        "nx9.test",
        &[("ns1.nx9.test", "127.0.71.1")],
        "@ IN MX 0 .\n",
    )];
    let doc = scan_zones(zones, &["gone.nx9.test"]).await;
    let all = doc["assets"][0]["findings"].as_array().unwrap().clone();
    assert!(!all.is_empty());
    let mut odd = Vec::new();
    for f in &all {
        let want = if f["check"] == "dns.resolves" {
            "fail"
        } else {
            "info"
        };
        // A name below an existing domain was never registered: no "lapsed" talk.
        assert!(!summary(f).contains("registration"), "{f:#}");
        if f["status"] != want || !summary(f).contains("gone.nx9.test does not exist") {
            odd.push(format!("{} {}: {}", f["check"], f["status"], summary(f)));
        }
    }
    assert!(
        odd.is_empty(),
        "every family must say it the same way:\n{}",
        odd.join("\n")
    );
}

/// RFC 8460 §3 and RFC 8461 §3.1: a TXT at `_smtp._tls` that does not start
/// `v=TLSRPTv1`, or an MTA-STS record without `id`, is no valid record (with the reason);
/// two records of either kind mean the feature is not in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_are_not_what_they_claim_are_no_record() {
    let z = |origin: &str, n: u8, extra: &str| {
        let ns = format!("ns1.{origin}");
        zone(
            origin,
            &[(&ns, &format!("127.0.72.{n}"))],
            &format!(
                "@ IN MX 10 mail\nmail IN A 127.0.72.{}\n@ IN TXT \"v=spf1 mx -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n{extra}",
                100 + n
            ),
        )
    };
    let zones = vec![
        z(
            "rpt1.test",
            1,
            "_smtp._tls IN TXT \"v=TLSRPT1; rua=mailto:t@rpt1.test\"\n",
        ),
        z(
            "rpt2.test",
            2,
            "_smtp._tls IN TXT \"rua=mailto:t@rpt2.test; v=TLSRPTv1\"\n",
        ),
        z(
            "rpt3.test",
            3,
            "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:t@rpt3.test\"\n_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:u@rpt3.test\"\n",
        ),
        z(
            "rpt4.test",
            4,
            "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:t@rpt4.test\"\n",
        ),
        z("sts1.test", 5, "_mta-sts IN TXT \"v=STSv1;\"\n"),
        z(
            "sts2.test",
            6,
            "_mta-sts IN TXT \"v=STSv1; id=1\"\n_mta-sts IN TXT \"v=STSv1; id=2\"\n",
        ),
    ];
    let doc = scan_zones(
        zones,
        &[
            "rpt1.test",
            "rpt2.test",
            "rpt3.test",
            "rpt4.test",
            "sts1.test",
            "sts2.test",
        ],
    )
    .await;
    for (domain, check, want, says) in [
        ("rpt1.test", "tls_rpt.record", "no valid", "v=TLSRPTv1"),
        ("rpt2.test", "tls_rpt.record", "no valid", "v=TLSRPTv1"),
        ("rpt3.test", "tls_rpt.record", "fail", "RFC 8460"),
        ("rpt4.test", "tls_rpt.record", "pass", ""),
        ("sts1.test", "mta_sts.record", "no valid", "no id= field"),
        ("sts2.test", "mta_sts.record", "fail", "RFC 8461 §3.1"),
    ] {
        let f = finding(&doc, domain, check);
        if want == "no valid" {
            assert_ne!(f["status"], "pass", "{domain}: {f:#}");
            assert!(summary(f).contains("no valid"), "{domain}: {f:#}");
        } else {
            assert_eq!(f["status"], want, "{domain}: {f:#}");
        }
        assert!(summary(f).contains(says), "{domain}: {f:#}");
    }
}

/// A resolver that does not recurse (an authoritative server named by mistake) answers
/// with referrals: RA clear, no answer, nameservers in the authority section. ward must
/// not read that as "no record": it says once, at the top, that the resolver does not
/// recurse, and the checks are "could not tell".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_does_not_recurse_is_named_not_believed() {
    // ref8.test is served at 127.0.73.1 and delegates child.ref8.test to 127.0.73.2.
    let zones = vec![
        zone(
            "ref8.test",
            &[("ns1.ref8.test", "127.0.73.1")],
            "child IN NS ns1.child.ref8.test.\nns1.child IN A 127.0.73.2\n",
        ),
        zone(
            "child.ref8.test",
            &[("ns1.child.ref8.test", "127.0.73.2")],
            "@ IN MX 0 .\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n",
        ),
    ];
    let lab = Lab::start(&fixture(zones, DnsBehaviour::default()))
        .await
        .unwrap();
    let port = lab.ports()[&53];
    let out = tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        ward(dir.path())
            .arg("scan")
            .args(["--resolver", &format!("127.0.73.1:{port}")])
            .args(["--lab-ports", &lab.ports_arg()])
            .args(["--format", "json", "child.ref8.test"])
            .output()
            .unwrap()
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr.matches("does not recurse").count();
    assert!(
        said >= 1,
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(3000)
            .collect::<String>()
    );
    let doc = json(&out);
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings[0].as_str().unwrap().contains("does not recurse"),
        "first warning: {warnings:?}"
    );
    for check in ["dmarc.present", "spf.present", "mx.present"] {
        let f = finding(&doc, "child.ref8.test", check);
        assert_eq!(f["status"], "error", "{check}: {f:#}");
    }
    assert_ne!(
        out.status.code(),
        Some(0),
        "a scan that could tell nothing must not exit 0"
    );
}
