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

use oneshare_sdk::api::EventKind;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::task::JoinHandle;

use super::common::{self, MetaRow, meta_columns, share_id};
use super::{EventHub, ShareMeta, SweepReport, to_i64};
use crate::error::Result;

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
    events: Arc<EventHub>,
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
        let events = Arc::new(EventHub::default());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let task = tokio::spawn(listen(listener, Arc::downgrade(&events)));
        Ok(Self {
            pool,
            events,
            _listener: Arc::new(AbortOnDrop(task)),
        })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn notify(&self, owner: &PublicKey) {
        self.events.notify(&owner.to_bytes());
    }

    /// Nothing to do: PostgreSQL keeps no side file a revoked row lingers in
    /// that the relay could clear (its WAL and dead tuples are the operator's).
    async fn scrub(&self) -> Result<()> {
        Ok(())
    }

    /// Ends every due share, each in its own short transaction.
    async fn sweep_due(&self, now: u64) -> Result<SweepReport> {
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
            self.notify(&m.owner);
        }
        let n = sqlx::query(common::DELETE_NONCES)
            .bind(to_i64(now))
            .execute(&self.pool)
            .await?;
        report.nonces = n.rows_affected();
        Ok(report)
    }
}

/// Wakes the local SSE streams of the owner each NOTIFY names (its payload is
/// the owner key, base64url), from any instance. After a lost connection
/// (notifications may have been missed) it wakes every stream; they re-read from
/// their cursor, so a spurious wake-up costs one query.
async fn listen(mut listener: PgListener, hub: std::sync::Weak<EventHub>) {
    loop {
        let got = listener.try_recv().await;
        let Some(hub) = hub.upgrade() else {
            return;
        };
        match got {
            Ok(Some(n)) => match PublicKey::parse(n.payload()) {
                Ok(owner) => hub.notify(&owner.to_bytes()),
                Err(_) => hub.notify_all(),
            },
            Ok(None) => hub.notify_all(),
            Err(e) => {
                tracing::warn!(error = %e, "event listener lost its connection; retrying");
                hub.notify_all();
                drop(hub);
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

/// Loads and row-locks an owned share, so concurrent changes to it queue.
async fn load_owned(
    tx: &mut Transaction<'_, Postgres>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    common::owned(lock(tx, id).await?, owner)
}

/// Serializes this owner's event appends (and quota checks) until commit.
async fn lock_owner(tx: &mut Transaction<'_, Postgres>, owner: &PublicKey) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(owner_lock(owner))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The owner lock makes "count, then insert" atomic across instances.
async fn guard_quota(tx: &mut Transaction<'_, Postgres>, owner: &PublicKey) -> Result<()> {
    lock_owner(tx, owner).await
}

/// Appends an event under the owner lock and announces it to every instance.
async fn push_event(
    tx: &mut Transaction<'_, Postgres>,
    m: &ShareMeta,
    kind: EventKind,
    at: u64,
    detail: Option<String>,
) -> Result<()> {
    lock_owner(tx, &m.owner).await?;
    insert_event(tx, m, kind, at, detail).await?;
    // Delivered to every listening instance when (and only if) the transaction commits.
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(m.owner.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

common::sql_store!(
    PgStore,
    Postgres,
    push_event: push_event,
    tie: "seq",
    no_owner_data: "NULL::bytea AS owner_data",
);
