//! The SQL text both backends run (`$n` placeholders work in SQLite too). A
//! one-column query names its column `v` ([`super::db::SCALAR`]).

/// The columns `MetaRow` reads.
macro_rules! meta_columns {
    () => {
        "share_id, owner, state, created_at, expires_in, self_destruct, bound_at, device_key, \
         record_version"
    };
}
pub(crate) use meta_columns;

/// One share's metadata.
pub(crate) const SHARE: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM shares WHERE share_id = $1"
);

/// Live shares of one owner (`$1`) whose deadline is after `$2`.
pub(crate) const COUNT_LIVE: &str = "SELECT COUNT(*) AS v FROM shares WHERE owner = $1 \
     AND state IN ('unbound', 'binding', 'bound') AND deadline > $2";

/// A new share row with its storage reservation, second factors and transfer
/// box, in one statement (each is a round trip to the writer's connection
/// thread); `ON CONFLICT DO NOTHING` turns an existing id into 0 rows.
pub(crate) const INSERT_SHARE: &str = "INSERT INTO shares (share_id, owner, state, created_at, \
     expires_in, self_destruct, deadline, verifier, wrapped_key, record_version, record, \
     owner_data, reserved, code_verifier, require_code, passphrase_verifier, transfer_box) \
     VALUES ($1, $2, 'unbound', $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT DO NOTHING";

/// Reserves a new share's bytes: 0 rows means the relay's storage quota is reached.
pub(crate) const RESERVE: &str =
    "UPDATE usage SET bytes = bytes + $1 WHERE id = 1 AND bytes + $1 <= $2";

/// Releases an ending share's bytes (before [`END_SHARE`] clears them).
pub(crate) const RELEASE: &str = "UPDATE usage SET bytes = bytes - \
     (SELECT reserved FROM shares WHERE share_id = $1) WHERE id = 1";

/// Moves a share's reservation by `$1` bytes (a new record version).
pub(crate) const ADJUST: &str = "UPDATE usage SET bytes = bytes + $1 WHERE id = 1";

/// As [`ADJUST`], on the share.
pub(crate) const ADJUST_SHARE: &str =
    "UPDATE shares SET reserved = reserved + $1 WHERE share_id = $2";

/// A declared attachment; 0 rows means a duplicate id.
pub(crate) const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (share_id, attachment_id, \
     size, part_size) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// The secrets a bind checks, and what it hands back.
pub(crate) const BIND_SECRETS: &str = "SELECT verifier, alarm, wrapped_key, refusals, \
     record_version, record, code_verifier, require_code, passphrase_verifier, \
     factor_failures FROM shares WHERE share_id = $1";

/// Whether a share can move (it has a transfer box).
pub(crate) const HAS_TRANSFER_BOX: &str =
    "SELECT COUNT(*) AS v FROM shares WHERE share_id = $1 AND transfer_box IS NOT NULL";

/// One transfer request of a share.
pub(crate) const TRANSFER: &str = "SELECT request_id, device_key, ecdh_key, state, expires_at, \
     transfer_key FROM transfers WHERE share_id = $1 AND request_id = $2";

/// The share's pending request, if any.
pub(crate) const PENDING_TRANSFER: &str = "SELECT request_id, device_key, ecdh_key, state, \
     expires_at, transfer_key FROM transfers WHERE share_id = $1 AND state = 'pending'";

/// Transfer requests a share received.
pub(crate) const COUNT_TRANSFERS: &str = "SELECT COUNT(*) AS v FROM transfers WHERE share_id = $1";

/// A new pending request; 0 rows means its id was used before.
pub(crate) const INSERT_TRANSFER: &str = "INSERT INTO transfers (share_id, request_id, \
     device_key, ecdh_key, state, requested_at, expires_at) \
     VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT DO NOTHING";

/// Every pending request past its time, expired, with the share each belongs to.
pub(crate) const EXPIRE_TRANSFERS: &str = "UPDATE transfers SET state = 'expired', \
     answered_at = $1 WHERE state = 'pending' AND expires_at <= $1 RETURNING share_id AS v";

/// One share's pending requests past their time, expired.
pub(crate) const EXPIRE_SHARE_TRANSFERS: &str = "UPDATE transfers SET state = 'expired', \
     answered_at = $1 WHERE state = 'pending' AND expires_at <= $1 AND share_id = $2 \
     RETURNING share_id AS v";

/// A denied request.
pub(crate) const DENY_TRANSFER: &str = "UPDATE transfers SET state = 'denied', answered_at = $1 \
     WHERE share_id = $2 AND request_id = $3";

/// An approved request, with the key the share moves away from.
pub(crate) const APPROVE_TRANSFER: &str = "UPDATE transfers SET state = 'approved', \
     answered_at = $1, old_device_key = $2, approval = $3, transfer_key = $4 \
     WHERE share_id = $5 AND request_id = $6";

/// The share moves to the approved device: `bound`, one-time secrets gone.
pub(crate) const MOVE_BINDING: &str = "UPDATE shares SET state = 'bound', device_key = $1, \
     wrapped_key = NULL, verifier = NULL, code_verifier = NULL, passphrase_verifier = NULL \
     WHERE share_id = $2";

/// Keys a share moved away from.
pub(crate) const MOVED_FROM: &str = "SELECT old_device_key AS v FROM transfers \
     WHERE share_id = $1 AND state = 'approved' AND old_device_key IS NOT NULL";

/// An owner's pending, unexpired requests of live shares, oldest first.
pub(crate) const PENDING_OF_OWNER: &str = "SELECT t.share_id, t.request_id, t.device_key, \
     t.ecdh_key, t.requested_at, t.expires_at, s.transfer_box FROM transfers t \
     JOIN shares s ON s.share_id = t.share_id WHERE s.owner = $1 AND t.state = 'pending' \
     AND t.expires_at > $2 AND s.state IN ('binding', 'bound') AND s.deadline > $2 \
     ORDER BY t.requested_at, t.share_id";

