//! Fuzzing by property (no nightly, so proptest rather than cargo-fuzz) for the bytes
//! servers send ward-net: DNS replies (hickory-proto decodes them; [`dns::decode_reply`]
//! matches them to the question, and [`dns::interpret`], [`dns::signed_reply`] and
//! [`dns::to_record`] turn them into observations) and HTTP responses (the hand-written
//! reader behind [`http::HttpClient::fetch`]). Here rather than in `tests/` because both
//! entry points are private to the crate: the socket code around them is not fuzzed.
//!
//! Each target is fed arbitrary bytes and mutations of valid samples, and must return in
//! time bounded by the input, never panic, keep to its caps, refuse readably, and agree
//! with itself: a decoded DNS reply encoded again means the same, and an HTTP response
//! written back from what was read reads the same.
//!
//! `WARD_FUZZ_CASES` (or proptest's own `PROPTEST_CASES`) sets the cases per property;
//! the long runs and what they found: docs/fuzzing.md.

use std::sync::OnceLock;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use proptest::prelude::*;
use ward_model::wire::FIRST_BYTES_SHOWN;
use ward_model::{DnsOutcome, http::HttpOutcome};

use crate::dns::{self, Question};
use crate::http;

#[path = "../../../fuzz/support.rs"]
mod support;
use support::{Clock, config};

/// Half a second plus 20 µs a byte: far above these readers in a debug build, in CPU
/// time, far below a quadratic walk or a loop.
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

// --- DNS -------------------------------------------------------------------------------

struct Asked {
    question: Question,
    name: Name,
    qtype: RecordType,
    /// Replies a server could send to it, as wire bytes.
    replies: Vec<Vec<u8>>,
}

fn name(s: &str) -> Name {
    dns::parse_name(s).expect("name")
}

fn asked() -> &'static [Asked] {
    static ASKED: OnceLock<Vec<Asked>> = OnceLock::new();
    ASKED.get_or_init(|| {
        let txt = |n: &str, parts: &[&str]| {
            Record::from_rdata(
                name(n),
                300,
                RData::TXT(TXT::new(parts.iter().map(|p| (*p).to_owned()).collect())),
            )
        };
        let soa = Record::from_rdata(
            name("example.org"),
            3600,
            RData::SOA(SOA::new(
                name("ns1.example.org"),
                name("hostmaster.example.org"),
                2026120701,
                7200,
                900,
                1_209_600,
                300,
            )),
        );
        let mut out = Vec::new();
        for (qname, qtype) in [
            ("example.org", RecordType::TXT),
            ("www.example.org", RecordType::A),
            ("example.org", RecordType::MX),
            ("example.org", RecordType::CAA),
        ] {
            let question = Question::new(&name(qname), qtype, true, false);
            // The question as the server read it, turned into its answer.
            let reply = |answers: Vec<Record>, rcode: ResponseCode, authority: Vec<Record>| {
                let mut m = Message::from_vec(question.wire()).expect("query decodes");
                m.metadata.message_type = MessageType::Response;
                m.metadata.authoritative = true;
                m.metadata.response_code = rcode;
                for r in answers {
                    m.add_answer(r);
                }
                for r in authority {
                    m.add_authority(r);
                }
                m.to_vec().expect("reply encodes")
            };
            let answers = match qtype {
                RecordType::TXT => vec![
                    txt(qname, &["v=spf1 include:_spf.example.net ", "-all"]),
                    txt(qname, &["google-site-verification=abc\u{7f}\"\\"]),
                ],
                RecordType::A => vec![
                    Record::from_rdata(
                        name(qname),
                        60,
                        RData::CNAME(CNAME(name("edge.cdn.example.net"))),
                    ),
                    Record::from_rdata(
                        name("edge.cdn.example.net"),
                        60,
                        RData::A(A::new(192, 0, 2, 7)),
                    ),
                    Record::from_rdata(
                        name("edge.cdn.example.net"),
                        60,
                        RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                    ),
                ],
                RecordType::MX => vec![
                    Record::from_rdata(
                        name(qname),
                        300,
                        RData::MX(MX::new(10, name("mx1.example.org"))),
                    ),
                    Record::from_rdata(
                        name(qname),
                        300,
                        RData::MX(MX::new(20, name("mx2.example.org"))),
                    ),
                ],
                _ => vec![Record::from_rdata(
                    name(qname),
                    300,
                    RData::CAA(CAA::new_issue(
                        true,
                        Some(name("letsencrypt.org")),
                        Vec::new(),
                    )),
                )],
            };
            let ns = vec![Record::from_rdata(
                name("example.org"),
                3600,
                RData::NS(NS(name("ns1.example.org"))),
            )];
            let replies = vec![
                reply(answers, ResponseCode::NoError, ns),
                reply(Vec::new(), ResponseCode::NoError, vec![soa.clone()]),
                reply(Vec::new(), ResponseCode::NXDomain, vec![soa.clone()]),
                reply(Vec::new(), ResponseCode::ServFail, Vec::new()),
            ];
            out.push(Asked {
                question,
                name: name(qname),
                qtype,
                replies,
            });
        }
        out
    })
}

