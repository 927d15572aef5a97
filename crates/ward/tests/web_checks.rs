//! The web checks through the real binary against the real lab: a site with good headers,
//! one with every weakness (no redirect, short HSTS, CSP with 'unsafe-inline', camera and
//! location open to every embedded site, a version in Server, a cookie without Secure, an
//! expired security.txt), one with no security headers at all, one whose certificate names
//! another host, and a name whose address has no web server (every check `error`, never
//! `fail`). Together they give every web check a pass, a fail and an error.

mod common;
use common::*;
use ward_lab::{DnsBehaviour, Lab};

/// `YYYY-MM-DDT00:00:00Z`, `days` from now. The test may read the clock; the checks read
/// the scan's `scanned_at`, which the binary takes from the same clock.
fn date_in(days: i64) -> String {
    let d = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    format!(
        "{:04}-{:02}-{:02}T00:00:00Z",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

fn hosts() -> String {
    format!(
        r#"
[[web]]
names = ["good.test", "www.good.test"]
ip = "127.0.72.1"
cert = {{ status = "valid" }}
http = "redirect-https"
[web.headers]
"Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
"Content-Security-Policy" = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
"X-Content-Type-Options" = "nosniff"
"Referrer-Policy" = "no-referrer"
"Permissions-Policy" = "camera=()"
"Set-Cookie" = "sid=1; Secure; HttpOnly; SameSite=Lax"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@good.test\nExpires: {good}\n"

[[web]]
names = ["weak.test"]
ip = "127.0.72.2"
cert = {{ status = "valid" }}
http = "serve"
[web.headers]
"Strict-Transport-Security" = "max-age=300"
"Content-Security-Policy" = "default-src 'self'; script-src 'self' 'unsafe-inline'"
"X-Content-Type-Options" = "sniff"
"Referrer-Policy" = "unsafe-url"
"Permissions-Policy" = "camera=*, geolocation=*, fullscreen=(self)"
"Server" = "Apache/2.4.58 (Debian)"
"Set-Cookie" = "sid=1; HttpOnly"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@weak.test\nExpires: {expired}\n"

[[web]]
names = ["bare.test"]
ip = "127.0.72.4"
cert = {{ status = "valid" }}
http = "redirect-https"

[[web]]
names = ["badcert.test"]
ip = "127.0.72.5"
cert = {{ status = "wrong-name" }}
http = "redirect-https"
"#,
        good = date_in(90),
        expired = date_in(-2),
    )
}

fn lab_fixture() -> ward_lab::Fixture {
    let z = |name: &str, n: u8, extra: &str| {
        zone(
            name,
            &[
                (&format!("ns1.{name}"), &format!("127.0.60.{}", 2 * n + 60)),
                (&format!("ns2.{name}"), &format!("127.0.60.{}", 2 * n + 61)),
            ],
            &format!("@ IN A 127.0.72.{n}\n{extra}"),
        )
    };
    let mut f = fixture(
        vec![
            z("good.test", 1, "www IN A 127.0.72.1\n"),
            z("weak.test", 2, ""),
            // No security headers at all, no security.txt.
            z("bare.test", 4, ""),
            // A certificate for another name.
            z("badcert.test", 5, ""),
            // An address where nothing listens: every connection is refused.
            z("down.test", 3, ""),
        ],
        DnsBehaviour::default(),
    );
    f.hosts_toml = Some(hosts());
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_checks_pass_fail_and_error_through_the_binary() {
    let lab = Lab::start(&lab_fixture()).await.unwrap();
    let doc = tokio::task::block_in_place(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), lab.ca_pem()).unwrap();
        let mut cmd = ward(dir.path());
        cmd.arg("scan")
            .args(lab_args(&lab))
            .args(["--lab-ca", "ca.pem", "--format", "json"])
            .args([
                "good.test",
                "weak.test",
                "down.test",
                "bare.test",
                "badcert.test",
            ]);
        json(&run(&mut cmd, 0))
    });
    let web = |domain: &str| -> Vec<(String, String)> {
        statuses(&doc, domain)
            .into_iter()
            .filter(|(c, _)| {
                ward_checks::web::CHECKS
                    .iter()
                    .any(|k| k.as_str() == c.as_str())
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        web("good.test"),
        pairs(&[
            ("web.https", "pass"),
            ("web.redirect", "pass"),
            ("web.hsts", "pass"),
            ("web.csp", "pass"),
            ("web.xcto", "pass"),
            ("web.framing", "pass"),
            ("web.referrer", "pass"),
            ("web.permissions", "pass"),
            ("web.version_leak", "pass"),
            ("web.cookies", "pass"),
            ("web.security_txt", "pass"),
        ])
    );
    assert_eq!(
        web("weak.test"),
        pairs(&[
            ("web.https", "pass"),
            ("web.redirect", "fail"),
            ("web.hsts", "warn"),
            ("web.csp", "fail"),
            ("web.xcto", "fail"),
            ("web.framing", "fail"),
            ("web.referrer", "fail"),
            ("web.permissions", "fail"),
            ("web.version_leak", "fail"),
            ("web.cookies", "fail"),
            ("web.security_txt", "fail"),
        ])
    );
    // Missing headers: absent HSTS, XCTO and framing fail; absent CSP and
    // Permissions-Policy warn; absent Referrer-Policy is the browser default (pass).
    assert_eq!(
        web("bare.test"),
        pairs(&[
            ("web.https", "pass"),
            ("web.redirect", "pass"),
            ("web.hsts", "fail"),
            ("web.csp", "warn"),
            ("web.xcto", "fail"),
            ("web.framing", "fail"),
            ("web.referrer", "pass"),
            ("web.permissions", "warn"),
            ("web.version_leak", "pass"),
            ("web.cookies", "pass"),
            ("web.security_txt", "fail"),
        ])
    );
    // A certificate for another name: HTTPS fails; the pages behind it were never seen,
    // so the header checks cannot tell; security.txt over broken HTTPS is not usable.
    assert_eq!(
        web("badcert.test"),
        pairs(&[
            ("web.https", "fail"),
            ("web.redirect", "pass"),
            ("web.hsts", "error"),
            ("web.csp", "error"),
            ("web.xcto", "error"),
            ("web.framing", "error"),
            ("web.referrer", "error"),
            ("web.permissions", "error"),
            ("web.version_leak", "pass"),
            ("web.cookies", "error"),
            ("web.security_txt", "fail"),
        ])
    );
    assert_eq!(
        web("down.test"),
        pairs(&[
            ("web.https", "error"),
            ("web.redirect", "error"),
            ("web.hsts", "error"),
            ("web.csp", "error"),
            ("web.xcto", "error"),
            ("web.framing", "error"),
            ("web.referrer", "error"),
            ("web.permissions", "error"),
            ("web.version_leak", "error"),
            ("web.cookies", "error"),
            ("web.security_txt", "error"),
        ])
    );
}
