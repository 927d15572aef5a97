//! Runs a scan: probe every asset (bounded concurrency), judge it, store it as it
//! completes, and hand back the document. One unreachable domain becomes findings that
//! say "could not tell"; it never stops the others.

use std::collections::BTreeMap;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;
use ward_model::{Asset, AssetReport, Finding, Organisation, ScanReport};
use ward_probe::Prober;
use ward_reports::analysis::{self, Summary};
use ward_store::{ReportFilter, Store};

/// One asset to scan and whose it is.
pub struct Target {
    pub asset: Asset,
    pub org: Organisation,
}

/// Every asset of `orgs`, in inventory order.
pub fn targets(orgs: &[Organisation]) -> Vec<Target> {
    orgs.iter()
        .flat_map(|o| {
            o.assets.iter().map(move |a| Target {
                asset: a.clone(),
                org: Organisation {
                    assets: Vec::new(),
                    ..o.clone()
                },
            })
        })
        .collect()
}

/// Mail reports a scan takes into account: those whose period ended at most this long
/// before the scan (30 days, as `ward reports summary --since 30d`).
pub const REPORT_WINDOW_SECS: i64 = 30 * 86_400;

/// What the store's mail reports say, for a scan with a store: the summary (with the
/// reverse names of the busiest sources) whose `reports.*` findings join each domain's
/// findings.
pub struct FromReports {
    summary: Summary,
    /// DKIM selectors that verified each domain's mail.
    selectors: BTreeMap<String, Vec<String>>,
}

impl FromReports {
    /// Reads the reports of the last [`REPORT_WINDOW_SECS`] before `at` from `store`,
    /// naming the sources through `net` (the scan's own resolver).
    pub async fn load(
        store: &Store,
        net: &ward_net::Net,
        at: OffsetDateTime,
    ) -> anyhow::Result<FromReports> {
        let data = store
            .report_data(&ReportFilter {
                domain: None,
                since: Some(at.unix_timestamp().saturating_sub(REPORT_WINDOW_SECS)),
            })
            .await?;
        let names = if data.sources.is_empty() {
            BTreeMap::new()
        } else {
            crate::reports_cmd::reverse_names(net, analysis::source_addresses(&data)).await
        };
        Ok(FromReports {
            summary: analysis::summarise(&data, &names),
            selectors: analysis::verified_selectors(&data),
        })
    }

    /// The summary, for printing.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The DKIM selectors the reports show verifying `domain`'s mail.
    fn selectors(&self, domain: &str) -> Vec<String> {
        self.selectors.get(domain).cloned().unwrap_or_default()
    }

    /// The `reports.*` findings about `domain`.
    fn findings(&self, domain: &str) -> Vec<Finding> {
        self.summary.findings_for(domain)
    }
}

/// Assets probed at once. Each asset asks a handful of questions in parallel, and the
/// network layer bounds the total, so this mostly bounds memory.
const ASSETS_IN_FLIGHT: usize = 64;

/// Scans `targets`, storing each asset in `store` (if any) as soon as it is judged. With
/// a store, what its mail reports say about each domain joins that domain's findings.
pub async fn run(
    prober: &Prober,
    targets: Vec<Target>,
    store: Option<&Store>,
) -> anyhow::Result<(ScanReport, Option<FromReports>)> {
    let scanned_at = OffsetDateTime::now_utc();
    let version = env!("CARGO_PKG_VERSION");
    let from_reports = match store {
        Some(s) => Some(FromReports::load(s, prober.net(), scanned_at).await?),
        None => None,
    };
    let from_reports_ref = from_reports.as_ref();
    let scan_id = match store {
        Some(s) => Some(s.begin_scan(scanned_at, version).await?),
        None => None,
    };
    let bar = ProgressBar::new(targets.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} domains {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut slots: Vec<Option<AssetReport>> = (0..targets.len()).map(|_| None).collect();
    let mut work = futures::stream::iter(targets.into_iter().enumerate())
        .map(|(i, mut t)| async move {
            // Selectors seen in the reports are asked about besides the built-in list.
            if let Some(r) = from_reports_ref {
                t.asset.reported_dkim_selectors = r.selectors(&t.asset.domain);
            }
            let needs = |o: &ward_model::observe::AssetObservation| {
                ward_checks::needed_lookups(&t.asset, o)
            };
            let obs = prober.probe(&t.asset, scanned_at, &needs).await;
            let ctx = ward_checks::Context {
                asset: &t.asset,
                size: t.org.size,
                obs: &obs,
            };
            let mut findings = ward_checks::judge(&ctx);
            if let Some(r) = from_reports_ref {
                findings.extend(r.findings(&t.asset.domain));
            }
            let report = AssetReport {
                domain: t.asset.domain.clone(),
                organisation: t.org.name.clone(),
                organisation_id: t.org.id.clone(),
                roles: t.asset.roles.clone(),
                findings,
            };
            (i, report, obs)
        })
        .buffer_unordered(ASSETS_IN_FLIGHT);
    while let Some((i, report, obs)) = work.next().await {
        if let (Some(store), Some(id)) = (store, scan_id) {
            store.save_asset(id, i, &report, &obs).await?;
        }
        bar.set_message(report.domain.clone());
        bar.inc(1);
        slots[i] = Some(report);
    }
    drop(work);
    bar.finish_and_clear();
    if let (Some(store), Some(id)) = (store, scan_id) {
        store.finish_scan(id, OffsetDateTime::now_utc()).await?;
    }
    let report = ScanReport {
        scanned_at,
        ward_version: version.to_owned(),
        assets: slots.into_iter().flatten().collect(),
    };
    Ok((report, from_reports))
}
