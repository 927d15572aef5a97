//! Macro-strings (RFC 7208 §7.1), parsed into a structure.
//!
//! ```text
//! domain-spec      = macro-string domain-end
//! domain-end       = ( "." toplabel [ "." ] ) / macro-expand
//! toplabel         = ( *alphanum ALPHA *alphanum ) /
//!                    ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
//! explain-string   = *( macro-string / SP )
//! macro-string     = *( macro-expand / macro-literal )
//! macro-expand     = ( "%{" macro-letter transformers *delimiter "}" )
//!                    / "%%" / "%_" / "%-"
//! macro-literal    = %x21-24 / %x26-7E
//! macro-letter     = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"
//! transformers     = *DIGIT [ "r" ]
//! delimiter        = "." / "-" / "+" / "," / "/" / "_" / "="
//! ```
//!
//! ABNF literals are case-insensitive; RFC 7208 §7.3 adds that an upper-case macro letter
//! expands like the lower-case one and is then URL-escaped. Parsing is pure: expanding a
//! macro needs the SMTP session and DNS, and lives with the evaluator in `ward-checks`.

use super::error::{MacroErrorKind, SpfError};

/// A macro letter (RFC 7208 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacroLetter {
    /// `s`: the sender (`local-part@domain`).
    Sender,
    /// `l`: the local-part of the sender.
    LocalPart,
    /// `o`: the domain of the sender.
    SenderDomain,
    /// `d`: the domain whose record is being evaluated.
    Domain,
    /// `i`: the client IP (dotted quad, or dot-separated nibbles for IPv6).
    Ip,
    /// `p`: the validated domain name of the client IP (discouraged).
    ValidatedName,
    /// `h`: the HELO/EHLO domain.
    Helo,
    /// `c`: the client IP in readable form (explanations only).
    ClientIp,
    /// `r`: the domain name of the receiver (explanations only).
    Receiver,
    /// `t`: the current timestamp (explanations only).
    Timestamp,
    /// `v`: `in-addr` for IPv4, `ip6` for IPv6.
    IpVersion,
}

impl MacroLetter {
    /// Reads a letter, ignoring case.
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c.to_ascii_lowercase() {
            's' => MacroLetter::Sender,
            'l' => MacroLetter::LocalPart,
            'o' => MacroLetter::SenderDomain,
            'd' => MacroLetter::Domain,
            'i' => MacroLetter::Ip,
            'p' => MacroLetter::ValidatedName,
            'h' => MacroLetter::Helo,
            'c' => MacroLetter::ClientIp,
            'r' => MacroLetter::Receiver,
            't' => MacroLetter::Timestamp,
            'v' => MacroLetter::IpVersion,
            _ => return None,
        })
    }

    /// The lower-case letter.
    pub fn as_char(self) -> char {
        match self {
            MacroLetter::Sender => 's',
            MacroLetter::LocalPart => 'l',
            MacroLetter::SenderDomain => 'o',
            MacroLetter::Domain => 'd',
            MacroLetter::Ip => 'i',
            MacroLetter::ValidatedName => 'p',
            MacroLetter::Helo => 'h',
            MacroLetter::ClientIp => 'c',
            MacroLetter::Receiver => 'r',
            MacroLetter::Timestamp => 't',
            MacroLetter::IpVersion => 'v',
        }
    }

    /// Whether RFC 7208 §7.1 allows the letter only in explanation text.
    pub fn exp_only(self) -> bool {
        matches!(
            self,
            MacroLetter::ClientIp | MacroLetter::Receiver | MacroLetter::Timestamp
        )
    }
}

/// One `%{...}` expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroExpand {
    /// Which value.
    pub letter: MacroLetter,
    /// The letter was upper case: URL-escape the result (§7.3).
    pub url_escape: bool,
    /// The digit transformer: keep this many right-hand parts. `None` keeps all. Very
    /// large numbers saturate (they keep all parts either way).
    pub keep: Option<u32>,
    /// The `r` transformer: reverse the parts first.
    pub reverse: bool,
    /// The delimiters to split on, as written; empty means `.`.
    pub delimiters: String,
}

