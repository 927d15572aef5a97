//! Where a store lives, as given to `--db` or `WARD_DB`: a PostgreSQL URL picks the
//! PostgreSQL backend, anything else is the path of a SQLite file. Printed, a location
//! never shows a password.

use std::fmt;
use std::path::{Path, PathBuf};

/// A store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, `postgres://` or `postgresql://` URL. The database must
    /// exist; ward creates its tables.
    Postgres(String),
}

impl Location {
    /// Reads a location: `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://PATH`
    /// or any other text is the path of a SQLite file.
    pub fn parse(s: &str) -> Location {
        let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(s.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(s.strip_prefix("sqlite://").unwrap_or(s)))
        }
    }

    /// The SQLite file this names, if it names one that does not exist. Readers use it
    /// to say "no such file" instead of creating an empty store.
    pub fn missing_file(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) if !p.exists() => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// The URL with any password replaced by `***`: the one in `user:password@`, and a
/// `password=` query parameter.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            Location::parse("ward.db"),
            Location::Sqlite("ward.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/ward.db"),
            Location::Sqlite("/var/lib/ward.db".into())
        );
        for url in ["postgres://h/db", "postgresql://h/db", "POSTGRES://h/db"] {
            assert_eq!(Location::parse(url), Location::Postgres(url.into()));
        }
        // A file that happens to be called "postgres" is still a file.
        assert_eq!(
            Location::parse("postgres"),
            Location::Sqlite("postgres".into())
        );
    }

    #[test]
    fn passwords_are_never_printed() {
        for (url, shown) in [
            (
                "postgres://ward:s3cr%40t@db.example:5432/ward",
                "postgres://ward:***@db.example:5432/ward",
            ),
            (
                "postgres://ward:p@ss@db/ward",
                "postgres://ward:***@db/ward",
            ),
            (
                "postgresql://db/ward?sslmode=require&password=hunter2",
                "postgresql://db/ward?sslmode=require&password=***",
            ),
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            ("postgres://db", "postgres://db"),
        ] {
            assert_eq!(Location::parse(url).to_string(), shown, "{url}");
            assert_eq!(
                format!("{:?}", Location::parse(url)),
                format!("Location({shown})")
            );
        }
    }
}
