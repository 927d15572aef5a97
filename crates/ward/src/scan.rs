//! Wires a scan for the terminal: the pipeline from `ward-scan`, a progress bar, and
//! the store when there is one.

use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;
use ward_model::observe::AssetObservation;
use ward_model::{AssetReport, ScanReport};
use ward_probe::Prober;
use ward_scan::{FromReports, ScanError, Scanner, Sink, StoreSink, Target};
use ward_store::Store;

pub use ward_scan::targets;

/// The terminal's progress bar, one step per judged asset.
struct Progress(ProgressBar);

impl Sink for Progress {
    async fn asset(
        &mut self,
        _: usize,
        report: &AssetReport,
        _: &AssetObservation,
    ) -> Result<(), ScanError> {
        self.0.set_message(report.domain.clone());
        self.0.inc(1);
        Ok(())
    }
    async fn finish(&mut self) -> Result<(), ScanError> {
        self.0.finish_and_clear();
        Ok(())
    }
}

/// Scans `targets` with a progress bar, storing each asset in `store` (if any) as soon as
/// it is judged. With a store, what its mail reports say about each domain joins that
/// domain's findings.
pub async fn run(
    prober: &Prober,
    targets: Vec<Target>,
    store: Option<&Store>,
) -> anyhow::Result<(ScanReport, Option<FromReports>)> {
    let scanned_at = OffsetDateTime::now_utc();
    let from_reports = match store {
        Some(s) => Some(FromReports::load(s, prober.net(), scanned_at).await?),
        None => None,
    };
    let bar = ProgressBar::new(targets.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} domains {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let scanner = Scanner::new(prober).with_reports(from_reports.as_ref());
    let report = match store {
        Some(s) => {
            let mut sink = (StoreSink::new(s), Progress(bar));
            scanner.run(targets, scanned_at, &mut sink).await?
        }
        None => scanner.run(targets, scanned_at, &mut Progress(bar)).await?,
    };
    Ok((report, from_reports))
}
