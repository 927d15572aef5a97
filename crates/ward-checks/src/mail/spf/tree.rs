//! The posture walk: a domain's whole SPF tree, without a client IP.
//!
//! Receivers evaluate SPF lazily, for one IP, stopping at the first match. A posture
//! check wants the worst case instead: every `include` and `redirect` followed, every
//! term counted. [`expand`] does that and records, per node, what was seen, so the
//! finding's evidence is the tree itself (internet.nl #1336 asked for exactly this).
//!
//! Counting follows RFC 7208 §4.6.4: `include`, `a`, `mx`, `ptr`, `exists` and
//! `redirect` each cost one lookup, wherever they are in the tree; `ip4`, `ip6`, `all`
//! and `exp` cost none. Terms evaluation can never reach (after `all`; a `redirect`
//! beside `all`) cost nothing and are not followed. A node's *cumulative* count is its
//! own plus its children's.
//! Void lookups are `a`, `mx` and `exists` targets (known without a client) that answer
//! NXDOMAIN or no records. Targets that depend on the sender or client (`%{i}`, `%{l}`,
//! ...) cannot be followed and are listed as such.

use super::eval::{Selected, select};
use super::names::{is_queryable, mx_exchange, normalise, truncate_left};
use serde::Serialize;
use ward_model::observe::AssetObservation;
use ward_model::{DnsFailure, DnsOutcome, DnsSource, Lookup};
use ward_records::spf::{self, Limits, MacroItem, MacroLetter, MacroString, Mechanism, SpfError};

/// How a node was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The domain judged.
    Root,
    /// An `include:` in the parent.
    Include,
    /// The parent's `redirect=`.
    Redirect,
}

/// What the TXT question for a node gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NodeLookup {
    /// Not asked: the node closes a loop.
    Skipped,
    /// The source does not hold the answer yet.
    NotFetched,
    /// The question failed: could not tell.
    Failed {
        /// Why.
        failure: DnsFailure,
    },
    /// The name does not exist, or has no TXT records.
    Absent,
    /// TXT records came back; `spf_records` says how many are SPF.
    Answered,
}

/// One address-type question asked for an `a`, `mx` or `exists` term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressLookup {
    /// The term as written.
    pub term: String,
    /// The name asked about.
    pub name: String,
    /// Its type.
    pub rtype: String,
    /// `present`, `absent`, `failed` or `not_fetched`.
    pub state: &'static str,
    /// For MX answers: how many exchanges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx_count: Option<usize>,
}

/// One domain in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfNode {
    /// The domain.
    pub domain: String,
    /// How it was reached.
    pub via: Via,
    /// What its TXT question gave.
    pub lookup: NodeLookup,
    /// Every `v=spf1` record found (more than one is an error).
    pub spf_records: Vec<String>,
    /// The parse error of its record, if it has exactly one and it does not parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SpfError>,
    /// DNS-querying terms in its own record.
    pub own_lookups: u32,
    /// Its own plus all its descendants'.
    pub cumulative_lookups: u32,
    /// Void lookups in its own record (names that answered NXDOMAIN or no records).
    pub void_lookups: Vec<AddressLookup>,
    /// Address and MX questions asked for its own `a`, `mx` and `exists` terms.
    pub address_lookups: Vec<AddressLookup>,
    /// Terms whose target depends on the sender or client and so cannot be followed.
    pub unresolvable: Vec<String>,
    /// Set when this node's domain is already on the path from the root: not expanded.
    pub loop_to: Option<String>,
    /// Included and redirected-to domains, in record order.
    pub children: Vec<SpfNode>,
}

impl SpfNode {
    fn new(domain: &str, via: Via) -> Self {
        SpfNode {
            domain: domain.to_owned(),
            via,
            lookup: NodeLookup::Skipped,
            spf_records: Vec::new(),
            error: None,
            own_lookups: 0,
            cumulative_lookups: 0,
            void_lookups: Vec::new(),
            address_lookups: Vec::new(),
            unresolvable: Vec::new(),
            loop_to: None,
            children: Vec::new(),
        }
    }

