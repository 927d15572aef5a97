//! The byte-level codec for the handful of TLS structures the engine reads and writes.
//!
//! Reading follows STYLE T4/H2: a [`Reader`] only hands out bytes it has, a
//! length-prefixed field becomes a sub-reader limited to exactly the declared length
//! (checked against what is left *before* anything is taken), and lengths read off the
//! wire come out as [`Wire`] values, so using one without checking it shows up as
//! `.unverified()` in review. Errors carry the absolute byte offset where they happened.

use std::fmt;

/// A number read off the wire and not yet checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire<T>(T);

impl<T: Copy> Wire<T> {
    /// Wraps a value just read.
    pub fn new(v: T) -> Self {
        Wire(v)
    }
    /// The value if `ok` accepts it.
    pub fn verify(self, ok: impl FnOnce(T) -> bool) -> Option<T> {
        if ok(self.0) { Some(self.0) } else { None }
    }
    /// The value, deliberately unchecked (for values that cannot be misused: a code
    /// point looked up in a table, say).
    pub fn unverified(self) -> T {
        self.0
    }
}

/// Why bytes could not be decoded. Positions are offsets from the start of what the
/// server sent on this connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A field needed more bytes than its enclosing structure had.
    Truncated {
        /// The field.
        what: &'static str,
        /// Where it started.
        at: usize,
        /// Bytes it needed.
        needed: usize,
        /// Bytes there were.
        have: usize,
    },
    /// A structure had bytes left over after its last field.
    Trailing {
        /// The structure.
        what: &'static str,
        /// Where the extra bytes start.
        at: usize,
        /// How many.
        extra: usize,
    },
    /// A declared length above what ward accepts for that field.
    TooLarge {
        /// The field.
        what: &'static str,
        /// Where its length was read.
        at: usize,
        /// The declared length.
        declared: usize,
        /// The most ward accepts.
        limit: usize,
    },
    /// A value the protocol forbids in that place.
    Invalid {
        /// The field.
        what: &'static str,
        /// Where it was read.
        at: usize,
        /// The value, as read.
        value: u32,
    },
}

