//! The TLS engine: which protocol versions and cipher suites an endpoint accepts, the key
//! exchange it picks, and its certificate chain — recorded as a [`TlsScan`], no verdicts.
//!
//! # How support is proven
//! As sslyze and testssl.sh do: a hand-built ClientHello ([`hello`]) offers one version
//! and a list of suites; a ServerHello choosing them ([`reply`]) proves support, an alert
//! such as handshake_failure or protocol_version proves the opposite. The handshake is
//! never finished, so no key material is needed, and SSL 3.0 to TLS 1.3 are all asked
//! the same way. Suites per version are enumerated by offering every suite ward has a
//! name for, then repeating without the suite the server chose until it refuses: one
//! connection per accepted suite plus one, instead of one per suite known. Then one more
//! connection offers the accepted suites reversed: if the server still picks the same
//! first suite it enforces its own order, and the enumeration order *is* that order.
//!
//! # What is kept apart
//! Refused, reset and timed out connections, malformed replies and protocol violations
//! are recorded as such ([`HelloOutcome`]) and make a version [`VersionStatus::CouldNotTell`],
//! never "not supported".
//!
//! # Politeness
//! Every connection goes through [`Net::connect`], so the per-host budget (default 4 at
//! once) holds; [`TlsScan::connections`] counts what was made. Each handshake has a
//! deadline and each first flight a size limit ([`reply::MAX_FLIGHT`]), so a server that
//! trickles one byte a second or sends a 10 MB chain costs bounded time and memory.

pub mod cert;
pub mod codec;
pub mod hello;
pub mod ocsp;
pub mod reply;
pub mod starttls;

use reply::{FlightReader, KeyExchange, KxKind, Reply, Want};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ward_model::NetFailure;
use ward_model::tls::{
    CertChainSeen, CipherSuite, HelloOutcome, NamedGroup, ProtocolVersion, StartTlsOutcome,
    SuiteSeen, TlsScan, VersionScan, VersionStatus,
};
use ward_net::Net;

/// The versions asked about, oldest first.
pub const VERSIONS: [ProtocolVersion; 5] = [
    ProtocolVersion::SSLV3,
    ProtocolVersion::TLS10,
    ProtocolVersion::TLS11,
    ProtocolVersion::TLS12,
    ProtocolVersion::TLS13,
];

/// The five TLS 1.3 suites (RFC 8446 §B.4).
pub const TLS13_SUITES: [u16; 5] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

/// Default time for one handshake, from connect to the last byte of the first flight.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The IANA name of a cipher suite, if ward knows one.
pub fn suite_name(id: u16) -> Option<&'static str> {
    rustls::CipherSuite::from(id).as_str()
}

/// Every pre-1.3 suite ward has a name for, in code-point order: what is offered when
/// enumerating SSL 3.0 to TLS 1.2. Signalling values (the renegotiation and fallback
/// SCSVs) and TLS_NULL_WITH_NULL_NULL are left out.
pub fn legacy_suites() -> &'static [u16] {
    static LIST: OnceLock<Vec<u16>> = OnceLock::new();
    LIST.get_or_init(|| {
        (1..=u16::MAX)
            .filter(|&id| {
                id >> 8 != 0x13 && id != 0x00ff && id != 0x5600 && suite_name(id).is_some()
            })
            .collect()
    })
}

/// How a suite's ServerKeyExchange is laid out.
pub fn kx_kind(id: u16) -> KxKind {
    match suite_name(id) {
        Some(n) if n.contains("PSK") => KxKind::Other,
        Some(n) if n.contains("_ECDHE_") => KxKind::Ecdhe,
        Some(n) if n.contains("_DHE_") => KxKind::Dhe,
        _ => KxKind::Other,
    }
}

fn seen(id: u16) -> SuiteSeen {
    SuiteSeen {
        id: CipherSuite(id),
        name: suite_name(id).map(str::to_string),
    }
}

/// How TLS is reached on the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// TLS from the first byte (HTTPS on 443).
    Direct,
    /// SMTP, then STARTTLS (port 25), greeting with `EHLO <ehlo_name>`.
    SmtpStartTls {
        /// The name ward gives in EHLO.
        ehlo_name: String,
    },
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct TlsTarget {
    /// How TLS is reached.
    pub transport: Transport,
    /// The address.
    pub ip: IpAddr,
    /// The well-known port (lab substitution happens in [`Net::connect`]).
    pub port: u16,
    /// The name for SNI and the certificate check (an address literal sends no SNI).
    pub hostname: String,
}

