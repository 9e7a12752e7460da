-- Consent outbox (Compliance.Consent, Art. 19): every consent event a partner must learn of is a row, written in the
-- same transaction as the ledger's leaf. The consent.webhook job pushes it to the partner's webhook as a signed
-- Security Event Token (RFC 8417), retried with backoff for 72 hours; the partner can also pull its rows after a
-- cursor (the leaf index: gapless and in commit order). A row names the partner's pairwise sub, never the internal id.
ALTER TABLE oidc_clients ADD COLUMN webhook_url character varying(2000);

CREATE TABLE consent_outbox (
    event_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    event_type character varying(64) NOT NULL,
    subject character varying(100) NOT NULL,
    purpose_id character varying(64) NOT NULL,
    leaf_index bigint NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone,
    give_up_at timestamp with time zone NOT NULL,
    attempts integer NOT NULL,
    enqueued_until timestamp with time zone,
    delivered_at timestamp with time zone,
    failed_at timestamp with time zone,
    last_error character varying(32),
    CONSTRAINT "PK_consent_outbox" PRIMARY KEY (event_id)
);

-- A partner's pull: its rows in cursor order.
CREATE UNIQUE INDEX ux_consent_outbox_client_id_leaf_index ON consent_outbox (client_id, leaf_index);

-- The reconciler's due deliveries: few, while delivered rows pile up.
CREATE INDEX ix_consent_outbox_due_at ON consent_outbox (due_at) WHERE delivered_at IS NULL;

-- The operators' list of failed deliveries.
CREATE INDEX ix_consent_outbox_failed_at ON consent_outbox (failed_at);
