//! The response-header checks: `web.csp`, `web.xcto`, `web.framing` (CSP
//! frame-ancestors or X-Frame-Options), `web.referrer` and `web.permissions`, read from the
//! page a visitor ends on, and `web.version_leak`, read from every response.

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::{HttpFetch, WebObservation};
use ward_model::{Finding, Severity, Status};
use ward_records::{csp, permissions_policy, referrer_policy};

pub(super) const HEADER_STAKES: Stakes = Stakes::flat(Severity::Low);
const CSP_STAKES: Stakes = Stakes::sized(Severity::Low, Severity::Medium);

fn joined(f: &HttpFetch, name: &str) -> Option<String> {
    let v: Vec<&str> = f.headers_named(name).collect();
    (!v.is_empty()).then(|| v.join(", "))
}

pub(super) fn csp_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let Some(value) = joined(page, "content-security-policy") else {
        return finding(
            ctx,
            CheckId::WebCsp,
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
                CheckId::WebCsp,
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
            CheckId::WebCsp,
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
            CheckId::WebCsp,
            Status::Warn,
            CSP_STAKES,
            format!("the policy has gaps: {}", list.join(", ")),
            ev,
        )
    } else {
        finding(
            ctx,
            CheckId::WebCsp,
            Status::Pass,
            CSP_STAKES,
            "a Content-Security-Policy without known gaps",
            ev,
        )
    }
}

pub(super) fn xcto_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    match page.header("x-content-type-options") {
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => finding(
            ctx,
            CheckId::WebXcto,
            Status::Pass,
            HEADER_STAKES,
            "X-Content-Type-Options: nosniff",
            json!({"url": page.url, "header": v}),
        ),
        Some(v) => finding(
            ctx,
            CheckId::WebXcto,
            Status::Fail,
            HEADER_STAKES,
            format!("X-Content-Type-Options is {v:?}; only nosniff means anything"),
            json!({"url": page.url, "header": v}),
        ),
        None => finding(
            ctx,
            CheckId::WebXcto,
            Status::Fail,
            HEADER_STAKES,
            "no X-Content-Type-Options: nosniff",
            json!({"url": page.url}),
        ),
    }
}

pub(super) fn framing_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
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
            CheckId::WebFraming,
            Status::Pass,
            HEADER_STAKES,
            format!("CSP frame-ancestors {fa}"),
            ev,
        );
    }
    match xfo.map(|v| v.trim().to_ascii_uppercase()) {
        Some(v) if v == "DENY" || v == "SAMEORIGIN" => finding(
            ctx,
            CheckId::WebFraming,
            Status::Pass,
            HEADER_STAKES,
            format!("X-Frame-Options: {v}"),
            ev,
        ),
        Some(v) => finding(
            ctx,
            CheckId::WebFraming,
            Status::Fail,
            HEADER_STAKES,
            format!(
                "X-Frame-Options {v:?} is not DENY or SAMEORIGIN, and there is no frame-ancestors"
            ),
            ev,
        ),
        None => finding(
            ctx,
            CheckId::WebFraming,
            Status::Fail,
            HEADER_STAKES,
            "any site may frame these pages: no X-Frame-Options and no CSP frame-ancestors",
            ev,
        ),
    }
}

pub(super) fn referrer_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let Some(value) = joined(page, "referrer-policy") else {
        return finding(
            ctx,
            CheckId::WebReferrer,
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
            CheckId::WebReferrer,
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
            CheckId::WebReferrer,
            Status::Pass,
            HEADER_STAKES,
            format!("Referrer-Policy {}", p.token()),
            ev,
        ),
        Ok(None) => finding(
            ctx,
            CheckId::WebReferrer,
            Status::Fail,
            HEADER_STAKES,
            "the Referrer-Policy header names no policy browsers know",
            ev,
        ),
        Err(e) => finding(
            ctx,
            CheckId::WebReferrer,
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
pub(super) fn permissions_verdict(ctx: &Context<'_>, page: &HttpFetch) -> Finding {
    let f = |status, summary: String, ev| {
        finding(
            ctx,
            CheckId::WebPermissions,
            status,
            HEADER_STAKES,
            summary,
            ev,
        )
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

pub(super) fn version_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
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
            CheckId::WebVersionLeak,
            Status::Error,
            HEADER_STAKES,
            "no response to read headers from",
            json!({}),
        );
    }
    if leaks.is_empty() {
        finding(
            ctx,
            CheckId::WebVersionLeak,
            Status::Pass,
            HEADER_STAKES,
            "no software versions in the response headers",
            json!({}),
        )
    } else {
        finding(
            ctx,
            CheckId::WebVersionLeak,
            Status::Fail,
            HEADER_STAKES,
            "response headers name software versions, telling attackers which known flaws to try",
            json!({"leaks": leaks}),
        )
    }
}
