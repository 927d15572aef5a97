//! A domain's page: every check of its latest scan with the evidence behind it and the
//! advice for its organisation's audience, and how each check stood in the scans
//! before. Alert digests link here (`/org/{id}/domain/{domain}#{check}`).

use crate::App;
use crate::pages::{Asker, Fail, asker, html, seen_org};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;

/// Scans shown in a check's history, the latest included.
const HISTORY: u32 = 8;

/// One check on the page.
#[derive(Serialize)]
pub(crate) struct CheckRow {
    check: &'static str,
    status: &'static str,
    severity: &'static str,
    summary: String,
    todo: String,
    /// The evidence, as indented JSON (shown escaped).
    evidence: String,
    /// (day, status) in the scans before the latest, newest first.
    history: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    email: String,
    csrf: String,
    id: String,
    org: String,
    domain: String,
    scanned: String,
    checks: Vec<CheckRow>,
}

fn day(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The organisation, when the asker sees it and the domain is its own in the latest
/// scan, and the domain's checks.
async fn load(
    app: &App,
    who: &Asker,
    id: &str,
    domain: &str,
) -> Result<(ward_model::Organisation, String, Vec<CheckRow>), Fail> {
    let (org, latest, _) = seen_org(app, who, id).await?;
    let latest = latest.ok_or(Fail::NotFound)?;
    let asset = latest
        .report
        .assets
        .iter()
        .find(|a| a.domain == domain && a.organisation_id == org.id)
        .ok_or(Fail::NotFound)?;
    let history = app.store.domain_history(domain, HISTORY).await?;
    // Per check, its status in each earlier scan (the latest is the page itself).
    let mut before: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for scan in history
        .iter()
        .filter(|v| v.started_at < latest.report.scanned_at)
    {
        for (check, status, _, _) in &scan.verdicts {
            before
                .entry(check.as_str())
                .or_default()
                .push((day(scan.started_at), status.clone()));
        }
    }
    let checks = asset
        .findings
        .iter()
        .map(|f| CheckRow {
            check: f.check.as_str(),
            status: f.status.as_str(),
            severity: f.severity.as_str(),
            summary: f.summary.clone(),
            todo: crate::org::todo(f, org.size),
            evidence: serde_json::to_string_pretty(&f.evidence).unwrap_or_default(),
            history: before.remove(f.check.as_str()).unwrap_or_default(),
        })
        .collect();
    Ok((org, day(latest.report.scanned_at), checks))
}

pub(crate) async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, domain)): Path<(String, String)>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (org, scanned, checks) = load(&app, &who, &id, &domain).await?;
    Ok(html(&DomainPage {
        email: who.user.email.clone(),
        csrf: who.csrf.clone().unwrap_or_default(),
        id: org.id,
        org: org.name,
        domain,
        scanned,
        checks,
    }))
}

pub(crate) async fn api(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, domain)): Path<(String, String)>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, scanned, checks) = load(&app, &who, &id, &domain).await?;
    Ok(axum::Json(serde_json::json!({
        "organisation": org.id,
        "domain": domain,
        "scanned": scanned,
        "checks": checks,
    }))
    .into_response())
}
