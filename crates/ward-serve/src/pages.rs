//! The handlers: pages and their JSON twins under `/api/v1`.

use crate::access::Access;
use crate::{App, now_ms, secrets};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use ward_model::{Organisation, ScanReport, SizeClass};
use ward_probe::consent;
use ward_store::{AccessRole, ClaimState, StoreError, User};

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
struct Asker {
    user: User,
    csrf: Option<String>,
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

async fn asker(app: &App, headers: &HeaderMap, api: bool) -> Result<Asker, Fail> {
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

fn score_text(report: Option<&ScanReport>, org: &str) -> String {
    report
        .and_then(|r| ward_advice::score::org_score(r, org))
        .map_or_else(|| "not scanned".to_owned(), |s| format!("{s}/100"))
}

fn not_found_page() -> Response {
    let body = NotFoundPage.render().unwrap_or_else(|_| "Not found".into());
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

fn html(t: &impl Template) -> Response {
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

fn message(status: StatusCode, title: &'static str, text: String) -> Response {
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

async fn checked(app: &App, headers: &HeaderMap, form: &TokenForm) -> Result<Asker, Fail> {
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
                domains: o.assets.len(),
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

/// One finding on an organisation's page.
#[derive(Serialize)]
pub(crate) struct FindingRow {
    check: &'static str,
    status: &'static str,
    severity: &'static str,
    summary: String,
    todo: String,
}

/// One domain on an organisation's page.
#[derive(Serialize)]
pub(crate) struct AssetRows {
    domain: String,
    findings: Vec<FindingRow>,
}

fn assets(latest: Option<&ScanReport>, org: &Organisation) -> Vec<AssetRows> {
    let Some(r) = latest else { return Vec::new() };
    r.assets
        .iter()
        .filter(|a| a.organisation_id == org.id)
        .map(|a| AssetRows {
            domain: a.domain.clone(),
            findings: a
                .findings
                .iter()
                .map(|f| FindingRow {
                    check: f.check.as_str(),
                    status: f.status.as_str(),
                    severity: f.severity.as_str(),
                    summary: f.summary.clone(),
                    todo: todo(f, org.size),
                })
                .collect(),
        })
        .collect()
}

/// The first step of the advice for a finding that asks for one, in the words for
/// the organisation's audience.
fn todo(f: &ward_model::Finding, size: SizeClass) -> String {
    use ward_model::Status;
    if !matches!(f.status, Status::Fail | Status::Warn) {
        return String::new();
    }
    ward_advice::advice::advice_for(f.check, size)
        .and_then(|a| {
            a.todo
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn audience(size: SizeClass) -> &'static str {
    match size {
        SizeClass::Small => "volunteers running a small organisation",
        SizeClass::Medium => "an IT team",
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    email: String,
    csrf: String,
    id: String,
    name: String,
    claims: Vec<ClaimRow>,
    can_edit: bool,
    can_check: bool,
    score: String,
    audience: &'static str,
    assets: Vec<AssetRows>,
}

async fn seen_org(
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

/// One claimed domain on an organisation's page.
#[derive(Serialize)]
pub(crate) struct ClaimRow {
    domain: String,
    state: &'static str,
    /// What the owner should do, or what ward does, in a sentence.
    explain: String,
    token: String,
    record: String,
    file: String,
    detail: String,
    checked: String,
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

async fn claim_rows(app: &App, org: &str) -> Result<Vec<ClaimRow>, Fail> {
    Ok(app
        .store
        .claims()
        .await?
        .into_iter()
        .filter(|c| c.organisation_id == org)
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

pub(crate) async fn organisation(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (org, latest, role) = seen_org(&app, &who, &id).await?;
    Ok(html(&OrgPage {
        score: score_text(latest.as_ref(), &org.id),
        assets: assets(latest.as_ref(), &org),
        audience: audience(org.size),
        claims: claim_rows(&app, &org.id).await?,
        can_edit: role >= AccessRole::Editor,
        can_check: app.cfg.prober.is_some(),
        id: org.id,
        name: org.name,
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
    }))
}

pub(crate) async fn api_organisation(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, latest, _) = seen_org(&app, &who, &id).await?;
    Ok(axum::Json(serde_json::json!({
        "id": org.id,
        "name": org.name,
        "kind": org.kind.as_str(),
        "parent": org.parent,
        "score": latest.as_ref().and_then(|r| ward_advice::score::org_score(r, &org.id)),
        "assets": assets(latest.as_ref(), &org),
    }))
    .into_response())
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

/// The organisation `id` for a form posted by someone who may change it: the token
/// checked, a 404 for an organisation they cannot see, a 403 for one they only view.
async fn editable(
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
