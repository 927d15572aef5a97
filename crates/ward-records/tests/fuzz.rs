//! Fuzzing by property (no nightly, so proptest rather than cargo-fuzz): every parser here
//! reads text a stranger published (TXT records, the MTA-STS policy file, security.txt,
//! HTTP security headers). Each target is fed arbitrary bytes and strings, and mutations
//! of valid samples (bytes set, flipped, inserted, deleted; sections repeated; grammar
//! pieces spliced in; the text cut short). Each must return within a time bounded by the
//! input's size, never panic, refuse with a message a person can read, and where ward
//! writes the format back (SPF, DMARC, the MTA-STS policy) what it writes must parse to
//! the same thing.
//!
//! `WARD_FUZZ_CASES` (or proptest's own `PROPTEST_CASES`) sets the cases per property;
//! the default keeps the suite quick. The long runs and what they found: docs/fuzzing.md.

use std::time::Duration;

use proptest::prelude::*;
use ward_records::{
    bimi, caa, csp, dkim, dmarc, hsts, mta_sts, permissions_policy, referrer_policy, security_txt,
    spf, tls_rpt,
};

#[path = "../../../fuzz/support.rs"]
mod support;
use support::{Clock, config};

/// Every parser is linear in its (capped) input: a quarter second plus 20 µs a byte is far
/// above any of them in a debug build, in CPU time, and far below a quadratic walk.
fn budget(len: usize) -> Duration {
    Duration::from_millis(250) + Duration::from_micros(20) * len as u32
}

fn timed<T>(what: &str, input: &[u8], f: impl FnOnce() -> T) -> T {
    let start = Clock::start();
    let out = f();
    let took = start.took();
    assert!(
        took < budget(input.len()),
        "{what} took {took:?} on {} bytes: {:?}",
        input.len(),
        String::from_utf8_lossy(input)
    );
    out
}

/// A refusal a person can act on: some words, no raw control characters (the text may
/// reach a terminal), and no larger than the input it quotes (escaped) plus a sentence.
fn readable(what: &str, input: &[u8], msg: &str) {
    assert!(
        msg.chars().any(char::is_alphanumeric),
        "{what}: empty error {msg:?}"
    );
    assert!(
        !msg.chars().any(char::is_control),
        "{what}: control character in error {msg:?} for {:?}",
        String::from_utf8_lossy(input)
    );
    assert!(
        msg.len() <= 512 + 10 * input.len(),
        "{what}: {}-byte error for {} bytes of input",
        msg.len(),
        input.len()
    );
}

fn outcome<T, E: std::fmt::Display>(what: &str, input: &[u8], r: Result<T, E>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            readable(what, input, &e.to_string());
            None
        }
    }
}

// --- the targets: one function per parser, all properties in it -----------------------

fn spf_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let limits = spf::Limits::default();
    let got = timed("spf", input, || spf::parse(&text, &limits));
    if let Err(e) = &got {
        assert!(e.at() <= text.len(), "spf error past the end: {e:?}");
    }
    if let Some(rec) = outcome("spf", input, got) {
        // The rebuilt record means the same terms, and rebuilding is a fixed point.
        let rebuilt = rec.to_string();
        let again = spf::parse(&rebuilt, &limits);
        assert!(again.is_ok(), "{text:?} rebuilt as {rebuilt:?}: {again:?}");
        let again = again.unwrap_or_else(|_| unreachable!());
        assert_eq!(again.to_string(), rebuilt, "from {text:?}");
        let terms = |r: &spf::SpfRecord| r.terms.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(terms(&again), terms(&rec), "from {text:?}");
    }
    let exp = timed("spf exp", input, || {
        spf::parse_explain_string(&text, &limits)
    });
    if let Err(e) = &exp {
        assert!(e.at() <= text.len(), "exp error past the end: {e:?}");
    }
    if let Some(m) = outcome("spf exp", input, exp) {
        let again = spf::parse_explain_string(&m.to_string(), &limits);
        assert_eq!(again.map(|a| a.to_string()), Ok(m.to_string()), "{text:?}");
    }
}

fn dmarc_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let limits = dmarc::Limits::default();
    let got = timed("dmarc", input, || dmarc::parse(&text, &limits));
    if let Some(d) = outcome("dmarc", input, got) {
        let canon = d.to_canonical();
        let again = dmarc::parse(&canon, &limits);
        assert!(again.is_ok(), "{text:?} canonical {canon:?}: {again:?}");
        let again = again.unwrap_or_else(|_| unreachable!());
        assert_eq!(again.to_canonical(), canon, "from {text:?}");
        assert_eq!(again.effective_p(), d.effective_p());
        assert_eq!(again.applied_policy(true), d.applied_policy(true));
    }
    let _ = outcome(
        "dmarc uri",
        input,
        timed("dmarc uri", input, || dmarc::parse_report_uri(&text)),
    );
}

