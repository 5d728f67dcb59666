//! Byte-level helpers for tests and benchmarks only (`@oneshare/sdk/testing`):
//! the SDK's own paths over raw key bytes (the upload's STREAM encryption, the
//! record envelope open, the record key unwrap) and the factor derivations. Apps
//! never need these. Every one runs the code the client runs, AES-GCM in
//! SubtleCrypto: the module carries no AES of its own.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::stream::{self, Header, Sealer, SegmentNonce};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{JsResult, js, js_error};
use crate::owner::Parts;
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
    let prefix = prefix_or_random(prefix)?;
    Ok(core(Sealer::new(
        &oneshare_sdk::envelope::commitment(&k),
        prefix,
        0,
    ))?
    .1
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

fn nonce_prefix(p: &[u8]) -> JsResult<[u8; stream::NONCE_PREFIX_LEN]> {
    p.try_into()
        .map_err(|_| js_error(&Error::Argument("nonce prefix")))
}

fn prefix_or_random(prefix: Option<Vec<u8>>) -> JsResult<[u8; stream::NONCE_PREFIX_LEN]> {
    match prefix {
        Some(p) => nonce_prefix(&p),
        None => core(oneshare_sdk::random::bytes()),
    }
}

/// Encrypts `plaintext` under `key` the way uploads do (the core's sealer,
/// AES-GCM in SubtleCrypto), under a random nonce prefix or the given 7-byte
/// `prefix` (vectors). Resolves to the whole stream.
#[wasm_bindgen(js_name = streamSeal, unchecked_return_type = "Promise<Uint8Array>")]
pub fn stream_seal(key_bytes: Vec<u8>, plaintext: Vec<u8>, prefix: Option<Vec<u8>>) -> Promise {
    future_to_promise(Box::pin(async move {
        let k = key(&key_bytes)?;
        let parts = Uint8Array::from(&plaintext[..]);
        let file = crate::relay::blob(&parts).map_err(|e| js_error(&e))?;
        let sealed = seal_blob(&file, &k, prefix_or_random(prefix)?, 64).await?;
        let buf = wasm_bindgen_futures::JsFuture::from(sealed.array_buffer()).await?;
        Ok(Uint8Array::new(&buf).into())
    }) as super::JsFuture)
}

/// Encrypts `file` under `key` into the STREAM format the way uploads do (part
/// by part of `part_segments` segments, the segments of a part in flight in
/// SubtleCrypto, the core's sealer deciding nonces and layout), without sending
/// it: the upload-encrypt benchmark's SDK side. Resolves to the ciphertext.
#[wasm_bindgen(js_name = encryptAttachment, unchecked_return_type = "Promise<Blob>")]
pub fn encrypt_attachment(file: web_sys::Blob, key_bytes: Vec<u8>, part_segments: u32) -> Promise {
    future_to_promise(Box::pin(async move {
        let k = key(&key_bytes)?;
        let prefix = core(oneshare_sdk::random::bytes())?;
        Ok(seal_blob(&file, &k, prefix, part_segments).await?.into())
    }) as super::JsFuture)
}

/// The upload path's encryption of `file` (see [`encrypt_attachment`]).
async fn seal_blob(
    file: &web_sys::Blob,
    k: &Key256,
    prefix: [u8; stream::NONCE_PREFIX_LEN],
    part_segments: u32,
) -> JsResult<web_sys::Blob> {
    let aes = js(AesKey::import(k, true).await)?;
    // A Blob's size is an integer number of bytes.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = file.size() as u64;
    let (sealer, header) = core(Sealer::new(&aes.commitment, prefix, size))?;
    let total = sealer.ciphertext_len();
    let part = u64::from(part_segments.max(1)) * stream::ENCRYPTED_SEGMENT_SIZE as u64;
    let mut parts = Parts::new(&sealer, &header, &aes, file, part);
    let out = js_sys::Array::new();
    let mut start = 0;
    while start < total {
        for piece in js(parts.part(start).await)? {
            out.push(&piece);
        }
        start += part;
    }
    web_sys::Blob::new_with_u8_array_sequence(&out)
        .map_err(|_| js_error(&Error::Unsupported("Blob")))
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
/// (AES-GCM in SubtleCrypto; the passphrase's wrap key, then the link's; the
/// link's alone when `passphrase` is absent).
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
        let rk = js(crate::client::unwrap_record_key(
            link.token(),
            keys.as_ref(),
            &link.share_id(),
            &wrapped,
        )
        .await)?;
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
