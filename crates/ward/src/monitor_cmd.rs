//! `ward monitor`, `ward monitor status` and `ward worker`: the schedule, the queue and
//! the workers of `ward-monitor`, wired to flags, the inventory file and the alerts.

use crate::cli::{
    MonitorArgs, MonitorCommand, MonitorRunArgs, NetArgs, StatusArgs, StatusFormat, WorkArgs,
    WorkerArgs,
};
use crate::{WardExit, usage};
use anyhow::Context as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use ward_advice::terminal_safe;
use ward_monitor::{Schedule, WorkerConfig};
use ward_net::guard::TargetPolicy;
use ward_store::Store;

fn worker_config(work: &WorkArgs, name: String, until_idle: bool) -> WorkerConfig {
    WorkerConfig {
        name,
        lease: work.lease.max(Duration::from_millis(300)),
        in_flight: usize::from(work.in_flight),
        poll: work.poll.max(Duration::from_millis(50)),
        until_idle,
        budget: Duration::from_secs(work.domain_budget),
    }
}

fn prober(net: &NetArgs, work: &WorkArgs) -> anyhow::Result<ward_probe::Prober> {
    let rate = (work.per_host_rate > 0.0).then_some(work.per_host_rate);
    let cfg = crate::net_config_with_rate(net, rate)?;
    let anchor = crate::trust_anchor(net)?;
    let net = ward_net::Net::new(cfg).map_err(|e| usage(e.to_string()))?;
    Ok(ward_probe::Prober::new(net).with_trust_anchor(anchor))
}

/// Where alerts may be sent: webhooks to private addresses only in lab mode.
fn alert_targets(net: &NetArgs) -> TargetPolicy {
    if net.allow_private {
        TargetPolicy::AllowPrivate
    } else if net.lab_ports.is_some() || net.lab_ca.is_some() {
        TargetPolicy::LabLoopback
    } else {
        TargetPolicy::PublicOnly
    }
}

/// Stops on Ctrl-C or SIGTERM: the worker finishes and stores what it holds first.
fn stop_on_signal() -> CancellationToken {
    let stop = CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("ward: stopping; finishing the jobs held first");
        s.cancel();
    });
    stop
}

pub async fn monitor(args: MonitorArgs) -> anyhow::Result<WardExit> {
    if let Some(MonitorCommand::Status(a)) = args.command {
        return status(a).await;
    }
    let args = args.run;
    let Some(inventory) = args.inventory.clone() else {
        return Err(usage(
            "ward monitor needs --inventory FILE (the organisations and domains to watch); \
             see ward monitor --help",
        ));
    };
    let schedule = Schedule {
        every: args.every.max(Duration::from_secs(1)),
        servers_every: args.servers_every,
        certs_within: args.certs_within,
        jitter: args.jitter,
    };
    // Read once now, so a mistake is reported before anything starts.
    let first = read_inventory(&inventory).map_err(usage)?;
    let round_every = ward_monitor::schedule::round_every(
        &ward_monitor::schedule::effective(&first.organisations, &first.schedules, &schedule),
        &schedule,
    );
    let store = Store::open(&args.db).await?;
    let scan_here = args.scan || store.backend() == "sqlite";
    let prober = prober(&args.net, &args.work)?;
    let alert_targets = alert_targets(&args.net);
    // Checked now: a wrong --ca or a half-given SMTP setting is a usage error at start.
    args.delivery.config(alert_targets, None, false)?;
    let stop = stop_on_signal();
    let cfg = worker_config(&args.work, ward_monitor::worker::default_name(), false);
    eprintln!(
        "ward monitor: {} ({}), inventory {}, a round every {}, servers every {}{}",
        store.location(),
        store.backend(),
        inventory.display(),
        show(round_every),
        show(schedule.servers_every),
        if scan_here {
            ", scanning in this process"
        } else {
            "; run `ward worker --db …` processes to scan"
        }
    );
    let scheduler = scheduler(
        &store,
        &prober,
        &inventory,
        &schedule,
        round_every,
        &args,
        stop.clone(),
    );
    let outcome = if scan_here {
        let worker = async {
            let r = ward_monitor::worker::run(&store, &prober, &cfg, stop.clone()).await;
            stop.cancel();
            r
        };
        let (sched, work) = tokio::join!(scheduler, worker);
        work?;
        sched
    } else {
        scheduler.await
    };
    store.close().await;
    outcome
}

