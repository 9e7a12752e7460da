-- The OpenID provider (Compliance.Oidc): pseudonymous accounts (ASP.NET Core Identity), clients, remembered consents,
-- authorization codes, refresh-token families, issued access tokens, pushed requests, pairwise subjects, used client assertions.
-- Codes, refresh tokens and client secrets are stored only as SHA-256 hashes.

CREATE TABLE "accounts" (
    "id" TEXT NOT NULL CONSTRAINT "PK_accounts" PRIMARY KEY,
    "created_at" INTEGER NOT NULL,
    "last_sign_in_at" INTEGER NULL,
    "pseudonym" TEXT NULL,
    "normalized_pseudonym" TEXT NULL,
    "password_hash" TEXT NULL,
    "security_stamp" TEXT NULL,
    "concurrency_stamp" TEXT NULL,
    "two_factor_enabled" INTEGER NOT NULL,
    "lockout_end" INTEGER NULL,
    "lockout_enabled" INTEGER NOT NULL,
    "access_failed_count" INTEGER NOT NULL
);

CREATE TABLE "oidc_authorization_codes" (
    "code_hash" TEXT NOT NULL CONSTRAINT "PK_oidc_authorization_codes" PRIMARY KEY,
    "issuance_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "redirect_uri" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "nonce" TEXT NULL,
    "code_challenge" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "auth_time" INTEGER NOT NULL,
    "acr" TEXT NOT NULL,
    "amr" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "expires_at" INTEGER NOT NULL,
    "consumed_at" INTEGER NULL
);

CREATE TABLE "oidc_clients" (
    "client_id" TEXT NOT NULL CONSTRAINT "PK_oidc_clients" PRIMARY KEY,
    "display_name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "token_endpoint_auth_method" TEXT NOT NULL,
    "secret_hash" TEXT NULL,
    "jwks" TEXT NULL,
    "jwks_uri" TEXT NULL,
    "redirect_uris" TEXT NOT NULL,
    "post_logout_redirect_uris" TEXT NOT NULL,
    "allowed_scopes" TEXT NOT NULL,
    "allowed_grant_types" TEXT NOT NULL,
    "sector_identifier_uri" TEXT NULL,
    "sector" TEXT NOT NULL,
    "id_token_signed_response_alg" TEXT NOT NULL,
    "access_token_lifetime_seconds" INTEGER NOT NULL,
    "id_token_lifetime_seconds" INTEGER NOT NULL,
    "refresh_token_sliding_lifetime_seconds" INTEGER NOT NULL,
    "refresh_token_absolute_lifetime_seconds" INTEGER NOT NULL,
    "require_consent" INTEGER NOT NULL,
    "require_pushed_authorization_requests" INTEGER NOT NULL,
    "minimum_acr" TEXT NULL,
    "created_at" INTEGER NOT NULL
);

CREATE TABLE "oidc_consent_grants" (
    "id" TEXT NOT NULL CONSTRAINT "PK_oidc_consent_grants" PRIMARY KEY,
    "subject_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    "revoked_at" INTEGER NULL
);

CREATE TABLE "oidc_issued_tokens" (
    "token_id" TEXT NOT NULL CONSTRAINT "PK_oidc_issued_tokens" PRIMARY KEY,
    "family_id" TEXT NULL,
    "client_id" TEXT NOT NULL,
    "subject_id" TEXT NULL,
    "expires_at" INTEGER NOT NULL,
    "revoked_at" INTEGER NULL
);

CREATE TABLE "oidc_pairwise_subjects" (
    "sector" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    CONSTRAINT "PK_oidc_pairwise_subjects" PRIMARY KEY ("sector", "subject")
);

CREATE TABLE "oidc_pushed_requests" (
    "handle" TEXT NOT NULL CONSTRAINT "PK_oidc_pushed_requests" PRIMARY KEY,
    "client_id" TEXT NOT NULL,
    "parameters" TEXT NOT NULL,
    "expires_at" INTEGER NOT NULL,
    "consumed_at" INTEGER NULL
);

CREATE TABLE "oidc_refresh_tokens" (
    "token_hash" TEXT NOT NULL CONSTRAINT "PK_oidc_refresh_tokens" PRIMARY KEY,
    "family_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "auth_time" INTEGER NOT NULL,
    "acr" TEXT NOT NULL,
    "amr" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "expires_at" INTEGER NOT NULL,
    "absolute_expires_at" INTEGER NOT NULL,
    "consumed_at" INTEGER NULL,
    "revoked_at" INTEGER NULL
);

CREATE TABLE "oidc_used_assertions" (
    "assertion_hash" TEXT NOT NULL CONSTRAINT "PK_oidc_used_assertions" PRIMARY KEY,
    "expires_at" INTEGER NOT NULL
);

CREATE INDEX "ix_accounts_last_sign_in_at" ON "accounts" ("last_sign_in_at");

CREATE UNIQUE INDEX "ux_accounts_normalized_pseudonym" ON "accounts" ("normalized_pseudonym");

CREATE INDEX "ix_oidc_authorization_codes_expires_at" ON "oidc_authorization_codes" ("expires_at");

CREATE INDEX "ix_oidc_authorization_codes_subject_client" ON "oidc_authorization_codes" ("subject_id", "client_id");

CREATE INDEX "ix_oidc_consent_grants_subject_client" ON "oidc_consent_grants" ("subject_id", "client_id");

CREATE INDEX "ix_oidc_issued_tokens_expires_at" ON "oidc_issued_tokens" ("expires_at");

CREATE INDEX "ix_oidc_issued_tokens_family_id" ON "oidc_issued_tokens" ("family_id");

CREATE INDEX "ix_oidc_issued_tokens_subject_client" ON "oidc_issued_tokens" ("subject_id", "client_id");

CREATE INDEX "ix_oidc_pairwise_subjects_subject_id" ON "oidc_pairwise_subjects" ("subject_id");

CREATE INDEX "ix_oidc_pushed_requests_expires_at" ON "oidc_pushed_requests" ("expires_at");

CREATE INDEX "ix_oidc_refresh_tokens_absolute_expires_at" ON "oidc_refresh_tokens" ("absolute_expires_at");

CREATE INDEX "ix_oidc_refresh_tokens_family_id" ON "oidc_refresh_tokens" ("family_id");

CREATE INDEX "ix_oidc_refresh_tokens_subject_client" ON "oidc_refresh_tokens" ("subject_id", "client_id");

CREATE INDEX "ix_oidc_used_assertions_expires_at" ON "oidc_used_assertions" ("expires_at");
