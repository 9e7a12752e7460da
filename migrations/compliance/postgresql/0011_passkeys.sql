-- Passkeys (Compliance.Oidc): ASP.NET Core Identity's passkey entity, its data as columns. The credential id and public
-- key identify a credential, never a person; the AAGUID names the authenticator model (shown to the patient), and the
-- backup-eligible flag tells a synced passkey (amr swk) from a device-bound one (amr hwk). Only user-verified passkeys
-- are stored.

CREATE TABLE account_passkeys (
    credential_id bytea NOT NULL,
    user_id uuid NOT NULL,
    aaguid uuid,
    last_used_at timestamp with time zone,
    name character varying(64),
    public_key bytea NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sign_count bigint NOT NULL,
    transports character varying(256),
    is_user_verified boolean NOT NULL,
    is_backup_eligible boolean NOT NULL,
    is_backed_up boolean NOT NULL,
    attestation_object bytea NOT NULL,
    client_data_json bytea NOT NULL,
    CONSTRAINT "PK_account_passkeys" PRIMARY KEY (credential_id)
);

CREATE INDEX ix_account_passkeys_user_id ON account_passkeys (user_id);
