//! Shared test harness: the real `ward` binary in a private folder with a clean
//! environment, and small lab fixtures built in code.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use ward_lab::fixture::{DnsBehaviour, Fixture, ZoneSource};

/// A `ward` command with every WARD_* variable and RUST_LOG cleared, run in `dir`.
pub fn ward(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ward"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("WARD_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs and insists on the exit code, showing stderr when it differs.
pub fn run(cmd: &mut Command, expect: i32) -> Output {
    let out = cmd.output().expect("ward runs");
    assert_eq!(
        out.status.code(),
        Some(expect),
        "exit status of {cmd:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A zone with an SOA, the given nameservers (name, address) and extra records.
pub fn zone(origin: &str, ns: &[(&str, &str)], extra: &str) -> ZoneSource {
    let mut text = format!(
        "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA {}. hostmaster.{origin}. ( 1 7200 3600 1209600 300 )\n",
        ns[0].0
    );
    for (name, ip) in ns {
        text.push_str(&format!("@ IN NS {name}.\n{name}. IN A {ip}\n"));
    }
    text.push_str(extra);
    ZoneSource {
        origin: origin.into(),
        text,
        path: PathBuf::from(format!("test/{origin}.zone")),
    }
}

pub fn fixture(zones: Vec<ZoneSource>, dns: DnsBehaviour) -> Fixture {
    Fixture {
        name: "test".into(),
        zones,
        hosts_toml: None,
        dns,
        inventory_toml: None,
    }
}

/// The lab flags for `ward scan`.
pub fn lab_args(lab: &ward_lab::Lab) -> Vec<String> {
    vec![
        "--resolver".into(),
        lab.resolver().to_string(),
        "--lab-ports".into(),
        lab.ports_arg(),
    ]
}

/// The findings of `domain` in a scan document, as (check, status) pairs.
pub fn statuses(doc: &serde_json::Value, domain: &str) -> Vec<(String, String)> {
    let asset = doc["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["domain"] == domain))
        .unwrap_or_else(|| panic!("{domain} not in the scan"));
    asset["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or("").to_owned(),
                f["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

pub fn status_of(doc: &serde_json::Value, domain: &str, check: &str) -> String {
    statuses(doc, domain)
        .into_iter()
        .find(|(c, _)| c == check)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("{domain} has no {check} finding"))
}

/// The finding `check` of `domain` in a `--format json` scan; panics naming what is missing.
pub fn finding<'a>(doc: &'a serde_json::Value, domain: &str, check: &str) -> &'a serde_json::Value {
    doc["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["domain"] == domain))
        .unwrap_or_else(|| panic!("{domain} not in the scan"))["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == check))
        .unwrap_or_else(|| panic!("no {check} finding for {domain}"))
}

/// How many lines of each action the audit log of `dir/ward.db` holds.
pub fn audit_counts(dir: &Path) -> std::collections::HashMap<String, usize> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = ward_store::Store::open(dir.join("ward.db").to_str().unwrap())
            .await
            .unwrap();
        let log = s.audit_log(1000).await.unwrap();
        s.close().await;
        let mut counts = std::collections::HashMap::new();
        for e in log {
            *counts.entry(e.action).or_default() += 1;
        }
        counts
    })
}
