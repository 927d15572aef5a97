//! The `tag=value; tag=value` lists of DKIM (RFC 6376 §3.2), DMARC (RFC 7489 §6.4), BIMI,
//! MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3): one splitter and one error type.
//!
//! ```text
//! tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
//! tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//! ```
//!
//! The five formats read that grammar in two ways, and a `Grammar` names each difference:
//! which blanks are allowed (`Blanks`), which names (`Names`), whether blanks may stand
//! around `=` (`Equals`), and whether repeated names are refused while splitting
//! (`Repeats`). Everything else (versions, which tags exist, what values mean) is the
//! record's business. The checks run in a fixed order, because the first error is what a
//! record reports: length, bytes, number of terms, then each term from left to right.
#![deny(missing_docs)]

use std::fmt;

use serde::Serialize;

/// Why a tag list could not be split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum TagListError {
    /// Longer than the record's `max_bytes` limit.
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// More `;`-separated terms than the record's `max_terms` limit (empty terms count).
    TooManyTerms {
        /// The limit.
        limit: usize,
    },
    /// A byte that is not printable ASCII or an allowed blank.
    BadByte {
        /// Position.
        at: usize,
    },
    /// A term without `=`.
    NoEquals {
        /// Position of the term.
        at: usize,
    },
    /// Blanks around `=` where the grammar has none (MTA-STS, TLS-RPT).
    SpaceAroundEquals {
        /// Position of the term.
        at: usize,
    },
    /// A tag name the grammar does not allow.
    BadTagName {
        /// Position of the name.
        at: usize,
    },
    /// A tag given twice.
    DuplicateTag {
        /// The tag (lower case when names compare without case).
        tag: String,
        /// Position of the second one.
        at: usize,
    },
}

impl std::error::Error for TagListError {}

impl fmt::Display for TagListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.worded(Words::TAGS).fmt(f)
    }
}

impl TagListError {
    /// The message in a format's own words (see [`Words`]).
    pub(crate) fn worded(&self, words: Words) -> impl fmt::Display + '_ {
        Worded(self, words)
    }
}

/// The nouns a format's messages use. They differ ("tag" in DKIM and DMARC, "field" in
/// MTA-STS and TLS-RPT), and the messages reach owners in findings, so each keeps its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Words {
    /// What one `;`-separated piece is called.
    pub term: &'static str,
    /// What a name is called.
    pub tag: &'static str,
    /// How "more than N terms" begins.
    pub more_than: &'static str,
}

impl Words {
    /// RFC 6376 §3.2's words.
    pub(crate) const TAGS: Words = Words {
        term: "term",
        tag: "tag",
        more_than: "more than",
    };
    /// RFC 8461 §3.1's and RFC 8460 §3's words.
    pub(crate) const FIELDS: Words = Words {
        term: "field",
        tag: "field",
        more_than: "more than",
    };
}

/// Serializes `e` under the names MTA-STS and TLS-RPT gave these errors before they shared
/// this type (`BadName { at }`, `DuplicateField { name, at }`): the error is evidence in
/// findings' JSON, which must not change with the refactor. Other variants are as derived.
pub(crate) fn serialize_as_fields<S: serde::Serializer>(
    e: &TagListError,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStructVariant as _;
    match e {
        TagListError::BadTagName { at } => {
            let mut v = s.serialize_struct_variant("TagListError", 5, "BadName", 1)?;
            v.serialize_field("at", at)?;
            v.end()
        }
        TagListError::DuplicateTag { tag, at } => {
            let mut v = s.serialize_struct_variant("TagListError", 6, "DuplicateField", 2)?;
            v.serialize_field("name", tag)?;
            v.serialize_field("at", at)?;
            v.end()
        }
        other => other.serialize(s),
    }
}

struct Worded<'a>(&'a TagListError, Words);

