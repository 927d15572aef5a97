//! The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing
//! fetched), printable and readable by a screen reader. Askama escapes every value, and a
//! Content-Security-Policy meta tag forbids loading anything, so a stranger's TXT record
//! cannot turn into markup or a request.
//!
//! A report covers one organisation and everything below it: its score, the roll-up's
//! ranked actions, a chart of scores, the DMARC phase of each mail domain, the
//! self-assessment, and every finding with what to do about it in the words for that
//! organisation's size.

use crate::advice::{RenderedAdvice, advice_for};
use crate::assess::{Assessment, combined_score};
use crate::changes::{self, Change, ChangeKind, MailSince};
use crate::charts::{
    self, DayChart, OrgTrendChart, ScoreChart, ScoreGroup, SourceChart, TrendChart,
};
use crate::score::{self, Ranking, asset_score, org_score};
use crate::summary::{Counts, OrgSummary};
use askama::Template;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use ward_model::report_rows::ReportData;
use ward_model::{OrgKind, Organisation, ScanReport, SizeClass, Status};

/// What a report is made from.
pub struct ReportInput<'a> {
    /// The page title.
    pub title: &'a str,
    /// The scan.
    pub report: &'a ScanReport,
    /// The organisation tree.
    pub orgs: &'a [Organisation],
    /// The organisation the report is for (with everything below it); `None` for all.
    pub root: Option<&'a str>,
    /// The latest self-assessment of each organisation, by id.
    pub assessments: &'a BTreeMap<String, Assessment>,
    /// How much of each domain's findings to include.
    pub detail: Detail,
    /// The stored DMARC aggregate report data, for the mail charts; `None` leaves
    /// them out.
    pub mail: Option<&'a ReportData>,
    /// Earlier complete scans, oldest first, for the score trend and "since last time"
    /// (the last of them is the previous scan).
    pub history: &'a [ScanReport],
    /// The stored DMARC aggregate report data of reports ending at or after the previous
    /// scan started, to find senders failing DMARC that are new since; `None` leaves
    /// them out of "since last time".
    pub mail_since_last: Option<&'a ReportData>,
}

/// How much detail a report carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// For a committee: the totals, the top actions, one line per organisation and the
    /// DMARC phases; no per-domain findings. Fits on a few pages for a whole party.
    #[default]
    Summary,
    /// Also every domain's fail, warn and could-not-tell findings with their advice
    /// (passing and informational rows are counted, not listed).
    Full,
}

struct FindingView {
    check: String,
    status: &'static str,
    severity: &'static str,
    summary: String,
    advice: Option<RenderedAdvice>,
}

struct AssetView {
    domain: String,
    score: u8,
    could_not_tell: usize,
    dmarc: Option<(&'static str, &'static str)>,
    findings: Vec<FindingView>,
    /// Pass and info findings left out of the table.
    quiet: usize,
}

struct GapView {
    question: &'static str,
    answer: &'static str,
    todo: &'static str,
}

struct AssessmentView {
    answered_at: String,
    score: u8,
    gaps: Vec<GapView>,
}

struct OrgView {
    id: String,
    name: String,
    kind: &'static str,
    size: &'static str,
    score: Option<u8>,
    counts: Counts,
    assets: Vec<AssetView>,
    assessment: Option<AssessmentView>,
}

struct ActionView {
    action: String,
    check: String,
    severity: &'static str,
    branches: usize,
    findings: usize,
    todo: String,
}

struct RegionView {
    name: String,
    score: Option<u8>,
    branches: usize,
    top: String,
    headline: String,
}

/// An organisation the score chart leaves out, and why.
struct Unscored {
    name: String,
    why: &'static str,
}

/// A party's or region's figure: the mean over its scored organisations.
struct Overall {
    score: u8,
    organisations: usize,
}

/// The charts of mail that the stored reports show.
struct MailCharts {
    days: DayChart,
    sources: SourceChart,
    messages: u64,
    rate: u8,
}

