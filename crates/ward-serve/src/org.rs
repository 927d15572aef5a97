//! An organisation's page and its JSON twin: its domains' findings with advice for its
//! own audience, and its claimed domains.

use crate::App;
use crate::pages::{Fail, asker, html, score_text, seen_org};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use ward_model::{Organisation, ScanReport, SizeClass};
use ward_store::AccessRole;

/// One finding on an organisation's page.
#[derive(Serialize)]
pub(crate) struct FindingRow {
    check: &'static str,
    status: &'static str,
    severity: &'static str,
    summary: String,
    todo: String,
}

/// One domain on an organisation's page.
#[derive(Serialize)]
pub(crate) struct AssetRows {
    domain: String,
    findings: Vec<FindingRow>,
}

fn assets(latest: Option<&ScanReport>, org: &Organisation) -> Vec<AssetRows> {
    let Some(r) = latest else { return Vec::new() };
    r.assets
        .iter()
        .filter(|a| a.organisation_id == org.id)
        .map(|a| AssetRows {
            domain: a.domain.clone(),
            findings: a
                .findings
                .iter()
                .map(|f| FindingRow {
                    check: f.check.as_str(),
                    status: f.status.as_str(),
                    severity: f.severity.as_str(),
                    summary: f.summary.clone(),
                    todo: todo(f, org.size),
                })
                .collect(),
        })
        .collect()
}

/// The first step of the advice for a finding that asks for one, in the words for
/// the organisation's audience.
pub(crate) fn todo(f: &ward_model::Finding, size: SizeClass) -> String {
    use ward_model::Status;
    if !matches!(f.status, Status::Fail | Status::Warn) {
        return String::new();
    }
    ward_advice::advice::advice_for(f.check, size)
        .and_then(|a| {
            a.todo
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

pub(crate) fn audience(size: SizeClass) -> &'static str {
    match size {
        SizeClass::Small => "volunteers running a small organisation",
        SizeClass::Medium => "an IT team",
    }
}

/// The organisation's score and the DMARC pass rate of its domains' mail (the 30 days
/// before each scan) over the scans kept; `None` under two scans.
async fn trend_chart(
    app: &App,
    org: &Organisation,
    latest: Option<&crate::pages::Latest>,
) -> Result<Option<(ward_advice::charts::OrgTrendChart, String)>, Fail> {
    let Some(l) = latest else { return Ok(None) };
    let points = l.trend(&org.id);
    if points.len() < 2 {
        return Ok(None);
    }
    let domains: std::collections::BTreeSet<String> = l
        .report
        .assets
        .iter()
        .filter(|a| a.organisation_id == org.id)
        .map(|a| a.domain.to_ascii_lowercase())
        .collect();
    let since = (points[0].0 - ward_advice::html::RATE_WINDOW_DAYS) * 86_400;
    let mut mail = ward_model::report_rows::ReportData::default();
    for d in &domains {
        let data = app
            .store
            .report_data(&ward_store::ReportFilter {
                domain: Some(d.clone()),
                since: Some(since),
            })
            .await?;
        mail.days.extend(data.days);
    }
    let date = |day: i64| {
        time::OffsetDateTime::from_unix_timestamp(day * 86_400)
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    };
    let values: Vec<(String, Option<u8>, Option<u8>)> = points
        .iter()
        .map(|(day, score)| {
            (
                date(*day),
                Some(*score),
                ward_advice::html::pass_rate(&mail, &domains, *day),
            )
        })
        .collect();
    let say = |v: Option<u8>, unit: &str| v.map_or("–".to_owned(), |v| format!("{v}{unit}"));
    let text = format!(
        "score: {}; DMARC pass: {}",
        values
            .iter()
            .map(|v| say(v.1, ""))
            .collect::<Vec<_>>()
            .join(", "),
        values
            .iter()
            .map(|v| say(v.2, "%"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Some((
        ward_advice::charts::OrgTrendChart::new(values),
        text,
    )))
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    email: String,
    csrf: String,
    id: String,
    name: String,
    claims: Vec<crate::domains::ClaimRow>,
    can_edit: bool,
    can_invite: bool,
    trend: Option<(ward_advice::charts::OrgTrendChart, String)>,
    can_check: bool,
    score: String,
    audience: &'static str,
    assets: Vec<AssetRows>,
}

pub(crate) async fn organisation(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (org, latest, role) = seen_org(&app, &who, &id).await?;
    Ok(html(&OrgPage {
        score: score_text(latest.as_deref(), &org.id),
        assets: assets(latest.as_deref().map(|l| &l.report), &org),
        audience: audience(org.size),
        claims: crate::domains::claim_rows(&app, &org.id).await?,
        can_edit: role >= AccessRole::Editor,
        can_invite: role >= AccessRole::Admin,
        trend: trend_chart(&app, &org, latest.as_deref()).await?,
        can_check: app.cfg.prober.is_some(),
        id: org.id,
        name: org.name,
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
    }))
}

pub(crate) async fn api_organisation(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, latest, _) = seen_org(&app, &who, &id).await?;
    Ok(axum::Json(serde_json::json!({
        "id": org.id,
        "name": org.name,
        "kind": org.kind.as_str(),
        "parent": org.parent,
        "score": latest.as_deref().and_then(|l| l.score(&org.id)),
        "assets": assets(latest.as_deref().map(|l| &l.report), &org),
    }))
    .into_response())
}
