//! STREAM encryption of attachments (Hoang–Reyhanitabar–Rogaway–Vizár online AE,
//! as used by age), so files of any size encrypt and decrypt with one segment of
//! memory.
//!
//! ```text
//! stream  = header || segment_0 || … || segment_n
//! header  = version (0x01) || commitment (16) || nonce_prefix (7, random)   = 24 bytes
//! segment = AES-256-GCM(file_key, nonce_i, aad = "", plaintext_i)           ≤ 65 536 + 16 bytes
//! nonce_i = nonce_prefix (7) || i (u32 big-endian) || last (0x00, or 0x01 on the final segment)
//! ```
//!
//! Every segment but the last holds exactly [`SEGMENT_SIZE`] plaintext bytes; the
//! last holds 1..=[`SEGMENT_SIZE`] bytes, or 0 only when the whole file is empty.
//! A stream therefore always has at least one segment, and its length determines
//! where the last segment is.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::envelope::{COMMITMENT_LEN, TAG_LEN, commitment};
use crate::secret::Key256;
use crate::{Error, Result, random};

mod jobs;
pub use jobs::{Opener, Sealer, SegmentJob, Verdict, segments_of};

/// STREAM format version.
pub const VERSION: u8 = 1;
/// Plaintext bytes per segment (64 KiB: the fastest size for SubtleCrypto too).
pub const SEGMENT_SIZE: usize = 64 * 1024;
/// Ciphertext bytes per full segment.
pub const ENCRYPTED_SEGMENT_SIZE: usize = SEGMENT_SIZE + TAG_LEN;
/// Length of the random nonce prefix.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Length of the stream header.
pub const HEADER_LEN: usize = 1 + COMMITMENT_LEN + NONCE_PREFIX_LEN;
/// Largest number of segments (the counter is 32 bits).
pub const MAX_SEGMENTS: u64 = 1 << 32;

/// The typed per-segment nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentNonce {
    /// Random per-file prefix from the header.
    pub prefix: [u8; NONCE_PREFIX_LEN],
    /// Segment index.
    pub counter: u32,
    /// Whether this is the final segment.
    pub last: bool,
}

impl SegmentNonce {
    /// The 12 nonce bytes.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..7].copy_from_slice(&self.prefix);
        out[7..11].copy_from_slice(&self.counter.to_be_bytes());
        out[11] = u8::from(self.last);
        out
    }
}

/// Largest plaintext a stream can hold: [`MAX_SEGMENTS`] full segments (256 TiB).
pub const MAX_PLAINTEXT_LEN: u64 = MAX_SEGMENTS * SEGMENT_SIZE as u64;

/// Ciphertext length (header included) of a plaintext of `len` bytes.
///
/// A `len` above [`MAX_PLAINTEXT_LEN`] cannot be encrypted; it gives `u64::MAX`,
/// which [`plaintext_len`] refuses, so an absurd claimed size (from a record, say)
/// never matches a real stream and never overflows.
pub fn ciphertext_len(len: u64) -> u64 {
    if len > MAX_PLAINTEXT_LEN {
        return u64::MAX;
    }
    let segments = len.div_ceil(SEGMENT_SIZE as u64).max(1);
    HEADER_LEN as u64 + len + segments * TAG_LEN as u64
}

/// Plaintext length of a stream of `len` ciphertext bytes (header included).
///
/// # Errors
/// [`Error::Truncated`] when no valid stream has that length,
/// [`Error::CounterOverflow`] when it would need more than [`MAX_SEGMENTS`] segments.
pub fn plaintext_len(len: u64) -> Result<u64> {
    let body = len.checked_sub(HEADER_LEN as u64).ok_or(Error::Truncated)?;
    let full = body / ENCRYPTED_SEGMENT_SIZE as u64;
    let rest = body % ENCRYPTED_SEGMENT_SIZE as u64;
    let plaintext = match (full, rest) {
        (0, r) if r < TAG_LEN as u64 => return Err(Error::Truncated),
        (0, r) => r - TAG_LEN as u64,
        (f, 0) => f * SEGMENT_SIZE as u64,
        (_, r) if r <= TAG_LEN as u64 => return Err(Error::Truncated),
        (f, r) => f * SEGMENT_SIZE as u64 + r - TAG_LEN as u64,
    };
    if plaintext > MAX_PLAINTEXT_LEN {
        return Err(Error::CounterOverflow);
    }
    Ok(plaintext)
}

/// Number of segments in a stream of `len` ciphertext bytes.
///
/// # Errors
/// As [`plaintext_len`].
pub fn segment_count(len: u64) -> Result<u64> {
    Ok(plaintext_len(len)?.div_ceil(SEGMENT_SIZE as u64).max(1))
}

