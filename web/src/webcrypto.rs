//! WebCrypto through `crypto.subtle`: non-extractable ECDSA P-256 signing keys
//! (P1363 signatures), non-extractable ECDH P-256 keys (the Diffie-Hellman of
//! HPKE, whose key schedule and AEAD are the core's `hpke`), non-extractable
//! AES-256-GCM keys, and AES-GCM calls whose nonces, AADs and layouts come from
//! the core.

use js_sys::{Array, ArrayBuffer, Uint8Array};
use oneshare_sdk::envelope::{self, COMMITMENT_LEN, Envelope, NONCE_LEN};
use oneshare_sdk::hpke::{ENC_LEN, Encapped, KEY_LEN, KeySchedule, SECRET_LEN, SharedSecret};
use oneshare_sdk::secret::Key256;
use oneshare_sdk::signing::{PUBLIC_KEY_LEN, SIGNATURE_LEN};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    AesGcmParams, CryptoKey, CryptoKeyPair, EcKeyGenParams, EcKeyImportParams, EcdhKeyDeriveParams,
    EcdsaParams,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result, exception_name};
use crate::platform::{crypto_call, random, subtle};

fn usages(list: &[&str]) -> Array {
    list.iter().map(|u| JsValue::from_str(u)).collect()
}

/// A non-extractable ECDSA P-256 key pair: the private `CryptoKey` (kept in
/// IndexedDB) and the 65-byte raw public key the relay knows.
pub(crate) async fn generate_signing_key() -> Result<(CryptoKey, [u8; PUBLIC_KEY_LEN])> {
    let s = subtle()?;
    let params = EcKeyGenParams::new("ECDSA", "P-256");
    let pair: CryptoKeyPair = crypto_call(
        "generateKey",
        s.generate_key_with_object(&params, false, &usages(&["sign", "verify"])),
    )
    .await?
    .unchecked_into();
    let raw = crypto_call("exportKey", s.export_key("raw", &pair.get_public_key())).await?;
    let public = Uint8Array::new(&raw).to_vec();
    let public = public
        .try_into()
        .map_err(|_| Error::Unsupported("raw P-256 public keys"))?;
    Ok((pair.get_private_key(), public))
}

/// A non-extractable ECDH P-256 key pair: the private `CryptoKey` (kept in
/// IndexedDB while a transfer waits, or dropped after one HPKE seal) and the
/// 65-byte raw public key (HPKE's `SerializePublicKey`).
pub(crate) async fn generate_ecdh_key() -> Result<(CryptoKey, [u8; ENC_LEN])> {
    let s = subtle()?;
    let params = EcKeyGenParams::new("ECDH", "P-256");
    let pair: CryptoKeyPair = crypto_call(
        "generateKey",
        s.generate_key_with_object(&params, false, &usages(&["deriveBits"])),
    )
    .await?
    .unchecked_into();
    let raw = crypto_call("exportKey", s.export_key("raw", &pair.get_public_key())).await?;
    let public = Uint8Array::new(&raw)
        .to_vec()
        .try_into()
        .map_err(|_| Error::Unsupported("raw P-256 public keys"))?;
    Ok((pair.get_private_key(), public))
}

/// Imports a 65-byte uncompressed P-256 point as an ECDH public key; WebCrypto
/// refuses a point that is not on the curve. `invalid` is the error for that
/// (as the core reports the same point natively).
pub(crate) async fn import_ecdh_public(
    raw: &[u8; ENC_LEN],
    invalid: oneshare_sdk::Error,
) -> Result<CryptoKey> {
    let params = EcKeyImportParams::new("ECDH");
    params.set_named_curve("P-256");
    let bytes = Uint8Array::from(&raw[..]);
    let key = crypto_call(
        "importKey",
        subtle()?.import_key_with_object("raw", &bytes, &params, true, &Array::new()),
    )
    .await
    .map_err(|_| Error::from(invalid))?;
    Ok(key.unchecked_into())
}

