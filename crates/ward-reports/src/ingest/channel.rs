//! The hand-over between the parsing threads and the task that stores: units of work
//! in, items out, with a budget of parsed records per thread.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use ward_model::report_rows::ReportRows;

use crate::{Error, Reason, Unpacked, rows};

/// One piece of work for a parsing thread, in the order the sources name them.
pub(crate) enum Unit {
    /// A file (plain, compressed, a message or an mbox).
    File(PathBuf),
    /// A Maildir, read as one unit.
    Maildir(PathBuf),
    /// Bytes already in memory.
    Bytes { name: String, bytes: Vec<u8> },
    /// A source that could not be read (its refusal).
    Unreadable(PathBuf, std::io::Error),
}

/// What a parsing thread hands to the storing task.
pub(crate) enum Item {
    /// A report's rows, with the share of its thread's budget they hold until stored.
    Found(Box<ReportRows>, Option<OwnedSemaphorePermit>),
    /// A part of a report too large to hold whole, read in chunks; its records hold
    /// budget like a report's.
    Part(Part, Option<OwnedSemaphorePermit>),
    /// A large file already stored whole, met again: skipped unread, a duplicate.
    Known(String),
    /// An input refused.
    Refused(Error),
    /// A file was read to the end; its size.
    Done(u64),
    /// The unit of work is finished; the next one comes from the next parser.
    EndOfUnit,
}

/// The parts of a report read in chunks, in the order they come.
pub(crate) enum Part {
    /// Its own row and first records.
    Start(Box<ReportRows>),
    /// More records.
    More(Box<ReportRows>),
    /// Its own row again, final; the report is complete.
    End(Box<ReportRows>),
    /// It turned out not to be a report (its refusal follows): drop what was written.
    Abort,
}

/// Items in flight between each parsing thread and the store (reports are bounded
/// further by [`RECORDS_IN_FLIGHT`]).
pub(crate) const IN_FLIGHT: usize = 256;

/// Aggregate records (a report counts at least one) a parsing thread may have parsed and
/// not yet stored. Enough for a thread to run well ahead while another parses a large
/// mbox, yet memory stays a few megabytes per thread whatever the corpus; a report larger
/// than this goes alone.
pub(crate) const RECORDS_IN_FLIGHT: u32 = 20_000;

/// The sending end of one parsing thread: a channel, and the thread's budget of records.
pub(crate) struct Sender {
    tx: mpsc::Sender<Item>,
    budget: Arc<Semaphore>,
}

impl Sender {
    /// A channel with a fresh budget, and its receiving end.
    pub(crate) fn channel() -> (Sender, mpsc::Receiver<Item>) {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let budget = Arc::new(Semaphore::new(RECORDS_IN_FLIGHT as usize));
        (Sender { tx, budget }, rx)
    }

    /// Sends an item, first waiting for budget if it is a report. False once the store
    /// has gone.
    pub(crate) fn send(&self, item: Item) -> bool {
        let weigh = |rows: usize| {
            let weight = u32::try_from(rows)
                .unwrap_or(u32::MAX)
                .clamp(1, RECORDS_IN_FLIGHT);
            futures::executor::block_on(Arc::clone(&self.budget).acquire_many_owned(weight)).ok()
        };
        let item = match item {
            Item::Found(u, _) => match weigh(u.rows()) {
                Some(p) => Item::Found(u, Some(p)),
                None => return false,
            },
            Item::Part(part @ (Part::Start(_) | Part::More(_)), _) => {
                let rows = match &part {
                    Part::Start(r) | Part::More(r) => r.rows(),
                    _ => 0,
                };
                match weigh(rows) {
                    Some(p) => Item::Part(part, Some(p)),
                    None => return false,
                }
            }
            other => other,
        };
        self.tx.blocking_send(item).is_ok()
    }
}

/// A parser's result as an item for the store: reports are encoded here, on the
/// parsing thread, so the store only has to write them.
pub(crate) fn item(r: Result<Unpacked, Error>) -> Item {
    match r.and_then(|u| rows::encode(&u)) {
        Ok(rows) => Item::Found(Box::new(rows), None),
        Err(e) => Item::Refused(e),
    }
}

/// The refusal of a source that could not be read.
pub(crate) fn io_refusal(path: &std::path::Path, e: &std::io::Error) -> Item {
    Item::Refused(Error::new(
        path.display().to_string(),
        Reason::Io {
            message: e.to_string(),
        },
    ))
}