impl fmt::Display for Worded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Words {
            term,
            tag,
            more_than,
        } = self.1;
        match self.0 {
            TagListError::TooLong { len, limit } => {
                write!(f, "record is {len} bytes, over the {limit}-byte limit")
            }
            TagListError::TooManyTerms { limit } => write!(f, "{more_than} {limit} terms"),
            TagListError::BadByte { at } => write!(f, "byte {at} is not printable ASCII"),
            TagListError::NoEquals { at } => write!(f, "{term} at byte {at} has no '='"),
            TagListError::SpaceAroundEquals { at } => {
                write!(f, "whitespace around '=' at byte {at}")
            }
            TagListError::BadTagName { at } => write!(f, "bad {tag} name at byte {at}"),
            TagListError::DuplicateTag { tag: name, at } => {
                write!(f, "{tag} {name:?} repeated at byte {at}")
            }
        }
    }
}

/// Which bytes count as blanks (allowed anywhere between tokens, trimmed from terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blanks {
    /// Space, tab, CR and LF: RFC 6376's FWS once unfolded (DKIM, DMARC, BIMI).
    Fws,
    /// Space and tab only: RFC 5234 WSP (MTA-STS, TLS-RPT); CR and LF are bad bytes.
    Wsp,
}

impl Blanks {
    pub(crate) fn is_blank(self, b: u8) -> bool {
        match self {
            Blanks::Fws => matches!(b, b' ' | b'\t' | b'\r' | b'\n'),
            Blanks::Wsp => matches!(b, b' ' | b'\t'),
        }
    }

    pub(crate) fn is_blank_char(self, c: char) -> bool {
        u8::try_from(c).is_ok_and(|b| self.is_blank(b))
    }

    /// `start..end` of `text` without blanks at either end.
    fn trim(self, text: &str, start: usize, end: usize) -> (usize, usize) {
        let b = text.as_bytes();
        let blank_at = |i: usize| b.get(i).copied().is_some_and(|c| self.is_blank(c));
        let (mut a, mut z) = (start, end);
        while a < z && blank_at(a) {
            a += 1;
        }
        while z > a && blank_at(z - 1) {
            z -= 1;
        }
        (a, z)
    }
}

/// Which tag names are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// RFC 6376 `tag-name = ALPHA *ALNUMPUNC` (`ALNUMPUNC` is a letter, digit or `_`).
    TagName,
    /// RFC 8461 `sts-ext-name` and RFC 8460 `tlsrpt-ext-name`:
    /// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
    ExtName,
}

impl Names {
    pub(crate) fn allows(self, name: &str) -> bool {
        let mut b = name.bytes();
        match self {
            Names::TagName => {
                b.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
            }
            Names::ExtName => {
                b.next().is_some_and(|c| c.is_ascii_alphanumeric())
                    && name.len() <= 32
                    && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            }
        }
    }
}

/// Whether blanks may stand between the name, the `=` and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Equals {
    /// Allowed, and noted in [`Term::spaced_equals`] (RFC 6376 `[FWS] "=" [FWS]`).
    MayBeSpaced,
    /// Refused as [`TagListError::SpaceAroundEquals`] (RFC 8461 and RFC 8460 have none).
    Tight,
}

/// Whether the splitter refuses a repeated name itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeats {
    /// Not while splitting: the record calls [`TagList::refuse_repeats`] or
    /// [`TagList::refuse_repeat`] at the point its own error order needs.
    LeftToCaller,
    /// Refused as each term is read (names compared exactly), so a repeat is reported
    /// before a later term's syntax error (MTA-STS, TLS-RPT).
    Refused,
}

/// How names compare when looking for repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// Exactly (DKIM, BIMI, MTA-STS, TLS-RPT).
    Sensitive,
    /// Without ASCII case (DMARC: ABNF strings are case-insensitive); reported lower-cased.
    Insensitive,
}

/// One reading of the tag-list grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grammar {
    pub blanks: Blanks,
    pub names: Names,
    pub equals: Equals,
    pub repeats: Repeats,
}

