//! The crypto backend seam: the two public-key operations a relay performs on
//! every request, behind one small trait so that the protocol logic around them
//! (header parsing, key ids, lengths, error mapping in [`crate::signing`] and
//! [`crate::transmission`]) is written once.
//!
//! * [`RustCrypto`] (`p256`): the reference the other backend is tested against.
//! * [`AwsLc`] (`aws-lc-rs`, FIPS-validated AWS-LC), with the `aws-lc` feature:
//!   the relay's backend. Its ECDSA verify and ECDH are about 5× faster than
//!   `p256`'s.
//!
//! For HPKE a backend provides only the Diffie-Hellman; the rest of the open
//! (RFC 9180 key schedule and AEAD) is [`crate::hpke`], the same code the
//! browser runs over WebCrypto's ECDH. Native targets only: browsers verify
//! nothing and keep their private keys in WebCrypto.
//!
//! [`Active`] is the one the protocol functions use. Both backends must give the
//! same answer for every input (same accept or reject, same output):
//! `tests/wycheproof.rs`, `tests/vectors.rs` and `tests/backends.rs` check it.
//!
//! Signing, sealing and key derivation stay on RustCrypto everywhere: they run
//! on clients, once per request or once per key, and their outputs are pinned by
//! the vector files.

#[cfg(feature = "aws-lc")]
pub mod aws_lc;
pub mod rust_crypto;

#[cfg(feature = "aws-lc")]
pub use aws_lc::AwsLc;
pub use rust_crypto::RustCrypto;

use zeroize::Zeroizing;

use crate::Result;
use crate::hpke::{self, ENC_LEN, SharedSecret};
use crate::secret::Secret;
use crate::signing::PublicKey;

/// The backend the protocol functions use: [`AwsLc`] with the `aws-lc` feature on
/// a native target, [`RustCrypto`] otherwise.
#[cfg(feature = "aws-lc")]
pub type Active = AwsLc;
/// The backend the protocol functions use: [`AwsLc`] with the `aws-lc` feature on
/// a native target, [`RustCrypto`] otherwise.
#[cfg(not(feature = "aws-lc"))]
pub type Active = RustCrypto;

/// The operations a backend provides. Implementations map every failure to the
/// one error the protocol reports for it, so callers cannot tell backends apart.
pub trait Backend {
    /// The relay's HPKE private key, prepared once for repeated opens.
    type HpkeKey: Clone + Send + Sync + 'static;

    /// Verifies an ECDSA P-256 / SHA-256 signature in IEEE P1363 form (`r || s`)
    /// over `message` by `key` (already checked to be a point on the curve).
    ///
    /// # Errors
    /// [`crate::Error::BadSignature`] for any signature that is malformed or
    /// does not verify.
    fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<()>;

    /// Prepares a relay private scalar (already validated, with `public` its
    /// uncompressed public key) for [`Backend::hpke_open`].
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`] if the backend refuses the scalar.
    fn hpke_key(private: &Secret<32>, public: &[u8; 65]) -> Result<Self::HpkeKey>;

    /// `DH(skR, pkE)` for DHKEM(P-256) (RFC 9180 §4.1): `enc` is a 65-byte
    /// uncompressed point ([`hpke::enc_bytes`] checked the form; the backend
    /// checks it is on the curve).
    ///
    /// # Errors
    /// [`crate::Error::Hpke`] for a point not on the curve.
    fn hpke_dh(key: &Self::HpkeKey, enc: &[u8; ENC_LEN]) -> Result<SharedSecret>;

    /// The recipient's serialized public key `pkRm` (in the KEM context).
    fn hpke_public(key: &Self::HpkeKey) -> &[u8; ENC_LEN];

    /// RFC 9180 single-shot open in base mode with the suite of
    /// [`crate::hpke`]: [`Backend::hpke_dh`], then [`hpke::open`] (sequence
    /// number 0).
    ///
    /// # Errors
    /// [`crate::Error::Hpke`] for every failure, whichever step it was.
    fn hpke_open(
        key: &Self::HpkeKey,
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let enc = hpke::enc_bytes(enc)?;
        let dh = Self::hpke_dh(key, enc)?;
        hpke::open(&dh, enc, Self::hpke_public(key), info, aad, ciphertext)
    }
}