/// `DH(sk, pk)` of RFC 9180 DHKEM(P-256): the 32-byte x-coordinate, from
/// `deriveBits` (the JavaScript copy is overwritten).
pub(crate) async fn ecdh(private: &CryptoKey, public: &CryptoKey) -> Result<SharedSecret> {
    let params = EcdhKeyDeriveParams::new("ECDH", public);
    let bits = crypto_call(
        "deriveBits",
        subtle()?.derive_bits_with_object(&params, private, 8 * SECRET_LEN as u32),
    )
    .await?;
    let view = Uint8Array::new(&bits);
    let mut out = Zeroizing::new([0u8; SECRET_LEN]);
    let copied = view.length() as usize == SECRET_LEN;
    if copied {
        view.copy_to(out.as_mut_slice());
    }
    view.fill(0, 0, view.length());
    if !copied {
        return Err(Error::Unsupported("ECDH P-256 deriveBits"));
    }
    Ok(SharedSecret::new(*out))
}

/// HPKE `Encap` to `pk_r` up to the DH (RFC 9180 §4.1) with a fresh,
/// non-extractable ephemeral key: `enc` and `DH(skE, pkR)`, which the core
/// turns into the shared secret and the sealed message.
pub(crate) async fn encap(pk_r: &CryptoKey) -> Result<Encapped> {
    let (sk_e, enc) = generate_ecdh_key().await?;
    Ok(Encapped {
        enc,
        dh: ecdh(&sk_e, pk_r).await?,
    })
}

/// The P1363 `r || s` signature of `message` (what the relay verifies).
pub(crate) async fn sign(key: &CryptoKey, message: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
    let params = EcdsaParams::new_with_str("ECDSA", "SHA-256");
    let sig = crypto_call(
        "sign",
        subtle()?.sign_with_object_and_u8_array(&params, key, message),
    )
    .await?;
    Uint8Array::new(&sig)
        .to_vec()
        .try_into()
        .map_err(|_| Error::Unsupported("P1363 ECDSA signatures"))
}

/// A non-extractable AES-256-GCM key and the commitment of its bytes, which lets
/// envelopes and streams be checked without the bytes (PROTOCOL.md §3).
#[derive(Clone)]
pub struct AesKey {
    pub(crate) key: CryptoKey,
    pub(crate) commitment: [u8; COMMITMENT_LEN],
}

impl AesKey {
    /// Imports raw key bytes (the JavaScript copy is overwritten after import).
    pub(crate) async fn import(raw: &Key256, encrypt: bool) -> Result<Self> {
        let usage: &[&str] = if encrypt {
            &["encrypt", "decrypt"]
        } else {
            &["decrypt"]
        };
        Ok(Self {
            key: import_aes(raw.expose(), usage).await?,
            commitment: envelope::commitment(raw),
        })
    }

    /// A stored key and its commitment.
    pub(crate) fn from_parts(key: CryptoKey, commitment: [u8; COMMITMENT_LEN]) -> Self {
        Self { key, commitment }
    }

    /// The `CryptoKey` (non-extractable).
    pub fn crypto_key(&self) -> &CryptoKey {
        &self.key
    }

    /// Decrypts `data` (ciphertext and tag); `Ok(None)` when the tag does not
    /// verify, so a state machine can judge it.
    pub(crate) async fn decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &js_sys::Object,
    ) -> Result<Option<Uint8Array>> {
        Self::decrypted(self.start_decrypt(nonce, aad, data)?).await
    }

    /// Starts decrypting (several segments stay in flight); judge the outcome
    /// with [`AesKey::decrypted`].
    pub(crate) fn start_decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &js_sys::Object,
    ) -> Result<js_sys::Promise> {
        decrypt(&self.key, nonce, aad, data)
    }

    /// The outcome of [`AesKey::start_decrypt`]: `None` for a bad tag.
    pub(crate) async fn decrypted(promise: js_sys::Promise) -> Result<Option<Uint8Array>> {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(buf) => Ok(Some(Uint8Array::new(&buf))),
            Err(e) if exception_name(&e).as_deref() == Some("OperationError") => Ok(None),
            Err(e) => Err(Error::webcrypto("decrypt", &e)),
        }
    }

    /// Encrypts `data`; the result is ciphertext followed by the tag.
    pub(crate) async fn encrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &js_sys::Object,
    ) -> Result<ArrayBuffer> {
        encrypt(&self.key, nonce, aad, data).await
    }

    /// Opens an envelope (PROTOCOL.md §3: layout, then commitment, then tag).
    pub(crate) async fn open_envelope(
        &self,
        aad: &[u8],
        bytes: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let env = Envelope::parse_for(bytes, &self.commitment)?;
        let data = Uint8Array::from(env.ciphertext);
        let plain = self
            .decrypt(&env.nonce, aad, &data)
            .await?
            .ok_or(oneshare_sdk::Error::Decrypt)?;
        let out = Zeroizing::new(plain.to_vec());
        plain.fill(0, 0, plain.length());
        Ok(out)
    }

    /// Seals an envelope under a fresh random nonce.
    pub(crate) async fn seal_envelope(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let data = Uint8Array::from(plaintext);
        let ct = self.encrypt(&nonce, aad, &data).await;
        data.fill(0, 0, data.length());
        let ct = Uint8Array::new(&ct?.into()).to_vec();
        Ok(Envelope {
            commitment: self.commitment,
            nonce,
            ciphertext: &ct,
        }
        .to_bytes())
    }
}

