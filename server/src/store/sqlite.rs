//! SQLite backend: WAL, `synchronous=FULL` (a 2xx means the write is on disk),
//! `secure_delete=ON` and incremental auto-vacuum so deleted ciphertext is
//! overwritten, and a WAL checkpoint after every sweep so it leaves the `-wal` file
//! too. All writes go through a one-connection pool, so transactions never race for
//! SQLite's write lock; reads use their own pool.

use std::str::FromStr;
use std::time::Duration;

use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::watch;

use super::common::{self, MetaRow, meta_columns};
use super::{ShareMeta, SweepReport, to_i64, to_u64};
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    signal: watch::Sender<u64>,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and migrates.
    ///
    /// # Errors
    /// The URL is invalid or the database cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid sqlite URL: {e}")))?;
        let path = opts.get_filename().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("secure_delete", "ON");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        let last: i64 = sqlx::query_scalar(common::LAST_EVENT)
            .fetch_one(&reader)
            .await?;
        let (signal, _) = watch::channel(to_u64(last));
        Ok(Self {
            writer,
            reader,
            signal,
        })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn notify(&self) {
        self.signal.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Moves deleted pages out of the WAL and returns free pages to the OS.
    async fn compact(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        sqlx::query("PRAGMA incremental_vacuum")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Ends every due share in one write transaction (the one writer serializes
    /// it with every other write), then compacts.
    async fn sweep_due(&self, now: u64) -> Result<SweepReport> {
        let mut tx = self.writer.begin().await?;
        let rows: Vec<MetaRow> = sqlx::query_as(concat!(
            "SELECT ",
            meta_columns!(),
            " FROM shares WHERE state IN ('unbound', 'binding', 'bound') AND deadline <= $1"
        ))
        .bind(to_i64(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut report = SweepReport::default();
        for r in rows {
            let m = r.into_meta()?;
            purge(&mut tx, &m, m.lifetime().end_state(), now).await?;
            report.ended += 1;
        }
        let n = sqlx::query(common::DELETE_NONCES)
            .bind(to_i64(now))
            .execute(&mut *tx)
            .await?;
        report.nonces = n.rows_affected();
        tx.commit().await?;
        if report.ended > 0 {
            self.notify();
        }
        self.compact().await?;
        Ok(report)
    }
}

/// Loads an owned share (the one writer connection already serializes writes).
async fn load_owned(
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    common::owned(load(&mut **tx, id).await?, owner)
}

/// Nothing to lock: the one writer connection serializes "count, then insert".
async fn guard_quota(_tx: &mut Transaction<'_, Sqlite>, _owner: &PublicKey) -> Result<()> {
    Ok(())
}

common::sql_store!(
    SqliteStore,
    Sqlite,
    push_event: insert_event,
    tie: "rowid",
    no_owner_data: "owner_data",
);
