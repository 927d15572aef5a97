//! A small, strict DNS client: one question, one outcome in one of three states.
//!
//! ward writes its own stub instead of using a caching resolver library because it
//! needs what such libraries hide: the AA bit (is this nameserver authoritative?), the
//! difference between NXDOMAIN and NODATA, and every failure kept apart (timeout,
//! SERVFAIL, REFUSED, a truncated reply whose TCP retry failed). Wire encoding and
//! decoding come from hickory-proto.

use crate::{Net, guard::Blocked};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};
use ward_model::{DnsFailure, DnsLookup, DnsOutcome, DnsRecord};

/// Largest UDP reply we advertise and accept (the DNS flag day 2020 value).
const UDP_PAYLOAD: u16 = 1232;
/// Largest TCP reply accepted (the protocol maximum).
const TCP_MAX: usize = 65_535;
/// Most records of one answer turned into observations; a hostile server may send more.
pub const MAX_RECORDS: usize = 512;
/// Longest text kept of one record's data.
const MAX_DATA_CHARS: usize = 8192;

impl Net {
    /// Asks the configured resolver (recursion desired).
    ///
    /// Answers (records, NXDOMAIN, NODATA) are remembered for the life of this `Net`, so
    /// the nameservers, SPF includes and mail hosts that hundreds of branches share are
    /// asked about once per scan, not once per branch. Failures are not remembered: the
    /// next asker tries again.
    pub async fn resolve(&self, name: &str, rtype: &str) -> DnsLookup {
        let name = normalise(name);
        let key = (name.clone(), rtype.to_owned());
        let outcome = match self.inner.answers.get(&key) {
            Some(hit) => hit,
            None => {
                let server = self.config().resolver;
                let outcome = self.exchange(server, &name, rtype, true).await;
                if outcome.failure().is_none() {
                    self.inner.answers.put(key, outcome.clone());
                }
                outcome
            }
        };
        DnsLookup {
            name,
            rtype: rtype.to_owned(),
            server: None,
            outcome,
        }
    }

    /// Asks the nameserver at `ip` directly, without recursion, as a check of whether
    /// it answers authoritatively. The address passes the private-address guard first;
    /// a refused address yields [`DnsFailure::Blocked`] and nothing is sent.
    pub async fn ask_nameserver(&self, ip: IpAddr, name: &str, rtype: &str) -> DnsLookup {
        let outcome = match self.target(ip, 53) {
            Ok(addr) => self.exchange(addr.addr(), name, rtype, false).await,
            Err(Blocked { addr, .. }) => DnsOutcome::Failed {
                failure: DnsFailure::Blocked {
                    addr: addr.ip().to_string(),
                },
            },
        };
        DnsLookup {
            name: normalise(name),
            rtype: rtype.to_owned(),
            server: Some(ip.to_string()),
            outcome,
        }
    }

    /// Asks the configured resolver a DNSSEC question: DO set (send signatures) and CD
    /// set (do not validate), so that a validating resolver hands over the data of a
    /// bogus zone instead of SERVFAIL and ward can say which link is broken. The answer
    /// section comes back whole, RRSIGs included, at most 512 records.
    ///
    /// Replies are remembered for the life of this `Net` like [`Net::resolve`]'s, so the
    /// root and top-level keys are fetched once per scan; failures are not remembered.
    pub async fn resolve_signed(
        &self,
        name: &str,
        rtype: &str,
    ) -> Result<Arc<SignedReply>, DnsFailure> {
        let name = normalise(name);
        let key = (name.clone(), rtype.to_owned());
        if let Some(hit) = self.inner.signed.get(&key) {
            return Ok(hit);
        }
        let server = self.config().resolver;
        let (reply, qname, qtype) = self
            .exchange_message(server, &name, rtype, true, true)
            .await?;
        let reply = Arc::new(signed_reply(&reply, &qname, qtype)?);
        self.inner.signed.put(key, reply.clone());
        Ok(reply)
    }

