//! The lab's mail servers: a small ESMTP server that greets, answers EHLO, upgrades with
//! STARTTLS (RFC 3207) and says goodbye, and misbehaves on purpose when its host asks it to
//! (refuse, greylist, drop after EHLO, broken TLS). It accepts no mail: the scanner only
//! needs the conversation up to and through STARTTLS.
//!
//! The conversation is an explicit state machine ([`State`]): each state is a struct saying
//! what is expected next, consumed by each step, which returns the reply and what comes
//! next. The socket loop around it only reads bounded lines and writes replies, so the
//! machine is tested on transcripts without sockets.
//!
//! Limits: command lines of at most [`MAX_LINE`] bytes (RFC 5321 §4.5.3.1.4), at most
//! [`MAX_COMMANDS`] commands per connection, [`IDLE_TIMEOUT`] between commands and
//! [`SESSION_TIMEOUT`] for the whole connection.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::certs::{CertError, LabCa, SniResolver, lab_crypto_provider, server_config};
use crate::hosts::{SmtpBehaviour, SmtpHost};
use crate::http::accept_loop;

/// Longest command line accepted, CRLF included (RFC 5321 §4.5.3.1.4).
pub const MAX_LINE: usize = 512;
/// Most commands accepted on one connection; the next gets `421` and the connection closes.
pub const MAX_COMMANDS: usize = 50;
/// Longest wait for the next command.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a connection may last.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(300);
/// Time allowed for the TLS handshake after STARTTLS.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// What a `broken-tls` server sends where the TLS handshake should be: not a TLS record.
pub const BROKEN_TLS_BYTES: &[u8] = b"this is not TLS, says ward-lab (broken-tls)\r\n";

/// Who speaks TLS once the client has said STARTTLS.
#[derive(Debug, Clone)]
pub enum AfterStartTls {
    /// Nobody: STARTTLS is not offered (except by `broken-tls`, which never uses TLS).
    Nothing,
    /// The lab's rustls server with this configuration (see [`tls_config_for`]).
    Rustls(Arc<rustls::ServerConfig>),
    /// The bytes are relayed to this `openssl s_server` (`tls = "openssl-legacy"`): a
    /// mail server whose TLS library is old enough to speak TLS 1.0 and RSA key exchange.
    Relay(std::net::SocketAddr),
}

impl From<Option<Arc<rustls::ServerConfig>>> for AfterStartTls {
    /// The lab's own TLS when there is a configuration (see [`tls_config_for`]).
    fn from(config: Option<Arc<rustls::ServerConfig>>) -> Self {
        match config {
            Some(c) => AfterStartTls::Rustls(c),
            None => AfterStartTls::Nothing,
        }
    }
}

/// Serves `host` on `listener` until `shutdown` is cancelled; `tls` says who takes over
/// after STARTTLS.
pub async fn serve_smtp(
    listener: TcpListener,
    host: Arc<SmtpHost>,
    tls: AfterStartTls,
    shutdown: CancellationToken,
) {
    accept_loop(listener, shutdown, move |tcp| {
        let host = Arc::clone(&host);
        let tls = tls.clone();
        async move {
            if tokio::time::timeout(SESSION_TIMEOUT, session(tcp, &host, tls))
                .await
                .is_err()
            {
                tracing::debug!("lab smtp {}: session time limit reached", host.name);
            }
        }
    })
    .await;
}

/// The TLS configuration for `host`'s STARTTLS: its certificate issued by `ca` as its
/// `cert` says, judged at `now`; TLS 1.2 and 1.3 on aws-lc-rs. `None` when the host has
/// no certificate.
pub fn tls_config_for(
    host: &SmtpHost,
    ca: &LabCa,
    now: OffsetDateTime,
) -> Result<Option<Arc<rustls::ServerConfig>>, CertError> {
    let Some(spec) = &host.cert else {
        return Ok(None);
    };
    let issued = ca.issue(std::slice::from_ref(&host.name), spec, now)?;
    tls_config_from(host, &issued).map(Some)
}

/// The TLS configuration for `host` serving a certificate already issued.
pub fn tls_config_from(
    host: &SmtpHost,
    issued: &crate::certs::IssuedCert,
) -> Result<Arc<rustls::ServerConfig>, CertError> {
    let provider = lab_crypto_provider();
    let mut resolver = SniResolver::new();
    resolver.add(
        std::slice::from_ref(&host.name),
        issued.certified_key(&provider)?,
    );
    server_config(provider, resolver, &[])
}

