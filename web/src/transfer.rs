//! Sender-approved device transfer in the browser (PROTOCOL.md §12.2).
//!
//! The device that asks keeps a non-extractable WebCrypto signing key, as at
//! bind, and a non-extractable WebCrypto ECDH key, both in IndexedDB while the
//! request waits (deleted once answered). The transfer key is opened with that
//! key's `deriveBits` and the core's HPKE (key schedule and AEAD); the record
//! key it unwraps is imported non-extractable, like after a bind.
//!
//! The sender opens the share's transfer box with its non-extractable owner
//! key, shows the comparison code, signs the approval with its owner key and
//! re-wraps the record key from its owner data, sealing it to the device's ECDH
//! key with a WebCrypto ephemeral key and the core's HPKE.

use js_sys::Uint8Array;
use oneshare_sdk::api::{
    ApproveTransfer, PendingTransfer, TransferList, TransferRequest, TransferState, TransferStatus,
    TransferTicket,
};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{PUBLIC_KEY_LEN, PublicKey, Signer};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer::{
    self, ComparisonCode, REQUEST_ID_LEN, TransferKeyOpen, TransferKeySeal,
};
use wasm_bindgen::JsCast;
use web_sys::CryptoKey;

use crate::client::{Client, Opened};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::owner::open_owner_data;
use crate::platform::random;
use crate::relay::{Call, json, seg};
use crate::store::{DEVICES, DeviceEntry, Fields, TRANSFERS};
use crate::webcrypto::{
    AesKey, ecdh, encap, generate_ecdh_key, generate_signing_key, hpke_open, hpke_seal,
    import_ecdh_public, sign,
};

/// A request this device made, as stored while it waits.
struct Asking {
    share_id: String,
    relay: String,
    private_key: CryptoKey,
    public_key: [u8; PUBLIC_KEY_LEN],
    /// The non-extractable ECDH private key the transfer key is sealed to.
    ecdh_key: CryptoKey,
    ecdh_public: [u8; PUBLIC_KEY_LEN],
    request_id: [u8; REQUEST_ID_LEN],
}

impl Asking {
    fn to_js(&self) -> wasm_bindgen::JsValue {
        let f = Fields::new();
        f.set("shareId", self.share_id.as_str())
            .set("relay", self.relay.as_str())
            .set("privateKey", self.private_key.clone())
            .set("publicKey", Uint8Array::from(&self.public_key[..]))
            .set("ecdhKey", self.ecdh_key.clone())
            .set("ecdhPublic", Uint8Array::from(&self.ecdh_public[..]))
            .set("requestId", Uint8Array::from(&self.request_id[..]));
        f.0.into()
    }

    fn from_js(v: wasm_bindgen::JsValue) -> Option<Self> {
        let f = Fields(v.dyn_into().ok()?);
        Some(Self {
            share_id: f.string("shareId")?,
            relay: f.string("relay")?,
            private_key: f.key("privateKey")?,
            public_key: f.bytes("publicKey")?,
            ecdh_key: f.key("ecdhKey")?,
            ecdh_public: f.bytes("ecdhPublic")?,
            request_id: f.bytes("requestId")?,
        })
    }

    fn code(&self, link: &Link) -> Result<ComparisonCode> {
        Ok(transfer::comparison_code(
            &link.transfer_secret(),
            &link.share_id(),
            &PublicKey::from_bytes(&self.public_key)?,
            &PublicKey::from_bytes(&self.ecdh_public)?,
        ))
    }
}

/// Where a transfer request of this device stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferProgress {
    /// The sender has not answered: show `comparison_code` ("123 456") and wait.
    Pending {
        /// The code the sender must see too, in its display form.
        comparison_code: String,
        /// When the request expires unanswered (Unix seconds).
        expires_at: u64,
    },
    /// The sender moved the share here: the record, now readable on this device.
    Approved(Box<Opened>),
    /// The sender refused.
    Denied,
    /// Nobody answered in time; asking again starts a new request.
    Expired,
}

