//! When rounds begin, and what each job of a round does.

use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use ward_model::Organisation;
use ward_scan::Target;
use ward_store::{NewJob, RoundId, ScanId, Store, TargetState};

use crate::MonitorError;

/// How often what is looked at. The defaults are the issue's: DNS and mail daily, the
/// servers (TLS, STARTTLS, HTTP) weekly, and daily while a certificate seen expires
/// within 30 days; jobs spread over the first hour of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Time between the starts of two rounds.
    pub every: Duration,
    /// Time between two probes of a domain's web and mail servers.
    pub servers_every: Duration,
    /// A certificate expiring within this long has its servers probed every round.
    pub certs_within: Duration,
    /// Jobs of a round start up to this long after it begins, each domain at its own
    /// fixed offset, so that a round is not one burst.
    pub jitter: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            every: Duration::from_secs(86_400),
            servers_every: Duration::from_secs(7 * 86_400),
            certs_within: Duration::from_secs(30 * 86_400),
            jitter: Duration::from_secs(3_600),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A domain's fixed offset in `0..jitter` (FNV-1a of its name): the same each round, so
/// each domain is looked at the same time of day, and spread evenly over the window.
pub fn offset_ms(domain: &str, jitter: Duration) -> i64 {
    let window = ms(jitter);
    if window <= 0 {
        return 0;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in domain.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::try_from(h % u64::try_from(window).unwrap_or(1)).unwrap_or(0)
}

/// Whether a round at `now_ms` contacts a domain's servers, given what is known of it.
/// A round may start a little early or late, so a probe due within half a round is made
/// now rather than a whole round later.
pub fn servers_due(known: Option<&TargetState>, now_ms: i64, s: &Schedule) -> bool {
    let Some(k) = known else { return true };
    let Some(seen) = k.servers_seen_ms else {
        return true;
    };
    let slack = ms(s.every) / 2;
    if now_ms.saturating_sub(seen) >= ms(s.servers_every).saturating_sub(slack) {
        return true;
    }
    k.cert_expires_ms
        .is_some_and(|e| e.saturating_sub(now_ms) <= ms(s.certs_within))
}

/// The jobs of a round at `now_ms` over `targets`, in inventory order.
pub fn plan(
    targets: &[Target],
    known: &HashMap<String, TargetState>,
    now_ms: i64,
    s: &Schedule,
) -> Result<Vec<NewJob>, serde_json::Error> {
    let mut seen = std::collections::HashSet::new();
    let mut jobs = Vec::with_capacity(targets.len());
    for t in targets {
        // The inventory refuses a domain listed twice; a round would store it once.
        if !seen.insert(t.asset.domain.clone()) {
            continue;
        }
        jobs.push(NewJob {
            domain: t.asset.domain.clone(),
            organisation_id: t.org.id.clone(),
            target: serde_json::to_string(t)?,
            servers: servers_due(known.get(&t.asset.domain), now_ms, s),
            delay_ms: offset_ms(&t.asset.domain, s.jitter),
        });
    }
    Ok(jobs)
}

/// What one [`tick`] did.
#[derive(Debug, Default)]
pub struct Tick {
    /// The round it began, with its job count and how many of them contact servers.
    pub began: Option<(RoundId, usize, usize)>,
    /// Rounds that ended, with their scans (complete now).
    pub finished: Vec<(RoundId, ScanId)>,
}

/// One step of the scheduler: ends the rounds that are over, and begins one when none
/// is running and `s.every` has passed since the last began. `inventory` is read only
/// then, so an edited inventory takes effect at the next round.
pub async fn tick(
    store: &Store,
    inventory: impl FnOnce() -> Result<Vec<Organisation>, String>,
    s: &Schedule,
) -> Result<Tick, MonitorError> {
    let mut out = Tick {
        finished: store.finish_rounds().await?,
        ..Tick::default()
    };
    if store.open_round().await?.is_some() {
        return Ok(out);
    }
    let now_ms = store.clock_ms().await?;
    if let Some(last) = store.last_round_start().await?
        && now_ms.saturating_sub(last) < ms(s.every)
    {
        return Ok(out);
    }
    let orgs = inventory().map_err(MonitorError::Inventory)?;
    store.save_organisations(&orgs).await?;
    let targets = ward_scan::targets(&orgs);
    let known = store.monitor_targets().await?;
    let jobs = plan(&targets, &known, now_ms, s)
        .map_err(|e| MonitorError::Inventory(format!("cannot encode a job: {e}")))?;
    let servers = jobs.iter().filter(|j| j.servers).count();
    match store
        .begin_round(OffsetDateTime::now_utc(), ward_scan::VERSION, &jobs)
        .await
    {
        Ok((round, _)) => out.began = Some((round, jobs.len(), servers)),
        // Another scheduler on the same store began one first (only one round may be
        // open: a unique index says so).
        Err(_) if store.open_round().await?.is_some() => {}
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn state(seen: Option<i64>, expires: Option<i64>) -> TargetState {
        TargetState {
            servers_seen_ms: seen,
            cert_expires_ms: expires,
        }
    }

    #[test]
    fn servers_weekly_and_daily_near_expiry() {
        let s = Schedule::default();
        let now = 100 * DAY;
        assert!(servers_due(None, now, &s), "never seen: probe");
        assert!(servers_due(Some(&state(None, None)), now, &s));
        assert!(!servers_due(Some(&state(Some(now - DAY), None)), now, &s));
        assert!(!servers_due(
            Some(&state(Some(now - 6 * DAY + DAY), None)),
            now,
            &s
        ));
        // A week after, give or take the half-day a round may drift.
        assert!(servers_due(
            Some(&state(Some(now - 7 * DAY + DAY / 4), None)),
            now,
            &s
        ));
        assert!(servers_due(
            Some(&state(Some(now - 8 * DAY), None)),
            now,
            &s
        ));
        // Seen yesterday, but its certificate expires in 20 days: every day.
        assert!(servers_due(
            Some(&state(Some(now - DAY), Some(now + 20 * DAY))),
            now,
            &s
        ));
        assert!(!servers_due(
            Some(&state(Some(now - DAY), Some(now + 60 * DAY))),
            now,
            &s
        ));
    }

    #[test]
    fn jitter_is_fixed_per_domain_and_spread() {
        let hour = Duration::from_secs(3600);
        assert_eq!(offset_ms("a.example", hour), offset_ms("a.example", hour));
        assert_eq!(offset_ms("a.example", Duration::ZERO), 0);
        let offsets: Vec<i64> = (0..1000)
            .map(|i| offset_ms(&format!("b{i:05}.test"), hour))
            .collect();
        assert!(offsets.iter().all(|o| (0..3_600_000).contains(o)));
        // Every quarter of the hour gets a fair share (200–300 of 1000).
        for q in 0..4 {
            let n = offsets.iter().filter(|o| **o / 900_000 == q).count();
            assert!((200..=300).contains(&n), "quarter {q}: {n}");
        }
    }
}
