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

use futures_util::FutureExt;
use oneshare_sdk::api::EventKind;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::Postgres;
use sqlx::postgres::{PgConnection, PgListener, PgPool, PgPoolOptions};
use tokio::task::JoinHandle;

use super::common::{
    self, MetaRow, Op, Scalar, SqlBackend, SqlDb, meta_columns, op, share_id, sql,
};
use super::{EventHub, Nonce, ShareMeta, SweepReport};
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
}

impl SqlBackend for PgStore {
    type Db = Postgres;

    const LIST_OWN: &'static str = concat!(
        "SELECT ",
        meta_columns!(),
        ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, seq DESC"
    );

    const LIST_ALL: &'static str = concat!(
        "SELECT ",
        meta_columns!(),
        ", NULL::bytea AS owner_data FROM shares ORDER BY created_at DESC, seq DESC"
    );

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn events(&self) -> &EventHub {
        &self.events
    }

    /// One transaction, the nonce its first statement; PostgreSQL's own commit
    /// makes it durable (and groups concurrent commits). A failed `op` is rolled
    /// back whole, then its nonce is recorded alone.
    async fn write<T: Send + 'static>(&self, nonce: Option<Nonce>, op: Op<Self, T>) -> Result<T> {
        let mut tx = self.pool.begin().await?;
        if let Some(n) = &nonce
            && !common::insert_nonce::<Postgres>(&mut tx, n).await?
        {
            return Err(Error::Replayed);
        }
        match op(&mut tx).await {
            Ok(out) => {
                tx.commit().await?;
                Ok(out)
            }
            Err(e) => {
                tx.rollback().await?;
                // A replay of the refused request stays refused; if a copy
                // recorded the nonce meanwhile, the refusal still stands.
                if let Some(n) = nonce
                    && let Err(other) = self.record_nonce(n).await
                    && !matches!(other, Error::Replayed)
                {
                    return Err(other);
                }
                Err(e)
            }
        }
    }

    /// One autocommit `INSERT`: one round trip, durable when it returns, and the
    /// nonce's primary key refuses a replay on every instance.
    async fn record_nonce(&self, nonce: Nonce) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        if common::insert_nonce::<Postgres>(&mut c, &nonce).await? {
            Ok(())
        } else {
            Err(Error::Replayed)
        }
    }

    /// Row-locks the share, so concurrent changes to it queue.
    async fn load_owned(
        c: &mut PgConnection,
        id: &ShareId,
        owner: Option<&PublicKey>,
    ) -> Result<ShareMeta> {
        common::owned(lock(c, id).await?, owner)
    }

    /// The owner lock makes "count, then insert" atomic across instances.
    async fn guard_quota(c: &mut PgConnection, owner: &PublicKey) -> Result<()> {
        lock_owner(c, owner).await
    }

    /// Appends under the owner lock and announces the event to every instance.
    async fn push_event(
        c: &mut PgConnection,
        m: &ShareMeta,
        kind: EventKind,
        at: u64,
        detail: Option<String>,
        device: Option<&PublicKey>,
    ) -> Result<()> {
        lock_owner(c, &m.owner).await?;
        common::insert_event::<Postgres>(c, m, kind, at, detail, device).await?;
        // Delivered to every listening instance when (and only if) the transaction commits.
        let owner = m.owner.to_string();
        Postgres::execute(
            c,
            sql("SELECT pg_notify($1, $2)").text(CHANNEL).text(&owner),
        )
        .await?;
        Ok(())
    }

    /// Ends every due share, each in its own short transaction, so a sweep
    /// never holds many row locks (and never locks two shares, which could
    /// deadlock with an owner lock).
    async fn sweep_due(&self, now: u64) -> Result<SweepReport> {
        let mut c = self.pool.acquire().await?;
        let due: Vec<Scalar<Vec<u8>>> = Postgres::fetch_all(&mut c, sql(DUE).uint(now)).await?;
        drop(c);
        let mut report = SweepReport::default();
        for id in &due {
            let id = share_id(&id.0)?;
            let ended = self
                .write(
                    None,
                    op::<Self, _, _>(move |c| {
                        async move {
                            // Re-checked under the lock: another instance may have ended it.
                            let Some(m) = lock(c, &id).await? else {
                                return Ok(None);
                            };
                            if !m.state.is_live() || m.deadline() > now {
                                return Ok(None);
                            }
                            common::purge::<Self>(c, &m, m.lifetime().end_state(), now).await?;
                            Ok(Some(m.owner))
                        }
                        .boxed()
                    }),
                )
                .await?;
            if let Some(owner) = ended {
                report.ended += 1;
                self.events.notify(&owner.to_bytes());
            }
        }
        let mut c = self.pool.acquire().await?;
        report.nonces = Postgres::execute(&mut c, sql(common::DELETE_NONCES).uint(now)).await?;
        Ok(report)
    }

    /// Nothing to do: PostgreSQL keeps no side file a revoked row lingers in
    /// that the relay could clear (its WAL and dead tuples are the operator's).
    async fn scrub(&self) -> Result<()> {
        Ok(())
    }
}

/// Ids of live shares past their deadline.
const DUE: &str = "SELECT share_id AS v FROM shares \
     WHERE state IN ('unbound', 'binding', 'bound') AND deadline <= $1";

/// A share's metadata, row-locked.
const LOCK: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM shares WHERE share_id = $1 FOR UPDATE"
);

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
async fn lock(c: &mut PgConnection, id: &ShareId) -> Result<Option<ShareMeta>> {
    let row: Option<MetaRow> = Postgres::fetch_optional(c, sql(LOCK).bytes(&id.0)).await?;
    row.map(MetaRow::into_meta).transpose()
}

/// Serializes this owner's event appends (and quota checks) until commit.
async fn lock_owner(c: &mut PgConnection, owner: &PublicKey) -> Result<()> {
    Postgres::execute(
        c,
        sql("SELECT pg_advisory_xact_lock($1)").int(owner_lock(owner)),
    )
    .await?;
    Ok(())
}
