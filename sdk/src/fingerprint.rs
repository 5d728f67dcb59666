//! Device fingerprints (PROTOCOL.md §9.6): a short, readable digest of a
//! device's public key. The relay's events name the device that opened (or was
//! refused) by it, and the recipient's page shows its own, so sender and
//! recipient can compare the two over another channel.
//!
//! `SHA-256("oneshare/v1/device-fingerprint" || device_key)` cut to its first
//! 80 bits, written as 16 symbols of Crockford's base32 in four groups of four
//! (`7KQ2-M9XD-4T8P-0WZR`). 80 bits keep a relay from grinding a second key
//! with the same fingerprint.

use crate::open_code::ALPHABET;
use crate::signing::PublicKey;
use crate::token::labelled_sha256;

/// Label hashed before the key.
pub const FINGERPRINT_LABEL: &str = "oneshare/v1/device-fingerprint";
/// Digest bytes a fingerprint shows (80 bits).
pub const FINGERPRINT_BYTES: usize = 10;
/// Symbols in a fingerprint (5 bits each).
pub const FINGERPRINT_SYMBOLS: usize = 16;
/// Symbols per group in the display form.
pub const GROUP_LEN: usize = 4;

/// The fingerprint of a device key, in its display form (`7KQ2-M9XD-4T8P-0WZR`).
pub fn fingerprint(device_key: &PublicKey) -> String {
    let digest = labelled_sha256(FINGERPRINT_LABEL.as_bytes(), &device_key.to_bytes());
    let bits = digest[..FINGERPRINT_BYTES]
        .iter()
        .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
    let mut out = String::with_capacity(FINGERPRINT_SYMBOLS + FINGERPRINT_SYMBOLS / GROUP_LEN);
    for i in 0..FINGERPRINT_SYMBOLS {
        if i > 0 && i % GROUP_LEN == 0 {
            out.push('-');
        }
        let shift = 5 * (FINGERPRINT_SYMBOLS - 1 - i);
        out.push(char::from(ALPHABET[((bits >> shift) & 0x1f) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKey;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_key_has_four_groups_of_four_symbols(seed in any::<[u8; 32]>()) {
            let Ok(key) = SigningKey::from_bytes(&crate::secret::Secret::new(seed)) else {
                return Ok(());
            };
            let f = fingerprint(&key.public_key());
            let groups: Vec<&str> = f.split('-').collect();
            prop_assert_eq!(groups.len(), 4);
            prop_assert!(groups.iter().all(|g| g.len() == GROUP_LEN
                && g.bytes().all(|b| ALPHABET.contains(&b))));
        }
    }
}
