//! Starting Debian's `openssl s_server` for the engine tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `openssl s_server`, killed on drop.
pub struct Server {
    child: Child,
    /// The loopback port it accepts on.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs the `s_server` command `command` builds for a port (`-accept` is added here),
/// and returns once it prints `ACCEPT`. A port can be taken between probing and
/// binding, so a start that fails with "in use" is retried on another port.
pub fn start(command: impl Fn() -> Command) -> Server {
    for _ in 0..5 {
        let port = free_port();
        let mut cmd = command();
        let mut child = cmd
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl s_server starts (apt-get install openssl)");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.trim() == "ACCEPT" => return Server { child, port },
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let out = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("in use"),
            "s_server {:?} did not start: {err}",
            cmd.get_args().collect::<Vec<_>>()
        );
    }
    panic!("no free port for s_server");
}
