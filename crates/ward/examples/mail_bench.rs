//! Email-family throughput and peak memory, against N synthetic domains served by the lab's
//! DNS, and the same figure for checkdmarc pointed at the same DNS server in the same run.
//!
//! ```text
//! cargo run -p ward --example mail_bench -- 10000 [--per-host N] [--runs N] [--checkdmarc /path/to/python] [--checkdmarc-sample N]
//! ```
//!
//! ward is measured `--runs` times (3 by default), each a new scan with empty caches;
//! with `--checkdmarc` the first run comes before checkdmarc's and the others after it,
//! so that a drift in the machine's speed over those minutes falls on both sides. The
//! median run is the figure compared.
//!
//! The lab runs in a child process (this binary with `serve N`), so the peak memory
//! measured here (`VmHWM` of this process) is ward's probe-and-judge engine alone.
//! Each domain is probed and judged the way `ward scan` does it (DNS basics, SPF, DMARC,
//! DKIM, MX, MTA-STS, TLS-RPT, BIMI), and its findings are counted and dropped: the
//! figure is the engine's, not the cost of holding a 10,000-domain report.
//!
//! checkdmarc is run through a small driver (in this file) that calls
//! `checkdmarc.check_domains(..., skip_tls=True)` with the lab resolver as nameserver;
//! dnspython's resolver port is set to the lab's DNS port, since the lab does not listen on
//! 53. Its peak memory is the driver process's `ru_maxrss`.

use futures::StreamExt;

/// The allocator `ward` uses (see `src/main.rs`), so the bench measures the same program.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;
use ward_lab::fixture::{DnsBehaviour, Fixture, ZoneSource};
use ward_lab::signing::Signed;
use ward_model::{Asset, Role, SizeClass};
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::Prober;

/// Domains probed at once (the `ward scan` default).
const IN_FLIGHT: usize = 64;

/// The name of synthetic domain `i`.
fn name(i: usize) -> String {
    format!("m{i:05}.test")
}

/// A fixture with `n` mail domains showing a realistic spread: DMARC none, quarantine,
/// reject or missing; DKIM on half; TLS-RPT on a third; MTA-STS records on a tenth.
fn fixture(n: usize) -> Fixture {
    let mut zones = vec![ZoneSource {
        origin: "benchdns.test".into(),
        text: "$ORIGIN benchdns.test.\n$TTL 300\n@ IN SOA ns1.benchdns.test. h.benchdns.test. ( 1 7200 3600 1209600 300 )\n\
               @ IN NS ns1.benchdns.test.\nns1 IN A 127.0.57.1\nmx IN A 127.0.57.25\n\
               _spf IN TXT \"v=spf1 ip4:127.0.57.25 -all\"\n"
            .into(),
        path: PathBuf::from("bench/benchdns.test.zone"),
    }];
    // The signed parent of every bench domain and the scan's trust anchor, so the DNSSEC
    // walk runs as it would on the internet: each unsigned child is proven insecure at
    // its delegation instead of failing for want of an anchor.
    let mut parent = String::from(
        "$ORIGIN test.\n$TTL 300\n@ IN SOA ns1.benchdns.test. h.benchdns.test. ( 1 7200 3600 1209600 300 )\n\
         @ IN NS ns1.benchdns.test.\nbenchdns IN NS ns1.benchdns.test.\n",
    );
    for i in 0..n {
        let _ = writeln!(
            parent,
            "{} IN NS ns1.benchdns.test.",
            name(i).trim_end_matches(".test")
        );
    }
    zones.push(ZoneSource {
        origin: "test".into(),
        text: parent,
        path: PathBuf::from("bench/test.zone"),
    });
    for i in 0..n {
        let d = name(i);
        let mut t = format!(
            "$ORIGIN {d}.\n$TTL 300\n@ IN SOA ns1.benchdns.test. h.benchdns.test. ( 1 7200 3600 1209600 300 )\n\
             @ IN NS ns1.benchdns.test.\n@ IN A 127.0.57.80\n@ IN MX 10 mx.benchdns.test.\n\
             @ IN TXT \"v=spf1 include:_spf.benchdns.test ~all\"\n"
        );
        t.push_str(&ward_lab::scale::mail_records(i, &d));
        if i % 10 == 0 {
            let _ = writeln!(t, "_mta-sts IN TXT \"v=STSv1; id={i}\"");
        }
        zones.push(ZoneSource {
            origin: d.clone(),
            text: t,
            path: PathBuf::from(format!("bench/{d}.zone")),
        });
    }
    Fixture {
        name: format!("mail bench, {n} domains"),
        zones,
        hosts_toml: None,
        dns: DnsBehaviour {
            signed: vec![Signed::new("test")],
            ..DnsBehaviour::default()
        },
        inventory_toml: None,
    }
}

