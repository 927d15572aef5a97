//! The web and mail hosts of a lab fixture (`hosts.toml`): which names are served on which
//! loopback address, with which certificate, and how each server (mis)behaves.
//!
//! Parsing is strict: unknown keys, unknown enum values, non-loopback addresses, header
//! values that could inject lines, and a name served twice on one address are errors that
//! carry the line and column of the offending value. Every default lives in one `default_*`
//! function, used by serde.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::ops::Range;

use serde::Deserialize;

/// Everything `hosts.toml` describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    /// Web hosts (HTTP and, when they have a certificate, HTTPS).
    pub web: Vec<WebHost>,
    /// Mail servers.
    pub smtp: Vec<SmtpHost>,
}

/// One `[[web]]` entry: a set of names that share an address, certificate and behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebHost {
    /// Names served (matched against the Host header and the TLS SNI), lower case.
    #[serde(deserialize_with = "host_names")]
    pub names: Vec<String>,
    /// Loopback address the host lives on.
    #[serde(deserialize_with = "loopback_ip")]
    pub ip: IpAddr,
    /// Certificate for HTTPS. `None` (the default): no HTTPS for these names.
    #[serde(default = "default_cert")]
    pub cert: Option<CertSpec>,
    /// What plain HTTP does. Default: `redirect-https`.
    #[serde(default = "default_http_mode")]
    pub http: HttpMode,
    /// How the server behaves once it knows which host was asked for. Default: `normal`.
    #[serde(default = "default_web_behaviour")]
    pub behaviour: WebBehaviour,
    /// Extra response headers on HTTPS (and on HTTP when `http = "serve"`). Default: none.
    #[serde(default = "default_headers")]
    pub headers: Headers,
    /// Path → body, served as `200 text/plain`. Default: none.
    #[serde(default = "default_files")]
    pub files: Files,
    /// Which TLS server answers on 443. Default: `rustls` (the lab's own).
    #[serde(default = "default_tls_server")]
    pub tls: TlsServer,
}

/// Which program serves a web host's HTTPS ([`crate::legacy::profile`] gives openssl's
/// arguments for the variants it serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsServer {
    /// The lab's rustls server: TLS 1.2 and 1.3 with modern suites only.
    Rustls,
    /// Debian's `openssl s_server` with TLS 1.0–1.2 and legacy suites
    /// ([`crate::legacy::LEGACY_ARGS`]); the HTTPS side serves openssl's status page.
    OpensslLegacy,
    /// Debian's `openssl s_server` with TLS 1.0 and 1.1 only
    /// ([`crate::legacy::ANCIENT_ARGS`]).
    OpensslAncient,
    /// Plain HTTP on the HTTPS port (a common misconfiguration): every ClientHello is
    /// answered with `400 Bad Request` in clear text, so no TLS version can be tested.
    NotTls,
    /// Bytes of no protocol on the HTTPS port ([`crate::wire::GARBAGE`]), then close.
    Garbage,
    /// The same bytes, one a second.
    GarbageSlow,
    /// Accepts on the HTTPS port and never says a word.
    Mute,
}

impl TlsServer {
    /// Whether the HTTPS port speaks no TLS at all (so needs no certificate).
    pub fn speaks_no_tls(self) -> bool {
        matches!(
            self,
            TlsServer::NotTls | TlsServer::Garbage | TlsServer::GarbageSlow | TlsServer::Mute
        )
    }
}

/// One `[[smtp]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpHost {
    /// The server's name (EHLO greeting, certificate name), lower case.
    #[serde(deserialize_with = "host_name")]
    pub name: String,
    /// Loopback address the server lives on.
    #[serde(deserialize_with = "loopback_ip")]
    pub ip: IpAddr,
    /// Whether EHLO advertises STARTTLS. Default: `false`. Needs `cert` unless the
    /// behaviour is `broken-tls` or `broken-tls-late`.
    #[serde(default = "default_starttls")]
    pub starttls: bool,
    /// Certificate used after STARTTLS. Default: none.
    #[serde(default = "default_cert")]
    pub cert: Option<CertSpec>,
    /// How the server (mis)behaves. Default: `normal`.
    #[serde(default = "default_smtp_behaviour")]
    pub behaviour: SmtpBehaviour,
    /// Text after `220 ` in the banner. Default: `None`, meaning `"<name> ESMTP ward-lab"`.
    #[serde(default = "default_banner", deserialize_with = "banner_text")]
    pub banner: Option<String>,
    /// A DANE TLSA record (`_25._tcp.<name>`, usage 3, selector 1, SHA-256) the lab
    /// publishes for this server's certificate: `match`, or `mismatch` (a wrong digest,
    /// as after a key change nobody told DNS about). Default: none. The record goes in
    /// the closest enclosing zone, and is signed if that zone is.
    #[serde(default)]
    pub dane: Option<DaneRecord>,
    /// Who speaks TLS after STARTTLS: `rustls` (the default) or `openssl-legacy`
    /// (Debian's `openssl s_server` with TLS 1.0–1.2 and legacy suites, reached through
    /// a relay). `not-tls` is refused here: `behaviour = "broken-tls"` is its mail form.
    #[serde(default = "default_tls_server")]
    pub tls: TlsServer,
}