fn dkim_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let got = timed("dkim", input, || {
        dkim::parse(&text, &dkim::Limits::default())
    });
    let _ = outcome("dkim", input, got);
}

fn mta_sts_record_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let got = timed("mta-sts record", input, || {
        mta_sts::parse_record(&text, &mta_sts::Limits::default())
    });
    let _ = outcome("mta-sts record", input, got);
}

fn mta_sts_policy_target(input: &[u8]) {
    let limits = mta_sts::PolicyLimits::default();
    let got = timed("mta-sts policy", input, || {
        mta_sts::parse_policy(input, &limits)
    });
    if let Some(p) = outcome("mta-sts policy", input, got) {
        let text = p.to_text();
        let again = mta_sts::parse_policy(text.as_bytes(), &limits);
        assert!(again.is_ok(), "{input:?} written as {text:?}: {again:?}");
        let again = again.unwrap_or_else(|_| unreachable!());
        assert_eq!(again.to_text(), text);
        assert_eq!(again.mode, p.mode);
        assert_eq!(again.max_age, p.max_age);
    }
}

fn tls_rpt_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let got = timed("tls-rpt", input, || {
        tls_rpt::parse(&text, &tls_rpt::Limits::default())
    });
    let _ = outcome("tls-rpt", input, got);
}

fn caa_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let _ = outcome("caa", input, timed("caa", input, || caa::parse(&text)));
}

fn bimi_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let got = timed("bimi", input, || {
        bimi::parse(&text, &bimi::Limits::default())
    });
    let _ = outcome("bimi", input, got);
}

fn security_txt_target(input: &[u8]) {
    let got = timed("security.txt", input, || {
        security_txt::parse(input, &security_txt::Limits::default())
    });
    let _ = outcome("security.txt", input, got);
    let text = String::from_utf8_lossy(input);
    timed("rfc3339", input, || security_txt::parse_rfc3339(&text));
}

fn headers_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let got = timed("hsts", input, || {
        hsts::parse(&text, &hsts::Limits::default())
    });
    let _ = outcome("hsts", input, got);
    let got = timed("csp", input, || {
        csp::parse_list(&text, &csp::Limits::default())
    });
    if let Some(list) = outcome("csp", input, got) {
        // Asking the parsed policy questions must not panic either.
        for p in &list {
            let _ = (p.weaknesses(), p.effective("script-src"));
        }
    }
    let got = timed("referrer-policy", input, || {
        referrer_policy::parse(&text, &referrer_policy::Limits::default())
    });
    let _ = outcome("referrer-policy", input, got);
    let got = timed("permissions-policy", input, || {
        permissions_policy::parse(&text, &permissions_policy::Limits::default())
    });
    let _ = outcome("permissions-policy", input, got);
}

// --- valid samples and grammar pieces ------------------------------------------------

const SPF: &[&str] = &[
    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net a:mail.example.org/28//64 mx ~all",
    "v=spf1 +a:x.example/24//64 mx ip4:192.0.2.1/32 ip6:2001:db8::1/64 include:%{ir}.%{v}.%{d2r-} exists:%{l1r+}._spf.%{d} redirect=%{d} exp=e.%{o}",
    "V=SPF1  mx//0 -ptr ?ip6:2001:DB8::/32 exists:%{l1r+-}.x.example REDIRECT=%{d}.r.example ra=postmaster -all ",
    "%{i} is not one of %{d}'s designated mail servers, see http://%{h}/why?s=%{s}&t=%{t}&r=%{r}%%%_%-",
];

const DMARC: &[&str] = &[
    "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:dmarc@example.org!10m,mailto:b@example.net; ruf=mailto:f@example.org; fo=1:d:s; adkim=s; aspf=r; pct=50; ri=86400; t=y; psd=n",
    "v=DMARC1;p=none",
    "V=DMARC1 ; P=Quarantine ; RUA = mailto:a@b.example!2g , https://r.example/x ; rf=afrf",
    "mailto:reports@example.org!500k",
];

