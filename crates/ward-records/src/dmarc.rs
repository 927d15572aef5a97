//! DMARC policy records (`_dmarc.example.org` TXT), RFC 7489 §6.3–6.4 as revised by
//! RFC 9989 (DMARCbis, which obsoletes RFC 7489).
//!
//! The grammar (RFC 7489 §6.4, with the RFC 9989 additions `np`, `psd` and `t`; `pct`, `rf`
//! and `ri` are gone from RFC 9989 and are kept here only to be reported as obsolete):
//!
//! ```text
//! dmarc-record    = dmarc-version dmarc-sep *(dmarc-tag dmarc-sep)   ; tags in any order (9989)
//! dmarc-sep       = *WSP %x3b *WSP                                    ; ";"
//! dmarc-version   = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31   ; exactly "DMARC1"
//! dmarc-request   = "p"  *WSP "=" *WSP ( "none" / "quarantine" / "reject" )
//! dmarc-srequest  = "sp" *WSP "=" *WSP ( "none" / "quarantine" / "reject" )
//! dmarc-nprequest = "np" *WSP "=" *WSP ( "none" / "quarantine" / "reject" )   ; RFC 9989
//! dmarc-adkim     = "adkim" *WSP "=" *WSP ( "r" / "s" )
//! dmarc-aspf      = "aspf"  *WSP "=" *WSP ( "r" / "s" )
//! dmarc-fo        = "fo" *WSP "=" *WSP ( "0" / "1" / "d" / "s" )
//!                   *( *WSP ":" *WSP ( "0" / "1" / "d" / "s" ) )
//! dmarc-auri      = "rua" *WSP "=" *WSP dmarc-uri *( *WSP "," *WSP dmarc-uri )
//! dmarc-furi      = "ruf" *WSP "=" *WSP dmarc-uri *( *WSP "," *WSP dmarc-uri )
//! dmarc-uri       = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]     ; size: obsolete in 9989
//! dmarc-test      = "t"   *WSP "=" *WSP ( "y" / "n" )                 ; RFC 9989
//! dmarc-psd       = "psd" *WSP "=" *WSP ( "y" / "n" / "u" )           ; RFC 9989
//! ```
//!
//! ABNF quoted strings are case-insensitive, so `P=Reject` is accepted; `DMARC1` is given as
//! bytes and must be exact.
//!
//! What RFC 9989 changed, and how it shows here:
//!
//! * `p` may be missing: a record without it is treated as `p=none` ([`Dmarc::effective_p`]),
//!   with a [`DmarcWarning::MissingPolicy`] because RFC 7489 receivers only do so when `rua`
//!   holds a valid URI (RFC 7489 §6.6.3).
//! * An *invalid* `p`, `sp` or `np` is refused as [`DmarcError::InvalidPolicy`], which records
//!   whether `rua` held a valid URI: when it did, receivers act as if `p=none` had been
//!   published (reports still flow); otherwise they apply no DMARC processing at all.
//! * `pct`, `rf`, `ri` are obsolete: kept raw, not validated, reported as
//!   [`DmarcWarning::ObsoleteTag`]. The `!size` suffix is reported as
//!   [`DmarcWarning::ObsoleteSizeSuffix`].
//! * Unknown tags are ignored by receivers: kept in [`Dmarc::unknown`], and warned about.
//! * Tag order after `v` is free; `p` not second is only noted, for RFC 7489 receivers.
#![deny(missing_docs)]

use serde::Serialize;

use crate::tag_list::{self, Blanks, Bounds, Case, Grammar, TagListError, Words};

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest record accepted, in bytes. Default 4096.
    pub max_bytes: usize,
    /// Most `;`-separated terms accepted. Default 32.
    pub max_terms: usize,
    /// Most URIs in one `rua` or `ruf`. Default 16.
    pub max_uris: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4096,
            max_terms: 32,
            max_uris: 16,
        }
    }
}

/// A requested disposition (`p`, `sp`, `np`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Policy {
    /// `none`: monitor only.
    None,
    /// `quarantine`.
    Quarantine,
    /// `reject`.
    Reject,
}

impl Policy {
    /// The keyword as written in a record.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [Policy::None, Policy::Quarantine, Policy::Reject]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// Identifier alignment mode (`adkim`, `aspf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Alignment {
    /// `r` (default).
    Relaxed,
    /// `s`.
    Strict,
}

/// One failure-reporting option in `fo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailureOption {
    /// `0`: report when all mechanisms fail (default).
    All,
    /// `1`: report when any mechanism fails.
    Any,
    /// `d`: report DKIM failures.
    Dkim,
    /// `s`: report SPF failures.
    Spf,
}

/// The `psd` tag (RFC 9989).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Psd {
    /// `y`: a public suffix domain's policy; the tree walk stops here.
    Yes,
    /// `n`: this is an organisational domain; the tree walk stops here.
    No,
    /// `u` (default): unspecified.
    Unspecified,
}