struct PhaseRow {
    domain: String,
    organisation: String,
    phase: &'static str,
    next: &'static str,
}

/// One change in "since last time".
struct ChangeView {
    kind: &'static str,
    /// The CSS class of its kind's colour.
    class: &'static str,
    organisation: String,
    domain: String,
    what: String,
    /// The advice's short action, for what got worse; empty otherwise.
    action: String,
    /// What to do, in the words for the organisation's size (full detail only).
    todo: String,
}

/// The "since last time" section.
struct SinceView {
    previous: String,
    counts: Vec<(&'static str, usize)>,
    rows: Vec<ChangeView>,
    /// Changes not listed (the summary lists the first ones).
    more: usize,
}

/// One organisation's trend chart.
struct OrgTrendView {
    name: String,
    chart: OrgTrendChart,
    /// The same numbers in words.
    text: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    title: &'a str,
    scanned_at: String,
    version: &'a str,
    root_name: String,
    root_score: Option<u8>,
    /// The mean over every scored organisation, for a party or region report.
    overall: Option<Overall>,
    headline: String,
    actions: Vec<ActionView>,
    regions: Vec<RegionView>,
    chart: ScoreChart,
    unscored: Vec<Unscored>,
    mail: Option<MailCharts>,
    trend: Option<TrendChart>,
    since: Option<SinceView>,
    org_trends: Vec<OrgTrendView>,
    scans: usize,
    phases: Vec<PhaseRow>,
    phase_counts: Vec<(&'static str, usize)>,
    orgs: Vec<OrgView>,
    assessed: usize,
    full: bool,
}

/// Changes the summary lists in "since last time" (the full report lists every one).
const SUMMARY_CHANGES: usize = 15;

/// Days of reports before a scan that make its point on a DMARC pass-rate trend: the
/// window a scan reads reports from.
pub const RATE_WINDOW_DAYS: i64 = 30;

/// Days drawn in the pass-rate chart, and sources in the sources chart.
const MAX_DAYS: usize = 31;
const MAX_SOURCES: usize = 10;

/// The score chart's groups: the root's own domains, then each region with its
/// organisations, then organisations in no region.
fn score_groups(
    views: &[OrgView],
    orgs: &[&Organisation],
    root: Option<&Organisation>,
) -> Vec<ScoreGroup> {
    let region_of = |id: &str| -> Option<&str> {
        let mut cur = orgs.iter().find(|o| o.id == id)?;
        loop {
            if cur.kind == OrgKind::Region {
                return Some(cur.id.as_str());
            }
            let parent = cur.parent.as_deref()?;
            cur = orgs.iter().find(|o| o.id == parent)?;
        }
    };
    let has_children = |id: &str| orgs.iter().any(|o| o.parent.as_deref() == Some(id));
    // An organisation with others below it is drawn for its own domains only.
    let label = |v: &OrgView| {
        if has_children(&v.id) {
            format!("{} (own domains)", v.name)
        } else {
            v.name.clone()
        }
    };
    let mut first = ScoreGroup {
        heading: None,
        bars: Vec::new(),
    };
    let mut loose = ScoreGroup {
        heading: Some("Not in a region".to_owned()),
        bars: Vec::new(),
    };
    let mut regions: Vec<(String, ScoreGroup)> = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Region)
        .map(|r| {
            (
                r.id.clone(),
                ScoreGroup {
                    heading: Some(format!("Region: {}", r.name)),
                    bars: Vec::new(),
                },
            )
        })
        .collect();
    for v in views {
        let Some(s) = v.score else { continue };
        let is_root = root.is_some_and(|r| r.id == v.id);
        if is_root {
            first.bars.push((label(v), s));
        } else if let Some(g) =
            region_of(&v.id).and_then(|rid| regions.iter_mut().find(|(id, _)| id == rid))
        {
            g.1.bars.push((label(v), s));
        } else {
            loose.bars.push((label(v), s));
        }
    }
    if regions.is_empty() {
        loose.heading = None;
    }
    let mut groups = vec![first];
    groups.extend(regions.into_iter().map(|(_, g)| g));
    groups.push(loose);
    groups
}

/// Organisations with no score, and why: a chart that silently drops them would make
/// the rest look complete.
fn unscored(views: &[OrgView], orgs: &[&Organisation]) -> Vec<Unscored> {
    let mut out: Vec<Unscored> = views
        .iter()
        .filter(|v| v.score.is_none())
        .map(|v| Unscored {
            name: v.name.clone(),
            why: "no check of its domains got an answer (every one could not tell)",
        })
        .collect();
    out.extend(
        orgs.iter()
            .filter(|o| o.kind == OrgKind::Branch && !views.iter().any(|v| v.id == o.id))
            .map(|o| Unscored {
                name: o.name.clone(),
                why: "no domain of its own in the inventory, and no self-assessment",
            }),
    );
    out
}

/// The mail charts for the domains the report covers, if the reports hold any.
fn mail_charts(data: &ReportData, domains: &BTreeSet<String>) -> Option<MailCharts> {
    let days: Vec<_> = data
        .days
        .iter()
        .filter(|d| domains.contains(&d.domain))
        .collect();
    let sources: Vec<_> = data
        .sources
        .iter()
        .filter(|s| domains.contains(&s.domain))
        .collect();
    let messages: u64 = days.iter().map(|d| d.messages).sum();
    let passing: u64 = days.iter().map(|d| d.passing).sum();
    (messages > 0).then(|| MailCharts {
        days: DayChart::new(days, MAX_DAYS),
        sources: SourceChart::new(sources, MAX_SOURCES),
        messages,
        rate: charts::percent(passing, messages),
    })
}

/// The scan score of the covered organisations over the stored scans (the
/// self-assessment has no history, so it is left out of every point alike).
fn trend(
    history: &[ScanReport],
    current: &ScanReport,
    orgs: &[&Organisation],
) -> Option<TrendChart> {
    let points: Vec<(String, u8)> = history
        .iter()
        .chain(std::iter::once(current))
        .filter_map(|r| {
            let s = score::mean_score(orgs.iter().filter_map(|o| org_score(r, &o.id)))?;
            let date = r.scanned_at.date().to_string();
            Some((date, s))
        })
        .collect();
    (points.len() >= 2).then(|| TrendChart::new(points))
}

/// "Since last time": the changes from the previous scan (the last of `history`) to
/// `report` for the covered organisations, worse first.
fn since_last(input: &ReportInput<'_>, orgs: &[&Organisation]) -> Option<SinceView> {
    let (previous, earlier) = input.history.split_last()?;
    let earlier: Vec<ScanReport> = earlier.iter().rev().cloned().collect();
    let mail = match (input.mail, input.mail_since_last) {
        (Some(all), Some(since_before)) => Some(MailSince { all, since_before }),
        _ => None,
    };
    let ids: BTreeSet<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
    let mut found: Vec<Change> = changes::changes(previous, input.report, &earlier, mail)
        .into_iter()
        .filter(|c| ids.contains(c.organisation_id.as_str()))
        .collect();
    // Worst first across the whole report, then by organisation and domain.
    found.sort_by(|a, b| {
        (
            a.kind,
            std::cmp::Reverse(a.weight()),
            &a.organisation,
            &a.domain,
        )
            .cmp(&(
                b.kind,
                std::cmp::Reverse(b.weight()),
                &b.organisation,
                &b.domain,
            ))
    });
    let full = input.detail == Detail::Full;
    let lines = changes::lines(&found);
    let shown = if full { lines.len() } else { SUMMARY_CHANGES };
    let size_of = |id: &str| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or(SizeClass::Small, |o| o.size)
    };
    let rows = lines
        .iter()
        .take(shown)
        .map(|line| {
            let c = line.first;
            let advice = c
                .check
                .filter(|_| c.kind == ChangeKind::Worse)
                .and_then(|check| advice_for(check, size_of(&c.organisation_id)));
            ChangeView {
                kind: c.kind.words(),
                class: match c.kind {
                    ChangeKind::Worse => "fail",
                    ChangeKind::NowCouldNotTell | ChangeKind::StillCouldNotTell => "error",
                    ChangeKind::Better => "pass",
                    _ => "info",
                },
                organisation: c.organisation.clone(),
                domain: c.domain.clone(),
                what: line.describe(),
                action: advice.map_or(String::new(), |a| a.action.to_owned()),
                todo: match advice {
                    Some(a) if full => a.todo_for(&c.domain),
                    _ => String::new(),
                },
            }
        })
        .collect();
    Some(SinceView {
        previous: previous
            .scanned_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        counts: changes::counts(&found)
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.words(), n))
            .collect(),
        more: lines.len().saturating_sub(shown),
        rows,
    })
}

