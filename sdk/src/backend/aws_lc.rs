//! The aws-lc-rs backend (AWS-LC): ECDSA verify, and the Diffie-Hellman of the
//! HPKE open with AWS-LC's ECDH P-256. The rest of the open (RFC 9180 §4.1
//! `ExtractAndExpand`, §5.1 key schedule, §5.2 AEAD) is [`crate::hpke`], shared
//! with every other caller; aws-lc-rs has no HPKE API of its own. Checked
//! against the `hpke` crate on the CFRG vector of this suite and on random
//! inputs (`tests/backends.rs`).

use std::sync::Arc;

use aws_lc_rs::{agreement, signature};

use super::Backend;
use crate::hpke::{ENC_LEN, SECRET_LEN, SharedSecret};
use crate::secret::Secret;
use crate::signing::PublicKey;
use crate::{Error, Result};

/// aws-lc-rs: AWS-LC's assembly-optimised P-256.
#[derive(Debug, Clone, Copy)]
pub enum AwsLc {}

/// The relay's private key in AWS-LC, with its public key encoded once.
pub struct Recipient {
    private: agreement::PrivateKey,
    public: [u8; ENC_LEN],
}

impl Backend for AwsLc {
    type HpkeKey = Arc<Recipient>;

    fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<()> {
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, key.to_bytes())
            .verify(message, signature)
            .map_err(|_| Error::BadSignature)
    }

    fn hpke_key(private: &Secret<32>, public: &[u8; 65]) -> Result<Self::HpkeKey> {
        let private =
            agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, private.expose())
                .map_err(|_| Error::InvalidKey("relay"))?;
        Ok(Arc::new(Recipient {
            private,
            public: *public,
        }))
    }

    fn hpke_dh(key: &Self::HpkeKey, enc: &[u8; ENC_LEN]) -> Result<SharedSecret> {
        dh(key, enc)
    }

    fn hpke_public(key: &Self::HpkeKey) -> &[u8; ENC_LEN] {
        &key.public
    }
}

/// ECDH P-256 of the relay key with a peer point, as DHKEM uses it: `peer` must
/// be a 65-byte uncompressed point (`SerializePublicKey`, RFC 9180 §7.1.1), which
/// AWS-LC then checks is on the curve. The result is the x-coordinate.
///
/// # Errors
/// [`Error::Hpke`] for any other encoding or a point not on the curve.
pub fn dh(key: &Recipient, peer: &[u8]) -> Result<SharedSecret> {
    // DHKEM's DeserializePublicKey takes only this encoding, as the `hpke` crate
    // does. AWS-LC would also parse the hybrid one (0x06/0x07 and both
    // coordinates); such an `enc` could never open, as `enc` is in the KEM
    // context, but it is refused here as the standard says.
    if peer.len() != ENC_LEN || peer[0] != 0x04 {
        return Err(Error::Hpke);
    }
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer);
    agreement::agree(&key.private, peer, Error::Hpke, |z| {
        <[u8; SECRET_LEN]>::try_from(z)
            .map(Secret::new)
            .map_err(|_| Error::Hpke)
    })
}
