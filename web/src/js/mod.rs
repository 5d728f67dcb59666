//! The JavaScript API of `@oneshare/sdk` (feature `js`): the `Oneshare` class
//! and a few functions, each converting arguments, calling [`Client`] and
//! converting the answer. No protocol logic lives here.

mod convert;
mod passphrase;
mod streams;
pub mod testing;
mod types;

use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use oneshare_sdk::api::AttachmentInfo;
use oneshare_sdk::duration;
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::record::Record;
use oneshare_sdk::token::ShareId;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::owner::{CreateOptions, NewFile};
use crate::{Client, Error, Link, OpenOptions, Opened, take_link_from_location};
use convert::{JsResult, field, field_as, js, js_error, report, to_js, whole};

/// Talc instead of the default dlmalloc: the same job in about 4 KB less of
/// the module (1.8 KB gzipped). Only the npm module sets it: a Rust/wasm app
/// that links this crate keeps its own allocator.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A client of one relay with this browser's key store.
#[wasm_bindgen(js_name = Oneshare)]
pub struct JsOneshare {
    inner: Rc<Client>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordResult<'a> {
    share_id: String,
    version: u64,
    record: &'a Record,
    attachments: &'a [AttachmentInfo],
    access_expires_at: u64,
    self_destruct: bool,
}

fn record_result(o: &Opened) -> JsResult<JsValue> {
    to_js(&RecordResult {
        share_id: o.share_id.to_string(),
        version: o.version,
        record: &o.record,
        attachments: &o.uploaded,
        access_expires_at: o.access_expires_at,
        self_destruct: o.self_destruct,
    })
}

/// A future of an export's result, boxed so `future_to_promise` is compiled
/// once rather than once per export (about 4 KB of wasm each).
pub(crate) type JsFuture =
    core::pin::Pin<Box<dyn core::future::Future<Output = JsResult<JsValue>>>>;

/// A promise of an async block's result.
fn promise(f: impl core::future::Future<Output = JsResult<JsValue>> + 'static) -> Promise {
    future_to_promise(Box::pin(f) as JsFuture)
}

/// The link given, or the one in the address bar (removed from it first).
fn link_or_location(link: Option<String>) -> JsResult<Link> {
    match link {
        Some(text) => js(Link::parse(&text)),
        None => js(take_link_from_location())?.ok_or_else(|| {
            js_error(&Error::Core(oneshare_sdk::Error::InvalidLink(
                "no link in the address bar: open the whole link you were sent",
            )))
        }),
    }
}

/// A record from a plain object, checked by the core (schema, custom labels).
fn record_from(value: &JsValue) -> JsResult<Record> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    js(Record::from_json(text.as_bytes()).map_err(Error::from))
}

fn parse_share_id(text: &str) -> JsResult<ShareId> {
    js(ShareId::parse(text).map_err(Error::from))
}

