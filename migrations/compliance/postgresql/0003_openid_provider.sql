-- The OpenID provider (Compliance.Oidc): pseudonymous accounts (ASP.NET Core Identity), clients, remembered consents,
-- authorization codes, refresh-token families, issued access tokens, pushed requests, pairwise subjects, used client assertions.
-- Codes, refresh tokens and client secrets are stored only as SHA-256 hashes.

CREATE TABLE accounts (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_sign_in_at timestamp with time zone,
    pseudonym character varying(64),
    normalized_pseudonym character varying(64),
    password_hash character varying(512),
    security_stamp character varying(64),
    concurrency_stamp character varying(64),
    two_factor_enabled boolean NOT NULL,
    lockout_end timestamp with time zone,
    lockout_enabled boolean NOT NULL,
    access_failed_count integer NOT NULL,
    CONSTRAINT "PK_accounts" PRIMARY KEY (id)
);

CREATE TABLE oidc_authorization_codes (
    code_hash character varying(64) NOT NULL,
    issuance_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    subject_id uuid NOT NULL,
    redirect_uri character varying(2000) NOT NULL,
    scope character varying(1000) NOT NULL,
    nonce character varying(512),
    code_challenge character varying(128) NOT NULL,
    session_id character varying(64) NOT NULL,
    auth_time timestamp with time zone NOT NULL,
    acr character varying(32) NOT NULL,
    amr character varying(100) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    consumed_at timestamp with time zone,
    CONSTRAINT "PK_oidc_authorization_codes" PRIMARY KEY (code_hash)
);

CREATE TABLE oidc_clients (
    client_id character varying(100) NOT NULL,
    display_name character varying(200) NOT NULL,
    type character varying(16) NOT NULL,
    token_endpoint_auth_method character varying(32) NOT NULL,
    secret_hash character varying(64),
    jwks character varying(16000),
    jwks_uri character varying(2000),
    redirect_uris character varying(8000) NOT NULL,
    post_logout_redirect_uris character varying(8000) NOT NULL,
    allowed_scopes character varying(1000) NOT NULL,
    allowed_grant_types character varying(200) NOT NULL,
    sector_identifier_uri character varying(2000),
    sector character varying(255) NOT NULL,
    id_token_signed_response_alg character varying(16) NOT NULL,
    access_token_lifetime_seconds integer NOT NULL,
    id_token_lifetime_seconds integer NOT NULL,
    refresh_token_sliding_lifetime_seconds integer NOT NULL,
    refresh_token_absolute_lifetime_seconds integer NOT NULL,
    require_consent boolean NOT NULL,
    require_pushed_authorization_requests boolean NOT NULL,
    minimum_acr character varying(32),
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_oidc_clients" PRIMARY KEY (client_id)
);

CREATE TABLE oidc_consent_grants (
    id uuid NOT NULL,
    subject_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    scopes character varying(1000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_oidc_consent_grants" PRIMARY KEY (id)
);

CREATE TABLE oidc_issued_tokens (
    token_id character varying(64) NOT NULL,
    family_id uuid,
    client_id character varying(100) NOT NULL,
    subject_id uuid,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_oidc_issued_tokens" PRIMARY KEY (token_id)
);

CREATE TABLE oidc_pairwise_subjects (
    sector character varying(255) NOT NULL,
    subject character varying(64) NOT NULL,
    subject_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_oidc_pairwise_subjects" PRIMARY KEY (sector, subject)
);

CREATE TABLE oidc_pushed_requests (
    handle character varying(64) NOT NULL,
    client_id character varying(100) NOT NULL,
    parameters character varying(16000) NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    consumed_at timestamp with time zone,
    CONSTRAINT "PK_oidc_pushed_requests" PRIMARY KEY (handle)
);

CREATE TABLE oidc_refresh_tokens (
    token_hash character varying(64) NOT NULL,
    family_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    subject_id uuid NOT NULL,
    scope character varying(1000) NOT NULL,
    session_id character varying(64) NOT NULL,
    auth_time timestamp with time zone NOT NULL,
    acr character varying(32) NOT NULL,
    amr character varying(100) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    absolute_expires_at timestamp with time zone NOT NULL,
    consumed_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT "PK_oidc_refresh_tokens" PRIMARY KEY (token_hash)
);

CREATE TABLE oidc_used_assertions (
    assertion_hash character varying(64) NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_oidc_used_assertions" PRIMARY KEY (assertion_hash)
);

CREATE INDEX ix_accounts_last_sign_in_at ON accounts (last_sign_in_at);

CREATE UNIQUE INDEX ux_accounts_normalized_pseudonym ON accounts (normalized_pseudonym);

CREATE INDEX ix_oidc_authorization_codes_expires_at ON oidc_authorization_codes (expires_at);

CREATE INDEX ix_oidc_authorization_codes_subject_client ON oidc_authorization_codes (subject_id, client_id);

CREATE INDEX ix_oidc_consent_grants_subject_client ON oidc_consent_grants (subject_id, client_id);

CREATE INDEX ix_oidc_issued_tokens_expires_at ON oidc_issued_tokens (expires_at);

CREATE INDEX ix_oidc_issued_tokens_family_id ON oidc_issued_tokens (family_id);

CREATE INDEX ix_oidc_issued_tokens_subject_client ON oidc_issued_tokens (subject_id, client_id);

CREATE INDEX ix_oidc_pairwise_subjects_subject_id ON oidc_pairwise_subjects (subject_id);

CREATE INDEX ix_oidc_pushed_requests_expires_at ON oidc_pushed_requests (expires_at);

CREATE INDEX ix_oidc_refresh_tokens_absolute_expires_at ON oidc_refresh_tokens (absolute_expires_at);

CREATE INDEX ix_oidc_refresh_tokens_family_id ON oidc_refresh_tokens (family_id);

CREATE INDEX ix_oidc_refresh_tokens_subject_client ON oidc_refresh_tokens (subject_id, client_id);

CREATE INDEX ix_oidc_used_assertions_expires_at ON oidc_used_assertions (expires_at);
