//! Byte-level helpers for tests and benchmarks only (`@oneshare/sdk/testing`):
//! fixtures in the STREAM and envelope formats, and the SDK's own envelope open
//! path over raw key bytes. Apps never need these.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::stream::{self, Encryptor, Header, Sealer, SegmentNonce};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{JsResult, js, js_error};
use crate::owner::{PartRead, encrypt_part};
use crate::{AesKey, Error};

fn key(bytes: &[u8]) -> JsResult<Key256> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        js_error(&Error::Core(oneshare_sdk::Error::Length {
            what: "key",
            expected: 32,
            got: bytes.len(),
        }))
    })?;
    Ok(Secret::new(arr))
}

fn core<T>(r: oneshare_sdk::Result<T>) -> JsResult<T> {
    js(r.map_err(Error::from))
}

/// A fresh random 32-byte key.
#[wasm_bindgen(js_name = randomKey)]
pub fn random_key() -> JsResult<Vec<u8>> {
    Ok(core(oneshare_sdk::record::generate_key())?
        .expose()
        .to_vec())
}

/// The header of a new stream under `key` (random nonce prefix, or the given
/// 7-byte `prefix`).
#[wasm_bindgen(js_name = streamHeader)]
pub fn stream_header(key_bytes: &[u8], prefix: Option<Vec<u8>>) -> JsResult<Vec<u8>> {
    let k = key(key_bytes)?;
    Ok(match prefix {
        Some(p) => Encryptor::with_prefix(&k, nonce_prefix(&p)?).1,
        None => core(Encryptor::new(&k))?.1,
    }
    .to_vec())
}

/// `{commitment, prefix}` of a stream header.
#[wasm_bindgen(js_name = streamParseHeader)]
pub fn stream_parse_header(bytes: &[u8]) -> JsResult<JsValue> {
    let h = core(Header::parse(bytes))?;
    let out = Object::new();
    Reflect::set(
        &out,
        &"commitment".into(),
        &Uint8Array::from(&h.commitment[..]),
    )?;
    Reflect::set(&out, &"prefix".into(), &Uint8Array::from(&h.prefix[..]))?;
    Ok(out.into())
}

/// The 12-byte nonce of segment `counter`.
#[wasm_bindgen(js_name = segmentNonce)]
pub fn segment_nonce(prefix: &[u8], counter: u32, last: bool) -> JsResult<Vec<u8>> {
    Ok(SegmentNonce {
        prefix: nonce_prefix(prefix)?,
        counter,
        last,
    }
    .to_bytes()
    .to_vec())
}

/// Encrypts a whole file in memory with the core's `aes-gcm` (fixtures), under
/// a random nonce prefix or the given 7-byte `prefix` (vectors).
#[wasm_bindgen(js_name = streamSeal)]
pub fn stream_seal(
    key_bytes: &[u8],
    plaintext: &[u8],
    prefix: Option<Vec<u8>>,
) -> JsResult<Vec<u8>> {
    let k = key(key_bytes)?;
    let (mut enc, header) = match prefix {
        Some(p) => Encryptor::with_prefix(&k, nonce_prefix(&p)?),
        None => core(Encryptor::new(&k))?,
    };
    let mut out = header.to_vec();
    out.extend(core(enc.push(plaintext))?);
    out.extend(core(enc.finish())?);
    Ok(out)
}

fn nonce_prefix(p: &[u8]) -> JsResult<[u8; 7]> {
    p.try_into()
        .map_err(|_| js_error(&Error::Argument("nonce prefix")))
}

/// Decrypts a whole stream in memory with the core's `aes-gcm` (the benchmark's
/// wasm baseline).
#[wasm_bindgen(js_name = streamOpen)]
pub fn stream_open(key_bytes: &[u8], ciphertext: &[u8]) -> JsResult<Vec<u8>> {
    core(stream::open(&key(key_bytes)?, ciphertext))
}

