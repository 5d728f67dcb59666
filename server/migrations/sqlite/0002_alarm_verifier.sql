-- The alarm verifier (PROTOCOL.md §9.3): SHA-256("oneshare/v1/alarm-verifier" ||
-- bind_secret), stored at the first bind and kept after confirm, so that only a
-- holder of the token raises a refused_device event. `refusals` bounds those events.
ALTER TABLE shares ADD COLUMN alarm BLOB;
ALTER TABLE shares ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;