const DKIM: &[&str] = &[
    "v=DKIM1; k=rsa; h=sha256:sha1; t=y:s; s=email; n=note; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCsfY6tjacncfemvUjjgREj1rQu7rEJetxyB5Fc/HjUMDkrC0hkuDOztFrMddFLJW8oJwR1PZyhW4KfTYnUIGF5kDwrHL39kErUHkMlKjaNuC0T+HO7QLnWFJgxnbkW9z90738hi6fKepTEWVtGembqVS9IW3O+qPAxn826wdAAXQIDAQAB",
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "v=DKIM1; p=",
];

const MTA_STS_RECORD: &[&str] = &["v=STSv1; id=20160831085700Z;", "v=STSv1;id=abc123; ext=1 "];

const MTA_STS_POLICY: &[&str] = &[
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
    "version: STSv1\nmode: testing\nmx: mx1.example.org\nmax_age: 86400\nfuture: yes\n",
    "version: STSv1\r\nmode: none\r\nmax_age: 31557600",
];

const TLS_RPT: &[&str] = &[
    "v=TLSRPTv1; rua=mailto:tlsrpt@example.org,https://reports.example.org/tlsrpt",
    "v=TLSRPTv1;rua=mailto:a@b.example!10m",
];

const CAA: &[&str] = &[
    "0 issue \"letsencrypt.org; validationmethods=dns-01; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1\"",
    "128 iodef \"mailto:security@example.org\"",
    "0 issuewild \";\"",
    "0 tbs \"\\065\\\"q\\\\\"",
];

const BIMI: &[&str] = &[
    "v=BIMI1; l=https://example.org/logo.svg; a=https://example.org/vmc.pem",
    "v=BIMI1; l=; a=;",
];

const SECURITY_TXT: &[&str] = &[
    "Contact: mailto:security@example.org\nContact: https://example.org/report\nExpires: 2027-01-01T00:00:00Z\nEncryption: https://example.org/pgp.asc\nPreferred-Languages: en, fr\nCanonical: https://example.org/.well-known/security.txt\nPolicy: https://example.org/policy\n",
    "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\n# comment\r\nContact: mailto:a@b.example\r\nExpires: 2026-12-31T23:59:59+01:00\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\niQIzBAEBCAAdFiEE\r\n-----END PGP SIGNATURE-----\r\n",
];

const HEADERS: &[&str] = &[
    "max-age=31536000; includeSubDomains; preload",
    "max-age=\"0\"",
    "default-src 'self'; script-src 'self' 'nonce-abc' 'sha256-AAAA' https://cdn.example.org; object-src 'none'; base-uri 'none'; report-uri /csp, frame-ancestors 'none'",
    "no-referrer, strict-origin-when-cross-origin",
    "camera=(), geolocation=(self \"https://a.example\"), microphone=*, fullscreen=(self);report-to=x",
];

/// Pieces of the grammars, spliced in so that mutations reach past the first check.
const PIECES: &[&str] = &[
    "v=spf1",
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
    "/",
    "//",
    "%{",
    "}",
    "%{ir}",
    "%{l1r+-}",
    "%%",
    "ip4:",
    "ip6:",
    "include:",
    "redirect=",
    "exp=",
    "-all",
    "mailto:",
    "https://",
    "!10m",
    "p=",
    "k=",
    "h=",
    "issue",
    "iodef",
    "\"",
    "\\",
    "\\255",
    "mode: ",
    "mx: ",
    "max_age: ",
    "\r\n",
    "\n",
    "Contact: ",
    "Expires: ",
    "-----BEGIN PGP SIGNATURE-----",
    "'self'",
    "'nonce-",
    "(",
    ")",
    "*",
    "max-age=",
    "99999999999999999999",
    "-1",
    "\u{e9}",
    "\u{1F4A9}",
    "\u{202e}",
    "\0",
    "\u{1b}[31m",
];

// --- mutations ---------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// `len` bytes from `at`, written `times` more times after themselves.
    Repeat(usize, usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Set(a, b)),
        (any::<usize>(), 1u8..).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), prop::sample::select(PIECES))
            .prop_map(|(a, p)| Edit::Insert(a, p.as_bytes().to_vec())),
        (any::<usize>(), 1usize..32).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..64, 1usize..200).prop_map(|(a, n, t)| Edit::Repeat(a, n, t)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        // Positions are taken modulo the current length, so every edit lands somewhere.
        let n = b.len();
        let pos = |i: usize| i % (n + 1);
        match e {
            Edit::Set(i, v) if n > 0 => b[i % n] = *v,
            Edit::Flip(i, v) if n > 0 => b[i % n] ^= *v,
            Edit::Insert(i, v) => {
                let at = pos(*i);
                b.splice(at..at, v.iter().copied());
            }
            Edit::Delete(i, len) => {
                let at = pos(*i);
                b.drain(at..(at + len).min(n));
            }
            Edit::Repeat(i, len, times) => {
                let at = pos(*i);
                let part = b[at..(at + len).min(n)].to_vec();
                let end = at + part.len();
                b.splice(end..end, part.repeat(*times));
            }
            Edit::Truncate(i) => b.truncate(pos(*i)),
            _ => {}
        }
    }
    b
}

