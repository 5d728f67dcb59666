-- Sender-approved device transfer (PROTOCOL.md §12.2): the owner-sealed transfer
-- secret stored at create, and one row per transfer request. At most one request
-- of a share is pending (the partial unique index); an approved row keeps the key
-- the share moved away from, so that device is told `moved`. A share's rows go
-- when it ends.
ALTER TABLE shares ADD COLUMN transfer_box BLOB;
CREATE TABLE transfers (
    share_id       BLOB NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    request_id     BLOB NOT NULL,
    device_key     BLOB NOT NULL,
    ecdh_key       BLOB NOT NULL,
    state          TEXT NOT NULL,
    requested_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    answered_at    INTEGER,
    old_device_key BLOB,
    approval       BLOB,
    transfer_key   BLOB,
    PRIMARY KEY (share_id, request_id)
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (share_id) WHERE state = 'pending';
CREATE INDEX transfers_due ON transfers (expires_at) WHERE state = 'pending';
