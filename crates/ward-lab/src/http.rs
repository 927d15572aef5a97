//! The lab's web servers: a small hand-written HTTP/1.1 server, over plain TCP and over
//! TLS, that serves the `[[web]]` hosts of one loopback address and misbehaves on purpose
//! when a host asks it to (slow, endless headers, hang).
//!
//! No framework: a framework would refuse to misbehave. One request per connection
//! (`Connection: close`); the request head is read with a size and a time limit and any body
//! is ignored. Requests are dispatched by the Host header; HTTPS picks its certificate by SNI
//! ([`tls_config_for`]).
//!
//! Redirects to HTTPS name no port (`https://<host><path>`): the lab's HTTPS port is chosen
//! at start, so a client following them in the lab maps port 443 to it, as it maps every
//! name to a lab address.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::certs::{CertError, LabCa, SniResolver, lab_crypto_provider, server_config};
use crate::hosts::{HttpMode, WebBehaviour, WebHost};

/// Largest request head (request line and headers) read, in bytes; larger gets `431`.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Time allowed for the request head to arrive; slower gets `408`.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once per listener; more are closed at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Pause between bytes for the `slow` behaviour.
pub const SLOW_BYTE_INTERVAL: Duration = Duration::from_secs(1);

/// Serves plain HTTP for `hosts` on `listener` until `shutdown` is cancelled. Open
/// connections are dropped at shutdown.
pub async fn serve_http(listener: TcpListener, hosts: Arc<[WebHost]>, shutdown: CancellationToken) {
    accept_loop(listener, shutdown, move |tcp| {
        let hosts = Arc::clone(&hosts);
        async move { handle(tcp, &hosts, Scheme::Http).await }
    })
    .await;
}

/// What a `tls = "not-tls"` host answers on the HTTPS port, whatever it is sent.
pub const NOT_TLS_REPLY: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Serves plain HTTP's `400` on the HTTPS port (`tls = "not-tls"`) until `shutdown`.
pub async fn serve_not_tls(listener: TcpListener, shutdown: CancellationToken) {
    accept_loop(listener, shutdown, move |mut tcp| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tcp.read(&mut buf)).await;
        let _ = tcp.write_all(NOT_TLS_REPLY).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// Serves HTTPS for `hosts` on `listener` with `tls` (see [`tls_config_for`]) until
/// `shutdown` is cancelled.
pub async fn serve_https(
    listener: TcpListener,
    hosts: Arc<[WebHost]>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: CancellationToken,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    accept_loop(listener, shutdown, move |tcp| {
        let hosts = Arc::clone(&hosts);
        let acceptor = acceptor.clone();
        async move {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => handle(tls, &hosts, Scheme::Https).await,
                Ok(Err(e)) => tracing::debug!("lab https: handshake failed: {e}"),
                Err(_) => tracing::debug!("lab https: handshake timed out"),
            }
        }
    })
    .await;
}

/// The TLS configuration for the HTTPS server of one address: a certificate per host that
/// has one (issued by `ca` as the host's `cert` says, judged at `now`), chosen by SNI; TLS
/// 1.2 and 1.3 on aws-lc-rs; ALPN `http/1.1`.
///
/// Fails with [`CertError::NoCertificates`] when no host has a certificate: such an address
/// has no HTTPS.
pub fn tls_config_for(
    hosts: &[WebHost],
    ca: &LabCa,
    now: OffsetDateTime,
) -> Result<Arc<rustls::ServerConfig>, CertError> {
    let provider = lab_crypto_provider();
    let mut resolver = SniResolver::new();
    for host in hosts {
        if let Some(spec) = &host.cert {
            let issued = ca.issue(&host.names, spec, now)?;
            resolver.add(&host.names, issued.certified_key(&provider)?);
        }
    }
    server_config(provider, resolver, &[b"http/1.1"])
}

/// Accepts connections until `shutdown`, running `handler` on each in its own task, at most
/// [`MAX_CONNECTIONS`] at once. Dropping or finishing the loop aborts the connections.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    handler: F,
) where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                if connections.len() >= MAX_CONNECTIONS {
                    tracing::warn!("lab: {peer} turned away, {MAX_CONNECTIONS} connections open");
                    continue;
                }
                connections.spawn(handler(tcp));
            }
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("lab: accept failed: {e}");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
    connections.shutdown().await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

