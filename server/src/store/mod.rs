//! Storage behind one small trait. Every method is one whole atomic operation, so
//! a backend only has to make each method a transaction; the rules themselves come
//! from the core (`oneshare_sdk::lifetime`). Backends: [`sqlite`] (embedded default)
//! and [`postgres`], both built from the shared code in `common` and both passing
//! the same conformance suite (`server/tests/conformance`).

mod common;
pub mod postgres;
pub mod sqlite;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use oneshare_sdk::api::{
    AttachmentDecl, AttachmentInfo, BindGuard, Event, PendingTransfer, Policy, RecordCiphertext,
    ShareSummary, TransferState, UploadStatus,
};
use oneshare_sdk::lifetime::{Lifetime, State};
use oneshare_sdk::risk::Observation;
use oneshare_sdk::signing::{PUBLIC_KEY_LEN, PublicKey, SIGNATURE_LEN};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer;
use tokio::sync::watch;

use crate::error::{Error, Result};

/// A share to create (already checked against policy, except the quota).
#[derive(Debug, Clone)]
pub struct NewShare {
    /// Share id.
    pub share_id: ShareId,
    /// Owner public key.
    pub owner: PublicKey,
    /// `SHA-256(bind_secret)`.
    pub verifier: [u8; 32],
    /// Wrapped record key.
    pub wrapped_key: Vec<u8>,
    /// Record envelope, version 1.
    pub record: Vec<u8>,
    /// Owner data envelope.
    pub owner_data: Vec<u8>,
    /// Creation time.
    pub created_at: u64,
    /// Chosen duration.
    pub expires_in: u64,
    /// Self-destruct flag.
    pub self_destruct: bool,
    /// Declared attachments.
    pub attachments: Vec<AttachmentDecl>,
    /// Part size for this share's uploads.
    pub part_size: u64,
    /// v2 second factors checked at bind (all empty for a v1 share).
    pub guard: BindGuard,
    /// v2: the owner-sealed transfer secret; a share without one cannot move.
    pub transfer_box: Option<[u8; transfer::BOX_LEN]>,
}

/// How long a transfer request waits for the sender (PROTOCOL.md §12.2).
pub const TRANSFER_SECS: u64 = 600;

/// Transfer requests one share accepts over its life, so a link holder cannot
/// keep the sender busy; the per-client rate limit is checked before this.
pub const MAX_TRANSFER_REQUESTS: u64 = 10;

/// A refused device asking for a share (PROTOCOL.md §12.2).
#[derive(Debug, Clone)]
pub struct TransferAsk {
    /// The id the device chose.
    pub request_id: [u8; transfer::REQUEST_ID_LEN],
    /// Proof of holding the token (the bind secret's two hashes).
    pub proof: BindProof,
    /// The device's ECDSA key (it signed the request).
    pub device_key: PublicKey,
    /// The device's ECDH key.
    pub ecdh_key: PublicKey,
}

/// The owner's answer to a transfer request.
#[derive(Debug, Clone)]
pub enum TransferAnswer {
    /// Move the share: the owner's approval signature and `K_r` re-wrapped to the device.
    Approve {
        /// `transfer::sign_approval`, checked against the share's owner.
        approval: [u8; SIGNATURE_LEN],
        /// `transfer::wrap_for_device`.
        transfer_key: Box<[u8; transfer::TRANSFER_KEY_LEN]>,
    },
    /// Refuse it.
    Deny,
}

/// One transfer request as its device sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    /// The effective state at the time asked (a pending one past its time is expired).
    pub state: TransferState,
    /// The requesting device's key (its requests are verified with it).
    pub device_key: PublicKey,
    /// When a pending request expires.
    pub expires_at: u64,
    /// Once approved, the re-wrapped record key.
    pub transfer_key: Option<[u8; transfer::TRANSFER_KEY_LEN]>,
    /// Whether the device still holds the share (not moved on again).
    pub holds_share: bool,
}

/// What a binder proves about the token, both hashes of the `bind_secret` it sent
/// (PROTOCOL.md §9.3): the store compares one or the other in constant time. A v2
/// binder may add second-factor proofs (§12), and the relay what it observed.
#[derive(Clone, Default)]
pub struct BindProof {
    /// `SHA-256(bind_secret)`: matches until confirm.
    pub verifier: [u8; 32],
    /// `alarm_verifier(bind_secret)`: stored at the first bind, matches after confirm.
    pub alarm: [u8; 32],
    /// The open-code proof, if the binder sent one.
    pub code: Option<[u8; 32]>,
    /// The passphrase proof, if the binder sent one.
    pub passphrase: Option<[u8; 32]>,
    /// What the page reported and the relay saw (L2), weighed at the first bind.
    pub observed: Observation,
    /// A first bind this many seconds after create or sooner looks automated (0: off).
    pub quick_bind_secs: u64,
}

