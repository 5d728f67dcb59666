//! Record::from_json (and the owner identity / owner data JSON) never panic;
//! what parses re-serializes to JSON that parses to the same value, and that
//! JSON is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_sdk::owner::{OwnerData, OwnerIdentity};
use oneshare_sdk::record::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::from_json(data) {
        let json = record.to_json().expect("a parsed record serializes");
        let again = Record::from_json(&json);
        assert_eq!(again.as_ref(), Ok(&record));
        if let Ok(again) = again {
            assert_eq!(again.to_json().ok(), Some(json), "canonical JSON");
        }
    }
    if let Ok(owner_data) = serde_json::from_slice::<OwnerData>(data) {
        let _ = owner_data.record_key();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(identity) = OwnerIdentity::from_json(text)
    {
        let again = OwnerIdentity::from_json(&identity.to_json().expect("serializes"));
        assert!(again.is_ok_and(
            |a| a.public_key() == identity.public_key() && a.owner_key == identity.owner_key
        ));
    }
});
