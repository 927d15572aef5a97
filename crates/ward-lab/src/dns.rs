//! The lab's authoritative DNS: hickory-server's catalog behind a handler that can
//! misbehave on purpose.
//!
//! One handler runs per listening address. The *resolver* address answers for every
//! zone (as a recursive resolver would, and NXDOMAIN for names in no zone). Each
//! *nameserver* address answers only for the zones whose NS set names a host at that
//! address, and says REFUSED for the rest — so a lame delegation in a fixture behaves
//! like one on the internet.

use crate::LabError;
use crate::fixture::{DnsBehaviour, Fixture};
use hickory_proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_proto::rr::{LowerName, Name, RData, RecordType};
use hickory_proto::serialize::txt::Parser;
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The zones of a fixture, parsed, with who serves what.
pub(crate) struct Zones {
    pub catalog: Arc<Catalog>,
    /// Zone origins, longest first, so the first match is the closest enclosing zone.
    pub origins: Vec<LowerName>,
    /// For each nameserver address, the zones it serves.
    pub served_at: BTreeMap<IpAddr, HashSet<LowerName>>,
    pub behaviour: Arc<Behaviour>,
    /// For each zone with an enclosing lab zone: a catalog holding only that parent, which
    /// answers DS questions about the zone (DS records live at the parent side of a cut).
    pub ds_catalogs: Arc<HashMap<LowerName, (LowerName, Arc<Catalog>)>>,
    /// The zones simple enough to answer common questions from an index (see
    /// [`FastZone`]).
    pub fast: Arc<HashMap<LowerName, FastZone>>,
    /// Delegations inside the zones, by the name of the cut (see [`Cut`]).
    pub cuts: Arc<HashMap<LowerName, Cut>>,
    /// DS records (master-file lines) of the signed zones that have no signed lab zone
    /// above them: the lab's DNSSEC trust anchor.
    pub anchor: Option<String>,
}

pub(crate) struct Behaviour {
    silent: HashSet<LowerName>,
    lossy: HashSet<LowerName>,
    /// Questions to lossy zones seen once already (their resends are answered).
    lost: std::sync::Mutex<HashSet<(LowerName, RecordType)>>,
    servfail: HashSet<LowerName>,
    refused: HashSet<LowerName>,
}

fn lower(name: &str) -> Result<LowerName, LabError> {
    let fq = format!("{}.", name.trim_end_matches('.'));
    Name::from_str(&fq)
        .map(LowerName::from)
        .map_err(|e| LabError::Fixture(format!("`{name}` is not a domain name: {e}")))
}

fn set(names: &[String]) -> Result<HashSet<LowerName>, LabError> {
    names.iter().map(|n| lower(n)).collect()
}

impl Behaviour {
    fn new(b: &DnsBehaviour) -> Result<Behaviour, LabError> {
        Ok(Behaviour {
            silent: set(&b.silent)?,
            lossy: set(&b.lossy)?,
            lost: std::sync::Mutex::default(),
            servfail: set(&b.servfail)?,
            refused: set(&b.refused)?,
        })
    }
}

/// Parses every zone, builds the catalog and works out which address serves which zone.
/// The TLSA record (`3 1 1`) the lab publishes for a mail server's key.
pub(crate) fn tlsa_record(
    host: &str,
    spki: &[u8],
    kind: crate::hosts::DaneRecord,
) -> Result<hickory_proto::rr::Record, LabError> {
    use hickory_proto::dnssec::DigestType;
    use hickory_proto::dnssec::crypto::Digest;
    use hickory_proto::rr::rdata::tlsa::{CertUsage, Matching, Selector, TLSA};
    let mut digest = Digest::new(spki, DigestType::SHA256)
        .map_err(|e| LabError::Fixture(format!("{host}: TLSA digest: {e}")))?
        .as_ref()
        .to_vec();
    if kind == crate::hosts::DaneRecord::Mismatch
        && let Some(b) = digest.first_mut()
    {
        *b ^= 0xff;
    }
    let owner = Name::from_str(&format!("_25._tcp.{}.", host.trim_end_matches('.')))
        .map_err(|e| LabError::Fixture(format!("{host}: {e}")))?;
    Ok(hickory_proto::rr::Record::from_rdata(
        owner,
        300,
        RData::TLSA(TLSA::new(
            CertUsage::DaneEe,
            Selector::Spki,
            Matching::Sha256,
            digest,
        )),
    ))
}

