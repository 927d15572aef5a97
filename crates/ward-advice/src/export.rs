//! The report as data: JSON and CSV exports of what the HTML report shows (schema in
//! `docs/report.md`). The scan's own JSON (`docs/output.md`) is unchanged; this is a
//! separate document with scores, ranked actions and advice added.

use crate::advice::{RenderedAdvice, advice_for};
use crate::assess::combined_score;
use crate::csv_cell;
use crate::html::ReportInput;
use crate::score::{self, Action, asset_score, org_score};
use serde::Serialize;
use std::io::{self, Write};
use ward_model::{OrgKind, Organisation, Status};

/// Version of the report document; bumped when a field changes meaning or goes away.
pub const REPORT_SCHEMA: u32 = 1;

#[derive(Serialize)]
struct FindingDoc<'a> {
    check: &'a str,
    status: &'a str,
    severity: &'a str,
    summary: &'a str,
    evidence: &'a serde_json::Value,
    advice: Option<RenderedAdvice>,
}

#[derive(Serialize)]
struct AssetDoc<'a> {
    domain: &'a str,
    score: u8,
    could_not_tell: usize,
    dmarc_phase: Option<&'static str>,
    findings: Vec<FindingDoc<'a>>,
}

#[derive(Serialize)]
struct AssessmentDoc<'a> {
    answered_at: &'a str,
    score: u8,
}

#[derive(Serialize)]
struct OrgDoc<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'static str,
    size: &'static str,
    parent: Option<&'a str>,
    scan_score: Option<u8>,
    assessment: Option<AssessmentDoc<'a>>,
    score: Option<u8>,
    assets: Vec<AssetDoc<'a>>,
}

#[derive(Serialize)]
struct RegionDoc<'a> {
    id: &'a str,
    name: &'a str,
    score: Option<u8>,
    branches: usize,
    headline: Option<String>,
    actions: Vec<Action>,
}

#[derive(Serialize)]
struct ReportDoc<'a> {
    schema: u32,
    title: &'a str,
    root: Option<&'a str>,
    scanned_at: String,
    ward_version: &'a str,
    branches: usize,
    headline: Option<String>,
    actions: Vec<Action>,
    regions: Vec<RegionDoc<'a>>,
    organisations: Vec<OrgDoc<'a>>,
}

fn covered<'a>(input: &ReportInput<'a>) -> Vec<&'a Organisation> {
    match input.root {
        Some(r) => score::subtree(input.orgs, r),
        None => input.orgs.iter().collect(),
    }
}

fn build<'a>(input: &ReportInput<'a>) -> ReportDoc<'a> {
    let report = input.report;
    let orgs = covered(input);
    let rank = |set: &[&'a Organisation]| {
        score::rank_actions(set.iter().filter(|o| o.kind == OrgKind::Branch).map(|b| {
            let fs = report
                .assets
                .iter()
                .filter(|a| a.organisation_id == b.id)
                .flat_map(|a| a.findings.iter())
                .collect();
            (b.id.as_str(), fs)
        }))
    };
    let ranking = rank(&orgs);
    let regions = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Region)
        .map(|r| {
            let below = score::subtree(input.orgs, &r.id);
            let rk = rank(&below);
            RegionDoc {
                id: &r.id,
                name: &r.name,
                score: score::mean_score(
                    below
                        .iter()
                        .filter(|o| o.kind == OrgKind::Branch)
                        .filter_map(|b| org_score(report, &b.id)),
                ),
                branches: rk.branches_total,
                headline: (rk.branches_total > 0).then(|| rk.headline(3)),
                actions: rk.actions,
            }
        })
        .collect();
    let organisations = orgs
        .iter()
        .map(|o| {
            let assets: Vec<AssetDoc<'a>> = report
                .assets
                .iter()
                .filter(|a| a.organisation_id == o.id)
                .map(|a| {
                    let s = asset_score(a);
                    AssetDoc {
                        domain: &a.domain,
                        score: s.score,
                        could_not_tell: s.could_not_tell,
                        dmarc_phase: a.dmarc_phase.map(|p| p.as_str()),
                        findings: a
                            .findings
                            .iter()
                            .map(|f| FindingDoc {
                                check: f.check.as_str(),
                                status: f.status.as_str(),
                                severity: f.severity.as_str(),
                                summary: &f.summary,
                                evidence: &f.evidence,
                                advice: matches!(f.status, Status::Fail | Status::Warn)
                                    .then(|| advice_for(f.check, o.size))
                                    .flatten()
                                    .map(|adv| adv.render(&a.domain, f)),
                            })
                            .collect(),
                    }
                })
                .collect();
            let assessment = input.assessments.get(&o.id);
            let scan_score = org_score(report, &o.id);
            OrgDoc {
                id: &o.id,
                name: &o.name,
                kind: o.kind.as_str(),
                size: o.size.as_str(),
                parent: o.parent.as_deref(),
                scan_score,
                score: combined_score(scan_score, assessment.map(|a| a.score())),
                assessment: assessment.map(|a| AssessmentDoc {
                    answered_at: &a.answered_at,
                    score: a.score(),
                }),
                assets,
            }
        })
        .filter(|o| !o.assets.is_empty() || o.assessment.is_some())
        .collect();
    ReportDoc {
        schema: REPORT_SCHEMA,
        title: input.title,
        root: input.root,
        scanned_at: report
            .scanned_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        ward_version: &report.ward_version,
        branches: ranking.branches_total,
        headline: (ranking.branches_total > 0).then(|| ranking.headline(3)),
        actions: ranking.actions,
        regions,
        organisations,
    }
}

/// Writes the report as one JSON document.
pub fn write_report_json(w: &mut impl Write, input: &ReportInput<'_>) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &build(input)).map_err(io::Error::other)?;
    writeln!(w)
}

/// Writes one CSV row per finding, with the organisation's and asset's scores and the
/// action that fixes it.
pub fn write_report_csv(w: &mut impl Write, input: &ReportInput<'_>) -> io::Result<()> {
    let doc = build(input);
    writeln!(
        w,
        "organisation_id,organisation,organisation_score,domain,asset_score,dmarc_phase,check,status,severity,summary,action"
    )?;
    for o in &doc.organisations {
        let org_score = o.score.map(|s| s.to_string()).unwrap_or_default();
        for a in &o.assets {
            let asset_score = a.score.to_string();
            for f in &a.findings {
                let action = f.advice.as_ref().map_or("", |adv| adv.action);
                let cells = [
                    o.id,
                    o.name,
                    &org_score,
                    a.domain,
                    &asset_score,
                    a.dmarc_phase.unwrap_or(""),
                    f.check,
                    f.status,
                    f.severity,
                    f.summary,
                    action,
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                writeln!(w, "{}", line.join(","))?;
            }
        }
    }
    Ok(())
}
