//! Every check ward can emit, in one list: its id, its family, its place in the catalogue.
//!
//! Check ids are the keys of the advice catalogue, the store and the JSON output, so they
//! are a closed enum rather than strings: a typo is a compile error, and advice, scoring
//! and the store match on the variant. The dotted text (`dmarc.policy`) is what users and
//! files see; once published, an id never changes meaning.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares [`CheckId`] and [`Family`] from one table: variant, dotted id, family.
macro_rules! checks {
    ($($variant:ident = $id:literal, $family:ident;)*) => {
        /// One check, such as `dns.ns` or `dmarc.policy`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum CheckId {
            $($variant,)*
        }

        impl CheckId {
            /// Every check, in catalogue order (the order findings are listed in).
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The dotted id, as users and files see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }

            /// The family the check belongs to (the part of its id before the dot).
            pub const fn family(self) -> Family {
                match self {
                    $(CheckId::$variant => Family::$family,)*
                }
            }
        }
    };
}

checks! {
    DnsResolves = "dns.resolves", Dns;
    DnsNs = "dns.ns", Dns;
    DnsCaa = "dns.caa", Dns;
    SpfPresent = "spf.present", Spf;
    SpfSyntax = "spf.syntax", Spf;
    SpfAll = "spf.all", Spf;
    SpfLookups = "spf.lookups", Spf;
    SpfVoidLookups = "spf.void_lookups", Spf;
    SpfHygiene = "spf.hygiene", Spf;
    SpfLoops = "spf.loops", Spf;
    DmarcPresent = "dmarc.present", Dmarc;
    DmarcSyntax = "dmarc.syntax", Dmarc;
    DmarcPolicy = "dmarc.policy", Dmarc;
    DmarcSubdomains = "dmarc.subdomains", Dmarc;
    DmarcReporting = "dmarc.reporting", Dmarc;
    DmarcInherited = "dmarc.inherited", Dmarc;
    DkimPresent = "dkim.present", Dkim;
    DkimStrength = "dkim.strength", Dkim;
    DkimSyntax = "dkim.syntax", Dkim;
    MxPresent = "mx.present", Mx;
    MtaStsRecord = "mta_sts.record", MtaSts;
    MtaStsPolicy = "mta_sts.policy", MtaSts;
    TlsRptRecord = "tls_rpt.record", TlsRpt;
    BimiRecord = "bimi.record", Bimi;
    ParkedLockdown = "parked.lockdown", Parked;
    MailBulkSender = "mail.bulk_sender", Mail;
    WebTlsVersions = "web.tls_versions", Web;
    WebCiphers = "web.ciphers", Web;
    WebCert = "web.cert", Web;
    MxStarttls = "mx.starttls", Mx;
    MxTlsVersions = "mx.tls_versions", Mx;
    MxCiphers = "mx.ciphers", Mx;
    MxCert = "mx.cert", Mx;
    DnssecSigned = "dnssec.signed", Dnssec;
    DnssecValid = "dnssec.valid", Dnssec;
    DnssecAlgorithms = "dnssec.algorithms", Dnssec;
    MxDane = "mx.dane", Mx;
    WebHttps = "web.https", Web;
    WebRedirect = "web.redirect", Web;
    WebHsts = "web.hsts", Web;
    WebCsp = "web.csp", Web;
    WebXcto = "web.xcto", Web;
    WebFraming = "web.framing", Web;
    WebReferrer = "web.referrer", Web;
    WebPermissions = "web.permissions", Web;
    WebVersionLeak = "web.version_leak", Web;
    WebCookies = "web.cookies", Web;
    WebSecurityTxt = "web.security_txt", Web;
    ReportsUnauthenticatedSources = "reports.unauthenticated_sources", Reports;
    ReportsTlsFailures = "reports.tls_failures", Reports;
}

/// What a check is about: the part of its id before the dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// The domain's own DNS: resolution, nameservers, CAA.
    Dns,
    /// DNSSEC signing and validation.
    Dnssec,
    /// SPF: who may send mail as the domain.
    Spf,
    /// DKIM signing keys.
    Dkim,
    /// DMARC policy and reporting.
    Dmarc,
    /// The mail servers: MX records, STARTTLS, their certificates, DANE.
    Mx,
    /// MTA-STS: TLS required for mail to the domain.
    MtaSts,
    /// TLS-RPT: reports of failed TLS to the domain.
    TlsRpt,
    /// BIMI logos.
    Bimi,
    /// A domain that sends no mail, locked down as such.
    Parked,
    /// Rules of the big mailbox providers for bulk senders.
    Mail,
    /// The web site: HTTPS, redirects, TLS, headers, cookies, security.txt.
    Web,
    /// What the stored DMARC and TLS reports show.
    Reports,
}

impl Family {
    /// The family's prefix in check ids.
    pub const fn as_str(self) -> &'static str {
        match self {
            Family::Dns => "dns",
            Family::Dnssec => "dnssec",
            Family::Spf => "spf",
            Family::Dkim => "dkim",
            Family::Dmarc => "dmarc",
            Family::Mx => "mx",
            Family::MtaSts => "mta_sts",
            Family::TlsRpt => "tls_rpt",
            Family::Bimi => "bimi",
            Family::Parked => "parked",
            Family::Mail => "mail",
            Family::Web => "web",
            Family::Reports => "reports",
        }
    }
}

impl CheckId {
    /// The checks of `family`, in catalogue order.
    pub fn of_family(family: Family) -> impl Iterator<Item = CheckId> {
        CheckId::ALL
            .iter()
            .copied()
            .filter(move |c| c.family() == family)
    }

    /// The check with the dotted id `id`, or `None` for an id ward does not know.
    pub fn parse(id: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.as_str() == id)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        CheckId::parse(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown check id {id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_dotted_and_prefixed_by_their_family() {
        let mut seen = std::collections::BTreeSet::new();
        for &c in CheckId::ALL {
            assert!(seen.insert(c.as_str()), "{c} listed twice");
            let (family, name) = c.as_str().split_once('.').expect("dotted");
            assert_eq!(family, c.family().as_str(), "{c}");
            assert!(
                !name.is_empty() && name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
            assert_eq!(CheckId::parse(c.as_str()), Some(c));
        }
        assert_eq!(CheckId::parse("dmarc.nope"), None);
    }

    #[test]
    fn serialises_as_the_dotted_id() {
        let json = serde_json::to_string(&CheckId::DmarcPolicy).unwrap();
        assert_eq!(json, "\"dmarc.policy\"");
        assert_eq!(
            serde_json::from_str::<CheckId>(&json).unwrap(),
            CheckId::DmarcPolicy
        );
        let err = serde_json::from_str::<CheckId>("\"dmarc.nope\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown check id \"dmarc.nope\""),
            "{err}"
        );
    }
}
