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
use oneshare_sdk::lifetime::{self, BindDecision, Lifetime, State};
use oneshare_sdk::secret::ct_eq;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::watch;

use super::{
    AttachmentLayout, BindOutcome, NewShare, RecordView, ShareMeta, Store, SweepReport,
    bind_detail, check_part, to_i64, to_u64,
};
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The columns [`meta`] reads.
macro_rules! meta_columns {
    () => {
        "share_id, owner, state, created_at, expires_in, self_destruct, bound_at, device_key, \
         record_version"
    };
}

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
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
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

fn state_str(s: State) -> &'static str {
    s.as_str()
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

fn meta(row: &SqliteRow) -> Result<ShareMeta> {
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

async fn load(tx: &mut Transaction<'_, Sqlite>, id: &ShareId) -> Result<Option<ShareMeta>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        meta_columns!(),
        " FROM shares WHERE share_id = ?"
    ))
    .bind(&id.0[..])
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(meta).transpose()
}

async fn load_owned(
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
    owner: Option<&PublicKey>,
) -> Result<ShareMeta> {
    match load(tx, id).await? {
        Some(m) if owner.is_none_or(|o| *o == m.owner) => Ok(m),
        _ => Err(Error::NotFound),
    }
}

async fn push_event(
    tx: &mut Transaction<'_, Sqlite>,
    m: &ShareMeta,
    kind: EventKind,
    at: u64,
    detail: Option<String>,
) -> Result<()> {
    sqlx::query("INSERT INTO events (owner, share_id, kind, at, detail) VALUES (?, ?, ?, ?, ?)")
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
    let rows = sqlx::query(
        "SELECT attachment_id, size FROM attachments WHERE share_id = ? AND complete = 1 \
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
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
) -> Result<RecordCiphertext> {
    let row = sqlx::query("SELECT record_version, record FROM shares WHERE share_id = ?")
        .bind(&id.0[..])
        .fetch_one(&mut **tx)
        .await?;
    let ciphertext: Option<Vec<u8>> = row.try_get("record")?;
    Ok(RecordCiphertext {
        version: to_u64(row.try_get("record_version")?),
        ciphertext: ciphertext.ok_or_else(|| Error::internal("live share without record"))?,
    })
}

/// Ends a share: ciphertext, keys and parts physically deleted, tombstone kept.
async fn purge(
    tx: &mut Transaction<'_, Sqlite>,
    m: &ShareMeta,
    end: State,
    now: u64,
) -> Result<()> {
    sqlx::query(
        "UPDATE shares SET state = ?, ended_at = ?, verifier = NULL, wrapped_key = NULL, \
         record = NULL, owner_data = NULL WHERE share_id = ?",
    )
    .bind(state_str(end))
    .bind(to_i64(now))
    .bind(&m.share_id.0[..])
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM attachment_parts WHERE share_id = ?")
        .bind(&m.share_id.0[..])
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM attachments WHERE share_id = ?")
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
    tx: &mut Transaction<'_, Sqlite>,
    id: &ShareId,
    attachment: &str,
) -> Result<UploadStatus> {
    let row = sqlx::query(
        "SELECT size, part_size, received, next_part, complete FROM attachments \
         WHERE share_id = ? AND attachment_id = ?",
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
impl Store for SqliteStore {
    async fn create_share(&self, s: &NewShare, max_live: u64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let owner = s.owner.to_bytes();
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shares WHERE owner = ? \
             AND state IN ('unbound', 'binding', 'bound') AND deadline > ?",
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
             VALUES (?, ?, 'unbound', ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING",
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
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
        let m = load_owned(&mut tx, &s.share_id, None).await?;
        push_event(&mut tx, &m, EventKind::Created, s.created_at, None).await?;
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn share(&self, id: &ShareId) -> Result<Option<ShareMeta>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            " FROM shares WHERE share_id = ?"
        ))
        .bind(&id.0[..])
        .fetch_optional(&self.reader)
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, None).await?;
        let state = m.state_at(now);
        if !state.is_live() {
            return Err(Error::Gone(state));
        }
        let row = sqlx::query("SELECT verifier, wrapped_key FROM shares WHERE share_id = ?")
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
                    "UPDATE shares SET state = 'binding', device_key = ?, bound_at = ?, \
                     deadline = ? WHERE share_id = ?",
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
        m.require_live(now)?;
        if m.device_key.as_ref() != Some(device) {
            return Err(Error::BadSignature);
        }
        if m.state == State::Binding {
            sqlx::query(
                "UPDATE shares SET state = 'bound', wrapped_key = NULL, verifier = NULL \
                 WHERE share_id = ?",
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, None).await?;
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, Some(owner)).await?;
        m.require_live(now)?;
        if record.version != m.record_version.saturating_add(1) {
            return Err(Error::Conflict(
                "the record version must be the current version plus one",
            ));
        }
        sqlx::query("UPDATE shares SET record = ?, record_version = ? WHERE share_id = ?")
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
            Some(o) => sqlx::query(concat!(
                "SELECT ",
                meta_columns!(),
                ", owner_data FROM shares WHERE owner = ? ORDER BY created_at DESC, rowid DESC"
            ))
            .bind(o.to_bytes().to_vec()),
            None => sqlx::query(concat!(
                "SELECT ",
                meta_columns!(),
                ", owner_data FROM shares ORDER BY created_at DESC, rowid DESC"
            )),
        };
        let rows = q.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|r| {
                let m = meta(r)?;
                let owner_data: Option<Vec<u8>> = if owner.is_some() {
                    r.try_get("owner_data")?
                } else {
                    None
                };
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
            .fetch_all(&self.reader)
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
        let mut tx = self.writer.begin().await?;
        let m = load_owned(&mut tx, id, Some(owner)).await?;
        m.require_live(now)?;
        let status = upload_row(&mut tx, id, attachment).await?;
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if !check_part(&status, n, len)? {
            let stored: Vec<u8> = sqlx::query_scalar(
                "SELECT data FROM attachment_parts \
                 WHERE share_id = ? AND attachment_id = ? AND part = ?",
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
            "INSERT INTO attachment_parts (share_id, attachment_id, part, data) VALUES (?, ?, ?, ?)",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .bind(to_i64(n))
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE attachments SET received = received + ?, next_part = next_part + 1 \
             WHERE share_id = ? AND attachment_id = ?",
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
        let status = upload_row(&mut tx, id, attachment).await?;
        if status.received != status.size {
            return Err(Error::Conflict(
                "the upload is incomplete: received size differs from the declared size",
            ));
        }
        sqlx::query("UPDATE attachments SET complete = 1 WHERE share_id = ? AND attachment_id = ?")
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
             WHERE share_id = ? AND attachment_id = ?",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .fetch_optional(&self.reader)
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
            "SELECT data FROM attachment_parts WHERE share_id = ? AND attachment_id = ? AND part = ?",
        )
        .bind(&id.0[..])
        .bind(attachment)
        .bind(to_i64(n))
        .fetch_optional(&self.reader)
        .await?
        .ok_or(Error::NotFound)
    }

    async fn record_nonce(&self, signer: &str, nonce: &[u8; 16], expires_at: u64) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO nonces (signer, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
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
        let rows = sqlx::query(
            "SELECT id, share_id, kind, at, detail FROM events WHERE owner = ? AND id > ? \
             ORDER BY id LIMIT ?",
        )
        .bind(&owner.to_bytes()[..])
        .bind(to_i64(after))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
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
                .fetch_optional(&self.reader)
                .await?;
        v.map(|v| serde_json::from_str(&v).map_err(Error::internal))
            .transpose()
    }

    async fn set_policy(&self, policy: &Policy) -> Result<()> {
        let v = serde_json::to_string(policy).map_err(Error::internal)?;
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ('policy', ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(v)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn sweep(&self, now: u64) -> Result<SweepReport> {
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            " FROM shares WHERE state IN ('unbound', 'binding', 'bound') AND deadline <= ?"
        ))
        .bind(to_i64(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut report = SweepReport::default();
        for r in &rows {
            let m = meta(r)?;
            purge(&mut tx, &m, m.lifetime().end_state(), now).await?;
            report.ended += 1;
        }
        let n = sqlx::query("DELETE FROM nonces WHERE expires_at <= ?")
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
