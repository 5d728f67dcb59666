//! The CFRG HPKE vector of the suite (`sdk/vectors/hpke_rfc9180.json`, the file
//! the core's tests read) through WebCrypto's ECDH and AES-GCM and the core's
//! `hpke`, in Chromium: exactly the split the client ships (the DH in
//! `deriveBits`, the key schedule in the core, the AEAD in SubtleCrypto). Every
//! case of the file runs here, and the transfer-key cases of
//! `sdk/vectors/transfer.json` through the client's own open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::Array;
use oneshare_sdk::hpke::{self, Encapped, KeySchedule};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::PublicKey;
use oneshare_sdk::token::ShareId;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CryptoKey, EcKeyImportParams};

use crate::error::Error;
use crate::platform::subtle;
use crate::webcrypto::{ecdh, hpke_open, hpke_seal, import_ecdh_public};

wasm_bindgen_test_configure!(run_in_browser);

const VECTORS: &str = include_str!("../../sdk/vectors/hpke_rfc9180.json");

fn hex(c: &Value, k: &str) -> Vec<u8> {
    hex_decode(c[k].as_str().unwrap_or_else(|| panic!("{k} missing")))
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Imports a P-256 scalar with its public point as a WebCrypto ECDH private
/// key (JWK: WebCrypto has no raw private import). The browser checks that the
/// point is `d·G`, so an import that succeeds confirms `public` (the vector's
/// `enc` or `pkR`) belongs to `d`.
async fn import_private(d: &[u8], public: &[u8]) -> CryptoKey {
    use oneshare_sdk::encoding::b64;
    let jwk = js_sys::Object::new();
    for (k, v) in [
        ("kty", "EC".to_owned()),
        ("crv", "P-256".to_owned()),
        ("d", b64(d)),
        ("x", b64(&public[1..33])),
        ("y", b64(&public[33..65])),
    ] {
        js_sys::Reflect::set(&jwk, &k.into(), &v.into()).unwrap();
    }
    let params = EcKeyImportParams::new("ECDH");
    params.set_named_curve("P-256");
    let usages: Array = [wasm_bindgen::JsValue::from_str("deriveBits")]
        .into_iter()
        .collect();
    wasm_bindgen_futures::JsFuture::from(
        subtle()
            .unwrap()
            .import_key_with_object("jwk", &jwk, &params, false, &usages)
            .unwrap(),
    )
    .await
    .expect("JWK import")
    .unchecked_into()
}

/// The recipient's open as the browser runs it: the core checks `enc`'s form,
/// WebCrypto imports it (a point off the curve fails there) and derives the DH.
async fn open(sk_r: &CryptoKey, pk_r: &[u8; 65], c: &Value) -> Result<Vec<u8>, Error> {
    let enc_bytes = hex(c, "enc_hex");
    let enc = hpke::enc_bytes(&enc_bytes)?;
    let pk_e = import_ecdh_public(enc, oneshare_sdk::Error::Hpke).await?;
    let dh = ecdh(sk_r, &pk_e).await?;
    let context = hpke::setup_base_r(&dh, enc, pk_r, &hex(c, "info_hex"));
    let pt = hpke_open(&context, &hex(c, "aad_hex"), &hex(c, "ct_hex")).await?;
    Ok(pt.to_vec())
}

#[wasm_bindgen_test]
async fn cfrg_vector_through_webcrypto() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let (mut kat, mut opened, mut refused) = (0, 0, 0);
    for c in doc["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let e = &c["expected"];
        match c["op"].as_str().unwrap() {
            "kat" => {
                // skE and skR from the vector (WebCrypto has no DeriveKeyPair):
                // the browser must reproduce enc = pkE and pkR from them.
                let enc: [u8; 65] = hex(e, "enc_hex").try_into().unwrap();
                let pk_r: [u8; 65] = hex(e, "pk_r_hex").try_into().unwrap();
                let sk_e = import_private(&hex(e, "sk_e_hex"), &enc).await;
                import_private(&hex(e, "sk_r_hex"), &pk_r).await;
                let pk_r_key = import_ecdh_public(&pk_r, oneshare_sdk::Error::InvalidKey("relay"))
                    .await
                    .unwrap();
                let dh = ecdh(&sk_e, &pk_r_key).await.unwrap();
                let ss = hpke::shared_secret(&dh, &enc, &pk_r);
                assert_eq!(ss.expose().to_vec(), hex(e, "shared_secret_hex"), "{name}");
                let ks = KeySchedule::base(&ss, &hex(c, "info_hex"));
                assert_eq!(ks.key.expose().to_vec(), hex(e, "key_hex"), "{name}: key");
                assert_eq!(ks.base_nonce.to_vec(), hex(e, "base_nonce_hex"), "{name}");
                let context = hpke::setup_base_s(&Encapped { enc, dh }, &pk_r, &hex(c, "info_hex"));
                let sealed = hpke_seal(&context, &hex(c, "aad_hex"), &hex(c, "pt_hex"))
                    .await
                    .unwrap();
                assert_eq!(sealed, hex(e, "ct_hex"), "{name}: ct");
                kat += 1;
            }
            "key_schedule" => {
                let ss = Secret::new(hex(c, "shared_secret_hex").try_into().unwrap());
                let ks = KeySchedule::base(&ss, &hex(c, "info_hex"));
                assert_eq!(ks.key.expose().to_vec(), hex(e, "key_hex"), "{name}");
            }
            "open" => {
                let pk_r: [u8; 65] = hex(&doc["cases"][0]["expected"], "pk_r_hex")
                    .try_into()
                    .unwrap();
                let sk_r = import_private(&hex(c, "sk_r_hex"), &pk_r).await;
                let got = open(&sk_r, &pk_r, c).await;
                match c.get("error").and_then(Value::as_str) {
                    Some(code) => {
                        assert_eq!(
                            got.err().map(|e| e.code().to_owned()).as_deref(),
                            Some(code),
                            "{name}"
                        );
                        refused += 1;
                    }
                    None => {
                        assert_eq!(got.unwrap(), hex(e, "pt_hex"), "{name}");
                        opened += 1;
                    }
                }
            }
            op => panic!("{name}: unknown op {op}"),
        }
    }
    assert!(
        kat > 0 && opened > 0 && refused > 0,
        "{kat} {opened} {refused}"
    );
}

