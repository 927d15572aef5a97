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

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::Evidence;
use ward_model::http::{HttpFetch, HttpOutcome, WebChain, WebObservation};
use ward_model::{Finding, Role, Severity, Status};
use ward_records::{csp, hsts, permissions_policy, referrer_policy, security_txt};

/// The checks in this family, in catalogue order.
pub const CHECKS: &[&str] = &[
    "web.https",
    "web.redirect",
    "web.hsts",
    "web.csp",
    "web.xcto",
    "web.framing",
    "web.referrer",
    "web.permissions",
    "web.version_leak",
    "web.cookies",
    "web.security_txt",
];

/// security.txt `Expires` more than this far after the scan warns (RFC 9116 §2.5.5:
/// "less than a year into the future").
pub const SECURITY_TXT_MAX_AHEAD: i64 = 366 * 86_400;

const HTTPS_STAKES: Stakes = Stakes::flat(Severity::High);
const REDIRECT_STAKES: Stakes = Stakes::flat(Severity::High);
const HSTS_STAKES: Stakes = Stakes::flat(Severity::Medium);
const HEADER_STAKES: Stakes = Stakes::flat(Severity::Low);
const CSP_STAKES: Stakes = Stakes {
    small: Severity::Low,
    medium: Severity::Medium,
};
const COOKIE_STAKES: Stakes = Stakes::flat(Severity::Medium);
const SECTXT_STAKES: Stakes = Stakes::flat(Severity::Low);

/// Whether a fetch failed in a way that says nothing about the site's configuration.
fn could_not_tell(f: &HttpFetch) -> bool {
    matches!(
        f.outcome,
        HttpOutcome::NoAddress | HttpOutcome::Network { .. } | HttpOutcome::TimedOut
    )
}

fn is_https(url: &str) -> bool {
    url.starts_with("https://")
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split('/').next().unwrap_or_default();
    auth.split(':').next().unwrap_or_default()
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

fn https_verdict(ctx: &Context<'_>, chains: &[&WebChain]) -> Finding {
    let mut fails = Vec::new();
    let mut errors = Vec::new();
    let mut ok = Vec::new();
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
            _ => errors.push(json!({"url": first.url, "problem": first.outcome.to_string()})),
        }
    }
    let ev = Evidence::from(json!({"answered": ok, "failed": fails, "could_not_tell": errors}));
    if !fails.is_empty() {
        finding(
            ctx,
            "web.https",
            Status::Fail,
            HTTPS_STAKES,
            "HTTPS does not work: the certificate or the TLS handshake failed",
            ev,
        )
    } else if !errors.is_empty() {
        finding(
            ctx,
            "web.https",
            Status::Error,
            HTTPS_STAKES,
            "could not reach the site over HTTPS",
            ev,
        )
    } else if ok.is_empty() {
        finding(
            ctx,
            "web.https",
            Status::Error,
            HTTPS_STAKES,
            "HTTPS was not fetched",
            ev,
        )
    } else {
        finding(
            ctx,
            "web.https",
            Status::Pass,
            HTTPS_STAKES,
            "HTTPS answers with a valid certificate",
            ev,
        )
    }
}

