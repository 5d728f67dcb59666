//! The crypto backend seam: the two public-key operations a relay performs on
//! every request, behind one small trait so that the protocol logic around them
//! (header parsing, key ids, lengths, error mapping in [`crate::signing`] and
//! [`crate::transmission`]) is written once.
//!
//! * [`RustCrypto`] (`p256`, `hpke`): every target, the wasm build, and the
//!   reference the other backend is tested against.
//! * [`AwsLc`] (`aws-lc-rs`, FIPS-validated AWS-LC), with the `aws-lc` feature on
//!   native targets only: the relay's backend. Its ECDSA verify and ECDH are
//!   about 5× faster than `p256`'s, and its HPKE open reuses the relay's public
//!   key instead of recomputing it per request as the `hpke` crate does.
//!
//! [`Active`] is the one the protocol functions use. Both backends must give the
//! same answer for every input (same accept or reject, same output):
//! `tests/wycheproof.rs`, `tests/vectors.rs` and `tests/backends.rs` check it.
//!
//! Signing, sealing and key derivation stay on RustCrypto everywhere: they run
//! on clients, once per request or once per key, and their outputs are pinned by
//! the vector files.

#[cfg(all(feature = "aws-lc", not(target_arch = "wasm32")))]
pub mod aws_lc;
pub mod rust_crypto;

#[cfg(all(feature = "aws-lc", not(target_arch = "wasm32")))]
pub use aws_lc::AwsLc;
pub use rust_crypto::RustCrypto;

use zeroize::Zeroizing;

use crate::Result;
use crate::secret::Secret;
use crate::signing::PublicKey;

/// The backend the protocol functions use: [`AwsLc`] with the `aws-lc` feature on
/// a native target, [`RustCrypto`] otherwise.
#[cfg(all(feature = "aws-lc", not(target_arch = "wasm32")))]
pub type Active = AwsLc;
/// The backend the protocol functions use: [`AwsLc`] with the `aws-lc` feature on
/// a native target, [`RustCrypto`] otherwise.
#[cfg(not(all(feature = "aws-lc", not(target_arch = "wasm32"))))]
pub type Active = RustCrypto;

/// RFC 9180 suite identifiers of the transmission-key HPKE (PROTOCOL.md §7):
/// DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
pub const HPKE_KEM_ID: u16 = 0x0010;
/// See [`HPKE_KEM_ID`].
pub const HPKE_KDF_ID: u16 = 0x0001;
/// See [`HPKE_KEM_ID`].
pub const HPKE_AEAD_ID: u16 = 0x0002;

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

    /// RFC 9180 single-shot open in base mode with the suite above: decapsulates
    /// `enc` (a 65-byte uncompressed point; anything else is refused), runs the
    /// key schedule with `info`, and opens `ciphertext` (sequence number 0) with
    /// `aad`.
    ///
    /// # Errors
    /// [`crate::Error::Hpke`] for every failure, whichever step it was.
    fn hpke_open(
        key: &Self::HpkeKey,
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>>;
}
