//! The advice catalogue: for each check id, what was found, why it matters and what to do,
//! in words for a volunteer-run branch (`small`) and for an IT team (`medium`).
//!
//! The texts live in `advice/<check-id>.toml` beside this crate and are embedded at build
//! time (see `build.rs`, which also refuses unknown or missing keys). Each file has:
//!
//! - `action`: the change to make, as a short imperative ("Publish a DMARC record");
//! - `found`: a template for what the scan saw, with `{domain}`, `{summary}`, `{status}`
//!   and `{evidence.<key>}` filled from the finding;
//! - `why`: why it matters, naming a real incident where one fits;
//! - `small` and `medium`: what to do.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use ward_model::{CheckId, Finding, SizeClass};

include!(concat!(env!("OUT_DIR"), "/advice_files.rs"));

/// One advice file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    action: String,
    found: String,
    why: String,
    small: String,
    medium: String,
}

fn catalogue() -> &'static HashMap<&'static str, Entry> {
    static CATALOGUE: OnceLock<HashMap<&'static str, Entry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        FILES
            .iter()
            .map(|(id, text)| {
                // build.rs has already parsed and checked every file, so this cannot fail
                // unless build.rs and this struct disagree, which the tests catch.
                let entry: Entry =
                    toml::from_str(text).unwrap_or_else(|e| panic!("advice/{id}.toml: {e}"));
                (*id, entry)
            })
            .collect()
    })
}

/// The advice for one check, in the words for one size of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    /// The check id.
    pub check: &'static str,
    /// The change to make, as a short imperative.
    pub action: &'static str,
    /// The template for what was found; fill it with [`Advice::found`].
    pub found_template: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// What to do, for the size asked for.
    pub todo: &'static str,
    /// The size the `todo` text is written for.
    pub size: SizeClass,
}

/// The advice for `check` in the version for `size`, or `None` for a check without advice
/// (the catalogue test keeps that from happening).
pub fn advice_for(check: CheckId, size: SizeClass) -> Option<Advice> {
    let (check, e) = catalogue().get_key_value(check.as_str())?;
    Some(Advice {
        check,
        action: &e.action,
        found_template: &e.found,
        why: &e.why,
        todo: match size {
            SizeClass::Small => &e.small,
            SizeClass::Medium => &e.medium,
        },
        size,
    })
}

/// Every check id that has advice, sorted.
pub fn advised_checks() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = catalogue().keys().copied().collect();
    ids.sort_unstable();
    ids
}

impl Advice {
    /// What was found, with the template filled from `finding` on `domain`.
    pub fn found(&self, domain: &str, finding: &Finding) -> String {
        fill(self.found_template, domain, finding)
    }

    /// Every text of this advice with placeholders filled for `finding` on `domain`.
    pub fn render(&self, domain: &str, finding: &Finding) -> RenderedAdvice {
        RenderedAdvice {
            check: self.check,
            action: self.action,
            found: fill(self.found_template, domain, finding),
            why: fill(self.why, domain, finding),
            todo: fill(self.todo, domain, finding),
        }
    }
}

impl Advice {
    /// What to do, for no one finding: `{domain}` reads `domain` (for example "your
    /// domain") and other placeholders stay as written.
    pub fn todo_for(&self, domain: &str) -> String {
        self.todo.replace("{domain}", domain)
    }
}

/// Advice filled in for one finding, ready to print.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedAdvice {
    /// The check id.
    pub check: &'static str,
    /// The change to make.
    pub action: &'static str,
    /// What was found.
    pub found: String,
    /// Why it matters.
    pub why: String,
    /// What to do.
    pub todo: String,
}

/// The value of placeholder `name`, or `None` when `name` is not a placeholder.
fn placeholder_value(name: &str, domain: &str, finding: &Finding) -> Option<String> {
    if !is_known_placeholder(name) {
        return None;
    }
    Some(match name {
        "domain" => domain.to_owned(),
        "summary" => finding.summary.clone(),
        "status" => finding.status.as_str().to_owned(),
        _ => {
            let key = name.strip_prefix("evidence.").unwrap_or(name);
            match finding.evidence.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => "(not recorded)".to_owned(),
                Some(v) => v.to_string(),
            }
        }
    })
}

/// Fills `{name}` placeholders in `template`. Braces that do not enclose a known
/// placeholder (server configuration such as `server { listen 80; }` or `%{HTTPS}`) are
/// copied as written, and placeholders inside them are still filled.
fn fill(template: &str, domain: &str, finding: &Finding) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after
            .find('}')
            .and_then(|end| Some((end, placeholder_value(&after[..end], domain, finding)?)));
        match value {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names in `template` written like placeholders: `{` then lower-case letters, digits,
/// `_` or `.`, then `}`.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find('}') {
            let name = &after[..end];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            {
                names.push(name);
            }
        }
        rest = after;
    }
    names
}

/// Whether `name` is a placeholder the renderer fills.
pub fn is_known_placeholder(name: &str) -> bool {
    matches!(name, "domain" | "summary" | "status")
        || name.strip_prefix("evidence.").is_some_and(|k| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::{CheckId, Severity, Status};

    fn finding() -> Finding {
        Finding {
            check: CheckId::SpfAll,
            status: Status::Fail,
            severity: Severity::High,
            summary: "ends in +all".into(),
            evidence: serde_json::json!({ "record": "v=spf1 +all", "count": 12 }).into(),
        }
    }

    #[test]
    fn fills_every_kind_of_placeholder() {
        let f = finding();
        assert_eq!(
            fill(
                "{domain}: {summary} [{status}] {evidence.record} / {evidence.count} / {evidence.nope} {other}",
                "example.org",
                &f
            ),
            "example.org: ends in +all [fail] v=spf1 +all / 12 / (not recorded) {other}"
        );
        assert_eq!(fill("no braces {", "d", &f), "no braces {");
        assert_eq!(
            fill("server { name {domain}; } %{HTTPS}", "example.org", &f),
            "server { name example.org; } %{HTTPS}"
        );
    }

    #[test]
    fn catalogue_templates_read_the_evidence() {
        let f = Finding {
            check: CheckId::SpfLookups,
            status: Status::Fail,
            severity: Severity::Medium,
            summary: "12 DNS lookups".into(),
            evidence: serde_json::json!({ "total": 12, "limit": 10 }).into(),
        };
        let a = advice_for(CheckId::SpfLookups, SizeClass::Small).unwrap();
        assert_eq!(
            a.found("example.org", &f),
            "example.org: 12 DNS lookups (12 lookups counted; receivers stop at 10)."
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let text = "action = \"a\"\nfound = \"f\"\nwhy = \"w\"\nsmall = \"s\"\nmedium = \"m\"\nmediun = \"typo\"\n";
        let err = toml::from_str::<Entry>(text).unwrap_err().to_string();
        assert!(err.contains("unknown field `mediun`"), "{err}");
        let ok = toml::from_str::<Entry>(text.rsplit_once("mediun").unwrap().0).unwrap();
        assert_eq!(ok.medium, "m");
    }

    #[test]
    fn unknown_check_has_no_advice() {
        assert_eq!(CheckId::parse("no.such.check"), None);
    }

    #[test]
    fn size_picks_the_version() {
        let small = advice_for(CheckId::SpfAll, SizeClass::Small).unwrap();
        let medium = advice_for(CheckId::SpfAll, SizeClass::Medium).unwrap();
        assert_eq!(small.action, medium.action);
        assert_ne!(small.todo, medium.todo);
        assert_eq!(small.size, SizeClass::Small);
    }
}
