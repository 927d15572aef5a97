//! A mail receiver for tests of ward's own mail (`ward alert`): an ESMTP server on
//! loopback that offers STARTTLS with a certificate from a lab CA of its own, refuses
//! mail before TLS, and keeps every message it accepts. Unlike the lab's mail hosts
//! ([`crate::smtp`]), which only talk as far as STARTTLS, this one takes DATA.
//!
//! Limits: lines of at most [`MAX_LINE`] bytes, messages of at most [`MAX_MESSAGE`]
//! bytes, [`IDLE`] between lines.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::certs::{CertError, LabCa, SniResolver, lab_crypto_provider, server_config};
use crate::hosts::CertSpec;

/// Longest line accepted, CRLF included (RFC 5321 allows 1000 in DATA).
pub const MAX_LINE: usize = 1000;
/// Largest message kept.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// Longest wait for the next line.
pub const IDLE: Duration = Duration::from_secs(30);

/// Why the receiver did not start.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// Its certificate could not be made.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// Its socket could not be bound.
    #[error("binding the mailbox: {0}")]
    Io(#[from] std::io::Error),
}

/// One message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// MAIL FROM's address.
    pub from: String,
    /// RCPT TO's addresses.
    pub to: Vec<String>,
    /// The message, dot-unstuffed, CRLF line ends.
    pub data: String,
    /// Whether it came after STARTTLS.
    pub tls: bool,
}

/// The running receiver; stops when dropped.
#[derive(Debug)]
pub struct Mailbox {
    addr: SocketAddr,
    ca_pem: String,
    got: Arc<(Mutex<Vec<Received>>, Notify)>,
    stop: CancellationToken,
}

impl Mailbox {
    /// Starts on 127.0.0.1 (a free port), with a certificate for `localhost`.
    pub async fn start() -> Result<Mailbox, MailboxError> {
        let now = OffsetDateTime::now_utc();
        let ca = LabCa::new(now)?;
        let names = vec!["localhost".to_owned()];
        let issued = ca.issue(&names, &CertSpec::default(), now)?;
        let provider = lab_crypto_provider();
        let mut sni = SniResolver::new();
        sni.add(&names, issued.certified_key(&provider)?);
        let tls = tokio_rustls::TlsAcceptor::from(server_config(provider, sni, &[])?);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let got = Arc::new((Mutex::new(Vec::new()), Notify::new()));
        let stop = CancellationToken::new();
        let (g, s) = (got.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    _ = s.cancelled() => return,
                    c = listener.accept() => c,
                };
                let Ok((stream, _)) = conn else { continue };
                let (g, tls) = (g.clone(), tls.clone());
                tokio::spawn(async move {
                    let mut plain = BufReader::new(stream);
                    if let Ok(true) = converse(&mut plain, false, &g).await
                        && let Ok(t) = tls.accept(plain.into_inner()).await
                    {
                        let _ = converse(&mut BufReader::new(t), true, &g).await;
                    }
                });
            }
        });
        Ok(Mailbox {
            addr,
            ca_pem: ca.ca_cert_pem().to_owned(),
            got,
            stop,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA (PEM) its certificate chains to.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Every message so far.
    pub fn messages(&self) -> Vec<Received> {
        self.got.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `n` messages arrived or `deadline` passed; returns them.
    pub async fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let notified = self.got.1.notified();
            let now = self.messages();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.messages();
            }
        }
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One side of the conversation (plain or after TLS). `Ok(true)`: the client said
/// STARTTLS and the caller should upgrade.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    tls: bool,
    got: &(Mutex<Vec<Received>>, Notify),
) -> std::io::Result<bool> {
    if !tls {
        s.write_all(b"220 localhost ESMTP ward-lab mailbox\r\n")
            .await?;
    }
    let mut from = None;
    let mut to = Vec::new();
    loop {
        let Some(line) = read_line(s).await? else {
            return Ok(false);
        };
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if tls {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else {
                b"250-localhost\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
            }
        } else if upper == "STARTTLS" && !tls {
            s.write_all(b"220 go ahead\r\n").await?;
            return Ok(true);
        } else if upper.starts_with("MAIL FROM:") {
            if !tls {
                b"530 5.7.0 Must issue a STARTTLS command first\r\n"
            } else {
                from = Some(address(&line[10..]));
                to.clear();
                b"250 OK\r\n"
            }
        } else if upper.starts_with("RCPT TO:") && from.is_some() {
            to.push(address(&line[8..]));
            b"250 OK\r\n"
        } else if upper == "DATA" && from.is_some() && !to.is_empty() {
            s.write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                let Some(l) = read_line(s).await? else {
                    return Ok(false);
                };
                if l == "." {
                    break;
                }
                if data.len() + l.len() > MAX_MESSAGE {
                    return Ok(false);
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push_str("\r\n");
            }
            let r = Received {
                from: from.take().unwrap_or_default(),
                to: std::mem::take(&mut to),
                data,
                tls,
            };
            got.0.lock().unwrap_or_else(|p| p.into_inner()).push(r);
            got.1.notify_waiters();
            b"250 OK queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            from = None;
            to.clear();
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            s.write_all(b"221 bye\r\n").await?;
            return Ok(false);
        } else {
            b"503 5.5.1 bad sequence of commands\r\n"
        };
        s.write_all(reply).await?;
    }
}

/// `<a@b> PARAM…` → `a@b`.
fn address(arg: &str) -> String {
    let a = arg.trim();
    let a = a.split_whitespace().next().unwrap_or("");
    a.trim_start_matches('<').trim_end_matches('>').to_owned()
}

/// One line without its CRLF, bounded and timed; `None` at the end of the stream.
async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(IDLE, async {
        let mut limited = (&mut *s).take(MAX_LINE as u64);
        limited.read_until(b'\n', &mut buf).await
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if read == 0 {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&buf);
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}
