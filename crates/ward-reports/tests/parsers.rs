//! Parser behaviour on hand-made inputs: lenient where reporters are sloppy,
//! precise in what is refused.

use std::io::Write;

use ward_reports::aggregate::{AggregateReport, parse_aggregate};
use ward_reports::enums::{
    AuthFailure, DiscoveryMethod, Disposition, DkimResult, DmarcResult, FeedbackType,
    PolicyOverride, PolicyType, SpfResult,
};
use ward_reports::failure::parse_feedback_fields;
use ward_reports::tlsrpt::parse_tls_report;
use ward_reports::unpack::{split_mbox, unpack_all, walk_maildir};
use ward_reports::{Limits, Reason, Report, Unpacked};

fn agg(xml: &str) -> Result<AggregateReport, Reason> {
    parse_aggregate(xml.as_bytes(), &Limits::default())
}

fn one(name: &str, bytes: &[u8]) -> Unpacked {
    let got = unpack_all(name, bytes, &Limits::default());
    assert_eq!(got.len(), 1, "{got:?}");
    match got.into_iter().next() {
        Some(Ok(u)) => u,
        other => panic!("{other:?}"),
    }
}

fn one_err(name: &str, bytes: &[u8]) -> Reason {
    let got = unpack_all(name, bytes, &Limits::default());
    assert_eq!(got.len(), 1, "{got:?}");
    match got.into_iter().next() {
        Some(Err(e)) => {
            assert_eq!(e.input, name);
            e.reason
        }
        other => panic!("{other:?}"),
    }
}

const META: &str = "<report_metadata><org_name>Reporter</org_name><email>d@r.example</email>\
<report_id>id-1</report_id><date_range><begin>100</begin><end>200</end></date_range></report_metadata>";

fn report(policy: &str, records: &str) -> String {
    format!(
        "<feedback>{META}<policy_published><domain>example.com</domain>{policy}</policy_published>{records}</feedback>"
    )
}

const RECORD: &str = "<record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated>\
<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>\
<identifiers><header_from>example.com</header_from></identifiers><auth_results><spf><domain>example.com</domain>\
<result>fail</result></spf></auth_results></record>";

#[test]
fn bom_whitespace_and_upper_case_keywords_are_accepted() {
    let xml = format!(
        "\u{feff}\n  <?xml version=\"1.0\"?>\n<feedback>\n {META}<policy_published><domain> example.com </domain>\
<p> REJECT </p><adkim>S</adkim></policy_published><record><row><source_ip> 2001:db8::1 </source_ip>\
<count> 7 </count><policy_evaluated><disposition>Quarantine</disposition><dkim>PASS</dkim><spf>Fail</spf>\
</policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers><auth_results>\
<dkim><domain>example.com</domain><selector>s1</selector><result>PermError</result></dkim>\
<spf><domain>example.com</domain><result>SOFTFAIL</result></spf></auth_results></record></feedback>\n"
    );
    let u = one("bom.xml", xml.as_bytes());
    let Report::Aggregate(a) = u.report else {
        panic!()
    };
    assert_eq!(a.policy_published.domain, "example.com");
    assert_eq!(a.policy_published.p, Some(Disposition::Reject));
    let r = &a.records[0];
    assert_eq!(r.row.count, 7);
    assert_eq!(r.row.source_ip.to_string(), "2001:db8::1");
    assert_eq!(
        r.row.policy_evaluated.disposition,
        Some(Disposition::Quarantine)
    );
    assert_eq!(r.row.policy_evaluated.dkim, Some(DmarcResult::Pass));
    assert_eq!(r.auth_results.dkim[0].result, DkimResult::PermError);
    assert_eq!(r.auth_results.spf[0].result, SpfResult::SoftFail);
}

