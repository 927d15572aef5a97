//! The briefing for elected members and candidates on their own accounts and devices
//! (`ward brochure`): one printable page, self-contained like the report.

use askama::Template;
use std::io::{self, Write};

#[derive(Template)]
#[template(path = "brochure.html")]
struct Brochure<'a> {
    party: &'a str,
}

/// Writes the brochure; `party` (may be empty) is named in its opening line.
pub fn write_brochure(w: &mut impl Write, party: &str) -> io::Result<()> {
    let html = Brochure { party }.render().map_err(io::Error::other)?;
    w.write_all(html.as_bytes())
}

/// The brochure's words without markup, for the readability test and for checks.
pub fn brochure_text() -> String {
    let mut html = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_brochure(&mut html, "");
    let html = String::from_utf8_lossy(&html);
    let body = html
        .split_once("<div id=\"brochure-text\">")
        .and_then(|(_, rest)| rest.split_once("</div>\n</main>"))
        .map_or(String::new(), |(body, _)| body.to_owned());
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readability::flesch;

    #[test]
    fn brochure_is_plain_english_and_names_the_party() {
        let text = brochure_text();
        assert!(text.contains("Keep party and council work off your personal email."));
        let score = flesch(&text).unwrap();
        assert!(score >= 60.0, "brochure reads at {score:.1}");
        let mut out = Vec::new();
        write_brochure(&mut out, "Example <Party>").unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains("candidates of Example &#60;Party&#62;."));
    }
}
