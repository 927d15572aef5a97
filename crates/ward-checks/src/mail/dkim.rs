//! The `dkim.*` checks: key records at selectors from a built-in list of the selectors
//! common mail providers use, plus the selectors named in the inventory, plus the
//! selectors the domain's DMARC aggregate reports show verifying its mail
//! ([`Asset::reported_dkim_selectors`]). The evidence says where each selector came from.
//!
//! Selectors cannot be listed from DNS, so "no key found" is only a finding when the
//! inventory names the selectors in use; otherwise it is `info`.
//!
//! | check | pass | warn | fail | error |
//! |---|---|---|---|---|
//! | `dkim.present` | a usable key at some selector | | no key at a selector the inventory names; only revoked keys | a selector lookup failed and no key was found |
//! | `dkim.strength` | every usable key RSA ≥ 2048 or Ed25519 | an RSA key of 1024–2047 bits | an RSA key under 1024 bits; every key revoked | |
//! | `dkim.syntax` | every key record parses | | a key record is refused | |

use super::{Txt, domain_unreachable};
use crate::{Context, Stakes, finding};
use serde_json::{Value, json};
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::lookup::{DnsSource, Lookup};
use ward_model::observe::AssetObservation;
use ward_model::{Asset, DnsOutcome, Finding, Severity, Status};
use ward_records::dkim::{self, DkimKey, HashAlg, KeyType, Limits, PublicKey};

/// Selectors used by common mail providers, tried for every mail domain: Google Workspace
/// (`google`), Microsoft 365 (`selector1`, `selector2`), Mailchimp/Mandrill (`k1`, `k2`,
/// `k3`, `mandrill`), SendGrid and others (`s1`, `s2`), Fastmail (`fm1`–`fm3`), Proton
/// (`protonmail`, `protonmail2`, `protonmail3`), Zoho (`zoho`), Postmark (`pm`), Amazon SES
/// custom setups and hosting panels (`default`, `dkim`, `mail`, `smtp`).
pub const BUILTIN_SELECTORS: &[&str] = &[
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "default",
    "dkim",
    "mail",
    "smtp",
    "fm1",
    "fm2",
    "fm3",
    "protonmail",
    "protonmail2",
    "protonmail3",
    "zoho",
    "mandrill",
    "pm",
];

/// Most selectors tried for one domain (built-in, inventory and reports).
const MAX_SELECTORS: usize = 40;

/// Where a selector that is tried came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// [`BUILTIN_SELECTORS`].
    BuiltIn,
    /// The inventory's `dkim_selectors`.
    Inventory,
    /// DMARC aggregate reports: mail from the domain verified with it.
    Reports,
}

impl Origin {
    /// In the order evidence lists them.
    const ALL: [Origin; 3] = [Origin::BuiltIn, Origin::Inventory, Origin::Reports];

    fn bit(self) -> u8 {
        1 << self as u8
    }

    fn as_str(self) -> &'static str {
        match self {
            Origin::BuiltIn => "built-in",
            Origin::Inventory => "inventory",
            Origin::Reports => "reports",
        }
    }
}

/// A selector to try and where it came from (one or more places). The probe asks for
/// the list every round, so built-in names are borrowed and origins are bits.
struct Selector {
    name: std::borrow::Cow<'static, str>,
    /// [`Origin::bit`]s.
    from: u8,
}

impl Selector {
    /// Whether someone told us about it (inventory or reports), so that it is asked even
    /// when `_domainkey.<domain>` does not exist.
    fn told(&self) -> bool {
        self.from & !Origin::BuiltIn.bit() != 0
    }

    fn origins_json(&self) -> Vec<&'static str> {
        origins_json(self.from)
    }
}

/// The names of the origins in `bits` ([`Origin::bit`]s), in [`Origin::ALL`]'s order.
fn origins_json(bits: u8) -> Vec<&'static str> {
    Origin::ALL
        .iter()
        .filter(|o| bits & o.bit() != 0)
        .map(|o| o.as_str())
        .collect()
}

/// A selector as given, lower case and without a trailing dot, if it is a valid DNS
/// label sequence.
fn normalise(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !s.is_empty()
        && s.len() <= 200
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then_some(s)
}

const PRESENT: Stakes = Stakes::flat(Severity::Medium);
const STRENGTH: Stakes = Stakes::flat(Severity::Medium);
const SYNTAX: Stakes = Stakes::flat(Severity::Medium);

