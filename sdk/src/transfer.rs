//! The comparison code of sender-approved device transfer (L5, PROTOCOL.md §12.2).
//!
//! A device that was refused (a scanner bound first, or the recipient wants
//! another device) asks for the share with its ECDSA key and a new ECDH P-256
//! key. The sender and that device both show a 6-digit code computed from the
//! share id and both keys; the sender approves only when they match, so a relay
//! that swapped a key is caught.
//!
//! The code is keyed by a **transfer secret** derived from the token, which the
//! relay never sees. A code of public values only could be ground by the relay
//! (a million ECDH keys until one matches takes seconds); keyed, the relay cannot
//! compute the code of any key, and a swap goes unseen with probability 10⁻⁶.
//! The requesting device derives the secret from its link; the sender, who does
//! not keep the link, stores the secret at create in a **transfer box** sealed
//! under its owner key, which the relay keeps next to the owner data.

use hkdf::Hkdf;
use sha2::Sha256;

use crate::envelope::{self, aad};
use crate::record::WRAPPED_KEY_LEN;
use crate::secret::{Key256, Secret};
use crate::signing::PublicKey;
use crate::token::{ShareId, Token, expand};
use crate::{Error, Result, random};

/// HKDF info label of the transfer secret, and AAD label of the transfer box.
pub const TRANSFER_SECRET_LABEL: &str = "oneshare/v2/transfer-secret";
/// HKDF info label of the comparison code.
pub const COMPARISON_LABEL: &str = "oneshare/v2/comparison-code";
/// Digits in a comparison code.
pub const DIGITS: usize = 6;
/// Length of a transfer box (an envelope of 32 bytes, like a wrapped key).
pub const BOX_LEN: usize = WRAPPED_KEY_LEN;

/// The transfer secret of a share: `HKDF-Expand(PRK, "oneshare/v2/transfer-secret", 32)`.
pub fn transfer_secret(token: &Token) -> Key256 {
    Secret::new(expand(
        &token.extract(None),
        TRANSFER_SECRET_LABEL.as_bytes(),
    ))
}

/// AAD of the transfer box: `AAD("oneshare/v2/transfer-secret", share_id)`.
pub fn box_aad(share_id: &ShareId) -> Vec<u8> {
    aad(TRANSFER_SECRET_LABEL, &[&share_id.0])
}

/// Seals the transfer secret under the owner key with a given nonce (vectors).
pub fn seal_box_with_nonce(
    owner_key: &Key256,
    share_id: &ShareId,
    secret: &Key256,
    nonce: [u8; envelope::NONCE_LEN],
) -> Vec<u8> {
    envelope::seal_with_nonce(owner_key, nonce, &box_aad(share_id), secret.expose())
}

/// Seals the transfer secret under the owner key, sent at create.
///
/// # Errors
/// [`Error::Random`].
pub fn seal_box(owner_key: &Key256, share_id: &ShareId, secret: &Key256) -> Result<Vec<u8>> {
    Ok(seal_box_with_nonce(
        owner_key,
        share_id,
        secret,
        random::bytes()?,
    ))
}

/// Opens a transfer box (the sender's side).
///
/// # Errors
/// [`Error::Length`] for any length but [`BOX_LEN`], then as [`envelope::open`].
pub fn open_box(owner_key: &Key256, share_id: &ShareId, sealed: &[u8]) -> Result<Key256> {
    if sealed.len() != BOX_LEN {
        return Err(Error::Length {
            what: "transfer box",
            expected: BOX_LEN,
            got: sealed.len(),
        });
    }
    let plain = zeroize::Zeroizing::new(envelope::open(owner_key, &box_aad(share_id), sealed)?);
    <[u8; 32]>::try_from(plain.as_slice())
        .map(Secret::new)
        .map_err(|_| Error::Malformed("transfer box"))
}

/// A comparison code: a number below 10⁶, shown as `123 456`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComparisonCode(u32);

impl ComparisonCode {
    /// The 6 digits, zero-padded.
    pub fn digits(self) -> String {
        format!("{:06}", self.0)
    }

    /// The form to show and read aloud: two groups of three digits.
    pub fn display(self) -> String {
        let d = self.digits();
        format!("{} {}", &d[..3], &d[3..])
    }
}

/// The HKDF info of a comparison:
/// `"oneshare/v2/comparison-code" || 0x00 || share_id || device_key || ecdh_key`
/// (16 + 65 + 65 bytes after the label).
pub fn comparison_info(
    share_id: &ShareId,
    device_key: &PublicKey,
    ecdh_key: &PublicKey,
) -> Vec<u8> {
    aad(
        COMPARISON_LABEL,
        &[&share_id.0, &device_key.to_bytes(), &ecdh_key.to_bytes()],
    )
}

/// The comparison code for a transfer request: the first 8 bytes of
/// `HKDF-Expand(PRK = transfer secret, comparison_info, 8)` as a big-endian
/// integer, modulo 10⁶ (the bias is below 10⁻¹²). `ecdh_key` is the device's
/// ECDH P-256 public key, in the same 65-byte encoding as an ECDSA key.
pub fn comparison_code(
    secret: &Key256,
    share_id: &ShareId,
    device_key: &PublicKey,
    ecdh_key: &PublicKey,
) -> ComparisonCode {
    let Ok(hk) = Hkdf::<Sha256>::from_prk(secret.expose()) else {
        unreachable!("a 32-byte PRK is long enough for HKDF-SHA256");
    };
    let digest: [u8; 8] = expand(&hk, &comparison_info(share_id, device_key, ecdh_key));
    // The remainder is below 10⁶, so it always fits.
    ComparisonCode((u64::from_be_bytes(digest) % 1_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKey;

    fn key(byte: u8) -> Result<PublicKey> {
        Ok(SigningKey::from_bytes(&Secret::new([byte; 32]))?.public_key())
    }

    #[test]
    fn every_input_changes_the_code() -> Result<()> {
        let t = Token::from_bytes([1; 32]);
        let secret = transfer_secret(&t);
        let sid = t.derive().share_id;
        let (dk, ek) = (key(2)?, key(3)?);
        let code = comparison_code(&secret, &sid, &dk, &ek);
        let other_token = transfer_secret(&Token::from_bytes([4; 32]));
        assert_ne!(code, comparison_code(&other_token, &sid, &dk, &ek));
        assert_ne!(code, comparison_code(&secret, &ShareId([0; 16]), &dk, &ek));
        assert_ne!(code, comparison_code(&secret, &sid, &ek, &dk));
        assert_eq!(code.digits().len(), DIGITS);
        Ok(())
    }

    #[test]
    fn the_box_round_trips_for_its_share_only() -> Result<()> {
        let secret = transfer_secret(&Token::from_bytes([1; 32]));
        let owner = Secret::new([5; 32]);
        let sealed = seal_box(&owner, &ShareId([1; 16]), &secret)?;
        assert_eq!(open_box(&owner, &ShareId([1; 16]), &sealed)?, secret);
        assert_eq!(
            open_box(&owner, &ShareId([2; 16]), &sealed),
            Err(Error::Decrypt)
        );
        Ok(())
    }
}
