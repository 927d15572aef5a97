//! Domains and their proof of ownership, on an organisation's page: register, check,
//! remove, and the JSON listing.

use crate::pages::{Fail, asker, editable, seen_org};
use crate::{App, now_ms};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use ward_model::Organisation;
use ward_probe::consent;
use ward_store::ClaimState;

/// One claimed domain on an organisation's page.
#[derive(Serialize)]
pub(crate) struct ClaimRow {
    pub(crate) domain: String,
    pub(crate) state: &'static str,
    /// What the owner should do, or what ward does, in a sentence.
    pub(crate) explain: String,
    pub(crate) token: String,
    pub(crate) record: String,
    pub(crate) file: String,
    pub(crate) detail: String,
    pub(crate) checked: String,
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .map_or_else(
        || "never".to_owned(),
        |t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    )
}

pub(crate) async fn claim_rows(app: &App, org: &str) -> Result<Vec<ClaimRow>, Fail> {
    Ok(app
        .store
        .claims_of(org)
        .await?
        .into_iter()
        .map(|c| ClaimRow {
            state: match c.state {
                ClaimState::Waiting => "waiting for proof",
                ClaimState::Verified => "verified",
                ClaimState::Lost => "proof lost",
            },
            explain: match c.state {
                ClaimState::Waiting => "Not scanned until the proof is seen.".into(),
                ClaimState::Verified => {
                    "Scanned in every monitoring round while the proof stays.".into()
                }
                ClaimState::Lost => {
                    "No longer scanned: the proof was there and has gone. Put it back to resume."
                        .into()
                }
            },
            record: format!("{}.{}", consent::CHALLENGE_LABEL, c.domain),
            file: format!("https://{}{}", c.domain, consent::WELL_KNOWN_PATH),
            detail: c.detail,
            checked: when(c.checked_ms),
            token: c.token,
            domain: c.domain,
        })
        .collect())
}

pub(crate) async fn api_domains(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, _, _) = seen_org(&app, &who, &id).await?;
    Ok(axum::Json(serde_json::json!({
        "organisation": org.id,
        "domains": claim_rows(&app, &org.id).await?,
    }))
    .into_response())
}

fn back_to(id: &str) -> Response {
    Redirect::to(&format!("/org/{id}#domains")).into_response()
}

#[derive(Deserialize)]
pub(crate) struct RegisterForm {
    csrf: String,
    domain: String,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    web: Option<String>,
    #[serde(default)]
    parked: Option<String>,
}

pub(crate) async fn register_domain(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, Fail> {
    let (who, org) = editable(&app, &headers, &form.csrf, &id).await?;
    let domain = ward_model::inventory::normalise_domain(form.domain.trim())
        .map_err(|m| Fail::Invalid(format!("That is not a domain ward can check: {m}.")))?;
    let roles = match (
        form.parked.is_some(),
        form.mail.is_some(),
        form.web.is_some(),
    ) {
        (true, false, false) => "parked",
        (true, _, _) => {
            return Err(Fail::Invalid(
                "A parked domain sends no mail and serves no site: tick parked alone.".into(),
            ));
        }
        (false, true, true) | (false, false, false) => "mail,web",
        (false, true, false) => "mail",
        (false, false, true) => "web",
    };
    let now = now_ms();
    match app
        .store
        .claim_domain(&org.id, &domain, roles, &consent::new_token(), now)
        .await?
    {
        Some(_) => {
            app.store
                .audit(
                    now,
                    &who.user.email,
                    "domain-registered",
                    &format!("{domain} for {}", org.id),
                )
                .await?;
            Ok(back_to(&org.id))
        }
        // Which organisation holds it is not this user's to know.
        None => Err(Fail::Invalid(format!(
            "{domain} is already registered by another organisation. If it is yours, ask the ward administrator."
        ))),
    }
}

#[derive(Deserialize)]
pub(crate) struct DomainForm {
    csrf: String,
    domain: String,
}

/// The claim `form` names, if it is `org`'s.
async fn own_claim(
    app: &App,
    org: &Organisation,
    domain: &str,
) -> Result<ward_store::DomainClaim, Fail> {
    app.store
        .claim(domain.trim())
        .await?
        .filter(|c| c.organisation_id == org.id)
        .ok_or(Fail::NotFound)
}

pub(crate) async fn check_domain(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DomainForm>,
) -> Result<Response, Fail> {
    let (who, org) = editable(&app, &headers, &form.csrf, &id).await?;
    let claim = own_claim(&app, &org, &form.domain).await?;
    let Some(prober) = &app.cfg.prober else {
        return Err(Fail::Invalid(
            "This server does not look for proofs itself; the monitor looks at the start of every round.".into(),
        ));
    };
    // A fresh look: nothing remembered from an earlier one stands in for the proof now.
    let fresh = prober.fresh();
    let looked = consent::look(fresh.net(), fresh.http(), &claim.domain, &claim.token).await;
    let now = now_ms();
    app.store
        .record_proof(
            &claim.domain,
            looked.proof.map(|p| p.as_str()),
            &looked.detail,
            now,
        )
        .await?;
    app.store
        .audit(
            now,
            &who.user.email,
            "proof-checked",
            &format!("{}: {}", claim.domain, looked.detail),
        )
        .await?;
    Ok(back_to(&org.id))
}

pub(crate) async fn remove_domain(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DomainForm>,
) -> Result<Response, Fail> {
    let (who, org) = editable(&app, &headers, &form.csrf, &id).await?;
    let claim = own_claim(&app, &org, &form.domain).await?;
    app.store.drop_claim(&org.id, &claim.domain).await?;
    app.store
        .audit(
            now_ms(),
            &who.user.email,
            "domain-removed",
            &format!("{} from {}", claim.domain, org.id),
        )
        .await?;
    Ok(back_to(&org.id))
}
