//! SQLite backend: WAL, `synchronous=FULL` (a 2xx means the write is on disk),
//! `secure_delete=ON` and incremental auto-vacuum so deleted ciphertext is
//! overwritten, and a WAL checkpoint after every sweep so it leaves the `-wal` file
//! too. All writes go through a one-connection pool, so transactions never race for
//! SQLite's write lock; reads use their own pool.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use oneshare_sdk::api::{
    AttachmentInfo, Event, EventKind, Policy, RecordCiphertext, ShareSummary, UploadStatus,
};
use oneshare_sdk::lifetime::{self, BindDecision, State};
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::watch;

use super::common::{
    self, AttachmentRow, BindSecrets, EventRow, LayoutRow, ListRow, MetaRow, REFUSED_DETAIL,
    RecordRow, StateCount, UploadRow, bound_deadline, check_update, end_event, finalized,
    initial_deadline, kind_str, live_state, meta_columns, owned, part_len, require_device,
    same_part,
};
use super::{
    AttachmentLayout, BindOutcome, NewShare, RecordView, ShareMeta, Store, SweepReport,
    bind_detail, check_part, to_i64, to_u64,
};
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
}

async fn load<'e>(
    ex: impl sqlx::Executor<'e, Database = Sqlite>,
    id: &ShareId,
) -> Result<Option<ShareMeta>> {
    let row: Option<MetaRow> = sqlx::query_as(common::SHARE)
        .bind(&id.0[..])
        .fetch_optional(ex)
        .await?;
    row.map(MetaRow::into_meta).transpose()
}

async fn load_owned(
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    owned(load(&mut **tx, id).await?, owner)
}

async fn push_event(
    tx: &mut Transaction<'_, Sqlite>,
    m: &ShareMeta,
    kind: EventKind,
    at: u64,
    detail: Option<String>,
) -> Result<()> {
    sqlx::query(common::INSERT_EVENT)
        .bind(&m.owner.to_bytes()[..])
        .bind(&m.share_id.0[..])
        .bind(kind_str(kind)?)
        .bind(to_i64(at))
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn finished_attachments(
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
) -> Result<Vec<AttachmentInfo>> {
    let rows: Vec<AttachmentRow> = sqlx::query_as(common::FINISHED_ATTACHMENTS)
        .bind(&id.0[..])
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().map(AttachmentInfo::from).collect())
}

async fn current_record(
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
) -> Result<RecordCiphertext> {
    let row: RecordRow = sqlx::query_as(common::CURRENT_RECORD)
        .bind(&id.0[..])
        .fetch_one(&mut **tx)
        .await?;
    row.into_record()
}

/// Ends a share: ciphertext, keys and parts physically deleted, tombstone kept.
async fn purge(
    tx: &mut Transaction<'_, Sqlite>,
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
    tx: &mut Transaction<'_, Sqlite>,
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
impl Store for SqliteStore {
    async fn create_share(&self, s: &NewShare, max_live: u64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let owner = s.owner.to_bytes();
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
        let m = load_owned(&mut tx, &s.share_id, None).await?;
        push_event(&mut tx, &m, EventKind::Created, s.created_at, None).await?;
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn share(&self, id: &ShareId) -> Result<Option<ShareMeta>> {
        load(&self.reader, id).await
    }

    async fn bind(
        &self,
        id: &ShareId,
        verifier: &[u8; 32],
        device: &PublicKey,
        now: u64,
    ) -> Result<BindOutcome> {
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, None).await?;
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
        let after = load_owned(&mut tx, id, None).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, None).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, None).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, Some(owner)).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, owner).await?;
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
                ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, rowid DESC"
            ))
            .bind(o.to_bytes().to_vec()),
            None => sqlx::query_as(concat!(
                "SELECT ",
                meta_columns!(),
                ", owner_data FROM shares ORDER BY created_at DESC, rowid DESC"
            )),
        };
        let rows: Vec<ListRow> = q.fetch_all(&self.reader).await?;
        rows.into_iter()
            .map(|r| r.into_summary(now, owner.is_some()))
            .collect()
    }

    async fn count_by_state(&self) -> Result<Vec<(State, u64)>> {
        let rows: Vec<StateCount> = sqlx::query_as(common::COUNT_BY_STATE)
            .fetch_all(&self.reader)
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, Some(owner)).await?;
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
        let mut tx = self.reader.begin().await?;
        load_owned(&mut tx, id, Some(owner)).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, Some(owner)).await?;
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
            .fetch_optional(&self.reader)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(row.into())
    }

    async fn read_part(&self, id: &ShareId, attachment: &str, n: u64) -> Result<Vec<u8>> {
        sqlx::query_scalar(common::PART)
            .bind(&id.0[..])
            .bind(attachment)
            .bind(to_i64(n))
            .fetch_optional(&self.reader)
            .await?
            .ok_or(Error::NotFound)
    }

    async fn record_nonce(&self, signer: &str, nonce: &[u8; 16], expires_at: u64) -> Result<()> {
        let r = sqlx::query(common::INSERT_NONCE)
            .bind(signer)
            .bind(&nonce[..])
            .bind(to_i64(expires_at))
            .execute(&self.writer)
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
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let v: Option<String> = sqlx::query_scalar(common::POLICY)
            .fetch_optional(&self.reader)
            .await?;
        v.map(|v| serde_json::from_str(&v).map_err(Error::internal))
            .transpose()
    }

    async fn set_policy(&self, policy: &Policy) -> Result<()> {
        let v = serde_json::to_string(policy).map_err(Error::internal)?;
        sqlx::query(common::SET_POLICY)
            .bind(v)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn sweep(&self, now: u64) -> Result<SweepReport> {
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

    fn event_signal(&self) -> watch::Receiver<u64> {
        self.signal.subscribe()
    }
}
