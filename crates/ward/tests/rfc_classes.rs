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
    let lab = Lab::start(&fixture(zones, DnsBehaviour::default()))
        .await
        .unwrap();
    let domains: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let out = tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        run(
            ward(dir.path())
                .arg("scan")
                .args(lab_args(&lab))
                .args(["--format", "json", "--fail-on-unknown", "0"])
                .args(&domains),
            0,
        )
    });
    let doc = json(&out);
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
                    "@ IN MX 0 .\n@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n\
                     selector1._domainkey IN TXT \"{a}\" \"{b}\"\n"
                ),
            )
        })
        .collect();
    let lab = Lab::start(&fixture(zones, DnsBehaviour::default()))
        .await
        .unwrap();
    let domains: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let out = tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        run(
            ward(dir.path())
                .arg("scan")
                .args(lab_args(&lab))
                .args(["--format", "json", "--fail-on-unknown", "0"])
                .args(&domains),
            0,
        )
    });
    let doc = json(&out);
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
