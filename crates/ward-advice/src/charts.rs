//! The report's charts as coordinates: the template draws them as inline SVG, so the
//! numbers are computed (and tested) here and the markup stays auto-escaped.
//!
//! Every chart has its numbers in a table or a text line beside it too: a chart is for
//! the eye, never the only place a figure appears.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ward_model::report_rows::{DayVolume, SourceVolume};

/// Left edge of the plot in the horizontal-bar charts (labels to its left).
pub const LABEL_WIDTH: u32 = 220;
/// Width of the plot in the horizontal-bar charts.
pub const PLOT_WIDTH: u32 = 300;
/// Height of one row in the horizontal-bar charts.
pub const ROW_HEIGHT: u32 = 22;
/// Space under a horizontal-bar chart for its axis labels and title.
pub const AXIS_HEIGHT: u32 = 38;

/// The colour of a score: green, amber or red.
pub fn score_colour(score: u8) -> &'static str {
    match score {
        80..=100 => "#0a6b2d",
        50..=79 => "#8a5a00",
        _ => "#b00020",
    }
}

/// The colour of a DMARC pass rate: a few per cent failing is already mail refused
/// or forged, so the bands are narrower than a score's.
pub fn rate_colour(rate: u8) -> &'static str {
    match rate {
        98..=100 => "#0a6b2d",
        90..=97 => "#8a5a00",
        _ => "#b00020",
    }
}

/// One row of the score chart: a group heading (a region) or an organisation's bar.
pub struct ScoreRow {
    /// The text at the left.
    pub label: String,
    /// A heading row has no bar.
    pub heading: bool,
    /// The score (0 for a heading).
    pub score: u8,
    /// Top of the row.
    pub y: u32,
    /// Bar width.
    pub width: u32,
    /// Where the value is written.
    pub text_x: u32,
    /// Bar colour.
    pub colour: &'static str,
}

/// A tick on an axis.
pub struct Tick {
    /// Position along the axis.
    pub at: u32,
    /// Its label.
    pub label: String,
}

/// A chart of scores, 0 to 100, grouped under headings.
pub struct ScoreChart {
    /// Rows, top to bottom.
    pub rows: Vec<ScoreRow>,
    /// Height of the rows (the axis is drawn below).
    pub plot_height: u32,
    /// Height with the axis.
    pub height: u32,
    /// Ticks along the score axis.
    pub ticks: Vec<Tick>,
}

/// One group of the score chart: a heading (none for the first, ungrouped bars) and
/// its labelled scores.
pub struct ScoreGroup {
    /// The heading, if any.
    pub heading: Option<String>,
    /// Label and score of each bar.
    pub bars: Vec<(String, u8)>,
}

