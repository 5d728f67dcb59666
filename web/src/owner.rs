//! The sender side: this browser's owner identity (a non-extractable ECDSA key
//! and a non-extractable AES key for owner data), create with resumable
//! attachment uploads, list, update and revoke.

use js_sys::Uint8Array;
use oneshare_sdk::api::{
    AttachmentDecl, CreateShareRequest, CreateShareResponse, RecordCiphertext, RecordResponse,
    ShareList, ShareSummary, UpdateRecordRequest, UploadStatus,
};
use oneshare_sdk::encoding::b64;
use oneshare_sdk::envelope::{COMMITMENT_LEN, commitment};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::{OwnerData, owner_aad};
use oneshare_sdk::record::{self, Attachment, Record};
use oneshare_sdk::secret::Key256;
use oneshare_sdk::signing::{PUBLIC_KEY_LEN, PublicKey, Signer};
use oneshare_sdk::stream::{ENCRYPTED_SEGMENT_SIZE, HEADER_LEN, NONCE_PREFIX_LEN, Sealer};
use oneshare_sdk::token::{ShareId, Token};
use oneshare_sdk::{duration, guard, passphrase, token, transfer};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::link::Link;
use crate::platform::random;
use crate::relay::{Call, json, seg};
use crate::store::{Fields, OWNER};
use crate::stretch::NewPassphrase;
use crate::webcrypto::{AesKey, generate_signing_key};

/// Upload attempts after network failures before `upload_incomplete`.
const UPLOAD_ATTEMPTS: usize = 4;

/// This browser's owner identity.
pub(crate) struct Owner {
    pub(crate) private_key: CryptoKey,
    public_key: PublicKey,
    pub(crate) data_key: AesKey,
}

impl Owner {
    pub(crate) fn signer(&self) -> Signer {
        Signer::Owner(self.public_key)
    }

    /// The identity as stored.
    fn from_js(v: JsValue) -> Result<Self> {
        let f = Fields(v.dyn_into().map_err(|_| Error::StorageUnavailable)?);
        match (
            f.key("privateKey"),
            f.bytes::<PUBLIC_KEY_LEN>("publicKey"),
            f.key("ownerKey"),
            f.bytes::<COMMITMENT_LEN>("ownerCommitment"),
        ) {
            (Some(private_key), Some(public), Some(key), Some(c)) => Ok(Self {
                private_key,
                public_key: PublicKey::from_bytes(&public)?,
                data_key: AesKey::from_parts(key, c),
            }),
            _ => Err(Error::StorageUnavailable),
        }
    }
}

/// A file to attach.
pub struct NewFile {
    /// File name shown to the recipient.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// The bytes (a `File` is a `Blob`).
    pub blob: web_sys::Blob,
}

impl NewFile {
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        // A Blob's size is an integer number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = self.blob.size() as u64;
        size
    }

    /// A file from a `File` (its name and type).
    pub fn from_file(file: &web_sys::File) -> Self {
        let mime = file.type_();
        Self {
            name: file.name(),
            mime: if mime.is_empty() {
                "application/octet-stream".into()
            } else {
                mime
            },
            blob: file.clone().into(),
        }
    }
}

/// Options of a new share.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Seconds until the link (or, once opened, access) ends.
    pub expires_in: u64,
    /// End access five minutes after the first view at the latest.
    pub self_destruct: bool,
    /// A label only the owner can read in its list.
    pub label: String,
    /// Aborts the uploads (`aborted`); the share stays, its attachments
    /// incomplete until revoked or expired.
    pub signal: Option<web_sys::AbortSignal>,
    /// Ask for the open code at every open, not only when the open looks
    /// automated (PROTOCOL.md §12.4).
    pub require_code: bool,
    /// A passphrase the recipient must also type (PROTOCOL.md §12.3), and
    /// where its Argon2id runs.
    pub passphrase: Option<NewPassphrase>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self {
            expires_in: 3600,
            self_destruct: false,
            label: String::new(),
            signal: None,
            require_code: false,
            passphrase: None,
        }
    }
}

/// Upload progress: plaintext bytes sent, total, and the file being sent.
pub type UploadProgress = Box<dyn FnMut(u64, u64, &str)>;

