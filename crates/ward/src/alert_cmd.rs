//! `ward alert`: tells each organisation's contacts what got worse since the scan before
//! the latest, once. The work is `ward_alert::run`; this reads flags and the inventory,
//! and prints what was sent.

use crate::{WardExit, usage};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;
use ward_advice::terminal_safe;
use ward_alert::{AlertConfig, Sent, SmtpConfig, WebhookConfig};
use ward_net::guard::TargetPolicy;
use ward_store::Store;

#[derive(Debug, Args)]
pub struct AlertArgs {
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// The inventory naming each organisation's contacts ([[organisation.contact]]).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub inventory: PathBuf,
    /// Only this organisation's contacts (its id).
    #[arg(long, value_name = "ID")]
    pub org: Option<String>,
    /// Print the digests that are due; send nothing, record no delivery.
    #[arg(long)]
    pub dry_run: bool,
    /// List the digests given up on (every attempt failed) and exit.
    #[arg(long)]
    pub dead_letters: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AlertFormat::Table)]
    pub format: AlertFormat,
    /// Allow webhooks on private, loopback and link-local addresses. By default they are
    /// refused, so an inventory cannot point ward into its own network.
    #[arg(long)]
    pub allow_private: bool,
    /// Lab mode: allow webhooks on loopback only.
    #[arg(long)]
    pub lab: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// How alerts are delivered: shared by `ward alert` and `ward monitor`.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// The start of each finding's link, e.g. https://ward.example (the `ward serve`
    /// address): links read <BASE>/org/<ID>/domain/<DOMAIN>#<CHECK>.
    #[arg(long, value_name = "URL")]
    pub link_base: Option<String>,
    /// The SMTP server mail is submitted to.
    #[arg(long, value_name = "HOST", env = "WARD_SMTP_SERVER")]
    pub smtp_server: Option<String>,
    /// Its port.
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 587,
        env = "WARD_SMTP_PORT"
    )]
    pub smtp_port: u16,
    /// The From address of alert mail.
    #[arg(long, value_name = "ADDRESS", env = "WARD_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// The SMTP user name (the password comes from WARD_SMTP_PASSWORD).
    #[arg(long, value_name = "USER", env = "WARD_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// Send mail without STARTTLS (a lab server only). By default a server that does not
    /// offer STARTTLS gets nothing.
    #[arg(long)]
    pub smtp_insecure: bool,
    /// A CA certificate (PEM) to trust, beyond the public roots, for the SMTP server and
    /// https:// webhooks (the lab's CA).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The wait before a webhook's second attempt, in milliseconds; each later one waits
    /// twice as long (3 attempts, then a dead letter).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub webhook_backoff_ms: u64,
}

/// Output formats of `ward alert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertFormat {
    /// One line per digest, then (with --dry-run) the digests' text.
    Table,
    /// One JSON document (docs/output.md).
    Json,
}

impl DeliveryArgs {
    /// The alert settings these flags give, for webhooks under `targets`.
    pub fn config(
        &self,
        targets: TargetPolicy,
        org: Option<String>,
        dry_run: bool,
    ) -> anyhow::Result<AlertConfig> {
        let ca = self
            .ca
            .as_ref()
            .map(|p| std::fs::read(p).map_err(|e| usage(format!("--ca {}: {e}", p.display()))))
            .transpose()?;
        let smtp = match (&self.smtp_server, &self.smtp_from) {
            (Some(server), Some(from)) => Some(SmtpConfig {
                server: server.clone(),
                port: self.smtp_port,
                from: from.clone(),
                credentials: self
                    .smtp_user
                    .clone()
                    .map(|u| (u, std::env::var("WARD_SMTP_PASSWORD").unwrap_or_default())),
                insecure: self.smtp_insecure,
                extra_ca_pem: ca.clone(),
            }),
            (Some(_), None) => {
                return Err(usage(
                    "--smtp-server needs --smtp-from ADDRESS (the From of alert mail)",
                ));
            }
            _ => None,
        };
        Ok(AlertConfig {
            now: time::OffsetDateTime::now_utc(),
            org,
            dry_run,
            link_base: self.link_base.clone(),
            smtp,
            webhook: WebhookConfig {
                targets,
                first_backoff: Duration::from_millis(self.webhook_backoff_ms),
                extra_ca_pem: ca,
            },
        })
    }
}

pub async fn run(args: AlertArgs) -> anyhow::Result<WardExit> {
    let store = Store::open(&args.db).await?;
    if args.dead_letters {
        let dead = store.dead_letters().await?;
        store.close().await;
        let mut out = std::io::stdout().lock();
        match args.format {
            AlertFormat::Json => {
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({ "dead_letters": dead }),
                )?;
                writeln!(out)?;
            }
            AlertFormat::Table if dead.is_empty() => writeln!(out, "No dead letters.")?,
            AlertFormat::Table => {
                for d in &dead {
                    writeln!(
                        out,
                        "{}  {}  {} {}  {} attempt(s): {}",
                        d.at,
                        terminal_safe(&d.organisation_id),
                        d.channel,
                        terminal_safe(&d.contact),
                        d.attempts,
                        terminal_safe(&d.error)
                    )?;
                }
            }
        }
        return Ok(WardExit::Clean);
    }
    let name = args.inventory.display().to_string();
    let text = std::fs::read_to_string(&args.inventory)
        .map_err(|e| usage(format!("--inventory {name}: {e}")))?;
    let contacts =
        ward_model::inventory::contacts(&name, &text).map_err(|e| usage(e.to_string()))?;
    let targets = if args.allow_private {
        TargetPolicy::AllowPrivate
    } else if args.lab {
        TargetPolicy::LabLoopback
    } else {
        TargetPolicy::PublicOnly
    };
    let cfg = args
        .delivery
        .config(targets, args.org.clone(), args.dry_run)?;
    let outcomes = ward_alert::run(&store, &contacts, &cfg).await?;
    store.close().await;
    let mut out = std::io::stdout().lock();
    match args.format {
        AlertFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "digests": outcomes }))?;
            writeln!(out)?;
        }
        AlertFormat::Table if outcomes.is_empty() => writeln!(out, "Nothing to alert.")?,
        AlertFormat::Table => {
            for o in &outcomes {
                let what = match &o.sent {
                    Sent::Sent { attempts } => format!("sent ({attempts} attempt(s))"),
                    Sent::Held => "held (quiet hours; sent on the next run outside them)".into(),
                    Sent::DryRun => "due (dry run: not sent)".into(),
                    Sent::DeadLetter { error, .. } => format!("dead letter: {error}"),
                    Sent::Refused { error } => format!("not sent: {error}"),
                };
                writeln!(
                    out,
                    "{} {} {}: {} item(s), {}",
                    terminal_safe(&o.organisation_id),
                    o.channel.as_str(),
                    terminal_safe(&o.contact),
                    o.digest.items.len(),
                    terminal_safe(&what)
                )?;
                if args.dry_run {
                    writeln!(out, "\n{}", terminal_safe(&o.digest.text))?;
                }
            }
        }
    }
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.sent, Sent::Refused { .. } | Sent::DeadLetter { .. }));
    Ok(if failed {
        WardExit::Incomplete
    } else {
        WardExit::Clean
    })
}
