//! Reads the server's first flight: ServerHello (HelloRetryRequest included), and below
//! TLS 1.3 the Certificate, ServerKeyExchange and ServerHelloDone that follow it; or an
//! alert instead.
//!
//! [`FlightReader`] is fed bytes as they arrive and holds an explicit state (STYLE T1):
//! each state is "what we expect next" and owns only what has been learnt so far; a
//! message the state does not expect ends the read with [`FlightError::Unexpected`],
//! naming what was expected. No socket here, so the whole thing is tested on byte
//! transcripts.
//!
//! Bounds: a record may not declare more than [`MAX_RECORD`] bytes, a handshake message
//! more than [`MAX_MESSAGE`], and the flight in total may not exceed [`MAX_FLIGHT`] (a
//! 10 MB certificate chain is refused after 256 KiB, without buffering the rest).
//! Error offsets count from the first byte the server sent for record-layer errors,
//! and from the first handshake byte for errors inside handshake messages.

use super::codec::{DecodeError, Reader};
use ward_model::tls::{AlertDescription, NamedGroup, ProtocolVersion};

/// Largest record ward accepts: 2^14 plus the 2048 bytes of expansion TLS allows.
pub const MAX_RECORD: usize = 16384 + 2048;
/// Largest single handshake message (a Certificate with a long chain fits).
pub const MAX_MESSAGE: usize = 128 * 1024;
/// Most bytes read for one first flight.
pub const MAX_FLIGHT: usize = 256 * 1024;

/// SHA-256("HelloRetryRequest"): the ServerHello.random that marks a HelloRetryRequest
/// (RFC 8446 §4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;

const HS_SERVER_HELLO: u8 = 2;
const HS_CERTIFICATE: u8 = 11;
const HS_SERVER_KEY_EXCHANGE: u8 = 12;
const HS_CERTIFICATE_REQUEST: u8 = 13;
const HS_SERVER_HELLO_DONE: u8 = 14;
const HS_CERTIFICATE_STATUS: u8 = 22;

/// How much of the flight to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Stop at the ServerHello.
    ServerHello,
    /// Below TLS 1.3, read on to ServerHelloDone (certificate and key exchange).
    FirstFlight,
}

/// How the suite's key exchange reads a ServerKeyExchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KxKind {
    /// ECDHE: a named curve.
    Ecdhe,
    /// Finite-field DHE: p, g, Ys.
    Dhe,
    /// Anything else: the message is skipped.
    Other,
}

/// The parts of a ServerHello the engine uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version: supported_versions when present, else legacy_version.
    pub version: ProtocolVersion,
    /// The chosen cipher suite.
    pub suite: u16,
    /// This is a HelloRetryRequest.
    pub retry_request: bool,
    /// The group named in key_share (TLS 1.3).
    pub group: Option<NamedGroup>,
}

/// What the ServerKeyExchange said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchange {
    /// An ECDHE named group.
    Group(NamedGroup),
    /// A finite-field prime of this many bits.
    DhBits(u32),
}

/// A first flight as far as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight {
    /// The ServerHello.
    pub hello: ServerHello,
    /// The Certificate message's chain (DER), leaf first; empty in TLS 1.3.
    pub certs: Vec<Vec<u8>>,
    /// The ServerKeyExchange, if read and understood.
    pub kx: Option<KeyExchange>,
    /// The flight ended before ServerHelloDone (only meaningful for [`Want::FirstFlight`]).
    pub partial: bool,
    /// The OCSP response of a CertificateStatus message (RFC 6066 §8), if one came.
    pub ocsp: Option<Vec<u8>>,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A ServerHello and what followed.
    Hello(Flight),
    /// An alert before any ServerHello.
    Alert {
        /// Level byte.
        level: u8,
        /// Description.
        description: AlertDescription,
    },
}

/// Why a flight could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightError {
    /// Bytes that do not decode.
    Decode(DecodeError),
    /// A well-formed message the current state did not expect.
    Unexpected {
        /// What the state was waiting for.
        expected: &'static str,
        /// Record content type, or handshake type for handshake messages.
        got: u8,
        /// Whether `got` is a handshake type (else a content type).
        handshake: bool,
    },
    /// The flight grew beyond [`MAX_FLIGHT`].
    FlightTooLarge {
        /// Bytes received so far.
        received: usize,
    },
}

