//! A small, strict HTTP/1.1 client for scanning: one GET (or HEAD), no redirects followed,
//! every limit explicit, every failure returned as data ([`ward_model::http::HttpFetch`]).
//!
//! Why not a full client library: a scanner must see exactly what the server said (a
//! redirect is an answer, not something to follow), must never read unbounded input, and
//! must keep "the certificate did not validate" apart from "the connection timed out"
//! apart from "the server said 404". Each of those is a different finding.
//!
//! Connections go through [`Net::connect`], so the private-address guard, the per-host
//! budget and lab port substitution apply. HTTPS validates the certificate against
//! [`Net::roots`] for the request's host name (sent as SNI).
//!
//! ```no_run
//! # async fn f(net: &ward_net::Net) {
//! use ward_net::http::{HttpClient, HttpRequest};
//! let client = HttpClient::builder().body_limit(64 * 1024).build().unwrap();
//! let ip = "192.0.2.1".parse().unwrap();
//! let fetch = client
//!     .fetch(net, ip, &HttpRequest::https_get("mta-sts.example.org", "/.well-known/mta-sts.txt"))
//!     .await;
//! println!("{}", fetch.outcome);
//! # }
//! ```

use crate::{ConfigError, Net};
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use ward_model::NetFailure;
use ward_model::http::{HttpFetch, HttpOutcome};

/// Request method. Only what scanning needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the response has no body.
    Head,
}

/// What to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `HEAD`.
    pub method: Method,
    /// Whether to speak TLS (validating the certificate for `host`).
    pub tls: bool,
    /// The host name: sent as `Host` and, with TLS, as SNI and the name to validate.
    pub host: String,
    /// The well-known port (443, 80, ...); lab port substitution applies.
    pub port: u16,
    /// The path and query, starting with `/`.
    pub path: String,
}

impl HttpRequest {
    /// `GET https://host/path` on port 443.
    pub fn https_get(host: &str, path: &str) -> Self {
        HttpRequest {
            method: Method::Get,
            tls: true,
            host: host.to_owned(),
            port: 443,
            path: path.to_owned(),
        }
    }

    /// `GET http://host/path` on port 80.
    pub fn http_get(host: &str, path: &str) -> Self {
        HttpRequest {
            method: Method::Get,
            tls: false,
            host: host.to_owned(),
            port: 80,
            path: path.to_owned(),
        }
    }

    /// The URL, for evidence.
    pub fn url(&self) -> String {
        let (scheme, default) = if self.tls {
            ("https", 443)
        } else {
            ("http", 80)
        };
        if self.port == default {
            format!("{scheme}://{}{}", self.host, self.path)
        } else {
            format!("{scheme}://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

#[derive(Debug, Clone)]
struct Config {
    timeout: Duration,
    head_limit: usize,
    body_limit: usize,
}

/// Builds an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    cfg: Config,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_head_limit() -> usize {
    16 * 1024
}
fn default_body_limit() -> usize {
    64 * 1024
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        HttpClientBuilder {
            cfg: Config {
                timeout: default_timeout(),
                head_limit: default_head_limit(),
                body_limit: default_body_limit(),
            },
        }
    }
}

impl HttpClientBuilder {
    /// Time for the whole exchange after the TCP connection (handshake, request, reply).
    /// Default 10 s, at most 60 s.
    pub fn timeout(&mut self, t: Duration) -> &mut Self {
        self.cfg.timeout = t;
        self
    }
    /// Most bytes of status line and headers. Default 16 KiB, at most 64 KiB.
    pub fn head_limit(&mut self, n: usize) -> &mut Self {
        self.cfg.head_limit = n;
        self
    }
    /// Most body bytes kept; the rest is not read and the body is marked truncated.
    /// Default 64 KiB (RFC 8461 policies are far smaller), at most 1 MiB.
    pub fn body_limit(&mut self, n: usize) -> &mut Self {
        self.cfg.body_limit = n;
        self
    }
    /// Checks the limits and builds the client.
    pub fn build(&self) -> Result<HttpClient, ConfigError> {
        let range = |what, value: f64, min: f64, max: f64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    what,
                    value,
                    min,
                    max,
                })
            }
        };
        range(
            "HTTP timeout (seconds)",
            self.cfg.timeout.as_secs_f64(),
            0.05,
            60.0,
        )?;
        range(
            "HTTP head limit (bytes)",
            self.cfg.head_limit as f64,
            256.0,
            65536.0,
        )?;
        range(
            "HTTP body limit (bytes)",
            self.cfg.body_limit as f64,
            0.0,
            1048576.0,
        )?;
        Ok(HttpClient {
            cfg: self.cfg.clone(),
        })
    }
}

