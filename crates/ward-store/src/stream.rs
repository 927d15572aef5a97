//! A report stored in parts: the records of a report too large to hold in memory are
//! written as they are read, inside one transaction that is committed only when the
//! report has been read to its end. So a report cut off half-way leaves nothing behind,
//! and memory does not grow with the report.
//!
//! The parts go in under a placeholder id; at the end the report takes its real key.
//! Only then is it compared with a stored copy of the same key, as a report stored
//! whole is (see `write_report`): the same content is a duplicate, more records replace
//! the stored copy, anything else is named and not kept.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite, Transaction};
use time::OffsetDateTime;
use ward_model::report_rows::{Digest, RECORD_COLS, ReportRows};

use crate::pg::{self, Cell, WriteError};
use crate::schema::{AGGREGATE_RECORDS, REPORTS, Ty};
use crate::{Backend, pg::Stored};

use crate::raw::{Db, SqliteError, Value as RawValue};
use crate::reports::{
    BEGIN, COMMIT, DELETE_REPORT, HAS_DIGEST, INSERT_RECORD, INSERT_REPORT, ROLLBACK, SAME_CONTENT,
    STORED_ROWS, insert_rows, value,
};
use crate::{Saved, Store, StoreError, ts, uint};

/// The report id its parts are written under until it is complete. No stored report can
/// have it (a control character). On SQLite only one writer holds the write lock at a
/// time; on PostgreSQL a second stream of a report with the same key waits on the first
/// one's uncommitted row.
const PLACEHOLDER_ID: &str = "\u{1}incoming";

/// Gives the report its own id, final document and digests once it is complete.
const SET_KEY: &str = "UPDATE reports SET report_id = ?, document = ?, digest = ?, \
     file_digest = ? WHERE id = ?";

/// Column of the report id, and of the document, in a report's own row.
const REPORT_ID_COL: usize = 3;
const DOCUMENT_COL: usize = ward_model::report_rows::REPORT_COLS - 1;

/// A report being written in parts ([`Store::begin_report`]). Its transaction holds the
/// database's write lock (on SQLite) until [`ReportStream::finish`] or
/// [`ReportStream::abort`]; if it is dropped unfinished, its transaction is rolled back.
pub struct ReportStream {
    conn: Option<Conn>,
    location: String,
    ingested_at: String,
    id: i64,
    digest: Digest,
    rows: u64,
}

/// The stream's connection: on SQLite a connection in a transaction opened by direct
/// calls (`raw.rs`), on PostgreSQL a sqlx transaction.
enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Statement of `finish` on PostgreSQL (see `SET_KEY`).
const PG_SET_KEY: &str = "UPDATE reports SET report_id = $1, document = $2, digest = $3, \
     file_digest = $4 WHERE id = $5";

impl Store {
    /// Opens a report to be written in parts: its own row and first records (`head`,
    /// from the parser's first part). Nothing is visible to anyone until it is finished.
    pub async fn begin_report(
        &self,
        head: &ReportRows,
        ingested_at: OffsetDateTime,
    ) -> Result<ReportStream, StoreError> {
        let pool = match &self.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(pool) => return self.begin_report_pg(pool, head, ingested_at).await,
        };
        let mut stream = ReportStream {
            conn: Some(Conn::Sqlite(pool.acquire().await.map_err(self.db())?)),
            location: self.location.clone(),
            ingested_at: ts(ingested_at),
            id: 0,
            digest: Digest::default(),
            rows: 0,
        };
        let ingested_at = stream.ingested_at.clone();
        stream
            .with_db(|db| {
                db.exec(BEGIN)?;
                let mut insert = db.prepare(INSERT_REPORT)?;
                let own = head.report.iter().enumerate().map(|(i, c)| {
                    if i == REPORT_ID_COL {
                        RawValue::Text(Some(PLACEHOLDER_ID))
                    } else {
                        value(head, *c, 0, &ingested_at)
                    }
                });
                let id = insert
                    .run_with(own.chain([RawValue::Text(None), RawValue::Text(None)]))?
                    .ok_or_else(|| SqliteError {
                        code: 0,
                        message: "another report is being stored in parts".into(),
                    })?;
                let mut record = db.prepare(INSERT_RECORD)?;
                insert_rows(
                    head,
                    &mut record,
                    &head.records,
                    RECORD_COLS,
                    id,
                    &ingested_at,
                )?;
                Ok(id)
            })
            .await
            .map(|id| {
                stream.id = id;
                stream.digest.own_row(head);
                stream.digest.rows(head);
                stream.rows = head.rows() as u64;
                stream
            })
    }
}

