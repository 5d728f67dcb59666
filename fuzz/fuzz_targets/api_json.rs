//! serde_json::from_slice into every API request and response type never
//! panics, and whatever parses re-serializes to JSON that parses to the same
//! value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_sdk::api::*;
use oneshare_sdk::lifetime::State;

macro_rules! round_trip {
    ($data:expr, $($ty:ty),+ $(,)?) => {$(
        if let Ok(value) = serde_json::from_slice::<$ty>($data) {
            let json = match serde_json::to_vec(&value) {
                Ok(json) => json,
                Err(e) => panic!("{} does not serialize: {e}", stringify!($ty)),
            };
            assert_eq!(
                serde_json::from_slice::<$ty>(&json).as_ref().ok(),
                Some(&value),
                "{} round trip",
                stringify!($ty)
            );
        }
    )+};
}

fuzz_target!(|data: &[u8]| {
    round_trip!(
        data,
        RelayKeyResponse,
        RelayKeyInfo,
        AttachmentDecl,
        CreateShareRequest,
        CreateShareResponse,
        UploadStatus,
        BindRequest,
        RecordCiphertext,
        AttachmentInfo,
        BindResponse,
        ConfirmResponse,
        RecordResponse,
        UpdateRecordRequest,
        ShareSummary,
        ShareList,
        ShareStatus,
        EventKind,
        Event,
        CreatePolicy,
        Policy,
        ErrorBody,
        State,
    );
});
