//! `check_host()` (RFC 7208 §4–§7) over a [`DnsSource`].
//!
//! The evaluator is the RFC's algorithm, with its limits as data ([`SpfEvalLimits`]):
//! ten DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`) per
//! evaluation, two void lookups (NXDOMAIN or no records), ten names per `mx` and `ptr`.
//! Exceeding one is `permerror`, as §4.6.4 says.
//!
//! A source backed by an observation may not hold a question the evaluation needs. Then
//! the evaluation stops with [`SpfVerdict::NotFetched`] naming it: a question that was
//! never asked is not an empty answer.

use super::names::{
    in_network, is_queryable, is_valid_domain, mx_exchange, nibbles, normalise, reverse_name,
    truncate_left,
};
use serde::Serialize;
use std::net::IpAddr;
use ward_model::{DnsFailure, DnsOutcome, DnsSource, Lookup};
use ward_records::spf::{
    self, Directive, Limits, MacroItem, MacroLetter, MacroString, Mechanism, Qualifier, SpfError,
    SpfRecord,
};

/// The seven results of check_host() (RFC 7208 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    /// No policy was found (or the domain is not a valid name).
    None,
    /// The policy makes no assertion about this client.
    Neutral,
    /// The client is authorised.
    Pass,
    /// The client is not authorised.
    Fail,
    /// Probably not authorised.
    SoftFail,
    /// A transient DNS error stopped evaluation.
    TempError,
    /// The published policy could not be interpreted.
    PermError,
}

impl SpfResult {
    /// The lower-case name RFC 7208 uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }

    fn from_qualifier(q: Qualifier) -> Self {
        match q {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

/// Why an evaluation ended where it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SpfReason {
    /// A directive matched.
    Matched {
        /// The domain whose record held it.
        domain: String,
        /// The directive as written.
        term: String,
    },
    /// Nothing matched and there was no redirect: the default, neutral (§4.7).
    NoMatch {
        /// The domain whose record was evaluated last.
        domain: String,
    },
    /// The domain is not a name that can have a policy (§4.3).
    InvalidDomain {
        /// The domain.
        domain: String,
    },
    /// The domain has no SPF record (§4.5).
    NoRecord {
        /// The domain.
        domain: String,
    },
    /// The domain has more than one SPF record (§4.5).
    MultipleRecords {
        /// The domain.
        domain: String,
        /// How many.
        count: usize,
    },
    /// The record does not parse.
    Syntax {
        /// The domain.
        domain: String,
        /// The record.
        record: String,
        /// What is wrong.
        error: SpfError,
    },
    /// More than the allowed DNS-querying terms (§4.6.4).
    TooManyLookups {
        /// The limit.
        limit: u32,
    },
    /// More than the allowed void lookups (§4.6.4).
    TooManyVoidLookups {
        /// The limit.
        limit: u32,
    },
    /// An `mx` found more exchanges than allowed (§4.6.4).
    TooManyMxNames {
        /// The domain asked for MX.
        domain: String,
        /// How many MX records it has.
        count: usize,
    },
    /// A DNS question could not be answered.
    DnsFailed {
        /// The name asked about.
        name: String,
        /// The type asked for.
        rtype: String,
        /// Why.
        failure: DnsFailure,
    },
    /// `include` of a domain with no policy (§5.2: permerror).
    IncludeNone {
        /// The included domain.
        domain: String,
    },
    /// `redirect` to a domain with no policy (§6.1: permerror).
    RedirectNone {
        /// The target domain.
        domain: String,
    },
    /// An `include` or `redirect` leads back to a domain already being evaluated.
    Loop {
        /// The domain seen twice.
        domain: String,
    },
    /// A name expanded from a domain-spec cannot be a DNS name (an empty or overlong
    /// label).
    InvalidTarget {
        /// The expanded name.
        name: String,
    },
}

/// The outcome of a completed evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfDecision {
    /// The result.
    pub result: SpfResult,
    /// The explanation from the `exp` modifier, for `fail` only, when one could be had.
    pub explanation: Option<String>,
    /// Why.
    pub reason: SpfReason,
    /// DNS-querying terms used.
    pub dns_terms: u32,
    /// Void lookups seen.
    pub void_lookups: u32,
}

/// What check_host() concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SpfVerdict {
    /// The evaluation finished.
    Decided(SpfDecision),
    /// The evaluation needs a DNS answer the source does not hold. Fetch it and run again.
    NotFetched {
        /// The name.
        name: String,
        /// The record type.
        rtype: String,
    },
}

