-- Sender-approved device transfer (PROTOCOL.md §12.2): the owner-sealed transfer
-- secret stored at create, and one row per transfer request. At most one request
-- of a share is pending (the partial unique index); an approved row keeps the key
-- the share moved away from, so that device is told `moved`. A share's rows go
-- when it ends.
ALTER TABLE shares ADD COLUMN transfer_box BYTEA;
CREATE TABLE transfers (
    share_id       BYTEA NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    request_id     BYTEA NOT NULL,
    device_key     BYTEA NOT NULL,
    ecdh_key       BYTEA NOT NULL,
    state          TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    answered_at    BIGINT,
    old_device_key BYTEA,
    approval       BYTEA,
    transfer_key   BYTEA,
    PRIMARY KEY (share_id, request_id)
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (share_id) WHERE state = 'pending';
CREATE INDEX transfers_due ON transfers (expires_at) WHERE state = 'pending';