impl ScoreChart {
    /// Lay out `groups`; groups without bars are left out.
    pub fn new(groups: Vec<ScoreGroup>) -> ScoreChart {
        let mut rows = Vec::new();
        for g in groups.into_iter().filter(|g| !g.bars.is_empty()) {
            if let Some(h) = g.heading {
                rows.push(ScoreRow {
                    label: h,
                    heading: true,
                    score: 0,
                    y: 0,
                    width: 0,
                    text_x: 0,
                    colour: "",
                });
            }
            for (label, score) in g.bars {
                let width = (u32::from(score) * PLOT_WIDTH / 100).max(2);
                rows.push(ScoreRow {
                    label,
                    heading: false,
                    score,
                    y: 0,
                    width,
                    text_x: LABEL_WIDTH + width + 6,
                    colour: score_colour(score),
                });
            }
        }
        for (i, r) in rows.iter_mut().enumerate() {
            r.y = i as u32 * ROW_HEIGHT;
        }
        let plot_height = rows.len() as u32 * ROW_HEIGHT;
        ScoreChart {
            rows,
            plot_height,
            height: plot_height + AXIS_HEIGHT,
            ticks: (0..=4)
                .map(|i| Tick {
                    at: LABEL_WIDTH + i * PLOT_WIDTH / 4,
                    label: (i * 25).to_string(),
                })
                .collect(),
        }
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Geometry of the vertical charts (per day, over time).
pub const V_WIDTH: u32 = 570;
/// Left edge of the plot (the percentage axis is to its left).
pub const V_LEFT: u32 = 44;
/// Top of the plot.
pub const V_TOP: u32 = 10;
/// Height of the plot.
pub const V_PLOT: u32 = 140;
/// Total height, with the date labels below.
pub const V_HEIGHT: u32 = V_TOP + V_PLOT + 40;

fn v_ticks() -> Vec<Tick> {
    (0..=4)
        .map(|i| Tick {
            at: V_TOP + V_PLOT - i * V_PLOT / 4,
            label: (i * 25).to_string(),
        })
        .collect()
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn date_of_day(day: i64) -> String {
    time::Date::from_julian_day(i32::try_from(day + 2_440_588).unwrap_or(i32::MAX))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| day.to_string())
}

/// One day's bar.
pub struct DayBar {
    /// Left edge.
    pub x: u32,
    /// Top of the bar.
    pub y: u32,
    /// Bar width.
    pub width: u32,
    /// Bar height.
    pub height: u32,
    /// Centre, for the labels.
    pub mid: u32,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `MM-DD`, under the bar.
    pub short: String,
    /// Messages that day.
    pub messages: u64,
    /// Share passing DMARC, whole per cent.
    pub rate: u8,
    /// Bar colour.
    pub colour: &'static str,
}

/// DMARC pass rate per day.
pub struct DayChart {
    /// One bar per day with reports, oldest first.
    pub bars: Vec<DayBar>,
    /// Ticks on the percentage axis.
    pub ticks: Vec<Tick>,
}

/// Whole per cent of `part` in `whole` (0 when there is no whole).
pub fn percent(part: u64, whole: u64) -> u8 {
    if whole == 0 {
        0
    } else {
        ((u128::from(part) * 100 + u128::from(whole) / 2) / u128::from(whole)) as u8
    }
}

impl DayChart {
    /// The pass rate of each day over `days` (any number of domains; summed per day),
    /// keeping the last `max_days` days that have reports.
    pub fn new<'a>(days: impl IntoIterator<Item = &'a DayVolume>, max_days: usize) -> DayChart {
        let mut per_day: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for d in days {
            let e = per_day.entry(d.day).or_default();
            e.0 += d.messages;
            e.1 += d.passing;
        }
        let skip = per_day.len().saturating_sub(max_days);
        let kept: Vec<(i64, (u64, u64))> = per_day.into_iter().skip(skip).collect();
        let n = kept.len().max(1) as u32;
        let slot = (V_WIDTH - V_LEFT - 10) / n;
        let width = (slot * 7 / 10).clamp(2, 48);
        let bars = kept
            .into_iter()
            .enumerate()
            .map(|(i, (day, (messages, passing)))| {
                let rate = percent(passing, messages);
                let height = (u32::from(rate) * V_PLOT / 100).max(1);
                let x = V_LEFT + i as u32 * slot + (slot - width) / 2;
                let date = date_of_day(day);
                DayBar {
                    x,
                    y: V_TOP + V_PLOT - height,
                    width,
                    height,
                    mid: x + width / 2,
                    short: date.get(5..).unwrap_or(&date).to_owned(),
                    date,
                    messages,
                    rate,
                    colour: rate_colour(rate),
                }
            })
            .collect();
        DayChart {
            bars,
            ticks: v_ticks(),
        }
    }
}

/// One sending source's stacked bar: passing then failing messages.
pub struct SourceRow {
    /// The sending address.
    pub source: String,
    /// Messages.
    pub messages: u64,
    /// Share passing DMARC, whole per cent.
    pub rate: u8,
    /// Top of the row.
    pub y: u32,
    /// Width of the passing part.
    pub pass_width: u32,
    /// Left edge of the failing part.
    pub fail_x: u32,
    /// Width of the failing part.
    pub fail_width: u32,
    /// Where the numbers are written.
    pub text_x: u32,
}

/// The biggest sending sources, widths scaled to the biggest.
pub struct SourceChart {
    /// Rows, biggest first.
    pub rows: Vec<SourceRow>,
    /// Sources not drawn.
    pub more: usize,
    /// Height.
    pub height: u32,
}

impl SourceChart {
    /// The `max` sources sending the most messages across `sources` (summed over
    /// domains), biggest first.
    pub fn new<'a>(sources: impl IntoIterator<Item = &'a SourceVolume>, max: usize) -> SourceChart {
        let mut per_source: BTreeMap<IpAddr, (u64, u64)> = BTreeMap::new();
        for s in sources {
            let e = per_source.entry(s.source_ip).or_default();
            e.0 += s.count;
            if s.dkim_aligned || s.spf_aligned {
                e.1 += s.count;
            }
        }
        let mut all: Vec<(IpAddr, (u64, u64))> = per_source.into_iter().collect();
        all.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        let more = all.len().saturating_sub(max);
        all.truncate(max);
        let biggest = all.first().map_or(1, |s| s.1.0.max(1));
        let scale = |n: u64| (u128::from(n) * u128::from(PLOT_WIDTH) / u128::from(biggest)) as u32;
        let rows: Vec<SourceRow> = all
            .into_iter()
            .enumerate()
            .map(|(i, (ip, (messages, passing)))| {
                let total = scale(messages).max(2);
                let pass_width = scale(passing).min(total);
                SourceRow {
                    source: ip.to_string(),
                    messages,
                    rate: percent(passing, messages),
                    y: i as u32 * ROW_HEIGHT,
                    pass_width,
                    fail_x: LABEL_WIDTH + pass_width,
                    fail_width: total - pass_width,
                    text_x: LABEL_WIDTH + total + 6,
                }
            })
            .collect();
        SourceChart {
            height: (rows.len() as u32 * ROW_HEIGHT).max(ROW_HEIGHT),
            rows,
            more,
        }
    }
}

