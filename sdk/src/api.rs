//! The JSON bodies of every API request and response, shared by the relay and
//! every client so they cannot drift. Binary values are base64url strings.
//! Bodies marked *encrypted* travel as a transmission-key envelope
//! ([`crate::transmission`]) whose plaintext is this JSON.

use serde::{Deserialize, Serialize};

use crate::encoding::{serde_b64, serde_b64_array, serde_b64_array_opt};
use crate::lifetime::State;
use crate::signing::PublicKey;
use crate::token::ShareId;

/// `GET /v1/relay-key`: the relay's HPKE keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayKeyResponse {
    /// The key clients should seal to now.
    pub current: RelayKeyInfo,
    /// Key ids still accepted (the current one and recently rotated ones).
    pub accepted: Vec<String>,
}

/// One relay HPKE public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayKeyInfo {
    /// Key id (see [`crate::transmission::RelayPublicKey`]).
    pub key_id: String,
    /// 65-byte uncompressed P-256 point.
    #[serde(with = "serde_b64")]
    pub public_key: Vec<u8>,
    /// The HPKE suite, always `DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM`.
    pub suite: String,
}

/// An attachment the owner will upload after create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentDecl {
    /// 16-byte random id, base64url.
    pub id: String,
    /// Length of the STREAM ciphertext in bytes (header included).
    pub size: u64,
}

/// `POST /v1/shares` (owner-signed, encrypted body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateShareRequest {
    /// Share id derived from the token.
    pub share_id: ShareId,
    /// `SHA-256(bind_secret)`.
    #[serde(with = "serde_b64_array")]
    pub verifier: [u8; 32],
    /// Record key wrapped under the wrap key.
    #[serde(with = "serde_b64")]
    pub wrapped_key: Vec<u8>,
    /// Record envelope at version 1.
    #[serde(with = "serde_b64")]
    pub record: Vec<u8>,
    /// Owner data envelope.
    #[serde(with = "serde_b64")]
    pub owner_data: Vec<u8>,
    /// Chosen duration in seconds.
    pub expires_in: u64,
    /// Self-destruct after first view.
    #[serde(default)]
    pub self_destruct: bool,
    /// Attachments to be uploaded.
    #[serde(default)]
    pub attachments: Vec<AttachmentDecl>,
    /// Protocol v2 second factors the relay checks at bind (PROTOCOL.md §12);
    /// absent for a v1 share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<BindGuard>,
    /// Protocol v2: the transfer secret sealed under the owner key
    /// ([`crate::transfer::seal_box`]), so the sender can approve a device
    /// transfer (PROTOCOL.md §12.2); without it the share cannot move.
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub transfer_box: Option<[u8; crate::transfer::BOX_LEN]>,
}

/// What the relay checks at bind beyond the token (PROTOCOL.md §12.1, §12.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindGuard {
    /// `SHA-256("oneshare/v2/open-code-verifier" || code_proof)`.
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub code_verifier: Option<[u8; 32]>,
    /// Ask for the open code at every bind, not only when a bind looks automated.
    #[serde(default)]
    pub require_code: bool,
    /// `SHA-256("oneshare/v2/passphrase-verifier" || passphrase_proof)`.
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub passphrase_verifier: Option<[u8; 32]>,
}

/// Answer to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateShareResponse {
    /// The share id.
    pub share_id: ShareId,
    /// Creation time (Unix seconds).
    pub created_at: u64,
    /// When the unused link expires.
    pub expires_at: u64,
}

/// Upload progress of one attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStatus {
    /// Part size the relay expects (every part but the last).
    pub part_size: u64,
    /// Index of the next part to send.
    pub next_part: u64,
    /// Bytes received so far.
    pub received: u64,
    /// Declared total.
    pub size: u64,
    /// Whether the upload was finalized.
    pub complete: bool,
}

/// `POST /v1/shares/{id}/bind` (signed by the presented device key, encrypted body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindRequest {
    /// The bind secret derived from the token.
    #[serde(with = "serde_b64_array")]
    pub bind_secret: [u8; 32],
    /// The device's public key.
    pub device_key: PublicKey,
    /// Protocol v2: second-factor proofs and what the page observed
    /// (PROTOCOL.md §12.4); absent from v1 clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<BindEvidence>,
}

/// What a v2 client adds to a bind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindEvidence {
    /// The open-code proof (`crate::open_code::OpenCode::proof`).
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub code_proof: Option<[u8; 32]>,
    /// The passphrase proof (`crate::passphrase::derive`).
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub passphrase_proof: Option<[u8; 32]>,
    /// What the page observed about itself.
    #[serde(default)]
    pub signals: ClientSignals,
}

/// Signals a page reports about itself at bind (L2). Unknown keys are ignored,
/// so clients can report more than an older relay weighs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSignals {
    /// `navigator.webdriver` was true.
    #[serde(default)]
    pub webdriver: bool,
    /// The user agent or a client-hint brand says headless.
    #[serde(default)]
    pub headless: bool,
    /// `navigator.userActivation.hasBeenActive`, when the browser has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_activation: Option<bool>,
    /// Milliseconds from the Open button appearing to its press.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub press_after_ms: Option<u64>,
}