/// A report destination in `rua` or `ruf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportUri {
    /// The URI without any size suffix, as written.
    pub uri: String,
    /// The scheme, lower-cased.
    pub scheme: String,
    /// For `mailto:`, the address (without any `?query`).
    pub address: Option<String>,
    /// The obsolete `!size` suffix, in bytes.
    pub size_limit: Option<u64>,
    /// Byte position in the record.
    pub at: usize,
}

/// A tag kept as written (unknown or obsolete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawTag {
    /// Its name, as written.
    pub name: String,
    /// Its value, as written.
    pub value: String,
    /// Byte position of the name.
    pub at: usize,
}

/// Why a report URI was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum UriProblem {
    /// Nothing between the commas.
    #[error("empty URI")]
    Empty,
    /// No `scheme:` (often a bare address, missing `mailto:`).
    #[error("no scheme (did you mean mailto:?)")]
    MissingScheme,
    /// The scheme is not `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    #[error("bad scheme")]
    BadScheme,
    /// Whitespace inside the URI.
    #[error("whitespace inside the URI")]
    Whitespace,
    /// A `mailto:` without `local@domain`.
    #[error("mailto: without an address")]
    NoAddress,
    /// A `!size` suffix that is not `1*DIGIT [k/m/g/t]` or overflows.
    #[error("bad size suffix")]
    BadSize,
    /// A scheme the format does not allow (TLS-RPT allows only mailto and https).
    #[error("scheme not allowed here")]
    SchemeNotAllowed,
}

/// Non-fatal observations about a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DmarcWarning {
    /// Whitespace before `v=`.
    LeadingWhitespace,
    /// Whitespace at the very end.
    TrailingWhitespace,
    /// A final `;` (allowed by the grammar, noted for exact reproduction).
    TrailingSeparator {
        /// Position of the `;`.
        at: usize,
    },
    /// An empty term (`;;`).
    EmptyTerm {
        /// Position.
        at: usize,
    },
    /// Whitespace around `=` (allowed by the grammar; some parsers choke on it).
    SpaceAroundEquals {
        /// The tag.
        tag: String,
        /// Position of the tag.
        at: usize,
    },
    /// A tag name not in lower case.
    NotLowerCase {
        /// The tag as written.
        tag: String,
        /// Position.
        at: usize,
    },
    /// `pct`, `rf` or `ri`: removed by RFC 9989, ignored by its receivers.
    ObsoleteTag {
        /// The tag.
        tag: String,
        /// Position.
        at: usize,
    },
    /// A tag neither RFC defines; receivers ignore it.
    UnknownTag {
        /// The tag.
        tag: String,
        /// Position.
        at: usize,
    },
    /// A `!size` suffix: obsolete in RFC 9989, which tells reporters to ignore it.
    ObsoleteSizeSuffix {
        /// Position of the URI.
        at: usize,
    },
    /// A report URI that is not `mailto:`: reports are sent by mail only.
    NotMailto {
        /// Position of the URI.
        at: usize,
    },
    /// An optional tag whose value is outside its grammar (or empty): receivers discard
    /// it and use its default (RFC 7489 §6.3, RFC 9989 §4.7), so the rest of the record,
    /// its policy included, still holds.
    BrokenTag {
        /// The tag, in lower case.
        tag: String,
        /// Position of the tag.
        at: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// No `p`: RFC 9989 treats the record as `p=none`; RFC 7489 receivers do so only when
    /// `rua` holds a valid URI, and otherwise ignore the record.
    MissingPolicy {
        /// Whether `rua` holds at least one valid URI.
        rua_present: bool,
    },
    /// `p` is not the second tag (RFC 7489 required it; RFC 9989 does not).
    PolicyNotSecond {
        /// Position of `p`.
        at: usize,
    },
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum DmarcError {
    /// More than [`Limits::max_uris`] URIs in one tag.
    #[error("{tag} lists more than {limit} URIs")]
    TooManyUris {
        /// The tag.
        tag: String,
        /// Limit.
        limit: usize,
    },
    /// Empty or blank.
    #[error("empty record")]
    Empty,
    /// An SPF record where a DMARC record should be.
    #[error("this is an SPF record, not DMARC")]
    LooksLikeSpf,
    /// The record does not start with `v=`.
    #[error("a DMARC record starts with v=DMARC1; found something else at byte {at}")]
    NotDmarc {
        /// Position of the first term.
        at: usize,
    },
    /// `v=` is not exactly `DMARC1`.
    #[error("v={value:?} at byte {at}, expected DMARC1")]
    BadVersion {
        /// As written.
        value: String,
        /// Position of the value.
        at: usize,
    },
    /// A tag with nothing after `=`.
    #[error("tag {tag:?} at byte {at} has an empty value")]
    EmptyValue {
        /// The tag.
        tag: String,
        /// Position of the tag.
        at: usize,
    },
    /// `p`, `sp` or `np` is not none/quarantine/reject.
    #[error("{tag}={value:?} at byte {at} is not none, quarantine or reject")]
    InvalidPolicy {
        /// The tag.
        tag: String,
        /// As written.
        value: String,
        /// Position of the value.
        at: usize,
        /// Whether `rua` holds a valid URI. If so, RFC 9989 receivers act as if `p=none`
        /// was published and still send reports; if not, they apply no DMARC at all.
        rua_present: bool,
    },
    /// Another tag's value is outside its grammar.
    #[error("{tag}={value:?} at byte {at} is not a valid value")]
    InvalidValue {
        /// The tag.
        tag: String,
        /// As written.
        value: String,
        /// Position of the value.
        at: usize,
    },
    /// A report URI could not be used.
    #[error("{tag} URI {uri:?} at byte {at}: {problem}")]
    InvalidReportUri {
        /// `rua` or `ruf`.
        tag: String,
        /// As written.
        uri: String,
        /// Position of the URI.
        at: usize,
        /// What was wrong.
        problem: UriProblem,
    },
    /// The tag list could not be split (limits, bytes, syntax, a repeated tag).
    #[error("{}", .0.worded(Words::TAGS))]
    // Untagged, so the JSON in findings reads as before the variant moved here (serde
    // wants untagged variants last).
    #[serde(untagged)]
    TagList(TagListError),
}

/// A parsed DMARC record. Tag fields hold what was written (`None` when absent); the
/// `effective_*` methods apply the RFC 9989 defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dmarc {
    /// The record as received.
    pub raw: String,
    /// `p`.
    pub p: Option<Policy>,
    /// `sp`.
    pub sp: Option<Policy>,
    /// `np` (RFC 9989).
    pub np: Option<Policy>,
    /// `adkim`.
    pub adkim: Option<Alignment>,
    /// `aspf`.
    pub aspf: Option<Alignment>,
    /// `fo`.
    pub fo: Option<Vec<FailureOption>>,
    /// `rua` (empty when absent).
    pub rua: Vec<ReportUri>,
    /// `ruf` (empty when absent).
    pub ruf: Vec<ReportUri>,
    /// `t` (RFC 9989): `Some(true)` for `t=y`.
    pub testing: Option<bool>,
    /// `psd` (RFC 9989).
    pub psd: Option<Psd>,
    /// `pct`, `rf`, `ri` as written.
    pub obsolete: Vec<RawTag>,
    /// Tags no RFC defines, as written.
    pub unknown: Vec<RawTag>,
    /// Non-fatal observations.
    pub warnings: Vec<DmarcWarning>,
}

