//! Rows as stored → typed values (each row reads its columns by name through
//! [`SqlDb`], so one impl serves every backend), with the constant-time bind
//! proof check on loaded secrets.

use oneshare_sdk::api::{
    AttachmentInfo, Event, EventKind, PendingTransfer, RecordCiphertext, ShareSummary,
    TransferState, UploadStatus,
};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::secret::ct_eq;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer;

use super::db::{FromSql, SqlDb, col};
use super::sql::{LAST_REFUSED_DETAIL, REFUSED_DETAIL};
use crate::error::{Error, Result};
use crate::store::{
    AttachmentLayout, BindProof, MAX_FACTOR_FAILURES, ShareMeta, TransferAsk, to_u64,
};
use oneshare_sdk::factor::{Factor, Proof};

pub(crate) fn parse_state(s: &str) -> Result<State> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Error::internal(format!("unknown state {s}")))
}

pub(crate) fn kind_str(k: EventKind) -> Result<String> {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(Error::internal("event kind")),
    }
}

pub(crate) fn share_id(bytes: &[u8]) -> Result<ShareId> {
    bytes
        .try_into()
        .map(ShareId)
        .map_err(|_| Error::internal("bad share id in store"))
}

fn key(bytes: &[u8]) -> Result<PublicKey> {
    PublicKey::from_bytes(bytes).map_err(|_| Error::internal("bad key in store"))
}

/// A share row as stored (`meta_columns!`).
pub(crate) struct MetaRow {
    share_id: Vec<u8>,
    owner: Vec<u8>,
    state: String,
    created_at: i64,
    expires_in: i64,
    self_destruct: bool,
    bound_at: Option<i64>,
    device_key: Option<Vec<u8>>,
    record_version: i64,
}

impl FromSql for MetaRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            share_id: col::<D, _>(row, "share_id")?,
            owner: col::<D, _>(row, "owner")?,
            state: col::<D, _>(row, "state")?,
            created_at: col::<D, _>(row, "created_at")?,
            expires_in: col::<D, _>(row, "expires_in")?,
            self_destruct: col::<D, _>(row, "self_destruct")?,
            bound_at: col::<D, _>(row, "bound_at")?,
            device_key: col::<D, _>(row, "device_key")?,
            record_version: col::<D, _>(row, "record_version")?,
        })
    }
}

impl MetaRow {
    pub(crate) fn into_meta(self) -> Result<ShareMeta> {
        Ok(ShareMeta {
            share_id: share_id(&self.share_id)?,
            owner: key(&self.owner)?,
            state: parse_state(&self.state)?,
            created_at: to_u64(self.created_at),
            expires_in: to_u64(self.expires_in),
            self_destruct: self.self_destruct,
            bound_at: self.bound_at.map(to_u64),
            device_key: self.device_key.as_deref().map(key).transpose()?,
            record_version: to_u64(self.record_version),
        })
    }
}

/// A listing row: the share plus (for its owner) the owner data.
pub(crate) struct ListRow {
    meta: MetaRow,
    owner_data: Option<Vec<u8>>,
}

impl FromSql for ListRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            meta: MetaRow::from_sql::<D>(row)?,
            owner_data: col::<D, _>(row, "owner_data")?,
        })
    }
}

impl ListRow {
    /// The summary at `now`; owner data only when `with_owner_data`.
    pub(crate) fn into_summary(self, now: u64, with_owner_data: bool) -> Result<ShareSummary> {
        let m = self.meta.into_meta()?;
        let owner_data = self.owner_data.filter(|_| with_owner_data);
        Ok(ShareSummary {
            share_id: m.share_id,
            state: m.state_at(now),
            created_at: m.created_at,
            expires_at: m.deadline(),
            bound_at: m.bound_at,
            record_version: m.record_version,
            self_destruct: m.self_destruct,
            owner_data: owner_data.unwrap_or_default(),
        })
    }
}

/// A state count (`COUNT_BY_STATE`).
pub(crate) struct StateCount {
    state: String,
    n: i64,
}

impl FromSql for StateCount {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            state: col::<D, _>(row, "state")?,
            n: col::<D, _>(row, "n")?,
        })
    }
}

impl StateCount {
    pub(crate) fn into_pair(self) -> Result<(State, u64)> {
        Ok((parse_state(&self.state)?, to_u64(self.n)))
    }

