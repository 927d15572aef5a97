//! SMTP TLS Reporting records (`_smtp._tls.example.org` TXT), RFC 8460 §3.
//!
//! ```text
//! tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//! field-delim      = *WSP ";" *WSP
//! tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
//! tlsrpt-version   = %s"v=TLSRPTv1"
//! tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
//! tlsrpt-uri       = URI                                  ; "mailto:" or "https:"
//! tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
//! tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
//! ```
//!
//! `rua` is required. RFC 8460 §3 defines only `mailto:` and `https:` destinations; any other
//! scheme is refused. The field syntax is shared with MTA-STS (see [`crate::tag_list`]).
#![deny(missing_docs)]

use serde::Serialize;

use crate::dmarc::{UriProblem, check_uri};
use crate::tag_list::{self, Blanks, Bounds, Grammar, TagListError, Words};

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest record, in bytes. Default 2048.
    pub max_bytes: usize,
    /// Most `;`-separated terms. Default 16.
    pub max_terms: usize,
    /// Most `rua` URIs. Default 16.
    pub max_uris: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 2048,
            max_terms: 16,
            max_uris: 16,
        }
    }
}

/// A report destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReportUri {
    /// `mailto:` with its address.
    Mail {
        /// The URI as written.
        uri: String,
        /// The address.
        address: String,
        /// Byte position.
        at: usize,
    },
    /// `https:` as written.
    Https {
        /// The URI as written.
        uri: String,
        /// Byte position.
        at: usize,
    },
}

/// A parsed TLS-RPT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsRpt {
    /// The record as received.
    pub raw: String,
    /// `rua`, in order.
    pub rua: Vec<ReportUri>,
    /// Extension fields, as written (name, value, position).
    pub extensions: Vec<(String, String, usize)>,
    /// Non-fatal observations.
    pub warnings: Vec<TlsRptWarning>,
}

/// Non-fatal observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TlsRptWarning {
    /// Whitespace after the last field.
    TrailingWhitespace,
    /// An empty term (`;;`).
    EmptyTerm {
        /// Position.
        at: usize,
    },
    /// An extension field (ignored by reporters).
    Extension {
        /// Its name.
        name: String,
        /// Position.
        at: usize,
    },
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum TlsRptError {
    /// More than [`Limits::max_uris`] URIs.
    #[error("more than {limit} rua URIs")]
    TooManyUris {
        /// Limit.
        limit: usize,
    },
    /// An SPF record where the TLS-RPT record should be.
    #[error("this is an SPF record, not TLS-RPT")]
    LooksLikeSpf,
    /// Does not begin with exactly `v=TLSRPTv1`.
    #[error("record does not begin with v=TLSRPTv1")]
    NotTlsRpt,
    /// A bad extension value.
    #[error("bad field value at byte {at}")]
    BadValue {
        /// Position of the value.
        at: usize,
    },
    /// No `rua`.
    #[error("no rua= field")]
    MissingRua,
    /// A `rua` URI that cannot be used.
    #[error("rua URI {uri:?} at byte {at}: {problem}")]
    BadUri {
        /// As written.
        uri: String,
        /// Position.
        at: usize,
        /// What was wrong.
        problem: UriProblem,
    },
    /// The field list could not be split (limits, bytes, syntax), or a field repeats.
    #[error("{}", .0.worded(Words::FIELDS))]
    // Untagged and in the old names, so the JSON in findings reads as before the variant
    // moved here (serde wants untagged variants last).
    #[serde(untagged, serialize_with = "tag_list::serialize_as_fields")]
    TagList(TagListError),
}

