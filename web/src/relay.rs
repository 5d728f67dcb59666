//! HTTP to one relay over `fetch`: signed requests (PROTOCOL.md §6, signed with a
//! non-extractable WebCrypto key) and transmission-key envelopes (§7). Canonical
//! strings, headers and envelopes come from the core.

use std::cell::OnceCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use oneshare_sdk::api::{ErrorBody, RelayKeyInfo, RelayKeyResponse};
use oneshare_sdk::signing::{self, HEADER_TRANSMISSION, NONCE_LEN, SignedHeaders, Signer};
use oneshare_sdk::transmission::RelayPublicKey;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, CryptoKey, Headers, RequestCache, RequestInit, Response};

use crate::error::{Error, Result};
use crate::platform::{fetch, now_secs, random};
use crate::transmission::TransmissionKey;
use crate::webcrypto::{import_ecdh_public, sign};

/// Clock skew (seconds) below which the local clock is trusted as is.
const TRUSTED_SKEW: i64 = 30;

/// One request.
pub(crate) struct Call<'a> {
    pub method: &'static str,
    /// Path and query, exactly as signed.
    pub path: String,
    /// Plaintext body.
    pub body: Vec<u8>,
    /// Signer header value and its private key.
    pub signer: Option<(Signer, &'a CryptoKey)>,
    /// Seal the body under a transmission key.
    pub encrypt_body: bool,
    /// The answer comes sealed under the transmission key.
    pub encrypted_response: bool,
    /// Content type of a plaintext body.
    pub content_type: &'static str,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    pub signal: Option<&'a AbortSignal>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: &'static str, path: String) -> Self {
        Self {
            method,
            path,
            body: Vec::new(),
            signer: None,
            encrypt_body: false,
            encrypted_response: false,
            content_type: "application/json",
            headers: Vec::new(),
            signal: None,
        }
    }

    pub(crate) fn signed(mut self, signer: Signer, key: &'a CryptoKey) -> Self {
        self.signer = Some((signer, key));
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>, encrypted: bool) -> Self {
        self.body = body;
        self.encrypt_body = encrypted;
        self
    }

    pub(crate) fn encrypted_response(mut self) -> Self {
        self.encrypted_response = true;
        self
    }
}

/// One relay; its HPKE key is pinned on first need.
#[derive(Clone)]
pub(crate) struct Relay {
    /// Base URL without trailing slash.
    pub base: String,
    /// Shared by clones, so one client fetches the key once.
    pinned: Rc<OnceCell<Pinned>>,
    /// The app's `fetch`, if it gave one.
    fetch: Option<js_sys::Function>,
}

/// The relay key and the clock skew measured from the answer that carried it.
pub(crate) struct Pinned {
    pub key: RelayPublicKey,
    /// The same key imported into WebCrypto for ECDH (checked on the curve).
    ecdh_key: CryptoKey,
    /// Seconds to add to the local clock.
    clock_offset: i64,
}

impl Pinned {
    /// Checks the key (its id must be the one computed from the key) and
    /// measures clock skew from the `Date` header of the answer that carried it.
    async fn new(info: &RelayKeyInfo, res: &Response) -> Result<Self> {
        let key = RelayPublicKey::from_bytes(&info.public_key)?;
        if key.key_id != info.key_id {
            return Err(oneshare_sdk::Error::InvalidKey("relay").into());
        }
        let ecdh_key =
            import_ecdh_public(&key.public_key, oneshare_sdk::Error::InvalidKey("relay")).await?;
        let mut clock_offset = 0;
        if let Ok(Some(date)) = res.headers().get("date") {
            let at = js_sys::Date::parse(&date);
            if at.is_finite() {
                // Milliseconds since the epoch, well inside i64.
                #[allow(clippy::cast_possible_truncation)]
                let skew = ((at - js_sys::Date::now()) / 1000.0).round() as i64;
                if skew.abs() > TRUSTED_SKEW {
                    clock_offset = skew;
                }
            }
        }
        Ok(Pinned {
            key,
            ecdh_key,
            clock_offset,
        })
    }
}

