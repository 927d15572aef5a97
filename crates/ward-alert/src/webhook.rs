//! Webhooks: the digest as JSON, POSTed with `X-Ward-Signature: sha256=<hex>` (the
//! HMAC-SHA256 of the body under the contact's secret) and `X-Ward-Timestamp` (Unix
//! seconds, also `sent_at` in the body, so a receiver can refuse a replay). A 2xx answer
//! is delivery; anything else is tried again after a doubling wait, at most
//! [`WEBHOOK_ATTEMPTS`] times.
//!
//! The host is resolved and every address checked with `ward-net`'s private-address
//! guard before a socket is opened: a URL that points into the network ward runs on is
//! refused, unless [`WebhookConfig::targets`] allows it (lab mode).

use crate::Sent;
use crate::digest::Digest;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use ward_model::contact::{Secret, Webhook};
use ward_net::guard::{self, TargetPolicy};

/// Attempts per webhook and run before the digest becomes a dead letter: 3.
pub const WEBHOOK_ATTEMPTS: u32 = 3;
/// How long one attempt may take, connecting included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Most bytes of the answer read (the status line is all that matters).
const ANSWER_LIMIT: usize = 8 * 1024;

/// How webhooks are called.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Which addresses may be contacted. Default: public only.
    pub targets: TargetPolicy,
    /// The wait before the second attempt; each later one waits twice as long. Default
    /// 1 s.
    pub first_backoff: Duration,
    /// CA certificates (PEM) to trust beyond the public roots, for `https://`.
    pub extra_ca_pem: Option<Vec<u8>>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            targets: TargetPolicy::PublicOnly,
            first_backoff: Duration::from_secs(1),
            extra_ca_pem: None,
        }
    }
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `key`.
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A URL taken apart.
struct Target {
    https: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("webhook {url}: not an http:// or https:// URL"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h,
            p.parse()
                .map_err(|_| format!("webhook {url}: bad port {p:?}"))?,
        ),
        _ => (authority, if https { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['@', ' ']) {
        return Err(format!("webhook {url}: bad host"));
    }
    Ok(Target {
        https,
        host: host.to_owned(),
        port,
        path: path.to_owned(),
    })
}

/// Posts `digest` to `hook`, retrying.
pub(crate) async fn send(
    cfg: &WebhookConfig,
    hook: &Webhook,
    digest: &Digest,
    now: OffsetDateTime,
) -> Sent {
    let key = match &hook.secret {
        Secret::Value(v) => v.clone(),
        Secret::Env(name) => match std::env::var(name) {
            Ok(v) if !v.is_empty() => v,
            _ => {
                return Sent::Refused {
                    error: format!(
                        "webhook {}: its secret variable {name} is not set; export it before running ward alert",
                        hook.url
                    ),
                };
            }
        },
    };
    let target = match parse_url(&hook.url) {
        Ok(t) => t,
        Err(error) => return Sent::Refused { error },
    };
    let addr = match resolve(cfg.targets, &target).await {
        Ok(a) => a,
        Err(error) => return Sent::Refused { error },
    };
    let body = digest.json(now).to_string();
    let signature = sign(key.as_bytes(), body.as_bytes());
    let mut wait = cfg.first_backoff;
    let mut last = String::new();
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        let once = post(cfg, &target, addr, &body, &signature, now.unix_timestamp());
        match tokio::time::timeout(ATTEMPT_TIMEOUT, once).await {
            Ok(Ok(())) => return Sent::Sent { attempts: attempt },
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no answer in {} s", ATTEMPT_TIMEOUT.as_secs()),
        }
    }
    Sent::DeadLetter {
        attempts: WEBHOOK_ATTEMPTS,
        error: format!("webhook {}: {last}", hook.url),
    }
}

/// The first address of the host the guard allows; an error naming the refused address
/// when it allows none.
async fn resolve(policy: TargetPolicy, t: &Target) -> Result<std::net::SocketAddr, String> {
    let addrs: Vec<_> = tokio::net::lookup_host((t.host.as_str(), t.port))
        .await
        .map_err(|e| format!("webhook host {}: {e}", t.host))?
        .collect();
    let mut refused = None;
    for a in addrs {
        match guard::check(policy, a) {
            Ok(ok) => return Ok(ok.addr()),
            Err(b) => refused = Some(b),
        }
    }
    Err(match refused {
        Some(b) => format!(
            "webhook host {} resolves to {} ({} address): refused, so that an inventory cannot point ward into its own network (lab mode allows loopback: --lab-ports or --allow-private)",
            t.host,
            b.addr.ip(),
            b.class
        ),
        None => format!("webhook host {}: no address", t.host),
    })
}

async fn post(
    cfg: &WebhookConfig,
    t: &Target,
    addr: std::net::SocketAddr,
    body: &str,
    signature: &str,
    timestamp: i64,
) -> Result<(), String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let host = if (t.https && t.port == 443) || (!t.https && t.port == 80) {
        t.host.clone()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ward/{}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Ward-Signature: {signature}\r\nX-Ward-Timestamp: {timestamp}\r\n\
         Connection: close\r\n\r\n",
        t.path,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    if t.https {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &cfg.extra_ca_pem {
            use rustls_pki_types::pem::PemObject;
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(pem).flatten() {
                let _ = roots.add(c);
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from(t.host.clone())
            .map_err(|e| format!("{}: {e}", t.host))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {addr}: {e}"))?;
        exchange(tls, &head, body).await
    } else {
        exchange(tcp, &head, body).await
    }
}

/// Writes the request, reads the status line: 2xx or an error naming the status.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    head: &str,
    body: &str,
) -> Result<(), String> {
    s.write_all(head.as_bytes())
        .await
        .and(s.write_all(body.as_bytes()).await)
        .and(s.flush().await)
        .map_err(|e| format!("sending: {e}"))?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < ANSWER_LIMIT {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next().unwrap_or("");
    let code = line.split(' ').nth(1).unwrap_or("");
    if line.starts_with("HTTP/1.") && code.len() == 3 && code.starts_with('2') {
        Ok(())
    } else if line.is_empty() {
        Err("closed without an answer".into())
    } else {
        Err(format!(
            "answered {:?}",
            line.chars().take(80).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn urls_are_taken_apart() {
        let t = parse_url("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port, t.path.as_str()),
            (false, "127.0.0.1", 8080, "/hook?x=1")
        );
        let t = parse_url("https://hooks.example").unwrap();
        assert_eq!((t.https, t.port, t.path.as_str()), (true, 443, "/"));
        assert!(parse_url("ftp://x").is_err());
    }
}
