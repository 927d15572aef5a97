//! "Example Party": the simulated organisation that `ward demo` and `ward lab` serve.
//!
//! An HQ run like a medium-sized enterprise, three regions and 24 constituency branches
//! run by volunteers, and a few parked domains, with the mistakes such organisations
//! really make. Every check family adds its cases here, so that the demo exercises every
//! check ward has. The cases are listed in [`CASES`] so tests can assert each one.
//!
//! Addresses: the lab resolver is 127.0.53.1; nameservers live in 127.0.54-56.x, web
//! hosts in 127.0.10.x and mail hosts in 127.0.20.x.

use crate::fixture::{DnsBehaviour, Fixture, Lame, ZoneSource};
use std::fmt::Write;
use std::path::PathBuf;

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
        what: "well run: two nameservers, CAA",
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
        what: "malformed CAA record",
    },
    Case {
        domain: "oxford-exampleparty.example",
        what: "CAA with unknown critical tag",
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
];

/// Branches that run their own web server (town, address, certificate status, TLS
/// server) instead of the hosting company's.
const OWN_WEB: &[(&str, &str, &str, &str)] = &[
    ("exeter", "127.0.10.51", "expired", "rustls"),
    // An old box nobody updates: TLS 1.0 and RSA/CBC suites, from Debian's openssl.
    ("durham", "127.0.10.52", "valid", "openssl-legacy"),
];
/// Branches that run their own mail server (address) without STARTTLS.
const OWN_MAIL_NO_STARTTLS: &[(&str, &str)] = &[("salford", "127.0.20.51")];

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

fn zone(origin: &str, ns: &[&str], body: &str) -> ZoneSource {
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
             @ IN TXT \"v=spf1 mx include:_spf.hostingco.example -all\"\n",
        ),
        zone(
            "hostingco.example",
            &hosting_ns,
            "ns1 IN A 127.0.55.1\nns2 IN A 127.0.55.2\nweb IN A 127.0.10.50\nmx IN A 127.0.20.50\n\
             _spf IN TXT \"v=spf1 ip4:127.0.20.50 -all\"\n",
        ),
        zone("cheapdns.example", &cheap_ns, "ns IN A 127.0.56.1\n"),
    ];
    for (id, _) in REGIONS {
        zones.push(zone(
            &format!("exampleparty-{id}.example"),
            &hq_ns,
            "@ IN A 127.0.10.1\nwww IN A 127.0.10.1\n@ IN MX 10 mail.exampleparty.example.\n\
             @ IN CAA 0 issue \"letsencrypt.org\"\n@ IN TXT \"v=spf1 include:exampleparty.example -all\"\n",
        ));
    }
    for parked in [
        "example-party.example",
        "examplepartyshop.example",
        "vote-exampleparty.example",
    ] {
        zones.push(zone(parked, &hq_ns, "@ IN TXT \"v=spf1 -all\"\n"));
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
        silent: vec!["dover-exampleparty.example".into()],
        servfail: vec!["halifax-exampleparty.example".into()],
        refused: vec![],
        offline: vec![],
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
        if let Some((_, ip, status, tls)) = OWN_WEB.iter().find(|(town, ..)| *town == br.town) {
            let _ = write!(
                own,
                "\n# {title} branch's own web server.\n[[web]]\nnames = [\"{town}-exampleparty.example\"]\n\
                 ip = \"{ip}\"\ncert = {{ status = \"{status}\", key = \"rsa-2048\" }}\nhttp = \"serve\"\n\
                 tls = \"{tls}\"\n",
                title = title(br.town),
                town = br.town,
            );
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
    let hosts = format!(
        r#"# HQ web site: HTTPS with a valid certificate, HTTP redirects to it, HSTS.
[[web]]
names = ["exampleparty.example", "www.exampleparty.example", "exampleparty-north.example", "www.exampleparty-north.example", "exampleparty-midlands.example", "www.exampleparty-midlands.example", "exampleparty-south.example", "www.exampleparty-south.example"]
ip = "127.0.10.1"
cert = {{ status = "valid", key = "ecdsa-p256" }}
http = "redirect-https"
[web.headers]
"Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
"X-Content-Type-Options" = "nosniff"
[web.files]
"/.well-known/security.txt" = "Contact: mailto:security@exampleparty.example\nExpires: 2027-06-01T00:00:00Z\n"

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

# The hosting company's mail server.
[[smtp]]
name = "mx.hostingco.example"
ip = "127.0.20.50"
starttls = true
cert = {{ status = "valid", key = "rsa-2048" }}
"#,
        branches = branch_names.join(", ")
    );
    hosts + &own
}
