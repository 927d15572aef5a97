//! When rounds begin, and what each job of a round does.

use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use ward_model::Organisation;
use ward_model::schedule::ScheduleSetting;
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

/// The schedule of each organisation: its own `[organisation.schedule]` values, else
/// those of the nearest organisation above it that sets them, else `defaults` (the
/// monitor's flags). The jitter is the monitor's alone.
pub fn effective(
    orgs: &[Organisation],
    settings: &[(String, ScheduleSetting)],
    defaults: &Schedule,
) -> HashMap<String, Schedule> {
    let own: HashMap<&str, &ScheduleSetting> =
        settings.iter().map(|(id, s)| (id.as_str(), s)).collect();
    let parent: HashMap<&str, Option<&str>> = orgs
        .iter()
        .map(|o| (o.id.as_str(), o.parent.as_deref()))
        .collect();
    let mut out = HashMap::with_capacity(orgs.len());
    for o in orgs {
        let (mut every, mut servers_every, mut certs_within) = (None, None, None);
        let mut at = Some(o.id.as_str());
        // The inventory refuses loops of parents; the bound is for safety all the same.
        for _ in 0..=orgs.len() {
            let Some(id) = at else { break };
            if let Some(s) = own.get(id) {
                every = every.or(s.every);
                servers_every = servers_every.or(s.servers_every);
                certs_within = certs_within.or(s.certs_within);
            }
            at = parent.get(id).copied().flatten();
        }
        out.insert(
            o.id.clone(),
            Schedule {
                every: every.unwrap_or(defaults.every),
                servers_every: servers_every.unwrap_or(defaults.servers_every),
                certs_within: certs_within.unwrap_or(defaults.certs_within),
                jitter: defaults.jitter,
            },
        );
    }
    out
}

/// How often rounds come: as often as the most frequently looked-at organisation
/// wants (never less often than `defaults.every` when no organisation sets one).
pub fn round_every(schedules: &HashMap<String, Schedule>, defaults: &Schedule) -> Duration {
    schedules
        .values()
        .map(|s| s.every)
        .min()
        .unwrap_or(defaults.every)
        .max(Duration::from_secs(1))
}

/// Whether a round at `now_ms`, one every `round`, asks a domain's DNS records under
/// its organisation's schedule `s`. A round may start a little early or late, so a look
/// due within half a round is made now rather than a whole round later.
pub fn dns_due(known: Option<&TargetState>, now_ms: i64, round: Duration, s: &Schedule) -> bool {
    let Some(seen) = known.and_then(|k| k.dns_seen_ms) else {
        return true;
    };
    now_ms.saturating_sub(seen) >= ms(s.every).saturating_sub(ms(round) / 2)
}

/// Whether a round at `now_ms`, one every `round`, contacts a domain's servers under
/// its organisation's schedule `s`, given what is known of it.
pub fn servers_due(
    known: Option<&TargetState>,
    now_ms: i64,
    round: Duration,
    s: &Schedule,
) -> bool {
    let Some(k) = known else { return true };
    let Some(seen) = k.servers_seen_ms else {
        return true;
    };
    if now_ms.saturating_sub(seen) >= ms(s.servers_every).saturating_sub(ms(round) / 2) {
        return true;
    }
    k.cert_expires_ms
        .is_some_and(|e| e.saturating_sub(now_ms) <= ms(s.certs_within))
}

/// The jobs of a round at `now_ms` over `targets`, in inventory order: each domain under
/// its organisation's schedule (from [`effective`]; `defaults` for one not there).
pub fn plan(
    targets: &[Target],
    known: &HashMap<String, TargetState>,
    now_ms: i64,
    schedules: &HashMap<String, Schedule>,
    defaults: &Schedule,
) -> Result<Vec<NewJob>, serde_json::Error> {
    let round = round_every(schedules, defaults);
    let mut seen = std::collections::HashSet::new();
    let mut jobs = Vec::with_capacity(targets.len());
    for t in targets {
        // The inventory refuses a domain listed twice; a round would store it once.
        if !seen.insert(t.asset.domain.clone()) {
            continue;
        }
        let s = schedules.get(&t.org.id).unwrap_or(defaults);
        let k = known.get(&t.asset.domain);
        // A domain never seen, or carried for want of a look, is looked at in full.
        let dns = dns_due(k, now_ms, round, s);
        jobs.push(NewJob {
            domain: t.asset.domain.clone(),
            organisation_id: t.org.id.clone(),
            target: serde_json::to_string(t)?,
            servers: dns && servers_due(k, now_ms, round, s),
            dns,
            delay_ms: offset_ms(&t.asset.domain, defaults.jitter),
        });
    }
    Ok(jobs)
}