/// The DANE TLSA record the lab publishes for a mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DaneRecord {
    /// The SHA-256 of the certificate's public key.
    Match,
    /// A digest of no key the server has.
    Mismatch,
}

impl SmtpHost {
    /// The banner text actually sent (after `220 `).
    pub fn banner_text(&self) -> String {
        match &self.banner {
            Some(b) => b.clone(),
            None => format!("{} ESMTP ward-lab", self.name),
        }
    }
}

/// Which certificate a host gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSpec {
    /// Default: `valid`.
    #[serde(default = "default_cert_status")]
    pub status: CertStatus,
    /// Default: `ecdsa-p256`.
    #[serde(default = "default_key_type")]
    pub key: KeyType,
    /// Who issues the leaf and what the server sends with it. Default: `direct`.
    #[serde(default = "default_chain_shape")]
    pub chain: ChainShape,
    /// What the server staples in answer to `status_request`. Default: `none`.
    #[serde(default = "default_ocsp")]
    pub ocsp: OcspSpec,
}

impl Default for CertSpec {
    fn default() -> Self {
        CertSpec {
            status: default_cert_status(),
            key: default_key_type(),
            chain: default_chain_shape(),
            ocsp: default_ocsp(),
        }
    }
}

/// Who issues a leaf and which certificates the server sends with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainShape {
    /// Issued by the lab root; the leaf alone is sent (the root is the trust anchor).
    Direct,
    /// Issued by the lab intermediate; leaf and intermediate are sent, in order.
    Intermediate,
    /// Issued by the lab intermediate, which the server does not send.
    MissingIntermediate,
    /// Issued by the lab intermediate; sent as leaf, root, intermediate.
    OutOfOrder,
    /// Issued by the lab intermediate; sent with it, plus an unrelated certificate.
    Extra,
}

/// What a server staples (an OCSP response made by the leaf's issuer at lab start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcspSpec {
    /// Nothing.
    None,
    /// `good`, valid for a week.
    Good,
    /// `revoked` (key compromise) ten days ago.
    Revoked,
    /// `good`, but its nextUpdate passed two days ago.
    Stale,
}

/// What is wrong (or not) with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertStatus {
    /// Issued by the lab CA for the names, valid now.
    Valid,
    /// notAfter is in the past.
    Expired,
    /// Valid, with 10 days left.
    ExpiringSoon,
    /// Issued by the lab CA, but its SAN does not cover the names.
    WrongName,
    /// Signed by its own key, not by the lab CA.
    SelfSigned,
    /// notBefore is in the future.
    NotYetValid,
}

/// The certificate's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum KeyType {
    /// RSA, 1024 bits (weak on purpose).
    #[serde(rename = "rsa-1024")]
    Rsa1024,
    /// RSA, 2048 bits.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA, 3072 bits.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA, 4096 bits.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
    /// ECDSA on P-256.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// ECDSA on P-384.
    #[serde(rename = "ecdsa-p384")]
    EcdsaP384,
    /// Ed25519.
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl KeyType {
    /// RSA modulus size in bits, `None` for non-RSA keys.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            KeyType::Rsa1024 => Some(1024),
            KeyType::Rsa2048 => Some(2048),
            KeyType::Rsa3072 => Some(3072),
            KeyType::Rsa4096 => Some(4096),
            KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::Ed25519 => None,
        }
    }
}

/// What plain HTTP does for a host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum HttpMode {
    /// `redirect-https`: 301 to `https://<host><path>`.
    RedirectHttps,
    /// `serve`: answer over plain HTTP like HTTPS does.
    Serve,
    /// `redirect-to:<absolute URL>`: 301 to the URL followed by the request path.
    RedirectTo(String),
    /// `garbage`: bytes of no protocol ([`crate::wire::GARBAGE`]) on port 80, then close.
    Garbage,
    /// `garbage-slow`: the same bytes, one a second.
    GarbageSlow,
    /// `mute`: port 80 accepts and never says a word.
    Mute,
}

