//! DMARC aggregate (`rua`) reports: RFC 7489 appendix C, the older draft
//! shape (no `<version>`), and RFC 9990 (`urn:ietf:params:xml:ns:dmarc-2.0`,
//! with `generator`, `np`, `testing`, `discovery_method`, `human_result`).
//!
//! The reader is a streaming pass over quick-xml events: no DTD is read, no
//! entity other than the five predefined ones and character references is
//! accepted, and element depth is capped by [`Limits::max_xml_depth`].
//! Unknown elements are skipped wherever they appear; enum keywords are read
//! without regard to case; text is trimmed.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use crate::enums::{
    Alignment, DiscoveryMethod, Disposition, DkimResult, DmarcResult, PolicyOverride, SpfResult,
    SpfScope,
};
use crate::error::{LimitKind, Pos, Reason, truncate};
use crate::limits::Limits;

/// The RFC 9990 XML namespace.
pub const NAMESPACE_DMARC_2: &str = "urn:ietf:params:xml:ns:dmarc-2.0";

/// One DMARC aggregate report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateReport {
    /// The root element's default namespace, if any (RFC 9990 uses
    /// [`NAMESPACE_DMARC_2`]).
    pub namespace: Option<String>,
    /// `<version>` as written (`1.0` in RFC 7489 and RFC 9990); absent in the
    /// old draft shape.
    pub version: Option<String>,
    /// `<report_metadata>`.
    pub report_metadata: ReportMetadata,
    /// `<policy_published>`.
    pub policy_published: PolicyPublished,
    /// Every `<record>`, in document order.
    pub records: Vec<Record>,
    /// Report-level `<extensions>`.
    pub extensions: Vec<Extension>,
}

impl AggregateReport {
    /// True when the report uses the RFC 9990 namespace or any RFC 9990-only
    /// element (namespaceless RFC 9990 reports occur).
    pub fn is_rfc9990(&self) -> bool {
        self.namespace.as_deref() == Some(NAMESPACE_DMARC_2)
            || self.report_metadata.generator.is_some()
            || self.policy_published.np.is_some()
            || self.policy_published.testing.is_some()
            || self.policy_published.discovery_method.is_some()
    }
}

/// `<report_metadata>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMetadata {
    /// Reporting organisation (required).
    pub org_name: String,
    /// Reporter contact address.
    pub email: Option<String>,
    /// Further contact information.
    pub extra_contact_info: Option<String>,
    /// Report id, unique per reporter (required).
    pub report_id: String,
    /// Covered time range, seconds since the epoch (required).
    pub date_range: DateRange,
    /// `<error>` elements.
    pub errors: Vec<String>,
    /// Software that wrote the report (RFC 9990).
    pub generator: Option<String>,
}

/// `<date_range>`, seconds since the epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// Start.
    pub begin: u64,
    /// End.
    pub end: u64,
}

/// `<policy_published>`: the DMARC record the receiver found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPublished {
    /// Domain the record was found at (required).
    pub domain: String,
    /// `adkim`.
    pub adkim: Option<Alignment>,
    /// `aspf`.
    pub aspf: Option<Alignment>,
    /// `p`.
    pub p: Option<Disposition>,
    /// `sp`.
    pub sp: Option<Disposition>,
    /// `np` (RFC 9990).
    pub np: Option<Disposition>,
    /// `pct` (RFC 7489 only).
    pub pct: Option<u8>,
    /// `fo`, as written.
    pub fo: Option<String>,
    /// `testing` (RFC 9990 `t` flag): `y` is true.
    pub testing: Option<bool>,
    /// `discovery_method` (RFC 9990).
    pub discovery_method: Option<DiscoveryMethod>,
}

/// One `<record>`: a row of messages sharing source IP and results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `<row>`.
    pub row: Row,
    /// `<identifiers>`.
    pub identifiers: Identifiers,
    /// `<auth_results>`.
    pub auth_results: AuthResults,
    /// Record-level `<extensions>`.
    pub extensions: Vec<Extension>,
}

/// `<row>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Sending IP address (required).
    pub source_ip: IpAddr,
    /// Messages in this row (required).
    pub count: u64,
    /// `<policy_evaluated>`.
    pub policy_evaluated: PolicyEvaluated,
}