/// A parsed stream header, for clients that decrypt segments with their own AES
/// (SubtleCrypto) and only need the commitment and nonce prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Key commitment of the file key.
    pub commitment: [u8; COMMITMENT_LEN],
    /// Random per-file nonce prefix.
    pub prefix: [u8; NONCE_PREFIX_LEN],
}

impl Header {
    /// Parses the first [`HEADER_LEN`] bytes of a stream (more may follow).
    ///
    /// # Errors
    /// [`Error::Truncated`] for fewer than [`HEADER_LEN`] bytes,
    /// [`Error::UnsupportedVersion`] for another version byte.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let header: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::Truncated)?;
        if header[0] != VERSION {
            return Err(Error::UnsupportedVersion {
                what: "attachment stream",
                version: header[0],
            });
        }
        let mut out = Self {
            commitment: [0; COMMITMENT_LEN],
            prefix: [0; NONCE_PREFIX_LEN],
        };
        out.commitment
            .copy_from_slice(&header[1..1 + COMMITMENT_LEN]);
        out.prefix.copy_from_slice(&header[1 + COMMITMENT_LEN..]);
        Ok(out)
    }
}

/// Encrypts a stream segment by segment. Consumed by [`Encryptor::encrypt_last`]
/// (or [`Encryptor::finish`]), so nothing can be written after the final segment.
pub struct Encryptor {
    cipher: Aes256Gcm,
    prefix: [u8; NONCE_PREFIX_LEN],
    counter: u64,
    pending: Vec<u8>,
}

impl Encryptor {
    /// Starts a stream with a caller-chosen prefix; returns the header to write
    /// first. Use [`Encryptor::new`] unless writing a test vector.
    pub fn with_prefix(key: &Key256, prefix: [u8; NONCE_PREFIX_LEN]) -> (Self, [u8; HEADER_LEN]) {
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1..1 + COMMITMENT_LEN].copy_from_slice(&commitment(key));
        header[1 + COMMITMENT_LEN..].copy_from_slice(&prefix);
        let enc = Self {
            cipher: Aes256Gcm::new(key.expose().into()),
            prefix,
            counter: 0,
            pending: Vec::new(),
        };
        (enc, header)
    }

    /// Starts a stream with a random nonce prefix.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn new(key: &Key256) -> Result<(Self, [u8; HEADER_LEN])> {
        Ok(Self::with_prefix(key, random::bytes()?))
    }

    fn seal(&mut self, plaintext: &[u8], last: bool) -> Result<Vec<u8>> {
        let counter = u32::try_from(self.counter).map_err(|_| Error::CounterOverflow)?;
        let nonce = SegmentNonce {
            prefix: self.prefix,
            counter,
            last,
        }
        .to_bytes();
        self.counter += 1;
        self.cipher
            .encrypt(&Nonce::from(nonce), plaintext)
            .map_err(|_| Error::Malformed("segment too large"))
    }

    /// Encrypts one full, non-final segment of exactly [`SEGMENT_SIZE`] bytes.
    ///
    /// # Errors
    /// [`Error::Length`] for a wrong size, [`Error::CounterOverflow`].
    pub fn encrypt_next(&mut self, segment: &[u8]) -> Result<Vec<u8>> {
        if segment.len() != SEGMENT_SIZE {
            return Err(Error::Length {
                what: "segment",
                expected: SEGMENT_SIZE,
                got: segment.len(),
            });
        }
        self.seal(segment, false)
    }

    /// Encrypts the final segment (0..=[`SEGMENT_SIZE`] bytes; empty only for an
    /// empty file) and ends the stream.
    ///
    /// # Errors
    /// [`Error::Length`], [`Error::CounterOverflow`].
    pub fn encrypt_last(mut self, segment: &[u8]) -> Result<Vec<u8>> {
        if segment.len() > SEGMENT_SIZE || (segment.is_empty() && self.counter > 0) {
            return Err(Error::Length {
                what: "final segment",
                expected: SEGMENT_SIZE,
                got: segment.len(),
            });
        }
        self.seal(segment, true)
    }

    /// Buffers `data` and returns the ciphertext of every segment now known not
    /// to be the last (memory stays at one segment).
    ///
    /// # Errors
    /// [`Error::CounterOverflow`].
    pub fn push(&mut self, mut data: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.pending.len() == SEGMENT_SIZE {
                let segment = core::mem::take(&mut self.pending);
                out.extend_from_slice(&self.encrypt_next(&segment)?);
            }
            let take = (SEGMENT_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(out)
    }

    /// Encrypts what is buffered as the final segment.
    ///
    /// # Errors
    /// [`Error::CounterOverflow`].
    pub fn finish(mut self) -> Result<Vec<u8>> {
        let last = core::mem::take(&mut self.pending);
        self.encrypt_last(&last)
    }
}

