//! Probes: turn an asset into observations through ward-net. No verdicts here.
//!
//! A probe asks exactly the questions the checks need and records every answer,
//! failures included, in an [`AssetObservation`]. Whether an answer is good news is the
//! checks' business (ward-checks); a probe only makes sure that "no record" and "could
//! not ask" stay different things.

pub mod consent;
pub mod dns;
pub mod dnssec;
pub mod mta_sts;
pub mod tls;
pub mod transport;
pub mod web;

use time::OffsetDateTime;
use ward_model::Asset;
use ward_model::observe::AssetObservation;
use ward_net::Net;

/// Most rounds of follow-up questions for one asset.
pub const MAX_ROUNDS: usize = 16;
/// Most follow-up questions for one asset (SPF alone may need 10 lookups plus 2 void
/// ones per include level, and MX and PTR name lists).
pub const MAX_FOLLOW_UPS: usize = 256;

/// Adds the DNS answers `part` (a copy of `obs` that another step worked on) learnt
/// that `obs` does not hold yet, in the order asked.
pub(crate) fn merge_dns(obs: &mut AssetObservation, part: AssetObservation) {
    for lookup in part.dns {
        let known = obs
            .dns
            .iter()
            .any(|l| l.name == lookup.name && l.rtype == lookup.rtype && l.server == lookup.server);
        if !known {
            obs.dns.push(lookup);
        }
    }
}

/// Probes assets. Cheap to clone; share one per scan.
#[derive(Debug, Clone)]
pub struct Prober {
    net: Net,
    tls_cache: transport::TlsCache,
    http: ward_net::http::HttpClient,
    anchor: std::sync::Arc<dnssec::TrustAnchor>,
    verified: std::sync::Arc<dnssec::Verified>,
}

impl Prober {
    /// A prober that uses `net` for all I/O.
    pub fn new(net: Net) -> Self {
        let http = ward_net::http::HttpClient::default();
        Prober {
            net,
            http,
            tls_cache: transport::TlsCache::default(),
            anchor: std::sync::Arc::new(dnssec::TrustAnchor::root()),
            verified: std::sync::Arc::default(),
        }
    }

    /// Validates DNSSEC from `anchor` instead of the root zone's keys (the lab's own
    /// anchor, say).
    pub fn with_trust_anchor(mut self, anchor: dnssec::TrustAnchor) -> Self {
        self.anchor = std::sync::Arc::new(anchor);
        self
    }

    /// A prober for a new scan: the same settings and trust anchor, nothing remembered
    /// from this one's (DNS answers, TLS results, validated zones).
    pub fn fresh(&self) -> Prober {
        Prober {
            net: self.net.fresh(),
            http: self.http.clone(),
            tls_cache: transport::TlsCache::default(),
            anchor: self.anchor.clone(),
            verified: std::sync::Arc::default(),
        }
    }

    /// The HTTP client it fetches with.
    pub fn http(&self) -> &ward_net::http::HttpClient {
        &self.http
    }

    /// The network it uses.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Probes one asset. Never fails: what could not be learnt is recorded as such.
    ///
    /// After the fixed questions, `needs` is asked what else the checks want to know
    /// given what was seen (an SPF include names another domain, say); those questions
    /// are asked and `needs` is consulted again, at most [`MAX_ROUNDS`] times and
    /// [`MAX_FOLLOW_UPS`] questions in all, so a hostile record cannot keep ward busy.
    pub async fn probe(
        &self,
        asset: &Asset,
        scanned_at: OffsetDateTime,
        needs: &(dyn Fn(&AssetObservation) -> Vec<(String, String)> + Sync),
    ) -> AssetObservation {
        self.probe_carrying(asset, scanned_at, needs, None).await
    }