pub(crate) fn load(
    fixture: &Fixture,
    extra: Vec<hickory_proto::rr::Record>,
) -> Result<Zones, LabError> {
    let mut catalog = Catalog::new();
    let mut origins = Vec::new();
    let mut addresses: HashMap<LowerName, Vec<IpAddr>> = HashMap::new();
    let mut ns_names: Vec<(LowerName, Vec<LowerName>)> = Vec::new();
    let mut parsed = Vec::with_capacity(fixture.zones.len());
    for zone in &fixture.zones {
        let origin = Name::from_str(&format!("{}.", zone.origin.trim_end_matches('.')))
            .map_err(|e| LabError::Fixture(format!("{}: bad origin: {e}", zone.path.display())))?;
        let (origin, records) =
            Parser::new(zone.text.as_str(), Some(zone.path.clone()), Some(origin))
                .parse()
                .map_err(|e| LabError::Fixture(format!("{}: {e}", zone.path.display())))?;
        parsed.push((zone, origin, records));
    }
    // Records made at start (DANE TLSA for mail servers) go in their closest zone.
    let by_origin: HashMap<LowerName, usize> = parsed
        .iter()
        .enumerate()
        .map(|(i, (_, o, _))| (LowerName::from(o), i))
        .collect();
    let all_origins: HashSet<LowerName> = by_origin.keys().cloned().collect();
    for rr in extra {
        let owner = LowerName::from(&rr.name);
        if let Some(i) = closest_zone(&all_origins, &owner).and_then(|z| by_origin.get(&z)) {
            crate::signing::insert(&mut parsed[*i].2, rr);
        }
    }
    let (anchor, keys) = sign_zones(fixture, &mut parsed)?;
    // The zones some other lab zone sits under: their records are kept to answer DS
    // questions about each cut (see `cut_handler`).
    let parents: HashSet<LowerName> = all_origins
        .iter()
        .filter(|o| !o.is_root())
        .filter_map(|o| closest_zone(&all_origins, &o.base_name()))
        .collect();
    let mut parent_records: HashMap<LowerName, (Name, Records)> = HashMap::new();
    let mut fast = HashMap::new();
    let mut cuts = HashMap::new();
    for (zone, origin, records) in parsed {
        if parents.contains(&LowerName::from(&origin)) {
            parent_records.insert(LowerName::from(&origin), (origin.clone(), records.clone()));
        }
        let mut ns = Vec::new();
        for rrset in records.values() {
            for record in rrset.records_without_rrsigs() {
                match &record.data {
                    RData::A(a) => addresses
                        .entry(LowerName::from(&record.name))
                        .or_default()
                        .push(IpAddr::V4(a.0)),
                    RData::AAAA(a) => addresses
                        .entry(LowerName::from(&record.name))
                        .or_default()
                        .push(IpAddr::V6(a.0)),
                    RData::NS(n) if record.name == origin => ns.push(LowerName::from(&n.0)),
                    _ => {}
                }
            }
        }
        for rrset in records.values() {
            let owner = LowerName::from(rrset.name());
            if rrset.record_type() != RecordType::NS || owner == LowerName::from(&origin) {
                continue;
            }
            let ns: Vec<_> = rrset.records_without_rrsigs().cloned().collect();
            let glue = ns
                .iter()
                .filter_map(|r| match &r.data {
                    RData::NS(t) => Some(t.0.clone()),
                    _ => None,
                })
                .flat_map(|target| {
                    // Looked up by key: a parent such as the mail benchmark's `test.` has
                    // thousands of cuts, and a scan of the zone per cut would be quadratic.
                    let target = LowerName::from(&target);
                    [RecordType::A, RecordType::AAAA]
                        .into_iter()
                        .filter_map(|t| {
                            records.get(&hickory_proto::rr::RrKey::new(target.clone(), t))
                        })
                        .flat_map(|g| g.records_without_rrsigs().cloned())
                        .collect::<Vec<_>>()
                })
                .collect();
            cuts.insert(
                owner,
                Cut {
                    parent: LowerName::from(&origin),
                    ns,
                    glue,
                },
            );
        }
        let signed = keys.contains(&LowerName::from(&origin));
        if !signed && let Some(f) = FastZone::new(&origin, &records) {
            fast.insert(LowerName::from(&origin), f);
        }
        let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
            origin.clone(),
            records.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
            None,
        )
        .map_err(|e| LabError::Fixture(format!("{}: {e}", zone.path.display())))?;
        if signed {
            // `new` keeps records only; put the signed RRsets (RRSIGs included) back.
            *handler.records_get_mut() =
                records.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        }
        let handler = Arc::new(handler);
        let origin = LowerName::from(&origin);
        catalog.upsert(origin.clone(), vec![handler]);
        ns_names.push((origin.clone(), ns));
        origins.push(origin);
    }
    let lame: HashSet<(LowerName, LowerName)> = fixture
        .dns
        .lame
        .iter()
        .map(|l| Ok((lower(&l.zone)?, lower(&l.nameserver)?)))
        .collect::<Result<_, LabError>>()?;
    let mut served_at: BTreeMap<IpAddr, HashSet<LowerName>> = BTreeMap::new();
    for (zone, names) in &ns_names {
        for ns in names {
            let ips = addresses.get(ns).map(Vec::as_slice).unwrap_or_default();
            for ip in ips {
                let entry = served_at.entry(*ip).or_default();
                if !lame.contains(&(zone.clone(), ns.clone())) {
                    entry.insert(zone.clone());
                }
            }
        }
    }
    let mut ds_catalogs = HashMap::new();
    for o in &origins {
        if o.is_root() {
            continue;
        }
        let Some(parent) = closest_zone(&all_origins, &o.base_name()) else {
            continue;
        };
        let Some((parent_name, records)) = parent_records.get(&parent) else {
            continue;
        };
        let handler = cut_handler(parent_name, records, o, keys.contains(&parent))?;
        let mut cat = Catalog::new();
        cat.upsert(parent.clone(), vec![Arc::new(handler)]);
        ds_catalogs.insert(o.clone(), (parent, Arc::new(cat)));
    }
    origins.sort_by_key(|o| std::cmp::Reverse(o.num_labels()));
    Ok(Zones {
        catalog: Arc::new(catalog),
        origins,
        served_at,
        behaviour: Arc::new(Behaviour::new(&fixture.dns)?),
        ds_catalogs: Arc::new(ds_catalogs),
        fast: Arc::new(fast),
        cuts: Arc::new(cuts),
        anchor,
    })
}

