//! A report stored in parts: the records of a report too large to hold in memory are
//! written as they are read, inside one transaction that is committed only when the
//! report has been read to its end. So a report cut off half-way leaves nothing behind,
//! and memory does not grow with the report.
//!
//! The parts go in under a placeholder id; at the end the report takes its real key.
//! Only then is it compared with a stored copy of the same key, as a report stored
//! whole is (see `write_report`): the same content is a duplicate, more records replace
//! the stored copy, anything else is named and not kept.

use sqlx::Sqlite;
use sqlx::pool::PoolConnection;
use time::OffsetDateTime;
use ward_model::report_rows::{Digest, RECORD_COLS, ReportRows};

use crate::raw::{Db, SqliteError, Value as RawValue};
use crate::reports::{
    BEGIN, COMMIT, DELETE_REPORT, HAS_DIGEST, INSERT_RECORD, INSERT_REPORT, ROLLBACK, SAME_CONTENT,
    STORED_ROWS, insert_rows, uint, value,
};
use crate::{Saved, Store, StoreError, ts};

/// The report id its parts are written under until it is complete. No stored report can
/// have it (a control character), and only one writer holds the write lock at a time.
const PLACEHOLDER_ID: &str = "\u{1}incoming";

/// Gives the report its own id, final document and digests once it is complete.
const SET_KEY: &str = "UPDATE reports SET report_id = ?, document = ?, digest = ?, \
     file_digest = ? WHERE id = ?";

/// Column of the report id, and of the document, in a report's own row.
const REPORT_ID_COL: usize = 3;
const DOCUMENT_COL: usize = ward_model::report_rows::REPORT_COLS - 1;

/// A report being written in parts ([`Store::begin_report`]). Its transaction holds the
/// database's write lock until [`ReportStream::finish`] or [`ReportStream::abort`]; if it
/// is dropped unfinished, its connection is closed, which rolls the transaction back.
pub struct ReportStream {
    conn: Option<PoolConnection<Sqlite>>,
    location: String,
    ingested_at: String,
    id: i64,
    digest: Digest,
    rows: u64,
}

impl Store {
    /// Opens a report to be written in parts: its own row and first records (`head`,
    /// from the parser's first part). Nothing is visible to anyone until it is finished.
    pub async fn begin_report(
        &self,
        head: &ReportRows,
        ingested_at: OffsetDateTime,
    ) -> Result<ReportStream, StoreError> {
        let mut stream = ReportStream {
            conn: Some(self.pool.acquire().await.map_err(self.db())?),
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
        let Some(conn) = self.conn.as_mut() else {
            return Err(StoreError::Corrupt {
                location: location.clone(),
                what: "report stream",
                detail: "written to after it ended".into(),
            });
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

    /// Writes more records of the report (rows with no row of the report's own).
    pub async fn add(&mut self, more: &ReportRows) -> Result<(), StoreError> {
        let (id, ingested_at) = (self.id, self.ingested_at.clone());
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
        self.with_db(|db| db.exec(ROLLBACK)).await?;
        self.conn = None;
        Ok(())
    }
}

impl Drop for ReportStream {
    fn drop(&mut self) {
        // Unfinished: closing the connection rolls its transaction back; returned to the
        // pool, it would hand the next user an open transaction.
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
    }
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
        let found = sqlx::query_scalar::<_, i64>(concat!(
            "SELECT 1 FROM reports WHERE ",
            report_key!(),
            " AND file_digest = ?"
        ))
        .bind(kind)
        .bind(reporter_org)
        .bind(reporter_email)
        .bind(report_id)
        .bind(begin)
        .bind(end)
        .bind(file_digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.db())?;
        Ok(found.is_some())
    }
}
