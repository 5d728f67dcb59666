//! The relay's HPKE key pairs: created on first start in `relay-key.json` (mode
//! 0600), rotated by `oneshare-server rotate-key`. Rotated keys stay accepted for a
//! grace period so clients that pinned the old key keep working.
//!
//! The file is the one key source of every instance that reads it (several relays
//! on one PostgreSQL share it, e.g. a mounted secret): [`KeyRing`] re-reads it
//! when it changes (checked by the sweeper and whenever a request names a key id
//! it does not know), so a rotation reaches running instances without a restart.
//! The first start creates it atomically (a unique temporary file, then a hard
//! link that fails if another instance won), so concurrent first starts agree.

use std::io::Write;
use std::path::{Path, PathBuf};

use oneshare_sdk::api::{RelayKeyInfo, RelayKeyResponse};
use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::transmission::{RelayKeyPair, header_key_id};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Key file name inside the data directory.
pub const KEY_FILE: &str = "relay-key.json";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    current: String,
    #[serde(default)]
    previous: Vec<Retired>,
}

#[derive(Serialize, Deserialize)]
struct Retired {
    private: String,
    retired_at: u64,
}

/// The relay's current key and the rotated ones still in their grace period.
#[derive(Debug, Clone)]
pub struct RelayKeys {
    current: RelayKeyPair,
    previous: Vec<(RelayKeyPair, u64)>,
    grace: u64,
}

fn pair(b64_private: &str) -> Result<RelayKeyPair> {
    let bytes = unb64_array::<32>(b64_private, "relay key")
        .map_err(|_| Error::Config("relay key file is damaged".into()))?;
    RelayKeyPair::from_private_bytes(&Secret::new(bytes))
        .map_err(|_| Error::Config("relay key file is damaged".into()))
}

fn path(dir: &Path) -> PathBuf {
    dir.join(KEY_FILE)
}

fn write(dir: &Path, file: &KeyFile, replace: bool) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    let tmp = dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
    let text = serde_json::to_vec_pretty(file).map_err(Error::internal)?;
    let io = |e: std::io::Error| Error::Config(format!("{}: {e}", tmp.display()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(&text).map_err(io)?;
    f.sync_all().map_err(io)?;
    let placed = if replace {
        std::fs::rename(&tmp, path(dir))
    } else {
        // Only if no instance created it first.
        let linked = std::fs::hard_link(&tmp, path(dir));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        }
    };
    placed.map_err(io)
}

fn read(dir: &Path) -> Result<Option<KeyFile>> {
    match std::fs::read(path(dir)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| Error::Config("relay key file is damaged".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Config(format!("{}: {e}", path(dir).display()))),
    }
}

fn new_private() -> Result<String> {
    let kp = RelayKeyPair::generate().map_err(Error::internal)?;
    Ok(b64(kp.private_bytes().expose()))
}

impl RelayKeys {
    /// Loads the key file, creating it on first start.
    ///
    /// # Errors
    /// The file cannot be read, created or parsed.
    pub fn load_or_create(dir: &Path, grace: u64) -> Result<Self> {
        let file = match read(dir)? {
            Some(f) => f,
            None => {
                let f = KeyFile {
                    current: new_private()?,
                    previous: Vec::new(),
                };
                write(dir, &f, false)?;
                // Another instance may have created it first: its key counts.
                read(dir)?.ok_or_else(|| Error::Config("relay key file vanished".into()))?
            }
        };
        Ok(Self {
            current: pair(&file.current)?,
            previous: file
                .previous
                .iter()
                .map(|r| Ok((pair(&r.private)?, r.retired_at)))
                .collect::<Result<_>>()?,
            grace,
        })
    }

    /// Rotates: a new current key, the old one retired at `now`; keys past the
    /// grace period are dropped. Returns the new key id.
    ///
    /// # Errors
    /// The key file cannot be read or written.
    pub fn rotate(dir: &Path, grace: u64, now: u64) -> Result<String> {
        let old = read(dir)?;
        let mut previous = Vec::new();
        if let Some(old) = old {
            previous.push(Retired {
                private: old.current,
                retired_at: now,
            });
            previous.extend(
                old.previous
                    .into_iter()
                    .filter(|r| r.retired_at.saturating_add(grace) > now),
            );
        }
        let file = KeyFile {
            current: new_private()?,
            previous,
        };
        write(dir, &file, true)?;
        Ok(pair(&file.current)?.public().key_id.clone())
    }

    /// Builds keys in memory (tests).
    pub fn from_pairs(
        current: RelayKeyPair,
        previous: Vec<(RelayKeyPair, u64)>,
        grace: u64,
    ) -> Self {
        Self {
            current,
            previous,
            grace,
        }
    }

    /// The current key.
    pub fn current(&self) -> &RelayKeyPair {
        &self.current
    }

