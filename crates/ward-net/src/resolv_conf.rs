//! The system's resolver, read from `/etc/resolv.conf`: the first `nameserver` line.

use std::net::SocketAddr;
use std::path::Path;

/// Where the system names its resolvers.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Why no system resolver could be found.
#[derive(Debug, thiserror::Error)]
pub enum ResolvConfError {
    /// The file could not be read.
    #[error("cannot read {path} ({source}); name a resolver with --resolver IP:PORT")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file names no usable nameserver.
    #[error("no nameserver in {path}; name a resolver with --resolver IP:PORT")]
    NoNameserver {
        /// The file.
        path: String,
    },
}

/// The first `nameserver` of the resolv.conf at `path`, on port 53.
pub fn system_resolver(path: &Path) -> Result<SocketAddr, ResolvConfError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ResolvConfError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    first_nameserver(&text).ok_or(ResolvConfError::NoNameserver { path: shown })
}

/// The first `nameserver` line's address in resolv.conf text; a zone index (`%eth0`)
/// is dropped.
pub fn first_nameserver(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            return None;
        }
        let ip = words.next()?.split('%').next()?.parse().ok()?;
        Some(SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_usable_nameserver_wins() {
        let text = "# comment\nsearch example.org\nnameserver not-an-ip\nnameserver fe80::1%eth0\nnameserver 192.0.2.53\n";
        assert_eq!(
            first_nameserver(text),
            Some("[fe80::1]:53".parse().unwrap())
        );
        assert_eq!(first_nameserver("search x\n"), None);
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = system_resolver(Path::new("/nonexistent/resolv.conf")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/resolv.conf"),
            "{err}"
        );
    }
}
