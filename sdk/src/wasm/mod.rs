//! JavaScript bindings of the core (feature `wasm`), the engine of the npm
//! package `@oneshare/sdk`.
//!
//! Thin on purpose: every function converts types, sets a JavaScript name and maps
//! errors; the protocol itself stays in the core modules so the relay, the CLI and
//! the browser cannot drift. Network I/O, IndexedDB and WebCrypto live in the npm
//! package's JavaScript (`npm/src/`), which calls these functions for every byte
//! layout, AAD, canonical string and JSON body.
//!
//! Errors reach JavaScript as `Error` objects whose `code` property is
//! [`crate::Error::code`] (documented in `npm/README.md`).

mod convert;
mod share;
mod stream;

pub use share::{ShareSecrets, Transmission};
pub use stream::*;

use wasm_bindgen::prelude::*;

use crate::encoding::{b64, unb64};
use crate::envelope::{self, Envelope};
use crate::owner::{self, OwnerData};
use crate::record::{self, Record};
use crate::signing::{self, PublicKey, Signer};
use crate::token::{ShareId, Token};
use crate::{Error, api, duration, lifetime};

use convert::{JsResult, array, bytes32, coded, js_err, object, to_js, u64_from};

/// Parses a link (`…/s#T`, `%23`, `%2523`, bare token) and returns only its
/// share id, e.g. to look up a share already bound on this device.
///
/// # Errors
/// `invalid_link`.
#[wasm_bindgen(js_name = shareIdFromLink)]
pub fn share_id_from_link(link: &str) -> JsResult<String> {
    Ok(Token::parse(link)
        .map_err(js_err)?
        .derive()
        .share_id
        .to_string())
}

/// A fresh random 32-byte key (record or file key).
///
/// # Errors
/// `random`.
#[wasm_bindgen(js_name = randomKey)]
pub fn random_key() -> JsResult<Vec<u8>> {
    Ok(record::generate_key().map_err(js_err)?.expose().to_vec())
}

/// base64url without padding.
#[wasm_bindgen(js_name = b64encode)]
pub fn b64encode(bytes: &[u8]) -> String {
    b64(bytes)
}

/// Strict base64url decoding (no padding, canonical).
///
/// # Errors
/// `encoding`.
#[wasm_bindgen(js_name = b64decode)]
pub fn b64decode(text: &str) -> JsResult<Vec<u8>> {
    unb64(text, "base64url").map_err(js_err)
}

fn share_id(text: &str) -> JsResult<ShareId> {
    ShareId::parse(text).map_err(js_err)
}

// ---- envelopes -------------------------------------------------------------

/// The 16-byte key commitment of `key` (store it next to a non-extractable
/// `CryptoKey` to check envelopes without the key bytes).
///
/// # Errors
/// `length`.
#[wasm_bindgen]
pub fn commitment(key: &[u8]) -> JsResult<Vec<u8>> {
    Ok(envelope::commitment(&bytes32(key, "key")?).to_vec())
}

/// Splits an envelope into `{commitment, nonce, ciphertext}` (ciphertext
/// includes the tag), for decryption with SubtleCrypto.
///
/// # Errors
/// `unsupported_version`, `malformed`.
#[wasm_bindgen(js_name = envelopeParse)]
pub fn envelope_parse(bytes: &[u8]) -> JsResult<JsValue> {
    let env = Envelope::parse(bytes).map_err(js_err)?;
    object(&[
        ("commitment", array(&env.commitment)),
        ("nonce", array(&env.nonce)),
        ("ciphertext", array(env.ciphertext)),
    ])
}

/// Assembles an envelope from a SubtleCrypto AES-GCM result.
///
/// # Errors
/// `length` for a wrong commitment or nonce size, `malformed` for a ciphertext
/// shorter than a tag.
#[wasm_bindgen(js_name = envelopeBuild)]
pub fn envelope_build(commitment: &[u8], nonce: &[u8], ciphertext: &[u8]) -> JsResult<Vec<u8>> {
    let env = Envelope {
        commitment: convert::array_of(commitment, "commitment")?,
        nonce: convert::array_of(nonce, "nonce")?,
        ciphertext,
    };
    let out = env.to_bytes();
    // Round-trip through the parser so only well-formed envelopes leave.
    Envelope::parse(&out).map_err(js_err)?;
    Ok(out)
}

