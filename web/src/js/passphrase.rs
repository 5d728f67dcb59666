//! Argon2id for the npm package, loaded on demand: `npm/src/stretch.mjs` runs
//! the small `oneshare_stretch` module ([`crate::stretch`]) in a worker it
//! starts only when a share has a passphrase, so this module carries neither
//! Argon2id nor the Unicode tables.

use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use oneshare_sdk::passphrase::SALT_LEN;
use oneshare_sdk::secret::Secret;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::stretch::Stretcher;
use crate::{Error, Result};

// Resolved by the browser (or a bundler) relative to `dist/oneshare_web.js`.
#[wasm_bindgen(raw_module = "../src/stretch.mjs")]
extern "C" {
    /// Resolves to the 32 stretched bytes; rejects with the module's code
    /// (`passphrase`) or, when the module or its worker cannot load, another value.
    #[wasm_bindgen(js_name = stretch)]
    fn stretch_elsewhere(passphrase: &str, salt: &Uint8Array) -> Promise;
}

/// The passphrase stretched over `salt` in the on-demand module.
///
/// # Errors
/// `passphrase` (empty, too long, out of memory), `passphrase_module` (the
/// module or its worker could not be loaded).
pub async fn stretch(text: &str, salt: [u8; SALT_LEN]) -> Result<Secret<32>> {
    let answer = JsFuture::from(stretch_elsewhere(text, &Uint8Array::from(&salt[..])))
        .await
        .map_err(|e| match e.as_string().as_deref() {
            Some("passphrase") => Error::Core(oneshare_sdk::Error::Passphrase(
                "the passphrase is empty, longer than 1024 bytes, or could not be stretched",
            )),
            _ => Error::PassphraseModule,
        })?;
    let bytes = Uint8Array::new(&answer).to_vec();
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Secret::new)
        .map_err(|_| Error::PassphraseModule)
}

/// [`stretch`] as a [`Stretcher`] for a new share's passphrase.
pub fn stretcher() -> Stretcher {
    Rc::new(|text, salt| {
        let text = zeroize::Zeroizing::new(text.to_owned());
        Box::pin(async move { stretch(&text, salt).await })
    })
}
