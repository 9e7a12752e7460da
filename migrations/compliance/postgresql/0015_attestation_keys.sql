-- Attestation keys (Compliance.Keys): the keys that sign the consent ledger's checkpoints and receipts, apart from the
-- token signing keys and rotated on their own schedule. Rows are never deleted: a receipt must still verify, offline,
-- years after its key was retired, so every public key stays published with its validity period. Retiring a key
-- destroys its private half (wrapped_private_key and its kek_id set to null). The partial unique index allows one
-- current key (retired_at IS NULL): two nodes creating the first key, or rotating, at once end with one.
CREATE TABLE attestation_keys (
    key_id character varying(64) NOT NULL,
    algorithm character varying(8) NOT NULL,
    public_jwk character varying(1024) NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    retired_at timestamp with time zone,
    compromised_from timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    kek_id character varying(256),
    kek_algorithm character varying(32),
    wrapped_private_key bytea,
    CONSTRAINT "PK_attestation_keys" PRIMARY KEY (key_id),
    CONSTRAINT ck_attestation_keys_algorithm CHECK (algorithm = 'ES256'),
    CONSTRAINT ck_attestation_keys_private_key CHECK ((retired_at IS NOT NULL OR wrapped_private_key IS NOT NULL) AND ((wrapped_private_key IS NULL) = (kek_id IS NULL)))
);

CREATE UNIQUE INDEX ux_attestation_keys_current ON attestation_keys (algorithm) WHERE retired_at IS NULL;
CREATE INDEX ix_attestation_keys_kek_id ON attestation_keys (kek_id);
