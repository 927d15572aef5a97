//! Fuzzing by property (no nightly, so proptest rather than cargo-fuzz): no input makes a
//! report parser panic or hang, what comes out is bounded by what went in (or by the
//! limits, for compressed input), refusals read as sentences, and what is accepted
//! survives the JSON round trip and encodes into the store's rows.
//!
//! Targets: arbitrary bytes (bare and behind each container's magic), token soups, and
//! mutations of valid samples of every format (aggregate XML and JSON, TLS-RPT, an ARF
//! failure report, MIME, mbox, gzip, zlib, zip), mutated both as bytes and inside their
//! compression. The shared corpus (`$WARD_CORPUS`, default `../shared/corpus`) adds its
//! files as samples when present.
//!
//! `WARD_FUZZ_CASES` (or proptest's own `PROPTEST_CASES`) sets the cases per property;
//! the long runs and what they found: docs/fuzzing.md.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use ward_reports::aggregate::{
    Chunk, parse_aggregate, parse_aggregate_bytes, parse_aggregate_chunked,
};
use ward_reports::failure::{header_fields, parse_feedback_fields};
use ward_reports::json::parse_json_reports;
use ward_reports::tlsrpt::{parse_tls_report, rfc3339_to_epoch};
use ward_reports::unpack::{split_mbox, unpack_all};
use ward_reports::{Limits, Reason, Unpacked};

#[path = "../../../fuzz/support.rs"]
mod support;
use support::{Clock, config};

/// Small limits so that every property run is cheap and bounded.
fn small() -> Limits {
    Limits {
        max_decompressed_bytes: 256 << 10,
        max_compression_ratio: 200,
        max_zip_members: 4,
        max_nesting: 4,
        max_xml_depth: 16,
        max_text_bytes: 64 * 1024,
        max_input_bytes: 1 << 20,
    }
}

/// Output may not grow faster than input: at most 64 bytes of JSON per input
/// byte (or per byte allowed by the decompression cap), plus a constant.
fn assert_bounded(
    input_len: usize,
    results: &[Result<ward_reports::Unpacked, ward_reports::Error>],
) {
    let budget = 64 * input_len.max(small().max_decompressed_bytes as usize) + 4096;
    let out: usize = results
        .iter()
        .map(|r| match r {
            Ok(u) => serde_json::to_vec(u).map(|v| v.len()).unwrap_or(0),
            Err(e) => e.to_string().len(),
        })
        .sum();
    assert!(out <= budget, "{out} bytes out of {input_len} in");
}

const TOKENS: &[&str] = &[
    "<feedback>",
    "</feedback>",
    "<report_metadata>",
    "</report_metadata>",
    "<org_name>",
    "</org_name>",
    "<report_id>",
    "</report_id>",
    "<date_range>",
    "</date_range>",
    "<begin>",
    "</begin>",
    "<end>",
    "</end>",
    "<policy_published>",
    "</policy_published>",
    "<domain>",
    "</domain>",
    "<p>",
    "</p>",
    "<pct>",
    "</pct>",
    "<testing>",
    "</testing>",
    "<record>",
    "</record>",
    "<row>",
    "</row>",
    "<source_ip>",
    "</source_ip>",
    "<count>",
    "</count>",
    "<policy_evaluated>",
    "</policy_evaluated>",
    "<reason>",
    "</reason>",
    "<type>",
    "</type>",
    "<auth_results>",
    "</auth_results>",
    "<dkim>",
    "</dkim>",
    "<spf>",
    "</spf>",
    "<result>",
    "</result>",
    "<extensions>",
    "<extension name=\"a\" definition=\"b\">",
    "</extension>",
    "</extensions>",
    "<x:schema>",
    "</x:schema>",
    "<unknown/>",
    "192.0.2.1",
    "::1",
    "999.1.1.1",
    "1",
    "-1",
    "18446744073709551616",
    "PASS",
    "reject",
    "y",
    "n",
    "&amp;",
    "&#65;",
    "&#x0;",
    "&xxe;",
    "<![CDATA[c]]>",
    "<!-- c -->",
    "<!DOCTYPE f>",
    "<?xml version=\"1.0\"?>",
    "\u{feff}",
    " ",
    "\n",
    "\u{00e9}",
    "<",
    ">",
    "&",
    "\"",
    "/",
];