/// The share of `domains`' reported mail passing DMARC in the [`RATE_WINDOW_DAYS`] up
/// to `day` (days since the epoch), or `None` with no mail reported.
pub fn pass_rate(data: &ReportData, domains: &BTreeSet<String>, day: i64) -> Option<u8> {
    let (messages, passing) = data
        .days
        .iter()
        .filter(|d| domains.contains(&d.domain) && d.day <= day && d.day >= day - RATE_WINDOW_DAYS)
        .fold((0, 0), |(m, p), d| (m + d.messages, p + d.passing));
    (messages > 0).then(|| charts::percent(passing, messages))
}

/// Each covered organisation's scan score and DMARC pass rate over the stored scans,
/// for organisations with domains in them; empty with fewer than two scans.
fn org_trends(
    history: &[ScanReport],
    current: &ScanReport,
    orgs: &[&Organisation],
    mail: Option<&ReportData>,
) -> Vec<OrgTrendView> {
    if history.is_empty() {
        return Vec::new();
    }
    let scans: Vec<&ScanReport> = history.iter().chain(std::iter::once(current)).collect();
    orgs.iter()
        .filter(|o| current.assets.iter().any(|a| a.organisation_id == o.id))
        .map(|o| {
            let values: Vec<(String, Option<u8>, Option<u8>)> = scans
                .iter()
                .map(|r| {
                    let domains: BTreeSet<String> = r
                        .assets
                        .iter()
                        .filter(|a| a.organisation_id == o.id)
                        .map(|a| a.domain.to_ascii_lowercase())
                        .collect();
                    let day = r.scanned_at.unix_timestamp().div_euclid(86_400);
                    (
                        r.scanned_at.date().to_string(),
                        org_score(r, &o.id),
                        mail.and_then(|m| pass_rate(m, &domains, day)),
                    )
                })
                .collect();
            // Every value, oldest first, short enough for a dozen scans under a small
            // chart; the dates are the chart's first and last and each point's title.
            let say =
                |v: Option<u8>, unit: &str| v.map_or("–".to_owned(), |v| format!("{v}{unit}"));
            let scores: Vec<String> = values.iter().map(|v| say(v.1, "")).collect();
            let rates: Vec<String> = values.iter().map(|v| say(v.2, "%")).collect();
            let text = format!(
                "score: {}; DMARC pass: {}",
                scores.join(", "),
                rates.join(", ")
            );
            OrgTrendView {
                name: o.name.clone(),
                chart: OrgTrendChart::new(values),
                text,
            }
        })
        .collect()
}

