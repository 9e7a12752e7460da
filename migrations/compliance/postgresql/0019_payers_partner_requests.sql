-- Payers (Compliance.Oidc): a client registered as a payer or insurer is never granted a care or special-category
-- purpose; the kind is fixed at registration. Existing clients are partners.
ALTER TABLE oidc_clients ADD COLUMN kind character varying(16) NOT NULL DEFAULT 'partner';

-- Partner-recorded consent (Compliance.Consent): one row per (partner, idempotency key), written in the same
-- transaction as the ledger events it produced, so that a replayed request returns the same events and a key reused
-- with another body is refused. request_sha256 is the SHA-256 of the canonical request; event_id the first event.
CREATE TABLE consent_partner_requests (
    client_id character varying(100) NOT NULL,
    idempotency_key character varying(100) NOT NULL,
    request_sha256 bytea NOT NULL,
    event_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT "PK_consent_partner_requests" PRIMARY KEY (client_id, idempotency_key)
);
