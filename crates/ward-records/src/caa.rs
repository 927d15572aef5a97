//! CAA records (RFC 8659), in the presentation form `flags tag "value"`.
//!
//! RFC 8659 §4.1: `flags` is one octet whose top bit is Issuer Critical; `tag` is 1-15
//! ASCII letters and digits; the value's grammar depends on the tag. §4.2 (issue):
//!
//! ```text
//! issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
//! issuer-domain-name = label *("." label)
//! parameters = (parameter *WSP ";" *WSP parameters) / parameter
//! parameter = tag *WSP "=" *WSP value      ; value = *(%x21-3A / %x3C-7E)
//! ```
//!
//! §4.4: `iodef` takes a `mailto:`, `http:` or `https:` URL. A CA must refuse to issue
//! when it meets a critical tag it does not understand (§4.1), which is why an unknown
//! critical tag is worth a finding of its own.

use serde::Serialize;

/// Tags whose meaning ward knows.
pub const KNOWN_TAGS: &[&str] = &[
    "issue",
    "issuewild",
    "iodef",
    "issuemail",
    "issuevmc",
    "contactemail",
    "contactphone",
];

/// A parsed CAA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caa {
    /// The record as served.
    pub raw: String,
    /// The flags octet.
    pub flags: u8,
    /// The Issuer Critical bit.
    pub critical: bool,
    /// The tag, lower-cased (tags are case-insensitive).
    pub tag: String,
    /// The value, unescaped.
    pub value: String,
    /// What the value says.
    pub property: Property,
}

/// The meaning of a CAA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Property {
    /// `issue` or `issuewild` (or `issuemail`/`issuevmc`, same grammar).
    Issue {
        /// Which issuance the record governs.
        tag: String,
        /// The CA's domain; `None` means "no CA may issue".
        issuer: Option<String>,
        /// `key=value` parameters.
        parameters: Vec<(String, String)>,
    },
    /// Where CAs report refused requests.
    Iodef {
        /// The URL.
        url: String,
    },
    /// A tag ward does not interpret.
    Other,
}

/// A CAA record that does not follow RFC 8659. Positions are byte offsets into the
/// record's presentation text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum CaaError {
    /// The flags field is not a number from 0 to 255.
    #[error("flags must be a number from 0 to 255 (at byte {at})")]
    BadFlags {
        /// Byte offset.
        at: usize,
    },
    /// The tag is empty, too long, or has characters other than letters and digits.
    #[error("tag {tag:?} must be 1-15 letters and digits (at byte {at})")]
    BadTag {
        /// The tag as written.
        tag: String,
        /// Byte offset.
        at: usize,
    },
    /// The value is missing or not in quotes.
    #[error("the value must be a quoted string (at byte {at})")]
    BadValue {
        /// Byte offset.
        at: usize,
    },
    /// The issuer domain name is not a domain name.
    #[error("{issuer:?} is not a CA domain name (at byte {at} of the value)")]
    BadIssuer {
        /// What was written.
        issuer: String,
        /// Byte offset within the value.
        at: usize,
    },
    /// A parameter is not `key=value`.
    #[error("parameter {parameter:?} must be key=value (at byte {at} of the value)")]
    BadParameter {
        /// What was written.
        parameter: String,
        /// Byte offset within the value.
        at: usize,
    },
    /// An iodef value that is not a mailto:, http: or https: URL.
    #[error("iodef {url:?} must be a mailto:, http: or https: URL")]
    BadIodef {
        /// What was written.
        url: String,
    },
}

/// Longest record accepted; a CAA RDATA cannot exceed 64 KiB, presentation text is
/// larger by its escapes.
pub const MAX_LEN: usize = 4 * 65_535;

