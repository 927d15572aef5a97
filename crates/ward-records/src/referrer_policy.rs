//! `Referrer-Policy` header values, W3C Referrer Policy §4.1 and §8.1.
//!
//! ```text
//! Referrer-Policy = 1#( policy-token / extension-token )
//! policy-token    = "no-referrer" / "no-referrer-when-downgrade" / "strict-origin"
//!                 / "strict-origin-when-cross-origin" / "same-origin" / "origin"
//!                 / "origin-when-cross-origin" / "unsafe-url"
//! extension-token = 1*( ALPHA / "-" )
//! ```
//!
//! §8.1: the value is split on `,`; the last token that is a known policy wins, unknown
//! tokens are ignored (that is how a site sends a fallback before a newer policy). The spec
//! compares tokens exactly, but Chromium and Firefox compare them ASCII-case-insensitively, so
//! `STRICT-ORIGIN` takes effect in the browsers visitors use and ward reads it the same way.
#![deny(missing_docs)]

use serde::Serialize;

/// Bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest value, in bytes. Default 1024.
    pub max_bytes: usize,
    /// Most tokens. Default 16.
    pub max_tokens: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024,
            max_tokens: 16,
        }
    }
}

/// A referrer policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReferrerPolicy {
    /// `no-referrer`
    NoReferrer,
    /// `no-referrer-when-downgrade`
    NoReferrerWhenDowngrade,
    /// `same-origin`
    SameOrigin,
    /// `origin`
    Origin,
    /// `strict-origin`
    StrictOrigin,
    /// `origin-when-cross-origin`
    OriginWhenCrossOrigin,
    /// `strict-origin-when-cross-origin`
    StrictOriginWhenCrossOrigin,
    /// `unsafe-url`
    UnsafeUrl,
}

impl ReferrerPolicy {
    /// The token, as the spec spells it.
    pub fn token(self) -> &'static str {
        match self {
            ReferrerPolicy::NoReferrer => "no-referrer",
            ReferrerPolicy::NoReferrerWhenDowngrade => "no-referrer-when-downgrade",
            ReferrerPolicy::SameOrigin => "same-origin",
            ReferrerPolicy::Origin => "origin",
            ReferrerPolicy::StrictOrigin => "strict-origin",
            ReferrerPolicy::OriginWhenCrossOrigin => "origin-when-cross-origin",
            ReferrerPolicy::StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
            ReferrerPolicy::UnsafeUrl => "unsafe-url",
        }
    }

    /// Whether the full URL (path and query) can leave the site for another origin, or go
    /// over plain HTTP: `unsafe-url`, `no-referrer-when-downgrade`, `origin-when-cross-origin`
    /// (origin only, but also on downgrade) and `origin` (origin on downgrade).
    pub fn leaks(self) -> bool {
        matches!(
            self,
            ReferrerPolicy::UnsafeUrl
                | ReferrerPolicy::NoReferrerWhenDowngrade
                | ReferrerPolicy::OriginWhenCrossOrigin
                | ReferrerPolicy::Origin
        )
    }

    fn from_token(t: &str) -> Option<Self> {
        [
            ReferrerPolicy::NoReferrer,
            ReferrerPolicy::NoReferrerWhenDowngrade,
            ReferrerPolicy::SameOrigin,
            ReferrerPolicy::Origin,
            ReferrerPolicy::StrictOrigin,
            ReferrerPolicy::OriginWhenCrossOrigin,
            ReferrerPolicy::StrictOriginWhenCrossOrigin,
            ReferrerPolicy::UnsafeUrl,
        ]
        .into_iter()
        .find(|p| p.token().eq_ignore_ascii_case(t))
    }
}

/// A parsed header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referrer {
    /// The value as received.
    pub raw: String,
    /// The last known policy token, if any.
    pub policy: Option<ReferrerPolicy>,
    /// Tokens that are not policies, with positions.
    pub unknown: Vec<(String, usize)>,
}

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum ReferrerError {
    /// Longer than [`Limits::max_bytes`].
    #[error("value is {len} bytes, over the {limit}-byte limit")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_tokens`] tokens.
    #[error("more than {limit} tokens")]
    TooManyTokens {
        /// Limit.
        limit: usize,
    },
}

/// Parses a `Referrer-Policy` value (several header lines joined with `,`).
pub fn parse(text: &str, limits: &Limits) -> Result<Referrer, ReferrerError> {
    if text.len() > limits.max_bytes {
        return Err(ReferrerError::TooLong {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    let mut policy = None;
    let mut unknown = Vec::new();
    let mut off = 0;
    let mut n = 0;
    for part in text.split(',') {
        let lead = part.len() - part.trim_start_matches([' ', '\t']).len();
        let tok = part.trim_matches([' ', '\t']);
        let at = off + lead;
        off += part.len() + 1;
        if tok.is_empty() {
            continue;
        }
        n += 1;
        if n > limits.max_tokens {
            return Err(ReferrerError::TooManyTokens {
                limit: limits.max_tokens,
            });
        }
        match ReferrerPolicy::from_token(tok) {
            Some(p) => policy = Some(p),
            None => unknown.push((tok.to_string(), at)),
        }
    }
    Ok(Referrer {
        raw: text.to_string(),
        policy,
        unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_valid_wins() {
        let r = parse(
            "no-referrer, foo, strict-origin-when-cross-origin, bar",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(r.policy, Some(ReferrerPolicy::StrictOriginWhenCrossOrigin));
        assert_eq!(r.unknown, vec![("foo".into(), 13), ("bar".into(), 51)]);
        let r = parse("Unsafe-URL", &Limits::default()).unwrap();
        assert_eq!(r.policy, Some(ReferrerPolicy::UnsafeUrl));
        let r = parse("\"\"", &Limits::default()).unwrap();
        assert_eq!(r.policy, None);
        assert_eq!(r.unknown, vec![("\"\"".into(), 0)]);
        assert!(ReferrerPolicy::UnsafeUrl.leaks());
        assert!(!ReferrerPolicy::StrictOrigin.leaks());
        assert_eq!(
            parse(&"a,".repeat(17), &Limits::default()),
            Err(ReferrerError::TooManyTokens { limit: 16 })
        );
    }
}
