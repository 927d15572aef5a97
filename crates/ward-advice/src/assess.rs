//! The self-assessment: questions a scan cannot answer, from the NCSC Small Business Guide,
//! Cyber Essentials and 10 Steps, asked of each organisation and stored with their date.
//!
//! Answers are `yes`, `partly`, `no` or `unsure`. The assessment score is the weighted
//! share of `yes` (a `partly` counts half; `no`, `unsure` and unanswered count nothing,
//! since not knowing is itself a gap). It joins the scan score as a fixed 30 % share
//! ([`combined_score`]).
//!
//! An answers file is TOML:
//!
//! ```toml
//! answered_at = "2026-11-20"   # optional; the day it is read otherwise
//! [answers]
//! backups = "yes"
//! mfa_everywhere = "partly"
//! ```
//!
//! Unknown keys and unknown question ids are refused with their name.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// Stable id, used in answers files and the store.
    pub id: &'static str,
    /// The topic it belongs to.
    pub topic: &'static str,
    /// The question, as asked.
    pub text: &'static str,
    /// What to do when the answer is not `yes`.
    pub todo: &'static str,
    /// Where it comes from.
    pub basis: &'static str,
    /// How much it counts: 3 for controls whose absence decided real incidents.
    pub weight: u8,
}

macro_rules! q {
    ($id:literal, $topic:literal, $w:literal, $text:literal, $todo:literal, $basis:literal) => {
        Question {
            id: $id,
            topic: $topic,
            weight: $w,
            text: $text,
            todo: $todo,
            basis: $basis,
        }
    };
}

