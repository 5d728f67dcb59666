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
use oneshare_sdk::lifetime::{self, BindDecision, Lifetime, State};
use oneshare_sdk::secret::ct_eq;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{
    AttachmentLayout, BindOutcome, NewShare, RecordView, ShareMeta, Store, SweepReport,
    bind_detail, check_part, to_i64, to_u64,
};
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The NOTIFY channel that carries "events were appended".
const CHANNEL: &str = "oneshare_events";

/// The columns [`meta`] reads.
macro_rules! meta_columns {
    () => {
        "share_id, owner, state, created_at, expires_in, self_destruct, bound_at, device_key, \
         record_version"
    };
}

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
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
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

fn parse_state(s: &str) -> Result<State> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Error::internal(format!("unknown state {s}")))
}

fn kind_str(k: EventKind) -> Result<String> {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(Error::internal("event kind")),
    }
}

fn share_id(bytes: &[u8]) -> Result<ShareId> {
    bytes
        .try_into()
        .map(ShareId)
        .map_err(|_| Error::internal("bad share id in store"))
}

fn key(bytes: &[u8]) -> Result<PublicKey> {
    PublicKey::from_bytes(bytes).map_err(|_| Error::internal("bad key in store"))
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

fn meta(row: &PgRow) -> Result<ShareMeta> {
    let device: Option<Vec<u8>> = row.try_get("device_key")?;
    Ok(ShareMeta {
        share_id: share_id(&row.try_get::<Vec<u8>, _>("share_id")?)?,
        owner: key(&row.try_get::<Vec<u8>, _>("owner")?)?,
        state: parse_state(&row.try_get::<String, _>("state")?)?,
        created_at: to_u64(row.try_get("created_at")?),
        expires_in: to_u64(row.try_get("expires_in")?),
        self_destruct: row.try_get("self_destruct")?,
        bound_at: row.try_get::<Option<i64>, _>("bound_at")?.map(to_u64),
        device_key: device.as_deref().map(key).transpose()?,
        record_version: to_u64(row.try_get("record_version")?),
    })
}

/// Loads and row-locks a share for the rest of the transaction.
async fn lock(tx: &mut Transaction<'_, Postgres>, id: &ShareId) -> Result<Option<ShareMeta>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        meta_columns!(),
        " FROM shares WHERE share_id = $1 FOR UPDATE"
    ))
    .bind(&id.0[..])
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(meta).transpose()
}

async fn lock_owned(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    match lock(tx, id).await? {
        Some(m) if owner.is_none_or(|o| *o == m.owner) => Ok(m),
        _ => Err(Error::NotFound),
    }
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
    sqlx::query(
        "INSERT INTO events (owner, share_id, kind, at, detail) VALUES ($1, $2, $3, $4, $5)",
    )
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
    let rows = sqlx::query(
        "SELECT attachment_id, size FROM attachments WHERE share_id = $1 AND complete \
         ORDER BY attachment_id",
    )
    .bind(&id.0[..])
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttachmentInfo {
                id: r.try_get("attachment_id")?,
                size: to_u64(r.try_get("size")?),
            })
        })
        .collect()
}

async fn current_record(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
) -> Result<RecordCiphertext> {
    let row = sqlx::query("SELECT record_version, record FROM shares WHERE share_id = $1")
        .bind(&id.0[..])
        .fetch_one(&mut **tx)
        .await?;
    let ciphertext: Option<Vec<u8>> = row.try_get("record")?;
    Ok(RecordCiphertext {
        version: to_u64(row.try_get("record_version")?),
        ciphertext: ciphertext.ok_or_else(|| Error::internal("live share without record"))?,
    })
}

/// Ends a locked share: ciphertext, keys and parts deleted, tombstone kept.
async fn purge(
    tx: &mut Transaction<'_, Postgres>,
    m: &ShareMeta,
    end: State,
    now: u64,
) -> Result<()> {
    sqlx::query(
        "UPDATE shares SET state = $1, ended_at = $2, verifier = NULL, wrapped_key = NULL, \
         record = NULL, owner_data = NULL WHERE share_id = $3",
    )
    .bind(end.as_str())
    .bind(to_i64(now))
    .bind(&m.share_id.0[..])
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM attachment_parts WHERE share_id = $1")
        .bind(&m.share_id.0[..])
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM attachments WHERE share_id = $1")
        .bind(&m.share_id.0[..])
        .execute(&mut **tx)
        .await?;
    let kind = match end {
        State::Revoked => EventKind::Revoked,
        State::SelfDestructed => EventKind::SelfDestructed,
        _ => EventKind::Expired,
    };
    push_event(tx, m, kind, now, None).await
}

