//! Analysis of stored reports: volume, pass and alignment rates, sending sources, DKIM
//! selectors, TLS failures, the DMARC phase of each domain, and the findings
//! `reports.unauthenticated_sources` and `reports.tls_failures`.
//!
//! Everything here is pure. The store sums the rows ([`ReportData`]); the caller
//! supplies reverse names it looked up (or none, offline); [`summarise`] and the
//! finding functions only compute.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use ward_model::{CheckId, Finding, Severity, Status};

pub use ward_model::report_rows::{
    PolicySeen, ReportData, SelectorVolume, SourceVolume, TlsFailureVolume, TlsPolicyVolume,
};

/// The phase the reports show: [`ward_model::DmarcPhase`], the same four steps the DMARC
/// checks decide from the published record, here read from what receivers saw.
pub use ward_model::DmarcPhase as Phase;

/// Pass rate from which a monitoring domain is ready to enforce: 0.95.
pub const DEPLOY_PASS_RATE: f64 = 0.95;
/// Pass rate from which a rejecting domain is in maintenance: 0.98.
pub const MAINTAIN_PASS_RATE: f64 = 0.98;
/// A failing source counts as an unauthenticated sender when it sent more than this
/// many failing messages...
pub const SOURCE_MIN_MESSAGES: u64 = 10;
/// ...and more than this share of the domain's mail (NCSC Mail Check's threshold).
pub const SOURCE_MIN_SHARE: f64 = 0.01;

/// The phase of a domain from the newest policy seen and its pass rate:
///
/// - `assess`: `p=none` and less than [`DEPLOY_PASS_RATE`] of mail passes, still finding
///   out who sends as the domain;
/// - `deploy`: `p=none` with nearly all mail passing (ready to enforce), or an enforcing
///   policy only partly applied (`pct` below 100, or `t=y`);
/// - `enforce`: `p=quarantine` in full, or `p=reject` while less than
///   [`MAINTAIN_PASS_RATE`] of mail passes;
/// - `maintain`: `p=reject` in full, and at least [`MAINTAIN_PASS_RATE`] of mail passes.
pub fn phase(policy: Option<&PolicySeen>, messages: u64, dmarc_pass: u64) -> Phase {
    let rate = ratio(dmarc_pass, messages);
    let Some(policy) = policy else {
        return Phase::Assess;
    };
    let full = policy.pct.unwrap_or(100) >= 100 && !policy.testing;
    match policy.p.as_deref() {
        Some("reject") if full && rate >= MAINTAIN_PASS_RATE => Phase::Maintain,
        Some("reject" | "quarantine") if full => Phase::Enforce,
        Some("reject" | "quarantine") => Phase::Deploy,
        _ if messages > 0 && rate >= DEPLOY_PASS_RATE => Phase::Deploy,
        _ => Phase::Assess,
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// One sending source of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// Address.
    pub ip: IpAddr,
    /// Reverse name, when looked up and found.
    pub reverse_name: Option<String>,
    /// The service the reverse name belongs to, when known ([`service_for`]).
    pub service: Option<String>,
    /// Messages.
    pub messages: u64,
    /// Messages that passed DMARC (aligned SPF or aligned DKIM).
    pub dmarc_pass: u64,
    /// Messages with aligned SPF pass.
    pub spf_aligned: u64,
    /// Messages with aligned DKIM pass.
    pub dkim_aligned: u64,
}

impl SourceSummary {
    /// Messages that failed DMARC.
    pub fn failing(&self) -> u64 {
        self.messages.saturating_sub(self.dmarc_pass)
    }
}

/// A DKIM selector seen for a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorSummary {
    /// The signature's `d=`.
    pub dkim_domain: String,
    /// The selector.
    pub selector: String,
    /// Messages signed with it.
    pub messages: u64,
    /// Of which the signature verified.
    pub pass: u64,
}

