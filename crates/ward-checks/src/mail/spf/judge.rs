//! The `spf.*` checks, judged from the posture tree ([`super::expand`]).
//!
//! | check | pass | warn | fail | error (could not tell) |
//! |---|---|---|---|---|
//! | `spf.present` | exactly one `v=spf1` record | | none, or several | TXT lookup failed or not fetched |
//! | `spf.syntax` | every record in the tree parses, every target has one record | | a record does not parse; an include/redirect target has none or several | a target could not be looked up |
//! | `spf.all` | policy ends in `-all` or `~all` (through `redirect`) | | `?all`, `+all`, or neither `all` nor `redirect` | the redirect target could not be looked up |
//! | `spf.lookups` | at most 10 DNS-querying terms in the tree (exactly 10 is allowed, and said) | | over 10; an `mx` term naming over 10 exchanges (RFC 7208 §4.6.4 permerror) | a node could not be looked up and the count so far is within the limit |
//! | `spf.void_lookups` | no void lookups | 1 or 2 | over 2 | a target could not be looked up |
//! | `spf.hygiene` | nothing to note | `ptr`, over 450 bytes, `redirect` beside `all`, repeated `redirect`/`exp`, terms after `all` | | |
//! | `spf.loops` | no include/redirect loop | | a loop | a node could not be looked up |
//!
//! `spf.hygiene` reports `info` when its only note is that `mx` is used (it costs
//! lookups and breaks silently when mail moves; Mail Check calls it not recommended).
//! When the domain has no record (or several, or the lookup failed) only `spf.present`
//! is reported: the other checks have nothing to judge.

use super::tree::{NodeLookup, SpfNode, SpfTree, Via, expand};
use crate::{Context, Stakes, finding};
use serde_json::{Value, json};
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::{Finding, Role, Severity, Status};
use ward_records::spf::{self, Limits, Mechanism, Qualifier, SpfError, SpfRecord, Term};

/// RFC 7208 §4.6.4: at most 10 DNS-querying terms.
/// The check ids of this family, in catalogue order.
pub const CHECKS: &[CheckId] = &[
    CheckId::SpfPresent,
    CheckId::SpfSyntax,
    CheckId::SpfAll,
    CheckId::SpfLookups,
    CheckId::SpfVoidLookups,
    CheckId::SpfHygiene,
    CheckId::SpfLoops,
];

const MAX_LOOKUPS: u32 = 10;
/// RFC 7208 §4.6.4: one `mx` term looks up the addresses of at most 10 exchanges.
const MAX_MX_ADDRESS_LOOKUPS: usize = 10;
/// RFC 7208 §4.6.4: at most 2 void lookups.
const MAX_VOID: u32 = 2;
/// Mail Check's bound for records that must fit a UDP answer.
const MAX_RECORD_BYTES: usize = 450;

const PRESENT: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const SYNTAX: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const ALL: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const LOOKUPS: Stakes = Stakes::flat(Severity::Medium);
const VOID: Stakes = Stakes::flat(Severity::Medium);
const HYGIENE: Stakes = Stakes::flat(Severity::Low);
const LOOPS: Stakes = Stakes::flat(Severity::Medium);

/// Judges SPF for assets that send or hold mail (roles `mail` and `parked`).
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    if !(ctx.asset.has(Role::Mail) || ctx.asset.has(Role::Parked)) {
        return Vec::new();
    }
    let tree = expand(&ctx.asset.domain, ctx.obs);
    judge_tree(ctx, &tree)
}

fn parsed(node: &SpfNode) -> Option<SpfRecord> {
    node.record()
        .and_then(|r| spf::parse(r, &Limits::DEFAULT).ok())
}

fn judge_tree(ctx: &Context<'_>, tree: &SpfTree) -> Vec<Finding> {
    let root = &tree.root;
    let domain = root.domain.as_str();
    let evidence = Evidence::from(json!({
        "domain": domain,
        "lookup": root.lookup,
        "spf_records": root.spf_records,
    }));
    let present = |status, summary: String| {
        finding(
            ctx,
            CheckId::SpfPresent,
            status,
            PRESENT,
            summary,
            evidence.clone(),
        )
    };
    match &root.lookup {
        NodeLookup::NotFetched => {
            return vec![present(
                Status::Error,
                format!("could not tell: the TXT records of {domain} were not fetched"),
            )];
        }
        NodeLookup::Failed { failure } => {
            return vec![present(
                Status::Error,
                format!(
                    "could not tell whether {domain} has SPF: its TXT lookup failed ({failure})"
                ),
            )];
        }
        NodeLookup::Skipped => {
            return vec![present(
                Status::Error,
                format!("could not tell: {domain} was not looked up"),
            )];
        }
        NodeLookup::Absent | NodeLookup::Answered => {}
    }
    match root.spf_records.len() {
        0 => {
            return vec![present(
                Status::Fail,
                format!("{domain} publishes no SPF record: anyone can send mail as it"),
            )];
        }
        1 => {}
        n => {
            return vec![present(
                Status::Fail,
                format!(
                    "{domain} publishes {n} SPF records; receivers must treat that as a permanent error (RFC 7208 §4.5)"
                ),
            )];
        }
    }
    let tree_json = serde_json::to_value(tree).unwrap_or(Value::Null);
    vec![
        present(Status::Pass, format!("{domain} publishes one SPF record")),
        syntax(ctx, tree, &tree_json),
        all(ctx, tree),
        lookups(ctx, tree, &tree_json),
        void_lookups(ctx, tree, &tree_json),
        hygiene(ctx, tree),
        loops(ctx, tree, &tree_json),
    ]
}

