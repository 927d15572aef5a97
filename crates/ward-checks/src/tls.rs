//! Transport security: `web.tls_versions`, `web.ciphers`, `web.cert` for HTTPS, and
//! `mx.starttls`, `mx.tls_versions`, `mx.ciphers`, `mx.cert` for the MX hosts.
//!
//! Judged from the TLS scans in the observation (`ward_model::tls`). Sources
//! (`../shared/GUIDANCE.md`): NCSC TLS guidance and NCSC-NL's guidelines as used by
//! internet.nl (§1.6): SSL and TLS 1.0/1.1 insufficient, RSA key exchange insufficient,
//! DHE and CBC "phase out"; Mozilla Intermediate (§2.3): TLS 1.2 + 1.3, RSA ≥ 2048 or
//! ECDSA; NCSC Mail Check's MX rules (§1.5): SSLv3 and RC4/NULL/EXPORT/DES fail, SHA-1
//! CBC and RSA key exchange warn, DH < 2048 warn and 1024 fail, RSA ≥ 2048 and EC ≥ 256,
//! expired / expiring / name mismatch / untrusted chains flagged. Mail keeps TLS 1.0/1.1
//! at `warn` (NCSC: keep lesser profiles for compatibility on mail; opportunistic TLS is
//! still better than plaintext), where the web fails them.
//!
//! The three states (STYLE T2): one function, [`version_verdict`] and its siblings, maps
//! each observed state to pass/warn/fail or `error`. A version that could not be tested
//! (refused, reset, timed out) never counts as "not supported"; an endpoint where STARTTLS
//! could not be reached gives `mx.starttls` = `error` and no verdict on its TLS.

use crate::{Context, Stakes, finding};
use serde_json::json;
use ward_model::CheckId;
use ward_model::Evidence;
use ward_model::tls::{
    HelloOutcome, OcspCertStatus, OcspSignature, OcspStaple, ProtocolVersion, StartTlsOutcome,
    TlsScan, VersionStatus, forward_secret,
};
use ward_model::{Finding, Role, Severity, Status};

/// The checks in this family, in catalogue order.
pub const CHECKS: &[CheckId] = &[
    CheckId::WebTlsVersions,
    CheckId::WebCiphers,
    CheckId::WebCert,
    CheckId::MxStarttls,
    CheckId::MxTlsVersions,
    CheckId::MxCiphers,
    CheckId::MxCert,
];

/// Certificates expiring within this many days warn.
pub const EXPIRY_WARN_DAYS: i64 = 30;

const VERSIONS_STAKES: Stakes = Stakes::sized(Severity::Medium, Severity::High);
const CIPHER_STAKES: Stakes = Stakes::flat(Severity::Medium);
const CERT_STAKES: Stakes = Stakes::sized(Severity::High, Severity::High);
const STARTTLS_STAKES: Stakes = Stakes::flat(Severity::High);

/// One endpoint's verdict: status, a one-line reason, and evidence.
#[derive(Debug, Clone)]
struct Verdict {
    status: Status,
    why: String,
}

fn v(status: Status, why: impl Into<String>) -> Verdict {
    Verdict {
        status,
        why: why.into(),
    }
}

/// Order for "worst": fail > error > warn > pass/info.
fn rank(s: Status) -> u8 {
    match s {
        Status::Fail => 4,
        Status::Error => 3,
        Status::Warn => 2,
        Status::Info => 1,
        Status::Pass => 0,
    }
}

fn label(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::SSLV3 => "SSL 3.0",
        ProtocolVersion::TLS10 => "TLS 1.0",
        ProtocolVersion::TLS11 => "TLS 1.1",
        ProtocolVersion::TLS12 => "TLS 1.2",
        ProtocolVersion::TLS13 => "TLS 1.3",
        _ => "an unknown version",
    }
}

fn endpoint(scan: &TlsScan) -> String {
    format!("{} ({}:{})", scan.hostname, scan.ip, scan.port)
}

/// Whether TLS was reachable at all on this endpoint (STARTTLS ready, or direct).
fn tls_reached(scan: &TlsScan) -> bool {
    scan.starttls
        .as_ref()
        .is_none_or(|s| s.outcome == StartTlsOutcome::Ready)
}

