//! Fuzzing by property (no nightly, so proptest rather than cargo-fuzz) for what the probes
//! read off the wire from servers ward does not control: the TLS first flight (records,
//! handshake messages, ServerHello, Certificate, CertificateStatus, ServerKeyExchange),
//! the certificates in it (x509-parser through `cert::describe`, chain shape and
//! validation), the stapled OCSP response, SMTP replies up to STARTTLS, and HTTP
//! `Location` headers.
//!
//! Each target is fed arbitrary bytes and mutations of valid samples made by the lab's CA
//! (bytes set, flipped, inserted, deleted; sections repeated; lengths lied about; the
//! input cut short; DER nested deep) and must return in time bounded by the input, never
//! panic, refuse readably, and agree with itself: the same bytes in any chunking give the
//! same answer, and what is read back from a rendered reply or URL is what was rendered.
//!
//! `WARD_FUZZ_CASES` (or proptest's own `PROPTEST_CASES`) sets the cases per property;
//! the long runs and what they found: docs/fuzzing.md.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use rustls::RootCertStore;
use time::OffsetDateTime;
use ward_lab::certs::LabCa;
use ward_lab::hosts::{CertSpec, CertStatus, ChainShape, KeyType, OcspSpec};
use ward_net::http::HttpRequest;
use ward_probe::tls::reply::{FlightError, FlightReader, HRR_RANDOM, Reply, Want};
use ward_probe::tls::{cert, kx_kind, ocsp, starttls};
use ward_probe::web::resolve_location;

#[path = "../../../fuzz/support.rs"]
mod support;
use support::{Clock, config};

/// Half a second plus 20 µs a byte: far above these readers (and a chain validation) in
/// a debug build, in CPU time, far below a quadratic walk or a loop.
fn budget(len: usize) -> Duration {
    Duration::from_millis(500) + Duration::from_micros(20) * len as u32
}

fn timed<T>(what: &str, len: usize, f: impl FnOnce() -> T) -> T {
    let start = Clock::start();
    let out = f();
    let took = start.took();
    assert!(took < budget(len), "{what} took {took:?} on {len} bytes");
    out
}

/// A refusal a person can act on: some words, and no larger than the input it quotes
/// plus a sentence. (The renderers escape outside text for the terminal.)
fn readable(what: &str, input_len: usize, msg: &str) {
    assert!(
        msg.chars().any(char::is_alphanumeric),
        "{what}: empty error {msg:?}"
    );
    assert!(
        msg.len() <= 1024 + 10 * input_len,
        "{what}: {}-byte error for {input_len} bytes",
        msg.len()
    );
}

// --- samples made by the lab CA ------------------------------------------------------

struct Samples {
    now: OffsetDateTime,
    roots: Arc<RootCertStore>,
    /// Chains as servers send them, leaf first, with their OCSP responses.
    chains: Vec<(Vec<Vec<u8>>, Vec<u8>)>,
    /// Whole first flights, as record-layer bytes.
    flights: Vec<Vec<u8>>,
}

const HOST: &str = "www.example.org";

fn samples() -> &'static Samples {
    static S: OnceLock<Samples> = OnceLock::new();
    S.get_or_init(|| {
        let now = OffsetDateTime::now_utc();
        let ca = LabCa::new(now).expect("lab CA");
        let mut roots = RootCertStore::empty();
        roots.add(ca.ca_cert_der().clone()).expect("root");
        let specs = [
            (KeyType::EcdsaP256, ChainShape::Intermediate, OcspSpec::Good),
            (KeyType::Rsa2048, ChainShape::Direct, OcspSpec::Revoked),
            (KeyType::Ed25519, ChainShape::OutOfOrder, OcspSpec::Stale),
        ];
        let mut chains = Vec::new();
        for (key, chain, ocsp) in specs {
            let spec = CertSpec {
                status: CertStatus::Valid,
                key,
                chain,
                ocsp,
            };
            let issued = ca.issue(&[HOST.to_owned()], &spec, now).expect("issue");
            chains.push((
                issued.chain.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
                issued.ocsp.unwrap_or_default(),
            ));
        }
        let flights = chains
            .iter()
            .map(|(c, o)| tls12_flight(c, o, 0xc02f))
            .chain([
                tls12_flight(&chains[1].0, &[], 0x009e),
                tls13_hello(false),
                tls13_hello(true),
                record(21, &[2, 40]),
            ])
            .collect();
        Samples {
            now,
            roots: Arc::new(roots),
            chains,
            flights,
        }
    })
}

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![kind];
    h.extend_from_slice(&u24(body.len()));
    h.extend_from_slice(body);
    h
}

