//! The catalogue is complete and the branch version stays plain.

use ward_advice::advice::{advice_for, advised_checks, is_known_placeholder, placeholders};
use ward_advice::readability::flesch;
use ward_model::CheckId;
use ward_model::SizeClass;

/// Every check id ward emits or is about to emit (the families being built alongside this
/// catalogue), written out so that a renamed id fails; [`CheckId::ALL`] is checked
/// against it, so a new check fails this test until it has advice.
const ALL_IDS: &[&str] = &[
    "dns.resolves",
    "dns.ns",
    "dns.caa",
    "spf.present",
    "spf.syntax",
    "spf.all",
    "spf.lookups",
    "spf.void_lookups",
    "spf.hygiene",
    "spf.loops",
    "dmarc.present",
    "dmarc.syntax",
    "dmarc.policy",
    "dmarc.subdomains",
    "dmarc.reporting",
    "dmarc.inherited",
    "dkim.present",
    "dkim.strength",
    "dkim.syntax",
    "mta_sts.record",
    "mta_sts.policy",
    "tls_rpt.record",
    "bimi.record",
    "mx.present",
    "parked.lockdown",
    "mail.bulk_sender",
    "web.https",
    "web.redirect",
    "web.hsts",
    "web.tls_versions",
    "web.ciphers",
    "web.cert",
    "web.csp",
    "web.xcto",
    "web.framing",
    "web.referrer",
    "web.permissions",
    "web.version_leak",
    "web.cookies",
    "web.security_txt",
    "mx.starttls",
    "mx.tls_versions",
    "mx.ciphers",
    "mx.cert",
    "mx.dane",
    "dnssec.signed",
    "dnssec.valid",
    "dnssec.algorithms",
    "reports.unauthenticated_sources",
    "reports.tls_failures",
];

/// The check an advice file is named after.
fn check(id: &str) -> CheckId {
    CheckId::parse(id).unwrap_or_else(|| panic!("advice for unknown check {id}"))
}

/// Lowest Flesch reading ease a `small` text may score.
const MIN_SMALL_FLESCH: f64 = 60.0;

#[test]
fn every_check_has_advice_in_both_versions() {
    let mut ids: Vec<&str> = ALL_IDS.to_vec();
    ids.sort_unstable();
    // The published ids, written out here, are exactly the typed list: none renamed.
    let mut typed: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
    typed.sort_unstable();
    assert_eq!(ids, typed, "the check ids changed");
    let missing: Vec<&str> = CheckId::ALL
        .iter()
        .copied()
        .filter(|&id| {
            advice_for(id, SizeClass::Small).is_none()
                || advice_for(id, SizeClass::Medium).is_none()
        })
        .map(CheckId::as_str)
        .collect();
    assert_eq!(missing, Vec::<&str>::new(), "check ids without advice");
    // And nothing in the catalogue is a stray file for a check that does not exist.
    let mut known: Vec<&str> = ids.clone();
    known.sort_unstable();
    known.dedup();
    assert_eq!(advised_checks(), known);
}

#[test]
fn small_texts_read_plainly() {
    let mut low = Vec::new();
    let mut scores = Vec::new();
    for id in advised_checks() {
        let a = advice_for(check(id), SizeClass::Small).unwrap();
        let score = flesch(a.todo).unwrap();
        scores.push(score);
        if score < MIN_SMALL_FLESCH {
            low.push(format!("{id}: {score:.1}"));
        }
    }
    let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let avg = scores.iter().sum::<f64>() / scores.len() as f64;
    eprintln!("small advice Flesch reading ease: min {min:.1}, average {avg:.1}");
    assert!(
        low.is_empty(),
        "small advice below {MIN_SMALL_FLESCH}: {low:#?}"
    );
}

#[test]
fn texts_use_known_placeholders() {
    for id in advised_checks() {
        for size in [SizeClass::Small, SizeClass::Medium] {
            let a = advice_for(check(id), size).unwrap();
            for text in [a.found_template, a.why, a.todo] {
                for p in placeholders(text) {
                    assert!(is_known_placeholder(p), "{id}: unknown placeholder {{{p}}}");
                }
            }
        }
    }
}

#[test]
fn texts_are_distinct_per_size() {
    for id in advised_checks() {
        let s = advice_for(check(id), SizeClass::Small).unwrap();
        let m = advice_for(check(id), SizeClass::Medium).unwrap();
        assert_ne!(s.todo, m.todo, "{id}: both versions say the same");
    }
}

/// The README's "What ward checks today" names every check ward has, once, and no other.
#[test]
fn readme_lists_every_check_once() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let section = readme
        .split_once("## What ward checks today")
        .and_then(|(_, rest)| rest.split("\n## ").next())
        .expect("a 'What ward checks today' section");
    let mut named: Vec<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            ward_model::CheckId::parse(t).is_some()
                || t.contains('.') && !t.contains(' ') && !t.contains('/') && !t.contains("::")
        })
        .collect();
    named.sort_unstable();
    let mut all: Vec<&str> = ward_model::CheckId::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    all.sort_unstable();
    assert_eq!(named, all);
}
