//! An organisation's mail reports: who sends mail in the name of each of its domains,
//! and whether that mail passes DMARC, from the aggregate reports stored in the last
//! 30 days. The chart is SVG drawn here, with no script and no inline style.

use crate::App;
use crate::pages::{Fail, asker, html, seen_org};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use ward_reports::analysis::{DomainSummary, summarise};

/// The window of reports shown.
const DAYS: i64 = 30;
/// Sources listed per domain.
const SOURCES: usize = 10;
/// Width of the longest bar in the chart.
const BAR: u64 = 360;

/// One sending source.
#[derive(Serialize)]
pub(crate) struct SourceRow {
    pub(crate) ip: String,
    pub(crate) messages: u64,
    pub(crate) pass_rate: String,
    pub(crate) failing: u64,
    /// The chart's bar: y, passing width, failing x and width.
    #[serde(skip)]
    pub(crate) bar: (u64, u64, u64, u64),
}

/// One domain's picture.
#[derive(Serialize)]
pub(crate) struct DomainRow {
    pub(crate) domain: String,
    pub(crate) messages: u64,
    pub(crate) dmarc_pass_rate: String,
    pub(crate) spf_aligned_rate: String,
    pub(crate) dkim_aligned_rate: String,
    pub(crate) policy: String,
    pub(crate) phase: &'static str,
    pub(crate) sources: Vec<SourceRow>,
    pub(crate) more_sources: usize,
    #[serde(skip)]
    pub(crate) chart_height: u64,
}

fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

fn row(d: &DomainSummary) -> DomainRow {
    let biggest = d.sources.first().map_or(1, |s| s.messages.max(1));
    let sources: Vec<SourceRow> = d
        .sources
        .iter()
        .take(SOURCES)
        .enumerate()
        .map(|(i, s)| {
            let total = (s.messages * BAR / biggest).max(2);
            let pass = (s.dmarc_pass * BAR / biggest).min(total);
            SourceRow {
                ip: s.ip.to_string(),
                messages: s.messages,
                pass_rate: pct(if s.messages == 0 {
                    0.0
                } else {
                    s.dmarc_pass as f64 / s.messages as f64
                }),
                failing: s.failing(),
                bar: (i as u64 * 22, pass, 150 + pass, total - pass),
            }
        })
        .collect();
    DomainRow {
        domain: d.domain.clone(),
        messages: d.messages,
        dmarc_pass_rate: pct(d.dmarc_pass_rate),
        spf_aligned_rate: pct(d.spf_alignment_rate),
        dkim_aligned_rate: pct(d.dkim_alignment_rate),
        policy: d.policy.as_ref().map_or_else(
            || "not seen".into(),
            |p| format!("p={}", p.p.as_deref().unwrap_or("?")),
        ),
        phase: d.phase.as_str(),
        chart_height: (sources.len() as u64 * 22).max(22),
        more_sources: d.sources.len().saturating_sub(SOURCES),
        sources,
    }
}

/// The summaries of `domains` over the last [`DAYS`] days.
async fn domains(app: &App, domains: &[String]) -> Result<Vec<DomainRow>, Fail> {
    let since = time::OffsetDateTime::now_utc().unix_timestamp() - DAYS * 86_400;
    let mut out = Vec::new();
    for d in domains {
        let data = app
            .store
            .report_data(&ward_store::ReportFilter {
                domain: Some(d.clone()),
                since: Some(since),
            })
            .await?;
        let s = summarise(&data, &BTreeMap::new());
        out.extend(s.domains.iter().filter(|x| &x.domain == d).map(row));
    }
    Ok(out)
}

/// The organisation's own domains: those of its latest scan and those it claimed.
async fn names(
    app: &App,
    org: &str,
    latest: Option<&ward_model::ScanReport>,
) -> Result<Vec<String>, Fail> {
    let mut names: std::collections::BTreeSet<String> = latest
        .map(|r| {
            r.assets
                .iter()
                .filter(|a| a.organisation_id == org)
                .map(|a| a.domain.clone())
                .collect()
        })
        .unwrap_or_default();
    names.extend(
        app.store
            .claims_of(org)
            .await?
            .into_iter()
            .map(|c| c.domain),
    );
    Ok(names.into_iter().collect())
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage {
    email: String,
    csrf: String,
    id: String,
    name: String,
    days: i64,
    rows: Vec<DomainRow>,
}

pub(crate) async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (org, latest, _) = seen_org(&app, &who, &id).await?;
    let names = names(&app, &org.id, latest.as_deref().map(|l| &l.report)).await?;
    Ok(html(&MailPage {
        rows: domains(&app, &names).await?,
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
        id: org.id,
        name: org.name,
        days: DAYS,
    }))
}

pub(crate) async fn api(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, latest, _) = seen_org(&app, &who, &id).await?;
    let names = names(&app, &org.id, latest.as_deref().map(|l| &l.report)).await?;
    Ok(axum::Json(serde_json::json!({
        "organisation": org.id,
        "days": DAYS,
        "domains": domains(&app, &names).await?,
    }))
    .into_response())
}
