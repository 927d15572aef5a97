//! The report writer on PostgreSQL: the counterpart of `raw.rs`, with the same rules.
//!
//! A report is stored whole or not at all (its own transaction, or a savepoint of its own
//! inside a batch's transaction), once per key, and a second copy is judged as on SQLite
//! (`reports.rs`, `write_report`): the same content is a duplicate, more rows replace the
//! stored copy, anything else is named and not kept.
//!
//! What differs is how rows travel: a round trip to the server costs more than SQLite's
//! statement step, so each table's rows of a report go in one statement, as one array per
//! column (`INSERT … SELECT * FROM UNNEST(…)`, see `schema::pg_unnest_insert`): four
//! statements per report whatever its size, each prepared once per connection. The
//! column types come from `schema.rs`; a value of the wrong kind for its column is
//! refused before anything is sent.

use std::sync::LazyLock;

use sqlx::postgres::{PgArguments, PgConnection, PgPool};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Postgres};
use ward_model::report_rows::{Col, REPORT_COLS, ReportRows};

use crate::schema::{self, AGGREGATE_RECORDS, REPORTS, TLS_FAILURES, TLS_POLICIES, Table, Ty};
use crate::{Saved, Store, StoreError, uint};

/// One value ready to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

/// Why a report could not be written: the database's error, or rows that do not fit.
pub(crate) enum WriteError {
    Db(sqlx::Error),
    Rows(String),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Db(e)
    }
}

impl Store {
    pub(crate) fn write_error(&self, e: WriteError) -> StoreError {
        match e {
            WriteError::Db(source) => self.db()(source),
            WriteError::Rows(detail) => self.corrupt("report rows")(detail),
        }
    }
}

/// The value of `c` for a column of kind `ty`.
pub(crate) fn cell<'a>(
    rows: &'a ReportRows,
    c: Col,
    ty: Ty,
    id: i64,
    ingested_at: &'a str,
    column: &str,
) -> Result<Cell<'a>, WriteError> {
    Ok(match (c, ty) {
        (Col::Int(n), Ty::Int) => Cell::Int(Some(n)),
        (Col::ReportId, Ty::Int) => Cell::Int(Some(id)),
        (Col::Null, Ty::Int) => Cell::Int(None),
        (Col::Null, Ty::Text) => Cell::Text(None),
        // Spans end on character boundaries; `get` would give NULL rather than panic.
        (Col::Text(a, b), Ty::Text) => Cell::Text(rows.text.get(a..b)),
        (Col::Static(s), Ty::Text) => Cell::Text(Some(s)),
        (Col::IngestedAt, Ty::Text) => Cell::Text(Some(ingested_at)),
        (c, ty) => {
            return Err(WriteError::Rows(format!(
                "{}: column {column} holds {ty:?} values, not {c:?}",
                rows.source
            )));
        }
    })
}

fn bind<'q>(q: Query<'q, Postgres, PgArguments>, c: Cell<'q>) -> Query<'q, Postgres, PgArguments> {
    match c {
        Cell::Int(v) => q.bind(v),
        Cell::Text(v) => q.bind(v),
    }
}

/// A report's own row (the columns after the id, before the digests).
pub(crate) fn own_row<'a>(
    e: &'a ReportRows,
    ingested_at: &'a str,
) -> Result<Vec<Cell<'a>>, WriteError> {
    e.report
        .iter()
        .zip(&REPORTS.cols[1..=REPORT_COLS])
        .map(|(c, (name, ty))| cell(e, *c, *ty, 0, ingested_at, name))
        .collect()
}

static INSERT_REPORT: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = REPORTS.names().skip(1).collect();
    let params: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO reports ({}) VALUES ({}) \
         ON CONFLICT (kind, reporter_org, reporter_email, report_id, begin_ts, end_ts) DO NOTHING \
         RETURNING id",
        names.join(", "),
        params.join(", ")
    )
});
pub(crate) static INSERT_RECORDS: LazyLock<String> =
    LazyLock::new(|| schema::pg_unnest_insert(&AGGREGATE_RECORDS, 0..AGGREGATE_RECORDS.cols.len()));
static INSERT_TLS_POLICIES: LazyLock<String> =
    LazyLock::new(|| schema::pg_unnest_insert(&TLS_POLICIES, 0..TLS_POLICIES.cols.len()));
static INSERT_TLS_FAILURES: LazyLock<String> =
    LazyLock::new(|| schema::pg_unnest_insert(&TLS_FAILURES, 0..TLS_FAILURES.cols.len()));

/// The key of a report: its first six columns.
const KEY: &str = "kind = $1 AND reporter_org = $2 AND reporter_email = $3 AND report_id = $4 \
                   AND begin_ts = $5 AND end_ts = $6";

