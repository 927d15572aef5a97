//! The self-assessment online: the questions no scan can answer (backups, MFA,
//! patching, phishing), answered by the organisation's editors and kept in the store
//! beside `ward assess`'s answers, with the score and the gaps to close first.

use crate::pages::{Asker, Fail, asker, editable, html, seen_org};
use crate::{App, now_ms};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use ward_advice::assess::{Answer, Assessment, QUESTIONS};
use ward_store::{AccessRole, StoredAssessment};

/// The answers one may give, in the order shown.
const CHOICES: [Answer; 4] = [Answer::Yes, Answer::Partly, Answer::No, Answer::Unsure];

/// One question on the page.
#[derive(Serialize)]
pub(crate) struct QuestionRow {
    pub(crate) id: &'static str,
    pub(crate) topic: &'static str,
    pub(crate) text: &'static str,
    /// (value, label, chosen) for each answer.
    pub(crate) choices: Vec<(&'static str, &'static str, bool)>,
}

/// A gap: a question not answered yes, with what to do.
#[derive(Serialize)]
pub(crate) struct GapRow {
    pub(crate) topic: &'static str,
    pub(crate) answer: &'static str,
    pub(crate) todo: &'static str,
}

fn label(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "Yes",
        Answer::Partly => "Partly",
        Answer::No => "No",
        Answer::Unsure => "Not sure",
    }
}

/// The newest stored answers of `org`.
async fn latest(app: &App, org: &str) -> Result<Option<Assessment>, Fail> {
    let stored = app.store.latest_assessments().await?;
    Ok(stored
        .into_iter()
        .find(|a| a.organisation_id == org)
        .map(|a| Assessment {
            answered_at: a.answered_at,
            answers: a
                .answers
                .into_iter()
                .filter_map(|(k, v)| {
                    let a = v.as_str().and_then(Answer::parse_typed)?;
                    Some((k, a))
                })
                .collect(),
        }))
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    email: String,
    csrf: String,
    id: String,
    name: String,
    can_edit: bool,
    answered_at: Option<String>,
    score: Option<u8>,
    questions: Vec<QuestionRow>,
    gaps: Vec<GapRow>,
}

fn rows(a: Option<&Assessment>) -> (Vec<QuestionRow>, Vec<GapRow>) {
    let questions = QUESTIONS
        .iter()
        .map(|q| {
            let given = a.and_then(|a| a.answer(q.id));
            QuestionRow {
                id: q.id,
                topic: q.topic,
                text: q.text,
                choices: CHOICES
                    .iter()
                    .map(|c| (c.as_str(), label(*c), given == Some(*c)))
                    .collect(),
            }
        })
        .collect();
    let gaps = a
        .map(|a| {
            a.gaps()
                .into_iter()
                .map(|(q, given)| GapRow {
                    topic: q.topic,
                    answer: given.map_or("not answered", label),
                    todo: q.todo,
                })
                .collect()
        })
        .unwrap_or_default();
    (questions, gaps)
}

pub(crate) async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who: Asker = asker(&app, &headers, false).await?;
    let (org, _, role) = seen_org(&app, &who, &id).await?;
    let a = latest(&app, &org.id).await?;
    let (questions, gaps) = rows(a.as_ref());
    Ok(html(&AssessmentPage {
        email: who.user.email,
        csrf: who.csrf.unwrap_or_default(),
        id: org.id,
        name: org.name,
        can_edit: role >= AccessRole::Editor,
        answered_at: a.as_ref().map(|a| a.answered_at.clone()),
        score: a.as_ref().map(Assessment::score),
        questions,
        gaps,
    }))
}

pub(crate) async fn api(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let who = asker(&app, &headers, true).await?;
    let (org, _, _) = seen_org(&app, &who, &id).await?;
    let a = latest(&app, &org.id).await?;
    let (questions, gaps) = rows(a.as_ref());
    Ok(axum::Json(serde_json::json!({
        "organisation": org.id,
        "answered_at": a.as_ref().map(|a| a.answered_at.clone()),
        "score": a.as_ref().map(Assessment::score),
        "answers": a.as_ref().map(|a| &a.answers),
        "questions": questions.iter().map(|q| serde_json::json!({"id": q.id, "topic": q.topic, "text": q.text})).collect::<Vec<_>>(),
        "gaps": gaps,
    }))
    .into_response())
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) async fn answer(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    let (who, org) = editable(&app, &headers, &csrf, &id).await?;
    let mut answers = BTreeMap::new();
    for (k, v) in &form {
        if k == "csrf" {
            continue;
        }
        if !QUESTIONS.iter().any(|q| q.id == k) {
            return Err(Fail::Invalid(format!(
                "The form asked about \"{k}\", which is not one of the questions. Reload the page and answer again."
            )));
        }
        let a = Answer::parse_typed(v).ok_or_else(|| {
            Fail::Invalid(format!(
                "\"{v}\" is not an answer (yes, partly, no or not sure)."
            ))
        })?;
        answers.insert(k.clone(), a);
    }
    let a = Assessment {
        answered_at: today(),
        answers,
    };
    app.store
        .save_assessment(
            &StoredAssessment {
                organisation_id: org.id.clone(),
                answered_at: a.answered_at.clone(),
                answers: a
                    .answers
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.as_str().to_owned())))
                    .collect(),
            },
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    app.store
        .audit(
            now_ms(),
            &who.user.email,
            "assessment",
            &format!(
                "{}: {} answer(s), score {}",
                org.id,
                a.answers.len(),
                a.score()
            ),
        )
        .await?;
    Ok(Redirect::to(&format!("/org/{}/assessment", org.id)).into_response())
}
