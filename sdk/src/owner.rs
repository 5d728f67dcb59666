//! The owner (sender): an ECDSA P-256 identity that signs create, list, update,
//! revoke and the event stream, and a separate AES-256 *owner key* that seals
//! per-share owner data (label and record key) so only the owner can read its
//! list.
//!
//! Owner data envelope AAD: `"oneshare/v1/owner-data" || 0x00 || share_id`.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{b64, unb64_array};
use crate::envelope::{self, aad};
use crate::json;
use crate::secret::{Key256, Secret};
#[cfg(not(target_arch = "wasm32"))]
use crate::signing::{PublicKey, SigningKey};
use crate::token::ShareId;
use crate::{Error, Result, random};

/// AAD label of owner data envelopes.
pub const OWNER_DATA_LABEL: &str = "oneshare/v1/owner-data";

/// An owner identity held by a native client (CLI). Serialized as JSON to a file
/// the CLI creates with mode 0600.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Debug)]
pub struct OwnerIdentity {
    /// Signs owner requests.
    pub signing_key: SigningKey,
    /// Seals owner data.
    pub owner_key: Key256,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    version: u8,
    signing_key: String,
    owner_key: String,
}

#[cfg(not(target_arch = "wasm32"))]
impl OwnerIdentity {
    /// Generates a new identity.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        Ok(Self {
            signing_key: SigningKey::generate()?,
            owner_key: Secret::new(random::bytes()?),
        })
    }

    /// The public key that identifies this owner to the relay.
    pub fn public_key(&self) -> PublicKey {
        self.signing_key.public_key()
    }

    /// Serializes to the identity file format (secret).
    ///
    /// # Errors
    /// [`Error::Json`] if serialization fails, so an identity file is never
    /// written empty.
    pub fn to_json(&self) -> Result<Zeroizing<String>> {
        let file = IdentityFile {
            version: 1,
            signing_key: b64(self.signing_key.to_bytes().expose()),
            owner_key: b64(self.owner_key.expose()),
        };
        let json = json::to_vec_pretty(&file).map_err(|e| e.into_core("owner identity"))?;
        // The writer copies strings and ASCII only, so this never fails.
        String::from_utf8(json)
            .map(Zeroizing::new)
            .map_err(|_| Error::Malformed("owner identity"))
    }

    /// Parses the identity file format.
    ///
    /// # Errors
    /// [`Error::Json`], [`Error::UnsupportedVersion`] or [`Error::InvalidKey`].
    pub fn from_json(json: &str) -> Result<Self> {
        let file: IdentityFile = json::read(json.as_bytes(), "owner identity")?;
        if file.version != 1 {
            return Err(Error::UnsupportedVersion {
                what: "owner identity",
                version: file.version,
            });
        }
        let signing = Secret::new(
            unb64_array(&file.signing_key, "signing key")
                .map_err(|_| Error::InvalidKey("owner"))?,
        );
        Ok(Self {
            signing_key: SigningKey::from_bytes(&signing)?,
            owner_key: Secret::new(
                unb64_array(&file.owner_key, "owner key")
                    .map_err(|_| Error::InvalidKey("owner"))?,
            ),
        })
    }
}

/// What the owner keeps about a share, sealed so the relay cannot read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct OwnerData {
    /// The owner's label for the share ("DB password for Alice").
    pub label: String,
    /// The record key (base64url), so the owner can publish new versions.
    pub record_key: String,
}

impl OwnerData {
    /// Builds owner data for a record key.
    pub fn new(label: impl Into<String>, record_key: &Key256) -> Self {
        Self {
            label: label.into(),
            record_key: b64(record_key.expose()),
        }
    }

    /// The record key.
    ///
    /// # Errors
    /// [`Error::InvalidKey`].
    pub fn record_key(&self) -> Result<Key256> {
        unb64_array(&self.record_key, "record key")
            .map(Secret::new)
            .map_err(|_| Error::InvalidKey("record"))
    }
}

/// The AAD of an owner data envelope.
pub fn owner_aad(share_id: &ShareId) -> Vec<u8> {
    aad(OWNER_DATA_LABEL, &[&share_id.0])
}

/// Seals owner data with a caller-chosen nonce (vectors).
///
/// # Errors
/// [`Error::Json`] if serialization fails (never an empty envelope).
pub fn seal_owner_data_with_nonce(
    owner_key: &Key256,
    share_id: &ShareId,
    data: &OwnerData,
    nonce: [u8; 12],
) -> Result<Vec<u8>> {
    let json = Zeroizing::new(json::write(data, "owner data")?);
    Ok(envelope::seal_with_nonce(
        owner_key,
        nonce,
        &owner_aad(share_id),
        &json,
    ))
}

/// Seals owner data.
///
/// # Errors
/// [`Error::Random`] or [`Error::Json`].
pub fn seal_owner_data(
    owner_key: &Key256,
    share_id: &ShareId,
    data: &OwnerData,
) -> Result<Vec<u8>> {
    seal_owner_data_with_nonce(owner_key, share_id, data, random::bytes()?)
}

/// Opens owner data.
///
/// # Errors
/// Envelope errors or [`Error::Json`].
pub fn open_owner_data(owner_key: &Key256, share_id: &ShareId, sealed: &[u8]) -> Result<OwnerData> {
    let json = Zeroizing::new(envelope::open(owner_key, &owner_aad(share_id), sealed)?);
    json::read(&json, "owner data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_file_round_trip() {
        let id = OwnerIdentity::generate().unwrap();
        let back = OwnerIdentity::from_json(&id.to_json().unwrap()).unwrap();
        assert_eq!(back.public_key(), id.public_key());
        assert_eq!(back.owner_key, id.owner_key);
        assert!(!format!("{id:?}").contains(&b64(id.owner_key.expose())));
        assert!(matches!(
            OwnerIdentity::from_json("{}"),
            Err(Error::Json { .. })
        ));
    }

    #[test]
    fn owner_data_is_bound_to_the_share() {
        let k = Secret::new([1; 32]);
        let data = OwnerData::new("for Alice", &Secret::new([2; 32]));
        let sealed = seal_owner_data(&k, &ShareId([3; 16]), &data).unwrap();
        assert_eq!(
            open_owner_data(&k, &ShareId([3; 16]), &sealed).unwrap(),
            data
        );
        assert_eq!(
            open_owner_data(&k, &ShareId([4; 16]), &sealed),
            Err(Error::Decrypt)
        );
    }
}