/// Every question, in the order they are asked.
pub const QUESTIONS: &[Question] = &[
    q!(
        "backups",
        "Backups",
        3,
        "Is essential data (members, canvassing, money, email) backed up automatically, with one copy kept apart from your computers, and have you tested a restore in the last six months?",
        "Back up to a separate drive or cloud service that is not always connected, and try getting one file back each term.",
        "NCSC Small Business Guide: backing up; 10 Steps: data security. The 2021 ransomware attack on a Labour supplier made member data unreachable."
    ),
    q!(
        "antivirus",
        "Malware",
        2,
        "Is antivirus turned on and updating on every computer and laptop used for party work?",
        "Turn on the built-in protection (Microsoft Defender on Windows) and check it says it is up to date.",
        "Small Business Guide: malware; Cyber Essentials: malware protection."
    ),
    q!(
        "updates",
        "Updates",
        3,
        "Are automatic updates on for all devices, apps and routers, and are high or critical fixes installed within 14 days?",
        "Switch on automatic updates everywhere, and check monthly that nothing is stuck.",
        "Cyber Essentials: security update management (14 days). The Electoral Commission was breached through an unpatched Exchange server."
    ),
    q!(
        "unsupported",
        "Updates",
        2,
        "Is every device and program still supported by its maker (no old Windows, old phones or self-run mail servers)?",
        "Replace what no longer gets updates, or cut it off from the internet.",
        "Cyber Essentials: unsupported software must go; Small Business Guide: smartphones."
    ),
    q!(
        "mfa_everywhere",
        "Accounts",
        3,
        "Is two-step sign-in on for every online service that offers it: email, membership and voter data, website admin, mailing tools, social media and banking?",
        "Turn on two-step sign-in for each service, starting with email and the membership system.",
        "Cyber Essentials v3.3 (automatic fail without it); Small Business Guide: passwords. The 2017 Parliament brute-force attack and the DNC phishing both relied on passwords alone."
    ),
    q!(
        "mfa_strong",
        "Accounts",
        2,
        "Do the most targeted people (leader, officers, elected members, IT admins) use security keys or passkeys rather than codes?",
        "Give them security keys or passkeys, or Google Advanced Protection; codes can be phished.",
        "Star Blizzard advisory (session theft past code-based two-step); NCSC guidance for high-risk individuals."
    ),
    q!(
        "own_accounts",
        "Accounts",
        2,
        "Does everyone (staff, volunteers, agents) have their own account, with no shared logins?",
        "Give each person their own account; most services have free or cheap extra users for volunteers.",
        "Cyber Essentials: user access control."
    ),
    q!(
        "admin_separate",
        "Accounts",
        1,
        "Do administrators use a separate admin account that is never used for email or browsing?",
        "Create a second account for admin work and use the everyday one for everything else.",
        "Cyber Essentials: user access control; Small Business Guide: phishing."
    ),
    q!(
        "leavers",
        "Accounts",
        2,
        "When someone leaves or changes role, is their access removed promptly and any shared passwords changed?",
        "Keep a leavers checklist and run it the same week.",
        "Cyber Essentials: user access control; 10 Steps: identity and access management."
    ),
    q!(
        "passwords",
        "Accounts",
        2,
        "Are passwords at least 12 characters (or 8 with two-step sign-in), are default passwords changed, and is a password manager provided?",
        "Use three random words, change every default password, and offer a password manager.",
        "Cyber Essentials: password-based authentication; Small Business Guide: passwords."
    ),
    q!(
        "device_lock",
        "Devices",
        2,
        "Are laptops encrypted and screen-locked, and phones locked with a 6-digit PIN or more and set up to be found and wiped if lost?",
        "Turn on BitLocker or FileVault, a screen lock, and Find My Device on every phone.",
        "Small Business Guide: smartphones and passwords; Cyber Essentials: device unlocking."
    ),
    q!(
        "apps_usb",
        "Devices",
        1,
        "Are apps installed only from official stores, and are USB sticks and memory cards controlled?",
        "Allow only official app stores and use cloud sharing instead of USB sticks.",
        "Small Business Guide: malware."
    ),
    q!(
        "router",
        "Devices",
        2,
        "Has the office or home router's admin password been changed from the default, its firmware kept current, and remote admin turned off?",
        "Change the router password, update it, and switch off remote admin.",
        "Cyber Essentials: firewalls."
    ),
    q!(
        "phishing_training",
        "People",
        2,
        "Have staff and volunteers been shown in the last year how to spot phishing and how to report it (report@phishing.gov.uk, or text 7726)?",
        "Run a short session each year, before the campaign season.",
        "Small Business Guide: phishing; 10 Steps: engagement and training."
    ),
    q!(
        "verify_requests",
        "People",
        2,
        "Are payment requests, bank-detail changes and requests for data checked by calling back on a number you already know?",
        "Agree a call-back rule and tell treasurers and agents about it.",
        "Small Business Guide: phishing, think about how you operate."
    ),
    q!(
        "remote_images",
        "People",
        1,
        "Do mail apps block remote images by default, and are suspicious emails reported rather than just deleted?",
        "Turn off automatic image loading and tell people where to report odd mail.",
        "The 2021 APT31 tracking-pixel emails to IPAC members, including 43 UK parliamentary accounts."
    ),
    q!(
        "personal_accounts",
        "People",
        3,
        "Do elected members and candidates keep party business off personal webmail, with two-step sign-in, checked recovery details and no unknown forwarding rules on their personal accounts?",
        "Give them a party account for party work and walk through the briefing (ward brochure) with each of them.",
        "NCSC guidance for high-risk individuals; Star Blizzard; a minister's personal email was read in 2019 and trade papers leaked before the election."
    ),
    q!(
        "ncsc_services",
        "People",
        1,
        "In election periods, are candidates signed up to NCSC Personal Internet Protection and Account Registration, and is the party registered with NCSC Early Warning?",
        "Sign candidates up when nominations open, and register the party's domains and addresses with Early Warning.",
        "NCSC Active Cyber Defence services."
    ),
    q!(
        "asset_list",
        "Organisation",
        2,
        "Do you keep a list of your domains, DNS and registrar accounts, web host, cloud services and social media accounts, with who controls each?",
        "Write the list down, with at least two people able to reach each account.",
        "10 Steps: asset management; Cyber Essentials: scope."
    ),
    q!(
        "suppliers",
        "Organisation",
        2,
        "Do you know which suppliers hold your data (membership system, mailing house, printers, web agency), and do you ask them for evidence such as Cyber Essentials?",
        "List the suppliers and ask each one for their certificate or security summary.",
        "10 Steps: supply chain security. The 2021 Labour supplier ransomware attack."
    ),
    q!(
        "alerts",
        "Organisation",
        2,
        "Are sign-in alerts, admin audit logs and alerts on new mail forwarding rules switched on and looked at?",
        "Turn on the alerts in Google Workspace or Microsoft 365 and name who reads them.",
        "10 Steps: logging and monitoring; Star Blizzard set forwarding rules; the Electoral Commission intrusion went unseen for 14 months."
    ),
    q!(
        "incident_plan",
        "Organisation",
        2,
        "Do you have a written plan for an incident (who decides, NCSC and police contacts, reporting to the ICO within 72 hours, a hack-and-leak response) and have you rehearsed it before an election?",
        "Write one page with names and numbers, and walk through it once before the campaign.",
        "10 Steps: incident management; the Macron leaks and the DNC."
    ),
    q!(
        "footprint",
        "Organisation",
        1,
        "Have you reviewed what the party and its key people publish online that would help someone write a convincing phishing email?",
        "Check websites and social media for staff lists, private numbers and personal email addresses.",
        "Small Business Guide: phishing, check your digital footprint."
    ),
    q!(
        "data_minimum",
        "Organisation",
        2,
        "Do you hold only the personal data you need, deleting lapsed members' data on a set schedule?",
        "Agree a retention period and delete old records when it passes.",
        "10 Steps: data security; ex-members' data was caught up in the 2021 Labour supplier attack."
    ),
];

