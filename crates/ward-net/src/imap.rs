//! A minimal IMAP4rev1 client (RFC 3501) over implicit TLS, for fetching report
//! messages and moving them once stored (MOVE, RFC 6851).
//!
//! Only what ingestion needs: LOGIN, CREATE, SELECT, UID SEARCH, UID FETCH
//! BODY.PEEK[], UID MOVE, LOGOUT. Every read is bounded: a response line by
//! [`MAX_LINE`], a literal by the caller's limit (a larger one is read and thrown
//! away, and the message reported), and every exchange by [`TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Longest response line read, literals aside.
const MAX_LINE: u64 = 64 * 1024;
/// Longest wait for any one exchange with the server.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong talking to an IMAP server. The messages never hold the password.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The CA file holds no usable certificate.
    #[error("{0}")]
    BadCa(String),
    /// Connecting, the handshake, or an exchange took too long.
    #[error("{0}")]
    Timeout(String),
    /// A read or write failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The server broke the protocol (closed early, a line too long, no greeting).
    #[error("{0}")]
    Protocol(String),
    /// The server answered a command with NO or BAD.
    #[error("IMAP {command}: {text}")]
    Refused {
        /// The command, without its arguments when they hold a secret.
        command: String,
        /// The server's words.
        text: String,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ImapError {
    move |source| ImapError::Io {
        context: context.into(),
        source,
    }
}

/// Where to read reports from: `imaps://USER@HOST[:PORT][/FOLDER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The login name.
    pub user: String,
    /// The server's host name or address.
    pub host: String,
    /// The port (993 unless given).
    pub port: u16,
    /// The folder to read (INBOX unless given).
    pub folder: String,
}

impl Mailbox {
    /// Reads `imaps://USER@HOST[:PORT][/FOLDER]` (port 993 and folder INBOX by default).
    pub fn parse(url: &str) -> Result<Mailbox, String> {
        let rest = url
            .strip_prefix("imaps://")
            .ok_or_else(|| format!("{url:?}: write imaps://USER@HOST[:PORT][/FOLDER]"))?;
        let (authority, folder) = match rest.split_once('/') {
            Some((a, f)) if !f.is_empty() => (a, f.to_owned()),
            Some((a, _)) => (a, "INBOX".to_owned()),
            None => (rest, "INBOX".to_owned()),
        };
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| format!("{url:?}: the user name is missing (imaps://USER@HOST)"))?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("{url:?}: port {p:?} is not a number"))?,
            ),
            _ => (hostport, 993),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_control() || c == '"');
        if bad(user) || bad(host) || bad(&folder) {
            return Err(format!("{url:?}: empty or unusable user, host or folder"));
        }
        Ok(Mailbox {
            user: user.to_owned(),
            host: host.to_owned(),
            port,
            folder,
        })
    }
}