/// The aggregate-report picture of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSummary {
    /// Domain.
    pub domain: String,
    /// Messages reported.
    pub messages: u64,
    /// Messages that passed DMARC.
    pub dmarc_pass: u64,
    /// Messages with aligned SPF pass.
    pub spf_aligned: u64,
    /// Messages with aligned DKIM pass.
    pub dkim_aligned: u64,
    /// `dmarc_pass / messages` (0 when there are none).
    pub dmarc_pass_rate: f64,
    /// `spf_aligned / messages`.
    pub spf_alignment_rate: f64,
    /// `dkim_aligned / messages`.
    pub dkim_alignment_rate: f64,
    /// The newest policy seen.
    pub policy: Option<PolicySeen>,
    /// Where the domain stands.
    pub phase: Phase,
    /// Sending sources, most messages first.
    pub sources: Vec<SourceSummary>,
    /// DKIM selectors seen, by `d=` then selector.
    pub selectors: Vec<SelectorSummary>,
}

impl DomainSummary {
    /// Sources with at least one message failing DMARC, most failing first.
    pub fn failing_sources(&self) -> Vec<&SourceSummary> {
        let mut v: Vec<&SourceSummary> = self.sources.iter().filter(|s| s.failing() > 0).collect();
        v.sort_by(|a, b| b.failing().cmp(&a.failing()).then(a.ip.cmp(&b.ip)));
        v
    }
}

/// Failed TLS sessions of one kind at one MX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFailureSummary {
    /// MX host (or address).
    pub mx: String,
    /// RFC 8460 result type.
    pub result_type: String,
    /// Failed sessions.
    pub sessions: u64,
}

/// The TLS-report picture of one policy domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsDomainSummary {
    /// Policy domain.
    pub domain: String,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
    /// Failures by MX and type, by MX then most sessions first.
    pub failures: Vec<TlsFailureSummary>,
}

/// Everything `ward reports summary` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Aggregate reports counted.
    pub aggregate_reports: u64,
    /// Failure reports counted.
    pub failure_reports: u64,
    /// TLS reports counted.
    pub tls_reports: u64,
    /// One entry per domain with aggregate data, by name.
    pub domains: Vec<DomainSummary>,
    /// One entry per TLS policy domain, by name.
    pub tls: Vec<TlsDomainSummary>,
    /// The findings.
    pub findings: Vec<DomainFinding>,
}

impl Summary {
    /// The findings about `domain` (`reports.unauthenticated_sources` when its aggregate
    /// reports have data, `reports.tls_failures` when its TLS reports do).
    pub fn findings_for(&self, domain: &str) -> Vec<Finding> {
        self.findings
            .iter()
            .filter(|f| f.domain == domain)
            .map(|f| f.finding.clone())
            .collect()
    }
}

/// Most selectors [`verified_selectors`] gives for one domain.
pub const MAX_REPORTED_SELECTORS: usize = 10;

/// The DKIM selectors that verified mail signed by each domain (`d=`), busiest first, at
/// most [`MAX_REPORTED_SELECTORS`] per domain: what the DKIM check should ask about
/// besides its built-in list. Selectors seen only failing are left out, since anyone can
/// put any selector in a forged signature.
pub fn verified_selectors(data: &ReportData) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for v in data.selectors.iter().filter(|v| v.result == "pass") {
        let e = by
            .entry(v.dkim_domain.as_str())
            .or_default()
            .entry(v.selector.as_str())
            .or_default();
        *e = e.saturating_add(v.count);
    }
    by.into_iter()
        .filter(|(d, _)| !d.is_empty())
        .map(|(d, sels)| {
            let mut v: Vec<(&str, u64)> = sels.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let v = v
                .into_iter()
                .take(MAX_REPORTED_SELECTORS)
                .map(|(s, _)| s.to_owned())
                .collect();
            (d.to_owned(), v)
        })
        .collect()
}

/// The check ids the analysis emits.
pub const CHECKS: &[CheckId] = &[
    CheckId::ReportsUnauthenticatedSources,
    CheckId::ReportsTlsFailures,
];

/// A finding and the domain it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFinding {
    /// Domain.
    pub domain: String,
    /// The finding.
    pub finding: Finding,
}

