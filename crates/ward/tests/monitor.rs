//! `ward monitor` and `ward worker` through the binary, against the lab's scale set: a
//! round on SQLite and the carried servers of the next, an inventory edited while the
//! monitor runs, a corrupt or locked store, four PostgreSQL workers with one killed by SIGKILL,
//! and PostgreSQL stopped and started again mid-round.

mod common;

use common::{json, run, ward};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use ward_lab::Lab;
use ward_store::Store;
use ward_store::testing::TestPg;

/// The lab serving the scale set of `n` branches, and the flags that reach it.
struct ScaleLab {
    _rt: tokio::runtime::Runtime,
    lab: Lab,
    dir: tempfile::TempDir,
    inventory: String,
}

impl ScaleLab {
    fn start(n: usize) -> ScaleLab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fixture = ward_lab::scale::fixture(n);
        let lab = rt.block_on(Lab::start(&fixture)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
        std::fs::write(dir.path().join("anchor.txt"), lab.trust_anchor().unwrap()).unwrap();
        let inventory = fixture.inventory_toml.unwrap();
        std::fs::write(dir.path().join("inventory.toml"), &inventory).unwrap();
        ScaleLab {
            _rt: rt,
            lab,
            dir,
            inventory,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The network flags of `ward monitor` and `ward worker`.
    fn net(&self) -> Vec<String> {
        let mut v = common::lab_args(&self.lab);
        v.extend(
            [
                "--lab-ca",
                "ca.pem",
                "--trust-anchor",
                "anchor.txt",
                "--dns-timeout",
                "0.5",
            ]
            .map(String::from),
        );
        v
    }

    fn monitor(&self, db: &str) -> Command {
        let mut c = ward(self.path());
        c.args([
            "monitor",
            "-i",
            "inventory.toml",
            "--db",
            db,
            "--jitter",
            "0",
        ])
        .args(self.net());
        c
    }

    fn worker(&self, db: &str, name: &str) -> Command {
        let mut c = ward(self.path());
        c.args(["worker", "--db", db, "--name", name, "--until-idle"])
            .args(["--lease", "2s", "--in-flight", "4", "--poll", "200ms"])
            .args(self.net());
        c
    }

    fn status(&self, db: &str) -> serde_json::Value {
        json(&run(
            ward(self.path()).args(["monitor", "status", "--db", db, "--format", "json"]),
            0,
        ))
    }
}

/// Starts `cmd` with its stderr in a file of its own (a pipe nobody reads would fill).
fn spawn(cmd: &mut Command) -> (Child, PathBuf) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let log = std::env::temp_dir().join(format!(
        "ward-monitor-test-{}-{}.log",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let file = std::fs::File::create(&log).unwrap();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("ward starts");
    (child, log)
}

/// Waits for `child` to exit (at most `limit`), returning its stderr; kills it after.
fn wait((mut child, log): (Child, PathBuf), limit: Duration) -> (Option<i32>, String) {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let err = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            return (status.code(), err);
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{child:?} did not finish within {limit:?}; its stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `ward monitor status` until `ok` holds of it.
fn until(lab: &ScaleLab, db: &str, limit: Duration, ok: impl Fn(&serde_json::Value) -> bool) {
    let end = Instant::now() + limit;
    loop {
        let st = lab.status(db);
        if ok(&st) {
            return;
        }
        assert!(Instant::now() < end, "gave up waiting; status: {st:#}");
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn rounds(st: &serde_json::Value) -> &Vec<serde_json::Value> {
    st["status"]["rounds"].as_array().expect("rounds")
}

fn state(round: &serde_json::Value, s: &str) -> u64 {
    round["states"][s].as_u64().unwrap_or(0)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_round_on_sqlite_scans_every_domain_and_the_next_carries_the_servers() {
    let lab = ScaleLab::start(20);
    let first = run(lab.monitor("ward.db").arg("--once"), 0);
    assert!(
        stderr(&first).contains("20 domain(s), 20 with their servers probed, 0 carrying them"),
        "{}",
        stderr(&first)
    );
    let second = run(lab.monitor("ward.db").arg("--once"), 0);
    assert!(
        stderr(&second).contains("20 domain(s), 0 with their servers probed, 20 carrying them"),
        "{}",
        stderr(&second)
    );
    let st = lab.status("ward.db");
    let r = rounds(&st);
    assert_eq!(r.len(), 2);
    for round in r {
        assert_eq!(round["jobs"], 20);
        assert_eq!(state(round, "done"), 20);
        assert!(round["finished_ms"].is_i64());
    }
    // The carried round says when its servers' part was seen, and judges as the full
    // one did: nothing changed between them.
    let changes = json(&run(
        ward(lab.path()).args(["changes", "--db", "ward.db", "--format", "json"]),
        0,
    ));
    assert_eq!(
        changes["changes"].as_array().map(Vec::len),
        Some(0),
        "{changes:#}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(lab.path().join("ward.db").to_str().unwrap())
            .await
            .unwrap();
        let scans = store.scans().await.unwrap();
        let (newest, older) = (scans[0].id, scans[1].id);
        let d = ward_lab::scale::domain(3);
        let full = store.observation(older, &d).await.unwrap().unwrap();
        let carried = store.observation(newest, &d).await.unwrap().unwrap();
        assert_eq!(full.servers_seen_at, None);
        assert_eq!(carried.servers_seen_at, Some(full.scanned_at));
        assert!(carried.scanned_at > full.scanned_at);
        assert_eq!(carried.tls, full.tls);
        assert!(!carried.tls.is_empty(), "the scale set's hosts speak TLS");
        store.close().await;
    });
    // --servers-every 0s: every round probes them again.
    let third = run(
        lab.monitor("ward.db")
            .args(["--once", "--servers-every", "0s"]),
        0,
    );
    assert!(
        stderr(&third).contains("20 with their servers probed"),
        "{}",
        stderr(&third)
    );
}

/// An inventory edited while the monitor runs is picked up at the next round, without
/// a restart, and every round asks DNS afresh.
#[test]
fn an_inventory_edit_is_picked_up_at_the_next_round() {
    let lab = ScaleLab::start(21);
    // The inventory starts without the last branch.
    let cut = lab.inventory.rfind("[[organisation]]").unwrap();
    std::fs::write(lab.path().join("inventory.toml"), &lab.inventory[..cut]).unwrap();
    let child = spawn(lab.monitor("ward.db").args(["--every", "3s"]));
    until(&lab, "ward.db", Duration::from_secs(60), |st| {
        rounds(st).iter().any(|r| r["finished_ms"].is_i64())
    });
    let resolver = lab.lab.resolver().ip();
    let asked_in_first = lab.lab.queries_at(resolver);
    std::fs::write(lab.path().join("inventory.toml"), &lab.inventory).unwrap();
    // A round that began before the edit still has 20; one after it, 21.
    until(&lab, "ward.db", Duration::from_secs(60), |st| {
        rounds(st)
            .iter()
            .any(|r| r["jobs"] == 21 && r["finished_ms"].is_i64())
    });
    let (mut child, log) = child;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(log);
    // Each round asks afresh: nothing the process learnt in the first round (a DNS
    // answer, a silent host) stands in for what the servers say in a later one.
    let asked_later = lab.lab.queries_at(resolver) - asked_in_first;
    assert!(
        asked_later >= asked_in_first / 2,
        "later rounds asked the resolver {asked_later} question(s), the first {asked_in_first}: \
         answers were remembered across rounds"
    );
    let st = lab.status("ward.db");
    let r = rounds(&st);
    assert_eq!(
        r[r.len() - 1]["jobs"],
        20,
        "first round: the file as it was"
    );
    // A later round may have begun before the monitor was stopped: the finished one.
    let edited = r
        .iter()
        .find(|r| r["jobs"] == 21 && r["finished_ms"].is_i64())
        .unwrap();
    assert_eq!(
        state(edited, "done"),
        21,
        "the edited file, without a restart"
    );
}

#[test]
fn a_corrupt_store_is_named_and_nothing_runs() {
    let lab = ScaleLab::start(1);
    std::fs::write(
        lab.path().join("bad.db"),
        "not a database at all\n".repeat(300),
    )
    .unwrap();
    let out = run(
        ward(lab.path()).args(["monitor", "status", "--db", "bad.db"]),
        3,
    );
    assert!(stderr(&out).contains("bad.db"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a database"), "{}", stderr(&out));
    let out = run(lab.monitor("bad.db").arg("--once"), 3);
    assert!(stderr(&out).contains("bad.db"), "{}", stderr(&out));
    let out = run(&mut lab.worker("bad.db", "w"), 3);
    assert!(stderr(&out).contains("bad.db"), "{}", stderr(&out));
}

#[test]
fn four_workers_one_killed_mid_round_every_domain_scanned_exactly_once() {
    let lab = ScaleLab::start(120);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = rt.block_on(TestPg::new());
    let db = pg.url().to_owned();
    // On PostgreSQL the monitor only schedules; the workers scan.
    let monitor = spawn(lab.monitor(&db).arg("--once"));
    until(&lab, &db, Duration::from_secs(30), |st| {
        !rounds(st).is_empty()
    });
    let mut workers: Vec<(Child, PathBuf)> = (0..4)
        .map(|i| spawn(&mut lab.worker(&db, &format!("w{i}"))))
        .collect();
    // Kill w0 with SIGKILL while it holds jobs, once the round is under way.
    until(&lab, &db, Duration::from_secs(60), |st| {
        let w0 = st["status"]["workers"]
            .as_array()
            .and_then(|ws| ws.iter().find(|w| w["name"] == "w0").cloned());
        let done = state(&rounds(st)[0], "done");
        w0.is_some_and(|w| w["holding"].as_u64().unwrap_or(0) > 0) && done >= 8
    });
    workers[0].0.kill().unwrap();
    let _ = workers[0].0.wait();
    let held_at_kill = lab.status(&db)["status"]["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "w0")
        .unwrap()["holding"]
        .as_u64()
        .unwrap();
    assert!(held_at_kill > 0);
    let (code, err) = wait(monitor, Duration::from_secs(180));
    assert_eq!(code, Some(0), "{err}");
    for w in workers.drain(1..) {
        let (code, err) = wait(w, Duration::from_secs(60));
        assert_eq!(code, Some(0), "{err}");
    }
    let st = lab.status(&db);
    let round = &rounds(&st)[0];
    assert_eq!(round["jobs"], 120);
    assert_eq!(state(round, "done"), 120, "{st:#}");
    assert_eq!(state(round, "failed"), 0);
    assert!(
        round["retaken"].as_u64().unwrap() >= held_at_kill,
        "the killed worker's jobs were taken again: {st:#}"
    );
    rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let scans = store.scans().await.unwrap();
        assert_eq!(scans.len(), 1);
        assert!(scans[0].complete);
        // scan_assets is keyed on (scan, domain): 120 rows are 120 distinct domains.
        assert_eq!(scans[0].assets, 120);
        store.close().await;
    });
}

/// A private PostgreSQL cluster this test may stop and start (the shared test server
/// serves every other test at once).
struct OwnCluster {
    dir: PathBuf,
    port: u16,
}

impl OwnCluster {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/pg-start")
    }

    fn start(&self) -> String {
        let out = Command::new(Self::script())
            .env("WARD_PG_PORT", self.port.to_string())
            .env("WARD_PG_DIR", &self.dir)
            .output()
            .expect(".ci/pg-start runs");
        assert!(
            out.status.success(),
            "a private PostgreSQL for this test: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn pg_ctl(&self, args: &[&str]) {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries (apt-get install postgresql)")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/pg_ctl"))
            .filter(|p| p.exists())
            .max()
            .expect("pg_ctl");
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        let st = cmd
            .arg("-D")
            .arg(&self.dir)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "pg_ctl {args:?}");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
        for end in ["lock", "initdb.log"] {
            let _ = std::fs::remove_file(self.dir.with_extension(end));
        }
    }
}

#[test]
fn postgresql_stopped_mid_round_loses_no_job() {
    let lab = ScaleLab::start(60);
    // A port free now (a fixed one could be held by another cluster or test).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let cluster = OwnCluster {
        dir: std::env::temp_dir().join(format!("ward-pg-away-{}", std::process::id())),
        port,
    };
    let db = cluster.start();
    // The scheduler scans too, and a separate worker process shares the queue: both
    // must wait the outage out.
    let monitor = spawn(lab.monitor(&db).args(["--once", "--scan"]).args([
        "--in-flight",
        "2",
        "--lease",
        "3s",
    ]));
    until(&lab, &db, Duration::from_secs(60), |st| {
        !rounds(st).is_empty()
    });
    let worker = spawn(&mut lab.worker(&db, "w-away"));
    until(&lab, &db, Duration::from_secs(60), |st| {
        rounds(st).first().is_some_and(|r| state(r, "done") >= 5)
    });
    cluster.pg_ctl(&["stop", "-m", "immediate"]);
    std::thread::sleep(Duration::from_secs(4));
    cluster.start();
    let (code, err) = wait(monitor, Duration::from_secs(180));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = wait(worker, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    let stored: u64 = err
        .split(" stored,")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(stored > 0, "the worker took part: {err}");
    let st = lab.status(&db);
    let round = &rounds(&st)[0];
    assert_eq!(state(round, "done"), 60, "{st:#}");
    assert_eq!(state(round, "failed"), 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let scans = store.scans().await.unwrap();
        assert_eq!(scans[0].assets, 60);
        assert!(scans[0].complete);
        store.close().await;
    });
}

#[test]
fn a_locked_store_is_named_and_waited_out() {
    let lab = ScaleLab::start(5);
    run(lab.monitor("ward.db").arg("--once"), 0);
    // Another program holds the store's write lock for a few seconds.
    let db = lab.path().join("ward.db");
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(4)\n\
             c.execute('COMMIT')\n",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let out = lab
        .monitor("ward.db")
        .arg("--once")
        .env("WARD_DB_LOCK_WAIT", "0.5")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(holder.wait().unwrap().success());
    // Waited for half a second, then stopped before anything ran: exit 3, naming it.
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("database ward.db"), "{err}");
    assert!(err.contains("database is locked"), "{err}");
    assert_eq!(
        err.matches("database is locked").count(),
        1,
        "said once: {err}"
    );
}
