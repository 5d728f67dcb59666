//! What both SQL backends share: row → type mapping (rows derive [`sqlx::FromRow`],
//! which is generic over the database), the checks and decisions taken on loaded
//! rows, the SQL text both dialects accept (`$n` placeholders work in SQLite too),
//! and [`sql_store!`], one copy of every `Store` method whose code is the same.
//! Backends keep only pools, locking, notification, listing order and the sweep.

use oneshare_sdk::api::{
    AttachmentInfo, Event, EventKind, RecordCiphertext, ShareSummary, UploadStatus,
};
use oneshare_sdk::lifetime::{Lifetime, State};
use oneshare_sdk::secret::ct_eq;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;

use super::{AttachmentLayout, BindProof, NewShare, ShareMeta, to_u64};
use crate::error::{Error, Result};

/// The columns [`MetaRow`] reads.
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
pub(crate) const COUNT_LIVE: &str = "SELECT COUNT(*) FROM shares WHERE owner = $1 \
     AND state IN ('unbound', 'binding', 'bound') AND deadline > $2";

/// A new share row; `ON CONFLICT DO NOTHING` turns an existing id into 0 rows.
pub(crate) const INSERT_SHARE: &str = "INSERT INTO shares (share_id, owner, state, created_at, \
     expires_in, self_destruct, deadline, verifier, wrapped_key, record_version, record, \
     owner_data) VALUES ($1, $2, 'unbound', $3, $4, $5, $6, $7, $8, 1, $9, $10) \
     ON CONFLICT DO NOTHING";

/// Reserves a new share's bytes: 0 rows means the relay's storage quota is reached.
pub(crate) const RESERVE: &str =
    "UPDATE usage SET bytes = bytes + $1 WHERE id = 1 AND bytes + $1 <= $2";

/// A share's reservation.
pub(crate) const SET_RESERVED: &str = "UPDATE shares SET reserved = $1 WHERE share_id = $2";

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

/// The secrets a bind checks and hands back.
pub(crate) const BIND_SECRETS: &str =
    "SELECT verifier, alarm, wrapped_key, refusals FROM shares WHERE share_id = $1";

/// First bind: `binding`, with device, bind time, the new deadline and the alarm verifier.
pub(crate) const SET_BINDING: &str = "UPDATE shares SET state = 'binding', device_key = $1, \
     bound_at = $2, deadline = $3, alarm = $4 WHERE share_id = $5";

/// One more refused device (bounds the `refused_device` events of a share).
pub(crate) const COUNT_REFUSAL: &str =
    "UPDATE shares SET refusals = refusals + 1 WHERE share_id = $1";

/// Confirmation: `bound`, and the one-time secrets are gone.
pub(crate) const SET_BOUND: &str = "UPDATE shares SET state = 'bound', wrapped_key = NULL, \
     verifier = NULL WHERE share_id = $1";

/// A new record version.
pub(crate) const SET_RECORD: &str =
    "UPDATE shares SET record = $1, record_version = $2 WHERE share_id = $3";

/// The current record.
pub(crate) const CURRENT_RECORD: &str =
    "SELECT record_version, record FROM shares WHERE share_id = $1";

/// Ends a share, keeping its tombstone.
pub(crate) const END_SHARE: &str = "UPDATE shares SET state = $1, ended_at = $2, reserved = 0, \
     verifier = NULL, alarm = NULL, wrapped_key = NULL, record = NULL, owner_data = NULL \
     WHERE share_id = $3";

/// A share's parts.
pub(crate) const DELETE_PARTS: &str = "DELETE FROM attachment_parts WHERE share_id = $1";

/// A share's attachments.
pub(crate) const DELETE_ATTACHMENTS: &str = "DELETE FROM attachments WHERE share_id = $1";

/// One event.
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (owner, share_id, kind, at, detail) VALUES ($1, $2, $3, $4, $5)";

/// An attachment's progress.
pub(crate) const UPLOAD_ROW: &str = "SELECT size, part_size, received, next_part, complete \
     FROM attachments WHERE share_id = $1 AND attachment_id = $2";

/// One stored part.
pub(crate) const PART: &str =
    "SELECT data FROM attachment_parts WHERE share_id = $1 AND attachment_id = $2 AND part = $3";

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