/// Versions: legacy ones accepted fail (web) or warn (mail); nothing modern fails;
/// untestable versions make the result `error` unless something already fails.
fn version_verdict(scan: &TlsScan, mail: bool) -> Verdict {
    let supported = scan.supported_versions();
    let unknown: Vec<&str> = scan
        .versions
        .iter()
        .filter(|x| x.status == VersionStatus::CouldNotTell)
        .map(|x| label(x.version))
        .collect();
    if supported.contains(&ProtocolVersion::SSLV3) {
        return v(Status::Fail, "accepts SSL 3.0");
    }
    let legacy: Vec<&str> = supported
        .iter()
        .filter(|x| matches!(**x, ProtocolVersion::TLS10 | ProtocolVersion::TLS11))
        .map(|x| label(*x))
        .collect();
    if !legacy.is_empty() && !mail {
        return v(Status::Fail, format!("accepts {}", legacy.join(" and ")));
    }
    let modern = supported.iter().any(|x| *x >= ProtocolVersion::TLS12);
    if !modern && unknown.is_empty() && !supported.is_empty() {
        return v(Status::Fail, "accepts nothing newer than TLS 1.1");
    }
    if !unknown.is_empty() {
        return v(
            Status::Error,
            format!("could not test {}", unknown.join(", ")),
        );
    }
    if supported.is_empty() {
        return v(Status::Fail, "no TLS version could be negotiated");
    }
    if !legacy.is_empty() {
        return v(
            Status::Warn,
            format!(
                "still accepts {} (kept for old senders)",
                legacy.join(" and ")
            ),
        );
    }
    if supported.contains(&ProtocolVersion::TLS13) {
        v(Status::Pass, "TLS 1.2/1.3 only, TLS 1.3 available")
    } else {
        v(Status::Pass, "TLS 1.2 only (TLS 1.3 would be better)")
    }
}

/// Why a suite name is weak: `Some((fail?, reason))`.
fn suite_weakness(name: &str) -> Option<(bool, &'static str)> {
    let fail_marks = [
        ("_NULL_", "no encryption (NULL)"),
        ("_WITH_NULL", "no encryption (NULL)"),
        ("EXPORT", "export-grade"),
        ("_anon_", "anonymous (no authentication)"),
        ("RC4", "RC4"),
        ("_DES_", "single DES"),
        ("DES40", "export-grade DES"),
        ("3DES", "3DES (Sweet32)"),
        ("_MD5", "MD5 MAC"),
    ];
    for (mark, why) in fail_marks {
        if name.contains(mark) {
            return Some((true, why));
        }
    }
    if name.starts_with("TLS_RSA_WITH_") {
        return Some((false, "RSA key exchange (no forward secrecy)"));
    }
    if name.contains("_CBC_SHA") && !name.contains("_CBC_SHA256") && !name.contains("_CBC_SHA384") {
        return Some((false, "CBC with SHA-1"));
    }
    None
}

fn cipher_verdict(scan: &TlsScan) -> Verdict {
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    let mut incomplete = false;
    for ver in &scan.versions {
        if ver.status != VersionStatus::Supported {
            continue;
        }
        if ver.incomplete.is_some() {
            incomplete = true;
        }
        for suite in &ver.suites {
            let name = suite
                .name
                .clone()
                .unwrap_or_else(|| format!("{:?}", suite.id));
            match suite_weakness(&name) {
                Some((true, why)) => fails.push(format!("{name} ({why})")),
                Some((false, why)) => warns.push(format!("{name} ({why})")),
                None => {}
            }
            if !forward_secret(ver.version, suite.name.as_deref())
                && !name.starts_with("TLS_RSA_WITH_")
                && suite_weakness(&name).is_none()
            {
                warns.push(format!("{name} (no forward secrecy)"));
            }
        }
        if let Some(bits) = ver.dh_bits {
            if bits <= 1024 {
                fails.push(format!("{bits}-bit DH group with {}", label(ver.version)));
            } else if bits < 2048 {
                warns.push(format!("{bits}-bit DH group with {}", label(ver.version)));
            }
        }
    }
    fails.sort();
    fails.dedup();
    warns.sort();
    warns.dedup();
    if !fails.is_empty() {
        return v(
            Status::Fail,
            format!("accepts weak suites: {}", fails.join(", ")),
        );
    }
    if scan.supported_versions().is_empty() || incomplete {
        return v(
            Status::Error,
            "the accepted cipher suites could not all be listed",
        );
    }
    if !warns.is_empty() {
        return v(
            Status::Warn,
            format!("accepts suites to phase out: {}", warns.join(", ")),
        );
    }
    v(
        Status::Pass,
        "only forward-secret AEAD or SHA-2 suites are accepted",
    )
}