/// One connection: read the head, answer (or misbehave), close.
async fn handle<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, hosts: &[WebHost], scheme: Scheme) {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut io)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::TooLarge)) => {
            let r = Response::text(
                431,
                "Request Header Fields Too Large",
                "request head too large\n",
            );
            return finish(io, &r.encode(false)).await;
        }
        Ok(Err(HeadError::Closed)) => return,
        Ok(Err(HeadError::Io(e))) => {
            tracing::debug!("lab http: reading request head: {e}");
            return;
        }
        Err(_) => {
            let r = Response::text(408, "Request Timeout", "request head too slow\n");
            return finish(io, &r.encode(false)).await;
        }
    };
    let request = match parse_head(&head) {
        Ok(request) => request,
        Err(why) => {
            let r = Response::text(400, "Bad Request", &format!("{why}\n"));
            return finish(io, &r.encode(false)).await;
        }
    };
    let Some(host) = hosts.iter().find(|h| h.names.contains(&request.host)) else {
        let r = Response::text(421, "Misdirected Request", "no such host here\n");
        return finish(io, &r.encode(request.head_only())).await;
    };
    let bytes = respond(host, &request, scheme).encode(request.head_only());
    match host.behaviour {
        WebBehaviour::Normal => finish(io, &bytes).await,
        WebBehaviour::Slow => {
            for byte in bytes {
                if io.write_all(&[byte]).await.is_err() || io.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(SLOW_BYTE_INTERVAL).await;
            }
            let _ = io.shutdown().await;
        }
        WebBehaviour::EndlessHeaders => endless_headers(io).await,
        WebBehaviour::Hang => drain(io).await,
    }
}

/// Most bytes, and longest time, spent discarding what a client still sends after the
/// response, so that closing does not reset the connection under the response.
const LINGER_BYTES: usize = 64 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Writes `bytes`, then closes (with close_notify on TLS). Errors mean the client left.
///
/// Closing a socket with unread input makes the kernel send a reset, which can destroy
/// the response before the client reads it (e.g. a `431` for a head still arriving); so
/// after shutting down our side, unread input is drained for a bounded while.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, bytes: &[u8]) {
    if io.write_all(bytes).await.is_err() || io.flush().await.is_err() {
        return;
    }
    if io.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while drained < LINGER_BYTES {
            match io.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// A status line, then header lines forever, until the client stops reading or leaves.
async fn endless_headers<S: AsyncWrite + Unpin>(mut io: S) {
    if io.write_all(b"HTTP/1.1 200 OK\r\n").await.is_err() {
        return;
    }
    let mut n: u64 = 0;
    loop {
        let mut batch = String::new();
        for _ in 0..64 {
            n += 1;
            batch.push_str(&format!("X-Ward-Lab-Endless-{n}: {n}\r\n"));
        }
        if io.write_all(batch.as_bytes()).await.is_err() || io.flush().await.is_err() {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Never answers: reads and discards, in bounded chunks, until the client leaves.
async fn drain<S: AsyncRead + Unpin>(mut io: S) {
    let mut sink = [0u8; 1024];
    while let Ok(n) = io.read(&mut sink).await {
        if n == 0 {
            return;
        }
    }
}

#[derive(Debug)]
enum HeadError {
    TooLarge,
    Closed,
    Io(std::io::Error),
}

/// Reads up to the blank line that ends the request head, at most [`MAX_HEAD_BYTES`].
/// Bytes after the blank line (a body) are left unread or ignored.
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let room = MAX_HEAD_BYTES + 1 - head.len();
        let want = room.min(chunk.len());
        let n = io
            .read(chunk.get_mut(..want).unwrap_or(&mut []))
            .await
            .map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let scan_from = head.len().saturating_sub(3);
        head.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        if let Some(end) = find(head.get(scan_from..).unwrap_or(&[]), b"\r\n\r\n") {
            head.truncate(scan_from + end + 4);
            if head.len() > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            return Ok(head);
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a request the lab looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: String,
    /// Path and query, as sent (origin form).
    target: String,
    /// Host header without port, lower case, without a trailing dot.
    host: String,
}

impl Request {
    fn head_only(&self) -> bool {
        self.method == "HEAD"
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }
}

/// Parses a request head (request line and headers, ending in a blank line).
fn parse_head(head: &[u8]) -> Result<Request, &'static str> {
    let text = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().ok_or("empty request")?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("request line is not `METHOD TARGET VERSION`");
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("bad method");
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err("only HTTP/1.0 and HTTP/1.1 are spoken here");
    }
    let (target, target_host) = split_target(target)?;
    let mut host_header = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err("obsolete line folding");
        }
        let (name, value) = line.split_once(':').ok_or("header line without a colon")?;
        if name.is_empty() || name.ends_with([' ', '\t']) {
            return Err("bad header name");
        }
        if name.eq_ignore_ascii_case("host") {
            if host_header.is_some() {
                return Err("more than one Host header");
            }
            host_header = Some(value.trim_matches([' ', '\t']));
        }
    }
    let host = match (target_host, host_header) {
        (Some(h), _) => h,
        (None, Some(h)) => h,
        (None, None) if version == "HTTP/1.0" => "",
        (None, None) => return Err("no Host header"),
    };
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        host: host_without_port(host)?,
    })
}

