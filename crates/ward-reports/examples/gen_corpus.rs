//! Writes a synthetic corpus of mail reports for the ingestion benchmark
//! (`bench/reports.sh`, `docs/performance.md`).
//!
//! ```text
//! cargo run --release -p ward-reports --example gen_corpus -- OUT_DIR [MEGABYTES [FIRST]]
//! ```
//!
//! FIRST (default 1) numbers the first report; corpora made with FIRST far apart
//! hold different reports of the same mix, to test that memory does not follow the
//! corpus size.
//!
//! At least MEGABYTES (default 200) of files on disk: DMARC aggregate reports of
//! mixed sizes (85% with 1-10 records, 14% with 50-500, 1% with 2,000-10,000)
//! and SMTP TLS reports, as plain XML/JSON, gzip, zip, `.eml` messages with a
//! gzipped attachment, and mbox files of messages. The same seed gives the
//! same corpus. Every report is distinct (its report id is its number), so an
//! ingester must store all of them.

use std::io::Write;
use std::path::Path;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const DOMAINS: &[&str] = &[
    "party.example",
    "north.party.example",
    "south.party.example",
    "east.party.example",
    "branch-1.example",
    "branch-2.example",
];
const REPORTERS: &[&str] = &["google.com", "Outlook.com", "Yahoo", "mail.ru", "web.de"];
const RESULTS: &[&str] = &["pass", "pass", "pass", "fail"];

fn aggregate(i: u64, rng: &mut Rng) -> String {
    let records = match rng.below(100) {
        0..=84 => 1 + rng.below(10),
        85..=98 => 50 + rng.below(450),
        _ => 2000 + rng.below(8000),
    };
    let domain = DOMAINS[rng.below(DOMAINS.len() as u64) as usize];
    let reporter = REPORTERS[rng.below(REPORTERS.len() as u64) as usize];
    let begin = 1_767_225_600 + (i % 300) * 86_400;
    let mut x = String::with_capacity(600 + records as usize * 620);
    x.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n  <version>1.0</version>\n  \
         <report_metadata>\n    <org_name>{reporter}</org_name>\n    \
         <email>noreply-dmarc@{reporter}</email>\n    <report_id>bench-{i}</report_id>\n    \
         <date_range>\n      <begin>{begin}</begin>\n      <end>{}</end>\n    </date_range>\n  \
         </report_metadata>\n  <policy_published>\n    <domain>{domain}</domain>\n    \
         <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n    \
         <pct>100</pct>\n  </policy_published>\n",
        begin + 86_399
    ));
    for _ in 0..records {
        let ip = format!(
            "{}.{}.{}.{}",
            11 + rng.below(200),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        let dkim = RESULTS[rng.below(4) as usize];
        let spf = RESULTS[rng.below(4) as usize];
        x.push_str(&format!(
            "  <record>\n    <row>\n      <source_ip>{ip}</source_ip>\n      \
             <count>{}</count>\n      <policy_evaluated>\n        \
             <disposition>none</disposition>\n        <dkim>{dkim}</dkim>\n        \
             <spf>{spf}</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n      \
             <header_from>{domain}</header_from>\n    </identifiers>\n    <auth_results>\n      \
             <dkim>\n        <domain>{domain}</domain>\n        <selector>s{}</selector>\n        \
             <result>{dkim}</result>\n      </dkim>\n      <spf>\n        \
             <domain>{domain}</domain>\n        <result>{spf}</result>\n      </spf>\n    \
             </auth_results>\n  </record>\n",
            1 + rng.below(50),
            rng.below(3)
        ));
    }
    x.push_str("</feedback>\n");
    x
}

fn tls(i: u64, rng: &mut Rng) -> String {
    let domain = DOMAINS[rng.below(DOMAINS.len() as u64) as usize];
    let failed = rng.below(20);
    format!(
        r#"{{"organization-name":"Google Inc.","date-range":{{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-01T23:59:59Z"}},"contact-info":"smtp-tls-reporting@google.com","report-id":"bench-tls-{i}","policies":[{{"policy":{{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: mx1.{domain}","max_age: 86400"],"policy-domain":"{domain}","mx-host":["mx1.{domain}"]}},"summary":{{"total-successful-session-count":{},"total-failure-session-count":{failed}}},"failure-details":[{{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.1","receiving-mx-hostname":"mx1.{domain}","receiving-ip":"198.51.100.1","failed-session-count":{failed}}}]}}]}}"#,
        100 + rng.below(10_000)
    )
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    e.finish()
}

