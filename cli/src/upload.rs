//! Attachment uploads: parts built by the core's [`PartEncryptor`] from the
//! file on disk (one part in memory, the next one encrypted while this one is
//! sent), resumed at the part the relay asks for after a network failure, and
//! an `uploads/SHARE_ID.json` state file (0600) so that `oneshare resume`
//! continues after Ctrl-C or a crash.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use indicatif::ProgressBar;
use oneshare_sdk::api::UploadStatus;
use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::parts::PartEncryptor;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::stream::HEADER_LEN;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::files::{self, Dirs};
use crate::identity::owner_signer;
use crate::relay::{Call, Relay};

/// Set by the Ctrl-C handler while an upload runs; checked between parts.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Whether an upload is running (Ctrl-C then stops it cleanly instead of exiting).
pub static UPLOADING: AtomicBool = AtomicBool::new(false);

/// Network failures in a row before giving up (each retry resumes).
const RETRIES: u32 = 5;

/// One attachment to upload. Holds its key: kept in the 0600 state file only.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct PendingFile {
    /// Absolute path.
    #[zeroize(skip)]
    pub path: PathBuf,
    /// Relay attachment id.
    pub id: String,
    /// Plaintext size.
    pub size: u64,
    /// STREAM key, b64.
    pub key: String,
    /// STREAM header, b64 (fixed so a resumed upload sends the same bytes).
    pub header: String,
}

/// An unfinished create: what `oneshare resume` needs to finish and print it.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Pending {
    /// State file version.
    pub version: u8,
    /// Relay URL.
    pub relay: String,
    /// The share link (secret).
    pub link: String,
    /// Share id.
    pub share_id: String,
    /// When the unused link expires.
    pub expires_at: u64,
    /// Files still to upload (or finalize).
    pub files: Vec<PendingFile>,
    /// The open code's display form (secret; empty in files from before v2).
    #[serde(default)]
    pub open_code: String,
    /// Whether the open code is asked for at every open.
    #[serde(default)]
    pub require_code: bool,
}

impl Pending {
    fn path(dirs: &Dirs, share_id: &str) -> PathBuf {
        dirs.data.join("uploads").join(format!("{share_id}.json"))
    }

    /// Saves the state file.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, dirs: &Dirs) -> Result<()> {
        files::write_json(&Self::path(dirs, &self.share_id), self)
    }

    /// Deletes the state file (the upload is done).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn remove(&self, dirs: &Dirs) -> Result<()> {
        files::remove(&Self::path(dirs, &self.share_id))
    }

    /// Loads the state of `id`, or the only one when `id` is `None`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Usage`] when several are pending.
    pub fn load(dirs: &Dirs, id: Option<&str>) -> Result<Self> {
        let dir = dirs.data.join("uploads");
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                let names: Vec<String> = std::fs::read_dir(&dir)
                    .map(|rd| {
                        rd.filter_map(|e| e.ok())
                            .filter_map(|e| e.file_name().into_string().ok())
                            .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                match names.as_slice() {
                    [one] => one.clone(),
                    [] => return Err(Error::NotFound("no unfinished upload to resume".into())),
                    many => {
                        return Err(Error::Usage(format!(
                            "several unfinished uploads; name one: {}",
                            many.join(", ")
                        )));
                    }
                }
            }
        };
        files::read_json(&Self::path(dirs, &id))?
            .ok_or_else(|| Error::NotFound(format!("no unfinished upload for share {id}")))
    }
}

/// Whether Ctrl-C was pressed during the upload.
fn check_interrupt(share_id: &str) -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(Error::Interrupted(format!(
            "upload interrupted; the share is not usable yet. Run `oneshare resume {share_id}` to finish it"
        )));
    }
    Ok(())
}

/// Uploads every pending file, resuming at the relay's next part; retries
/// network failures a few times.
///
/// # Errors
/// [`Error::Interrupted`], [`Error::Network`] after the retries, others as they come.
pub fn upload_all(
    relay: &Relay,
    owner: &OwnerIdentity,
    pending: &Pending,
    bar: &ProgressBar,
) -> Result<()> {
    UPLOADING.store(true, Ordering::SeqCst);
    let result = pending.files.iter().try_for_each(|f| {
        let mut failures = 0;
        loop {
            match upload_one(relay, owner, &pending.share_id, f, bar) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_network() && failures < RETRIES => {
                    failures += 1;
                    bar.suspend(|| eprintln!("oneshare: {e}; retrying ({failures}/{RETRIES})"));
                    std::thread::sleep(Duration::from_secs(1 << failures.min(4)));
                }
                Err(e) => return Err(e),
            }
        }
    });
    UPLOADING.store(false, Ordering::SeqCst);
    result
}