impl Relay {
    /// A relay at `url`; nothing is fetched yet.
    pub(crate) fn new(url: &str, fetch: Option<js_sys::Function>) -> Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        if base.is_empty() {
            return Err(Error::Argument("relay URL"));
        }
        Ok(Self {
            base,
            pinned: Rc::default(),
            fetch,
        })
    }

    /// The pinned key, if a request needed it already.
    pub(crate) fn pinned_key(&self) -> Option<&RelayPublicKey> {
        self.pinned.get().map(|p| &p.key)
    }

    /// The relay key, pinned from a status answer or fetched by the first
    /// request that signs or seals (a page that reads a status, then opens,
    /// makes no request for it).
    pub(crate) async fn pinned(&self) -> Result<&Pinned> {
        if self.pinned.get().is_none() {
            let fetched = self.fetch_key().await?;
            // Two calls may race here; the first key fetched stays pinned.
            let _ = self.pinned.set(fetched);
        }
        self.pinned.get().ok_or(Error::Network)
    }

    /// Fetches the relay key.
    async fn fetch_key(&self) -> Result<Pinned> {
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_cache(RequestCache::NoStore);
        let url = self.base.clone() + "/v1/relay-key";
        let res = checked(fetch(self.fetch.as_ref(), &url, &init).await?).await?;
        let body = body_bytes(&res).await?;
        let resp: RelayKeyResponse = json(&body, "relay key response")?;
        Pinned::new(&resp.current, &res).await
    }

    /// Pins the key a status answer (`res`) carried, unless one is pinned.
    ///
    /// # Errors
    /// `invalid_key` for a key that does not check.
    pub(crate) async fn pin_from(&self, key: &RelayKeyInfo, res: &Response) -> Result<()> {
        if self.pinned.get().is_none() {
            let pinned = Pinned::new(key, res).await?;
            let _ = self.pinned.set(pinned);
        }
        Ok(())
    }

    /// Sends `call`; a non-2xx answer becomes [`Error::Relay`]. Returns the
    /// response and the transmission key of the call, if any.
    pub(crate) async fn send(
        &self,
        call: &Call<'_>,
    ) -> Result<(Response, Option<TransmissionKey>)> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let headers = Headers::new().map_err(|_| Error::Unsupported("Headers"))?;
        let add = |name: &str, value: &str| {
            headers
                .set(name, value)
                .map_err(|_| Error::Argument("header value"))
        };
        // The plaintext body as it is (an upload part is megabytes), or sealed.
        let mut sealed_body = None;
        let mut tk = None;
        let sealed = call.encrypt_body || call.encrypted_response;
        let pinned = if sealed || call.signer.is_some() {
            Some(self.pinned().await?)
        } else {
            None
        };
        if let (true, Some(pinned)) = (sealed, pinned) {
            let key = TransmissionKey::new(&pinned.key, &pinned.ecdh_key, nonce).await?;
            add(HEADER_TRANSMISSION, &key.header)?;
            if call.encrypt_body {
                sealed_body = Some(key.seal_request(&call.body).await?);
            }
            tk = Some(key);
        }
        let body: &[u8] = sealed_body.as_deref().unwrap_or(&call.body);
        if let (Some((signer, private)), Some(pinned)) = (&call.signer, pinned) {
            let timestamp = u64::try_from(now_secs() + pinned.clock_offset).unwrap_or(0);
            let req = signing::Request {
                method: call.method,
                path: &call.path,
                body,
                transmission: tk.as_ref().map(|k| k.header.as_str()),
            };
            let text = signing::canonical(&req, signer, timestamp, &nonce);
            let signature = sign(private, text.as_bytes()).await?;
            let signed = SignedHeaders {
                signer: signer.clone(),
                timestamp,
                nonce,
                signature,
            };
            for (name, value) in signed.to_pairs() {
                add(name, &value)?;
            }
        }
        for (name, value) in &call.headers {
            add(name, value)?;
        }
        let init = RequestInit::new();
        init.set_method(call.method);
        init.set_cache(RequestCache::NoStore);
        if !body.is_empty() {
            add(
                "content-type",
                if call.encrypt_body {
                    "application/octet-stream"
                } else {
                    call.content_type
                },
            )?;
            // Blob bodies upload several times faster than typed arrays in Chromium.
            init.set_body(&blob(&Uint8Array::from(body))?.into());
        }
        init.set_headers(&headers);
        init.set_signal(call.signal);
        let res = fetch(
            self.fetch.as_ref(),
            &(self.base.clone() + &call.path),
            &init,
        )
        .await?;
        Ok((checked(res).await?, tk))
    }

    /// Sends `call` and returns the body, opened when it is encrypted.
    pub(crate) async fn call(&self, call: &Call<'_>) -> Result<Vec<u8>> {
        let (res, tk) = self.send(call).await?;
        let bytes = body_bytes(&res).await?;
        match tk {
            Some(key) if call.encrypted_response => key.open_response(&bytes).await,
            _ => Ok(bytes),
        }
    }
}

