//! The clients' side of protocol v2's second factors (PROTOCOL.md §12.1,
//! §12.3, §12.4), shared by every client: what a sender adds to a share at
//! create, what a recipient sends at bind, and which key unwraps the record key.
//!
//! Nothing here runs Argon2id: both sides take a passphrase already derived
//! ([`crate::passphrase::derive`], or [`crate::passphrase::from_stretched`]
//! after a stretch elsewhere), so a page can keep Argon2id in a module it loads
//! only for passphrase shares.

use crate::Result;
use crate::api::{BindEvidence, BindGuard, ClientSignals};
use crate::open_code::OpenCode;
use crate::passphrase::PassphraseKeys;
use crate::record;
use crate::secret::Key256;
use crate::token::Token;

/// What a sender's client adds to a new share.
#[derive(Debug)]
pub struct Guarded {
    /// The open code to show the sender next to the link. Secret.
    pub open_code: OpenCode,
    /// The key that wraps the record key: the passphrase's, else the link's.
    pub wrap_key: Key256,
    /// The create request's `guard`.
    pub guard: BindGuard,
}

/// A fresh open code for the share of `token` and, with the keys of a
/// passphrase derived for this token, the passphrase's wrap key and verifier.
///
/// # Errors
/// [`crate::Error::Random`].
pub fn create(token: &Token, require_code: bool, pass: Option<PassphraseKeys>) -> Result<Guarded> {
    let open_code = OpenCode::generate()?;
    Ok(Guarded {
        guard: BindGuard {
            code_verifier: Some(open_code.proof(token).verifier()),
            require_code,
            passphrase_verifier: pass.as_ref().map(|p| p.proof.verifier()),
        },
        wrap_key: pass.map_or_else(|| token.derive().wrap_key, |p| p.wrap_key),
        open_code,
    })
}

/// The `evidence` of a bind: the proofs of the factors given and what the
/// client observed about itself.
pub fn evidence(
    token: &Token,
    code: Option<&OpenCode>,
    passphrase: Option<&PassphraseKeys>,
    signals: ClientSignals,
) -> BindEvidence {
    BindEvidence {
        code_proof: code.map(|c| *c.proof(token).expose()),
        passphrase_proof: passphrase.map(|p| *p.proof.expose()),
        signals,
    }
}

/// Unwraps the record key a bind returned: under the passphrase's wrap key
/// when one was given, else under the link's. A passphrase given for a share
/// without one had its proof ignored by the relay, so the link's key is tried
/// after it.
///
/// # Errors
/// [`crate::Error::WrongKey`] and the other errors of [`record::unwrap_key`].
pub fn unwrap_record_key(
    token: &Token,
    passphrase: Option<&PassphraseKeys>,
    wrapped: &[u8],
) -> Result<Key256> {
    let share_id = token.derive().share_id;
    let mut outcome = Err(crate::Error::WrongKey);
    for key in wrap_keys(token, passphrase) {
        outcome = record::unwrap_key(&key, &share_id, wrapped);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// The keys to try on the record key a bind returned, in the order of
/// [`unwrap_record_key`] (the first that opens it wins; the last one's error
/// stands), for clients whose AES-GCM runs elsewhere (SubtleCrypto).
pub fn wrap_keys(token: &Token, passphrase: Option<&PassphraseKeys>) -> Vec<Key256> {
    let by_link = token.derive().wrap_key;
    match passphrase {
        Some(p) => vec![p.wrap_key.clone(), by_link],
        None => vec![by_link],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::{Factor, Proof};
    use crate::passphrase;

    #[test]
    fn a_sender_guard_checks_against_the_recipient_proofs() -> Result<()> {
        let token = Token::from_bytes([5; 32]);
        let plain = create(&token, true, None)?;
        assert!(plain.guard.require_code && plain.guard.passphrase_verifier.is_none());
        assert_eq!(plain.wrap_key, token.derive().wrap_key);
        let ev = evidence(
            &token,
            Some(&plain.open_code),
            None,
            ClientSignals::default(),
        );
        let proof = Proof::from_bytes(Factor::OpenCode, ev.code_proof.unwrap_or_default());
        assert_eq!(
            proof.check(&plain.guard.code_verifier.unwrap_or_default()),
            Ok(())
        );

        let pass = || passphrase::derive(&token, &passphrase::Nfc::normalize("pass"));
        let with = create(&token, false, Some(pass()?))?;
        let keys = pass()?;
        assert_eq!(with.guard.passphrase_verifier, Some(keys.proof.verifier()));
        let rk = record::generate_key()?;
        let sid = token.derive().share_id;
        let wrapped = record::wrap_key(&with.wrap_key, &sid, &rk)?;
        assert_eq!(unwrap_record_key(&token, Some(&keys), &wrapped)?, rk);
        assert!(unwrap_record_key(&token, None, &wrapped).is_err());
        // A passphrase given for a share without one still opens it.
        let v1 = record::wrap_key(&token.derive().wrap_key, &sid, &rk)?;
        assert_eq!(unwrap_record_key(&token, Some(&keys), &v1)?, rk);
        Ok(())
    }
}