impl DecodeError {
    /// The field being read when it failed.
    pub fn what(&self) -> &'static str {
        match self {
            DecodeError::Truncated { what, .. }
            | DecodeError::Trailing { what, .. }
            | DecodeError::TooLarge { what, .. }
            | DecodeError::Invalid { what, .. } => what,
        }
    }
    /// The byte offset.
    pub fn at(&self) -> usize {
        match self {
            DecodeError::Truncated { at, .. }
            | DecodeError::Trailing { at, .. }
            | DecodeError::TooLarge { at, .. }
            | DecodeError::Invalid { at, .. } => *at,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated {
                what,
                at,
                needed,
                have,
            } => write!(
                f,
                "{what} at byte {at} needs {needed} bytes, only {have} there"
            ),
            DecodeError::Trailing { what, at, extra } => {
                write!(f, "{extra} unexpected bytes after {what} at byte {at}")
            }
            DecodeError::TooLarge {
                what,
                at,
                declared,
                limit,
            } => write!(
                f,
                "{what} at byte {at} declares {declared} bytes, more than the {limit} allowed"
            ),
            DecodeError::Invalid { what, at, value } => {
                write!(f, "{what} at byte {at} has forbidden value {value:#x}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A bounded view over bytes received from a peer.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the peer's stream, for error positions.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, which starts at stream offset `base`.
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Stream offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.left() == 0
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let at = self.offset();
        let have = self.left();
        let end = self.pos.checked_add(n).filter(|_| n <= have);
        match end.and_then(|end| self.buf.get(self.pos..end).map(|s| (s, end))) {
            Some((s, end)) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Truncated {
                what,
                at,
                needed: n,
                have,
            }),
        }
    }

    /// Takes what is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<Wire<u8>, DecodeError> {
        let b = self.take(1, what)?;
        Ok(Wire(b.first().copied().unwrap_or(0)))
    }

    /// A big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<Wire<u16>, DecodeError> {
        let b = self.take(2, what)?;
        let mut a = [0u8; 2];
        a.copy_from_slice(b);
        Ok(Wire(u16::from_be_bytes(a)))
    }

    /// A big-endian u24.
    pub fn u24(&mut self, what: &'static str) -> Result<Wire<u32>, DecodeError> {
        let b = self.take(3, what)?;
        let mut a = [0u8; 4];
        a[1..].copy_from_slice(b);
        Ok(Wire(u32::from_be_bytes(a)))
    }

    fn sub_of(
        &mut self,
        len: usize,
        at: usize,
        what: &'static str,
        limit: usize,
    ) -> Result<Reader<'a>, DecodeError> {
        if len > limit {
            return Err(DecodeError::TooLarge {
                what,
                at,
                declared: len,
                limit,
            });
        }
        let base = self.offset();
        let bytes = self.take(len, what)?;
        Ok(Reader::new(bytes, base))
    }

    /// A field with a one-byte length prefix, as a reader of exactly that length.
    pub fn sub_u8(&mut self, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let at = self.offset();
        let len = usize::from(self.u8(what)?.unverified());
        self.sub_of(len, at, what, usize::MAX)
    }

    /// A field with a two-byte length prefix.
    pub fn sub_u16(&mut self, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let at = self.offset();
        let len = usize::from(self.u16(what)?.unverified());
        self.sub_of(len, at, what, usize::MAX)
    }

    /// A field with a three-byte length prefix, refused above `limit` bytes.
    pub fn sub_u24(&mut self, what: &'static str, limit: usize) -> Result<Reader<'a>, DecodeError> {
        let at = self.offset();
        let len = self.u24(what)?.unverified() as usize;
        self.sub_of(len, at, what, limit)
    }

    /// Fails if anything is left.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                what,
                at: self.offset(),
                extra: self.left(),
            })
        }
    }
}

/// Writes a length-prefixed field: `width` is the prefix size in bytes (1, 2 or 3).
/// Builders only write what ward itself composed, so an oversize body is a bug in
/// ward; it is clamped rather than allowed to wrap.
pub fn put_prefixed(out: &mut Vec<u8>, width: usize, body: &[u8]) {
    let max = (1usize << (8 * width)) - 1;
    let len = body.len().min(max);
    let be = (len as u32).to_be_bytes();
    out.extend_from_slice(&be[4 - width..]);
    out.extend_from_slice(&body[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_reader_refuses_lying_length() {
        // Declares 5 bytes, has 2.
        let mut r = Reader::new(&[0x00, 0x05, 0xaa, 0xbb], 100);
        assert_eq!(
            r.sub_u16("extensions").unwrap_err(),
            DecodeError::Truncated {
                what: "extensions",
                at: 102,
                needed: 5,
                have: 2
            }
        );
    }

    #[test]
    fn u24_limit_is_checked_before_taking() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff], 0);
        assert_eq!(
            r.sub_u24("certificate", 1000).unwrap_err(),
            DecodeError::TooLarge {
                what: "certificate",
                at: 0,
                declared: 0xff_ffff,
                limit: 1000
            }
        );
    }

    #[test]
    fn finish_reports_trailing() {
        let mut r = Reader::new(&[1, 2, 3], 10);
        r.u8("a").unwrap();
        assert_eq!(
            r.finish("thing").unwrap_err(),
            DecodeError::Trailing {
                what: "thing",
                at: 11,
                extra: 2
            }
        );
    }

    #[test]
    fn prefixed_round_trip() {
        let mut out = Vec::new();
        put_prefixed(&mut out, 3, b"abc");
        assert_eq!(out, [0, 0, 3, b'a', b'b', b'c']);
        let mut r = Reader::new(&out, 0);
        let mut s = r.sub_u24("x", 10).unwrap();
        assert_eq!(s.rest(), b"abc");
        r.finish("x").unwrap();
    }
}
