//! `web.cookies`: the Secure, HttpOnly and SameSite attributes of every cookie set over
//! HTTPS.

use super::is_https;
use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::WebObservation;
use ward_model::{Finding, Severity, Status};

const COOKIE_STAKES: Stakes = Stakes::flat(Severity::Medium);

pub(super) fn cookies_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
    let mut bad = Vec::new();
    let mut soft = Vec::new();
    let mut seen = 0;
    for c in &web.chains {
        for h in c.hops.iter().filter(|h| is_https(&h.url)) {
            for v in h.headers_named("set-cookie") {
                seen += 1;
                let mut parts = v.split(';');
                let name = parts
                    .next()
                    .and_then(|p| p.split_once('='))
                    .map_or("", |(n, _)| n.trim())
                    .to_string();
                let attrs: Vec<String> = parts
                    .map(|a| {
                        a.split('=')
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_ascii_lowercase()
                    })
                    .collect();
                let has = |a: &str| attrs.iter().any(|x| x == a);
                let mut missing = Vec::new();
                if !has("secure") {
                    missing.push("Secure");
                }
                let mut weak = Vec::new();
                if !has("httponly") {
                    weak.push("HttpOnly");
                }
                if !has("samesite") {
                    weak.push("SameSite");
                }
                if !missing.is_empty() {
                    bad.push(json!({"url": h.url, "cookie": name, "missing": missing}));
                } else if !weak.is_empty() {
                    soft.push(json!({"url": h.url, "cookie": name, "missing": weak}));
                }
            }
        }
    }
    let ev = Evidence::from(
        json!({"cookies": seen, "without_secure": bad, "without_httponly_or_samesite": soft}),
    );
    let any_https = web
        .chains
        .iter()
        .flat_map(|c| &c.hops)
        .any(|h| is_https(&h.url) && h.status().is_some());
    if !any_https {
        finding(
            ctx,
            CheckId::WebCookies,
            Status::Error,
            COOKIE_STAKES,
            "no HTTPS response to read cookies from",
            ev,
        )
    } else if !bad.is_empty() {
        finding(
            ctx,
            CheckId::WebCookies,
            Status::Fail,
            COOKIE_STAKES,
            "cookies set over HTTPS without Secure can leak over plain HTTP",
            ev,
        )
    } else if !soft.is_empty() {
        finding(
            ctx,
            CheckId::WebCookies,
            Status::Warn,
            COOKIE_STAKES,
            "cookies without HttpOnly or SameSite",
            ev,
        )
    } else {
        finding(
            ctx,
            CheckId::WebCookies,
            Status::Pass,
            COOKIE_STAKES,
            format!("{seen} cookie(s) set over HTTPS, all Secure, HttpOnly and SameSite"),
            ev,
        )
    }
}
