//! Group commit: one task owns SQLite's write connection and runs every write
//! operation on it. Operations that arrive while a transaction is open join it,
//! each in its own savepoint, so one commit (one fsync under
//! `synchronous=FULL`) covers the whole batch; each operation's answer is
//! released only after the commit that covers it. An operation that fails rolls
//! back to its savepoint and leaves the others alone; a failure of the
//! transaction itself (the commit, or SQLite ending it on an I/O error) fails
//! every operation of the batch, none of which was answered yet.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::Sqlite;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::store::common::{Op, SqlDb, insert_nonce, sql};
use crate::store::{Nonce, WriteStats};

/// Operations one transaction takes at most, so the first one's answer waits
/// for a bounded amount of work.
const MAX_BATCH: usize = 256;

/// Operations waiting for the writer; senders wait when it is full.
const QUEUE: usize = 1024;

/// Hands the batch's outcome (its commit, or why it failed) to one operation's caller.
type Answer = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;

/// One operation, as the writer runs it inside the open transaction.
type Run = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Ran> + Send>;

/// An operation that ran: its answer, and why the transaction can no longer
/// be trusted if a statement the writer itself runs failed (the batch then
/// rolls back and fails).
struct Ran {
    answer: Answer,
    broken: Option<String>,
}

/// Work run on the connection outside any transaction.
type Plain = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

enum Job {
    /// A write operation.
    Write(Run),
    /// Runs outside any transaction once the open one committed (a WAL checkpoint).
    Plain(Plain),
}

/// The handle every clone of the store shares; the task ends (and closes the
/// connection) when the last one is dropped.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// What the writer committed so far (shown at `/metrics`).
#[derive(Debug, Default)]
struct Stats {
    /// Transactions committed: one fsync each.
    commits: AtomicU64,
    /// Operations those transactions carried.
    operations: AtomicU64,
}

fn stopped() -> Error {
    Error::internal("the SQLite writer stopped")
}

impl Writer {
    /// Starts the writer task on `conn`.
    pub(super) fn start(conn: SqliteConnection) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(Stats::default());
        tokio::spawn(run(conn, rx, stats.clone()));
        Self { jobs, stats }
    }

    /// Transactions committed and the operations they carried.
    pub(super) fn committed(&self) -> WriteStats {
        WriteStats {
            transactions: self.stats.commits.load(Ordering::Relaxed),
            operations: self.stats.operations.load(Ordering::Relaxed),
        }
    }

    /// Runs `op` in the next batch, with `nonce` recorded in its savepoint;
    /// returns after the batch committed.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        nonce: Option<Nonce>,
        op: Op<SqliteStore, T>,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let run: Run = Box::new(move |c| run_op(c, nonce, op, tx).boxed());
        self.jobs
            .send(Job::Write(run))
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Runs `f` on the connection outside any transaction.
    pub(super) async fn plain<F>(&self, f: F) -> Result<()>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<()>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Job::Plain(Box::new(move |c| {
            async move {
                // The caller may have gone; the work is done either way.
                let _ = tx.send(f(c).await);
            }
            .boxed()
        }));
        self.jobs.send(job).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// One operation inside the open transaction, in the savepoint the writer
/// opened for it: the nonce first (a replay runs nothing and changes nothing),
/// then `op`. When `op` fails, its savepoint is rolled back and the nonce
/// recorded again, so the refused request stays refused.
async fn run_op<T: Send + 'static>(
    c: &mut SqliteConnection,
    nonce: Option<Nonce>,
    op: Op<SqliteStore, T>,
    tx: oneshot::Sender<Result<T>>,
) -> Ran {
    let (out, broken) = match in_savepoint(c, nonce, op).await {
        Ok(out) => (out, None),
        Err(e) => {
            let why = e.to_string();
            (Err(e), Some(why))
        }
    };
    Ran {
        answer: Box::new(move |commit| {
            // The caller may have gone (client disconnected); nothing to tell.
            let _ = tx.send(commit.map_err(Error::internal).and(out));
        }),
        broken,
    }
}

/// The statements of [`run_op`]: `Err` when one the writer runs failed, else
/// the operation's own result.
async fn in_savepoint<T>(
    c: &mut SqliteConnection,
    nonce: Option<Nonce>,
    op: Op<SqliteStore, T>,
) -> Result<Result<T>> {
    if let Some(n) = &nonce
        && !insert_nonce::<Sqlite>(c, n).await?
    {
        return Ok(Err(Error::Replayed));
    }
    let out = op(c).await;
    if out.is_err() {
        Sqlite::execute(c, sql("ROLLBACK TO op")).await?;
        if let Some(n) = &nonce {
            insert_nonce::<Sqlite>(c, n).await?;
        }
    }
    Ok(out)
}

/// Runs statements that take no arguments, several in one call (one hand-off
/// to the connection's thread instead of one per statement).
async fn raw(
    c: &mut SqliteConnection,
    statements: &'static str,
) -> std::result::Result<(), String> {
    sqlx::raw_sql(statements)
        .execute(c)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The writer task: waits for an operation, opens a transaction, runs every
/// operation that is queued meanwhile (up to [`MAX_BATCH`]), commits, answers.
async fn run(mut c: SqliteConnection, mut rx: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        match job {
            Job::Plain(f) => f(&mut c).await,
            Job::Write(first) => next = batch(&mut c, first, &mut rx, &stats).await,
        }
    }
}

