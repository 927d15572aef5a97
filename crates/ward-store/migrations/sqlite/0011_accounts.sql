-- ward serve: local accounts, their roles over subtrees of the organisation tree,
-- sessions and API tokens (only their SHA-256 digests are kept), and the audit log.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,   -- argon2id, PHC string
    created_ms     INTEGER NOT NULL
);

-- A role at an organisation covers it and everything below it.
CREATE TABLE memberships (
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organisation_id  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    PRIMARY KEY (user_id, organisation_id)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,      -- an email, or "cli"
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