    async fn exchange(
        &self,
        server: SocketAddr,
        name: &str,
        rtype: &str,
        recurse: bool,
    ) -> DnsOutcome {
        match self
            .exchange_message(server, name, rtype, recurse, false)
            .await
        {
            Ok((reply, _, _)) if recurse && is_referral(&reply) => {
                self.inner
                    .resolver_refers
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                DnsOutcome::Failed {
                    failure: DnsFailure::NotRecursive,
                }
            }
            Ok((reply, qname, qtype)) => interpret(&reply, &qname, qtype),
            Err(failure) => DnsOutcome::Failed { failure },
        }
    }

    /// Whether the resolver answered a question with a referral (it does not recurse):
    /// said once at the top of a scan, since every answer it gave is then unknown.
    pub fn resolver_does_not_recurse(&self) -> bool {
        self.inner
            .resolver_refers
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn exchange_message(
        &self,
        server: SocketAddr,
        name: &str,
        rtype: &str,
        recurse: bool,
        dnssec: bool,
    ) -> Result<(Message, Name, RecordType), DnsFailure> {
        let failed = Err;
        let qname = match parse_name(name) {
            Ok(n) => n,
            Err(e) => {
                return failed(DnsFailure::Malformed {
                    detail: format!("bad name `{name}`: {e}"),
                });
            }
        };
        let Ok(qtype) = RecordType::from_str(rtype) else {
            return failed(DnsFailure::Malformed {
                detail: format!("unknown record type `{rtype}`"),
            });
        };
        // The per-host budget protects scan targets; the user's own resolver is built for
        // load and only shares the global limit.
        let (_global, _host) = if server == self.config().resolver {
            (Some(self.global_permit().await), None)
        } else {
            (None, Some(self.permit(server.ip()).await))
        };
        let cfg = self.config();
        let out_of_time = |spent: crate::budget::Spent| DnsFailure::OutOfTime {
            budget_secs: spent.limit_secs,
        };
        let mut attempts = 0;
        let mut last_failure = DnsFailure::Timeout { attempts: 0 };
        while attempts < cfg.dns_attempts {
            crate::budget::check().map_err(out_of_time)?;
            attempts += 1;
            let query = Question::new(&qname, qtype, recurse, dnssec);
            // The wait follows the server's measured round trip, doubling on each
            // resend (see `rtt`), and never runs past the domain's budget.
            let sent = Instant::now();
            let own = sent + self.inner.rtt.wait(server.ip(), attempts, cfg.dns_timeout);
            let deadline = crate::budget::cap(own);
            match udp_exchange(&self.inner.udp_pool, server, &query, deadline).await {
                Ok(reply) if reply.metadata.truncation => {
                    self.inner.rtt.observe(server.ip(), sent.elapsed());
                    let own = Instant::now() + cfg.dns_timeout;
                    return match tcp_exchange(server, &query, crate::budget::cap(own)).await {
                        Ok(reply) => Ok((reply, qname, qtype)),
                        Err(_) => {
                            crate::budget::ended_by_budget(own).map_err(out_of_time)?;
                            failed(DnsFailure::Truncated)
                        }
                    };
                }
                Ok(reply) => {
                    self.inner.rtt.observe(server.ip(), sent.elapsed());
                    return Ok((reply, qname, qtype));
                }
                Err(ExchangeError::Timeout) => {
                    crate::budget::ended_by_budget(own).map_err(out_of_time)?;
                    last_failure = DnsFailure::Timeout { attempts }
                }
                // An ICMP "port unreachable" is an answer of sorts: retrying will not help.
                Err(ExchangeError::Io(detail)) => return failed(DnsFailure::Network { detail }),
                Err(ExchangeError::Malformed(detail)) => {
                    last_failure = DnsFailure::Malformed { detail }
                }
            }
        }
        if let DnsFailure::Timeout { .. } = last_failure {
            last_failure = DnsFailure::Timeout { attempts };
        }
        failed(last_failure)
    }
}

/// Lower case, no trailing dot: the form every observation uses.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

enum ExchangeError {
    Timeout,
    Io(String),
    Malformed(String),
}

/// `name` (any case, trailing dot or not) as a fully qualified [`Name`]. Plain ASCII
/// names, nearly all of them, are written in wire form and read back (hickory's string
/// parsing tries IDNA first, which cost more than the rest of the question); names with
/// escapes, empty or overlong labels, or other scripts go through hickory's parser.
fn parse_name(name: &str) -> Result<Name, hickory_proto::ProtoError> {
    use hickory_proto::serialize::binary::BinDecodable;
    let plain = normalise(name);
    if plain.is_empty() {
        return Ok(Name::root());
    }
    // The wire form, read back by hickory's decoder: far cheaper than building the name
    // from its labels, and the decoder checks the lengths.
    if plain.is_ascii() && !plain.contains('\\') && plain.len() < 254 {
        let mut wire = Vec::with_capacity(plain.len() + 2);
        let mut ok = true;
        for label in plain.split('.') {
            ok &= !label.is_empty() && label.len() <= 63;
            wire.push(label.len() as u8);
            wire.extend_from_slice(label.as_bytes());
        }
        wire.push(0);
        if ok {
            return Name::from_bytes(&wire).map_err(hickory_proto::ProtoError::from);
        }
    }
    Name::from_str(&format!("{plain}."))
}

/// `name` as observations write it: lower case, no trailing dot, `.` for the root; the
/// same text as `normalise(&name.to_string())`, without the formatter for the common
/// case of letters, digits, `-` and `_` (hickory's `Display` writes other labels in
/// Unicode or escaped, so those still go through it).
pub fn name_text(name: &Name) -> String {
    if name.is_root() {
        return ".".into();
    }
    let mut out = String::with_capacity(name.len());
    for label in name.iter() {
        let plain = !label.is_empty()
            && !label
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
            && label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
        if !plain {
            return normalise(&name.to_string());
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.extend(label.iter().map(|b| b.to_ascii_lowercase() as char));
    }
    out
}

/// One question as sent: its id, name and type, for matching the reply, and its wire
/// form. A stub's query is always the same shape (one question, one OPT record), so it
/// is written directly; `question_wire_is_hickorys` pins it to hickory-proto's encoding.
struct Question {
    id: u16,
    name: Name,
    qtype: RecordType,
    wire: Vec<u8>,
}

impl Question {
    fn new(name: &Name, qtype: RecordType, recurse: bool, dnssec: bool) -> Question {
        let id: u16 = rand::random();
        Question {
            id,
            name: name.clone(),
            qtype,
            wire: encode_query(id, name, qtype, recurse, dnssec),
        }
    }
}

/// The wire form of a query: RD when `recurse`; CD in the header and DO in EDNS when
/// `dnssec`; EDNS version 0 advertising [`UDP_PAYLOAD`] (RFC 1035 §4.1, RFC 6891 §6.1).
fn encode_query(id: u16, name: &Name, qtype: RecordType, recurse: bool, dnssec: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + 256 + 4 + 11);
    out.extend_from_slice(&id.to_be_bytes());
    out.push(if recurse { 0x01 } else { 0x00 }); // QR=0, opcode QUERY, RD
    out.push(if dnssec { 0x10 } else { 0x00 }); // CD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // one question, one additional (OPT)
    for label in name.iter() {
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out.extend_from_slice(&u16::from(qtype).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // class IN
    out.push(0); // OPT owner: the root
    out.extend_from_slice(&u16::from(RecordType::OPT).to_be_bytes());
    out.extend_from_slice(&UDP_PAYLOAD.to_be_bytes());
    out.extend_from_slice(&[0, 0, if dnssec { 0x80 } else { 0x00 }, 0]); // DO
    out.extend_from_slice(&[0, 0]); // no options
    out
}

/// Whether `reply` answers `query`: same id, a response, and the same question (a
/// server may echo the name in other letter case, and `Name`'s equality ignores case).
/// Error replies may omit the question.
fn matches(query: &Question, reply: &Message) -> bool {
    let same_question = match reply.queries.as_slice() {
        [r] => r.query_type() == query.qtype && *r.name() == query.name,
        [] => reply.metadata.response_code != ResponseCode::NoError,
        _ => false,
    };
    reply.metadata.id == query.id
        && reply.metadata.message_type == MessageType::Response
        && same_question
}

/// Most answers remembered by one [`Net`]. The first answers of a scan are the ones
/// shared most (nameservers, providers' SPF includes, mail hosts: every branch asks about
/// them early), so a small bound keeps nearly all the benefit while memory stays flat
/// however many domains are scanned; past it, new answers are simply not kept.
const MAX_REMEMBERED: usize = 20_000;

/// Answers from the resolver, remembered for one scan.
#[derive(Debug, Default)]
pub(crate) struct AnswerCache {
    map: std::sync::Mutex<std::collections::HashMap<(String, String), DnsOutcome>>,
}

impl AnswerCache {
    fn get(&self, key: &(String, String)) -> Option<DnsOutcome> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }

    fn put(&self, key: (String, String), outcome: DnsOutcome) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() < MAX_REMEMBERED {
            map.insert(key, outcome);
        }
    }
}

/// Idle UDP sockets, connected to one server each, reused across questions. Binding a
/// socket per question costs more than the question itself when the server is fast, and
/// a scan asks thousands. A reply that arrives late for an earlier question on a reused
/// socket is harmless: replies are matched by id and question, and anything else is
/// dropped.
#[derive(Debug)]
pub(crate) struct UdpPool {
    idle: std::sync::Mutex<std::collections::HashMap<SocketAddr, Vec<PooledSocket>>>,
    /// Most idle sockets kept per server: the global concurrency, since no more
    /// questions than that are ever out at once, so a full scan keeps reusing the same
    /// sockets instead of binding and closing the ones over a smaller cap.
    per_server: usize,
}

impl UdpPool {
    pub(crate) fn new(concurrency: usize) -> UdpPool {
        UdpPool {
            idle: Default::default(),
            per_server: concurrency,
        }
    }

