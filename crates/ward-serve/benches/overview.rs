//! The overview page under load: a party of N branches (default 1,000) on SQLite and on
//! PostgreSQL, one complete scan with every check for every branch, the party admin's
//! session asking for `/` over and over from C connections at once. Prints requests per
//! second, latency percentiles and the process's peak memory.
//!
//!     cargo bench -p ward-serve --bench overview
//!     BENCH_BRANCHES=1000 BENCH_REQUESTS=2000 BENCH_CONCURRENCY=8 WARD_TEST_PG=postgres://… cargo bench -p ward-serve --bench overview
//!
//! PostgreSQL comes from WARD_TEST_PG (or the private server of .ci/pg-start); a fresh
//! database is made for the run and dropped after.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use ward_model::observe::AssetObservation;
use ward_model::{
    AssetReport, CheckId, Finding, OrgKind, Organisation, Role, Severity, SizeClass, Status,
};
use ward_store::{AccessRole, Store};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn org(id: String, kind: OrgKind, parent: Option<String>) -> Organisation {
    Organisation {
        name: format!("Organisation {id}"),
        id,
        kind,
        size: SizeClass::Small,
        parent,
        assets: Vec::new(),
    }
}

/// The tree (HQ, one region per 100 branches, the branches) and a complete scan.
async fn fill(store: &Store, branches: usize) -> String {
    let mut orgs = vec![org("hq".into(), OrgKind::Party, None)];
    let regions = branches.div_ceil(100).max(1);
    for r in 0..regions {
        orgs.push(org(format!("r{r}"), OrgKind::Region, Some("hq".into())));
    }
    for b in 0..branches {
        orgs.push(org(
            format!("b{b}"),
            OrgKind::Branch,
            Some(format!("r{}", b % regions)),
        ));
    }
    store.save_organisations(&orgs).await.unwrap();
    let t = time::OffsetDateTime::now_utc();
    let scan = store.begin_scan(t, "bench").await.unwrap();
    for b in 0..branches {
        let findings = CheckId::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| Finding {
                check: *c,
                status: [Status::Pass, Status::Warn, Status::Fail, Status::Pass][(i + b) % 4],
                severity: Severity::Medium,
                summary: format!("finding {i} of branch {b}"),
                evidence: serde_json::json!({"n": i}).into(),
            })
            .collect();
        let a = AssetReport {
            domain: format!("b{b}.example"),
            organisation: format!("Organisation b{b}"),
            organisation_id: format!("b{b}"),
            roles: vec![Role::Mail, Role::Web],
            findings,
            dmarc_phase: None,
        };
        store
            .save_asset(scan, b, &a, &AssetObservation::new(&a.domain, t))
            .await
            .unwrap();
    }
    store.finish_scan(scan, t).await.unwrap();
    let user = store
        .create_user("admin@bench.test", "unused", 1)
        .await
        .unwrap()
        .unwrap();
    store.grant(user, "hq", AccessRole::Admin).await.unwrap();
    let token = ward_serve::secrets::token();
    store
        .create_session(
            &ward_serve::secrets::digest(&token),
            user,
            "csrf",
            1,
            i64::MAX,
        )
        .await
        .unwrap();
    format!("ward_session={token}")
}

fn get(addr: SocketAddr, cookie: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let status = std::str::from_utf8(&raw[..12.min(raw.len())])
        .ok()
        .and_then(|h| h.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw.len())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn run(name: &str, url: &str, branches: usize, requests: usize, concurrency: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (store, cookie) = rt.block_on(async {
        let store = Store::open(url).await.unwrap();
        let cookie = fill(&store, branches).await;
        (store, cookie)
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = ward_serve::router(store.clone(), ward_serve::Config::default());
    rt.spawn(ward_serve::run(listener, router, std::future::pending()));
    let before = peak_rss_mib();
    // One request to warm up, and to see what a page is.
    let (status, bytes) = get(addr, &cookie);
    assert_eq!(status, 200, "the overview page answered {status}");
    let started = Instant::now();
    let per = requests / concurrency;
    let threads: Vec<_> = (0..concurrency)
        .map(|_| {
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                (0..per)
                    .map(|_| {
                        let t = Instant::now();
                        let (status, _) = get(addr, &cookie);
                        assert_eq!(status, 200);
                        t.elapsed()
                    })
                    .collect::<Vec<Duration>>()
            })
        })
        .collect();
    let mut times: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let wall = started.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name}: {branches} branches, {} requests from {concurrency} connections at once in {:.2} s: \
         {:.0} pages/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; page {} KiB; \
         peak RSS {:.0} MiB (after filling the store: {:.0} MiB)",
        times.len(),
        wall.as_secs_f64(),
        times.len() as f64 / wall.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        bytes / 1024,
        peak_rss_mib(),
        before
    );
    rt.block_on(store.close());
}

fn main() {
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let branches = env("BENCH_BRANCHES", 1000);
    let requests = env("BENCH_REQUESTS", 2000);
    let concurrency = env("BENCH_CONCURRENCY", 8).max(1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    run(
        "sqlite",
        db.to_str().unwrap(),
        branches,
        requests,
        concurrency,
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = rt.block_on(ward_store::testing::TestPg::new());
    run("postgres", pg.url(), branches, requests, concurrency);
    drop(pg);
}
