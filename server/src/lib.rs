//! The oneshare relay: stores ciphertext, hashes and public keys, never a key that
//! opens a record.

pub mod error;
pub mod store;

pub use error::{Error, Result};
