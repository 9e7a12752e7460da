-- The consent ledger (Compliance.Consent): append-only consent events in a Merkle log hashed as RFC 9162 does.
-- Leaves (the header each leaf hash commits to) and payloads (the consent record's JSON and its salt) are separate
-- tables. Leaves and checkpoints refuse every UPDATE and DELETE; payloads accept only the UPDATE that sets the payload
-- and its salt to NULL (a redaction). The code has no other write path. Whoever drops these triggers to edit the
-- tables is caught by `compliance ledger verify`: the seal of each leaf needs a key from key custody.
-- consent_subject_events and consent_states are derived lookups, deleted with a redaction.
-- Times are integers, as DateTimeOffsetToBinaryConverter stores them.

CREATE TABLE "consent_leaves" (
    "leaf_index" INTEGER NOT NULL CONSTRAINT "PK_consent_leaves" PRIMARY KEY,
    "event_id" TEXT NOT NULL,
    "appended_at" INTEGER NOT NULL,
    "payload_commitment" BLOB NOT NULL,
    "leaf_hash" BLOB NOT NULL,
    "seal" BLOB NOT NULL,
    CONSTRAINT "ck_consent_leaves_leaf_index" CHECK (leaf_index >= 0)
);

CREATE UNIQUE INDEX "ux_consent_leaves_event_id" ON "consent_leaves" ("event_id");

CREATE TABLE "consent_payloads" (
    "event_id" TEXT NOT NULL CONSTRAINT "PK_consent_payloads" PRIMARY KEY,
    "payload" BLOB NULL,
    "salt" BLOB NULL
);

CREATE TABLE "consent_checkpoints" (
    "tree_size" INTEGER NOT NULL CONSTRAINT "PK_consent_checkpoints" PRIMARY KEY,
    "root_hash" BLOB NOT NULL,
    "signed_at" INTEGER NOT NULL,
    "key_id" TEXT NOT NULL,
    "jws" TEXT NOT NULL,
    CONSTRAINT "ck_consent_checkpoints_tree_size" CHECK (tree_size > 0)
);

CREATE TABLE "consent_subject_events" (
    "event_id" TEXT NOT NULL CONSTRAINT "PK_consent_subject_events" PRIMARY KEY,
    "subject_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "purpose_id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "notice_version" TEXT NULL,
    "occurred_at" INTEGER NOT NULL,
    "leaf_index" INTEGER NOT NULL
);

CREATE INDEX "ix_consent_subject_events_subject_id" ON "consent_subject_events" ("subject_id");

CREATE TABLE "consent_states" (
    "subject_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "purpose_id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "notice_version" TEXT NULL,
    "occurred_at" INTEGER NOT NULL,
    "expires_at" INTEGER NULL,
    CONSTRAINT "PK_consent_states" PRIMARY KEY ("subject_id", "client_id", "purpose_id")
);

CREATE INDEX "ix_consent_states_expires_at" ON "consent_states" ("expires_at");

CREATE TRIGGER "consent_leaves_no_update" BEFORE UPDATE ON "consent_leaves"
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on consent_leaves refused'); END;
CREATE TRIGGER "consent_leaves_no_delete" BEFORE DELETE ON "consent_leaves"
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on consent_leaves refused'); END;
CREATE TRIGGER "consent_checkpoints_no_update" BEFORE UPDATE ON "consent_checkpoints"
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on consent_checkpoints refused'); END;
CREATE TRIGGER "consent_checkpoints_no_delete" BEFORE DELETE ON "consent_checkpoints"
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on consent_checkpoints refused'); END;
CREATE TRIGGER "consent_payloads_redaction_only" BEFORE UPDATE ON "consent_payloads"
WHEN NOT (NEW."event_id" = OLD."event_id" AND NEW."payload" IS NULL AND NEW."salt" IS NULL)
BEGIN SELECT RAISE(ABORT, 'consent payloads accept only a redaction (payload and salt set to NULL)'); END;
CREATE TRIGGER "consent_payloads_no_delete" BEFORE DELETE ON "consent_payloads"
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on consent_payloads refused'); END;
