//! Objects that keep secrets inside wasm memory: the token's derived keys and a
//! per-request transmission key. JavaScript holds only a handle; call `free()`
//! (or let the `FinalizationRegistry` do it) when done.

use wasm_bindgen::prelude::*;

use super::convert::{JsResult, array_of, bytes32, js_err};
use crate::api;
use crate::record;
use crate::secret::Key256;
use crate::signing::PublicKey;
use crate::token::{ShareKeys, Token};
use crate::transmission::{self, RelayPublicKey};

/// What a link's token derives (share id, wrap key, bind secret). The wrap key
/// and bind secret never leave wasm memory except inside a bind body.
#[wasm_bindgen]
pub struct ShareSecrets {
    token: Token,
    keys: ShareKeys,
}

impl ShareSecrets {
    /// The derived keys.
    pub fn keys(&self) -> &ShareKeys {
        &self.keys
    }
}

#[wasm_bindgen]
impl ShareSecrets {
    /// Parses a link (`…/s#T`, `…/s%23T`, `…/s%2523T`, or a bare token).
    ///
    /// # Errors
    /// `invalid_link` with a message the user can act on.
    #[wasm_bindgen(js_name = fromLink)]
    pub fn from_link(link: &str) -> JsResult<ShareSecrets> {
        let token = Token::parse(link).map_err(js_err)?;
        let keys = token.derive();
        Ok(Self { token, keys })
    }

    /// A new random token (sender side).
    ///
    /// # Errors
    /// `random`.
    pub fn generate() -> JsResult<ShareSecrets> {
        let token = Token::generate().map_err(js_err)?;
        let keys = token.derive();
        Ok(Self { token, keys })
    }

    /// The public share id (base64url).
    #[wasm_bindgen(getter, js_name = shareId)]
    pub fn share_id(&self) -> String {
        self.keys.share_id.to_string()
    }

    /// The share link `{base}/s#{token}`. Secret: hand it only to the recipient.
    pub fn link(&self, base: &str) -> String {
        self.token.to_link(base)
    }

    /// `SHA-256(bind_secret)`, what the relay stores.
    pub fn verifier(&self) -> Vec<u8> {
        crate::token::verifier(&self.keys.bind_secret).to_vec()
    }

    /// The JSON body of a bind request for `device_key` (65-byte raw P-256 public
    /// key), to be sealed under a transmission key.
    ///
    /// # Errors
    /// `invalid_key`, `json`.
    #[wasm_bindgen(js_name = bindRequest)]
    pub fn bind_request(&self, device_key: &[u8]) -> JsResult<Vec<u8>> {
        super::convert::to_json(&api::BindRequest {
            bind_secret: *self.keys.bind_secret.expose(),
            device_key: PublicKey::from_bytes(device_key).map_err(js_err)?,
            evidence: None,
        })
    }

    /// Wraps a record key under this token's wrap key.
    ///
    /// # Errors
    /// `length`, `random`.
    #[wasm_bindgen(js_name = wrapRecordKey)]
    pub fn wrap_record_key(&self, record_key: &[u8]) -> JsResult<Vec<u8>> {
        record::wrap_key(
            &self.keys.wrap_key,
            &self.keys.share_id,
            &bytes32(record_key, "record key")?,
        )
        .map_err(js_err)
    }

    /// Unwraps the record key. The caller imports it as a non-extractable
    /// `CryptoKey` and overwrites the returned bytes.
    ///
    /// # Errors
    /// `length`, `wrong_key` (the link is not for this share), `decrypt`.
    #[wasm_bindgen(js_name = unwrapRecordKey)]
    pub fn unwrap_record_key(&self, wrapped: &[u8]) -> JsResult<Vec<u8>> {
        record::unwrap_key(&self.keys.wrap_key, &self.keys.share_id, wrapped)
            .map(|k| k.expose().to_vec())
            .map_err(js_err)
    }
}

/// A fresh transmission key sealed to the pinned relay key (one per request).
#[wasm_bindgen]
pub struct Transmission {
    key: Key256,
    header: String,
}

#[wasm_bindgen]
impl Transmission {
    /// Draws a random transmission key and seals it to the relay's 65-byte HPKE
    /// public key.
    ///
    /// # Errors
    /// `invalid_key`, `hpke`, `random`.
    #[wasm_bindgen(constructor)]
    pub fn new(relay_public_key: &[u8]) -> JsResult<Transmission> {
        let relay = RelayPublicKey::from_bytes(relay_public_key).map_err(js_err)?;
        let key = record::generate_key().map_err(js_err)?;
        let header = transmission::seal_transmission_key(&relay, &key).map_err(js_err)?;
        Ok(Self { key, header })
    }

    /// A transmission key from raw bytes (tests and vectors).
    ///
    /// # Errors
    /// `invalid_key`, `hpke`, `length`.
    #[wasm_bindgen(js_name = withKey)]
    pub fn with_key(relay_public_key: &[u8], key: &[u8]) -> JsResult<Transmission> {
        let relay = RelayPublicKey::from_bytes(relay_public_key).map_err(js_err)?;
        let key = bytes32(key, "transmission key")?;
        let header = transmission::seal_transmission_key(&relay, &key).map_err(js_err)?;
        Ok(Self { key, header })
    }

    /// The `oneshare-transmission-key` header value.
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> String {
        self.header.clone()
    }

    /// Seals a request body, bound to the request nonce.
    ///
    /// # Errors
    /// `length`, `random`.
    #[wasm_bindgen(js_name = sealRequest)]
    pub fn seal_request(&self, nonce: &[u8], body: &[u8]) -> JsResult<Vec<u8>> {
        transmission::seal_request(&self.key, &array_of(nonce, "nonce")?, body).map_err(js_err)
    }

    /// Opens a response body, which must answer the request with `nonce`.
    ///
    /// # Errors
    /// `wrong_key`, `decrypt`, `malformed`, `length`.
    #[wasm_bindgen(js_name = openResponse)]
    pub fn open_response(&self, nonce: &[u8], body: &[u8]) -> JsResult<Vec<u8>> {
        transmission::open_response(&self.key, &array_of(nonce, "nonce")?, body).map_err(js_err)
    }
}
