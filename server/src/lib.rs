//! The oneshare relay: stores ciphertext, hashes and public keys, never a key that
//! opens a record. The protocol rules live in `oneshare-sdk`; this crate is the
//! HTTP surface ([`http::app`], [`http::serve`]) over a [`store::Store`].

pub mod auth;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod slots;
pub mod state;
pub mod store;
pub mod sweeper;
pub mod testclock;
pub mod www;

pub use error::{Error, Result};
pub use http::{app, serve};
pub use state::{AppState, Clock};