/// Current record ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCiphertext {
    /// Record version (1 at create, +1 per update).
    pub version: u64,
    /// Record envelope.
    #[serde(with = "serde_b64")]
    pub ciphertext: Vec<u8>,
}

/// An uploaded attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// Attachment id.
    pub id: String,
    /// Ciphertext length.
    pub size: u64,
}

/// Answer to bind (encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindResponse {
    /// The wrapped record key.
    #[serde(with = "serde_b64")]
    pub wrapped_key: Vec<u8>,
    /// The current record.
    pub record: RecordCiphertext,
    /// Attachments ready to download.
    pub attachments: Vec<AttachmentInfo>,
    /// When access ends.
    pub access_expires_at: u64,
    /// Whether the share self-destructs.
    pub self_destruct: bool,
}

/// Answer to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmResponse {
    /// When access ends.
    pub access_expires_at: u64,
}

/// `GET /v1/shares/{id}/record` (device-signed; encrypted answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResponse {
    /// The current record.
    pub record: RecordCiphertext,
    /// Attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When access ends.
    pub access_expires_at: u64,
}

/// `PUT /v1/shares/{id}/record` (owner-signed, encrypted body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRecordRequest {
    /// The new record, whose version must be the current one plus one.
    pub record: RecordCiphertext,
}

/// One share in the owner's (or admin's) list. Never content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSummary {
    /// Share id.
    pub share_id: ShareId,
    /// Current state.
    pub state: State,
    /// Creation time.
    pub created_at: u64,
    /// When the link or access ends.
    pub expires_at: u64,
    /// When a device bound.
    pub bound_at: Option<u64>,
    /// Current record version.
    pub record_version: u64,
    /// Self-destruct flag.
    pub self_destruct: bool,
    /// Owner data envelope (absent in admin listings).
    #[serde(default, with = "serde_b64", skip_serializing_if = "Vec::is_empty")]
    pub owner_data: Vec<u8>,
}

/// A list of shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareList {
    /// The shares, newest first.
    pub shares: Vec<ShareSummary>,
}

/// `GET /v1/shares/{id}/status`: public, changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareStatus {
    /// Current state.
    pub state: State,
    /// When the link or access ends.
    pub expires_at: u64,
    /// The key to seal to now (`current` of `GET /v1/relay-key`), so a client
    /// that read a status pins it without another round trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_key: Option<RelayKeyInfo>,
}

/// `POST /v1/shares/{id}/transfer` (signed by the presented device key,
/// encrypted body): a refused device asks the sender for the share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Random id the device chose; it names the request in later calls.
    #[serde(with = "serde_b64_array")]
    pub request_id: [u8; crate::transfer::REQUEST_ID_LEN],
    /// The bind secret derived from the token: only link holders can ask.
    #[serde(with = "serde_b64_array")]
    pub bind_secret: [u8; 32],
    /// The device's ECDSA public key (it signs this request and, once moved, every later one).
    pub device_key: PublicKey,
    /// The device's ECDH P-256 public key, to which the sender re-wraps `K_r`.
    pub ecdh_key: PublicKey,
}

/// Answer to a transfer request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferTicket {
    /// The request id.
    #[serde(with = "serde_b64_array")]
    pub request_id: [u8; crate::transfer::REQUEST_ID_LEN],
    /// When the request expires unanswered.
    pub expires_at: u64,
}

/// Where a transfer request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Waiting for the sender.
    Pending,
    /// The sender approved: the share is bound to the requesting device.
    Approved,
    /// The sender refused.
    Denied,
    /// Nobody answered in time.
    Expired,
}

/// `GET /v1/shares/{id}/transfer/{request_id}` (signed by the requesting device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStatus {
    /// The request's state.
    pub state: TransferState,
    /// When a pending request expires.
    pub expires_at: u64,
    /// Once approved: `K_r` re-wrapped to the device (`crate::transfer::open_transfer_key`).
    #[serde(
        default,
        with = "serde_b64_array_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub transfer_key: Option<[u8; crate::transfer::TRANSFER_KEY_LEN]>,
}

/// A pending transfer request, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTransfer {
    /// The share.
    pub share_id: ShareId,
    /// The request id.
    #[serde(with = "serde_b64_array")]
    pub request_id: [u8; crate::transfer::REQUEST_ID_LEN],
    /// The requesting device's ECDSA key.
    pub device_key: PublicKey,
    /// The requesting device's ECDH key.
    pub ecdh_key: PublicKey,
    /// When it asked.
    pub requested_at: u64,
    /// When the request expires.
    pub expires_at: u64,
    /// The transfer box stored at create (owner-sealed transfer secret).
    #[serde(with = "serde_b64_array")]
    pub transfer_box: [u8; crate::transfer::BOX_LEN],
}

