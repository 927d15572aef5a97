//! A small W3C WebDriver client: enough to drive Debian's headless Chromium through
//! chromedriver on loopback as a person would (open a page, type, click, read), run a
//! script in the page, and take a screenshot. Plain HTTP/1.1 and JSON, one request per
//! connection.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key W3C WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium under its own chromedriver; both end when this is dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
}

fn find_program(env: &str, candidates: &[&str]) -> Option<String> {
    if let Ok(p) = std::env::var(env) {
        return Some(p);
    }
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| (*p).to_owned())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Panics, saying what to
    /// install, when either is missing: a browser test that cannot run must not pass.
    pub fn start() -> Browser {
        let driver = find_program("WARD_CHROMEDRIVER", &["/usr/bin/chromedriver"]).expect(
            "chromedriver not found: install Debian's chromium and chromium-driver (.ci/run does), \
             or set WARD_CHROMEDRIVER",
        );
        let chromium = find_program("WARD_CHROMIUM", &["/usr/bin/chromium"]).expect(
            "chromium not found: install Debian's chromium (.ci/run does), or set WARD_CHROMIUM",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver}: {e}"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut b = Browser {
            driver: child,
            addr,
            session: String::new(),
        };
        let end = Instant::now() + Duration::from_secs(20);
        while b.raw("GET", "/status", None).is_err() {
            assert!(Instant::now() < end, "chromedriver did not start on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,1400"],
            },
        }}});
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session from chromedriver: {v}"))
            .to_owned();
        b
    }

    /// One request to chromedriver: the `value` of its answer, or its error.
    fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut s = TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(60))).ok();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let payload = read_reply(&mut s)?;
        let v: serde_json::Value =
            serde_json::from_str(&payload).map_err(|e| format!("{e}: {payload}"))?;
        if v["value"]["error"].is_string() {
            return Err(format!(
                "{} {}: {}",
                v["value"]["error"], path, v["value"]["message"]
            ));
        }
        Ok(v["value"].clone())
    }

    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        self.raw(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn session_call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(serde_json::json!({ "url": url })));
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.session_call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page as the browser holds it now.
    pub fn source(&self) -> String {
        self.session_call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn element(&self, css: &str) -> String {
        let v = self.session_call(
            "POST",
            "/element",
            Some(serde_json::json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// Types `text` into the field `css` finds.
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.session_call(
            "POST",
            &format!("/element/{e}/clear"),
            Some(serde_json::json!({})),
        );
        self.session_call(
            "POST",
            &format!("/element/{e}/value"),
            Some(serde_json::json!({ "text": text })),
        );
    }

    /// Clicks what `css` finds, a link or a form's button, and waits until the page it
    /// leads to has loaded: a click returns before a form's navigation, so the new
    /// document is told from the old by a mark set on the old one.
    pub fn click(&self, css: &str) {
        let e = self.element(css);
        self.run("window.__wardOld = true;", serde_json::json!([]));
        self.session_call(
            "POST",
            &format!("/element/{e}/click"),
            Some(serde_json::json!({})),
        );
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let loaded = self.raw(
                "POST",
                &format!("/session/{}/execute/sync", self.session),
                Some(serde_json::json!({
                    "script": "return !window.__wardOld && document.readyState === 'complete';",
                    "args": [],
                })),
            );
            if loaded.is_ok_and(|v| v == serde_json::Value::Bool(true)) {
                return;
            }
            assert!(Instant::now() < end, "clicking {css} led to no new page");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks what `css` finds when the click leads nowhere (a radio button, a box).
    pub fn choose(&self, css: &str) {
        let e = self.element(css);
        self.session_call(
            "POST",
            &format!("/element/{e}/click"),
            Some(serde_json::json!({})),
        );
    }

    /// The value of the browser's cookie `name` for the page shown.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.raw(
            "GET",
            &format!("/session/{}/cookie/{name}", self.session),
            None,
        )
        .ok()
        .and_then(|v| v["value"].as_str().map(str::to_owned))
    }

    /// The visible text of what `css` finds.
    pub fn text(&self, css: &str) -> String {
        let e = self.element(css);
        self.session_call("GET", &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn run(&self, script: &str, args: serde_json::Value) -> serde_json::Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(serde_json::json!({"script": script, "args": args})),
        )
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let b64 = self.session_call("GET", "/screenshot", None);
        decode_base64(b64.as_str().unwrap_or_default())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Reads one HTTP reply's body: chromedriver may keep the connection open whatever the
/// request said, so the body ends where its length (or its last chunk) says.
fn read_reply(s: &mut TcpStream) -> Result<String, String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let lower = head.to_ascii_lowercase();
        if lower.contains("transfer-encoding: chunked") {
            if body.ends_with("0\r\n\r\n") {
                return Ok(unchunk(body));
            }
        } else if let Some(len) = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            && body.len() >= len
        {
            return Ok(body[..len].to_owned());
        }
    }
    let text = String::from_utf8_lossy(&raw);
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

fn unchunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Standard base64 (the screenshot's encoding), without a crate for one call.
fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
