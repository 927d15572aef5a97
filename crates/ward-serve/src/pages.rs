//! The handlers: pages and their JSON twins under `/api/v1`.

use crate::access::Access;
use crate::{App, now_ms, secrets};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use ward_model::{CheckId, OrgKind, Organisation, ScanReport, Severity, Status};
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
    /// A one-time link that has been used or has expired; says what to do.
    Gone(String),
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
            Fail::Gone(why) => message(StatusCode::GONE, "This link no longer works", why),
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

/// The latest complete scan, with every organisation's score and domain count worked
/// out once: the overview of a party of a thousand branches asks for all of them on
/// every view, and reading and scoring the whole scan each time cost seconds.
pub(crate) struct Latest {
    pub(crate) report: ScanReport,
    scores: HashMap<String, u8>,
    domains: HashMap<String, usize>,
    /// Each organisation's assets, as positions in `report.assets`.
    by_org: HashMap<String, Vec<usize>>,
    /// Each organisation's (scan day, score) in the earlier scans kept and this one,
    /// oldest first.
    trend: HashMap<String, Vec<(i64, u8)>>,
    /// The three changes for each set of visible branches asked about so far (users of
    /// one organisation share one), by a hash of the set.
    changes: Mutex<HashMap<u64, (Vec<ChangeRow>, String)>>,
}

/// Sets of visible branches whose three changes are kept per scan, at most.
const KEPT_CHANGES: usize = 1024;

impl Latest {
    fn new(report: ScanReport, earlier: &[(i64, HashMap<String, u8>)]) -> Latest {
        let mut domains: HashMap<String, usize> = HashMap::new();
        let mut by_org: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in report.assets.iter().enumerate() {
            *domains.entry(a.organisation_id.clone()).or_default() += 1;
            by_org.entry(a.organisation_id.clone()).or_default().push(i);
        }
        let scores = scores_of(&report);
        // Oldest first, the latest last; an organisation unscored in a scan has no
        // point for it.
        let mut trend: HashMap<String, Vec<(i64, u8)>> = HashMap::new();
        let today = report.scanned_at.unix_timestamp().div_euclid(86_400);
        for (day, s) in earlier
            .iter()
            .rev()
            .map(|(d, s)| (*d, s))
            .chain(std::iter::once((today, &scores)))
        {
            for (org, score) in s {
                trend.entry(org.clone()).or_default().push((day, *score));
            }
        }
        Latest {
            report,
            scores,
            domains,
            by_org,
            trend,
            changes: Mutex::new(HashMap::new()),
        }
    }

    /// The organisation's (scan day, score) over the scans kept, oldest first, the
    /// latest last.
    pub(crate) fn trend(&self, org: &str) -> &[(i64, u8)] {
        self.trend.get(org).map_or(&[], Vec::as_slice)
    }

    /// Every finding of the organisation's own domains.
    pub(crate) fn findings_of(&self, org: &str) -> Vec<&ward_model::Finding> {
        self.by_org
            .get(org)
            .into_iter()
            .flatten()
            .flat_map(|&i| self.report.assets[i].findings.iter())
            .collect()
    }

    /// The organisation's score, as [`ward_advice::score::org_score`] gives it.
    pub(crate) fn score(&self, org: &str) -> Option<u8> {
        self.scores.get(org).copied()
    }

    /// How many domains of the organisation the scan holds.
    pub(crate) fn domains(&self, org: &str) -> usize {
        self.domains.get(org).copied().unwrap_or(0)
    }
}

/// Every organisation's score in `report`, as [`ward_advice::score::org_score`] gives it.
fn scores_of(report: &ScanReport) -> HashMap<String, u8> {
    let mut per_org: HashMap<&str, Vec<u8>> = HashMap::new();
    for a in &report.assets {
        if ward_advice::score::judged(a) {
            per_org
                .entry(a.organisation_id.as_str())
                .or_default()
                .push(ward_advice::score::asset_score(a).score);
        }
    }
    per_org
        .into_iter()
        .filter_map(|(o, s)| Some((o.to_owned(), ward_advice::score::mean_score(s)?)))
        .collect()
}

