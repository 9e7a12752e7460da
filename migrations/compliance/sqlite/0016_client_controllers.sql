-- Partners as controllers (Compliance.Oidc): each client names itself as the controller of what it receives, with its
-- DPO contact and privacy notice, shown on its consent screen (GDPR Art. 13(1)(a, b)). Required by registration for a
-- client that may request a scope resting on a consent-based purpose; nullable for the others and for older rows.
ALTER TABLE "oidc_clients" ADD COLUMN "controller_name" TEXT NULL;

ALTER TABLE "oidc_clients" ADD COLUMN "dpo_contact" TEXT NULL;

ALTER TABLE "oidc_clients" ADD COLUMN "notice_url" TEXT NULL;
