//! A worker: takes due jobs from the store, scans them, stores each asset with its job.
//!
//! Faults are waited out, not fatal: while the store cannot be reached (PostgreSQL
//! restarting, a network cut) the worker keeps what it has scanned in memory and tries
//! again with doubling waits; once the store is back it stores it, if it still holds the
//! job. A job it lost meanwhile (its lease ran out and another worker took it) is
//! dropped, never stored twice.

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use ward_model::AssetReport;
use ward_model::observe::AssetObservation;
use ward_probe::Prober;
use ward_scan::{Carry, FromReports, Scanner, Target};
use ward_store::{Claimed, Store, StoreError};

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Its name in the store (unique per process: host and pid by default).
    pub name: String,
    /// How long a job is held without a heartbeat before another worker may take it.
    pub lease: Duration,
    /// Jobs scanned at once.
    pub in_flight: usize,
    /// How long to wait before asking again when nothing is due.
    pub poll: Duration,
    /// Stop once no round is open and nothing is held (`ward worker --until-idle`,
    /// `ward monitor --once`).
    pub until_idle: bool,
    /// Time budget of one domain.
    pub budget: Duration,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerTally {
    /// Jobs scanned and stored.
    pub stored: u64,
    /// Jobs scanned but lost to another worker before they could be stored.
    pub lost: u64,
    /// Jobs that could not be scanned (given back, or failed after their last try).
    pub failed: u64,
    /// Times the store refused and was waited for.
    pub store_retries: u64,
}

/// Longest wait between two tries at an unreachable store.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

type Scanned = (Claimed, Result<(AssetReport, AssetObservation), String>);

/// What the jobs of one round share: a prober of its own, so that nothing a worker
/// learnt in an earlier round (a DNS answer, a silent host, a TLS result) stands in
/// for what the servers say now, and the round's mail reports.
struct RoundKit {
    prober: Prober,
    reports: FromReports,
}