    fn accepted_pairs(&self, now: u64) -> impl Iterator<Item = &RelayKeyPair> {
        std::iter::once(&self.current).chain(
            self.previous
                .iter()
                .filter(move |(_, at)| at.saturating_add(self.grace) > now)
                .map(|(k, _)| k),
        )
    }

    /// The key clients seal to now.
    pub fn current_info(&self) -> RelayKeyInfo {
        let public = self.current.public();
        RelayKeyInfo {
            key_id: public.key_id.clone(),
            public_key: public.public_key.to_vec(),
            suite: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM".to_owned(),
        }
    }

    /// What `GET /v1/relay-key` answers.
    pub fn response(&self, now: u64) -> RelayKeyResponse {
        RelayKeyResponse {
            current: self.current_info(),
            accepted: self
                .accepted_pairs(now)
                .map(|k| k.public().key_id.clone())
                .collect(),
        }
    }

    /// Opens a `oneshare-transmission-key` header with whichever accepted key it names.
    ///
    /// # Errors
    /// Unknown key id or a header that does not open.
    pub fn open_header(&self, header: &str, now: u64) -> Result<Key256> {
        let kid = header_key_id(header).ok_or(Error::InvalidHeader(
            oneshare_sdk::signing::HEADER_TRANSMISSION,
        ))?;
        let pair = self
            .accepted_pairs(now)
            .find(|k| k.public().key_id == kid)
            .ok_or(Error::InvalidHeader(
                oneshare_sdk::signing::HEADER_TRANSMISSION,
            ))?;
        pair.open_transmission_key(header).map_err(Error::from)
    }
}

/// The relay keys in force, following the key file (see the module doc).
#[derive(Debug)]
pub struct KeyRing {
    dir: Option<PathBuf>,
    grace: u64,
    now: std::sync::RwLock<(std::sync::Arc<RelayKeys>, Option<std::time::SystemTime>)>,
}

fn modified(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path(dir)).and_then(|m| m.modified()).ok()
}

impl KeyRing {
    /// Loads (creating on first start) the key file in `dir`.
    ///
    /// # Errors
    /// As [`RelayKeys::load_or_create`].
    pub fn open(dir: &Path, grace: u64) -> Result<Self> {
        let keys = RelayKeys::load_or_create(dir, grace)?;
        Ok(Self {
            dir: Some(dir.to_path_buf()),
            grace,
            now: std::sync::RwLock::new((std::sync::Arc::new(keys), modified(dir))),
        })
    }

    /// Keys that no file backs (tests).
    pub fn fixed(keys: RelayKeys) -> Self {
        Self {
            dir: None,
            grace: keys.grace,
            now: std::sync::RwLock::new((std::sync::Arc::new(keys), None)),
        }
    }

    /// The keys in force.
    pub fn get(&self) -> std::sync::Arc<RelayKeys> {
        self.now
            .read()
            .map(|g| g.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// Re-reads the key file if it changed since it was last read.
    ///
    /// # Errors
    /// The changed file cannot be read or parsed (the keys in force stay).
    pub fn refresh(&self) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let stamp = modified(dir);
        let seen = self.now.read().map(|g| g.1).unwrap_or(None);
        if stamp == seen {
            return Ok(());
        }
        let keys = RelayKeys::load_or_create(dir, self.grace)?;
        if let Ok(mut g) = self.now.write() {
            *g = (std::sync::Arc::new(keys), stamp);
        }
        Ok(())
    }

    /// Opens a transmission-key header; a key id not known yet first re-reads
    /// the key file (another instance's rotation).
    ///
    /// # Errors
    /// As [`RelayKeys::open`].
    pub fn open_header(&self, header: &str, now: u64) -> Result<Key256> {
        match self.get().open_header(header, now) {
            Err(Error::InvalidHeader(_)) => {
                self.refresh()?;
                self.get().open_header(header, now)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneshare_sdk::transmission::seal_transmission_key;

    #[test]
    fn create_rotate_and_grace() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = RelayKeys::load_or_create(dir.path(), 100).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = RelayKeys::load_or_create(dir.path(), 100).unwrap();
        assert_eq!(again.current().public(), a.current().public());
        let tk = Secret::new([3; 32]);
        let old_header = seal_transmission_key(a.current().public(), &tk).unwrap();
        let kid = RelayKeys::rotate(dir.path(), 100, 1000).unwrap();
        let b = RelayKeys::load_or_create(dir.path(), 100).unwrap();
        assert_eq!(b.current().public().key_id, kid);
        assert_ne!(kid, a.current().public().key_id);
        assert_eq!(b.response(1050).accepted.len(), 2);
        assert_eq!(b.open_header(&old_header, 1050).unwrap(), tk);
        assert!(b.open_header(&old_header, 1100).is_err());
        assert_eq!(b.response(1100).accepted, vec![kid]);
    }
}
