//! The `passphrase` module: Argon2id at the protocol's parameters
//! (PROTOCOL.md §12.3) for `www/stretch.js`, the worker the open page starts
//! only for a share with a passphrase.

use oneshare_sdk::passphrase::{self, SALT_LEN};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// The stretched passphrase (32 bytes) over the share's salt; the error is a
/// stable code (`passphrase`: empty, too long, or out of memory).
#[wasm_bindgen]
pub fn stretch(passphrase: String, salt: Vec<u8>) -> Result<Vec<u8>, JsValue> {
    let passphrase = Zeroizing::new(passphrase);
    let salt: [u8; SALT_LEN] = salt
        .as_slice()
        .try_into()
        .map_err(|_| JsValue::from_str("passphrase"))?;
    passphrase::stretch(&passphrase, &salt)
        .map(|s| s.expose().to_vec())
        .map_err(|e| JsValue::from_str(e.code()))
}
