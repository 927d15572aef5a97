//! The command line. clap types stop here: [`crate::main`] turns them into plain values
//! before anything touches the network.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use ward_model::schedule::parse_duration;

/// ward: the external security posture of a party, its regions and its branches.
///
/// ward checks every domain an organisation owns the way an attacker would see it (DNS,
/// and as the check families grow: mail authentication, TLS, web headers, mail servers),
/// explains each finding, and keeps the history.
///
/// Exit codes: 0 the work ran (and no finding reached --fail-on); 1 a finding reached
/// --fail-on (for `ward changes --fail-on-worse`: something got worse); 2 the command line or an input file is wrong; 3 ward could not finish
/// (for example the database could not be written); 4 a scan could not make at least
/// --fail-on-unknown percent of its checks (default 50), e.g. the resolver is dead.
#[derive(Debug, Parser)]
#[command(name = "ward", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to colour the log output on stderr: auto (only on a terminal, and not when
    /// the NO_COLOR environment variable is set and not empty), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan domains named on the command line or in an inventory file.
    ///
    /// Examples:
    ///   ward scan example.org
    ///   ward scan --inventory party.toml --db ward.db --format json
    ///   ward scan --resolver 9.9.9.9:53 --fail-on high example.org example.net
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// Run the built-in simulated party on loopback, scan it, store and report.
    ///
    /// Needs no network and no root: the lab's DNS, web and mail servers listen on
    /// 127.0.0.0/8. Stores a week of generated DMARC and TLS reports for the party, then
    /// scans it and summarises the reports. Writes four files: ward-demo.db (the store),
    /// ward-demo-report.html (the party's report), ward-demo-branch-report.html (one
    /// branch's) and ward-demo-brochure.html (the briefing for elected members).
    #[command(verbatim_doc_comment)]
    Demo(DemoArgs),
    /// Run the lab in the foreground and print how to scan it.
    ///
    /// Serves the demo party by default, or a fixture folder (zones/*.zone,
    /// hosts.toml, dns.toml, inventory.toml). Stop it with Ctrl-C.
    Lab(LabArgs),
    /// Answer the self-assessment for one organisation (at the terminal, or --answers FILE).
    ///
    /// Examples:
    ///   ward assess --org leeds-central --db ward.db
    ///   ward assess --org hq --answers hq-answers.toml --db ward.db
    #[command(verbatim_doc_comment)]
    Assess(crate::assess_cmd::AssessArgs),
    /// Write the report for one organisation and everything below it, from the latest scan.
    ///
    /// Examples:
    ///   ward report --org hq --db ward.db -o party.html
    ///   ward report --org leeds-central --format pdf -o leeds.pdf
    ///   ward report --org north --format json
    #[command(verbatim_doc_comment)]
    Report(crate::report_cmd::ReportArgs),
    /// What changed between the latest complete scan and the one before, per organisation
    /// and domain, worst first.
    ///
    /// Kinds: worse (a worse verdict, a record removed, a certificate now expiring in
    /// under 14 days, a new sender failing DMARC in the stored reports), now could not
    /// tell, still could not tell (twice in a row: never counted as fixed), new, gone,
    /// can tell again (could not tell before; a verdict now, but not a fix) and better
    /// (better than the last real verdict).
    ///
    /// Examples:
    ///   ward changes --db ward.db
    ///   ward changes --org north --since 2026-11-01 --format json
    ///   ward changes --fail-on-worse    (exit 1 when anything got worse)
    #[command(verbatim_doc_comment)]
    Changes(crate::changes_cmd::ChangesArgs),
    /// Tell each organisation's contacts what got worse, once.
    ///
    /// Compares the latest complete scan with the one before it, records each
    /// regression (worse, or now could not tell) and sends each contact of the inventory
    /// ([[organisation.contact]]) ONE digest of what is due to them at or above their
    /// min_severity: mail (SMTP, STARTTLS required) and/or a JSON POST signed with
    /// X-Ward-Signature: sha256=<HMAC-SHA256 of the body>. Running it again sends
    /// nothing new; a check that regresses again after getting better is told again.
    /// In a contact's quiet_hours the digest is held for the next run. A webhook gets
    /// 3 attempts with doubling waits, then the digest is a dead letter
    /// (--dead-letters lists them). Webhooks on private addresses are refused unless
    /// --lab or --allow-private. Exit 3 when a digest could not be delivered.
    ///
    /// Examples:
    ///   ward alert --db ward.db -i party.toml --dry-run
    ///   ward alert -i party.toml --smtp-server mail.example --smtp-from ward@example \
    ///     --link-base https://ward.example
    ///   ward alert --dead-letters
    #[command(verbatim_doc_comment)]
    Alert(crate::alert_cmd::AlertArgs),
    /// Write the briefing for elected members and candidates on their own accounts and devices.
    Brochure(crate::report_cmd::BrochureArgs),
    /// Ingest and summarise DMARC aggregate, failure and SMTP TLS reports.
    Reports(ReportsArgs),
    /// Manage the store: bring its schema up to date, or copy it to another store.
    ///
    /// A store is a SQLite file (the default, ward.db) or a PostgreSQL database
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE; the database must exist, ward
    /// makes its tables). Every command that takes --db also reads WARD_DB.
    ///
    /// Examples:
    ///   ward db migrate --db postgres://ward@db.example/ward
    ///   ward db copy --from ward.db --to postgres://ward@db.example/ward
    #[command(verbatim_doc_comment)]
    Db(DbArgs),
    /// Watch the inventory on a schedule: a round of scans every --every, what got worse
    /// told to the contacts.
    ///
    /// Each round scans every domain of the inventory (read afresh each round): DNS and
    /// mail every round, the web and mail servers (TLS, STARTTLS, HTTP) every
    /// --servers-every, or every round while a certificate is near expiry; in between,
    /// their last observation is carried forward and says when it was made. Jobs are
    /// spread over --jitter and each server address gets at most --per-host-rate new
    /// connections a second. On SQLite the scans run in this process; on PostgreSQL,
    /// start `ward worker` processes (on any machines). Every round is a scan in the
    /// history: `ward changes` and `ward report` read it as any other.
    ///
    /// Examples:
    ///   ward monitor -i party.toml --db ward.db
    ///   ward monitor -i party.toml --once     (one round now, then exit)
    ///   ward monitor -i party.toml --db postgres://ward@db.example/ward --smtp-server mail.example --smtp-from ward@example
    ///   ward monitor status --format json
    #[command(verbatim_doc_comment)]
    Monitor(Box<MonitorArgs>),
    /// Take scan jobs from the store and do them, until stopped (Ctrl-C, SIGTERM).
    ///
    /// Any number of workers share one PostgreSQL store: each takes due jobs under a
    /// lease it renews, so a worker killed mid-job loses nothing (its jobs are taken
    /// again when the lease runs out) and no domain is stored twice in a round.
    ///
    /// Examples:
    ///   ward worker --db postgres://ward@db.example/ward
    ///   ward worker --db postgres://… --in-flight 128 --name scan-2
    #[command(verbatim_doc_comment)]
    Worker(WorkerArgs),
    /// Serve the dashboard and the JSON API over the store, for the people of the tree.
    ///
    /// Each user sees the organisations they hold a role at and everything below them;
    /// anything else is "not found". Pages work without JavaScript; every asset is in the
    /// binary. Add the first user with `ward serve add-user` (the password is read from
    /// WARD_PASSWORD, or from the first line of standard input).
    ///
    /// In service mode run `ward monitor --consent` beside it: domains are then scanned
    /// only once their organisation has proved them (the organisation's page shows how).
    /// Admins invite people from an organisation's page with a one-time link.
    ///
    /// Examples:
    ///   ward serve --db ward.db --listen 127.0.0.1:8080
    ///   WARD_PASSWORD=... ward serve add-user --db ward.db --email it@party.example --org hq --role admin
    ///   ward serve add-token --db ward.db --email it@party.example --label "nightly export"
    ///   ward serve --db ward.db --listen 0.0.0.0:443 --tls-cert fullchain.pem --tls-key key.pem \
    ///     --http-redirect 0.0.0.0:80 --security-contact mailto:security@party.example
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// Where to listen. Port 0 picks a free one; the address is printed either way.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Mark cookies Secure: set this when users reach ward over HTTPS (a TLS proxy in
    /// front of it).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    /// Cookies are then Secure and every response carries HSTS.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also listen for plain HTTP here, only to send every request to HTTPS (port 80 in
    /// production).
    #[arg(long, value_name = "ADDR", requires = "tls_cert")]
    pub http_redirect: Option<SocketAddr>,
    /// The port users reach HTTPS on, for the redirect (behind a port forward, say).
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub https_port: u16,
    /// Serve /.well-known/security.txt naming this contact (`mailto:…` or `https://…`),
    /// so that whoever finds a flaw in this ward knows whom to tell.
    #[arg(long, value_name = "URI")]
    pub security_contact: Option<String>,
    /// How "Check now" on a domain looks for its proof of ownership (the resolver, lab
    /// mode); the monitor, run with --consent, looks at the start of every round.
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Add a user (or give an existing one a role) at an organisation of the store.
    AddUser(AddUserArgs),
    /// Make an API token for a user; it is printed once, and only its digest is kept.
    AddToken(AddTokenArgs),
}