/// Whether any node's own TXT lookup is missing or failed (the tree is partial).
fn unknown_nodes(tree: &SpfTree) -> Vec<String> {
    let mut out: Vec<String> = tree
        .nodes()
        .into_iter()
        .filter(|n| matches!(n.lookup, NodeLookup::Failed { .. } | NodeLookup::NotFetched))
        .map(|n| n.domain.clone())
        .collect();
    if tree.truncated {
        out.push("(walk stopped at its node limit)".into());
    }
    out
}

/// `fields` (a JSON object) with the expanded tree added as `tree`. The tree is copied as
/// a value: putting it through `json!` would serialise it again for every finding.
fn with_tree(mut fields: Value, tree_json: &Value) -> Evidence {
    if let Some(map) = fields.as_object_mut() {
        map.insert("tree".to_owned(), tree_json.clone());
    }
    Evidence::from(fields)
}

fn syntax(ctx: &Context<'_>, tree: &SpfTree, tree_json: &Value) -> Finding {
    let mut problems = Vec::new();
    for n in tree.nodes() {
        if let Some(e) = &n.error {
            problems.push(json!({
                "domain": n.domain, "record": n.record(), "error": e, "message": e.to_string()
            }));
        }
        if n.via != Via::Root && n.loop_to.is_none() {
            let count = n.spf_records.len();
            let settled = matches!(n.lookup, NodeLookup::Absent | NodeLookup::Answered);
            if settled && count != 1 {
                let how = if n.via == Via::Include {
                    "include"
                } else {
                    "redirect"
                };
                problems.push(json!({
                    "domain": n.domain,
                    "message": format!("{how} target has {count} SPF records (needs exactly one)"),
                }));
            }
        }
    }
    let unknown = unknown_nodes(tree);
    let evidence = with_tree(
        json!({ "problems": problems, "unknown": unknown }),
        tree_json,
    );
    if let Some(first) = problems.first() {
        let msg = first
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let at = first
            .get("domain")
            .and_then(Value::as_str)
            .unwrap_or_default();
        finding(
            ctx,
            CheckId::SpfSyntax,
            Status::Fail,
            SYNTAX,
            format!(
                "SPF policy is broken, so receivers get permerror: {at}: {msg}{}",
                if problems.len() > 1 {
                    format!(" (and {} more)", problems.len() - 1)
                } else {
                    String::new()
                }
            ),
            evidence,
        )
    } else if !unknown.is_empty() {
        finding(
            ctx,
            CheckId::SpfSyntax,
            Status::Error,
            SYNTAX,
            format!(
                "could not tell whether the whole SPF policy parses: no answer for {}",
                unknown.join(", ")
            ),
            evidence,
        )
    } else {
        finding(
            ctx,
            CheckId::SpfSyntax,
            Status::Pass,
            SYNTAX,
            "every SPF record in the policy parses",
            evidence,
        )
    }
}

