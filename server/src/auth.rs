//! Signed requests (PROTOCOL.md §6): the [`Signed`] extractor reads the signature
//! headers and the exact body; [`Signed::verify`] checks the signature over the
//! method, the path and query as received, the body digest and the transmission
//! header and the timestamp window, and gives the request's [`Nonce`], which the
//! store records in the same transaction as the request's effect (replays fail
//! across instances).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use oneshare_sdk::secret::Key256;
use oneshare_sdk::signing::{
    self, HEADER_TRANSMISSION, MAX_SKEW_SECS, PublicKey, SignedHeaders, Signer,
};
use oneshare_sdk::transmission;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::Nonce;

/// A signed request, not yet verified.
#[derive(Debug)]
pub struct Signed {
    /// The parsed signature headers.
    pub headers: SignedHeaders,
    method: String,
    path: String,
    transmission: Option<String>,
    /// The body exactly as received.
    pub body: Bytes,
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// How long a body may take to arrive: `body_timeout_secs` for a small one, plus
/// a second per `min_body_bytes_per_sec` of its declared length, so a client that
/// trickles a small JSON body holds its slot for seconds, not the whole request
/// timeout, while a large attachment part still has time to upload.
fn body_deadline(state: &AppState, headers: &HeaderMap) -> Duration {
    let l = &state.config.limits;
    let len = header(headers, "content-length")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let secs = l
        .body_timeout_secs
        .max(1)
        .saturating_add(len / l.min_body_bytes_per_sec.max(1));
    Duration::from_secs(secs)
}

impl FromRequest<AppState> for Signed {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let headers = SignedHeaders::parse(|name| header(req.headers(), name))?;
        let transmission = header(req.headers(), HEADER_TRANSMISSION).map(str::to_owned);
        let method = req.method().as_str().to_owned();
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
        let deadline = body_deadline(state, req.headers());
        let read = tokio::time::timeout(deadline, Bytes::from_request(req, state));
        let body = read.await.map_err(|_| Error::Timeout)?.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge("the request body is larger than this route allows")
            } else {
                Error::BadRequest("the request body could not be read".into())
            }
        })?;
        Ok(Self {
            headers,
            method,
            path,
            transmission,
            body,
        })
    }
}

impl Signed {
    /// Verifies with `key`; the nonce to record with the request's effect
    /// (a store write) or alone ([`crate::store::Store::record_nonce`]).
    ///
    /// # Errors
    /// `stale_timestamp` or `bad_signature`.
    pub fn verify(&self, state: &AppState, key: &PublicKey) -> Result<Nonce> {
        let req = signing::Request {
            method: &self.method,
            path: &self.path,
            body: &self.body,
            transmission: self.transmission.as_deref(),
        };
        signing::verify(key, &self.headers, &req, state.now())?;
        Ok(Nonce {
            signer: self.headers.signer.to_string(),
            nonce: self.headers.nonce,
            expires_at: self
                .headers
                .timestamp
                .saturating_add(MAX_SKEW_SECS)
                .saturating_add(60),
        })
    }

    /// Verifies an owner signature; returns the owner key and the nonce.
    ///
    /// # Errors
    /// Not an owner signer, or verification failed.
    pub fn owner(&self, state: &AppState) -> Result<(PublicKey, Nonce)> {
        let Signer::Owner(key) = &self.headers.signer else {
            return Err(Error::Forbidden(
                "this request must be signed by an owner key",
            ));
        };
        Ok((*key, self.verify(state, key)?))
    }

    /// Verifies an admin signature (the key must be configured); returns the nonce.
    ///
    /// # Errors
    /// Not an admin signer, unknown key, or verification failed.
    pub fn admin(&self, state: &AppState) -> Result<Nonce> {
        let Signer::Admin(key) = &self.headers.signer else {
            return Err(Error::Forbidden(
                "this request must be signed by an admin key",
            ));
        };
        if !state.config.admin_keys.contains(key) {
            return Err(Error::Forbidden("this key is not an admin of this relay"));
        }
        self.verify(state, key)
    }

    /// The transmission key of this request.
    ///
    /// # Errors
    /// Missing header or one that does not open.
    pub fn transmission_key(&self, state: &AppState) -> Result<Key256> {
        let h = self
            .transmission
            .as_deref()
            .ok_or(Error::InvalidHeader(HEADER_TRANSMISSION))?;
        state.keys.open_header(h, state.now())
    }

    /// Opens the encrypted body and parses its JSON.
    ///
    /// # Errors
    /// The envelope does not open or the JSON does not match.
    pub fn open_json<T: DeserializeOwned>(&self, key: &Key256) -> Result<T> {
        let plain = zeroize::Zeroizing::new(
            transmission::open_request(key, &self.headers.nonce, &self.body)
                .map_err(|_| Error::BadRequest("the encrypted body does not open".into()))?,
        );
        json(&plain)
    }

    /// Encrypts a JSON answer to this request.
    ///
    /// # Errors
    /// Serialization or randomness failure.
    pub fn seal_json<T: serde::Serialize>(&self, key: &Key256, value: &T) -> Result<Vec<u8>> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(Error::internal)?);
        transmission::seal_response(key, &self.headers.nonce, &plain).map_err(Error::internal)
    }
}

/// Parses a JSON body; failures answer 400 in the common error shape. The message
/// names the position or the missing/unknown field, never a value (bodies may be
/// secret).
///
/// # Errors
/// Invalid JSON or a shape that does not match.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("syntax error at line {} column {}", e.line(), e.column())
            }
            _ if text.starts_with("missing field") || text.starts_with("unknown field") => text
                .split(" at line")
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
            _ => "a value has the wrong type or format".to_owned(),
        };
        Error::BadRequest(format!("invalid JSON body: {what}"))
    })
}
