//! The AEAD envelope: the one byte layout for every small ciphertext (record,
//! wrapped key, owner data, transmission-key bodies).
//!
//! ```text
//! envelope = version (1 byte, 0x01)
//!          || commitment (16 bytes) = SHA-256("oneshare/v1/key-commitment" || key)[..16]
//!          || nonce (12 bytes, random)
//!          || AES-256-GCM(key, nonce, aad, plaintext) (ciphertext || 16-byte tag)
//! ```
//!
//! The commitment makes the envelope key-committing (AES-GCM alone is not: one
//! ciphertext can be made to decrypt under two keys), and lets a wrong key be
//! reported as [`Error::WrongKey`] rather than as tampering. `aad` is built by the
//! caller from a domain label and context (see [`aad`]).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

use crate::secret::Key256;
use crate::{Error, Result, random};

/// Envelope format version.
pub const VERSION: u8 = 1;
/// Length of the key commitment.
pub const COMMITMENT_LEN: usize = 16;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Bytes an envelope adds to its plaintext.
pub const OVERHEAD: usize = 1 + COMMITMENT_LEN + NONCE_LEN + TAG_LEN;
/// Domain label of the key commitment.
pub const COMMITMENT_LABEL: &[u8] = b"oneshare/v1/key-commitment";

/// The key commitment of `key`.
pub fn commitment(key: &Key256) -> [u8; COMMITMENT_LEN] {
    let digest = Sha256::new()
        .chain_update(COMMITMENT_LABEL)
        .chain_update(key.expose())
        .finalize();
    let mut out = [0u8; COMMITMENT_LEN];
    out.copy_from_slice(&digest[..COMMITMENT_LEN]);
    out
}

/// Associated data: `label || 0x00 || context`. The zero byte keeps labels and
/// context from running into each other.
pub fn aad(label: &str, context: &[&[u8]]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(label.len() + 1 + context.iter().map(|c| c.len()).sum::<usize>());
    out.extend_from_slice(label.as_bytes());
    out.push(0);
    for part in context {
        out.extend_from_slice(part);
    }
    out
}

/// Seals `plaintext` with a caller-chosen nonce (for reproducible vectors).
///
/// Never reuse a nonce with the same key; use [`seal`] unless you are writing a
/// test vector.
pub fn seal_with_nonce(
    key: &Key256,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(&commitment(key));
    out.extend_from_slice(&nonce);
    match cipher.encrypt(
        &Nonce::from(nonce),
        Payload {
            msg: plaintext,
            aad,
        },
    ) {
        Ok(ct) => out.extend_from_slice(&ct),
        // AES-GCM encryption only fails above 64 GiB, far beyond any envelope.
        Err(_) => unreachable!("AES-GCM plaintext within limits"),
    }
    out
}

/// Seals `plaintext` under `key` with a random nonce.
///
/// # Errors
/// [`Error::Random`].
pub fn seal(key: &Key256, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    Ok(seal_with_nonce(key, random::bytes()?, aad, plaintext))
}

/// A parsed envelope, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The key commitment.
    pub commitment: [u8; COMMITMENT_LEN],
    /// The nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the tag.
    pub ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses the layout without decrypting.
    ///
    /// # Errors
    /// [`Error::UnsupportedVersion`] or [`Error::Malformed`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let (&version, rest) = bytes
            .split_first()
            .ok_or(Error::Malformed("envelope: empty"))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion {
                what: "envelope",
                version,
            });
        }
        if rest.len() < COMMITMENT_LEN + NONCE_LEN + TAG_LEN {
            return Err(Error::Malformed("envelope: too short"));
        }
        let (commitment, rest) = rest.split_at(COMMITMENT_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        Ok(Self {
            commitment: commitment
                .try_into()
                .map_err(|_| Error::Malformed("envelope"))?,
            nonce: nonce.try_into().map_err(|_| Error::Malformed("envelope"))?,
            ciphertext,
        })
    }

    /// Parses and checks the commitment against the key the caller holds
    /// (constant time), the order of PROTOCOL.md §3 for clients whose AES runs
    /// elsewhere (a non-extractable SubtleCrypto key).
    ///
    /// # Errors
    /// As [`Envelope::parse`], and [`Error::WrongKey`].
    pub fn parse_for(bytes: &'a [u8], key_commitment: &[u8; COMMITMENT_LEN]) -> Result<Self> {
        let env = Self::parse(bytes)?;
        if !crate::secret::ct_eq(&env.commitment, key_commitment) {
            return Err(Error::WrongKey);
        }
        Ok(env)
    }

    /// Writes the envelope back to bytes (the canonical encoding).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + COMMITMENT_LEN + NONCE_LEN + self.ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&self.commitment);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(self.ciphertext);
        out
    }
}

