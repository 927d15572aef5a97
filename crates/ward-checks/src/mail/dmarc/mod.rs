//! DMARC in two parts: [`discover`] finds the policy that applies to a domain by the
//! RFC 9989 tree walk (a pure function over a [`ward_model::DnsSource`], public for other
//! callers), `judge` turns what it found into the `dmarc.*` findings and the
//! `DmarcOutcome` the other mail checks build on, and [`phase`] reads the domain's DMARC
//! phase from those findings.

pub mod discover;
mod judge;
mod phase;

pub(crate) use judge::{DmarcOutcome, judge, needed};
pub use phase::phase;
