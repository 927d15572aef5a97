//! DKIM key-record vectors from `$WARD_CORPUS/dkim/` (mail-auth, go-msgauth). Why ward
//! disagrees where it does: docs/conformance.md, "DKIM keys".

mod common;

use serde_json::Value;
use ward_records::dkim::{self, DkimKey, Flag, HashAlg, Limits, PublicKey, RsaEncoding, Service};

const DISAGREE: &[(&str, &str)] = &[(
    "mail-auth/dkim_parse.json#dkim_record_parse#1",
    "`h= sha1:sha 256:other`: RFC 6376 §3.2 keeps whitespace inside values, so `sha 256` is not sha256",
)];

const HANDLED: &[&str] = &[
    "mail-auth/dkim_parse.json",
    "mail-auth/001.txt",
    "mail-auth/002.txt",
    "mail-auth/003.txt",
    "mail-auth/004.txt",
    "mail-auth/005.txt",
    "mail-auth/006.txt",
    "go-msgauth/dkim_test_keys.json",
];

/// Vector groups inside handled files that are not key records.
const OUT_OF_SCOPE_GROUPS: &[(&str, &str)] = &[
    (
        "dkim_report_record_parse",
        "RFC 6651 failure-reporting records (ra/rp/rr): not a format ward reads",
    ),
    (
        "dkim_signature_parse",
        "DKIM-Signature header fields: ward judges published keys, not signed mail",
    ),
];

fn parse(s: &str) -> Result<DkimKey, dkim::DkimError> {
    dkim::parse(s, &Limits::default())
}

/// mail-auth's flag bits, from what ward parsed.
fn flag_names(k: &DkimKey) -> Vec<&'static str> {
    let mut out = Vec::new();
    if let Some(h) = &k.hashes {
        if h.contains(&HashAlg::Sha1) {
            out.push("R_HASH_SHA1");
        }
        if h.contains(&HashAlg::Sha256) {
            out.push("R_HASH_SHA256");
        }
    }
    if let Some(s) = &k.services {
        if s.contains(&Service::All) {
            out.push("R_SVC_ALL");
        }
        if s.contains(&Service::Email) {
            out.push("R_SVC_EMAIL");
        }
    }
    if k.flags.contains(&Flag::SameDomain) {
        out.push("R_FLAG_MATCH_DOMAIN");
    }
    if k.flags.contains(&Flag::Testing) {
        out.push("R_FLAG_TESTING");
    }
    out.sort_unstable();
    out
}

fn expected_flags(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["$flags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["$var"].as_str().map(String::from))
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn dkim_key_vectors() {
    let Some(dir) = common::corpus("dkim") else {
        return;
    };
    common::assert_inventory(&dir, HANDLED, &[]);
    let mut tally = common::Tally::new("dkim", DISAGREE);

    let file = "mail-auth/dkim_parse.json";
    let doc = common::json(&dir.join(file));
    let groups = doc["vectors"].as_object().cloned().unwrap_or_default();
    for name in groups.keys() {
        let known = ["dkim_record_parse", "dkim_record_empty_p_is_revoked"];
        assert!(
            known.contains(&name.as_str()) || OUT_OF_SCOPE_GROUPS.iter().any(|g| g.0 == name),
            "{file}: unknown vector group {name}"
        );
    }
    for (i, v) in groups["dkim_record_parse"]["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let case = format!("{file}#dkim_record_parse#{i}");
        let r = parse(v[0].as_str().unwrap_or_default());
        let agree = r.as_ref().is_ok_and(|k| {
            let want = if v[1] == 0 {
                Vec::new()
            } else {
                expected_flags(&v[1])
            };
            flag_names(k) == want && matches!(k.key, PublicKey::Rsa { .. })
        });
        tally.record(&case, agree, r.as_ref().map(flag_names));
    }
    for (i, v) in groups["dkim_record_empty_p_is_revoked"]["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        // mail-auth refuses these with RevokedPublicKey; ward reads them as a revoked key,
        // which is the same verdict held as a state.
        let case = format!("{file}#dkim_record_empty_p_is_revoked#{i}");
        let r = parse(v.as_str().unwrap_or_default());
        tally.record(
            &case,
            r.as_ref().is_ok_and(|k| k.key == PublicKey::Revoked),
            &r,
        );
    }
    let skipped: usize = OUT_OF_SCOPE_GROUPS
        .iter()
        .map(|(g, _)| groups[*g]["cases"].as_array().map_or(0, Vec::len))
        .sum();
    println!("dkim: {skipped} vectors in out-of-scope groups not run ({OUT_OF_SCOPE_GROUPS:?})");

    // go-msgauth test resolver keys: all are accepted there.
    let file = "go-msgauth/dkim_test_keys.json";
    let doc = common::json(&dir.join(file));
    for v in doc["vectors"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default();
        let case = format!("{file}#{name}");
        let r = parse(v["record"].as_str().unwrap_or_default());
        let agree = match (&r, name) {
            (Ok(k), "dnsRawRSAPublicKey") => matches!(
                k.key,
                PublicKey::Rsa {
                    encoding: RsaEncoding::Pkcs1,
                    ..
                }
            ),
            (Ok(k), "dnsPublicKey") => matches!(
                k.key,
                PublicKey::Rsa {
                    bits: 1024,
                    encoding: RsaEncoding::Spki,
                    ..
                }
            ),
            (Ok(k), "dnsEd25519PublicKey") => matches!(k.key, PublicKey::Ed25519 { .. }),
            (Ok(_), _) => true,
            (Err(_), _) => false,
        };
        tally.record(&case, agree, &r);
    }

    // mail-auth signed messages: the key lines before the first blank line
    // ("selector._domainkey.domain <TXT>"); mail-auth verifies each message with them.
    for n in 1..=6 {
        let file = format!("mail-auth/00{n}.txt");
        let text = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
        for (j, line) in text.lines().take_while(|l| !l.is_empty()).enumerate() {
            let case = format!("{file}#{j}");
            let record = line.split_once(' ').map_or("", |x| x.1);
            let r = parse(record);
            let agree = r
                .as_ref()
                .is_ok_and(|k| !matches!(k.key, PublicKey::Revoked));
            tally.record(&case, agree, &r);
        }
    }
    tally.finish();
}
