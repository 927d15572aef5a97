//! Legacy TLS hosts: Debian's `openssl s_server` where the lab's own (rustls) servers
//! cannot speak — TLS 1.0 and 1.1, CBC suites, RSA key exchange — so the scanner's
//! findings about old protocols can be shown and tested.
//!
//! A `[[web]]` entry with `tls = "openssl-legacy"` gets its HTTPS from an `openssl
//! s_server` child bound to the host's address on the lab's HTTPS port, with a
//! certificate from the lab CA and the [`LEGACY_ARGS`] profile. The lab waits for the
//! child's `ACCEPT` line (with a deadline) before it reports itself started, and the
//! child is killed when the lab shuts down or is dropped. Only the first legacy entry on
//! an address is served (s_server has one certificate).

use crate::certs::IssuedCert;
use crate::hosts::TlsServer;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The protocol profile: TLS 1.0 to 1.2, no TLS 1.3, RSA key exchange and SHA-1 CBC
/// suites beside one modern suite — what an unmaintained server still offers.
pub const LEGACY_ARGS: &[&str] = &[
    "-min_protocol",
    "TLSv1",
    "-no_tls1_3",
    "-cipher",
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA:@SECLEVEL=0",
];

/// An older profile still: TLS 1.0 and 1.1 only, RSA key exchange, CBC suites and an
/// anonymous (unauthenticated) Diffie-Hellman suite
/// (`tls = "openssl-ancient"`): a server nobody has touched for a decade.
pub const ANCIENT_ARGS: &[&str] = &[
    "-min_protocol",
    "TLSv1",
    "-max_protocol",
    "TLSv1.1",
    "-cipher",
    "ECDHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA:ADH-AES128-SHA:@SECLEVEL=0",
];

/// The `openssl s_server` profile for a host's `tls`, for the servers openssl plays
/// (`None` for the lab's own).
///
/// Here rather than on [`TlsServer`]: the hosts file names the servers, this module knows
/// how openssl is run for them (and uses the hosts file and the lab CA to do it).
pub fn profile(tls: TlsServer) -> Option<&'static [&'static str]> {
    match tls {
        TlsServer::OpensslLegacy => Some(LEGACY_ARGS),
        TlsServer::OpensslAncient => Some(ANCIENT_ARGS),
        TlsServer::Rustls
        | TlsServer::NotTls
        | TlsServer::Garbage
        | TlsServer::GarbageSlow
        | TlsServer::Mute => None,
    }
}

/// How long the child may take to say `ACCEPT`.
pub const START_DEADLINE: Duration = Duration::from_secs(10);

/// Why a legacy server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    /// The `openssl` binary could not be run.
    #[error("cannot run openssl (apt-get install openssl): {0}")]
    Spawn(std::io::Error),
    /// Writing the certificate and key failed.
    #[error("cannot write the certificate for openssl: {0}")]
    Files(std::io::Error),
    /// The child did not say `ACCEPT` in time.
    #[error("openssl s_server on {addr} did not start: {stderr}")]
    NotStarted {
        /// Where it should listen.
        addr: SocketAddr,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// A running `openssl s_server`; killed on drop, with its files removed.
///
/// The child is spawned by a keeper thread that lives exactly as long as this value and
/// asks the kernel to kill the child when that thread goes (`PR_SET_PDEATHSIG`), so the
/// child cannot outlive a lab that is killed outright (`ward lab` under SIGKILL).
#[derive(Debug)]
pub struct LegacyServer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    keeper: Option<std::thread::JoinHandle<()>>,
    dir: PathBuf,
}

impl Drop for LegacyServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(k) = self.keeper.take() {
            let _ = k.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Spawns `cmd` so that it receives SIGKILL when the spawning thread ends.
fn spawn_tied(cmd: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // prctl(2), which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// PEM armour for DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                b64.push(char::from(B64[idx]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Starts `openssl s_server` on `addr` with `issued` and `profile` ([`LEGACY_ARGS`] or
/// [`ANCIENT_ARGS`]), returning once it accepts.
pub fn start(
    addr: SocketAddr,
    issued: &IssuedCert,
    profile: &'static [&'static str],
) -> Result<LegacyServer, LegacyError> {
    let dir = std::env::temp_dir().join(format!(
        "ward-lab-legacy-{}-{}-{}",
        std::process::id(),
        addr.ip(),
        addr.port()
    ));
    std::fs::create_dir_all(&dir).map_err(LegacyError::Files)?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let write = |path: &PathBuf, text: String| -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(text.as_bytes())
    };
    let chain: String = issued
        .chain
        .iter()
        .map(|c| pem("CERTIFICATE", c.as_ref()))
        .collect();
    write(&cert, chain).map_err(LegacyError::Files)?;
    write(&key, pem("PRIVATE KEY", issued.key.secret_der())).map_err(LegacyError::Files)?;

    let mut cmd = Command::new("openssl");
    cmd.arg("s_server")
        .args(["-accept", &addr.to_string()])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .arg("-www")
        .args(profile)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let keeper = std::thread::spawn(move || {
        let mut child = match spawn_tied(&mut cmd) {
            Ok(c) => c,
            Err(e) => {
                let _ = started_tx.send(Err(LegacyError::Spawn(e)));
                return;
            }
        };
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return;
        };
        let stderr = child.stderr.take();
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + START_DEADLINE;
        let mut accepted = false;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match line_rx.recv_timeout(left) {
                Ok(line) if line.trim() == "ACCEPT" => {
                    accepted = true;
                    break;
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        if !accepted {
            let _ = child.kill();
            let _ = child.wait();
            let mut text = String::new();
            if let Some(mut e) = stderr {
                let _ = std::io::Read::read_to_string(&mut e, &mut text);
            }
            let _ = started_tx.send(Err(LegacyError::NotStarted { addr, stderr: text }));
            return;
        }
        let _ = started_tx.send(Ok(()));
        // Keep running until the LegacyServer is dropped (the sender goes away).
        let _ = stop_rx.recv();
        let _ = child.kill();
        let _ = child.wait();
    });
    let server = LegacyServer {
        stop: Some(stop_tx),
        keeper: Some(keeper),
        dir,
    };
    match started_rx.recv() {
        Ok(Ok(())) => Ok(server),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(LegacyError::NotStarted {
            addr,
            stderr: "the keeper thread ended early".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::pem;

    #[test]
    fn pem_base64_padding() {
        assert_eq!(pem("X", b"M"), "-----BEGIN X-----\nTQ==\n-----END X-----\n");
        assert_eq!(
            pem("X", b"Ma"),
            "-----BEGIN X-----\nTWE=\n-----END X-----\n"
        );
        assert_eq!(
            pem("X", b"Man"),
            "-----BEGIN X-----\nTWFu\n-----END X-----\n"
        );
    }
}
