//! What an ingestion reports as it goes, and how it ends.

use ward_net::imap::ImapError;
use ward_store::StoreError;

use crate::Error;

/// The closing count of an ingestion.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Reports stored for the first time.
    pub stored: u64,
    /// Reports already in the store (nothing written).
    pub duplicates: u64,
    /// Inputs or reports refused, each named to [`Watch::refused`].
    pub failures: u64,
    /// Of the stored reports, those that replaced a shorter stored copy of the same key.
    pub replaced: u64,
    /// Of the duplicates, those whose content differs from the stored copy (kept).
    pub differing: u64,
}

impl Counts {
    /// Counts what the store did with one report, and names a second copy that differs
    /// from the first to `watch`.
    pub fn count(&mut self, source: &str, saved: &ward_store::Saved, watch: &dyn Watch) {
        use ward_store::Saved;
        match saved {
            Saved::Stored(_) => self.stored += 1,
            Saved::Duplicate => self.duplicates += 1,
            Saved::Replaced { .. } => {
                self.stored += 1;
                self.replaced += 1;
                watch.second_copy(source, saved);
            }
            Saved::Differs { .. } => {
                self.duplicates += 1;
                self.differing += 1;
                watch.second_copy(source, saved);
            }
        }
    }
}

/// Whoever follows an ingestion: a progress bar, a log, a worker's job record. Every
/// call comes from the task that stores, one at a time.
pub trait Watch {
    /// The inputs hold this many bytes in all (known once they are listed).
    fn total(&self, _bytes: u64) {}
    /// This many more bytes were read.
    fn read(&self, _bytes: u64) {}
    /// An input or a report was refused; it is counted as a failure and the rest goes on.
    fn refused(&self, _error: &Error) {}
    /// A report arrived whose key was stored already with different content: it
    /// replaced the stored copy ([`ward_store::Saved::Replaced`]) or was not written
    /// ([`ward_store::Saved::Differs`]).
    fn second_copy(&self, _source: &str, _saved: &ward_store::Saved) {}
    /// A batch was stored: the counts so far.
    fn progress(&self, _counts: &Counts) {}
}

/// A [`Watch`] that ignores everything.
pub struct Quiet;

impl Watch for Quiet {}

/// What stops an ingestion (a refused input does not: it is counted and named).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store could not be written; the reports counted before it are stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The IMAP mailbox could not be read.
    #[error(transparent)]
    Imap(#[from] ImapError),
    /// A user name, password or folder cannot be sent to an IMAP server.
    #[error("the IMAP {0} holds a line break")]
    Unquotable(&'static str),
    /// A thread of the ingestion stopped (a bug): which, and why.
    #[error("{0} stopped: {1}")]
    Stopped(&'static str, String),
}
