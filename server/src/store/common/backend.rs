//! [`SqlBackend`]: the contract a SQL backend fulfils to get the shared
//! [`Store`](crate::store::Store) implementation (`super::ops`). Everything that
//! differs between SQLite and PostgreSQL is a member here, checked by the compiler.

use std::future::Future;

use futures_util::future::BoxFuture;
use oneshare_sdk::api::EventKind;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::{Database, Pool};

use super::db::SqlDb;
use crate::error::Result;
use crate::store::{EventHub, Nonce, ShareMeta, SweepReport, WriteStats};

/// A backend's connection.
pub(crate) type Conn<B> = <<B as SqlBackend>::Db as Database>::Connection;

/// One write operation: its statements, run on a connection inside a
/// transaction the backend opened ([`SqlBackend::write`]). An `Err` undoes every
/// statement of the operation. It owns its inputs, so a backend may hand it to
/// another task (SQLite's writer).
pub(crate) type Op<B, T> =
    Box<dyn for<'c> FnOnce(&'c mut Conn<B>) -> BoxFuture<'c, Result<T>> + Send>;

/// Boxes a write operation (fixes the closure's higher-ranked signature).
pub(crate) fn op<B, T, F>(f: F) -> Op<B, T>
where
    B: SqlBackend,
    F: for<'c> FnOnce(&'c mut Conn<B>) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    Box::new(f)
}

/// A SQL backend: its database, pools, how it makes a write atomic and durable,
/// how it locks, announces events and sweeps.
pub(crate) trait SqlBackend: Send + Sync + 'static {
    /// The sqlx database.
    type Db: SqlDb;

    /// One owner's shares (`$1`) with owner data, newest first; shares created in
    /// the same second are ordered by the backend's insertion order.
    const LIST_OWN: &'static str;

    /// Every share, newest first as [`Self::LIST_OWN`], with `NULL` (of the
    /// backend's bytes type) as `owner_data`: the admin listing never carries it.
    const LIST_ALL: &'static str;

    /// The pool for plain reads.
    fn reader(&self) -> &Pool<Self::Db>;

    /// The local SSE wake-up signals.
    fn events(&self) -> &EventHub;

    /// Runs `op` as one atomic write with `nonce` recorded in it (`ops::insert_nonce`),
    /// and returns its result once it is durable: a 2xx sent after this returns
    /// survives a crash. A nonce already recorded fails with `Replayed` and `op`
    /// does not run; an `Err` from `op` leaves no trace of it but the nonce.
    fn write<T: Send + 'static>(
        &self,
        nonce: Option<Nonce>,
        op: Op<Self, T>,
    ) -> impl Future<Output = Result<T>> + Send;

    /// Records the nonce of a request that writes nothing else (a read-only
    /// route, or a write that was refused), durably; `Replayed` if it is known.
    /// SQLite queues it in the writer's next batch; PostgreSQL inserts it in one
    /// autocommit statement instead of a transaction of three.
    fn record_nonce(&self, nonce: Nonce) -> impl Future<Output = Result<()>> + Send;

    /// Loads a share owned by `owner` (any owner for `None`), so that concurrent
    /// writes to it queue behind this transaction; `NotFound` otherwise.
    fn load_owned(
        c: &mut Conn<Self>,
        id: &ShareId,
        owner: Option<&PublicKey>,
    ) -> impl Future<Output = Result<ShareMeta>> + Send;

    /// Makes "count the owner's live shares, then insert one" atomic.
    fn guard_quota(
        c: &mut Conn<Self>,
        owner: &PublicKey,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Appends an event so that each owner's event ids become visible in
    /// increasing order, and announces it to other instances at commit.
    fn push_event(
        c: &mut Conn<Self>,
        m: &ShareMeta,
        kind: EventKind,
        at: u64,
        detail: Option<String>,
        device: Option<&PublicKey>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Ends every live share past its deadline (`super::ops::purge`) and drops
    /// expired nonces.
    fn sweep_due(&self, now: u64) -> impl Future<Output = Result<SweepReport>> + Send;

    /// Write transactions committed and the operations they carried, for a
    /// backend that groups operations into shared commits.
    fn committed(&self) -> Option<WriteStats> {
        None
    }

    /// After a revoke, removes deleted ciphertext from any file that may still
    /// hold it (SQLite's `-wal`).
    fn scrub(&self) -> impl Future<Output = Result<()>> + Send;
}
