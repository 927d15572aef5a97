//! Checks that combine the others: `bimi.record`, `parked.lockdown`, `mail.bulk_sender`.
//!
//! | check | pass | warn | fail | info | error |
//! |---|---|---|---|---|---|
//! | `bimi.record` | valid record and DMARC at enforcement | | record refused; DMARC not at enforcement (logos are not shown) | no record, or a declination | lookup failed |
//! | `parked.lockdown` | `v=spf1 -all`, DMARC `p=reject`, null MX | | any of the three missing | | any of the three could not be looked up |
//!
//! `parked.lockdown` is judged for domains listed as parked and for those seen to take and
//! send no mail ([`super::takes_no_mail`]: a null MX, or no MX and no address, and an SPF
//! policy that authorises no one, and no DKIM key, MTA-STS or TLS-RPT record), whatever
//! their listed roles.
//! | `mail.bulk_sender` | SPF, DKIM and DMARC with alignment possible | no DKIM key at the selectors tried (none named) | no SPF or no DMARC, or a named DKIM selector without a key | | a lookup failed |
//!
//! Alignment: a DKIM key published under the domain itself lets mail be signed with
//! `d=` equal to the From domain, which aligns under both `adkim=r` and `adkim=s`; an SPF
//! record on the domain itself lets a return path on the domain align under `aspf=s`.

use super::dkim::DkimOutcome;
use super::dmarc::DmarcOutcome;
use super::mx::{MxOutcome, MxState};
use super::{Txt, domain_unreachable};
use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::{Finding, Severity, Status};
use ward_records::bimi;
use ward_records::dmarc::Policy;

const BIMI: Stakes = Stakes::flat(Severity::Low);
const PARKED: Stakes = Stakes::flat(Severity::Medium);
const BULK: Stakes = Stakes::sized(Severity::Medium, Severity::High);

pub(crate) fn bimi(ctx: &Context<'_>, dm: &DmarcOutcome) -> Finding {
    let domain = ctx.asset.domain.as_str();
    let name = format!("default._bimi.{domain}");
    let txt = match domain_unreachable(ctx.obs, domain) {
        Some(f) => Txt::Failed(f.clone()),
        None => Txt::get(ctx.obs, &name),
    };
    let f =
        |status, summary: String, ev| finding(ctx, CheckId::BimiRecord, status, BIMI, summary, ev);
    if let Some(why) = txt.unknown(&name) {
        return f(
            Status::Error,
            format!("could not tell whether {domain} publishes BIMI: {why}"),
            json!({ "name": name }),
        );
    }
    let recs = txt.versioned("BIMI1");
    let Some(raw) = recs.first() else {
        return f(
            Status::Info,
            format!("{domain} publishes no BIMI record (optional: a brand logo in some mailboxes)"),
            json!({ "name": name, "state": txt.state() }),
        );
    };
    let rec = match bimi::parse(raw, &bimi::Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            return f(
                Status::Fail,
                format!("the BIMI record of {domain} is refused: {e}"),
                json!({ "record": raw, "error": e, "message": e.to_string() }),
            );
        }
    };
    if rec.is_declination() {
        return f(
            Status::Info,
            format!("{domain} declines BIMI (empty l=)"),
            json!({ "record": rec.raw }),
        );
    }
    let ev = json!({ "record": rec.raw, "parsed": rec, "dmarc_applied": dm.applied });
    match dm.applied {
        Some(p) if p >= Policy::Quarantine => f(
            Status::Pass,
            format!(
                "{domain} publishes a BIMI logo and DMARC is at enforcement ({})",
                p.as_str()
            ),
            ev,
        ),
        Some(p) => f(
            Status::Fail,
            format!(
                "{domain} publishes a BIMI logo, but mailboxes show it only with DMARC at quarantine or reject (applied policy: {})",
                p.as_str()
            ),
            ev,
        ),
        None => f(
            Status::Error,
            format!(
                "could not tell whether the BIMI logo of {domain} is shown: its DMARC policy is unknown"
            ),
            ev,
        ),
    }
}

/// The domain's SPF records (texts starting `v=spf1`), or why they are unknown.
fn spf_records(ctx: &Context<'_>) -> Result<Vec<String>, String> {
    let domain = ctx.asset.domain.as_str();
    let txt = match domain_unreachable(ctx.obs, domain) {
        Some(f) => Txt::Failed(f.clone()),
        None => Txt::get(ctx.obs, domain),
    };
    if let Some(why) = txt.unknown(domain) {
        return Err(why);
    }
    Ok(match &txt {
        Txt::Records(r) => r
            .iter()
            .filter(|t| {
                let first = t.split_whitespace().next().unwrap_or_default();
                first.eq_ignore_ascii_case("v=spf1")
            })
            .cloned()
            .collect(),
        _ => Vec::new(),
    })
}

