//! TLS-RPT record vectors from `$WARD_CORPUS/smtp-tls-rpt/record-vectors/` (mail-auth,
//! checkdmarc). The report JSON and .eml files in that folder are aggregate reports, parsed
//! by ward-reports, and are named here only so that a new file cannot slip by unseen.

mod common;

use serde_json::Value;
use ward_records::tls_rpt::{self, Limits, ReportUri};

const DISAGREE: &[(&str, &str)] = &[];

const HANDLED: &[&str] = &[
    "record-vectors/mail-auth_tlsrpt_record.json",
    "record-vectors/checkdmarc_tlsrpt_record.json",
];

const REPORTS: &str = "an RFC 8460 aggregate report: ward-reports' corpus, not a record";
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    ("mail-auth/rpt01.eml", REPORTS),
    ("mail-auth/rpt01.json", REPORTS),
    ("mail-auth/rpt02.eml", REPORTS),
    ("mail-auth/rpt02.json", REPORTS),
    ("mail-auth/rpt03.json", REPORTS),
    ("parsedmarc/google.com_smtp_tls_report.eml", REPORTS),
    ("parsedmarc/mail.ru.json", REPORTS),
    ("parsedmarc/rfc8460.json", REPORTS),
    ("parsedmarc/smtp_tls.json", REPORTS),
    ("dmarc-report-viewer/google.json", REPORTS),
    ("dmarc-report-viewer/microsoft.json", REPORTS),
    ("dmarc-report-viewer/no-contact.json", REPORTS),
    ("dmarc-report-viewer/no-policy.json", REPORTS),
    ("dmarc-report-viewer/no_ip_and_mx.json", REPORTS),
    ("dmarc-report-viewer/rfc-example.json", REPORTS),
];

fn parse(s: &str) -> Result<tls_rpt::TlsRpt, tls_rpt::TlsRptError> {
    tls_rpt::parse(s, &Limits::default())
}

#[test]
fn tls_rpt_record_vectors() {
    let Some(dir) = common::corpus("smtp-tls-rpt") else {
        return;
    };
    common::assert_inventory(&dir, HANDLED, OUT_OF_SCOPE);
    let mut tally = common::Tally::new("smtp-tls-rpt (records)", DISAGREE);

    let file = "record-vectors/mail-auth_tlsrpt_record.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("{file}#{i}");
        let r = parse(v[0].as_str().unwrap_or_default());
        let agree = r.as_ref().is_ok_and(|rec| {
            let got: Vec<Value> = rec
                .rua
                .iter()
                .map(|u| match u {
                    ReportUri::Mail { address, .. } => {
                        serde_json::json!({"$call": "ReportUri::Mail", "args": [address]})
                    }
                    ReportUri::Https { uri, .. } => {
                        serde_json::json!({"$call": "ReportUri::Http", "args": [uri]})
                    }
                })
                .collect();
            v[1]["rua"] == Value::Array(got)
        });
        tally.record(&case, agree, &r);
    }

    let file = "record-vectors/checkdmarc_tlsrpt_record.json";
    let doc = common::json(&dir.join(file));
    for (i, v) in doc["vectors"].as_array().into_iter().flatten().enumerate() {
        let case = format!("{file}#{i}");
        let r = parse(v["args"][0].as_str().unwrap_or_default());
        tally.record(&case, r.is_ok() == (v["expect"] == "returns"), &r);
    }
    tally.finish();
}
