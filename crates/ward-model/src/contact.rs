//! Who hears about a regression: the contacts of an organisation, as the inventory names
//! them (`[[organisation.contact]]`), with the severity each wants to hear about and the
//! hours they do not want to be disturbed.
//!
//! Parsing the inventory checks these values ([`crate::inventory::parse`] refuses a bad
//! one with its line); [`crate::inventory::contacts`] hands them out.

use crate::Severity;
use time::{OffsetDateTime, UtcOffset};

/// One contact of an organisation: an address to mail, a webhook to call, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The mail address, when the contact gets mail.
    pub email: Option<String>,
    /// The webhook, when the contact gets a signed POST.
    pub webhook: Option<Webhook>,
    /// The least severity worth telling this contact (default medium).
    pub min_severity: Severity,
    /// When not to send; a digest due then is held for the next run outside them.
    pub quiet_hours: Option<QuietHours>,
}

/// The severity a contact hears about when the inventory does not say: medium.
pub fn default_min_severity() -> Severity {
    Severity::Medium
}

/// A webhook: where to POST, and the secret the body is signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The URL (`http://` or `https://`).
    pub url: String,
    /// Where the HMAC key comes from.
    pub secret: Secret,
}

/// Where a webhook's signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The value of this environment variable (read when alerts are sent, so the key
    /// need not be written in the inventory): `webhook_secret_env`.
    Env(String),
    /// Written in the inventory: `webhook_secret`.
    Value(String),
}

/// A daily window, `"22:00-07:00"` (UTC) or `"22:00-07:00+01:00"` (at that offset from
/// UTC); it may wrap past midnight. Start is inside, end is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after midnight, local to `offset`.
    start: u16,
    /// Minutes after midnight, local to `offset`.
    end: u16,
    offset: UtcOffset,
}

impl QuietHours {
    /// Reads `HH:MM-HH:MM`, optionally followed by `+HH:MM`, `-HH:MM` or `Z`.
    pub fn parse(text: &str) -> Result<QuietHours, String> {
        let bad = |why: &str| {
            Err(format!(
                "quiet_hours `{text}`: {why}; write it as \"22:00-07:00\" (UTC) or \"22:00-07:00+01:00\""
            ))
        };
        let t = text.trim();
        let (range, offset) = if let Some(r) = t.strip_suffix('Z') {
            (r, UtcOffset::UTC)
        } else if t.len() > 11 && matches!(t.as_bytes()[11], b'+' | b'-') {
            let (r, o) = t.split_at(11);
            let sign: i8 = if o.starts_with('-') { -1 } else { 1 };
            let Some((h, m)) = hhmm(&o[1..]) else {
                return bad("the offset is not ±HH:MM");
            };
            let (Ok(h), Ok(m)) = (i8::try_from(h), i8::try_from(m)) else {
                return bad("the offset is out of range");
            };
            match UtcOffset::from_hms(sign * h, sign * m, 0) {
                Ok(o) if h <= 14 => (r, o),
                _ => return bad("the offset is out of range"),
            }
        } else {
            (t, UtcOffset::UTC)
        };
        let Some((a, b)) = range.split_once('-') else {
            return bad("no `-` between start and end");
        };
        let (Some(start), Some(end)) = (hhmm(a), hhmm(b)) else {
            return bad("a time is not HH:MM between 00:00 and 23:59");
        };
        if start == end {
            return bad("start and end are the same");
        }
        Ok(QuietHours {
            start: start.0 * 60 + start.1,
            end: end.0 * 60 + end.1,
            offset,
        })
    }

    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        let local = at.to_offset(self.offset);
        let m = u16::from(local.hour()) * 60 + u16::from(local.minute());
        if self.start < self.end {
            (self.start..self.end).contains(&m)
        } else {
            m >= self.start || m < self.end
        }
    }
}

/// `HH:MM` with hours 0-23 and minutes 0-59.
fn hhmm(s: &str) -> Option<(u16, u16)> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_window_past_midnight_holds_the_night_and_not_the_day() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert!(q.contains(datetime!(2026-11-26 23:30 UTC)));
        assert!(q.contains(datetime!(2026-11-26 06:59 UTC)));
        assert!(!q.contains(datetime!(2026-11-26 07:00 UTC)));
        assert!(!q.contains(datetime!(2026-11-26 12:00 UTC)));
    }

    #[test]
    fn an_offset_moves_the_window() {
        // 22:00-07:00 at +01:00 is 21:00-06:00 UTC.
        let q = QuietHours::parse("22:00-07:00+01:00").unwrap();
        assert!(q.contains(datetime!(2026-11-26 21:30 UTC)));
        assert!(!q.contains(datetime!(2026-11-26 06:30 UTC)));
        let day = QuietHours::parse("09:00-17:00Z").unwrap();
        assert!(day.contains(datetime!(2026-11-26 09:00 UTC)));
        assert!(!day.contains(datetime!(2026-11-26 17:00 UTC)));
    }

    #[test]
    fn bad_windows_say_how_to_write_one() {
        assert_eq!(
            QuietHours::parse("25:00-07:00"),
            Err("quiet_hours `25:00-07:00`: a time is not HH:MM between 00:00 and 23:59; write it as \"22:00-07:00\" (UTC) or \"22:00-07:00+01:00\"".into())
        );
        assert!(QuietHours::parse("22:00").unwrap_err().contains("no `-`"));
        assert!(
            QuietHours::parse("22:00-22:00")
                .unwrap_err()
                .contains("the same")
        );
        assert!(
            QuietHours::parse("22:00-07:00+99:00")
                .unwrap_err()
                .contains("offset")
        );
    }
}
