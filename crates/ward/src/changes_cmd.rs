//! `ward changes`: what changed between two stored scans, per organisation and domain.
//! The comparison itself is `ward_advice::changes`; this picks the scans, loads what it
//! needs from the store and prints.

use crate::usage;
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ward_advice::changes::{self, Change, ChangeKind, MailSince};
use ward_advice::terminal_safe;
use ward_store::{ReportFilter, ScanInfo, Store};

/// How many scans before the earlier one are searched for a check's last real verdict.
const EARLIER_SCANS: usize = 5;

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// The SQLite database holding the scans.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    pub db: PathBuf,
    /// Only this organisation and everything below it (its id in the inventory: a
    /// party's id gives every region and branch).
    #[arg(long, value_name = "ID")]
    pub org: Option<String>,
    /// Compare the latest complete scan with the last complete scan that started before
    /// this date (YYYY-MM-DD, midnight UTC, or an RFC 3339 time) instead of with the
    /// one before it.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ChangesFormat::Table)]
    pub format: ChangesFormat,
    /// Exit with status 1 when anything got worse or ward lost sight of a check (kinds
    /// worse and now_could_not_tell).
    #[arg(long)]
    pub fail_on_worse: bool,
}

/// Output formats of `ward changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangesFormat {
    /// Grouped by organisation and domain, worst first, for people.
    Table,
    /// One JSON document (docs/output.md), for scripts.
    Json,
}

/// `--since`: a date (midnight UTC) or an RFC 3339 time.
fn parse_since(s: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            usage(format!(
                "--since {s:?}: give a date as YYYY-MM-DD (e.g. 2026-11-01) or an RFC 3339 time"
            ))
        })
}

/// The two scans to compare, newest complete first in `scans`.
fn pick(
    scans: &[ScanInfo],
    since: Option<OffsetDateTime>,
    db: &str,
) -> anyhow::Result<(ScanInfo, ScanInfo)> {
    let complete: Vec<&ScanInfo> = scans.iter().filter(|s| s.complete).collect();
    let Some(after) = complete.first() else {
        return Err(usage(format!(
            "{db} holds no complete scan; changes need two: run `ward scan --inventory FILE --db {db}` twice"
        )));
    };
    let before = match since {
        None => complete.get(1),
        Some(t) => complete.iter().skip(1).find(|s| s.started_at < t),
    };
    let Some(before) = before else {
        return Err(usage(match since {
            None => format!(
                "{db} holds one complete scan ({}); changes need two: run `ward scan --inventory FILE --db {db}` again",
                fmt(after.started_at)
            ),
            Some(t) => format!(
                "{db} holds no complete scan before {} to compare the latest ({}) with",
                fmt(t),
                fmt(after.started_at)
            ),
        }));
    };
    Ok(((*after).clone(), (*before).clone()))
}

fn fmt(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub async fn run(args: ChangesArgs) -> anyhow::Result<crate::WardExit> {
    let db = args.db.display().to_string();
    if !args.db.exists() {
        return Err(usage(format!(
            "no database at {db}; run `ward scan --inventory FILE --db {db}` first, or name one with --db"
        )));
    }
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let store = Store::open_sqlite(&args.db).await?;
    let orgs = store.organisations().await?;
    if let Some(id) = &args.org
        && !orgs.iter().any(|o| &o.id == id)
    {
        let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
        return Err(usage(format!(
            "no organisation `{id}` in {db} (known: {})",
            if ids.is_empty() {
                "none; scan an inventory first".to_owned()
            } else {
                ids.join(", ")
            }
        )));
    }
    let scans = store.scans().await?;
    let (after_info, before_info) = pick(&scans, since, &db)?;
    let after = store.report(after_info.id).await?;
    let before = store.report(before_info.id).await?;
    let mut earlier = Vec::new();
    if changes::needs_earlier(&before, &after) {
        for s in scans
            .iter()
            .filter(|s| s.complete && s.id.0 < before_info.id.0)
            .take(EARLIER_SCANS)
        {
            earlier.push(store.report(s.id).await?);
        }
    }
    let all = store.report_data(&ReportFilter::default()).await?;
    let since_before = store
        .report_data(&ReportFilter {
            domain: None,
            since: Some(before.scanned_at.unix_timestamp()),
        })
        .await?;
    store.close().await;
    let mut found = changes::changes(
        &before,
        &after,
        &earlier,
        Some(MailSince {
            all: &all,
            since_before: &since_before,
        }),
    );
    if let Some(id) = &args.org {
        found = changes::within(found, &orgs, id);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ChangesFormat::Json => {
            let counts: serde_json::Map<String, serde_json::Value> = changes::counts(&found)
                .into_iter()
                .map(|(k, n)| (k.as_str().to_owned(), n.into()))
                .collect();
            let doc = serde_json::json!({
                "database": db,
                "organisation": args.org,
                "before": { "scan": before_info.id.0, "scanned_at": fmt(before.scanned_at) },
                "after": { "scan": after_info.id.0, "scanned_at": fmt(after.scanned_at) },
                "counts": counts,
                "changes": found,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ChangesFormat::Table => {
            write_table(&mut out, &found, before.scanned_at, after.scanned_at, &db)?
        }
    }
    out.flush()?;
    let worse = found
        .iter()
        .any(|c| matches!(c.kind, ChangeKind::Worse | ChangeKind::NowCouldNotTell));
    Ok(if args.fail_on_worse && worse {
        crate::WardExit::FindingsAtOrAbove
    } else {
        crate::WardExit::Clean
    })
}

/// The table: a heading per organisation, a line per domain, a line per change.
fn write_table(
    out: &mut impl std::io::Write,
    found: &[Change],
    before: OffsetDateTime,
    after: OffsetDateTime,
    db: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Changes in {db} from the scan of {} to the scan of {}:",
        fmt(before),
        fmt(after)
    )?;
    let counts: Vec<String> = changes::counts(found)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {}", k.words()))
        .collect();
    if counts.is_empty() {
        writeln!(out, "nothing changed.")?;
        return Ok(());
    }
    writeln!(out, "{}.", counts.join(", "))?;
    let mut org = None;
    let mut domain = None;
    for line in changes::lines(found) {
        let c = line.first;
        if org != Some(&c.organisation_id) {
            writeln!(
                out,
                "\n{} ({})",
                terminal_safe(&c.organisation),
                terminal_safe(&c.organisation_id)
            )?;
            org = Some(&c.organisation_id);
            domain = None;
        }
        if domain != Some(&c.domain) {
            writeln!(out, "  {}", terminal_safe(&c.domain))?;
            domain = Some(&c.domain);
        }
        writeln!(
            out,
            "    {:<21} {}",
            c.kind.words(),
            terminal_safe(&line.describe())
        )?;
    }
    Ok(())
}
