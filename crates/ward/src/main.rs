//! The `ward` binary: parses the command line, builds the pieces, wires them together.

mod alert_cmd;
mod assess_cmd;
mod changes_cmd;
mod cli;
mod db_cmd;
mod monitor_cmd;
mod report_cmd;
mod reports_cmd;
mod scan;
mod serve_cmd;

use anyhow::Context as _;
use clap::Parser;
use cli::{Cli, Command, Format};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use ward_model::{Asset, OrgKind, Organisation, Role, ScanReport, Severity, SizeClass};
use ward_net::{ConfigError, Net, NetConfig, PortMap};

/// mimalloc instead of the system allocator: a scan makes and drops many small values
/// (names, records, evidence), and glibc's malloc and free were about a third of the
/// mail benchmark's instructions; with mimalloc the scan needs about a quarter fewer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses scripts can rely on (documented in `ward --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WardExit {
    Clean = 0,
    FindingsAtOrAbove = 1,
    Usage = 2,
    Incomplete = 3,
    CouldNotTell = 4,
}

/// An error the user caused (bad flag value, bad input file): exit 2, not 3.
#[derive(Debug)]
struct UsageError(String);
impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

fn main() -> ExitCode {
    // One crypto provider for every TLS use in the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.color.for_stderr());
    // A scan's probes all run inside one future (a `buffer_unordered` stream), so the
    // work is on one thread whatever the runtime; a multi-thread runtime would only add a
    // cross-thread wake-up for every DNS reply and TCP read, which the mail benchmark
    // measured at a fifth of the scan's throughput (docs/performance.md). Ingestion and
    // the lab use their worker threads, so they keep the multi-thread runtime.
    let mut builder = match cli.command {
        Command::Scan(_) | Command::Monitor(_) | Command::Worker(_) => {
            tokio::runtime::Builder::new_current_thread()
        }
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ward: cannot start the async runtime: {e}");
            return ExitCode::from(WardExit::Incomplete as u8);
        }
    };
    let outcome = runtime.block_on(run(cli));
    let code = match outcome {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            WardExit::Clean
        }
        Err(e) => {
            eprintln!("ward: {}", error_text(&e));
            if e.downcast_ref::<UsageError>().is_some() {
                WardExit::Usage
            } else {
                WardExit::Incomplete
            }
        }
    };
    ExitCode::from(code as u8)
}

