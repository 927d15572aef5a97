//! Chains and stapled OCSP against real Debian `openssl s_server` processes (issue 4).
//!
//! The test makes a small PKI with the `openssl` binary: a root, an intermediate, two
//! leaves for `localhost` issued by the intermediate, and an unrelated self-signed
//! certificate. The root is trusted by the scanner (as the lab CA is); the intermediate is
//! sent or not, in order or not, with an extra certificate or not (`-cert_chain`). OCSP
//! responses are made by `openssl ocsp` from an index file, with the intermediate as the
//! responder, one saying "good" for the first leaf and one "revoked" for the second, and
//! stapled with `-status_file`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use ward_model::tls::{OcspCertStatus, OcspSignature, OcspStaple, TlsScan};
use ward_net::{Net, NetConfig, PortMap};
use ward_probe::tls::{TlsTarget, Transport, scan_with};

mod common;
use common::Server;

const ROOT_DN: &str = "/O=ward-test/CN=ward test root";
const INT_DN: &str = "/O=ward-test/CN=ward test intermediate";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The PKI, made once per test binary.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("pki file")
    }

    /// A PEM file holding the named certificates in this order.
    fn bundle(&self, name: &str, parts: &[&str]) -> PathBuf {
        let text: String = parts.iter().map(|p| self.read(p)).collect();
        let path = self.path(name);
        std::fs::write(&path, text).expect("write bundle");
        path
    }
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n\
             [int]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n\
             [leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
        )
        .expect("ext file");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        // Root.
        openssl(d, &[&["req", "-x509"][..], &ec, &["-days", "30", "-subj", ROOT_DN,
            "-keyout", "root.key", "-out", "root.pem", "-extensions", "ca", "-config", "ext.cnf"]].concat());
        // Intermediate, signed by the root.
        openssl(d, &[&["req"][..], &ec, &["-subj", INT_DN, "-keyout", "int.key", "-out", "int.csr"]].concat());
        openssl(d, &["x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key",
            "-set_serial", "0x2000", "-days", "30", "-extfile", "ext.cnf", "-extensions", "int",
            "-out", "int.pem"]);
        // Two leaves for localhost, signed by the intermediate.
        for (name, serial) in [("leaf", "0x1001"), ("revoked", "0x1002")] {
            openssl(d, &[&["req"][..], &ec, &["-subj", "/CN=localhost", "-keyout",
                &format!("{name}.key"), "-out", &format!("{name}.csr")]].concat());
            openssl(d, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "int.pem",
                "-CAkey", "int.key", "-set_serial", serial, "-days", "20", "-extfile", "ext.cnf",
                "-extensions", "leaf", "-out", &format!("{name}.pem")]);
        }
        // Something unrelated.
        openssl(d, &[&["req", "-x509"][..], &ec, &["-days", "30", "-subj", "/CN=unrelated.example",
            "-keyout", "other.key", "-out", "other.pem"]].concat());
        // The responder's database: the first leaf valid, the second revoked.
        std::fs::write(
            d.join("index.txt"),
            "V\t491231235959Z\t\t1001\tunknown\t/CN=localhost\n\
             R\t491231235959Z\t260101000000Z,keyCompromise\t1002\tunknown\t/CN=localhost\n",
        )
        .expect("index");
        for name in ["leaf", "revoked"] {
            let req = format!("{name}-req.der");
            openssl(d, &["ocsp", "-issuer", "int.pem", "-cert", &format!("{name}.pem"),
                "-no_nonce", "-reqout", &req]);
            openssl(d, &["ocsp", "-index", "index.txt", "-rsigner", "int.pem", "-rkey", "int.key",
                "-CA", "int.pem", "-reqin", &req, "-ndays", "7",
                "-respout", &format!("{name}-ocsp.der")]);
        }
        Pki { dir }
    })
}

/// s_server with `leaf` (and its key), sending `chain` after it, stapling `status`.
fn start_server(leaf: &str, chain: Option<&Path>, status: Option<&str>) -> Server {
    start_server_with(leaf, chain, status, &[])
}