fn redirect_verdict(ctx: &Context<'_>, chain: Option<&WebChain>, domain: &str) -> Finding {
    let Some(chain) = chain else {
        return finding(
            ctx,
            "web.redirect",
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
    let Some(first) = chain.hops.first() else {
        return finding(
            ctx,
            "web.redirect",
            Status::Error,
            REDIRECT_STAKES,
            "HTTP was not fetched",
            ev,
        );
    };
    if could_not_tell(first) {
        return finding(
            ctx,
            "web.redirect",
            Status::Error,
            REDIRECT_STAKES,
            format!("could not fetch {}: {}", first.url, first.outcome),
            ev,
        );
    }
    if let Some(why) = &chain.stopped {
        return finding(
            ctx,
            "web.redirect",
            Status::Fail,
            REDIRECT_STAKES,
            format!("the redirects from {} do not end: {why}", chain.start),
            ev,
        );
    }
    let Some(last) = chain.last() else {
        return finding(
            ctx,
            "web.redirect",
            Status::Error,
            REDIRECT_STAKES,
            "HTTP was not fetched",
            ev,
        );
    };
    if !is_https(&last.url) {
        return finding(
            ctx,
            "web.redirect",
            Status::Fail,
            REDIRECT_STAKES,
            format!("{} does not redirect to HTTPS", chain.start),
            ev,
        );
    }
    let second = chain
        .hops
        .get(1)
        .map(|h| h.url.as_str())
        .unwrap_or_default();
    if is_https(second) && host_of(second) == domain {
        finding(
            ctx,
            "web.redirect",
            Status::Pass,
            REDIRECT_STAKES,
            "HTTP redirects to HTTPS on the same host first",
            ev,
        )
    } else {
        finding(
            ctx,
            "web.redirect",
            Status::Warn,
            REDIRECT_STAKES,
            format!(
                "HTTP reaches HTTPS, but its first redirect goes to {second}, not https://{domain}/ (HSTS for {domain} is never seen)"
            ),
            ev,
        )
    }
}

fn hsts_verdict(ctx: &Context<'_>, web: &WebObservation, domain: &str) -> Finding {
    let start = format!("https://{domain}/");
    let first = web.chain(&start).and_then(|c| c.hops.first());
    let Some(first) = first.filter(|f| matches!(f.outcome, HttpOutcome::Response { .. })) else {
        let why = first.map_or_else(|| "not fetched".to_string(), |f| f.outcome.to_string());
        return finding(
            ctx,
            "web.hsts",
            Status::Error,
            HSTS_STAKES,
            format!("no HTTPS response from {start}: {why}"),
            json!({"url": start}),
        );
    };
    let Some(value) = first.header("strict-transport-security") else {
        return finding(
            ctx,
            "web.hsts",
            Status::Fail,
            HSTS_STAKES,
            format!("{start} sends no Strict-Transport-Security header"),
            json!({"url": start}),
        );
    };
    match hsts::parse(value, &hsts::Limits::default()) {
        Err(e) => finding(
            ctx,
            "web.hsts",
            Status::Fail,
            HSTS_STAKES,
            format!("the Strict-Transport-Security header is invalid, so browsers ignore it: {e}"),
            json!({"url": start, "header": value}),
        ),
        Ok(h) => {
            let ev = Evidence::from(
                json!({"url": start, "header": value, "max_age": h.max_age, "include_subdomains": h.include_subdomains, "preload": h.preload}),
            );
            if h.max_age == 0 {
                finding(
                    ctx,
                    "web.hsts",
                    Status::Fail,
                    HSTS_STAKES,
                    "max-age=0 switches HSTS off",
                    ev,
                )
            } else if h.max_age < hsts::ONE_YEAR {
                finding(
                    ctx,
                    "web.hsts",
                    Status::Warn,
                    HSTS_STAKES,
                    format!("max-age is {} seconds, under a year (31536000)", h.max_age),
                    ev,
                )
            } else {
                let extra = match (h.include_subdomains, h.preload) {
                    (true, true) => "; includeSubDomains and preload",
                    (true, false) => "; includeSubDomains",
                    (false, true) => {
                        "; preload without includeSubDomains (the preload list requires both)"
                    }
                    (false, false) => "; without includeSubDomains",
                };
                finding(
                    ctx,
                    "web.hsts",
                    Status::Pass,
                    HSTS_STAKES,
                    format!("HSTS for {} seconds{extra}", h.max_age),
                    ev,
                )
            }
        }
    }
}

fn joined(f: &HttpFetch, name: &str) -> Option<String> {
    let v: Vec<&str> = f.headers_named(name).collect();
    (!v.is_empty()).then(|| v.join(", "))
}

fn csp_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let Some(value) = joined(page, "content-security-policy") else {
        return finding(
            ctx,
            "web.csp",
            Status::Warn,
            CSP_STAKES,
            "no Content-Security-Policy header",
            json!({"url": page.url}),
        );
    };
    let policies = match csp::parse_list(&value, &csp::Limits::default()) {
        Ok(p) => p,
        Err(e) => {
            return finding(
                ctx,
                "web.csp",
                Status::Warn,
                CSP_STAKES,
                format!("the Content-Security-Policy cannot be used: {e}"),
                json!({"url": page.url, "header": value}),
            );
        }
    };
    // Every policy is enforced, so a weakness matters only when all of them have it.
    let mut weak = policies[0].weaknesses();
    for p in &policies[1..] {
        let w = p.weaknesses();
        weak.retain(|x| w.contains(x));
    }
    let describe = |w: &csp::Weakness| match w {
        csp::Weakness::Missing(d) => format!("no {d}"),
        csp::Weakness::UnsafeInline(d) => format!("'unsafe-inline' in {d}"),
        csp::Weakness::UnsafeEval(d) => format!("'unsafe-eval' in {d}"),
        csp::Weakness::Permissive(d, s) => format!("{d} allows {s}"),
        csp::Weakness::Unquoted(d, s) => format!("{d} names a host \"{s}\" (quotes missing)"),
    };
    let list: Vec<String> = weak.iter().map(describe).collect();
    let ev = Evidence::from(json!({"url": page.url, "header": value, "weaknesses": list}));
    let serious = weak.iter().any(|w| {
        matches!(w, csp::Weakness::UnsafeInline(d) | csp::Weakness::UnsafeEval(d) | csp::Weakness::Permissive(d, _) if d.starts_with("script-src") || d == "default-src" || d == "object-src")
    });
    if serious {
        finding(
            ctx,
            "web.csp",
            Status::Fail,
            CSP_STAKES,
            format!(
                "the policy does not stop injected scripts: {}",
                list.join(", ")
            ),
            ev,
        )
    } else if !weak.is_empty() {
        finding(
            ctx,
            "web.csp",
            Status::Warn,
            CSP_STAKES,
            format!("the policy has gaps: {}", list.join(", ")),
            ev,
        )
    } else {
        finding(
            ctx,
            "web.csp",
            Status::Pass,
            CSP_STAKES,
            "a Content-Security-Policy without known gaps",
            ev,
        )
    }
}

fn xcto_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    match page.header("x-content-type-options") {
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => finding(
            ctx,
            "web.xcto",
            Status::Pass,
            HEADER_STAKES,
            "X-Content-Type-Options: nosniff",
            json!({"url": page.url, "header": v}),
        ),
        Some(v) => finding(
            ctx,
            "web.xcto",
            Status::Fail,
            HEADER_STAKES,
            format!("X-Content-Type-Options is {v:?}; only nosniff means anything"),
            json!({"url": page.url, "header": v}),
        ),
        None => finding(
            ctx,
            "web.xcto",
            Status::Fail,
            HEADER_STAKES,
            "no X-Content-Type-Options: nosniff",
            json!({"url": page.url}),
        ),
    }
}