/// A delegation inside a zone: the child's NS set as the parent holds it, with glue.
pub(crate) struct Cut {
    parent: LowerName,
    ns: Vec<hickory_proto::rr::Record>,
    glue: Vec<hickory_proto::rr::Record>,
}

/// What a plain zone holds, indexed for the questions a scan asks most: TXT, A, AAAA,
/// CAA and TLSA at names that exist, do not exist, or exist without that type.
///
/// Why: hickory-server's in-memory store spends tens of thousands of instructions on
/// such a lookup (it walks the question name to the root comparing names label by
/// label, then repeats that for every wildcard candidate), and in the mail benchmark the
/// lab shares the machine's two cores with the scanner it measures. A zone qualifies only
/// when nothing in it changes those answers: it is unsigned (no RRSIGs or NSEC proofs to
/// add), has no wildcard, CNAME, DNAME or ANAME records and no delegation below its apex.
/// Every other question, and every other zone, goes to hickory. `fast_answers_are_hickorys`
/// compares the two byte for byte.
pub(crate) struct FastZone {
    soa: hickory_proto::rr::Record,
    /// Every owner name and every name between an owner and the apex (empty
    /// non-terminals exist too).
    names: HashSet<LowerName>,
    rrsets: HashMap<(LowerName, RecordType), Vec<hickory_proto::rr::Record>>,
}

impl FastZone {
    /// The types answered from the index; for the others the store adds sections
    /// (NS for SOA, additional addresses for MX, NS and SRV) or follows chains.
    fn answers(qtype: RecordType) -> bool {
        matches!(
            qtype,
            RecordType::TXT | RecordType::A | RecordType::AAAA | RecordType::CAA | RecordType::TLSA
        )
    }

    fn new(origin: &Name, records: &Records) -> Option<FastZone> {
        let apex = LowerName::from(origin);
        let mut names = HashSet::from([apex.clone()]);
        let mut rrsets = HashMap::new();
        let mut soa = None;
        for (key, rrset) in records {
            let owner = key.name.clone();
            let rtype = key.record_type;
            let plain = !owner.is_wildcard()
                && !rtype.is_dnssec()
                && !matches!(
                    rtype,
                    RecordType::CNAME | RecordType::DNAME | RecordType::ANAME
                )
                && (rtype != RecordType::NS || owner == apex);
            if !plain || !apex.zone_of(&owner) {
                return None;
            }
            let mut n = owner.clone();
            while n != apex && names.insert(n.clone()) {
                n = n.base_name();
            }
            let list: Vec<hickory_proto::rr::Record> =
                rrset.records_without_rrsigs().cloned().collect();
            if rtype == RecordType::SOA && owner == apex {
                soa = list.first().cloned();
            }
            if Self::answers(rtype) {
                rrsets.insert((owner, rtype), list);
            }
        }
        Some(FastZone {
            soa: soa?,
            names,
            rrsets,
        })
    }
}

type Records = BTreeMap<hickory_proto::rr::RrKey, hickory_proto::rr::RecordSet>;
type Parsed<'a> = (&'a crate::fixture::ZoneSource, Name, Records);