/// The client. Build once, reuse for every fetch.
#[derive(Debug, Clone)]
pub struct HttpClient {
    cfg: Config,
}

impl Default for HttpClient {
    /// The defaults documented on [`HttpClientBuilder`] (all within their limits).
    fn default() -> Self {
        HttpClient {
            cfg: HttpClientBuilder::default().cfg,
        }
    }
}

/// Most header fields accepted in one response.
pub(crate) const MAX_HEADERS: usize = 128;
/// Most bytes in one chunk-size line.
const MAX_CHUNK_LINE: usize = 1024;

impl HttpClient {
    /// A builder with the defaults.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// Fetches `req` from `ip`. Never fails: every outcome is data.
    pub async fn fetch(&self, net: &Net, ip: IpAddr, req: &HttpRequest) -> HttpFetch {
        let outcome = self.exchange(net, ip, req).await;
        HttpFetch {
            url: req.url(),
            ip: Some(ip.to_string()),
            outcome,
        }
    }

    async fn exchange(&self, net: &Net, ip: IpAddr, req: &HttpRequest) -> HttpOutcome {
        let conn = match net.connect(ip, req.port).await {
            Ok(c) => c,
            Err(failure) => return HttpOutcome::Network { failure },
        };
        let heard = Arc::new(AtomicBool::new(false));
        let expect = if req.tls { Expect::Tls } else { Expect::Http };
        let stream = FirstBytes::new(conn.stream, expect, heard.clone());
        let work = async {
            if req.tls {
                let name = match ServerName::try_from(req.host.clone()) {
                    Ok(n) => n,
                    Err(e) => {
                        return HttpOutcome::Tls {
                            certificate: false,
                            detail: format!("`{}` is not a valid server name: {e}", req.host),
                        };
                    }
                };
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = match rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                {
                    Ok(b) => b.with_root_certificates(net.roots()).with_no_client_auth(),
                    Err(e) => {
                        return HttpOutcome::Tls {
                            certificate: false,
                            detail: e.to_string(),
                        };
                    }
                };
                let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
                match connector.connect(name, stream).await {
                    Ok(tls) => self.talk(tls, req).await,
                    Err(e) => tls_failure(&e, req.port),
                }
            } else {
                self.talk(stream, req).await
            }
        };
        let own = tokio::time::Instant::now() + net.patience(ip, self.cfg.timeout);
        match net.wait_on(ip, crate::budget::cap(own), work).await {
            Ok(o) => o,
            Err(_) => match crate::budget::ended_by_budget(own) {
                Ok(()) => {
                    if !heard.load(Ordering::Relaxed) {
                        net.note_silent(ip);
                    }
                    HttpOutcome::TimedOut
                }
                Err(s) => HttpOutcome::Network {
                    failure: NetFailure::OutOfTime {
                        budget_secs: s.limit_secs,
                    },
                },
            },
        }
    }

    async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: S,
        req: &HttpRequest,
    ) -> HttpOutcome {
        let method = match req.method {
            Method::Get => "GET",
            Method::Head => "HEAD",
        };
        let head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ward (security posture scanner)\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            req.path, req.host
        );
        let mut io = BufReader::new(io);
        if let Err(e) = io.get_mut().write_all(head.as_bytes()).await {
            return io_failure(&e, req.port);
        }
        let _ = io.get_mut().flush().await;
        match read_response(&mut io, &self.cfg, req.method == Method::Head).await {
            Ok(o) => o,
            Err(ReadError::Io(e)) => io_failure(&e, req.port),
            Err(ReadError::Protocol(detail)) => HttpOutcome::Protocol { detail },
        }
    }
}

