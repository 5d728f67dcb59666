//! The API handlers (PROTOCOL.md §10). Thin: authenticate, decode, one store
//! operation, encode.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::Stream;
use oneshare_sdk::api::{
    ApproveTransfer, BindRequest, BindResponse, ConfirmResponse, CreatePolicy, CreateShareRequest,
    CreateShareResponse, Policy, RecordResponse, ShareList, ShareStatus, TransferList,
    TransferRequest, TransferState, TransferStatus, TransferTicket, UpdateRecordRequest,
};
use oneshare_sdk::risk::Observation;
use oneshare_sdk::signing::{PublicKey, Signer};
use oneshare_sdk::sse::CAUGHT_UP;
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer;
use serde::de::DeserializeOwned;

use crate::auth::{Signed, json};
use crate::client_ip::ClientIp;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{BindProof, NewShare, Nonce, TransferAnswer, TransferAsk};

/// Path parameters with rejections in the common error shape.
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for P<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_| Error::BadRequest("invalid path parameter".into()))
    }
}

fn share_id(text: &str) -> Result<ShareId> {
    ShareId::parse(text).map_err(|_| Error::BadRequest("invalid share id".into()))
}

/// Attachment ids are short base64url strings.
fn attachment_id(text: &str) -> Result<&str> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(text)
    } else {
        Err(Error::BadRequest("invalid attachment id".into()))
    }
}

fn octets(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        body,
    )
        .into_response()
}

/// The device key bound to a share, once the signer names it and the signature
/// verifies: the preamble of every device-signed share request. The per-share
/// rate limit counts only verified requests, so someone who merely knows the
/// share id cannot spend the bound device's budget.
async fn device_key(state: &AppState, signed: &Signed, id: &ShareId) -> Result<(PublicKey, Nonce)> {
    match &signed.headers.signer {
        Signer::Device(sid) if sid == id => {}
        _ => {
            return Err(Error::Forbidden(
                "this request must be signed by the share's device",
            ));
        }
    }
    let meta = state.store.share(id).await?.ok_or(Error::NotFound)?;
    meta.require_live(state.now())?;
    let key = meta.device_key.ok_or(Error::BadSignature)?;
    let nonce = match signed.verify(state, &key) {
        Err(Error::BadSignature) => return Err(moved_or_refused(state, signed, id).await),
        other => other?,
    };
    share_rate(state, id)?;
    Ok((key, nonce))
}

/// A device signature that does not verify with the bound key: `Moved` when it
/// verifies with a key the share moved away from (only that device learns it),
/// else `BadSignature`.
async fn moved_or_refused(state: &AppState, signed: &Signed, id: &ShareId) -> Error {
    match state.store.moved_from(id).await {
        Ok(old) if old.iter().any(|k| signed.verify(state, k).is_ok()) => Error::Moved,
        Ok(_) => Error::BadSignature,
        Err(e) => e,
    }
}

/// A transfer request id in a path (b64 of 16 bytes).
fn request_id(text: &str) -> Result<[u8; transfer::REQUEST_ID_LEN]> {
    oneshare_sdk::encoding::unb64_array(text, "request id")
        .map_err(|_| Error::BadRequest("invalid transfer request id".into()))
}

/// The share a device-signed request names, the device key bound to it and
/// the request's nonce.
async fn device_share(
    state: &AppState,
    signed: &Signed,
    id: &str,
) -> Result<(ShareId, PublicKey, Nonce)> {
    let id = share_id(id)?;
    let (key, nonce) = device_key(state, signed, &id).await?;
    Ok((id, key, nonce))
}

/// The share an owner-signed request names, the verified owner and the
/// request's nonce (the path is checked before any signature work).
fn owner_share(state: &AppState, signed: &Signed, id: &str) -> Result<(ShareId, PublicKey, Nonce)> {
    let id = share_id(id)?;
    let (owner, nonce) = signed.owner(state)?;
    Ok((id, owner, nonce))
}