/// A created share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The link to hand to the recipient. Secret.
    pub link: String,
    /// The share id.
    pub share_id: ShareId,
    /// When the unused link expires.
    pub expires_at: u64,
    /// The open code in its display form (`Y6HQ-Q210`): passed on separately
    /// from the link, asked for when the sender required it or an open looks
    /// automated. Secret.
    pub open_code: String,
}

/// One of the owner's shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedShare {
    /// The share id.
    pub share_id: ShareId,
    /// Current state.
    pub state: State,
    /// The owner's label (`None` when sealed under another owner key).
    pub label: Option<String>,
    /// Creation time.
    pub created_at: u64,
    /// When the link or access ends.
    pub expires_at: u64,
    /// When a device bound.
    pub bound_at: Option<u64>,
    /// Current record version.
    pub record_version: u64,
    /// Self-destruct flag.
    pub self_destruct: bool,
}

/// A share the relay holds whose attachments are not all uploaded yet: made by
/// [`Client::create_share`], finished by [`Client::upload_attachments`], which
/// can be called again after a network failure to resume. Holds the link. Secret.
pub struct PendingShare {
    owner: Owner,
    created: Created,
    uploads: Vec<Upload>,
    signal: Option<web_sys::AbortSignal>,
}

impl PendingShare {
    /// The share id.
    pub fn share_id(&self) -> ShareId {
        self.created.share_id
    }
}

/// A file being attached.
struct Upload {
    id: String,
    key: Key256,
    prefix: [u8; NONCE_PREFIX_LEN],
    file: NewFile,
    size: u64,
}

impl Client {
    /// The owner identity of this browser, created on first use.
    pub(crate) async fn owner(&self) -> Result<Owner> {
        let db = self.db().await?;
        if let Some(Ok(owner)) = db.get(OWNER, "default").await?.map(Owner::from_js) {
            return Ok(owner);
        }
        let (private_key, public) = generate_signing_key().await?;
        let data_key = AesKey::import(&record::generate_key()?, true).await?;
        let f = Fields::new();
        f.set("id", "default")
            .set("privateKey", private_key.clone())
            .set("publicKey", Uint8Array::from(&public[..]))
            .set("ownerKey", data_key.key.clone())
            .set(
                "ownerCommitment",
                Uint8Array::from(&data_key.commitment[..]),
            );
        // Only into an empty (or unreadable) slot: two tabs, or two calls,
        // making the identity at once end up with one, the first stored, and
        // no shares are made under a key that is then overwritten.
        let taken = db
            .put_unless(OWNER, "default", &f.0.into(), &|old| {
                Owner::from_js(old.clone()).is_ok()
            })
            .await?;
        match taken {
            Some(first) => Owner::from_js(first),
            None => Ok(Owner {
                private_key,
                public_key: PublicKey::from_bytes(&public)?,
                data_key,
            }),
        }
    }

    /// The owner public key of this browser (base64url), created if needed.
    ///
    /// # Errors
    /// `storage_unavailable`, `webcrypto`.
    pub async fn owner_public_key(&self) -> Result<String> {
        Ok(self.owner().await?.public_key.to_string())
    }

    pub(crate) async fn owner_call(&self, owner: &Owner, call: Call<'_>) -> Result<Vec<u8>> {
        let signer = owner.signer();
        self.relay
            .call(&call.signed(signer, &owner.private_key))
            .await
    }

    /// Creates a share and uploads its attachments.
    ///
    /// # Errors
    /// `duration` for an expiry out of range, relay codes (`too_large`, `quota`,
    /// `forbidden`, …), `upload_incomplete`, `network`, `storage_unavailable`.
    pub async fn create(
        &self,
        record: Record,
        files: Vec<NewFile>,
        options: &CreateOptions,
        progress: Option<UploadProgress>,
    ) -> Result<Created> {
        let pending = self.create_share(record, files, options).await?;
        self.upload_attachments(&pending, progress).await
    }

