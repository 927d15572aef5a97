//! DMARC policy discovery by DNS tree walk (RFC 9989 §4.10), as a pure function over a
//! [`DnsSource`].
//!
//! RFC 9989 replaces the Public Suffix List with a walk up the DNS tree:
//!
//! 1. Query `_dmarc.<author domain>` for TXT. Records that do not start with `v=DMARC1` are
//!    discarded. If more than one DMARC record remains, they are all discarded.
//! 2. If a record has `psd=y` or `psd=n`, the walk stops.
//! 3. Otherwise the next name is found by removing the left-most label. A name of eight or
//!    more labels is first cut to its last seven labels, so a walk makes at most eight
//!    queries. The walk goes up to and including the top-level domain.
//!
//! The organisational domain is the name whose record has `psd=n`. If a record has `psd=y`,
//! it is the name one label below that public suffix domain, on the way from the author
//! domain. Failing both, it is the shortest name that has a record.
//!
//! The policy that applies is the author domain's own record, its `p`; failing that, the
//! Organizational Domain's record, its `sp` (or its `np`, for names that do not exist). A
//! record between the two that is not marked `psd=n` is passed over: `sp` and `np` are
//! defined for the subdomains of the Organizational Domain.
//!
//! Three states: a [`Lookup::NotFetched`] answer stops the walk and is reported as
//! [`WalkEnd::Needed`], never as absent. A failed query stops it as
//! [`WalkEnd::CouldNotTell`]. Everything found before the stop is kept, so a policy found at
//! the author domain is still known when a parent query times out. The organisational
//! domain, though, is then unknown, because it depends on the names above.

use serde::Serialize;
use ward_model::dns::DnsFailure;
use ward_model::{DnsOutcome, DnsSource, Lookup};
use ward_records::dmarc::{self, Dmarc, DmarcError, Psd};

/// At most this many queries per walk (RFC 9989 §4.10).
pub const MAX_QUERIES: usize = 8;

/// What one query found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Found {
    /// No DMARC record here: the name or its TXT records do not exist, or none of them
    /// starts with `v=DMARC1`.
    Nothing,
    /// One DMARC record, parsed.
    Record(Box<Dmarc>),
    /// More than one DMARC record: all are discarded.
    Multiple {
        /// How many.
        count: usize,
    },
    /// One record that claims to be DMARC but that ward refuses. The walk treats it as no
    /// record, and the error is kept as evidence.
    Invalid {
        /// The record.
        raw: String,
        /// Why it was refused.
        error: DmarcError,
    },
}

/// One query of the walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The domain this step is about (without `_dmarc.`).
    pub domain: String,
    /// What was found.
    pub found: Found,
}

/// Why the walk stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WalkEnd {
    /// It reached the top-level domain.
    Top,
    /// A record with `psd=y` or `psd=n` stopped it.
    Psd {
        /// Where.
        domain: String,
        /// Which value.
        psd: Psd,
    },
    /// The source does not hold this question. Fetch it and walk again.
    Needed {
        /// The name to ask.
        name: String,
        /// The record type.
        rtype: &'static str,
    },
    /// A query failed: timeout, SERVFAIL, refusal and so on.
    CouldNotTell {
        /// The name asked.
        name: String,
        /// What went wrong.
        failure: DnsFailure,
    },
}

/// Which record's policy applies to the author domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PolicySource {
    /// The author domain's own record: its `p` applies.
    AuthorDomain {
        /// The domain.
        domain: String,
    },
    /// A parent's record: its `sp` applies (or its `np`, for names that do not exist).
    Parent {
        /// The parent domain.
        domain: String,
    },
    /// The walk finished and found no usable record.
    None,
    /// The walk stopped before any record was found (see [`Discovery::end`]).
    Unknown,
}

