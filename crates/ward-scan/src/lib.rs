//! The scan pipeline, shared by every caller that scans (the CLI today; the monitor and
//! its workers next): probe every asset with bounded concurrency, judge it, add what the
//! store's mail reports say about its domain, and hand each asset to a [`Sink`] as soon
//! as it is judged. One unreachable domain becomes findings that say "could not tell";
//! it never stops the others.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use time::OffsetDateTime;
use ward_model::observe::AssetObservation;
use ward_model::{Asset, AssetReport, Finding, Organisation, ScanReport};
use ward_probe::Prober;
use ward_reports::analysis::{self, Summary};
use ward_store::{ReportFilter, ScanId, Store, StoreError};

/// Why a scan could not finish. Probing never fails (failures are observations); only a
/// sink can.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The store refused a read or a write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One asset to scan and whose it is.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// The asset.
    pub asset: Asset,
    /// Its organisation, without its asset list.
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

/// Where judged assets go, one at a time, in the order they complete.
pub trait Sink {
    /// Before the first asset.
    fn begin(
        &mut self,
        _scanned_at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), ScanError>> {
        async { Ok(()) }
    }
    /// One judged asset; `position` is its index in the targets.
    fn asset(
        &mut self,
        position: usize,
        report: &AssetReport,
        observation: &AssetObservation,
    ) -> impl Future<Output = Result<(), ScanError>>;
    /// After the last asset.
    fn finish(&mut self) -> impl Future<Output = Result<(), ScanError>> {
        async { Ok(()) }
    }
}

/// A sink that keeps nothing (the returned [`ScanReport`] is all the caller wants).
pub struct Discard;

impl Sink for Discard {
    async fn asset(
        &mut self,
        _: usize,
        _: &AssetReport,
        _: &AssetObservation,
    ) -> Result<(), ScanError> {
        Ok(())
    }
}

/// Both sinks, in order.
impl<A: Sink, B: Sink> Sink for (A, B) {
    async fn begin(&mut self, scanned_at: OffsetDateTime) -> Result<(), ScanError> {
        self.0.begin(scanned_at).await?;
        self.1.begin(scanned_at).await
    }
    async fn asset(
        &mut self,
        position: usize,
        report: &AssetReport,
        observation: &AssetObservation,
    ) -> Result<(), ScanError> {
        self.0.asset(position, report, observation).await?;
        self.1.asset(position, report, observation).await
    }
    async fn finish(&mut self) -> Result<(), ScanError> {
        self.0.finish().await?;
        self.1.finish().await
    }
}

/// Stores the scan: a `running` scan row first, each asset in its own transaction as
/// soon as it is judged (so an interrupted scan keeps whole assets), `complete` last.
pub struct StoreSink<'a> {
    store: &'a Store,
    scan: Option<ScanId>,
}

impl<'a> StoreSink<'a> {
    /// A sink that writes to `store`.
    pub fn new(store: &'a Store) -> Self {
        StoreSink { store, scan: None }
    }
}

impl Sink for StoreSink<'_> {
    async fn begin(&mut self, scanned_at: OffsetDateTime) -> Result<(), ScanError> {
        self.scan = Some(self.store.begin_scan(scanned_at, VERSION).await?);
        Ok(())
    }
    async fn asset(
        &mut self,
        position: usize,
        report: &AssetReport,
        observation: &AssetObservation,
    ) -> Result<(), ScanError> {
        if let Some(id) = self.scan {
            self.store
                .save_asset(id, position, report, observation)
                .await?;
        }
        Ok(())
    }
    async fn finish(&mut self) -> Result<(), ScanError> {
        if let Some(id) = self.scan {
            self.store
                .finish_scan(id, OffsetDateTime::now_utc())
                .await?;
        }
        Ok(())
    }
}

/// Mail reports a scan takes into account: those whose period ended at most this long
/// before the scan (30 days, as `ward reports summary --since 30d`).
pub const REPORT_WINDOW_SECS: i64 = 30 * 86_400;

/// What the store's mail reports say: the summary (with the reverse names of the
/// busiest sources) whose `reports.*` findings join each domain's findings, and the DKIM
/// selectors that verified each domain's mail.
pub struct FromReports {
    summary: Summary,
    selectors: BTreeMap<String, Vec<String>>,
}

