//! How often an organisation wants to be looked at, as its inventory entry says, and
//! the duration syntax that both the inventory and the command line use.

use std::time::Duration;

/// An organisation's own `[organisation.schedule]`: each value given replaces the one it
/// would inherit from the organisation above it (and, at the top, the monitor's
/// flags) for it and everything below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleSetting {
    /// Time between two looks at its DNS and mail records.
    pub every: Option<Duration>,
    /// Time between two probes of its web and mail servers (TLS, STARTTLS, HTTP).
    pub servers_every: Option<Duration>,
    /// A certificate expiring within this long has its servers probed at every look.
    pub certs_within: Option<Duration>,
}

/// The longest duration accepted anywhere: a schedule of more than a year is a typo.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// Reads `30s`, `10m`, `6h`, `7d` or `250ms` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (say 30s, 10m, 6h or 7d)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m, h or d)"
            ));
        }
    };
    if !(0.0..=MAX_DURATION.as_secs_f64()).contains(&secs) {
        return Err(format!("`{text}` is out of range (0 to 366 days)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("400d").is_err());
    }
}