/// The selectors tried for `asset`: the built-in list, then the inventory's, then those
/// the reports show, each once (with every place it came from).
fn selectors(asset: &Asset) -> Vec<Selector> {
    let mut out: Vec<Selector> = BUILTIN_SELECTORS
        .iter()
        .map(|s| Selector {
            name: (*s).into(),
            from: Origin::BuiltIn.bit(),
        })
        .collect();
    for (list, origin) in [
        (&asset.dkim_selectors, Origin::Inventory),
        (&asset.reported_dkim_selectors, Origin::Reports),
    ] {
        for s in list.iter().filter_map(|s| normalise(s)) {
            match out.iter_mut().find(|x| x.name == s) {
                Some(x) => x.from |= origin.bit(),
                None => out.push(Selector {
                    name: s.into(),
                    from: origin.bit(),
                }),
            }
        }
    }
    out.truncate(MAX_SELECTORS);
    out
}

fn name(selector: &str, domain: &str) -> String {
    let mut q = String::with_capacity(selector.len() + 12 + domain.len());
    q.push_str(selector);
    q.push_str("._domainkey.");
    q.push_str(domain);
    q
}

/// The name every selector hangs under.
fn parent(domain: &str) -> String {
    format!("_domainkey.{domain}")
}

/// Whether `_domainkey.<domain>` does not exist. An NXDOMAIN there means no name below it
/// exists either (RFC 8020), so no built-in selector can hold a key and none is asked: for
/// a domain without DKIM that is one question instead of one per selector. Selectors the
/// inventory names or the reports show are asked regardless, so a server that wrongly
/// answers NXDOMAIN for an empty non-terminal still cannot hide a key we were told about.
fn parent_missing(dns: &dyn DnsSource, domain: &str) -> bool {
    matches!(
        dns.query(&parent(domain), "TXT"),
        Lookup::Done(DnsOutcome::NxDomain { .. })
    )
}

/// The TXT questions: `_domainkey.<domain>` first, then every selector unless that name
/// does not exist (then only the inventory's and the reports'). Failed or truncated
/// answers for the parent count as "exists": when in doubt, ask.
pub(crate) fn needed(asset: &Asset, obs: &AssetObservation) -> Vec<(String, String)> {
    let domain = asset.domain.as_str();
    let mut out = vec![(parent(domain), "TXT".to_owned())];
    // Until `_domainkey.<domain>` is answered, only it and the selectors we were told
    // about are asked; the probe comes back for the rest.
    let skip_builtin = match obs.query(&parent(domain), "TXT") {
        Lookup::NotFetched => true,
        Lookup::Done(o) => matches!(o, DnsOutcome::NxDomain { .. }),
    };
    out.extend(
        selectors(asset)
            .iter()
            .filter(|s| !skip_builtin || s.told())
            .map(|s| (name(&s.name, domain), "TXT".to_owned())),
    );
    out
}

/// What the DKIM checks found, for the bulk-sender check.
#[derive(Debug, Clone)]
pub(crate) struct DkimOutcome {
    pub findings: Vec<Finding>,
    /// Selectors with a usable (parsed, not revoked) key.
    pub usable: Vec<String>,
    /// Whether the answer is known (no lookup failed or was missing, or a key was found).
    pub known: bool,
}

/// Whether a TXT text at a selector looks like a DKIM key record: it starts with
/// `v=DKIM1` or has a `p=` tag (RFC 6376 §3.6.1 makes `p` the one required tag).
fn looks_like_key(text: &str) -> bool {
    text.split(';').any(|term| {
        let (k, v) = term.split_once('=').unwrap_or((term, ""));
        let k = k.trim();
        k == "p" || (k == "v" && v.trim() == "DKIM1")
    })
}

/// Bits, or a word, for evidence.
fn describe(key: &DkimKey) -> String {
    match &key.key {
        PublicKey::Revoked => "revoked (empty p=)".into(),
        PublicKey::Rsa { bits, .. } => format!("RSA {bits}-bit"),
        PublicKey::Ed25519 { .. } => "Ed25519".into(),
    }
}