impl BindProof {
    /// Both hashes of a bind secret, with no second factor and nothing observed.
    pub fn new(bind_secret: &oneshare_sdk::secret::Secret<32>) -> Self {
        Self {
            verifier: oneshare_sdk::token::verifier(bind_secret),
            alarm: oneshare_sdk::token::alarm_verifier(bind_secret),
            ..Self::default()
        }
    }
}

/// Wrong open codes and passphrases, together, after which a share locks.
pub const MAX_FACTOR_FAILURES: u64 = 5;

impl core::fmt::Debug for BindProof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BindProof(..)")
    }
}

/// A signed request's replay nonce (PROTOCOL.md §6), recorded by the store in
/// the same transaction as the request's effect, so that a crash keeps both or
/// neither. A refused request's nonce is recorded too (without its effect), so
/// replaying it later cannot make it succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a verified request's nonce must be recorded (a store write, or Store::record_nonce)"]
pub struct Nonce {
    /// The `oneshare-signer` header value.
    pub signer: String,
    /// The 16 nonce bytes.
    pub nonce: [u8; 16],
    /// When the pair may be forgotten (no timestamp that old verifies any more).
    pub expires_at: u64,
}

/// `refused_device` events one share reports at most; later refusals are
/// answered the same way without an event, so a token holder cannot flood the owner.
pub const MAX_REFUSED_EVENTS: u64 = 10;

/// A share's metadata (never ciphertext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareMeta {
    /// Share id.
    pub share_id: ShareId,
    /// Owner.
    pub owner: PublicKey,
    /// Stored state (apply [`ShareMeta::state_at`] for the effective one).
    pub state: State,
    /// Creation time.
    pub created_at: u64,
    /// Chosen duration.
    pub expires_in: u64,
    /// Self-destruct flag.
    pub self_destruct: bool,
    /// First bind time.
    pub bound_at: Option<u64>,
    /// Bound device key.
    pub device_key: Option<PublicKey>,
    /// Current record version.
    pub record_version: u64,
}

impl ShareMeta {
    /// The lifetime rules' input.
    pub fn lifetime(&self) -> Lifetime {
        Lifetime {
            created_at: self.created_at,
            expires_in: self.expires_in,
            self_destruct: self.self_destruct,
            bound_at: self.bound_at,
        }
    }

    /// Effective state at `now` (a live share past its deadline has ended).
    pub fn state_at(&self, now: u64) -> State {
        self.lifetime().state_at(self.state, now)
    }

    /// When the link or access ends.
    pub fn deadline(&self) -> u64 {
        self.lifetime().deadline()
    }

    /// Fails with `Gone` unless the share is live at `now`.
    pub fn require_live(&self, now: u64) -> Result<()> {
        match self.state_at(now) {
            s if s.is_live() => Ok(()),
            ended => Err(Error::Gone(ended)),
        }
    }
}

/// What a successful bind hands back (the relay encrypts it to the device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindOutcome {
    /// The wrapped record key.
    pub wrapped_key: Vec<u8>,
    /// The current record.
    pub record: RecordCiphertext,
    /// Finalized attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When access ends.
    pub access_expires_at: u64,
    /// Self-destruct flag.
    pub self_destruct: bool,
    /// Whether this was the same device retrying.
    pub retry: bool,
}

/// The current record for the bound device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    /// The current record.
    pub record: RecordCiphertext,
    /// Finalized attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When access ends.
    pub access_expires_at: u64,
}

/// One attachment's stored layout, for downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLayout {
    /// Total ciphertext size.
    pub size: u64,
    /// Size of every part but the last.
    pub part_size: u64,
    /// Whether the upload was finalized.
    pub complete: bool,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Shares that reached their deadline and were purged.
    pub ended: u64,
    /// Expired replay nonces removed.
    pub nonces: u64,
}

/// Group commit so far: each transaction is one fsync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed.
    pub transactions: u64,
    /// Write operations they carried.
    pub operations: u64,
}

