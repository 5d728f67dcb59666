//! The bindings in headless Chromium (wasm-bindgen-test): the core's vector files
//! through the JavaScript-facing functions and through SubtleCrypto, and the
//! browser key handling (non-extractable keys in IndexedDB, device signatures
//! checked by the relay's verifier).
//!
//! Run: `cargo test -p oneshare-sdk --features wasm --target wasm32-unknown-unknown --test web`
#![cfg(all(target_arch = "wasm32", feature = "wasm"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Reflect, Uint8Array};
use oneshare_sdk::record::{self, Record};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{self, PublicKey, Request, SignedHeaders};
use oneshare_sdk::stream::{self, Encryptor};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::wasm as w;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const DB = 'oneshare-web-test';
function req(r) { return new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); }); }
async function db() {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore('keys');
  return req(r);
}
async function tx(mode, f) {
  const d = await db();
  const t = d.transaction('keys', mode);
  const out = await req(f(t.objectStore('keys')));
  await new Promise((ok, no) => { t.oncomplete = ok; t.onerror = () => no(t.error); });
  d.close(); // every call reopens: a "reload" between calls
  return out;
}
export async function deviceKey(name) {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  await tx('readwrite', (s) => s.put({ privateKey: pair.privateKey, pub }, name));
  return pub;
}
export async function storeAesKey(name, raw) {
  const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  await tx('readwrite', (s) => s.put({ key }, name));
}
export async function extractable(name) {
  const v = await tx('readonly', (s) => s.get(name));
  const k = v.privateKey ?? v.key;
  return k.extractable;
}
export async function exportRejects(name) {
  const v = await tx('readonly', (s) => s.get(name));
  const k = v.privateKey ?? v.key;
  for (const fmt of ['pkcs8', 'raw', 'jwk']) {
    try { await crypto.subtle.exportKey(fmt, k); return `exported as ${fmt}`; } catch (e) { if (e.name !== 'InvalidAccessError' && e.name !== 'NotSupportedError') return e.name; }
  }
  return 'rejected';
}
export async function signWith(name, text) {
  const v = await tx('readonly', (s) => s.get(name));
  return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, v.privateKey, new TextEncoder().encode(text)));
}
export async function aesDecrypt(name, nonce, aad, ct) {
  const v = await tx('readonly', (s) => s.get(name));
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, v.key, ct));
}
export async function aesEncrypt(name, nonce, aad, pt) {
  const v = await tx('readonly', (s) => s.get(name));
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, v.key, pt));
}
export async function rawDecrypt(raw, nonce, ct) {
  const k = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, k, ct));
}
export function errorCode(e) { return e && typeof e === 'object' && 'code' in e ? String(e.code) : `not a coded error: ${e}`; }
export function isError(e) { return e instanceof Error; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = deviceKey)]
    fn device_key(name: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = storeAesKey)]
    fn store_aes_key(name: &str, raw: &[u8]) -> js_sys::Promise;
    fn extractable(name: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = exportRejects)]
    fn export_rejects(name: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = signWith)]
    fn sign_with(name: &str, text: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = aesDecrypt)]
    fn aes_decrypt(name: &str, nonce: &[u8], aad: &[u8], ct: &[u8]) -> js_sys::Promise;
    #[wasm_bindgen(js_name = aesEncrypt)]
    fn aes_encrypt(name: &str, nonce: &[u8], aad: &[u8], pt: &[u8]) -> js_sys::Promise;
    #[wasm_bindgen(js_name = rawDecrypt)]
    fn raw_decrypt(raw: &[u8], nonce: &[u8], ct: &[u8]) -> js_sys::Promise;
    #[wasm_bindgen(js_name = errorCode)]
    fn error_code(e: &JsValue) -> String;
    #[wasm_bindgen(js_name = isError)]
    fn is_error(e: &JsValue) -> bool;
}

async fn bytes_of(p: js_sys::Promise) -> Vec<u8> {
    Uint8Array::new(&JsFuture::from(p).await.expect("promise rejected")).to_vec()
}

async fn value_of(p: js_sys::Promise) -> JsValue {
    JsFuture::from(p).await.expect("promise rejected")
}

