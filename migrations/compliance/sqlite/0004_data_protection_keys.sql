-- The ASP.NET Core Data Protection key ring (Compliance.Keys), shared by every node; each key's secret is wrapped
-- by the key-encryption key before it is stored here.
CREATE TABLE "data_protection_keys" (
    "id" INTEGER NOT NULL CONSTRAINT "PK_data_protection_keys" PRIMARY KEY AUTOINCREMENT,
    "friendly_name" TEXT NOT NULL,
    "xml" TEXT NOT NULL,
    "created_at" INTEGER NOT NULL
);
