//! Why an SPF text was refused, with the byte position where the trouble starts.
//!
//! Every variant names a rule of RFC 7208 §12 (the collected ABNF) that the input broke.
//! Positions are byte offsets into the text given to the parser (for a record, offset 0
//! is the `v` of `v=spf1`). There is no catch-all variant: a new way to be wrong gets a
//! new variant, so a check can tell the cases apart without reading error text.

use serde::Serialize;
use thiserror::Error;

/// What is wrong inside a macro-string (RFC 7208 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MacroErrorKind {
    /// `%{` was followed by something that is not one of `s l o d i p h c r t v`.
    UnknownLetter {
        /// The character found where the letter belongs.
        letter: char,
    },
    /// `c`, `r` and `t` are allowed only in explanation text (RFC 7208 §7.1).
    LetterOnlyInExp {
        /// The letter.
        letter: char,
    },
    /// `%{` without its closing `}`.
    Unterminated,
    /// A digit transformer of zero (`%{d0}`): RFC 7208 §7.1 says the number must be nonzero.
    ZeroDigits,
    /// A character inside `%{...}` that is neither a transformer nor a delimiter.
    InvalidDelimiter {
        /// The character.
        ch: char,
    },
    /// `%` followed by something other than `{`, `%`, `_` or `-`.
    BadPercent {
        /// The character after `%`, if any.
        next: Option<char>,
    },
}

impl std::fmt::Display for MacroErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MacroErrorKind::UnknownLetter { letter } => {
                write!(f, "unknown macro letter `{}`", letter.escape_default())
            }
            MacroErrorKind::LetterOnlyInExp { letter } => write!(
                f,
                "macro letter `{letter}` is allowed only in explanation text"
            ),
            MacroErrorKind::Unterminated => f.write_str("`%{` is never closed by `}`"),
            MacroErrorKind::ZeroDigits => f.write_str("a macro's digit transformer must not be 0"),
            MacroErrorKind::InvalidDelimiter { ch } => write!(
                f,
                "`{}` is not a macro delimiter (one of . - + , / _ =)",
                ch.escape_default()
            ),
            MacroErrorKind::BadPercent { next: Some(c) } => write!(
                f,
                "`%` must be followed by `{{`, `%`, `_` or `-`, not `{}`",
                c.escape_default()
            ),
            MacroErrorKind::BadPercent { next: None } => {
                f.write_str("`%` at the end of the text (write `%%` for a percent sign)")
            }
        }
    }
}

/// Why an SPF record (or a piece of one) does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum SpfError {
    /// The text is longer than [`crate::spf::Limits::max_bytes`]; nothing was parsed.
    #[error("record is {len} bytes, over the limit of {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The record has more terms than [`crate::spf::Limits::max_terms`]; nothing was parsed.
    #[error("record has more than {max} terms (the first one over starts at byte {at})")]
    TooManyTerms {
        /// The limit.
        max: usize,
        /// Where the first term over the limit starts.
        at: usize,
    },
    /// A byte that SPF does not allow: records are 7-bit ASCII, visible characters and
    /// spaces only (RFC 7208 §3.1, §4.6.1); a tab, CR or LF is not a term separator.
    #[error("character {} at byte {at} is not allowed in SPF (visible ASCII and spaces only)", ch.escape_default())]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
    /// The text does not start with `v=spf1` followed by a space or its end (§4.5).
    #[error("record does not start with `v=spf1` followed by a space or the end")]
    NotSpf1 {
        /// Always 0: where the version should be.
        at: usize,
    },
    /// A term whose name is not one of the eight mechanisms and which is not a modifier.
    #[error("unknown mechanism `{name}` at byte {at}")]
    UnknownMechanism {
        /// The name as written (up to the first `:`, `/` or `=`).
        name: String,
        /// Where the term starts.
        at: usize,
    },
    /// A mechanism that needs a domain-spec (`include`, `exists`) has none, or `name:`
    /// is followed by nothing.
    #[error("`{mechanism}` at byte {at} needs a domain after `:`")]
    MissingDomainSpec {
        /// The mechanism.
        mechanism: &'static str,
        /// Where the missing domain should start.
        at: usize,
    },
    /// A mechanism was given an argument it does not take (`all:x`, `ptr/24`, `include/24`).
    #[error("`{mechanism}` takes no argument of this kind (byte {at})")]
    UnexpectedArgument {
        /// The mechanism.
        mechanism: &'static str,
        /// Where the argument starts.
        at: usize,
    },
    /// A domain-spec does not end in a macro or in `.` and a top label of letters, digits
    /// and hyphens that is not all digits (`domain-end`, §7.1).
    #[error("domain `{domain}` at byte {at} does not end in a valid top-level label or a macro")]
    InvalidDomainEnd {
        /// The domain-spec as written.
        domain: String,
        /// Where it starts.
        at: usize,
    },
    /// `ip4:` is not followed by a dotted-quad IPv4 address.
    #[error("`{text}` at byte {at} is not an IPv4 address")]
    InvalidIp4 {
        /// What was written.
        text: String,
        /// Where it starts.
        at: usize,
    },
    /// `ip6:` is not followed by an IPv6 address.
    #[error("`{text}` at byte {at} is not an IPv6 address")]
    InvalidIp6 {
        /// What was written.
        text: String,
        /// Where it starts.
        at: usize,
    },
    /// A CIDR length that is not a number without leading zeros, or is over 32 (IPv4) or
    /// 128 (IPv6) (§5.6).
    #[error("invalid CIDR length `{text}` at byte {at} (at most {max})")]
    InvalidCidr {
        /// What was written after the slash.
        text: String,
        /// The largest length allowed here.
        max: u8,
        /// Where the slash is.
        at: usize,
    },
    /// A malformed macro-string.
    #[error("{kind} (byte {at})")]
    Macro {
        /// What is wrong.
        kind: MacroErrorKind,
        /// Where the macro starts.
        at: usize,
    },
    /// `redirect` or `exp` appears more than once (§6: permerror).
    #[error("modifier `{name}` appears a second time at byte {at}")]
    DuplicateModifier {
        /// The modifier (lower case).
        name: String,
        /// Where the second one starts.
        at: usize,
    },
    /// `redirect=` or `exp=` with nothing after the `=`.
    #[error("modifier `{name}` at byte {at} has no domain")]
    EmptyModifier {
        /// The modifier (lower case).
        name: String,
        /// Where the modifier starts.
        at: usize,
    },
}

impl SpfError {
    /// The byte offset the error points at.
    pub fn at(&self) -> usize {
        match self {
            SpfError::TooLong { .. } => 0,
            SpfError::TooManyTerms { at, .. }
            | SpfError::InvalidCharacter { at, .. }
            | SpfError::NotSpf1 { at }
            | SpfError::UnknownMechanism { at, .. }
            | SpfError::MissingDomainSpec { at, .. }
            | SpfError::UnexpectedArgument { at, .. }
            | SpfError::InvalidDomainEnd { at, .. }
            | SpfError::InvalidIp4 { at, .. }
            | SpfError::InvalidIp6 { at, .. }
            | SpfError::InvalidCidr { at, .. }
            | SpfError::Macro { at, .. }
            | SpfError::DuplicateModifier { at, .. }
            | SpfError::EmptyModifier { at, .. } => *at,
        }
    }
}
