//! ward serve in a real browser: Debian's headless Chromium, driven over WebDriver
//! (chromedriver), doing what a branch's volunteer does: log in, register the branch's
//! domain, publish the proof (the lab's DNS), have ward check it, see the scan appear
//! after the monitor's round, and find another branch's page "not found". Every page
//! visited is checked for basic accessibility in the browser itself (labelled fields,
//! headings in order, text contrast), and with WARD_SCREENSHOTS=DIR each is saved as a
//! PNG there (`bench/screenshots.sh` makes the ones in docs/screenshots).

#[path = "../common/mod.rs"]
mod common;
mod webdriver;

use common::{fixture, lab_args, run, ward, zone};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use webdriver::Browser;

const PASSWORD: &str = "correct horse battery staple";

/// The page checks every visited page must pass: each form field labelled, one h1 and no
/// heading level skipped, and every piece of text at WCAG AA contrast against what is
/// behind it (4.5:1, or 3:1 for large text).
const ACCESSIBILITY: &str = r#"
const problems = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    problems.push('unlabelled field ' + (el.name || el.id));
}
const levels = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
if (levels.filter(l => l === 1).length !== 1) problems.push('not exactly one h1');
let prev = 0;
for (const l of levels) { if (l > prev + 1) problems.push('heading jumps from h' + prev + ' to h' + l); prev = l; }
const rgba = s => s.match(/[\d.]+/g).map(Number);
const lum = ([r, g, b]) => {
  const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const behind = el => {
  for (; el; el = el.parentElement) {
    const v = rgba(getComputedStyle(el).backgroundColor);
    if (v.length < 4 || v[3] > 0) return v;
  }
  return [255, 255, 255];
};
for (const el of document.querySelectorAll('body *')) {
  if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const st = getComputedStyle(el);
  if (st.display === 'none' || st.visibility === 'hidden') continue;
  const a = lum(rgba(st.color)), b = lum(behind(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(st.fontSize);
  const large = size >= 24 || (size >= 18.66 && +st.fontWeight >= 700);
  if (ratio < (large ? 3 : 4.5))
    problems.push('contrast ' + ratio.toFixed(2) + ' for "' + el.textContent.trim().slice(0, 40) + '"');
}
return problems;
"#;

fn accessible(b: &Browser, page: &str) {
    let problems = b.run(ACCESSIBILITY, serde_json::json!([]));
    assert_eq!(
        problems,
        serde_json::json!([]),
        "{page} ({}) has accessibility problems",
        b.url()
    );
}

fn shot(b: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("WARD_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), b.screenshot()).unwrap();
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ward serve` on `addr` (with `extra` flags), once it accepts connections.
fn serve(dir: &Path, addr: SocketAddr, extra: &[String]) -> Server {
    let child = ward(dir)
        .args(["serve", "--db", "ward.db", "--listen", &addr.to_string()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = Server(child);
    let end = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < end, "ward serve did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s
}

/// A GET with `cookie`: status, head, body.
fn get(addr: SocketAddr, path: &str, cookie: &str) -> (u16, String, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    (status, head, raw[at + 4..].to_vec())
}

fn lab_with(token: Option<&str>) -> ward_lab::Fixture {
    let mut leeds =
        "@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@leeds.test\"\n"
            .to_owned();
    if let Some(t) = token {
        leeds.push_str(&format!("_ward-challenge IN TXT \"{t}\"\n"));
    }
    fixture(
        vec![
            zone("test", &[("ns.test", "127.0.92.1")], ""),
            zone("leeds.test", &[("ns.leeds.test", "127.0.92.2")], &leeds),
            zone("dover.test", &[("ns.dover.test", "127.0.92.3")], ""),
        ],
        ward_lab::DnsBehaviour::default(),
    )
}

fn monitor(dir: &Path, lab: &ward_lab::Lab) -> String {
    let out = run(
        ward(dir)
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
                "--no-alerts",
            ])
            .args(lab_args(lab)),
        0,
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_volunteer_registers_proves_and_sees_their_domain_scanned_in_a_real_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = tokio::runtime::Runtime::new().unwrap();
    std::fs::write(
        dir.join("inv.toml"),
        "[[organisation]]\nid = \"hq\"\nname = \"Example Party\"\nkind = \"party\"\nsize = \"medium\"\n\n\
         [[organisation]]\nid = \"leeds\"\nname = \"Leeds Branch\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"hq\"\n\n\
         [[organisation]]\nid = \"dover\"\nname = \"Dover Branch\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"hq\"\n\n\
         [[organisation.domain]]\nname = \"dover.test\"\nroles = [\"mail\"]\n",
    )
    .unwrap();
    // The monitor's first round stores the tree; nothing is proved, nothing scanned.
    let lab = rt.block_on(ward_lab::Lab::start(&lab_with(None))).unwrap();
    let err = monitor(dir, &lab);
    lab.stop();
    assert!(err.contains("0 domain(s) proved"), "{err}");
    for (email, org, role) in [
        ("sec@leeds.test", "leeds", "editor"),
        ("sec@dover.test", "dover", "editor"),
    ] {
        run(
            ward(dir)
                .args([
                    "serve", "add-user", "--db", "ward.db", "--email", email, "--org", org,
                    "--role", role,
                ])
                .env("WARD_PASSWORD", PASSWORD),
            0,
        );
    }
    // One port for both runs of the server below, so the browser's session cookie
    // (for 127.0.0.1:PORT) goes on being sent after the restart.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let srv = serve(dir, addr, &[]);
    let b = Browser::start();

    // Not logged in: the organisation page sends the visitor to log in.
    b.goto(&format!("{base}/org/leeds"));
    assert!(b.url().ends_with("/login"), "{}", b.url());
    accessible(&b, "login");
    shot(&b, "login");
    b.type_into("#email", "sec@leeds.test");
    b.type_into("#password", PASSWORD);
    b.click("form[action='/login'] button");
    assert_eq!(b.url(), format!("{base}/"));
    assert_eq!(b.title(), "Organisations · ward");
    let tree = b.source();
    assert!(
        tree.contains("Leeds Branch") && !tree.contains("Dover Branch"),
        "{tree}"
    );
    accessible(&b, "organisations");
    shot(&b, "organisations");

    // Register the branch's domain; it waits for proof, with a token to publish.
    b.click("a[href='/org/leeds']");
    b.type_into("#domain", "leeds.test");
    b.click("form.register button");
    assert!(
        b.url().starts_with(&format!("{base}/org/leeds")),
        "{}",
        b.url()
    );
    assert_eq!(
        b.text("[id='claim-leeds.test'] .state"),
        "waiting for proof"
    );
    let token = b.text("[id='claim-leeds.test'] .token");
    assert!(token.starts_with("ward-"), "{token}");
    accessible(&b, "organisation, waiting for proof");
    shot(&b, "organisation-waiting");
    drop(srv);

    // The volunteer publishes the record; "Check now" sees it.
    let lab = rt
        .block_on(ward_lab::Lab::start(&lab_with(Some(&token))))
        .unwrap();
    let srv = serve(dir, addr, &lab_args(&lab));
    b.goto(&format!("{base}/org/leeds"));
    b.click("[id='claim-leeds.test'] form[action$='/check'] button");
    assert_eq!(b.text("[id='claim-leeds.test'] .state"), "verified");

    // The monitor's next round scans it, and the findings appear on the page.
    let err = monitor(dir, &lab);
    assert!(err.contains("1 domain(s) proved"), "{err}");
    // A second round, so that the page has a trend to draw.
    monitor(dir, &lab);
    lab.stop();
    b.goto(&format!("{base}/org/leeds"));
    let page = b.source();
    assert!(page.contains("<h2>leeds.test</h2>"), "{page}");
    assert!(page.contains("dmarc.policy"), "{page}");
    assert!(!page.contains("No scan of this organisation"), "{page}");
    assert!(
        page.contains("score and DMARC pass rate over the scans"),
        "{page}"
    );
    accessible(&b, "organisation, scanned");
    shot(&b, "organisation-scanned");
    // The domain's own page: every check with its evidence.
    b.click("a[href='/org/leeds/domain/leeds.test']");
    assert_eq!(b.title(), "leeds.test · ward");
    assert!(b.source().contains("id=\"dmarc.policy\""));
    accessible(&b, "domain");
    shot(&b, "domain");
    b.goto(&format!("{base}/org/leeds"));

    // The self-assessment: answered in the page, scored, the gaps listed first.
    b.click("a[href='/org/leeds/assessment']");
    assert!(b.source().contains("Not answered yet"));
    b.choose("#backups-yes");
    b.choose("#updates-no");
    b.choose("#antivirus-unsure");
    b.click("form.assessment button");
    let score = b.text(".score");
    assert!(
        score.ends_with("/100") && score != "0/100" && score != "100/100",
        "{score}"
    );
    let gaps = b.text(".gaps");
    assert!(gaps.contains("Updates (No)"), "{gaps}");
    assert!(gaps.contains("Malware (Not sure)"), "{gaps}");
    assert!(!gaps.contains("Backups"), "answered yes: {gaps}");
    assert!(
        b.source()
            .contains("id=\"backups-yes\" name=\"backups\" value=\"yes\" checked")
    );
    accessible(&b, "self-assessment");
    shot(&b, "self-assessment");

    // The mail reports page: none have arrived for this new domain, and it says so.
    b.goto(&format!("{base}/org/leeds/mail"));
    assert!(b.source().contains("No reports about these domains"));
    accessible(&b, "mail reports");

    // The committee's report, downloaded as the browser would with its session: a PDF
    // of the branch, with its scan and its self-assessment.
    let session = format!(
        "ward_session={}",
        b.cookie("ward_session").expect("a session")
    );
    let (status, head, pdf) = get(addr, "/org/leeds/report.pdf", &session);
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("application/pdf") && head.contains("ward-leeds.pdf"),
        "{head}"
    );
    assert!(pdf.starts_with(b"%PDF-"));
    std::fs::write(dir.join("leeds.pdf"), &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["leeds.pdf", "-"])
        .current_dir(dir)
        .output()
        .expect("pdftotext (poppler-utils, installed by .ci/run)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Leeds Branch") && text.contains("leeds.test"),
        "{text}"
    );
    assert!(
        !text.contains("dover.test"),
        "another branch in the report: {text}"
    );
    let (status, _, html) = get(addr, "/org/leeds/report.html", &session);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&html).contains("leeds.test"));
    let (status, _, body) = get(addr, "/org/dover/report.pdf", &session);
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&body).contains("dover.test"));

    // Another branch, by page and by API: not found, nothing of it shown.
    b.goto(&format!("{base}/org/dover"));
    assert_eq!(b.title(), "Not found · ward");
    assert!(!b.source().contains("dover.test"));
    accessible(&b, "not found");
    shot(&b, "not-found");
    b.goto(&format!("{base}/api/v1/organisations/dover/domains"));
    let api = b.source();
    assert!(
        api.contains("Not found") && !api.contains("dover.test"),
        "{api}"
    );
    drop(srv);

    // The audit log has the registration, the look, the answers and both downloads.
    let counts = common::audit_counts(dir);
    let count = |action: &str| counts.get(action).copied().unwrap_or(0);
    assert_eq!(count("domain-registered"), 1);
    assert_eq!(count("proof-checked"), 1);
    assert_eq!(count("assessment"), 1);
    assert_eq!(count("export"), 2, "the refused download is not an export");
}