/// Parses a TLS-RPT record.
///
/// ```
/// use ward_records::tls_rpt::{parse, Limits};
/// let r = parse("v=TLSRPTv1; rua=mailto:tls@example.org", &Limits::default()).unwrap();
/// assert_eq!(r.rua.len(), 1);
/// ```
pub fn parse(text: &str, limits: &Limits) -> Result<TlsRpt, TlsRptError> {
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_terms: limits.max_terms,
    };
    // As for MTA-STS: the version after the bytes and before any field.
    tag_list::screen(text, &Grammar::FIELDS, bounds).map_err(TlsRptError::TagList)?;
    if tag_list::looks_like_spf(text) {
        return Err(TlsRptError::LooksLikeSpf);
    }
    if !tag_list::begins_with_version(text, Blanks::Wsp, "v=TLSRPTv1") {
        return Err(TlsRptError::NotTlsRpt);
    }
    let fields = tag_list::split(text, &Grammar::FIELDS, bounds).map_err(TlsRptError::TagList)?;
    let mut warnings = Vec::new();
    if fields.trailing_blank {
        warnings.push(TlsRptWarning::TrailingWhitespace);
    }
    for &at in &fields.empty_terms {
        warnings.push(TlsRptWarning::EmptyTerm { at });
    }
    let mut rua = None;
    let mut extensions = Vec::new();
    // The first field is the version, checked above.
    for f in fields.terms.iter().skip(1) {
        if f.name == "rua" {
            if f.value.bytes().filter(|&b| b == b',').count() >= limits.max_uris {
                return Err(TlsRptError::TooManyUris {
                    limit: limits.max_uris,
                });
            }
            let mut list = Vec::new();
            let mut offset = 0;
            for piece in f.value.split(',') {
                let lead = piece.len() - piece.trim_start_matches([' ', '\t']).len();
                let uri = piece.trim_matches([' ', '\t']);
                let at = f.value_at + offset + lead;
                offset += piece.len() + 1;
                let bad = |problem| TlsRptError::BadUri {
                    uri: uri.into(),
                    at,
                    problem,
                };
                let (scheme, address) = check_uri(uri).map_err(bad)?;
                list.push(match (scheme.as_str(), address) {
                    ("mailto", Some(address)) => ReportUri::Mail {
                        uri: uri.into(),
                        address,
                        at,
                    },
                    ("https", _) => ReportUri::Https {
                        uri: uri.into(),
                        at,
                    },
                    _ => return Err(bad(UriProblem::SchemeNotAllowed)),
                });
            }
            rua = Some(list);
        } else {
            if !tag_list::is_ext_value(f.value) {
                return Err(TlsRptError::BadValue { at: f.value_at });
            }
            warnings.push(TlsRptWarning::Extension {
                name: f.name.into(),
                at: f.name_at,
            });
            extensions.push((f.name.to_string(), f.value.to_string(), f.name_at));
        }
    }
    Ok(TlsRpt {
        raw: text.into(),
        rua: rua.ok_or(TlsRptError::MissingRua)?,
        extensions,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<TlsRpt, TlsRptError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn good() {
        let r = p("v=TLSRPTv1; rua=mailto:a@example.org, https://r.example/v1").unwrap();
        assert_eq!(
            r.rua,
            vec![
                ReportUri::Mail {
                    uri: "mailto:a@example.org".into(),
                    address: "a@example.org".into(),
                    at: 16
                },
                ReportUri::Https {
                    uri: "https://r.example/v1".into(),
                    at: 38
                }
            ]
        );
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn refusals() {
        assert_eq!(p("v=TLSRPTv1").unwrap_err(), TlsRptError::MissingRua);
        assert_eq!(
            p("v=TLSRPTv2; rua=mailto:a@b").unwrap_err(),
            TlsRptError::NotTlsRpt
        );
        assert_eq!(p("v=spf1 -all").unwrap_err(), TlsRptError::LooksLikeSpf);
        assert_eq!(
            p("v=TLSRPTv1; rua=mailto:a@b.c; rua=mailto:d@e.f").unwrap_err(),
            TlsRptError::TagList(TagListError::DuplicateTag {
                tag: "rua".into(),
                at: 30
            })
        );
        assert_eq!(
            p("v=TLSRPTv1; rua=not_a_valid_uri").unwrap_err(),
            TlsRptError::BadUri {
                uri: "not_a_valid_uri".into(),
                at: 16,
                problem: UriProblem::MissingScheme
            }
        );
        assert_eq!(
            p("v=TLSRPTv1; rua=http://r.example/").unwrap_err(),
            TlsRptError::BadUri {
                uri: "http://r.example/".into(),
                at: 16,
                problem: UriProblem::SchemeNotAllowed
            }
        );
        assert_eq!(
            p("v=TLSRPTv1; rua = mailto:a@b.c").unwrap_err(),
            TlsRptError::TagList(TagListError::SpaceAroundEquals { at: 12 })
        );
    }

    /// Findings carry the error as message and JSON: both read as before `TagListError`.
    #[test]
    fn field_errors_keep_their_words() {
        let e = p("v=TLSRPTv1; rua=mailto:a@b.c; rua=mailto:d@e.f").unwrap_err();
        assert_eq!(e.to_string(), "field \"rua\" repeated at byte 30");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"DuplicateField": {"name": "rua", "at": 30}})
        );
        let e = p("v=TLSRPTv1; -x=1").unwrap_err();
        assert_eq!(e.to_string(), "bad field name at byte 12");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"BadName": {"at": 12}})
        );
        let e = p("v=TLSRPTv1;\x01").unwrap_err();
        assert_eq!(e.to_string(), "byte 11 is not printable ASCII");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"BadByte": {"at": 11}})
        );
    }

    #[test]
    fn truncations_never_panic() {
        let src = "v=TLSRPTv1; rua=mailto:a@example.org,https://r.example/v1;";
        for n in 0..=src.len() {
            let _ = p(&src[..n]);
        }
    }
}
