-- Passkeys (Compliance.Oidc): ASP.NET Core Identity's passkey entity, its data as columns. The credential id and public
-- key identify a credential, never a person; the AAGUID names the authenticator model (shown to the patient), and the
-- backup-eligible flag tells a synced passkey (amr swk) from a device-bound one (amr hwk). Only user-verified passkeys
-- are stored. Times are integers, as DateTimeOffsetToBinaryConverter stores them.

CREATE TABLE "account_passkeys" (
    "credential_id" BLOB NOT NULL CONSTRAINT "PK_account_passkeys" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "aaguid" TEXT NULL,
    "last_used_at" INTEGER NULL,
    "name" TEXT NULL,
    "public_key" BLOB NOT NULL,
    "created_at" INTEGER NOT NULL,
    "sign_count" INTEGER NOT NULL,
    "transports" TEXT NULL,
    "is_user_verified" INTEGER NOT NULL,
    "is_backup_eligible" INTEGER NOT NULL,
    "is_backed_up" INTEGER NOT NULL,
    "attestation_object" BLOB NOT NULL,
    "client_data_json" BLOB NOT NULL
);

CREATE INDEX "ix_account_passkeys_user_id" ON "account_passkeys" ("user_id");