/// `<policy_evaluated>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEvaluated {
    /// Disposition applied.
    pub disposition: Option<Disposition>,
    /// DMARC-aligned DKIM result.
    pub dkim: Option<DmarcResult>,
    /// DMARC-aligned SPF result.
    pub spf: Option<DmarcResult>,
    /// `<reason>` elements.
    pub reasons: Vec<PolicyOverrideReason>,
}

/// `<reason>`: why the policy was not applied as published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOverrideReason {
    /// `<type>`; `None` when empty.
    pub kind: Option<PolicyOverride>,
    /// `<comment>`.
    pub comment: Option<String>,
}

/// `<identifiers>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifiers {
    /// RFC 5321 RCPT TO domain.
    pub envelope_to: Option<String>,
    /// RFC 5321 MAIL FROM domain.
    pub envelope_from: Option<String>,
    /// RFC 5322 From domain.
    pub header_from: Option<String>,
}

/// `<auth_results>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    /// DKIM signatures checked.
    pub dkim: Vec<DkimAuthResult>,
    /// SPF checks.
    pub spf: Vec<SpfAuthResult>,
}

/// One `<auth_results>/<dkim>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimAuthResult {
    /// `d=` of the signature.
    pub domain: Option<String>,
    /// `s=` of the signature (required by RFC 9990, often missing before).
    pub selector: Option<String>,
    /// Verification result (required).
    pub result: DkimResult,
    /// Free text.
    pub human_result: Option<String>,
}

/// One `<auth_results>/<spf>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfAuthResult {
    /// Domain checked.
    pub domain: Option<String>,
    /// `helo` or `mfrom`.
    pub scope: Option<SpfScope>,
    /// SPF result (required).
    pub result: SpfResult,
    /// Free text (RFC 9990).
    pub human_result: Option<String>,
}

/// One `<extension name=".." definition="..">`; its content is not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// `name` attribute.
    pub name: Option<String>,
    /// `definition` attribute.
    pub definition: Option<String>,
}

/// Parse one aggregate report from a UTF-8 XML stream.
///
/// `reader` should already be bounded (see [`crate::unpack`]); this function
/// bounds only element depth. A leading byte-order mark is skipped.
pub fn parse_aggregate<R: BufRead>(
    mut reader: R,
    limits: &Limits,
) -> Result<AggregateReport, Reason> {
    // The document is read whole and parsed in place: the XML reader then hands out
    // slices of it instead of copying every event into a buffer, which was a fifth of
    // the parsing time. The reader is bounded by the caller, and the parsed records
    // take as much room as the text anyway.
    // Most reports are a few tens of kilobytes: starting at 64 KiB spares the copies of
    // growing the buffer from nothing, and costs nothing the document would not use.
    let mut bytes = Vec::with_capacity(64 * 1024);
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| crate::read::io_reason(&e))?;
    parse_aggregate_bytes(&bytes, limits)
}

/// [`parse_aggregate`] of a document already in memory.
pub fn parse_aggregate_bytes(bytes: &[u8], limits: &Limits) -> Result<AggregateReport, Reason> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if declares_windows_1252(&mut &bytes[..])? {
        let mut utf8 = Vec::with_capacity(bytes.len() + bytes.len() / 8);
        Windows1252::new(bytes)
            .read_to_end(&mut utf8)
            .map_err(|e| crate::read::io_reason(&e))?;
        parse_utf8(&utf8, limits).map_err(|r| with_line(r, &utf8))
    } else {
        parse_utf8(bytes, limits).map_err(|r| with_line(r, bytes))
    }
}

/// Fills in the line of a refusal's position, counted only when there is a refusal.
fn with_line(mut reason: Reason, doc: &[u8]) -> Reason {
    match &mut reason {
        Reason::Xml { at, .. }
        | Reason::InvalidUtf8 { at }
        | Reason::Truncated { at, .. }
        | Reason::Doctype { at }
        | Reason::Entity { at, .. }
        | Reason::InvalidValue { at, .. } => {
            let upto = usize::try_from(at.byte)
                .unwrap_or(usize::MAX)
                .min(doc.len());
            let before = doc.get(..upto).unwrap_or(doc);
            at.line = 1 + before.iter().filter(|&&c| c == b'\n').count() as u64;
        }
        _ => {}
    }
    reason
}

