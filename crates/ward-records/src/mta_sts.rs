//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served at
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt`, and MX name matching.
//!
//! The TXT record (RFC 8461 §3.1):
//!
//! ```text
//! sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]
//! sts-field       = sts-id / sts-extension
//! sts-version     = %s"v=STSv1"
//! sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
//! sts-sep         = *WSP %x3B *WSP
//! sts-extension   = sts-ext-name "=" sts-ext-value
//! sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
//! ```
//!
//! The grammar has no whitespace around `=`; empty terms and trailing blanks are tolerated
//! with a warning, because common senders tolerate them.
//!
//! The policy (RFC 8461 §3.2), key/value lines ended by CRLF or LF:
//!
//! ```text
//! sts-policy-field       = sts-policy-version / sts-policy-mode / sts-policy-max-age /
//!                          sts-policy-mx / sts-policy-extension
//! sts-policy-field-delim = ":" *WSP
//! sts-policy-version     = %s"version" sts-policy-field-delim %s"STSv1"
//! sts-policy-mode        = %s"mode" sts-policy-field-delim
//!                          ( %s"testing" / %s"enforce" / %s"none" )
//! sts-policy-mx          = %s"mx" sts-policy-field-delim ["*."] Domain
//! sts-policy-max-age     = %s"max_age" sts-policy-field-delim 1*10(DIGIT)   ; <= 31557600
//! sts-policy-extension   = sts-policy-ext-name sts-policy-field-delim sts-policy-ext-value
//! sts-policy-term        = LF / CRLF
//! ```
//!
//! `mx` may repeat; other known keys may not. Unknown keys are kept and ignored, as the RFC
//! requires. `mx` is required unless the mode is `none`. A policy larger than
//! [`PolicyLimits::max_bytes`] (64 KiB by default, like the RFC's guidance for senders) is
//! refused before it is read.
#![deny(missing_docs)]

use serde::Serialize;

use crate::tag_list::{self, Blanks, Bounds, Grammar, Names, TagListError, Words};

/// Bounds for the TXT record, checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest record, in bytes. Default 1024.
    pub max_bytes: usize,
    /// Most `;`-separated terms. Default 16.
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024,
            max_terms: 16,
        }
    }
}

/// Bounds for the policy file, checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyLimits {
    /// Largest policy, in bytes. Default 65536.
    pub max_bytes: usize,
    /// Most lines. Default 1024.
    pub max_lines: usize,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits {
            max_bytes: 64 * 1024,
            max_lines: 1024,
        }
    }
}

/// A parsed `_mta-sts` TXT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsRecord {
    /// The record as received.
    pub raw: String,
    /// The policy id.
    pub id: String,
    /// Extension fields, as written (name, value, position).
    pub extensions: Vec<(String, String, usize)>,
    /// Non-fatal observations.
    pub warnings: Vec<RecordWarning>,
}

/// Non-fatal observations about the TXT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RecordWarning {
    /// Whitespace after the last field.
    TrailingWhitespace,
    /// An empty term (`;;`).
    EmptyTerm {
        /// Position.
        at: usize,
    },
    /// An extension field (ignored by senders).
    Extension {
        /// Its name.
        name: String,
        /// Position.
        at: usize,
    },
}

/// Why a TXT record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum RecordError {
    /// An SPF record where the MTA-STS record should be.
    #[error("this is an SPF record, not MTA-STS")]
    LooksLikeSpf,
    /// The record does not begin with exactly `v=STSv1` (senders discard such records).
    #[error("record does not begin with v=STSv1")]
    NotSts,
    /// An extension value that is empty or holds `=`, `;` or blanks.
    #[error("bad field value at byte {at}")]
    BadValue {
        /// Position of the value.
        at: usize,
    },
    /// No `id=`.
    #[error("no id= field")]
    MissingId,
    /// `id` is not 1 to 32 letters and digits.
    #[error("id {value:?} at byte {at} is not 1-32 letters and digits")]
    BadId {
        /// As written.
        value: String,
        /// Position of the value.
        at: usize,
    },
    /// The field list could not be split (limits, bytes, syntax), or a field repeats.
    #[error("{}", .0.worded(Words::FIELDS))]
    // Untagged and in the old names, so the JSON in findings reads as before the variant
    // moved here (serde wants untagged variants last).
    #[serde(untagged, serialize_with = "tag_list::serialize_as_fields")]
    TagList(TagListError),
}