fn all(ctx: &Context<'_>, tree: &SpfTree) -> Finding {
    let mut node = &tree.root;
    let mut chain = vec![node.domain.clone()];
    loop {
        let evidence = Evidence::from(json!({ "chain": chain, "record": node.record() }));
        let Some(record) = parsed(node) else {
            let (status, summary) = match (&node.lookup, &node.error, node.spf_records.len()) {
                (NodeLookup::NotFetched | NodeLookup::Failed { .. }, _, _) => (
                    Status::Error,
                    format!(
                        "could not tell how the policy ends: no answer for {}",
                        node.domain
                    ),
                ),
                (_, Some(e), _) => (
                    Status::Fail,
                    format!(
                        "the SPF record of {} does not parse ({e}), so its `all` is never applied",
                        node.domain
                    ),
                ),
                _ if node.loop_to.is_some() => (
                    Status::Fail,
                    format!("the redirect chain loops back to {}", node.domain),
                ),
                (_, None, n) => (
                    Status::Fail,
                    format!(
                        "redirect target {} has {n} SPF records, so the policy ends in permerror",
                        node.domain
                    ),
                ),
            };
            return finding(ctx, CheckId::SpfAll, status, ALL, summary, evidence);
        };
        if let Some(d) = record.all() {
            let term = record.raw.get(d.span.start..d.span.end).unwrap_or("all");
            let (status, summary) = match d.qualifier {
                Qualifier::Fail => (
                    Status::Pass,
                    format!("policy ends in `{term}`: other senders fail"),
                ),
                Qualifier::SoftFail => (
                    Status::Pass,
                    format!("policy ends in `{term}`: other senders soft-fail"),
                ),
                Qualifier::Neutral => (
                    Status::Fail,
                    format!("policy ends in `{term}`: it makes no claim about other senders"),
                ),
                Qualifier::Pass => (
                    Status::Fail,
                    format!("policy ends in `{term}`: it authorises every server on the Internet"),
                ),
            };
            let mut f = finding(ctx, CheckId::SpfAll, status, ALL, summary, evidence);
            if d.qualifier == Qualifier::Pass {
                f.severity = f.severity.raised();
            }
            return f;
        }
        if record.redirect().is_none() {
            return finding(
                ctx,
                CheckId::SpfAll,
                Status::Fail,
                ALL,
                "policy has neither `all` nor `redirect`: unlisted senders get neutral",
                evidence,
            );
        }
        match node.children.iter().rev().find(|c| c.via == Via::Redirect) {
            Some(next) => {
                node = next;
                chain.push(node.domain.clone());
            }
            None => {
                return finding(
                    ctx,
                    CheckId::SpfAll,
                    Status::Error,
                    ALL,
                    "could not tell how the policy ends: its redirect depends on the sender",
                    evidence,
                );
            }
        }
    }
}

fn lookups(ctx: &Context<'_>, tree: &SpfTree, tree_json: &Value) -> Finding {
    let n = tree.total_lookups;
    let unknown = unknown_nodes(tree);
    let unresolvable: Vec<&String> = tree
        .nodes()
        .into_iter()
        .flat_map(|n| n.unresolvable.iter())
        .collect();
    let evidence = with_tree(
        json!({
            "total": n, "limit": MAX_LOOKUPS, "unknown": unknown,
            "not_followed": unresolvable,
        }),
        tree_json,
    );
    // RFC 7208 §4.6.4: one `mx` term may look up the addresses of at most 10 exchanges.
    let mx_over: Vec<String> = tree
        .nodes()
        .into_iter()
        .flat_map(|node| {
            node.address_lookups.iter().filter_map(move |a| {
                let count = a.mx_count.filter(|c| *c > MAX_MX_ADDRESS_LOOKUPS)?;
                Some(format!(
                    "`{}` in {} names {count} mail servers",
                    a.term, node.domain
                ))
            })
        })
        .collect();
    let (status, summary) = if !mx_over.is_empty() {
        (
            Status::Fail,
            format!(
                "{}: an mx term may look up at most {MAX_MX_ADDRESS_LOOKUPS} of them (RFC 7208 §4.6.4), so it is a permerror and receivers treat the SPF record as broken",
                mx_over.join("; ")
            ),
        )
    } else if n > MAX_LOOKUPS {
        (
            Status::Fail,
            format!(
                "SPF needs {n}{} DNS lookups, over the limit of {MAX_LOOKUPS}: mail from senders listed past the limit gets permerror",
                if unknown.is_empty() { "" } else { " or more" }
            ),
        )
    } else if !unknown.is_empty() {
        (
            Status::Error,
            format!(
                "could not tell: SPF needs at least {n} DNS lookups, but {} could not be looked up",
                unknown.join(", ")
            ),
        )
    } else if n == MAX_LOOKUPS {
        // Allowed (§4.6.4 counts "more than 10" as the error), but with no room left.
        (
            Status::Pass,
            format!(
                "SPF needs {n} of at most {MAX_LOOKUPS} DNS lookups: allowed, with no room left, so one more include breaks it"
            ),
        )
    } else {
        (
            Status::Pass,
            format!("SPF needs {n} of at most {MAX_LOOKUPS} DNS lookups"),
        )
    };
    finding(ctx, CheckId::SpfLookups, status, LOOKUPS, summary, evidence)
}

