//! Direct SQLite calls for the one hot path: storing mail reports.
//!
//! Why: profiling `ward reports ingest` on a 200 MB corpus showed storing taking as much
//! CPU as parsing, and most of it was not SQLite but the way sqlx reaches it: every
//! statement is a message to the connection's worker thread and back (two thread wake-ups,
//! five or so per report), every bound value is copied into a fresh `Arc`, and a
//! multi-row INSERT is new SQL text for SQLite to parse for each report size. sqlx lets a
//! caller borrow the raw connection ([`sqlx::sqlite::SqliteConnection::lock_handle`],
//! documented for exactly this), so reports are written here with one prepared statement
//! per table, re-bound and stepped once per row on the calling thread: one hand-over per
//! batch of reports instead of one per statement.
//!
//! Everything else in the store stays on sqlx. The transaction rules do not change: a
//! report and its rows are stored whole or not at all (a transaction of its own, or a
//! savepoint of its own inside a batch's transaction; any error rolls back), so a killed
//! ingester still leaves whole reports only.
//!
//! Safety: [`Db`] is only made from the handle of a `LockedSqliteHandle`, which guarantees
//! that sqlx's worker makes no call on the connection while it lives; [`Db`] borrows that
//! guard, and every [`Stmt`] borrows its [`Db`] and is finalised when dropped, so no
//! statement outlives the lock (sqlx could not close a connection with one left open).

use std::ffi::{CStr, c_char, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

/// A failed SQLite call: its result code and SQLite's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteError {
    pub code: i32,
    pub message: String,
}

/// A connection borrowed from sqlx for the life of `'lock`.
pub(crate) struct Db<'lock> {
    raw: NonNull<ffi::sqlite3>,
    _lock: PhantomData<&'lock mut ()>,
}

impl<'lock> Db<'lock> {
    /// Wraps the handle of a locked sqlx connection.
    pub(crate) fn new(lock: &'lock mut sqlx::sqlite::LockedSqliteHandle<'_>) -> Db<'lock> {
        Db {
            raw: lock.as_raw_handle(),
            _lock: PhantomData,
        }
    }

    fn error(&self, code: c_int) -> SqliteError {
        // SAFETY: the handle is open and locked for us (see the module doc);
        // sqlite3_errmsg returns a NUL-terminated string owned by the connection,
        // which we copy before any other call.
        let message = unsafe {
            let m = ffi::sqlite3_errmsg(self.raw.as_ptr());
            if m.is_null() {
                String::new()
            } else {
                CStr::from_ptr(m).to_string_lossy().into_owned()
            }
        };
        SqliteError { code, message }
    }

    /// Runs SQL without parameters or results (`BEGIN`, `COMMIT`, `ROLLBACK`).
    pub(crate) fn exec(&self, sql: &CStr) -> Result<(), SqliteError> {
        // SAFETY: valid handle and NUL-terminated SQL; no callback, no error out-pointer.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.raw.as_ptr(),
                sql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(rc))
        }
    }

    /// Prepares one statement.
    pub(crate) fn prepare<'db>(&'db self, sql: &str) -> Result<Stmt<'db, 'lock>, SqliteError> {
        let len = c_int::try_from(sql.len()).map_err(|_| SqliteError {
            code: ffi::SQLITE_TOOBIG,
            message: "statement too long".into(),
        })?;
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        // SAFETY: valid handle; `sql` is valid for `len` bytes (SQLite does not need a
        // NUL when given the length); `stmt` is a valid out-pointer.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.raw.as_ptr(),
                sql.as_ptr().cast::<c_char>(),
                len,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(raw) if rc == ffi::SQLITE_OK => Ok(Stmt { raw, db: self }),
            Some(raw) => {
                // SAFETY: a statement SQLite handed us, finalised once.
                unsafe { ffi::sqlite3_finalize(raw.as_ptr()) };
                Err(self.error(rc))
            }
            None => Err(self.error(if rc == ffi::SQLITE_OK {
                ffi::SQLITE_MISUSE // empty SQL
            } else {
                rc
            })),
        }
    }
}