/// Seals `plaintext` under a raw key (tests and raw-key clients).
///
/// # Errors
/// `length`, `random`.
#[wasm_bindgen(js_name = envelopeSeal)]
pub fn envelope_seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> JsResult<Vec<u8>> {
    envelope::seal(&bytes32(key, "key")?, aad, plaintext).map_err(js_err)
}

/// Opens an envelope under a raw key.
///
/// # Errors
/// `wrong_key`, `decrypt`, `malformed`, `unsupported_version`, `length`.
#[wasm_bindgen(js_name = envelopeOpen)]
pub fn envelope_open(key: &[u8], aad: &[u8], sealed: &[u8]) -> JsResult<Vec<u8>> {
    envelope::open(&bytes32(key, "key")?, aad, sealed).map_err(js_err)
}

// ---- records ---------------------------------------------------------------

/// AAD of record version `version` of a share.
///
/// # Errors
/// `encoding`, `length` for a bad share id.
#[wasm_bindgen(js_name = recordAad)]
pub fn record_aad(share_id_text: &str, version: f64) -> JsResult<Vec<u8>> {
    Ok(record::record_aad(
        &share_id(share_id_text)?,
        u64_from(version, "version")?,
    ))
}

/// AAD of the owner data of a share.
///
/// # Errors
/// `encoding`, `length`.
#[wasm_bindgen(js_name = ownerAad)]
pub fn owner_aad(share_id_text: &str) -> JsResult<Vec<u8>> {
    Ok(owner::owner_aad(&share_id(share_id_text)?))
}

/// Checks a record given as JSON text and returns its canonical JSON bytes.
///
/// # Errors
/// `json` naming the problem (never quoting values).
#[wasm_bindgen(js_name = recordCanonical)]
pub fn record_canonical(record_json: &str) -> JsResult<Vec<u8>> {
    Ok(Record::from_json(record_json.as_bytes())
        .map_err(js_err)?
        .to_json()
        .map_err(js_err)?
        .to_vec())
}

/// Parses decrypted record JSON into a plain object.
///
/// # Errors
/// `json`.
#[wasm_bindgen(js_name = recordParse)]
pub fn record_parse(plaintext: &[u8]) -> JsResult<JsValue> {
    to_js(&Record::from_json(plaintext).map_err(js_err)?)
}

/// Seals a record (JSON text) under a raw record key.
///
/// # Errors
/// `json`, `length`, `random`.
#[wasm_bindgen(js_name = recordSeal)]
pub fn record_seal(
    key: &[u8],
    share_id_text: &str,
    version: f64,
    record_json: &str,
) -> JsResult<Vec<u8>> {
    let record = Record::from_json(record_json.as_bytes()).map_err(js_err)?;
    record::seal_record(
        &bytes32(key, "record key")?,
        &share_id(share_id_text)?,
        u64_from(version, "version")?,
        &record,
    )
    .map_err(js_err)
}

/// Opens a record envelope under a raw record key.
///
/// # Errors
/// `wrong_key`, `decrypt`, `json`, …
#[wasm_bindgen(js_name = recordOpen)]
pub fn record_open(
    key: &[u8],
    share_id_text: &str,
    version: f64,
    sealed: &[u8],
) -> JsResult<JsValue> {
    let record = record::open_record(
        &bytes32(key, "record key")?,
        &share_id(share_id_text)?,
        u64_from(version, "version")?,
        sealed,
    )
    .map_err(js_err)?;
    to_js(&record)
}

// ---- owner data ------------------------------------------------------------

