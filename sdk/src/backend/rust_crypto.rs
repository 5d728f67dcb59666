//! The RustCrypto backend: `p256` for ECDSA, the `hpke` crate for the open.

use hpke::kem::DhP256HkdfSha256;
use hpke::{Deserializable, OpModeR};
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier as _;
use zeroize::Zeroizing;

use super::Backend;
use crate::secret::Secret;
use crate::signing::PublicKey;
use crate::{Error, Result};

type Kem = DhP256HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::AesGcm256;

/// RustCrypto: pure Rust, every target, the reference implementation.
#[derive(Debug, Clone, Copy)]
pub enum RustCrypto {}

impl Backend for RustCrypto {
    /// The `hpke` crate's key. Its decapsulation recomputes the public key from
    /// it on every open (about a fifth of an open); its API has no way to pass it.
    type HpkeKey = <Kem as hpke::Kem>::PrivateKey;

    fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<()> {
        let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
        key.p256()
            .verify(message, &sig)
            .map_err(|_| Error::BadSignature)
    }

    fn hpke_key(private: &Secret<32>, _public: &[u8; 65]) -> Result<Self::HpkeKey> {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(private.expose())
            .map_err(|_| Error::InvalidKey("relay"))
    }

    fn hpke_open(
        key: &Self::HpkeKey,
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| Error::Hpke)?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, key, &enc, info, ciphertext, aad)
            .map(Zeroizing::new)
            .map_err(|_| Error::Hpke)
    }
}