/// One answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// Done.
    Yes,
    /// Done in part.
    Partly,
    /// Not done.
    No,
    /// Nobody knows, which is a gap in itself.
    Unsure,
}

impl Answer {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::Partly => "partly",
            Answer::No => "no",
            Answer::Unsure => "unsure",
        }
    }

    /// Reads an answer typed at a prompt: `y`, `yes`, `p`, `partly`, `n`, `no`, `u`,
    /// `unsure`, `?`, in any case.
    pub fn parse_typed(s: &str) -> Option<Answer> {
        match s.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Some(Answer::Yes),
            "p" | "partly" => Some(Answer::Partly),
            "n" | "no" => Some(Answer::No),
            "u" | "unsure" | "?" => Some(Answer::Unsure),
            _ => None,
        }
    }

    /// Twice its share of the question's weight (`yes` 2, `partly` 1, else 0).
    fn halves(self) -> u32 {
        match self {
            Answer::Yes => 2,
            Answer::Partly => 1,
            Answer::No | Answer::Unsure => 0,
        }
    }
}

/// A set of answers from one organisation on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The day it was answered (`YYYY-MM-DD`).
    pub answered_at: String,
    /// Answers by question id.
    pub answers: BTreeMap<String, Answer>,
}

/// Why an answers file was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum AnswersError {
    /// Not valid TOML, or an unknown key; the message names it.
    Toml(String),
    /// An answer for a question that does not exist.
    UnknownQuestion(String),
    /// `answered_at` is not a `YYYY-MM-DD` date.
    BadDate(String),
}

impl std::fmt::Display for AnswersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswersError::Toml(m) => write!(f, "{m}"),
            AnswersError::UnknownQuestion(id) => {
                let ids: Vec<&str> = QUESTIONS.iter().map(|q| q.id).collect();
                write!(f, "unknown question `{id}` (known: {})", ids.join(", "))
            }
            AnswersError::BadDate(d) => write!(f, "answered_at `{d}` is not a YYYY-MM-DD date"),
        }
    }
}

impl std::error::Error for AnswersError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswersFile {
    answered_at: Option<String>,
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Reads an answers file; `today` (`YYYY-MM-DD`) is used when it gives no date.
pub fn parse_answers(text: &str, today: &str) -> Result<Assessment, AnswersError> {
    let file: AnswersFile = toml::from_str(text).map_err(|e| AnswersError::Toml(e.to_string()))?;
    if let Some(id) = file
        .answers
        .keys()
        .find(|id| !QUESTIONS.iter().any(|q| q.id == id.as_str()))
    {
        return Err(AnswersError::UnknownQuestion(id.clone()));
    }
    let answered_at = file.answered_at.unwrap_or_else(|| today.to_owned());
    if !is_date(&answered_at) {
        return Err(AnswersError::BadDate(answered_at));
    }
    Ok(Assessment {
        answered_at,
        answers: file.answers,
    })
}

impl Assessment {
    /// The answer to `id`, if given.
    pub fn answer(&self, id: &str) -> Option<Answer> {
        self.answers.get(id).copied()
    }

    /// 0 to 100: the weighted share of `yes`, with `partly` as half.
    pub fn score(&self) -> u8 {
        let total: u32 = QUESTIONS.iter().map(|q| 2 * u32::from(q.weight)).sum();
        let got: u32 = QUESTIONS
            .iter()
            .map(|q| u32::from(q.weight) * self.answer(q.id).map_or(0, Answer::halves))
            .sum();
        ((100 * got + total / 2) / total) as u8
    }