/// What a stapled OCSP response means for the leaf: `Some(verdict)` when
/// it changes the certificate's status, `None` when it is fine or absent. Judged at the scan's time.
fn ocsp_verdict(ocsp: Option<&OcspStaple>, ctx: &Context<'_>) -> Option<Verdict> {
    let seen = match ocsp? {
        OcspStaple::NotStapled => return None,
        OcspStaple::Malformed { reason } => {
            return Some(v(
                Status::Warn,
                format!("the stapled OCSP response cannot be read ({reason})"),
            ));
        }
        OcspStaple::Stapled(seen) => seen,
    };
    if seen.response_status != "successful" {
        return Some(v(
            Status::Warn,
            format!(
                "the stapled OCSP response is an error ({}), not an answer",
                seen.response_status
            ),
        ));
    }
    if seen.signature == OcspSignature::Bad {
        return Some(v(
            Status::Warn,
            "the stapled OCSP response is not signed by the certificate's issuer",
        ));
    }
    match &seen.cert_status {
        None => Some(v(
            Status::Warn,
            "the stapled OCSP response is about another certificate",
        )),
        Some(OcspCertStatus::Revoked { at, .. }) => Some(v(
            Status::Fail,
            format!(
                "revoked on {} according to the OCSP response the server itself staples",
                at.date()
            ),
        )),
        Some(OcspCertStatus::Unknown) => Some(v(
            Status::Warn,
            "the stapled OCSP response says the CA does not know this certificate",
        )),
        Some(OcspCertStatus::Good) => match seen.next_update {
            Some(next) if next < ctx.obs.scanned_at => Some(v(
                Status::Warn,
                format!(
                    "the stapled OCSP response went stale on {}: browsers ignore it, and \"must-staple\" certificates fail",
                    next.date()
                ),
            )),
            _ => None,
        },
    }
}

fn cert_verdict(scan: &TlsScan, ctx: &Context<'_>) -> Verdict {
    let Some(chain) = &scan.chain else {
        return v(
            Status::Error,
            format!(
                "no certificate obtained: {}",
                scan.chain_failure.as_deref().unwrap_or("no handshake")
            ),
        );
    };
    let Some(leaf) = chain.certs.first() else {
        return v(Status::Fail, "the server sent no certificate");
    };
    let ocsp = ocsp_verdict(chain.ocsp.as_ref(), ctx);
    if let Some(revoked) = ocsp.as_ref().filter(|o| o.status == Status::Fail) {
        return revoked.clone();
    }
    if let Some(kind) = &chain.validation_kind {
        let why = match (kind.as_str(), &chain.missing_issuer) {
            ("expired", _) => format!("expired on {}", leaf.not_after.date()),
            ("not_yet_valid", _) => format!("not valid before {}", leaf.not_before.date()),
            ("name_mismatch", _) => format!(
                "issued for {} — not {}",
                leaf.dns_names.join(", "),
                chain.hostname
            ),
            ("unknown_issuer", Some(missing)) if leaf.subject != leaf.issuer => format!(
                "chain incomplete: the issuer {missing} is neither sent by the server nor a trusted root"
            ),
            ("unknown_issuer", _) => {
                "not issued by a trusted CA (self-signed or unknown issuer)".into()
            }
            _ => format!(
                "does not validate: {}",
                chain.validation_error.as_deref().unwrap_or(kind)
            ),
        };
        return v(Status::Fail, why);
    }
    // Key strength: RSA ≥ 2048, EC ≥ 256.
    match (leaf.key_type.as_str(), leaf.key_bits) {
        ("rsa", Some(bits)) if bits < 2048 => {
            return v(
                Status::Fail,
                format!("{bits}-bit RSA key (at least 2048 needed)"),
            );
        }
        ("ec", Some(bits)) if bits < 256 => {
            return v(
                Status::Fail,
                format!("{bits}-bit EC key (at least 256 needed)"),
            );
        }
        _ => {}
    }
    // SHA-1 signatures on anything but a self-signed root.
    if let Some(weak) = chain
        .certs
        .iter()
        .find(|c| c.weak_signature && c.subject != c.issuer)
    {
        return v(
            Status::Fail,
            format!(
                "signed with {} ({})",
                weak.signature_algorithm, weak.subject
            ),
        );
    }
    if let Some(problem) = ocsp {
        return problem;
    }
    if let Some(problem) = &chain.order_problem {
        return v(Status::Warn, format!("chain out of order: {problem}"));
    }
    let left = (leaf.not_after - ctx.obs.scanned_at).whole_days();
    if left < EXPIRY_WARN_DAYS {
        return v(
            Status::Warn,
            format!("expires in {left} days ({})", leaf.not_after.date()),
        );
    }
    if !chain.extra_certs.is_empty() {
        return v(
            Status::Info,
            format!(
                "valid for {}, {left} days left; the server also sends certificates that are not part of its chain: {}",
                chain.hostname,
                chain.extra_certs.join("; ")
            ),
        );
    }
    let stapled = matches!(chain.ocsp, Some(OcspStaple::Stapled(_)));
    v(
        Status::Pass,
        format!(
            "valid for {}, {left} days left{}",
            chain.hostname,
            if stapled {
                ", OCSP response stapled"
            } else {
                ""
            }
        ),
    )
}

