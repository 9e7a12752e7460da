-- The per-pseudonym sign-in throttle (Compliance.Oidc): attempts counted atomically in the store, so that the limit holds
-- under parallel attempts and across nodes. Rows are keyed by a keyed hash (HMAC) of the normalized pseudonym: no pseudonym here.

CREATE TABLE sign_in_throttle (
    pseudonym_hash character varying(64) NOT NULL,
    failures integer NOT NULL,
    window_start timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT "PK_sign_in_throttle" PRIMARY KEY (pseudonym_hash)
);

CREATE INDEX ix_sign_in_throttle_window_start ON sign_in_throttle (window_start);
