//! The digest: one message per organisation per run, listing every regression due, with
//! the advice in the words of the organisation's size and a link per finding.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ward_advice::advice::advice_for;
use ward_model::{CheckId, Organisation, ScanReport, SizeClass};
use ward_store::AlertEvent;

/// One regression in a digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Item {
    /// The domain.
    pub domain: String,
    /// The check (empty for the whole domain).
    pub check: String,
    /// `worse` or `now_could_not_tell`.
    pub kind: String,
    /// The status now.
    pub status: String,
    /// The severity now.
    pub severity: String,
    /// What changed, in one line.
    pub summary: String,
    /// The change to make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// What to do, for this organisation's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub todo: Option<String>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What one contact is told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digest {
    /// The organisation's id.
    pub organisation_id: String,
    /// Its name.
    pub organisation: String,
    /// Whom the words are for: `small` (volunteers) or `medium` (an IT team).
    pub audience: SizeClass,
    /// The mail's subject.
    pub subject: String,
    /// The regressions.
    pub items: Vec<Item>,
    /// The plain text (the mail's body).
    pub text: String,
}

impl Digest {
    /// The digest of `due` for `org`, with advice filled from the findings of `latest`.
    pub fn build(
        org: &Organisation,
        due: &[AlertEvent],
        latest: &ScanReport,
        link_base: Option<&str>,
        now: OffsetDateTime,
    ) -> Digest {
        let items: Vec<Item> = due
            .iter()
            .map(|e| {
                let e = &e.event;
                let finding = latest
                    .assets
                    .iter()
                    .find(|a| a.domain == e.domain)
                    .and_then(|a| a.findings.iter().find(|f| f.check.as_str() == e.check));
                let advice = CheckId::parse(&e.check).and_then(|c| advice_for(c, org.size));
                let rendered = match (advice, finding) {
                    (Some(a), Some(f)) => Some(a.render(&e.domain, f)),
                    _ => None,
                };
                Item {
                    domain: e.domain.clone(),
                    check: e.check.clone(),
                    kind: e.kind.clone(),
                    status: e.status.clone(),
                    severity: e.severity.clone(),
                    summary: e.summary.clone(),
                    action: rendered.as_ref().map(|r| r.action.to_owned()),
                    todo: rendered.map(|r| r.todo),
                    link: link_base.map(|b| {
                        format!(
                            "{}/org/{}/domain/{}#{}",
                            b.trim_end_matches('/'),
                            org.id,
                            e.domain,
                            e.check
                        )
                    }),
                }
            })
            .collect();
        let n = items.len();
        let subject = format!(
            "ward: {n} thing{} got worse for {}",
            if n == 1 { "" } else { "s" },
            org.name
        );
        let mut text = format!(
            "{}\n\nward compared the scan of {} with the one before it and found {n} \
             problem{} that {} new for {} ({}).\n",
            subject,
            latest.scanned_at.format(&Rfc3339).unwrap_or_default(),
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" },
            org.name,
            org.id,
        );
        for (i, it) in items.iter().enumerate() {
            text.push_str(&format!(
                "\n{}. {} ({}): {}\n",
                i + 1,
                it.domain,
                it.severity,
                it.summary
            ));
            if let Some(a) = &it.action {
                text.push_str(&format!("   {a}.\n"));
            }
            if let Some(t) = &it.todo {
                for line in t.lines() {
                    text.push_str(&format!("   {line}\n"));
                }
            }
            if let Some(l) = &it.link {
                text.push_str(&format!("   More: {l}\n"));
            }
        }
        text.push_str(&format!(
            "\nYou get this because {} lists you as a contact in ward's inventory. \
             Sent {}.\n",
            org.id,
            now.format(&Rfc3339).unwrap_or_default()
        ));
        Digest {
            organisation_id: org.id.clone(),
            organisation: org.name.clone(),
            audience: org.size,
            subject,
            items,
            text,
        }
    }

    /// The webhook's body.
    pub fn json(&self, now: OffsetDateTime) -> serde_json::Value {
        serde_json::json!({
            "ward_alert": 1,
            "sent_at": now.format(&Rfc3339).unwrap_or_default(),
            "organisation": { "id": self.organisation_id, "name": self.organisation },
            "audience": self.audience,
            "subject": self.subject,
            "items": self.items,
        })
    }
}