impl PendingTransfer {
    /// What the approval and the transfer key are bound to.
    pub fn binding(&self) -> crate::transfer::Binding<'_> {
        crate::transfer::Binding {
            share_id: &self.share_id,
            request_id: &self.request_id,
            device_key: &self.device_key,
            ecdh_key: &self.ecdh_key,
        }
    }
}

/// `GET /v1/transfers` (owner-signed): the owner's pending transfer requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferList {
    /// Pending requests, oldest first.
    pub transfers: Vec<PendingTransfer>,
}

/// `POST /v1/shares/{id}/transfer/{request_id}/approve` (owner-signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveTransfer {
    /// `crate::transfer::sign_approval` by the owner key.
    #[serde(with = "serde_b64_array")]
    pub approval: [u8; crate::signing::SIGNATURE_LEN],
    /// `K_r` re-wrapped to the device (`crate::transfer::wrap_for_device`).
    #[serde(with = "serde_b64_array")]
    pub transfer_key: [u8; crate::transfer::TRANSFER_KEY_LEN],
}

/// What happened to a share, as streamed to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The share was created.
    Created,
    /// A device opened the link and received the record.
    Bound,
    /// The bound device confirmed; the token is dead.
    Confirmed,
    /// Another device tried the link and was refused.
    RefusedDevice,
    /// The bound device fetched the record.
    Viewed,
    /// The owner published a new record version.
    Updated,
    /// The owner or an admin deleted the share.
    Revoked,
    /// The share expired.
    Expired,
    /// The share self-destructed.
    SelfDestructed,
    /// A refused device asked to move the share to it (PROTOCOL.md §12.2).
    TransferRequested,
    /// The owner approved a transfer: the share moved to the new device.
    TransferApproved,
    /// The owner denied a transfer request.
    TransferDenied,
    /// A transfer request expired unanswered.
    TransferExpired,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Monotonic event id (for SSE `Last-Event-ID`).
    pub id: u64,
    /// The share.
    pub share_id: ShareId,
    /// What happened.
    pub kind: EventKind,
    /// When (Unix seconds).
    pub at: u64,
    /// Human-readable context ("from a cloud network, 3 s after creation").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The [fingerprint](crate::fingerprint) of the device key that did it:
    /// on `bound`, `confirmed` and `viewed` the bound device, on
    /// `refused_device` the refused one, on `transfer_requested`,
    /// `transfer_approved` and `transfer_denied` the device that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_fingerprint: Option<String>,
}

/// Who may create shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatePolicy {
    /// Any owner key.
    Anyone,
    /// Only enrolled owner keys.
    Enrolled,
}

/// Relay policy, set by an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Who may create.
    pub create: CreatePolicy,
    /// Enrolled owner keys (used when `create` is `enrolled`).
    #[serde(default)]
    pub enrolled_owners: Vec<PublicKey>,
    /// Longest expiry in seconds.
    pub max_expires_in: u64,
    /// Largest record envelope in bytes.
    pub max_record_bytes: u64,
    /// Largest total attachment ciphertext per share in bytes.
    pub max_attachment_bytes: u64,
    /// Most live shares per owner.
    pub max_shares_per_owner: u64,
}

/// The JSON error body of every failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code (`already_bound`, `expired`, …).
    pub code: String,
    /// What happened and what to do, for people.
    pub message: String,
    /// With `wrong_code` and `wrong_passphrase`: attempts left before the share
    /// locks (PROTOCOL.md §12.4), so clients need not read the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 body has no v2 keys, so v1 relays and clients see the bytes they know;
    /// v2 keys parse strictly where the body is strict and leniently in signals.
    #[test]
    fn v2_keys_are_optional_and_absent_from_v1_bodies() -> crate::Result<()> {
        let key = crate::signing::SigningKey::from_bytes(&crate::secret::Secret::new([3; 32]))?
            .public_key();
        let v1 = BindRequest {
            bind_secret: [1; 32],
            device_key: key,
            evidence: None,
        };
        let json = crate::json::to_string(&v1).unwrap_or_default();
        assert!(!json.contains("evidence"), "{json}");
        let v2: BindRequest = crate::json::read(json.replace(
            '}',
            r#","evidence":{"code_proof":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","signals":{"webdriver":true,"future_signal":1}}}"#,
        ).as_bytes(), "bind")?;
        let evidence = v2.evidence.unwrap_or_default();
        assert_eq!(evidence.code_proof, Some([7; 32]));
        assert!(evidence.signals.webdriver);
        let strict = json.replace('}', r#","evidence":{"code":"x"}}"#);
        assert!(crate::json::from_slice::<BindRequest>(strict.as_bytes()).is_err());
        let short = json.replace('}', r#","evidence":{"code_proof":"BwcH"}}"#);
        assert!(crate::json::from_slice::<BindRequest>(short.as_bytes()).is_err());
        Ok(())
    }
}
