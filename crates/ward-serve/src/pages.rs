//! The handlers: pages and their JSON twins under `/api/v1`.

use crate::access::Access;
use crate::{App, now_ms, secrets};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use ward_model::{Organisation, ScanReport};
use ward_store::{AccessRole, StoreError, User};

const SESSION_COOKIE: &str = "ward_session";
const LOGIN_COOKIE: &str = "ward_login";

/// Why a request gets no page.
pub(crate) enum Fail {
    /// Not there, or not the asker's to see: the same answer for both.
    NotFound,
    /// Not logged in: pages go to the login page, the API says 401.
    Anonymous { api: bool },
    /// A form without its token.
    BadToken,
    /// The asker may see this but not change it.
    Forbidden(String),
    /// The form's content cannot be used; says why.
    Invalid(String),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self {
            Fail::NotFound => not_found_page(),
            Fail::Anonymous { api: true } => (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    serde_json::json!({"error": "log in, or send Authorization: Bearer <token>"}),
                ),
            )
                .into_response(),
            Fail::Anonymous { api: false } => Redirect::to("/login").into_response(),
            Fail::BadToken => (
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from ward. Go back, reload and try again.",
            )
                .into_response(),
            Fail::Forbidden(why) => message(StatusCode::FORBIDDEN, "Not allowed", why),
            Fail::Invalid(why) => message(StatusCode::BAD_REQUEST, "That did not work", why),
            Fail::Store(e) => {
                tracing::error!("store: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ward could not read its store; the error is in the server's log.",
                )
                    .into_response()
            }
        }
    }
}

/// Who is asking: a user, through a session (with its form token) or an API token.
pub(crate) struct Asker {
    pub(crate) user: User,
    pub(crate) csrf: Option<String>,
    session: Option<String>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) async fn asker(app: &App, headers: &HeaderMap, api: bool) -> Result<Asker, Fail> {
    if api
        && let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    {
        return match app
            .store
            .api_token_user(&secrets::digest(token.trim()))
            .await?
        {
            Some(user) => Ok(Asker {
                user,
                csrf: None,
                session: None,
            }),
            None => Err(Fail::Anonymous { api }),
        };
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Fail::Anonymous { api });
    };
    let hash = secrets::digest(token);
    match app.store.session(&hash, now_ms()).await? {
        Some(s) => Ok(Asker {
            user: s.user,
            csrf: Some(s.csrf),
            session: Some(hash),
        }),
        None => Err(Fail::Anonymous { api }),
    }
}

/// The tree, the latest complete scan, and what the asker may see of them.
async fn view(
    app: &App,
    who: &Asker,
) -> Result<(Vec<Organisation>, Option<ScanReport>, Access), Fail> {
    let orgs = app.store.organisations().await?;
    let access = Access::new(&app.store.memberships(who.user.id).await?, &orgs);
    let latest = app.store.latest_report().await?;
    Ok((orgs, latest, access))
}

pub(crate) fn score_text(report: Option<&ScanReport>, org: &str) -> String {
    report
        .and_then(|r| ward_advice::score::org_score(r, org))
        .map_or_else(|| "not scanned".to_owned(), |s| format!("{s}/100"))
}

