//! DNS answers exactly as they were served, failures included: what a probe asked and
//! what came back. Plain data that round-trips through serde, like every observation.

use serde::{Deserialize, Serialize};

/// One resource record as it was served, in presentation form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Owner name, lower case, no trailing dot.
    pub name: String,
    /// Record type mnemonic (`A`, `TXT`, `CAA`, ...).
    pub rtype: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The record data. TXT records give their character-strings concatenated (as SPF and
    /// DMARC read them), with bytes that are not UTF-8 replaced by U+FFFD; other types give
    /// the master-file presentation form.
    pub data: String,
}

/// Why a DNS question could not be answered. Each of these means *could not tell*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DnsFailure {
    /// No reply within the time limit, after every attempt.
    Timeout {
        /// How many times the question was sent.
        attempts: u32,
    },
    /// The server said SERVFAIL (often: it could not reach the domain's nameservers, or
    /// DNSSEC validation failed).
    ServFail,
    /// The server refused to answer.
    Refused,
    /// Any other error response code.
    Rcode {
        /// The numeric response code.
        code: u16,
    },
    /// The reply was truncated and the retry over TCP failed too.
    Truncated,
    /// The reply could not be decoded, or did not match the question.
    Malformed {
        /// What was wrong with it.
        detail: String,
    },
    /// A socket error (for example ICMP port unreachable, seen as connection refused).
    Network {
        /// The operating system's description.
        detail: String,
    },
    /// ward refused to send the question: the address is not public and private
    /// targets were not allowed. Nothing was sent.
    Blocked {
        /// The address that was refused.
        addr: String,
    },
    /// The domain's time budget ran out before a reply came (or before the question
    /// could be sent).
    OutOfTime {
        /// The whole budget, in seconds.
        budget_secs: u32,
    },
    /// The resolver answered with a referral: it does not recurse, so it cannot say.
    NotRecursive,
}

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsFailure::Timeout { attempts } => write!(f, "timed out ({attempts} attempts)"),
            DnsFailure::ServFail => f.write_str("SERVFAIL"),
            DnsFailure::Refused => f.write_str("REFUSED"),
            DnsFailure::Rcode { code } => write!(f, "error response code {code}"),
            DnsFailure::Truncated => f.write_str("truncated reply, and TCP failed"),
            DnsFailure::Malformed { detail } => write!(f, "malformed reply: {detail}"),
            DnsFailure::Network { detail } => write!(f, "network error: {detail}"),
            DnsFailure::Blocked { addr } => write!(
                f,
                "not sent: {addr} is a private address (pass --allow-private to scan it)"
            ),
            DnsFailure::NotRecursive => f.write_str(
                "the resolver does not recurse: it answered with a referral to other nameservers",
            ),
            DnsFailure::OutOfTime { budget_secs } => write!(
                f,
                "no reply within the domain's time budget ({budget_secs} s, --domain-budget)"
            ),
        }
    }
}

/// The outcome of one DNS question: the three states made explicit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DnsOutcome {
    /// Records of the asked type exist (present).
    Answer {
        /// The records of the asked type (CNAMEs followed are included before them).
        records: Vec<DnsRecord>,
        /// Whether the server set the AA bit.
        authoritative: bool,
    },
    /// The name does not exist (absent).
    NxDomain {
        /// Whether the server set the AA bit.
        authoritative: bool,
    },
    /// The name exists but has no records of this type (absent).
    NoData {
        /// Whether the server set the AA bit.
        authoritative: bool,
    },
    /// No answer could be had (could not tell).
    Failed {
        /// Why.
        failure: DnsFailure,
    },
}

/// The three states of a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// It is there.
    Present,
    /// It is definitely not there.
    Absent,
    /// We could not find out.
    CouldNotTell,
}

impl DnsOutcome {
    /// Which of the three states this outcome is.
    pub fn tri(&self) -> Tri {
        match self {
            DnsOutcome::Answer { .. } => Tri::Present,
            DnsOutcome::NxDomain { .. } | DnsOutcome::NoData { .. } => Tri::Absent,
            DnsOutcome::Failed { .. } => Tri::CouldNotTell,
        }
    }

    /// Records of type `rtype` in the answer (empty unless present).
    pub fn records_of<'a>(&'a self, rtype: &'a str) -> impl Iterator<Item = &'a DnsRecord> + 'a {
        let records: &[DnsRecord] = match self {
            DnsOutcome::Answer { records, .. } => records,
            _ => &[],
        };
        records.iter().filter(move |r| r.rtype == rtype)
    }

    /// Whether the server claimed authority for what it said; false for failures.
    pub fn authoritative(&self) -> bool {
        match self {
            DnsOutcome::Answer { authoritative, .. }
            | DnsOutcome::NxDomain { authoritative }
            | DnsOutcome::NoData { authoritative } => *authoritative,
            DnsOutcome::Failed { .. } => false,
        }
    }

    /// The failure, if this is one.
    pub fn failure(&self) -> Option<&DnsFailure> {
        match self {
            DnsOutcome::Failed { failure } => Some(failure),
            _ => None,
        }
    }

    /// A short description for evidence and summaries.
    pub fn describe(&self) -> String {
        match self {
            DnsOutcome::Answer { records, .. } => format!("{} record(s)", records.len()),
            DnsOutcome::NxDomain { .. } => "no such domain (NXDOMAIN)".into(),
            DnsOutcome::NoData { .. } => "no records of that type".into(),
            DnsOutcome::Failed { failure } => failure.to_string(),
        }
    }
}

/// One question and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsLookup {
    /// The name asked about, lower case, no trailing dot.
    pub name: String,
    /// The type asked for.
    pub rtype: String,
    /// Which server was asked: `None` for the configured resolver, otherwise the
    /// nameserver's address, asked directly without recursion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// What came back.
    pub outcome: DnsOutcome,
}