/// The trust anchors: the public roots, plus the CA certificates in `extra_pem`.
pub fn roots(extra_pem: &[u8]) -> Result<RootCertStore, ImapError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if !extra_pem.is_empty() {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(extra_pem) {
            let cert = cert.map_err(|e| ImapError::BadCa(format!("not a PEM certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ImapError::BadCa(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ImapError::BadCa("no certificate in the CA file".into()));
        }
    }
    Ok(roots)
}

/// What the server said after a command.
pub struct Response {
    /// Untagged lines (`* ...`), literals inlined as they arrived.
    pub lines: Vec<Vec<u8>>,
    /// Literals, in order.
    pub literals: Vec<Literal>,
}

/// A literal: its bytes, or, when over the caller's limit, only that it was too large.
pub enum Literal {
    /// The literal's bytes.
    Bytes(Vec<u8>),
    /// Over the caller's limit: read and thrown away.
    TooLarge,
}

/// A logged-out or logged-in connection to one server.
pub struct Client {
    stream: BufReader<TlsStream<TcpStream>>,
    next_tag: u32,
}

impl Client {
    /// Connects, checks the certificate against `roots`, and reads the greeting.
    pub async fn connect(mb: &Mailbox, roots: RootCertStore) -> Result<Client, ImapError> {
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(mb.host.clone())
            .map_err(|e| ImapError::Protocol(format!("{}: not a host name: {e}", mb.host)))?;
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect((mb.host.as_str(), mb.port)))
            .await
            .map_err(|_| {
                ImapError::Timeout(format!("{}:{}: connection timed out", mb.host, mb.port))
            })?
            .map_err(io(format!("connecting to {}:{}", mb.host, mb.port)))?;
        let tls = tokio::time::timeout(
            TIMEOUT,
            TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await
        .map_err(|_| ImapError::Timeout(format!("{}: TLS handshake timed out", mb.host)))?
        .map_err(io(format!("TLS with {}:{}", mb.host, mb.port)))?;
        let mut c = Client {
            stream: BufReader::new(tls),
            next_tag: 1,
        };
        let (greeting, _) = c.read_line(0).await?;
        if !greeting.starts_with(b"* OK") {
            return Err(ImapError::Protocol(format!(
                "{}: the server did not greet with OK: {}",
                mb.host,
                String::from_utf8_lossy(&greeting).trim_end()
            )));
        }
        Ok(c)
    }

    /// Reads one line (CRLF-terminated); when it ends in a literal `{n}`, reads the
    /// literal too, keeping it if at most `max_literal` bytes.
    async fn read_line(&mut self, max_literal: u64) -> Result<(Vec<u8>, Vec<Literal>), ImapError> {
        let mut line = Vec::new();
        let mut literals = Vec::new();
        loop {
            let mut part = Vec::new();
            let n = tokio::time::timeout(
                TIMEOUT,
                (&mut self.stream)
                    .take(MAX_LINE + 1)
                    .read_until(b'\n', &mut part),
            )
            .await
            .map_err(|_| ImapError::Timeout("the IMAP server stopped answering".into()))?
            .map_err(io("reading from the IMAP server"))?;
            if n == 0 {
                return Err(ImapError::Protocol(
                    "the IMAP server closed the connection".into(),
                ));
            }
            if !part.ends_with(b"\n") {
                return Err(ImapError::Protocol(format!(
                    "an IMAP response line is longer than {MAX_LINE} bytes"
                )));
            }
            let size = literal_size(&part);
            line.extend_from_slice(&part);
            let Some(size) = size else {
                return Ok((line, literals));
            };
            if size <= max_literal {
                let len = usize::try_from(size)
                    .map_err(|_| ImapError::Protocol(format!("a literal of {size} bytes")))?;
                let mut buf = vec![0u8; len];
                tokio::time::timeout(TIMEOUT, self.stream.read_exact(&mut buf))
                    .await
                    .map_err(|_| {
                        ImapError::Timeout("the IMAP server stopped sending a message".into())
                    })?
                    .map_err(io("reading a message from the IMAP server"))?;
                literals.push(Literal::Bytes(buf));
            } else {
                let mut sink = tokio::io::sink();
                let copied = tokio::time::timeout(
                    TIMEOUT,
                    tokio::io::copy(&mut (&mut self.stream).take(size), &mut sink),
                )
                .await
                .map_err(|_| {
                    ImapError::Timeout("the IMAP server stopped sending a message".into())
                })?
                .map_err(io("reading a message from the IMAP server"))?;
                if copied != size {
                    return Err(ImapError::Protocol(
                        "the IMAP server closed the connection inside a message".into(),
                    ));
                }
                literals.push(Literal::TooLarge);
            }
        }
    }

    /// Sends one command and reads up to its tagged reply; NO and BAD are errors.
    pub async fn command(&mut self, cmd: &str, max_literal: u64) -> Result<Response, ImapError> {
        let tag = format!("w{}", self.next_tag);
        self.next_tag += 1;
        let wire = format!("{tag} {cmd}\r\n");
        tokio::time::timeout(TIMEOUT, async {
            self.stream.get_mut().write_all(wire.as_bytes()).await?;
            self.stream.get_mut().flush().await
        })
        .await
        .map_err(|_| ImapError::Timeout("the IMAP server stopped reading".into()))?
        .map_err(io("writing to the IMAP server"))?;
        let mut lines = Vec::new();
        let mut literals = Vec::new();
        loop {
            let (line, lits) = self.read_line(max_literal).await?;
            literals.extend(lits);
            if let Some(rest) = line.strip_prefix(format!("{tag} ").as_bytes()) {
                let text = String::from_utf8_lossy(rest).trim_end().to_owned();
                if text.starts_with("OK") {
                    return Ok(Response { lines, literals });
                }
                // Never echo the password back.
                let shown = if cmd.starts_with("LOGIN ") {
                    "LOGIN"
                } else {
                    cmd
                };
                return Err(ImapError::Refused {
                    command: shown.to_owned(),
                    text,
                });
            }
            lines.push(line);
        }
    }
}

/// The `n` of a line ending in `{n}` or `{n+}` before CRLF.
fn literal_size(line: &[u8]) -> Option<u64> {
    let t = line.strip_suffix(b"\r\n").or(line.strip_suffix(b"\n"))?;
    let t = t.strip_suffix(b"}")?;
    let t = t.strip_suffix(b"+").unwrap_or(t);
    let open = t.iter().rposition(|&c| c == b'{')?;
    let digits = t.get(open + 1..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An IMAP quoted string (RFC 3501 §4.3); `None` for text that cannot be quoted.
pub fn quote(s: &str) -> Option<String> {
    if s.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return None;
    }
    Some(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// The UIDs of an untagged `* SEARCH 1 2 3` reply.
pub fn search_uids(r: &Response) -> Vec<u32> {
    r.lines
        .iter()
        .filter_map(|l| l.strip_prefix(b"* SEARCH"))
        .flat_map(|rest| {
            String::from_utf8_lossy(rest)
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Mailbox::parse("imaps://dmarc@mail.example:10993/Reports/DMARC"),
            Ok(Mailbox {
                user: "dmarc".into(),
                host: "mail.example".into(),
                port: 10993,
                folder: "Reports/DMARC".into(),
            })
        );
        assert_eq!(
            Mailbox::parse("imaps://a@b.example").map(|m| (m.port, m.folder)),
            Ok((993, "INBOX".into()))
        );
        assert_eq!(
            Mailbox::parse("imaps://rua@party.example@127.0.0.1:4").map(|m| (m.user, m.host)),
            Ok(("rua@party.example".into(), "127.0.0.1".into()))
        );
        assert!(Mailbox::parse("imap://a@b").is_err());
        assert!(Mailbox::parse("imaps://b.example").is_err());
        assert!(Mailbox::parse("imaps://a@b:x").is_err());
    }

    #[test]
    fn literals_and_quotes() {
        assert_eq!(
            literal_size(b"* 1 FETCH (UID 4 BODY[] {1234}\r\n"),
            Some(1234)
        );
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12+}\r\n"), Some(12));
        assert_eq!(literal_size(b"* OK {x}\r\n"), None);
        assert_eq!(literal_size(b"* OK done\r\n"), None);
        assert_eq!(quote(r#"pa"ss\word"#).as_deref(), Some(r#""pa\"ss\\word""#));
        assert_eq!(quote("a\r\nb"), None);
    }
}