    /// Creates a share on the relay; [`Client::upload_attachments`] then sends
    /// its files (a share without files is complete already, but still call it
    /// for the link).
    ///
    /// # Errors
    /// As [`Client::create`], before any upload.
    pub async fn create_share(
        &self,
        mut record: Record,
        files: Vec<NewFile>,
        options: &CreateOptions,
    ) -> Result<PendingShare> {
        let expires_in = duration::check(options.expires_in)?;
        let owner = self.owner().await?;
        let token = Token::generate()?;
        let keys = token.derive();
        let share_id = keys.share_id;
        let mut uploads = Vec::with_capacity(files.len());
        let mut decls = Vec::with_capacity(files.len());
        for file in files {
            let size = file.size();
            let up = Upload {
                id: b64(random::<16>()?),
                key: record::generate_key()?,
                prefix: random()?,
                file,
                size,
            };
            let (sealer, _) = Sealer::new(&commitment(&up.key), up.prefix, size)?;
            record.attachments.push(Attachment {
                id: up.id.clone(),
                name: up.file.name.clone(),
                mime: up.file.mime.clone(),
                size,
                key: b64(up.key.expose()),
            });
            decls.push(AttachmentDecl {
                id: up.id.clone(),
                size: sealer.ciphertext_len(),
            });
            uploads.push(up);
        }
        let pass = match &options.passphrase {
            Some(p) => {
                let stretched = (p.stretch)(&p.text, passphrase::salt(&token)).await?;
                Some(passphrase::from_stretched(&token, &stretched))
            }
            None => None,
        };
        let guarded = guard::create(&token, options.require_code, pass)?;
        let record_key = record::generate_key()?;
        let sealed_record = seal_record(&record_key, &share_id, 1, &record).await?;
        let data = OwnerData::new(options.label.clone(), &record_key);
        let data_json = zeroize::Zeroizing::new(
            oneshare_sdk::json::to_vec(&data).map_err(|_| Error::Argument("owner data"))?,
        );
        let body = CreateShareRequest {
            share_id,
            verifier: token::verifier(&keys.bind_secret),
            wrapped_key: AesKey::import(&guarded.wrap_key, true)
                .await?
                .seal_envelope(&record::wrap_aad(&share_id), record_key.expose())
                .await?,
            record: sealed_record,
            owner_data: owner
                .data_key
                .seal_envelope(&owner_aad(&share_id), &data_json)
                .await?,
            expires_in,
            self_destruct: options.self_destruct,
            attachments: decls,
            guard: Some(guarded.guard),
            transfer_box: Some(
                owner
                    .data_key
                    .seal_envelope(
                        &transfer::box_aad(&share_id),
                        transfer::transfer_secret(&token).expose(),
                    )
                    .await?
                    .try_into()
                    .map_err(|_| Error::Argument("transfer box"))?,
            ),
        };
        let body =
            oneshare_sdk::json::to_vec(&body).map_err(|_| Error::Argument("create request"))?;
        let created: CreateShareResponse = json(
            &self
                .owner_call(
                    &owner,
                    Call::new("POST", "/v1/shares".into()).body(body, true),
                )
                .await?,
            "create response",
        )?;
        Ok(PendingShare {
            owner,
            created: Created {
                link: Link::from_token(token).to_url(&self.link_base),
                share_id,
                expires_at: created.expires_at,
                open_code: guarded.open_code.display(),
            },
            uploads,
            signal: options.signal.clone(),
        })
    }

    /// Uploads the attachments of `pending`, each from the first part the relay
    /// lacks: after a `network` or `upload_incomplete` error (relay restarted or
    /// unreachable), call it again to resume. Progress counts what the relay
    /// already has.
    ///
    /// # Errors
    /// `upload_incomplete`, `network`, `aborted`, relay codes.
    pub async fn upload_attachments(
        &self,
        pending: &PendingShare,
        mut progress: Option<UploadProgress>,
    ) -> Result<Created> {
        let total: u64 = pending.uploads.iter().map(|u| u.size).sum();
        let mut before = 0;
        for up in &pending.uploads {
            let mut report = |done: u64| {
                if let Some(p) = progress.as_mut() {
                    p(before + done, total, &up.file.name);
                }
            };
            self.upload(
                &pending.owner,
                &pending.created.share_id,
                up,
                pending.signal.as_ref(),
                &mut report,
            )
            .await?;
            before += up.size;
        }
        Ok(pending.created.clone())
    }

