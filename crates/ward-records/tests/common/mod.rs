//! Shared harness for the third-party vector tests.
//!
//! The corpus lives beside the repository (never inside it) and is found through
//! `WARD_CORPUS`. Each vector's expected verdict is compared with ward's; a disagreement
//! must be named in the test's allow-list with a reason (and explained in
//! docs/conformance.md), and an allow-listed case that no longer disagrees fails too, so
//! the list cannot go stale.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The corpus root, or `None` (after printing one line) when it is absent.
pub fn corpus(folder: &str) -> Option<PathBuf> {
    let root = std::env::var_os("WARD_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    );
    let dir = root.join(folder);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "corpus folder {} not found (set WARD_CORPUS); {folder} vectors not run",
            dir.display()
        );
        None
    }
}

/// Reads a JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Every file under `dir`, as paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Fails when the folder holds a file the test neither runs nor names as out of scope, so a
/// new corpus file cannot be skipped silently.
pub fn assert_inventory(dir: &Path, handled: &[&str], out_of_scope: &[(&str, &str)]) {
    let known: BTreeSet<&str> = handled
        .iter()
        .copied()
        .chain(out_of_scope.iter().map(|x| x.0))
        .collect();
    let unknown: Vec<String> = files_under(dir)
        .into_iter()
        .filter(|f| !known.contains(f.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "files under {} that no test runs or names: {unknown:?}",
        dir.display()
    );
}

/// Verdict bookkeeping for one folder.
pub struct Tally {
    folder: &'static str,
    allowed: Vec<(&'static str, &'static str)>,
    pub passed: usize,
    pub disagreed: Vec<String>,
    unexpected: Vec<String>,
}

impl Tally {
    pub fn new(folder: &'static str, allowed: &[(&'static str, &'static str)]) -> Self {
        Tally {
            folder,
            allowed: allowed.to_vec(),
            passed: 0,
            disagreed: Vec::new(),
            unexpected: Vec::new(),
        }
    }

    /// Records one vector: `agree` says whether ward's verdict matched; `detail` says what
    /// ward concluded, for the failure message.
    pub fn record(&mut self, case: &str, agree: bool, detail: impl std::fmt::Debug) {
        if agree {
            self.passed += 1;
            if self.allowed.iter().any(|a| a.0 == case) {
                self.unexpected
                    .push(format!("{case}: allow-listed but now agrees; remove it"));
            }
        } else {
            self.disagreed.push(case.to_string());
            if !self.allowed.iter().any(|a| a.0 == case) {
                self.unexpected.push(format!(
                    "{case}: disagrees and is not allow-listed: {detail:?}"
                ));
            }
        }
    }

    /// Prints the counts and fails on any unlisted disagreement or stale allow-list entry.
    pub fn finish(mut self) {
        for (case, _) in &self.allowed {
            let seen = self.disagreed.iter().any(|d| d == case)
                || self.unexpected.iter().any(|u| u.starts_with(case));
            if !seen {
                self.unexpected
                    .push(format!("{case}: allow-listed, but no vector has this name"));
            }
        }
        println!(
            "{}: {} vectors, {} agree, {} disagree ({} allow-listed)",
            self.folder,
            self.passed + self.disagreed.len(),
            self.passed,
            self.disagreed.len(),
            self.allowed.len()
        );
        assert!(
            self.unexpected.is_empty(),
            "{}:\n{}",
            self.folder,
            self.unexpected.join("\n")
        );
    }
}
