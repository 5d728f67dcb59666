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
//!
//! The sender approves with a signature over the share id, the request id and
//! both keys ([`approval_message`]) and re-wraps `K_r` to the device
//! ([`wrap_for_device`]): an envelope under a key from the transfer secret,
//! sealed with HPKE to the device's ECDH key. Opening it takes the ECDH private
//! key *and* the link, so a relay that swapped in its own keys and got an
//! approval anyway (the sender skipped the comparison) still cannot read `K_r`.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::envelope::{self, aad};
#[cfg(not(target_arch = "wasm32"))]
use crate::hpke::dhkem;
use crate::hpke::{self, ENC_LEN, Encapped, SharedSecret};
use crate::record::WRAPPED_KEY_LEN;
use crate::secret::{Key256, Secret};
use crate::signing::PublicKey;
#[cfg(not(target_arch = "wasm32"))]
use crate::signing::{SIGNATURE_LEN, SigningKey};
use crate::token::{ShareId, Token, expand};
use crate::{Error, Result, random};

/// HKDF info label of the transfer secret, and AAD label of the transfer box.
pub const TRANSFER_SECRET_LABEL: &str = "oneshare/v2/transfer-secret";
/// HKDF info label of the comparison code.
pub const COMPARISON_LABEL: &str = "oneshare/v2/comparison-code";
/// Label of the owner's approval signature.
pub const APPROVAL_LABEL: &str = "oneshare/v2/transfer-approval";
/// HKDF info label of the key that wraps `K_r` inside the transfer key.
pub const TRANSFER_WRAP_LABEL: &str = "oneshare/v2/transfer-wrap-key";
/// AAD label of the inner envelope and HPKE info label of the transfer key.
pub const TRANSFER_KEY_LABEL: &str = "oneshare/v2/transfer-key";
/// Length of a transfer request id (chosen by the requesting device).
pub const REQUEST_ID_LEN: usize = 16;
/// Length of a transfer key: HPKE `enc` (65) and the sealed 77-byte inner
/// envelope with its 16-byte tag.
pub const TRANSFER_KEY_LEN: usize = ENC_LEN + WRAPPED_KEY_LEN + hpke::TAG_LEN;
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
pub fn seal_box(owner_key: &Key256, share_id: &ShareId, secret: &Key256) -> Result<[u8; BOX_LEN]> {
    seal_box_with_nonce(owner_key, share_id, secret, random::bytes()?)
        .try_into()
        .map_err(|_| Error::Malformed("transfer box"))
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

/// A transfer request as both sides know it: the share, the id the device
/// chose, and the device's ECDSA and ECDH public keys. The approval and the
/// transfer key are bound to all four.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The share.
    pub share_id: &'a ShareId,
    /// The request id.
    pub request_id: &'a [u8; REQUEST_ID_LEN],
    /// The requesting device's ECDSA key.
    pub device_key: &'a PublicKey,
    /// The requesting device's ECDH key.
    pub ecdh_key: &'a PublicKey,
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

/// The message the owner signs to approve a transfer:
/// `AAD("oneshare/v2/transfer-approval", share_id || request_id || device_key || ecdh_key)`.
pub fn approval_message(binding: &Binding<'_>) -> Vec<u8> {
    aad(
        APPROVAL_LABEL,
        &[
            &binding.share_id.0,
            binding.request_id,
            &binding.device_key.to_bytes(),
            &binding.ecdh_key.to_bytes(),
        ],
    )
}

/// Signs an approval with the owner key (deterministic ECDSA, P1363 `r || s`).
#[cfg(not(target_arch = "wasm32"))]
pub fn sign_approval(owner: &SigningKey, binding: &Binding<'_>) -> [u8; SIGNATURE_LEN] {
    owner.sign(&approval_message(binding))
}

/// Checks an approval against the owner's key and the request it names.
///
/// # Errors
/// [`Error::BadSignature`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_approval(owner: &PublicKey, binding: &Binding<'_>, signature: &[u8]) -> Result<()> {
    owner.verify(&approval_message(binding), signature)
}