/// The parent-side zone that answers DS questions about the cut at `cut`: the parent's
/// apex records (SOA, NS, DNSKEY, NSEC and their signatures) and its records at the cut
/// (NS, DS, NSEC), which are all a DS answer or its denial draws on.
///
/// Why not the whole parent: hickory-server's in-memory store answers a question with no
/// records of the asked type by scanning every name of the zone for one at or below the
/// question (`InMemoryZoneHandler::lookup`, 0.26), so a parent with thousands of cuts (the
/// mail benchmark's signed `test.` has 10,000) spent most of the lab's time on DS denials.
fn cut_handler(
    parent: &Name,
    records: &Records,
    cut: &LowerName,
    signed: bool,
) -> Result<InMemoryZoneHandler<TokioRuntimeProvider>, LabError> {
    use hickory_proto::rr::RrKey;
    let at = |name: LowerName| {
        records
            .range(RrKey::new(name.clone(), RecordType::from(0))..)
            .take_while(move |(k, _)| k.name == name)
            .map(|(k, v)| (k.clone(), v.clone()))
    };
    let mine: Records = at(LowerName::from(parent)).chain(at(cut.clone())).collect();
    let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        parent.clone(),
        mine.clone(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
        None,
    )
    .map_err(|e| LabError::Fixture(format!("{parent}: the side of the cut at {cut}: {e}")))?;
    if signed {
        *handler.records_get_mut() = mine.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
    }
    Ok(handler)
}

/// Makes the keys of the zones marked `[[signed]]`, puts each DS record in the closest
/// enclosing lab zone, and signs. Returns the trust anchor (the DS records of the signed
/// zones with no lab zone above them) and the signed zones.
fn sign_zones(
    fixture: &Fixture,
    parsed: &mut [Parsed<'_>],
) -> Result<(Option<String>, HashSet<LowerName>), LabError> {
    use crate::signing::{Fault, ZoneKey};
    let fail = |m: String| LabError::Fixture(format!("dns.toml [[signed]]: {m}"));
    if fixture.dns.signed.is_empty() {
        return Ok((None, HashSet::new()));
    }
    let index: HashMap<LowerName, usize> = parsed
        .iter()
        .enumerate()
        .map(|(i, (_, o, _))| (LowerName::from(o), i))
        .collect();
    let all: HashSet<LowerName> = index.keys().cloned().collect();
    let mut keys = Vec::new();
    for spec in &fixture.dns.signed {
        let origin = lower(&spec.zone)?;
        let Some(&i) = index.get(&origin) else {
            return Err(fail(format!("{} is not a zone of the fixture", spec.zone)));
        };
        keys.push((
            i,
            ZoneKey::generate(parsed[i].1.clone(), spec).map_err(fail)?,
        ));
    }
    let signed: HashSet<LowerName> = keys
        .iter()
        .map(|(i, _)| LowerName::from(&parsed[*i].1))
        .collect();
    let mut anchors = Vec::new();
    for (_, key) in &keys {
        if key.spec.fault == Some(Fault::NoDs) {
            continue;
        }
        let origin = LowerName::from(&key.origin);
        let parent = if origin.is_root() {
            None
        } else {
            closest_zone(&all, &origin.base_name())
        };
        match parent.and_then(|p| index.get(&p).copied()) {
            Some(p) => {
                let ds = key.ds().map_err(fail)?;
                let rr = hickory_proto::rr::Record::from_rdata(
                    key.origin.clone(),
                    3600,
                    RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::DS(ds)),
                );
                crate::signing::insert(&mut parsed[p].2, rr);
                if !signed.contains(&LowerName::from(&parsed[p].1)) {
                    // An unsigned parent holds a DS record nobody can trust: the child
                    // is an anchor of its own.
                    anchors.push((origin.clone(), key.ds_line().map_err(fail)?));
                }
            }
            None => anchors.push((origin.clone(), key.ds_line().map_err(fail)?)),
        }
    }
    let now = time::OffsetDateTime::now_utc();
    for (i, key) in &keys {
        key.sign(&mut parsed[*i].2, now).map_err(fail)?;
    }
    let anchor = match anchors.as_slice() {
        [] => None,
        [(_, line)] => Some(line.clone()),
        several => {
            let names: Vec<String> = several.iter().map(|(n, _)| n.to_string()).collect();
            return Err(fail(format!(
                "one trust anchor per lab: sign a parent of {} too",
                names.join(", ")
            )));
        }
    };
    Ok((anchor, signed))
}

/// What a listening address does.
#[derive(Clone)]
pub(crate) enum Role {
    /// Answers for every zone, NXDOMAIN elsewhere.
    Resolver,
    /// Answers for these zones, REFUSED elsewhere.
    Nameserver(Arc<HashSet<LowerName>>),
}