    fn take(&self, server: SocketAddr) -> Option<PooledSocket> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.get_mut(&server).and_then(Vec::pop)
    }

    fn give_back(&self, server: SocketAddr, socket: PooledSocket) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let sockets = idle.entry(server).or_default();
        if sockets.len() < self.per_server {
            sockets.push(socket);
        }
    }
}

/// A socket connected to one server, with the buffer its replies are read into (kept
/// with it so that a question does not allocate and zero one).
#[derive(Debug)]
struct PooledSocket {
    socket: UdpSocket,
    buf: Vec<u8>,
}

async fn udp_socket(pool: &UdpPool, server: SocketAddr) -> Result<PooledSocket, ExchangeError> {
    let io = |e: std::io::Error| ExchangeError::Io(e.to_string());
    if let Some(pooled) = pool.take(server) {
        // Drop whatever arrived since the socket was last used.
        let mut scratch = [0u8; 1];
        while pooled.socket.try_recv(&mut scratch).is_ok() {}
        return Ok(pooled);
    }
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(bind).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    Ok(PooledSocket {
        socket,
        // Room for more than we advertise: a reply over it is cut short by the kernel
        // and then fails to decode instead of passing as whole.
        buf: vec![0u8; UDP_PAYLOAD as usize + 512],
    })
}