/// One transaction: `first` and the write operations queued behind it.
/// Returns the plain job that ended the batch, if one did.
async fn batch(
    c: &mut SqliteConnection,
    first: Run,
    rx: &mut mpsc::Receiver<Job>,
    stats: &Stats,
) -> Option<Job> {
    // Each operation runs in savepoint `op`; the statements that end one and
    // open the next go together, so a batch of n costs n + 1 of these calls.
    if let Err(e) = raw(c, "BEGIN IMMEDIATE; SAVEPOINT op").await {
        // Dropping the operation answers its caller with an internal error.
        tracing::error!(error = %e, "cannot begin a write transaction");
        return None;
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut broken = None;
    let mut pending = None;
    let mut op = Some(first);
    while let Some(run) = op.take() {
        let ran = run(c).await;
        answers.push(ran.answer);
        if ran.broken.is_some() {
            broken = ran.broken;
            break;
        }
        if answers.len() >= MAX_BATCH {
            break;
        }
        match rx.try_recv() {
            Ok(Job::Write(run)) => match raw(c, "RELEASE op; SAVEPOINT op").await {
                Ok(()) => op = Some(run),
                Err(why) => {
                    // `run` is dropped unrun: its caller gets an internal error.
                    broken = Some(why);
                }
            },
            Ok(plain) => {
                pending = Some(plain);
                break;
            }
            Err(_) => break,
        }
    }
    let outcome = match broken {
        None => raw(c, "RELEASE op; COMMIT").await,
        Some(why) => Err(why),
    };
    if outcome.is_err() {
        // SQLite may have ended the transaction already; either way nothing stays.
        let _ = raw(c, "ROLLBACK").await;
    }
    if outcome.is_ok() {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        let n = u64::try_from(answers.len()).unwrap_or(u64::MAX);
        stats.operations.fetch_add(n, Ordering::Relaxed);
    }
    if let Err(why) = &outcome {
        tracing::error!(error = %why, operations = answers.len(), "a write batch failed");
    }
    for answer in answers {
        answer(outcome.clone());
    }
    pending
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use oneshare_sdk::signing::SigningKey;
    use oneshare_sdk::token::ShareId;

    use super::*;
    use crate::store::{NewShare, Store};

    fn share(owner: &oneshare_sdk::signing::PublicKey, i: u8) -> NewShare {
        NewShare {
            share_id: ShareId([i; 16]),
            owner: *owner,
            verifier: [7; 32],
            wrapped_key: vec![1; 77],
            record: vec![i; 100],
            owner_data: vec![2; 60],
            created_at: 1_800_000_000,
            expires_in: 3600,
            self_destruct: false,
            attachments: Vec::new(),
            part_size: 1000,
            guard: oneshare_sdk::api::BindGuard::default(),
            transfer_box: None,
        }
    }

    /// Polls until `ready`; fails after 30 s rather than hanging the run.
    async fn until(mut ready: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ready() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not reached in 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Operations queued while the writer is busy share one transaction and one
    /// commit; one that fails after writing a row rolls back only its
    /// savepoint, a replayed nonce in the same batch runs nothing, and every
    /// answer reflects what was committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_commits_once_and_failures_stay_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("oneshare.db").display());
        let store = Arc::new(SqliteStore::open(&url).await.unwrap());
        let writer = store.writer.clone();
        // Hold the writer: everything below queues behind this plain job. Wait
        // until the writer runs it (an empty queue alone does not say so: the
        // job may not be sent yet, and the counts below must start from here).
        let (release, hold) = oneshot::channel::<()>();
        let (running, started) = oneshot::channel::<()>();
        let held = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .plain(|_| {
                        async move {
                            let _ = running.send(());
                            let _ = hold.await;
                            Ok(())
                        }
                        .boxed()
                    })
                    .await
            }
        });
        started.await.unwrap();
        assert_eq!(writer.jobs.capacity(), QUEUE);
        let owner = SigningKey::generate().unwrap().public_key();
        let nonce = |i: u8| Nonce {
            signer: "owner:batch".to_owned(),
            nonce: [i % 20; 16],
            expires_at: 1_800_000_600,
        };
        // 30 creates: every third finds no storage room after inserting its
        // row; ids 20..30 reuse the nonces of 0..10. Each is queued before the
        // next is spawned, so the queue holds them in order (the later ones
        // are the replays).
        let mut tasks = Vec::new();
        for i in 0..30u8 {
            let store = store.clone();
            let s = share(&owner, i);
            let n = nonce(i);
            tasks.push(tokio::spawn(async move {
                let room = if i % 3 == 0 { 0 } else { u64::MAX };
                store.create_share(&s, 100, room, Some(&n)).await
            }));
            until(|| writer.jobs.capacity() == QUEUE - usize::from(i) - 1).await;
        }
        let before = writer.committed();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for (i, t) in (0..30u8).zip(tasks) {
            let got = t.await.unwrap().map_err(|e| e.code());
            let want = match i {
                20.. => Err("replayed"),
                _ if i % 3 == 0 => Err("storage_full"),
                _ => Ok(()),
            };
            assert_eq!(got, want, "create {i}");
            let exists = store.share(&ShareId([i; 16])).await.unwrap().is_some();
            assert_eq!(exists, want.is_ok(), "share {i}");
        }
        let after = writer.committed();
        assert_eq!(after.transactions, before.transactions + 1);
        assert_eq!(after.operations, before.operations + 30);
        let events = store.events_since(&owner, 0, 100).await.unwrap();
        assert_eq!(events.len(), 13);
        for i in 0..20 {
            let r = store.record_nonce(&nonce(i)).await;
            assert_eq!(r.map_err(|e| e.code()), Err("replayed"), "nonce {i}");
        }
    }
}