/// What the server offers, fixed for a connection.
#[derive(Debug, Clone)]
struct Offer {
    name: String,
    starttls: bool,
    behaviour: SmtpBehaviour,
}

/// One connection, from accept to close.
async fn session(tcp: TcpStream, host: &SmtpHost, tls: AfterStartTls) {
    let offer = Offer {
        name: host.name.clone(),
        starttls: host.starttls
            && (!matches!(tls, AfterStartTls::Nothing)
                || matches!(
                    host.behaviour,
                    SmtpBehaviour::BrokenTls | SmtpBehaviour::BrokenTlsLate
                )),
        behaviour: host.behaviour,
    };
    let mut plain = LineConn::new(tcp);
    match host.behaviour {
        // Served by `crate::wire` instead; never reached.
        SmtpBehaviour::Refuse | SmtpBehaviour::Garbage | SmtpBehaviour::Mute => return,
        SmtpBehaviour::Greylist => {
            let line = format!("421 4.7.0 {} greylisted, try again later\r\n", host.name);
            let _ = plain.send(&line).await;
            return plain.close().await;
        }
        SmtpBehaviour::Normal
        | SmtpBehaviour::DropAfterEhlo
        | SmtpBehaviour::BrokenTls
        | SmtpBehaviour::BrokenTlsLate => {}
    }
    if plain
        .send(&format!("220 {}\r\n", host.banner_text()))
        .await
        .is_err()
    {
        return;
    }
    let mut commands = 0;
    let start = State::ExpectEhlo(ExpectEhlo { in_tls: false });
    match converse(&mut plain, start, &offer, &mut commands).await {
        End::Close => return plain.close().await,
        End::StartTls => {}
    }
    if host.behaviour == SmtpBehaviour::BrokenTls {
        let _ = plain.io.write_all(BROKEN_TLS_BYTES).await;
        return plain.close().await;
    }
    if host.behaviour == SmtpBehaviour::BrokenTlsLate {
        if plain.buf.is_empty() {
            let mut hello = [0u8; 4096];
            let _ = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, plain.io.read(&mut hello)).await;
        }
        let _ = plain.io.write_all(BROKEN_TLS_BYTES).await;
        return plain.close().await;
    }
    let config = match tls {
        AfterStartTls::Nothing => return plain.close().await,
        AfterStartTls::Rustls(config) => config,
        AfterStartTls::Relay(to) => return relay(plain, to, &host.name).await,
    };
    if !plain.buf.is_empty() {
        // Commands sent before the handshake must not be taken as sent over TLS
        // (the STARTTLS command injection of CVE-2011-0411): drop them.
        tracing::debug!(
            "lab smtp {}: discarding input pipelined after STARTTLS",
            host.name
        );
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let secure = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(plain.io)).await
    {
        Ok(Ok(secure)) => secure,
        Ok(Err(e)) => return tracing::debug!("lab smtp {}: handshake failed: {e}", host.name),
        Err(_) => return tracing::debug!("lab smtp {}: handshake timed out", host.name),
    };
    let mut secure = LineConn::new(secure);
    let start = State::ExpectEhlo(ExpectEhlo { in_tls: true });
    let _ = converse(&mut secure, start, &offer, &mut commands).await;
    secure.close().await;
}

/// Hands the connection to the `openssl s_server` at `to`: what the client sent after
/// STARTTLS (normally nothing yet) goes first, then bytes flow both ways until either
/// side closes.
async fn relay(plain: LineConn<TcpStream>, to: std::net::SocketAddr, name: &str) {
    let mut upstream = match TcpStream::connect(to).await {
        Ok(u) => u,
        Err(e) => return tracing::debug!("lab smtp {name}: legacy TLS server at {to}: {e}"),
    };
    let mut client = plain.io;
    if !plain.buf.is_empty() && upstream.write_all(&plain.buf).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// How a stretch of conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Close,
    StartTls,
}