/// The scheduler's loop: a tick a second (or each --every, if shorter), alerts after
/// each round, and with --once the end after the first round it began.
async fn scheduler(
    store: &Store,
    prober: &ward_probe::Prober,
    inventory: &Path,
    schedule: &Schedule,
    mut round_every: Duration,
    args: &MonitorRunArgs,
    stop: CancellationToken,
) -> anyhow::Result<WardExit> {
    let alert_targets = alert_targets(&args.net);
    let mut once_round = None;
    let mut exit = WardExit::Clean;
    let mut backoff = Duration::from_millis(200);
    let started = std::time::Instant::now();
    while !stop.is_cancelled() {
        let tick_every = round_every.min(Duration::from_secs(1));
        // With --once the first tick begins a round whatever the schedules say.
        let round = if args.once && once_round.is_none() {
            Duration::ZERO
        } else {
            round_every
        };
        let lost = std::sync::Mutex::new(Vec::new());
        let watched = async || {
            let w = read_inventory(inventory)?;
            if !args.consent {
                return Ok(w);
            }
            consent(store, prober, w, &lost).await
        };
        let t = ward_monitor::tick(store, watched, schedule, round).await;
        let lost = lost.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Ok(ward_monitor::Tick { began: Some(b), .. }) = &t
            && !lost.is_empty()
        {
            proofs_lost(store, b.scan, lost).await?;
        }
        match t {
            Ok(t) => {
                backoff = Duration::from_millis(200);
                if let Some(every) = t.round_every
                    && every != round_every
                {
                    eprintln!(
                        "ward monitor: rounds now every {} (the inventory's most frequent schedule)",
                        show(every)
                    );
                    round_every = every;
                }
                if let Some(b) = t.began {
                    eprintln!(
                        "ward monitor: round {} began: {} domain(s), {} with their servers probed, {} carrying them, {} carried whole (not due under their schedule)",
                        b.round.0,
                        b.jobs,
                        b.servers,
                        b.jobs - b.servers - b.carried_whole,
                        b.carried_whole
                    );
                    if args.once && once_round.is_none() {
                        once_round = Some(b.round);
                    }
                }
                if args.once && once_round.is_none() {
                    // A round was already open (another monitor's, or one interrupted):
                    // --once waits for that one.
                    once_round = store.open_round().await.ok().flatten().map(|(r, _)| r);
                }
                for (round, scan) in &t.finished {
                    let st = store.monitor_status(20).await?;
                    let line = st.rounds.iter().find(|r| r.round == round.0);
                    let count = |k: &str| line.and_then(|r| r.states.get(k)).copied().unwrap_or(0);
                    eprintln!(
                        "ward monitor: round {} ended: scan {}, {} done, {} failed ({:.1} s since start)",
                        round.0,
                        scan.0,
                        count("done"),
                        count("failed"),
                        started.elapsed().as_secs_f64()
                    );
                    if !args.no_alerts && alert(store, inventory, args, alert_targets).await? {
                        exit = WardExit::Incomplete;
                    }
                    if once_round == Some(*round) {
                        stop.cancel();
                    }
                }
            }
            Err(ward_monitor::MonitorError::Inventory(e)) if args.once => return Err(usage(e)),
            Err(ward_monitor::MonitorError::Inventory(e)) => {
                eprintln!("ward monitor: {e}; the round waits until the inventory reads again");
            }
            Err(e) => {
                eprintln!(
                    "ward monitor: {e}; trying again in {} ms",
                    backoff.as_millis()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick_every) => {}
            _ = stop.cancelled() => {}
        }
    }
    Ok(exit)
}

/// Tells the contacts of the inventory what the round made worse. True when a digest
/// could not be delivered.
async fn alert(
    store: &Store,
    inventory: &Path,
    args: &MonitorRunArgs,
    targets: TargetPolicy,
) -> anyhow::Result<bool> {
    let name = inventory.display().to_string();
    let text = match std::fs::read_to_string(inventory) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ward monitor: alerts not sent: {name}: {e}");
            return Ok(true);
        }
    };
    let contacts = match ward_model::inventory::contacts(&name, &text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ward monitor: alerts not sent: {e}");
            return Ok(true);
        }
    };
    if contacts.iter().all(|(_, c)| c.is_empty()) {
        return Ok(false);
    }
    let cfg = args.delivery.config(targets, None, false)?;
    let outcomes = ward_alert::run(store, &contacts, &cfg).await?;
    let mut failed = false;
    for o in &outcomes {
        let what = match &o.sent {
            ward_alert::Sent::Sent { attempts } => format!("sent ({attempts} attempt(s))"),
            ward_alert::Sent::Held => "held (quiet hours)".into(),
            ward_alert::Sent::DryRun => "due".into(),
            ward_alert::Sent::DeadLetter { error, .. } => {
                failed = true;
                format!("dead letter: {error}")
            }
            ward_alert::Sent::Refused { error } => {
                failed = true;
                format!("not sent: {error}")
            }
        };
        eprintln!(
            "ward monitor: alert to {} ({} {}): {} item(s), {}",
            terminal_safe(&o.organisation_id),
            o.channel.as_str(),
            terminal_safe(&o.contact),
            o.digest.items.len(),
            terminal_safe(&what)
        );
    }
    Ok(failed)
}

