//! `Content-Security-Policy` header values, CSP Level 3 §2.2.1 ("parse a serialized CSP").
//!
//! ```text
//! serialized-policy    = serialized-directive *( OWS ";" [ OWS serialized-directive ] )
//! serialized-directive = directive-name [ required-ascii-whitespace directive-value ]
//! directive-name       = 1*( ALPHA / DIGIT / "-" )
//! directive-value      = *( required-ascii-whitespace / ( %x21-%x2B / %x2D-%x3A / %x3C-%x7E ) )
//! ```
//!
//! Following the algorithm: the value is split on `;`, each piece trimmed, empty pieces
//! skipped; names are lower-cased; a repeated directive is ignored (the first one counts) and
//! reported as a warning; a directive containing non-ASCII is skipped with a warning. A
//! header holding several policies separated by `,` is split with [`parse_list`]. An empty
//! policy is refused: a header that says nothing protects nothing.
#![deny(missing_docs)]

use serde::Serialize;

/// Bounds checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest header value, in bytes. Default 16 KiB.
    pub max_bytes: usize,
    /// Most directives in one policy. Default 64.
    pub max_directives: usize,
    /// Most source expressions in one policy. Default 1024.
    pub max_sources: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024,
            max_directives: 64,
            max_sources: 1024,
        }
    }
}

/// A keyword source (quoted in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Keyword {
    /// `'self'`
    SelfOrigin,
    /// `'none'`
    None,
    /// `'unsafe-inline'`
    UnsafeInline,
    /// `'unsafe-eval'`
    UnsafeEval,
    /// `'strict-dynamic'`
    StrictDynamic,
    /// `'unsafe-hashes'`
    UnsafeHashes,
    /// `'report-sample'`
    ReportSample,
    /// `'unsafe-allow-redirects'`
    UnsafeAllowRedirects,
    /// `'wasm-unsafe-eval'`
    WasmUnsafeEval,
    /// `'inline-speculation-rules'`
    InlineSpeculationRules,
}

/// One source expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Source {
    /// A keyword.
    Keyword(Keyword),
    /// `'nonce-<base64>'`, with the value.
    Nonce(String),
    /// `'sha256-…'` / `'sha384-…'` / `'sha512-…'`: algorithm and value.
    Hash(String, String),
    /// `scheme:` (lower-cased, without the colon).
    Scheme(String),
    /// Anything else unquoted: a host source (`*`, `*.example.org`, `https://x/path`).
    Host(String),
    /// A quoted expression that is not a known keyword, nonce or hash.
    UnknownQuoted(String),
}

/// One directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// Lower-cased name.
    pub name: String,
    /// The value tokens as written.
    pub values: Vec<String>,
    /// The tokens classified as source expressions.
    pub sources: Vec<Source>,
    /// Byte position of the name.
    pub at: usize,
}

impl Directive {
    /// Whether the source list holds `k`.
    pub fn has(&self, k: Keyword) -> bool {
        self.sources.contains(&Source::Keyword(k))
    }

    /// Whether the value fits the directive's grammar: no value for
    /// `upgrade-insecure-requests` and `block-all-mixed-content`; for source-list directives,
    /// no quoted expression that is not a keyword, nonce or hash (`'sha513-…'`, a nonce with
    /// `=` inside). Other directives are not checked.
    pub fn well_formed(&self) -> bool {
        match self.name.as_str() {
            "upgrade-insecure-requests" | "block-all-mixed-content" => self.values.is_empty(),
            n if n.ends_with("-src") || n == "base-uri" || n == "form-action" => !self
                .sources
                .iter()
                .any(|s| matches!(s, Source::UnknownQuoted(_))),
            _ => true,
        }
    }

    /// Whether `'unsafe-inline'` takes effect: CSP3 §6.7.3.3 ignores it when the list also
    /// holds a nonce or hash, or (for scripts) `'strict-dynamic'`.
    pub fn inline_allowed(&self) -> bool {
        self.has(Keyword::UnsafeInline)
            && !self
                .sources
                .iter()
                .any(|s| matches!(s, Source::Nonce(_) | Source::Hash(..)))
            && !(self.name.starts_with("script-src") && self.has(Keyword::StrictDynamic))
    }
}

/// What a policy fails to protect against, as ward judges it (see `web.csp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Weakness {
    /// A directive that governs nothing when absent: `default-src`, `object-src` (with no
    /// `default-src` to fall back to), `base-uri` or `frame-ancestors`.
    Missing(&'static str),
    /// `'unsafe-inline'` in effect in this directive.
    UnsafeInline(String),
    /// `'unsafe-eval'` in a script directive (or `default-src` standing in for one).
    UnsafeEval(String),
    /// A source that admits any host, or plain HTTP: `*`, `http:`, `https:`, `data:` (for
    /// scripts and objects), `http://…`, a host that is only a wildcard.
    Permissive(String, String),
    /// A keyword written without its quotes (`self`), which names a host called "self".
    Unquoted(String, String),
}