async fn udp_exchange(
    pool: &UdpPool,
    server: SocketAddr,
    query: &Question,
    deadline: Instant,
) -> Result<Message, ExchangeError> {
    let io = |e: std::io::Error| ExchangeError::Io(e.to_string());
    let mut pooled = udp_socket(pool, server).await?;
    let PooledSocket { socket, buf } = &mut pooled;
    socket.send(&query.wire).await.map_err(io)?;
    let mut malformed = None;
    // Keep reading until a reply that matches the question arrives: stray or spoofed
    // datagrams with the wrong id are dropped, as a resolver must.
    loop {
        let n = match timeout_at(deadline, socket.recv(buf)).await {
            Err(_) => {
                return Err(malformed.map_or(ExchangeError::Timeout, ExchangeError::Malformed));
            }
            Ok(Err(e)) => return Err(io(e)),
            Ok(Ok(n)) => n,
        };
        match Message::from_vec(&buf[..n]) {
            Ok(reply) if matches(query, &reply) => {
                pool.give_back(server, pooled);
                return Ok(reply);
            }
            Ok(_) => continue,
            Err(e) => malformed = Some(format!("undecodable reply from {server}: {e}")),
        }
    }
}

async fn tcp_exchange(
    server: SocketAddr,
    query: &Question,
    deadline: Instant,
) -> Result<Message, ExchangeError> {
    let io = |e: std::io::Error| ExchangeError::Io(e.to_string());
    let work = async {
        let mut stream = TcpStream::connect(server).await.map_err(io)?;
        let bytes = &query.wire;
        let len = u16::try_from(bytes.len())
            .map_err(|_| ExchangeError::Malformed("query too long".into()))?;
        stream.write_all(&len.to_be_bytes()).await.map_err(io)?;
        stream.write_all(bytes).await.map_err(io)?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let len = usize::from(u16::from_be_bytes(len)).min(TCP_MAX);
        let mut buf = vec![0u8; len];
        stream.read_exact(&mut buf).await.map_err(io)?;
        let reply = Message::from_vec(&buf).map_err(|e| ExchangeError::Malformed(e.to_string()))?;
        if matches(query, &reply) {
            Ok(reply)
        } else {
            Err(ExchangeError::Malformed(
                "TCP reply does not match the question".into(),
            ))
        }
    };
    timeout_at(deadline, work)
        .await
        .unwrap_or(Err(ExchangeError::Timeout))
}