/// Reverse-name suffixes of sending services; the first match wins.
const SERVICES: &[(&str, &str)] = &[
    ("outlook.com", "Microsoft 365"),
    ("protection.outlook.com", "Microsoft 365"),
    ("google.com", "Google"),
    ("googlemail.com", "Google"),
    ("mcsv.net", "Mailchimp"),
    ("mcdlv.net", "Mailchimp"),
    ("rsgsv.net", "Mailchimp"),
    ("mandrillapp.com", "Mailchimp (Mandrill)"),
    ("sendgrid.net", "SendGrid"),
    ("mailgun.net", "Mailgun"),
    ("mailgun.org", "Mailgun"),
    ("amazonses.com", "Amazon SES"),
    ("sparkpostmail.com", "SparkPost"),
    ("mailjet.com", "Mailjet"),
    ("sendinblue.com", "Brevo"),
    ("brevo.com", "Brevo"),
    ("zoho.com", "Zoho Mail"),
    ("zohomail.com", "Zoho Mail"),
    ("messagelabs.com", "Broadcom Email Security"),
    ("pphosted.com", "Proofpoint"),
    ("mimecast.com", "Mimecast"),
    ("createsend.com", "Campaign Monitor"),
    ("postmarkapp.com", "Postmark"),
    ("yahoo.com", "Yahoo"),
    ("fastmail.com", "Fastmail"),
    ("messagingengine.com", "Fastmail"),
];

/// The service a reverse name belongs to, from a small built-in table of suffixes
/// (`mail-eopbgr.outbound.protection.outlook.com` → Microsoft 365). The match is on
/// whole labels: `notoutlook.com` is no match.
pub fn service_for(reverse_name: &str) -> Option<&'static str> {
    let name = reverse_name.trim_end_matches('.').to_ascii_lowercase();
    SERVICES.iter().find_map(|(suffix, service)| {
        let hit = name == *suffix
            || name
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'));
        hit.then_some(*service)
    })
}

/// The distinct source addresses of `data`, most messages first (the order in which to
/// spend a budget of reverse lookups).
pub fn source_addresses(data: &ReportData) -> Vec<IpAddr> {
    let mut by_ip: BTreeMap<IpAddr, u64> = BTreeMap::new();
    for s in &data.sources {
        let e = by_ip.entry(s.source_ip).or_default();
        *e = e.saturating_add(s.count);
    }
    let mut v: Vec<(IpAddr, u64)> = by_ip.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(ip, _)| ip).collect()
}

