-- Shares. Ciphertext columns are set to NULL when a share ends; the row stays as a
-- tombstone (id, owner, state, times) for the owner's list and events.
CREATE TABLE shares (
    share_id       BLOB PRIMARY KEY NOT NULL,
    owner          BLOB NOT NULL,
    state          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_in     INTEGER NOT NULL,
    self_destruct  INTEGER NOT NULL,
    bound_at       INTEGER,
    deadline       INTEGER NOT NULL,
    ended_at       INTEGER,
    device_key     BLOB,
    verifier       BLOB,
    wrapped_key    BLOB,
    record_version INTEGER NOT NULL,
    record         BLOB,
    owner_data     BLOB
);
CREATE INDEX shares_owner ON shares (owner, created_at);
CREATE INDEX shares_deadline ON shares (deadline) WHERE state IN ('unbound', 'binding', 'bound');

CREATE TABLE attachments (
    share_id      BLOB NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    attachment_id TEXT NOT NULL,
    size          INTEGER NOT NULL,
    part_size     INTEGER NOT NULL,
    received      INTEGER NOT NULL DEFAULT 0,
    next_part     INTEGER NOT NULL DEFAULT 0,
    complete      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (share_id, attachment_id)
);

CREATE TABLE attachment_parts (
    share_id      BLOB NOT NULL,
    attachment_id TEXT NOT NULL,
    part          INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (share_id, attachment_id, part),
    FOREIGN KEY (share_id, attachment_id) REFERENCES attachments (share_id, attachment_id) ON DELETE CASCADE
);

-- Replay protection: one row per (signer, nonce) until it can no longer verify.
CREATE TABLE nonces (
    signer     TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (signer, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    owner    BLOB NOT NULL,
    share_id BLOB NOT NULL,
    kind     TEXT NOT NULL,
    at       INTEGER NOT NULL,
    detail   TEXT
);
CREATE INDEX events_owner ON events (owner, id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
