//! The one place where ward's scanning touches the network.
//!
//! Everything that leaves the machine while scanning goes through a [`Net`]: DNS
//! questions, and (as the check families grow) TCP connections for TLS, HTTP and SMTP.
//! That gives one place to enforce what a polite, safe scanner needs:
//!
//! * **the private-address guard** ([`guard`]): unless lab mode or `--allow-private`
//!   says so, ward refuses to contact loopback, RFC 1918, link-local and other
//!   non-public addresses — and the refusal happens before any packet is sent, so a
//!   hostile DNS answer cannot point the scanner at an internal network;
//! * **bounded concurrency**: a global limit and a per-host budget;
//! * **timeouts and bounded retries**, with every failure kept as data
//!   ([`ward_model::DnsFailure`]) rather than turned into "missing".
//!
//! Lab mode changes exactly three things (see [`NetConfig`]): the resolver address,
//! which ports the lab's services really listen on ([`PortMap`]), and that loopback
//! targets are allowed. The code path is otherwise the one used on the internet.

pub mod budget;
pub mod dns;
pub mod guard;
pub mod http;
pub mod imap;
pub mod ptr;
pub mod resolv_conf;
pub mod rtt;
pub mod silence;
pub mod tcp;

#[cfg(test)]
mod fuzz;

use guard::{CheckedAddr, TargetPolicy};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Ports a lab serves on instead of the well-known ones: `53 -> 40053` means "where the
/// internet would use port 53, use 40053". Empty outside lab mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortMap(pub BTreeMap<u16, u16>);

impl PortMap {
    /// The port to dial for a service that normally listens on `port`.
    pub fn map(&self, port: u16) -> u16 {
        self.0.get(&port).copied().unwrap_or(port)
    }

