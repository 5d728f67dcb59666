//! The [`Store`] implementation every [`SqlBackend`] gets: one copy of each
//! operation, generic over the backend, its writes run through
//! [`SqlBackend::write`].

use async_trait::async_trait;
use futures_util::FutureExt;
use oneshare_sdk::api::{
    AttachmentInfo, Event, EventKind, PendingTransfer, Policy, RecordCiphertext, ShareSummary,
    TransferState, UploadStatus,
};
use oneshare_sdk::lifetime::{BindDecision, State};
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer;
use tokio::sync::watch;

use super::backend::{Conn, SqlBackend, op};
use super::db::{Scalar, SqlDb, sql};
use super::rows::{
    AttachmentRow, BindSecrets, EventRow, FactorCheck, LayoutRow, ListRow, MetaRow, PendingRow,
    RecordRow, StateCount, TransferRow, UploadRow,
};
use super::sql::LAST_REFUSED_DETAIL;
use super::{rules, sql as q};
use crate::error::{Error, Result};
use crate::store::{
    AttachmentLayout, BindOutcome, BindProof, MAX_FACTOR_FAILURES, MAX_TRANSFER_REQUESTS, NewShare,
    Nonce, RecordView, ShareMeta, Store, SweepReport, TRANSFER_SECS, TransferAnswer, TransferAsk,
    TransferView, WriteStats, check_part, to_i64, to_u64,
};
use oneshare_sdk::factor::Factor;
use oneshare_sdk::risk;

/// A share's metadata, unlocked.
pub(crate) async fn load<D: SqlDb>(
    c: &mut D::Connection,
    id: &ShareId,
) -> Result<Option<ShareMeta>> {
    let row: Option<MetaRow> = D::fetch_optional(c, sql(q::SHARE).bytes(&id.0)).await?;
    row.map(MetaRow::into_meta).transpose()
}

/// Inserts one event row.
pub(crate) async fn insert_event<D: SqlDb>(
    c: &mut D::Connection,
    m: &ShareMeta,
    kind: EventKind,
    at: u64,
    detail: Option<String>,
    device: Option<&PublicKey>,
) -> Result<()> {
    let kind = super::rows::kind_str(kind)?;
    let owner = m.owner.to_bytes();
    let fingerprint = device.map(oneshare_sdk::fingerprint::fingerprint);
    let insert = sql(q::INSERT_EVENT)
        .bytes(&owner)
        .bytes(&m.share_id.0)
        .text(&kind)
        .uint(at)
        .opt_text(detail.as_deref())
        .opt_text(fingerprint.as_deref());
    D::execute(c, insert).await?;
    Ok(())
}