/// A prepared statement, finalised when dropped.
pub(crate) struct Stmt<'db, 'lock> {
    raw: NonNull<ffi::sqlite3_stmt>,
    db: &'db Db<'lock>,
}

/// One value to bind.
pub(crate) enum Value<'a> {
    Int(i64),
    Text(Option<&'a str>),
}

impl Stmt<'_, '_> {
    /// Binds `values` to the parameters in order, runs the statement once (see
    /// [`Stmt::run`]) and clears the bindings again.
    ///
    /// Texts are bound without a copy (`SQLITE_STATIC`), which is sound because they are
    /// borrowed for this whole call and no binding outlives it. Copying every text into
    /// SQLite was a tenth of the report writer's time.
    pub(crate) fn run_with<'v>(
        &mut self,
        values: impl IntoIterator<Item = Value<'v>>,
    ) -> Result<Option<i64>, SqliteError> {
        let bound = values
            .into_iter()
            .enumerate()
            .try_for_each(|(i, v)| self.bind_borrowed(i + 1, &v));
        let out = bound.and_then(|()| self.run());
        // SAFETY: a live statement; afterwards SQLite holds no pointer into `values`.
        unsafe { ffi::sqlite3_clear_bindings(self.raw.as_ptr()) };
        out
    }

    /// Binds `value` to parameter `index` (1-based) without copying a text: only
    /// [`Stmt::run_with`] calls it, which clears the binding before the text's borrow ends.
    fn bind_borrowed(&mut self, index: usize, value: &Value<'_>) -> Result<(), SqliteError> {
        let at = c_int::try_from(index).unwrap_or(c_int::MAX);
        // SAFETY: a live statement; texts are valid for their length until `run_with`
        // returns, and it clears every binding before it does.
        let rc = unsafe {
            match value {
                Value::Int(n) => ffi::sqlite3_bind_int64(self.raw.as_ptr(), at, *n),
                Value::Text(None) => ffi::sqlite3_bind_null(self.raw.as_ptr(), at),
                Value::Text(Some(s)) => ffi::sqlite3_bind_text64(
                    self.raw.as_ptr(),
                    at,
                    s.as_ptr().cast::<c_char>(),
                    s.len() as u64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as u8,
                ),
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.db.error(rc))
        }
    }

    /// Runs the statement once with what is bound, then resets it for the next binding.
    /// Returns the first column of the first row, if the statement produced one.
    fn run(&mut self) -> Result<Option<i64>, SqliteError> {
        // SAFETY: a live statement with every parameter bound (or NULL).
        let rc = unsafe { ffi::sqlite3_step(self.raw.as_ptr()) };
        let out = match rc {
            // SAFETY: the statement has a current row with at least one column (all our
            // statements with results are `RETURNING id`).
            ffi::SQLITE_ROW => Ok(Some(unsafe {
                ffi::sqlite3_column_int64(self.raw.as_ptr(), 0)
            })),
            ffi::SQLITE_DONE => Ok(None),
            rc => Err(self.db.error(rc)),
        };
        // Finish the statement (a RETURNING statement completes its write on reset, and
        // reports the write's error there).
        // SAFETY: a live statement.
        let rc = unsafe { ffi::sqlite3_reset(self.raw.as_ptr()) };
        match out {
            Ok(v) if rc == ffi::SQLITE_OK => Ok(v),
            Ok(_) => Err(self.db.error(rc)),
            Err(e) => Err(e),
        }
    }
}

impl Drop for Stmt<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: finalised exactly once, while the connection is still locked for us
        // (the statement borrows the `Db`, which borrows the lock).
        unsafe { ffi::sqlite3_finalize(self.raw.as_ptr()) };
    }
}