fn xmlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..200).prop_map(|v| v.concat())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unpack_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let got = unpack_all("fuzz", &bytes, &small());
        assert_bounded(bytes.len(), &got);
    }

    #[test]
    fn unpack_never_panics_on_magic_prefixed_bytes(
        magic in prop::sample::select(vec![
            &b"\x1f\x8b\x08"[..], b"PK\x03\x04", b"PK\x05\x06", b"\x78\x9c", b"From x\n", b"Subject: r\n\n",
            b"<feedback>", b"{", b"\xef\xbb\xbf<",
        ]),
        rest in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&rest);
        let got = unpack_all("fuzz", &bytes, &small());
        assert_bounded(bytes.len(), &got);
    }

    #[test]
    fn aggregate_parser_never_panics_on_xmlish_text(xml in xmlish()) {
        let _ = parse_aggregate(xml.as_bytes(), &small());
        let got = unpack_all("fuzz.xml.gz", &gzip(xml.as_bytes()), &small());
        assert_bounded(xml.len(), &got);
    }

    #[test]
    fn aggregate_parser_never_panics_on_arbitrary_text(s in "\\PC*") {
        let _ = parse_aggregate(s.as_bytes(), &small());
    }

    #[test]
    fn tls_parser_never_panics(s in "[{}\\[\\]\":,a-z0-9 -]{0,300}") {
        let _ = parse_tls_report(s.as_bytes());
        let _ = rfc3339_to_epoch(&s);
    }

    #[test]
    fn feedback_parser_never_panics(s in "\\PC{0,400}") {
        let _ = parse_feedback_fields(&s, None);
        let _ = header_fields(&s);
        let _ = split_mbox(s.as_bytes()).count();
        ward_reports::unpack::unpack_mbox("fuzz", s.as_bytes(), &small(), &mut |_| {});
    }

    #[test]
    fn deep_xml_is_refused_not_overflowed(depth in 17usize..2000) {
        let xml = "<feedback>".to_owned() + &"<a>".repeat(depth);
        let r = parse_aggregate(xml.as_bytes(), &small());
        prop_assert!(matches!(r, Err(Reason::LimitExceeded { .. })), "{:?}", r);
    }
}

#[test]
fn deeply_nested_json_is_refused_not_overflowed() {
    let json = "[".repeat(100_000);
    let got = unpack_all("deep.json", format!("{{\"a\":{json}").as_bytes(), &small());
    assert!(
        matches!(got.as_slice(), [Err(e)] if matches!(e.reason, Reason::Json { .. })),
        "{got:?}"
    );
}

#[test]
fn deeply_nested_messages_stop_at_the_nesting_cap() {
    let mut msg = b"Subject: leaf\r\nContent-Type: application/xml\r\n\r\n<feedback/>\r\n".to_vec();
    for i in 0..200 {
        let mut outer =
            format!("Subject: n{i}\r\nContent-Type: message/rfc822\r\n\r\n").into_bytes();
        outer.extend_from_slice(&msg);
        msg = outer;
    }
    let got = unpack_all("nested.eml", &msg, &small());
    assert!(!got.is_empty());
    assert!(
        matches!(got.as_slice(), [Err(e)] if matches!(e.reason, Reason::LimitExceeded { kind: ward_reports::LimitKind::Nesting, .. })),
        "{got:?}"
    );
}

// --- mutations of valid samples ------------------------------------------------------

/// Decompression is bounded by `small()`: half a second plus 20 µs a byte of whichever
/// is larger, the input or what it may expand to, is far above any run of these linear
/// readers in a debug build and far below a quadratic walk or a loop.
fn budget(len: usize) -> Duration {
    let work = len.max(small().max_decompressed_bytes as usize);
    Duration::from_millis(500) + Duration::from_micros(20) * work as u32
}

/// A refusal a person can act on: some words, and no larger than the input it quotes
/// plus a sentence. Quoted bytes may hold control characters: `ward reports` escapes
/// every refusal for the terminal where it prints it (`ward_advice::terminal_safe`).
fn readable(input: &[u8], msg: &str) {
    assert!(
        msg.chars().any(char::is_alphanumeric),
        "empty error {msg:?}"
    );
    assert!(
        msg.len() <= 1024 + 10 * input.len(),
        "{}-byte error for {} bytes of input",
        msg.len(),
        input.len()
    );
}

