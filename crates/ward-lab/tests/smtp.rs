//! The lab's mail server on loopback, driven by a real SMTP client written here: tokio
//! sockets, tokio-rustls after STARTTLS, trusting only the lab CA.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ward_lab::certs::{LabCa, lab_crypto_provider};
use ward_lab::hosts::{SmtpHost, parse_hosts};
use ward_lab::smtp::{BROKEN_TLS_BYTES, MAX_COMMANDS, MAX_LINE, serve_smtp, tls_config_for};

/// Longest any single wait in these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);
const NAME: &str = "mail.example-party.org.uk";

struct Server {
    addr: SocketAddr,
    ca: LabCa,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

/// Starts a mail server for one `[[smtp]]` entry (written without `name` and `ip`).
async fn start(entry: &str) -> Server {
    let text = format!("[[smtp]]\nname = \"{NAME}\"\nip = \"127.0.0.1\"\n{entry}\n");
    let host: SmtpHost = parse_hosts("test", &text)
        .expect("fixture parses")
        .smtp
        .remove(0);
    let now = OffsetDateTime::now_utc();
    let ca = LabCa::new(now).expect("ca");
    let tls = tls_config_for(&host, &ca, now).expect("tls config").into();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_smtp(listener, Arc::new(host), tls, shutdown.clone()));
    Server {
        addr,
        ca,
        shutdown,
        task,
    }
}

/// A reply: its code and the text of each line.
#[derive(Debug, PartialEq, Eq)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

struct Client<S> {
    io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(io: S) -> Self {
        Client {
            io: BufReader::new(io),
        }
    }

    /// Reads one (possibly multi-line) reply, at most 20 lines of 1000 bytes.
    async fn reply(&mut self) -> Option<Reply> {
        let mut lines = vec![];
        let mut code = 0;
        for _ in 0..20 {
            let mut raw = Vec::new();
            let mut limited = (&mut self.io).take(1000);
            let n = tokio::time::timeout(DEADLINE, limited.read_until(b'\n', &mut raw))
                .await
                .expect("reply within the deadline")
                .ok()?;
            if n == 0 {
                return None;
            }
            let line = String::from_utf8(raw).expect("ascii reply");
            let line = line
                .strip_suffix("\r\n")
                .expect("CRLF-terminated reply line");
            let (head, text) = line.split_at_checked(4).unwrap_or((line, ""));
            code = head
                .get(..3)
                .and_then(|c| c.parse().ok())
                .expect("reply code");
            lines.push(text.to_owned());
            if head.ends_with(' ') {
                return Some(Reply { code, lines });
            }
            assert!(head.ends_with('-'), "bad reply line {line:?}");
        }
        panic!("reply longer than 20 lines (code {code})")
    }

    async fn send(&mut self, line: &str) {
        self.io
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("send");
    }

    async fn command(&mut self, line: &str) -> Reply {
        self.send(line).await;
        self.reply()
            .await
            .unwrap_or_else(|| panic!("connection closed after {line:?}"))
    }

    /// True when the server closes the connection with nothing more to say.
    async fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(DEADLINE, self.io.read(&mut byte)).await {
            Ok(Ok(0) | Err(_)) => true,
            Ok(Ok(_)) => false,
            Err(_) => panic!("connection neither closed nor spoke within {DEADLINE:?}"),
        }
    }
}

async fn connect(server: &Server) -> Client<TcpStream> {
    Client::new(TcpStream::connect(server.addr).await.expect("connect"))
}