/// Shares per stored state.
pub(crate) const COUNT_BY_STATE: &str = "SELECT state, COUNT(*) AS n FROM shares GROUP BY state";

/// A replay nonce; 0 rows means it was seen.
pub(crate) const INSERT_NONCE: &str =
    "INSERT INTO nonces (signer, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Expired nonces.
pub(crate) const DELETE_NONCES: &str = "DELETE FROM nonces WHERE expires_at <= $1";

/// One owner's events after a cursor.
pub(crate) const EVENTS_SINCE: &str = "SELECT id, share_id, kind, at, detail FROM events \
     WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3";

/// The stored policy.
pub(crate) const POLICY: &str = "SELECT value FROM settings WHERE name = 'policy'";

/// Stores the policy.
pub(crate) const SET_POLICY: &str = "INSERT INTO settings (name, value) VALUES ('policy', $1) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/// The event detail of a refused second device.
pub(crate) const REFUSED_DETAIL: &str = "another device tried to open the link and was refused";

/// The detail of the last `refused_device` event a share reports.
pub(crate) const LAST_REFUSED_DETAIL: &str = "another device tried to open the link and was \
     refused; further attempts on this share are refused without an event";

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

/// A share row as stored ([`meta_columns!`]).
#[derive(sqlx::FromRow)]
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
#[derive(sqlx::FromRow)]
pub(crate) struct ListRow {
    #[sqlx(flatten)]
    meta: MetaRow,
    owner_data: Option<Vec<u8>>,
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

/// A state count ([`COUNT_BY_STATE`]).
#[derive(sqlx::FromRow)]
pub(crate) struct StateCount {
    state: String,
    n: i64,
}

impl StateCount {
    pub(crate) fn into_pair(self) -> Result<(State, u64)> {
        Ok((parse_state(&self.state)?, to_u64(self.n)))
    }
}

/// A finished attachment.
#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    attachment_id: String,
    size: i64,
}

impl From<AttachmentRow> for AttachmentInfo {
    fn from(r: AttachmentRow) -> Self {
        Self {
            id: r.attachment_id,
            size: to_u64(r.size),
        }
    }
}

/// The current record ([`CURRENT_RECORD`]).
#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    record_version: i64,
    record: Option<Vec<u8>>,
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

/// An attachment's progress ([`UPLOAD_ROW`]).
#[derive(sqlx::FromRow)]
pub(crate) struct UploadRow {
    size: i64,
    part_size: i64,
    received: i64,
    next_part: i64,
    complete: bool,
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

/// An attachment's layout ([`LAYOUT`]).
#[derive(sqlx::FromRow)]
pub(crate) struct LayoutRow {
    size: i64,
    part_size: i64,
    complete: bool,
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

/// One event ([`EVENTS_SINCE`]).
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    share_id: Vec<u8>,
    kind: String,
    at: i64,
    detail: Option<String>,
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
        })
    }
}

/// The bind secrets ([`BIND_SECRETS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct BindSecrets {
    verifier: Option<Vec<u8>>,
    alarm: Option<Vec<u8>>,
    wrapped_key: Option<Vec<u8>>,
    refusals: i64,
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
    /// has not reported [`MAX_REFUSED_EVENTS`](super::MAX_REFUSED_EVENTS) yet.
    pub(crate) fn refused_detail(&self) -> Option<&'static str> {
        let n = to_u64(self.refusals).saturating_add(1);
        match n.cmp(&super::MAX_REFUSED_EVENTS) {
            core::cmp::Ordering::Less => Some(REFUSED_DETAIL),
            core::cmp::Ordering::Equal => Some(LAST_REFUSED_DETAIL),
            core::cmp::Ordering::Greater => None,
        }
    }

    /// The wrapped key a binding share still holds.
    pub(crate) fn wrapped_key(self) -> Result<Vec<u8>> {
        self.wrapped_key
            .ok_or_else(|| Error::internal("binding share without wrapped key"))
    }
}