/// A pending request as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingTransfer {
    /// The share.
    pub share_id: ShareId,
    /// The sender's label of the share, if it opens.
    pub label: Option<String>,
    /// The code the recipient's device must show, in display form ("123 456").
    pub comparison_code: String,
    /// When the device asked (Unix seconds).
    pub requested_at: u64,
    /// When the request expires (Unix seconds).
    pub expires_at: u64,
}

/// Digits of a typed code: white space and dashes dropped.
fn digits(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

impl Client {
    async fn asking(&self, share_id: &str) -> Result<Option<Asking>> {
        let found = self.db().await?.get(TRANSFERS, share_id).await?;
        Ok(found
            .and_then(Asking::from_js)
            .filter(|a| a.relay == self.relay.base))
    }

    /// Asks the sender of a share opened on another device to move it to this
    /// one. Shows nothing by itself: display the returned comparison code and
    /// poll [`Client::transfer_status`]. Asking again while the request waits
    /// sends the same request (a lost answer is harmless).
    ///
    /// # Errors
    /// `argument` when this device holds the share already, `conflict` (not
    /// opened yet: [`Client::open`] it; or the share cannot move),
    /// `transfer_pending` (another device's request waits), `bad_token`,
    /// ended states, `network`, `storage_unavailable`.
    pub async fn request_transfer(&self, link: &Link) -> Result<TransferProgress> {
        let share_id = link.share_id();
        let id = share_id.to_string();
        if self.device(&id).await.is_ok() {
            return Err(Error::Argument("this device already holds the share"));
        }
        let db = self.db().await?;
        let asking = match self.asking(&id).await? {
            Some(a) => a,
            None => {
                let (private_key, public_key) = generate_signing_key().await?;
                let (ecdh_key, ecdh_public) = generate_ecdh_key().await?;
                let a = Asking {
                    share_id: id.clone(),
                    relay: self.relay.base.clone(),
                    private_key,
                    public_key,
                    ecdh_key,
                    ecdh_public,
                    request_id: random()?,
                };
                // Stored first: a retry after a lost answer sends the same request.
                db.put(TRANSFERS, &a.to_js()).await?;
                a
            }
        };
        let body = oneshare_sdk::json::to_vec(&TransferRequest {
            request_id: asking.request_id,
            bind_secret: *link.keys().bind_secret.expose(),
            device_key: PublicKey::from_bytes(&asking.public_key)?,
            ecdh_key: PublicKey::from_bytes(&asking.ecdh_public)?,
        })
        .map_err(|_| Error::Argument("transfer request"))?;
        let call = Call::new("POST", format!("/v1/shares/{}/transfer", seg(&id)))
            .signed(Signer::Device(share_id), &asking.private_key)
            .body(body, true);
        let ticket: TransferTicket = match self.relay.call(&call).await {
            Ok(b) => json(&b, "transfer ticket")?,
            Err(e) => {
                // Refused for good: the keys made for this request are useless.
                if matches!(e.status(), Some(403 | 409 | 410)) && e.code() != "transfer_pending" {
                    db.delete(TRANSFERS, &id).await?;
                }
                return Err(e);
            }
        };
        Ok(TransferProgress::Pending {
            comparison_code: asking.code(link)?.display(),
            expires_at: ticket.expires_at,
        })
    }

    /// Where this device's transfer request stands. Once approved, the record
    /// key is unwrapped and stored (non-extractable) as after a bind, the
    /// request's keys are deleted, and the record is returned.
    ///
    /// # Errors
    /// `not_on_device` (no request from this device), `moved`, ended states,
    /// `wrong_key` (the approval was not made for this link), `network`, …
    pub async fn transfer_status(&self, link: &Link) -> Result<TransferProgress> {
        let share_id = link.share_id();
        let id = share_id.to_string();
        let asking = self.asking(&id).await?.ok_or(Error::NotOnDevice)?;
        let path = format!(
            "/v1/shares/{}/transfer/{}",
            seg(&id),
            oneshare_sdk::encoding::b64(asking.request_id)
        );
        let call = Call::new("GET", path).signed(Signer::Device(share_id), &asking.private_key);
        let db = self.db().await?;
        let status: TransferStatus = match self.relay.call(&call).await {
            Ok(b) => json(&b, "transfer status")?,
            Err(e) => {
                if e.share_ended() {
                    db.delete(TRANSFERS, &id).await?;
                }
                return Err(e);
            }
        };
        let done = match status.state {
            TransferState::Pending => {
                return Ok(TransferProgress::Pending {
                    comparison_code: asking.code(link)?.display(),
                    expires_at: status.expires_at,
                });
            }
            TransferState::Denied => TransferProgress::Denied,
            TransferState::Expired => TransferProgress::Expired,
            TransferState::Approved => {
                let sealed = status.transfer_key.ok_or(Error::NotOnDevice)?;
                let binding = transfer::Binding {
                    share_id: &share_id,
                    request_id: &asking.request_id,
                    device_key: &PublicKey::from_bytes(&asking.public_key)?,
                    ecdh_key: &PublicKey::from_bytes(&asking.ecdh_public)?,
                };
                let raw =
                    open_transfer_key(&asking.ecdh_key, &link.transfer_secret(), &binding, &sealed)
                        .await?;
                let record_key = AesKey::import(&raw, false).await?;
                drop(raw);
                let entry = DeviceEntry {
                    share_id: id.clone(),
                    relay: self.relay.base.clone(),
                    private_key: asking.private_key.clone(),
                    public_key: asking.public_key,
                    confirmed: true,
                    created_at: js_sys::Date::now(),
                    record_key: Some(record_key),
                    access_expires_at: None,
                    self_destruct: false,
                };
                db.put(DEVICES, &entry.to_js()).await?;
                db.delete(TRANSFERS, &id).await?;
                return Ok(TransferProgress::Approved(Box::new(
                    self.record(&id).await?,
                )));
            }
        };
        db.delete(TRANSFERS, &id).await?;
        Ok(done)
    }

    async fn pending(&self) -> Result<(crate::owner::Owner, Vec<PendingTransfer>)> {
        let owner = self.owner().await?;
        let list: TransferList = json(
            &self
                .owner_call(&owner, Call::new("GET", "/v1/transfers".into()))
                .await?,
            "transfer list",
        )?;
        Ok((owner, list.transfers))
    }

    /// The code of a request, from the share's transfer box (opened with this
    /// browser's owner key) and the keys the relay says the device sent.
    async fn code_of(
        owner: &crate::owner::Owner,
        p: &PendingTransfer,
    ) -> Result<(ComparisonCode, oneshare_sdk::secret::Key256)> {
        let plain = owner
            .data_key
            .open_envelope(&transfer::box_aad(&p.share_id), &p.transfer_box)
            .await?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| oneshare_sdk::Error::Malformed("transfer box"))?;
        let secret = Secret::new(bytes);
        let code = transfer::comparison_code(&secret, &p.share_id, &p.device_key, &p.ecdh_key);
        Ok((code, secret))
    }

    /// Requests to move this owner's shares to another device, with the code
    /// each device must show.
    ///
    /// # Errors
    /// Relay codes, `storage_unavailable`, `webcrypto`.
    pub async fn pending_transfers(&self) -> Result<Vec<IncomingTransfer>> {
        let (owner, pending) = self.pending().await?;
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            let (code, _) = Self::code_of(&owner, &p).await?;
            let label = match self.summary(&owner, &p.share_id).await {
                Ok(s) => open_owner_data(&owner, &s)
                    .await
                    .ok()
                    .map(|d| d.label.clone()),
                Err(_) => None,
            };
            out.push(IncomingTransfer {
                share_id: p.share_id,
                label,
                comparison_code: code.display(),
                requested_at: p.requested_at,
                expires_at: p.expires_at,
            });
        }
        Ok(out)
    }

    async fn pending_of(
        &self,
        share_id: &ShareId,
    ) -> Result<(crate::owner::Owner, PendingTransfer)> {
        let (owner, pending) = self.pending().await?;
        let p = pending
            .into_iter()
            .find(|p| p.share_id == *share_id)
            .ok_or(Error::Relay {
                code: "not_found".into(),
                status: 404,
                message: "no pending transfer request for this share".into(),
                attempts_left: None,
            })?;
        Ok((owner, p))
    }

    /// Moves a share to the device that asked, once the person reads out the
    /// code their device shows (`code`, digits with or without the space).
    ///
    /// # Errors
    /// `code_mismatch` (nothing is approved: deny the request), `not_found`,
    /// `conflict` (answered or expired meanwhile), relay codes.
    pub async fn approve_transfer(&self, share_id: &ShareId, code: &str) -> Result<()> {
        let (owner, p) = self.pending_of(share_id).await?;
        let (computed, secret) = Self::code_of(&owner, &p).await?;
        if digits(code) != computed.digits() {
            return Err(Error::CodeMismatch);
        }
        let summary = self.summary(&owner, share_id).await?;
        let record_key = open_owner_data(&owner, &summary).await?.record_key()?;
        let device_ecdh = import_ecdh_public(
            &p.ecdh_key.to_bytes(),
            oneshare_sdk::Error::InvalidKey("ecdh"),
        )
        .await?;
        // The core's `wrap_for_device_with`, AES-GCM in SubtleCrypto.
        let seal = TransferKeySeal::new(&encap(&device_ecdh).await?, &secret, &p.binding());
        let inner = AesKey::import(&seal.inner_key, true)
            .await?
            .seal_envelope(&seal.inner_aad, record_key.expose())
            .await?;
        let transfer_key = seal
            .transfer_key(&hpke_seal(&seal.hpke, b"", &inner).await?)
            .try_into()
            .map_err(|_| oneshare_sdk::Error::Malformed("transfer key"))?;
        let message = transfer::approval_message(&p.binding());
        let body = ApproveTransfer {
            approval: sign(&owner.private_key, &message).await?,
            transfer_key,
        };
        let body = oneshare_sdk::json::to_vec(&body).map_err(|_| Error::Argument("approval"))?;
        let path = format!(
            "/v1/shares/{}/transfer/{}/approve",
            seg(&share_id.to_string()),
            oneshare_sdk::encoding::b64(p.request_id)
        );
        self.owner_call(&owner, Call::new("POST", path).body(body, false))
            .await?;
        Ok(())
    }

    /// Refuses a pending request to move a share.
    ///
    /// # Errors
    /// `not_found`, `conflict`, relay codes.
    pub async fn deny_transfer(&self, share_id: &ShareId) -> Result<()> {
        let (owner, p) = self.pending_of(share_id).await?;
        let path = format!(
            "/v1/shares/{}/transfer/{}/deny",
            seg(&share_id.to_string()),
            oneshare_sdk::encoding::b64(p.request_id)
        );
        self.owner_call(&owner, Call::new("POST", path)).await?;
        Ok(())
    }
}

/// The core's [`transfer::open_transfer_key_with`] with the device's
/// non-extractable ECDH key (`ecdh`, the private half of `binding.ecdh_key`)
/// and the AES-GCM in SubtleCrypto: the record key a sender re-wrapped to this
/// device.
pub(crate) async fn open_transfer_key(
    ecdh_key: &CryptoKey,
    secret: &Key256,
    binding: &transfer::Binding<'_>,
    sealed: &[u8],
) -> Result<Key256> {
    // A point off the curve fails here, as `DH` fails natively.
    let enc = import_ecdh_public(
        transfer::transfer_key_enc(sealed)?,
        oneshare_sdk::Error::Hpke,
    )
    .await?;
    let dh = ecdh(ecdh_key, &enc).await?;
    let open = TransferKeyOpen::new(&dh, secret, binding, sealed)?;
    let inner = hpke_open(&open.hpke, b"", open.ciphertext).await?;
    let plain = AesKey::import(&open.inner_key, false)
        .await?
        .open_envelope(&open.inner_aad, &inner)
        .await?;
    Ok(TransferKeyOpen::record_key(&plain)?)
}
