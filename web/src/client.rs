//! The recipient side: status, two-phase open (bind → decrypt → store keys →
//! confirm), signed record fetches, and the shares kept on this device.
//!
//! Keys are forgotten only when the relay says the share ended (410) or the
//! caller asks ([`Client::forget`]); every other failure keeps them so a retry
//! can finish what was started (PROTOCOL.md §9.3).

use std::cell::RefCell;

use oneshare_sdk::api::{
    AttachmentInfo, BindRequest, BindResponse, ConfirmResponse, RecordCiphertext, RecordResponse,
    ShareStatus,
};
use oneshare_sdk::fingerprint::fingerprint;
use oneshare_sdk::lifetime::State;
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::record::{self, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{PublicKey, Signer};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::{guard, passphrase};

use crate::error::{Error, Result};
use crate::link::Link;
use crate::relay::{Call, Relay, body_bytes, json, seg};
use crate::store::{DEVICES, DeviceEntry, KeyStore};
use crate::webcrypto::{AesKey, generate_signing_key};

/// Name of the IndexedDB database unless [`Client::with_store`] says otherwise.
pub const DEFAULT_STORE: &str = "oneshare-sdk";

/// A client of one relay, with this browser's key store.
pub struct Client {
    pub(crate) relay: Relay,
    /// Where links point (`{link_base}/s#T`): the relay unless the viewer lives elsewhere.
    pub(crate) link_base: String,
    store_name: String,
    store: RefCell<Option<std::rc::Rc<KeyStore>>>,
}

/// Second factors and observations for [`Client::open_with`] (protocol v2,
/// PROTOCOL.md §12). The default is a plain open: no factor, signals observed.
#[derive(Debug, Default)]
pub struct OpenOptions {
    /// The open code, when the relay asked for it (`code_required`) or the
    /// sender passed it on with the link.
    pub code: Option<OpenCode>,
    /// The passphrase, stretched over [`Link::passphrase_salt`] with
    /// [`oneshare_sdk::passphrase::stretch`], for a share that has one
    /// (`passphrase_required`). Secret.
    pub passphrase: Option<Secret<32>>,
    /// Milliseconds from the Open control appearing to its press; the time
    /// since first paint when `None`.
    pub press_after_ms: Option<u64>,
}

/// A decrypted record and what the relay said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The share id.
    pub share_id: ShareId,
    /// The record version (1 at create, +1 per update).
    pub version: u64,
    /// The plaintext record.
    pub record: Record,
    /// Attachments the relay has completely (ids and ciphertext sizes).
    pub uploaded: Vec<AttachmentInfo>,
    /// When access ends (Unix seconds).
    pub access_expires_at: u64,
    /// Whether the share self-destructs.
    pub self_destruct: bool,
    /// This device's fingerprint (PROTOCOL.md §9.6), as the sender's events
    /// name it: shown so the two can be compared.
    pub device_fingerprint: String,
}

/// What a link leads to, read without consuming anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The share id.
    pub share_id: ShareId,
    /// The relay's state of the share (`unbound`: waiting to be opened).
    pub state: State,
    /// When the link (or access) ends, Unix seconds.
    pub expires_at: u64,
    /// Whether this device holds the share's keys (opened here before).
    pub on_this_device: bool,
}

/// A share whose keys this device holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceShare {
    /// The share id.
    pub share_id: String,
    /// The relay it was opened through.
    pub relay: String,
    /// Whether the relay confirmed the binding.
    pub confirmed: bool,
    /// When access ends, once known.
    pub access_expires_at: Option<u64>,
    /// Whether the share self-destructs.
    pub self_destruct: bool,
}

impl Client {
    /// A client of a relay. Its HPKE key is pinned for this client's life from
    /// the first status answer that carries it, or else fetched by the first
    /// request that signs or seals, so a page that shows a status and then
    /// opens makes no request for the key.
    ///
    /// # Errors
    /// `argument` for an empty URL.
    pub async fn connect(relay_url: &str) -> Result<Self> {
        Self::connect_with(relay_url, None).await
    }

    /// As [`Client::connect`], sending every request through `fetch` (an app's
    /// instrumented or proxied `fetch`) instead of the global one.
    ///
    /// # Errors
    /// As [`Client::connect`].
    pub async fn connect_with(relay_url: &str, fetch: Option<js_sys::Function>) -> Result<Self> {
        let relay = Relay::new(relay_url, fetch)?;
        Ok(Self {
            link_base: relay.base.clone(),
            relay,
            store_name: DEFAULT_STORE.to_owned(),
            store: RefCell::new(None),
        })
    }