fn tls13_trusting(ca: &LabCa) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.ca_cert_der().clone()).expect("root");
    Arc::new(
        ClientConfig::builder_with_provider(lab_crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("tls13")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A stream that first yields bytes already read into a buffer, then the socket.
type Resumed = tokio::io::Join<
    tokio::io::Chain<std::io::Cursor<Vec<u8>>, tokio::io::ReadHalf<TcpStream>>,
    tokio::io::WriteHalf<TcpStream>,
>;

/// Greets, says EHLO, sends STARTTLS; returns what the server sent after its `220` (kept
/// apart for inspection) and the connection, which replays those bytes first.
async fn up_to_starttls(server: &Server) -> (Vec<u8>, Resumed) {
    let mut client = connect(server).await;
    assert_eq!(client.reply().await.map(|r| r.code), Some(220));
    let ehlo = client.command("EHLO scanner.test").await;
    assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
    assert_eq!(client.command("STARTTLS").await.code, 220);
    let early = client.io.buffer().to_vec();
    let (read, write) = tokio::io::split(client.io.into_inner());
    let resumed = tokio::io::join(std::io::Cursor::new(early.clone()).chain(read), write);
    (early, resumed)
}

async fn handshake(
    io: Resumed,
    ca: &LabCa,
) -> std::io::Result<tokio_rustls::client::TlsStream<Resumed>> {
    let name = ServerName::try_from(NAME).expect("name");
    let connector = tokio_rustls::TlsConnector::from(tls13_trusting(ca));
    tokio::time::timeout(DEADLINE, connector.connect(name, io))
        .await
        .expect("handshake within the deadline")
}

fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

const STARTTLS_ON: &str = "starttls = true\ncert = { status = \"valid\", key = \"rsa-2048\" }";

#[tokio::test]
async fn banner_and_ehlo_list_starttls_when_configured() {
    let server = start(&format!("{STARTTLS_ON}\nbanner = \"{NAME} ESMTP test\"")).await;
    let mut client = connect(&server).await;
    assert_eq!(
        client.reply().await,
        Some(Reply {
            code: 220,
            lines: vec![format!("{NAME} ESMTP test")]
        })
    );
    let ehlo = client.command("EHLO scanner.test").await;
    assert_eq!(ehlo.code, 250);
    assert_eq!(ehlo.lines[0], format!("{NAME} Hello scanner.test"));
    assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
    assert_eq!(client.command("QUIT").await.code, 221);
    assert!(client.closed().await);
}

#[tokio::test]
async fn ehlo_has_no_starttls_when_not_configured() {
    let server = start("starttls = false").await;
    let mut client = connect(&server).await;
    assert_eq!(
        client.reply().await.map(|r| r.lines),
        Some(vec![format!("{NAME} ESMTP ward-lab")])
    );
    let ehlo = client.command("EHLO scanner.test").await;
    assert_eq!(ehlo.code, 250);
    assert!(ehlo.lines.len() > 1, "extensions listed: {ehlo:?}");
    assert!(!ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
    assert_eq!(client.command("STARTTLS").await.code, 502);
}

#[tokio::test]
async fn starttls_completes_a_tls13_handshake_then_ehlo_again() {
    let server = start(STARTTLS_ON).await;
    let (early, io) = up_to_starttls(&server).await;
    assert_eq!(
        early, b"",
        "the server waits for the client's hello after 220"
    );
    let tls = handshake(io, &server.ca)
        .await
        .expect("valid cert verifies");
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    let mut client = Client::new(tls);
    let ehlo = client.command("EHLO scanner.test").await;
    assert_eq!(ehlo.code, 250);
    assert!(
        !ehlo.lines.iter().any(|l| l == "STARTTLS"),
        "no STARTTLS inside TLS: {ehlo:?}"
    );
    assert_eq!(client.command("STARTTLS").await.code, 503);
    assert_eq!(client.command("QUIT").await.code, 221);
    assert!(client.closed().await);
}

#[tokio::test]
async fn starttls_with_expired_cert_fails_verification_as_expired() {
    let server = start("starttls = true\ncert = { status = \"expired\" }").await;
    let (_, io) = up_to_starttls(&server).await;
    let e = handshake(io, &server.ca).await.expect_err("expired cert");
    assert!(
        matches!(
            tls_error(&e),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            ))
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn greylist_gives_421_and_closes() {
    let server = start("behaviour = \"greylist\"").await;
    let mut client = connect(&server).await;
    let reply = client.reply().await.expect("a banner");
    assert_eq!(reply.code, 421);
    assert!(client.closed().await);
}

#[tokio::test]
async fn refuse_closes_before_any_banner() {
    let server = start("behaviour = \"refuse\"").await;
    let mut client = connect(&server).await;
    assert_eq!(client.reply().await, None);
}

#[tokio::test]
async fn drop_after_ehlo_closes_without_reply() {
    let server = start(&format!("{STARTTLS_ON}\nbehaviour = \"drop-after-ehlo\"")).await;
    let mut client = connect(&server).await;
    assert_eq!(client.reply().await.map(|r| r.code), Some(220));
    client.send("EHLO scanner.test").await;
    assert_eq!(client.reply().await, None);
}

#[tokio::test]
async fn broken_tls_offers_starttls_then_sends_garbage() {
    let server = start("starttls = true\nbehaviour = \"broken-tls\"").await;
    let (_, mut io) = up_to_starttls(&server).await;
    let mut got = Vec::new();
    tokio::time::timeout(DEADLINE, (&mut io).take(4096).read_to_end(&mut got))
        .await
        .expect("garbage then close")
        .expect("read");
    assert_eq!(got, BROKEN_TLS_BYTES);

    let server = start("starttls = true\nbehaviour = \"broken-tls\"").await;
    let (_, io) = up_to_starttls(&server).await;
    let e = handshake(io, &server.ca).await.expect_err("not TLS");
    assert!(
        matches!(tls_error(&e), Some(rustls::Error::InvalidMessage(_))),
        "{e:?}"
    );
}

#[tokio::test]
async fn long_lines_and_too_many_commands_are_cut_off() {
    let server = start("").await;
    let mut client = connect(&server).await;
    client.reply().await.expect("banner");
    let reply = client
        .command(&format!("NOOP {}", "x".repeat(MAX_LINE)))
        .await;
    assert_eq!(reply.code, 500);
    assert!(client.closed().await);

    let mut client = connect(&server).await;
    client.reply().await.expect("banner");
    for _ in 0..MAX_COMMANDS {
        assert_eq!(client.command("NOOP").await.code, 250);
    }
    assert_eq!(client.command("NOOP").await.code, 421);
    assert!(client.closed().await);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let server = start("").await;
    let mut client = connect(&server).await;
    client.reply().await.expect("banner");
    server.shutdown.cancel();
    tokio::time::timeout(DEADLINE, server.task)
        .await
        .expect("stops within the deadline")
        .expect("no panic");
    assert!(client.closed().await, "open sessions end at shutdown");
    assert!(TcpStream::connect(server.addr).await.is_err());
}