fn dns_target(asked: &Asked, wire: &[u8]) {
    let got = timed("dns decode", wire.len(), || {
        dns::decode_reply(&asked.question, wire)
    });
    let reply = match got {
        Err(e) => return readable("dns", wire.len(), &e),
        Ok(None) => return,
        Ok(Some(r)) => r,
    };
    let outcome = timed("dns interpret", wire.len(), || {
        dns::interpret(&reply, &asked.name, asked.qtype)
    });
    if let DnsOutcome::Answer { records, .. } = &outcome {
        assert!(!records.is_empty() && records.len() <= dns::MAX_RECORDS);
        for r in records {
            assert!(r.data.chars().count() <= dns::MAX_DATA_CHARS);
            let cname = RecordType::CNAME.to_string();
            assert!(
                r.rtype == asked.qtype.to_string() || r.rtype == cname,
                "{r:?}"
            );
        }
    }
    let signed = timed("dns signed", wire.len(), || {
        dns::signed_reply(&reply, &asked.name, asked.qtype)
    });
    if let Ok(s) = &signed {
        assert!(s.records().len() <= dns::MAX_RECORDS);
    }
    for r in reply
        .answers
        .iter()
        .chain(&reply.authorities)
        .chain(&reply.additionals)
    {
        let seen = dns::to_record(r);
        assert!(seen.data.chars().count() <= dns::MAX_DATA_CHARS);
    }
    // What was decoded, encoded again, means the same to ward.
    if let Ok(again) = reply.to_vec() {
        let back = dns::decode_reply(&asked.question, &again);
        let Ok(Some(back)) = back else {
            panic!("re-encoded reply does not decode: {back:?}");
        };
        assert_eq!(dns::interpret(&back, &asked.name, asked.qtype), outcome);
    }
}

// --- HTTP ------------------------------------------------------------------------------

const HEAD_LIMIT: usize = 1024;
const BODY_LIMIT: usize = 4096;

fn read_http(
    bytes: &[u8],
    head: usize,
    body: usize,
    head_only: bool,
) -> Result<HttpOutcome, String> {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
    }
    RT.with(|rt| rt.block_on(http::read_response_from(bytes, head, body, head_only)))
}

fn http_target(bytes: &[u8], head_only: bool) {
    let got = timed("http", bytes.len(), || {
        read_http(bytes, HEAD_LIMIT, BODY_LIMIT, head_only)
    });
    // Whether the first bytes can begin `HTTP/`: if not, the port speaks something else,
    // and that is all a fetch may say of it.
    let n = bytes.len().min(5);
    let http_start = bytes[..n] == b"HTTP/"[..n];
    let (status, headers, body, truncated) = match got {
        Err(e) => {
            assert!(http_start, "{e:?} rather than WrongProtocol");
            return readable("http", bytes.len(), &e);
        }
        Ok(HttpOutcome::WrongProtocol {
            port,
            expected,
            first_bytes,
        }) => {
            assert!(!http_start && !bytes.is_empty());
            assert_eq!((port, expected.as_str()), (80, "HTTP"));
            let shown = &bytes[..bytes.len().min(FIRST_BYTES_SHOWN)];
            assert_eq!(first_bytes, ward_model::wire::printable(shown));
            assert!(
                first_bytes
                    .bytes()
                    .all(|b| b.is_ascii_graphic() || b == b' ')
            );
            return;
        }
        Ok(HttpOutcome::Response {
            status,
            headers,
            body,
            body_truncated,
        }) => (status, headers, body, body_truncated),
        Ok(other) => panic!("a reader of bytes answered {other:?}"),
    };
    assert!(bytes.starts_with(b"HTTP/1."));
    assert!((100..=999).contains(&status));
    assert!(headers.len() <= http::MAX_HEADERS);
    // The body keeps at most the limit's bytes; lossy decoding turns each bad byte into
    // one U+FFFD, and a good character takes at most four bytes.
    let chars = body.chars().count();
    assert!(chars <= BODY_LIMIT, "{chars}-character body");
    assert!(
        !truncated || chars >= BODY_LIMIT / 4,
        "truncated at {chars}"
    );
    // Written back with a Content-Length, it reads the same (limits opened wide: the
    // lossy decoding of bad bytes may have made the text longer than the bytes).
    let mut kept: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| k != "content-length" && k != "transfer-encoding")
        .collect();
    if kept.len() >= http::MAX_HEADERS {
        return;
    }
    let mut text = format!("HTTP/1.1 {status} Fuzz\r\n");
    for (k, v) in &kept {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    kept.push(("content-length".into(), body.len().to_string()));
    let again = read_http(text.as_bytes(), 1 << 20, 1 << 20, head_only);
    assert_eq!(
        again,
        Ok(HttpOutcome::Response {
            status,
            headers: kept,
            body,
            body_truncated: false,
        }),
        "written back as {text:?}"
    );
}

