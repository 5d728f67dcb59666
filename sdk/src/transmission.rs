//! Transmission keys (Keeper step 9): a layer of encryption between client and
//! relay, under TLS, for requests and responses that carry key material or record
//! ciphertext.
//!
//! The client draws a random AES-256 transmission key `K_t` and seals it to the
//! relay's published key with HPKE (RFC 9180, base mode, DHKEM(P-256,
//! HKDF-SHA256), HKDF-SHA256, AES-256-GCM):
//!
//! ```text
//! info   = "oneshare/v1/transmission-key" || 0x00 || key_id
//! header = key_id "." base64url(enc (65 bytes) || HPKE ciphertext of K_t (48 bytes))
//! ```
//!
//! The HPKE itself is [`crate::hpke`]: natively the DH runs in `p256` (sealing)
//! or the relay's [`Backend`] (opening); in the browser the client runs the
//! sender's DH in WebCrypto, and the AES-GCM too: it seals the key under
//! [`transmission_key_context`] with SubtleCrypto and writes the header with
//! [`transmission_key_header`] (natively, [`seal_transmission_key_with`] does
//! both with `aes-gcm`). Request and response bodies are envelopes
//! ([`request_aad`], [`response_aad`]) that the browser seals and opens with
//! SubtleCrypto too.
//!
//! Bodies are envelopes under `K_t` with AAD
//! `"oneshare/v1/request" || 0x00 || nonce` and responses with
//! `"oneshare/v1/response" || 0x00 || nonce`, where `nonce` is the signed
//! request's nonce: a response cannot be replayed to another request.

use sha2::{Digest, Sha256};

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Active, Backend};
use crate::encoding::b64;
#[cfg(not(target_arch = "wasm32"))]
use crate::encoding::unb64;
use crate::envelope::{self, aad};
#[cfg(not(target_arch = "wasm32"))]
use crate::hpke::dhkem;
use crate::hpke::{self, Encapped, KeySchedule};
use crate::secret::Key256;
#[cfg(not(target_arch = "wasm32"))]
use crate::secret::Secret;
use crate::signing::{NONCE_LEN, PublicKey};
use crate::{Error, Result};

/// HPKE info label.
pub const INFO_LABEL: &str = "oneshare/v1/transmission-key";
/// AAD label of request bodies.
pub const REQUEST_LABEL: &str = "oneshare/v1/request";
/// AAD label of response bodies.
pub const RESPONSE_LABEL: &str = "oneshare/v1/response";
/// Length of the HPKE encapsulated key (uncompressed P-256 point).
pub const ENC_LEN: usize = hpke::ENC_LEN;
/// Length of the sealed transmission key (32 + 16-byte tag).
pub const SEALED_KEY_LEN: usize = 32 + hpke::TAG_LEN;

/// The relay's published key: what clients pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayPublicKey {
    /// Key id: base64url of the first 8 bytes of SHA-256 of the public key.
    pub key_id: String,
    /// The public key as 65 uncompressed SEC1 bytes.
    pub public_key: [u8; 65],
}

impl RelayPublicKey {
    /// Builds from the public key bytes, computing the key id.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the bytes are not a P-256 point (in wasm: not
    /// of its form; the browser client then checks the point with WebCrypto
    /// before it pins the key).
    pub fn from_bytes(public_key: &[u8]) -> Result<Self> {
        let bytes = PublicKey::from_bytes(public_key)
            .map_err(|_| Error::InvalidKey("relay"))?
            .to_bytes();
        Ok(Self {
            key_id: key_id(&bytes),
            public_key: bytes,
        })
    }
}

fn key_id(public_key: &[u8]) -> String {
    b64(&Sha256::digest(public_key)[..8])
}

/// The HPKE `info` of a transmission key sealed to key `key_id`.
pub fn info(key_id: &str) -> Vec<u8> {
    aad(INFO_LABEL, &[key_id.as_bytes()])
}

/// The relay's HPKE key pair, prepared for backend `B` (by default the
/// [`Active`] one). The public key and key id are computed once, here.
#[cfg(not(target_arch = "wasm32"))]
pub struct RelayKeyPair<B: Backend = Active> {
    private: Secret<32>,
    prepared: B::HpkeKey,
    public: RelayPublicKey,
}

