//! BIMI assertion records (`default._bimi.example.org` TXT), after
//! draft-brand-indicators-for-message-identification-08 §4.2 (an individual draft, not an
//! RFC; kept light on purpose).
//!
//! ```text
//! bimi-record   = bimi-version bimi-sep bimi-location [bimi-sep bimi-evidence] [bimi-sep]
//! bimi-version  = %s"v" *WSP "=" *WSP %s"BIMI1"
//! bimi-sep      = *WSP ";" *WSP
//! bimi-location = %s"l" *WSP "=" *WSP [bimi-uri *("," bimi-uri)]   ; https URIs (SVG)
//! bimi-evidence = %s"a" *WSP "=" *WSP [bimi-uri]                   ; https URI (VMC/CMC PEM)
//! ```
//!
//! An empty `l=` with an empty or absent `a=` is a *declination*: the domain asks that no
//! logo be shown. Other tags (such as `avp`) are kept as written.
#![deny(missing_docs)]

use serde::Serialize;

use crate::dmarc::{UriProblem, check_uri};
use crate::tag_list::{self, Bounds, Case, Grammar, TagListError, Words};

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest record, in bytes. Default 2048.
    pub max_bytes: usize,
    /// Most `;`-separated terms. Default 16.
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 2048,
            max_terms: 16,
        }
    }
}

/// A parsed BIMI record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bimi {
    /// The record as received.
    pub raw: String,
    /// `l=` URIs (empty for a declination).
    pub location: Vec<String>,
    /// `a=` URI, when given and not empty.
    pub evidence: Option<String>,
    /// Other tags, as written (name, value, position).
    pub other: Vec<(String, String, usize)>,
}

impl Bimi {
    /// Whether the record declines to show a logo (`l=` empty, no `a=`).
    pub fn is_declination(&self) -> bool {
        self.location.is_empty() && self.evidence.is_none()
    }
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum BimiError {
    /// Does not begin with `v=BIMI1`.
    #[error("record does not begin with v=BIMI1")]
    NotBimi,
    /// No `l=` tag.
    #[error("no l= tag")]
    MissingLocation,
    /// An `l=` or `a=` URI that is not a usable `https:` URI.
    #[error("{tag} URI {uri:?} at byte {at}: {problem}")]
    BadUri {
        /// `l` or `a`.
        tag: String,
        /// As written.
        uri: String,
        /// Position of the value.
        at: usize,
        /// What was wrong.
        problem: UriProblem,
    },
    /// The tag list could not be split (limits, bytes, syntax), or a tag repeats.
    #[error("{}", .0.worded(Words::TAGS))]
    // Untagged, so the JSON in findings reads as before the variant moved here (serde
    // wants untagged variants last).
    #[serde(untagged)]
    TagList(TagListError),
}

fn https(tag: &str, uri: &str, at: usize) -> Result<String, BimiError> {
    let bad = |problem| BimiError::BadUri {
        tag: tag.into(),
        uri: uri.into(),
        at,
        problem,
    };
    let (scheme, _) = check_uri(uri).map_err(bad)?;
    if scheme != "https" {
        return Err(bad(UriProblem::SchemeNotAllowed));
    }
    Ok(uri.into())
}

/// Parses a BIMI record.
///
/// ```
/// use ward_records::bimi::{parse, Limits};
/// assert!(parse("v=BIMI1; l=; a=;", &Limits::default()).unwrap().is_declination());
/// ```
pub fn parse(text: &str, limits: &Limits) -> Result<Bimi, BimiError> {
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_terms: limits.max_terms,
    };
    let list = tag_list::split(text, &Grammar::TAGS, bounds).map_err(BimiError::TagList)?;
    let terms = &list.terms;
    match terms.first() {
        Some(t) if t.name == "v" && t.value == "BIMI1" => {}
        _ => return Err(BimiError::NotBimi),
    }
    let mut out = Bimi {
        raw: text.into(),
        location: Vec::new(),
        evidence: None,
        other: Vec::new(),
    };
    let mut seen_l = false;
    for (i, t) in terms.iter().enumerate().skip(1) {
        // Term by term: a bad URI before a repeated tag is what gets reported.
        list.refuse_repeat(i, Case::Sensitive)
            .map_err(BimiError::TagList)?;
        match t.name {
            "l" => {
                seen_l = true;
                let mut off = 0;
                for piece in t.value.split(',') {
                    let lead = piece.len() - piece.trim_start().len();
                    let uri = piece.trim();
                    let at = t.value_at + off + lead;
                    off += piece.len() + 1;
                    if uri.is_empty() && t.value.is_empty() {
                        continue;
                    }
                    out.location.push(https("l", uri, at)?);
                }
            }
            "a" => {
                if !t.value.is_empty() {
                    out.evidence = Some(https("a", t.value, t.value_at)?);
                }
            }
            other => out.other.push((other.into(), t.value.into(), t.name_at)),
        }
    }
    if !seen_l {
        return Err(BimiError::MissingLocation);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Bimi, BimiError> {
        parse(s, &Limits::default())
    }

    /// Findings carry the error as message and JSON: both read as before `TagListError`.
    #[test]
    fn tag_errors_keep_their_words() {
        let e = p("v=BIMI1; l").unwrap_err();
        assert_eq!(e.to_string(), "term at byte 9 has no '='");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"NoEquals": {"at": 9}})
        );
        // A bad URI before a repeated tag is what gets reported, as before.
        assert!(matches!(
            p("v=BIMI1; l=http://x/; l=").unwrap_err(),
            BimiError::BadUri { .. }
        ));
    }

    #[test]
    fn records() {
        let b =
            p("v=BIMI1; l=https://example.org/logo.svg; a=https://example.org/vmc.pem").unwrap();
        assert_eq!(b.location, vec!["https://example.org/logo.svg".to_string()]);
        assert_eq!(b.evidence.as_deref(), Some("https://example.org/vmc.pem"));
        assert!(p("v=BIMI1; l=").unwrap().is_declination());
        assert_eq!(p("v=BIMI2; l=").unwrap_err(), BimiError::NotBimi);
        assert_eq!(p("v=BIMI1; a=").unwrap_err(), BimiError::MissingLocation);
        assert_eq!(
            p("v=BIMI1; l=http://example.org/logo.svg").unwrap_err(),
            BimiError::BadUri {
                tag: "l".into(),
                uri: "http://example.org/logo.svg".into(),
                at: 11,
                problem: UriProblem::SchemeNotAllowed
            }
        );
        assert_eq!(
            p("v=BIMI1; l=; l=").unwrap_err(),
            BimiError::TagList(TagListError::DuplicateTag {
                tag: "l".into(),
                at: 13
            })
        );
    }
}