/// What a socket error means for the fetch: the port speaking another protocol (found
/// by [`FirstBytes`]), or a network failure.
fn io_failure(e: &std::io::Error, port: u16) -> HttpOutcome {
    match e.get_ref().and_then(|i| i.downcast_ref::<WrongProtocol>()) {
        Some(w) => HttpOutcome::WrongProtocol {
            port,
            expected: w.expected.name().into(),
            first_bytes: ward_model::wire::printable(&w.first_bytes),
        },
        None => HttpOutcome::Network {
            failure: NetFailure::from_io(e),
        },
    }
}

fn tls_failure(e: &std::io::Error, port: u16) -> HttpOutcome {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => HttpOutcome::Tls {
            certificate: true,
            detail: format!("{c:?}"),
        },
        Some(other) => HttpOutcome::Tls {
            certificate: false,
            detail: other.to_string(),
        },
        None => io_failure(e, port),
    }
}

/// The protocol a reply must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A TLS record: content type 20 to 24, then major version 3.
    Tls,
    /// `HTTP/`.
    Http,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Tls => "TLS",
            Expect::Http => "HTTP",
        }
    }

    /// Whether `first` (the reply's first bytes, however few) can still begin a reply.
    fn could_begin(self, first: &[u8]) -> bool {
        match self {
            Expect::Tls => {
                first.first().is_none_or(|t| (20..=24).contains(t))
                    && first.get(1).is_none_or(|major| *major == 3)
            }
            Expect::Http => {
                let n = first.len().min(5);
                first.get(..n) == b"HTTP/".get(..n)
            }
        }
    }
}

/// The reply began with bytes that cannot begin `expected`.
#[derive(Debug)]
struct WrongProtocol {
    expected: Expect,
    first_bytes: Vec<u8>,
}

impl std::fmt::Display for WrongProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not {}: first bytes \"{}\"",
            self.expected.name(),
            ward_model::wire::printable(&self.first_bytes)
        )
    }
}

impl std::error::Error for WrongProtocol {}

/// The connection, watched from the first byte it reads: once those bytes cannot begin a
/// reply in the expected protocol, reading fails with [`WrongProtocol`] at once, so a
/// port speaking another protocol (or trickling garbage a byte a second) costs no wait
/// and is reported with what it sent. Whether any byte came at all is kept in `heard`.
struct FirstBytes<S> {
    inner: S,
    expect: Expect,
    first: Vec<u8>,
    heard: Arc<AtomicBool>,
}