/// Limits and the few session facts check_host() needs beyond its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfEvalLimits {
    /// DNS-querying terms per evaluation. Default 10 (RFC 7208 §4.6.4).
    pub max_dns_terms: u32,
    /// Void lookups per evaluation. Default 2 (RFC 7208 §4.6.4).
    pub max_void_lookups: u32,
    /// MX names one `mx` may look up. Default 10 (RFC 7208 §4.6.4).
    pub max_mx_names: usize,
    /// PTR names one `ptr` (or `%{p}`) looks at; the rest are ignored. Default 10.
    pub max_ptr_names: usize,
    /// Bounds for parsing each record. Default [`Limits::DEFAULT`].
    pub record: Limits,
    /// The receiving host's domain, for `%{r}` in explanations. Default `unknown`.
    pub receiver: String,
    /// Seconds since the epoch, for `%{t}` in explanations. Pure code reads no clock, so
    /// the caller supplies it. Default 0.
    pub timestamp: u64,
}

impl Default for SpfEvalLimits {
    fn default() -> Self {
        SpfEvalLimits {
            max_dns_terms: 10,
            max_void_lookups: 2,
            max_mx_names: 10,
            max_ptr_names: 10,
            record: Limits::DEFAULT,
            receiver: "unknown".into(),
            timestamp: 0,
        }
    }
}

/// Why evaluation stopped before a result.
enum Abort {
    NotFetched(String, String),
    Error(SpfResult, SpfReason),
}

/// The result of evaluating one domain's record, before explanations.
struct Outcome {
    result: SpfResult,
    reason: SpfReason,
    /// For fail: the `exp` of the record that decided, with that record's domain.
    exp: Option<(MacroString, String)>,
}

struct Eval<'a> {
    dns: &'a dyn DnsSource,
    limits: &'a SpfEvalLimits,
    ip: IpAddr,
    sender: String,
    local: String,
    sender_domain: String,
    helo: String,
    dns_terms: u32,
    voids: u32,
    stack: Vec<String>,
    /// The client's validated names for `%{p}`, looked up once per evaluation.
    p_names: Option<Vec<String>>,
}

/// RFC 7208 check_host(): is `ip` allowed to send mail for `domain`?
///
/// `sender` is the MAIL FROM address, or `postmaster@` the HELO name when MAIL FROM is
/// empty; a sender without a local part gets `postmaster` (§4.3). `helo` feeds `%{h}`.
pub fn check_host(
    ip: IpAddr,
    domain: &str,
    sender: &str,
    helo: &str,
    dns: &dyn DnsSource,
    limits: &SpfEvalLimits,
) -> SpfVerdict {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let (local, sender_domain) = match sender.rsplit_once('@') {
        Some((l, d)) => (l, d),
        None => ("", sender),
    };
    let local = if local.is_empty() {
        "postmaster"
    } else {
        local
    };
    let mut ev = Eval {
        dns,
        limits,
        ip,
        sender: format!("{local}@{sender_domain}"),
        local: local.to_owned(),
        sender_domain: sender_domain.to_owned(),
        helo: helo.to_owned(),
        dns_terms: 0,
        voids: 0,
        stack: Vec::new(),
        p_names: None,
    };
    let decided = |ev: &Eval<'_>, result, reason, explanation| {
        SpfVerdict::Decided(SpfDecision {
            result,
            explanation,
            reason,
            dns_terms: ev.dns_terms,
            void_lookups: ev.voids,
        })
    };
    if !is_valid_domain(domain) {
        let reason = SpfReason::InvalidDomain {
            domain: domain.to_owned(),
        };
        return decided(&ev, SpfResult::None, reason, None);
    }
    let domain = normalise(domain);
    match ev.check(&domain) {
        Err(Abort::NotFetched(name, rtype)) => SpfVerdict::NotFetched { name, rtype },
        Err(Abort::Error(result, reason)) => decided(&ev, result, reason, None),
        Ok(out) => {
            let explanation = match (out.result, &out.exp) {
                (SpfResult::Fail, Some((spec, d))) => match ev.explain(spec, d) {
                    Ok(e) => e,
                    Err(Abort::NotFetched(name, rtype)) => {
                        return SpfVerdict::NotFetched { name, rtype };
                    }
                    Err(Abort::Error(..)) => None,
                },
                _ => None,
            };
            decided(&ev, out.result, out.reason, explanation)
        }
    }
}

/// Selects the one SPF record among a domain's TXT answers (§4.5).
pub(crate) enum Selected<'a> {
    None,
    One(&'a str),
    Many(usize),
}

