//! The owner identity file (PROTOCOL.md §8, `identity.json`, 0600) and the admin
//! key file (`admin.json`, 0600: `{"version": 1, "signing_key": b64(scalar)}`).

use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::files::{self, Dirs};

fn identity_path(dirs: &Dirs) -> std::path::PathBuf {
    dirs.config.join("identity.json")
}

fn admin_path(dirs: &Dirs) -> std::path::PathBuf {
    dirs.config.join("admin.json")
}

/// Loads the owner identity, or says to run `init`.
///
/// # Errors
/// [`Error::NoIdentity`], [`Error::Io`], [`Error::Core`] for a damaged file.
pub fn load_owner(dirs: &Dirs) -> Result<OwnerIdentity> {
    let path = identity_path(dirs);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            Ok(OwnerIdentity::from_json(&text)?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::NoIdentity(path.display().to_string()))
        }
        Err(e) => Err(Error::io("cannot read", &path, e)),
    }
}

/// Creates the owner identity unless one exists; whether it was created.
///
/// # Errors
/// [`Error::Io`], [`Error::Core`].
pub fn ensure_owner(dirs: &Dirs) -> Result<(OwnerIdentity, bool)> {
    match load_owner(dirs) {
        Ok(id) => Ok((id, false)),
        Err(Error::NoIdentity(_)) => {
            let id = OwnerIdentity::generate()?;
            files::write_private(&identity_path(dirs), id.to_json()?.as_bytes())?;
            Ok((id, true))
        }
        Err(e) => Err(e),
    }
}

/// The owner's signer pair for requests.
pub fn owner_signer(id: &OwnerIdentity) -> (&SigningKey, Signer) {
    (&id.signing_key, Signer::Owner(id.public_key()))
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct AdminFile {
    version: u8,
    signing_key: String,
}

/// An admin signing key.
pub struct Admin(pub SigningKey);

impl Admin {
    /// The signer pair for admin requests.
    pub fn signer(&self) -> (&SigningKey, Signer) {
        (&self.0, Signer::Admin(self.0.public_key()))
    }
}

/// Loads the admin key, or says how to make one.
///
/// # Errors
/// [`Error::Usage`] when missing, [`Error::Io`], [`Error::Core`].
pub fn load_admin(dirs: &Dirs) -> Result<Admin> {
    let path = admin_path(dirs);
    let file: AdminFile = files::read_json(&path)?.ok_or_else(|| {
        Error::Usage(format!(
            "no admin key in {}; run `oneshare admin init` and give the relay its public key (--admin-key)",
            path.display()
        ))
    })?;
    if file.version != 1 {
        return Err(oneshare_sdk::Error::UnsupportedVersion {
            what: "admin key",
            version: file.version,
        }
        .into());
    }
    let bytes = unb64_array(&file.signing_key, "admin key")
        .map_err(|_| oneshare_sdk::Error::InvalidKey("admin"))?;
    Ok(Admin(SigningKey::from_bytes(&Secret::new(bytes))?))
}

/// Creates the admin key unless one exists.
///
/// # Errors
/// [`Error::Io`], [`Error::Core`].
pub fn ensure_admin(dirs: &Dirs) -> Result<Admin> {
    match load_admin(dirs) {
        Ok(a) => Ok(a),
        Err(Error::Usage(_)) => {
            let key = SigningKey::generate()?;
            let file = AdminFile {
                version: 1,
                signing_key: b64(key.to_bytes().expose()),
            };
            files::write_json(&admin_path(dirs), &file)?;
            Ok(Admin(key))
        }
        Err(e) => Err(e),
    }
}