impl FromReports {
    /// Reads the reports of the last [`REPORT_WINDOW_SECS`] before `at` from `store`,
    /// naming the sources through `net` (the scan's own resolver).
    pub async fn load(
        store: &Store,
        net: &ward_net::Net,
        at: OffsetDateTime,
    ) -> Result<FromReports, ScanError> {
        let data = store
            .report_data(&ReportFilter {
                domain: None,
                since: Some(at.unix_timestamp().saturating_sub(REPORT_WINDOW_SECS)),
            })
            .await?;
        let names = if data.sources.is_empty() {
            BTreeMap::new()
        } else {
            net.reverse_names(analysis::source_addresses(&data)).await
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

/// The version written into every scan document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Assets probed at once. Each asset asks a handful of questions in parallel, and the
/// network layer bounds the total, so this mostly bounds memory.
const ASSETS_IN_FLIGHT: usize = 64;

/// Default time budget of one domain: every question and connection made for it
/// ([`ward_net::budget`]). A healthy domain takes well under a second on the lab and a
/// few seconds on the internet; a domain behind a silent nameserver would otherwise
/// cost every round its full DNS timeout.
pub const DEFAULT_DOMAIN_BUDGET: Duration = Duration::from_secs(30);

/// What a scan takes from an earlier observation of the asset instead of asking again.
#[derive(Debug, Clone)]
pub enum Carry {
    /// Nothing: everything is asked.
    Nothing,
    /// The web and mail servers' part ([`Prober::probe_carrying`]); DNS is asked.
    Servers(AssetObservation),
    /// All of it: nothing is asked, and the checks judge it as of the new time
    /// ([`AssetObservation::carried_whole`]).
    Whole(AssetObservation),
}

/// The pipeline: a prober, and optionally what the mail reports say.
pub struct Scanner<'a> {
    prober: &'a Prober,
    reports: Option<&'a FromReports>,
    budget: Duration,
}

impl<'a> Scanner<'a> {
    /// Scans through `prober`.
    pub fn new(prober: &'a Prober) -> Self {
        Scanner {
            prober,
            reports: None,
            budget: DEFAULT_DOMAIN_BUDGET,
        }
    }

    /// Bounds the time spent on each domain; what is not learnt by then is "could not
    /// tell", naming the budget.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// Adds the mail reports' findings to each domain's, and asks for the DKIM
    /// selectors they show besides the built-in list.
    pub fn with_reports(mut self, reports: Option<&'a FromReports>) -> Self {
        self.reports = reports;
        self
    }

    /// Probes and judges one asset as of `scanned_at`, within the budget, taking from
    /// an earlier observation what `carry` says instead of asking for it again.
    pub async fn scan_one(
        &self,
        mut t: Target,
        scanned_at: OffsetDateTime,
        carry: Carry,
    ) -> (AssetReport, AssetObservation) {
        if let Some(r) = self.reports {
            t.asset.reported_dkim_selectors = r.selectors(&t.asset.domain);
        }
        let needs = |o: &AssetObservation| ward_checks::needed_lookups(&t.asset, o);
        let obs = match carry {
            Carry::Whole(earlier) => earlier.carried_whole(scanned_at),
            Carry::Servers(earlier) => self.probe(&t, scanned_at, &needs, Some(earlier)).await,
            Carry::Nothing => self.probe(&t, scanned_at, &needs, None).await,
        };
        let ctx = ward_checks::Context {
            asset: &t.asset,
            size: t.org.size,
            obs: &obs,
        };
        let mut findings = ward_checks::judge(&ctx);
        if let Some(r) = self.reports {
            findings.extend(r.findings(&t.asset.domain));
        }
        let report = AssetReport {
            dmarc_phase: ward_checks::mail::dmarc::phase(&findings),
            domain: t.asset.domain.clone(),
            organisation: t.org.name.clone(),
            organisation_id: t.org.id.clone(),
            roles: t.asset.roles.clone(),
            findings,
        };
        (report, obs)
    }

    async fn probe(
        &self,
        t: &Target,
        scanned_at: OffsetDateTime,
        needs: &(dyn Fn(&AssetObservation) -> Vec<(String, String)> + Sync),
        carried: Option<AssetObservation>,
    ) -> AssetObservation {
        ward_net::budget::within(
            self.budget,
            self.prober
                .probe_carrying(&t.asset, scanned_at, needs, carried),
        )
        .await
    }

    /// Scans `targets` as of `scanned_at`, handing each asset to `sink` as soon as it is
    /// judged, and returns the whole document in target order.
    pub async fn run<S: Sink>(
        &self,
        targets: Vec<Target>,
        scanned_at: OffsetDateTime,
        sink: &mut S,
    ) -> Result<ScanReport, ScanError> {
        sink.begin(scanned_at).await?;
        let mut slots: Vec<Option<AssetReport>> = (0..targets.len()).map(|_| None).collect();
        let mut work = futures::stream::iter(targets.into_iter().enumerate())
            .map(|(i, t)| async move {
                let (report, obs) = self.scan_one(t, scanned_at, Carry::Nothing).await;
                (i, report, obs)
            })
            .buffer_unordered(ASSETS_IN_FLIGHT);
        while let Some((i, report, obs)) = work.next().await {
            sink.asset(i, &report, &obs).await?;
            slots[i] = Some(report);
        }
        drop(work);
        sink.finish().await?;
        let assets: Vec<AssetReport> = slots.into_iter().flatten().collect();
        let mut warnings = ScanReport::warnings_for(&assets);
        let net = self.prober.net();
        if net.resolver_does_not_recurse() {
            warnings.insert(
                0,
                format!(
                    "the resolver {} does not recurse: it answers with referrals to other \
                     nameservers, so every answer it gave is \"could not tell\", not \"no record\"; \
                     point --resolver at a recursive resolver",
                    net.config().resolver()
                ),
            );
        }
        Ok(ScanReport {
            scanned_at,
            ward_version: VERSION.to_owned(),
            warnings,
            assets,
        })
    }
}
