//! `Permissions-Policy` header values (W3C Permissions Policy §5.2, a Structured Field
//! Dictionary, RFC 9651 §3.2).
//!
//! ```text
//! Permissions-Policy = sf-dictionary
//! member             = feature-identifier [ "=" allowlist ] *( ";" parameter )
//! allowlist          = "*" / "self" / origin-string / inner-list of those
//! feature-identifier = lcalpha / "*" , then *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
//! ```
//!
//! A member without `=` is the boolean `true`, which is not an allowlist browsers accept;
//! it is kept as [`Allowlist::Other`]. §5.2: a header that does not parse as a dictionary
//! is ignored as a whole, so a parse error here means "no policy in effect". Parameters
//! (after `;`) are read and dropped. Duplicate keys: the last one wins (RFC 9651 §4.2.2).

use serde::Serialize;

/// Bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest value, in bytes. Default 8192.
    pub max_bytes: usize,
    /// Most members. Default 128.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8192,
            max_members: 128,
        }
    }
}

/// Who a feature is allowed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Allowlist {
    /// `*`, alone or in the list: every origin, embedded ones included.
    All,
    /// `()`: nobody.
    None,
    /// `self` and/or named origins.
    Origins {
        /// `self` is in the list.
        own: bool,
        /// The quoted origins, as written.
        origins: Vec<String>,
    },
    /// A value browsers do not read as an allowlist (a boolean, a number, an unknown
    /// token); the feature keeps its default.
    Other,
}

/// A parsed header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionsPolicy {
    /// The value as received.
    pub raw: String,
    /// Features and their allowlists, in order, duplicates resolved (last wins).
    pub features: Vec<(String, Allowlist)>,
}

impl PermissionsPolicy {
    /// The allowlist for `feature`, if the policy names it.
    pub fn get(&self, feature: &str) -> Option<&Allowlist> {
        self.features
            .iter()
            .find(|(f, _)| f == feature)
            .map(|(_, a)| a)
    }
}

/// Why a value does not parse (and so is ignored by browsers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum PermissionsError {
    /// Longer than [`Limits::max_bytes`].
    #[error("value is {len} bytes, over the {limit}-byte limit")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_members`] members.
    #[error("more than {limit} members")]
    TooManyMembers {
        /// Limit.
        limit: usize,
    },
    /// Not a Structured Field Dictionary at byte `at`.
    #[error("not a structured dictionary at byte {at}: {problem}")]
    Syntax {
        /// Byte offset.
        at: usize,
        /// What was expected.
        problem: &'static str,
    },
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }
    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }
    fn err(&self, problem: &'static str) -> PermissionsError {
        PermissionsError::Syntax {
            at: self.at,
            problem,
        }
    }
    /// `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`
    fn key(&mut self) -> Result<String, PermissionsError> {
        let start = self.at;
        match self.peek() {
            Some(b'a'..=b'z' | b'*') => self.at += 1,
            _ => return Err(self.err("a lower-case key")),
        }
        while matches!(
            self.peek(),
            Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*')
        ) {
            self.at += 1;
        }
        Ok(String::from_utf8_lossy(self.s.get(start..self.at).unwrap_or_default()).into_owned())
    }
}

/// A bare item, as far as an allowlist cares.
enum Item {
    Star,
    SelfToken,
    Origin(String),
    Other,
}

fn bare_item(c: &mut Cursor<'_>) -> Result<Item, PermissionsError> {
    match c.peek() {
        Some(b'"') => {
            c.at += 1;
            let mut out = Vec::new();
            loop {
                match c.peek() {
                    None => return Err(c.err("a closing quote")),
                    Some(b'\\') => {
                        c.at += 1;
                        match c.peek() {
                            Some(b @ (b'"' | b'\\')) => {
                                out.push(b);
                                c.at += 1;
                            }
                            _ => return Err(c.err("an escaped quote or backslash")),
                        }
                    }
                    Some(b'"') => {
                        c.at += 1;
                        return Ok(Item::Origin(String::from_utf8_lossy(&out).into_owned()));
                    }
                    Some(b) if (0x20..0x7f).contains(&b) => {
                        out.push(b);
                        c.at += 1;
                    }
                    Some(_) => return Err(c.err("a printable character")),
                }
            }
        }
        // Token: ( ALPHA / "*" ) *( tchar / ":" / "/" )
        Some(b'*' | b'a'..=b'z' | b'A'..=b'Z') => {
            let start = c.at;
            c.at += 1;
            while matches!(c.peek(), Some(b) if b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b))
            {
                c.at += 1;
            }
            Ok(match c.s.get(start..c.at).unwrap_or_default() {
                b"*" => Item::Star,
                b"self" => Item::SelfToken,
                _ => Item::Other,
            })
        }
        // Integer, decimal, byte sequence, boolean: not allowlist members.
        Some(b'-' | b'0'..=b'9' | b':' | b'?' | b'@' | b'%') => {
            c.at += 1;
            while matches!(c.peek(), Some(b) if !matches!(b, b' ' | b'\t' | b',' | b';' | b')')) {
                c.at += 1;
            }
            Ok(Item::Other)
        }
        _ => Err(c.err("an item")),
    }
}

