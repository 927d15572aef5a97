//! Service mode: a round scans only the domains whose owners have proved them.
//!
//! At the start of each round [`gate`] claims every domain of the inventory for its
//! organisation (a new claim waits for proof, with a token its owner sees on the
//! dashboard), looks for the proof of every claim afresh, adds the domains proved
//! through the dashboard that the inventory does not list, and leaves out everything
//! not verified now. A domain whose proof went is reported so its owner can be told.

use crate::schedule::Watched;
use futures::StreamExt as _;
use std::collections::{HashMap, HashSet};
use ward_model::{Asset, Role};
use ward_probe::Prober;
use ward_probe::consent;
use ward_store::{ClaimState, Store, StoreError};

/// Looks for proofs at once, at most.
const LOOKS_AT_ONCE: usize = 32;

/// What the gate let through and what it found.
#[derive(Debug, Default)]
pub struct Consented {
    /// The organisations with only their verified domains.
    pub watched: Watched,
    /// Domains scanned this round.
    pub verified: Vec<String>,
    /// Domains waiting for their first proof: not scanned.
    pub waiting: Vec<String>,
    /// (organisation, domain, what was seen) for each domain whose proof disappeared
    /// in this look: no longer scanned.
    pub lost: Vec<(String, String, String)>,
    /// Domains of the inventory that another organisation has claimed: not scanned.
    pub taken: Vec<String>,
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn roles_from(text: &str) -> Vec<Role> {
    let roles: Vec<Role> = text
        .split(',')
        .filter_map(|r| match r.trim() {
            "mail" => Some(Role::Mail),
            "web" => Some(Role::Web),
            "parked" => Some(Role::Parked),
            _ => None,
        })
        .collect();
    if roles.is_empty() {
        vec![Role::Mail, Role::Web]
    } else {
        roles
    }
}

/// Narrows `watched` to what its owners have proved, now. `prober` is made fresh for
/// the looks, so a proof removed since the last round is seen to be gone.
pub async fn gate(
    store: &Store,
    prober: &Prober,
    mut watched: Watched,
    now_ms: i64,
) -> Result<Consented, StoreError> {
    let mut out = Consented::default();
    for org in &watched.organisations {
        for a in &org.assets {
            let roles = roles_text(&a.roles);
            let token = consent::new_token();
            if store
                .claim_domain(&org.id, &a.domain, &roles, &token, now_ms)
                .await?
                .is_none()
            {
                tracing::warn!(
                    "{}: listed for {} but claimed by another organisation; not scanned",
                    a.domain,
                    org.id
                );
                out.taken.push(a.domain.clone());
            }
        }
    }
    let known: HashSet<&str> = watched
        .organisations
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    let claims: Vec<_> = store
        .claims()
        .await?
        .into_iter()
        .filter(|c| known.contains(c.organisation_id.as_str()))
        .collect();
    let fresh = prober.fresh();
    let looks: Vec<_> = futures::stream::iter(claims.iter().map(|c| {
        let fresh = &fresh;
        async move {
            let l = consent::look(fresh.net(), fresh.http(), &c.domain, &c.token).await;
            (c, l)
        }
    }))
    .buffer_unordered(LOOKS_AT_ONCE)
    .collect()
    .await;
    let mut verified: HashMap<String, (String, String)> = HashMap::new();
    for (c, l) in looks {
        let proof = l.proof.map(|p| p.as_str());
        let Some((before, after)) = store
            .record_proof(&c.domain, proof, &l.detail, now_ms)
            .await?
        else {
            continue;
        };
        match after {
            ClaimState::Verified => {
                if before != ClaimState::Verified {
                    store
                        .audit(now_ms, "monitor", "proof-verified", &c.domain)
                        .await?;
                }
                out.verified.push(c.domain.clone());
                verified.insert(
                    c.domain.clone(),
                    (c.organisation_id.clone(), c.roles.clone()),
                );
            }
            ClaimState::Lost => {
                if before == ClaimState::Verified {
                    store
                        .audit(
                            now_ms,
                            "monitor",
                            "proof-lost",
                            &format!("{}: {}", c.domain, l.detail),
                        )
                        .await?;
                    out.lost
                        .push((c.organisation_id.clone(), c.domain.clone(), l.detail));
                }
            }
            ClaimState::Waiting => out.waiting.push(c.domain.clone()),
        }
    }
    for org in &mut watched.organisations {
        org.assets
            .retain(|a| verified.get(&a.domain).is_some_and(|(o, _)| *o == org.id));
        let listed: HashSet<String> = org.assets.iter().map(|a| a.domain.clone()).collect();
        let mut added: Vec<&String> = verified
            .iter()
            .filter(|(d, (o, _))| *o == org.id && !listed.contains(*d))
            .map(|(d, _)| d)
            .collect();
        added.sort();
        for d in added {
            org.assets.push(Asset {
                domain: d.clone(),
                roles: roles_from(&verified[d].1),
                dkim_selectors: Vec::new(),
                reported_dkim_selectors: Vec::new(),
            });
        }
    }
    out.verified.sort();
    out.waiting.sort();
    out.watched = watched;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_default_to_mail_and_web() {
        assert_eq!(roles_from(&roles_text(&[Role::Parked])), vec![Role::Parked]);
        assert_eq!(
            roles_from(&roles_text(&[Role::Mail, Role::Web])),
            vec![Role::Mail, Role::Web]
        );
        assert_eq!(roles_from("nonsense"), vec![Role::Mail, Role::Web]);
    }
}