/// Parses the `_mta-sts` TXT record.
///
/// ```
/// use ward_records::mta_sts::{parse_record, Limits};
/// let r = parse_record("v=STSv1; id=20240101T000000", &Limits::default()).unwrap();
/// assert_eq!(r.id, "20240101T000000");
/// ```
pub fn parse_record(text: &str, limits: &Limits) -> Result<StsRecord, RecordError> {
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_terms: limits.max_terms,
    };
    // The version is checked after the bytes and before any field: a record that does not
    // begin with v=STSv1 is not MTA-STS, whatever its fields hold.
    tag_list::screen(text, &Grammar::FIELDS, bounds).map_err(RecordError::TagList)?;
    if tag_list::looks_like_spf(text) {
        return Err(RecordError::LooksLikeSpf);
    }
    if !tag_list::begins_with_version(text, Blanks::Wsp, "v=STSv1") {
        return Err(RecordError::NotSts);
    }
    let fields = tag_list::split(text, &Grammar::FIELDS, bounds).map_err(RecordError::TagList)?;
    let mut warnings = Vec::new();
    if fields.trailing_blank {
        warnings.push(RecordWarning::TrailingWhitespace);
    }
    for &at in &fields.empty_terms {
        warnings.push(RecordWarning::EmptyTerm { at });
    }
    let mut id: Option<String> = None;
    let mut extensions: Vec<(String, String, usize)> = Vec::new();
    // The first field is the version, checked above.
    for f in fields.terms.iter().skip(1) {
        if f.name == "id" {
            if f.value.is_empty()
                || f.value.len() > 32
                || !f.value.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(RecordError::BadId {
                    value: f.value.into(),
                    at: f.value_at,
                });
            }
            id = Some(f.value.into());
        } else {
            if !tag_list::is_ext_value(f.value) {
                return Err(RecordError::BadValue { at: f.value_at });
            }
            warnings.push(RecordWarning::Extension {
                name: f.name.into(),
                at: f.name_at,
            });
            extensions.push((f.name.into(), f.value.into(), f.name_at));
        }
    }
    Ok(StsRecord {
        raw: text.into(),
        id: id.ok_or(RecordError::MissingId)?,
        extensions,
        warnings,
    })
}

/// The policy mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// `enforce`: senders must not deliver to MX hosts that fail validation.
    Enforce,
    /// `testing`: senders deliver anyway and report failures (TLS-RPT).
    Testing,
    /// `none`: no policy (used to withdraw one).
    None,
}

/// An `mx` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MxPattern {
    /// As written.
    pub pattern: String,
    /// Whether it begins with `*.`.
    pub wildcard: bool,
    /// Line number (1-based).
    pub line: usize,
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The policy as received.
    pub raw: String,
    /// `mode`.
    pub mode: Mode,
    /// `max_age`, seconds.
    pub max_age: u32,
    /// `mx` patterns, in order.
    pub mx: Vec<MxPattern>,
    /// Unknown keys, as written (key, value, line).
    pub extensions: Vec<(String, String, usize)>,
    /// Non-fatal observations.
    pub warnings: Vec<PolicyWarning>,
}

impl Policy {
    /// Whether `host` matches one of the policy's `mx` patterns (RFC 8461 §4.1).
    pub fn matches_mx(&self, host: &str) -> bool {
        self.mx.iter().any(|p| mx_matches(&p.pattern, host))
    }

    /// The policy as a file with CRLF line ends, in RFC 8461 §3.2 order (what the lab
    /// serves). Unknown keys are kept.
    pub fn to_text(&self) -> String {
        let mode = match self.mode {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        };
        let mut s = format!("version: STSv1\r\nmode: {mode}\r\n");
        for m in &self.mx {
            s.push_str(&format!("mx: {}\r\n", m.pattern));
        }
        s.push_str(&format!("max_age: {}\r\n", self.max_age));
        for (k, v, _) in &self.extensions {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s
    }
}

/// Non-fatal observations about a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PolicyWarning {
    /// Lines end in LF only (allowed; RFC 8461 prefers CRLF).
    BareLf,
    /// An unknown key (ignored by senders).
    UnknownKey {
        /// The key.
        key: String,
        /// Line number.
        line: usize,
    },
    /// Blank line(s) inside the policy.
    BlankLine {
        /// Line number.
        line: usize,
    },
    /// A wildcard `mx` pattern (the UK government guidance advises against them).
    WildcardMx {
        /// Line number.
        line: usize,
    },
    /// Whitespace after a value.
    TrailingWhitespace {
        /// Line number.
        line: usize,
    },
}