/// Reads commands and answers them until the machine says to close or to start TLS.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut LineConn<S>,
    mut state: State,
    offer: &Offer,
    commands: &mut usize,
) -> End {
    loop {
        let line = match tokio::time::timeout(IDLE_TIMEOUT, conn.read_line()).await {
            Ok(Ok(line)) => line,
            Ok(Err(LineError::TooLong)) => {
                let _ = conn.send("500 5.5.2 Line too long\r\n").await;
                return End::Close;
            }
            Ok(Err(LineError::Closed | LineError::Io)) => return End::Close,
            Err(_) => {
                let _ = conn
                    .send(&format!(
                        "421 4.4.2 {} Idle too long, closing\r\n",
                        offer.name
                    ))
                    .await;
                return End::Close;
            }
        };
        *commands += 1;
        if *commands > MAX_COMMANDS {
            let _ = conn
                .send(&format!(
                    "421 4.7.0 {} Too many commands, closing\r\n",
                    offer.name
                ))
                .await;
            return End::Close;
        }
        let step = state.step(Command::parse(&line), offer);
        if let Some(reply) = step.reply
            && conn.send(&reply).await.is_err()
        {
            return End::Close;
        }
        match step.next {
            Next::Continue(next) => state = next,
            Next::StartTls => return End::StartTls,
            Next::Close => return End::Close,
        }
    }
}

/// A command line, parsed as far as the lab cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Ehlo(String),
    Helo(String),
    StartTls {
        with_argument: bool,
    },
    Quit,
    Noop,
    Rset,
    /// MAIL, RCPT, DATA, VRFY, EXPN, BDAT: mail the lab will not take.
    Mail,
    Unknown,
    /// Not ASCII, or a required argument missing.
    Malformed(&'static str),
}

