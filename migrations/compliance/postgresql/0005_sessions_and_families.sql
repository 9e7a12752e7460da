-- Server-side sign-in sessions (revocable by id, seen by every node), the partners that received an ID token in each
-- session (told through OIDC Back-Channel Logout when it ends), the outbox of those logout deliveries, and token
-- families: a family revoked is recorded, and no token is inserted into a revoked family.

CREATE TABLE oidc_sessions (
    id character varying(64) NOT NULL,
    subject_id uuid NOT NULL,
    auth_time timestamp with time zone NOT NULL,
    acr character varying(32) NOT NULL,
    amr character varying(100) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    absolute_expires_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    end_reason character varying(32),
    CONSTRAINT "PK_oidc_sessions" PRIMARY KEY (id)
);

CREATE TABLE oidc_session_clients (
    session_id character varying(64) NOT NULL,
    client_id character varying(100) NOT NULL,
    CONSTRAINT "PK_oidc_session_clients" PRIMARY KEY (session_id, client_id)
);

CREATE TABLE oidc_logout_deliveries (
    id uuid NOT NULL,
    session_id character varying(64) NOT NULL,
    client_id character varying(100) NOT NULL,
    subject_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    attempts integer NOT NULL,
    delivered_at timestamp with time zone,
    failed_at timestamp with time zone,
    last_error character varying(200),
    CONSTRAINT "PK_oidc_logout_deliveries" PRIMARY KEY (id)
);

CREATE TABLE oidc_token_families (
    family_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    subject_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_oidc_token_families" PRIMARY KEY (family_id)
);

CREATE INDEX ix_oidc_sessions_last_seen_at ON oidc_sessions (last_seen_at);

CREATE INDEX ix_oidc_sessions_subject_id ON oidc_sessions (subject_id);

CREATE INDEX ix_oidc_sessions_absolute_expires_at ON oidc_sessions (absolute_expires_at);

CREATE INDEX ix_oidc_logout_deliveries_next_attempt_at ON oidc_logout_deliveries (next_attempt_at);

CREATE INDEX ix_oidc_token_families_subject_client ON oidc_token_families (subject_id, client_id);

-- Families for what was issued before this migration, so that existing refresh tokens keep working.
INSERT INTO oidc_token_families (family_id, client_id, subject_id, created_at)
SELECT family_id, client_id, subject_id, MIN(created_at) FROM oidc_refresh_tokens GROUP BY family_id, client_id, subject_id;

INSERT INTO oidc_token_families (family_id, client_id, subject_id, created_at)
SELECT issuance_id, client_id, subject_id, MIN(created_at) FROM oidc_authorization_codes c
WHERE NOT EXISTS (SELECT 1 FROM oidc_token_families f WHERE f.family_id = c.issuance_id)
GROUP BY issuance_id, client_id, subject_id;
