//! Copying a whole store into another, between any two backends: how a party that grows
//! out of its SQLite file moves to PostgreSQL and keeps its history.
//!
//! Every table of `schema.rs` is copied row for row, ids included, in one transaction on
//! the target: a copy that fails leaves the target as it was. The source is read in one
//! read transaction, so a scan or an ingestion running meanwhile is either wholly in the
//! copy or not at all. Rows travel in chunks, so memory does not grow with the store.

use futures::TryStreamExt as _;
use sqlx::{AssertSqlSafe, Postgres, Row, Sqlite, Transaction};

use crate::schema::{TABLES, Table, Ty, WITH_IDS, pg_unnest_insert};
use crate::{Backend, Store, StoreError};

/// Rows sent to the target in one go.
const CHUNK: usize = 1000;

/// What [`Store::copy_into`] copied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    /// Rows copied per table, in the order copied.
    pub tables: Vec<TableRows>,
}

/// Rows of one table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableRows {
    /// The table.
    pub table: &'static str,
    /// Its rows.
    pub rows: u64,
}

/// One value of a row, of its column's kind.
#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// The row's values, read by the column kinds of `t`.
macro_rules! values {
    ($row:expr, $t:expr) => {{
        let row = $row;
        $t.types()
            .enumerate()
            .map(|(i, ty)| {
                Ok(match ty {
                    Ty::Int => Value::Int(row.try_get(i)?),
                    Ty::Text => Value::Text(row.try_get(i)?),
                })
            })
            .collect::<Result<Vec<Value>, sqlx::Error>>()
    }};
}

fn select(t: &Table) -> String {
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        t.names().collect::<Vec<_>>().join(", "),
        t.name,
        t.order
    )
}