fn framing_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let fa = joined(page, "content-security-policy")
        .and_then(|v| csp::parse_list(&v, &csp::Limits::default()).ok())
        .and_then(|ps| {
            ps.iter()
                .find_map(|p| p.get("frame-ancestors").map(|d| d.values.join(" ")))
        });
    let xfo = page.header("x-frame-options");
    let ev =
        Evidence::from(json!({"url": page.url, "frame_ancestors": fa, "x_frame_options": xfo}));
    if let Some(fa) = &fa {
        return finding(
            ctx,
            "web.framing",
            Status::Pass,
            HEADER_STAKES,
            format!("CSP frame-ancestors {fa}"),
            ev,
        );
    }
    match xfo.map(|v| v.trim().to_ascii_uppercase()) {
        Some(v) if v == "DENY" || v == "SAMEORIGIN" => finding(
            ctx,
            "web.framing",
            Status::Pass,
            HEADER_STAKES,
            format!("X-Frame-Options: {v}"),
            ev,
        ),
        Some(v) => finding(
            ctx,
            "web.framing",
            Status::Fail,
            HEADER_STAKES,
            format!(
                "X-Frame-Options {v:?} is not DENY or SAMEORIGIN, and there is no frame-ancestors"
            ),
            ev,
        ),
        None => finding(
            ctx,
            "web.framing",
            Status::Fail,
            HEADER_STAKES,
            "any site may frame these pages: no X-Frame-Options and no CSP frame-ancestors",
            ev,
        ),
    }
}

