//! Attachment downloads: the relay's STREAM ciphertext, decrypted segment by
//! segment with SubtleCrypto while the core's [`Opener`] decides every nonce,
//! final flag and failure. Several segments stay in flight; memory stays at a
//! few segments whatever the file size.

use std::collections::VecDeque;

use js_sys::Uint8Array;
use oneshare_sdk::encoding::unb64_array;
use oneshare_sdk::record::Attachment;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::Signer;
use oneshare_sdk::stream::{HEADER_LEN, Opener, SegmentJob, Verdict};
use oneshare_sdk::token::ShareId;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::relay::{Call, read_chunk, seg};
use crate::webcrypto::AesKey;

/// Segments decrypted in parallel (keeps SubtleCrypto busy).
const IN_FLIGHT: usize = 8;

/// Called with (plaintext bytes so far, total plaintext bytes).
pub type Progress = Box<dyn FnMut(u64, u64)>;

/// Bytes received and not yet handed to a job, as the chunks `fetch` gave.
#[derive(Default)]
struct Chunks {
    parts: VecDeque<Uint8Array>,
    len: usize,
}

impl Chunks {
    fn push(&mut self, chunk: Uint8Array) {
        self.len += chunk.length() as usize;
        self.parts.push_back(chunk);
    }

    /// The next `n` bytes (a view when they lie in one chunk, else a copy).
    fn take(&mut self, n: usize) -> Uint8Array {
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(first) = self.parts.front_mut()
            && first.length() >= n32
        {
            let out = first.subarray(0, n32);
            *first = first.subarray(n32, first.length());
            if first.length() == 0 {
                self.parts.pop_front();
            }
            self.len -= n;
            return out;
        }
        let out = Uint8Array::new_with_length(n32);
        let mut at = 0u32;
        while at < n32 {
            let Some(first) = self.parts.front_mut() else {
                break;
            };
            let k = first.length().min(n32 - at);
            out.set(&first.subarray(0, k), at);
            at += k;
            *first = first.subarray(k, first.length());
            if first.length() == 0 {
                self.parts.pop_front();
            }
        }
        self.len -= at as usize;
        out
    }
}

/// One segment being decrypted.
struct InFlight {
    job: SegmentJob,
    ciphertext: Uint8Array,
    promise: js_sys::Promise,
}

/// A download in progress: call [`Download::next_chunk`] until it returns `None`.
pub struct Download {
    reader: ReadableStreamDefaultReader,
    key: AesKey,
    opener: Option<Opener>,
    chunks: Chunks,
    in_flight: VecDeque<InFlight>,
    ended: bool,
    finished: bool,
    size: u64,
    done: u64,
    progress: Option<Progress>,
}

impl Download {
    /// Decrypts a STREAM body (from `fetch`, or any `ReadableStream` of
    /// `Uint8Array`s) under `key`, expecting `size` plaintext bytes.
    pub fn new(
        body: &web_sys::ReadableStream,
        key: AesKey,
        size: u64,
        progress: Option<Progress>,
    ) -> Result<Self> {
        Self::new_at(body, key, size, None, progress)
    }

    /// As [`Download::new`], with an [`Opener`] already past the header (a
    /// ranged read); `size` is then the plaintext bytes from there on.
    fn new_at(
        body: &web_sys::ReadableStream,
        key: AesKey,
        size: u64,
        opener: Option<Opener>,
        progress: Option<Progress>,
    ) -> Result<Self> {
        let reader: ReadableStreamDefaultReader = body
            .get_reader()
            .dyn_into()
            .map_err(|_| Error::Unsupported("ReadableStream readers"))?;
        Ok(Self {
            reader,
            key,
            opener,
            chunks: Chunks::default(),
            in_flight: VecDeque::new(),
            ended: false,
            finished: false,
            size,
            done: 0,
            progress,
        })
    }

    /// Plaintext bytes decrypted so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// The first [`HEADER_LEN`] bytes of the body.
    async fn read_header(&mut self) -> Result<Vec<u8>> {
        while self.chunks.len < HEADER_LEN && !self.ended {
            self.read().await?;
        }
        let _ = self.reader.cancel();
        Ok(self.chunks.take(HEADER_LEN.min(self.chunks.len)).to_vec())
    }

    /// Reads one more chunk from the body.
    async fn read(&mut self) -> Result<()> {
        match read_chunk(&self.reader).await? {
            Some(chunk) => {
                if let Some(o) = self.opener.as_mut() {
                    o.feed(chunk.length() as usize);
                }
                self.chunks.push(chunk);
            }
            None => self.ended = true,
        }
        Ok(())
    }

    fn start(&mut self, job: SegmentJob) -> Result<()> {
        let ciphertext = self.chunks.take(job.len);
        let promise = self.key.start_decrypt(&job.nonce, &[], &ciphertext)?;
        self.in_flight.push_back(InFlight {
            job,
            ciphertext,
            promise,
        });
        Ok(())
    }

    /// Starts as many jobs as the input and the in-flight limit allow.
    async fn fill(&mut self) -> Result<()> {
        while self.opener.is_none() {
            if self.chunks.len >= HEADER_LEN || self.ended {
                let header = self.chunks.take(HEADER_LEN.min(self.chunks.len)).to_vec();
                let mut opener = Opener::new(&self.key.commitment, &header)?;
                opener.feed(self.chunks.len);
                self.opener = Some(opener);
            } else {
                self.read().await?;
            }
        }
        while self.in_flight.len() < IN_FLIGHT && !self.finished {
            let Some(opener) = self.opener.as_mut() else {
                break;
            };
            if let Some(job) = opener.next_job()? {
                self.start(job)?;
            } else if self.ended {
                let job = opener.finish()?;
                self.finished = true;
                self.start(job)?;
            } else {
                // Read ahead while earlier segments decrypt: SubtleCrypto works
                // off the main thread, so up to IN_FLIGHT stay busy.
                self.read().await?;
            }
        }
        Ok(())
    }

