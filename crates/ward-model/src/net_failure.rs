//! Why a connection failed, kept apart from "the service lacks something".

use serde::{Deserialize, Serialize};

/// Why a TCP connection (or what ran over it) failed. "Refused", "reset" and "timed out"
/// are kept apart from each other and from "not supported": each is *could not tell*
/// about the service, never a finding that it lacks something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NetFailure {
    /// ward refused to connect: not a public address. Nothing was sent.
    Blocked {
        /// The address refused.
        addr: String,
    },
    /// The server refused the connection (RST to our SYN).
    Refused,
    /// The connection was reset after it was made.
    Reset,
    /// No answer within the time limit.
    TimedOut,
    /// No route to the address, or the network is down.
    Unreachable {
        /// The operating system's description.
        detail: String,
    },
    /// The peer closed the connection early.
    Closed,
    /// Any other socket error.
    Io {
        /// The operating system's description.
        detail: String,
    },
    /// The domain's time budget ran out first.
    OutOfTime {
        /// The whole budget, in seconds.
        budget_secs: u32,
    },
}

impl std::fmt::Display for NetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetFailure::Blocked { addr } => {
                write!(
                    f,
                    "not contacted: {addr} is a private address (pass --allow-private)"
                )
            }
            NetFailure::Refused => f.write_str("connection refused"),
            NetFailure::Reset => f.write_str("connection reset"),
            NetFailure::TimedOut => f.write_str("timed out"),
            NetFailure::Unreachable { detail } => write!(f, "unreachable: {detail}"),
            NetFailure::Closed => f.write_str("connection closed early"),
            NetFailure::Io { detail } => write!(f, "network error: {detail}"),
            NetFailure::OutOfTime { budget_secs } => write!(
                f,
                "not finished within the domain's time budget ({budget_secs} s, --domain-budget)"
            ),
        }
    }
}

impl NetFailure {
    /// Classifies a socket error.
    pub fn from_io(e: &std::io::Error) -> NetFailure {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => NetFailure::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => NetFailure::Reset,
            K::TimedOut => NetFailure::TimedOut,
            K::UnexpectedEof => NetFailure::Closed,
            K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown | K::AddrNotAvailable => {
                NetFailure::Unreachable {
                    detail: e.to_string(),
                }
            }
            _ => NetFailure::Io {
                detail: e.to_string(),
            },
        }
    }
}
