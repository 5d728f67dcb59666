//! The RustCrypto backend: `p256` for ECDSA and for the DH of the HPKE open.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};

use super::Backend;
use crate::hpke::{ENC_LEN, SharedSecret, dhkem};
use crate::secret::Secret;
use crate::signing::PublicKey;
use crate::{Error, Result};

/// RustCrypto: pure Rust, every native target, the reference implementation.
#[derive(Debug, Clone, Copy)]
pub enum RustCrypto {}

/// The relay's private scalar with its public key encoded once.
#[derive(Clone)]
pub struct Recipient {
    private: Secret<32>,
    public: [u8; ENC_LEN],
}

impl Backend for RustCrypto {
    type HpkeKey = Recipient;

    fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<()> {
        let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
        VerifyingKey::from_sec1_bytes(&key.to_bytes())
            .and_then(|k| k.verify(message, &sig))
            .map_err(|_| Error::BadSignature)
    }

    fn hpke_key(private: &Secret<32>, public: &[u8; 65]) -> Result<Self::HpkeKey> {
        dhkem::public_key(private).map_err(|_| Error::InvalidKey("relay"))?;
        Ok(Recipient {
            private: private.clone(),
            public: *public,
        })
    }

    fn hpke_dh(key: &Self::HpkeKey, enc: &[u8; ENC_LEN]) -> Result<SharedSecret> {
        dhkem::dh(&key.private, enc)
    }

    fn hpke_public(key: &Self::HpkeKey) -> &[u8; ENC_LEN] {
        &key.public
    }
}
