//! The browser APIs this client uses, taken from `globalThis` so the same code
//! runs in a window, a dedicated worker and a service worker.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, Result};

fn global_property(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `crypto.subtle`, or [`Error::InsecureContext`].
pub(crate) fn subtle() -> Result<web_sys::SubtleCrypto> {
    global_property("crypto")
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
        .map(|c| c.subtle())
        .ok_or(Error::InsecureContext)
}

/// `indexedDB`, or [`Error::StorageUnavailable`].
pub(crate) fn indexed_db() -> Result<web_sys::IdbFactory> {
    global_property("indexedDB")
        .and_then(|f| f.dyn_into().ok())
        .ok_or(Error::StorageUnavailable)
}

/// `window` when this is a page (for `location` and `history`).
pub(crate) fn window() -> Option<web_sys::Window> {
    js_sys::global().dyn_into().ok()
}

/// `fetch(url, init)`: the given function (an app's instrumented fetch), else the
/// global scope's, looked up at call time.
pub(crate) async fn fetch(
    with: Option<&Function>,
    url: &str,
    init: &web_sys::RequestInit,
) -> Result<web_sys::Response> {
    let fetch: Function = match with {
        Some(f) => f.clone(),
        None => global_property("fetch")
            .and_then(|f| f.dyn_into().ok())
            .ok_or(Error::Unsupported("fetch"))?,
    };
    let promise: Promise = fetch
        .call2(&js_sys::global(), &JsValue::from_str(url), init)
        .map_err(|e| Error::fetch(&e))?
        .unchecked_into();
    let response = JsFuture::from(promise)
        .await
        .map_err(|e| Error::fetch(&e))?;
    response.dyn_into().map_err(|_| Error::Network)
}

/// Awaits a promise-returning WebCrypto call.
pub(crate) async fn crypto_call(
    operation: &'static str,
    call: core::result::Result<Promise, JsValue>,
) -> Result<JsValue> {
    let promise = call.map_err(|e| Error::webcrypto(operation, &e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| Error::webcrypto(operation, &e))
}

/// Random bytes from the core's generator (`crypto.getRandomValues`).
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    Ok(oneshare_sdk::random::bytes()?)
}

/// Seconds since the Unix epoch by the local clock.
pub(crate) fn now_secs() -> i64 {
    // Date.now() is an integer number of milliseconds well inside i64.
    #[allow(clippy::cast_possible_truncation)]
    let secs = (js_sys::Date::now() / 1000.0).floor() as i64;
    secs
}