    /// Deltas summed per state; states that sum to 0 are dropped.
    pub(crate) fn fold(deltas: Vec<Self>) -> std::collections::BTreeMap<String, i64> {
        let mut sums = std::collections::BTreeMap::new();
        for d in deltas {
            *sums.entry(d.state).or_insert(0) += d.n;
        }
        sums.retain(|_, n| *n != 0);
        sums
    }
}

/// A finished attachment.
pub(crate) struct AttachmentRow {
    attachment_id: String,
    size: i64,
}

impl FromSql for AttachmentRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            attachment_id: col::<D, _>(row, "attachment_id")?,
            size: col::<D, _>(row, "size")?,
        })
    }
}

impl From<AttachmentRow> for AttachmentInfo {
    fn from(r: AttachmentRow) -> Self {
        Self {
            id: r.attachment_id,
            size: to_u64(r.size),
        }
    }
}

/// The current record (`CURRENT_RECORD`).
pub(crate) struct RecordRow {
    record_version: i64,
    record: Option<Vec<u8>>,
}

impl FromSql for RecordRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            record_version: col::<D, _>(row, "record_version")?,
            record: col::<D, _>(row, "record")?,
        })
    }
}

impl RecordRow {
    pub(crate) fn into_record(self) -> Result<RecordCiphertext> {
        Ok(RecordCiphertext {
            version: to_u64(self.record_version),
            ciphertext: self
                .record
                .ok_or_else(|| Error::internal("live share without record"))?,
        })
    }
}

/// An attachment's progress (`UPLOAD_ROW`).
pub(crate) struct UploadRow {
    size: i64,
    part_size: i64,
    received: i64,
    next_part: i64,
    complete: bool,
}

impl FromSql for UploadRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            size: col::<D, _>(row, "size")?,
            part_size: col::<D, _>(row, "part_size")?,
            received: col::<D, _>(row, "received")?,
            next_part: col::<D, _>(row, "next_part")?,
            complete: col::<D, _>(row, "complete")?,
        })
    }
}

impl From<UploadRow> for UploadStatus {
    fn from(r: UploadRow) -> Self {
        Self {
            part_size: to_u64(r.part_size),
            next_part: to_u64(r.next_part),
            received: to_u64(r.received),
            size: to_u64(r.size),
            complete: r.complete,
        }
    }
}

/// An attachment's layout (`LAYOUT`).
pub(crate) struct LayoutRow {
    size: i64,
    part_size: i64,
    complete: bool,
}

impl FromSql for LayoutRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            size: col::<D, _>(row, "size")?,
            part_size: col::<D, _>(row, "part_size")?,
            complete: col::<D, _>(row, "complete")?,
        })
    }
}

impl From<LayoutRow> for AttachmentLayout {
    fn from(r: LayoutRow) -> Self {
        Self {
            size: to_u64(r.size),
            part_size: to_u64(r.part_size),
            complete: r.complete,
        }
    }
}

/// One event (`EVENTS_SINCE`).
pub(crate) struct EventRow {
    id: i64,
    share_id: Vec<u8>,
    kind: String,
    at: i64,
    detail: Option<String>,
    device_fingerprint: Option<String>,
}

impl FromSql for EventRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            id: col::<D, _>(row, "id")?,
            share_id: col::<D, _>(row, "share_id")?,
            kind: col::<D, _>(row, "kind")?,
            at: col::<D, _>(row, "at")?,
            detail: col::<D, _>(row, "detail")?,
            device_fingerprint: col::<D, _>(row, "device_fingerprint")?,
        })
    }
}

impl EventRow {
    pub(crate) fn into_event(self) -> Result<Event> {
        Ok(Event {
            id: to_u64(self.id),
            share_id: share_id(&self.share_id)?,
            kind: serde_json::from_value(serde_json::Value::String(self.kind))
                .map_err(Error::internal)?,
            at: to_u64(self.at),
            detail: self.detail,
            device_fingerprint: self.device_fingerprint,
        })
    }
}

/// The bind secrets (`BIND_SECRETS`).
pub(crate) struct BindSecrets {
    verifier: Option<Vec<u8>>,
    alarm: Option<Vec<u8>>,
    wrapped_key: Option<Vec<u8>>,
    refusals: i64,
    code_verifier: Option<Vec<u8>>,
    require_code: bool,
    passphrase_verifier: Option<Vec<u8>>,
    factor_failures: i64,
    record_version: i64,
    record: Option<Vec<u8>>,
}