/// The owner data JSON `{label, record_key}` to seal with the owner key.
///
/// # Errors
/// `length`.
#[wasm_bindgen(js_name = ownerDataJson)]
pub fn owner_data_json(label: &str, record_key: &[u8]) -> JsResult<Vec<u8>> {
    let data = OwnerData::new(label, &bytes32(record_key, "record key")?);
    serde_json::to_vec(&data).map_err(|_| coded("json", "owner data could not be encoded"))
}

/// Parses decrypted owner data into `{label, recordKey}`.
///
/// # Errors
/// `json`, `invalid_key`.
#[wasm_bindgen(js_name = ownerDataParse)]
pub fn owner_data_parse(plaintext: &[u8]) -> JsResult<JsValue> {
    let data: OwnerData = serde_json::from_slice(plaintext).map_err(|e| {
        js_err(Error::Json {
            what: "owner data",
            reason: format!("{:?}", e.classify()),
        })
    })?;
    let key = data.record_key().map_err(js_err)?;
    object(&[
        ("label", JsValue::from_str(&data.label)),
        ("recordKey", array(key.expose())),
    ])
}

/// Seals owner data under a raw owner key.
///
/// # Errors
/// `length`, `random`.
#[wasm_bindgen(js_name = ownerDataSeal)]
pub fn owner_data_seal(
    owner_key: &[u8],
    share_id_text: &str,
    label: &str,
    record_key: &[u8],
) -> JsResult<Vec<u8>> {
    let data = OwnerData::new(label, &bytes32(record_key, "record key")?);
    owner::seal_owner_data(
        &bytes32(owner_key, "owner key")?,
        &share_id(share_id_text)?,
        &data,
    )
    .map_err(js_err)
}

/// Opens owner data under a raw owner key into `{label, recordKey}`.
///
/// # Errors
/// Envelope errors, `json`.
#[wasm_bindgen(js_name = ownerDataOpen)]
pub fn owner_data_open(owner_key: &[u8], share_id_text: &str, sealed: &[u8]) -> JsResult<JsValue> {
    let data = owner::open_owner_data(
        &bytes32(owner_key, "owner key")?,
        &share_id(share_id_text)?,
        sealed,
    )
    .map_err(js_err)?;
    let key = data.record_key().map_err(js_err)?;
    object(&[
        ("label", JsValue::from_str(&data.label)),
        ("recordKey", array(key.expose())),
    ])
}

// ---- signed requests -------------------------------------------------------

/// The `oneshare-signer` value of the device bound to a share.
///
/// # Errors
/// `encoding`, `length`.
#[wasm_bindgen(js_name = deviceSigner)]
pub fn device_signer(share_id_text: &str) -> JsResult<String> {
    Ok(Signer::Device(share_id(share_id_text)?).to_string())
}

/// The `oneshare-signer` value of an owner (65-byte raw public key).
///
/// # Errors
/// `invalid_key`.
#[wasm_bindgen(js_name = ownerSigner)]
pub fn owner_signer(public_key: &[u8]) -> JsResult<String> {
    Ok(Signer::Owner(PublicKey::from_bytes(public_key).map_err(js_err)?).to_string())
}

/// The canonical string a request signature covers (PROTOCOL.md §6). Sign its
/// UTF-8 bytes with `crypto.subtle.sign({name: 'ECDSA', hash: 'SHA-256'}, …)`.
///
/// # Errors
/// `invalid_header` for a bad signer, `length` for a nonce that is not 16 bytes.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn canonical(
    method: &str,
    path: &str,
    body: &[u8],
    transmission: Option<String>,
    signer: &str,
    timestamp: f64,
    nonce: &[u8],
) -> JsResult<String> {
    let signer = Signer::parse(signer).map_err(js_err)?;
    let req = signing::Request {
        method,
        path,
        body,
        transmission: transmission.as_deref(),
    };
    Ok(signing::canonical(
        &req,
        &signer,
        u64_from(timestamp, "timestamp")?,
        &convert::array_of(nonce, "nonce")?,
    ))
}