/// A relay key that is not a point on the curve is refused when it is pinned
/// with the same code as natively (`invalid_key`).
#[wasm_bindgen_test]
async fn an_off_curve_relay_key_is_an_invalid_key() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "enc_not_on_curve")
        .unwrap();
    let point: [u8; 65] = hex(case, "enc_hex").try_into().unwrap();
    let got = import_ecdh_public(&point, oneshare_sdk::Error::InvalidKey("relay")).await;
    assert_eq!(
        got.err().map(|e| e.code().to_owned()).as_deref(),
        Some("invalid_key")
    );
}

/// A P-256 scalar as a WebCrypto ECDH private key from PKCS#8 without the
/// public point (which the browser computes): the transfer vectors give only
/// the scalar.
async fn import_scalar(d: &[u8]) -> CryptoKey {
    let mut der =
        hex_decode("3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420");
    der.extend_from_slice(d);
    let params = EcKeyImportParams::new("ECDH");
    params.set_named_curve("P-256");
    let usages: Array = [wasm_bindgen::JsValue::from_str("deriveBits")]
        .into_iter()
        .collect();
    let bytes = js_sys::Uint8Array::from(&der[..]);
    wasm_bindgen_futures::JsFuture::from(
        subtle()
            .unwrap()
            .import_key_with_object("pkcs8", &bytes, &params, false, &usages)
            .unwrap(),
    )
    .await
    .expect("PKCS#8 import")
    .unchecked_into()
}

/// Every `open_transfer_key` case of `sdk/vectors/transfer.json` through the
/// client's open (WebCrypto ECDH, the core's steps, SubtleCrypto AES-GCM): the
/// record key, or the error code the core gives natively.
#[wasm_bindgen_test]
async fn transfer_key_vectors_through_webcrypto() {
    let doc: Value = serde_json::from_str(include_str!("../../sdk/vectors/transfer.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    // The device's ECDH key pair: the scalar and public key of the case that opens.
    let device = cases
        .iter()
        .find(|c| c["op"] == "open_transfer_key" && c.get("expected").is_some())
        .unwrap();
    let mut ran = 0;
    for c in cases {
        if c["op"] != "open_transfer_key" {
            continue;
        }
        let name = c["name"].as_str().unwrap();
        let text = |k: &str| c[k].as_str().unwrap();
        let ecdh_key = import_scalar(&hex(c, "ecdh_private_hex")).await;
        // The public half as the browser keeps it: the device key's, or (for
        // another scalar, which must not open it) any other valid point.
        let ecdh_public = if c["ecdh_private_hex"] == device["ecdh_private_hex"] {
            PublicKey::parse(device["expected"]["ecdh_key_b64"].as_str().unwrap()).unwrap()
        } else {
            PublicKey::parse(text("device_key_b64")).unwrap()
        };
        let binding = oneshare_sdk::transfer::Binding {
            share_id: &ShareId::parse(text("share_id_b64")).unwrap(),
            request_id: &hex(c, "request_id_hex").try_into().unwrap(),
            device_key: &PublicKey::parse(text("device_key_b64")).unwrap(),
            ecdh_key: &ecdh_public,
        };
        let got = crate::transfer::open_transfer_key(
            &ecdh_key,
            &Secret::new(hex(c, "transfer_secret_hex").try_into().unwrap()),
            &binding,
            &hex(c, "transfer_key_hex"),
        )
        .await;
        match c.get("error").and_then(Value::as_str) {
            Some(code) => assert_eq!(
                got.err().map(|e| e.code().to_owned()).as_deref(),
                Some(code),
                "{name}"
            ),
            None => assert_eq!(
                got.unwrap().expose().to_vec(),
                hex(&c["expected"], "record_key_hex"),
                "{name}"
            ),
        }
        ran += 1;
    }
    assert!(ran >= 6, "{ran}");
}
