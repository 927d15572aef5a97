//! `ward alert` through the real binary: two scans of the lab into one database, the
//! second with regressions in two organisations (hq: DMARC p=reject → p=none; york, a
//! volunteer branch: its MX removed), contacts with mail (a real STARTTLS receiver on
//! loopback, `ward_lab::mailbox`) and webhooks (a real HTTP receiver in this test that
//! checks the HMAC); and `ward monitor` sending the same digests after its rounds.

mod common;
use common::*;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ward_lab::Lab;
use ward_lab::mailbox::Mailbox;
use ward_model::{CheckId, SizeClass};
use ward_store::Store;

const SECRET: &str = "s3cret";

fn healthy(name: &str) -> String {
    format!("@ IN TXT \"v=spf1 -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:d@{name}\"\n")
}

fn lab_fixture(second: bool) -> ward_lab::Fixture {
    let mut zones = vec![zone("test", &[("ns.test", "127.0.91.1")], "")];
    let policy = if second {
        healthy("policy.test").replace("p=reject", "p=none")
    } else {
        healthy("policy.test")
    };
    zones.push(zone(
        "policy.test",
        &[("ns.policy.test", "127.0.91.2")],
        &policy,
    ));
    let mx = if second {
        healthy("mx.test")
    } else {
        format!(
            "{}@ IN MX 10 mx.mx.test.\nmx IN A 127.0.91.50\n",
            healthy("mx.test")
        )
    };
    zones.push(zone("mx.test", &[("ns.mx.test", "127.0.91.3")], &mx));
    fixture(zones, ward_lab::DnsBehaviour::default())
}

fn base_inventory() -> String {
    "[[organisation]]\nid = \"hq\"\nname = \"Test Party HQ\"\nkind = \"party\"\nsize = \"medium\"\n\n\
     [[organisation.domain]]\nname = \"policy.test\"\nroles = [\"mail\"]\n\n\
     HQ_CONTACTS\
     [[organisation]]\nid = \"york\"\nname = \"York Branch\"\nkind = \"branch\"\nsize = \"small\"\nparent = \"hq\"\n\n\
     [[organisation.domain]]\nname = \"mx.test\"\nroles = [\"mail\"]\n\n\
     YORK_CONTACTS"
        .to_owned()
}

fn contact(email: Option<&str>, hook: Option<&str>, quiet: Option<&str>) -> String {
    let mut s = String::from("[[organisation.contact]]\nmin_severity = \"low\"\n");
    if let Some(e) = email {
        s.push_str(&format!("email = \"{e}\"\n"));
    }
    if let Some(h) = hook {
        s.push_str(&format!(
            "webhook = \"{h}\"\nwebhook_secret = \"{SECRET}\"\n"
        ));
    }
    if let Some(q) = quiet {
        s.push_str(&format!("quiet_hours = \"{q}\"\n"));
    }
    s.push('\n');
    s
}

fn write_inventory(dir: &Path, name: &str, hq: &str, york: &str) -> String {
    let text = base_inventory()
        .replace("HQ_CONTACTS", hq)
        .replace("YORK_CONTACTS", york);
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

fn scan(dir: &Path, rt: &tokio::runtime::Runtime, second: bool, inv: &str) {
    let handle = rt.block_on(Lab::start(&lab_fixture(second))).unwrap();
    let mut cmd = ward(dir);
    cmd.arg("scan")
        .args(lab_args(&handle))
        .args(["--dns-timeout", "0.3", "--dns-attempts", "1"])
        .args(["--fail-on-unknown", "0"])
        .args(["--format", "json", "--db", "ward.db", "--inventory", inv]);
    let out = cmd.output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    handle.stop();
}

/// What a webhook receiver saw: (body, signature valid).
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// An HTTP receiver on loopback answering 500 to the first `fail_first` requests (all,
/// with `usize::MAX`), then 200.
async fn receiver(fail_first: usize) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = c.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), String::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((h, b)) = text.split_once("\r\n\r\n") {
                    let len: usize = h
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if b.len() >= len {
                        break (h.to_owned(), b.to_owned());
                    }
                }
            };
            let sig = head
                .lines()
                .find_map(|l| l.strip_prefix("X-Ward-Signature: "))
                .unwrap_or("")
                .to_owned();
            let ok = sig == ward_alert::sign(SECRET.as_bytes(), body.as_bytes())
                && head.contains("X-Ward-Timestamp: ");
            let n = {
                let mut g = s.lock().unwrap();
                g.push((body, ok));
                g.len()
            };
            let reply: &[u8] = if n <= fail_first {
                b"HTTP/1.1 500 try later\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            };
            let _ = c.write_all(reply).await;
        }
    });
    (url, seen)
}