impl From<DecodeError> for FlightError {
    fn from(e: DecodeError) -> Self {
        FlightError::Decode(e)
    }
}

impl std::fmt::Display for FlightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlightError::Decode(e) => e.fmt(f),
            FlightError::Unexpected {
                expected,
                got,
                handshake,
            } => {
                let kind = if *handshake {
                    "handshake message"
                } else {
                    "record"
                };
                write!(f, "expected {expected}, got {kind} type {got}")
            }
            FlightError::FlightTooLarge { received } => {
                write!(
                    f,
                    "first flight exceeded {MAX_FLIGHT} bytes ({received} read)"
                )
            }
        }
    }
}

/// What the reader waits for next. Each state holds what has been learnt so far.
#[derive(Debug)]
enum State {
    ExpectServerHello,
    ExpectCertificate(ServerHello),
    ExpectKeyExchange(ServerHello, Vec<Vec<u8>>),
    ExpectDone(ServerHello, Vec<Vec<u8>>, Option<KeyExchange>),
    /// Finished or failed; feeding more is a no-op.
    Over,
}

enum Step {
    Next(State),
    Done(Flight),
}

/// Incremental first-flight reader. Feed bytes with [`FlightReader::feed`] until it
/// returns `Some`; on end of stream call [`FlightReader::end`].
#[derive(Debug)]
pub struct FlightReader {
    want: Want,
    kx_kind: fn(u16) -> KxKind,
    raw: Vec<u8>,
    /// Stream offset of `raw[0]`.
    raw_base: usize,
    hs: Vec<u8>,
    /// Handshake-stream offset of `hs[0]`.
    hs_base: usize,
    received: usize,
    state: State,
    /// The stapled OCSP response, once a CertificateStatus has been read.
    ocsp: Option<Vec<u8>>,
}

impl FlightReader {
    /// A reader; `kx_kind` says how a suite's ServerKeyExchange is laid out.
    pub fn new(want: Want, kx_kind: fn(u16) -> KxKind) -> Self {
        FlightReader {
            want,
            kx_kind,
            raw: Vec::new(),
            raw_base: 0,
            hs: Vec::new(),
            hs_base: 0,
            received: 0,
            state: State::ExpectServerHello,
            ocsp: None,
        }
    }

