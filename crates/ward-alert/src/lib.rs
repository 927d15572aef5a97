//! Alerts: when a scan shows something got worse, tell the organisation's contacts (the
//! inventory's `[[organisation.contact]]`), once.
//!
//! [`run`] compares the latest complete scan with the one before it
//! (`ward_advice::changes`), records each regression (kind `worse` or
//! `now_could_not_tell`) as an event in the store, and sends each contact, on each of
//! their channels, ONE digest of the events due to them at or above their
//! `min_severity`: a plain-text mail (SMTP, STARTTLS required unless told otherwise)
//! and/or a JSON POST signed with HMAC-SHA256. What was sent is recorded per event,
//! contact and channel, so the next run sends nothing again; a check that regresses
//! again after getting better is a new event (from a new scan) and is told.
//!
//! - Quiet hours: a contact inside them gets nothing now; the events stay due and go in
//!   the next digest sent outside them. Nothing is lost.
//! - Webhooks are tried [`WEBHOOK_ATTEMPTS`] times with doubling waits; after the last
//!   failure the digest goes to the store's dead letters (`ward alert --dead-letters`)
//!   and its events count as done for that contact.
//! - A webhook whose host resolves to a private, loopback or link-local address is
//!   refused before anything is sent, unless the caller allows it (lab mode).
//!
//! The text uses the advice catalogue in the words of the organisation's size: a
//! volunteer-run branch (`small`) gets the volunteer text, an IT team (`medium`) its own.
//! `ward alert` calls [`run`]; `ward monitor` will call it after each round.

#![deny(missing_docs)]

mod digest;
mod mail;
mod webhook;

pub use digest::{Digest, Item};
pub use mail::SmtpConfig;
pub use webhook::{WEBHOOK_ATTEMPTS, WebhookConfig, sign};

use std::collections::HashMap;
use time::OffsetDateTime;
use ward_advice::changes::{self, ChangeKind};
use ward_model::contact::Contact;
use ward_model::{Severity, Status};
use ward_store::{AlertEvent, DeadLetter, Delivery, NewAlertEvent, Outcome, Store, StoreError};

/// How many complete scans before the earlier one are searched for a check's last real
/// verdict (as `ward changes` does).
const EARLIER_SCANS: usize = 5;

/// What [`run`] needs besides the store and the contacts.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// Now: decides quiet hours and stamps what is recorded.
    pub now: OffsetDateTime,
    /// Only this organisation's contacts (its id), or everyone's.
    pub org: Option<String>,
    /// Build the digests and report them, but send nothing and record no delivery.
    pub dry_run: bool,
    /// The start of each finding's link: `<base>/org/<id>/domain/<domain>#<check>`.
    pub link_base: Option<String>,
    /// How to send mail; without it, contacts with only an email get nothing (and the
    /// outcome says why).
    pub smtp: Option<SmtpConfig>,
    /// How to call webhooks.
    pub webhook: WebhookConfig,
}

/// A channel of a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Mail.
    Email,
    /// A signed POST.
    Webhook,
}

impl Channel {
    /// The name in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// What happened to one digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Sent {
    /// Delivered, after this many attempts.
    Sent {
        /// Attempts made.
        attempts: u32,
    },
    /// Inside the contact's quiet hours: held, still due.
    Held,
    /// `--dry-run`: built, not sent.
    DryRun,
    /// Every attempt failed: now a dead letter.
    DeadLetter {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        error: String,
    },
    /// Not sent and still due: the webhook's address is refused, or no SMTP server was
    /// given. Fix the cause and run again.
    Refused {
        /// Why.
        error: String,
    },
}

/// One digest: to whom, how, what it said and what became of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigestOutcome {
    /// The organisation.
    pub organisation_id: String,
    /// The channel.
    pub channel: Channel,
    /// The address or URL.
    pub contact: String,
    /// What happened.
    #[serde(flatten)]
    pub sent: Sent,
    /// The digest.
    pub digest: Digest,
}

/// What went wrong before any digest could be decided on.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The regressions from `before` to `after` as events of scan `after_id`.
fn regressions(changes: &[changes::Change], after_id: ward_store::ScanId) -> Vec<NewAlertEvent> {
    changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Worse | ChangeKind::NowCouldNotTell))
        .map(|c| {
            let after = c.after.as_ref();
            NewAlertEvent {
                organisation_id: c.organisation_id.clone(),
                domain: c.domain.clone(),
                check: c.check.map_or("", |k| k.as_str()).to_owned(),
                scan: after_id,
                kind: c.kind.as_str().to_owned(),
                status: after.map_or("error", |s| s.status.as_str()).to_owned(),
                severity: after.map_or("none", |s| s.severity.as_str()).to_owned(),
                summary: c.describe(),
            }
        })
        .collect()
}

