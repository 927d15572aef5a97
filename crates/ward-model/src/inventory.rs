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
//! An organisation may name contacts, who hear about regressions (`ward alert`):
//!
//! ```toml
//! [[organisation.contact]]
//! email = "it@example-party.org.uk"     # mail, and/or:
//! webhook = "https://hooks.example/ward"  # a signed JSON POST
//! webhook_secret_env = "WARD_HOOK_KEY"  # the HMAC key: this variable, or webhook_secret = "…"
//! min_severity = "high"                 # low | medium | high | critical (default medium)
//! quiet_hours = "22:00-07:00"           # UTC, or "22:00-07:00+01:00"; held, not lost
//! ```
//!
//! and how often `ward monitor` looks at it and everything below it (each value left
//! out is inherited from the organisation above, and at the top from the monitor's
//! flags: daily, weekly, 30 days):
//!
//! ```toml
//! [organisation.schedule]
//! every = "1d"            # DNS and mail records
//! servers_every = "7d"    # TLS, STARTTLS and HTTP of its web and mail servers
//! certs_within = "30d"    # servers at every look while a certificate expires this soon
//! ```
//!
//! Every mistake is reported with the line and column it is at, because the person
//! fixing it is editing the file by hand.

use crate::contact::{Contact, QuietHours, Secret, Webhook, default_min_severity};
use crate::schedule::{ScheduleSetting, parse_duration};
use crate::{Asset, OrgKind, Organisation, Role, Severity, SizeClass};
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
    #[serde(default)]
    contact: Vec<Spanned<ContactEntry>>,
    #[serde(default)]
    schedule: Option<Spanned<ScheduleEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleEntry {
    #[serde(default)]
    every: Option<Spanned<String>>,
    #[serde(default)]
    servers_every: Option<Spanned<String>>,
    #[serde(default)]
    certs_within: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactEntry {
    #[serde(default)]
    email: Option<Spanned<String>>,
    #[serde(default)]
    webhook: Option<Spanned<String>>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    webhook_secret_env: Option<String>,
    #[serde(default)]
    min_severity: Option<Spanned<String>>,
    #[serde(default)]
    quiet_hours: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainEntry {
    name: Spanned<String>,
    roles: Spanned<Vec<Role>>,
    #[serde(default)]
    dkim_selectors: Vec<String>,
}

/// Everything an inventory says.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The organisations, in file order.
    pub organisations: Vec<Organisation>,
    /// The contacts of each organisation that names any, by organisation id.
    pub contacts: Vec<(String, Vec<Contact>)>,
    /// The schedule of each organisation that sets one, by organisation id.
    pub schedules: Vec<(String, ScheduleSetting)>,
}

/// Parses an inventory. `source_name` names the input in errors (usually the path).
pub fn parse(source_name: &str, text: &str) -> Result<Vec<Organisation>, InventoryError> {
    read(source_name, text).map(|i| i.organisations)
}

/// The contacts of each organisation that names any, by organisation id, in file order.
/// The file is checked as [`parse`] checks it.
pub fn contacts(
    source_name: &str,
    text: &str,
) -> Result<Vec<(String, Vec<Contact>)>, InventoryError> {
    read(source_name, text).map(|i| i.contacts)
}

/// Parses an inventory with its contacts and schedules, checked as [`parse`] checks it.
pub fn read(source_name: &str, text: &str) -> Result<Inventory, InventoryError> {
    parse_all(source_name, text)
}

fn parse_all(source_name: &str, text: &str) -> Result<Inventory, InventoryError> {
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
    let mut all_contacts = Vec::new();
    let mut schedules = Vec::new();
    for entry in file.organisation {
        let org = entry.into_inner();
        if let Some(sched) = org.schedule {
            let span = sched.span();
            let setting = schedule(sched.into_inner())
                .map_err(|(at, m)| err_at(Some(at.unwrap_or(span)), m))?;
            schedules.push((org.id.get_ref().clone(), setting));
        }
        let mut contacts = Vec::with_capacity(org.contact.len());
        for c in org.contact {
            let span = c.span();
            contacts.push(
                contact(c.into_inner()).map_err(|(at, m)| err_at(Some(at.unwrap_or(span)), m))?,
            );
        }
        if !contacts.is_empty() {
            all_contacts.push((org.id.get_ref().clone(), contacts));
        }
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
    Ok(Inventory {
        organisations: out,
        contacts: all_contacts,
        schedules,
    })
}

/// Checks one `[organisation.schedule]`.
fn schedule(e: ScheduleEntry) -> Result<ScheduleSetting, (Option<Range<usize>>, String)> {
    let read = |v: Option<Spanned<String>>,
                key: &str|
     -> Result<_, (Option<Range<usize>>, String)> {
        let Some(v) = v else { return Ok(None) };
        let d = parse_duration(v.get_ref()).map_err(|m| (Some(v.span()), format!("{key}: {m}")))?;
        if d < std::time::Duration::from_secs(1) && key != "certs_within" {
            return Err((Some(v.span()), format!("{key}: at least 1s")));
        }
        Ok(Some(d))
    };
    Ok(ScheduleSetting {
        every: read(e.every, "every")?,
        servers_every: read(e.servers_every, "servers_every")?,
        certs_within: read(e.certs_within, "certs_within")?,
    })
}

/// Checks one `[[organisation.contact]]`; an error carries the span of the bad value
/// (none: the whole table).
fn contact(c: ContactEntry) -> Result<Contact, (Option<Range<usize>>, String)> {
    let email = match c.email {
        Some(e) => {
            let v = e.get_ref().trim();
            let ok = v.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && normalise_domain(d).is_ok() && !v.contains(char::is_whitespace)
            });
            if !ok {
                return Err((
                    Some(e.span()),
                    format!("email `{v}` is not a mail address like it@example.org"),
                ));
            }
            Some(v.to_owned())
        }
        None => None,
    };
    let webhook = match c.webhook {
        Some(w) => {
            let url = w.get_ref().trim();
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err((
                    Some(w.span()),
                    format!("webhook `{url}` must be an http:// or https:// URL with a host"),
                ));
            }
            let secret = match (c.webhook_secret, c.webhook_secret_env) {
                (Some(v), None) if !v.is_empty() => Secret::Value(v),
                (None, Some(e)) if !e.is_empty() => Secret::Env(e),
                (Some(_), Some(_)) => {
                    return Err((
                        Some(w.span()),
                        "give webhook_secret or webhook_secret_env, not both".into(),
                    ));
                }
                _ => {
                    return Err((
                        Some(w.span()),
                        "a webhook needs a signing key: webhook_secret_env = \"VARIABLE\" (or webhook_secret = \"…\")".into(),
                    ));
                }
            };
            Some(Webhook {
                url: url.to_owned(),
                secret,
            })
        }
        None if c.webhook_secret.is_some() || c.webhook_secret_env.is_some() => {
            return Err((None, "a webhook secret without a webhook = \"URL\"".into()));
        }
        None => None,
    };
    if email.is_none() && webhook.is_none() {
        return Err((
            None,
            "a contact needs email = \"…\" or webhook = \"…\" (or both)".into(),
        ));
    }
    let min_severity = match c.min_severity {
        Some(s) => match s.get_ref().parse::<Severity>() {
            Ok(Severity::None) | Err(_) => {
                return Err((
                    Some(s.span()),
                    format!(
                        "min_severity `{}`: give low, medium, high or critical",
                        s.get_ref()
                    ),
                ));
            }
            Ok(v) => v,
        },
        None => default_min_severity(),
    };
    let quiet_hours = match c.quiet_hours {
        Some(q) => Some(QuietHours::parse(q.get_ref()).map_err(|m| (Some(q.span()), m))?),
        None => None,
    };
    Ok(Contact {
        email,
        webhook,
        min_severity,
        quiet_hours,
    })
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

    #[test]
    fn schedules_are_read_and_bad_ones_named() {
        let text = r#"
[[organisation]]
id = "hq"
name = "Example Party"
kind = "party"
size = "medium"

[organisation.schedule]
every = "12h"
certs_within = "21d"

[[organisation]]
id = "north"
name = "North"
kind = "region"
size = "small"
parent = "hq"
"#;
        let inv = read("inv.toml", text).unwrap();
        assert_eq!(inv.organisations.len(), 2);
        assert_eq!(
            inv.schedules,
            vec![(
                "hq".to_owned(),
                ScheduleSetting {
                    every: Some(std::time::Duration::from_secs(43_200)),
                    servers_every: None,
                    certs_within: Some(std::time::Duration::from_secs(21 * 86_400)),
                }
            )]
        );
        let err = read("inv.toml", &text.replace("\"12h\"", "\"often\"")).unwrap_err();
        assert_eq!((err.line, err.column), (9, 9), "{err}");
        assert!(err.message.starts_with("every: "), "{err}");
        let err = read("inv.toml", &text.replace("every = ", "hourly = ")).unwrap_err();
        assert!(err.message.contains("unknown field `hourly`"), "{err}");
    }

    const CONTACTED: &str = r#"