fn parse_utf8(doc: &[u8], limits: &Limits) -> Result<AggregateReport, Reason> {
    let mut xml = quick_xml::Reader::from_reader(doc);
    let mut b = Builder::default();
    loop {
        // Lines are filled in by `with_line` if this ends in a refusal.
        let at = Pos {
            line: 0,
            byte: xml.buffer_position(),
        };
        let event = match xml.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let byte = xml.error_position().max(at.byte);
                return Err(xml_error(&e, Pos { byte, ..at }));
            }
        };
        if b.step(event, at, limits)? == Flow::Stop {
            break;
        }
    }
    b.finish()
}

/// Whether the event loop goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// What [`parse_aggregate_chunked`] hands over as it reads a report.
#[derive(Debug)]
pub enum Chunk<'a> {
    /// The report's metadata and policy, with its first records in `records`.
    Start(&'a AggregateReport),
    /// More records; the first of them is the report's record number `first` (from 0).
    More {
        /// The records.
        records: &'a [Record],
        /// Number of the first of them in the report.
        first: usize,
    },
    /// The report ended well-formed: its final metadata (report-level extensions
    /// included, since they follow the records), without records.
    End(&'a AggregateReport),
}

/// Parses one aggregate report from a stream, handing its records over `chunk` at a
/// time, so that memory does not grow with the report: the reader of a 200 MB report
/// holds one chunk of records and the XML reader's buffer. `on` returns false to stop
/// (then `Ok(false)` comes back). A refusal after [`Chunk::Start`] means the chunks
/// handed over are not a report: whoever stored them must drop them.
///
/// The metadata normally comes before the records; if it does not, records are held
/// until it has been read (bounded by the reader, like the whole-document parser).
/// Positions in refusals are byte offsets only (no lines: the text is not kept).
pub fn parse_aggregate_chunked<R: BufRead>(
    mut reader: R,
    limits: &Limits,
    chunk: usize,
    on: &mut dyn FnMut(Chunk<'_>) -> bool,
) -> Result<bool, Reason> {
    let head = reader.fill_buf().map_err(|e| crate::read::io_reason(&e))?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    if declares_windows_1252(&mut reader)? {
        chunked(BufReader::new(Windows1252::new(reader)), limits, chunk, on)
    } else {
        chunked(reader, limits, chunk, on)
    }
}

fn chunked<R: BufRead>(
    reader: R,
    limits: &Limits,
    chunk: usize,
    on: &mut dyn FnMut(Chunk<'_>) -> bool,
) -> Result<bool, Reason> {
    let chunk = chunk.max(1);
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut b = Builder::default();
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut handed: Option<usize> = None;
    loop {
        buf.clear();
        let at = Pos {
            line: 0,
            byte: xml.buffer_position(),
        };
        let event = match xml.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                let byte = xml.error_position().max(at.byte);
                return Err(xml_error(&e, Pos { byte, ..at }));
            }
        };
        if b.step(event, at, limits)? == Flow::Stop {
            break;
        }
        if b.records.len() >= chunk && !b.hand_over(&mut handed, on) {
            return Ok(false);
        }
    }
    if !b.saw_root {
        return b.finish().map(|_| false);
    }
    if handed.is_none() {
        let mut all = b.header()?;
        all.records = std::mem::take(&mut b.records);
        if !on(Chunk::Start(&all)) {
            return Ok(false);
        }
    } else if !b.records.is_empty() && !b.hand_over(&mut handed, on) {
        return Ok(false);
    }
    Ok(on(Chunk::End(&b.header()?)))
}

/// True when the XML declaration names ISO-8859-1 or windows-1252 (which
/// WHATWG treats as one). Other labels are read as UTF-8, and refused if the
/// bytes are not.
fn declares_windows_1252<R: BufRead>(reader: &mut R) -> Result<bool, Reason> {
    let head = reader.fill_buf().map_err(|e| crate::read::io_reason(&e))?;
    let head = head.get(..head.len().min(256)).unwrap_or(head);
    let Some(decl) = head.strip_prefix(b"<?xml") else {
        return Ok(false);
    };
    let decl = decl.split(|&c| c == b'>').next().unwrap_or(decl);
    let text = String::from_utf8_lossy(decl).to_ascii_lowercase();
    let Some((_, rest)) = text.split_once("encoding") else {
        return Ok(false);
    };
    let label: String = rest
        .trim_start_matches([' ', '=', '"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok(matches!(
        label.as_str(),
        "iso-8859-1"
            | "iso8859-1"
            | "latin1"
            | "latin-1"
            | "l1"
            | "windows-1252"
            | "cp1252"
            | "x-cp1252"
    ))
}

/// Transcodes windows-1252 (and so ISO-8859-1) to UTF-8 as it is read.
/// Byte offsets in errors then count UTF-8 bytes; lines are unchanged.
struct Windows1252<R> {
    inner: R,
    out: Vec<u8>,
    pos: usize,
}

impl<R: BufRead> Windows1252<R> {
    fn new(inner: R) -> Self {
        Windows1252 {
            inner,
            out: Vec::with_capacity(16 * 1024),
            pos: 0,
        }
    }
}

/// windows-1252 bytes 0x80..=0x9F; the five undefined ones map to C1 controls.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

impl<R: BufRead> std::io::Read for Windows1252<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Windows1252<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            let chunk = self.inner.fill_buf()?;
            let n = chunk.len().min(8 * 1024);
            for &b in chunk.get(..n).unwrap_or_default() {
                let c = match b {
                    0x80..=0x9F => CP1252_HIGH
                        .get(usize::from(b - 0x80))
                        .copied()
                        .unwrap_or('\u{FFFD}'),
                    _ => char::from(b),
                };
                let mut tmp = [0u8; 4];
                self.out
                    .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
            self.inner.consume(n);
        }
        Ok(self.out.get(self.pos..).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt).min(self.out.len());
    }
}