fn not_found_page() -> Response {
    let body = NotFoundPage.render().unwrap_or_else(|_| "Not found".into());
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

pub(crate) fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!("template: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "a page could not be drawn",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage;

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    title: &'static str,
    text: String,
}

pub(crate) fn message(status: StatusCode, title: &'static str, text: String) -> Response {
    let mut res = html(&MessagePage { title, text });
    *res.status_mut() = status;
    res
}

pub(crate) async fn not_found() -> Response {
    not_found_page()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
}

fn login_page(app: &App, error: Option<String>, status: StatusCode) -> Response {
    let csrf = secrets::token();
    let mut res = html(&LoginPage {
        csrf: csrf.clone(),
        error,
    });
    *res.status_mut() = status;
    set_cookie(&mut res, app, LOGIN_COOKIE, &csrf, "/login", 3600);
    res
}

fn set_cookie(res: &mut Response, app: &App, name: &str, value: &str, path: &str, max_age: u64) {
    let secure = if app.cfg.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let v = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    if let Ok(v) = header::HeaderValue::from_str(&v) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(crate) async fn login_form(State(app): State<App>) -> Response {
    login_page(&app, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

pub(crate) async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, Fail> {
    // The login form's token is also in a cookie only ward's own page could have set:
    // another site cannot log a visitor in to an account of its choosing.
    let posted_by_ward =
        cookie(&headers, LOGIN_COOKIE).is_some_and(|c| secrets::same(c, &form.csrf));
    if !posted_by_ward {
        return Err(Fail::BadToken);
    }
    let email = form.email.trim().to_ascii_lowercase();
    let now = now_ms();
    let window = i64::try_from(app.cfg.login_window.as_millis()).unwrap_or(i64::MAX);
    let blocked = {
        let mut f = app.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.retain(|_, (_, since)| now - *since < window);
        f.get(&email)
            .is_some_and(|(n, _)| *n >= app.cfg.login_attempts)
    };
    if blocked {
        app.store
            .audit(now, &email, "login-blocked", "too many failed attempts")
            .await?;
        return Ok(login_page(
            &app,
            Some("Too many failed attempts for this account. Wait a quarter of an hour and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let found = app.store.password_hash(&email).await?;
    // An unknown email costs the same hashing as a wrong password.
    let ok = match &found {
        Some((_, hash)) => secrets::verify_password(&form.password, hash),
        None => {
            secrets::verify_password(&form.password, &DUMMY_HASH);
            false
        }
    };
    let Some((user, _)) = found.filter(|_| ok) else {
        {
            let mut f = app.failures.lock().unwrap_or_else(|p| p.into_inner());
            let e = f.entry(email.clone()).or_insert((0, now));
            e.0 += 1;
        }
        app.store.audit(now, &email, "login-failed", "").await?;
        return Ok(login_page(
            &app,
            Some("That email and password do not match an account.".into()),
            StatusCode::UNAUTHORIZED,
        ));
    };
    app.failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&email);
    let token = secrets::token();
    let lifetime = app.cfg.session_lifetime;
    let expires = now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
    app.store
        .create_session(
            &secrets::digest(&token),
            user.id,
            &secrets::token(),
            now,
            expires,
        )
        .await?;
    app.store.audit(now, &user.email, "login", "").await?;
    let mut res = Redirect::to("/").into_response();
    set_cookie(
        &mut res,
        &app,
        SESSION_COOKIE,
        &token,
        "/",
        lifetime.as_secs(),
    );
    set_cookie(&mut res, &app, LOGIN_COOKIE, "", "/login", 0);
    Ok(res)
}

/// An argon2id hash of a password no one knows, verified against when the email is
/// unknown, so that the answer takes as long as for a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| secrets::hash_password(&secrets::token()).unwrap_or_default());

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf: String,
}

pub(crate) async fn checked(
    app: &App,
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<Asker, Fail> {
    let who = asker(app, headers, false).await?;
    if !who
        .csrf
        .as_deref()
        .is_some_and(|c| secrets::same(c, &form.csrf))
    {
        return Err(Fail::BadToken);
    }
    Ok(who)
}

fn logged_out(app: &App) -> Response {
    let mut res = Redirect::to("/login").into_response();
    set_cookie(&mut res, app, SESSION_COOKIE, "", "/", 0);
    res
}

pub(crate) async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, Fail> {
    let who = checked(&app, &headers, &form).await?;
    if let Some(s) = &who.session {
        app.store.end_session(s).await?;
    }
    app.store
        .audit(now_ms(), &who.user.email, "logout", "")
        .await?;
    Ok(logged_out(&app))
}

pub(crate) async fn logout_everywhere(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, Fail> {
    let who = checked(&app, &headers, &form).await?;
    let n = app.store.end_sessions(who.user.id).await?;
    app.store
        .audit(
            now_ms(),
            &who.user.email,
            "logout-everywhere",
            &format!("{n} session(s)"),
        )
        .await?;
    Ok(logged_out(&app))
}

/// One organisation in a listing.
#[derive(Serialize)]
pub(crate) struct OrgRow {
    id: String,
    name: String,
    kind: &'static str,
    parent: Option<String>,
    depth: usize,
    score: String,
    domains: usize,
}

/// The organisations `access` covers, depth first in inventory order.
fn rows(orgs: &[Organisation], latest: Option<&ScanReport>, access: &Access) -> Vec<OrgRow> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Organisation, usize)> = orgs
        .iter()
        .filter(|o| {
            o.parent
                .as_deref()
                .is_none_or(|p| !orgs.iter().any(|x| x.id == p))
        })
        .rev()
        .map(|o| (o, 0))
        .collect();
    while let Some((o, depth)) = stack.pop() {
        if out.len() > orgs.len() {
            break;
        }
        if access.sees(&o.id) {
            out.push(OrgRow {
                id: o.id.clone(),
                name: o.name.clone(),
                kind: o.kind.as_str(),
                parent: o.parent.clone(),
                depth: depth.min(3),
                score: score_text(latest, &o.id),
                // The stored tree keeps no domains; the latest scan says which it has.
                domains: latest.map_or(0, |r| {
                    r.assets
                        .iter()
                        .filter(|a| a.organisation_id == o.id)
                        .count()
                }),
            });
        }
        for c in orgs
            .iter()
            .rev()
            .filter(|c| c.parent.as_deref() == Some(o.id.as_str()))
        {
            stack.push((c, depth + 1));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "tree.html")]
struct TreePage {
    email: String,
    csrf: String,
    rows: Vec<OrgRow>,
}

pub(crate) async fn tree(State(app): State<App>, headers: HeaderMap) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (orgs, latest, access) = view(&app, &who).await?;
    Ok(html(&TreePage {
        rows: rows(&orgs, latest.as_ref(), &access),
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
    }))
}

pub(crate) async fn api_organisations(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (orgs, latest, access) = view(&app, &who).await?;
    Ok(axum::Json(serde_json::json!({
        "organisations": rows(&orgs, latest.as_ref(), &access),
    }))
    .into_response())
}

pub(crate) async fn seen_org(
    app: &App,
    who: &Asker,
    id: &str,
) -> Result<(Organisation, Option<ScanReport>, AccessRole), Fail> {
    let (orgs, latest, access) = view(app, who).await?;
    let Some(role) = access.role(id) else {
        return Err(Fail::NotFound);
    };
    let org = orgs
        .into_iter()
        .find(|o| o.id == id)
        .ok_or(Fail::NotFound)?;
    Ok((org, latest, role))
}

/// The organisation `id` for a form posted by someone who may change it: the token
/// checked, a 404 for an organisation they cannot see, a 403 for one they only view.
pub(crate) async fn editable(
    app: &App,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<(Asker, Organisation), Fail> {
    let who = checked(
        app,
        headers,
        &TokenForm {
            csrf: csrf.to_owned(),
        },
    )
    .await?;
    let (org, _, role) = seen_org(app, &who, id).await?;
    if role < AccessRole::Editor {
        return Err(Fail::Forbidden(format!(
            "Your role at {} is {}; changing its domains needs editor or admin. Ask its administrator.",
            org.name,
            role.as_str()
        )));
    }
    Ok((who, org))
}
