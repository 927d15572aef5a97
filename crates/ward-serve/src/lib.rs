//! `ward serve`: the dashboard and API over the store, for everyone in the tree.
//!
//! Server-rendered pages (askama, auto-escaped) that work without JavaScript, and the
//! same data as JSON under `/api/v1`. Every request is one of: anonymous (the login
//! page and the stylesheet only), a session (an HttpOnly, SameSite=Strict cookie
//! holding a random token whose SHA-256 digest the store keeps), or an API token
//! (`Authorization: Bearer …`, also kept as a digest). What a user may see is the
//! subtree under each organisation they hold a role at ([`access::Access`]); anything
//! else, whether it exists or not, is the same 404.

pub mod access;
mod assessment;
mod domain;
mod domains;
mod download;
mod invite;
mod mail;
mod org;
mod pages;
pub mod secrets;
pub mod tls;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse as _;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ward_store::Store;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Cookies carry `Secure` (set when ward is reached over TLS, directly or behind a
    /// proxy that terminates it).
    pub secure_cookies: bool,
    /// How long a session lasts without a new login.
    pub session_lifetime: Duration,
    /// Failed logins for one email allowed per [`Config::login_window`].
    pub login_attempts: u32,
    /// The window the attempts are counted over.
    pub login_window: Duration,
    /// Served over TLS: every response carries HSTS (and cookies should be Secure).
    pub tls: bool,
    /// The contact of `/.well-known/security.txt` (a `mailto:` or `https:` URI); without
    /// one, no security.txt is served.
    pub security_contact: Option<String>,
    /// How the server looks for a domain's proof of ownership when a user asks it to
    /// ("Check now"); without one, only the monitor looks, at the start of each round.
    pub prober: Option<ward_probe::Prober>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            session_lifetime: Duration::from_secs(12 * 3600),
            login_attempts: 5,
            login_window: Duration::from_secs(15 * 60),
            prober: None,
            tls: false,
            security_contact: None,
        }
    }
}

/// The latest complete scan's id and what was worked out from it.
pub(crate) type KeptScan = (i64, Arc<pages::Latest>);

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) store: Store,
    pub(crate) cfg: Arc<Config>,
    /// Failed logins per email: (count, start of the window in ms).
    pub(crate) failures: Arc<Mutex<HashMap<String, (u32, i64)>>>,
    /// The latest complete scan, by its id, as the last request read it.
    pub(crate) latest: Arc<Mutex<Option<KeptScan>>>,
}

/// The application's routes over `store`.
pub fn router(store: Store, cfg: Config) -> Router {
    let app = App {
        store,
        cfg: Arc::new(cfg),
        failures: Arc::new(Mutex::new(HashMap::new())),
        latest: Arc::new(Mutex::new(None)),
    };
    let tls = app.cfg.tls;
    let router = Router::new()
        .route("/", get(pages::tree))
        .route("/.well-known/security.txt", get(security_txt))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/logout/everywhere", post(pages::logout_everywhere))
        .route("/org/{id}", get(org::organisation))
        .route(
            "/org/{id}/assessment",
            get(assessment::page).post(assessment::answer),
        )
        .route(
            "/api/v1/organisations/{id}/assessment",
            get(assessment::api),
        )
        .route("/org/{id}/invitations", post(invite::create))
        .route("/invite/{token}", get(invite::show).post(invite::accept))
        .route("/org/{id}/domain/{domain}", get(domain::page))
        .route(
            "/api/v1/organisations/{id}/domains/{domain}",
            get(domain::api),
        )
        .route("/org/{id}/mail", get(mail::page))
        .route("/api/v1/organisations/{id}/mail", get(mail::api))
        .route("/org/{id}/{file}", get(download::report))
        .route("/org/{id}/domains", post(domains::register_domain))
        .route("/org/{id}/domains/check", post(domains::check_domain))
        .route("/org/{id}/domains/remove", post(domains::remove_domain))
        .route(
            "/api/v1/organisations/{id}/domains",
            get(domains::api_domains),
        )
        .route("/api/v1/organisations", get(pages::api_organisations))
        .route("/api/v1/organisations/{id}", get(org::api_organisation))
        .route("/static/ward.css", get(stylesheet))
        .fallback(pages::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app);
    if tls {
        router.layer(axum::middleware::from_fn(strict_transport))
    } else {
        router
    }
}

/// RFC 9116: who to tell about a vulnerability in this ward, valid for the next 360 days
/// from each request (so it never goes stale while the server runs).
async fn security_txt(
    axum::extract::State(app): axum::extract::State<App>,
) -> axum::response::Response {
    let Some(contact) = &app.cfg.security_contact else {
        return pages::not_found().await;
    };
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(360);
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("Contact: {contact}\nExpires: {expires}\nPreferred-Languages: en\n"),
    )
        .into_response()
}

/// Over TLS, browsers are told to come back only over TLS, for two years, subdomains
/// included.
async fn strict_transport(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    );
    res
}

/// The largest form body accepted: every form of ward is a few fields.
pub const MAX_FORM: usize = 16 * 1024;

/// Serves `router` on any axum listener (the TLS one, say) until `stop` resolves.
pub async fn run_on<L>(
    listener: L,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}

/// Serves `router` on `listener` until `stop` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_on(listener, router, stop).await
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/ward.css"),
    )
}

/// The headers that make ward's own site pass ward's web checks: a strict CSP with no
/// inline script or style, no framing, no sniffing, no referrer, nothing cached.
pub(crate) async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    if res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        res = (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "This form is larger than ward accepts ({} KiB). Shorten what you typed and send it again.",
                MAX_FORM / 1024
            ),
        )
            .into_response();
    }
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
