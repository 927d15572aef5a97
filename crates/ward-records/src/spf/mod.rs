//! SPF records (RFC 7208), parsed exactly and without panics.
//!
//! The grammar followed is RFC 7208 §12 (collected from §4.5, §4.6, §5, §6 and §7):
//!
//! ```text
//! record           = version terms *SP
//! version          = "v=spf1"
//! terms            = *( 1*SP ( directive / modifier ) )
//! directive        = [ qualifier ] mechanism
//! qualifier        = "+" / "-" / "?" / "~"
//! mechanism        = ( all / include / a / mx / ptr / ip4 / ip6 / exists )
//! all              = "all"
//! include          = "include"  ":" domain-spec
//! a                = "a"      [ ":" domain-spec ] [ dual-cidr-length ]
//! mx               = "mx"     [ ":" domain-spec ] [ dual-cidr-length ]
//! ptr              = "ptr"    [ ":" domain-spec ]
//! ip4              = "ip4"      ":" ip4-network   [ ip4-cidr-length ]
//! ip6              = "ip6"      ":" ip6-network   [ ip6-cidr-length ]
//! exists           = "exists"   ":" domain-spec
//! modifier         = redirect / explanation / unknown-modifier
//! redirect         = "redirect" "=" domain-spec
//! explanation      = "exp" "=" domain-spec
//! unknown-modifier = name "=" macro-string
//! ip4-cidr-length  = "/" ("0" / %x31-39 0*1DIGIT) ; value range 0-32
//! ip6-cidr-length  = "/" ("0" / %x31-39 0*2DIGIT) ; value range 0-128
//! dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
//! name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
//! ```
//!
//! Macro-strings are in [`macros`]. ABNF literals are case-insensitive, so `V=SPF1 IP4:…
//! -ALL` is a valid record. The parser decides syntax only: an unknown modifier is kept
//! as [`Modifier::Unknown`] and a check decides what it means.
//!
//! A parsed [`SpfRecord`] keeps its text as served beside the terms, and every term
//! keeps its byte span, so a finding can quote exactly what it judged. [`Limits`] bounds
//! the work before anything is allocated.
//!
//! ```
//! use ward_records::spf::{parse, Limits, Mechanism, Qualifier, Term};
//! let rec = parse("v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all", &Limits::default())?;
//! assert_eq!(rec.terms.len(), 3);
//! let Term::Directive(last) = &rec.terms[2] else { unreachable!() };
//! assert_eq!((last.qualifier, &last.mechanism), (Qualifier::Fail, &Mechanism::All));
//! # Ok::<(), ward_records::spf::SpfError>(())
//! ```
#![deny(missing_docs)]

mod error;
pub mod macros;

pub use error::{MacroErrorKind, SpfError};
pub use macros::{MacroExpand, MacroItem, MacroLetter, MacroString};

use macros::{Letters, check_domain_end, parse_macro_string};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Bounds on what the parser will look at. Checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest text accepted, in bytes. Default [`Limits::DEFAULT_MAX_BYTES`] (4096:
    /// far above anything a DNS TXT answer sensibly holds, well below a hostile one).
    pub max_bytes: usize,
    /// The most terms accepted. Default [`Limits::DEFAULT_MAX_TERMS`] (256).
    pub max_terms: usize,
}

