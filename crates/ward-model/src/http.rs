//! HTTP fetches as observations: what a server answered, or why nothing usable came back.
//!
//! Written by `ward-net`'s HTTP client and stored in observations (the MTA-STS policy
//! today; web checks later). Every failure is data, so a check can tell "the server said
//! 404" (a finding) from "the connection timed out" or "the certificate did not validate"
//! (each its own kind), and never mistakes one for the other.

use crate::net_failure::NetFailure;
use serde::{Deserialize, Serialize};

/// One GET and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpFetch {
    /// The URL asked for (`https://host/path`, port shown when not the default).
    pub url: String,
    /// The address connected to, when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// What came back.
    pub outcome: HttpOutcome,
}

/// The outcome of one fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HttpOutcome {
    /// The server answered. Redirects are not followed: a 3xx is the answer.
    Response {
        /// The status code.
        status: u16,
        /// Header fields in order, names lower-cased, values as sent (non-UTF-8 bytes
        /// replaced by U+FFFD).
        headers: Vec<(String, String)>,
        /// The body, up to the client's cap (non-UTF-8 bytes replaced by U+FFFD).
        body: String,
        /// Whether the body was longer than the cap and was cut.
        body_truncated: bool,
    },
    /// The host name has no address to connect to (see the DNS lookups for why).
    NoAddress,
    /// The TCP connection failed.
    Network {
        /// Why.
        failure: NetFailure,
    },
    /// The TLS handshake failed, including certificate validation.
    Tls {
        /// Whether the failure was the certificate (invalid, expired, wrong name,
        /// untrusted) rather than the handshake itself.
        certificate: bool,
        /// What went wrong, as the TLS library said it.
        detail: String,
    },
    /// The server's reply broke HTTP: malformed or oversized head, bad chunking, or it
    /// stopped in the middle.
    Protocol {
        /// What was wrong.
        detail: String,
    },
    /// No complete reply within the time limit.
    TimedOut,
    /// The port answered, but in another protocol, or in none: the first bytes are
    /// not a TLS record (HTTPS) or not `HTTP/` (plain HTTP). Says nothing about whether
    /// the site has HTTPS or redirects, so the checks cannot tell.
    WrongProtocol {
        /// The well-known port asked (443, 80).
        port: u16,
        /// What was expected there: `TLS` or `HTTP`.
        expected: String,
        /// The first bytes that came back, escaped ([`crate::wire::printable`]).
        first_bytes: String,
    },
}

impl HttpFetch {
    /// A header's value (first occurrence), by lower-case name, when there was a response.
    pub fn header(&self, name: &str) -> Option<&str> {
        match &self.outcome {
            HttpOutcome::Response { headers, .. } => headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

impl std::fmt::Display for HttpOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpOutcome::Response { status, .. } => write!(f, "HTTP status {status}"),
            HttpOutcome::NoAddress => f.write_str("the host name has no address"),
            HttpOutcome::Network { failure } => write!(f, "{failure}"),
            HttpOutcome::Tls {
                certificate: true,
                detail,
            } => write!(f, "certificate not valid: {detail}"),
            HttpOutcome::Tls { detail, .. } => write!(f, "TLS handshake failed: {detail}"),
            HttpOutcome::Protocol { detail } => write!(f, "broken HTTP reply: {detail}"),
            HttpOutcome::TimedOut => f.write_str("timed out"),
            HttpOutcome::WrongProtocol {
                port,
                expected,
                first_bytes,
            } => write!(
                f,
                "port {port} answered, but not with {expected}: first bytes \"{first_bytes}\""
            ),
        }
    }
}

/// One redirect chain, as the web probe followed it: the first fetch is the URL it started
/// from, each next one the `Location` of the one before, at most
/// [`WebObservation::MAX_HOPS`] redirects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebChain {
    /// The URL the chain started from.
    pub start: String,
    /// Every fetch, in order.
    pub hops: Vec<HttpFetch>,
    /// Why the chain stopped early, when it did (a redirect loop, too many hops, a
    /// `Location` ward would not follow); `None` when it ended on a non-redirect or a
    /// failed fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl WebChain {
    /// The last fetch.
    pub fn last(&self) -> Option<&HttpFetch> {
        self.hops.last()
    }
}

/// What the web probe saw for an asset with role `web`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WebObservation {
    /// Chains from `http://<domain>/`, `https://<domain>/` and, when `www.<domain>`
    /// resolves, the same two for it.
    pub chains: Vec<WebChain>,
    /// `GET https://<domain>/.well-known/security.txt` (no redirect followed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_txt: Option<HttpFetch>,
}

impl WebObservation {
    /// Most redirects followed in one chain (internet.nl and pshtt use 10).
    pub const MAX_HOPS: usize = 10;

    /// The chain that started at `url`.
    pub fn chain(&self, url: &str) -> Option<&WebChain> {
        self.chains.iter().find(|c| c.start == url)
    }
}

impl HttpFetch {
    /// Every value of a header, by lower-case name, when there was a response.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let list: &[(String, String)] = match &self.outcome {
            HttpOutcome::Response { headers, .. } => headers,
            _ => &[],
        };
        list.iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match &self.outcome {
            HttpOutcome::Response { status, .. } => Some(*status),
            _ => None,
        }
    }
}