fn no_detail(_: &TlsScan) -> serde_json::Value {
    serde_json::Value::Null
}

/// What a reader needs to see why a certificate verdict was given.
fn cert_detail(scan: &TlsScan) -> serde_json::Value {
    let Some(chain) = &scan.chain else {
        return json!({"chain_failure": scan.chain_failure});
    };
    json!({
        "source": chain.source,
        "certs": chain.certs.iter().map(|c| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "not_after": c.not_after.date().to_string(),
            "key": format!("{} {}", c.key_type, c.key_bits.map_or(String::new(), |b| b.to_string())).trim().to_string(),
            "signature": c.signature_algorithm,
        })).collect::<Vec<_>>(),
        "validation": chain.validation_kind,
        "missing_issuer": chain.missing_issuer,
        "order_problem": chain.order_problem,
        "extra_certs": chain.extra_certs,
        "ocsp": chain.ocsp,
    })
}

/// The key exchange and suite picture per supported version: server preference order,
/// groups, DH size and forward secrecy (issue 4's "what to build").
fn cipher_detail(scan: &TlsScan) -> serde_json::Value {
    let versions: Vec<_> = scan
        .versions
        .iter()
        .filter(|x| x.status == VersionStatus::Supported)
        .map(|x| {
            let names: Vec<String> = x
                .suites
                .iter()
                .map(|s| s.name.clone().unwrap_or_else(|| format!("{:?}", s.id)))
                .collect();
            let fs = x
                .suites
                .iter()
                .filter(|s| forward_secret(x.version, s.name.as_deref()))
                .count();
            json!({
                "version": label(x.version),
                "suites": names,
                "server_order": x.server_order,
                "groups": x.groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
                "dh_bits": x.dh_bits,
                "forward_secrecy": if fs == x.suites.len() { "all" } else if fs == 0 { "none" } else { "some" },
            })
        })
        .collect();
    json!({ "by_version": versions })
}

fn starttls_verdict(scan: &TlsScan) -> Verdict {
    let Some(seen) = &scan.starttls else {
        return v(Status::Error, "STARTTLS was not tried");
    };
    match &seen.outcome {
        StartTlsOutcome::Ready => {
            let supported = scan.supported_versions();
            let untested = scan
                .versions
                .iter()
                .all(|x| x.status == VersionStatus::CouldNotTell);
            if !supported.is_empty() {
                v(Status::Pass, "STARTTLS offered and TLS negotiated")
            } else if untested {
                v(
                    Status::Error,
                    "STARTTLS offered; the TLS handshake could not be tested",
                )
            } else {
                v(
                    Status::Fail,
                    "STARTTLS offered, but every TLS handshake is refused",
                )
            }
        }
        StartTlsOutcome::NotOffered => v(
            Status::Fail,
            "STARTTLS is not offered: mail travels in clear",
        ),
        StartTlsOutcome::Refused { stage, code, text } => {
            if stage == "starttls" && *code >= 500 {
                v(
                    Status::Fail,
                    format!("STARTTLS advertised but refused: {code} {text}"),
                )
            } else {
                v(
                    Status::Error,
                    format!(
                        "the server answered {code} at {stage} (greylisting or refusal): could not tell"
                    ),
                )
            }
        }
        StartTlsOutcome::Network { stage, failure } => v(
            Status::Error,
            format!("{failure} at {stage}: could not tell"),
        ),
        StartTlsOutcome::NotSmtp { stage, first_bytes } => v(
            Status::Error,
            format!(
                "port 25 answered, but not with SMTP: first bytes \"{first_bytes}\" at {stage}: could not tell"
            ),
        ),
        StartTlsOutcome::Misbehaved { stage, detail } => {
            v(Status::Error, format!("broke SMTP at {stage}: {detail}"))
        }
    }
}

