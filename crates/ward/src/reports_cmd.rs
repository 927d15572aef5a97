//! `ward reports`: ingest DMARC aggregate, DMARC failure and SMTP TLS reports into the
//! store, and summarise what they say.
//!
//! Ingestion streams: the sources are listed as units (files, Maildirs), a few blocking
//! threads unpack one unit at a time each ([`ward_reports::unpack`]) and hand reports
//! through their own channels to the task that stores them, in source order. Memory is
//! bounded by one input per thread (an mbox is read message by message) and a budget of
//! parsed records per thread, never by the size of the corpus. One refused report is
//! named and counted; the batch goes on.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;
use ward_advice::text::terminal_safe;
use ward_reports::analysis::{self, Summary};
use ward_reports::{Error as ReportError, Limits, Reason, Unpacked};
use ward_store::{EncodedReport, ReportFilter, Saved, Store};

use crate::{WardExit, usage};

mod imap;

#[derive(Debug, Args)]
pub struct ReportsArgs {
    #[command(subcommand)]
    pub command: ReportsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Store the reports found in files, folders, mbox files and Maildirs.
    ///
    /// Formats are told by content, not by name: XML, JSON, gzip, zlib, zip, e-mail
    /// messages (.eml) with the report attached, mbox files; folders are read
    /// recursively, and a folder with cur/ or new/ is read as a Maildir. A report
    /// already stored (same reporter, report id and date range) is skipped, so running
    /// it again over the same sources stores nothing new.
    ///
    /// Exit status: 0 every report found was stored or already there; 2 some input was
    /// refused (each is named on stderr, and everything else was stored); 3 the
    /// database could not be written, or the IMAP mailbox could not be read.
    ///
    /// Examples:
    ///   ward reports ingest --db ward.db ~/dmarc/ reports.mbox
    ///   ward reports ingest ~/Maildir/.DMARC
    #[command(verbatim_doc_comment)]
    Ingest(IngestArgs),
    /// Summarise the stored reports: volume, DMARC pass and alignment rates, sending
    /// sources, failing sources, DKIM selectors, TLS failures per MX, and each
    /// domain's DMARC phase (assess, deploy, enforce, maintain).
    ///
    /// Examples:
    ///   ward reports summary --db ward.db
    ///   ward reports summary --domain example.org --since 30d --format json --offline
    #[command(verbatim_doc_comment)]
    Summary(SummaryArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, folders, mbox files or Maildirs to read.
    #[arg(value_name = "SOURCE", required_unless_present = "imap")]
    pub sources: Vec<PathBuf>,
    /// Also read an IMAP mailbox over TLS: imaps://USER@HOST[:PORT][/FOLDER] (port 993,
    /// folder INBOX by default). The password comes from the WARD_IMAP_PASSWORD
    /// environment variable. Each message whose reports are all stored is then moved
    /// to --imap-processed; a message that fails to parse stays where it is.
    #[arg(long, value_name = "URL")]
    pub imap: Option<String>,
    /// The folder stored messages are moved to (created if missing).
    #[arg(long, value_name = "FOLDER", default_value = "processed")]
    pub imap_processed: String,
    /// A CA certificate (PEM) to trust for the IMAP server, besides the public roots.
    #[arg(long, value_name = "FILE")]
    pub imap_ca: Option<PathBuf>,
    /// The SQLite database to store into (created if missing).
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    pub db: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Tables, for people.
    Table,
    /// One JSON document, for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The SQLite database to read.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    pub db: PathBuf,
    /// Only this domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Only reports whose period ended within this long before now: a number and a
    /// unit, d (days), h (hours) or w (weeks), e.g. 30d.
    #[arg(long, value_name = "AGE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    /// Do not look up reverse names of sending addresses.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub net: crate::cli::NetArgs,
}

pub async fn run(args: ReportsArgs) -> anyhow::Result<WardExit> {
    match args.command {
        ReportsCommand::Ingest(a) => ingest(a).await,
        ReportsCommand::Summary(a) => summary(a).await,
    }
}

/// A report parsed and encoded for the store on a parsing thread.
struct Parsed {
    source: String,
    encoded: EncodedReport,
}

/// What a parsing thread hands to the storing task.
enum Item {
    /// A report found, with the share of its thread's budget it holds until stored.
    Found(Box<Parsed>, Option<tokio::sync::OwnedSemaphorePermit>),
    /// An input refused.
    Refused(ReportError),
    /// A file was read to the end; its size.
    Done(u64),
    /// The unit of work is finished; the next one comes from the next parser.
    EndOfUnit,
}

/// Items in flight between each parsing thread and the store (reports are bounded
/// further by [`RECORDS_IN_FLIGHT`]).
const IN_FLIGHT: usize = 256;

/// Aggregate records (a report counts at least one) a parsing thread may have parsed and
/// not yet stored. Enough for a thread to run well ahead while another parses a large
/// mbox, yet memory stays a few megabytes per thread whatever the corpus; a report larger
/// than this goes alone.
const RECORDS_IN_FLIGHT: u32 = 20_000;

/// The sending end of one parsing thread: a channel, and the thread's budget of records.
struct Sender {
    tx: tokio::sync::mpsc::Sender<Item>,
    budget: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Sender {
    /// Sends an item, first waiting for budget if it is a report. False once the store
    /// has gone.
    fn send(&self, item: Item) -> bool {
        let item = match item {
            Item::Found(u, _) => {
                let weight = u32::try_from(u.encoded.rows())
                    .unwrap_or(u32::MAX)
                    .clamp(1, RECORDS_IN_FLIGHT);
                let permit = futures::executor::block_on(
                    std::sync::Arc::clone(&self.budget).acquire_many_owned(weight),
                );
                match permit {
                    Ok(p) => Item::Found(u, Some(p)),
                    Err(_) => return false,
                }
            }
            other => other,
        };
        self.tx.blocking_send(item).is_ok()
    }
}

/// Most reports handed to the store at once (one transaction, a savepoint per report).
const STORE_BATCH: usize = 64;

/// The reports gathered for the store, each with the budget it holds until stored.
#[derive(Default)]
struct Batch {
    reports: Vec<(Parsed, Option<tokio::sync::OwnedSemaphorePermit>)>,
}

impl Batch {
    /// Stores the gathered reports and counts what happened to each, then lets their
    /// budget go; a database error comes back after the reports stored before it are
    /// counted.
    async fn store(
        &mut self,
        store: &Store,
        now: OffsetDateTime,
        counts: &mut Counts,
        bar: &ProgressBar,
    ) -> anyhow::Result<()> {
        if self.reports.is_empty() {
            return Ok(());
        }
        for (p, _) in &self.reports {
            tracing::info!(source = %terminal_safe(&p.source), "storing report");
        }
        let encoded: Vec<&EncodedReport> = self.reports.iter().map(|(p, _)| &p.encoded).collect();
        let (saved, error) = store.save_reports(&encoded, now).await;
        for ((p, _), s) in self.reports.iter().zip(&saved) {
            match s {
                Saved::Stored(_) => {
                    counts.stored += 1;
                    tracing::info!(source = %terminal_safe(&p.source), "stored report");
                }
                Saved::Duplicate => counts.duplicates += 1,
            }
        }
        self.reports.clear();
        bar.set_message(format!(
            "{} stored, {} duplicates, {} failures",
            counts.stored, counts.duplicates, counts.failures
        ));
        match error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// Most parsing threads, whatever the machine has.
const MAX_PARSERS: usize = 4;

/// One piece of work for a parsing thread, in the order the sources name them.
enum Unit {
    /// A file (plain, compressed, a message or an mbox).
    File(PathBuf),
    /// A Maildir, read as one unit.
    Maildir(PathBuf),
    /// Bytes already in memory.
    Bytes { name: String, bytes: Vec<u8> },
    /// A source that could not be read (its refusal).
    Unreadable(PathBuf, std::io::Error),
}

/// The closing count of an ingestion.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub stored: u64,
    pub duplicates: u64,
    pub failures: u64,
}

/// One input to [`ingest_inputs`].
pub enum Input {
    /// A file, folder, mbox file or Maildir.
    Path(PathBuf),
    /// Bytes already in memory (the demo's generated reports), under a name.
    Bytes {
        /// The name refusals and stored reports give as their source.
        name: String,
        /// The input, in any format a file may have.
        bytes: Vec<u8>,
    },
}

/// Stores every report in `inputs`: the path `ward reports ingest` and `ward demo` share.
/// A blocking thread walks and unpacks the inputs and hands reports through a short
/// channel to this task, which stores them in batches, each report whole or not at all. Refusals are printed
/// and counted; a database error stops the run and comes back with the counts so far.
pub async fn ingest_inputs(
    store: &Store,
    inputs: Vec<Input>,
    bar: &ProgressBar,
    now: OffsetDateTime,
) -> Result<Counts, (anyhow::Error, Counts)> {
    let mut counts = Counts::default();
    // The sources become a list of units (files, Maildirs, in-memory inputs) in the
    // order a single walk would meet them.
    let planned = tokio::task::spawn_blocking(move || {
        let mut units = Vec::new();
        let mut total = 0u64;
        for input in inputs {
            match input {
                Input::Path(p) => {
                    total += size_of(&p, true);
                    plan(&p, true, &mut units);
                }
                Input::Bytes { name, bytes } => {
                    total += bytes.len() as u64;
                    units.push(Unit::Bytes { name, bytes });
                }
            }
        }
        (units, total)
    })
    .await;
    let (units, total) = match planned {
        Ok(p) => p,
        Err(e) => {
            return Err((
                anyhow::Error::new(e).context("the source walker stopped"),
                counts,
            ));
        }
    };
    bar.set_length(total);
    // Parsing takes as much CPU as storing, so the units are parsed on several threads:
    // unit i on thread i mod n, each handing its reports through its own channel. The
    // store takes unit 0 from thread 0, unit 1 from thread 1, and so on, so reports are
    // stored in source order. Each thread may run ahead of the store by RECORDS_IN_FLIGHT
    // records (so one thread keeps parsing small files while another is in a big mbox),
    // so at most n inputs and n budgets of reports are in memory at once, whatever the
    // size of the corpus.
    let parsers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_PARSERS)
        .min(units.len().max(1));
    let units = std::sync::Arc::new(units);
    let mut receivers = Vec::with_capacity(parsers);
    let mut workers = Vec::with_capacity(parsers);
    for k in 0..parsers {
        let (tx, rx) = tokio::sync::mpsc::channel::<Item>(IN_FLIGHT);
        let tx = Sender {
            tx,
            budget: std::sync::Arc::new(tokio::sync::Semaphore::new(RECORDS_IN_FLIGHT as usize)),
        };
        receivers.push(rx);
        let units = std::sync::Arc::clone(&units);
        workers.push(tokio::task::spawn_blocking(move || {
            let limits = Limits::default();
            for unit in units.iter().skip(k).step_by(parsers) {
                let alive = match unit {
                    Unit::File(p) => walk(p, &limits, &tx),
                    Unit::Maildir(p) => walk_maildir(p, &limits, &tx),
                    Unit::Bytes { name, bytes } => unpack_bytes(name, bytes, &limits, &tx),
                    Unit::Unreadable(p, e) => tx.send(io_refusal(p, e)),
                };
                if !alive || !tx.send(Item::EndOfUnit) {
                    return;
                }
            }
        }));
    }
    let outcome: anyhow::Result<()> = async {
        let mut batch = Batch::default();
        for i in 0..units.len() {
            let Some(rx) = receivers.get_mut(i % parsers) else {
                break;
            };
            loop {
                let item = match rx.try_recv() {
                    Ok(item) => item,
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                        // Nothing waiting: store what has gathered before waiting for
                        // more, so that the parsers' budget is never held by a wait.
                        batch.store(store, now, &mut counts, bar).await?;
                        match rx.recv().await {
                            Some(item) => item,
                            None => break,
                        }
                    }
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
                };
                match item {
                    Item::Found(p, permit) => {
                        // Reports already parsed are stored together, across units: one
                        // hand-over of the connection for the lot, one transaction each.
                        batch.reports.push((*p, permit));
                        if batch.reports.len() >= STORE_BATCH {
                            batch.store(store, now, &mut counts, bar).await?;
                        }
                    }
                    Item::EndOfUnit => break,
                    Item::Done(n) => bar.inc(n),
                    Item::Refused(e) => {
                        counts.failures += 1;
                        bar.suspend(|| {
                            eprintln!("ward: refused {}", terminal_safe(&e.to_string()))
                        });
                    }
                }
            }
        }
        batch.store(store, now, &mut counts, bar).await?;
        Ok(())
    }
    .await;
    // On a database error the receivers are dropped here, which stops the parsers.
    drop(receivers);
    for w in workers {
        if let Err(e) = w.await {
            return Err((
                anyhow::Error::new(e).context("a report parser stopped"),
                counts,
            ));
        }
    }
    match outcome {
        Ok(()) => Ok(counts),
        Err(e) => Err((e, counts)),
    }
}

/// Unpacks one in-memory input, within the same limits as a file.
fn unpack_bytes(name: &str, bytes: &[u8], limits: &Limits, tx: &Sender) -> bool {
    let send = |item: Item| tx.send(item);
    if bytes.len() as u64 > limits.max_input_bytes {
        return send(Item::Refused(ReportError::new(
            name.to_owned(),
            Reason::LimitExceeded {
                kind: ward_reports::LimitKind::InputBytes,
                limit: limits.max_input_bytes,
            },
        ))) && send(Item::Done(bytes.len() as u64));
    }
    let mut alive = true;
    ward_reports::unpack::unpack(name, bytes, limits, &mut |r| {
        if alive {
            alive = send(item(r));
        }
    });
    alive && send(Item::Done(bytes.len() as u64))
}

async fn ingest(args: IngestArgs) -> anyhow::Result<WardExit> {
    let imap = match &args.imap {
        Some(url) => {
            let mailbox = imap::Mailbox::parse(url).map_err(|e| usage(format!("--imap {e}")))?;
            let password = std::env::var("WARD_IMAP_PASSWORD").map_err(|_| {
                usage("--imap needs the password in the WARD_IMAP_PASSWORD environment variable")
            })?;
            let ca = match &args.imap_ca {
                Some(p) => std::fs::read(p)
                    .map_err(|e| usage(format!("--imap-ca {}: {e}", p.display())))?,
                None => Vec::new(),
            };
            let roots = imap::roots(&ca).map_err(|e| usage(format!("--imap-ca: {e:#}")))?;
            Some((mailbox, password, roots))
        }
        None => None,
    };
    let store = Store::open_sqlite(&args.db).await?;
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
    let now = OffsetDateTime::now_utc();
    let inputs = args.sources.iter().cloned().map(Input::Path).collect();
    let (outcome, mut counts) = match ingest_inputs(&store, inputs, &bar, now).await {
        Ok(c) => (Ok(()), c),
        Err((e, c)) => (Err(e), c),
    };
    let outcome = match (outcome, imap) {
        (Ok(()), Some((mailbox, password, roots))) => {
            ingest_imap(
                &store,
                &mailbox,
                &password,
                roots,
                &args.imap_processed,
                &bar,
                &mut counts,
                now,
            )
            .await
        }
        (o, _) => o,
    };
    bar.finish_and_clear();
    store.close().await;
    outcome?;
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    println!(
        "{} stored, {} skipped, {}",
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

/// Reads every message of an IMAP folder, stores its reports, and moves each message
/// whose reports were all stored (new or duplicate) to `processed`, only after the
/// store has committed them. A message with any refusal stays, and is named.
#[allow(clippy::too_many_arguments)]
async fn ingest_imap(
    store: &Store,
    mb: &imap::Mailbox,
    password: &str,
    roots: rustls::RootCertStore,
    processed: &str,
    bar: &ProgressBar,
    counts: &mut Counts,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let limits = Limits::default();
    let q = |s: &str, what: &str| {
        imap::quote(s).ok_or_else(|| usage(format!("the IMAP {what} holds a line break")))
    };
    let mut c = imap::Client::connect(mb, roots).await?;
    c.command(
        &format!(
            "LOGIN {} {}",
            q(&mb.user, "user")?,
            q(password, "password")?
        ),
        0,
    )
    .await?;
    let target = q(processed, "folder")?;
    // The folder may exist already; any other problem shows at the first MOVE.
    let _ = c.command(&format!("CREATE {target}"), 0).await;
    c.command(&format!("SELECT {}", q(&mb.folder, "folder")?), 0)
        .await?;
    let uids = imap::search_uids(&c.command("UID SEARCH ALL", 0).await?);
    for uid in uids {
        let name = format!("imaps://{}@{}/{};UID={uid}", mb.user, mb.host, mb.folder);
        let r = c
            .command(
                &format!("UID FETCH {uid} (BODY.PEEK[])"),
                limits.max_input_bytes,
            )
            .await?;
        let mut results = Vec::new();
        match r.literals.into_iter().next() {
            Some(imap::Literal::Bytes(bytes)) => {
                ward_reports::unpack::unpack(&name, &bytes, &limits, &mut |x| results.push(x))
            }
            Some(imap::Literal::TooLarge) => results.push(Err(ReportError::new(
                name.clone(),
                Reason::LimitExceeded {
                    kind: ward_reports::LimitKind::InputBytes,
                    limit: limits.max_input_bytes,
                },
            ))),
            // Expunged meanwhile by another client.
            None => continue,
        }
        let mut all_stored = !results.is_empty();
        for r in results {
            match r {
                Ok(u) => match store.save_report(&u, now).await? {
                    Saved::Stored(_) => {
                        counts.stored += 1;
                        tracing::info!(source = %terminal_safe(&u.source), "stored report");
                    }
                    Saved::Duplicate => counts.duplicates += 1,
                },
                Err(e) => {
                    all_stored = false;
                    counts.failures += 1;
                    bar.suspend(|| eprintln!("ward: refused {}", terminal_safe(&e.to_string())));
                }
            }
        }
        if all_stored {
            c.command(&format!("UID MOVE {uid} {target}"), 0).await?;
        }
    }
    let _ = c.command("LOGOUT", 0).await;
    Ok(())
}

fn io_refusal(path: &Path, e: &std::io::Error) -> Item {
    Item::Refused(ReportError::new(
        path.display().to_string(),
        Reason::Io {
            message: e.to_string(),
        },
    ))
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Bytes under `path` (regular files, recursively), for the progress bar. Symbolic
/// links to folders are followed only when named on the command line.
fn size_of(path: &Path, top: bool) -> u64 {
    let meta = if top {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    match meta {
        Ok(m) if m.is_file() => m.len(),
        Ok(m) if m.is_dir() => match fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| size_of(&e.path(), false))
                .sum(),
            Err(_) => 0,
        },
        Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
            Ok(t) if t.is_file() => t.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// Adds the units of one source to `out`: itself if it is a file, itself if it is a
/// Maildir, else the units of its entries in name order. Symbolic links to folders are
/// followed only when named on the command line (`top`), so there are no loops.
fn plan(path: &Path, top: bool, out: &mut Vec<Unit>) {
    let meta = if top {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
            // Inside a folder, follow links to files but not to folders (no loops).
            Ok(t) if t.is_file() => t,
            Ok(_) => return,
            Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
        },
        Ok(m) => m,
        Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
    };
    if meta.is_dir() {
        if is_maildir(path) {
            return out.push(Unit::Maildir(path.to_path_buf()));
        }
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(e) => e.filter_map(Result::ok).map(|e| e.path()).collect(),
            Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
        };
        entries.sort();
        for p in &entries {
            plan(p, false, out);
        }
    } else if meta.is_file() {
        out.push(Unit::File(path.to_path_buf()));
    }
}

/// Reads a Maildir, sending what it finds. Returns false once the receiver is gone.
fn walk_maildir(path: &Path, limits: &Limits, tx: &Sender) -> bool {
    let send = |item: Item| tx.send(item);
    let mut alive = true;
    ward_reports::unpack::walk_maildir(path, limits, &mut |r| {
        if alive {
            alive = send(item(r));
        }
    });
    alive && send(Item::Done(size_of(path, true)))
}

/// Reads one file, sending what it finds. Returns false once the receiver is gone.
fn walk(path: &Path, limits: &Limits, tx: &Sender) -> bool {
    let send = |item: Item| tx.send(item);
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return send(io_refusal(path, &e)),
    };
    if !meta.is_file() {
        return true;
    }
    let name = path.display().to_string();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return send(io_refusal(path, &e)),
    };
    let mut alive = true;
    let mut head = [0u8; 5];
    let n = read_head(&mut file, &mut head);
    match file.seek(SeekFrom::Start(0)).map(|_| file) {
        Err(e) => return send(io_refusal(path, &e)),
        Ok(f) if head.get(..n) == Some(b"From ") => {
            // An mbox: read message by message, whatever its size.
            ward_reports::unpack::unpack_mbox(&name, BufReader::new(f), limits, &mut |r| {
                if alive {
                    alive = send(item(r));
                }
            });
        }
        Ok(f) => {
            if meta.len() > limits.max_input_bytes {
                return send(Item::Refused(ReportError::new(
                    name,
                    Reason::LimitExceeded {
                        kind: ward_reports::LimitKind::InputBytes,
                        limit: limits.max_input_bytes,
                    },
                ))) && send(Item::Done(meta.len()));
            }
            let mut bytes = Vec::new();
            // Bounded even if the file grows while we read it.
            if let Err(e) = f
                .take(limits.max_input_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
            {
                return send(io_refusal(path, &e));
            }
            ward_reports::unpack::unpack(&name, &bytes, limits, &mut |r| {
                if alive {
                    alive = send(item(r));
                }
            });
        }
    }
    alive && send(Item::Done(meta.len()))
}

fn read_head(file: &mut File, head: &mut [u8]) -> usize {
    let mut n = 0;
    while n < head.len() {
        match file.read(head.get_mut(n..).unwrap_or_default()) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// A parser's result as an item for the store: reports are encoded here, on the
/// parsing thread, so the store only has to write them.
fn item(r: Result<Unpacked, ReportError>) -> Item {
    match r {
        Ok(u) => match EncodedReport::new(&u) {
            Ok(encoded) => Item::Found(
                Box::new(Parsed {
                    source: u.source,
                    encoded,
                }),
                None,
            ),
            Err(e) => Item::Refused(ReportError::new(
                u.source,
                Reason::Unstorable {
                    message: e.to_string(),
                },
            )),
        },
        Err(e) => Item::Refused(e),
    }
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
    if !args.db.exists() {
        return Err(usage(format!(
            "no database at {}; ingest reports first with `ward reports ingest --db {} SOURCE...`",
            args.db.display(),
            args.db.display()
        )));
    }
    let net = if args.offline {
        None
    } else {
        let cfg = crate::net_config(&args.net)?;
        Some(ward_net::Net::new(cfg).map_err(|e| usage(e.to_string()))?)
    };
    let store = Store::open_sqlite(&args.db).await?;
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
