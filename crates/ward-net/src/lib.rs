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

pub mod dns;
pub mod guard;
pub mod http;
pub mod imap;
pub mod ptr;
pub mod resolv_conf;
pub mod tcp;

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

/// Settings for a [`Net`]. Each default lives in one `default_*` function.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The recursive resolver every ordinary question goes to. The resolver is the
    /// user's own choice, so the private-address guard does not apply to it (a
    /// system resolver on 127.0.0.53 is normal).
    pub resolver: SocketAddr,
    /// How long to wait for one DNS reply. Default 2 s, at most 30 s.
    pub dns_timeout: Duration,
    /// How many times a DNS question is sent before giving up. Default 3, at most 10.
    pub dns_attempts: u32,
    /// Network operations in flight at once, across all targets. Default 128.
    pub concurrency: usize,
    /// Operations in flight at once against one target address. Default 4.
    pub per_host: usize,
    /// Which target addresses may be contacted.
    pub targets: TargetPolicy,
    /// Lab port substitutions (empty on the internet).
    pub ports: PortMap,
    /// How long to wait for a TCP connection. Default 5 s, at most 60 s.
    pub connect_timeout: Duration,
    /// Extra CA certificates (PEM) to trust besides the public roots: the lab's CA.
    pub extra_ca_pem: Vec<u8>,
}

/// Default seconds to wait for one DNS reply.
pub const DEFAULT_DNS_TIMEOUT_SECS: f64 = 2.0;
/// Default number of times a DNS question is sent.
pub const DEFAULT_DNS_ATTEMPTS: u32 = 3;
/// Default network operations in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 128;
/// Default operations in flight at once against one address.
pub const DEFAULT_PER_HOST: usize = 4;
/// Default seconds to wait for a TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 5;

fn default_dns_timeout() -> Duration {
    Duration::from_secs_f64(DEFAULT_DNS_TIMEOUT_SECS)
}
fn default_dns_attempts() -> u32 {
    DEFAULT_DNS_ATTEMPTS
}
fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_per_host() -> usize {
    DEFAULT_PER_HOST
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS)
}

impl NetConfig {
    /// Defaults for scanning the internet through `resolver`.
    pub fn new(resolver: SocketAddr) -> Self {
        NetConfig {
            resolver,
            dns_timeout: default_dns_timeout(),
            dns_attempts: default_dns_attempts(),
            concurrency: default_concurrency(),
            per_host: default_per_host(),
            targets: TargetPolicy::PublicOnly,
            ports: PortMap::default(),
            connect_timeout: default_connect_timeout(),
            extra_ca_pem: Vec::new(),
        }
    }

    /// Lets the scanner contact private and loopback addresses. Named to be seen in
    /// review: only `--allow-private` and tests should reach it.
    pub fn dangerous_allow_private_targets(mut self) -> Self {
        self.targets = TargetPolicy::AllowPrivate;
        self
    }

    /// Lab mode: loopback targets (and only those, besides public ones) are allowed,
    /// and services are dialled on the lab's ports.
    pub fn dangerous_lab_mode(mut self, ports: PortMap) -> Self {
        if self.targets == TargetPolicy::PublicOnly {
            self.targets = TargetPolicy::LabLoopback;
        }
        self.ports = ports;
        self
    }

    /// Checks the limits, so a typo cannot make the scanner hang or flood.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let secs = self.dns_timeout.as_secs_f64();
        if !(0.05..=30.0).contains(&secs) {
            return Err(ConfigError::OutOfRange {
                what: "DNS timeout (seconds)",
                value: secs,
                min: 0.05,
                max: 30.0,
            });
        }
        let bounded = |what, value: usize, max: usize| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    what,
                    value: value as f64,
                    min: 1.0,
                    max: max as f64,
                })
            }
        };
        let secs = self.connect_timeout.as_secs_f64();
        if !(0.05..=60.0).contains(&secs) {
            return Err(ConfigError::OutOfRange {
                what: "connect timeout (seconds)",
                value: secs,
                min: 0.05,
                max: 60.0,
            });
        }
        bounded("DNS attempts", self.dns_attempts as usize, 10)?;
        bounded("global concurrency", self.concurrency, 4096)?;
        bounded("per-host connections", self.per_host, 64)?;
        Ok(())
    }
}

/// A setting outside what ward allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The extra CA certificates could not be used.
    #[error("CA certificate: {0}")]
    BadCa(String),
    /// A number outside its range.
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
    roots: Arc<rustls::RootCertStore>,
    udp_pool: dns::UdpPool,
    answers: dns::AnswerCache,
    signed: dns::SignedCache,
}

/// Permission to use the network against one address; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _host: OwnedSemaphorePermit,
}

impl Net {
    /// Builds the network from a validated configuration.
    pub fn new(cfg: NetConfig) -> Result<Net, ConfigError> {
        cfg.validate()?;
        let roots = Arc::new(tcp::root_store(&cfg.extra_ca_pem).map_err(ConfigError::BadCa)?);
        Ok(Net {
            inner: Arc::new(Inner {
                roots,
                udp_pool: dns::UdpPool::new(cfg.concurrency),
                answers: dns::AnswerCache::default(),
                signed: dns::SignedCache::default(),
                global: Arc::new(Semaphore::new(cfg.concurrency)),
                hosts: Mutex::new(HashMap::new()),
                cfg,
            }),
        })
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