    /// Uses the IndexedDB database `name` for keys (apps that keep several).
    #[must_use]
    pub fn with_store(mut self, name: &str) -> Self {
        self.store_name = name.to_owned();
        self
    }

    /// Makes links point to `base` (`{base}/s#T`) instead of the relay.
    #[must_use]
    pub fn with_link_base(mut self, base: &str) -> Self {
        self.link_base = base.trim_end_matches('/').to_owned();
        self
    }

    /// The relay URL (no trailing slash).
    pub fn relay_url(&self) -> &str {
        &self.relay.base
    }

    /// The pinned relay key id, once a request needed the key.
    pub fn relay_key_id(&self) -> Option<&str> {
        self.relay.pinned_key().map(|k| k.key_id.as_str())
    }

    /// Fetches and pins the relay key now, if no request did yet.
    ///
    /// # Errors
    /// `network`, a relay code, `invalid_key` for a relay key that does not check.
    pub async fn pin_relay_key(&self) -> Result<&str> {
        Ok(&self.relay.pinned().await?.key.key_id)
    }

    pub(crate) async fn db(&self) -> Result<std::rc::Rc<KeyStore>> {
        if let Some(db) = self.store.borrow().as_ref() {
            return Ok(db.clone());
        }
        let db = std::rc::Rc::new(KeyStore::open(&self.store_name).await?);
        *self.store.borrow_mut() = Some(db.clone());
        Ok(db)
    }

    /// Closes the IndexedDB connection (reopened on demand).
    pub fn close(&self) {
        if let Some(db) = self.store.borrow_mut().take() {
            db.close();
        }
    }

    async fn entry(&self, share_id: &str) -> Result<Option<DeviceEntry>> {
        let db = self.db().await?;
        let entry = db
            .get(DEVICES, share_id)
            .await?
            .and_then(DeviceEntry::from_js);
        match entry {
            Some(e) if e.relay != self.relay.base => Err(Error::OtherRelay { relay: e.relay }),
            other => Ok(other),
        }
    }

    /// What the link leads to: the relay's state and deadline, and whether this
    /// device holds it. Binds nothing, counts nothing.
    ///
    /// # Errors
    /// `network`, `not_found`, `storage_unavailable`.
    pub async fn status(&self, link: &Link) -> Result<Status> {
        let share_id = link.share_id();
        let id = share_id.to_string();
        let (res, _) = self
            .relay
            .send(&Call::new("GET", share_path(&id, "/status")))
            .await?;
        let status: ShareStatus = json(&body_bytes(&res).await?, "share status")?;
        if let Some(key) = &status.relay_key {
            self.relay.pin_from(key, &res).await?;
        }
        let on_this_device = self
            .db()
            .await?
            .get(DEVICES, &id)
            .await?
            .and_then(DeviceEntry::from_js)
            .is_some_and(|e| e.record_key.is_some());
        Ok(Status {
            share_id,
            state: status.state,
            expires_at: status.expires_at,
            on_this_device,
        })
    }

    /// Opens a link on this device: two-phase bind (bind → decrypt → store keys →
    /// signed confirm). Retry-safe: the device key is stored before bind, so after
    /// a lost answer another `open` re-binds with it; after a lost confirm answer
    /// it confirms again and reads the record. Once bound, `open` reads the record.
    ///
    /// # Errors
    /// `already_bound` (another device has it), `bad_token`, `expired`, `revoked`,
    /// `self_destructed`, `other_relay`, `network`, `storage_unavailable`, …
    pub async fn open(&self, link: &Link) -> Result<Opened> {
        self.open_with(link, &OpenOptions::default()).await
    }

