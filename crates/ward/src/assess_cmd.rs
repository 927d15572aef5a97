//! `ward assess`: the self-assessment, asked at the terminal or read from a TOML answers
//! file, stored with its date beside the scans so reports can join it.

use crate::usage;
use anyhow::Context as _;
use clap::Args;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use ward_advice::assess::{Answer, Assessment, QUESTIONS, parse_answers};

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The organisation answering (its id in the inventory).
    #[arg(long, value_name = "ID")]
    pub org: String,
    /// Read the answers from this TOML file instead of asking (see docs/report.md).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// The store holding the scans: a SQLite file, or a PostgreSQL URL
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

/// The answers as the JSON object the store keeps.
pub fn answers_json(a: &Assessment) -> serde_json::Map<String, serde_json::Value> {
    a.answers
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.as_str().to_owned())))
        .collect()
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Asks every question on `input`, writing prompts to `output`. An empty line skips a
/// question; end of input stops early, keeping what was answered.
pub fn ask(
    input: &mut impl BufRead,
    output: &mut impl Write,
    today: &str,
) -> std::io::Result<Assessment> {
    let mut answers = std::collections::BTreeMap::new();
    writeln!(
        output,
        "{} questions. Answer y (yes), p (partly), n (no) or u (unsure); press Enter to skip.",
        QUESTIONS.len()
    )?;
    'questions: for (i, q) in QUESTIONS.iter().enumerate() {
        writeln!(
            output,
            "\n{}/{} [{}] {}",
            i + 1,
            QUESTIONS.len(),
            q.topic,
            q.text
        )?;
        loop {
            write!(output, "> ")?;
            output.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(output, "\n(end of input: keeping the answers given so far)")?;
                break 'questions;
            }
            if line.trim().is_empty() {
                break;
            }
            match Answer::parse_typed(&line) {
                Some(a) => {
                    answers.insert(q.id.to_owned(), a);
                    break;
                }
                None => writeln!(output, "Please type y, p, n or u.")?,
            }
        }
    }
    Ok(Assessment {
        answered_at: today.to_owned(),
        answers,
    })
}

pub async fn assess_cmd(args: AssessArgs) -> anyhow::Result<crate::WardExit> {
    let today = today();
    // The organisation is checked before the first question, so nobody answers twelve
    // questions only to be told the id was wrong; and a missing database is not created.
    let location = ward_store::Location::parse(&args.db);
    if let Some(path) = location.missing_file() {
        return Err(usage(format!(
            "no database at {}; run `ward scan --inventory FILE --db {}` first, or name one with --db",
            path.display(),
            path.display()
        )));
    }
    let (store, _) = ward_store::Store::open_location(&location).await?;
    let orgs = store.organisations().await?;
    if !orgs.iter().any(|o| o.id == args.org) {
        let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
        store.close().await;
        return Err(usage(format!(
            "no organisation `{}` in {} (known: {})",
            args.org,
            location,
            if ids.is_empty() {
                "none; scan an inventory first with --db".to_owned()
            } else {
                ids.join(", ")
            }
        )));
    }
    let assessment = match &args.answers {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())));
            let parsed = text.and_then(|text| {
                parse_answers(&text, &today).map_err(|e| usage(format!("{}: {e}", path.display())))
            });
            match parsed {
                Ok(a) => a,
                Err(e) => {
                    store.close().await;
                    return Err(e);
                }
            }
        }
        None => {
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            ask(&mut stdin.lock(), &mut stdout.lock(), &today)?
        }
    };
    // No answers is not an assessment: storing it would make it the newest and score the
    // organisation 0 in every report. Each stored run is a new version; older ones stay.
    if assessment.answers.is_empty() {
        store.close().await;
        eprintln!(
            "ward: no answers given; the stored self-assessment of {} is unchanged",
            args.org
        );
        return Ok(crate::WardExit::Clean);
    }
    store
        .save_assessment(
            &ward_store::StoredAssessment {
                organisation_id: args.org.clone(),
                answered_at: assessment.answered_at.clone(),
                answers: answers_json(&assessment),
            },
            time::OffsetDateTime::now_utc(),
        )
        .await
        .context("storing the answers")?;
    store.close().await;
    println!(
        "{} answers stored for {} (answered {}): self-assessment score {} out of 100.",
        assessment.answers.len(),
        args.org,
        assessment.answered_at,
        assessment.score()
    );
    let gaps = assessment.gaps();
    if !gaps.is_empty() {
        println!("Most important gaps:");
        for (q, a) in gaps.iter().take(5) {
            println!(
                "  - {} ({}): {}",
                q.id,
                a.map_or("not answered", |a| a.as_str()),
                q.todo
            );
        }
    }
    Ok(crate::WardExit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_retries_skips_and_stops_at_end_of_input() {
        let mut input = std::io::Cursor::new("y\nmaybe\nn\n\np\n");
        let mut out = Vec::new();
        let a = ask(&mut input, &mut out, "2026-11-26").unwrap();
        let got: Vec<(&str, Answer)> = a.answers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        // backups=y, antivirus: "maybe" refused then n, updates skipped, unsupported=p.
        assert_eq!(
            got,
            vec![
                ("antivirus", Answer::No),
                ("backups", Answer::Yes),
                ("unsupported", Answer::Partly)
            ]
        );
        assert_eq!(a.answered_at, "2026-11-26");
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("Please type y, p, n or u."));
        assert!(out.contains("(end of input: keeping the answers given so far)"));
    }
}