/// [`start_server`] with extra s_server arguments.
fn start_server_with(
    leaf: &str,
    chain: Option<&Path>,
    status: Option<&str>,
    extra: &[&str],
) -> Server {
    let p = pki();
    common::start(|| {
        let mut cmd = Command::new("openssl");
        cmd.arg("s_server")
            .arg("-cert")
            .arg(p.path(&format!("{leaf}.pem")))
            .arg("-key")
            .arg(p.path(&format!("{leaf}.key")))
            // No trust store: openssl must not complete the chain on its own.
            .args(["-no-CAfile", "-no-CApath", "-no-CAstore", "-www"]);
        if let Some(chain) = chain {
            cmd.arg("-cert_chain").arg(chain);
        }
        if let Some(status) = status {
            cmd.arg("-status_file").arg(p.path(status));
        }
        cmd.args(extra);
        cmd
    })
}

async fn scan(server: &Server) -> TlsScan {
    let mut map = BTreeMap::new();
    map.insert(443, server.port);
    let cfg = NetConfig::builder(SocketAddr::from(([127, 0, 0, 1], 53)))
        .dangerous_lab_mode(PortMap(map))
        .extra_ca_pem(pki().read("root.pem").into_bytes())
        .build();
    let net = Net::new(cfg).expect("net");
    let target = TlsTarget {
        transport: Transport::Direct,
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 443,
        hostname: "localhost".into(),
    };
    scan_with(
        &net,
        &target,
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(5),
    )
    .await
}

