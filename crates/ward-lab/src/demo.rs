//! "Example Party": the simulated organisation that `ward demo` and `ward lab` serve.
//!
//! An HQ run like a medium-sized enterprise, three regions and 24 constituency branches
//! run by volunteers, and a few parked domains, with the mistakes such organisations
//! really make. Every check family adds its cases here, so that the demo exercises every
//! check ward has. The cases are listed in [`CASES`] so tests can assert each one.
//!
//! Addresses: the lab resolver is 127.0.53.1; nameservers live in 127.0.54-57.x, web
//! hosts in 127.0.10.x and mail hosts in 127.0.20.x.
//!
//! DNSSEC: the lab serves the `example.` zone itself, signed, holding DS records for the
//! signed demo zones; its DS record is the demo's trust anchor ([`crate::Lab::trust_anchor`]).

use crate::fixture::{DnsBehaviour, Fixture, Lame, ZoneSource};
use crate::signing::{Fault, Signed};
use std::fmt::Write;
use std::path::PathBuf;

pub mod reports;

/// The HQ's domain.
pub const HQ_DOMAIN: &str = "exampleparty.example";

/// A deliberate situation in the demo, and the domain that shows it.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The domain.
    pub domain: &'static str,
    /// What is wrong (or right) with it.
    pub what: &'static str,
}

