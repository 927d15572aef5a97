//! Persistence for scans: organisations, raw observations, findings, mail reports and
//! self-assessments, every scan kept as history.
//!
//! Every query lives in this crate behind [`Store`], so callers never see SQL. Two
//! backends, chosen by the location ([`Location`]): a SQLite file, the default (one file,
//! nothing to install), and PostgreSQL, for a party that outgrows one machine. Each has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`), numbered alike: the
//! same version means the same tables on both, which is what [`Store::copy_into`]
//! relies on.
//!
//! Most queries are one SQL text for both backends: placeholders are written `$1`, `$2`
//! (sqlx's SQLite driver reads them as PostgreSQL does), sums are cast to BIGINT and
//! NULLs are ordered explicitly. `on_pool!` compiles such a body once per backend. Where
//! the engines differ (JSON functions, the report writer) the code says so and keeps one
//! version per backend. The SQLite report writer makes direct SQLite calls (`raw.rs`);
//! the PostgreSQL one sends each table's rows as arrays (`pg.rs`).
//!
//! Each asset of a scan is stored in one transaction, so an interrupted scan leaves
//! whole assets behind, never half of one, and the scan stays marked `running`.

/// Runs `$body` with `$pool` bound to the store's pool, compiled once per backend, so
/// one query text and one way of reading its rows serve both. With `$begin`, also binds
/// the statement that opens a writing transaction on that backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, $pool:ident, $begin:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => {
                let $begin = $crate::SQLITE_WRITE;
                $body
            }
            $crate::Backend::Postgres($pool) => {
                let $begin = $crate::PG_WRITE;
                $body
            }
        }
    };
}

