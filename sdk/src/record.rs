//! The record: its JSON schema, its encryption under the record key, and the
//! wrapping of the record key under the token's wrap key (Keeper step 1).
//!
//! * record envelope AAD: `"oneshare/v1/record" || 0x00 || share_id || version (u64 BE)`
//! * wrapped key AAD: `"oneshare/v1/wrapped-key" || 0x00 || share_id`

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::envelope::{self, aad};
use crate::secret::{Key256, Secret};
use crate::token::ShareId;
use crate::{Error, Result, random};

/// AAD label of record envelopes.
pub const RECORD_LABEL: &str = "oneshare/v1/record";
/// AAD label of the wrapped record key.
pub const WRAPPED_KEY_LABEL: &str = "oneshare/v1/wrapped-key";
/// Length of a wrapped record key: envelope overhead plus 32 key bytes.
pub const WRAPPED_KEY_LEN: usize = envelope::OVERHEAD + 32;

/// What kind of value a field holds; decides how the viewer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// User name or e-mail used to sign in.
    Login,
    /// Password: masked until revealed.
    Password,
    /// Web address.
    Url,
    /// Free text, multi-line.
    Note,
    /// TOTP secret: an `otpauth://` URI or a base32 secret.
    Totp,
    /// Anything else; `label` names it.
    Custom,
}

/// One typed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field type.
    #[serde(rename = "type")]
    #[zeroize(skip)]
    pub kind: FieldType,
    /// Optional label shown next to the value (required for `custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The value.
    pub value: String,
}

/// An attachment as described inside the encrypted record. The file bytes live
/// on the relay as a STREAM ciphertext under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Relay id of the attachment (16 bytes, base64url), random.
    pub id: String,
    /// File name as the sender gave it.
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub mime: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// The file key (32 bytes, base64url). Secret.
    pub key: String,
}

/// The plaintext record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Title shown at the top.
    pub title: String,
    /// Typed fields in display order.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Attachments in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Record {
    /// Parses and checks a record's JSON (custom fields need a label).
    ///
    /// # Errors
    /// [`Error::Json`] naming the problem.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let record: Self = crate::json::read(json, "record")?;
        if record
            .fields
            .iter()
            .any(|f| f.kind == FieldType::Custom && f.label.as_deref().unwrap_or("").is_empty())
        {
            return Err(Error::Json {
                what: "record",
                reason: "a custom field needs a label".into(),
            });
        }
        Ok(record)
    }

    /// Canonical JSON bytes (zeroized when dropped).
    ///
    /// # Errors
    /// [`Error::Json`] if serialization fails (it should not for these plain
    /// types; if it ever does, the caller gets an error, never empty output).
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>> {
        crate::json::write(self, "record").map(Zeroizing::new)
    }
}

/// Generates a random record (or file) key.
///
/// # Errors
/// [`Error::Random`].
pub fn generate_key() -> Result<Key256> {
    random::bytes().map(Secret::new)
}

/// The AAD of a record envelope (for clients that decrypt with their own AES, e.g. SubtleCrypto).
pub fn record_aad(share_id: &ShareId, version: u64) -> Vec<u8> {
    aad(RECORD_LABEL, &[&share_id.0, &version.to_be_bytes()])
}

/// Encrypts a record for `share_id` at `version` with a caller-chosen nonce.
///
/// # Errors
/// [`Error::Json`] (see [`Record::to_json`]).
pub fn seal_record_with_nonce(
    key: &Key256,
    share_id: &ShareId,
    version: u64,
    record: &Record,
    nonce: [u8; 12],
) -> Result<Vec<u8>> {
    Ok(envelope::seal_with_nonce(
        key,
        nonce,
        &record_aad(share_id, version),
        &record.to_json()?,
    ))
}

/// Encrypts a record for `share_id` at `version`.
///
/// # Errors
/// [`Error::Random`] or [`Error::Json`].
pub fn seal_record(
    key: &Key256,
    share_id: &ShareId,
    version: u64,
    record: &Record,
) -> Result<Vec<u8>> {
    seal_record_with_nonce(key, share_id, version, record, random::bytes()?)
}

/// Decrypts and parses a record envelope.
///
/// # Errors
/// Envelope errors ([`Error::WrongKey`], [`Error::Decrypt`], …) or
/// [`Error::Json`] if the plaintext is not a record.
pub fn open_record(
    key: &Key256,
    share_id: &ShareId,
    version: u64,
    sealed: &[u8],
) -> Result<Record> {
    let json = Zeroizing::new(envelope::open(key, &record_aad(share_id, version), sealed)?);
    Record::from_json(&json)
}

