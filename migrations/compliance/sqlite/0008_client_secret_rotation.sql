-- Client secret rotation (Compliance.Oidc): `compliance clients rotate-secret` keeps the hash of the replaced secret
-- and accepts it until previous_secret_expires_at, so that a partner can deploy the new secret without an outage.
ALTER TABLE "oidc_clients" ADD COLUMN "previous_secret_hash" TEXT NULL;

ALTER TABLE "oidc_clients" ADD COLUMN "previous_secret_expires_at" INTEGER NULL;