/// Every property of one input through the whole unpacker.
fn unpack_target(name: &str, bytes: &[u8]) {
    let start = Clock::start();
    let got = unpack_all(name, bytes, &small());
    let took = start.took();
    assert!(
        took < budget(bytes.len()),
        "{name}: {took:?} for {} bytes",
        bytes.len()
    );
    assert_bounded(bytes.len(), &got);
    for r in &got {
        match r {
            Ok(u) => {
                let json = serde_json::to_string(u);
                assert!(json.is_ok(), "{name}: {json:?}");
                let back: Result<Unpacked, _> =
                    serde_json::from_str(&json.unwrap_or_else(|_| unreachable!()));
                assert_eq!(back.as_ref().ok(), Some(u), "{name}: {back:?}");
                // The rows encoder's contract: the parser's output always encodes.
                let rows = ward_reports::rows::encode(u);
                assert!(rows.is_ok(), "{name}: {:?}", rows.err());
            }
            Err(e) => readable(bytes, &e.to_string()),
        }
    }
}

/// The document parsers on their own, without the unpacker in front.
fn document_target(bytes: &[u8]) {
    let start = Clock::start();
    if let Err(r) = parse_aggregate_bytes(bytes, &small()) {
        readable(bytes, &r.to_string());
    }
    for r in parse_json_reports(bytes, &small()) {
        if let Err(r) = r {
            readable(bytes, &r.to_string());
        }
    }
    if let Err(r) = parse_tls_report(bytes) {
        readable(bytes, &r.to_string());
    }
    let text = String::from_utf8_lossy(bytes);
    if let Err(r) = parse_feedback_fields(&text, None) {
        readable(bytes, &r.to_string());
    }
    let _ = header_fields(&text);
    let took = start.took();
    assert!(
        took < budget(bytes.len()),
        "{took:?} for {} bytes",
        bytes.len()
    );
}

fn agg_xml() -> String {
    let record = |ip: &str| {
        format!(
            "<record><row><source_ip>{ip}</source_ip><count>2</count><policy_evaluated>\
<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf><reason><type>forwarded</type>\
<comment>c</comment></reason></policy_evaluated></row><identifiers><header_from>example.com</header_from>\
</identifiers><auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result>\
</dkim><spf><domain>example.com</domain><result>fail</result></spf></auth_results></record>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><version>1.0</version><report_metadata>\
<org_name>Reporter</org_name><email>d@r.example</email><report_id>id-1</report_id><date_range>\
<begin>100</begin><end>200</end></date_range></report_metadata><policy_published><domain>example.com\
</domain><adkim>r</adkim><aspf>r</aspf><p>reject</p><sp>none</sp><pct>100</pct></policy_published>\
{}{}</feedback>\n",
        record("192.0.2.1"),
        record("2001:db8::1")
    )
}

const AGG_JSON: &str = r#"{"feedback":{"report_metadata":{"org_name":"Reporter","email":"d@r.example",
"report_id":"id-1","date_range":{"begin":100,"end":200}},"policy_published":{"domain":"example.com",
"p":"reject"},"record":[{"row":{"source_ip":"192.0.2.1","count":2,"policy_evaluated":{"disposition":
"none","dkim":"pass","spf":"fail"}},"identifiers":{"header_from":"example.com"},"auth_results":{"spf":
{"domain":"example.com","result":"fail"}}}]}}"#;

const TLS: &str = r#"{"organization-name":"Org","date-range":{"start-datetime":"2024-01-01T00:00:00Z",
"end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"tls@org.example","report-id":"r-1","policies":
[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce"],"mx-host":
["*.mx.example"],"policy-domain":"example.com"},"summary":{"total-successful-session-count":3,
"total-failure-session-count":2},"failure-details":[{"result-type":"certificate-expired",
"sending-mta-ip":"192.0.2.9","receiving-mx-hostname":"mx.example.com","failed-session-count":2}]}]}"#;

const ARF: &str = "From: <dmarc@r.example>\r\nTo: <ruf@example.com>\r\nSubject: DMARC failure\r\n\
Date: Thu, 8 Mar 2025 17:40:36 +0000\r\nMessage-ID: <f1@r.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report;\r\n boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: text/plain; charset=\"US-ASCII\"\r\n\r\nA message claiming to be from you failed DMARC.\r\n\
--b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\nVersion: 1\r\n\
User-Agent: X/1\r\nAuth-Failure: dmarc\r\nAuthentication-Results: mx.r.example; dmarc=fail \
header.from=example.com\r\nSource-IP: 192.0.2.5\r\nReported-Domain: example.com\r\n\
Original-Mail-From: <a@example.com>\r\nArrival-Date: Thu, 8 Mar 2025 17:40:00 +0000\r\n\r\n--b1\r\n\
Content-Type: text/rfc822-headers\r\n\r\nFrom: <a@example.com>\r\nSubject: hi\r\n\r\n--b1--\r\n";

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let _ = z.start_file(name, opts);
    let _ = z.write_all(data);
    z.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn mime(body: &[u8]) -> Vec<u8> {
    use base64_engine::encode;
    format!(
        "From: dmarc@r.example\r\nTo: rua@example.com\r\nSubject: Report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n\
--b\r\nContent-Type: application/gzip\r\nContent-Disposition: attachment; filename=\"r.xml.gz\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        encode(body)
    )
    .into_bytes()
}