/// One piece of a macro-string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroItem {
    /// Text taken as it is (including spaces in explanation text).
    Literal(String),
    /// `%{...}`.
    Expand(MacroExpand),
    /// `%%`: a percent sign.
    Percent,
    /// `%_`: a space.
    Space,
    /// `%-`: `%20`, a URL-encoded space.
    UrlSpace,
}

/// A parsed macro-string, with its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroString {
    /// The text as written.
    pub raw: String,
    /// The pieces, in order. Adjacent literal text is one [`MacroItem::Literal`].
    pub items: Vec<MacroItem>,
}

impl MacroString {
    /// Whether expanding needs anything at all (false for plain text).
    pub fn has_macros(&self) -> bool {
        self.items.iter().any(|i| matches!(i, MacroItem::Expand(_)))
    }

    /// The letters this string expands.
    pub fn letters(&self) -> impl Iterator<Item = MacroLetter> + '_ {
        self.items.iter().filter_map(|i| match i {
            MacroItem::Expand(e) => Some(e.letter),
            _ => None,
        })
    }
}

impl std::fmt::Display for MacroString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Which letters a macro-string may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Letters {
    /// Domain-specs: no `c`, `r`, `t`.
    Domain,
    /// Explanation text and unknown modifiers: all eleven.
    All,
}

/// Parses a macro-string. `base` is the byte offset of `text` in the record, for error
/// positions. `allow_space` admits SP (explain-string). The caller has already checked
/// that every byte is SP or visible ASCII.
pub(crate) fn parse_macro_string(
    text: &str,
    base: usize,
    letters: Letters,
    allow_space: bool,
) -> Result<MacroString, SpfError> {
    let mut items = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = base + i;
        if c == '%' {
            let next = chars.next().map(|(_, n)| n);
            let item = match next {
                Some('%') => MacroItem::Percent,
                Some('_') => MacroItem::Space,
                Some('-') => MacroItem::UrlSpace,
                Some('{') => MacroItem::Expand(parse_expand(&mut chars, at, letters)?),
                other => {
                    return Err(SpfError::Macro {
                        kind: MacroErrorKind::BadPercent { next: other },
                        at,
                    });
                }
            };
            if !literal.is_empty() {
                items.push(MacroItem::Literal(std::mem::take(&mut literal)));
            }
            items.push(item);
        } else if c == ' ' && !allow_space {
            return Err(SpfError::InvalidCharacter { ch: c, at });
        } else if c == ' ' || c.is_ascii_graphic() {
            literal.push(c);
        } else {
            return Err(SpfError::InvalidCharacter { ch: c, at });
        }
    }
    if !literal.is_empty() {
        items.push(MacroItem::Literal(literal));
    }
    Ok(MacroString {
        raw: text.to_owned(),
        items,
    })
}

/// Parses what follows `%{` up to and including `}`.
fn parse_expand(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    at: usize,
    letters: Letters,
) -> Result<MacroExpand, SpfError> {
    let err = |kind| SpfError::Macro { kind, at };
    let Some((_, lc)) = chars.next() else {
        return Err(err(MacroErrorKind::Unterminated));
    };
    let letter = MacroLetter::from_char(lc)
        .ok_or_else(|| err(MacroErrorKind::UnknownLetter { letter: lc }))?;
    if letters == Letters::Domain && letter.exp_only() {
        return Err(err(MacroErrorKind::LetterOnlyInExp {
            letter: letter.as_char(),
        }));
    }
    let url_escape = lc.is_ascii_uppercase();
    let mut keep: Option<u32> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        chars.next();
        keep = Some(keep.unwrap_or(0).saturating_mul(10).saturating_add(v));
    }
    if keep == Some(0) {
        return Err(err(MacroErrorKind::ZeroDigits));
    }
    let mut reverse = false;
    if let Some(&(_, 'r' | 'R')) = chars.peek() {
        chars.next();
        reverse = true;
    }
    let mut delimiters = String::new();
    loop {
        match chars.next() {
            None => return Err(err(MacroErrorKind::Unterminated)),
            Some((_, '}')) => break,
            Some((_, c @ ('.' | '-' | '+' | ',' | '/' | '_' | '='))) => delimiters.push(c),
            Some((_, c)) => return Err(err(MacroErrorKind::InvalidDelimiter { ch: c })),
        }
    }
    Ok(MacroExpand {
        letter,
        url_escape,
        keep,
        reverse,
        delimiters,
    })
}