/// Complete scans before the latest whose scores make the overview's trend.
const TREND_SCANS: usize = 5;

/// The latest complete scan: the one kept from an earlier request while no newer scan
/// has completed (one indexed query to know), read and scored afresh when one has.
async fn latest(app: &App) -> Result<Option<Arc<Latest>>, Fail> {
    let Some(id) = app.store.latest_complete_scan().await? else {
        return Ok(None);
    };
    if let Some((kept, l)) = &*app.latest.lock().unwrap_or_else(|p| p.into_inner())
        && *kept == id.0
    {
        return Ok(Some(l.clone()));
    }
    // A new scan: read it, and score the few before it for the trend (once per scan;
    // only their scores are kept).
    let mut earlier = Vec::new();
    for s in app
        .store
        .scans()
        .await?
        .into_iter()
        .filter(|s| s.complete && s.id.0 < id.0)
        .take(TREND_SCANS)
    {
        let r = app.store.report(s.id).await?;
        earlier.push((
            r.scanned_at.unix_timestamp().div_euclid(86_400),
            scores_of(&r),
        ));
    }
    let l = Arc::new(Latest::new(app.store.report(id).await?, &earlier));
    *app.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some((id.0, l.clone()));
    Ok(Some(l))
}

/// The tree, the latest complete scan, and what the asker may see of them.
async fn view(
    app: &App,
    who: &Asker,
) -> Result<(Vec<Organisation>, Option<Arc<Latest>>, Access), Fail> {
    let orgs = app.store.organisations().await?;
    let access = Access::new(&app.store.memberships(who.user.id).await?, &orgs);
    let latest = latest(app).await?;
    Ok((orgs, latest, access))
}

pub(crate) fn score_text(latest: Option<&Latest>, org: &str) -> String {
    latest
        .and_then(|l| l.score(org))
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
    app.store.audit(now, &user.email, "login", "").await?;
    let mut res = start_session(&app, user.id, now).await?;
    set_cookie(&mut res, &app, LOGIN_COOKIE, "", "/login", 0);
    Ok(res)
}

/// Opens a session for `user` and sends them to the overview with its cookie.
pub(crate) async fn start_session(app: &App, user: i64, now: i64) -> Result<Response, Fail> {
    let token = secrets::token();
    let lifetime = app.cfg.session_lifetime;
    let expires = now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
    app.store
        .create_session(
            &secrets::digest(&token),
            user,
            &secrets::token(),
            now,
            expires,
        )
        .await?;
    let mut res = Redirect::to("/").into_response();
    set_cookie(
        &mut res,
        app,
        SESSION_COOKIE,
        &token,
        "/",
        lifetime.as_secs(),
    );
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
    /// Findings matching the filter, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    matching: Option<usize>,
    /// The score in the scans kept, oldest first, the latest last.
    trend: Vec<u8>,
    /// The trend's line, as SVG polyline points (empty under two scores).
    #[serde(skip)]
    trend_points: String,
}

/// Width and height of a trend line on the overview.
const SPARK_W: usize = 80;
const SPARK_H: usize = 20;