/// The share and attachment an owner-signed upload request names, the owner
/// and the request's nonce.
fn owner_attachment<'a>(
    state: &AppState,
    signed: &Signed,
    id: &str,
    aid: &'a str,
) -> Result<(ShareId, &'a str, PublicKey, Nonce)> {
    let id = share_id(id)?;
    let aid = attachment_id(aid)?;
    let (owner, nonce) = signed.owner(state)?;
    Ok((id, aid, owner, nonce))
}

fn share_rate(state: &AppState, id: &ShareId) -> Result<()> {
    state.limiter.check(
        &format!("share:{id}"),
        state.config.limits.share_requests_per_minute,
    )
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`: for operators only (`Authorization: Bearer <metrics_token>`,
/// compared in constant time; without a configured token the route is off). The
/// share counts are the sweeper's last snapshot, so a scrape never queries the store.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return Err(Error::NotFound);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !oneshare_sdk::secret::ct_eq(given.as_bytes(), token.as_bytes()) {
        return Err(Error::Forbidden(
            "/metrics needs the operator's bearer token",
        ));
    }
    let counts = state.store.count_by_state().await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&counts, state.store.write_stats()),
    )
        .into_response())
}

/// The relay keys in force. A rotation by another instance or `rotate-key`
/// shows without a restart.
fn keys_in_force(state: &AppState) -> std::sync::Arc<crate::keys::RelayKeys> {
    if let Err(e) = state.keys.refresh() {
        tracing::error!(error = %e, "relay key file unreadable; keeping the keys in force");
    }
    state.keys.get()
}

/// `GET /v1/relay-key`.
pub async fn relay_key(State(state): State<AppState>) -> impl IntoResponse {
    Json(keys_in_force(&state).response(state.now()))
}

/// `GET /v1/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}

/// Largest owner data envelope (an encrypted label and record key).
pub const MAX_OWNER_DATA_BYTES: usize = 16 * 1024;

/// Most attachments per share.
pub const MAX_ATTACHMENTS: usize = 256;

/// A record envelope: at least the envelope overhead, at most the policy's limit.
fn check_record(len: usize, policy: &Policy) -> Result<()> {
    if len <= oneshare_sdk::envelope::OVERHEAD {
        return Err(Error::BadRequest("the record is not an envelope".into()));
    }
    if len as u64 > policy.max_record_bytes {
        return Err(Error::TooLarge(
            "the record is larger than this relay allows",
        ));
    }
    Ok(())
}

/// Every field of a create request against the protocol and the current policy.
fn check_create(req: &CreateShareRequest, policy: &Policy) -> Result<()> {
    oneshare_sdk::duration::check(req.expires_in)?;
    if req.expires_in > policy.max_expires_in {
        return Err(Error::BadRequest(format!(
            "expires_in is longer than this relay allows ({} s)",
            policy.max_expires_in
        )));
    }
    if req.wrapped_key.len() != oneshare_sdk::record::WRAPPED_KEY_LEN {
        return Err(Error::BadRequest(format!(
            "wrapped_key must be {} bytes",
            oneshare_sdk::record::WRAPPED_KEY_LEN
        )));
    }
    check_record(req.record.len(), policy)?;
    if req.owner_data.len() <= oneshare_sdk::envelope::OVERHEAD
        || req.owner_data.len() > MAX_OWNER_DATA_BYTES
    {
        return Err(Error::BadRequest(format!(
            "owner_data must be an envelope of at most {MAX_OWNER_DATA_BYTES} bytes"
        )));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(Error::BadRequest("too many attachments".into()));
    }
    if req
        .guard
        .as_ref()
        .is_some_and(|g| g.require_code && g.code_verifier.is_none())
    {
        return Err(Error::BadRequest(
            "require_code needs a code_verifier".into(),
        ));
    }
    let mut total: u64 = 0;
    let mut ids = std::collections::HashSet::new();
    for a in &req.attachments {
        attachment_id(&a.id)?;
        if !ids.insert(a.id.as_str()) {
            return Err(Error::BadRequest("two attachments have the same id".into()));
        }
        // Only lengths a STREAM can have (a 1-byte "attachment" cannot exist).
        if oneshare_sdk::stream::plaintext_len(a.size).is_err() {
            return Err(Error::BadRequest(
                "an attachment size is not the length of an encrypted stream".into(),
            ));
        }
        total = total.saturating_add(a.size);
    }
    if total > policy.max_attachment_bytes {
        return Err(Error::TooLarge(
            "the attachments are larger than this relay allows",
        ));
    }
    Ok(())
}

