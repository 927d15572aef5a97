//! Persistence for scans: organisations, raw observations and findings.
//!
//! Every query lives in this crate behind [`Store`], so that callers never see SQL and a
//! second backend (PostgreSQL) can be added without touching them. SQLite is the default:
//! one file, nothing to install.
//!
//! Each asset of a scan is stored in one transaction, so an interrupted scan leaves
//! whole assets behind, never half of one, and the scan stays marked `running`.

mod raw;
#[macro_use]
mod reports;
mod stream;

pub use reports::{ReportFilter, Saved, StoredReport};
pub use stream::ReportStream;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, migrate::Migrator};
use std::path::Path;
use std::str::FromStr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ward_model::observe::AssetObservation;
use ward_model::{
    AssetReport, CheckId, DmarcPhase, Finding, Organisation, Role, ScanReport, Severity,
};

mod assessments;
pub use assessments::StoredAssessment;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for another process's write lock before it gives up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Transactions that write take the write lock at once: a deferred one that read first
/// could not wait for another writer and would fail with SQLITE_BUSY.
const WRITE: &str = "BEGIN IMMEDIATE";

/// Brings the schema up to date inside one exclusive transaction. Several ward processes
/// started at once on a new file would otherwise each find no migration applied and each
/// create the tables, and all but one fail. `BEGIN EXCLUSIVE` makes the others wait (the
/// connection's busy timeout) and then find everything applied; sqlx runs each migration
/// in a savepoint of this transaction.
async fn migrate(pool: &SqlitePool, location: &str) -> Result<(), StoreError> {
    let db = |source| StoreError::Db {
        location: location.to_owned(),
        source,
    };
    let mut tx = pool.begin_with("BEGIN EXCLUSIVE").await.map_err(db)?;
    MIGRATOR
        .run(&mut *tx)
        .await
        .map_err(|source| StoreError::Migrate {
            location: location.to_owned(),
            source,
        })?;
    tx.commit().await.map_err(db)
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
    pool: SqlitePool,
    location: String,
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let location = path.display().to_string();
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses no committed transaction when ward is killed, only
            // (at worst) the last few on a power cut, and saves an fsync per commit.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Other ward processes may be writing the same file (an ingester beside a
            // scan, several started at once): wait for them rather than fail.
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Db {
                location: location.clone(),
                source,
            })?;
        migrate(&pool, &location).await?;
        Ok(Store { pool, location })
    }

    /// Opens a database by URL (`sqlite://path`), or a plain path to a SQLite file.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        let path = location.strip_prefix("sqlite://").unwrap_or(location);
        Store::open_sqlite(Path::new(path)).await
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
        let mut tx = self.pool.begin_with(WRITE).await.map_err(self.db())?;
        sqlx::query("DELETE FROM organisations")
            .execute(&mut *tx)
            .await
            .map_err(self.db())?;
        for o in orgs {
            sqlx::query(
                "INSERT INTO organisations (id, name, kind, size, parent) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&o.id)
            .bind(&o.name)
            .bind(o.kind.as_str())
            .bind(o.size.as_str())
            .bind(&o.parent)
            .execute(&mut *tx)
            .await
            .map_err(self.db())?;
        }
        tx.commit().await.map_err(self.db())
    }

    /// Records the start of a scan.
    pub async fn begin_scan(
        &self,
        started_at: OffsetDateTime,
        ward_version: &str,
    ) -> Result<ScanId, StoreError> {
        let row = sqlx::query("INSERT INTO scans (started_at, ward_version, state) VALUES (?, ?, 'running') RETURNING id")
            .bind(ts(started_at))
            .bind(ward_version)
            .fetch_one(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(ScanId(row.get(0)))
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
        let mut tx = self.pool.begin_with(WRITE).await.map_err(self.db())?;
        sqlx::query(
            "INSERT INTO scan_assets (scan_id, domain, position, organisation_id, organisation, roles, observation, dmarc_phase) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(scan.0)
        .bind(&report.domain)
        .bind(position as i64)
        .bind(&report.organisation_id)
        .bind(&report.organisation)
        .bind(roles)
        .bind(obs)
        .bind(report.dmarc_phase.map(DmarcPhase::as_str))
        .execute(&mut *tx)
        .await
        .map_err(self.db())?;
        for (i, f) in report.findings.iter().enumerate() {
            sqlx::query(
                "INSERT INTO findings (scan_id, domain, position, check_id, status, severity, summary, evidence) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(scan.0)
            .bind(&report.domain)
            .bind(i as i64)
            .bind(f.check.as_str())
            .bind(f.status.as_str())
            .bind(f.severity.as_str())
            .bind(&f.summary)
            .bind(f.evidence.to_string())
            .execute(&mut *tx)
            .await
            .map_err(self.db())?;
        }
        tx.commit().await.map_err(self.db())
    }

    /// Marks a scan as run to the end.
    pub async fn finish_scan(
        &self,
        scan: ScanId,
        finished_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE scans SET finished_at = ?, state = 'complete' WHERE id = ?")
            .bind(ts(finished_at))
            .bind(scan.0)
            .execute(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(())
    }

    /// Every stored scan, newest first.
    pub async fn scans(&self) -> Result<Vec<ScanInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.started_at, s.state, (SELECT COUNT(*) FROM scan_assets a WHERE a.scan_id = s.id) \
             FROM scans s ORDER BY s.id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        rows.iter()
            .map(|r| {
                let started: String = r.get(1);
                let state: String = r.get(2);
                Ok(ScanInfo {
                    id: ScanId(r.get(0)),
                    started_at: OffsetDateTime::parse(&started, &Rfc3339)
                        .map_err(|e| self.corrupt("scan time")(e.to_string()))?,
                    complete: state == "complete",
                    assets: r.get(3),
                })
            })
            .collect()
    }

    /// The newest complete scan, as the document `ward scan --format json` prints.
    pub async fn latest_report(&self) -> Result<Option<ScanReport>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM scans WHERE state = 'complete' ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(self.db())?;
        match row {
            Some(r) => self.report(ScanId(r.get(0))).await.map(Some),
            None => Ok(None),
        }
    }

    /// One stored scan as a document.
    pub async fn report(&self, scan: ScanId) -> Result<ScanReport, StoreError> {
        let head = sqlx::query("SELECT started_at, ward_version FROM scans WHERE id = ?")
            .bind(scan.0)
            .fetch_one(&self.pool)
            .await
            .map_err(self.db())?;
        let started: String = head.get(0);
        let scanned_at = OffsetDateTime::parse(&started, &Rfc3339)
            .map_err(|e| self.corrupt("scan time")(e.to_string()))?;
        let assets = sqlx::query(
            "SELECT domain, organisation_id, organisation, roles, dmarc_phase FROM scan_assets WHERE scan_id = ? ORDER BY position",
        )
        .bind(scan.0)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        let findings = sqlx::query(
            "SELECT domain, check_id, status, severity, summary, evidence FROM findings WHERE scan_id = ? \
             ORDER BY domain, position",
        )
        .bind(scan.0)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db())?;
        let mut by_domain: std::collections::HashMap<String, Vec<Finding>> =
            std::collections::HashMap::new();
        for r in &findings {
            let domain: String = r.get(0);
            let status: String = r.get(2);
            let severity: String = r.get(3);
            let evidence: String = r.get(5);
            let check: String = r.get(1);
            let f = Finding {
                check: CheckId::parse(&check)
                    .ok_or_else(|| self.corrupt("check id")(format!("unknown check {check:?}")))?,
                status: serde_json::from_value(serde_json::Value::String(status))
                    .map_err(|e| self.corrupt("status")(e.to_string()))?,
                severity: Severity::from_str(&severity).map_err(self.corrupt("severity"))?,
                summary: r.get(4),
                evidence: serde_json::from_str(&evidence)
                    .map_err(|e| self.corrupt("evidence")(e.to_string()))?,
            };
            by_domain.entry(domain).or_default().push(f);
        }
        let mut out = Vec::with_capacity(assets.len());
        for r in &assets {
            let domain: String = r.get(0);
            let roles: String = r.get(3);
            let roles: Vec<Role> =
                serde_json::from_str(&roles).map_err(|e| self.corrupt("roles")(e.to_string()))?;
            let phase: Option<String> = r.get(4);
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
                organisation_id: r.get(1),
                organisation: r.get(2),
                roles,
            });
        }
        Ok(ScanReport {
            scanned_at,
            ward_version: head.get(1),
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
        let row =
            sqlx::query("SELECT observation FROM scan_assets WHERE scan_id = ? AND domain = ?")
                .bind(scan.0)
                .bind(domain)
                .fetch_optional(&self.pool)
                .await
                .map_err(self.db())?;
        row.map(|r| {
            let text: String = r.get(0);
            serde_json::from_str(&text).map_err(|e| self.corrupt("observation")(e.to_string()))
        })
        .transpose()
    }

    /// The stored organisation tree (without assets; those belong to scans).
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, kind, size, parent FROM organisations ORDER BY rowid")
                .fetch_all(&self.pool)
                .await
                .map_err(self.db())?;
        let word = |v: String| serde_json::Value::String(v);
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: r.get(0),
                    name: r.get(1),
                    kind: serde_json::from_value(word(r.get(2)))
                        .map_err(|e| self.corrupt("kind")(e.to_string()))?,
                    size: serde_json::from_value(word(r.get(3)))
                        .map_err(|e| self.corrupt("size")(e.to_string()))?,
                    parent: r.get(4),
                    assets: Vec::new(),
                })
            })
            .collect()
    }

    /// Closes the pool, flushing the write-ahead log.
    pub async fn close(self) {
        self.pool.close().await;
    }
}