/// The deliberate situations, for tests and for people reading the demo's output.
pub const CASES: &[Case] = &[
    Case {
        domain: HQ_DOMAIN,
        what: "well run: two nameservers, CAA, DMARC reject with authorised external reports, DKIM 2048, MTA-STS enforce, TLS-RPT, BIMI",
    },
    Case {
        domain: "members.exampleparty.example",
        what: "no DMARC record of its own, protected by the HQ's inherited reject",
    },
    Case {
        domain: "london.exampleparty-south.example",
        what: "no DMARC record of its own; inherits sp=none from its region",
    },
    Case {
        domain: "exampleparty-north.example",
        what: "DMARC quarantine",
    },
    Case {
        domain: "exampleparty-midlands.example",
        what: "no DMARC record",
    },
    Case {
        domain: "exampleparty-south.example",
        what: "DMARC reject, but sp=none",
    },
    Case {
        domain: "example-party.example",
        what: "parked and locked down: SPF -all, DMARC reject, null MX",
    },
    Case {
        domain: "examplepartyshop.example",
        what: "parked, SPF only: no DMARC, no MX",
    },
    Case {
        domain: "vote-exampleparty.example",
        what: "parked, but still has a real MX",
    },
    Case {
        domain: "bradford-exampleparty.example",
        what: "branch done properly: DMARC reject, DKIM 2048, MTA-STS enforce, TLS-RPT",
    },
    Case {
        domain: "cambridge-exampleparty.example",
        what: "DMARC reports to a processor that has not authorised them",
    },
    Case {
        domain: "derby-exampleparty.example",
        what: "DMARC quarantine with sp=none",
    },
    Case {
        domain: "durham-exampleparty.example",
        what: "1024-bit DKIM key; TLS-RPT record without rua",
    },
    Case {
        domain: "exeter-exampleparty.example",
        what: "512-bit DKIM key",
    },
    Case {
        domain: "ipswich-exampleparty.example",
        what: "only DKIM key revoked",
    },
    Case {
        domain: "norwich-exampleparty.example",
        what: "MTA-STS in testing mode",
    },
    Case {
        domain: "reading-exampleparty.example",
        what: "MTA-STS policy does not list the real MX",
    },
    Case {
        domain: "salford-exampleparty.example",
        what: "MTA-STS record but no policy host",
    },
    Case {
        domain: "wakefield-exampleparty.example",
        what: "DMARC reject in testing mode (t=y), obsolete pct",
    },
    Case {
        domain: "harrogate-exampleparty.example",
        what: "DKIM key record that does not parse",
    },
    Case {
        domain: "bristol-exampleparty.example",
        what: "BIMI logo while DMARC only monitors",
    },
    Case {
        domain: "bolton-exampleparty.example",
        what: "DMARC without aggregate reports (no rua)",
    },
    Case {
        domain: "preston-exampleparty.example",
        what: "no SPF, no DMARC; its own web server: no HTTPS redirect, CSP with 'unsafe-inline', camera and microphone open to every embedded site, versions in Server and X-Powered-By, a cookie without Secure, an expired security.txt",
    },
    Case {
        domain: "ashford-exampleparty.example",
        what: "only one nameserver",
    },
    Case {
        domain: "bolton-exampleparty.example",
        what: "only one nameserver",
    },
    Case {
        domain: "carlisle-exampleparty.example",
        what: "second nameserver is lame (REFUSED)",
    },
    Case {
        domain: "dover-exampleparty.example",
        what: "nameservers never answer (timeout)",
    },
    Case {
        domain: "halifax-exampleparty.example",
        what: "nameservers answer SERVFAIL",
    },
    Case {
        domain: "kendal-exampleparty.example",
        what: "registration lapsed: NXDOMAIN",
    },
    Case {
        domain: "lincoln-exampleparty.example",
        what: "malformed CAA record; DMARC record with a typo (p=rejectt)",
    },
    Case {
        domain: "oxford-exampleparty.example",
        what: "CAA with unknown critical tag; two DMARC records",
    },
    Case {
        domain: "york-exampleparty.example",
        what: "TXT record hiding a terminal escape sequence",
    },
    Case {
        domain: HQ_DOMAIN,
        what: "mail server with STARTTLS and a valid certificate",
    },
    Case {
        domain: "exeter-exampleparty.example",
        what: "own web server whose certificate has expired",
    },
    Case {
        domain: "durham-exampleparty.example",
        what: "old web server still speaking TLS 1.0 with RSA key exchange",
    },
    Case {
        domain: "salford-exampleparty.example",
        what: "own mail server without STARTTLS",
    },
    Case {
        domain: "wakefield-exampleparty.example",
        what: "own web server that does not send its certificate's intermediate",
    },
    Case {
        domain: "ipswich-exampleparty.example",
        what: "own web server stapling an OCSP response that says its certificate is revoked",
    },
    Case {
        domain: "cambridge-exampleparty.example",
        what: "own web server sending its chain out of order (with a good OCSP staple)",
    },
    Case {
        domain: "derby-exampleparty.example",
        what: "own web server sending an unrelated certificate with its chain",
    },
    Case {
        domain: "truro-exampleparty.example",
        what: "own web server stapling an OCSP response that went stale",
    },
    Case {
        domain: HQ_DOMAIN,
        what: "DNSSEC-signed (ECDSA P-256, SHA-256 DS) with a valid chain; DANE TLSA for its mail server that matches",
    },
    Case {
        domain: "bradford-exampleparty.example",
        what: "DNSSEC-signed with a valid chain",
    },
    Case {
        domain: "derby-exampleparty.example",
        what: "DNSSEC signatures expired: the chain is broken (bogus)",
    },
    Case {
        domain: "oxford-exampleparty.example",
        what: "DS record at the parent but no DNSKEY: moved to a DNS host that does not sign",
    },
    Case {
        domain: "wakefield-exampleparty.example",
        what: "DNSSEC with RSA/SHA-1 (algorithm 5) and a SHA-1 DS record",
    },
    Case {
        domain: "lincoln-exampleparty.example",
        what: "DNSSEC-signed, but an old RSA/MD5 (algorithm 1) key left in the DNSKEY set",
    },
    Case {
        domain: "truro-exampleparty.example",
        what: "own mail server whose DANE TLSA record no longer matches its key",
    },
    Case {
        domain: HQ_DOMAIN,
        what: "reports: own MX, Microsoft 365 and a newsletter provider pass; a forwarder breaks SPF but keeps DKIM; DKIM selector news2026 known only from reports",
    },
    Case {
        domain: "barnsley-exampleparty.example",
        what: "reports: a spoofing source fails DMARC under p=none, and so does the branch's own mail; failure reports",
    },
    Case {
        domain: "exampleparty-north.example",
        what: "reports: a spoofing source stopped by quarantine",
    },
    Case {
        domain: "bradford-exampleparty.example",
        what: "TLS reports: the hosting company's MX served an expired certificate for three days",
    },
];

/// Zones the demo signs, with their algorithm, DS digest type and deliberate fault.
fn signed_zones() -> Vec<Signed> {
    let s = |zone: &str, algorithm: u8, ds_digest: u8, fault: Option<Fault>| Signed {
        zone: zone.to_owned(),
        algorithm,
        ds_digest,
        fault,
        stale_key: None,
        extra_keys: 0,
    };
    vec![
        Signed::new("example"),
        Signed::new(HQ_DOMAIN),
        Signed::new("bradford-exampleparty.example"),
        s("derby-exampleparty.example", 13, 2, Some(Fault::Expired)),
        s("oxford-exampleparty.example", 13, 2, Some(Fault::NoDnskey)),
        s("wakefield-exampleparty.example", 5, 1, None),
        Signed {
            stale_key: Some(1),
            ..Signed::new("lincoln-exampleparty.example")
        },
        Signed::new("truro-exampleparty.example"),
    ]
}

