//! What ward alerted, so that the same regression is never told twice: events (one per
//! organisation, domain, check and the scan that showed the regression), what became of
//! each for each contact, and the digests given up on (the dead letters).
//!
//! The store keeps the facts; what counts as a regression and whom to tell is
//! `ward-alert`'s.

use crate::{ScanId, Store, StoreError, ts, uint};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A regression to record ([`Store::record_alert_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertEvent {
    /// Whose domain.
    pub organisation_id: String,
    /// The domain.
    pub domain: String,
    /// The check id; empty for a change of the whole domain.
    pub check: String,
    /// The scan that showed the regression.
    pub scan: ScanId,
    /// The change's kind, as in `ward changes --format json` (`worse`, …).
    pub kind: String,
    /// The status now.
    pub status: String,
    /// The severity now.
    pub severity: String,
    /// The finding's one line now.
    pub summary: String,
}

/// A stored regression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    /// Its row id.
    pub id: i64,
    /// What it is.
    pub event: NewAlertEvent,
    /// When it was first recorded.
    pub created_at: OffsetDateTime,
}

/// What became of a digest for one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered.
    Sent,
    /// Every attempt failed; the message is among the dead letters.
    Dead,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Dead => "dead",
        }
    }
}

/// One delivery attempt's end, for the events of one digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// `email` or `webhook`.
    pub channel: &'a str,
    /// The address or URL.
    pub contact: &'a str,
    /// When it ended.
    pub at: OffsetDateTime,
    /// How.
    pub outcome: Outcome,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure.
    pub error: Option<String>,
}

/// A digest that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Its row id (0 before it is stored).
    pub id: i64,
    /// Whose digest.
    pub organisation_id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or URL.
    pub contact: String,
    /// When ward gave up (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Attempts made.
    pub attempts: u64,
    /// The last failure.
    pub error: String,
    /// The message: mail text or JSON body.
    pub payload: String,
}

type EventRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
);

impl Store {
    /// Records regressions, each once: one already stored (same organisation, domain,
    /// check and scan) is left as it is. `at` is when they were first seen.
    pub async fn record_alert_events(
        &self,
        events: &[NewAlertEvent],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            for e in events {
                sqlx::query(
                    "INSERT INTO alert_events (organisation_id, domain, check_id, scan_id, kind, status, severity, summary, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (organisation_id, domain, check_id, scan_id) DO NOTHING",
                )
                .bind(&e.organisation_id)
                .bind(&e.domain)
                .bind(&e.check)
                .bind(e.scan.0)
                .bind(&e.kind)
                .bind(&e.status)
                .bind(&e.severity)
                .bind(&e.summary)
                .bind(ts(at))
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            }
            tx.commit().await.map_err(self.db())
        })
    }

    /// The events of `organisation_id` that `contact` has not had on `channel` (neither
    /// sent nor given up on), oldest first.
    pub async fn due_alert_events(
        &self,
        organisation_id: &str,
        channel: &str,
        contact: &str,
    ) -> Result<Vec<AlertEvent>, StoreError> {
        let rows: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT e.id, e.organisation_id, e.domain, e.check_id, e.scan_id, e.kind, e.status, e.severity, e.summary, e.created_at \
             FROM alert_events e WHERE e.organisation_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM alert_deliveries d WHERE d.event_id = e.id AND d.channel = $2 AND d.contact = $3) \
             ORDER BY e.id",
        )
        .bind(organisation_id)
        .bind(channel)
        .bind(contact)
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(
                |(
                    id,
                    organisation_id,
                    domain,
                    check,
                    scan,
                    kind,
                    status,
                    severity,
                    summary,
                    at,
                )| {
                    Ok(AlertEvent {
                        id,
                        event: NewAlertEvent {
                            organisation_id,
                            domain,
                            check,
                            scan: ScanId(scan),
                            kind,
                            status,
                            severity,
                            summary,
                        },
                        created_at: OffsetDateTime::parse(&at, &Rfc3339)
                            .map_err(|e| self.corrupt("alert time")(e.to_string()))?,
                    })
                },
            )
            .collect()
    }

    /// Records what became of `events` for one contact, and with a dead letter, the
    /// message given up on: all or nothing, so an event is never marked done without its
    /// dead letter.
    pub async fn record_delivery(
        &self,
        events: &[i64],
        d: &Delivery<'_>,
        dead: Option<&DeadLetter>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool, begin => {
            let mut tx = pool.begin_with(begin).await.map_err(self.db())?;
            for id in events {
                sqlx::query(
                    "INSERT INTO alert_deliveries (event_id, channel, contact, at, outcome, attempts, error) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (event_id, channel, contact) DO NOTHING",
                )
                .bind(id)
                .bind(d.channel)
                .bind(d.contact)
                .bind(ts(d.at))
                .bind(d.outcome.as_str())
                .bind(i64::from(d.attempts))
                .bind(&d.error)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            }
            if let Some(l) = dead {
                sqlx::query(
                    "INSERT INTO alert_dead_letters (organisation_id, channel, contact, at, attempts, error, payload) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&l.organisation_id)
                .bind(&l.channel)
                .bind(&l.contact)
                .bind(ts(l.at))
                .bind(l.attempts as i64)
                .bind(&l.error)
                .bind(&l.payload)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
            }
            tx.commit().await.map_err(self.db())
        })
    }

    /// Every dead letter, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        type Row = (i64, String, String, String, String, i64, String, String);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, organisation_id, channel, contact, at, attempts, error, payload \
             FROM alert_dead_letters ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(
                |(id, organisation_id, channel, contact, at, attempts, error, payload)| {
                    Ok(DeadLetter {
                        id,
                        organisation_id,
                        channel,
                        contact,
                        at: OffsetDateTime::parse(&at, &Rfc3339)
                            .map_err(|e| self.corrupt("dead letter time")(e.to_string()))?,
                        attempts: uint(attempts),
                        error,
                        payload,
                    })
                },
            )
            .collect()
    }
}