fn void_lookups(ctx: &Context<'_>, tree: &SpfTree, tree_json: &Value) -> Finding {
    let n = tree.total_void_lookups;
    let voids: Vec<Value> = tree
        .nodes()
        .into_iter()
        .flat_map(|node| {
            node.void_lookups
                .iter()
                .map(move |v| json!({ "in": node.domain, "term": v.term, "name": v.name, "rtype": v.rtype }))
        })
        .collect();
    let mut unknown = unknown_nodes(tree);
    for node in tree.nodes() {
        for a in &node.address_lookups {
            if a.state == "failed" || a.state == "not_fetched" {
                unknown.push(format!("{} {}", a.name, a.rtype));
            }
        }
    }
    let names: Vec<&str> = voids
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let evidence = with_tree(
        json!({ "total": n, "limit": MAX_VOID, "void": voids, "unknown": unknown }),
        tree_json,
    );
    let (status, summary) = if n > MAX_VOID {
        (
            Status::Fail,
            format!(
                "{n} SPF terms name domains that do not exist or have no records ({}); over {MAX_VOID}, receivers return permerror",
                names.join(", ")
            ),
        )
    } else if !unknown.is_empty() {
        (
            Status::Error,
            format!(
                "could not tell whether SPF has too many void lookups: {n} so far, no answer for {}",
                unknown.join(", ")
            ),
        )
    } else if n > 0 {
        (
            Status::Warn,
            format!(
                "SPF names {} that do not exist or have no records: remove the stale terms",
                names.join(", ")
            ),
        )
    } else {
        (Status::Pass, "every domain SPF names exists".to_owned())
    };
    finding(
        ctx,
        CheckId::SpfVoidLookups,
        status,
        VOID,
        summary,
        evidence,
    )
}

fn hygiene(ctx: &Context<'_>, tree: &SpfTree) -> Finding {
    let mut warns: Vec<String> = Vec::new();
    let mut infos: Vec<String> = Vec::new();
    for node in tree.nodes() {
        let d = &node.domain;
        if let Some(raw) = node.record()
            && raw.len() > MAX_RECORD_BYTES
        {
            warns.push(format!(
                "{d}: record is {} bytes, over {MAX_RECORD_BYTES}; some resolvers cannot fetch it over UDP",
                raw.len()
            ));
        }
        if let Some(SpfError::DuplicateModifier { name, .. }) = &node.error {
            warns.push(format!("{d}: `{name}` appears more than once"));
        }
        let Some(record) = parsed(node) else { continue };
        let mut after_all = false;
        for term in &record.terms {
            let text = record
                .raw
                .get(term.span().start..term.span().end)
                .unwrap_or_default();
            match term {
                Term::Directive(dir) => {
                    if after_all {
                        warns.push(format!("{d}: `{text}` comes after `all` and is never used"));
                    }
                    match dir.mechanism {
                        Mechanism::All => after_all = true,
                        Mechanism::Ptr { .. } => warns.push(format!(
                            "{d}: `{text}`: RFC 7208 §5.5 says not to use ptr (slow, and fails when reverse DNS does)"
                        )),
                        Mechanism::Mx { .. } => infos.push(format!(
                            "{d}: `{text}`: mx costs lookups and silently changes meaning when mail hosting moves"
                        )),
                        _ => {}
                    }
                }
                Term::Modifier(_) => {}
            }
        }
        if record.all().is_some() && record.redirect().is_some() {
            warns.push(format!(
                "{d}: has both `all` and `redirect`; the redirect is never followed"
            ));
        }
    }
    let evidence =
        Evidence::from(json!({ "warnings": warns, "notes": infos, "record": tree.root.record() }));
    let (status, summary) = if !warns.is_empty() {
        let notes = if infos.is_empty() {
            String::new()
        } else {
            format!(" (and {} note(s) in the evidence)", infos.len())
        };
        (Status::Warn, format!("{}{notes}", warns.join("; ")))
    } else if !infos.is_empty() {
        (Status::Info, infos.join("; "))
    } else {
        (Status::Pass, "nothing to tidy in the SPF policy".to_owned())
    };
    finding(ctx, CheckId::SpfHygiene, status, HYGIENE, summary, evidence)
}

fn loops(ctx: &Context<'_>, tree: &SpfTree, tree_json: &Value) -> Finding {
    let looped: Vec<&str> = tree
        .nodes()
        .into_iter()
        .filter_map(|n| n.loop_to.as_deref())
        .collect();
    let unknown = unknown_nodes(tree);
    let evidence = with_tree(json!({ "loops_to": looped, "unknown": unknown }), tree_json);
    let (status, summary) = if !looped.is_empty() {
        (
            Status::Fail,
            format!(
                "SPF include/redirect chain loops back to {}: receivers return permerror",
                looped.join(", ")
            ),
        )
    } else if !unknown.is_empty() {
        (
            Status::Error,
            format!(
                "could not tell whether SPF loops: no answer for {}",
                unknown.join(", ")
            ),
        )
    } else {
        (Status::Pass, "no include or redirect loops".to_owned())
    };
    finding(ctx, CheckId::SpfLoops, status, LOOPS, summary, evidence)
}