/// The four signature headers as a `{name: value}` object.
///
/// # Errors
/// `invalid_header`, `length`.
#[wasm_bindgen(js_name = signatureHeaders)]
pub fn signature_headers(
    signer: &str,
    timestamp: f64,
    nonce: &[u8],
    signature: &[u8],
) -> JsResult<JsValue> {
    let headers = signing::SignedHeaders {
        signer: Signer::parse(signer).map_err(js_err)?,
        timestamp: u64_from(timestamp, "timestamp")?,
        nonce: convert::array_of(nonce, "nonce")?,
        signature: convert::array_of(signature, "signature")?,
    };
    let pairs = headers.to_pairs();
    let fields: Vec<(&str, JsValue)> = pairs
        .iter()
        .map(|(k, v)| (*k, JsValue::from_str(v)))
        .collect();
    object(&fields)
}

/// Verifies a P1363 ECDSA P-256 signature as the relay does.
///
/// # Errors
/// `invalid_key`, `bad_signature`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> JsResult<()> {
    PublicKey::from_bytes(public_key)
        .map_err(js_err)?
        .verify(message, signature)
        .map_err(js_err)
}

// ---- API bodies ------------------------------------------------------------

/// Checks `GET /v1/relay-key` and returns the key to pin: `{keyId, publicKey}`.
/// The key id must be the one computed from the key, so a relay cannot label a
/// key with another key's id.
///
/// # Errors
/// `json`, `invalid_key`.
#[wasm_bindgen(js_name = relayKeyFromResponse)]
pub fn relay_key_from_response(json: &[u8]) -> JsResult<JsValue> {
    let resp: api::RelayKeyResponse = convert::from_json(json, "relay key response")?;
    let key = crate::transmission::RelayPublicKey::from_bytes(&resp.current.public_key)
        .map_err(js_err)?;
    if key.key_id != resp.current.key_id {
        return Err(js_err(Error::InvalidKey("relay")));
    }
    object(&[
        ("keyId", JsValue::from_str(&key.key_id)),
        ("publicKey", array(&key.public_key)),
    ])
}

/// The JSON body of `POST /v1/shares` (to be sealed under the transmission key).
/// `attachments` is an array of `{id, size}` (ciphertext size).
///
/// # Errors
/// `json`, `length`.
#[wasm_bindgen(js_name = createShareRequest)]
#[allow(clippy::too_many_arguments)]
pub fn create_share_request(
    secrets: &ShareSecrets,
    wrapped_key: &[u8],
    record_envelope: &[u8],
    owner_data: &[u8],
    expires_in: f64,
    self_destruct: bool,
    attachments: JsValue,
) -> JsResult<Vec<u8>> {
    let attachments: Vec<api::AttachmentDecl> = if attachments.is_undefined() {
        Vec::new()
    } else {
        serde_wasm_bindgen::from_value(attachments)
            .map_err(|_| coded("json", "attachments must be an array of {id, size}"))?
    };
    let body = api::CreateShareRequest {
        share_id: secrets.keys().share_id,
        verifier: crate::token::verifier(&secrets.keys().bind_secret),
        wrapped_key: wrapped_key.to_vec(),
        record: record_envelope.to_vec(),
        owner_data: owner_data.to_vec(),
        expires_in: duration::check(u64_from(expires_in, "expires_in")?).map_err(js_err)?,
        self_destruct,
        attachments,
        guard: None,
    };
    convert::to_json(&body)
}

/// The JSON body of `PUT /v1/shares/{id}/record`.
///
/// # Errors
/// `json`.
#[wasm_bindgen(js_name = updateRecordRequest)]
pub fn update_record_request(version: f64, record_envelope: &[u8]) -> JsResult<Vec<u8>> {
    convert::to_json(&api::UpdateRecordRequest {
        record: api::RecordCiphertext {
            version: u64_from(version, "version")?,
            ciphertext: record_envelope.to_vec(),
        },
    })
}