fn alert(dir: &Path, mailbox: &Mailbox, inv: &str, lab: bool, expect: i32) -> serde_json::Value {
    let mut cmd = ward(dir);
    cmd.args([
        "alert",
        "--db",
        "ward.db",
        "--inventory",
        inv,
        "--format",
        "json",
    ])
    .args(["--smtp-server", "localhost", "--smtp-port"])
    .arg(mailbox.addr().port().to_string())
    .args(["--smtp-from", "ward@hq.test", "--ca", "ca.pem"])
    .args([
        "--link-base",
        "https://ward.example",
        "--webhook-backoff-ms",
        "50",
    ]);
    if lab {
        cmd.arg("--lab");
    }
    json(&run(&mut cmd, expect))
}

fn states(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = doc["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("").to_owned();
            (s("organisation_id"), s("channel"), s("state"))
        })
        .collect();
    v.sort();
    v
}

fn t3(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

#[test]
fn one_digest_per_organisation_once_with_retries_dead_letters_and_quiet_hours() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mailbox = rt.block_on(Mailbox::start()).unwrap();
    std::fs::write(dir.join("ca.pem"), mailbox.ca_pem()).unwrap();
    let (flaky, flaky_seen) = rt.block_on(receiver(2));
    let (broken, broken_seen) = rt.block_on(receiver(usize::MAX));

    let plain = write_inventory(dir, "plain.toml", "", "");
    scan(dir, &rt, false, &plain);
    scan(dir, &rt, true, &plain);

    // Quiet hours around now: everything held, nothing sent.
    let now = time::OffsetDateTime::now_utc();
    let hm = |t: time::OffsetDateTime| format!("{:02}:{:02}", t.hour(), t.minute());
    let quiet = format!(
        "{}-{}",
        hm(now - time::Duration::hours(1)),
        hm(now + time::Duration::hours(1))
    );
    let quiet_inv = write_inventory(
        dir,
        "quiet.toml",
        &contact(Some("it@hq.test"), Some(&flaky), Some(&quiet)),
        &contact(Some("vol@york.test"), Some(&broken), Some(&quiet)),
    );
    let doc = alert(dir, &mailbox, &quiet_inv, true, 0);
    assert_eq!(
        states(&doc),
        vec![
            t3("hq", "email", "held"),
            t3("hq", "webhook", "held"),
            t3("york", "email", "held"),
            t3("york", "webhook", "held"),
        ]
    );

    // Without lab mode a webhook on loopback is refused, and stays due.
    let hook_only = write_inventory(dir, "hook.toml", &contact(None, Some(&flaky), None), "");
    let doc = alert(dir, &mailbox, &hook_only, false, 3);
    assert_eq!(states(&doc), vec![t3("hq", "webhook", "refused")]);
    let err = doc["digests"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("127.0.0.1") && err.contains("loopback") && err.contains("refused"),
        "{err}"
    );
    assert!(flaky_seen.lock().unwrap().is_empty());
    assert!(mailbox.messages().is_empty());

    // Outside quiet hours, in lab mode: one mail per organisation; the flaky webhook on
    // its third attempt; the broken one a dead letter (exit 3).
    let inv = write_inventory(
        dir,
        "inv.toml",
        &contact(Some("it@hq.test"), Some(&flaky), None),
        &contact(Some("vol@york.test"), Some(&broken), None),
    );
    let doc = alert(dir, &mailbox, &inv, true, 3);
    assert_eq!(
        states(&doc),
        vec![
            t3("hq", "email", "sent"),
            t3("hq", "webhook", "sent"),
            t3("york", "email", "sent"),
            t3("york", "webhook", "dead_letter"),
        ],
        "{doc:#}"
    );
    let mails = rt.block_on(mailbox.wait_for(2, std::time::Duration::from_secs(10)));
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let to = |addr: &str| {
        mails
            .iter()
            .find(|m| m.to == [addr])
            .unwrap_or_else(|| panic!("{mails:#?}"))
    };
    let (hq, york) = (to("it@hq.test"), to("vol@york.test"));
    assert!(hq.tls && york.tls);
    // Each in the words for its audience, with a link per finding.
    let hq_text = hq.data.replace("=\r\n", "");
    let york_text = york.data.replace("=\r\n", "");
    let first_line = |c: CheckId, s: SizeClass| {
        ward_advice::advice::advice_for(c, s)
            .unwrap()
            .todo
            .lines()
            .next()
            .unwrap()
            .to_owned()
    };
    assert!(hq_text.contains("policy.test"), "{hq_text}");
    assert!(york_text.contains("mx.test"), "{york_text}");
    assert!(
        york_text.contains("https://ward.example/org/york/domain/mx.test#mx.present"),
        "{york_text}"
    );
    let vol = first_line(CheckId::MxPresent, SizeClass::Small);
    let it = first_line(CheckId::MxPresent, SizeClass::Medium);
    assert_ne!(vol, it);
    assert!(
        york_text.contains(&vol[..vol.len().min(30)]),
        "{vol}\n{york_text}"
    );
    assert!(
        !york_text.contains(&it[..it.len().min(30)]),
        "{it}\n{york_text}"
    );

    let flaky = flaky_seen.lock().unwrap().clone();
    assert_eq!(flaky.len(), 3);
    assert!(flaky.iter().all(|(_, ok)| *ok), "signature did not verify");
    let body: serde_json::Value = serde_json::from_str(&flaky[2].0).unwrap();
    assert_eq!(body["organisation"]["id"], "hq");
    assert_eq!(broken_seen.lock().unwrap().len(), 3);

    // Again: nothing new to tell.
    let doc = alert(dir, &mailbox, &inv, true, 0);
    assert_eq!(states(&doc), vec![]);
    assert_eq!(mailbox.messages().len(), 2);
    assert_eq!(flaky_seen.lock().unwrap().len(), 3);
    assert_eq!(broken_seen.lock().unwrap().len(), 3);

    // The dead letter is listed, with the message.
    let out = run(
        ward(dir).args([
            "alert",
            "--db",
            "ward.db",
            "-i",
            &inv,
            "--dead-letters",
            "--format",
            "json",
        ]),
        0,
    );
    let dead = json(&out);
    let dead = dead["dead_letters"].as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["organisation_id"], "york");
    assert_eq!(dead[0]["channel"], "webhook");
    assert!(dead[0]["error"].as_str().unwrap().contains("500"));
}