impl FromSql for BindSecrets {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            verifier: col::<D, _>(row, "verifier")?,
            alarm: col::<D, _>(row, "alarm")?,
            wrapped_key: col::<D, _>(row, "wrapped_key")?,
            refusals: col::<D, _>(row, "refusals")?,
            code_verifier: col::<D, _>(row, "code_verifier")?,
            require_code: col::<D, _>(row, "require_code")?,
            passphrase_verifier: col::<D, _>(row, "passphrase_verifier")?,
            factor_failures: col::<D, _>(row, "factor_failures")?,
            record_version: col::<D, _>(row, "record_version")?,
            record: col::<D, _>(row, "record")?,
        })
    }
}

/// What a first bind's second factors decide (PROTOCOL.md §12.4).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FactorCheck {
    /// Nothing more is needed: bind.
    Pass,
    /// The share is locked.
    Locked,
    /// A proof was sent and is wrong: count it.
    Wrong(Factor),
    /// The open code is needed and was not sent.
    CodeRequired,
    /// The passphrase is needed and was not sent.
    PassphraseRequired,
}

/// Checks one sent proof against its stored verifier; a share without that
/// factor ignores the proof.
fn proof_ok(factor: Factor, stored: Option<&Vec<u8>>, sent: Option<[u8; 32]>) -> bool {
    match (
        stored.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()),
        sent,
    ) {
        (Some(verifier), Some(proof)) => Proof::from_bytes(factor, proof).check(&verifier).is_ok(),
        _ => true,
    }
}

impl BindSecrets {
    /// Constant-time proof that the binder holds the token: the verifier until
    /// confirm, the alarm verifier after it (PROTOCOL.md §9.3). A share with
    /// neither (confirmed before alarm verifiers existed) proves nothing.
    pub(crate) fn check(&self, proof: &BindProof) -> Result<()> {
        let ok = match (&self.verifier, &self.alarm) {
            (Some(stored), _) => ct_eq(stored, &proof.verifier),
            (None, Some(stored)) => ct_eq(stored, &proof.alarm),
            (None, None) => false,
        };
        if ok { Ok(()) } else { Err(Error::BadToken) }
    }

    /// The `refused_device` event to append for one more refusal, if the share
    /// has not reported [`MAX_REFUSED_EVENTS`](crate::store::MAX_REFUSED_EVENTS) yet.
    pub(crate) fn refused_detail(&self) -> Option<&'static str> {
        let n = to_u64(self.refusals).saturating_add(1);
        match n.cmp(&crate::store::MAX_REFUSED_EVENTS) {
            core::cmp::Ordering::Less => Some(REFUSED_DETAIL),
            core::cmp::Ordering::Equal => Some(LAST_REFUSED_DETAIL),
            core::cmp::Ordering::Greater => None,
        }
    }

    /// A first bind's second factors: wrong proofs first (they count), then what
    /// is missing; `step_up` says the observation calls for the open code.
    pub(crate) fn check_factors(&self, proof: &BindProof, step_up: bool) -> FactorCheck {
        if to_u64(self.factor_failures) >= MAX_FACTOR_FAILURES {
            return FactorCheck::Locked;
        }
        let code_ok = proof_ok(Factor::OpenCode, self.code_verifier.as_ref(), proof.code);
        let pass_ok = proof_ok(
            Factor::Passphrase,
            self.passphrase_verifier.as_ref(),
            proof.passphrase,
        );
        if !code_ok {
            FactorCheck::Wrong(Factor::OpenCode)
        } else if !pass_ok {
            FactorCheck::Wrong(Factor::Passphrase)
        } else if self.code_verifier.is_some()
            && proof.code.is_none()
            && (self.require_code || step_up)
        {
            FactorCheck::CodeRequired
        } else if self.passphrase_verifier.is_some() && proof.passphrase.is_none() {
            FactorCheck::PassphraseRequired
        } else {
            FactorCheck::Pass
        }
    }

    /// Wrong codes and passphrases so far.
    pub(crate) fn factor_failures(&self) -> u64 {
        to_u64(self.factor_failures)
    }

    /// Whether the share has an open code (the relay can only step up to one it has).
    pub(crate) fn has_code(&self) -> bool {
        self.code_verifier.is_some()
    }

    /// What a bind delivers: the wrapped key a binding share still holds, and
    /// the current record.
    pub(crate) fn delivered(self) -> Result<(Vec<u8>, RecordCiphertext)> {
        let wrapped_key = self
            .wrapped_key
            .ok_or_else(|| Error::internal("binding share without wrapped key"))?;
        let record = RecordRow {
            record_version: self.record_version,
            record: self.record,
        };
        Ok((wrapped_key, record.into_record()?))
    }
}