    /// As [`Self::probe`]; with `carried` (an earlier observation of the same asset),
    /// the web and mail servers are not contacted: every DNS and mail question is
    /// asked afresh, and the servers' part (TLS, STARTTLS, HTTP) is taken from
    /// `carried` ([`AssetObservation::carry_servers_from`]). The monitor does this on
    /// the days between full probes.
    pub async fn probe_carrying(
        &self,
        asset: &Asset,
        scanned_at: OffsetDateTime,
        needs: &(dyn Fn(&AssetObservation) -> Vec<(String, String)> + Sync),
        carried: Option<AssetObservation>,
    ) -> AssetObservation {
        let mut obs = AssetObservation::new(asset.domain.clone(), scanned_at);
        dns::basics(&self.net, &asset.domain, &mut obs).await;
        if let Some(earlier) = carried {
            self.follow_ups(&mut obs, needs).await;
            self.dnssec(asset, &mut obs).await;
            mta_sts::fetch_policy(&self.net, &self.http, &asset.domain, &mut obs).await;
            obs.carry_servers_from(earlier);
            // What the carried answers make the checks want (an MX host's address the
            // servers' part relied on, say) is asked now, not carried.
            self.follow_ups(&mut obs, needs).await;
            return obs;
        }
        // The servers are asked while the follow-up questions are, each part on its own
        // copy of what DNS said so far: a silent web or mail host then costs the domain
        // one wait, not one per step ([`ward_net::silence`] shortens the rest).
        let mut tls_part = obs.clone();
        let mut web_part = obs.clone();
        tokio::join!(
            transport::probe(&self.net, &self.tls_cache, asset, &mut tls_part),
            web::probe(&self.net, &self.http, asset, &mut web_part),
            async {
                self.follow_ups(&mut obs, needs).await;
                self.dnssec(asset, &mut obs).await;
                mta_sts::fetch_policy(&self.net, &self.http, &asset.domain, &mut obs).await;
            },
        );
        obs.tls = std::mem::take(&mut tls_part.tls);
        obs.web = web_part.web.take();
        merge_dns(&mut obs, tls_part);
        merge_dns(&mut obs, web_part);
        obs
    }

    /// The questions `needs` asks for given what was seen, in rounds (see [`Self::probe`]).
    async fn follow_ups(
        &self,
        obs: &mut AssetObservation,
        needs: &(dyn Fn(&AssetObservation) -> Vec<(String, String)> + Sync),
    ) {
        let mut asked = 0usize;
        for _ in 0..MAX_ROUNDS {
            let wanted: Vec<(String, String)> = needs(obs)
                .into_iter()
                .filter(|(name, rtype)| obs.resolved(name, rtype).is_none())
                .take(MAX_FOLLOW_UPS.saturating_sub(asked))
                .collect();
            if wanted.is_empty() {
                break;
            }
            asked += wanted.len();
            let answers =
                futures::future::join_all(wanted.iter().map(|(n, t)| self.net.resolve(n, t))).await;
            obs.dns.extend(answers);
        }
    }

    /// DNSSEC chains: the domain's SOA, and the DANE TLSA records (`_25._tcp.<mx>`) of
    /// the first [`transport::MAX_MX_HOSTS`] MX hosts of a mail domain.
    async fn dnssec(&self, asset: &Asset, obs: &mut AssetObservation) {
        let mut wanted = vec![(asset.domain.clone(), "SOA".to_owned())];
        if asset.has(ward_model::Role::Mail)
            && let Some(mx) = obs.resolved(&asset.domain, "MX")
        {
            for r in mx.records_of("MX").take(transport::MAX_MX_HOSTS) {
                let host = r.data.split_whitespace().nth(1).unwrap_or_default();
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                if !host.is_empty() {
                    wanted.push((format!("_25._tcp.{host}"), "TLSA".to_owned()));
                }
            }
        }
        let at = obs.scanned_at;
        let chains = futures::future::join_all(wanted.iter().map(|(n, t)| {
            dnssec::walk_remembering(&self.net, &self.anchor, &self.verified, n, t, at)
        }))
        .await;
        obs.dnssec.extend(chains);
    }
}
