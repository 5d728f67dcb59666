//! The clients' JSON reader and writer (`oneshare_sdk::json`) never panic, and
//! agree with serde_json: whatever the reader accepts, serde_json reads as the
//! same value, and the writer's bytes are serde_json's and read back equal.
//! (The reverse does not hold by design: serde_json also reads arrays as
//! structs and skips unknown values without checking UTF-8, surrogates or
//! depth.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_sdk::api::{BindRequest, ClientSignals, CreateShareRequest, Event, ShareList};
use oneshare_sdk::json;
use oneshare_sdk::owner::OwnerData;
use oneshare_sdk::record::Record;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

fn check<T: DeserializeOwned + Serialize + PartialEq + core::fmt::Debug>(data: &[u8]) {
    let Ok(value) = json::from_slice::<T>(data) else {
        return;
    };
    assert_eq!(serde_json::from_slice::<T>(data).ok().as_ref(), Some(&value));
    let out = json::to_vec(&value).expect("a value read is written");
    assert_eq!(serde_json::to_vec(&value).ok().as_ref(), Some(&out));
    assert_eq!(json::from_slice::<T>(&out).ok().as_ref(), Some(&value));
}

fuzz_target!(|data: &[u8]| {
    if json::from_slice::<IgnoredAny>(data).is_ok() {
        assert!(serde_json::from_slice::<IgnoredAny>(data).is_ok());
    }
    check::<Record>(data);
    check::<OwnerData>(data);
    check::<ClientSignals>(data);
    check::<BindRequest>(data);
    check::<CreateShareRequest>(data);
    check::<Event>(data);
    check::<ShareList>(data);
    check::<Vec<u64>>(data);
    check::<Vec<i64>>(data);
    check::<Vec<String>>(data);
});
