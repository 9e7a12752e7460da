-- Patient notices (Compliance.Jobs): what other features tell an account (break-glass access, a request received,
-- extended or completed, a partner's erasure), posted now or for later and made visible by the notice.delivery job.
-- Structured facts only: a kind, a partner's client id, a request's reference, dates. No civil identity, no free text.

CREATE TABLE notices (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    kind character varying(32) NOT NULL,
    client_id character varying(100),
    request_id uuid,
    occurred_at timestamp with time zone,
    deadline_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone NOT NULL,
    delivered_at timestamp with time zone,
    read_at timestamp with time zone,
    enqueued_until timestamp with time zone,
    CONSTRAINT "PK_notices" PRIMARY KEY (id)
);

-- The patient's list and unread count.
CREATE INDEX ix_notices_account_id_delivered_at ON notices (account_id, delivered_at);

-- The reconciler's due notices: few, while delivered ones pile up.
CREATE INDEX ix_notices_due_at ON notices (due_at) WHERE delivered_at IS NULL;