async fn finished_attachments<D: SqlDb>(
    c: &mut D::Connection,
    id: &ShareId,
) -> Result<Vec<AttachmentInfo>> {
    let rows: Vec<AttachmentRow> =
        D::fetch_all(c, sql(q::FINISHED_ATTACHMENTS).bytes(&id.0)).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// What a reader of the record gets: the current version, the finished
/// attachments and when access ends.
async fn record_view<D: SqlDb>(c: &mut D::Connection, m: &ShareMeta) -> Result<RecordView> {
    Ok(RecordView {
        record: current_record::<D>(c, &m.share_id).await?,
        attachments: finished_attachments::<D>(c, &m.share_id).await?,
        access_expires_at: m.deadline(),
    })
}

async fn current_record<D: SqlDb>(c: &mut D::Connection, id: &ShareId) -> Result<RecordCiphertext> {
    let row: RecordRow = D::fetch_one(c, sql(q::CURRENT_RECORD).bytes(&id.0)).await?;
    row.into_record()
}

/// Ends a share: ciphertext, keys and parts deleted, tombstone kept.
pub(crate) async fn purge<B: SqlBackend>(
    c: &mut Conn<B>,
    m: &ShareMeta,
    end: State,
    now: u64,
) -> Result<()> {
    let id = &m.share_id.0[..];
    B::Db::execute(c, sql(q::RELEASE).bytes(id)).await?;
    let ended = sql(q::END_SHARE).text(end.as_str()).uint(now).bytes(id);
    B::Db::execute(c, ended).await?;
    for text in [q::DELETE_PARTS, q::DELETE_ATTACHMENTS, q::DELETE_TRANSFERS] {
        B::Db::execute(c, sql(text).bytes(id)).await?;
    }
    B::push_event(c, m, rules::end_event(end), now, None, None).await
}

async fn upload_row<D: SqlDb>(
    c: &mut D::Connection,
    id: &ShareId,
    attachment: &str,
) -> Result<UploadStatus> {
    let row: Option<UploadRow> =
        D::fetch_optional(c, sql(q::UPLOAD_ROW).bytes(&id.0).text(attachment)).await?;
    Ok(row.ok_or(Error::NotFound)?.into())
}

/// Create, in the writer's transaction.
async fn create<B: SqlBackend>(
    c: &mut Conn<B>,
    s: &NewShare,
    max_live: u64,
    max_stored_bytes: u64,
) -> Result<ShareMeta> {
    let owner = s.owner.to_bytes();
    let id = &s.share_id.0[..];
    B::guard_quota(c, &s.owner).await?;
    let live: Scalar<i64> =
        B::Db::fetch_one(c, sql(q::COUNT_LIVE).bytes(&owner).uint(s.created_at)).await?;
    if to_u64(live.0) >= max_live {
        return Err(Error::Quota);
    }
    let reserved = rules::reserved(s);
    let insert = sql(q::INSERT_SHARE)
        .bytes(id)
        .bytes(&owner)
        .uint(s.created_at)
        .uint(s.expires_in)
        .boolean(s.self_destruct)
        .uint(rules::initial_deadline(s))
        .bytes(&s.verifier)
        .bytes(&s.wrapped_key)
        .bytes(&s.record)
        .bytes(&s.owner_data)
        .uint(reserved)
        .opt_bytes(s.guard.code_verifier.as_ref().map(|v| &v[..]))
        .boolean(s.guard.require_code)
        .opt_bytes(s.guard.passphrase_verifier.as_ref().map(|v| &v[..]))
        .opt_bytes(s.transfer_box.as_ref().map(|v| &v[..]));
    if B::Db::execute(c, insert).await? == 0 {
        return Err(Error::Conflict("a share with this id exists"));
    }
    let reserve = sql(q::RESERVE).uint(reserved).uint(max_stored_bytes);
    if B::Db::execute(c, reserve).await? == 0 {
        return Err(Error::StorageFull);
    }
    for a in &s.attachments {
        let insert = sql(q::INSERT_ATTACHMENT)
            .bytes(id)
            .text(&a.id)
            .uint(a.size)
            .uint(s.part_size);
        if B::Db::execute(c, insert).await? == 0 {
            return Err(Error::BadRequest("duplicate attachment id".to_owned()));
        }
    }
    let m = ShareMeta {
        share_id: s.share_id,
        owner: s.owner,
        state: State::Unbound,
        created_at: s.created_at,
        expires_in: s.expires_in,
        self_destruct: s.self_destruct,
        bound_at: None,
        device_key: None,
        record_version: 1,
    };
    B::push_event(c, &m, EventKind::Created, s.created_at, None, None).await?;
    Ok(m)
}

/// What a bind transaction decided: the outcome, or a refusal to answer after
/// committing (a `refused_device` event must stay).
struct Bound {
    owner: PublicKey,
    notify: bool,
    answer: Result<BindOutcome>,
}

/// Bind, in the writer's transaction.
async fn bind<B: SqlBackend>(
    c: &mut Conn<B>,
    id: &ShareId,
    proof: &BindProof,
    device: &PublicKey,
    now: u64,
) -> Result<Bound> {
    let m = B::load_owned(c, id, None).await?;
    let state = rules::live_state(&m, now)?;
    let decision = oneshare_sdk::lifetime::decide_bind(state, m.device_key.as_ref(), device);
    if decision == BindDecision::AlreadyYours {
        return Err(Error::AlreadyConfirmed);
    }
    let secrets: BindSecrets = B::Db::fetch_one(c, sql(q::BIND_SECRETS).bytes(&id.0)).await?;
    secrets.check(proof)?;
    let retry = match decision {
        BindDecision::Bind => {
            let reasons = risk::assess(
                &proof.observed,
                now.saturating_sub(m.created_at),
                proof.quick_bind_secs,
            );
            if let Some(refusal) =
                second_factors::<B>(c, &m, &secrets, proof, device, &reasons, now).await?
            {
                return Ok(refusal);
            }
            let key = device.to_bytes();
            let set = sql(q::SET_BINDING)
                .bytes(&key)
                .uint(now)
                .uint(rules::bound_deadline(&m, now))
                .bytes(&proof.alarm)
                .bytes(&id.0);
            B::Db::execute(c, set).await?;
            let detail = rules::bound_detail(&m, &reasons, proof, now);
            B::push_event(c, &m, EventKind::Bound, now, Some(detail), Some(device)).await?;
            false
        }
        BindDecision::Retry => true,
        BindDecision::OtherDevice => {
            let notify = refuse::<B>(c, &m, &secrets, None, device, now).await?;
            return Ok(Bound {
                owner: m.owner,
                notify,
                answer: Err(Error::AlreadyBound),
            });
        }
        BindDecision::AlreadyYours => return Err(Error::AlreadyConfirmed),
        BindDecision::Gone(s) => return Err(Error::Gone(s)),
    };
    let access_expires_at = if retry {
        m.deadline()
    } else {
        rules::bound_deadline(&m, now)
    };
    let (wrapped_key, record) = secrets.delivered()?;
    let attachments = finished_attachments::<B::Db>(c, id).await?;
    Ok(Bound {
        owner: m.owner,
        notify: !retry,
        answer: Ok(BindOutcome {
            wrapped_key,
            record,
            attachments,
            access_expires_at,
            self_destruct: m.self_destruct,
            retry,
        }),
    })
}

/// Appends a `refused_device` event, counted against the per-share cap: `what`
/// happened, or (`None`) another device was refused. Returns whether an event
/// was added (none once the cap is reached; the last one says so).
async fn refuse<B: SqlBackend>(
    c: &mut Conn<B>,
    m: &ShareMeta,
    secrets: &BindSecrets,
    what: Option<String>,
    device: &PublicKey,
    now: u64,
) -> Result<bool> {
    let Some(standard) = secrets.refused_detail() else {
        return Ok(false);
    };
    let detail = match what {
        None => standard.to_owned(),
        Some(what) if standard == LAST_REFUSED_DETAIL => {
            format!("{what}; further refusals of this share are not reported")
        }
        Some(what) => what,
    };
    B::Db::execute(c, sql(q::COUNT_REFUSAL).bytes(&m.share_id.0)).await?;
    B::push_event(
        c,
        m,
        EventKind::RefusedDevice,
        now,
        Some(detail),
        Some(device),
    )
    .await?;
    Ok(true)
}

/// A first bind's second factors (PROTOCOL.md §12.4): `None` to go on binding,
/// or the refusal to commit and answer.
async fn second_factors<B: SqlBackend>(
    c: &mut Conn<B>,
    m: &ShareMeta,
    secrets: &BindSecrets,
    proof: &BindProof,
    device: &PublicKey,
    reasons: &[risk::Reason],
    now: u64,
) -> Result<Option<Bound>> {
    let step_up = !reasons.is_empty() && secrets.has_code();
    let refused = |notify: bool, answer: Error| Bound {
        owner: m.owner,
        notify,
        answer: Err(answer),
    };
    Ok(match secrets.check_factors(proof, step_up) {
        FactorCheck::Pass => None,
        FactorCheck::Locked => Some(refused(false, Error::Locked)),
        FactorCheck::PassphraseRequired => Some(refused(false, Error::PassphraseRequired)),
        FactorCheck::CodeRequired => {
            let detail = rules::code_required_detail(m, reasons, now);
            Some(refused(
                refuse::<B>(c, m, secrets, Some(detail), device, now).await?,
                Error::CodeRequired,
            ))
        }
        FactorCheck::Wrong(factor) => {
            B::Db::execute(c, sql(q::COUNT_FACTOR_FAILURE).bytes(&m.share_id.0)).await?;
            let failures = secrets.factor_failures().saturating_add(1);
            let left = MAX_FACTOR_FAILURES.saturating_sub(failures);
            let detail = rules::wrong_factor_detail(factor, failures);
            if left == 0 {
                // The lock is told whatever the cap: it happens once per share.
                B::push_event(
                    c,
                    m,
                    EventKind::RefusedDevice,
                    now,
                    Some(detail),
                    Some(device),
                )
                .await?;
                Some(refused(true, Error::Locked))
            } else {
                let notify = refuse::<B>(c, m, secrets, Some(detail), device, now).await?;
                let answer = match factor {
                    Factor::OpenCode => Error::WrongCode(left),
                    Factor::Passphrase => Error::WrongPassphrase(left),
                };
                Some(refused(notify, answer))
            }
        }
    })
}

/// Expires one share's (`Some`) or every share's pending transfer requests past
/// their time, appending `transfer_expired` for each; the owners to wake.
async fn expire_transfers<B: SqlBackend>(
    c: &mut Conn<B>,
    only: Option<&ShareMeta>,
    now: u64,
) -> Result<Vec<PublicKey>> {
    let expired: Vec<Scalar<Vec<u8>>> = match only {
        Some(m) => {
            let q = sql(q::EXPIRE_SHARE_TRANSFERS)
                .uint(now)
                .bytes(&m.share_id.0);
            B::Db::fetch_all(c, q).await?
        }
        None => B::Db::fetch_all(c, sql(q::EXPIRE_TRANSFERS).uint(now)).await?,
    };
    let mut owners = Vec::new();
    for row in expired {
        let Some(m) = load::<B::Db>(c, &super::rows::share_id(&row.0)?).await? else {
            continue;
        };
        let detail = rules::TRANSFER_EXPIRED_DETAIL.to_owned();
        B::push_event(c, &m, EventKind::TransferExpired, now, Some(detail), None).await?;
        owners.push(m.owner);
    }
    Ok(owners)
}

/// What a transfer transaction decided: the answer, committed either way
/// (expiry events must stay), and whether the owner has new events.
struct Decided<T> {
    owner: PublicKey,
    notify: bool,
    answer: Result<T>,
}

/// A transfer request, in the writer's transaction.
async fn request_transfer<B: SqlBackend>(
    c: &mut Conn<B>,
    id: &ShareId,
    ask: &TransferAsk,
    now: u64,
) -> Result<Decided<u64>> {
    let m = B::load_owned(c, id, None).await?;
    if rules::live_state(&m, now)? == State::Unbound {
        return Err(Error::Conflict(
            "nobody has opened this share yet: open it with the link instead",
        ));
    }
    let secrets: BindSecrets = B::Db::fetch_one(c, sql(q::BIND_SECRETS).bytes(&id.0)).await?;
    secrets.check(&ask.proof)?;
    if m.device_key.as_ref() == Some(&ask.device_key) {
        return Err(Error::Conflict("this device already holds the share"));
    }
    let movable: Scalar<i64> = B::Db::fetch_one(c, sql(q::HAS_TRANSFER_BOX).bytes(&id.0)).await?;
    if movable.0 == 0 {
        return Err(Error::Conflict(
            "this share cannot move to another device (the sender's app did not enable it): \
             ask the sender for a new link",
        ));
    }
    let notify = !expire_transfers::<B>(c, Some(&m), now).await?.is_empty();
    let decided = |notify, answer| Decided {
        owner: m.owner,
        notify,
        answer,
    };
    let pending: Option<TransferRow> =
        B::Db::fetch_optional(c, sql(q::PENDING_TRANSFER).bytes(&id.0)).await?;
    if let Some(p) = pending {
        let p = p.into_transfer()?;
        let answer = if p.same_as(ask) {
            Ok(p.expires_at)
        } else {
            Err(Error::TransferPending)
        };
        return Ok(decided(notify, answer));
    }
    let asked: Scalar<i64> = B::Db::fetch_one(c, sql(q::COUNT_TRANSFERS).bytes(&id.0)).await?;
    if to_u64(asked.0) >= MAX_TRANSFER_REQUESTS {
        return Ok(decided(
            notify,
            Err(Error::Conflict(
                "this share had too many transfer requests: ask the sender for a new link",
            )),
        ));
    }
    let expires_at = now.saturating_add(TRANSFER_SECS).min(m.deadline());
    let (device, ecdh) = (ask.device_key.to_bytes(), ask.ecdh_key.to_bytes());
    let insert = sql(q::INSERT_TRANSFER)
        .bytes(&id.0)
        .bytes(&ask.request_id)
        .bytes(&device)
        .bytes(&ecdh)
        .uint(now)
        .uint(expires_at);
    if B::Db::execute(c, insert).await? == 0 {
        return Ok(decided(
            notify,
            Err(Error::Conflict(
                "this request id was used before: make a new request",
            )),
        ));
    }
    let detail = rules::transfer_requested_detail(&m, expires_at, now);
    B::push_event(
        c,
        &m,
        EventKind::TransferRequested,
        now,
        Some(detail),
        Some(&ask.device_key),
    )
    .await?;
    Ok(decided(true, Ok(expires_at)))
}

/// The owner's answer to a transfer request, in the writer's transaction.
async fn answer_transfer<B: SqlBackend>(
    c: &mut Conn<B>,
    id: &ShareId,
    owner: &PublicKey,
    request_id: &[u8; transfer::REQUEST_ID_LEN],
    answer: &TransferAnswer,
    now: u64,
) -> Result<Decided<()>> {
    let m = B::load_owned(c, id, Some(owner)).await?;
    rules::live_state(&m, now)?;
    let row: Option<TransferRow> =
        B::Db::fetch_optional(c, sql(q::TRANSFER).bytes(&id.0).bytes(request_id)).await?;
    let t = row.ok_or(Error::NotFound)?.into_transfer()?;
    match (t.state, t.state_at(now)) {
        (TransferState::Pending, TransferState::Pending) => {}
        (TransferState::Pending, _) => {
            expire_transfers::<B>(c, Some(&m), now).await?;
            return Ok(Decided {
                owner: m.owner,
                notify: true,
                answer: Err(Error::Conflict(
                    "the transfer request expired: the device can ask again",
                )),
            });
        }
        _ => {
            return Err(Error::Conflict(
                "this transfer request was already answered",
            ));
        }
    }
    let rid = &request_id[..];
    let (kind, detail) = match answer {
        TransferAnswer::Approve {
            approval,
            transfer_key,
        } => {
            let binding = transfer::Binding {
                share_id: id,
                request_id,
                device_key: &t.device_key,
                ecdh_key: &t.ecdh_key,
            };
            transfer::verify_approval(&m.owner, &binding, approval)
                .map_err(|_| Error::BadSignature)?;
            let old = m
                .device_key
                .ok_or_else(|| Error::internal("an opened share without a device key"))?
                .to_bytes();
            let new = t.device_key.to_bytes();
            B::Db::execute(c, sql(q::MOVE_BINDING).bytes(&new).bytes(&id.0)).await?;
            let approve = sql(q::APPROVE_TRANSFER)
                .uint(now)
                .bytes(&old)
                .bytes(approval)
                .bytes(&transfer_key[..])
                .bytes(&id.0)
                .bytes(rid);
            B::Db::execute(c, approve).await?;
            (EventKind::TransferApproved, rules::TRANSFER_APPROVED_DETAIL)
        }
        TransferAnswer::Deny => {
            let deny = sql(q::DENY_TRANSFER).uint(now).bytes(&id.0).bytes(rid);
            B::Db::execute(c, deny).await?;
            (EventKind::TransferDenied, rules::TRANSFER_DENIED_DETAIL)
        }
    };
    B::push_event(
        c,
        &m,
        kind,
        now,
        Some(detail.to_owned()),
        Some(&t.device_key),
    )
    .await?;
    Ok(Decided {
        owner: m.owner,
        notify: true,
        answer: Ok(()),
    })
}

/// Update, in the writer's transaction.
async fn update<B: SqlBackend>(
    c: &mut Conn<B>,
    id: &ShareId,
    owner: &PublicKey,
    record: &RecordCiphertext,
    now: u64,
) -> Result<ShareMeta> {
    let m = B::load_owned(c, id, Some(owner)).await?;
    let detail = rules::check_update(&m, record.version, now)?;
    let old = current_record::<B::Db>(c, id).await?;
    let delta = to_i64(rules::part_len(&record.ciphertext))
        .saturating_sub(to_i64(rules::part_len(&old.ciphertext)));
    B::Db::execute(c, sql(q::ADJUST).int(delta)).await?;
    B::Db::execute(c, sql(q::ADJUST_SHARE).int(delta).bytes(&id.0)).await?;
    let set = sql(q::SET_RECORD)
        .bytes(&record.ciphertext)
        .uint(record.version)
        .bytes(&id.0);
    B::Db::execute(c, set).await?;
    B::push_event(c, &m, EventKind::Updated, now, Some(detail), None).await?;
    Ok(m)
}

/// One attachment part, in the writer's transaction.
async fn put_part<B: SqlBackend>(
    c: &mut Conn<B>,
    id: &ShareId,
    owner: &PublicKey,
    attachment: &str,
    n: u64,
    bytes: &[u8],
    now: u64,
) -> Result<UploadStatus> {
    // `load_owned` serializes uploads of one share's parts.
    let m = B::load_owned(c, id, Some(owner)).await?;
    m.require_live(now)?;
    let status = upload_row::<B::Db>(c, id, attachment).await?;
    let len = rules::part_len(bytes);
    if !check_part(&status, n, len)? {
        let part = sql(q::PART).bytes(&id.0).text(attachment).uint(n);
        let stored: Scalar<Vec<u8>> = B::Db::fetch_one(c, part).await?;
        return rules::same_part(&stored.0, bytes, status);
    }
    let insert = sql(q::INSERT_PART)
        .bytes(&id.0)
        .text(attachment)
        .uint(n)
        .bytes(bytes);
    B::Db::execute(c, insert).await?;
    let advance = sql(q::ADVANCE_UPLOAD)
        .uint(len)
        .bytes(&id.0)
        .text(attachment);
    B::Db::execute(c, advance).await?;
    upload_row::<B::Db>(c, id, attachment).await
}

/// Records a request's nonce; `false` if the pair was already recorded.
pub(crate) async fn insert_nonce<D: SqlDb>(c: &mut D::Connection, n: &Nonce) -> Result<bool> {
    let insert = sql(q::INSERT_NONCE)
        .text(&n.signer)
        .bytes(&n.nonce)
        .uint(n.expires_at);
    Ok(D::execute(c, insert).await? > 0)
}

/// Folds the share-count deltas into one row per state, so a scrape stays a few rows.
async fn fold_counts<D: SqlDb>(c: &mut D::Connection) -> Result<()> {
    let deltas: Vec<StateCount> = D::fetch_all(c, sql(q::TAKE_COUNT_DELTAS)).await?;
    for (state, n) in StateCount::fold(deltas) {
        D::execute(c, sql(q::PUT_COUNT).text(&state).int(n)).await?;
    }
    Ok(())
}

/// Wakes `owner`'s local SSE streams (after the commit that made their events visible).
fn notify<B: SqlBackend>(b: &B, owner: &PublicKey) {
    b.events().notify(&owner.to_bytes());
}

#[async_trait]
impl<B: SqlBackend> Store for B {
    async fn create_share(
        &self,
        s: &NewShare,
        max_live: u64,
        max_stored_bytes: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()> {
        let s = s.clone();
        let m = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move { create::<B>(c, &s, max_live, max_stored_bytes).await }.boxed()
                }),
            )
            .await?;
        notify(self, &m.owner);
        Ok(())
    }

    async fn share(&self, id: &ShareId) -> Result<Option<ShareMeta>> {
        let mut c = self.reader().acquire().await?;
        load::<B::Db>(&mut c, id).await
    }

    async fn bind(
        &self,
        id: &ShareId,
        proof: &BindProof,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<BindOutcome> {
        let (id, proof, device) = (*id, proof.clone(), *device);
        let bound = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move { bind::<B>(c, &id, &proof, &device, now).await }.boxed()
                }),
            )
            .await?;
        if bound.notify {
            notify(self, &bound.owner);
        }
        bound.answer
    }

    async fn confirm(
        &self,
        id: &ShareId,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<u64> {
        let (id, device) = (*id, *device);
        let (m, changed) = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move {
                        let m = B::load_owned(c, &id, None).await?;
                        rules::require_device(&m, &device, now)?;
                        let changed = m.state == State::Binding;
                        if changed {
                            B::Db::execute(c, sql(q::SET_BOUND).bytes(&id.0)).await?;
                            B::push_event(
                                c,
                                &m,
                                EventKind::Confirmed,
                                now,
                                None,
                                m.device_key.as_ref(),
                            )
                            .await?;
                        }
                        Ok((m, changed))
                    }
                    .boxed()
                }),
            )
            .await?;
        if changed {
            notify(self, &m.owner);
        }
        Ok(m.deadline())
    }

    async fn fetch_record(
        &self,
        id: &ShareId,
        device: &PublicKey,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<RecordView> {
        let (id, device) = (*id, *device);
        let (owner, view) = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move {
                        let m = B::load_owned(c, &id, None).await?;
                        rules::require_device(&m, &device, now)?;
                        let view = record_view::<B::Db>(c, &m).await?;
                        B::push_event(c, &m, EventKind::Viewed, now, None, m.device_key.as_ref())
                            .await?;
                        Ok((m.owner, view))
                    }
                    .boxed()
                }),
            )
            .await?;
        notify(self, &owner);
        Ok(view)
    }

    async fn owner_record(&self, id: &ShareId, owner: &PublicKey, now: u64) -> Result<RecordView> {
        // One read transaction, so the record and attachments match the state read.
        let mut tx = self.reader().begin().await?;
        let m = load::<B::Db>(&mut tx, id)
            .await?
            .filter(|m| m.owner == *owner)
            .ok_or(Error::NotFound)?;
        m.require_live(now)?;
        record_view::<B::Db>(&mut tx, &m).await
    }

    async fn update_record(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        record: &RecordCiphertext,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()> {
        let (id, owner, record) = (*id, *owner, record.clone());
        let m = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move { update::<B>(c, &id, &owner, &record, now).await }.boxed()
                }),
            )
            .await?;
        notify(self, &m.owner);
        Ok(())
    }

    async fn revoke(
        &self,
        id: &ShareId,
        owner: Option<&PublicKey>,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()> {
        let (id, owner) = (*id, owner.copied());
        let m = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move {
                        let m = B::load_owned(c, &id, owner.as_ref()).await?;
                        m.require_live(now)?;
                        purge::<B>(c, &m, State::Revoked, now).await?;
                        Ok(m)
                    }
                    .boxed()
                }),
            )
            .await?;
        notify(self, &m.owner);
        self.scrub().await
    }

    async fn list_shares(&self, owner: Option<&PublicKey>, now: u64) -> Result<Vec<ShareSummary>> {
        let key = owner.map(PublicKey::to_bytes);
        let query = match &key {
            Some(k) => sql(B::LIST_OWN).bytes(k),
            None => sql(B::LIST_ALL),
        };
        let mut c = self.reader().acquire().await?;
        let rows: Vec<ListRow> = B::Db::fetch_all(&mut c, query).await?;
        rows.into_iter()
            .map(|r| r.into_summary(now, owner.is_some()))
            .collect()
    }

    async fn count_by_state(&self) -> Result<Vec<(State, u64)>> {
        let mut c = self.reader().acquire().await?;
        let rows: Vec<StateCount> = B::Db::fetch_all(&mut c, sql(q::COUNT_BY_STATE)).await?;
        rows.into_iter().map(StateCount::into_pair).collect()
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one part of one attachment: its address, bytes, clock and nonce"
    )]
    async fn put_part(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        n: u64,
        bytes: &[u8],
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<UploadStatus> {
        let (id, owner, attachment, bytes) = (*id, *owner, attachment.to_owned(), bytes.to_vec());
        self.write(
            nonce.cloned(),
            op::<B, _, _>(move |c| {
                async move { put_part::<B>(c, &id, &owner, &attachment, n, &bytes, now).await }
                    .boxed()
            }),
        )
        .await
    }

    async fn upload_status(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
    ) -> Result<UploadStatus> {
        // A plain read (no row lock), so polling never queues behind an upload.
        let mut tx = self.reader().begin().await?;
        rules::owned(load::<B::Db>(&mut tx, id).await?, Some(owner))?;
        let status = upload_row::<B::Db>(&mut tx, id, attachment).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn finalize(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        attachment: &str,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<UploadStatus> {
        let (id, owner, attachment) = (*id, *owner, attachment.to_owned());
        self.write(
            nonce.cloned(),
            op::<B, _, _>(move |c| {
                async move {
                    let m = B::load_owned(c, &id, Some(&owner)).await?;
                    m.require_live(now)?;
                    let done = rules::finalized(upload_row::<B::Db>(c, &id, &attachment).await?)?;
                    B::Db::execute(c, sql(q::FINALIZE).bytes(&id.0).text(&attachment)).await?;
                    Ok(done)
                }
                .boxed()
            }),
        )
        .await
    }

    async fn attachment(&self, id: &ShareId, attachment: &str) -> Result<AttachmentLayout> {
        let mut c = self.reader().acquire().await?;
        let row: Option<LayoutRow> =
            B::Db::fetch_optional(&mut c, sql(q::LAYOUT).bytes(&id.0).text(attachment)).await?;
        Ok(row.ok_or(Error::NotFound)?.into())
    }

    async fn read_part(&self, id: &ShareId, attachment: &str, n: u64) -> Result<Vec<u8>> {
        let mut c = self.reader().acquire().await?;
        let part = sql(q::PART).bytes(&id.0).text(attachment).uint(n);
        let row: Option<Scalar<Vec<u8>>> = B::Db::fetch_optional(&mut c, part).await?;
        Ok(row.ok_or(Error::NotFound)?.0)
    }

    async fn record_nonce(&self, nonce: &Nonce) -> Result<()> {
        SqlBackend::record_nonce(self, nonce.clone()).await
    }

    async fn request_transfer(
        &self,
        id: &ShareId,
        ask: &TransferAsk,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<u64> {
        let (id, ask) = (*id, ask.clone());
        let decided = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move { request_transfer::<B>(c, &id, &ask, now).await }.boxed()
                }),
            )
            .await?;
        if decided.notify {
            notify(self, &decided.owner);
        }
        decided.answer
    }

    async fn transfer(
        &self,
        id: &ShareId,
        request_id: &[u8; transfer::REQUEST_ID_LEN],
        now: u64,
    ) -> Result<TransferView> {
        let mut tx = self.reader().begin().await?;
        let m = load::<B::Db>(&mut tx, id).await?.ok_or(Error::NotFound)?;
        m.require_live(now)?;
        let row: Option<TransferRow> =
            B::Db::fetch_optional(&mut tx, sql(q::TRANSFER).bytes(&id.0).bytes(request_id)).await?;
        let t = row.ok_or(Error::NotFound)?.into_transfer()?;
        let state = t.state_at(now);
        Ok(TransferView {
            state,
            holds_share: m.device_key == Some(t.device_key),
            device_key: t.device_key,
            expires_at: t.expires_at,
            transfer_key: t.transfer_key.filter(|_| state == TransferState::Approved),
        })
    }

    async fn pending_transfers(&self, owner: &PublicKey, now: u64) -> Result<Vec<PendingTransfer>> {
        let key = owner.to_bytes();
        let mut c = self.reader().acquire().await?;
        let rows: Vec<PendingRow> =
            B::Db::fetch_all(&mut c, sql(q::PENDING_OF_OWNER).bytes(&key).uint(now)).await?;
        rows.into_iter().map(PendingRow::into_pending).collect()
    }

    async fn answer_transfer(
        &self,
        id: &ShareId,
        owner: &PublicKey,
        request_id: &[u8; transfer::REQUEST_ID_LEN],
        answer: &TransferAnswer,
        now: u64,
        nonce: Option<&Nonce>,
    ) -> Result<()> {
        let (id, owner, rid, answer) = (*id, *owner, *request_id, answer.clone());
        let decided = self
            .write(
                nonce.cloned(),
                op::<B, _, _>(move |c| {
                    async move { answer_transfer::<B>(c, &id, &owner, &rid, &answer, now).await }
                        .boxed()
                }),
            )
            .await?;
        if decided.notify {
            notify(self, &decided.owner);
        }
        decided.answer
    }

    async fn moved_from(&self, id: &ShareId) -> Result<Vec<PublicKey>> {
        let mut c = self.reader().acquire().await?;
        let rows: Vec<Scalar<Vec<u8>>> =
            B::Db::fetch_all(&mut c, sql(q::MOVED_FROM).bytes(&id.0)).await?;
        rows.iter()
            .map(|r| PublicKey::from_bytes(&r.0).map_err(|_| Error::internal("bad key in store")))
            .collect()
    }

    async fn events_since(&self, owner: &PublicKey, after: u64, limit: u32) -> Result<Vec<Event>> {
        let key = owner.to_bytes();
        let query = sql(q::EVENTS_SINCE)
            .bytes(&key)
            .uint(after)
            .int(i64::from(limit));
        let mut c = self.reader().acquire().await?;
        let rows: Vec<EventRow> = B::Db::fetch_all(&mut c, query).await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let mut c = self.reader().acquire().await?;
        let v: Option<Scalar<String>> = B::Db::fetch_optional(&mut c, sql(q::POLICY)).await?;
        v.map(|v| serde_json::from_str(&v.0).map_err(Error::internal))
            .transpose()
    }

    async fn set_policy(&self, policy: &Policy, nonce: Option<&Nonce>) -> Result<()> {
        let v = serde_json::to_string(policy).map_err(Error::internal)?;
        self.write(
            nonce.cloned(),
            op::<B, _, _>(move |c| {
                async move { B::Db::execute(c, sql(q::SET_POLICY).text(&v)).await }.boxed()
            }),
        )
        .await?;
        Ok(())
    }

    async fn sweep(&self, now: u64) -> Result<SweepReport> {
        let report = self.sweep_due(now).await?;
        let owners = self
            .write(
                None,
                op::<B, _, _>(move |c| expire_transfers::<B>(c, None, now).boxed()),
            )
            .await?;
        for owner in &owners {
            notify(self, owner);
        }
        self.write(None, op::<B, _, _>(|c| fold_counts::<B::Db>(c).boxed()))
            .await?;
        Ok(report)
    }

    fn write_stats(&self) -> Option<WriteStats> {
        self.committed()
    }

    fn event_signal(&self, owner: &PublicKey) -> watch::Receiver<u64> {
        self.events().subscribe(owner)
    }
}
