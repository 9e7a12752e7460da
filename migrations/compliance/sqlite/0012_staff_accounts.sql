-- Staff accounts (Compliance.Oidc/Staff): administrators and DPOs, apart from patients. No pseudonym, no pairwise
-- subject; a password hash (ASP.NET Core Identity's PBKDF2) and, in account_totp / account_recovery_codes, the second
-- factor without which they cannot sign in. Their sessions are server-side rows of their own, shorter than a patient's.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them.

CREATE TABLE "staff_accounts" (
    "id" TEXT NOT NULL CONSTRAINT "PK_staff_accounts" PRIMARY KEY,
    "user_name" TEXT NOT NULL,
    "normalized_user_name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "partner_client_id" TEXT NULL,
    "password_hash" TEXT NOT NULL,
    "password_change_required" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "last_sign_in_at" INTEGER NULL,
    CONSTRAINT "ck_staff_accounts_role" CHECK (role IN ('dpo', 'admin'))
);

CREATE UNIQUE INDEX "ux_staff_accounts_normalized_user_name" ON "staff_accounts" ("normalized_user_name");

CREATE TABLE "staff_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "PK_staff_sessions" PRIMARY KEY,
    "staff_id" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "last_seen_at" INTEGER NOT NULL,
    "absolute_expires_at" INTEGER NOT NULL,
    "ended_at" INTEGER NULL,
    "end_reason" TEXT NULL
);

CREATE INDEX "ix_staff_sessions_staff_id" ON "staff_sessions" ("staff_id");

CREATE INDEX "ix_staff_sessions_absolute_expires_at" ON "staff_sessions" ("absolute_expires_at");