/// The key of the inner envelope:
/// `HKDF-Expand(PRK = transfer secret, "oneshare/v2/transfer-wrap-key", 32)`.
pub fn transfer_wrap_key(secret: &Key256) -> Key256 {
    let Ok(hk) = Hkdf::<Sha256>::from_prk(secret.expose()) else {
        unreachable!("a 32-byte PRK is long enough for HKDF-SHA256");
    };
    Secret::new(expand(&hk, TRANSFER_WRAP_LABEL.as_bytes()))
}

/// AAD of the inner envelope and HPKE `info` of the transfer key:
/// `AAD("oneshare/v2/transfer-key", share_id || request_id || device_key)`.
pub fn transfer_context(
    share_id: &ShareId,
    request_id: &[u8; REQUEST_ID_LEN],
    device_key: &PublicKey,
) -> Vec<u8> {
    aad(
        TRANSFER_KEY_LABEL,
        &[&share_id.0, request_id, &device_key.to_bytes()],
    )
}

/// A device's ECDH P-256 key for receiving a transfer (RFC 9180 DHKEM(P-256)),
/// for native clients. Browsers keep theirs as a non-extractable WebCrypto key
/// and pass its `deriveBits` result to [`open_transfer_key_with`].
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone)]
pub struct EcdhKey(Secret<32>);

#[cfg(not(target_arch = "wasm32"))]
impl core::fmt::Debug for EcdhKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdhKey(private redacted)")
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl EcdhKey {
    /// Generates a key from OS randomness.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        Ok(Self(dhkem::generate_key_pair()?.0))
    }

    /// Imports a 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for zero or a value not below the group order.
    pub fn from_bytes(bytes: &Secret<32>) -> Result<Self> {
        dhkem::public_key(bytes)
            .map(|_| Self(bytes.clone()))
            .map_err(|_| Error::InvalidKey("ecdh"))
    }

    /// Exports the scalar. Secret.
    pub fn to_bytes(&self) -> Secret<32> {
        self.0.clone()
    }

    /// The public key, in the same 65-byte encoding as a signing key.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] (not expected for a key built by this type).
    pub fn public_key(&self) -> Result<PublicKey> {
        dhkem::public_key(&self.0)
            .map_err(|_| Error::InvalidKey("ecdh"))
            .and_then(|pk| PublicKey::from_bytes(&pk))
    }
}

/// Re-wraps `K_r` to the requesting device after the caller's `Encap` to
/// `ecdh_key` ([`Encapped`]: WebCrypto in the browser), with a given inner
/// nonce: `inner = envelope(transfer_wrap_key, transfer_context, K_r)` (77
/// bytes), then HPKE base mode (the suite of §7) to `ecdh_key` with `info =
/// transfer_context` and empty AAD; the result is `enc || ciphertext`
/// ([`TRANSFER_KEY_LEN`] bytes).
pub fn wrap_for_device_with(
    encapped: &Encapped,
    secret: &Key256,
    binding: &Binding<'_>,
    record_key: &Key256,
    nonce: [u8; envelope::NONCE_LEN],
) -> Vec<u8> {
    let seal = TransferKeySeal::new(encapped, secret, binding);
    let inner = Zeroizing::new(envelope::seal_with_nonce(
        &seal.inner_key,
        nonce,
        &seal.inner_aad,
        record_key.expose(),
    ));
    seal.transfer_key(&seal.hpke.seal(b"", &inner))
}

/// [`wrap_for_device_with`] in steps, for clients whose AES-GCM runs
/// elsewhere (SubtleCrypto): seal `K_r` as an envelope under
/// [`TransferKeySeal::inner_key`] with [`TransferKeySeal::inner_aad`], seal
/// that envelope with the HPKE context's key and base nonce and an empty AAD,
/// then [`TransferKeySeal::transfer_key`].
pub struct TransferKeySeal {
    /// The HPKE sender context (RFC 9180 `SetupBaseS`, `info` = the transfer
    /// context).
    pub hpke: hpke::KeySchedule,
    /// The HPKE encapsulated key.
    pub enc: [u8; ENC_LEN],
    /// The key of the inner envelope, from the transfer secret.
    pub inner_key: Key256,
    /// The AAD of the inner envelope.
    pub inner_aad: Vec<u8>,
}