    /// Uploads one attachment in parts, resuming where the relay says.
    async fn upload(
        &self,
        owner: &Owner,
        share_id: &ShareId,
        up: &Upload,
        signal: Option<&web_sys::AbortSignal>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let base = format!(
            "/v1/shares/{}/attachments/{}",
            seg(&share_id.to_string()),
            seg(&up.id)
        );
        let status = async || {
            let path = format!("{base}/upload");
            json::<UploadStatus>(
                &self.owner_call(owner, Call::new("GET", path)).await?,
                "upload status",
            )
        };
        let key = AesKey::import(&up.key, true).await?;
        let (sealer, header) = Sealer::new(&key.commitment, up.prefix, up.size)?;
        let mut st = status().await?;
        progress(plaintext_before(st.next_part * st.part_size, up.size));
        let mut attempts = 0;
        while !st.complete {
            attempts += 1;
            if attempts > UPLOAD_ATTEMPTS {
                return Err(Error::UploadIncomplete);
            }
            let sent: Result<UploadStatus> = async {
                let mut st = st.clone();
                let total = sealer.ciphertext_len();
                let mut parts = Parts::new(&sealer, &header, &key, &up.file.blob, st.part_size);
                while st.next_part * st.part_size < total {
                    let start = st.next_part * st.part_size;
                    let end = (start + st.part_size).min(total);
                    // Into wasm memory: the signature covers the body's hash.
                    let mut part = vec![0; usize::try_from(end - start).unwrap_or(0)];
                    let mut at = 0;
                    for piece in parts.part(start).await? {
                        let n = piece.length() as usize;
                        piece.copy_to(&mut part[at..at + n]);
                        at += n;
                    }
                    let path = format!("{base}/parts/{}", st.next_part);
                    let mut call = Call::new("PUT", path);
                    call.body = part;
                    call.content_type = "application/octet-stream";
                    call.signal = signal;
                    st = json(&self.owner_call(owner, call).await?, "upload status")?;
                    progress(plaintext_before(end, up.size));
                }
                let path = format!("{base}/finalize");
                json(
                    &self.owner_call(owner, Call::new("POST", path)).await?,
                    "upload status",
                )
            }
            .await;
            st = match sent {
                Ok(st) => st,
                // Network trouble: ask the relay where to resume.
                Err(Error::Network) => status().await?,
                Err(e) => return Err(e),
            };
        }
        Ok(())
    }

    /// The shares this browser's owner identity created, labels decrypted.
    ///
    /// # Errors
    /// `network`, relay codes, `storage_unavailable`.
    pub async fn list_shares(&self) -> Result<Vec<OwnedShare>> {
        let owner = self.owner().await?;
        let mut out = Vec::new();
        for s in self.summaries(&owner).await? {
            // Sealed under another owner key (or damaged): no label.
            let label = open_owner_data(&owner, &s)
                .await
                .ok()
                .map(|d| d.label.clone());
            out.push(OwnedShare {
                share_id: s.share_id,
                state: s.state,
                label,
                created_at: s.created_at,
                expires_at: s.expires_at,
                bound_at: s.bound_at,
                record_version: s.record_version,
                self_destruct: s.self_destruct,
            });
        }
        Ok(out)
    }

    async fn summaries(&self, owner: &Owner) -> Result<Vec<ShareSummary>> {
        let list: ShareList = json(
            &self
                .owner_call(owner, Call::new("GET", "/v1/shares".into()))
                .await?,
            "share list",
        )?;
        Ok(list.shares)
    }

    /// The current record of one of this owner's shares (an owner-signed read;
    /// the recipient is not told), so that an edit starts from its fields and
    /// keeps its attachments, whose keys live only in the record.
    ///
    /// # Errors
    /// `not_found` (not this owner's share), `expired` and the other ended
    /// states, relay codes.
    pub async fn owned_record(&self, share_id: &ShareId) -> Result<Record> {
        let owner = self.owner().await?;
        let s = self.summary(&owner, share_id).await?;
        let key = open_owner_data(&owner, &s).await?.record_key()?;
        let path = format!("/v1/shares/{}/record", seg(&share_id.to_string()));
        let body = self
            .owner_call(&owner, Call::new("GET", path).encrypted_response())
            .await?;
        let resp: RecordResponse = json(&body, "record response")?;
        let json = AesKey::import(&key, false)
            .await?
            .open_envelope(
                &record::record_aad(share_id, resp.record.version),
                &resp.record.ciphertext,
            )
            .await?;
        Ok(Record::from_json(&json)?)
    }

    pub(crate) async fn summary(&self, owner: &Owner, share_id: &ShareId) -> Result<ShareSummary> {
        self.summaries(owner)
            .await?
            .into_iter()
            .find(|s| s.share_id == *share_id)
            .ok_or(Error::Relay {
                code: "not_found".into(),
                status: 404,
                message: "no share with this id belongs to this owner".into(),
                attempts_left: None,
            })
    }

