//! Benchmark support for `docs/performance.md`: ward's TLS engine and sslyze on the same
//! lab HTTPS hosts in the same run.
//!
//! `tls_bench lab N DIR` starts a lab with N HTTPS hosts (every tenth one served by
//! Debian's `openssl s_server` with TLS 1.0–1.2, the rest by the lab's rustls), puts a
//! counting TCP relay in front of each, writes `DIR/targets.txt` (sslyze's
//! `name:port{ip}` form), `DIR/ward-targets.txt` and `DIR/ca.pem`, prints `READY`, and
//! then answers each line `count` on stdin with the connections each host has seen since
//! the last `count`, as JSON.
//!
//! `tls_bench scan DIR` runs ward's engine on every target at once (the per-host budget
//! of 4 still holds) and prints, as JSON, the elapsed time and what it found per host.
//!
//! `docs/bench/tls_bench.sh` drives both and sslyze, under `/usr/bin/time -v`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::net::{TcpListener, TcpStream};
use ward_lab::Lab;
use ward_lab::fixture::{DnsBehaviour, Fixture, ZoneSource};
use ward_model::tls::VersionStatus;
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::tls::{TlsTarget, Transport, scan};

fn host_ip(i: usize) -> IpAddr {
    IpAddr::from([127, 0, 30 + (i / 250) as u8, (i % 250 + 1) as u8])
}

fn fixture(n: usize) -> Fixture {
    let mut zone = String::from(
        "$ORIGIN bench.test.\n$TTL 300\n@ IN SOA ns1.bench.test. h.bench.test. ( 1 7200 3600 1209600 300 )\n\
         @ IN NS ns1.bench.test.\nns1 IN A 127.0.29.1\n",
    );
    let mut hosts = String::new();
    for i in 0..n {
        let ip = host_ip(i);
        zone.push_str(&format!("h{i} IN A {ip}\n"));
        let tls = if i % 10 == 9 {
            "openssl-legacy"
        } else {
            "rustls"
        };
        hosts.push_str(&format!(
            "[[web]]\nnames = [\"h{i}.bench.test\"]\nip = \"{ip}\"\n\
             cert = {{ status = \"valid\", key = \"rsa-2048\" }}\ntls = \"{tls}\"\n\n"
        ));
    }
    Fixture {
        name: "tls bench".into(),
        zones: vec![ZoneSource {
            origin: "bench.test".into(),
            text: zone,
            path: PathBuf::from("bench.zone"),
        }],
        hosts_toml: Some(hosts),
        dns: DnsBehaviour::default(),
        inventory_toml: None,
    }
}

/// Relays every connection on `listener` to `upstream`, counting them.
async fn relay(listener: TcpListener, upstream: SocketAddr, count: Arc<AtomicU64>) {
    while let Ok((mut down, _)) = listener.accept().await {
        count.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Ok(mut up) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
            }
        });
    }
}

async fn lab(n: usize, dir: PathBuf) {
    let lab = Lab::start(&fixture(n)).await.expect("lab starts");
    let https = *lab.ports().get(&443).expect("https port");
    // One relay port for every host address.
    let probe = TcpListener::bind((host_ip(0), 0)).await.expect("bind");
    let relay_port = probe.local_addr().expect("addr").port();
    drop(probe);
    let mut counts = Vec::new();
    for i in 0..n {
        let ip = host_ip(i);
        let listener = TcpListener::bind((ip, relay_port))
            .await
            .expect("relay bind");
        let count = Arc::new(AtomicU64::new(0));
        counts.push((format!("h{i}.bench.test"), count.clone()));
        tokio::spawn(relay(listener, SocketAddr::new(ip, https), count));
    }
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("ca.pem"), lab.ca_pem()).expect("ca");
    let sslyze: String = (0..n)
        .map(|i| format!("h{i}.bench.test:{relay_port}{{{}}}\n", host_ip(i)))
        .collect();
    std::fs::write(dir.join("targets.txt"), sslyze).expect("targets");
    let ward: String = (0..n)
        .map(|i| format!("h{i}.bench.test {} {relay_port}\n", host_ip(i)))
        .collect();
    std::fs::write(dir.join("ward-targets.txt"), ward).expect("targets");
    println!("READY");
    let counts = Arc::new(counts);
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "count" {
                let map: BTreeMap<&str, u64> = counts
                    .iter()
                    .map(|(h, c)| (h.as_str(), c.swap(0, Ordering::Relaxed)))
                    .collect();
                println!("{}", serde_json::to_string(&map).expect("json"));
            }
        }
    })
    .await
    .expect("stdin loop");
    drop(lab);
}

async fn run_scan(dir: PathBuf) {
    let text = std::fs::read_to_string(dir.join("ward-targets.txt")).expect("targets");
    let targets: Vec<(String, IpAddr, u16)> = text
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            Some((
                p.next()?.to_string(),
                p.next()?.parse().ok()?,
                p.next()?.parse().ok()?,
            ))
        })
        .collect();
    let port = targets.first().map(|t| t.2).expect("a target");
    let mut map = BTreeMap::new();
    map.insert(443, port);
    let cfg = NetConfig::builder(SocketAddr::from(([127, 0, 53, 1], 53)))
        .dangerous_lab_mode(PortMap(map))
        .extra_ca_pem(std::fs::read(dir.join("ca.pem")).expect("ca"))
        .build();
    let net = Net::new(cfg).expect("net");
    let now = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let scans = futures::future::join_all(targets.iter().map(|(name, ip, _)| {
        let target = TlsTarget {
            transport: Transport::Direct,
            ip: *ip,
            port: 443,
            hostname: name.clone(),
        };
        let net = net.clone();
        async move { scan(&net, &target, now).await }
    }))
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let hosts: BTreeMap<String, serde_json::Value> = scans
        .iter()
        .map(|s| {
            let versions: BTreeMap<String, Vec<String>> = s
                .versions
                .iter()
                .filter(|v| v.status == VersionStatus::Supported)
                .map(|v| {
                    let mut names: Vec<String> = v
                        .suites
                        .iter()
                        .map(|x| {
                            x.name
                                .clone()
                                .unwrap_or_else(|| format!("{:?}", x.id))
                                .replace("TLS13_", "TLS_")
                        })
                        .collect();
                    names.sort();
                    (v.version.to_string(), names)
                })
                .collect();
            (
                s.hostname.clone(),
                serde_json::json!({
                    "versions": versions,
                    "connections": s.connections,
                    "could_not_tell": s.versions.iter()
                        .filter(|v| v.status == VersionStatus::CouldNotTell).count(),
                }),
            )
        })
        .collect();
    let out = serde_json::json!({ "seconds": seconds, "hosts": hosts });
    println!("{}", serde_json::to_string(&out).expect("json"));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.get(1).map(String::as_str) {
        Some("lab") => {
            let n = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
            let dir = PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "bench".into()));
            rt.block_on(lab(n, dir));
        }
        Some("scan") => {
            let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "bench".into()));
            rt.block_on(run_scan(dir));
        }
        _ => eprintln!("usage: tls_bench lab N DIR | tls_bench scan DIR"),
    }
}