/// The organisations the report covers, in tree order.
fn covered<'a>(orgs: &'a [Organisation], root: Option<&str>) -> Vec<&'a Organisation> {
    match root {
        Some(r) => score::subtree(orgs, r),
        None => orgs.iter().collect(),
    }
}

fn ranking_for(report: &ScanReport, orgs: &[&Organisation]) -> Ranking {
    let branches: Vec<&Organisation> = orgs
        .iter()
        .copied()
        .filter(|o| o.kind == OrgKind::Branch)
        .collect();
    score::rank_actions(branches.iter().map(|b| {
        let fs = report
            .assets
            .iter()
            .filter(|a| a.organisation_id == b.id)
            .flat_map(|a| a.findings.iter())
            .collect();
        (b.id.as_str(), fs)
    }))
}

fn org_view(
    report: &ScanReport,
    o: &Organisation,
    assessments: &BTreeMap<String, Assessment>,
) -> OrgView {
    let mut counts = Counts::default();
    let assets: Vec<AssetView> = report
        .assets
        .iter()
        .filter(|a| a.organisation_id == o.id)
        .map(|a| {
            let s = asset_score(a);
            for f in &a.findings {
                counts.add(f.status);
            }
            let quiet = a
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Pass | Status::Info))
                .count();
            let findings = a
                .findings
                .iter()
                .filter(|f| !matches!(f.status, Status::Pass | Status::Info))
                .map(|f| {
                    let advice = matches!(f.status, Status::Fail | Status::Warn)
                        .then(|| advice_for(f.check, o.size))
                        .flatten()
                        .map(|adv| adv.render(&a.domain, f));
                    FindingView {
                        check: f.check.as_str().to_owned(),
                        status: f.status.as_str(),
                        severity: f.severity.as_str(),
                        summary: f.summary.clone(),
                        advice,
                    }
                })
                .collect();
            AssetView {
                domain: a.domain.clone(),
                score: s.score,
                could_not_tell: s.could_not_tell,
                dmarc: a.dmarc_phase.map(|p| (p.as_str(), score::next_step(p))),
                findings,
                quiet,
            }
        })
        .collect();
    let assessment = assessments.get(&o.id).map(|a| AssessmentView {
        answered_at: a.answered_at.clone(),
        score: a.score(),
        gaps: a
            .gaps()
            .into_iter()
            .map(|(q, ans)| GapView {
                question: q.text,
                answer: ans.map_or("not answered", |a| a.as_str()),
                todo: q.todo,
            })
            .collect(),
    });
    OrgView {
        id: o.id.clone(),
        name: o.name.clone(),
        kind: o.kind.as_str(),
        size: o.size.as_str(),
        score: combined_score(
            org_score(report, &o.id),
            assessment.as_ref().map(|a| a.score),
        ),
        counts,
        assets,
        assessment,
    }
}