fn transfer_state(s: &str) -> Result<TransferState> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Error::internal(format!("unknown transfer state {s}")))
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| Error::internal(format!("bad {what} in store")))
}

/// One transfer request (`TRANSFER`, `PENDING_TRANSFER`).
pub(crate) struct TransferRow {
    request_id: Vec<u8>,
    device_key: Vec<u8>,
    ecdh_key: Vec<u8>,
    state: String,
    expires_at: i64,
    transfer_key: Option<Vec<u8>>,
}

impl FromSql for TransferRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            request_id: col::<D, _>(row, "request_id")?,
            device_key: col::<D, _>(row, "device_key")?,
            ecdh_key: col::<D, _>(row, "ecdh_key")?,
            state: col::<D, _>(row, "state")?,
            expires_at: col::<D, _>(row, "expires_at")?,
            transfer_key: col::<D, _>(row, "transfer_key")?,
        })
    }
}

/// A transfer request, typed.
pub(crate) struct Transfer {
    pub(crate) request_id: [u8; transfer::REQUEST_ID_LEN],
    pub(crate) device_key: PublicKey,
    pub(crate) ecdh_key: PublicKey,
    /// The stored state (a pending one may be past `expires_at`).
    pub(crate) state: TransferState,
    pub(crate) expires_at: u64,
    pub(crate) transfer_key: Option<[u8; transfer::TRANSFER_KEY_LEN]>,
}

impl TransferRow {
    pub(crate) fn into_transfer(self) -> Result<Transfer> {
        Ok(Transfer {
            request_id: fixed(&self.request_id, "request id")?,
            device_key: key(&self.device_key)?,
            ecdh_key: key(&self.ecdh_key)?,
            state: transfer_state(&self.state)?,
            expires_at: to_u64(self.expires_at),
            transfer_key: self
                .transfer_key
                .as_deref()
                .map(|k| fixed(k, "transfer key"))
                .transpose()?,
        })
    }
}

impl Transfer {
    /// The state at `now`: a pending request past its time has expired.
    pub(crate) fn state_at(&self, now: u64) -> TransferState {
        if self.state == TransferState::Pending && now >= self.expires_at {
            TransferState::Expired
        } else {
            self.state
        }
    }

    /// Whether this is the same request as `ask` (a retry).
    pub(crate) fn same_as(&self, ask: &TransferAsk) -> bool {
        self.request_id == ask.request_id
            && self.device_key == ask.device_key
            && self.ecdh_key == ask.ecdh_key
    }
}

/// A pending request with its share's transfer box (`PENDING_OF_OWNER`).
pub(crate) struct PendingRow {
    share_id: Vec<u8>,
    request_id: Vec<u8>,
    device_key: Vec<u8>,
    ecdh_key: Vec<u8>,
    requested_at: i64,
    expires_at: i64,
    transfer_box: Option<Vec<u8>>,
}

impl FromSql for PendingRow {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        Ok(Self {
            share_id: col::<D, _>(row, "share_id")?,
            request_id: col::<D, _>(row, "request_id")?,
            device_key: col::<D, _>(row, "device_key")?,
            ecdh_key: col::<D, _>(row, "ecdh_key")?,
            requested_at: col::<D, _>(row, "requested_at")?,
            expires_at: col::<D, _>(row, "expires_at")?,
            transfer_box: col::<D, _>(row, "transfer_box")?,
        })
    }
}

impl PendingRow {
    pub(crate) fn into_pending(self) -> Result<PendingTransfer> {
        Ok(PendingTransfer {
            share_id: share_id(&self.share_id)?,
            request_id: fixed(&self.request_id, "request id")?,
            device_key: key(&self.device_key)?,
            ecdh_key: key(&self.ecdh_key)?,
            requested_at: to_u64(self.requested_at),
            expires_at: to_u64(self.expires_at),
            transfer_box: fixed(
                self.transfer_box
                    .as_deref()
                    .ok_or_else(|| Error::internal("pending transfer without a box"))?,
                "transfer box",
            )?,
        })
    }
}
