//! Report ingestion: every report in files, folders, mbox files, Maildirs, bytes in
//! memory and IMAP mailboxes, stored once each.
//!
//! Ingestion streams: the sources are listed as units (files, Maildirs), a few blocking
//! threads unpack one unit at a time each ([`crate::unpack`]) and hand each report's rows
//! ([`crate::rows`]) through their own channels to the task that stores them, in source
//! order. Memory is bounded by one input per thread (an mbox is read message by message)
//! and a budget of parsed records per thread, never by the size of the corpus. One
//! refused report is named to the [`Watch`] and counted; the batch goes on.

mod channel;
mod files;
mod imap;
mod watch;

use std::path::PathBuf;

use time::OffsetDateTime;
use tokio::sync::OwnedSemaphorePermit;
use ward_model::report_rows::ReportRows;
use ward_store::{ReportStream, Saved, Store};

use crate::{Limits, ReportKey};
use channel::{Item, Part, Sender, Unit, io_refusal};

pub use imap::{ImapSource, ingest_imap};
pub use watch::{Counts, IngestError, Quiet, Watch};

/// One input to [`ingest`].
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

/// Most reports handed to the store at once (one transaction, a savepoint per report).
const STORE_BATCH: usize = 64;

/// The reports gathered for the store, each with the budget it holds until stored.
#[derive(Default)]
struct Batch {
    reports: Vec<(ReportRows, Option<OwnedSemaphorePermit>)>,
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
        watch: &dyn Watch,
    ) -> Result<(), IngestError> {
        if self.reports.is_empty() {
            return Ok(());
        }
        for (p, _) in &self.reports {
            tracing::info!(source = ?p.source, "storing report");
        }
        let rows: Vec<&ReportRows> = self.reports.iter().map(|(p, _)| p).collect();
        let (saved, error) = store.save_reports(&rows, now).await;
        for ((p, _), s) in self.reports.iter().zip(&saved) {
            if let Saved::Stored(_) | Saved::Replaced { .. } = s {
                tracing::info!(source = ?p.source, "stored report");
            }
            counts.count(&p.source, s, watch);
        }
        self.reports.clear();
        watch.progress(counts);
        match error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// Most parsing threads, whatever the machine has.
const MAX_PARSERS: usize = 4;

/// Stores every report in `inputs`: what `ward reports ingest`, `ward demo` and any
/// service job share.
/// A blocking thread walks and unpacks the inputs and hands reports through a short
/// channel to this task, which stores them in batches, each report whole or not at all. Refusals are printed
/// and counted; a database error stops the run and comes back with the counts so far.
pub async fn ingest(
    store: &Store,
    inputs: Vec<Input>,
    watch: &dyn Watch,
    now: OffsetDateTime,
) -> Result<Counts, (IngestError, Counts)> {
    let mut counts = Counts::default();
    // The sources become a list of units (files, Maildirs, in-memory inputs) in the
    // order a single walk would meet them.
    let planned = tokio::task::spawn_blocking(move || {
        let mut units = Vec::new();
        let mut total = 0u64;
        for input in inputs {
            match input {
                Input::Path(p) => {
                    total += files::size_of(&p, true);
                    files::plan(&p, true, &mut units);
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
                IngestError::Stopped("the source walker", e.to_string()),
                counts,
            ));
        }
    };
    watch.total(total);
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
        let (tx, rx) = Sender::channel();
        receivers.push(rx);
        let units = std::sync::Arc::clone(&units);
        let store = store.clone();
        let runtime = tokio::runtime::Handle::current();
        workers.push(tokio::task::spawn_blocking(move || {
            let limits = Limits::default();
            // A large file is looked up before it is read (see `files::walk_large`); a
            // failed lookup only means it is read.
            let known = |key: &ReportKey, digest: &str| {
                let lookup = store.has_report_from_file(
                    key.kind.as_str(),
                    &key.reporter_org,
                    key.reporter_email.as_deref().unwrap_or(""),
                    &key.report_id,
                    key.begin,
                    key.end,
                    digest,
                );
                runtime.block_on(lookup).unwrap_or(false)
            };
            for unit in units.iter().skip(k).step_by(parsers) {
                let alive = match unit {
                    Unit::File(p) => files::walk(p, &limits, &tx, &known),
                    Unit::Maildir(p) => files::walk_maildir(p, &limits, &tx),
                    Unit::Bytes { name, bytes } => files::unpack_bytes(name, bytes, &limits, &tx),
                    Unit::Unreadable(p, e) => tx.send(io_refusal(p, e)),
                };
                if !alive || !tx.send(Item::EndOfUnit) {
                    return;
                }
            }
        }));
    }
    let outcome: Result<(), IngestError> = async {
        let mut batch = Batch::default();
        // The report being stored in parts, if any: while it is open it holds the
        // database's write lock, so nothing else is stored until it ends.
        let mut open: Option<(ReportStream, Option<OwnedSemaphorePermit>)> = None;
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
                        batch.store(store, now, &mut counts, watch).await?;
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
                            batch.store(store, now, &mut counts, watch).await?;
                        }
                    }
                    Item::Part(part, permit) => match part {
                        Part::Start(rows) => {
                            batch.store(store, now, &mut counts, watch).await?;
                            if let Some((stream, _)) = open.take() {
                                stream.abort().await?;
                            }
                            tracing::info!(source = ?rows.source, "storing report in parts");
                            open = Some((store.begin_report(&rows, now).await?, permit));
                        }
                        Part::More(rows) => {
                            if let Some((stream, held)) = open.as_mut() {
                                stream.add(&rows).await?;
                                // The records are written: their budget may go.
                                *held = permit;
                            }
                        }
                        Part::End(rows) => {
                            if let Some((stream, _)) = open.take() {
                                let saved = stream.finish(&rows).await?;
                                if let Saved::Stored(_) | Saved::Replaced { .. } = saved {
                                    tracing::info!(source = ?rows.source, "stored report");
                                }
                                counts.count(&rows.source, &saved, watch);
                                watch.progress(&counts);
                            }
                        }
                        Part::Abort => {
                            if let Some((stream, _)) = open.take() {
                                stream.abort().await?;
                            }
                        }
                    },
                    Item::Known(source) => {
                        tracing::info!(source = ?source, "file stored before; skipped unread");
                        counts.duplicates += 1;
                    }
                    Item::EndOfUnit => break,
                    Item::Done(n) => watch.read(n),
                    Item::Refused(e) => {
                        counts.failures += 1;
                        watch.refused(&e);
                    }
                }
            }
        }
        batch.store(store, now, &mut counts, watch).await?;
        Ok(())
    }
    .await;
    // On a database error the receivers are dropped here, which stops the parsers.
    drop(receivers);
    for w in workers {
        if let Err(e) = w.await {
            return Err((
                IngestError::Stopped("a report parser", e.to_string()),
                counts,
            ));
        }
    }
    match outcome {
        Ok(()) => Ok(counts),
        Err(e) => Err((e, counts)),
    }
}