/// The closest enclosing zone of `name`: `name` itself or its nearest ancestor that is a
/// zone origin. Walks up label by label, so a lab with thousands of zones (the mail
/// benchmark serves 10,000) answers each question in time independent of the zone count.
fn closest_zone(origins: &HashSet<LowerName>, name: &LowerName) -> Option<LowerName> {
    let mut n = name.clone();
    loop {
        if origins.contains(&n) {
            return Some(n);
        }
        if n.is_root() {
            return None;
        }
        n = n.base_name();
    }
}

/// The request handler of one listening address.
#[derive(Clone)]
pub(crate) struct LabHandler {
    pub catalog: Arc<Catalog>,
    /// Every zone origin, for finding the closest enclosing zone label by label.
    pub origins: Arc<HashSet<LowerName>>,
    pub behaviour: Arc<Behaviour>,
    pub role: Role,
    pub queries: Arc<AtomicU64>,
    /// Parent-side catalogs for DS questions at zone cuts (see [`Zones::ds_catalogs`]).
    pub ds_catalogs: Arc<HashMap<LowerName, (LowerName, Arc<Catalog>)>>,
    /// Zones answered from an index for common questions (see [`FastZone`]).
    pub fast: Arc<HashMap<LowerName, FastZone>>,
    /// Delegations, for the referrals a parent zone's nameserver gives.
    pub cuts: Arc<HashMap<LowerName, Cut>>,
    /// This address listens but never answers ([`DnsBehaviour::mute`]).
    pub mute: bool,
}

/// Says nothing at all: the asker must time out.
fn silence(request: &Request) -> ResponseInfo {
    let metadata = Metadata::response_from_request(&request.metadata);
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

#[async_trait::async_trait]
impl RequestHandler for LabHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::Relaxed);
        if self.mute {
            return silence(request);
        }
        let Ok(info) = request.request_info() else {
            return self.error(request, ResponseCode::FormErr, response).await;
        };
        let qname = info.query.name().clone();
        // A DS question about a zone cut belongs to the parent zone (RFC 4035 §3.1.4.1).
        let parent_side = match info.query.query_type() {
            RecordType::DS => self.ds_catalogs.get(&qname).cloned(),
            _ => None,
        };
        let zone = match &parent_side {
            Some((parent, _)) => Some(parent.clone()),
            None => closest_zone(&self.origins, &qname),
        };
        let Some(zone) = zone else {
            let code = match self.role {
                Role::Resolver => ResponseCode::NXDomain,
                Role::Nameserver(_) => ResponseCode::Refused,
            };
            return self.error(request, code, response).await;
        };
        let lose = self.behaviour.lossy.contains(&zone)
            && self
                .behaviour
                .lost
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((qname.clone(), info.query.query_type()));
        if lose || self.behaviour.silent.contains(&zone) {
            return silence(request);
        }
        if self.behaviour.servfail.contains(&zone) {
            return self.error(request, ResponseCode::ServFail, response).await;
        }
        if self.behaviour.refused.contains(&zone) {
            return self.error(request, ResponseCode::Refused, response).await;
        }
        if let Role::Nameserver(serves) = &self.role
            && !serves.contains(&zone)
        {
            // A name below a zone cut of a zone served here gets the referral an
            // authoritative server gives: not an answer, so a resolver pointed here by
            // mistake learns nothing about the name.
            if let Some(cut) = self.cuts.get(&zone)
                && serves.contains(&cut.parent)
            {
                return self.referral(cut, request, response).await;
            }
            return self.error(request, ResponseCode::Refused, response).await;
        }
        match parent_side {
            Some((_, catalog)) => catalog.handle_request::<R, T>(request, response).await,
            None => match self.fast.get(&zone) {
                Some(fast) if plain_question(request, &info) => {
                    self.answer_fast(fast, request, &info, response).await
                }
                _ => self.catalog.handle_request::<R, T>(request, response).await,
            },
        }
    }
}

/// Whether `request` is an ordinary question a [`FastZone`] may answer: a standard
/// query of class IN for one of [`FastZone::answers`]' types, with no EDNS or EDNS
/// version 0 (hickory answers BADVERS to later versions).
fn plain_question(request: &Request, info: &hickory_server::server::RequestInfo<'_>) -> bool {
    request.metadata.message_type == hickory_proto::op::MessageType::Query
        && request.metadata.op_code == hickory_proto::op::OpCode::Query
        && request.edns.as_ref().is_none_or(|e| e.version() == 0)
        && info.query.query_class() == hickory_proto::rr::DNSClass::IN
        && FastZone::answers(info.query.query_type())
}

