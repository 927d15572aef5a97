//! How long to wait for a DNS reply, learnt from the replies so far.
//!
//! A fixed wait is wrong both ways: on a resolver that answers in a millisecond, one
//! lost packet costs the whole wait (the tail of the mail benchmark was exactly one
//! 2-second timeout), and on a slow one the wait may be too short. ward keeps a smoothed
//! round trip and its variation per server, as TCP does (RFC 6298 §2), waits
//! `srtt + 4 × rttvar` for the first send, and doubles the wait on each resend. Every
//! wait stays between [`MIN_WAIT`] and the configured `--dns-timeout`, so the option
//! keeps its meaning as the longest any one send is waited for.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// The shortest wait: below it a busy but healthy server would be asked twice.
pub const MIN_WAIT: Duration = Duration::from_millis(250);
/// The first wait for a server with no reply yet (RFC 6298's initial RTO).
pub const FIRST_WAIT: Duration = Duration::from_secs(1);
/// Servers remembered; beyond this new ones get [`FIRST_WAIT`] (a scan of a hostile
/// zone could name thousands of nameservers).
const MAX_SERVERS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Estimate {
    srtt: f64,
    rttvar: f64,
}

/// Round-trip estimates per server address.
#[derive(Debug, Default)]
pub struct RttTable {
    servers: Mutex<HashMap<IpAddr, Estimate>>,
}

impl RttTable {
    /// Records a reply that took `rtt`.
    pub fn observe(&self, server: IpAddr, rtt: Duration) {
        let r = rtt.as_secs_f64();
        let mut servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        let len = servers.len();
        match servers.get_mut(&server) {
            Some(e) => {
                e.rttvar = 0.75 * e.rttvar + 0.25 * (e.srtt - r).abs();
                e.srtt = 0.875 * e.srtt + 0.125 * r;
            }
            None if len < MAX_SERVERS => {
                servers.insert(
                    server,
                    Estimate {
                        srtt: r,
                        rttvar: r / 2.0,
                    },
                );
            }
            None => {}
        }
    }

    /// The wait for send number `attempt` (1-based) to `server`, at most `most`.
    pub fn wait(&self, server: IpAddr, attempt: u32, most: Duration) -> Duration {
        let base = {
            let servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
            match servers.get(&server) {
                Some(e) => Duration::from_secs_f64(e.srtt + 4.0 * e.rttvar),
                None => FIRST_WAIT,
            }
        };
        let doubled = base
            .max(MIN_WAIT)
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        doubled.min(most)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOST: Duration = Duration::from_secs(2);

    fn ip() -> IpAddr {
        "192.0.2.53".parse().unwrap()
    }

    #[test]
    fn a_fast_server_is_waited_for_briefly_and_resends_back_off() {
        let t = RttTable::default();
        assert_eq!(t.wait(ip(), 1, MOST), FIRST_WAIT);
        for _ in 0..20 {
            t.observe(ip(), Duration::from_millis(1));
        }
        assert_eq!(t.wait(ip(), 1, MOST), MIN_WAIT);
        assert_eq!(t.wait(ip(), 2, MOST), 2 * MIN_WAIT);
        assert_eq!(t.wait(ip(), 3, MOST), 4 * MIN_WAIT);
        assert_eq!(t.wait(ip(), 9, MOST), MOST);
    }

    #[test]
    fn a_slow_server_gets_a_longer_wait_but_never_past_the_limit() {
        let t = RttTable::default();
        for ms in [600, 900, 700, 800] {
            t.observe(ip(), Duration::from_millis(ms));
        }
        let w = t.wait(ip(), 1, MOST);
        assert!(w > Duration::from_millis(800) && w <= MOST, "{w:?}");
        assert_eq!(
            t.wait(ip(), 1, Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }
}
