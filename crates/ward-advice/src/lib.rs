//! Renders findings for people: terminal tables, CSV, JSON and HTML.
//!
//! Renderers write to any `impl Write` and never open files or stdout themselves, so the
//! binary passes stdout and tests pass a `Vec<u8>`. Everything printed here may contain
//! text a stranger chose (TXT records, banners, certificate names): the terminal renderer
//! escapes control characters ([`terminal_safe`]), the HTML renderer escapes HTML, and the
//! CSV renderer defuses spreadsheet formulas.

pub mod advice;
pub mod assess;
pub mod brochure;
pub mod changes;
pub mod charts;
pub mod export;
pub mod html;
pub mod pdf;
pub mod readability;
pub mod score;
pub mod summary;
pub mod text;

pub use advice::{Advice, advice_for};
pub use summary::{Counts, OrgSummary, summarise};
pub use text::terminal_safe;

use std::io::{self, Write};
use ward_model::ScanReport;

/// Writes the scan as the one JSON document documented in docs/output.md.
pub fn write_json(w: &mut impl Write, report: &ScanReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report).map_err(io::Error::other)?;
    writeln!(w)
}

/// Writes one CSV row per finding (RFC 4180), with a header row.
pub fn write_csv(w: &mut impl Write, report: &ScanReport) -> io::Result<()> {
    let scanned = report
        .scanned_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    writeln!(
        w,
        "scanned_at,organisation_id,organisation,domain,check,status,severity,summary"
    )?;
    for a in &report.assets {
        for f in &a.findings {
            let cells = [
                scanned.as_str(),
                &a.organisation_id,
                &a.organisation,
                &a.domain,
                f.check.as_str(),
                f.status.as_str(),
                f.severity.as_str(),
                &f.summary,
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            writeln!(w, "{}", line.join(","))?;
        }
    }
    Ok(())
}

/// Quotes a CSV cell when needed, and defuses cells a spreadsheet would run as a
/// formula (leading `=`, `+`, `-`, `@`, tab or CR) by prefixing a single quote.
pub fn csv_cell(value: &str) -> String {
    let defused;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        defused = format!("'{value}");
        defused.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }
}
