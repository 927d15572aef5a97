//! `ward reports ingest --imap` against a real Dovecot on loopback, started by the test
//! as an unprivileged process with its own configuration in a temporary folder.

mod common;
use common::*;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn b64(data: &[u8], wrap: usize) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            out.push(if k <= chunk.len() {
                A[((n >> (18 - 6 * k)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    let chars: Vec<char> = out.chars().collect();
    chars
        .chunks(wrap)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn pem(label: &str, der: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        b64(der, 64)
    )
}

fn report_message(id: &str, attachment_name: &str, ctype: &str, body: &[u8]) -> String {
    format!(
        "From: dmarc@rx.example\r\nTo: rua@party.example\r\nSubject: Report {id}\r\n\
         Message-ID: <{id}@rx.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nA report.\r\n\
         --b1\r\nContent-Type: {ctype}; name=\"{attachment_name}\"\r\n\
         Content-Disposition: attachment; filename=\"{attachment_name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        b64(body, 76).replace('\n', "\r\n")
    )
}

const AGGREGATE: &str = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>rx.example</org_name>\
<report_id>i-1</report_id><date_range><begin>1767139200</begin><end>1767225600</end></date_range>\
</report_metadata><policy_published><domain>party.example</domain><p>none</p></policy_published>\
<record><row><source_ip>192.0.2.1</source_ip><count>4</count><policy_evaluated><disposition>none\
</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>\
party.example</header_from></identifiers><auth_results><spf><domain>party.example</domain><result>\
pass</result></spf></auth_results></record></feedback>";

const TLS: &str = r#"{"organization-name":"rx.example","date-range":{"start-datetime":"2026-01-01T00:00:00Z",
"end-datetime":"2026-01-01T23:59:59Z"},"report-id":"i-2","policies":[{"policy":{"policy-type":"sts",
"policy-domain":"party.example"},"summary":{"total-successful-session-count":5,"total-failure-session-count":0}}]}"#;

/// Dovecot, running in the foreground until dropped.
struct Dovecot {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its login and imap processes too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Dovecot's binary: on the PATH, or where Debian puts it (/usr/sbin is not on an
/// unprivileged user's PATH).
fn dovecot_bin() -> std::path::PathBuf {
    let debian = std::path::Path::new("/usr/sbin/dovecot");
    if Command::new("dovecot").arg("--version").output().is_err() && debian.exists() {
        debian.to_path_buf()
    } else {
        "dovecot".into()
    }
}

/// Starts Dovecot on loopback with a certificate from the lab CA, one user `dmarc`
/// (password `secret`) whose INBOX holds `messages`. Run as `nobody` when the test
/// runs as root (Dovecot's login processes refuse root). Panics when Dovecot is not
/// installed.
fn start_dovecot(dir: &Path, ca_pem_out: &Path, messages: &[(&str, String)]) -> Dovecot {
    // A missing server is a failure, not a silent pass: the IMAP path must be tested.
    assert!(
        Command::new(dovecot_bin())
            .arg("--version")
            .output()
            .is_ok(),
        "dovecot is not installed: apt-get install dovecot-imapd (bash .ci/run does it)"
    );
    let now = time::OffsetDateTime::now_utc();
    let ca = ward_lab::certs::LabCa::new(now).unwrap();
    let leaf = ca
        .issue(
            &["127.0.0.1".to_owned()],
            &ward_lab::hosts::CertSpec {
                status: ward_lab::hosts::CertStatus::Valid,
                key: ward_lab::hosts::KeyType::EcdsaP256,
                ..Default::default()
            },
            now,
        )
        .unwrap();
    std::fs::write(ca_pem_out, ca.ca_cert_pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), pem("CERTIFICATE", &leaf.chain[0])).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        pem("PRIVATE KEY", leaf.key.secret_der()),
    )
    .unwrap();
    let maildir = dir.join("home/dmarc/Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for (name, text) in messages {
        std::fs::write(maildir.join("new").join(name), text).unwrap();
    }
    let root = is_root();
    let (user, group, uid, gid) = if root {
        ("nobody".to_owned(), "nogroup".to_owned(), 65534, 65534)
    } else {
        let out = |args: &[&str]| {
            String::from_utf8(Command::new("id").args(args).output().unwrap().stdout)
                .unwrap()
                .trim()
                .to_owned()
        };
        (
            out(&["-un"]),
            out(&["-gn"]),
            out(&["-u"]).parse().unwrap(),
            out(&["-g"]).parse().unwrap(),
        )
    };
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
         protocols = imap\nlisten = 127.0.0.1\nssl = required\n\
         ssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n\
         default_internal_user = {user}\ndefault_internal_group = {group}\n\
         default_login_user = {user}\nauth_mechanisms = plain\n\
         passdb {{\n  driver = static\n  args = password=secret\n}}\n\
         userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/home/%u\n}}\n\
         mail_location = maildir:{d}/home/%u/Maildir\n\
         service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = 0\n  }}\n\
         inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n\
         service anvil {{\n  chroot =\n}}\n"
    );
    std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
    for sub in ["run", "state"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf_path = dir.join("dovecot.conf").display().to_string();
    let mut cmd = if root {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success(), "chown of the Dovecot folder");
        // The temporary folder around it is root's and 0700: let `nobody` through.
        if let Some(parent) = dir.parent() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
        c.arg(dovecot_bin());
        c
    } else {
        Command::new(dovecot_bin())
    };
    let child = cmd
        .args(["-F", "-c", &conf_path])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dovecot starts");
    let mut server = Dovecot {
        child,
        port,
        maildir,
    };
    // Ready when it accepts connections (with a deadline; it must not have exited).
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
            panic!("dovecot exited ({status}):\n{log}");
        }
        assert!(Instant::now() < deadline, "dovecot did not listen in time");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                out.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
    }
    out
}