/// Checks `domain-end`: the string ends in a macro-expand, or in `.` toplabel with an
/// optional final dot. `base` is the offset of the domain-spec for the error.
pub(crate) fn check_domain_end(spec: &MacroString, base: usize) -> Result<(), SpfError> {
    let bad = || SpfError::InvalidDomainEnd {
        domain: spec.raw.clone(),
        at: base,
    };
    match spec.items.last() {
        None => Err(bad()),
        Some(MacroItem::Literal(text)) => {
            let text = text.strip_suffix('.').unwrap_or(text);
            match text.rsplit_once('.') {
                Some((_, top)) if is_toplabel(top) => Ok(()),
                _ => Err(bad()),
            }
        }
        Some(_) => Ok(()),
    }
}

/// `toplabel` (§7.1): letters, digits and hyphens, starting and ending with a letter or
/// digit, and not all digits (so an IP address is never taken for a domain).
pub fn is_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().any(|b| b.is_ascii_alphabetic() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<MacroString, SpfError> {
        parse_macro_string(s, 0, Letters::Domain, false)
    }

    #[test]
    fn transformers_and_delimiters() {
        let m = parse("%{L2r-+}.x").expect("valid");
        assert_eq!(
            m.items,
            vec![
                MacroItem::Expand(MacroExpand {
                    letter: MacroLetter::LocalPart,
                    url_escape: true,
                    keep: Some(2),
                    reverse: true,
                    delimiters: "-+".into(),
                }),
                MacroItem::Literal(".x".into()),
            ]
        );
    }

    #[test]
    fn escapes() {
        let m = parse("a%%b%_c%-").expect("valid");
        assert_eq!(
            m.items,
            vec![
                MacroItem::Literal("a".into()),
                MacroItem::Percent,
                MacroItem::Literal("b".into()),
                MacroItem::Space,
                MacroItem::Literal("c".into()),
                MacroItem::UrlSpace,
            ]
        );
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            parse("ab%{z}"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::UnknownLetter { letter: 'z' },
                at: 2
            })
        );
        assert_eq!(
            parse("x%{c}"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::LetterOnlyInExp { letter: 'c' },
                at: 1
            })
        );
        assert_eq!(
            parse("%{d"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::Unterminated,
                at: 0
            })
        );
        assert_eq!(
            parse("%{d0}"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::ZeroDigits,
                at: 0
            })
        );
        assert_eq!(
            parse("%{dx}"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::InvalidDelimiter { ch: 'x' },
                at: 0
            })
        );
        assert_eq!(
            parse("a%"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::BadPercent { next: None },
                at: 1
            })
        );
        assert_eq!(
            parse("a%x"),
            Err(SpfError::Macro {
                kind: MacroErrorKind::BadPercent { next: Some('x') },
                at: 1
            })
        );
    }

    #[test]
    fn toplabels() {
        for ok in ["com", "c0m", "123-456", "xn--p1ai", "a"] {
            assert!(is_toplabel(ok), "{ok}");
        }
        for bad in ["", "123", "-com", "com-", "c_m", "co/m"] {
            assert!(!is_toplabel(bad), "{bad}");
        }
    }
}