/// Builds the summary. `reverse_names` holds the names found for source addresses
/// (empty when offline).
pub fn summarise(data: &ReportData, reverse_names: &BTreeMap<IpAddr, String>) -> Summary {
    let mut domains: BTreeMap<&str, BTreeMap<IpAddr, SourceSummary>> = BTreeMap::new();
    for s in &data.sources {
        let e = domains
            .entry(s.domain.as_str())
            .or_default()
            .entry(s.source_ip)
            .or_insert_with(|| {
                let reverse_name = reverse_names.get(&s.source_ip).cloned();
                SourceSummary {
                    ip: s.source_ip,
                    service: reverse_name
                        .as_deref()
                        .and_then(service_for)
                        .map(str::to_owned),
                    reverse_name,
                    messages: 0,
                    dmarc_pass: 0,
                    spf_aligned: 0,
                    dkim_aligned: 0,
                }
            });
        e.messages = e.messages.saturating_add(s.count);
        if s.dkim_aligned || s.spf_aligned {
            e.dmarc_pass = e.dmarc_pass.saturating_add(s.count);
        }
        if s.spf_aligned {
            e.spf_aligned = e.spf_aligned.saturating_add(s.count);
        }
        if s.dkim_aligned {
            e.dkim_aligned = e.dkim_aligned.saturating_add(s.count);
        }
    }
    // Domains with a policy but no rows still get an entry.
    for p in &data.policies {
        domains.entry(p.domain.as_str()).or_default();
    }
    let mut out_domains = Vec::new();
    for (domain, sources) in domains {
        let mut sources: Vec<SourceSummary> = sources.into_values().collect();
        sources.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.ip.cmp(&b.ip)));
        let sum = |f: fn(&SourceSummary) -> u64| {
            sources.iter().map(f).fold(0u64, |a, b| a.saturating_add(b))
        };
        let messages = sum(|s| s.messages);
        let dmarc_pass = sum(|s| s.dmarc_pass);
        let spf_aligned = sum(|s| s.spf_aligned);
        let dkim_aligned = sum(|s| s.dkim_aligned);
        let policy = data.policies.iter().find(|p| p.domain == domain).cloned();
        let mut selectors: BTreeMap<(&str, &str), SelectorSummary> = BTreeMap::new();
        for v in data.selectors.iter().filter(|v| v.domain == domain) {
            let e = selectors
                .entry((v.dkim_domain.as_str(), v.selector.as_str()))
                .or_insert_with(|| SelectorSummary {
                    dkim_domain: v.dkim_domain.clone(),
                    selector: v.selector.clone(),
                    messages: 0,
                    pass: 0,
                });
            e.messages = e.messages.saturating_add(v.count);
            if v.result == "pass" {
                e.pass = e.pass.saturating_add(v.count);
            }
        }
        out_domains.push(DomainSummary {
            domain: domain.to_owned(),
            messages,
            dmarc_pass,
            spf_aligned,
            dkim_aligned,
            dmarc_pass_rate: ratio(dmarc_pass, messages),
            spf_alignment_rate: ratio(spf_aligned, messages),
            dkim_alignment_rate: ratio(dkim_aligned, messages),
            phase: phase(policy.as_ref(), messages, dmarc_pass),
            policy,
            sources,
            selectors: selectors.into_values().collect(),
        });
    }
    let tls_domains: BTreeSet<&str> = data
        .tls_policies
        .iter()
        .map(|p| p.policy_domain.as_str())
        .chain(data.tls_failures.iter().map(|f| f.policy_domain.as_str()))
        .collect();
    let tls: Vec<TlsDomainSummary> = tls_domains
        .into_iter()
        .map(|d| {
            let (successful, failed) = data
                .tls_policies
                .iter()
                .filter(|p| p.policy_domain == d)
                .fold((0u64, 0u64), |(s, f), p| {
                    (s.saturating_add(p.successful), f.saturating_add(p.failed))
                });
            let mut failures: Vec<TlsFailureSummary> = data
                .tls_failures
                .iter()
                .filter(|f| f.policy_domain == d)
                .map(|f| TlsFailureSummary {
                    mx: f.mx.clone(),
                    result_type: f.result_type.clone(),
                    sessions: f.count,
                })
                .collect();
            failures.sort_by(|a, b| {
                a.mx.cmp(&b.mx)
                    .then(b.sessions.cmp(&a.sessions))
                    .then(a.result_type.cmp(&b.result_type))
            });
            TlsDomainSummary {
                domain: d.to_owned(),
                successful,
                failed,
                failures,
            }
        })
        .collect();
    let mut findings = Vec::new();
    for d in &out_domains {
        findings.push(DomainFinding {
            domain: d.domain.clone(),
            finding: unauthenticated_sources(d),
        });
    }
    for t in &tls {
        findings.push(DomainFinding {
            domain: t.domain.clone(),
            finding: tls_failures(t),
        });
    }
    Summary {
        aggregate_reports: data.aggregate_reports,
        failure_reports: data.failure_reports,
        tls_reports: data.tls_reports,
        domains: out_domains,
        tls,
        findings,
    }
}

fn enforced(policy: Option<&PolicySeen>) -> bool {
    policy.is_some_and(|p| {
        matches!(p.p.as_deref(), Some("reject" | "quarantine"))
            && p.pct.unwrap_or(100) >= 100
            && !p.testing
    })
}

