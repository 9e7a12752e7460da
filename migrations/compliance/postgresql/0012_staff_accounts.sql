-- Staff accounts (Compliance.Oidc/Staff): administrators and DPOs, apart from patients. No pseudonym, no pairwise
-- subject; a password hash (ASP.NET Core Identity's PBKDF2) and, in account_totp / account_recovery_codes, the second
-- factor without which they cannot sign in. Their sessions are server-side rows of their own, shorter than a patient's.

CREATE TABLE staff_accounts (
    id uuid NOT NULL,
    user_name character varying(64) NOT NULL,
    normalized_user_name character varying(64) NOT NULL,
    role character varying(16) NOT NULL,
    partner_client_id character varying(100),
    password_hash character varying(512) NOT NULL,
    password_change_required boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_sign_in_at timestamp with time zone,
    CONSTRAINT "PK_staff_accounts" PRIMARY KEY (id),
    CONSTRAINT ck_staff_accounts_role CHECK (role IN ('dpo', 'admin'))
);

CREATE UNIQUE INDEX ux_staff_accounts_normalized_user_name ON staff_accounts (normalized_user_name);

CREATE TABLE staff_sessions (
    id character varying(64) NOT NULL,
    staff_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    absolute_expires_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    end_reason character varying(32),
    CONSTRAINT "PK_staff_sessions" PRIMARY KEY (id)
);

CREATE INDEX ix_staff_sessions_staff_id ON staff_sessions (staff_id);

CREATE INDEX ix_staff_sessions_absolute_expires_at ON staff_sessions (absolute_expires_at);
