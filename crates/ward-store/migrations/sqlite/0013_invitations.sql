-- ward serve: invitations by one-time link. Only the SHA-256 digest of the link's token
-- is kept; a link works once, before it expires.
CREATE TABLE invitations (
    token_hash       TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    organisation_id  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    invited_by       TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    expires_ms       INTEGER NOT NULL,
    used_ms          INTEGER
);