fn server_hello(version: u16, random: [u8; 32], suite: u16, exts: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&[5; 32]);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    handshake(2, &b)
}

fn ext(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&(body.len() as u16).to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// A TLS 1.2 flight split over records of at most 4000 bytes: ServerHello, Certificate,
/// CertificateStatus (when there is a response), ServerKeyExchange, ServerHelloDone.
fn tls12_flight(chain: &[Vec<u8>], ocsp: &[u8], suite: u16) -> Vec<u8> {
    let mut hs = server_hello(0x0303, [7; 32], suite, &ext(0xff01, &[0]));
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&u24(c.len()));
        list.extend_from_slice(c);
    }
    let mut body = u24(list.len()).to_vec();
    body.extend_from_slice(&list);
    hs.extend(handshake(11, &body));
    if !ocsp.is_empty() {
        let mut st = vec![1];
        st.extend_from_slice(&u24(ocsp.len()));
        st.extend_from_slice(ocsp);
        hs.extend(handshake(22, &st));
    }
    let ske = if suite == 0x009e {
        // DHE: a 2048-bit p, g = 2, Ys, then a signature that is not checked.
        let mut s = 256u16.to_be_bytes().to_vec();
        s.push(0xff);
        s.extend_from_slice(&[0xab; 255]);
        s.extend_from_slice(&[0, 1, 2, 0, 2, 9, 9]);
        s
    } else {
        let mut s = vec![3, 0x00, 0x1d, 32];
        s.extend_from_slice(&[9; 32]);
        s
    };
    let mut ske = ske;
    ske.extend_from_slice(&[0x04, 0x03, 0x00, 0x02, 0xaa, 0xbb]);
    hs.extend(handshake(12, &ske));
    hs.extend(handshake(14, &[]));
    hs.chunks(4000).flat_map(|c| record(22, c)).collect()
}

fn tls13_hello(retry: bool) -> Vec<u8> {
    let mut exts = ext(43, &[3, 4]);
    if retry {
        exts.extend(ext(51, &[0x00, 0x17]));
    } else {
        let mut ks = vec![0x00, 0x1d, 0, 32];
        ks.extend_from_slice(&[1; 32]);
        exts.extend(ext(51, &ks));
    }
    let random = if retry { HRR_RANDOM } else { [8; 32] };
    let mut out = record(22, &server_hello(0x0303, random, 0x1301, &exts));
    out.extend(record(20, &[1]));
    out.extend(record(23, &[0; 40]));
    out
}

// --- mutations -----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// `len` bytes from `at`, written `times` more times after themselves.
    Repeat(usize, usize, usize),
    /// A length field lied about: two bytes set to a big-endian number.
    Length(usize, u16),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Set(a, b)),
        (any::<usize>(), 1u8..).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..300, 1usize..40).prop_map(|(a, n, t)| Edit::Repeat(a, n, t)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u16),
                Just(1),
                Just(0x7f),
                Just(0x80),
                Just(0xffff),
                any::<u16>()
            ]
        )
            .prop_map(|(a, v)| Edit::Length(a, v)),
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
            Edit::Length(i, v) if n > 1 => {
                let at = i % (n - 1);
                b[at..at + 2].copy_from_slice(&v.to_be_bytes());
            }
            Edit::Truncate(i) => b.truncate(pos(*i)),
            _ => {}
        }
    }
    b
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..8)
}

// --- the targets ---------------------------------------------------------------------

/// Reads a flight fed in `chunk`-byte pieces; the first answer or error, and what `end`
/// makes of the rest.
fn read_flight(
    want: Want,
    bytes: &[u8],
    chunk: usize,
) -> (Result<Option<Reply>, FlightError>, Option<Reply>) {
    let mut r = FlightReader::new(want, kx_kind);
    for piece in bytes.chunks(chunk.max(1)) {
        match r.feed(piece) {
            Ok(None) => {}
            done => return (done, None),
        }
    }
    (Ok(None), r.end())
}

fn flight_target(bytes: &[u8], chunk: usize) {
    for want in [Want::ServerHello, Want::FirstFlight] {
        let whole = timed("flight", bytes.len(), || {
            read_flight(want, bytes, bytes.len())
        });
        let pieces = timed("flight", bytes.len(), || read_flight(want, bytes, chunk));
        // How the bytes were split by the network must not change what they say.
        assert_eq!(whole, pieces, "{want:?}, chunks of {chunk}");
        match &whole {
            (Err(e), _) => {
                readable("flight", bytes.len(), &e.to_string());
                if let FlightError::Decode(d) = e {
                    assert!(d.at() <= bytes.len(), "{e} past {} bytes", bytes.len());
                }
            }
            (Ok(Some(Reply::Hello(f))), _) | (Ok(None), Some(Reply::Hello(f))) => {
                let certs: usize = f.certs.iter().map(Vec::len).sum();
                assert!(certs + f.ocsp.as_ref().map_or(0, Vec::len) <= bytes.len());
                if want == Want::FirstFlight && !f.certs.is_empty() {
                    chain_target(&f.certs, f.ocsp.as_deref().unwrap_or_default());
                }
            }
            _ => {}
        }
    }
}