impl LabHandler {
    /// The answer hickory's catalog would give (see [`FastZone`]): the records, or
    /// NODATA or NXDOMAIN with the zone's SOA in the authority section; authoritative,
    /// with EDNS echoed the way the catalog echoes it.
    async fn answer_fast<R: ResponseHandler>(
        &self,
        zone: &FastZone,
        request: &Request,
        info: &hickory_server::server::RequestInfo<'_>,
        mut response: R,
    ) -> ResponseInfo {
        let qname = info.query.name();
        let qtype = info.query.query_type();
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let (answers, authority): (&[_], &[_]) = match zone.rrsets.get(&(qname.clone(), qtype)) {
            Some(records) => (records, &[]),
            // NODATA, or NXDOMAIN when nothing exists at or below the name; either way
            // the SOA goes in the authority section, as hickory puts it.
            None => {
                if !zone.names.contains(qname) {
                    metadata.response_code = ResponseCode::NXDomain;
                }
                (&[], std::slice::from_ref(&zone.soa))
            }
        };
        let edns = request.edns.as_ref().map(|req| {
            let mut edns = hickory_proto::op::Edns::new();
            edns.set_dnssec_ok(req.flags().dnssec_ok);
            edns.set_max_payload(req.max_payload().max(512));
            edns.set_version(0);
            edns
        });
        let builder = MessageResponseBuilder::new(&request.queries, edns.as_ref());
        let msg = builder.build(
            metadata,
            answers.iter(),
            authority.iter(),
            std::iter::empty(),
            std::iter::empty(),
        );
        match response.send_response(msg).await {
            Ok(info) => info,
            Err(_) => ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            }),
        }
    }

    /// A referral: no error, not authoritative, recursion not available, the child's NS
    /// set in the authority section and its glue as additionals.
    async fn referral<R: ResponseHandler>(
        &self,
        cut: &Cut,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = false;
        metadata.recursion_available = false;
        let builder = MessageResponseBuilder::new(&request.queries, None);
        let msg = builder.build(
            metadata,
            std::iter::empty(),
            cut.ns.iter(),
            std::iter::empty(),
            cut.glue.iter(),
        );
        match response.send_response(msg).await {
            Ok(info) => info,
            Err(_) => ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            }),
        }
    }

    async fn error<R: ResponseHandler>(
        &self,
        request: &Request,
        code: ResponseCode,
        mut response: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::new(&request.queries, None);
        let msg = builder.error_msg(&request.metadata, code);
        match response.send_response(msg).await {
            Ok(info) => info,
            Err(_) => {
                let metadata = Metadata::response_from_request(&request.metadata);
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        }
    }
}

/// Answers the UDP questions that reach `socket`, each in turn, in this one task, until
/// `stop`. hickory-server's own UDP loop spawns a task per question and hands each reply
/// back to the receiving task through a channel. With the mail benchmark's lab on one
/// thread, sharing two cores with the scanner it measures, answering in place took the
/// lab's CPU from 3.7-4.3 s to 3.4-3.5 s in two of three alternating pairs (the third
/// was even). What happens to a datagram is what
/// hickory's loop does: responses and undecodable messages without a header are
/// dropped, a malformed question with a header gets FORMERR, and the reply is encoded
/// within the size the asker's EDNS allows (512 bytes without EDNS), truncated with TC
/// set when it does not fit.
pub(crate) async fn serve_udp(
    socket: tokio::net::UdpSocket,
    handler: LabHandler,
    stop: tokio_util::sync::CancellationToken,
) {
    use hickory_server::net::runtime::TokioTime;
    use hickory_server::net::xfer::Protocol;
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, src) = tokio::select! {
            got = socket.recv_from(&mut buf) => match got {
                Ok(got) => got,
                // ICMP errors from an earlier reply's destination, and the like.
                Err(_) => continue,
            },
            () = stop.cancelled() => return,
        };
        if src.port() == 0 {
            continue;
        }
        let request = match Request::from_bytes(buf[..n].to_vec(), src, Protocol::Udp) {
            Ok(request) => request,
            Err(_) => {
                if let Some(reply) = formerr(&buf[..n]) {
                    let _ = socket.send_to(&reply, src).await;
                }
                continue;
            }
        };
        if request.metadata.message_type == hickory_proto::op::MessageType::Response {
            continue;
        }
        let max_size = request
            .edns
            .as_ref()
            .map_or(512, |edns| edns.max_payload().max(512));
        let reply = UdpReply {
            socket: socket.clone(),
            to: src,
            id: request.metadata.id,
            max_size,
        };
        handler
            .handle_request::<_, TokioTime>(&request, reply)
            .await;
    }
}

/// A header-only FORMERR reply to `bytes`, if they hold a DNS header at all.
fn formerr(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut reply = bytes.get(..12)?.to_vec();
    reply[2] = (reply[2] & 0x79) | 0x80; // QR; keep opcode and RD
    reply[3] = 0x01; // FORMERR
    reply[4..12].fill(0);
    Some(reply)
}

