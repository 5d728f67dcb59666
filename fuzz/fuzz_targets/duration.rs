//! duration::parse never panics; what parses formats back to the same seconds,
//! and format is a fixed point. Any u64 formats and parses back to check(n).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_sdk::duration;

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = data.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        let secs = u64::from_le_bytes(bytes);
        assert_eq!(
            duration::parse(&duration::format(secs)),
            duration::check(secs)
        );
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(secs) = duration::parse(text) {
        let formatted = duration::format(secs);
        assert_eq!(duration::parse(&formatted), Ok(secs), "{formatted}");
        assert_eq!(duration::format(secs), formatted);
    }
});