/// What an inventory says the monitor should watch.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// The organisations and their domains.
    pub organisations: Vec<Organisation>,
    /// The schedules they set.
    pub schedules: Vec<(String, ScheduleSetting)>,
}

/// A round [`tick`] began.
#[derive(Debug, Clone, Copy)]
pub struct Began {
    /// The round.
    pub round: RoundId,
    /// The scan its jobs are stored in.
    pub scan: ScanId,
    /// Its jobs, one per domain.
    pub jobs: usize,
    /// Jobs that contact the domain's servers.
    pub servers: usize,
    /// Jobs that ask nothing: their organisation is not due, its last look is carried.
    pub carried_whole: usize,
}

/// What one [`tick`] did.
#[derive(Debug, Default)]
pub struct Tick {
    /// The round it began.
    pub began: Option<Began>,
    /// Rounds that ended, with their scans (complete now).
    pub finished: Vec<(RoundId, ScanId)>,
    /// How often rounds come under the inventory read for the round begun (see
    /// [`round_every`]); the caller ticks with it from then on.
    pub round_every: Option<Duration>,
}

/// One step of the scheduler: ends the rounds that are over, and begins one when none
/// is running and `round` has passed since the last began. `inventory` is read only
/// then, so an edited inventory takes effect at the next round. `s` is the schedule of
/// an organisation that sets none of its own.
pub async fn tick(
    store: &Store,
    inventory: impl AsyncFnOnce() -> Result<Watched, String>,
    s: &Schedule,
    round: Duration,
) -> Result<Tick, MonitorError> {
    let mut out = Tick {
        finished: store.finish_rounds().await?,
        ..Tick::default()
    };
    if store.open_round().await?.is_some() {
        return Ok(out);
    }
    let now_ms = store.clock_ms().await?;
    let last = store.last_round_start().await?;
    if let Some(last) = last
        && now_ms.saturating_sub(last) < ms(round)
    {
        return Ok(out);
    }
    let watched = inventory().await.map_err(MonitorError::Inventory)?;
    let orgs = &watched.organisations;
    store.save_organisations(orgs).await?;
    let targets = ward_scan::targets(orgs);
    let known = store.monitor_targets().await?;
    let schedules = effective(orgs, &watched.schedules, s);
    let every = round_every(&schedules, s);
    out.round_every = Some(every);
    // A round begun early (`ward monitor --once`) is the next round brought forward:
    // it looks at what the next round would have looked at.
    let plan_ms = last.map_or(now_ms, |l| now_ms.max(l.saturating_add(ms(every))));
    let jobs = plan(&targets, &known, plan_ms, &schedules, s)
        .map_err(|e| MonitorError::Inventory(format!("cannot encode a job: {e}")))?;
    let servers = jobs.iter().filter(|j| j.servers).count();
    let carried_whole = jobs.iter().filter(|j| !j.dns).count();
    match store
        .begin_round(OffsetDateTime::now_utc(), ward_scan::VERSION, &jobs)
        .await
    {
        Ok((round, scan)) => {
            out.began = Some(Began {
                round,
                scan,
                jobs: jobs.len(),
                servers,
                carried_whole,
            });
        }
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
            dns_seen_ms: seen,
            cert_expires_ms: expires,
        }
    }

    #[test]
    fn servers_weekly_and_daily_near_expiry() {
        let s = Schedule::default();
        let now = 100 * DAY;
        assert!(servers_due(None, now, s.every, &s), "never seen: probe");
        assert!(servers_due(Some(&state(None, None)), now, s.every, &s));
        assert!(!servers_due(
            Some(&state(Some(now - DAY), None)),
            now,
            s.every,
            &s
        ));
        assert!(!servers_due(
            Some(&state(Some(now - 6 * DAY + DAY), None)),
            now,
            s.every,
            &s
        ));
        // A week after, give or take the half-day a round may drift.
        assert!(servers_due(
            Some(&state(Some(now - 7 * DAY + DAY / 4), None)),
            now,
            s.every,
            &s
        ));
        assert!(servers_due(
            Some(&state(Some(now - 8 * DAY), None)),
            now,
            s.every,
            &s
        ));
        // Seen yesterday, but its certificate expires in 20 days: every day.
        assert!(servers_due(
            Some(&state(Some(now - DAY), Some(now + 20 * DAY))),
            now,
            s.every,
            &s
        ));
        assert!(!servers_due(
            Some(&state(Some(now - DAY), Some(now + 60 * DAY))),
            now,
            s.every,
            &s
        ));
    }

    fn org(id: &str, parent: Option<&str>, domain: &str) -> Organisation {
        Organisation {
            id: id.into(),
            name: id.into(),
            kind: if parent.is_some() {
                ward_model::OrgKind::Branch
            } else {
                ward_model::OrgKind::Party
            },
            size: ward_model::SizeClass::Small,
            parent: parent.map(Into::into),
            assets: vec![ward_model::Asset {
                domain: domain.into(),
                roles: vec![ward_model::Role::Mail],
                dkim_selectors: Vec::new(),
                reported_dkim_selectors: Vec::new(),
            }],
        }
    }

    #[test]
    fn organisations_inherit_schedules_down_the_tree() {
        let hour = Duration::from_secs(3600);
        let orgs = vec![
            org("hq", None, "hq.test"),
            org("north", Some("hq"), "north.test"),
            org("leeds", Some("north"), "leeds.test"),
            org("other", None, "other.test"),
        ];
        let settings = vec![
            (
                "hq".to_owned(),
                ScheduleSetting {
                    every: Some(6 * hour),
                    servers_every: Some(48 * hour),
                    certs_within: None,
                },
            ),
            (
                "north".to_owned(),
                ScheduleSetting {
                    servers_every: Some(24 * hour),
                    ..ScheduleSetting::default()
                },
            ),
        ];
        let d = Schedule::default();
        let e = effective(&orgs, &settings, &d);
        assert_eq!(e["hq"].every, 6 * hour);
        assert_eq!(e["hq"].servers_every, 48 * hour);
        // leeds sets nothing: north's servers_every, hq's every, the default rest.
        assert_eq!(e["leeds"].every, 6 * hour);
        assert_eq!(e["leeds"].servers_every, 24 * hour);
        assert_eq!(e["leeds"].certs_within, d.certs_within);
        assert_eq!(e["other"], d);
        assert_eq!(round_every(&e, &d), 6 * hour);
    }

    #[test]
    fn an_organisation_looked_at_weekly_is_carried_between() {
        let orgs = vec![org("hq", None, "hq.test"), org("slow", None, "slow.test")];
        let settings = vec![(
            "slow".to_owned(),
            ScheduleSetting {
                every: Some(Duration::from_secs(7 * 86_400)),
                ..ScheduleSetting::default()
            },
        )];
        let d = Schedule::default();
        let e = effective(&orgs, &settings, &d);
        let targets = ward_scan::targets(&orgs);
        let now = 100 * DAY;
        let seen = |at| TargetState {
            servers_seen_ms: Some(at),
            dns_seen_ms: Some(at),
            cert_expires_ms: None,
        };
        let known: HashMap<String, TargetState> = [
            ("hq.test".to_owned(), seen(now - DAY)),
            ("slow.test".to_owned(), seen(now - DAY)),
        ]
        .into();
        let jobs = plan(&targets, &known, now, &e, &d).unwrap();
        let by = |d: &str| jobs.iter().find(|j| j.domain == d).unwrap();
        assert!(by("hq.test").dns && !by("hq.test").servers);
        assert!(!by("slow.test").dns && !by("slow.test").servers);
        // Six days on, within half a round of the week: looked at again.
        let known: HashMap<String, TargetState> =
            [("slow.test".to_owned(), seen(now - 7 * DAY + DAY / 4))].into();
        let jobs = plan(&targets, &known, now, &e, &d).unwrap();
        let by = |d: &str| jobs.iter().find(|j| j.domain == d).unwrap();
        assert!(by("slow.test").dns);
        // Never seen: looked at in full.
        assert!(by("hq.test").dns && by("hq.test").servers);
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
