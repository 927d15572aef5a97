-- Self-assessment answers (ward assess). One row per organisation per answering; the
-- newest answered_at (then the newest row) is the one reports use. Answers are a JSON
-- object of question id to "yes" | "partly" | "no" | "unsure", so a question added later
-- needs no migration.
CREATE TABLE assessments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  TEXT NOT NULL,
    answered_at      TEXT NOT NULL,   -- YYYY-MM-DD, as given by the person answering
    saved_at         TEXT NOT NULL,   -- RFC 3339, when ward stored it
    answers          TEXT NOT NULL    -- JSON object
);

CREATE INDEX assessments_by_org ON assessments (organisation_id, answered_at);
