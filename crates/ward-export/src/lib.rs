//! ward-export: the reports handed to a committee, read from the store.
//!
//! `ward report`, `ward demo` and `ward serve`'s download all draw a report the same
//! way: the latest complete scan, the scans before it (the trend and "since last
//! time"), each organisation's latest self-assessment and the stored DMARC reports,
//! rendered for one organisation and everything below it by `ward_advice`'s writers.

use std::collections::BTreeMap;
use ward_advice::assess::Assessment;
use ward_advice::html::{Detail, ReportInput};
use ward_model::report_rows::ReportData;
use ward_model::{Organisation, ScanReport};
use ward_store::StoreError;

/// The formats a report is rendered in (PDF is the HTML printed by Chromium:
/// [`ward_advice::pdf::html_to_pdf`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML page (inline CSS and SVG, no scripts), printable.
    Html,
    /// Scores, actions, findings and advice as one JSON document.
    Json,
    /// One row per finding.
    Csv,
}

/// Turns stored answers into assessments, skipping answers to questions this ward does
/// not know (a newer ward may have stored them).
pub fn assessments_from_store(
    stored: Vec<ward_store::StoredAssessment>,
) -> BTreeMap<String, Assessment> {
    stored
        .into_iter()
        .map(|s| {
            let answers = s
                .answers
                .into_iter()
                .filter_map(|(k, v)| Some((k, serde_json::from_value(v).ok()?)))
                .filter(|(k, _)| ward_advice::assess::QUESTIONS.iter().any(|q| q.id == k))
                .collect();
            (
                s.organisation_id,
                Assessment {
                    answered_at: s.answered_at,
                    answers,
                },
            )
        })
        .collect()
}

/// The title of a report for `org`.
pub fn title_for(org: &Organisation) -> String {
    format!("{}: security posture", org.name)
}

/// What a report is drawn from besides the latest scan.
pub struct Sources<'a> {
    /// The organisation tree.
    pub orgs: &'a [Organisation],
    /// The latest self-assessment of each organisation.
    pub assessments: &'a BTreeMap<String, Assessment>,
    /// The stored DMARC report data.
    pub mail: Option<&'a ReportData>,
    /// Earlier complete scans, oldest first.
    pub history: &'a [ScanReport],
    /// The DMARC report data of reports ending at or after the previous scan started.
    pub mail_since_last: Option<&'a ReportData>,
}

/// How many earlier scans the score trend draws.
const TREND_SCANS: usize = 11;

/// What a report reads from the store besides the latest scan.
pub struct History {
    /// The complete scans before the latest, oldest first (at most [`TREND_SCANS`]).
    pub scans: Vec<ScanReport>,
    /// Every stored DMARC report's sums.
    pub mail: ReportData,
    /// The sums of the reports ending at or after the previous scan started (for new
    /// failing senders); `None` with no previous scan.
    pub mail_since_last: Option<ReportData>,
}

/// The complete scans before the latest, oldest first (at most [`TREND_SCANS`]), and
/// the stored DMARC reports' sums.
pub async fn history_and_mail(store: &ward_store::Store) -> Result<History, StoreError> {
    let mut history = Vec::new();
    for scan in store
        .scans()
        .await?
        .into_iter()
        .filter(|s| s.complete)
        .skip(1)
        .take(TREND_SCANS)
    {
        history.push(store.report(scan.id).await?);
    }
    history.reverse();
    let mail = store
        .report_data(&ward_store::ReportFilter::default())
        .await?;
    let mail_since_last = match history.last() {
        Some(previous) => Some(
            store
                .report_data(&ward_store::ReportFilter {
                    domain: None,
                    since: Some(previous.scanned_at.unix_timestamp()),
                })
                .await?,
        ),
        None => None,
    };
    Ok(History {
        scans: history,
        mail,
        mail_since_last,
    })
}

/// Renders the report for `root` and everything below it.
pub fn render(
    format: Format,
    report: &ScanReport,
    sources: &Sources<'_>,
    root: &Organisation,
    detail: Detail,
) -> std::io::Result<Vec<u8>> {
    let title = title_for(root);
    let input = ReportInput {
        title: &title,
        report,
        orgs: sources.orgs,
        root: Some(&root.id),
        assessments: sources.assessments,
        mail: sources.mail,
        history: sources.history,
        mail_since_last: sources.mail_since_last,
        detail,
    };
    let mut out = Vec::new();
    match format {
        Format::Html => ward_advice::html::write_report(&mut out, &input)?,
        Format::Json => ward_advice::export::write_report_json(&mut out, &input)?,
        Format::Csv => ward_advice::export::write_report_csv(&mut out, &input)?,
    }
    Ok(out)
}

/// Everything a report reads from the store, read once.
pub struct Stored {
    /// The organisation tree.
    pub orgs: Vec<Organisation>,
    /// The latest complete scan, if any.
    pub latest: Option<ScanReport>,
    /// Each organisation's latest self-assessment.
    pub assessments: BTreeMap<String, Assessment>,
    /// Earlier scans and the mail reports.
    pub history: History,
}

impl Stored {
    /// Reads it all from `store`.
    pub async fn load(store: &ward_store::Store) -> Result<Stored, StoreError> {
        Ok(Stored {
            orgs: store.organisations().await?,
            latest: store.latest_report().await?,
            assessments: assessments_from_store(store.latest_assessments().await?),
            history: history_and_mail(store).await?,
        })
    }

    /// What [`render`] draws from besides the latest scan.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            orgs: &self.orgs,
            assessments: &self.assessments,
            mail: Some(&self.history.mail),
            history: &self.history.scans,
            mail_since_last: self.history.mail_since_last.as_ref(),
        }
    }
}