/// A reply to a DNSSEC question, records as decoded (RRSIGs included).
#[derive(Debug, Clone, PartialEq)]
pub enum SignedReply {
    /// NOERROR with records at the question name: the answer section's records owned by
    /// it (CNAMEs are not followed), at most [`MAX_RECORDS`].
    Answer {
        /// The records, RRSIGs included.
        records: Vec<Record>,
    },
    /// NOERROR with nothing of the type at the name.
    NoData,
    /// NXDOMAIN.
    NxDomain,
}

impl SignedReply {
    /// The records (empty unless an answer).
    pub fn records(&self) -> &[Record] {
        match self {
            SignedReply::Answer { records } => records,
            _ => &[],
        }
    }
}

fn signed_reply(
    reply: &Message,
    qname: &Name,
    qtype: RecordType,
) -> Result<SignedReply, DnsFailure> {
    match reply.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Ok(SignedReply::NxDomain),
        ResponseCode::ServFail => return Err(DnsFailure::ServFail),
        ResponseCode::Refused => return Err(DnsFailure::Refused),
        other => {
            return Err(DnsFailure::Rcode {
                code: u16::from(other),
            });
        }
    }
    let wanted = qname.to_lowercase();
    let records: Vec<Record> = reply
        .answers
        .iter()
        .filter(|r| r.name.to_lowercase() == wanted)
        .take(MAX_RECORDS)
        .cloned()
        .collect();
    if records.iter().any(|r| r.record_type() == qtype) {
        Ok(SignedReply::Answer { records })
    } else {
        Ok(SignedReply::NoData)
    }
}

/// DNSSEC replies remembered for one scan, bounded like [`AnswerCache`].
#[derive(Debug, Default)]
pub(crate) struct SignedCache {
    map: std::sync::Mutex<std::collections::HashMap<(String, String), Arc<SignedReply>>>,
}

impl SignedCache {
    fn get(&self, key: &(String, String)) -> Option<Arc<SignedReply>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }

    fn put(&self, key: (String, String), reply: Arc<SignedReply>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() < MAX_REMEMBERED {
            map.insert(key, reply);
        }
    }
}

/// A referral in place of an answer: no error, recursion not available, nothing in the
/// answer section, not authoritative, and nameservers in the authority section. A
/// recursive resolver never sends one, so the empty answer says nothing about the name.
fn is_referral(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::NoError
        && !reply.metadata.recursion_available
        && !reply.metadata.authoritative
        && reply.answers.is_empty()
        && reply
            .authorities
            .iter()
            .any(|r| r.record_type() == RecordType::NS)
}