impl TryFrom<String> for HttpMode {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "redirect-https" => Ok(HttpMode::RedirectHttps),
            "serve" => Ok(HttpMode::Serve),
            "garbage" => Ok(HttpMode::Garbage),
            "garbage-slow" => Ok(HttpMode::GarbageSlow),
            "mute" => Ok(HttpMode::Mute),
            other => match other.strip_prefix("redirect-to:") {
                Some(url) if is_absolute_http_url(url) => Ok(HttpMode::RedirectTo(url.to_owned())),
                Some(url) => Err(format!(
                    "redirect-to needs an absolute http:// or https:// URL without spaces or \
                     control characters, got {url:?}"
                )),
                None => Err(format!(
                    "unknown http mode {other:?}, expected \"redirect-https\", \"serve\", \
                     \"redirect-to:<absolute URL>\", \"garbage\", \"garbage-slow\" or \"mute\""
                )),
            },
        }
    }
}

fn is_absolute_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            !rest.is_empty() && !rest.starts_with('/') && url.bytes().all(|b| b.is_ascii_graphic())
        }
        None => false,
    }
}

/// How a web server behaves once it knows which host was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebBehaviour {
    /// Answer at once.
    Normal,
    /// Send the response one byte a second.
    Slow,
    /// Send a status line, then header lines forever, until the client hangs up.
    EndlessHeaders,
    /// Accept the request and never answer.
    Hang,
}

/// How a mail server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpBehaviour {
    /// A well-behaved ESMTP server.
    Normal,
    /// Close the connection at once, before any banner.
    Refuse,
    /// Send a `421` banner and close.
    Greylist,
    /// Close the connection on EHLO, without replying.
    DropAfterEhlo,
    /// Offer STARTTLS, answer `220`, then send bytes that are not TLS and close.
    BrokenTls,
    /// Offer STARTTLS, answer `220`, wait for the client's ClientHello, then answer it
    /// with bytes that are not TLS and close (a broken TLS stack behind a working SMTP).
    BrokenTlsLate,
    /// Send bytes of no protocol ([`crate::wire::GARBAGE`]) instead of a banner, and close.
    Garbage,
    /// Accept and never say a word (no banner).
    Mute,
}

/// Extra response headers, validated: names are HTTP tokens, values hold no control
/// characters. Kept in name order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    /// The headers, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl TryFrom<BTreeMap<String, String>> for Headers {
    type Error = String;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        for (name, value) in &map {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(format!("header name {name:?} is not an HTTP token"));
            }
            if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(format!(
                    "header {name:?} has a control character (CR, LF, ...) in its value"
                ));
            }
        }
        Ok(Headers(map))
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Files served as `200 text/plain`, by absolute path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct Files(BTreeMap<String, String>);

impl Files {
    /// The body served for `path`, if any.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

impl TryFrom<BTreeMap<String, String>> for Files {
    type Error = String;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        for path in map.keys() {
            if !path.starts_with('/') || !path.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "file path {path:?} must start with '/' and hold no spaces or control \
                     characters"
                ));
            }
        }
        Ok(Files(map))
    }
}

fn default_cert() -> Option<CertSpec> {
    None
}
fn default_http_mode() -> HttpMode {
    HttpMode::RedirectHttps
}
fn default_tls_server() -> TlsServer {
    TlsServer::Rustls
}
fn default_web_behaviour() -> WebBehaviour {
    WebBehaviour::Normal
}
fn default_headers() -> Headers {
    Headers(BTreeMap::new())
}
fn default_files() -> Files {
    Files(BTreeMap::new())
}
fn default_starttls() -> bool {
    false
}
fn default_smtp_behaviour() -> SmtpBehaviour {
    SmtpBehaviour::Normal
}
fn default_banner() -> Option<String> {
    None
}
fn default_cert_status() -> CertStatus {
    CertStatus::Valid
}
fn default_key_type() -> KeyType {
    KeyType::EcdsaP256
}
fn default_chain_shape() -> ChainShape {
    ChainShape::Direct
}
fn default_ocsp() -> OcspSpec {
    OcspSpec::None
}
fn default_hosts_list<T>() -> Vec<T> {
    Vec::new()
}