fn referrer_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let Some(value) = joined(page, "referrer-policy") else {
        return finding(
            ctx,
            "web.referrer",
            Status::Pass,
            HEADER_STAKES,
            "no Referrer-Policy: browsers use strict-origin-when-cross-origin",
            json!({"url": page.url}),
        );
    };
    let ev = Evidence::from(json!({"url": page.url, "header": value}));
    match referrer_policy::parse(&value, &referrer_policy::Limits::default()).map(|r| r.policy) {
        Ok(Some(p)) if p.leaks() => finding(
            ctx,
            "web.referrer",
            Status::Fail,
            HEADER_STAKES,
            format!(
                "Referrer-Policy {} sends page addresses to other sites or over HTTP",
                p.token()
            ),
            ev,
        ),
        Ok(Some(p)) => finding(
            ctx,
            "web.referrer",
            Status::Pass,
            HEADER_STAKES,
            format!("Referrer-Policy {}", p.token()),
            ev,
        ),
        Ok(None) => finding(
            ctx,
            "web.referrer",
            Status::Fail,
            HEADER_STAKES,
            "the Referrer-Policy header names no policy browsers know",
            ev,
        ),
        Err(e) => finding(
            ctx,
            "web.referrer",
            Status::Fail,
            HEADER_STAKES,
            format!("the Referrer-Policy header cannot be used: {e}"),
            ev,
        ),
    }
}

/// `web.permissions`: a Permissions-Policy that parses and grants no powerful feature
/// (camera, microphone, location, payment, device access) to every origin passes; one that
/// does fails (any embedded page may ask for it); none, an unparsable one (browsers ignore
/// it) or only the retired Feature-Policy warns.
fn permissions_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let f = |status, summary: String, ev| {
        finding(ctx, "web.permissions", status, HEADER_STAKES, summary, ev)
    };
    match (
        page.header("permissions-policy"),
        page.header("feature-policy"),
    ) {
        (Some(v), _) if !v.trim().is_empty() => {
            match permissions_policy::parse(v, &permissions_policy::Limits::default()) {
                Err(e) => f(
                    Status::Warn,
                    format!("the Permissions-Policy cannot be read, so browsers ignore it: {e}"),
                    json!({"url": page.url, "header": v, "error": e.to_string()}),
                ),
                Ok(p) => {
                    let open: Vec<&str> = permissions_policy::POWERFUL
                        .iter()
                        .copied()
                        .filter(|feat| p.get(feat) == Some(&permissions_policy::Allowlist::All))
                        .collect();
                    if open.is_empty() {
                        f(
                            Status::Pass,
                            "a Permissions-Policy is set".into(),
                            json!({"url": page.url, "header": v}),
                        )
                    } else {
                        f(
                            Status::Fail,
                            format!(
                                "the Permissions-Policy lets every embedded site ask for {}",
                                open.join(", ")
                            ),
                            json!({"url": page.url, "header": v, "open_to_all": open}),
                        )
                    }
                }
            }
        }
        (_, Some(v)) => f(
            Status::Warn,
            "only the retired Feature-Policy header is set; browsers now read Permissions-Policy"
                .into(),
            json!({"url": page.url, "feature_policy": v}),
        ),
        _ => f(
            Status::Warn,
            "no Permissions-Policy: embedded content may ask for camera, microphone and location"
                .into(),
            json!({"url": page.url}),
        ),
    }
}

const LEAKY: &[&str] = &[
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-generator",
    "x-drupal-cache",
    "x-runtime",
    "x-version",
];

/// Whether a header value names a version: a digit run with a dot (`2.4.58`, `PHP/8.1`).
pub fn names_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
}