/// A share's transfer requests (when it ends).
pub(crate) const DELETE_TRANSFERS: &str = "DELETE FROM transfers WHERE share_id = $1";

/// One more wrong open code or passphrase.
pub(crate) const COUNT_FACTOR_FAILURE: &str =
    "UPDATE shares SET factor_failures = factor_failures + 1 WHERE share_id = $1";

/// First bind: `binding`, with device, bind time, the new deadline and the alarm verifier.
pub(crate) const SET_BINDING: &str = "UPDATE shares SET state = 'binding', device_key = $1, \
     bound_at = $2, deadline = $3, alarm = $4 WHERE share_id = $5";

/// One more refused device (bounds the `refused_device` events of a share).
pub(crate) const COUNT_REFUSAL: &str =
    "UPDATE shares SET refusals = refusals + 1 WHERE share_id = $1";

/// Confirmation: `bound`, and the one-time secrets are gone.
pub(crate) const SET_BOUND: &str = "UPDATE shares SET state = 'bound', wrapped_key = NULL, \
     verifier = NULL, code_verifier = NULL, passphrase_verifier = NULL WHERE share_id = $1";

/// A new record version.
pub(crate) const SET_RECORD: &str =
    "UPDATE shares SET record = $1, record_version = $2 WHERE share_id = $3";

/// The current record.
pub(crate) const CURRENT_RECORD: &str =
    "SELECT record_version, record FROM shares WHERE share_id = $1";

/// Ends a share, keeping its tombstone.
pub(crate) const END_SHARE: &str = "UPDATE shares SET state = $1, ended_at = $2, reserved = 0, \
     verifier = NULL, alarm = NULL, wrapped_key = NULL, record = NULL, owner_data = NULL, \
     code_verifier = NULL, passphrase_verifier = NULL, transfer_box = NULL WHERE share_id = $3";

/// A share's parts.
pub(crate) const DELETE_PARTS: &str = "DELETE FROM attachment_parts WHERE share_id = $1";

/// A share's attachments.
pub(crate) const DELETE_ATTACHMENTS: &str = "DELETE FROM attachments WHERE share_id = $1";

/// One event.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (owner, share_id, kind, at, detail, device_fingerprint) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// An attachment's progress.
pub(crate) const UPLOAD_ROW: &str = "SELECT size, part_size, received, next_part, complete \
     FROM attachments WHERE share_id = $1 AND attachment_id = $2";

/// One stored part.
pub(crate) const PART: &str = "SELECT data AS v FROM attachment_parts WHERE share_id = $1 AND attachment_id = $2 AND part = $3";

/// A new part.
pub(crate) const INSERT_PART: &str =
    "INSERT INTO attachment_parts (share_id, attachment_id, part, data) VALUES ($1, $2, $3, $4)";

/// Progress after a new part of `$1` bytes.
pub(crate) const ADVANCE_UPLOAD: &str = "UPDATE attachments SET received = received + $1, \
     next_part = next_part + 1 WHERE share_id = $2 AND attachment_id = $3";

/// A share's finalized attachments.
pub(crate) const FINISHED_ATTACHMENTS: &str = "SELECT attachment_id, size FROM attachments \
     WHERE share_id = $1 AND complete ORDER BY attachment_id";

/// Marks an upload complete.
pub(crate) const FINALIZE: &str =
    "UPDATE attachments SET complete = TRUE WHERE share_id = $1 AND attachment_id = $2";

/// An attachment's layout.
pub(crate) const LAYOUT: &str = "SELECT size, part_size, complete FROM attachments \
     WHERE share_id = $1 AND attachment_id = $2";

/// Shares per stored state: the sum of the deltas the triggers of migration
/// 0004 append, a few rows per state since the last fold.
pub(crate) const COUNT_BY_STATE: &str = "SELECT state, CAST(SUM(n) AS BIGINT) AS n \
     FROM share_count_deltas GROUP BY state HAVING SUM(n) <> 0 ORDER BY state";

/// Takes every share-count delta, to fold them into one row per state (in the
/// same transaction); deltas appended meanwhile are left for the next fold.
pub(crate) const TAKE_COUNT_DELTAS: &str = "DELETE FROM share_count_deltas RETURNING state, n";

/// One folded share count.
pub(crate) const PUT_COUNT: &str = "INSERT INTO share_count_deltas (state, n) VALUES ($1, $2)";

/// A replay nonce; 0 rows means it was seen.
pub(crate) const INSERT_NONCE: &str =
    "INSERT INTO nonces (signer, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Expired nonces.
pub(crate) const DELETE_NONCES: &str = "DELETE FROM nonces WHERE expires_at <= $1";

/// One owner's events after a cursor.
pub(crate) const EVENTS_SINCE: &str = "SELECT id, share_id, kind, at, detail, device_fingerprint FROM events \
     WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3";

/// The stored policy.
pub(crate) const POLICY: &str = "SELECT value AS v FROM settings WHERE name = 'policy'";

/// Stores the policy.
pub(crate) const SET_POLICY: &str = "INSERT INTO settings (name, value) VALUES ('policy', $1) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/// The event detail of a refused second device.
pub(crate) const REFUSED_DETAIL: &str = "another device tried to open the link and was refused";

/// The detail of the last `refused_device` event a share reports.
pub(crate) const LAST_REFUSED_DETAIL: &str = "another device tried to open the link and was \
     refused; further attempts on this share are refused without an event";