/// Narrows the inventory to the domains proved now (service mode), and keeps the
/// ones whose proof just went in `lost`.
async fn consent(
    store: &Store,
    prober: &ward_probe::Prober,
    watched: ward_monitor::Watched,
    lost: &std::sync::Mutex<Vec<(String, String, String)>>,
) -> Result<ward_monitor::Watched, String> {
    let now = store.clock_ms().await.map_err(|e| e.to_string())?;
    let c = ward_monitor::consent::gate(store, prober, watched, now)
        .await
        .map_err(|e| format!("looking for proofs of ownership: {e}"))?;
    eprintln!(
        "ward monitor: consent: {} domain(s) proved, {} waiting for proof (not scanned), {} whose proof went{}",
        c.verified.len(),
        c.waiting.len(),
        c.lost.len(),
        if c.taken.is_empty() {
            String::new()
        } else {
            format!(", {} claimed by another organisation", c.taken.len())
        }
    );
    for (org, domain, seen) in &c.lost {
        eprintln!(
            "ward monitor: {} ({}): its proof of ownership is gone, so it is no longer scanned: {}",
            terminal_safe(domain),
            terminal_safe(org),
            terminal_safe(seen)
        );
    }
    *lost.lock().unwrap_or_else(|p| p.into_inner()) = c.lost;
    Ok(c.watched)
}

/// Records an alert for each domain whose proof went, so the round's digest tells its
/// organisation's contacts.
async fn proofs_lost(
    store: &Store,
    scan: ward_store::ScanId,
    lost: Vec<(String, String, String)>,
) -> anyhow::Result<()> {
    let events: Vec<ward_store::NewAlertEvent> = lost
        .into_iter()
        .map(|(organisation_id, domain, seen)| ward_store::NewAlertEvent {
            summary: format!(
                "ward has stopped scanning {domain}: the proof that it is yours is no longer there \
                 ({seen}). Put the TXT record or the file back to resume."
            ),
            organisation_id,
            domain,
            check: String::new(),
            scan,
            kind: ward_alert::PROOF_LOST.into(),
            status: "error".into(),
            severity: "high".into(),
        })
        .collect();
    store
        .record_alert_events(&events, time::OffsetDateTime::now_utc())
        .await?;
    Ok(())
}

