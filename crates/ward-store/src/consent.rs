//! Consent: which domains an organisation has proved are its own.
//!
//! In service mode (`ward monitor --consent`, the store behind `ward serve`) a domain
//! is scanned only while its claim is verified. A claim begins waiting for proof with a
//! random token; the monitor looks for the token (a TXT record or a file under
//! `/.well-known/`) at the start of every round and records what it found here. A
//! verified claim whose proof disappears becomes lost, and the domain stops being
//! scanned until the proof is back.

use crate::{Store, StoreError};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimState {
    /// Registered; the proof has not been seen yet. Never scanned.
    Waiting,
    /// The proof was there at the last look. Scanned.
    Verified,
    /// The proof was there once and has gone. Not scanned; the owner is told.
    Lost,
}

impl ClaimState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimState::Waiting => "waiting",
            ClaimState::Verified => "verified",
            ClaimState::Lost => "lost",
        }
    }

    fn parse(s: &str) -> Option<ClaimState> {
        match s {
            "waiting" => Some(ClaimState::Waiting),
            "verified" => Some(ClaimState::Verified),
            "lost" => Some(ClaimState::Lost),
            _ => None,
        }
    }
}

/// One organisation's claim to one domain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DomainClaim {
    /// The domain, lower case.
    pub domain: String,
    /// Whose.
    pub organisation_id: String,
    /// What the proof must hold.
    pub token: String,
    /// What the domain is for, as the inventory spells it (`mail,web`, `parked`).
    pub roles: String,
    /// Where it stands.
    pub state: ClaimState,
    /// How it was last proved: `dns` or `well-known`.
    pub method: Option<String>,
    /// What the last look found, in words.
    pub detail: String,
    /// When it was registered (ms since the epoch).
    pub created_ms: i64,
    /// When the proof was last looked for.
    pub checked_ms: Option<i64>,
    /// When the proof was last seen.
    pub verified_ms: Option<i64>,
}

type ClaimRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The columns of a [`ClaimRow`], in its order (a macro: sqlx takes only literal SQL).
macro_rules! claim_select {
    ($rest:literal) => {
        concat!(
            "SELECT domain, organisation_id, token, roles, state, method, detail, created_ms, \
             checked_ms, verified_ms FROM domain_claims ",
            $rest
        )
    };
}

impl Store {
    fn claim_from(&self, r: ClaimRow) -> Result<DomainClaim, StoreError> {
        let state = ClaimState::parse(&r.4).ok_or_else(|| self.corrupt("claim state")(r.4))?;
        Ok(DomainClaim {
            domain: r.0,
            organisation_id: r.1,
            token: r.2,
            roles: r.3,
            state,
            method: r.5,
            detail: r.6,
            created_ms: r.7,
            checked_ms: r.8,
            verified_ms: r.9,
        })
    }

    /// Registers `domain` (used for `roles`) for `organisation_id` with `token`,
    /// waiting for proof, and returns the claim. A domain the organisation already
    /// claimed keeps its claim (and token); one another organisation claimed gives
    /// `None`.
    pub async fn claim_domain(
        &self,
        organisation_id: &str,
        domain: &str,
        roles: &str,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<DomainClaim>, StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO domain_claims (domain, organisation_id, token, roles, state, detail, created_ms) \
             VALUES ($1, $2, $3, $4, 'waiting', 'not looked for yet', $5) ON CONFLICT (domain) DO NOTHING",
        )
        .bind(domain)
        .bind(organisation_id)
        .bind(token)
        .bind(roles)
        .bind(now_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(self
            .claim(domain)
            .await?
            .filter(|c| c.organisation_id == organisation_id))
    }

    /// The claim to `domain`, whoever holds it.
    pub async fn claim(&self, domain: &str) -> Result<Option<DomainClaim>, StoreError> {
        let row: Option<ClaimRow> = on_pool!(self, pool => sqlx::query_as(claim_select!("WHERE domain = $1"))
            .bind(domain)
            .fetch_optional(pool)
            .await
            .map_err(self.db())?);
        row.map(|r| self.claim_from(r)).transpose()
    }

    /// Every claim, by domain.
    pub async fn claims(&self) -> Result<Vec<DomainClaim>, StoreError> {
        let rows: Vec<ClaimRow> = on_pool!(self, pool => sqlx::query_as(claim_select!("ORDER BY domain"))
            .fetch_all(pool)
            .await
            .map_err(self.db())?);
        rows.into_iter().map(|r| self.claim_from(r)).collect()
    }

    /// Records a look for the proof of `domain`: `proved` names how it was found, or is
    /// `None` when it was not. Returns the state before and after; `None` when there is
    /// no such claim.
    pub async fn record_proof(
        &self,
        domain: &str,
        proved: Option<&str>,
        detail: &str,
        now_ms: i64,
    ) -> Result<Option<(ClaimState, ClaimState)>, StoreError> {
        let Some(before) = self.claim(domain).await? else {
            return Ok(None);
        };
        let after = match (proved, before.state) {
            (Some(_), _) => ClaimState::Verified,
            (None, ClaimState::Verified | ClaimState::Lost) => ClaimState::Lost,
            (None, ClaimState::Waiting) => ClaimState::Waiting,
        };
        on_pool!(self, pool => sqlx::query(
            "UPDATE domain_claims SET state = $2, method = COALESCE($3, method), detail = $4, \
             checked_ms = $5, verified_ms = CASE WHEN $3 IS NULL THEN verified_ms ELSE $5 END \
             WHERE domain = $1",
        )
        .bind(domain)
        .bind(after.as_str())
        .bind(proved)
        .bind(detail)
        .bind(now_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(Some((before.state, after)))
    }

    /// The claims of one organisation, by domain.
    pub async fn claims_of(&self, organisation_id: &str) -> Result<Vec<DomainClaim>, StoreError> {
        let rows: Vec<ClaimRow> = on_pool!(self, pool => sqlx::query_as(claim_select!("WHERE organisation_id = $1 ORDER BY domain"))
            .bind(organisation_id)
            .fetch_all(pool)
            .await
            .map_err(self.db())?);
        rows.into_iter().map(|r| self.claim_from(r)).collect()
    }

    /// Drops `organisation_id`'s claim to `domain`; false when it held none.
    pub async fn drop_claim(
        &self,
        organisation_id: &str,
        domain: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => sqlx::query(
            "DELETE FROM domain_claims WHERE domain = $1 AND organisation_id = $2",
        )
        .bind(domain)
        .bind(organisation_id)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(n == 1)
    }
}