#[derive(Debug, Args)]
pub struct AddUserArgs {
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// The user's email, their login name.
    #[arg(long)]
    pub email: String,
    /// The organisation id the role is at (it covers everything below it too).
    #[arg(long, value_name = "ID")]
    pub org: String,
    /// viewer, editor or admin.
    #[arg(long, default_value = "viewer", value_parser = ["viewer", "editor", "admin"])]
    pub role: String,
}

#[derive(Debug, Args)]
pub struct AddTokenArgs {
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// Whose token: it sees what they see.
    #[arg(long)]
    pub email: String,
    /// What it is for, shown in the audit log.
    #[arg(long, default_value = "api")]
    pub label: String,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour, even into a file or a pipe.
    Always,
    /// Never colour.
    Never,
}

impl ColorWhen {
    /// Whether to colour output written to stderr.
    pub fn for_stderr(self) -> bool {
        use std::io::IsTerminal as _;
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stderr().is_terminal()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table per organisation, for people.
    Table,
    /// One JSON document (see docs/output.md), for scripts.
    Json,
    /// One row per finding.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Size {
    Small,
    Medium,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct NetArgs {
    /// The recursive resolver to ask, as IP:PORT. Default: the first nameserver in
    /// /etc/resolv.conf.
    #[arg(long, value_name = "IP:PORT")]
    pub resolver: Option<SocketAddr>,
    /// Longest wait for one DNS reply, in seconds (0.05-30). The first send waits for
    /// about the server's measured round trip (at least 0.25 s), each resend twice as
    /// long as the one before, never longer than this.
    #[arg(long, value_name = "SECONDS", default_value_t = ward_net::DEFAULT_DNS_TIMEOUT_SECS)]
    pub dns_timeout: f64,
    /// How many times a DNS question is sent before ward says it could not tell (1-10).
    #[arg(long, value_name = "N", default_value_t = ward_net::DEFAULT_DNS_ATTEMPTS)]
    pub dns_attempts: u32,
    /// Network operations in flight at once (1-4096).
    #[arg(long, value_name = "N", default_value_t = ward_net::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Connections at once to one server address (1-64).
    #[arg(long, value_name = "N", default_value_t = ward_net::DEFAULT_PER_HOST)]
    pub per_host: usize,
    /// Allow scanning private, loopback and link-local addresses. By default ward
    /// refuses them before sending anything, so that a hostile DNS answer cannot turn
    /// it against your own network.
    #[arg(long)]
    pub allow_private: bool,
    /// Lab mode: where the lab's services listen, e.g. 53=40053,25=40025,80=40080,443=40443.
    /// Also allows loopback targets. `ward lab` prints the value.
    #[arg(long, value_name = "MAP")]
    pub lab_ports: Option<String>,
    /// Lab mode: a CA certificate (PEM) to trust in addition to the public roots.
    #[arg(long, value_name = "FILE")]
    pub lab_ca: Option<PathBuf>,
    /// The DNSSEC trust anchor: a file of DS or DNSKEY records (master-file form) for one
    /// zone. Default: the root zone's keys. `ward lab` writes the lab's.
    #[arg(long, value_name = "FILE")]
    pub trust_anchor: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Domains to scan (in addition to those of --inventory).
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// An inventory file (TOML) describing organisations and their domains.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Size class for domains named on the command line.
    #[arg(long, value_enum, default_value_t = Size::Small)]
    pub size: Size,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Store the scan here: a SQLite file (created if missing) or a PostgreSQL URL
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE). Mail reports stored there
    /// (`ward reports ingest`) from the last 30 days add their findings to each domain,
    /// and the DKIM selectors they show are checked too. Without it (and without
    /// WARD_DB) the scan is not stored.
    #[arg(long, value_name = "PATH|URL", env = "WARD_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Exit with status 1 when a finding of this severity or worse is found.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Exit with status 4 when at least this percentage of the checks could not be made
    /// ("could not tell": a resolver or server that did not answer). 0 disables it, so
    /// that only findings decide the exit status. This comes before --fail-on: a scan that
    /// could not look is not a clean one.
    #[arg(long, value_name = "PERCENT", default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fail_on_unknown: u8,
    /// The most time spent on one domain, in seconds (1-3600). When it runs out, what
    /// was not yet learnt is "could not tell", naming the budget, and the scan goes on
    /// with the other domains.
    #[arg(long, value_name = "SECONDS", default_value_t = ward_scan::DEFAULT_DOMAIN_BUDGET.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub domain_budget: u64,
    /// When stderr is not a terminal (a log file, CI), print a progress line this
    /// often, in seconds (1-3600): domains done of the total, and how many could not
    /// tell so far. On a terminal a progress bar is drawn instead.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub progress_every: u64,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The store to write: a SQLite file or a PostgreSQL URL. WARD_DB is not read here,
    /// so that the demo's made-up party never lands in your real store.
    #[arg(long, value_name = "PATH|URL", default_value = "ward-demo.db")]
    pub db: String,
    /// The HTML report to write.
    #[arg(long, value_name = "PATH", default_value = "ward-demo-report.html")]
    pub report: PathBuf,
    /// Output format on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Then serve the dashboard on the demo party at ADDR (default 127.0.0.1:8080),
    /// with a demo login printed, until Ctrl-C.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    pub serve: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// A fixture folder to serve instead of the built-in demo party.
    #[arg(long, value_name = "DIR")]
    pub fixture: Option<PathBuf>,
    /// Serve the scale set instead: a party of N branches, one domain each, on shared web
    /// and mail hosts (for measuring `ward monitor` and `ward worker`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub scale: Option<u32>,
    /// Write the fixture (the demo party by default) to DIR and exit, as a starting
    /// point for your own.
    #[arg(long, value_name = "DIR")]
    pub write_fixture: Option<PathBuf>,
    /// Where to write the lab's CA certificate and inventory. Default: a new folder
    /// under the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

// `ward db`, run by crate::db_cmd.

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the store's tables, or bring them up to date, and say what was applied.
    ///
    /// Every command that opens a store does this too; run it on its own when deploying
    /// a new ward, before starting its processes. Safe to run while other ward processes
    /// start on the same store: one applies the migrations, the others wait for it (an
    /// exclusive transaction on SQLite, an advisory lock on PostgreSQL).
    ///
    /// Examples:
    ///   ward db migrate
    ///   ward db migrate --db postgres://ward@db.example/ward --format json
    #[command(verbatim_doc_comment)]
    Migrate(MigrateArgs),
    /// Copy everything one store holds into another, keeping the history.
    ///
    /// Copies organisations, every scan with its assets and findings, the mail reports
    /// with their rows, and the self-assessments, with their ids, in one transaction on
    /// the target: if anything fails, the target is left as it was. Either side can be
    /// SQLite or PostgreSQL; both are brought up to date first. The target must be empty
    /// unless --replace is given.
    ///
    /// Examples:
    ///   ward db copy --from ward.db --to postgres://ward@db.example/ward
    ///   ward db copy --from postgres://ward@db.example/ward --to backup.db --replace
    #[command(verbatim_doc_comment)]
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store: a SQLite file (created if missing) or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The store to copy from: a SQLite file or a PostgreSQL URL. It is only read.
    #[arg(long, value_name = "PATH|URL")]
    pub from: String,
    /// The store to copy into: a SQLite file (created if missing) or a PostgreSQL URL.
    #[arg(long, value_name = "PATH|URL")]
    pub to: String,
    /// Delete what the target holds before copying (in the same transaction). Without
    /// it, a target that holds anything is refused.
    #[arg(long)]
    pub replace: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

// `ward reports`, run by crate::reports_cmd.

#[derive(Debug, Args)]
pub struct ReportsArgs {
    #[command(subcommand)]
    pub command: ReportsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Store the reports found in files, folders, mbox files and Maildirs.
    ///
    /// Formats are told by content, not by name: XML, JSON, gzip, zlib, zip, e-mail
    /// messages (.eml) with the report attached, mbox files. JSON is an SMTP TLS
    /// report or DMARC aggregate reports exported as JSON (one, or a list, in the
    /// XML's field names or parsedmarc's); other JSON is refused naming its keys. Folders are read
    /// recursively, and a folder with cur/ or new/ is read as a Maildir. A report
    /// already stored (same reporter, report id and date range) is skipped, so running
    /// it again over the same sources stores nothing new.
    ///
    /// Exit status: 0 every report found was stored or already there; 2 some input was
    /// refused (each is named on stderr, and everything else was stored); 3 the
    /// database could not be written, or the IMAP mailbox could not be read.
    ///
    /// Examples:
    ///   ward reports ingest --db ward.db ~/dmarc/ reports.mbox
    ///   ward reports ingest ~/Maildir/.DMARC
    #[command(verbatim_doc_comment)]
    Ingest(IngestArgs),
    /// Summarise the stored reports: volume, DMARC pass and alignment rates, sending
    /// sources, failing sources, DKIM selectors, TLS failures per MX, and each
    /// domain's DMARC phase (assess, deploy, enforce, maintain).
    ///
    /// Examples:
    ///   ward reports summary --db ward.db
    ///   ward reports summary --domain example.org --since 30d --format json --offline
    #[command(verbatim_doc_comment)]
    Summary(SummaryArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, folders, mbox files or Maildirs to read.
    #[arg(value_name = "SOURCE", required_unless_present = "imap")]
    pub sources: Vec<PathBuf>,
    /// Also read an IMAP mailbox over TLS: imaps://USER@HOST[:PORT][/FOLDER] (port 993,
    /// folder INBOX by default). The password comes from the WARD_IMAP_PASSWORD
    /// environment variable. Each message whose reports are all stored is then moved
    /// to --imap-processed; a message that fails to parse stays where it is.
    #[arg(long, value_name = "URL")]
    pub imap: Option<String>,
    /// The folder stored messages are moved to (created if missing).
    #[arg(long, value_name = "FOLDER", default_value = "processed")]
    pub imap_processed: String,
    /// A CA certificate (PEM) to trust for the IMAP server, besides the public roots.
    #[arg(long, value_name = "FILE")]
    pub imap_ca: Option<PathBuf>,
    /// The store to write into: a SQLite file (created if missing) or a PostgreSQL URL
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Tables, for people.
    Table,
    /// One JSON document, for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The store to read: a SQLite file or a PostgreSQL URL
    /// (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// Only this domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Only reports whose period ended within this long before now: a number and a
    /// unit, d (days), h (hours) or w (weeks), e.g. 30d.
    #[arg(long, value_name = "AGE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    /// Do not look up reverse names of sending addresses.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The help states each network limit's range in prose; this keeps it equal to the
    /// range ward-net checks.
    #[test]
    fn net_flag_help_states_ward_nets_ranges() {
        let cmd = Cli::command();
        let scan = cmd.find_subcommand("scan").expect("scan");
        let help = |flag: &str| {
            scan.get_arguments()
                .find(|a| a.get_long() == Some(flag))
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        use ward_net::*;
        for (flag, range) in [
            (
                "dns-timeout",
                format!("({MIN_DNS_TIMEOUT_SECS}-{MAX_DNS_TIMEOUT_SECS})"),
            ),
            (
                "dns-attempts",
                format!("({MIN_DNS_ATTEMPTS}-{MAX_DNS_ATTEMPTS})"),
            ),
            (
                "concurrency",
                format!("({MIN_CONCURRENCY}-{MAX_CONCURRENCY})"),
            ),
            ("per-host", format!("({MIN_PER_HOST}-{MAX_PER_HOST})")),
        ] {
            assert!(help(flag).contains(&range), "--{flag}: {}", help(flag));
        }
    }
}

// `ward monitor` and `ward worker`, run by crate::monitor_cmd.

/// Connections a second to one server address while monitoring, unless
/// `--per-host-rate` says otherwise: a thousand branches on one hosting provider are
/// then spread over minutes, not fired at it at once.
pub const MONITOR_PER_HOST_RATE: f64 = 20.0;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MonitorArgs {
    #[command(subcommand)]
    pub command: Option<MonitorCommand>,
    #[command(flatten)]
    pub run: MonitorRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Show the queue: jobs per state, how many wait and since when, the newest rounds,
    /// and each worker's last heartbeat.
    ///
    /// Examples:
    ///   ward monitor status --db ward.db
    ///   ward monitor status --db postgres://ward@db.example/ward --format json
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
    /// Rounds shown, newest first.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub rounds: usize,
}

/// Output formats of `ward monitor status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Lines for people.
    Table,
    /// One JSON document, for scripts and dashboards.
    Json,
}

#[derive(Debug, Args)]
pub struct MonitorRunArgs {
    /// The store: a SQLite file (the monitor scans in its own process) or a PostgreSQL
    /// URL (`ward worker` processes scan; add --scan to scan here as well).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// The inventory. It is read again at the start of every round, so an edit takes
    /// effect at the next round without a restart.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// How often an organisation's DNS and mail records are looked at, unless its
    /// inventory entry (or one above it) sets `[organisation.schedule] every`. Rounds
    /// come as often as the most frequent organisation wants; one not due in a round
    /// has its last look carried into it whole, and says so. Units: s, m, h, d.
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration)]
    pub every: Duration,
    /// Time between two probes of a domain's web and mail servers (TLS, STARTTLS, HTTP
    /// headers); between them their last observation is carried forward, and says so.
    /// The default for organisations whose schedule sets no `servers_every`.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub servers_every: Duration,
    /// A domain with a certificate expiring within this long has its servers probed
    /// at every look (default for a schedule without `certs_within`).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    pub certs_within: Duration,
    /// Jobs of a round start up to this long after the round begins, each domain at its
    /// own fixed offset.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub jitter: Duration,
    /// Run one round now (whatever --every says), wait for it to end, alert, and exit.
    #[arg(long)]
    pub once: bool,
    /// Scan in this process even on PostgreSQL (on SQLite it always does).
    #[arg(long)]
    pub scan: bool,
    /// Do not alert contacts when a round ends (run `ward alert` yourself).
    #[arg(long)]
    pub no_alerts: bool,
    /// Service mode: scan a domain only while its organisation has proved it is theirs,
    /// by a TXT record at `_ward-challenge.<domain>` or a file at
    /// `https://<domain>/.well-known/ward-challenge` holding the token ward gave it (the
    /// dashboard of `ward serve` shows it). The proof is looked for again at the start
    /// of every round; a domain whose proof is gone stops being scanned and its
    /// contacts are told. Domains of the inventory are claimed for their organisation
    /// and wait for proof.
    #[arg(long)]
    pub consent: bool,
    #[command(flatten)]
    pub work: WorkArgs,
    #[command(flatten)]
    pub delivery: crate::alert_cmd::DeliveryArgs,
    #[command(flatten)]
    pub net: NetArgs,
}

/// How jobs are worked: shared by `ward monitor` (scanning in its own process) and
/// `ward worker`.
#[derive(Debug, Args)]
pub struct WorkArgs {
    /// How long a job is held without a heartbeat before another worker may take it
    /// (heartbeats come every third of it).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub lease: Duration,
    /// Domains scanned at once by this process.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub in_flight: u16,
    /// Most time spent on one domain, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub domain_budget: u64,
    /// Connections a second to one server address (0: no limit beyond --per-host).
    #[arg(long, value_name = "N", default_value_t = MONITOR_PER_HOST_RATE)]
    pub per_host_rate: f64,
    /// How often to ask for work when none is due.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub poll: Duration,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The store: a PostgreSQL URL (a SQLite file works too, for one machine).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "WARD_DB",
        hide_env_values = true,
        default_value = "ward.db"
    )]
    pub db: String,
    /// This worker's name in `ward monitor status`. Default: HOST:PID.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Exit once no round is open and this worker holds nothing.
    #[arg(long)]
    pub until_idle: bool,
    #[command(flatten)]
    pub work: WorkArgs,
    #[command(flatten)]
    pub net: NetArgs,
}