fn read_inventory(path: &Path) -> Result<ward_monitor::schedule::Watched, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read inventory {}: {e}", path.display()))?;
    let inv = ward_model::inventory::read(&path.display().to_string(), &text)
        .map_err(|e| e.to_string())?;
    Ok(ward_monitor::schedule::Watched {
        organisations: inv.organisations,
        schedules: inv.schedules,
    })
}

fn show(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(86_400) {
        format!("{} d", s / 86_400)
    } else if s > 0 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub async fn worker(args: WorkerArgs) -> anyhow::Result<WardExit> {
    let store = Store::open(&args.db).await?;
    let prober = prober(&args.net, &args.work)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(ward_monitor::worker::default_name);
    let cfg = worker_config(&args.work, name.clone(), args.until_idle);
    let stop = stop_on_signal();
    eprintln!(
        "ward worker {name}: taking jobs from {} ({}), {} at once, lease {}",
        store.location(),
        store.backend(),
        cfg.in_flight,
        show(cfg.lease)
    );
    let tally = ward_monitor::worker::run(&store, &prober, &cfg, stop)
        .await
        .with_context(|| format!("worker {name}"))?;
    eprintln!(
        "ward worker {name}: {} stored, {} lost to another worker, {} failed, {} store retries",
        tally.stored, tally.lost, tally.failed, tally.store_retries
    );
    store.close().await;
    Ok(WardExit::Clean)
}

async fn status(args: StatusArgs) -> anyhow::Result<WardExit> {
    let store = Store::open(&args.db).await?;
    let st = store.monitor_status(args.rounds.max(1)).await?;
    let location = store.location().to_owned();
    let backend = store.backend();
    store.close().await;
    let mut out = std::io::stdout().lock();
    if args.format == StatusFormat::Json {
        let doc = serde_json::json!({
            "location": location,
            "backend": backend,
            "status": st,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(WardExit::Clean);
    }
    let ago = |ms: i64| format!("{:.0} s ago", (st.now_ms - ms).max(0) as f64 / 1000.0);
    writeln!(out, "ward monitor status: {location} ({backend})")?;
    match st.oldest_due_ms {
        Some(t) => writeln!(
            out,
            "queue: {} job(s) waiting; the oldest became due {}",
            st.queue_depth,
            ago(t)
        )?,
        None => writeln!(
            out,
            "queue: {} job(s) waiting, none due yet",
            st.queue_depth
        )?,
    }
    let states: Vec<String> = st.states.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(
        out,
        "jobs: {}",
        if states.is_empty() {
            "none yet (start `ward monitor`)".to_owned()
        } else {
            states.join(", ")
        }
    )?;
    for r in &st.rounds {
        let n = |k: &str| r.states.get(k).copied().unwrap_or(0);
        writeln!(
            out,
            "round {} (scan {}): began {}, {} of {} done, {} failed, {} running, {} due, {} taken again after a lease ran out{}",
            r.round,
            r.scan,
            ago(r.started_ms),
            n("done"),
            r.jobs,
            n("failed"),
            n("running"),
            n("due"),
            r.retaken,
            match r.finished_ms {
                Some(f) => format!(", ended after {:.1} s", (f - r.started_ms) as f64 / 1000.0),
                None => String::new(),
            }
        )?;
    }
    if st.workers.is_empty() {
        writeln!(out, "workers: none has started")?;
    } else {
        writeln!(out, "workers:")?;
    }
    for w in &st.workers {
        writeln!(
            out,
            "  {}  heartbeat {}, holding {}, {} done{}",
            terminal_safe(&w.name),
            ago(w.heartbeat_ms),
            w.holding,
            w.jobs_done,
            match w.stopped_ms {
                Some(s) => format!(", stopped {}", ago(s)),
                None => String::new(),
            }
        )?;
    }
    Ok(WardExit::Clean)
}