[[organisation]]
id = "hq"
name = "Example Party"
kind = "party"
size = "medium"

[[organisation.contact]]
email = "it@example.org"
min_severity = "high"
quiet_hours = "22:00-07:00+01:00"

[[organisation.contact]]
webhook = "https://hooks.example.org/ward"
webhook_secret_env = "HOOK_KEY"
"#;

    #[test]
    fn contacts_are_read_with_their_defaults() {
        let c = contacts("x", CONTACTED).unwrap();
        assert_eq!(c.len(), 1);
        let (org, list) = &c[0];
        assert_eq!(org, "hq");
        assert_eq!(list[0].email.as_deref(), Some("it@example.org"));
        assert_eq!(list[0].min_severity, Severity::High);
        assert!(list[0].quiet_hours.is_some());
        assert_eq!(list[1].min_severity, Severity::Medium);
        assert_eq!(
            list[1].webhook,
            Some(Webhook {
                url: "https://hooks.example.org/ward".into(),
                secret: Secret::Env("HOOK_KEY".into()),
            })
        );
        // The scan's parser accepts the same file.
        assert_eq!(parse("x", CONTACTED).unwrap().len(), 1);
    }

    #[test]
    fn bad_contact_values_name_their_line() {
        let err = parse("x", &CONTACTED.replace("\"high\"", "\"urgent\"")).unwrap_err();
        assert_eq!(err.line, 10, "{err}");
        assert!(
            err.message.contains("low, medium, high or critical"),
            "{err}"
        );
        let err = parse("x", &CONTACTED.replace("22:00-07:00", "22-07")).unwrap_err();
        assert_eq!(err.line, 11, "{err}");
        let err = parse("x", &CONTACTED.replace("it@example.org", "nobody")).unwrap_err();
        assert_eq!(err.line, 9, "{err}");
        let err = parse(
            "x",
            &CONTACTED.replace("webhook_secret_env = \"HOOK_KEY\"\n", ""),
        )
        .unwrap_err();
        assert_eq!(err.line, 14, "{err}");
        assert!(err.message.contains("signing key"), "{err}");
        let err = parse(
            "x",
            &CONTACTED
                .replace("emial", "x")
                .replace("email =", "emial ="),
        )
        .unwrap_err();
        assert!(err.message.contains("emial"), "{err}");
    }
}
