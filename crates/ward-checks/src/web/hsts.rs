//! `web.hsts`: the Strict-Transport-Security header of the domain's own first HTTPS
//! response, as browsers record it per host.

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::{HttpOutcome, WebObservation};
use ward_model::{Finding, Severity, Status};
use ward_records::hsts;

const HSTS_STAKES: Stakes = Stakes::flat(Severity::Medium);

pub(super) fn hsts_verdict(ctx: &Context<'_>, web: &WebObservation, domain: &str) -> Finding {
    let start = format!("https://{domain}/");
    let first = web.chain(&start).and_then(|c| c.hops.first());
    let Some(first) = first.filter(|f| matches!(f.outcome, HttpOutcome::Response { .. })) else {
        let why = first.map_or_else(|| "not fetched".to_string(), |f| f.outcome.to_string());
        return finding(
            ctx,
            CheckId::WebHsts,
            Status::Error,
            HSTS_STAKES,
            format!("no HTTPS response from {start}: {why}"),
            json!({"url": start}),
        );
    };
    let Some(value) = first.header("strict-transport-security") else {
        return finding(
            ctx,
            CheckId::WebHsts,
            Status::Fail,
            HSTS_STAKES,
            format!("{start} sends no Strict-Transport-Security header"),
            json!({"url": start}),
        );
    };
    match hsts::parse(value, &hsts::Limits::default()) {
        Err(e) => finding(
            ctx,
            CheckId::WebHsts,
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
                    CheckId::WebHsts,
                    Status::Fail,
                    HSTS_STAKES,
                    "max-age=0 switches HSTS off",
                    ev,
                )
            } else if h.max_age < hsts::ONE_YEAR {
                finding(
                    ctx,
                    CheckId::WebHsts,
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
                    CheckId::WebHsts,
                    Status::Pass,
                    HSTS_STAKES,
                    format!("HSTS for {} seconds{extra}", h.max_age),
                    ev,
                )
            }
        }
    }
}