/// Records the latest regressions and sends each contact the digest due to them. Returns
/// one outcome per digest (none when nothing is due, or fewer than two complete scans
/// are stored).
pub async fn run(
    store: &Store,
    contacts: &[(String, Vec<Contact>)],
    cfg: &AlertConfig,
) -> Result<Vec<DigestOutcome>, AlertError> {
    let scans: Vec<_> = store
        .scans()
        .await?
        .into_iter()
        .filter(|s| s.complete)
        .collect();
    let latest = match scans.first() {
        Some(s) => store.report(s.id).await?,
        None => return Ok(Vec::new()),
    };
    if let Some(prev) = scans.get(1) {
        let before = store.report(prev.id).await?;
        let mut earlier = Vec::new();
        if changes::needs_earlier(&before, &latest) {
            for s in scans.iter().skip(2).take(EARLIER_SCANS) {
                earlier.push(store.report(s.id).await?);
            }
        }
        let found = changes::changes(&before, &latest, &earlier, None);
        store
            .record_alert_events(&regressions(&found, scans[0].id), cfg.now)
            .await?;
    }
    let orgs: HashMap<String, ward_model::Organisation> = store
        .organisations()
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let mut out = Vec::new();
    for (org_id, list) in contacts {
        if cfg.org.as_ref().is_some_and(|o| o != org_id) {
            continue;
        }
        let Some(org) = orgs.get(org_id) else {
            continue;
        };
        for contact in list {
            let channels = [
                contact.email.clone().map(|e| (Channel::Email, e)),
                contact
                    .webhook
                    .as_ref()
                    .map(|w| (Channel::Webhook, w.url.clone())),
            ];
            for (channel, key) in channels.into_iter().flatten() {
                let due = store
                    .due_alert_events(org_id, channel.as_str(), &key)
                    .await?;
                let due: Vec<AlertEvent> = due
                    .into_iter()
                    .filter(|e| at_or_above(&e.event.severity, contact.min_severity))
                    .filter(|e| still_bad(&latest, e))
                    .collect();
                if due.is_empty() {
                    continue;
                }
                let digest = Digest::build(org, &due, &latest, cfg.link_base.as_deref(), cfg.now);
                let sent = if contact.quiet_hours.is_some_and(|q| q.contains(cfg.now)) {
                    Sent::Held
                } else if cfg.dry_run {
                    Sent::DryRun
                } else {
                    let sent = match channel {
                        Channel::Email => mail::send(cfg.smtp.as_ref(), &key, &digest).await,
                        Channel::Webhook => {
                            let w = contact.webhook.as_ref().expect("webhook channel");
                            webhook::send(&cfg.webhook, w, &digest, cfg.now).await
                        }
                    };
                    record(store, org_id, channel, &key, &due, &sent, &digest, cfg.now).await?;
                    sent
                };
                out.push(DigestOutcome {
                    organisation_id: org_id.clone(),
                    channel,
                    contact: key,
                    sent,
                    digest,
                });
            }
        }
    }
    Ok(out)
}

/// The kind of alert event for a domain whose proof of ownership disappeared (service
/// mode): ward stopped scanning it, and its owner is told why.
pub const PROOF_LOST: &str = "proof-lost";

/// Whether a stored severity is at or above a contact's threshold. A regression to
/// "could not tell" carries the severity of the finding that could not be judged.
fn at_or_above(severity: &str, min: Severity) -> bool {
    severity.parse::<Severity>().is_ok_and(|s| s >= min)
}

/// Whether the event's check is still a problem (or still unknown) in the latest scan:
/// one fixed since is not told.
fn still_bad(latest: &ward_model::ScanReport, e: &AlertEvent) -> bool {
    let asset = latest.assets.iter().find(|a| a.domain == e.event.domain);
    // A domain whose proof of ownership went is not scanned: it is told until it is
    // back in a scan (its proof back).
    if e.event.kind == PROOF_LOST {
        return asset.is_none();
    }
    let Some(asset) = asset else {
        return false;
    };
    match asset
        .findings
        .iter()
        .find(|f| f.check.as_str() == e.event.check)
    {
        Some(f) => !matches!(f.status, Status::Pass | Status::Info),
        None => e.event.check.is_empty(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    store: &Store,
    org_id: &str,
    channel: Channel,
    contact: &str,
    due: &[AlertEvent],
    sent: &Sent,
    digest: &Digest,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let ids: Vec<i64> = due.iter().map(|e| e.id).collect();
    let (outcome, attempts, error) = match sent {
        Sent::Sent { attempts } => (Outcome::Sent, *attempts, None),
        Sent::DeadLetter { attempts, error } => (Outcome::Dead, *attempts, Some(error.clone())),
        // Still due: nothing to record.
        Sent::Held | Sent::DryRun | Sent::Refused { .. } => return Ok(()),
    };
    let dead = error.as_ref().map(|e| DeadLetter {
        id: 0,
        organisation_id: org_id.to_owned(),
        channel: channel.as_str().to_owned(),
        contact: contact.to_owned(),
        at: now,
        attempts: u64::from(attempts),
        error: e.clone(),
        payload: match channel {
            Channel::Email => digest.text.clone(),
            Channel::Webhook => digest.json(now).to_string(),
        },
    });
    store
        .record_delivery(
            &ids,
            &Delivery {
                channel: channel.as_str(),
                contact,
                at: now,
                outcome,
                attempts,
                error,
            },
            dead.as_ref(),
        )
        .await
}