    /// The questions not answered `yes`, heaviest first, with their answer (`None` when
    /// unanswered).
    pub fn gaps(&self) -> Vec<(&'static Question, Option<Answer>)> {
        let mut gaps: Vec<(&'static Question, Option<Answer>)> = QUESTIONS
            .iter()
            .map(|q| (q, self.answer(q.id)))
            .filter(|(_, a)| *a != Some(Answer::Yes))
            .collect();
        gaps.sort_by_key(|(q, _)| std::cmp::Reverse(q.weight));
        gaps
    }

    /// The answers as a TOML answers file, which [`parse_answers`] reads back.
    pub fn to_toml(&self) -> String {
        let mut out = format!("answered_at = \"{}\"\n\n[answers]\n", self.answered_at);
        for q in QUESTIONS {
            if let Some(a) = self.answer(q.id) {
                out.push_str(&format!("{} = \"{}\"\n", q.id, a.as_str()));
            }
        }
        out
    }
}

/// The score shown for an organisation: the scan score, with the assessment as a 30 %
/// share when there is one.
pub fn combined_score(scan: Option<u8>, assessment: Option<u8>) -> Option<u8> {
    match (scan, assessment) {
        (Some(s), Some(a)) => Some(((7 * u32::from(s) + 3 * u32::from(a) + 5) / 10) as u8),
        (Some(s), None) => Some(s),
        (None, a) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_24_distinct_questions() {
        assert_eq!(QUESTIONS.len(), 24);
        let mut ids: Vec<&str> = QUESTIONS.iter().map(|q| q.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 24);
    }

    #[test]
    fn answers_file_round_trips_and_scores() {
        let a = parse_answers(
            "answered_at = \"2026-11-20\"\n[answers]\nbackups = \"yes\"\nmfa_everywhere = \"partly\"\nfootprint = \"no\"\n",
            "2026-12-01",
        )
        .unwrap();
        assert_eq!(a.answered_at, "2026-11-20");
        assert_eq!(a.answer("mfa_everywhere"), Some(Answer::Partly));
        assert_eq!(parse_answers(&a.to_toml(), "2026-12-01").unwrap(), a);
        // Total weight 47, so 94 halves; backups 3*2 + mfa 3*1 = 9 halves: 9.6, rounded 10.
        assert_eq!(
            QUESTIONS.iter().map(|q| u32::from(q.weight)).sum::<u32>(),
            47
        );
        assert_eq!(a.score(), 10);
        let gaps = a.gaps();
        assert_eq!(gaps.len(), 23);
        assert_eq!(gaps[0].0.id, "updates");
        assert_eq!(gaps[0].1, None);
    }

    #[test]
    fn everything_yes_scores_100() {
        let answers = QUESTIONS
            .iter()
            .map(|q| (q.id.to_owned(), Answer::Yes))
            .collect();
        let a = Assessment {
            answered_at: "2026-11-20".into(),
            answers,
        };
        assert_eq!(a.score(), 100);
        assert!(a.gaps().is_empty());
    }

    #[test]
    fn bad_answers_files_name_the_problem() {
        assert_eq!(
            parse_answers("[answers]\nbakups = \"yes\"\n", "2026-12-01"),
            Err(AnswersError::UnknownQuestion("bakups".into()))
        );
        assert_eq!(
            parse_answers("answered_at = \"20 Nov\"\n", "2026-12-01"),
            Err(AnswersError::BadDate("20 Nov".into()))
        );
        let Err(AnswersError::Toml(m)) = parse_answers("answerd_at = \"2026-11-20\"\n", "x") else {
            panic!("unknown key accepted");
        };
        assert!(m.contains("answerd_at"), "{m}");
        let Err(AnswersError::Toml(m)) = parse_answers("[answers]\nbackups = \"maybe\"\n", "x")
        else {
            panic!("bad answer accepted");
        };
        assert!(m.contains("maybe"), "{m}");
        // No date in the file: today's is used.
        assert_eq!(
            parse_answers("", "2026-12-01").unwrap().answered_at,
            "2026-12-01"
        );
    }

    #[test]
    fn typed_answers_and_combined_scores() {
        assert_eq!(Answer::parse_typed(" Y "), Some(Answer::Yes));
        assert_eq!(Answer::parse_typed("?"), Some(Answer::Unsure));
        assert_eq!(Answer::parse_typed("maybe"), None);
        assert_eq!(combined_score(Some(80), Some(50)), Some(71));
        assert_eq!(combined_score(Some(80), None), Some(80));
        assert_eq!(combined_score(None, Some(40)), Some(40));
        assert_eq!(combined_score(None, None), None);
    }
}
