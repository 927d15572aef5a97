//! The web checks judged from built observations: pass, fail (or warn) and error for each,
//! with exact summaries where the wording is the evidence.

use ward_checks::{Context, judge, web};
use ward_model::http::{HttpFetch, HttpOutcome, WebChain, WebObservation};
use ward_model::observe::AssetObservation;
use ward_model::{Asset, Finding, NetFailure, Role, SizeClass, Status};

const D: &str = "party.example";
/// 2026-01-01T00:00:00Z
const SCANNED: i64 = 1_767_225_600;

fn resp(url: &str, status: u16, headers: &[(&str, &str)], body: &str) -> HttpFetch {
    HttpFetch {
        url: url.into(),
        ip: Some("192.0.2.1".into()),
        outcome: HttpOutcome::Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).into(), (*v).into()))
                .collect(),
            body: body.into(),
            body_truncated: false,
        },
    }
}

fn failed(url: &str, outcome: HttpOutcome) -> HttpFetch {
    HttpFetch {
        url: url.into(),
        ip: None,
        outcome,
    }
}

fn chain(hops: Vec<HttpFetch>) -> WebChain {
    WebChain {
        start: hops.first().map(|h| h.url.clone()).unwrap_or_default(),
        hops,
        stopped: None,
    }
}

const GOOD_HEADERS: &[(&str, &str)] = &[
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains; preload",
    ),
    (
        "content-security-policy",
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", "camera=()"),
    ("server", "nginx"),
    ("set-cookie", "sid=1; Secure; HttpOnly; SameSite=Lax"),
];

const GOOD_TXT: &str = "Contact: mailto:security@party.example\nExpires: 2026-06-01T00:00:00Z\n";

fn good_web() -> WebObservation {
    WebObservation {
        chains: vec![
            chain(vec![
                resp(
                    "http://party.example/",
                    301,
                    &[("location", "https://party.example/")],
                    "",
                ),
                resp("https://party.example/", 200, GOOD_HEADERS, "hi"),
            ]),
            chain(vec![resp(
                "https://party.example/",
                200,
                GOOD_HEADERS,
                "hi",
            )]),
        ],
        security_txt: Some(resp(
            "https://party.example/.well-known/security.txt",
            200,
            &[("content-type", "text/plain")],
            GOOD_TXT,
        )),
    }
}

fn findings(web: WebObservation) -> Vec<Finding> {
    let obs = AssetObservation {
        web: Some(web),
        ..AssetObservation::new(
            D,
            time::OffsetDateTime::from_unix_timestamp(SCANNED)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        )
    };
    let a = Asset {
        domain: D.into(),
        roles: vec![Role::Web],
        dkim_selectors: Vec::new(),
        reported_dkim_selectors: Vec::new(),
    };
    let ctx = Context {
        asset: &a,
        size: SizeClass::Medium,
        obs: &obs,
    };
    let direct = web::judge(&ctx);
    // Same after a JSON round trip (a stored scan judged again), and wired into judge().
    let json = serde_json::to_string(&obs).unwrap_or_default();
    let back: AssetObservation = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    let ctx2 = Context { obs: &back, ..ctx };
    assert_eq!(direct, web::judge(&ctx2));
    let all: Vec<Finding> = judge(&ctx)
        .into_iter()
        .filter(|f| web::CHECKS.contains(&f.check))
        .collect();
    assert_eq!(direct, all);
    direct
}

fn get<'a>(fs: &'a [Finding], id: &str) -> &'a Finding {
    fs.iter()
        .find(|f| f.check.as_str() == id)
        .unwrap_or_else(|| panic!("no {id} in {fs:#?}"))
}

fn st(fs: &[Finding], id: &str) -> Status {
    get(fs, id).status
}

#[test]
fn good_site_passes_everything() {
    let fs = findings(good_web());
    let got: Vec<(&str, Status)> = fs.iter().map(|f| (f.check.as_str(), f.status)).collect();
    let want: Vec<(&str, Status)> = web::CHECKS
        .iter()
        .map(|c| (c.as_str(), Status::Pass))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        get(&fs, "web.hsts").summary,
        "HSTS for 63072000 seconds; includeSubDomains and preload"
    );
    assert_eq!(
        get(&fs, "web.security_txt").summary,
        "security.txt with a contact, valid until 2026-06-01T00:00:00Z"
    );
}