fn xml_error(e: &quick_xml::Error, at: Pos) -> Reason {
    match e {
        quick_xml::Error::Io(io) => crate::read::io_reason(io),
        quick_xml::Error::Encoding(_) => Reason::InvalidUtf8 { at },
        other => Reason::Xml {
            at,
            message: other.to_string(),
        },
    }
}

fn check_root(e: &BytesStart<'_>, b: &mut Builder) -> Result<(), Reason> {
    let local = e.local_name();
    if local.as_ref() != "feedback" {
        return Err(Reason::NotFeedback {
            root: truncate(local.as_ref()),
        });
    }
    for attr in e.attributes().flatten() {
        if attr.key.as_ref() == "xmlns" {
            let v = attr.value.trim().to_owned();
            if !v.is_empty() {
                b.namespace = Some(v);
            }
        }
    }
    Ok(())
}

/// Element names ward knows; everything else is `Other` and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Feedback,
    Version,
    ReportMetadata,
    OrgName,
    Email,
    ExtraContactInfo,
    ReportId,
    DateRange,
    Begin,
    End,
    Error,
    Generator,
    PolicyPublished,
    Domain,
    Adkim,
    Aspf,
    P,
    Sp,
    Np,
    Pct,
    Fo,
    Testing,
    DiscoveryMethod,
    Record,
    Row,
    SourceIp,
    Count,
    PolicyEvaluated,
    Disposition,
    Dkim,
    Spf,
    Reason,
    Type,
    Comment,
    Identifiers,
    EnvelopeTo,
    EnvelopeFrom,
    HeaderFrom,
    AuthResults,
    Selector,
    Result,
    HumanResult,
    Scope,
    Extensions,
    Extension,
    Other,
}