/// The bytes a new share reserves in the relay's storage quota.
pub(crate) fn reserved(s: &NewShare) -> u64 {
    let fixed = [&s.record, &s.owner_data, &s.wrapped_key]
        .iter()
        .map(|b| part_len(b))
        .fold(0u64, u64::saturating_add);
    s.attachments
        .iter()
        .map(|a| a.size)
        .fold(fixed, u64::saturating_add)
}

/// A new share's deadline (unbound: link lifetime).
pub(crate) fn initial_deadline(s: &NewShare) -> u64 {
    Lifetime {
        created_at: s.created_at,
        expires_in: s.expires_in,
        self_destruct: s.self_destruct,
        bound_at: None,
    }
    .deadline()
}

/// The deadline once bound at `now`.
pub(crate) fn bound_deadline(m: &ShareMeta, now: u64) -> u64 {
    Lifetime {
        bound_at: Some(now),
        ..m.lifetime()
    }
    .deadline()
}

/// Fails with `Gone` unless live at `now`, else the effective state.
pub(crate) fn live_state(m: &ShareMeta, now: u64) -> Result<State> {
    let state = m.state_at(now);
    if state.is_live() {
        Ok(state)
    } else {
        Err(Error::Gone(state))
    }
}

/// A live share bound to `device` (the device-signed operations).
pub(crate) fn require_device(m: &ShareMeta, device: &PublicKey, now: u64) -> Result<()> {
    m.require_live(now)?;
    if m.device_key.as_ref() != Some(device) {
        return Err(Error::BadSignature);
    }
    Ok(())
}

/// A share found, and owned by `owner` unless that is `None` (an admin).
pub(crate) fn owned(m: Option<ShareMeta>, owner: Option<&PublicKey>) -> Result<ShareMeta> {
    match m {
        Some(m) if owner.is_none_or(|o| *o == m.owner) => Ok(m),
        _ => Err(Error::NotFound),
    }
}

/// A live share whose next record version is `version`; returns the event detail.
pub(crate) fn check_update(m: &ShareMeta, version: u64, now: u64) -> Result<String> {
    m.require_live(now)?;
    if version != m.record_version.saturating_add(1) {
        return Err(Error::Conflict(
            "the record version must be the current version plus one",
        ));
    }
    Ok(format!("version {version}"))
}

/// A resent part must match the stored one.
pub(crate) fn same_part(stored: &[u8], bytes: &[u8], status: UploadStatus) -> Result<UploadStatus> {
    if stored == bytes {
        Ok(status)
    } else {
        Err(Error::Conflict(
            "this part was already received with different bytes",
        ))
    }
}

/// An upload can be finalized once every declared byte arrived.
pub(crate) fn finalized(status: UploadStatus) -> Result<UploadStatus> {
    if status.received != status.size {
        return Err(Error::Conflict(
            "the upload is incomplete: received size differs from the declared size",
        ));
    }
    Ok(UploadStatus {
        complete: true,
        ..status
    })
}

/// The event that records how a share ended.
pub(crate) fn end_event(end: State) -> EventKind {
    match end {
        State::Revoked => EventKind::Revoked,
        State::SelfDestructed => EventKind::SelfDestructed,
        _ => EventKind::Expired,
    }
}