#[test]
fn not_web_or_not_probed_gives_nothing() {
    let obs = AssetObservation::new(D, time::OffsetDateTime::UNIX_EPOCH);
    let a = Asset {
        domain: D.into(),
        roles: vec![Role::Web],
        dkim_selectors: Vec::new(),
        reported_dkim_selectors: Vec::new(),
    };
    let ctx = Context {
        asset: &a,
        size: SizeClass::Small,
        obs: &obs,
    };
    assert!(web::judge(&ctx).is_empty());
}

fn with_headers(headers: &[(&str, &str)]) -> Vec<Finding> {
    let mut w = good_web();
    w.chains[0].hops[1] = resp("https://party.example/", 200, headers, "");
    w.chains[1].hops[0] = resp("https://party.example/", 200, headers, "");
    findings(w)
}

#[test]
fn weak_headers_fail() {
    let fs = with_headers(&[
        ("strict-transport-security", "max-age=300"),
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'",
        ),
        ("x-content-type-options", "sniff"),
        ("referrer-policy", "unsafe-url"),
        ("server", "Apache/2.4.58 (Debian)"),
        ("x-powered-by", "PHP/8.1.2"),
        ("set-cookie", "sid=1; HttpOnly; SameSite=Lax"),
    ]);
    assert_eq!(st(&fs, "web.https"), Status::Pass);
    assert_eq!(st(&fs, "web.hsts"), Status::Warn);
    assert_eq!(
        get(&fs, "web.hsts").summary,
        "max-age is 300 seconds, under a year (31536000)"
    );
    assert_eq!(st(&fs, "web.csp"), Status::Fail);
    assert_eq!(
        get(&fs, "web.csp").summary,
        "the policy does not stop injected scripts: no base-uri, no frame-ancestors, 'unsafe-inline' in script-src"
    );
    assert_eq!(st(&fs, "web.xcto"), Status::Fail);
    assert_eq!(st(&fs, "web.framing"), Status::Fail);
    assert_eq!(st(&fs, "web.referrer"), Status::Fail);
    assert_eq!(st(&fs, "web.permissions"), Status::Warn);
    assert_eq!(st(&fs, "web.version_leak"), Status::Fail);
    assert_eq!(
        get(&fs, "web.version_leak").evidence["leaks"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(st(&fs, "web.cookies"), Status::Fail);
    assert_eq!(
        get(&fs, "web.cookies").evidence["without_secure"][0]["cookie"],
        "sid"
    );
}

#[test]
fn missing_headers() {
    let fs = with_headers(&[("x-frame-options", "SAMEORIGIN")]);
    assert_eq!(st(&fs, "web.hsts"), Status::Fail);
    assert_eq!(st(&fs, "web.csp"), Status::Warn);
    assert_eq!(st(&fs, "web.framing"), Status::Pass);
    // No Referrer-Policy: the browser default does not leak.
    assert_eq!(st(&fs, "web.referrer"), Status::Pass);
    assert_eq!(st(&fs, "web.cookies"), Status::Pass);
    let fs = with_headers(&[("strict-transport-security", "max-age=1; max-age=2")]);
    assert_eq!(st(&fs, "web.hsts"), Status::Fail);
}

#[test]
fn redirects() {
    // No redirect.
    let mut w = good_web();
    w.chains[0] = chain(vec![resp("http://party.example/", 200, &[], "")]);
    let fs = findings(w);
    assert_eq!(st(&fs, "web.redirect"), Status::Fail);
    assert_eq!(
        get(&fs, "web.redirect").summary,
        "http://party.example/ does not redirect to HTTPS"
    );
    // To HTTPS on another host first.
    let mut w = good_web();
    w.chains[0] = chain(vec![
        resp(
            "http://party.example/",
            301,
            &[("location", "https://www.party.example/")],
            "",
        ),
        resp("https://www.party.example/", 200, &[], ""),
    ]);
    assert_eq!(st(&findings(w), "web.redirect"), Status::Warn);
    // A chain that stopped.
    let mut w = good_web();
    w.chains[0].stopped = Some("more than 10 redirects".into());
    assert_eq!(st(&findings(w), "web.redirect"), Status::Fail);
    // Port 80 refused: could not tell.
    let mut w = good_web();
    w.chains[0] = chain(vec![failed(
        "http://party.example/",
        HttpOutcome::Network {
            failure: NetFailure::Refused,
        },
    )]);
    assert_eq!(st(&findings(w), "web.redirect"), Status::Error);
}

#[test]
fn https_states() {
    let mut w = good_web();
    w.chains[1] = chain(vec![failed(
        "https://party.example/",
        HttpOutcome::Tls {
            certificate: true,
            detail: "expired".into(),
        },
    )]);
    let fs = findings(w);
    assert_eq!(st(&fs, "web.https"), Status::Fail);
    assert_eq!(st(&fs, "web.hsts"), Status::Error);
    for id in [
        "web.csp",
        "web.xcto",
        "web.framing",
        "web.referrer",
        "web.permissions",
    ] {
        assert_eq!(st(&fs, id), Status::Error, "{id}");
    }
    let mut w = good_web();
    w.chains[1] = chain(vec![failed(
        "https://party.example/",
        HttpOutcome::TimedOut,
    )]);
    w.security_txt = Some(failed(
        "https://party.example/.well-known/security.txt",
        HttpOutcome::TimedOut,
    ));
    let fs = findings(w);
    assert_eq!(st(&fs, "web.https"), Status::Error);
    assert_eq!(st(&fs, "web.security_txt"), Status::Error);
    assert_eq!(st(&fs, "web.cookies"), Status::Pass);
    // Nothing answered over HTTPS at all: cookies could not be seen.
    let mut w = good_web();
    w.chains = vec![chain(vec![failed(
        "https://party.example/",
        HttpOutcome::TimedOut,
    )])];
    assert_eq!(st(&findings(w), "web.cookies"), Status::Error);
}

#[test]
fn security_txt_states() {
    let txt = |status: u16, body: &str| {
        let mut w = good_web();
        w.security_txt = Some(resp(
            "https://party.example/.well-known/security.txt",
            status,
            &[],
            body,
        ));
        get(&findings(w), "web.security_txt").clone()
    };
    let f = txt(
        200,
        "Contact: mailto:a@party.example\nExpires: 2025-12-31T23:59:59Z\n",
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "security.txt expired (2025-12-31T23:59:59Z)");
    // Exactly at the scan time counts as expired.
    let f = txt(
        200,
        "Contact: mailto:a@party.example\nExpires: 2026-01-01T00:00:00Z\n",
    );
    assert_eq!(f.status, Status::Fail);
    let f = txt(
        200,
        "Contact: mailto:a@party.example\nExpires: 2027-06-01T00:00:00Z\n",
    );
    assert_eq!(f.status, Status::Warn);
    assert_eq!(txt(404, "not found").status, Status::Fail);
    assert_eq!(
        txt(200, "Expires: 2026-06-01T00:00:00Z\n").status,
        Status::Fail
    );
}

#[test]
fn version_detection() {
    assert!(web::names_version("Apache/2.4.58"));
    assert!(web::names_version("PHP/8.1"));
    assert!(!web::names_version("nginx"));
    assert!(!web::names_version("cloudflare"));
}

#[test]
fn permissions_policy_states() {
    let one = |v: &str| {
        let fs = with_headers(&[("permissions-policy", v)]);
        let f = get(&fs, "web.permissions");
        (f.status, f.summary.clone())
    };
    assert_eq!(
        one("camera=(), geolocation=(self \"https://maps.example\")"),
        (Status::Pass, "a Permissions-Policy is set".into())
    );
    // A harmless feature open to all is fine; a powerful one is not.
    assert_eq!(one("fullscreen=*").0, Status::Pass);
    assert_eq!(
        one("camera=*, microphone=(self), geolocation=(* self)"),
        (
            Status::Fail,
            "the Permissions-Policy lets every embedded site ask for camera, geolocation".into()
        )
    );
    // Feature-Policy syntax in the new header: not a dictionary, so browsers ignore it.
    assert_eq!(
        one("camera 'none'"),
        (
            Status::Warn,
            "the Permissions-Policy cannot be read, so browsers ignore it: not a structured dictionary at byte 7: a comma".into()
        )
    );
    let fs = with_headers(&[("feature-policy", "camera 'none'")]);
    assert_eq!(st(&fs, "web.permissions"), Status::Warn);
}
