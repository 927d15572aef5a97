//! The monitor's queue: rounds, their jobs (one per domain), what the scheduler knows of
//! each domain, and the workers that take the jobs.
//!
//! A job is taken under a lease (`lease_until_ms`) that its worker renews with
//! heartbeats. Taking jobs is one `UPDATE … WHERE id IN (SELECT … LIMIT n)`; on
//! PostgreSQL the inner select is `FOR UPDATE SKIP LOCKED`, so any number of workers
//! take disjoint jobs without waiting on each other, and on SQLite the write lock does
//! the same. A job whose lease ran out (its worker was killed) is due again. A job is
//! finished in the same transaction that stores its asset, and only while its worker
//! still holds it, so a job taken twice is never stored twice.
//!
//! Every time here is the database's clock in milliseconds since 1970, so workers on
//! machines whose clocks differ still agree on when a lease ran out.

use crate::{ScanId, Store, StoreError, ts, uint};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use ward_model::AssetReport;
use ward_model::DmarcPhase;
use ward_model::observe::AssetObservation;

/// The database's clock, in milliseconds, as an SQL expression per backend.
const SQLITE_NOW: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
const PG_NOW: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// Times a job is taken before it is given up on: a domain that kills its worker
/// every time must not stop the round from ending.
pub const MAX_ATTEMPTS: i64 = 3;

/// A round's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RoundId(pub i64);

/// A job for [`Store::begin_round`].
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The domain.
    pub domain: String,
    /// Whose it is.
    pub organisation_id: String,
    /// The asset and its organisation, as JSON (the monitor's own format).
    pub target: String,
    /// Whether to contact the web and mail servers (else their part is carried).
    pub servers: bool,
    /// Whether to ask DNS at all (else the whole last observation is carried, and
    /// `servers` is false).
    pub dns: bool,
    /// When it may start, in milliseconds after the round's start (the jitter).
    pub delay_ms: i64,
}

/// A job a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The job's row id.
    pub id: i64,
    /// Its round.
    pub round: RoundId,
    /// The scan its asset goes into.
    pub scan: ScanId,
    /// Its position in the round (the asset's position in the scan).
    pub position: usize,
    /// The domain.
    pub domain: String,
    /// As [`NewJob::target`].
    pub target: String,
    /// As [`NewJob::servers`].
    pub servers: bool,
    /// As [`NewJob::dns`].
    pub dns: bool,
    /// Times taken, this one included.
    pub attempts: i64,
}

/// What the scheduler knows of one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetState {
    /// When its servers were last contacted, if ever.
    pub servers_seen_ms: Option<i64>,
    /// When its DNS records were last asked for, if ever (before this was kept: none).
    pub dns_seen_ms: Option<i64>,
    /// The earliest expiry of a certificate seen then.
    pub cert_expires_ms: Option<i64>,
}

/// One round in [`MonitorStatus`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoundStatus {
    /// Its id.
    pub round: i64,
    /// The scan it fills.
    pub scan: i64,
    /// When it began (database clock, ms).
    pub started_ms: i64,
    /// When its last job ended, if it has.
    pub finished_ms: Option<i64>,
    /// Jobs in it.
    pub jobs: u64,
    /// Jobs per state (`due`, `running`, `done`, `failed`).
    pub states: std::collections::BTreeMap<String, u64>,
    /// Jobs taken more than once (their worker died or went silent past its lease).
    pub retaken: u64,
}

/// One worker in [`MonitorStatus`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkerStatus {
    /// Its name (host and process id, unless named).
    pub name: String,
    /// The machine.
    pub host: String,
    /// The process id there.
    pub pid: i64,
    /// When it started (ms).
    pub started_ms: i64,
    /// Its last heartbeat (ms).
    pub heartbeat_ms: i64,
    /// Jobs it finished.
    pub jobs_done: u64,
    /// Jobs it holds now.
    pub holding: u64,
    /// When it said it stopped, if it did (a worker killed never says).
    pub stopped_ms: Option<i64>,
}