/// A small base64 writer, wrapped at 76 columns as mailers do.
mod base64_engine {
    pub fn encode(data: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, c) in data.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                out.push_str("\r\n");
            }
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                out.push(if k <= c.len() {
                    T[((n >> (18 - 6 * k)) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }
}

/// The documents, before any container.
fn documents() -> &'static [(String, Vec<u8>)] {
    static DOCS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut docs = vec![
            ("r.xml".to_owned(), agg_xml().into_bytes()),
            ("r.json".to_owned(), AGG_JSON.as_bytes().to_vec()),
            ("t.json".to_owned(), TLS.as_bytes().to_vec()),
            ("f.eml".to_owned(), ARF.as_bytes().to_vec()),
        ];
        docs.extend(corpus_samples());
        docs
    })
}

/// Files of the shared corpus, when it is there: real reports from many reporters.
fn corpus_samples() -> Vec<(String, Vec<u8>)> {
    let root = std::env::var_os("WARD_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    );
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = ["dmarc-aggregate", "dmarc-failure", "smtp-tls-rpt"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                // Mail-auth's expected-output JSON files are not reports.
                let expected = path.extension().is_some_and(|x| x == "json")
                    && path.with_extension("eml").exists();
                if !expected && bytes.len() <= 64 * 1024 {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    out.push((name.unwrap_or_default(), bytes));
                }
            }
        }
    }
    out.sort();
    out
}

/// How a document travels: as itself, or inside one of the containers.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    Bare,
    Gzip,
    Zlib,
    Zip,
    Mime,
    Mbox,
}

fn wrap(w: Wrap, name: &str, doc: &[u8]) -> (String, Vec<u8>) {
    match w {
        Wrap::Bare => (name.to_owned(), doc.to_vec()),
        Wrap::Gzip => (format!("{name}.gz"), gzip(doc)),
        Wrap::Zlib => (format!("{name}.z"), zlib(doc)),
        Wrap::Zip => (format!("{name}.zip"), zip(name, doc)),
        Wrap::Mime => ("m.eml".to_owned(), mime(&gzip(doc))),
        Wrap::Mbox => {
            let msg = mime(&gzip(doc));
            let mut b = b"From a@r.example Thu Mar  8 17:40:36 2025\n".to_vec();
            b.extend_from_slice(&msg);
            b.extend_from_slice(b"\nFrom b@r.example Thu Mar  8 17:40:37 2025\n");
            b.extend_from_slice(&msg);
            ("m.mbox".to_owned(), b)
        }
    }
}

fn wrapping() -> impl Strategy<Value = Wrap> {
    prop::sample::select(vec![
        Wrap::Bare,
        Wrap::Gzip,
        Wrap::Zlib,
        Wrap::Zip,
        Wrap::Mime,
        Wrap::Mbox,
    ])
}

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
        (any::<usize>(), prop::sample::select(TOKENS))
            .prop_map(|(a, t)| Edit::Insert(a, t.as_bytes().to_vec())),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..400, 1usize..64).prop_map(|(a, n, t)| Edit::Repeat(a, n, t)),
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

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..8)
}

fn document() -> impl Strategy<Value = usize> {
    0..documents().len()
}

/// The aggregate XML documents among the samples.
fn aggregate_xml() -> &'static [Vec<u8>] {
    static XML: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    XML.get_or_init(|| {
        documents()
            .iter()
            .filter(|(_, d)| ward_reports::unpack::detect(d) == ward_reports::unpack::Format::Xml)
            .map(|(_, d)| d.clone())
            .collect()
    })
}