/// A non-extractable AES-256-GCM `CryptoKey` of `raw` for `usage` (the
/// JavaScript copy of the bytes is overwritten after import).
async fn import_aes(raw: &[u8; KEY_LEN], usage: &[&str]) -> Result<CryptoKey> {
    let bytes = Uint8Array::from(&raw[..]);
    let key = crypto_call(
        "importKey",
        subtle()?.import_key_with_str("raw", &bytes, "AES-GCM", false, &usages(usage)),
    )
    .await;
    bytes.fill(0, 0, bytes.length());
    Ok(key?.unchecked_into())
}

/// HPKE `Seal(aad, pt)` at sequence number 0 (RFC 9180 §5.2) of a context from
/// the core ([`oneshare_sdk::hpke::setup_base_s`]), in SubtleCrypto: its key is
/// imported non-extractable for this one call, the JavaScript copy of the
/// plaintext overwritten after.
pub(crate) async fn hpke_seal(
    context: &KeySchedule,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let key = import_aes(context.key.expose(), &["encrypt"]).await?;
    let data = Uint8Array::from(plaintext);
    let sealed = encrypt(&key, &context.base_nonce, aad, &data).await;
    data.fill(0, 0, data.length());
    Ok(Uint8Array::new(&sealed?.into()).to_vec())
}

/// HPKE `Open(aad, ct)` at sequence number 0 (RFC 9180 §5.2) of a context from
/// the core ([`oneshare_sdk::hpke::setup_base_r`]), in SubtleCrypto, its key
/// imported non-extractable for this one call; a tag that does not verify is
/// the core's `Hpke` error, as natively.
pub(crate) async fn hpke_open(
    context: &KeySchedule,
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let key = import_aes(context.key.expose(), &["decrypt"]).await?;
    let data = Uint8Array::from(ciphertext);
    let plain = AesKey::decrypted(decrypt(&key, &context.base_nonce, aad, &data)?)
        .await?
        .ok_or(oneshare_sdk::Error::Hpke)?;
    let out = Zeroizing::new(plain.to_vec());
    plain.fill(0, 0, plain.length());
    Ok(out)
}

/// Starts an AES-256-GCM decryption of `data` (ciphertext and tag).
fn decrypt(
    key: &CryptoKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    data: &js_sys::Object,
) -> Result<js_sys::Promise> {
    subtle()?
        .decrypt_with_object_and_buffer_source(&gcm(nonce, aad), key, data)
        .map_err(|e| Error::webcrypto("decrypt", &e))
}

/// AES-256-GCM encryption of `data`: ciphertext followed by the tag.
async fn encrypt(
    key: &CryptoKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    data: &js_sys::Object,
) -> Result<ArrayBuffer> {
    let params = gcm(nonce, aad);
    Ok(crypto_call(
        "encrypt",
        subtle()?.encrypt_with_object_and_buffer_source(&params, key, data),
    )
    .await?
    .unchecked_into())
}

fn gcm(nonce: &[u8; NONCE_LEN], aad: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(&nonce[..]));
    if !aad.is_empty() {
        params.set_additional_data_u8_array(&Uint8Array::from(aad));
    }
    params
}