    /// Publishes a new version of a share's record (same record key); returns
    /// the new version.
    ///
    /// # Errors
    /// `not_found` (not this owner's share), `conflict`, relay codes.
    pub async fn update(&self, share_id: &ShareId, record: &Record) -> Result<u64> {
        let owner = self.owner().await?;
        let s = self.summary(&owner, share_id).await?;
        let data = open_owner_data(&owner, &s).await?;
        let version = s.record_version + 1;
        let body = UpdateRecordRequest {
            record: RecordCiphertext {
                version,
                ciphertext: seal_record(&data.record_key()?, share_id, version, record).await?,
            },
        };
        let body =
            oneshare_sdk::json::to_vec(&body).map_err(|_| Error::Argument("update request"))?;
        let path = format!("/v1/shares/{}/record", seg(&share_id.to_string()));
        self.owner_call(&owner, Call::new("PUT", path).body(body, true))
            .await?;
        Ok(version)
    }

    /// Revokes a share now ("Delete Now").
    ///
    /// # Errors
    /// `not_found`, relay codes.
    pub async fn revoke(&self, share_id: &ShareId) -> Result<()> {
        let owner = self.owner().await?;
        let path = format!("/v1/shares/{}", seg(&share_id.to_string()));
        self.owner_call(&owner, Call::new("DELETE", path)).await?;
        Ok(())
    }
}

/// The core's [`record::seal_record`], AES-GCM in SubtleCrypto.
async fn seal_record(
    key: &Key256,
    share_id: &ShareId,
    version: u64,
    record: &Record,
) -> Result<Vec<u8>> {
    AesKey::import(key, true)
        .await?
        .seal_envelope(&record::record_aad(share_id, version), &record.to_json()?)
        .await
}

/// A share's owner data (label, record key), opened with this browser's
/// owner key.
pub(crate) async fn open_owner_data(owner: &Owner, s: &ShareSummary) -> Result<OwnerData> {
    let plain = owner
        .data_key
        .open_envelope(&owner_aad(&s.share_id), &s.owner_data)
        .await?;
    Ok(
        oneshare_sdk::json::from_slice(&plain).map_err(|_| oneshare_sdk::Error::Json {
            what: "owner data",
            reason: "not owner data".into(),
        })?,
    )
}

/// Plaintext bytes sent once the stream bytes before `end` are on the relay.
fn plaintext_before(end: u64, size: u64) -> u64 {
    if end >= oneshare_sdk::stream::ciphertext_len(size) {
        return size;
    }
    let whole = end.saturating_sub(HEADER_LEN as u64) / ENCRYPTED_SEGMENT_SIZE as u64;
    (whole * oneshare_sdk::stream::SEGMENT_SIZE as u64).min(size)
}

/// A file encrypted part by part into its STREAM, the way uploads send it:
/// each part's file read starts while the part before it is encrypted.
pub(crate) struct Parts<'a> {
    sealer: &'a Sealer,
    header: &'a [u8; HEADER_LEN],
    key: &'a AesKey,
    file: &'a web_sys::Blob,
    /// Stream bytes per part (the last is shorter).
    part_size: u64,
    /// The read of the part after the last one asked for.
    ahead: Option<PartRead>,
}

impl<'a> Parts<'a> {
    /// Parts of `part_size` stream bytes of `file`, sealed under `key`.
    pub(crate) fn new(
        sealer: &'a Sealer,
        header: &'a [u8; HEADER_LEN],
        key: &'a AesKey,
        file: &'a web_sys::Blob,
        part_size: u64,
    ) -> Self {
        Self {
            sealer,
            header,
            key,
            file,
            part_size,
            ahead: None,
        }
    }

    /// Stream bytes `start..start + part_size` (cut at the end of the
    /// stream), as SubtleCrypto gave them. The read ahead is used when `start`
    /// is where the last part ended (a resumed upload may ask elsewhere).
    pub(crate) async fn part(&mut self, start: u64) -> Result<Vec<Uint8Array>> {
        let total = self.sealer.ciphertext_len();
        let end = (start + self.part_size).min(total);
        let read = match self.ahead.take() {
            Some(r) if r.covers(start, end) => r,
            _ => PartRead::start(self.sealer, self.file, start, end)?,
        };
        if end < total {
            let after = (end + self.part_size).min(total);
            self.ahead = Some(PartRead::start(self.sealer, self.file, end, after)?);
        }
        encrypt_part(self.header, self.key, read).await
    }
}

