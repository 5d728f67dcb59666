//! Attachment downloads: the relay's STREAM ciphertext, decrypted segment by
//! segment with SubtleCrypto while the core's [`Opener`] decides every nonce,
//! final flag and failure. Several segments stay in flight; memory stays at a
//! few buffers of [`BUFFER_LEN`] bytes whatever the file size.

use std::collections::VecDeque;

use js_sys::Uint8Array;
use oneshare_sdk::encoding::unb64_array;
use oneshare_sdk::record::Attachment;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::Signer;
use oneshare_sdk::stream::{ENCRYPTED_SEGMENT_SIZE, HEADER_LEN, Opener, SegmentJob, Verdict};
use oneshare_sdk::token::ShareId;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, ReadableStreamByobReader, ReadableStreamDefaultReader};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::relay::{Call, read_chunk, read_result, seg};
use crate::webcrypto::AesKey;

/// Segments decrypted in parallel (keeps SubtleCrypto busy).
const IN_FLIGHT: usize = 8;

// A buffer holds more segments than are in flight, with one held back and one
// cut by its end (see `Input::read`).
const _: () = assert!((IN_FLIGHT + 2) * ENCRYPTED_SEGMENT_SIZE <= BUFFER_LEN as usize);

/// Called with (plaintext bytes so far, total plaintext bytes).
pub type Progress = Box<dyn FnMut(u64, u64)>;

/// Bytes read into each input buffer: a few dozen segments per read.
const BUFFER_LEN: u32 = 2 * 1024 * 1024;

/// Where the ciphertext comes from.
enum Reader {
    /// A byte stream (`fetch` bodies, `Blob.stream()`): read straight into our
    /// buffers, which are reused, so no chunk is allocated or copied per read.
    Byob(ReadableStreamByobReader),
    /// Any other stream: its chunks are copied into our buffers.
    Chunks(ReadableStreamDefaultReader),
}

/// The ciphertext read so far: a buffer being filled, whose bytes
/// `start..filled` are not yet handed to a job, and the one before it, which
/// jobs in flight may still point into (a failed segment is decrypted again).
/// Jobs get views, never copies; only the partial segment at the end of a full
/// buffer is copied into the next one.
struct Input {
    reader: Reader,
    buf: Uint8Array,
    id: u64,
    start: u32,
    filled: u32,
    /// The buffer before (id `id - 1`).
    prev: Option<Uint8Array>,
    /// The rest of a chunk that did not fit (`Reader::Chunks`).
    pending: Option<Uint8Array>,
    ended: bool,
}

impl Input {
    fn new(body: &web_sys::ReadableStream) -> Result<Self> {
        let reader = match ReadableStreamByobReader::new(body) {
            Ok(r) => Reader::Byob(r),
            Err(_) => Reader::Chunks(
                body.get_reader()
                    .dyn_into()
                    .map_err(|_| Error::Unsupported("ReadableStream readers"))?,
            ),
        };
        Ok(Self {
            reader,
            buf: Uint8Array::new_with_length(BUFFER_LEN),
            id: 0,
            start: 0,
            filled: 0,
            prev: None,
            pending: None,
            ended: false,
        })
    }

    /// Bytes read and not yet taken.
    fn len(&self) -> usize {
        (self.filled - self.start) as usize
    }

    /// The next `n` bytes (at most [`Input::len`]) as a view, and where they lie.
    fn take(&mut self, n: usize) -> (Uint8Array, Place) {
        let n = u32::try_from(n.min(self.len())).unwrap_or(0);
        let place = Place {
            id: self.id,
            start: self.start,
            len: n,
        };
        self.start += n;
        (
            self.view(place)
                .unwrap_or_else(|| Uint8Array::new_with_length(0)),
            place,
        )
    }

    /// The bytes at `place`, while its buffer is not reused.
    fn view(&self, place: Place) -> Option<Uint8Array> {
        let buf = if place.id == self.id {
            &self.buf
        } else {
            self.prev.as_ref().filter(|_| place.id + 1 == self.id)?
        };
        Some(buf.subarray(place.start, place.start + place.len))
    }

