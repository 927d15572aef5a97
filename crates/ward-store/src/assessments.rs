//! Self-assessment answers. The store keeps them as a JSON object per organisation and
//! date; what the questions mean belongs to `ward-advice`, which sits above this crate.

use crate::{Store, StoreError, ts};
use time::OffsetDateTime;

/// One stored set of answers.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAssessment {
    /// Whose.
    pub organisation_id: String,
    /// The day it was answered (`YYYY-MM-DD`).
    pub answered_at: String,
    /// Question id to answer.
    pub answers: serde_json::Map<String, serde_json::Value>,
}

impl Store {
    /// Stores one set of answers; `saved_at` is when it was stored.
    pub async fn save_assessment(
        &self,
        a: &StoredAssessment,
        saved_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let answers = serde_json::Value::Object(a.answers.clone()).to_string();
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO assessments (organisation_id, answered_at, saved_at, answers) VALUES ($1, $2, $3, $4)",
        )
        .bind(&a.organisation_id)
        .bind(&a.answered_at)
        .bind(ts(saved_at))
        .bind(&answers)
        .execute(pool)
        .await
        .map_err(self.db())
        .map(drop))?;
        Ok(())
    }

    /// The newest answers of each organisation, by organisation id.
    pub async fn latest_assessments(&self) -> Result<Vec<StoredAssessment>, StoreError> {
        let rows: Vec<(String, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT organisation_id, answered_at, answers FROM assessments a
             WHERE id = (SELECT id FROM assessments b WHERE b.organisation_id = a.organisation_id
                         ORDER BY answered_at DESC, id DESC LIMIT 1)
             ORDER BY organisation_id",
        )
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(|(organisation_id, answered_at, text)| {
                let answers = match serde_json::from_str(&text) {
                    Ok(serde_json::Value::Object(m)) => m,
                    Ok(_) => return Err(self.corrupt("assessment")("not a JSON object".into())),
                    Err(e) => return Err(self.corrupt("assessment")(e.to_string())),
                };
                Ok(StoredAssessment {
                    organisation_id,
                    answered_at,
                    answers,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect()
    }

    #[tokio::test]
    async fn newest_answers_win_per_organisation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("a.db")).await.unwrap();
        let now = time::macros::datetime!(2026-11-26 01:00 UTC);
        let save = |org: &str, day: &str, a| StoredAssessment {
            organisation_id: org.into(),
            answered_at: day.into(),
            answers: a,
        };
        let old = save("b1", "2026-10-01", answers(&[("backups", "no")]));
        let new = save("b1", "2026-11-01", answers(&[("backups", "yes")]));
        let other = save("b2", "2026-09-01", answers(&[("alerts", "partly")]));
        // Stored out of date order: the answering date decides, not the order of saving.
        for a in [&new, &old, &other] {
            store.save_assessment(a, now).await.unwrap();
        }
        assert_eq!(store.latest_assessments().await.unwrap(), vec![new, other]);
    }
}
