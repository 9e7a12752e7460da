-- Key custody (Compliance.Keys): token signing keys and keyed-hash secrets, stored only wrapped by the KEK.
-- Timestamps are DateTimeOffset binary integers, sortable. See the PostgreSQL script for the concurrency rules.
CREATE TABLE "signing_keys" (
    "key_id" TEXT NOT NULL CONSTRAINT "PK_signing_keys" PRIMARY KEY,
    "algorithm" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "activates_at" INTEGER NOT NULL,
    "kek_id" TEXT NOT NULL,
    "kek_algorithm" TEXT NOT NULL,
    "wrapped_private_key" BLOB NOT NULL,
    CONSTRAINT "ck_signing_keys_algorithm" CHECK (algorithm IN ('ES256', 'RS256')),
    CONSTRAINT "ck_signing_keys_generation" CHECK (generation >= 0)
);

CREATE UNIQUE INDEX "ux_signing_keys_algorithm_generation" ON "signing_keys" ("algorithm", "generation");
CREATE INDEX "ix_signing_keys_kek_id" ON "signing_keys" ("kek_id");

CREATE TABLE "keyed_hash_secrets" (
    "purpose" TEXT NOT NULL CONSTRAINT "PK_keyed_hash_secrets" PRIMARY KEY,
    "created_at" INTEGER NOT NULL,
    "kek_id" TEXT NOT NULL,
    "kek_algorithm" TEXT NOT NULL,
    "wrapped_secret" BLOB NOT NULL
);

CREATE INDEX "ix_keyed_hash_secrets_kek_id" ON "keyed_hash_secrets" ("kek_id");
