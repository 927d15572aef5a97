//! `ward serve`, `ward serve add-user` and `ward serve add-token`.

use crate::cli::{AddTokenArgs, AddUserArgs, ServeArgs, ServeCommand};
use crate::{WardExit, usage};
use std::io::BufRead as _;
use ward_serve::secrets;
use ward_store::{AccessRole, Store};

pub async fn serve(args: ServeArgs) -> anyhow::Result<WardExit> {
    match args.command {
        Some(ServeCommand::AddUser(a)) => return add_user(a).await,
        Some(ServeCommand::AddToken(a)) => return add_token(a).await,
        None => {}
    }
    let cfg = crate::net_config(&args.net)?;
    let net = ward_net::Net::new(cfg).map_err(|e| usage(e.to_string()))?;
    let prober = ward_probe::Prober::new(net).with_trust_anchor(crate::trust_anchor(&args.net)?);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(ward_serve::tls::server_config(c, k).map_err(usage)?),
        _ => None,
    };
    let store = Store::open(&args.db).await?;
    let cfg = ward_serve::Config {
        secure_cookies: args.secure_cookies || tls.is_some(),
        tls: tls.is_some(),
        prober: Some(prober),
        security_contact: args.security_contact.clone(),
        ..ward_serve::Config::default()
    };
    let Some(tls) = tls else {
        return serve_with(store, args.listen, cfg).await;
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let redirect = match args.http_redirect {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| usage(format!("cannot listen on {at}: {e}")))?,
        ),
        None => None,
    };
    if let Some(r) = redirect {
        eprintln!(
            "ward serve: sending plain HTTP at {} to HTTPS",
            r.local_addr()?
        );
        let router = ward_serve::tls::redirect_router(args.https_port);
        tokio::spawn(async move { ward_serve::run(r, router, stopped()).await });
    }
    // Printed last: whoever waits for the address then knows both are listening.
    eprintln!(
        "ward serve: {} ({}) at https://{addr}/ (Ctrl-C stops)",
        store.location(),
        store.backend()
    );
    let router = ward_serve::router(store.clone(), cfg);
    ward_serve::run_on(
        ward_serve::tls::TlsListener::new(listener, tls)?,
        router,
        stopped(),
    )
    .await?;
    store.close().await;
    Ok(WardExit::Clean)
}

/// The demo's login.
pub const DEMO_EMAIL: &str = "demo@ward.invalid";

/// Makes (or resets) `email` as admin at `root` with a new random password, and
/// returns the password.
pub async fn demo_login(store: &Store, email: &str, root: &str) -> anyhow::Result<String> {
    let password = secrets::token()[..20].to_owned();
    let hash = secrets::hash_password(&password).map_err(anyhow::Error::msg)?;
    let id = match store.password_hash(email).await? {
        Some((user, _)) => {
            store.set_password(email, &hash).await?;
            user.id
        }
        None => store
            .create_user(email, &hash, now_ms())
            .await?
            .ok_or_else(|| anyhow::anyhow!("{email}: added by someone else just now"))?,
    };
    store.grant(id, root, AccessRole::Admin).await?;
    Ok(password)
}

/// Serves the dashboard over `store` on `listen` until Ctrl-C or SIGTERM.
pub async fn serve_store(
    store: Store,
    listen: std::net::SocketAddr,
    secure_cookies: bool,
    prober: Option<ward_probe::Prober>,
) -> anyhow::Result<WardExit> {
    let cfg = ward_serve::Config {
        secure_cookies,
        prober,
        ..ward_serve::Config::default()
    };
    serve_with(store, listen, cfg).await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Serves plain HTTP on `listen`.
async fn serve_with(
    store: Store,
    listen: std::net::SocketAddr,
    cfg: ward_serve::Config,
) -> anyhow::Result<WardExit> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| usage(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "ward serve: {} ({}) at http://{addr}/ (Ctrl-C stops)",
        store.location(),
        store.backend()
    );
    let router = ward_serve::router(store.clone(), cfg);
    let stop = stopped();
    ward_serve::run(listener, router, stop).await?;
    store.close().await;
    Ok(WardExit::Clean)
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// The new password: WARD_PASSWORD, else the first line of standard input.
fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("WARD_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn add_user(a: AddUserArgs) -> anyhow::Result<WardExit> {
    let role = AccessRole::parse(&a.role).ok_or_else(|| usage("role: viewer, editor or admin"))?;
    let email = a.email.trim().to_ascii_lowercase();
    if !email.contains('@') {
        return Err(usage(format!("--email {email}: not an email address")));
    }
    let store = Store::open(&a.db).await?;
    let orgs = store.organisations().await?;
    if !orgs.iter().any(|o| o.id == a.org) {
        return Err(usage(format!(
            "--org {}: no such organisation in {} (scan or monitor its inventory first)",
            a.org,
            store.location()
        )));
    }
    let id = match store.password_hash(&email).await? {
        Some((user, _)) => user.id,
        None => {
            let hash = secrets::hash_password(&password()?).map_err(usage)?;
            store
                .create_user(&email, &hash, now_ms())
                .await?
                .ok_or_else(|| usage(format!("{email}: added by someone else just now")))?
        }
    };
    store.grant(id, &a.org, role).await?;
    store
        .audit(
            now_ms(),
            "cli",
            "role",
            &format!("{email} {} at {}", role.as_str(), a.org),
        )
        .await?;
    eprintln!(
        "ward serve: {email} is {} at {} and below",
        role.as_str(),
        a.org
    );
    store.close().await;
    Ok(WardExit::Clean)
}

async fn add_token(a: AddTokenArgs) -> anyhow::Result<WardExit> {
    let email = a.email.trim().to_ascii_lowercase();
    let store = Store::open(&a.db).await?;
    let Some((user, _)) = store.password_hash(&email).await? else {
        return Err(usage(format!(
            "{email}: no such user (add it with ward serve add-user)"
        )));
    };
    let token = secrets::token();
    store
        .create_api_token(&secrets::digest(&token), user.id, &a.label, now_ms())
        .await?;
    store
        .audit(
            now_ms(),
            "cli",
            "api-token",
            &format!("{email}: {}", a.label),
        )
        .await?;
    println!("{token}");
    store.close().await;
    Ok(WardExit::Clean)
}
