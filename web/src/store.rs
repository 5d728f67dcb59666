//! The IndexedDB key store: non-extractable `CryptoKey`s kept as structured
//! clones (usable after a reload, never readable). The layout is the one the
//! JavaScript SDK wrote (database `oneshare-sdk` v1, stores `devices` and
//! `owner`), so keys stored before this client keep working.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use oneshare_sdk::envelope::COMMITMENT_LEN;
use oneshare_sdk::signing::PUBLIC_KEY_LEN;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CryptoKey, IdbDatabase, IdbObjectStore, IdbObjectStoreParameters, IdbRequest,
    IdbTransactionMode,
};

use crate::error::{Error, Result};
use crate::platform::indexed_db;
use crate::webcrypto::AesKey;

const DB_VERSION: u32 = 2;
/// Device entries, one per share, keyed by share id.
pub(crate) const DEVICES: &str = "devices";
/// The owner identity of this browser (one entry, `default`).
pub(crate) const OWNER: &str = "owner";
/// Transfer requests this device made and waits on (version 2), keyed by share id.
pub(crate) const TRANSFERS: &str = "transfers";

/// A promise settled by two event handlers (`onsuccess`/`onerror`,
/// `oncomplete`/`onabort`), with the closures kept alive until it settles.
struct Settle {
    promise: Promise,
    _handlers: Vec<Closure<dyn FnMut()>>,
}

impl Settle {
    fn new(install: impl Fn(&Function, &Function)) -> Self {
        let mut handlers = Vec::new();
        let promise = Promise::new(&mut |resolve: Function, reject: Function| {
            let ok = Closure::<dyn FnMut()>::new(move || {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            });
            let no = Closure::<dyn FnMut()>::new(move || {
                let _ = reject.call0(&JsValue::UNDEFINED);
            });
            install(ok.as_ref().unchecked_ref(), no.as_ref().unchecked_ref());
            handlers.push(ok);
            handlers.push(no);
        });
        Self {
            promise,
            _handlers: handlers,
        }
    }

    fn request(req: &IdbRequest) -> Self {
        Self::new(|ok, no| {
            req.set_onsuccess(Some(ok));
            req.set_onerror(Some(no));
        })
    }

    async fn wait(self) -> Result<()> {
        JsFuture::from(self.promise.clone())
            .await
            .map(|_| ())
            .map_err(|_| Error::StorageUnavailable)
    }
}

/// A request as IndexedDB issued it (or the exception it threw).
type Issued = core::result::Result<IdbRequest, JsValue>;

/// One IndexedDB database of keys.
pub(crate) struct KeyStore {
    db: IdbDatabase,
}

