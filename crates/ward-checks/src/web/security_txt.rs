//! `web.security_txt`: an RFC 9116 security.txt, served over valid HTTPS, with a contact
//! and an `Expires` in the coming year.

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::http::{HttpOutcome, WebObservation};
use ward_model::{Finding, Severity, Status};
use ward_records::security_txt;

/// security.txt `Expires` more than this far after the scan warns (RFC 9116 §2.5.5:
/// "less than a year into the future").
pub const SECURITY_TXT_MAX_AHEAD: i64 = 366 * 86_400;

const SECTXT_STAKES: Stakes = Stakes::flat(Severity::Low);

pub(super) fn security_txt_verdict(ctx: &Context<'_>, web: &WebObservation) -> Finding {
    let Some(f) = &web.security_txt else {
        return finding(
            ctx,
            CheckId::WebSecurityTxt,
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
                CheckId::WebSecurityTxt,
                Status::Fail,
                SECTXT_STAKES,
                format!("security.txt is not served over valid HTTPS: {}", f.outcome),
                ev0,
            );
        }
        other => {
            return finding(
                ctx,
                CheckId::WebSecurityTxt,
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
            CheckId::WebSecurityTxt,
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
                CheckId::WebSecurityTxt,
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
            CheckId::WebSecurityTxt,
            Status::Fail,
            SECTXT_STAKES,
            format!("security.txt expired ({})", parsed.expires_raw),
            ev,
        )
    } else if parsed.expires - now > SECURITY_TXT_MAX_AHEAD {
        finding(
            ctx,
            CheckId::WebSecurityTxt,
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
            CheckId::WebSecurityTxt,
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