/// Inserts one asset's row and its findings inside the open transaction `$tx`
/// (`save_asset` and the monitor's `complete_job`: one body, both backends).
macro_rules! insert_asset {
    ($store:expr, $tx:ident, $scan:expr, $position:expr, $report:expr, $obs:expr, $roles:expr) => {{
        let (scan, position, report, obs, roles): (ScanId, usize, &AssetReport, &str, &str) =
            ($scan, $position, $report, $obs, $roles);
        sqlx::query(
            "INSERT INTO scan_assets (scan_id, domain, position, organisation_id, organisation, roles, observation, dmarc_phase) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(scan.0)
        .bind(&report.domain)
        .bind(position as i64)
        .bind(&report.organisation_id)
        .bind(&report.organisation)
        .bind(roles)
        .bind(obs)
        .bind(report.dmarc_phase.map(DmarcPhase::as_str))
        .execute(&mut *$tx)
        .await
        .map_err($store.db())?;
        for (i, f) in report.findings.iter().enumerate() {
            sqlx::query(
                "INSERT INTO findings (scan_id, domain, position, check_id, status, severity, summary, evidence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(scan.0)
            .bind(&report.domain)
            .bind(i as i64)
            .bind(f.check.as_str())
            .bind(f.status.as_str())
            .bind(f.severity.as_str())
            .bind(&f.summary)
            .bind(f.evidence.to_string())
            .execute(&mut *$tx)
            .await
            .map_err($store.db())?;
        }
        Ok::<(), StoreError>(())
    }};
}

mod copy;
mod location;
mod pg;
mod raw;
#[macro_use]
mod reports;
mod schema;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;

pub use copy::{Copied, TableRows};
pub use location::Location;

/// One domain's verdicts in one scan ([`Store::domain_history`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainVerdicts {
    /// The scan.
    pub scan: ScanId,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// (check id, status, severity, one line), in the check order of the scan.
    pub verdicts: Vec<(String, String, String, String)>,
}
pub use reports::{ReportFilter, StoredReport};
pub use stream::ReportStream;

use sqlx::Connection;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ward_model::observe::AssetObservation;
use ward_model::{
    AssetReport, CheckId, DmarcPhase, Finding, Organisation, Role, ScanReport, Severity,
};

mod accounts;
mod alerts;
mod assessments;
mod consent;
mod monitor;
pub use accounts::{AccessRole, AuditEntry, Invitation, Session, User};
pub use alerts::{AlertEvent, DeadLetter, Delivery, NewAlertEvent, Outcome};
pub use assessments::StoredAssessment;
pub use consent::{ClaimState, DomainClaim};
pub use monitor::{
    Claimed, MonitorStatus, NewJob, RoundId, RoundStatus, TargetState, WorkerStatus,
};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The table sqlx records applied migrations in.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// How long a connection waits for another process's write lock before it gives up,
/// unless `WARD_DB_LOCK_WAIT` (seconds) says otherwise.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`BUSY_TIMEOUT`], or `WARD_DB_LOCK_WAIT` seconds (0.05 to 3600) when set.
fn busy_timeout() -> std::time::Duration {
    std::env::var("WARD_DB_LOCK_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| (0.05..=3600.0).contains(s))
        .map_or(BUSY_TIMEOUT, std::time::Duration::from_secs_f64)
}

/// Transactions that write take the write lock at once: a deferred one that read first
/// could not wait for another writer and would fail with SQLITE_BUSY.
const SQLITE_WRITE: &str = "BEGIN IMMEDIATE";

/// PostgreSQL's writers lock rows, not the database: a plain transaction.
const PG_WRITE: &str = "BEGIN";

/// The advisory lock (`pg_advisory_lock`) ward's PostgreSQL migrations run under: "ward"
/// and "migr" in ASCII. Advisory locks belong to one database, so this serialises the
/// ward processes that start at once on the same database and nothing else.
const PG_MIGRATION_LOCK: i64 = 0x7761_7264_6d69_6772;

/// Connections a process keeps to PostgreSQL.
const PG_CONNECTIONS: u32 = 8;

/// A migration [`Store::open_migrating`] applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Its version (the number its file name starts with).
    pub version: i64,
    /// Its description (the rest of the file name).
    pub description: String,
}

/// The migrations of `migrator` not among `before`, in order.
fn newly_applied(migrator: &Migrator, before: &HashSet<i64>) -> Vec<Applied> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !before.contains(&m.version))
        .map(|m| Applied {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect()
}

/// Brings the schema up to date inside one exclusive transaction. Several ward processes
/// started at once on a new file would otherwise each find no migration applied and each
/// create the tables, and all but one fail. `BEGIN EXCLUSIVE` makes the others wait (the
/// connection's busy timeout) and then find everything applied; sqlx runs each migration
/// in a savepoint of this transaction.
async fn migrate_sqlite(pool: &SqlitePool, location: &str) -> Result<Vec<Applied>, StoreError> {
    let db = |source| StoreError::Db {
        location: location.to_owned(),
        source,
    };
    let migrate = |source| StoreError::Migrate {
        location: location.to_owned(),
        source,
    };
    let mut tx = pool.begin_with("BEGIN EXCLUSIVE").await.map_err(db)?;
    tx.ensure_migrations_table(MIGRATIONS_TABLE)
        .await
        .map_err(migrate)?;
    let before: HashSet<i64> = tx
        .list_applied_migrations(MIGRATIONS_TABLE)
        .await
        .map_err(migrate)?
        .iter()
        .map(|m| m.version)
        .collect();
    SQLITE_MIGRATOR.run(&mut *tx).await.map_err(migrate)?;
    tx.commit().await.map_err(db)?;
    Ok(newly_applied(&SQLITE_MIGRATOR, &before))
}

/// Opens the SQLite pool and migrates it. A process that opens a new file while others
/// set it up (the WAL switch, the first migration) can be told SQLITE_BUSY at once,
/// without the busy timeout: SQLite does so where waiting could deadlock. That is a race
/// lost, not an error, so the open is tried again after a short pause, a few times.
async fn open_and_migrate_sqlite(
    opts: SqliteConnectOptions,
    location: &str,
) -> Result<(SqlitePool, Vec<Applied>), StoreError> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    loop {
        let opened = match SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.clone())
            .await
        {
            Ok(pool) => migrate_sqlite(&pool, location).await.map(|a| (pool, a)),
            Err(source) => Err(StoreError::Db {
                location: location.to_owned(),
                source,
            }),
        };
        match opened {
            Err(e) if attempt < ATTEMPTS && e.is_busy() => {
                tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Brings a PostgreSQL schema up to date under ward's advisory lock, on a connection of
/// its own: several processes started at once on a new database would otherwise race to
/// create the same tables. The lock is the session's, so it goes with the connection
/// when this returns or fails, and with the process if it dies.
async fn migrate_pg(opts: &PgConnectOptions, location: &str) -> Result<Vec<Applied>, StoreError> {
    let db = |source| StoreError::Db {
        location: location.to_owned(),
        source,
    };
    let migrate = |source| StoreError::Migrate {
        location: location.to_owned(),
        source,
    };
    let mut conn = PgConnection::connect_with(opts).await.map_err(db)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(PG_MIGRATION_LOCK)
        .execute(&mut conn)
        .await
        .map_err(db)?;
    conn.ensure_migrations_table(MIGRATIONS_TABLE)
        .await
        .map_err(migrate)?;
    let before: HashSet<i64> = conn
        .list_applied_migrations(MIGRATIONS_TABLE)
        .await
        .map_err(migrate)?
        .iter()
        .map(|m| m.version)
        .collect();
    PG_MIGRATOR.run(&mut conn).await.map_err(migrate)?;
    // Closing ends the session, which releases the lock.
    conn.close().await.map_err(db)?;
    Ok(newly_applied(&PG_MIGRATOR, &before))
}

/// What [`Store::save_report`] (and each report of [`Store::save_reports`]) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The report was new and is now stored, under this row id.
    Stored(i64),
    /// The same report (same key, same content) was already stored; nothing was written.
    Duplicate,
    /// A report with the same key but fewer records was stored (a copy cut off, stored
    /// by an older ward, or a reporter's partial first copy); it is replaced by this one.
    Replaced {
        /// The new row id.
        id: i64,
        /// Records (or TLS policies) the replaced copy had.
        old_rows: u64,
        /// Records (or TLS policies) this one has.
        new_rows: u64,
    },
    /// A report with the same key, at least as many records and different content was
    /// already stored; it is kept, and this copy is not written.
    Differs {
        /// Records (or TLS policies) of the stored copy.
        stored_rows: u64,
        /// Records (or TLS policies) of this copy.
        new_rows: u64,
    },
}

/// A scan's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanId(pub i64);

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or queried.
    #[error("database {location}: {source}")]
    Db {
        /// The file or URL.
        location: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database {location}: migration failed: {source}")]
    Migrate {
        /// The file or URL.
        location: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// SQLite refused a write made with direct calls (storing mail reports).
    #[error("database {location}: {message} (SQLite result code {code})")]
    Sqlite {
        /// The file or URL.
        location: String,
        /// SQLite's result code.
        code: i32,
        /// SQLite's message.
        message: String,
    },
    /// `ward db copy` was pointed at a database that already holds data.
    #[error(
        "database {location} is not empty ({rows} rows in {table}): a copy goes into an empty database, or replaces what it holds"
    )]
    NotEmpty {
        /// The file or URL.
        location: String,
        /// The first table found with rows.
        table: &'static str,
        /// How many.
        rows: u64,
    },
    /// A stored value could not be read back (the file was edited by hand, or is from a
    /// newer ward).
    #[error("database {location}: stored {what} is unreadable: {detail}")]
    Corrupt {
        /// The file or URL.
        location: String,
        /// Which value.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

impl StoreError {
    /// Whether SQLite said the database is busy or locked (codes 5 and 6): another
    /// process holds it for now.
    fn is_busy(&self) -> bool {
        let busy = |e: &sqlx::Error| {
            e.as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "5" || c == "6")
        };
        match self {
            StoreError::Db { source, .. } => busy(source),
            StoreError::Migrate {
                source:
                    sqlx::migrate::MigrateError::Execute(e)
                    | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
                ..
            } => busy(e),
            _ => false,
        }
    }
}

/// A summary line of a stored scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanInfo {
    /// Its id.
    pub id: ScanId,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// Whether it ran to the end.
    pub complete: bool,
    /// How many assets it stored.
    pub assets: i64,
}

/// The store. Clone it freely: it is a handle to a connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// The location as printed in errors (no password).
    location: String,
}

