//! Where the CLI keeps things, and private (0600) files written atomically.
//!
//! * config dir (`~/.config/oneshare`, or `ONESHARE_CONFIG_HOME`): `identity.json`
//!   (the owner identity, PROTOCOL.md §8), `admin.json` (an admin key),
//!   `relays.json` (the default relay and the pinned relay keys);
//! * data dir (`~/.local/share/oneshare`, or `ONESHARE_DATA_HOME`):
//!   `devices/SHARE_ID.json` (a recipient device key per share) and
//!   `uploads/SHARE_ID.json` (an unfinished create, for `oneshare resume`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The two directories.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Identity, admin key, relay pins.
    pub config: PathBuf,
    /// Device keys and unfinished uploads.
    pub data: PathBuf,
}

impl Dirs {
    /// From the flags, else the platform's directories.
    ///
    /// # Errors
    /// [`Error::Usage`] when there is no home directory and no flag.
    pub fn new(config: Option<PathBuf>, data: Option<PathBuf>) -> Result<Self> {
        let project = directories::ProjectDirs::from("", "", "oneshare");
        let pick = |given: Option<PathBuf>, default: Option<&Path>, flag: &str| {
            given
                .or_else(|| default.map(Path::to_path_buf))
                .ok_or_else(|| Error::Usage(format!("no home directory: pass {flag} DIR")))
        };
        Ok(Self {
            config: pick(
                config,
                project.as_ref().map(|p| p.config_dir()),
                "--config-dir",
            )?,
            data: pick(data, project.as_ref().map(|p| p.data_dir()), "--data-dir")?,
        })
    }
}

/// Makes `dir` (and parents), owner-only.
fn private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("cannot restrict", dir, e))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600: a temporary file in the same
/// directory, fsync, then rename, so a crash leaves the old or the new file.
///
/// # Errors
/// [`Error::Io`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("cannot write", path, e))
}

/// Reads a JSON file, `None` when it does not exist.
///
/// # Errors
/// [`Error::Io`] when unreadable or not the expected JSON.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::io(
                "cannot parse",
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.classify_text()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read", path, e)),
    }
}

/// Writes a JSON file privately.
///
/// # Errors
/// [`Error::Io`].
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec_pretty(value).unwrap_or_default());
    write_private(path, &bytes)
}

/// Removes a file; a missing file is fine.
///
/// # Errors
/// [`Error::Io`].
pub fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove", path, e)),
    }
}

/// serde_json errors without the input they quote (files hold secrets).
trait ClassifyText {
    fn classify_text(&self) -> String;
}

impl ClassifyText for serde_json::Error {
    fn classify_text(&self) -> String {
        format!("{:?} error at line {}", self.classify(), self.line())
    }
}