/// Storage of shares, attachments, nonces, events and policy.
///
/// Every method that writes takes the request's [`Nonce`] (`None` only for
/// writes no signed request asks for, and in tests): `Replayed` if it was seen,
/// and otherwise recorded atomically with the write, whether the write succeeds or not.
///
/// Owner-scoped methods take the owner key and answer `NotFound` for someone
/// else's share, so a signer learns nothing about shares it does not own.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a share (and its declared attachments) and appends `created`.
    /// Fails with `Conflict` if the id exists, `Quota` if the owner already has
    /// `max_live` live shares, `StorageFull` if the bytes live shares reserve
    /// (record, owner data, wrapped key, declared attachments) would pass
    /// `max_stored_bytes` for the whole relay.
    async fn create_share(
        &self,
        share: &NewShare,
        max_live: u64,
        max_stored_bytes: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()>;

    /// A share's metadata.
    async fn share(&self, id: &ShareId) -> Result<Option<ShareMeta>>;

    /// Bind, in one transaction: `lifetime::decide_bind`, then the proof check in
    /// constant time (`BadToken` on a mismatch). The bound device binding again
    /// after confirm fails with `AlreadyConfirmed`, no event. A different device
    /// that proves the token fails with `AlreadyBound` and appends `refused_device`
    /// (at most [`MAX_REFUSED_EVENTS`] per share).
    ///
    /// A first bind of a v2 share then checks its second factors (PROTOCOL.md
    /// §12.4): `Locked` after [`MAX_FACTOR_FAILURES`]; a wrong proof counts
    /// (`WrongCode` / `WrongPassphrase`, the last one locks); a missing code that
    /// the share requires, or that the observation calls for, is `CodeRequired`;
    /// a missing passphrase `PassphraseRequired`. Refusals append `refused_device`
    /// events saying what happened (the lock always, the others within the cap).
    async fn bind(
        &self,
        id: &ShareId,
        proof: &BindProof,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<BindOutcome>;

    /// `binding` → `bound` for `device`; deletes the wrapped key and verifier.
    /// Idempotent for the bound device. Returns when access ends.
    async fn confirm(
        &self,
        id: &ShareId,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<u64>;

    /// The current record for the bound device; appends `viewed`.
    async fn fetch_record(
        &self,
        id: &ShareId,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<RecordView>;

    /// The current record of a live share for its owner (who holds its key
    /// already), so a new version can keep the attachments and start from the
    /// old fields. Appends nothing: the owner viewing is not the recipient.
    async fn owner_record(&self, id: &ShareId, owner: &PublicKey, now: u64) -> Result<RecordView>;

    /// Publishes a new record version (must be current + 1); appends `updated`.
    async fn update_record(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        record: &RecordCiphertext,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()>;

    /// Revoke ("Delete Now"): ciphertext, keys and parts deleted at once, a
    /// tombstone kept. `owner` None means an admin.
    async fn revoke(
        &self,
        id: &ShareId,
        owner: Option<&PublicKey>,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()>;

    /// Shares of one owner (with owner data) or of everyone (`None`, without),
    /// newest first, with the effective state at `now`.
    async fn list_shares(&self, owner: Option<&PublicKey>, now: u64) -> Result<Vec<ShareSummary>>;

    /// Number of shares per stored state, kept by the
    /// transactions that change shares, so reading it costs a few rows.
    async fn count_by_state(&self) -> Result<Vec<(State, u64)>>;

    /// Stores part `n` of an attachment. Re-sending an identical received part is
    /// accepted; a different one, a gap, or a size past the declared total is refused.
    #[allow(
        clippy::too_many_arguments,
        reason = "one part of one attachment: its address, bytes, clock and nonce"
    )]
    async fn put_part(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        n: u64,
        bytes: &[u8],
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<UploadStatus>;

    /// Upload progress (for resume).
    async fn upload_status(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
    ) -> Result<UploadStatus>;

    /// Marks an upload complete once every declared byte arrived.
    async fn finalize(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<UploadStatus>;

    /// An attachment's layout, for the bound device.
    async fn attachment(&self, id: &ShareId, attachment: &str) -> Result<AttachmentLayout>;

    /// Bytes of one stored part.
    async fn read_part(&self, id: &ShareId, attachment: &str, n: u64) -> Result<Vec<u8>>;

    /// Records the nonce of a request that writes nothing else; `Replayed` if
    /// the `(signer, nonce)` pair is already recorded.
    async fn record_nonce(&self, nonce: &Nonce) -> Result<()>;

    /// A refused device asks for a share (PROTOCOL.md §12.2), in one
    /// transaction: the share must be live and opened (`Conflict` while
    /// unbound), the proof must match as at bind (`BadToken`), the device must
    /// not be the bound one and the share must have a transfer box (`Conflict`).
    /// Pending requests past their time expire first (`transfer_expired`). The
    /// same request again answers again; another while one is pending is
    /// `TransferPending`; past [`MAX_TRANSFER_REQUESTS`], `Conflict`. Appends
    /// `transfer_requested`; returns when the request expires.
    async fn request_transfer(
        &self,
        id: &ShareId,
        ask: &TransferAsk,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<u64>;

    /// One transfer request, for the device that made it; `NotFound` if none.
    async fn transfer(
        &self,
        id: &ShareId,
        request_id: &[u8; transfer::REQUEST_ID_LEN],
        now: u64,
    ) -> Result<TransferView>;

    /// The owner's pending, unexpired transfer requests of live shares, oldest first.
    async fn pending_transfers(&self, owner: &PublicKey, now: u64) -> Result<Vec<PendingTransfer>>;

    /// The owner approves or denies a pending request, in one transaction.
    /// Approval checks the signature (`BadSignature`), then moves the binding:
    /// the share is `bound` to the new device, the old key is kept so that
    /// device is told `Moved`, and one-time secrets still held are deleted.
    /// An answered request is `Conflict`, an expired one `Conflict` (and it is
    /// marked expired). Appends `transfer_approved` or `transfer_denied`.
    async fn answer_transfer(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        request_id: &[u8; transfer::REQUEST_ID_LEN],
        answer: &TransferAnswer,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()>;

    /// The device keys a share moved away from (each told `Moved`).
    async fn moved_from(&self, id: &ShareId) -> Result<Vec<PublicKey>>;

    /// Events of one owner with id greater than `after`, oldest first.
    async fn events_since(&self, owner: &PublicKey, after: u64, limit: u32) -> Result<Vec<Event>>;

    /// The stored policy, if an admin set one.
    async fn policy(&self) -> Result<Option<Policy>>;

    /// Stores the policy.
    async fn set_policy(&self, policy: &Policy, nonce: Option<&Nonce>) -> Result<()>;

    /// Ends every live share past its deadline (appending `expired` or
    /// `self_destructed`), physically deletes its ciphertext and parts, and
    /// drops expired nonces. Events and tombstones stay. Also folds the share
    /// counts into one row per state.
    async fn sweep(&self, now: u64) -> Result<SweepReport>;

    /// Write transactions committed and the operations they carried, where the
    /// store groups operations into shared commits (SQLite); `None` elsewhere.
    fn write_stats(&self) -> Option<WriteStats> {
        None
    }

    /// Changes whenever events of `owner` were appended (by this or, for shared
    /// backends, another instance): that owner's SSE streams wait on it, and
    /// nobody else's wake.
    fn event_signal(&self, owner: &PublicKey) -> watch::Receiver<u64>;
}

/// Per-owner wake-up signals for SSE streams. Holds an entry only while a stream
/// of that owner listens, so it is bounded by the open-stream caps.
#[derive(Debug, Default)]
pub struct EventHub {
    owners: Mutex<HashMap<[u8; PUBLIC_KEY_LEN], watch::Sender<u64>>>,
}

fn bump(tx: &watch::Sender<u64>) {
    tx.send_modify(|v| *v = v.wrapping_add(1));
}

impl EventHub {
    /// A signal that changes when `owner`'s events change.
    pub fn subscribe(&self, owner: &PublicKey) -> watch::Receiver<u64> {
        let Ok(mut owners) = self.owners.lock() else {
            // A poisoned hub: a receiver that never changes; streams still end
            // at their lifetime and read from their cursor when they reconnect.
            return watch::channel(0).1;
        };
        owners.retain(|_, tx| tx.receiver_count() > 0);
        owners
            .entry(owner.to_bytes())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes the streams of the owner with these key bytes.
    pub fn notify(&self, owner: &[u8]) {
        if let Ok(owners) = self.owners.lock()
            && let Some(tx) = owners.get(owner)
        {
            bump(tx);
        }
    }

    /// Wakes every stream (after a lost cross-instance notification channel).
    pub fn notify_all(&self) {
        if let Ok(owners) = self.owners.lock() {
            owners.values().for_each(bump);
        }
    }
}

/// Opens the store named by a database URL.
///
/// # Errors
/// Unknown scheme, or the database cannot be opened or migrated.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(Error::Config(
            "database URL must start with sqlite: or postgres:".to_owned(),
        ))
    }
}

/// `u64` → SQL integer (values beyond `i64` saturate; none occur in practice).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// SQL integer → `u64` (negative values, which the relay never writes, become 0).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Checks a part against an attachment's progress: the rules shared by backends.
/// Returns `Ok(true)` when the part is new and should be stored, `Ok(false)` when
/// it is an already received part (the caller compares bytes).
///
/// # Errors
/// `Conflict` for a gap or a finalized upload, `TooLarge` past the declared size,
/// `BadRequest` for a short non-final part.
pub fn check_part(status: &UploadStatus, n: u64, len: u64) -> Result<bool> {
    if n < status.next_part {
        return Ok(false);
    }
    if status.complete {
        return Err(Error::Conflict("the upload is already finalized"));
    }
    if n > status.next_part {
        return Err(Error::Conflict(
            "parts must be sent in order: ask the upload status for the next part",
        ));
    }
    let end = status.received.saturating_add(len);
    if end > status.size {
        return Err(Error::TooLarge(
            "the part goes past the declared attachment size",
        ));
    }
    if len == 0 && status.size > 0 {
        return Err(Error::BadRequest("empty part".to_owned()));
    }
    if len != status.part_size && end != status.size {
        return Err(Error::BadRequest(
            "every part but the last must be exactly part_size bytes".to_owned(),
        ));
    }
    Ok(true)
}