macro_rules! parse_api {
    ($(#[$doc:meta] $js:literal $name:ident => $ty:ty;)*) => {$(
        #[$doc]
        ///
        /// # Errors
        /// `json` when the body does not match the schema in `sdk/src/api.rs`.
        #[wasm_bindgen(js_name = $js)]
        pub fn $name(json: &[u8]) -> JsResult<JsValue> {
            let value: $ty = convert::from_json(json, stringify!($ty))?;
            to_js(&value)
        }
    )*};
}

parse_api! {
    /// Parses a bind response (decrypted); binary fields stay base64url strings.
    "parseBindResponse" parse_bind_response => api::BindResponse;
    /// Parses a confirm response.
    "parseConfirmResponse" parse_confirm_response => api::ConfirmResponse;
    /// Parses a record response (decrypted).
    "parseRecordResponse" parse_record_response => api::RecordResponse;
    /// Parses a create response.
    "parseCreateResponse" parse_create_response => api::CreateShareResponse;
    /// Parses an upload status.
    "parseUploadStatus" parse_upload_status => api::UploadStatus;
    /// Parses an owner's share list.
    "parseShareList" parse_share_list => api::ShareList;
    /// Parses a share status.
    "parseShareStatus" parse_share_status => api::ShareStatus;
    /// Parses one event (the `data` of an SSE message).
    "parseEvent" parse_event => api::Event;
    /// Parses a relay error body `{code, message}`.
    "parseErrorBody" parse_error_body => api::ErrorBody;
}

// ---- durations and lifetimes -----------------------------------------------

/// Parses a duration such as `30m`, `1h`, `7d`, `2w`, `1h30m` into seconds.
///
/// # Errors
/// `duration` with a message saying what is wrong.
#[wasm_bindgen(js_name = parseDuration)]
pub fn parse_duration(text: &str) -> JsResult<f64> {
    // At most 365 days: exact in an f64.
    duration::parse(text).map(|s| s as f64).map_err(js_err)
}

/// Formats seconds as a duration string (`5400` → `1h30m`).
///
/// # Errors
/// `length` for a negative or fractional number.
#[wasm_bindgen(js_name = formatDuration)]
pub fn format_duration(secs: f64) -> JsResult<String> {
    Ok(duration::format(u64_from(secs, "seconds")?))
}

/// When access ends (Unix seconds) per PROTOCOL.md §9.4.
///
/// # Errors
/// `length` for a negative or fractional number.
#[wasm_bindgen(js_name = accessDeadline)]
pub fn access_deadline(
    created_at: f64,
    expires_in: f64,
    self_destruct: bool,
    bound_at: Option<f64>,
) -> JsResult<f64> {
    Ok(lifetime_of(created_at, expires_in, self_destruct, bound_at)?.deadline() as f64)
}

/// The state a share is in at `now`, given its stored state.
///
/// # Errors
/// `json` for an unknown state name, `length` for a bad number.
#[wasm_bindgen(js_name = stateAt)]
pub fn state_at(
    stored: &str,
    created_at: f64,
    expires_in: f64,
    self_destruct: bool,
    bound_at: Option<f64>,
    now: f64,
) -> JsResult<String> {
    let stored: lifetime::State =
        serde_json::from_value(serde_json::Value::String(stored.to_owned()))
            .map_err(|_| coded("json", "unknown share state"))?;
    let life = lifetime_of(created_at, expires_in, self_destruct, bound_at)?;
    Ok(life
        .state_at(stored, u64_from(now, "now")?)
        .as_str()
        .to_owned())
}

fn lifetime_of(
    created_at: f64,
    expires_in: f64,
    self_destruct: bool,
    bound_at: Option<f64>,
) -> JsResult<lifetime::Lifetime> {
    Ok(lifetime::Lifetime {
        created_at: u64_from(created_at, "created_at")?,
        expires_in: u64_from(expires_in, "expires_in")?,
        self_destruct,
        bound_at: bound_at.map(|b| u64_from(b, "bound_at")).transpose()?,
    })
}