impl Policy {
    /// Every weakness, in directive order after the missing ones.
    pub fn weaknesses(&self) -> Vec<Weakness> {
        let mut out = Vec::new();
        if self.get("default-src").is_none() {
            out.push(Weakness::Missing("default-src"));
        }
        if self.effective("object-src").is_none() {
            out.push(Weakness::Missing("object-src"));
        }
        for name in ["base-uri", "frame-ancestors"] {
            if self.get(name).is_none() {
                out.push(Weakness::Missing(name));
            }
        }
        for d in &self.directives {
            let scripty = d.name.starts_with("script-src") || d.name == "default-src";
            let source_list = d.name.ends_with("-src")
                || matches!(
                    d.name.as_str(),
                    "base-uri" | "form-action" | "frame-ancestors"
                );
            if !source_list {
                continue;
            }
            if d.inline_allowed() {
                out.push(Weakness::UnsafeInline(d.name.clone()));
            }
            if scripty && d.has(Keyword::UnsafeEval) {
                out.push(Weakness::UnsafeEval(d.name.clone()));
            }
            for (v, s) in d.values.iter().zip(&d.sources) {
                let lower = v.to_ascii_lowercase();
                let permissive = match s {
                    Source::Scheme(sc) => {
                        sc == "http"
                            || sc == "https"
                            || (sc == "data" && (scripty || d.name == "object-src"))
                    }
                    Source::Host(_) => {
                        let rest = lower
                            .strip_prefix("http://")
                            .map(|r| (true, r))
                            .or_else(|| lower.strip_prefix("https://").map(|r| (false, r)))
                            .or_else(|| lower.strip_prefix("*://").map(|r| (true, r)));
                        let (insecure, host) = rest.unwrap_or((false, lower.as_str()));
                        let host = host.split(['/', ':']).next().unwrap_or("");
                        insecure || host == "*" || host.is_empty()
                    }
                    _ => false,
                };
                if permissive {
                    out.push(Weakness::Permissive(d.name.clone(), v.clone()));
                }
                if matches!(
                    lower.as_str(),
                    "self" | "none" | "unsafe-inline" | "unsafe-eval" | "strict-dynamic"
                ) {
                    out.push(Weakness::Unquoted(d.name.clone(), v.clone()));
                }
            }
        }
        out
    }
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The policy text as received.
    pub raw: String,
    /// Directives in order, first occurrence only.
    pub directives: Vec<Directive>,
    /// Non-fatal observations.
    pub warnings: Vec<CspWarning>,
}

/// Fetch directives that fall back to `default-src` (CSP3 §6.8.3, simplified to the direct
/// fallback).
const FALLS_BACK: &[&str] = &[
    "child-src",
    "connect-src",
    "font-src",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "worker-src",
];

impl Policy {
    /// The directive named `name` (lower-case), if present.
    pub fn get(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.name == name)
    }

    /// The directive that governs `name`: itself, or `default-src` for fetch directives.
    pub fn effective(&self, name: &str) -> Option<&Directive> {
        self.get(name).or_else(|| {
            if FALLS_BACK.contains(&name) {
                self.get("default-src")
            } else {
                None
            }
        })
    }
}

/// Non-fatal observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CspWarning {
    /// A directive repeated; the repeat is ignored.
    Duplicate {
        /// Name.
        name: String,
        /// Position of the repeat.
        at: usize,
    },
    /// A directive whose name is not `1*(ALPHA / DIGIT / "-")` or that holds non-ASCII;
    /// skipped.
    Skipped {
        /// Position.
        at: usize,
    },
    /// A directive name CSP3 does not define (kept, but browsers ignore it).
    Unknown {
        /// Name.
        name: String,
        /// Position.
        at: usize,
    },
    /// `'none'` together with other sources (browsers ignore `'none'` then).
    NoneWithOthers {
        /// Directive.
        name: String,
        /// Position.
        at: usize,
    },
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum CspError {
    /// Longer than [`Limits::max_bytes`].
    #[error("policy is {len} bytes, over the {limit}-byte limit")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_directives`] directives.
    #[error("more than {limit} directives")]
    TooManyDirectives {
        /// Limit.
        limit: usize,
    },
    /// More than [`Limits::max_sources`] source expressions.
    #[error("more than {limit} source expressions")]
    TooManySources {
        /// Limit.
        limit: usize,
    },
    /// No directive at all.
    #[error("policy holds no directive")]
    Empty,
}

