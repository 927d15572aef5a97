//! `ward-bench`: measures ward side by side with a peer on the same lab inputs in one run.
//!
//! ```text
//! cargo build --release -p ward -p ward-bench
//! target/release/ward-bench email --domains 10000
//! ```
//!
//! `email` generates N synthetic mail domains (ward_lab::synth), serves them from the lab's
//! DNS in this process, then runs `ward scan` over all of them and checkdmarc (if
//! installed: `pip install checkdmarc`) over the same domains against the same DNS server.
//! Each tool runs as a child process; its wall time and peak resident memory come from
//! the kernel (wait4), so neither tool measures itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Measured {
    wall: Duration,
    max_rss_kib: i64,
    status: i32,
}

/// Runs `cmd` to completion and returns its wall time and peak RSS (its own and its
/// waited-for descendants').
fn measure(cmd: &mut Command) -> std::io::Result<Measured> {
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The child is reaped; forget the handle so std does not wait again.
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(Measured {
        wall: start.elapsed(),
        max_rss_kib: usage.ru_maxrss,
        status: code,
    })
}

const CHECKDMARC: &str = r#"
import sys
import dns.resolver
import checkdmarc
server, port, domains_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [server]
resolver.port = port
resolver.timeout = 2.0
resolver.lifetime = 2.0
domains = open(domains_file).read().split()
results = checkdmarc.check_domains(domains, resolver=resolver, skip_tls=True, timeout=2.0)
count = len(results) if isinstance(results, list) else 1
print(count, file=sys.stderr)
"#;

fn usage() -> ! {
    eprintln!("usage: ward-bench email [--domains N] [--ward PATH] [--no-peer]");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("email") {
        usage();
    }
    let mut n = 10_000usize;
    let mut ward: Option<PathBuf> = None;
    let mut peer = true;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--domains" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--ward" => ward = args.next().map(PathBuf::from),
            "--no-peer" => peer = false,
            _ => usage(),
        }
    }
    let ward = ward.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("ward")))
            .unwrap_or_else(|| "ward".into())
    });
    if let Err(e) = email(n, &ward, peer) {
        eprintln!("ward-bench: {e}");
        std::process::exit(1);
    }
}

fn email(n: usize, ward: &Path, peer: bool) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("ward-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let fixture = ward_lab::synth::fixture(n)?;
    let inventory = dir.join("inventory.toml");
    std::fs::write(
        &inventory,
        fixture.inventory_toml.as_deref().unwrap_or_default(),
    )?;
    let domains_file = dir.join("domains.txt");
    let mut f = std::fs::File::create(&domains_file)?;
    for i in 0..n {
        writeln!(f, "{}", ward_lab::synth::domain(i))?;
    }
    drop(f);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let lab = rt.block_on(ward_lab::Lab::start(&fixture))?;
    let resolver = lab.resolver();
    println!("email family: {n} synthetic mail domains served by the lab DNS at {resolver}");

    let out = std::fs::File::create(dir.join("ward.json"))?;
    let w = measure(
        Command::new(ward)
            .args([
                "scan",
                "--format",
                "json",
                "--resolver",
                &resolver.to_string(),
            ])
            .args(["--lab-ports", &lab.ports_arg(), "--inventory"])
            .arg(&inventory)
            .stdout(out)
            .stderr(Stdio::null()),
    )?;
    if w.status != 0 {
        return Err(format!("ward scan exited with {}", w.status).into());
    }
    report("ward", n, &w);

    if peer {
        let probe = Command::new("python3")
            .args(["-c", "import checkdmarc"])
            .stderr(Stdio::null())
            .status();
        if !matches!(probe, Ok(s) if s.success()) {
            println!("checkdmarc: not installed (pip install checkdmarc); no comparison made");
        } else {
            let script = dir.join("checkdmarc_bench.py");
            std::fs::write(&script, CHECKDMARC)?;
            let c = measure(
                Command::new("python3")
                    .arg(&script)
                    .arg(resolver.ip().to_string())
                    .arg(resolver.port().to_string())
                    .arg(&domains_file)
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(dir.join("checkdmarc.log"))?),
            )?;
            if c.status != 0 {
                return Err(format!("checkdmarc exited with {}", c.status).into());
            }
            report("checkdmarc", n, &c);
            println!(
                "ratio: ward is {:.1}x checkdmarc's throughput with {:.2}x its peak memory",
                c.wall.as_secs_f64() / w.wall.as_secs_f64(),
                w.max_rss_kib as f64 / c.max_rss_kib as f64
            );
        }
    }
    lab.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn report(name: &str, n: usize, m: &Measured) {
    println!(
        "{name:<10} {:>8.2} s  {:>10.1} domains/s  peak {:>7.1} MB",
        m.wall.as_secs_f64(),
        n as f64 / m.wall.as_secs_f64(),
        m.max_rss_kib as f64 / 1024.0
    );
}
