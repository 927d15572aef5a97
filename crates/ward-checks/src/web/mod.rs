//! The web checks: `web.https`, `web.redirect`, `web.hsts`, `web.csp`, `web.xcto`,
//! `web.framing`, `web.referrer`, `web.permissions`, `web.version_leak`, `web.cookies`,
//! `web.security_txt`.
//!
//! Judged from the web probe's redirect chains (`ward_model::http::WebObservation`).
//! Sources: `../shared/GUIDANCE.md` §2.1 (pshtt: HSTS max-age ≥ 31,536,000), §2.2
//! (internet.nl: HTTPS, redirect same host first, HSTS), §2.4 (OWASP headers), and the
//! rules in docs/conformance.md "HTTP headers".
//!
//! Three states: a fetch that timed out, was refused or found no address is `error`
//! (could not tell), never `fail`. Header checks read the page a visitor ends on: the last
//! response of the `https://<domain>/` chain; when there is none they are `error`. HSTS is
//! read from the first HTTPS response of the domain itself, as browsers record it per host.
//!
//! One file per subject: `https` (`web.https`, `web.redirect`), `hsts`, `headers`
//! (`web.csp`, `web.xcto`, `web.framing`, `web.referrer`, `web.permissions`,
//! `web.version_leak`), `cookies` and `security_txt`. This module holds the list of
//! checks, [`judge`], which runs them in catalogue order, and what they share.

mod cookies;
mod headers;
mod hsts;
mod https;
mod security_txt;

use crate::{Context, finding};
use cookies::cookies_verdict;
use headers::{
    HEADER_STAKES, csp_verdict, framing_verdict, permissions_verdict, referrer_verdict,
    version_verdict, xcto_verdict,
};
use hsts::hsts_verdict;
use https::{https_verdict, redirect_verdict};
use security_txt::security_txt_verdict;
use serde_json::json;
use ward_model::CheckId;
use ward_model::http::{HttpFetch, HttpOutcome, WebChain, WebObservation};
use ward_model::{Finding, Role, Status};

pub use headers::names_version;
pub use security_txt::SECURITY_TXT_MAX_AHEAD;

/// The checks in this family, in catalogue order.
pub const CHECKS: &[CheckId] = &[
    CheckId::WebHttps,
    CheckId::WebRedirect,
    CheckId::WebHsts,
    CheckId::WebCsp,
    CheckId::WebXcto,
    CheckId::WebFraming,
    CheckId::WebReferrer,
    CheckId::WebPermissions,
    CheckId::WebVersionLeak,
    CheckId::WebCookies,
    CheckId::WebSecurityTxt,
];

fn is_https(url: &str) -> bool {
    url.starts_with("https://")
}

/// The final response of the `https://<domain>/` chain, if it is an HTTPS response.
fn landing<'a>(web: &'a WebObservation, domain: &str) -> Result<&'a HttpFetch, String> {
    let start = format!("https://{domain}/");
    let Some(chain) = web.chain(&start) else {
        return Err(format!("{start} was not fetched"));
    };
    match chain.last() {
        Some(f) if matches!(f.outcome, HttpOutcome::Response { .. }) && is_https(&f.url) => {
            if let Some(why) = &chain.stopped {
                return Err(format!("the redirects from {start} stopped: {why}"));
            }
            Ok(f)
        }
        Some(f) => Err(format!("{}: {}", f.url, f.outcome)),
        None => Err(format!("{start} was not fetched")),
    }
}

/// Judges the web checks for an asset with role `web` whose web probe ran.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    if !ctx.asset.has(Role::Web) {
        return Vec::new();
    }
    let Some(web) = &ctx.obs.web else {
        return Vec::new();
    };
    let domain = ctx.asset.domain.as_str();
    let mut out = Vec::new();
    let https: Vec<&WebChain> = web.chains.iter().filter(|c| is_https(&c.start)).collect();
    out.push(https_verdict(ctx, &https));
    out.push(redirect_verdict(
        ctx,
        web.chain(&format!("http://{domain}/")),
        domain,
    ));
    out.push(hsts_verdict(ctx, web, domain));
    match landing(web, domain) {
        Ok(page) => {
            out.push(csp_verdict(ctx, page));
            out.push(xcto_verdict(ctx, page));
            out.push(framing_verdict(ctx, page));
            out.push(referrer_verdict(ctx, page));
            out.push(permissions_verdict(ctx, page));
        }
        Err(why) => {
            for id in [
                CheckId::WebCsp,
                CheckId::WebXcto,
                CheckId::WebFraming,
                CheckId::WebReferrer,
                CheckId::WebPermissions,
            ] {
                out.push(finding(
                    ctx,
                    id,
                    Status::Error,
                    HEADER_STAKES,
                    format!("no HTTPS page to read headers from: {why}"),
                    json!({}),
                ));
            }
        }
    }
    out.push(version_verdict(ctx, web));
    out.push(cookies_verdict(ctx, web));
    out.push(security_txt_verdict(ctx, web));
    out
}
