//! Writes the known-answer vectors in `sdk/vectors/*.json` (PROTOCOL.md §13).
//!
//! Run once with `cargo run -p oneshare-sdk --example gen_vectors` and commit the
//! files; `sdk/tests/vectors.rs` (and the wasm SDK's tests) check that the core
//! still reproduces them byte for byte. Inputs are fixed (counting bytes, or
//! SHA-256 of a label so they look random), so a re-run writes identical files.
//! The one exception is HPKE sealing, which is randomized by design: the header
//! stored in `hpke.json` is kept when it still opens, so re-runs stay identical.
//!
//! Negative cases state the error the *protocol* requires (PROTOCOL.md); the
//! generator refuses to write a file when the core disagrees with one.

// The case tables below are tuples, one row per vector: a struct per table would
// only add names that the JSON keys already give.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use oneshare_sdk::duration;
use oneshare_sdk::encoding::{b64, unb64};
use oneshare_sdk::envelope;
use oneshare_sdk::factor::{Factor, Proof};
use oneshare_sdk::lifetime::{BindDecision, Lifetime, State, decide_bind};
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::owner::{self, OwnerData, OwnerIdentity};
use oneshare_sdk::passphrase::{self, Nfc};
use oneshare_sdk::record::{self, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{
    self, PublicKey, Request, SignedHeaders, Signer, SigningKey, canonical, sign_with_nonce,
};
use oneshare_sdk::stream::{
    self, ENCRYPTED_SEGMENT_SIZE, Encryptor, HEADER_LEN, SEGMENT_SIZE, SegmentNonce,
};
use oneshare_sdk::token::{ShareId, Token, alarm_verifier, verifier};
use oneshare_sdk::transfer;
use oneshare_sdk::transmission::{self, RelayKeyPair, RelayPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> R {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    fs::create_dir_all(&dir)?;
    let files: [(&str, &str, Vec<Value>); 13] = [
        ("token.json", TOKEN_DESC, token_cases()?),
        ("envelope.json", ENVELOPE_DESC, envelope_cases()?),
        ("record.json", RECORD_DESC, record_cases()?),
        ("wrapped_key.json", WRAPPED_DESC, wrapped_key_cases()?),
        ("owner_data.json", OWNER_DESC, owner_data_cases()?),
        ("stream.json", STREAM_DESC, stream_cases()?),
        ("signing.json", SIGNING_DESC, signing_cases()?),
        ("hpke.json", HPKE_DESC, hpke_cases(&dir)?),
        ("duration.json", DURATION_DESC, duration_cases()?),
        ("lifetime.json", LIFETIME_DESC, lifetime_cases()?),
        ("open_code.json", OPEN_CODE_DESC, open_code_cases()?),
        ("passphrase.json", PASSPHRASE_DESC, passphrase_cases()?),
        ("transfer.json", TRANSFER_DESC, transfer_cases(&dir)?),
    ];
    for (name, description, cases) in files {
        let count = cases.len();
        let mut names = std::collections::BTreeSet::new();
        if let Some(dup) = cases.iter().find(|c| !names.insert(c["name"].to_string())) {
            return Err(format!("{name}: duplicate case name {}", dup["name"]).into());
        }
        let description = format!("{description} {CONVENTIONS}");
        let doc = json!({ "description": description, "cases": cases });
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        fs::write(dir.join(name), text)?;
        println!("{name}: {count} cases");
    }
    Ok(())
}

const CONVENTIONS: &str = "Fields ending in _hex are lower-case hex, _b64 base64url without padding, \
anything else text or a JSON number. Each case has an op, a name, inputs, and either \
`expected` (exact outputs) or `error` (the stable code of oneshare_sdk::Error::code).";

const TOKEN_DESC: &str = "PROTOCOL.md §1-2: token text, link syntax and HKDF derivations. \
op=derive: token bytes and relay base URL -> token text, link, share_id, wrap_key, bind_secret, \
verifier = SHA-256(bind_secret), alarm_verifier = SHA-256(\"oneshare/v1/alarm-verifier\" || \
bind_secret). op=parse: a link as pasted -> token bytes, or invalid_link.";
const ENVELOPE_DESC: &str = "PROTOCOL.md §3: envelope = 0x01 || commitment (16) || nonce (12) || \
AES-256-GCM(key, nonce, aad, plaintext). op=seal: inputs -> commitment and envelope (which must \
also open back to the plaintext). op=open: an envelope that must fail with `error`.";
const RECORD_DESC: &str = "PROTOCOL.md §4.1-4.2: record JSON sealed under the record key with AAD \
\"oneshare/v1/record\" || 0x00 || share_id || u64be(version). op=seal: record object -> canonical \
record_json, aad, envelope. op=open: an envelope that must fail with `error` at that share id and \
version.";
const WRAPPED_DESC: &str = "PROTOCOL.md §4.3: the record key sealed under wrap_key with AAD \
\"oneshare/v1/wrapped-key\" || 0x00 || share_id (77 bytes). op=wrap: -> aad and wrapped key. \
op=unwrap: a wrapped key that must fail with `error`.";
const OWNER_DESC: &str = "PROTOCOL.md §8: owner data {\"label\", \"record_key\"} sealed under the \
owner key with AAD \"oneshare/v1/owner-data\" || 0x00 || share_id (op=seal / op=open), and the \
CLI identity file {\"version\": 1, \"signing_key\", \"owner_key\"} (op=identity / op=parse_identity).";
const STREAM_DESC: &str = "PROTOCOL.md §5: STREAM attachments. Plaintext of `plaintext_len` bytes \
where byte i = i mod 251. op=seal: file key, nonce prefix -> header, total ciphertext length, \
segment count, first 64 and last 32 ciphertext bytes, SHA-256 of the whole ciphertext. op=open: \
take the ciphertext of the seal case named `stream`, apply `tamper`, open with file_key_hex, \
expect `error`. Tamper kinds: none; drop_final_segment; truncate_to {length}; swap_segments {a, b}; \
append_copy_of_segment {index}; append_hex {hex}; flip_bit {offset, bit} (byte offset in the whole \
ciphertext, bit 0 = least significant); reseal_segment {index, last} (re-encrypt plaintext chunk \
`index` with the given last flag, as a buggy or malicious encryptor would). Segments are counted \
after the 24-byte header, 65552 ciphertext bytes each.";
const SIGNING_DESC: &str = "PROTOCOL.md §6: ECDSA P-256 / SHA-256, P1363 signatures, RFC 6979 \
deterministic signing. op=sign_message: RFC 6979 A.2.5 known answers. op=sign_request: private \
scalar, signer header, method, path, body, timestamp, nonce, transmission header (null = absent, \
signed as \"-\") -> public key, canonical string, signature, header values. op=verify: headers and \
request checked at relay clock `now` -> expected \"ok\" or error. op=parse_headers: header values -> \
parsed fields or invalid_header. op=public_key: 65-byte uncompressed SEC1 only.";
const HPKE_DESC: &str = "PROTOCOL.md §7: RFC 9180 base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, \
AES-256-GCM. op=derive: relay IKM -> private scalar, public key, key_id. op=import: private scalar \
-> public key or invalid_key. op=relay_public_key: public key bytes -> key_id or invalid_key. \
op=open_header: a oneshare-transmission-key header sealed once (sealing is randomized) -> the \
transmission key, or error. op=request / op=response: body sealed under the transmission key with \
AAD \"oneshare/v1/request|response\" || 0x00 || request nonce. op=open_request / op=open_response: \
must fail with error.";
const DURATION_DESC: &str = "PROTOCOL.md §9.4: expiry durations. op=parse: text -> seconds \
(60 ..= 31536000) or duration. op=format: seconds -> compact text.";
const LIFETIME_DESC: &str = "PROTOCOL.md §9.4: op=deadline: created_at, expires_in, self_destruct, \
bound_at (null if never bound), stored state, now -> deadline (Unix seconds) and state at now. \
op=bind: decision for a bind attempt (bound_key_b64 null if none) -> bind | retry | other_device | \
gone (with state).";

// ---------------------------------------------------------------- helpers

/// Deterministic "random-looking" bytes: SHA-256 of a label in counter mode.
fn fixed<const N: usize>(label: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let digest = Sha256::new()
            .chain_update(b"oneshare/v1/test-vector/")
            .chain_update(label.as_bytes())
            .chain_update([i as u8])
            .finalize();
        chunk.copy_from_slice(&digest[..chunk.len()]);
    }
    out
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

fn counting<const N: usize>() -> [u8; N] {
    core::array::from_fn(|i| i as u8)
}

/// Checks that the core fails with `code`, and returns it for the file.
fn must_fail<T>(name: &str, result: oneshare_sdk::Result<T>, code: &str) -> R<&'static str> {
    match result {
        Ok(_) => Err(format!("{name}: the core accepted what must fail with {code}").into()),
        Err(e) if e.code() == code => Ok(e.code()),
        Err(e) => Err(format!("{name}: expected {code}, the core says {}", e.code()).into()),
    }
}

fn flip(bytes: &[u8], index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= mask;
    out
}

fn counting_token() -> Token {
    Token::from_bytes(counting())
}

fn share_id() -> ShareId {
    counting_token().derive().share_id
}

// ---------------------------------------------------------------- token

fn token_cases() -> R<Vec<Value>> {
    let mut cases = Vec::new();
    let tokens: [(&str, [u8; 32], &str); 5] = [
        ("counting", counting(), "https://share.example"),
        ("zeros", [0; 32], "https://share.example/"),
        ("ones", [0xff; 32], "http://127.0.0.1:8080"),
        (
            "url_safe_chars",
            url_safe_token_bytes(),
            "https://share.example",
        ),
        (
            "pseudo_random",
            fixed("token"),
            "https://oneshare.example.org/relay",
        ),
    ];
    for (name, bytes, base) in tokens {
        let t = Token::from_bytes(bytes);
        let keys = t.derive();
        cases.push(json!({
            "op": "derive",
            "name": format!("derive_{name}"),
            "token_hex": hex(bytes),
            "base": base,
            "expected": {
                "token_b64": t.to_text(),
                "link": t.to_link(base),
                "share_id_b64": keys.share_id.to_string(),
                "share_id_hex": hex(keys.share_id.0),
                "wrap_key_hex": hex(keys.wrap_key.expose()),
                "bind_secret_hex": hex(keys.bind_secret.expose()),
                "verifier_hex": hex(verifier(&keys.bind_secret)),
                "alarm_verifier_hex": hex(alarm_verifier(&keys.bind_secret)),
            }
        }));
    }

    let t = counting_token();
    let text = t.to_text();
    let link = t.to_link("https://share.example");
    let special = Token::from_bytes(url_safe_token_bytes());
    let positives: Vec<(&str, String, &Token)> = vec![
        ("canonical_link", link.clone(), &t),
        ("fragment_encoded_once", link.replace('#', "%23"), &t),
        ("fragment_encoded_twice", link.replace('#', "%2523"), &t),
        ("surrounding_whitespace", format!(" \t{link}\r\n"), &t),
        ("angle_brackets", format!("<{link}>"), &t),
        ("angle_brackets_and_spaces", format!("  <{link}>  "), &t),
        ("trailing_full_stop", format!("{link}."), &t),
        ("trailing_quote", format!("{link}\""), &t),
        ("trailing_closing_parenthesis", format!("{link})"), &t),
        ("bare_token", text.clone(), &t),
        ("bare_token_with_newline", format!("{text}\n"), &t),
        (
            "hash_takes_precedence_over_percent_23",
            format!("https://share.example/s%23AAAA#{text}"),
            &t,
        ),
        (
            "link_with_query_before_fragment",
            format!("https://share.example/s?lang=de#{text}"),
            &t,
        ),
        (
            "url_safe_alphabet",
            special.to_link("https://share.example"),
            &special,
        ),
        (
            "url_safe_alphabet_encoded_twice",
            special
                .to_link("https://share.example")
                .replace('#', "%2523"),
            &special,
        ),
    ];
    for (name, input, expected) in positives {
        let parsed = Token::parse(&input)?;
        if &parsed != expected {
            return Err(format!("parse {name}: wrong token").into());
        }
        cases.push(json!({
            "op": "parse",
            "name": name,
            "link": input,
            "expected": { "token_hex": hex(token_bytes(expected)) },
        }));
    }

    let mut non_canonical = text.clone();
    let last = non_canonical.pop().ok_or("empty token text")?;
    non_canonical.push(non_canonical_variant(last)?);
    let mut plus = text.clone();
    plus.replace_range(10..11, "+");
    let mut slash = text.clone();
    slash.replace_range(20..21, "/");
    let mut accented = text.clone();
    accented.replace_range(5..6, "é");
    let negatives: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("only_whitespace", " \t\n".into()),
        ("no_fragment", "https://share.example/s".into()),
        ("empty_fragment", "https://share.example/s#".into()),
        (
            "empty_after_percent_23",
            "https://share.example/s%23".into(),
        ),
        (
            "token_missing_last_character",
            link[..link.len() - 1].into(),
        ),
        (
            "token_cut_to_30_characters",
            format!("https://share.example/s#{}", &text[..30]),
        ),
        ("token_one_character_too_long", format!("{link}A")),
        ("bare_token_one_character_short", text[..42].into()),
        (
            "plus_inside_token",
            format!("https://share.example/s#{plus}"),
        ),
        (
            "slash_inside_token",
            format!("https://share.example/s#{slash}"),
        ),
        (
            "non_ascii_inside_token",
            format!("https://share.example/s#{accented}"),
        ),
        (
            "non_canonical_last_character",
            format!("https://share.example/s#{non_canonical}"),
        ),
        (
            "percent_encoded_other_character",
            format!("https://share.example/s%2F{text}"),
        ),
    ];
    for (name, input) in negatives {
        let code = must_fail(name, Token::parse(&input), "invalid_link")?;
        cases.push(json!({ "op": "parse", "name": name, "link": input, "error": code }));
    }
    Ok(cases)
}