/// The error and its causes, each said once: a store error names its file and repeats
/// the driver's message, which the chain would print twice more.
fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn init_logging(verbose: u8, colour: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // hickory-server (the lab's DNS) warns "unexpected lookup skip" for every DNSSEC
    // answer from a zone without NSEC3 (catalog.rs, 0.26): noise, not a problem.
    let default = format!("{default},hickory_server::zone_handler::catalog=error");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<WardExit> {
    match cli.command {
        Command::Scan(args) => scan_cmd(args).await,
        Command::Demo(args) => demo_cmd(args).await,
        Command::Lab(args) => lab_cmd(args).await,
        Command::Assess(args) => assess_cmd::assess_cmd(args).await,
        Command::Report(args) => report_cmd::report_cmd(args).await,
        Command::Brochure(args) => report_cmd::brochure_cmd(args),
        Command::Changes(args) => changes_cmd::run(args).await,
        Command::Alert(args) => alert_cmd::run(args).await,
        Command::Reports(args) => reports_cmd::run(args).await,
        Command::Db(args) => db_cmd::run(args).await,
        Command::Monitor(args) => monitor_cmd::monitor(*args).await,
        Command::Worker(args) => monitor_cmd::worker(args).await,
        Command::Serve(args) => serve_cmd::serve(args).await,
    }
}

fn net_config(args: &cli::NetArgs) -> anyhow::Result<NetConfig> {
    net_config_with_rate(args, None)
}

/// As [`net_config`], with operations against one address spaced `1/rate` s apart.
fn net_config_with_rate(args: &cli::NetArgs, rate: Option<f64>) -> anyhow::Result<NetConfig> {
    let resolver = match args.resolver {
        Some(r) => r,
        None => ward_net::resolv_conf::system_resolver(std::path::Path::new(
            ward_net::resolv_conf::RESOLV_CONF,
        ))
        .map_err(|e| usage(e.to_string()))?,
    };
    let mut cfg = NetConfig::builder(resolver)
        .dns_timeout_secs(args.dns_timeout)
        .map_err(net_usage)?;
    if args.allow_private {
        cfg = cfg.dangerous_allow_private_targets();
    }
    if let Some(map) = &args.lab_ports {
        let ports = PortMap::parse(map).map_err(|e| usage(format!("--lab-ports: {e}")))?;
        cfg = cfg.dangerous_lab_mode(ports);
    } else if args.lab_ca.is_some() {
        cfg = cfg.dangerous_lab_mode(PortMap::default());
    }
    if let Some(ca) = &args.lab_ca {
        // Read now, so a wrong path is reported before any scanning starts.
        let pem =
            std::fs::read(ca).map_err(|e| usage(format!("--lab-ca {}: {e}", ca.display())))?;
        cfg = cfg.extra_ca_pem(pem);
    }
    // After the lab flags, so that of several mistakes the same one is reported as before.
    let cfg = cfg
        .dns_attempts(args.dns_attempts)
        .and_then(|c| c.concurrency(args.concurrency))
        .and_then(|c| c.per_host(args.per_host))
        .and_then(|c| c.per_host_rate(rate))
        .map_err(net_usage)?;
    Ok(cfg.build())
}

/// A network limit the user got wrong, as a usage error. The DNS timeout's message names
/// its flag, as it always has; the other limits' messages are ward-net's own.
fn net_usage(e: ConfigError) -> anyhow::Error {
    match e {
        ConfigError::DnsTimeout(secs) => usage(format!(
            "--dns-timeout must be between {} and {} seconds, not {secs}",
            ward_net::MIN_DNS_TIMEOUT_SECS,
            ward_net::MAX_DNS_TIMEOUT_SECS
        )),
        e => usage(e.to_string()),
    }
}

/// The DNSSEC trust anchor: `--trust-anchor FILE`, or the root zone's keys.
fn trust_anchor(args: &cli::NetArgs) -> anyhow::Result<ward_probe::dnssec::TrustAnchor> {
    let Some(path) = &args.trust_anchor else {
        return Ok(ward_probe::dnssec::TrustAnchor::root());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--trust-anchor {}: {e}", path.display())))?;
    ward_probe::dnssec::TrustAnchor::parse(&text)
        .map_err(|e| usage(format!("--trust-anchor {}: {e}", path.display())))
}

fn load_inventory(path: &Path) -> anyhow::Result<Vec<Organisation>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read inventory {}: {e}", path.display())))?;
    ward_model::inventory::parse(&path.display().to_string(), &text)
        .map_err(|e| usage(e.to_string()))
}

async fn scan_cmd(args: cli::ScanArgs) -> anyhow::Result<WardExit> {
    let mut orgs = match &args.inventory {
        Some(p) => load_inventory(p)?,
        None => Vec::new(),
    };
    if !args.domains.is_empty() {
        let mut assets = Vec::new();
        for d in &args.domains {
            let domain = ward_model::inventory::normalise_domain(d).map_err(usage)?;
            assets.push(Asset {
                domain,
                roles: vec![Role::Mail, Role::Web],
                dkim_selectors: Vec::new(),
                reported_dkim_selectors: Vec::new(),
            });
        }
        orgs.push(Organisation {
            id: "cli".into(),
            name: "Domains named on the command line".into(),
            kind: OrgKind::Party,
            size: match args.size {
                cli::Size::Small => SizeClass::Small,
                cli::Size::Medium => SizeClass::Medium,
            },
            parent: None,
            assets,
        });
    }
    let targets = scan::targets(&orgs);
    if targets.is_empty() {
        return Err(usage(
            "nothing to scan: name domains, or give --inventory FILE (see ward scan --help)",
        ));
    }
    let cfg = net_config(&args.net)?;
    let anchor = trust_anchor(&args.net)?;
    let net = Net::new(cfg).map_err(|e| usage(e.to_string()))?;
    let prober = ward_probe::Prober::new(net).with_trust_anchor(anchor);
    let store = match &args.db {
        Some(p) => {
            let s = ward_store::Store::open(p).await?;
            s.save_organisations(&orgs).await?;
            Some(s)
        }
        None => None,
    };
    let pace = scan::Pace {
        budget: Duration::from_secs(args.domain_budget),
        progress_every: Duration::from_secs(args.progress_every),
    };
    let (report, _) = scan::run(&prober, targets, store.as_ref(), pace).await?;
    if let Some(s) = store {
        s.close().await;
    }
    // Said first, on stderr, so that a table of "could not tell" rows is not read as a
    // clean bill of health; the JSON carries the same lines in `warnings`.
    for w in &report.warnings {
        eprintln!("ward: warning: {w}");
    }
    print_report(args.format, &report, &orgs)?;
    let (unknown, total) = report.could_not_tell();
    let limit = args.fail_on_unknown as usize;
    if limit > 0 && unknown > 0 && unknown * 100 >= limit * total {
        return Ok(WardExit::CouldNotTell);
    }
    let threshold = args.fail_on.map(|f| match f {
        cli::FailOn::Low => Severity::Low,
        cli::FailOn::Medium => Severity::Medium,
        cli::FailOn::High => Severity::High,
        cli::FailOn::Critical => Severity::Critical,
    });
    let reached = threshold.is_some_and(|t| {
        report
            .assets
            .iter()
            .flat_map(|a| &a.findings)
            .any(|f| f.status == ward_model::Status::Fail && f.severity >= t)
    });
    Ok(if reached {
        WardExit::FindingsAtOrAbove
    } else {
        WardExit::Clean
    })
}

fn print_report(format: Format, report: &ScanReport, orgs: &[Organisation]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => ward_advice::write_json(&mut out, report)?,
        Format::Csv => ward_advice::write_csv(&mut out, report)?,
        Format::Table => {
            let summaries = ward_advice::summarise(report, orgs);
            ward_advice::text::write_table(&mut out, &summaries, 3)?;
        }
    }
    out.flush()?;
    Ok(())
}