    /// Parses `53=40053,25=40025`.
    pub fn parse(text: &str) -> Result<PortMap, String> {
        let mut map = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (from, to) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` should look like 53=40053"))?;
            let from: u16 = from
                .trim()
                .parse()
                .map_err(|_| format!("`{from}` is not a port"))?;
            let to: u16 = to
                .trim()
                .parse()
                .map_err(|_| format!("`{to}` is not a port"))?;
            map.insert(from, to);
        }
        Ok(PortMap(map))
    }
}

impl std::fmt::Display for PortMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(a, b)| format!("{a}={b}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// Settings for a [`Net`], made by [`NetConfig::builder`]. The fields are private so that
/// every limit passes its one range check on the way in: a `NetConfig` is always valid.
#[derive(Debug, Clone)]
pub struct NetConfig {
    resolver: SocketAddr,
    dns_timeout: Duration,
    dns_attempts: u32,
    concurrency: usize,
    per_host: usize,
    per_host_rate: Option<f64>,
    targets: TargetPolicy,
    ports: PortMap,
    connect_timeout: Duration,
    extra_ca_pem: Vec<u8>,
}

/// Default seconds to wait for one DNS reply.
pub const DEFAULT_DNS_TIMEOUT_SECS: f64 = 2.0;
/// Shortest DNS wait accepted: below it even a nearby resolver looks dead.
pub const MIN_DNS_TIMEOUT_SECS: f64 = 0.05;
/// Longest DNS wait accepted: beyond it a silent nameserver stalls the scan.
pub const MAX_DNS_TIMEOUT_SECS: f64 = 30.0;
/// Default number of times a DNS question is sent.
pub const DEFAULT_DNS_ATTEMPTS: u32 = 3;
/// Fewest sends of a DNS question (at least one).
pub const MIN_DNS_ATTEMPTS: u32 = 1;
/// Most sends of a DNS question, so a silent server is not asked forever.
pub const MAX_DNS_ATTEMPTS: u32 = 10;
/// Default network operations in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 128;
/// Fewest operations in flight (zero would never start one).
pub const MIN_CONCURRENCY: usize = 1;
/// Most operations in flight, so a typo cannot flood the network or exhaust sockets.
pub const MAX_CONCURRENCY: usize = 4096;
/// Default operations in flight at once against one address.
pub const DEFAULT_PER_HOST: usize = 4;
/// Fewest operations at once against one address (zero would never start one).
pub const MIN_PER_HOST: usize = 1;
/// Most operations at once against one address: more is impolite to a small server.
pub const MAX_PER_HOST: usize = 64;
/// Lowest per-host rate accepted (new operations a second against one address).
pub const MIN_PER_HOST_RATE: f64 = 0.01;
/// Highest per-host rate accepted.
pub const MAX_PER_HOST_RATE: f64 = 1000.0;
/// Default seconds to wait for a TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: f64 = 5.0;
/// Shortest TCP connection wait accepted.
pub const MIN_CONNECT_TIMEOUT_SECS: f64 = 0.05;
/// Longest TCP connection wait accepted.
pub const MAX_CONNECT_TIMEOUT_SECS: f64 = 60.0;

impl NetConfig {
    /// A builder holding the defaults, for scanning the internet through `resolver`.
    pub fn builder(resolver: SocketAddr) -> NetConfigBuilder {
        NetConfigBuilder {
            cfg: NetConfig {
                resolver,
                dns_timeout: Duration::from_secs_f64(DEFAULT_DNS_TIMEOUT_SECS),
                dns_attempts: DEFAULT_DNS_ATTEMPTS,
                concurrency: DEFAULT_CONCURRENCY,
                per_host: DEFAULT_PER_HOST,
                per_host_rate: None,
                targets: TargetPolicy::PublicOnly,
                ports: PortMap::default(),
                connect_timeout: Duration::from_secs_f64(DEFAULT_CONNECT_TIMEOUT_SECS),
                extra_ca_pem: Vec::new(),
            },
        }
    }

    /// The recursive resolver every ordinary question goes to. The resolver is the
    /// user's own choice, so the private-address guard does not apply to it (a system
    /// resolver on 127.0.0.53 is normal).
    pub fn resolver(&self) -> SocketAddr {
        self.resolver
    }
    /// How long to wait for one DNS reply.
    pub fn dns_timeout(&self) -> Duration {
        self.dns_timeout
    }
    /// How many times a DNS question is sent before giving up.
    pub fn dns_attempts(&self) -> u32 {
        self.dns_attempts
    }
    /// Network operations in flight at once, across all targets.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
    /// Operations in flight at once against one target address.
    pub fn per_host(&self) -> usize {
        self.per_host
    }

    /// Most new operations a second against one address, if limited.
    pub fn per_host_rate(&self) -> Option<f64> {
        self.per_host_rate
    }
    /// Which target addresses may be contacted.
    pub fn targets(&self) -> TargetPolicy {
        self.targets
    }
    /// Lab port substitutions (empty on the internet).
    pub fn ports(&self) -> &PortMap {
        &self.ports
    }
    /// How long to wait for a TCP connection.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Extra CA certificates (PEM) trusted besides the public roots.
    pub fn extra_ca_pem(&self) -> &[u8] {
        &self.extra_ca_pem
    }
}

/// Builds a [`NetConfig`]. Each limit's setter is its one range check, so a typo cannot
/// make the scanner hang or flood, and the error says which setting and what range.
#[derive(Debug, Clone)]
pub struct NetConfigBuilder {
    cfg: NetConfig,
}

/// `n` when it lies in `min..=max`.
fn within<T: PartialOrd>(n: T, min: T, max: T) -> Option<T> {
    (min <= n && n <= max).then_some(n)
}

/// Takes seconds as a number so that the check runs before a `Duration` is made (which
/// would panic on a negative or not-a-number value).
fn secs_in(secs: f64, min: f64, max: f64) -> Option<Duration> {
    (min..=max)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

impl NetConfigBuilder {
    /// How long to wait for one DNS reply, from [`MIN_DNS_TIMEOUT_SECS`] to
    /// [`MAX_DNS_TIMEOUT_SECS`]. Default [`DEFAULT_DNS_TIMEOUT_SECS`].
    pub fn dns_timeout(self, t: Duration) -> Result<Self, ConfigError> {
        self.dns_timeout_secs(t.as_secs_f64())
    }
    /// [`Self::dns_timeout`] in seconds, as the command line gives it.
    pub fn dns_timeout_secs(mut self, secs: f64) -> Result<Self, ConfigError> {
        self.cfg.dns_timeout = secs_in(secs, MIN_DNS_TIMEOUT_SECS, MAX_DNS_TIMEOUT_SECS)
            .ok_or(ConfigError::DnsTimeout(secs))?;
        Ok(self)
    }
    /// How many times a DNS question is sent before giving up, from
    /// [`MIN_DNS_ATTEMPTS`] to [`MAX_DNS_ATTEMPTS`]. Default [`DEFAULT_DNS_ATTEMPTS`].
    pub fn dns_attempts(mut self, n: u32) -> Result<Self, ConfigError> {
        self.cfg.dns_attempts =
            within(n, MIN_DNS_ATTEMPTS, MAX_DNS_ATTEMPTS).ok_or(ConfigError::DnsAttempts(n))?;
        Ok(self)
    }
    /// Network operations in flight at once, across all targets, from
    /// [`MIN_CONCURRENCY`] to [`MAX_CONCURRENCY`]. Default [`DEFAULT_CONCURRENCY`].
    pub fn concurrency(mut self, n: usize) -> Result<Self, ConfigError> {
        self.cfg.concurrency =
            within(n, MIN_CONCURRENCY, MAX_CONCURRENCY).ok_or(ConfigError::Concurrency(n))?;
        Ok(self)
    }
    /// Spaces the operations started against one address at least `1/rate` seconds
    /// apart (a connection, a TLS handshake, an HTTP fetch), so that a thousand domains
    /// on one hosting provider are not scanned in one burst. `None`: no spacing, only
    /// the [`Self::per_host`] bound.
    pub fn per_host_rate(mut self, rate: Option<f64>) -> Result<Self, ConfigError> {
        self.cfg.per_host_rate = match rate {
            None => None,
            Some(r) => Some(
                within(r, MIN_PER_HOST_RATE, MAX_PER_HOST_RATE)
                    .ok_or(ConfigError::PerHostRate(r))?,
            ),
        };
        Ok(self)
    }
    /// Operations in flight at once against one target address, from [`MIN_PER_HOST`]
    /// to [`MAX_PER_HOST`]. Default [`DEFAULT_PER_HOST`].
    pub fn per_host(mut self, n: usize) -> Result<Self, ConfigError> {
        self.cfg.per_host = within(n, MIN_PER_HOST, MAX_PER_HOST).ok_or(ConfigError::PerHost(n))?;
        Ok(self)
    }
    /// How long to wait for a TCP connection, from [`MIN_CONNECT_TIMEOUT_SECS`] to
    /// [`MAX_CONNECT_TIMEOUT_SECS`]. Default [`DEFAULT_CONNECT_TIMEOUT_SECS`].
    pub fn connect_timeout(mut self, t: Duration) -> Result<Self, ConfigError> {
        let secs = t.as_secs_f64();
        self.cfg.connect_timeout =
            secs_in(secs, MIN_CONNECT_TIMEOUT_SECS, MAX_CONNECT_TIMEOUT_SECS)
                .ok_or(ConfigError::ConnectTimeout(secs))?;
        Ok(self)
    }
    /// Extra CA certificates (PEM) to trust besides the public roots: the lab's CA.
    /// Checked when the [`Net`] is built.
    pub fn extra_ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.cfg.extra_ca_pem = pem;
        self
    }

    /// Dials services on other ports than the well-known ones, without allowing any
    /// more targets ([`Self::dangerous_lab_mode`] does both).
    pub fn ports(mut self, ports: PortMap) -> Self {
        self.cfg.ports = ports;
        self
    }

    /// Lets the scanner contact private and loopback addresses. Named to be seen in
    /// review: only `--allow-private` and tests should reach it.
    pub fn dangerous_allow_private_targets(mut self) -> Self {
        self.cfg.targets = TargetPolicy::AllowPrivate;
        self
    }

    /// Lab mode: loopback targets (and only those, besides public ones) are allowed,
    /// and services are dialled on the lab's ports.
    pub fn dangerous_lab_mode(mut self, ports: PortMap) -> Self {
        if self.cfg.targets == TargetPolicy::PublicOnly {
            self.cfg.targets = TargetPolicy::LabLoopback;
        }
        self.ports(ports)
    }

    /// The configuration; every limit was checked when it was set.
    pub fn build(self) -> NetConfig {
        self.cfg
    }
}

/// A setting outside what ward allows. Each limit of [`NetConfig`] has its own variant,
/// naming the setting (not a command-line flag) and its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The extra CA certificates could not be used.
    #[error("CA certificate: {0}")]
    BadCa(String),
    /// [`NetConfigBuilder::dns_timeout`] out of range (the seconds given).
    #[error(
        "DNS timeout (seconds) must be between {MIN_DNS_TIMEOUT_SECS} and {MAX_DNS_TIMEOUT_SECS}, not {0}"
    )]
    DnsTimeout(f64),
    /// [`NetConfigBuilder::dns_attempts`] out of range.
    #[error("DNS attempts must be between {MIN_DNS_ATTEMPTS} and {MAX_DNS_ATTEMPTS}, not {0}")]
    DnsAttempts(u32),
    /// [`NetConfigBuilder::concurrency`] out of range.
    #[error("global concurrency must be between {MIN_CONCURRENCY} and {MAX_CONCURRENCY}, not {0}")]
    Concurrency(usize),
    /// [`NetConfigBuilder::per_host`] out of range.
    #[error("per-host connections must be between {MIN_PER_HOST} and {MAX_PER_HOST}, not {0}")]
    PerHost(usize),
    /// [`NetConfigBuilder::per_host_rate`] out of range.
    #[error(
        "per-host rate (operations a second) must be between {MIN_PER_HOST_RATE} and {MAX_PER_HOST_RATE}, not {0}"
    )]
    PerHostRate(f64),
    /// [`NetConfigBuilder::connect_timeout`] out of range (the seconds given).
    #[error(
        "connect timeout (seconds) must be between {MIN_CONNECT_TIMEOUT_SECS} and {MAX_CONNECT_TIMEOUT_SECS}, not {0}"
    )]
    ConnectTimeout(f64),
    /// A limit of the HTTP client ([`http::HttpClientBuilder`]) outside its range.
    #[error("{what} must be between {min} and {max}, not {value}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// What was given.
        value: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
}

/// The scanner's network: build once, share by reference (it is cheap to clone).
#[derive(Debug, Clone)]
pub struct Net {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: NetConfig,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    /// The earliest moment the next operation against each address may start, when
    /// [`NetConfig::per_host_rate`] spaces them.
    next_start: Mutex<HashMap<IpAddr, tokio::time::Instant>>,
    roots: Arc<rustls::RootCertStore>,
    udp_pool: dns::UdpPool,
    answers: dns::AnswerCache,
    signed: dns::SignedCache,
    rtt: rtt::RttTable,
    silent: silence::Silent,
    /// Set once the resolver has answered with a referral ([`Net::resolver_does_not_recurse`]).
    resolver_refers: std::sync::atomic::AtomicBool,
}

/// Permission to use the network against one address; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _host: OwnedSemaphorePermit,
}

impl Net {
    /// Builds the network; fails only when the extra CA certificates cannot be used.
    pub fn new(cfg: NetConfig) -> Result<Net, ConfigError> {
        let roots = Arc::new(tcp::root_store(&cfg.extra_ca_pem).map_err(ConfigError::BadCa)?);
        Ok(Net::with_roots(cfg, roots))
    }

    /// A network that has seen nothing yet, trusting `roots`.
    fn with_roots(cfg: NetConfig, roots: Arc<rustls::RootCertStore>) -> Net {
        Net {
            inner: Arc::new(Inner {
                roots,
                udp_pool: dns::UdpPool::new(cfg.concurrency),
                answers: dns::AnswerCache::default(),
                signed: dns::SignedCache::default(),
                rtt: rtt::RttTable::default(),
                silent: silence::Silent::default(),
                resolver_refers: Default::default(),
                global: Arc::new(Semaphore::new(cfg.concurrency)),
                hosts: Mutex::new(HashMap::new()),
                next_start: Mutex::new(HashMap::new()),
                cfg,
            }),
        }
    }

    /// A network with the same configuration that remembers nothing of this one: no
    /// DNS answers, no silent hosts, no round-trip times. The monitor takes one per
    /// round, so that what a round sees is what the servers say now; one `Net` is one
    /// scan.
    pub fn fresh(&self) -> Net {
        Net::with_roots(self.inner.cfg.clone(), self.inner.roots.clone())
    }

    /// The configuration in force.
    pub fn config(&self) -> &NetConfig {
        &self.inner.cfg
    }

    /// Decides whether `ip` may be contacted on the well-known `port`, and where to
    /// dial it (lab port substitution applied). Nothing is sent by this call.
    pub fn target(&self, ip: IpAddr, port: u16) -> Result<CheckedAddr, guard::Blocked> {
        guard::check(
            self.inner.cfg.targets,
            SocketAddr::new(ip, self.inner.cfg.ports.map(port)),
        )
    }

    /// Waits for a global slot only (for the user's resolver).
    pub(crate) async fn global_permit(&self) -> OwnedSemaphorePermit {
        self.inner
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed")
    }

    /// As [`Self::permit`], for a new connection: also waits for the connection's turn
    /// at `ip` when [`NetConfig::per_host_rate`] spaces them. DNS questions to a
    /// nameserver are not spaced: they are small, and the per-host bound holds them.
    pub async fn connection_permit(&self, ip: IpAddr) -> Permit {
        let permit = self.permit(ip).await;
        if let Some(rate) = self.inner.cfg.per_host_rate {
            // Each caller books the next free start time and waits for it, so starts
            // are spaced however many wait at once.
            let start = {
                let mut next = self
                    .inner
                    .next_start
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let now = tokio::time::Instant::now();
                let slot = next.get(&ip).copied().unwrap_or(now).max(now);
                next.insert(ip, slot + Duration::from_secs_f64(1.0 / rate));
                slot
            };
            tokio::time::sleep_until(start).await;
        }
        permit
    }

    /// Waits for a global slot and a slot for `ip`.
    pub async fn permit(&self, ip: IpAddr) -> Permit {
        let host = {
            let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(ip)
                .or_insert_with(|| Arc::new(Semaphore::new(self.inner.cfg.per_host)))
                .clone()
        };
        // The semaphores are never closed, so acquiring cannot fail.
        let global = self
            .inner
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let host = host.acquire_owned().await.expect("semaphore never closed");
        Permit {
            _global: global,
            _host: host,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The bounds are written out as numbers here, not taken from the constants, so that
    //! changing a bound fails a test and the flag help that states it gets updated too.
    use super::*;

    fn builder() -> NetConfigBuilder {
        NetConfig::builder(SocketAddr::from(([192, 0, 2, 1], 53)))
    }

    fn err<T: std::fmt::Debug>(r: Result<T, ConfigError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn per_host_rate_is_checked() {
        assert!(builder().per_host_rate(Some(0.0)).is_err());
        assert!(builder().per_host_rate(Some(1001.0)).is_err());
        assert_eq!(
            builder()
                .per_host_rate(Some(2.0))
                .map(|b| b.build().per_host_rate()),
            Ok(Some(2.0))
        );
    }

    /// Ten connections to one address at two a second start over 4.5 s, one to
    /// another address is not held up by them, and a DNS question's permit is not
    /// spaced.
    #[tokio::test(start_paused = true)]
    async fn per_host_rate_spaces_starts_on_one_address() {
        let net = Net::new(
            builder()
                .per_host(64)
                .and_then(|b| b.per_host_rate(Some(2.0)))
                .map(NetConfigBuilder::build)
                .expect("valid"),
        )
        .expect("net");
        let busy = IpAddr::from([192, 0, 2, 10]);
        let other = IpAddr::from([192, 0, 2, 11]);
        let t0 = tokio::time::Instant::now();
        let starts = futures::future::join_all((0..10).map(|_| {
            let net = net.clone();
            async move {
                let _p = net.connection_permit(busy).await;
                t0.elapsed()
            }
        }))
        .await;
        let last = starts.iter().max().copied().unwrap_or_default();
        assert_eq!(last, Duration::from_millis(4500), "{starts:?}");
        let t1 = tokio::time::Instant::now();
        let _p = net.connection_permit(other).await;
        assert_eq!(t1.elapsed(), Duration::ZERO);
        let _q = net.permit(busy).await;
        assert_eq!(t1.elapsed(), Duration::ZERO);
    }

    #[test]
    fn defaults_are_within_their_ranges() {
        let cfg = builder().build();
        assert_eq!(cfg.dns_timeout(), Duration::from_secs(2));
        assert_eq!(cfg.dns_attempts(), 3);
        assert_eq!(cfg.concurrency(), 128);
        assert_eq!(cfg.per_host(), 4);
        assert_eq!(cfg.connect_timeout(), Duration::from_secs(5));
        assert_eq!(cfg.targets(), TargetPolicy::PublicOnly);
        let cfg = builder()
            .dns_timeout(cfg.dns_timeout())
            .and_then(|b| b.dns_attempts(cfg.dns_attempts()))
            .and_then(|b| b.concurrency(cfg.concurrency()))
            .and_then(|b| b.per_host(cfg.per_host()))
            .and_then(|b| b.connect_timeout(cfg.connect_timeout()));
        assert!(cfg.is_ok());
    }

    #[test]
    fn dns_timeout_is_from_50_ms_to_30_s() {
        for ok in [0.05, 30.0] {
            let cfg = builder().dns_timeout_secs(ok).unwrap().build();
            assert_eq!(cfg.dns_timeout(), Duration::from_secs_f64(ok));
        }
        assert!(builder().dns_timeout(Duration::from_millis(50)).is_ok());
        assert_eq!(
            err(builder().dns_timeout_secs(30.5)),
            "DNS timeout (seconds) must be between 0.05 and 30, not 30.5"
        );
        assert_eq!(
            err(builder().dns_timeout(Duration::from_millis(49))),
            "DNS timeout (seconds) must be between 0.05 and 30, not 0.049"
        );
        // Checked before a Duration is made, which would panic on these.
        assert_eq!(
            builder().dns_timeout_secs(-1.0).unwrap_err(),
            ConfigError::DnsTimeout(-1.0)
        );
        assert!(builder().dns_timeout_secs(f64::NAN).is_err());
    }

    #[test]
    fn dns_attempts_are_from_1_to_10() {
        assert_eq!(builder().dns_attempts(1).unwrap().build().dns_attempts(), 1);
        assert_eq!(
            builder().dns_attempts(10).unwrap().build().dns_attempts(),
            10
        );
        assert_eq!(
            err(builder().dns_attempts(0)),
            "DNS attempts must be between 1 and 10, not 0"
        );
        assert_eq!(
            err(builder().dns_attempts(11)),
            "DNS attempts must be between 1 and 10, not 11"
        );
    }

    #[test]
    fn concurrency_is_from_1_to_4096() {
        assert_eq!(builder().concurrency(1).unwrap().build().concurrency(), 1);
        assert_eq!(
            builder().concurrency(4096).unwrap().build().concurrency(),
            4096
        );
        assert_eq!(
            err(builder().concurrency(0)),
            "global concurrency must be between 1 and 4096, not 0"
        );
        assert_eq!(
            err(builder().concurrency(4097)),
            "global concurrency must be between 1 and 4096, not 4097"
        );
    }

    #[test]
    fn per_host_is_from_1_to_64() {
        assert_eq!(builder().per_host(1).unwrap().build().per_host(), 1);
        assert_eq!(builder().per_host(64).unwrap().build().per_host(), 64);
        assert_eq!(
            err(builder().per_host(0)),
            "per-host connections must be between 1 and 64, not 0"
        );
        assert_eq!(
            err(builder().per_host(65)),
            "per-host connections must be between 1 and 64, not 65"
        );
    }

    #[test]
    fn connect_timeout_is_from_50_ms_to_60_s() {
        for ok in [Duration::from_millis(50), Duration::from_secs(60)] {
            let cfg = builder().connect_timeout(ok).unwrap().build();
            assert_eq!(cfg.connect_timeout(), ok);
        }
        assert_eq!(
            err(builder().connect_timeout(Duration::from_millis(49))),
            "connect timeout (seconds) must be between 0.05 and 60, not 0.049"
        );
        assert_eq!(
            err(builder().connect_timeout(Duration::from_millis(60_001))),
            "connect timeout (seconds) must be between 0.05 and 60, not 60.001"
        );
    }

    #[test]
    fn a_failed_setter_leaves_nothing_half_set() {
        // The builder is consumed by a failing setter, so a caller cannot go on with a
        // configuration that skipped a check.
        let b = builder().per_host(8).unwrap();
        assert!(b.clone().per_host(0).is_err());
        assert_eq!(b.build().per_host(), 8);
    }
}