/// Runs a worker until `stop` is cancelled (it then finishes and stores what it holds)
/// or, with [`WorkerConfig::until_idle`], until there is nothing left to do.
pub async fn run(
    store: &Store,
    prober: &Prober,
    cfg: &WorkerConfig,
    stop: CancellationToken,
) -> Result<WorkerTally, StoreError> {
    let mut tally = WorkerTally::default();
    let mut backoff = FIRST_BACKOFF;
    loop {
        match store
            .register_worker(&cfg.name, &host_name(), std::process::id())
            .await
        {
            Ok(()) => break,
            Err(e) if !stop.is_cancelled() => {
                tracing::warn!("{e}; trying again in {} ms", backoff.as_millis());
                tally.store_retries += 1;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(e) => return Err(e),
        }
    }
    // The scans run in their own future, joined with the loop that takes and stores
    // jobs: while that loop waits on the store (a heartbeat, a commit, a store that is
    // away), the scans keep going and keep giving back their pool connections. Polling
    // them from inside the loop instead deadlocked once every connection was held by a
    // scan the loop was not polling.
    let (job_tx, mut job_rx) = tokio::sync::mpsc::unbounded_channel::<(Claimed, Arc<RoundKit>)>();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Scanned>();
    let scans = async move {
        let mut running = FuturesUnordered::new();
        let mut open = true;
        loop {
            tokio::select! {
                j = job_rx.recv(), if open => match j {
                    Some((job, kit)) => running.push(scan(store, cfg.budget, job, kit)),
                    None => open = false,
                },
                Some(r) = running.next(), if !running.is_empty() => {
                    if done_tx.send(r).is_err() {
                        break;
                    }
                }
                else => break,
            }
        }
    };
    let control = async move {
        let mut held: BTreeSet<i64> = BTreeSet::new();
        let mut rounds: HashMap<i64, Arc<RoundKit>> = HashMap::new();
        let mut next_claim = Instant::now();
        let mut next_beat = Instant::now() + cfg.lease / 3;
        let mut stopping = false;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if stopping && held.is_empty() {
                break;
            }
            let now = Instant::now();
            if !stopping && held.len() < cfg.in_flight && next_claim <= now {
                match claim(store, cfg, held.len(), &mut rounds, prober).await {
                    Ok(jobs) => {
                        backoff = FIRST_BACKOFF;
                        if jobs.is_empty() {
                            if held.is_empty()
                                && cfg.until_idle
                                && store.open_round().await.ok().flatten().is_none()
                            {
                                break;
                            }
                            next_claim = now + cfg.poll;
                        }
                        for (job, kit) in jobs {
                            held.insert(job.id);
                            if job_tx.send((job, kit)).is_err() {
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(
                            "taking jobs: {e}; trying again in {} ms",
                            backoff.as_millis()
                        );
                        tally.store_retries += 1;
                        next_claim = now + backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
            let can_claim = !stopping && held.len() < cfg.in_flight;
            tokio::select! {
                r = done_rx.recv(), if !held.is_empty() => match r {
                    Some((job, result)) => {
                        store_result(store, cfg, &job, result, &mut tally, &stop).await;
                        held.remove(&job.id);
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(next_claim), if can_claim => {}
                _ = tokio::time::sleep_until(next_beat) => {
                    next_beat = Instant::now() + cfg.lease / 3;
                    let ids: Vec<i64> = held.iter().copied().collect();
                    if let Err(e) = store.heartbeat(&cfg.name, &ids, cfg.lease).await {
                        tracing::warn!("heartbeat: {e}");
                    }
                }
                _ = stop.cancelled(), if !stopping => stopping = true,
            }
        }
        drop(job_tx);
        tally
    };
    let (tally, ()) = tokio::join!(control, scans);
    if let Err(e) = store.worker_stopped(&cfg.name).await {
        tracing::warn!("recording that the worker stopped: {e}");
    }
    Ok(tally)
}

/// Takes what fits in the free slots, each job with its round's kit (a fresh prober and
/// the mail reports, made once per round per worker).
async fn claim(
    store: &Store,
    cfg: &WorkerConfig,
    busy: usize,
    rounds: &mut HashMap<i64, Arc<RoundKit>>,
    prober: &Prober,
) -> Result<Vec<(Claimed, Arc<RoundKit>)>, StoreError> {
    let jobs = store
        .claim_jobs(&cfg.name, cfg.in_flight.saturating_sub(busy), cfg.lease)
        .await?;
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let kit = match rounds.get(&job.scan.0) {
            Some(kit) => kit.clone(),
            None => {
                let prober = prober.fresh();
                let reports = FromReports::load(store, prober.net(), OffsetDateTime::now_utc())
                    .await
                    .map_err(|ward_scan::ScanError::Store(e)| e)?;
                let kit = Arc::new(RoundKit { prober, reports });
                // Only the current round's are kept.
                rounds.retain(|s, _| *s >= job.scan.0);
                rounds.insert(job.scan.0, kit.clone());
                kit
            }
        };
        out.push((job, kit));
    }
    Ok(out)
}

/// Scans one job. A job's own fault (a target the store holds but this ward cannot
/// read) is an error for that job alone.
async fn scan(store: &Store, budget: Duration, job: Claimed, kit: Arc<RoundKit>) -> Scanned {
    let target: Target = match serde_json::from_str(&job.target) {
        Ok(t) => t,
        Err(e) => {
            let msg = format!("job {} ({}): unreadable target: {e}", job.id, job.domain);
            return (job, Err(msg));
        }
    };
    let carry = if job.servers {
        Carry::Nothing
    } else {
        match store.latest_observation(&job.domain).await {
            Ok(Some(o)) if !job.dns => Carry::Whole(o),
            Ok(Some(o)) => Carry::Servers(o),
            // Without the earlier observation everything is simply asked again.
            Ok(None) => Carry::Nothing,
            Err(e) => {
                tracing::warn!("{}: reading its last observation: {e}", job.domain);
                Carry::Nothing
            }
        }
    };
    let scanner = Scanner::new(&kit.prober)
        .with_reports(Some(&kit.reports))
        .with_budget(budget);
    let result = scanner
        .scan_one(target, OffsetDateTime::now_utc(), carry)
        .await;
    (job, Ok(result))
}

/// Stores a scanned job, waiting out a store that is away.
async fn store_result(
    store: &Store,
    cfg: &WorkerConfig,
    job: &Claimed,
    result: Result<(AssetReport, AssetObservation), String>,
    tally: &mut WorkerTally,
    stop: &CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let outcome = match &result {
            Ok((report, obs)) => store
                .complete_job(&cfg.name, job, report, obs)
                .await
                .map(|held| if held { Done::Stored } else { Done::Lost }),
            Err(msg) => store
                .fail_job(&cfg.name, job, msg, false)
                .await
                .map(|()| Done::Failed),
        };
        match outcome {
            Ok(Done::Stored) => tally.stored += 1,
            Ok(Done::Lost) => {
                tracing::info!(
                    "{}: another worker took this job after its lease ran out; not stored twice",
                    job.domain
                );
                tally.lost += 1;
            }
            Ok(Done::Failed) => {
                tracing::warn!("{}", result.as_ref().err().map_or("", String::as_str));
                tally.failed += 1;
            }
            Err(e) => {
                tally.store_retries += 1;
                tracing::warn!(
                    "storing {}: {e}; trying again in {} ms",
                    job.domain,
                    backoff.as_millis()
                );
                // A worker told to stop while the store is away still keeps trying for
                // a while: what it scanned is lost otherwise (the job is redone).
                if stop.is_cancelled() && backoff >= MAX_BACKOFF {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        return;
    }
}

enum Done {
    Stored,
    Lost,
    Failed,
}

/// This machine's name, for `ward monitor status`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The default worker name: host and process id.
pub fn default_name() -> String {
    format!("{}:{}", host_name(), std::process::id())
}
