//! The mail reports the demo party received last week: DMARC aggregate reports (in both
//! the RFC 7489 and the RFC 9990 `dmarc-2.0` schema), DMARC failure reports and SMTP TLS
//! reports, built in code so that `ward demo` can show the mail-report side of ward.
//!
//! Everything is deterministic: [`generate`] gives the same bytes for the same week. The
//! situations are those a party really sees in its reports:
//!
//! * the HQ's legitimate senders pass: its own mail server (`192.0.2.1`, DKIM
//!   `selector1`), Microsoft 365 for staff mail (`selector2`), and a mailing-list
//!   provider for the newsletter, which passes DMARC through DKIM alone, signing with
//!   `news2026`, a selector in no built-in list (only the reports name it);
//! * an alumni forwarder relays HQ mail: SPF fails at the next hop, DKIM survives, so
//!   DMARC still passes;
//! * a spoofing source sends as the Barnsley branch (monitoring only, `p=none`), whose
//!   own mail also fails because it never set up SPF or DKIM; Barnsley also asked for
//!   failure reports (`ruf=`), so some of those messages come back as ARF reports;
//! * a smaller spoofing source hits the North region, whose quarantine policy stops it;
//! * TLS reports: every session to the HQ's mail server succeeds; the hosting company's
//!   MX (`mx.hostingco.example`, Bradford's MTA-STS host) served an expired certificate
//!   for three days.
//!
//! Source addresses are documentation ranges (RFC 5737); the demo's lab serves their
//! reverse names ([`REVERSE_ZONES`]) so `ward demo` can name the services behind them.

use std::fmt::Write;
use std::io::Write as _;

/// One generated report input, as it would arrive: a file name and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// A name for the input (used as the report's source).
    pub name: String,
    /// The bytes: XML, gzipped XML, JSON, or an e-mail message carrying one of those.
    pub bytes: Vec<u8>,
}

/// Days covered, ending the day before the `today` passed to [`generate`].
pub const DAYS: i64 = 7;

/// DKIM selector that only the reports reveal: the newsletter provider signs the HQ's mail
/// with it, the HQ zone publishes its key, and it is in no built-in selector list.
pub const REPORTED_ONLY_SELECTOR: &str = "news2026";