/// Parses one CAA record in presentation form.
pub fn parse(raw: &str) -> Result<Caa, CaaError> {
    if raw.len() > MAX_LEN {
        return Err(CaaError::BadValue { at: MAX_LEN });
    }
    let s = raw.trim_start();
    let lead = raw.len() - s.len();
    let flags_end = s.find(char::is_whitespace).unwrap_or(s.len());
    let flags: u8 = s[..flags_end]
        .parse()
        .map_err(|_| CaaError::BadFlags { at: lead })?;
    let rest = &s[flags_end..];
    let tag_start = lead + flags_end + (rest.len() - rest.trim_start().len());
    let rest = rest.trim_start();
    let tag_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let tag_raw = &rest[..tag_end];
    if tag_raw.is_empty()
        || tag_raw.len() > 15
        || !tag_raw.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(CaaError::BadTag {
            tag: tag_raw.to_owned(),
            at: tag_start,
        });
    }
    let after_tag = &rest[tag_end..];
    let value_start = tag_start + tag_end + (after_tag.len() - after_tag.trim_start().len());
    let value = unquote(after_tag.trim()).ok_or(CaaError::BadValue { at: value_start })?;
    let tag = tag_raw.to_ascii_lowercase();
    let property = match tag.as_str() {
        "issue" | "issuewild" | "issuemail" | "issuevmc" => parse_issue(&tag, &value)?,
        "iodef" => {
            let url = value.trim();
            let ok = ["mailto:", "http://", "https://"]
                .iter()
                // `get`: the byte after a scheme's length may fall inside a character.
                .any(|p| {
                    url.len() > p.len()
                        && url
                            .get(..p.len())
                            .is_some_and(|s| s.eq_ignore_ascii_case(p))
                });
            if !ok {
                return Err(CaaError::BadIodef {
                    url: url.to_owned(),
                });
            }
            Property::Iodef {
                url: url.to_owned(),
            }
        }
        _ => Property::Other,
    };
    Ok(Caa {
        raw: raw.to_owned(),
        flags,
        critical: flags & 0x80 != 0,
        tag,
        value,
        property,
    })
}