fn upload_one(
    relay: &Relay,
    owner: &OwnerIdentity,
    share_id: &str,
    f: &PendingFile,
    bar: &ProgressBar,
) -> Result<()> {
    let base = format!("/v1/shares/{share_id}/attachments/{}", f.id);
    let signer = || owner_signer(owner);
    let st: UploadStatus = relay.json(Call::new("GET", format!("{base}/upload"), signer()))?;
    if st.complete {
        bar.inc(st.size);
        return Ok(());
    }
    let key = Secret::new(
        unb64_array(&f.key, "file key").map_err(|_| oneshare_sdk::Error::InvalidKey("file"))?,
    );
    let header: [u8; HEADER_LEN] = unb64_array(&f.header, "stream header")?;
    let enc = PartEncryptor::new(&key, header, f.size, st.part_size)?;
    if enc.ciphertext_len() != st.size {
        return Err(Error::Relay {
            status: 200,
            code: "size_mismatch".into(),
            message: format!(
                "the relay expects {} bytes for {} but the file now encrypts to {}: was it changed?",
                st.size,
                f.path.display(),
                enc.ciphertext_len()
            ),
        });
    }
    bar.inc(st.received);
    let mut file = File::open(&f.path).map_err(|e| Error::io("cannot read", &f.path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("cannot read", &f.path, e))?
        .len();
    if len != f.size {
        return Err(Error::Usage(format!(
            "{} changed size since the share was created ({} -> {len} bytes); create the share again",
            f.path.display(),
            f.size
        )));
    }
    let parts = st.next_part..enc.part_count();
    // One part is encrypted ahead while the previous one is on the wire.
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Result<(u64, Vec<u8>)>>(1);
        let enc = &enc;
        let path = &f.path;
        scope.spawn(move || {
            for part in parts {
                let made = read_part(&mut file, path, enc, part).map(|b| (part, b));
                let failed = made.is_err();
                if tx.send(made).is_err() || failed {
                    return;
                }
            }
        });
        for made in rx {
            check_interrupt(share_id)?;
            let (part, bytes) = made?;
            let n = bytes.len() as u64;
            relay.call(Call::new("PUT", format!("{base}/parts/{part}"), signer()).raw(bytes))?;
            bar.inc(n);
        }
        Ok::<(), Error>(())
    })?;
    check_interrupt(share_id)?;
    let done: UploadStatus = relay.json(Call::new("POST", format!("{base}/finalize"), signer()))?;
    if !done.complete {
        return Err(Error::Relay {
            status: 200,
            code: "upload_incomplete".into(),
            message: "the relay did not accept the whole attachment; run `oneshare resume`".into(),
        });
    }
    Ok(())
}

/// Reads the plaintext a part needs and encrypts it.
fn read_part(file: &mut File, path: &Path, enc: &PartEncryptor, part: u64) -> Result<Vec<u8>> {
    let range = enc.plaintext_range(part)?;
    let len = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
    let mut buf = zeroize::Zeroizing::new(vec![0u8; len]);
    file.seek(SeekFrom::Start(range.start))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| Error::io("cannot read", path, e))?;
    Ok(enc.encrypt_part(part, &buf)?)
}

/// A new pending file: random id, key and header.
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Core`] when the RNG fails.
pub fn prepare_file(path: &Path) -> Result<PendingFile> {
    let path = std::fs::canonicalize(path).map_err(|e| Error::io("cannot read", path, e))?;
    let meta = std::fs::metadata(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{} is not a file", path.display())));
    }
    let key = oneshare_sdk::record::generate_key()?;
    let (_, header) = oneshare_sdk::stream::Encryptor::new(&key)?;
    Ok(PendingFile {
        id: b64(oneshare_sdk::random::bytes::<16>()?),
        size: meta.len(),
        key: b64(key.expose()),
        header: b64(header),
        path,
    })
}