pub(crate) fn parked(ctx: &Context<'_>, dm: &DmarcOutcome, mx: &MxOutcome) -> Finding {
    let domain = ctx.asset.domain.as_str();
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    let spf = spf_records(ctx);
    match &spf {
        Err(why) => unknown.push(why.clone()),
        Ok(r) => {
            let locked = r.len() == 1
                && r.first().is_some_and(|t| {
                    let words: Vec<String> = t
                        .split_whitespace()
                        .map(|w| w.to_ascii_lowercase())
                        .collect();
                    words == ["v=spf1", "-all"]
                });
            if !locked {
                missing.push("SPF `v=spf1 -all`");
            }
        }
    }
    match (dm.applied, dm.known) {
        (Some(Policy::Reject), _) => {}
        (Some(_), _) => missing.push("DMARC p=reject"),
        (None, _) => unknown.push("its DMARC policy is unknown".into()),
    }
    match &mx.state {
        MxState::Null => {}
        MxState::Unknown(why) => unknown.push(why.clone()),
        _ => missing.push("a null MX (\"0 .\")"),
    }
    let ev = Evidence::from(json!({
        "spf": spf.as_ref().ok(),
        "dmarc_applied": dm.applied,
        "mx": ctx.obs.resolved(domain, "MX"),
        "missing": missing,
        "unknown": unknown,
    }));
    let f = |status, summary: String| {
        finding(
            ctx,
            CheckId::ParkedLockdown,
            status,
            PARKED,
            summary,
            ev.clone(),
        )
    };
    if !missing.is_empty() {
        f(
            Status::Fail,
            format!(
                "parked {domain} is not locked down: it lacks {}, so it can be used to spoof mail",
                missing.join(", ")
            ),
        )
    } else if let Some(first) = unknown.first() {
        f(
            Status::Error,
            format!("could not tell whether parked {domain} is locked down: {first}"),
        )
    } else {
        f(
            Status::Pass,
            format!("parked {domain} is locked down: SPF -all, DMARC reject and a null MX"),
        )
    }
}

pub(crate) fn bulk_sender(ctx: &Context<'_>, dm: &DmarcOutcome, dk: &DkimOutcome) -> Finding {
    let domain = ctx.asset.domain.as_str();
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    match spf_records(ctx) {
        Err(why) => unknown.push(why),
        Ok(r) if r.len() == 1 => {}
        Ok(r) if r.is_empty() => missing.push("an SPF record"),
        Ok(_) => missing.push("a single SPF record"),
    }
    if !dm.known {
        unknown.push("its DMARC policy is unknown".into());
    } else if !dm.has_record {
        missing.push("a DMARC record");
    }
    let dkim_missing = dk.usable.is_empty();
    if dkim_missing && !dk.known {
        unknown.push("its DKIM selectors could not all be looked up".into());
    }
    let ev = Evidence::from(json!({
        "spf": missing.iter().all(|m| !m.contains("SPF")),
        "dkim_selectors": dk.usable,
        "dmarc_applied": dm.applied,
        "dmarc_record": dm.has_record,
        "missing": missing,
        "unknown": unknown,
    }));
    let f = |status, summary: String| {
        finding(
            ctx,
            CheckId::MailBulkSender,
            status,
            BULK,
            summary,
            ev.clone(),
        )
    };
    let named = !ctx.asset.dkim_selectors.is_empty();
    if !missing.is_empty() || (dkim_missing && dk.known && named) {
        let mut all = missing.clone();
        if dkim_missing && dk.known {
            all.push("a DKIM key");
        }
        f(
            Status::Fail,
            format!(
                "{domain} is not ready for the big mailbox providers' bulk-sender rules: it lacks {}",
                all.join(", ")
            ),
        )
    } else if let Some(first) = unknown.first() {
        f(
            Status::Error,
            format!("could not tell whether {domain} meets the bulk-sender rules: {first}"),
        )
    } else if dkim_missing {
        f(
            Status::Warn,
            format!(
                "{domain} has SPF and DMARC, but no DKIM key was found at the common selectors: name your selector in the inventory, or set up DKIM"
            ),
        )
    } else {
        f(
            Status::Pass,
            format!(
                "{domain} meets the bulk-sender basics: SPF, DKIM (selector {}) and DMARC, with alignment possible",
                dk.usable.join(", ")
            ),
        )
    }
}