/// Encrypts `file` under `key` into the STREAM format the way uploads do (part
/// by part of `part_segments` segments, the segments of a part in flight in
/// SubtleCrypto, the core's sealer deciding nonces and layout), without sending
/// it: the upload-encrypt benchmark's SDK side. Resolves to the ciphertext.
#[wasm_bindgen(js_name = encryptAttachment, unchecked_return_type = "Promise<Blob>")]
pub fn encrypt_attachment(file: web_sys::Blob, key_bytes: Vec<u8>, part_segments: u32) -> Promise {
    future_to_promise(Box::pin(async move {
        let k = key(&key_bytes)?;
        let aes = js(AesKey::import(&k, true).await)?;
        let prefix: [u8; stream::NONCE_PREFIX_LEN] = core(oneshare_sdk::random::bytes())?;
        // A Blob's size is an integer number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = file.size() as u64;
        let (sealer, header) = core(Sealer::new(&aes.commitment, prefix, size))?;
        let total = sealer.ciphertext_len();
        let part = u64::from(part_segments.max(1)) * stream::ENCRYPTED_SEGMENT_SIZE as u64;
        let parts = js_sys::Array::new();
        let mut start = 0;
        let mut next = Some(js(PartRead::start(&sealer, &file, 0, part.min(total)))?);
        while let Some(read) = next.take() {
            let end = (start + part).min(total);
            // As uploads do: the next part is read while this one is encrypted.
            if end < total {
                let after = (end + part).min(total);
                next = Some(js(PartRead::start(&sealer, &file, end, after))?);
            }
            for piece in js(encrypt_part(&header, &aes, read).await)? {
                parts.push(&piece);
            }
            start = end;
        }
        Ok(web_sys::Blob::new_with_u8_array_sequence(&parts)
            .map_err(|_| js_error(&Error::Unsupported("Blob")))?
            .into())
    }) as super::JsFuture)
}

/// Opens an envelope through the SDK's record path: the key imported as a
/// non-extractable SubtleCrypto key, the core's parse and commitment check,
/// SubtleCrypto AES-GCM.
#[wasm_bindgen(js_name = openEnvelope, unchecked_return_type = "Promise<Uint8Array>")]
pub fn open_envelope(key_bytes: Vec<u8>, aad: Vec<u8>, envelope: Vec<u8>) -> Promise {
    future_to_promise(Box::pin(async move {
        let k = js(AesKey::import(&key(&key_bytes)?, false).await)?;
        let plain = js(k.open_envelope(&aad, &envelope).await)?;
        Ok(Uint8Array::from(&plain[..]).into())
    }) as super::JsFuture)
}

fn link_of(token: &[u8]) -> JsResult<crate::Link> {
    let t: [u8; 32] = token.try_into().map_err(|_| {
        js_error(&Error::Core(oneshare_sdk::Error::Length {
            what: "token",
            expected: 32,
            got: token.len(),
        }))
    })?;
    Ok(crate::Link::from_token(
        oneshare_sdk::token::Token::from_bytes(t),
    ))
}

fn set_bytes(out: &Object, name: &str, bytes: &[u8]) -> JsResult<()> {
    Reflect::set(out, &name.into(), &Uint8Array::from(bytes))?;
    Ok(())
}

/// `{code, display}` of the open code of 5 random bytes (the code a share gets).
#[wasm_bindgen(js_name = openCodeFromRandom)]
pub fn open_code_from_random(bytes: &[u8]) -> JsResult<JsValue> {
    let b: [u8; 5] = bytes
        .try_into()
        .map_err(|_| js_error(&Error::Argument("5 random bytes")))?;
    let code = oneshare_sdk::open_code::OpenCode::from_random(b);
    let out = Object::new();
    Reflect::set(&out, &"code".into(), &code.as_str().into())?;
    Reflect::set(&out, &"display".into(), &code.display().into())?;
    Ok(out.into())
}

