-- The per-pseudonym sign-in throttle (Compliance.Oidc): attempts counted atomically in the store, so that the limit holds
-- under parallel attempts and across nodes. Rows are keyed by a keyed hash (HMAC) of the normalized pseudonym: no pseudonym here.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them.

CREATE TABLE "sign_in_throttle" (
    "pseudonym_hash" TEXT NOT NULL CONSTRAINT "PK_sign_in_throttle" PRIMARY KEY,
    "failures" INTEGER NOT NULL,
    "window_start" INTEGER NOT NULL,
    "locked_until" INTEGER NULL
);

CREATE INDEX "ix_sign_in_throttle_window_start" ON "sign_in_throttle" ("window_start");
