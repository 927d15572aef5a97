//! What changed between two scans: per organisation and domain, what got worse, what got
//! better, what is new or gone, and what ward still (or now) could not tell.
//!
//! Pure: the caller hands over the two scans (and, for the rules below, earlier scans and
//! the mail reports' sums); nothing here reads a store or a clock. `ward changes` prints
//! the result, and the report's "Since last time" section draws from it.
//!
//! The rules, in one place:
//!
//! - A verdict is ranked pass = info < warn < fail; within warn or fail a higher severity
//!   is worse. A rise is [`ChangeKind::Worse`], a fall [`ChangeKind::Better`].
//! - "Could not tell" (`error`) is not a verdict. A check that could not tell in both
//!   scans is [`ChangeKind::StillCouldNotTell`]; one that had a verdict and now could not
//!   tell is [`ChangeKind::NowCouldNotTell`]. Neither is ever "better".
//! - A check that could not tell before and now has a verdict is compared with the last
//!   real verdict in the earlier scans: worse or better than that one is `Worse` or
//!   `Better` (the change's `before` is that verdict, with its scan's date); with no real
//!   verdict ever, or the same one again, it is [`ChangeKind::Answered`]: ward can tell
//!   again, which is not a fix.
//! - A check that asks whether a record is published ([`RECORD_CHECKS`]) going from pass
//!   to warn or fail is a removed record ([`Reason::RecordRemoved`]).
//! - A certificate (`web.cert`, `mx.cert`) whose soonest leaf expiry is now under
//!   [`CERT_SOON_DAYS`] days away, and was not before, is worse even when the verdict
//!   stayed the same ([`Reason::CertificateExpiring`]).
//! - A domain only in the later scan is [`ChangeKind::New`], one only in the earlier scan
//!   [`ChangeKind::Gone`]; a check judged in only one of them likewise (a removed MX
//!   takes the mail-server checks with it).
//! - A sending address whose mail fails DMARC in the stored aggregate reports, and that
//!   no report ending before the earlier scan showed sending as that domain, is worse
//!   ([`Reason::NewFailingSource`]; [`new_failing_sources`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ward_model::report_rows::ReportData;
use ward_model::{AssetReport, CheckId, Finding, Organisation, ScanReport, Severity, Status};

/// A certificate expiring in fewer days than this is a change worth telling: 14.
pub const CERT_SOON_DAYS: i64 = 14;

/// The checks that ask whether a record is published: going from pass to warn or fail
/// means the record was taken away (or broken past use).
pub const RECORD_CHECKS: &[CheckId] = &[
    CheckId::SpfPresent,
    CheckId::DmarcPresent,
    CheckId::DkimPresent,
    CheckId::MxPresent,
    CheckId::MtaStsRecord,
    CheckId::TlsRptRecord,
    CheckId::BimiRecord,
    CheckId::DnsCaa,
];

/// What kind of change, in the order a reader should see them (worst first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Got worse: a worse verdict, a removed record, a certificate about to expire, a new
    /// sender failing DMARC.
    Worse,
    /// Had a verdict, now could not tell: ward has lost sight of it.
    NowCouldNotTell,
    /// Could not tell in both scans: still unknown, never "fixed".
    StillCouldNotTell,
    /// A domain (or a check of a domain) scanned for the first time.
    New,
    /// A domain (or a check of a domain) no longer scanned.
    Gone,
    /// Could not tell before, and now ward can: a verdict, but not a fix (nothing known
    /// before was better or worse).
    Answered,
    /// Got better: a better verdict than the last real one.
    Better,
}

impl ChangeKind {
    /// Every kind, worst first.
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Worse,
        ChangeKind::NowCouldNotTell,
        ChangeKind::StillCouldNotTell,
        ChangeKind::New,
        ChangeKind::Gone,
        ChangeKind::Answered,
        ChangeKind::Better,
    ];

    /// The name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Worse => "worse",
            ChangeKind::NowCouldNotTell => "now_could_not_tell",
            ChangeKind::StillCouldNotTell => "still_could_not_tell",
            ChangeKind::New => "new",
            ChangeKind::Gone => "gone",
            ChangeKind::Answered => "answered",
            ChangeKind::Better => "better",
        }
    }

    /// The words in a table or a report.
    pub fn words(self) -> &'static str {
        match self {
            ChangeKind::Worse => "worse",
            ChangeKind::NowCouldNotTell => "now could not tell",
            ChangeKind::StillCouldNotTell => "still could not tell",
            ChangeKind::New => "new",
            ChangeKind::Gone => "gone",
            ChangeKind::Answered => "can tell again",
            ChangeKind::Better => "better",
        }
    }
}

