//! Type conversions and error mapping at the JavaScript boundary.

use wasm_bindgen::prelude::*;

use crate::Error;
use crate::secret::{Key256, Secret};

/// Result of a binding: the error is a JavaScript `Error` with a `code`.
pub type JsResult<T> = Result<T, JsValue>;

/// A JavaScript `Error` with a stable `code` property.
pub fn coded(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

/// Maps a core error to a coded JavaScript error (messages never hold secrets).
pub fn js_err(e: Error) -> JsValue {
    coded(e.code(), &e.to_string())
}

/// A `Uint8Array` copy of `bytes`.
pub fn array(bytes: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(bytes).into()
}

/// A plain object from name/value pairs.
pub fn object(fields: &[(&str, JsValue)]) -> JsResult<JsValue> {
    let obj = js_sys::Object::new();
    for (name, value) in fields {
        js_sys::Reflect::set(&obj, &JsValue::from_str(name), value)?;
    }
    Ok(obj.into())
}

/// A fixed-size array from a slice, or `length`.
pub fn array_of<const N: usize>(bytes: &[u8], what: &'static str) -> JsResult<[u8; N]> {
    bytes.try_into().map_err(|_| {
        js_err(Error::Length {
            what,
            expected: N,
            got: bytes.len(),
        })
    })
}

/// A 32-byte key, or `length`.
pub fn bytes32(bytes: &[u8], what: &'static str) -> JsResult<Key256> {
    array_of::<32>(bytes, what).map(Secret::new)
}

/// A non-negative integer from a JavaScript number (exact below 2^53).
pub fn u64_from(n: f64, what: &'static str) -> JsResult<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE {
        // Checked above: an integer in 0..=2^53-1, exactly representable.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(coded(
            "length",
            &format!("{what} must be a non-negative integer"),
        ))
    }
}

/// Serializes to a plain JavaScript value (objects, not `Map`s).
pub fn to_js<T: serde::Serialize>(value: &T) -> JsResult<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|_| coded("json", "value could not be converted for JavaScript"))
}

/// Parses an API body; the error names the type, never the content.
pub fn from_json<T: serde::de::DeserializeOwned>(json: &[u8], what: &'static str) -> JsResult<T> {
    serde_json::from_slice(json).map_err(|e| {
        js_err(Error::Json {
            what,
            reason: format!("{:?} error at column {}", e.classify(), e.column()),
        })
    })
}

/// Serializes an API body.
pub fn to_json<T: serde::Serialize>(value: &T) -> JsResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|_| coded("json", "request body could not be encoded"))
}