impl Store {
    async fn begin_report_pg(
        &self,
        pool: &sqlx::PgPool,
        head: &ReportRows,
        ingested_at: OffsetDateTime,
    ) -> Result<ReportStream, StoreError> {
        let ingested_at = ts(ingested_at);
        let mut tx = pool.begin().await.map_err(self.db())?;
        let written: Result<i64, WriteError> = async {
            let mut own = pg::own_row(head, &ingested_at)?;
            if let Some(c) = own.get_mut(REPORT_ID_COL) {
                *c = Cell::Text(Some(PLACEHOLDER_ID));
            }
            let id = pg::insert_own(&mut tx, &own, None, None)
                .await?
                .ok_or_else(|| {
                    WriteError::Rows("another report is being stored in parts".into())
                })?;
            pg::insert_rows(
                &mut tx,
                &pg::INSERT_RECORDS,
                &AGGREGATE_RECORDS,
                head,
                &head.records,
                id,
                &ingested_at,
            )
            .await?;
            Ok(id)
        }
        .await;
        // On an error the transaction is dropped, which rolls it back.
        let id = written.map_err(|e| self.write_error(e))?;
        let mut digest = Digest::default();
        digest.own_row(head);
        digest.rows(head);
        Ok(ReportStream {
            conn: Some(Conn::Postgres(tx)),
            location: self.location.clone(),
            ingested_at,
            id,
            digest,
            rows: head.rows() as u64,
        })
    }
}