/// The Report-ids (from the Subject) of the messages in a Maildir folder, sorted.
fn subjects(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = files_in(dir)
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: Report ").map(str::to_owned))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn imap_reports_are_stored_then_moved_and_a_bad_message_stays_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("dovecot");
    std::fs::create_dir_all(&server_dir).unwrap();
    let ca = dir.path().join("ca.pem");
    let messages = [
        (
            "1.m",
            report_message("i-1", "a.xml.gz", "application/gzip", &{
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(AGGREGATE.as_bytes()).unwrap();
                e.finish().unwrap()
            }),
        ),
        (
            "2.m",
            report_message("i-2", "t.json", "application/tlsrpt+json", TLS.as_bytes()),
        ),
        (
            "3.m",
            report_message("i-3", "bad.xml", "text/xml", b"<feedback><report_metadata>"),
        ),
        (
            "4.m",
            "From: someone@example.org\r\nSubject: Report i-4\r\nMessage-ID: <i-4@x>\r\n\r\nJust prose, no report.\r\n"
                .to_owned(),
        ),
    ];
    let server = start_dovecot(&server_dir, &ca, &messages);
    let url = format!("imaps://dmarc@127.0.0.1:{}/INBOX", server.port);
    let ingest = |dir: &Path| {
        let mut c = ward(dir);
        c.args([
            "reports",
            "ingest",
            "--db",
            "r.db",
            "--imap",
            &url,
            "--imap-ca",
        ])
        .arg(&ca)
        .env("WARD_IMAP_PASSWORD", "secret");
        c
    };

    let first = run(&mut ingest(dir.path()), 2);
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "2 reports stored, 0 duplicates skipped, 2 failures\n"
    );
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    let prefix = "ward: refused imaps://dmarc@127.0.0.1/INBOX;UID=";
    let mut reasons: Vec<&str> = stderr
        .lines()
        .map(|l| {
            let rest = l
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected stderr line {l:?}"));
            rest.split_once(": ").map(|(_, r)| r).unwrap_or(rest)
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "cut off: the document ends at line 1 (byte 27) with 2 element(s) still open; a complete report ends with </feedback>",
            "mail message holds no report (parts seen: text/plain)",
        ],
        "stderr:\n{stderr}"
    );
    // The stored ones moved; the bad ones stayed.
    assert_eq!(subjects(&server.maildir.join(".processed")), ["i-1", "i-2"]);
    assert_eq!(subjects(&server.maildir), ["i-3", "i-4"]);

    // Again: nothing left to store; the bad messages are still there and named again.
    let second = run(&mut ingest(dir.path()), 2);
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "0 reports stored, 0 duplicates skipped, 2 failures\n"
    );
    assert_eq!(subjects(&server.maildir), ["i-3", "i-4"]);

    // Both reports are in the store.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ids: Vec<String> = rt.block_on(async {
        let s = ward_store::Store::open_sqlite(&dir.path().join("r.db"))
            .await
            .unwrap();
        s.stored_reports()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.report_id)
            .collect()
    });
    assert_eq!(ids.len(), 2);
    assert!(
        ids.contains(&"i-1".to_owned()) && ids.contains(&"i-2".to_owned()),
        "{ids:?}"
    );

    // A wrong password is refused by the server, and said so.
    let mut bad = ward(dir.path());
    bad.args([
        "reports",
        "ingest",
        "--db",
        "r.db",
        "--imap",
        &url,
        "--imap-ca",
    ])
    .arg(&ca)
    .env("WARD_IMAP_PASSWORD", "wrong");
    let out = run(&mut bad, 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ward: IMAP LOGIN: NO [AUTHENTICATIONFAILED]"),
        "{err}"
    );
    assert!(
        !err.contains("wrong"),
        "the password must not be echoed: {err}"
    );
}
