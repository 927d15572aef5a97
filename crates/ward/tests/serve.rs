//! `ward serve` through the binary, over HTTP on loopback: users added with `ward serve
//! add-user`, logins with the login form's token, sessions in HttpOnly SameSite=Strict
//! cookies, a branch user and a region user who each see their own subtree and get 404
//! for every other organisation (pages and API, by session and by API token), forms
//! without their token refused, login rate limiting, logout everywhere, the security
//! headers, escaping of what the store holds, and the audit log.

mod common;

use common::{run, ward};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use ward_model::observe::AssetObservation;
use ward_model::{
    AssetReport, CheckId, Finding, OrgKind, Organisation, Role, Severity, SizeClass, Status,
};
use ward_store::Store;

fn org(id: &str, kind: OrgKind, parent: Option<&str>) -> Organisation {
    Organisation {
        id: id.into(),
        name: format!("Org {id}"),
        kind,
        size: SizeClass::Small,
        parent: parent.map(Into::into),
        assets: Vec::new(),
    }
}

fn asset(domain: &str, org: &str, summary: &str) -> AssetReport {
    AssetReport {
        domain: domain.into(),
        organisation: format!("Org {org}"),
        organisation_id: org.into(),
        roles: vec![Role::Mail],
        findings: vec![Finding {
            check: CheckId::MxPresent,
            status: Status::Fail,
            severity: Severity::High,
            summary: summary.into(),
            evidence: serde_json::json!({}).into(),
        }],
        dmarc_phase: None,
    }
}

/// A store with hq → north → leeds and hq → south → dover, and one complete scan.
fn store(dir: &std::path::Path) -> String {
    let db = dir.join("ward.db").to_str().unwrap().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = Store::open(&db).await.unwrap();
        s.save_organisations(&[
            org("hq", OrgKind::Party, None),
            org("north", OrgKind::Region, Some("hq")),
            org("leeds", OrgKind::Branch, Some("north")),
            org("south", OrgKind::Region, Some("hq")),
            org("dover", OrgKind::Branch, Some("south")),
        ])
        .await
        .unwrap();
        let t = time::OffsetDateTime::now_utc();
        let scan = s.begin_scan(t, "test").await.unwrap();
        let assets = [
            asset("leeds.test", "leeds", "<script>alert(1)</script> no MX"),
            asset("dover.test", "dover", "DOVER-SECRET no MX"),
        ];
        for (i, a) in assets.iter().enumerate() {
            s.save_asset(scan, i, a, &AssetObservation::new(&a.domain, t))
                .await
                .unwrap();
        }
        s.finish_scan(scan, t).await.unwrap();
        s.close().await;
    });
    db
}

