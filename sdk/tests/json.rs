//! The clients' JSON reader and writer (`oneshare_sdk::json`): RFC 8259 cases
//! written out (accept and reject), error kinds and offsets, the wire and
//! record types round-tripped, and serde_json as a reference on generated
//! values and mutated documents.
#![cfg(not(target_arch = "wasm32"))]
// The sample helpers below are not `#[test]` functions; a panic fails the test.
#![allow(clippy::panic)]

use oneshare_sdk::api::*;
use oneshare_sdk::json::{self, ErrorKind, MAX_DEPTH};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::OwnerData;
use oneshare_sdk::record::{Attachment, Field, FieldType, Record};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{PublicKey, SigningKey};
use oneshare_sdk::token::ShareId;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

fn ours_accepts(text: &[u8]) -> bool {
    json::from_slice::<IgnoredAny>(text).is_ok()
}

fn theirs_accepts(text: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(text).is_ok()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// JSONTestSuite-style `y_` cases: valid JSON, accepted by both readers.
#[test]
fn accepts_valid_json() {
    let deepest = nested(MAX_DEPTH - 1);
    let cases: &[&[u8]] = &[
        b"[]",
        b"{}",
        b" \t\r\n[ 1 , 2 ]\n",
        br#"{"a":[{"b":null,"c":true,"d":false}],"e":""}"#,
        b"0",
        b"-1",
        b"[-0]",
        b"[0.5e-3, 1E+2, 1e400, -1.25, 0e0]",
        b"[123456789012345678901234567890]",
        br#""\ud83d\ude00""#,
        br#""\uD83D\uDE00\u00e9\u0000\u001f""#,
        br#"["\"\\\/\b\f\n\r\t"]"#,
        "\"é😀\u{2028}\u{7f}\"".as_bytes(),
        br#"{"a":1,"a":2}"#,
        br#"{"":0}"#,
        b"null",
        b"true",
        b"\"\"",
        deepest.as_bytes(),
    ];
    for case in cases {
        let text = String::from_utf8_lossy(case);
        assert!(ours_accepts(case), "ours rejects {text}");
        assert!(theirs_accepts(case), "serde_json rejects {text}");
    }
}

/// `n_` cases: not JSON (or nested too deep), refused. serde_json agrees
/// except where noted: it skips unknown values without checking UTF-8 or
/// surrogates, and without a depth limit.
#[test]
fn rejects_invalid_json() {
    let deep = nested(MAX_DEPTH);
    // (input, serde_json also refuses it as an ignored value)
    let cases: &[(&[u8], bool)] = &[
        (b"", true),
        (b" ", true),
        (b"[", true),
        (b"]", true),
        (b"{\"a\":", true),
        (b"\"abc", true),
        (b"[1,]", true),
        (b"[1,,2]", true),
        (b"[,1]", true),
        (b"{\"a\":1,}", true),
        (b"{,}", true),
        (b"[1 2]", true),
        (b"{\"a\":1 \"b\":2}", true),
        (b"{\"a\" 1}", true),
        (b"{a:1}", true),
        (b"{'a':1}", true),
        (b"{1:1}", true),
        (b"{\"a\":1}}", true),
        (b"[01]", true),
        (b"[-01]", true),
        (b"[00]", true),
        (b"[1.]", true),
        (b"[.5]", true),
        (b"[1.e1]", true),
        (b"[1e]", true),
        (b"[1e+]", true),
        (b"[+1]", true),
        (b"[-]", true),
        (b"[0x1]", true),
        (b"[Infinity]", true),
        (b"[NaN]", true),
        (b"[tru]", true),
        (b"[True]", true),
        (b"nul", true),
        (br#"["\x"]"#, true),
        (br#"["\u12"]"#, true),
        (br#"["\u12g4"]"#, true),
        (br#"["\'"]"#, true),
        (b"[\"a\tb\"]", true),
        (b"[\"a\nb\"]", true),
        (b"[\"\x01\"]", true),
        (b"[\"\x00\"]", true),
        (b"[1] x", true),
        (b"[1][2]", true),
        (b"[1]\x00", true),
        (b"\xef\xbb\xbf[]", true),
        (b"\x0c[]", true),
        (b"/*c*/[]", true),
        (b"[1]//", true),
        // Lone or reversed surrogates, and text that is not UTF-8.
        (br#"["\ud800"]"#, false),
        (br#"["\udc00"]"#, false),
        (br#"["\ude00\ud83d"]"#, false),
        (br#"["\ud800\u0041"]"#, false),
        (br#"["\ud800x"]"#, false),
        (b"[\"\xff\"]", false),
        (b"[\"\xed\xa0\x80\"]", false),
        (b"[\"\xc0\xaf\"]", false),
        (b"[\"\xe2\x82\"]", false),
        (deep.as_bytes(), false),
    ];
    for &(case, theirs_too) in cases {
        let text = String::from_utf8_lossy(case);
        assert!(!ours_accepts(case), "ours accepts {text}");
        assert_eq!(!theirs_accepts(case), theirs_too, "serde_json on {text}");
        if !theirs_too {
            // Where the value is read rather than skipped, serde_json refuses it too.
            assert!(serde_json::from_slice::<Vec<String>>(case).is_err());
            assert!(json::from_slice::<Vec<String>>(case).is_err());
        }
    }
}

#[test]
fn errors_name_the_kind_and_the_byte() {
    let cases: &[(&[u8], ErrorKind, usize)] = &[
        (b"[1,]", ErrorKind::Syntax, 3),
        (b"[1", ErrorKind::Eof, 2),
        (b"[01]", ErrorKind::Number, 3),
        (br#"["ab\ud800"]"#, ErrorKind::Escape, 11),
        (b"[\"a\tb\"]", ErrorKind::Control, 4),
        (b"[\"\xff\"]", ErrorKind::Utf8, 4),
        (b"[1] x", ErrorKind::Trailing, 4),
        (b"[1.5]", ErrorKind::Type, 4),
        (b"[18446744073709551616]", ErrorKind::Range, 21),
        (b"[true]", ErrorKind::Type, 5),
    ];
    for &(case, kind, offset) in cases {
        let err = json::from_slice::<Vec<u64>>(case).err();
        assert_eq!(
            err.map(|e| (e.kind, e.offset)),
            Some((kind, offset)),
            "{}",
            String::from_utf8_lossy(case)
        );
    }
    let deep = json::from_slice::<IgnoredAny>(nested(MAX_DEPTH).as_bytes());
    assert_eq!(deep.map_err(|e| e.kind), Err(ErrorKind::Depth));
    // Hostile nesting far beyond the limit is an error, not a stack overflow.
    let hostile = "[".repeat(1_000_000);
    assert!(json::from_slice::<IgnoredAny>(hostile.as_bytes()).is_err());
    let text = json::read::<Vec<u64>>(b"[1,]", "list")
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        text.as_deref(),
        Some("invalid list: syntax error at byte 3")
    );
}

#[test]
fn integers_are_exact_and_floats_refused() {
    assert_eq!(
        json::from_slice::<u64>(b"18446744073709551615"),
        Ok(u64::MAX)
    );
    assert_eq!(
        json::from_slice::<i64>(b"-9223372036854775808"),
        Ok(i64::MIN)
    );
    assert_eq!(
        json::from_slice::<i64>(b"9223372036854775807"),
        Ok(i64::MAX)
    );
    assert_eq!(json::from_slice::<u8>(b"255"), Ok(255));
    assert_eq!(json::from_slice::<u32>(b" 0 "), Ok(0));
    for (text, kind) in [
        ("18446744073709551616", ErrorKind::Range),
        ("-9223372036854775809", ErrorKind::Range),
        ("256", ErrorKind::Value),
        ("-1", ErrorKind::Value),
        ("1.0", ErrorKind::Type),
        ("1e2", ErrorKind::Type),
        ("-0", ErrorKind::Type),
        ("\"1\"", ErrorKind::Type),
        ("null", ErrorKind::Type),
    ] {
        let ours = json::from_slice::<u8>(text.as_bytes()).map_err(|e| e.kind);
        assert_eq!(ours, Err(kind), "{text}");
        assert!(serde_json::from_str::<u8>(text).is_err(), "{text}");
    }
    assert_eq!(
        json::from_slice::<f64>(b"1.5").map_err(|e| e.kind),
        Err(ErrorKind::Unsupported)
    );
    assert_eq!(
        json::to_vec(&1.5f64).map_err(|e| e.kind),
        Err(ErrorKind::Unsupported)
    );
    let ints = vec![i64::MIN, 0, -7, i64::MAX];
    assert_eq!(json::to_vec(&ints).ok(), serde_json::to_vec(&ints).ok());
    // Tuples (and fixed arrays) are no wire type: byte arrays travel as base64.
    assert_eq!(
        json::to_vec(&[1u8, 2]).map_err(|e| e.kind),
        Err(ErrorKind::Unsupported)
    );
}

#[test]
fn strings_unescape_and_borrow() {
    assert_eq!(
        json::from_slice::<String>(br#""\ud83d\ude00 \u00E9\"\\\/\b\f\n\r\t""#).as_deref(),
        Ok("😀 é\"\\/\u{8}\u{c}\n\r\t")
    );
    // Without escapes, a string borrows from the input.
    assert_eq!(json::from_slice::<&str>(br#""plain""#), Ok("plain"));
    let maps = json::to_vec(&std::collections::BTreeMap::from([("a", 1)]));
    assert_eq!(maps.map_err(|e| e.kind), Err(ErrorKind::Unsupported));
}

/// Struct rules: unknown keys refused where the type says so and skipped (but
/// checked) elsewhere; duplicate and missing fields refused; objects only.
#[test]
fn struct_rules() {
    let kind = |r: Result<Record, json::Error>| r.map(drop).map_err(|e| e.kind);
    assert_eq!(kind(json::from_slice(br#"{"title":"t"}"#)), Ok(()));
    assert_eq!(
        kind(json::from_slice(br#"{"title":"t","x":1}"#)),
        Err(ErrorKind::Unknown)
    );
    assert_eq!(
        kind(json::from_slice(br#"{"title":"t","title":"u"}"#)),
        Err(ErrorKind::Duplicate)
    );
    assert_eq!(
        kind(json::from_slice(br#"{"fields":[]}"#)),
        Err(ErrorKind::Missing)
    );
    assert_eq!(
        kind(json::from_slice(br#"["t",[],[]]"#)),
        Err(ErrorKind::Type)
    );
    assert_eq!(
        kind(json::from_slice(
            br#"{"title":"t","fields":[{"type":"secret","value":"v"}]}"#
        )),
        Err(ErrorKind::Value)
    );
    let lenient = |text: &str| json::from_slice::<ClientSignals>(text.as_bytes());
    assert_eq!(
        lenient(r#"{"webdriver":true,"next":{"a":[1.5e3,null,"\ud83d\ude00"]},"next":-0}"#)
            .map(|s| s.webdriver),
        Ok(true)
    );
    for bad in [
        r#"{"next":[1,]}"#,
        r#"{"next":"\ud800"}"#,
        r#"{"next":01}"#,
        r#"{"next":tru}"#,
        r#"{"webdriver":true,"webdriver":false}"#,
    ] {
        assert!(lenient(bad).is_err(), "{bad}");
    }
    // The base64 helpers' own checks surface as a refused value.
    let short = br#"{"code_proof":"BwcH"}"#;
    assert_eq!(
        json::from_slice::<BindEvidence>(short).map_err(|e| e.kind),
        Err(ErrorKind::Value)
    );
}

/// The writer matches serde_json byte for byte, compact and pretty, on every
/// character class a string can hold.
#[test]
fn writer_matches_serde_json() {
    let all: String = (0u32..0x80)
        .chain([0x7ff, 0x800, 0x2028, 0xfffd, 0x1f600])
        .filter_map(char::from_u32)
        .collect();
    let record = Record {
        title: all.clone(),
        fields: vec![Field {
            kind: FieldType::Custom,
            label: Some(all),
            value: String::new(),
        }],
        attachments: vec![],
    };
    assert_eq!(json::to_vec(&record).ok(), serde_json::to_vec(&record).ok());
    for value in samples() {
        value.check();
    }
    let empty = Record::default();
    assert_eq!(
        json::to_vec_pretty(&empty).ok(),
        serde_json::to_vec_pretty(&empty).ok()
    );
}

fn key(seed: u8) -> PublicKey {
    SigningKey::from_bytes(&Secret::new([seed; 32]))
        .map(|k| k.public_key())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One value of a wire or record type, checked against serde_json.
trait Sample {
    fn check(&self);
}

impl<T: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug> Sample for T {
    fn check(&self) {
        let ours = json::to_vec(self).unwrap_or_else(|e| panic!("{e}"));
        let theirs = serde_json::to_vec(self).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
        assert_eq!(json::from_slice::<T>(&ours).as_ref(), Ok(self));
        let pretty = json::to_vec_pretty(self).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(&pretty), serde_json::to_vec_pretty(self).ok().as_ref());
        assert_eq!(json::from_slice::<T>(&pretty).as_ref(), Ok(self));
        assert_eq!(serde_json::from_slice::<T>(&ours).ok().as_ref(), Some(self));
    }
}

/// A value of every wire and record type (both sides of each option).
fn samples() -> Vec<Box<dyn Sample>> {
    let id = ShareId([0xfb; 16]);
    let record = RecordCiphertext {
        version: 2,
        ciphertext: vec![0, 255, 7],
    };
    let attachments = vec![AttachmentInfo {
        id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        size: u64::MAX,
    }];
    let summary = ShareSummary {
        share_id: id,
        state: State::SelfDestructed,
        created_at: 1,
        expires_at: 2,
        bound_at: Some(3),
        record_version: 4,
        self_destruct: true,
        owner_data: vec![1, 2],
    };
    let pending = PendingTransfer {
        share_id: id,
        request_id: [5; 16],
        device_key: key(1),
        ecdh_key: key(2),
        requested_at: 1,
        expires_at: 2,
        transfer_box: [6; oneshare_sdk::transfer::BOX_LEN],
    };
    let signals = ClientSignals {
        webdriver: true,
        headless: false,
        user_activation: Some(false),
        press_after_ms: Some(1200),
    };
    let mut out: Vec<Box<dyn Sample>> = vec![
        Box::new(RelayKeyResponse {
            current: RelayKeyInfo {
                key_id: "k1".into(),
                public_key: vec![4; 65],
                suite: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM".into(),
            },
            accepted: vec!["k1".into(), "k0".into()],
        }),
        Box::new(CreateShareRequest {
            share_id: id,
            verifier: [1; 32],
            wrapped_key: vec![2; 60],
            record: vec![3; 40],
            owner_data: vec![],
            expires_in: 86_400,
            self_destruct: true,
            attachments: vec![AttachmentDecl {
                id: "x".into(),
                size: 0,
            }],
            guard: Some(BindGuard {
                code_verifier: Some([7; 32]),
                require_code: true,
                passphrase_verifier: None,
            }),
            transfer_box: Some([8; oneshare_sdk::transfer::BOX_LEN]),
        }),
        Box::new(CreateShareRequest {
            share_id: id,
            verifier: [1; 32],
            wrapped_key: vec![],
            record: vec![],
            owner_data: vec![],
            expires_in: 0,
            self_destruct: false,
            attachments: vec![],
            guard: None,
            transfer_box: None,
        }),
        Box::new(CreateShareResponse {
            share_id: id,
            created_at: 0,
            expires_at: u64::MAX,
        }),
        Box::new(UploadStatus {
            part_size: 1 << 20,
            next_part: 3,
            received: 5,
            size: 9,
            complete: false,
        }),
        Box::new(BindRequest {
            bind_secret: [9; 32],
            device_key: key(3),
            evidence: Some(BindEvidence {
                code_proof: None,
                passphrase_proof: Some([1; 32]),
                signals: signals.clone(),
            }),
        }),
        Box::new(BindRequest {
            bind_secret: [9; 32],
            device_key: key(3),
            evidence: None,
        }),
        Box::new(ClientSignals::default()),
        Box::new(BindResponse {
            wrapped_key: vec![1; 60],
            record: record.clone(),
            attachments: attachments.clone(),
            access_expires_at: 7,
            self_destruct: false,
        }),
        Box::new(ConfirmResponse {
            access_expires_at: 8,
        }),
        Box::new(RecordResponse {
            record: record.clone(),
            attachments: vec![],
            access_expires_at: 9,
        }),
        Box::new(UpdateRecordRequest { record }),
        Box::new(ShareList {
            shares: vec![
                summary.clone(),
                ShareSummary {
                    bound_at: None,
                    owner_data: vec![],
                    state: State::Unbound,
                    ..summary
                },
            ],
        }),
        Box::new(ShareStatus {
            state: State::Binding,
            expires_at: 1,
            relay_key: None,
        }),
        Box::new(ShareStatus {
            state: State::Unbound,
            expires_at: 2,
            relay_key: Some(RelayKeyInfo {
                key_id: "AAAAAAAAAAA".into(),
                public_key: vec![4; 65],
                suite: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM".into(),
            }),
        }),
        Box::new(TransferRequest {
            request_id: [1; 16],
            bind_secret: [2; 32],
            device_key: key(4),
            ecdh_key: key(5),
        }),
        Box::new(TransferTicket {
            request_id: [1; 16],
            expires_at: 2,
        }),
        Box::new(TransferStatus {
            state: TransferState::Approved,
            expires_at: 2,
            transfer_key: Some([3; oneshare_sdk::transfer::TRANSFER_KEY_LEN]),
        }),
        Box::new(TransferStatus {
            state: TransferState::Pending,
            expires_at: 2,
            transfer_key: None,
        }),
        Box::new(TransferList {
            transfers: vec![pending],
        }),
        Box::new(ApproveTransfer {
            approval: [4; 64],
            transfer_key: [5; oneshare_sdk::transfer::TRANSFER_KEY_LEN],
        }),
        Box::new(Event {
            id: 1,
            share_id: id,
            kind: EventKind::TransferRequested,
            at: 2,
            detail: Some("from a cloud network, 3 s after creation".into()),
            device_fingerprint: Some("ab12".into()),
        }),
        Box::new(Policy {
            create: CreatePolicy::Enrolled,
            enrolled_owners: vec![key(6), key(7)],
            max_expires_in: 1,
            max_record_bytes: 2,
            max_attachment_bytes: 3,
            max_shares_per_owner: 4,
        }),
        Box::new(ErrorBody {
            code: "wrong_code".into(),
            message: "the \"open code\" is wrong".into(),
            attempts_left: Some(2),
        }),
        Box::new(OwnerData::new("for Alice\n", &Secret::new([1; 32]))),
        Box::new(Record {
            title: "Prod DB".into(),
            fields: vec![
                Field {
                    kind: FieldType::Password,
                    label: None,
                    value: "hunter2\u{0}".into(),
                },
                Field {
                    kind: FieldType::Custom,
                    label: Some("PIN".into()),
                    value: "1234".into(),
                },
            ],
            attachments: vec![Attachment {
                id: "a".into(),
                name: "report \"final\".pdf".into(),
                mime: "application/pdf".into(),
                size: 12,
                key: "k".into(),
            }],
        }),
    ];
    for kind in [
        EventKind::Created,
        EventKind::Bound,
        EventKind::Confirmed,
        EventKind::RefusedDevice,
        EventKind::Viewed,
        EventKind::Updated,
        EventKind::Revoked,
        EventKind::Expired,
        EventKind::SelfDestructed,
        EventKind::TransferRequested,
        EventKind::TransferApproved,
        EventKind::TransferDenied,
        EventKind::TransferExpired,
    ] {
        out.push(Box::new(kind));
    }
    for state in [State::Bound, State::Expired, State::Revoked] {
        out.push(Box::new(state));
    }
    for state in [TransferState::Denied, TransferState::Expired] {
        out.push(Box::new(state));
    }
    for kind in [
        FieldType::Login,
        FieldType::Url,
        FieldType::Note,
        FieldType::Totp,
    ] {
        out.push(Box::new(kind));
    }
    out.push(Box::new(CreatePolicy::Anyone));
    out
}

#[test]
fn owner_identity_file_stays_readable() {
    let id = oneshare_sdk::owner::OwnerIdentity::generate().unwrap_or_else(|e| panic!("{e}"));
    let text = id.to_json().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.starts_with("{\n  \"version\": 1,\n  \"signing_key\": \""),
        "{}",
        &text[..12]
    );
    let back =
        oneshare_sdk::owner::OwnerIdentity::from_json(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.public_key(), id.public_key());
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Deterministic: the same inputs every run.
        rng_seed: RngSeed::Fixed(0x6a73_6f6e),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any string, with control characters, quotes, backslashes and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\\u{0}-\u{1f}a-z\u{7f}é\u{2028}😀]{0,12}",
    ]
}

fn field() -> impl Strategy<Value = Field> {
    (
        prop_oneof![
            Just(FieldType::Login),
            Just(FieldType::Password),
            Just(FieldType::Url),
            Just(FieldType::Note),
            Just(FieldType::Totp),
        ],
        proptest::option::of(text()),
        text(),
    )
        .prop_map(|(kind, label, value)| Field { kind, label, value })
}

fn record() -> impl Strategy<Value = Record> {
    (
        text(),
        proptest::collection::vec(field(), 0..4),
        proptest::collection::vec(
            (text(), text(), any::<u64>()).prop_map(|(id, name, size)| Attachment {
                id,
                name,
                mime: "text/plain".into(),
                size,
                key: "k".into(),
            }),
            0..3,
        ),
    )
        .prop_map(|(title, fields, attachments)| Record {
            title,
            fields,
            attachments,
        })
}

/// A random JSON value as text, with random whitespace and every number form
/// RFC 8259 allows (what a lenient type must skip).
fn any_json() -> impl Strategy<Value = String> {
    let ws = "[ \t\r\n]{0,2}";
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
        text().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        Just(r#""\ud83d\ude00\u00e9\/""#.to_owned()),
    ];
    leaf.prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec((ws, inner.clone(), ws), 0..4).prop_map(|items| {
                let parts: Vec<String> = items.into_iter().map(|(a, v, b)| a + &v + &b).collect();
                format!("[{}]", parts.join(","))
            }),
            proptest::collection::vec(("[a-z]{0,3}", inner, ws), 0..4).prop_map(|items| {
                let parts: Vec<String> = items
                    .into_iter()
                    .map(|(k, v, w)| format!("\"{k}\"{w}:{w}{v}"))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }),
        ]
    })
}

/// Both readers on one input as type `T`: the same verdict, the same value.
fn agree<T: DeserializeOwned + PartialEq + core::fmt::Debug>(input: &[u8]) {
    let ours = json::from_slice::<T>(input).ok();
    let theirs = serde_json::from_slice::<T>(input).ok();
    assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(input));
}

/// Replaces, inserts or deletes bytes of `doc` at positions from `edits`,
/// drawing new bytes from JSON's own alphabet.
fn mutate(doc: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"{}[]\",:\\ 0123456789-+.eEtrufalsn\tuxA/";
    let mut out = doc.to_vec();
    for &(at, op, pick) in edits {
        let at = if out.is_empty() {
            0
        } else {
            at % (out.len() + 1)
        };
        let byte = ALPHABET[usize::from(pick) % ALPHABET.len()];
        match op % 3 {
            0 if at < out.len() => out[at] = byte,
            1 => out.insert(at, byte),
            _ if at < out.len() => {
                out.remove(at);
            }
            _ => out.push(byte),
        }
    }
    out
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn generated_records_match_serde_json(r in record()) {
        let ours = json::to_vec(&r).unwrap_or_default();
        prop_assert_eq!(&ours, &serde_json::to_vec(&r).unwrap_or_default());
        prop_assert_eq!(json::from_slice::<Record>(&ours).ok(), Some(r.clone()));
        let pretty = json::to_vec_pretty(&r).unwrap_or_default();
        prop_assert_eq!(&pretty, &serde_json::to_vec_pretty(&r).unwrap_or_default());
        prop_assert_eq!(json::from_slice::<Record>(&pretty).ok(), Some(r));
    }

    #[test]
    fn generated_json_is_read_alike(value in any_json(), lead in "[ \t\r\n]{0,2}") {
        let doc = format!("{lead}{value}{lead}");
        prop_assert!(ours_accepts(doc.as_bytes()), "{}", doc);
        let signals = format!(r#"{{"headless":true,"later":{value},"press_after_ms":7}}"#);
        agree::<ClientSignals>(signals.as_bytes());
        prop_assert!(json::from_slice::<ClientSignals>(signals.as_bytes()).is_ok());
    }

    #[test]
    fn mutated_documents_are_read_alike(
        which in 0usize..4,
        r in record(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
    ) {
        let docs = [
            json::to_vec(&r).unwrap_or_default(),
            json::to_vec_pretty(&r).unwrap_or_default(),
            br#"{"webdriver":false,"headless":true,"user_activation":null,"press_after_ms":120,"x":[1.5,{"y":"\u00e9"}]}"#.to_vec(),
            br#"{"id":18446744073709551615,"share_id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"bound","at":0,"detail":null}"#.to_vec(),
        ];
        let input = mutate(&docs[which], &edits);
        if std::str::from_utf8(&input).is_err() {
            // Bytes that are not UTF-8 are an error wherever they are; serde_json
            // lets them pass in skipped values (documented in `json`).
            prop_assert!(!ours_accepts(&input));
            prop_assert!(json::from_slice::<ClientSignals>(&input).is_err());
            return Ok(());
        }
        agree::<Record>(&input);
        agree::<ClientSignals>(&input);
        agree::<Event>(&input);
        agree::<Vec<u64>>(&input);
        prop_assert_eq!(ours_accepts(&input), theirs_accepts(&input), "{}", String::from_utf8_lossy(&input));
    }
}
