//! Passphrase stretching in the browser (PROTOCOL.md §12.3): the browser's own
//! NFC around the core's Argon2id, and the `stretch` export of the small wasm
//! module pages load only for passphrase shares (feature `stretch`): the
//! viewer's `passphrase` module (run by `www/stretch.js`) and the npm package's
//! `oneshare_stretch` (run by `npm/src/stretch-worker.mjs`). Argon2id stays out
//! of every module that does not call [`stretch`].

use core::future::Future;
use core::pin::Pin;
use std::rc::Rc;

use oneshare_sdk::passphrase::{self, Nfc, SALT_LEN};
use oneshare_sdk::secret::Secret;

use crate::Result;

/// `text` in NFC, by the browser's `String.prototype.normalize`: the same
/// result as the core's native `unicode-normalization`, without its tables in
/// the wasm.
pub fn nfc(text: &str) -> Nfc {
    Nfc::normalized(js_sys::JsString::from(text).normalize("NFC").into())
}

/// Argon2id of `text` over a share's salt ([`crate::Link::passphrase_salt`]),
/// in this thread (about a second, 19 MiB).
///
/// # Errors
/// `passphrase`: empty, over 1024 bytes, or out of memory.
pub fn stretch(text: &str, salt: &[u8; SALT_LEN]) -> Result<Secret<32>> {
    Ok(passphrase::stretch(&nfc(text), salt)?)
}

/// Runs [`stretch`] wherever the app keeps Argon2id (a worker with its own
/// module, loaded only when a share has a passphrase): given the passphrase and
/// the share's salt, the stretched passphrase.
pub type Stretcher =
    Rc<dyn Fn(&str, [u8; SALT_LEN]) -> Pin<Box<dyn Future<Output = Result<Secret<32>>>>>>;

/// A new share's passphrase (PROTOCOL.md §12.3) and where its Argon2id runs.
#[derive(Clone)]
pub struct NewPassphrase {
    /// What the recipient must also type, passed on separately. Secret.
    pub text: zeroize::Zeroizing<String>,
    /// Runs Argon2id over it and the new share's salt.
    pub stretch: Stretcher,
}

impl core::fmt::Debug for NewPassphrase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NewPassphrase(..)")
    }
}

/// The module's one export: the stretched passphrase (32 bytes) over the
/// share's salt. The error is a stable code: `passphrase` (empty, too long,
/// or out of memory).
#[cfg(feature = "stretch")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = stretch)]
pub fn stretch_export(
    passphrase: String,
    salt: Vec<u8>,
) -> core::result::Result<Vec<u8>, wasm_bindgen::JsValue> {
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let code = || wasm_bindgen::JsValue::from_str("passphrase");
    let salt: [u8; SALT_LEN] = salt.as_slice().try_into().map_err(|_| code())?;
    stretch(&passphrase, &salt)
        .map(|s| s.expose().to_vec())
        .map_err(|_| code())
}