/// A part's length as stored.
pub(crate) fn part_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// The [`Store`](super::Store) methods and transaction helpers whose text is the
/// same for every SQL backend, instantiated once per backend (`$store` over the
/// sqlx database `$db`): sqlx's generic bounds would repeat on every function,
/// while a macro keeps one copy of the code with concrete, checked types.
///
/// The backend module supplies the dialect-specific parts:
/// - `self.writer()` / `self.reader()`: pools for transactions and plain reads;
/// - `self.notify(owner)`: wakes that owner's local SSE streams after a commit;
/// - `load_owned(tx, id, owner)`: loads (and, where needed, locks) an owned share;
/// - `guard_quota(tx, owner)`: makes "count live shares, then insert" atomic;
/// - `push_event`: the function that appends an event (`insert_event`, generated
///   here, or a backend's wrapper that also locks and announces);
/// - `tie`: the column that orders shares created in the same second;
/// - `no_owner_data`: what the admin listing selects in place of owner data;
/// - `self.sweep_due(now)`: the sweep, whose transactions differ;
/// - `self.scrub()`: after a revoke, removes deleted ciphertext from any file
///   that may still hold it (SQLite's `-wal`).
macro_rules! sql_store {
    (
        $store:ty,
        $db:ty,
        push_event: $push_event:ident,
        tie: $tie:literal,
        no_owner_data: $no_owner_data:literal $(,)?
    ) => {
        use $crate::store::common as sql;

        /// One owner's shares with owner data, newest first.
        const LIST_OWN: &str = concat!(
            "SELECT ",
            $crate::store::common::meta_columns!(),
            ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, ",
            $tie,
            " DESC"
        );

        /// Every share (the admin listing, which drops owner data), newest first.
        const LIST_ALL: &str = concat!(
            "SELECT ",
            $crate::store::common::meta_columns!(),
            ", ",
            $no_owner_data,
            " FROM shares ORDER BY created_at DESC, ",
            $tie,
            " DESC"
        );

        /// A share's metadata, unlocked.
        async fn load<'e>(
            ex: impl ::sqlx::Executor<'e, Database = $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<Option<$crate::store::ShareMeta>> {
            let row: Option<sql::MetaRow> = ::sqlx::query_as(sql::SHARE)
                .bind(&id.0[..])
                .fetch_optional(ex)
                .await?;
            row.map(sql::MetaRow::into_meta).transpose()
        }

        /// Inserts one event row.
        async fn insert_event(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            m: &$crate::store::ShareMeta,
            kind: ::oneshare_sdk::api::EventKind,
            at: u64,
            detail: Option<String>,
        ) -> $crate::error::Result<()> {
            ::sqlx::query(sql::INSERT_EVENT)
                .bind(&m.owner.to_bytes()[..])
                .bind(&m.share_id.0[..])
                .bind(sql::kind_str(kind)?)
                .bind($crate::store::to_i64(at))
                .bind(detail)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn finished_attachments(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<Vec<::oneshare_sdk::api::AttachmentInfo>> {
            let rows: Vec<sql::AttachmentRow> = ::sqlx::query_as(sql::FINISHED_ATTACHMENTS)
                .bind(&id.0[..])
                .fetch_all(&mut **tx)
                .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn current_record(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<::oneshare_sdk::api::RecordCiphertext> {
            let row: sql::RecordRow = ::sqlx::query_as(sql::CURRENT_RECORD)
                .bind(&id.0[..])
                .fetch_one(&mut **tx)
                .await?;
            row.into_record()
        }

        /// Ends a share: ciphertext, keys and parts deleted, tombstone kept.
        async fn purge(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            m: &$crate::store::ShareMeta,
            end: ::oneshare_sdk::lifetime::State,
            now: u64,
        ) -> $crate::error::Result<()> {
            ::sqlx::query(sql::RELEASE)
                .bind(&m.share_id.0[..])
                .execute(&mut **tx)
                .await?;
            ::sqlx::query(sql::END_SHARE)
                .bind(end.as_str())
                .bind($crate::store::to_i64(now))
                .bind(&m.share_id.0[..])
                .execute(&mut **tx)
                .await?;
            for q in [sql::DELETE_PARTS, sql::DELETE_ATTACHMENTS] {
                ::sqlx::query(q)
                    .bind(&m.share_id.0[..])
                    .execute(&mut **tx)
                    .await?;
            }
            $push_event(tx, m, sql::end_event(end), now, None).await
        }

        async fn upload_row(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
            attachment: &str,
        ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
            let row: sql::UploadRow = ::sqlx::query_as(sql::UPLOAD_ROW)
                .bind(&id.0[..])
                .bind(attachment)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or($crate::error::Error::NotFound)?;
            Ok(row.into())
        }

        #[::async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn create_share(
                &self,
                s: &$crate::store::NewShare,
                max_live: u64,
                max_stored_bytes: u64,
            ) -> $crate::error::Result<()> {
                use $crate::store::{to_i64, to_u64};
                let mut tx = self.writer().begin().await?;
                let owner = s.owner.to_bytes();
                guard_quota(&mut tx, &s.owner).await?;
                let live: i64 = ::sqlx::query_scalar(sql::COUNT_LIVE)
                    .bind(&owner[..])
                    .bind(to_i64(s.created_at))
                    .fetch_one(&mut *tx)
                    .await?;
                if to_u64(live) >= max_live {
                    return Err($crate::error::Error::Quota);
                }
                let inserted = ::sqlx::query(sql::INSERT_SHARE)
                    .bind(&s.share_id.0[..])
                    .bind(&owner[..])
                    .bind(to_i64(s.created_at))
                    .bind(to_i64(s.expires_in))
                    .bind(s.self_destruct)
                    .bind(to_i64(sql::initial_deadline(s)))
                    .bind(&s.verifier[..])
                    .bind(&s.wrapped_key[..])
                    .bind(&s.record[..])
                    .bind(&s.owner_data[..])
                    .execute(&mut *tx)
                    .await?;
                if inserted.rows_affected() == 0 {
                    return Err($crate::error::Error::Conflict(
                        "a share with this id exists",
                    ));
                }
                let reserved = to_i64(sql::reserved(s));
                let room = ::sqlx::query(sql::RESERVE)
                    .bind(reserved)
                    .bind(to_i64(max_stored_bytes))
                    .execute(&mut *tx)
                    .await?;
                if room.rows_affected() == 0 {
                    return Err($crate::error::Error::StorageFull);
                }
                ::sqlx::query(sql::SET_RESERVED)
                    .bind(reserved)
                    .bind(&s.share_id.0[..])
                    .execute(&mut *tx)
                    .await?;
                for a in &s.attachments {
                    let r = ::sqlx::query(sql::INSERT_ATTACHMENT)
                        .bind(&s.share_id.0[..])
                        .bind(&a.id)
                        .bind(to_i64(a.size))
                        .bind(to_i64(s.part_size))
                        .execute(&mut *tx)
                        .await?;
                    if r.rows_affected() == 0 {
                        return Err($crate::error::Error::BadRequest(
                            "duplicate attachment id".to_owned(),
                        ));
                    }
                }
                let m = load_owned(&mut tx, &s.share_id, None).await?;
                $push_event(
                    &mut tx,
                    &m,
                    ::oneshare_sdk::api::EventKind::Created,
                    s.created_at,
                    None,
                )
                .await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok(())
            }

            async fn share(
                &self,
                id: &::oneshare_sdk::token::ShareId,
            ) -> $crate::error::Result<Option<$crate::store::ShareMeta>> {
                load(self.reader(), id).await
            }

            async fn bind(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                proof: &$crate::store::BindProof,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<$crate::store::BindOutcome> {
                use ::oneshare_sdk::api::EventKind;
                use ::oneshare_sdk::lifetime::BindDecision;
                use $crate::error::Error;
                use $crate::store::to_i64;
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                let state = sql::live_state(&m, now)?;
                let decision =
                    ::oneshare_sdk::lifetime::decide_bind(state, m.device_key.as_ref(), device);
                if decision == BindDecision::AlreadyYours {
                    return Err(Error::AlreadyConfirmed);
                }
                let secrets: sql::BindSecrets = ::sqlx::query_as(sql::BIND_SECRETS)
                    .bind(&id.0[..])
                    .fetch_one(&mut *tx)
                    .await?;
                secrets.check(proof)?;
                let retry = match decision {
                    BindDecision::Bind => {
                        ::sqlx::query(sql::SET_BINDING)
                            .bind(&device.to_bytes()[..])
                            .bind(to_i64(now))
                            .bind(to_i64(sql::bound_deadline(&m, now)))
                            .bind(&proof.alarm[..])
                            .bind(&id.0[..])
                            .execute(&mut *tx)
                            .await?;
                        let detail = $crate::store::bind_detail(m.created_at, now);
                        $push_event(&mut tx, &m, EventKind::Bound, now, Some(detail)).await?;
                        false
                    }
                    BindDecision::Retry => true,
                    BindDecision::OtherDevice => {
                        if let Some(detail) = secrets.refused_detail() {
                            ::sqlx::query(sql::COUNT_REFUSAL)
                                .bind(&id.0[..])
                                .execute(&mut *tx)
                                .await?;
                            let detail = Some(detail.to_owned());
                            $push_event(&mut tx, &m, EventKind::RefusedDevice, now, detail).await?;
                            tx.commit().await?;
                            self.notify(&m.owner);
                        }
                        return Err(Error::AlreadyBound);
                    }
                    BindDecision::AlreadyYours => return Err(Error::AlreadyConfirmed),
                    BindDecision::Gone(s) => return Err(Error::Gone(s)),
                };
                let wrapped_key = secrets.wrapped_key()?;
                let record = current_record(&mut tx, id).await?;
                let attachments = finished_attachments(&mut tx, id).await?;
                let after = load_owned(&mut tx, id, None).await?;
                tx.commit().await?;
                if !retry {
                    self.notify(&m.owner);
                }
                Ok($crate::store::BindOutcome {
                    wrapped_key,
                    record,
                    attachments,
                    access_expires_at: after.deadline(),
                    self_destruct: after.self_destruct,
                    retry,
                })
            }

            async fn confirm(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<u64> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                sql::require_device(&m, device, now)?;
                if m.state == ::oneshare_sdk::lifetime::State::Binding {
                    ::sqlx::query(sql::SET_BOUND)
                        .bind(&id.0[..])
                        .execute(&mut *tx)
                        .await?;
                    let kind = ::oneshare_sdk::api::EventKind::Confirmed;
                    $push_event(&mut tx, &m, kind, now, None).await?;
                    tx.commit().await?;
                    self.notify(&m.owner);
                }
                Ok(m.deadline())
            }

            async fn fetch_record(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<$crate::store::RecordView> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                sql::require_device(&m, device, now)?;
                let record = current_record(&mut tx, id).await?;
                let attachments = finished_attachments(&mut tx, id).await?;
                let kind = ::oneshare_sdk::api::EventKind::Viewed;
                $push_event(&mut tx, &m, kind, now, None).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok($crate::store::RecordView {
                    record,
                    attachments,
                    access_expires_at: m.deadline(),
                })
            }

            async fn update_record(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                record: &::oneshare_sdk::api::RecordCiphertext,
                now: u64,
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                let detail = sql::check_update(&m, record.version, now)?;
                let old = current_record(&mut tx, id).await?;
                let delta = $crate::store::to_i64(sql::part_len(&record.ciphertext))
                    .saturating_sub($crate::store::to_i64(sql::part_len(&old.ciphertext)));
                ::sqlx::query(sql::ADJUST)
                    .bind(delta)
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::ADJUST_SHARE)
                    .bind(delta)
                    .bind(&id.0[..])
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::SET_RECORD)
                    .bind(&record.ciphertext[..])
                    .bind($crate::store::to_i64(record.version))
                    .bind(&id.0[..])
                    .execute(&mut *tx)
                    .await?;
                let kind = ::oneshare_sdk::api::EventKind::Updated;
                $push_event(&mut tx, &m, kind, now, Some(detail)).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok(())
            }

            async fn revoke(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: Option<&::oneshare_sdk::signing::PublicKey>,
                now: u64,
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, owner).await?;
                m.require_live(now)?;
                purge(&mut tx, &m, ::oneshare_sdk::lifetime::State::Revoked, now).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                self.scrub().await
            }

            async fn list_shares(
                &self,
                owner: Option<&::oneshare_sdk::signing::PublicKey>,
                now: u64,
            ) -> $crate::error::Result<Vec<::oneshare_sdk::api::ShareSummary>> {
                let q = match owner {
                    Some(o) => ::sqlx::query_as(LIST_OWN).bind(o.to_bytes().to_vec()),
                    None => ::sqlx::query_as(LIST_ALL),
                };
                let rows: Vec<sql::ListRow> = q.fetch_all(self.reader()).await?;
                rows.into_iter()
                    .map(|r| r.into_summary(now, owner.is_some()))
                    .collect()
            }

            async fn count_by_state(
                &self,
            ) -> $crate::error::Result<Vec<(::oneshare_sdk::lifetime::State, u64)>> {
                let rows: Vec<sql::StateCount> = ::sqlx::query_as(sql::COUNT_BY_STATE)
                    .fetch_all(self.reader())
                    .await?;
                rows.into_iter().map(sql::StateCount::into_pair).collect()
            }

            async fn put_part(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
                n: u64,
                bytes: &[u8],
                now: u64,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                use $crate::store::to_i64;
                let mut tx = self.writer().begin().await?;
                // `load_owned` (a row lock, or the one writer) serializes uploads of its parts.
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                m.require_live(now)?;
                let status = upload_row(&mut tx, id, attachment).await?;
                let len = sql::part_len(bytes);
                if !$crate::store::check_part(&status, n, len)? {
                    let stored: Vec<u8> = ::sqlx::query_scalar(sql::PART)
                        .bind(&id.0[..])
                        .bind(attachment)
                        .bind(to_i64(n))
                        .fetch_one(&mut *tx)
                        .await?;
                    return sql::same_part(&stored, bytes, status);
                }
                ::sqlx::query(sql::INSERT_PART)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .bind(to_i64(n))
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::ADVANCE_UPLOAD)
                    .bind(to_i64(len))
                    .bind(&id.0[..])
                    .bind(attachment)
                    .execute(&mut *tx)
                    .await?;
                let status = upload_row(&mut tx, id, attachment).await?;
                tx.commit().await?;
                Ok(status)
            }

            async fn upload_status(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                // A plain read (no row lock), so polling never queues behind an upload.
                let mut tx = self.reader().begin().await?;
                sql::owned(load(&mut *tx, id).await?, Some(owner))?;
                let status = upload_row(&mut tx, id, attachment).await?;
                tx.commit().await?;
                Ok(status)
            }

            async fn finalize(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
                now: u64,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                m.require_live(now)?;
                let done = sql::finalized(upload_row(&mut tx, id, attachment).await?)?;
                ::sqlx::query(sql::FINALIZE)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn attachment(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                attachment: &str,
            ) -> $crate::error::Result<$crate::store::AttachmentLayout> {
                let row: sql::LayoutRow = ::sqlx::query_as(sql::LAYOUT)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or($crate::error::Error::NotFound)?;
                Ok(row.into())
            }

            async fn read_part(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                attachment: &str,
                n: u64,
            ) -> $crate::error::Result<Vec<u8>> {
                ::sqlx::query_scalar(sql::PART)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .bind($crate::store::to_i64(n))
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or($crate::error::Error::NotFound)
            }

            async fn record_nonce(
                &self,
                signer: &str,
                nonce: &[u8; 16],
                expires_at: u64,
            ) -> $crate::error::Result<()> {
                let r = ::sqlx::query(sql::INSERT_NONCE)
                    .bind(signer)
                    .bind(&nonce[..])
                    .bind($crate::store::to_i64(expires_at))
                    .execute(self.writer())
                    .await?;
                if r.rows_affected() == 0 {
                    return Err($crate::error::Error::Replayed);
                }
                Ok(())
            }

            async fn events_since(
                &self,
                owner: &::oneshare_sdk::signing::PublicKey,
                after: u64,
                limit: u32,
            ) -> $crate::error::Result<Vec<::oneshare_sdk::api::Event>> {
                let rows: Vec<sql::EventRow> = ::sqlx::query_as(sql::EVENTS_SINCE)
                    .bind(&owner.to_bytes()[..])
                    .bind($crate::store::to_i64(after))
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                rows.into_iter().map(sql::EventRow::into_event).collect()
            }

            async fn policy(&self) -> $crate::error::Result<Option<::oneshare_sdk::api::Policy>> {
                let v: Option<String> = ::sqlx::query_scalar(sql::POLICY)
                    .fetch_optional(self.reader())
                    .await?;
                v.map(|v| serde_json::from_str(&v).map_err($crate::error::Error::internal))
                    .transpose()
            }

            async fn set_policy(
                &self,
                policy: &::oneshare_sdk::api::Policy,
            ) -> $crate::error::Result<()> {
                let v = serde_json::to_string(policy).map_err($crate::error::Error::internal)?;
                ::sqlx::query(sql::SET_POLICY)
                    .bind(v)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn sweep(&self, now: u64) -> $crate::error::Result<$crate::store::SweepReport> {
                self.sweep_due(now).await
            }

            fn event_signal(
                &self,
                owner: &::oneshare_sdk::signing::PublicKey,
            ) -> ::tokio::sync::watch::Receiver<u64> {
                self.events.subscribe(owner)
            }
        }
    };
}
pub(crate) use sql_store;