impl TransferKeySeal {
    /// The steps of re-wrapping `K_r` to the device after the caller's `Encap`
    /// to the request's ECDH key.
    pub fn new(encapped: &Encapped, secret: &Key256, binding: &Binding<'_>) -> Self {
        let context = transfer_context(binding.share_id, binding.request_id, binding.device_key);
        Self {
            hpke: hpke::setup_base_s(encapped, &binding.ecdh_key.to_bytes(), &context),
            enc: encapped.enc,
            inner_key: transfer_wrap_key(secret),
            inner_aad: context,
        }
    }

    /// The transfer key: `enc || ciphertext`, where `ciphertext` is the HPKE
    /// seal of the inner envelope.
    pub fn transfer_key(&self, ciphertext: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENC_LEN + ciphertext.len());
        out.extend_from_slice(&self.enc);
        out.extend_from_slice(ciphertext);
        out
    }
}

/// Re-wraps `K_r` to the requesting device (the sender's side of an approval),
/// with a fresh ephemeral key and inner nonce.
///
/// # Errors
/// [`Error::InvalidKey`] if `ecdh_key` is not a point on the curve,
/// [`Error::Random`].
#[cfg(not(target_arch = "wasm32"))]
pub fn wrap_for_device(
    secret: &Key256,
    binding: &Binding<'_>,
    record_key: &Key256,
) -> Result<Vec<u8>> {
    let encapped = dhkem::encap(&binding.ecdh_key.to_bytes()).map_err(|e| match e {
        Error::Hpke => Error::InvalidKey("ecdh"),
        other => other,
    })?;
    Ok(wrap_for_device_with(
        &encapped,
        secret,
        binding,
        record_key,
        random::bytes()?,
    ))
}

/// The HPKE `enc` of a transfer key: what the device's ECDH key must be
/// combined with (`DH(skR, enc)`) before [`open_transfer_key_with`].
///
/// # Errors
/// [`Error::Length`] for any length but [`TRANSFER_KEY_LEN`], [`Error::Hpke`]
/// for an `enc` that is not an uncompressed point.
pub fn transfer_key_enc(sealed: &[u8]) -> Result<&[u8; ENC_LEN]> {
    if sealed.len() != TRANSFER_KEY_LEN {
        return Err(Error::Length {
            what: "transfer key",
            expected: TRANSFER_KEY_LEN,
            got: sealed.len(),
        });
    }
    hpke::enc_bytes(&sealed[..ENC_LEN])
}

/// Opens a transfer key on the device that asked, given `dh = DH(skR, enc)`
/// of its ECDH key (public half `binding.ecdh_key`) and [`transfer_key_enc`]: the HPKE
/// layer, then the inner envelope with the key from its link's transfer secret.
///
/// # Errors
/// As [`transfer_key_enc`]; [`Error::Hpke`] when the HPKE layer does not open
/// (another ECDH key, request or device); then as [`envelope::open`] (another
/// token: `wrong_key`).
pub fn open_transfer_key_with(
    dh: &SharedSecret,
    secret: &Key256,
    binding: &Binding<'_>,
    sealed: &[u8],
) -> Result<Key256> {
    let open = TransferKeyOpen::new(dh, secret, binding, sealed)?;
    let inner = open.hpke.open(b"", open.ciphertext)?;
    let plain = Zeroizing::new(envelope::open(&open.inner_key, &open.inner_aad, &inner)?);
    TransferKeyOpen::record_key(&plain)
}

/// [`open_transfer_key_with`] in steps, for clients whose AES-GCM runs
/// elsewhere (SubtleCrypto): open [`TransferKeyOpen::ciphertext`] with the
/// HPKE context's key and base nonce and an empty AAD (a failed tag is
/// [`Error::Hpke`]), then that plaintext as an envelope under
/// [`TransferKeyOpen::inner_key`] with [`TransferKeyOpen::inner_aad`], then
/// read the record key with [`TransferKeyOpen::record_key`].
pub struct TransferKeyOpen<'a> {
    /// The HPKE recipient context (RFC 9180 `SetupBaseR`, `info` = the
    /// transfer context).
    pub hpke: hpke::KeySchedule,
    /// The HPKE ciphertext (after `enc`).
    pub ciphertext: &'a [u8],
    /// The key of the inner envelope, from the link's transfer secret.
    pub inner_key: Key256,
    /// The AAD of the inner envelope.
    pub inner_aad: Vec<u8>,
}

