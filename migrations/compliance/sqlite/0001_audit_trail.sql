-- The typed audit trail (Compliance.Audit). Timestamps are DateTimeOffset binary integers, sortable.
CREATE TABLE "audit_events" (
    "id" INTEGER NOT NULL CONSTRAINT "PK_audit_events" PRIMARY KEY AUTOINCREMENT,
    "event_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "occurred_at" INTEGER NOT NULL,
    "actor" TEXT NOT NULL,
    "subject_id" TEXT NULL,
    "details" TEXT NULL
);

CREATE INDEX "ix_audit_events_event_id_occurred_at" ON "audit_events" ("event_id", "occurred_at");
CREATE INDEX "ix_audit_events_occurred_at" ON "audit_events" ("occurred_at");
CREATE INDEX "ix_audit_events_subject_id" ON "audit_events" ("subject_id");