impl<S> FirstBytes<S> {
    fn new(inner: S, expect: Expect, heard: Arc<AtomicBool>) -> Self {
        FirstBytes {
            inner,
            expect,
            first: Vec::new(),
            heard,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let fresh = buf.filled().get(before..).unwrap_or_default();
            if !fresh.is_empty() {
                self.heard.store(true, Ordering::Relaxed);
            }
            let room = ward_model::wire::FIRST_BYTES_SHOWN.saturating_sub(self.first.len());
            if room > 0 && !fresh.is_empty() {
                let take = fresh.len().min(room);
                let fresh = fresh.get(..take).unwrap_or_default().to_vec();
                self.first.extend_from_slice(&fresh);
                if !self.expect.could_begin(&self.first) {
                    return Poll::Ready(Err(std::io::Error::other(WrongProtocol {
                        expected: self.expect,
                        first_bytes: self.first.clone(),
                    })));
                }
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

enum ReadError {
    Io(std::io::Error),
    Protocol(String),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads one line (up to and without CRLF or LF), refusing lines longer than `max`.
/// `Ok(None)` at end of input before any byte.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Protocol("reply ended inside a line".into()))
            };
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max + 2 {
            return Err(ReadError::Protocol(format!("a line is over {max} bytes")));
        }
        line.extend_from_slice(buf.get(..take).unwrap_or_default());
        r.consume(take);
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

async fn read_response<R: AsyncBufReadExt + AsyncRead + Unpin>(
    r: &mut R,
    cfg: &Config,
    head_only: bool,
) -> Result<HttpOutcome, ReadError> {
    let mut budget = cfg.head_limit;
    let status_line = read_line(r, budget)
        .await?
        .ok_or_else(|| ReadError::Protocol("no reply".into()))?;
    budget = budget.saturating_sub(status_line.len() + 2);
    let text = String::from_utf8_lossy(&status_line);
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Protocol(format!(
            "status line does not start with HTTP/1.x: {:?}",
            truncate(&text, 80)
        )));
    }
    let status: u16 = match code.parse() {
        Ok(s) if (100..=999).contains(&s) && code.len() == 3 => s,
        _ => {
            return Err(ReadError::Protocol(format!(
                "bad status code {:?}",
                truncate(code, 16)
            )));
        }
    };
    let mut headers = Vec::new();
    loop {
        if budget == 0 {
            return Err(ReadError::Protocol(format!(
                "header section over {} bytes",
                cfg.head_limit
            )));
        }
        let line = read_line(r, budget)
            .await?
            .ok_or_else(|| ReadError::Protocol("reply ended inside the headers".into()))?;
        budget = budget.saturating_sub(line.len() + 2);
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Protocol(format!(
                "over {MAX_HEADERS} header fields"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(ReadError::Protocol(format!(
                "header line without a colon: {:?}",
                truncate(&text, 80)
            )));
        };
        headers.push((
            name.trim().to_ascii_lowercase(),
            value.trim_matches([' ', '\t']).to_owned(),
        ));
    }
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let no_body = head_only || status < 200 || status == 204 || status == 304;
    let chunked =
        find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = find("content-length").map(|v| v.parse::<u64>());
    let (body, body_truncated) = if no_body {
        (Vec::new(), false)
    } else if chunked {
        read_chunked(r, cfg.body_limit).await?
    } else {
        match length {
            Some(Ok(n)) => {
                let want = usize::try_from(n).unwrap_or(usize::MAX);
                let keep = want.min(cfg.body_limit);
                let mut body = vec![0u8; keep];
                r.read_exact(&mut body).await.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        ReadError::Protocol("body shorter than its Content-Length".into())
                    } else {
                        ReadError::Io(e)
                    }
                })?;
                (body, want > keep)
            }
            Some(Err(_)) => {
                return Err(ReadError::Protocol("Content-Length is not a number".into()));
            }
            None => {
                let mut body = Vec::new();
                let cap = u64::try_from(cfg.body_limit).unwrap_or(u64::MAX);
                (&mut *r).take(cap + 1).read_to_end(&mut body).await?;
                let cut = body.len() > cfg.body_limit;
                body.truncate(cfg.body_limit);
                (body, cut)
            }
        }
    };
    Ok(HttpOutcome::Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        body_truncated,
    })
}

