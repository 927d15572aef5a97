//! A synchronous view of DNS for pure code.
//!
//! Checks never touch the network (ARCHITECTURE.md, seam 2). Logic that has to follow
//! DNS, like SPF's `check_host()` or the DMARC tree walk, is written against
//! [`DnsSource`]. Two kinds of source exist: one backed by an observation (a stored scan
//! answers from what was recorded, and says [`Lookup::NotFetched`] for anything else),
//! and, in tests, one served from fixture zone data.
//!
//! The probe uses the first kind to discover what to fetch: it runs the same logic over
//! what it has, fetches every name reported as not fetched, and repeats until nothing is
//! missing. So the questions asked on the wire are exactly the questions the check needs.

use crate::dns::DnsOutcome;

/// The answer a [`DnsSource`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The question was asked; here is what came back (any of the three states).
    Done(DnsOutcome),
    /// The source does not hold this question. Logic over an observation must stop and
    /// report the question as needed, never treat it as absent.
    NotFetched,
}

/// DNS as pure code sees it. `name` is lower case without a trailing dot; `rtype` is a
/// record type mnemonic such as `TXT`, `A`, `AAAA`, `MX`, `PTR`, `CAA`.
pub trait DnsSource {
    /// Asks one question.
    fn query(&self, name: &str, rtype: &str) -> Lookup;
}

impl DnsSource for crate::observe::AssetObservation {
    fn query(&self, name: &str, rtype: &str) -> Lookup {
        match self.resolved(name, rtype) {
            Some(outcome) => Lookup::Done(outcome.clone()),
            None => Lookup::NotFetched,
        }
    }
}