impl Grammar {
    /// RFC 6376 §3.2, as DKIM, DMARC and BIMI read it.
    pub(crate) const TAGS: Grammar = Grammar {
        blanks: Blanks::Fws,
        names: Names::TagName,
        equals: Equals::MayBeSpaced,
        repeats: Repeats::LeftToCaller,
    };
    /// RFC 8461 §3.1 and RFC 8460 §3 (the version term is split like any other field).
    pub(crate) const FIELDS: Grammar = Grammar {
        blanks: Blanks::Wsp,
        names: Names::ExtName,
        equals: Equals::Tight,
        repeats: Repeats::Refused,
    };
}

/// Size limits, checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub max_bytes: usize,
    pub max_terms: usize,
}

/// One `name=value` term, with the byte positions findings quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Term<'a> {
    pub name: &'a str,
    pub name_at: usize,
    pub value: &'a str,
    pub value_at: usize,
    /// Whether blanks stood between the name, the `=` and the value.
    pub spaced_equals: bool,
}

/// A split list: the terms, and what the grammar tolerates that a record may note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TagList<'a> {
    pub terms: Vec<Term<'a>>,
    pub leading_blank: bool,
    pub trailing_blank: bool,
    /// Position of a final `;` with nothing after it.
    pub trailing_separator: Option<usize>,
    /// Positions of empty terms (`;;`, or blanks only before another `;`): where each ends.
    pub empty_terms: Vec<usize>,
}

impl TagList<'_> {
    /// Refuses term `i` when an earlier term has the same name.
    pub(crate) fn refuse_repeat(&self, i: usize, case: Case) -> Result<(), TagListError> {
        match (self.terms.get(..i), self.terms.get(i)) {
            (Some(earlier), Some(term)) => refuse_repeat(earlier, term, case),
            _ => Ok(()),
        }
    }

    /// Refuses the first term whose name an earlier term already has.
    pub(crate) fn refuse_repeats(&self, case: Case) -> Result<(), TagListError> {
        (0..self.terms.len()).try_for_each(|i| self.refuse_repeat(i, case))
    }
}

fn refuse_repeat(earlier: &[Term<'_>], term: &Term<'_>, case: Case) -> Result<(), TagListError> {
    let same = |a: &str, b: &str| match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a.eq_ignore_ascii_case(b),
    };
    if !earlier.iter().any(|e| same(e.name, term.name)) {
        return Ok(());
    }
    Err(TagListError::DuplicateTag {
        tag: match case {
            Case::Sensitive => term.name.into(),
            Case::Insensitive => term.name.to_ascii_lowercase(),
        },
        at: term.name_at,
    })
}

/// Refuses text over `max_bytes`. Split out because DMARC checks the length before it
/// looks for an SPF record, and the rest of the screening after.
pub(crate) fn check_length(text: &str, max_bytes: usize) -> Result<(), TagListError> {
    if text.len() > max_bytes {
        return Err(TagListError::TooLong {
            len: text.len(),
            limit: max_bytes,
        });
    }
    Ok(())
}

/// The checks that need no splitting: length, bytes, number of terms. Split out because
/// MTA-STS and TLS-RPT check their version between these and the terms.
pub(crate) fn screen(text: &str, grammar: &Grammar, bounds: Bounds) -> Result<(), TagListError> {
    check_length(text, bounds.max_bytes)?;
    let bytes = text.as_bytes();
    if let Some(at) = bytes
        .iter()
        .position(|&b| !(grammar.blanks.is_blank(b) || (0x21..=0x7e).contains(&b)))
    {
        return Err(TagListError::BadByte { at });
    }
    // Empty terms count too: a list of 10 000 semicolons is refused before any work.
    if bytes.iter().filter(|&&b| b == b';').count() + 1 > bounds.max_terms {
        return Err(TagListError::TooManyTerms {
            limit: bounds.max_terms,
        });
    }
    Ok(())
}

