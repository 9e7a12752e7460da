-- Key custody (Compliance.Keys): token signing keys and keyed-hash secrets. Every private key and secret is stored
-- only wrapped by the key-encryption key (KEK), which is never in this database; kek_id names the KEK that wrapped it.
-- Rows are inserted and deleted, never updated. The unique (algorithm, generation) index is what stops two nodes
-- rotating at once from both adding a key; the purpose primary key does the same for keyed-hash secrets.
CREATE TABLE signing_keys (
    key_id character varying(64) NOT NULL,
    algorithm character varying(8) NOT NULL,
    generation integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    activates_at timestamp with time zone NOT NULL,
    kek_id character varying(256) NOT NULL,
    kek_algorithm character varying(32) NOT NULL,
    wrapped_private_key bytea NOT NULL,
    CONSTRAINT "PK_signing_keys" PRIMARY KEY (key_id),
    CONSTRAINT ck_signing_keys_algorithm CHECK (algorithm IN ('ES256', 'RS256')),
    CONSTRAINT ck_signing_keys_generation CHECK (generation >= 0)
);

CREATE UNIQUE INDEX ux_signing_keys_algorithm_generation ON signing_keys (algorithm, generation);
CREATE INDEX ix_signing_keys_kek_id ON signing_keys (kek_id);

CREATE TABLE keyed_hash_secrets (
    purpose character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    kek_id character varying(256) NOT NULL,
    kek_algorithm character varying(32) NOT NULL,
    wrapped_secret bytea NOT NULL,
    CONSTRAINT "PK_keyed_hash_secrets" PRIMARY KEY (purpose)
);

CREATE INDEX ix_keyed_hash_secrets_kek_id ON keyed_hash_secrets (kek_id);