/// Splits a request target into the origin-form path and, for absolute form, its host.
fn split_target(target: &str) -> Result<(&str, Option<&str>), &'static str> {
    if target.starts_with('/') {
        return Ok((target, None));
    }
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .ok_or("request target is neither a path nor an absolute URL")?;
    match rest.find('/') {
        Some(i) => Ok((&rest[i..], Some(&rest[..i]))),
        None => Ok(("/", Some(rest))),
    }
}

fn host_without_port(host: &str) -> Result<String, &'static str> {
    let bare = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    if bare
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b"-._:".contains(&b)))
    {
        return Err("bad Host");
    }
    Ok(bare.trim_end_matches('.').to_ascii_lowercase())
}

/// The response a well-behaved server gives `host` for `request` on `scheme`.
fn respond(host: &WebHost, request: &Request, scheme: Scheme) -> Response {
    if scheme == Scheme::Http {
        match &host.http {
            HttpMode::RedirectHttps => {
                return Response::redirect(format!("https://{}{}", request.host, request.target));
            }
            HttpMode::RedirectTo(url) => {
                return Response::redirect(format!(
                    "{}{}",
                    url.trim_end_matches('/'),
                    request.target
                ));
            }
            HttpMode::Serve => {}
            // Served by `crate::wire` instead: no request is ever read on such a port.
            HttpMode::Garbage | HttpMode::GarbageSlow | HttpMode::Mute => {}
        }
    }
    let mut response = if request.method != "GET" && request.method != "HEAD" {
        let mut r = Response::text(405, "Method Not Allowed", "only GET and HEAD\n");
        r.headers.push(("Allow".into(), "GET, HEAD".into()));
        r
    } else if let Some(body) = host.files.get(request.path()) {
        Response::text(200, "OK", body)
    } else if request.path() == "/" {
        let name = host.names.first().map_or("", String::as_str);
        Response {
            status: 200,
            reason: "OK",
            content_type: "text/html; charset=utf-8",
            headers: vec![],
            body: format!(
                "<!doctype html>\n<html><head><title>{name}</title></head>\
                 <body><h1>{name}</h1><p>A ward-lab test site.</p></body></html>\n"
            )
            .into_bytes(),
        }
    } else {
        Response::text(404, "Not Found", "not found\n")
    };
    response.headers.extend(
        host.headers
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    response
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Response {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn text(status: u16, reason: &'static str, body: &str) -> Self {
        Response {
            status,
            reason,
            content_type: "text/plain; charset=utf-8",
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    fn redirect(location: String) -> Self {
        let mut r = Response::text(301, "Moved Permanently", &format!("moved to {location}\n"));
        r.headers.push(("Location".into(), location));
        r
    }

    fn encode(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nServer: ward-lab\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Connection: close\r\n",
            self.status,
            self.reason,
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(head: &str) -> Result<Request, &'static str> {
        parse_head(head.as_bytes())
    }

    #[test]
    fn parses_origin_and_absolute_form() {
        assert_eq!(
            req("GET /a?b HTTP/1.1\r\nHost: WWW.Example.org.:8080\r\n\r\n"),
            Ok(Request {
                method: "GET".into(),
                target: "/a?b".into(),
                host: "www.example.org".into()
            })
        );
        assert_eq!(
            req("GET http://x.test/p HTTP/1.1\r\nHost: y.test\r\n\r\n").map(|r| (r.host, r.target)),
            Ok(("x.test".into(), "/p".into()))
        );
        assert_eq!(
            req("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").map(|r| r.host),
            Ok("::1".into())
        );
    }

    #[test]
    fn refuses_malformed_heads() {
        assert_eq!(req("GET / HTTP/1.1\r\n\r\n"), Err("no Host header"));
        assert_eq!(
            req("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
            Err("more than one Host header")
        );
        assert_eq!(
            req("GET /  HTTP/1.1\r\n\r\n"),
            Err("request line is not `METHOD TARGET VERSION`")
        );
        assert_eq!(
            req("GET / HTTP/2\r\nHost: a\r\n\r\n"),
            Err("only HTTP/1.0 and HTTP/1.1 are spoken here")
        );
        assert_eq!(
            req("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"),
            Err("obsolete line folding")
        );
        assert_eq!(req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), Err("bad Host"));
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nHost: \xff\r\n\r\n"),
            Err("request head is not UTF-8")
        );
    }

    #[tokio::test]
    async fn head_reader_stops_at_the_limit() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 10, b'a');
        big.extend_from_slice(b"\r\n\r\n");
        let mut reader = big.as_slice();
        assert!(matches!(
            read_head(&mut reader).await,
            Err(HeadError::TooLarge)
        ));

        let mut exact = b"GET / HTTP/1.1\r\nX: ".to_vec();
        exact.resize(MAX_HEAD_BYTES - 4, b'a');
        exact.extend_from_slice(b"\r\n\r\nBODY");
        let mut reader = exact.as_slice();
        let head = read_head(&mut reader).await.expect("fits exactly");
        assert_eq!(head.len(), MAX_HEAD_BYTES);
    }
}
