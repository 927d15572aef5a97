//! Errors: every refusal names the input it came from and why, with a byte
//! offset into the (decompressed) document where one is known.

use std::fmt;

/// A report that could not be unpacked or parsed.
///
/// `input` names where the bytes came from: the file name given to
/// [`crate::unpack::unpack`], followed by `/`-separated container steps
/// (`reports.mbox/#3/part2/google.com!x!1!2.xml`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {reason}")]
pub struct Error {
    /// Where the refused bytes came from.
    pub input: String,
    /// Why they were refused.
    pub reason: Reason,
}

impl Error {
    /// Attach an input name to a reason.
    pub fn new(input: impl Into<String>, reason: Reason) -> Self {
        Error {
            input: input.into(),
            reason,
        }
    }
}

/// Where in a document something was found: a 1-based line and a 0-based
/// byte offset, each 0 when unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    /// 1-based line number; 0 when unknown.
    pub line: u64,
    /// Byte offset into the (decompressed) document; 0 when unknown.
    pub byte: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.byte) {
            (0, b) => write!(f, "byte {b}"),
            (l, 0) => write!(f, "line {l}"),
            (l, b) => write!(f, "line {l} (byte {b})"),
        }
    }
}

/// Which limit of [`crate::Limits`] stopped the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `Limits::max_decompressed_bytes`.
    DecompressedBytes,
    /// `Limits::max_compression_ratio`.
    CompressionRatio,
    /// `Limits::max_zip_members`.
    ZipMembers,
    /// `Limits::max_nesting`.
    Nesting,
    /// `Limits::max_xml_depth`.
    XmlDepth,
    /// `Limits::max_input_bytes`.
    InputBytes,
    /// `Limits::max_text_bytes`.
    TextBytes,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::DecompressedBytes => "decompressed size",
            LimitKind::CompressionRatio => "compression ratio",
            LimitKind::ZipMembers => "zip member count",
            LimitKind::Nesting => "container nesting",
            LimitKind::XmlDepth => "XML element depth",
            LimitKind::InputBytes => "input size",
            LimitKind::TextBytes => "element text size",
        })
    }
}

/// Why an input was refused. No catch-all variant: every refusal has a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// Zero bytes, or only whitespace and byte-order marks.
    #[error("empty input")]
    Empty,
    /// The first bytes match no format we read (XML, JSON, gzip, zlib, zip,
    /// RFC 5322 message, mbox).
    #[error("unrecognised content (first bytes {first_bytes})")]
    UnrecognisedContent {
        /// Hex of up to the first 8 bytes.
        first_bytes: String,
    },
    /// A limit was exceeded.
    #[error("{kind} limit {limit} exceeded")]
    LimitExceeded {
        /// Which limit.
        kind: LimitKind,
        /// Its value.
        limit: u64,
    },
    /// Not well-formed XML.
    #[error("malformed XML at {at}: {message}")]
    Xml {
        /// Where.
        at: Pos,
        /// What the XML reader said.
        message: String,
    },
    /// The document ends before its root element is closed: a partial download, a
    /// clipped attachment, a compressed stream that stopped early. Never stored, so that
    /// the complete copy, when it comes, is not taken for a duplicate.
    #[error(
        "cut off: the document ends at {at} with {open} element(s) still open; a complete report ends with </feedback>"
    )]
    Truncated {
        /// Where the document ends.
        at: Pos,
        /// How many elements were open there.
        open: u64,
    },
    /// A message part that says it is a report (by its type or file name) whose
    /// content, once its transfer encoding is undone, is no format ward reads: most
    /// often an attachment cut off or mangled in transit.
    #[error(
        "attachment of type {content_type} is not a readable report (first bytes {first_bytes}); cut off or badly encoded?"
    )]
    UnreadableAttachment {
        /// Its declared content type.
        content_type: String,
        /// Hex of up to its first 8 bytes.
        first_bytes: String,
    },
    /// Bytes that are not UTF-8 in a document read as UTF-8.
    #[error("invalid UTF-8 at or after {at}")]
    InvalidUtf8 {
        /// Where the text holding the bad sequence starts.
        at: Pos,
    },
    /// A `<!DOCTYPE>`; DTDs are never processed.
    #[error("DOCTYPE at {at}: DTDs are not accepted")]
    Doctype {
        /// Where.
        at: Pos,
    },
    /// An entity reference other than the five XML predefined ones or a
    /// character reference; entities are never expanded.
    #[error("entity reference &{name}; at {at} is not allowed")]
    Entity {
        /// Entity name.
        name: String,
        /// Where.
        at: Pos,
    },
    /// An XML document whose root element is not `feedback`.
    #[error("root element <{root}> is not <feedback>")]
    NotFeedback {
        /// Local name of the root element found.
        root: String,
    },
    /// A required element is absent or empty.
    #[error("required element {path} missing or empty")]
    MissingElement {
        /// Slash-separated element path, e.g. `record/row/source_ip`.
        path: String,
    },
    /// An element or field whose text cannot be read as its type.
    #[error("invalid value {value:?} for {path} at {at}")]
    InvalidValue {
        /// Element path or field name.
        path: String,
        /// The offending text (truncated to 100 characters).
        value: String,
        /// Where (for a failure report: the line within its feedback part).
        at: Pos,
    },
    /// JSON syntax error.
    #[error("malformed JSON at line {line} column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
    /// Well-formed JSON that is not an RFC 8460 report.
    #[error("JSON is not an SMTP TLS report (line {line} column {column}): {message}")]
    NotTlsReport {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong, e.g. a missing field.
        message: String,
    },
    /// Well-formed JSON that is neither an SMTP TLS report nor a DMARC
    /// aggregate report.
    #[error("JSON is neither a DMARC aggregate report nor an SMTP TLS report: it is {looked_like}")]
    UnknownJson {
        /// What it was, e.g. "an object with keys name, items".
        looked_like: String,
    },
    /// The gzip, zlib or deflate stream is corrupt.
    #[error("corrupt compressed stream: {message}")]
    Decompress {
        /// What the decoder said.
        message: String,
    },
    /// The zip archive is corrupt or uses an unsupported feature.
    #[error("unreadable zip archive: {message}")]
    Zip {
        /// What the zip reader said.
        message: String,
    },
    /// A zip archive with no XML or JSON member.
    #[error("zip archive holds no report member")]
    EmptyArchive,
    /// The RFC 5322 message could not be read.
    #[error("unreadable mail message")]
    Mime,
    /// An RFC 5322 message with no report in any part: no aggregate
    /// attachment, no TLS report, no `message/feedback-report` part.
    #[error("mail message holds no report (parts seen: {parts})")]
    NoReportInMessage {
        /// The content types of its parts, comma-separated.
        parts: String,
    },
    /// A failure report whose `message/feedback-report` part lacks a field
    /// RFC 5965 requires.
    #[error("feedback report lacks required field {field}")]
    MissingField {
        /// Field name as in the RFC.
        field: &'static str,
    },
    /// A file-system error while walking a Maildir or reading a file.
    #[error("I/O error: {message}")]
    Io {
        /// The OS error text.
        message: String,
    },
    /// A parsed report whose values the store could not encode (never expected: every
    /// value is text the parser produced).
    #[error("cannot encode the report for the store: {message}")]
    Unstorable {
        /// What the encoder said.
        message: String,
    },
}

/// Cut long values down for error messages.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 100;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}
