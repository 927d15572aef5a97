//! The inventory file: who the organisations are and which domains each owns.
//!
//! ```toml
//! [[organisation]]
//! id = "hq"
//! name = "Example Party"
//! kind = "party"          # party | region | branch
//! size = "medium"         # small | medium
//!
//! [[organisation.domain]]
//! name = "example-party.org.uk"
//! roles = ["mail", "web"] # mail | web | parked
//! dkim_selectors = ["s1"] # optional: selectors beyond the well-known ones
//!
//! [[organisation]]
//! id = "north"
//! name = "North Region"
//! kind = "region"
//! size = "small"
//! parent = "hq"
//! ```
//!
//! Every mistake is reported with the line and column it is at, because the person
//! fixing it is editing the file by hand.

use crate::{Asset, OrgKind, Organisation, Role, SizeClass};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use toml::Spanned;

/// Most organisations an inventory may hold; a bound on what one file can make ward do.
pub const MAX_ORGANISATIONS: usize = 100_000;
/// Largest inventory file read, in bytes.
pub const MAX_INVENTORY_BYTES: usize = 32 * 1024 * 1024;

/// A mistake in an inventory file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {message}")]
pub struct InventoryError {
    /// The file (or other source) the text came from.
    pub source_name: String,
    /// 1-based line of the mistake.
    pub line: usize,
    /// 1-based column of the mistake.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    organisation: Vec<Spanned<OrgEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgEntry {
    id: Spanned<String>,
    name: String,
    kind: OrgKind,
    size: SizeClass,
    #[serde(default)]
    parent: Option<Spanned<String>>,
    #[serde(default)]
    domain: Vec<DomainEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainEntry {
    name: Spanned<String>,
    roles: Spanned<Vec<Role>>,
    #[serde(default)]
    dkim_selectors: Vec<String>,
}

/// Parses an inventory. `source_name` names the input in errors (usually the path).
pub fn parse(source_name: &str, text: &str) -> Result<Vec<Organisation>, InventoryError> {
    let err_at = |span: Option<Range<usize>>, message: String| {
        let (line, column) = line_col(text, span.map(|s| s.start).unwrap_or(0));
        InventoryError {
            source_name: source_name.to_owned(),
            line,
            column,
            message,
        }
    };
    if text.len() > MAX_INVENTORY_BYTES {
        return Err(err_at(
            None,
            format!("file is larger than {MAX_INVENTORY_BYTES} bytes"),
        ));
    }
    let file: File = toml::from_str(text).map_err(|e| err_at(e.span(), e.message().to_owned()))?;
    if file.organisation.len() > MAX_ORGANISATIONS {
        return Err(err_at(
            None,
            format!("more than {MAX_ORGANISATIONS} organisations"),
        ));
    }

    let mut ids: HashMap<String, OrgKind> = HashMap::new();
    for entry in &file.organisation {
        let org = entry.get_ref();
        let id = org.id.get_ref();
        if !valid_id(id) {
            return Err(err_at(
                Some(org.id.span()),
                format!("organisation id `{id}` must be 1-64 characters of a-z, 0-9, `-` and `_`"),
            ));
        }
        if ids.insert(id.clone(), org.kind).is_some() {
            return Err(err_at(
                Some(org.id.span()),
                format!("organisation id `{id}` is used twice"),
            ));
        }
    }

    let mut seen_domains: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(file.organisation.len());
    for entry in file.organisation {
        let org = entry.into_inner();
        match (&org.parent, org.kind) {
            (Some(p), OrgKind::Party) => {
                return Err(err_at(
                    Some(p.span()),
                    "a party is the top of the tree and cannot have a parent".into(),
                ));
            }
            (Some(p), _) if !ids.contains_key(p.get_ref()) => {
                return Err(err_at(
                    Some(p.span()),
                    format!(
                        "parent `{}` is not the id of any organisation in this file",
                        p.get_ref()
                    ),
                ));
            }
            (Some(p), _) if p.get_ref() == org.id.get_ref() => {
                return Err(err_at(
                    Some(p.span()),
                    "an organisation cannot be its own parent".into(),
                ));
            }
            _ => {}
        }
        let mut assets = Vec::with_capacity(org.domain.len());
        for d in org.domain {
            let name =
                normalise_domain(d.name.get_ref()).map_err(|m| err_at(Some(d.name.span()), m))?;
            if !seen_domains.insert(name.clone()) {
                return Err(err_at(
                    Some(d.name.span()),
                    format!("domain `{name}` is listed twice"),
                ));
            }
            let roles_span = d.roles.span();
            let mut roles = d.roles.into_inner();
            if roles.is_empty() {
                return Err(err_at(
                    Some(roles_span),
                    "give at least one role: \"mail\", \"web\" or \"parked\"".into(),
                ));
            }
            roles.sort();
            roles.dedup();
            if roles.contains(&Role::Parked) && roles.len() > 1 {
                return Err(err_at(
                    Some(roles_span),
                    "a parked domain sends no mail and serves no site: \"parked\" goes alone"
                        .into(),
                ));
            }
            assets.push(Asset {
                domain: name,
                roles,
                dkim_selectors: d.dkim_selectors,
                reported_dkim_selectors: Vec::new(),
            });
        }
        out.push(Organisation {
            id: org.id.into_inner(),
            name: org.name,
            kind: org.kind,
            size: org.size,
            parent: org.parent.map(Spanned::into_inner),
            assets,
        });
    }
    check_acyclic(&out).map_err(|m| err_at(None, m))?;
    Ok(out)
}

fn check_acyclic(orgs: &[Organisation]) -> Result<(), String> {
    let parent: HashMap<&str, Option<&str>> = orgs
        .iter()
        .map(|o| (o.id.as_str(), o.parent.as_deref()))
        .collect();
    for o in orgs {
        let mut at = o.parent.as_deref();
        let mut steps = 0;
        while let Some(p) = at {
            steps += 1;
            if p == o.id || steps > orgs.len() {
                return Err(format!(
                    "organisation `{}` is its own ancestor (a loop of parents)",
                    o.id
                ));
            }
            at = parent.get(p).copied().flatten();
        }
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Lower-cases a domain name, drops one trailing dot and checks its syntax
/// (LDH labels of 1-63 characters, at most 253 in all, at least two labels).
pub fn normalise_domain(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| Err(format!("`{raw}` is not a domain name: {why}"));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 253 {
        return bad("longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return bad("it needs at least two labels, like example.org");
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return bad("each label must be 1-63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(
                "only letters, digits, `-` and `_` may appear (use the xn-- form for others)",
            );
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label cannot start or end with `-`");
        }
    }
    Ok(name)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[organisation]]
id = "hq"
name = "Example Party"
kind = "party"
size = "medium"

[[organisation.domain]]
name = "Example-Party.org.uk."
roles = ["web", "mail"]

[[organisation]]
id = "north"
name = "North"
kind = "region"
size = "small"
parent = "hq"
"#;

    #[test]
    fn parses_tree_and_normalises_domains() {
        let orgs = parse("inv.toml", GOOD).unwrap();
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs[0].assets[0].domain, "example-party.org.uk");
        assert_eq!(orgs[0].assets[0].roles, vec![Role::Mail, Role::Web]);
        assert_eq!(orgs[1].parent.as_deref(), Some("hq"));
    }

    #[test]
    fn unknown_parent_names_line_and_column() {
        let text = GOOD.replace("parent = \"hq\"", "parent = \"hqq\"");
        let err = parse("inv.toml", &text).unwrap_err();
        assert_eq!((err.line, err.column), (17, 10));
        assert!(err.message.contains("`hqq` is not the id"), "{err}");
    }

    #[test]
    fn typo_in_key_is_rejected_with_position() {
        let text = GOOD.replace("size = \"small\"", "sise = \"small\"");
        let err = parse("inv.toml", &text).unwrap_err();
        assert_eq!((err.line, err.column), (16, 1), "{err}");
        assert!(err.message.contains("sise"), "{err}");
    }

    #[test]
    fn bad_role_and_bad_domain_are_located() {
        let err = parse(
            "x",
            &GOOD.replace("\"web\", \"mail\"", "\"web\", \"email\""),
        )
        .unwrap_err();
        assert_eq!(err.line, 10, "{err}");
        let err = parse("x", &GOOD.replace("Example-Party.org.uk.", "bad domain")).unwrap_err();
        assert_eq!((err.line, err.column), (9, 8), "{err}");
    }

    #[test]
    fn duplicate_ids_and_parent_loops_are_refused() {
        let dup = GOOD.replace("id = \"north\"", "id = \"hq\"");
        assert!(parse("x", &dup).unwrap_err().message.contains("used twice"));
        let looped = format!(
            "{GOOD}\n[[organisation]]\nid = \"a\"\nname = \"A\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"b\"\n\n[[organisation]]\nid = \"b\"\nname = \"B\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"a\"\n"
        );
        assert!(
            parse("x", &looped)
                .unwrap_err()
                .message
                .contains("own ancestor")
        );
    }
}