/// `scores` as the points of an 80 by 20 line (100 at the top).
fn spark(scores: &[u8]) -> String {
    if scores.len() < 2 {
        return String::new();
    }
    let step = SPARK_W as f64 / (scores.len() - 1) as f64;
    scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let y = (SPARK_H - 2) as f64 * (1.0 - f64::from(*s) / 100.0) + 1.0;
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The organisations `access` covers, depth first in inventory order.
fn rows(
    orgs: &[Organisation],
    latest: Option<&Latest>,
    access: &Access,
    filter: &TreeFilter,
) -> Vec<OrgRow> {
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
        let matching = filter.active().then(|| {
            latest.map_or(0, |l| {
                l.findings_of(&o.id)
                    .into_iter()
                    .filter(|f| filter.matches(f))
                    .count()
            })
        });
        if access.sees(&o.id) && matching != Some(0) {
            let trend: Vec<u8> =
                latest.map_or_else(Vec::new, |l| l.trend(&o.id).iter().map(|t| t.1).collect());
            out.push(OrgRow {
                matching,
                trend_points: spark(&trend),
                trend,
                id: o.id.clone(),
                name: o.name.clone(),
                kind: o.kind.as_str(),
                parent: o.parent.clone(),
                depth: depth.min(3),
                score: score_text(latest, &o.id),
                // The stored tree keeps no domains; the latest scan says which it has.
                domains: latest.map_or(0, |l| l.domains(&o.id)),
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

/// What the overview is narrowed to: findings at or above a severity, of one check
/// family, or those ward could not tell.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TreeFilter {
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    unknown: Option<String>,
}

impl TreeFilter {
    fn severity(&self) -> Option<Severity> {
        self.severity.as_deref().and_then(|s| s.parse().ok())
    }

    fn family(&self) -> Option<&str> {
        self.family.as_deref().filter(|f| !f.is_empty())
    }

    fn unknown(&self) -> bool {
        self.unknown.is_some()
    }

    fn active(&self) -> bool {
        self.severity().is_some() || self.family().is_some() || self.unknown()
    }

    fn matches(&self, f: &ward_model::Finding) -> bool {
        let family = self
            .family()
            .is_none_or(|fam| f.check.as_str().split('.').next() == Some(fam));
        let status = if self.unknown() {
            f.status == Status::Error
        } else {
            matches!(f.status, Status::Fail | Status::Warn)
                && self.severity().is_none_or(|s| f.severity >= s)
        };
        family && status
    }
}

/// Every check family, as the check ids begin.
fn families() -> Vec<&'static str> {
    let mut f: Vec<&'static str> = CheckId::ALL
        .iter()
        .filter_map(|c| c.as_str().split('.').next())
        .collect();
    f.sort_unstable();
    f.dedup();
    f
}

/// A change that protects branches, for the overview.
#[derive(Clone, Serialize)]
pub(crate) struct ChangeRow {
    action: String,
    check: &'static str,
    severity: &'static str,
    branches: usize,
}

/// The three changes that would protect the most of the branches the asker sees, and
/// the sentence saying how many.
fn three_changes(
    orgs: &[Organisation],
    latest: Option<&Latest>,
    access: &Access,
) -> (Vec<ChangeRow>, String) {
    let Some(l) = latest else {
        return (Vec::new(), String::new());
    };
    let branches: Vec<&Organisation> = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Branch && access.sees(&o.id))
        .collect();
    if branches.len() < 2 {
        return (Vec::new(), String::new());
    }
    let key = {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for b in &branches {
            b.id.hash(&mut h);
        }
        h.finish()
    };
    if let Some(kept) = l
        .changes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return kept.clone();
    }
    let ranking = ward_advice::score::rank_actions(
        branches
            .iter()
            .map(|b| (b.id.as_str(), l.findings_of(&b.id))),
    );
    let rows = ranking
        .actions
        .iter()
        .take(3)
        .map(|a| ChangeRow {
            action: a.action.clone(),
            check: a.check.as_str(),
            severity: a.severity.as_str(),
            branches: a.branches.len(),
        })
        .collect::<Vec<_>>();
    let made = (rows, ranking.headline(3));
    let mut kept = l.changes.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() < KEPT_CHANGES {
        kept.insert(key, made.clone());
    }
    made
}

#[derive(Template)]
#[template(path = "tree.html")]
struct TreePage {
    email: String,
    csrf: String,
    rows: Vec<OrgRow>,
    changes: Vec<ChangeRow>,
    headline: String,
    families: Vec<&'static str>,
    family: String,
    severity: String,
    unknown: bool,
    filtered: bool,
}

pub(crate) async fn tree(
    State(app): State<App>,
    headers: HeaderMap,
    Query(filter): Query<TreeFilter>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, false).await?;
    let (orgs, latest, access) = view(&app, &who).await?;
    let (changes, headline) = three_changes(&orgs, latest.as_deref(), &access);
    Ok(html(&TreePage {
        rows: rows(&orgs, latest.as_deref(), &access, &filter),
        changes,
        headline,
        families: families(),
        family: filter.family().unwrap_or_default().to_owned(),
        severity: filter
            .severity()
            .map_or(String::new(), |s| s.as_str().to_owned()),
        unknown: filter.unknown(),
        filtered: filter.active(),
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
    }))
}