/// Turns a reply into one of the three states.
fn interpret(reply: &Message, qname: &Name, qtype: RecordType) -> DnsOutcome {
    let authoritative = reply.metadata.authoritative;
    match reply.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return DnsOutcome::NxDomain { authoritative },
        ResponseCode::ServFail => {
            return DnsOutcome::Failed {
                failure: DnsFailure::ServFail,
            };
        }
        ResponseCode::Refused => {
            return DnsOutcome::Failed {
                failure: DnsFailure::Refused,
            };
        }
        other => {
            return DnsOutcome::Failed {
                failure: DnsFailure::Rcode {
                    code: u16::from(other),
                },
            };
        }
    }
    // Follow the CNAME chain inside the answer section, from the question name.
    let mut wanted = qname.to_lowercase();
    let mut records = Vec::new();
    let mut found = false;
    for _ in 0..16 {
        let mut next = None;
        for r in reply
            .answers
            .iter()
            .filter(|r| r.name.to_lowercase() == wanted)
        {
            if records.len() >= MAX_RECORDS {
                break;
            }
            let rt = r.record_type();
            if rt == qtype {
                records.push(to_record(r));
                found = true;
            } else if let RData::CNAME(target) = &r.data {
                records.push(to_record(r));
                next = Some(target.0.to_lowercase());
            }
        }
        match next {
            Some(n) if !found => wanted = n,
            _ => break,
        }
    }
    if found {
        DnsOutcome::Answer {
            records,
            authoritative,
        }
    } else {
        DnsOutcome::NoData { authoritative }
    }
}

/// A decoded record in the form observations keep.
pub fn to_record(r: &Record) -> DnsRecord {
    let mut data = match &r.data {
        RData::TXT(txt) => {
            let mut joined = Vec::new();
            for part in txt.txt_data.iter() {
                joined.extend_from_slice(part);
            }
            String::from_utf8_lossy(&joined).into_owned()
        }
        RData::CAA(caa) => {
            let flags = if caa.issuer_critical { 128u8 } else { 0 } | caa.reserved_flags;
            format!("{flags} {} \"{}\"", caa.tag, escape(&caa.value))
        }
        other => other.to_string(),
    };
    if data.chars().count() > MAX_DATA_CHARS {
        data = data.chars().take(MAX_DATA_CHARS).collect();
    }
    DnsRecord {
        name: name_text(&r.name),
        rtype: r.record_type().to_string(),
        ttl: r.ttl,
        data,
    }
}

