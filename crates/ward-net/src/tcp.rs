//! TCP connections to scan targets, and the trust anchors for TLS over them.
//!
//! Every connection starts with the guard ([`Net::target`]) and a per-host permit, so the
//! politeness budget holds across every probe that talks to a host: TLS enumeration,
//! HTTP and SMTP alike.

use crate::{Net, Permit};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpStream;
use ward_model::NetFailure;

/// An open connection, holding its slot in the host's budget until dropped.
#[derive(Debug)]
pub struct Connection {
    /// The stream.
    pub stream: TcpStream,
    /// Where it goes (after lab port substitution).
    pub peer: SocketAddr,
    _permit: Permit,
}

impl Net {
    /// Connects to `ip` on the well-known `port` (lab port substitution applied), after
    /// the guard allowed it. A refused address yields [`NetFailure::Blocked`] and no
    /// packet is sent. An address that already proved silent gets a short wait
    /// ([`crate::silence`]); one whose connect times out now has proved it.
    pub async fn connect(&self, ip: IpAddr, port: u16) -> Result<Connection, NetFailure> {
        let addr = self
            .target(ip, port)
            .map_err(|b| NetFailure::Blocked {
                addr: b.addr.ip().to_string(),
            })?
            .addr();
        let out_of_time = |s: crate::budget::Spent| NetFailure::OutOfTime {
            budget_secs: s.limit_secs,
        };
        crate::budget::check().map_err(out_of_time)?;
        let permit = self.connection_permit(ip).await;
        let own = tokio::time::Instant::now() + self.patience(ip, self.config().connect_timeout);
        match self
            .wait_on(ip, crate::budget::cap(own), TcpStream::connect(addr))
            .await
        {
            Err(_) => {
                crate::budget::ended_by_budget(own).map_err(out_of_time)?;
                self.note_silent(ip);
                Err(NetFailure::TimedOut)
            }
            Ok(Err(e)) => Err(NetFailure::from_io(&e)),
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                Ok(Connection {
                    stream,
                    peer: addr,
                    _permit: permit,
                })
            }
        }
    }

    /// The trust anchors for validating certificates: the public web PKI roots, plus
    /// the lab's CA in lab mode.
    pub fn roots(&self) -> Arc<RootCertStore> {
        self.inner.roots.clone()
    }
}

/// Builds the root store from webpki-roots plus extra PEM certificates.
pub(crate) fn root_store(extra_pem: &[u8]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if !extra_pem.is_empty() {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(extra_pem) {
            let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("unusable CA certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("no certificate in the PEM data".into());
        }
    }
    Ok(roots)
}
