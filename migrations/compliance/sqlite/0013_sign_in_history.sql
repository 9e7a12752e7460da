-- Recent sign-ins (Compliance.Oidc), shown to the patient on Account security: when, the browser family, the methods,
-- and whether the network was new for the account. No address and no user agent: a keyed hash of the /24 or /48
-- prefix, salted by the account. At most 20 rows per account. Times are integers, as DateTimeOffsetToBinaryConverter
-- stores them.

CREATE TABLE "account_sign_ins" (
    "id" TEXT NOT NULL CONSTRAINT "PK_account_sign_ins" PRIMARY KEY,
    "account_id" TEXT NOT NULL,
    "signed_in_at" INTEGER NOT NULL,
    "browser" TEXT NOT NULL,
    "methods" TEXT NOT NULL,
    "network_hash" TEXT NOT NULL,
    "new_network" INTEGER NOT NULL
);

CREATE INDEX "ix_account_sign_ins_account_id_signed_in_at" ON "account_sign_ins" ("account_id", "signed_in_at");
