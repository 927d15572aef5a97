//! `ward db`: the store's schema and copies between stores.

use std::io::Write;

use crate::cli::{CopyArgs, DbArgs, DbCommand, MigrateArgs, SummaryFormat};
use crate::{WardExit, usage};
use ward_store::{Location, Store, StoreError};

pub async fn run(args: DbArgs) -> anyhow::Result<WardExit> {
    match args.command {
        DbCommand::Migrate(a) => migrate(a).await,
        DbCommand::Copy(a) => copy(a).await,
    }
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<WardExit> {
    let (store, applied) = Store::open_migrating(&args.db).await?;
    let location = store.location().to_owned();
    let backend = store.backend();
    store.close().await;
    let version = Store::schema_version();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({
                "location": location,
                "backend": backend,
                "applied": applied,
                "version": version,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table if applied.is_empty() => {
            writeln!(
                out,
                "{location}: the schema is up to date (version {version}); nothing applied."
            )?;
        }
        SummaryFormat::Table => {
            writeln!(
                out,
                "{location}: applied {} migration{} ({backend}), now at version {version}:",
                applied.len(),
                if applied.len() == 1 { "" } else { "s" }
            )?;
            for a in &applied {
                writeln!(out, "  {:04} {}", a.version, a.description)?;
            }
        }
    }
    out.flush()?;
    Ok(WardExit::Clean)
}

/// Whether two locations name the same store (the same file, or the same URL).
fn same_store(a: &Location, b: &Location) -> bool {
    match (a, b) {
        (Location::Sqlite(x), Location::Sqlite(y)) => {
            match (std::fs::canonicalize(x), std::fs::canonicalize(y)) {
                (Ok(x), Ok(y)) => x == y,
                _ => x == y,
            }
        }
        (Location::Postgres(x), Location::Postgres(y)) => x == y,
        _ => false,
    }
}

async fn copy(args: CopyArgs) -> anyhow::Result<WardExit> {
    let from = Location::parse(&args.from);
    let to = Location::parse(&args.to);
    if same_store(&from, &to) {
        return Err(usage(format!(
            "--from and --to are the same store ({from}); copy into another one"
        )));
    }
    if let Some(path) = from.missing_file() {
        return Err(usage(format!(
            "no database at {} to copy from; name an existing store with --from",
            path.display()
        )));
    }
    let (source, _) = Store::open_location(&from).await?;
    let (target, _) = Store::open_location(&to).await?;
    let copied = match source.copy_into(&target, args.replace).await {
        Ok(c) => c,
        Err(e @ StoreError::NotEmpty { .. }) => {
            return Err(usage(format!(
                "{e}. Copy into an empty database, or add --replace to delete what it holds \
                 first (in the same transaction as the copy)"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    source.close().await;
    target.close().await;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({
                "from": from.to_string(),
                "to": to.to_string(),
                "replaced": args.replace,
                "tables": copied.tables,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            writeln!(out, "Copied {from} to {to}:")?;
            let width = copied
                .tables
                .iter()
                .map(|t| t.table.len())
                .max()
                .unwrap_or(0);
            for t in &copied.tables {
                writeln!(out, "  {:width$}  {:>9}", t.table, t.rows)?;
            }
        }
    }
    out.flush()?;
    Ok(WardExit::Clean)
}
