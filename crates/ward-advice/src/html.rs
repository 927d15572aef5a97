//! The HTML report: one self-contained file (inline CSS, no scripts), printable and
//! readable by a screen reader. Askama escapes every value.

use crate::summary::OrgSummary;
use askama::Template;
use std::io::{self, Write};
use ward_model::ScanReport;

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    title: &'a str,
    scanned_at: String,
    version: &'a str,
    summaries: &'a [OrgSummary],
    report: &'a ScanReport,
}

/// Writes the report for `report`, grouped as in `summaries`.
pub fn write_html(
    w: &mut impl Write,
    title: &str,
    report: &ScanReport,
    summaries: &[OrgSummary],
) -> io::Result<()> {
    let page = ReportPage {
        title,
        scanned_at: report
            .scanned_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        version: &report.ward_version,
        summaries,
        report,
    };
    let html = page.render().map_err(io::Error::other)?;
    w.write_all(html.as_bytes())
}