/// Opens an envelope.
///
/// # Errors
/// [`Error::Malformed`]/[`Error::UnsupportedVersion`] for a bad layout,
/// [`Error::WrongKey`] when the commitment is for another key, [`Error::Decrypt`]
/// when the ciphertext, nonce or AAD was altered.
pub fn open(key: &Key256, aad: &[u8], bytes: &[u8]) -> Result<Vec<u8>> {
    let env = Envelope::parse_for(bytes, &commitment(key))?;
    Aes256Gcm::new(key.expose().into())
        .decrypt(
            &Nonce::from(env.nonce),
            Payload {
                msg: env.ciphertext,
                aad,
            },
        )
        .map_err(|_| Error::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use proptest::prelude::*;

    const AAD: &[u8] = b"label\0ctx";

    proptest! {
        #[test]
        fn round_trip(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), pt in proptest::collection::vec(any::<u8>(), 0..512)) {
            let key = Secret::new(key);
            let sealed = seal_with_nonce(&key, nonce, AAD, &pt);
            prop_assert_eq!(sealed.len(), pt.len() + OVERHEAD);
            prop_assert_eq!(Envelope::parse(&sealed)?.to_bytes(), sealed.clone());
            prop_assert_eq!(open(&key, AAD, &sealed)?, pt);
        }

        #[test]
        fn any_flipped_bit_is_rejected(key in any::<[u8; 32]>(), pt in proptest::collection::vec(any::<u8>(), 0..64), bit in any::<prop::sample::Index>()) {
            let key = Secret::new(key);
            let mut sealed = seal_with_nonce(&key, [7; 12], AAD, &pt);
            let i = bit.index(sealed.len() * 8);
            sealed[i / 8] ^= 1 << (i % 8);
            let err = open(&key, AAD, &sealed).err();
            let expected = match i / 8 {
                0 => Some(Error::UnsupportedVersion { what: "envelope", version: VERSION ^ (1 << (i % 8)) }),
                1..=16 => Some(Error::WrongKey),
                _ => Some(Error::Decrypt),
            };
            prop_assert_eq!(err, expected);
        }

        #[test]
        fn any_flipped_aad_bit_is_rejected(bit in 0usize..(AAD.len() * 8)) {
            let key = Secret::new([1; 32]);
            let sealed = seal_with_nonce(&key, [7; 12], AAD, b"secret");
            let mut aad = AAD.to_vec();
            aad[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(open(&key, &aad, &sealed), Err(Error::Decrypt));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = open(&Secret::new([0; 32]), b"", &bytes);
        }
    }

    #[test]
    fn wrong_key_and_truncation_are_distinct() {
        let sealed = seal_with_nonce(&Secret::new([1; 32]), [0; 12], b"", b"hello");
        assert_eq!(
            open(&Secret::new([2; 32]), b"", &sealed),
            Err(Error::WrongKey)
        );
        assert_eq!(
            open(&Secret::new([1; 32]), b"", &sealed[..OVERHEAD - 1]),
            Err(Error::Malformed("envelope: too short"))
        );
        assert_eq!(
            open(&Secret::new([1; 32]), b"", &sealed[..sealed.len() - 1]),
            Err(Error::Decrypt)
        );
    }
}
