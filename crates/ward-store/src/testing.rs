//! Test support (feature `testing`): a fresh PostgreSQL database per test, on a real
//! server. No mocks: the store's PostgreSQL half is tested against PostgreSQL.
//!
//! The server: `WARD_TEST_PG` when set (a URL of a database the tests may connect to as
//! a role that can create databases, e.g.
//! `postgres://postgres@127.0.0.1:54329/postgres`); otherwise `.ci/pg-start` from this
//! repository is run once per test process, which starts (or finds running) a private
//! loopback cluster and prints its URL. If neither gives a server, the test fails with a
//! message saying how to get one; it never passes without having run.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The URL of the server's administrative database, found once per process.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Some(url) = std::env::var("WARD_TEST_PG").ok().filter(|u| !u.is_empty()) {
            return url;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/pg-start");
        match std::process::Command::new(script).output() {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            Ok(out) => panic!(
                "{}\n.ci/pg-start failed:\n{}",
                HOW_TO,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("{HOW_TO}\ncould not run {script}: {e}"),
        }
    })
}

const HOW_TO: &str = "The PostgreSQL half of the store tests needs a PostgreSQL server. \
Install the server binaries (Debian: apt-get install postgresql) and either let the tests \
start a private one on 127.0.0.1:54329 (.ci/pg-start, which they run themselves), or point \
WARD_TEST_PG at a server where the URL's role may create databases, e.g. \
WARD_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres. .ci/run does all of this.";

/// A database made for one test, with a random name, dropped when this is dropped.
#[derive(Debug)]
pub struct TestPg {
    url: String,
    admin: String,
    name: String,
}

impl TestPg {
    /// Creates the database. Panics, saying how to get a server, if there is none.
    pub async fn new() -> TestPg {
        let admin = server().to_owned();
        let name = unique_name();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "{HOW_TO}\ncould not connect to {}: {e}",
                crate::Location::parse(&admin)
            )
        });
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
        )))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&admin, &name);
        TestPg { url, admin, name }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        // Drop may run inside a runtime, which cannot be blocked on: a thread of its own.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: the test database {} was not dropped", self.name);
        }
    }
}

/// `ward_test_<pid>_<nanoseconds>_<n>`: unique across the test processes running at once
/// and the runs before them, and a valid identifier as it stands.
fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "ward_test_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The URL with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_is_swapped_in_the_url() {
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres", "t1"),
            "postgres://u@h:1/t1"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1?sslmode=disable", "t1"),
            "postgres://u@h:1/t1?sslmode=disable"
        );
    }
}
