//! The oneshare web viewer: the open page (`/s#TOKEN`, feature `open`), the
//! compose page (`/`, feature `compose`), the open page's service worker
//! (feature `download`), its Argon2id worker for passphrase shares (feature
//! `passphrase`) and its request to move a share to this device (feature `transfer`), each its own wasm module built by `cargo xtask viewer`. The protocol is `oneshare-web`'s; this crate decides
//! what to show ([`state`], tested natively) and draws it with thin DOM code.

#[cfg(feature = "compose")]
pub mod qr;

/// Talc instead of the default dlmalloc: the same job in about 4 KB less of
/// every module (1.8 KB gzipped of the open page's).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
pub mod state;
pub mod totp;

#[cfg(all(target_arch = "wasm32", feature = "transfer"))]
mod ask;
#[cfg(all(target_arch = "wasm32", feature = "compose"))]
mod compose;
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "open", feature = "compose", feature = "transfer")
))]
mod dom;
#[cfg(all(target_arch = "wasm32", feature = "open"))]
mod factors;
#[cfg(all(target_arch = "wasm32", feature = "open"))]
mod files;
#[cfg(all(target_arch = "wasm32", feature = "open"))]
mod open;
#[cfg(all(target_arch = "wasm32", feature = "open"))]
mod record;
// The `passphrase` module is `oneshare-web`'s `stretch` export, linked here.
#[cfg(all(target_arch = "wasm32", feature = "passphrase"))]
use oneshare_web as _;
#[cfg(all(target_arch = "wasm32", feature = "download"))]
mod sw;

/// Runs the page's module when it loads.
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "open", feature = "compose", feature = "transfer")
))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() -> Result<(), wasm_bindgen::JsValue> {
    #[cfg(feature = "open")]
    return open::start();
    #[cfg(all(feature = "compose", not(feature = "open")))]
    return compose::start();
    #[cfg(all(feature = "transfer", not(any(feature = "open", feature = "compose"))))]
    return ask::start();
}