/// What the engine does with a chain it was sent: validate, shape, describe, and read
/// the stapled response against the issuer the shape found.
fn chain_target(chain: &[Vec<u8>], ocsp_der: &[u8]) {
    let s = samples();
    let len = chain.iter().map(Vec::len).sum::<usize>() + ocsp_der.len();
    timed("chain", len, || {
        let verdict = cert::validate(chain, HOST, s.roots.clone(), s.now);
        if let Some((kind, why)) = &verdict {
            assert!(!kind.is_empty());
            readable("validate", len, why);
        }
        let shape = cert::shape(chain, &s.roots);
        for der in chain {
            let seen = cert::describe(der);
            if let Some(e) = &seen.parse_error {
                readable("describe", der.len(), e);
            } else {
                assert!(seen.dane.is_some());
            }
        }
        let algs = cert::provider().signature_verification_algorithms.all;
        let staple = ocsp::read(
            ocsp_der,
            &shape.leaf_serial,
            shape.issuer_key.as_ref(),
            algs,
        );
        if let ward_model::tls::OcspStaple::Malformed { reason } = staple {
            readable("ocsp", ocsp_der.len(), &reason);
        }
    });
}

fn smtp_target(bytes: &[u8]) {
    let got = timed("smtp", bytes.len(), || starttls::parse_reply(bytes));
    let Ok(Some((reply, used))) = got else {
        return;
    };
    assert!(used <= bytes.len() && used > 0);
    // The early check on the first bytes never refuses what would have parsed: every
    // prefix of a reply could begin one.
    for k in 0..=bytes.len().min(4) {
        assert!(
            starttls::could_begin_reply(&bytes[..k]),
            "{:?}",
            &bytes[..k]
        );
    }
    assert!(reply.code <= 999 && !reply.lines.is_empty());
    assert!(reply.lines.len() <= starttls::MAX_LINES);
    // Written back as a server would, the reply reads the same.
    let mut text = String::new();
    for (i, line) in reply.lines.iter().enumerate() {
        let sep = if i + 1 == reply.lines.len() { ' ' } else { '-' };
        text.push_str(&format!("{:03}{sep}{line}\r\n", reply.code));
    }
    let again = starttls::parse_reply(text.as_bytes());
    assert_eq!(
        again,
        Ok(Some((reply.clone(), text.len()))),
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
    // And the STARTTLS states take any reply without panicking.
    let seen = match starttls::ExpectBanner.step(reply.clone()) {
        Ok(ehlo) => match ehlo.step(reply.clone()) {
            Ok(go) => go.step(reply),
            Err(seen) => seen,
        },
        Err(seen) => seen,
    };
    let _ = serde_json::to_string(&seen);
}

fn location_target(bytes: &[u8]) {
    let loc = String::from_utf8_lossy(bytes);
    let base = HttpRequest::https_get(HOST, "/a/b?c=d");
    let got = timed("location", bytes.len(), || resolve_location(&base, &loc));
    match got {
        Err(e) => readable("location", bytes.len(), &e),
        Ok((tls, host, port, path)) => {
            assert!(path.starts_with('/'), "{loc:?} gave path {path:?}");
            assert!(
                !path.contains('#'),
                "{loc:?}: the fragment is never sent: {path:?}"
            );
            assert!(!host.is_empty() && !host.contains(char::is_whitespace));
            // The absolute URL of the answer resolves to the answer.
            let scheme = if tls { "https" } else { "http" };
            let url = format!("{scheme}://{host}:{port}{path}");
            let again = resolve_location(&base, &url);
            assert_eq!(again, Ok((tls, host, port, path)), "{loc:?} via {url:?}");
        }
    }
}

const SMTP: &[&str] = &[
    "220 mx.example.org ESMTP ready\r\n",
    "250-mx.example.org Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
    "220 2.0.0 Ready to start TLS\r\n",
    "554-mx.example.org\n554 no service\n",
];

const LOCATIONS: &[&str] = &[
    "https://www.example.org/path?q=1#frag",
    "http://Example.ORG.:8080",
    "//cdn.example.net/x",
    "/next?x=y",
    "../up/there",
    "https://user:pw@host.example:443/",
];

fn flight_sample() -> impl Strategy<Value = Vec<u8>> {
    (0..samples().flights.len()).prop_map(|i| samples().flights[i].clone())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flight_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..64) {
        flight_target(&b, chunk);
    }

    #[test]
    fn flight_mutated(b in flight_sample(), e in edits(), chunk in 1usize..600) {
        flight_target(&apply(b, &e), chunk);
    }

    #[test]
    fn x509_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..2048)) {
        chain_target(std::slice::from_ref(&b), &b);
    }

    #[test]
    fn x509_mutated_chain(i in 0usize..3, which in any::<usize>(), e in edits(), o in edits()) {
        let (chain, ocsp_der) = &samples().chains[i];
        let mut chain = chain.clone();
        let n = chain.len();
        chain[which % n] = apply(chain[which % n].clone(), &e);
        chain_target(&chain, ocsp_der);
        chain_target(&samples().chains[i].0, &apply(ocsp_der.clone(), &o));
    }

    #[test]
    fn smtp_reply_arbitrary(b in prop::collection::vec(any::<u8>(), 0..600)) {
        smtp_target(&b);
    }

    #[test]
    fn smtp_reply_mutated(s in prop::sample::select(SMTP), e in edits()) {
        smtp_target(&apply(s.as_bytes().to_vec(), &e));
    }

    #[test]
    fn location_arbitrary(s in any::<String>(), b in "[ -~]{0,120}") {
        location_target(s.as_bytes());
        location_target(b.as_bytes());
    }

    #[test]
    fn location_mutated(s in prop::sample::select(LOCATIONS), e in edits()) {
        location_target(&apply(s.as_bytes().to_vec(), &e));
    }
}