const HTTP: &[&str] = &[
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.example.org/\r\nStrict-Transport-Security: max-age=31536000; includeSubDomains\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b; Secure; HttpOnly\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
    "HTTP/1.0 404 Not Found\nServer: x\n\nclose-delimited body",
    "HTTP/1.1 204 No Content\r\nContent-Security-Policy: default-src 'self'\r\n\r\n",
];

// --- mutations -------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// `len` bytes from `at`, written `times` more times after themselves.
    Repeat(usize, usize, usize),
    /// A length, count or pointer lied about: two bytes set to a big-endian number.
    Word(usize, u16),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Set(a, b)),
        (any::<usize>(), 1u8..).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 1usize..32).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..128, 1usize..64).prop_map(|(a, n, t)| Edit::Repeat(a, n, t)),
        // 0xc00c and friends: compression pointers, to the question name and elsewhere.
        (
            any::<usize>(),
            prop_oneof![
                Just(0u16),
                Just(0xffff),
                Just(0xc00c),
                (0xc000u16..0xc200),
                any::<u16>()
            ]
        )
            .prop_map(|(a, v)| Edit::Word(a, v)),
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
            Edit::Word(i, v) if n > 1 => {
                let at = i % (n - 1);
                b[at..at + 2].copy_from_slice(&v.to_be_bytes());
            }
            Edit::Truncate(i) => b.truncate(pos(*i)),
            _ => {}
        }
    }
    b
}

/// One answer record, framed right: owner, type, class, TTL, data.
#[derive(Debug, Clone)]
struct RawRecord {
    /// 0: a pointer to the question name; 1: the root; 2: a pointer anywhere; else the
    /// label bytes as given.
    owner: (u8, Vec<u8>),
    rtype: u16,
    class: u16,
    ttl: u32,
    data: Vec<u8>,
}

fn raw_record() -> impl Strategy<Value = RawRecord> {
    let known = [
        1u16, 2, 5, 6, 12, 15, 16, 28, 33, 43, 46, 47, 48, 50, 52, 64, 65, 257,
    ];
    (
        // Mostly owned by the question name, so that most records are read as answers.
        (
            prop_oneof![3 => Just(0u8), 1 => 1u8..4],
            prop::collection::vec(any::<u8>(), 0..24),
        ),
        prop_oneof![prop::sample::select(known.to_vec()), any::<u16>()],
        prop_oneof![Just(1u16), any::<u16>()],
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(owner, rtype, class, ttl, data)| RawRecord {
            owner,
            rtype,
            class,
            ttl,
            data,
        })
}