async fn demo_cmd(args: cli::DemoArgs) -> anyhow::Result<WardExit> {
    let fixture = ward_lab::demo::fixture();
    let orgs = ward_model::inventory::parse(
        "built-in demo inventory",
        fixture.inventory_toml.as_deref().unwrap_or_default(),
    )?;
    let lab = ward_lab::Lab::start(&fixture)
        .await
        .context("starting the demo lab")?;
    // The lab answers in microseconds; a silent nameserver should not hold the demo up.
    let cfg = NetConfig::builder(lab.resolver())
        .dns_timeout(Duration::from_millis(800))?
        .dns_attempts(2)?
        .extra_ca_pem(lab.ca_pem().as_bytes().to_vec())
        .dangerous_lab_mode(PortMap(lab.ports().clone()))
        .build();
    let net = Net::new(cfg)?;
    let mut prober = ward_probe::Prober::new(net);
    if let Some(anchor) = lab.trust_anchor() {
        prober = prober.with_trust_anchor(
            ward_probe::dnssec::TrustAnchor::parse(anchor).context("the lab's trust anchor")?,
        );
    }
    let store = ward_store::Store::open(&args.db).await?;
    store.save_organisations(&orgs).await?;
    // The mail reports the party received last week, stored the way `ward reports ingest`
    // stores them, before the scan so that it takes them into account.
    let now = time::OffsetDateTime::now_utc();
    let inputs = ward_lab::demo::reports::generate(now.unix_timestamp())
        .into_iter()
        .map(|r| ward_reports::ingest::Input::Bytes {
            name: r.name,
            bytes: r.bytes,
        })
        .collect();
    let counts = ward_reports::ingest::ingest(&store, inputs, &ward_reports::ingest::Quiet, now)
        .await
        .map_err(|(e, _)| e)?;
    if counts.failures > 0 {
        anyhow::bail!(
            "{} of the demo's generated mail reports were refused",
            counts.failures
        );
    }
    let (report, from_reports) = scan::run(
        &prober,
        scan::targets(&orgs),
        Some(&store),
        scan::Pace::default(),
    )
    .await?;
    store.close().await;
    lab.stop();

    let store = ward_store::Store::open(&args.db).await?;
    let written = report_cmd::write_demo_outputs(&store, &report, &orgs, &args.report).await?;
    store.close().await;
    print_report(args.format, &report, &orgs)?;
    if args.format == Format::Table {
        if let Some(r) = &from_reports {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            writeln!(out)?;
            writeln!(
                out,
                "Mail reports received in the last {} days (DMARC aggregate and failure reports, SMTP TLS reports):",
                ward_lab::demo::reports::DAYS
            )?;
            reports_cmd::write_summary(&mut out, r.summary())?;
            out.flush()?;
        }
        println!();
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!(
            "Stored in {}; written: {}.",
            ward_store::Location::parse(&args.db),
            names.join(", ")
        );
    }
    if let Some(addr) = args.serve {
        let store = ward_store::Store::open(&args.db).await?;
        let root = orgs
            .iter()
            .find(|o| o.parent.is_none())
            .map(|o| o.id.clone())
            .unwrap_or_default();
        let password = serve_cmd::demo_login(&store, serve_cmd::DEMO_EMAIL, &root).await?;
        eprintln!(
            "ward demo: log in as {} with password {password}",
            serve_cmd::DEMO_EMAIL
        );
        return serve_cmd::serve_store(store, addr, false, None).await;
    }
    Ok(WardExit::Clean)
}

