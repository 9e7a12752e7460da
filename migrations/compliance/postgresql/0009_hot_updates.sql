-- Room for heap-only updates on the token endpoint's hot path. A code and a refresh token are each updated once
-- (consumed_at, which no index covers) in the statement that issues their successor. With a quarter of each page left
-- free, PostgreSQL writes that new row version beside the old one on the same page (a HOT update) and adds no entry
-- to any of the table's indexes. Pages written from now on get the space; nothing is rewritten.

ALTER TABLE oidc_authorization_codes SET (fillfactor = 75);
ALTER TABLE oidc_refresh_tokens SET (fillfactor = 75);