/// One point of a line over time.
pub struct TrendPoint {
    /// Centre.
    pub x: u32,
    /// Centre.
    pub y: u32,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Whether its date is written under the axis (not every one fits).
    pub labelled: bool,
    /// The value, 0 to 100.
    pub value: u8,
}

/// A value from 0 to 100 over time, oldest first.
pub struct TrendChart {
    /// The points.
    pub points: Vec<TrendPoint>,
    /// The SVG `points` attribute of the line through them.
    pub line: String,
    /// Ticks on the value axis.
    pub ticks: Vec<Tick>,
}

/// Points of a line from `left` across `span`, one slot per value, oldest first; a
/// missing value keeps its slot and gets no point.
fn line_points(
    values: Vec<(String, Option<u8>)>,
    left: u32,
    span: u32,
    top: u32,
    plot: u32,
) -> Vec<TrendPoint> {
    let n = values.len();
    let step = if n > 1 { span / (n as u32 - 1) } else { 0 };
    // Label at most about eight dates, always the first and the last.
    let every = n.div_ceil(8).max(1);
    values
        .into_iter()
        .enumerate()
        .filter_map(|(i, (date, value))| {
            let value = value?;
            Some(TrendPoint {
                x: left + i as u32 * step,
                y: top + plot - u32::from(value.min(100)) * plot / 100,
                labelled: i % every == 0 || i + 1 == n,
                date,
                value,
            })
        })
        .collect()
}