    /// [`Client::open`] with second factors (protocol v2): the bind carries the
    /// open-code and passphrase proofs given and what the page observed
    /// ([`crate::signals`]); a passphrase share's record key is unwrapped with
    /// the passphrase's wrap key.
    ///
    /// # Errors
    /// As [`Client::open`], and `code_required` / `passphrase_required` (ask
    /// the user, then call again with it), `wrong_code` / `wrong_passphrase`
    /// ([`Error::attempts_left`] says how many remain), `locked` (5 wrong
    /// attempts: only a new link from the sender helps).
    pub async fn open_with(&self, link: &Link, options: &OpenOptions) -> Result<Opened> {
        let keys = link.keys();
        let share_id = keys.share_id;
        let id = share_id.to_string();
        let db = self.db().await?;
        // Another round when another tab of this browser stored its key first
        // (this open then binds with that one), or finished the open with it
        // meanwhile (`already_confirmed`: its record key is stored now).
        let mut confirmed_elsewhere = false;
        let (mut entry, device_key, passphrase, plain) = loop {
            let entry = match self.entry(&id).await? {
                Some(e) if e.record_key.is_some() => return self.finish_open(e).await,
                Some(e) => e,
                None => {
                    let (private_key, public_key) = generate_signing_key().await?;
                    let e = DeviceEntry {
                        share_id: id.clone(),
                        relay: self.relay.base.clone(),
                        private_key,
                        public_key,
                        confirmed: false,
                        created_at: js_sys::Date::now(),
                        record_key: None,
                        access_expires_at: None,
                        self_destruct: false,
                    };
                    // Stored before bind, so a retry after a lost answer uses this
                    // key; only into an empty (or unreadable) slot, so two tabs
                    // opening the link at once bind with one key, read above.
                    let taken = db
                        .put_unless(DEVICES, &id, &e.to_js(), &|old| {
                            DeviceEntry::from_js(old.clone()).is_some()
                        })
                        .await?;
                    if taken.is_some() {
                        continue;
                    }
                    e
                }
            };
            let device_key = PublicKey::from_bytes(&entry.public_key)?;
            let passphrase = options
                .passphrase
                .as_ref()
                .map(|s| passphrase::from_stretched(link.token(), s));
            let evidence = guard::evidence(
                link.token(),
                options.code.as_ref(),
                passphrase.as_ref(),
                crate::signals::observe(options.press_after_ms),
            );
            let body = oneshare_sdk::json::to_vec(&BindRequest {
                bind_secret: *keys.bind_secret.expose(),
                device_key,
                evidence: Some(evidence),
            })
            .map_err(|_| Error::Argument("bind request"))?;
            let call = Call::new("POST", share_path(&id, "/bind"))
                .signed(Signer::Device(share_id), &entry.private_key)
                .body(body, true)
                .encrypted_response();
            match self.relay.call(&call).await {
                Ok(plain) => break (entry, device_key, passphrase, plain),
                Err(e) if e.code() == "already_confirmed" && !confirmed_elsewhere => {
                    confirmed_elsewhere = true;
                }
                Err(e) => {
                    // Refused for good (wrong token, another device, ended): the
                    // key pair made for this bind is useless. Anything else (408,
                    // 401, 5xx, network) may have bound it: keep it for the retry;
                    // and `already_confirmed` says this key holds the share.
                    if e.code() != "already_confirmed"
                        && matches!(e.status(), Some(403 | 409 | 410 | 423))
                    {
                        db.delete(DEVICES, &id).await?;
                    }
                    return Err(e);
                }
            }
        };
        let bind: BindResponse = json(&plain, "bind response")?;
        let record_key = AesKey::import(
            &unwrap_record_key(
                link.token(),
                passphrase.as_ref(),
                &share_id,
                &bind.wrapped_key,
            )
            .await?,
            false,
        )
        .await?;
        let record = decrypt_record(&record_key, &share_id, &bind.record).await?;
        entry.record_key = Some(record_key);
        entry.access_expires_at = Some(bind.access_expires_at);
        entry.self_destruct = bind.self_destruct;
        db.put(DEVICES, &entry.to_js()).await?;
        let access_expires_at = self.confirm(&mut entry).await?;
        Ok(Opened {
            share_id,
            version: bind.record.version,
            record,
            uploaded: bind.attachments,
            access_expires_at,
            self_destruct: bind.self_destruct,
            device_fingerprint: fingerprint(&device_key),
        })
    }

    /// The rest of an open whose record key is already stored: confirm if that
    /// answer was lost, then the current record.
    async fn finish_open(&self, mut entry: DeviceEntry) -> Result<Opened> {
        if !entry.confirmed {
            self.confirm(&mut entry).await?;
        }
        self.record_of(&entry).await
    }

    async fn confirm(&self, entry: &mut DeviceEntry) -> Result<u64> {
        let share_id = ShareId::parse(&entry.share_id)?;
        let call = Call::new("POST", share_path(&entry.share_id, "/confirm"))
            .signed(Signer::Device(share_id), &entry.private_key);
        let body = self.device_call(entry, &call).await?;
        let confirm: ConfirmResponse = json(&body, "confirm response")?;
        entry.confirmed = true;
        entry.access_expires_at = Some(confirm.access_expires_at);
        self.db().await?.put(DEVICES, &entry.to_js()).await?;
        Ok(confirm.access_expires_at)
    }

