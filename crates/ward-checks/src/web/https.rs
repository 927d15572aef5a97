//! `web.https` (does HTTPS answer, with a valid certificate?) and `web.redirect` (does
//! plain HTTP redirect to HTTPS, on the same host first?).

use super::is_https;
use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::{HttpFetch, HttpOutcome, WebChain};
use ward_model::{Finding, Severity, Status};

const HTTPS_STAKES: Stakes = Stakes::flat(Severity::High);
const REDIRECT_STAKES: Stakes = Stakes::flat(Severity::High);

/// Whether a fetch failed in a way that says nothing about the site's configuration. A
/// port that answers in another protocol is one: it proves something listens, not that
/// the site lacks HTTPS or a redirect.
fn could_not_tell(f: &HttpFetch) -> bool {
    matches!(
        f.outcome,
        HttpOutcome::NoAddress
            | HttpOutcome::Network { .. }
            | HttpOutcome::TimedOut
            | HttpOutcome::WrongProtocol { .. }
    )
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split('/').next().unwrap_or_default();
    auth.split(':').next().unwrap_or_default()
}

pub(super) fn https_verdict(ctx: &Context<'_>, chains: &[&WebChain]) -> Finding {
    let mut fails = Vec::new();
    let mut errors = Vec::new();
    let mut ok = Vec::new();
    let mut wrong_protocol = None;
    for c in chains {
        let Some(first) = c.hops.first() else {
            continue;
        };
        match &first.outcome {
            HttpOutcome::Response { status, .. } => {
                ok.push(json!({"url": first.url, "status": status}))
            }
            HttpOutcome::Tls { .. } | HttpOutcome::Protocol { .. } => {
                fails.push(json!({"url": first.url, "problem": first.outcome.to_string()}))
            }
            other => {
                if matches!(other, HttpOutcome::WrongProtocol { .. }) {
                    wrong_protocol.get_or_insert_with(|| other.to_string());
                }
                errors.push(json!({"url": first.url, "problem": other.to_string()}))
            }
        }
    }
    let ev = Evidence::from(json!({"answered": ok, "failed": fails, "could_not_tell": errors}));
    let (status, summary) = if !fails.is_empty() {
        (
            Status::Fail,
            "HTTPS does not work: the certificate or the TLS handshake failed".into(),
        )
    } else if let Some(seen) = wrong_protocol {
        (Status::Error, format!("could not tell: {seen}"))
    } else if !errors.is_empty() {
        (Status::Error, "could not reach the site over HTTPS".into())
    } else if ok.is_empty() {
        (Status::Error, "HTTPS was not fetched".into())
    } else {
        (
            Status::Pass,
            "HTTPS answers with a valid certificate".into(),
        )
    };
    finding(ctx, CheckId::WebHttps, status, HTTPS_STAKES, summary, ev)
}

pub(super) fn redirect_verdict(
    ctx: &Context<'_>,
    chain: Option<&WebChain>,
    domain: &str,
) -> Finding {
    let Some(chain) = chain else {
        return finding(
            ctx,
            CheckId::WebRedirect,
            Status::Error,
            REDIRECT_STAKES,
            "HTTP was not fetched",
            json!({}),
        );
    };
    let hops: Vec<_> = chain
        .hops
        .iter()
        .map(|h| json!({"url": h.url, "status": h.status(), "location": h.header("location")}))
        .collect();
    let ev = Evidence::from(json!({"start": chain.start, "hops": hops, "stopped": chain.stopped}));
    let (status, summary) = redirect_status(chain, domain);
    finding(
        ctx,
        CheckId::WebRedirect,
        status,
        REDIRECT_STAKES,
        summary,
        ev,
    )
}

/// How `chain` (the redirects from `http://domain/`) ends, and what to say about it.
fn redirect_status(chain: &WebChain, domain: &str) -> (Status, String) {
    let (Some(first), Some(last)) = (chain.hops.first(), chain.last()) else {
        return (Status::Error, "HTTP was not fetched".into());
    };
    if could_not_tell(first) {
        return (
            Status::Error,
            format!("could not fetch {}: {}", first.url, first.outcome),
        );
    }
    if let Some(why) = &chain.stopped {
        return (
            Status::Fail,
            format!("the redirects from {} do not end: {why}", chain.start),
        );
    }
    if !is_https(&last.url) {
        return (
            Status::Fail,
            format!("{} does not redirect to HTTPS", chain.start),
        );
    }
    let second = chain
        .hops
        .get(1)
        .map(|h| h.url.as_str())
        .unwrap_or_default();
    if is_https(second) && host_of(second) == domain {
        (
            Status::Pass,
            "HTTP redirects to HTTPS on the same host first".into(),
        )
    } else {
        (
            Status::Warn,
            format!(
                "HTTP reaches HTTPS, but its first redirect goes to {second}, not https://{domain}/ (HSTS for {domain} is never seen)"
            ),
        )
    }
}
