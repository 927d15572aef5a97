//! The HTML report carries the right advice for each organisation's size, escapes what
//! strangers wrote, and has its main sections.

use std::collections::BTreeMap;
use ward_advice::advice_for;
use ward_advice::assess::parse_answers;
use ward_advice::html::{ReportInput, write_report};
use ward_model::{
    AssetReport, CheckId, Finding, OrgKind, Organisation, Role, ScanReport, Severity, SizeClass,
    Status,
};

fn org(id: &str, kind: OrgKind, size: SizeClass, parent: Option<&str>) -> Organisation {
    Organisation {
        id: id.into(),
        name: format!("Org {id}"),
        kind,
        size,
        parent: parent.map(Into::into),
        assets: Vec::new(),
    }
}

fn f(check: &str, status: Status, severity: Severity, summary: &str) -> Finding {
    Finding {
        check: CheckId::parse(check).unwrap_or_else(|| panic!("unknown check {}", check)),
        status,
        severity,
        summary: summary.into(),
        evidence: serde_json::Value::Null.into(),
    }
}

type Writer = fn(&mut Vec<u8>, &ReportInput<'_>) -> std::io::Result<()>;

fn render(
    root: Option<&str>,
    assessments: &BTreeMap<String, ward_advice::assess::Assessment>,
) -> String {
    render_with(root, assessments, write_report)
}

fn render_with(
    root: Option<&str>,
    assessments: &BTreeMap<String, ward_advice::assess::Assessment>,
    writer: Writer,
) -> String {
    let orgs = vec![
        org("hq", OrgKind::Party, SizeClass::Medium, None),
        org("b1", OrgKind::Branch, SizeClass::Small, Some("hq")),
    ];
    let asset = |o: &str, findings: Vec<Finding>| AssetReport {
        dmarc_phase: ward_checks::mail::dmarc::phase(&findings),
        domain: format!("{o}.example"),
        organisation: format!("Org {o}"),
        organisation_id: o.into(),
        roles: vec![Role::Mail],
        findings,
    };
    let report = ScanReport {
        scanned_at: time::macros::datetime!(2026-11-01 10:00 UTC),
        ward_version: "test".into(),
        warnings: Vec::new(),
        assets: vec![
            asset(
                "hq",
                vec![f("spf.all", Status::Fail, Severity::High, "ends in +all")],
            ),
            asset(
                "b1",
                vec![
                    f(
                        "spf.all",
                        Status::Fail,
                        Severity::High,
                        "<script>alert(1)</script>",
                    ),
                    f("dns.caa", Status::Pass, Severity::None, "has CAA"),
                ],
            ),
        ],
    };
    let mut out = Vec::new();
    writer(
        &mut out,
        &ReportInput {
            title: "Test report",
            report: &report,
            orgs: &orgs,
            root,
            assessments,
            detail: ward_advice::html::Detail::Full,
            mail: None,
            history: &[],
            mail_since_last: None,
        },
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// The first line of a text, as askama escapes it.
fn first_line_escaped(s: &str) -> String {
    s.lines()
        .next()
        .unwrap()
        .replace('\'', "&#39;")
        .replace('"', "&#34;")
}

#[test]
fn each_organisation_gets_advice_for_its_size() {
    let html = render(Some("hq"), &BTreeMap::new());
    let small = advice_for(
        CheckId::parse("spf.all").expect("a known check"),
        SizeClass::Small,
    )
    .unwrap()
    .todo;
    let medium = advice_for(
        CheckId::parse("spf.all").expect("a known check"),
        SizeClass::Medium,
    )
    .unwrap()
    .todo;
    assert!(
        html.contains(&first_line_escaped(small)),
        "branch advice missing"
    );
    assert!(
        html.contains(&first_line_escaped(medium)),
        "HQ advice missing"
    );
    // Top actions name no particular domain, and every placeholder is filled.
    assert!(!html.contains("{domain}"));
    // Passing checks get no advice.
    assert!(!html.contains("Say which certificate authorities"));
    for section in [
        "id=\"summary\"",
        "id=\"actions\"",
        "id=\"scores\"",
        "id=\"assessment\"",
        "id=\"details\"",
    ] {
        assert!(html.contains(section), "{section} missing");
    }
    assert!(html.contains(
        "This change would protect 1 of 1 branches from every high or critical exposure found (today: 0)."
    ));
}

#[test]
fn stranger_text_is_escaped() {
    let html = render(None, &BTreeMap::new());
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
}

#[test]
fn branch_report_leaves_the_rest_of_the_party_out() {
    let html = render(Some("b1"), &BTreeMap::new());
    assert!(html.contains("b1.example"));
    assert!(!html.contains("hq.example"));
    assert!(!html.contains("would protect"));
}

#[test]
fn assessment_joins_the_score() {
    let mut a = BTreeMap::new();
    a.insert(
        "b1".to_owned(),
        parse_answers(
            "answered_at = \"2026-10-30\"\n[answers]\nbackups = \"no\"\n",
            "x",
        )
        .unwrap(),
    );
    let html = render(Some("b1"), &a);
    // Scan 75 (100 - 25), assessment 0: 0.7 * 75 = 52.5, rounded 53.
    assert!(html.contains("<span class=\"score\">53</span>"), "{html}");
    assert!(html.contains("Org b1: 0 out of 100"));
    assert!(html.contains("answered 2026-10-30"));
}

#[test]
fn json_export_carries_scores_actions_and_advice() {
    let text = render_with(Some("hq"), &BTreeMap::new(), |w, i| {
        ward_advice::export::write_report_json(w, i)
    });
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["branches"], 1);
    assert_eq!(doc["actions"][0]["check"], "spf.all");
    assert_eq!(doc["actions"][0]["branches"], serde_json::json!(["b1"]));
    let b1 = &doc["organisations"][1];
    assert_eq!(b1["id"], "b1");
    assert_eq!(b1["score"], 75);
    let failing = &b1["assets"][0]["findings"][0];
    assert_eq!(
        failing["advice"]["action"],
        "End the SPF record with -all or ~all"
    );
    assert_eq!(
        failing["advice"]["todo"],
        advice_for(
            CheckId::parse("spf.all").expect("a known check"),
            SizeClass::Small
        )
        .unwrap()
        .todo
    );
    assert_eq!(
        b1["assets"][0]["findings"][1]["advice"],
        serde_json::Value::Null
    );
}

#[test]
fn csv_export_has_one_row_per_finding() {
    let text = render_with(Some("hq"), &BTreeMap::new(), |w, i| {
        ward_advice::export::write_report_csv(w, i)
    });
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "organisation_id,organisation,organisation_score,domain,asset_score,dmarc_phase,check,status,severity,summary,action",
            "hq,Org hq,75,hq.example,75,,spf.all,fail,high,ends in +all,End the SPF record with -all or ~all",
            "b1,Org b1,75,b1.example,75,,spf.all,fail,high,<script>alert(1)</script>,End the SPF record with -all or ~all",
            "b1,Org b1,75,b1.example,75,,dns.caa,pass,none,has CAA,",
        ]
    );
}
