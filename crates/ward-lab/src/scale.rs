//! The scale set: a party of `n` branches, one domain each, for measuring the monitor
//! and its workers at party scale (`ward lab --scale N`).
//!
//! Every domain has a web site and mail, the way branches are really run: their sites
//! sit on a few shared hosting addresses ([`WEB_HOSTS`], HTTPS with a valid certificate
//! for every name on it) and their mail goes to a few shared mail servers ([`MAIL_HOSTS`],
//! STARTTLS). DMARC, DKIM and TLS-RPT records are spread as in the mail benchmark
//! ([`mail_records`]), so the findings are a realistic mix, not one verdict ten thousand times.
//! The zones hang under a signed `test.`, the scan's trust anchor, so the DNSSEC walk
//! proves each unsigned branch zone insecure at its delegation as it would on the
//! internet.

use crate::fixture::{DnsBehaviour, Fixture, ZoneSource};
use crate::signing::Signed;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Shared web hosting addresses (127.0.60.1 …).
pub const WEB_HOSTS: usize = 50;
/// Shared mail servers (127.0.61.1 …).
pub const MAIL_HOSTS: usize = 10;
/// Regions the branches are grouped under.
pub const REGIONS: usize = 10;

/// The zone that holds the shared hosts' names and the nameserver.
const HOSTING: &str = "scalehost.test";

/// A DKIM key (2048-bit RSA, public half only).
const KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzdZMYiMI16qUwo47bXFuSDmvlZw7q6N2piQ9ir74uftrzMVcmGpHpdCfjtyamJ+K4rXLauuKERoiWLMVWOYuYlcEtoV99gc+NYEzxLK5zakTUdNcsZqwUEibN8y3FHrr/Rdg1gri6BfUkxvCGxVUN86QQ2lK3QilyS9JdGRuS5mTG+o8VmGVypmX3vQl3H6sh6NF8ssMTNolTgZ8jAYmF/FAYxZkcTD5/cOmx4NJNUtjg1rvgvoko5XkhroxWO3oQh7tgWFJY6xxzQGGzjIWGxKnwUL5EcsVo5BdA/68iNhaL+C1aRYfUL3CLlLCNuEPY+r4dN1KFum0Ysh7Y6LBZQIDAQAB";

/// The domain of branch `i`.
pub fn domain(i: usize) -> String {
    format!("b{i:05}.test")
}

fn web_ip(i: usize) -> String {
    format!("127.0.60.{}", 1 + i % WEB_HOSTS)
}

fn mail_host(i: usize) -> (String, String) {
    let k = 1 + i % MAIL_HOSTS;
    (format!("mx{k}.{HOSTING}"), format!("127.0.61.{k}"))
}

/// The scale set of `n` branches.
pub fn fixture(n: usize) -> Fixture {
    let mut hosting = format!(
        "$ORIGIN {HOSTING}.\n$TTL 300\n@ IN SOA ns1 h ( 1 7200 3600 1209600 300 )\n\
         @ IN NS ns1\nns1 IN A 127.0.59.1\n_spf IN TXT \"v=spf1 ip4:127.0.61.0/24 -all\"\n"
    );
    for k in 1..=MAIL_HOSTS {
        let _ = writeln!(hosting, "mx{k} IN A 127.0.61.{k}");
    }
    let mut parent = format!(
        "$ORIGIN test.\n$TTL 300\n@ IN SOA ns1.{HOSTING}. h.{HOSTING}. ( 1 7200 3600 1209600 300 )\n\
         @ IN NS ns1.{HOSTING}.\nscalehost IN NS ns1.{HOSTING}.\n"
    );
    let mut zones = Vec::with_capacity(n + 2);
    for i in 0..n {
        let d = domain(i);
        let _ = writeln!(
            parent,
            "{} IN NS ns1.{HOSTING}.",
            d.trim_end_matches(".test")
        );
        let (mx, _) = mail_host(i);
        let mut t = format!(
            "$ORIGIN {d}.\n$TTL 300\n@ IN SOA ns1.{HOSTING}. h.{HOSTING}. ( 1 7200 3600 1209600 300 )\n\
             @ IN NS ns1.{HOSTING}.\n@ IN A {ip}\nwww IN A {ip}\n@ IN MX 10 {mx}.\n\
             @ IN TXT \"v=spf1 include:_spf.{HOSTING} -all\"\n",
            ip = web_ip(i),
        );
        t.push_str(&mail_records(i, &d));
        zones.push(ZoneSource {
            origin: d.clone(),
            text: t,
            path: PathBuf::from(format!("scale/{d}.zone")),
        });
    }
    zones.insert(
        0,
        ZoneSource {
            origin: HOSTING.into(),
            text: hosting,
            path: PathBuf::from(format!("scale/{HOSTING}.zone")),
        },
    );
    zones.insert(
        1,
        ZoneSource {
            origin: "test".into(),
            text: parent,
            path: PathBuf::from("scale/test.zone"),
        },
    );
    Fixture {
        name: format!("the scale set: a party of {n} branches"),
        zones,
        hosts_toml: Some(hosts(n)),
        dns: DnsBehaviour {
            signed: vec![Signed::new("test")],
            ..DnsBehaviour::default()
        },
        inventory_toml: Some(inventory(n)),
    }
}