/// A sending source in the demo's reports.
struct Source {
    ip: &'static str,
    /// Messages per day at full weight.
    per_day: u64,
    /// The envelope (SPF) domain, and whether SPF passed for it.
    spf: Option<(&'static str, bool)>,
    /// DKIM signature: domain, selector, whether it verified.
    dkim: Option<(&'static str, &'static str, bool)>,
}

/// A domain whose reports come to the HQ, the policy it publishes (as receivers report
/// it) and who sends as it.
struct Domain {
    name: &'static str,
    p: &'static str,
    sp: Option<&'static str>,
    pct: Option<u8>,
    testing: bool,
    adkim: &'static str,
    sources: &'static [Source],
}

const HQ: &str = super::HQ_DOMAIN;
const OWN_MX: &str = "192.0.2.1";
const HOSTING_MX: &str = "192.0.2.50";
const M365: &str = "198.51.100.25";
const NEWSLETTER: &str = "198.51.100.140";
const FORWARDER: &str = "203.0.113.77";
const SPOOFER: &str = "203.0.113.200";
const SPOOFER_2: &str = "203.0.113.201";

/// Reverse zones (origin, body) for the demo's source addresses.
pub const REVERSE_ZONES: &[(&str, &str)] = &[
    (
        "2.0.192.in-addr.arpa",
        "1 IN PTR mail.exampleparty.example.\n50 IN PTR mx.hostingco.example.\n",
    ),
    (
        "100.51.198.in-addr.arpa",
        "25 IN PTR mail-am6eur05on2025.outbound.protection.outlook.com.\n\
         140 IN PTR mail140.atl221.mcsv.net.\n",
    ),
    (
        "113.0.203.in-addr.arpa",
        "77 IN PTR relay.alumni-forward.example.\n200 IN PTR 200.broadband.isp.example.\n",
    ),
];

const DOMAINS: &[Domain] = &[
    Domain {
        name: HQ,
        p: "reject",
        sp: None,
        pct: None,
        testing: false,
        adkim: "s",
        sources: &[
            Source {
                ip: OWN_MX,
                per_day: 180,
                spf: Some((HQ, true)),
                dkim: Some((HQ, "selector1", true)),
            },
            Source {
                ip: M365,
                per_day: 120,
                spf: Some((HQ, true)),
                dkim: Some((HQ, "selector2", true)),
            },
            Source {
                ip: NEWSLETTER,
                per_day: 400,
                spf: Some(("mail140.atl221.mcsv.net", true)),
                dkim: Some((HQ, REPORTED_ONLY_SELECTOR, true)),
            },
            Source {
                ip: FORWARDER,
                per_day: 6,
                spf: Some((HQ, false)),
                dkim: Some((HQ, "selector1", true)),
            },
            Source {
                ip: SPOOFER,
                per_day: 2,
                spf: Some((HQ, false)),
                dkim: None,
            },
        ],
    },
    Domain {
        name: "exampleparty-north.example",
        p: "quarantine",
        sp: None,
        pct: None,
        testing: false,
        adkim: "r",
        sources: &[
            Source {
                ip: OWN_MX,
                per_day: 40,
                spf: Some(("exampleparty-north.example", true)),
                dkim: None,
            },
            Source {
                ip: SPOOFER_2,
                per_day: 15,
                spf: Some(("exampleparty-north.example", false)),
                dkim: None,
            },
        ],
    },
    Domain {
        name: "barnsley-exampleparty.example",
        p: "none",
        sp: None,
        pct: None,
        testing: false,
        adkim: "r",
        sources: &[
            Source {
                ip: HOSTING_MX,
                per_day: 25,
                spf: Some(("barnsley-exampleparty.example", false)),
                dkim: None,
            },
            Source {
                ip: SPOOFER,
                per_day: 90,
                spf: Some(("barnsley-exampleparty.example", false)),
                dkim: Some(("barnsley-exampleparty.example", "s1", false)),
            },
        ],
    },
    Domain {
        name: "bradford-exampleparty.example",
        p: "reject",
        sp: None,
        pct: None,
        testing: false,
        adkim: "r",
        sources: &[Source {
            ip: HOSTING_MX,
            per_day: 30,
            spf: Some(("bradford-exampleparty.example", true)),
            dkim: Some(("bradford-exampleparty.example", "default", true)),
        }],
    },
    Domain {
        name: "durham-exampleparty.example",
        p: "none",
        sp: None,
        pct: None,
        testing: false,
        adkim: "r",
        sources: &[Source {
            ip: HOSTING_MX,
            per_day: 20,
            spf: Some(("durham-exampleparty.example", true)),
            dkim: Some(("durham-exampleparty.example", "default", true)),
        }],
    },
    Domain {
        name: "norwich-exampleparty.example",
        p: "quarantine",
        sp: None,
        pct: None,
        testing: false,
        adkim: "r",
        sources: &[Source {
            ip: HOSTING_MX,
            per_day: 12,
            spf: Some(("norwich-exampleparty.example", true)),
            dkim: None,
        }],
    },
    Domain {
        name: "wakefield-exampleparty.example",
        p: "reject",
        sp: None,
        pct: Some(50),
        testing: true,
        adkim: "r",
        sources: &[Source {
            ip: HOSTING_MX,
            per_day: 15,
            spf: Some(("wakefield-exampleparty.example", true)),
            dkim: None,
        }],
    },
];

/// A receiver that sends aggregate reports: its name, contact, share of the mail (per
/// cent), the schema it writes, and how it packs the report.
struct Reporter {
    org: &'static str,
    email: &'static str,
    share: u64,
    schema: Schema,
    packing: Packing,
}

#[derive(Clone, Copy, PartialEq)]
enum Schema {
    /// RFC 7489 appendix C: no namespace, `<version>1.0</version>`.
    Rfc7489,
    /// RFC 9990: the `dmarc-2.0` namespace, `generator`, `np`, `testing`,
    /// `discovery_method`.
    Rfc9990,
}

#[derive(Clone, Copy, PartialEq)]
enum Packing {
    /// A message with the gzipped XML attached (base64), as most receivers send them.
    MessageGzip,
    /// A message with the plain XML attached (base64).
    MessageXml,
    /// A bare `.xml.gz` file, as saved from a mail client.
    Gzip,
}

const REPORTERS: &[Reporter] = &[
    Reporter {
        org: "google.com",
        email: "noreply-dmarc-support@google.com",
        share: 50,
        schema: Schema::Rfc7489,
        packing: Packing::MessageGzip,
    },
    Reporter {
        org: "Enterprise Outlook",
        email: "dmarcreport@microsoft.com",
        share: 35,
        schema: Schema::Rfc7489,
        packing: Packing::MessageXml,
    },
    Reporter {
        org: "Mail Receiver Example",
        email: "dmarc-reports@receiver.example",
        share: 15,
        schema: Schema::Rfc9990,
        packing: Packing::Gzip,
    },
];

/// Messages a reporter saw from a source on day `day` (0-based): the source's daily
/// volume, the reporter's share, and a small deterministic wobble so days differ.
fn count(per_day: u64, share: u64, day: i64, salt: usize) -> u64 {
    let wobble = 90 + ((day as u64 * 7 + salt as u64 * 13) % 21); // 90..=110 per cent
    (per_day * share * wobble).div_ceil(100 * 100)
}

/// An RFC 3339 UTC timestamp for seconds since the epoch (days from 1970 by the civil
/// calendar; valid for the years ward will run in).
fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The RFC 5322 date of seconds since the epoch.
fn rfc5322(t: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{}, {d} {} {y} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Year, month, day of a day number (days since 1970-01-01); Howard Hinnant's algorithm.
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 * 2 + 4);
    for (i, c) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n"); // 76 characters a line
        }
        let b = [
            c[0],
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// A report message from `from` to the HQ's report address with one attachment.
fn message(
    from: &str,
    subject: &str,
    date: i64,
    id: &str,
    file: &str,
    ctype: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut m = String::new();
    let _ = write!(
        m,
        "From: {from}\r\nTo: dmarc@exampleparty.example\r\nSubject: {subject}\r\n\
         Date: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"demo-boundary\"\r\n\r\n\
         --demo-boundary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
         This is a DMARC aggregate report.\r\n\r\n\
         --demo-boundary\r\nContent-Type: {ctype}; name=\"{file}\"\r\n\
         Content-Disposition: attachment; filename=\"{file}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--demo-boundary--\r\n",
        date = rfc5322(date),
        b64 = base64(body),
    );
    m.into_bytes()
}

fn aggregate_xml(r: &Reporter, d: &Domain, day: i64, begin: i64, id: &str) -> Option<String> {
    let mut records = String::new();
    for (i, s) in d.sources.iter().enumerate() {
        let n = count(s.per_day, r.share, day, i);
        if n == 0 {
            continue;
        }
        let spf_aligned = s.spf.is_some_and(|(dom, ok)| ok && dom == d.name);
        let dkim_aligned = s.dkim.is_some_and(|(dom, _, ok)| {
            ok && (dom == d.name || (d.adkim == "r" && d.name.ends_with(&format!(".{dom}"))))
        });
        let disposition = if spf_aligned || dkim_aligned {
            "none"
        } else {
            match (d.p, d.testing) {
                (_, true) | ("none", _) => "none",
                (p, false) => p,
            }
        };
        let pf = |b: bool| if b { "pass" } else { "fail" };
        let _ = write!(
            records,
            "  <record>\n    <row>\n      <source_ip>{ip}</source_ip>\n      <count>{n}</count>\n      \
             <policy_evaluated>\n        <disposition>{disposition}</disposition>\n        \
             <dkim>{dk}</dkim>\n        <spf>{sp}</spf>\n",
            ip = s.ip,
            dk = pf(dkim_aligned),
            sp = pf(spf_aligned),
        );
        if s.ip == FORWARDER {
            records.push_str(
                "        <reason>\n          <type>local_policy</type>\n          \
                 <comment>arc=pass forwarded</comment>\n        </reason>\n",
            );
        }
        let _ = write!(
            records,
            "      </policy_evaluated>\n    </row>\n    <identifiers>\n      \
             <envelope_to>receiver.example</envelope_to>\n"
        );
        if let Some((env, _)) = s.spf {
            let _ = writeln!(records, "      <envelope_from>{env}</envelope_from>");
        }
        let _ = write!(
            records,
            "      <header_from>{}</header_from>\n    </identifiers>\n    <auth_results>\n",
            d.name
        );
        if let Some((dom, sel, ok)) = s.dkim {
            let _ = write!(
                records,
                "      <dkim>\n        <domain>{dom}</domain>\n        <selector>{sel}</selector>\n        \
                 <result>{}</result>\n      </dkim>\n",
                pf(ok)
            );
        }
        match s.spf {
            Some((dom, ok)) => {
                let _ = write!(
                    records,
                    "      <spf>\n        <domain>{dom}</domain>\n        <scope>mfrom</scope>\n        \
                     <result>{}</result>\n      </spf>\n",
                    if ok {
                        "pass"
                    } else if d.name.starts_with("barnsley") {
                        "none" // Barnsley publishes no SPF record
                    } else {
                        "fail"
                    }
                );
            }
            None => records.push_str(
                "      <spf>\n        <domain>unknown</domain>\n        <result>none</result>\n      </spf>\n",
            ),
        }
        records.push_str("    </auth_results>\n  </record>\n");
    }
    if records.is_empty() {
        return None;
    }
    let end = begin + 86_399;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
    let (open, generator) = match r.schema {
        Schema::Rfc7489 => ("<feedback>\n  <version>1.0</version>\n", String::new()),
        Schema::Rfc9990 => (
            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n",
            "    <generator>Receiver Example DMARC 3.1</generator>\n".to_owned(),
        ),
    };
    x.push_str(open);
    let _ = write!(
        x,
        "  <report_metadata>\n    <org_name>{org}</org_name>\n    <email>{email}</email>\n    \
         <report_id>{id}</report_id>\n    <date_range>\n      <begin>{begin}</begin>\n      \
         <end>{end}</end>\n    </date_range>\n{generator}  </report_metadata>\n  \
         <policy_published>\n    <domain>{domain}</domain>\n    <adkim>{adkim}</adkim>\n    \
         <aspf>r</aspf>\n    <p>{p}</p>\n    <sp>{sp}</sp>\n",
        org = r.org,
        email = r.email,
        domain = d.name,
        adkim = d.adkim,
        p = d.p,
        sp = d.sp.unwrap_or(d.p),
    );
    match r.schema {
        Schema::Rfc7489 => {
            let _ = writeln!(x, "    <pct>{}</pct>", d.pct.unwrap_or(100));
        }
        Schema::Rfc9990 => {
            let _ = write!(
                x,
                "    <np>{}</np>\n    <testing>{}</testing>\n    <discovery_method>treewalk</discovery_method>\n",
                d.sp.unwrap_or(d.p),
                if d.testing { "y" } else { "n" }
            );
        }
    }
    x.push_str("  </policy_published>\n");
    x.push_str(&records);
    x.push_str("</feedback>\n");
    Some(x)
}

/// An RFC 8460 report from Google about one policy domain for one day.
fn tls_json(
    domain: &str,
    mx: &str,
    mx_ip: &str,
    day_start: i64,
    successful: u64,
    failures: &[(&str, u64)],
) -> String {
    let failed: u64 = failures.iter().map(|(_, n)| n).sum();
    let details: Vec<String> = failures
        .iter()
        .map(|(kind, n)| {
            format!(
                "{{\"result-type\": \"{kind}\", \"sending-mta-ip\": \"198.51.100.7\", \
                 \"receiving-mx-hostname\": \"{mx}\", \"receiving-ip\": \"{mx_ip}\", \
                 \"failed-session-count\": {n}}}"
            )
        })
        .collect();
    format!(
        "{{\"organization-name\": \"Google Inc.\", \"date-range\": {{\"start-datetime\": \"{start}\", \
         \"end-datetime\": \"{end}\"}}, \"contact-info\": \"smtp-tls-reporting@google.com\", \
         \"report-id\": \"{start}_{domain}\", \"policies\": [{{\"policy\": {{\"policy-type\": \"sts\", \
         \"policy-string\": [\"version: STSv1\", \"mode: enforce\", \"mx: {mx}\", \"max_age: 1209600\"], \
         \"policy-domain\": \"{domain}\", \"mx-host\": [\"{mx}\"]}}, \"summary\": \
         {{\"total-successful-session-count\": {successful}, \"total-failure-session-count\": {failed}}}, \
         \"failure-details\": [{details}]}}]}}\n",
        start = rfc3339(day_start),
        end = rfc3339(day_start + 86_399),
        details = details.join(", "),
    )
}

/// An ARF authentication-failure report (RFC 6591 / RFC 9991) about one spoofed message.
fn failure_report(n: usize, arrival: i64) -> Vec<u8> {
    let domain = "barnsley-exampleparty.example";
    let date = rfc5322(arrival);
    format!(
        "From: Mail Receiver Example <dmarc-failures@receiver.example>\r\n\
         To: dmarc@exampleparty.example\r\n\
         Subject: DMARC failure report for {domain}\r\n\
         Date: {date}\r\n\
         Message-ID: <failure-{n}-{arrival}@receiver.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n\
         --arf\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
         A message claiming to be from {domain} failed DMARC.\r\n\r\n\
         --arf\r\nContent-Type: message/feedback-report\r\n\r\n\
         Feedback-Type: auth-failure\r\nVersion: 1\r\nUser-Agent: ReceiverExample-ARF/2.0\r\n\
         Auth-Failure: dmarc\r\nIdentity-Alignment: none\r\nDelivery-Result: delivered\r\n\
         Source-IP: {SPOOFER}\r\nReported-Domain: {domain}\r\nArrival-Date: {date}\r\n\
         Original-Mail-From: <billing@{domain}>\r\nOriginal-Rcpt-To: <member{n}@receiver.example>\r\n\
         Authentication-Results: mx.receiver.example; dmarc=fail header.from={domain}; \
         spf=none smtp.mailfrom={domain}; dkim=fail header.d={domain} header.s=s1\r\n\r\n\
         --arf\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: \"Barnsley Branch Treasurer\" <billing@{domain}>\r\n\
         To: member{n}@receiver.example\r\nSubject: Your membership payment failed\r\n\
         Date: {date}\r\nMessage-ID: <spoof-{n}-{arrival}@{SPOOFER}>\r\n\r\n\
         --arf--\r\n"
    )
    .into_bytes()
}

/// The demo party's reports for the [`DAYS`] whole UTC days before `today` (seconds since
/// the epoch, any time of that day). The same day gives the same bytes.
pub fn generate(today: i64) -> Vec<DemoReport> {
    let first = today.div_euclid(86_400) * 86_400 - DAYS * 86_400;
    let mut out = Vec::new();
    for day in 0..DAYS {
        let begin = first + day * 86_400;
        let (y, m, d) = civil(begin.div_euclid(86_400));
        let ymd = format!("{y:04}{m:02}{d:02}");
        for r in REPORTERS {
            for dom in DOMAINS {
                let id = format!(
                    "{ymd}.{}.{}",
                    dom.name,
                    r.org.to_ascii_lowercase().replace(' ', "-")
                );
                let Some(xml) = aggregate_xml(r, dom, day, begin, &id) else {
                    continue;
                };
                let file = format!(
                    "{}!{}!{}!{}",
                    r.org.replace(' ', "_"),
                    dom.name,
                    begin,
                    begin + 86_399
                );
                let subject = format!(
                    "Report Domain: {} Submitter: {} Report-ID: <{id}>",
                    dom.name, r.org
                );
                let sent = begin + 86_400 + 3_600;
                let (name, bytes) = match r.packing {
                    Packing::MessageGzip => (
                        format!("{file}.eml"),
                        message(
                            r.email,
                            &subject,
                            sent,
                            &format!("{id}@report"),
                            &format!("{file}.xml.gz"),
                            "application/gzip",
                            &gzip(xml.as_bytes()),
                        ),
                    ),
                    Packing::MessageXml => (
                        format!("{file}.eml"),
                        message(
                            r.email,
                            &subject,
                            sent,
                            &format!("{id}@report"),
                            &format!("{file}.xml"),
                            "text/xml",
                            xml.as_bytes(),
                        ),
                    ),
                    Packing::Gzip => (format!("{file}.xml.gz"), gzip(xml.as_bytes())),
                };
                out.push(DemoReport {
                    name: format!("demo-reports/{name}"),
                    bytes,
                });
            }
        }
        // SMTP TLS reports: Google's, as JSON files; the HQ's MX always succeeds, the
        // hosting company's served an expired certificate on days 3 to 5.
        let hq = tls_json(
            HQ,
            "mail.exampleparty.example",
            OWN_MX,
            begin,
            count(700, 100, day, 1),
            &[],
        );
        let expired: &[(&str, u64)] = if (2..5).contains(&day) {
            &[("certificate-expired", 14 + day as u64)]
        } else {
            &[]
        };
        let bradford = tls_json(
            "bradford-exampleparty.example",
            "mx.hostingco.example",
            HOSTING_MX,
            begin,
            count(30, 100, day, 2),
            expired,
        );
        for (dom, json) in [(HQ, hq), ("bradford-exampleparty.example", bradford)] {
            out.push(DemoReport {
                name: format!("demo-reports/google.com!{dom}!{ymd}.json"),
                bytes: json.into_bytes(),
            });
        }
    }
    // Three failure reports about the spoofed Barnsley mail, on the last three days.
    for n in 0..3 {
        let arrival = first + (DAYS - 3 + n as i64) * 86_400 + 9 * 3_600 + 17 * 60 * n as i64;
        out.push(DemoReport {
            name: format!("demo-reports/failure-{n}.eml"),
            bytes: failure_report(n, arrival),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_564_800), "2026-11-25T00:00:00Z");
        assert_eq!(
            rfc5322(1_795_564_800 + 3_661),
            "Wed, 25 Nov 2026 01:01:01 +0000"
        );
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn same_day_same_bytes() {
        let a = generate(1_795_564_800);
        let b = generate(1_795_564_800 + 40_000);
        assert_eq!(a, b);
        assert_ne!(a, generate(1_795_564_800 + 86_400));
        // 3 reporters x 7 domains x 7 days, 2 TLS reports a day, 3 failure reports.
        assert_eq!(a.len(), 3 * 7 * 7 + 2 * 7 + 3);
    }
}
