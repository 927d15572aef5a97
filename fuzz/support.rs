//! What every fuzz target file shares, included by `#[path]` from each crate's fuzz
//! targets (tests/fuzz.rs, and ward-net's src/fuzz.rs): the proptest settings and the
//! clock the time budgets are measured on. Each file keeps its own budget, since the
//! parsers differ in what they may cost a byte. docs/fuzzing.md says how to run them.

use proptest::test_runner::Config as ProptestConfig;
use std::time::{Duration, Instant};

/// `WARD_FUZZ_CASES` (or proptest's own `PROPTEST_CASES`) cases per property, 256 by
/// default so that `cargo test` stays quick.
pub fn config() -> ProptestConfig {
    let cases = ["WARD_FUZZ_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // A hang found late in a long run must not shrink for hours.
        max_shrink_time: 60_000,
        // What a run finds becomes a named regression test beside the parser instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Time spent on a CPU by this thread, where budgets are measured. Wall time would count
/// the waits for a core on a loaded machine (two cores shared with builds), which made a
/// budget either flaky or too loose to catch a quadratic walk; CPU time counts only the
/// parser's own work. From `/proc/thread-self/schedstat` (Linux, nanoseconds, updated
/// at every tick); wall time where that is missing.
pub struct Clock {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu(),
        }
    }

    pub fn took(&self) -> Duration {
        match (self.cpu, thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => self.wall.elapsed(),
        }
    }
}

fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