impl ReportStream {
    /// Runs `f` on the connection, synchronously; on an error the transaction is rolled
    /// back and the stream is closed.
    async fn with_db<T>(
        &mut self,
        f: impl FnOnce(&Db<'_>) -> Result<T, SqliteError>,
    ) -> Result<T, StoreError> {
        let location = self.location.clone();
        let db_error = |source| StoreError::Db {
            location: location.clone(),
            source,
        };
        let Some(Conn::Sqlite(conn)) = self.conn.as_mut() else {
            return Err(self.ended());
        };
        let mut lock = conn.lock_handle().await.map_err(db_error)?;
        let db = Db::new(&mut lock);
        match f(&db) {
            Ok(v) => Ok(v),
            Err(e) => {
                let _ = db.exec(ROLLBACK);
                drop(lock);
                self.conn = None;
                Err(StoreError::Sqlite {
                    location,
                    code: e.code,
                    message: e.message,
                })
            }
        }
    }

    /// The PostgreSQL transaction, taken out of the stream; a SQLite connection stays.
    fn take_pg(&mut self) -> Option<Conn> {
        match self.conn {
            Some(Conn::Postgres(_)) => self.conn.take(),
            _ => None,
        }
    }

    fn ended(&self) -> StoreError {
        StoreError::Corrupt {
            location: self.location.clone(),
            what: "report stream",
            detail: "written to after it ended".into(),
        }
    }

    fn pg_error(&self, e: WriteError) -> StoreError {
        match e {
            WriteError::Db(source) => StoreError::Db {
                location: self.location.clone(),
                source,
            },
            WriteError::Rows(detail) => StoreError::Corrupt {
                location: self.location.clone(),
                what: "report rows",
                detail,
            },
        }
    }

    /// Writes more records of the report (rows with no row of the report's own).
    pub async fn add(&mut self, more: &ReportRows) -> Result<(), StoreError> {
        let (id, ingested_at) = (self.id, self.ingested_at.clone());
        if let Some(Conn::Postgres(tx)) = self.conn.as_mut() {
            let written = pg::insert_rows(
                tx,
                &pg::INSERT_RECORDS,
                &AGGREGATE_RECORDS,
                more,
                &more.records,
                id,
                &ingested_at,
            )
            .await;
            if let Err(e) = written {
                // Dropping the transaction rolls it back.
                self.conn = None;
                return Err(self.pg_error(e));
            }
            self.digest.rows(more);
            self.rows += more.rows() as u64;
            return Ok(());
        }
        self.with_db(|db| {
            let mut record = db.prepare(INSERT_RECORD)?;
            insert_rows(
                more,
                &mut record,
                &more.records,
                RECORD_COLS,
                id,
                &ingested_at,
            )
        })
        .await?;
        self.digest.rows(more);
        self.rows += more.rows() as u64;
        Ok(())
    }

    /// The report was read to its end: `end` holds its own row with the final document.
    /// It is kept, or not, by the same rule as a report stored whole.
    pub async fn finish(mut self, end: &ReportRows) -> Result<Saved, StoreError> {
        self.digest.document(end);
        let digest = self.digest.finish();
        let (id, rows, ingested_at) = (self.id, self.rows, self.ingested_at.clone());
        if let Some(Conn::Postgres(tx)) = self.take_pg() {
            return finish_pg(tx, end, &digest, id, rows, &ingested_at)
                .await
                .map_err(|e| self.pg_error(e));
        }
        let saved = self
            .with_db(|db| {
                let key = || {
                    end.report
                        .iter()
                        .take(6)
                        .map(|c| value(end, *c, 0, &ingested_at))
                };
                let same = key().chain([RawValue::Text(Some(&digest))]);
                if db.prepare(SAME_CONTENT)?.run_with(same)?.is_some() {
                    db.exec(ROLLBACK)?;
                    return Ok(Saved::Duplicate);
                }
                let mut replaced = None;
                if let Some(stored) = db.prepare(STORED_ROWS)?.run_with(key())? {
                    let stored_rows = uint(stored);
                    if rows <= stored_rows {
                        let has_digest = db.prepare(HAS_DIGEST)?.run_with(key())? == Some(1);
                        db.exec(ROLLBACK)?;
                        return Ok(if has_digest {
                            Saved::Differs {
                                stored_rows,
                                new_rows: rows,
                            }
                        } else {
                            Saved::Duplicate
                        });
                    }
                    db.prepare(DELETE_REPORT)?.run_with(key())?;
                    replaced = Some(stored_rows);
                }
                let col = |i: usize| {
                    end.report
                        .get(i)
                        .map_or(RawValue::Text(None), |c| value(end, *c, 0, &ingested_at))
                };
                db.prepare(SET_KEY)?.run_with([
                    col(REPORT_ID_COL),
                    col(DOCUMENT_COL),
                    RawValue::Text(Some(&digest)),
                    RawValue::Text(end.file_digest.as_deref()),
                    RawValue::Int(id),
                ])?;
                db.exec(COMMIT)?;
                Ok(match replaced {
                    Some(old_rows) => Saved::Replaced {
                        id,
                        old_rows,
                        new_rows: rows,
                    },
                    None => Saved::Stored(id),
                })
            })
            .await?;
        // The transaction is over either way; the connection goes back to the pool.
        self.conn = None;
        Ok(saved)
    }

    /// The report turned out not to be one (cut off, malformed): nothing of it is kept.
    pub async fn abort(mut self) -> Result<(), StoreError> {
        if let Some(Conn::Postgres(tx)) = self.take_pg() {
            return tx
                .rollback()
                .await
                .map_err(|e| self.pg_error(WriteError::Db(e)));
        }
        self.with_db(|db| db.exec(ROLLBACK)).await?;
        self.conn = None;
        Ok(())
    }
}

impl Drop for ReportStream {
    fn drop(&mut self) {
        // Unfinished: closing the connection rolls its transaction back; returned to the
        // pool, it would hand the next user an open transaction.
        // (A PostgreSQL transaction rolls itself back when dropped.)
        if let Some(Conn::Sqlite(conn)) = self.conn.as_mut() {
            conn.close_on_drop();
        }
    }
}

/// `ReportStream::finish` on PostgreSQL: the same rule, in the stream's transaction.
async fn finish_pg(
    mut tx: Transaction<'static, Postgres>,
    end: &ReportRows,
    digest: &str,
    id: i64,
    rows: u64,
    ingested_at: &str,
) -> Result<Saved, WriteError> {
    let own = pg::own_row(end, ingested_at)?;
    let replaced = match pg::judge_second_copy(&mut tx, &own, digest, rows).await? {
        Stored::Kept(saved) => {
            tx.rollback().await?;
            return Ok(saved);
        }
        Stored::Nothing => None,
        Stored::Shorter { old_rows } => Some(old_rows),
    };
    let text = |i: usize| -> Result<Option<&str>, WriteError> {
        match end.report.get(i) {
            Some(c) => match pg::cell(end, *c, Ty::Text, id, ingested_at, REPORTS.cols[i + 1].0)? {
                Cell::Text(t) => Ok(t),
                Cell::Int(_) => Ok(None),
            },
            None => Ok(None),
        }
    };
    sqlx::query(PG_SET_KEY)
        .bind(text(REPORT_ID_COL)?)
        .bind(text(DOCUMENT_COL)?)
        .bind(digest)
        .bind(end.file_digest.as_deref())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(match replaced {
        Some(old_rows) => Saved::Replaced {
            id,
            old_rows,
            new_rows: rows,
        },
        None => Saved::Stored(id),
    })
}

impl Store {
    /// True when the report with this key is stored and came whole from a file with this
    /// digest: the same file met again, which need not be read.
    #[allow(clippy::too_many_arguments)]
    pub async fn has_report_from_file(
        &self,
        kind: &str,
        reporter_org: &str,
        reporter_email: &str,
        report_id: &str,
        begin: i64,
        end: i64,
        file_digest: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM reports WHERE kind = $1 AND reporter_org = $2 AND reporter_email = $3 \
             AND report_id = $4 AND begin_ts = $5 AND end_ts = $6 AND file_digest = $7",
        )
        .bind(kind)
        .bind(reporter_org)
        .bind(reporter_email)
        .bind(report_id)
        .bind(begin)
        .bind(end)
        .bind(file_digest)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(found.is_some())
    }
}