#[test]
fn unknown_elements_are_skipped_wherever_they_are() {
    let xml = report(
        "<p>none</p><future_tag><p>reject</p></future_tag>",
        &format!("<unknown>{RECORD}</unknown>{RECORD}<record_extra/>"),
    );
    let a = agg(&xml).expect("parses");
    assert_eq!(
        a.policy_published.p,
        Some(Disposition::None),
        "a nested <p> is not the policy"
    );
    assert_eq!(
        a.records.len(),
        1,
        "a <record> inside an unknown element is not a record"
    );
}

#[test]
fn missing_optional_fields_are_none() {
    let a = agg(&report("", RECORD)).expect("parses");
    assert_eq!(a.version, None);
    assert_eq!(a.policy_published.p, None);
    assert_eq!(a.policy_published.pct, None);
    assert_eq!(a.records[0].identifiers.envelope_from, None);
    assert!(!a.is_rfc9990());
}

#[test]
fn rfc9990_shape_with_namespace_prefix() {
    let xml = r#"<d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0"><d:version>1.0</d:version>
<d:report_metadata><d:org_name>R</d:org_name><d:report_id>x</d:report_id>
<d:date_range><d:begin>1</d:begin><d:end>2</d:end></d:date_range><d:generator>gen 1.2</d:generator></d:report_metadata>
<d:policy_published><d:domain>example.com</d:domain><d:p>reject</d:p><d:np>quarantine</d:np>
<d:testing>y</d:testing><d:discovery_method>psl</d:discovery_method></d:policy_published>
<d:record><d:row><d:source_ip>192.0.2.9</d:source_ip><d:count>1</d:count><d:policy_evaluated>
<d:disposition>pass</d:disposition><d:reason><d:type>policy_test_mode</d:type></d:reason></d:policy_evaluated></d:row>
<d:identifiers><d:header_from>example.com</d:header_from></d:identifiers>
<d:auth_results><d:spf><d:domain>example.com</d:domain><d:result>pass</d:result><d:human_result lang="en">ok</d:human_result></d:spf></d:auth_results>
</d:record></d:feedback>"#;
    let a = agg(xml).expect("parses");
    assert!(a.is_rfc9990());
    assert_eq!(a.report_metadata.generator.as_deref(), Some("gen 1.2"));
    assert_eq!(a.policy_published.np, Some(Disposition::Quarantine));
    assert_eq!(a.policy_published.testing, Some(true));
    assert_eq!(
        a.policy_published.discovery_method,
        Some(DiscoveryMethod::Psl)
    );
    let pe = &a.records[0].row.policy_evaluated;
    assert_eq!(pe.disposition, Some(Disposition::Pass));
    assert_eq!(pe.reasons[0].kind, Some(PolicyOverride::PolicyTestMode));
    assert_eq!(
        a.records[0].auth_results.spf[0].human_result.as_deref(),
        Some("ok")
    );
}

#[test]
fn references_cdata_and_comments() {
    let xml = String::from(
        "<feedback><!-- c --><report_metadata><org_name>A&amp;B &#x41;&#66;</org_name><email><![CDATA[a<b@x]]></email>\
<extra_contact_info> &lt; &gt; </extra_contact_info>\
<report_id>1</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>\
<policy_published><domain>example.com</domain></policy_published></feedback>",
    );
    let a = agg(&xml).expect("parses");
    assert_eq!(a.report_metadata.org_name, "A&B AB");
    // Whitespace between two references is text; only the ends of a value are trimmed.
    assert_eq!(a.report_metadata.extra_contact_info.as_deref(), Some("< >"));
    assert_eq!(a.report_metadata.email.as_deref(), Some("a<b@x"));
}

#[test]
fn empty_org_name_falls_back_to_the_contact_domain() {
    let xml = report("", "").replace("<org_name>Reporter</org_name>", "<org_name></org_name>");
    let a = agg(&xml).expect("parses");
    assert_eq!(a.report_metadata.org_name, "r.example");
}

#[test]
fn xsd_wrapper_around_the_report_is_looked_through() {
    let xml = format!(
        "<?xml version=\"1.0\"?> <xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">{}",
        report("", RECORD)
    );
    assert_eq!(agg(&xml).expect("parses").records.len(), 1);
}

