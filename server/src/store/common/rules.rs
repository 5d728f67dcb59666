//! Checks and decisions taken on loaded rows, the same for every backend.

use oneshare_sdk::api::{EventKind, UploadStatus};
use oneshare_sdk::lifetime::{Lifetime, State};
use oneshare_sdk::signing::PublicKey;

use oneshare_sdk::factor::Factor;
use oneshare_sdk::risk::Reason;

use crate::error::{Error, Result};
use crate::store::{BindProof, MAX_FACTOR_FAILURES, NewShare, ShareMeta};

/// The bytes a new share reserves in the relay's storage quota.
pub(crate) fn reserved(s: &NewShare) -> u64 {
    let fixed = [&s.record, &s.owner_data, &s.wrapped_key]
        .iter()
        .map(|b| part_len(b))
        .fold(0u64, u64::saturating_add);
    s.attachments
        .iter()
        .map(|a| a.size)
        .fold(fixed, u64::saturating_add)
}

/// A new share's deadline (unbound: link lifetime).
pub(crate) fn initial_deadline(s: &NewShare) -> u64 {
    Lifetime {
        created_at: s.created_at,
        expires_in: s.expires_in,
        self_destruct: s.self_destruct,
        bound_at: None,
    }
    .deadline()
}

/// The deadline once bound at `now`.
pub(crate) fn bound_deadline(m: &ShareMeta, now: u64) -> u64 {
    Lifetime {
        bound_at: Some(now),
        ..m.lifetime()
    }
    .deadline()
}

/// Fails with `Gone` unless live at `now`, else the effective state.
pub(crate) fn live_state(m: &ShareMeta, now: u64) -> Result<State> {
    let state = m.state_at(now);
    if state.is_live() {
        Ok(state)
    } else {
        Err(Error::Gone(state))
    }
}

/// A live share bound to `device` (the device-signed operations).
pub(crate) fn require_device(m: &ShareMeta, device: &PublicKey, now: u64) -> Result<()> {
    m.require_live(now)?;
    if m.device_key.as_ref() != Some(device) {
        return Err(Error::BadSignature);
    }
    Ok(())
}

/// A share found, and owned by `owner` unless that is `None` (an admin).
pub(crate) fn owned(m: Option<ShareMeta>, owner: Option<&PublicKey>) -> Result<ShareMeta> {
    match m {
        Some(m) if owner.is_none_or(|o| *o == m.owner) => Ok(m),
        _ => Err(Error::NotFound),
    }
}

/// A live share whose next record version is `version`; returns the event detail.
pub(crate) fn check_update(m: &ShareMeta, version: u64, now: u64) -> Result<String> {
    m.require_live(now)?;
    if version != m.record_version.saturating_add(1) {
        return Err(Error::Conflict(
            "the record version must be the current version plus one",
        ));
    }
    Ok(format!("version {version}"))
}

/// A resent part must match the stored one.
pub(crate) fn same_part(stored: &[u8], bytes: &[u8], status: UploadStatus) -> Result<UploadStatus> {
    if stored == bytes {
        Ok(status)
    } else {
        Err(Error::Conflict(
            "this part was already received with different bytes",
        ))
    }
}

/// An upload can be finalized once every declared byte arrived.
pub(crate) fn finalized(status: UploadStatus) -> Result<UploadStatus> {
    if status.received != status.size {
        return Err(Error::Conflict(
            "the upload is incomplete: received size differs from the declared size",
        ));
    }
    Ok(UploadStatus {
        complete: true,
        ..status
    })
}

/// The event that records how a share ended.
pub(crate) fn end_event(end: State) -> EventKind {
    match end {
        State::Revoked => EventKind::Revoked,
        State::SelfDestructed => EventKind::SelfDestructed,
        _ => EventKind::Expired,
    }
}

/// A part's length as stored.
pub(crate) fn part_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// What a bind event tells the sender, never secrets: when, and what looked
/// automated (the timing reason is already said by "when").
fn bind_context(m: &ShareMeta, reasons: &[Reason], now: u64) -> Vec<String> {
    let age = oneshare_sdk::duration::format(now.saturating_sub(m.created_at).max(1));
    let mut words = vec![format!("opened {age} after creation")];
    words.extend(
        reasons
            .iter()
            .filter(|r| !matches!(r, Reason::QuickBind(_)))
            .map(|r| r.describe()),
    );
    if !reasons.is_empty() {
        words.push("looks automated".to_owned());
    }
    words
}

/// The `bound` event's detail.
pub(crate) fn bound_detail(m: &ShareMeta, reasons: &[Reason], p: &BindProof, now: u64) -> String {
    let mut words = bind_context(m, reasons, now);
    if p.code.is_some() {
        words.push("the open code was given".to_owned());
    }
    if p.passphrase.is_some() {
        words.push("the passphrase was given".to_owned());
    }
    words.push("content delivered: yes".to_owned());
    words.join("; ")
}

/// The detail of a refusal that asked for the open code.
pub(crate) fn code_required_detail(m: &ShareMeta, reasons: &[Reason], now: u64) -> String {
    let mut words = bind_context(m, reasons, now);
    words.push("asked for the open code".to_owned());
    words.push("content delivered: no".to_owned());
    words.join("; ")
}

/// The detail of a wrong open code or passphrase (the `failures`-th).
pub(crate) fn wrong_factor_detail(factor: Factor, failures: u64) -> String {
    let what = match factor {
        Factor::OpenCode => "a wrong open code",
        Factor::Passphrase => "a wrong passphrase",
    };
    if failures >= MAX_FACTOR_FAILURES {
        format!(
            "{what} was entered ({failures} of {MAX_FACTOR_FAILURES}): the share is locked \
             and opens on no device; send a new link; content delivered: no"
        )
    } else {
        format!(
            "{what} was entered ({failures} of {MAX_FACTOR_FAILURES} before the share locks); \
             content delivered: no"
        )
    }
}

/// The `transfer_expired` event's detail.
pub(crate) const TRANSFER_EXPIRED_DETAIL: &str =
    "a request to move this share to another device expired unanswered; the device can ask again";

/// The `transfer_approved` event's detail.
pub(crate) const TRANSFER_APPROVED_DETAIL: &str = "you approved moving this share to the device \
     that asked; the previous device is told it moved on its next request";

/// The `transfer_denied` event's detail.
pub(crate) const TRANSFER_DENIED_DETAIL: &str =
    "you denied a request to move this share to another device";

/// The `transfer_requested` event's detail: when, and what to do.
pub(crate) fn transfer_requested_detail(m: &ShareMeta, expires_at: u64, now: u64) -> String {
    let opened = m.bound_at.map_or_else(String::new, |at| {
        format!(
            " ({} after it was opened)",
            oneshare_sdk::duration::format(now.saturating_sub(at).max(1))
        )
    });
    format!(
        "a device asked you to move this share to it{opened}; approve only if the code it \
         shows matches yours; the request expires in {}",
        oneshare_sdk::duration::format(expires_at.saturating_sub(now).max(1))
    )
}
