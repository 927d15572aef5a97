//! Servers that do not speak the protocol of their port: one that answers every
//! connection with bytes of no protocol at all (`garbage`, or `garbage-slow` at one byte a
//! second), and one that accepts and never says a word (`mute`).
//!
//! A scanner meets both on the internet (a port forwarded to the wrong daemon, a
//! firewall that completes the handshake and drops the rest, a tarpit), and must report
//! them as "could not tell", never as a missing protocol. Each serves whichever port it is
//! given: web (`tls = ...` or `http = ...` in `hosts.toml`) and mail (`behaviour = ...`).

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::http::accept_loop;

/// What a garbage server sends: the first bytes are neither a TLS record, nor `HTTP/`,
/// nor an SMTP reply code, and some are not printable, so a report must escape them.
pub const GARBAGE: &[u8] = b"\x00\x01\xfe garbage from ward-lab \x1b[0m\r\n";

/// Pause between bytes for `garbage-slow`.
pub const GARBAGE_BYTE_INTERVAL: Duration = Duration::from_secs(1);

/// Longest a mute server holds a connection (the client has long given up by then).
pub const MUTE_HOLD: Duration = Duration::from_secs(120);

/// Answers every connection with [`GARBAGE`], at once or (`slow`) one byte every
/// [`GARBAGE_BYTE_INTERVAL`], then closes; until `shutdown`.
pub async fn serve_garbage(listener: TcpListener, slow: bool, shutdown: CancellationToken) {
    accept_loop(listener, shutdown, move |mut tcp| async move {
        if !slow {
            let _ = tcp.write_all(GARBAGE).await;
            let _ = tcp.shutdown().await;
            return;
        }
        for byte in GARBAGE {
            if tcp.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(GARBAGE_BYTE_INTERVAL).await;
        }
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// Accepts every connection and neither reads nor writes, for at most [`MUTE_HOLD`];
/// until `shutdown`.
pub async fn serve_mute(listener: TcpListener, shutdown: CancellationToken) {
    accept_loop(listener, shutdown, move |tcp| async move {
        tokio::time::sleep(MUTE_HOLD).await;
        drop(tcp);
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn listener() -> (TcpListener, std::net::SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        (l, addr)
    }

    #[tokio::test]
    async fn garbage_is_sent_whatever_is_asked_and_mute_sends_nothing() {
        let stop = CancellationToken::new();
        let (l, garbage) = listener().await;
        tokio::spawn(serve_garbage(l, false, stop.clone()));
        let (l, mute) = listener().await;
        tokio::spawn(serve_mute(l, stop.clone()));

        let mut got = Vec::new();
        let mut tcp = tokio::net::TcpStream::connect(garbage)
            .await
            .expect("connect");
        tcp.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, GARBAGE);

        let mut tcp = tokio::net::TcpStream::connect(mute).await.expect("connect");
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(300), tcp.read(&mut byte)).await;
        assert!(read.is_err(), "a mute server said {read:?}");
        stop.cancel();
    }
}
