//! RFC 9180 HPKE, base mode, for the one suite oneshare uses (PROTOCOL.md §7):
//! DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, single-shot (sequence
//! number 0).
//!
//! Everything here is pure and runs over an **injected** Diffie-Hellman result:
//! the caller computes `dh = DH(skE, pkR)` (sender) or `DH(skR, pkE)` (recipient)
//! wherever its private key lives — WebCrypto `deriveBits` in the browser, where
//! the key is a non-extractable `CryptoKey`; `p256` ([`dhkem`]) or AWS-LC natively
//! — and this module does the rest of RFC 9180: the DHKEM's `ExtractAndExpand`
//! (§4.1), the base-mode key schedule (§5.1) and the AEAD (§5.2). So the protocol
//! logic is written once, and the wasm builds link no elliptic-curve arithmetic.
//! The AEAD can run elsewhere too: [`setup_base_s`] and [`setup_base_r`] give
//! the context's key and nonce, which the browser client hands to SubtleCrypto
//! AES-GCM (a non-extractable key), so its modules link no AES either.
//!
//! Nothing here is a new primitive: `LabeledExtract`/`LabeledExpand` are
//! HKDF-SHA256 (RustCrypto `hkdf`) with the labels of §4, and the AEAD is
//! RustCrypto `aes-gcm` ([`KeySchedule::seal`], [`KeySchedule::open`]) or
//! WebCrypto's. Checked against the CFRG test vector of this suite
//! (`vectors/hpke_rfc9180.json`) and, natively, against the `hpke` crate on
//! random inputs (`tests/backends.rs`).

#[cfg(not(target_arch = "wasm32"))]
pub mod dhkem;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::secret::Secret;
use crate::{Error, Result};

/// `kem_id` of DHKEM(P-256, HKDF-SHA256) (RFC 9180 §7.1).
pub const KEM_ID: u16 = 0x0010;
/// `kdf_id` of HKDF-SHA256 (§7.2).
pub const KDF_ID: u16 = 0x0001;
/// `aead_id` of AES-256-GCM (§7.3).
pub const AEAD_ID: u16 = 0x0002;
/// `Nenc`, `Npk`: an uncompressed SEC1 P-256 point.
pub const ENC_LEN: usize = 65;
/// `Ndh`, `Nsecret`, `Nh`: the DH output, shared secret and hash length.
pub const SECRET_LEN: usize = 32;
/// `Nk` of AES-256-GCM.
pub const KEY_LEN: usize = 32;
/// `Nn` of AES-256-GCM.
pub const NONCE_LEN: usize = 12;
/// `Nt` of AES-256-GCM: what a ciphertext adds to its plaintext.
pub const TAG_LEN: usize = 16;

/// `mode_base` (§5).
const MODE_BASE: u8 = 0x00;
/// Every labeled HKDF input starts with this (§4).
const VERSION_LABEL: &[u8] = b"HPKE-v1";
/// `suite_id` of the KEM's own derivations (§4.1): `"KEM" || I2OSP(kem_id, 2)`.
pub(crate) const KEM_SUITE: [u8; 5] = {
    let id = KEM_ID.to_be_bytes();
    [b'K', b'E', b'M', id[0], id[1]]
};
/// `suite_id` of the key schedule (§5.1): `"HPKE" || kem_id || kdf_id || aead_id`.
const HPKE_SUITE: [u8; 10] = {
    let (k, f, a) = (
        KEM_ID.to_be_bytes(),
        KDF_ID.to_be_bytes(),
        AEAD_ID.to_be_bytes(),
    );
    [b'H', b'P', b'K', b'E', k[0], k[1], f[0], f[1], a[0], a[1]]
};

/// A Diffie-Hellman result or a shared secret (32 bytes, zeroized on drop).
pub type SharedSecret = Secret<SECRET_LEN>;

/// `LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id
/// || label || ikm)` (§4).
fn labeled_extract(
    suite: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Zeroizing<[u8; SECRET_LEN]> {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in [VERSION_LABEL, suite, label, ikm] {
        extract.input_ikm(part);
    }
    Zeroizing::new(extract.finalize().0.into())
}

/// `LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ||
/// "HPKE-v1" || suite_id || label || info, L)` (§4), with `L = out.len()`.
fn labeled_expand(
    suite: &[u8],
    prk: &[u8; SECRET_LEN],
    label: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) {
    // Every caller asks for 32 bytes or fewer: inside u16, and a 32-byte PRK
    // is a valid HKDF-SHA256 PRK that expands to up to 255 * 32 bytes.
    let length = (out.len() as u16).to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![&length, VERSION_LABEL, suite, label];
    parts.extend_from_slice(info);
    let expanded = Hkdf::<Sha256>::from_prk(prk).map(|h| h.expand_multi_info(&parts, out));
    if !matches!(expanded, Ok(Ok(()))) {
        unreachable!("HKDF-SHA256 expands a 32-byte PRK to 32 bytes");
    }
}

/// `LabeledExtract` of the KEM with an empty salt, for DeriveKeyPair (§7.1.3).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn kem_extract(label: &[u8], ikm: &[u8]) -> Zeroizing<[u8; SECRET_LEN]> {
    labeled_extract(&KEM_SUITE, b"", label, ikm)
}

/// `LabeledExpand` of the KEM, for DeriveKeyPair (§7.1.3).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn kem_expand(prk: &[u8; SECRET_LEN], label: &[u8], info: &[&[u8]], out: &mut [u8]) {
    labeled_expand(&KEM_SUITE, prk, label, info, out);
}