fn version_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
    let mut leaks = Vec::new();
    for c in &web.chains {
        for h in &c.hops {
            for name in LEAKY {
                for v in h.headers_named(name) {
                    let hit = if *name == "x-aspnet-version" || *name == "x-aspnetmvc-version" {
                        true
                    } else {
                        names_version(v)
                    };
                    let item = json!({"url": h.url, "header": name, "value": v});
                    if hit && !leaks.contains(&item) {
                        leaks.push(item);
                    }
                }
            }
        }
    }
    let any = web
        .chains
        .iter()
        .flat_map(|c| &c.hops)
        .any(|h| h.status().is_some());
    if !any {
        return finding(
            ctx,
            "web.version_leak",
            Status::Error,
            HEADER_STAKES,
            "no response to read headers from",
            json!({}),
        );
    }
    if leaks.is_empty() {
        finding(
            ctx,
            "web.version_leak",
            Status::Pass,
            HEADER_STAKES,
            "no software versions in the response headers",
            json!({}),
        )
    } else {
        finding(
            ctx,
            "web.version_leak",
            Status::Fail,
            HEADER_STAKES,
            "response headers name software versions, telling attackers which known flaws to try",
            json!({"leaks": leaks}),
        )
    }
}

fn cookies_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
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
            "web.cookies",
            Status::Error,
            COOKIE_STAKES,
            "no HTTPS response to read cookies from",
            ev,
        )
    } else if !bad.is_empty() {
        finding(
            ctx,
            "web.cookies",
            Status::Fail,
            COOKIE_STAKES,
            "cookies set over HTTPS without Secure can leak over plain HTTP",
            ev,
        )
    } else if !soft.is_empty() {
        finding(
            ctx,
            "web.cookies",
            Status::Warn,
            COOKIE_STAKES,
            "cookies without HttpOnly or SameSite",
            ev,
        )
    } else {
        finding(
            ctx,
            "web.cookies",
            Status::Pass,
            COOKIE_STAKES,
            format!("{seen} cookie(s) set over HTTPS, all Secure, HttpOnly and SameSite"),
            ev,
        )
    }
}

fn security_txt_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
    let Some(f) = &web.security_txt else {
        return finding(
            ctx,
            "web.security_txt",
            Status::Error,
            SECTXT_STAKES,
            "security.txt was not fetched",
            json!({}),
        );
    };
    let ev0 = json!({"url": f.url});
    let (status, body) = match &f.outcome {
        HttpOutcome::Response { status, body, .. } => (*status, body),
        HttpOutcome::Tls { .. } => {
            return finding(
                ctx,
                "web.security_txt",
                Status::Fail,
                SECTXT_STAKES,
                format!("security.txt is not served over valid HTTPS: {}", f.outcome),
                ev0,
            );
        }
        other => {
            return finding(
                ctx,
                "web.security_txt",
                Status::Error,
                SECTXT_STAKES,
                format!("could not fetch security.txt: {other}"),
                ev0,
            );
        }
    };
    if status != 200 {
        return finding(
            ctx,
            "web.security_txt",
            Status::Fail,
            SECTXT_STAKES,
            format!(
                "no security.txt (HTTP {status}): researchers who find a flaw have no published contact"
            ),
            json!({"url": f.url, "status": status}),
        );
    }
    let parsed = match security_txt::parse(body.as_bytes(), &security_txt::Limits::default()) {
        Ok(p) => p,
        Err(e) => {
            return finding(
                ctx,
                "web.security_txt",
                Status::Fail,
                SECTXT_STAKES,
                format!("security.txt is not valid: {e}"),
                ev0,
            );
        }
    };
    let now = ctx.obs.scanned_at.unix_timestamp();
    let ev = Evidence::from(
        json!({"url": f.url, "contact": parsed.contact, "expires": parsed.expires_raw}),
    );
    if parsed.expires <= now {
        finding(
            ctx,
            "web.security_txt",
            Status::Fail,
            SECTXT_STAKES,
            format!("security.txt expired ({})", parsed.expires_raw),
            ev,
        )
    } else if parsed.expires - now > SECURITY_TXT_MAX_AHEAD {
        finding(
            ctx,
            "web.security_txt",
            Status::Warn,
            SECTXT_STAKES,
            format!(
                "security.txt expires more than a year ahead ({}); RFC 9116 asks for less, so stale contacts age out",
                parsed.expires_raw
            ),
            ev,
        )
    } else {
        finding(
            ctx,
            "web.security_txt",
            Status::Pass,
            SECTXT_STAKES,
            format!(
                "security.txt with a contact, valid until {}",
                parsed.expires_raw
            ),
            ev,
        )
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
                "web.csp",
                "web.xcto",
                "web.framing",
                "web.referrer",
                "web.permissions",
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