fn tag_of(name: &str) -> Tag {
    match name {
        "feedback" => Tag::Feedback,
        "version" => Tag::Version,
        "report_metadata" => Tag::ReportMetadata,
        "org_name" => Tag::OrgName,
        "email" => Tag::Email,
        "extra_contact_info" => Tag::ExtraContactInfo,
        "report_id" => Tag::ReportId,
        "date_range" => Tag::DateRange,
        "begin" => Tag::Begin,
        "end" => Tag::End,
        "error" => Tag::Error,
        "generator" => Tag::Generator,
        "policy_published" => Tag::PolicyPublished,
        "domain" => Tag::Domain,
        "adkim" => Tag::Adkim,
        "aspf" => Tag::Aspf,
        "p" => Tag::P,
        "sp" => Tag::Sp,
        "np" => Tag::Np,
        "pct" => Tag::Pct,
        "fo" => Tag::Fo,
        "testing" => Tag::Testing,
        "discovery_method" => Tag::DiscoveryMethod,
        "record" => Tag::Record,
        "row" => Tag::Row,
        "source_ip" => Tag::SourceIp,
        "count" => Tag::Count,
        "policy_evaluated" => Tag::PolicyEvaluated,
        "disposition" => Tag::Disposition,
        "dkim" => Tag::Dkim,
        "spf" => Tag::Spf,
        "reason" => Tag::Reason,
        "type" => Tag::Type,
        "comment" => Tag::Comment,
        "identifiers" => Tag::Identifiers,
        "envelope_to" => Tag::EnvelopeTo,
        "envelope_from" => Tag::EnvelopeFrom,
        "header_from" => Tag::HeaderFrom,
        "auth_results" => Tag::AuthResults,
        "selector" => Tag::Selector,
        "result" => Tag::Result,
        "human_result" => Tag::HumanResult,
        "scope" => Tag::Scope,
        "extensions" => Tag::Extensions,
        "extension" => Tag::Extension,
        _ => Tag::Other,
    }
}

#[derive(Default)]
struct RecordBuilder {
    source_ip: Option<IpAddr>,
    count: Option<u64>,
    policy_evaluated: PolicyEvaluated,
    identifiers: Identifiers,
    dkim: Vec<DkimAuthResult>,
    spf: Vec<SpfAuthResult>,
    extensions: Vec<Extension>,
    // The auth result being read.
    domain: Option<String>,
    selector: Option<String>,
    result: Option<String>,
    human_result: Option<String>,
    scope: Option<SpfScope>,
    reason: PolicyOverrideReason,
}

#[derive(Default)]
struct Builder {
    path: Vec<Tag>,
    /// The root element has been seen (an XSD wrapper around it is looked through).
    saw_root: bool,
    /// `<xs:schema>` wrappers open around the report.
    wrappers: u32,
    text: String,
    namespace: Option<String>,
    version: Option<String>,
    org_name: Option<String>,
    email: Option<String>,
    extra_contact_info: Option<String>,
    report_id: Option<String>,
    begin: Option<u64>,
    end: Option<u64>,
    errors: Vec<String>,
    generator: Option<String>,
    domain: Option<String>,
    adkim: Option<Alignment>,
    aspf: Option<Alignment>,
    p: Option<Disposition>,
    sp: Option<Disposition>,
    np: Option<Disposition>,
    pct: Option<u8>,
    fo: Option<String>,
    testing: Option<bool>,
    discovery_method: Option<DiscoveryMethod>,
    records: Vec<Record>,
    extensions: Vec<Extension>,
    record: RecordBuilder,
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn invalid(path: &str, value: &str, at: Pos) -> Reason {
    Reason::InvalidValue {
        path: path.to_owned(),
        value: truncate(value.trim()),
        at,
    }
}

fn number<T: std::str::FromStr>(path: &str, text: &str, at: Pos) -> Result<Option<T>, Reason> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| invalid(path, t, at))
}

fn keyword<T>(text: &str, parse: fn(&str) -> T) -> Option<T> {
    let t = text.trim();
    (!t.is_empty()).then(|| parse(t))
}

fn extension_of(e: &BytesStart<'_>) -> Extension {
    let mut ext = Extension::default();
    for attr in e.attributes().flatten() {
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        match attr.key.local_name().as_ref() {
            "name" => ext.name = Some(value),
            "definition" => ext.definition = Some(value),
            _ => {}
        }
    }
    ext
}