/// `response` on the wire, within `max_size` bytes (truncated with TC set past it), or a
/// header-only SERVFAIL for question `id` if it cannot be encoded: what hickory-server
/// sends (`MessageResponse::encode`, which it keeps to itself).
fn encode_response<'a>(
    response: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
    >,
    max_size: u16,
    id: u16,
) -> Result<(ResponseInfo, Vec<u8>), hickory_proto::ProtoError> {
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    let mut bytes = Vec::with_capacity(512);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_max_size(max_size);
    if let Ok(info) = response.destructive_emit(&mut encoder) {
        return Ok((info, bytes));
    }
    let mut metadata = Metadata::new(
        id,
        hickory_proto::op::MessageType::Response,
        hickory_proto::op::OpCode::Query,
    );
    metadata.response_code = ResponseCode::ServFail;
    let header = Header {
        metadata,
        counts: HeaderCounts::default(),
    };
    bytes.clear();
    let mut encoder = BinEncoder::new(&mut bytes);
    header.emit(&mut encoder)?;
    Ok((ResponseInfo::from(header), bytes))
}

/// Sends one reply to the asker on the socket the question came in on.
#[derive(Clone)]
struct UdpReply {
    socket: Arc<tokio::net::UdpSocket>,
    to: std::net::SocketAddr,
    /// The question's id, for the SERVFAIL sent when the reply cannot be encoded.
    id: u16,
    max_size: u16,
}

#[async_trait::async_trait]
impl ResponseHandler for UdpReply {
    async fn send_response<'a>(
        &mut self,
        response: hickory_server::zone_handler::MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, hickory_server::net::NetError> {
        let (info, bytes) = encode_response(response, self.max_size, self.id)?;
        self.socket.send_to(&bytes, self.to).await?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::ZoneSource;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_server::net::runtime::TokioTime;
    use hickory_server::net::xfer::Protocol;
    use std::path::PathBuf;
    use std::sync::Mutex;

    /// Keeps the encoded reply instead of sending it.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    #[async_trait::async_trait]
    impl ResponseHandler for Capture {
        async fn send_response<'a>(
            &mut self,
            response: hickory_server::zone_handler::MessageResponse<
                '_,
                'a,
                impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
                impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
                impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
                impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            >,
        ) -> Result<ResponseInfo, hickory_server::net::NetError> {
            let (info, bytes) = encode_response(response, 4096, 0)?;
            *self.0.lock().unwrap() = bytes;
            Ok(info)
        }
    }

    fn zone(origin: &str, body: &str) -> ZoneSource {
        ZoneSource {
            origin: origin.into(),
            text: format!(
                "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1.plain.test. h.plain.test. ( 7 7200 3600 1209600 60 )\n@ IN NS ns1.plain.test.\n{body}"
            ),
            path: PathBuf::from(format!("{origin}.zone")),
        }
    }

    fn zones() -> Zones {
        let fixture = Fixture {
            name: "fast answers".into(),
            zones: vec![
                zone(
                    "plain.test",
                    "ns1 IN A 127.0.0.53\n@ IN A 192.0.2.1\n@ IN AAAA 2001:db8::1\n\
                     @ IN TXT \"v=spf1 -all\"\n@ IN TXT \"second\" \"two strings\"\n\
                     @ IN MX 10 mx.plain.test.\nmx IN A 192.0.2.25\n@ IN CAA 0 issue \"ca.example\"\n\
                     _dmarc IN TXT \"v=DMARC1; p=reject\"\nselector1._domainkey IN TXT \"v=DKIM1; p=\"\n\
                     _25._tcp.mx IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\
                     deep.a.b IN TXT \"deep\"\n",
                ),
                zone("wild.test", "*.w IN TXT \"wild\"\n"),
                zone("alias.test", "www IN CNAME plain.test.\n"),
                zone("cut.test", "sub IN NS ns1.plain.test.\n"),
            ],
            hosts_toml: None,
            dns: DnsBehaviour::default(),
            inventory_toml: None,
        };
        load(&fixture, Vec::new()).unwrap()
    }

    fn handler(zones: &Zones, catalog: Arc<Catalog>, fast: bool) -> LabHandler {
        LabHandler {
            catalog,
            origins: Arc::new(zones.origins.iter().cloned().collect()),
            behaviour: zones.behaviour.clone(),
            role: Role::Resolver,
            queries: Arc::new(AtomicU64::new(0)),
            ds_catalogs: zones.ds_catalogs.clone(),
            fast: if fast {
                zones.fast.clone()
            } else {
                Arc::new(HashMap::new())
            },
            cuts: zones.cuts.clone(),
            mute: false,
        }
    }