/// This process's peak resident set, in KiB (Linux `VmHWM`).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time a process has used so far, in seconds, as (user, system), from
/// `/proc/<pid>/stat` (clock ticks of 1/100 s).
fn cpu_secs(pid: &str) -> (f64, f64) {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold blanks.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let user = f.get(11)?.parse::<f64>().ok()?;
            let system = f.get(12)?.parse::<f64>().ok()?;
            Some((user / 100.0, system / 100.0))
        })
        .unwrap_or((f64::NAN, f64::NAN))
}

async fn serve(n: usize) -> anyhow::Result<()> {
    let lab = ward_lab::Lab::start(&fixture(n)).await?;
    let anchor = std::env::temp_dir().join(format!("mail-bench-anchor-{}", std::process::id()));
    std::fs::write(&anchor, lab.trust_anchor().unwrap_or_default())?;
    println!(
        "LAB {} {} {}",
        lab.resolver(),
        lab.ports_arg(),
        anchor.display()
    );
    std::io::stdout().flush()?;
    // Serve until the parent closes our stdin; a line `count` asks how many DNS
    // questions have arrived so far.
    let lab = std::sync::Arc::new(lab);
    let counted = lab.clone();
    tokio::task::spawn_blocking(move || {
        let mut s = String::new();
        while std::io::stdin()
            .read_line(&mut s)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            if s.trim() == "count" {
                let n: u64 = counted
                    .dns_addresses()
                    .map(|ip| counted.queries_at(ip))
                    .sum();
                println!("{n}");
                let _ = std::io::stdout().flush();
            }
            s.clear();
        }
    })
    .await?;
    lab.stop();
    Ok(())
}

const DRIVER: &str = r#"
import sys, time, resource, json
import dns.resolver, dns.nameserver
port = int(sys.argv[2])
_init = dns.resolver.Resolver.__init__
def _patched(self, *a, **k):
    _init(self, *a, **k)
    self.port = port
dns.resolver.Resolver.__init__ = _patched
import checkdmarc
ns = sys.argv[1]
domains = [l.strip() for l in open(sys.argv[3]) if l.strip()]
t0 = time.monotonic()
errors = 0
for d in domains:
    try:
        checkdmarc.check_domains([d], skip_tls=True, nameservers=[dns.nameserver.Do53Nameserver(ns, port)], timeout=2.0)
    except Exception as e:
        errors += 1
