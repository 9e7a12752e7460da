-- The civil identity vault (Compliance.Vault): sealed identities and the trace of every access to them.
CREATE TABLE "identity_records" (
    "subject_link" TEXT NOT NULL CONSTRAINT "PK_identity_records" PRIMARY KEY,
    "status" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "wrapped_data_key" BLOB NOT NULL,
    "ciphertext" BLOB NOT NULL,
    "created_at" INTEGER NOT NULL,
    "updated_at" INTEGER NOT NULL,
    CONSTRAINT "ck_identity_records_status" CHECK (status IN ('PROV', 'VALI', 'RECUP', 'QUAL'))
);

CREATE INDEX "ix_identity_records_key_id" ON "identity_records" ("key_id");

CREATE TABLE "access_traces" (
    "id" INTEGER NOT NULL CONSTRAINT "PK_access_traces" PRIMARY KEY AUTOINCREMENT,
    "subject_link" TEXT NOT NULL,
    "occurred_at" INTEGER NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "data_categories" TEXT NOT NULL,
    "reason" TEXT NULL,
    "break_glass" INTEGER NOT NULL,
    CONSTRAINT "ck_access_traces_break_glass_reason" CHECK (NOT break_glass OR reason IS NOT NULL)
);

CREATE INDEX "ix_access_traces_occurred_at" ON "access_traces" ("occurred_at");
CREATE INDEX "ix_access_traces_subject_link_occurred_at" ON "access_traces" ("subject_link", "occurred_at");