/// Decrypts a stream segment by segment, detecting truncation, reordering,
/// extension and a forged final flag: the [`Opener`] state machine with
/// `aes-gcm` as its AEAD (the browser runs the same machine with SubtleCrypto).
pub struct Decryptor {
    cipher: Aes256Gcm,
    opener: Opener,
    pending: Vec<u8>,
}

impl Decryptor {
    /// Checks the header against `key`.
    ///
    /// # Errors
    /// [`Error::Truncated`] for a short header, [`Error::UnsupportedVersion`],
    /// [`Error::WrongKey`] when the header commits to another key.
    pub fn new(key: &Key256, header: &[u8]) -> Result<Self> {
        Ok(Self {
            opener: Opener::new(&commitment(key), header)?,
            cipher: Aes256Gcm::new(key.expose().into()),
            pending: Vec::new(),
        })
    }

    /// Runs one job and its probe, as [`SegmentJob::verdict`] decides.
    fn run(&self, mut job: SegmentJob, segment: &[u8]) -> Result<Vec<u8>> {
        loop {
            let result = self.cipher.decrypt(&Nonce::from(job.nonce), segment).ok();
            match job.verdict(result.as_ref().map(Vec::len)) {
                Verdict::Plaintext => return result.ok_or(Error::Decrypt),
                Verdict::Probe(probe) => job = probe,
                Verdict::Failed(e) => return Err(e),
            }
        }
    }

    /// Buffers ciphertext and returns the plaintext of every segment now known
    /// not to be the last.
    ///
    /// # Errors
    /// [`Error::TrailingData`] when a segment is in fact a final one (something
    /// was appended), [`Error::Decrypt`] otherwise.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        self.pending.extend_from_slice(data);
        self.opener.feed(data.len());
        let mut out = Vec::new();
        let mut used = 0;
        while let Some(job) = self.opener.next_job()? {
            let segment = self
                .pending
                .get(used..used + job.len)
                .ok_or(Error::Truncated)?;
            out.extend(self.run(job, segment)?);
            used += job.len;
        }
        self.pending.drain(..used);
        Ok(out)
    }

    /// Decrypts what is buffered as the final segment.
    ///
    /// # Errors
    /// [`Error::Truncated`] when the segment is authentic but not marked final
    /// (the real final segment was cut off) or too short to hold a tag;
    /// [`Error::Decrypt`] otherwise.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        let job = self.opener.finish()?;
        self.run(job, &self.pending)
    }
}

/// Encrypts a whole file in memory: header and segments.
///
/// # Errors
/// [`Error::Random`].
pub fn seal(key: &Key256, plaintext: &[u8]) -> Result<Vec<u8>> {
    let (mut enc, header) = Encryptor::new(key)?;
    let mut out = header.to_vec();
    out.extend(enc.push(plaintext)?);
    out.extend(enc.finish()?);
    Ok(out)
}