/// Why a policy was refused. `line` is 1-based; `at` is the byte offset in the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum PolicyError {
    /// Larger than [`PolicyLimits::max_bytes`].
    #[error("policy is {len} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Size.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`PolicyLimits::max_lines`] lines.
    #[error("policy has more than {limit} lines")]
    TooManyLines {
        /// Limit.
        limit: usize,
    },
    /// Not UTF-8.
    #[error("byte {at} is not UTF-8")]
    NotUtf8 {
        /// Position.
        at: usize,
    },
    /// A control character other than the line ends.
    #[error("control character at byte {at}")]
    BadByte {
        /// Position.
        at: usize,
    },
    /// A line that is not `key: value`.
    #[error("line {line} (byte {at}) is not 'key: value'")]
    NotKeyValue {
        /// Line.
        line: usize,
        /// Position.
        at: usize,
    },
    /// A key outside `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
    #[error("bad key on line {line}")]
    BadKey {
        /// Line.
        line: usize,
        /// Position.
        at: usize,
    },
    /// `version`, `mode` or `max_age` given twice.
    #[error("{key} repeated on line {line}")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Line of the second one.
        line: usize,
        /// Position.
        at: usize,
    },
    /// No `version` line.
    #[error("no version line")]
    MissingVersion,
    /// `version` is not `STSv1`.
    #[error("version {value:?} on line {line} is not STSv1")]
    BadVersion {
        /// As written.
        value: String,
        /// Line.
        line: usize,
        /// Position of the value.
        at: usize,
    },
    /// No `mode` line.
    #[error("no mode line")]
    MissingMode,
    /// `mode` is not enforce, testing or none.
    #[error("mode {value:?} on line {line} is not enforce, testing or none")]
    BadMode {
        /// As written.
        value: String,
        /// Line.
        line: usize,
        /// Position of the value.
        at: usize,
    },
    /// No `max_age` line.
    #[error("no max_age line")]
    MissingMaxAge,
    /// `max_age` is not 1 to 10 digits.
    #[error("max_age {value:?} on line {line} is not a whole number of seconds")]
    BadMaxAge {
        /// As written.
        value: String,
        /// Line.
        line: usize,
        /// Position of the value.
        at: usize,
    },
    /// `max_age` above 31557600 (one year).
    #[error("max_age {value} on line {line} is over 31557600")]
    MaxAgeTooLarge {
        /// The value.
        value: u64,
        /// Line.
        line: usize,
        /// Position of the value.
        at: usize,
    },
    /// An `mx` value that is not `["*."] Domain`.
    #[error("mx {value:?} on line {line} is not a host name pattern")]
    BadMx {
        /// As written.
        value: String,
        /// Line.
        line: usize,
        /// Position of the value.
        at: usize,
    },
    /// Mode enforce or testing without any `mx`.
    #[error("mode {mode:?} needs at least one mx line")]
    MissingMx {
        /// The mode.
        mode: Mode,
    },
}

