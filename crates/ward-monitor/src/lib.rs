//! ward-monitor: ward watching an inventory on its own.
//!
//! The **scheduler** ([`schedule::tick`]) begins a round when one is due: it reads the
//! inventory afresh (so an edit is picked up without a restart), and makes one job per
//! domain in the store, each with a delay (the jitter) and a choice made under its
//! organisation's schedule ([`schedule::effective`]; by default DNS and mail daily,
//! servers weekly, daily while a certificate is near its expiry): look at everything,
//! ask DNS and carry the servers' part from the last time they were contacted, or carry
//! the whole last look when the organisation is not due. When every job of a round is
//! done it marks the round's scan complete, and the caller tells the contacts what got
//! worse.
//!
//! **Workers** ([`worker::run`]) take due jobs from the store under leases they renew,
//! scan them with the same pipeline as `ward scan` ([`ward_scan::Scanner::scan_one`]) and
//! store each asset in the same transaction that marks its job done. On SQLite the
//! monitor runs one worker in its own process; on PostgreSQL any number of `ward worker`
//! processes share the queue.

pub mod consent;
pub mod schedule;
pub mod worker;

pub use schedule::{Began, Schedule, Tick, Watched, tick};
pub use worker::{WorkerConfig, WorkerTally};

/// Why the monitor or a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The store refused, for longer than a worker waits.
    #[error(transparent)]
    Store(#[from] ward_store::StoreError),
    /// The inventory could not be read.
    #[error("{0}")]
    Inventory(String),
}
