//! Known-answer vectors (PROTOCOL.md §13): every file in `sdk/vectors/` is read and
//! every case checked against the core. Positive cases must reproduce the exact
//! bytes; negative cases must fail with the exact `Error::code`.
//!
//! Three guards keep the vectors honest:
//! * each file has a checker, and each checker's file exists
//!   (`every_vector_file_is_checked`), so a new file without a test fails;
//! * every value under `expected` or `error` is load-bearing: changing any one of
//!   them makes its case fail (`every_expected_value_is_checked`);
//! * unknown ops and missing fields are failures, not skips.
//!
//! The files are written by `cargo run -p oneshare-sdk --example gen_vectors`.
//! Signature checks and HPKE opens run on every crypto backend compiled in
//! (`backend`; aws-lc with the `aws-lc` feature), which must agree with each
//! other and with the file. The same checks run on the core compiled to
//! `wasm32-unknown-unknown` (the build that ships in the npm package and the
//! viewer; `cargo xtask test` runs them in Node with wasm-bindgen-test), with the
//! files embedded at compile time; the packaged SDK runs the stream and envelope
//! files again in Chromium (`tests/specs/vectors.spec.mjs`).

// Test helpers outside `#[test]` functions: a broken vector file should panic.
#![allow(clippy::panic, clippy::expect_used)]
// The native-only checks (see `native_only`) leave helpers unused in wasm32.
#![cfg_attr(target_arch = "wasm32", allow(unused_imports, dead_code))]

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
#[cfg(feature = "aws-lc")]
use oneshare_sdk::backend::AwsLc;
#[cfg(not(target_arch = "wasm32"))]
use oneshare_sdk::backend::RustCrypto;
use oneshare_sdk::duration;
use oneshare_sdk::encoding::{b64, unb64};
use oneshare_sdk::envelope::{self, Envelope};
use oneshare_sdk::factor::{Factor, Proof};
use oneshare_sdk::fingerprint::fingerprint;
use oneshare_sdk::hpke;
#[cfg(not(target_arch = "wasm32"))]
use oneshare_sdk::hpke::{Encapped, dhkem};
use oneshare_sdk::lifetime::{BindDecision, Lifetime, State, decide_bind};
use oneshare_sdk::open_code::OpenCode;
#[cfg(not(target_arch = "wasm32"))]
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::owner::{self, OwnerData};
use oneshare_sdk::passphrase;
use oneshare_sdk::record::{self, Record};
use oneshare_sdk::secret::{Key256, Secret};
#[cfg(not(target_arch = "wasm32"))]
use oneshare_sdk::signing::SigningKey;
use oneshare_sdk::signing::{self, PublicKey, Request, SignedHeaders, Signer};
use oneshare_sdk::stream::{
    self, ENCRYPTED_SEGMENT_SIZE, Encryptor, HEADER_LEN, Opener, SEGMENT_SIZE, SegmentJob,
    SegmentNonce, Verdict,
};
use oneshare_sdk::token::{ShareId, Token, alarm_verifier, verifier};
use oneshare_sdk::transfer;
#[cfg(not(target_arch = "wasm32"))]
use oneshare_sdk::transmission::RelayKeyPair;
use oneshare_sdk::transmission::{self, RelayPublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

// ------------------------------------------------------------------ harness

/// Whether a case expected success or a specific failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Positive,
    Negative,
    /// Not checked in this build (see `native_only`).
    #[cfg(target_arch = "wasm32")]
    NativeOnly,
}

type Check = Result<Kind, String>;
/// Checks one case; gets the whole file for cases that refer to other cases.
type Checker = fn(&Value, &Value) -> Check;

macro_rules! vector_files {
    ($($test:ident: $file:literal => $check:path, negatives: $neg:literal;)*) => {
        /// Every vector file, its checker, and whether it must have negative cases
        /// (for the native guards over all files).
        #[cfg(not(target_arch = "wasm32"))]
        const FILES: &[(&str, Checker, bool)] = &[$(($file, $check, $neg)),*];
        /// The files' text, embedded so the wasm32 build (no file system) reads
        /// the same bytes.
        const TEXTS: &[(&str, &str)] = &[$(($file, include_str!(concat!("../vectors/", $file)))),*];
        $(
            #[cfg_attr(not(target_arch = "wasm32"), test)]
            #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
            fn $test() {
                run_file($file, $check, $neg);
            }
        )*
    };
}

vector_files! {
    token_json: "token.json" => check_token, negatives: true;
    envelope_json: "envelope.json" => check_envelope, negatives: true;
    record_json: "record.json" => check_record, negatives: true;
    wrapped_key_json: "wrapped_key.json" => check_wrapped_key, negatives: true;
    owner_data_json: "owner_data.json" => check_owner_data, negatives: true;
    stream_json: "stream.json" => check_stream, negatives: true;
    signing_json: "signing.json" => check_signing, negatives: true;
    hpke_json: "hpke.json" => check_hpke, negatives: true;
    hpke_rfc9180_json: "hpke_rfc9180.json" => check_hpke_rfc9180, negatives: true;
    duration_json: "duration.json" => check_duration, negatives: true;
    lifetime_json: "lifetime.json" => check_lifetime, negatives: false;
    open_code_json: "open_code.json" => check_open_code, negatives: true;
    passphrase_json: "passphrase.json" => check_passphrase, negatives: true;
    transfer_json: "transfer.json" => check_transfer, negatives: true;
    fingerprint_json: "fingerprint.json" => check_fingerprint, negatives: true;
}