/// Bytes whose base64url text contains both `-` and `_`.
fn url_safe_token_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..3].copy_from_slice(&[0xfb, 0xef, 0xbe]); // "----"
    b[3..6].copy_from_slice(&[0xff, 0xff, 0xff]); // "____"
    b[6..].copy_from_slice(&fixed::<26>("url-safe token"));
    b
}

fn token_bytes(t: &Token) -> Vec<u8> {
    unb64(&t.to_text(), "token").unwrap_or_default()
}

/// The last character of 32 bytes in base64url carries 4 bits and 2 zero bits;
/// setting a zero bit gives a non-canonical encoding of the same bytes.
fn non_canonical_variant(c: char) -> R<char> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .ok_or("not base64url")?;
    Ok(char::from(ALPHABET[index | 1]))
}

// ---------------------------------------------------------------- envelope

fn envelope_cases() -> R<Vec<Value>> {
    let key: [u8; 32] = fixed("envelope key");
    let nonce: [u8; 12] = fixed("envelope nonce");
    let test_aad = envelope::aad("oneshare/v1/test", &[b"context"]);
    let binary: Vec<u8> = (0..=255).collect();
    let positives: Vec<(&str, [u8; 32], [u8; 12], Vec<u8>, Vec<u8>)> = vec![
        ("empty_plaintext_empty_aad", key, nonce, vec![], vec![]),
        (
            "short_text",
            key,
            nonce,
            test_aad.clone(),
            b"hello, oneshare".to_vec(),
        ),
        (
            "all_byte_values",
            key,
            fixed("envelope nonce 2"),
            envelope::aad("oneshare/v1/test", &[&[1, 2, 3]]),
            binary,
        ),
        (
            "zero_key_zero_nonce",
            [0; 32],
            [0; 12],
            vec![],
            b"x".to_vec(),
        ),
        (
            "long_aad",
            key,
            nonce,
            fixed::<300>("long aad").to_vec(),
            b"{\"k\":\"v\"}".to_vec(),
        ),
    ];
    let mut cases = Vec::new();
    for (name, key, nonce, aad, pt) in &positives {
        let k = Secret::new(*key);
        let sealed = envelope::seal_with_nonce(&k, *nonce, aad, pt);
        if envelope::open(&k, aad, &sealed)? != *pt {
            return Err(format!("{name}: does not open").into());
        }
        cases.push(json!({
            "op": "seal",
            "name": name,
            "key_hex": hex(key),
            "nonce_hex": hex(nonce),
            "aad_hex": hex(aad),
            "plaintext_hex": hex(pt),
            "expected": {
                "commitment_hex": hex(envelope::commitment(&k)),
                "envelope_hex": hex(&sealed),
            }
        }));
    }

    let k = Secret::new(key);
    let good = envelope::seal_with_nonce(&k, nonce, &test_aad, b"hello, oneshare");
    let other_key: [u8; 32] = fixed("other key");
    let last = good.len() - 1;
    let negatives: Vec<(&str, [u8; 32], Vec<u8>, Vec<u8>, &str)> = vec![
        (
            "wrong_key",
            other_key,
            test_aad.clone(),
            good.clone(),
            "wrong_key",
        ),
        (
            "version_2",
            key,
            test_aad.clone(),
            flip(&good, 0, 0x03),
            "unsupported_version",
        ),
        (
            "version_0",
            key,
            test_aad.clone(),
            flip(&good, 0, 0x01),
            "unsupported_version",
        ),
        (
            "flipped_commitment_bit",
            key,
            test_aad.clone(),
            flip(&good, 3, 0x10),
            "wrong_key",
        ),
        (
            "flipped_nonce_bit",
            key,
            test_aad.clone(),
            flip(&good, 17, 0x01),
            "decrypt",
        ),
        (
            "flipped_ciphertext_bit",
            key,
            test_aad.clone(),
            flip(&good, 29, 0x80),
            "decrypt",
        ),
        (
            "flipped_tag_bit",
            key,
            test_aad.clone(),
            flip(&good, last, 0x01),
            "decrypt",
        ),
        (
            "flipped_aad_bit",
            key,
            flip(&test_aad, 0, 0x20),
            good.clone(),
            "decrypt",
        ),
        ("aad_missing", key, vec![], good.clone(), "decrypt"),
        (
            "tag_cut_by_one_byte",
            key,
            test_aad.clone(),
            good[..last].to_vec(),
            "decrypt",
        ),
        (
            "extra_byte_appended",
            key,
            test_aad.clone(),
            [&good[..], &[0]].concat(),
            "decrypt",
        ),
        (
            "shorter_than_overhead",
            key,
            test_aad.clone(),
            good[..envelope::OVERHEAD - 1].to_vec(),
            "malformed",
        ),
        (
            "version_byte_only",
            key,
            test_aad.clone(),
            good[..1].to_vec(),
            "malformed",
        ),
        ("empty", key, test_aad.clone(), vec![], "malformed"),
    ];
    for (name, key, aad, env, code) in negatives {
        let code = must_fail(name, envelope::open(&Secret::new(key), &aad, &env), code)?;
        cases.push(json!({
            "op": "open",
            "name": name,
            "key_hex": hex(key),
            "aad_hex": hex(&aad),
            "envelope_hex": hex(&env),
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- record

fn full_record() -> Value {
    json!({
        "title": "Production database",
        "fields": [
            {"type": "login", "value": "admin"},
            {"type": "password", "value": "correct horse battery staple"},
            {"type": "url", "value": "https://db.example"},
            {"type": "note", "value": "Rotate after use.\nCall Bob first."},
            {"type": "totp", "value": "otpauth://totp/db?secret=JBSWY3DPEHPK3PXP"},
            {"type": "custom", "label": "PIN", "value": "1234"}
        ],
        "attachments": [{
            "id": b64(fixed::<16>("attachment id")),
            "name": "cert.pem",
            "mime": "application/x-pem-file",
            "size": 1234,
            "key": b64(fixed::<32>("file key")),
        }]
    })
}

fn record_cases() -> R<Vec<Value>> {
    let key: [u8; 32] = fixed("record key");
    let k = Secret::new(key);
    let id = share_id();
    let other_id = ShareId(fixed("other share id"));
    let positives: Vec<(&str, ShareId, u64, Value, [u8; 12])> = vec![
        (
            "full_example_v1",
            id,
            1,
            full_record(),
            fixed("record nonce"),
        ),
        (
            "minimal_v1",
            id,
            1,
            json!({"title": "t", "fields": []}),
            fixed("record nonce 2"),
        ),
        (
            "unicode_and_labels_v2",
            id,
            2,
            json!({"title": "Zugang für Ünïcødé 🔑", "fields": [
                {"type": "password", "label": "Wi-Fi \"guest\"", "value": "p\u{e4}ss\\w\u{f6}rd"},
                {"type": "custom", "label": "Notiz", "value": "line 1\nline 2\t<tab>"}
            ]}),
            fixed("record nonce 3"),
        ),
        (
            "large_version",
            other_id,
            1 << 40,
            json!({"title": "v", "fields": [{"type": "note", "value": ""}]}),
            [0; 12],
        ),
    ];
    let mut cases = Vec::new();
    for (name, sid, version, record, nonce) in &positives {
        let parsed = Record::from_json(&serde_json::to_vec(record)?)?;
        let sealed = record::seal_record_with_nonce(&k, sid, *version, &parsed, *nonce)?;
        if record::open_record(&k, sid, *version, &sealed)? != parsed {
            return Err(format!("{name}: does not open").into());
        }
        cases.push(json!({
            "op": "seal",
            "name": name,
            "record_key_hex": hex(key),
            "share_id_b64": sid.to_string(),
            "version": version,
            "record": record,
            "nonce_hex": hex(nonce),
            "expected": {
                "record_json": String::from_utf8(parsed.to_json()?.to_vec())?,
                "aad_hex": hex(record::record_aad(sid, *version)),
                "envelope_hex": hex(&sealed),
            }
        }));
    }

    let full = Record::from_json(&serde_json::to_vec(&full_record())?)?;
    let good = record::seal_record_with_nonce(&k, &id, 1, &full, fixed("record nonce"))?;
    let aad1 = record::record_aad(&id, 1);
    let sealed_plain =
        |pt: &[u8]| envelope::seal_with_nonce(&k, fixed("record nonce 4"), &aad1, pt);
    let last = good.len() - 1;
    let negatives: Vec<(&str, [u8; 32], ShareId, u64, Vec<u8>, &str)> = vec![
        ("opened_as_version_2", key, id, 2, good.clone(), "decrypt"),
        ("opened_as_version_0", key, id, 0, good.clone(), "decrypt"),
        ("other_share_id", key, other_id, 1, good.clone(), "decrypt"),
        (
            "wrong_record_key",
            fixed("other key"),
            id,
            1,
            good.clone(),
            "wrong_key",
        ),
        (
            "flipped_tag_bit",
            key,
            id,
            1,
            flip(&good, last, 0x40),
            "decrypt",
        ),
        (
            "flipped_ciphertext_bit",
            key,
            id,
            1,
            flip(&good, 40, 0x01),
            "decrypt",
        ),
        (
            "bad_version_byte",
            key,
            id,
            1,
            flip(&good, 0, 0xff),
            "unsupported_version",
        ),
        (
            "plaintext_not_json",
            key,
            id,
            1,
            sealed_plain(b"hunter2"),
            "json",
        ),
        (
            "unknown_key",
            key,
            id,
            1,
            sealed_plain(br#"{"title":"t","fields":[],"extra":1}"#),
            "json",
        ),
        (
            "unknown_field_type",
            key,
            id,
            1,
            sealed_plain(br#"{"title":"t","fields":[{"type":"pin","value":"1"}]}"#),
            "json",
        ),
        (
            "custom_field_without_label",
            key,
            id,
            1,
            sealed_plain(br#"{"title":"t","fields":[{"type":"custom","value":"1"}]}"#),
            "json",
        ),
        (
            "missing_title",
            key,
            id,
            1,
            sealed_plain(br#"{"fields":[]}"#),
            "json",
        ),
    ];
    for (name, key, sid, version, env, code) in negatives {
        let code = must_fail(
            name,
            record::open_record(&Secret::new(key), &sid, version, &env),
            code,
        )?;
        cases.push(json!({
            "op": "open",
            "name": name,
            "record_key_hex": hex(key),
            "share_id_b64": sid.to_string(),
            "version": version,
            "envelope_hex": hex(&env),
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- wrapped key

fn wrapped_key_cases() -> R<Vec<Value>> {
    let keys = counting_token().derive();
    let wrap = *keys.wrap_key.expose();
    let id = keys.share_id;
    let record_key: [u8; 32] = fixed("record key");
    let positives: Vec<(&str, [u8; 32], ShareId, [u8; 32], [u8; 12])> = vec![
        (
            "wrap_key_from_counting_token",
            wrap,
            id,
            record_key,
            fixed("wrap nonce"),
        ),
        (
            "constant_inputs",
            [0x42; 32],
            ShareId([0; 16]),
            [0; 32],
            [0xff; 12],
        ),
    ];
    let mut cases = Vec::new();
    for (name, wk, sid, rk, nonce) in &positives {
        let (wk_s, rk_s) = (Secret::new(*wk), Secret::new(*rk));
        let wrapped = record::wrap_key_with_nonce(&wk_s, sid, &rk_s, *nonce);
        if record::unwrap_key(&wk_s, sid, &wrapped)? != rk_s {
            return Err(format!("{name}: does not unwrap").into());
        }
        cases.push(json!({
            "op": "wrap",
            "name": name,
            "wrap_key_hex": hex(wk),
            "share_id_b64": sid.to_string(),
            "record_key_hex": hex(rk),
            "nonce_hex": hex(nonce),
            "expected": {
                "aad_hex": hex(record::wrap_aad(sid)),
                "wrapped_key_hex": hex(&wrapped),
            }
        }));
    }

    let good = record::wrap_key_with_nonce(
        &Secret::new(wrap),
        &id,
        &Secret::new(record_key),
        fixed("wrap nonce"),
    );
    // A well-formed 77-byte envelope under the right key but with the record AAD.
    let wrong_label = envelope::seal_with_nonce(
        &Secret::new(wrap),
        fixed("wrap nonce"),
        &record::record_aad(&id, 1),
        &record_key,
    );
    let last = good.len() - 1;
    let other_id = ShareId(fixed("other share id"));
    let negatives: Vec<(&str, [u8; 32], ShareId, Vec<u8>, &str)> = vec![
        (
            "wrong_wrap_key",
            fixed("other key"),
            id,
            good.clone(),
            "wrong_key",
        ),
        ("other_share_id", wrap, other_id, good.clone(), "decrypt"),
        (
            "flipped_tag_bit",
            wrap,
            id,
            flip(&good, last, 0x01),
            "decrypt",
        ),
        (
            "flipped_nonce_bit",
            wrap,
            id,
            flip(&good, 20, 0x08),
            "decrypt",
        ),
        (
            "flipped_key_bit",
            wrap,
            id,
            flip(&good, 30, 0x01),
            "decrypt",
        ),
        (
            "bad_version_byte",
            wrap,
            id,
            flip(&good, 0, 0x02),
            "unsupported_version",
        ),
        (
            "record_label_instead_of_wrap_label",
            wrap,
            id,
            wrong_label,
            "decrypt",
        ),
        ("cut_by_one_byte", wrap, id, good[..last].to_vec(), "length"),
        (
            "one_byte_appended",
            wrap,
            id,
            [&good[..], &[0]].concat(),
            "length",
        ),
        ("empty", wrap, id, vec![], "length"),
    ];
    for (name, wk, sid, wrapped, code) in negatives {
        let code = must_fail(
            name,
            record::unwrap_key(&Secret::new(wk), &sid, &wrapped),
            code,
        )?;
        cases.push(json!({
            "op": "unwrap",
            "name": name,
            "wrap_key_hex": hex(wk),
            "share_id_b64": sid.to_string(),
            "wrapped_key_hex": hex(&wrapped),
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- owner data

fn owner_data_cases() -> R<Vec<Value>> {
    let owner_key: [u8; 32] = fixed("owner key");
    let ok = Secret::new(owner_key);
    let id = share_id();
    let record_key: [u8; 32] = fixed("record key");
    let positives: Vec<(&str, ShareId, &str, [u8; 32], [u8; 12])> = vec![
        (
            "label_for_alice",
            id,
            "DB password for Alice",
            record_key,
            fixed("owner nonce"),
        ),
        ("empty_label", id, "", [0; 32], fixed("owner nonce 2")),
        (
            "unicode_label",
            ShareId([0xab; 16]),
            "Schlüssel für \"Bob\" 🔐",
            record_key,
            [1; 12],
        ),
    ];
    let mut cases = Vec::new();
    for (name, sid, label, rk, nonce) in &positives {
        let data = OwnerData::new(*label, &Secret::new(*rk));
        let sealed = owner::seal_owner_data_with_nonce(&ok, sid, &data, *nonce)?;
        if owner::open_owner_data(&ok, sid, &sealed)? != data {
            return Err(format!("{name}: does not open").into());
        }
        cases.push(json!({
            "op": "seal",
            "name": name,
            "owner_key_hex": hex(owner_key),
            "share_id_b64": sid.to_string(),
            "label": label,
            "record_key_hex": hex(rk),
            "nonce_hex": hex(nonce),
            "expected": {
                "owner_data_json": serde_json::to_string(&data)?,
                "aad_hex": hex(owner::owner_aad(sid)),
                "envelope_hex": hex(&sealed),
            }
        }));
    }

    let data = OwnerData::new("DB password for Alice", &Secret::new(record_key));
    let good = owner::seal_owner_data_with_nonce(&ok, &id, &data, fixed("owner nonce"))?;
    let aad = owner::owner_aad(&id);
    let sealed_plain = |pt: &[u8]| envelope::seal_with_nonce(&ok, [2; 12], &aad, pt);
    let last = good.len() - 1;
    let negatives: Vec<(&str, [u8; 32], ShareId, Vec<u8>, &str)> = vec![
        (
            "wrong_owner_key",
            fixed("other key"),
            id,
            good.clone(),
            "wrong_key",
        ),
        (
            "other_share_id",
            owner_key,
            ShareId(fixed("other share id")),
            good.clone(),
            "decrypt",
        ),
        (
            "flipped_tag_bit",
            owner_key,
            id,
            flip(&good, last, 0x80),
            "decrypt",
        ),
        (
            "missing_record_key",
            owner_key,
            id,
            sealed_plain(br#"{"label":"x"}"#),
            "json",
        ),
        (
            "unknown_key",
            owner_key,
            id,
            sealed_plain(br#"{"label":"x","record_key":"AA","x":1}"#),
            "json",
        ),
        ("truncated", owner_key, id, good[..10].to_vec(), "malformed"),
    ];
    for (name, key, sid, env, code) in negatives {
        let code = must_fail(
            name,
            owner::open_owner_data(&Secret::new(key), &sid, &env),
            code,
        )?;
        cases.push(json!({
            "op": "open",
            "name": name,
            "owner_key_hex": hex(key),
            "share_id_b64": sid.to_string(),
            "envelope_hex": hex(&env),
            "error": code,
        }));
    }

    // The identity file.
    let scalar: [u8; 32] = fixed("owner signing key");
    let identity = OwnerIdentity {
        signing_key: SigningKey::from_bytes(&Secret::new(scalar))?,
        owner_key: Secret::new(owner_key),
    };
    let text = identity.to_json()?.to_string();
    let back = OwnerIdentity::from_json(&text)?;
    if back.public_key() != identity.public_key() {
        return Err("identity: round trip".into());
    }
    cases.push(json!({
        "op": "identity",
        "name": "identity_file",
        "signing_key_hex": hex(scalar),
        "owner_key_hex": hex(owner_key),
        "expected": {
            "identity_json": text,
            "public_key_b64": identity.public_key().to_string(),
        }
    }));
    let file = |version: u64, signing: &str, owner_key: &str| {
        format!(
            "{{\"version\":{version},\"signing_key\":\"{signing}\",\"owner_key\":\"{owner_key}\"}}"
        )
    };
    let (sk, okb) = (b64(scalar), b64(owner_key));
    let order: [u8; 32] = P256_ORDER;
    let bad: Vec<(&str, String, &str)> = vec![
        ("version_2", file(2, &sk, &okb), "unsupported_version"),
        ("zero_scalar", file(1, &b64([0; 32]), &okb), "invalid_key"),
        (
            "scalar_equal_to_group_order",
            file(1, &b64(order), &okb),
            "invalid_key",
        ),
        (
            "short_owner_key",
            file(1, &sk, &b64([1; 31])),
            "invalid_key",
        ),
        (
            "padded_signing_key",
            file(1, &format!("{sk}="), &okb),
            "invalid_key",
        ),
        (
            "missing_owner_key",
            format!("{{\"version\":1,\"signing_key\":\"{sk}\"}}"),
            "json",
        ),
        (
            "unknown_field",
            format!("{{\"version\":1,\"signing_key\":\"{sk}\",\"owner_key\":\"{okb}\",\"x\":0}}"),
            "json",
        ),
        ("not_json", "version=1".into(), "json"),
    ];
    for (name, text, code) in bad {
        let code = must_fail(name, OwnerIdentity::from_json(&text), code)?;
        cases.push(json!({
            "op": "parse_identity",
            "name": name,
            "identity_json": text,
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- stream

/// The plaintext rule of `stream.json`: byte i = i mod 251.
fn stream_plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn seal_stream(key: &Key256, prefix: [u8; 7], pt: &[u8]) -> R<Vec<u8>> {
    let (mut enc, header) = Encryptor::with_prefix(key, prefix);
    let mut out = header.to_vec();
    out.extend(enc.push(pt)?);
    out.extend(enc.finish()?);
    Ok(out)
}

fn segments(ct: &[u8]) -> Vec<Vec<u8>> {
    ct[HEADER_LEN..]
        .chunks(ENCRYPTED_SEGMENT_SIZE)
        .map(<[u8]>::to_vec)
        .collect()
}

fn join(header: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out
}

/// Applies a tamper description (see `STREAM_DESC`).
fn tamper(ct: &[u8], key: &[u8; 32], prefix: [u8; 7], pt: &[u8], t: &Value) -> R<Vec<u8>> {
    let num = |k: &str| -> R<usize> {
        Ok(usize::try_from(
            t[k].as_u64().ok_or(format!("tamper.{k}"))?,
        )?)
    };
    let header = &ct[..HEADER_LEN];
    let mut segs = segments(ct);
    Ok(match t["kind"].as_str().ok_or("tamper.kind")? {
        "none" => ct.to_vec(),
        "drop_final_segment" => {
            segs.pop();
            join(header, &segs)
        }
        "truncate_to" => ct[..num("length")?].to_vec(),
        "swap_segments" => {
            segs.swap(num("a")?, num("b")?);
            join(header, &segs)
        }
        "append_copy_of_segment" => {
            let copy = segs[num("index")?].clone();
            segs.push(copy);
            join(header, &segs)
        }
        "append_hex" => [ct, &hex::decode(t["hex"].as_str().ok_or("tamper.hex")?)?].concat(),
        "flip_bit" => flip(ct, num("offset")?, 1 << num("bit")?),
        "reseal_segment" => {
            let index = num("index")?;
            let last = t["last"].as_bool().ok_or("tamper.last")?;
            let chunk = pt.chunks(SEGMENT_SIZE).nth(index).unwrap_or_default();
            let nonce = SegmentNonce {
                prefix,
                counter: u32::try_from(index)?,
                last,
            }
            .to_bytes();
            segs[index] = Aes256Gcm::new(key.into())
                .encrypt(&Nonce::from(nonce), chunk)
                .map_err(|_| "aes-gcm")?;
            join(header, &segs)
        }
        other => return Err(format!("unknown tamper {other}").into()),
    })
}

fn stream_cases() -> R<Vec<Value>> {
    let key: [u8; 32] = fixed("file key");
    let prefix: [u8; 7] = fixed("nonce prefix");
    let lengths = [
        0,
        1,
        SEGMENT_SIZE - 1,
        SEGMENT_SIZE,
        SEGMENT_SIZE + 1,
        2 * SEGMENT_SIZE + 100,
    ];
    let mut cases = Vec::new();
    let mut sealed: BTreeMap<String, (Vec<u8>, Vec<u8>, [u8; 32], [u8; 7])> = BTreeMap::new();
    let mut seal_case = |name: String, key: [u8; 32], prefix: [u8; 7], len: usize| -> R<Value> {
        let k = Secret::new(key);
        let pt = stream_plaintext(len);
        let ct = seal_stream(&k, prefix, &pt)?;
        if stream::open(&k, &ct)? != pt {
            return Err(format!("{name}: does not open").into());
        }
        let segments = stream::segment_count(ct.len() as u64)?;
        let case = json!({
            "op": "seal",
            "name": name,
            "file_key_hex": hex(key),
            "nonce_prefix_hex": hex(prefix),
            "plaintext_len": len,
            "expected": {
                "header_hex": hex(&ct[..HEADER_LEN]),
                "ciphertext_len": ct.len(),
                "segments": segments,
                "first_64_hex": hex(&ct[..ct.len().min(64)]),
                "last_32_hex": hex(&ct[ct.len() - 32..]),
                "sha256_hex": hex(Sha256::digest(&ct)),
            }
        });
        sealed.insert(name, (pt, ct, key, prefix));
        Ok(case)
    };
    for len in lengths {
        cases.push(seal_case(format!("len_{len}"), key, prefix, len)?);
    }
    cases.push(seal_case(
        "zero_key_zero_prefix_len_100".into(),
        [0; 32],
        [0; 7],
        100,
    )?);

    let full_then_short = format!("len_{}", 2 * SEGMENT_SIZE + 100);
    let exactly_one = format!("len_{SEGMENT_SIZE}");
    let one_plus_one = format!("len_{}", SEGMENT_SIZE + 1);
    let other_key: [u8; 32] = fixed("other key");
    let negatives: Vec<(&str, &str, [u8; 32], Value, &str)> = vec![
        (
            "wrong_key",
            &full_then_short,
            other_key,
            json!({"kind": "none"}),
            "wrong_key",
        ),
        (
            "final_segment_dropped",
            &full_then_short,
            key,
            json!({"kind": "drop_final_segment"}),
            "truncated",
        ),
        (
            "final_one_byte_segment_dropped",
            &one_plus_one,
            key,
            json!({"kind": "drop_final_segment"}),
            "truncated",
        ),
        (
            "header_only",
            &full_then_short,
            key,
            json!({"kind": "truncate_to", "length": HEADER_LEN}),
            "truncated",
        ),
        (
            "header_cut",
            "len_1",
            key,
            json!({"kind": "truncate_to", "length": HEADER_LEN - 1}),
            "truncated",
        ),
        (
            "final_segment_shorter_than_tag",
            "len_1",
            key,
            json!({"kind": "truncate_to", "length": HEADER_LEN + 15}),
            "truncated",
        ),
        (
            "last_byte_cut",
            &full_then_short,
            key,
            json!({"kind": "truncate_to", "length": stream::ciphertext_len(2 * SEGMENT_SIZE as u64 + 100) - 1}),
            "decrypt",
        ),
        (
            "segments_0_and_1_swapped",
            &full_then_short,
            key,
            json!({"kind": "swap_segments", "a": 0, "b": 1}),
            "decrypt",
        ),
        (
            "segments_1_and_2_swapped",
            &full_then_short,
            key,
            json!({"kind": "swap_segments", "a": 1, "b": 2}),
            "decrypt",
        ),
        (
            "full_final_segment_then_copy_appended",
            &exactly_one,
            key,
            json!({"kind": "append_copy_of_segment", "index": 0}),
            "trailing_data",
        ),
        (
            "full_final_segment_then_tag_sized_junk",
            &exactly_one,
            key,
            json!({"kind": "append_hex", "hex": hex([0u8; 16])}),
            "trailing_data",
        ),
        (
            "short_final_segment_then_copy_appended",
            &full_then_short,
            key,
            json!({"kind": "append_copy_of_segment", "index": 0}),
            "decrypt",
        ),
        (
            "one_junk_byte_appended",
            &full_then_short,
            key,
            json!({"kind": "append_hex", "hex": "00"}),
            "decrypt",
        ),
        (
            "final_segment_not_flagged_last",
            &one_plus_one,
            key,
            json!({"kind": "reseal_segment", "index": 1, "last": false}),
            "truncated",
        ),
        (
            "empty_file_final_segment_not_flagged_last",
            "len_0",
            key,
            json!({"kind": "reseal_segment", "index": 0, "last": false}),
            "truncated",
        ),
        (
            "first_segment_flagged_last",
            &full_then_short,
            key,
            json!({"kind": "reseal_segment", "index": 0, "last": true}),
            "trailing_data",
        ),
        (
            "version_byte_flipped",
            "len_1",
            key,
            json!({"kind": "flip_bit", "offset": 0, "bit": 1}),
            "unsupported_version",
        ),
        (
            "commitment_bit_flipped",
            "len_1",
            key,
            json!({"kind": "flip_bit", "offset": 5, "bit": 0}),
            "wrong_key",
        ),
        (
            "nonce_prefix_bit_flipped",
            &full_then_short,
            key,
            json!({"kind": "flip_bit", "offset": 20, "bit": 7}),
            "decrypt",
        ),
        (
            "first_segment_bit_flipped",
            &full_then_short,
            key,
            json!({"kind": "flip_bit", "offset": HEADER_LEN + 100, "bit": 3}),
            "decrypt",
        ),
        (
            "final_tag_bit_flipped",
            &full_then_short,
            key,
            json!({"kind": "flip_bit", "offset": stream::ciphertext_len(2 * SEGMENT_SIZE as u64 + 100) - 1, "bit": 0}),
            "decrypt",
        ),
    ];
    for (name, source, open_key, t, code) in negatives {
        let (pt, ct, seal_key, seal_prefix) = sealed.get(source).ok_or("unknown stream")?;
        let tampered = tamper(ct, seal_key, *seal_prefix, pt, &t)?;
        let code = must_fail(name, stream::open(&Secret::new(open_key), &tampered), code)?;
        cases.push(json!({
            "op": "open",
            "name": name,
            "stream": source,
            "file_key_hex": hex(open_key),
            "tamper": t,
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- signing

/// The order n of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `n - s` for a big-endian scalar `s` (the other valid signature, high/low S).
fn negate_scalar(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(P256_ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

struct SignCase {
    name: &'static str,
    scalar: [u8; 32],
    signer: String,
    method: &'static str,
    path: String,
    body: Vec<u8>,
    timestamp: u64,
    nonce: [u8; 16],
    transmission: Option<String>,
}

fn headers_json(h: &SignedHeaders) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in h.to_pairs() {
        map.insert(name.into(), value.into());
    }
    Value::Object(map)
}

fn signing_cases() -> R<Vec<Value>> {
    let mut cases = Vec::new();
    // RFC 6979 A.2.5 (P-256, SHA-256): the deterministic-nonce known answers.
    let rfc_key = hex::decode("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")?;
    let rfc_key: [u8; 32] = rfc_key.as_slice().try_into()?;
    let rfc = SigningKey::from_bytes(&Secret::new(rfc_key))?;
    for (name, msg, r, s) in [
        (
            "rfc6979_a25_sample",
            "sample",
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
            "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
        ),
        (
            "rfc6979_a25_test",
            "test",
            "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
            "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083",
        ),
    ] {
        let sig = rfc.sign(msg.as_bytes());
        if hex(sig) != format!("{r}{s}") {
            return Err(format!("{name}: not the RFC 6979 signature").into());
        }
        cases.push(json!({
            "op": "sign_message",
            "name": name,
            "private_key_hex": hex(rfc_key),
            "message": msg,
            "expected": {
                "public_key_hex": hex(rfc.public_key().to_bytes()),
                "signature_hex": hex(sig),
            }
        }));
    }

    let device_scalar: [u8; 32] = fixed("device signing key");
    let owner_scalar: [u8; 32] = fixed("owner signing key");
    let admin_scalar: [u8; 32] = fixed("admin signing key");
    let owner_pk = SigningKey::from_bytes(&Secret::new(owner_scalar))?.public_key();
    let admin_pk = SigningKey::from_bytes(&Secret::new(admin_scalar))?.public_key();
    let sid = share_id();
    let ts = 1_800_000_000;
    let tk_header = format!("AAAAAAAAAAA.{}", b64(fixed::<113>("transmission header")));
    let sign_cases = vec![
        SignCase {
            name: "device_bind_with_transmission_key",
            scalar: device_scalar,
            signer: format!("device:{sid}"),
            method: "POST",
            path: format!("/v1/shares/{sid}/bind"),
            body: fixed::<120>("encrypted bind body").to_vec(),
            timestamp: ts,
            nonce: fixed("request nonce"),
            transmission: Some(tk_header.clone()),
        },
        SignCase {
            name: "device_get_empty_body",
            scalar: device_scalar,
            signer: format!("device:{sid}"),
            method: "GET",
            path: format!("/v1/shares/{sid}/record"),
            body: vec![],
            timestamp: ts + 1,
            nonce: fixed("request nonce 2"),
            transmission: None,
        },
        SignCase {
            name: "owner_create_json_body",
            scalar: owner_scalar,
            signer: format!("owner:{owner_pk}"),
            method: "POST",
            path: "/v1/shares".into(),
            body: br#"{"share_id":"x","expires_in":3600}"#.to_vec(),
            timestamp: 1_700_000_000,
            nonce: [0; 16],
            transmission: None,
        },
        SignCase {
            name: "admin_delete_with_query",
            scalar: admin_scalar,
            signer: format!("admin:{admin_pk}"),
            method: "DELETE",
            path: format!("/v1/admin/shares/{sid}?reason=abuse&notify=1"),
            body: vec![],
            timestamp: 0,
            nonce: [0xff; 16],
            transmission: None,
        },
    ];
    for c in &sign_cases {
        let key = SigningKey::from_bytes(&Secret::new(c.scalar))?;
        let signer = Signer::parse(&c.signer)?;
        let req = Request {
            method: c.method,
            path: &c.path,
            body: &c.body,
            transmission: c.transmission.as_deref(),
        };
        let text = canonical(&req, &signer, c.timestamp, &c.nonce);
        let headers = sign_with_nonce(&key, signer, &req, c.timestamp, c.nonce);
        signing::verify(&key.public_key(), &headers, &req, c.timestamp)?;
        cases.push(json!({
            "op": "sign_request",
            "name": c.name,
            "private_key_hex": hex(c.scalar),
            "signer": c.signer,
            "method": c.method,
            "path": c.path,
            "body_hex": hex(&c.body),
            "timestamp": c.timestamp,
            "nonce_hex": hex(c.nonce),
            "transmission": c.transmission,
            "expected": {
                "public_key_b64": key.public_key().to_string(),
                "body_sha256_b64": b64(Sha256::digest(&c.body)),
                "canonical": text,
                "signature_hex": hex(headers.signature),
                "headers": headers_json(&headers),
            }
        }));
    }

    // Verification at the relay.
    let base = &sign_cases[0];
    let key = SigningKey::from_bytes(&Secret::new(base.scalar))?;
    let pk = key.public_key();
    let req = Request {
        method: base.method,
        path: &base.path,
        body: &base.body,
        transmission: base.transmission.as_deref(),
    };
    let good = sign_with_nonce(&key, Signer::parse(&base.signer)?, &req, ts, base.nonce);
    let mut high_s = good.clone();
    let negated = negate_scalar(&good.signature[32..]);
    high_s.signature[32..].copy_from_slice(&negated);
    let mut other_nonce = good.clone();
    other_nonce.nonce[15] ^= 1;
    let mut zero_sig = good.clone();
    zero_sig.signature = [0; 64];
    let mut r_is_n = good.clone();
    r_is_n.signature[..32].copy_from_slice(&P256_ORDER);
    let mut flipped_sig = good.clone();
    flipped_sig.signature[10] ^= 4;
    let tampered_body = flip(&base.body, 0, 1);
    struct V<'a> {
        name: &'a str,
        pk: PublicKey,
        headers: &'a SignedHeaders,
        method: &'a str,
        path: &'a str,
        body: &'a [u8],
        transmission: Option<&'a str>,
        now: u64,
        error: Option<&'a str>,
    }
    let v = |name, headers, now, error| V {
        name,
        pk,
        headers,
        method: base.method,
        path: &base.path,
        body: &base.body,
        transmission: base.transmission.as_deref(),
        now,
        error,
    };
    let other_path = format!("/v1/shares/{}/bind", ShareId([7; 16]));
    let verifies = vec![
        v("accepted_at_same_second", &good, ts, None),
        v("accepted_300s_later", &good, ts + 300, None),
        v("accepted_300s_earlier", &good, ts - 300, None),
        v("high_s_signature_accepted", &high_s, ts, None),
        v("stale_301s_later", &good, ts + 301, Some("stale_timestamp")),
        v(
            "future_301s_ahead",
            &good,
            ts - 301,
            Some("stale_timestamp"),
        ),
        V {
            body: &tampered_body,
            ..v("tampered_body", &good, ts, Some("bad_signature"))
        },
        V {
            body: &[],
            ..v("body_removed", &good, ts, Some("bad_signature"))
        },
        V {
            path: &other_path,
            ..v("other_path", &good, ts, Some("bad_signature"))
        },
        V {
            method: "PUT",
            ..v("other_method", &good, ts, Some("bad_signature"))
        },
        V {
            transmission: None,
            ..v(
                "transmission_header_removed",
                &good,
                ts,
                Some("bad_signature"),
            )
        },
        V {
            transmission: Some("-"),
            ..v(
                "transmission_header_is_a_dash",
                &good,
                ts,
                Some("bad_signature"),
            )
        },
        V {
            pk: owner_pk,
            ..v("other_public_key", &good, ts, Some("bad_signature"))
        },
        v("other_nonce", &other_nonce, ts, Some("bad_signature")),
        v(
            "flipped_signature_bit",
            &flipped_sig,
            ts,
            Some("bad_signature"),
        ),
        v("zero_signature", &zero_sig, ts, Some("bad_signature")),
        v("r_equal_to_group_order", &r_is_n, ts, Some("bad_signature")),
    ];
    for c in verifies {
        let req = Request {
            method: c.method,
            path: c.path,
            body: c.body,
            transmission: c.transmission,
        };
        let result = signing::verify(&c.pk, c.headers, &req, c.now);
        let mut case = json!({
            "op": "verify",
            "name": c.name,
            "public_key_b64": c.pk.to_string(),
            "headers": headers_json(c.headers),
            "method": c.method,
            "path": c.path,
            "body_hex": hex(c.body),
            "transmission": c.transmission,
            "now": c.now,
        });
        match c.error {
            None => {
                result?;
                case["expected"] = json!("ok");
            }
            Some(code) => case["error"] = json!(must_fail(c.name, result, code)?),
        }
        cases.push(case);
    }

    // Header parsing.
    let pairs = good.to_pairs();
    let base_map: BTreeMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.clone())).collect();
    let parse_case = |name: &str, map: &BTreeMap<&str, String>| -> R<Value> {
        let headers: serde_json::Map<String, Value> = map
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
            .collect();
        let parsed = SignedHeaders::parse(|n| map.get(n).map(String::as_str));
        let mut case = json!({ "op": "parse_headers", "name": name, "headers": headers });
        match parsed {
            Ok(h) => {
                case["expected"] = json!({
                    "signer": h.signer.to_string(),
                    "timestamp": h.timestamp,
                    "nonce_hex": hex(h.nonce),
                    "signature_hex": hex(h.signature),
                });
            }
            Err(e) => {
                must_fail(name, Err::<(), _>(e.clone()), "invalid_header")?;
                case["error"] = json!(e.code());
            }
        }
        Ok(case)
    };
    cases.push(parse_case("all_four_headers", &base_map)?);
    let owner_signer = {
        let mut m = base_map.clone();
        m.insert(signing::HEADER_SIGNER, format!("owner:{owner_pk}"));
        m
    };
    cases.push(parse_case("owner_signer", &owner_signer)?);
    let mut compressed = owner_pk.to_bytes()[..33].to_vec();
    compressed[0] = 0x02 | (owner_pk.to_bytes()[64] & 1);
    let changes: Vec<(&str, &str, Option<String>)> = vec![
        ("missing_signer", signing::HEADER_SIGNER, None),
        ("missing_timestamp", signing::HEADER_TIMESTAMP, None),
        ("missing_nonce", signing::HEADER_NONCE, None),
        ("missing_signature", signing::HEADER_SIGNATURE, None),
        (
            "signer_unknown_kind",
            signing::HEADER_SIGNER,
            Some(format!("robot:{sid}")),
        ),
        (
            "signer_without_colon",
            signing::HEADER_SIGNER,
            Some(sid.to_string()),
        ),
        (
            "signer_device_id_too_short",
            signing::HEADER_SIGNER,
            Some(format!("device:{}", &sid.to_string()[..21])),
        ),
        (
            "signer_kind_upper_case",
            signing::HEADER_SIGNER,
            Some(format!("DEVICE:{sid}")),
        ),
        (
            "signer_owner_compressed_key",
            signing::HEADER_SIGNER,
            Some(format!("owner:{}", b64(&compressed))),
        ),
        (
            "timestamp_with_letter",
            signing::HEADER_TIMESTAMP,
            Some("180000000a".into()),
        ),
        (
            "timestamp_with_plus_sign",
            signing::HEADER_TIMESTAMP,
            Some("+1800000000".into()),
        ),
        (
            "timestamp_negative",
            signing::HEADER_TIMESTAMP,
            Some("-1".into()),
        ),
        (
            "timestamp_empty",
            signing::HEADER_TIMESTAMP,
            Some(String::new()),
        ),
        (
            "timestamp_13_digits",
            signing::HEADER_TIMESTAMP,
            Some("1800000000000".into()),
        ),
        (
            "timestamp_with_space",
            signing::HEADER_TIMESTAMP,
            Some(" 1800000000".into()),
        ),
        (
            "nonce_15_bytes",
            signing::HEADER_NONCE,
            Some(b64([1u8; 15])),
        ),
        (
            "nonce_17_bytes",
            signing::HEADER_NONCE,
            Some(b64([1u8; 17])),
        ),
        (
            "nonce_padded",
            signing::HEADER_NONCE,
            Some(format!("{}==", b64([1u8; 16]))),
        ),
        (
            "signature_63_bytes",
            signing::HEADER_SIGNATURE,
            Some(b64([1u8; 63])),
        ),
        (
            "signature_der_length",
            signing::HEADER_SIGNATURE,
            Some(b64([0x30u8; 70])),
        ),
        (
            "signature_standard_base64",
            signing::HEADER_SIGNATURE,
            Some("+".repeat(86)),
        ),
    ];
    for (name, header, value) in changes {
        let mut m = base_map.clone();
        match value {
            Some(v) => {
                m.insert(header, v);
            }
            None => {
                m.remove(header);
            }
        }
        cases.push(parse_case(name, &m)?);
    }
    // The timestamp is canonical decimal, so the signed text is the header value:
    // "0" is fine, a leading zero is not.
    for (name, value) in [
        ("timestamp_zero", "0"),
        ("timestamp_leading_zero", "01800000000"),
        ("timestamp_12_digits_leading_zeros", "000000000042"),
    ] {
        let mut m = base_map.clone();
        m.insert(signing::HEADER_TIMESTAMP, value.into());
        cases.push(parse_case(name, &m)?);
    }

    // Public key encodings.
    let pk_bytes = pk.to_bytes();
    let mut off_curve = pk_bytes;
    off_curve[64] ^= 1;
    let mut bad_prefix = pk_bytes;
    bad_prefix[0] = 0x05;
    let mut hybrid = pk_bytes;
    hybrid[0] = 0x06 | (pk_bytes[64] & 1);
    cases.push(json!({
        "op": "public_key",
        "name": "uncompressed_point",
        "public_key_hex": hex(pk_bytes),
        "expected": { "public_key_b64": pk.to_string() },
    }));
    let keys: Vec<(&str, Vec<u8>)> = vec![
        ("compressed_point", {
            let mut c = pk_bytes[..33].to_vec();
            c[0] = 0x02 | (pk_bytes[64] & 1);
            c
        }),
        ("coordinates_without_prefix", pk_bytes[1..].to_vec()),
        ("prefix_05", bad_prefix.to_vec()),
        ("hybrid_prefix", hybrid.to_vec()),
        ("point_not_on_curve", off_curve.to_vec()),
        ("point_at_infinity", vec![0]),
        (
            "coordinates_out_of_range",
            [&[4u8][..], &[0xff; 64]].concat(),
        ),
        ("empty", vec![]),
    ];
    for (name, bytes) in keys {
        let code = must_fail(name, PublicKey::from_bytes(&bytes), "invalid_key")?;
        cases.push(json!({
            "op": "public_key",
            "name": name,
            "public_key_hex": hex(&bytes),
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- hpke

/// The header sealed by an earlier run, if it still opens to `tk`.
fn previous_header(dir: &Path, name: &str, relay: &RelayKeyPair, tk: &Key256) -> Option<String> {
    let path: PathBuf = dir.join("hpke.json");
    let doc: Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    let header = doc["cases"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)?["header"]
        .as_str()?
        .to_owned();
    (relay.open_transmission_key(&header).ok()? == *tk).then_some(header)
}

fn hpke_cases(dir: &Path) -> R<Vec<Value>> {
    let mut cases = Vec::new();
    let ikm_a: [u8; 32] = fixed("relay ikm");
    let ikm_b: [u8; 32] = fixed("relay ikm 2");
    let relay_a = RelayKeyPair::derive(&Secret::new(ikm_a))?;
    let relay_b = RelayKeyPair::derive(&Secret::new(ikm_b))?;
    for (name, ikm) in [
        ("derive_relay_a", ikm_a),
        ("derive_relay_b", ikm_b),
        ("derive_zero_ikm", [0; 32]),
    ] {
        let relay = RelayKeyPair::derive(&Secret::new(ikm))?;
        cases.push(json!({
            "op": "derive",
            "name": name,
            "ikm_hex": hex(ikm),
            "expected": {
                "private_key_hex": hex(relay.private_bytes().expose()),
                "public_key_hex": hex(relay.public().public_key),
                "key_id": relay.public().key_id,
            }
        }));
    }
    // RFC 9180 A.3.1 (DHKEM(P-256, HKDF-SHA256)): DeriveKeyPair known answers.
    for (name, ikm, sk, pk) in [
        (
            "rfc9180_a31_recipient",
            "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
            "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
            "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a\
             826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0",
        ),
        (
            "rfc9180_a31_ephemeral",
            "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
            "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
            "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325a\
             c98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
        ),
    ] {
        let ikm: [u8; 32] = hex::decode(ikm)?.as_slice().try_into()?;
        let relay = RelayKeyPair::derive(&Secret::new(ikm))?;
        if hex(relay.private_bytes().expose()) != sk || hex(relay.public().public_key) != pk {
            return Err(format!("{name}: not the RFC 9180 key pair").into());
        }
        cases.push(json!({
            "op": "derive",
            "name": name,
            "ikm_hex": hex(ikm),
            "expected": {
                "private_key_hex": sk,
                "public_key_hex": pk,
                "key_id": relay.public().key_id,
            }
        }));
    }
    let scalar: [u8; 32] = fixed("relay scalar");
    let imported = RelayKeyPair::from_private_bytes(&Secret::new(scalar))?;
    cases.push(json!({
        "op": "import",
        "name": "import_scalar",
        "private_key_hex": hex(scalar),
        "expected": {
            "public_key_hex": hex(imported.public().public_key),
            "key_id": imported.public().key_id,
        }
    }));
    for (name, scalar) in [
        ("zero_scalar", [0u8; 32]),
        ("scalar_equal_to_group_order", P256_ORDER),
        ("all_ones_scalar", [0xff; 32]),
    ] {
        let code = must_fail(
            name,
            RelayKeyPair::from_private_bytes(&Secret::new(scalar)),
            "invalid_key",
        )?;
        cases.push(
            json!({ "op": "import", "name": name, "private_key_hex": hex(scalar), "error": code }),
        );
    }
    let pk = relay_a.public().public_key;
    cases.push(json!({
        "op": "relay_public_key",
        "name": "relay_key_uncompressed_point",
        "public_key_hex": hex(pk),
        "expected": { "key_id": relay_a.public().key_id },
    }));
    let mut off_curve = pk;
    off_curve[64] ^= 1;
    for (name, bytes) in [
        ("relay_key_not_on_curve", off_curve.to_vec()),
        ("relay_key_truncated", pk[..64].to_vec()),
        ("relay_key_empty", vec![]),
    ] {
        let code = must_fail(name, RelayPublicKey::from_bytes(&bytes), "invalid_key")?;
        cases.push(json!({ "op": "relay_public_key", "name": name, "public_key_hex": hex(&bytes), "error": code }));
    }

    // Headers: sealed once (randomized), kept across runs.
    let tk_1 = Secret::new(fixed::<32>("transmission key"));
    let tk_2 = Secret::new([0u8; 32]);
    let mut headers = Vec::new();
    for (name, tk) in [
        ("open_header_relay_a", &tk_1),
        ("open_header_zero_key", &tk_2),
    ] {
        let header = match previous_header(dir, name, &relay_a, tk) {
            Some(h) => h,
            None => transmission::seal_transmission_key(relay_a.public(), tk)?,
        };
        if relay_a.open_transmission_key(&header)? != *tk {
            return Err(format!("{name}: does not open").into());
        }
        cases.push(json!({
            "op": "open_header",
            "name": name,
            "relay_ikm_hex": hex(ikm_a),
            "header": header,
            "expected": { "transmission_key_hex": hex(tk.expose()) },
        }));
        headers.push(header);
    }
    let header = &headers[0];
    let (kid, payload) = header.split_once('.').ok_or("header without dot")?;
    let raw = unb64(payload, "payload")?;
    let with_payload = |bytes: &[u8]| format!("{kid}.{}", b64(bytes));
    let bad: Vec<(&str, [u8; 32], String, &str)> = vec![
        ("other_relay", ikm_b, header.clone(), "invalid_header"),
        (
            "other_relay_key_id_swapped_in",
            ikm_b,
            format!("{}.{payload}", relay_b.public().key_id),
            "hpke",
        ),
        (
            "flipped_enc_bit",
            ikm_a,
            with_payload(&flip(&raw, 40, 1)),
            "hpke",
        ),
        (
            "flipped_ciphertext_bit",
            ikm_a,
            with_payload(&flip(&raw, 80, 1)),
            "hpke",
        ),
        (
            "flipped_tag_bit",
            ikm_a,
            with_payload(&flip(&raw, raw.len() - 1, 0x80)),
            "hpke",
        ),
        (
            "payload_one_byte_short",
            ikm_a,
            with_payload(&raw[..raw.len() - 1]),
            "invalid_header",
        ),
        (
            "payload_one_byte_long",
            ikm_a,
            with_payload(&[&raw[..], &[0]].concat()),
            "invalid_header",
        ),
        (
            "payload_padded",
            ikm_a,
            format!("{header}="),
            "invalid_header",
        ),
        ("no_dot", ikm_a, header.replace('.', ""), "invalid_header"),
        ("key_id_only", ikm_a, format!("{kid}."), "invalid_header"),
        ("empty_header", ikm_a, String::new(), "invalid_header"),
    ];
    for (name, ikm, header, code) in bad {
        let relay = RelayKeyPair::derive(&Secret::new(ikm))?;
        let code = must_fail(name, relay.open_transmission_key(&header), code)?;
        cases.push(json!({
            "op": "open_header",
            "name": name,
            "relay_ikm_hex": hex(ikm),
            "header": header,
            "error": code,
        }));
    }

    // Bodies under the transmission key.
    let request_nonce: [u8; 16] = fixed("request nonce");
    let body = br#"{"bind_secret":"x","device_key":"y"}"#;
    let req =
        transmission::seal_request_with_nonce(&tk_1, &request_nonce, fixed("body nonce"), body);
    let resp = transmission::seal_response_with_nonce(
        &tk_1,
        &request_nonce,
        fixed("body nonce 2"),
        b"{\"ok\":true}",
    );
    for (op, name, envelope_nonce, plaintext, sealed, aad) in [
        (
            "request",
            "bind_request_body",
            fixed::<12>("body nonce"),
            &body[..],
            &req,
            transmission::request_aad(&request_nonce),
        ),
        (
            "response",
            "bind_response_body",
            fixed::<12>("body nonce 2"),
            &b"{\"ok\":true}"[..],
            &resp,
            transmission::response_aad(&request_nonce),
        ),
    ] {
        cases.push(json!({
            "op": op,
            "name": name,
            "transmission_key_hex": hex(tk_1.expose()),
            "request_nonce_hex": hex(request_nonce),
            "nonce_hex": hex(envelope_nonce),
            "body_hex": hex(plaintext),
            "expected": { "aad_hex": hex(aad), "envelope_hex": hex(sealed) },
        }));
    }
    let mut other_nonce = request_nonce;
    other_nonce[0] ^= 1;
    let bad: Vec<(&str, &str, [u8; 32], [u8; 16], &Vec<u8>, &str)> = vec![
        (
            "response_replayed_to_other_request",
            "open_response",
            *tk_1.expose(),
            other_nonce,
            &resp,
            "decrypt",
        ),
        (
            "response_reflected_as_request",
            "open_request",
            *tk_1.expose(),
            request_nonce,
            &resp,
            "decrypt",
        ),
        (
            "request_reflected_as_response",
            "open_response",
            *tk_1.expose(),
            request_nonce,
            &req,
            "decrypt",
        ),
        (
            "request_under_other_key",
            "open_request",
            fixed("other key"),
            request_nonce,
            &req,
            "wrong_key",
        ),
    ];
    for (name, op, key, nonce, sealed, code) in bad {
        let k = Secret::new(key);
        let result = if op == "open_request" {
            transmission::open_request(&k, &nonce, sealed)
        } else {
            transmission::open_response(&k, &nonce, sealed)
        };
        let code = must_fail(name, result, code)?;
        cases.push(json!({
            "op": op,
            "name": name,
            "transmission_key_hex": hex(key),
            "request_nonce_hex": hex(nonce),
            "envelope_hex": hex(sealed),
            "error": code,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- duration

fn duration_cases() -> R<Vec<Value>> {
    let mut cases = Vec::new();
    for (input, secs) in [
        ("30m", 1_800),
        ("1h", 3_600),
        ("7d", 604_800),
        ("2w", 1_209_600),
        ("1h30m", 5_400),
        ("90m", 5_400),
        (" 7d ", 604_800),
        ("60s", 60),
        ("1m", 60),
        ("0h1m", 60),
        ("01h", 3_600),
        ("365d", 31_536_000),
        ("52w1d", 31_536_000),
        ("1w2d3h4m5s", 788_645),
    ] {
        if duration::parse(input)? != secs {
            return Err(format!("duration {input}").into());
        }
        cases.push(json!({ "op": "parse", "name": format!("parse {input:?}"), "input": input, "expected": secs }));
    }
    for input in [
        "",
        "   ",
        "30",
        "m",
        "1x",
        "59s",
        "30s",
        "365d1s",
        "53w",
        "1m1h",
        "1h1h",
        "1h 30m",
        "1 h",
        "1H",
        "1.5h",
        "-1h",
        "+1h",
        "99999999999999999999d",
        "1h30",
    ] {
        let code = must_fail(input, duration::parse(input), "duration")?;
        cases.push(json!({ "op": "parse", "name": format!("parse {input:?}"), "input": input, "error": code }));
    }
    for secs in [0u64, 59, 60, 5_400, 604_800, 694_861, 31_536_000] {
        cases.push(json!({ "op": "format", "name": format!("format {secs}"), "seconds": secs, "expected": duration::format(secs) }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- lifetime

fn lifetime_cases() -> R<Vec<Value>> {
    const H: u64 = 3_600;
    let mut cases = Vec::new();
    let c = 1_700_000_000u64;
    let rows: Vec<(&str, u64, bool, Option<u64>, State, u64)> = vec![
        (
            "unused_before_deadline",
            H,
            false,
            None,
            State::Unbound,
            c + H - 1,
        ),
        ("unused_at_deadline", H, false, None, State::Unbound, c + H),
        (
            "unused_self_destruct_at_deadline",
            H,
            true,
            None,
            State::Unbound,
            c + H,
        ),
        (
            "binding_counts_from_bind",
            H,
            false,
            Some(c + 1_000),
            State::Binding,
            c + H + 10,
        ),
        (
            "bound_before_deadline",
            H,
            false,
            Some(c + 1_000),
            State::Bound,
            c + 1_000 + H - 1,
        ),
        (
            "bound_at_deadline",
            H,
            false,
            Some(c + 1_000),
            State::Bound,
            c + 1_000 + H,
        ),
        (
            "self_destruct_5_minutes_after_view",
            H,
            true,
            Some(c + 1_000),
            State::Bound,
            c + 1_299,
        ),
        (
            "self_destruct_ends_300s_after_view",
            H,
            true,
            Some(c + 1_000),
            State::Bound,
            c + 1_300,
        ),
        (
            "self_destruct_capped_by_creation_deadline",
            H,
            true,
            Some(c + H - 10),
            State::Bound,
            c + H,
        ),
        (
            "self_destruct_binding_state",
            7 * 86_400,
            true,
            Some(c + 5),
            State::Binding,
            c + 305,
        ),
        (
            "revoked_stays_revoked",
            H,
            false,
            Some(c + 1),
            State::Revoked,
            c + 10 * H,
        ),
        ("expired_stays_expired", H, false, None, State::Expired, c),
        (
            "self_destructed_stays",
            H,
            true,
            Some(c),
            State::SelfDestructed,
            c,
        ),
        (
            "one_year_unused",
            31_536_000,
            false,
            None,
            State::Unbound,
            c + 31_536_000 - 1,
        ),
    ];
    for (name, expires_in, self_destruct, bound_at, stored, now) in rows {
        let lt = Lifetime {
            created_at: c,
            expires_in,
            self_destruct,
            bound_at,
        };
        cases.push(json!({
            "op": "deadline",
            "name": name,
            "created_at": c,
            "expires_in": expires_in,
            "self_destruct": self_destruct,
            "bound_at": bound_at,
            "stored": stored.as_str(),
            "now": now,
            "expected": { "deadline": lt.deadline(), "state": lt.state_at(stored, now).as_str() },
        }));
    }
    let a = SigningKey::from_bytes(&Secret::new(fixed("device a")))?.public_key();
    let b = SigningKey::from_bytes(&Secret::new(fixed("device b")))?.public_key();
    let binds: Vec<(&str, State, Option<&PublicKey>, &PublicKey)> = vec![
        ("unbound_binds", State::Unbound, None, &a),
        ("same_device_retries", State::Binding, Some(&a), &a),
        ("other_device_while_binding", State::Binding, Some(&a), &b),
        ("same_device_after_confirm", State::Bound, Some(&a), &a),
        ("other_device_after_confirm", State::Bound, Some(&a), &b),
        ("expired_is_gone", State::Expired, None, &a),
        ("revoked_is_gone", State::Revoked, Some(&a), &a),
        (
            "self_destructed_is_gone",
            State::SelfDestructed,
            Some(&a),
            &b,
        ),
    ];
    for (name, state, bound, presented) in binds {
        let expected = match decide_bind(state, bound, presented) {
            BindDecision::Bind => json!({ "decision": "bind" }),
            BindDecision::Retry => json!({ "decision": "retry" }),
            BindDecision::OtherDevice => json!({ "decision": "other_device" }),
            BindDecision::AlreadyYours => json!({ "decision": "already_yours" }),
            BindDecision::Gone(s) => json!({ "decision": "gone", "state": s.as_str() }),
        };
        cases.push(json!({
            "op": "bind",
            "name": name,
            "state": state.as_str(),
            "bound_key_b64": bound.map(ToString::to_string),
            "presented_key_b64": presented.to_string(),
            "expected": expected,
        }));
    }
    Ok(cases)
}

// ---------------------------------------------------------------- v2: open code

const OPEN_CODE_DESC: &str = "PROTOCOL.md §12.1: the open code, 8 symbols of Crockford base32 \
(0123456789ABCDEFGHJKMNPQRSTVWXYZ). op=generate: 5 random bytes, 40 bits most significant first, \
5 bits per symbol -> canonical code and display form (two groups of four joined by '-'). \
op=parse: text as typed (case, whitespace and dashes ignored, O read as 0, I and L as 1) -> \
canonical code, or invalid_code. op=derive: token and code as typed -> canonical code, proof = \
HKDF-Expand(HKDF-Extract(salt = ASCII(code), IKM = token), \"oneshare/v2/open-code-proof\", 32), \
verifier = SHA-256(\"oneshare/v2/open-code-verifier\" || proof). op=check: the relay's check of a \
proof against a stored verifier -> \"ok\" or wrong_code.";

/// The 5 bytes whose code spells `symbols` (for readable vectors).
fn code_bytes(symbols: &str) -> R<[u8; 5]> {
    let mut bits = 0u64;
    for c in symbols.bytes() {
        let v = oneshare_sdk::open_code::ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or("symbol outside the alphabet")?;
        bits = (bits << 5) | v as u64;
    }
    let mut out = [0u8; 5];
    out.copy_from_slice(&bits.to_be_bytes()[3..]);
    Ok(out)
}

fn open_code_cases() -> R<Vec<Value>> {
    let mut cases = Vec::new();
    let generated: [(&str, [u8; 5]); 5] = [
        ("zeros", [0; 5]),
        ("ones", [0xff; 5]),
        ("bit_order", code_bytes("12345678")?),
        ("repeated_symbol", [0x84, 0x21, 0x08, 0x42, 0x10]),
        ("pseudo_random", fixed("open code")),
    ];
    for (name, bytes) in generated {
        let code = OpenCode::from_random(bytes);
        cases.push(json!({
            "op": "generate",
            "name": format!("generate_{name}"),
            "random_hex": hex(bytes),
            "expected": { "code": code.as_str(), "display": code.display() },
        }));
    }
    let code = OpenCode::from_random(fixed("open code"));
    let typed: [(&str, String); 8] = [
        ("canonical", code.as_str().to_owned()),
        ("display_form", code.display()),
        ("lower_case", code.display().to_lowercase()),
        (
            "spaces_and_tabs",
            format!(" {} \t{} ", &code.as_str()[..4], &code.as_str()[4..]),
        ),
        (
            "en_dash_and_no_break_space",
            format!(
                "{}\u{2013}\u{a0}{}",
                &code.as_str()[..4],
                &code.as_str()[4..]
            ),
        ),
        ("letter_o_is_zero", "O0o0-0000".to_owned()),
        ("letters_i_and_l_are_one", "IiLl-1111".to_owned()),
        ("many_dashes", "--AB-CD--EF-GH--".to_owned()),
    ];
    for (name, input) in typed {
        let parsed = OpenCode::parse(&input)?;
        cases.push(json!({
            "op": "parse", "name": format!("parse_{name}"), "input": input,
            "expected": { "code": parsed.as_str() },
        }));
    }
    let bad: [(&str, &str); 8] = [
        ("empty", ""),
        ("seven_symbols", "ABCD-EFG"),
        ("nine_symbols", "ABCD-EFGHJ"),
        ("letter_u", "ABCD-EFGU"),
        ("punctuation", "ABCD.EFGH"),
        ("non_ascii_letter", "ABCD-EFG\u{c9}"),
        ("fullwidth_digit", "ABCD-EFG\u{ff11}"),
        ("only_separators", " - - "),
    ];
    for (name, input) in bad {
        cases.push(json!({
            "op": "parse", "name": format!("parse_{name}"), "input": input,
            "error": must_fail(name, OpenCode::parse(input), "invalid_code")?,
        }));
    }
    let tokens: [(&str, Token, String); 4] = [
        ("counting_token", counting_token(), code.display()),
        (
            "counting_token_typed_loosely",
            counting_token(),
            code.display().to_lowercase().replace('-', " "),
        ),
        (
            "counting_token_zero_code",
            counting_token(),
            "0000-0000".into(),
        ),
        (
            "pseudo_random_token",
            Token::from_bytes(fixed("token")),
            code.display(),
        ),
    ];
    for (name, token, input) in &tokens {
        let parsed = OpenCode::parse(input)?;
        let proof = parsed.proof(token);
        cases.push(json!({
            "op": "derive", "name": format!("derive_{name}"),
            "token_hex": hex(token_bytes(token)), "code": input,
            "expected": {
                "code": parsed.as_str(),
                "proof_hex": hex(proof.expose()),
                "verifier_hex": hex(proof.verifier()),
            },
        }));
    }
    cases.push(json!({
        "op": "derive", "name": "derive_invalid_code",
        "token_hex": hex(token_bytes(&counting_token())), "code": "ABCD-EFGU",
        "error": must_fail("derive_invalid_code", OpenCode::parse("ABCD-EFGU"), "invalid_code")?,
    }));
    let t = counting_token();
    let right = code.proof(&t);
    let checks: [(&str, [u8; 32], Option<&str>); 4] = [
        ("right_proof", *right.expose(), None),
        (
            "other_code",
            *OpenCode::from_random([0; 5]).proof(&t).expose(),
            Some("wrong_code"),
        ),
        (
            "same_code_other_token",
            *code.proof(&Token::from_bytes(fixed("token"))).expose(),
            Some("wrong_code"),
        ),
        (
            "verifier_sent_as_proof",
            right.verifier(),
            Some("wrong_code"),
        ),
    ];
    for (name, proof, error) in checks {
        cases.push(check_case(
            Factor::OpenCode,
            name,
            &right.verifier(),
            proof,
            error,
        )?);
    }
    Ok(cases)
}

/// An op=check case: the relay's check of `proof` against `verifier`.
fn check_case(
    factor: Factor,
    name: &str,
    verifier: &[u8; 32],
    proof: [u8; 32],
    error: Option<&str>,
) -> R<Value> {
    let result = Proof::from_bytes(factor, proof).check(verifier);
    let mut case = json!({
        "op": "check", "name": format!("check_{name}"),
        "verifier_hex": hex(verifier), "proof_hex": hex(proof),
    });
    match error {
        None => {
            result?;
            case["expected"] = json!("ok");
        }
        Some(code) => case["error"] = json!(must_fail(name, result, code)?),
    }
    Ok(case)
}

// ---------------------------------------------------------------- v2: passphrase

const PASSPHRASE_DESC: &str = "PROTOCOL.md §12.3: the optional passphrase. op=derive: token and \
passphrase -> the Argon2id parameters (argon2_m_kib, argon2_t, argon2_p; version 0x13, 32-byte \
output), salt = HKDF-Expand(HKDF-Extract(none, token), \"oneshare/v2/passphrase-salt\", 16), \
stretched = Argon2id(NFC(passphrase), salt), wrap_key = HKDF-Expand(HKDF-Extract(salt = \
stretched, IKM = token), \"oneshare/v2/wrap-key\", 32), proof (label \
\"oneshare/v2/passphrase-proof\") and verifier = SHA-256(\"oneshare/v2/passphrase-verifier\" || \
proof); an empty passphrase or one over 1024 UTF-8 bytes after NFC fails with passphrase. op=wrap: \
the record key wrapped under that wrap key exactly as PROTOCOL.md §4.3 (same AAD). op=unwrap: a \
wrapped key opened with a passphrase (null = the v1 wrap key of the token alone) -> record key or \
error. op=check: the relay's check of a proof against a stored verifier -> \"ok\" or \
wrong_passphrase.";

fn passphrase_cases() -> R<Vec<Value>> {
    let mut cases = Vec::new();
    let t = counting_token();
    let derives: [(&str, Token, String); 6] = [
        (
            "words",
            counting_token(),
            "correct horse battery staple".into(),
        ),
        (
            "nfc_composed",
            counting_token(),
            "caf\u{e9} cr\u{e8}me".into(),
        ),
        (
            "nfc_decomposed_same_as_composed",
            counting_token(),
            "cafe\u{301} cre\u{300}me".into(),
        ),
        ("one_character", counting_token(), "x".into()),
        (
            "non_latin_and_spaces_kept",
            Token::from_bytes(fixed("token")),
            " 鍵 🔑 ".into(),
        ),
        ("longest", counting_token(), "p".repeat(1024)),
    ];
    for (name, token, phrase) in &derives {
        let salt = passphrase::salt(token);
        let stretched = passphrase::stretch(&Nfc::normalize(phrase), &salt)?;
        let keys = passphrase::derive(token, &Nfc::normalize(phrase))?;
        cases.push(json!({
            "op": "derive", "name": format!("derive_{name}"),
            "token_hex": hex(token_bytes(token)), "passphrase": phrase,
            "expected": {
                "argon2_m_kib": passphrase::ARGON2_M_KIB,
                "argon2_t": passphrase::ARGON2_T,
                "argon2_p": passphrase::ARGON2_P,
                "salt_hex": hex(salt),
                "stretched_hex": hex(stretched.expose()),
                "wrap_key_hex": hex(keys.wrap_key.expose()),
                "proof_hex": hex(keys.proof.expose()),
                "verifier_hex": hex(keys.proof.verifier()),
            },
        }));
    }
    let too_long = "p".repeat(1025);
    for (name, phrase) in [("empty", ""), ("too_long", too_long.as_str())] {
        cases.push(json!({
            "op": "derive", "name": format!("derive_{name}"),
            "token_hex": hex(token_bytes(&t)), "passphrase": phrase,
            "error": must_fail(
                name,
                passphrase::derive(&t, &Nfc::normalize(phrase)),
                "passphrase",
            )?,
        }));
    }
    let phrase = "correct horse battery staple";
    let keys = passphrase::derive(&t, &Nfc::normalize(phrase))?;
    let sid = t.derive().share_id;
    let record_key: [u8; 32] = fixed("record key");
    let nonce: [u8; 12] = fixed("passphrase wrap nonce");
    let wrapped =
        record::wrap_key_with_nonce(&keys.wrap_key, &sid, &Secret::new(record_key), nonce);
    cases.push(json!({
        "op": "wrap", "name": "wrap_under_passphrase_key",
        "token_hex": hex(token_bytes(&t)), "passphrase": phrase,
        "record_key_hex": hex(record_key), "nonce_hex": hex(nonce),
        "expected": {
            "aad_hex": hex(record::wrap_aad(&sid)),
            "wrapped_key_hex": hex(&wrapped),
        },
    }));
    let unwraps: [(&str, Option<&str>, Option<&str>); 4] = [
        ("right_passphrase", Some(phrase), None),
        (
            "other_passphrase",
            Some("correct horse battery stapler"),
            Some("wrong_key"),
        ),
        ("token_alone", None, Some("wrong_key")),
        ("empty_passphrase", Some(""), Some("passphrase")),
    ];
    for (name, given, error) in unwraps {
        let result = match given {
            Some(p) => passphrase::derive(&t, &Nfc::normalize(p)).map(|k| k.wrap_key),
            None => Ok(t.derive().wrap_key),
        }
        .and_then(|wk| record::unwrap_key(&wk, &sid, &wrapped));
        let mut case = json!({
            "op": "unwrap", "name": format!("unwrap_{name}"),
            "token_hex": hex(token_bytes(&t)), "passphrase": given,
            "wrapped_key_hex": hex(&wrapped),
        });
        match error {
            None => case["expected"] = json!({ "record_key_hex": hex(result?.expose()) }),
            Some(code) => case["error"] = json!(must_fail(name, result, code)?),
        }
        cases.push(case);
    }
    let verifier = keys.proof.verifier();
    let checks: [(&str, [u8; 32], Option<&str>); 3] = [
        ("right_proof", *keys.proof.expose(), None),
        (
            "other_passphrase",
            *passphrase::derive(&t, &Nfc::normalize("Correct horse battery staple"))?
                .proof
                .expose(),
            Some("wrong_passphrase"),
        ),
        (
            "open_code_proof_of_the_same_token",
            *OpenCode::from_random(fixed("open code")).proof(&t).expose(),
            Some("wrong_passphrase"),
        ),
    ];
    for (name, proof, error) in checks {
        cases.push(check_case(
            Factor::Passphrase,
            name,
            &verifier,
            proof,
            error,
        )?);
    }
    Ok(cases)
}

// ---------------------------------------------------------------- v2: transfer

const TRANSFER_DESC: &str = "PROTOCOL.md §12.2: sender-approved transfer. op=derive: token -> \
share_id and transfer_secret = HKDF-Expand(HKDF-Extract(none, token), \
\"oneshare/v2/transfer-secret\", 32). op=seal_box: the transfer secret sealed under the owner key \
as an envelope with AAD \"oneshare/v2/transfer-secret\" || 0x00 || share_id (77 bytes). \
op=open_box: a box that must fail with `error` (length before anything else). op=comparison: \
info = \"oneshare/v2/comparison-code\" || 0x00 || share_id || device_key (65) || ecdh_key (65), \
digest = HKDF-Expand(PRK = transfer_secret, info, 8), code = u64be(digest) mod 10^6 as 6 digits, \
display = the digits in two groups of three joined by a space; public keys are 65-byte \
uncompressed P-256 points (else invalid_key). op=approval: message = \"oneshare/v2/transfer-approval\" \
|| 0x00 || share_id || request_id (16) || device_key || ecdh_key, signed by the owner key (ECDSA \
P-256 SHA-256, RFC 6979, P1363 r || s); op=verify_approval: a signature that must fail with `error` \
for the message of the keys given. op=wrap: context = \"oneshare/v2/transfer-key\" || 0x00 || \
share_id || request_id || device_key; transfer_wrap_key = HKDF-Expand(PRK = transfer_secret, \
\"oneshare/v2/transfer-wrap-key\", 32); inner = envelope(transfer_wrap_key, AAD = context, K_r) \
with the given nonce (77 bytes). op=open_transfer_key: transfer_key = HPKE base mode (DHKEM(P-256, \
HKDF-SHA256), HKDF-SHA256, AES-256-GCM) enc (65) || seal(info = context, aad = empty, inner) to \
the ECDH public key of ecdh_private; opens to record_key, or fails with `error` (length before \
anything, hpke for another ECDH key, request or device, wrong_key for another transfer secret). \
HPKE sealing is randomized: these are open vectors.";

fn public_key_of(label: &str) -> R<PublicKey> {
    Ok(SigningKey::from_bytes(&Secret::new(fixed(label)))?.public_key())
}

/// The transfer key sealed by an earlier run, if it still opens to `record_key`.
fn previous_transfer_key(dir: &Path, name: &str, open: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let doc: Value = serde_json::from_slice(&fs::read(dir.join("transfer.json")).ok()?).ok()?;
    let sealed = doc["cases"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)?["transfer_key_hex"]
        .as_str()
        .and_then(|h| hex::decode(h).ok())?;
    open(&sealed).then_some(sealed)
}

/// Approval, inner wrap and open vectors of a transfer (PROTOCOL.md §12.2).
fn transfer_approval_cases(dir: &Path, cases: &mut Vec<Value>) -> R {
    let t = counting_token();
    let sid = t.derive().share_id;
    let secret = transfer::transfer_secret(&t);
    let owner = SigningKey::from_bytes(&Secret::new(fixed("owner signing key")))?;
    let device = public_key_of("device key")?;
    let ecdh_private: [u8; 32] = fixed("ecdh private key");
    let ecdh = transfer::EcdhKey::from_bytes(&Secret::new(ecdh_private))?;
    let ecdh_public = ecdh.public_key()?;
    let rid: [u8; 16] = fixed("transfer request id");
    let binding = transfer::Binding {
        share_id: &sid,
        request_id: &rid,
        device_key: &device,
        ecdh_key: &ecdh_public,
    };
    let sig = transfer::sign_approval(&owner, &binding);
    cases.push(json!({
        "op": "approval", "name": "approval",
        "owner_signing_key_hex": hex(owner.to_bytes().expose()), "share_id_b64": sid.to_string(),
        "request_id_hex": hex(rid), "device_key_b64": device.to_string(),
        "ecdh_key_b64": ecdh_public.to_string(),
        "expected": {
            "owner_key_b64": owner.public_key().to_string(),
            "message_hex": hex(transfer::approval_message(&binding)),
            "signature_hex": hex(sig),
        },
    }));
    let swapped = public_key_of("relay's ecdh key")?;
    for (name, dk, ek, bytes) in [
        ("ecdh_key_swapped", device, swapped, sig.to_vec()),
        ("device_key_swapped", swapped, ecdh_public, sig.to_vec()),
        ("flipped", device, ecdh_public, flip(&sig, 10, 1)),
    ] {
        cases.push(json!({
            "op": "verify_approval", "name": format!("verify_approval_{name}"),
            "owner_key_b64": owner.public_key().to_string(), "share_id_b64": sid.to_string(),
            "request_id_hex": hex(rid), "device_key_b64": dk.to_string(),
            "ecdh_key_b64": ek.to_string(), "signature_hex": hex(&bytes),
            "error": must_fail(name, transfer::verify_approval(&owner.public_key(), &transfer::Binding { device_key: &dk, ecdh_key: &ek, ..binding }, &bytes), "bad_signature")?,
        }));
    }
    let record_key: [u8; 32] = fixed("record key");
    let nonce: [u8; 12] = fixed("transfer inner nonce");
    let context = transfer::transfer_context(&sid, &rid, &device);
    let wrap_key = transfer::transfer_wrap_key(&secret);
    cases.push(json!({
        "op": "wrap", "name": "wrap_inner",
        "transfer_secret_hex": hex(secret.expose()), "share_id_b64": sid.to_string(),
        "request_id_hex": hex(rid), "device_key_b64": device.to_string(),
        "record_key_hex": hex(record_key), "nonce_hex": hex(nonce),
        "expected": {
            "context_hex": hex(&context),
            "transfer_wrap_key_hex": hex(wrap_key.expose()),
            "inner_hex": hex(envelope::seal_with_nonce(&wrap_key, nonce, &context, &record_key)),
        },
    }));
    let opens = |sealed: &[u8]| {
        transfer::open_transfer_key(&ecdh, &secret, &binding, sealed)
            .is_ok_and(|k| *k.expose() == record_key)
    };
    let sealed = match previous_transfer_key(dir, "open_transfer_key", opens) {
        Some(s) => s,
        None => transfer::wrap_for_device(&secret, &binding, &Secret::new(record_key))?,
    };
    let other_ecdh: [u8; 32] = fixed("other ecdh private key");
    let other_secret = transfer::transfer_secret(&Token::from_bytes(fixed("token")));
    let other_rid: [u8; 16] = fixed("other request id");
    let base = |name: &str,
                ecdh: [u8; 32],
                secret: &Key256,
                rid: [u8; 16],
                dk: &PublicKey,
                bytes: &[u8]| {
        json!({
            "op": "open_transfer_key", "name": name,
            "ecdh_private_hex": hex(ecdh), "transfer_secret_hex": hex(secret.expose()),
            "share_id_b64": sid.to_string(), "request_id_hex": hex(rid),
            "device_key_b64": dk.to_string(), "transfer_key_hex": hex(bytes),
        })
    };
    let mut ok = base(
        "open_transfer_key",
        ecdh_private,
        &secret,
        rid,
        &device,
        &sealed,
    );
    ok["expected"] =
        json!({ "ecdh_key_b64": ecdh_public.to_string(), "record_key_hex": hex(record_key) });
    cases.push(ok);
    let negatives: [(&str, [u8; 32], &Key256, [u8; 16], PublicKey, Vec<u8>, &str); 5] = [
        (
            "other_ecdh_key",
            other_ecdh,
            &secret,
            rid,
            device,
            sealed.clone(),
            "hpke",
        ),
        (
            "other_request",
            ecdh_private,
            &secret,
            other_rid,
            device,
            sealed.clone(),
            "hpke",
        ),
        (
            "other_device_key",
            ecdh_private,
            &secret,
            rid,
            swapped,
            sealed.clone(),
            "hpke",
        ),
        (
            "other_link",
            ecdh_private,
            &other_secret,
            rid,
            device,
            sealed.clone(),
            "wrong_key",
        ),
        (
            "truncated",
            ecdh_private,
            &secret,
            rid,
            device,
            sealed[..sealed.len() - 1].to_vec(),
            "length",
        ),
    ];
    for (name, ek, sec, r, dk, bytes, code) in negatives {
        let name = format!("open_transfer_key_{name}");
        let result = transfer::EcdhKey::from_bytes(&Secret::new(ek)).and_then(|k| {
            let binding = transfer::Binding {
                share_id: &sid,
                request_id: &r,
                device_key: &dk,
                ecdh_key: &k.public_key()?,
            };
            transfer::open_transfer_key(&k, sec, &binding, &bytes)
        });
        let mut case = base(&name, ek, sec, r, &dk, &bytes);
        case["error"] = json!(must_fail(&name, result, code)?);
        cases.push(case);
    }
    Ok(())
}

fn transfer_cases(dir: &Path) -> R<Vec<Value>> {
    let mut cases = Vec::new();
    for (name, token) in [
        ("counting_token", counting_token()),
        ("pseudo_random_token", Token::from_bytes(fixed("token"))),
    ] {
        cases.push(json!({
            "op": "derive", "name": format!("derive_{name}"),
            "token_hex": hex(token_bytes(&token)),
            "expected": {
                "share_id_b64": token.derive().share_id.to_string(),
                "transfer_secret_hex": hex(transfer::transfer_secret(&token).expose()),
            },
        }));
    }
    let t = counting_token();
    let sid = t.derive().share_id;
    let secret = transfer::transfer_secret(&t);
    let owner_key: [u8; 32] = fixed("owner key");
    let nonce: [u8; 12] = fixed("transfer box nonce");
    let sealed = transfer::seal_box_with_nonce(&Secret::new(owner_key), &sid, &secret, nonce);
    if transfer::open_box(&Secret::new(owner_key), &sid, &sealed)? != secret {
        return Err("transfer box does not open".into());
    }
    cases.push(json!({
        "op": "seal_box", "name": "seal_box",
        "owner_key_hex": hex(owner_key), "share_id_b64": sid.to_string(),
        "transfer_secret_hex": hex(secret.expose()), "nonce_hex": hex(nonce),
        "expected": { "aad_hex": hex(transfer::box_aad(&sid)), "box_hex": hex(&sealed) },
    }));
    let other_id = ShareId(fixed("other share id"));
    let opens: [(&str, [u8; 32], ShareId, Vec<u8>, &str); 4] = [
        (
            "other_owner_key",
            fixed("other key"),
            sid,
            sealed.clone(),
            "wrong_key",
        ),
        (
            "other_share_id",
            owner_key,
            other_id,
            sealed.clone(),
            "decrypt",
        ),
        (
            "flipped_tag",
            owner_key,
            sid,
            flip(&sealed, sealed.len() - 1, 1),
            "decrypt",
        ),
        (
            "truncated",
            owner_key,
            sid,
            sealed[..sealed.len() - 1].to_vec(),
            "length",
        ),
    ];
    for (name, key, id, bytes, code) in opens {
        cases.push(json!({
            "op": "open_box", "name": format!("open_box_{name}"),
            "owner_key_hex": hex(key), "share_id_b64": id.to_string(), "box_hex": hex(&bytes),
            "error": must_fail(name, transfer::open_box(&Secret::new(key), &id, &bytes), code)?,
        }));
    }
    let device = public_key_of("device key")?;
    // A key whose code starts with a zero, found by a deterministic search, pins
    // the zero padding.
    let mut padded = None;
    for i in 0..10_000u32 {
        let k = public_key_of(&format!("ecdh key {i}"))?;
        if transfer::comparison_code(&secret, &sid, &device, &k)
            .digits()
            .starts_with('0')
        {
            padded = Some(k);
            break;
        }
    }
    let padded = padded.ok_or("no zero-padded code in 10000 keys")?;
    let comparisons: [(&str, Key256, ShareId, PublicKey, PublicKey); 4] = [
        (
            "counting_token",
            secret.clone(),
            sid,
            device,
            public_key_of("ecdh key")?,
        ),
        ("leading_zero", secret.clone(), sid, device, padded),
        (
            "keys_swapped",
            secret.clone(),
            sid,
            public_key_of("ecdh key")?,
            device,
        ),
        (
            "other_token",
            transfer::transfer_secret(&Token::from_bytes(fixed("token"))),
            Token::from_bytes(fixed("token")).derive().share_id,
            device,
            public_key_of("ecdh key")?,
        ),
    ];
    for (name, secret, id, dk, ek) in comparisons {
        let info = transfer::comparison_info(&id, &dk, &ek);
        let code = transfer::comparison_code(&secret, &id, &dk, &ek);
        cases.push(json!({
            "op": "comparison", "name": format!("comparison_{name}"),
            "transfer_secret_hex": hex(secret.expose()), "share_id_b64": id.to_string(),
            "device_key_b64": dk.to_string(), "ecdh_key_b64": ek.to_string(),
            "expected": { "info_hex": hex(&info), "code": code.digits(), "display": code.display() },
        }));
    }
    let good = device.to_bytes();
    let mut off_curve = good;
    off_curve[64] ^= 1;
    let bad_keys: [(&str, Vec<u8>); 3] = [
        ("ecdh_key_compressed", {
            let mut c = vec![0x02 | (good[64] & 1)];
            c.extend_from_slice(&good[1..33]);
            c
        }),
        ("ecdh_key_off_curve", off_curve.to_vec()),
        ("ecdh_key_empty", Vec::new()),
    ];
    for (name, bytes) in bad_keys {
        cases.push(json!({
            "op": "comparison", "name": format!("comparison_{name}"),
            "transfer_secret_hex": hex(secret.expose()), "share_id_b64": sid.to_string(),
            "device_key_b64": device.to_string(), "ecdh_key_b64": b64(&bytes),
            "error": must_fail(name, PublicKey::parse(&b64(&bytes)), "invalid_key")?,
        }));
    }
    transfer_approval_cases(dir, &mut cases)?;
    Ok(cases)
}