impl Dmarc {
    /// `p`, or `none` when absent (RFC 9989).
    pub fn effective_p(&self) -> Policy {
        self.p.unwrap_or(Policy::None)
    }
    /// `sp`, else `p`.
    pub fn effective_sp(&self) -> Policy {
        self.sp.unwrap_or_else(|| self.effective_p())
    }
    /// `np`, else `sp`, else `p` (RFC 9989).
    pub fn effective_np(&self) -> Policy {
        self.np.unwrap_or_else(|| self.effective_sp())
    }
    /// `t=y`.
    pub fn is_testing(&self) -> bool {
        self.testing.unwrap_or(false)
    }
    /// `psd`, `u` when absent.
    pub fn effective_psd(&self) -> Psd {
        self.psd.unwrap_or(Psd::Unspecified)
    }

    /// The disposition receivers apply, after `t=y` (RFC 9989): in testing mode each policy
    /// is applied one step less strictly (`reject` as `quarantine`, `quarantine` as `none`).
    /// `subdomain` picks `sp` (else `p`) over `p`.
    pub fn applied_policy(&self, subdomain: bool) -> Policy {
        let p = if subdomain {
            self.effective_sp()
        } else {
            self.effective_p()
        };
        if self.is_testing() {
            match p {
                Policy::Reject => Policy::Quarantine,
                Policy::Quarantine | Policy::None => Policy::None,
            }
        } else {
            p
        }
    }

