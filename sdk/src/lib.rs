#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
#[cfg(not(target_arch = "wasm32"))]
pub mod backend;
pub mod duration;
pub mod encoding;
pub mod envelope;
pub mod error;
pub mod factor;
pub mod fingerprint;
pub mod guard;
pub mod hpke;
pub mod json;
pub mod lifetime;
pub mod open_code;
pub mod owner;
pub mod parts;
pub mod passphrase;
pub mod random;
pub mod record;
#[cfg(not(target_arch = "wasm32"))]
pub mod request;
pub mod risk;
pub mod secret;
pub mod signing;
pub mod sse;
pub mod stream;
pub mod token;
pub mod transfer;
pub mod transmission;

pub use error::{Error, Result};
