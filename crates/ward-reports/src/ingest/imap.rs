//! Reports from an IMAP mailbox (over TLS, [`ward_net::imap`]): each message's reports
//! are stored, and the message is moved away only once they are.

use rustls::RootCertStore;
use time::OffsetDateTime;
use ward_net::imap::{self, Mailbox};
use ward_store::{Saved, Store};

use super::watch::{Counts, IngestError, Watch};
use crate::{Error, LimitKind, Limits, Reason, rows};

/// An IMAP folder to read reports from.
pub struct ImapSource {
    /// Server, user and folder.
    pub mailbox: Mailbox,
    /// The user's password (never shown in an error).
    pub password: String,
    /// The certificates to trust for the server.
    pub roots: RootCertStore,
    /// The folder each message is moved to once its reports are stored (created if
    /// missing).
    pub processed: String,
}

/// Reads every message of an IMAP folder, stores its reports, and moves each message
/// whose reports were all stored (new or duplicate) to `processed`, only after the
/// store has committed them. A message with any refusal stays, and is named.
pub async fn ingest_imap(
    store: &Store,
    source: ImapSource,
    watch: &dyn Watch,
    counts: &mut Counts,
    now: OffsetDateTime,
) -> Result<(), IngestError> {
    let ImapSource {
        mailbox: mb,
        password,
        roots,
        processed,
    } = source;
    let mb = &mb;
    let limits = Limits::default();
    let q = |s: &str, what: &'static str| imap::quote(s).ok_or(IngestError::Unquotable(what));
    let mut c = imap::Client::connect(mb, roots).await?;
    c.command(
        &format!(
            "LOGIN {} {}",
            q(&mb.user, "user")?,
            q(&password, "password")?
        ),
        0,
    )
    .await?;
    let target = q(&processed, "folder")?;
    // The folder may exist already; any other problem shows at the first MOVE.
    let _ = c.command(&format!("CREATE {target}"), 0).await;
    c.command(&format!("SELECT {}", q(&mb.folder, "folder")?), 0)
        .await?;
    let uids = imap::search_uids(&c.command("UID SEARCH ALL", 0).await?);
    for uid in uids {
        let name = format!("imaps://{}@{}/{};UID={uid}", mb.user, mb.host, mb.folder);
        let r = c
            .command(
                &format!("UID FETCH {uid} (BODY.PEEK[])"),
                limits.max_input_bytes,
            )
            .await?;
        let mut results = Vec::new();
        match r.literals.into_iter().next() {
            Some(imap::Literal::Bytes(bytes)) => {
                crate::unpack::unpack(&name, &bytes, &limits, &mut |x| results.push(x))
            }
            Some(imap::Literal::TooLarge) => results.push(Err(Error::new(
                name.clone(),
                Reason::LimitExceeded {
                    kind: LimitKind::InputBytes,
                    limit: limits.max_input_bytes,
                },
            ))),
            // Expunged meanwhile by another client.
            None => continue,
        }
        let mut all_stored = !results.is_empty();
        for r in results {
            let r = r.and_then(|u| rows::encode(&u));
            match r {
                Ok(rows) => {
                    let saved = store.save_report(&rows, now).await?;
                    if let Saved::Stored(_) | Saved::Replaced { .. } = saved {
                        tracing::info!(source = ?rows.source, "stored report");
                    }
                    counts.count(&rows.source, &saved, watch);
                }
                Err(e) => {
                    all_stored = false;
                    counts.failures += 1;
                    watch.refused(&e);
                }
            }
        }
        if all_stored {
            c.command(&format!("UID MOVE {uid} {target}"), 0).await?;
        }
    }
    let _ = c.command("LOGOUT", 0).await;
    Ok(())
}