/// Scans one endpoint. `now` is the scan's time (STYLE T5): certificates are judged
/// valid or expired at that instant.
pub async fn scan(net: &Net, target: &TlsTarget, now: OffsetDateTime) -> TlsScan {
    scan_with(net, target, now, DEFAULT_HANDSHAKE_TIMEOUT).await
}

/// [`scan`] with an explicit handshake timeout.
pub async fn scan_with(
    net: &Net,
    target: &TlsTarget,
    now: OffsetDateTime,
    timeout: Duration,
) -> TlsScan {
    let protocols = enumerate(net, target, timeout).await;
    certificate(net, target, now, timeout, &protocols).await
}

/// What [`enumerate`] learnt about an address and port: the part of a scan that does not
/// depend on the host name, so it can be shared by every domain hosted there.
#[derive(Debug, Clone)]
pub struct Protocols {
    /// The host name the enumeration sent in SNI.
    pub hostname: String,
    /// Per version.
    pub versions: Vec<VersionScan>,
    /// The STARTTLS exchange, for SMTP.
    pub starttls: Option<ward_model::tls::StartTlsSeen>,
    /// Certificates from the newest pre-1.3 first flight, for `hostname`.
    legacy_certs: Option<LegacyChain>,
    /// Connections made.
    pub connections: u32,
}

/// Enumerates versions and suites (and runs STARTTLS first where needed).
pub async fn enumerate(net: &Net, target: &TlsTarget, timeout: Duration) -> Protocols {
    let engine = Engine {
        net,
        target,
        timeout,
        connections: AtomicU32::new(0),
    };
    let mut starttls = None;
    if let Transport::SmtpStartTls { ehlo_name } = &target.transport {
        let seen = match engine.connect().await {
            Ok(mut conn) => engine.negotiate(&mut conn.stream, ehlo_name).await,
            Err(failure) => ward_model::tls::StartTlsSeen {
                banner: Vec::new(),
                ehlo_keywords: Vec::new(),
                outcome: StartTlsOutcome::Network {
                    stage: "connect".into(),
                    failure,
                },
            },
        };
        let ready = seen.outcome == StartTlsOutcome::Ready;
        starttls = Some(seen);
        if !ready {
            return Protocols {
                hostname: target.hostname.clone(),
                versions: Vec::new(),
                starttls,
                legacy_certs: None,
                connections: engine.connections.load(Ordering::Relaxed),
            };
        }
    }
    let versions = futures::future::join_all(VERSIONS.iter().map(|&v| engine.version(v))).await;
    let legacy_certs = versions.iter().rev().find_map(|(_, chain)| chain.clone());
    Protocols {
        hostname: target.hostname.clone(),
        versions: versions.into_iter().map(|(v, _)| v).collect(),
        starttls,
        legacy_certs,
        connections: engine.connections.load(Ordering::Relaxed),
    }
}

/// Completes a scan for `target.hostname` given the (possibly shared) `protocols`: a
/// full rustls handshake for the chain, or, for servers rustls cannot talk to, the
/// Certificate message of the newest pre-1.3 version (fetched again when `protocols`
/// was learnt under another host name). Connections counted are this call's plus the
/// enumeration's when it was made for this very host name.
pub async fn certificate(
    net: &Net,
    target: &TlsTarget,
    now: OffsetDateTime,
    timeout: Duration,
    protocols: &Protocols,
) -> TlsScan {
    let engine = Engine {
        net,
        target,
        timeout,
        connections: AtomicU32::new(0),
    };
    let own = protocols.hostname == target.hostname;
    let ready = protocols
        .starttls
        .as_ref()
        .is_none_or(|s| s.outcome == StartTlsOutcome::Ready);
    let (chain, chain_failure) = if !ready {
        (None, Some("STARTTLS was not available".to_string()))
    } else {
        match engine.full_handshake(now).await {
            Ok(chain) => (Some(chain), None),
            Err(why) => {
                let legacy = if own {
                    protocols.legacy_certs.clone()
                } else {
                    engine.legacy_certs(&protocols.versions).await
                };
                match legacy {
                    Some(legacy) => (
                        Some(engine.chain_seen(
                            legacy.certs,
                            "certificate_message",
                            legacy.ocsp.as_deref(),
                            now,
                        )),
                        Some(why),
                    ),
                    None => (None, Some(why)),
                }
            }
        }
    };
    let mut connections = engine.connections.load(Ordering::Relaxed);
    if own {
        connections += protocols.connections;
    }
    TlsScan {
        ip: target.ip.to_string(),
        port: target.port,
        hostname: target.hostname.clone(),
        transport: match target.transport {
            Transport::Direct => "direct".into(),
            Transport::SmtpStartTls { .. } => "starttls_smtp".into(),
        },
        versions: protocols.versions.clone(),
        chain,
        chain_failure,
        starttls: protocols.starttls.clone(),
        connections,
        shared_from: (!own).then(|| protocols.hostname.clone()),
    }
}