/// The AAD of the wrapped record key.
pub fn wrap_aad(share_id: &ShareId) -> Vec<u8> {
    aad(WRAPPED_KEY_LABEL, &[&share_id.0])
}

/// Wraps the record key under the wrap key with a caller-chosen nonce.
pub fn wrap_key_with_nonce(
    wrap_key: &Key256,
    share_id: &ShareId,
    record_key: &Key256,
    nonce: [u8; 12],
) -> Vec<u8> {
    envelope::seal_with_nonce(wrap_key, nonce, &wrap_aad(share_id), record_key.expose())
}

/// Wraps the record key under the wrap key.
///
/// # Errors
/// [`Error::Random`].
pub fn wrap_key(wrap_key: &Key256, share_id: &ShareId, record_key: &Key256) -> Result<Vec<u8>> {
    Ok(wrap_key_with_nonce(
        wrap_key,
        share_id,
        record_key,
        random::bytes()?,
    ))
}

/// Unwraps the record key.
///
/// # Errors
/// [`Error::Length`] if the wrapped key is not [`WRAPPED_KEY_LEN`] bytes, else
/// envelope errors.
pub fn unwrap_key(wrap_key: &Key256, share_id: &ShareId, wrapped: &[u8]) -> Result<Key256> {
    check_wrapped(wrapped)?;
    let raw = Zeroizing::new(envelope::open(wrap_key, &wrap_aad(share_id), wrapped)?);
    unwrapped(&raw)
}

/// The first step of [`unwrap_key`], for clients whose AES-GCM runs elsewhere
/// (SubtleCrypto): then open the envelope under the wrap key with
/// [`wrap_aad`], and read the plaintext with [`unwrapped`].
///
/// # Errors
/// [`Error::Length`] if the wrapped key is not [`WRAPPED_KEY_LEN`] bytes.
pub fn check_wrapped(wrapped: &[u8]) -> Result<()> {
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(Error::Length {
            what: "wrapped key",
            expected: WRAPPED_KEY_LEN,
            got: wrapped.len(),
        });
    }
    Ok(())
}

/// The record key from the plaintext of an opened wrapped key.
///
/// # Errors
/// [`Error::Malformed`] unless it is 32 bytes.
pub fn unwrapped(plaintext: &[u8]) -> Result<Key256> {
    <[u8; 32]>::try_from(plaintext)
        .map(Secret::new)
        .map_err(|_| Error::Malformed("wrapped key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            title: "Prod DB".into(),
            fields: vec![
                Field {
                    kind: FieldType::Login,
                    label: None,
                    value: "admin".into(),
                },
                Field {
                    kind: FieldType::Password,
                    label: None,
                    value: "hunter2".into(),
                },
            ],
            attachments: vec![],
        }
    }

    #[test]
    fn record_is_bound_to_share_and_version() {
        let key = Secret::new([3; 32]);
        let id = ShareId([1; 16]);
        let sealed = seal_record_with_nonce(&key, &id, 1, &record(), [0; 12]).unwrap();
        assert_eq!(open_record(&key, &id, 1, &sealed), Ok(record()));
        assert_eq!(open_record(&key, &id, 2, &sealed), Err(Error::Decrypt));
        assert_eq!(
            open_record(&key, &ShareId([2; 16]), 1, &sealed),
            Err(Error::Decrypt)
        );
    }

    #[test]
    fn wrapped_key_round_trip_and_errors() {
        let wk = Secret::new([4; 32]);
        let rk = Secret::new([5; 32]);
        let id = ShareId([1; 16]);
        let w = wrap_key_with_nonce(&wk, &id, &rk, [9; 12]);
        assert_eq!(w.len(), WRAPPED_KEY_LEN);
        assert_eq!(unwrap_key(&wk, &id, &w), Ok(rk));
        assert_eq!(
            unwrap_key(&Secret::new([6; 32]), &id, &w),
            Err(Error::WrongKey)
        );
        assert!(matches!(
            unwrap_key(&wk, &id, &w[1..]),
            Err(Error::Length { .. })
        ));
    }

    #[test]
    fn json_errors_do_not_quote_plaintext() {
        let err = Record::from_json(
            br#"{"title":"t","fields":[{"type":"password","value":7,"x":"hunter2"}]}"#,
        );
        let text = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!text.is_empty() && !text.contains("hunter2"), "{text}");
        let custom =
            Record::from_json(br#"{"title":"t","fields":[{"type":"custom","value":"v"}]}"#);
        assert!(matches!(custom, Err(Error::Json { .. })));
    }
}