impl<'a> TransferKeyOpen<'a> {
    /// The steps of opening `sealed`, given `dh = DH(skR, enc)` of the
    /// request's ECDH key and [`transfer_key_enc`].
    ///
    /// # Errors
    /// As [`transfer_key_enc`].
    pub fn new(
        dh: &SharedSecret,
        secret: &Key256,
        binding: &Binding<'_>,
        sealed: &'a [u8],
    ) -> Result<Self> {
        let enc = transfer_key_enc(sealed)?;
        let context = transfer_context(binding.share_id, binding.request_id, binding.device_key);
        Ok(Self {
            hpke: hpke::setup_base_r(dh, enc, &binding.ecdh_key.to_bytes(), &context),
            ciphertext: &sealed[ENC_LEN..],
            inner_key: transfer_wrap_key(secret),
            inner_aad: context,
        })
    }

    /// The record key from the inner envelope's plaintext.
    ///
    /// # Errors
    /// [`Error::Malformed`] unless it is 32 bytes.
    pub fn record_key(plaintext: &[u8]) -> Result<Key256> {
        <[u8; 32]>::try_from(plaintext)
            .map(Secret::new)
            .map_err(|_| Error::Malformed("transfer key"))
    }
}

/// [`open_transfer_key_with`] for a native [`EcdhKey`], the private half of
/// `binding.ecdh_key` (another key fails the HPKE layer).
///
/// # Errors
/// As [`open_transfer_key_with`].
#[cfg(not(target_arch = "wasm32"))]
pub fn open_transfer_key(
    ecdh: &EcdhKey,
    secret: &Key256,
    binding: &Binding<'_>,
    sealed: &[u8],
) -> Result<Key256> {
    let dh = dhkem::dh(&ecdh.0, transfer_key_enc(sealed)?)?;
    open_transfer_key_with(&dh, secret, binding, sealed)
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

    /// Only the device with the ECDH key *and* the link opens the transfer key,
    /// and only for the request and device key it was made for.
    #[test]
    fn the_transfer_key_opens_for_its_device_and_link_only() -> Result<()> {
        let t = Token::from_bytes([1; 32]);
        let (secret, sid) = (transfer_secret(&t), t.derive().share_id);
        let (dk, rid, kr) = (key(2)?, [9; REQUEST_ID_LEN], Secret::new([7; 32]));
        let ecdh = EcdhKey::generate()?;
        let ek = ecdh.public_key()?;
        let binding = Binding {
            share_id: &sid,
            request_id: &rid,
            device_key: &dk,
            ecdh_key: &ek,
        };
        let sealed = wrap_for_device(&secret, &binding, &kr)?;
        assert_eq!(sealed.len(), TRANSFER_KEY_LEN);
        assert_eq!(open_transfer_key(&ecdh, &secret, &binding, &sealed)?, kr);
        let other = EcdhKey::generate()?;
        let wrong_link = transfer_secret(&Token::from_bytes([4; 32]));
        assert_eq!(
            open_transfer_key(&other, &secret, &binding, &sealed),
            Err(Error::Hpke)
        );
        let other_binding = Binding {
            request_id: &[8; REQUEST_ID_LEN],
            ..binding
        };
        assert_eq!(
            open_transfer_key(&ecdh, &secret, &other_binding, &sealed),
            Err(Error::Hpke)
        );
        assert!(open_transfer_key(&ecdh, &wrong_link, &binding, &sealed).is_err());
        Ok(())
    }

    #[test]
    fn an_approval_names_both_keys() -> Result<()> {
        let owner = SigningKey::from_bytes(&Secret::new([6; 32]))?;
        let (sid, rid, dk, ek) = (ShareId([1; 16]), [2; REQUEST_ID_LEN], key(2)?, key(3)?);
        let binding = Binding {
            share_id: &sid,
            request_id: &rid,
            device_key: &dk,
            ecdh_key: &ek,
        };
        let sig = sign_approval(&owner, &binding);
        verify_approval(&owner.public_key(), &binding, &sig)?;
        let swapped = Binding {
            ecdh_key: &dk,
            ..binding
        };
        assert_eq!(
            verify_approval(&owner.public_key(), &swapped, &sig),
            Err(Error::BadSignature)
        );
        Ok(())
    }
}