impl Command {
    fn parse(line: &[u8]) -> Command {
        let Ok(text) = std::str::from_utf8(line) else {
            return Command::Malformed("command is not ASCII");
        };
        if !text.is_ascii() {
            return Command::Malformed("command is not ASCII");
        }
        let (verb, argument) = match text.split_once(' ') {
            Some((verb, argument)) => (verb, argument.trim()),
            None => (text, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if argument.is_empty() => {
                Command::Malformed("EHLO and HELO need a domain or address literal")
            }
            "EHLO" => Command::Ehlo(printable(argument)),
            "HELO" => Command::Helo(printable(argument)),
            "STARTTLS" => Command::StartTls {
                with_argument: !argument.is_empty(),
            },
            "QUIT" => Command::Quit,
            "NOOP" => Command::Noop,
            "RSET" => Command::Rset,
            "MAIL" | "RCPT" | "DATA" | "VRFY" | "EXPN" | "BDAT" => Command::Mail,
            _ => Command::Unknown,
        }
    }
}

/// A client-chosen string made safe to echo: printable ASCII only, at most 64 bytes.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// What the server expects next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Greeted (or TLS just started): the client must say EHLO or HELO first.
    ExpectEhlo(ExpectEhlo),
    /// The client has said hello: STARTTLS, QUIT and the harmless commands are open.
    ExpectCommand(ExpectCommand),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ExpectEhlo {
    in_tls: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ExpectCommand {
    in_tls: bool,
    /// Whether the client said EHLO (not HELO): STARTTLS needs it.
    extended: bool,
}

/// What one step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// The reply to send, CRLF-terminated lines; `None` to send nothing.
    reply: Option<String>,
    next: Next,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    Continue(State),
    /// `220` was sent: the TLS handshake comes next.
    StartTls,
    Close,
}

fn reply(text: &str, next: Next) -> Step {
    Step {
        reply: Some(format!("{text}\r\n")),
        next,
    }
}

impl State {
    fn step(self, command: Command, offer: &Offer) -> Step {
        match self {
            State::ExpectEhlo(s) => s.step(command, offer),
            State::ExpectCommand(s) => s.step(command, offer),
        }
    }
}

impl ExpectEhlo {
    fn step(self, command: Command, offer: &Offer) -> Step {
        let stay = || Next::Continue(State::ExpectEhlo(self.clone()));
        match command {
            Command::Ehlo(_) | Command::Helo(_)
                if offer.behaviour == SmtpBehaviour::DropAfterEhlo =>
            {
                Step {
                    reply: None,
                    next: Next::Close,
                }
            }
            Command::Ehlo(client) => Step {
                reply: Some(ehlo_reply(offer, self.in_tls, &client)),
                next: Next::Continue(State::ExpectCommand(ExpectCommand {
                    in_tls: self.in_tls,
                    extended: true,
                })),
            },
            Command::Helo(_) => reply(
                &format!("250 {}", offer.name),
                Next::Continue(State::ExpectCommand(ExpectCommand {
                    in_tls: self.in_tls,
                    extended: false,
                })),
            ),
            Command::Quit => reply("221 2.0.0 Bye", Next::Close),
            Command::Noop | Command::Rset => reply("250 2.0.0 OK", stay()),
            Command::StartTls { .. } | Command::Mail => reply("503 5.5.1 Send EHLO first", stay()),
            Command::Unknown => reply("500 5.5.1 Command not recognised", stay()),
            Command::Malformed(why) => reply(&format!("501 5.5.4 {why}"), stay()),
        }
    }
}

impl ExpectCommand {
    fn step(self, command: Command, offer: &Offer) -> Step {
        let stay = || Next::Continue(State::ExpectCommand(self.clone()));
        match command {
            // A second hello restarts the session (RFC 5321 §4.1.4).
            Command::Ehlo(_) | Command::Helo(_) => ExpectEhlo {
                in_tls: self.in_tls,
            }
            .step(command, offer),
            Command::StartTls { .. } if self.in_tls => {
                reply("503 5.5.1 TLS already active", stay())
            }
            Command::StartTls { .. } if !offer.starttls => {
                reply("502 5.5.1 STARTTLS not offered here", stay())
            }
            Command::StartTls { .. } if !self.extended => {
                reply("503 5.5.1 Send EHLO, not HELO, before STARTTLS", stay())
            }
            Command::StartTls {
                with_argument: true,
            } => reply("501 5.5.4 STARTTLS takes no argument", stay()),
            Command::StartTls {
                with_argument: false,
            } => reply("220 2.0.0 Ready to start TLS", Next::StartTls),
            Command::Quit => reply("221 2.0.0 Bye", Next::Close),
            Command::Noop | Command::Rset => reply("250 2.0.0 OK", stay()),
            Command::Mail => reply("554 5.7.1 This lab server accepts no mail", stay()),
            Command::Unknown => reply("500 5.5.1 Command not recognised", stay()),
            Command::Malformed(why) => reply(&format!("501 5.5.4 {why}"), stay()),
        }
    }
}

/// The multi-line EHLO reply; STARTTLS is listed only when offered and not yet in TLS.
fn ehlo_reply(offer: &Offer, in_tls: bool, client: &str) -> String {
    let mut lines = vec![format!("{} Hello {client}", offer.name)];
    lines.push("SIZE 10240000".to_owned());
    lines.push("8BITMIME".to_owned());
    if offer.starttls && !in_tls {
        lines.push("STARTTLS".to_owned());
    }
    lines.push("ENHANCEDSTATUSCODES".to_owned());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineError {
    TooLong,
    Closed,
    Io,
}

/// A stream read line by line with a bounded buffer.
struct LineConn<S> {
    io: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> LineConn<S> {
    fn new(io: S) -> Self {
        LineConn {
            io,
            buf: Vec::with_capacity(MAX_LINE),
        }
    }

    /// The next line without its line ending (CRLF, or a bare LF), at most [`MAX_LINE`]
    /// bytes with the ending.
    async fn read_line(&mut self) -> Result<Vec<u8>, LineError> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                if end + 1 > MAX_LINE {
                    return Err(LineError::TooLong);
                }
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() >= MAX_LINE {
                return Err(LineError::TooLong);
            }
            let mut chunk = [0u8; MAX_LINE];
            let room = MAX_LINE - self.buf.len();
            let n = self
                .io
                .read(chunk.get_mut(..room).unwrap_or(&mut []))
                .await
                .map_err(|_| LineError::Io)?;
            if n == 0 {
                return Err(LineError::Closed);
            }
            self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        }
    }

    async fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.io.write_all(text.as_bytes()).await?;
        self.io.flush().await
    }