    /// Feeds bytes just received. `Ok(Some(reply))` when the answer is complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Reply>, FlightError> {
        if matches!(self.state, State::Over) {
            return Ok(None);
        }
        self.received = self.received.saturating_add(bytes.len());
        if self.received > MAX_FLIGHT {
            self.state = State::Over;
            return Err(FlightError::FlightTooLarge {
                received: self.received,
            });
        }
        self.raw.extend_from_slice(bytes);
        let out = self.records();
        if !matches!(out, Ok(None)) {
            self.state = State::Over;
        }
        out
    }

    /// The stream ended (or the time ran out): what was read, if it amounts to an
    /// answer. A flight cut short after its ServerHello still proves the version and
    /// suite; it is returned with `partial` set.
    pub fn end(mut self) -> Option<Reply> {
        // A handshake record cut short may still hold a whole ServerHello.
        if matches!(self.state, State::ExpectServerHello)
            && self.raw.first() == Some(&CT_HANDSHAKE)
            && let Some(partial) = self.raw.get(5..)
        {
            let partial = partial.to_vec();
            self.raw.clear();
            self.hs.extend_from_slice(&partial);
            if let Ok(Some(reply)) = self.messages() {
                return Some(reply);
            }
        }
        let (hello, certs, kx) = match self.state {
            State::ExpectServerHello | State::Over => return None,
            State::ExpectCertificate(h) => (h, Vec::new(), None),
            State::ExpectKeyExchange(h, c) => (h, c, None),
            State::ExpectDone(h, c, k) => (h, c, k),
        };
        Some(Reply::Hello(Flight {
            hello,
            certs,
            kx,
            partial: true,
            ocsp: self.ocsp,
        }))
    }

    /// Whether a ServerHello has been read.
    pub fn has_hello(&self) -> bool {
        !matches!(self.state, State::ExpectServerHello | State::Over)
    }

    fn records(&mut self) -> Result<Option<Reply>, FlightError> {
        loop {
            let mut r = Reader::new(&self.raw, self.raw_base);
            let Ok(ct) = r.u8("record type") else {
                return Ok(None);
            };
            let ct = ct.unverified();
            let (Ok(_version), Ok(len)) = (r.u16("record version"), r.u16("record length")) else {
                return Ok(None);
            };
            if ct & 0x80 != 0 {
                // An SSL 2.0 style header: not something ward offered.
                return Err(FlightError::Unexpected {
                    expected: "a TLS record",
                    got: ct,
                    handshake: false,
                });
            }
            // The content type decides before the length does: an HTTP or SMTP reply
            // is "not TLS", not "a record too large".
            if !(CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(&ct) {
                return Err(FlightError::Unexpected {
                    expected: self.expected(),
                    got: ct,
                    handshake: false,
                });
            }
            let Some(len) = len.verify(|l| usize::from(l) <= MAX_RECORD) else {
                return Err(DecodeError::TooLarge {
                    what: "record",
                    at: self.raw_base + 3,
                    declared: usize::from(len.unverified()),
                    limit: MAX_RECORD,
                }
                .into());
            };
            let len = usize::from(len);
            if r.left() < len {
                return Ok(None);
            }
            let body_at = r.offset();
            let body = r.take(len, "record body")?.to_vec();
            let consumed = 5 + len;
            self.raw.drain(..consumed.min(self.raw.len()));
            self.raw_base += consumed;

            match ct {
                CT_ALERT => {
                    let mut a = Reader::new(&body, body_at);
                    let level = a.u8("alert level")?.unverified();
                    let description = AlertDescription(a.u8("alert description")?.unverified());
                    return Ok(Some(Reply::Alert { level, description }));
                }
                CT_HANDSHAKE => {
                    self.hs.extend_from_slice(&body);
                    if let Some(reply) = self.messages()? {
                        return Ok(Some(reply));
                    }
                }
                CT_CHANGE_CIPHER_SPEC if self.has_hello() => {}
                CT_APPLICATION_DATA if self.has_hello() => {
                    return Ok(self.take_partial());
                }
                other => {
                    return Err(FlightError::Unexpected {
                        expected: self.expected(),
                        got: other,
                        handshake: false,
                    });
                }
            }
        }
    }

    fn take_partial(&mut self) -> Option<Reply> {
        let state = std::mem::replace(&mut self.state, State::Over);
        let me = FlightReader {
            want: self.want,
            kx_kind: self.kx_kind,
            raw: Vec::new(),
            raw_base: 0,
            hs: Vec::new(),
            hs_base: 0,
            received: 0,
            state,
            ocsp: self.ocsp.take(),
        };
        me.end()
    }

    fn expected(&self) -> &'static str {
        match self.state {
            State::ExpectServerHello => "ServerHello",
            State::ExpectCertificate(_) => "Certificate",
            State::ExpectKeyExchange(..) => "ServerKeyExchange or ServerHelloDone",
            State::ExpectDone(..) => "ServerHelloDone",
            State::Over => "nothing",
        }
    }

    fn messages(&mut self) -> Result<Option<Reply>, FlightError> {
        loop {
            let mut r = Reader::new(&self.hs, self.hs_base);
            let (Ok(kind), Ok(len)) = (r.u8("handshake type"), r.u24("handshake length")) else {
                return Ok(None);
            };
            let kind = kind.unverified();
            let Some(len) = len.verify(|l| l as usize <= MAX_MESSAGE) else {
                return Err(DecodeError::TooLarge {
                    what: "handshake message",
                    at: self.hs_base + 1,
                    declared: len.unverified() as usize,
                    limit: MAX_MESSAGE,
                }
                .into());
            };
            let len = len as usize;
            if r.left() < len {
                return Ok(None);
            }
            let body = r.take(len, "handshake body")?;
            if kind == HS_CERTIFICATE_STATUS && matches!(self.state, State::ExpectKeyExchange(..)) {
                self.ocsp = Some(parse_certificate_status(Reader::new(
                    body,
                    self.hs_base + 4,
                ))?);
            }
            let body = Reader::new(body, self.hs_base + 4);
            let state = std::mem::replace(&mut self.state, State::Over);
            let step = state.handle(kind, body, self.want, self.kx_kind)?;
            let consumed = 4 + len;
            self.hs.drain(..consumed.min(self.hs.len()));
            self.hs_base += consumed;
            match step {
                Step::Done(mut flight) => {
                    flight.ocsp = self.ocsp.take();
                    return Ok(Some(Reply::Hello(flight)));
                }
                Step::Next(next) => self.state = next,
            }
        }
    }
}

