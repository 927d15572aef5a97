//! Addresses that proved silent: a connection that never completed, or one that was
//! open while the server let a whole wait pass without sending a byte.
//!
//! A host that swallows connections costs every probe its full timeout: the TLS
//! enumeration's handshakes, each HTTP fetch, the SMTP banner. One such wait is
//! evidence enough; the later ones would only learn it again. So once an address has
//! proved silent, everything else asked of it in this scan (any port: a tarpit or a
//! dropping firewall is rarely selective) gets [`SILENT_HOST_WAIT`] instead of its usual
//! wait. It is still asked, so a host silent on one port that answers on another is
//! still heard; only its slowness is no longer waited for.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::Net;

/// The most ward waits, for anything, on an address that already proved silent in this
/// scan: long enough for a live server nearby to connect and answer, far shorter than
/// the default connect (5 s), HTTP (10 s) and handshake (10 s) waits.
pub const SILENT_HOST_WAIT: Duration = Duration::from_secs(1);

/// The addresses that proved silent, for the life of the [`Net`] (one per scan), and a
/// bell rung when one is added, for waits already under way on it.
#[derive(Debug, Default)]
pub(crate) struct Silent {
    set: Mutex<HashSet<IpAddr>>,
    news: tokio::sync::Notify,
}

impl Silent {
    fn contains(&self, ip: IpAddr) -> bool {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&ip)
    }

    fn insert(&self, ip: IpAddr) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(ip);
        self.news.notify_waiters();
    }

    /// Returns once `ip` has proved silent (at once if it already has).
    async fn proven(&self, ip: IpAddr) {
        loop {
            let bell = self.news.notified();
            tokio::pin!(bell);
            bell.as_mut().enable();
            if self.contains(ip) {
                return;
            }
            bell.await;
        }
    }
}

/// A wait that ran out: its deadline passed, or the address proved silent meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitEnded;

impl Net {
    /// How long to wait on `ip` for something that normally gets `full`: all of it, or
    /// at most [`SILENT_HOST_WAIT`] once `ip` has proved silent ([`Net::note_silent`]).
    pub fn patience(&self, ip: IpAddr, full: Duration) -> Duration {
        if self.proved_silent(ip) {
            full.min(SILENT_HOST_WAIT)
        } else {
            full
        }
    }

    /// `fut` until `deadline`, like `tokio::time::timeout_at`, but also no longer than
    /// [`SILENT_HOST_WAIT`] after `ip` proves silent. [`Net::patience`] is decided when a
    /// wait starts; two parts of a scan that start waiting on the same silent host at
    /// once would otherwise each learn it in full, one after the other.
    pub async fn wait_on<F: std::future::Future>(
        &self,
        ip: IpAddr,
        deadline: tokio::time::Instant,
        fut: F,
    ) -> Result<F::Output, WaitEnded> {
        let cut = async {
            self.inner.silent.proven(ip).await;
            tokio::time::sleep(SILENT_HOST_WAIT).await;
        };
        tokio::select! {
            biased;
            r = tokio::time::timeout_at(deadline, fut) => r.map_err(|_| WaitEnded),
            () = cut => Err(WaitEnded),
        }
    }

    /// Records that `ip` let a whole wait pass in silence: a connect that timed out, or
    /// an open connection on which not one byte came before the wait ran out. Waits cut
    /// by the domain's budget prove nothing and must not be noted.
    pub fn note_silent(&self, ip: IpAddr) {
        self.inner.silent.insert(ip);
    }

    /// Whether `ip` has proved silent in this scan.
    pub fn proved_silent(&self, ip: IpAddr) -> bool {
        self.inner.silent.contains(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetConfig;
    use tokio::time::{Instant, sleep};

    fn net() -> Net {
        Net::new(NetConfig::builder("127.0.0.1:53".parse().unwrap()).build()).unwrap()
    }

    /// Two waits on one host start together; the first runs out and proves the host
    /// silent. The second, begun with a long deadline, must then end a short wait later,
    /// not run to its own deadline (the race that made an all-silent domain cost two
    /// full waits in a row).
    #[tokio::test(start_paused = true)]
    async fn a_wait_under_way_ends_soon_after_its_host_proves_silent() {
        let net = net();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let start = Instant::now();
        let never = std::future::pending::<()>;
        let first = async {
            let r = net
                .wait_on(ip, start + Duration::from_secs(5), never())
                .await;
            assert_eq!(r, Err(WaitEnded));
            net.note_silent(ip);
        };
        let second = async {
            let r = net
                .wait_on(ip, start + Duration::from_secs(30), never())
                .await;
            assert_eq!(r, Err(WaitEnded));
            start.elapsed()
        };
        let ((), took) = tokio::join!(first, second);
        assert_eq!(took, Duration::from_secs(5) + SILENT_HOST_WAIT);
    }

    /// A wait whose work finishes in time returns its result, silence or not.
    #[tokio::test(start_paused = true)]
    async fn a_wait_that_is_answered_returns_the_answer() {
        let net = net();
        let ip: IpAddr = "192.0.2.8".parse().unwrap();
        net.note_silent(ip);
        let work = async {
            sleep(Duration::from_millis(200)).await;
            7
        };
        let r = net
            .wait_on(ip, Instant::now() + Duration::from_secs(5), work)
            .await;
        assert_eq!(r, Ok(7));
    }
}
