-- The lifecycle job's invalidation sweep (Compliance.Consent): when a material notice version comes into force, it
-- looks for the consents of that purpose given under an older version. Without this index each run read every consent
-- of every purpose, every five minutes, for as long as the material version stays the latest.
CREATE INDEX "ix_consent_states_purpose_id_notice_version" ON "consent_states" ("purpose_id", "notice_version");
