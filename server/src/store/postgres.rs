//! PostgreSQL backend, for many stateless relay instances on one database.
//!
//! Every trait method is one transaction under READ COMMITTED. Races are settled by
//! row locks: a method that changes a share first takes `SELECT … FOR UPDATE` on
//! its row, so concurrent binders queue on the row and exactly one sees it unbound.
//! Appending an event also takes a per-owner advisory lock held until commit, so
//! each owner's event ids become visible in increasing order and an SSE cursor
//! (`id > after`) never skips one that commits late. Every event is announced with
//! `NOTIFY` at commit; each instance LISTENs and wakes its SSE streams, so a stream
//! on instance A sees what instance B wrote. Ending a share deletes its ciphertext
//! rows (attachments and parts) and clears its ciphertext columns.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oneshare_sdk::api::{
    AttachmentInfo, Event, EventKind, Policy, RecordCiphertext, ShareSummary, UploadStatus,
};
use oneshare_sdk::lifetime::{self, BindDecision, State};
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::common::{
    self, AttachmentRow, BindSecrets, EventRow, LayoutRow, ListRow, MetaRow, REFUSED_DETAIL,
    RecordRow, StateCount, UploadRow, bound_deadline, check_update, end_event, finalized,
    initial_deadline, kind_str, live_state, meta_columns, owned, part_len, require_device,
    same_part, share_id,
};
use super::{
    AttachmentLayout, BindOutcome, NewShare, RecordView, ShareMeta, Store, SweepReport,
    bind_detail, check_part, to_i64, to_u64,
};
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The NOTIFY channel that carries "events were appended".
const CHANNEL: &str = "oneshare_events";

/// Stops the LISTEN task when the last clone of the store goes away.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    signal: Arc<watch::Sender<u64>>,
    _listener: Arc<AbortOnDrop>,
}

impl PgStore {
    /// Connects, migrates and starts listening for other instances' events.
    ///
    /// # Errors
    /// The URL is invalid or the database cannot be reached or migrated.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, 32).await
    }

    /// As [`PgStore::open`], with a chosen connection pool size.
    ///
    /// # Errors
    /// The URL is invalid or the database cannot be reached or migrated.
    pub async fn open_with(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        // Two instances starting at once must not both migrate.
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock(7215402380011)")
            .execute(&mut *conn)
            .await?;
        let migrated = MIGRATOR.run(&mut *conn).await;
        sqlx::query("SELECT pg_advisory_unlock(7215402380011)")
            .execute(&mut *conn)
            .await?;
        drop(conn);
        migrated?;
        let last: i64 = sqlx::query_scalar(common::LAST_EVENT)
            .fetch_one(&pool)
            .await?;
        let (signal, _) = watch::channel(to_u64(last));
        let signal = Arc::new(signal);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let task = tokio::spawn(listen(listener, Arc::downgrade(&signal)));
        Ok(Self {
            pool,
            signal,
            _listener: Arc::new(AbortOnDrop(task)),
        })
    }

    fn notify(&self) {
        bump(&self.signal);
    }
}

fn bump(signal: &watch::Sender<u64>) {
    signal.send_modify(|v| *v = v.wrapping_add(1));
}

