-- Shares. Ciphertext columns are set to NULL when a share ends; the row stays as a
-- tombstone (id, owner, state, times) for the owner's list and events.
CREATE TABLE shares (
    share_id       BYTEA PRIMARY KEY,
    seq            BIGSERIAL NOT NULL,
    owner          BYTEA NOT NULL,
    state          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_in     BIGINT NOT NULL,
    self_destruct  BOOLEAN NOT NULL,
    bound_at       BIGINT,
    deadline       BIGINT NOT NULL,
    ended_at       BIGINT,
    device_key     BYTEA,
    verifier       BYTEA,
    wrapped_key    BYTEA,
    record_version BIGINT NOT NULL,
    record         BYTEA,
    owner_data     BYTEA
);
CREATE INDEX shares_owner ON shares (owner, created_at);
CREATE INDEX shares_deadline ON shares (deadline) WHERE state IN ('unbound', 'binding', 'bound');

CREATE TABLE attachments (
    share_id      BYTEA NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    attachment_id TEXT NOT NULL,
    size          BIGINT NOT NULL,
    part_size     BIGINT NOT NULL,
    received      BIGINT NOT NULL DEFAULT 0,
    next_part     BIGINT NOT NULL DEFAULT 0,
    complete      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (share_id, attachment_id)
);

CREATE TABLE attachment_parts (
    share_id      BYTEA NOT NULL,
    attachment_id TEXT NOT NULL,
    part          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (share_id, attachment_id, part),
    FOREIGN KEY (share_id, attachment_id) REFERENCES attachments (share_id, attachment_id) ON DELETE CASCADE
);
-- Ciphertext parts are written once and read whole: keep them out of TOAST compression.
ALTER TABLE attachment_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- Replay protection across every instance: one row per (signer, nonce) until it
-- can no longer verify.
CREATE TABLE nonces (
    signer     TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (signer, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

-- Event ids grow in commit order per owner: writers take a per-owner advisory
-- lock before appending (see postgres.rs), so an SSE cursor never skips an event.
CREATE TABLE events (
    id       BIGSERIAL PRIMARY KEY,
    owner    BYTEA NOT NULL,
    share_id BYTEA NOT NULL,
    kind     TEXT NOT NULL,
    at       BIGINT NOT NULL,
    detail   TEXT
);
CREATE INDEX events_owner ON events (owner, id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