    /// A device-signed call; a 410 (the share ended) forgets the keys here too.
    pub(crate) async fn device_call(
        &self,
        entry: &DeviceEntry,
        call: &Call<'_>,
    ) -> Result<Vec<u8>> {
        match self.relay.call(call).await {
            Err(e) if e.share_ended() => {
                self.forget(&entry.share_id).await?;
                Err(e)
            }
            other => other,
        }
    }

    /// The keys of a share opened on this device.
    pub(crate) async fn device(&self, share_id: &str) -> Result<DeviceEntry> {
        self.entry(share_id)
            .await?
            .filter(|e| e.record_key.is_some())
            .ok_or(Error::NotOnDevice)
    }

    /// The current record of a share opened on this device (a signed fetch).
    ///
    /// # Errors
    /// `not_on_device`, `other_relay`, `expired`/`revoked`/`self_destructed`
    /// (the keys are then forgotten), `network`, …
    pub async fn record(&self, share_id: &str) -> Result<Opened> {
        let entry = self.device(share_id).await?;
        self.record_of(&entry).await
    }

    async fn record_of(&self, entry: &DeviceEntry) -> Result<Opened> {
        let share_id = ShareId::parse(&entry.share_id)?;
        let call = Call::new("GET", share_path(&entry.share_id, "/record"))
            .signed(Signer::Device(share_id), &entry.private_key)
            .encrypted_response();
        let body = self.device_call(entry, &call).await?;
        let resp: RecordResponse = json(&body, "record response")?;
        let key = entry.record_key.as_ref().ok_or(Error::NotOnDevice)?;
        let record = decrypt_record(key, &share_id, &resp.record).await?;
        Ok(Opened {
            share_id,
            version: resp.record.version,
            record,
            uploaded: resp.attachments,
            access_expires_at: resp.access_expires_at,
            self_destruct: entry.self_destruct,
            device_fingerprint: fingerprint(&PublicKey::from_bytes(&entry.public_key)?),
        })
    }

    /// Shares opened (or being opened) on this device, through any relay.
    ///
    /// # Errors
    /// `storage_unavailable`.
    pub async fn shares_on_device(&self) -> Result<Vec<DeviceShare>> {
        let all = self.db().await?.all(DEVICES).await?;
        Ok(all
            .into_iter()
            .filter_map(DeviceEntry::from_js)
            .map(|e| DeviceShare {
                share_id: e.share_id,
                relay: e.relay,
                confirmed: e.confirmed,
                access_expires_at: e.access_expires_at,
                self_destruct: e.self_destruct,
            })
            .collect())
    }

    /// Deletes a share's keys from this device: the record cannot be read here
    /// again.
    ///
    /// # Errors
    /// `storage_unavailable`.
    pub async fn forget(&self, share_id: &str) -> Result<()> {
        self.db().await?.delete(DEVICES, share_id).await
    }
}

/// The record key a bind returned, unwrapped in SubtleCrypto: the core's
/// [`guard::unwrap_record_key`] with the AES-GCM of the browser (the keys the
/// core says to try, in its order; the first that opens it wins).
pub(crate) async fn unwrap_record_key(
    token: &oneshare_sdk::token::Token,
    passphrase: Option<&passphrase::PassphraseKeys>,
    share_id: &ShareId,
    wrapped: &[u8],
) -> Result<Key256> {
    record::check_wrapped(wrapped)?;
    let aad = record::wrap_aad(share_id);
    let mut outcome = Err(Error::from(oneshare_sdk::Error::WrongKey));
    for wrap_key in guard::wrap_keys(token, passphrase) {
        outcome = AesKey::import(&wrap_key, false)
            .await?
            .open_envelope(&aad, wrapped)
            .await;
        if outcome.is_ok() {
            break;
        }
    }
    Ok(record::unwrapped(&outcome?)?)
}

/// `/v1/shares/{id}{rest}`, the path of a share's endpoint.
fn share_path(share_id: &str, rest: &str) -> String {
    ["/v1/shares/", &seg(share_id), rest].concat()
}

/// Decrypts a record envelope with the stored record key.
async fn decrypt_record(key: &AesKey, share_id: &ShareId, rc: &RecordCiphertext) -> Result<Record> {
    let aad = record::record_aad(share_id, rc.version);
    let plain = key.open_envelope(&aad, &rc.ciphertext).await?;
    Ok(Record::from_json(&plain)?)
}
