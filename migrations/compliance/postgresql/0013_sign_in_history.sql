-- Recent sign-ins (Compliance.Oidc), shown to the patient on Account security: when, the browser family, the methods,
-- and whether the network was new for the account. No address and no user agent: a keyed hash of the /24 or /48
-- prefix, salted by the account. At most 20 rows per account.

CREATE TABLE account_sign_ins (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    signed_in_at timestamp with time zone NOT NULL,
    browser character varying(16) NOT NULL,
    methods character varying(64) NOT NULL,
    network_hash character varying(64) NOT NULL,
    new_network boolean NOT NULL,
    CONSTRAINT "PK_account_sign_ins" PRIMARY KEY (id)
);

CREATE INDEX ix_account_sign_ins_account_id_signed_in_at ON account_sign_ins (account_id, signed_in_at);