impl Limits {
    /// Default for [`Limits::max_bytes`].
    pub const DEFAULT_MAX_BYTES: usize = 4096;
    /// Default for [`Limits::max_terms`].
    pub const DEFAULT_MAX_TERMS: usize = 256;
    /// The default limits, usable in `const` context.
    pub const DEFAULT: Limits = Limits {
        max_bytes: Self::DEFAULT_MAX_BYTES,
        max_terms: Self::DEFAULT_MAX_TERMS,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A byte range in the record text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A directive's qualifier: the result when its mechanism matches (§4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `+` (the default): pass.
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

impl Qualifier {
    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// `dual-cidr-length`: optional prefix lengths for IPv4 and IPv6 matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DualCidr {
    /// `/n` (0–32); `None` means 32.
    pub ip4: Option<u8>,
    /// `//n` (0–128); `None` means 128.
    pub ip6: Option<u8>,
}

/// The eight mechanisms (§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// `all`: always matches.
    All,
    /// `include:domain`: matches when the other domain's policy passes.
    Include {
        /// The domain-spec.
        domain: MacroString,
    },
    /// `a[:domain][/n][//n]`: the client IP is one of the domain's addresses.
    A {
        /// The domain-spec; `None` means the current domain.
        domain: Option<MacroString>,
        /// Prefix lengths.
        cidr: DualCidr,
    },
    /// `mx[:domain][/n][//n]`: the client IP is an address of one of the domain's MX hosts.
    Mx {
        /// The domain-spec; `None` means the current domain.
        domain: Option<MacroString>,
        /// Prefix lengths.
        cidr: DualCidr,
    },
    /// `ptr[:domain]`: the client's validated reverse name is in the domain (discouraged).
    Ptr {
        /// The domain-spec; `None` means the current domain.
        domain: Option<MacroString>,
    },
    /// `ip4:network[/n]`.
    Ip4 {
        /// The address as written.
        addr: Ipv4Addr,
        /// The prefix length; `None` means 32.
        prefix: Option<u8>,
    },
    /// `ip6:network[/n]`.
    Ip6 {
        /// The address as written.
        addr: Ipv6Addr,
        /// The prefix length; `None` means 128.
        prefix: Option<u8>,
    },
    /// `exists:domain`: the domain has an A record.
    Exists {
        /// The domain-spec.
        domain: MacroString,
    },
}

impl Mechanism {
    /// The mechanism's name, lower case.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include { .. } => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr { .. } => "ptr",
            Mechanism::Ip4 { .. } => "ip4",
            Mechanism::Ip6 { .. } => "ip6",
            Mechanism::Exists { .. } => "exists",
        }
    }

    /// Whether evaluating it costs one of the ten DNS-querying terms (§4.6.4).
    pub fn counts_lookup(&self) -> bool {
        matches!(
            self,
            Mechanism::Include { .. }
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr { .. }
                | Mechanism::Exists { .. }
        )
    }
}

/// A qualifier and a mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The qualifier (`+` when none was written).
    pub qualifier: Qualifier,
    /// Whether the qualifier was written out.
    pub explicit_qualifier: bool,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Where the term is in the record.
    pub span: Span,
}

/// The modifiers (§6), and any other `name=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modifier {
    /// `redirect=domain`.
    Redirect(MacroString),
    /// `exp=domain`.
    Exp(MacroString),
    /// A modifier RFC 7208 does not define; kept for a check to judge (§6: ignored by
    /// evaluation).
    Unknown {
        /// The name as written.
        name: String,
        /// The value, a macro-string.
        value: MacroString,
    },
}

/// A modifier with its place in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifierTerm {
    /// The modifier.
    pub modifier: Modifier,
    /// Where the term is in the record.
    pub span: Span,
}

/// One term of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A mechanism with its qualifier.
    Directive(Directive),
    /// A modifier.
    Modifier(ModifierTerm),
}

impl Term {
    /// Where the term is in the record.
    pub fn span(&self) -> Span {
        match self {
            Term::Directive(d) => d.span,
            Term::Modifier(m) => m.span,
        }
    }
}

/// A parsed SPF record with the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRecord {
    /// The record as served (TXT strings joined).
    pub raw: String,
    /// Its terms, in order.
    pub terms: Vec<Term>,
}