fn load(name: &str) -> Value {
    let text = TEXTS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("{name} is not embedded"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn cases(doc: &Value) -> &[Value] {
    doc["cases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn run_file(name: &str, check: Checker, needs_negatives: bool) {
    let doc = load(name);
    assert!(
        doc["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{name}: no description"
    );
    let (mut positive, mut negative, mut failures) = (0, 0, Vec::new());
    #[cfg(target_arch = "wasm32")]
    let mut native_only = 0;
    let mut names = std::collections::BTreeSet::new();
    for case in cases(&doc) {
        let case_name = case["name"].as_str().unwrap_or("<unnamed>");
        assert!(
            names.insert(case_name),
            "{name}: duplicate case {case_name}"
        );
        let declared = if case.get("error").is_some() {
            Kind::Negative
        } else {
            Kind::Positive
        };
        match check(case, &doc) {
            #[cfg(target_arch = "wasm32")]
            Ok(Kind::NativeOnly) => native_only += 1,
            Ok(kind) if kind == declared => {
                if kind == Kind::Positive {
                    positive += 1;
                } else {
                    negative += 1;
                }
            }
            Ok(kind) => failures.push(format!("{case_name}: checked as {kind:?}")),
            Err(e) => failures.push(format!("{case_name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(positive > 0, "{name}: no positive cases");
    // In wasm32 a file's negative cases may all need P-256 (`native_only`);
    // the native run (the guard) requires them.
    #[cfg(target_arch = "wasm32")]
    let needs_negatives = needs_negatives && native_only == 0;
    assert!(
        !needs_negatives || negative > 0,
        "{name}: no negative cases"
    );
    println!("{name}: {positive} positive, {negative} negative");
    #[cfg(target_arch = "wasm32")]
    println!("{name}: {native_only} checked natively only");
}

// The two guards below are about the files, not the build: native only.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_vector_file_is_checked() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("sdk/vectors exists")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut checked: Vec<String> = FILES.iter().map(|(f, _, _)| (*f).to_owned()).collect();
    checked.sort();
    assert_eq!(
        on_disk, checked,
        "sdk/vectors/ and the checkers in sdk/tests/vectors.rs must list the same files"
    );
}

/// Changes every value under `expected` (and every `error` code), one at a time,
/// and requires the case to fail: no expected byte goes unchecked.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_expected_value_is_checked() {
    let mut mutations = 0;
    for (name, check, _) in FILES {
        let before = mutations;
        let doc = load(name);
        for case in cases(&doc) {
            let case_name = case["name"].as_str().unwrap_or_default();
            let mut leaves = Vec::new();
            for key in ["expected", "error"] {
                if let Some(v) = case.get(key) {
                    collect_leaves(v, format!("/{key}"), &mut leaves);
                }
            }
            assert!(!leaves.is_empty(), "{name} {case_name}: nothing expected");
            for pointer in leaves {
                let mut mutated = case.clone();
                let slot = mutated.pointer_mut(&pointer).expect("leaf exists");
                *slot = mutate(slot, pointer == "/error");
                assert!(
                    check(&mutated, &doc).is_err(),
                    "{name} {case_name}: changing {pointer} went unnoticed"
                );
                mutations += 1;
            }
        }
        assert!(mutations > before, "{name}: nothing was mutated");
    }
    println!("{mutations} mutated expectations, all rejected");
}

#[cfg(not(target_arch = "wasm32"))]
fn collect_leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                collect_leaves(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn mutate(v: &Value, is_error_code: bool) -> Value {
    match v {
        Value::String(s) if is_error_code => Value::from(if s == "decrypt" {
            "wrong_key"
        } else {
            "decrypt"
        }),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let mut t = s.clone();
            let last = t.pop().expect("non-empty");
            t.push(if last == '0' { '1' } else { '0' });
            Value::from(t)
        }
        Value::String(s) => Value::from(format!("{s}~")),
        Value::Number(n) => Value::from(n.as_u64().expect("u64 number") + 1),
        Value::Bool(b) => Value::from(!b),
        _ => Value::from(0),
    }
}

// ------------------------------------------------------------------ field access

fn field<'a>(c: &'a Value, k: &str) -> Result<&'a Value, String> {
    c.get(k).ok_or_else(|| format!("missing field {k}"))
}

fn text<'a>(c: &'a Value, k: &str) -> Result<&'a str, String> {
    field(c, k)?
        .as_str()
        .ok_or_else(|| format!("{k} is not a string"))
}

fn opt_text<'a>(c: &'a Value, k: &str) -> Result<Option<&'a str>, String> {
    match field(c, k)? {
        Value::Null => Ok(None),
        v => v
            .as_str()
            .map(Some)
            .ok_or_else(|| format!("{k} is not a string or null")),
    }
}

fn num(c: &Value, k: &str) -> Result<u64, String> {
    field(c, k)?
        .as_u64()
        .ok_or_else(|| format!("{k} is not a u64"))
}

fn bytes(c: &Value, k: &str) -> Result<Vec<u8>, String> {
    hex::decode(text(c, k)?).map_err(|e| format!("{k}: {e}"))
}

fn array<const N: usize>(c: &Value, k: &str) -> Result<[u8; N], String> {
    let b = bytes(c, k)?;
    <[u8; N]>::try_from(b.as_slice()).map_err(|_| format!("{k}: {} bytes, want {N}", b.len()))
}

fn key(c: &Value, k: &str) -> Result<Key256, String> {
    array(c, k).map(Secret::new)
}

fn share_id(c: &Value, k: &str) -> Result<ShareId, String> {
    ShareId::parse(text(c, k)?).map_err(|e| format!("{k}: {e}"))
}

fn op(c: &Value) -> Result<&str, String> {
    text(c, "op")
}

/// An op that needs P-256 arithmetic (ECDSA, key derivation, the DH of HPKE),
/// which the wasm32 build does not link: browsers do it in WebCrypto
/// (`web/tests/hpke.rs` runs the HPKE vector that way). Checked natively.
#[cfg(target_arch = "wasm32")]
fn native_only() -> Check {
    Ok(Kind::NativeOnly)
}

fn unknown_op(c: &Value) -> Check {
    Err(format!("unknown op {:?}", c["op"]))
}

/// Compares a computed value with the expected one.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn same_hex(c: &Value, k: &str, got: impl AsRef<[u8]>) -> Result<(), String> {
    same(k, hex::encode(got).as_str(), text(c, k)?)
}

/// The one place that decides a case: a negative case must fail with exactly
/// its `error` code; a positive one must succeed and pass `check` on `expected`.
fn outcome<T>(
    c: &Value,
    result: oneshare_sdk::Result<T>,
    check: impl FnOnce(T, &Value) -> Result<(), String>,
) -> Check {
    match (c.get("error"), result) {
        (Some(want), Err(e)) => {
            same("error code", Some(e.code()), want.as_str())?;
            Ok(Kind::Negative)
        }
        // The wasm32 core checks a public key's form only (PublicKey::from_bytes):
        // that the point is on the curve is WebCrypto's `importKey` there
        // (web/tests/hpke.rs), and natively `p256`'s.
        #[cfg(target_arch = "wasm32")]
        (Some(want), Ok(_)) if want == "invalid_key" => native_only(),
        (Some(want), Ok(_)) => Err(format!("succeeded, but must fail with {want}")),
        (None, Err(e)) => Err(format!("failed with {} ({e})", e.code())),
        (None, Ok(v)) => {
            check(v, field(c, "expected")?)?;
            Ok(Kind::Positive)
        }
    }
}

fn token_hex(t: &Token) -> String {
    hex::encode(unb64(&t.to_text(), "token").unwrap_or_default())
}

// ------------------------------------------------------------------ token