#[cfg(not(target_arch = "wasm32"))]
impl<B: Backend> Clone for RelayKeyPair<B> {
    fn clone(&self) -> Self {
        Self {
            private: self.private.clone(),
            prepared: self.prepared.clone(),
            public: self.public.clone(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<B: Backend> core::fmt::Debug for RelayKeyPair<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RelayKeyPair({}, private redacted)", self.public.key_id)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl RelayKeyPair {
    /// Derives a key pair from 32 bytes of input keying material (RFC 9180
    /// §7.1.3 DeriveKeyPair).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] (not expected for 32-byte input).
    pub fn derive(ikm: &Secret<32>) -> Result<Self> {
        let (private, _) = dhkem::derive_key_pair(ikm.expose())?;
        Self::from_private_bytes(&private)
    }

    /// Generates a fresh key pair.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        let (private, _) = dhkem::generate_key_pair()?;
        Self::from_private_bytes(&private)
    }

    /// Imports a 32-byte private scalar.
    ///
    /// # Errors
    /// [`Error::InvalidKey`].
    pub fn from_private_bytes(bytes: &Secret<32>) -> Result<Self> {
        Self::for_backend(bytes)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<B: Backend> RelayKeyPair<B> {
    /// Imports a 32-byte private scalar for backend `B` (for tests and
    /// benchmarks that compare backends; [`RelayKeyPair::from_private_bytes`]
    /// uses the [`Active`] one).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for zero or a value not below the group order.
    pub fn for_backend(bytes: &Secret<32>) -> Result<Self> {
        // The scalar is checked and its public key computed by RustCrypto, once,
        // whichever backend opens.
        let public = dhkem::public_key(bytes).map_err(|_| Error::InvalidKey("relay"))?;
        Ok(Self {
            private: bytes.clone(),
            prepared: B::hpke_key(bytes, &public)?,
            public: RelayPublicKey::from_bytes(&public)?,
        })
    }

    /// Exports the private scalar. Secret: store with 0600 permissions.
    pub fn private_bytes(&self) -> Secret<32> {
        self.private.clone()
    }

    /// The public half.
    pub fn public(&self) -> &RelayPublicKey {
        &self.public
    }

    /// Opens a `oneshare-transmission-key` header addressed to this key.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] for a malformed value or another key id,
    /// [`Error::Hpke`] when it does not open.
    pub fn open_transmission_key(&self, header: &str) -> Result<Key256> {
        let bad = || Error::InvalidHeader(crate::signing::HEADER_TRANSMISSION);
        let (kid, sealed) = header.split_once('.').ok_or_else(bad)?;
        if kid != self.public.key_id {
            return Err(bad());
        }
        let sealed = unb64(sealed, "transmission key").map_err(|_| bad())?;
        if sealed.len() != ENC_LEN + SEALED_KEY_LEN {
            return Err(bad());
        }
        let (enc, ct) = sealed.split_at(ENC_LEN);
        let key = B::hpke_open(&self.prepared, enc, &info(kid), b"", ct)?;
        let bytes: [u8; 32] = key.as_slice().try_into().map_err(|_| Error::Hpke)?;
        Ok(Secret::new(bytes))
    }
}

/// Reads the key id of a `oneshare-transmission-key` header (to pick among the
/// relay's current and previous keys during rotation).
pub fn header_key_id(header: &str) -> Option<&str> {
    header.split_once('.').map(|(kid, _)| kid)
}

/// Seals `transmission_key` to the relay and returns the header value, with a
/// fresh ephemeral key from `p256`.
///
/// # Errors
/// [`Error::InvalidKey`] if the relay key is not a point on the curve,
/// [`Error::Random`].
#[cfg(not(target_arch = "wasm32"))]
pub fn seal_transmission_key(relay: &RelayPublicKey, transmission_key: &Key256) -> Result<String> {
    let encapped = dhkem::encap(&relay.public_key).map_err(|e| match e {
        Error::Hpke => Error::InvalidKey("relay"),
        other => other,
    })?;
    Ok(seal_transmission_key_with(
        relay,
        transmission_key,
        &encapped,
    ))
}

/// Seals `transmission_key` to the relay after the caller's `Encap` (the
/// ephemeral key and `DH(skE, pkR)`, e.g. from WebCrypto), and returns the
/// header value `key_id "." base64url(enc || ciphertext)`.
pub fn seal_transmission_key_with(
    relay: &RelayPublicKey,
    transmission_key: &Key256,
    encapped: &Encapped,
) -> String {
    let sealed = transmission_key_context(relay, encapped).seal(b"", transmission_key.expose());
    transmission_key_header(relay, &encapped.enc, &sealed)
}

/// The HPKE sender context that seals a transmission key to `relay` after the
/// caller's `Encap`, for clients whose AES-GCM runs elsewhere (SubtleCrypto):
/// AES-256-GCM of the 32-byte key under its `key`, with its `base_nonce` and an
/// empty AAD, gives the `sealed_key` of [`transmission_key_header`].
pub fn transmission_key_context(relay: &RelayPublicKey, encapped: &Encapped) -> KeySchedule {
    hpke::setup_base_s(encapped, &relay.public_key, &info(&relay.key_id))
}

/// The header value `key_id "." base64url(enc || sealed_key)`, where
/// `sealed_key` is the HPKE ciphertext of the transmission key
/// ([`SEALED_KEY_LEN`] bytes).
pub fn transmission_key_header(
    relay: &RelayPublicKey,
    enc: &[u8; ENC_LEN],
    sealed_key: &[u8],
) -> String {
    let mut sealed = Vec::with_capacity(ENC_LEN + sealed_key.len());
    sealed.extend_from_slice(enc);
    sealed.extend_from_slice(sealed_key);
    format!("{}.{}", relay.key_id, b64(sealed))
}

/// The AAD of a request body sent with request nonce `nonce` (for clients that
/// encrypt with their own AES, e.g. SubtleCrypto).
pub fn request_aad(nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    aad(REQUEST_LABEL, &[nonce])
}

/// The AAD of a response body to the request with nonce `nonce`.
pub fn response_aad(nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    aad(RESPONSE_LABEL, &[nonce])
}

/// Encrypts a request body with a caller-chosen envelope nonce (for vectors).
/// Never reuse `envelope_nonce` with the same key; use [`seal_request`].
pub fn seal_request_with_nonce(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    envelope_nonce: [u8; envelope::NONCE_LEN],
    body: &[u8],
) -> Vec<u8> {
    envelope::seal_with_nonce(key, envelope_nonce, &request_aad(nonce), body)
}

/// Encrypts a request body under the transmission key.
///
/// # Errors
/// [`Error::Random`].
pub fn seal_request(key: &Key256, nonce: &[u8; NONCE_LEN], body: &[u8]) -> Result<Vec<u8>> {
    envelope::seal(key, &request_aad(nonce), body)
}

/// Decrypts a request body.
///
/// # Errors
/// Envelope errors.
pub fn open_request(key: &Key256, nonce: &[u8; NONCE_LEN], body: &[u8]) -> Result<Vec<u8>> {
    envelope::open(key, &request_aad(nonce), body)
}

/// Encrypts a response body with a caller-chosen envelope nonce (for vectors).
/// Never reuse `envelope_nonce` with the same key; use [`seal_response`].
pub fn seal_response_with_nonce(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    envelope_nonce: [u8; envelope::NONCE_LEN],
    body: &[u8],
) -> Vec<u8> {
    envelope::seal_with_nonce(key, envelope_nonce, &response_aad(nonce), body)
}

/// Encrypts a response body under the transmission key.
///
/// # Errors
/// [`Error::Random`].
pub fn seal_response(key: &Key256, nonce: &[u8; NONCE_LEN], body: &[u8]) -> Result<Vec<u8>> {
    envelope::seal(key, &response_aad(nonce), body)
}

/// Decrypts a response body.
///
/// # Errors
/// Envelope errors.
pub fn open_response(key: &Key256, nonce: &[u8; NONCE_LEN], body: &[u8]) -> Result<Vec<u8>> {
    envelope::open(key, &response_aad(nonce), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_failures() {
        let relay = RelayKeyPair::derive(&Secret::new([1; 32])).unwrap();
        let again = RelayKeyPair::from_private_bytes(&relay.private_bytes()).unwrap();
        assert_eq!(again.public(), relay.public());
        let tk = Secret::new([9; 32]);
        let header = seal_transmission_key(relay.public(), &tk).unwrap();
        assert_eq!(header_key_id(&header), Some(relay.public().key_id.as_str()));
        assert_eq!(relay.open_transmission_key(&header).unwrap(), tk);

        let other = RelayKeyPair::derive(&Secret::new([2; 32])).unwrap();
        assert!(matches!(
            other.open_transmission_key(&header),
            Err(Error::InvalidHeader(_))
        ));
        let forged = format!(
            "{}.{}",
            other.public().key_id,
            header.split_once('.').unwrap().1
        );
        assert_eq!(other.open_transmission_key(&forged), Err(Error::Hpke));
        assert!(relay.open_transmission_key("nodot").is_err());
        assert!(
            relay
                .open_transmission_key(&header[..header.len() - 2])
                .is_err()
        );
    }

    #[test]
    fn responses_are_bound_to_the_request_nonce() {
        let tk = Secret::new([9; 32]);
        let sealed = seal_response(&tk, &[1; 16], b"ok").unwrap();
        assert_eq!(open_response(&tk, &[1; 16], &sealed).unwrap(), b"ok");
        assert_eq!(open_response(&tk, &[2; 16], &sealed), Err(Error::Decrypt));
        assert_eq!(open_request(&tk, &[1; 16], &sealed), Err(Error::Decrypt));
    }
}
