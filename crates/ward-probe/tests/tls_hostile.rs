//! Hostile and broken servers on loopback: each costs bounded time, and each failure is
//! recorded as what it was — never as "not supported".

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use ward_model::NetFailure;
use ward_model::tls::{HelloOutcome, TlsScan, VersionStatus};
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::tls::{TlsTarget, Transport, scan_with};

async fn scan_port(port: u16, timeout: Duration) -> TlsScan {
    let mut map = BTreeMap::new();
    map.insert(443, port);
    let cfg = NetConfig::builder(SocketAddr::from(([127, 0, 0, 1], 53)))
        .dangerous_lab_mode(PortMap(map))
        .build();
    let net = Net::new(cfg).expect("net");
    let target = TlsTarget {
        transport: Transport::Direct,
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 443,
        hostname: "localhost".into(),
    };
    scan_with(&net, &target, time::OffsetDateTime::now_utc(), timeout).await
}

/// Serves every connection with `behave` until the test ends.
async fn serve<F, Fut>(behave: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    port
}

async fn read_hello(stream: &mut tokio::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_at_a_time_server_costs_the_deadline_and_no_more() {
    let port = serve(|mut s| async move {
        read_hello(&mut s).await;
        // A valid-looking record header, then one byte every 100 ms.
        for b in [22u8, 3, 3, 0, 60].into_iter().chain(std::iter::repeat(0)) {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let started = Instant::now();
    let scan = scan_port(port, Duration::from_millis(600)).await;
    // Five versions in parallel (at most four at once) plus one full handshake.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    for v in &scan.versions {
        assert_eq!(v.status, VersionStatus::CouldNotTell);
        assert_eq!(
            v.first_answer,
            HelloOutcome::Network {
                failure: NetFailure::TimedOut
            }
        );
    }
    assert_eq!(scan.chain, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_after_hello_is_reset_not_unsupported() {
    let port = serve(|mut s| async move {
        read_hello(&mut s).await;
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let scan = scan_port(port, Duration::from_secs(2)).await;
    for v in &scan.versions {
        assert_eq!(v.status, VersionStatus::CouldNotTell);
        assert_eq!(
            v.first_answer,
            HelloOutcome::Network {
                failure: NetFailure::Reset
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_without_a_word_is_closed() {
    let port = serve(|mut s| async move {
        read_hello(&mut s).await;
        let _ = s.shutdown().await;
    })
    .await;
    let scan = scan_port(port, Duration::from_secs(2)).await;
    for v in &scan.versions {
        assert_eq!(v.status, VersionStatus::CouldNotTell);
        assert_eq!(
            v.first_answer,
            HelloOutcome::Network {
                failure: NetFailure::Closed
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_on_the_tls_port_misbehaves() {
    let port = serve(|mut s| async move {
        read_hello(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let scan = scan_port(port, Duration::from_secs(2)).await;
    for v in &scan.versions {
        assert_eq!(v.status, VersionStatus::CouldNotTell);
        assert_eq!(
            v.first_answer,
            HelloOutcome::Misbehaved {
                detail: "expected ServerHello, got record type 72".into()
            }
        );
    }
}

/// A TLS 1.2 ServerHello record choosing ECDHE-RSA-AES128-GCM-SHA256, no extensions.
fn server_hello_record() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0xc0, 0x2f, 0]); // suite, null compression
    let mut hs = vec![2u8, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![22u8, 3, 3, 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_certificate_chain_is_cut_off() {
    const CHAIN: usize = 10 * 1024 * 1024;
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let port = serve(move |mut s| {
        let counter = counter.clone();
        async move {
            read_hello(&mut s).await;
            if s.write_all(&server_hello_record()).await.is_err() {
                return;
            }
            // A Certificate message that declares the whole 10 MB, then the bytes, in
            // full-size records, for as long as the client reads them.
            let mut first = vec![11u8];
            first.extend_from_slice(&(CHAIN as u32).to_be_bytes()[1..]);
            let mut left = CHAIN;
            let mut chunk = first;
            while left > 0 {
                let n = (16384 - chunk.len()).min(left);
                chunk.resize(chunk.len() + n, 0x30);
                left -= n;
                let mut rec = vec![22u8, 3, 3];
                rec.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                rec.extend_from_slice(&chunk);
                if s.write_all(&rec).await.is_err() {
                    return;
                }
                counter.fetch_add(rec.len(), std::sync::atomic::Ordering::Relaxed);
                chunk = Vec::new();
            }
        }
    })
    .await;
    let started = Instant::now();
    let scan = scan_port(port, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    let tls12 = scan
        .versions
        .iter()
        .find(|v| v.version == ward_model::tls::ProtocolVersion::TLS12)
        .unwrap();
    // The chain is refused at its declared length, before it is buffered; a flight that
    // breaks the limits proves nothing, so the version is could-not-tell.
    assert_eq!(tls12.status, VersionStatus::CouldNotTell);
    assert!(
        matches!(&tls12.first_answer, HelloOutcome::Malformed { reason, .. } if reason.contains("131072")),
        "{:?}",
        tls12.first_answer
    );
    // rustls refuses the oversized message too: no chain.
    assert_eq!(scan.chain, None);
    assert!(
        scan.chain_failure
            .as_deref()
            .is_some_and(|f| f.contains("TLS handshake failed")),
        "{:?}",
        scan.chain_failure
    );
    // Well under the timeout, and nowhere near 10 MB per connection was taken: what the
    // server got out is what the kernel buffers hold once ward stops reading.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let per_conn = sent.load(std::sync::atomic::Ordering::Relaxed) / scan.connections as usize;
    assert!(per_conn < CHAIN / 2, "{per_conn} bytes per connection");
}