/// `CN=ward test intermediate, O=...` as x509-parser prints the DN.
fn int_name() -> &'static str {
    "O=ward-test, CN=ward test intermediate"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_chain_in_order() {
    let chain = pki().bundle("c-complete.pem", &["int.pem"]);
    let server = start_server("leaf", Some(&chain), None);
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.validation_kind, None, "{:?}", c.validation_error);
    assert_eq!(c.certs.len(), 2);
    assert_eq!(c.order_problem, None);
    assert_eq!(c.missing_issuer, None);
    assert!(c.extra_certs.is_empty());
    // Asked for, and nothing stapled.
    assert_eq!(c.ocsp, Some(OcspStaple::NotStapled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_without_its_intermediate_names_the_missing_issuer() {
    let server = start_server("leaf", None, None);
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.certs.len(), 1);
    assert_eq!(c.validation_kind.as_deref(), Some("unknown_issuer"));
    assert_eq!(c.missing_issuer.as_deref(), Some(int_name()));
    assert_eq!(c.order_problem, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_out_of_order_still_validates_but_is_flagged() {
    // leaf, root, intermediate: the leaf is not followed by its issuer.
    let chain = pki().bundle("c-order.pem", &["root.pem", "int.pem"]);
    let server = start_server("leaf", Some(&chain), None);
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.certs.len(), 3);
    assert_eq!(c.validation_kind, None, "{:?}", c.validation_error);
    assert_eq!(
        c.order_problem.as_deref(),
        Some(
            "certificate 0 (CN=localhost) is followed by O=ward-test, CN=ward test root, \
             not by its issuer O=ward-test, CN=ward test intermediate, which is sent as certificate 2"
        )
    );
    assert_eq!(c.missing_issuer, None);
    // The root is on the path (the intermediate's issuer), so it is not an extra.
    assert!(c.extra_certs.is_empty(), "{:?}", c.extra_certs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_certificate_is_an_extra() {
    let chain = pki().bundle("c-extra.pem", &["int.pem", "other.pem"]);
    let server = start_server("leaf", Some(&chain), None);
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.validation_kind, None, "{:?}", c.validation_error);
    assert_eq!(c.order_problem, None);
    assert_eq!(c.missing_issuer, None);
    assert_eq!(c.extra_certs, ["CN=unrelated.example"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stapled_good_response_is_read_and_verified() {
    let chain = pki().bundle("c-good.pem", &["int.pem"]);
    let server = start_server("leaf", Some(&chain), Some("leaf-ocsp.der"));
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.source, "rustls");
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no staple: {:?}", c.ocsp);
    };
    assert_eq!(seen.response_status, "successful");
    assert_eq!(seen.cert_status, Some(OcspCertStatus::Good));
    assert!(!seen.for_other_certificate);
    assert_eq!(seen.signature, OcspSignature::Verified);
    let (this, next) = (seen.this_update.unwrap(), seen.next_update.unwrap());
    // -ndays 7
    assert_eq!((next - this).whole_days(), 7);

    // The same over TLS 1.2, where the staple comes in a CertificateStatus message.
    let server = start_server_with("leaf", Some(&chain), Some("leaf-ocsp.der"), &["-tls1_2"]);
    let scan = self::scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.source, "rustls");
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no TLS 1.2 staple: {:?}", c.ocsp);
    };
    assert_eq!(seen.cert_status, Some(OcspCertStatus::Good));
    assert_eq!(seen.signature, OcspSignature::Verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stapled_revoked_response_says_when_and_why() {
    let chain = pki().bundle("c-revoked.pem", &["int.pem"]);
    let server = start_server("revoked", Some(&chain), Some("revoked-ocsp.der"));
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no staple: {:?}", c.ocsp);
    };
    assert_eq!(
        seen.cert_status,
        Some(OcspCertStatus::Revoked {
            at: time::macros::datetime!(2026-01-01 00:00 UTC),
            reason: Some(1), // keyCompromise
        })
    );
    assert_eq!(seen.signature, OcspSignature::Verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_for_another_certificate_is_not_taken_for_this_one() {
    // The server staples the first leaf's response while serving the second leaf.
    let chain = pki().bundle("c-mixup.pem", &["int.pem"]);
    let server = start_server("revoked", Some(&chain), Some("leaf-ocsp.der"));
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no staple: {:?}", c.ocsp);
    };
    assert_eq!(seen.cert_status, None);
    assert!(seen.for_other_certificate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_signed_by_another_key_is_bad() {
    // Re-sign the good response's content with the unrelated key: same shape, wrong signer.
    let p = pki();
    let d = p.path("");
    openssl(
        &d,
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "other.pem",
            "-rkey",
            "other.key",
            "-CA",
            "int.pem",
            "-reqin",
            "leaf-req.der",
            "-ndays",
            "7",
            "-resp_no_certs",
            "-respout",
            "forged-ocsp.der",
        ],
    );
    let chain = p.bundle("c-forged.pem", &["int.pem"]);
    let server = start_server("leaf", Some(&chain), Some("forged-ocsp.der"));
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no staple: {:?}", c.ocsp);
    };
    assert_eq!(seen.cert_status, Some(OcspCertStatus::Good));
    assert_eq!(seen.signature, OcspSignature::Bad);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls10_server_staples_in_a_certificate_status_message() {
    // rustls does not speak TLS 1.0: chain and staple come from the hand-built hello's
    // first flight (status_request, then Certificate and CertificateStatus).
    let chain = pki().bundle("c-tls10.pem", &["int.pem"]);
    let server = start_server_with(
        "revoked",
        Some(&chain),
        Some("revoked-ocsp.der"),
        &["-tls1", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"],
    );
    let scan = scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.source, "certificate_message");
    assert_eq!(c.certs.len(), 2);
    assert_eq!(c.missing_issuer, None);
    let Some(OcspStaple::Stapled(seen)) = &c.ocsp else {
        panic!("no staple: {:?}", c.ocsp);
    };
    assert!(matches!(
        seen.cert_status,
        Some(OcspCertStatus::Revoked {
            reason: Some(1),
            ..
        })
    ));
    assert_eq!(seen.signature, OcspSignature::Verified);

    // The same server without stapling: asked, and nothing came.
    let server = start_server_with(
        "leaf",
        Some(&chain),
        None,
        &["-tls1", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"],
    );
    let scan = self::scan(&server).await;
    let c = scan.chain.as_ref().expect("chain");
    assert_eq!(c.source, "certificate_message");
    assert_eq!(c.ocsp, Some(OcspStaple::NotStapled));
}