/// Why a change is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The verdict (status or severity) changed, or stayed "could not tell".
    Verdict,
    /// A record that was published and passing is gone or broken ([`RECORD_CHECKS`]).
    RecordRemoved,
    /// A certificate now expires in fewer than [`CERT_SOON_DAYS`] days.
    CertificateExpiring,
    /// A sending address fails DMARC that no earlier report showed.
    NewFailingSource,
    /// The domain was not in the earlier scan.
    DomainAdded,
    /// The domain is not in the later scan.
    DomainRemoved,
    /// The check was not made in the earlier scan.
    CheckAdded,
    /// The check is not made any more (for example no MX, so no mail server to test).
    CheckRemoved,
}

/// One side of a change: a finding's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The status.
    pub status: Status,
    /// The severity.
    pub severity: Severity,
    /// The finding's one line.
    pub summary: String,
    /// When the scan that gave it started (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
}

impl Side {
    fn of(f: &Finding, at: OffsetDateTime) -> Side {
        Side {
            status: f.status,
            severity: f.severity,
            summary: f.summary.clone(),
            scanned_at: at,
        }
    }
}

/// One change of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The owning organisation's id (in the later scan, or the earlier for a gone domain).
    pub organisation_id: String,
    /// Its name.
    pub organisation: String,
    /// The domain.
    pub domain: String,
    /// The check; absent for a domain added or removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckId>,
    /// What kind of change.
    pub kind: ChangeKind,
    /// Why.
    pub reason: Reason,
    /// The verdict before (the last real one for a check that could not tell in the
    /// earlier scan); absent for something new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Side>,
    /// The verdict now; absent for something gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Side>,
    /// For `web.cert` and `mx.cert`: days from the later scan to the soonest leaf expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// For a new failing source: its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For a new failing source: messages failing DMARC from it since the earlier scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
}

impl Change {
    /// The severity that decides the order: the new verdict's, or the old one's for
    /// something better or gone.
    pub fn weight(&self) -> Severity {
        let side = match self.kind {
            ChangeKind::Better | ChangeKind::Gone => self.before.as_ref(),
            _ => self.after.as_ref(),
        };
        side.map_or(Severity::None, |s| s.severity)
    }

    /// One line in plain words: what it was, what it is.
    pub fn describe(&self) -> String {
        let check = self.check.map_or("", CheckId::as_str);
        match self.reason {
            Reason::DomainAdded => format!(
                "{} was scanned for the first time: {}",
                self.domain,
                self.after.as_ref().map_or("", |s| s.summary.as_str())
            ),
            Reason::DomainRemoved => format!("{} is no longer scanned", self.domain),
            Reason::NewFailingSource => format!(
                "{} sent {} message(s) as {} that failed DMARC, and no earlier report showed it",
                self.source.as_deref().unwrap_or("?"),
                self.messages.unwrap_or(0),
                self.domain
            ),
            Reason::CheckRemoved => format!("{check} is no longer checked"),
            _ => {
                let word = |s: &Side| match s.status {
                    Status::Error => "could not tell".to_owned(),
                    Status::Warn | Status::Fail => {
                        format!("{} ({})", s.status.as_str(), s.severity.as_str())
                    }
                    other => other.as_str().to_owned(),
                };
                let now = self.after.as_ref().map_or("", |s| s.summary.as_str());
                match (&self.before, &self.after) {
                    (Some(b), Some(a)) => {
                        format!("{check}: {} → {}: {now}", word(b), word(a))
                    }
                    (None, Some(a)) => format!("{check}: {} (first checked): {now}", word(a)),
                    _ => check.to_owned(),
                }
            }
        }
    }
}