/// What `ward monitor status` shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MonitorStatus {
    /// The database's clock now (ms).
    pub now_ms: i64,
    /// Jobs waiting: due now or later, or running under a lease that ran out.
    pub queue_depth: u64,
    /// Jobs per state, over every round kept.
    pub states: std::collections::BTreeMap<String, u64>,
    /// When the oldest job still waiting became due (ms), if any.
    pub oldest_due_ms: Option<i64>,
    /// The newest rounds, newest first.
    pub rounds: Vec<RoundStatus>,
    /// Every worker heard from, most recent heartbeat first.
    pub workers: Vec<WorkerStatus>,
}

type JobRow = (i64, i64, i64, i64, String, String, i64, i64, i64);

fn claimed(row: JobRow) -> Claimed {
    let (id, round, scan, position, domain, target, servers, dns, attempts) = row;
    Claimed {
        id,
        round: RoundId(round),
        scan: ScanId(scan),
        position: uint(position) as usize,
        domain,
        target,
        servers: servers != 0,
        dns: dns != 0,
        attempts,
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    fn now_sql(&self) -> &'static str {
        match self.backend {
            crate::Backend::Sqlite(_) => SQLITE_NOW,
            crate::Backend::Postgres(_) => PG_NOW,
        }
    }

    /// The database's clock, in milliseconds since 1970.
    pub async fn clock_ms(&self) -> Result<i64, StoreError> {
        let q = format!("SELECT {}", self.now_sql());
        Ok(
            on_pool!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(q))
            .fetch_one(pool)
            .await
            .map_err(self.db())?),
        )
    }

    /// The round still running (some job not yet done or failed), if any.
    pub async fn open_round(&self) -> Result<Option<(RoundId, ScanId)>, StoreError> {
        let row: Option<(i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, scan_id FROM monitor_rounds WHERE finished_ms IS NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(row.map(|(r, s)| (RoundId(r), ScanId(s))))
    }

    /// When the newest round began (ms), if there was one.
    pub async fn last_round_start(&self) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT MAX(started_ms) FROM monitor_rounds",
        )
        .fetch_one(pool)
        .await
        .map_err(self.db())?))
    }

    /// Begins a round: a `running` scan and one job per entry of `jobs` (its position
    /// is its index), all in one transaction, so a round is never half made.
    pub async fn begin_round(
        &self,
        started_at: OffsetDateTime,
        ward_version: &str,
        jobs: &[NewJob],
    ) -> Result<(RoundId, ScanId), StoreError> {
        let now = self.now_sql();
        let round_sql = format!(
            "INSERT INTO monitor_rounds (scan_id, started_ms, jobs) VALUES ($1, {now}, $2) \
             RETURNING id, started_ms"
        );
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            let scan: i64 = sqlx::query_scalar(
                "INSERT INTO scans (started_at, ward_version, state) VALUES ($1, $2, 'running') RETURNING id",
            )
            .bind(ts(started_at))
            .bind(ward_version)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db())?;
            let (round, started_ms): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(round_sql))
                .bind(scan)
                .bind(jobs.len() as i64)
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db())?;
            for (i, j) in jobs.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO monitor_jobs (round_id, position, domain, organisation_id, target, servers, dns, due_ms, state) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'due')",
                )
                .bind(round)
                .bind(i as i64)
                .bind(&j.domain)
                .bind(&j.organisation_id)
                .bind(&j.target)
                .bind(i64::from(j.servers && j.dns))
                .bind(i64::from(j.dns))
                .bind(started_ms.saturating_add(j.delay_ms.max(0)))
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            }
            tx.commit().await.map_err(self.db())?;
            Ok((RoundId(round), ScanId(scan)))
        })
    }

    /// What the scheduler knows of every domain it has scanned.
    pub async fn monitor_targets(&self) -> Result<HashMap<String, TargetState>, StoreError> {
        type Row = (String, Option<i64>, Option<i64>, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(
            "SELECT domain, servers_seen_ms, cert_expires_ms, dns_seen_ms FROM monitor_targets",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        Ok(rows
            .into_iter()
            .map(|(d, s, c, n)| {
                (
                    d,
                    TargetState {
                        servers_seen_ms: s,
                        dns_seen_ms: n,
                        cert_expires_ms: c,
                    },
                )
            })
            .collect())
    }

    /// Records (or refreshes) a worker, as it starts.
    pub async fn register_worker(
        &self,
        name: &str,
        host: &str,
        pid: u32,
    ) -> Result<(), StoreError> {
        let now = self.now_sql();
        let q = format!(
            "INSERT INTO monitor_workers (name, host, pid, started_ms, heartbeat_ms, jobs_done) \
             VALUES ($1, $2, $3, {now}, {now}, 0) \
             ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, \
             started_ms = excluded.started_ms, heartbeat_ms = excluded.heartbeat_ms, stopped_ms = NULL"
        );
        on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(name)
            .bind(host)
            .bind(i64::from(pid))
            .execute(pool)
            .await
            .map_err(self.db())
            .map(drop))
    }

    /// Marks a worker as stopped of its own accord.
    pub async fn worker_stopped(&self, name: &str) -> Result<(), StoreError> {
        let q = format!(
            "UPDATE monitor_workers SET stopped_ms = {} WHERE name = $1",
            self.now_sql()
        );
        on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(name)
            .execute(pool)
            .await
            .map_err(self.db())
            .map(drop))
    }

    /// Takes up to `n` jobs that are due (or whose lease ran out) for `worker`, each
    /// under a lease of `lease`, oldest due first.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        n: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        let now = self.now_sql();
        let lock = match self.backend {
            crate::Backend::Sqlite(_) => "",
            crate::Backend::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let q = format!(
            "UPDATE monitor_jobs SET state = 'running', worker = $1, attempts = attempts + 1, \
             lease_until_ms = {now} + $2 \
             WHERE id IN (SELECT id FROM monitor_jobs \
               WHERE attempts < $4 AND ((state = 'due' AND due_ms <= {now}) \
                 OR (state = 'running' AND lease_until_ms < {now})) \
               ORDER BY due_ms, id LIMIT $3 {lock}) \
             RETURNING id, round_id, \
               (SELECT scan_id FROM monitor_rounds r WHERE r.id = monitor_jobs.round_id), \
               position, domain, target, servers, dns, attempts"
        );
        let rows: Vec<JobRow> = on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(q))
                .bind(worker)
                .bind(ms(lease))
                .bind(n as i64)
                .bind(MAX_ATTEMPTS)
                .fetch_all(&mut *tx)
                .await
                .map_err(self.db())?;
            tx.commit().await.map_err(self.db())?;
            rows
        });
        let mut jobs: Vec<Claimed> = rows.into_iter().map(claimed).collect();
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// The heartbeat: extends the lease of every job `worker` still holds among `ids`
    /// and records that it was heard from. Returns the ids it still holds.
    pub async fn heartbeat(
        &self,
        worker: &str,
        ids: &[i64],
        lease: Duration,
    ) -> Result<Vec<i64>, StoreError> {
        let now = self.now_sql();
        let renew = format!(
            "UPDATE monitor_jobs SET lease_until_ms = {now} + $2 \
             WHERE id = $3 AND worker = $1 AND state = 'running' RETURNING id"
        );
        let beat = format!("UPDATE monitor_workers SET heartbeat_ms = {now} WHERE name = $1");
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            let mut held = Vec::with_capacity(ids.len());
            for id in ids {
                let r: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(renew.clone()))
                    .bind(worker)
                    .bind(ms(lease))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.db())?;
                held.extend(r);
            }
            sqlx::query(sqlx::AssertSqlSafe(beat))
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            tx.commit().await.map_err(self.db())?;
            Ok(held)
        })
    }

    /// Finishes `job`: stores its asset in the round's scan and marks it done, in one
    /// transaction, only if `worker` still holds it. Returns false (and stores nothing)
    /// when it does not: its lease ran out and another worker took it.
    pub async fn complete_job(
        &self,
        worker: &str,
        job: &Claimed,
        report: &AssetReport,
        observation: &AssetObservation,
    ) -> Result<bool, StoreError> {
        let obs = serde_json::to_string(observation)
            .map_err(|e| self.corrupt("observation")(e.to_string()))?;
        let roles = serde_json::to_string(&report.roles)
            .map_err(|e| self.corrupt("roles")(e.to_string()))?;
        let now = self.now_sql();
        let done = format!(
            "UPDATE monitor_jobs SET state = 'done', finished_ms = {now}, lease_until_ms = NULL, error = NULL \
             WHERE id = $1 AND worker = $2 AND state = 'running'"
        );
        // A probe that carried the servers' part did not see them: keep when they were
        // last seen, and the expiry seen then.
        let target = "INSERT INTO monitor_targets (domain, servers_seen_ms, cert_expires_ms, last_scan_id, dns_seen_ms) \
             VALUES ($1, $2, $3, $4, $6) ON CONFLICT (domain) DO UPDATE SET \
             dns_seen_ms = COALESCE(excluded.dns_seen_ms, monitor_targets.dns_seen_ms), \
             servers_seen_ms = CASE WHEN $5 = 1 THEN excluded.servers_seen_ms ELSE monitor_targets.servers_seen_ms END, \
             cert_expires_ms = CASE WHEN $5 = 1 THEN excluded.cert_expires_ms ELSE monitor_targets.cert_expires_ms END, \
             last_scan_id = excluded.last_scan_id";
        let counted = format!(
            "UPDATE monitor_workers SET jobs_done = jobs_done + 1, heartbeat_ms = {now} WHERE name = $1"
        );
        let seen_ms = (observation.servers_seen_at.is_none())
            .then(|| observation.scanned_at.unix_timestamp() * 1000);
        let expires_ms = observation
            .earliest_certificate_expiry()
            .map(|t| t.unix_timestamp() * 1000);
        let probed = i64::from(observation.servers_seen_at.is_none());
        let dns_ms = (observation.dns_seen_at.is_none())
            .then(|| observation.scanned_at.unix_timestamp() * 1000);
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            let held = sqlx::query(sqlx::AssertSqlSafe(done))
                .bind(job.id)
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?
                .rows_affected();
            if held != 1 {
                tx.rollback().await.map_err(self.db())?;
                return Ok(false);
            }
            insert_asset!(self, tx, job.scan, job.position, report, &obs, &roles)?;
            sqlx::query(target)
                .bind(&job.domain)
                .bind(seen_ms)
                .bind(expires_ms)
                .bind(job.scan.0)
                .bind(probed)
                .bind(dns_ms)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            sqlx::query(sqlx::AssertSqlSafe(counted))
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            tx.commit().await.map_err(self.db())?;
            Ok(true)
        })
    }

    /// Gives a job back: due again at once when `retry` and it has attempts left,
    /// else failed with `error`.
    pub async fn fail_job(
        &self,
        worker: &str,
        job: &Claimed,
        error: &str,
        retry: bool,
    ) -> Result<(), StoreError> {
        let now = self.now_sql();
        let q = format!(
            "UPDATE monitor_jobs SET state = CASE WHEN $3 = 1 AND attempts < $4 THEN 'due' ELSE 'failed' END, \
             lease_until_ms = NULL, error = $5, \
             finished_ms = CASE WHEN $3 = 1 AND attempts < $4 THEN NULL ELSE {now} END \
             WHERE id = $1 AND worker = $2 AND state = 'running'"
        );
        on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(job.id)
            .bind(worker)
            .bind(i64::from(retry))
            .bind(MAX_ATTEMPTS)
            .bind(error)
            .execute(pool)
            .await
            .map_err(self.db())
            .map(drop))
    }

    /// Ends what is over: jobs whose lease ran out after their last attempt become
    /// failed, and each round with no job left waiting or running is finished and its
    /// scan marked complete. Returns the rounds it finished, with their scans.
    pub async fn finish_rounds(&self) -> Result<Vec<(RoundId, ScanId)>, StoreError> {
        let now = self.now_sql();
        let give_up = format!(
            "UPDATE monitor_jobs SET state = 'failed', finished_ms = {now}, \
             error = 'its worker stopped answering on each of its ' || CAST(attempts AS TEXT) || ' attempts' \
             WHERE state = 'running' AND lease_until_ms < {now} AND attempts >= $1"
        );
        let over = "SELECT r.id, r.scan_id FROM monitor_rounds r WHERE r.finished_ms IS NULL \
             AND NOT EXISTS (SELECT 1 FROM monitor_jobs j WHERE j.round_id = r.id \
               AND j.state IN ('due', 'running')) ORDER BY r.id";
        let finish = format!("UPDATE monitor_rounds SET finished_ms = {now} WHERE id = $1");
        let finished_at = ts(OffsetDateTime::now_utc());
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            sqlx::query(sqlx::AssertSqlSafe(give_up))
                .bind(MAX_ATTEMPTS)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            let rounds: Vec<(i64, i64)> = sqlx::query_as(over)
                .fetch_all(&mut *tx)
                .await
                .map_err(self.db())?;
            for (round, scan) in &rounds {
                sqlx::query(sqlx::AssertSqlSafe(finish.clone()))
                    .bind(round)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db())?;
                sqlx::query("UPDATE scans SET finished_at = $1, state = 'complete' WHERE id = $2")
                    .bind(&finished_at)
                    .bind(scan)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db())?;
            }
            tx.commit().await.map_err(self.db())?;
            Ok(rounds
                .into_iter()
                .map(|(r, s)| (RoundId(r), ScanId(s)))
                .collect())
        })
    }

    /// The newest stored observation of `domain`, from any scan: what a probe that does
    /// not contact the servers carries forward (it may itself have carried them; it
    /// says since when).
    pub async fn latest_observation(
        &self,
        domain: &str,
    ) -> Result<Option<AssetObservation>, StoreError> {
        let text: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT observation FROM scan_assets WHERE domain = $1 ORDER BY scan_id DESC LIMIT 1",
        )
        .bind(domain)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        self.read_observation(text)
    }

    /// The queue, the newest `rounds` rounds and every worker.
    pub async fn monitor_status(&self, rounds: usize) -> Result<MonitorStatus, StoreError> {
        let now_ms = self.clock_ms().await?;
        let states: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT state, COUNT(*) FROM monitor_jobs GROUP BY state ORDER BY state",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        let depth: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM monitor_jobs \
             WHERE state = 'due' OR (state = 'running' AND lease_until_ms < $1)",
        )
        .bind(now_ms)
        .fetch_one(pool)
        .await
        .map_err(self.db())?);
        let oldest_due: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT MIN(due_ms) FROM monitor_jobs WHERE state = 'due' AND due_ms <= $1",
        )
        .bind(now_ms)
        .fetch_one(pool)
        .await
        .map_err(self.db())?);
        let round_rows: Vec<(i64, i64, i64, Option<i64>, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, scan_id, started_ms, finished_ms, jobs FROM monitor_rounds ORDER BY id DESC LIMIT $1",
        )
        .bind(rounds as i64)
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        let mut out_rounds = Vec::with_capacity(round_rows.len());
        for (round, scan, started_ms, finished_ms, jobs) in round_rows {
            let per: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT state, COUNT(*) FROM monitor_jobs WHERE round_id = $1 GROUP BY state ORDER BY state",
            )
            .bind(round)
            .fetch_all(pool)
            .await
            .map_err(self.db())?);
            let retaken: i64 = on_pool!(self, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM monitor_jobs WHERE round_id = $1 AND attempts > 1",
            )
            .bind(round)
            .fetch_one(pool)
            .await
            .map_err(self.db())?);
            out_rounds.push(RoundStatus {
                retaken: uint(retaken),
                round,
                scan,
                started_ms,
                finished_ms,
                jobs: uint(jobs),
                states: per.into_iter().map(|(s, n)| (s, uint(n))).collect(),
            });
        }
        type WorkerRow = (String, String, i64, i64, i64, i64, Option<i64>, i64);
        let workers: Vec<WorkerRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT w.name, w.host, w.pid, w.started_ms, w.heartbeat_ms, w.jobs_done, w.stopped_ms, \
             (SELECT COUNT(*) FROM monitor_jobs j WHERE j.worker = w.name AND j.state = 'running') \
             FROM monitor_workers w ORDER BY w.heartbeat_ms DESC, w.name",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        Ok(MonitorStatus {
            now_ms,
            queue_depth: uint(depth),
            states: states.into_iter().map(|(s, n)| (s, uint(n))).collect(),
            oldest_due_ms: oldest_due,
            rounds: out_rounds,
            workers: workers
                .into_iter()
                .map(
                    |(name, host, pid, started_ms, heartbeat_ms, done, stopped_ms, holding)| {
                        WorkerStatus {
                            name,
                            host,
                            pid,
                            started_ms,
                            heartbeat_ms,
                            jobs_done: uint(done),
                            holding: uint(holding),
                            stopped_ms,
                        }
                    },
                )
                .collect(),
        })
    }
}