/// Branches that run their own web server (town, address, certificate table contents,
/// TLS server) instead of the hosting company's.
const OWN_WEB: &[(&str, &str, &str, &str)] = &[
    ("exeter", "127.0.10.51", r#"status = "expired""#, "rustls"),
    // An old box nobody updates: TLS 1.0 and RSA/CBC suites, from Debian's openssl.
    (
        "durham",
        "127.0.10.52",
        r#"status = "valid""#,
        "openssl-legacy",
    ),
    // A volunteer-built site: served over HTTP without a redirect, a CSP that allows inline
    // script, camera and microphone open to every embedded site, Server and X-Powered-By
    // naming versions, a cookie without Secure, and a security.txt left to expire.
    ("preston", "127.0.10.53", r#"status = "valid""#, "rustls"),
    // Chains and stapled OCSP (issue 4): a certificate from an intermediate the server
    // does not send; one the CA has revoked, stapled as such; one sent out of order; one
    // sent with an unrelated certificate; one stapling a response that went stale.
    (
        "wakefield",
        "127.0.10.54",
        r#"status = "valid", chain = "missing-intermediate""#,
        "rustls",
    ),
    (
        "ipswich",
        "127.0.10.55",
        r#"status = "valid", chain = "intermediate", ocsp = "revoked""#,
        "rustls",
    ),
    (
        "cambridge",
        "127.0.10.56",
        r#"status = "valid", chain = "out-of-order", ocsp = "good""#,
        "rustls",
    ),
    (
        "derby",
        "127.0.10.57",
        r#"status = "valid", chain = "extra""#,
        "rustls",
    ),
    (
        "truro",
        "127.0.10.58",
        r#"status = "valid", ocsp = "stale""#,
        "rustls",
    ),
];
/// Extra `[[web]]` lines for branches in [`OWN_WEB`].
const OWN_WEB_EXTRA: &[(&str, &str)] = &[(
    "preston",
    r#"[web.headers]
"Content-Security-Policy" = "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
"X-Powered-By" = "PHP/7.4.33"
"Server" = "Apache/2.4.38 (Debian)"
"Permissions-Policy" = "camera=*, microphone=*"
"Set-Cookie" = "PHPSESSID=demo; path=/"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:webmaster@preston-exampleparty.example\nExpires: 2025-01-01T00:00:00Z\n"
"#,
)];
/// Branches that run their own mail server (address) without STARTTLS.
const OWN_MAIL_NO_STARTTLS: &[(&str, &str)] = &[("salford", "127.0.20.51")];
/// Branches that run their own mail server (address) with STARTTLS and a DANE record
/// that no longer matches its key.
const OWN_MAIL_DANE_MISMATCH: &[(&str, &str)] = &[("truro", "127.0.20.52")];

struct Branch {
    town: &'static str,
    region: &'static str,
    dns: Dns,
    caa: Option<&'static str>,
    roles: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Dns {
    /// ns1/ns2.hostingco.example
    Hosting,
    /// ns.cheapdns.example only
    Cheap,
    /// the HQ's own nameservers
    Hq,
}

const REGIONS: [(&str, &str); 3] = [
    ("north", "North Region"),
    ("midlands", "Midlands Region"),
    ("south", "South Region"),
];

const fn b(
    town: &'static str,
    region: &'static str,
    dns: Dns,
    caa: Option<&'static str>,
) -> Branch {
    Branch {
        town,
        region,
        dns,
        caa,
        roles: r#"["mail", "web"]"#,
    }
}

const GOOD_CAA: Option<&str> = Some("0 issue \"letsencrypt.org\"");

/// DKIM public keys (SubjectPublicKeyInfo, base64) of the demo's signers. Public halves
/// only; the private halves were thrown away.
const RSA_2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzdZMYiMI16qUwo47bXFuSDmvlZw7q6N2piQ9ir74uftrzMVcmGpHpdCfjtyamJ+K4rXLauuKERoiWLMVWOYuYlcEtoV99gc+NYEzxLK5zakTUdNcsZqwUEibN8y3FHrr/Rdg1gri6BfUkxvCGxVUN86QQ2lK3QilyS9JdGRuS5mTG+o8VmGVypmX3vQl3H6sh6NF8ssMTNolTgZ8jAYmF/FAYxZkcTD5/cOmx4NJNUtjg1rvgvoko5XkhroxWO3oQh7tgWFJY6xxzQGGzjIWGxKnwUL5EcsVo5BdA/68iNhaL+C1aRYfUL3CLlLCNuEPY+r4dN1KFum0Ysh7Y6LBZQIDAQAB";
const RSA_1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDyq6ZVLMPUwE5BOTEp6mXvEJCuJn+2tJQUg6HmpSz+8xeqHiVb5mWo5MLHIavsj3NOleb8pMTxP77BPUlvHbTx+9DkEAW6snKXq1SFJrPT1iRaoaHL0rxZj6aIIShCeo5qJCA9MZ1UUXcCIRBCyMZE+BdXImqbXOQyPm0OnqtssQIDAQAB";
const RSA_512: &str = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALvXBsTt4HLE9f88HJVA4C4/7w+zIii5NqODSZU1h6RfVH4E0axFLU+1WyEGUUrMCY7FSywKdTwUDr8dn2G+8/MCAwEAAQ==";

/// A TXT record line for a master file, split into character-strings of at most 255 bytes.
fn txt(owner: &str, text: &str) -> String {
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!("{owner} IN TXT {}\n", parts.join(" "))
}

/// An MTA-STS policy file (CRLF line endings, as RFC 8461 asks).
fn sts_policy(mode: &str, mx: &[&str], max_age: u32) -> String {
    let mut p = format!("version: STSv1\r\nmode: {mode}\r\n");
    for m in mx {
        let _ = write!(p, "mx: {m}\r\n");
    }
    let _ = write!(p, "max_age: {max_age}\r\n");
    p
}

/// What each branch publishes for mail authentication, beyond SPF and MX: the realistic
/// spread from "set up once by a volunteer in 2019" to "done properly".
fn branch_mail(town: &str) -> String {
    let d = format!("{town}-exampleparty.example");
    // Most branches: DMARC monitoring only, reports to the HQ (which authorises them with a
    // wildcard `*._report._dmarc` record).
    let monitoring = "v=DMARC1; p=none; rua=mailto:dmarc@exampleparty.example";
    let mut z = String::new();
    let dmarc = |z: &mut String, rec: &str| z.push_str(&txt("_dmarc", rec));
    match town {
        // Done properly: reject, DKIM 2048, MTA-STS enforce, TLS-RPT.
        "bradford" => {
            dmarc(
                &mut z,
                "v=DMARC1; p=reject; rua=mailto:dmarc@exampleparty.example",
            );
            z.push_str(&txt(
                "default._domainkey",
                &format!("v=DKIM1; k=rsa; p={RSA_2048}"),
            ));
            z.push_str(&txt("_mta-sts", "v=STSv1; id=2026110101"));
            z.push_str("mta-sts IN A 127.0.10.50\n");
            z.push_str(&txt(
                "_smtp._tls",
                "v=TLSRPTv1; rua=mailto:tlsrpt@exampleparty.example",
            ));
        }
        // Reports sent to a processor that never agreed to take them.
        "cambridge" => dmarc(
            &mut z,
            "v=DMARC1; p=reject; rua=mailto:reports@dmarc-cheap.example",
        ),
        // Quarantine for the domain, nothing for its subdomains.
        "derby" => dmarc(
            &mut z,
            "v=DMARC1; p=quarantine; sp=none; rua=mailto:dmarc@exampleparty.example",
        ),
        // A 1024-bit DKIM key, and a TLS-RPT record without a destination.
        "durham" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt(
                "default._domainkey",
                &format!("v=DKIM1; p={RSA_1024}"),
            ));
            z.push_str(&txt("_smtp._tls", "v=TLSRPTv1;"));
        }
        // A 512-bit DKIM key: factorable.
        "exeter" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt("k1._domainkey", &format!("v=DKIM1; p={RSA_512}")));
        }
        // The only DKIM key was revoked and never replaced.
        "ipswich" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt("default._domainkey", "v=DKIM1; p="));
        }
        // MTA-STS in testing mode.
        "norwich" => {
            dmarc(
                &mut z,
                "v=DMARC1; p=quarantine; rua=mailto:dmarc@exampleparty.example",
            );
            z.push_str(&txt("_mta-sts", "v=STSv1; id=20260301"));
            z.push_str("mta-sts IN A 127.0.10.50\n");
        }
        // MTA-STS policy left naming the old mail host.
        "reading" => {
            dmarc(
                &mut z,
                "v=DMARC1; p=reject; rua=mailto:dmarc@exampleparty.example",
            );
            z.push_str(&txt("_mta-sts", "v=STSv1; id=2025"));
            z.push_str("mta-sts IN A 127.0.10.50\n");
        }
        // An MTA-STS record, but no policy host.
        "salford" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt("_mta-sts", "v=STSv1; id=1"));
        }
        // Reject, but in testing mode (t=y) and with the obsolete pct.
        "wakefield" => dmarc(
            &mut z,
            "v=DMARC1; p=reject; t=y; pct=50; rua=mailto:dmarc@exampleparty.example",
        ),
        // A DKIM record mangled by a control panel.
        "harrogate" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt("selector1._domainkey", "v=DKIM1; k=rsa; p=not*base64"));
        }
        // A BIMI logo while DMARC only monitors.
        "bristol" => {
            dmarc(&mut z, monitoring);
            z.push_str(&txt(
                "default._bimi",
                "v=BIMI1; l=https://bristol-exampleparty.example/logo.svg",
            ));
        }
        // A typo in the policy: receivers refuse the record.
        "lincoln" => dmarc(
            &mut z,
            "v=DMARC1; p=rejectt; rua=mailto:dmarc@exampleparty.example",
        ),
        // Two DMARC records: receivers discard both.
        "oxford" => {
            dmarc(&mut z, monitoring);
            dmarc(&mut z, "v=DMARC1; p=reject");
        }
        // Quarantine with no reports asked for.
        "bolton" => dmarc(&mut z, "v=DMARC1; p=quarantine"),
        // Monitoring, and failure reports too: spoofed mail comes back as ARF reports.
        "barnsley" => dmarc(
            &mut z,
            "v=DMARC1; p=none; fo=1; rua=mailto:dmarc@exampleparty.example; ruf=mailto:dmarc@exampleparty.example",
        ),
        // Never set up.
        "preston" | "ashford" => {}
        _ => dmarc(&mut z, monitoring),
    }
    let _ = d;
    z
}