/// The rank of a verdict: 0 pass or info, 1 warn, 2 fail; `None` for could not tell.
fn rank(s: Status) -> Option<u8> {
    match s {
        Status::Pass | Status::Info => Some(0),
        Status::Warn => Some(1),
        Status::Fail => Some(2),
        Status::Error => None,
    }
}

/// How `after` compares with `before`, both real verdicts.
fn compare(before: &Finding, after: &Finding) -> std::cmp::Ordering {
    let key = |f: &Finding| {
        let r = rank(f.status).unwrap_or(0);
        // Severity matters only for a finding that is a problem.
        (r, if r > 0 { f.severity } else { Severity::None })
    };
    key(after).cmp(&key(before))
}

/// Days from `at` to the soonest leaf certificate expiry in a `web.cert` / `mx.cert`
/// finding's evidence (`endpoints[].detail.certs[0].not_after`, a date).
pub fn cert_days_left(f: &Finding, at: OffsetDateTime) -> Option<i64> {
    if !matches!(f.check, CheckId::WebCert | CheckId::MxCert) {
        return None;
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    f.evidence
        .get("endpoints")?
        .as_array()?
        .iter()
        .filter_map(|e| {
            let date = e.pointer("/detail/certs/0/not_after")?.as_str()?;
            let day = time::Date::parse(date, fmt).ok()?;
            Some((day - at.date()).whole_days())
        })
        .min()
}

/// The last real verdict of `check` on `domain` in `earlier` (newest first).
fn last_known<'a>(
    earlier: &'a [ScanReport],
    domain: &str,
    check: CheckId,
) -> Option<(&'a Finding, OffsetDateTime)> {
    earlier.iter().find_map(|r| {
        let a = r.assets.iter().find(|a| a.domain == domain)?;
        let f = a.findings.iter().find(|f| f.check == check)?;
        (f.status != Status::Error).then_some((f, r.scanned_at))
    })
}

/// A finding of `check`'s family on `a` when the family has findings and every one of
/// them could not tell: the stand-in for a check the family did not get as far as.
fn family_unknown(a: &AssetReport, check: CheckId) -> Option<&Finding> {
    let mut family = a
        .findings
        .iter()
        .filter(|f| f.check.family() == check.family());
    let first = family.next()?;
    (first.status == Status::Error && family.all(|f| f.status == Status::Error)).then_some(first)
}

/// The change from `old` (at `old_at`) to `new` of one check, if any: its kind, its
/// reason and the "before" side to show.
fn pair(
    domain: &str,
    old: &Finding,
    old_at: OffsetDateTime,
    new: &Finding,
    new_at: OffsetDateTime,
    earlier: &[ScanReport],
) -> Option<(ChangeKind, Reason, Side)> {
    use std::cmp::Ordering;
    let mut before = Side::of(old, old_at);
    let mut reason = Reason::Verdict;
    let days_left = cert_days_left(new, new_at);
    let kind = match (old.status, new.status) {
        (Status::Error, Status::Error) => ChangeKind::StillCouldNotTell,
        (_, Status::Error) => ChangeKind::NowCouldNotTell,
        (Status::Error, _) => match last_known(earlier, domain, new.check) {
            Some((known, at)) => match compare(known, new) {
                Ordering::Equal => ChangeKind::Answered,
                o => {
                    before = Side::of(known, at);
                    if o == Ordering::Greater {
                        ChangeKind::Worse
                    } else {
                        ChangeKind::Better
                    }
                }
            },
            None => ChangeKind::Answered,
        },
        _ => match compare(old, new) {
            Ordering::Greater => {
                if RECORD_CHECKS.contains(&new.check) && old.status == Status::Pass {
                    reason = Reason::RecordRemoved;
                }
                ChangeKind::Worse
            }
            Ordering::Less => ChangeKind::Better,
            Ordering::Equal => {
                let was = cert_days_left(old, old_at);
                let soon = |d: Option<i64>| d.is_some_and(|d| d < CERT_SOON_DAYS);
                if !soon(days_left) || soon(was) {
                    return None;
                }
                reason = Reason::CertificateExpiring;
                ChangeKind::Worse
            }
        },
    };
    // A certificate that got worse and expires soon says so.
    if kind == ChangeKind::Worse
        && reason == Reason::Verdict
        && days_left.is_some_and(|d| d < CERT_SOON_DAYS)
    {
        reason = Reason::CertificateExpiring;
    }
    Some((kind, reason, before))
}