async fn upload_row(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
    attachment: &str,
) -> Result<UploadStatus> {
    let row = sqlx::query(
        "SELECT size, part_size, received, next_part, complete FROM attachments \
         WHERE share_id = $1 AND attachment_id = $2",
    )
    .bind(&id.0[..])
    .bind(attachment)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(UploadStatus {
        part_size: to_u64(row.try_get("part_size")?),
        next_part: to_u64(row.try_get("next_part")?),
        received: to_u64(row.try_get("received")?),
        size: to_u64(row.try_get("size")?),
        complete: row.try_get("complete")?,
    })
}

#[async_trait]
impl Store for PgStore {
    async fn create_share(&self, s: &NewShare, max_live: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let owner = s.owner.to_bytes();
        // The owner lock makes "count, then insert" atomic across instances.
        lock_owner(&mut tx, &s.owner).await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shares WHERE owner = $1 \
             AND state IN ('unbound', 'binding', 'bound') AND deadline > $2",
        )
        .bind(&owner[..])
        .bind(to_i64(s.created_at))
        .fetch_one(&mut *tx)
        .await?;
        if to_u64(live) >= max_live {
            return Err(Error::Quota);
        }
        let deadline = Lifetime {
            created_at: s.created_at,
            expires_in: s.expires_in,
            self_destruct: s.self_destruct,
            bound_at: None,
        }
        .deadline();
        let inserted = sqlx::query(
            "INSERT INTO shares (share_id, owner, state, created_at, expires_in, self_destruct, \
             deadline, verifier, wrapped_key, record_version, record, owner_data) \
             VALUES ($1, $2, 'unbound', $3, $4, $5, $6, $7, $8, 1, $9, $10) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&s.share_id.0[..])
        .bind(&owner[..])
        .bind(to_i64(s.created_at))
        .bind(to_i64(s.expires_in))
        .bind(s.self_destruct)
        .bind(to_i64(deadline))
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
            let r = sqlx::query(
                "INSERT INTO attachments (share_id, attachment_id, size, part_size) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
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
        let row = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            " FROM shares WHERE share_id = $1"
        ))
        .bind(&id.0[..])
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(meta).transpose()
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
        let state = m.state_at(now);
        if !state.is_live() {
            return Err(Error::Gone(state));
        }
        let row = sqlx::query("SELECT verifier, wrapped_key FROM shares WHERE share_id = $1")
            .bind(&id.0[..])
            .fetch_one(&mut *tx)
            .await?;
        let stored: Option<Vec<u8>> = row.try_get("verifier")?;
        if let Some(stored) = &stored
            && !ct_eq(stored, verifier)
        {
            return Err(Error::BadToken);
        }
        let retry = match lifetime::decide_bind(state, m.device_key.as_ref(), device) {
            BindDecision::Bind => {
                let bound = Lifetime {
                    bound_at: Some(now),
                    ..m.lifetime()
                };
                sqlx::query(
                    "UPDATE shares SET state = 'binding', device_key = $1, bound_at = $2, \
                     deadline = $3 WHERE share_id = $4",
                )
                .bind(&device.to_bytes()[..])
                .bind(to_i64(now))
                .bind(to_i64(bound.deadline()))
                .bind(&id.0[..])
                .execute(&mut *tx)
                .await?;
                push_event(
                    &mut tx,
                    &m,
                    EventKind::Bound,
                    now,
                    Some(bind_detail(m.created_at, now)),
                )
                .await?;
                false
            }
            BindDecision::Retry => true,
            BindDecision::OtherDevice => {
                push_event(
                    &mut tx,
                    &m,
                    EventKind::RefusedDevice,
                    now,
                    Some("another device tried to open the link and was refused".to_owned()),
                )
                .await?;
                tx.commit().await?;
                self.notify();
                return Err(Error::AlreadyBound);
            }
            BindDecision::Gone(s) => return Err(Error::Gone(s)),
        };
        let wrapped_key: Option<Vec<u8>> = row.try_get("wrapped_key")?;
        let wrapped_key =
            wrapped_key.ok_or_else(|| Error::internal("binding share without wrapped key"))?;
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
        m.require_live(now)?;
        if m.device_key.as_ref() != Some(device) {
            return Err(Error::BadSignature);
        }
        if m.state == State::Binding {
            sqlx::query(
                "UPDATE shares SET state = 'bound', wrapped_key = NULL, verifier = NULL \
                 WHERE share_id = $1",
            )
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
        m.require_live(now)?;
        if m.device_key.as_ref() != Some(device) {
            return Err(Error::BadSignature);
        }
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
        m.require_live(now)?;
        if record.version != m.record_version.saturating_add(1) {
            return Err(Error::Conflict(
                "the record version must be the current version plus one",
            ));
        }
        sqlx::query("UPDATE shares SET record = $1, record_version = $2 WHERE share_id = $3")
            .bind(&record.ciphertext[..])
            .bind(to_i64(record.version))
            .bind(&id.0[..])
            .execute(&mut *tx)
            .await?;
        push_event(
            &mut tx,
            &m,
            EventKind::Updated,
            now,
            Some(format!("version {}", record.version)),
        )
        .await?;
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
        let rows = match owner {
            Some(o) => sqlx::query(concat!(
                "SELECT ",
                meta_columns!(),
                ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, seq DESC"
            ))
            .bind(o.to_bytes().to_vec()),
            None => sqlx::query(concat!(
                "SELECT ",
                meta_columns!(),
                ", NULL::bytea AS owner_data FROM shares ORDER BY created_at DESC, seq DESC"
            )),
        }
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let m = meta(r)?;
                let owner_data: Option<Vec<u8>> = r.try_get("owner_data")?;
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
            })
            .collect()
    }

    async fn count_by_state(&self) -> Result<Vec<(State, u64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM shares GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_state(&r.try_get::<String, _>("state")?)?,
                    to_u64(r.try_get("n")?),
                ))
            })
            .collect()
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
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if !check_part(&status, n, len)? {
            let stored: Vec<u8> = sqlx::query_scalar(
                "SELECT data FROM attachment_parts \
                 WHERE share_id = $1 AND attachment_id = $2 AND part = $3",
            )
            .bind(&id.0[..])
            .bind(attachment)
            .bind(to_i64(n))
            .fetch_one(&mut *tx)
            .await?;
            return if stored == bytes {
                Ok(status)
            } else {
                Err(Error::Conflict(
                    "this part was already received with different bytes",
                ))
            };
        }
        sqlx::query(
            "INSERT INTO attachment_parts (share_id, attachment_id, part, data) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .bind(to_i64(n))
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE attachments SET received = received + $1, next_part = next_part + 1 \
             WHERE share_id = $2 AND attachment_id = $3",
        )
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
        let status = upload_row(&mut tx, id, attachment).await?;
        if status.received != status.size {
            return Err(Error::Conflict(
                "the upload is incomplete: received size differs from the declared size",
            ));
        }
        sqlx::query(
            "UPDATE attachments SET complete = TRUE WHERE share_id = $1 AND attachment_id = $2",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(UploadStatus {
            complete: true,
            ..status
        })
    }

    async fn attachment(&self, id: &ShareId, attachment: &str) -> Result<AttachmentLayout> {
        let row = sqlx::query(
            "SELECT size, part_size, complete FROM attachments \
             WHERE share_id = $1 AND attachment_id = $2",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Ok(AttachmentLayout {
            size: to_u64(row.try_get("size")?),
            part_size: to_u64(row.try_get("part_size")?),
            complete: row.try_get("complete")?,
        })
    }

    async fn read_part(&self, id: &ShareId, attachment: &str, n: u64) -> Result<Vec<u8>> {
        sqlx::query_scalar(
            "SELECT data FROM attachment_parts \
             WHERE share_id = $1 AND attachment_id = $2 AND part = $3",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .bind(to_i64(n))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound)
    }

    async fn record_nonce(&self, signer: &str, nonce: &[u8; 16], expires_at: u64) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO nonces (signer, nonce, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
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
        let rows = sqlx::query(
            "SELECT id, share_id, kind, at, detail FROM events WHERE owner = $1 AND id > $2 \
             ORDER BY id LIMIT $3",
        )
        .bind(&owner.to_bytes()[..])
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Event {
                    id: to_u64(r.try_get("id")?),
                    share_id: share_id(&r.try_get::<Vec<u8>, _>("share_id")?)?,
                    kind: serde_json::from_value(serde_json::Value::String(kind))
                        .map_err(Error::internal)?,
                    at: to_u64(r.try_get("at")?),
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE name = 'policy'")
                .fetch_optional(&self.pool)
                .await?;
        v.map(|v| serde_json::from_str(&v).map_err(Error::internal))
            .transpose()
    }

    async fn set_policy(&self, policy: &Policy) -> Result<()> {
        let v = serde_json::to_string(policy).map_err(Error::internal)?;
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ('policy', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
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
        let n = sqlx::query("DELETE FROM nonces WHERE expires_at <= $1")
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