/// Splits `text` into terms: [`screen`] first, then each term from left to right. Values may
/// be empty and may hold `=`; what they mean is the record's business.
pub(crate) fn split<'a>(
    text: &'a str,
    grammar: &Grammar,
    bounds: Bounds,
) -> Result<TagList<'a>, TagListError> {
    screen(text, grammar, bounds)?;
    let bytes = text.as_bytes();
    let mut list = TagList {
        leading_blank: bytes.first().is_some_and(|&b| grammar.blanks.is_blank(b)),
        trailing_blank: bytes.last().is_some_and(|&b| grammar.blanks.is_blank(b)),
        ..TagList::default()
    };
    let mut start = 0usize;
    for (index, piece) in text.split(';').enumerate() {
        let end = start + piece.len();
        let last = end == text.len();
        let (a, z) = grammar.blanks.trim(text, start, end);
        if a < z {
            let term = read_term(text, a, z, grammar)?;
            if grammar.repeats == Repeats::Refused {
                refuse_repeat(&list.terms, &term, Case::Sensitive)?;
            }
            list.terms.push(term);
        } else if !last {
            list.empty_terms.push(a);
        } else if index > 0 {
            list.trailing_separator = Some(start - 1);
        }
        start = end + 1;
    }
    Ok(list)
}

/// Reads the term at `a..z` (already trimmed, not empty).
fn read_term<'a>(
    text: &'a str,
    a: usize,
    z: usize,
    grammar: &Grammar,
) -> Result<Term<'a>, TagListError> {
    let eq = a + text
        .get(a..z)
        .and_then(|t| t.find('='))
        .ok_or(TagListError::NoEquals { at: a })?;
    let (na, nz) = grammar.blanks.trim(text, a, eq);
    let (va, vz) = grammar.blanks.trim(text, eq + 1, z);
    let spaced_equals = nz != eq || (vz > va && va != eq + 1);
    if spaced_equals && grammar.equals == Equals::Tight {
        return Err(TagListError::SpaceAroundEquals { at: a });
    }
    let name = text.get(na..nz).unwrap_or_default();
    if !grammar.names.allows(name) {
        return Err(TagListError::BadTagName { at: na });
    }
    Ok(Term {
        name,
        name_at: na,
        value: text.get(va..vz).unwrap_or_default(),
        value_at: va,
        spaced_equals,
    })
}

/// RFC 8461 `sts-ext-value` and RFC 8460 `tlsrpt-ext-value`: `1*(%x21-3A / %x3C / %x3E-7E)`.
pub(crate) fn is_ext_value(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=')
}

/// Whether the first `;`-piece, without trailing blanks, is exactly `version` (RFC 8461
/// `%s"v=STSv1"`, RFC 8460 `%s"v=TLSRPTv1"`: no leading blanks, no case folding).
pub(crate) fn begins_with_version(text: &str, blanks: Blanks, version: &str) -> bool {
    let first = text.split(';').next().unwrap_or_default();
    first.trim_end_matches(|c| blanks.is_blank_char(c)) == version
}