impl State {
    fn handle(
        self,
        kind: u8,
        body: Reader<'_>,
        want: Want,
        kx_kind: fn(u16) -> KxKind,
    ) -> Result<Step, FlightError> {
        match (self, kind) {
            (State::ExpectServerHello, HS_SERVER_HELLO) => {
                let hello = parse_server_hello(body)?;
                if want == Want::ServerHello
                    || hello.retry_request
                    || hello.version >= ProtocolVersion::TLS13
                {
                    Ok(Step::Done(Flight {
                        hello,
                        certs: Vec::new(),
                        kx: None,
                        partial: false,
                        ocsp: None,
                    }))
                } else {
                    Ok(Step::Next(State::ExpectCertificate(hello)))
                }
            }
            (State::ExpectCertificate(h), HS_CERTIFICATE) => {
                let certs = parse_certificate(body)?;
                Ok(Step::Next(State::ExpectKeyExchange(h, certs)))
            }
            // Anonymous and PSK suites send no Certificate.
            (State::ExpectCertificate(h), HS_SERVER_KEY_EXCHANGE) => {
                let kx = parse_key_exchange(body, kx_kind(h.suite))?;
                Ok(Step::Next(State::ExpectDone(h, Vec::new(), kx)))
            }
            (State::ExpectCertificate(h), HS_SERVER_HELLO_DONE) => Ok(Step::Done(Flight {
                hello: h,
                certs: Vec::new(),
                kx: None,
                partial: false,
                ocsp: None,
            })),
            (State::ExpectKeyExchange(h, c), HS_CERTIFICATE_STATUS) => {
                Ok(Step::Next(State::ExpectKeyExchange(h, c)))
            }
            (State::ExpectKeyExchange(h, c), HS_SERVER_KEY_EXCHANGE) => {
                let kx = parse_key_exchange(body, kx_kind(h.suite))?;
                Ok(Step::Next(State::ExpectDone(h, c, kx)))
            }
            (State::ExpectKeyExchange(h, c), HS_CERTIFICATE_REQUEST) => {
                Ok(Step::Next(State::ExpectDone(h, c, None)))
            }
            (State::ExpectKeyExchange(h, c), HS_SERVER_HELLO_DONE) => Ok(Step::Done(Flight {
                hello: h,
                certs: c,
                kx: None,
                partial: false,
                ocsp: None,
            })),
            (State::ExpectDone(h, c, kx), HS_SERVER_HELLO_DONE) => Ok(Step::Done(Flight {
                hello: h,
                certs: c,
                kx,
                partial: false,
                ocsp: None,
            })),
            (State::ExpectDone(h, c, k), HS_CERTIFICATE_REQUEST) => {
                Ok(Step::Next(State::ExpectDone(h, c, k)))
            }
            (state, got) => Err(FlightError::Unexpected {
                expected: match state {
                    State::ExpectServerHello => "ServerHello",
                    State::ExpectCertificate(_) => "Certificate",
                    State::ExpectKeyExchange(..) => "ServerKeyExchange or ServerHelloDone",
                    State::ExpectDone(..) => "ServerHelloDone",
                    State::Over => "nothing",
                },
                got,
                handshake: true,
            }),
        }
    }
}