impl SpfRecord {
    /// The directives, in order.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        })
    }

    /// The modifiers, in order.
    pub fn modifiers(&self) -> impl Iterator<Item = &ModifierTerm> {
        self.terms.iter().filter_map(|t| match t {
            Term::Modifier(m) => Some(m),
            Term::Directive(_) => None,
        })
    }

    /// The `redirect` target, if any (the parser refuses a second one).
    pub fn redirect(&self) -> Option<&MacroString> {
        self.modifiers().find_map(|m| match &m.modifier {
            Modifier::Redirect(d) => Some(d),
            _ => None,
        })
    }

    /// The `exp` target, if any (the parser refuses a second one).
    pub fn exp(&self) -> Option<&MacroString> {
        self.modifiers().find_map(|m| match &m.modifier {
            Modifier::Exp(d) => Some(d),
            _ => None,
        })
    }

    /// The first `all` directive, if any.
    pub fn all(&self) -> Option<&Directive> {
        self.directives()
            .find(|d| matches!(d.mechanism, Mechanism::All))
    }

    /// The directives evaluation can reach: all of them up to and including the first
    /// `all`, which always matches (§5.1: terms after it are never tested).
    pub fn live_directives(&self) -> impl Iterator<Item = &Directive> {
        let mut done = false;
        self.directives().take_while(move |d| {
            let take = !done;
            done = done || matches!(d.mechanism, Mechanism::All);
            take
        })
    }

    /// The `redirect` target when evaluation can reach it: a record with `all` never
    /// gets there (§6.1).
    pub fn live_redirect(&self) -> Option<&MacroString> {
        if self.all().is_some() {
            None
        } else {
            self.redirect()
        }
    }

    /// How many of the ten DNS-querying terms this record itself spends when every
    /// term evaluation can reach is evaluated: `include`, `a`, `mx`, `ptr`, `exists`
    /// and `redirect` (§4.6.4), not counting terms after `all` nor a `redirect` beside
    /// `all`, which are never evaluated.
    pub fn own_lookup_terms(&self) -> usize {
        self.live_directives()
            .filter(|d| d.mechanism.counts_lookup())
            .count()
            + usize::from(self.live_redirect().is_some())
    }
}

impl std::fmt::Display for DualCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(n) = self.ip4 {
            write!(f, "/{n}")?;
        }
        if let Some(n) = self.ip6 {
            write!(f, "//{n}")?;
        }
        Ok(())
    }
}

/// Writes `name`, then `:domain` when there is one.
fn write_target(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    domain: Option<&MacroString>,
) -> std::fmt::Result {
    f.write_str(name)?;
    match domain {
        Some(d) => write!(f, ":{d}"),
        None => Ok(()),
    }
}

impl std::fmt::Display for Mechanism {
    /// The mechanism in RFC 7208 syntax, which parses back to the same value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mechanism::All => f.write_str("all"),
            Mechanism::Include { domain } => write!(f, "include:{domain}"),
            Mechanism::Exists { domain } => write!(f, "exists:{domain}"),
            Mechanism::A { domain, cidr } => {
                write_target(f, "a", domain.as_ref())?;
                write!(f, "{cidr}")
            }
            Mechanism::Mx { domain, cidr } => {
                write_target(f, "mx", domain.as_ref())?;
                write!(f, "{cidr}")
            }
            Mechanism::Ptr { domain } => write_target(f, "ptr", domain.as_ref()),
            Mechanism::Ip4 { addr, prefix } => {
                write!(f, "ip4:{addr}")?;
                prefix.map_or(Ok(()), |p| write!(f, "/{p}"))
            }
            Mechanism::Ip6 { addr, prefix } => {
                write!(f, "ip6:{addr}")?;
                prefix.map_or(Ok(()), |p| write!(f, "/{p}"))
            }
        }
    }
}

impl std::fmt::Display for Term {
    /// The term in RFC 7208 syntax (the qualifier only when it was written).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Term::Directive(d) => {
                if d.explicit_qualifier {
                    write!(f, "{}", d.qualifier.as_char())?;
                }
                write!(f, "{}", d.mechanism)
            }
            Term::Modifier(m) => match &m.modifier {
                Modifier::Redirect(d) => write!(f, "redirect={d}"),
                Modifier::Exp(d) => write!(f, "exp={d}"),
                Modifier::Unknown { name, value } => write!(f, "{name}={value}"),
            },
        }
    }
}