/// How the organisational domain was determined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OrgDomain {
    /// A record with `psd=n` marks it.
    MarkedPsdN {
        /// The domain.
        domain: String,
    },
    /// The name one label below a `psd=y` record.
    BelowPsd {
        /// The organisational domain.
        domain: String,
        /// The public suffix domain whose record said `psd=y`.
        psd_domain: String,
    },
    /// The shortest name that has a record.
    Shortest {
        /// The domain.
        domain: String,
    },
    /// The walk finished and found no record at all.
    NoRecord,
    /// The walk stopped early (see [`Discovery::end`]).
    Unknown,
}

/// The result of one walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// The author domain, normalised (lower case, no trailing dot).
    pub author_domain: String,
    /// Every query made, in order.
    pub steps: Vec<Step>,
    /// Why the walk stopped.
    pub end: WalkEnd,
    /// Which record's policy applies.
    pub policy: PolicySource,
    /// The organisational domain.
    pub org_domain: OrgDomain,
}

impl Discovery {
    /// The record whose policy applies, if known.
    pub fn policy_record(&self) -> Option<&Dmarc> {
        let domain = match &self.policy {
            PolicySource::AuthorDomain { domain } | PolicySource::Parent { domain } => domain,
            PolicySource::None | PolicySource::Unknown => return None,
        };
        self.steps.iter().find_map(|s| match &s.found {
            Found::Record(d) if &s.domain == domain => Some(&**d),
            _ => None,
        })
    }
}

/// The names the walk queries for `domain`, in order (without `_dmarc.`): the domain
/// itself, then (if it has 8 or more labels) its last 7 labels, then one label fewer each
/// time, down to the top-level domain.
pub fn walk_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let mut out = Vec::new();
    if labels.is_empty() {
        return out;
    }
    out.push(labels.join("."));
    let mut n = labels.len().min(8);
    while n > 1 {
        n -= 1;
        out.push(labels.get(labels.len() - n..).unwrap_or_default().join("."));
    }
    out
}

/// Whether a TXT record starts with `v=DMARC1` (blanks around `=` allowed, as the grammar
/// allows them); others are discarded before parsing.
fn starts_like_dmarc(txt: &str) -> bool {
    let first = txt.split(';').next().unwrap_or_default();
    match first.split_once('=') {
        Some((k, v)) => {
            k.trim_matches([' ', '\t']).eq_ignore_ascii_case("v")
                && v.trim_matches([' ', '\t']) == "DMARC1"
        }
        None => false,
    }
}

pub(crate) fn classify(outcome: &DnsOutcome) -> Found {
    let mut dmarc_like = Vec::new();
    for t in outcome
        .records_of("TXT")
        .map(|r| r.data.as_str())
        .filter(|t| starts_like_dmarc(t))
    {
        dmarc_like.push(dmarc::parse(t, &dmarc::Limits::default()).map_err(|e| (t, e)));
    }
    match dmarc_like.len() {
        0 => Found::Nothing,
        1 => match dmarc_like.pop() {
            Some(Ok(d)) => Found::Record(Box::new(d)),
            Some(Err((raw, error))) => Found::Invalid {
                raw: raw.into(),
                error,
            },
            None => Found::Nothing,
        },
        count => Found::Multiple { count },
    }
}