fn counts_line(a: &AssetReport) -> String {
    let n = |s: Status| a.findings.iter().filter(|f| f.status == s).count();
    format!(
        "{} fail, {} warn, {} could not tell, {} pass",
        n(Status::Fail),
        n(Status::Warn),
        n(Status::Error),
        n(Status::Pass) + n(Status::Info)
    )
}

/// The worst severity among `a`'s failing or warning findings.
fn worst(a: &AssetReport) -> Severity {
    a.findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None)
}

/// The stored mail reports' sums a comparison needs to find new failing senders.
#[derive(Debug, Clone, Copy)]
pub struct MailSince<'a> {
    /// Every stored report.
    pub all: &'a ReportData,
    /// The reports whose range ends at or after the earlier scan started.
    pub since_before: &'a ReportData,
}

/// Every change from `before` to `after`, sorted by [`sort`]. `earlier` are the complete
/// scans before `before`, newest first, where the last real verdict of a check that
/// could not tell in `before` is looked up; it may be empty (then such a check is
/// `Answered`, never `Better`). With `mail`, new senders failing DMARC are included
/// ([`new_failing_sources`]).
pub fn changes(
    before: &ScanReport,
    after: &ScanReport,
    earlier: &[ScanReport],
    mail: Option<MailSince<'_>>,
) -> Vec<Change> {
    let mut out = compare_scans(before, after, earlier);
    if let Some(m) = mail {
        out.extend(new_failing_sources(m.all, m.since_before, after));
    }
    sort(&mut out);
    out
}

/// Whether [`changes`] would look into earlier scans: some check could not tell in
/// `before` and has a verdict in `after`. Lets a caller load history only when needed.
pub fn needs_earlier(before: &ScanReport, after: &ScanReport) -> bool {
    after.assets.iter().any(|a| {
        before
            .assets
            .iter()
            .find(|b| b.domain == a.domain)
            .is_some_and(|b| {
                a.findings.iter().any(|f| {
                    f.status != Status::Error
                        && b.findings
                            .iter()
                            .any(|o| o.check == f.check && o.status == Status::Error)
                })
            })
    })
}

fn compare_scans(before: &ScanReport, after: &ScanReport, earlier: &[ScanReport]) -> Vec<Change> {
    let mut out = Vec::new();
    let old: BTreeMap<&str, &AssetReport> = before
        .assets
        .iter()
        .map(|a| (a.domain.as_str(), a))
        .collect();
    let new_domains: BTreeSet<&str> = after.assets.iter().map(|a| a.domain.as_str()).collect();
    let base = |a: &AssetReport, check, kind, reason| Change {
        organisation_id: a.organisation_id.clone(),
        organisation: a.organisation.clone(),
        domain: a.domain.clone(),
        check,
        kind,
        reason,
        before: None,
        after: None,
        days_left: None,
        source: None,
        messages: None,
    };
    for a in &after.assets {
        let Some(b) = old.get(a.domain.as_str()) else {
            let mut c = base(a, None, ChangeKind::New, Reason::DomainAdded);
            c.after = Some(Side {
                status: a
                    .findings
                    .iter()
                    .map(|f| f.status)
                    .filter(|s| rank(*s).is_some())
                    .max_by_key(|s| rank(*s))
                    .unwrap_or(Status::Error),
                severity: worst(a),
                summary: counts_line(a),
                scanned_at: after.scanned_at,
            });
            out.push(c);
            continue;
        };
        for f in &a.findings {
            let days_left = cert_days_left(f, after.scanned_at);
            // A check the earlier scan did not make because its whole family could not
            // tell (no SPF record could be read, so no `spf.all`) was could not tell.
            let old_f = b
                .findings
                .iter()
                .find(|o| o.check == f.check)
                .or_else(|| family_unknown(b, f.check));
            let Some(old_f) = old_f else {
                let mut c = base(a, Some(f.check), ChangeKind::New, Reason::CheckAdded);
                c.after = Some(Side::of(f, after.scanned_at));
                c.days_left = days_left;
                out.push(c);
                continue;
            };
            if let Some((kind, reason, before_side)) = pair(
                &a.domain,
                old_f,
                before.scanned_at,
                f,
                after.scanned_at,
                earlier,
            ) {
                let mut c = base(a, Some(f.check), kind, reason);
                c.before = Some(before_side);
                c.after = Some(Side::of(f, after.scanned_at));
                c.days_left = days_left;
                out.push(c);
            }
        }
        for old_f in &b.findings {
            if a.findings.iter().any(|f| f.check == old_f.check) {
                continue;
            }
            // Likewise a check not made now because its family could not tell.
            let mut c = match family_unknown(a, old_f.check) {
                Some(unknown) => {
                    let kind = if old_f.status == Status::Error {
                        ChangeKind::StillCouldNotTell
                    } else {
                        ChangeKind::NowCouldNotTell
                    };
                    let mut c = base(a, Some(old_f.check), kind, Reason::Verdict);
                    c.after = Some(Side::of(unknown, after.scanned_at));
                    c
                }
                None => base(a, Some(old_f.check), ChangeKind::Gone, Reason::CheckRemoved),
            };
            c.before = Some(Side::of(old_f, before.scanned_at));
            out.push(c);
        }
    }
    for b in &before.assets {
        if !new_domains.contains(b.domain.as_str()) {
            let mut c = base(b, None, ChangeKind::Gone, Reason::DomainRemoved);
            c.before = Some(Side {
                status: Status::Info,
                severity: Severity::None,
                summary: counts_line(b),
                scanned_at: before.scanned_at,
            });
            out.push(c);
        }
    }
    out
}

