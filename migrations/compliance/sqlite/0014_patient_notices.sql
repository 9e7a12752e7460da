-- Patient notices (Compliance.Jobs): what other features tell an account (break-glass access, a request received,
-- extended or completed, a partner's erasure), posted now or for later and made visible by the notice.delivery job.
-- Structured facts only: a kind, a partner's client id, a request's reference, dates. No civil identity, no free text.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them (always UTC here, so that they sort).

CREATE TABLE "notices" (
    "id" TEXT NOT NULL CONSTRAINT "PK_notices" PRIMARY KEY,
    "account_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "client_id" TEXT NULL,
    "request_id" TEXT NULL,
    "occurred_at" INTEGER NULL,
    "deadline_at" INTEGER NULL,
    "created_at" INTEGER NOT NULL,
    "due_at" INTEGER NOT NULL,
    "delivered_at" INTEGER NULL,
    "read_at" INTEGER NULL,
    "enqueued_until" INTEGER NULL
);

-- The patient's list and unread count.
CREATE INDEX "ix_notices_account_id_delivered_at" ON "notices" ("account_id", "delivered_at");

-- The reconciler's due notices: few, while delivered ones pile up.
CREATE INDEX "ix_notices_due_at" ON "notices" ("due_at") WHERE "delivered_at" IS NULL;