#[wasm_bindgen(js_class = Oneshare)]
impl JsOneshare {
    /// Connects to a relay: fetches and pins its HPKE key for this client's life.
    #[wasm_bindgen(unchecked_return_type = "Promise<Oneshare>")]
    pub fn connect(relay_url: String, options: Option<types::ConnectOptions>) -> Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        promise(async move {
            let client = js(Client::connect_with(&relay_url, field_as(&options, "fetch")).await)?;
            // The npm API pins at connect, so a wrong relay fails there.
            js(client.pin_relay_key().await.map(|_| ()))?;
            let client = match field(&options, "storeName").as_string() {
                Some(name) => client.with_store(&name),
                None => client,
            };
            let client = match field(&options, "linkBase").as_string() {
                Some(base) => client.with_link_base(&base),
                None => client,
            };
            Ok(JsOneshare {
                inner: Rc::new(client),
            }
            .into())
        })
    }

    /// The relay URL.
    #[wasm_bindgen(getter, js_name = relayUrl)]
    pub fn relay_url(&self) -> String {
        self.inner.relay_url().to_owned()
    }

    /// The pinned relay key id.
    #[wasm_bindgen(getter, js_name = relayKeyId)]
    pub fn relay_key_id(&self) -> String {
        self.inner.relay_key_id().unwrap_or_default().to_owned()
    }

    /// Closes the IndexedDB connection (reopened on demand).
    pub fn close(&self) {
        self.inner.close();
    }

    /// What a link leads to, without consuming it. Without an argument, the link
    /// in the address bar (removed from it first).
    #[wasm_bindgen(unchecked_return_type = "Promise<ShareStatus>")]
    pub fn status(&self, link: Option<String>) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            let link = link_or_location(link)?;
            let s = js(client.status(&link).await)?;
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                share_id: String,
                state: &'static str,
                expires_at: u64,
                on_this_device: bool,
            }
            to_js(&Out {
                share_id: s.share_id.to_string(),
                state: s.state.as_str(),
                expires_at: s.expires_at,
                on_this_device: s.on_this_device,
            })
        })
    }

    /// Opens a link on this device (bind, decrypt, keep keys, confirm). Without
    /// a link, the link in the address bar (removed from it first). `options`
    /// carries the open code and the passphrase when the relay asks for them.
    #[wasm_bindgen(unchecked_return_type = "Promise<RecordResult>")]
    pub fn open(&self, link: Option<String>, options: Option<types::OpenOptions>) -> Promise {
        let client = self.inner.clone();
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        promise(async move {
            let link = link_or_location(link)?;
            let code = match field(&options, "code").as_string() {
                Some(text) => Some(js(OpenCode::parse(&text).map_err(Error::from))?),
                None => None,
            };
            let passphrase = match field(&options, "passphrase").as_string() {
                Some(text) => {
                    let text = zeroize::Zeroizing::new(text);
                    Some(js(passphrase::stretch(&text, link.passphrase_salt()).await)?)
                }
                None => None,
            };
            let press_after_ms = field(&options, "pressAfterMs")
                .as_f64()
                .map(|n| whole(n, "pressAfterMs"))
                .transpose()?;
            let opts = OpenOptions {
                code,
                passphrase,
                press_after_ms,
            };
            record_result(&js(client.open_with(&link, &opts).await)?)
        })
    }

    /// The current record of a share opened on this device.
    #[wasm_bindgen(unchecked_return_type = "Promise<RecordResult>")]
    pub fn record(&self, share_id: String) -> Promise {
        let client = self.inner.clone();
        promise(async move { record_result(&js(client.record(&share_id).await)?) })
    }

    /// An attachment, decrypted, as a `ReadableStream<Uint8Array>`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ReadableStream<Uint8Array>>")]
    pub fn attachment(
        &self,
        share_id: String,
        id: String,
        options: Option<types::AttachmentOptions>,
    ) -> Promise {
        let client = self.inner.clone();
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        promise(async move {
            let opened = js(client.record(&share_id).await)?;
            let meta = opened
                .record
                .attachments
                .iter()
                .find(|a| a.id == id)
                .ok_or_else(|| js_error(&Error::NoSuchAttachment))?;
            let progress = field_as::<Function>(&options, "onProgress").map(|f| {
                Box::new(move |done: u64, total: u64| report(&f, done, total, None))
                    as crate::Progress
            });
            let dl = js(client
                .download(
                    &share_id,
                    meta,
                    crate::DownloadOptions {
                        progress,
                        signal: field_as::<AbortSignal>(&options, "signal"),
                        from_segment: 0,
                    },
                )
                .await)?;
            Ok(streams::readable(dl).into())
        })
    }

    /// Shares opened (or being opened) on this device.
    #[wasm_bindgen(js_name = sharesOnDevice, unchecked_return_type = "Promise<DeviceShare[]>")]
    pub fn shares_on_device(&self) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                share_id: String,
                relay: String,
                confirmed: bool,
                access_expires_at: Option<u64>,
                self_destruct: bool,
            }
            let all: Vec<Out> = js(client.shares_on_device().await)?
                .into_iter()
                .map(|s| Out {
                    share_id: s.share_id,
                    relay: s.relay,
                    confirmed: s.confirmed,
                    access_expires_at: s.access_expires_at,
                    self_destruct: s.self_destruct,
                })
                .collect();
            to_js(&all)
        })
    }

    /// Deletes a share's keys from this device.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn forget(&self, share_id: String) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            js(client.forget(&share_id).await)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The owner public key of this browser (base64url), created if needed.
    #[wasm_bindgen(js_name = ownerPublicKey, unchecked_return_type = "Promise<string>")]
    pub fn owner_public_key(&self) -> Promise {
        let client = self.inner.clone();
        promise(async move { Ok(js(client.owner_public_key().await)?.into()) })
    }

    /// Creates a share and uploads its attachments.
    #[wasm_bindgen(unchecked_return_type = "Promise<CreateResult>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateOptions")] options: JsValue,
    ) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            let record = record_from(&field(&options, "record"))?;
            let expires = field(&options, "expiresIn");
            let expires_in = match (expires.as_f64(), expires.as_string()) {
                (Some(n), _) => whole(n, "expiresIn")?,
                (None, Some(text)) => js(duration::parse(&text).map_err(Error::from))?,
                (None, None) => 3600,
            };
            let mut files = Vec::new();
            if let Some(list) = field_as::<Array>(&options, "attachments") {
                for item in list.iter() {
                    files.push(streams::new_file(item).await?);
                }
            }
            let progress = field_as::<Function>(&options, "onProgress").map(|f| {
                Box::new(move |done: u64, total: u64, name: &str| {
                    report(&f, done, total, Some(name));
                }) as crate::UploadProgress
            });
            let count = files.len();
            let total: u64 = files.iter().map(NewFile::size).sum();
            let create = CreateOptions {
                expires_in,
                self_destruct: field(&options, "selfDestruct").is_truthy(),
                label: field(&options, "label").as_string().unwrap_or_default(),
                signal: field_as(&options, "signal"),
                require_code: field(&options, "requireCode").is_truthy(),
                passphrase: field(&options, "passphrase").as_string().map(|text| {
                    crate::NewPassphrase {
                        text: zeroize::Zeroizing::new(text),
                        stretch: passphrase::stretcher(),
                    }
                }),
            };
            let created = js(client.create(record, files, &create, progress).await)?;
            if count > 0
                && let Some(f) = field_as::<Function>(&options, "onProgress")
            {
                report(&f, total, total, None);
            }
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                link: String,
                share_id: String,
                expires_at: u64,
                open_code: String,
            }
            to_js(&Out {
                link: created.link,
                share_id: created.share_id.to_string(),
                expires_at: created.expires_at,
                open_code: created.open_code,
            })
        })
    }

    /// The shares this browser's owner identity created, labels decrypted.
    #[wasm_bindgen(js_name = listShares, unchecked_return_type = "Promise<ShareSummary[]>")]
    pub fn list_shares(&self) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                share_id: String,
                state: &'static str,
                label: Option<String>,
                created_at: u64,
                expires_at: u64,
                bound_at: Option<u64>,
                record_version: u64,
                self_destruct: bool,
            }
            let all: Vec<Out> = js(client.list_shares().await)?
                .into_iter()
                .map(|s| Out {
                    share_id: s.share_id.to_string(),
                    state: s.state.as_str(),
                    label: s.label,
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                    bound_at: s.bound_at,
                    record_version: s.record_version,
                    self_destruct: s.self_destruct,
                })
                .collect();
            to_js(&all)
        })
    }

    /// Publishes a new version of a share's record.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ shareId: string; version: number }>")]
    pub fn update(
        &self,
        share_id: String,
        #[wasm_bindgen(unchecked_param_type = "ShareRecord")] record: JsValue,
    ) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            let record = record_from(&record)?;
            let id = parse_share_id(&share_id)?;
            let version = js(client.update(&id, &record).await)?;
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                share_id: String,
                version: u64,
            }
            to_js(&Out {
                share_id: id.to_string(),
                version,
            })
        })
    }

    /// Revokes a share now ("Delete Now").
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn revoke(&self, share_id: String) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            js(client.revoke(&parse_share_id(&share_id)?).await)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Asks the sender of a share opened on another device to move it to this
    /// one (PROTOCOL.md §12.2): show `comparisonCode` and poll `transferStatus`.
    /// Without an argument, the link in the address bar (removed from it first).
    #[wasm_bindgen(js_name = requestTransfer, unchecked_return_type = "Promise<TransferProgress>")]
    pub fn request_transfer(&self, link: Option<String>) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            let link = link_or_location(link)?;
            transfer_progress(js(client.request_transfer(&link).await)?)
        })
    }

    /// Where this device's transfer request stands; once approved the record
    /// is readable here and returned.
    #[wasm_bindgen(js_name = transferStatus, unchecked_return_type = "Promise<TransferProgress>")]
    pub fn transfer_status(&self, link: String) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            let link = js(Link::parse(&link))?;
            transfer_progress(js(client.transfer_status(&link).await)?)
        })
    }

    /// Requests to move this owner's shares to another device, with the code
    /// each requesting device shows.
    #[wasm_bindgen(js_name = pendingTransfers, unchecked_return_type = "Promise<PendingTransfer[]>")]
    pub fn pending_transfers(&self) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out {
                share_id: String,
                label: Option<String>,
                comparison_code: String,
                requested_at: u64,
                expires_at: u64,
            }
            let all: Vec<Out> = js(client.pending_transfers().await)?
                .into_iter()
                .map(|t| Out {
                    share_id: t.share_id.to_string(),
                    label: t.label,
                    comparison_code: t.comparison_code,
                    requested_at: t.requested_at,
                    expires_at: t.expires_at,
                })
                .collect();
            to_js(&all)
        })
    }

    /// Moves a share to the device that asked, given the code the person reads
    /// from their device (`code_mismatch` if it differs: nothing is approved).
    #[wasm_bindgen(js_name = approveTransfer, unchecked_return_type = "Promise<void>")]
    pub fn approve_transfer(&self, share_id: String, code: String) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            js(client
                .approve_transfer(&parse_share_id(&share_id)?, &code)
                .await)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Refuses a pending request to move a share.
    #[wasm_bindgen(js_name = denyTransfer, unchecked_return_type = "Promise<void>")]
    pub fn deny_transfer(&self, share_id: String) -> Promise {
        let client = self.inner.clone();
        promise(async move {
            js(client.deny_transfer(&parse_share_id(&share_id)?).await)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The owner's events as an async iterator (`for await … of`); break out of
    /// the loop or abort `signal` to close the stream.
    #[wasm_bindgen(unchecked_return_type = "AsyncIterableIterator<ShareEvent>")]
    pub fn events(&self, options: Option<types::EventOptions>) -> JsResult<JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let last = field(&options, "lastEventId")
            .as_f64()
            .map(|n| whole(n, "lastEventId"))
            .transpose()?;
        Ok(streams::event_iterator(
            self.inner.clone(),
            last,
            field_as(&options, "signal"),
        ))
    }
}

/// `TransferProgress` for JavaScript.
fn transfer_progress(p: crate::TransferProgress) -> JsResult<JsValue> {
    use crate::TransferProgress as P;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Waiting {
        state: &'static str,
        comparison_code: String,
        expires_at: u64,
    }
    #[derive(Serialize)]
    struct Ended {
        state: &'static str,
    }
    match p {
        P::Pending {
            comparison_code,
            expires_at,
        } => to_js(&Waiting {
            state: "pending",
            comparison_code,
            expires_at,
        }),
        P::Approved(opened) => {
            let out = to_js(&Ended { state: "approved" })?;
            let _ = js_sys::Reflect::set(&out, &"result".into(), &record_result(&opened)?);
            Ok(out)
        }
        P::Denied => to_js(&Ended { state: "denied" }),
        P::Expired => to_js(&Ended { state: "expired" }),
    }
}

/// Parses a link and returns its share id; `invalid_link` with advice.
#[wasm_bindgen(js_name = parseLink, unchecked_return_type = "{ shareId: string }")]
pub fn parse_link(link: &str) -> JsResult<JsValue> {
    let id = js(Link::parse(link))?.share_id().to_string();
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &"shareId".into(), &id.into())?;
    Ok(out.into())
}