/// `reports.unauthenticated_sources`: sources that send mail as the domain and fail
/// DMARC, counted when one sent more than [`SOURCE_MIN_MESSAGES`] failing messages and
/// more than [`SOURCE_MIN_SHARE`] of the domain's mail.
///
/// * `info`: no messages reported;
/// * `pass`: no source over the threshold;
/// * `warn` (low): some, but the published policy is enforced, so receivers quarantine
///   or reject them; if they are the domain's own services, they lose mail;
/// * `fail` (medium): some, and the policy does not stop them reaching inboxes.
pub fn unauthenticated_sources(d: &DomainSummary) -> Finding {
    let check = CheckId::ReportsUnauthenticatedSources;
    let counted: Vec<&SourceSummary> = d
        .failing_sources()
        .into_iter()
        .filter(|s| {
            s.failing() > SOURCE_MIN_MESSAGES && ratio(s.failing(), d.messages) > SOURCE_MIN_SHARE
        })
        .collect();
    let evidence = json!({
        "phase": d.phase.as_str(),
        "messages": d.messages,
        "dmarc_pass": d.dmarc_pass,
        "policy": d.policy.as_ref().and_then(|p| p.p.clone()),
        "sources": counted.iter().map(|s| json!({
            "ip": s.ip.to_string(),
            "reverse_name": s.reverse_name,
            "service": s.service,
            "messages": s.messages,
            "failing": s.failing(),
        })).collect::<Vec<_>>(),
    });
    let failing: u64 = counted
        .iter()
        .map(|s| s.failing())
        .fold(0, u64::saturating_add);
    let (status, severity, summary) = if d.messages == 0 {
        (
            Status::Info,
            Severity::None,
            "no messages in the aggregate reports".to_owned(),
        )
    } else if counted.is_empty() {
        (
            Status::Pass,
            Severity::None,
            format!("every source sending more than {SOURCE_MIN_MESSAGES} messages passes DMARC"),
        )
    } else if enforced(d.policy.as_ref()) {
        (
            Status::Warn,
            Severity::Low,
            format!(
                "{} source(s) sent {failing} messages that fail DMARC; the policy has receivers \
                 quarantine or reject them (if a source is yours, authenticate it)",
                counted.len()
            ),
        )
    } else {
        (
            Status::Fail,
            Severity::Medium,
            format!(
                "{} source(s) sent {failing} messages that fail DMARC, and the policy lets them \
                 through: authenticate your own senders, then enforce the policy",
                counted.len()
            ),
        )
    };
    Finding {
        check,
        status,
        severity,
        summary,
        evidence: evidence.into(),
    }
}

/// Share of failed TLS sessions from which `reports.tls_failures` fails: 0.05.
pub const TLS_FAIL_RATE: f64 = 0.05;

