//! Invitations by one-time link: an organisation's admin invites someone by email with a
//! role there (no higher than their own); the link, shown once, lets them choose a
//! password and come in. Only the link token's digest is stored; a link works once and
//! for a week. An invitation to an email that already has an account adds the role to
//! that account and sets no password: the link is not a way into someone else's account.

use crate::pages::{Fail, editable_as, html, start_session};
use crate::{App, now_ms, secrets};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use ward_store::{AccessRole, Invitation};

/// How long a link works.
const VALID_FOR_MS: i64 = 7 * 86_400_000;

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

#[derive(Template)]
#[template(path = "invited.html")]
struct InvitedPage {
    email: String,
    org: String,
    role: &'static str,
    link: String,
}

pub(crate) async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Response, Fail> {
    let (who, org, mine) = editable_as(&app, &headers, &form.csrf, &id, AccessRole::Admin).await?;
    let email = form.email.trim().to_ascii_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(Fail::Invalid(format!(
            "\"{email}\" is not an email address."
        )));
    }
    let role = AccessRole::parse(&form.role)
        .ok_or_else(|| Fail::Invalid("Choose viewer, editor or admin.".into()))?;
    if role > mine {
        return Err(Fail::Forbidden(format!(
            "You are {} at {}, so you can invite people as {} at most.",
            mine.as_str(),
            org.name,
            mine.as_str()
        )));
    }
    let token = secrets::token();
    let now = now_ms();
    let inv = Invitation {
        email: email.clone(),
        organisation_id: org.id.clone(),
        role,
        invited_by: who.user.email.clone(),
        expires_ms: now + VALID_FOR_MS,
    };
    app.store
        .create_invitation(&secrets::digest(&token), &inv, now)
        .await?;
    app.store
        .audit(
            now,
            &who.user.email,
            "invitation",
            &format!("{email} {} at {}", role.as_str(), org.id),
        )
        .await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if app.cfg.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(html(&InvitedPage {
        email,
        org: org.name,
        role: role.as_str(),
        link: format!("{scheme}://{host}/invite/{token}"),
    }))
}

#[derive(Template)]
#[template(path = "accept.html")]
struct AcceptPage {
    email: String,
    org: String,
    role: &'static str,
    token: String,
    has_account: bool,
    error: Option<String>,
}

fn gone() -> Fail {
    Fail::Gone(
        "This invitation link has been used or has expired. Ask whoever invited you for a new one."
            .into(),
    )
}

async fn page(app: &App, token: &str, error: Option<String>) -> Result<Response, Fail> {
    let inv = app
        .store
        .open_invitation(&secrets::digest(token), now_ms())
        .await?
        .ok_or_else(gone)?;
    let orgs = app.store.organisations().await?;
    let org = orgs
        .iter()
        .find(|o| o.id == inv.organisation_id)
        .map_or(inv.organisation_id.clone(), |o| o.name.clone());
    let has_account = app.store.password_hash(&inv.email).await?.is_some();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut res = html(&AcceptPage {
        email: inv.email,
        org,
        role: inv.role.as_str(),
        token: token.to_owned(),
        has_account,
        error,
    });
    *res.status_mut() = status;
    Ok(res)
}

pub(crate) async fn show(
    State(app): State<App>,
    Path(token): Path<String>,
) -> Result<Response, Fail> {
    page(&app, &token, None).await
}

#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

pub(crate) async fn accept(
    State(app): State<App>,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, Fail> {
    let hash = secrets::digest(&token);
    let now = now_ms();
    let inv = app
        .store
        .open_invitation(&hash, now)
        .await?
        .ok_or_else(gone)?;
    let existing = app.store.password_hash(&inv.email).await?;
    // A new account needs its password before the link is spent.
    let new_hash = if existing.is_none() {
        if form.password != form.again {
            return page(&app, &token, Some("The two passwords differ.".into())).await;
        }
        match secrets::hash_password(&form.password) {
            Ok(h) => Some(h),
            Err(why) => return page(&app, &token, Some(format!("Not that one: {why}."))).await,
        }
    } else {
        None
    };
    if !app.store.use_invitation(&hash, now).await? {
        return Err(gone());
    }
    let (user, created) = match (existing, new_hash) {
        (Some((user, _)), _) => (user.id, false),
        (None, Some(h)) => (
            app.store
                .create_user(&inv.email, &h, now)
                .await?
                .ok_or_else(|| {
                    Fail::Invalid("That account was made a moment ago; log in.".into())
                })?,
            true,
        ),
        (None, None) => return Err(gone()),
    };
    app.store
        .grant(user, &inv.organisation_id, inv.role)
        .await?;
    app.store
        .audit(
            now,
            &inv.email,
            "invitation-used",
            &format!(
                "{} at {} (invited by {})",
                inv.role.as_str(),
                inv.organisation_id,
                inv.invited_by
            ),
        )
        .await?;
    // Only the account this link made is logged in: someone who already had one logs in
    // with their own password, whatever the form held.
    if created {
        start_session(&app, user, now).await
    } else {
        Ok(Redirect::to("/login").into_response())
    }
}
