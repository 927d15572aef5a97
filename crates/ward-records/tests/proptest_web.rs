//! Property tests for the HTTP header and security.txt parsers: no panic and quick on any
//! input, and the values they report are the values that were written.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use ward_records::{csp, hsts, permissions_policy, referrer_policy, security_txt};

const BUDGET: Duration = Duration::from_millis(200);

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < BUDGET, "took {:?}", start.elapsed());
    out
}

fn all(s: &str) {
    timed(|| hsts::parse(s, &hsts::Limits::default()).ok());
    timed(|| csp::parse(s, &csp::Limits::default()).ok());
    timed(|| csp::parse_list(s, &csp::Limits::default()).ok());
    timed(|| referrer_policy::parse(s, &referrer_policy::Limits::default()).ok());
    timed(|| permissions_policy::parse(s, &permissions_policy::Limits::default()).ok());
    timed(|| security_txt::parse(s.as_bytes(), &security_txt::Limits::default()).ok());
    timed(|| security_txt::parse_rfc3339(s));
}

fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "max-age",
        "=",
        "\"",
        "\\",
        ";",
        ",",
        " ",
        "\t",
        "\r\n",
        "\n",
        "31536000",
        "includeSubDomains",
        "preload",
        "default-src",
        "script-src",
        "'self'",
        "'none'",
        "'unsafe-inline'",
        "'nonce-",
        "'sha256-",
        "'",
        "https:",
        "*.example.org",
        "no-referrer",
        "unsafe-url",
        "camera",
        "(",
        ")",
        "*",
        "self",
        "\"https://a.example\"",
        "Contact:",
        "Expires:",
        "mailto:a@b",
        "2027-01-01T00:00:00Z",
        "-----BEGIN PGP SIGNED MESSAGE-----",
        "-----BEGIN PGP SIGNATURE-----",
        "- ",
        "#",
        "\u{e9}",
        "\u{1F4A9}",
        "\0",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(s in any::<String>()) {
        all(&s);
    }

    #[test]
    fn grammar_soup(parts in prop::collection::vec(piece(), 0..64)) {
        all(&parts.concat());
    }

    #[test]
    fn long_input_is_capped(c in any::<char>(), n in 0usize..200_000) {
        let s: String = std::iter::repeat_n(c, n.min(200_000 / c.len_utf8())).collect();
        all(&s);
    }

    #[test]
    fn hsts_reports_what_was_written(age in any::<u64>(), sub in any::<bool>(), pre in any::<bool>(), quoted in any::<bool>(), upper in any::<bool>()) {
        let mut s = if quoted { format!("max-age=\"{age}\"") } else { format!("max-age={age}") };
        if sub { s.push_str("; includeSubDomains"); }
        if pre { s.push_str(" ;preload"); }
        if upper { s = s.to_ascii_uppercase(); }
        let h = hsts::parse(&s, &hsts::Limits::default());
        prop_assert!(h.is_ok(), "{s}: {h:?}");
        let h = h.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(h.max_age, age);
        prop_assert_eq!(h.include_subdomains, sub);
        prop_assert_eq!(h.preload, pre);
        prop_assert!(h.warnings.is_empty());
    }

    #[test]
    fn csp_first_directive_wins(names in prop::collection::vec(prop::sample::select(vec!["default-src", "script-src", "object-src", "base-uri"]), 1..8)) {
        let text: Vec<String> = names.iter().enumerate().map(|(i, n)| format!("{n} https://h{i}.example")).collect();
        let p = csp::parse(&text.join("; "), &csp::Limits::default());
        prop_assert!(p.is_ok());
        let p = p.unwrap_or_else(|_| unreachable!());
        let mut want: Vec<(&str, String)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if !want.iter().any(|w| w.0 == *n) {
                want.push((n, format!("https://h{i}.example")));
            }
        }
        let got: Vec<(&str, String)> = p.directives.iter().map(|d| (d.name.as_str(), d.values.join(" "))).collect();
        prop_assert_eq!(got, want.clone());
        prop_assert_eq!(p.warnings.len(), names.len() - want.len());
    }

    #[test]
    fn referrer_last_known_wins(toks in prop::collection::vec(prop::sample::select(vec!["no-referrer", "unsafe-url", "same-origin", "bogus", "origin-only"]), 0..10)) {
        let r = referrer_policy::parse(&toks.join(", "), &referrer_policy::Limits::default());
        prop_assert!(r.is_ok());
        let r = r.unwrap_or_else(|_| unreachable!());
        let want = toks.iter().rev().find(|t| !matches!(**t, "bogus" | "origin-only")).copied();
        prop_assert_eq!(r.policy.map(|p| p.token()), want);
        prop_assert_eq!(r.unknown.len(), toks.iter().filter(|t| matches!(**t, "bogus" | "origin-only")).count());
    }

    #[test]
    fn rfc3339_round_trip(t in 0i64..8_000_000_000) {
        // The `time` crate writes the text: an oracle independent of the parser's own
        // day arithmetic.
        let at = time::OffsetDateTime::from_unix_timestamp(t).unwrap_or_else(|_| unreachable!());
        let text = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(security_txt::parse_rfc3339(&text), Some(t));
        let body = format!("Contact: mailto:a@b.example\nExpires: {text}\n");
        let f = security_txt::parse(body.as_bytes(), &security_txt::Limits::default());
        prop_assert_eq!(f.map(|f| f.expires), Ok(t));
    }
}
