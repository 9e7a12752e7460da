-- The TOTP second factor (RFC 6238) of an account (Compliance.Oidc): its key sealed by Data Protection, never in
-- clear, and the last accepted time step, moved forward by one conditional update so that a code is accepted once
-- across every node. Recovery codes: kept as keyed hashes (HMAC under a custody-held secret), each used once.

CREATE TABLE account_totp (
    account_id uuid NOT NULL,
    protected_secret character varying(1000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    confirmed_at timestamp with time zone,
    last_time_step bigint NOT NULL,
    CONSTRAINT "PK_account_totp" PRIMARY KEY (account_id)
);

CREATE TABLE account_recovery_codes (
    account_id uuid NOT NULL,
    code_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT "PK_account_recovery_codes" PRIMARY KEY (account_id, code_hash)
);