#[test]
fn errors_give_line_and_byte() {
    let xml = "<feedback>\n<report_metadata>\n<org_name>a</org_name>\n<email>x</mail>\n";
    match agg(xml) {
        Err(Reason::Xml { at, .. }) => assert_eq!((at.line, at.byte), (4, 60)),
        other => panic!("{other:?}"),
    }
    let xml = report("", "").replace("<begin>100</begin>", "\n\n<begin>x</begin>");
    match agg(&xml) {
        Err(Reason::InvalidValue { at, .. }) => assert_eq!(at.line, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn doctype_is_refused() {
    let xml = format!("<!DOCTYPE feedback [<!ENTITY x \"y\">]>{}", report("", ""));
    assert!(
        matches!(agg(&xml), Err(Reason::Doctype { .. })),
        "{:?}",
        agg(&xml)
    );
}

#[test]
fn unknown_entity_is_refused_not_expanded() {
    let xml = report("", "").replace("Reporter", "&xxe;");
    match agg(&xml) {
        Err(Reason::Entity { name, .. }) => assert_eq!(name, "xxe"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_required_elements_are_named() {
    let xml = report("", "").replace("<report_id>id-1</report_id>", "");
    assert_eq!(
        agg(&xml),
        Err(Reason::MissingElement {
            path: "report_metadata/report_id".into()
        })
    );
    let xml = report("", &RECORD.replace("<count>2</count>", ""));
    assert_eq!(
        agg(&xml),
        Err(Reason::MissingElement {
            path: "record[1]/row/count".into()
        })
    );
}

#[test]
fn invalid_values_are_named_with_position() {
    let xml = report("", &RECORD.replace("192.0.2.1", "300.1.1.1"));
    match agg(&xml) {
        Err(Reason::InvalidValue { path, value, at }) => {
            assert_eq!(path, "record/row/source_ip");
            assert_eq!(value, "300.1.1.1");
            assert_eq!(at.line, 1);
            assert_eq!(&xml[at.byte as usize..][..12], "</source_ip>");
        }
        other => panic!("{other:?}"),
    }
    let xml = report("<pct>150</pct>", "");
    assert!(
        matches!(agg(&xml), Err(Reason::InvalidValue { path, .. }) if path == "policy_published/pct")
    );
    let xml = report("", "").replace("<begin>100</begin>", "<begin>-5</begin>");
    assert!(
        matches!(agg(&xml), Err(Reason::InvalidValue { path, .. }) if path == "report_metadata/date_range/begin")
    );
}

#[test]
fn wrong_root_and_truncation_are_refused() {
    assert_eq!(
        agg("<html></html>"),
        Err(Reason::NotFeedback {
            root: "html".into()
        })
    );
    let full = report("", RECORD);
    for cut in [10, full.len() / 2, full.len() - 3] {
        let r = agg(&full[..cut]);
        assert!(r.is_err(), "cut at {cut} parsed: {r:?}");
    }
}

const TLS: &str = r#"{"organization-name":"Org","date-range":{"start-datetime":"2024-01-01T00:00:00Z",
"end-datetime":"2024-01-01T23:59:59Z"},"report-id":"r-1","future-field":1,"policies":[{"policy":
{"policy-type":"STS","mx-host":"*.mx.example","policy-domain":"example.com"},"summary":
{"total-successful-session-count":3},"failure-details":[{"result-type":"certificate-expired",
"failed-session-count":2},{"result-type":"something-new","failed-session-count":1}]}]}"#;

#[test]
fn tls_report_is_read_leniently() {
    let t = parse_tls_report(format!("\u{feff}{TLS}").as_bytes()).expect("parses");
    assert_eq!(t.contact_info, None);
    let p = &t.policies[0];
    assert_eq!(p.policy.policy_type, PolicyType::Sts);
    assert_eq!(p.policy.mx_host, vec!["*.mx.example".to_owned()]);
    assert_eq!(p.summary.total_failure_session_count, 0);
    assert_eq!(p.failure_details[1].result_type.as_str(), "something-new");
    let key = Report::Tls(t).key();
    assert_eq!((key.begin, key.end), (1_704_067_200, 1_704_153_599));
}

#[test]
fn tls_report_syntax_error_has_line_and_column() {
    match parse_tls_report(&b"{\n \"organization-name\": \"x\",,\n}"[..]) {
        Err(Reason::Json { line, column, .. }) => assert_eq!((line, column), (2, 27)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_tls_report(&b"{}"[..]),
        Err(Reason::NotTlsReport { .. })
    ));
}

#[test]
fn feedback_fields_rfc9991() {
    let part = "Feedback-Type: auth-failure\r\nVersion: 1\r\nUser-Agent: X/1\r\n\
Auth-Failure: dmarc, spf (second)\r\nIdentity-Alignment: DKIM,\r\n spf\r\n\
Authentication-Results: mx.example;\r\n\tdkim=fail header.d=example.com\r\n\
Source-IP: 192.0.2.5\r\nReporting-MTA: dns; mx.example\r\nOriginal-Rcpt-To: <a@example.net>\r\n\
Original-Rcpt-To: <b@example.net>\r\nDelivery-Result: reject\r\nX-Vendor: kept\r\n";
    let f = parse_feedback_fields(part, None).expect("parses");
    assert_eq!(f.feedback_type, Some(FeedbackType::AuthFailure));
    assert_eq!(f.auth_failure, vec![AuthFailure::Dmarc, AuthFailure::Spf]);
    assert_eq!(
        f.identity_alignment,
        vec!["dkim".to_owned(), "spf".to_owned()]
    );
    assert_eq!(
        f.authentication_results,
        vec!["mx.example; dkim=fail header.d=example.com".to_owned()]
    );
    assert_eq!(f.reporting_mta.as_deref(), Some("mx.example"));
    assert_eq!(f.original_rcpt_to.len(), 2);
    assert_eq!(f.other_fields[0].name, "X-Vendor");
    // parsedmarc #332: a report without Feedback-Type is still read.
    let f = parse_feedback_fields("User-Agent: X\n", None).expect("parses");
    assert_eq!(f.feedback_type, None);
    assert_eq!(
        parse_feedback_fields("\n\n", None),
        Err(Reason::MissingField {
            field: "Feedback-Type"
        })
    );
    assert!(matches!(
        parse_feedback_fields("Version: 1\nSource-IP: not-an-ip\n", None),
        Err(Reason::InvalidValue { path, at, .. }) if path == "Source-IP" && at.line == 2
    ));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn message_with_attachment(ctype: &str, body: &[u8]) -> Vec<u8> {
    format!(
        "From: dmarc@r.example\r\nTo: rua@example.com\r\nSubject: Report\r\nMessage-ID: <m1@r.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
This is a DMARC report. <https://example.com>\r\n--b\r\nContent-Type: {ctype}\r\n\
Content-Disposition: attachment; filename=\"r.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64(body)
    )
    .into_bytes()
}

#[test]
fn message_attachment_is_found_by_content_not_by_type() {
    let xml = report("", RECORD);
    // Declared octet-stream, really gzip.
    let u = one(
        "m.eml",
        &message_with_attachment("application/octet-stream", &gzip(xml.as_bytes())),
    );
    assert_eq!(u.source, "m.eml/r.bin");
    assert!(matches!(u.report, Report::Aggregate(_)));
    // Same report plain, gzipped, in a message: one key.
    let k1 = one("r.xml", xml.as_bytes()).report.key();
    let k2 = one("r.xml.gz", &gzip(xml.as_bytes())).report.key();
    assert_eq!(k1, k2);
    assert_eq!(k1, u.report.key());
}

#[test]
fn message_without_report_is_refused_with_its_parts() {
    let msg = b"From: a@b.example\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<html><body>hi</body></html>\r\n";
    assert!(
        matches!(one_err("m.eml", msg), Reason::NoReportInMessage { parts } if parts == "text/html")
    );
}

#[test]
fn mbox_is_split_on_from_lines_after_blank_lines() {
    let xml = report("", RECORD);
    let m1 = message_with_attachment("application/gzip", &gzip(xml.as_bytes()));
    let m2 = message_with_attachment("application/xml", xml.as_bytes());
    let mut mbox = b"From dmarc@r.example Thu Jan  1 00:00:00 2026\n".to_vec();
    mbox.extend_from_slice(&m1);
    mbox.extend_from_slice(b"\nFrom dmarc@r.example Thu Jan  1 00:00:01 2026\n");
    mbox.extend_from_slice(&m2);
    assert_eq!(split_mbox(&mbox).count(), 2);
    let got = unpack_all("box.mbox", &mbox, &Limits::default());
    let sources: Vec<_> = got
        .iter()
        .map(|r| r.as_ref().map(|u| u.source.clone()))
        .collect();
    assert_eq!(
        sources,
        vec![
            Ok("box.mbox/#1/r.bin".to_owned()),
            Ok("box.mbox/#2/r.bin".to_owned())
        ]
    );
    // A "From " line inside a paragraph does not split.
    let text = b"From a\nSubject: x\n\nbody\nFrom here on, text\n";
    assert_eq!(split_mbox(text).count(), 1);
}

#[test]
fn maildir_cur_and_new_are_walked_and_tmp_is_not() {
    let dir = std::env::temp_dir().join(format!("ward-reports-maildir-{}", std::process::id()));
    let xml = report("", RECORD);
    for (sub, name) in [("cur", "1:2,S"), ("new", "2"), ("tmp", "3")] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        std::fs::write(
            dir.join(sub).join(name),
            message_with_attachment("application/zip", &gzip(xml.as_bytes())),
        )
        .expect("write");
    }
    let mut found = Vec::new();
    walk_maildir(&dir, &Limits::default(), &mut |r| found.push(r));
    std::fs::remove_dir_all(&dir).expect("cleanup");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(Result::is_ok));
}

#[test]
fn zip_members_that_are_not_reports_are_skipped() {
    let xml = report("", RECORD);
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("README.txt", opts).expect("zip");
    z.write_all(b"hello").expect("zip");
    z.start_file("r.xml", opts).expect("zip");
    z.write_all(xml.as_bytes()).expect("zip");
    let bytes = z.finish().expect("zip").into_inner();
    let u = one("r.zip", &bytes);
    assert_eq!(u.source, "r.zip/r.xml");
}

#[test]
fn reports_round_trip_through_json() {
    let u = one(
        "r.xml",
        report("<p>reject</p><testing>n</testing>", RECORD).as_bytes(),
    );
    let json = serde_json::to_string(&u).expect("ser");
    let back: Unpacked = serde_json::from_str(&json).expect("de");
    assert_eq!(back, u);
    let t = one("t.json", TLS.as_bytes());
    let back: Unpacked =
        serde_json::from_str(&serde_json::to_string(&t).expect("ser")).expect("de");
    assert_eq!(back, t);
}

#[test]
fn unrecognised_and_empty_inputs() {
    assert_eq!(one_err("e", b""), Reason::Empty);
    assert_eq!(one_err("e", b" \n\t"), Reason::Empty);
    assert_eq!(
        one_err("x", b"\x00\x01binary"),
        Reason::UnrecognisedContent {
            first_bytes: "000162696e617279".into()
        }
    );
    assert!(matches!(
        one_err("g.gz", &[0x1f, 0x8b, 8, 0, 0, 0]),
        Reason::Decompress { .. }
    ));
    assert!(matches!(
        one_err("z.zip", b"PK\x03\x04garbage"),
        Reason::Zip { .. }
    ));
}

#[test]
fn enums_keep_unknown_keywords() {
    assert_eq!(DkimResult::parse("Pass"), DkimResult::Pass);
    assert_eq!(
        DkimResult::parse("weird"),
        DkimResult::Unknown("weird".into())
    );
    assert_eq!(
        serde_json::to_string(&SpfResult::SoftFail).expect("ser"),
        "\"softfail\""
    );
    assert_eq!(
        serde_json::from_str::<SpfResult>("\"SOFTFAIL\"").expect("de"),
        SpfResult::SoftFail
    );
}

#[test]
fn mbox_stream_is_read_one_message_at_a_time() {
    let xml = report("", RECORD);
    let m = message_with_attachment("application/gzip", &gzip(xml.as_bytes()));
    let mut mbox = Vec::new();
    for i in 0..3 {
        mbox.extend_from_slice(format!("From x Thu Jan  1 00:00:0{i} 2026\n").as_bytes());
        mbox.extend_from_slice(&m);
        mbox.extend_from_slice(b"\n");
    }
    // A message over the input cap is refused alone; the others still parse.
    let limits = Limits {
        max_input_bytes: m.len() as u64 + 10,
        ..Limits::default()
    };
    let mut big = mbox.clone();
    big.extend_from_slice(b"From y Thu Jan  1 00:00:09 2026\n");
    big.extend_from_slice(&m);
    big.extend_from_slice(&vec![b'a'; m.len()]);
    big.extend_from_slice(b"\n");
    let mut got = Vec::new();
    ward_reports::unpack::unpack_mbox("box", &big[..], &limits, &mut |r| got.push(r));
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[..3].iter().all(Result::is_ok), "{got:?}");
    assert!(matches!(&got[3], Err(e) if e.input == "box/#4"
        && matches!(e.reason, Reason::LimitExceeded { kind: ward_reports::LimitKind::InputBytes, .. })));
}

#[test]
fn content_after_the_report_is_not_read() {
    let xml = format!("{}\n\0\0<feedback>junk", report("", RECORD));
    assert_eq!(agg(&xml).expect("parses").records.len(), 1);
    assert_eq!(
        agg("<feedback/>"),
        Err(Reason::MissingElement {
            path: "report_metadata".into()
        })
    );
    assert_eq!(
        agg("<html/>"),
        Err(Reason::NotFeedback {
            root: "html".into()
        })
    );
}

#[test]
fn declared_latin1_is_transcoded_and_undeclared_bytes_are_refused() {
    let mut xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".to_vec();
    xml.extend_from_slice(
        report("", "")
            .replace("Reporter", "M\u{fc}ller \u{20ac}")
            .as_bytes(),
    );
    // Re-encode the two non-ASCII characters as windows-1252 bytes.
    let xml: Vec<u8> = String::from_utf8(xml)
        .expect("utf8")
        .chars()
        .map(|c| match c {
            '\u{fc}' => 0xFC,
            '\u{20ac}' => 0x80,
            c => c as u8,
        })
        .collect();
    let a = parse_aggregate(&xml[..], &Limits::default()).expect("parses");
    assert_eq!(a.report_metadata.org_name, "M\u{fc}ller \u{20ac}");
    // The same bytes declared (or defaulting to) UTF-8 are refused.
    let utf8 = String::from_utf8_lossy(&xml).replace("ISO-8859-1", "UTF-8");
    let bytes: Vec<u8> = utf8
        .chars()
        .map(|c| if c == '\u{fffd}' { 0xFC } else { c as u8 })
        .collect();
    assert!(matches!(
        parse_aggregate(&bytes[..], &Limits::default()),
        Err(Reason::InvalidUtf8 { .. })
    ));
}

#[test]
fn a_mail_whose_multipart_mail_parser_loses_is_refused_not_a_panic() {
    // Found by tests/fuzz.rs (mutated_containers and mutated_documents_in_every_container,
    // 40,000 cases): mail-parser's debug assertion "Invalid part ID, could not find
    // multipart" fired on this (a mutated failure report from the corpus, shrunk), and a
    // panic there ended `ward reports ingest`. The message is now refused as MIME.
    let mail = b"Content-Type:multipart/\n boundary=b\n\n--bContent-Type:message/rfc822\n\n\
Content-Type:message/rfc822\n\n\n--b--";
    let got = one_err("m.eml", mail);
    assert!(matches!(got, Reason::Mime), "{got:?}");
}