/// Decodes a chunked body, keeping at most `limit` bytes.
async fn read_chunked<R: AsyncBufReadExt + AsyncRead + Unpin>(
    r: &mut R,
    limit: usize,
) -> Result<(Vec<u8>, bool), ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r, MAX_CHUNK_LINE)
            .await?
            .ok_or_else(|| ReadError::Protocol("reply ended inside a chunked body".into()))?;
        let text = String::from_utf8_lossy(&line);
        let size_text = text.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16).map_err(|_| {
            ReadError::Protocol(format!("bad chunk size {:?}", truncate(size_text, 20)))
        })?;
        if size == 0 {
            return Ok((body, false));
        }
        let room = limit - body.len();
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > room {
            let mut part = vec![0u8; room];
            r.read_exact(&mut part).await?;
            body.extend_from_slice(&part);
            return Ok((body, true));
        }
        let mut part = vec![0u8; size];
        r.read_exact(&mut part).await?;
        body.extend_from_slice(&part);
        let end = read_line(r, 0).await?;
        if end.as_deref() != Some(&[][..]) {
            return Err(ReadError::Protocol("chunk not followed by CRLF".into()));
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Reads one response from `bytes` as [`HttpClient::fetch`] reads it off a plain HTTP
/// connection, [`FirstBytes`] watching the first bytes; the error is its text, and a port
/// that answered in another protocol the [`HttpOutcome::WrongProtocol`] a fetch reports.
/// For the fuzz targets in `crate::fuzz`.
#[cfg(test)]
pub(crate) async fn read_response_from(
    bytes: &[u8],
    head_limit: usize,
    body_limit: usize,
    head_only: bool,
) -> Result<HttpOutcome, String> {
    let cfg = Config {
        timeout: default_timeout(),
        head_limit,
        body_limit,
    };
    let heard = Arc::new(AtomicBool::new(false));
    let mut io = BufReader::new(FirstBytes::new(bytes, Expect::Http, heard.clone()));
    let got = read_response(&mut io, &cfg, head_only).await;
    assert_eq!(heard.load(Ordering::Relaxed), !bytes.is_empty(), "heard");
    match got {
        Ok(o) => Ok(o),
        Err(ReadError::Io(e)) => match io_failure(&e, 80) {
            o @ HttpOutcome::WrongProtocol { .. } => Ok(o),
            _ => Err(format!("io: {e}")),
        },
        Err(ReadError::Protocol(p)) => Err(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(body: usize) -> Config {
        Config {
            timeout: default_timeout(),
            head_limit: 1024,
            body_limit: body,
        }
    }

    async fn parse(bytes: &[u8], body: usize) -> Result<HttpOutcome, String> {
        let mut r = BufReader::new(bytes);
        read_response(&mut r, &cfg(body), false)
            .await
            .map_err(|e| match e {
                ReadError::Io(e) => format!("io: {e}"),
                ReadError::Protocol(p) => p,
            })
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str, cut: bool) -> HttpOutcome {
        HttpOutcome::Response {
            status,
            headers: headers
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            body: body.into(),
            body_truncated: cut,
        }
    }

    #[tokio::test]
    async fn content_length_body_is_read_and_capped() {
        let r = parse(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
            64,
        )
        .await;
        assert_eq!(
            r,
            Ok(resp(
                200,
                &[("content-type", "text/plain"), ("content-length", "5")],
                "hello",
                false
            ))
        );
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 3).await;
        assert_eq!(r, Ok(resp(200, &[("content-length", "5")], "hel", true)));
    }

    #[tokio::test]
    async fn chunked_and_close_delimited_bodies() {
        let r = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            64,
        )
        .await;
        assert_eq!(
            r,
            Ok(resp(
                200,
                &[("transfer-encoding", "chunked")],
                "abcde",
                false
            ))
        );
        let r = parse(b"HTTP/1.0 301 Moved\r\nLocation: https://x/\r\n\r\nrest", 2).await;
        assert_eq!(r, Ok(resp(301, &[("location", "https://x/")], "re", true)));
    }

    #[tokio::test]
    async fn malformed_replies_are_protocol_errors() {
        assert_eq!(
            parse(b"SSH-2.0-OpenSSH\r\n", 64).await,
            Err("status line does not start with HTTP/1.x: \"SSH-2.0-OpenSSH\"".into())
        );
        assert_eq!(
            parse(b"HTTP/1.1 2000 OK\r\n\r\n", 64).await,
            Err("bad status code \"2000\"".into())
        );
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", 64).await,
            Err("body shorter than its Content-Length".into())
        );
        assert_eq!(
            parse(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                64
            )
            .await,
            Err("bad chunk size \"zz\"".into())
        );
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(2000));
        assert_eq!(
            parse(long.as_bytes(), 64).await,
            Err("a line is over 1007 bytes".into())
        );
    }
}