fn parameters(c: &mut Cursor<'_>) -> Result<(), PermissionsError> {
    while c.peek() == Some(b';') {
        c.at += 1;
        c.skip_sp();
        c.key()?;
        if c.peek() == Some(b'=') {
            c.at += 1;
            bare_item(c)?;
        }
    }
    Ok(())
}

fn allowlist(items: &[Item]) -> Allowlist {
    if items.iter().any(|i| matches!(i, Item::Star)) {
        return Allowlist::All;
    }
    if items.is_empty() {
        return Allowlist::None;
    }
    if items.iter().any(|i| matches!(i, Item::Other)) {
        return Allowlist::Other;
    }
    Allowlist::Origins {
        own: items.iter().any(|i| matches!(i, Item::SelfToken)),
        origins: items
            .iter()
            .filter_map(|i| match i {
                Item::Origin(o) => Some(o.clone()),
                _ => None,
            })
            .collect(),
    }
}

/// Parses a `Permissions-Policy` value (several header lines joined with `,`).
pub fn parse(text: &str, limits: &Limits) -> Result<PermissionsPolicy, PermissionsError> {
    if text.len() > limits.max_bytes {
        return Err(PermissionsError::TooLong {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    let mut c = Cursor {
        s: text.as_bytes(),
        at: 0,
    };
    let mut features: Vec<(String, Allowlist)> = Vec::new();
    c.skip_sp();
    while c.peek().is_some() {
        if features.len() >= limits.max_members {
            return Err(PermissionsError::TooManyMembers {
                limit: limits.max_members,
            });
        }
        let key = c.key()?;
        let list = if c.peek() == Some(b'=') {
            c.at += 1;
            if c.peek() == Some(b'(') {
                c.at += 1;
                let mut items = Vec::new();
                loop {
                    c.skip_sp();
                    if c.peek() == Some(b')') {
                        c.at += 1;
                        break;
                    }
                    if c.peek().is_none() {
                        return Err(c.err("a closing parenthesis"));
                    }
                    items.push(bare_item(&mut c)?);
                    parameters(&mut c)?;
                    if c.peek().is_none() {
                        return Err(c.err("a closing parenthesis"));
                    }
                    if !matches!(c.peek(), Some(b' ' | b')')) {
                        return Err(c.err("a space or a closing parenthesis"));
                    }
                }
                allowlist(&items)
            } else {
                allowlist(&[bare_item(&mut c)?])
            }
        } else {
            Allowlist::Other
        };
        parameters(&mut c)?;
        features.retain(|(f, _)| *f != key);
        features.push((key, list));
        c.skip_ows();
        match c.peek() {
            None => break,
            Some(b',') => {
                c.at += 1;
                c.skip_ows();
                if c.peek().is_none() {
                    return Err(c.err("a member after the comma"));
                }
            }
            Some(_) => return Err(c.err("a comma")),
        }
    }
    Ok(PermissionsPolicy {
        raw: text.to_string(),
        features,
    })
}

/// Features that reach a visitor's devices, money or whereabouts: granting one to every
/// origin lets any embedded page (an advert, a compromised widget) ask for it.
pub const POWERFUL: &[&str] = &[
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "serial",
    "hid",
    "bluetooth",
    "display-capture",
    "midi",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<PermissionsPolicy, PermissionsError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn allowlists() {
        let pp = p(r#"camera=(), geolocation=(self "https://maps.example"), payment=*, usb=self, fullscreen=(*)"#)
            .unwrap();
        assert_eq!(pp.get("camera"), Some(&Allowlist::None));
        assert_eq!(
            pp.get("geolocation"),
            Some(&Allowlist::Origins {
                own: true,
                origins: vec!["https://maps.example".into()]
            })
        );
        assert_eq!(pp.get("payment"), Some(&Allowlist::All));
        assert_eq!(
            pp.get("usb"),
            Some(&Allowlist::Origins {
                own: true,
                origins: vec![]
            })
        );
        assert_eq!(pp.get("fullscreen"), Some(&Allowlist::All));
        assert_eq!(pp.get("midi"), None);
    }

    #[test]
    fn last_duplicate_wins_and_booleans_are_other() {
        let pp = p("camera=*, camera=(), microphone").unwrap();
        assert_eq!(pp.features.len(), 2);
        assert_eq!(pp.get("camera"), Some(&Allowlist::None));
        assert_eq!(pp.get("microphone"), Some(&Allowlist::Other));
    }

    #[test]
    fn syntax_errors_have_positions() {
        // Feature-Policy syntax is not a dictionary.
        assert_eq!(
            p("camera 'none'"),
            Err(PermissionsError::Syntax {
                at: 7,
                problem: "a comma"
            })
        );
        assert_eq!(
            p("Camera=()"),
            Err(PermissionsError::Syntax {
                at: 0,
                problem: "a lower-case key"
            })
        );
        assert_eq!(
            p("camera=(self"),
            Err(PermissionsError::Syntax {
                at: 12,
                problem: "a closing parenthesis"
            })
        );
        assert_eq!(
            p("camera=(),"),
            Err(PermissionsError::Syntax {
                at: 10,
                problem: "a member after the comma"
            })
        );
    }
}