#[test]
fn samples_are_valid() {
    // Mutations start from inputs that read whole, so that they reach past the first check.
    let s = samples();
    for (chain, ocsp_der) in &s.chains {
        let verdict = cert::validate(chain, HOST, s.roots.clone(), s.now);
        assert!(
            verdict.is_none() || verdict.as_ref().is_some_and(|v| v.0 != "other"),
            "{verdict:?}"
        );
        let seen = cert::describe(&chain[0]);
        assert_eq!(seen.parse_error, None);
        assert_eq!(seen.dns_names, vec![HOST.to_owned()]);
        let shape = cert::shape(chain, &s.roots);
        let algs = cert::provider().signature_verification_algorithms.all;
        let staple = ocsp::read(
            ocsp_der,
            &shape.leaf_serial,
            shape.issuer_key.as_ref(),
            algs,
        );
        assert!(
            matches!(staple, ward_model::tls::OcspStaple::Stapled(_)),
            "{staple:?}"
        );
    }
    for f in &s.flights {
        let (got, end) = read_flight(Want::FirstFlight, f, f.len());
        assert!(
            matches!(got, Ok(Some(_))) || matches!(end, Some(Reply::Hello(_))),
            "{got:?} {end:?}"
        );
    }
    let (got, _) = read_flight(Want::FirstFlight, &s.flights[0], s.flights[0].len());
    let Ok(Some(Reply::Hello(f))) = got else {
        panic!("{got:?}");
    };
    assert_eq!(f.certs, s.chains[0].0);
    assert_eq!(f.ocsp.as_deref(), Some(&s.chains[0].1[..]));
    for r in SMTP {
        assert!(matches!(starttls::parse_reply(r.as_bytes()), Ok(Some(_))));
    }
    for l in LOCATIONS {
        location_target(l.as_bytes());
    }
}

#[test]
fn every_prefix_of_every_flight() {
    for f in &samples().flights {
        for cut in 0..f.len() {
            flight_target(&f[..cut], 7);
        }
    }
}

#[test]
fn deeply_nested_der_is_refused_not_overflowed() {
    // SEQUENCE inside SEQUENCE, 100 000 deep, with exact lengths (headers worked out from
    // the inside, written from the outside).
    let inner = [0x05, 0x00];
    let mut len = inner.len();
    let mut heads = Vec::new();
    for _ in 0..100_000 {
        let mut head = vec![0x30];
        if len < 0x80 {
            head.push(len as u8);
        } else {
            let bytes = (len as u32).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            head.push(0x80 | (4 - skip) as u8);
            head.extend_from_slice(&bytes[skip..]);
        }
        len += head.len();
        heads.push(head);
    }
    let mut der: Vec<u8> = heads.into_iter().rev().flatten().collect();
    der.extend_from_slice(&inner);
    let seen = cert::describe(&der);
    assert!(seen.parse_error.is_some());
    chain_target(&[der.clone()], &der[..ocsp::MAX_RESPONSE]);
}