impl KeyStore {
    /// Opens (or creates) the database `name`. Asks the browser to keep this
    /// origin's storage under pressure: evicting it would lose the only keys that
    /// open bound shares (best effort, no prompt in Chromium).
    pub(crate) async fn open(name: &str) -> Result<Self> {
        let factory = indexed_db()?;
        let req = factory
            .open_with_u32(name, DB_VERSION)
            .map_err(|_| Error::StorageUnavailable)?;
        let upgrade_req = req.clone();
        let upgrade = Closure::<dyn FnMut()>::new(move || {
            if let Ok(db) = upgrade_req
                .result()
                .and_then(|d| d.dyn_into::<IdbDatabase>())
            {
                let names = db.object_store_names();
                for (store, key) in [(DEVICES, "shareId"), (OWNER, "id"), (TRANSFERS, "shareId")] {
                    if !names.contains(store) {
                        let params = IdbObjectStoreParameters::new();
                        params.set_key_path(&JsValue::from_str(key));
                        let _ = db.create_object_store_with_optional_parameters(store, &params);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        Settle::request(&req).wait().await?;
        req.set_onupgradeneeded(None);
        drop(upgrade);
        let db = req
            .result()
            .and_then(|d| d.dyn_into::<IdbDatabase>())
            .map_err(|_| Error::StorageUnavailable)?;
        persist();
        Ok(Self { db })
    }

    /// Runs one request (`op`) in its own transaction and waits until it is
    /// durable. Once it succeeded, `then` may issue one more on the same store
    /// from its result: it runs while the transaction is still active (promise
    /// jobs run before IndexedDB commits it), so another tab of this browser
    /// cannot come between the two. Returns `op`'s result. Both are `dyn`
    /// references so that every operation shares one copy of this future's code.
    async fn run(
        &self,
        store: &str,
        mode: IdbTransactionMode,
        op: &dyn Fn(&IdbObjectStore) -> Issued,
        then: &dyn Fn(&IdbObjectStore, &JsValue) -> Option<Issued>,
    ) -> Result<JsValue> {
        let tx = self
            .db
            .transaction_with_str_and_mode(store, mode)
            .map_err(|_| Error::StorageUnavailable)?;
        let done = Settle::new(|ok, no| {
            tx.set_oncomplete(Some(ok));
            tx.set_onabort(Some(no));
            tx.set_onerror(Some(no));
        });
        let s = tx
            .object_store(store)
            .map_err(|_| Error::StorageUnavailable)?;
        // DataCloneError (a browser that cannot store a CryptoKey) lands here.
        let req = op(&s).map_err(|_| Error::StorageUnavailable)?;
        Settle::request(&req).wait().await?;
        let read = req.result().map_err(|_| Error::StorageUnavailable)?;
        if let Some(next) = then(&s, &read) {
            let next = next.map_err(|_| Error::StorageUnavailable)?;
            Settle::request(&next).wait().await?;
        }
        done.wait().await?;
        Ok(read)
    }

    pub(crate) async fn get(&self, store: &str, key: &str) -> Result<Option<JsValue>> {
        let v = self
            .run(
                store,
                IdbTransactionMode::Readonly,
                &|s| s.get(&JsValue::from_str(key)),
                &|_, _| None,
            )
            .await?;
        Ok((!v.is_undefined()).then_some(v))
    }

    pub(crate) async fn put(&self, store: &str, value: &JsValue) -> Result<()> {
        self.run(
            store,
            IdbTransactionMode::Readwrite,
            &|s| s.put(value),
            &|_, _| None,
        )
        .await
        .map(|_| ())
    }

    /// Stores `value` under `key` unless what is there is worth keeping
    /// (`keep`), read and written in one transaction. Returns what was kept;
    /// `None` when `value` was stored.
    pub(crate) async fn put_unless(
        &self,
        store: &str,
        key: &str,
        value: &JsValue,
        keep: &dyn Fn(&JsValue) -> bool,
    ) -> Result<Option<JsValue>> {
        let read = self
            .run(
                store,
                IdbTransactionMode::Readwrite,
                &|s| s.get(&JsValue::from_str(key)),
                &|s, old| (old.is_undefined() || !keep(old)).then(|| s.put(value)),
            )
            .await?;
        Ok((!read.is_undefined() && keep(&read)).then_some(read))
    }

    pub(crate) async fn delete(&self, store: &str, key: &str) -> Result<()> {
        self.run(
            store,
            IdbTransactionMode::Readwrite,
            &|s| s.delete(&JsValue::from_str(key)),
            &|_, _| None,
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn all(&self, store: &str) -> Result<Vec<JsValue>> {
        let v = self
            .run(
                store,
                IdbTransactionMode::Readonly,
                &|s| s.get_all(),
                &|_, _| None,
            )
            .await?;
        Ok(js_sys::Array::from(&v).to_vec())
    }

    /// Closes the connection.
    pub(crate) fn close(&self) {
        self.db.close();
    }
}

fn persist() {
    let storage = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"storage".into()))
        .ok();
    if let Some(storage) = storage.filter(|s| s.is_object())
        && let Ok(f) = Reflect::get(&storage, &"persist".into())
        && let Some(f) = f.dyn_ref::<Function>()
        && let Ok(p) = f.call0(&storage)
        && let Ok(p) = p.dyn_into::<Promise>()
    {
        // Best effort: a refusal changes nothing we can act on.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(p).await;
        });
    }
}

/// Reads and writes the fields of a stored object.
pub(crate) struct Fields(pub(crate) js_sys::Object);

impl Fields {
    pub(crate) fn new() -> Self {
        Self(js_sys::Object::new())
    }

    pub(crate) fn set(&self, name: &str, value: impl Into<JsValue>) -> &Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    fn get(&self, name: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.get(name).as_string()
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name).as_bool().unwrap_or(false)
    }

    pub(crate) fn number(&self, name: &str) -> Option<f64> {
        self.get(name).as_f64()
    }

    pub(crate) fn key(&self, name: &str) -> Option<CryptoKey> {
        self.get(name).dyn_into().ok()
    }

    pub(crate) fn bytes<const N: usize>(&self, name: &str) -> Option<[u8; N]> {
        self.get(name)
            .dyn_into::<Uint8Array>()
            .ok()
            .and_then(|a| a.to_vec().try_into().ok())
    }
}

/// A share's keys on this device.
#[derive(Clone)]
pub(crate) struct DeviceEntry {
    pub share_id: String,
    /// The relay the share was bound through (its keys mean nothing elsewhere).
    pub relay: String,
    pub private_key: CryptoKey,
    pub public_key: [u8; PUBLIC_KEY_LEN],
    pub confirmed: bool,
    pub created_at: f64,
    pub record_key: Option<AesKey>,
    pub access_expires_at: Option<u64>,
    pub self_destruct: bool,
}

/// A time in whole seconds from a stored number.
fn secs(n: Option<f64>) -> Option<u64> {
    // Stored by this client from u64 seconds (exact below 2^53).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    n.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64)
}

impl DeviceEntry {
    pub(crate) fn to_js(&self) -> JsValue {
        let f = Fields::new();
        f.set("shareId", self.share_id.as_str())
            .set("relay", self.relay.as_str())
            .set("privateKey", self.private_key.clone())
            .set("publicKey", Uint8Array::from(&self.public_key[..]))
            .set("confirmed", self.confirmed)
            .set("createdAt", self.created_at)
            .set("selfDestruct", self.self_destruct);
        if let Some(k) = &self.record_key {
            f.set("recordKey", k.key.clone())
                .set("commitment", Uint8Array::from(&k.commitment[..]));
        }
        if let Some(t) = self.access_expires_at {
            f.set("accessExpiresAt", t as f64);
        }
        f.0.into()
    }

    /// Parses a stored entry; `None` when it is not one of ours.
    pub(crate) fn from_js(v: JsValue) -> Option<Self> {
        let f = Fields(v.dyn_into().ok()?);
        let record_key = match (f.key("recordKey"), f.bytes::<COMMITMENT_LEN>("commitment")) {
            (Some(k), Some(c)) => Some(AesKey::from_parts(k, c)),
            _ => None,
        };
        Some(Self {
            share_id: f.string("shareId")?,
            relay: f.string("relay")?,
            private_key: f.key("privateKey")?,
            public_key: f.bytes("publicKey")?,
            confirmed: f.flag("confirmed"),
            created_at: f.number("createdAt").unwrap_or(0.0),
            record_key,
            access_expires_at: secs(f.number("accessExpiresAt")),
            self_destruct: f.flag("selfDestruct"),
        })
    }
}
