//! `oneshare-web`: the browser client of oneshare, in Rust.
//!
//! It reads the link, makes and keeps non-extractable WebCrypto keys in
//! IndexedDB, signs requests, and decrypts records and attachments, around the
//! sans-io core `oneshare-sdk` (every byte layout, nonce, AAD and canonical string
//! comes from there). Browser APIs are taken from `globalThis`, so it runs in a
//! page, a worker and a service worker.
//!
//! Rust/wasm apps (the viewer) call [`Client`] directly; the npm package
//! `@oneshare/sdk` uses the JavaScript API behind the `js` feature.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod download;
mod error;
mod events;
#[cfg(feature = "js")]
pub mod js;
mod link;
mod owner;
mod platform;
mod relay;
mod signals;
mod store;
mod stretch;
mod transfer;
mod transmission;
mod webcrypto;
#[cfg(all(test, target_arch = "wasm32"))]
mod webcrypto_hpke_tests;

pub use client::{Client, DEFAULT_STORE, DeviceShare, OpenOptions, Opened, Status};
pub use download::{Download, DownloadOptions, Progress};
pub use error::{Error, Result};
pub use events::Events;
pub use link::{Link, take_link_from_location};
pub use oneshare_sdk::api::{Event, EventKind};
pub use oneshare_sdk::record::{Attachment, Field, FieldType, Record};
pub use owner::{CreateOptions, Created, NewFile, OwnedShare, PendingShare, UploadProgress};
pub use stretch::{NewPassphrase, Stretcher, nfc, stretch};
pub use transfer::{IncomingTransfer, TransferProgress};
pub use webcrypto::AesKey;