/// The streaming reader, which the unpacker uses only for reports too large to hold
/// whole (so the other targets never reach it), must read what the whole-document reader
/// reads: the same report once its chunks are put together, or a refusal of the same
/// kind. Otherwise a report would mean something else once it grew past the threshold.
fn chunked_target(doc: &[u8], size: usize) {
    let start = Clock::start();
    let whole = parse_aggregate_bytes(doc, &small());
    let mut got: Option<ward_reports::AggregateReport> = None;
    let mut ended = false;
    let chunked = parse_aggregate_chunked(doc, &small(), size, &mut |c| {
        match c {
            Chunk::Start(r) => {
                assert!(got.is_none(), "a second Start");
                assert!(
                    r.records.len() <= size.max(1),
                    "{} records",
                    r.records.len()
                );
                got = Some(r.clone());
            }
            Chunk::More { records, first } => {
                assert!(!ended, "More after End");
                assert!(!records.is_empty() && records.len() <= size.max(1));
                let r = got.as_mut().expect("More after Start");
                assert_eq!(first, r.records.len());
                r.records.extend_from_slice(records);
            }
            Chunk::End(h) => {
                assert!(h.records.is_empty(), "End with records");
                let r = got.as_mut().expect("End after Start");
                r.extensions = h.extensions.clone();
                ended = true;
            }
        }
        true
    });
    let took = start.took();
    assert!(took < budget(doc.len()), "{took:?} for {} bytes", doc.len());
    match (&whole, &chunked) {
        (Ok(w), Ok(true)) => {
            assert!(ended, "no End");
            assert_eq!(Some(w), got.as_ref(), "chunk {size}");
        }
        (Err(a), Err(b)) => {
            readable(doc, &b.to_string());
            assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "{a} / {b}"
            );
        }
        (w, c) => panic!("chunk {size}: whole {w:?}, chunked {c:?}"),
    }
}

proptest! {
    #![proptest_config(config())]

    /// The document is mutated, then packed: the container is whole, its content not.
    #[test]
    fn mutated_documents_in_every_container(d in document(), e in edits(), w in wrapping()) {
        let (name, doc) = &documents()[d];
        let doc = apply(doc.clone(), &e);
        let (name, bytes) = wrap(w, name, &doc);
        unpack_target(&name, &bytes);
        document_target(&doc);
    }

    /// The packed bytes are mutated: headers, lengths, checksums and boundaries break.
    #[test]
    fn mutated_containers(d in document(), e in edits(), w in wrapping()) {
        let (name, doc) = &documents()[d];
        let (name, bytes) = wrap(w, name, doc);
        unpack_target(&name, &apply(bytes, &e));
    }

    /// Mutated aggregate XML through the streaming reader and the whole-document reader.
    #[test]
    fn chunked_aggregate_agrees_with_whole(
        d in 0..aggregate_xml().len(), e in edits(), size in 1usize..5,
    ) {
        chunked_target(&apply(aggregate_xml()[d].clone(), &e), size);
    }

    /// A container inside a container, each level mutated.
    #[test]
    fn mutated_nested_containers(
        d in document(), e1 in edits(), e2 in edits(), inner in wrapping(), outer in wrapping(),
    ) {
        let (name, doc) = &documents()[d];
        let (name, bytes) = wrap(inner, name, doc);
        let (name, bytes) = wrap(outer, &name, &apply(bytes, &e1));
        unpack_target(&name, &apply(bytes, &e2));
    }
}

#[test]
fn samples_are_valid() {
    // Mutations start from inputs that parse, so that they reach past the first check.
    for (name, doc) in documents() {
        for w in [
            Wrap::Bare,
            Wrap::Gzip,
            Wrap::Zlib,
            Wrap::Zip,
            Wrap::Mime,
            Wrap::Mbox,
        ] {
            let (n, bytes) = wrap(w, name, doc);
            let got = unpack_all(&n, &bytes, &small());
            // Corpus files include ones refused on purpose (tests/corpus.rs lists them).
            if documents().iter().take(4).any(|(m, _)| m == name) {
                assert!(
                    !got.is_empty() && got.iter().all(Result::is_ok),
                    "{n}: {got:?}"
                );
            }
            unpack_target(&n, &bytes);
        }
    }
}

#[test]
fn every_prefix_of_every_sample_and_container() {
    for (name, doc) in documents().iter().take(4) {
        for w in [Wrap::Bare, Wrap::Gzip, Wrap::Zip, Wrap::Mime] {
            let (n, bytes) = wrap(w, name, doc);
            for cut in 0..bytes.len() {
                unpack_target(&n, &bytes[..cut]);
            }
        }
    }
}

#[test]
fn nested_gzip_stops_at_the_nesting_cap() {
    let mut bytes = agg_xml().into_bytes();
    for _ in 0..40 {
        bytes = gzip(&bytes);
    }
    unpack_target("deep.gz", &bytes);
    let got = unpack_all("deep.gz", &bytes, &small());
    assert!(
        matches!(got.as_slice(), [Err(e)] if matches!(e.reason, Reason::LimitExceeded { .. })),
        "{got:?}"
    );
}
