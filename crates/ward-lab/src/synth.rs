//! Synthetic organisations of any size, for benchmarks: N mail domains with the records
//! real ones have (SPF with includes, DMARC, DKIM, MX), in a mix of good and bad
//! configurations, served by two shared nameservers.
//!
//! The mix is fixed by the domain's index, so two runs with the same N serve the same
//! zones and measure the same work.

use crate::fixture::{DnsBehaviour, Fixture, ZoneSource};
use std::fmt::Write;
use std::path::PathBuf;

/// The shared provider zone every synthetic SPF record includes.
pub const PROVIDER: &str = "mailprovider.example";

/// The name of synthetic domain `i`.
pub fn domain(i: usize) -> String {
    format!("branch{i:05}.synthetic.example")
}

/// Builds a fixture with `n` mail domains and an inventory of them (one party, all
/// branches small).
pub fn fixture(n: usize) -> Result<Fixture, crate::certs::CertError> {
    let dkim_key = crate::certs::dkim_public_key(crate::hosts::KeyType::Rsa2048)?;
    let dkim_txt = txt_strings(&format!("v=DKIM1; k=rsa; p={dkim_key}"));
    let ns = ["ns1.synthetic.example", "ns2.synthetic.example"];
    let soa = |origin: &str| {
        format!(
            "$ORIGIN {origin}.\n$TTL 3600\n@ IN SOA {}. hostmaster.{origin}. ( 1 7200 3600 1209600 3600 )\n@ IN NS {}.\n@ IN NS {}.\n",
            ns[0], ns[0], ns[1]
        )
    };
    let mut zones = Vec::with_capacity(n + 2);
    let mut parent = soa("synthetic.example");
    parent.push_str("ns1 IN A 127.0.57.1\nns2 IN A 127.0.57.2\n");
    zones.push(ZoneSource {
        origin: "synthetic.example".into(),
        text: parent,
        path: PathBuf::from("synthetic/parent.zone"),
    });
    let mut provider = soa(PROVIDER);
    provider.push_str(
        "_spf IN TXT \"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 include:_spf2.mailprovider.example ~all\"\n\
         _spf2 IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"\nmx IN A 192.0.2.25\n",
    );
    zones.push(ZoneSource {
        origin: PROVIDER.into(),
        text: provider,
        path: PathBuf::from("synthetic/provider.zone"),
    });

    let mut inventory = String::from(
        "[[organisation]]\nid = \"synthetic\"\nname = \"Synthetic Party\"\nkind = \"party\"\nsize = \"small\"\n\n",
    );
    for i in 0..n {
        let origin = domain(i);
        let mut z = soa(&origin);
        let _ = writeln!(z, "@ IN MX 10 mx.{PROVIDER}.");
        // A mix: most good, some soft, some broken, like a real party's branches.
        let spf = match i % 10 {
            0 => "v=spf1 include:_spf.mailprovider.example -all",
            1 => "v=spf1 include:_spf.mailprovider.example ?all",
            2 => "v=spf1 mx a include:_spf.mailprovider.example ~all",
            3 => "v=spf1 +all",
            4 => "v=spf1 ip4:203.0.113.5 include:_spf.mailprovider.example -all",
            _ => "v=spf1 include:_spf.mailprovider.example ~all",
        };
        let _ = writeln!(z, "@ IN TXT \"{spf}\"");
        let dmarc = match i % 4 {
            0 => "v=DMARC1; p=reject; rua=mailto:dmarc@synthetic.example",
            1 => "v=DMARC1; p=none",
            2 => "v=DMARC1; p=quarantine; sp=none; adkim=s",
            _ => "",
        };
        if !dmarc.is_empty() {
            let _ = writeln!(z, "_dmarc IN TXT \"{dmarc}\"");
        }
        let _ = writeln!(z, "selector1._domainkey IN TXT {dkim_txt}");
        zones.push(ZoneSource {
            origin: origin.clone(),
            text: z,
            path: PathBuf::from(format!("synthetic/{origin}.zone")),
        });
        let _ = write!(
            inventory,
            "[[organisation.domain]]\nname = \"{origin}\"\nroles = [\"mail\"]\n\n"
        );
    }
    Ok(Fixture {
        name: format!("synthetic party of {n} mail domains"),
        zones,
        hosts_toml: None,
        dns: DnsBehaviour::default(),
        inventory_toml: Some(inventory),
    })
}

/// A TXT value as master-file character-strings of at most 255 bytes each (RFC 1035
/// §3.3.14); longer DKIM keys must be split, and readers join them.
pub fn txt_strings(value: &str) -> String {
    let parts: Vec<String> = value
        .as_bytes()
        .chunks(200)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_n_same_zones() {
        let a = fixture(20).unwrap();
        let b = fixture(20).unwrap();
        assert_eq!(a.zones.len(), 22);
        assert!(a.zones.iter().zip(&b.zones).all(|(x, y)| x.text == y.text));
        assert_eq!(
            a.inventory_toml
                .as_deref()
                .map(|i| i.matches("[[organisation.domain]]").count()),
            Some(20)
        );
    }
}