impl std::fmt::Display for SpfRecord {
    /// The record rebuilt from its terms: `v=spf1`, then the terms separated by single
    /// spaces. It parses back to the same terms; [`SpfRecord::raw`] keeps the text as
    /// served.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("v=spf1")?;
        for t in &self.terms {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

/// Whether a TXT string is an SPF version 1 record, i.e. starts with `v=spf1` followed by
/// a space or its end (§4.5; case-insensitive). Records that are not are ignored, however
/// broken they are.
pub fn is_spf1(text: &str) -> bool {
    let b = text.as_bytes();
    match (b.get(..6), b.get(6)) {
        (Some(v), next) => v.eq_ignore_ascii_case(b"v=spf1") && matches!(next, None | Some(b' ')),
        (None, _) => false,
    }
}

/// Parses an SPF record.
///
/// The whole text is checked first (length, characters, term count), then parsed term by
/// term; the first error stops it and says where.
pub fn parse(text: &str, limits: &Limits) -> Result<SpfRecord, SpfError> {
    if text.len() > limits.max_bytes {
        return Err(SpfError::TooLong {
            len: text.len(),
            max: limits.max_bytes,
        });
    }
    if !is_spf1(text) {
        return Err(SpfError::NotSpf1 { at: 0 });
    }
    if let Some((at, ch)) = text
        .char_indices()
        .find(|(_, c)| *c != ' ' && !c.is_ascii_graphic())
    {
        return Err(SpfError::InvalidCharacter { ch, at });
    }
    let tokens = || {
        let mut offset = 0usize;
        text.split(' ').filter_map(move |piece| {
            let start = offset;
            offset += piece.len() + 1;
            (!piece.is_empty()).then_some((start, piece))
        })
    };
    // The first token is the version itself.
    if let Some((at, _)) = tokens().nth(limits.max_terms.saturating_add(1)) {
        return Err(SpfError::TooManyTerms {
            max: limits.max_terms,
            at,
        });
    }
    let mut terms = Vec::with_capacity(tokens().count().saturating_sub(1));
    let mut seen_redirect = false;
    let mut seen_exp = false;
    for (start, token) in tokens().skip(1) {
        let term = parse_term(token, start)?;
        if let Term::Modifier(m) = &term {
            let seen = match m.modifier {
                Modifier::Redirect(_) => Some(("redirect", &mut seen_redirect)),
                Modifier::Exp(_) => Some(("exp", &mut seen_exp)),
                Modifier::Unknown { .. } => None,
            };
            if let Some((name, seen)) = seen {
                if *seen {
                    return Err(SpfError::DuplicateModifier {
                        name: name.into(),
                        at: start,
                    });
                }
                *seen = true;
            }
        }
        terms.push(term);
    }
    Ok(SpfRecord {
        raw: text.to_owned(),
        terms,
    })
}

/// Parses an explanation string (the TXT record an `exp` modifier points at, §6.2):
/// macro-strings and spaces, with all eleven macro letters allowed.
pub fn parse_explain_string(text: &str, limits: &Limits) -> Result<MacroString, SpfError> {
    if text.len() > limits.max_bytes {
        return Err(SpfError::TooLong {
            len: text.len(),
            max: limits.max_bytes,
        });
    }
    parse_macro_string(text, 0, Letters::All, true)
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Parses one term (no spaces inside) that starts at byte `start` of the record.
fn parse_term(token: &str, start: usize) -> Result<Term, SpfError> {
    let bytes = token.as_bytes();
    let name_len = bytes.iter().take_while(|b| is_name_char(**b)).count();
    let starts_alpha = bytes.first().is_some_and(u8::is_ascii_alphabetic);
    if starts_alpha && bytes.get(name_len) == Some(&b'=') {
        let name = token.get(..name_len).unwrap_or_default();
        let value = token.get(name_len + 1..).unwrap_or_default();
        let vstart = start + name_len + 1;
        let span = Span {
            start,
            end: start + token.len(),
        };
        let lname = name.to_ascii_lowercase();
        let modifier = match lname.as_str() {
            "redirect" | "exp" => {
                if value.is_empty() {
                    return Err(SpfError::EmptyModifier {
                        name: lname,
                        at: start,
                    });
                }
                let spec = parse_domain_spec(value, vstart)?;
                if lname == "exp" {
                    Modifier::Exp(spec)
                } else {
                    Modifier::Redirect(spec)
                }
            }
            _ => Modifier::Unknown {
                name: name.to_owned(),
                value: parse_macro_string(value, vstart, Letters::All, false)?,
            },
        };
        return Ok(Term::Modifier(ModifierTerm { modifier, span }));
    }
    parse_directive(token, start).map(Term::Directive)
}

fn parse_domain_spec(text: &str, at: usize) -> Result<MacroString, SpfError> {
    let spec = parse_macro_string(text, at, Letters::Domain, false)?;
    check_domain_end(&spec, at)?;
    Ok(spec)
}

fn parse_directive(token: &str, start: usize) -> Result<Directive, SpfError> {
    let (qualifier, explicit, rest) = match token.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, true, token.get(1..).unwrap_or_default()),
        Some(b'-') => (Qualifier::Fail, true, token.get(1..).unwrap_or_default()),
        Some(b'~') => (
            Qualifier::SoftFail,
            true,
            token.get(1..).unwrap_or_default(),
        ),
        Some(b'?') => (Qualifier::Neutral, true, token.get(1..).unwrap_or_default()),
        _ => (Qualifier::Pass, false, token),
    };
    let name_start = start + usize::from(explicit);
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = rest.get(..name_len).unwrap_or_default();
    let arg = rest.get(name_len..).unwrap_or_default();
    let arg_at = name_start + name_len;
    let unknown = || SpfError::UnknownMechanism {
        name: rest
            .split([':', '/', '='])
            .next()
            .unwrap_or_default()
            .to_owned(),
        at: start,
    };
    if !(arg.is_empty() || arg.starts_with(':') || arg.starts_with('/')) {
        return Err(unknown());
    }
    let lname = name.to_ascii_lowercase();
    let mechanism = match lname.as_str() {
        "all" => {
            if !arg.is_empty() {
                return Err(SpfError::UnexpectedArgument {
                    mechanism: "all",
                    at: arg_at,
                });
            }
            Mechanism::All
        }
        "include" | "exists" => {
            let mech = if lname == "include" {
                "include"
            } else {
                "exists"
            };
            let Some(spec) = arg.strip_prefix(':') else {
                return Err(if arg.is_empty() {
                    SpfError::MissingDomainSpec {
                        mechanism: mech,
                        at: arg_at,
                    }
                } else {
                    SpfError::UnexpectedArgument {
                        mechanism: mech,
                        at: arg_at,
                    }
                });
            };
            if spec.is_empty() {
                return Err(SpfError::MissingDomainSpec {
                    mechanism: mech,
                    at: arg_at + 1,
                });
            }
            let domain = parse_domain_spec(spec, arg_at + 1)?;
            if mech == "include" {
                Mechanism::Include { domain }
            } else {
                Mechanism::Exists { domain }
            }
        }
        "a" | "mx" => {
            let mech = if lname == "a" { "a" } else { "mx" };
            let (spec_part, cidr) = split_dual_cidr(arg, arg_at)?;
            let domain = optional_domain(spec_part, arg_at, mech)?;
            if mech == "a" {
                Mechanism::A { domain, cidr }
            } else {
                Mechanism::Mx { domain, cidr }
            }
        }
        "ptr" => {
            if arg.starts_with('/') {
                return Err(SpfError::UnexpectedArgument {
                    mechanism: "ptr",
                    at: arg_at,
                });
            }
            Mechanism::Ptr {
                domain: optional_domain(arg, arg_at, "ptr")?,
            }
        }
        "ip4" => {
            let (addr_text, prefix) = ip_arg(arg, arg_at, "ip4", 32)?;
            let addr = addr_text
                .parse::<Ipv4Addr>()
                .map_err(|_| SpfError::InvalidIp4 {
                    text: addr_text.to_owned(),
                    at: arg_at + 1,
                })?;
            Mechanism::Ip4 { addr, prefix }
        }
        "ip6" => {
            let (addr_text, prefix) = ip_arg(arg, arg_at, "ip6", 128)?;
            // RFC 4291 text form; an embedded dotted quad is allowed at the end.
            let addr = addr_text
                .parse::<Ipv6Addr>()
                .ok()
                .filter(|_| addr_text.contains(':'))
                .ok_or_else(|| SpfError::InvalidIp6 {
                    text: addr_text.to_owned(),
                    at: arg_at + 1,
                })?;
            Mechanism::Ip6 { addr, prefix }
        }
        _ => return Err(unknown()),
    };
    Ok(Directive {
        qualifier,
        explicit_qualifier: explicit,
        mechanism,
        span: Span {
            start,
            end: start + token.len(),
        },
    })
}

/// For `a` and `ptr` and `mx`: the part after the name is empty or `:` domain-spec.
fn optional_domain(
    part: &str,
    at: usize,
    mechanism: &'static str,
) -> Result<Option<MacroString>, SpfError> {
    if part.is_empty() {
        return Ok(None);
    }
    match part.strip_prefix(':') {
        Some("") => Err(SpfError::MissingDomainSpec {
            mechanism,
            at: at + 1,
        }),
        Some(spec) => parse_domain_spec(spec, at + 1).map(Some),
        None => Err(SpfError::UnexpectedArgument { mechanism, at }),
    }
}

/// `ip4:`/`ip6:` arguments: `:` address [`/` length].
fn ip_arg<'a>(
    arg: &'a str,
    at: usize,
    mechanism: &'static str,
    max: u8,
) -> Result<(&'a str, Option<u8>), SpfError> {
    let Some(body) = arg.strip_prefix(':') else {
        return Err(SpfError::MissingDomainSpec { mechanism, at });
    };
    match body.split_once('/') {
        None => Ok((body, None)),
        Some((addr, len)) => {
            let slash_at = at + 1 + addr.len();
            Ok((addr, Some(cidr_len(len, slash_at, max)?)))
        }
    }
}