/// Sending addresses that fail DMARC for a domain of `after` in the reports, and that
/// no report ending before `before_at` showed sending as that domain. `all` is every
/// stored report's sums; `since` the sums of the reports whose range ends at or after
/// `before_at` (`ReportFilter { since: Some(before_at), .. }`): an address whose volume
/// in `since` is all its volume appeared only after the earlier scan. Largest first
/// within each domain.
pub fn new_failing_sources(
    all: &ReportData,
    since: &ReportData,
    after: &ScanReport,
) -> Vec<Change> {
    type Key = (String, std::net::IpAddr);
    let total = |d: &ReportData| {
        let mut m: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
        for s in &d.sources {
            let e = m
                .entry((s.domain.to_ascii_lowercase(), s.source_ip))
                .or_default();
            e.0 += s.count;
            if !s.dkim_aligned && !s.spf_aligned {
                e.1 += s.count;
            }
        }
        m
    };
    let ever = total(all);
    let recent = total(since);
    let mut out = Vec::new();
    for ((domain, ip), (volume, failing)) in &recent {
        if *failing == 0 || ever.get(&(domain.clone(), *ip)).map(|e| e.0) != Some(*volume) {
            continue;
        }
        let Some(a) = after
            .assets
            .iter()
            .find(|a| a.domain.eq_ignore_ascii_case(domain))
        else {
            continue;
        };
        let finding = a
            .findings
            .iter()
            .find(|f| f.check == CheckId::ReportsUnauthenticatedSources);
        out.push(Change {
            organisation_id: a.organisation_id.clone(),
            organisation: a.organisation.clone(),
            domain: a.domain.clone(),
            check: Some(CheckId::ReportsUnauthenticatedSources),
            kind: ChangeKind::Worse,
            reason: Reason::NewFailingSource,
            before: None,
            after: finding.map(|f| Side::of(f, after.scanned_at)),
            days_left: None,
            source: Some(ip.to_string()),
            messages: Some(*failing),
        });
    }
    out.sort_by(|a, b| {
        (&a.domain, std::cmp::Reverse(a.messages)).cmp(&(&b.domain, std::cmp::Reverse(b.messages)))
    });
    out
}