/// The SVG `points` attribute of a line through `points`.
fn polyline(points: &[TrendPoint]) -> String {
    points
        .iter()
        .map(|p| format!("{},{}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ")
}

impl TrendChart {
    /// Lay out `(date, value)` pairs, oldest first.
    pub fn new(values: Vec<(String, u8)>) -> TrendChart {
        let values = values.into_iter().map(|(d, v)| (d, Some(v))).collect();
        let points = line_points(values, V_LEFT + 20, V_WIDTH - V_LEFT - 40, V_TOP, V_PLOT);
        TrendChart {
            line: polyline(&points),
            points,
            ticks: v_ticks(),
        }
    }
}

/// Geometry of the small per-organisation trend charts (two to a printed line).
pub const S_WIDTH: u32 = 280;
/// Left edge of the plot (0, 50 and 100 are written to its left).
pub const S_LEFT: u32 = 30;
/// Top of the plot.
pub const S_TOP: u32 = 6;
/// Height of the plot.
pub const S_PLOT: u32 = 60;
/// Total height, with the first and last dates below.
pub const S_HEIGHT: u32 = S_TOP + S_PLOT + 18;

/// One organisation's score and DMARC pass rate over the scans, oldest first: two lines
/// in one small chart. A scan with no score (every check could not tell) or no mail in
/// the reports has no point on that line.
pub struct OrgTrendChart {
    /// The score's points.
    pub score: Vec<TrendPoint>,
    /// The score line.
    pub score_line: String,
    /// The DMARC pass rate's points.
    pub rate: Vec<TrendPoint>,
    /// The pass-rate line.
    pub rate_line: String,
    /// Ticks at 0, 50 and 100.
    pub ticks: Vec<Tick>,
    /// The first scan's date.
    pub first: String,
    /// The last scan's date.
    pub last: String,
}

impl OrgTrendChart {
    /// Lay out `(date, score, DMARC pass rate)` per scan, oldest first.
    pub fn new(values: Vec<(String, Option<u8>, Option<u8>)>) -> OrgTrendChart {
        let span = S_WIDTH - S_LEFT - 12;
        let first = values.first().map(|v| v.0.clone()).unwrap_or_default();
        let last = values.last().map(|v| v.0.clone()).unwrap_or_default();
        let score = line_points(
            values.iter().map(|v| (v.0.clone(), v.1)).collect(),
            S_LEFT + 6,
            span,
            S_TOP,
            S_PLOT,
        );
        let rate = line_points(
            values.into_iter().map(|v| (v.0, v.2)).collect(),
            S_LEFT + 6,
            span,
            S_TOP,
            S_PLOT,
        );
        OrgTrendChart {
            score_line: polyline(&score),
            rate_line: polyline(&rate),
            score,
            rate,
            ticks: (0..=2)
                .map(|i| Tick {
                    at: S_TOP + S_PLOT - i * S_PLOT / 2,
                    label: (i * 50).to_string(),
                })
                .collect(),
            first,
            last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: i64, messages: u64, passing: u64) -> DayVolume {
        DayVolume {
            domain: "d.example".into(),
            day,
            messages,
            passing,
        }
    }

    #[test]
    fn days_sum_over_domains_and_keep_the_latest() {
        let mut other = day(20_000, 100, 0);
        other.domain = "e.example".into();
        let days = [
            day(19_999, 10, 10),
            day(20_000, 100, 50),
            other,
            day(20_001, 4, 1),
        ];
        let c = DayChart::new(&days, 2);
        let got: Vec<(String, u64, u8)> = c
            .bars
            .iter()
            .map(|b| (b.date.clone(), b.messages, b.rate))
            .collect();
        assert_eq!(
            got,
            [
                ("2024-10-04".to_owned(), 200, 25),
                ("2024-10-05".to_owned(), 4, 25)
            ]
        );
        assert_eq!(c.bars[0].height, V_PLOT / 4);
        assert_eq!(c.bars[0].y + c.bars[0].height, V_TOP + V_PLOT);
    }

    #[test]
    fn sources_rank_by_volume_and_split_pass_from_fail() {
        let s = |ip: &str, count, pass| SourceVolume {
            domain: "d.example".into(),
            source_ip: ip.parse().unwrap(),
            dkim_aligned: pass,
            spf_aligned: false,
            count,
        };
        let rows = [
            s("192.0.2.1", 10, true),
            s("192.0.2.2", 40, true),
            s("192.0.2.2", 40, false),
            s("192.0.2.3", 1, false),
        ];
        let c = SourceChart::new(&rows, 2);
        assert_eq!(c.more, 1);
        assert_eq!(c.rows[0].source, "192.0.2.2");
        assert_eq!((c.rows[0].messages, c.rows[0].rate), (80, 50));
        assert_eq!(c.rows[0].pass_width, PLOT_WIDTH / 2);
        assert_eq!(c.rows[0].fail_width, PLOT_WIDTH / 2);
        assert_eq!(c.rows[1].pass_width, PLOT_WIDTH / 8);
        assert_eq!(c.rows[1].fail_width, 0);
    }

    #[test]
    fn score_rows_put_headings_above_their_bars() {
        let c = ScoreChart::new(vec![
            ScoreGroup {
                heading: None,
                bars: vec![("HQ".into(), 72)],
            },
            ScoreGroup {
                heading: Some("North".into()),
                bars: vec![("York".into(), 40), ("Leeds".into(), 100)],
            },
            ScoreGroup {
                heading: Some("Empty".into()),
                bars: vec![],
            },
        ]);
        let labels: Vec<(&str, bool, u32)> = c
            .rows
            .iter()
            .map(|r| (r.label.as_str(), r.heading, r.y))
            .collect();
        assert_eq!(
            labels,
            [
                ("HQ", false, 0),
                ("North", true, ROW_HEIGHT),
                ("York", false, 2 * ROW_HEIGHT),
                ("Leeds", false, 3 * ROW_HEIGHT)
            ]
        );
        assert_eq!(c.rows[3].width, PLOT_WIDTH);
        assert_eq!(c.ticks.last().unwrap().at, LABEL_WIDTH + PLOT_WIDTH);
    }

    #[test]
    fn trend_points_rise_with_the_value() {
        let t = TrendChart::new(vec![("2026-11-01".into(), 50), ("2026-12-01".into(), 100)]);
        assert_eq!(t.points[1].y, V_TOP);
        assert_eq!(t.points[0].y, V_TOP + V_PLOT / 2);
        assert!(t.points.iter().all(|p| p.labelled));
        assert_eq!(t.line.split(' ').count(), 2);
    }

    #[test]
    fn org_trends_leave_a_gap_where_a_value_is_missing() {
        let t = OrgTrendChart::new(vec![
            ("2026-11-01".into(), Some(100), None),
            ("2026-11-08".into(), Some(50), Some(0)),
            ("2026-11-15".into(), None, Some(100)),
        ]);
        assert_eq!(t.score.len(), 2);
        assert_eq!(t.rate.len(), 2);
        // The same scan is at the same x on both lines.
        assert_eq!(t.score[1].x, t.rate[0].x);
        assert_eq!(t.score[0].y, S_TOP);
        assert_eq!(t.score[1].y, S_TOP + S_PLOT / 2);
        assert_eq!(t.rate[0].y, S_TOP + S_PLOT);
        assert_eq!(t.rate[1].x, S_LEFT + 6 + 2 * ((S_WIDTH - S_LEFT - 12) / 2));
        assert_eq!(
            (t.first.as_str(), t.last.as_str()),
            ("2026-11-01", "2026-11-15")
        );
        assert_eq!(t.rate_line.split(' ').count(), 2);
    }
}