    /// This node and all below it, depth first.
    pub fn walk(&self) -> Vec<&SpfNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// The one record, when there is exactly one.
    pub fn record(&self) -> Option<&str> {
        match self.spf_records.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// Bounds on the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeLimits {
    /// Most nodes visited. Default 64 (a valid policy has at most 11).
    pub max_nodes: usize,
    /// Deepest include/redirect chain followed. Default 16.
    pub max_depth: usize,
    /// Record parsing limits. Default [`Limits::DEFAULT`].
    pub record: Limits,
}

impl Default for TreeLimits {
    fn default() -> Self {
        TreeLimits {
            max_nodes: 64,
            max_depth: 16,
            record: Limits::DEFAULT,
        }
    }
}

/// A domain's SPF tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfTree {
    /// The domain judged.
    pub root: SpfNode,
    /// The root's cumulative DNS-querying terms.
    pub total_lookups: u32,
    /// Void lookups anywhere in the tree.
    pub total_void_lookups: u32,
    /// Questions the source does not hold yet, in the order met, each once.
    pub not_fetched: Vec<(String, String)>,
    /// Whether the walk stopped at [`TreeLimits`] before the end.
    pub truncated: bool,
}

impl SpfTree {
    /// Every node, depth first.
    pub fn nodes(&self) -> Vec<&SpfNode> {
        self.root.walk()
    }

    /// Whether every question the walk needed was answered (none failed, none missing).
    pub fn complete(&self) -> bool {
        self.not_fetched.is_empty()
            && !self.truncated
            && self.nodes().iter().all(|n| {
                !matches!(n.lookup, NodeLookup::Failed { .. } | NodeLookup::NotFetched)
                    && n.address_lookups
                        .iter()
                        .all(|a| a.state != "failed" && a.state != "not_fetched")
            })
    }
}

struct Walk<'a> {
    dns: &'a dyn DnsSource,
    limits: TreeLimits,
    root_domain: String,
    nodes: usize,
    not_fetched: Vec<(String, String)>,
    truncated: bool,
}

/// Walks `domain`'s SPF tree with the default [`TreeLimits`].
pub fn expand(domain: &str, dns: &dyn DnsSource) -> SpfTree {
    expand_with(domain, dns, TreeLimits::default())
}

/// Walks `domain`'s SPF tree.
pub fn expand_with(domain: &str, dns: &dyn DnsSource, limits: TreeLimits) -> SpfTree {
    let domain = normalise(domain);
    let mut w = Walk {
        dns,
        limits,
        root_domain: domain.clone(),
        nodes: 0,
        not_fetched: Vec::new(),
        truncated: false,
    };
    let mut path = Vec::new();
    let root = w.node(&domain, Via::Root, &mut path);
    let total_void_lookups = root
        .walk()
        .iter()
        .map(|n| u32::try_from(n.void_lookups.len()).unwrap_or(u32::MAX))
        .fold(0u32, u32::saturating_add);
    SpfTree {
        total_lookups: root.cumulative_lookups,
        total_void_lookups,
        root,
        not_fetched: w.not_fetched,
        truncated: w.truncated,
    }
}

/// The DNS questions the SPF checks still need for `domain`: the probe asks these, adds
/// the answers to the observation and calls this again, until it returns nothing.
pub fn needed_lookups(obs: &AssetObservation, domain: &str) -> Vec<(String, String)> {
    expand(domain, obs).not_fetched
}

