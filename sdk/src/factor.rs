//! Second factors at bind (protocol v2, PROTOCOL.md §12): the open code and the
//! passphrase. Each gives the client a 32-byte **proof**, derived from the token
//! *and* the factor, that it sends once inside the sealed bind body; the relay
//! stores only the **verifier** `SHA-256(label || proof)` from create on.
//!
//! The relay therefore checks a factor online (and counts failures) but cannot
//! test guesses offline: every guess needs the token, which it never sees. A link
//! holder has the token but nothing to test guesses against except the relay.

use crate::encoding::{b64, unb64_array};
use crate::secret::{Secret, ct_eq};
use crate::token::{expand, labelled_sha256};
use crate::{Error, Result};

/// Which second factor a proof is for; each has its own labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// The short open code the sender passes on separately (L3).
    OpenCode,
    /// The sender's optional passphrase.
    Passphrase,
}

impl Factor {
    /// HKDF info label of the proof.
    pub const fn proof_label(self) -> &'static [u8] {
        match self {
            Self::OpenCode => b"oneshare/v2/open-code-proof",
            Self::Passphrase => b"oneshare/v2/passphrase-proof",
        }
    }

    /// Hash label of the verifier.
    pub const fn verifier_label(self) -> &'static [u8] {
        match self {
            Self::OpenCode => b"oneshare/v2/open-code-verifier",
            Self::Passphrase => b"oneshare/v2/passphrase-verifier",
        }
    }

    /// The error a proof that does not match reports.
    pub const fn mismatch(self) -> Error {
        match self {
            Self::OpenCode => Error::WrongCode,
            Self::Passphrase => Error::WrongPassphrase,
        }
    }
}

/// A proof of a second factor: secret, sent once at bind.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Proof {
    factor: Factor,
    bytes: Secret<32>,
}

impl Proof {
    /// Expands the proof from a key that already mixes the token and the factor.
    pub(crate) fn expand(factor: Factor, hk: &hkdf::Hkdf<sha2::Sha256>) -> Self {
        Self {
            factor,
            bytes: Secret::new(expand(hk, factor.proof_label())),
        }
    }

    /// A proof received on the wire (the relay's side).
    pub const fn from_bytes(factor: Factor, bytes: [u8; 32]) -> Self {
        Self {
            factor,
            bytes: Secret::new(bytes),
        }
    }

    /// Parses the base64url form of a proof for `factor`.
    ///
    /// # Errors
    /// [`Error::Encoding`] or [`Error::Length`].
    pub fn parse(factor: Factor, text: &str) -> Result<Self> {
        unb64_array(text, "proof").map(|b| Self::from_bytes(factor, b))
    }

    /// The factor this proof is for.
    pub const fn factor(&self) -> Factor {
        self.factor
    }

    /// The proof bytes. Secret: they open the share together with the token.
    pub const fn expose(&self) -> &[u8; 32] {
        self.bytes.expose()
    }

    /// The base64url form sent in the bind body. Secret.
    pub fn to_text(&self) -> String {
        b64(self.expose())
    }

    /// The verifier the relay stores at create: `SHA-256(label || proof)`.
    pub fn verifier(&self) -> [u8; 32] {
        labelled_sha256(self.factor.verifier_label(), self.expose())
    }

    /// Checks this proof against a stored verifier, in constant time.
    ///
    /// # Errors
    /// [`Error::WrongCode`] or [`Error::WrongPassphrase`] (by factor).
    pub fn check(&self, verifier: &[u8; 32]) -> Result<()> {
        if ct_eq(&self.verifier(), verifier) {
            Ok(())
        } else {
            Err(self.factor.mismatch())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_versioned() {
        let labels = [
            Factor::OpenCode.proof_label(),
            Factor::OpenCode.verifier_label(),
            Factor::Passphrase.proof_label(),
            Factor::Passphrase.verifier_label(),
        ];
        for (i, a) in labels.iter().enumerate() {
            assert!(a.starts_with(b"oneshare/v2/"));
            for b in &labels[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn a_proof_for_one_factor_does_not_check_as_the_other() {
        let code = Proof::from_bytes(Factor::OpenCode, [7; 32]);
        let pass = Proof::from_bytes(Factor::Passphrase, [7; 32]);
        assert_eq!(code.check(&code.verifier()), Ok(()));
        assert_eq!(code.check(&pass.verifier()), Err(Error::WrongCode));
        assert_eq!(pass.check(&code.verifier()), Err(Error::WrongPassphrase));
    }
}