/// Writes the report described by `input`.
pub fn write_report(w: &mut impl Write, input: &ReportInput<'_>) -> io::Result<()> {
    let report = input.report;
    let orgs = covered(input.orgs, input.root);
    let root = input
        .root
        .and_then(|r| orgs.iter().find(|o| o.id == r).copied())
        .or_else(|| orgs.first().copied());
    let ranking = ranking_for(report, &orgs);
    let action_size = match root {
        Some(r) if r.kind == OrgKind::Branch => r.size,
        _ => SizeClass::Small,
    };
    let actions = ranking
        .actions
        .iter()
        .take(5)
        .map(|a| ActionView {
            action: a.action.clone(),
            check: a.check.to_string(),
            severity: a.severity.as_str(),
            branches: a.branches.len(),
            findings: a.findings,
            // The actions are changes for branches, so they read as branch advice
            // unless the report is for a single medium organisation.
            todo: advice_for(a.check, action_size)
                .map(|adv| adv.todo_for("your domain"))
                .unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    // A branch's own report has no "n of N branches" to tell.
    let headline = match root {
        Some(r) if r.kind != OrgKind::Branch && ranking.branches_total > 0 => ranking.headline(3),
        _ => String::new(),
    };
    let regions = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Region)
        .map(|r| {
            let below = score::subtree(input.orgs, &r.id);
            let rk = ranking_for(report, &below);
            RegionView {
                name: r.name.clone(),
                score: score::mean_score(
                    below
                        .iter()
                        .filter(|o| o.kind == OrgKind::Branch)
                        .filter_map(|b| org_score(report, &b.id)),
                ),
                branches: rk.branches_total,
                top: rk
                    .actions
                    .first()
                    .map(|a| a.action.clone())
                    .unwrap_or_default(),
                headline: if rk.branches_total == 0 {
                    String::new()
                } else {
                    rk.headline(3)
                },
            }
        })
        .collect();
    let views: Vec<OrgView> = orgs
        .iter()
        .map(|o| org_view(report, o, input.assessments))
        .filter(|v| !v.assets.is_empty() || v.assessment.is_some())
        .collect();
    let chart = ScoreChart::new(score_groups(&views, &orgs, root));
    let unscored = unscored(&views, &orgs);
    let domains: BTreeSet<String> = report
        .assets
        .iter()
        .filter(|a| orgs.iter().any(|o| o.id == a.organisation_id))
        .map(|a| a.domain.to_ascii_lowercase())
        .collect();
    let mail = input.mail.and_then(|d| mail_charts(d, &domains));
    let trend = trend(input.history, report, &orgs);
    let since = since_last(input, &orgs);
    let org_trends = org_trends(input.history, report, &orgs, input.mail);
    let overall = match root {
        Some(r) if r.kind != OrgKind::Branch => {
            let scores: Vec<u8> = views.iter().filter_map(|v| v.score).collect();
            score::mean_score(scores.iter().copied()).map(|score| Overall {
                score,
                organisations: scores.len(),
            })
        }
        _ => None,
    };
    let mut phases = Vec::new();
    let mut phase_counts: Vec<(&'static str, usize)> = ["assess", "deploy", "enforce", "maintain"]
        .into_iter()
        .map(|p| (p, 0))
        .collect();
    for v in &views {
        for a in &v.assets {
            if let Some((phase, next)) = a.dmarc {
                if let Some(c) = phase_counts.iter_mut().find(|(p, _)| *p == phase) {
                    c.1 += 1;
                }
                phases.push(PhaseRow {
                    domain: a.domain.clone(),
                    organisation: v.name.clone(),
                    phase,
                    next,
                });
            }
        }
    }
    let page = ReportPage {
        title: input.title,
        scanned_at: report
            .scanned_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        version: &report.ward_version,
        root_name: root.map(|r| r.name.clone()).unwrap_or_default(),
        root_score: views
            .iter()
            .find(|v| root.is_some_and(|r| r.id == v.id))
            .and_then(|v| v.score),
        overall,
        headline,
        actions,
        regions,
        chart,
        unscored,
        mail,
        trend,
        since,
        org_trends,
        scans: input.history.len() + 1,
        phases,
        phase_counts,
        assessed: views.iter().filter(|v| v.assessment.is_some()).count(),
        orgs: views,
        full: input.detail == Detail::Full,
    };
    let html = page.render().map_err(io::Error::other)?;
    w.write_all(html.as_bytes())
}

/// Writes the report for everything in `report`, with the organisations of `summaries`.
/// Kept for callers that have summaries rather than the organisation tree.
pub fn write_html(
    w: &mut impl Write,
    title: &str,
    report: &ScanReport,
    summaries: &[OrgSummary],
) -> io::Result<()> {
    let orgs: Vec<Organisation> = summaries
        .iter()
        .map(|s| Organisation {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind,
            size: s.size,
            parent: s.parent.clone(),
            assets: Vec::new(),
        })
        .collect();
    write_report(
        w,
        &ReportInput {
            title,
            report,
            orgs: &orgs,
            root: None,
            assessments: &BTreeMap::new(),
            detail: Detail::Full,
            mail: None,
            history: &[],
            mail_since_last: None,
        },
    )
}