/// The reply's header and question as the sample has them, `rcode`, then `records` as
/// its answer section.
fn framed(a: &Asked, rcode: u8, records: &[RawRecord]) -> Vec<u8> {
    let sample = &a.replies[0];
    let question_end = 12 + a.name.len() + 1 + 4;
    let mut out = sample[..question_end].to_vec();
    out[3] = (out[3] & 0xf0) | (rcode & 0x0f);
    out[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    out[8..12].fill(0);
    for r in records {
        match r.owner.0 {
            0 => out.extend_from_slice(&0xc00cu16.to_be_bytes()),
            1 => out.push(0),
            2 => {
                let to = r.owner.1.first().map_or(0, |b| u16::from(*b));
                out.extend_from_slice(&(0xc000 | to).to_be_bytes());
            }
            _ => out.extend_from_slice(&r.owner.1),
        }
        out.extend_from_slice(&r.rtype.to_be_bytes());
        out.extend_from_slice(&r.class.to_be_bytes());
        out.extend_from_slice(&r.ttl.to_be_bytes());
        out.extend_from_slice(&(r.data.len() as u16).to_be_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..8)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dns_reply_arbitrary(q in 0usize..4, b in prop::collection::vec(any::<u8>(), 0..1500)) {
        dns_target(&asked()[q], &b);
    }

    /// The reply's own header kept (so that it matches the question), the rest mutated.
    #[test]
    fn dns_reply_mutated(
        q in 0usize..4,
        r in 0usize..4,
        e in prop::collection::vec(edit(), 1..4),
        keep_header in any::<bool>(),
    ) {
        let a = &asked()[q];
        let wire = a.replies[r].clone();
        let mut out = apply(wire.clone(), &e);
        if keep_header && out.len() >= 2 {
            out[..2].copy_from_slice(&wire[..2]);
        }
        dns_target(a, &out);
    }

    /// A reply that matches the question, its records well framed but of any type, with
    /// any data: what reaches hickory's record decoders and ward's reading of them.
    #[test]
    fn dns_reply_arbitrary_records(
        q in 0usize..4,
        rcode in prop_oneof![Just(0u8), Just(3), 0u8..16],
        records in prop::collection::vec(raw_record(), 0..6),
    ) {
        let a = &asked()[q];
        dns_target(a, &framed(a, rcode, &records));
    }

    #[test]
    fn http_response_arbitrary(b in prop::collection::vec(any::<u8>(), 0..2048), head_only in any::<bool>()) {
        http_target(&b, head_only);
        let mut prefixed = b"HTTP/1.1 200 OK\r\n".to_vec();
        prefixed.extend_from_slice(&b);
        http_target(&prefixed, head_only);
    }

    #[test]
    fn http_response_mutated(s in prop::sample::select(HTTP), e in edits(), head_only in any::<bool>()) {
        http_target(&apply(s.as_bytes().to_vec(), &e), head_only);
    }
}

#[test]
fn samples_are_valid() {
    for a in asked() {
        let Ok(Some(reply)) = dns::decode_reply(&a.question, &a.replies[0]) else {
            panic!("sample does not decode");
        };
        let outcome = dns::interpret(&reply, &a.name, a.qtype);
        assert!(matches!(outcome, DnsOutcome::Answer { .. }), "{outcome:?}");
        assert!(matches!(
            dns::interpret(
                &Message::from_vec(&a.replies[2]).expect("nx"),
                &a.name,
                a.qtype
            ),
            DnsOutcome::NxDomain { .. }
        ));
    }
    let txt = dns::decode_reply(&asked()[0].question, &asked()[0].replies[0]);
    let Ok(Some(txt)) = txt else {
        panic!("{txt:?}")
    };
    let DnsOutcome::Answer { records, .. } =
        dns::interpret(&txt, &asked()[0].name, RecordType::TXT)
    else {
        panic!("no answer");
    };
    assert_eq!(records[0].data, "v=spf1 include:_spf.example.net -all");
    for s in HTTP {
        assert!(
            read_http(s.as_bytes(), HEAD_LIMIT, BODY_LIMIT, false).is_ok(),
            "{s}"
        );
    }
}

#[test]
fn every_prefix_of_every_sample() {
    for a in asked() {
        for r in &a.replies {
            for cut in 0..r.len() {
                dns_target(a, &r[..cut]);
            }
        }
    }
    for s in HTTP {
        for cut in 0..s.len() {
            http_target(&s.as_bytes()[..cut], false);
        }
    }
}

#[test]
fn compression_pointer_loops_are_refused() {
    // An answer whose owner name points at itself, and two names pointing at each other.
    let a = &asked()[0];
    let wire = &a.replies[0];
    let question_end = 12 + a.name.len() + 1 + 4;
    for ptr in [question_end as u16, 12, 0x3fff] {
        let mut bad = wire.clone();
        bad[question_end..question_end + 2].copy_from_slice(&(0xc000 | ptr).to_be_bytes());
        dns_target(a, &bad);
    }
}
