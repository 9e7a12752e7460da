-- Client lifecycle (Compliance.Oidc): a removed client stays as a tombstone (removed_at), so that its client_id and
-- its pairwise sector never pass to another partner; a client may register a back-channel logout URI. Registration
-- looks sectors up, hence the index.
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_uri character varying(2000);

ALTER TABLE oidc_clients ADD COLUMN removed_at timestamp with time zone;

CREATE INDEX ix_oidc_clients_sector ON oidc_clients (sector);
