//! SignedHeaders::parse from arbitrary header values (one per line: signer,
//! timestamp, nonce, signature; a missing line is a missing header).
//!
//! Checks: no panic; parsed headers re-serialize with `to_pairs` to values that
//! parse to the same headers, and the signer, nonce and signature values are
//! canonical (equal to the input); verifying them never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_fuzz::{request, signing_key};
use oneshare_sdk::signing::{
    self, HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIMESTAMP, PublicKey,
    SignedHeaders, Signer,
};
use std::sync::OnceLock;

static KEY: OnceLock<PublicKey> = OnceLock::new();

const NAMES: [&str; 4] = [
    HEADER_SIGNER,
    HEADER_TIMESTAMP,
    HEADER_NONCE,
    HEADER_SIGNATURE,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let values: Vec<&str> = text.split('\n').collect();
    let get = |name: &str| {
        NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| values.get(i).copied())
    };
    for value in &values {
        if let Ok(signer) = Signer::parse(value) {
            assert_eq!(signer.to_string(), *value, "signer is canonical");
        }
        if let Ok(key) = PublicKey::parse(value) {
            assert_eq!(key.to_string(), *value, "public key is canonical");
        }
    }
    let Ok(headers) = SignedHeaders::parse(get) else {
        return;
    };
    let pairs = headers.to_pairs();
    for (i, (name, value)) in pairs.iter().enumerate() {
        assert_eq!(*name, NAMES[i]);
        if *name != HEADER_TIMESTAMP {
            assert_eq!(
                Some(value.as_str()),
                values.get(i).copied(),
                "{name} is canonical"
            );
        }
    }
    let again =
        SignedHeaders::parse(|n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()));
    assert_eq!(again.as_ref(), Ok(&headers), "to_pairs re-parses");
    let key = KEY.get_or_init(|| signing_key().public_key());
    let _ = signing::verify(key, &headers, &request(), headers.timestamp);
});