/// Whether `s` is an RFC 5321 `Domain`: dot-separated labels of letters, digits and
/// hyphens, not starting or ending with a hyphen, each 1–63 bytes, 253 in all.
pub(crate) fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Parses a policy file body.
///
/// ```
/// use ward_records::mta_sts::{parse_policy, PolicyLimits, Mode};
/// let p = parse_policy(b"version: STSv1\r\nmode: enforce\r\nmx: *.example.org\r\nmax_age: 604800\r\n",
///                      &PolicyLimits::default()).unwrap();
/// assert_eq!(p.mode, Mode::Enforce);
/// assert!(p.matches_mx("mx1.example.org"));
/// ```
pub fn parse_policy(body: &[u8], limits: &PolicyLimits) -> Result<Policy, PolicyError> {
    if body.len() > limits.max_bytes {
        return Err(PolicyError::TooLarge {
            len: body.len(),
            limit: limits.max_bytes,
        });
    }
    if body.iter().filter(|&&b| b == b'\n').count() + 1 > limits.max_lines {
        return Err(PolicyError::TooManyLines {
            limit: limits.max_lines,
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| PolicyError::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    let mut warnings = Vec::new();
    let mut version: Option<usize> = None;
    let mut mode: Option<(Mode, usize)> = None;
    let mut max_age: Option<(u32, usize)> = None;
    let mut mx = Vec::new();
    let mut extensions = Vec::new();
    let mut bare_lf = false;
    let mut offset = 0usize;
    let mut pending_blank: Option<usize> = None;
    for (i, chunk) in text.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        let at = offset;
        offset += chunk.len();
        let line = match chunk.strip_suffix('\n') {
            Some(l) => match l.strip_suffix('\r') {
                Some(l) => l,
                None => {
                    bare_lf = true;
                    l
                }
            },
            None => chunk,
        };
        if let Some(p) = line
            .bytes()
            .position(|b| b.is_ascii_control() && b != b'\t')
        {
            return Err(PolicyError::BadByte { at: at + p });
        }
        if line.trim_matches([' ', '\t']).is_empty() {
            pending_blank.get_or_insert(line_no);
            continue;
        }
        if let Some(b) = pending_blank.take() {
            warnings.push(PolicyWarning::BlankLine { line: b });
        }
        let (key, rest) = line
            .split_once(':')
            .ok_or(PolicyError::NotKeyValue { line: line_no, at })?;
        // sts-policy-ext-name is the TXT record's sts-ext-name.
        if !Names::ExtName.allows(key) {
            return Err(PolicyError::BadKey { line: line_no, at });
        }
        let lead = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let value_raw = rest.trim_start_matches([' ', '\t']);
        let value = value_raw.trim_end_matches([' ', '\t']);
        if value.len() != value_raw.len() {
            warnings.push(PolicyWarning::TrailingWhitespace { line: line_no });
        }
        let vat = at + key.len() + 1 + lead;
        let dup = |k: &str| PolicyError::DuplicateKey {
            key: k.into(),
            line: line_no,
            at,
        };
        match key {
            "version" => {
                if version.is_some() {
                    return Err(dup(key));
                }
                if value != "STSv1" {
                    return Err(PolicyError::BadVersion {
                        value: value.into(),
                        line: line_no,
                        at: vat,
                    });
                }
                version = Some(line_no);
            }
            "mode" => {
                if mode.is_some() {
                    return Err(dup(key));
                }
                let m = match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    _ => {
                        return Err(PolicyError::BadMode {
                            value: value.into(),
                            line: line_no,
                            at: vat,
                        });
                    }
                };
                mode = Some((m, line_no));
            }
            "max_age" => {
                if max_age.is_some() {
                    return Err(dup(key));
                }
                let bad = || PolicyError::BadMaxAge {
                    value: value.into(),
                    line: line_no,
                    at: vat,
                };
                if value.is_empty()
                    || value.len() > 10
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad());
                }
                let n: u64 = value.parse().map_err(|_| bad())?;
                if n > 31_557_600 {
                    return Err(PolicyError::MaxAgeTooLarge {
                        value: n,
                        line: line_no,
                        at: vat,
                    });
                }
                max_age = Some((u32::try_from(n).map_err(|_| bad())?, line_no));
            }
            "mx" => {
                let (wildcard, host) = match value.strip_prefix("*.") {
                    Some(h) => (true, h),
                    None => (false, value),
                };
                if !is_domain(host) {
                    return Err(PolicyError::BadMx {
                        value: value.into(),
                        line: line_no,
                        at: vat,
                    });
                }
                if wildcard {
                    warnings.push(PolicyWarning::WildcardMx { line: line_no });
                }
                mx.push(MxPattern {
                    pattern: value.into(),
                    wildcard,
                    line: line_no,
                });
            }
            other => {
                warnings.push(PolicyWarning::UnknownKey {
                    key: other.into(),
                    line: line_no,
                });
                extensions.push((other.to_string(), value.to_string(), line_no));
            }
        }
    }
    if bare_lf {
        warnings.insert(0, PolicyWarning::BareLf);
    }
    version.ok_or(PolicyError::MissingVersion)?;
    let (mode, _) = mode.ok_or(PolicyError::MissingMode)?;
    let (max_age, _) = max_age.ok_or(PolicyError::MissingMaxAge)?;
    if mode != Mode::None && mx.is_empty() {
        return Err(PolicyError::MissingMx { mode });
    }
    Ok(Policy {
        raw: text.into(),
        mode,
        max_age,
        mx,
        extensions,
        warnings,
    })
}

