//! ward's vocabulary, shared by every room.
//!
//! An organisation tree owns assets (domains with roles). Probing an asset yields
//! *observations*: plain data recording exactly what was seen, failures included.
//! Judging observations yields *findings*. Nothing in this crate does I/O: it is the
//! language the other crates speak, so that a stored scan can be read and judged again.
//!
//! The one rule that runs through every type here is the three states: a fact is
//! *present*, *absent*, or *could not tell*. See [`dns::DnsOutcome`].
#![deny(missing_docs)]

pub mod check;
pub mod contact;
pub mod dns;
pub mod dnssec;
pub mod finding;
pub mod http;
pub mod inventory;
pub mod lookup;
pub mod net_failure;
pub mod observe;
pub mod org;
pub mod report_rows;
pub mod scan;
pub mod schedule;
pub mod tls;
pub mod wire;

pub use check::{CheckId, Family};
pub use dns::{DnsFailure, DnsLookup, DnsOutcome, DnsRecord};
pub use finding::{Evidence, Finding, Severity, Status};
pub use lookup::{DnsSource, Lookup};
pub use net_failure::NetFailure;
pub use org::{Asset, OrgKind, Organisation, Role, SizeClass};
pub use scan::{AssetReport, DmarcPhase, ScanReport};