/// A `Blob` of `bytes`.
pub(crate) fn blob(bytes: &Uint8Array) -> Result<web_sys::Blob> {
    let parts = js_sys::Array::of1(bytes);
    web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|_| Error::Unsupported("Blob"))
}

/// The whole body.
pub(crate) async fn body_bytes(res: &Response) -> Result<Vec<u8>> {
    let promise = res.array_buffer().map_err(|e| Error::fetch(&e))?;
    let buf = JsFuture::from(promise)
        .await
        .map_err(|e| Error::fetch(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Parses a JSON body; the error names the type, never the content.
pub(crate) fn json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    Ok(oneshare_sdk::json::read(bytes, what)?)
}

/// A 2xx response, or the relay's `{code, message}` as [`Error::Relay`].
async fn checked(res: Response) -> Result<Response> {
    if res.ok() {
        return Ok(res);
    }
    let status = res.status();
    let body = body_bytes(&res).await.unwrap_or_default();
    let (code, message, attempts_left) = match oneshare_sdk::json::from_slice::<ErrorBody>(&body) {
        Ok(b) => (b.code, b.message, b.attempts_left),
        // Not a relay error body (a proxy answered): keep the HTTP status.
        Err(_) => (
            format!("http_{status}"),
            format!("the relay answered {status} {}", res.status_text())
                .trim()
                .to_owned(),
            None,
        ),
    };
    Err(Error::Relay {
        code,
        status,
        message,
        attempts_left,
    })
}

/// Percent-encodes a path segment (ids are base64url, so this is a safeguard).
pub(crate) fn seg(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// Reads a `ReadableStream` reader's next chunk; `None` at the end.
pub(crate) async fn read_chunk(
    reader: &web_sys::ReadableStreamDefaultReader,
) -> Result<Option<Uint8Array>> {
    match read_result(reader.read()).await? {
        (_, true) => Ok(None),
        (value, false) => Ok(Some(value.dyn_into().map_err(|_| Error::Network)?)),
    }
}

/// The `{ value, done }` of a stream reader's `read()` (a default or BYOB
/// reader); a result without `done` counts as the end.
pub(crate) async fn read_result(read: js_sys::Promise) -> Result<(wasm_bindgen::JsValue, bool)> {
    let result = JsFuture::from(read).await.map_err(|e| Error::fetch(&e))?;
    let done = js_sys::Reflect::get(&result, &"done".into())
        .ok()
        .and_then(|d| d.as_bool())
        .unwrap_or(true);
    let value = js_sys::Reflect::get(&result, &"value".into()).map_err(|e| Error::fetch(&e))?;
    Ok((value, done))
}