impl Walk<'_> {
    fn ask(&mut self, name: &str, rtype: &str) -> Option<DnsOutcome> {
        match self.dns.query(name, rtype) {
            Lookup::Done(o) => Some(o),
            Lookup::NotFetched => {
                let q = (name.to_owned(), rtype.to_owned());
                if !self.not_fetched.contains(&q) {
                    self.not_fetched.push(q);
                }
                None
            }
        }
    }

    fn node(&mut self, domain: &str, via: Via, path: &mut Vec<String>) -> SpfNode {
        let mut node = SpfNode::new(domain, via);
        if path.iter().any(|d| d == domain) {
            node.loop_to = Some(domain.to_owned());
            return node;
        }
        if self.nodes >= self.limits.max_nodes || path.len() >= self.limits.max_depth {
            self.truncated = true;
            return node;
        }
        self.nodes += 1;
        let Some(txt) = self.ask(domain, "TXT") else {
            node.lookup = NodeLookup::NotFetched;
            return node;
        };
        node.lookup = match &txt {
            DnsOutcome::Failed { failure } => NodeLookup::Failed {
                failure: failure.clone(),
            },
            DnsOutcome::NxDomain { .. } | DnsOutcome::NoData { .. } => NodeLookup::Absent,
            DnsOutcome::Answer { .. } => NodeLookup::Answered,
        };
        node.spf_records = txt
            .records_of("TXT")
            .map(|r| r.data.clone())
            .filter(|t| spf::is_spf1(t))
            .collect();
        let Selected::One(text) = select(&txt) else {
            return node;
        };
        let record = match spf::parse(text, &self.limits.record) {
            Ok(r) => r,
            Err(e) => {
                node.error = Some(e);
                return node;
            }
        };
        node.own_lookups = u32::try_from(record.own_lookup_terms()).unwrap_or(u32::MAX);
        path.push(domain.to_owned());
        // Terms evaluation never reaches (after `all`, or a redirect beside `all`) are
        // neither counted nor followed; spf.hygiene reports them.
        for d in record.live_directives() {
            let term = record
                .raw
                .get(d.span.start..d.span.end)
                .unwrap_or_default()
                .to_owned();
            match &d.mechanism {
                Mechanism::Include { domain: spec } => match self.static_target(spec, domain) {
                    Some(t) => {
                        let child = self.node(&t, Via::Include, path);
                        node.children.push(child);
                    }
                    None => node.unresolvable.push(term),
                },
                Mechanism::A { domain: spec, .. } => {
                    match self.optional_target(spec.as_ref(), domain) {
                        Some(t) => {
                            let a = self.address(&term, &t, "A");
                            let aaaa = self.address(&term, &t, "AAAA");
                            if a.state == "absent" && aaaa.state == "absent" {
                                node.void_lookups.push(a.clone());
                            }
                            node.address_lookups.extend([a, aaaa]);
                        }
                        None => node.unresolvable.push(term),
                    }
                }
                Mechanism::Mx { domain: spec, .. } => {
                    match self.optional_target(spec.as_ref(), domain) {
                        Some(t) => {
                            let mx = self.address(&term, &t, "MX");
                            if mx.state == "absent" {
                                node.void_lookups.push(mx.clone());
                            }
                            node.address_lookups.push(mx);
                        }
                        None => node.unresolvable.push(term),
                    }
                }
                Mechanism::Exists { domain: spec } => match self.static_target(spec, domain) {
                    Some(t) => {
                        let a = self.address(&term, &t, "A");
                        if a.state == "absent" {
                            node.void_lookups.push(a.clone());
                        }
                        node.address_lookups.push(a);
                    }
                    None => node.unresolvable.push(term),
                },
                Mechanism::Ptr { .. } => node.unresolvable.push(term),
                Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => {}
            }
        }
        if let Some(spec) = record.live_redirect() {
            match self.static_target(spec, domain) {
                Some(t) => {
                    let child = self.node(&t, Via::Redirect, path);
                    node.children.push(child);
                }
                None => node.unresolvable.push(format!("redirect={}", spec.raw)),
            }
        }
        path.pop();
        node.cumulative_lookups = node
            .children
            .iter()
            .map(|c| c.cumulative_lookups)
            .fold(node.own_lookups, u32::saturating_add);
        node
    }

    fn address(&mut self, term: &str, name: &str, rtype: &str) -> AddressLookup {
        let outcome = self.ask(name, rtype);
        let state = match &outcome {
            None => "not_fetched",
            Some(DnsOutcome::Failed { .. }) => "failed",
            Some(o) if o.records_of(rtype).next().is_some() => "present",
            Some(_) => "absent",
        };
        AddressLookup {
            term: term.to_owned(),
            name: name.to_owned(),
            rtype: rtype.to_owned(),
            state,
            mx_count: match (&outcome, rtype) {
                (Some(o), "MX") => Some(
                    o.records_of("MX")
                        .filter_map(|r| mx_exchange(&r.data))
                        .count(),
                ),
                _ => None,
            },
        }
    }

    fn optional_target(&self, spec: Option<&MacroString>, domain: &str) -> Option<String> {
        match spec {
            Some(s) => self.static_target(s, domain),
            None => Some(domain.to_owned()),
        }
    }

    /// Expands a domain-spec that needs no client: only `%{d}` (the current domain) and
    /// `%{o}` (taken as the root domain, the sender's domain in the usual case).
    fn static_target(&self, spec: &MacroString, domain: &str) -> Option<String> {
        let mut out = String::new();
        for item in &spec.items {
            match item {
                MacroItem::Literal(t) => out.push_str(t),
                MacroItem::Percent => out.push('%'),
                MacroItem::Space => out.push(' '),
                MacroItem::UrlSpace => out.push_str("%20"),
                MacroItem::Expand(e) => {
                    let value = match e.letter {
                        MacroLetter::Domain => domain,
                        MacroLetter::SenderDomain => self.root_domain.as_str(),
                        _ => return None,
                    };
                    out.push_str(&super::transform(value, e));
                }
            }
        }
        let name = truncate_left(normalise(&out));
        is_queryable(&name).then_some(name)
    }
}