fn zip(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .map_err(std::io::Error::other)?;
    w.write_all(data)?;
    Ok(w.finish().map_err(std::io::Error::other)?.into_inner())
}

fn base64_lines(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 38 + 4);
    for (n, chunk) in data.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push('\n');
        }
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let v = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for k in 0..4usize {
            if k <= chunk.len() {
                out.push(char::from(A[((v >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn message(i: u64, name: &str, ctype: &str, attachment: &[u8]) -> String {
    format!(
        "From: noreply-dmarc@google.com\nTo: rua@party.example\n\
         Subject: Report domain: party.example Submitter: google.com Report-ID: bench-{i}\n\
         Message-ID: <bench-{i}@google.com>\nDate: Thu, 1 Jan 2026 00:00:00 +0000\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n\
         --b{i}\nContent-Type: text/plain\n\nThis is an aggregate report.\n\
         --b{i}\nContent-Type: {ctype}; name=\"{name}\"\n\
         Content-Disposition: attachment; filename=\"{name}\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--b{i}--\n",
        base64_lines(attachment)
    )
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen_corpus OUT_DIR [MEGABYTES]");
        std::process::exit(2);
    };
    let megabytes: u64 = match args.next().map(|s| s.parse()) {
        None => 200,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("MEGABYTES must be a number");
            std::process::exit(2);
        }
    };
    let first: u64 = match args.next().map(|s| s.parse()) {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("FIRST must be a number");
            std::process::exit(2);
        }
    };
    let out = Path::new(&out);
    std::fs::create_dir_all(out.join("mbox"))?;
    std::fs::create_dir_all(out.join("eml"))?;
    std::fs::create_dir_all(out.join("files"))?;
    let target = megabytes * 1_000_000;
    let mut rng =
        Rng(0x005e_ed0f_7a2d ^ first.saturating_sub(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let (mut on_disk, mut raw, mut reports) = (0u64, 0u64, 0u64);
    let mut mbox: Option<std::io::BufWriter<std::fs::File>> = None;
    let mut in_mbox = 0u32;
    let mut i = first.saturating_sub(1);
    while on_disk < target {
        i += 1;
        if i.is_multiple_of(20) {
            let j = tls(i, &mut rng);
            raw += j.len() as u64;
            let (name, bytes) = if i.is_multiple_of(40) {
                (format!("files/tls-{i}.json.gz"), gzip(j.as_bytes())?)
            } else {
                (format!("files/tls-{i}.json"), j.into_bytes())
            };
            on_disk += bytes.len() as u64;
            std::fs::write(out.join(name), bytes)?;
            reports += 1;
            continue;
        }
        let xml = aggregate(i, &mut rng);
        raw += xml.len() as u64;
        reports += 1;
        let stem = format!("google.com!party.example!{i}");
        let written = match i % 20 {
            0..=7 => {
                let p = out.join(format!("files/{stem}.xml"));
                std::fs::write(&p, &xml)?;
                xml.len() as u64
            }
            8..=11 => {
                let gz = gzip(xml.as_bytes())?;
                std::fs::write(out.join(format!("files/{stem}.xml.gz")), &gz)?;
                gz.len() as u64
            }
            12..=14 => {
                let z = zip(&format!("{stem}.xml"), xml.as_bytes())?;
                std::fs::write(out.join(format!("files/{stem}.zip")), &z)?;
                z.len() as u64
            }
            15..=16 => {
                let m = message(
                    i,
                    &format!("{stem}.xml.gz"),
                    "application/gzip",
                    &gzip(xml.as_bytes())?,
                );
                std::fs::write(out.join(format!("eml/{stem}.eml")), &m)?;
                m.len() as u64
            }
            _ => {
                if mbox.is_none() || in_mbox >= 50 {
                    let f = std::fs::File::create(out.join(format!("mbox/reports-{i}.mbox")))?;
                    mbox = Some(std::io::BufWriter::new(f));
                    in_mbox = 0;
                }
                let m = message(i, &format!("{stem}.xml"), "text/xml", xml.as_bytes());
                if let Some(w) = mbox.as_mut() {
                    writeln!(w, "From noreply-dmarc@google.com Thu Jan  1 00:00:00 2026")?;
                    w.write_all(m.as_bytes())?;
                    writeln!(w)?;
                }
                in_mbox += 1;
                m.len() as u64 + 56
            }
        };
        on_disk += written;
    }
    if let Some(mut w) = mbox {
        w.flush()?;
    }
    println!(
        "{reports} reports, {:.1} MB on disk, {:.1} MB of report documents",
        on_disk as f64 / 1e6,
        raw as f64 / 1e6
    );
    Ok(())
}