/// The mail records of synthetic domain `i` (`d`), a realistic spread shared by the
/// scale set and the mail benchmark: DMARC none, quarantine, reject or missing; a DKIM
/// key on half; TLS-RPT on a third.
pub fn mail_records(i: usize, d: &str) -> String {
    let mut t = String::new();
    let dmarc = match i % 4 {
        0 => Some("v=DMARC1; p=none; rua=mailto:d@"),
        1 => Some("v=DMARC1; p=quarantine; rua=mailto:d@"),
        2 => Some("v=DMARC1; p=reject; rua=mailto:d@"),
        _ => None,
    };
    if let Some(rec) = dmarc {
        let _ = writeln!(t, "_dmarc IN TXT \"{rec}{d}\"");
    }
    if i.is_multiple_of(2) {
        let (a, b) = KEY.split_at(200);
        let _ = writeln!(
            t,
            "selector1._domainkey IN TXT \"v=DKIM1; k=rsa; p={a}\" \"{b}\""
        );
    }
    if i.is_multiple_of(3) {
        let _ = writeln!(t, "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tls@{d}\"");
    }
    t
}

/// The shared web hosts (each serving its share of the branches' sites) and mail servers.
fn hosts(n: usize) -> String {
    let mut out = String::new();
    for h in 0..WEB_HOSTS.min(n.max(1)) {
        let names: Vec<String> = (h..n)
            .step_by(WEB_HOSTS)
            .flat_map(|i| {
                let d = domain(i);
                [format!("\"www.{d}\""), format!("\"{d}\"")]
            })
            .collect();
        if names.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "[[web]]\nnames = [{}]\nip = \"{}\"\ncert = {{ status = \"valid\" }}\nhttp = \"redirect-https\"\n\
             [web.headers]\n\"Strict-Transport-Security\" = \"max-age=31536000\"\n\
             \"X-Content-Type-Options\" = \"nosniff\"\n\n",
            names.join(", "),
            web_ip(h),
        );
    }
    for k in 0..MAIL_HOSTS {
        let (name, ip) = mail_host(k);
        let _ = write!(
            out,
            "[[smtp]]\nname = \"{name}\"\nip = \"{ip}\"\nstarttls = true\ncert = {{ status = \"valid\" }}\n\n"
        );
    }
    out
}

/// The party: HQ, [`REGIONS`] regions, and one small branch per domain.
fn inventory(n: usize) -> String {
    let mut out = String::from(
        "[[organisation]]\nid = \"hq\"\nname = \"Scale Party\"\nkind = \"party\"\nsize = \"medium\"\n\n",
    );
    for r in 0..REGIONS {
        let _ = write!(
            out,
            "[[organisation]]\nid = \"region-{r}\"\nname = \"Region {r}\"\nkind = \"region\"\n\
             size = \"small\"\nparent = \"hq\"\n\n"
        );
    }
    for i in 0..n {
        let _ = write!(
            out,
            "[[organisation]]\nid = \"branch-{i:05}\"\nname = \"Branch {i}\"\nkind = \"branch\"\n\
             size = \"small\"\nparent = \"region-{}\"\n\n[[organisation.domain]]\nname = \"{}\"\n\
             roles = [\"mail\", \"web\"]\n\n",
            i % REGIONS,
            domain(i),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_set_parses_and_names_every_domain_once() {
        let f = fixture(120);
        let orgs = ward_model::inventory::parse("scale", f.inventory_toml.as_deref().unwrap_or(""))
            .expect("inventory parses");
        let domains: std::collections::BTreeSet<String> = orgs
            .iter()
            .flat_map(|o| o.assets.iter().map(|a| a.domain.clone()))
            .collect();
        assert_eq!(domains.len(), 120);
        let hosts = crate::hosts::parse_hosts("hosts.toml", f.hosts_toml.as_deref().unwrap_or(""))
            .expect("hosts parse");
        assert_eq!(hosts.web.len(), WEB_HOSTS);
        assert_eq!(hosts.smtp.len(), MAIL_HOSTS);
    }
}
