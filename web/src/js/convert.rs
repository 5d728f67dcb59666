//! Values and errors at the JavaScript boundary.

use js_sys::{Object, Reflect};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::Error;

/// Result of an export: the error is an `OneshareError` (see `npm/index.mjs`).
pub type JsResult<T> = core::result::Result<T, JsValue>;

/// A JavaScript `Error` named `OneshareError` with the stable `code` (and the
/// HTTP `status` of a relay error). The npm glue's `OneshareError` class
/// recognises these with `instanceof`.
pub fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("OneshareError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    if let Some(status) = e.status() {
        let _ = Reflect::set(&err, &"status".into(), &status.into());
    }
    if let Some(left) = e.attempts_left() {
        // At most 5.
        #[allow(clippy::cast_precision_loss)]
        let _ = Reflect::set(&err, &"attemptsLeft".into(), &(left as f64).into());
    }
    err.into()
}

/// Maps a Rust result.
pub fn js<T>(r: crate::Result<T>) -> JsResult<T> {
    r.map_err(|e| js_error(&e))
}

/// A plain object from a serializable value (through JSON: the core's serde
/// types, without a second serializer in the module).
pub fn to_js<T: Serialize>(value: &T) -> JsResult<JsValue> {
    let text = oneshare_sdk::json::to_string(value)
        .map_err(|_| js_error(&Error::Argument("value for JavaScript")))?;
    js_sys::JSON::parse(&text).map_err(|_| js_error(&Error::Argument("value for JavaScript")))
}

/// Field `name` of an options object (`undefined` when absent).
pub fn field(options: &JsValue, name: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Field `name` as a given JavaScript type, if present and of that type.
pub fn field_as<T: JsCast>(options: &JsValue, name: &str) -> Option<T> {
    field(options, name).dyn_into().ok()
}

/// Calls a progress callback with `{loaded, total, attachment?}`.
pub fn report(callback: &js_sys::Function, loaded: u64, total: u64, attachment: Option<&str>) {
    let p = Object::new();
    // Byte counts of real files stay far below 2^53.
    #[allow(clippy::cast_precision_loss)]
    {
        let _ = Reflect::set(&p, &"loaded".into(), &(loaded as f64).into());
        let _ = Reflect::set(&p, &"total".into(), &(total as f64).into());
    }
    if let Some(name) = attachment {
        let _ = Reflect::set(&p, &"attachment".into(), &name.into());
    }
    let _ = callback.call1(&JsValue::UNDEFINED, &p);
}

/// A non-negative integer from a JavaScript number.
pub fn whole(n: f64, what: &'static str) -> JsResult<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE {
        // Checked above: an integer in 0..=2^53-1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(js_error(&Error::Argument(what)))
    }
}
