//! RelayKeyPair::open_transmission_key on arbitrary text never panics, and only
//! opens headers addressed to its key id; relay public-key import never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_fuzz::relay;
use oneshare_sdk::transmission::{RelayPublicKey, header_key_id};
use std::sync::OnceLock;

static RELAY: OnceLock<oneshare_sdk::transmission::RelayKeyPair> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let relay = RELAY.get_or_init(relay);
    if let Ok(public) = RelayPublicKey::from_bytes(data) {
        assert_eq!(RelayPublicKey::from_bytes(&public.public_key), Ok(public));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if relay.open_transmission_key(text).is_ok() {
        assert_eq!(header_key_id(text), Some(relay.public().key_id.as_str()));
    }
});