    /// The next plaintext chunk (one segment), or `None` at the end.
    ///
    /// # Errors
    /// `truncated`, `trailing_data`, `decrypt`, `wrong_key`, `aborted`, `network`.
    pub async fn next_chunk(&mut self) -> Result<Option<Uint8Array>> {
        let result = self.step().await;
        if result.is_err() {
            let _ = self.reader.cancel();
            self.in_flight.clear();
        }
        result
    }

    async fn step(&mut self) -> Result<Option<Uint8Array>> {
        self.fill().await?;
        let Some(head) = self.in_flight.pop_front() else {
            // The final segment was authentic; its size must be the record's.
            if self.done != self.size {
                return Err(oneshare_sdk::Error::Truncated.into());
            }
            return Ok(None);
        };
        let mut job = head.job;
        let mut result = AesKey::decrypted(head.promise).await?;
        let plain = loop {
            match job.verdict(result.as_ref().map(|p| p.length() as usize)) {
                Verdict::Plaintext => break result.ok_or(oneshare_sdk::Error::Decrypt)?,
                Verdict::Probe(probe) => {
                    job = probe;
                    result = self.key.decrypt(&job.nonce, &[], &head.ciphertext).await?;
                }
                Verdict::Failed(e) => return Err(e.into()),
            }
        };
        self.done += u64::from(plain.length());
        if self.done > self.size {
            return Err(oneshare_sdk::Error::TrailingData.into());
        }
        if let Some(p) = self.progress.as_mut() {
            p(self.done, self.size);
        }
        Ok(Some(plain))
    }
}

/// Download options.
#[derive(Default)]
pub struct DownloadOptions {
    /// Progress callback.
    pub progress: Option<Progress>,
    /// Aborts the download (`aborted`).
    pub signal: Option<AbortSignal>,
    /// Start at this segment (plaintext offset `from_segment × 65 536`) with a
    /// ranged request: a service worker answering a `Range` request, or a
    /// download resumed after a failure.
    pub from_segment: u64,
}

impl Client {
    /// Starts downloading an attachment of a share opened on this device;
    /// `attachment` comes from its record.
    ///
    /// # Errors
    /// `not_on_device`, `attachment_uploading` (keys kept), `aborted`, relay codes.
    pub async fn download(
        &self,
        share_id: &str,
        attachment: &Attachment,
        options: DownloadOptions,
    ) -> Result<Download> {
        let entry = self.device(share_id).await?;
        let id = ShareId::parse(share_id)?;
        let file_key = Secret::new(unb64_array::<32>(&attachment.key, "file key")?);
        let key = AesKey::import(&file_key, false).await?;
        let path = format!(
            "/v1/shares/{}/attachments/{}",
            seg(share_id),
            seg(&attachment.id)
        );
        let get = async |range: Option<String>| {
            let mut call =
                Call::new("GET", path.clone()).signed(Signer::Device(id), &entry.private_key);
            call.signal = options.signal.as_ref();
            if let Some(r) = range {
                call.headers.push(("range", r));
            }
            match self.relay.send(&call).await {
                Ok((res, _)) => res
                    .body()
                    .ok_or(Error::from(oneshare_sdk::Error::Truncated)),
                Err(e) if e.share_ended() => {
                    self.forget(share_id).await?;
                    Err(e)
                }
                // The record lists it, the relay does not have it whole yet.
                Err(e) if e.status() == Some(404) => Err(Error::AttachmentUploading),
                Err(e) => Err(e),
            }
        };
        if options.from_segment == 0 {
            let body = get(None).await?;
            return Download::new(&body, key, attachment.size, options.progress);
        }
        // The header (commitment, nonce prefix), then the segments from there on.
        let header = get(Some(format!("bytes=0-{}", HEADER_LEN - 1))).await?;
        let header = Download::new(&header, key.clone(), 0, None)?
            .read_header()
            .await?;
        let mut opener = Opener::new(&key.commitment, &header)?;
        let (offset, _) = opener.segment_at(attachment.size, options.from_segment)?;
        opener.resume_at(options.from_segment)?;
        let body = get(Some(format!("bytes={offset}-"))).await?;
        let skipped = options.from_segment * oneshare_sdk::stream::SEGMENT_SIZE as u64;
        Download::new_at(
            &body,
            key,
            attachment.size - skipped,
            Some(opener),
            options.progress,
        )
    }

    /// Downloads a whole attachment into a `Blob` (small files; large ones go
    /// through [`Client::download`] chunk by chunk).
    ///
    /// # Errors
    /// As [`Client::download`], and the stream errors of [`Download::next_chunk`].
    pub async fn download_blob(
        &self,
        share_id: &str,
        attachment: &Attachment,
        options: DownloadOptions,
    ) -> Result<web_sys::Blob> {
        let mut dl = self.download(share_id, attachment, options).await?;
        let parts = js_sys::Array::new();
        while let Some(chunk) = dl.next_chunk().await? {
            parts.push(&chunk);
        }
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(&attachment.mime);
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &bag)
            .map_err(|_| Error::Unsupported("Blob"))
    }
}