static SAME_CONTENT: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT id FROM reports WHERE {KEY} AND digest IS NOT DISTINCT FROM $7")
});
static STORED_ROWS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT (SELECT COUNT(*) FROM aggregate_records a WHERE a.report = r.id) + \
         (SELECT COUNT(*) FROM tls_policies t WHERE t.report = r.id) FROM reports r WHERE {KEY}"
    )
});
static HAS_DIGEST: LazyLock<String> =
    LazyLock::new(|| format!("SELECT digest IS NOT NULL FROM reports WHERE {KEY}"));
static DELETE_REPORT: LazyLock<String> =
    LazyLock::new(|| format!("DELETE FROM reports WHERE {KEY}"));

/// The first six values of the report's own row, its key.
fn key<'a, 'o>(own: &'o [Cell<'a>]) -> impl Iterator<Item = Cell<'a>> + 'o {
    own.iter().take(6).copied()
}

fn keyed<'q>(sql: &'q str, own: &[Cell<'q>]) -> Query<'q, Postgres, PgArguments> {
    key(own).fold(sqlx::query(AssertSqlSafe(sql)), bind)
}

/// Inserts one table's rows of a report (`cols`, `t.cols.len()` values a row) as one
/// statement of arrays.
pub(crate) async fn insert_rows(
    conn: &mut PgConnection,
    sql: &str,
    t: &Table,
    e: &ReportRows,
    cols: &[Col],
    id: i64,
    ingested_at: &str,
) -> Result<(), WriteError> {
    let width = t.cols.len();
    if cols.is_empty() {
        return Ok(());
    }
    let n = cols.len() / width;
    let mut ints: Vec<Vec<Option<i64>>> = Vec::new();
    let mut texts: Vec<Vec<Option<&str>>> = Vec::new();
    // Where each column's array is: (is_int, index into ints or texts).
    let mut slot = Vec::with_capacity(width);
    for ty in t.types() {
        match ty {
            Ty::Int => {
                slot.push((true, ints.len()));
                ints.push(Vec::with_capacity(n));
            }
            Ty::Text => {
                slot.push((false, texts.len()));
                texts.push(Vec::with_capacity(n));
            }
        }
    }
    for row in cols.chunks_exact(width) {
        for (i, c) in row.iter().enumerate() {
            let (name, ty) = t.cols[i];
            match (cell(e, *c, ty, id, ingested_at, name)?, slot[i]) {
                (Cell::Int(v), (true, j)) => ints[j].push(v),
                (Cell::Text(v), (false, j)) => texts[j].push(v),
                // `cell` returns the kind it was asked for.
                _ => return Err(WriteError::Rows(format!("{name}: mixed kinds"))),
            }
        }
    }
    let mut q = sqlx::query(AssertSqlSafe(sql));
    let mut ints = ints.into_iter();
    let mut texts = texts.into_iter();
    for (is_int, _) in slot {
        q = if is_int {
            q.bind(ints.next().unwrap_or_default())
        } else {
            q.bind(texts.next().unwrap_or_default())
        };
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Inserts a report's own row with these digests; `None` when its key is taken.
pub(crate) async fn insert_own(
    conn: &mut PgConnection,
    own: &[Cell<'_>],
    digest: Option<&str>,
    file_digest: Option<&str>,
) -> Result<Option<i64>, WriteError> {
    let q = own
        .iter()
        .copied()
        .chain([Cell::Text(digest), Cell::Text(file_digest)])
        .fold(
            sqlx::query_scalar(AssertSqlSafe(INSERT_REPORT.as_str())),
            |q, c| match c {
                Cell::Int(v) => q.bind(v),
                Cell::Text(v) => q.bind(v),
            },
        );
    Ok(q.fetch_optional(&mut *conn).await?)
}

/// Inserts the report's own row and then its rows; `None` when its key is taken (then
/// nothing was written).
async fn insert_report(
    conn: &mut PgConnection,
    e: &ReportRows,
    own: &[Cell<'_>],
    ingested_at: &str,
    digest: &str,
) -> Result<Option<i64>, WriteError> {
    let Some(id) = insert_own(conn, own, Some(digest), e.file_digest.as_deref()).await? else {
        return Ok(None);
    };
    insert_all_rows(conn, e, id, ingested_at).await?;
    Ok(Some(id))
}

/// A report's aggregate records, TLS policies and TLS failures.
pub(crate) async fn insert_all_rows(
    conn: &mut PgConnection,
    e: &ReportRows,
    id: i64,
    ingested_at: &str,
) -> Result<(), WriteError> {
    insert_rows(
        conn,
        &INSERT_RECORDS,
        &AGGREGATE_RECORDS,
        e,
        &e.records,
        id,
        ingested_at,
    )
    .await?;
    insert_rows(
        conn,
        &INSERT_TLS_POLICIES,
        &TLS_POLICIES,
        e,
        &e.tls_policies,
        id,
        ingested_at,
    )
    .await?;
    insert_rows(
        conn,
        &INSERT_TLS_FAILURES,
        &TLS_FAILURES,
        e,
        &e.tls_failures,
        id,
        ingested_at,
    )
    .await
}

/// What a complete report meets under its key.
pub(crate) enum Stored {
    /// Nothing: store it.
    Nothing,
    /// A shorter copy, now deleted: store this one in its place.
    Shorter { old_rows: u64 },
    /// The same report, or one to keep: write nothing, say this.
    Kept(Saved),
}

/// Compares a complete report with what is stored under its key, by the rule of
/// `write_report` in `reports.rs`, and deletes a shorter stored copy.
pub(crate) async fn judge_second_copy(
    conn: &mut PgConnection,
    own: &[Cell<'_>],
    digest: &str,
    new_rows: u64,
) -> Result<Stored, WriteError> {
    let same = keyed(&SAME_CONTENT, own)
        .bind(digest)
        .fetch_optional(&mut *conn)
        .await?;
    if same.is_some() {
        return Ok(Stored::Kept(Saved::Duplicate));
    }
    let stored: Option<i64> = key(own)
        .fold(
            sqlx::query_scalar(AssertSqlSafe(STORED_ROWS.as_str())),
            |q, c| match c {
                Cell::Int(v) => q.bind(v),
                Cell::Text(v) => q.bind(v),
            },
        )
        .fetch_optional(&mut *conn)
        .await?;
    let Some(stored) = stored else {
        return Ok(Stored::Nothing);
    };
    let stored_rows = uint(stored);
    if new_rows <= stored_rows {
        let has_digest: bool = key(own)
            .fold(
                sqlx::query_scalar(AssertSqlSafe(HAS_DIGEST.as_str())),
                |q, c| match c {
                    Cell::Int(v) => q.bind(v),
                    Cell::Text(v) => q.bind(v),
                },
            )
            .fetch_one(&mut *conn)
            .await?;
        return Ok(Stored::Kept(if has_digest {
            Saved::Differs {
                stored_rows,
                new_rows,
            }
        } else {
            Saved::Duplicate
        }));
    }
    keyed(&DELETE_REPORT, own).execute(&mut *conn).await?;
    Ok(Stored::Shorter {
        old_rows: stored_rows,
    })
}

/// Writes one report in the transaction the caller opened.
async fn write_report(
    conn: &mut PgConnection,
    e: &ReportRows,
    ingested_at: &str,
) -> Result<Saved, WriteError> {
    let digest = e.digest();
    let own = own_row(e, ingested_at)?;
    if let Some(id) = insert_report(conn, e, &own, ingested_at, &digest).await? {
        return Ok(Saved::Stored(id));
    }
    let new_rows = e.rows() as u64;
    let old_rows = match judge_second_copy(conn, &own, &digest, new_rows).await? {
        // Taken a moment ago, gone now (another writer replaced it): store this one.
        Stored::Nothing => 0,
        Stored::Shorter { old_rows } => old_rows,
        Stored::Kept(saved) => return Ok(saved),
    };
    match insert_report(conn, e, &own, ingested_at, &digest).await? {
        Some(id) => Ok(Saved::Replaced {
            id,
            old_rows,
            new_rows,
        }),
        None => Err(WriteError::Rows(
            "the report's key is still taken after removing the shorter copy".into(),
        )),
    }
}

/// Stores a batch as `Store::save_reports` does on SQLite: all in one transaction with a
/// savepoint per report; if that fails, report by report, so that the reports before
/// the failing one are stored and the error is the failing report's own.
pub(crate) async fn save_reports(
    store: &Store,
    pool: &PgPool,
    batch: &[&ReportRows],
    ingested_at: &str,
) -> (Vec<Saved>, Option<StoreError>) {
    let mut saved = Vec::with_capacity(batch.len());
    if batch.len() > 1
        && let Ok(all) = save_together(pool, batch, ingested_at).await
    {
        return (all, None);
    }
    for e in batch {
        match save_one(pool, e, ingested_at).await {
            Ok(s) => saved.push(s),
            Err(err) => return (saved, Some(store.write_error(err))),
        }
    }
    (saved, None)
}

async fn save_together(
    pool: &PgPool,
    batch: &[&ReportRows],
    ingested_at: &str,
) -> Result<Vec<Saved>, WriteError> {
    let mut tx = pool.begin().await?;
    let mut saved = Vec::with_capacity(batch.len());
    for e in batch {
        // A savepoint: a duplicate or a replaced copy is decided inside it, and a
        // failure part-way would leave nothing of this report.
        let mut sp = sqlx::Connection::begin(&mut *tx).await?;
        saved.push(write_report(&mut sp, e, ingested_at).await?);
        sp.commit().await?;
    }
    tx.commit().await?;
    Ok(saved)
}

async fn save_one(pool: &PgPool, e: &ReportRows, ingested_at: &str) -> Result<Saved, WriteError> {
    let mut tx = pool.begin().await?;
    let saved = write_report(&mut tx, e, ingested_at).await?;
    match saved {
        Saved::Stored(_) | Saved::Replaced { .. } => tx.commit().await?,
        Saved::Duplicate | Saved::Differs { .. } => tx.rollback().await?,
    }
    Ok(saved)
}