/// DHKEM's `ExtractAndExpand(dh, kem_context)` with `kem_context = enc || pkRm`
/// (§4.1): the KEM shared secret that `Encap` and `Decap` both reach.
pub fn shared_secret(dh: &SharedSecret, enc: &[u8; ENC_LEN], pk_r: &[u8; ENC_LEN]) -> SharedSecret {
    let eae_prk = labeled_extract(&KEM_SUITE, b"", b"eae_prk", dh.expose());
    let mut out = Zeroizing::new([0u8; SECRET_LEN]);
    labeled_expand(
        &KEM_SUITE,
        &eae_prk,
        b"shared_secret",
        &[enc, pk_r],
        out.as_mut_slice(),
    );
    Secret::new(*out)
}

/// The AEAD key and base nonce of a context (§5.1). The exporter secret is not
/// derived: oneshare exports nothing.
pub struct KeySchedule {
    /// The AES-256-GCM key.
    pub key: Secret<KEY_LEN>,
    /// The nonce of sequence number 0 (`ComputeNonce(0) = base_nonce`, §5.2).
    pub base_nonce: [u8; NONCE_LEN],
}

impl KeySchedule {
    /// `KeySchedule<ROLE>(mode_base, shared_secret, info, psk = "", psk_id = "")`
    /// (§5.1).
    pub fn base(shared_secret: &SharedSecret, info: &[u8]) -> Self {
        let psk_id_hash = labeled_extract(&HPKE_SUITE, b"", b"psk_id_hash", b"");
        let info_hash = labeled_extract(&HPKE_SUITE, b"", b"info_hash", info);
        let context: [&[u8]; 3] = [&[MODE_BASE], psk_id_hash.as_slice(), info_hash.as_slice()];
        let secret = labeled_extract(&HPKE_SUITE, shared_secret.expose(), b"secret", b"");
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        labeled_expand(&HPKE_SUITE, &secret, b"key", &context, key.as_mut_slice());
        let mut base_nonce = [0u8; NONCE_LEN];
        labeled_expand(
            &HPKE_SUITE,
            &secret,
            b"base_nonce",
            &context,
            &mut base_nonce,
        );
        Self {
            key: Secret::new(*key),
            base_nonce,
        }
    }

    /// `Seal(aad, pt)` at sequence number 0 (§5.2).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new(self.key.expose().into());
        let sealed = cipher.encrypt(
            &Nonce::from(self.base_nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        );
        match sealed {
            Ok(ct) => ct,
            Err(_) => unreachable!("AES-GCM seals any plaintext below 64 GiB"),
        }
    }

    /// `Open(aad, ct)` at sequence number 0 (§5.2).
    ///
    /// # Errors
    /// [`Error::Hpke`] when the tag does not verify.
    pub fn open(&self, aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        Aes256Gcm::new(self.key.expose().into())
            .decrypt(
                &Nonce::from(self.base_nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Hpke)
    }
}

/// The sender's `Encap` (§4.1) up to `ExtractAndExpand`, done wherever the
/// ephemeral key lives: `enc = SerializePublicKey(pkE)` and `dh = DH(skE, pkR)`.
pub struct Encapped {
    /// The encapsulated key, sent with the ciphertext.
    pub enc: [u8; ENC_LEN],
    /// `DH(skE, pkR)`.
    pub dh: SharedSecret,
}

/// `SetupBaseS(pkR, info)` (§5.1.1) after the caller's [`Encapped`]: the
/// sender's context, whose key and base nonce seal the single message. For
/// clients whose AES-GCM runs elsewhere (SubtleCrypto in the browser); [`seal`]
/// runs it with `aes-gcm`.
pub fn setup_base_s(encapped: &Encapped, pk_r: &[u8; ENC_LEN], info: &[u8]) -> KeySchedule {
    KeySchedule::base(&shared_secret(&encapped.dh, &encapped.enc, pk_r), info)
}

/// `SetupBaseR(enc, skR, info)` (§5.1.1) with `dh = DH(skR, enc)` computed by
/// the caller: the recipient's context. For clients whose AES-GCM runs
/// elsewhere; [`open`] runs it with `aes-gcm`.
pub fn setup_base_r(
    dh: &SharedSecret,
    enc: &[u8; ENC_LEN],
    pk_r: &[u8; ENC_LEN],
    info: &[u8],
) -> KeySchedule {
    KeySchedule::base(&shared_secret(dh, enc, pk_r), info)
}

/// Single-shot `SealBase` (§6.1) to `pk_r` after the caller's [`Encapped`]:
/// returns `enc || ciphertext`.
pub fn seal(
    encapped: &Encapped,
    pk_r: &[u8; ENC_LEN],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENC_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&encapped.enc);
    out.extend_from_slice(&setup_base_s(encapped, pk_r, info).seal(aad, plaintext));
    out
}

/// Single-shot `OpenBase` (§6.1) with `dh = DH(skR, enc)` computed by the caller.
///
/// # Errors
/// [`Error::Hpke`] when it does not open (another key, `enc`, `info` or `aad`,
/// or a changed ciphertext).
pub fn open(
    dh: &SharedSecret,
    enc: &[u8; ENC_LEN],
    pk_r: &[u8; ENC_LEN],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    setup_base_r(dh, enc, pk_r, info).open(aad, ciphertext)
}

/// Checks the form DHKEM's `DeserializePublicKey` takes for P-256 (§7.1.1): 65
/// bytes starting `0x04`. Whether the point is on the curve is checked where
/// the DH runs (WebCrypto `importKey`, `p256`, AWS-LC).
///
/// # Errors
/// [`Error::Hpke`] for any other length or prefix.
pub fn enc_bytes(enc: &[u8]) -> Result<&[u8; ENC_LEN]> {
    match <&[u8; ENC_LEN]>::try_from(enc) {
        Ok(enc) if enc[0] == 0x04 => Ok(enc),
        _ => Err(Error::Hpke),
    }
}