    async fn ask(
        h: &LabHandler,
        name: &str,
        qtype: RecordType,
        edns: Option<bool>,
        rd: bool,
    ) -> Vec<u8> {
        let mut q = Message::new(0x4242, MessageType::Query, OpCode::Query);
        q.metadata.recursion_desired = rd;
        q.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        if let Some(dnssec_ok) = edns {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            e.set_dnssec_ok(dnssec_ok);
            q.set_edns(e);
        }
        let request = Request::from_bytes(
            q.to_vec().unwrap(),
            "127.0.0.1:5353".parse().unwrap(),
            Protocol::Udp,
        )
        .unwrap();
        let capture = Capture::default();
        h.handle_request::<_, TokioTime>(&request, capture.clone())
            .await;
        capture.0.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn fast_answers_are_hickorys() {
        let zones = zones();
        let plain = lower("plain.test").unwrap();
        assert!(zones.fast.contains_key(&plain));
        for other in ["wild.test", "alias.test", "cut.test"] {
            assert!(!zones.fast.contains_key(&lower(other).unwrap()), "{other}");
        }
        let fast = handler(&zones, zones.catalog.clone(), true);
        let slow = handler(&zones, zones.catalog.clone(), false);
        let names = [
            "plain.test.",
            "PLAIN.Test.",
            "_dmarc.plain.test.",
            "selector1._domainkey.plain.test.",
            "_domainkey.plain.test.",
            "google._domainkey.plain.test.",
            "x.selector1._domainkey.plain.test.",
            "_25._tcp.mx.plain.test.",
            "_tcp.mx.plain.test.",
            "mx.plain.test.",
            "deep.a.b.plain.test.",
            "a.b.plain.test.",
            "b.plain.test.",
            "c.b.plain.test.",
            "nothing.plain.test.",
            "x.w.wild.test.",
            "www.alias.test.",
            "host.sub.cut.test.",
        ];
        let types = [
            RecordType::TXT,
            RecordType::A,
            RecordType::AAAA,
            RecordType::CAA,
            RecordType::TLSA,
            RecordType::MX,
            RecordType::SOA,
            RecordType::NS,
        ];
        let mut compared = 0;
        for name in names {
            for qtype in types {
                for edns in [None, Some(false), Some(true)] {
                    for rd in [false, true] {
                        let ours = ask(&fast, name, qtype, edns, rd).await;
                        let theirs = ask(&slow, name, qtype, edns, rd).await;
                        assert!(!theirs.is_empty(), "{name} {qtype}: no reply");
                        assert_eq!(
                            Message::from_vec(&ours).unwrap(),
                            Message::from_vec(&theirs).unwrap(),
                            "{name} {qtype} edns={edns:?} rd={rd}"
                        );
                        assert_eq!(ours, theirs, "{name} {qtype} edns={edns:?} rd={rd}");
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, names.len() * types.len() * 6);
    }

    #[test]
    fn a_malformed_question_with_a_header_gets_formerr() {
        // id 0xbeef, opcode STATUS (2), RD, one question claimed but missing.
        let question = [0xbe, 0xef, 0x11, 0x20, 0, 1, 0, 0, 0, 0, 0, 0, 7];
        let reply = Message::from_vec(&formerr(&question).unwrap()).unwrap();
        assert_eq!(reply.metadata.id, 0xbeef);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert_eq!(reply.metadata.op_code, OpCode::Status);
        assert!(reply.metadata.recursion_desired);
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
        assert!(reply.queries.is_empty() && reply.answers.is_empty());
        assert_eq!(formerr(&question[..11]), None, "no header, no reply");
    }

    #[tokio::test]
    async fn fast_answers_do_not_need_the_catalog() {
        // With an empty catalog behind it, only the index can answer: what it answers
        // for the plain zone comes from there; the rest is refused by the empty catalog.
        let zones = zones();
        let h = handler(&zones, Arc::new(Catalog::new()), true);
        let code = |bytes: Vec<u8>| Message::from_vec(&bytes).unwrap().metadata.response_code;
        let answer =
            Message::from_vec(&ask(&h, "_dmarc.plain.test.", RecordType::TXT, None, true).await)
                .unwrap();
        assert_eq!(answer.answers.len(), 1);
        assert_eq!(
            code(ask(&h, "nothing.plain.test.", RecordType::TXT, None, true).await),
            ResponseCode::NXDomain
        );
        assert_eq!(
            code(ask(&h, "_domainkey.plain.test.", RecordType::TXT, None, true).await),
            ResponseCode::NoError
        );
        assert_eq!(
            code(ask(&h, "plain.test.", RecordType::MX, None, true).await),
            ResponseCode::Refused
        );
        assert_eq!(
            code(ask(&h, "x.w.wild.test.", RecordType::TXT, None, true).await),
            ResponseCode::Refused
        );
    }
}
