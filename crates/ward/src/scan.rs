//! Runs a scan: probe every asset (bounded concurrency), judge it, store it as it
//! completes, and hand back the document. One unreachable domain becomes findings that
//! say "could not tell"; it never stops the others.

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;
use ward_model::{Asset, AssetReport, Organisation, ScanReport};
use ward_probe::Prober;
use ward_store::Store;

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

/// Assets probed at once. Each asset asks a handful of questions in parallel, and the
/// network layer bounds the total, so this mostly bounds memory.
const ASSETS_IN_FLIGHT: usize = 64;

/// Scans `targets`, storing each asset in `store` (if any) as soon as it is judged.
pub async fn run(
    prober: &Prober,
    targets: Vec<Target>,
    store: Option<&Store>,
) -> anyhow::Result<ScanReport> {
    let scanned_at = OffsetDateTime::now_utc();
    let version = env!("CARGO_PKG_VERSION");
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
        .map(|(i, t)| async move {
            let needs = |o: &ward_model::observe::AssetObservation| {
                ward_checks::needed_lookups(&t.asset, o)
            };
            let obs = prober.probe(&t.asset, scanned_at, &needs).await;
            let ctx = ward_checks::Context {
                asset: &t.asset,
                size: t.org.size,
                obs: &obs,
            };
            let findings = ward_checks::judge(&ctx);
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
    bar.finish_and_clear();
    if let (Some(store), Some(id)) = (store, scan_id) {
        store.finish_scan(id, OffsetDateTime::now_utc()).await?;
    }
    Ok(ScanReport {
        scanned_at,
        ward_version: version.to_owned(),
        assets: slots.into_iter().flatten().collect(),
    })
}
