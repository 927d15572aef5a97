//! `ward report` and `ward brochure`: reports from the latest stored scan, and the
//! briefing for candidates, as HTML, JSON, CSV or PDF.
//!
//! PDF is printed by a headless Chromium when one is installed (`chromium`,
//! `chromium-browser`, `google-chrome` or `google-chrome-stable` on the PATH). That keeps
//! the release build free of a PDF engine; without Chromium, `--format pdf` fails with a
//! message saying what to install, and the HTML prints to PDF from any browser.

use crate::usage;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use ward_advice::assess::parse_answers;
use ward_export::{Sources, assessments_from_store, history_and_mail};
use ward_model::{OrgKind, Organisation, ScanReport};

/// Output formats of `ward report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page (inline CSS and SVG, no scripts), printable.
    Html,
    /// The same page printed to PDF by headless Chromium (needs -o).
    Pdf,
    /// Scores, actions, findings and advice as one JSON document (docs/report.md).
    Json,
    /// One row per finding, with scores and the action that fixes it.
    Csv,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The organisation the report is for (its id in the inventory); everything below it
    /// is included, so the party's id gives the whole roll-up.
    #[arg(long, value_name = "ID")]
    pub org: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write here instead of standard output (required for pdf).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The store holding the scans: a SQLite file, or a PostgreSQL URL
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// summary: totals, top actions, one line per organisation, DMARC phases (a few
    /// pages for a whole party); full: also each domain's problems and what to do.
    #[arg(long, value_enum, default_value_t = ReportDetail::Summary)]
    pub detail: ReportDetail,
}

/// `--detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportDetail {
    /// For a committee.
    Summary,
    /// For the people fixing things.
    Full,
}

#[derive(Debug, Args)]
pub struct BrochureArgs {
    /// Where to write it.
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = "ward-brochure.html"
    )]
    pub output: PathBuf,
    /// html, or pdf (printed by headless Chromium).
    #[arg(long, short = 'f', value_enum, default_value_t = BrochureFormat::Html)]
    pub format: BrochureFormat,
    /// The party named in the opening line.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub party: String,
}

/// Output formats of `ward brochure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrochureFormat {
    /// A printable HTML page.
    Html,
    /// PDF, printed by headless Chromium.
    Pdf,
}

/// Renders one report into bytes.
pub fn render(
    format: ReportFormat,
    report: &ScanReport,
    sources: &Sources<'_>,
    root: &Organisation,
    detail: ReportDetail,
) -> anyhow::Result<Vec<u8>> {
    let format = match format {
        ReportFormat::Html | ReportFormat::Pdf => ward_export::Format::Html,
        ReportFormat::Json => ward_export::Format::Json,
        ReportFormat::Csv => ward_export::Format::Csv,
    };
    let detail = match detail {
        ReportDetail::Summary => ward_advice::html::Detail::Summary,
        ReportDetail::Full => ward_advice::html::Detail::Full,
    };
    Ok(ward_export::render(format, report, sources, root, detail)?)
}

pub async fn report_cmd(args: ReportArgs) -> anyhow::Result<crate::WardExit> {
    if args.format == ReportFormat::Pdf && args.output.is_none() {
        return Err(usage(
            "--format pdf needs -o FILE: a PDF is not written to a terminal",
        ));
    }
    let location = ward_store::Location::parse(&args.db);
    if let Some(path) = location.missing_file() {
        return Err(usage(format!(
            "no database at {}; run `ward scan --inventory FILE --db {}` first, or name one with --db",
            path.display(),
            path.display()
        )));
    }
    let (store, _) = ward_store::Store::open_location(&location).await?;
    let orgs = store.organisations().await?;
    let report = store.latest_report().await?;
    let assessments = assessments_from_store(store.latest_assessments().await?);
    let history = history_and_mail(&store).await?;
    store.close().await;
    let Some(root) = orgs.iter().find(|o| o.id == args.org) else {
        let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
        return Err(usage(format!(
            "no organisation `{}` in {} (known: {})",
            args.org,
            location,
            if ids.is_empty() {
                "none; scan an inventory first".to_owned()
            } else {
                ids.join(", ")
            }
        )));
    };
    let Some(report) = report else {
        return Err(usage(format!(
            "{} holds no scan yet; run `ward scan --inventory FILE --db {}` first",
            location, location
        )));
    };
    let sources = Sources {
        orgs: &orgs,
        assessments: &assessments,
        mail: Some(&history.mail),
        history: &history.scans,
        mail_since_last: history.mail_since_last.as_ref(),
    };
    let bytes = render(args.format, &report, &sources, root, args.detail)?;
    match (&args.output, args.format) {
        (Some(path), ReportFormat::Pdf) => html_to_pdf(&bytes, path)?,
        (Some(path), _) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?
        }
        (None, _) => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(crate::WardExit::Clean)
}

