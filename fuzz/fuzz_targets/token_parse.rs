//! Token::parse on arbitrary UTF-8: never panics, and a parsed token survives
//! being written as a link (under several relay bases) and parsed again; an
//! open code (PROTOCOL.md §12.1), the other thing people paste, likewise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::token::{ShareId, Token};

const BASES: [&str; 3] = [
    "https://share.example",
    "https://share.example/",
    "http://127.0.0.1:8080/prefix",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = Token::parse(text) {
        for base in BASES {
            let link = token.to_link(base);
            assert_eq!(Token::parse(&link).as_ref(), Ok(&token), "link");
            let scanned = link.replace('#', "%23");
            assert_eq!(Token::parse(&scanned).as_ref(), Ok(&token), "%23 link");
        }
        assert_eq!(Token::parse(&token.to_text()).as_ref(), Ok(&token), "bare");
        let keys = token.derive();
        assert_eq!(
            ShareId::parse(&keys.share_id.to_string()),
            Ok(keys.share_id)
        );
    }
    if let Ok(code) = OpenCode::parse(text) {
        assert_eq!(
            OpenCode::parse(&code.display()).as_ref(),
            Ok(&code),
            "display"
        );
        assert_eq!(
            OpenCode::parse(code.as_str()).as_ref(),
            Ok(&code),
            "canonical"
        );
    }
    if let Ok(id) = ShareId::parse(text) {
        assert_eq!(id.to_string(), text, "share id text is canonical");
    }
});