/// Presentation-format escaping of a character-string: `"` and `\` escaped, bytes outside
/// printable ASCII as `\DDD`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, OpCode, Query};

    /// What hickory-proto writes for the same question: the encoder ward replaced.
    fn hickorys(id: u16, name: &Name, qtype: RecordType, recurse: bool, dnssec: bool) -> Vec<u8> {
        let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = recurse;
        msg.metadata.checking_disabled = dnssec;
        msg.add_query(Query::query(name.clone(), qtype));
        let mut edns = Edns::new();
        edns.set_max_payload(UDP_PAYLOAD);
        edns.set_dnssec_ok(dnssec);
        msg.set_edns(edns);
        msg.to_vec().unwrap()
    }

    #[test]
    fn question_wire_is_hickorys() {
        let long = format!("{}.{}.example", "a".repeat(63), "b".repeat(63));
        let names = [
            ".",
            "example.org",
            "selector1._domainkey.M00001.Test",
            "_25._tcp.mx.example.net.",
            "xn--bcher-kva.example",
            long.as_str(),
        ];
        let types = [
            RecordType::TXT,
            RecordType::DS,
            RecordType::TLSA,
            RecordType::Unknown(65280),
        ];
        for (i, n) in names.iter().enumerate() {
            let name = parse_name(n).unwrap();
            for qtype in types {
                for (recurse, dnssec) in
                    [(true, false), (false, false), (true, true), (false, true)]
                {
                    let id = 0x1234 + i as u16;
                    assert_eq!(
                        encode_query(id, &name, qtype, recurse, dnssec),
                        hickorys(id, &name, qtype, recurse, dnssec),
                        "{n} {qtype} recurse={recurse} dnssec={dnssec}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_are_read_as_hickory_reads_them() {
        let label = |c: &str, n: usize| c.repeat(n);
        let too_long = [
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", 63),
        ]
        .join(".");
        let longest = [
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", 61),
        ]
        .join(".");
        let names = [
            "Example.ORG.".to_owned(),
            "_dmarc.example.org".into(),
            "*.example.org".into(),
            "xn--bcher-kva.example".into(),
            "bücher.example".into(),
            "a\\.b.example".into(),
            ".".into(),
            "".into(),
            "a..b.example".into(),
            format!("{}.example", label("x", 63)),
            format!("{}.example", label("x", 64)),
            longest,
            too_long,
        ];
        for n in &names {
            let theirs = Name::from_str(&format!("{}.", normalise(n)));
            match (parse_name(n), theirs) {
                (Ok(ours), Ok(theirs)) => {
                    assert_eq!(ours.to_ascii(), theirs.to_ascii(), "{n}");
                    assert_eq!(ours.is_fqdn(), theirs.is_fqdn(), "{n}");
                }
                (Err(_), Err(_)) => {}
                (ours, theirs) => panic!("{n}: ours {ours:?}, hickory's {theirs:?}"),
            }
        }
    }

    #[test]
    fn name_text_is_normalised_display() {
        for name in [
            "Example.ORG.",
            "_25._tcp.Mx.example.net.",
            "xn--bcher-kva.example.",
            "XN--bcher-kva.example.",
            "*.example.org.",
            "a\\.b.example.",
            "under_score-dash.example.",
            ".",
        ]
        .into_iter()
        .map(|n| Name::from_ascii(n).unwrap())
        .chain([
            Name::from_labels([&b"a b"[..], b"example"]).unwrap(),
            Name::from_labels([&b"caf\xc3\xa9"[..], b"example"]).unwrap(),
        ]) {
            let n = name.to_string();
            let display = if name.is_root() {
                ".".to_owned()
            } else {
                normalise(&name.to_string())
            };
            assert_eq!(name_text(&name), display, "{n}");
        }
    }

    #[test]
    fn a_reply_matches_only_its_own_question() {
        let name = parse_name("selector1._domainkey.example.org").unwrap();
        let q = Question::new(&name, RecordType::TXT, true, false);
        let reply = |id: u16, echoed: &str, qtype: RecordType, code: ResponseCode| {
            let mut m = Message::new(id, MessageType::Response, OpCode::Query);
            m.metadata.response_code = code;
            if !echoed.is_empty() {
                m.add_query(Query::query(Name::from_ascii(echoed).unwrap(), qtype));
            }
            m
        };
        let ok = ResponseCode::NoError;
        assert!(matches(
            &q,
            &reply(
                q.id,
                "Selector1._DomainKey.EXAMPLE.org.",
                RecordType::TXT,
                ok
            )
        ));
        assert!(!matches(
            &q,
            &reply(
                q.id.wrapping_add(1),
                "selector1._domainkey.example.org.",
                RecordType::TXT,
                ok
            )
        ));
        assert!(!matches(
            &q,
            &reply(
                q.id,
                "selector2._domainkey.example.org.",
                RecordType::TXT,
                ok
            )
        ));
        assert!(!matches(
            &q,
            &reply(q.id, "selector1._domainkey.example.org.", RecordType::A, ok)
        ));
        // An error reply may leave the question out; a NOERROR one may not.
        assert!(matches(
            &q,
            &reply(q.id, "", RecordType::TXT, ResponseCode::ServFail)
        ));
        assert!(!matches(&q, &reply(q.id, "", RecordType::TXT, ok)));
        let mut query_echo = reply(
            q.id,
            "selector1._domainkey.example.org.",
            RecordType::TXT,
            ok,
        );
        query_echo.metadata.message_type = MessageType::Query;
        assert!(!matches(&q, &query_echo));
    }
}
