//! Property tests: the SPF parser and evaluator never panic, stay within their limits,
//! and finish quickly, whatever the records say.

mod common;

use common::Zone;
use proptest::prelude::*;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use ward_checks::mail::spf::{SpfEvalLimits, SpfVerdict, TreeLimits, check_host, expand_with};
use ward_records::spf::{Limits, Term, parse, parse_explain_string};

const NAMES: &[&str] = &[
    "a.example",
    "b.example",
    "c.example",
    "d.example",
    "mx.a.example",
    "gone.example",
];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_owned)
}

fn macro_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["%{i}", "%{ir}", "%{l1r-}", "%{d}", "%{o}", "%{p}", "%{H}"][..]),
        name(),
    )
        .prop_map(|(m, n)| format!("{m}.{n}"))
}

fn term() -> impl Strategy<Value = String> {
    let mechanism = prop_oneof![
        Just("all".to_owned()),
        name().prop_map(|n| format!("include:{n}")),
        macro_name().prop_map(|n| format!("include:{n}")),
        Just("a".to_owned()),
        (name(), 0u8..40, 0u8..140).prop_map(|(n, a, b)| format!("a:{n}/{a}//{b}")),
        Just("mx".to_owned()),
        name().prop_map(|n| format!("mx:{n}")),
        Just("ptr".to_owned()),
        name().prop_map(|n| format!("ptr:{n}")),
        (any::<u8>(), 0u8..40).prop_map(|(o, p)| format!("ip4:192.0.2.{o}/{p}")),
        (any::<u16>(), 0u8..140).prop_map(|(h, p)| format!("ip6:2001:db8::{h:x}/{p}")),
        macro_name().prop_map(|n| format!("exists:{n}")),
        name().prop_map(|n| format!("redirect={n}")),
        macro_name().prop_map(|n| format!("exp={n}")),
        "[ -~]{0,12}",
    ];
    (
        prop::sample::select(&["", "+", "-", "~", "?"][..]),
        mechanism,
    )
        .prop_map(|(q, m)| format!("{q}{m}"))
}

fn record() -> impl Strategy<Value = String> {
    prop::collection::vec(term(), 0..14).prop_map(|t| format!("v=spf1 {}", t.join(" ")))
}

fn zone() -> impl Strategy<Value = Zone> {
    (
        prop::collection::vec(record(), NAMES.len()),
        prop::collection::vec(any::<u8>(), NAMES.len()),
        0usize..15,
    )
        .prop_map(|(records, octets, mx_count)| {
            let mut z = Zone::default();
            for ((n, r), o) in NAMES.iter().zip(records).zip(octets) {
                if *n == "gone.example" {
                    continue; // NXDOMAIN
                }
                z.add(n, "TXT", &r);
                z.add(n, "A", &format!("192.0.2.{o}"));
                z.add(n, "AAAA", &format!("2001:db8::{o:x}"));
                z.add(
                    &format!("e.{n}"),
                    "TXT",
                    "%{i} is not allowed by %{d} at %{t}",
                );
            }
            for i in 0..mx_count {
                z.add("a.example", "MX", &format!("{i} mx.a.example."));
            }
            z.add("2.0.192.in-addr.arpa", "PTR", "a.example.");
            z
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_any_text(s in any::<String>()) {
        if let Err(e) = parse(&s, &Limits::default()) {
            prop_assert!(e.at() <= s.len());
        }
        let _ = parse_explain_string(&s, &Limits::default());
    }

    #[test]
    fn parser_never_panics_on_record_like_text(s in "v=spf1( [-+~?]?[a-z0-9%{}:/._=-]{0,20}){0,12} ?") {
        if let Err(e) = parse(&s, &Limits::default()) {
            prop_assert!(e.at() <= s.len());
        }
    }

    #[test]
    fn parsed_terms_point_at_their_text(r in record()) {
        if let Ok(rec) = parse(&r, &Limits::default()) {
            prop_assert!(rec.terms.len() <= Limits::DEFAULT_MAX_TERMS);
            let mut texts = Vec::new();
            for t in &rec.terms {
                let span = t.span();
                let text = rec.raw.get(span.start..span.end);
                prop_assert!(text.is_some_and(|x| !x.is_empty() && !x.contains(' ')));
                texts.push(text.unwrap_or_default().to_owned());
            }
            // Re-joined with single spaces, the record means the same.
            let again = parse(&format!("v=spf1 {}", texts.join(" ")), &Limits::default());
            prop_assert!(again.is_ok());
            let strip = |ts: &[Term]| ts.iter().map(|t| match t {
                Term::Directive(d) => format!("{:?}{:?}", d.qualifier, d.mechanism),
                Term::Modifier(m) => format!("{:?}", m.modifier),
            }).collect::<Vec<_>>();
            prop_assert_eq!(strip(&rec.terms), strip(&again.map(|r| r.terms).unwrap_or_default()));
            // The record rebuilt from its parsed form parses back to the same terms.
            let rebuilt = parse(&rec.to_string(), &Limits::default());
            prop_assert_eq!(strip(&rec.terms), strip(&rebuilt.map(|r| r.terms).unwrap_or_default()));
        }
    }

    #[test]
    fn evaluator_terminates_within_limits(z in zone(), last in any::<u8>(), v6 in any::<bool>(), start in name()) {
        let ip: IpAddr = if v6 {
            format!("2001:db8::{last:x}").parse().unwrap_or(IpAddr::from([0u8; 16]))
        } else {
            IpAddr::from([192, 0, 2, last])
        };
        let limits = SpfEvalLimits::default();
        let clock = Instant::now();
        let verdict = check_host(ip, &start, "user@b.example", "helo.example", &z, &limits);
        prop_assert!(clock.elapsed() < Duration::from_secs(2));
        let SpfVerdict::Decided(d) = verdict else {
            return Err(TestCaseError::fail("a fixture zone answers every question"));
        };
        prop_assert!(d.dns_terms <= limits.max_dns_terms + 1);
        prop_assert!(d.void_lookups <= limits.max_void_lookups + 1);
        // Each term costs at most 1 + 10 questions (mx); the exp and %{p} add a few.
        prop_assert!(z.queries() <= 1 + 11 * (limits.max_dns_terms as usize + 1) + 40, "{} queries", z.queries());
    }

    #[test]
    fn expansion_terminates_within_limits(z in zone(), start in name()) {
        let limits = TreeLimits::default();
        let clock = Instant::now();
        let tree = expand_with(&start, &z, limits);
        prop_assert!(clock.elapsed() < Duration::from_secs(2));
        // Visited nodes are capped; each may add one unvisited leaf (loop or cut) per term.
        prop_assert!(tree.nodes().len() <= limits.max_nodes * 16);
        prop_assert!(tree.not_fetched.is_empty());
    }
}