/// `reports.tls_failures`: senders that could not deliver over TLS to the domain's MX
/// hosts, by MX and failure type (RFC 8460).
///
/// * `pass`: no failed session;
/// * `warn` (low): failures, under [`TLS_FAIL_RATE`] of sessions;
/// * `fail` (medium): failures at or above it.
pub fn tls_failures(t: &TlsDomainSummary) -> Finding {
    let total = t.successful.saturating_add(t.failed);
    let rate = ratio(t.failed, total);
    let evidence = json!({
        "successful": t.successful,
        "failed": t.failed,
        "failures": t.failures,
    });
    let kinds: BTreeSet<&str> = t.failures.iter().map(|f| f.result_type.as_str()).collect();
    let kinds = kinds.into_iter().collect::<Vec<_>>().join(", ");
    let (status, severity, summary) = if t.failed == 0 {
        (
            Status::Pass,
            Severity::None,
            format!("all {total} reported TLS sessions succeeded"),
        )
    } else {
        let s = format!(
            "{} of {total} reported TLS sessions failed ({:.1}%){}",
            t.failed,
            rate * 100.0,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(": {kinds}")
            }
        );
        if rate >= TLS_FAIL_RATE {
            (Status::Fail, Severity::Medium, s)
        } else {
            (Status::Warn, Severity::Low, s)
        }
    };
    Finding {
        check: CheckId::ReportsTlsFailures,
        status,
        severity,
        summary,
        evidence: evidence.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(p: &str, pct: Option<u8>, testing: bool) -> PolicySeen {
        PolicySeen {
            domain: "d.example".into(),
            p: Some(p.into()),
            pct,
            testing,
            end: 0,
        }
    }

    #[test]
    fn phases() {
        assert_eq!(phase(None, 100, 100), Phase::Assess);
        assert_eq!(
            phase(Some(&policy("none", None, false)), 100, 94),
            Phase::Assess
        );
        assert_eq!(
            phase(Some(&policy("none", None, false)), 100, 95),
            Phase::Deploy
        );
        assert_eq!(
            phase(Some(&policy("none", None, false)), 0, 0),
            Phase::Assess
        );
        assert_eq!(
            phase(Some(&policy("quarantine", Some(50), false)), 100, 100),
            Phase::Deploy
        );
        assert_eq!(
            phase(Some(&policy("reject", None, true)), 100, 100),
            Phase::Deploy
        );
        assert_eq!(
            phase(Some(&policy("quarantine", Some(100), false)), 100, 100),
            Phase::Enforce
        );
        assert_eq!(
            phase(Some(&policy("reject", None, false)), 100, 97),
            Phase::Enforce
        );
        assert_eq!(
            phase(Some(&policy("reject", None, false)), 100, 98),
            Phase::Maintain
        );
    }

    #[test]
    fn verified_selectors_leave_out_forged_ones_and_keep_the_busiest() {
        let v = |dkim_domain: &str, selector: &str, result: &str, count: u64| SelectorVolume {
            domain: "party.example".into(),
            dkim_domain: dkim_domain.into(),
            selector: selector.into(),
            result: result.into(),
            count,
        };
        let mut data = ReportData::default();
        data.selectors.push(v("party.example", "s1", "pass", 5));
        data.selectors.push(v("party.example", "news", "pass", 50));
        data.selectors.push(v("party.example", "news", "fail", 2));
        data.selectors
            .push(v("party.example", "forged", "fail", 900));
        data.selectors.push(v("esp.example", "k1", "pass", 7));
        data.selectors.push(v("", "x", "pass", 7));
        for i in 0..20 {
            data.selectors
                .push(v("many.example", &format!("m{i:02}"), "pass", i));
        }
        let got = verified_selectors(&data);
        assert_eq!(got["party.example"], ["news", "s1"]);
        assert_eq!(got["esp.example"], ["k1"]);
        assert!(!got.contains_key(""));
        let many = &got["many.example"];
        assert_eq!(many.len(), MAX_REPORTED_SELECTORS);
        assert_eq!(many[0], "m19");
    }

    #[test]
    fn services_match_whole_labels() {
        assert_eq!(
            service_for("mail-eopbgr.outbound.protection.outlook.com."),
            Some("Microsoft 365")
        );
        assert_eq!(service_for("mail-sor-f41.google.com"), Some("Google"));
        assert_eq!(service_for("mail1.mcsv.net"), Some("Mailchimp"));
        assert_eq!(service_for("o1.ptr1234.SENDGRID.NET"), Some("SendGrid"));
        assert_eq!(service_for("notoutlook.com"), None);
        assert_eq!(service_for("mx.party.example"), None);
    }

    #[test]
    fn tls_thresholds() {
        let t = |ok, failed| TlsDomainSummary {
            domain: "d.example".into(),
            successful: ok,
            failed,
            failures: vec![TlsFailureSummary {
                mx: "mx.d.example".into(),
                result_type: "certificate-expired".into(),
                sessions: failed,
            }],
        };
        let f = tls_failures(&t(100, 0));
        assert_eq!((f.status, f.severity), (Status::Pass, Severity::None));
        let f = tls_failures(&t(96, 4));
        assert_eq!((f.status, f.severity), (Status::Warn, Severity::Low));
        assert_eq!(
            f.summary,
            "4 of 100 reported TLS sessions failed (4.0%): certificate-expired"
        );
        let f = tls_failures(&t(95, 5));
        assert_eq!((f.status, f.severity), (Status::Fail, Severity::Medium));
    }
}
