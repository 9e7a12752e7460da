-- Attestation keys (Compliance.Keys): the keys that sign the consent ledger's checkpoints and receipts. Rows are never
-- deleted; retiring a key destroys its private half. See the PostgreSQL script for the rules.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them (always UTC here, so that they sort).
CREATE TABLE "attestation_keys" (
    "key_id" TEXT NOT NULL CONSTRAINT "PK_attestation_keys" PRIMARY KEY,
    "algorithm" TEXT NOT NULL,
    "public_jwk" TEXT NOT NULL,
    "valid_from" INTEGER NOT NULL,
    "retired_at" INTEGER NULL,
    "compromised_from" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "kek_id" TEXT NULL,
    "kek_algorithm" TEXT NULL,
    "wrapped_private_key" BLOB NULL,
    CONSTRAINT "ck_attestation_keys_algorithm" CHECK (algorithm = 'ES256'),
    CONSTRAINT "ck_attestation_keys_private_key" CHECK ((retired_at IS NOT NULL OR wrapped_private_key IS NOT NULL) AND ((wrapped_private_key IS NULL) = (kek_id IS NULL)))
);

CREATE UNIQUE INDEX "ux_attestation_keys_current" ON "attestation_keys" ("algorithm") WHERE retired_at IS NULL;
CREATE INDEX "ix_attestation_keys_kek_id" ON "attestation_keys" ("kek_id");
