//! Fixed keys and real values shared by the fuzz targets and the seed generator,
//! so the seeds are valid under exactly the keys the targets decrypt with.

use oneshare_sdk::record::{Attachment, Field, FieldType, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{SignedHeaders, SigningKey};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transmission::RelayKeyPair;

/// The symmetric key every decrypting target uses.
pub fn key() -> Key256 {
    Secret::new([0x42; 32])
}

/// The share id bound into record and wrapped-key AAD.
pub const SHARE_ID: ShareId = ShareId([7; 16]);

/// The AAD of the plain envelope seeds.
pub const AAD: &[u8] = b"oneshare/v1/fuzz\0ctx";

/// The request nonce of transmission bodies.
pub const NONCE: [u8; 16] = [9; 16];

/// The relay key the transmission target opens with.
pub fn relay() -> RelayKeyPair {
    match RelayKeyPair::derive(&Secret::new([0x11; 32])) {
        Ok(relay) => relay,
        Err(e) => panic!("fixed relay key: {e}"),
    }
}

/// The signing key whose signatures the header seeds carry.
pub fn signing_key() -> SigningKey {
    match SigningKey::from_bytes(&Secret::new([0x22; 32])) {
        Ok(key) => key,
        Err(e) => panic!("fixed signing key: {e}"),
    }
}

/// The request the header seeds sign.
pub fn request() -> oneshare_sdk::signing::Request<'static> {
    oneshare_sdk::signing::Request {
        method: "POST",
        path: "/v1/shares/BwcHBwcHBwcHBwcHBwcHBw/confirm",
        body: b"{}",
        transmission: None,
    }
}

/// Encodes signed headers as the signed_headers target reads them: one value per
/// line in the order signer, timestamp, nonce, signature.
pub fn header_lines(headers: &SignedHeaders) -> String {
    headers
        .to_pairs()
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A record using every field type and an attachment.
pub fn record() -> Record {
    let field = |kind, label: Option<&str>, value: &str| Field {
        kind,
        label: label.map(Into::into),
        value: value.into(),
    };
    Record {
        title: "Prod DB ✓".into(),
        fields: vec![
            field(FieldType::Login, None, "admin"),
            field(FieldType::Password, None, "hunter2\"\\\n"),
            field(FieldType::Url, Some("console"), "https://db.example"),
            field(FieldType::Note, None, "line 1\nline 2"),
            field(
                FieldType::Totp,
                None,
                "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
            ),
            field(FieldType::Custom, Some("PIN"), "1234"),
        ],
        attachments: vec![Attachment {
            id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            name: "key.pem".into(),
            mime: "application/x-pem-file".into(),
            size: 1234,
            key: "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI".into(),
        }],
    }
}