    /// A canonical record with the same meaning: lower-case tags, `"; "` separators, RFC 9989
    /// tags only (obsolete and unknown tags are dropped, size suffixes kept).
    pub fn to_canonical(&self) -> String {
        let mut s = String::from("v=DMARC1");
        let mut put = |k: &str, v: &str| {
            s.push_str("; ");
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        };
        if let Some(p) = self.p {
            put("p", p.as_str());
        }
        if let Some(p) = self.sp {
            put("sp", p.as_str());
        }
        if let Some(p) = self.np {
            put("np", p.as_str());
        }
        let al = |a: Alignment| if a == Alignment::Strict { "s" } else { "r" };
        if let Some(a) = self.adkim {
            put("adkim", al(a));
        }
        if let Some(a) = self.aspf {
            put("aspf", al(a));
        }
        if let Some(fo) = &self.fo {
            let v: Vec<&str> = fo
                .iter()
                .map(|f| match f {
                    FailureOption::All => "0",
                    FailureOption::Any => "1",
                    FailureOption::Dkim => "d",
                    FailureOption::Spf => "s",
                })
                .collect();
            put("fo", &v.join(":"));
        }
        let uris = |l: &[ReportUri]| {
            l.iter()
                .map(|u| match u.size_limit {
                    Some(n) => format!("{}!{n}", u.uri),
                    None => u.uri.clone(),
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        if !self.rua.is_empty() {
            put("rua", &uris(&self.rua));
        }
        if !self.ruf.is_empty() {
            put("ruf", &uris(&self.ruf));
        }
        if let Some(t) = self.testing {
            put("t", if t { "y" } else { "n" });
        }
        if let Some(p) = self.psd {
            put(
                "psd",
                match p {
                    Psd::Yes => "y",
                    Psd::No => "n",
                    Psd::Unspecified => "u",
                },
            );
        }
        s
    }
}

const WSP: [char; 2] = [' ', '\t'];

/// Checks generic URI syntax (RFC 3986 scheme, no whitespace) and, for `mailto:`, that an
/// address is there. Returns the lower-cased scheme and the mailto address.
pub(crate) fn check_uri(uri: &str) -> Result<(String, Option<String>), UriProblem> {
    if uri.is_empty() {
        return Err(UriProblem::Empty);
    }
    if uri.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(UriProblem::Whitespace);
    }
    let (scheme, rest) = uri.split_once(':').ok_or(UriProblem::MissingScheme)?;
    let mut sb = scheme.bytes();
    let ok = sb.next().is_some_and(|c| c.is_ascii_alphabetic())
        && sb.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !ok {
        return Err(if scheme.contains('@') {
            UriProblem::MissingScheme
        } else {
            UriProblem::BadScheme
        });
    }
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() {
        return Err(UriProblem::Empty);
    }
    let address = if scheme == "mailto" {
        let addr = rest.split('?').next().unwrap_or_default();
        match addr.rsplit_once('@') {
            Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@') => {
                Some(addr.to_string())
            }
            _ => return Err(UriProblem::NoAddress),
        }
    } else {
        None
    };
    Ok((scheme, address))
}

fn parse_size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.as_bytes().last()?.to_ascii_lowercase() {
        b'k' => (s.get(..s.len() - 1)?, 1u64 << 10),
        b'm' => (s.get(..s.len() - 1)?, 1 << 20),
        b'g' => (s.get(..s.len() - 1)?, 1 << 30),
        b't' => (s.get(..s.len() - 1)?, 1 << 40),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 19 {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Parses one `dmarc-uri` (a URI with an optional obsolete `!size` suffix); `at` is 0.
///
/// ```
/// use ward_records::dmarc::parse_report_uri;
/// let u = parse_report_uri("mailto:d@example.org!10m").unwrap();
/// assert_eq!(u.size_limit, Some(10 << 20));
/// ```
pub fn parse_report_uri(item: &str) -> Result<ReportUri, UriProblem> {
    let (uri, size) = match item.split_once('!') {
        Some((u, s)) => (u, Some(s)),
        None => (item, None),
    };
    let (scheme, address) = check_uri(uri)?;
    let size_limit = match size {
        Some(s) => Some(parse_size(s).ok_or(UriProblem::BadSize)?),
        None => None,
    };
    Ok(ReportUri {
        uri: uri.into(),
        scheme,
        address,
        size_limit,
        at: 0,
    })
}

fn parse_uris(
    tag: &str,
    value: &str,
    at: usize,
    limits: &Limits,
    warnings: &mut Vec<DmarcWarning>,
) -> Result<Vec<ReportUri>, DmarcError> {
    if value.bytes().filter(|&b| b == b',').count() >= limits.max_uris {
        return Err(DmarcError::TooManyUris {
            tag: tag.into(),
            limit: limits.max_uris,
        });
    }
    let mut out = Vec::new();
    let mut offset = 0usize;
    for piece in value.split(',') {
        let lead = piece.len() - piece.trim_start_matches(WSP).len();
        let item = piece.trim_matches(WSP);
        let uat = at + offset + lead;
        offset += piece.len() + 1;
        let uri = parse_report_uri(item)
            .map(|mut u| {
                u.at = uat;
                u
            })
            .map_err(|problem| DmarcError::InvalidReportUri {
                tag: tag.into(),
                uri: item.into(),
                at: uat,
                problem,
            })?;
        if uri.size_limit.is_some() {
            warnings.push(DmarcWarning::ObsoleteSizeSuffix { at: uat });
        }
        if uri.scheme != "mailto" {
            warnings.push(DmarcWarning::NotMailto { at: uat });
        }
        out.push(uri);
    }
    Ok(out)
}

/// Parses one DMARC TXT record (the strings of the TXT record already joined).
///
/// ```
/// use ward_records::dmarc::{parse, Limits, Policy};
/// let d = parse("v=DMARC1; p=reject; rua=mailto:d@example.org", &Limits::default()).unwrap();
/// assert_eq!(d.effective_np(), Policy::Reject);
/// ```
pub fn parse(text: &str, limits: &Limits) -> Result<Dmarc, DmarcError> {
    // The length first, then the SPF check, then the rest of the splitting: an SPF record
    // is named as such even when it holds a byte a DMARC record may not.
    tag_list::check_length(text, limits.max_bytes).map_err(DmarcError::TagList)?;
    let trimmed = text.trim_start_matches(|c| Blanks::Fws.is_blank_char(c));
    if trimmed.is_empty() {
        return Err(DmarcError::Empty);
    }
    if tag_list::looks_like_spf(trimmed) {
        return Err(DmarcError::LooksLikeSpf);
    }
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_terms: limits.max_terms,
    };
    let list = tag_list::split(text, &Grammar::TAGS, bounds).map_err(DmarcError::TagList)?;
    let terms = &list.terms;
    let mut warnings = Vec::new();
    if list.leading_blank {
        warnings.push(DmarcWarning::LeadingWhitespace);
    }
    if list.trailing_blank {
        warnings.push(DmarcWarning::TrailingWhitespace);
    }
    for &at in &list.empty_terms {
        warnings.push(DmarcWarning::EmptyTerm { at });
    }
    if let Some(at) = list.trailing_separator {
        warnings.push(DmarcWarning::TrailingSeparator { at });
    }
    let first = terms.first().ok_or(DmarcError::Empty)?;
    let empty_before = list
        .empty_terms
        .first()
        .copied()
        .filter(|&e| e < first.name_at);
    if !first.name.eq_ignore_ascii_case("v") || empty_before.is_some() {
        return Err(DmarcError::NotDmarc {
            at: empty_before.unwrap_or(first.name_at),
        });
    }
    if first.name != "v" {
        warnings.push(DmarcWarning::NotLowerCase {
            tag: first.name.into(),
            at: first.name_at,
        });
    }
    if first.spaced_equals {
        warnings.push(DmarcWarning::SpaceAroundEquals {
            tag: "v".into(),
            at: first.name_at,
        });
    }
    if first.value != "DMARC1" {
        return Err(DmarcError::BadVersion {
            value: first.value.into(),
            at: first.value_at,
        });
    }
    let mut d = Dmarc {
        raw: text.into(),
        p: None,
        sp: None,
        np: None,
        adkim: None,
        aspf: None,
        fo: None,
        rua: Vec::new(),
        ruf: Vec::new(),
        testing: None,
        psd: None,
        obsolete: Vec::new(),
        unknown: Vec::new(),
        warnings: Vec::new(),
    };
    // Repeats before any value, and before rua (whose validity decides what an invalid
    // policy means). Names compare without case (ABNF strings are case-insensitive).
    list.refuse_repeats(Case::Insensitive)
        .map_err(DmarcError::TagList)?;
    let rua_ok = terms.iter().any(|t| {
        t.name.eq_ignore_ascii_case("rua")
            && t.value
                .split(',')
                .any(|u| parse_report_uri(u.trim_matches(WSP)).is_ok())
    });
    let mut policies: Vec<(&str, usize, &str)> = Vec::new();
    for (i, t) in terms.iter().enumerate().skip(1) {
        let name = t.name.to_ascii_lowercase();
        if t.name.bytes().any(|b| b.is_ascii_uppercase()) {
            warnings.push(DmarcWarning::NotLowerCase {
                tag: t.name.into(),
                at: t.name_at,
            });
        }
        if t.spaced_equals {
            warnings.push(DmarcWarning::SpaceAroundEquals {
                tag: name.clone(),
                at: t.name_at,
            });
        }
        let known = matches!(
            name.as_str(),
            "p" | "sp" | "np" | "adkim" | "aspf" | "fo" | "rua" | "ruf" | "t" | "psd"
        );
        // An optional tag that cannot be read is set aside with a warning: receivers
        // discard it and keep the rest (RFC 7489 §6.3). Only a bad `p` spoils the record.
        let broken = |warnings: &mut Vec<DmarcWarning>, e: DmarcError| {
            warnings.push(DmarcWarning::BrokenTag {
                tag: name.clone(),
                at: t.name_at,
                problem: e.to_string(),
            });
        };
        if known && t.value.is_empty() {
            let empty = DmarcError::EmptyValue {
                tag: name.clone(),
                at: t.name_at,
            };
            if name == "p" {
                return Err(empty);
            }
            broken(&mut warnings, empty);
            continue;
        }
        let invalid = || DmarcError::InvalidValue {
            tag: name.clone(),
            value: t.value.into(),
            at: t.value_at,
        };
        match name.as_str() {
            "p" | "sp" | "np" => {
                if name == "p" && i != 1 {
                    warnings.push(DmarcWarning::PolicyNotSecond { at: t.name_at });
                }
                let slot = match name.as_str() {
                    "p" => &mut d.p,
                    "sp" => &mut d.sp,
                    _ => &mut d.np,
                };
                match Policy::parse(t.value) {
                    Some(p) => *slot = Some(p),
                    None if name == "p" => policies.push((t.name, t.value_at, t.value)),
                    None => broken(
                        &mut warnings,
                        DmarcError::InvalidPolicy {
                            tag: name.clone(),
                            value: t.value.into(),
                            at: t.value_at,
                            rua_present: rua_ok,
                        },
                    ),
                }
            }
            "adkim" | "aspf" => {
                let a = match t.value.to_ascii_lowercase().as_str() {
                    "r" => Alignment::Relaxed,
                    "s" => Alignment::Strict,
                    _ => {
                        broken(&mut warnings, invalid());
                        continue;
                    }
                };
                if name == "adkim" {
                    d.adkim = Some(a);
                } else {
                    d.aspf = Some(a);
                }
            }
            "fo" => {
                let options: Option<Vec<FailureOption>> = t
                    .value
                    .split(':')
                    .map(
                        |o| match o.trim_matches(WSP).to_ascii_lowercase().as_str() {
                            "0" => Some(FailureOption::All),
                            "1" => Some(FailureOption::Any),
                            "d" => Some(FailureOption::Dkim),
                            "s" => Some(FailureOption::Spf),
                            _ => None,
                        },
                    )
                    .collect();
                match options {
                    Some(v) => d.fo = Some(v),
                    None => broken(&mut warnings, invalid()),
                }
            }
            "rua" | "ruf" => {
                let mut uri_warnings = Vec::new();
                match parse_uris(&name, t.value, t.value_at, limits, &mut uri_warnings) {
                    Ok(uris) if name == "rua" => d.rua = uris,
                    Ok(uris) => d.ruf = uris,
                    Err(e) => broken(&mut warnings, e),
                }
                warnings.extend(uri_warnings);
            }
            "t" => match t.value.to_ascii_lowercase().as_str() {
                "y" => d.testing = Some(true),
                "n" => d.testing = Some(false),
                _ => broken(&mut warnings, invalid()),
            },
            "psd" => match t.value.to_ascii_lowercase().as_str() {
                "y" => d.psd = Some(Psd::Yes),
                "n" => d.psd = Some(Psd::No),
                "u" => d.psd = Some(Psd::Unspecified),
                _ => broken(&mut warnings, invalid()),
            },
            "pct" | "rf" | "ri" => {
                warnings.push(DmarcWarning::ObsoleteTag {
                    tag: name.clone(),
                    at: t.name_at,
                });
                d.obsolete.push(RawTag {
                    name: t.name.into(),
                    value: t.value.into(),
                    at: t.name_at,
                });
            }
            _ => {
                warnings.push(DmarcWarning::UnknownTag {
                    tag: t.name.into(),
                    at: t.name_at,
                });
                d.unknown.push(RawTag {
                    name: t.name.into(),
                    value: t.value.into(),
                    at: t.name_at,
                });
            }
        }
    }
    if let Some(&(tag, at, value)) = policies.first() {
        return Err(DmarcError::InvalidPolicy {
            tag: tag.to_ascii_lowercase(),
            value: value.into(),
            at,
            rua_present: rua_ok,
        });
    }
    if d.p.is_none() {
        warnings.push(DmarcWarning::MissingPolicy {
            rua_present: !d.rua.is_empty(),
        });
    }
    d.warnings = warnings;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Dmarc, DmarcError> {
        parse(s, &Limits::default())
    }

    /// Findings carry the error as message and JSON: both read as before `TagListError`.
    #[test]
    fn tag_errors_keep_their_words() {
        let e = p("v=DMARC1; p=none; P=reject").unwrap_err();
        assert_eq!(e.to_string(), "tag \"p\" repeated at byte 18");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"DuplicateTag": {"tag": "p", "at": 18}})
        );
        let e = p("v=DMARC1; 1p=none").unwrap_err();
        assert_eq!(e.to_string(), "bad tag name at byte 10");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"BadTagName": {"at": 10}})
        );
        // DKIM says "record has more than"; DMARC never did.
        let l = Limits {
            max_terms: 1,
            ..Limits::default()
        };
        assert_eq!(
            parse("v=DMARC1; p=none", &l).unwrap_err().to_string(),
            "more than 1 terms"
        );
    }

    #[test]
    fn full_record() {
        let d = p(
            "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; fo=1:d; \
                   rua=mailto:a@example.org,mailto:b@example.net!10m; ruf=mailto:f@example.org; \
                   t=y; psd=n",
        )
        .unwrap();
        assert_eq!(d.p, Some(Policy::Reject));
        assert_eq!(d.sp, Some(Policy::Quarantine));
        assert_eq!(d.np, Some(Policy::Reject));
        assert_eq!(d.adkim, Some(Alignment::Strict));
        assert_eq!(d.fo, Some(vec![FailureOption::Any, FailureOption::Dkim]));
        assert_eq!(d.rua.len(), 2);
        assert_eq!(d.rua[1].size_limit, Some(10 << 20));
        assert_eq!(d.rua[1].address.as_deref(), Some("b@example.net"));
        assert!(d.is_testing());
        assert_eq!(d.effective_psd(), Psd::No);
        assert!(
            d.warnings
                .contains(&DmarcWarning::ObsoleteSizeSuffix { at: 96 })
        );
    }

    #[test]
    fn duplicate_tag_position() {
        assert_eq!(
            p("v=DMARC1; p=none; p=reject").unwrap_err(),
            DmarcError::TagList(TagListError::DuplicateTag {
                tag: "p".into(),
                at: 18
            })
        );
        assert_eq!(
            p("v=DMARC1; p=none; P=reject").unwrap_err(),
            DmarcError::TagList(TagListError::DuplicateTag {
                tag: "p".into(),
                at: 18
            })
        );
    }

    #[test]
    fn version_errors() {
        assert_eq!(p("").unwrap_err(), DmarcError::Empty);
        assert_eq!(p("  ").unwrap_err(), DmarcError::Empty);
        assert_eq!(p("v=spf1 -all").unwrap_err(), DmarcError::LooksLikeSpf);
        assert_eq!(
            p("p=none; v=DMARC1").unwrap_err(),
            DmarcError::NotDmarc { at: 0 }
        );
        assert_eq!(
            p("v=DMARC2; p=none").unwrap_err(),
            DmarcError::BadVersion {
                value: "DMARC2".into(),
                at: 2
            }
        );
        assert_eq!(
            p("v=dmarc1; p=none").unwrap_err(),
            DmarcError::BadVersion {
                value: "dmarc1".into(),
                at: 2
            }
        );
        assert_eq!(
            p("v=DMARC1; p").unwrap_err(),
            DmarcError::TagList(TagListError::NoEquals { at: 10 })
        );
        assert_eq!(
            p("; v=DMARC1; p=none").unwrap_err(),
            DmarcError::NotDmarc { at: 0 }
        );
    }

    /// The record parses; the one broken tag is set aside with a warning that carries
    /// what the strict reading would have refused.
    fn one_broken(s: &str, tag: &str, at: usize, why: DmarcError) -> Dmarc {
        let d = p(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let broken: Vec<&DmarcWarning> = d
            .warnings
            .iter()
            .filter(|w| matches!(w, DmarcWarning::BrokenTag { .. }))
            .collect();
        assert_eq!(
            broken,
            [&DmarcWarning::BrokenTag {
                tag: tag.into(),
                at,
                problem: why.to_string(),
            }],
            "{s}"
        );
        d
    }

    #[test]
    fn bad_values() {
        // A bad p spoils the record (RFC 9989 §4.7: then p=none if rua is valid).
        assert_eq!(
            p("v=DMARC1; p=foo; rua=mailto:d@example.com").unwrap_err(),
            DmarcError::InvalidPolicy {
                tag: "p".into(),
                value: "foo".into(),
                at: 12,
                rua_present: true
            }
        );
        assert_eq!(
            p("v=DMARC1; p=; sp=none").unwrap_err(),
            DmarcError::EmptyValue {
                tag: "p".into(),
                at: 10
            }
        );
        // Any other bad tag is discarded, and the policy stands (RFC 7489 §6.3).
        let d = one_broken(
            "v=DMARC1; p=reject; sp=x",
            "sp",
            20,
            DmarcError::InvalidPolicy {
                tag: "sp".into(),
                value: "x".into(),
                at: 23,
                rua_present: false,
            },
        );
        assert_eq!((d.p, d.sp), (Some(Policy::Reject), None));
        assert_eq!(d.effective_sp(), Policy::Reject);
        let d = one_broken(
            "v=DMARC1; p=reject; fo=x",
            "fo",
            20,
            DmarcError::InvalidValue {
                tag: "fo".into(),
                value: "x".into(),
                at: 23,
            },
        );
        assert_eq!(d.fo, None);
        let d = one_broken(
            "v=DMARC1; p=reject; t=x",
            "t",
            20,
            DmarcError::InvalidValue {
                tag: "t".into(),
                value: "x".into(),
                at: 22,
            },
        );
        assert_eq!(d.testing, None);
        one_broken(
            "v=DMARC1; p=reject; psd=",
            "psd",
            20,
            DmarcError::EmptyValue {
                tag: "psd".into(),
                at: 20,
            },
        );
        one_broken(
            "v=DMARC1; p=quarantine; adkim=x",
            "adkim",
            24,
            DmarcError::InvalidValue {
                tag: "adkim".into(),
                value: "x".into(),
                at: 30,
            },
        );
    }

    #[test]
    fn report_uris() {
        let d = one_broken(
            "v=DMARC1; p=reject; rua=d@example.com",
            "rua",
            20,
            DmarcError::InvalidReportUri {
                tag: "rua".into(),
                uri: "d@example.com".into(),
                at: 24,
                problem: UriProblem::MissingScheme,
            },
        );
        assert_eq!((d.p, d.rua.len()), (Some(Policy::Reject), 0));
        one_broken(
            "v=DMARC1; p=none; rua=mailto:a@example.com, __mailto:b@x.org",
            "rua",
            18,
            DmarcError::InvalidReportUri {
                tag: "rua".into(),
                uri: "__mailto:b@x.org".into(),
                at: 44,
                problem: UriProblem::BadScheme,
            },
        );
        one_broken(
            "v=DMARC1; p=none; ruf=mailto:a@example.com!10x",
            "ruf",
            18,
            DmarcError::InvalidReportUri {
                tag: "ruf".into(),
                uri: "mailto:a@example.com!10x".into(),
                at: 22,
                problem: UriProblem::BadSize,
            },
        );
        one_broken(
            "v=DMARC1; p=none; rua=mailto:",
            "rua",
            18,
            DmarcError::InvalidReportUri {
                tag: "rua".into(),
                uri: "mailto:".into(),
                at: 22,
                problem: UriProblem::Empty,
            },
        );
        let d = p("v=DMARC1; p=none; rua=https://r.example/x").unwrap();
        assert_eq!(d.warnings, vec![DmarcWarning::NotMailto { at: 22 }]);
    }

    #[test]
    fn rfc9989_missing_p_and_obsolete_tags() {
        let d = p("v=DMARC1; rua=mailto:d@example.com").unwrap();
        assert_eq!(d.p, None);
        assert_eq!(d.effective_p(), Policy::None);
        assert_eq!(
            d.warnings,
            vec![DmarcWarning::MissingPolicy { rua_present: true }]
        );
        let d = p("v=DMARC1; p=reject; pct=abc; rf=x; ri=1; zz=top").unwrap();
        assert_eq!(d.obsolete.len(), 3);
        assert_eq!(
            d.unknown,
            vec![RawTag {
                name: "zz".into(),
                value: "top".into(),
                at: 41
            }]
        );
        assert_eq!(
            d.warnings,
            vec![
                DmarcWarning::ObsoleteTag {
                    tag: "pct".into(),
                    at: 20
                },
                DmarcWarning::ObsoleteTag {
                    tag: "rf".into(),
                    at: 29
                },
                DmarcWarning::ObsoleteTag {
                    tag: "ri".into(),
                    at: 35
                },
                DmarcWarning::UnknownTag {
                    tag: "zz".into(),
                    at: 41
                },
            ]
        );
    }

    #[test]
    fn testing_flag_softens_one_step() {
        let d = p("v=DMARC1; p=reject; sp=quarantine; t=y").unwrap();
        assert_eq!(d.applied_policy(false), Policy::Quarantine);
        assert_eq!(d.applied_policy(true), Policy::None);
        let d = p("v=DMARC1; p=reject; t=n").unwrap();
        assert_eq!(d.applied_policy(false), Policy::Reject);
    }

    #[test]
    fn defaults_cascade() {
        let d = p("v=DMARC1; p=reject; sp=quarantine").unwrap();
        assert_eq!(d.effective_np(), Policy::Quarantine);
        let d = p("v=DMARC1; p=reject").unwrap();
        assert_eq!(d.effective_np(), Policy::Reject);
        assert_eq!(d.effective_psd(), Psd::Unspecified);
        assert!(!d.is_testing());
    }

    #[test]
    fn whitespace_warnings() {
        let d = p(" V = DMARC1;p=reject; ").unwrap();
        assert_eq!(
            d.warnings,
            vec![
                DmarcWarning::LeadingWhitespace,
                DmarcWarning::TrailingWhitespace,
                DmarcWarning::TrailingSeparator { at: 20 },
                DmarcWarning::NotLowerCase {
                    tag: "V".into(),
                    at: 1
                },
                DmarcWarning::SpaceAroundEquals {
                    tag: "v".into(),
                    at: 1
                },
            ]
        );
        let d = p("v=DMARC1;;p = reject").unwrap();
        assert_eq!(
            d.warnings,
            vec![
                DmarcWarning::EmptyTerm { at: 9 },
                DmarcWarning::SpaceAroundEquals {
                    tag: "p".into(),
                    at: 10
                },
            ]
        );
    }

    #[test]
    fn round_trip_canonical() {
        let src = "V=DMARC1;P=Reject;sp=none;fo=0:s;rua=mailto:a@b.example!5k;t=n;psd=u;adkim=s";
        let d = p(src).unwrap();
        let again = p(&d.to_canonical()).unwrap();
        assert_eq!(again.to_canonical(), d.to_canonical());
        assert_eq!(
            (again.p, again.sp, again.fo.clone()),
            (d.p, d.sp, d.fo.clone())
        );
        assert_eq!(again.rua[0].size_limit, Some(5 << 10));
        assert_eq!(again.testing, d.testing);
        assert_eq!(again.psd, d.psd);
    }

    #[test]
    fn truncations_never_panic() {
        let src = "v=DMARC1; p=reject; rua=mailto:a@example.org!10m,mailto:b@example.org; fo=1";
        for n in 0..=src.len() {
            let _ = p(&src[..n]);
        }
        assert_eq!(p(&src[..9]).unwrap().p, None);
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_bytes: 64,
            max_terms: 3,
            max_uris: 1,
        };
        assert_eq!(
            parse("v=DMARC1; p=none; sp=none; np=none", &l).unwrap_err(),
            DmarcError::TagList(TagListError::TooManyTerms { limit: 3 })
        );
        let d = parse("v=DMARC1; rua=mailto:a@b.c,mailto:d@e.f", &l).unwrap();
        assert!(
            d.warnings.contains(&DmarcWarning::BrokenTag {
                tag: "rua".into(),
                at: 10,
                problem: DmarcError::TooManyUris {
                    tag: "rua".into(),
                    limit: 1
                }
                .to_string(),
            })
        );
        assert_eq!(
            parse(&"x".repeat(65), &l).unwrap_err(),
            DmarcError::TagList(TagListError::TooLong { len: 65, limit: 64 })
        );
    }
}
