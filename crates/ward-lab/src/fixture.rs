//! A lab fixture: the zones, hosts and organisation tree of a simulated party.
//!
//! On disk a fixture is a folder:
//!
//! ```text
//! zones/*.zone      master files (RFC 1035 §5), one zone each; $ORIGIN or the file
//!                   name (minus .zone) gives the origin
//! hosts.toml        web and mail hosts (see `hosts`)
//! dns.toml          optional: nameserver misbehaviour and DNSSEC signing (see
//!                   [`DnsBehaviour`])
//! inventory.toml    optional: the organisation tree ward scans
//! ```
//!
//! The demo party is a fixture built in code ([`crate::demo`]); `ward lab --fixture DIR`
//! reads one from a folder. Both end up as the same [`Fixture`] value.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A zone master file's text and where it came from.
#[derive(Debug, Clone)]
pub struct ZoneSource {
    /// The zone's origin (no trailing dot).
    pub origin: String,
    /// The master-file text.
    pub text: String,
    /// The file it came from, for error messages.
    pub path: PathBuf,
}

/// How the lab's nameservers misbehave, per zone. Real nameservers fail in these ways and
/// ward must report each as "could not tell", never as a missing record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DnsBehaviour {
    /// Zones whose every question gets no reply at all.
    #[serde(default)]
    pub silent: Vec<String>,
    /// Zones that lose the first copy of every question (by name and type) and answer
    /// the resend: packet loss, which a stub must get over by resending soon.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lossy: Vec<String>,
    /// Zones whose every question gets SERVFAIL.
    #[serde(default)]
    pub servfail: Vec<String>,
    /// Zones whose every question gets REFUSED.
    #[serde(default)]
    pub refused: Vec<String>,
    /// Nameservers (by name) listed in a zone's NS set that do not serve it (a lame
    /// delegation): `{ zone = "...", nameserver = "..." }`.
    #[serde(default)]
    pub lame: Vec<Lame>,
    /// Nameserver addresses where nothing listens (a server that is down): questions
    /// sent there meet a closed port.
    #[serde(default)]
    pub offline: Vec<std::net::IpAddr>,
    /// Nameserver addresses where a server listens but never answers (a firewall that
    /// drops, a wedged daemon): the asker can only time out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute: Vec<std::net::IpAddr>,
    /// Zones the lab signs with DNSSEC at start (`[[signed]]`), each with its algorithm,
    /// DS digest type and any deliberate fault; see [`crate::signing`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed: Vec<crate::signing::Signed>,
}

/// A nameserver that does not serve a zone that names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lame {
    /// The zone.
    pub zone: String,
    /// The nameserver's host name.
    pub nameserver: String,
}

/// Everything a lab serves.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    /// Human name of the fixture, shown by `ward lab`.
    pub name: String,
    /// The zones.
    pub zones: Vec<ZoneSource>,
    /// Text of `hosts.toml`, if any.
    pub hosts_toml: Option<String>,
    /// Nameserver misbehaviour.
    pub dns: DnsBehaviour,
    /// Text of `inventory.toml`, if any.
    pub inventory_toml: Option<String>,
}

/// A fixture that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A zone file is not valid master-file syntax.
    #[error("{path}: {message}")]
    Zone {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A TOML file of the fixture is wrong.
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The folder has no zones.
    #[error("{0}: no zone files in zones/")]
    NoZones(PathBuf),
}

/// Most zone files one fixture may hold.
const MAX_ZONES: usize = 10_000;
/// Largest fixture file read.
const MAX_FILE: u64 = 16 * 1024 * 1024;

fn read(path: &Path) -> Result<String, FixtureError> {
    let io = |source| FixtureError::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE {
        return Err(FixtureError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(format!("larger than {MAX_FILE} bytes")),
        });
    }
    std::fs::read_to_string(path).map_err(io)
}

impl Fixture {
    /// Reads a fixture folder.
    pub fn load(dir: &Path) -> Result<Fixture, FixtureError> {
        let zone_dir = dir.join("zones");
        let entries = std::fs::read_dir(&zone_dir).map_err(|source| FixtureError::Io {
            path: zone_dir.clone(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "zone"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(FixtureError::NoZones(zone_dir));
        }
        if paths.len() > MAX_ZONES {
            return Err(FixtureError::Zone {
                path: zone_dir,
                message: format!("more than {MAX_ZONES} zones"),
            });
        }
        let mut zones = Vec::with_capacity(paths.len());
        for path in paths {
            let text = read(&path)?;
            let origin = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            zones.push(ZoneSource { origin, text, path });
        }
        let optional = |name: &str| -> Result<Option<String>, FixtureError> {
            let p = dir.join(name);
            if p.exists() {
                read(&p).map(Some)
            } else {
                Ok(None)
            }
        };
        let dns = match optional("dns.toml")? {
            Some(text) => toml::from_str(&text).map_err(|e| FixtureError::Toml {
                path: dir.join("dns.toml"),
                message: e.to_string(),
            })?,
            None => DnsBehaviour::default(),
        };
        Ok(Fixture {
            name: dir.display().to_string(),
            zones,
            hosts_toml: optional("hosts.toml")?,
            dns,
            inventory_toml: optional("inventory.toml")?,
        })
    }

    /// Writes the fixture as a folder that [`Fixture::load`] reads back.
    pub fn write(&self, dir: &Path) -> Result<(), FixtureError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| FixtureError::Io { path, source }
        };
        let zone_dir = dir.join("zones");
        std::fs::create_dir_all(&zone_dir).map_err(io(&zone_dir))?;
        for z in &self.zones {
            let p = zone_dir.join(format!("{}.zone", z.origin));
            std::fs::write(&p, &z.text).map_err(io(&p))?;
        }
        let mut files = vec![];
        if let Some(h) = &self.hosts_toml {
            files.push(("hosts.toml", h.clone()));
        }
        if let Some(i) = &self.inventory_toml {
            files.push(("inventory.toml", i.clone()));
        }
        let dns = toml::to_string(&self.dns).map_err(|e| FixtureError::Toml {
            path: dir.join("dns.toml"),
            message: e.to_string(),
        })?;
        files.push(("dns.toml", dns));
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(io(&p))?;
        }
        Ok(())
    }
}
