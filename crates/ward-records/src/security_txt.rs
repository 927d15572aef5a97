//! `security.txt` files, RFC 9116.
//!
//! ```text
//! body   = signed / unsigned
//! unsigned = *line (contact-field eol) *line (expires-field eol) *line   ; any order
//! line   = [ (field / comment) ] eol
//! field  = field-name ":" [ WSP ] unstructured ; name case-insensitive (§2.4)
//! comment = "#" *(WSP / VCHAR / %x80-FFFFF)
//! ```
//!
//! `Contact` (one or more) and `Expires` (exactly one, an RFC 3339 date-time) are required
//! (§2.5.3, §2.5.5); `Preferred-Languages` may appear once (§2.5.8). A file signed with
//! OpenPGP cleartext (§2.3) is read between the armour lines with dash-escapes undone; the
//! signature itself is not checked here. Unknown fields are kept (§2.4 allows extensions).
//! Whether `Expires` lies in the past or too far ahead is judged by the caller, against the
//! scan time.
#![deny(missing_docs)]

use serde::Serialize;

/// Bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes. Default 32 KiB.
    pub max_bytes: usize,
    /// Most lines. Default 1000.
    pub max_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024,
            max_lines: 1000,
        }
    }
}

/// One field line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Name, as written.
    pub name: String,
    /// Value, trimmed.
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityTxt {
    /// Every field, in order.
    pub fields: Vec<Field>,
    /// `Contact` values, in order.
    pub contact: Vec<String>,
    /// `Expires`, as written.
    pub expires_raw: String,
    /// `Expires`, as seconds since the Unix epoch (UTC).
    pub expires: i64,
    /// `Canonical` values.
    pub canonical: Vec<String>,
    /// Whether the file carried an OpenPGP cleartext signature armour.
    pub signed: bool,
    /// Non-fatal observations.
    pub warnings: Vec<SecurityTxtWarning>,
}

impl SecurityTxt {
    /// Values of every field named `name` (case-insensitive).
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
            .collect()
    }
}

/// Non-fatal observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SecurityTxtWarning {
    /// A field RFC 9116 does not define.
    UnknownField {
        /// Name.
        name: String,
        /// Line.
        line: usize,
    },
    /// A `Contact` that is not a `mailto:`, `tel:` or `https:` URI (§2.5.3).
    ContactNotUri {
        /// Line.
        line: usize,
    },
    /// `Preferred-Languages` repeated.
    DuplicatePreferredLanguages {
        /// Line.
        line: usize,
    },
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum SecurityTxtError {
    /// Larger than [`Limits::max_bytes`].
    #[error("file is {len} bytes, over the {limit}-byte limit")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_lines`] lines.
    #[error("more than {limit} lines")]
    TooManyLines {
        /// Limit.
        limit: usize,
    },
    /// Not UTF-8 (§2.2 requires it).
    #[error("not UTF-8 (byte {at})")]
    NotUtf8 {
        /// First bad byte.
        at: usize,
    },
    /// A line that is neither blank, a comment nor `name: value`.
    #[error("line {line} is not a field or comment")]
    BadLine {
        /// Line.
        line: usize,
    },
    /// A signed file whose armour is broken.
    #[error("OpenPGP cleartext armour is incomplete")]
    BadArmour,
    /// No `Contact` field.
    #[error("no Contact field")]
    NoContact,
    /// No `Expires` field.
    #[error("no Expires field")]
    NoExpires,
    /// `Expires` more than once.
    #[error("Expires repeated on line {line}")]
    DuplicateExpires {
        /// Line of the repeat.
        line: usize,
    },
    /// `Expires` not an RFC 3339 date-time.
    #[error("Expires on line {line} is not an RFC 3339 date-time")]
    BadExpires {
        /// Line.
        line: usize,
    },
}

const KNOWN: &[&str] = &[
    "acknowledgments",
    "canonical",
    "contact",
    "encryption",
    "expires",
    "hiring",
    "policy",
    "preferred-languages",
    "csaf",
];