/// `{code, proof, verifier}` of a code as typed, for the share of `token`: the
/// parse and proof `open({ code })` sends, and the verifier `create` sends.
#[wasm_bindgen(js_name = openCodeDerive)]
pub fn open_code_derive(token: &[u8], typed: &str) -> JsResult<JsValue> {
    let link = link_of(token)?;
    let code = core(oneshare_sdk::open_code::OpenCode::parse(typed))?;
    let proof = code.proof(link.token());
    let out = Object::new();
    Reflect::set(&out, &"code".into(), &code.as_str().into())?;
    set_bytes(&out, "proof", proof.expose())?;
    set_bytes(&out, "verifier", &proof.verifier())?;
    Ok(out.into())
}

/// `{salt, wrapKey, proof, verifier}` of a passphrase for the share of
/// `token`, the way `open({ passphrase })` derives them (the link's salt,
/// Argon2id, then the keys from the stretched passphrase).
#[wasm_bindgen(js_name = passphraseDerive, unchecked_return_type = "Promise<{ salt: Uint8Array, wrapKey: Uint8Array, proof: Uint8Array, verifier: Uint8Array }>")]
pub fn passphrase_derive(token: Vec<u8>, passphrase: String) -> Promise {
    future_to_promise(Box::pin(async move {
        let link = link_of(&token)?;
        let salt = link.passphrase_salt();
        let stretched = js(super::passphrase::stretch(&passphrase, salt).await)?;
        let keys = oneshare_sdk::passphrase::from_stretched(link.token(), &stretched);
        let out = Object::new();
        set_bytes(&out, "salt", &salt)?;
        set_bytes(&out, "wrapKey", keys.wrap_key.expose())?;
        set_bytes(&out, "proof", keys.proof.expose())?;
        set_bytes(&out, "verifier", &keys.proof.verifier())?;
        Ok(out.into())
    }) as super::JsFuture)
}

/// The record key a bind's wrapped key opens to, through the client's unwrap
/// (the passphrase's wrap key, then the link's; the link's alone when
/// `passphrase` is absent).
#[wasm_bindgen(js_name = passphraseUnwrap, unchecked_return_type = "Promise<Uint8Array>")]
pub fn passphrase_unwrap(token: Vec<u8>, passphrase: Option<String>, wrapped: Vec<u8>) -> Promise {
    future_to_promise(Box::pin(async move {
        let link = link_of(&token)?;
        let keys = match passphrase {
            Some(p) => {
                let stretched = js(super::passphrase::stretch(&p, link.passphrase_salt()).await)?;
                Some(oneshare_sdk::passphrase::from_stretched(
                    link.token(),
                    &stretched,
                ))
            }
            None => None,
        };
        let rk = core(oneshare_sdk::guard::unwrap_record_key(
            link.token(),
            keys.as_ref(),
            &wrapped,
        ))?;
        Ok(Uint8Array::from(&rk.expose()[..]).into())
    }) as super::JsFuture)
}

/// The relay's check of a proof against a stored verifier (`open_code` or
/// `passphrase`): resolves `"ok"`, or throws `wrong_code` / `wrong_passphrase`.
#[wasm_bindgen(js_name = checkProof)]
pub fn check_proof(factor: &str, verifier: &[u8], proof: &[u8]) -> JsResult<String> {
    use oneshare_sdk::factor::{Factor, Proof};
    let factor = match factor {
        "open_code" => Factor::OpenCode,
        "passphrase" => Factor::Passphrase,
        _ => return Err(js_error(&Error::Argument("factor"))),
    };
    let arr = |b: &[u8], what: &'static str| -> JsResult<[u8; 32]> {
        b.try_into().map_err(|_| js_error(&Error::Argument(what)))
    };
    core(Proof::from_bytes(factor, arr(proof, "proof")?).check(&arr(verifier, "verifier")?))?;
    Ok("ok".into())
}