/// Parses a CertificateStatus body (RFC 6066 §8): `status_type` 1 (ocsp), then the
/// DER OCSPResponse with a 24-bit length.
pub fn parse_certificate_status(mut r: Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let at = r.offset();
    let kind = r.u8("status_type")?.unverified();
    if kind != 1 {
        return Err(DecodeError::Invalid {
            what: "status_type",
            at,
            value: u32::from(kind),
        });
    }
    let mut resp = r.sub_u24("ocsp_response", MAX_MESSAGE)?;
    let out = resp.rest().to_vec();
    r.finish("CertificateStatus")?;
    Ok(out)
}

/// Parses a ServerHello body (RFC 8446 §4.1.3; RFC 5246 §7.4.1.3).
pub fn parse_server_hello(mut r: Reader<'_>) -> Result<ServerHello, DecodeError> {
    let legacy = ProtocolVersion(r.u16("server_version")?.unverified());
    let random = r.take(32, "random")?;
    let retry_request = random == HRR_RANDOM;
    let sid_at = r.offset();
    let sid = r.sub_u8("session_id")?;
    if sid.left() > 32 {
        return Err(DecodeError::TooLarge {
            what: "session_id",
            at: sid_at,
            declared: sid.left(),
            limit: 32,
        });
    }
    let suite = r.u16("cipher_suite")?.unverified();
    let _compression = r.u8("compression_method")?;
    let mut version = legacy;
    let mut group = None;
    // Extensions are optional below TLS 1.3.
    if !r.is_empty() {
        let mut exts = r.sub_u16("extensions")?;
        while !exts.is_empty() {
            let kind = exts.u16("extension type")?.unverified();
            let mut body = exts.sub_u16("extension")?;
            match kind {
                43 => {
                    let v = body.u16("selected_version")?.unverified();
                    body.finish("supported_versions")?;
                    version = ProtocolVersion(v);
                }
                51 => {
                    group = Some(NamedGroup(body.u16("key_share group")?.unverified()));
                    if !retry_request {
                        let key = body.sub_u16("key_exchange")?;
                        if key.is_empty() {
                            return Err(DecodeError::Invalid {
                                what: "key_exchange length",
                                at: key.offset(),
                                value: 0,
                            });
                        }
                    }
                    body.finish("key_share")?;
                }
                _ => {
                    body.rest();
                }
            }
        }
    }
    r.finish("ServerHello")?;
    Ok(ServerHello {
        version,
        suite,
        retry_request,
        group,
    })
}

/// Parses a pre-1.3 Certificate message body: a u24 list of u24 DER certificates.
pub fn parse_certificate(mut r: Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut list = r.sub_u24("certificate_list", MAX_MESSAGE)?;
    r.finish("Certificate")?;
    let mut certs = Vec::new();
    while !list.is_empty() {
        let mut cert = list.sub_u24("certificate", MAX_MESSAGE)?;
        if cert.is_empty() {
            return Err(DecodeError::Invalid {
                what: "certificate length",
                at: cert.offset(),
                value: 0,
            });
        }
        certs.push(cert.rest().to_vec());
    }
    Ok(certs)
}

/// Reads the parameters ward reports from a ServerKeyExchange: the ECDHE named group,
/// or the bit length of the DHE prime. The signature that follows is not checked:
/// nothing is trusted on the strength of it.
pub fn parse_key_exchange(
    mut r: Reader<'_>,
    kind: KxKind,
) -> Result<Option<KeyExchange>, DecodeError> {
    match kind {
        KxKind::Ecdhe => {
            let at = r.offset();
            let curve_type = r.u8("curve_type")?.unverified();
            if curve_type != 3 {
                return Err(DecodeError::Invalid {
                    what: "curve_type",
                    at,
                    value: u32::from(curve_type),
                });
            }
            let group = NamedGroup(r.u16("named_curve")?.unverified());
            Ok(Some(KeyExchange::Group(group)))
        }
        KxKind::Dhe => {
            let mut p = r.sub_u16("dh_p")?;
            let p = p.rest();
            let first = p.iter().position(|&b| b != 0);
            let bits = match first {
                None => 0,
                Some(i) => {
                    let lead = p.get(i).copied().unwrap_or(0);
                    ((p.len() - i) as u32) * 8 - lead.leading_zeros()
                }
            };
            Ok(Some(KeyExchange::DhBits(bits)))
        }
        KxKind::Other => Ok(None),
    }
}