/// `ward monitor` tells the contacts itself after each round, and keeps each
/// organisation's own schedule: york (its inventory entry says weekly) is carried whole
/// into round 2, so only hq's regression is mailed then; once york's schedule is
/// removed, round 3 looks at it, and york's regression is mailed, hq's not again.
#[test]
fn the_monitor_alerts_after_a_round_that_regressed_under_each_organisation_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mailbox = rt.block_on(Mailbox::start()).unwrap();
    std::fs::write(dir.join("ca.pem"), mailbox.ca_pem()).unwrap();
    let hq = contact(Some("it@hq.test"), None, None);
    let york = contact(Some("vol@york.test"), None, None);
    let weekly = format!("{york}[organisation.schedule]\nevery = \"7d\"\n\n");
    let inv = write_inventory(dir, "inv.toml", &hq, &weekly);
    let round = |second: bool| {
        let handle = rt.block_on(Lab::start(&lab_fixture(second))).unwrap();
        let mut cmd = ward(dir);
        cmd.args(["monitor", "-i", &inv, "--db", "ward.db", "--once"])
            .args([
                "--jitter",
                "0",
                "--dns-timeout",
                "0.3",
                "--dns-attempts",
                "1",
            ])
            .args(lab_args(&handle))
            .args(["--smtp-server", "localhost", "--smtp-port"])
            .arg(mailbox.addr().port().to_string())
            .args(["--smtp-from", "ward@hq.test", "--ca", "ca.pem"])
            .args(["--link-base", "https://ward.example"]);
        let out = cmd.output().unwrap();
        handle.stop();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{err}");
        err
    };

    let first = round(false);
    assert!(
        first.contains("2 domain(s), 2 with their servers probed"),
        "{first}"
    );
    assert!(
        mailbox.messages().is_empty(),
        "a first round has nothing to compare"
    );

    let second = round(true);
    assert!(second.contains("1 carried whole"), "{second}");
    let mails = rt.block_on(mailbox.wait_for(1, std::time::Duration::from_secs(10)));
    assert_eq!(mails.len(), 1, "{mails:#?}\n{second}");
    assert_eq!(mails[0].to, ["it@hq.test"]);
    assert!(mails[0].data.contains("policy.test"));
    // York's record of round 2 is round 1's, and says so.
    rt.block_on(async {
        let store = Store::open(dir.join("ward.db").to_str().unwrap())
            .await
            .unwrap();
        let scans = store.scans().await.unwrap();
        let earlier = store
            .observation(scans[1].id, "mx.test")
            .await
            .unwrap()
            .unwrap();
        let carried = store
            .observation(scans[0].id, "mx.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(carried.dns_seen_at, Some(earlier.scanned_at));
        assert_eq!(carried.dns, earlier.dns);
        assert!(carried.scanned_at > earlier.scanned_at);
        let hq_now = store
            .observation(scans[0].id, "policy.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(hq_now.dns_seen_at, None, "hq is looked at every round");
        store.close().await;
    });

    write_inventory(dir, "inv.toml", &hq, &york);
    let third = round(true);
    assert!(third.contains("0 carried whole"), "{third}");
    let mails = rt.block_on(mailbox.wait_for(2, std::time::Duration::from_secs(10)));
    assert_eq!(mails.len(), 2, "{mails:#?}\n{third}");
    assert_eq!(mails[1].to, ["vol@york.test"]);
    assert!(mails[1].data.contains("mx.test"));
}