pub(crate) fn select<'a>(outcome: &'a DnsOutcome) -> Selected<'a> {
    let mut found = outcome
        .records_of("TXT")
        .map(|r| r.data.as_str())
        .filter(|t| spf::is_spf1(t));
    match (found.next(), found.next()) {
        (None, _) => Selected::None,
        (Some(one), None) => Selected::One(one),
        (Some(_), Some(_)) => Selected::Many(2 + found.count()),
    }
}

impl Eval<'_> {
    fn query(&self, name: &str, rtype: &str) -> Result<DnsOutcome, Abort> {
        match self.dns.query(name, rtype) {
            Lookup::Done(o) => Ok(o),
            Lookup::NotFetched => Err(Abort::NotFetched(name.to_owned(), rtype.to_owned())),
        }
    }

    fn count_term(&mut self) -> Result<(), Abort> {
        self.dns_terms += 1;
        if self.dns_terms > self.limits.max_dns_terms {
            return Err(Abort::Error(
                SpfResult::PermError,
                SpfReason::TooManyLookups {
                    limit: self.limits.max_dns_terms,
                },
            ));
        }
        Ok(())
    }

    /// Notes a void lookup if `outcome` is one.
    fn note_void(&mut self, outcome: &DnsOutcome, rtype: &str) -> Result<(), Abort> {
        let void = match outcome {
            DnsOutcome::NxDomain { .. } | DnsOutcome::NoData { .. } => true,
            DnsOutcome::Answer { .. } => outcome.records_of(rtype).next().is_none(),
            DnsOutcome::Failed { .. } => false,
        };
        if void {
            self.voids += 1;
            if self.voids > self.limits.max_void_lookups {
                return Err(Abort::Error(
                    SpfResult::PermError,
                    SpfReason::TooManyVoidLookups {
                        limit: self.limits.max_void_lookups,
                    },
                ));
            }
        }
        Ok(())
    }

    fn temperror(name: &str, rtype: &str, failure: &DnsFailure) -> Abort {
        Abort::Error(
            SpfResult::TempError,
            SpfReason::DnsFailed {
                name: name.to_owned(),
                rtype: rtype.to_owned(),
                failure: failure.clone(),
            },
        )
    }

    /// check_host() for one domain (already validated and normalised).
    fn check(&mut self, domain: &str) -> Result<Outcome, Abort> {
        if self.stack.iter().any(|d| d == domain) {
            return Err(Abort::Error(
                SpfResult::PermError,
                SpfReason::Loop {
                    domain: domain.to_owned(),
                },
            ));
        }
        let txt = self.query(domain, "TXT")?;
        if let DnsOutcome::Failed { failure } = &txt {
            return Err(Self::temperror(domain, "TXT", failure));
        }
        let text = match select(&txt) {
            Selected::None => {
                return Ok(Outcome {
                    result: SpfResult::None,
                    reason: SpfReason::NoRecord {
                        domain: domain.to_owned(),
                    },
                    exp: None,
                });
            }
            Selected::Many(count) => {
                return Err(Abort::Error(
                    SpfResult::PermError,
                    SpfReason::MultipleRecords {
                        domain: domain.to_owned(),
                        count,
                    },
                ));
            }
            Selected::One(text) => text.to_owned(),
        };
        let record = spf::parse(&text, &self.limits.record).map_err(|error| {
            Abort::Error(
                SpfResult::PermError,
                SpfReason::Syntax {
                    domain: domain.to_owned(),
                    record: text.clone(),
                    error,
                },
            )
        })?;
        self.stack.push(domain.to_owned());
        let out = self.evaluate(domain, &record);
        self.stack.pop();
        out
    }

    fn evaluate(&mut self, domain: &str, record: &SpfRecord) -> Result<Outcome, Abort> {
        for directive in record.directives() {
            if self.matches(domain, directive)? {
                let result = SpfResult::from_qualifier(directive.qualifier);
                let term = record
                    .raw
                    .get(directive.span.start..directive.span.end)
                    .unwrap_or_default()
                    .to_owned();
                return Ok(Outcome {
                    result,
                    reason: SpfReason::Matched {
                        domain: domain.to_owned(),
                        term,
                    },
                    exp: record.exp().map(|e| (e.clone(), domain.to_owned())),
                });
            }
        }
        if let Some(target) = record.redirect() {
            self.count_term()?;
            let target = self.target(target, domain)?;
            let out = self.check(&target)?;
            if out.result == SpfResult::None {
                return Err(Abort::Error(
                    SpfResult::PermError,
                    SpfReason::RedirectNone { domain: target },
                ));
            }
            return Ok(out);
        }
        Ok(Outcome {
            result: SpfResult::Neutral,
            reason: SpfReason::NoMatch {
                domain: domain.to_owned(),
            },
            exp: record.exp().map(|e| (e.clone(), domain.to_owned())),
        })
    }

    /// Expands a domain-spec into a name to query (§7.3: cut to 253 from the left).
    fn target(&mut self, spec: &MacroString, domain: &str) -> Result<String, Abort> {
        let name = truncate_left(normalise(&self.expand(spec, domain)?));
        if !is_queryable(&name) {
            return Err(Abort::Error(
                SpfResult::PermError,
                SpfReason::InvalidTarget { name },
            ));
        }
        Ok(name)
    }

    fn optional_target(
        &mut self,
        spec: Option<&MacroString>,
        domain: &str,
    ) -> Result<String, Abort> {
        match spec {
            Some(s) => self.target(s, domain),
            None => Ok(domain.to_owned()),
        }
    }

    fn addr_rtype(&self) -> &'static str {
        match self.ip {
            IpAddr::V4(_) => "A",
            IpAddr::V6(_) => "AAAA",
        }
    }

    fn matches(&mut self, domain: &str, d: &Directive) -> Result<bool, Abort> {
        match &d.mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip4 { addr, prefix } => {
                Ok(in_network(self.ip, IpAddr::V4(*addr), prefix.unwrap_or(32)))
            }
            Mechanism::Ip6 { addr, prefix } => Ok(in_network(
                self.ip,
                IpAddr::V6(*addr),
                prefix.unwrap_or(128),
            )),
            Mechanism::Include { domain: spec } => {
                self.count_term()?;
                let target = self.target(spec, domain)?;
                let out = self.check(&target)?;
                match out.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
                    SpfResult::None => Err(Abort::Error(
                        SpfResult::PermError,
                        SpfReason::IncludeNone { domain: target },
                    )),
                    SpfResult::TempError | SpfResult::PermError => {
                        Err(Abort::Error(out.result, out.reason))
                    }
                }
            }
            Mechanism::A { domain: spec, cidr } => {
                self.count_term()?;
                let target = self.optional_target(spec.as_ref(), domain)?;
                let prefix = self.prefix(cidr.ip4, cidr.ip6);
                let rtype = self.addr_rtype();
                let outcome = self.query(&target, rtype)?;
                if let DnsOutcome::Failed { failure } = &outcome {
                    return Err(Self::temperror(&target, rtype, failure));
                }
                self.note_void(&outcome, rtype)?;
                Ok(self.any_address_matches(&outcome, rtype, prefix))
            }
            Mechanism::Mx { domain: spec, cidr } => {
                self.count_term()?;
                let target = self.optional_target(spec.as_ref(), domain)?;
                let prefix = self.prefix(cidr.ip4, cidr.ip6);
                let outcome = self.query(&target, "MX")?;
                if let DnsOutcome::Failed { failure } = &outcome {
                    return Err(Self::temperror(&target, "MX", failure));
                }
                self.note_void(&outcome, "MX")?;
                let hosts: Vec<String> = outcome
                    .records_of("MX")
                    .filter_map(|r| mx_exchange(&r.data))
                    .collect();
                if hosts.len() > self.limits.max_mx_names {
                    return Err(Abort::Error(
                        SpfResult::PermError,
                        SpfReason::TooManyMxNames {
                            domain: target,
                            count: hosts.len(),
                        },
                    ));
                }
                let rtype = self.addr_rtype();
                for host in hosts {
                    if host.is_empty() || !is_queryable(&host) {
                        continue; // null MX (RFC 7505) names no host
                    }
                    let outcome = self.query(&host, rtype)?;
                    if let DnsOutcome::Failed { failure } = &outcome {
                        return Err(Self::temperror(&host, rtype, failure));
                    }
                    if self.any_address_matches(&outcome, rtype, prefix) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr { domain: spec } => {
                self.count_term()?;
                let target = self.optional_target(spec.as_ref(), domain)?;
                let names = self.validated_names(Some(&target), true)?;
                Ok(!names.is_empty())
            }
            Mechanism::Exists { domain: spec } => {
                self.count_term()?;
                let target = self.target(spec, domain)?;
                let outcome = self.query(&target, "A")?;
                if let DnsOutcome::Failed { failure } = &outcome {
                    return Err(Self::temperror(&target, "A", failure));
                }
                self.note_void(&outcome, "A")?;
                Ok(outcome.records_of("A").next().is_some())
            }
        }
    }

    fn prefix(&self, ip4: Option<u8>, ip6: Option<u8>) -> u8 {
        match self.ip {
            IpAddr::V4(_) => ip4.unwrap_or(32),
            IpAddr::V6(_) => ip6.unwrap_or(128),
        }
    }

    fn any_address_matches(&self, outcome: &DnsOutcome, rtype: &str, prefix: u8) -> bool {
        outcome
            .records_of(rtype)
            .filter_map(|r| r.data.trim().parse::<IpAddr>().ok())
            .any(|a| in_network(self.ip, a, prefix))
    }

    /// The client's validated domain names (§5.5), restricted to `within` and its
    /// subdomains when given. Errors on the PTR lookup mean "no names"; errors on an
    /// address lookup skip that name. `count_void` notes an empty PTR answer as a void
    /// lookup (it does for the `ptr` mechanism, not for `%{p}`).
    fn validated_names(
        &mut self,
        within: Option<&str>,
        count_void: bool,
    ) -> Result<Vec<String>, Abort> {
        let rev = reverse_name(self.ip);
        let outcome = self.query(&rev, "PTR")?;
        if count_void {
            self.note_void(&outcome, "PTR")?;
        }
        let names: Vec<String> = outcome
            .records_of("PTR")
            .map(|r| normalise(&r.data))
            .take(self.limits.max_ptr_names)
            .collect();
        let rtype = self.addr_rtype();
        let mut validated = Vec::new();
        for name in names {
            if let Some(w) = within
                && !(name == w || name.ends_with(&format!(".{w}")))
            {
                continue;
            }
            if !is_queryable(&name) {
                continue;
            }
            let outcome = self.query(&name, rtype)?;
            if outcome
                .records_of(rtype)
                .filter_map(|r| r.data.trim().parse::<IpAddr>().ok())
                .any(|a| a == self.ip)
            {
                validated.push(name);
            }
        }
        Ok(validated)
    }

    fn letter_value(&mut self, letter: MacroLetter, domain: &str) -> Result<String, Abort> {
        Ok(match letter {
            MacroLetter::Sender => self.sender.clone(),
            MacroLetter::LocalPart => self.local.clone(),
            MacroLetter::SenderDomain => self.sender_domain.clone(),
            MacroLetter::Domain => domain.to_owned(),
            // Upper-case hex nibbles, as the OpenSPF suite expects in explanations
            // (v-macro-ip6); DNS names compare without case, so queries are unaffected.
            MacroLetter::Ip => nibbles(self.ip).join(".").to_ascii_uppercase(),
            MacroLetter::ValidatedName => {
                let names = match self.p_names.take() {
                    Some(n) => n,
                    None => self.validated_names(None, false)?,
                };
                let best = names
                    .iter()
                    .find(|n| *n == domain)
                    .or_else(|| names.iter().find(|n| n.ends_with(&format!(".{domain}"))))
                    .or_else(|| names.first());
                let value = best.cloned().unwrap_or_else(|| "unknown".into());
                self.p_names = Some(names);
                value
            }
            MacroLetter::Helo => self.helo.clone(),
            MacroLetter::ClientIp => self.ip.to_string(),
            MacroLetter::Receiver => self.limits.receiver.clone(),
            MacroLetter::Timestamp => self.limits.timestamp.to_string(),
            MacroLetter::IpVersion => match self.ip {
                IpAddr::V4(_) => "in-addr".into(),
                IpAddr::V6(_) => "ip6".into(),
            },
        })
    }

    /// Expands a macro-string (§7.3).
    fn expand(&mut self, ms: &MacroString, domain: &str) -> Result<String, Abort> {
        let mut out = String::new();
        for item in &ms.items {
            match item {
                MacroItem::Literal(t) => out.push_str(t),
                MacroItem::Percent => out.push('%'),
                MacroItem::Space => out.push(' '),
                MacroItem::UrlSpace => out.push_str("%20"),
                MacroItem::Expand(e) => {
                    let value = self.letter_value(e.letter, domain)?;
                    let transformed = super::transform(&value, e);
                    out.push_str(&transformed);
                }
            }
        }
        Ok(out)
    }

    /// The explanation for a fail (§6.2): any trouble means no explanation.
    fn explain(&mut self, spec: &MacroString, domain: &str) -> Result<Option<String>, Abort> {
        let name = match self.target(spec, domain) {
            Ok(n) => n,
            Err(Abort::Error(..)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let outcome = self.query(&name, "TXT")?;
        let mut texts = outcome.records_of("TXT");
        let (Some(text), None) = (texts.next(), texts.next()) else {
            return Ok(None);
        };
        let Ok(ms) = spf::parse_explain_string(&text.data, &self.limits.record) else {
            return Ok(None);
        };
        let expanded = self.expand(&ms, domain)?;
        Ok(expanded.is_ascii().then_some(expanded))
    }
}