/// Sorts changes for reading: organisations and then domains with the worst change
/// first (by kind, then severity), and within a domain worst first, then in catalogue
/// order.
pub fn sort(changes: &mut [Change]) {
    let key = |c: &Change| (c.kind, std::cmp::Reverse(c.weight()));
    let mut org_worst: BTreeMap<String, (ChangeKind, std::cmp::Reverse<Severity>)> =
        BTreeMap::new();
    let mut domain_worst: BTreeMap<String, (ChangeKind, std::cmp::Reverse<Severity>)> =
        BTreeMap::new();
    for c in changes.iter() {
        let k = key(c);
        org_worst
            .entry(c.organisation_id.clone())
            .and_modify(|w| *w = (*w).min(k))
            .or_insert(k);
        domain_worst
            .entry(c.domain.clone())
            .and_modify(|w| *w = (*w).min(k))
            .or_insert(k);
    }
    changes.sort_by(|a, b| {
        let rank = |c: &Change| {
            (
                org_worst[&c.organisation_id],
                c.organisation.clone(),
                c.organisation_id.clone(),
                domain_worst[&c.domain],
                c.domain.clone(),
                key(c),
                c.check,
                c.source.clone(),
            )
        };
        rank(a).cmp(&rank(b))
    });
}

/// Only the changes of `root`'s organisation and everything below it (its subtree in
/// `orgs`).
pub fn within(changes: Vec<Change>, orgs: &[Organisation], root: &str) -> Vec<Change> {
    let ids: BTreeSet<&str> = crate::score::subtree(orgs, root)
        .into_iter()
        .map(|o| o.id.as_str())
        .collect();
    changes
        .into_iter()
        .filter(|c| ids.contains(c.organisation_id.as_str()))
        .collect()
}

/// How many changes of each kind, worst kind first (kinds with none included).
pub fn counts(changes: &[Change]) -> Vec<(ChangeKind, usize)> {
    ChangeKind::ALL
        .iter()
        .map(|k| (*k, changes.iter().filter(|c| c.kind == *k).count()))
        .collect()
}

/// Changes as a reader sees them: adjacent changes of one domain with the same
/// could-not-tell kind (a silent nameserver makes every check could not tell) become
/// one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The first change of the line.
    pub first: &'a Change,
    /// Every change of the line (one, unless grouped).
    pub all: Vec<&'a Change>,
}

impl Line<'_> {
    /// The line in plain words.
    pub fn describe(&self) -> String {
        if self.all.len() == 1 {
            let mut line = self.first.describe();
            if let (Reason::CertificateExpiring, Some(d)) =
                (self.first.reason, self.first.days_left)
            {
                line.push_str(&format!(" ({d} days left)"));
            }
            return line;
        }
        let n = self.all.len();
        let names: Vec<&str> = self
            .all
            .iter()
            .take(3)
            .filter_map(|c| c.check.map(CheckId::as_str))
            .collect();
        let more = if n > 3 {
            format!(" and {} more", n - 3)
        } else {
            String::new()
        };
        let checks = format!("{n} checks ({}{more})", names.join(", "));
        match self.first.kind {
            ChangeKind::Answered => {
                let now = |s: &[Status]| {
                    self.all
                        .iter()
                        .filter(|c| c.after.as_ref().is_some_and(|a| s.contains(&a.status)))
                        .count()
                };
                format!(
                    "{checks}: could not tell before; now {} fail, {} warn, {} pass or info (not counted as fixed)",
                    now(&[Status::Fail]),
                    now(&[Status::Warn]),
                    now(&[Status::Pass, Status::Info])
                )
            }
            _ => format!(
                "{checks}: {}",
                self.first.after.as_ref().map_or("", |a| a.summary.as_str())
            ),
        }
    }
}

/// Groups adjacent could-not-tell and can-tell-again changes of one domain into one
/// [`Line`] each; every other change is a line of its own.
pub fn lines(changes: &[Change]) -> Vec<Line<'_>> {
    let groups = |k: ChangeKind| {
        matches!(
            k,
            ChangeKind::StillCouldNotTell | ChangeKind::NowCouldNotTell | ChangeKind::Answered
        )
    };
    let mut out: Vec<Line<'_>> = Vec::new();
    for c in changes {
        if let Some(last) = out.last_mut()
            && groups(c.kind)
            && last.first.kind == c.kind
            && last.first.domain == c.domain
            && last.first.check.is_some()
            && c.check.is_some()
        {
            last.all.push(c);
            continue;
        }
        out.push(Line {
            first: c,
            all: vec![c],
        });
    }
    out
}