/// Removes the quotes and presentation escapes (`\X`, `\DDD`) of a character-string.
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let next = bytes.get(i + 1..i + 4);
                match next {
                    Some(d) if d.iter().all(u8::is_ascii_digit) => {
                        let n = (d[0] - b'0') as u16 * 100
                            + (d[1] - b'0') as u16 * 10
                            + (d[2] - b'0') as u16;
                        out.push(u8::try_from(n).ok()?);
                        i += 4;
                    }
                    _ => {
                        out.push(*bytes.get(i + 1)?);
                        i += 2;
                    }
                }
            }
            b'"' => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn parse_issue(tag: &str, value: &str) -> Result<Property, CaaError> {
    let (domain_part, params_part) = match value.find(';') {
        Some(i) => (&value[..i], Some((i + 1, &value[i + 1..]))),
        None => (value, None),
    };
    let issuer = domain_part.trim();
    let issuer = if issuer.is_empty() {
        None
    } else {
        let valid = issuer.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
        if !valid {
            let at = domain_part.len() - domain_part.trim_start().len();
            return Err(CaaError::BadIssuer {
                issuer: issuer.to_owned(),
                at,
            });
        }
        Some(issuer.to_ascii_lowercase())
    };
    let mut parameters = Vec::new();
    if let Some((offset, text)) = params_part {
        let mut at = offset;
        for piece in text.split(';') {
            let here = at;
            at += piece.len() + 1;
            let p = piece.trim();
            if p.is_empty() {
                continue;
            }
            let Some((k, v)) = p.split_once('=') else {
                return Err(CaaError::BadParameter {
                    parameter: p.to_owned(),
                    at: here,
                });
            };
            let (k, v) = (k.trim(), v.trim());
            let key_ok = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric());
            let value_ok =
                !v.is_empty() && v.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b';');
            if !key_ok || !value_ok {
                return Err(CaaError::BadParameter {
                    parameter: p.to_owned(),
                    at: here,
                });
            }
            parameters.push((k.to_owned(), v.to_owned()));
        }
    }
    Ok(Property::Issue {
        tag: tag.to_owned(),
        issuer,
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_issue_with_parameters() {
        let c = parse("0 issue \"letsencrypt.org; validationmethods=dns-01\"").unwrap();
        assert!(!c.critical);
        assert_eq!(
            c.property,
            Property::Issue {
                tag: "issue".into(),
                issuer: Some("letsencrypt.org".into()),
                parameters: vec![("validationmethods".into(), "dns-01".into())],
            }
        );
    }

    #[test]
    fn empty_issuer_forbids_issuance() {
        let c = parse("0 issuewild \";\"").unwrap();
        assert_eq!(
            c.property,
            Property::Issue {
                tag: "issuewild".into(),
                issuer: None,
                parameters: vec![]
            }
        );
    }

    #[test]
    fn refusals_name_the_position() {
        assert_eq!(
            parse("256 issue \"ca.example\""),
            Err(CaaError::BadFlags { at: 0 })
        );
        assert_eq!(
            parse("0 is-sue \"ca.example\""),
            Err(CaaError::BadTag {
                tag: "is-sue".into(),
                at: 2
            })
        );
        assert_eq!(
            parse("0 issue ca.example"),
            Err(CaaError::BadValue { at: 8 })
        );
        assert_eq!(
            parse("0 issue \"letsencrypt.org; ;=\""),
            Err(CaaError::BadParameter {
                parameter: "=".into(),
                at: 18
            })
        );
        assert_eq!(
            parse("0 issue \"bad_ca!\""),
            Err(CaaError::BadIssuer {
                issuer: "bad_ca!".into(),
                at: 0
            })
        );
        assert_eq!(
            parse("0 iodef \"security@x.example\""),
            Err(CaaError::BadIodef {
                url: "security@x.example".into()
            })
        );
    }

    #[test]
    fn critical_unknown_tag_is_parsed_for_the_check_to_judge() {
        let c = parse("128 tbs \"unknown\"").unwrap();
        assert!(c.critical);
        assert_eq!(c.property, Property::Other);
        assert!(!KNOWN_TAGS.contains(&c.tag.as_str()));
    }

    #[test]
    fn escapes_are_decoded() {
        let c = parse(r#"0 iodef "mailto:a\064b.example""#).unwrap();
        assert_eq!(
            c.property,
            Property::Iodef {
                url: "mailto:a@b.example".into()
            }
        );
    }

    #[test]
    fn never_panics_on_prefixes() {
        let s = "128 issue \"ca.example; a=b\\\\\\065\"";
        for i in 0..=s.len() {
            if s.is_char_boundary(i) {
                let _ = parse(&s[..i]);
            }
        }
    }

    #[test]
    fn iodef_with_a_wide_character_where_the_scheme_ends() {
        // Found by tests/fuzz.rs (caa_parse::mutated_samples): slicing the URL at the
        // scheme's length panicked when that byte fell inside a character.
        let raw = "128 iodef \"mailt\u{fffd}:security@example.org\"";
        assert!(matches!(parse(raw), Err(CaaError::BadIodef { .. })));
        assert!(parse("0 iodef \"ht\u{e9}p://x\"").is_err());
    }

    #[test]
    fn errors_escape_control_characters_they_quote() {
        // Found by tests/fuzz.rs (caa_parse::mutated_samples): the issuer, tag, parameter
        // and iodef URL were quoted raw, so a record could put terminal escapes into the
        // message ward prints.
        for raw in [
            "0 issue \"letsen\u{12}rypt.org\"",
            "0 issue \"ca.example; valid\u{1b}[2Jtionmethods\"",
            "0 is\u{7}ue \"ca.example\"",
            "0 iodef \"\u{1b}]52;c;x\u{7}\"",
        ] {
            let msg = parse(raw).unwrap_err().to_string();
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
        }
        assert_eq!(
            parse("0 issue \"letsen\u{12}rypt.org\"")
                .unwrap_err()
                .to_string(),
            "\"letsen\\u{12}rypt.org\" is not a CA domain name (at byte 0 of the value)"
        );
    }
}
