//! ward-lab: a simulated organisation on loopback.
//!
//! From a [`Fixture`] (zone files, web and mail hosts, nameserver misbehaviour) the lab
//! starts an authoritative DNS server, and web and mail servers, each host on its own
//! loopback address (all of 127.0.0.0/8 can be bound without root). Every service uses
//! one port number on all addresses, chosen at start, so ward reaches the lab with the
//! same code it uses on the internet plus three lab settings: the resolver address, the
//! port map, and the lab's CA ([`Lab::resolver`], [`Lab::ports_arg`], [`Lab::ca_pem`]).
//!
//! `Lab::start` returns once every listener is bound; dropping the [`Lab`] stops it.

pub mod certs;
pub mod demo;
mod dns;
pub mod fixture;
pub mod hosts;
pub mod http;
pub mod legacy;
pub mod mailbox;
pub mod scale;
pub mod signing;
pub mod smtp;
pub mod wire;

pub use fixture::{DnsBehaviour, Fixture};

use hickory_server::Server;
use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

/// Where the lab's resolver listens. Fixtures must not give a host this address.
pub const RESOLVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 53, 1));

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The fixture is inconsistent or unreadable.
    #[error("fixture: {0}")]
    Fixture(String),
    /// The hosts file is wrong.
    #[error("{0}")]
    Hosts(#[from] hosts::HostsError),
    /// A certificate could not be made.
    #[error("certificates: {0}")]
    Certs(#[from] certs::CertError),
    /// A legacy TLS server (openssl) could not start.
    #[error("legacy TLS host: {0}")]
    Legacy(#[from] legacy::LegacyError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running lab. Dropping it shuts every server down.
pub struct Lab {
    resolver: SocketAddr,
    ports: BTreeMap<u16, u16>,
    zones: Vec<String>,
    queries: BTreeMap<IpAddr, Arc<AtomicU64>>,
    ca_pem: String,
    trust_anchor: Option<String>,
    shutdown: CancellationToken,
}

/// How many times to look for a port number free on every address of a service.
const BIND_TRIES: usize = 32;

/// Binds UDP and TCP on the same port on every address (`udp` false: TCP only).
async fn bind_everywhere(
    ips: &[IpAddr],
    udp: bool,
) -> Result<(u16, Vec<(Option<UdpSocket>, TcpListener)>), LabError> {
    let mut last = None;
    'attempt: for _ in 0..BIND_TRIES {
        let mut port = 0u16;
        let mut out = Vec::with_capacity(ips.len());
        for ip in ips {
            let addr = SocketAddr::new(*ip, port);
            let socket = if udp {
                match UdpSocket::bind(addr).await {
                    Ok(s) => Some(s),
                    Err(source) => {
                        last = Some(LabError::Bind { addr, source });
                        continue 'attempt;
                    }
                }
            } else {
                None
            };
            let tcp_addr = match &socket {
                Some(s) => s
                    .local_addr()
                    .map_err(|source| LabError::Bind { addr, source })?,
                None => addr,
            };
            match TcpListener::bind(tcp_addr).await {
                Ok(l) => {
                    if port == 0 {
                        port = l
                            .local_addr()
                            .map_err(|source| LabError::Bind { addr, source })?
                            .port();
                    }
                    out.push((socket, l));
                }
                Err(source) => {
                    last = Some(LabError::Bind {
                        addr: tcp_addr,
                        source,
                    });
                    continue 'attempt;
                }
            }
        }
        return Ok((port, out));
    }
    Err(last.unwrap_or_else(|| LabError::Fixture("no addresses to listen on".into())))
}

impl Lab {
    /// Starts every server of `fixture` and returns once all are listening.
    pub async fn start(fixture: &Fixture) -> Result<Lab, LabError> {
        let now = time::OffsetDateTime::now_utc();
        let ca = certs::LabCa::new(now)?;
        let hosts = match &fixture.hosts_toml {
            Some(text) => hosts::parse_hosts("hosts.toml", text)?,
            None => hosts::Hosts::default(),
        };
        // Mail certificates come first: their DANE records go into the zones before the
        // zones are signed.
        let mut mail_tls = Vec::with_capacity(hosts.smtp.len());
        let mut extra = Vec::new();
        for host in &hosts.smtp {
            let issued = match &host.cert {
                Some(spec) => Some(ca.issue(std::slice::from_ref(&host.name), spec, now)?),
                None => None,
            };
            if let (Some(d), Some(i)) = (host.dane, &issued) {
                extra.push(dns::tlsa_record(&host.name, &i.spki, d)?);
            }
            let config = match &issued {
                Some(i) => Some(smtp::tls_config_from(host, i)?),
                None => None,
            };
            // A legacy mail host keeps its certificate for the openssl s_server that
            // takes over after STARTTLS (see `start_mail`).
            let legacy = match (issued, legacy::profile(host.tls)) {
                (Some(i), Some(profile)) => Some((i, profile)),
                _ => None,
            };
            mail_tls.push((config, legacy));
        }
        let zones = dns::load(fixture, extra)?;
        if zones.served_at.contains_key(&RESOLVER_IP) {
            return Err(LabError::Fixture(format!(
                "{RESOLVER_IP} is the lab resolver's address; give nameservers another"
            )));
        }
        let shutdown = CancellationToken::new();
        let mut ips = vec![RESOLVER_IP];
        ips.extend(
            zones
                .served_at
                .keys()
                .filter(|ip| ip.is_loopback() && !fixture.dns.offline.contains(ip)),
        );
        let (dns_port, sockets) = bind_everywhere(&ips, true).await?;
        let origins = Arc::new(zones.origins.iter().cloned().collect::<HashSet<_>>());
        let mut queries = BTreeMap::new();
        for (ip, (udp, tcp)) in ips.iter().zip(sockets) {
            let counter = Arc::new(AtomicU64::new(0));
            queries.insert(*ip, counter.clone());
            let role = if *ip == RESOLVER_IP {
                dns::Role::Resolver
            } else {
                dns::Role::Nameserver(Arc::new(
                    zones.served_at.get(ip).cloned().unwrap_or_default(),
                ))
            };
            let handler = dns::LabHandler {
                catalog: zones.catalog.clone(),
                origins: origins.clone(),
                behaviour: zones.behaviour.clone(),
                role,
                queries: counter,
                ds_catalogs: zones.ds_catalogs.clone(),
                fast: zones.fast.clone(),
                cuts: zones.cuts.clone(),
                mute: fixture.dns.mute.contains(ip),
            };
            if let Some(udp) = udp {
                tokio::spawn(dns::serve_udp(udp, handler.clone(), shutdown.clone()));
            }
            let mut server = Server::new(handler);
            server.register_listener(tcp, Duration::from_secs(5), 64);
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                let _ = server.shutdown_gracefully().await;
            });
        }
        let mut ports = BTreeMap::new();
        ports.insert(53, dns_port);
        start_web(&hosts, &ca, now, &shutdown, &mut ports).await?;
        start_mail(&hosts, mail_tls, &shutdown, &mut ports).await?;
        let mut zone_names: Vec<String> = zones
            .origins
            .iter()
            .map(|o| o.to_string().trim_end_matches('.').to_owned())
            .collect();
        zone_names.sort();
        Ok(Lab {
            resolver: SocketAddr::new(RESOLVER_IP, dns_port),
            ports,
            zones: zone_names,
            queries,
            ca_pem: ca.ca_cert_pem().to_owned(),
            trust_anchor: zones.anchor.clone(),
            shutdown,
        })
    }

    /// The lab's DNSSEC trust anchor: the DS record (master-file line) of its topmost
    /// signed zone, for `ward --trust-anchor`; `None` when nothing is signed.
    pub fn trust_anchor(&self) -> Option<&str> {
        self.trust_anchor.as_deref()
    }

    /// The address to use as ward's resolver.
    pub fn resolver(&self) -> SocketAddr {
        self.resolver
    }

    /// Well-known port → the lab's port for that service (`53 → 40123`, ...).
    pub fn ports(&self) -> &BTreeMap<u16, u16> {
        &self.ports
    }

    /// The port map as `ward scan --lab-ports` takes it.
    pub fn ports_arg(&self) -> String {
        self.ports
            .iter()
            .map(|(a, b)| format!("{a}={b}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The zones served, sorted.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// How many DNS questions arrived at `ip` (any listener of the lab), for tests that
    /// must show nothing was sent somewhere.
    pub fn queries_at(&self, ip: IpAddr) -> u64 {
        self.queries
            .get(&ip)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The addresses the lab's DNS listens on.
    pub fn dns_addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.queries.keys().copied()
    }

    /// The lab CA's certificate (PEM): trust it to verify the lab's servers.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Stops every server.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

/// Starts HTTP (port 80) and HTTPS (port 443) on every web host address. An address
/// whose hosts have no certificate gets no HTTPS: connections there are refused.
async fn start_web(
    hosts: &hosts::Hosts,
    ca: &certs::LabCa,
    now: time::OffsetDateTime,
    shutdown: &CancellationToken,
    ports: &mut BTreeMap<u16, u16>,
) -> Result<(), LabError> {
    let mut ips: Vec<IpAddr> = hosts.web.iter().map(|h| h.ip).collect();
    ips.sort();
    ips.dedup();
    if ips.is_empty() {
        return Ok(());
    }
    let (http_port, http) = bind_everywhere(&ips, false).await?;
    let (https_port, https) = bind_everywhere(&ips, false).await?;
    ports.insert(80, http_port);
    ports.insert(443, https_port);
    for ((ip, (_, plain)), (_, secure)) in ips.iter().zip(http).zip(https) {
        let on_ip: Arc<[hosts::WebHost]> =
            hosts.web.iter().filter(|h| h.ip == *ip).cloned().collect();
        // A port that speaks no HTTP (or no TLS) is the address's, whichever of its
        // hosts asks for it: the server cannot know the host before it reads a request.
        let plain_mode = on_ip.iter().find_map(|h| match h.http {
            hosts::HttpMode::Garbage => Some(Some(false)),
            hosts::HttpMode::GarbageSlow => Some(Some(true)),
            hosts::HttpMode::Mute => Some(None),
            _ => None,
        });
        match plain_mode {
            Some(Some(slow)) => {
                tokio::spawn(wire::serve_garbage(plain, slow, shutdown.clone()));
            }
            Some(None) => {
                tokio::spawn(wire::serve_mute(plain, shutdown.clone()));
            }
            None => {
                tokio::spawn(http::serve_http(plain, on_ip.clone(), shutdown.clone()));
            }
        }
        if let Some(tls) = on_ip.iter().map(|h| h.tls).find(|t| t.speaks_no_tls()) {
            match tls {
                hosts::TlsServer::Garbage => {
                    tokio::spawn(wire::serve_garbage(secure, false, shutdown.clone()))
                }
                hosts::TlsServer::GarbageSlow => {
                    tokio::spawn(wire::serve_garbage(secure, true, shutdown.clone()))
                }
                hosts::TlsServer::Mute => tokio::spawn(wire::serve_mute(secure, shutdown.clone())),
                _ => tokio::spawn(http::serve_not_tls(secure, shutdown.clone())),
            };
            continue;
        }
        let legacy_host = on_ip
            .iter()
            .find(|h| legacy::profile(h.tls).is_some() && h.cert.is_some());
        if let Some((host, spec, profile)) = legacy_host.and_then(|h| {
            h.cert
                .as_ref()
                .zip(legacy::profile(h.tls))
                .map(|(c, p)| (h, c, p))
        }) {
            let issued = ca.issue(&host.names, spec, now)?;
            let addr = SocketAddr::new(*ip, https_port);
            drop(secure);
            let server = tokio::task::spawn_blocking(move || legacy::start(addr, &issued, profile))
                .await
                .map_err(|e| LabError::Fixture(format!("legacy TLS start panicked: {e}")))??;
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                drop(server);
            });
            continue;
        }
        match http::tls_config_for(&on_ip, ca, now) {
            Ok(tls) => {
                tokio::spawn(http::serve_https(secure, on_ip, tls, shutdown.clone()));
            }
            Err(certs::CertError::NoCertificates) => drop(secure),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// What each mail host speaks after STARTTLS: the lab's rustls configuration, and for a
/// legacy host the certificate and `openssl s_server` profile to start.
type MailTls = (
    Option<Arc<rustls::ServerConfig>>,
    Option<(certs::IssuedCert, &'static [&'static str])>,
);

/// Starts SMTP (port 25) on every mail host address. A host with `tls =
/// "openssl-legacy"` gets an `openssl s_server` of its own on a spare port of its
/// address, and its SMTP server relays the connection there after STARTTLS.
async fn start_mail(
    hosts: &hosts::Hosts,
    tls: Vec<MailTls>,
    shutdown: &CancellationToken,
    ports: &mut BTreeMap<u16, u16>,
) -> Result<(), LabError> {
    if hosts.smtp.is_empty() {
        return Ok(());
    }
    let ips: Vec<IpAddr> = hosts.smtp.iter().map(|h| h.ip).collect();
    let (port, listeners) = bind_everywhere(&ips, false).await?;
    ports.insert(25, port);
    for ((host, (_, listener)), (config, legacy)) in hosts.smtp.iter().zip(listeners).zip(tls) {
        let after = match legacy {
            Some((issued, profile)) => {
                let spare = std::net::TcpListener::bind(SocketAddr::new(host.ip, 0))
                    .and_then(|l| l.local_addr())
                    .map_err(|e| LabError::Fixture(format!("{}: no spare port: {e}", host.name)))?;
                let server =
                    tokio::task::spawn_blocking(move || legacy::start(spare, &issued, profile))
                        .await
                        .map_err(|e| {
                            LabError::Fixture(format!("legacy TLS start panicked: {e}"))
                        })??;
                let stop = shutdown.clone();
                tokio::spawn(async move {
                    stop.cancelled().await;
                    drop(server);
                });
                smtp::AfterStartTls::Relay(spare)
            }
            None => config.into(),
        };
        match host.behaviour {
            hosts::SmtpBehaviour::Garbage => {
                tokio::spawn(wire::serve_garbage(listener, false, shutdown.clone()));
            }
            hosts::SmtpBehaviour::Mute => {
                tokio::spawn(wire::serve_mute(listener, shutdown.clone()));
            }
            _ => {
                tokio::spawn(smtp::serve_smtp(
                    listener,
                    Arc::new(host.clone()),
                    after,
                    shutdown.clone(),
                ));
            }
        }
    }
    Ok(())
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
