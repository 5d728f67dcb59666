//! Transmission keys (PROTOCOL.md §7) with the AES-GCM in SubtleCrypto: the core
//! gives the HPKE context, the header, the AADs and the envelope layout; the
//! key is a non-extractable `CryptoKey`, so the modules link no AES.

use oneshare_sdk::record::generate_key;
use oneshare_sdk::signing::NONCE_LEN;
use oneshare_sdk::transmission::{self, RelayPublicKey};
use web_sys::CryptoKey;

use crate::error::Result;
use crate::webcrypto::{AesKey, encap, hpke_seal};

/// A fresh transmission key of one request, sealed to the relay.
pub(crate) struct TransmissionKey {
    key: AesKey,
    nonce: [u8; NONCE_LEN],
    /// The `oneshare-transmission-key` header value.
    pub header: String,
}

impl TransmissionKey {
    /// Draws a key for the request with nonce `nonce` and seals it to the
    /// relay's key (`relay`, and `relay_ecdh` imported for WebCrypto's ECDH).
    pub(crate) async fn new(
        relay: &RelayPublicKey,
        relay_ecdh: &CryptoKey,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self> {
        let raw = generate_key()?;
        let encapped = encap(relay_ecdh).await?;
        let context = transmission::transmission_key_context(relay, &encapped);
        let sealed_key = hpke_seal(&context, b"", raw.expose()).await?;
        Ok(Self {
            key: AesKey::import(&raw, true).await?,
            nonce,
            header: transmission::transmission_key_header(relay, &encapped.enc, &sealed_key),
        })
    }

    /// The request body as an envelope under this key.
    pub(crate) async fn seal_request(&self, body: &[u8]) -> Result<Vec<u8>> {
        let aad = transmission::request_aad(&self.nonce);
        self.key.seal_envelope(&aad, body).await
    }

    /// Opens the response body.
    pub(crate) async fn open_response(&self, body: &[u8]) -> Result<Vec<u8>> {
        let aad = transmission::response_aad(&self.nonce);
        Ok(std::mem::take(
            &mut *self.key.open_envelope(&aad, body).await?,
        ))
    }
}
