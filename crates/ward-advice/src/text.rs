//! Terminal output: tables, with every outside string made safe to print.

use crate::summary::OrgSummary;
use std::borrow::Cow;
use std::io::{self, Write};

/// Escapes what a terminal would act on: C0 and C1 control characters (ESC starts
/// sequences that can rewrite the screen or the clipboard), DEL, bidirectional overrides
/// and zero-width characters that hide text. Each becomes a visible `\u{..}` escape.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    let dangerous = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    if !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes one block per organisation: its counts and its worst findings.
pub fn write_table(w: &mut impl Write, summaries: &[OrgSummary], worst: usize) -> io::Result<()> {
    let name_width = summaries
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(12)
        .clamp(12, 40);
    writeln!(
        w,
        "{:<name_width$}  {:<7} {:<6} {:>7} {:>4} {:>4} {:>4} {:>5}",
        "ORGANISATION", "KIND", "SIZE", "DOMAINS", "PASS", "WARN", "FAIL", "ERROR"
    )?;
    for s in summaries {
        writeln!(
            w,
            "{:<name_width$}  {:<7} {:<6} {:>7} {:>4} {:>4} {:>4} {:>5}",
            terminal_safe(&s.name),
            s.kind.as_str(),
            s.size.as_str(),
            s.domains,
            s.counts.pass,
            s.counts.warn,
            s.counts.fail,
            s.counts.error
        )?;
        for (domain, f) in s.worst.iter().take(worst) {
            writeln!(
                w,
                "    {:<8} {:<6} {:<14} {}: {}",
                f.severity.as_str(),
                f.status.as_str(),
                f.check.as_str(),
                terminal_safe(domain),
                terminal_safe(&f.summary)
            )?;
        }
        // Say that the list is cut, so a reader does not take three rows for all of it.
        let more = s.worst.len().saturating_sub(worst);
        if more > 0 {
            let findings = if more == 1 { "finding" } else { "findings" };
            writeln!(
                w,
                "    {more} more {findings} — see --format json or the report"
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_made_visible() {
        let osc52 = "verify=\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[31mred";
        assert_eq!(
            terminal_safe(osc52),
            "verify=\\u{1b}]52;c;aGVsbG8=\\u{7}\\u{1b}[31mred"
        );
        assert_eq!(terminal_safe("abc\u{202e}cba"), "abc\\u{202e}cba");
        assert!(matches!(terminal_safe("plain text"), Cow::Borrowed(_)));
    }
}