async fn lab_cmd(args: cli::LabArgs) -> anyhow::Result<WardExit> {
    let fixture = match (&args.fixture, args.scale) {
        (Some(_), Some(_)) => return Err(usage("--fixture and --scale: give one of them")),
        (Some(dir), None) => ward_lab::Fixture::load(dir).map_err(|e| usage(e.to_string()))?,
        (None, Some(n)) => ward_lab::scale::fixture(n as usize),
        (None, None) => ward_lab::demo::fixture(),
    };
    if let Some(dir) = &args.write_fixture {
        fixture.write(dir)?;
        println!("fixture written to {}", dir.display());
        return Ok(WardExit::Clean);
    }
    let lab = ward_lab::Lab::start(&fixture)
        .await
        .context("starting the lab")?;
    let state = match &args.state_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("ward-lab-{}", std::process::id())),
    };
    std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
    let mut inventory_arg = String::new();
    if let Some(inv) = &fixture.inventory_toml {
        let p = state.join("inventory.toml");
        std::fs::write(&p, inv).with_context(|| format!("writing {}", p.display()))?;
        inventory_arg = format!(" --inventory {}", p.display());
    }
    let first = lab.zones().first().cloned().unwrap_or_default();
    let example = fixture_example_domain(&fixture, lab.zones());
    let ca_path = state.join("lab-ca.pem");
    std::fs::write(&ca_path, lab.ca_pem())
        .with_context(|| format!("writing {}", ca_path.display()))?;
    let mut common = format!(
        "--resolver {} --lab-ports {} --lab-ca {}",
        lab.resolver(),
        lab.ports_arg(),
        ca_path.display()
    );
    let anchor_path = state.join("lab-trust-anchor.txt");
    if let Some(anchor) = lab.trust_anchor() {
        std::fs::write(&anchor_path, format!("{anchor}\n"))
            .with_context(|| format!("writing {}", anchor_path.display()))?;
        common.push_str(&format!(" --trust-anchor {}", anchor_path.display()));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "ward lab: serving {}", fixture.name)?;
    writeln!(out, "  DNS (resolver)     {}", lab.resolver())?;
    for (well_known, actual) in lab.ports() {
        writeln!(out, "  port {well_known:<5} is served on port {actual}")?;
    }
    writeln!(out, "  CA certificate     {}", ca_path.display())?;
    if lab.trust_anchor().is_some() {
        writeln!(out, "  DNSSEC anchor      {}", anchor_path.display())?;
    }
    writeln!(out, "  state folder       {}", state.display())?;
    writeln!(out, "  zones ({}):", lab.zones().len())?;
    for z in lab.zones() {
        writeln!(out, "    {z}")?;
    }
    writeln!(out)?;
    writeln!(out, "Scan one domain:")?;
    writeln!(
        out,
        "  ward scan {common} --format json {}",
        if example.is_empty() { &first } else { &example }
    )?;
    if !inventory_arg.is_empty() {
        writeln!(out, "Scan the whole organisation:")?;
        writeln!(out, "  ward scan {common}{inventory_arg}")?;
    }
    writeln!(out)?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    lab.stop();
    Ok(WardExit::Clean)
}

/// The domain to show in the example command: the demo HQ when serving the demo.
fn fixture_example_domain(fixture: &ward_lab::Fixture, zones: &[String]) -> String {
    let hq = ward_lab::demo::HQ_DOMAIN;
    if fixture
        .inventory_toml
        .as_deref()
        .is_some_and(|i| i.contains(hq))
        && zones.iter().any(|z| z == hq)
    {
        hq.to_owned()
    } else {
        String::new()
    }
}