/// Parses a duration such as `30m`, `1h`, `7d`, `2w`, `1h30m` into seconds.
#[wasm_bindgen(js_name = parseDuration)]
pub fn parse_duration(text: &str) -> JsResult<f64> {
    // At most 365 days: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    js(duration::parse(text).map(|s| s as f64).map_err(Error::from))
}

/// Formats seconds as a duration (`5400` → `1h30m`).
#[wasm_bindgen(js_name = formatDuration)]
pub fn format_duration(seconds: f64) -> JsResult<String> {
    Ok(duration::format(whole(seconds, "seconds")?))
}

/// Decrypts a STREAM ciphertext (an attachment) into a plaintext stream, with
/// SubtleCrypto and the core's STREAM state machine.
#[wasm_bindgen(js_name = decryptAttachment, unchecked_return_type = "Promise<ReadableStream<Uint8Array>>")]
pub fn decrypt_attachment(
    ciphertext: web_sys::ReadableStream,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] file_key: JsValue,
    size: f64,
    #[wasm_bindgen(unchecked_param_type = "(p: Progress) => void")] on_progress: Option<Function>,
) -> Promise {
    promise(async move {
        let size = whole(size, "size")?;
        // The record's base64url `key`, or its 32 bytes.
        let key: [u8; 32] = match file_key.as_string() {
            Some(text) => {
                js(oneshare_sdk::encoding::unb64_array(&text, "file key").map_err(Error::from))?
            }
            None => {
                let bytes = js_sys::Uint8Array::new(&file_key).to_vec();
                bytes.as_slice().try_into().map_err(|_| {
                    js_error(&Error::Core(oneshare_sdk::Error::Length {
                        what: "file key",
                        expected: 32,
                        got: bytes.len(),
                    }))
                })?
            }
        };
        let key = js(crate::AesKey::import(&oneshare_sdk::secret::Secret::new(key), false).await)?;
        let progress = on_progress.map(|f| {
            Box::new(move |done: u64, total: u64| report(&f, done, total, None)) as crate::Progress
        });
        let dl = js(crate::Download::new(&ciphertext, key, size, progress))?;
        Ok(streams::readable(dl).into())
    })
}