const KNOWN: &[&str] = &[
    "base-uri",
    "block-all-mixed-content",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "plugin-types",
    "prefetch-src",
    "report-to",
    "report-uri",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
    "worker-src",
];

fn ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// Classifies one source-expression token.
pub fn classify(token: &str) -> Source {
    let lower = token.to_ascii_lowercase();
    if let Some(inner) = lower
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .filter(|_| token.len() >= 2)
    {
        let kw = match inner {
            "self" => Some(Keyword::SelfOrigin),
            "none" => Some(Keyword::None),
            "unsafe-inline" => Some(Keyword::UnsafeInline),
            "unsafe-eval" => Some(Keyword::UnsafeEval),
            "strict-dynamic" => Some(Keyword::StrictDynamic),
            "unsafe-hashes" => Some(Keyword::UnsafeHashes),
            "report-sample" => Some(Keyword::ReportSample),
            "unsafe-allow-redirects" => Some(Keyword::UnsafeAllowRedirects),
            "wasm-unsafe-eval" => Some(Keyword::WasmUnsafeEval),
            "inline-speculation-rules" => Some(Keyword::InlineSpeculationRules),
            _ => None,
        };
        if let Some(k) = kw {
            return Source::Keyword(k);
        }
        // The value keeps its case: base64 is case-sensitive.
        let orig = &token[1..token.len() - 1];
        // base64-value = 1*( ALPHA / DIGIT / "+" / "/" / "-" / "_" )*2( "=" )
        let b64 = |v: &str| {
            let body = v.trim_end_matches('=');
            !body.is_empty()
                && v.len() - body.len() <= 2
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b))
        };
        if inner.starts_with("nonce-") && b64(&orig[6..]) {
            return Source::Nonce(orig[6..].to_string());
        }
        for alg in ["sha256", "sha384", "sha512"] {
            if inner.starts_with(alg) && inner.as_bytes().get(6) == Some(&b'-') && b64(&orig[7..]) {
                return Source::Hash(alg.to_string(), orig[7..].to_string());
            }
        }
        return Source::UnknownQuoted(token.to_string());
    }
    if let Some(scheme) = lower.strip_suffix(':')
        && !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Source::Scheme(scheme.to_string());
    }
    Source::Host(token.to_string())
}

/// Parses one serialized policy (no `,`-splitting).
pub fn parse(text: &str, limits: &Limits) -> Result<Policy, CspError> {
    parse_at(text, 0, limits)
}

