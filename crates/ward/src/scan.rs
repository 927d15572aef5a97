//! Wires a scan for the terminal: the pipeline from `ward-scan`, a progress bar, and
//! the store when there is one.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use ward_model::observe::AssetObservation;
use ward_model::{AssetReport, ScanReport};
use ward_probe::Prober;
use ward_scan::{FromReports, ScanError, Scanner, Sink, StoreSink, Target};
use ward_store::Store;

pub use ward_scan::targets;

/// How a scan is paced: the time budget of each domain, and how often a progress line
/// is printed when stderr is not a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Most time spent on one domain.
    pub budget: Duration,
    /// Interval between progress lines off a terminal.
    pub progress_every: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            budget: ward_scan::DEFAULT_DOMAIN_BUDGET,
            progress_every: Duration::from_secs(5),
        }
    }
}

/// What the progress line reports, shared with the task that prints it.
#[derive(Default)]
struct Tally {
    done: AtomicUsize,
    unknown_domains: AtomicUsize,
    unknown_checks: AtomicUsize,
}

impl Tally {
    fn line(&self, total: usize, started: Instant) -> String {
        let checks = self.unknown_checks.load(Ordering::Relaxed);
        let domains = self.unknown_domains.load(Ordering::Relaxed);
        format!(
            "ward: scanned {} of {total} domains in {:.0} s; could not tell so far: {checks} check(s) on {domains} domain(s)",
            self.done.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
        )
    }
}

/// Progress: a bar on a terminal; off one (a log, CI), a line every few seconds, so a
/// long scan is never silent.
struct Progress {
    bar: ProgressBar,
    tally: Arc<Tally>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    fn start(total: usize, every: Duration) -> Progress {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} domains {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let tally = Arc::new(Tally::default());
        let ticker = (!std::io::stderr().is_terminal()).then(|| {
            let tally = tally.clone();
            let started = Instant::now();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    eprintln!("{}", tally.line(total, started));
                }
            })
        });
        Progress { bar, tally, ticker }
    }
}

impl Sink for Progress {
    async fn asset(
        &mut self,
        _: usize,
        report: &AssetReport,
        _: &AssetObservation,
    ) -> Result<(), ScanError> {
        let unknown = report
            .findings
            .iter()
            .filter(|f| f.status == ward_model::Status::Error)
            .count();
        self.tally.done.fetch_add(1, Ordering::Relaxed);
        if unknown > 0 {
            self.tally.unknown_domains.fetch_add(1, Ordering::Relaxed);
            self.tally
                .unknown_checks
                .fetch_add(unknown, Ordering::Relaxed);
        }
        self.bar.set_message(report.domain.clone());
        self.bar.inc(1);
        Ok(())
    }
    async fn finish(&mut self) -> Result<(), ScanError> {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        self.bar.finish_and_clear();
        Ok(())
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}

/// Scans `targets` with a progress bar, storing each asset in `store` (if any) as soon as
/// it is judged. With a store, what its mail reports say about each domain joins that
/// domain's findings.
pub async fn run(
    prober: &Prober,
    targets: Vec<Target>,
    store: Option<&Store>,
    pace: Pace,
) -> anyhow::Result<(ScanReport, Option<FromReports>)> {
    let scanned_at = OffsetDateTime::now_utc();
    let from_reports = match store {
        Some(s) => Some(FromReports::load(s, prober.net(), scanned_at).await?),
        None => None,
    };
    let progress = Progress::start(targets.len(), pace.progress_every);
    let scanner = Scanner::new(prober)
        .with_reports(from_reports.as_ref())
        .with_budget(pace.budget);
    let report = match store {
        Some(s) => {
            let mut sink = (StoreSink::new(s), progress);
            scanner.run(targets, scanned_at, &mut sink).await?
        }
        None => {
            let mut sink = progress;
            scanner.run(targets, scanned_at, &mut sink).await?
        }
    };
    Ok((report, from_reports))
}
