//! Shared by the SPF integration tests: where the corpus is, and a fixture DNS zone.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use ward_model::{DnsFailure, DnsOutcome, DnsRecord, DnsSource, Lookup};

/// `$WARD_CORPUS`, or `../shared/corpus` beside the workspace.
pub fn corpus() -> PathBuf {
    match std::env::var_os("WARD_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

/// Whether the corpus is there; when it is not, says so in one line (once per test
/// binary, however many tests ask), through [`say`] so that the skip is seen.
pub fn corpus_present() -> bool {
    static SAID: std::sync::Once = std::sync::Once::new();
    let path = corpus();
    let present = path.is_dir();
    if !present {
        SAID.call_once(|| {
            say(&format!(
                "SPF conformance: corpus not found at {} (set WARD_CORPUS); not run",
                path.display()
            ));
        });
    }
    present
}

/// Writes one line to the process's stderr, where `cargo test` shows it even under its
/// default output capture. libtest captures only the print macros (`print!`, `eprint!`,
/// also in threads a test spawns); a write to the `std::io::stderr()` handle bypasses the
/// capture. Meant for a suite's tally, which should be visible in every run, not only with
/// `--nocapture` or when the test fails.
pub fn say(line: &str) {
    use std::io::Write;
    // Nothing useful can be done if stderr is closed; the assertions still decide.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// One name's data in a fixture zone.
#[derive(Debug, Default, Clone)]
pub struct Node {
    /// (type, presentation data)
    pub records: Vec<(String, String)>,
    /// Any question with no records of its type times out.
    pub timeout: bool,
}

/// A fixture zone: names not in it are NXDOMAIN; every question is recorded.
#[derive(Debug, Default)]
pub struct Zone {
    pub names: HashMap<String, Node>,
    pub asked: RefCell<Vec<(String, String)>>,
}

impl Zone {
    pub fn add(&mut self, name: &str, rtype: &str, data: &str) {
        self.names
            .entry(name.to_ascii_lowercase())
            .or_default()
            .records
            .push((rtype.to_owned(), data.to_owned()));
    }

    pub fn queries(&self) -> usize {
        self.asked.borrow().len()
    }
}

fn norm(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl DnsSource for Zone {
    fn query(&self, name: &str, rtype: &str) -> Lookup {
        self.asked
            .borrow_mut()
            .push((name.to_owned(), rtype.to_owned()));
        let mut current = norm(name);
        let mut chain = Vec::new();
        for _ in 0..8 {
            let Some(node) = self.names.get(&current) else {
                return Lookup::Done(DnsOutcome::NxDomain {
                    authoritative: true,
                });
            };
            let records: Vec<DnsRecord> = node
                .records
                .iter()
                .filter(|(t, _)| t == rtype)
                .map(|(t, d)| DnsRecord {
                    name: current.clone(),
                    rtype: t.clone(),
                    ttl: 300,
                    data: d.clone(),
                })
                .collect();
            if !records.is_empty() {
                chain.extend(records);
                return Lookup::Done(DnsOutcome::Answer {
                    records: chain,
                    authoritative: true,
                });
            }
            if let Some((_, target)) = node.records.iter().find(|(t, _)| t == "CNAME") {
                chain.push(DnsRecord {
                    name: current.clone(),
                    rtype: "CNAME".into(),
                    ttl: 300,
                    data: target.clone(),
                });
                current = norm(target);
                continue;
            }
            if node.timeout {
                return Lookup::Done(DnsOutcome::Failed {
                    failure: DnsFailure::Timeout { attempts: 3 },
                });
            }
            return Lookup::Done(DnsOutcome::NoData {
                authoritative: true,
            });
        }
        // A CNAME chain that does not end: what a resolver reports as SERVFAIL.
        Lookup::Done(DnsOutcome::Failed {
            failure: DnsFailure::ServFail,
        })
    }
}
