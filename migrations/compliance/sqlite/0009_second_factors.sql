-- The TOTP second factor (RFC 6238) of an account (Compliance.Oidc): its key sealed by Data Protection, never in
-- clear, and the last accepted time step, moved forward by one conditional update so that a code is accepted once
-- across every node. Recovery codes: kept as keyed hashes (HMAC under a custody-held secret), each used once.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them.

CREATE TABLE "account_totp" (
    "account_id" TEXT NOT NULL CONSTRAINT "PK_account_totp" PRIMARY KEY,
    "protected_secret" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "confirmed_at" INTEGER NULL,
    "last_time_step" INTEGER NOT NULL
);

CREATE TABLE "account_recovery_codes" (
    "account_id" TEXT NOT NULL,
    "code_hash" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL,
    "used_at" INTEGER NULL,
    CONSTRAINT "PK_account_recovery_codes" PRIMARY KEY ("account_id", "code_hash")
);
