-- The consent ledger (Compliance.Consent): append-only consent events in a Merkle log hashed as RFC 9162 does.
-- Leaves (the header each leaf hash commits to) and payloads (the consent record's JSON and its salt) are separate
-- tables. Leaves and checkpoints refuse every UPDATE, DELETE and TRUNCATE; payloads accept only the UPDATE that sets
-- the payload and its salt to NULL (a redaction). The code has no other write path. Whoever drops these triggers to
-- edit the tables is caught by `compliance ledger verify`: the seal of each leaf needs a key from key custody.
-- consent_subject_events and consent_states are derived lookups, deleted with a redaction.

CREATE TABLE consent_leaves (
    leaf_index bigint NOT NULL,
    event_id uuid NOT NULL,
    appended_at timestamp with time zone NOT NULL,
    payload_commitment bytea NOT NULL,
    leaf_hash bytea NOT NULL,
    seal bytea NOT NULL,
    CONSTRAINT "PK_consent_leaves" PRIMARY KEY (leaf_index),
    CONSTRAINT ck_consent_leaves_leaf_index CHECK (leaf_index >= 0)
);

CREATE UNIQUE INDEX ux_consent_leaves_event_id ON consent_leaves (event_id);

CREATE TABLE consent_payloads (
    event_id uuid NOT NULL,
    payload bytea,
    salt bytea,
    CONSTRAINT "PK_consent_payloads" PRIMARY KEY (event_id)
);

CREATE TABLE consent_checkpoints (
    tree_size bigint NOT NULL,
    root_hash bytea NOT NULL,
    signed_at timestamp with time zone NOT NULL,
    key_id character varying(100) NOT NULL,
    jws character varying(4000) NOT NULL,
    CONSTRAINT "PK_consent_checkpoints" PRIMARY KEY (tree_size),
    CONSTRAINT ck_consent_checkpoints_tree_size CHECK (tree_size > 0)
);

CREATE TABLE consent_subject_events (
    event_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    purpose_id character varying(64) NOT NULL,
    state character varying(20) NOT NULL,
    notice_version character varying(64),
    occurred_at timestamp with time zone NOT NULL,
    leaf_index bigint NOT NULL,
    CONSTRAINT "PK_consent_subject_events" PRIMARY KEY (event_id)
);

CREATE INDEX ix_consent_subject_events_subject_id ON consent_subject_events (subject_id);

CREATE TABLE consent_states (
    subject_id uuid NOT NULL,
    client_id character varying(100) NOT NULL,
    purpose_id character varying(64) NOT NULL,
    state character varying(20) NOT NULL,
    event_id uuid NOT NULL,
    notice_version character varying(64),
    occurred_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    CONSTRAINT "PK_consent_states" PRIMARY KEY (subject_id, client_id, purpose_id)
);

CREATE INDEX ix_consent_states_expires_at ON consent_states (expires_at);

CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the consent ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE FUNCTION consent_payloads_redaction_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.event_id = OLD.event_id AND NEW.payload IS NULL AND NEW.salt IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent payloads accept only a redaction (payload and salt set to NULL): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER consent_leaves_append_only BEFORE UPDATE OR DELETE ON consent_leaves
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_leaves_no_truncate BEFORE TRUNCATE ON consent_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_checkpoints_append_only BEFORE UPDATE OR DELETE ON consent_checkpoints
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_checkpoints_no_truncate BEFORE TRUNCATE ON consent_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_payloads_redaction_only BEFORE UPDATE OR DELETE ON consent_payloads
    FOR EACH ROW EXECUTE FUNCTION consent_payloads_redaction_only();
CREATE TRIGGER consent_payloads_no_truncate BEFORE TRUNCATE ON consent_payloads
    FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only();
