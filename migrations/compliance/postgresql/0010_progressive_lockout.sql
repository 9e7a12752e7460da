-- Progressive lockout (Compliance.Oidc): each lock of a pseudonym lasts longer than the one before (Oidc:LockoutMinutes
-- times Oidc:LockoutGrowth per earlier lock, up to Oidc:MaxLockoutMinutes), so that sustained guessing of a password or
-- a TOTP code over a day stays below the odds the README states. The count is forgotten after a success, or a day
-- after the last lock ended.

ALTER TABLE sign_in_throttle ADD lockouts integer NOT NULL DEFAULT 0;
