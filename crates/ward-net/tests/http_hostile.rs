//! Hostile web servers on loopback (issue 4, must-hold 5): endless headers, a header
//! line that never ends, a server that sends one byte a second, an endless body, and a
//! 10 MB certificate chain over HTTPS. Each costs the client bounded time and memory and
//! ends as an outcome that says what happened.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ward_model::http::HttpOutcome;
use ward_net::http::{HttpClient, HttpRequest};
use ward_net::{Net, NetConfig, PortMap};

/// Serves every connection with `behave`; returns the port and a count of bytes the
/// server managed to write.
async fn serve<F, Fut>(behave: F) -> (u16, Arc<AtomicUsize>)
where
    F: Fn(TcpStream, Arc<AtomicUsize>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream, counter.clone()));
        }
    });
    (port, sent)
}

fn net(http: u16, https: u16) -> Net {
    let map = BTreeMap::from([(80, http), (443, https)]);
    Net::new(
        NetConfig::builder(SocketAddr::from(([127, 0, 0, 1], 53)))
            .dangerous_lab_mode(PortMap(map))
            .build(),
    )
    .expect("net")
}

async fn read_request(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf).await;
}

/// Writes `head`, then `unit` again and again (up to `max` bytes) while the peer reads.
async fn flood(
    mut s: TcpStream,
    sent: Arc<AtomicUsize>,
    head: &'static [u8],
    unit: &'static [u8],
    max: usize,
) {
    read_request(&mut s).await;
    if s.write_all(head).await.is_err() {
        return;
    }
    let block: Vec<u8> = unit
        .iter()
        .copied()
        .cycle()
        .take(unit.len() * (16384 / unit.len()))
        .collect();
    let mut total = 0;
    while total < max {
        if s.write_all(&block).await.is_err() {
            return;
        }
        total += block.len();
        sent.fetch_add(block.len(), Ordering::Relaxed);
    }
}

async fn get(net: &Net, client: &HttpClient, tls: bool) -> (HttpOutcome, Duration) {
    let req = if tls {
        HttpRequest::https_get("hostile.test", "/")
    } else {
        HttpRequest::http_get("hostile.test", "/")
    };
    let started = Instant::now();
    let f = client.fetch(net, "127.0.0.1".parse().unwrap(), &req).await;
    (f.outcome, started.elapsed())
}