fn loopback_ip<'de, D: serde::Deserializer<'de>>(d: D) -> Result<IpAddr, D::Error> {
    let ip = IpAddr::deserialize(d)?;
    if ip.is_loopback() {
        Ok(ip)
    } else {
        Err(serde::de::Error::custom(format!(
            "{ip} is not a loopback address; the lab serves on 127.0.0.0/8 or ::1 only"
        )))
    }
}

fn check_host_name(name: &str) -> Result<String, String> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let ok = !lower.is_empty()
        && lower.len() <= 253
        && lower.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(lower)
    } else {
        Err(format!("{name:?} is not a host name"))
    }
}

fn host_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    check_host_name(&name).map_err(serde::de::Error::custom)
}

fn host_names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    if names.is_empty() {
        return Err(serde::de::Error::custom(
            "names must list at least one name",
        ));
    }
    names
        .iter()
        .map(|n| check_host_name(n).map_err(serde::de::Error::custom))
        .collect()
}

fn banner_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    if text.len() > 400 || text.bytes().any(|b| b.is_ascii_control()) {
        return Err(serde::de::Error::custom(
            "banner must be at most 400 bytes with no control characters",
        ));
    }
    Ok(Some(text))
}

/// The document as written, with the spans needed for errors that involve several entries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHosts {
    #[serde(default = "default_hosts_list")]
    web: Vec<toml::Spanned<WebHost>>,
    #[serde(default = "default_hosts_list")]
    smtp: Vec<toml::Spanned<SmtpHost>>,
}

/// A `hosts.toml` that could not be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {kind}")]
pub struct HostsError {
    /// The name given to [`parse_hosts`] (usually a path).
    pub source_name: String,
    /// 1-based line of the offending text.
    pub line: usize,
    /// 1-based column (in characters) of the offending text.
    pub column: usize,
    /// What is wrong.
    pub kind: HostsErrorKind,
}

/// What is wrong with a `hosts.toml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostsErrorKind {
    /// Not TOML, an unknown key, a missing key, or a value of the wrong kind; the TOML
    /// reader's message says which.
    #[error("{0}")]
    Invalid(String),
    /// One name listed twice among the web hosts of one address.
    #[error("{name} is served twice on {ip}")]
    NameServedTwice {
        /// The name.
        name: String,
        /// The address.
        ip: IpAddr,
    },
    /// Two mail servers on one address (the lab runs one per address).
    #[error("two mail servers on {ip}; the lab runs one per address")]
    TwoMailServers {
        /// The address.
        ip: IpAddr,
    },
    /// `starttls = true` without a `cert` (and not `broken-tls` or `broken-tls-late`).
    #[error("{name}: starttls = true needs a cert")]
    StartTlsWithoutCert {
        /// The mail server.
        name: String,
    },
}