/// Parses a security.txt body.
pub fn parse(body: &[u8], limits: &Limits) -> Result<SecurityTxt, SecurityTxtError> {
    if body.len() > limits.max_bytes {
        return Err(SecurityTxtError::TooLong {
            len: body.len(),
            limit: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| SecurityTxtError::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    let all: Vec<&str> = text.lines().collect();
    if all.len() > limits.max_lines {
        return Err(SecurityTxtError::TooManyLines {
            limit: limits.max_lines,
        });
    }
    // (line number, content) pairs of the signed or unsigned body.
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let signed = all
        .first()
        .is_some_and(|l| l.trim_end() == "-----BEGIN PGP SIGNED MESSAGE-----");
    if signed {
        let mut i = 1;
        // Armour headers ("Hash: SHA256") end at the first blank line.
        while i < all.len() && !all[i].trim().is_empty() {
            i += 1;
        }
        i += 1;
        let mut closed = false;
        while i < all.len() {
            let l = all[i];
            if l.trim_end() == "-----BEGIN PGP SIGNATURE-----" {
                closed = true;
                break;
            }
            lines.push((i + 1, l.strip_prefix("- ").unwrap_or(l)));
            i += 1;
        }
        if !closed {
            return Err(SecurityTxtError::BadArmour);
        }
    } else {
        lines.extend(all.iter().enumerate().map(|(i, l)| (i + 1, *l)));
    }

    let mut fields = Vec::new();
    let mut warnings = Vec::new();
    for (line, l) in lines {
        let l = l.trim_end_matches('\r');
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(SecurityTxtError::BadLine { line });
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SecurityTxtError::BadLine { line });
        }
        let lower = name.to_ascii_lowercase();
        if !KNOWN.contains(&lower.as_str()) {
            warnings.push(SecurityTxtWarning::UnknownField {
                name: name.to_string(),
                line,
            });
        }
        fields.push(Field {
            name: name.to_string(),
            value: value.trim().to_string(),
            line,
        });
    }

    let mut contact = Vec::new();
    let mut canonical = Vec::new();
    let mut expires: Option<(String, i64)> = None;
    let mut langs = false;
    for f in &fields {
        match f.name.to_ascii_lowercase().as_str() {
            "contact" => {
                let v = f.value.to_ascii_lowercase();
                if !(v.starts_with("mailto:") || v.starts_with("tel:") || v.starts_with("https://"))
                {
                    warnings.push(SecurityTxtWarning::ContactNotUri { line: f.line });
                }
                contact.push(f.value.clone());
            }
            "canonical" => canonical.push(f.value.clone()),
            "expires" => {
                if expires.is_some() {
                    return Err(SecurityTxtError::DuplicateExpires { line: f.line });
                }
                let t =
                    parse_rfc3339(&f.value).ok_or(SecurityTxtError::BadExpires { line: f.line })?;
                expires = Some((f.value.clone(), t));
            }
            "preferred-languages" => {
                if langs {
                    warnings.push(SecurityTxtWarning::DuplicatePreferredLanguages { line: f.line });
                }
                langs = true;
            }
            _ => {}
        }
    }
    if contact.is_empty() {
        return Err(SecurityTxtError::NoContact);
    }
    let Some((expires_raw, expires)) = expires else {
        return Err(SecurityTxtError::NoExpires);
    };
    Ok(SecurityTxt {
        fields,
        contact,
        expires_raw,
        expires,
        canonical,
        signed,
        warnings,
    })
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 `date-time` (`2026-12-31T23:59:59Z`, `…+01:00`, fractional seconds
/// allowed, `t`/`z` accepted) to seconds since the epoch. `None` when malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
    };
    let year = num(0..4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5..7)?;
    let day = num(8..10)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = num(11..13)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let min = num(14..16)?;
    let sec = num(17..19)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let mdays = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > mdays || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            i += 6;
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file() {
        let f = parse(
            b"# hi\nContact: mailto:security@example.org\ncontact: https://example.org/sec\nExpires: 2027-01-01T00:00:00Z\nFoo: bar\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            f.contact,
            vec!["mailto:security@example.org", "https://example.org/sec"]
        );
        assert_eq!(f.expires, 1_798_761_600);
        assert_eq!(
            f.warnings,
            vec![SecurityTxtWarning::UnknownField {
                name: "Foo".into(),
                line: 5
            }]
        );
        assert!(!f.signed);
    }

    #[test]
    fn errors() {
        let l = Limits::default();
        assert_eq!(
            parse(b"Expires: 2027-01-01T00:00:00Z\n", &l),
            Err(SecurityTxtError::NoContact)
        );
        assert_eq!(
            parse(b"Contact: mailto:a@b\n", &l),
            Err(SecurityTxtError::NoExpires)
        );
        assert_eq!(
            parse(b"Contact: mailto:a@b\nExpires: tomorrow\n", &l),
            Err(SecurityTxtError::BadExpires { line: 2 })
        );
        assert_eq!(
            parse(
                b"Contact: mailto:a@b\nExpires: 2027-01-01T00:00:00Z\nExpires: 2027-01-01T00:00:00Z\n",
                &l
            ),
            Err(SecurityTxtError::DuplicateExpires { line: 3 })
        );
        assert_eq!(
            parse(b"<html>\n", &l),
            Err(SecurityTxtError::BadLine { line: 1 })
        );
        assert_eq!(
            parse(b"a\xff", &l),
            Err(SecurityTxtError::NotUtf8 { at: 1 })
        );
    }

    #[test]
    fn signed_file() {
        let body = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nContact: mailto:a@b\n- Expires: 2027-01-01T01:00:00+01:00\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n";
        let f = parse(body, &Limits::default()).unwrap();
        assert!(f.signed);
        assert_eq!(f.expires, 1_798_761_600);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00.5z"), Some(1_709_208_000));
        assert_eq!(parse_rfc3339("2023-02-29T12:00:00Z"), None);
        assert_eq!(parse_rfc3339("2023-01-01T00:00:00"), None);
        assert_eq!(parse_rfc3339("2023-01-01"), None);
    }
}