const TEN_MB: usize = 10 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_header_fields_stop_at_the_field_limit() {
    let (port, sent) =
        serve(|s, n| flood(s, n, b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n", TEN_MB)).await;
    let (outcome, took) = get(&net(port, 1), &HttpClient::default(), false).await;
    assert_eq!(
        outcome,
        HttpOutcome::Protocol {
            detail: "over 128 header fields".into()
        }
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The server could not push anywhere near its 10 MB before ward hung up.
    assert!(sent.load(Ordering::Relaxed) < TEN_MB / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_header_line_stops_at_the_head_limit() {
    let (port, sent) =
        serve(|s, n| flood(s, n, b"HTTP/1.1 200 OK\r\nX-Long: ", b"aaaaaaaa", TEN_MB)).await;
    let (outcome, took) = get(&net(port, 1), &HttpClient::default(), false).await;
    let HttpOutcome::Protocol { detail } = &outcome else {
        panic!("{outcome:?}");
    };
    // The status line took 17 bytes of the 16 KiB head budget.
    assert_eq!(detail, &format!("a line is over {} bytes", 16 * 1024 - 17));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(sent.load(Ordering::Relaxed) < TEN_MB / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_is_cut_at_the_body_limit() {
    let (port, sent) = serve(|s, n| {
        flood(
            s,
            n,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
            b"0123456789abcdef",
            TEN_MB,
        )
    })
    .await;
    let (outcome, took) = get(&net(port, 1), &HttpClient::default(), false).await;
    let HttpOutcome::Response {
        status,
        body,
        body_truncated,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (*status, body.len(), *body_truncated),
        (200, 64 * 1024, true)
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(sent.load(Ordering::Relaxed) < TEN_MB / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_a_second_costs_the_timeout_and_no_more() {
    let (port, _) = serve(|mut s, n| async move {
        read_request(&mut s).await;
        for b in b"HTTP/1.1 200 OK\r\nServer: slow\r\n\r\n".iter().cycle() {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            n.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let client = HttpClient::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let (outcome, took) = get(&net(port, 1), &client, false).await;
    assert_eq!(outcome, HttpOutcome::TimedOut);
    // The whole exchange has one deadline: a trickle does not reset it.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_certificate_chain_fails_the_handshake() {
    let (port, sent) = serve(|mut s, n| async move {
        read_request(&mut s).await;
        // TLS 1.2 ServerHello: ECDHE-RSA-AES128-GCM-SHA256, no extensions.
        let mut hello = vec![2u8, 0, 0, 38, 3, 3];
        hello.extend_from_slice(&[7u8; 32]);
        hello.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
        let mut out = vec![22u8, 3, 3, 0, hello.len() as u8];
        out.extend_from_slice(&hello);
        // A Certificate message declaring 10 MB, then the bytes in full records.
        let mut first = vec![11u8];
        first.extend_from_slice(&(TEN_MB as u32).to_be_bytes()[1..]);
        let mut chunk = first;
        let mut left = TEN_MB;
        loop {
            let take = (16384 - chunk.len()).min(left);
            chunk.resize(chunk.len() + take, 0x30);
            left -= take;
            out.extend_from_slice(&[22, 3, 3]);
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(&chunk);
            if s.write_all(&out).await.is_err() || left == 0 {
                return;
            }
            n.fetch_add(out.len(), Ordering::Relaxed);
            out.clear();
            chunk = Vec::new();
        }
    })
    .await;
    let (outcome, took) = get(&net(1, port), &HttpClient::default(), true).await;
    let HttpOutcome::Tls {
        certificate,
        detail,
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    // Not a certificate verdict: rustls refuses the message by its size.
    assert!(!certificate);
    assert!(detail.contains("HandshakePayloadTooLarge"), "{detail}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(sent.load(Ordering::Relaxed) < TEN_MB / 2);
}

/// Writes `bytes` one a second after reading the request, like a port forwarded to the
/// wrong daemon that trickles.
async fn trickle(mut s: TcpStream, bytes: &'static [u8]) {
    read_request(&mut s).await;
    for b in bytes {
        if s.write_all(&[*b]).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_speaking_another_protocol_is_told_from_its_first_bytes() {
    let (ssh, _) = serve(|mut s, _| async move {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
    })
    .await;
    let (slow, _) = serve(|s, _| trickle(s, b"\x00\x01\x02")).await;
    for (http, https, tls, expected, first) in [
        (ssh, 1, false, "HTTP", "SSH-2"),
        (1, ssh, true, "TLS", "S"),
        (slow, 1, false, "HTTP", r"\x00"),
        (1, slow, true, "TLS", r"\x00"),
    ] {
        let (outcome, took) = get(&net(http, https), &HttpClient::default(), tls).await;
        let HttpOutcome::WrongProtocol {
            port,
            expected: e,
            first_bytes,
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!((*port, e.as_str()), (if tls { 443 } else { 80 }, expected));
        assert!(first_bytes.starts_with(first), "{first_bytes}");
        // Told at once, not after the 10 s timeout, even a byte a second.
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    let (outcome, _) = get(&net(ssh, 1), &HttpClient::default(), false).await;
    assert_eq!(
        outcome.to_string(),
        r#"port 80 answered, but not with HTTP: first bytes "SSH-2.0-OpenSSH_""#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_proved_silent_gets_a_short_wait() {
    let (mute, _) = serve(|s, _| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let net = net(mute, mute);
    let client = HttpClient::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let (outcome, took) = get(&net, &client, false).await;
    assert_eq!(outcome, HttpOutcome::TimedOut);
    assert!(
        took >= Duration::from_secs(3),
        "the first wait is whole: {took:?}"
    );
    assert!(net.proved_silent("127.0.0.1".parse().unwrap()));
    // Any port of the address now gets the short wait.
    let (outcome, took) = get(&net, &client, true).await;
    assert_eq!(outcome, HttpOutcome::TimedOut);
    assert!(
        took >= ward_net::silence::SILENT_HOST_WAIT && took < Duration::from_secs(2),
        "{took:?}"
    );
}
