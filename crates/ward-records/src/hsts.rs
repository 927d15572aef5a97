//! `Strict-Transport-Security` header values, RFC 6797 §6.1.
//!
//! ```text
//! Strict-Transport-Security = "Strict-Transport-Security" ":"
//!                             [ directive ] *( ";" [ directive ] )
//! directive       = directive-name [ "=" directive-value ]
//! directive-name  = token
//! directive-value = token | quoted-string
//! max-age         = "max-age" "=" delta-seconds      ; value may be quoted (§6.1.1)
//! ```
//!
//! Directive names are case-insensitive. `max-age` is required. Every directive may appear
//! at most once; a user agent ignores a header that repeats one (§6.1 item 2), so a repeat is
//! an error here. `preload` is not in the RFC (it is the hstspreload.org convention) and is
//! recognised as a valueless directive. Unknown directives are kept as warnings (§6.1 item 4).
#![deny(missing_docs)]

use serde::Serialize;

/// The `max-age` ward requires: one year, as internet.nl and the HSTS preload list do.
pub const ONE_YEAR: u64 = 31_536_000;

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest header value, in bytes. Default 1024.
    pub max_bytes: usize,
    /// Most `;`-separated directives. Default 16.
    pub max_directives: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024,
            max_directives: 16,
        }
    }
}

/// A parsed HSTS header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hsts {
    /// The value as received.
    pub raw: String,
    /// `max-age`, in seconds (saturating at `u64::MAX`).
    pub max_age: u64,
    /// `includeSubDomains` present.
    pub include_subdomains: bool,
    /// `preload` present.
    pub preload: bool,
    /// Non-fatal observations.
    pub warnings: Vec<HstsWarning>,
}

/// Non-fatal observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HstsWarning {
    /// A directive the RFC does not define (ignored by user agents).
    UnknownDirective {
        /// Its name, as written.
        name: String,
        /// Byte position.
        at: usize,
    },
    /// A value on a valueless directive (`includeSubDomains=1`).
    UnexpectedValue {
        /// The directive, lower-cased.
        name: String,
        /// Byte position.
        at: usize,
    },
    /// `max-age` larger than `u64::MAX` seconds; clamped.
    MaxAgeSaturated,
}

/// Why a header value was refused (a user agent would ignore it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum HstsError {
    /// Longer than [`Limits::max_bytes`].
    #[error("header is {len} bytes, over the {limit}-byte limit")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_directives`] directives.
    #[error("more than {limit} directives")]
    TooManyDirectives {
        /// Limit.
        limit: usize,
    },
    /// A control or non-ASCII byte.
    #[error("byte {at} is not a visible ASCII character or blank")]
    BadByte {
        /// Position.
        at: usize,
    },
    /// A directive name that is not a token.
    #[error("bad directive name at byte {at}")]
    BadName {
        /// Position.
        at: usize,
    },
    /// A value that is neither a token nor a quoted string.
    #[error("bad directive value at byte {at}")]
    BadValue {
        /// Position.
        at: usize,
    },
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string at byte {at}")]
    UnterminatedQuote {
        /// Position of the opening quote.
        at: usize,
    },
    /// A directive given twice (RFC 6797 §6.1 item 2).
    #[error("directive {name} repeated at byte {at}")]
    Duplicate {
        /// The directive, lower-cased.
        name: String,
        /// Position of the repeat.
        at: usize,
    },
    /// `max-age` absent.
    #[error("max-age is missing")]
    NoMaxAge,
    /// `max-age` without a value or with a value that is not digits.
    #[error("max-age at byte {at} is not a number of seconds")]
    BadMaxAge {
        /// Position.
        at: usize,
    },
}

/// RFC 7230 tchar.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// One `name[=value]` item split from a `;`-separated list, quotes respected.
struct Item<'a> {
    name: &'a str,
    name_at: usize,
    value: Option<(String, usize)>,
}

