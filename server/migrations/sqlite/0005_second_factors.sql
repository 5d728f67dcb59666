-- Protocol v2 second factors (PROTOCOL.md §12): the open-code and passphrase
-- verifiers stored at create (deleted at confirm and when the share ends), whether
-- the sender requires the code at every bind, and the count of wrong codes or
-- passphrases (the share locks at 5).
ALTER TABLE shares ADD COLUMN code_verifier BLOB;
ALTER TABLE shares ADD COLUMN require_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN passphrase_verifier BLOB;
ALTER TABLE shares ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;