/// The body limit of a route that carries a record (create, update), from the
/// *current* policy: base64 JSON of the record plus the JSON allowance.
pub fn record_body_limit(policy: &Policy, json_body_bytes: usize) -> usize {
    usize::try_from(policy.max_record_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .saturating_add(MAX_OWNER_DATA_BYTES.saturating_mul(2))
        .saturating_add(json_body_bytes)
}

/// `POST /v1/shares`.
pub async fn create(State(state): State<AppState>, signed: Signed) -> Result<Response> {
    let (owner, nonce) = signed.owner(&state)?;
    let tk = signed.transmission_key(&state)?;
    let req: CreateShareRequest = signed.open_json(&tk)?;
    let policy = state.policy().await?;
    if policy.create == CreatePolicy::Enrolled && !policy.enrolled_owners.contains(&owner) {
        return Err(Error::Forbidden(
            "this relay only accepts shares from enrolled owners",
        ));
    }
    check_create(&req, &policy)?;
    let now = state.now();
    let share = NewShare {
        share_id: req.share_id,
        owner,
        verifier: req.verifier,
        wrapped_key: req.wrapped_key,
        record: req.record,
        owner_data: req.owner_data,
        created_at: now,
        expires_in: req.expires_in,
        self_destruct: req.self_destruct,
        attachments: req.attachments,
        part_size: state.config.limits.part_size(),
        guard: req.guard.unwrap_or_default(),
        transfer_box: req.transfer_box,
    };
    state
        .store
        .create_share(
            &share,
            policy.max_shares_per_owner,
            state.config.limits.max_stored_bytes,
            Some(&nonce),
        )
        .await?;
    let body = CreateShareResponse {
        share_id: share.share_id,
        created_at: now,
        expires_at: now.saturating_add(share.expires_in),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /v1/shares`.
pub async fn list(State(state): State<AppState>, signed: Signed) -> Result<Json<ShareList>> {
    let (owner, nonce) = signed.owner(&state)?;
    state.store.record_nonce(&nonce).await?;
    let shares = state.store.list_shares(Some(&owner), state.now()).await?;
    Ok(Json(ShareList { shares }))
}

/// `GET /v1/shares/{id}/status`: public, changes nothing.
pub async fn status(State(state): State<AppState>, P(id): P<String>) -> Result<Json<ShareStatus>> {
    let id = share_id(&id)?;
    let meta = state.store.share(&id).await?.ok_or(Error::NotFound)?;
    let now = state.now();
    Ok(Json(ShareStatus {
        state: meta.state_at(now),
        expires_at: meta.deadline(),
        relay_key: Some(keys_in_force(&state).current_info()),
    }))
}

/// `POST /v1/shares/{id}/bind`. The bind budget is per (share, client): anyone
/// can make a valid device signature, so counting per share alone would let
/// someone who knows the share id lock the real recipient out.
pub async fn bind(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    P(id): P<String>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response> {
    let id = share_id(&id)?;
    let from = client.map_or_else(String::new, |c| c.0.to_string());
    state.limiter.check(
        &format!("bind:{id}:{from}"),
        state.config.limits.binds_per_minute,
    )?;
    if signed.headers.signer != Signer::Device(id) {
        return Err(Error::Forbidden("bind must be signed as device:{share_id}"));
    }
    let tk = signed.transmission_key(&state)?;
    let req: BindRequest = signed.open_json(&tk)?;
    let nonce = signed.verify(&state, &req.device_key)?;
    let evidence = req.evidence.unwrap_or_default();
    let networks = &state.config.scanner_networks;
    let proof = BindProof {
        code: evidence.code_proof,
        passphrase: evidence.passphrase_proof,
        observed: Observation {
            signals: evidence.signals,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            listed_network: client.is_some_and(|c| networks.iter().any(|n| n.contains(&c.0.0))),
        },
        quick_bind_secs: state.config.scanners.quick_bind_secs,
        ..BindProof::new(&oneshare_sdk::secret::Secret::new(req.bind_secret))
    };
    let result = state
        .store
        .bind(&id, &proof, &req.device_key, state.now(), Some(&nonce))
        .await;
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            match e {
                Error::AlreadyBound => state.metrics.refusals.fetch_add(1, Ordering::Relaxed),
                Error::BadToken => state.metrics.bad_tokens.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
            return Err(e);
        }
    };
    if !out.retry {
        state.metrics.binds.fetch_add(1, Ordering::Relaxed);
    }
    let body = BindResponse {
        wrapped_key: out.wrapped_key,
        record: out.record,
        attachments: out.attachments,
        access_expires_at: out.access_expires_at,
        self_destruct: out.self_destruct,
    };
    Ok(octets(StatusCode::OK, signed.seal_json(&tk, &body)?))
}

/// `POST /v1/shares/{id}/transfer`: a refused device asks the sender for the
/// share (PROTOCOL.md §12.2). The per-client limit comes before the share's
/// budget of requests, so one place cannot spend it.
pub async fn request_transfer(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    P(id): P<String>,
    signed: Signed,
) -> Result<Response> {
    let id = share_id(&id)?;
    let from = client.map_or_else(String::new, |c| c.0.to_string());
    state.limiter.check(
        &format!("transfer:{from}"),
        state.config.limits.binds_per_minute,
    )?;
    if signed.headers.signer != Signer::Device(id) {
        return Err(Error::Forbidden(
            "a transfer request must be signed as device:{share_id}",
        ));
    }
    let tk = signed.transmission_key(&state)?;
    let req: TransferRequest = signed.open_json(&tk)?;
    let nonce = signed.verify(&state, &req.device_key)?;
    let ask = TransferAsk {
        request_id: req.request_id,
        proof: BindProof::new(&oneshare_sdk::secret::Secret::new(req.bind_secret)),
        device_key: req.device_key,
        ecdh_key: req.ecdh_key,
    };
    let expires_at = state
        .store
        .request_transfer(&id, &ask, state.now(), Some(&nonce))
        .await?;
    let body = TransferTicket {
        request_id: req.request_id,
        expires_at,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// `GET /v1/shares/{id}/transfer/{rid}`: the requesting device polls its request.
pub async fn transfer_status(
    State(state): State<AppState>,
    P((id, rid)): P<(String, String)>,
    signed: Signed,
) -> Result<Json<TransferStatus>> {
    let (id, rid) = (share_id(&id)?, request_id(&rid)?);
    if signed.headers.signer != Signer::Device(id) {
        return Err(Error::Forbidden(
            "this request must be signed by the device that asked",
        ));
    }
    let view = state.store.transfer(&id, &rid, state.now()).await?;
    let nonce = signed.verify(&state, &view.device_key)?;
    state.store.record_nonce(&nonce).await?;
    share_rate(&state, &id)?;
    if view.state == TransferState::Approved && !view.holds_share {
        return Err(Error::Moved);
    }
    Ok(Json(TransferStatus {
        state: view.state,
        expires_at: view.expires_at,
        transfer_key: view.transfer_key,
    }))
}

/// `GET /v1/transfers`: the owner's pending transfer requests, with each
/// share's transfer box so the owner can compute the comparison code.
pub async fn transfers(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Json<TransferList>> {
    let (owner, nonce) = signed.owner(&state)?;
    state.store.record_nonce(&nonce).await?;
    let transfers = state.store.pending_transfers(&owner, state.now()).await?;
    Ok(Json(TransferList { transfers }))
}

/// `POST /v1/shares/{id}/transfer/{rid}/approve` (owner-signed `ApproveTransfer`).
pub async fn approve_transfer(
    State(state): State<AppState>,
    P((id, rid)): P<(String, String)>,
    signed: Signed,
) -> Result<StatusCode> {
    let (id, owner, nonce) = owner_share(&state, &signed, &id)?;
    let rid = request_id(&rid)?;
    let req: ApproveTransfer = json(&signed.body)?;
    let answer = TransferAnswer::Approve {
        approval: req.approval,
        transfer_key: Box::new(req.transfer_key),
    };
    state
        .store
        .answer_transfer(&id, &owner, &rid, &answer, state.now(), Some(&nonce))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/shares/{id}/transfer/{rid}/deny` (owner-signed).
pub async fn deny_transfer(
    State(state): State<AppState>,
    P((id, rid)): P<(String, String)>,
    signed: Signed,
) -> Result<StatusCode> {
    let (id, owner, nonce) = owner_share(&state, &signed, &id)?;
    let rid = request_id(&rid)?;
    state
        .store
        .answer_transfer(
            &id,
            &owner,
            &rid,
            &TransferAnswer::Deny,
            state.now(),
            Some(&nonce),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/shares/{id}/confirm`.
pub async fn confirm(
    State(state): State<AppState>,
    P(id): P<String>,
    signed: Signed,
) -> Result<Json<ConfirmResponse>> {
    let (id, key, nonce) = device_share(&state, &signed, &id).await?;
    let access_expires_at = state
        .store
        .confirm(&id, &key, state.now(), Some(&nonce))
        .await?;
    Ok(Json(ConfirmResponse { access_expires_at }))
}

/// `GET /v1/shares/{id}/record` (encrypted answer). `HEAD` is refused: it would
/// record `viewed` without delivering anything.
pub async fn record(
    State(state): State<AppState>,
    method: Method,
    P(id): P<String>,
    signed: Signed,
) -> Result<Response> {
    if method != Method::GET {
        return Err(Error::MethodNotAllowed);
    }
    let id = share_id(&id)?;
    let view = if let Signer::Owner(_) = &signed.headers.signer {
        let (owner, nonce) = signed.owner(&state)?;
        state.store.record_nonce(&nonce).await?;
        state.store.owner_record(&id, &owner, state.now()).await?
    } else {
        let (key, nonce) = device_key(&state, &signed, &id).await?;
        state
            .store
            .fetch_record(&id, &key, state.now(), Some(&nonce))
            .await?
    };
    let tk = signed.transmission_key(&state)?;
    let body = RecordResponse {
        record: view.record,
        attachments: view.attachments,
        access_expires_at: view.access_expires_at,
    };
    Ok(octets(StatusCode::OK, signed.seal_json(&tk, &body)?))
}

/// `PUT /v1/shares/{id}/record` (encrypted body).
pub async fn update(
    State(state): State<AppState>,
    P(id): P<String>,
    signed: Signed,
) -> Result<StatusCode> {
    let (id, owner, nonce) = owner_share(&state, &signed, &id)?;
    let tk = signed.transmission_key(&state)?;
    let req: UpdateRecordRequest = signed.open_json(&tk)?;
    check_record(req.record.ciphertext.len(), &state.policy().await?)?;
    state
        .store
        .update_record(&id, &owner, &req.record, state.now(), Some(&nonce))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/shares/{id}`.
pub async fn revoke(
    State(state): State<AppState>,
    P(id): P<String>,
    signed: Signed,
) -> Result<StatusCode> {
    let (id, owner, nonce) = owner_share(&state, &signed, &id)?;
    state
        .store
        .revoke(&id, Some(&owner), state.now(), Some(&nonce))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/shares/{id}/attachments/{aid}/parts/{n}`.
pub async fn put_part(
    State(state): State<AppState>,
    P((id, aid, n)): P<(String, String, u64)>,
    signed: Signed,
) -> Result<Response> {
    let (id, aid, owner, nonce) = owner_attachment(&state, &signed, &id, &aid)?;
    let st = state
        .store
        .put_part(&id, &owner, aid, n, &signed.body, state.now(), Some(&nonce))
        .await?;
    Ok(Json(st).into_response())
}

/// `GET /v1/shares/{id}/attachments/{aid}/upload`.
pub async fn upload_status(
    State(state): State<AppState>,
    P((id, aid)): P<(String, String)>,
    signed: Signed,
) -> Result<Response> {
    let (id, aid, owner, nonce) = owner_attachment(&state, &signed, &id, &aid)?;
    state.store.record_nonce(&nonce).await?;
    Ok(Json(state.store.upload_status(&id, &owner, aid).await?).into_response())
}

/// `POST /v1/shares/{id}/attachments/{aid}/finalize`.
pub async fn finalize(
    State(state): State<AppState>,
    P((id, aid)): P<(String, String)>,
    signed: Signed,
) -> Result<Response> {
    let (id, aid, owner, nonce) = owner_attachment(&state, &signed, &id, &aid)?;
    let done = state
        .store
        .finalize(&id, &owner, aid, state.now(), Some(&nonce))
        .await?;
    Ok(Json(done).into_response())
}

/// Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range.
fn parse_range(value: &str, size: u64) -> Result<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=").ok_or(Error::Range)?;
    if spec.contains(',') {
        return Err(Error::Range);
    }
    let (a, b) = spec.split_once('-').ok_or(Error::Range)?;
    let num = |s: &str| s.trim().parse::<u64>().map_err(|_| Error::Range);
    let (start, end) = match (a.trim().is_empty(), b.trim().is_empty()) {
        (false, false) => (num(a)?, num(b)?.min(size.saturating_sub(1))),
        (false, true) => (num(a)?, size.saturating_sub(1)),
        (true, false) => {
            let n = num(b)?.min(size);
            (size - n, size.saturating_sub(1))
        }
        (true, true) => return Err(Error::Range),
    };
    if size == 0 || start > end || start >= size {
        return Err(Error::Range);
    }
    Ok((start, end))
}

/// `GET /v1/shares/{id}/attachments/{aid}`: the ciphertext, one part in memory at
/// a time; a single `Range` is honoured.
pub async fn download(
    State(state): State<AppState>,
    P((id, aid)): P<(String, String)>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response> {
    let id = share_id(&id)?;
    let aid = attachment_id(&aid)?.to_owned();
    let (_, nonce) = device_key(&state, &signed, &id).await?;
    state.store.record_nonce(&nonce).await?;
    let layout = state.store.attachment(&id, &aid).await?;
    if !layout.complete || layout.part_size == 0 {
        return Err(Error::NotFound);
    }
    let range = headers
        .get(header::RANGE)
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::Range)
                .and_then(|v| parse_range(v, layout.size))
        })
        .transpose()?;
    let (start, end) = range.unwrap_or((0, layout.size.saturating_sub(1)));
    let len = if layout.size == 0 { 0 } else { end - start + 1 };
    let p = layout.part_size;
    let store = state.store.clone();
    let parts = (start / p)..=(end / p);
    let stream = futures_util::stream::unfold(parts, move |mut parts| {
        let store = store.clone();
        let aid = aid.clone();
        async move {
            let k = parts.next()?;
            let chunk = match store.read_part(&id, &aid, k).await {
                Ok(bytes) => {
                    let base = k * p;
                    let from = usize::try_from(start.max(base) - base).unwrap_or(0);
                    let to = usize::try_from((end + 1).min(base + p) - base).unwrap_or(0);
                    match bytes.get(from..to.min(bytes.len())) {
                        Some(s) => Ok(bytes::Bytes::copy_from_slice(s)),
                        None => Err(std::io::Error::other("stored part is short")),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "attachment part unreadable");
                    Err(std::io::Error::other("attachment part unreadable"))
                }
            };
            Some((chunk, parts))
        }
    });
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_some() {
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
        let cr = format!("bytes {start}-{end}/{}", layout.size);
        if let Ok(v) = HeaderValue::from_str(&cr) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(res)
}

/// `GET /v1/events`: the owner's events as server-sent events, resumable with
/// `Last-Event-ID`. Wakes on the store's signal for this owner only, so a backend
/// that fans events out across instances (LISTEN/NOTIFY) only has to bump it.
/// Open streams are capped in total, per owner key and per client; a stream ends
/// after `stream_max_secs` (the client resumes with `Last-Event-ID`).
pub async fn events(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let (owner, nonce) = signed.owner(&state)?;
    state.store.record_nonce(&nonce).await?;
    let after = match headers.get("last-event-id") {
        None => 0,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or(Error::InvalidHeader("last-event-id"))?,
    };
    let limits = &state.config.limits;
    let busy = || Error::RateLimited(10);
    let slots = (
        state
            .streams
            .take((), limits.max_streams)
            .ok_or_else(busy)?,
        state
            .streams_per_owner
            .take(owner.to_string(), limits.max_streams_per_owner)
            .ok_or_else(busy)?,
        match client {
            Some(Extension(c)) => Some(
                state
                    .streams_per_ip
                    .take(c, limits.max_streams_per_ip)
                    .ok_or_else(busy)?,
            ),
            None => None,
        },
    );
    let rx = state.store.event_signal(&owner);
    let store = state.store.clone();
    let stop = state.stopping();
    let end = tokio::time::Instant::now() + Duration::from_secs(limits.stream_max_secs.max(1));
    let init = (after, rx, VecDeque::new(), false);
    let stream =
        futures_util::stream::unfold(init, move |(mut after, mut rx, mut buf, mut caught_up)| {
            let store = store.clone();
            let mut stop = stop.clone();
            // The slots live as long as the stream.
            let _slots = &slots;
            async move {
                loop {
                    if let Some(ev) = buf.pop_front() {
                        let ev: oneshare_sdk::api::Event = ev;
                        after = ev.id;
                        let data = match serde_json::to_string(&ev) {
                            Ok(data) => data,
                            Err(e) => {
                                tracing::error!(error = %e, "event not serializable; stream ended");
                                return None;
                            }
                        };
                        let sse = SseEvent::default().id(ev.id.to_string()).data(data);
                        return Some((Ok(sse), (after, rx, buf, caught_up)));
                    }
                    rx.borrow_and_update();
                    match store.events_since(&owner, after, 100).await {
                        Ok(evs) if !evs.is_empty() => buf.extend(evs),
                        Ok(_) if !caught_up => {
                            // The stored events are all sent: say so, so that a
                            // client wanting only those need not guess from a pause.
                            caught_up = true;
                            let sse = SseEvent::default().comment(CAUGHT_UP);
                            return Some((Ok(sse), (after, rx, buf, caught_up)));
                        }
                        Ok(_) => {
                            if *stop.borrow_and_update() {
                                return None;
                            }
                            tokio::select! {
                                r = rx.changed() => if r.is_err() { return None },
                                _ = stop.changed() => return None,
                                () = tokio::time::sleep_until(end) => return None,
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "event stream read failed");
                            return None;
                        }
                    }
                }
            }
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `GET /v1/admin/policy`.
pub async fn get_policy(State(state): State<AppState>, signed: Signed) -> Result<Json<Policy>> {
    let nonce = signed.admin(&state)?;
    state.store.record_nonce(&nonce).await?;
    Ok(Json(state.policy().await?))
}

/// `PUT /v1/admin/policy`.
pub async fn put_policy(State(state): State<AppState>, signed: Signed) -> Result<Json<Policy>> {
    let nonce = signed.admin(&state)?;
    let policy: Policy = json(&signed.body)?;
    state.store.set_policy(&policy, Some(&nonce)).await?;
    Ok(Json(policy))
}

/// `GET /v1/admin/shares`: metadata of every share, never owner data.
pub async fn admin_list(State(state): State<AppState>, signed: Signed) -> Result<Json<ShareList>> {
    let nonce = signed.admin(&state)?;
    state.store.record_nonce(&nonce).await?;
    let shares = state.store.list_shares(None, state.now()).await?;
    Ok(Json(ShareList { shares }))
}

/// `DELETE /v1/admin/shares/{id}`.
pub async fn admin_revoke(
    State(state): State<AppState>,
    P(id): P<String>,
    signed: Signed,
) -> Result<StatusCode> {
    let id = share_id(&id)?;
    let nonce = signed.admin(&state)?;
    state
        .store
        .revoke(&id, None, state.now(), Some(&nonce))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unknown routes.
pub async fn not_found() -> Error {
    Error::NotFound
}

/// Known route, wrong method.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), (0, 9));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=50-500", 100).unwrap(), (50, 99));
        for bad in [
            "bytes=100-",
            "bytes=5-1",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=-",
            "bytes=x-1",
        ] {
            assert!(parse_range(bad, 100).is_err(), "{bad}");
        }
    }
}
