//! The aws-lc-rs backend (AWS-LC): ECDSA verify, and the HPKE open composed from
//! AWS-LC's ECDH P-256, HMAC-SHA256 / HKDF-SHA256 and AES-256-GCM exactly as
//! RFC 9180 §4.1 (DHKEM decapsulation), §5.1 (key schedule, base mode) and §5.2
//! (open, sequence number 0) write it. aws-lc-rs has no HPKE API of its own.
//! Nothing here is a new primitive: HKDF-Extract is HMAC by definition
//! (RFC 5869 §2.2); the composition is checked against the `hpke` crate on the
//! RFC 9180 test vector for this suite and on random inputs (`tests/backends.rs`).

use std::sync::Arc;

use aws_lc_rs::{aead, agreement, hkdf, hmac, signature};
use zeroize::Zeroizing;

use super::{Backend, HPKE_AEAD_ID, HPKE_KDF_ID, HPKE_KEM_ID};
use crate::secret::Secret;
use crate::signing::PublicKey;
use crate::{Error, Result};

/// Length of the encapsulated key: an uncompressed P-256 point.
const ENC_LEN: usize = 65;
/// `Nsecret`, `Nh`: HKDF-SHA256 output and DH secret length.
const HASH_LEN: usize = 32;
/// `Nk` of AES-256-GCM.
const KEY_LEN: usize = 32;
/// `Nn` of AES-256-GCM.
const NONCE_LEN: usize = 12;
/// Every labeled HKDF input starts with this (RFC 9180 §4).
const VERSION_LABEL: &[u8] = b"HPKE-v1";

/// `suite_id` of the KEM's own derivations: `"KEM" || I2OSP(kem_id, 2)`.
const KEM_SUITE: [u8; 5] = {
    let id = HPKE_KEM_ID.to_be_bytes();
    [b'K', b'E', b'M', id[0], id[1]]
};
/// `suite_id` of the key schedule: `"HPKE" || kem_id || kdf_id || aead_id`.
const HPKE_SUITE: [u8; 10] = {
    let (k, f, a) = (
        HPKE_KEM_ID.to_be_bytes(),
        HPKE_KDF_ID.to_be_bytes(),
        HPKE_AEAD_ID.to_be_bytes(),
    );
    [b'H', b'P', b'K', b'E', k[0], k[1], f[0], f[1], a[0], a[1]]
};

/// aws-lc-rs: AWS-LC's assembly-optimised P-256 and AES-GCM.
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

    fn hpke_open(
        key: &Self::HpkeKey,
        enc: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let shared_secret = decap(key, enc)?;
        let (aead_key, nonce) = key_schedule(&shared_secret, info)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let len = aead_key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                buffer.as_mut_slice(),
            )
            .map_err(|_| Error::Hpke)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }
}

/// ECDH P-256 of the relay key with a peer point, as DHKEM uses it: `peer` must
/// be a 65-byte uncompressed point (`SerializePublicKey`, RFC 9180 §7.1.1), which
/// AWS-LC then checks is on the curve. The result is the x-coordinate.
///
/// # Errors
/// [`Error::Hpke`] for any other encoding or a point not on the curve.
pub fn dh(key: &Recipient, peer: &[u8]) -> Result<Zeroizing<[u8; HASH_LEN]>> {
    // DHKEM's DeserializePublicKey takes only this encoding, as the `hpke` crate
    // does. AWS-LC would also parse the hybrid one (0x06/0x07 and both
    // coordinates); such an `enc` could never open, as `enc` is in the KEM
    // context, but it is refused here as the standard says.
    if peer.len() != ENC_LEN || peer[0] != 0x04 {
        return Err(Error::Hpke);
    }
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer);
    agreement::agree(&key.private, peer, Error::Hpke, |z| {
        let mut out = Zeroizing::new([0u8; HASH_LEN]);
        if z.len() != HASH_LEN {
            return Err(Error::Hpke);
        }
        out.copy_from_slice(z);
        Ok(out)
    })
}

/// DHKEM `Decap` (RFC 9180 §4.1): `shared_secret = ExtractAndExpand(DH(skR, pkE),
/// enc || pkRm)`.
fn decap(key: &Recipient, enc: &[u8]) -> Result<Zeroizing<[u8; HASH_LEN]>> {
    let dh = dh(key, enc)?;
    let eae_prk = labeled_extract(&KEM_SUITE, b"", b"eae_prk", dh.as_slice());
    let mut shared_secret = Zeroizing::new([0u8; HASH_LEN]);
    labeled_expand(
        &KEM_SUITE,
        &eae_prk,
        b"shared_secret",
        &[enc, &key.public],
        shared_secret.as_mut_slice(),
    )?;
    Ok(shared_secret)
}

/// `KeyScheduleR` in base mode (RFC 9180 §5.1, empty `psk` and `psk_id`): the
/// AEAD key and base nonce.
fn key_schedule(
    shared_secret: &[u8; HASH_LEN],
    info: &[u8],
) -> Result<(aead::LessSafeKey, [u8; NONCE_LEN])> {
    const MODE_BASE: u8 = 0x00;
    let psk_id_hash = labeled_extract(&HPKE_SUITE, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&HPKE_SUITE, b"", b"info_hash", info);
    let context: [&[u8]; 3] = [&[MODE_BASE], psk_id_hash.as_slice(), info_hash.as_slice()];
    let secret = labeled_extract(&HPKE_SUITE, shared_secret, b"secret", b"");

    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    labeled_expand(&HPKE_SUITE, &secret, b"key", &context, key.as_mut_slice())?;
    let mut nonce = [0u8; NONCE_LEN];
    labeled_expand(&HPKE_SUITE, &secret, b"base_nonce", &context, &mut nonce)?;
    let key = aead::UnboundKey::new(&aead::AES_256_GCM, key.as_slice()).map_err(|_| Error::Hpke)?;
    Ok((aead::LessSafeKey::new(key), nonce))
}

/// `LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id ||
/// label || ikm)`, where `HKDF-Extract(salt, x) = HMAC-SHA256(salt, x)`.
fn labeled_extract(
    suite: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Zeroizing<[u8; HASH_LEN]> {
    let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, salt));
    for part in [VERSION_LABEL, suite, label, ikm] {
        ctx.update(part);
    }
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// `LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ||
/// "HPKE-v1" || suite_id || label || info, L)`, with `L = out.len()`.
fn labeled_expand(
    suite: &[u8],
    prk: &[u8; HASH_LEN],
    label: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<()> {
    let length = u16::try_from(out.len())
        .map_err(|_| Error::Hpke)?
        .to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![&length, VERSION_LABEL, suite, label];
    parts.extend_from_slice(info);
    hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk)
        .expand(&parts, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::Hpke)
}

/// An HKDF-Expand output length for aws-lc-rs.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}