fn branches() -> Vec<Branch> {
    use Dns::*;
    vec![
        b("ashford", "south", Cheap, None),
        b("barnsley", "north", Hosting, None),
        b("bolton", "north", Cheap, None),
        b("bradford", "north", Hosting, GOOD_CAA),
        b("bristol", "south", Hq, GOOD_CAA),
        b("cambridge", "midlands", Hosting, None),
        b("carlisle", "north", Hosting, None),
        b("derby", "midlands", Hosting, GOOD_CAA),
        b("dover", "south", Hosting, None),
        b("durham", "north", Hosting, None),
        b("exeter", "south", Hosting, None),
        b("halifax", "north", Hosting, None),
        b("harrogate", "north", Hq, GOOD_CAA),
        b("ipswich", "midlands", Hosting, None),
        b("kendal", "north", Hosting, None),
        b(
            "lincoln",
            "midlands",
            Hosting,
            Some("0 issue \"letsencrypt.org; ;=\""),
        ),
        b("norwich", "midlands", Hosting, None),
        b("oxford", "midlands", Hosting, Some("128 tbs \"unknown\"")),
        b("preston", "north", Hosting, None),
        b("reading", "south", Hosting, GOOD_CAA),
        b("salford", "north", Hosting, None),
        b("truro", "south", Cheap, None),
        b("wakefield", "north", Hosting, None),
        Branch {
            roles: r#"["web"]"#,
            ..b("york", "north", Hosting, None)
        },
    ]
}

