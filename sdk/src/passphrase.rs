//! The optional passphrase (protocol v2, PROTOCOL.md §12.3): a second factor
//! mixed into the wrap key, so that neither the link alone nor the relay alone
//! opens the record.
//!
//! ```text
//! salt       = HKDF-Expand(HKDF-Extract(none, T), "oneshare/v2/passphrase-salt", 16)
//! stretched  = Argon2id(NFC(passphrase), salt, m = 19 456 KiB, t = 2, p = 1, 32 bytes)
//! PRK_pass   = HKDF-Extract(salt = stretched, IKM = T)
//! wrap_key   = HKDF-Expand(PRK_pass, "oneshare/v2/wrap-key", 32)
//! proof      = HKDF-Expand(PRK_pass, "oneshare/v2/passphrase-proof", 32)
//! ```
//!
//! The relay keeps only the proof's verifier ([`crate::factor`]) and hands out
//! the wrapped key only for a matching proof, counting failures like wrong open
//! codes: a link holder gets no offline test of guesses, and the relay cannot
//! compute any of this without the token. Argon2id (RFC 9106) makes each guess
//! cost 19 MiB and two passes for whoever holds both the link and the relay's data.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::factor::{Factor, Proof};
use crate::secret::{Key256, Secret};
use crate::token::{Token, expand};
use crate::{Error, Result};

/// Argon2id memory cost in KiB (19 MiB, OWASP's first Argon2id configuration).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id passes.
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes: 1, since browsers run it in one thread.
pub const ARGON2_P: u32 = 1;
/// Length of the Argon2id salt.
pub const SALT_LEN: usize = 16;
/// Longest accepted passphrase, in UTF-8 bytes after NFC normalization.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

/// HKDF info label of the Argon2id salt.
pub const INFO_SALT: &[u8] = b"oneshare/v2/passphrase-salt";
/// HKDF info label of the passphrase wrap key.
pub const INFO_WRAP_KEY: &[u8] = b"oneshare/v2/wrap-key";

/// What a token and a passphrase derive together.
#[derive(Debug)]
pub struct PassphraseKeys {
    /// Wraps the record key in place of the v1 wrap key.
    pub wrap_key: Key256,
    /// Sent at bind; the relay stores its verifier at create.
    pub proof: Proof,
}

/// A passphrase in Unicode NFC, the only form Argon2id sees, so that the same
/// words typed on two systems (composed or decomposed accents) match.
///
/// Native code normalizes with [`Nfc::normalize`] (the `unicode-normalization`
/// crate). Browser builds normalize with the browser's own
/// `String.prototype.normalize("NFC")` (`oneshare-web`) and hand the result to
/// [`Nfc::normalized`], which keeps the Unicode tables out of their wasm.
pub struct Nfc(Zeroizing<String>);

impl Nfc {
    /// Normalizes `text` to NFC.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn normalize(text: &str) -> Self {
        use unicode_normalization::UnicodeNormalization;
        Self(Zeroizing::new(text.nfc().collect()))
    }

    /// Text the caller has normalized to NFC already. Misuse warning: text
    /// that is not NFC derives other keys than the same passphrase typed
    /// elsewhere.
    pub fn normalized(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The normalized text. Secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Nfc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Nfc(..)")
    }
}

/// The Argon2id salt of a share: from the token, so nobody can precompute
/// guesses for a share before holding its link.
pub fn salt(token: &Token) -> [u8; SALT_LEN] {
    expand(&token.extract(None), INFO_SALT)
}

/// Argon2id of the NFC-normalized passphrase at the protocol's parameters.
///
/// # Errors
/// [`Error::Passphrase`] for an empty passphrase or one over
/// [`MAX_PASSPHRASE_BYTES`].
pub fn stretch(passphrase: &Nfc, salt: &[u8; SALT_LEN]) -> Result<Secret<32>> {
    let normalized = passphrase.as_str();
    if normalized.is_empty() {
        return Err(Error::Passphrase("the passphrase is empty"));
    }
    if normalized.len() > MAX_PASSPHRASE_BYTES {
        return Err(Error::Passphrase(
            "the passphrase is longer than 1024 bytes",
        ));
    }
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
        .map_err(|_| Error::Passphrase("Argon2id parameters"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(normalized.as_bytes(), salt, out.as_mut())
        .map_err(|_| Error::Passphrase("Argon2id could not run (out of memory?)"))?;
    Ok(Secret::new(*out))
}

/// Derives the wrap key and the bind proof of a passphrase share. Takes about
/// as long as one Argon2id run (see the `core` benchmark).
///
/// # Errors
/// As [`stretch`].
pub fn derive(token: &Token, passphrase: &Nfc) -> Result<PassphraseKeys> {
    Ok(from_stretched(token, &stretch(passphrase, &salt(token))?))
}

/// The wrap key and bind proof from a passphrase already stretched with
/// [`stretch`] over this token's [`salt`]. Lets a page run Argon2id in a
/// separate module loaded only for passphrase shares, handing it the salt and
/// the passphrase but never the token.
pub fn from_stretched(token: &Token, stretched: &Secret<32>) -> PassphraseKeys {
    let hk = token.extract(Some(stretched.expose()));
    PassphraseKeys {
        wrap_key: Secret::new(expand(&hk, INFO_WRAP_KEY)),
        proof: Proof::expand(Factor::Passphrase, &hk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passphrase_changes_every_output_and_nfc_does_not() -> Result<()> {
        let t = Token::from_bytes([9; 32]);
        let composed = derive(&t, &Nfc::normalize("caf\u{e9}"))?;
        let decomposed = derive(&t, &Nfc::normalize("cafe\u{301}"))?;
        let other = derive(&t, &Nfc::normalize("cafe"))?;
        assert_eq!(composed.wrap_key, decomposed.wrap_key);
        assert_eq!(composed.proof, decomposed.proof);
        assert_ne!(composed.wrap_key, other.wrap_key);
        assert_ne!(composed.proof, other.proof);
        assert_ne!(composed.wrap_key, t.derive().wrap_key);
        Ok(())
    }

    #[test]
    fn empty_and_overlong_passphrases_are_refused() {
        let s = [0; SALT_LEN];
        let empty = Nfc::normalize("");
        assert!(matches!(stretch(&empty, &s), Err(Error::Passphrase(_))));
        let long = Nfc::normalize(&"a".repeat(MAX_PASSPHRASE_BYTES + 1));
        assert!(matches!(stretch(&long, &s), Err(Error::Passphrase(_))));
    }
}
