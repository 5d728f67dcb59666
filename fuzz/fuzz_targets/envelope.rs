//! Envelope::parse re-writes to exactly its input; opening arbitrary bytes under
//! a fixed key (plain, record, wrapped key, owner data, transmission bodies)
//! never panics, and whatever opens re-seals to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_fuzz::{AAD, NONCE, SHARE_ID, key};
use oneshare_sdk::envelope::{self, Envelope};
use oneshare_sdk::{owner, record, transmission};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::parse(data) {
        assert_eq!(env.to_bytes(), data, "canonical re-encoding");
    }
    let key = key();
    if let Ok(plaintext) = envelope::open(&key, AAD, data) {
        let Ok(env) = Envelope::parse(data) else {
            panic!("opened but does not parse");
        };
        assert_eq!(
            envelope::seal_with_nonce(&key, env.nonce, AAD, &plaintext),
            data,
            "re-seal"
        );
    }
    if let Ok(record) = record::open_record(&key, &SHARE_ID, 1, data) {
        assert_eq!(
            record::Record::from_json(&record.to_json().expect("serializes")),
            Ok(record)
        );
    }
    if let Ok(record_key) = record::unwrap_key(&key, &SHARE_ID, data) {
        let Ok(env) = Envelope::parse(data) else {
            panic!("unwrapped but does not parse");
        };
        assert_eq!(
            record::wrap_key_with_nonce(&key, &SHARE_ID, &record_key, env.nonce),
            data,
            "re-wrap"
        );
    }
    if let Ok(owner_data) = owner::open_owner_data(&key, &SHARE_ID, data) {
        let _ = owner_data.record_key();
    }
    let _ = transmission::open_request(&key, &NONCE, data);
    let _ = transmission::open_response(&key, &NONCE, data);
});