/// Parses a header value that may hold several policies separated by `,` (CSP3 §2.2.2).
/// Empty members are skipped; if none remains, [`CspError::Empty`].
pub fn parse_list(text: &str, limits: &Limits) -> Result<Vec<Policy>, CspError> {
    if text.len() > limits.max_bytes {
        return Err(CspError::TooLong {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    let mut out = Vec::new();
    let mut off = 0;
    for part in text.split(',') {
        match parse_at(part, off, limits) {
            Ok(p) => out.push(p),
            Err(CspError::Empty) => {}
            Err(e) => return Err(e),
        }
        off += part.len() + 1;
    }
    if out.is_empty() {
        return Err(CspError::Empty);
    }
    Ok(out)
}

fn parse_at(text: &str, base: usize, limits: &Limits) -> Result<Policy, CspError> {
    if text.len() > limits.max_bytes {
        return Err(CspError::TooLong {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    let mut directives: Vec<Directive> = Vec::new();
    let mut warnings = Vec::new();
    let mut sources = 0usize;
    let mut off = 0usize;
    let mut pieces = 0usize;
    for piece in text.split(';') {
        let piece_at = off;
        off += piece.len() + 1;
        let lead = piece.len()
            - piece
                .trim_start_matches(|c: char| c.is_ascii() && ascii_ws(c as u8))
                .len();
        let token = piece.trim_matches(|c: char| c.is_ascii() && ascii_ws(c as u8));
        if token.is_empty() {
            continue;
        }
        pieces += 1;
        if pieces > limits.max_directives {
            return Err(CspError::TooManyDirectives {
                limit: limits.max_directives,
            });
        }
        let at = base + piece_at + lead;
        if !token.is_ascii() {
            warnings.push(CspWarning::Skipped { at });
            continue;
        }
        let name_end = token.bytes().position(ascii_ws).unwrap_or(token.len());
        let raw_name = &token[..name_end];
        if !raw_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            warnings.push(CspWarning::Skipped { at });
            continue;
        }
        let name = raw_name.to_ascii_lowercase();
        if directives.iter().any(|d| d.name == name) {
            warnings.push(CspWarning::Duplicate { name, at });
            continue;
        }
        if !KNOWN.contains(&name.as_str()) {
            warnings.push(CspWarning::Unknown {
                name: name.clone(),
                at,
            });
        }
        let values: Vec<String> = token[name_end..]
            .split(|c: char| c.is_ascii() && ascii_ws(c as u8))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        sources += values.len();
        if sources > limits.max_sources {
            return Err(CspError::TooManySources {
                limit: limits.max_sources,
            });
        }
        let srcs: Vec<Source> = values.iter().map(|v| classify(v)).collect();
        if srcs.len() > 1 && srcs.contains(&Source::Keyword(Keyword::None)) {
            warnings.push(CspWarning::NoneWithOthers {
                name: name.clone(),
                at,
            });
        }
        directives.push(Directive {
            name,
            values,
            sources: srcs,
            at,
        });
    }
    if directives.is_empty() {
        return Err(CspError::Empty);
    }
    Ok(Policy {
        raw: text.to_string(),
        directives,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Policy, CspError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn directives_and_sources() {
        let pol = p("default-src 'self'; script-src 'unsafe-inline' 'nonce-AbC=' 'sha256-xY/+=' https: cdn.example.org; object-src 'none'").unwrap();
        assert_eq!(pol.directives.len(), 3);
        let s = pol.get("script-src").unwrap();
        assert_eq!(s.at, 20);
        assert_eq!(
            s.sources,
            vec![
                Source::Keyword(Keyword::UnsafeInline),
                Source::Nonce("AbC=".into()),
                Source::Hash("sha256".into(), "xY/+=".into()),
                Source::Scheme("https".into()),
                Source::Host("cdn.example.org".into()),
            ]
        );
        assert!(s.has(Keyword::UnsafeInline));
        assert_eq!(pol.effective("img-src").unwrap().name, "default-src");
        assert!(pol.effective("base-uri").is_none());
        assert!(pol.warnings.is_empty());
    }

    #[test]
    fn duplicates_first_wins() {
        let pol = p("Script-Src 'self'; script-src 'unsafe-eval'").unwrap();
        assert_eq!(pol.directives.len(), 1);
        assert_eq!(pol.directives[0].name, "script-src");
        assert!(!pol.directives[0].has(Keyword::UnsafeEval));
        assert_eq!(
            pol.warnings,
            vec![CspWarning::Duplicate {
                name: "script-src".into(),
                at: 19
            }]
        );
    }

    #[test]
    fn empty_and_limits() {
        assert_eq!(p(""), Err(CspError::Empty));
        assert_eq!(p(" ;\r\n; "), Err(CspError::Empty));
        let l = Limits {
            max_directives: 2,
            ..Limits::default()
        };
        assert_eq!(
            parse("a; b; c", &l),
            Err(CspError::TooManyDirectives { limit: 2 })
        );
        let pol = p("img-src \u{1F4A9}; default-src 'none'").unwrap();
        assert_eq!(pol.warnings, vec![CspWarning::Skipped { at: 0 }]);
    }

    #[test]
    fn list_splits_on_comma() {
        let l = parse_list("default-src 'self', script-src 'none'", &Limits::default()).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].directives[0].at, 20);
    }

    #[test]
    fn weaknesses() {
        let pol = p("script-src 'unsafe-inline' 'unsafe-eval' https: *.cdn.example; style-src 'unsafe-inline' 'nonce-abc'; frame-ancestors self").unwrap();
        assert_eq!(
            pol.weaknesses(),
            vec![
                Weakness::Missing("default-src"),
                Weakness::Missing("object-src"),
                Weakness::Missing("base-uri"),
                Weakness::UnsafeInline("script-src".into()),
                Weakness::UnsafeEval("script-src".into()),
                Weakness::Permissive("script-src".into(), "https:".into()),
                Weakness::Unquoted("frame-ancestors".into(), "self".into()),
            ]
        );
        let good = p("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; script-src 'strict-dynamic' 'nonce-r4nd' 'unsafe-inline' https://x.example").unwrap();
        assert_eq!(good.weaknesses(), vec![]);
        let fb = p("default-src *; base-uri 'self'; frame-ancestors 'self'").unwrap();
        assert_eq!(
            fb.weaknesses(),
            vec![Weakness::Permissive("default-src".into(), "*".into())]
        );
        assert_eq!(
            classify("'nonce-ab=c'"),
            Source::UnknownQuoted("'nonce-ab=c'".into())
        );
        assert_eq!(classify("'nonce-abc=='"), Source::Nonce("abc==".into()));
    }
}