/// Combines per-endpoint verdicts into one finding: the worst one speaks, every endpoint
/// is in the evidence.
fn combine(
    ctx: &Context<'_>,
    check: CheckId,
    stakes: Stakes,
    scans: &[&TlsScan],
    judge: impl Fn(&TlsScan) -> Verdict,
    detail: fn(&TlsScan) -> serde_json::Value,
) -> Option<Finding> {
    let verdicts: Vec<(&TlsScan, Verdict)> = scans.iter().map(|s| (*s, judge(s))).collect();
    let (worst_scan, worst) = verdicts
        .iter()
        .max_by_key(|(_, vd)| rank(vd.status))
        .map(|(s, vd)| (*s, vd.clone()))?;
    let evidence = Evidence::from(json!({
        "endpoints": verdicts.iter().map(|(s, vd)| json!({
            "endpoint": endpoint(s),
            "status": format!("{:?}", vd.status).to_lowercase(),
            "why": vd.why,
            "versions": s.supported_versions().iter().map(|x| label(*x)).collect::<Vec<_>>(),
            "connections": s.connections,
            "detail": detail(s),
        })).collect::<Vec<_>>(),
    }));
    Some(finding(
        ctx,
        check,
        worst.status,
        stakes,
        format!("{}: {}", endpoint(worst_scan), worst.why),
        evidence,
    ))
}

/// Runs the family.
pub fn judge(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if ctx.asset.has(Role::Web) {
        let web: Vec<&TlsScan> = ctx
            .obs
            .tls
            .iter()
            .filter(|s| s.transport == "direct" && s.port == 443)
            .collect();
        let reachable: Vec<&TlsScan> = web
            .iter()
            .copied()
            .filter(|s| {
                !s.versions.iter().all(|x| {
                    matches!(
                        x.first_answer,
                        HelloOutcome::Network {
                            failure: ward_model::NetFailure::Refused
                        }
                    )
                })
            })
            .collect();
        // A web host with nothing on 443 is web.https's business; these judge the TLS
        // that is there.
        out.extend(combine(
            ctx,
            CheckId::WebTlsVersions,
            VERSIONS_STAKES,
            &reachable,
            |s| version_verdict(s, false),
            no_detail,
        ));
        out.extend(combine(
            ctx,
            CheckId::WebCiphers,
            CIPHER_STAKES,
            &reachable,
            cipher_verdict,
            cipher_detail,
        ));
        out.extend(combine(
            ctx,
            CheckId::WebCert,
            CERT_STAKES,
            &reachable,
            |s| cert_verdict(s, ctx),
            cert_detail,
        ));
    }
    if ctx.asset.has(Role::Mail) {
        let mx: Vec<&TlsScan> = ctx
            .obs
            .tls
            .iter()
            .filter(|s| s.transport == "starttls_smtp")
            .collect();
        out.extend(combine(
            ctx,
            CheckId::MxStarttls,
            STARTTLS_STAKES,
            &mx,
            starttls_verdict,
            no_detail,
        ));
        let with_tls: Vec<&TlsScan> = mx.iter().copied().filter(|s| tls_reached(s)).collect();
        out.extend(combine(
            ctx,
            CheckId::MxTlsVersions,
            VERSIONS_STAKES,
            &with_tls,
            |s| version_verdict(s, true),
            no_detail,
        ));
        out.extend(combine(
            ctx,
            CheckId::MxCiphers,
            CIPHER_STAKES,
            &with_tls,
            cipher_verdict,
            cipher_detail,
        ));
        out.extend(combine(
            ctx,
            CheckId::MxCert,
            CERT_STAKES,
            &with_tls,
            |s| cert_verdict(s, ctx),
            cert_detail,
        ));
    }
    out
}