/// Wakes local SSE streams on every NOTIFY from any instance. After a lost
/// connection (notifications may have been missed) it wakes them too; they
/// re-read from their cursor, so a spurious wake-up costs one query.
async fn listen(mut listener: PgListener, signal: std::sync::Weak<watch::Sender<u64>>) {
    loop {
        let got = listener.try_recv().await;
        let Some(signal) = signal.upgrade() else {
            return;
        };
        match got {
            Ok(_) => bump(&signal),
            Err(e) => {
                tracing::warn!(error = %e, "event listener lost its connection; retrying");
                bump(&signal);
                drop(signal);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The advisory lock id of an owner (64 bits of its public key).
fn owner_lock(owner: &PublicKey) -> i64 {
    let b = owner.to_bytes();
    let mut id = [0u8; 8];
    for (i, x) in b.iter().enumerate() {
        if let Some(slot) = id.get_mut(i % 8) {
            *slot ^= *x;
        }
    }
    i64::from_le_bytes(id)
}

/// Loads and row-locks a share for the rest of the transaction.
async fn lock(tx: &mut Transaction<'_, Postgres>, id: &ShareId) -> Result<Option<ShareMeta>> {
    let row: Option<MetaRow> = sqlx::query_as(concat!(
        "SELECT ",
        meta_columns!(),
        " FROM shares WHERE share_id = $1 FOR UPDATE"
    ))
    .bind(&id.0[..])
    .fetch_optional(&mut **tx)
    .await?;
    row.map(MetaRow::into_meta).transpose()
}

async fn lock_owned(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    owned(lock(tx, id).await?, owner)
}

/// Serializes this owner's event appends (and quota checks) until commit.
async fn lock_owner(tx: &mut Transaction<'_, Postgres>, owner: &PublicKey) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(owner_lock(owner))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn push_event(
    tx: &mut Transaction<'_, Postgres>,
    m: &ShareMeta,
    kind: EventKind,
    at: u64,
    detail: Option<String>,
) -> Result<()> {
    lock_owner(tx, &m.owner).await?;
    sqlx::query(common::INSERT_EVENT)
        .bind(&m.owner.to_bytes()[..])
        .bind(&m.share_id.0[..])
        .bind(kind_str(kind)?)
        .bind(to_i64(at))
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    // Delivered to every listening instance when (and only if) the transaction commits.
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn finished_attachments(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
) -> Result<Vec<AttachmentInfo>> {
    let rows: Vec<AttachmentRow> = sqlx::query_as(common::FINISHED_ATTACHMENTS)
        .bind(&id.0[..])
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().map(AttachmentInfo::from).collect())
}

async fn current_record(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
) -> Result<RecordCiphertext> {
    let row: RecordRow = sqlx::query_as(common::CURRENT_RECORD)
        .bind(&id.0[..])
        .fetch_one(&mut **tx)
        .await?;
    row.into_record()
}

/// Ends a locked share: ciphertext, keys and parts deleted, tombstone kept.
async fn purge(
    tx: &mut Transaction<'_, Postgres>,
    m: &ShareMeta,
    end: State,
    now: u64,
) -> Result<()> {
    sqlx::query(common::END_SHARE)
        .bind(end.as_str())
        .bind(to_i64(now))
        .bind(&m.share_id.0[..])
        .execute(&mut **tx)
        .await?;
    for sql in [common::DELETE_PARTS, common::DELETE_ATTACHMENTS] {
        sqlx::query(sql)
            .bind(&m.share_id.0[..])
            .execute(&mut **tx)
            .await?;
    }
    push_event(tx, m, end_event(end), now, None).await
}

async fn upload_row(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
    attachment: &str,
) -> Result<UploadStatus> {
    let row: UploadRow = sqlx::query_as(common::UPLOAD_ROW)
        .bind(&id.0[..])
        .bind(attachment)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(row.into())
}

#[async_trait]
impl Store for PgStore {
    async fn create_share(&self, s: &NewShare, max_live: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let owner = s.owner.to_bytes();
        // The owner lock makes "count, then insert" atomic across instances.
        lock_owner(&mut tx, &s.owner).await?;
        let live: i64 = sqlx::query_scalar(common::COUNT_LIVE)
            .bind(&owner[..])
            .bind(to_i64(s.created_at))
            .fetch_one(&mut *tx)
            .await?;
        if to_u64(live) >= max_live {
            return Err(Error::Quota);
        }
        let inserted = sqlx::query(common::INSERT_SHARE)
            .bind(&s.share_id.0[..])
            .bind(&owner[..])
            .bind(to_i64(s.created_at))
            .bind(to_i64(s.expires_in))
            .bind(s.self_destruct)
            .bind(to_i64(initial_deadline(s)))
            .bind(&s.verifier[..])
            .bind(&s.wrapped_key[..])
            .bind(&s.record[..])
            .bind(&s.owner_data[..])
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict("a share with this id exists"));
        }
        for a in &s.attachments {
            let r = sqlx::query(common::INSERT_ATTACHMENT)
                .bind(&s.share_id.0[..])
                .bind(&a.id)
                .bind(to_i64(a.size))
                .bind(to_i64(s.part_size))
                .execute(&mut *tx)
                .await?;
            if r.rows_affected() == 0 {
                return Err(Error::BadRequest("duplicate attachment id".to_owned()));
            }
        }
        let m = lock_owned(&mut tx, &s.share_id, None).await?;
        push_event(&mut tx, &m, EventKind::Created, s.created_at, None).await?;
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn share(&self, id: &ShareId) -> Result<Option<ShareMeta>> {
        let row: Option<MetaRow> = sqlx::query_as(common::SHARE)
            .bind(&id.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.map(MetaRow::into_meta).transpose()
    }

    async fn bind(
        &self,
        id: &ShareId,
        verifier: &[u8; 32],
        device: &PublicKey,
        now: u64,
    ) -> Result<BindOutcome> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, None).await?;
        let state = live_state(&m, now)?;
        let secrets: BindSecrets = sqlx::query_as(common::BIND_SECRETS)
            .bind(&id.0[..])
            .fetch_one(&mut *tx)
            .await?;
        secrets.check(verifier)?;
        let retry = match lifetime::decide_bind(state, m.device_key.as_ref(), device) {
            BindDecision::Bind => {
                sqlx::query(common::SET_BINDING)
                    .bind(&device.to_bytes()[..])
                    .bind(to_i64(now))
                    .bind(to_i64(bound_deadline(&m, now)))
                    .bind(&id.0[..])
                    .execute(&mut *tx)
                    .await?;
                let detail = bind_detail(m.created_at, now);
                push_event(&mut tx, &m, EventKind::Bound, now, Some(detail)).await?;
                false
            }
            BindDecision::Retry => true,
            BindDecision::OtherDevice => {
                let detail = Some(REFUSED_DETAIL.to_owned());
                push_event(&mut tx, &m, EventKind::RefusedDevice, now, detail).await?;
                tx.commit().await?;
                self.notify();
                return Err(Error::AlreadyBound);
            }
            BindDecision::Gone(s) => return Err(Error::Gone(s)),
        };
        let wrapped_key = secrets.wrapped_key()?;
        let record = current_record(&mut tx, id).await?;
        let attachments = finished_attachments(&mut tx, id).await?;
        let after = lock_owned(&mut tx, id, None).await?;
        tx.commit().await?;
        if !retry {
            self.notify();
        }
        Ok(BindOutcome {
            wrapped_key,
            record,
            attachments,
            access_expires_at: after.deadline(),
            self_destruct: after.self_destruct,
            retry,
        })
    }

    async fn confirm(&self, id: &ShareId, device: &PublicKey, now: u64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, None).await?;
        require_device(&m, device, now)?;
        if m.state == State::Binding {
            sqlx::query(common::SET_BOUND)
                .bind(&id.0[..])
                .execute(&mut *tx)
                .await?;
            push_event(&mut tx, &m, EventKind::Confirmed, now, None).await?;
            tx.commit().await?;
            self.notify();
        }
        Ok(m.deadline())
    }

    async fn fetch_record(&self, id: &ShareId, device: &PublicKey, now: u64) -> Result<RecordView> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, None).await?;
        require_device(&m, device, now)?;
        let record = current_record(&mut tx, id).await?;
        let attachments = finished_attachments(&mut tx, id).await?;
        push_event(&mut tx, &m, EventKind::Viewed, now, None).await?;
        tx.commit().await?;
        self.notify();
        Ok(RecordView {
            record,
            attachments,
            access_expires_at: m.deadline(),
        })
    }

    async fn update_record(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        record: &RecordCiphertext,
        now: u64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, Some(owner)).await?;
        let detail = check_update(&m, record.version, now)?;
        sqlx::query(common::SET_RECORD)
            .bind(&record.ciphertext[..])
            .bind(to_i64(record.version))
            .bind(&id.0[..])
            .execute(&mut *tx)
            .await?;
        push_event(&mut tx, &m, EventKind::Updated, now, Some(detail)).await?;
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn revoke(&self, id: &ShareId, owner: Option<&PublicKey>, now: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, owner).await?;
        m.require_live(now)?;
        purge(&mut tx, &m, State::Revoked, now).await?;
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn list_shares(&self, owner: Option<&PublicKey>, now: u64) -> Result<Vec<ShareSummary>> {
        let q = match owner {
            Some(o) => sqlx::query_as(concat!(
                "SELECT ",
                meta_columns!(),
                ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, seq DESC"
            ))
            .bind(o.to_bytes().to_vec()),
            None => sqlx::query_as(concat!(
                "SELECT ",
                meta_columns!(),
                ", NULL::bytea AS owner_data FROM shares ORDER BY created_at DESC, seq DESC"
            )),
        };
        let rows: Vec<ListRow> = q.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| r.into_summary(now, owner.is_some()))
            .collect()
    }

    async fn count_by_state(&self) -> Result<Vec<(State, u64)>> {
        let rows: Vec<StateCount> = sqlx::query_as(common::COUNT_BY_STATE)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(StateCount::into_pair).collect()
    }

    async fn put_part(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        n: u64,
        bytes: &[u8],
        now: u64,
    ) -> Result<UploadStatus> {
        let mut tx = self.pool.begin().await?;
        // The share row lock also serializes concurrent uploads of its parts.
        let m = lock_owned(&mut tx, id, Some(owner)).await?;
        m.require_live(now)?;
        let status = upload_row(&mut tx, id, attachment).await?;
        let len = part_len(bytes);
        let part = (&id.0[..], attachment, to_i64(n));
        if !check_part(&status, n, len)? {
            let stored: Vec<u8> = sqlx::query_scalar(common::PART)
                .bind(part.0)
                .bind(part.1)
                .bind(part.2)
                .fetch_one(&mut *tx)
                .await?;
            return same_part(&stored, bytes, status);
        }
        sqlx::query(common::INSERT_PART)
            .bind(part.0)
            .bind(part.1)
            .bind(part.2)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
        sqlx::query(common::ADVANCE_UPLOAD)
            .bind(to_i64(len))
            .bind(part.0)
            .bind(part.1)
            .execute(&mut *tx)
            .await?;
        let status = upload_row(&mut tx, id, attachment).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn upload_status(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
    ) -> Result<UploadStatus> {
        let mut tx = self.pool.begin().await?;
        let owned: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT owner FROM shares WHERE share_id = $1")
                .bind(&id.0[..])
                .fetch_optional(&mut *tx)
                .await?;
        if owned.as_deref() != Some(&owner.to_bytes()[..]) {
            return Err(Error::NotFound);
        }
        let status = upload_row(&mut tx, id, attachment).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn finalize(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        now: u64,
    ) -> Result<UploadStatus> {
        let mut tx = self.pool.begin().await?;
        let m = lock_owned(&mut tx, id, Some(owner)).await?;
        m.require_live(now)?;
        let done = finalized(upload_row(&mut tx, id, attachment).await?)?;
        sqlx::query(common::FINALIZE)
            .bind(&id.0[..])
            .bind(attachment)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn attachment(&self, id: &ShareId, attachment: &str) -> Result<AttachmentLayout> {
        let row: LayoutRow = sqlx::query_as(common::LAYOUT)
            .bind(&id.0[..])
            .bind(attachment)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(row.into())
    }

    async fn read_part(&self, id: &ShareId, attachment: &str, n: u64) -> Result<Vec<u8>> {
        sqlx::query_scalar(common::PART)
            .bind(&id.0[..])
            .bind(attachment)
            .bind(to_i64(n))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound)
    }

    async fn record_nonce(&self, signer: &str, nonce: &[u8; 16], expires_at: u64) -> Result<()> {
        let r = sqlx::query(common::INSERT_NONCE)
            .bind(signer)
            .bind(&nonce[..])
            .bind(to_i64(expires_at))
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(Error::Replayed);
        }
        Ok(())
    }

    async fn events_since(&self, owner: &PublicKey, after: u64, limit: u32) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(common::EVENTS_SINCE)
            .bind(&owner.to_bytes()[..])
            .bind(to_i64(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let v: Option<String> = sqlx::query_scalar(common::POLICY)
            .fetch_optional(&self.pool)
            .await?;
        v.map(|v| serde_json::from_str(&v).map_err(Error::internal))
            .transpose()
    }

    async fn set_policy(&self, policy: &Policy) -> Result<()> {
        let v = serde_json::to_string(policy).map_err(Error::internal)?;
        sqlx::query(common::SET_POLICY)
            .bind(v)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sweep(&self, now: u64) -> Result<SweepReport> {
        // One short transaction per share, so a sweep never holds many row locks
        // (and never locks two shares, which could deadlock with an owner lock).
        let due: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT share_id FROM shares \
             WHERE state IN ('unbound', 'binding', 'bound') AND deadline <= $1",
        )
        .bind(to_i64(now))
        .fetch_all(&self.pool)
        .await?;
        let mut report = SweepReport::default();
        for id in &due {
            let id = share_id(id)?;
            let mut tx = self.pool.begin().await?;
            // Re-checked under the lock: another instance may have ended it.
            let Some(m) = lock(&mut tx, &id).await? else {
                continue;
            };
            if !m.state.is_live() || m.deadline() > now {
                continue;
            }
            purge(&mut tx, &m, m.lifetime().end_state(), now).await?;
            tx.commit().await?;
            report.ended += 1;
        }
        let n = sqlx::query(common::DELETE_NONCES)
            .bind(to_i64(now))
            .execute(&self.pool)
            .await?;
        report.nonces = n.rows_affected();
        if report.ended > 0 {
            self.notify();
        }
        Ok(report)
    }

    fn event_signal(&self) -> watch::Receiver<u64> {
        self.signal.subscribe()
    }
}