/// The plaintext of one part being read from the file: started before the part
/// is needed, so that the read overlaps the work on the part before it.
struct PartRead {
    start: u64,
    end: u64,
    jobs: Vec<(u64, oneshare_sdk::stream::SegmentJob)>,
    read: Option<js_sys::Promise>,
}

impl PartRead {
    /// Starts reading what stream bytes `start..end` of `file` encrypt.
    fn start(sealer: &Sealer, file: &web_sys::Blob, start: u64, end: u64) -> Result<Self> {
        let jobs = sealer
            .segments_in(start, end)
            .map(|i| sealer.job(i))
            .collect::<oneshare_sdk::Result<Vec<_>>>()?;
        let read = match (jobs.first(), jobs.last()) {
            (Some((a, _)), Some((b, job))) => Some(read_blob(file, *a, b + job.len as u64)?),
            _ => None,
        };
        Ok(Self {
            start,
            end,
            jobs,
            read,
        })
    }

    /// Whether this reads stream bytes `start..end`.
    fn covers(&self, start: u64, end: u64) -> bool {
        (self.start, self.end) == (start, end)
    }
}

/// The stream bytes of a [`PartRead`]: the segments that overlap them,
/// encrypted with SubtleCrypto (all in flight at once), cut to the range, in
/// order, as SubtleCrypto gave them (views, no copy).
async fn encrypt_part(
    header: &[u8; HEADER_LEN],
    key: &AesKey,
    part: PartRead,
) -> Result<Vec<Uint8Array>> {
    let PartRead {
        start,
        end,
        jobs,
        read,
    } = part;
    let plain = match read {
        Some(read) => Uint8Array::new(
            &JsFuture::from(read)
                .await
                .map_err(|_| Error::Argument("the file could not be read"))?,
        ),
        None => Uint8Array::new_with_length(0),
    };
    let plain_start = jobs.first().map(|(offset, _)| *offset);
    let base = plain_start.unwrap_or(0);
    let mut pending = Vec::with_capacity(jobs.len());
    for (offset, job) in &jobs {
        let from = u32::try_from(offset - base).map_err(|_| Error::Argument("part size"))?;
        let len = u32::try_from(job.len).map_err(|_| Error::Argument("part size"))?;
        let data = plain.subarray(from, from + len);
        let params =
            web_sys::AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(&job.nonce[..]));
        let promise = crate::platform::subtle()?
            .encrypt_with_object_and_buffer_source(&params, &key.key, &data)
            .map_err(|e| Error::webcrypto("encrypt", &e))?;
        pending.push((job.index, promise));
    }
    // The overlap of stream bytes at..at+n with start..end, as offsets in the
    // source; within one part, so they fit u32.
    #[allow(clippy::cast_possible_truncation)]
    let overlap = |at: u64, n: u64| {
        let (from, to) = (start.max(at), end.min(at + n));
        (from < to).then(|| ((from - at) as u32, (to - at) as u32))
    };
    let mut out = Vec::with_capacity(pending.len() + 1);
    if let Some((a, b)) = overlap(0, HEADER_LEN as u64) {
        out.push(Uint8Array::from(&header[..]).subarray(a, b));
    }
    for (index, promise) in pending {
        let ct = JsFuture::from(promise)
            .await
            .map_err(|e| Error::webcrypto("encrypt", &e))?;
        let ct = Uint8Array::new(&ct);
        let at = HEADER_LEN as u64 + u64::from(index) * ENCRYPTED_SEGMENT_SIZE as u64;
        if let Some((a, b)) = overlap(at, u64::from(ct.length())) {
            out.push(ct.subarray(a, b));
        }
    }
    Ok(out)
}

/// Starts reading bytes `a..b` of a Blob (an `ArrayBuffer` promise).
fn read_blob(file: &web_sys::Blob, a: u64, b: u64) -> Result<js_sys::Promise> {
    #[allow(clippy::cast_precision_loss)]
    let slice = file
        .slice_with_f64_and_f64(a as f64, b as f64)
        .map_err(|_| Error::Unsupported("Blob.slice"))?;
    Ok(slice.array_buffer())
}