fn vectors(name: &str) -> Vec<Value> {
    let text = match name {
        "token" => include_str!("../vectors/token.json"),
        "envelope" => include_str!("../vectors/envelope.json"),
        "record" => include_str!("../vectors/record.json"),
        "wrapped_key" => include_str!("../vectors/wrapped_key.json"),
        "owner_data" => include_str!("../vectors/owner_data.json"),
        "stream" => include_str!("../vectors/stream.json"),
        "signing" => include_str!("../vectors/signing.json"),
        "hpke" => include_str!("../vectors/hpke.json"),
        "duration" => include_str!("../vectors/duration.json"),
        "lifetime" => include_str!("../vectors/lifetime.json"),
        "open_code" => include_str!("../vectors/open_code.json"),
        "passphrase" => include_str!("../vectors/passphrase.json"),
        "transfer" => include_str!("../vectors/transfer.json"),
        _ => unreachable!(),
    };
    let doc: Value = serde_json::from_str(text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn s<'a>(c: &'a Value, k: &str) -> &'a str {
    c[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {}", c["name"]))
}
fn hx(c: &Value, k: &str) -> Vec<u8> {
    hex::decode(s(c, k)).unwrap()
}
fn n(c: &Value, k: &str) -> f64 {
    c[k].as_u64().unwrap() as f64
}

/// The error of a binding must be a JS `Error` whose `code` is the expected one.
fn assert_code<T: std::fmt::Debug>(got: Result<T, JsValue>, case: &Value) {
    let want = s(case, "error");
    match got {
        Ok(v) => panic!("{}: expected {want}, got Ok({v:?})", case["name"]),
        Err(e) => {
            assert!(is_error(&e), "{}: not an Error object", case["name"]);
            assert_eq!(error_code(&e), want, "{}", case["name"]);
        }
    }
}

fn record_from_js(v: &JsValue) -> Record {
    serde_wasm_bindgen::from_value(v.clone()).unwrap()
}

#[wasm_bindgen_test]
fn token_vectors_through_bindings() {
    let mut checked = 0;
    for c in vectors("token") {
        match s(&c, "op") {
            "derive" => {
                let link = s(&c["expected"], "link");
                let secrets = w::ShareSecrets::from_link(link).unwrap();
                assert_eq!(secrets.share_id(), s(&c["expected"], "share_id_b64"));
                assert_eq!(
                    hex::encode(secrets.verifier()),
                    s(&c["expected"], "verifier_hex")
                );
                assert_eq!(secrets.link(s(&c, "base")), link);
                assert_eq!(w::share_id_from_link(link).unwrap(), secrets.share_id());
            }
            "parse" if c.get("error").is_some() => {
                assert_code(w::share_id_from_link(s(&c, "link")), &c)
            }
            "parse" => {
                let token = oneshare_sdk::token::Token::from_bytes(
                    hx(&c["expected"], "token_hex").try_into().unwrap(),
                );
                assert_eq!(
                    w::share_id_from_link(s(&c, "link")).unwrap(),
                    token.derive().share_id.to_string(),
                    "{}",
                    c["name"]
                );
            }
            other => panic!("unknown op {other}"),
        }
        checked += 1;
    }
    assert!(checked >= 30);
}

#[wasm_bindgen_test]
async fn envelope_vectors_in_wasm_and_subtlecrypto() {
    for c in vectors("envelope") {
        let (key, aad) = (hx(&c, "key_hex"), hx(&c, "aad_hex"));
        match s(&c, "op") {
            "seal" => {
                let env = hex::decode(s(&c["expected"], "envelope_hex")).unwrap();
                let pt = hx(&c, "plaintext_hex");
                assert_eq!(w::envelope_open(&key, &aad, &env).unwrap(), pt);
                assert_eq!(
                    hex::encode(w::commitment(&key).unwrap()),
                    s(&c["expected"], "commitment_hex")
                );
                // The SubtleCrypto path: parse in the core, decrypt with a stored
                // non-extractable CryptoKey, rebuild the same bytes.
                let parsed = w::envelope_parse(&env).unwrap();
                let get =
                    |k: &str| Uint8Array::new(&Reflect::get(&parsed, &k.into()).unwrap()).to_vec();
                JsFuture::from(store_aes_key("env", &key)).await.unwrap();
                let plain =
                    bytes_of(aes_decrypt("env", &get("nonce"), &aad, &get("ciphertext"))).await;
                assert_eq!(plain, pt, "{}", c["name"]);
                let again = bytes_of(aes_encrypt("env", &get("nonce"), &aad, &pt)).await;
                assert_eq!(
                    w::envelope_build(&get("commitment"), &get("nonce"), &again).unwrap(),
                    env
                );
            }
            "open" => assert_code(w::envelope_open(&key, &aad, &hx(&c, "envelope_hex")), &c),
            other => panic!("unknown op {other}"),
        }
    }
}

#[wasm_bindgen_test]
async fn native_records_open_in_wasm_and_subtlecrypto() {
    let mut opened = 0;
    for c in vectors("record") {
        let key = hx(&c, "record_key_hex");
        let id = s(&c, "share_id_b64");
        let version = n(&c, "version");
        match s(&c, "op") {
            "seal" => {
                let env = hex::decode(s(&c["expected"], "envelope_hex")).unwrap();
                let want: Record = serde_json::from_value(c["record"].clone()).unwrap();
                let got = w::record_open(&key, id, version, &env).unwrap();
                assert_eq!(record_from_js(&got), want, "{}", c["name"]);
                // Through SubtleCrypto with the core's parser and AAD.
                let parsed = w::envelope_parse(&env).unwrap();
                let get =
                    |k: &str| Uint8Array::new(&Reflect::get(&parsed, &k.into()).unwrap()).to_vec();
                JsFuture::from(store_aes_key("record", &key)).await.unwrap();
                let aad = w::record_aad(id, version).unwrap();
                let plain = bytes_of(aes_decrypt(
                    "record",
                    &get("nonce"),
                    &aad,
                    &get("ciphertext"),
                ))
                .await;
                assert_eq!(record_from_js(&w::record_parse(&plain).unwrap()), want);
                opened += 1;
            }
            "open" => assert_code(
                w::record_open(&key, id, version, &hx(&c, "envelope_hex")),
                &c,
            ),
            other => panic!("unknown op {other}"),
        }
    }
    assert!(opened >= 1);
}

#[wasm_bindgen_test]
async fn records_sealed_in_the_browser_open_with_the_core() {
    let share = ShareId([7; 16]);
    let raw = [9u8; 32];
    let json = r#"{"title":"Wi-Fi","fields":[{"type":"password","value":"hunter2"},{"type":"custom","label":"PIN","value":"1234"}]}"#;
    // Sealed by the binding (wasm AES-GCM).
    let sealed = w::record_seal(&raw, &share.to_string(), 3.0, json).unwrap();
    let opened = record::open_record(&Secret::new(raw), &share, 3, &sealed).unwrap();
    assert_eq!(opened, Record::from_json(json.as_bytes()).unwrap());
    // Sealed with SubtleCrypto under a non-extractable key, assembled by the core.
    JsFuture::from(store_aes_key("sealer", &raw)).await.unwrap();
    let nonce = [5u8; 12];
    let aad = w::record_aad(&share.to_string(), 3.0).unwrap();
    let canonical = w::record_canonical(json).unwrap();
    let ct = bytes_of(aes_encrypt("sealer", &nonce, &aad, &canonical)).await;
    let env = w::envelope_build(&w::commitment(&raw).unwrap(), &nonce, &ct).unwrap();
    assert_eq!(
        record::open_record(&Secret::new(raw), &share, 3, &env).unwrap(),
        opened
    );
    assert_eq!(
        record::open_record(&Secret::new(raw), &share, 4, &env),
        Err(oneshare_sdk::Error::Decrypt)
    );
    // Invalid records are refused with a code before anything is sealed.
    let bad = w::record_seal(
        &raw,
        &share.to_string(),
        1.0,
        r#"{"title":"x","fields":[{"type":"custom","value":"1"}]}"#,
    );
    assert_eq!(error_code(&bad.unwrap_err()), "json");
}

#[wasm_bindgen_test]
fn wrapped_key_and_owner_data_vectors() {
    for c in vectors("wrapped_key") {
        let (wk, id) = (hx(&c, "wrap_key_hex"), s(&c, "share_id_b64"));
        let aad = oneshare_sdk::record::wrap_aad(&ShareId::parse(id).unwrap());
        match s(&c, "op") {
            "wrap" => {
                let wrapped = hex::decode(s(&c["expected"], "wrapped_key_hex")).unwrap();
                assert_eq!(
                    w::envelope_open(&wk, &aad, &wrapped).unwrap(),
                    hx(&c, "record_key_hex")
                );
            }
            "unwrap" if s(&c, "error") == "length" => {
                assert_ne!(hx(&c, "wrapped_key_hex").len(), record::WRAPPED_KEY_LEN)
            }
            "unwrap" => assert_code(w::envelope_open(&wk, &aad, &hx(&c, "wrapped_key_hex")), &c),
            other => panic!("unknown op {other}"),
        }
    }
    for c in vectors("owner_data") {
        match s(&c, "op") {
            "seal" => {
                let env = hex::decode(s(&c["expected"], "envelope_hex")).unwrap();
                let got = w::owner_data_open(&hx(&c, "owner_key_hex"), s(&c, "share_id_b64"), &env)
                    .unwrap();
                assert_eq!(Reflect::get(&got, &"label".into()).unwrap(), s(&c, "label"));
                let rk =
                    Uint8Array::new(&Reflect::get(&got, &"recordKey".into()).unwrap()).to_vec();
                assert_eq!(rk, hx(&c, "record_key_hex"));
                assert_eq!(
                    String::from_utf8(w::owner_data_json(s(&c, "label"), &rk).unwrap()).unwrap(),
                    s(&c["expected"], "owner_data_json")
                );
            }
            "open" => assert_code(
                w::owner_data_open(
                    &hx(&c, "owner_key_hex"),
                    s(&c, "share_id_b64"),
                    &hx(&c, "envelope_hex"),
                ),
                &c,
            ),
            _ => {} // identity files are a CLI format
        }
    }
}

fn stream_plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[wasm_bindgen_test]
async fn stream_vectors_decrypt_with_subtlecrypto_segments() {
    let mut sealed = std::collections::HashMap::new();
    for c in vectors("stream").iter().filter(|c| c["op"] == "seal") {
        let key = hx(c, "file_key_hex");
        let prefix = hx(c, "nonce_prefix_hex");
        let len = c["plaintext_len"].as_u64().unwrap() as usize;
        let pt = stream_plaintext(len);
        // Native-format ciphertext made by the core compiled to wasm.
        let (mut enc, header) = Encryptor::with_prefix(
            &Secret::new(key.clone().try_into().unwrap()),
            prefix.clone().try_into().unwrap(),
        );
        let mut ct = header.to_vec();
        ct.extend(enc.push(&pt).unwrap());
        ct.extend(enc.finish().unwrap());
        assert_eq!(
            hex::encode(Sha256::digest(&ct)),
            s(&c["expected"], "sha256_hex"),
            "{}",
            c["name"]
        );
        assert_eq!(
            hex::encode(w::stream_header(&key, Some(prefix.clone())).unwrap()),
            s(&c["expected"], "header_hex")
        );
        assert_eq!(w::ciphertext_len(len as f64).unwrap(), ct.len() as f64);
        assert_eq!(w::plaintext_len(ct.len() as f64).unwrap(), len as f64);
        // Segment by segment with SubtleCrypto, nonces from the binding.
        let seg = stream::ENCRYPTED_SEGMENT_SIZE;
        let body = &ct[stream::HEADER_LEN..];
        let count = body.len().div_ceil(seg).max(1);
        let mut out = Vec::new();
        for i in 0..count {
            let part = &body[i * seg..((i + 1) * seg).min(body.len())];
            let nonce = w::segment_nonce(&prefix, i as f64, i == count - 1).unwrap();
            out.extend(bytes_of(raw_decrypt(&key, &nonce, part)).await);
        }
        assert_eq!(out, pt, "{}", c["name"]);
        assert_eq!(w::stream_open(&key, &ct).unwrap(), pt);
        sealed.insert(s(c, "name").to_owned(), ct);
    }
    for c in vectors("stream").iter().filter(|c| c["op"] == "open") {
        let mut ct = sealed[s(c, "stream")].clone();
        let t = &c["tamper"];
        let body_start = stream::HEADER_LEN;
        let seg = stream::ENCRYPTED_SEGMENT_SIZE;
        match s(t, "kind") {
            "none" => {}
            "drop_final_segment" => {
                let body = ct.len() - body_start;
                let last = if body.is_multiple_of(seg) {
                    seg
                } else {
                    body % seg
                };
                ct.truncate(ct.len() - last);
            }
            "truncate_to" => ct.truncate(t["length"].as_u64().unwrap() as usize),
            "append_hex" => ct.extend(hex::decode(s(t, "hex")).unwrap()),
            "flip_bit" => {
                ct[t["offset"].as_u64().unwrap() as usize] ^= 1 << t["bit"].as_u64().unwrap()
            }
            _ => continue, // segment surgery is covered natively (tests/vectors.rs)
        }
        assert_code(w::stream_open(&hx(c, "file_key_hex"), &ct), c);
    }
}

#[wasm_bindgen_test]
fn signing_hpke_and_duration_vectors() {
    for c in vectors("signing") {
        match s(&c, "op") {
            "sign_message" => {
                let pk = hex::decode(s(&c["expected"], "public_key_hex")).unwrap();
                let sig = hex::decode(s(&c["expected"], "signature_hex")).unwrap();
                w::verify_signature(&pk, s(&c, "message").as_bytes(), &sig).unwrap();
                let mut bad = sig.clone();
                bad[10] ^= 1;
                assert_eq!(
                    error_code(
                        &w::verify_signature(&pk, s(&c, "message").as_bytes(), &bad).unwrap_err()
                    ),
                    "bad_signature"
                );
            }
            "sign_request" => {
                let text = w::canonical(
                    s(&c, "method"),
                    s(&c, "path"),
                    &hx(&c, "body_hex"),
                    c["transmission"].as_str().map(str::to_owned),
                    s(&c, "signer"),
                    n(&c, "timestamp"),
                    &hx(&c, "nonce_hex"),
                )
                .unwrap();
                assert_eq!(text, s(&c["expected"], "canonical"), "{}", c["name"]);
                let pk = PublicKey::parse(s(&c["expected"], "public_key_b64"))
                    .unwrap()
                    .to_bytes();
                w::verify_signature(
                    &pk,
                    text.as_bytes(),
                    &hex::decode(s(&c["expected"], "signature_hex")).unwrap(),
                )
                .unwrap();
                let headers = w::signature_headers(
                    s(&c, "signer"),
                    n(&c, "timestamp"),
                    &hx(&c, "nonce_hex"),
                    &hex::decode(s(&c["expected"], "signature_hex")).unwrap(),
                )
                .unwrap();
                for (k, v) in c["expected"]["headers"].as_object().unwrap() {
                    assert_eq!(
                        Reflect::get(&headers, &k.into()).unwrap(),
                        v.as_str().unwrap()
                    );
                }
            }
            _ => {}
        }
    }
    for c in vectors("hpke") {
        let relay = |c: &Value| {
            oneshare_sdk::transmission::RelayKeyPair::derive(&Secret::new(
                hx(c, "relay_ikm_hex").try_into().unwrap(),
            ))
            .unwrap()
        };
        match s(&c, "op") {
            "response" => {
                // A Transmission built on the same key opens the relay's response.
                let pk = oneshare_sdk::transmission::RelayKeyPair::derive(&Secret::new([1; 32]))
                    .unwrap();
                let t = w::Transmission::with_key(
                    &pk.public().public_key,
                    &hx(&c, "transmission_key_hex"),
                )
                .unwrap();
                let env = hex::decode(s(&c["expected"], "envelope_hex")).unwrap();
                assert_eq!(
                    t.open_response(&hx(&c, "request_nonce_hex"), &env).unwrap(),
                    hx(&c, "body_hex")
                );
            }
            "open_response" => {
                let pk = oneshare_sdk::transmission::RelayKeyPair::derive(&Secret::new([1; 32]))
                    .unwrap();
                let t = w::Transmission::with_key(
                    &pk.public().public_key,
                    &hx(&c, "transmission_key_hex"),
                )
                .unwrap();
                assert_code(
                    t.open_response(&hx(&c, "request_nonce_hex"), &hx(&c, "envelope_hex")),
                    &c,
                );
            }
            "open_header" if c.get("error").is_none() => {
                // The relay side opens what the binding sealed.
                let pair = relay(&c);
                let t = w::Transmission::with_key(
                    &pair.public().public_key,
                    &hex::decode(s(&c["expected"], "transmission_key_hex")).unwrap(),
                )
                .unwrap();
                let key = pair.open_transmission_key(&t.header()).unwrap();
                assert_eq!(
                    hex::encode(key.expose()),
                    s(&c["expected"], "transmission_key_hex")
                );
                let nonce = [3u8; 16];
                let body = t.seal_request(&nonce, b"{\"x\":1}").unwrap();
                assert_eq!(
                    oneshare_sdk::transmission::open_request(&key, &nonce, &body).unwrap(),
                    b"{\"x\":1}"
                );
            }
            _ => {}
        }
    }
    for c in vectors("duration") {
        match (s(&c, "op"), c.get("error")) {
            ("parse", None) => assert_eq!(
                w::parse_duration(s(&c, "input")).unwrap(),
                n(&c, "expected")
            ),
            ("parse", Some(_)) => assert_code(w::parse_duration(s(&c, "input")), &c),
            ("format", _) => assert_eq!(
                w::format_duration(n(&c, "seconds")).unwrap(),
                s(&c, "expected")
            ),
            _ => {}
        }
    }
}

#[wasm_bindgen_test]
async fn device_keys_are_non_extractable_survive_reload_and_verify_natively() {
    let public = bytes_of(device_key("device")).await;
    assert_eq!(value_of(extractable("device")).await, false);
    assert_eq!(value_of(export_rejects("device")).await, "rejected");
    // Every helper closes the database after use, so the signature below is made
    // by the key read back from a reopened IndexedDB, as after a page reload.
    let share = ShareId([4; 16]);
    let signer = w::device_signer(&share.to_string()).unwrap();
    let nonce = [8u8; 16];
    let body = b"{\"a\":1}";
    let now = (js_sys::Date::now() / 1000.0).floor();
    let text = w::canonical(
        "POST",
        "/v1/shares/x/confirm",
        body,
        None,
        &signer,
        now,
        &nonce,
    )
    .unwrap();
    let sig = bytes_of(sign_with("device", &text)).await;
    assert_eq!(sig.len(), signing::SIGNATURE_LEN);
    // The relay's verifier: headers as sent, request as received.
    let headers = SignedHeaders {
        signer: signing::Signer::parse(&signer).unwrap(),
        timestamp: now as u64,
        nonce,
        signature: sig.clone().try_into().unwrap(),
    };
    let pk = PublicKey::from_bytes(&public).unwrap();
    let req = Request {
        method: "POST",
        path: "/v1/shares/x/confirm",
        body,
        transmission: None,
    };
    signing::verify(&pk, &headers, &req, now as u64).unwrap();
    let tampered = Request {
        body: b"{\"a\":2}",
        ..req
    };
    assert_eq!(
        signing::verify(&pk, &headers, &tampered, now as u64),
        Err(oneshare_sdk::Error::BadSignature)
    );
    // And through the binding.
    w::verify_signature(&public, text.as_bytes(), &sig).unwrap();
}

#[wasm_bindgen_test]
async fn record_key_stored_non_extractable_decrypts_after_reload() {
    let raw = [0x42u8; 32];
    let share = ShareId([6; 16]);
    JsFuture::from(store_aes_key("rk", &raw)).await.unwrap();
    assert_eq!(value_of(extractable("rk")).await, false);
    assert_eq!(value_of(export_rejects("rk")).await, "rejected");
    let rec =
        Record::from_json(br#"{"title":"after reload","fields":[{"type":"note","value":"hi"}]}"#)
            .unwrap();
    let env = record::seal_record(&Secret::new(raw), &share, 2, &rec).unwrap();
    let parsed = w::envelope_parse(&env).unwrap();
    let get = |k: &str| Uint8Array::new(&Reflect::get(&parsed, &k.into()).unwrap()).to_vec();
    assert_eq!(get("commitment"), w::commitment(&raw).unwrap());
    let aad = w::record_aad(&share.to_string(), 2.0).unwrap();
    let plain = bytes_of(aes_decrypt("rk", &get("nonce"), &aad, &get("ciphertext"))).await;
    assert_eq!(record_from_js(&w::record_parse(&plain).unwrap()), rec);
}

#[wasm_bindgen_test]
fn share_secrets_bind_and_wrap_round_trip() {
    let sender = w::ShareSecrets::generate().unwrap();
    let link = sender.link("https://share.example/");
    let rk = w::random_key().unwrap();
    let wrapped = sender.wrap_record_key(&rk).unwrap();
    // The recipient, from a scanner-mangled link.
    let recipient = w::ShareSecrets::from_link(&link.replace('#', "%2523")).unwrap();
    assert_eq!(recipient.share_id(), sender.share_id());
    assert_eq!(recipient.unwrap_record_key(&wrapped).unwrap(), rk);
    let other = w::ShareSecrets::generate().unwrap();
    assert_eq!(
        error_code(&other.unwrap_record_key(&wrapped).unwrap_err()),
        "wrong_key"
    );
    let device = oneshare_sdk::signing::SigningKey::generate()
        .unwrap()
        .public_key()
        .to_bytes();
    let body: oneshare_sdk::api::BindRequest =
        serde_json::from_slice(&recipient.bind_request(&device).unwrap()).unwrap();
    assert_eq!(body.bind_secret, *recipient.keys().bind_secret.expose());
    assert_eq!(
        error_code(&recipient.bind_request(&[4; 10]).unwrap_err()),
        "invalid_key"
    );
    assert_eq!(
        error_code(&w::ShareSecrets::from_link("https://x/s").err().unwrap()),
        "invalid_link"
    );
}

#[wasm_bindgen_test]
fn lifetime_vectors_and_relay_key_pinning() {
    let mut checked = 0;
    for c in vectors("lifetime").iter().filter(|c| c["op"] == "deadline") {
        let bound_at = c["bound_at"].as_u64().map(|b| b as f64);
        let deadline = w::access_deadline(
            n(c, "created_at"),
            n(c, "expires_in"),
            c["self_destruct"].as_bool().unwrap(),
            bound_at,
        )
        .unwrap();
        assert_eq!(deadline, n(&c["expected"], "deadline"), "{}", c["name"]);
        let state = w::state_at(
            s(c, "stored"),
            n(c, "created_at"),
            n(c, "expires_in"),
            c["self_destruct"].as_bool().unwrap(),
            bound_at,
            n(c, "now"),
        )
        .unwrap();
        assert_eq!(state, s(&c["expected"], "state"), "{}", c["name"]);
        checked += 1;
    }
    assert!(checked > 5);
    // The pinned relay key must carry the key id computed from the key itself.
    let pair = oneshare_sdk::transmission::RelayKeyPair::derive(&Secret::new([2; 32])).unwrap();
    let body = |key_id: &str| {
        serde_json::to_vec(&oneshare_sdk::api::RelayKeyResponse {
            current: oneshare_sdk::api::RelayKeyInfo {
                key_id: key_id.into(),
                public_key: pair.public().public_key.to_vec(),
                suite: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM".into(),
            },
            accepted: vec![key_id.into()],
        })
        .unwrap()
    };
    let pinned = w::relay_key_from_response(&body(&pair.public().key_id)).unwrap();
    assert_eq!(
        Reflect::get(&pinned, &"keyId".into()).unwrap(),
        pair.public().key_id.as_str()
    );
    let err = w::relay_key_from_response(&body("AAAAAAAAAAA")).unwrap_err();
    assert_eq!(error_code(&err), "invalid_key");
    assert_eq!(
        error_code(&w::relay_key_from_response(b"{}").unwrap_err()),
        "json"
    );
    // Numbers from JavaScript must be non-negative integers.
    assert_eq!(error_code(&w::format_duration(-1.0).unwrap_err()), "length");
    assert_eq!(
        error_code(&w::record_aad("AAAAAAAAAAAAAAAAAAAAAA", 1.5).unwrap_err()),
        "length"
    );
}

/// The v2 formats (PROTOCOL.md §12) have no JavaScript bindings yet: their vectors
/// run through the core itself compiled to wasm32, so Argon2id and the derivations
/// are shown to give the same bytes in the browser as natively.
#[wasm_bindgen_test]
fn v2_vectors_in_wasm() {
    use oneshare_sdk::factor::{Factor, Proof};
    use oneshare_sdk::open_code::OpenCode;
    use oneshare_sdk::token::Token;
    use oneshare_sdk::{passphrase, transfer};
    let code_of = |r: Result<(), oneshare_sdk::Error>| r.err().map(|e| e.code());
    let token = |c: &Value| Token::from_bytes(hx(c, "token_hex").try_into().unwrap());
    let mut checked = 0;
    for c in vectors("open_code") {
        let e = &c["expected"];
        match (s(&c, "op"), c.get("error")) {
            ("generate", _) => {
                let code = OpenCode::from_random(hx(&c, "random_hex").try_into().unwrap());
                assert_eq!(code.display(), s(e, "display"), "{}", c["name"]);
            }
            ("parse", Some(err)) => assert_eq!(
                OpenCode::parse(s(&c, "input")).err().map(|e| e.code()),
                err.as_str()
            ),
            ("parse", None) => assert_eq!(
                OpenCode::parse(s(&c, "input")).unwrap().as_str(),
                s(e, "code")
            ),
            ("derive", Some(_)) => assert!(OpenCode::parse(s(&c, "code")).is_err()),
            ("derive", None) => {
                let proof = OpenCode::parse(s(&c, "code")).unwrap().proof(&token(&c));
                assert_eq!(
                    hex::encode(proof.verifier()),
                    s(e, "verifier_hex"),
                    "{}",
                    c["name"]
                );
            }
            ("check", err) => {
                let proof =
                    Proof::from_bytes(Factor::OpenCode, hx(&c, "proof_hex").try_into().unwrap());
                let verdict = proof.check(&hx(&c, "verifier_hex").try_into().unwrap());
                assert_eq!(
                    code_of(verdict),
                    err.and_then(Value::as_str),
                    "{}",
                    c["name"]
                );
            }
            (other, _) => panic!("unknown op {other}"),
        }
        checked += 1;
    }
    for c in vectors("passphrase").iter().filter(|c| c["op"] == "derive") {
        let result = passphrase::derive(&token(c), s(c, "passphrase"));
        match c.get("error") {
            Some(err) => assert_eq!(result.err().map(|e| e.code()), err.as_str()),
            None => {
                let keys = result.unwrap();
                assert_eq!(
                    hex::encode(keys.wrap_key.expose()),
                    s(&c["expected"], "wrap_key_hex")
                );
                assert_eq!(
                    hex::encode(keys.proof.verifier()),
                    s(&c["expected"], "verifier_hex")
                );
            }
        }
        checked += 1;
    }
    for c in vectors("transfer")
        .iter()
        .filter(|c| c["op"] == "comparison" && c.get("error").is_none())
    {
        let key = |k: &str| PublicKey::parse(s(c, k)).unwrap();
        let code = transfer::comparison_code(
            &Secret::new(hx(c, "transfer_secret_hex").try_into().unwrap()),
            &ShareId::parse(s(c, "share_id_b64")).unwrap(),
            &key("device_key_b64"),
            &key("ecdh_key_b64"),
        );
        assert_eq!(
            code.display(),
            s(&c["expected"], "display"),
            "{}",
            c["name"]
        );
        checked += 1;
    }
    assert!(checked >= 40, "{checked}");
}