pub(crate) async fn api_organisations(
    State(app): State<App>,
    headers: HeaderMap,
    Query(filter): Query<TreeFilter>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (orgs, latest, access) = view(&app, &who).await?;
    let (changes, headline) = three_changes(&orgs, latest.as_deref(), &access);
    Ok(axum::Json(serde_json::json!({
        "organisations": rows(&orgs, latest.as_deref(), &access, &filter),
        "three_changes": changes,
        "headline": headline,
    }))
    .into_response())
}

pub(crate) async fn seen_org(
    app: &App,
    who: &Asker,
    id: &str,
) -> Result<(Organisation, Option<Arc<Latest>>, AccessRole), Fail> {
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
    let (who, org, _) = editable_as(app, headers, csrf, id, AccessRole::Editor).await?;
    Ok((who, org))
}

/// As [`editable`], for what needs at least `min` (inviting people needs admin), with
/// the asker's role there.
pub(crate) async fn editable_as(
    app: &App,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
    min: AccessRole,
) -> Result<(Asker, Organisation, AccessRole), Fail> {
    let who = checked(
        app,
        headers,
        &TokenForm {
            csrf: csrf.to_owned(),
        },
    )
    .await?;
    let (org, _, role) = seen_org(app, &who, id).await?;
    if role < min {
        return Err(Fail::Forbidden(format!(
            "Your role at {} is {}; this needs {} or above. Ask its administrator.",
            org.name,
            role.as_str(),
            min.as_str()
        )));
    }
    Ok((who, org, role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::{AssetReport, CheckId, Finding, Role, Severity, Status};

    fn asset(domain: &str, org: &str, statuses: &[Status]) -> AssetReport {
        AssetReport {
            domain: domain.into(),
            organisation: org.into(),
            organisation_id: org.into(),
            roles: vec![Role::Mail],
            findings: statuses
                .iter()
                .zip(CheckId::ALL)
                .map(|(s, c)| Finding {
                    check: *c,
                    status: *s,
                    severity: Severity::High,
                    summary: String::new(),
                    evidence: serde_json::json!({}).into(),
                })
                .collect(),
            dmarc_phase: None,
        }
    }

    /// The scores kept for the overview are the advice's own, organisation by
    /// organisation, unjudged domains left out, and the domain counts include them.
    #[test]
    fn kept_scores_are_the_advice_scores() {
        use Status::{Error, Fail, Pass, Warn};
        let report = ScanReport {
            scanned_at: time::OffsetDateTime::UNIX_EPOCH,
            ward_version: "t".into(),
            assets: vec![
                asset("a.test", "leeds", &[Pass, Fail, Warn]),
                asset("b.test", "leeds", &[Pass, Pass, Pass]),
                asset("c.test", "york", &[Warn, Warn, Fail, Fail]),
                asset("d.test", "york", &[Error, Error]),
                asset("e.test", "dover", &[Error]),
            ],
            warnings: Vec::new(),
        };
        let earlier = vec![
            (-1, HashMap::from([("leeds".to_owned(), 40u8)])),
            (
                -2,
                HashMap::from([("leeds".to_owned(), 30u8), ("york".to_owned(), 10u8)]),
            ),
        ];
        let kept = Latest::new(report.clone(), &earlier);
        for org in ["leeds", "york", "dover", "nobody"] {
            assert_eq!(
                kept.score(org),
                ward_advice::score::org_score(&report, org),
                "{org}"
            );
        }
        assert_eq!(kept.score("dover"), None, "nothing judged");
        assert_eq!(
            (
                kept.domains("leeds"),
                kept.domains("york"),
                kept.domains("nobody")
            ),
            (2, 2, 0)
        );
    }
}
