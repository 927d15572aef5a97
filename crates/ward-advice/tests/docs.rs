//! The examples in docs/report.md are true: the answers file parses, the question ids are
//! listed in the order they are asked, and the JSON example has the fields ward writes.

use ward_advice::assess::{QUESTIONS, parse_answers};

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report.md"))
        .expect("docs/report.md")
}

/// The first fenced block of `lang` after `heading`.
fn block(doc: &str, heading: &str, lang: &str) -> String {
    let after = &doc[doc
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} missing"))..];
    let start = after.find(&format!("```{lang}\n")).unwrap() + lang.len() + 4;
    let end = after[start..].find("```").unwrap();
    after[start..start + end].to_owned()
}

#[test]
fn answers_example_parses() {
    let text = block(&doc(), "## Answers file", "toml");
    let a = parse_answers(&text, "2026-01-01").unwrap();
    assert_eq!(a.answered_at, "2026-11-20");
    assert_eq!(a.answers.len(), 2);
}

#[test]
fn question_ids_are_listed_in_order() {
    let doc = doc();
    let listed = &doc[doc.find("The question\nids are:").unwrap()..];
    let listed = &listed[..listed.find(". At the terminal").unwrap()];
    let ids: Vec<&str> = listed.split('`').skip(1).step_by(2).collect();
    let want: Vec<&str> = QUESTIONS.iter().map(|q| q.id).collect();
    assert_eq!(ids, want);
}

/// What ward writes for one branch with one failing finding.
fn actual_export() -> serde_json::Value {
    use ward_model::*;
    let org = |id: &str, kind, parent: Option<&str>| Organisation {
        id: id.into(),
        name: id.to_uppercase(),
        kind,
        size: SizeClass::Small,
        parent: parent.map(Into::into),
        assets: Vec::new(),
    };
    let orgs = vec![
        org("r", OrgKind::Region, None),
        org("b", OrgKind::Branch, Some("r")),
    ];
    let report = ScanReport {
        scanned_at: time::macros::datetime!(2026-11-01 10:00 UTC),
        ward_version: "t".into(),
        warnings: Vec::new(),
        assets: vec![AssetReport {
            dmarc_phase: None,
            domain: "b.example".into(),
            organisation: "B".into(),
            organisation_id: "b".into(),
            roles: vec![Role::Mail],
            findings: vec![Finding {
                check: CheckId::parse("dns.caa").expect("a known check"),
                status: Status::Warn,
                severity: Severity::Low,
                summary: "no CAA".into(),
                evidence: serde_json::json!({}).into(),
            }],
        }],
    };
    let mut out = Vec::new();
    ward_advice::export::write_report_json(
        &mut out,
        &ward_advice::html::ReportInput {
            title: "t",
            report: &report,
            orgs: &orgs,
            root: Some("r"),
            assessments: &Default::default(),
            detail: ward_advice::html::Detail::Full,
            mail: None,
            history: &[],
            mail_since_last: None,
        },
    )
    .unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn json_example_has_the_fields_ward_writes() {
    let example: serde_json::Value =
        serde_json::from_str(&block(&doc(), "## `--format json`", "json")).unwrap();
    let actual = actual_export();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    let paths: [&[&str]; 8] = [
        &[],
        &["actions", "0"],
        &["regions", "0"],
        &["regions", "0", "actions", "0"],
        &["organisations", "0"],
        &["organisations", "0", "assets", "0"],
        &["organisations", "0", "assets", "0", "findings", "0"],
        &[
            "organisations",
            "0",
            "assets",
            "0",
            "findings",
            "0",
            "advice",
        ],
    ];
    for path in paths {
        let at = |mut v: &serde_json::Value| {
            for p in path {
                v = match p.parse::<usize>() {
                    Ok(i) => &v[i],
                    Err(_) => &v[*p],
                };
            }
            v.clone()
        };
        assert_eq!(keys(&at(&example)), keys(&at(&actual)), "at {path:?}");
    }
}

/// The `ward changes` example in docs/output.md: every change in it reads back as a
/// `Change` and writes out exactly as shown, and the counts are those of its kinds.
#[test]
fn changes_example_is_what_ward_writes() {
    use ward_advice::changes::{Change, counts};
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/output.md"))
        .expect("docs/output.md");
    let example: serde_json::Value =
        serde_json::from_str(&block(&doc, "## `ward changes`", "json")).unwrap();
    let items = example["changes"].as_array().unwrap();
    let parsed: Vec<Change> = items
        .iter()
        .map(|c| serde_json::from_value(c.clone()).unwrap_or_else(|e| panic!("{e}: {c}")))
        .collect();
    for (c, shown) in parsed.iter().zip(items) {
        assert_eq!(&serde_json::to_value(c).unwrap(), shown);
    }
    for (kind, n) in counts(&parsed) {
        assert_eq!(example["counts"][kind.as_str()], n, "{}", kind.as_str());
    }
}