/// Parses an HSTS header value.
pub fn parse(text: &str, limits: &Limits) -> Result<Hsts, HstsError> {
    if text.len() > limits.max_bytes {
        return Err(HstsError::TooLong {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    let bytes = text.as_bytes();
    if let Some(at) = bytes
        .iter()
        .position(|&b| !(b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b)))
    {
        return Err(HstsError::BadByte { at });
    }
    let items = split(text, limits)?;
    let mut seen: Vec<String> = Vec::new();
    let mut max_age = None;
    let mut include_subdomains = false;
    let mut preload = false;
    let mut warnings = Vec::new();
    for it in items {
        let lower = it.name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(HstsError::Duplicate {
                name: lower,
                at: it.name_at,
            });
        }
        seen.push(lower.clone());
        match lower.as_str() {
            "max-age" => {
                let Some((v, at)) = &it.value else {
                    return Err(HstsError::BadMaxAge { at: it.name_at });
                };
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(HstsError::BadMaxAge { at: *at });
                }
                let n = v.bytes().try_fold(0u64, |acc, d| {
                    acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                });
                max_age = Some(n.unwrap_or_else(|| {
                    warnings.push(HstsWarning::MaxAgeSaturated);
                    u64::MAX
                }));
            }
            "includesubdomains" | "preload" => {
                if it.value.is_some() {
                    warnings.push(HstsWarning::UnexpectedValue {
                        name: lower.clone(),
                        at: it.name_at,
                    });
                }
                if lower == "preload" {
                    preload = true;
                } else {
                    include_subdomains = true;
                }
            }
            _ => warnings.push(HstsWarning::UnknownDirective {
                name: it.name.to_string(),
                at: it.name_at,
            }),
        }
    }
    let Some(max_age) = max_age else {
        return Err(HstsError::NoMaxAge);
    };
    Ok(Hsts {
        raw: text.to_string(),
        max_age,
        include_subdomains,
        preload,
        warnings,
    })
}

fn split<'a>(text: &'a str, limits: &Limits) -> Result<Vec<Item<'a>>, HstsError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ows = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
            *i += 1;
        }
    };
    loop {
        ows(&mut i);
        if i >= b.len() {
            break;
        }
        if b[i] == b';' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_tchar(b[i]) {
            i += 1;
        }
        if i == start {
            return Err(HstsError::BadName { at: start });
        }
        let name = &text[start..i];
        ows(&mut i);
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            ows(&mut i);
            let vstart = i;
            if i < b.len() && b[i] == b'"' {
                let mut v = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(HstsError::UnterminatedQuote { at: vstart }),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => match b.get(i + 1) {
                            Some(&c) => {
                                v.push(char::from(c));
                                i += 2;
                            }
                            None => return Err(HstsError::UnterminatedQuote { at: vstart }),
                        },
                        Some(&c) => {
                            v.push(char::from(c));
                            i += 1;
                        }
                    }
                }
                value = Some((v, vstart));
            } else {
                while i < b.len() && is_tchar(b[i]) {
                    i += 1;
                }
                if i == vstart {
                    return Err(HstsError::BadValue { at: vstart });
                }
                value = Some((text[vstart..i].to_string(), vstart));
            }
            ows(&mut i);
        }
        if i < b.len() && b[i] != b';' {
            return Err(HstsError::BadValue { at: i });
        }
        out.push(Item {
            name,
            name_at: start,
            value,
        });
        if out.len() > limits.max_directives {
            return Err(HstsError::TooManyDirectives {
                limit: limits.max_directives,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Hsts, HstsError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn full_header() {
        let h = p("max-age=31536000; includeSubDomains; preload").unwrap();
        assert_eq!(h.max_age, 31_536_000);
        assert!(h.include_subdomains);
        assert!(h.preload);
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn quoted_and_case() {
        let h = p("MAX-AGE=\"600\"").unwrap();
        assert_eq!(h.max_age, 600);
        assert!(!h.include_subdomains);
        assert!(!h.preload);
    }

    #[test]
    fn errors_with_positions() {
        assert_eq!(p("includeSubDomains"), Err(HstsError::NoMaxAge));
        assert_eq!(
            p("max-age=1; max-age=2"),
            Err(HstsError::Duplicate {
                name: "max-age".into(),
                at: 11
            })
        );
        assert_eq!(p("max-age=abc"), Err(HstsError::BadMaxAge { at: 8 }));
        assert_eq!(p("max-age"), Err(HstsError::BadMaxAge { at: 0 }));
        assert_eq!(
            p("max-age=\"5"),
            Err(HstsError::UnterminatedQuote { at: 8 })
        );
        assert_eq!(p("max-age=5 x"), Err(HstsError::BadValue { at: 10 }));
        assert_eq!(p("max-age=5\u{e9}"), Err(HstsError::BadByte { at: 9 }));
    }

    #[test]
    fn unknown_and_saturation() {
        let h = p("max-age=99999999999999999999999; foo=bar").unwrap();
        assert_eq!(h.max_age, u64::MAX);
        assert_eq!(
            h.warnings,
            vec![
                HstsWarning::MaxAgeSaturated,
                HstsWarning::UnknownDirective {
                    name: "foo".into(),
                    at: 33
                }
            ]
        );
    }
}
