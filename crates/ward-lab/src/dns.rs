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
    /// DS records (master-file lines) of the signed zones that have no signed lab zone
    /// above them: the lab's DNSSEC trust anchor.
    pub anchor: Option<String>,
}

pub(crate) struct Behaviour {
    silent: HashSet<LowerName>,
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
        let signed = keys.contains(&LowerName::from(&origin));
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
        anchor,
    })
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
pub(crate) struct LabHandler {
    pub catalog: Arc<Catalog>,
    /// Every zone origin, for finding the closest enclosing zone label by label.
    pub origins: Arc<HashSet<LowerName>>,
    pub behaviour: Arc<Behaviour>,
    pub role: Role,
    pub queries: Arc<AtomicU64>,
    /// Parent-side catalogs for DS questions at zone cuts (see [`Zones::ds_catalogs`]).
    pub ds_catalogs: Arc<HashMap<LowerName, (LowerName, Arc<Catalog>)>>,
}

#[async_trait::async_trait]
impl RequestHandler for LabHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::Relaxed);
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
        if self.behaviour.silent.contains(&zone) {
            // Say nothing at all: the asker must time out.
            let metadata = Metadata::response_from_request(&request.metadata);
            return ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            });
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
            return self.error(request, ResponseCode::Refused, response).await;
        }
        match parent_side {
            Some((_, catalog)) => catalog.handle_request::<R, T>(request, response).await,
            None => self.catalog.handle_request::<R, T>(request, response).await,
        }
    }
}

impl LabHandler {
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