fn check_token(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "derive" => {
            let t = Token::from_bytes(array(c, "token_hex")?);
            let base = text(c, "base")?;
            let keys = t.derive();
            outcome(c, Ok(()), |(), e| {
                same("token_b64", t.to_text().as_str(), text(e, "token_b64")?)?;
                same("link", t.to_link(base).as_str(), text(e, "link")?)?;
                same(
                    "share_id_b64",
                    keys.share_id.to_string().as_str(),
                    text(e, "share_id_b64")?,
                )?;
                same_hex(e, "share_id_hex", keys.share_id.0)?;
                same_hex(e, "wrap_key_hex", keys.wrap_key.expose())?;
                same_hex(e, "bind_secret_hex", keys.bind_secret.expose())?;
                same_hex(e, "verifier_hex", verifier(&keys.bind_secret))?;
                same_hex(e, "alarm_verifier_hex", alarm_verifier(&keys.bind_secret))?;
                // The link and the token text parse back to the same token.
                same("parse(link)", Token::parse(&t.to_link(base)), Ok(t.clone()))?;
                same("parse(text)", Token::parse(&t.to_text()), Ok(t.clone()))
            })
        }
        "parse" => outcome(c, Token::parse(text(c, "link")?), |t, e| {
            same("token_hex", token_hex(&t).as_str(), text(e, "token_hex")?)
        }),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ envelope

fn check_envelope(c: &Value, _: &Value) -> Check {
    let k = key(c, "key_hex")?;
    let aad = bytes(c, "aad_hex")?;
    match op(c)? {
        "seal" => {
            let pt = bytes(c, "plaintext_hex")?;
            let sealed = envelope::seal_with_nonce(&k, array(c, "nonce_hex")?, &aad, &pt);
            outcome(c, envelope::open(&k, &aad, &sealed), |opened, e| {
                same_hex(e, "commitment_hex", envelope::commitment(&k))?;
                same_hex(e, "envelope_hex", &sealed)?;
                same("round trip", opened, pt)?;
                let parsed = Envelope::parse(&sealed).map_err(|e| e.to_string())?;
                same("canonical re-encoding", parsed.to_bytes(), sealed.clone())
            })
        }
        "open" => outcome(
            c,
            envelope::open(&k, &aad, &bytes(c, "envelope_hex")?),
            |pt, e| same_hex(e, "plaintext_hex", pt),
        ),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ record

fn check_record(c: &Value, _: &Value) -> Check {
    let k = key(c, "record_key_hex")?;
    let sid = share_id(c, "share_id_b64")?;
    let version = num(c, "version")?;
    match op(c)? {
        "seal" => {
            let input = serde_json::to_vec(field(c, "record")?).map_err(|e| e.to_string())?;
            let rec = Record::from_json(&input).map_err(|e| e.to_string())?;
            let sealed =
                record::seal_record_with_nonce(&k, &sid, version, &rec, array(c, "nonce_hex")?)
                    .map_err(|e| e.to_string())?;
            outcome(
                c,
                record::open_record(&k, &sid, version, &sealed),
                |opened, e| {
                    same(
                        "record_json",
                        String::from_utf8_lossy(&rec.to_json().map_err(|e| e.to_string())?)
                            .as_ref(),
                        text(e, "record_json")?,
                    )?;
                    same_hex(e, "aad_hex", record::record_aad(&sid, version))?;
                    same_hex(e, "envelope_hex", &sealed)?;
                    same("round trip", opened, rec)
                },
            )
        }
        "open" => outcome(
            c,
            record::open_record(&k, &sid, version, &bytes(c, "envelope_hex")?),
            |rec, e| {
                same(
                    "record_json",
                    String::from_utf8_lossy(&rec.to_json().map_err(|e| e.to_string())?).as_ref(),
                    text(e, "record_json")?,
                )
            },
        ),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ wrapped key

fn check_wrapped_key(c: &Value, _: &Value) -> Check {
    let wk = key(c, "wrap_key_hex")?;
    let sid = share_id(c, "share_id_b64")?;
    match op(c)? {
        "wrap" => {
            let rk = key(c, "record_key_hex")?;
            let wrapped = record::wrap_key_with_nonce(&wk, &sid, &rk, array(c, "nonce_hex")?);
            outcome(
                c,
                record::unwrap_key(&wk, &sid, &wrapped),
                |unwrapped, e| {
                    same_hex(e, "aad_hex", record::wrap_aad(&sid))?;
                    same_hex(e, "wrapped_key_hex", &wrapped)?;
                    same("length", wrapped.len(), record::WRAPPED_KEY_LEN)?;
                    same("round trip", unwrapped, rk)
                },
            )
        }
        "unwrap" => outcome(
            c,
            record::unwrap_key(&wk, &sid, &bytes(c, "wrapped_key_hex")?),
            |rk, e| same_hex(e, "record_key_hex", rk.expose()),
        ),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ owner data

fn check_owner_data(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "seal" => {
            let ok = key(c, "owner_key_hex")?;
            let sid = share_id(c, "share_id_b64")?;
            let data = OwnerData::new(text(c, "label")?, &key(c, "record_key_hex")?);
            let sealed =
                owner::seal_owner_data_with_nonce(&ok, &sid, &data, array(c, "nonce_hex")?)
                    .map_err(|e| e.to_string())?;
            outcome(
                c,
                owner::open_owner_data(&ok, &sid, &sealed),
                |opened, e| {
                    let json = serde_json::to_string(&data).map_err(|e| e.to_string())?;
                    same(
                        "owner_data_json",
                        json.as_str(),
                        text(e, "owner_data_json")?,
                    )?;
                    same_hex(e, "aad_hex", owner::owner_aad(&sid))?;
                    same_hex(e, "envelope_hex", &sealed)?;
                    same("round trip", opened, data)
                },
            )
        }
        "open" => {
            let ok = key(c, "owner_key_hex")?;
            let sid = share_id(c, "share_id_b64")?;
            outcome(
                c,
                owner::open_owner_data(&ok, &sid, &bytes(c, "envelope_hex")?),
                |data, e| {
                    let json = serde_json::to_string(&data).map_err(|e| e.to_string())?;
                    same(
                        "owner_data_json",
                        json.as_str(),
                        text(e, "owner_data_json")?,
                    )
                },
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        "identity" => {
            let signing_key =
                SigningKey::from_bytes(&key(c, "signing_key_hex")?).map_err(|e| e.to_string())?;
            let identity = OwnerIdentity {
                signing_key,
                owner_key: key(c, "owner_key_hex")?,
            };
            let json = identity.to_json().map_err(|e| e.to_string())?;
            outcome(c, OwnerIdentity::from_json(&json), |back, e| {
                same("identity_json", json.as_str(), text(e, "identity_json")?)?;
                same(
                    "public_key_b64",
                    back.public_key().to_string().as_str(),
                    text(e, "public_key_b64")?,
                )?;
                same("owner key", back.owner_key, identity.owner_key.clone())
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        "parse_identity" => outcome(
            c,
            OwnerIdentity::from_json(text(c, "identity_json")?),
            |id, e| {
                same(
                    "public_key_b64",
                    id.public_key().to_string().as_str(),
                    text(e, "public_key_b64")?,
                )
            },
        ),
        #[cfg(target_arch = "wasm32")]
        "identity" | "parse_identity" => native_only(),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ stream

/// The plaintext rule of `stream.json`: byte i = i mod 251.
fn stream_plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

struct Sealed {
    key: [u8; 32],
    prefix: [u8; 7],
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Seals a `seal` case's inputs with the buffered API (`push` / `finish`).
fn seal_stream(c: &Value) -> Result<Sealed, String> {
    let key: [u8; 32] = array(c, "file_key_hex")?;
    let prefix: [u8; 7] = array(c, "nonce_prefix_hex")?;
    let len = usize::try_from(num(c, "plaintext_len")?).map_err(|e| e.to_string())?;
    let plaintext = stream_plaintext(len);
    let (mut enc, header) = Encryptor::with_prefix(&Secret::new(key), prefix);
    let mut ciphertext = header.to_vec();
    // Odd-sized pushes exercise the buffering.
    for piece in plaintext.chunks(10_007) {
        ciphertext.extend(enc.push(piece).map_err(|e| e.to_string())?);
    }
    ciphertext.extend(enc.finish().map_err(|e| e.to_string())?);
    Ok(Sealed {
        key,
        prefix,
        plaintext,
        ciphertext,
    })
}

/// The same stream through the segment API (`encrypt_next` / `encrypt_last`).
fn seal_by_segments(s: &Sealed) -> Result<Vec<u8>, String> {
    let (mut enc, header) = Encryptor::with_prefix(&Secret::new(s.key), s.prefix);
    let mut out = header.to_vec();
    let chunks: Vec<&[u8]> = if s.plaintext.is_empty() {
        vec![&[]]
    } else {
        s.plaintext.chunks(SEGMENT_SIZE).collect()
    };
    let (last, full) = chunks.split_last().ok_or("no chunks")?;
    for chunk in full {
        out.extend(enc.encrypt_next(chunk).map_err(|e| e.to_string())?);
    }
    out.extend(enc.encrypt_last(last).map_err(|e| e.to_string())?);
    Ok(out)
}

/// Decrypts through the sans-io job machine ([`Opener`]) the way the browser
/// does: input arrives in odd-sized chunks, every job names the next bytes, and
/// a failed job's probe decides the error.
fn open_by_segments(key: &Key256, ct: &[u8]) -> oneshare_sdk::Result<Vec<u8>> {
    let aes = Aes256Gcm::new(key.expose().into());
    let mut opener = Opener::new(&oneshare_sdk::envelope::commitment(key), ct)?;
    let body = &ct[HEADER_LEN..];
    let run = |mut job: SegmentJob, input: &[u8]| loop {
        let result = aes.decrypt(&Nonce::from(job.nonce), input).ok();
        match job.verdict(result.as_ref().map(Vec::len)) {
            Verdict::Plaintext => return result.ok_or(oneshare_sdk::Error::Decrypt),
            Verdict::Probe(probe) => job = probe,
            Verdict::Failed(e) => return Err(e),
        }
    };
    let (mut out, mut used) = (Vec::new(), 0);
    for chunk in body.chunks(40_000) {
        opener.feed(chunk.len());
        while let Some(job) = opener.next_job()? {
            out.extend(run(job, &body[used..used + job.len])?);
            used += job.len;
        }
    }
    let job = opener.finish()?;
    out.extend(run(job, &body[used..])?);
    Ok(out)
}

fn segments_of(ct: &[u8]) -> Vec<Vec<u8>> {
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

/// Applies a `tamper` description (see the file's description).
fn tamper(s: &Sealed, t: &Value) -> Result<Vec<u8>, String> {
    let n = |k: &str| num(t, k).and_then(|v| usize::try_from(v).map_err(|e| e.to_string()));
    let ct = &s.ciphertext;
    let header = &ct[..HEADER_LEN];
    let mut segs = segments_of(ct);
    let in_range = |i: usize, len: usize| (i < len).then_some(i).ok_or("index out of range");
    Ok(match text(t, "kind")? {
        "none" => ct.clone(),
        "drop_final_segment" => {
            segs.pop();
            join(header, &segs)
        }
        "truncate_to" => ct.get(..n("length")?).ok_or("length")?.to_vec(),
        "swap_segments" => {
            let (a, b) = (
                in_range(n("a")?, segs.len())?,
                in_range(n("b")?, segs.len())?,
            );
            segs.swap(a, b);
            join(header, &segs)
        }
        "append_copy_of_segment" => {
            let copy = segs[in_range(n("index")?, segs.len())?].clone();
            segs.push(copy);
            join(header, &segs)
        }
        "append_hex" => [&ct[..], &bytes(t, "hex")?].concat(),
        "flip_bit" => {
            let mut out = ct.clone();
            let offset = in_range(n("offset")?, out.len())?;
            out[offset] ^= 1 << n("bit")?.min(7);
            out
        }
        "reseal_segment" => {
            let index = in_range(n("index")?, segs.len())?;
            let last = field(t, "last")?.as_bool().ok_or("last is not a bool")?;
            let chunk = s
                .plaintext
                .chunks(SEGMENT_SIZE)
                .nth(index)
                .unwrap_or_default();
            let nonce = SegmentNonce {
                prefix: s.prefix,
                counter: u32::try_from(index).map_err(|e| e.to_string())?,
                last,
            }
            .to_bytes();
            segs[index] = Aes256Gcm::new(&s.key.into())
                .encrypt(&Nonce::from(nonce), chunk)
                .map_err(|_| "aes-gcm")?;
            join(header, &segs)
        }
        other => return Err(format!("unknown tamper kind {other}")),
    })
}

fn check_stream(c: &Value, doc: &Value) -> Check {
    match op(c)? {
        "seal" => {
            let s = seal_stream(c)?;
            let ct = &s.ciphertext;
            let k = Secret::new(s.key);
            let len = s.plaintext.len() as u64;
            outcome(c, stream::open(&k, ct), |opened, e| {
                same_hex(e, "header_hex", &ct[..HEADER_LEN])?;
                same("ciphertext_len", ct.len() as u64, num(e, "ciphertext_len")?)?;
                same(
                    "ciphertext_len(len)",
                    stream::ciphertext_len(len),
                    ct.len() as u64,
                )?;
                same(
                    "plaintext_len",
                    stream::plaintext_len(ct.len() as u64),
                    Ok(len),
                )?;
                same(
                    "segments",
                    stream::segment_count(ct.len() as u64),
                    Ok(num(e, "segments")?),
                )?;
                same_hex(e, "first_64_hex", &ct[..ct.len().min(64)])?;
                same_hex(e, "last_32_hex", &ct[ct.len().saturating_sub(32)..])?;
                same_hex(e, "sha256_hex", Sha256::digest(ct))?;
                same("segment API", &seal_by_segments(&s)?, ct)?;
                same("open", &opened, &s.plaintext)?;
                same(
                    "open by segments",
                    open_by_segments(&k, ct),
                    Ok(s.plaintext.clone()),
                )
            })
        }
        "open" => {
            let source = text(c, "stream")?;
            let seal_case = cases(doc)
                .iter()
                .find(|x| x["name"] == source && x["op"] == "seal")
                .ok_or_else(|| format!("no seal case {source}"))?;
            let sealed = seal_stream(seal_case)?;
            let tampered = tamper(&sealed, field(c, "tamper")?)?;
            let k = key(c, "file_key_hex")?;
            // The segment-by-segment reader must agree with the buffered one.
            let by_segments = open_by_segments(&k, &tampered).map_err(|e| e.code());
            outcome(c, stream::open(&k, &tampered), |_, _| Ok(())).and_then(|kind| {
                let want = c["error"].as_str();
                same("segment reader", by_segments.err(), want)?;
                Ok(kind)
            })
        }
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ signing

#[cfg(not(target_arch = "wasm32"))]
/// `PublicKey::verify` on every backend: they must agree.
fn verify_everywhere(
    pk: &PublicKey,
    msg: &[u8],
    sig: &[u8],
) -> Result<oneshare_sdk::Result<()>, String> {
    let reference = pk.verify_with::<RustCrypto>(msg, sig);
    #[cfg(feature = "aws-lc")]
    same(
        "aws-lc verify",
        pk.verify_with::<AwsLc>(msg, sig),
        reference.clone(),
    )?;
    Ok(reference)
}

#[cfg(not(target_arch = "wasm32"))]
/// `signing::verify` on every backend: they must agree.
fn verify_request_everywhere(
    pk: &PublicKey,
    headers: &SignedHeaders,
    req: &Request<'_>,
    now: u64,
) -> Result<oneshare_sdk::Result<()>, String> {
    let reference = signing::verify_with::<RustCrypto>(pk, headers, req, now);
    #[cfg(feature = "aws-lc")]
    same(
        "aws-lc request verify",
        signing::verify_with::<AwsLc>(pk, headers, req, now),
        reference.clone(),
    )?;
    Ok(reference)
}

/// Parses the `headers` object of a case as the relay would.
fn parse_headers(c: &Value) -> Result<oneshare_sdk::Result<SignedHeaders>, String> {
    let map = field(c, "headers")?
        .as_object()
        .ok_or("headers is not an object")?;
    Ok(SignedHeaders::parse(|name| {
        map.get(name).and_then(Value::as_str)
    }))
}

fn check_signing(c: &Value, _: &Value) -> Check {
    match op(c)? {
        #[cfg(not(target_arch = "wasm32"))]
        "sign_message" => {
            let k =
                SigningKey::from_bytes(&key(c, "private_key_hex")?).map_err(|e| e.to_string())?;
            let msg = text(c, "message")?.as_bytes();
            let sig = k.sign(msg);
            outcome(
                c,
                verify_everywhere(&k.public_key(), msg, &sig)?,
                |(), e| {
                    same_hex(e, "public_key_hex", k.public_key().to_bytes())?;
                    same_hex(e, "signature_hex", sig)
                },
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        "sign_request" => {
            let k =
                SigningKey::from_bytes(&key(c, "private_key_hex")?).map_err(|e| e.to_string())?;
            let signer = Signer::parse(text(c, "signer")?).map_err(|e| e.to_string())?;
            same(
                "signer round trip",
                signer.to_string().as_str(),
                text(c, "signer")?,
            )?;
            let body = bytes(c, "body_hex")?;
            let req = Request {
                method: text(c, "method")?,
                path: text(c, "path")?,
                body: &body,
                transmission: opt_text(c, "transmission")?,
            };
            let ts = num(c, "timestamp")?;
            let nonce = array(c, "nonce_hex")?;
            let canonical = signing::canonical(&req, &signer, ts, &nonce);
            let headers = signing::sign_with_nonce(&k, signer, &req, ts, nonce);
            outcome(
                c,
                verify_request_everywhere(&k.public_key(), &headers, &req, ts)?,
                |(), e| {
                    same(
                        "public_key_b64",
                        k.public_key().to_string().as_str(),
                        text(e, "public_key_b64")?,
                    )?;
                    same(
                        "body_sha256_b64",
                        b64(Sha256::digest(&body)).as_str(),
                        text(e, "body_sha256_b64")?,
                    )?;
                    same("canonical", canonical.as_str(), text(e, "canonical")?)?;
                    same_hex(e, "signature_hex", headers.signature)?;
                    let pairs: serde_json::Map<String, Value> = headers
                        .to_pairs()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Value::from(v)))
                        .collect();
                    same("headers", &Value::Object(pairs), field(e, "headers")?)?;
                    same("headers parse back", parse_headers(e)?, Ok(headers.clone()))
                },
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        "verify" => {
            let pk = PublicKey::parse(text(c, "public_key_b64")?).map_err(|e| e.to_string())?;
            let headers = parse_headers(c)?.map_err(|e| e.to_string())?;
            let body = bytes(c, "body_hex")?;
            let req = Request {
                method: text(c, "method")?,
                path: text(c, "path")?,
                body: &body,
                transmission: opt_text(c, "transmission")?,
            };
            outcome(
                c,
                verify_request_everywhere(&pk, &headers, &req, num(c, "now")?)?,
                |(), e| same("expected", e.as_str(), Some("ok")),
            )
        }
        "parse_headers" => outcome(c, parse_headers(c)?, |h, e| {
            same("signer", h.signer.to_string().as_str(), text(e, "signer")?)?;
            same("timestamp", h.timestamp, num(e, "timestamp")?)?;
            same_hex(e, "nonce_hex", h.nonce)?;
            same_hex(e, "signature_hex", h.signature)
        }),
        "public_key" => {
            let raw = bytes(c, "public_key_hex")?;
            outcome(c, PublicKey::from_bytes(&raw), |pk, e| {
                same(
                    "public_key_b64",
                    pk.to_string().as_str(),
                    text(e, "public_key_b64")?,
                )?;
                same("re-encoding", pk.to_bytes().to_vec(), raw.clone())
            })
        }
        #[cfg(target_arch = "wasm32")]
        "sign_message" | "sign_request" | "verify" => native_only(),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ hpke

#[cfg(not(target_arch = "wasm32"))]
/// `RelayKeyPair::open_transmission_key` on every backend: they must agree.
fn open_everywhere(
    relay: &RelayKeyPair,
    header: &str,
) -> Result<oneshare_sdk::Result<Key256>, String> {
    let reference = RelayKeyPair::<RustCrypto>::for_backend(&relay.private_bytes())
        .map_err(|e| e.to_string())?
        .open_transmission_key(header);
    #[cfg(feature = "aws-lc")]
    same(
        "aws-lc open",
        RelayKeyPair::<AwsLc>::for_backend(&relay.private_bytes())
            .map_err(|e| e.to_string())?
            .open_transmission_key(header),
        reference.clone(),
    )?;
    Ok(reference)
}

#[cfg(not(target_arch = "wasm32"))]
fn relay_matches(relay: &RelayKeyPair, e: &Value) -> Result<(), String> {
    same_hex(e, "public_key_hex", relay.public().public_key)?;
    same("key_id", relay.public().key_id.as_str(), text(e, "key_id")?)
}

fn check_hpke(c: &Value, _: &Value) -> Check {
    match op(c)? {
        #[cfg(not(target_arch = "wasm32"))]
        "derive" => outcome(c, RelayKeyPair::derive(&key(c, "ikm_hex")?), |relay, e| {
            same_hex(e, "private_key_hex", relay.private_bytes().expose())?;
            relay_matches(&relay, e)?;
            let again = RelayKeyPair::from_private_bytes(&relay.private_bytes())
                .map_err(|e| e.to_string())?;
            same("import round trip", again.public(), relay.public())
        }),
        #[cfg(not(target_arch = "wasm32"))]
        "import" => outcome(
            c,
            RelayKeyPair::from_private_bytes(&key(c, "private_key_hex")?),
            |relay, e| relay_matches(&relay, e),
        ),
        "relay_public_key" => outcome(
            c,
            RelayPublicKey::from_bytes(&bytes(c, "public_key_hex")?),
            |pk, e| same("key_id", pk.key_id.as_str(), text(e, "key_id")?),
        ),
        #[cfg(not(target_arch = "wasm32"))]
        "open_header" => {
            let relay =
                RelayKeyPair::derive(&key(c, "relay_ikm_hex")?).map_err(|e| e.to_string())?;
            let header = text(c, "header")?;
            outcome(c, open_everywhere(&relay, header)?, |tk, e| {
                same(
                    "key id",
                    transmission::header_key_id(header),
                    Some(relay.public().key_id.as_str()),
                )?;
                same_hex(e, "transmission_key_hex", tk.expose())
            })
        }
        op @ ("request" | "response") => {
            let tk = key(c, "transmission_key_hex")?;
            let nonce = array(c, "request_nonce_hex")?;
            let body = bytes(c, "body_hex")?;
            let envelope_nonce = array(c, "nonce_hex")?;
            let (aad, sealed, opened) = if op == "request" {
                let sealed =
                    transmission::seal_request_with_nonce(&tk, &nonce, envelope_nonce, &body);
                let opened = transmission::open_request(&tk, &nonce, &sealed);
                (transmission::request_aad(&nonce), sealed, opened)
            } else {
                let sealed =
                    transmission::seal_response_with_nonce(&tk, &nonce, envelope_nonce, &body);
                let opened = transmission::open_response(&tk, &nonce, &sealed);
                (transmission::response_aad(&nonce), sealed, opened)
            };
            outcome(c, opened, |opened, e| {
                same_hex(e, "aad_hex", aad)?;
                same_hex(e, "envelope_hex", &sealed)?;
                same("round trip", opened, body.clone())
            })
        }
        op @ ("open_request" | "open_response") => {
            let tk = key(c, "transmission_key_hex")?;
            let nonce = array(c, "request_nonce_hex")?;
            let sealed = bytes(c, "envelope_hex")?;
            let result = if op == "open_request" {
                transmission::open_request(&tk, &nonce, &sealed)
            } else {
                transmission::open_response(&tk, &nonce, &sealed)
            };
            outcome(c, result, |body, e| same_hex(e, "body_hex", body))
        }
        #[cfg(target_arch = "wasm32")]
        "derive" | "import" | "open_header" => native_only(),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ hpke_rfc9180

/// `KeySchedule` and `Seal` from a shared secret: no curve arithmetic, so
/// every build runs it.
fn key_schedule_matches(c: &Value, ss: &hpke::SharedSecret, e: &Value) -> Result<(), String> {
    let ks = hpke::KeySchedule::base(ss, &bytes(c, "info_hex")?);
    same_hex(e, "key_hex", ks.key.expose())?;
    same_hex(e, "base_nonce_hex", ks.base_nonce)?;
    same_hex(
        e,
        "ct_hex",
        ks.seal(&bytes(c, "aad_hex")?, &bytes(c, "pt_hex")?),
    )
}

/// The single-shot open of backend `B` with the recipient scalar `sk`.
#[cfg(not(target_arch = "wasm32"))]
fn open_with<B: oneshare_sdk::backend::Backend>(
    c: &Value,
    sk: &Key256,
) -> Result<oneshare_sdk::Result<Vec<u8>>, String> {
    let pk = dhkem::public_key(sk).map_err(|e| e.to_string())?;
    let key = B::hpke_key(sk, &pk).map_err(|e| e.to_string())?;
    Ok(B::hpke_open(
        &key,
        &bytes(c, "enc_hex")?,
        &bytes(c, "info_hex")?,
        &bytes(c, "aad_hex")?,
        &bytes(c, "ct_hex")?,
    )
    .map(|pt| pt.to_vec()))
}

fn check_hpke_rfc9180(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "key_schedule" => outcome(c, Ok(key(c, "shared_secret_hex")?), |ss, e| {
            key_schedule_matches(c, &ss, e)
        }),
        #[cfg(not(target_arch = "wasm32"))]
        "kat" => {
            let (ikm_r, ikm_e) = (bytes(c, "ikm_r_hex")?, bytes(c, "ikm_e_hex")?);
            let kat = dhkem::derive_key_pair(&ikm_r).and_then(|(sk_r, pk_r)| {
                let (sk_e, enc) = dhkem::derive_key_pair(&ikm_e)?;
                let dh = dhkem::dh(&sk_e, &pk_r)?;
                Ok((sk_r, pk_r, sk_e, enc, dh))
            });
            outcome(c, kat, |(sk_r, pk_r, sk_e, enc, dh), e| {
                same_hex(e, "sk_r_hex", sk_r.expose())?;
                same_hex(e, "pk_r_hex", pk_r)?;
                same_hex(e, "sk_e_hex", sk_e.expose())?;
                same_hex(e, "enc_hex", enc)?;
                let decap = dhkem::dh(&sk_r, &enc).map_err(|e| e.to_string())?;
                same("DH(skR, pkE) = DH(skE, pkR)", &decap, &dh)?;
                let ss = hpke::shared_secret(&dh, &enc, &pk_r);
                same_hex(e, "shared_secret_hex", ss.expose())?;
                key_schedule_matches(c, &ss, e)?;
                let (info, aad, pt) = (
                    bytes(c, "info_hex")?,
                    bytes(c, "aad_hex")?,
                    bytes(c, "pt_hex")?,
                );
                let sealed = hpke::seal(&Encapped { enc, dh }, &pk_r, &info, &aad, &pt);
                same(
                    "enc || ct",
                    hex::encode(sealed),
                    format!("{}{}", text(e, "enc_hex")?, text(e, "ct_hex")?),
                )
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        "open" => {
            let sk = key(c, "sk_r_hex")?;
            let reference = open_with::<RustCrypto>(c, &sk)?;
            #[cfg(feature = "aws-lc")]
            same(
                "aws-lc open",
                open_with::<AwsLc>(c, &sk)?,
                reference.clone(),
            )?;
            outcome(c, reference, |pt, e| same_hex(e, "pt_hex", pt))
        }
        #[cfg(target_arch = "wasm32")]
        "kat" | "open" => native_only(),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ duration

fn check_duration(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "parse" => outcome(c, duration::parse(text(c, "input")?), |secs, e| {
            same("seconds", Some(secs), e.as_u64())
        }),
        "format" => outcome(c, Ok(duration::format(num(c, "seconds")?)), |s, e| {
            same("text", Some(s.as_str()), e.as_str())
        }),
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ lifetime

fn state(c: &Value, k: &str) -> Result<State, String> {
    serde_json::from_value(field(c, k)?.clone()).map_err(|e| format!("{k}: {e}"))
}

fn check_lifetime(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "deadline" => {
            let bound_at = match field(c, "bound_at")? {
                Value::Null => None,
                v => Some(v.as_u64().ok_or("bound_at")?),
            };
            let lt = Lifetime {
                created_at: num(c, "created_at")?,
                expires_in: num(c, "expires_in")?,
                self_destruct: field(c, "self_destruct")?
                    .as_bool()
                    .ok_or("self_destruct")?,
                bound_at,
            };
            let now = num(c, "now")?;
            let stored = state(c, "stored")?;
            outcome(c, Ok(()), |(), e| {
                same("deadline", lt.deadline(), num(e, "deadline")?)?;
                same(
                    "state",
                    lt.state_at(stored, now).as_str(),
                    text(e, "state")?,
                )
            })
        }
        "bind" => {
            let bound = opt_text(c, "bound_key_b64")?
                .map(PublicKey::parse)
                .transpose()
                .map_err(|e| e.to_string())?;
            let presented =
                PublicKey::parse(text(c, "presented_key_b64")?).map_err(|e| e.to_string())?;
            let decision = decide_bind(state(c, "state")?, bound.as_ref(), &presented);
            outcome(c, Ok(decision), |d, e| {
                let (name, gone) = match d {
                    BindDecision::Bind => ("bind", None),
                    BindDecision::Retry => ("retry", None),
                    BindDecision::OtherDevice => ("other_device", None),
                    BindDecision::AlreadyYours => ("already_yours", None),
                    BindDecision::Gone(s) => ("gone", Some(s.as_str())),
                };
                same("decision", name, text(e, "decision")?)?;
                same("state", gone, e.get("state").and_then(Value::as_str))
            })
        }
        _ => unknown_op(c),
    }
}

// ------------------------------------------------------------------ v2 second factors

/// op=check of open_code.json and passphrase.json: the relay's constant-time check.
fn check_proof(c: &Value, factor: Factor) -> Check {
    let proof = Proof::from_bytes(factor, array(c, "proof_hex")?);
    outcome(c, proof.check(&array(c, "verifier_hex")?), |(), e| {
        same("expected", e.as_str(), Some("ok"))
    })
}

fn check_open_code(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "generate" => {
            let code = OpenCode::from_random(array(c, "random_hex")?);
            outcome(c, Ok(()), |(), e| {
                same("code", code.as_str(), text(e, "code")?)?;
                same("display", code.display().as_str(), text(e, "display")?)?;
                same(
                    "parse(display)",
                    OpenCode::parse(&code.display()),
                    Ok(code.clone()),
                )
            })
        }
        "parse" => outcome(c, OpenCode::parse(text(c, "input")?), |code, e| {
            same("code", code.as_str(), text(e, "code")?)
        }),
        "derive" => {
            let t = Token::from_bytes(array(c, "token_hex")?);
            outcome(c, OpenCode::parse(text(c, "code")?), |code, e| {
                let proof = code.proof(&t);
                same("code", code.as_str(), text(e, "code")?)?;
                same_hex(e, "proof_hex", proof.expose())?;
                same_hex(e, "verifier_hex", proof.verifier())?;
                same("proof checks", proof.check(&proof.verifier()), Ok(()))
            })
        }
        "check" => check_proof(c, Factor::OpenCode),
        _ => unknown_op(c),
    }
}

/// A vector's passphrase in NFC the way each build normalizes it: the
/// `unicode-normalization` crate natively, the JavaScript engine's
/// `String.prototype.normalize` in wasm32 (as the browser modules do).
fn nfc(text: &str) -> passphrase::Nfc {
    #[cfg(not(target_arch = "wasm32"))]
    return passphrase::Nfc::normalize(text);
    #[cfg(target_arch = "wasm32")]
    return passphrase::Nfc::normalized(js_sys::JsString::from(text).normalize("NFC").into());
}

fn check_passphrase(c: &Value, _: &Value) -> Check {
    if op(c)? == "check" {
        return check_proof(c, Factor::Passphrase);
    }
    let t = Token::from_bytes(array(c, "token_hex")?);
    let sid = t.derive().share_id;
    match op(c)? {
        "derive" => {
            let phrase = nfc(text(c, "passphrase")?);
            let salt = passphrase::salt(&t);
            let stretched = passphrase::stretch(&phrase, &salt);
            outcome(c, passphrase::derive(&t, &phrase), |keys, e| {
                same(
                    "argon2_m_kib",
                    u64::from(passphrase::ARGON2_M_KIB),
                    num(e, "argon2_m_kib")?,
                )?;
                same(
                    "argon2_t",
                    u64::from(passphrase::ARGON2_T),
                    num(e, "argon2_t")?,
                )?;
                same(
                    "argon2_p",
                    u64::from(passphrase::ARGON2_P),
                    num(e, "argon2_p")?,
                )?;
                same_hex(e, "salt_hex", salt)?;
                same_hex(
                    e,
                    "stretched_hex",
                    stretched.map_err(|e| e.to_string())?.expose(),
                )?;
                same_hex(e, "wrap_key_hex", keys.wrap_key.expose())?;
                same_hex(e, "proof_hex", keys.proof.expose())?;
                same_hex(e, "verifier_hex", keys.proof.verifier())
            })
        }
        "wrap" => {
            let keys =
                passphrase::derive(&t, &nfc(text(c, "passphrase")?)).map_err(|e| e.to_string())?;
            let rk = key(c, "record_key_hex")?;
            let wrapped =
                record::wrap_key_with_nonce(&keys.wrap_key, &sid, &rk, array(c, "nonce_hex")?);
            outcome(
                c,
                record::unwrap_key(&keys.wrap_key, &sid, &wrapped),
                |unwrapped, e| {
                    same_hex(e, "aad_hex", record::wrap_aad(&sid))?;
                    same_hex(e, "wrapped_key_hex", &wrapped)?;
                    same("round trip", unwrapped, rk.clone())
                },
            )
        }
        "unwrap" => {
            let wrap_key = match opt_text(c, "passphrase")? {
                Some(p) => passphrase::derive(&t, &nfc(p)).map(|k| k.wrap_key),
                None => Ok(t.derive().wrap_key),
            };
            let wrapped = bytes(c, "wrapped_key_hex")?;
            outcome(
                c,
                wrap_key.and_then(|wk| record::unwrap_key(&wk, &sid, &wrapped)),
                |rk, e| same_hex(e, "record_key_hex", rk.expose()),
            )
        }
        _ => unknown_op(c),
    }
}

/// The device and ECDH keys a transfer case names.
fn transfer_keys(c: &Value) -> Result<(PublicKey, PublicKey), String> {
    let parse = |k| PublicKey::parse(text(c, k)?).map_err(|e| e.to_string());
    Ok((parse("device_key_b64")?, parse("ecdh_key_b64")?))
}

fn check_transfer(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "derive" => {
            let t = Token::from_bytes(array(c, "token_hex")?);
            outcome(c, Ok(()), |(), e| {
                same(
                    "share_id_b64",
                    t.derive().share_id.to_string().as_str(),
                    text(e, "share_id_b64")?,
                )?;
                same_hex(
                    e,
                    "transfer_secret_hex",
                    transfer::transfer_secret(&t).expose(),
                )
            })
        }
        "seal_box" => {
            let (owner, sid) = (key(c, "owner_key_hex")?, share_id(c, "share_id_b64")?);
            let secret = key(c, "transfer_secret_hex")?;
            let sealed =
                transfer::seal_box_with_nonce(&owner, &sid, &secret, array(c, "nonce_hex")?);
            outcome(c, transfer::open_box(&owner, &sid, &sealed), |opened, e| {
                same_hex(e, "aad_hex", transfer::box_aad(&sid))?;
                same_hex(e, "box_hex", &sealed)?;
                same("round trip", opened, secret.clone())
            })
        }
        "open_box" => {
            let (owner, sid) = (key(c, "owner_key_hex")?, share_id(c, "share_id_b64")?);
            outcome(
                c,
                transfer::open_box(&owner, &sid, &bytes(c, "box_hex")?),
                |secret, e| same_hex(e, "transfer_secret_hex", secret.expose()),
            )
        }
        "comparison" => {
            let secret = key(c, "transfer_secret_hex")?;
            let sid = share_id(c, "share_id_b64")?;
            let ecdh = text(c, "ecdh_key_b64")?;
            let keys = PublicKey::parse(text(c, "device_key_b64")?)
                .and_then(|d| PublicKey::parse(ecdh).map(|k| (d, k)));
            outcome(c, keys, |(dk, ek), e| {
                let code = transfer::comparison_code(&secret, &sid, &dk, &ek);
                same_hex(e, "info_hex", transfer::comparison_info(&sid, &dk, &ek))?;
                same("code", code.digits().as_str(), text(e, "code")?)?;
                same("display", code.display().as_str(), text(e, "display")?)
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        "approval" => {
            let owner = SigningKey::from_bytes(&key(c, "owner_signing_key_hex")?)
                .map_err(|e| e.to_string())?;
            let (sid, rid) = (share_id(c, "share_id_b64")?, array(c, "request_id_hex")?);
            let (dk, ek) = transfer_keys(c)?;
            let binding = transfer::Binding {
                share_id: &sid,
                request_id: &rid,
                device_key: &dk,
                ecdh_key: &ek,
            };
            let sig = transfer::sign_approval(&owner, &binding);
            let verified = transfer::verify_approval(&owner.public_key(), &binding, &sig);
            outcome(c, verified, |(), e| {
                same(
                    "owner_key_b64",
                    owner.public_key().to_string().as_str(),
                    text(e, "owner_key_b64")?,
                )?;
                same_hex(e, "message_hex", transfer::approval_message(&binding))?;
                same_hex(e, "signature_hex", sig)
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        "verify_approval" => {
            let owner = PublicKey::parse(text(c, "owner_key_b64")?).map_err(|e| e.to_string())?;
            let (sid, rid) = (share_id(c, "share_id_b64")?, array(c, "request_id_hex")?);
            let (dk, ek) = transfer_keys(c)?;
            let sig = bytes(c, "signature_hex")?;
            outcome(
                c,
                transfer::verify_approval(
                    &owner,
                    &transfer::Binding {
                        share_id: &sid,
                        request_id: &rid,
                        device_key: &dk,
                        ecdh_key: &ek,
                    },
                    &sig,
                ),
                |(), _| Ok(()),
            )
        }
        "wrap" => {
            let secret = key(c, "transfer_secret_hex")?;
            let (sid, rid) = (share_id(c, "share_id_b64")?, array(c, "request_id_hex")?);
            let dk = PublicKey::parse(text(c, "device_key_b64")?).map_err(|e| e.to_string())?;
            let context = transfer::transfer_context(&sid, &rid, &dk);
            let wrap_key = transfer::transfer_wrap_key(&secret);
            let record_key = bytes(c, "record_key_hex")?;
            let inner =
                envelope::seal_with_nonce(&wrap_key, array(c, "nonce_hex")?, &context, &record_key);
            outcome(
                c,
                envelope::open(&wrap_key, &context, &inner),
                |opened, e| {
                    same_hex(e, "context_hex", &context)?;
                    same_hex(e, "transfer_wrap_key_hex", wrap_key.expose())?;
                    same_hex(e, "inner_hex", &inner)?;
                    same("round trip", opened, record_key)
                },
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        "open_transfer_key" => {
            let secret = key(c, "transfer_secret_hex")?;
            let (sid, rid) = (share_id(c, "share_id_b64")?, array(c, "request_id_hex")?);
            let dk = PublicKey::parse(text(c, "device_key_b64")?).map_err(|e| e.to_string())?;
            let sealed = bytes(c, "transfer_key_hex")?;
            let ecdh = transfer::EcdhKey::from_bytes(&key(c, "ecdh_private_hex")?);
            let opened = ecdh.and_then(|k| {
                let public = k.public_key()?;
                let binding = transfer::Binding {
                    share_id: &sid,
                    request_id: &rid,
                    device_key: &dk,
                    ecdh_key: &public,
                };
                transfer::open_transfer_key(&k, &secret, &binding, &sealed).map(|kr| (public, kr))
            });
            outcome(c, opened, |(public, kr), e| {
                same(
                    "ecdh_key_b64",
                    public.to_string().as_str(),
                    text(e, "ecdh_key_b64")?,
                )?;
                same_hex(e, "record_key_hex", kr.expose())
            })
        }
        #[cfg(target_arch = "wasm32")]
        "approval" | "verify_approval" | "open_transfer_key" => native_only(),
        _ => unknown_op(c),
    }
}

fn check_fingerprint(c: &Value, _: &Value) -> Check {
    match op(c)? {
        "fingerprint" => outcome(c, PublicKey::parse(text(c, "device_key_b64")?), |k, e| {
            same(
                "fingerprint",
                fingerprint(&k).as_str(),
                text(e, "fingerprint")?,
            )
        }),
        _ => unknown_op(c),
    }
}