pub fn brochure_cmd(args: BrochureArgs) -> anyhow::Result<crate::WardExit> {
    let mut html = Vec::new();
    ward_advice::brochure::write_brochure(&mut html, &args.party)?;
    match args.format {
        BrochureFormat::Html => std::fs::write(&args.output, &html)
            .with_context(|| format!("writing {}", args.output.display()))?,
        BrochureFormat::Pdf => html_to_pdf(&html, &args.output)?,
    }
    println!("brochure written to {}", args.output.display());
    Ok(crate::WardExit::Clean)
}

/// Prints `html` to a PDF at `out`; no Chromium on the PATH is the user's to fix (exit
/// 2), anything else is ward's failure to finish (exit 3).
pub fn html_to_pdf(html: &[u8], out: &Path) -> anyhow::Result<()> {
    use ward_advice::pdf::{self, PdfError};
    pdf::html_to_pdf(html, out).map_err(|e| match e {
        PdfError::NoChromium => usage(e.to_string()),
        e => anyhow::Error::new(e),
    })
}

/// Example answers the demo stores, so its report shows the self-assessment.
const DEMO_ANSWERS_HQ: &str = r#"answered_at = "2026-11-01"
[answers]
backups = "yes"
antivirus = "yes"
updates = "partly"
unsupported = "yes"
mfa_everywhere = "partly"
mfa_strong = "no"
own_accounts = "yes"
admin_separate = "yes"
leavers = "partly"
passwords = "yes"
device_lock = "yes"
apps_usb = "partly"
router = "yes"
phishing_training = "partly"
verify_requests = "yes"
remote_images = "no"
personal_accounts = "unsure"
ncsc_services = "no"
asset_list = "partly"
suppliers = "partly"
alerts = "no"
incident_plan = "partly"
footprint = "no"
data_minimum = "yes"
"#;

const DEMO_ANSWERS_BRANCH: &str = r#"answered_at = "2026-10-15"
[answers]
backups = "no"
antivirus = "yes"
updates = "unsure"
mfa_everywhere = "no"
own_accounts = "no"
passwords = "partly"
phishing_training = "no"
personal_accounts = "no"
asset_list = "no"
incident_plan = "no"
"#;

/// What `ward demo` writes beside its scan: the party's report (at `party_report`), one
/// branch's report and the brochure, in the same folder.
pub async fn write_demo_outputs(
    store: &ward_store::Store,
    report: &ScanReport,
    orgs: &[Organisation],
    party_report: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let party = orgs
        .iter()
        .find(|o| o.kind == OrgKind::Party)
        .context("the demo inventory has no party")?;
    // The branch with the most failing findings shows the most advice.
    let branch = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Branch)
        .max_by_key(|b| {
            report
                .assets
                .iter()
                .filter(|a| a.organisation_id == b.id)
                .flat_map(|a| &a.findings)
                .filter(|f| f.status == ward_model::Status::Fail)
                .count()
        })
        .context("the demo inventory has no branch")?;
    for (org, text) in [(party, DEMO_ANSWERS_HQ), (branch, DEMO_ANSWERS_BRANCH)] {
        let a = parse_answers(text, "2026-11-01").map_err(anyhow::Error::msg)?;
        store
            .save_assessment(
                &ward_store::StoredAssessment {
                    organisation_id: org.id.clone(),
                    answered_at: a.answered_at.clone(),
                    answers: crate::assess_cmd::answers_json(&a),
                },
                report.scanned_at,
            )
            .await?;
    }
    let assessments = assessments_from_store(store.latest_assessments().await?);
    let history = history_and_mail(store).await?;
    let sources = Sources {
        orgs,
        assessments: &assessments,
        mail: Some(&history.mail),
        history: &history.scans,
        mail_since_last: history.mail_since_last.as_ref(),
    };
    let dir = party_report.parent().unwrap_or(Path::new(""));
    let branch_path = dir.join("ward-demo-branch-report.html");
    let brochure_path = dir.join("ward-demo-brochure.html");
    // The party's report is the committee's summary; the branch's shows the full detail a
    // volunteer works from.
    for (root, path, detail) in [
        (party, party_report.to_path_buf(), ReportDetail::Summary),
        (branch, branch_path.clone(), ReportDetail::Full),
    ] {
        let html = render(ReportFormat::Html, report, &sources, root, detail)?;
        std::fs::write(&path, html).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut brochure = Vec::new();
    ward_advice::brochure::write_brochure(&mut brochure, &party.name)?;
    std::fs::write(&brochure_path, brochure)
        .with_context(|| format!("writing {}", brochure_path.display()))?;
    Ok(vec![party_report.to_path_buf(), branch_path, brochure_path])
}