/// Whether `text` begins like an SPF record, which people publish at the wrong name.
pub(crate) fn looks_like_spf(text: &str) -> bool {
    text.get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("v=spf1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROOMY: Bounds = Bounds {
        max_bytes: 4096,
        max_terms: 64,
    };

    fn tags(s: &str) -> Result<TagList<'_>, TagListError> {
        split(s, &Grammar::TAGS, ROOMY)
    }

    fn fields(s: &str) -> Result<TagList<'_>, TagListError> {
        split(s, &Grammar::FIELDS, ROOMY)
    }

    fn names<'a>(l: &TagList<'a>) -> Vec<(&'a str, usize, &'a str, usize)> {
        l.terms
            .iter()
            .map(|t| (t.name, t.name_at, t.value, t.value_at))
            .collect()
    }

    #[test]
    fn terms_keep_positions() {
        let l = tags("a=1; bb = two words ;c=").unwrap();
        assert_eq!(
            names(&l),
            vec![
                ("a", 0, "1", 2),
                ("bb", 5, "two words", 10),
                ("c", 21, "", 23)
            ]
        );
        assert_eq!(
            l.terms.iter().map(|t| t.spaced_equals).collect::<Vec<_>>(),
            vec![false, true, false]
        );
        // A value may hold '=' (base64 padding).
        assert_eq!(tags("p=AB==").unwrap().terms[0].value, "AB==");
    }

    #[test]
    fn shape_is_noted() {
        let l = tags(" a=1;; ;b=2; ").unwrap();
        assert!(l.leading_blank && l.trailing_blank);
        assert_eq!(l.empty_terms, vec![5, 7]);
        assert_eq!(l.trailing_separator, Some(11));
        let l = tags("").unwrap();
        assert_eq!(l, TagList::default());
        assert_eq!(tags(";").unwrap().empty_terms, vec![0]);
        assert_eq!(tags(";").unwrap().trailing_separator, Some(0));
    }

    #[test]
    fn each_error() {
        let e = |s| tags(s).unwrap_err();
        assert_eq!(e("a=1; b"), TagListError::NoEquals { at: 5 });
        assert_eq!(e("a=1; 1b=2"), TagListError::BadTagName { at: 5 });
        assert_eq!(e("a=1; =2"), TagListError::BadTagName { at: 5 });
        assert_eq!(e("a=\u{e9}"), TagListError::BadByte { at: 2 });
        assert_eq!(e("a=\x01"), TagListError::BadByte { at: 2 });
        assert_eq!(
            fields("v=1; id =2").unwrap_err(),
            TagListError::SpaceAroundEquals { at: 5 }
        );
        assert_eq!(
            fields("v=1; id=2; id=3").unwrap_err(),
            TagListError::DuplicateTag {
                tag: "id".into(),
                at: 11
            }
        );
    }

    #[test]
    fn limits_come_first_in_order() {
        let b = Bounds {
            max_bytes: 8,
            max_terms: 2,
        };
        let e = |s| split(s, &Grammar::TAGS, b).unwrap_err();
        // Too long wins over a bad byte, a bad byte over too many terms.
        assert_eq!(
            e("\x01;;;;;;;;"),
            TagListError::TooLong { len: 9, limit: 8 }
        );
        assert_eq!(e("\x01;;;"), TagListError::BadByte { at: 0 });
        // Empty terms count, and the count comes before any term is read.
        assert_eq!(e("x;;"), TagListError::TooManyTerms { limit: 2 });
        assert_eq!(
            check_length("abc", 2),
            Err(TagListError::TooLong { len: 3, limit: 2 })
        );
        assert_eq!(screen("x;y", &Grammar::TAGS, b), Ok(()));
    }

    #[test]
    fn blanks_option() {
        // FWS: CR and LF are blanks, trimmed like spaces.
        let l = tags("a=1;\r\n b=2").unwrap();
        assert_eq!(names(&l), vec![("a", 0, "1", 2), ("b", 7, "2", 9)]);
        // WSP: CR and LF are bad bytes.
        assert_eq!(
            fields("a=1;\r\n b=2").unwrap_err(),
            TagListError::BadByte { at: 4 }
        );
        assert!(fields("a=1;\t b=2 ").unwrap().trailing_blank);
        assert!(Blanks::Fws.is_blank_char('\n') && !Blanks::Wsp.is_blank_char('\n'));
        assert!(!Blanks::Fws.is_blank_char('\u{a0}'));
    }

    #[test]
    fn names_option() {
        for ok in ["a", "a1", "a_b", "A"] {
            assert!(Names::TagName.allows(ok), "{ok}");
        }
        for bad in ["", "1a", "_a", "a-b", "a.b", "a b"] {
            assert!(!Names::TagName.allows(bad), "{bad}");
        }
        for ok in ["a", "1a", "a-b.c_d", &"x".repeat(32)] {
            assert!(Names::ExtName.allows(ok), "{ok}");
        }
        for bad in ["", "_a", "-a", ".a", &"x".repeat(33)] {
            assert!(!Names::ExtName.allows(bad), "{bad}");
        }
        assert_eq!(fields("v=1; 9a=x").unwrap().terms[1].name, "9a");
        assert_eq!(
            tags("v=1; 9a=x").unwrap_err(),
            TagListError::BadTagName { at: 5 }
        );
    }

    #[test]
    fn equals_option() {
        let l = tags("a =1; b= 2; c=3").unwrap();
        assert_eq!(
            l.terms.iter().map(|t| t.spaced_equals).collect::<Vec<_>>(),
            vec![true, true, false]
        );
        // A blank after '=' with nothing else is trailing, not spacing.
        assert!(!tags("a= ;").unwrap().terms[0].spaced_equals);
        assert!(fields("a= ;").is_ok());
        assert_eq!(
            fields("a= 1").unwrap_err(),
            TagListError::SpaceAroundEquals { at: 0 }
        );
        // No '=' is reported before spacing, spacing before the name.
        assert_eq!(
            fields(" 1 a").unwrap_err(),
            TagListError::NoEquals { at: 1 }
        );
        assert_eq!(
            fields("_ =1").unwrap_err(),
            TagListError::SpaceAroundEquals { at: 0 }
        );
    }

    #[test]
    fn repeats_option() {
        // Refused while splitting: the repeat at term 2 comes before term 3's bad name.
        assert_eq!(
            fields("v=1; v=2; _").unwrap_err(),
            TagListError::DuplicateTag {
                tag: "v".into(),
                at: 5
            }
        );
        // Left to the caller: the syntax error wins, and repeats are found afterwards.
        assert_eq!(
            tags("v=1; v=2; _").unwrap_err(),
            TagListError::NoEquals { at: 10 }
        );
        let l = tags("a=1; B=2; b=3").unwrap();
        assert_eq!(l.refuse_repeats(Case::Sensitive), Ok(()));
        assert_eq!(
            l.refuse_repeats(Case::Insensitive),
            Err(TagListError::DuplicateTag {
                tag: "b".into(),
                at: 10
            })
        );
        assert_eq!(l.refuse_repeat(1, Case::Insensitive), Ok(()));
        assert!(l.refuse_repeat(2, Case::Insensitive).is_err());
        assert_eq!(l.refuse_repeat(9, Case::Insensitive), Ok(()));
        // Names compare exactly when refused while splitting.
        assert!(fields("id=1; ID=2").is_ok());
    }

    #[test]
    fn helpers() {
        assert!(begins_with_version(
            "v=STSv1 \t; id=1",
            Blanks::Wsp,
            "v=STSv1"
        ));
        assert!(begins_with_version("v=STSv1", Blanks::Wsp, "v=STSv1"));
        assert!(!begins_with_version(" v=STSv1;", Blanks::Wsp, "v=STSv1"));
        assert!(!begins_with_version("v = STSv1;", Blanks::Wsp, "v=STSv1"));
        assert!(!begins_with_version("V=STSv1;", Blanks::Wsp, "v=STSv1"));
        assert!(looks_like_spf("V=SPF1 -all") && !looks_like_spf("v=spf"));
        assert!(!looks_like_spf("v=sp\u{e9}"));
        assert!(is_ext_value("a:b,c!") && !is_ext_value("") && !is_ext_value("a=b"));
        assert!(!is_ext_value("a b"));
    }

    #[test]
    fn messages_in_each_formats_words() {
        let dup = TagListError::DuplicateTag {
            tag: "p".into(),
            at: 3,
        };
        assert_eq!(dup.to_string(), "tag \"p\" repeated at byte 3");
        assert_eq!(
            dup.worded(Words::FIELDS).to_string(),
            "field \"p\" repeated at byte 3"
        );
        let no_eq = TagListError::NoEquals { at: 9 };
        assert_eq!(no_eq.to_string(), "term at byte 9 has no '='");
        assert_eq!(
            no_eq.worded(Words::FIELDS).to_string(),
            "field at byte 9 has no '='"
        );
        let name = TagListError::BadTagName { at: 1 };
        assert_eq!(name.to_string(), "bad tag name at byte 1");
        assert_eq!(
            name.worded(Words::FIELDS).to_string(),
            "bad field name at byte 1"
        );
        let many = TagListError::TooManyTerms { limit: 4 };
        assert_eq!(many.to_string(), "more than 4 terms");
        let dkim = Words {
            more_than: "record has more than",
            ..Words::TAGS
        };
        assert_eq!(
            many.worded(dkim).to_string(),
            "record has more than 4 terms"
        );
        assert_eq!(
            TagListError::TooLong { len: 9, limit: 8 }.to_string(),
            "record is 9 bytes, over the 8-byte limit"
        );
        assert_eq!(
            TagListError::BadByte { at: 2 }.to_string(),
            "byte 2 is not printable ASCII"
        );
        assert_eq!(
            TagListError::SpaceAroundEquals { at: 2 }.to_string(),
            "whitespace around '=' at byte 2"
        );
    }

    #[test]
    fn json_in_each_formats_names() {
        let json = |e: &TagListError| serde_json::to_value(e).unwrap();
        let fields =
            |e: &TagListError| serialize_as_fields(e, serde_json::value::Serializer).unwrap();
        let name = TagListError::BadTagName { at: 4 };
        assert_eq!(json(&name), serde_json::json!({"BadTagName": {"at": 4}}));
        assert_eq!(fields(&name), serde_json::json!({"BadName": {"at": 4}}));
        let dup = TagListError::DuplicateTag {
            tag: "id".into(),
            at: 9,
        };
        assert_eq!(
            json(&dup),
            serde_json::json!({"DuplicateTag": {"tag": "id", "at": 9}})
        );
        assert_eq!(
            fields(&dup),
            serde_json::json!({"DuplicateField": {"name": "id", "at": 9}})
        );
        let no_eq = TagListError::NoEquals { at: 2 };
        assert_eq!(fields(&no_eq), json(&no_eq));
        assert_eq!(json(&no_eq), serde_json::json!({"NoEquals": {"at": 2}}));
    }

    /// Every term's name and value sit in the text where the positions say.
    fn positions_hold(text: &str, l: &TagList<'_>) {
        for t in &l.terms {
            assert_eq!(text.get(t.name_at..t.name_at + t.name.len()), Some(t.name));
            assert_eq!(
                text.get(t.value_at..t.value_at + t.value.len()),
                Some(t.value)
            );
        }
        for &at in &l.empty_terms {
            assert_eq!(text.as_bytes().get(at), Some(&b';'));
        }
    }

    fn soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "a", "B", "9", "_", "-", ".", "=", ";", " ", "\t", "\r\n", "v=1", "x=", "\u{e9}",
        ]);
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_any_text(s in any::<String>(), soupy in soup(), max_terms in 0usize..8) {
            let b = Bounds { max_bytes: 256, max_terms };
            for text in [s.as_str(), soupy.as_str()] {
                for g in [Grammar::TAGS, Grammar::FIELDS] {
                    if let Ok(l) = split(text, &g, b) {
                        positions_hold(text, &l);
                        let _ = l.refuse_repeats(Case::Insensitive);
                    }
                }
                let _ = begins_with_version(text, Blanks::Wsp, "v=1");
                let _ = looks_like_spf(text);
            }
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes);
            for g in [Grammar::TAGS, Grammar::FIELDS] {
                if let Ok(l) = split(&text, &g, ROOMY) {
                    positions_hold(&text, &l);
                }
            }
        }
    }
}