fn title(town: &str) -> String {
    let mut c = town.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn zone(origin: &str, ns: &[&str], body: impl AsRef<str>) -> ZoneSource {
    let body = body.as_ref();
    let mut text = format!(
        "$ORIGIN {origin}.\n$TTL 3600\n@ IN SOA {first}. hostmaster.{origin}. ( 2026112501 7200 3600 1209600 3600 )\n",
        first = ns.first().copied().unwrap_or("ns1.hostingco.example"),
    );
    for n in ns {
        let _ = writeln!(text, "@ IN NS {n}.");
    }
    text.push_str(body);
    ZoneSource {
        origin: origin.to_owned(),
        text,
        path: PathBuf::from(format!("demo/zones/{origin}.zone")),
    }
}

/// Builds the demo fixture.
pub fn fixture() -> Fixture {
    let hq_ns = ["ns1.exampleparty.example", "ns2.exampleparty.example"];
    let hosting_ns = ["ns1.hostingco.example", "ns2.hostingco.example"];
    let cheap_ns = ["ns.cheapdns.example"];
    let mut zones = vec![
        zone(
            HQ_DOMAIN,
            &hq_ns,
            "ns1 IN A 127.0.54.1\nns2 IN A 127.0.54.2\n@ IN A 127.0.10.1\nwww IN A 127.0.10.1\n\
             @ IN MX 10 mail.exampleparty.example.\nmail IN A 127.0.20.1\n\
             @ IN CAA 0 issue \"letsencrypt.org\"\n@ IN CAA 0 iodef \"mailto:security@exampleparty.example\"\n\
             @ IN TXT \"v=spf1 mx include:_spf.hostingco.example -all\"\n\
             members IN MX 10 mail.exampleparty.example.\n\
             members IN TXT \"v=spf1 include:exampleparty.example -all\"\n\
             mta-sts IN A 127.0.10.1\n"
                .to_owned()
                + &txt("_dmarc", "v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc@exampleparty.example,mailto:agg@dmarc-reports.example")
                + &txt("*._report._dmarc", "v=DMARC1")
                + &txt("selector1._domainkey", &format!("v=DKIM1; k=rsa; p={RSA_2048}"))
                // Microsoft 365 signs staff mail with selector2; the newsletter provider
                // signs with a selector only the aggregate reports reveal.
                + &txt("selector2._domainkey", &format!("v=DKIM1; k=rsa; p={RSA_2048}"))
                + &txt(
                    &format!("{}._domainkey", reports::REPORTED_ONLY_SELECTOR),
                    &format!("v=DKIM1; k=rsa; p={RSA_2048}"),
                )
                + &txt("_mta-sts", "v=STSv1; id=2026110101")
                + &txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tlsrpt@exampleparty.example")
                + &txt("default._bimi", "v=BIMI1; l=https://exampleparty.example/logo.svg"),
        ),
        // The lab's stand-in for the registry: holds the DS records of the signed zones.
        zone(
            "example",
            &["ns.registry.example"],
            "ns.registry IN A 127.0.57.1\n",
        ),
        zone(
            "hostingco.example",
            &hosting_ns,
            "ns1 IN A 127.0.55.1\nns2 IN A 127.0.55.2\nweb IN A 127.0.10.50\nmx IN A 127.0.20.50\n\
             _spf IN TXT \"v=spf1 ip4:127.0.20.50 -all\"\n",
        ),
        zone("cheapdns.example", &cheap_ns, "ns IN A 127.0.56.1\n"),
        // A DMARC report processor the HQ uses; it authorises the HQ's reports.
        zone(
            "dmarc-reports.example",
            &hosting_ns,
            txt("exampleparty.example._report._dmarc", "v=DMARC1"),
        ),
    ];
    // Reverse names of the senders in the demo's mail reports.
    for (origin, body) in reports::REVERSE_ZONES {
        zones.push(zone(origin, &hq_ns, body));
    }
    for (id, _) in REGIONS {
        let mut body = String::from(
            "@ IN A 127.0.10.1\nwww IN A 127.0.10.1\n@ IN MX 10 mail.exampleparty.example.\n\
             @ IN CAA 0 issue \"letsencrypt.org\"\n@ IN TXT \"v=spf1 include:exampleparty.example -all\"\n",
        );
        match id {
            "north" => body.push_str(&txt(
                "_dmarc",
                "v=DMARC1; p=quarantine; rua=mailto:dmarc@exampleparty.example",
            )),
            // Reject for the region, but nothing for its subdomains (london inherits none).
            "south" => {
                body.push_str(&txt(
                    "_dmarc",
                    "v=DMARC1; p=reject; sp=none; rua=mailto:dmarc@exampleparty.example",
                ));
                body.push_str("london IN MX 10 mail.exampleparty.example.\n");
                body.push_str("london IN TXT \"v=spf1 include:exampleparty.example -all\"\n");
            }
            _ => {} // midlands: no DMARC at all
        }
        zones.push(zone(&format!("exampleparty-{id}.example"), &hq_ns, body));
    }
    for parked in [
        "example-party.example",
        "examplepartyshop.example",
        "vote-exampleparty.example",
    ] {
        let mut body = String::from("@ IN TXT \"v=spf1 -all\"\n");
        match parked {
            // Locked down as GDS advises: SPF -all, DMARC reject, null MX.
            "example-party.example" => {
                body.push_str(&txt(
                    "_dmarc",
                    "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s",
                ));
                body.push_str("@ IN MX 0 .\n");
            }
            // Still receives mail at the HQ's server.
            "vote-exampleparty.example" => {
                body.push_str(&txt("_dmarc", "v=DMARC1; p=reject"));
                body.push_str("@ IN MX 10 mail.exampleparty.example.\n");
            }
            _ => {} // examplepartyshop: SPF only
        }
        zones.push(zone(parked, &hq_ns, body));
    }
    for br in branches() {
        let origin = format!("{}-exampleparty.example", br.town);
        if br.town == "kendal" {
            continue; // lapsed: no zone anywhere
        }
        let ns: &[&str] = match br.dns {
            Dns::Hosting => &hosting_ns,
            Dns::Cheap => &cheap_ns,
            Dns::Hq => &hq_ns,
        };
        let web_ip = OWN_WEB
            .iter()
            .find(|(town, ..)| *town == br.town)
            .map_or("127.0.10.50", |(_, ip, ..)| ip);
        let mut body = format!("@ IN A {web_ip}\nwww IN CNAME web.hostingco.example.\n");
        if br.roles.contains("mail") {
            match OWN_MAIL_NO_STARTTLS
                .iter()
                .chain(OWN_MAIL_DANE_MISMATCH)
                .find(|(town, _)| *town == br.town)
            {
                Some((_, ip)) => {
                    let _ = writeln!(body, "@ IN MX 10 mail\nmail IN A {ip}");
                }
                None => body.push_str("@ IN MX 10 mx.hostingco.example.\n"),
            }
            // Most branches publish the hosting company's SPF; a few never set one up.
            if !matches!(br.town, "barnsley" | "preston" | "truro") {
                body.push_str("@ IN TXT \"v=spf1 include:_spf.hostingco.example ~all\"\n");
            }
        }
        if br.roles.contains("mail") {
            body.push_str(&branch_mail(br.town));
        }
        if let Some(caa) = br.caa {
            let _ = writeln!(body, "@ IN CAA {caa}");
        }
        if br.town == "york" {
            // A record whose text would rewrite a careless terminal (OSC 52 + colour).
            body.push_str("@ IN TXT \"site-verification=\\027]52;c;aGVsbG8=\\007\\027[31mred\"\n");
        }
        zones.push(zone(&origin, ns, &body));
    }
    let dns = DnsBehaviour {
        lossy: Vec::new(),
        silent: vec!["dover-exampleparty.example".into()],
        servfail: vec!["halifax-exampleparty.example".into()],
        refused: vec![],
        offline: vec![],
        mute: vec![],
        signed: signed_zones(),
        lame: vec![Lame {
            zone: "carlisle-exampleparty.example".into(),
            nameserver: "ns2.hostingco.example".into(),
        }],
    };
    Fixture {
        name: "Example Party (built-in demo)".into(),
        zones,
        hosts_toml: Some(hosts()),
        dns,
        inventory_toml: Some(inventory()),
    }
}

fn inventory() -> String {
    let mut t = String::from(
        "# The built-in demo party. `ward lab --write-fixture DIR` writes it out.\n\n",
    );
    let org = |t: &mut String,
               id: &str,
               name: &str,
               kind: &str,
               size: &str,
               parent: Option<&str>| {
        let _ = write!(
            t,
            "[[organisation]]\nid = \"{id}\"\nname = \"{name}\"\nkind = \"{kind}\"\nsize = \"{size}\"\n"
        );
        if let Some(p) = parent {
            let _ = writeln!(t, "parent = \"{p}\"");
        }
        t.push('\n');
    };
    let dom = |t: &mut String, name: &str, roles: &str| {
        let _ = write!(
            t,
            "[[organisation.domain]]\nname = \"{name}\"\nroles = {roles}\n\n"
        );
    };
    org(&mut t, "hq", "Example Party HQ", "party", "medium", None);
    dom(&mut t, HQ_DOMAIN, r#"["mail", "web"]"#);
    dom(&mut t, "members.exampleparty.example", r#"["mail"]"#);
    for parked in [
        "example-party.example",
        "examplepartyshop.example",
        "vote-exampleparty.example",
    ] {
        dom(&mut t, parked, r#"["parked"]"#);
    }
    for (id, name) in REGIONS {
        org(&mut t, id, name, "region", "small", Some("hq"));
        dom(
            &mut t,
            &format!("exampleparty-{id}.example"),
            r#"["mail", "web"]"#,
        );
        if id == "south" {
            dom(&mut t, "london.exampleparty-south.example", r#"["mail"]"#);
        }
    }
    for br in branches() {
        org(
            &mut t,
            br.town,
            &format!("{} Branch", title(br.town)),
            "branch",
            "small",
            Some(br.region),
        );
        dom(
            &mut t,
            &format!("{}-exampleparty.example", br.town),
            br.roles,
        );
    }
    t
}

/// Web and mail hosts: the HQ's own servers and the hosting company most branches use.
fn hosts() -> String {
    let mut branch_names = Vec::new();
    let mut own = String::new();
    for br in branches() {
        if br.town == "kendal" {
            continue;
        }
        if let Some((_, ip, cert, tls)) = OWN_WEB.iter().find(|(town, ..)| *town == br.town) {
            let _ = write!(
                own,
                "\n# {title} branch's own web server.\n[[web]]\nnames = [\"{town}-exampleparty.example\"]\n\
                 ip = \"{ip}\"\ncert = {{ {cert}, key = \"rsa-2048\" }}\nhttp = \"serve\"\n\
                 tls = \"{tls}\"\n",
                title = title(br.town),
                town = br.town,
            );
            if let Some((_, extra)) = OWN_WEB_EXTRA.iter().find(|(town, _)| *town == br.town) {
                own.push_str(extra);
            }
        } else {
            branch_names.push(format!("\"{}-exampleparty.example\"", br.town));
        }
        branch_names.push(format!("\"www.{}-exampleparty.example\"", br.town));
    }
    for (town, ip) in OWN_MAIL_NO_STARTTLS {
        let _ = write!(
            own,
            "\n# {title} branch's own mail server, never set up for TLS.\n[[smtp]]\n\
             name = \"mail.{town}-exampleparty.example\"\nip = \"{ip}\"\nstarttls = false\n",
            title = title(town),
        );
    }
    for (town, ip) in OWN_MAIL_DANE_MISMATCH {
        let _ = write!(
            own,
            "\n# {title} branch's own mail server: its key was replaced, its TLSA record was not.\n\
             [[smtp]]\nname = \"mail.{town}-exampleparty.example\"\nip = \"{ip}\"\nstarttls = true\n\
             cert = {{ status = \"valid\" }}\ndane = \"mismatch\"\n",
            title = title(town),
        );
    }
    let hosts = format!(
        r#"# HQ web site: HTTPS with a valid certificate, HTTP redirects to it, HSTS and the other
# security headers (CSP, Referrer-Policy, Permissions-Policy, a Secure cookie).
[[web]]
names = ["exampleparty.example", "www.exampleparty.example", "mta-sts.exampleparty.example", "exampleparty-north.example", "www.exampleparty-north.example", "exampleparty-midlands.example", "www.exampleparty-midlands.example", "exampleparty-south.example", "www.exampleparty-south.example"]
ip = "127.0.10.1"
cert = {{ status = "valid", key = "ecdsa-p256" }}
http = "redirect-https"
[web.headers]
"Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
"X-Content-Type-Options" = "nosniff"
"Content-Security-Policy" = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
"Referrer-Policy" = "strict-origin-when-cross-origin"
"Permissions-Policy" = "camera=(), microphone=(), geolocation=()"
"Set-Cookie" = "session=demo; Path=/; Secure; HttpOnly; SameSite=Lax"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@exampleparty.example\nExpires: 2027-06-01T00:00:00Z\n"
"/.well-known/mta-sts.txt" = {hq_sts:?}

# MTA-STS policy hosts at the hosting company, one per policy the branches publish.
[[web]]
names = ["mta-sts.bradford-exampleparty.example"]
ip = "127.0.10.50"
cert = {{ status = "valid" }}
[web.files]
"/.well-known/mta-sts.txt" = {enforce:?}

[[web]]
names = ["mta-sts.norwich-exampleparty.example"]
ip = "127.0.10.50"
cert = {{ status = "valid" }}
[web.files]
"/.well-known/mta-sts.txt" = {testing:?}

[[web]]
names = ["mta-sts.reading-exampleparty.example"]
ip = "127.0.10.50"
cert = {{ status = "valid" }}
[web.files]
"/.well-known/mta-sts.txt" = {stale:?}

# The hosting company's shared web server, serving most branches.
[[web]]
names = ["web.hostingco.example", {branches}]
ip = "127.0.10.50"
cert = {{ status = "valid", key = "rsa-2048" }}
http = "serve"

# HQ mail server.
[[smtp]]
name = "mail.exampleparty.example"
ip = "127.0.20.1"
starttls = true
cert = {{ status = "valid", key = "rsa-2048" }}
dane = "match"

# The hosting company's mail server.
[[smtp]]
name = "mx.hostingco.example"
ip = "127.0.20.50"
starttls = true
cert = {{ status = "valid", key = "rsa-2048" }}
"#,
        branches = branch_names.join(", "),
        hq_sts = sts_policy("enforce", &["mail.exampleparty.example"], 1_209_600),
        enforce = sts_policy("enforce", &["mx.hostingco.example"], 2_592_000),
        testing = sts_policy("testing", &["mx.hostingco.example"], 86_400),
        stale = sts_policy("enforce", &["mail.oldhost.example"], 1_209_600),
    );
    hosts + &own
}
