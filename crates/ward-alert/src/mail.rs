//! Mail: the digest as a plain-text message over SMTP (lettre), STARTTLS required unless
//! the configuration says otherwise (a lab server on loopback).

use crate::Sent;
use crate::digest::Digest;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's name (also the name its certificate must carry).
    pub server: String,
    /// Its port (587 for submission).
    pub port: u16,
    /// The From address.
    pub from: String,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// Send without TLS (lab only). Default: STARTTLS is required.
    pub insecure: bool,
    /// CA certificates (PEM) to trust beyond the public roots.
    pub extra_ca_pem: Option<Vec<u8>>,
}

/// Sends `digest` to `to`: one attempt (the server queues and retries itself).
pub(crate) async fn send(cfg: Option<&SmtpConfig>, to: &str, digest: &Digest) -> Sent {
    let Some(cfg) = cfg else {
        return Sent::Refused {
            error: "no SMTP server: give --smtp-server (and --smtp-from) to send mail".into(),
        };
    };
    match try_send(cfg, to, digest).await {
        Ok(()) => Sent::Sent { attempts: 1 },
        Err(error) => Sent::DeadLetter { attempts: 1, error },
    }
}

async fn try_send(cfg: &SmtpConfig, to: &str, digest: &Digest) -> Result<(), String> {
    let message = Message::builder()
        .from(
            cfg.from
                .parse()
                .map_err(|e| format!("From {}: {e}", cfg.from))?,
        )
        .to(to.parse().map_err(|e| format!("To {to}: {e}"))?)
        .subject(digest.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(digest.text.clone())
        .map_err(|e| e.to_string())?;
    let tls = if cfg.insecure {
        Tls::None
    } else {
        let mut p = TlsParameters::builder(cfg.server.clone())
            .certificate_store(CertificateStore::WebpkiRoots);
        if let Some(pem) = &cfg.extra_ca_pem {
            p = p.add_root_certificate(Certificate::from_pem(pem).map_err(|e| e.to_string())?);
        }
        Tls::Required(p.build_rustls().map_err(|e| e.to_string())?)
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.server.clone())
        .port(cfg.port)
        .tls(tls)
        .hello_name(ClientId::Domain("ward.invalid".into()))
        .timeout(Some(SMTP_TIMEOUT));
    if let Some((u, p)) = &cfg.credentials {
        b = b.credentials(Credentials::new(u.clone(), p.clone()));
    }
    b.build()
        .send(message)
        .await
        .map(drop)
        .map_err(|e| format!("SMTP {}:{}: {e}", cfg.server, cfg.port))
}