/// Decrypts a whole stream in memory.
///
/// # Errors
/// Any [`Decryptor`] error.
pub fn open(key: &Key256, stream: &[u8]) -> Result<Vec<u8>> {
    let mut dec = Decryptor::new(key, stream)?;
    let mut out = dec.push(&stream[HEADER_LEN..])?;
    out.extend(dec.finish()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use proptest::prelude::*;

    fn key() -> Key256 {
        Secret::new([8; 32])
    }

    fn sealed(len: usize) -> (Vec<u8>, Vec<u8>) {
        let pt: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let (mut enc, header) = Encryptor::with_prefix(&key(), [1; 7]);
        let mut ct = header.to_vec();
        // Push in odd-sized pieces so buffering is exercised.
        for piece in pt.chunks(10_007) {
            ct.extend(enc.push(piece).unwrap_or_default());
        }
        ct.extend(enc.finish().unwrap_or_default());
        (pt, ct)
    }

    #[test]
    fn lengths_match_the_formula() {
        for len in [
            0,
            1,
            SEGMENT_SIZE - 1,
            SEGMENT_SIZE,
            SEGMENT_SIZE + 1,
            3 * SEGMENT_SIZE,
        ] {
            let (pt, ct) = sealed(len);
            assert_eq!(ct.len() as u64, ciphertext_len(len as u64), "len {len}");
            assert_eq!(plaintext_len(ct.len() as u64), Ok(len as u64));
            assert_eq!(open(&key(), &ct), Ok(pt));
        }
    }

    /// Found by the `stream` fuzz target: lengths past the 32-bit counter used to
    /// overflow `ciphertext_len` and pass `plaintext_len` with > 2^32 segments.
    #[test]
    fn lengths_past_the_counter_are_refused() {
        let max_ct = ciphertext_len(MAX_PLAINTEXT_LEN);
        assert_eq!(plaintext_len(max_ct), Ok(MAX_PLAINTEXT_LEN));
        assert_eq!(segment_count(max_ct), Ok(MAX_SEGMENTS));
        assert_eq!(plaintext_len(max_ct + 1), Err(Error::Truncated));
        let one_more_byte = max_ct + TAG_LEN as u64 + 1;
        assert_eq!(plaintext_len(one_more_byte), Err(Error::CounterOverflow));
        assert_eq!(ciphertext_len(MAX_PLAINTEXT_LEN + 1), u64::MAX);
        assert_eq!(ciphertext_len(u64::MAX), u64::MAX);
        assert_eq!(plaintext_len(u64::MAX), Err(Error::CounterOverflow));
    }

    #[test]
    fn truncated_stream_fails() {
        let (_, ct) = sealed(2 * SEGMENT_SIZE + 5);
        // Drop the final segment: what remains ends on a non-final segment.
        let cut = HEADER_LEN + 2 * ENCRYPTED_SEGMENT_SIZE;
        assert_eq!(open(&key(), &ct[..cut]), Err(Error::Truncated));
        assert_eq!(open(&key(), &ct[..HEADER_LEN]), Err(Error::Truncated));
        assert_eq!(open(&key(), &ct[..HEADER_LEN - 1]), Err(Error::Truncated));
        assert_eq!(open(&key(), &ct[..ct.len() - 1]), Err(Error::Decrypt));
    }

    #[test]
    fn extended_stream_fails() {
        let (_, ct) = sealed(SEGMENT_SIZE);
        let mut extended = ct.clone();
        extended.extend_from_slice(&ct[HEADER_LEN..]);
        assert_eq!(open(&key(), &extended), Err(Error::TrailingData));
        // An empty forged final segment after a full final one.
        let mut empty_tail = ct;
        empty_tail.extend_from_slice(&[0; TAG_LEN]);
        assert!(open(&key(), &empty_tail).is_err());
    }

    #[test]
    fn reordered_segments_fail() {
        let (_, ct) = sealed(3 * SEGMENT_SIZE);
        let s = |i: usize| {
            &ct[HEADER_LEN + i * ENCRYPTED_SEGMENT_SIZE
                ..HEADER_LEN + (i + 1) * ENCRYPTED_SEGMENT_SIZE]
        };
        let mut swapped = ct[..HEADER_LEN].to_vec();
        for i in [1, 0, 2] {
            swapped.extend_from_slice(s(i));
        }
        assert_eq!(open(&key(), &swapped), Err(Error::Decrypt));
    }

    #[test]
    fn wrong_key_is_reported_from_the_header() {
        let (_, ct) = sealed(10);
        assert!(matches!(
            open(&Secret::new([9; 32]), &ct),
            Err(Error::WrongKey)
        ));
    }

    #[test]
    fn encryptor_enforces_segment_sizes() {
        let (mut enc, _) = Encryptor::with_prefix(&key(), [0; 7]);
        assert!(enc.encrypt_next(&[0; 10]).is_err());
        assert!(enc.encrypt_next(&vec![0; SEGMENT_SIZE]).is_ok());
        assert!(enc.encrypt_last(&[]).is_err());
    }

    #[test]
    fn counter_overflow_is_an_error() {
        let (mut enc, _) = Encryptor::with_prefix(&key(), [0; 7]);
        enc.counter = MAX_SEGMENTS;
        assert_eq!(
            enc.encrypt_next(&vec![0; SEGMENT_SIZE]),
            Err(Error::CounterOverflow)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_flipped_bit_is_rejected(len in 0usize..(2 * SEGMENT_SIZE + 100), bit in any::<prop::sample::Index>()) {
            let (_, mut ct) = sealed(len);
            let i = bit.index(ct.len() * 8);
            ct[i / 8] ^= 1 << (i % 8);
            prop_assert!(open(&key(), &ct).is_err());
        }

        #[test]
        fn never_panics_on_junk(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = open(&key(), &bytes);
            let _ = plaintext_len(bytes.len() as u64);
        }
    }
}
