-- Consent: the domains each organisation has claimed, and whether its proof (a TXT
-- record at _ward-challenge.<domain>, or a file under /.well-known/) was there at the
-- last look. In service mode only verified domains are scanned.
CREATE TABLE domain_claims (
    domain           TEXT COLLATE "C" PRIMARY KEY,
    organisation_id  TEXT COLLATE "C" NOT NULL,
    token            TEXT NOT NULL,
    roles            TEXT NOT NULL,   -- what the domain is for: mail,web or parked
    state            TEXT NOT NULL CHECK (state IN ('waiting', 'verified', 'lost')),
    method           TEXT,            -- 'dns' or 'well-known', as last proved
    detail           TEXT NOT NULL,   -- what the last look found
    created_ms       BIGINT NOT NULL,
    checked_ms       BIGINT,
    verified_ms      BIGINT
);
CREATE INDEX domain_claims_by_organisation ON domain_claims (organisation_id);
