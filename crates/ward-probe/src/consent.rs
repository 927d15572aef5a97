//! Looking for an organisation's proof that a domain is its own.
//!
//! Two proofs count, either one enough: a TXT record at `_ward-challenge.<domain>`
//! whose text is the claim's token, or a file at
//! `https://<domain>/.well-known/ward-challenge` whose first line is the token. Both
//! are asked through the same guarded network as every probe (private addresses
//! refused outside lab mode, the same size and time limits).

use ward_model::DnsOutcome;
use ward_model::http::HttpOutcome;
use ward_net::Net;
use ward_net::http::{HttpClient, HttpRequest};

/// The label under the domain where the TXT proof goes.
pub const CHALLENGE_LABEL: &str = "_ward-challenge";
/// The path of the file proof.
pub const WELL_KNOWN_PATH: &str = "/.well-known/ward-challenge";

/// A new claim token: `ward-` and 32 random hex digits (128 bits).
pub fn new_token() -> String {
    let mut b = [0u8; 16];
    // The system's random source failing is not something a claim can go on without.
    aws_lc_rs::rand::fill(&mut b).expect("the system random source failed");
    let mut t = String::from("ward-");
    for x in b {
        t.push_str(&format!("{x:02x}"));
    }
    t
}

/// How a proof was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The TXT record.
    Dns,
    /// The file under `/.well-known/`.
    WellKnown,
}

impl Proof {
    /// As the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Dns => "dns",
            Proof::WellKnown => "well-known",
        }
    }
}

/// What one look found: the proof, or why there was none (both places, in words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looked {
    /// How the token was found, if it was.
    pub proof: Option<Proof>,
    /// What was seen, for the owner.
    pub detail: String,
}

/// Looks for `token` in both places for `domain`. A fresh `net` should be passed for
/// each round of looks, so that an answer remembered from an earlier one does not
/// stand in for the proof now.
pub async fn look(net: &Net, client: &HttpClient, domain: &str, token: &str) -> Looked {
    let name = format!("{CHALLENGE_LABEL}.{domain}");
    let (txt, file) = tokio::join!(net.resolve(&name, "TXT"), well_known(net, client, domain));
    let dns_said = match &txt.outcome {
        o @ DnsOutcome::Answer { .. } => {
            let texts: Vec<&str> = o.records_of("TXT").map(|r| r.data.trim()).collect();
            if texts.contains(&token) {
                return Looked {
                    proof: Some(Proof::Dns),
                    detail: format!("TXT {name} holds the token"),
                };
            }
            format!(
                "TXT {name} has {} record(s), none of them the token",
                texts.len()
            )
        }
        other => format!("TXT {name}: {}", other.describe()),
    };
    let file_said = match file {
        Ok(body) if body.lines().next().map(str::trim) == Some(token) => {
            return Looked {
                proof: Some(Proof::WellKnown),
                detail: format!("https://{domain}{WELL_KNOWN_PATH} holds the token"),
            };
        }
        Ok(_) => format!("https://{domain}{WELL_KNOWN_PATH} does not begin with the token"),
        Err(why) => format!("https://{domain}{WELL_KNOWN_PATH}: {why}"),
    };
    Looked {
        proof: None,
        detail: format!("{dns_said}; {file_said}"),
    }
}

async fn well_known(net: &Net, client: &HttpClient, domain: &str) -> Result<String, String> {
    let mut ip = None;
    for rtype in ["A", "AAAA"] {
        let l = net.resolve(domain, rtype).await;
        ip = l
            .outcome
            .records_of(rtype)
            .find_map(|r| r.data.parse().ok());
        if ip.is_some() {
            break;
        }
    }
    let Some(ip) = ip else {
        return Err("no address".into());
    };
    let fetched = client
        .fetch(net, ip, &HttpRequest::https_get(domain, WELL_KNOWN_PATH))
        .await;
    match fetched.outcome {
        HttpOutcome::Response {
            status: 200, body, ..
        } => Ok(body),
        HttpOutcome::Response { status, .. } => Err(format!("HTTP status {status}")),
        other => Err(describe(&other)),
    }
}

fn describe(o: &HttpOutcome) -> String {
    match o {
        HttpOutcome::Response { status, .. } => format!("HTTP status {status}"),
        HttpOutcome::NoAddress => "no address".into(),
        HttpOutcome::Network { failure } => format!("{failure}"),
        HttpOutcome::Tls { detail, .. } => format!("TLS failed: {detail}"),
        HttpOutcome::Protocol { detail } => format!("not HTTP: {detail}"),
        _ => "no answer in time".into(),
    }
}