/// Walks the tree for `author_domain` over `dns`.
pub fn discover(dns: &dyn DnsSource, author_domain: &str) -> Discovery {
    let author = author_domain.trim_end_matches('.').to_ascii_lowercase();
    let names = walk_names(&author);
    let mut steps = Vec::new();
    let mut end = WalkEnd::Top;
    for domain in names.into_iter().take(MAX_QUERIES) {
        let qname = format!("_dmarc.{domain}");
        let found = match dns.query(&qname, "TXT") {
            Lookup::NotFetched => {
                end = WalkEnd::Needed {
                    name: qname,
                    rtype: "TXT",
                };
                break;
            }
            Lookup::Done(DnsOutcome::Failed { failure }) => {
                end = WalkEnd::CouldNotTell {
                    name: qname,
                    failure,
                };
                break;
            }
            Lookup::Done(outcome) => classify(&outcome),
        };
        let psd = match &found {
            Found::Record(d) => d.psd.filter(|p| *p != Psd::Unspecified),
            _ => None,
        };
        steps.push(Step {
            domain: domain.clone(),
            found,
        });
        if let Some(psd) = psd {
            end = WalkEnd::Psd { domain, psd };
            break;
        }
    }
    let org_domain = match &end {
        WalkEnd::Psd {
            domain,
            psd: Psd::No,
        } => OrgDomain::MarkedPsdN {
            domain: domain.clone(),
        },
        WalkEnd::Psd {
            domain,
            psd: Psd::Yes,
        } => {
            // One label below the PSD, along the author domain.
            let want = domain.split('.').count() + 1;
            let labels: Vec<&str> = author.split('.').collect();
            let org = if labels.len() >= want {
                labels
                    .get(labels.len() - want..)
                    .unwrap_or_default()
                    .join(".")
            } else {
                // The author domain is itself the public suffix domain.
                author.clone()
            };
            OrgDomain::BelowPsd {
                domain: org,
                psd_domain: domain.clone(),
            }
        }
        WalkEnd::Top | WalkEnd::Psd { .. } => steps
            .iter()
            .rev()
            .find(|s| matches!(s.found, Found::Record(_)))
            .map_or(OrgDomain::NoRecord, |s| OrgDomain::Shortest {
                domain: s.domain.clone(),
            }),
        WalkEnd::Needed { .. } | WalkEnd::CouldNotTell { .. } => OrgDomain::Unknown,
    };
    let has_record = |d: &str| {
        steps
            .iter()
            .any(|s| s.domain == d && matches!(s.found, Found::Record(_)))
    };
    let parent = |d: &str| PolicySource::Parent {
        domain: d.to_owned(),
    };
    // Without a record of its own, the author domain takes the Organizational Domain's
    // policy: a record between the two that is not marked psd=n is passed over.
    let policy = if has_record(&author) {
        PolicySource::AuthorDomain {
            domain: author.clone(),
        }
    } else {
        match &org_domain {
            OrgDomain::MarkedPsdN { domain } | OrgDomain::Shortest { domain } => parent(domain),
            // An Organizational Domain below a public suffix domain that publishes no
            // record of its own falls under the public suffix operator's policy.
            OrgDomain::BelowPsd { domain, psd_domain } => {
                if has_record(domain) {
                    parent(domain)
                } else {
                    parent(psd_domain)
                }
            }
            OrgDomain::NoRecord => PolicySource::None,
            // The walk stopped early: the shortest record seen so far stands in for the
            // Organizational Domain (names above nearly always have none); with none
            // seen, nothing is known.
            OrgDomain::Unknown => steps
                .iter()
                .rev()
                .find(|s| matches!(s.found, Found::Record(_)))
                .map_or(PolicySource::Unknown, |s| parent(&s.domain)),
        }
    };
    Discovery {
        author_domain: author,
        steps,
        end,
        policy,
        org_domain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use ward_model::DnsRecord;
    use ward_records::tag_list::TagListError;

    /// Fixture DNS: every name the walk may ask must be listed; anything else is a test
    /// error, never a quiet NXDOMAIN. Records every question asked.
    struct Fixture {
        answers: HashMap<String, Lookup>,
        asked: RefCell<Vec<String>>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                answers: HashMap::new(),
                asked: RefCell::new(Vec::new()),
            }
        }
        fn txt(mut self, domain: &str, records: &[&str]) -> Self {
            let name = format!("_dmarc.{domain}");
            let records = records
                .iter()
                .map(|d| DnsRecord {
                    name: name.clone(),
                    rtype: "TXT".into(),
                    ttl: 300,
                    data: (*d).into(),
                })
                .collect();
            self.answers.insert(
                name,
                Lookup::Done(DnsOutcome::Answer {
                    records,
                    authoritative: true,
                }),
            );
            self
        }
        fn nx(mut self, domains: &[&str]) -> Self {
            for d in domains {
                self.answers.insert(
                    format!("_dmarc.{d}"),
                    Lookup::Done(DnsOutcome::NxDomain {
                        authoritative: true,
                    }),
                );
            }
            self
        }
        fn set(mut self, domain: &str, l: Lookup) -> Self {
            self.answers.insert(format!("_dmarc.{domain}"), l);
            self
        }
        fn asked(&self) -> Vec<String> {
            self.asked.borrow().clone()
        }
    }

    impl DnsSource for Fixture {
        fn query(&self, name: &str, rtype: &str) -> Lookup {
            assert_eq!(rtype, "TXT", "unexpected type for {name}");
            self.asked.borrow_mut().push(name.to_string());
            match self.answers.get(name) {
                Some(l) => l.clone(),
                None => panic!("fixture has no answer for {name} {rtype}"),
            }
        }
    }

    #[test]
    fn walk_names_caps_at_eight() {
        assert_eq!(
            walk_names("a.b.example.org"),
            vec!["a.b.example.org", "b.example.org", "example.org", "org"]
        );
        let long = walk_names("1.2.3.4.5.6.7.8.9.example.org");
        assert_eq!(long.len(), 8);
        assert_eq!(long[0], "1.2.3.4.5.6.7.8.9.example.org");
        assert_eq!(long[1], "5.6.7.8.9.example.org");
        assert_eq!(long[7], "org");
        assert_eq!(walk_names("org"), vec!["org"]);
        assert!(walk_names("").is_empty());
    }

    #[test]
    fn record_at_author_domain_and_org_above() {
        let f = Fixture::new()
            .txt("branch.party.org.uk", &["v=DMARC1; p=quarantine"])
            .txt(
                "party.org.uk",
                &["v=DMARC1; p=reject; rua=mailto:d@party.org.uk"],
            )
            .nx(&["org.uk", "uk"]);
        let d = discover(&f, "Branch.Party.org.uk.");
        assert_eq!(d.author_domain, "branch.party.org.uk");
        assert_eq!(
            d.policy,
            PolicySource::AuthorDomain {
                domain: "branch.party.org.uk".into()
            }
        );
        assert_eq!(
            d.org_domain,
            OrgDomain::Shortest {
                domain: "party.org.uk".into()
            }
        );
        assert_eq!(d.end, WalkEnd::Top);
        assert_eq!(f.asked().len(), 4);
        assert_eq!(
            d.policy_record().map(|r| r.effective_p()),
            Some(dmarc::Policy::Quarantine)
        );
    }

    #[test]
    fn parent_policy_applies_to_subdomain() {
        let f = Fixture::new()
            .nx(&["mail.party.example", "example"])
            .txt("party.example", &["v=DMARC1; p=reject; sp=quarantine"]);
        let d = discover(&f, "mail.party.example");
        assert_eq!(
            d.policy,
            PolicySource::Parent {
                domain: "party.example".into()
            }
        );
        assert_eq!(
            d.policy_record().map(|r| r.effective_sp()),
            Some(dmarc::Policy::Quarantine)
        );
    }

    #[test]
    fn psd_n_stops_and_marks_org() {
        let f = Fixture::new()
            .nx(&["a.b.party.example"])
            .txt("b.party.example", &["v=DMARC1; p=reject; psd=n"]);
        let d = discover(&f, "a.b.party.example");
        assert_eq!(
            d.end,
            WalkEnd::Psd {
                domain: "b.party.example".into(),
                psd: Psd::No
            }
        );
        assert_eq!(
            d.org_domain,
            OrgDomain::MarkedPsdN {
                domain: "b.party.example".into()
            }
        );
        // Nothing above b.party.example was asked.
        assert_eq!(
            f.asked(),
            vec!["_dmarc.a.b.party.example", "_dmarc.b.party.example"]
        );
    }

    #[test]
    fn psd_y_org_is_one_label_below() {
        let f = Fixture::new()
            .nx(&[
                "x.branch.party.gov.example",
                "branch.party.gov.example",
                "party.gov.example",
            ])
            .txt("gov.example", &["v=DMARC1; p=reject; psd=y"]);
        let d = discover(&f, "x.branch.party.gov.example");
        assert_eq!(
            d.org_domain,
            OrgDomain::BelowPsd {
                domain: "party.gov.example".into(),
                psd_domain: "gov.example".into()
            }
        );
        assert_eq!(
            d.policy,
            PolicySource::Parent {
                domain: "gov.example".into()
            }
        );
        assert_eq!(f.asked().len(), 4);
    }

    #[test]
    fn not_fetched_is_needed_not_absent() {
        let f = Fixture::new()
            .txt("a.party.example", &["v=DMARC1; p=none"])
            .set("party.example", Lookup::NotFetched);
        let d = discover(&f, "a.party.example");
        assert_eq!(
            d.end,
            WalkEnd::Needed {
                name: "_dmarc.party.example".into(),
                rtype: "TXT"
            }
        );
        // The author domain's own record is known; the org domain is not.
        assert_eq!(
            d.policy,
            PolicySource::AuthorDomain {
                domain: "a.party.example".into()
            }
        );
        assert_eq!(d.org_domain, OrgDomain::Unknown);

        let f = Fixture::new().set("party.example", Lookup::NotFetched);
        let d = discover(&f, "party.example");
        assert_eq!(d.policy, PolicySource::Unknown);
        assert!(d.steps.is_empty());
    }

    #[test]
    fn failure_is_could_not_tell() {
        let f = Fixture::new().nx(&["a.party.example"]).set(
            "party.example",
            Lookup::Done(DnsOutcome::Failed {
                failure: DnsFailure::ServFail,
            }),
        );
        let d = discover(&f, "a.party.example");
        assert_eq!(
            d.end,
            WalkEnd::CouldNotTell {
                name: "_dmarc.party.example".into(),
                failure: DnsFailure::ServFail
            }
        );
        assert_eq!(d.policy, PolicySource::Unknown);
        assert_eq!(d.org_domain, OrgDomain::Unknown);
    }

    #[test]
    fn no_record_anywhere_is_absent() {
        let f = Fixture::new().nx(&["party.example", "example"]);
        let d = discover(&f, "party.example");
        assert_eq!(d.policy, PolicySource::None);
        assert_eq!(d.org_domain, OrgDomain::NoRecord);
        assert_eq!(d.end, WalkEnd::Top);
    }

    #[test]
    fn multiple_and_invalid_records_are_discarded() {
        let f = Fixture::new()
            .txt(
                "a.party.example",
                &["v=DMARC1; p=none", "v=DMARC1; p=reject", "v=spf1 -all"],
            )
            .txt("party.example", &["v=DMARC1; p=reject; p=none"])
            .txt("example", &["some other text"]);
        let d = discover(&f, "a.party.example");
        assert_eq!(d.steps[0].found, Found::Multiple { count: 2 });
        assert!(matches!(
            d.steps[1].found,
            Found::Invalid {
                error: DmarcError::TagList(TagListError::DuplicateTag { .. }),
                ..
            }
        ));
        assert_eq!(d.steps[2].found, Found::Nothing);
        assert_eq!(d.policy, PolicySource::None);
    }

    #[test]
    fn long_names_make_at_most_eight_queries() {
        let name = "1.2.3.4.5.6.7.8.9.example.org";
        let f = Fixture::new().nx(&[
            name,
            "5.6.7.8.9.example.org",
            "6.7.8.9.example.org",
            "7.8.9.example.org",
            "8.9.example.org",
            "9.example.org",
            "example.org",
            "org",
        ]);
        let d = discover(&f, name);
        assert_eq!(f.asked().len(), MAX_QUERIES);
        assert_eq!(d.steps.len(), MAX_QUERIES);
    }
}