pub(crate) fn judge(ctx: &Context<'_>) -> DkimOutcome {
    let domain = ctx.asset.domain.as_str();
    if let Some(failure) = domain_unreachable(ctx.obs, domain) {
        let why = format!(
            "could not tell: {domain}'s nameservers did not answer ({failure}), so DKIM keys were not looked up"
        );
        let findings = [
            CheckId::DkimPresent,
            CheckId::DkimStrength,
            CheckId::DkimSyntax,
        ]
        .iter()
        .map(|c| finding(ctx, *c, Status::Error, PRESENT, why.clone(), Value::Null))
        .collect();
        return DkimOutcome {
            findings,
            usable: Vec::new(),
            known: false,
        };
    }
    let named: Vec<String> = ctx
        .asset
        .dkim_selectors
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut keys: Vec<(String, DkimKey)> = Vec::new();
    let mut refused: Vec<Value> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    // Selectors tried, grouped by what was found and where they came from: most of the
    // list shares one state ("absent"), and one entry per group keeps the evidence short.
    let mut tried: Vec<(&'static str, u8, Vec<&str>)> = Vec::new();
    let mut tried_count = 0;
    let no_parent = parent_missing(ctx.obs, domain);
    let sels = selectors(ctx.asset);
    let from_of = |sel: &str| {
        sels.iter()
            .find(|s| s.name == sel)
            .map(Selector::origins_json)
            .unwrap_or_default()
    };
    for selector in &sels {
        let sel = &selector.name;
        let qname = name(sel, domain);
        let mut txt = Txt::get(ctx.obs, &qname);
        let mut state = txt.state();
        if no_parent && matches!(txt, Txt::NotFetched) {
            // Not asked because `_domainkey.<domain>` does not exist: see `needed`.
            txt = Txt::Absent;
            state = "absent_no_domainkey_name";
        }
        tried_count += 1;
        match tried
            .iter_mut()
            .find(|(st, from, _)| *st == state && *from == selector.from)
        {
            Some((_, _, names)) => names.push(sel),
            None => tried.push((state, selector.from, vec![sel])),
        }
        if let Some(why) = txt.unknown(&qname) {
            unknown.push(why);
            continue;
        }
        if let Txt::Records(texts) = &txt {
            // Wildcard TXT records (`* IN TXT "v=spf1 -all"`) answer at every selector;
            // only texts that look like key records are judged as keys.
            for t in texts.iter().filter(|t| looks_like_key(t)) {
                match dkim::parse(t, &Limits::default()) {
                    Ok(k) => keys.push((sel.to_string(), k)),
                    Err(e) => refused.push(json!({
                        "selector": sel, "record": t, "error": e, "message": e.to_string()
                    })),
                }
            }
        }
    }
    // A wildcard that answers every selector with the same key record (GDS advises
    // `*._domainkey` with `v=DKIM1; p=` on domains that send no mail) is one key, not one
    // per selector tried.
    if let Some((_, first)) = keys.first() {
        let raw = first.raw.clone();
        if tried_count >= 3 && keys.len() == tried_count && keys.iter().all(|(_, k)| k.raw == raw) {
            keys.truncate(1);
            if let Some((sel, _)) = keys.first_mut() {
                *sel = "*".to_owned();
            }
        }
    }
    let usable: Vec<&(String, DkimKey)> = keys
        .iter()
        .filter(|(_, k)| k.key != PublicKey::Revoked)
        .collect();
    let revoked: Vec<&str> = keys
        .iter()
        .filter(|(_, k)| k.key == PublicKey::Revoked)
        .map(|(s, _)| s.as_str())
        .collect();
    let found: Vec<Value> = keys
        .iter()
        .map(|(s, k)| json!({ "selector": s, "key": describe(k), "testing": k.testing(), "record": k.raw, "from": from_of(s) }))
        .collect();
    let ev = Evidence::from(json!({
        "found": found,
        "refused": refused,
        "tried": tried
            .iter()
            .map(|(state, from, names)| json!({ "state": state, "from": origins_json(*from), "selectors": names }))
            .collect::<Vec<_>>(),
        "domainkey_name_exists": !no_parent,
    }));
    let mut out = Vec::new();
    // dkim.present
    let missing_named: Vec<&str> = named
        .iter()
        .filter(|n| !keys.iter().any(|(s, _)| s == *n))
        .map(String::as_str)
        .collect();
    let present = if !usable.is_empty() {
        let sels: Vec<&str> = usable.iter().map(|(s, _)| s.as_str()).collect();
        // Keys only the mail reports led us to: no built-in list would have found them.
        let via_reports: Vec<&str> = sels
            .iter()
            .copied()
            .filter(|s| from_of(s) == [Origin::Reports.as_str()])
            .collect();
        if missing_named.is_empty() || !unknown.is_empty() {
            finding(
                ctx,
                CheckId::DkimPresent,
                Status::Pass,
                PRESENT,
                format!(
                    "{domain} publishes DKIM keys at selector(s) {}{}",
                    sels.join(", "),
                    if via_reports.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} known from the domain's DMARC reports)",
                            via_reports.join(", ")
                        )
                    }
                ),
                ev.clone(),
            )
        } else {
            finding(
                ctx,
                CheckId::DkimPresent,
                Status::Fail,
                PRESENT,
                format!(
                    "the inventory names DKIM selector(s) {} for {domain}, but no key is published there (keys found at {})",
                    missing_named.join(", "),
                    sels.join(", ")
                ),
                ev.clone(),
            )
        }
    } else if let Some(first) = unknown.first() {
        finding(
            ctx,
            CheckId::DkimPresent,
            Status::Error,
            PRESENT,
            format!("could not tell whether {domain} publishes DKIM keys: {first}"),
            ev.clone(),
        )
    } else if !revoked.is_empty() {
        finding(
            ctx,
            CheckId::DkimPresent,
            Status::Fail,
            PRESENT,
            format!(
                "every DKIM key found for {domain} is revoked (selector(s) {}): its mail cannot be DKIM-signed",
                revoked.join(", ")
            ),
            ev.clone(),
        )
    } else if !named.is_empty() {
        finding(
            ctx,
            CheckId::DkimPresent,
            Status::Fail,
            PRESENT,
            format!(
                "no DKIM key at the selector(s) the inventory names for {domain} ({})",
                named.join(", ")
            ),
            ev.clone(),
        )
    } else {
        finding(
            ctx,
            CheckId::DkimPresent,
            Status::Info,
            PRESENT,
            format!(
                "no DKIM key found for {domain} at {} common selectors; name your selectors in the inventory (dkim_selectors) to have them checked",
                tried_count
            ),
            ev.clone(),
        )
    };
    out.push(present);
    // dkim.strength
    let weakest = usable
        .iter()
        .filter_map(|(s, k)| match (&k.key_type, &k.key) {
            (KeyType::Rsa, PublicKey::Rsa { bits, .. }) => Some((s.as_str(), *bits)),
            _ => None,
        })
        .min_by_key(|(_, b)| *b);
    // RFC 8301 §3.1: verifiers must not accept SHA-1 signatures, so a key whose `h=` tag
    // allows only SHA-1 can sign nothing a receiver will accept, whatever its size.
    let sha1_only = usable
        .iter()
        .find(|(_, k)| !k.allows(&HashAlg::Sha256))
        .map(|(s, _)| s.as_str());
    let strength = match (weakest, usable.is_empty()) {
        _ if sha1_only.is_some() => finding(
            ctx,
            CheckId::DkimStrength,
            Status::Fail,
            STRENGTH,
            format!(
                "the DKIM key at selector {} of {domain} allows only SHA-1 signatures (h=sha1): receivers must reject SHA-1 (RFC 8301 §3.1), so mail signed with it fails DKIM; publish the key with h=sha256 or without h=",
                sha1_only.unwrap_or_default()
            ),
            ev.clone(),
        ),
        (_, true) if !revoked.is_empty() && unknown.is_empty() => finding(
            ctx,
            CheckId::DkimStrength,
            Status::Fail,
            STRENGTH,
            format!(
                "the only DKIM key(s) found for {domain} are revoked (empty p=): {}",
                revoked.join(", ")
            ),
            ev.clone(),
        ),
        (_, true) => finding(
            ctx,
            CheckId::DkimStrength,
            Status::Info,
            STRENGTH,
            format!("no DKIM key found for {domain}, so no key strength to judge"),
            ev.clone(),
        ),
        (Some((sel, bits)), false) if bits < 1024 => finding(
            ctx,
            CheckId::DkimStrength,
            Status::Fail,
            STRENGTH,
            format!(
                "the DKIM key at selector {sel} of {domain} is RSA {bits}-bit: under 1024 bits, receivers ignore it (RFC 8301) and it can be factored"
            ),
            ev.clone(),
        ),
        (Some((sel, bits)), false) if bits < 2048 => finding(
            ctx,
            CheckId::DkimStrength,
            Status::Warn,
            STRENGTH,
            format!(
                "the DKIM key at selector {sel} of {domain} is RSA {bits}-bit: replace it with a 2048-bit key"
            ),
            ev.clone(),
        ),
        _ => {
            let desc: Vec<String> = usable
                .iter()
                .map(|(s, k)| format!("{s}: {}", describe(k)))
                .collect();
            finding(
                ctx,
                CheckId::DkimStrength,
                Status::Pass,
                STRENGTH,
                format!("DKIM keys of {domain} are strong ({})", desc.join(", ")),
                ev.clone(),
            )
        }
    };
    out.push(strength);
    // dkim.syntax
    let syntax = if let Some(first) = refused.first() {
        finding(
            ctx,
            CheckId::DkimSyntax,
            Status::Fail,
            SYNTAX,
            format!(
                "the DKIM key record at selector {} of {domain} is refused: {}",
                first
                    .get("selector")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                first
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
            ev,
        )
    } else if keys.is_empty() {
        finding(
            ctx,
            CheckId::DkimSyntax,
            Status::Info,
            SYNTAX,
            format!("no DKIM key record found for {domain} to check"),
            ev,
        )
    } else {
        finding(
            ctx,
            CheckId::DkimSyntax,
            Status::Pass,
            SYNTAX,
            format!("every DKIM key record found for {domain} is valid"),
            ev,
        )
    };
    out.push(syntax);
    DkimOutcome {
        findings: out,
        // Receivers ignore RSA keys under 1024 bits (RFC 8301), so they do not count here.
        usable: usable
            .iter()
            .filter(|(_, k)| !matches!(k.key, PublicKey::Rsa { bits, .. } if bits < 1024))
            .map(|(s, _)| s.clone())
            .collect(),
        known: unknown.is_empty() || !usable.is_empty(),
    }
}