    async fn close(mut self) {
        let _ = self.io.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(starttls: bool, behaviour: SmtpBehaviour) -> Offer {
        Offer {
            name: "mail.test".into(),
            starttls,
            behaviour,
        }
    }

    /// Runs `lines` through the machine from a fresh greeting; returns the replies and
    /// whether it ended by closing, starting TLS, or still waiting.
    fn transcript(offer: &Offer, lines: &[&str]) -> (Vec<String>, Option<Next>) {
        let mut state = State::ExpectEhlo(ExpectEhlo { in_tls: false });
        let mut replies = vec![];
        for line in lines {
            let step = state.step(Command::parse(line.as_bytes()), offer);
            replies.push(step.reply.unwrap_or_default());
            match step.next {
                Next::Continue(next) => state = next,
                end => return (replies, Some(end)),
            }
        }
        (replies, None)
    }

    #[test]
    fn ehlo_advertises_starttls_only_when_offered() {
        let (r, _) = transcript(&offer(true, SmtpBehaviour::Normal), &["EHLO c.test"]);
        assert_eq!(
            r[0],
            "250-mail.test Hello c.test\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n\
             250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"
        );
        let (r, _) = transcript(&offer(false, SmtpBehaviour::Normal), &["ehlo c.test"]);
        assert!(!r[0].contains("STARTTLS"), "{}", r[0]);
    }

    #[test]
    fn starttls_needs_ehlo_and_an_offer() {
        let o = offer(true, SmtpBehaviour::Normal);
        let (r, end) = transcript(
            &o,
            &[
                "STARTTLS",
                "HELO c",
                "STARTTLS",
                "EHLO c",
                "STARTTLS x",
                "STARTTLS",
            ],
        );
        assert!(r[0].starts_with("503 "), "{r:?}");
        assert!(r[2].starts_with("503 "), "{r:?}");
        assert!(r[4].starts_with("501 "), "{r:?}");
        assert_eq!(r[5], "220 2.0.0 Ready to start TLS\r\n");
        assert_eq!(end, Some(Next::StartTls));

        let (r, end) = transcript(
            &offer(false, SmtpBehaviour::Normal),
            &["EHLO c", "STARTTLS"],
        );
        assert!(r[1].starts_with("502 "), "{r:?}");
        assert_eq!(end, None);
    }

    #[test]
    fn in_tls_there_is_no_second_starttls() {
        let o = offer(true, SmtpBehaviour::Normal);
        let state = State::ExpectEhlo(ExpectEhlo { in_tls: true });
        let step = state.step(Command::parse(b"EHLO c"), &o);
        assert!(!step.reply.clone().unwrap_or_default().contains("STARTTLS"));
        let Next::Continue(state) = step.next else {
            panic!("EHLO continues")
        };
        let step = state.step(Command::parse(b"STARTTLS"), &o);
        assert_eq!(
            step.reply.as_deref(),
            Some("503 5.5.1 TLS already active\r\n")
        );
    }

    #[test]
    fn drop_after_ehlo_closes_without_reply() {
        let (r, end) = transcript(
            &offer(true, SmtpBehaviour::DropAfterEhlo),
            &["NOOP", "EHLO c"],
        );
        assert_eq!(r, vec!["250 2.0.0 OK\r\n".to_owned(), String::new()]);
        assert_eq!(end, Some(Next::Close));
    }

    #[test]
    fn quit_mail_and_nonsense() {
        let (r, end) = transcript(
            &offer(false, SmtpBehaviour::Normal),
            &[
                "EHLO",
                "FOO",
                "EHLO c",
                "MAIL FROM:<a@b>",
                "EHLO \x1b[31mevil",
                "QUIT",
            ],
        );
        assert!(r[0].starts_with("501 "), "{r:?}");
        assert!(r[1].starts_with("500 "), "{r:?}");
        assert!(r[3].starts_with("554 "), "{r:?}");
        assert!(
            r[4].starts_with("250-mail.test Hello [31mevil\r\n"),
            "escape stripped: {r:?}"
        );
        assert_eq!(r[5], "221 2.0.0 Bye\r\n");
        assert_eq!(end, Some(Next::Close));
        assert_eq!(
            Command::parse(b"EHLO \xff"),
            Command::Malformed("command is not ASCII")
        );
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        let mut input = vec![b'a'; MAX_LINE - 2];
        input.extend_from_slice(b"\r\nNOOP\n");
        input.extend(vec![b'b'; MAX_LINE]);
        input.extend_from_slice(b"\r\n");
        let (client, server) = tokio::io::duplex(4 * MAX_LINE);
        let mut client = client;
        client.write_all(&input).await.expect("write");
        drop(client);
        let mut conn = LineConn::new(server);
        assert_eq!(conn.read_line().await.map(|l| l.len()), Ok(MAX_LINE - 2));
        assert_eq!(conn.read_line().await, Ok(b"NOOP".to_vec()));
        assert_eq!(conn.read_line().await, Err(LineError::TooLong));
    }
}
