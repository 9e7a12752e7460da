-- Consent outbox (Compliance.Consent, Art. 19): every consent event a partner must learn of is a row, written in the
-- same transaction as the ledger's leaf. The consent.webhook job pushes it to the partner's webhook as a signed
-- Security Event Token (RFC 8417), retried with backoff for 72 hours; the partner can also pull its rows after a
-- cursor (the leaf index: gapless and in commit order). A row names the partner's pairwise sub, never the internal id.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them (always UTC here, so that they sort).
ALTER TABLE "oidc_clients" ADD COLUMN "webhook_url" TEXT NULL;

CREATE TABLE "consent_outbox" (
    "event_id" TEXT NOT NULL CONSTRAINT "PK_consent_outbox" PRIMARY KEY,
    "client_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "purpose_id" TEXT NOT NULL,
    "leaf_index" INTEGER NOT NULL,
    "occurred_at" INTEGER NOT NULL,
    "created_at" INTEGER NOT NULL,
    "due_at" INTEGER NULL,
    "give_up_at" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL,
    "enqueued_until" INTEGER NULL,
    "delivered_at" INTEGER NULL,
    "failed_at" INTEGER NULL,
    "last_error" TEXT NULL
);

-- A partner's pull: its rows in cursor order.
CREATE UNIQUE INDEX "ux_consent_outbox_client_id_leaf_index" ON "consent_outbox" ("client_id", "leaf_index");

-- The reconciler's due deliveries: few, while delivered rows pile up.
CREATE INDEX "ix_consent_outbox_due_at" ON "consent_outbox" ("due_at") WHERE "delivered_at" IS NULL;

-- The operators' list of failed deliveries.
CREATE INDEX "ix_consent_outbox_failed_at" ON "consent_outbox" ("failed_at");