/// The chain from a pre-1.3 first flight, and its stapled OCSP response: `None` when
/// the ClientHello did not ask (SSL 3.0 has no extensions), empty when none came.
#[derive(Debug, Clone)]
struct LegacyChain {
    certs: Vec<Vec<u8>>,
    ocsp: Option<Vec<u8>>,
}

/// One answer, with the certificates of its first flight (pre-1.3).
struct Answer {
    outcome: HelloOutcome,
    kx: Option<KeyExchange>,
    certs: Vec<Vec<u8>>,
    /// The CertificateStatus's response, if one came.
    ocsp: Option<Vec<u8>>,
}

impl Answer {
    /// The chain and staple of this answer's first flight, for `version`, if it had one.
    fn legacy_chain(&self, version: ProtocolVersion) -> Option<LegacyChain> {
        (!self.certs.is_empty()).then(|| LegacyChain {
            certs: self.certs.clone(),
            ocsp: (version > ProtocolVersion::SSLV3).then(|| self.ocsp.clone().unwrap_or_default()),
        })
    }
}

struct Engine<'a> {
    net: &'a Net,
    target: &'a TlsTarget,
    timeout: Duration,
    connections: AtomicU32,
}

impl Engine<'_> {
    fn server_name(&self) -> Option<&str> {
        let h = self.target.hostname.as_str();
        (h.parse::<IpAddr>().is_err() && !h.is_empty()).then_some(h)
    }

    async fn connect(&self) -> Result<ward_net::tcp::Connection, NetFailure> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.net.connect(self.target.ip, self.target.port).await
    }

    /// How long to wait on the target now: the handshake timeout, or less once the
    /// address has proved silent ([`ward_net::silence`]).
    fn patience(&self) -> Duration {
        self.net.patience(self.target.ip, self.timeout)
    }

    /// After a wait until `own` ran out: notes the address as silent when nothing came
    /// and the wait was its own (not cut by the domain's budget).
    fn note_silence(&self, own: tokio::time::Instant, heard: bool) {
        if !heard && ward_net::budget::ended_by_budget(own).is_ok() {
            self.net.note_silent(self.target.ip);
        }
    }

    /// SMTP up to STARTTLS on `stream`; a banner that never comes proves the address
    /// silent.
    async fn negotiate(
        &self,
        stream: &mut TcpStream,
        ehlo_name: &str,
    ) -> ward_model::tls::StartTlsSeen {
        let wait = self.patience();
        let own = tokio::time::Instant::now() + wait;
        let seen = starttls::negotiate(stream, ehlo_name, wait).await;
        if let StartTlsOutcome::Network {
            stage,
            failure: NetFailure::TimedOut,
        } = &seen.outcome
            && stage == "banner"
        {
            self.note_silence(own, false);
        }
        seen
    }

    /// A connection ready for a ClientHello: STARTTLS done where the transport needs it.
    async fn open(&self) -> Result<ward_net::tcp::Connection, HelloOutcome> {
        let mut conn = self
            .connect()
            .await
            .map_err(|failure| HelloOutcome::Network { failure })?;
        if let Transport::SmtpStartTls { ehlo_name } = &self.target.transport {
            let seen = self.negotiate(&mut conn.stream, ehlo_name).await;
            match seen.outcome {
                StartTlsOutcome::Ready => {}
                StartTlsOutcome::Network { failure, .. } => {
                    return Err(HelloOutcome::Network { failure });
                }
                other => {
                    return Err(HelloOutcome::Misbehaved {
                        detail: format!("STARTTLS failed on a later connection: {other:?}"),
                    });
                }
            }
        }
        Ok(conn)
    }

    /// Sends one ClientHello on a fresh connection and reads the answer.
    async fn hello(&self, version: ProtocolVersion, suites: &[u16]) -> Answer {
        let failed = |failure| Answer {
            outcome: HelloOutcome::Network { failure },
            kx: None,
            certs: Vec::new(),
            ocsp: None,
        };
        let own = tokio::time::Instant::now() + self.patience();
        let deadline = ward_net::budget::cap(own);
        let mut conn = match self
            .net
            .wait_on(self.target.ip, deadline, self.open())
            .await
        {
            Err(_) => return failed(NetFailure::TimedOut),
            Ok(Err(outcome)) => {
                return Answer {
                    outcome,
                    kx: None,
                    certs: Vec::new(),
                    ocsp: None,
                };
            }
            Ok(Ok(c)) => c,
        };
        let record = hello::client_hello(&hello::HelloSpec {
            version,
            suites,
            server_name: self.server_name(),
        });
        let want = if version >= ProtocolVersion::TLS13 {
            Want::ServerHello
        } else {
            Want::FirstFlight
        };
        let mut heard = false;
        let read = self
            .net
            .wait_on(
                self.target.ip,
                deadline,
                read_reply(&mut conn.stream, &record, want, deadline, &mut heard),
            )
            .await
            .unwrap_or(Err(ReadFailure::Net(NetFailure::TimedOut)));
        match read {
            Ok(reply) => judge(version, suites, reply),
            Err(ReadFailure::Net(f)) => {
                // Some servers ignore a hello for a version they do not know; only
                // silence to a current one proves the host silent.
                if f == NetFailure::TimedOut && version >= ProtocolVersion::TLS12 {
                    self.note_silence(own, heard);
                }
                failed(f)
            }
            Err(ReadFailure::Flight(e)) => Answer {
                outcome: match e {
                    reply::FlightError::Decode(d) => HelloOutcome::Malformed {
                        what: d.what().to_string(),
                        at: d.at(),
                        reason: d.to_string(),
                    },
                    // Well-formed bytes in the wrong place, or too many of them.
                    other => HelloOutcome::Misbehaved {
                        detail: other.to_string(),
                    },
                },
                kx: None,
                certs: Vec::new(),
                ocsp: None,
            },
        }
    }

    /// The Certificate message for this host name from the newest supported pre-1.3
    /// version, offering the suites known to work there.
    async fn legacy_certs(&self, versions: &[VersionScan]) -> Option<LegacyChain> {
        let v = versions.iter().rev().find(|v| {
            v.version < ProtocolVersion::TLS13
                && v.status == VersionStatus::Supported
                && !v.suites.is_empty()
        })?;
        let suites: Vec<u16> = v.suites.iter().map(|s| s.id.0).collect();
        let answer = self.hello(v.version, &suites).await;
        answer.legacy_chain(v.version)
    }

    /// Everything about one version; also returns the first flight's certificates.
    async fn version(&self, version: ProtocolVersion) -> (VersionScan, Option<LegacyChain>) {
        let offered: Vec<u16> = if version == ProtocolVersion::TLS13 {
            TLS13_SUITES.to_vec()
        } else {
            legacy_suites().to_vec()
        };
        let first = self.hello(version, &offered).await;
        let status = match &first.outcome {
            HelloOutcome::Accepted { .. } => VersionStatus::Supported,
            HelloOutcome::OtherVersion { .. } => VersionStatus::NotSupported,
            HelloOutcome::Alert { description, .. } if description.means_not_supported() => {
                VersionStatus::NotSupported
            }
            _ => VersionStatus::CouldNotTell,
        };
        let mut scan = VersionScan {
            version,
            status,
            first_answer: first.outcome.clone(),
            suites: Vec::new(),
            server_order: None,
            groups: Vec::new(),
            dh_bits: None,
            incomplete: None,
        };
        let certs = first.legacy_chain(version);
        if scan.status != VersionStatus::Supported {
            return (scan, certs);
        }

        let mut accepted: Vec<u16> = Vec::new();
        let mut answer = first;
        loop {
            match &answer.outcome {
                HelloOutcome::Accepted { suite, group, .. } => {
                    accepted.push(suite.0);
                    note_kx(&mut scan, *group, answer.kx);
                }
                HelloOutcome::OtherVersion { .. } => break,
                HelloOutcome::Alert { description, .. } if description.means_not_supported() => {
                    break;
                }
                other => {
                    scan.incomplete = Some(other.clone());
                    break;
                }
            }
            let rest: Vec<u16> = offered
                .iter()
                .copied()
                .filter(|s| !accepted.contains(s))
                .collect();
            if rest.is_empty() {
                break;
            }
            answer = self.hello(version, &rest).await;
        }

        if accepted.len() >= 2 {
            let reversed: Vec<u16> = accepted.iter().rev().copied().collect();
            let probe = self.hello(version, &reversed).await;
            if let HelloOutcome::Accepted { suite, .. } = probe.outcome {
                scan.server_order = if accepted.first() == Some(&suite.0) {
                    Some(true)
                } else if accepted.last() == Some(&suite.0) {
                    Some(false)
                } else {
                    None
                };
            }
        }
        if scan.server_order != Some(true) {
            // Without a server order, report suites in code-point order: stable output.
            accepted.sort_unstable();
        }
        scan.suites = accepted.into_iter().map(seen).collect();
        (scan, certs)
    }

    /// A full rustls handshake (TLS 1.2 or 1.3) to obtain the chain as a real client
    /// would see it.
    async fn full_handshake(&self, now: OffsetDateTime) -> Result<CertChainSeen, String> {
        use rustls::pki_types::ServerName;
        use std::sync::Arc;
        let recorder = Arc::new(cert::Recorder::new());
        let config = rustls::ClientConfig::builder_with_provider(cert::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        let name = match self.server_name() {
            Some(n) => ServerName::try_from(n.to_string()).map_err(|e| e.to_string())?,
            None => ServerName::IpAddress(self.target.ip.into()),
        };
        let deadline = ward_net::budget::cap(tokio::time::Instant::now() + self.patience());
        let conn = match self
            .net
            .wait_on(self.target.ip, deadline, self.open())
            .await
        {
            Err(_) => return Err(NetFailure::TimedOut.to_string()),
            Ok(Err(HelloOutcome::Network { failure })) => return Err(failure.to_string()),
            Ok(Err(other)) => return Err(format!("{other:?}")),
            Ok(Ok(c)) => c,
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let result = self
            .net
            .wait_on(
                self.target.ip,
                deadline,
                connector.connect(name, conn.stream),
            )
            .await;
        let chain = recorder.chain();
        match (result, chain) {
            (_, Some(chain)) => {
                let ocsp = recorder.ocsp().unwrap_or_default();
                Ok(self.chain_seen(chain, "rustls", Some(&ocsp), now))
            }
            (Err(_), None) => Err("TLS handshake timed out".into()),
            (Ok(Err(e)), None) => Err(format!("TLS handshake failed: {e}")),
            (Ok(Ok(_)), None) => Err("handshake completed without a certificate".into()),
        }
    }

    /// What ward makes of a chain; `ocsp` is the stapled response (empty: none stapled)
    /// when the handshake asked for one, `None` when it did not.
    fn chain_seen(
        &self,
        chain: Vec<Vec<u8>>,
        source: &str,
        ocsp: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> CertChainSeen {
        let roots = self.net.roots();
        let verdict = cert::validate(&chain, &self.target.hostname, roots.clone(), now);
        let shape = cert::shape(&chain, &roots);
        let certs: Vec<_> = chain.iter().map(|c| cert::describe(c)).collect();
        let ocsp = ocsp.map(|der| {
            ocsp::read(
                der,
                &shape.leaf_serial,
                shape.issuer_key.as_ref(),
                cert::provider().signature_verification_algorithms.all,
            )
        });
        CertChainSeen {
            source: source.into(),
            order_problem: shape.order_problem,
            missing_issuer: shape.missing_issuer,
            extra_certs: shape.extra_certs,
            ocsp,
            certs,
            validation_kind: verdict.as_ref().map(|v| v.0.clone()),
            validation_error: verdict.map(|v| v.1),
            hostname: self.target.hostname.clone(),
        }
    }
}

fn note_kx(scan: &mut VersionScan, group: Option<NamedGroup>, kx: Option<KeyExchange>) {
    let group = group.or(match kx {
        Some(KeyExchange::Group(g)) => Some(g),
        _ => None,
    });
    if let Some(g) = group
        && !scan.groups.contains(&g)
    {
        scan.groups.push(g);
    }
    if let Some(KeyExchange::DhBits(bits)) = kx {
        scan.dh_bits = Some(scan.dh_bits.map_or(bits, |b: u32| b.min(bits)));
    }
}

/// Maps a reply to an outcome, checking the server chose something we offered.
fn judge(version: ProtocolVersion, offered: &[u16], reply: Reply) -> Answer {
    match reply {
        Reply::Alert { level, description } => Answer {
            outcome: HelloOutcome::Alert { level, description },
            kx: None,
            certs: Vec::new(),
            ocsp: None,
        },
        Reply::Hello(flight) => {
            let h = flight.hello;
            let outcome = if h.version != version {
                if h.version > version {
                    HelloOutcome::Misbehaved {
                        detail: format!("chose {} when offered only {version}", h.version),
                    }
                } else {
                    HelloOutcome::OtherVersion { version: h.version }
                }
            } else if !offered.contains(&h.suite) {
                HelloOutcome::Misbehaved {
                    detail: format!("chose cipher suite {:#06x}, which was not offered", h.suite),
                }
            } else {
                HelloOutcome::Accepted {
                    version: h.version,
                    suite: CipherSuite(h.suite),
                    group: h.group,
                    retry_request: h.retry_request,
                }
            };
            Answer {
                outcome,
                kx: flight.kx,
                certs: flight.certs,
                ocsp: flight.ocsp,
            }
        }
    }
}

enum ReadFailure {
    Net(NetFailure),
    Flight(reply::FlightError),
}

/// Writes `hello` and reads the answer before `deadline`; `heard` says whether any byte
/// came back.
async fn read_reply(
    stream: &mut TcpStream,
    hello: &[u8],
    want: Want,
    deadline: tokio::time::Instant,
    heard: &mut bool,
) -> Result<Reply, ReadFailure> {
    match tokio::time::timeout_at(deadline, stream.write_all(hello)).await {
        Err(_) => return Err(ReadFailure::Net(NetFailure::TimedOut)),
        Ok(Err(e)) => return Err(ReadFailure::Net(NetFailure::from_io(&e))),
        Ok(Ok(())) => {}
    }
    let mut reader = FlightReader::new(want, kx_kind);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => {
                return reader.end().ok_or(ReadFailure::Net(NetFailure::TimedOut));
            }
            Ok(Err(e)) => {
                let failure = NetFailure::from_io(&e);
                return reader.end().ok_or(ReadFailure::Net(failure));
            }
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            return reader.end().ok_or(ReadFailure::Net(NetFailure::Closed));
        }
        *heard = true;
        let got = buf.get(..n).unwrap_or(&[]);
        match reader.feed(got) {
            Ok(Some(reply)) => return Ok(reply),
            Ok(None) => {}
            Err(e) => return Err(ReadFailure::Flight(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_suites_leave_out_signals_and_tls13() {
        let list = legacy_suites();
        assert!(!list.contains(&0x00ff), "renegotiation SCSV");
        assert!(!list.contains(&0x5600), "fallback SCSV");
        assert!(!list.contains(&0x0000), "NULL_WITH_NULL_NULL");
        assert!(!list.iter().any(|s| s >> 8 == 0x13), "TLS 1.3 suites");
        assert!(list.contains(&0xc02f) && list.contains(&0x000a) && list.contains(&0x0004));
        // Fits one ClientHello record with room to spare.
        assert!(list.len() * 2 < 16384 - 512, "{}", list.len());
        assert_eq!(list.len(), 369);
    }

    #[test]
    fn key_exchange_layout_from_the_name() {
        assert_eq!(kx_kind(0xc02f), KxKind::Ecdhe);
        assert_eq!(kx_kind(0x009e), KxKind::Dhe);
        assert_eq!(kx_kind(0x002f), KxKind::Other);
        assert_eq!(kx_kind(0xccac), KxKind::Other); // ECDHE_PSK: hint first
        assert_eq!(kx_kind(0xabcd), KxKind::Other);
    }
}