    /// Reads more bytes (none once the input ended). A full buffer is followed
    /// by the one before it: the jobs in flight, fewer than a buffer holds,
    /// started after all of that one's were judged.
    async fn read(&mut self) -> Result<usize> {
        if self.filled == BUFFER_LEN {
            let next = self
                .prev
                .take()
                .unwrap_or_else(|| Uint8Array::new_with_length(BUFFER_LEN));
            next.set(&self.buf.subarray(self.start, self.filled), 0);
            self.prev = Some(std::mem::replace(&mut self.buf, next));
            self.id += 1;
            self.filled -= self.start;
            self.start = 0;
        }
        let free = self.buf.subarray(self.filled, BUFFER_LEN);
        let got = match &self.reader {
            Reader::Byob(reader) => {
                let (value, done) = read_result(reader.read_with_array_buffer_view(&free)).await?;
                // The read moved the buffer: keep the one it came back in.
                if let Some(value) = value.dyn_ref::<Uint8Array>() {
                    self.buf = Uint8Array::new(&value.buffer());
                    self.ended = done;
                    value.length()
                } else {
                    self.ended = true;
                    0
                }
            }
            Reader::Chunks(reader) => {
                let chunk = match self.pending.take() {
                    Some(c) => c,
                    None => match read_chunk(reader).await? {
                        Some(c) => c,
                        None => {
                            self.ended = true;
                            return Ok(0);
                        }
                    },
                };
                let n = chunk.length().min(free.length());
                free.set(&chunk.subarray(0, n), 0);
                if n < chunk.length() {
                    self.pending = Some(chunk.subarray(n, chunk.length()));
                }
                n
            }
        };
        self.filled += got;
        Ok(got as usize)
    }

    fn cancel(&self) {
        let _ = match &self.reader {
            Reader::Byob(r) => r.cancel(),
            Reader::Chunks(r) => r.cancel(),
        };
    }
}

/// Where a job's ciphertext lies in the [`Input`] buffers.
#[derive(Clone, Copy)]
struct Place {
    id: u64,
    start: u32,
    len: u32,
}

/// One segment being decrypted.
struct InFlight {
    job: SegmentJob,
    place: Place,
    promise: js_sys::Promise,
}

/// A download in progress: call [`Download::next_chunk`] until it returns `None`.
pub struct Download {
    input: Input,
    key: AesKey,
    opener: Option<Opener>,
    in_flight: VecDeque<InFlight>,
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
        Ok(Self {
            input: Input::new(body)?,
            key,
            opener,
            in_flight: VecDeque::new(),
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
        while self.input.len() < HEADER_LEN && !self.input.ended {
            self.read().await?;
        }
        self.input.cancel();
        Ok(self.input.take(HEADER_LEN).0.to_vec())
    }

    /// Reads more of the body.
    async fn read(&mut self) -> Result<()> {
        let n = self.input.read().await?;
        if let Some(o) = self.opener.as_mut() {
            o.feed(n);
        }
        Ok(())
    }

    fn start(&mut self, job: SegmentJob) -> Result<()> {
        let (ciphertext, place) = self.input.take(job.len);
        // SubtleCrypto copies its input when called, so the view may change after.
        let promise = self.key.start_decrypt(&job.nonce, &[], &ciphertext)?;
        self.in_flight.push_back(InFlight {
            job,
            place,
            promise,
        });
        Ok(())
    }

    /// Starts as many jobs as the input and the in-flight limit allow.
    async fn fill(&mut self) -> Result<()> {
        while self.opener.is_none() {
            if self.input.len() >= HEADER_LEN || self.input.ended {
                let header = self.input.take(HEADER_LEN).0.to_vec();
                let mut opener = Opener::new(&self.key.commitment, &header)?;
                opener.feed(self.input.len());
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
            } else if self.input.ended {
                let job = opener.finish()?;
                self.finished = true;
                self.start(job)?;
            } else {
                // Read ahead while earlier segments decrypt.
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
            self.input.cancel();
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
                    // Its buffer is kept until this job is judged.
                    let ciphertext = self
                        .input
                        .view(head.place)
                        .ok_or(oneshare_sdk::Error::Decrypt)?;
                    result = self.key.decrypt(&job.nonce, &[], &ciphertext).await?;
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
