//! STREAM helpers for SubtleCrypto: the header, the typed nonce and the length
//! arithmetic, so JavaScript decrypts and encrypts segments with WebCrypto's AES
//! while the layout stays defined by the core.

use wasm_bindgen::prelude::*;

use super::convert::{JsResult, array, array_of, bytes32, js_err, object, u64_from};
use crate::stream::{self, Encryptor, Header, SegmentNonce};

/// Plaintext bytes per segment (65 536).
#[wasm_bindgen(js_name = streamSegmentSize)]
pub fn stream_segment_size() -> u32 {
    stream::SEGMENT_SIZE as u32
}

/// Header length (24).
#[wasm_bindgen(js_name = streamHeaderLen)]
pub fn stream_header_len() -> u32 {
    stream::HEADER_LEN as u32
}

/// The header of a new stream under `key`, with a random nonce prefix, or the
/// given 7-byte `prefix` (vectors).
///
/// # Errors
/// `length`, `random`.
#[wasm_bindgen(js_name = streamHeader)]
pub fn stream_header(key: &[u8], prefix: Option<Vec<u8>>) -> JsResult<Vec<u8>> {
    let key = bytes32(key, "file key")?;
    let header = match prefix {
        Some(p) => Encryptor::with_prefix(&key, array_of(&p, "nonce prefix")?).1,
        None => Encryptor::new(&key).map_err(js_err)?.1,
    };
    Ok(header.to_vec())
}

/// Parses a stream header into `{commitment, prefix}`.
///
/// # Errors
/// `truncated`, `unsupported_version`.
#[wasm_bindgen(js_name = streamParseHeader)]
pub fn stream_parse_header(bytes: &[u8]) -> JsResult<JsValue> {
    let h = Header::parse(bytes).map_err(js_err)?;
    object(&[
        ("commitment", array(&h.commitment)),
        ("prefix", array(&h.prefix)),
    ])
}

/// The 12-byte nonce of segment `counter` (`last` on the final one).
///
/// # Errors
/// `length` for a prefix that is not 7 bytes, `counter_overflow`.
#[wasm_bindgen(js_name = segmentNonce)]
pub fn segment_nonce(prefix: &[u8], counter: f64, last: bool) -> JsResult<Vec<u8>> {
    let counter = u32::try_from(u64_from(counter, "counter")?)
        .map_err(|_| js_err(crate::Error::CounterOverflow))?;
    Ok(SegmentNonce {
        prefix: array_of(prefix, "nonce prefix")?,
        counter,
        last,
    }
    .to_bytes()
    .to_vec())
}

/// Ciphertext length (header included) of `len` plaintext bytes.
///
/// # Errors
/// `length`.
#[wasm_bindgen(js_name = ciphertextLen)]
pub fn ciphertext_len(len: f64) -> JsResult<f64> {
    Ok(stream::ciphertext_len(u64_from(len, "length")?) as f64)
}

/// Plaintext length of a stream of `len` ciphertext bytes.
///
/// # Errors
/// `truncated` when no stream has that length.
#[wasm_bindgen(js_name = plaintextLen)]
pub fn plaintext_len(len: f64) -> JsResult<f64> {
    stream::plaintext_len(u64_from(len, "length")?)
        .map(|n| n as f64)
        .map_err(js_err)
}

/// Encrypts a whole file in memory (small files, tests).
///
/// # Errors
/// `length`, `random`.
#[wasm_bindgen(js_name = streamSeal)]
pub fn stream_seal(key: &[u8], plaintext: &[u8]) -> JsResult<Vec<u8>> {
    stream::seal(&bytes32(key, "file key")?, plaintext).map_err(js_err)
}

/// Decrypts a whole stream in memory (small files, tests).
///
/// # Errors
/// `wrong_key`, `decrypt`, `truncated`, `trailing_data`, …
#[wasm_bindgen(js_name = streamOpen)]
pub fn stream_open(key: &[u8], ciphertext: &[u8]) -> JsResult<Vec<u8>> {
    stream::open(&bytes32(key, "file key")?, ciphertext).map_err(js_err)
}