/// The pool of one backend.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A count read back from the database (never negative).
pub(crate) fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Store::open_location(&Location::Sqlite(path.to_owned()))
            .await
            .map(|(s, _)| s)
    }

    /// Opens the store at `location` (see [`Location::parse`]: a `postgres://` URL, or
    /// the path of a SQLite file, created if missing) and brings its schema up to date.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_migrating(location).await.map(|(s, _)| s)
    }

    /// As [`Store::open`], and says which migrations it applied (none when the schema was
    /// up to date).
    pub async fn open_migrating(location: &str) -> Result<(Store, Vec<Applied>), StoreError> {
        Store::open_location(&Location::parse(location)).await
    }

    /// As [`Store::open_migrating`], for a location already read.
    pub async fn open_location(location: &Location) -> Result<(Store, Vec<Applied>), StoreError> {
        let shown = location.to_string();
        let db = |source| StoreError::Db {
            location: shown.clone(),
            source,
        };
        match location {
            Location::Sqlite(path) => {
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // In WAL mode NORMAL loses no committed transaction when ward is
                    // killed, only (at worst) the last few on a power cut, and saves an
                    // fsync per commit.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Other ward processes may be writing the same file (an ingester
                    // beside a scan, several started at once): wait for them rather than
                    // fail.
                    .busy_timeout(busy_timeout());
                let (pool, applied) = open_and_migrate_sqlite(opts, &shown).await?;
                Ok((
                    Store {
                        backend: Backend::Sqlite(pool),
                        location: shown,
                    },
                    applied,
                ))
            }
            Location::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url).map_err(db)?;
                // Connecting for the migration first also reports an unreachable server
                // or a missing database at once, where a pool would retry for its
                // acquire timeout.
                let applied = migrate_pg(&opts, &shown).await?;
                let pool = PgPoolOptions::new()
                    .max_connections(PG_CONNECTIONS)
                    .connect_lazy_with(opts);
                Ok((
                    Store {
                        backend: Backend::Postgres(pool),
                        location: shown,
                    },
                    applied,
                ))
            }
        }
    }

    /// The schema version this ward brings a store to (the same on both backends).
    pub fn schema_version() -> i64 {
        SQLITE_MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The location, as printed in messages (without a password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The backend's name: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn db(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |source| StoreError::Db {
            location: self.location.clone(),
            source,
        }
    }

    fn corrupt(&self, what: &'static str) -> impl Fn(String) -> StoreError + '_ {
        move |detail| StoreError::Corrupt {
            location: self.location.clone(),
            what,
            detail,
        }
    }

    /// Replaces the stored organisation tree with `orgs`.
    pub async fn save_organisations(&self, orgs: &[Organisation]) -> Result<(), StoreError> {
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            sqlx::query("DELETE FROM organisations")
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            for (i, o) in orgs.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO organisations (id, name, kind, size, parent, position) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&o.id)
                .bind(&o.name)
                .bind(o.kind.as_str())
                .bind(o.size.as_str())
                .bind(&o.parent)
                .bind(i as i64)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            }
            tx.commit().await.map_err(self.db())
        })
    }

    /// Records the start of a scan.
    pub async fn begin_scan(
        &self,
        started_at: OffsetDateTime,
        ward_version: &str,
    ) -> Result<ScanId, StoreError> {
        let id: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO scans (started_at, ward_version, state) VALUES ($1, $2, 'running') RETURNING id",
        )
        .bind(ts(started_at))
        .bind(ward_version)
        .fetch_one(pool)
        .await
        .map_err(self.db())?);
        Ok(ScanId(id))
    }

    /// Stores one asset's observation and findings, all or nothing.
    pub async fn save_asset(
        &self,
        scan: ScanId,
        position: usize,
        report: &AssetReport,
        observation: &AssetObservation,
    ) -> Result<(), StoreError> {
        let obs = serde_json::to_string(observation)
            .map_err(|e| self.corrupt("observation")(e.to_string()))?;
        let roles = serde_json::to_string(&report.roles)
            .map_err(|e| self.corrupt("roles")(e.to_string()))?;
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            insert_asset!(self, tx, scan, position, report, &obs, &roles)?;
            tx.commit().await.map_err(self.db())
        })
    }

    /// Marks a scan as run to the end.
    pub async fn finish_scan(
        &self,
        scan: ScanId,
        finished_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("UPDATE scans SET finished_at = $1, state = 'complete' WHERE id = $2")
            .bind(ts(finished_at))
            .bind(scan.0)
            .execute(pool)
            .await
            .map_err(self.db())
            .map(drop))?;
        Ok(())
    }

    /// Every stored scan, newest first.
    pub async fn scans(&self) -> Result<Vec<ScanInfo>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT s.id, s.started_at, s.state, (SELECT COUNT(*) FROM scan_assets a WHERE a.scan_id = s.id) \
             FROM scans s ORDER BY s.id DESC",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(|(id, started, state, assets)| {
                Ok(ScanInfo {
                    id: ScanId(id),
                    started_at: OffsetDateTime::parse(&started, &Rfc3339)
                        .map_err(|e| self.corrupt("scan time")(e.to_string()))?,
                    complete: state == "complete",
                    assets,
                })
            })
            .collect()
    }

    /// The newest complete scan, as the document `ward scan --format json` prints.
    pub async fn latest_report(&self) -> Result<Option<ScanReport>, StoreError> {
        match self.latest_complete_scan().await? {
            Some(id) => self.report(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// One domain's verdicts in its newest `limit` complete scans, newest first: (scan,
    /// when it started, and per check its status, severity and one line). For a
    /// domain's history page, without reading whole scans.
    pub async fn domain_history(
        &self,
        domain: &str,
        limit: u32,
    ) -> Result<Vec<DomainVerdicts>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT s.id, s.started_at, f.check_id, f.status, f.severity, f.summary \
             FROM findings f JOIN scans s ON s.id = f.scan_id \
             WHERE f.domain = $1 AND s.id IN ( \
               SELECT a.scan_id FROM scan_assets a JOIN scans t ON t.id = a.scan_id \
               WHERE a.domain = $1 AND t.state = 'complete' ORDER BY a.scan_id DESC LIMIT $2) \
             ORDER BY s.id DESC, f.position",
        )
        .bind(domain)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        let mut out: Vec<DomainVerdicts> = Vec::new();
        for (scan, started, check, status, severity, summary) in rows {
            if out.last().is_none_or(|v| v.scan.0 != scan) {
                out.push(DomainVerdicts {
                    scan: ScanId(scan),
                    started_at: OffsetDateTime::parse(&started, &Rfc3339)
                        .map_err(|e| self.corrupt("scan time")(e.to_string()))?,
                    verdicts: Vec::new(),
                });
            }
            if let Some(v) = out.last_mut() {
                v.verdicts.push((check, status, severity, summary));
            }
        }
        Ok(out)
    }

    /// The newest complete scan's id: one indexed row, for readers that keep the report
    /// and only need to know whether a newer one has arrived.
    pub async fn latest_complete_scan(&self) -> Result<Option<ScanId>, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM scans WHERE state = 'complete' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(id.map(ScanId))
    }

    /// One stored scan as a document.
    pub async fn report(&self, scan: ScanId) -> Result<ScanReport, StoreError> {
        type AssetRow = (String, String, String, String, Option<String>);
        type FindingRow = (String, String, String, String, String, String);
        let (head, assets, findings): ((String, String), Vec<AssetRow>, Vec<FindingRow>) = on_pool!(self, pool => {
            let head = sqlx::query_as("SELECT started_at, ward_version FROM scans WHERE id = $1")
                .bind(scan.0)
                .fetch_one(pool)
                .await
                .map_err(self.db())?;
            let assets = sqlx::query_as(
                "SELECT domain, organisation_id, organisation, roles, dmarc_phase FROM scan_assets \
                 WHERE scan_id = $1 ORDER BY position",
            )
            .bind(scan.0)
            .fetch_all(pool)
            .await
            .map_err(self.db())?;
            let findings = sqlx::query_as(
                "SELECT domain, check_id, status, severity, summary, evidence FROM findings \
                 WHERE scan_id = $1 ORDER BY domain, position",
            )
            .bind(scan.0)
            .fetch_all(pool)
            .await
            .map_err(self.db())?;
            (head, assets, findings)
        });
        let (started, ward_version) = head;
        let scanned_at = OffsetDateTime::parse(&started, &Rfc3339)
            .map_err(|e| self.corrupt("scan time")(e.to_string()))?;
        let mut by_domain: std::collections::HashMap<String, Vec<Finding>> =
            std::collections::HashMap::new();
        for (domain, check, status, severity, summary, evidence) in findings {
            let f = Finding {
                check: CheckId::parse(&check)
                    .ok_or_else(|| self.corrupt("check id")(format!("unknown check {check:?}")))?,
                status: serde_json::from_value(serde_json::Value::String(status))
                    .map_err(|e| self.corrupt("status")(e.to_string()))?,
                severity: Severity::from_str(&severity).map_err(self.corrupt("severity"))?,
                summary,
                evidence: serde_json::from_str(&evidence)
                    .map_err(|e| self.corrupt("evidence")(e.to_string()))?,
            };
            by_domain.entry(domain).or_default().push(f);
        }
        let mut out = Vec::with_capacity(assets.len());
        for (domain, organisation_id, organisation, roles, phase) in assets {
            let roles: Vec<Role> =
                serde_json::from_str(&roles).map_err(|e| self.corrupt("roles")(e.to_string()))?;
            let dmarc_phase =
                match phase {
                    Some(p) => Some(DmarcPhase::parse(&p).ok_or_else(|| {
                        self.corrupt("dmarc phase")(format!("unknown phase {p:?}"))
                    })?),
                    None => None,
                };
            out.push(AssetReport {
                dmarc_phase,
                findings: by_domain.remove(&domain).unwrap_or_default(),
                domain,
                organisation_id,
                organisation,
                roles,
            });
        }
        Ok(ScanReport {
            scanned_at,
            ward_version,
            warnings: ScanReport::warnings_for(&out),
            assets: out,
        })
    }

    /// The stored observation of one asset in one scan.
    pub async fn observation(
        &self,
        scan: ScanId,
        domain: &str,
    ) -> Result<Option<AssetObservation>, StoreError> {
        let text: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT observation FROM scan_assets WHERE scan_id = $1 AND domain = $2",
        )
        .bind(scan.0)
        .bind(domain)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        self.read_observation(text)
    }

    /// A stored observation's JSON, read back.
    fn read_observation(
        &self,
        text: Option<String>,
    ) -> Result<Option<AssetObservation>, StoreError> {
        text.map(|text| {
            serde_json::from_str(&text).map_err(|e| self.corrupt("observation")(e.to_string()))
        })
        .transpose()
    }

    /// The stored organisation tree (without assets; those belong to scans), in the order
    /// it was saved.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        type OrgRow = (String, String, String, String, Option<String>);
        let rows: Vec<OrgRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, kind, size, parent FROM organisations ORDER BY position, id",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        let word = |v: String| serde_json::Value::String(v);
        rows.into_iter()
            .map(|(id, name, kind, size, parent)| {
                Ok(Organisation {
                    id,
                    name,
                    kind: serde_json::from_value(word(kind))
                        .map_err(|e| self.corrupt("kind")(e.to_string()))?,
                    size: serde_json::from_value(word(size))
                        .map_err(|e| self.corrupt("size")(e.to_string()))?,
                    parent,
                    assets: Vec::new(),
                })
            })
            .collect()
    }

    /// Closes the pool (on SQLite, flushing the write-ahead log).
    pub async fn close(self) {
        match self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version N means the same schema on both backends: the same versions, the same names.
    #[test]
    fn both_backends_have_the_same_migrations() {
        let list = |m: &Migrator| -> Vec<(i64, String)> {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        assert_eq!(list(&SQLITE_MIGRATOR), list(&PG_MIGRATOR));
        assert_eq!(Store::schema_version(), 13);
    }
}
