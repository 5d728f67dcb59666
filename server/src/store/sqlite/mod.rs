//! SQLite backend: WAL, `synchronous=FULL` (a 2xx means the write is on disk),
//! `secure_delete=ON` and incremental auto-vacuum so deleted ciphertext is
//! overwritten, and a WAL checkpoint after every sweep and revoke so it leaves the
//! `-wal` file too. All writes go through one connection owned by the group-commit
//! writer ([`writer`]), so transactions never race for SQLite's write lock and one
//! fsync covers every write that arrived meanwhile; reads use their own pool.

mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use oneshare_sdk::api::EventKind;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use super::common::{self, MetaRow, Op, SqlBackend, SqlDb, meta_columns, op, sql};
use super::{EventHub, Nonce, ShareMeta, SweepReport, WriteStats};
use crate::error::{Error, Result};
use writer::Writer;

/// How long a connection waits for SQLite's locks (checkpoints, WAL recovery).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reader connections are replaced after this long.
const READER_LIFETIME: Duration = Duration::from_secs(30 * 60);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    reader: SqlitePool,
    events: Arc<EventHub>,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and migrates.
    ///
    /// # Errors
    /// The URL is invalid or the database cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, READER_LIFETIME).await
    }

    /// As [`SqliteStore::open`], with a chosen lifetime of reader connections
    /// (tests recycle them quickly to check that opening one never disturbs a write).
    ///
    /// # Errors
    /// The URL is invalid or the database cannot be opened or migrated.
    pub async fn open_with(url: &str, reader_lifetime: Duration) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid sqlite URL: {e}")))?;
        let path = opts.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        // Readers never write: sqlx runs the connect options' pragmas on every new
        // connection, and `auto_vacuum` (or `journal_mode`) on a reader opened
        // mid-transaction is a write that makes the writer's transaction fail with
        // SQLITE_BUSY_SNAPSHOT. So those pragmas go on the writer only, and
        // readers open read-only.
        let base = opts
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("secure_delete", "ON")
            // Savepoint sub-journals and sort trees stay in memory: a group-commit
            // batch otherwise spills each one to a fresh file in /var/tmp (a third
            // of the writer's page writes), and no page copy lingers on disk.
            .pragma("temp_store", "MEMORY");
        let writer_opts = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .auto_vacuum(SqliteAutoVacuum::Incremental);
        let mut writer = writer_opts.connect().await?;
        if let Err(e) = MIGRATOR.run(&mut writer).await {
            let _ = writer.close().await;
            return Err(e.into());
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .max_lifetime(reader_lifetime)
            .connect_with(base.read_only(true))
            .await?;
        Ok(Self {
            writer: Writer::start(writer),
            reader,
            events: Arc::default(),
        })
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;

    const LIST_OWN: &'static str = concat!(
        "SELECT ",
        meta_columns!(),
        ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, rowid DESC"
    );

    const LIST_ALL: &'static str = concat!(
        "SELECT ",
        meta_columns!(),
        ", NULL AS owner_data FROM shares ORDER BY created_at DESC, rowid DESC"
    );

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn events(&self) -> &EventHub {
        &self.events
    }

    fn committed(&self) -> Option<WriteStats> {
        Some(self.writer.committed())
    }

    /// A savepoint in the writer's next batch, answered after its commit.
    async fn write<T: Send + 'static>(&self, nonce: Option<Nonce>, op: Op<Self, T>) -> Result<T> {
        self.writer.write(nonce, op).await
    }

    /// An empty operation in the writer's next batch: the nonce rides on its commit.
    async fn record_nonce(&self, nonce: Nonce) -> Result<()> {
        self.writer
            .write(Some(nonce), Box::new(|_| async { Ok(()) }.boxed()))
            .await
    }

    /// The one writer connection already serializes writes.
    async fn load_owned(
        c: &mut SqliteConnection,
        id: &ShareId,
        owner: Option<&PublicKey>,
    ) -> Result<ShareMeta> {
        common::owned(common::load::<Sqlite>(c, id).await?, owner)
    }

    /// Nothing to lock: the one writer connection serializes "count, then insert".
    async fn guard_quota(_c: &mut SqliteConnection, _owner: &PublicKey) -> Result<()> {
        Ok(())
    }

    /// Event ids are assigned in commit order by the one writer.
    async fn push_event(
        c: &mut SqliteConnection,
        m: &ShareMeta,
        kind: EventKind,
        at: u64,
        detail: Option<String>,
        device: Option<&PublicKey>,
    ) -> Result<()> {
        common::insert_event::<Sqlite>(c, m, kind, at, detail, device).await
    }

    /// Ends every due share in one write transaction (the one writer serializes
    /// it with every other write), then compacts.
    async fn sweep_due(&self, now: u64) -> Result<SweepReport> {
        let (report, owners) = self
            .write(
                None,
                op::<Self, _, _>(move |c| {
                    async move {
                        let due = sql(DUE).uint(now);
                        let rows: Vec<MetaRow> = Sqlite::fetch_all(c, due).await?;
                        let mut report = SweepReport::default();
                        let mut owners = Vec::new();
                        for r in rows {
                            let m = r.into_meta()?;
                            common::purge::<Self>(c, &m, m.lifetime().end_state(), now).await?;
                            report.ended += 1;
                            owners.push(m.owner);
                        }
                        report.nonces =
                            Sqlite::execute(c, sql(common::DELETE_NONCES).uint(now)).await?;
                        Ok((report, owners))
                    }
                    .boxed()
                }),
            )
            .await?;
        owners
            .iter()
            .for_each(|o| self.events.notify(&o.to_bytes()));
        self.scrub().await?;
        Ok(report)
    }

    /// Moves deleted pages out of the WAL and returns free pages to the OS, so
    /// a revoked record's ciphertext leaves the `-wal` file at once.
    async fn scrub(&self) -> Result<()> {
        self.writer
            .plain(|c| {
                async move {
                    Sqlite::execute(c, sql("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
                    Sqlite::execute(c, sql("PRAGMA incremental_vacuum")).await?;
                    Ok(())
                }
                .boxed()
            })
            .await
    }
}

/// Live shares past their deadline.
const DUE: &str = concat!(
    "SELECT ",
    meta_columns!(),
    " FROM shares WHERE state IN ('unbound', 'binding', 'bound') AND deadline <= $1"
);
