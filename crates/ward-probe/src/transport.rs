//! Transport security probes: which endpoints of an asset get a TLS scan, and a per-run
//! cache so that an address and port shared by many domains is enumerated once.
//!
//! A web asset's HTTPS endpoints are its own addresses (A, then AAAA) on port 443; a mail
//! asset's are its MX hosts on port 25 through STARTTLS, most preferred first. The DNS
//! questions asked on the way are recorded like every other. Versions and suites are
//! cached per (address, port, transport) for the life of the [`crate::Prober`]; the
//! certificate is always fetched for the asset's own host name, since that is what it
//! is judged against.

use crate::tls::{self, Protocols, TlsTarget, Transport};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use ward_model::observe::AssetObservation;
use ward_model::{Asset, Role};
use ward_net::Net;

/// Most addresses of one web domain scanned.
pub const MAX_WEB_ADDRESSES: usize = 2;
/// Most MX hosts of one domain scanned.
pub const MAX_MX_HOSTS: usize = 3;
/// The name ward gives in EHLO.
pub const EHLO_NAME: &str = "ward-scanner.invalid";

type Key = (IpAddr, u16, bool);

/// Shared enumeration results, keyed by address, port and whether STARTTLS is used.
#[derive(Debug, Clone, Default)]
pub struct TlsCache {
    inner: Arc<tokio::sync::Mutex<HashMap<Key, Arc<tokio::sync::OnceCell<Protocols>>>>>,
}

impl TlsCache {
    async fn protocols(&self, net: &Net, target: &TlsTarget) -> Protocols {
        let key = (
            target.ip,
            target.port,
            matches!(target.transport, Transport::SmtpStartTls { .. }),
        );
        let cell = self.inner.lock().await.entry(key).or_default().clone();
        cell.get_or_init(|| tls::enumerate(net, target, tls::DEFAULT_HANDSHAKE_TIMEOUT))
            .await
            .clone()
    }
}

async fn ensure(net: &Net, obs: &mut AssetObservation, name: &str, rtype: &str) {
    if obs.resolved(name, rtype).is_none() {
        let lookup = net.resolve(name, rtype).await;
        obs.dns.push(lookup);
    }
}

fn addresses(obs: &AssetObservation, name: &str) -> Vec<IpAddr> {
    ["A", "AAAA"]
        .iter()
        .filter_map(|t| obs.resolved(name, t).map(|o| (t, o)))
        .flat_map(|(t, o)| o.records_of(t).filter_map(|r| r.data.parse().ok()))
        .collect()
}

/// The TLS endpoints of `asset`, resolving what is needed.
async fn endpoints(net: &Net, asset: &Asset, obs: &mut AssetObservation) -> Vec<TlsTarget> {
    let mut targets = Vec::new();
    let domain = asset.domain.clone();
    if asset.has(Role::Web) {
        ensure(net, obs, &domain, "A").await;
        ensure(net, obs, &domain, "AAAA").await;
        for ip in addresses(obs, &domain).into_iter().take(MAX_WEB_ADDRESSES) {
            targets.push(TlsTarget {
                transport: Transport::Direct,
                ip,
                port: 443,
                hostname: domain.clone(),
            });
        }
    }
    if asset.has(Role::Mail) {
        ensure(net, obs, &domain, "MX").await;
        let mut mx: Vec<(u16, String)> = obs
            .resolved(&domain, "MX")
            .map(|o| {
                o.records_of("MX")
                    .filter_map(|r| {
                        let (pref, host) = r.data.split_once(' ')?;
                        Some((pref.parse().ok()?, ward_net::dns::normalise(host)))
                    })
                    .filter(|(_, h)| !h.is_empty()) // null MX (RFC 7505)
                    .collect()
            })
            .unwrap_or_default();
        mx.sort();
        mx.dedup_by(|a, b| a.1 == b.1);
        for (_, host) in mx.into_iter().take(MAX_MX_HOSTS) {
            ensure(net, obs, &host, "A").await;
            ensure(net, obs, &host, "AAAA").await;
            if let Some(ip) = addresses(obs, &host).into_iter().next() {
                targets.push(TlsTarget {
                    transport: Transport::SmtpStartTls {
                        ehlo_name: EHLO_NAME.into(),
                    },
                    ip,
                    port: 25,
                    hostname: host,
                });
            }
        }
    }
    targets
}

/// Scans every TLS endpoint of `asset` into `obs.tls`.
pub async fn probe(net: &Net, cache: &TlsCache, asset: &Asset, obs: &mut AssetObservation) {
    let targets = endpoints(net, asset, obs).await;
    let now = obs.scanned_at;
    let scans = futures::future::join_all(targets.iter().map(|t| async move {
        let protocols = cache.protocols(net, t).await;
        tls::certificate(net, t, now, tls::DEFAULT_HANDSHAKE_TIMEOUT, &protocols).await
    }))
    .await;
    obs.tls.extend(scans);
}