/// Whether an MX host name matches one `mx` pattern (RFC 8461 §4.1): names compare without
/// regard to case or a trailing dot; `*.example.org` matches exactly one label in place of
/// the `*` (`mx.example.org`, not `example.org` nor `a.b.example.org`).
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    if host.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => match host.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest.eq_ignore_ascii_case(suffix),
            None => false,
        },
        None => host.eq_ignore_ascii_case(pattern),
    }
}

/// Whether `host` matches any of `patterns`.
pub fn mx_matches_any<'a>(patterns: impl IntoIterator<Item = &'a str>, host: &str) -> bool {
    patterns.into_iter().any(|p| mx_matches(p, host))
}

/// Whether an HTTP `Content-Type` is acceptable for a policy (RFC 8461 §3.3: `text/plain`,
/// parameters such as `charset` allowed).
pub fn is_policy_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence
        .trim_matches([' ', '\t'])
        .eq_ignore_ascii_case("text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Result<StsRecord, RecordError> {
        parse_record(s, &Limits::default())
    }
    fn pol(s: &str) -> Result<Policy, PolicyError> {
        parse_policy(s.as_bytes(), &PolicyLimits::default())
    }

    /// Findings carry the error as message and JSON: both read as before `TagListError`.
    #[test]
    fn field_errors_keep_their_words() {
        let e = rec("v=STSv1; id=1; id=2").unwrap_err();
        assert_eq!(e.to_string(), "field \"id\" repeated at byte 15");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"DuplicateField": {"name": "id", "at": 15}})
        );
        let e = rec("v=STSv1; _x=1").unwrap_err();
        assert_eq!(e.to_string(), "bad field name at byte 9");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"BadName": {"at": 9}})
        );
        let e = rec("v=STSv1; id").unwrap_err();
        assert_eq!(e.to_string(), "field at byte 9 has no '='");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"NoEquals": {"at": 9}})
        );
        assert_eq!(
            serde_json::to_value(RecordError::NotSts).unwrap(),
            serde_json::json!("NotSts")
        );
    }

    #[test]
    fn records() {
        assert_eq!(rec("v=STSv1; id=abc123;").unwrap().id, "abc123");
        assert_eq!(rec("id=1; v=STSv1").unwrap_err(), RecordError::NotSts);
        assert_eq!(rec("v=STSv12;id=1").unwrap_err(), RecordError::NotSts);
        assert_eq!(rec("v=spf1 -all").unwrap_err(), RecordError::LooksLikeSpf);
        assert_eq!(rec("v=STSv1;").unwrap_err(), RecordError::MissingId);
        assert_eq!(
            rec("v=STSv1; id=foo; id=bar").unwrap_err(),
            RecordError::TagList(TagListError::DuplicateTag {
                tag: "id".into(),
                at: 17
            })
        );
        assert_eq!(
            rec("v=STSv1; id=2024-01-01").unwrap_err(),
            RecordError::BadId {
                value: "2024-01-01".into(),
                at: 12
            }
        );
        assert_eq!(
            rec(&format!("v=STSv1; id={}", "a".repeat(33))).unwrap_err(),
            RecordError::BadId {
                value: "a".repeat(33),
                at: 12
            }
        );
        assert_eq!(
            rec("v=STSv1; id =1").unwrap_err(),
            RecordError::TagList(TagListError::SpaceAroundEquals { at: 9 })
        );
        assert_eq!(
            rec("v=STSv1; id").unwrap_err(),
            RecordError::TagList(TagListError::NoEquals { at: 9 })
        );
        let r = rec("v=STSv1;;id=1;ext=v  ").unwrap();
        assert_eq!(
            r.warnings,
            vec![
                RecordWarning::TrailingWhitespace,
                RecordWarning::EmptyTerm { at: 8 },
                RecordWarning::Extension {
                    name: "ext".into(),
                    at: 14
                }
            ]
        );
    }

    #[test]
    fn policies() {
        let p = pol("version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n")
            .unwrap();
        assert_eq!(p.mode, Mode::Testing);
        assert_eq!(p.max_age, 86400);
        assert_eq!(p.mx.len(), 2);
        assert_eq!(p.warnings, vec![PolicyWarning::WildcardMx { line: 4 }]);
        assert_eq!(
            pol("version: STSv1\nmode: enforce\nmax_age: 86400\n").unwrap_err(),
            PolicyError::MissingMx {
                mode: Mode::Enforce
            }
        );
        assert_eq!(
            pol("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n").unwrap_err(),
            PolicyError::MaxAgeTooLarge {
                value: 31557601,
                line: 4,
                at: 46
            }
        );
        assert_eq!(
            pol("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n").unwrap_err(),
            PolicyError::BadMaxAge {
                value: "-1".into(),
                line: 4,
                at: 46
            }
        );
        assert_eq!(
            pol("version: STSv1\nmode: enforce\nmode: testing\n").unwrap_err(),
            PolicyError::DuplicateKey {
                key: "mode".into(),
                line: 3,
                at: 29
            }
        );
        assert_eq!(
            pol("version: STSv1\nnot_a_pair\n").unwrap_err(),
            PolicyError::NotKeyValue { line: 2, at: 15 }
        );
        assert_eq!(
            pol("version: STSv1\nmode: enforce\nmx: bad_host\nmax_age: 1\n").unwrap_err(),
            PolicyError::BadMx {
                value: "bad_host".into(),
                line: 3,
                at: 33
            }
        );
        assert_eq!(
            pol("mode: none\nmax_age: 1\n").unwrap_err(),
            PolicyError::MissingVersion
        );
        assert_eq!(
            parse_policy(b"version: STSv1\n\xff", &PolicyLimits::default()).unwrap_err(),
            PolicyError::NotUtf8 { at: 15 }
        );
        let p = pol("version: STSv1\nmode: none\nmax_age: 0\nfoo: bar").unwrap();
        assert_eq!(
            p.warnings,
            vec![
                PolicyWarning::BareLf,
                PolicyWarning::UnknownKey {
                    key: "foo".into(),
                    line: 4
                }
            ]
        );
    }

    #[test]
    fn policy_round_trip() {
        let src = "version: STSv1\nmode: testing\nmax_age: 604800\nmx: a.example\nmx: *.b.example\next: 1\n";
        let p = pol(src).unwrap();
        let text = p.to_text();
        let again = pol(&text).unwrap();
        assert_eq!(again.to_text(), text);
        assert_eq!(
            (
                again.mode,
                again.max_age,
                again.mx.len(),
                again.extensions.len()
            ),
            (Mode::Testing, 604800, 2, 1)
        );
        assert!(!again.warnings.contains(&PolicyWarning::BareLf));
    }

    #[test]
    fn size_cap_first() {
        let big = vec![b'a'; 64 * 1024 + 1];
        assert_eq!(
            parse_policy(&big, &PolicyLimits::default()).unwrap_err(),
            PolicyError::TooLarge {
                len: 65537,
                limit: 65536
            }
        );
    }

    #[test]
    fn mx_matching() {
        assert!(mx_matches("mail.example.com", "MAIL.example.com."));
        assert!(mx_matches("*.example.com", "mx1.example.com"));
        assert!(!mx_matches("*.example.com", "example.com"));
        assert!(!mx_matches("*.example.com", "a.b.example.com"));
        assert!(!mx_matches("*.example.com", ".example.com"));
        assert!(!mx_matches("mail.example.com", "mail.example.net"));
        assert!(mx_matches_any(["x.y", "*.example.com"], "m.example.com"));
    }

    #[test]
    fn media_type() {
        assert!(is_policy_media_type("text/plain; charset=UTF-8"));
        assert!(is_policy_media_type("TEXT/PLAIN"));
        assert!(!is_policy_media_type("text/html"));
        assert!(!is_policy_media_type("text/plain+"));
    }

    #[test]
    fn truncations_never_panic() {
        let src = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n";
        for n in 0..=src.len() {
            let _ = pol(&src[..n]);
        }
        let r = "v=STSv1; id=20240101T000000;";
        for n in 0..=r.len() {
            let _ = rec(&r[..n]);
        }
    }
}
