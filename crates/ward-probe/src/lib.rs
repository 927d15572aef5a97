//! Probes: turn an asset into observations through ward-net. No verdicts here.
//!
//! A probe asks exactly the questions the checks need and records every answer,
//! failures included, in an [`AssetObservation`]. Whether an answer is good news is the
//! checks' business (ward-checks); a probe only makes sure that "no record" and "could
//! not ask" stay different things.

pub mod dns;

use time::OffsetDateTime;
use ward_model::Asset;
use ward_model::observe::AssetObservation;
use ward_net::Net;

/// Probes assets. Cheap to clone; share one per scan.
#[derive(Debug, Clone)]
pub struct Prober {
    net: Net,
}

impl Prober {
    /// A prober that uses `net` for all I/O.
    pub fn new(net: Net) -> Self {
        Prober { net }
    }

    /// The network it uses.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Probes one asset. Never fails: what could not be learnt is recorded as such.
    pub async fn probe(&self, asset: &Asset, scanned_at: OffsetDateTime) -> AssetObservation {
        let mut obs = AssetObservation {
            domain: asset.domain.clone(),
            scanned_at,
            dns: Vec::new(),
        };
        dns::basics(&self.net, &asset.domain, &mut obs).await;
        obs
    }
}
