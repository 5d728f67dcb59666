//! What both SQL backends share, by concern: [`sql`] (the SQL text), [`rows`]
//! (row → type mapping), [`rules`] (checks and decisions on loaded rows), and
//! [`sql_store!`], one copy of every `Store` method whose code is the same.
//! Backends keep only pools, locking, notification, listing order and the sweep.
//! Everything is re-exported here, so the methods name it as `sql::…`.

mod rows;
mod rules;
mod sql;

pub(crate) use rows::*;
pub(crate) use rules::*;
pub(crate) use sql::*;

/// The [`Store`](super::Store) methods and transaction helpers whose text is the
/// same for every SQL backend, instantiated once per backend (`$store` over the
/// sqlx database `$db`): sqlx's generic bounds would repeat on every function,
/// while a macro keeps one copy of the code with concrete, checked types.
///
/// The backend module supplies the dialect-specific parts:
/// - `self.writer()` / `self.reader()`: pools for transactions and plain reads;
/// - `self.notify(owner)`: wakes that owner's local SSE streams after a commit;
/// - `load_owned(tx, id, owner)`: loads (and, where needed, locks) an owned share;
/// - `guard_quota(tx, owner)`: makes "count live shares, then insert" atomic;
/// - `push_event`: the function that appends an event (`insert_event`, generated
///   here, or a backend's wrapper that also locks and announces);
/// - `tie`: the column that orders shares created in the same second;
/// - `no_owner_data`: what the admin listing selects in place of owner data;
/// - `self.sweep_due(now)`: the sweep, whose transactions differ;
/// - `self.scrub()`: after a revoke, removes deleted ciphertext from any file
///   that may still hold it (SQLite's `-wal`).
macro_rules! sql_store {
    (
        $store:ty,
        $db:ty,
        push_event: $push_event:ident,
        tie: $tie:literal,
        no_owner_data: $no_owner_data:literal $(,)?
    ) => {
        use $crate::store::common as sql;

        /// One owner's shares with owner data, newest first.
        const LIST_OWN: &str = concat!(
            "SELECT ",
            $crate::store::common::meta_columns!(),
            ", owner_data FROM shares WHERE owner = $1 ORDER BY created_at DESC, ",
            $tie,
            " DESC"
        );

        /// Every share (the admin listing, which drops owner data), newest first.
        const LIST_ALL: &str = concat!(
            "SELECT ",
            $crate::store::common::meta_columns!(),
            ", ",
            $no_owner_data,
            " FROM shares ORDER BY created_at DESC, ",
            $tie,
            " DESC"
        );

        /// A share's metadata, unlocked.
        async fn load<'e>(
            ex: impl ::sqlx::Executor<'e, Database = $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<Option<$crate::store::ShareMeta>> {
            let row: Option<sql::MetaRow> = ::sqlx::query_as(sql::SHARE)
                .bind(&id.0[..])
                .fetch_optional(ex)
                .await?;
            row.map(sql::MetaRow::into_meta).transpose()
        }

        /// Inserts one event row.
        async fn insert_event(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            m: &$crate::store::ShareMeta,
            kind: ::oneshare_sdk::api::EventKind,
            at: u64,
            detail: Option<String>,
        ) -> $crate::error::Result<()> {
            ::sqlx::query(sql::INSERT_EVENT)
                .bind(&m.owner.to_bytes()[..])
                .bind(&m.share_id.0[..])
                .bind(sql::kind_str(kind)?)
                .bind($crate::store::to_i64(at))
                .bind(detail)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn finished_attachments(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<Vec<::oneshare_sdk::api::AttachmentInfo>> {
            let rows: Vec<sql::AttachmentRow> = ::sqlx::query_as(sql::FINISHED_ATTACHMENTS)
                .bind(&id.0[..])
                .fetch_all(&mut **tx)
                .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn current_record(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
        ) -> $crate::error::Result<::oneshare_sdk::api::RecordCiphertext> {
            let row: sql::RecordRow = ::sqlx::query_as(sql::CURRENT_RECORD)
                .bind(&id.0[..])
                .fetch_one(&mut **tx)
                .await?;
            row.into_record()
        }

        /// Ends a share: ciphertext, keys and parts deleted, tombstone kept.
        async fn purge(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            m: &$crate::store::ShareMeta,
            end: ::oneshare_sdk::lifetime::State,
            now: u64,
        ) -> $crate::error::Result<()> {
            ::sqlx::query(sql::RELEASE)
                .bind(&m.share_id.0[..])
                .execute(&mut **tx)
                .await?;
            ::sqlx::query(sql::END_SHARE)
                .bind(end.as_str())
                .bind($crate::store::to_i64(now))
                .bind(&m.share_id.0[..])
                .execute(&mut **tx)
                .await?;
            for q in [sql::DELETE_PARTS, sql::DELETE_ATTACHMENTS] {
                ::sqlx::query(q)
                    .bind(&m.share_id.0[..])
                    .execute(&mut **tx)
                    .await?;
            }
            $push_event(tx, m, sql::end_event(end), now, None).await
        }

        async fn upload_row(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            id: &::oneshare_sdk::token::ShareId,
            attachment: &str,
        ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
            let row: sql::UploadRow = ::sqlx::query_as(sql::UPLOAD_ROW)
                .bind(&id.0[..])
                .bind(attachment)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or($crate::error::Error::NotFound)?;
            Ok(row.into())
        }

        #[::async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn create_share(
                &self,
                s: &$crate::store::NewShare,
                max_live: u64,
                max_stored_bytes: u64,
            ) -> $crate::error::Result<()> {
                use $crate::store::{to_i64, to_u64};
                let mut tx = self.writer().begin().await?;
                let owner = s.owner.to_bytes();
                guard_quota(&mut tx, &s.owner).await?;
                let live: i64 = ::sqlx::query_scalar(sql::COUNT_LIVE)
                    .bind(&owner[..])
                    .bind(to_i64(s.created_at))
                    .fetch_one(&mut *tx)
                    .await?;
                if to_u64(live) >= max_live {
                    return Err($crate::error::Error::Quota);
                }
                let inserted = ::sqlx::query(sql::INSERT_SHARE)
                    .bind(&s.share_id.0[..])
                    .bind(&owner[..])
                    .bind(to_i64(s.created_at))
                    .bind(to_i64(s.expires_in))
                    .bind(s.self_destruct)
                    .bind(to_i64(sql::initial_deadline(s)))
                    .bind(&s.verifier[..])
                    .bind(&s.wrapped_key[..])
                    .bind(&s.record[..])
                    .bind(&s.owner_data[..])
                    .execute(&mut *tx)
                    .await?;
                if inserted.rows_affected() == 0 {
                    return Err($crate::error::Error::Conflict(
                        "a share with this id exists",
                    ));
                }
                let reserved = to_i64(sql::reserved(s));
                let room = ::sqlx::query(sql::RESERVE)
                    .bind(reserved)
                    .bind(to_i64(max_stored_bytes))
                    .execute(&mut *tx)
                    .await?;
                if room.rows_affected() == 0 {
                    return Err($crate::error::Error::StorageFull);
                }
                ::sqlx::query(sql::SET_RESERVED)
                    .bind(reserved)
                    .bind(&s.share_id.0[..])
                    .execute(&mut *tx)
                    .await?;
                for a in &s.attachments {
                    let r = ::sqlx::query(sql::INSERT_ATTACHMENT)
                        .bind(&s.share_id.0[..])
                        .bind(&a.id)
                        .bind(to_i64(a.size))
                        .bind(to_i64(s.part_size))
                        .execute(&mut *tx)
                        .await?;
                    if r.rows_affected() == 0 {
                        return Err($crate::error::Error::BadRequest(
                            "duplicate attachment id".to_owned(),
                        ));
                    }
                }
                let m = load_owned(&mut tx, &s.share_id, None).await?;
                $push_event(
                    &mut tx,
                    &m,
                    ::oneshare_sdk::api::EventKind::Created,
                    s.created_at,
                    None,
                )
                .await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok(())
            }

            async fn share(
                &self,
                id: &::oneshare_sdk::token::ShareId,
            ) -> $crate::error::Result<Option<$crate::store::ShareMeta>> {
                load(self.reader(), id).await
            }

            async fn bind(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                proof: &$crate::store::BindProof,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<$crate::store::BindOutcome> {
                use ::oneshare_sdk::api::EventKind;
                use ::oneshare_sdk::lifetime::BindDecision;
                use $crate::error::Error;
                use $crate::store::to_i64;
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                let state = sql::live_state(&m, now)?;
                let decision =
                    ::oneshare_sdk::lifetime::decide_bind(state, m.device_key.as_ref(), device);
                if decision == BindDecision::AlreadyYours {
                    return Err(Error::AlreadyConfirmed);
                }
                let secrets: sql::BindSecrets = ::sqlx::query_as(sql::BIND_SECRETS)
                    .bind(&id.0[..])
                    .fetch_one(&mut *tx)
                    .await?;
                secrets.check(proof)?;
                let retry = match decision {
                    BindDecision::Bind => {
                        ::sqlx::query(sql::SET_BINDING)
                            .bind(&device.to_bytes()[..])
                            .bind(to_i64(now))
                            .bind(to_i64(sql::bound_deadline(&m, now)))
                            .bind(&proof.alarm[..])
                            .bind(&id.0[..])
                            .execute(&mut *tx)
                            .await?;
                        let detail = $crate::store::bind_detail(m.created_at, now);
                        $push_event(&mut tx, &m, EventKind::Bound, now, Some(detail)).await?;
                        false
                    }
                    BindDecision::Retry => true,
                    BindDecision::OtherDevice => {
                        if let Some(detail) = secrets.refused_detail() {
                            ::sqlx::query(sql::COUNT_REFUSAL)
                                .bind(&id.0[..])
                                .execute(&mut *tx)
                                .await?;
                            let detail = Some(detail.to_owned());
                            $push_event(&mut tx, &m, EventKind::RefusedDevice, now, detail).await?;
                            tx.commit().await?;
                            self.notify(&m.owner);
                        }
                        return Err(Error::AlreadyBound);
                    }
                    BindDecision::AlreadyYours => return Err(Error::AlreadyConfirmed),
                    BindDecision::Gone(s) => return Err(Error::Gone(s)),
                };
                let wrapped_key = secrets.wrapped_key()?;
                let record = current_record(&mut tx, id).await?;
                let attachments = finished_attachments(&mut tx, id).await?;
                let after = load_owned(&mut tx, id, None).await?;
                tx.commit().await?;
                if !retry {
                    self.notify(&m.owner);
                }
                Ok($crate::store::BindOutcome {
                    wrapped_key,
                    record,
                    attachments,
                    access_expires_at: after.deadline(),
                    self_destruct: after.self_destruct,
                    retry,
                })
            }

            async fn confirm(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<u64> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                sql::require_device(&m, device, now)?;
                if m.state == ::oneshare_sdk::lifetime::State::Binding {
                    ::sqlx::query(sql::SET_BOUND)
                        .bind(&id.0[..])
                        .execute(&mut *tx)
                        .await?;
                    let kind = ::oneshare_sdk::api::EventKind::Confirmed;
                    $push_event(&mut tx, &m, kind, now, None).await?;
                    tx.commit().await?;
                    self.notify(&m.owner);
                }
                Ok(m.deadline())
            }

            async fn fetch_record(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                device: &::oneshare_sdk::signing::PublicKey,
                now: u64,
            ) -> $crate::error::Result<$crate::store::RecordView> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, None).await?;
                sql::require_device(&m, device, now)?;
                let record = current_record(&mut tx, id).await?;
                let attachments = finished_attachments(&mut tx, id).await?;
                let kind = ::oneshare_sdk::api::EventKind::Viewed;
                $push_event(&mut tx, &m, kind, now, None).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok($crate::store::RecordView {
                    record,
                    attachments,
                    access_expires_at: m.deadline(),
                })
            }

            async fn update_record(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                record: &::oneshare_sdk::api::RecordCiphertext,
                now: u64,
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                let detail = sql::check_update(&m, record.version, now)?;
                let old = current_record(&mut tx, id).await?;
                let delta = $crate::store::to_i64(sql::part_len(&record.ciphertext))
                    .saturating_sub($crate::store::to_i64(sql::part_len(&old.ciphertext)));
                ::sqlx::query(sql::ADJUST)
                    .bind(delta)
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::ADJUST_SHARE)
                    .bind(delta)
                    .bind(&id.0[..])
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::SET_RECORD)
                    .bind(&record.ciphertext[..])
                    .bind($crate::store::to_i64(record.version))
                    .bind(&id.0[..])
                    .execute(&mut *tx)
                    .await?;
                let kind = ::oneshare_sdk::api::EventKind::Updated;
                $push_event(&mut tx, &m, kind, now, Some(detail)).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                Ok(())
            }

            async fn revoke(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: Option<&::oneshare_sdk::signing::PublicKey>,
                now: u64,
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, owner).await?;
                m.require_live(now)?;
                purge(&mut tx, &m, ::oneshare_sdk::lifetime::State::Revoked, now).await?;
                tx.commit().await?;
                self.notify(&m.owner);
                self.scrub().await
            }

            async fn list_shares(
                &self,
                owner: Option<&::oneshare_sdk::signing::PublicKey>,
                now: u64,
            ) -> $crate::error::Result<Vec<::oneshare_sdk::api::ShareSummary>> {
                let q = match owner {
                    Some(o) => ::sqlx::query_as(LIST_OWN).bind(o.to_bytes().to_vec()),
                    None => ::sqlx::query_as(LIST_ALL),
                };
                let rows: Vec<sql::ListRow> = q.fetch_all(self.reader()).await?;
                rows.into_iter()
                    .map(|r| r.into_summary(now, owner.is_some()))
                    .collect()
            }

            async fn count_by_state(
                &self,
            ) -> $crate::error::Result<Vec<(::oneshare_sdk::lifetime::State, u64)>> {
                let rows: Vec<sql::StateCount> = ::sqlx::query_as(sql::COUNT_BY_STATE)
                    .fetch_all(self.reader())
                    .await?;
                rows.into_iter().map(sql::StateCount::into_pair).collect()
            }

            async fn put_part(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
                n: u64,
                bytes: &[u8],
                now: u64,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                use $crate::store::to_i64;
                let mut tx = self.writer().begin().await?;
                // `load_owned` (a row lock, or the one writer) serializes uploads of its parts.
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                m.require_live(now)?;
                let status = upload_row(&mut tx, id, attachment).await?;
                let len = sql::part_len(bytes);
                if !$crate::store::check_part(&status, n, len)? {
                    let stored: Vec<u8> = ::sqlx::query_scalar(sql::PART)
                        .bind(&id.0[..])
                        .bind(attachment)
                        .bind(to_i64(n))
                        .fetch_one(&mut *tx)
                        .await?;
                    return sql::same_part(&stored, bytes, status);
                }
                ::sqlx::query(sql::INSERT_PART)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .bind(to_i64(n))
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await?;
                ::sqlx::query(sql::ADVANCE_UPLOAD)
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
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                // A plain read (no row lock), so polling never queues behind an upload.
                let mut tx = self.reader().begin().await?;
                sql::owned(load(&mut *tx, id).await?, Some(owner))?;
                let status = upload_row(&mut tx, id, attachment).await?;
                tx.commit().await?;
                Ok(status)
            }

            async fn finalize(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                owner: &::oneshare_sdk::signing::PublicKey,
                attachment: &str,
                now: u64,
            ) -> $crate::error::Result<::oneshare_sdk::api::UploadStatus> {
                let mut tx = self.writer().begin().await?;
                let m = load_owned(&mut tx, id, Some(owner)).await?;
                m.require_live(now)?;
                let done = sql::finalized(upload_row(&mut tx, id, attachment).await?)?;
                ::sqlx::query(sql::FINALIZE)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn attachment(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                attachment: &str,
            ) -> $crate::error::Result<$crate::store::AttachmentLayout> {
                let row: sql::LayoutRow = ::sqlx::query_as(sql::LAYOUT)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or($crate::error::Error::NotFound)?;
                Ok(row.into())
            }

            async fn read_part(
                &self,
                id: &::oneshare_sdk::token::ShareId,
                attachment: &str,
                n: u64,
            ) -> $crate::error::Result<Vec<u8>> {
                ::sqlx::query_scalar(sql::PART)
                    .bind(&id.0[..])
                    .bind(attachment)
                    .bind($crate::store::to_i64(n))
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or($crate::error::Error::NotFound)
            }

            async fn record_nonce(
                &self,
                signer: &str,
                nonce: &[u8; 16],
                expires_at: u64,
            ) -> $crate::error::Result<()> {
                let r = ::sqlx::query(sql::INSERT_NONCE)
                    .bind(signer)
                    .bind(&nonce[..])
                    .bind($crate::store::to_i64(expires_at))
                    .execute(self.writer())
                    .await?;
                if r.rows_affected() == 0 {
                    return Err($crate::error::Error::Replayed);
                }
                Ok(())
            }

            async fn events_since(
                &self,
                owner: &::oneshare_sdk::signing::PublicKey,
                after: u64,
                limit: u32,
            ) -> $crate::error::Result<Vec<::oneshare_sdk::api::Event>> {
                let rows: Vec<sql::EventRow> = ::sqlx::query_as(sql::EVENTS_SINCE)
                    .bind(&owner.to_bytes()[..])
                    .bind($crate::store::to_i64(after))
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                rows.into_iter().map(sql::EventRow::into_event).collect()
            }

            async fn policy(&self) -> $crate::error::Result<Option<::oneshare_sdk::api::Policy>> {
                let v: Option<String> = ::sqlx::query_scalar(sql::POLICY)
                    .fetch_optional(self.reader())
                    .await?;
                v.map(|v| serde_json::from_str(&v).map_err($crate::error::Error::internal))
                    .transpose()
            }

            async fn set_policy(
                &self,
                policy: &::oneshare_sdk::api::Policy,
            ) -> $crate::error::Result<()> {
                let v = serde_json::to_string(policy).map_err($crate::error::Error::internal)?;
                ::sqlx::query(sql::SET_POLICY)
                    .bind(v)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn sweep(&self, now: u64) -> $crate::error::Result<$crate::store::SweepReport> {
                let report = self.sweep_due(now).await?;
                // Fold the share-count deltas so a scrape stays a few rows.
                let mut tx = self.writer().begin().await?;
                let deltas: Vec<sql::StateCount> = ::sqlx::query_as(sql::TAKE_COUNT_DELTAS)
                    .fetch_all(&mut *tx)
                    .await?;
                for (state, n) in sql::StateCount::fold(deltas) {
                    ::sqlx::query(sql::PUT_COUNT)
                        .bind(state)
                        .bind(n)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(report)
            }

            fn event_signal(
                &self,
                owner: &::oneshare_sdk::signing::PublicKey,
            ) -> ::tokio::sync::watch::Receiver<u64> {
                self.events.subscribe(owner)
            }
        }
    };
}
pub(crate) use sql_store;
