-- Server-side sign-in sessions (revocable by id, seen by every node), the partners that received an ID token in each
-- session (told through OIDC Back-Channel Logout when it ends), the outbox of those logout deliveries, and token
-- families: a family revoked is recorded, and no token is inserted into a revoked family.

CREATE TABLE "oidc_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_oidc_sessions" PRIMARY KEY,
    "subject_id" TEXT NOT NULL,
    "auth_time" INTEGER NOT NULL,
    "acr" TEXT NOT NULL,
    "amr" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "last_seen_at" INTEGER NOT NULL,
    "absolute_expires_at" INTEGER NOT NULL,
    "ended_at" INTEGER NULL,
    "end_reason" TEXT NULL
);

CREATE TABLE "oidc_session_clients" (
    "session_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    CONSTRAINT "PK_oidc_session_clients" PRIMARY KEY ("session_id", "client_id")
);

CREATE TABLE "oidc_logout_deliveries" (
    "id" TEXT NOT NULL CONSTRAINT "PK_oidc_logout_deliveries" PRIMARY KEY,
    "session_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "next_attempt_at" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL,
    "delivered_at" INTEGER NULL,
    "failed_at" INTEGER NULL,
    "last_error" TEXT NULL
);

CREATE TABLE "oidc_token_families" (
    "family_id" TEXT NOT NULL CONSTRAINT "PK_oidc_token_families" PRIMARY KEY,
    "client_id" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "revoked_at" INTEGER NULL
);

CREATE INDEX "ix_oidc_sessions_last_seen_at" ON "oidc_sessions" ("last_seen_at");

CREATE INDEX "ix_oidc_sessions_subject_id" ON "oidc_sessions" ("subject_id");

CREATE INDEX "ix_oidc_sessions_absolute_expires_at" ON "oidc_sessions" ("absolute_expires_at");

CREATE INDEX "ix_oidc_logout_deliveries_next_attempt_at" ON "oidc_logout_deliveries" ("next_attempt_at");

CREATE INDEX "ix_oidc_token_families_subject_client" ON "oidc_token_families" ("subject_id", "client_id");

-- Families for what was issued before this migration, so that existing refresh tokens keep working.
INSERT INTO oidc_token_families (family_id, client_id, subject_id, created_at)
SELECT family_id, client_id, subject_id, MIN(created_at) FROM oidc_refresh_tokens GROUP BY family_id, client_id, subject_id;

INSERT INTO oidc_token_families (family_id, client_id, subject_id, created_at)
SELECT issuance_id, client_id, subject_id, MIN(created_at) FROM oidc_authorization_codes c
WHERE NOT EXISTS (SELECT 1 FROM oidc_token_families f WHERE f.family_id = c.issuance_id)
GROUP BY issuance_id, client_id, subject_id;
