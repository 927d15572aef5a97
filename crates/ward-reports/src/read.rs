//! Reading outside bytes under the limits: the counting reader that stops a
//! decompression bomb, and how its I/O errors become a [`Reason`]. Shared by the
//! unpacker and the report parsers, which read from its streams.

use std::io::{self, BufRead, Read};

use crate::error::{LimitKind, Reason};
use crate::limits::Limits;

/// The marker carried inside an `io::Error` when a counting reader stops.
#[derive(Debug)]
struct LimitHit {
    kind: LimitKind,
    limit: u64,
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} limit {} exceeded", self.kind, self.limit)
    }
}

impl std::error::Error for LimitHit {}

/// Map an I/O error from a (decompressing, counting) reader to a reason.
pub(crate) fn io_reason(e: &io::Error) -> Reason {
    if let Some(hit) = e.get_ref().and_then(|i| i.downcast_ref::<LimitHit>()) {
        return Reason::LimitExceeded {
            kind: hit.kind,
            limit: hit.limit,
        };
    }
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
            Reason::Decompress {
                message: e.to_string(),
            }
        }
        _ => Reason::Io {
            message: e.to_string(),
        },
    }
}

/// A reader that fails once more than `cap` bytes have come through it.
pub(crate) struct Counting<R> {
    inner: R,
    seen: u64,
    cap: u64,
    kind: LimitKind,
    limit: u64,
}

impl<R> Counting<R> {
    /// Bound `inner`, which inflates `compressed` bytes, by both the size and
    /// the ratio limit; the smaller wins and names the error.
    pub(crate) fn new(inner: R, compressed: u64, limits: &Limits) -> Self {
        let by_ratio = compressed.saturating_mul(limits.max_compression_ratio);
        let (cap, kind, limit) = if by_ratio < limits.max_decompressed_bytes {
            (
                by_ratio,
                LimitKind::CompressionRatio,
                limits.max_compression_ratio,
            )
        } else {
            (
                limits.max_decompressed_bytes,
                LimitKind::DecompressedBytes,
                limits.max_decompressed_bytes,
            )
        };
        Counting {
            inner,
            seen: 0,
            cap,
            kind,
            limit,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never ask for more than one byte past the cap.
        let room = self.cap.saturating_sub(self.seen).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let slice = buf.get_mut(..want).unwrap_or_default();
        let n = self.inner.read(slice).map_err(|e| match e.kind() {
            // Say where the stream stopped: a compressed file cut off in transit ends
            // with one of these.
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
                if e.get_ref().is_none_or(|i| !i.is::<LimitHit>()) =>
            {
                io::Error::new(
                    e.kind(),
                    format!("{e}, after {} bytes of output", self.seen),
                )
            }
            _ => e,
        })?;
        self.seen = self.seen.saturating_add(n as u64);
        if self.seen > self.cap {
            return Err(io::Error::other(LimitHit {
                kind: self.kind,
                limit: self.limit,
            }));
        }
        Ok(n)
    }
}

/// Skip a UTF-8 byte-order mark and report an empty stream.
pub(crate) fn skip_bom<R: BufRead>(reader: &mut R) -> Result<(), Reason> {
    let head = reader.fill_buf().map_err(|e| io_reason(&e))?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(())
}
