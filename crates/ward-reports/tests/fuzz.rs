//! Property tests: no input makes a parser panic, and what comes out is
//! bounded by what went in (or by the limits, for compressed input).

use std::io::Write;

use proptest::prelude::*;
use ward_reports::aggregate::parse_aggregate;
use ward_reports::failure::{header_fields, parse_feedback_fields};
use ward_reports::tlsrpt::{parse_tls_report, rfc3339_to_epoch};
use ward_reports::unpack::{split_mbox, unpack_all};
use ward_reports::{Limits, Reason};

/// Small limits so that every property run is cheap and bounded.
fn small() -> Limits {
    Limits {
        max_decompressed_bytes: 1 << 20,
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
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

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