/// A CIDR length: `0`, or 1–3 digits not starting with 0, at most `max`.
fn cidr_len(text: &str, slash_at: usize, max: u8) -> Result<u8, SpfError> {
    let bad = || SpfError::InvalidCidr {
        text: text.to_owned(),
        max,
        at: slash_at,
    };
    let digits_ok = !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !digits_ok {
        return Err(bad());
    }
    match text.parse::<u8>() {
        Ok(v) if v <= max => Ok(v),
        _ => Err(bad()),
    }
}

/// Splits `[":" domain-spec] [dual-cidr-length]` into the domain part and the lengths.
/// A domain-spec may itself contain `/`, so the lengths are taken from the end: a final
/// `//digits` is the IPv6 length, then a final `/digits` the IPv4 length.
fn split_dual_cidr(arg: &str, at: usize) -> Result<(&str, DualCidr), SpfError> {
    let mut rest = arg;
    let mut cidr = DualCidr::default();
    let trailing_number = |s: &str| -> Option<usize> {
        let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
        (digits > 0).then(|| s.len() - digits)
    };
    if let Some(num_start) = trailing_number(rest)
        && rest.get(..num_start).is_some_and(|h| h.ends_with("//"))
    {
        let slash = num_start - 2;
        cidr.ip6 = Some(cidr_len(
            rest.get(num_start..).unwrap_or_default(),
            at + slash,
            128,
        )?);
        rest = rest.get(..slash).unwrap_or_default();
    }
    if let Some(num_start) = trailing_number(rest)
        && rest.get(..num_start).is_some_and(|h| h.ends_with('/'))
    {
        let slash = num_start - 1;
        cidr.ip4 = Some(cidr_len(
            rest.get(num_start..).unwrap_or_default(),
            at + slash,
            32,
        )?);
        rest = rest.get(..slash).unwrap_or_default();
    }
    if rest.starts_with('/') {
        // A slash that did not form a valid length, with no domain before it.
        let text = rest.get(1..).unwrap_or_default().to_owned();
        let max = if text.starts_with('/') { 128 } else { 32 };
        return Err(SpfError::InvalidCidr { text, max, at });
    }
    Ok((rest, cidr))
}

#[cfg(test)]
mod tests;
