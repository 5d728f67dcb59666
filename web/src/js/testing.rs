//! Byte-level helpers for tests and benchmarks only (`@oneshare/sdk/testing`):
//! fixtures in the STREAM and envelope formats, and the SDK's own envelope open
//! path over raw key bytes. Apps never need these.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::stream::{self, Encryptor, Header, SegmentNonce};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{JsResult, js, js_error};
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
