//! `ward reports`: ingest DMARC aggregate, DMARC failure and SMTP TLS reports into the
//! store, and summarise what they say.
//!
//! The ingestion itself is [`ward_reports::ingest`]; this module reads the arguments,
//! shows progress and prints the closing count.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;
use ward_advice::text::terminal_safe;
use ward_net::imap::Mailbox;
use ward_reports::Error as ReportError;
use ward_reports::analysis::{self, Summary};
use ward_reports::ingest::{self, Counts, ImapSource, IngestError, Input, Watch};
use ward_store::{ReportFilter, Saved, Store};

use crate::cli::{IngestArgs, ReportsArgs, ReportsCommand, SummaryArgs, SummaryFormat};
use crate::{WardExit, usage};

pub async fn run(args: ReportsArgs) -> anyhow::Result<WardExit> {
    match args.command {
        ReportsCommand::Ingest(a) => ingest(a).await,
        ReportsCommand::Summary(a) => summary(a).await,
    }
}

/// Follows an ingestion on a progress bar (hidden when stderr is not a terminal), and
/// names each refusal on stderr.
struct Bar(ProgressBar);

impl Watch for Bar {
    fn total(&self, bytes: u64) {
        self.0.set_length(bytes);
    }
    fn read(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn refused(&self, error: &ReportError) {
        self.0
            .suspend(|| eprintln!("ward: refused {}", terminal_safe(&error.to_string())));
    }
    fn second_copy(&self, source: &str, saved: &Saved) {
        let records = |n: &u64| match n {
            1 => "1 record".to_owned(),
            n => format!("{n} records"),
        };
        let line = match saved {
            Saved::Replaced {
                old_rows, new_rows, ..
            } => format!(
                "{source} replaced the stored copy of the same report ({} before, {new_rows} now)",
                records(old_rows)
            ),
            Saved::Differs {
                stored_rows,
                new_rows,
            } => format!(
                "{source} differs from the stored copy of the same report; \
                 kept the stored one ({}; this one has {})",
                records(stored_rows),
                records(new_rows)
            ),
            Saved::Stored(_) | Saved::Duplicate => return,
        };
        self.0
            .suspend(|| eprintln!("ward: {}", terminal_safe(&line)));
    }
    fn progress(&self, c: &Counts) {
        self.0.set_message(format!(
            "{} stored, {} duplicates, {} failures",
            c.stored, c.duplicates, c.failures
        ));
    }
}

/// An ingestion error as an exit: a line break in an IMAP credential is the user's to
/// fix (exit 2); the rest is the database or the mailbox (exit 3).
fn ingest_failure(e: IngestError) -> anyhow::Error {
    match e {
        IngestError::Unquotable(_) => usage(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

async fn ingest(args: IngestArgs) -> anyhow::Result<WardExit> {
    let imap = match &args.imap {
        Some(url) => {
            let mailbox = Mailbox::parse(url).map_err(|e| usage(format!("--imap {e}")))?;
            let password = std::env::var("WARD_IMAP_PASSWORD").map_err(|_| {
                usage("--imap needs the password in the WARD_IMAP_PASSWORD environment variable")
            })?;
            let ca = match &args.imap_ca {
                Some(p) => std::fs::read(p)
                    .map_err(|e| usage(format!("--imap-ca {}: {e}", p.display())))?,
                None => Vec::new(),
            };
            let roots = ward_net::imap::roots(&ca).map_err(|e| usage(format!("--imap-ca: {e}")))?;
            Some(ImapSource {
                mailbox,
                password,
                roots,
                processed: args.imap_processed.clone(),
            })
        }
        None => None,
    };
    let store = Store::open(&args.db).await?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} ingesting [{bar:30}] {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let bar = Bar(bar);
    let now = OffsetDateTime::now_utc();
    let inputs = args.sources.iter().cloned().map(Input::Path).collect();
    let (outcome, mut counts) = match ingest::ingest(&store, inputs, &bar, now).await {
        Ok(c) => (Ok(()), c),
        Err((e, c)) => (Err(e), c),
    };
    let outcome = match (outcome, imap) {
        (Ok(()), Some(source)) => ingest::ingest_imap(&store, source, &bar, &mut counts, now).await,
        (o, _) => o,
    };
    bar.0.finish_and_clear();
    store.close().await;
    outcome.map_err(ingest_failure)?;
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let replaced = match counts.replaced {
        0 => String::new(),
        n => format!(" ({n} replacing a shorter copy)"),
    };
    println!(
        "{} stored{replaced}, {} skipped, {}",
        plural(counts.stored, "report", "reports"),
        plural(counts.duplicates, "duplicate", "duplicates"),
        plural(counts.failures, "failure", "failures"),
    );
    Ok(if counts.failures > 0 {
        WardExit::Usage
    } else {
        WardExit::Clean
    })
}

/// Seconds in an age such as `30d`, `12h` or `2w`.
fn parse_age(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s.get(..s.len() - unit.len_utf8())?.parse().ok()?;
    let per = match unit {
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    (n >= 0).then(|| n.checked_mul(per)).flatten()
}

async fn summary(args: SummaryArgs) -> anyhow::Result<WardExit> {
    let since = match &args.since {
        Some(s) => {
            let age = parse_age(s).ok_or_else(|| {
                usage(format!(
                    "--since {s:?}: give a number and a unit, e.g. 30d, 12h or 2w"
                ))
            })?;
            Some(
                OffsetDateTime::now_utc()
                    .unix_timestamp()
                    .saturating_sub(age),
            )
        }
        None => None,
    };
    let domain = match &args.domain {
        Some(d) => Some(ward_model::inventory::normalise_domain(d).map_err(usage)?),
        None => None,
    };
    let location = ward_store::Location::parse(&args.db);
    if let Some(path) = location.missing_file() {
        return Err(usage(format!(
            "no database at {}; ingest reports first with `ward reports ingest --db {} SOURCE...`",
            path.display(),
            path.display()
        )));
    }
    let net = if args.offline {
        None
    } else {
        let cfg = crate::net_config(&args.net)?;
        Some(ward_net::Net::new(cfg).map_err(|e| usage(e.to_string()))?)
    };
    let (store, _) = Store::open_location(&location).await?;
    let data = store.report_data(&ReportFilter { domain, since }).await?;
    store.close().await;
    let mut names = BTreeMap::new();
    if let Some(net) = &net {
        names = net.reverse_names(analysis::source_addresses(&data)).await;
    }
    let summary = analysis::summarise(&data, &names);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &summary)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => write_summary(&mut out, &summary)?,
    }
    out.flush()?;
    Ok(WardExit::Clean)
}

fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Sources shown per domain in the table (JSON has them all).
const TABLE_SOURCES: usize = 10;

pub fn write_summary(w: &mut impl Write, s: &Summary) -> std::io::Result<()> {
    let t = |x: &str| terminal_safe(x).into_owned();
    writeln!(
        w,
        "Reports: {} aggregate, {} failure, {} TLS",
        s.aggregate_reports, s.failure_reports, s.tls_reports
    )?;
    for d in &s.domains {
        writeln!(w)?;
        writeln!(w, "{}", t(&d.domain))?;
        let policy = d
            .policy
            .as_ref()
            .map(|p| {
                let mut x = format!("p={}", p.p.as_deref().unwrap_or("?"));
                if let Some(pct) = p.pct {
                    x.push_str(&format!(" pct={pct}"));
                }
                if p.testing {
                    x.push_str(" t=y");
                }
                x
            })
            .unwrap_or_else(|| "unknown".into());
        writeln!(w, "  phase {}   policy {}", d.phase.as_str(), t(&policy))?;
        writeln!(
            w,
            "  messages {}   DMARC pass {}   SPF aligned {}   DKIM aligned {}",
            d.messages,
            pct(d.dmarc_pass_rate),
            pct(d.spf_alignment_rate),
            pct(d.dkim_alignment_rate)
        )?;
        writeln!(
            w,
            "  {:<40} {:>9} {:>8}  SERVICE / REVERSE NAME",
            "SOURCE", "MESSAGES", "PASS"
        )?;
        for src in d.sources.iter().take(TABLE_SOURCES) {
            let who = match (&src.service, &src.reverse_name) {
                (Some(svc), Some(n)) => format!("{svc} ({n})"),
                (None, Some(n)) => n.clone(),
                _ => String::new(),
            };
            writeln!(
                w,
                "  {:<40} {:>9} {:>8}  {}",
                src.ip.to_string(),
                src.messages,
                pct(if src.messages == 0 {
                    0.0
                } else {
                    src.dmarc_pass as f64 / src.messages as f64
                }),
                t(&who)
            )?;
        }
        if d.sources.len() > TABLE_SOURCES {
            writeln!(w, "  ... and {} more", d.sources.len() - TABLE_SOURCES)?;
        }
        let failing = d.failing_sources();
        if !failing.is_empty() {
            writeln!(w, "  failing sources:")?;
            for src in failing.iter().take(TABLE_SOURCES) {
                writeln!(
                    w,
                    "    {} {} of {} messages fail DMARC",
                    src.ip,
                    src.failing(),
                    src.messages
                )?;
            }
        }
        if !d.selectors.is_empty() {
            let sels: Vec<String> = d
                .selectors
                .iter()
                .map(|x| format!("{}._domainkey.{}", t(&x.selector), t(&x.dkim_domain)))
                .collect();
            writeln!(w, "  DKIM selectors: {}", sels.join(", "))?;
        }
    }
    for tls in &s.tls {
        writeln!(w)?;
        writeln!(
            w,
            "{} (TLS): {} sessions succeeded, {} failed",
            t(&tls.domain),
            tls.successful,
            tls.failed
        )?;
        for f in &tls.failures {
            writeln!(
                w,
                "  {:<40} {:<28} {:>8}",
                t(&f.mx),
                t(&f.result_type),
                f.sessions
            )?;
        }
    }
    if !s.findings.is_empty() {
        writeln!(w)?;
        writeln!(w, "Findings:")?;
        for f in &s.findings {
            writeln!(
                w,
                "  {:<5} {:<8} {:<32} {}: {}",
                f.finding.status.as_str(),
                f.finding.severity.as_str(),
                f.finding.check.as_str(),
                t(&f.domain),
                t(&f.finding.summary)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d"), Some(30 * 86_400));
        assert_eq!(parse_age("12h"), Some(12 * 3600));
        assert_eq!(parse_age("2w"), Some(14 * 86_400));
        assert_eq!(parse_age("30"), None);
        assert_eq!(parse_age("d"), None);
        assert_eq!(parse_age("-1d"), None);
        assert_eq!(parse_age("99999999999999999d"), None);
    }
}