fn mutated(samples: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(samples),
        prop::collection::vec(edit(), 1..8),
    )
        .prop_map(|(s, e)| apply(s.as_bytes().to_vec(), &e))
}

fn arbitrary() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(prop::sample::select(PIECES), 0..64)
            .prop_map(|p| p.concat().into_bytes()),
    ]
}

macro_rules! fuzz_target {
    ($name:ident, $target:ident, $samples:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn arbitrary_input(b in arbitrary()) {
                    $target(&b);
                }

                #[test]
                fn mutated_samples(b in mutated($samples)) {
                    $target(&b);
                }
            }

            #[test]
            fn samples_and_every_prefix() {
                for s in $samples {
                    for cut in 0..=s.len() {
                        $target(&s.as_bytes()[..cut]);
                    }
                }
            }

            #[test]
            fn long_repetitions() {
                // Far past every parser's byte limit: refused quickly, not walked.
                for s in $samples {
                    $target(s.repeat(200_000 / s.len().max(1) + 1).as_bytes());
                }
            }
        }
    };
}

fuzz_target!(spf_parse, spf_target, SPF);
fuzz_target!(dmarc_parse, dmarc_target, DMARC);
fuzz_target!(dkim_parse, dkim_target, DKIM);
fuzz_target!(mta_sts_parse_record, mta_sts_record_target, MTA_STS_RECORD);
fuzz_target!(mta_sts_parse_policy, mta_sts_policy_target, MTA_STS_POLICY);
fuzz_target!(tls_rpt_parse, tls_rpt_target, TLS_RPT);
fuzz_target!(caa_parse, caa_target, CAA);
fuzz_target!(bimi_parse, bimi_target, BIMI);
fuzz_target!(security_txt_parse, security_txt_target, SECURITY_TXT);
fuzz_target!(http_headers, headers_target, HEADERS);

#[test]
fn samples_are_valid() {
    // Mutations start from inputs that parse, so that they reach past the first check.
    let ok = |r: bool, s: &str| assert!(r, "sample does not parse: {s:?}");
    for s in &SPF[..3] {
        ok(spf::parse(s, &spf::Limits::default()).is_ok(), s);
    }
    ok(
        spf::parse_explain_string(SPF[3], &spf::Limits::default()).is_ok(),
        SPF[3],
    );
    for s in &DMARC[..3] {
        ok(dmarc::parse(s, &dmarc::Limits::default()).is_ok(), s);
    }
    ok(dmarc::parse_report_uri(DMARC[3]).is_ok(), DMARC[3]);
    for s in DKIM {
        ok(dkim::parse(s, &dkim::Limits::default()).is_ok(), s);
    }
    for s in MTA_STS_RECORD {
        ok(
            mta_sts::parse_record(s, &mta_sts::Limits::default()).is_ok(),
            s,
        );
    }
    for s in MTA_STS_POLICY {
        ok(
            mta_sts::parse_policy(s.as_bytes(), &mta_sts::PolicyLimits::default()).is_ok(),
            s,
        );
    }
    for s in TLS_RPT {
        ok(tls_rpt::parse(s, &tls_rpt::Limits::default()).is_ok(), s);
    }
    for s in CAA {
        ok(caa::parse(s).is_ok(), s);
    }
    ok(
        bimi::parse(BIMI[0], &bimi::Limits::default()).is_ok(),
        BIMI[0],
    );
    for s in SECURITY_TXT {
        ok(
            security_txt::parse(s.as_bytes(), &security_txt::Limits::default()).is_ok(),
            s,
        );
    }
    ok(
        hsts::parse(HEADERS[0], &hsts::Limits::default()).is_ok(),
        HEADERS[0],
    );
    ok(
        csp::parse_list(HEADERS[2], &csp::Limits::default()).is_ok(),
        HEADERS[2],
    );
    ok(
        referrer_policy::parse(HEADERS[3], &referrer_policy::Limits::default()).is_ok(),
        HEADERS[3],
    );
    ok(
        permissions_policy::parse(HEADERS[4], &permissions_policy::Limits::default()).is_ok(),
        HEADERS[4],
    );
}