fn add_user(dir: &std::path::Path, email: &str, org: &str, expect: i32) -> String {
    let out = run(
        ward(dir)
            .args([
                "serve", "add-user", "--db", "ward.db", "--email", email, "--org", org,
            ])
            .env("WARD_PASSWORD", "correct horse battery staple"),
        expect,
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Server {
    start_with(
        dir,
        &["serve", "--db", "ward.db", "--listen", "127.0.0.1:0"],
    )
    .0
}

/// Starts `ward ARGS` and reads its stderr up to the line naming the address; returns
/// the lines read.
fn start_with(dir: &std::path::Path, args: &[&str]) -> (Server, String) {
    let mut child = ward(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut b = [0u8; 1];
    let addr = loop {
        let mut line = Vec::new();
        while err.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
            line.push(b[0]);
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        seen.extend_from_slice(line.as_bytes());
        seen.push(b'\n');
        if let Some(a) = line
            .split("http://")
            .nth(1)
            .or_else(|| line.split("https://").nth(1))
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
        {
            break a;
        }
        if let Ok(Some(_)) = child.try_wait() {
            panic!("ward stopped: {}", String::from_utf8_lossy(&seen));
        }
        assert!(
            seen.len() < 1 << 20,
            "no address in {}",
            String::from_utf8_lossy(&seen)
        );
    };
    // Keep reading stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (
        Server { child, addr },
        String::from_utf8_lossy(&seen).into_owned(),
    )
}

#[test]
fn the_demo_serves_its_party_with_a_demo_login() {
    let tmp = tempfile::tempdir().unwrap();
    let (srv, err) = start_with(
        tmp.path(),
        &[
            "demo",
            "--db",
            "demo.db",
            "--report",
            "demo.html",
            "--serve",
            "127.0.0.1:0",
        ],
    );
    let password = err
        .split("with password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no demo login in {err}"));
    let session =
        login(srv.addr, "demo@ward.invalid", password).unwrap_or_else(|r| panic!("{}", r.body));
    let home = http(srv.addr, "GET", "/", &[("Cookie", &session)], "");
    assert_eq!(home.status, 200);
    // The whole demo party, each organisation linked.
    let orgs = ward_model::inventory::parse(
        "demo",
        ward_lab::demo::fixture().inventory_toml.as_deref().unwrap(),
    )
    .unwrap();
    for o in &orgs {
        assert!(
            home.body.contains(&format!("/org/{}", o.id)),
            "{} missing",
            o.id
        );
    }
    // The demo's mail reports, per branch: who sends as it and whether that passes.
    // Barnsley's reports have two sources failing DMARC (836 messages in all).
    let barnsley = orgs
        .iter()
        .find(|o| {
            o.assets
                .iter()
                .any(|a| a.domain == "barnsley-exampleparty.example")
        })
        .unwrap();
    let mail = http(
        srv.addr,
        "GET",
        &format!("/org/{}/mail", barnsley.id),
        &[("Cookie", &session)],
        "",
    );
    assert_eq!(mail.status, 200);
    assert!(
        mail.body.contains("<h2>barnsley-exampleparty.example</h2>"),
        "{}",
        mail.body
    );
    assert!(mail.body.contains("<svg role=\"img\""), "the chart");
    let api = http(
        srv.addr,
        "GET",
        &format!("/api/v1/organisations/{}/mail", barnsley.id),
        &[("Cookie", &session)],
        "",
    );
    let doc: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let d = &doc["domains"][0];
    assert_eq!(d["domain"], "barnsley-exampleparty.example");
    let failing: u64 = d["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["failing"].as_u64().unwrap())
        .sum();
    assert_eq!(failing, 836, "{doc:#}");
    // The party's three changes, and the overview narrowed to one check family: the
    // mail-report findings fail at Barnsley and pass at Durham.
    assert!(
        home.body
            .contains("Three changes that protect the most branches")
            && home.body.contains("would protect"),
        "{}",
        home.body
    );
    let narrowed = http(
        srv.addr,
        "GET",
        "/api/v1/organisations?family=reports&severity=medium",
        &[("Cookie", &session)],
        "",
    );
    let narrowed: serde_json::Value = serde_json::from_str(&narrowed.body).unwrap();
    let ids: Vec<&str> = narrowed["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&barnsley.id.as_str()), "{ids:?}");
    let durham = orgs
        .iter()
        .find(|o| {
            o.assets
                .iter()
                .any(|a| a.domain == "durham-exampleparty.example")
        })
        .unwrap();
    assert!(!ids.contains(&durham.id.as_str()), "{ids:?}");
    assert!(
        narrowed["organisations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["matching"].as_u64() > Some(0)),
        "{narrowed}"
    );
    assert_eq!(narrowed["three_changes"].as_array().unwrap().len(), 3);
    let page = http(
        srv.addr,
        "GET",
        "/?family=reports&severity=medium",
        &[("Cookie", &session)],
        "",
    );
    assert!(page.body.contains("<th scope=\"col\">Matching</th>"));
    assert!(!page.body.contains(&format!("/org/{}\"", durham.id)));
    let listing = http(
        srv.addr,
        "GET",
        "/api/v1/organisations",
        &[("Cookie", &session)],
        "",
    );
    let listing: serde_json::Value = serde_json::from_str(&listing.body).unwrap();
    let row = listing["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == barnsley.id.as_str())
        .unwrap();
    assert_eq!(row["domains"], barnsley.assets.len(), "{row}");
    let branch = orgs.iter().find(|o| o.kind == OrgKind::Branch).unwrap();
    let page = http(
        srv.addr,
        "GET",
        &format!("/org/{}", branch.id),
        &[("Cookie", &session)],
        "",
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&branch.assets[0].domain));
}

/// One HTTP/1.1 exchange: status, headers (lower-case names), body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .find_map(|(_, v)| {
                v.strip_prefix(&format!("{name}="))
                    .map(|r| r.split(';').next().unwrap_or("").to_owned())
            })
    }
}

fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn form_token(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

/// Logs in; the session cookie.
fn login(addr: SocketAddr, email: &str, password: &str) -> Result<String, Reply> {
    let page = http(addr, "GET", "/login", &[], "");
    let pre = page.cookie("ward_login").unwrap();
    let token = form_token(&page.body);
    let cookie = format!("ward_login={pre}");
    let body = format!(
        "email={}&password={}&csrf={token}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let r = http(addr, "POST", "/login", &[("Cookie", &cookie)], &body);
    match r.cookie("ward_session") {
        Some(s) if r.status == 303 => Ok(format!("ward_session={s}")),
        _ => Err(r),
    }
}

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn each_user_sees_their_subtree_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    store(dir);
    add_user(dir, "leeds@party.test", "leeds", 0);
    add_user(dir, "north@party.test", "north", 0);
    let err = add_user(dir, "x@party.test", "nowhere", 2);
    assert!(err.contains("nowhere"), "{err}");
    let token = String::from_utf8_lossy(
        &run(
            ward(dir).args([
                "serve",
                "add-token",
                "--db",
                "ward.db",
                "--email",
                "leeds@party.test",
            ]),
            0,
        )
        .stdout,
    )
    .trim()
    .to_owned();
    assert_eq!(token.len(), 64);
    let srv = start(dir);
    let a = srv.addr;

    // Anonymous: to the login page; the API says 401.
    assert_eq!(http(a, "GET", "/", &[], "").status, 303);
    assert_eq!(http(a, "GET", "/api/v1/organisations", &[], "").status, 401);
    // A login form posted without the token ward's own page set is refused.
    let forged = http(
        a,
        "POST",
        "/login",
        &[],
        "email=leeds%40party.test&password=correct+horse+battery+staple&csrf=x",
    );
    assert_eq!(forged.status, 403);

    let leeds = login(a, "leeds@party.test", PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
    let north = login(a, "north@party.test", PASSWORD).unwrap_or_else(|r| panic!("{}", r.body));
    let first = http(a, "GET", "/login", &[], "");
    let set = first
        .headers
        .iter()
        .find(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );

    // The branch user sees leeds only; the region user north and leeds.
    let home = http(a, "GET", "/", &[("Cookie", &leeds)], "");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("/org/leeds"));
    for other in ["/org/north", "/org/hq", "/org/dover", "/org/south"] {
        assert!(!home.body.contains(other), "{other} listed to leeds");
    }
    let home = http(a, "GET", "/", &[("Cookie", &north)], "");
    assert!(home.body.contains("/org/north") && home.body.contains("/org/leeds"));
    assert!(!home.body.contains("/org/dover") && !home.body.contains("/org/hq"));

    // What the store holds is escaped, and advice is in the volunteer's words.
    let page = http(a, "GET", "/org/leeds", &[("Cookie", &leeds)], "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>"));
    let vol = ward_advice::advice::advice_for(CheckId::MxPresent, SizeClass::Small).unwrap();
    let first_line = vol.todo.lines().find(|l| !l.trim().is_empty()).unwrap();
    let shown = &first_line[..first_line.len().min(25)];
    assert!(
        page.body.contains(shown) || page.body.contains(&shown.replace('\'', "&#39;")),
        "{shown}"
    );

    // Every other organisation, existing or not, is the same 404: pages and API, by
    // session and by token. Nothing of dover leaks.
    let bearer = format!("Bearer {token}");
    for (cookie, id) in [
        (&leeds, "dover"),
        (&leeds, "north"),
        (&leeds, "hq"),
        (&north, "dover"),
        (&north, "south"),
        (&leeds, "no-such-org"),
    ] {
        let apis = [
            format!("/api/v1/organisations/{id}/domains/dover.test"),
            format!("/api/v1/organisations/{id}"),
            format!("/api/v1/organisations/{id}/domains"),
            format!("/api/v1/organisations/{id}/assessment"),
            format!("/api/v1/organisations/{id}/mail"),
        ];
        let pages = [
            format!("/org/{id}/domain/dover.test"),
            format!("/org/{id}"),
            format!("/org/{id}/assessment"),
            format!("/org/{id}/mail"),
            format!("/org/{id}/report.html"),
            format!("/org/{id}/report.pdf"),
        ];
        for path in pages.iter().chain(&apis) {
            let r = http(a, "GET", path, &[("Cookie", cookie)], "");
            assert_eq!(r.status, 404, "{path}");
            assert!(!r.body.contains("DOVER-SECRET"));
        }
        for path in &apis {
            let r = http(a, "GET", path, &[("Authorization", &bearer)], "");
            assert_eq!(r.status, 404, "{path}");
        }
        // Forms posted with the asker's own valid token: still 404, nothing changed.
        let own = http(a, "GET", "/", &[("Cookie", cookie)], "");
        let csrf = form_token(&own.body);
        for (path, body) in [
            (
                format!("/org/{id}/assessment"),
                format!("csrf={csrf}&backups=yes"),
            ),
            (
                format!("/org/{id}/domains"),
                format!("csrf={csrf}&domain=grab.test"),
            ),
            (
                format!("/org/{id}/domains/check"),
                format!("csrf={csrf}&domain=dover.test"),
            ),
            (
                format!("/org/{id}/domains/remove"),
                format!("csrf={csrf}&domain=dover.test"),
            ),
            (
                format!("/org/{id}/invitations"),
                format!("csrf={csrf}&email=x%40y.test&role=viewer"),
            ),
        ] {
            let r = http(a, "POST", &path, &[("Cookie", cookie)], &body);
            assert_eq!(r.status, 404, "{path}");
        }
    }
    let api = http(
        a,
        "GET",
        "/api/v1/organisations/leeds",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(api.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(doc["assets"][0]["domain"], "leeds.test");
    let list: serde_json::Value = serde_json::from_str(
        &http(
            a,
            "GET",
            "/api/v1/organisations",
            &[("Authorization", &bearer)],
            "",
        )
        .body,
    )
    .unwrap();
    let ids: Vec<&str> = list["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["leeds"]);
    assert_eq!(
        http(
            a,
            "GET",
            "/api/v1/organisations",
            &[("Authorization", "Bearer nope")],
            ""
        )
        .status,
        401
    );

    // Security headers on every page, no version banner.
    for r in [&page, &api, &http(a, "GET", "/login", &[], "")] {
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("server"), None);
    }

    // Logout needs the session's form token; logout everywhere ends every session.
    assert_eq!(
        http(
            a,
            "POST",
            "/logout/everywhere",
            &[("Cookie", &leeds)],
            "csrf=wrong"
        )
        .status,
        403
    );
    let second = login(a, "leeds@party.test", PASSWORD).unwrap();
    let csrf = form_token(&http(a, "GET", "/", &[("Cookie", &leeds)], "").body);
    let out = http(
        a,
        "POST",
        "/logout/everywhere",
        &[("Cookie", &leeds)],
        &format!("csrf={csrf}"),
    );
    assert_eq!(out.status, 303);
    for s in [&leeds, &second] {
        assert_eq!(
            http(a, "GET", "/", &[("Cookie", s)], "").status,
            303,
            "session still live"
        );
    }
    assert_eq!(
        http(a, "GET", "/", &[("Cookie", &north)], "").status,
        200,
        "another user's session stays"
    );

    // Five wrong passwords, then even the right one waits.
    for _ in 0..5 {
        let r = login(a, "north@party.test", "wrong password here").unwrap_err();
        assert_eq!(r.status, 401);
    }
    let r = login(a, "north@party.test", PASSWORD).unwrap_err();
    assert_eq!(r.status, 429);
    drop(srv);

    // The audit log has the logins, the failures and the roles given.
    let counts = common::audit_counts(dir);
    let count = |action: &str| counts.get(action).copied().unwrap_or(0);
    assert_eq!(count("role"), 2);
    assert_eq!(count("login"), 3);
    assert_eq!(count("login-failed"), 5);
    assert_eq!(count("login-blocked"), 1);
    assert_eq!(count("logout-everywhere"), 1);
    assert_eq!(count("api-token"), 1);
}

/// Zones for the consent test: three branch domains with healthy mail records, and the
/// `_ward-challenge` TXT record for those given a token.
fn consent_lab(tokens: &[(&str, &str)]) -> ward_lab::Fixture {
    use common::{fixture, zone};
    let mut zones = vec![zone("test", &[("ns.test", "127.0.91.1")], "")];
    for (i, name) in ["leeds.test", "unproved.test", "extra.test"]
        .iter()
        .enumerate()
    {
        let mut extra = format!(
            "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@{name}\"\n"
        );
        if let Some((_, t)) = tokens.iter().find(|(d, _)| d == name) {
            extra.push_str(&format!("_ward-challenge IN TXT \"{t}\"\n"));
        }
        let ns = format!("ns.{name}");
        let ip = format!("127.0.91.{}", i + 2);
        zones.push(zone(name, &[(&ns, &ip)], &extra));
    }
    fixture(zones, ward_lab::DnsBehaviour::default())
}

/// The claim token shown for `domain` on an organisation page.
fn token_on(page: &str, domain: &str) -> String {
    let at = page
        .find(&format!("id=\"claim-{domain}\""))
        .unwrap_or_else(|| panic!("no claim of {domain} in {page}"));
    let rest = &page[at..];
    let t = rest.find("class=\"token\">").unwrap() + 14;
    rest[t..].split('<').next().unwrap().to_owned()
}

/// The state shown for `domain` on an organisation page.
fn state_on(page: &str, domain: &str) -> String {
    let at = page.find(&format!("id=\"claim-{domain}\"")).unwrap();
    let rest = &page[at..];
    let s = rest.find("class=\"state\">").unwrap() + 14;
    rest[s..].split('<').next().unwrap().to_owned()
}

/// Service mode end to end: the monitor claims the inventory's domains and scans none
/// until proved; an editor registers another on the dashboard (a viewer cannot, another
/// branch's user gets 404) and proves it with "Check now" against the lab's DNS; the
/// next round scans exactly the proved domains, one registered only on the dashboard
/// among them; when a proof disappears the domain stops being scanned and its contact
/// is mailed.
#[test]
fn a_domain_is_scanned_only_while_its_organisation_proves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mailbox = rt.block_on(ward_lab::mailbox::Mailbox::start()).unwrap();
    std::fs::write(dir.join("ca.pem"), mailbox.ca_pem()).unwrap();
    std::fs::write(
        dir.join("inv.toml"),
        "[[organisation]]\nid = \"hq\"\nname = \"Party\"\nkind = \"party\"\nsize = \"medium\"\n\n\
         [[organisation]]\nid = \"leeds\"\nname = \"Leeds\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"hq\"\n\n\
         [[organisation.domain]]\nname = \"leeds.test\"\nroles = [\"mail\"]\n\n\
         [[organisation.domain]]\nname = \"unproved.test\"\nroles = [\"mail\"]\n\n\
         [[organisation.contact]]\nemail = \"sec@leeds.test\"\nmin_severity = \"low\"\n\n\
         [[organisation]]\nid = \"dover\"\nname = \"Dover\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"hq\"\n",
    )
    .unwrap();
    let round = |lab: &ward_lab::Lab| {
        let out = ward(dir)
            .args([
                "monitor",
                "-i",
                "inv.toml",
                "--db",
                "ward.db",
                "--once",
                "--consent",
            ])
            .args([
                "--jitter",
                "0",
                "--dns-timeout",
                "0.3",
                "--dns-attempts",
                "1",
            ])
            .args(common::lab_args(lab))
            .args(["--smtp-server", "localhost", "--smtp-port"])
            .arg(mailbox.addr().port().to_string())
            .args(["--smtp-from", "ward@hq.test", "--ca", "ca.pem"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{err}");
        err
    };
    let scanned = || {
        rt.block_on(async {
            let s = Store::open(dir.join("ward.db").to_str().unwrap())
                .await
                .unwrap();
            let r = s.latest_report().await.unwrap().unwrap();
            s.close().await;
            let mut d: Vec<String> = r.assets.into_iter().map(|a| a.domain).collect();
            d.sort();
            d
        })
    };

    // Round 1: nothing proved yet, nothing scanned; both domains wait with a token.
    let lab = rt
        .block_on(ward_lab::Lab::start(&consent_lab(&[])))
        .unwrap();
    let err = round(&lab);
    lab.stop();
    assert!(
        err.contains("0 domain(s) proved, 2 waiting for proof"),
        "{err}"
    );
    assert!(err.contains("round 1 began: 0 domain(s)"), "{err}");
    assert!(scanned().is_empty());

    add_user(dir, "viewer@leeds.test", "leeds", 0);
    run(
        ward(dir)
            .args([
                "serve",
                "add-user",
                "--db",
                "ward.db",
                "--email",
                "editor@leeds.test",
            ])
            .args(["--org", "leeds", "--role", "editor"])
            .env("WARD_PASSWORD", PASSWORD),
        0,
    );
    add_user(dir, "dover@dover.test", "dover", 0);
    let srv = start(dir);
    let a = srv.addr;
    let editor = login(a, "editor@leeds.test", PASSWORD).unwrap();
    let page = http(a, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    assert_eq!(page.status, 200);
    assert_eq!(state_on(&page.body, "leeds.test"), "waiting for proof");
    let leeds_token = token_on(&page.body, "leeds.test");
    assert!(leeds_token.starts_with("ward-") && leeds_token.len() == 37);
    assert!(page.body.contains("_ward-challenge.leeds.test"));
    let csrf = form_token(&page.body);
    let register = format!("csrf={csrf}&domain=Extra.Test.&mail=1");
    // A viewer may look but not register; another branch's user sees nothing at all;
    // a form without its token is refused.
    let viewer = login(a, "viewer@leeds.test", PASSWORD).unwrap();
    let vpage = http(a, "GET", "/org/leeds", &[("Cookie", &viewer)], "");
    assert!(!vpage.body.contains("Register a domain"));
    let vcsrf = form_token(&vpage.body);
    let r = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &viewer)],
        &format!("csrf={vcsrf}&domain=viewer.test"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let dover = login(a, "dover@dover.test", PASSWORD).unwrap();
    let dpage = http(a, "GET", "/", &[("Cookie", &dover)], "");
    let r = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &dover)],
        &format!("csrf={}&domain=dover-grab.test", form_token(&dpage.body)),
    );
    assert_eq!(r.status, 404);
    let r = http(
        a,
        "POST",
        "/org/leeds/domains/remove",
        &[("Cookie", &dover)],
        &format!("csrf={}&domain=leeds.test", form_token(&dpage.body)),
    );
    assert_eq!(r.status, 404);
    let r = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &editor)],
        "csrf=wrong&domain=x.test",
    );
    assert_eq!(r.status, 403);
    let r = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &editor)],
        &register,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // A form too large is refused, saying so.
    let huge = format!("csrf={csrf}&domain={}", "a".repeat(64 * 1024));
    let r = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &editor)],
        &huge,
    );
    assert_eq!(r.status, 413);
    assert!(r.body.contains("larger than ward accepts"), "{}", r.body);
    let bad = http(
        a,
        "POST",
        "/org/leeds/domains",
        &[("Cookie", &editor)],
        &format!("csrf={csrf}&domain=not+a+domain"),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("not a domain"), "{}", bad.body);
    let page = http(a, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    assert_eq!(state_on(&page.body, "extra.test"), "waiting for proof");
    let extra_token = token_on(&page.body, "extra.test");
    assert_ne!(extra_token, leeds_token);
    let api = http(
        a,
        "GET",
        "/api/v1/organisations/leeds/domains",
        &[("Cookie", &editor)],
        "",
    );
    let doc: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(doc["domains"].as_array().unwrap().len(), 3, "{doc}");
    let api = http(
        a,
        "GET",
        "/api/v1/organisations/leeds/domains",
        &[("Cookie", &dover)],
        "",
    );
    assert_eq!(api.status, 404);
    drop(srv);

    // Both proofs published; "Check now" on the dashboard sees the new one at once.
    let proved = [
        ("leeds.test", leeds_token.as_str()),
        ("extra.test", extra_token.as_str()),
    ];
    let lab = rt
        .block_on(ward_lab::Lab::start(&consent_lab(&proved)))
        .unwrap();
    let mut args = vec!["serve", "--db", "ward.db", "--listen", "127.0.0.1:0"];
    let lab_args = common::lab_args(&lab);
    args.extend(lab_args.iter().map(String::as_str));
    let (srv, _) = start_with(dir, &args);
    let editor = login(srv.addr, "editor@leeds.test", PASSWORD).unwrap();
    let page = http(srv.addr, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    let r = http(
        srv.addr,
        "POST",
        "/org/leeds/domains/check",
        &[("Cookie", &editor)],
        &format!("csrf={}&domain=extra.test", form_token(&page.body)),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(srv.addr, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    assert_eq!(state_on(&page.body, "extra.test"), "verified");
    assert_eq!(state_on(&page.body, "leeds.test"), "waiting for proof");
    drop(srv);

    // Round 2 scans the two proved domains, the dashboard's one among them, and not
    // the one still waiting.
    let err = round(&lab);
    lab.stop();
    assert!(
        err.contains("2 domain(s) proved, 1 waiting for proof"),
        "{err}"
    );
    assert_eq!(scanned(), ["extra.test", "leeds.test"]);

    // Round 3: leeds.test's record is gone. It is not scanned, and its contact is told.
    let lab = rt
        .block_on(ward_lab::Lab::start(&consent_lab(&proved[1..])))
        .unwrap();
    let err = round(&lab);
    lab.stop();
    assert!(
        err.contains("1 domain(s) proved, 1 waiting for proof (not scanned), 1 whose proof went"),
        "{err}"
    );
    assert!(
        err.contains("leeds.test (leeds): its proof of ownership is gone"),
        "{err}"
    );
    assert_eq!(scanned(), ["extra.test"]);
    // The domain's page: each check with its evidence, and how it stood in round 2.
    let srv = start(dir);
    let editor = login(srv.addr, "editor@leeds.test", PASSWORD).unwrap();
    // Leeds was scored in rounds 2 and 3: the overview draws its trend from both.
    let home = http(srv.addr, "GET", "/", &[("Cookie", &editor)], "");
    assert!(
        home.body
            .contains("aria-label=\"score over the last 2 scans: "),
        "{}",
        home.body
    );
    assert!(home.body.contains("<polyline points=\"0.0,"));
    let page = http(srv.addr, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    assert!(
        page.body
            .contains("score and DMARC pass rate over the scans: score: "),
        "{}",
        page.body
    );
    let page = http(
        srv.addr,
        "GET",
        "/org/leeds/domain/extra.test",
        &[("Cookie", &editor)],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"dmarc.policy\""), "{}", page.body);
    assert!(page.body.contains("Before: "), "{}", page.body);
    assert!(page.body.contains("<summary>Evidence</summary>"));
    // Its own organisation's id does not open another's domain, nor a dropped one.
    for path in [
        "/org/leeds/domain/dover.test",
        "/org/leeds/domain/leeds.test",
        "/org/dover/domain/extra.test",
    ] {
        let r = http(srv.addr, "GET", path, &[("Cookie", &editor)], "");
        assert_eq!(r.status, 404, "{path}");
    }
    let api = http(
        srv.addr,
        "GET",
        "/api/v1/organisations/leeds/domains/extra.test",
        &[("Cookie", &editor)],
        "",
    );
    let doc: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let checks = doc["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["history"].as_array().is_some_and(|h| !h.is_empty())),
        "{doc}"
    );
    drop(srv);
    let mails = rt.block_on(mailbox.wait_for(1, std::time::Duration::from_secs(10)));
    assert_eq!(mails.len(), 1, "{mails:#?}\n{err}");
    assert_eq!(mails[0].to, ["sec@leeds.test"]);
    assert!(
        mails[0].data.contains("stopped scanning leeds.test"),
        "{}",
        mails[0].data
    );

    let counts = common::audit_counts(dir);
    let count = |action: &str| counts.get(action).copied().unwrap_or(0);
    assert_eq!(count("domain-registered"), 1);
    assert_eq!(count("proof-checked"), 1);
    assert_eq!(count("proof-verified"), 1, "leeds.test, by the monitor");
    assert_eq!(count("proof-lost"), 1);
}

/// The one-time link of an invitation path from the `Invitation made` page.
fn invite_path(page: &str) -> String {
    let at = page
        .find("/invite/")
        .unwrap_or_else(|| panic!("no invitation link in {page}"));
    page[at..].split('<').next().unwrap().to_owned()
}

/// An admin invites by one-time link: a newcomer chooses a password and is in, seeing
/// only what the invitation gave; the link then no longer works; an editor cannot
/// invite and nobody can invite outside their subtree; an invitation to an existing
/// account adds the role and sets no password.
#[test]
fn an_admin_invites_by_a_link_that_works_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    store(dir);
    let as_role = |email: &str, org: &str, role: &str| {
        run(
            ward(dir)
                .args(["serve", "add-user", "--db", "ward.db", "--email", email])
                .args(["--org", org, "--role", role])
                .env("WARD_PASSWORD", PASSWORD),
            0,
        );
    };
    as_role("admin@north.test", "north", "admin");
    as_role("editor@leeds.test", "leeds", "editor");
    let srv = start(dir);
    let a = srv.addr;
    let admin = login(a, "admin@north.test", PASSWORD).unwrap();
    let page = http(a, "GET", "/org/leeds", &[("Cookie", &admin)], "");
    assert!(page.body.contains("Make an invitation link"));
    let csrf = form_token(&page.body);
    let editor = login(a, "editor@leeds.test", PASSWORD).unwrap();
    let epage = http(a, "GET", "/org/leeds", &[("Cookie", &editor)], "");
    assert!(!epage.body.contains("Make an invitation link"));
    let r = http(
        a,
        "POST",
        "/org/leeds/invitations",
        &[("Cookie", &editor)],
        &format!(
            "csrf={}&email=x%40y.test&role=viewer",
            form_token(&epage.body)
        ),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let invite = |org: &str, email: &str, role: &str| {
        http(
            a,
            "POST",
            &format!("/org/{org}/invitations"),
            &[("Cookie", &admin)],
            &format!(
                "csrf={csrf}&email={}&role={role}",
                email.replace('@', "%40")
            ),
        )
    };
    assert_eq!(invite("dover", "new@dover.test", "viewer").status, 404);
    let made = invite("leeds", "New@Leeds.test", "editor");
    assert_eq!(made.status, 200, "{}", made.body);
    let link = invite_path(&made.body);

    // The newcomer, not logged in: the page, a mistyped pair, then in.
    let join = http(a, "GET", &link, &[], "");
    assert_eq!(join.status, 200);
    assert!(join.body.contains("new@leeds.test") && join.body.contains("editor"));
    let r = http(
        a,
        "POST",
        &link,
        &[],
        "password=one+long+password&again=another+long+one",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("differ"));
    let r = http(a, "POST", &link, &[], "password=short&again=short");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("at least 12"), "{}", r.body);
    let r = http(
        a,
        "POST",
        &link,
        &[],
        "password=a+new+volunteer+joins&again=a+new+volunteer+joins",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let session = format!("ward_session={}", r.cookie("ward_session").unwrap());
    let home = http(a, "GET", "/", &[("Cookie", &session)], "");
    assert!(home.body.contains("/org/leeds") && !home.body.contains("/org/dover"));
    assert!(login(a, "new@leeds.test", "a new volunteer joins").is_ok());
    // Spent.
    assert_eq!(http(a, "GET", &link, &[], "").status, 410);
    let r = http(
        a,
        "POST",
        &link,
        &[],
        "password=someone+else+tries&again=someone+else+tries",
    );
    assert_eq!(r.status, 410);

    // An existing account: the role is added, the password is not touched, and whoever
    // holds the link is not logged in as that account.
    let made = invite("north", "editor@leeds.test", "viewer");
    let link = invite_path(&made.body);
    let join = http(a, "GET", &link, &[], "");
    assert!(join.body.contains("already have an account"));
    let r = http(
        a,
        "POST",
        &link,
        &[],
        "password=taken+over+maybe&again=taken+over+maybe",
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert!(r.cookie("ward_session").is_none());
    assert!(login(a, "editor@leeds.test", "taken over maybe").is_err());
    let editor = login(a, "editor@leeds.test", PASSWORD).unwrap();
    let home = http(a, "GET", "/", &[("Cookie", &editor)], "");
    assert!(home.body.contains("/org/north"), "the new role");
    drop(srv);

    let counts = common::audit_counts(dir);
    let count = |action: &str| counts.get(action).copied().unwrap_or(0);
    assert_eq!(count("invitation"), 2);
    assert_eq!(count("invitation-used"), 2);
}

/// Standard base64 with padding, for the PEM files below.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = base64(der);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// ward's own site passes ward: `ward serve` over TLS (a certificate from a lab CA, a
/// plain-HTTP port that only redirects, security.txt), found through the lab's DNS and
/// scanned by `ward scan` in lab mode, has nothing to fix in any web check.
#[test]
fn wards_own_site_passes_wards_web_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    store(dir);
    let now = time::OffsetDateTime::now_utc();
    let ca = ward_lab::certs::LabCa::new(now).unwrap();
    let cert = ca
        .issue(
            &["ward-site.test".to_owned()],
            &ward_lab::hosts::CertSpec::default(),
            now,
        )
        .unwrap();
    let chain: String = cert.chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
    std::fs::write(dir.join("cert.pem"), chain).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        pem("PRIVATE KEY", cert.key.secret_der()),
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.ca_cert_pem()).unwrap();
    let (srv, err) = start_with(
        dir,
        &[
            "serve",
            "--db",
            "ward.db",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--http-redirect",
            "127.0.0.1:0",
            "--security-contact",
            "mailto:security@ward-site.test",
        ],
    );
    let https_port = srv.addr.port();
    let http_port: u16 = err
        .split("sending plain HTTP at ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .unwrap_or_else(|| panic!("no redirect address in {err}"))
        .port();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lab = rt
        .block_on(ward_lab::Lab::start(&common::fixture(
            vec![
                common::zone("test", &[("ns.test", "127.0.93.1")], ""),
                common::zone(
                    "ward-site.test",
                    &[("ns.ward-site.test", "127.0.93.2")],
                    "@ IN A 127.0.0.1\n",
                ),
            ],
            ward_lab::DnsBehaviour::default(),
        )))
        .unwrap();
    let ports = format!("{},443={https_port},80={http_port}", lab.ports_arg());
    let out = ward(dir)
        .args([
            "scan",
            "ward-site.test",
            "--format",
            "json",
            "--resolver",
            &lab.resolver().to_string(),
            "--lab-ports",
            &ports,
            "--lab-ca",
            "ca.pem",
            "--fail-on-unknown",
            "0",
        ])
        .output()
        .unwrap();
    lab.stop();
    // The domain has no mail set up, so the scan has findings (exit 1); its web ones
    // are what this is about.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = common::json(&out);
    let web: Vec<(String, String)> = common::statuses(&doc, "ward-site.test")
        .into_iter()
        .filter(|(c, _)| c.starts_with("web."))
        .collect();
    assert!(web.len() >= 14, "{web:?}");
    let to_fix: Vec<String> = web
        .iter()
        .filter(|(_, s)| s != "pass" && s != "info")
        .map(|(c, s)| {
            format!(
                "{c} {s}: {}",
                common::finding(&doc, "ward-site.test", c)["summary"]
            )
        })
        .collect();
    assert!(
        to_fix.is_empty(),
        "ward's own site has things to fix:\n{}",
        to_fix.join("\n")
    );
    drop(srv);
}