impl HostsError {
    fn at(source_name: &str, text: &str, span: Option<Range<usize>>, kind: HostsErrorKind) -> Self {
        let offset = span.map_or(0, |s| s.start.min(text.len()));
        let (line, column) = line_column(text, offset);
        HostsError {
            source_name: source_name.to_owned(),
            line,
            column,
            kind,
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Parses `hosts.toml`. `source_name` names the input in errors.
pub fn parse_hosts(source_name: &str, text: &str) -> Result<Hosts, HostsError> {
    let raw: RawHosts = toml::from_str(text).map_err(|e| {
        HostsError::at(
            source_name,
            text,
            e.span(),
            HostsErrorKind::Invalid(e.message().to_owned()),
        )
    })?;

    let mut served = HashSet::new();
    for host in &raw.web {
        for name in &host.get_ref().names {
            if !served.insert((host.get_ref().ip, name.clone())) {
                return Err(HostsError::at(
                    source_name,
                    text,
                    Some(host.span()),
                    HostsErrorKind::NameServedTwice {
                        name: name.clone(),
                        ip: host.get_ref().ip,
                    },
                ));
            }
        }
    }
    let mut mail_ips = HashSet::new();
    for host in &raw.smtp {
        let h = host.get_ref();
        if !mail_ips.insert(h.ip) {
            return Err(HostsError::at(
                source_name,
                text,
                Some(host.span()),
                HostsErrorKind::TwoMailServers { ip: h.ip },
            ));
        }
        if h.starttls
            && h.cert.is_none()
            && !matches!(
                h.behaviour,
                SmtpBehaviour::BrokenTls
                    | SmtpBehaviour::BrokenTlsLate
                    | SmtpBehaviour::Garbage
                    | SmtpBehaviour::Mute
            )
        {
            return Err(HostsError::at(
                source_name,
                text,
                Some(host.span()),
                HostsErrorKind::StartTlsWithoutCert {
                    name: h.name.clone(),
                },
            ));
        }
        if h.tls.speaks_no_tls() {
            return Err(HostsError::at(
                source_name,
                text,
                Some(host.span()),
                HostsErrorKind::Invalid(format!(
                    "{}: tls = \"not-tls\", \"garbage\", \"garbage-slow\" and \"mute\" are for web hosts; a mail server that breaks TLS is behaviour = \"broken-tls\", \"garbage\" or \"mute\"",
                    h.name
                )),
            ));
        }
    }
    Ok(Hosts {
        web: raw.web.into_iter().map(toml::Spanned::into_inner).collect(),
        smtp: raw
            .smtp
            .into_iter()
            .map(toml::Spanned::into_inner)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[web]]
names = ["www.example-party.org.uk", "Example-Party.org.uk"]
ip = "127.0.10.1"
cert = { status = "valid", key = "ecdsa-p256" }
http = "redirect-https"
behaviour = "normal"
[web.headers]
"Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@example-party.org.uk\nExpires: 2027-06-01T00:00:00Z\n"

[[web]]
names = ["old.example-party.org.uk"]
ip = "127.0.10.2"
http = "redirect-to:https://www.example-party.org.uk"

[[smtp]]
name = "mail.example-party.org.uk"
ip = "127.0.20.1"
starttls = true
cert = { status = "valid", key = "rsa-2048" }
behaviour = "normal"
banner = "mail.example-party.org.uk ESMTP"
"#;

    #[test]
    fn example_parses() {
        let hosts = parse_hosts("hosts.toml", EXAMPLE).expect("example parses");
        assert_eq!(hosts.web.len(), 2);
        let www = &hosts.web[0];
        assert_eq!(
            www.names,
            vec!["www.example-party.org.uk", "example-party.org.uk"]
        );
        assert_eq!(
            www.cert,
            Some(CertSpec {
                status: CertStatus::Valid,
                key: KeyType::EcdsaP256,
                ..CertSpec::default()
            })
        );
        assert_eq!(
            www.headers.iter().collect::<Vec<_>>(),
            vec![(
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains"
            )]
        );
        assert!(
            www.files
                .get("/.well-known/security.txt")
                .is_some_and(|b| b.starts_with("Contact:"))
        );
        let old = &hosts.web[1];
        assert_eq!(old.cert, None);
        assert_eq!(
            old.http,
            HttpMode::RedirectTo("https://www.example-party.org.uk".into())
        );
        assert_eq!(old.behaviour, WebBehaviour::Normal);
        let mail = &hosts.smtp[0];
        assert!(mail.starttls);
        assert_eq!(mail.banner_text(), "mail.example-party.org.uk ESMTP");
    }

    #[test]
    fn defaults_come_from_default_fns() {
        let hosts = parse_hosts(
            "t",
            "[[web]]\nnames=[\"a.test\"]\nip=\"127.0.0.1\"\ncert={}\n[[smtp]]\nname=\"m.test\"\nip=\"127.0.0.2\"\n",
        )
        .expect("minimal parses");
        let w = &hosts.web[0];
        assert_eq!(w.http, default_http_mode());
        assert_eq!(w.behaviour, default_web_behaviour());
        assert_eq!(w.headers, default_headers());
        assert_eq!(w.files, default_files());
        assert_eq!(
            w.cert,
            Some(CertSpec {
                status: default_cert_status(),
                key: default_key_type(),
                chain: default_chain_shape(),
                ocsp: default_ocsp(),
            })
        );
        let m = &hosts.smtp[0];
        assert_eq!(m.starttls, default_starttls());
        assert_eq!(m.behaviour, default_smtp_behaviour());
        assert_eq!(m.banner, default_banner());
        assert_eq!(m.banner_text(), "m.test ESMTP ward-lab");
        assert_eq!(
            parse_hosts("t", ""),
            Ok(Hosts {
                web: vec![],
                smtp: vec![]
            })
        );
    }

    fn err(text: &str) -> HostsError {
        match parse_hosts("hosts.toml", text) {
            Ok(h) => panic!("expected an error, parsed {h:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn unknown_key_names_itself_with_position() {
        let e = err("[[web]]\nnames = [\"a.test\"]\nip = \"127.0.0.1\"\n  behavour = \"slow\"\n");
        assert_eq!((e.line, e.column), (4, 3), "{e}");
        assert!(e.kind.to_string().contains("behavour"), "{e}");
        assert!(e.to_string().starts_with("hosts.toml:4:3: "), "{e}");
    }

    #[test]
    fn bad_enum_value_points_at_value() {
        let e = err(
            "[[web]]\nnames = [\"a.test\"]\nip = \"127.0.0.1\"\ncert = { status = \"expird\" }\n",
        );
        assert_eq!((e.line, e.column), (4, 19), "{e}");
        assert!(e.kind.to_string().contains("expird"), "{e}");
    }

    #[test]
    fn bad_http_mode_points_at_value() {
        let e = err(
            "[[web]]\nnames = [\"a.test\"]\nip = \"127.0.0.1\"\nhttp = \"redirect-to:/relative\"\n",
        );
        assert_eq!((e.line, e.column), (4, 8), "{e}");
        assert!(e.kind.to_string().contains("absolute"), "{e}");
    }

    #[test]
    fn non_loopback_ip_is_refused() {
        let e = err("[[smtp]]\nname = \"m.test\"\nip = \"192.0.2.1\"\n");
        assert_eq!((e.line, e.column), (3, 6), "{e}");
        assert!(e.kind.to_string().contains("loopback"), "{e}");
    }

    #[test]
    fn header_injection_is_refused() {
        let e = err(
            "[[web]]\nnames = [\"a.test\"]\nip = \"127.0.0.1\"\n[web.headers]\n\"X-A\" = \"1\\r\\nSet-Cookie: x=1\"\n",
        );
        assert_eq!((e.line, e.column), (4, 1), "at [web.headers]: {e}");
        assert!(e.kind.to_string().contains("control character"), "{e}");
    }

    #[test]
    fn duplicate_name_on_one_ip_points_at_second_entry() {
        let e = err(
            "[[web]]\nnames = [\"a.test\"]\nip = \"127.0.0.1\"\n[[web]]\nnames = [\"A.test\"]\nip = \"127.0.0.1\"\n",
        );
        assert_eq!((e.line, e.column), (4, 1), "at the second [[web]]: {e}");
        assert_eq!(
            e.kind,
            HostsErrorKind::NameServedTwice {
                name: "a.test".into(),
                ip: "127.0.0.1".parse().expect("ip")
            }
        );
    }

    #[test]
    fn starttls_without_cert_is_refused() {
        let e = err("[[smtp]]\nname = \"m.test\"\nip = \"127.0.0.1\"\nstarttls = true\n");
        assert_eq!((e.line, e.column), (1, 1), "at [[smtp]]: {e}");
        assert_eq!(
            e.kind,
            HostsErrorKind::StartTlsWithoutCert {
                name: "m.test".into()
            }
        );
    }

    #[test]
    fn two_mail_servers_on_one_ip_are_refused() {
        let e = err(
            "[[smtp]]\nname = \"a.test\"\nip = \"127.0.0.1\"\n\n[[smtp]]\nname = \"b.test\"\nip = \"127.0.0.1\"\n",
        );
        assert_eq!((e.line, e.column), (5, 1), "at the second [[smtp]]: {e}");
        assert_eq!(
            e.kind,
            HostsErrorKind::TwoMailServers {
                ip: "127.0.0.1".parse().expect("ip")
            }
        );
    }

    #[test]
    fn ports_that_speak_no_protocol() {
        let hosts = parse_hosts(
            "t",
            "[[web]]\nnames=[\"a.test\"]\nip=\"127.0.0.1\"\ntls=\"garbage-slow\"\nhttp=\"mute\"\n\
             [[smtp]]\nname=\"m.test\"\nip=\"127.0.0.2\"\nstarttls=true\nbehaviour=\"garbage\"\n",
        )
        .expect("parses without certificates");
        assert_eq!(hosts.web[0].tls, TlsServer::GarbageSlow);
        assert!(hosts.web[0].tls.speaks_no_tls());
        assert_eq!(hosts.web[0].http, HttpMode::Mute);
        assert_eq!(hosts.smtp[0].behaviour, SmtpBehaviour::Garbage);
        let e = err("[[smtp]]\nname = \"m.test\"\nip = \"127.0.0.1\"\ntls = \"mute\"\n");
        assert!(e.kind.to_string().contains("are for web hosts"), "{e}");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