elapsed = time.monotonic() - t0
print(json.dumps({"domains": len(domains), "seconds": elapsed, "errors": errors,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"#;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let n = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
        // One thread: the lab answers UDP in a single task (`ward_lab::dns::serve_udp`),
        // so worker threads only added wake-ups, and it shares two cores with the scan
        // it measures. Lab CPU per 10,000-domain scan: 2.5-2.9 s against 3.2-3.5 s on the
        // multi-thread runtime, in alternating runs.
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(serve(n));
    }
    // The runtime `ward scan` uses (see its `main`): one thread.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(bench(args))
}

async fn bench(args: Vec<String>) -> anyhow::Result<()> {
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let flag = |f: &str| {
        args.iter()
            .position(|a| a == f)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let python = flag("--checkdmarc");
    let sample: usize = flag("--checkdmarc-sample")
        .and_then(|s| s.parse().ok())
        .unwrap_or(n);
    let runs: usize = flag("--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);

    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lab_out = BufReader::new(out);
    let mut line = String::new();
    lab_out.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    anyhow::ensure!(words.next() == Some("LAB"), "lab said {line:?}");
    let resolver: std::net::SocketAddr = words.next().unwrap_or_default().parse()?;
    let ports = PortMap::parse(words.next().unwrap_or_default()).map_err(anyhow::Error::msg)?;
    let anchor_path = words.next().unwrap_or_default().to_owned();
    let anchor = ward_probe::dnssec::TrustAnchor::parse(&std::fs::read_to_string(&anchor_path)?)
        .map_err(|e| anyhow::anyhow!("the bench lab's trust anchor: {e}"))?;
    let _ = std::fs::remove_file(&anchor_path);
    eprintln!(
        "lab with {n} domains up in {:.1} s at {resolver}",
        started.elapsed().as_secs_f64()
    );
    let mut lab_in = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    // How many DNS questions the lab has answered so far.
    let mut wire = move || -> anyhow::Result<u64> {
        writeln!(lab_in, "count")?;
        lab_in.flush()?;
        let mut l = String::new();
        lab_out.read_line(&mut l)?;
        Ok(l.trim().parse()?)
    };
    let setup = Setup {
        resolver,
        ports: ports.clone(),
        anchor,
        // One resolver serves every question, so the per-address budget is the
        // concurrency. `--per-host 4` reproduces `ward scan`'s default.
        per_host: flag("--per-host")
            .and_then(|s| s.parse().ok())
            .unwrap_or(64),
        lab_pid: child.id().to_string(),
        assets: (0..n)
            .map(|i| Asset {
                domain: name(i),
                roles: vec![Role::Mail],
                dkim_selectors: Vec::new(),
                reported_dkim_selectors: Vec::new(),
            })
            .collect(),
    };

    // The machine's speed drifts over the minutes checkdmarc takes (it is a shared VM),
    // so ward is measured `--runs` times spread around checkdmarc's run, the first before
    // it and the rest after, and the median run is compared. Each run is a new scan:
    // nothing is remembered from the one before.
    let mut rates = Vec::new();
    let first = run_ward(&setup, &mut wire).await?;
    first.print(1, true);
    rates.push(first.rate);
    if python.is_none() {
        for k in 2..=runs {
            let run = run_ward(&setup, &mut wire).await?;
            run.print(k, false);
            rates.push(run.rate);
        }
    }

    let mut checkdmarc = None;
    if let Some(python) = python {
        let dir = std::env::temp_dir().join(format!("mail-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let list: String = (0..sample).map(|i| name(i) + "\n").collect();
        std::fs::write(dir.join("domains.txt"), list)?;
        std::fs::write(dir.join("driver.py"), DRIVER)?;
        let port = ports.map(53);
        let wire_before = wire()?;
        let out = Command::new(&python)
            .arg(dir.join("driver.py"))
            .arg(resolver.ip().to_string())
            .arg(port.to_string())
            .arg(dir.join("domains.txt"))
            .stderr(Stdio::inherit())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value =
            serde_json::from_str(text.trim().lines().last().unwrap_or("{}"))?;
        let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
        let asked = wire()? - wire_before;
        let rate = sample as f64 / secs;
        println!(
            "checkdmarc: {sample} domains in {secs:.2} s = {rate:.1} domains/s; {asked} DNS questions reached the lab's server; peak RSS {:.1} MiB; {} exceptions",
            v["peak_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            v["errors"]
        );
        checkdmarc = Some(rate);
        let _ = std::fs::remove_dir_all(&dir);
        for k in 2..=runs {
            let run = run_ward(&setup, &mut wire).await?;
            run.print(k, false);
            rates.push(run.rate);
        }
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let list: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "ward, median of {} runs: {median:.0} domains/s (runs: {}); peak RSS {:.1} MiB",
        rates.len(),
        list.join(", "),
        peak_kib() as f64 / 1024.0
    );
    if let Some(rate) = checkdmarc {
        println!(
            "ratio (ward median / checkdmarc throughput): {:.1}x",
            median / rate
        );
    }
    drop(wire);
    let _ = child.wait();
    Ok(())
}

/// What every ward run shares: the lab and the domains.
struct Setup {
    resolver: std::net::SocketAddr,
    ports: PortMap,
    anchor: ward_probe::dnssec::TrustAnchor,
    per_host: usize,
    lab_pid: String,
    assets: Vec<Asset>,
}

/// One ward run's figures.
struct WardRun {
    secs: f64,
    rate: f64,
    questions: usize,
    on_wire: u64,
    cpu: (f64, f64),
    lab_cpu: (f64, f64),
    judging: f64,
    peak_kib: u64,
    before_kib: u64,
    counts: BTreeMap<(String, String), usize>,
}

/// Probes and judges every domain the way `ward scan` does, with a new `Net` (and so
/// empty answer caches) each time.
async fn run_ward(
    setup: &Setup,
    wire: &mut dyn FnMut() -> anyhow::Result<u64>,
) -> anyhow::Result<WardRun> {
    let cfg = NetConfig::builder(setup.resolver)
        .per_host(setup.per_host)?
        .concurrency(256)?
        .dangerous_lab_mode(setup.ports.clone())
        .build();
    let net = Net::new(cfg)?;
    let prober = Prober::new(net).with_trust_anchor(setup.anchor.clone());
    let wire0 = wire()?;
    let before_kib = peak_kib();
    let (cpu0, lab_cpu0) = (cpu_secs("self"), cpu_secs(&setup.lab_pid));
    let t0 = Instant::now();
    let scanned_at = time::OffsetDateTime::now_utc();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut questions = 0usize;
    let mut stream = futures::stream::iter(setup.assets.iter())
        .map(|asset| {
            let prober = &prober;
            async move {
                let needs = |o: &ward_model::observe::AssetObservation| {
                    ward_checks::needed_lookups(asset, o)
                };
                let obs = prober.probe(asset, scanned_at, &needs).await;
                let ctx = ward_checks::Context {
                    asset,
                    size: SizeClass::Small,
                    obs: &obs,
                };
                let judging = Instant::now();
                let findings = ward_checks::judge(&ctx);
                (obs.dns.len(), findings, judging.elapsed())
            }
        })
        .buffer_unordered(IN_FLIGHT);
    let mut judging = std::time::Duration::ZERO;
    while let Some((asked, findings, spent)) = stream.next().await {
        questions += asked;
        judging += spent;
        for f in findings {
            *counts
                .entry((f.check.as_str().to_owned(), f.status.as_str().to_owned()))
                .or_default() += 1;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let since = |(u1, s1): (f64, f64), (u0, s0): (f64, f64)| (u1 - u0, s1 - s0);
    Ok(WardRun {
        secs,
        rate: setup.assets.len() as f64 / secs,
        questions,
        on_wire: wire()? - wire0,
        cpu: since(cpu_secs("self"), cpu0),
        lab_cpu: since(cpu_secs(&setup.lab_pid), lab_cpu0),
        judging: judging.as_secs_f64(),
        peak_kib: peak_kib(),
        before_kib,
        counts,
    })
}

impl WardRun {
    /// Prints the run; the first also shows what the scan found, as a check that every
    /// run judged the same domains the same way.
    fn print(&self, k: usize, findings: bool) {
        println!(
            "ward run {k}: {:.2} s = {:.0} domains/s; {} DNS questions ({} reached the lab's server); peak RSS {:.1} MiB (before {:.1} MiB)",
            self.secs,
            self.rate,
            self.questions,
            self.on_wire,
            self.peak_kib as f64 / 1024.0,
            self.before_kib as f64 / 1024.0
        );
        println!(
            "  CPU: ward {:.2} s (user {:.2}, system {:.2}; judging {:.2} s), the lab's DNS server {:.2} s (user {:.2}, system {:.2})",
            self.cpu.0 + self.cpu.1,
            self.cpu.0,
            self.cpu.1,
            self.judging,
            self.lab_cpu.0 + self.lab_cpu.1,
            self.lab_cpu.0,
            self.lab_cpu.1,
        );
        if !findings {
            return;
        }
        for check in [
            "dmarc.policy",
            "dkim.present",
            "mta_sts.record",
            "tls_rpt.record",
            "dnssec.signed",
            "mx.dane",
        ] {
            let by: Vec<String> = self
                .counts
                .iter()
                .filter(|((c, _), _)| c == check)
                .map(|((_, s), k)| format!("{s} {k}"))
                .collect();
            println!("  {check}: {}", by.join(", "));
        }
        let errors: usize = self
            .counts
            .iter()
            .filter(|((_, s), _)| s == "error")
            .map(|(_, k)| k)
            .sum();
        let by: Vec<String> = self
            .counts
            .iter()
            .filter(|((_, s), _)| s == "error")
            .map(|((c, _), k)| format!("{c} {k}"))
            .collect();
        println!("  findings with status error: {errors} ({})", by.join(", "));
    }
}