/// The target's transaction.
enum Target {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Target {
    async fn count(&mut self, t: &Table) -> Result<i64, sqlx::Error> {
        let sql = format!("SELECT COUNT(*) FROM {}", t.name);
        match self {
            Target::Sqlite(tx) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&mut **tx)
                    .await
            }
            Target::Postgres(tx) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&mut **tx)
                    .await
            }
        }
    }

    async fn delete(&mut self, t: &Table) -> Result<(), sqlx::Error> {
        let sql = format!("DELETE FROM {}", t.name);
        match self {
            Target::Sqlite(tx) => {
                sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
            Target::Postgres(tx) => {
                sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    async fn insert(&mut self, t: &Table, rows: &[Vec<Value>]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            // One prepared statement per table, stepped per row: SQLite has no round
            // trip to save.
            Target::Sqlite(tx) => {
                let params: Vec<String> = (1..=t.cols.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    t.name,
                    t.names().collect::<Vec<_>>().join(", "),
                    params.join(", ")
                );
                for row in rows {
                    let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
                    for v in row {
                        q = match v {
                            Value::Int(v) => q.bind(*v),
                            Value::Text(v) => q.bind(v.as_deref()),
                        };
                    }
                    q.execute(&mut **tx).await?;
                }
            }
            // One statement per chunk: an array per column.
            Target::Postgres(tx) => {
                let sql = pg_unnest_insert(t, 0..t.cols.len());
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (i, ty) in t.types().enumerate() {
                    q = match ty {
                        Ty::Int => q.bind(
                            rows.iter()
                                .map(|r| match r.get(i) {
                                    Some(Value::Int(v)) => *v,
                                    _ => None,
                                })
                                .collect::<Vec<Option<i64>>>(),
                        ),
                        Ty::Text => q.bind(
                            rows.iter()
                                .map(|r| match r.get(i) {
                                    Some(Value::Text(v)) => v.clone(),
                                    _ => None,
                                })
                                .collect::<Vec<Option<String>>>(),
                        ),
                    };
                }
                q.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    /// Moves the id counters past the ids copied, so the next scan or report gets a new
    /// one. (SQLite's AUTOINCREMENT does this itself on insert.)
    async fn bump_ids(&mut self) -> Result<(), sqlx::Error> {
        if let Target::Postgres(tx) = self {
            for table in WITH_IDS {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Target::Sqlite(tx) => tx.commit().await,
            Target::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Store {
    /// Copies everything this store holds into `target`: organisations, scans with their
    /// assets and findings, mail reports with their rows, and assessments, keeping every
    /// id. `target` must be empty, unless `replace` is set: then what it held is deleted
    /// first, in the same transaction. Nothing is written to `target` unless all of it
    /// is copied.
    pub async fn copy_into(&self, target: &Store, replace: bool) -> Result<Copied, StoreError> {
        let tdb = target.db();
        let mut out = match &target.backend {
            Backend::Sqlite(pool) => {
                Target::Sqlite(pool.begin_with(crate::SQLITE_WRITE).await.map_err(&tdb)?)
            }
            Backend::Postgres(pool) => Target::Postgres(pool.begin().await.map_err(&tdb)?),
        };
        if replace {
            for t in TABLES.iter().rev() {
                out.delete(t).await.map_err(&tdb)?;
            }
        } else {
            for t in TABLES {
                let rows = out.count(t).await.map_err(&tdb)?;
                if rows > 0 {
                    return Err(StoreError::NotEmpty {
                        location: target.location.clone(),
                        table: t.name,
                        rows: u64::try_from(rows).unwrap_or(0),
                    });
                }
            }
        }
        let mut copied = Vec::with_capacity(TABLES.len());
        // The source in one snapshot: one read transaction.
        let sdb = self.db();
        let mut n;
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN").await.map_err(&sdb)?;
                for t in TABLES {
                    n = 0u64;
                    let sql = select(t);
                    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
                    let mut chunk = Vec::with_capacity(CHUNK);
                    while let Some(row) = rows.try_next().await.map_err(&sdb)? {
                        chunk.push(values!(&row, t).map_err(&sdb)?);
                        if chunk.len() == CHUNK {
                            out.insert(t, &chunk).await.map_err(&tdb)?;
                            n += chunk.len() as u64;
                            chunk.clear();
                        }
                    }
                    out.insert(t, &chunk).await.map_err(&tdb)?;
                    n += chunk.len() as u64;
                    copied.push(TableRows {
                        table: t.name,
                        rows: n,
                    });
                }
                drop(tx);
            }
            Backend::Postgres(pool) => {
                let mut tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(&sdb)?;
                for t in TABLES {
                    n = 0u64;
                    let sql = select(t);
                    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
                    let mut chunk = Vec::with_capacity(CHUNK);
                    while let Some(row) = rows.try_next().await.map_err(&sdb)? {
                        chunk.push(values!(&row, t).map_err(&sdb)?);
                        if chunk.len() == CHUNK {
                            out.insert(t, &chunk).await.map_err(&tdb)?;
                            n += chunk.len() as u64;
                            chunk.clear();
                        }
                    }
                    out.insert(t, &chunk).await.map_err(&tdb)?;
                    n += chunk.len() as u64;
                    copied.push(TableRows {
                        table: t.name,
                        rows: n,
                    });
                }
                drop(tx);
            }
        }
        out.bump_ids().await.map_err(&tdb)?;
        out.commit().await.map_err(&tdb)?;
        Ok(Copied { tables: copied })
    }

    /// The tables [`Store::copy_into`] copies, each with its columns in order.
    pub fn copied_tables() -> Vec<(&'static str, Vec<&'static str>)> {
        TABLES
            .iter()
            .map(|t| (t.name, t.names().collect()))
            .collect()
    }

    /// The tables of the schema and their columns, in order, as the database itself
    /// describes them (leaving out the migrations' bookkeeping), sorted by table name. A
    /// test compares it with [`Store::copied_tables`], so that a migration that adds a
    /// column to one and not the other is caught.
    pub async fn schema_tables(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let cols: Vec<(String, String)> = match &self.backend {
            Backend::Sqlite(pool) => sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name <> '_sqlx_migrations' ORDER BY m.name, c.cid",
            )
            .fetch_all(pool)
            .await
            .map_err(self.db())?,
            Backend::Postgres(pool) => sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                 ORDER BY table_name, ordinal_position",
            )
            .fetch_all(pool)
            .await
            .map_err(self.db())?,
        };
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (table, col) in cols {
            match out.last_mut() {
                Some((t, cs)) if *t == table => cs.push(col),
                _ => out.push((table, vec![col])),
            }
        }
        Ok(out)
    }
}