impl Builder {
    /// Takes one XML event; `Stop` once the root element has closed (or at the end).
    fn step(&mut self, event: Event<'_>, at: Pos, limits: &Limits) -> Result<Flow, Reason> {
        let b = self;
        match event {
            Event::Start(e) => {
                if b.path.is_empty() && !b.saw_root && e.local_name().as_ref() == "schema" {
                    // Some reporters wrap the report in an XSD <xs:schema>
                    // element (parsedmarc #18); look through it.
                    b.wrappers += 1;
                    return Ok(Flow::Go);
                }
                if b.path.is_empty() {
                    b.saw_root = true;
                    check_root(&e, b)?;
                }
                if b.path.len() as u64 >= u64::from(limits.max_xml_depth) {
                    return Err(Reason::LimitExceeded {
                        kind: LimitKind::XmlDepth,
                        limit: u64::from(limits.max_xml_depth),
                    });
                }
                b.start(tag_of(e.local_name().as_ref()), &e, at)?;
            }
            Event::Empty(e) => {
                if b.path.is_empty() {
                    check_root(&e, b)?;
                    return Err(Reason::MissingElement {
                        path: "report_metadata".into(),
                    });
                }
                b.start(tag_of(e.local_name().as_ref()), &e, at)?;
                b.end(at)?;
            }
            Event::End(_) => {
                if b.path.is_empty() && b.wrappers > 0 {
                    b.wrappers -= 1;
                    return Ok(Flow::Go);
                }
                b.end(at)?;
                if b.path.is_empty() {
                    // The report is complete. Whatever follows (NULs, a
                    // second copy, a mail footer) is not read.
                    return Ok(Flow::Stop);
                }
            }
            Event::Text(t) => {
                // Indentation between elements, or whitespace before an element's text:
                // every value is trimmed, so it need not be normalised and kept.
                if b.text.is_empty() && t.as_ref().bytes().all(|c| c.is_ascii_whitespace()) {
                    return Ok(Flow::Go);
                }
                if !b.path.is_empty() {
                    b.text.push_str(&t.xml10_content());
                    b.check_text(limits)?;
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(Reason::Xml {
                        at,
                        message: "text outside the root element".into(),
                    });
                }
            }
            Event::CData(c) => {
                b.text.push_str(&c.xml10_content());
                b.check_text(limits)?;
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match r.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(Reason::Entity {
                                name: truncate(other),
                                at,
                            });
                        }
                    },
                    Err(e) => {
                        return Err(Reason::Xml {
                            at,
                            message: e.to_string(),
                        });
                    }
                };
                b.text.push(ch);
            }
            Event::DocType(_) => return Err(Reason::Doctype { at }),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !b.path.is_empty() || b.wrappers > 0 {
                    return Err(Reason::Truncated {
                        at,
                        open: b.path.len() as u64 + u64::from(b.wrappers),
                    });
                }
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Go)
    }

    fn check_text(&self, limits: &Limits) -> Result<(), Reason> {
        if self.text.len() as u64 > limits.max_text_bytes {
            return Err(Reason::LimitExceeded {
                kind: LimitKind::TextBytes,
                limit: limits.max_text_bytes,
            });
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag, e: &BytesStart<'_>, _at: Pos) -> Result<(), Reason> {
        self.path.push(tag);
        self.text.clear();
        use Tag as T;
        match self.path.as_slice() {
            [T::Feedback, T::Record] => self.record = RecordBuilder::default(),
            [T::Feedback, T::Record, T::AuthResults, T::Dkim | T::Spf] => {
                let r = &mut self.record;
                r.domain = None;
                r.selector = None;
                r.result = None;
                r.human_result = None;
                r.scope = None;
            }
            [
                T::Feedback,
                T::Record,
                T::Row,
                T::PolicyEvaluated,
                T::Reason,
            ] => {
                self.record.reason = PolicyOverrideReason::default();
            }
            [T::Feedback, T::Record, T::Extensions, T::Extension] => {
                self.record.extensions.push(extension_of(e));
            }
            [T::Feedback, T::Extensions, T::Extension] => self.extensions.push(extension_of(e)),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, at: Pos) -> Result<(), Reason> {
        use Tag as T;
        // The text buffer is lent out for this element and put back cleared below, so
        // its allocation serves the whole document.
        let mut text = std::mem::take(&mut self.text);
        let t = text.as_str();
        let r = &mut self.record;
        match self.path.as_slice() {
            [T::Feedback, T::Version] => self.version = non_empty(t),
            [T::Feedback, T::ReportMetadata, leaf] => match leaf {
                T::OrgName => self.org_name = non_empty(t),
                T::Email => self.email = non_empty(t),
                T::ExtraContactInfo => self.extra_contact_info = non_empty(t),
                T::ReportId => self.report_id = non_empty(t),
                T::Error => self.errors.extend(non_empty(t)),
                T::Generator => self.generator = non_empty(t),
                _ => {}
            },
            [T::Feedback, T::ReportMetadata, T::DateRange, T::Begin] => {
                self.begin = number("report_metadata/date_range/begin", t, at)?;
            }
            [T::Feedback, T::ReportMetadata, T::DateRange, T::End] => {
                self.end = number("report_metadata/date_range/end", t, at)?;
            }
            [T::Feedback, T::PolicyPublished, leaf] => match leaf {
                T::Domain => self.domain = non_empty(t),
                T::Adkim => self.adkim = keyword(t, Alignment::parse),
                T::Aspf => self.aspf = keyword(t, Alignment::parse),
                T::P => self.p = keyword(t, Disposition::parse),
                T::Sp => self.sp = keyword(t, Disposition::parse),
                T::Np => self.np = keyword(t, Disposition::parse),
                T::Pct => {
                    self.pct = number("policy_published/pct", t, at)?;
                    if self.pct.is_some_and(|p| p > 100) {
                        return Err(invalid("policy_published/pct", t, at));
                    }
                }
                T::Fo => self.fo = non_empty(t),
                T::Testing => {
                    self.testing = match t.trim().to_ascii_lowercase().as_str() {
                        "" => None,
                        "y" | "yes" | "true" => Some(true),
                        "n" | "no" | "false" => Some(false),
                        _ => return Err(invalid("policy_published/testing", t, at)),
                    }
                }
                T::DiscoveryMethod => self.discovery_method = keyword(t, DiscoveryMethod::parse),
                _ => {}
            },
            [T::Feedback, T::Record, T::Row, T::SourceIp] => {
                let v = t.trim();
                if !v.is_empty() {
                    r.source_ip = Some(
                        v.parse()
                            .map_err(|_| invalid("record/row/source_ip", v, at))?,
                    );
                }
            }
            [T::Feedback, T::Record, T::Row, T::Count] => {
                r.count = number("record/row/count", t, at)?;
            }
            [T::Feedback, T::Record, T::Row, T::PolicyEvaluated, leaf] => {
                let pe = &mut r.policy_evaluated;
                match leaf {
                    T::Disposition => pe.disposition = keyword(t, Disposition::parse),
                    T::Dkim => pe.dkim = keyword(t, DmarcResult::parse),
                    T::Spf => pe.spf = keyword(t, DmarcResult::parse),
                    T::Reason => {
                        let reason = std::mem::take(&mut r.reason);
                        if reason.kind.is_some() || reason.comment.is_some() {
                            pe.reasons.push(reason);
                        }
                    }
                    _ => {}
                }
            }
            [
                T::Feedback,
                T::Record,
                T::Row,
                T::PolicyEvaluated,
                T::Reason,
                leaf,
            ] => match leaf {
                T::Type => r.reason.kind = keyword(t, PolicyOverride::parse),
                T::Comment => r.reason.comment = non_empty(t),
                _ => {}
            },
            [T::Feedback, T::Record, T::Identifiers, leaf] => match leaf {
                T::EnvelopeTo => r.identifiers.envelope_to = non_empty(t),
                T::EnvelopeFrom => r.identifiers.envelope_from = non_empty(t),
                T::HeaderFrom => r.identifiers.header_from = non_empty(t),
                _ => {}
            },
            [
                T::Feedback,
                T::Record,
                T::AuthResults,
                T::Dkim | T::Spf,
                leaf,
            ] => match leaf {
                T::Domain => r.domain = non_empty(t),
                T::Selector => r.selector = non_empty(t),
                T::Result => r.result = non_empty(t),
                T::HumanResult => r.human_result = non_empty(t),
                T::Scope => r.scope = keyword(t, SpfScope::parse),
                _ => {}
            },
            [T::Feedback, T::Record, T::AuthResults, T::Dkim] => {
                let result = r.result.take().ok_or_else(|| Reason::MissingElement {
                    path: format!(
                        "record[{}]/auth_results/dkim/result",
                        self.records.len() + 1
                    ),
                })?;
                r.dkim.push(DkimAuthResult {
                    domain: r.domain.take(),
                    selector: r.selector.take(),
                    result: DkimResult::parse(&result),
                    human_result: r.human_result.take(),
                });
            }
            [T::Feedback, T::Record, T::AuthResults, T::Spf] => {
                let result = r.result.take().ok_or_else(|| Reason::MissingElement {
                    path: format!("record[{}]/auth_results/spf/result", self.records.len() + 1),
                })?;
                r.spf.push(SpfAuthResult {
                    domain: r.domain.take(),
                    scope: r.scope.take(),
                    result: SpfResult::parse(&result),
                    human_result: r.human_result.take(),
                });
            }
            [T::Feedback, T::Record] => {
                let n = self.records.len() + 1;
                let rec = std::mem::take(&mut self.record);
                let missing = |what: &str| Reason::MissingElement {
                    path: format!("record[{n}]/row/{what}"),
                };
                self.records.push(Record {
                    row: Row {
                        source_ip: rec.source_ip.ok_or_else(|| missing("source_ip"))?,
                        count: rec.count.ok_or_else(|| missing("count"))?,
                        policy_evaluated: rec.policy_evaluated,
                    },
                    identifiers: rec.identifiers,
                    auth_results: AuthResults {
                        dkim: rec.dkim,
                        spf: rec.spf,
                    },
                    extensions: rec.extensions,
                });
            }
            _ => {}
        }
        self.path.pop();
        text.clear();
        self.text = text;
        Ok(())
    }

    /// The report read so far without its records: the metadata and policy, cloned, so
    /// the chunked reader can hand them over with each part.
    fn header(&self) -> Result<AggregateReport, Reason> {
        let missing = |path: &str| Reason::MissingElement {
            path: path.to_owned(),
        };
        Ok(AggregateReport {
            namespace: self.namespace.clone(),
            version: self.version.clone(),
            report_metadata: ReportMetadata {
                // An empty org_name occurs in the wild; the contact
                // address's domain names the same reporter.
                org_name: self
                    .org_name
                    .clone()
                    .or_else(|| {
                        let email = self.email.as_deref()?;
                        let domain = email.rsplit_once('@').map_or(email, |(_, d)| d);
                        non_empty(domain.trim_end_matches('>'))
                    })
                    .ok_or_else(|| missing("report_metadata/org_name"))?,
                email: self.email.clone(),
                extra_contact_info: self.extra_contact_info.clone(),
                report_id: self
                    .report_id
                    .clone()
                    .ok_or_else(|| missing("report_metadata/report_id"))?,
                date_range: DateRange {
                    begin: self
                        .begin
                        .ok_or_else(|| missing("report_metadata/date_range/begin"))?,
                    end: self
                        .end
                        .ok_or_else(|| missing("report_metadata/date_range/end"))?,
                },
                errors: self.errors.clone(),
                generator: self.generator.clone(),
            },
            policy_published: PolicyPublished {
                domain: self
                    .domain
                    .clone()
                    .ok_or_else(|| missing("policy_published/domain"))?,
                adkim: self.adkim.clone(),
                aspf: self.aspf.clone(),
                p: self.p.clone(),
                sp: self.sp.clone(),
                np: self.np.clone(),
                pct: self.pct,
                fo: self.fo.clone(),
                testing: self.testing,
                discovery_method: self.discovery_method.clone(),
            },
            records: Vec::new(),
            extensions: self.extensions.clone(),
        })
    }

    /// The whole report, once the document has ended.
    fn finish(mut self) -> Result<AggregateReport, Reason> {
        if !self.saw_root {
            return Err(if self.wrappers > 0 {
                Reason::NotFeedback {
                    root: "schema".into(),
                }
            } else {
                Reason::Empty
            });
        }
        let mut report = self.header()?;
        report.records = std::mem::take(&mut self.records);
        Ok(report)
    }

    /// Hands the records gathered so far to `on`: with the header the first time (once
    /// the header is complete; until then they wait), as more records after that.
    /// `handed` counts the records handed over. False when `on` says stop.
    fn hand_over(
        &mut self,
        handed: &mut Option<usize>,
        on: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) -> bool {
        match *handed {
            None => {
                let Ok(mut head) = self.header() else {
                    return true;
                };
                head.records = std::mem::take(&mut self.records);
                *handed = Some(head.records.len());
                on(Chunk::Start(&head))
            }
            Some(first) => {
                *handed = Some(first + self.records.len());
                let go = on(Chunk::More {
                    records: &self.records,
                    first,
                });
                self.records.clear();
                go
            }
        }
    }
}
