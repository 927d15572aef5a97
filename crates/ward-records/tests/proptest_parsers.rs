//! Property tests: no parser panics, and each returns quickly, on arbitrary input, on input
//! built from the grammar's own pieces, and (for DKIM) on arbitrary key bytes.

use std::time::{Duration, Instant};

use base64::Engine as _;
use proptest::prelude::*;
use ward_records::{bimi, dkim, dmarc, mta_sts, tls_rpt};

/// Generous for a debug build: every parser is linear in its (capped) input.
const BUDGET: Duration = Duration::from_millis(200);

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < BUDGET, "took {:?}", start.elapsed());
    out
}

fn all(s: &str) {
    timed(|| dmarc::parse(s, &dmarc::Limits::default()).ok());
    timed(|| dmarc::parse_report_uri(s).ok());
    timed(|| dkim::parse(s, &dkim::Limits::default()).ok());
    timed(|| mta_sts::parse_record(s, &mta_sts::Limits::default()).ok());
    timed(|| mta_sts::parse_policy(s.as_bytes(), &mta_sts::PolicyLimits::default()).ok());
    timed(|| tls_rpt::parse(s, &tls_rpt::Limits::default()).ok());
    timed(|| bimi::parse(s, &bimi::Limits::default()).ok());
    timed(|| mta_sts::mx_matches(s, s));
    timed(|| mta_sts::is_policy_media_type(s));
}

/// Pieces of the grammars, so that generated input reaches past the first check.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "v=DMARC1",
        "v=DKIM1",
        "v=STSv1",
        "v=TLSRPTv1",
        "v=BIMI1",
        ";",
        " ",
        "\t",
        "=",
        ",",
        ":",
        "!",
        "p",
        "sp",
        "np",
        "rua",
        "ruf",
        "fo",
        "t",
        "psd",
        "pct",
        "k",
        "h",
        "s",
        "id",
        "l",
        "a",
        "mailto:",
        "https://",
        "a@b.example",
        "reject",
        "none",
        "quarantine",
        "y",
        "n",
        "u",
        "10m",
        "rsa",
        "ed25519",
        "sha256",
        "*",
        "email",
        "MIGfMA0GCSqGSIb3DQEB",
        "AAAA",
        "\r\n",
        "\n",
        "version: STSv1",
        "mode: enforce",
        "mx: *.example.org",
        "max_age: 86400",
        "x",
        "\u{e9}",
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
    fn arbitrary_key_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), ed in any::<bool>()) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let k = if ed { "ed25519" } else { "rsa" };
        timed(|| dkim::parse(&format!("v=DKIM1; k={k}; p={b64}"), &dkim::Limits::default()).ok());
    }

    #[test]
    fn der_shaped_key_bytes(tail in prop::collection::vec(any::<u8>(), 0..300), len in any::<u8>()) {
        // A SEQUENCE header with a plausible or lying length, then noise.
        let mut der = vec![0x30, 0x82, 0x01, len, 0x30, 0x0d, 0x06, 0x09];
        der.extend(tail);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        timed(|| dkim::parse(&format!("p={b64}"), &dkim::Limits::default()).ok());
    }
}
