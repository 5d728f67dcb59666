-- Protocol v2 second factors (PROTOCOL.md §12): the open-code and passphrase
-- verifiers stored at create (deleted at confirm and when the share ends), whether
-- the sender requires the code at every bind, and the count of wrong codes or
-- passphrases (the share locks at 5).
ALTER TABLE shares ADD COLUMN code_verifier BYTEA;
ALTER TABLE shares ADD COLUMN require_code BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE shares ADD COLUMN passphrase_verifier BYTEA;
ALTER TABLE shares ADD COLUMN factor_failures BIGINT NOT NULL DEFAULT 0;
